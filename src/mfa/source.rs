//! Non-interactive code sources, for cron, systemd timers and any command run without a person:
//!
//! - `mfa_process`: a command that prints the current code (`ykman oath accounts code -s aws`,
//!   `op item get … --otp`, `pass otp …`). Run without a shell unless the value needs one, with a
//!   timeout, in its own process group (killed whole at the limit; it gets the terminal's
//!   foreground meanwhile), stdin closed, its stderr passed through escaped (a YubiKey asking for
//!   a touch must be seen), the last non-empty line of its stdout taken as the code and earlier
//!   lines shown on stderr. Nothing secret is put in its argv: it gets the device's
//!   serial and the profile in its environment.
//! - `mfa_totp_secret_file`: a file holding the device's base32 TOTP seed, refused unless owned
//!   by the user and unreadable by group and others — the rule ssh applies to private keys
//!   (read by [`crate::secrets::seed_file`], which `setup --store keyring` shares).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::{MfaError, validate_code};
use crate::secrets::seed_file::{self, SeedFileError};
use crate::session::Secret;
use crate::sys::run::{ChildStderr, RunError, run_bounded};

/// How long an `mfa_process` may take (a hardware key may wait for a touch).
pub const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);

/// A configured non-interactive source, and where it was configured (for messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Process {
        command: String,
        origin: String,
    },
    TotpFile {
        path: PathBuf,
        origin: String,
    },
    /// A seed in the OS keyring, stored for `profile` by `setup --store keyring`.
    TotpKeyring {
        profile: String,
        origin: String,
    },
}

/// Why a source could not give a code. Never carries the code or the seed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    // io::Errors are part of these messages, not `source`s: `{:#}` would print them twice.
    #[error("mfa_process ({origin}) could not be started: {cause}")]
    Spawn {
        origin: String,
        cause: std::io::Error,
    },
    #[error("mfa_process ({origin}) did not finish within {} s and was killed", PROCESS_TIMEOUT.as_secs())]
    Timeout { origin: String },
    #[error("mfa_process ({origin}) failed with {status}")]
    Failed { origin: String, status: String },
    #[error("mfa_process ({origin}) did not print a 6-digit code")]
    BadOutput { origin: String },
    #[error("mfa_process ({origin}) is empty or cannot be parsed as a command line")]
    BadCommand { origin: String },
    /// `mfa_totp_secret_file` could not be read, is not private, or holds no seed.
    #[error(transparent)]
    SeedFile(#[from] SeedFileError),
    #[error("cannot read the TOTP seed from the OS keyring ({origin}): {cause}")]
    Keyring { origin: String, cause: String },
    #[error("the TOTP seed in the OS keyring ({origin}) is not a base32 seed")]
    BadKeyringSeed { origin: String },
}

impl Source {
    /// The current code for `serial`, as of `unix_time` for a seed file.
    pub fn code(&self, serial: &str, profile: &str, unix_time: u64) -> Result<Secret, SourceError> {
        match self {
            Source::Process { command, origin } => run_process(command, origin, serial, profile),
            Source::TotpFile { path, origin } => {
                let seed = seed_file::read(path, origin)?;
                seed_file::totp(&seed, unix_time).ok_or_else(|| {
                    SeedFileError::BadSeed {
                        path: path.clone(),
                        origin: origin.clone(),
                    }
                    .into()
                })
            }
            Source::TotpKeyring { profile, origin } => {
                let seed = crate::secrets::seed(profile).map_err(|e| SourceError::Keyring {
                    origin: origin.clone(),
                    cause: e.to_string(),
                })?;
                seed_file::totp(&seed, unix_time).ok_or_else(|| SourceError::BadKeyringSeed {
                    origin: origin.clone(),
                })
            }
        }
    }

    /// Whether this source could give a code now, without running it or asking for one: its
    /// command can be found (`find` looks a program up as `PATH` would), its seed can be read
    /// and decoded. Says what was checked. Computing a TOTP spends nothing: AWS takes a code
    /// once, and none is sent.
    pub fn check(&self, find: impl Fn(&str) -> Option<PathBuf>) -> Result<String, SourceError> {
        match self {
            Source::Process { command, origin } => {
                let c = command_for(command, origin)?;
                let program = c.get_program().to_string_lossy().into_owned();
                match find(&program) {
                    Some(path) if program == "/bin/sh" => Ok(format!(
                        "runs through {} (shell syntax: only the shell was checked)",
                        path.display()
                    )),
                    Some(path) => Ok(format!("runs {}", path.display())),
                    None => Err(SourceError::Spawn {
                        origin: origin.clone(),
                        cause: std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            format!(
                                "{} is not an executable file or not found on PATH",
                                crate::text::untrusted(&program)
                            ),
                        ),
                    }),
                }
            }
            // Reading a seed and computing a code from it runs nothing and sends nothing.
            Source::TotpFile { .. } => self
                .code("", "", 0)
                .map(|_| "the file is yours, private and holds a base32 seed".into()),
            Source::TotpKeyring { .. } => self
                .code("", "", 0)
                .map(|_| "the keyring answered with a base32 seed".into()),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Process { origin, .. } => format!("mfa_process ({origin})"),
            Source::TotpFile { path, origin } => {
                format!("the TOTP secret file {} ({origin})", path.display())
            }
            Source::TotpKeyring { origin, .. } => {
                format!("the TOTP seed in the OS keyring ({origin})")
            }
        }
    }
}

/// Characters that mean the value is shell syntax, not a plain command line.
const SHELL_SYNTAX: &[char] = &[
    '|', '&', ';', '<', '>', '$', '`', '(', ')', '*', '?', '[', ']', '{', '}', '~', '\n',
];

fn command_for(line: &str, origin: &str) -> Result<Command, SourceError> {
    let bad = || SourceError::BadCommand {
        origin: origin.to_string(),
    };
    if line.contains(SHELL_SYNTAX) {
        return Ok(crate::sys::process::shell_command(line));
    }
    let words = crate::sys::process::split_command(line).ok_or_else(bad)?;
    let (program, args) = words.split_first().ok_or_else(bad)?;
    let mut c = Command::new(program);
    c.args(args);
    Ok(c)
}

fn run_process(
    line: &str,
    origin: &str,
    serial: &str,
    profile: &str,
) -> Result<Secret, SourceError> {
    run_process_within(line, origin, serial, profile, PROCESS_TIMEOUT)
}

fn run_process_within(
    line: &str,
    origin: &str,
    serial: &str,
    profile: &str,
    timeout: Duration,
) -> Result<Secret, SourceError> {
    let mut cmd = command_for(line, origin)?;
    cmd.env("MFA_SESSION_SERIAL", serial)
        .env("MFA_SESSION_PROFILE", profile);
    let ran = run_bounded(cmd, timeout, ChildStderr::Relay).map_err(|e| match e {
        RunError::Spawn(cause) => SourceError::Spawn {
            origin: origin.to_string(),
            cause,
        },
        RunError::Timeout => SourceError::Timeout {
            origin: origin.to_string(),
        },
    })?;
    if !ran.status.success() {
        return Err(SourceError::Failed {
            origin: origin.to_string(),
            status: ran.status.to_string(),
        });
    }
    let text = String::from_utf8_lossy(&ran.stdout);
    // The code is the last non-empty line; lines before it (a "Touch your YubiKey" prompt) are
    // shown on stderr, escaped, as the source meant them to be seen.
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let last = lines.pop().unwrap_or("");
    for l in lines {
        eprintln!("{}", crate::text::untrusted(l));
    }
    validate_code(last).map_err(|_: MfaError| SourceError::BadOutput {
        origin: origin.to_string(),
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::Instant;

    // RFC 6238's SHA-1 test seed ("12345678901234567890"), whose codes are published.
    const RFC_SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    fn seed_file(dir: &Path, mode: u32, text: &str) -> PathBuf {
        let p = dir.join("seed");
        std::fs::write(&p, text).unwrap();
        crate::sys::fs::set_mode_at(&p, mode).unwrap();
        p
    }

    #[test]
    fn totp_file_gives_the_rfc_codes() {
        let dir = tempfile::tempdir().unwrap();
        let src = Source::TotpFile {
            path: seed_file(dir.path(), 0o600, &format!("{}\n", RFC_SEED.to_lowercase())),
            origin: "test".into(),
        };
        // RFC 6238 appendix B, truncated to 6 digits: 94287082 and 07081804.
        assert_eq!(src.code("s", "p", 59).unwrap().expose(), "287082");
        assert_eq!(src.code("s", "p", 1111111109).unwrap().expose(), "081804");
    }

    #[test]
    fn totp_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            let src = Source::TotpFile {
                path: seed_file(dir.path(), mode, RFC_SEED),
                origin: "test".into(),
            };
            let e = src.code("s", "p", 59).unwrap_err().to_string();
            assert!(e.contains("chmod 600") && !e.contains(RFC_SEED), "{e}");
        }
        let src = Source::TotpFile {
            path: seed_file(dir.path(), 0o600, "not base32 !!"),
            origin: "test".into(),
        };
        assert!(matches!(
            src.code("s", "p", 59),
            Err(SourceError::SeedFile(SeedFileError::BadSeed { .. }))
        ));
    }

    #[test]
    fn process_output_is_trimmed_and_validated() {
        let p = |c: &str| Source::Process {
            command: c.into(),
            origin: "test".into(),
        };
        assert_eq!(
            p("echo 123456").code("s", "p", 0).unwrap().expose(),
            "123456"
        );
        assert_eq!(
            p("printf '  654321\\n'")
                .code("s", "p", 0)
                .unwrap()
                .expose(),
            "654321"
        );
        // Shell syntax runs under sh; the serial and profile arrive in the environment.
        let code = p("test \"$MFA_SESSION_SERIAL\" = arn:x && echo 111111")
            .code("arn:x", "p", 0)
            .unwrap();
        assert_eq!(code.expose(), "111111");
        let e = p("echo not-a-code").code("s", "p", 0).unwrap_err();
        assert!(matches!(e, SourceError::BadOutput { .. }), "{e}");
        assert!(!e.to_string().contains("not-a-code"));
        assert!(matches!(
            p("false").code("s", "p", 0),
            Err(SourceError::Failed { .. })
        ));
        assert!(matches!(
            p("/no/such/program").code("s", "p", 0),
            Err(SourceError::Spawn { .. })
        ));
        assert!(matches!(
            p("").code("s", "p", 0),
            Err(SourceError::BadCommand { .. })
        ));
    }

    #[test]
    fn the_code_is_the_last_non_empty_line() {
        let p = Source::Process {
            command: "printf 'Touch your YubiKey\\n\\n123456\\n\\n'".into(),
            origin: "test".into(),
        };
        assert_eq!(p.code("s", "p", 0).unwrap().expose(), "123456");
    }

    #[test]
    fn a_background_child_holding_stdout_does_not_hold_us() {
        let start = Instant::now();
        let code = run_process_within(
            "echo 123456; sleep 70 &",
            "test",
            "s",
            "p",
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(code.expose(), "123456");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        // Past the limit the whole group goes, grandchildren included.
        let start = Instant::now();
        let e = run_process_within(
            "sleep 70 & sleep 70",
            "test",
            "s",
            "p",
            Duration::from_millis(300),
        );
        assert!(matches!(e, Err(SourceError::Timeout { .. })));
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn a_hanging_process_is_killed() {
        let start = Instant::now();
        let e = run_process_within("sleep 20", "test", "s", "p", Duration::from_millis(300));
        assert!(matches!(e, Err(SourceError::Timeout { .. })));
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
