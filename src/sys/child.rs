//! A child process whose whole tree can be ended: what runs the code sources, dialogs and
//! hint windows.
//!
//! A shell that starts a password manager that starts an agent is one tree; ending only the
//! first would leave the rest holding a YubiKey or a dialog on screen. So a [`Tree`] is started
//! as a group of its own: a process group on Unix (which, when a person is at the terminal,
//! gets its foreground for the time it runs, so a source may ask on `/dev/tty`), a Job Object
//! on Windows (closed, and so ended, with the [`Tree`] or with us). Every tree is registered with
//! `sys::signals` while it runs, so it is killed if mfa-session is interrupted.

use std::io;
use std::process::{Child, Command};

#[cfg(unix)]
#[path = "unix/child.rs"]
mod imp;
#[cfg(windows)]
#[path = "windows/child.rs"]
mod imp;

/// A started child and the group holding it and everything it starts.
#[derive(Debug)]
pub struct Tree {
    pub child: Child,
    group: imp::Group,
}

/// Starts `cmd` as a tree of its own. With `foreground`, when this process is in the foreground
/// of a terminal, the tree gets that foreground until the [`Tree`] is dropped (Unix only:
/// Windows consoles have no foreground).
pub fn spawn(cmd: Command, foreground: bool) -> io::Result<Tree> {
    let (child, group) = imp::spawn(cmd, foreground)?;
    Ok(Tree { child, group })
}

impl Tree {
    /// Kills the whole tree at once (SIGKILL; `TerminateJobObject`).
    pub fn kill(&mut self) {
        self.group.kill(&mut self.child);
    }

    /// Asks the whole tree to end (SIGTERM; Windows has no polite way: `TerminateJobObject`)
    /// and waits for the child: for windows of ours that are done.
    pub fn close(mut self) {
        self.group.terminate(&mut self.child);
        let _ = self.child.wait();
    }
}
