//! The prompt drivers: who asks the person for a code when no code is given and no
//! non-interactive source is configured.
//!
//! - `terminal`: `/dev/tty` ([`super::Terminal`]).
//! - `zenity`, `kdialog` (Linux and BSD desktops), `osascript` (macOS): a password dialog run as
//!   a child process. The code comes back on the child's stdout, never through its argv; the
//!   child is bounded by [`DIALOG_TIMEOUT`] like an `mfa_process` (own process group, killed
//!   whole at the limit). Cancel is [`MfaError::DialogCancelled`], and nothing is sent to AWS.
//! - `ykman`: `ykman oath accounts code --single ACCOUNT` reads the code off a YubiKey. When the
//!   credential needs a touch, ykman waits for it; the hint "Touch your YubiKey" is shown where
//!   the person sees it even when our stdout and stderr are captured (`credential_process`):
//!   on the controlling terminal if there is one, else as a desktop notification
//!   (`notify-send`), else in a zenity/kdialog window that closes when ykman is done.
//!
//! `auto` (the default): the terminal when there is one; else, in a graphical session
//! (`DISPLAY` or `WAYLAND_DISPLAY`), zenity or kdialog found on `PATH`; else, on macOS,
//! osascript. Chosen by `--prompt`, else `MFA_SESSION_PROMPT`, else `mfa_prompt` in the
//! profile.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::source::PROCESS_TIMEOUT;
use super::{MfaError, Prompt, Terminal, validate_code};
use crate::env::Env;
use crate::session::Secret;
use crate::sys::run::{ChildStderr, Ran, RunError, run_bounded};

/// How long a dialog may stay open before it is closed (a person reads a code off a phone in
/// far less; nothing may wait forever).
pub const DIALOG_TIMEOUT: Duration = Duration::from_secs(120);

/// How long ykman may run before the touch hint is shown (a key that needs no touch answers
/// in well under this).
const HINT_DELAY: Duration = Duration::from_millis(500);

/// The window title of the code dialogs.
pub const DIALOG_TITLE: &str = "mfa-session: MFA code";

/// The window title of the YubiKey touch hint.
pub const HINT_TITLE: &str = "mfa-session: YubiKey";

/// A prompt driver, as named by `--prompt`, `MFA_SESSION_PROMPT` and `mfa_prompt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PromptKind {
    /// The terminal if there is one, else a zenity/kdialog dialog on a graphical desktop, else
    /// osascript on macOS.
    Auto,
    /// Only the terminal (/dev/tty).
    Terminal,
    /// A GTK password dialog (zenity --entry --hide-text).
    Zenity,
    /// A KDE password dialog (kdialog --password).
    Kdialog,
    /// A macOS dialog (osascript: display dialog with hidden answer).
    Osascript,
    /// The code of a YubiKey OATH account (mfa_ykman_account), with a touch hint.
    Ykman,
}

impl PromptKind {
    pub const NAMES: &'static str = "auto, terminal, zenity, kdialog, osascript, ykman";

    pub fn name(self) -> &'static str {
        match self {
            PromptKind::Auto => "auto",
            PromptKind::Terminal => "terminal",
            PromptKind::Zenity => "zenity",
            PromptKind::Kdialog => "kdialog",
            PromptKind::Osascript => "osascript",
            PromptKind::Ykman => "ykman",
        }
    }

    /// A name from the environment or a file; `origin` says where it was written.
    pub fn parse(value: &str, origin: &str) -> Result<PromptKind, MfaError> {
        <PromptKind as clap::ValueEnum>::from_str(value.trim(), true).map_err(|_| {
            MfaError::UnknownPrompt {
                value: crate::text::untrusted(&format!("{value:?}")),
                origin: origin.to_string(),
            }
        })
    }
}

/// What was configured about the prompt of one login.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PromptConfig {
    /// The driver asked for, and where (`--prompt`, `MFA_SESSION_PROMPT`, `mfa_prompt in …`).
    pub kind: Option<(PromptKind, String)>,
    /// `mfa_ykman_account`: the YubiKey OATH account whose code is used.
    pub ykman_account: Option<String>,
}

/// What the machine offers besides a terminal (which is found by opening it).
#[derive(Clone, Debug, Default)]
pub struct Desktop {
    /// `DISPLAY` or `WAYLAND_DISPLAY` is set.
    pub graphical: bool,
    /// `PATH`, to find the dialog programs.
    pub path: Option<OsString>,
    /// macOS, where osascript shows dialogs.
    pub macos: bool,
}

impl Desktop {
    pub fn from_env(env: &Env) -> Desktop {
        Desktop {
            graphical: env.display,
            path: env.path.clone(),
            macos: cfg!(target_os = "macos"),
        }
    }

    /// `program` on `PATH`, as an executable file.
    pub fn find(&self, program: &str) -> Option<PathBuf> {
        crate::env::find_on_path(self.path.as_deref(), program)
    }

    /// The dialog driver `kind`, or why it cannot be used here.
    fn dialog(&self, kind: PromptKind) -> Result<Dialog, String> {
        let program = kind.name();
        let needs_display = kind != PromptKind::Osascript;
        if needs_display && !self.graphical {
            return Err("no graphical session (DISPLAY and WAYLAND_DISPLAY are not set)".into());
        }
        let found = self.find(program).or_else(|| {
            let fixed = Path::new("/usr/bin/osascript");
            (kind == PromptKind::Osascript && crate::env::is_executable(fixed))
                .then(|| fixed.to_path_buf())
        });
        match found {
            Some(program) => Ok(Dialog { kind, program }),
            None => Err(format!("{program} is not installed (not found on PATH)")),
        }
    }

    /// The dialog `auto` uses when there is no terminal.
    fn auto_dialog(&self) -> Option<Dialog> {
        let mut kinds = vec![PromptKind::Zenity, PromptKind::Kdialog];
        if self.macos {
            kinds.insert(0, PromptKind::Osascript);
        }
        kinds.into_iter().find_map(|k| self.dialog(k).ok())
    }
}

/// The person to ask, as configured; `None` when nobody can be asked (no terminal and no
/// dialog under `auto`). A driver asked for by name that cannot work here is an error, except
/// that a dialog asked for outside a graphical session falls back to the terminal.
pub fn open(config: &PromptConfig, desktop: &Desktop) -> Result<Option<Box<dyn Prompt>>, MfaError> {
    let (kind, origin) = config
        .kind
        .clone()
        .unwrap_or((PromptKind::Auto, "the default".into()));
    match kind {
        PromptKind::Auto => Ok(auto(desktop)),
        PromptKind::Terminal => Ok(terminal()),
        PromptKind::Zenity | PromptKind::Kdialog | PromptKind::Osascript => {
            match desktop.dialog(kind) {
                Ok(d) => Ok(Some(Box::new(d))),
                Err(why) => match terminal() {
                    Some(t) => {
                        tracing::info!("not using {} ({why}); asking on the terminal", kind.name());
                        Ok(Some(t))
                    }
                    None => Err(MfaError::PromptUnavailable {
                        prompt: kind.name(),
                        origin,
                        why,
                    }),
                },
            }
        }
        PromptKind::Ykman => {
            let account = config
                .ykman_account
                .clone()
                .filter(|a| !a.trim().is_empty())
                .ok_or_else(|| MfaError::PromptUnavailable {
                    prompt: "ykman",
                    origin: origin.clone(),
                    why: "mfa_ykman_account (the YubiKey OATH account, as `ykman oath accounts \
                          list` shows it) is not set in the profile"
                        .into(),
                })?;
            let program = desktop
                .find("ykman")
                .ok_or_else(|| MfaError::PromptUnavailable {
                    prompt: "ykman",
                    origin,
                    why: "ykman is not installed (not found on PATH)".into(),
                })?;
            Ok(Some(Box::new(Ykman {
                program,
                account,
                desktop: desktop.clone(),
                chooser: auto(desktop),
            })))
        }
    }
}

fn terminal() -> Option<Box<dyn Prompt>> {
    Terminal::open().map(|t| Box::new(t) as Box<dyn Prompt>)
}

/// The terminal first; without one, a dialog.
fn auto(desktop: &Desktop) -> Option<Box<dyn Prompt>> {
    terminal().or_else(|| {
        desktop
            .auto_dialog()
            .map(|d| Box::new(d) as Box<dyn Prompt>)
    })
}

/// A password dialog of zenity, kdialog or osascript.
#[derive(Debug)]
pub struct Dialog {
    kind: PromptKind,
    program: PathBuf,
}

/// Text for Pango markup (zenity's --text).
fn markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Dialog {
    /// The command asking for a hidden answer with `text`. The answer comes back on stdout.
    fn entry(&self, text: &str) -> Command {
        let mut c = Command::new(&self.program);
        match self.kind {
            PromptKind::Zenity => {
                c.args(["--entry", "--hide-text", "--title", DIALOG_TITLE, "--text"])
                    .arg(markup(text));
            }
            PromptKind::Kdialog => {
                c.args(["--title", DIALOG_TITLE, "--password"]).arg(text);
            }
            _ => {
                c.args([
                    "-e",
                    "on run argv",
                    "-e",
                    &format!(
                        "set r to display dialog (item 1 of argv) default answer \"\" with \
                         hidden answer with title \"{DIALOG_TITLE}\" giving up after {}",
                        DIALOG_TIMEOUT.as_secs()
                    ),
                    "-e",
                    "if gave up of r then error number -128",
                    "-e",
                    "return text returned of r",
                    "-e",
                    "end run",
                ])
                .arg(text);
            }
        }
        c
    }

    /// The command offering `devices` to choose from. The choice comes back on stdout.
    fn list(&self, text: &str, devices: &[String]) -> Command {
        let mut c = Command::new(&self.program);
        match self.kind {
            PromptKind::Zenity => {
                c.args(["--list", "--title", DIALOG_TITLE, "--text"])
                    .arg(markup(text))
                    .args(["--column", "MFA device"])
                    .args(devices);
            }
            PromptKind::Kdialog => {
                c.args(["--title", DIALOG_TITLE, "--combobox"])
                    .arg(text)
                    .args(devices);
            }
            _ => {
                c.args([
                    "-e",
                    "on run argv",
                    "-e",
                    &format!(
                        "set r to choose from list (rest of argv) with prompt (item 1 of argv) \
                         with title \"{DIALOG_TITLE}\""
                    ),
                    "-e",
                    "if r is false then error number -128",
                    "-e",
                    "return item 1 of r",
                    "-e",
                    "end run",
                ])
                .arg(text)
                .args(devices);
            }
        }
        c
    }

    /// Runs a dialog to its answer (stdout, one line). Cancel or closing the window:
    /// [`MfaError::DialogCancelled`].
    fn run(&self, cmd: Command) -> Result<Secret, MfaError> {
        let prompt = self.kind.name();
        let ran = run_bounded(cmd, DIALOG_TIMEOUT, ChildStderr::Capture)
            .map_err(|e| run_error(prompt, e, DIALOG_TIMEOUT))?;
        if ran.status.success() {
            let text = String::from_utf8_lossy(&ran.stdout);
            let answer = text.lines().next().unwrap_or("").trim().to_string();
            return Ok(Secret::new(answer));
        }
        let stderr = String::from_utf8_lossy(&ran.stderr).to_ascii_lowercase();
        // Every driver exits 1 on Cancel, Escape or closing the window (osascript: error -128);
        // zenity and kdialog also exit 1 when they cannot open the display, which says so.
        if ran.status.code() == Some(1) && !stderr.contains("display") {
            return Err(MfaError::DialogCancelled { prompt });
        }
        Err(failed(prompt, &ran))
    }
}

fn run_error(prompt: &'static str, e: RunError, limit: Duration) -> MfaError {
    match e {
        RunError::Spawn(cause) => MfaError::PromptFailed {
            prompt,
            why: format!("could not be started: {cause}"),
        },
        RunError::Timeout => MfaError::PromptTimeout {
            prompt,
            seconds: limit.as_secs(),
        },
    }
}

/// A failed run, with the last line it wrote on stderr (escaped) as the reason.
fn failed(prompt: &'static str, ran: &Ran) -> MfaError {
    let stderr = String::from_utf8_lossy(&ran.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!(": {}", crate::text::untrusted(l.trim())))
        .unwrap_or_default();
    MfaError::PromptFailed {
        prompt,
        why: format!("exited with {}{last}", ran.status),
    }
}

impl Prompt for Dialog {
    fn describe(&self) -> String {
        format!(
            "you, in a {} dialog ({})",
            self.kind.name(),
            self.program.display()
        )
    }

    fn read_code(&mut self, serial: &str, again: bool) -> Result<Secret, MfaError> {
        let mut note = again.then(|| "AWS rejected that code; wait for the next one.".to_string());
        let mut last = None;
        for _ in 0..3 {
            let question = format!("MFA code for {serial}:");
            let text = match &note {
                Some(n) => format!("{n}\n\n{question}"),
                None => question,
            };
            let answer = self.run(self.entry(&text))?;
            match validate_code(answer.expose()) {
                Ok(code) => return Ok(code),
                Err(e) => {
                    note = Some(e.to_string());
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or(MfaError::Cancelled))
    }

    fn choose(&mut self, devices: &[String]) -> Result<String, MfaError> {
        let answer = self.run(self.list(
            "Several MFA devices are enabled for this user. Use which one?",
            devices,
        ))?;
        devices
            .iter()
            .find(|d| d.as_str() == answer.expose())
            .cloned()
            .ok_or(MfaError::DialogCancelled {
                prompt: self.kind.name(),
            })
    }
}

/// The code of a YubiKey OATH account, read with ykman.
pub struct Ykman {
    program: PathBuf,
    account: String,
    desktop: Desktop,
    /// Who chooses among several devices (ykman cannot).
    chooser: Option<Box<dyn Prompt>>,
}

impl Ykman {
    fn code(&self, serial: &str) -> Result<Secret, MfaError> {
        let mut cmd = Command::new(&self.program);
        cmd.args(["oath", "accounts", "code", "--single"])
            .arg(&self.account);
        let hint = Hint::start(
            format!(
                "Touch your YubiKey (mfa-session needs the code of {} for {serial})",
                self.account
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

    fn read_code(&mut self, serial: &str, again: bool) -> Result<Secret, MfaError> {
        if again {
            // The key gives the same code until the next 30-second step starts.
            let wait = super::next_window_in(
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
        self.code(serial)
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

/// The "touch your YubiKey" hint, shown if ykman is still running after [`HINT_DELAY`] and
/// taken down when it is done.
struct Hint {
    done: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Hint {
    fn start(text: String, desktop: Desktop) -> Hint {
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
    fn finish(self) {
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_any_case_and_unknown_ones_say_where() {
        assert_eq!(
            PromptKind::parse(" Zenity ", "x").unwrap(),
            PromptKind::Zenity
        );
        for k in [
            PromptKind::Auto,
            PromptKind::Terminal,
            PromptKind::Zenity,
            PromptKind::Kdialog,
            PromptKind::Osascript,
            PromptKind::Ykman,
        ] {
            assert_eq!(PromptKind::parse(k.name(), "x").unwrap(), k);
            assert!(PromptKind::NAMES.contains(k.name()));
        }
        let e = PromptKind::parse("gui\n", "mfa_prompt in [profile p]").unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("mfa_prompt in [profile p]") && !e.contains('\n'),
            "{e}"
        );
    }

    #[test]
    fn dialogs_need_a_display_and_the_program() {
        let dir = tempfile::tempdir().unwrap();
        let zenity = dir.path().join("zenity");
        std::fs::write(&zenity, "#!/bin/sh\n").unwrap();
        crate::sys::fs::set_mode_at(&zenity, 0o755).unwrap();
        let desktop = Desktop {
            graphical: true,
            path: Some(dir.path().as_os_str().to_owned()),
            macos: false,
        };
        assert_eq!(desktop.auto_dialog().unwrap().kind, PromptKind::Zenity);
        assert!(desktop.dialog(PromptKind::Kdialog).is_err());
        let headless = Desktop {
            graphical: false,
            ..desktop
        };
        assert!(headless.auto_dialog().is_none());
    }

    /// An executable script in `dir`.
    fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        crate::sys::fs::set_mode_at(&p, 0o755).unwrap();
        p
    }

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
        let mut d = Dialog {
            kind: PromptKind::Kdialog,
            program,
        };
        let code = d.read_code("arn:x", false).unwrap();
        assert_eq!(code.expose(), "654321");
        let argv = std::fs::read_to_string(&args).unwrap();
        assert_eq!(argv.matches("--password").count(), 2, "{argv}");
        assert!(
            argv.contains("exactly 6 digits") && !argv.contains("654321"),
            "{argv}"
        );
        std::fs::write(dir.path().join("cancel"), "").unwrap();
        assert!(matches!(
            d.read_code("arn:x", true),
            Err(MfaError::DialogCancelled { prompt: "kdialog" })
        ));
    }

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
        assert_eq!(y.read_code("s", false).unwrap().expose(), "012345");
        y.program = script(
            dir.path(),
            "ykman2",
            "#!/bin/sh\necho 'Error: No YubiKey detected!' >&2\nexit 2\n",
        );
        let e = y.read_code("s", false).unwrap_err();
        assert!(matches!(e, MfaError::PromptFailed { .. }), "{e}");
        assert!(e.to_string().contains("No YubiKey detected"), "{e}");
        assert!(matches!(
            y.choose(&["a".into(), "b".into()]),
            Err(MfaError::CannotChoose { count: 2, .. })
        ));
    }

    #[test]
    fn dialog_text_is_markup_escaped_and_holds_no_code() {
        let d = Dialog {
            kind: PromptKind::Zenity,
            program: "zenity".into(),
        };
        let c = d.entry("a <b> & c");
        let args: Vec<_> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(
            args.contains(&"a &lt;b&gt; &amp; c".to_string()),
            "{args:?}"
        );
        assert!(args.contains(&"--hide-text".to_string()));
    }
}
