//! The osascript driver: a macOS dialog (`display dialog … with hidden answer`, `choose from
//! list`) run through osascript, the dialog `auto` tries first on macOS without a terminal. Its
//! own file so the AppleScript (the question and devices passed as `argv`, never spliced into
//! the script; its own `giving up after` the dialog bound) sits apart from what all dialogs
//! share (`mod.rs`). Not exercised by the tests: nothing here runs macOS.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{DIALOG_TIMEOUT, DIALOG_TITLE, Dialog, PromptKind};

/// An osascript dialog.
#[derive(Debug)]
pub struct Osascript {
    program: PathBuf,
}

impl Osascript {
    /// The dialog of `program` (osascript, on `PATH` or `/usr/bin/osascript`).
    pub(super) fn new(program: PathBuf) -> Osascript {
        Osascript { program }
    }
}

impl Dialog for Osascript {
    const KIND: PromptKind = PromptKind::Osascript;

    fn program(&self) -> &Path {
        &self.program
    }

    fn entry(&self, text: &str) -> Command {
        let mut c = Command::new(&self.program);
        c.args([
            "-e",
            "on run argv",
            "-e",
            &format!(
                "set r to display dialog (item 1 of argv) default answer \"\" with \
                 hidden answer with title \"{DIALOG_TITLE}\" giving up after {}",
                DIALOG_TIMEOUT.as_secs()
            ),
            "-e",
            "if gave up of r then error number -128",
            "-e",
            "return text returned of r",
            "-e",
            "end run",
        ])
        .arg(text);
        c
    }

    fn list(&self, text: &str, devices: &[String]) -> Command {
        let mut c = Command::new(&self.program);
        c.args([
            "-e",
            "on run argv",
            "-e",
            &format!(
                "set r to choose from list (rest of argv) with prompt (item 1 of argv) \
                 with title \"{DIALOG_TITLE}\""
            ),
            "-e",
            "if r is false then error number -128",
            "-e",
            "return item 1 of r",
            "-e",
            "end run",
        ])
        .arg(text)
        .args(devices);
        c
    }
}
