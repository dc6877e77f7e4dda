//! The platform's own password dialog, where it has one in-process: Windows' CredUI
//! (`CredUIPromptForCredentialsW`, the dialog aws-vault's `wincredui` prompt shows). Linux and
//! macOS have none to call; their dialogs are separate programs (zenity, kdialog, osascript).
//!
//! mfa-session never calls this in the process that logs in: the `credui` prompt driver runs
//! `mfa-session credui-dialog` as a child, bounded and killed whole at the dialog limit like
//! every other dialog, and reads the answer from its stdout.

#[cfg(unix)]
#[path = "unix/dialog.rs"]
mod imp;
#[cfg(windows)]
#[path = "windows/dialog.rs"]
mod imp;

/// Whether this platform has a dialog here.
pub const AVAILABLE: bool = cfg!(windows);

/// What a dialog ended with.
#[derive(PartialEq, Eq)]
pub enum Answer {
    /// The text typed into the hidden field (a secret: never logged).
    Given(String),
    /// Cancel, Escape or the window closed.
    Cancelled,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Answer::Given(_) => "Given(<hidden>)",
            Answer::Cancelled => "Cancelled",
        })
    }
}

/// Shows a dialog titled `caption` with `message` and a hidden field; `user` fills the
/// (read-only) name field that CredUI always has. `Unsupported` where there is no dialog.
pub fn ask_hidden(caption: &str, message: &str, user: &str) -> std::io::Result<Answer> {
    imp::ask_hidden(caption, message, user)
}
