//! Non-interactive code sources, for cron, systemd timers and any command run without a person:
//!
//! - `mfa_process`: a command that prints the current code (`ykman oath accounts code -s aws`,
//!   `op item get … --otp`, `pass otp …`). Run without a shell unless the value needs one, with a
//!   timeout, stdin closed, its stderr passed through (a YubiKey asking for a touch must be seen),
//!   its stdout trimmed and validated. Nothing secret is put in its argv: it gets the device's
//!   serial and the profile in its environment.
//! - `mfa_totp_secret_file`: a file holding the device's base32 TOTP seed, refused unless owned
//!   by the user and unreadable by group and others — the rule ssh applies to private keys.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{MfaError, validate_code};
use crate::session::Secret;

/// How long an `mfa_process` may take (a hardware key may wait for a touch).
pub const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);

/// A configured non-interactive source, and where it was configured (for messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Process { command: String, origin: String },
    TotpFile { path: PathBuf, origin: String },
}

/// Why a source could not give a code. Never carries the code or the seed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("mfa_process ({origin}) could not be started: {source}")]
    Spawn {
        origin: String,
        source: std::io::Error,
    },
    #[error("mfa_process ({origin}) did not finish within {} s and was killed", PROCESS_TIMEOUT.as_secs())]
    Timeout { origin: String },
    #[error("mfa_process ({origin}) failed with {status}")]
    Failed { origin: String, status: String },
    #[error("mfa_process ({origin}) did not print a 6-digit code")]
    BadOutput { origin: String },
    #[error("mfa_process ({origin}) is empty or cannot be parsed as a command line")]
    BadCommand { origin: String },
    #[error("cannot read the TOTP secret file {} ({origin}): {source}", path.display())]
    Read {
        path: PathBuf,
        origin: String,
        source: std::io::Error,
    },
    #[error(
        "refusing the TOTP secret file {} ({origin}): it is {why}; it must belong to you and be \
         unreadable by others, like an ssh key (chmod 600 {})",
        path.display(),
        path.display()
    )]
    Unsafe {
        path: PathBuf,
        origin: String,
        why: String,
    },
    #[error("the TOTP secret file {} ({origin}) does not hold a base32 seed", path.display())]
    BadSeed { path: PathBuf, origin: String },
}

impl Source {
    /// The current code for `serial`, as of `unix_time` for a seed file.
    pub fn code(&self, serial: &str, profile: &str, unix_time: u64) -> Result<Secret, SourceError> {
        match self {
            Source::Process { command, origin } => run_process(command, origin, serial, profile),
            Source::TotpFile { path, origin } => totp_from_file(path, origin, unix_time),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Process { origin, .. } => format!("mfa_process ({origin})"),
            Source::TotpFile { path, origin } => {
                format!("the TOTP secret file {} ({origin})", path.display())
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
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(line);
        return Ok(c);
    }
    let words = shlex::split(line).ok_or_else(bad)?;
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
    let mut child = cmd
        .env("MFA_SESSION_SERIAL", serial)
        .env("MFA_SESSION_PROFILE", profile)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| SourceError::Spawn {
            origin: origin.to_string(),
            source,
        })?;
    let mut stdout = child.stdout.take().expect("piped");
    // Read on a thread so a chatty process cannot block on a full pipe while we wait.
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.by_ref().take(4096).read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(SourceError::Timeout {
                    origin: origin.to_string(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(source) => {
                return Err(SourceError::Spawn {
                    origin: origin.to_string(),
                    source,
                });
            }
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(SourceError::Failed {
            origin: origin.to_string(),
            status: status.to_string(),
        });
    }
    let text = String::from_utf8_lossy(&out);
    validate_code(&text).map_err(|_: MfaError| SourceError::BadOutput {
        origin: origin.to_string(),
    })
}

fn totp_from_file(path: &Path, origin: &str, unix_time: u64) -> Result<Secret, SourceError> {
    let read_err = |source| SourceError::Read {
        path: path.to_path_buf(),
        origin: origin.to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    let me = unsafe { libc::geteuid() };
    let unsafe_because = |why: String| SourceError::Unsafe {
        path: path.to_path_buf(),
        origin: origin.to_string(),
        why,
    };
    if meta.uid() != me {
        return Err(unsafe_because(format!(
            "owned by uid {}, not you (uid {me})",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(unsafe_because(format!(
            "readable or writable by group or others (mode {:o})",
            meta.mode() & 0o777
        )));
    }
    let text = std::fs::read_to_string(path).map_err(read_err)?;
    let seed: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .collect::<String>()
        .to_ascii_uppercase();
    let bad_seed = || SourceError::BadSeed {
        path: path.to_path_buf(),
        origin: origin.to_string(),
    };
    let bytes = totp_rs::Secret::Encoded(seed)
        .to_bytes()
        .map_err(|_| bad_seed())?;
    if bytes.is_empty() {
        return Err(bad_seed());
    }
    let code =
        totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).generate(unix_time);
    Ok(Secret::new(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    // RFC 6238's SHA-1 test seed ("12345678901234567890"), whose codes are published.
    const RFC_SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    fn seed_file(dir: &Path, mode: u32, text: &str) -> PathBuf {
        let p = dir.join("seed");
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
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
            Err(SourceError::BadSeed { .. })
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
    fn a_hanging_process_is_killed() {
        let start = Instant::now();
        let e = run_process_within("sleep 20", "test", "s", "p", Duration::from_millis(300));
        assert!(matches!(e, Err(SourceError::Timeout { .. })));
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
