//! The person's terminal, and the moment it stops being ours.
//!
//! Every prompt, hint and terminal hand-over opens the terminal here: `/dev/tty` on Unix,
//! `CONIN$`/`CONOUT$` on Windows (the console, whatever stdin and stdout are redirected to).
//! Under `exec --server` the terminal belongs to the command being served: once [`give_away`]
//! is called, this process neither reads nor writes it again (a renewal that needs a person
//! then has to use a dialog, or fail at once), so it can never print a prompt into the
//! command's screen or steal its keystrokes.

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

#[cfg(unix)]
#[path = "unix/terminal.rs"]
pub(super) mod imp;
#[cfg(windows)]
#[path = "windows/terminal.rs"]
pub(super) mod imp;

static GIVEN_AWAY: AtomicBool = AtomicBool::new(false);

/// From now on, [`open`] finds no terminal.
pub fn give_away() {
    GIVEN_AWAY.store(true, Ordering::SeqCst);
}

/// Whether the terminal was given away.
pub fn given_away() -> bool {
    GIVEN_AWAY.load(Ordering::SeqCst)
}

/// The two ends of the terminal.
#[derive(Debug)]
pub struct Tty {
    pub input: File,
    pub output: File,
}

/// Typing on the terminal is not shown until this is dropped: a code read while it lives stays off
/// the screen (and out of the console's scrollback). On Windows the console's echo is turned off
/// (`ENABLE_ECHO_INPUT`) and the previous mode restored on drop; on Unix the terminal keeps
/// echoing, as aws-vault's and aws-mfa's prompts do for a 6-digit code spent within seconds,
/// so [`Hidden::active`] is `false` there.
pub struct Hidden(Option<imp::EchoOff>);

impl Hidden {
    /// Whether typing is hidden now (the prompt then ends the line itself after the answer).
    pub fn active(&self) -> bool {
        self.0.is_some()
    }
}

impl std::fmt::Debug for Hidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Hidden").field(&self.active()).finish()
    }
}

/// Stops the typing on the terminal whose input end is `input` from being shown until the
/// result is dropped; where the platform keeps echo (Unix) or `input` is not a console, nothing
/// changes.
pub fn hide_typing(input: &File) -> Hidden {
    Hidden(imp::echo_off(input))
}

/// The terminal for reading and writing, or `None` when the process has none or gave it away.
pub fn open() -> Option<Tty> {
    if given_away() {
        return None;
    }
    imp::open()
}

/// Writes `text` and a line break on the terminal, even from the background of it (a hint
/// while a child holds the foreground); `false` when there is none.
pub fn write_line(text: &str) -> bool {
    let Some(mut tty) = open() else {
        return false;
    };
    imp::even_in_background(|| writeln!(tty.output, "{text}").and_then(|()| tty.output.flush()))
        .is_ok()
}
