//! `credui-dialog` (hidden): the Windows credentials dialog as a program of its own, so that the
//! `credui` prompt driver can treat it like zenity or kdialog: run it as a bounded child (killed
//! whole at the dialog limit, or when mfa-session is interrupted) and read the answer from its
//! stdout, never from an argv. Cancel exits 1, the code every dialog driver uses for Cancel; a
//! dialog that cannot be shown exits 3 with the reason on stderr.

use std::io::Write;
use std::process::ExitCode;

use crate::mfa::prompt::DIALOG_TITLE;
use crate::sys::dialog::{self, Answer};

/// What CredUI's always-present name field shows (read-only): the hidden field is the code.
const NAME_FIELD: &str = "MFA code (below)";

pub fn run(text: &str, choose: &[String], out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let message = if choose.is_empty() {
        text.to_string()
    } else {
        let mut m = format!("{text}\n");
        for (i, device) in choose.iter().enumerate() {
            m.push_str(&format!("\n{}. {}", i + 1, crate::text::untrusted(device)));
        }
        m.push_str("\n\nType the device's number.");
        m
    };
    match dialog::ask_hidden(DIALOG_TITLE, &message, NAME_FIELD) {
        Ok(Answer::Given(answer)) => {
            let answer = answer.trim();
            if choose.is_empty() {
                writeln!(out, "{answer}")?;
            } else {
                // A number that names no device is a choice not made.
                match answer
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| choose.get(n.checked_sub(1)?))
                {
                    Some(device) => writeln!(out, "{device}")?,
                    None => return Ok(ExitCode::from(1)),
                }
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Ok(Answer::Cancelled) => Ok(ExitCode::from(1)),
        Err(e) => {
            eprintln!("mfa-session credui-dialog: the dialog could not be shown: {e}");
            Ok(ExitCode::from(3))
        }
    }
}
