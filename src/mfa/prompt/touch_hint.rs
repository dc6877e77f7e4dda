//! The "Touch your YubiKey" hint of the ykman driver: shown if ykman is still running after
//! [`HINT_DELAY`], where the person sees it even when our stdout and stderr are captured
//! (`credential_process`), and taken down when ykman is done. Its own file because it is not a
//! prompt (it asks nothing) and owns its own OS calls: a thread, a window in its own process
//! group, and the signal that closes it.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::Desktop;
use super::zenity::markup;
use crate::sys::run::{ChildStderr, run_bounded};

/// How long ykman may run before the touch hint is shown (a key that needs no touch answers
/// in well under this).
const HINT_DELAY: Duration = Duration::from_millis(500);

/// The window title of the YubiKey touch hint.
pub const HINT_TITLE: &str = "mfa-session: YubiKey";

/// The "touch your YubiKey" hint, shown if ykman is still running after [`HINT_DELAY`] and
/// taken down when it is done.
pub(super) struct Hint {
    done: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Hint {
    pub(super) fn start(text: String, desktop: Desktop) -> Hint {
        let (done, rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if rx.recv_timeout(HINT_DELAY) != Err(mpsc::RecvTimeoutError::Timeout) {
                return;
            }
            let window = show_hint(&text, &desktop);
            // Until ykman is done (the sender is dropped).
            let _ = rx.recv();
            if let Some(window) = window {
                window.close();
            }
        });
        Hint { done, thread }
    }

    /// ykman is done: the hint window (if any) is closed before this returns.
    pub(super) fn finish(self) {
        drop(self.done);
        let _ = self.thread.join();
    }
}

/// Shows `text` where the person sees it: the controlling terminal; else a desktop
/// notification; else a zenity/kdialog window (returned, to be closed); else our stderr.
fn show_hint(text: &str, desktop: &Desktop) -> Option<crate::sys::child::Tree> {
    if write_to_terminal(text) {
        return None;
    }
    if let Some(notify) = desktop.find("notify-send") {
        let mut cmd = Command::new(notify);
        cmd.args([
            "--app-name=mfa-session",
            "--expire-time=15000",
            HINT_TITLE,
            text,
        ]);
        match run_bounded(cmd, Duration::from_secs(5), ChildStderr::Capture) {
            Ok(ran) if ran.status.success() => return None,
            other => tracing::debug!("notify-send did not show the hint: {other:?}"),
        }
    }
    if desktop.graphical {
        for (program, args) in [
            (
                "zenity",
                vec!["--info", "--no-wrap", "--title", HINT_TITLE, "--text"],
            ),
            ("kdialog", vec!["--title", HINT_TITLE, "--msgbox"]),
        ] {
            let Some(path) = desktop.find(program) else {
                continue;
            };
            let mut cmd = Command::new(path);
            cmd.args(args)
                .arg(if program == "zenity" {
                    markup(text)
                } else {
                    text.to_string()
                })
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            match crate::sys::child::spawn(cmd, false) {
                Ok(child) => return Some(child),
                Err(e) => tracing::debug!("{program} did not show the hint: {e}"),
            }
        }
    }
    eprintln!("mfa-session: {text}");
    None
}

/// Writes `text` on the controlling terminal; `false` when there is none.
fn write_to_terminal(text: &str) -> bool {
    // ykman holds the terminal's foreground meanwhile: written even from the background.
    crate::sys::terminal::write_line(text)
}
