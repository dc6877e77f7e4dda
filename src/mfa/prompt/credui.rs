//! The CredUI driver: Windows' own credentials dialog (`CredUIPromptForCredentialsW`, as
//! aws-vault's `wincredui` prompt uses), the dialog `auto` picks on Windows when there is no
//! console (an IDE's `credential_process`, Task Scheduler with a person logged in).
//!
//! CredUI is a function, not a program; to bound it like zenity (killed whole at
//! [`super::DIALOG_TIMEOUT`] and when mfa-session is interrupted, in a Job Object) and to keep
//! the code on a pipe, the driver runs this same executable as `mfa-session credui-dialog`,
//! which shows the dialog and prints the answer (`src/cmd/credui_dialog.rs`). Chosen over a
//! PowerShell WinForms box because it needs no PowerShell start-up (seconds on a cold machine),
//! hides the typing natively and is the system's own look.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Dialog, PromptKind};

/// A CredUI dialog, shown by `program credui-dialog`.
#[derive(Debug)]
pub struct Credui {
    program: PathBuf,
}

impl Credui {
    /// The dialog shown by `program` (this executable).
    pub(super) fn new(program: PathBuf) -> Credui {
        Credui { program }
    }
}

impl Dialog for Credui {
    const KIND: PromptKind = PromptKind::Credui;

    fn program(&self) -> &Path {
        &self.program
    }

    fn entry(&self, text: &str) -> Command {
        let mut c = Command::new(&self.program);
        c.args(["credui-dialog", "--text", text]);
        c
    }

    fn list(&self, text: &str, devices: &[String]) -> Command {
        let mut c = self.entry(text);
        for d in devices {
            c.args(["--choose", d]);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dialog_is_this_program_and_no_code_is_in_its_argv() {
        let d = Credui::new("mfa-session.exe".into());
        let c = d.list("Use which one?", &["arn:a".into(), "arn:b".into()]);
        let args: Vec<_> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "credui-dialog",
                "--text",
                "Use which one?",
                "--choose",
                "arn:a",
                "--choose",
                "arn:b"
            ]
        );
    }
}
