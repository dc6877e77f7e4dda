//! The terminal driver: the person at the controlling terminal (`/dev/tty`, not stdin/stdout,
//! so a prompt still reaches them inside `eval "$(mfa-session export)"` and never pollutes data
//! on stdout), asked line by line. Its own file like every driver; generic over its ends so
//! tests (here and in the provider) can script a conversation.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};

use super::{ASKS, CodeFor, Prompt};
use crate::mfa::{MfaError, validate_code};
use crate::session::Secret;

/// A conversation with the person at the terminal. Generic over its ends so tests can script it.
pub struct Terminal<R, W> {
    input: R,
    output: W,
    /// The terminal's input end, to hide the typing of a code (Windows' console echo).
    console: Option<File>,
}

impl Terminal<BufReader<File>, File> {
    /// The controlling terminal, or `None` when the process has none.
    pub fn open() -> Option<Self> {
        let tty = crate::sys::terminal::open()?;
        Some(Terminal {
            console: tty.input.try_clone().ok(),
            input: BufReader::new(tty.input),
            output: tty.output,
        })
    }
}

impl<R: BufRead, W: Write> Prompt for Terminal<R, W> {
    fn read_code(&mut self, to: CodeFor<'_>, again: bool) -> Result<Secret, MfaError> {
        Terminal::read_code(self, to, again)
    }

    fn describe(&self) -> String {
        "you, at this terminal".into()
    }

    fn choose(&mut self, devices: &[String]) -> Result<String, MfaError> {
        Terminal::choose(self, devices)
    }
}

impl<R: BufRead, W: Write> Terminal<R, W> {
    pub fn new(input: R, output: W) -> Self {
        Terminal {
            input,
            output,
            console: None,
        }
    }

    fn ask(&mut self, question: &str) -> Result<String, MfaError> {
        write!(self.output, "{question}")?;
        self.output.flush()?;
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            writeln!(self.output)?;
            return Err(MfaError::Cancelled);
        }
        Ok(line.trim().to_string())
    }

    /// Asks for a code for `to` until one has the right shape ([`ASKS`] tries).
    pub fn read_code(&mut self, to: CodeFor<'_>, again: bool) -> Result<Secret, MfaError> {
        if again {
            writeln!(
                self.output,
                "AWS rejected that code; wait for the next one."
            )?;
        }
        let mut last = None;
        for _ in 0..ASKS {
            let answer = {
                // Typing hidden while the code is read, shown again before anything else.
                let hidden = self.console.as_ref().map(crate::sys::terminal::hide_typing);
                let answer = self.ask(&format!("{} ", to.question()));
                if hidden.as_ref().is_some_and(|h| h.active()) {
                    // The Enter that ended the answer was not shown either.
                    writeln!(self.output)?;
                }
                answer?
            };
            match validate_code(&answer) {
                Ok(code) => return Ok(code),
                Err(e) => {
                    writeln!(self.output, "{e}")?;
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or(MfaError::Cancelled))
    }

    /// Lets the person pick one of several devices.
    pub fn choose(&mut self, devices: &[String]) -> Result<String, MfaError> {
        writeln!(
            self.output,
            "Several MFA devices are enabled for this user:"
        )?;
        for (i, d) in devices.iter().enumerate() {
            writeln!(self.output, "  {}) {d}", i + 1)?;
        }
        for _ in 0..ASKS {
            let answer = self.ask(&format!("Use which device [1-{}]? ", devices.len()))?;
            if let Some(d) = answer
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| devices.get(i))
            {
                return Ok(d.clone());
            }
        }
        Err(MfaError::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to<'a>(profile: &'a str, serial: &'a str) -> CodeFor<'a> {
        CodeFor { profile, serial }
    }

    #[test]
    fn prompt_retries_bad_shapes_and_names_the_profile_and_device() {
        let mut out = Vec::new();
        let mut t = Terminal::new(&b"12\n654321\n"[..], &mut out);
        let code = t
            .read_code(to("dev", "arn:aws:iam::1:mfa/me"), false)
            .unwrap();
        assert_eq!(code.expose(), "654321");
        let shown = String::from_utf8(out).unwrap();
        assert_eq!(
            shown
                .matches("MFA code for profile dev (arn:aws:iam::1:mfa/me): ")
                .count(),
            2
        );
    }

    #[test]
    fn end_of_input_cancels() {
        let mut t = Terminal::new(&b""[..], Vec::new());
        assert!(matches!(
            t.read_code(to("p", "x"), false),
            Err(MfaError::Cancelled)
        ));
    }

    #[test]
    fn a_serial_from_a_file_is_shown_escaped() {
        let mut out = Vec::new();
        let mut t = Terminal::new(&b"123456\n"[..], &mut out);
        t.read_code(to("p", "arn:x\x1b[2J"), false).unwrap();
        let shown = String::from_utf8(out).unwrap();
        assert!(!shown.contains('\x1b'), "{shown:?}");
    }

    #[test]
    fn choose_by_number() {
        let devices = vec!["a".to_string(), "b".to_string()];
        let mut t = Terminal::new(&b"9\n2\n"[..], Vec::new());
        assert_eq!(t.choose(&devices).unwrap(), "b");
    }
}
