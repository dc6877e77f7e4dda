//! Running a helper program with a bound: the code sources (`mfa_process`), dialogs and
//! notification tools.
//!
//! The program runs as a [`crate::sys::child::Tree`] (killed whole at the bound), with stdin
//! closed, its stdout collected (a code, so never logged) and its stderr relayed or captured.
//! Whatever it leaves running in the background cannot hold us past a short grace. This part
//! is portable: only the tree underneath differs per OS.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::child;

/// After the command itself has exited, how long whatever it left running may keep its output
/// pipes open before the rest of its process group is killed.
const LEFTOVER_GRACE: Duration = Duration::from_millis(250);

/// How much of an `mfa_process`'s stdout is read (a code is 6 digits, perhaps after a prompt).
const MAX_STDOUT: u64 = 4096;

/// How much of its stderr is relayed to ours before the rest is dropped.
const MAX_STDERR: usize = 64 * 1024;

/// What happens to a bounded child's stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildStderr {
    /// Passed on to ours as it comes, escaped (an `mfa_process` asking for a touch).
    Relay,
    /// Kept (up to [`MAX_STDERR`] bytes) and returned, for a message if the child fails (a
    /// dialog's toolkit warnings are noise while it works).
    Capture,
}

/// How a bounded child ended. Its stdout may be a code: `Debug` shows only its length.
pub struct Ran {
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
pub enum RunError {
    Spawn(std::io::Error),
    /// It did not finish in time; its whole process group was killed.
    Timeout,
}

/// Runs `cmd` as the code sources and prompt programs are run: stdin closed, in its own
/// process group (killed whole at `timeout`; it gets the terminal's foreground meanwhile),
/// stdout collected, stderr relayed or captured. Whatever it leaves running in the background
/// cannot hold us past a short grace.
pub fn run_bounded(
    mut cmd: Command,
    timeout: Duration,
    stderr_to: ChildStderr,
) -> Result<Ran, RunError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A tree of its own, killed whole at the time limit — a shell and whatever that shell
    // started — and given the terminal's foreground meanwhile when we have it.
    let mut tree = child::spawn(cmd, true).map_err(RunError::Spawn)?;
    let stdout = tree.child.stdout.take().expect("piped");
    let stderr = tree.child.stderr.take().expect("piped");
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
        match tree.child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                tree.kill();
                let _ = tree.child.wait();
                return Err(RunError::Timeout);
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(10));
            }
            Err(cause) => {
                tree.kill();
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
                tree.kill();
                killed = true;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
        }
    }
    drop(tree);
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
