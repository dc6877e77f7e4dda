//! The prompt drivers: who asks the person for a code when no code is given and no
//! non-interactive source is configured. This file holds what they share: the [`Prompt`] trait
//! each driver implements, the choice of driver ([`PromptKind`], [`open`]), the number of asks
//! ([`ASKS`]), the bound and the Cancel rule of the dialogs ([`DIALOG_TIMEOUT`]); each driver
//! has its own file.
//!
//! - `terminal`: `/dev/tty` ([`Terminal`], `terminal.rs`).
//! - `zenity`, `kdialog` (Linux and BSD desktops), `osascript` (macOS): a password dialog run as
//!   a child process (`zenity.rs`, `kdialog.rs`, `osascript.rs`). The code comes back on the
//!   child's stdout, never through its argv; the child is bounded by [`DIALOG_TIMEOUT`] like an
//!   `mfa_process` (own process group, killed whole at the limit). Cancel is
//!   [`MfaError::DialogCancelled`], and nothing is sent to AWS.
//! - `credui` (Windows): Windows' credentials dialog, shown by this executable run as a child
//!   (`mfa-session credui-dialog`) so that it is bounded and answers on a pipe like the others
//!   (`credui.rs`).
//! - `ykman`: `ykman oath accounts code --single ACCOUNT` reads the code off a YubiKey
//!   (`ykman.rs`). When the credential needs a touch, ykman waits for it; the hint "Touch your
//!   YubiKey" is shown where the person sees it even when our stdout and stderr are captured
//!   (`credential_process`): on the controlling terminal if there is one, else as a desktop
//!   notification (`notify-send`), else in a zenity/kdialog window that closes when ykman is
//!   done (`touch_hint.rs`).
//!
//! `auto` (the default): the terminal when there is one; else, in a graphical session
//! (`DISPLAY` or `WAYLAND_DISPLAY`), zenity or kdialog found on `PATH`; else, on macOS,
//! osascript; on Windows, the console when there is one, else CredUI. Chosen by `--prompt`,
//! else `MFA_SESSION_PROMPT`, else `mfa_prompt` in the profile.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{MfaError, validate_code};
use crate::env::Env;
use crate::session::Secret;
use crate::sys::run::{ChildStderr, Ran, RunError, run_bounded};

mod credui;
mod kdialog;
mod osascript;
mod terminal;
mod touch_hint;
mod ykman;
mod zenity;

pub use credui::Credui;
pub use kdialog::Kdialog;
pub use osascript::Osascript;
pub use terminal::Terminal;
pub use touch_hint::HINT_TITLE;
pub use ykman::Ykman;
pub use zenity::Zenity;

/// How long a dialog may stay open before it is closed (a person reads a code off a phone in
/// far less; nothing may wait forever).
pub const DIALOG_TIMEOUT: Duration = Duration::from_secs(120);

/// The window title of the code dialogs.
pub const DIALOG_TITLE: &str = "mfa-session: MFA code";

/// How many times a person is asked for a code (or, at the terminal, a device) before the
/// prompt gives up with the last fault.
pub const ASKS: usize = 3;

/// Whom a code is for: the profile logging in and its MFA device, so that a person with
/// several profiles (and a prompt from an IDE or a cron-less `credential_process`) knows which
/// login is asking. Shown as `profile dev (arn:aws:iam::123456789012:mfa/alice)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeFor<'a> {
    /// The profile asked for (a role profile's own name, not its source's).
    pub profile: &'a str,
    /// The MFA device's serial.
    pub serial: &'a str,
}

impl std::fmt::Display for CodeFor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Profile names are checked (letters, digits, a few signs); a serial comes from a file.
        write!(
            f,
            "profile {} ({})",
            self.profile,
            crate::text::untrusted(self.serial)
        )
    }
}

impl CodeFor<'_> {
    /// The question of every prompt that asks a person: `MFA code for profile P (SERIAL):`.
    pub fn question(&self) -> String {
        format!("MFA code for {self}:")
    }
}

/// A person who can be asked for a code or a choice: the terminal, a dialog, a YubiKey.
pub trait Prompt {
    /// A code for `to` (the profile and its device); `again` after AWS rejected the previous
    /// one.
    fn read_code(&mut self, to: CodeFor<'_>, again: bool) -> Result<Secret, MfaError>;
    /// One of several devices.
    fn choose(&mut self, devices: &[String]) -> Result<String, MfaError>;
    /// Who is asked, for `doctor`: "you, at this terminal", "a zenity dialog", ….
    fn describe(&self) -> String;
}

/// A prompt driver, as named by `--prompt`, `MFA_SESSION_PROMPT` and `mfa_prompt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PromptKind {
    /// The terminal if there is one, else a zenity/kdialog dialog on a graphical desktop, else
    /// osascript on macOS; on Windows the console, else CredUI.
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
    /// Windows' credentials dialog (CredUI), with the code in its hidden field.
    Credui,
}

impl PromptKind {
    pub const NAMES: &'static str = "auto, terminal, zenity, kdialog, osascript, ykman, credui";

    pub fn name(self) -> &'static str {
        match self {
            PromptKind::Auto => "auto",
            PromptKind::Terminal => "terminal",
            PromptKind::Zenity => "zenity",
            PromptKind::Kdialog => "kdialog",
            PromptKind::Osascript => "osascript",
            PromptKind::Ykman => "ykman",
            PromptKind::Credui => "credui",
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
    /// Windows, where CredUI shows dialogs (through this executable, `credui-dialog`).
    pub credui: Option<PathBuf>,
}

impl Desktop {
    pub fn from_env(env: &Env) -> Desktop {
        Desktop {
            graphical: env.display,
            path: env.path.clone(),
            macos: crate::sys::MACOS,
            credui: crate::sys::dialog::AVAILABLE
                .then(|| std::env::current_exe().ok())
                .flatten(),
        }
    }

    /// `program` on `PATH`, as an executable file.
    pub fn find(&self, program: &str) -> Option<PathBuf> {
        crate::env::find_on_path(self.path.as_deref(), program)
    }

    /// The dialog driver `kind`, or why it cannot be used here.
    fn dialog(&self, kind: PromptKind) -> Result<FoundDialog, String> {
        let program = kind.name();
        if kind == PromptKind::Credui {
            return match &self.credui {
                Some(exe) => Ok(FoundDialog {
                    kind,
                    program: exe.clone(),
                }),
                None => Err("CredUI is Windows' dialog; this is not Windows".into()),
            };
        }
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
            Some(program) => Ok(FoundDialog { kind, program }),
            None => Err(format!("{program} is not installed (not found on PATH)")),
        }
    }

    /// The dialog `auto` uses when there is no terminal.
    fn auto_dialog(&self) -> Option<FoundDialog> {
        let kinds: &[PromptKind] = if self.credui.is_some() {
            &[PromptKind::Credui]
        } else if self.macos {
            &[
                PromptKind::Osascript,
                PromptKind::Zenity,
                PromptKind::Kdialog,
            ]
        } else {
            &[PromptKind::Zenity, PromptKind::Kdialog]
        };
        kinds.iter().find_map(|&k| self.dialog(k).ok())
    }
}

/// A dialog program found on this machine: zenity, kdialog, osascript, or this executable
/// showing CredUI.
#[derive(Debug)]
struct FoundDialog {
    kind: PromptKind,
    program: PathBuf,
}

impl FoundDialog {
    /// The driver of this program.
    fn into_prompt(self) -> Box<dyn Prompt> {
        match self.kind {
            PromptKind::Zenity => Box::new(Zenity::new(self.program)),
            PromptKind::Kdialog => Box::new(Kdialog::new(self.program)),
            PromptKind::Credui => Box::new(Credui::new(self.program)),
            // Only the four dialog kinds are ever found ([`Desktop::dialog`]).
            _ => Box::new(Osascript::new(self.program)),
        }
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
        PromptKind::Zenity | PromptKind::Kdialog | PromptKind::Osascript | PromptKind::Credui => {
            match desktop.dialog(kind) {
                Ok(d) => Ok(Some(d.into_prompt())),
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
            Ok(Some(Box::new(Ykman::new(
                program,
                account,
                desktop.clone(),
                auto(desktop),
            ))))
        }
    }
}

fn terminal() -> Option<Box<dyn Prompt>> {
    Terminal::open().map(|t| Box::new(t) as Box<dyn Prompt>)
}

/// The terminal first; without one, a dialog.
fn auto(desktop: &Desktop) -> Option<Box<dyn Prompt>> {
    terminal().or_else(|| desktop.auto_dialog().map(FoundDialog::into_prompt))
}

/// What sets one password dialog program apart (its name, its path, the commands that ask for
/// hidden text and for a choice); what they share (the questions, the bound, telling Cancel
/// from a failure) is given here, and each driver's [`Prompt`] uses it.
/// Every dialog is a [`Prompt`] through the shared question loop below.
impl<D: Dialog> Prompt for D {
    fn describe(&self) -> String {
        self.describe_dialog()
    }

    fn read_code(&mut self, to: CodeFor<'_>, again: bool) -> Result<Secret, MfaError> {
        self.ask_code(to, again)
    }

    fn choose(&mut self, devices: &[String]) -> Result<String, MfaError> {
        self.ask_choice(devices)
    }
}

trait Dialog {
    /// The driver, for messages.
    const KIND: PromptKind;

    /// The program run.
    fn program(&self) -> &Path;

    /// The command asking for a hidden answer with `text`. The answer comes back on stdout.
    fn entry(&self, text: &str) -> Command;

    /// The command offering `devices` to choose from. The choice comes back on stdout.
    fn list(&self, text: &str, devices: &[String]) -> Command;

    /// [`Prompt::describe`] of a dialog.
    fn describe_dialog(&self) -> String {
        format!(
            "you, in a {} dialog ({})",
            Self::KIND.name(),
            self.program().display()
        )
    }

    /// [`Prompt::read_code`] of a dialog: the question again (with what was wrong) until an
    /// answer has the shape of a code, [`ASKS`] times at most.
    fn ask_code(&self, to: CodeFor<'_>, again: bool) -> Result<Secret, MfaError> {
        let mut note = again.then(|| "AWS rejected that code; wait for the next one.".to_string());
        let mut last = None;
        for _ in 0..ASKS {
            let question = to.question();
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

    /// [`Prompt::choose`] of a dialog.
    fn ask_choice(&self, devices: &[String]) -> Result<String, MfaError> {
        let answer = self.run(self.list(
            "Several MFA devices are enabled for this user. Use which one?",
            devices,
        ))?;
        devices
            .iter()
            .find(|d| d.as_str() == answer.expose())
            .cloned()
            .ok_or(MfaError::DialogCancelled {
                prompt: Self::KIND.name(),
            })
    }

    /// Runs a dialog to its answer (stdout, one line). Cancel or closing the window:
    /// [`MfaError::DialogCancelled`].
    fn run(&self, cmd: Command) -> Result<Secret, MfaError> {
        let prompt = Self::KIND.name();
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
            credui: None,
        };
        assert_eq!(desktop.auto_dialog().unwrap().kind, PromptKind::Zenity);
        assert!(desktop.dialog(PromptKind::Kdialog).is_err());
        let headless = Desktop {
            graphical: false,
            ..desktop
        };
        assert!(headless.auto_dialog().is_none());
    }

    /// An executable script in `dir` (the drivers' tests run scripts in place of the programs).
    ///
    /// Written by a child `sh`, not by this process: a test on another thread that forks while
    /// this process holds the file open for writing passes that descriptor to its child until
    /// the child's exec, and running the script meanwhile fails with "Text file busy"
    /// (ETXTBSY).
    pub(super) fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        let status = std::process::Command::new("sh")
            .args(["-c", r#"printf '%s' "$2" > "$1""#, "sh"])
            .arg(&p)
            .arg(text)
            .status()
            .unwrap();
        assert!(status.success(), "writing {} failed: {status}", p.display());
        crate::sys::fs::set_mode_at(&p, 0o755).unwrap();
        p
    }
}
