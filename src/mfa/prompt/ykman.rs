//! The ykman driver: the code of a YubiKey OATH account (`mfa_ykman_account`), read with
//! `ykman oath accounts code --single ACCOUNT`, with the touch hint (`touch_hint.rs`) shown
//! while ykman waits for a touch. Its own file because it asks no person for the code: it runs
//! a program bounded like an `mfa_process`, waits for the next 30-second step instead of asking
//! again, and leaves a choice among devices to another prompt (ykman cannot make one).

use std::path::PathBuf;
use std::process::Command;

use super::touch_hint::Hint;
use super::{CodeFor, Desktop, Prompt, failed, run_error};
use crate::mfa::source::PROCESS_TIMEOUT;
use crate::mfa::{MfaError, validate_code};
use crate::session::Secret;
use crate::sys::run::{ChildStderr, run_bounded};

/// The code of a YubiKey OATH account, read with ykman.
pub struct Ykman {
    program: PathBuf,
    account: String,
    desktop: Desktop,
    /// Who chooses among several devices (ykman cannot).
    chooser: Option<Box<dyn Prompt>>,
}

impl Ykman {
    /// ykman at `program`, for `account`; the hint is shown on `desktop`, and `chooser` (if
    /// any) chooses among devices.
    pub(super) fn new(
        program: PathBuf,
        account: String,
        desktop: Desktop,
        chooser: Option<Box<dyn Prompt>>,
    ) -> Ykman {
        Ykman {
            program,
            account,
            desktop,
            chooser,
        }
    }

    fn code(&self, to: CodeFor<'_>) -> Result<Secret, MfaError> {
        let mut cmd = Command::new(&self.program);
        cmd.args(["oath", "accounts", "code", "--single"])
            .arg(&self.account);
        let hint = Hint::start(
            format!(
                "Touch your YubiKey (mfa-session needs the code of {} for {to})",
                crate::text::untrusted(&self.account)
            ),
            self.desktop.clone(),
        );
        let ran = run_bounded(cmd, PROCESS_TIMEOUT, ChildStderr::Capture);
        hint.finish();
        let ran = ran.map_err(|e| run_error("ykman", e, PROCESS_TIMEOUT))?;
        if !ran.status.success() {
            return Err(failed("ykman", &ran));
        }
        // `--single` prints the code alone; a listing prints `ACCOUNT  CODE` lines.
        let text = String::from_utf8_lossy(&ran.stdout);
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| l.split_whitespace().last())
            .unwrap_or("");
        validate_code(last).map_err(|_| MfaError::PromptFailed {
            prompt: "ykman",
            why: format!("did not print a 6-digit code for {}", self.account),
        })
    }
}

impl Prompt for Ykman {
    fn describe(&self) -> String {
        format!(
            "your YubiKey, through {} (account {})",
            self.program.display(),
            crate::text::untrusted(&self.account)
        )
    }

    fn read_code(&mut self, to: CodeFor<'_>, again: bool) -> Result<Secret, MfaError> {
        if again {
            // The key gives the same code until the next 30-second step starts.
            let wait = crate::mfa::next_window_in(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default(),
            );
            tracing::warn!(
                "AWS rejected the code; asking the YubiKey again for the next code in {} s",
                wait.as_secs()
            );
            std::thread::sleep(wait);
        }
        self.code(to)
    }

    fn choose(&mut self, devices: &[String]) -> Result<String, MfaError> {
        match &mut self.chooser {
            Some(p) => p.choose(devices),
            None => Err(MfaError::CannotChoose {
                count: devices.len(),
                devices: devices.join(", "),
            }),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::super::tests::script;
    use super::*;

    #[test]
    fn ykman_prints_the_code_alone_or_after_the_account() {
        let dir = tempfile::tempdir().unwrap();
        let mut y = Ykman {
            program: script(
                dir.path(),
                "ykman",
                "#!/bin/sh\n[ \"$*\" = 'oath accounts code --single aws' ] || exit 3\n\
                 echo 'aws    012345'\n",
            ),
            account: "aws".into(),
            desktop: Desktop::default(),
            chooser: None,
        };
        assert_eq!(
            y.read_code(
                CodeFor {
                    profile: "p",
                    serial: "s",
                },
                false,
            )
            .unwrap()
            .expose(),
            "012345"
        );
        y.program = script(
            dir.path(),
            "ykman2",
            "#!/bin/sh\necho 'Error: No YubiKey detected!' >&2\nexit 2\n",
        );
        let e = y
            .read_code(
                CodeFor {
                    profile: "p",
                    serial: "s",
                },
                false,
            )
            .unwrap_err();
        assert!(matches!(e, MfaError::PromptFailed { .. }), "{e}");
        assert!(e.to_string().contains("No YubiKey detected"), "{e}");
        assert!(matches!(
            y.choose(&["a".into(), "b".into()]),
            Err(MfaError::CannotChoose { count: 2, .. })
        ));
    }
}
