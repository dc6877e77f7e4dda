//! `mfa-session refresh` and the single flight against the emulator, which checks TOTP codes
//! and accepts a device's code only once per 30-second window, like AWS: renewal from a TOTP
//! seed file and from an `mfa_process` script, unsafe seed files refused, profiles without a
//! source failing fast with no terminal, overlapping runs, profiles sharing one device, and many
//! processes at once (credential-process, export, exec, login; SIGKILLed leaders; a terminal)
//! sharing one login, with the emulator's call log counting every STS and IAM call.

use crate::common;
use common::{expiring_in, stderr};

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command as StdCommand, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Home, IamUser, calls, long_term, profile, seed_file};

fn old_session(name: &str, minutes: i64) -> String {
    format!(
        "[{name}]\naws_access_key_id = ASIAOLDSESSION{name}\naws_secret_access_key = old\n\
         aws_session_token = old-token\nexpiration = {}\n\n",
        expiring_in(minutes)
    )
}

/// An mfa_process script that computes the code from a seed file (as `pass otp` would).
fn code_script(home: &Home, name: &str, user: &IamUser) -> String {
    let seed = seed_file(home, &format!("{name}-script"), user, 0o600);
    let script = home.path().join(format!("{name}-code.sh"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho 'computing code' >&2\nexec {} {} \"$(cat {seed})\"\n",
            common::venv().join("bin/python").display(),
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("scripts/totp.py")
                .display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    script.display().to_string()
}

/// Runs refresh as cron would: no controlling terminal, stdin closed.
fn refresh(home: &Home, endpoint: &str, args: &[&str]) -> Output {
    let args: Vec<&str> = std::iter::once("refresh")
        .chain(args.iter().copied())
        .collect();
    home.no_tty(endpoint, &args)
}

#[test]
fn renews_from_a_seed_file_and_a_process_and_reports_each_profile() {
    let moto = common::moto();
    let (a, b, c) = (
        common::provision_user(&moto),
        common::provision_user(&moto),
        common::provision_user(&moto),
    );
    let home = Home::new();
    let creds = format!(
        "# cron-managed\n{}{}{}{}{}{}{}{}",
        long_term(
            "a",
            &a,
            &format!(
                "mfa_totp_secret_file = {}",
                seed_file(&home, "a", &a, 0o600)
            )
        ),
        old_session("a", 10),
        long_term("b", &b, ""),
        old_session("b", 20),
        long_term(
            "c",
            &c,
            &format!(
                "mfa_totp_secret_file = {}",
                seed_file(&home, "c", &c, 0o644)
            )
        ),
        old_session("c", 5),
        long_term("d", &a, ""),
        old_session("d", 600),
    );
    home.write_credentials(&creds);
    // b's source is in the config file.
    home.write_config(&format!(
        "[profile b]\nmfa_process = {}\n",
        code_script(&home, "b", &b)
    ));

    let start = Instant::now();
    let out = refresh(&home, &moto, &["--all"]);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(10),
        "c fails, so not all are valid:\n{err}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert!(out.stdout.is_empty());
    let line = |p: &str| {
        err.lines()
            .find(|l| l.contains(&format!("refresh: [{p}] ")))
            .unwrap_or_else(|| panic!("no line for {p}:\n{err}"))
            .to_string()
    };
    assert!(line("a").contains("renewed until"), "{err}");
    assert!(line("b").contains("renewed until"), "{err}");
    assert!(
        line("c").contains("failed: refusing the TOTP secret file")
            && line("c").contains("chmod 600"),
        "{err}"
    );
    assert!(line("d").contains("still valid until"), "{err}");
    assert!(
        err.contains("computing code"),
        "the process's stderr is passed through"
    );
    // Lines are timestamped for cron logs.
    assert!(line("a").starts_with("20") && line("a").contains("Z mfa-session refresh:"));
    // Secrets never reach the log.
    for secret in [&a.seed, &a.secret_access_key, &b.seed] {
        assert!(!err.contains(secret.as_str()));
    }

    let text = home.read_credentials();
    assert!(text.starts_with("# cron-managed\n"));
    for p in ["a", "b"] {
        let s = profile(&text, p);
        assert!(
            s["aws_access_key_id"].starts_with("ASIA") && !s["aws_access_key_id"].contains("OLD"),
            "{p}"
        );
    }
    assert_eq!(profile(&text, "c")["aws_access_key_id"], "ASIAOLDSESSIONc");
    assert_eq!(profile(&text, "d")["aws_access_key_id"], "ASIAOLDSESSIONd");

    // The AWS CLI sees b's own user through the renewed profile.
    let out = StdCommand::new(common::venv().join("bin/aws"))
        .args([
            "sts",
            "get-caller-identity",
            "--profile",
            "b",
            "--endpoint-url",
            &moto,
            "--region",
            "us-east-1",
        ])
        .env_clear()
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("user/{}", b.name)));

    // -q: only failures.
    let out = refresh(&home, &moto, &["--all", "-q"]);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("[c] failed"));
}

#[test]
fn a_profile_without_a_source_fails_fast_and_the_others_are_renewed() {
    let moto = common::moto();
    let (a, n) = (common::provision_user(&moto), common::provision_user(&moto));
    let home = Home::new();
    home.write_credentials(&format!(
        "{}{}{}{}",
        long_term(
            "a",
            &a,
            &format!(
                "mfa_totp_secret_file = {}",
                seed_file(&home, "a", &a, 0o600)
            )
        ),
        old_session("a", -30),
        long_term("none", &n, ""),
        old_session("none", -30),
    ));
    let start = Instant::now();
    let out = refresh(&home, &moto, &["-p", "none", "-p", "a"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(10), "{err}");
    assert!(start.elapsed() < Duration::from_secs(15));
    assert!(
        err.contains("[none] failed: no non-interactive MFA code source")
            && err.contains("mfa_process"),
        "{err}"
    );
    assert!(err.contains("[a] renewed until"), "{err}");
    // Lines come in the order the profiles were asked for.
    assert!(err.find("[none]").unwrap() < err.find("[a]").unwrap());
}

#[test]
fn profiles_sharing_a_device_get_one_session() {
    let moto = common::moto();
    let u = common::provision_user(&moto);
    let home = Home::new();
    let seed = seed_file(&home, "shared", &u, 0o600);
    let mut creds = String::new();
    for p in ["one", "two", "three"] {
        creds += &long_term(p, &u, &format!("mfa_totp_secret_file = {seed}"));
        creds += &old_session(p, 3);
    }
    home.write_credentials(&creds);
    let start = Instant::now();
    let out = refresh(&home, &moto, &["--all"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    // No wait for the next code window: one code, one call.
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    let text = home.read_credentials();
    let keys: Vec<String> = ["one", "two", "three"]
        .iter()
        .map(|p| profile(&text, p)["aws_access_key_id"].clone())
        .collect();
    assert!(
        keys[0].starts_with("ASIA") && keys.iter().all(|k| *k == keys[0]),
        "{keys:?}"
    );
}

#[test]
fn a_code_already_used_waits_for_the_next_window() {
    let moto = common::moto();
    let u = common::provision_user(&moto);
    let home = Home::new();
    let seed = seed_file(&home, "u", &u, 0o600);
    home.write_credentials(&format!(
        "{}{}{}",
        long_term("x", &u, &format!("mfa_totp_secret_file = {seed}")),
        long_term("y", &u, &format!("mfa_totp_secret_file = {seed}")),
        old_session("y", -1),
    ));
    // An interactive login takes the current code of the device...
    home.cmd_at(&moto)
        .args(["login", "-p", "x", "-c", &common::totp_now(&u.seed)])
        .assert()
        .success();
    // ...so refresh's first code for the same device is rejected as used; it waits for the next
    // window instead of failing. (If the window turned between the two, there is no wait.)
    let start = Instant::now();
    let out = refresh(&home, &moto, &["-p", "y"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("[y] renewed until"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(40));
}

#[test]
fn overlapping_refreshes_and_a_login_lose_nothing() {
    let moto = common::moto();
    let (a, b, l) = (
        common::provision_user(&moto),
        common::provision_user(&moto),
        common::provision_user(&moto),
    );
    let home = Home::new();
    home.write_credentials(&format!(
        "{}{}{}{}{}",
        long_term(
            "a",
            &a,
            &format!(
                "mfa_totp_secret_file = {}",
                seed_file(&home, "a", &a, 0o600)
            )
        ),
        old_session("a", -5),
        long_term(
            "b",
            &b,
            &format!(
                "mfa_totp_secret_file = {}",
                seed_file(&home, "b", &b, 0o600)
            )
        ),
        old_session("b", -5),
        long_term("l", &l, ""),
    ));
    let spawn = || {
        StdCommand::new("setsid")
            .arg("-w")
            .arg(assert_cmd::cargo::cargo_bin("mfa-session"))
            .args(["refresh", "-p", "a", "-p", "b"])
            .env_clear()
            .env("HOME", home.path())
            .env("AWS_ENDPOINT_URL", &moto)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (r1, r2) = (spawn(), spawn());
    home.cmd_at(&moto)
        .args(["login", "-p", "l", "-c", &common::totp_now(&l.seed)])
        .assert()
        .success();
    let (o1, o2) = (
        r1.wait_with_output().unwrap(),
        r2.wait_with_output().unwrap(),
    );
    assert!(o1.status.success(), "{}", stderr(&o1));
    assert!(o2.status.success(), "{}", stderr(&o2));
    // The runs took turns: one renewed both, the other found them renewed.
    let both = format!("{}{}", stderr(&o1), stderr(&o2));
    assert_eq!(both.matches("renewed until").count(), 2, "{both}");
    assert_eq!(both.matches("still valid until").count(), 2, "{both}");
    let text = home.read_credentials();
    for p in ["a", "b", "l"] {
        assert!(
            profile(&text, p)["aws_access_key_id"].starts_with("ASIA"),
            "{p} lost:\n{text}"
        );
    }
}

#[test]
fn export_uses_a_configured_source_without_a_terminal() {
    let moto = common::moto();
    let u = common::provision_user(&moto);
    let home = Home::new();
    home.write_credentials(&format!(
        "{}{}",
        long_term(
            "w",
            &u,
            &format!(
                "mfa_totp_secret_file = {}",
                seed_file(&home, "w", &u, 0o600)
            )
        ),
        old_session("w", -10),
    ));
    let out = home.no_tty(&moto, &["export", "-p", "w"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let exports = String::from_utf8_lossy(&out.stdout);
    let key = profile(&home.read_credentials(), "w")["aws_access_key_id"].clone();
    assert!(key.starts_with("ASIA") && !key.contains("OLD"));
    assert!(
        exports.contains(&format!("export AWS_ACCESS_KEY_ID='{key}'")),
        "{exports}"
    );
}

#[test]
fn no_secret_reaches_the_argv_of_a_child_process() {
    let moto = common::moto();
    let u = common::provision_user(&moto);
    let home = Home::new();
    let seed = seed_file(&home, "argv", &u, 0o600);
    // An mfa_process that records its argv and environment, then prints the code.
    let script = home.path().join("spy.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\" > {dir}/argv.txt\nenv > {dir}/env.txt\n\
             exec {py} {totp} \"$(cat {seed})\"\n",
            dir = home.path().display(),
            py = common::venv().join("bin/python").display(),
            totp = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("scripts/totp.py")
                .display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    home.write_credentials(&format!(
        "{}{}",
        long_term(
            "s",
            &u,
            &format!("mfa_process = {} --flag", script.display())
        ),
        old_session("s", -1),
    ));
    let out = refresh(&home, &moto, &["-p", "s"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let argv = std::fs::read_to_string(home.path().join("argv.txt")).unwrap();
    let env = std::fs::read_to_string(home.path().join("env.txt")).unwrap();
    assert!(argv.ends_with("--flag\n"), "{argv}");
    assert!(env.contains(&format!("MFA_SESSION_SERIAL={}", u.serial)));
    for secret in [&u.secret_access_key, &u.seed] {
        assert!(!argv.contains(secret.as_str()) && !env.contains(secret.as_str()));
    }
    // exec: the session reaches the command through its environment, never its argv.
    let session = profile(&home.read_credentials(), "s");
    let out = home
        .cmd()
        .args([
            "exec",
            "-p",
            "s",
            "--",
            "sh",
            "-c",
            "tr '\\0' ' ' < /proc/$$/cmdline; echo; echo \"$AWS_SECRET_ACCESS_KEY\"",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let cmdline = lines.next().unwrap();
    assert!(
        !cmdline.contains(&session["aws_secret_access_key"])
            && !cmdline.contains(&session["aws_session_token"])
    );
    assert_eq!(
        lines.next(),
        Some(session["aws_secret_access_key"].as_str())
    );
}

// ---- Single flight: many processes, one code, one call ------------------------------------

/// An mfa_process that logs each run to `<home>/runs`, waits `delay` seconds (a person
/// touching a YubiKey), then prints the current code.
fn counting_script(home: &Home, user: &IamUser, delay: &str) -> String {
    let code = code_script(home, "counted", user);
    let script = home.path().join("counting.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> {runs}\nsleep {delay}\nexec {code}\n",
            runs = home.path().join("runs").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    script.display().to_string()
}

fn runs(home: &Home) -> usize {
    std::fs::read_to_string(home.path().join("runs"))
        .unwrap_or_default()
        .lines()
        .count()
}

/// Starts mfa-session as a process with no terminal (as an IDE or a build tool would).
fn spawn(home: &Home, endpoint: &str, args: &[&str]) -> std::process::Child {
    spawn_command(home, endpoint, args).spawn().unwrap()
}

/// The command [`spawn`] starts: mfa-session with no terminal, stdout and stderr piped.
fn spawn_command(home: &Home, endpoint: &str, args: &[&str]) -> StdCommand {
    let mut c = StdCommand::new("setsid");
    c.arg("-w")
        .arg(assert_cmd::cargo::cargo_bin("mfa-session"))
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("AWS_ENDPOINT_URL", endpoint)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// The AccessKeyId a finished command handed out (credential-process JSON, export, or a
/// command run by exec that printed it).
fn key_of(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", stderr(out));
    if let Some(rest) = text.split("\"AccessKeyId\":\"").nth(1) {
        return rest.split('"').next().unwrap().to_string();
    }
    if let Some(rest) = text.split("AWS_ACCESS_KEY_ID='").nth(1) {
        return rest.split('\'').next().unwrap().to_string();
    }
    text.trim().to_string()
}

/// A session profile `p1` whose keys sit in `[p1-long-term]` (no serial: it is discovered)
/// and whose code comes from a counting `mfa_process` that takes a second.
fn flight_home(user: &IamUser) -> Home {
    let home = Home::new();
    home.write_credentials(&format!(
        "[p1-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.access_key_id, user.secret_access_key
    ));
    let script = counting_script(&home, user, "1");
    home.write_config(&format!("[profile p1]\nmfa_process = {script}\n"));
    home
}

#[test]
fn ten_credential_processes_share_one_login() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = flight_home(&user);
    let children: Vec<_> = (0..10)
        .map(|_| spawn(&home, &moto, &["credential-process", "--profile", "p1"]))
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let keys: Vec<String> = outs.iter().map(key_of).collect();
    assert!(keys[0].starts_with("ASIA"), "{keys:?}");
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    assert_eq!(runs(&home), 1, "the code source ran once");
    assert_eq!(calls(&user, "GetSessionToken"), 1);
    assert!(calls(&user, "ListMFADevices") <= 1);
    let waited = outs
        .iter()
        .filter(|o| stderr(o).contains("waiting for another mfa-session logging in to [p1]"))
        .count();
    assert!(waited >= 1, "someone said it waited");
    let said: Vec<String> = outs.iter().map(stderr).collect();
    assert!(
        said.iter()
            .all(|e| e.matches("waiting for another").count() <= 1),
        "{said:?}"
    );
}

#[test]
fn a_mix_of_export_exec_and_login_shares_one_login() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = flight_home(&user);
    let print_key = ["sh", "-c", "printf %s \"$AWS_ACCESS_KEY_ID\""];
    let mut children = Vec::new();
    for i in 0..9 {
        let args: Vec<&str> = match i % 3 {
            0 => vec!["export", "--profile", "p1"],
            1 => ["exec", "--profile", "p1", "--"]
                .into_iter()
                .chain(print_key)
                .collect(),
            _ => vec!["login", "--profile", "p1"],
        };
        children.push((i % 3, spawn(&home, &moto, &args)));
    }
    let mut keys = Vec::new();
    for (kind, child) in children {
        let out = child.wait_with_output().unwrap();
        if kind == 2 {
            assert!(out.status.success(), "{}", stderr(&out));
        } else {
            keys.push(key_of(&out));
        }
    }
    let written = profile(&home.read_credentials(), "p1")["aws_access_key_id"].clone();
    assert!(written.starts_with("ASIA"));
    assert!(keys.iter().all(|k| *k == written), "{keys:?} vs {written}");
    assert_eq!(runs(&home), 1);
    assert_eq!(calls(&user, "GetSessionToken"), 1);
    assert!(calls(&user, "ListMFADevices") <= 1);
}

#[test]
fn ten_role_credential_processes_share_one_assume_role() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    home.write_credentials(&long_term("work", &user, ""));
    let script = counting_script(&home, &user, "1");
    home.write_config(&format!(
        "[profile work]\nmfa_process = {script}\n\n[profile admin]\n\
         role_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = work\nmfa_serial = {}\n",
        user.serial
    ));
    let children: Vec<_> = (0..10)
        .map(|_| spawn(&home, &moto, &["credential-process", "--profile", "admin"]))
        .collect();
    let keys: Vec<String> = children
        .into_iter()
        .map(|c| key_of(&c.wait_with_output().unwrap()))
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    assert_eq!(runs(&home), 1);
    assert_eq!(calls(&user, "AssumeRole"), 1);
    assert_eq!(calls(&user, "GetSessionToken"), 0);
}

#[test]
fn a_leader_killed_mid_code_hands_over_to_a_waiter() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    home.write_credentials(&long_term("p1", &user, ""));
    // The first run hangs (a YubiKey nobody touches); later runs answer at once.
    let code = code_script(&home, "k", &user);
    let marker = home.path().join("first-run");
    let script = home.path().join("slow-first.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> {runs}\nif [ ! -e {m} ]; then touch {m}; sleep 25; fi\nexec {code}\n",
            runs = home.path().join("runs").display(),
            m = marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    home.write_config(&format!(
        "[profile p1]\nmfa_process = {}\n",
        script.display()
    ));

    let mut leader = spawn(&home, &moto, &["credential-process", "--profile", "p1"]);
    let start = Instant::now();
    while !marker.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the leader never ran its source"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Each waiter's stderr goes to a file, so the test can see it say that it waits.
    let logs: Vec<_> = (0..4)
        .map(|i| home.path().join(format!("waiter-{i}.err")))
        .collect();
    let waiters: Vec<_> = logs
        .iter()
        .map(|log| {
            let mut c = spawn_command(&home, &moto, &["credential-process", "--profile", "p1"]);
            c.stderr(std::fs::File::create(log).unwrap());
            c.spawn().unwrap()
        })
        .collect();
    // The leader is killed once every waiter is waiting for it, not after a guessed delay.
    let start = Instant::now();
    while !logs.iter().all(|log| {
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .contains("waiting for another mfa-session logging in to [p1]")
    }) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the waiters never said they wait"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // `setsid -w` forwards nothing: kill mfa-session itself, found as setsid's child.
    let pgid = leader.id() as i32;
    let killed = StdCommand::new("pkill")
        .args(["-KILL", "-g", &pgid.to_string(), "-x", "mfa-session"])
        .status()
        .unwrap();
    assert!(killed.success(), "pkill found the leader");
    let _ = leader.wait();
    let handed_over = Instant::now();
    let keys: Vec<String> = waiters
        .into_iter()
        .map(|c| key_of(&c.wait_with_output().unwrap()))
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    assert!(
        handed_over.elapsed() < Duration::from_secs(60),
        "the waiters ended within the documented bound"
    );
    assert_eq!(calls(&user, "GetSessionToken"), 1);
    assert_eq!(
        runs(&home),
        2,
        "the killed leader's run, and one by its successor"
    );
}

#[test]
fn two_logins_on_one_terminal_show_one_prompt() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    home.write_credentials(&long_term("p1", &user, ""));
    let bin = assert_cmd::cargo::cargo_bin("mfa-session");
    let b = bin.display();
    let out = home.on_terminal(
        &moto,
        &format!(
            "{b} login -p p1 & sleep 0.3; {b} login -p p1; second=$?; wait $!; \
             echo \"exits $? $second\""
        ),
        // The person answers once the second login says it waits for the first (which holds
        // the flight while its prompt is open): typed any sooner, the first would be done
        // before the second starts, and there would be nothing to share.
        Some("waiting for another mfa-session"),
        &[&common::totp_now(&user.seed)],
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(screen.matches("MFA code for").count(), 1, "{screen}");
    assert!(
        screen.contains("waiting for another mfa-session logging in to [p1]"),
        "{screen}"
    );
    assert!(screen.contains("exits 0 0"), "{screen}");
    assert_eq!(calls(&user, "GetSessionToken"), 1);
}

#[test]
fn refresh_all_renews_role_profiles_that_status_lists() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    let seed = seed_file(&home, "work", &user, 0o600);
    home.write_credentials(&long_term(
        "work",
        &user,
        &format!("mfa_totp_secret_file = {seed}"),
    ));
    home.write_config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = work\n",
    );
    let out = refresh(&home, &moto, &["--all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[admin] renewed until"),
        "{}",
        stderr(&out)
    );
    let status = home.cmd().arg("status").output().unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    let table = String::from_utf8_lossy(&status.stdout);
    assert!(table.contains("admin") && table.contains("work"), "{table}");
}

/// A 900 s session (AWS's minimum) under the default 15-minute window: fresh, it is valid —
/// export makes no call, status says valid, refresh leaves it alone and exits 0.
#[test]
fn a_fresh_short_session_counts_as_valid() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    let seed = seed_file(&home, "short", &user, 0o600);
    home.write_credentials(&long_term(
        "short",
        &user,
        &format!("mfa_totp_secret_file = {seed}"),
    ));
    home.write_config("[profile short]\nduration_seconds = 900\n");
    home.cmd_at(&moto)
        .args(["login", "-p", "short"])
        .assert()
        .success();
    let key = profile(&home.read_credentials(), "short")["aws_access_key_id"].clone();
    // Unreachable endpoint: any AWS call would fail with exit 7.
    let nowhere = "http://127.0.0.1:9";
    let out = home
        .cmd_at(nowhere)
        .args(["export", "-p", "short"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&key));
    let status = home.cmd().args(["status", "-p", "short"]).output().unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    assert!(String::from_utf8_lossy(&status.stdout).contains("valid"));
    let out = refresh(&home, nowhere, &["-p", "short"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("still valid"), "{}", stderr(&out));
    assert_eq!(
        profile(&home.read_credentials(), "short")["aws_access_key_id"],
        key
    );
}

/// An explicit `--threshold` is what the user asked for: a session of 1 h with 50 minutes left
/// is renewed under `--threshold 2h`, while the default threshold (1 h, capped at a third of
/// the session's life: 20 minutes) keeps it.
#[test]
fn an_explicit_threshold_is_honoured_beyond_a_third_of_the_sessions_life() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    let seed = seed_file(&home, "work", &user, 0o600);
    home.write_credentials(&format!(
        "{}{}",
        long_term("work", &user, &format!("mfa_totp_secret_file = {seed}")),
        old_session("work", 50),
    ));
    home.write_config("[profile work]\nduration_seconds = 3600\n");

    let out = refresh(&home, &moto, &["-p", "work"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[work] still valid"),
        "{}",
        stderr(&out)
    );
    assert_eq!(calls(&user, "GetSessionToken"), 0);

    let out = refresh(&home, &moto, &["-p", "work", "--threshold", "2h"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[work] renewed until"),
        "{}",
        stderr(&out)
    );
    assert_eq!(calls(&user, "GetSessionToken"), 1);
    let work = profile(&home.read_credentials(), "work");
    assert!(
        work["aws_access_key_id"] != "ASIAOLDSESSIONwork",
        "{work:?}"
    );
}

/// Thousands of profiles (SSO profiles mfa-session does not manage, session profiles and role
/// profiles with cached sessions): `status --json` lists each managed one once with its state,
/// and `refresh --all` finds every one still valid without a call (the endpoint is closed).
/// The speed of the same (8000 profiles) is a figure of `scripts/bench`.
#[test]
fn status_and_refresh_all_with_thousands_of_profiles() {
    const SSO: usize = 2000;
    const SESSIONS: usize = 500;
    const ROLES: usize = 1000;
    let home = Home::new();
    let far = expiring_in(600);
    let mut creds = String::new();
    for i in 0..SESSIONS {
        creds.push_str(&format!(
            "[s{i}-long-term]\naws_access_key_id = AKIAEXAMPLE{i:09}\naws_secret_access_key = x\n\
             mfa_serial = arn:aws:iam::123456789012:mfa/u{i}\n\n\
             [s{i}]\naws_access_key_id = ASIAEXAMPLE{i:09}\naws_secret_access_key = s\n\
             aws_session_token = t\nexpiration = {far}\n\n"
        ));
    }
    home.write_credentials(&creds);
    let mut config = String::from(
        "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n\n",
    );
    for i in 0..SSO {
        config.push_str(&format!(
            "[profile sso{i}]\nsso_session = corp\nsso_account_id = {}\nsso_role_name = Admin\n\n",
            100_000_000_000u64 + i as u64
        ));
    }
    let cache = home.path().join(".cache/mfa-session/roles");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::set_permissions(
        home.path().join(".cache"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    for dir in [cache.parent().unwrap(), &cache] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    for i in 0..ROLES {
        let arn = format!("arn:aws:iam::123456789012:role/r{i}");
        config.push_str(&format!(
            "[profile role{i}]\nrole_arn = {arn}\nsource_profile = s{}\n\n",
            i % SESSIONS
        ));
        let path = cache.join(format!("role{i}.json"));
        std::fs::write(
            &path,
            format!(
                "{{\"Version\":1,\"RoleArn\":\"{arn}\",\"SourceProfile\":\"s{}\",\
                 \"AccessKeyId\":\"ASIAROLE{i:012}\",\"SecretAccessKey\":\"s\",\
                 \"SessionToken\":\"t\",\"Expiration\":\"{far}\"}}\n",
                i % SESSIONS
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    home.write_config(&config);

    let out = home.cmd().args(["status", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), SESSIONS + ROLES);
    let mut names: Vec<&str> = rows
        .iter()
        .map(|r| r["profile"].as_str().unwrap())
        .collect();
    // Session profiles first, then roles.
    assert!(names[..SESSIONS].iter().all(|n| n.starts_with('s')));
    assert!(names[SESSIONS..].iter().all(|n| n.starts_with("role")));
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), SESSIONS + ROLES, "each profile once");
    for r in rows {
        assert_eq!(r["state"], "valid", "{r}");
        let name = r["profile"].as_str().unwrap();
        if let Some(i) = name.strip_prefix("role") {
            let i: usize = i.parse().unwrap();
            assert_eq!(r["source"], format!("role via s{}", i % SESSIONS), "{r}");
        } else {
            assert_eq!(r["source"], format!("{name}-long-term"), "{r}");
        }
    }
    // One profile of each kind, by name.
    for (name, want) in [("s499", "valid"), ("role999", "valid"), ("sso5", "missing")] {
        let out = home
            .cmd()
            .args(["status", "--json", "-p", name])
            .output()
            .unwrap();
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(rows[0]["state"], want, "{name}");
    }

    let out = refresh(&home, "http://127.0.0.1:9", &["--all"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(err.lines().count(), SESSIONS + ROLES, "{err}");
    assert_eq!(
        err.lines()
            .filter(|l| l.contains("] still valid until"))
            .count(),
        SESSIONS + ROLES,
        "{err}"
    );
    assert!(err.contains("[role999] still valid"), "{err}");
}

/// A thousand profiles on one device, every session due: one GetSessionToken, its session
/// written to each profile in one update (the writes find each section through the index the
/// edits keep), and every other line of the file as it was.
#[test]
fn a_thousand_profiles_on_one_device_are_renewed_in_one_write() {
    const COUNT: usize = 1000;
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    let seed = seed_file(&home, "shared", &user, 0o600);
    let mut creds = String::from("# many profiles\n");
    for i in 0..COUNT {
        creds.push_str(&long_term(
            &format!("p{i}"),
            &user,
            &format!("mfa_totp_secret_file = {seed}"),
        ));
        creds.push_str(&old_session(&format!("p{i}"), 5));
    }
    home.write_credentials(&creds);
    let out = refresh(&home, &moto, &["--all"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        err.lines()
            .filter(|l| l.contains("] renewed until"))
            .count(),
        COUNT,
        "{err}"
    );
    assert_eq!(calls(&user, "GetSessionToken"), 1);
    let after = home.read_credentials();
    // One parse for every look-up (the harness's `profile` parses the file each time).
    let doc =
        mfa_session::store::Document::parse(mfa_session::store::FileKind::Credentials, &after)
            .unwrap();
    let first = doc.profile("p0").unwrap();
    for i in 0..COUNT {
        assert_eq!(doc.profile(&format!("p{i}")).unwrap(), first, "p{i}");
        let lt = doc.profile(&format!("p{i}-long-term")).unwrap();
        assert_eq!(lt["aws_access_key_id"], user.access_key_id);
    }
    assert!(first["aws_access_key_id"] != "ASIAOLDSESSIONp0");
    assert_eq!(
        after.lines().count(),
        creds.lines().count(),
        "only values changed"
    );
}
