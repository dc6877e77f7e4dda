//! Issue 10, "Hardening": every fault an adversarial test run found, each checked through the
//! built binary (or, where a race must be forced, through the library's public API): hostile
//! endpoints, hostile files, hostile processes and hostile values. Each bad input must end in one
//! clear line and a documented exit code, never a panic, never a changed file, never a secret in
//! a message.
#![allow(dead_code)]

use crate::common;
#[cfg(unix)]
use common::{NOBODY, as_nobody, is_root};
use common::{in_hours, stderr};

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
#[cfg(unix)]
use std::path::Path;
use std::process::Command as StdCommand;
#[cfg(unix)]
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::fake_aws::{self, FakeAws, Reply};
use common::{Home, LT_KEY, LT_SECRET, SERIAL, home_with_long_term_and_serial};

/// A login that must fail: its exit code, one line on stderr, no panic, no secret, the
/// credentials file unchanged. Returns stderr.
fn login_fails(home: &Home, endpoint: &str, extra: &[&str], code: i32) -> String {
    let before = fs::read(home.credentials()).unwrap_or_default();
    let out = home
        .cmd_at(endpoint)
        .args(["login", "-p", "dev", "-c", "123456"])
        .args(extra)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains(LT_SECRET), "{err}");
    assert!(!err.contains(fake_aws::SESSION_SECRET), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line:\n{err}");
    assert_eq!(
        fs::read(home.credentials()).unwrap_or_default(),
        before,
        "the file changed on failure: {err}"
    );
    err
}

// ------------------------------------------------------------------ 3: no core dumps

#[cfg(unix)]
#[test]
fn a_crash_leaves_no_core_file_with_the_secret() {
    let pattern = fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    if pattern.starts_with('|') {
        // A handler (systemd-coredump, apport) takes the dump: nothing lands in our directory to
        // look at, and the handler's store is not ours to search. PR_SET_DUMPABLE 0 stops those
        // too, but this test cannot see it.
        eprintln!("skipped: core_pattern pipes to a handler ({pattern:?})");
        return;
    }
    let fake = FakeAws::start();
    fake.on("GetSessionToken", vec![Reply::Hang]);
    let home = home_with_long_term_and_serial("");
    let cwd = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("mfa-session");
    let mut child = StdCommand::new("bash")
        .arg("-c")
        .arg("ulimit -c unlimited && exec \"$0\" login -p dev -c 123456 --timeout 60s")
        .arg(&bin)
        .current_dir(cwd.path())
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("AWS_ENDPOINT_URL", &fake.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the secret is in memory and in use: the call has reached the endpoint.
    let start = Instant::now();
    while fake.actions().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "no call made");
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGABRT) };
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGABRT));
    if let Some(entry) = fs::read_dir(cwd.path()).unwrap().next() {
        let entry = entry.unwrap();
        let bytes = fs::read(entry.path()).unwrap();
        let holds_secret = bytes
            .windows(LT_SECRET.len())
            .any(|w| w == LT_SECRET.as_bytes());
        panic!(
            "a file appeared where the process crashed: {} ({} bytes, holds the secret: {holds_secret})",
            entry.path().display(),
            bytes.len()
        );
    }
}

// ------------------------------------------------------- 10: a one-time code is sent once

#[test]
fn a_call_with_a_code_is_made_once_whatever_happens() {
    // 5xx and throttling: exactly one GetSessionToken, reported as what it was.
    for (status, code, says) in [
        (503, "ServiceUnavailable", "server error (503)"),
        (400, "Throttling", "throttling"),
    ] {
        let fake = FakeAws::start();
        fake.on(
            "GetSessionToken",
            vec![Reply::Http(
                status,
                fake_aws::error_xml("sts", code, "try later"),
            )],
        );
        let home = home_with_long_term_and_serial("");
        let err = login_fails(&home, &fake.url, &[], 7);
        assert!(err.contains(says) && err.contains("not retried"), "{err}");
        assert_eq!(fake.actions(), ["GetSessionToken"], "{err}");
    }
    // A timeout: one request, reported as a timeout.
    let fake = FakeAws::start();
    fake.on("GetSessionToken", vec![Reply::Hang]);
    let home = home_with_long_term_and_serial("");
    let err = login_fails(&home, &fake.url, &["--timeout", "1s"], 7);
    assert!(err.contains("timed out"), "{err}");
    assert_eq!(fake.actions(), ["GetSessionToken"]);
}

#[test]
fn assume_role_with_a_code_is_made_once() {
    let fake = FakeAws::start();
    fake.on(
        "AssumeRole",
        vec![Reply::Http(
            503,
            fake_aws::error_xml("sts", "ServiceUnavailable", "busy"),
        )],
    );
    let home = home_with_long_term_and_serial("");
    home.write_config(&format!(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = dev\n\
         mfa_serial = {SERIAL}\n"
    ));
    let out = home
        .cmd_at(&fake.url)
        .args(["login", "-p", "admin", "-c", "123456"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("not retried"), "{err}");
    assert_eq!(fake.actions(), ["AssumeRole"], "{err}");
}

#[cfg(unix)]
#[test]
fn an_unwritable_directory_fails_before_any_call() {
    if !is_root() {
        eprintln!("skipped: needs root to run as another user");
        return;
    }
    let fake = fake_with_session();
    let home = home_with_long_term_and_serial("");
    chown(home.path(), NOBODY, NOBODY);
    chown(&home.credentials(), NOBODY, NOBODY);
    // ~/.aws is root's and read-only for nobody: no temp file, no lock file can be made there.
    fs::set_permissions(home.path().join(".aws"), fs::Permissions::from_mode(0o755)).unwrap();
    let out = as_nobody(&home, &fake.url, &["login", "-p", "dev", "-c", "123456"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("not writable"), "{err}");
    assert!(
        fake.actions().is_empty(),
        "checked before the network: {err}"
    );
}

#[test]
fn calls_without_a_code_are_still_retried() {
    let fake = FakeAws::start();
    fake.on(
        "ListMFADevices",
        vec![Reply::Http(
            503,
            fake_aws::error_xml("iam", "ServiceUnavailable", "busy"),
        )],
    );
    let home = Home::new();
    home.write_credentials(&format!(
        "[dev-long-term]\naws_access_key_id = {LT_KEY}\naws_secret_access_key = {LT_SECRET}\n"
    ));
    let err = login_fails(&home, &fake.url, &[], 7);
    assert!(err.contains("3 attempts"), "{err}");
    assert_eq!(fake.actions().len(), 3, "{err}");
}

// ------------------------------------------------ 6: STS answers are checked, not trusted

#[test]
fn unusable_sts_answers_are_refused_and_nothing_is_written() {
    use fake_aws::{SESSION_KEY_ID as ID, SESSION_SECRET as SECRET, SESSION_TOKEN as TOKEN};
    let past = "2001-01-01T00:00:00Z".to_string();
    let far = in_hours(24 * 365);
    let big = "A".repeat(9 * 1024);
    let cases = [
        (ID, SECRET, TOKEN, past.as_str(), "in the past"),
        (ID, SECRET, TOKEN, far.as_str(), "far beyond"),
        ("", SECRET, TOKEN, &in_hours(12), "empty AccessKeyId"),
        (ID, "", TOKEN, &in_hours(12), "empty SecretAccessKey"),
        (ID, SECRET, "", &in_hours(12), "empty SessionToken"),
        (ID, SECRET, big.as_str(), &in_hours(12), "over 8 KiB"),
    ];
    for (id, secret, token, expiration, says) in cases {
        let fake = FakeAws::start();
        fake.on(
            "GetSessionToken",
            vec![Reply::Http(
                200,
                fake_aws::session_xml_with(id, secret, token, expiration),
            )],
        );
        let home = home_with_long_term_and_serial("");
        let err = login_fails(&home, &fake.url, &[], 1);
        assert!(
            err.contains("unusable response") && err.contains(says),
            "{says}: {err}"
        );
    }
}

// ------------------------------------------------ 2a: an mfa_process cannot hold us past its limit

fn fake_with_session() -> FakeAws {
    let fake = FakeAws::start();
    fake.on(
        "GetSessionToken",
        vec![Reply::Http(200, fake_aws::session_xml(&in_hours(12)))],
    );
    fake
}

#[cfg(unix)]
#[test]
fn an_mfa_process_leaving_a_child_on_its_stdout_does_not_hang_login() {
    let fake = fake_with_session();
    let home = home_with_long_term_and_serial("");
    let start = Instant::now();
    let out = home
        .cmd_at(&fake.url)
        .args([
            "login",
            "-p",
            "dev",
            "--mfa-process",
            "echo 123456; sleep 70 &",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "took {:?}",
        start.elapsed()
    );
}

#[cfg(unix)]
#[test]
fn an_mfa_process_can_still_ask_on_the_terminal_and_its_prompt_lines_are_shown() {
    let fake = fake_with_session();
    let home = home_with_long_term_and_serial("");
    let bin = assert_cmd::cargo::cargo_bin("mfa-session");
    // A password manager's unlock: reads /dev/tty (which needs the terminal's foreground), then
    // prints a prompt line and the code on the last line.
    let source = "read pw </dev/tty; echo \"Touch your key\x1b]0;title\x07\"; echo 123456";
    let shell = format!(
        "{} login -p dev --mfa-process '{}'; echo EXIT=$?",
        bin.display(),
        source.replace('\'', "'\\''")
    );
    let out = home.on_terminal(&fake.url, &shell, None, &["hunter2"]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("EXIT=0"), "{shown}");
    assert!(
        shown.contains("Touch your key\\x1b]0;title\\x07"),
        "{shown}"
    );
    assert_eq!(fake.actions(), ["GetSessionToken"]);
}

// ---------------------------------- 2b, 11, 16: what is not a regular file is refused, at once

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Runs `cmd` with a limit: a test that would hang fails instead.
#[cfg(unix)]
fn run_limited(mut cmd: assert_cmd::Command) -> Output {
    cmd.timeout(Duration::from_secs(20)).output().unwrap()
}

#[cfg(unix)]
#[test]
fn fifos_are_refused_without_blocking() {
    let login = ["login", "-p", "dev", "-c", "123456"];
    // The credentials file.
    let home = Home::new();
    mkfifo(&home.credentials());
    let out = run_limited({
        let mut c = home.cmd_at("http://127.0.0.1:9");
        c.args(login);
        c
    });
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("FIFO") && err.contains("not a regular file"),
        "{err}"
    );
    // The config file.
    let home = home_with_long_term_and_serial("");
    mkfifo(&home.config());
    let out = run_limited({
        let mut c = home.cmd_at("http://127.0.0.1:9");
        c.args(login);
        c
    });
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("FIFO"), "{err}");
    // The lock file: refused before any call (preflight), file unchanged.
    let fake = fake_with_session();
    let home = home_with_long_term_and_serial("");
    mkfifo(&home.path().join(".aws/credentials.lock"));
    let err = login_fails(&home, &fake.url, &[], 3);
    assert!(err.contains("credentials.lock is a FIFO"), "{err}");
    assert!(fake.actions().is_empty(), "checked before the network");
    // The TOTP seed file.
    let home = home_with_long_term_and_serial("mfa_totp_secret_file = ~/.aws/seed\n");
    mkfifo(&home.path().join(".aws/seed"));
    let out = run_limited({
        let mut c = home.cmd_at("http://127.0.0.1:9");
        c.args(["login", "-p", "dev"]);
        c
    });
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(9), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn a_lock_path_that_is_a_directory_fails_before_any_call() {
    let fake = fake_with_session();
    let home = home_with_long_term_and_serial("");
    fs::create_dir(home.path().join(".aws/credentials.lock")).unwrap();
    let err = login_fails(&home, &fake.url, &[], 3);
    assert!(err.contains("is a directory"), "{err}");
    assert!(fake.actions().is_empty());
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_at_the_lock_path_is_not_followed() {
    let fake = fake_with_session();
    let home = home_with_long_term_and_serial("");
    let elsewhere = home.path().join("created-through-the-link");
    symlink(&elsewhere, home.path().join(".aws/credentials.lock")).unwrap();
    let err = login_fails(&home, &fake.url, &[], 3);
    assert!(err.contains("symbolic link"), "{err}");
    assert!(!elsewhere.exists(), "the link's target was created");
}

#[cfg(unix)]
#[test]
fn an_io_error_is_printed_once() {
    let home = Home::new();
    let file = home.path().join("plain-file");
    fs::write(&file, "").unwrap();
    let out = home
        .cmd()
        .env("AWS_SHARED_CREDENTIALS_FILE", file.join("credentials"))
        .args(["login", "-p", "dev", "-c", "123456"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(err.matches("Not a directory").count(), 1, "{err}");
}

// ------------------------------------------ 1, 14: owner, group and mode survive a write

#[cfg(unix)]
fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().mode() & 0o7777
}

#[cfg(unix)]
#[test]
fn root_writing_a_users_file_keeps_its_owner_and_group() {
    if !is_root() {
        eprintln!("skipped: needs root to own files as another user");
        return;
    }
    let fake = fake_with_session();
    let home = home_with_long_term_and_serial("");
    // A user's file, reached by root with HOME kept (sudo) and through a symlink.
    let real = home.path().join("dotfiles/aws-credentials");
    fs::create_dir(home.path().join("dotfiles")).unwrap();
    fs::rename(home.credentials(), &real).unwrap();
    symlink(&real, home.credentials()).unwrap();
    chown(&real, NOBODY, NOBODY);
    chown(&home.path().join("dotfiles"), NOBODY, NOBODY);
    home.cmd_at(&fake.url)
        .args(["login", "-p", "dev", "-c", "123456"])
        .assert()
        .success();
    let m = fs::metadata(&real).unwrap();
    assert_eq!((m.uid(), m.gid()), (NOBODY, NOBODY));
    // The lock file root created is the user's too, or their own next login could not lock.
    let lock = fs::metadata(home.path().join("dotfiles/aws-credentials.lock")).unwrap();
    assert_eq!((lock.uid(), lock.gid()), (NOBODY, NOBODY));
    assert!(
        fs::symlink_metadata(home.credentials())
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::read_to_string(&real)
            .unwrap()
            .contains(fake_aws::SESSION_KEY_ID)
    );
    // A group-shared 0640 file keeps its group (and its mode, with a warning).
    chown(&real, 0, NOBODY);
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let out = home
        .cmd_at(&fake.url)
        .args(["login", "-p", "dev", "-c", "123456", "--force"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let m = fs::metadata(&real).unwrap();
    assert_eq!((m.uid(), m.gid(), mode(&real)), (0, NOBODY, 0o640));
}

#[cfg(unix)]
#[test]
fn a_group_that_cannot_be_kept_is_refused_with_the_reason() {
    if !is_root() {
        eprintln!("skipped: needs root to make a file whose group its owner is not in");
        return;
    }
    let fake = fake_with_session();
    let home = home_with_long_term_and_serial("");
    for d in [home.path(), &home.path().join(".aws")] {
        chown(d, NOBODY, NOBODY);
    }
    // nobody's file, group root (gid 0), which nobody is not a member of.
    chown(&home.credentials(), NOBODY, 0);
    fs::set_permissions(home.credentials(), fs::Permissions::from_mode(0o660)).unwrap();
    let before = home.read_credentials();
    let out = as_nobody(&home, &fake.url, &["login", "-p", "dev", "-c", "123456"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("its group is gid 0"), "{err}");
    assert!(
        fake.actions().is_empty(),
        "refused before the network: {err}"
    );
    assert_eq!(home.read_credentials(), before);
    assert_eq!(fs::metadata(home.credentials()).unwrap().gid(), 0);
}

#[cfg(unix)]
#[test]
fn a_hard_linked_file_is_refused() {
    let fake = fake_with_session();
    let home = home_with_long_term_and_serial("");
    let other = home.path().join("backup-of-credentials");
    fs::hard_link(home.credentials(), &other).unwrap();
    let err = login_fails(&home, &fake.url, &[], 3);
    assert!(err.contains("2 hard links"), "{err}");
    assert_eq!(fs::metadata(&other).unwrap().nlink(), 2);
}

#[cfg(unix)]
#[test]
fn unsafe_modes_are_warned_about_and_special_bits_dropped() {
    let fake = fake_with_session();
    let home = home_with_long_term_and_serial("");
    fs::set_permissions(home.credentials(), fs::Permissions::from_mode(0o644)).unwrap();
    let out = home
        .cmd_at(&fake.url)
        .args(["login", "-p", "dev", "-c", "123456"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let path = home.credentials();
    assert!(
        err.contains("mode 644") && err.contains(&format!("chmod 600 {}", path.display())),
        "{err}"
    );
    assert_eq!(mode(&path), 0o644, "the mode is the user's choice");
    // setuid, setgid and sticky bits do not survive a write.
    let home = home_with_long_term_and_serial("");
    let path = home.credentials();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o7600)).unwrap();
    home.cmd_at(&fake.url)
        .args(["login", "-p", "dev", "-c", "123456"])
        .assert()
        .success();
    assert_eq!(mode(&path), 0o600);
}

// ------------------------------------- 12: an editor ignoring the lock loses nothing

#[test]
fn a_change_made_without_the_lock_during_a_write_is_kept() {
    use mfa_session::store::{FileKind, SharedFile, StoreError};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    fs::write(&path, "[a]\nk = 1\n").unwrap();
    let file = SharedFile::new(&path, FileKind::Credentials);
    let mut runs = 0;
    file.update(|doc| {
        runs += 1;
        if runs == 1 {
            // An editor saves the file between our read and our rename.
            fs::write(&path, "[a]\nk = 1\n[editor]\nx = kept\n").unwrap();
        }
        doc.set("mine", "y", "set").map_err(StoreError::from)
    })
    .unwrap();
    assert_eq!(runs, 2, "the edit was redone on the new content");
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("x = kept") && text.contains("y = set"),
        "{text}"
    );
    // One that never stops is given up on, leaving its version.
    let err = file
        .update(|doc| {
            fs::write(&path, format!("[a]\nk = {}\n", rand_ish())).unwrap();
            doc.set("mine", "z", "set").map_err(StoreError::from)
        })
        .unwrap_err();
    assert!(err.to_string().contains("kept being changed"), "{err}");
    assert!(!fs::read_to_string(&path).unwrap().contains("z = set"));
}

fn rand_ish() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

// --------------------------- 5, 8: control characters in any value: no panic, escaped output

#[test]
fn control_characters_in_any_value_never_panic() {
    let fake = fake_with_session();
    fake.on(
        "AssumeRole",
        vec![Reply::Http(200, fake_aws::session_xml(&in_hours(1)))],
    );
    let url = fake.url.clone();
    let creds = |key: &str, value: &str| {
        let mut lt = [
            ("aws_access_key_id", LT_KEY.to_string()),
            ("aws_secret_access_key", LT_SECRET.to_string()),
            ("mfa_serial", SERIAL.to_string()),
        ];
        for (k, v) in lt.iter_mut() {
            if *k == key {
                *v = value.to_string();
            }
        }
        let body: String = lt.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        format!("[dev-long-term]\n{body}")
    };
    let config = |key: &str, value: &str| {
        let mut p = vec![
            ("region", "eu-west-1".to_string()),
            ("endpoint_url", url.clone()),
            ("duration_seconds", "3600".to_string()),
        ];
        for (k, v) in p.iter_mut() {
            if *k == key {
                *v = value.to_string();
            }
        }
        if !p.iter().any(|(k, _)| *k == key) {
            p.push((
                Box::leak(key.to_string().into_boxed_str()),
                value.to_string(),
            ));
        }
        let body: String = p.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        format!(
            "[profile dev]\n{body}\n[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\n\
             source_profile = dev\nmfa_serial = {SERIAL}\nendpoint_url = {url}\n"
        )
    };
    for bad in ["\u{1}", "\u{1b}[31m", "\u{7f}", "\0", "\u{9b}"] {
        let cases: Vec<(&str, String, String, Vec<&str>)> = vec![
            (
                "key id",
                creds("aws_access_key_id", &format!("AKIA{bad}X")),
                config("", ""),
                vec![],
            ),
            (
                "secret",
                creds("aws_secret_access_key", &format!("s{bad}x")),
                config("", ""),
                vec![],
            ),
            (
                "serial",
                creds("mfa_serial", &format!("arn:aws:iam::1:mfa/a{bad}")),
                config("", ""),
                vec![],
            ),
            (
                "region",
                creds("", ""),
                config("region", &format!("eu{bad}west-1")),
                vec![],
            ),
            (
                "endpoint",
                creds("", ""),
                config("endpoint_url", &format!("http://127.0.0.1{bad}:1")),
                vec![],
            ),
            (
                "duration",
                creds("", ""),
                config("duration_seconds", &format!("36{bad}00")),
                vec![],
            ),
            (
                "mfa_process",
                creds("", ""),
                config("mfa_process", &format!("echo 123{bad}456")),
                vec!["no-code"],
            ),
            (
                "role_arn",
                creds("", ""),
                config("", "").replace("role/r", &format!("role/r{bad}")),
                vec!["role"],
            ),
            (
                "source_profile",
                creds("", ""),
                config("", "").replace(
                    "source_profile = dev",
                    &format!("source_profile = d{bad}ev"),
                ),
                vec!["role"],
            ),
        ];
        for (what, credentials, config, flags) in cases {
            let home = Home::new();
            home.write_credentials(&credentials);
            home.write_config(&config);
            let profile = if flags.contains(&"role") {
                "role"
            } else {
                "dev"
            };
            let mut args = vec!["login", "-p", profile];
            if !flags.contains(&"no-code") {
                args.extend(["-c", "123456"]);
            }
            let out = home
                .cmd()
                .args(&args)
                .timeout(Duration::from_secs(40))
                .output()
                .unwrap();
            let err = stderr(&out);
            let ctx = format!("{what} with {bad:?}: {err}");
            assert_ne!(out.status.code(), Some(101), "{ctx}");
            assert!(out.status.code().is_some(), "killed: {ctx}");
            assert!(!err.contains("panicked"), "{ctx}");
            assert!(
                !err.contains('\u{1b}') && !err.contains('\u{9b}'),
                "raw escape: {ctx}"
            );
            assert!(!err.contains(LT_SECRET), "{ctx}");
        }
    }
}

#[test]
fn bad_keys_and_settings_are_one_line_exit_9_before_any_call() {
    let fake = fake_with_session();
    let home = Home::new();
    home.write_credentials(&format!(
        "[dev-long-term]\naws_access_key_id = AKIA\u{1}X\naws_secret_access_key = {LT_SECRET}\nmfa_serial = {SERIAL}\n"
    ));
    let err = login_fails(&home, &fake.url, &[], 9);
    assert!(
        err.contains("aws_access_key_id") && err.contains("0x01"),
        "{err}"
    );
    let home = home_with_long_term_and_serial("");
    home.write_config("[profile dev]\nregion = ../../x y\n");
    let err = login_fails(&home, &fake.url, &[], 9);
    assert!(err.contains("not a region name"), "{err}");
    for region in ["../x", "us east 1", "eu-west-1\u{1b}"] {
        let err = login_fails(
            &home_with_long_term_and_serial(""),
            &fake.url,
            &["--region", region],
            9,
        );
        assert!(err.contains("not a region name"), "{region}: {err}");
    }
    for url in [
        "127.0.0.1:5000",
        "ftp://127.0.0.1/",
        "http://",
        "http://h:99999",
    ] {
        let err = login_fails(&home_with_long_term_and_serial(""), url, &[], 9);
        assert!(err.contains("endpoint URL"), "{url}: {err}");
    }
    assert!(fake.actions().is_empty());
}

#[test]
fn server_text_is_escaped_and_capped() {
    let hostile = format!(
        // XML carries no ESC or BEL, but it does carry line breaks, the 8-bit CSI and bidi
        // overrides.
        "denied\nmfa-session: fake second line \u{9b}2K\u{202e}{}",
        "A".repeat(2_000_000)
    );
    let fake = FakeAws::start();
    fake.on(
        "GetSessionToken",
        vec![Reply::Http(
            403,
            fake_aws::error_xml("sts", "AccessDenied", &hostile),
        )],
    );
    let home = home_with_long_term_and_serial("");
    let err = login_fails(&home, &fake.url, &[], 6);
    assert!(
        !err.contains('\u{9b}') && !err.contains('\u{202e}'),
        "{err:.300}"
    );
    assert!(
        err.contains("denied\\nmfa-session: fake second line \\x9b2K\\u{202e}A"),
        "{err:.300}"
    );
    assert!(err.len() < 2_000, "{} bytes", err.len());
    assert!(err.contains("more characters"), "{err}");
}

// ------------------------------------------------------- 9: misleading results

#[test]
fn a_timeout_under_a_second_is_a_usage_error() {
    let fake = fake_with_session();
    for t in ["0", "0s", "500ms"] {
        // clap's usage error: its own few lines, exit 2.
        let out = home_with_long_term_and_serial("")
            .cmd_at(&fake.url)
            .args(["login", "-p", "dev", "-c", "123456", "--timeout", t])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("at least 1s"), "{err}");
    }
    assert!(fake.actions().is_empty());
}

#[test]
fn empty_garbled_and_truncated_answers_say_so() {
    let good = fake_aws::session_xml(&in_hours(12));
    let cases = [
        (Reply::Http(200, String::new()), 1, "could not be read"),
        (
            Reply::Http(200, "<<<not xml".into()),
            1,
            "could not be read",
        ),
        (
            Reply::Http(200, "{\"json\": true}".into()),
            1,
            "could not be read",
        ),
        (Reply::Http(403, "garbage".into()), 1, "HTTP 403"),
        (Reply::Http(200, "<x/>".into()), 1, "could not be read"),
        (
            Reply::Truncated(200, good.clone(), good.len() / 2),
            7,
            "cut off",
        ),
    ];
    for (reply, code, says) in cases {
        let fake = FakeAws::start();
        fake.on("GetSessionToken", vec![reply.clone()]);
        let err = login_fails(&home_with_long_term_and_serial(""), &fake.url, &[], code);
        assert!(err.contains(says), "{reply:?}: {err}");
        assert!(!err.contains("no error message"), "{err}");
    }
}

// ------------------------------------------------------- 13: pathological sizes

#[test]
fn huge_files_and_values_are_refused_quickly() {
    let fake = fake_with_session();
    // 25 million comment lines (50 MB): once 8 s and 3.8 GB, now refused before parsing.
    let home = home_with_long_term_and_serial("");
    let mut text = home.read_credentials();
    text.push_str(&"#\n".repeat(25_000_000));
    home.write_credentials(&text);
    let start = Instant::now();
    let err = login_fails(&home, &fake.url, &[], 3);
    assert!(err.contains("larger than 16 MiB"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // Under the size limit but over the line limit.
    let mut text = home_with_long_term_and_serial("").read_credentials();
    text.push_str(&"#\n".repeat(1_100_000));
    home.write_credentials(&text);
    let err = login_fails(&home, &fake.url, &[], 3);
    assert!(err.contains("1000000 lines"), "{err}");
    assert!(fake.actions().is_empty());
    // No value over 64 KiB is written.
    use mfa_session::store::{FileKind, SharedFile, StoreError};
    let dir = tempfile::tempdir().unwrap();
    let file = SharedFile::new(dir.path().join("credentials"), FileKind::Credentials);
    let err = file
        .update(|d| {
            d.set("p", "k", &"x".repeat(65 * 1024))
                .map_err(StoreError::from)
        })
        .unwrap_err();
    assert!(err.to_string().contains("longer than 64 KiB"), "{err}");
}

// ------------------------------------- 15: dotenv output reads back exactly, or is refused

#[test]
fn dotenv_output_is_read_back_exactly_by_python_dotenv() {
    let python = common::venv().join("bin/python");
    let session = |secret: &str| {
        format!(
            "[dev]\naws_access_key_id = ASIAFAKESESSION00001\naws_secret_access_key = {secret}\n\
             aws_session_token = token/+=\nexpiration = {}\n",
            in_hours(12)
        )
    };
    let accepted = [
        "plain/+=",
        "with space",
        "dollar$HOME",
        "hash#x",
        "dq\"x",
        "unicodé",
        "amp&lt;%PATH%",
    ];
    for secret in accepted {
        let home = Home::new();
        home.write_credentials(&session(secret));
        let out = home
            .cmd()
            .args(["export", "-p", "dev", "--no-login", "--format", "dotenv"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{secret}: {}", stderr(&out));
        let env = home.path().join(".env");
        fs::write(&env, &out.stdout).unwrap();
        let read = StdCommand::new(&python)
            .args([
                "-c",
                "import sys, json; from dotenv import dotenv_values; \
                 print(json.dumps(dotenv_values(sys.argv[1])))",
            ])
            .arg(&env)
            .env("HOME", "/elsewhere")
            .output()
            .unwrap();
        assert!(
            read.status.success(),
            "python-dotenv (pinned in scripts/requirements-test.txt; run scripts/setup-test-env): {}",
            stderr(&read)
        );
        let values: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
        assert_eq!(values["AWS_SECRET_ACCESS_KEY"], secret, "{values}");
        assert_eq!(values["AWS_SESSION_TOKEN"], "token/+=");
    }
    for secret in ["back\\\\slash", "back\\slash", "dollar${HOME}", "quote'x"] {
        let home = Home::new();
        home.write_credentials(&session(secret));
        let out = home
            .cmd()
            .args(["export", "-p", "dev", "--no-login", "--format", "dotenv"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(4), "{secret}: {err}");
        assert!(out.stdout.is_empty());
        assert!(!err.contains(secret), "{err}");
    }
}

// ------------------------------------------------------- 16: smaller faults

#[test]
fn a_byte_order_mark_is_named() {
    let home = Home::new();
    home.write_credentials(&format!(
        "\u{feff}[dev-long-term]\naws_access_key_id = {LT_KEY}\naws_secret_access_key = {LT_SECRET}\n"
    ));
    let err = login_fails(&home, "http://127.0.0.1:9", &[], 3);
    assert!(
        err.contains("credentials:1:") && err.contains("byte order mark (BOM)"),
        "{err}"
    );
}

#[test]
fn waiting_too_long_for_a_lock_has_its_own_exit_code() {
    use mfa_session::error::{Exit, code_for};
    use mfa_session::store::{FileKind, SharedFile};
    let dir = tempfile::tempdir().unwrap();
    let file = SharedFile::new(dir.path().join("credentials"), FileKind::Credentials);
    let _held = file.run_lock("refresh", Duration::ZERO).unwrap();
    // flock locks are per open file: a second open in this process waits like another process.
    let err = file
        .run_lock("refresh", Duration::from_millis(200))
        .unwrap_err();
    assert!(
        err.to_string().contains("held by another mfa-session run"),
        "{err}"
    );
    assert_eq!(code_for(&anyhow::Error::from(err)), Exit::Busy);
}

/// A credentials file bind-mounted on its own (as `docker run -v ~/.aws/credentials:…` does)
/// cannot be replaced by a rename: refused before any call, the code not spent.
#[cfg(unix)]
#[test]
fn a_bind_mounted_credentials_file_is_refused_before_any_call() {
    if !is_root() {
        eprintln!("skipped: needs root for a private mount namespace and mount --bind");
        return;
    }
    let fake = fake_with_session();
    let home = home_with_long_term_and_serial("");
    let outside = home.path().join("mounted-from");
    fs::copy(home.credentials(), &outside).unwrap();
    let before = fs::read(&outside).unwrap();
    let out = StdCommand::new("unshare")
        .args(["--mount", "sh", "-c"])
        .arg(format!(
            "mount --bind {} {} && exec {} login -p dev -c 123456",
            outside.display(),
            home.credentials().display(),
            assert_cmd::cargo::cargo_bin("mfa-session").display()
        ))
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("AWS_ENDPOINT_URL", &fake.url)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("bind mount") && err.contains("-v ~/.aws:/root/.aws"),
        "{err}"
    );
    assert!(
        fake.actions().is_empty(),
        "no call was made: {:?}",
        fake.actions()
    );
    assert_eq!(fs::read(&outside).unwrap(), before);
}

/// A line break in a profile name gives one line and exit 2; an expiration that cannot be read
/// is named as such, not as "incomplete keys".
#[test]
fn bad_profile_names_and_unreadable_expirations_are_named() {
    let home = home_with_long_term_and_serial(
        "\n[dev]\naws_access_key_id = ASIAX\naws_secret_access_key = s\naws_session_token = t\nexpiration = tomorrow-ish\n",
    );
    for args in [
        vec!["login", "-p", "a\nb", "-c", "123456"],
        vec!["export", "-p", "a\nb"],
        vec!["rotate", "-p", "bad name"],
    ] {
        let out = home.cmd().args(&args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("invalid profile name"), "{err}");
    }
    let out = home
        .cmd()
        .args(["export", "-p", "dev", "--no-login"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(10), "{err}");
    assert!(
        err.contains("expiration \"tomorrow-ish\" cannot be read"),
        "{err}"
    );
}
