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
//!   by the user and unreadable by group and others — the rule ssh applies to private keys.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
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
    #[error("cannot read the TOTP secret file {} ({origin}): {cause}", path.display())]
    Read {
        path: PathBuf,
        origin: String,
        cause: std::io::Error,
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
                let seed = read_seed_file(path, origin)?;
                totp(&seed, unix_time).ok_or_else(|| SourceError::BadSeed {
                    path: path.clone(),
                    origin: origin.clone(),
                })
            }
            Source::TotpKeyring { profile, origin } => {
                let seed = crate::secrets::seed(profile).map_err(|e| SourceError::Keyring {
                    origin: origin.clone(),
                    cause: e.to_string(),
                })?;
                totp(&seed, unix_time).ok_or_else(|| SourceError::BadKeyringSeed {
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

/// After the command itself has exited, how long whatever it left running may keep its output
/// pipes open before the rest of its process group is killed.
const LEFTOVER_GRACE: Duration = Duration::from_millis(250);

/// How much of an `mfa_process`'s stdout is read (a code is 6 digits, perhaps after a prompt).
const MAX_STDOUT: u64 = 4096;

/// How much of its stderr is relayed to ours before the rest is dropped.
const MAX_STDERR: usize = 64 * 1024;

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

/// What happens to a bounded child's stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChildStderr {
    /// Passed on to ours as it comes, escaped (an `mfa_process` asking for a touch).
    Relay,
    /// Kept (up to [`MAX_STDERR`] bytes) and returned, for a message if the child fails (a
    /// dialog's toolkit warnings are noise while it works).
    Capture,
}

/// How a bounded child ended. Its stdout may be a code: `Debug` shows only its length.
pub(crate) struct Ran {
    pub status: std::process::ExitStatus,
    /// At most [`MAX_STDOUT`] bytes.
    pub stdout: Vec<u8>,
    /// With [`ChildStderr::Capture`]: what it wrote on stderr.
    pub stderr: Vec<u8>,
}

impl std::fmt::Debug for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ran")
            .field("status", &self.status)
            .field(
                "stdout",
                &format_args!("<{} bytes redacted>", self.stdout.len()),
            )
            .field("stderr", &String::from_utf8_lossy(&self.stderr))
            .finish()
    }
}

/// Why a bounded child gave no answer.
#[derive(Debug)]
pub(crate) enum RunError {
    Spawn(std::io::Error),
    /// It did not finish in time; its whole process group was killed.
    Timeout,
}

/// Runs `cmd` as the code sources and prompt programs are run: stdin closed, in its own
/// process group (killed whole at `timeout`; it gets the terminal's foreground meanwhile),
/// stdout collected, stderr relayed or captured. Whatever it leaves running in the background
/// cannot hold us past a short grace.
pub(crate) fn run_bounded(
    mut cmd: Command,
    timeout: Duration,
    stderr_to: ChildStderr,
) -> Result<Ran, RunError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so that at the time limit the whole of it — a shell and whatever
    // that shell started — is killed. When we own the terminal's foreground, the group gets it
    // for the duration, so a source asking on /dev/tty (a password manager's unlock) still can.
    let tty = ForegroundTerminal::ours();
    match tty.as_ref().map(|t| t.fd) {
        // SAFETY: only async-signal-safe calls (setpgid, signal, tcsetpgrp, getpid) in the child.
        Some(fd) => unsafe {
            cmd.pre_exec(move || {
                libc::setpgid(0, 0);
                libc::signal(libc::SIGTTOU, libc::SIG_IGN);
                libc::tcsetpgrp(fd, libc::getpid());
                libc::signal(libc::SIGTTOU, libc::SIG_DFL);
                Ok(())
            });
        },
        // No terminal to hand over (cron, refresh, an IDE): the group alone, which lets the
        // standard library spawn with posix_spawn instead of fork, a large saving for a
        // multi-threaded process starting one source per device.
        None => {
            cmd.process_group(0);
        }
    }
    let mut child = cmd.spawn().map_err(RunError::Spawn)?;
    // Killed with us if we are signalled meanwhile: a YubiKey or a dialog is not left held.
    let _tracked = crate::sys::signals::track_group(child.id());
    let group = libc::pid_t::try_from(child.id()).unwrap_or(libc::pid_t::MAX);
    let kill_group = || unsafe {
        libc::kill(-group, libc::SIGKILL);
    };
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    // Read both pipes on threads, never waiting on them past the deadline: a background child
    // may hold them open for as long as it likes.
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut stdout = stdout.take(MAX_STDOUT);
        let mut buf = [0u8; 1024];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let captured = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    // Dropped when stderr is closed: what was captured is complete.
    let (stderr_done, stderr_closed) = std::sync::mpsc::channel::<()>();
    {
        let captured = std::sync::Arc::clone(&captured);
        std::thread::spawn(move || {
            match stderr_to {
                ChildStderr::Relay => relay_stderr(stderr),
                ChildStderr::Capture => capture_stderr(stderr, &captured),
            }
            drop(stderr_done);
        });
    }
    let deadline = Instant::now() + timeout;
    // Most commands answer within milliseconds (`pass otp`, a seed tool): poll often at first,
    // then every 10 ms.
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill_group();
                let _ = child.wait();
                drop(tty);
                return Err(RunError::Timeout);
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(10));
            }
            Err(cause) => {
                kill_group();
                return Err(RunError::Spawn(cause));
            }
        }
    };
    // The command has exited; what it printed is in the pipe. Collect it until the pipe closes;
    // if something it left behind keeps the pipe open, end that group a moment later.
    let mut out = Vec::new();
    let mut killed = false;
    let grace = Instant::now() + LEFTOVER_GRACE;
    loop {
        let now = Instant::now();
        let until = if killed { deadline.max(now) } else { grace };
        match rx.recv_timeout(until.saturating_duration_since(now)) {
            Ok(chunk) => out.extend(chunk),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if !killed => {
                kill_group();
                killed = true;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
        }
    }
    drop(tty);
    if stderr_to == ChildStderr::Capture {
        let _ = stderr_closed.recv_timeout(LEFTOVER_GRACE);
    }
    let stderr = std::mem::take(&mut *captured.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(Ran {
        status,
        stdout: out,
        stderr,
    })
}

/// Keeps up to [`MAX_STDERR`] bytes of a child's stderr; the rest is read and dropped.
fn capture_stderr(mut from: impl Read, into: &std::sync::Mutex<Vec<u8>>) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        let mut kept = into.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < MAX_STDERR {
            kept.extend_from_slice(&buf[..n]);
        }
    }
}

/// Passes an `mfa_process`'s stderr on to ours as it comes (a prompt without a line break
/// included), with control characters escaped, up to [`MAX_STDERR`] bytes; the rest is read
/// and dropped so the process never blocks on a full pipe.
fn relay_stderr(mut from: impl Read) {
    use std::io::Write;
    let mut buf = [0u8; 1024];
    let mut relayed = 0;
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        if relayed < MAX_STDERR {
            let text = String::from_utf8_lossy(&buf[..n]);
            let shown = crate::text::untrusted_keeping(&text, usize::MAX, true);
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(shown.as_bytes());
            let _ = err.flush();
            relayed += n;
        }
    }
}

/// The controlling terminal while an `mfa_process` holds its foreground: given back to our
/// process group on drop.
struct ForegroundTerminal {
    fd: libc::c_int,
}

impl ForegroundTerminal {
    /// `/dev/tty`, when this process group is its foreground (a person is at it).
    fn ours() -> Option<ForegroundTerminal> {
        use std::os::fd::IntoRawFd;
        let fd = crate::sys::terminal::open()?.into_raw_fd();
        // SAFETY: plain calls on a file descriptor we own.
        unsafe {
            if libc::tcgetpgrp(fd) != libc::getpgrp() {
                libc::close(fd);
                return None;
            }
            Some(ForegroundTerminal { fd })
        }
    }
}

/// Runs `f` with SIGTTOU blocked in this thread: a process in the background of its terminal
/// may then write to it or take its foreground back without being stopped.
pub(crate) fn without_sigttou<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: signal-mask calls with valid arguments; the old mask is restored.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGTTOU);
        libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
        let out = f();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        out
    }
}

impl Drop for ForegroundTerminal {
    fn drop(&mut self) {
        // We are a background group now: SIGTTOU blocked, taking the terminal back does not
        // stop us.
        // SAFETY: terminal calls on our own descriptor.
        without_sigttou(|| unsafe {
            libc::tcsetpgrp(self.fd, libc::getpgrp());
        });
        // SAFETY: the descriptor is ours and closed once.
        unsafe {
            libc::close(self.fd);
        }
    }
}

/// The base32 seed in a TOTP secret file, normalised (no blanks or padding, upper case), after
/// the checks of the module documentation. The seed is checked to decode.
pub fn read_seed_file(path: &Path, origin: &str) -> Result<Secret, SourceError> {
    let read_err = |cause| SourceError::Read {
        path: path.to_path_buf(),
        origin: origin.to_string(),
        cause,
    };
    // Opened without blocking (a FIFO would wait for a writer forever) and checked on the open
    // file, so what is checked is what is read.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if !meta.file_type().is_file() {
        return Err(SourceError::Read {
            path: path.to_path_buf(),
            origin: origin.to_string(),
            cause: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file (a FIFO, directory or device)",
            ),
        });
    }
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
    // A seed is a few dozen characters; a larger file is not one.
    let mut text = String::new();
    file.take(4096)
        .read_to_string(&mut text)
        .map_err(read_err)?;
    let seed = Secret::new(
        text.chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .collect::<String>()
            .to_ascii_uppercase(),
    );
    match totp(&seed, 0) {
        Some(_) => Ok(seed),
        None => Err(SourceError::BadSeed {
            path: path.to_path_buf(),
            origin: origin.to_string(),
        }),
    }
}

/// The RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 seed at `unix_time`; `None` when the
/// seed does not decode.
fn totp(seed: &Secret, unix_time: u64) -> Option<Secret> {
    let bytes = totp_rs::Secret::Encoded(seed.expose().to_string())
        .to_bytes()
        .ok()
        .filter(|b| !b.is_empty())?;
    let code =
        totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).generate(unix_time);
    Some(Secret::new(code))
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
