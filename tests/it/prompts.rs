//! The prompt drivers through the binary, with real parts: a real zenity on a real X server
//! (Xvfb, started by each test) typed into by xdotool as a person would, the real AWS CLI
//! running `credential-process` with no terminal, and a YubiKey stood in for by a `ykman` script
//! that waits like a key waiting for a touch. The emulator's call log proves what reached STS.

use crate::common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Home, IamUser, bin, calls};

const DIALOG: &str = "^mfa-session: MFA code$";
const HINT: &str = "^mfa-session: YubiKey$";

fn on_path(program: &str) -> bool {
    std::env::split_paths(&std::env::var_os("PATH").unwrap()).any(|d| d.join(program).is_file())
}

/// A private X server for one test; stopped on drop. Fails loudly when Xvfb, zenity or xdotool
/// are missing (`scripts/setup-test-env` installs them).
pub(crate) struct Xvfb {
    child: Child,
    pub(crate) display: String,
}

impl Xvfb {
    pub(crate) fn start() -> Xvfb {
        for tool in ["Xvfb", "zenity", "xdotool"] {
            assert!(
                on_path(tool),
                "{tool} is needed for the GUI prompt tests: run scripts/setup-test-env"
            );
        }
        // -displayfd: Xvfb picks a free display number and prints it when it accepts clients.
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "800x600x24",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is needed for the GUI prompt tests: run scripts/setup-test-env");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let n: u32 = match line.trim().parse() {
            Ok(n) => n,
            Err(_) => {
                let _ = child.kill();
                panic!("Xvfb did not start (printed {line:?} for its display number)");
            }
        };
        let x = Xvfb {
            child,
            display: format!(":{n}"),
        };
        // A client must get in before the test goes on: a dialog that could not open the
        // display would fail the test for the harness's sake (seen once under load).
        let deadline = Instant::now() + Duration::from_secs(10);
        while !x.xdotool(&["getdisplaygeometry"]).status.success() {
            assert!(
                Instant::now() < deadline,
                "Xvfb said {} but takes no client",
                x.display
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        x
    }

    pub(crate) fn xdotool(&self, args: &[&str]) -> Output {
        Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .unwrap()
    }

    /// The windows whose title matches `title` (a regex).
    pub(crate) fn windows(&self, title: &str) -> Vec<String> {
        let out = self.xdotool(&["search", "--name", title]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The process showing `window` (its _NET_WM_PID), if it says.
    pub(crate) fn pid_of(&self, window: &str) -> Option<String> {
        let out = self.xdotool(&["getwindowpid", window]);
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !pid.is_empty()).then_some(pid)
    }

    /// Waits for a window titled `title` shown by a process that is none of `seen` (a dialog
    /// asked again is a new process; X may give its window the same id); fails the test if
    /// `child` ends first or nothing comes within 30 s. Returns the window and its pid.
    pub(crate) fn wait_window(
        &self,
        title: &str,
        seen: &[String],
        child: &mut Child,
    ) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = self
                .windows(title)
                .into_iter()
                .filter_map(|w| self.pid_of(&w).map(|pid| (w, pid)))
                .find(|(_, pid)| !seen.contains(pid))
            {
                return found;
            }
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!("no {title} window: the process ended first with {status}: {err}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("no {title} window within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types `text` into `window` and presses Return, as a person would.
    pub(crate) fn type_into(&self, window: &str, text: &str) {
        let _ = self.xdotool(&["windowfocus", window]);
        // GTK needs a moment after mapping before it takes keys.
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            self.xdotool(&["type", "--delay", "30", text])
                .status
                .success()
        );
        assert!(self.xdotool(&["key", "Return"]).status.success());
    }

    /// The argv of process `pid`.
    pub(crate) fn argv_of(&self, pid: &str) -> String {
        let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        String::from_utf8_lossy(&raw).replace('\0', " ")
    }
}

impl Drop for Xvfb {
    /// SIGTERM first, so the server removes its socket and lock before the next test's Xvfb
    /// looks for a free display; SIGKILL only if it does not end within 5 s.
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.wait();
    }
}

/// A user with an MFA device, its keys in `[work-long-term]` (plus `extra` lines) and no
/// session yet; `[profile work-mfa]` runs credential-process for `work` with `flags`.
fn setup(home: &Home, moto: &str, extra: &str, flags: &str) -> IamUser {
    let user = common::provision_user(moto);
    home.write_credentials(&format!(
        "[work-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\nmfa_serial = {}\n{extra}",
        user.access_key_id, user.secret_access_key, user.serial
    ));
    home.write_config(&format!(
        "[profile work-mfa]\nregion = us-east-1\ncredential_process = {} credential-process --profile work{flags}\n",
        bin().display()
    ));
    user
}

/// `program args` as an IDE or a build tool starts it: no controlling terminal (`setsid`),
/// stdin closed, stdout and stderr captured, `DISPLAY` as given.
fn no_terminal(
    home: &Home,
    moto: &str,
    display: Option<&str>,
    path: &str,
    program: &Path,
    args: &[&str],
) -> Child {
    let mut c = Command::new("setsid");
    c.arg("-w")
        .arg(program)
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", path)
        .env("AWS_ENDPOINT_URL", moto)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = display {
        c.env("DISPLAY", d);
    }
    c.spawn().unwrap()
}

/// The AWS CLI asking who we are with the credential_process profile.
fn aws_cli(home: &Home, moto: &str, display: Option<&str>, path: &str) -> Child {
    no_terminal(
        home,
        moto,
        display,
        path,
        &common::venv().join("bin/aws"),
        &["sts", "get-caller-identity", "--profile", "work-mfa"],
    )
}

/// Waits at most 60 s for `child` and returns its output.
fn finish(mut child: Child) -> Output {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "did not end within 60 s: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn system_path() -> String {
    std::env::var("PATH").unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---- zenity ---------------------------------------------------------------------------------

#[test]
fn credential_process_without_a_terminal_asks_in_a_zenity_dialog() {
    let x = Xvfb::start();
    let moto = common::moto();
    let home = Home::new();
    let user = setup(&home, &moto, "", "");
    let mut aws = aws_cli(&home, &moto, Some(&x.display), &system_path());

    // A bad shape first: validated before any call, and asked again with the reason.
    let (first, first_pid) = x.wait_window(DIALOG, &[], &mut aws);
    let argv = x.argv_of(&first_pid);
    assert!(
        argv.contains("zenity") && argv.contains("--hide-text") && argv.contains(&user.serial),
        "{argv}"
    );
    // The dialog says which profile (and device) the code is for.
    let question = format!("MFA code for profile work ({}):", user.serial);
    assert!(argv.contains(&question), "{argv}");
    x.type_into(&first, "12ab");
    let (second, second_pid) = x.wait_window(DIALOG, &[first_pid], &mut aws);
    let argv = x.argv_of(&second_pid);
    assert!(argv.contains("exactly 6 digits"), "{argv}");
    assert!(!argv.contains("12ab"), "{argv}");
    assert_eq!(calls(&user, "GetSessionToken"), 0);

    let code = common::totp_now(&user.seed);
    x.type_into(&second, &code);
    let out = finish(aws);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&user.name),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(calls(&user, "GetSessionToken"), 1);
    // The code reached us on the dialog's stdout: it is in no dialog's argv, and the session
    // was written.
    assert!(!argv.contains(&code));
    let session = common::profile(&home.read_credentials(), "work");
    assert!(session["aws_session_token"].len() > 10);
}

#[test]
fn a_code_aws_rejects_is_asked_again_in_a_new_dialog() {
    let x = Xvfb::start();
    let moto = common::moto();
    let home = Home::new();
    let user = setup(&home, &moto, "", "");
    let mut child = no_terminal(
        &home,
        &moto,
        Some(&x.display),
        &system_path(),
        &bin(),
        &["login", "--profile", "work", "--prompt", "zenity"],
    );
    let (first, first_pid) = x.wait_window(DIALOG, &[], &mut child);
    // Six digits, but not the code of this step or the ones around it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let near: Vec<String> = [now - 30, now, now + 30, now + 60]
        .iter()
        .map(|t| common::totp_at(&user.seed, *t))
        .collect();
    let wrong = (0..10)
        .map(|d| format!("{d}{d}{d}{d}{d}{d}"))
        .find(|c| !near.contains(c))
        .unwrap();
    x.type_into(&first, &wrong);
    let (second, second_pid) = x.wait_window(DIALOG, &[first_pid], &mut child);
    let argv = x.argv_of(&second_pid);
    assert!(argv.contains("AWS rejected that code"), "{argv}");
    assert!(!argv.contains(&wrong), "{argv}");
    x.type_into(&second, &common::totp_now(&user.seed));
    let out = finish(child);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(calls(&user, "GetSessionToken"), 2);
}

#[test]
fn cancelling_the_dialog_fails_with_exit_8_and_calls_nothing() {
    let x = Xvfb::start();
    let moto = common::moto();
    let home = Home::new();
    let user = setup(&home, &moto, "", "");
    let mut child = no_terminal(
        &home,
        &moto,
        Some(&x.display),
        &system_path(),
        &bin(),
        &[
            "credential-process",
            "--profile",
            "work",
            "--prompt",
            "zenity",
        ],
    );
    let (w, _) = x.wait_window(DIALOG, &[], &mut child);
    std::thread::sleep(Duration::from_millis(300));
    let _ = x.xdotool(&["windowfocus", &w]);
    assert!(x.xdotool(&["key", "Escape"]).status.success());
    let out = finish(child);
    assert_eq!(out.status.code(), Some(8), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("the MFA dialog (zenity) was cancelled"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert_eq!(calls(&user, "GetSessionToken"), 0);
    assert!(!home.read_credentials().contains("aws_session_token"));
}

/// Issue 20, 4: SIGTERM to mfa-session while its zenity dialog is open closes the dialog too
/// (its process group is killed) before mfa-session dies of the signal.
#[test]
fn sigterm_while_a_dialog_is_open_closes_it() {
    use std::os::unix::process::ExitStatusExt;
    let x = Xvfb::start();
    let moto = common::moto();
    let home = Home::new();
    let user = setup(&home, &moto, "", "");
    let mut child = no_terminal(
        &home,
        &moto,
        Some(&x.display),
        &system_path(),
        &bin(),
        &["export", "--profile", "work", "--prompt", "zenity"],
    );
    let (_, dialog) = x.wait_window(DIALOG, &[], &mut child);
    let dialog: u32 = dialog.parse().unwrap();
    let mfa = common::under_setsid(child.id());
    unsafe { libc::kill(mfa as i32, libc::SIGTERM) };
    let out = finish(child);
    assert!(
        out.status.code() == Some(143) || out.status.signal() == Some(libc::SIGTERM),
        "{:?}",
        out.status
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{dialog}/stat")).unwrap_or_default();
        let state = stat.rsplit(')').next().unwrap_or("").trim_start();
        if stat.is_empty() || state.starts_with('Z') {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the zenity dialog {dialog} is still open"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The X server drops the window once it has seen the client's connection close.
    while !x.windows(DIALOG).is_empty() {
        assert!(Instant::now() < deadline, "the dialog is still on screen");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(calls(&user, "GetSessionToken"), 0);
}

#[test]
fn a_configured_dialog_that_cannot_run_says_why() {
    let moto = common::moto();
    let home = Home::new();
    setup(&home, &moto, "mfa_prompt = kdialog\n", "");
    // No terminal and no graphical session: nobody to show kdialog to.
    let out = home.no_tty(&moto, &["credential-process", "--profile", "work"]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("kdialog") && err.contains("mfa_prompt in [work-long-term]"),
        "{err}"
    );
    // A name that is no prompt: a usage error naming where it was written.
    let home = Home::new();
    setup(&home, &moto, "", "");
    home.write_config("[profile work]\nmfa_prompt = gui\n");
    let out = home.no_tty(&moto, &["credential-process", "--profile", "work"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("[profile work] of the config file"),
        "{}",
        text(&out.stderr)
    );
}

// ---- ykman ----------------------------------------------------------------------------------

/// A directory with a fake `ykman` that checks its arguments, logs them, waits `wait` (a key
/// waiting for a touch) and prints the current code of `user`'s device, as
/// `ykman oath accounts code --single ACCOUNT` does.
fn fake_ykman(home: &Home, user: &IamUser, wait: &str) -> PathBuf {
    let dir = home.path().join("fakebin");
    std::fs::create_dir_all(&dir).unwrap();
    let seed = home.path().join("seed");
    std::fs::write(&seed, &user.seed).unwrap();
    let script = format!(
        "#!/bin/sh\n\
         echo \"$*\" >> {log}\n\
         [ \"$*\" = 'oath accounts code --single aws-work' ] || {{ echo \"bad args: $*\" >&2; exit 2; }}\n\
         {wait}\n\
         exec {python} {totp} \"$(cat {seed})\"\n",
        log = home.path().join("ykman-args").display(),
        python = common::venv().join("bin/python").display(),
        totp = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scripts/totp.py")
            .display(),
        seed = seed.display(),
    );
    write_script(&dir.join("ykman"), &script);
    dir
}

fn write_script(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn ykman_touch_hint_reaches_the_terminal_when_output_is_captured() {
    let moto = common::moto();
    let home = Home::new();
    let user = setup(&home, &moto, "", "");
    home.write_config("[profile work]\nmfa_prompt = ykman\nmfa_ykman_account = aws-work\n");
    let fakebin = fake_ykman(&home, &user, "sleep 2");
    // stdout and stderr go to files, as under a tool that captures them: the hint must still
    // reach the person, on the terminal.
    let out = home.on_terminal(
        &moto,
        &format!(
            "PATH={}:$PATH {} credential-process --profile work > out.json 2> err.txt",
            fakebin.display(),
            bin().display()
        ),
        None,
        &[],
    );
    let screen = text(&out.stdout);
    let err = std::fs::read_to_string(home.path().join("err.txt")).unwrap();
    assert!(out.status.success(), "{screen} {err}");
    assert!(screen.contains("Touch your YubiKey"), "{screen}");
    assert!(
        screen.contains(&format!("for profile work ({})", user.serial)),
        "{screen}"
    );
    assert!(!err.contains("Touch your YubiKey"), "{err}");
    let json = std::fs::read_to_string(home.path().join("out.json")).unwrap();
    assert!(json.contains("\"Version\":1"), "{json}");
    assert_eq!(calls(&user, "GetSessionToken"), 1);
    let args = std::fs::read_to_string(home.path().join("ykman-args")).unwrap();
    assert_eq!(args, "oath accounts code --single aws-work\n");
}

#[test]
fn ykman_touch_hint_without_a_terminal_is_a_notification() {
    // A notify-send stand-in that records what it was asked to show.
    let moto = common::moto();
    let home = Home::new();
    let user = setup(&home, &moto, "mfa_ykman_account = aws-work\n", "");
    let fakebin = fake_ykman(&home, &user, "sleep 2");
    write_script(
        &fakebin.join("notify-send"),
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" >> {}\n",
            home.path().join("notified").display()
        ),
    );
    let path = format!("{}:{}", fakebin.display(), system_path());
    let out = finish(no_terminal(
        &home,
        &moto,
        None,
        &path,
        &bin(),
        &[
            "credential-process",
            "--profile",
            "work",
            "--prompt",
            "ykman",
        ],
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let notified = std::fs::read_to_string(home.path().join("notified")).unwrap();
    assert!(notified.contains("Touch your YubiKey"), "{notified}");
    assert!(
        notified.contains(&format!("aws-work for profile work ({})", user.serial)),
        "{notified}"
    );
    assert_eq!(calls(&user, "GetSessionToken"), 1);
}

#[test]
fn ykman_touch_hint_without_a_terminal_or_notifications_is_a_window() {
    // The AWS CLI captures credential-process's stdout and stderr and there is no terminal;
    // notify-send fails (no notification daemon). The fake ykman answers only once the hint
    // window is on the X display, as a person would touch the key only once told to.
    let x = Xvfb::start();
    let moto = common::moto();
    let home = Home::new();
    let user = setup(
        &home,
        &moto,
        "mfa_ykman_account = aws-work\n",
        " --prompt ykman",
    );
    let wait = format!(
        "i=0; until DISPLAY={} xdotool search --name '{HINT}' >/dev/null; do \
         i=$((i+1)); [ $i -gt 150 ] && {{ echo 'no touch hint shown' >&2; exit 1; }}; sleep 0.1; done",
        x.display
    );
    let fakebin = fake_ykman(&home, &user, &wait);
    write_script(
        &fakebin.join("notify-send"),
        "#!/bin/sh\necho 'no notification daemon' >&2\nexit 1\n",
    );
    let path = format!("{}:{}", fakebin.display(), system_path());
    let out = finish(aws_cli(&home, &moto, Some(&x.display), &path));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&user.name));
    assert_eq!(calls(&user, "GetSessionToken"), 1);
    // The window closed when ykman was done.
    assert!(x.windows(HINT).is_empty(), "the hint window is still open");
}
