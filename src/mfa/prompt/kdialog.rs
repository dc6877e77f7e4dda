//! The kdialog driver: a KDE password dialog (`kdialog --password`) and device list
//! (`kdialog --combobox`), the dialog `auto` tries after zenity on a Linux or BSD desktop. Its
//! own file so kdialog's arguments sit apart from what all dialogs share (`mod.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{DIALOG_TITLE, Dialog, PromptKind};

/// A kdialog password dialog.
#[derive(Debug)]
pub struct Kdialog {
    program: PathBuf,
}

impl Kdialog {
    /// The dialog of `program` (kdialog, as found on `PATH`).
    pub(super) fn new(program: PathBuf) -> Kdialog {
        Kdialog { program }
    }
}

impl Dialog for Kdialog {
    const KIND: PromptKind = PromptKind::Kdialog;

    fn program(&self) -> &Path {
        &self.program
    }

    fn entry(&self, text: &str) -> Command {
        let mut c = Command::new(&self.program);
        c.args(["--title", DIALOG_TITLE, "--password"]).arg(text);
        c
    }

    fn list(&self, text: &str, devices: &[String]) -> Command {
        let mut c = Command::new(&self.program);
        c.args(["--title", DIALOG_TITLE, "--combobox"])
            .arg(text)
            .args(devices);
        c
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::super::tests::script;
    use super::*;
    use crate::mfa::prompt::CodeFor;
    use crate::mfa::{MfaError, Prompt};

    #[test]
    fn a_dialog_answer_comes_from_stdout_and_cancel_is_exit_1() {
        // kdialog is not installed on the test machines: a script in its place shows the
        // protocol (the real zenity is driven under Xvfb in tests/it/prompts.rs).
        let dir = tempfile::tempdir().unwrap();
        let args = dir.path().join("args");
        let program = script(
            dir.path(),
            "kdialog",
            &format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" >> {}\n\
                 [ -e {dir}/cancel ] && exit 1\n\
                 if [ -e {dir}/asked ]; then echo 654321; else touch {dir}/asked; echo 12; fi\n",
                args.display(),
                dir = dir.path().display()
            ),
        );
        let mut d = Kdialog::new(program);
        let code = d
            .read_code(
                CodeFor {
                    profile: "dev",
                    serial: "arn:x",
                },
                false,
            )
            .unwrap();
        assert_eq!(code.expose(), "654321");
        let argv = std::fs::read_to_string(&args).unwrap();
        assert_eq!(argv.matches("--password").count(), 2, "{argv}");
        assert!(
            argv.contains("exactly 6 digits")
                && argv.contains("MFA code for profile dev (arn:x):")
                && !argv.contains("654321"),
            "{argv}"
        );
        std::fs::write(dir.path().join("cancel"), "").unwrap();
        assert!(matches!(
            d.read_code(
                CodeFor {
                    profile: "dev",
                    serial: "arn:x",
                },
                true
            ),
            Err(MfaError::DialogCancelled { prompt: "kdialog" })
        ));
    }
}
