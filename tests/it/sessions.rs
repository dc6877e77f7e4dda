//! `export`, `credential-process`, `exec` and `status` as real processes: output evaluated by
//! real shells with values built to break quoting, used by the real AWS CLI and boto3, exec's
//! exit codes and signals, status's table, JSON and exit codes.

use crate::common;
use common::expiring_in;
#[cfg(unix)]
use common::{children, comm};

use std::process::Command as StdCommand;
#[cfg(unix)]
use std::time::{Duration, Instant};

use common::fake_aws::FakeAws;
#[cfg(unix)]
use common::fake_aws::{self, Reply};
use common::{Home, LT_SECTION, bin, profile, session_section};
use predicates::prelude::*;

fn home_with_session(minutes: i64) -> Home {
    let home = Home::new();
    home.write_credentials(&format!(
        "{LT_SECTION}\n{}",
        session_section("dev", "plain-token", minutes)
    ));
    home
}

/// Runs `script` in `shell -c`, with the binary on PATH and HOME set; returns stdout.
fn run_shell(shell: &str, home: &Home, script: &str) -> std::process::Output {
    let path = std::env::join_paths(
        std::iter::once(bin().parent().unwrap().to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    StdCommand::new(shell)
        .args(["-c", script])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", path)
        .env("AWS_PROFILE", "dev")
        .current_dir(home.path())
        .output()
        .unwrap()
}

/// A token built to break quoting in every shell: quotes of all kinds, command substitution,
/// backticks, variables, `%`, `;`, `&`, a backslash, spaces and a line break. If any shell ran
/// any of it, a file named PWNED appears.
const NASTY_FIRST: &str = r#"a'b"c$(touch PWNED)`touch PWNED`${HOME}%PATH%;touch PWNED&x\y  z"#;
const NASTY_SECOND: &str = r#"'; touch PWNED; echo '"#;

fn nasty_home() -> Home {
    let home = Home::new();
    // An indented line continues the value: the token holds a line break.
    home.write_credentials(&format!(
        "{LT_SECTION}\n[dev]\naws_access_key_id = ASIAVALIDSESSION0001\naws_secret_access_key = sess/secret+key\n\
         aws_session_token = {NASTY_FIRST}\n  {NASTY_SECOND}\nexpiration = {}\n",
        expiring_in(600)
    ));
    home.write_config("[profile dev]\nregion = eu-west-1\n");
    home
}

fn check_nasty(shell: &str, format: &str, script: &str) {
    let home = nasty_home();
    let out = run_shell(shell, &home, &script.replace("FORMAT", format));
    assert!(
        out.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !home.path().join("PWNED").exists(),
        "{shell} executed part of a value"
    );
    let got = std::fs::read_to_string(home.path().join("token.out")).unwrap();
    assert_eq!(
        got,
        format!("{NASTY_FIRST}\n{NASTY_SECOND}"),
        "{shell}: value altered"
    );
    let region = std::fs::read_to_string(home.path().join("region.out")).unwrap();
    assert_eq!(region, "eu-west-1|unset");
}

#[cfg(unix)]
#[test]
fn posix_shells_evaluate_exports_inertly() {
    let script = r#"AWS_PROFILE=dev; eval "$(mfa-session export --no-login --format FORMAT)" || exit 9
printf '%s' "$AWS_SESSION_TOKEN" > token.out
printf '%s|%s' "$AWS_REGION" "${AWS_PROFILE-unset}" > region.out"#;
    for shell in ["bash", "dash", "zsh"] {
        check_nasty(shell, "sh", script);
    }
}

#[cfg(unix)]
#[test]
fn fish_evaluates_exports_inertly() {
    let script = r#"mfa-session export --no-login --format FORMAT | source; or exit 9
printf '%s' "$AWS_SESSION_TOKEN" > token.out
set -q AWS_PROFILE; and set p $AWS_PROFILE; or set p unset
printf '%s|%s' "$AWS_REGION" "$p" > region.out"#;
    check_nasty("fish", "fish", script);
}

#[test]
fn powershell_evaluates_exports_inertly_when_present() {
    let Ok(pwsh) = which(&format!("pwsh{}", std::env::consts::EXE_SUFFIX)) else {
        eprintln!("pwsh is not installed here (Debian's archive has no PowerShell): skipped");
        return;
    };
    let script = r#"mfa-session export --no-login --format FORMAT | Out-String | Invoke-Expression
[IO.File]::WriteAllText("token.out", $Env:AWS_SESSION_TOKEN)
$p = if ($Env:AWS_PROFILE) { $Env:AWS_PROFILE } else { "unset" }
[IO.File]::WriteAllText("region.out", "$($Env:AWS_REGION)|$p")"#;
    check_nasty(pwsh.to_str().unwrap(), "powershell", script);
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(name))
        .find(|p| p.exists())
        .ok_or(())
}

#[test]
fn formats_that_cannot_carry_a_value_print_nothing() {
    let home = nasty_home();
    for format in ["cmd", "dotenv"] {
        let out = home
            .cmd()
            .args(["export", "-p", "dev", "--no-login", "--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{format}");
        assert!(out.stdout.is_empty(), "{format}: printed something");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("AWS_SESSION_TOKEN") && err.contains("cannot be written safely"),
            "{err}"
        );
        assert!(
            !err.contains("PWNED"),
            "the value leaked into the message: {err}"
        );
    }
}

#[test]
fn every_format_of_a_plain_session() {
    let home = home_with_session(600);
    let expected = [
        ("sh", "export AWS_SESSION_TOKEN='plain-token'"),
        ("fish", "set -gx AWS_SESSION_TOKEN 'plain-token';"),
        ("powershell", "$Env:AWS_SESSION_TOKEN = 'plain-token'"),
        ("cmd", "set \"AWS_SESSION_TOKEN=plain-token\""),
        ("dotenv", "AWS_SESSION_TOKEN=plain-token"),
    ];
    for (format, line) in expected {
        home.cmd()
            .args(["export", "-p", "dev", "-f", format])
            .assert()
            .success()
            .stderr("")
            .stdout(predicate::str::contains(line));
    }
    let out = home
        .cmd()
        .args(["export", "-p", "dev", "-f", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["Version"], 1);
    assert_eq!(doc["SessionToken"], "plain-token");
    assert_eq!(doc["AccessKeyId"], "ASIAVALIDSESSION0001");
}

#[test]
fn a_valid_session_makes_no_network_call() {
    let fake = FakeAws::start();
    let home = home_with_session(600);
    for args in [
        vec!["export", "-p", "dev"],
        vec!["credential-process", "-p", "dev"],
        vec!["status", "-p", "dev"],
        vec!["exec", "-p", "dev", "--", "true"],
    ] {
        home.cmd_at(&fake.url).args(&args).assert().success();
    }
    assert!(fake.actions().is_empty());
}

#[cfg(unix)]
#[test]
fn an_expired_session_without_a_terminal_prints_nothing_and_explains() {
    let fake = FakeAws::start();
    let home = home_with_session(-5);
    let before = home.read_credentials();
    for args in [
        vec!["export", "-p", "dev"],
        vec!["credential-process", "-p", "dev"],
        vec!["exec", "-p", "dev", "--", "true"],
        vec!["export", "-p", "dev", "--no-login"],
    ] {
        let start = Instant::now();
        let out = home.no_tty(&fake.url, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(10), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
        assert!(
            err.contains("[dev] has no valid session (expired 5m"),
            "{err}"
        );
        assert!(start.elapsed() < Duration::from_secs(5));
    }
    assert!(fake.actions().is_empty());
    assert_eq!(home.read_credentials(), before);
}

#[cfg(unix)]
#[test]
fn export_logs_in_first_prompting_on_the_terminal_not_stdout() {
    let fake = FakeAws::start();
    fake.on(
        "GetSessionToken",
        vec![Reply::Http(200, fake_aws::session_xml(&expiring_in(720)))],
    );
    let home = home_with_session(5); // inside the 15-minute refresh window
    let out = home.on_terminal(
        &fake.url,
        &format!("{} export -p dev > exports.sh", bin().display()),
        Some("MFA code for"),
        &["246802"],
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains("MFA code for profile dev (arn:aws:iam::123456789012:mfa/alice):"),
        "{screen}"
    );
    let exports = std::fs::read_to_string(home.path().join("exports.sh")).unwrap();
    assert!(
        !exports.contains("MFA code"),
        "the prompt went to stdout: {exports}"
    );
    assert!(exports.contains(&format!(
        "export AWS_SESSION_TOKEN='{}'",
        fake_aws::SESSION_TOKEN
    )));
    assert_eq!(fake.actions(), ["GetSessionToken"]);
    assert_eq!(
        profile(&home.read_credentials(), "dev")["aws_session_token"],
        fake_aws::SESSION_TOKEN
    );
}

#[test]
fn credential_process_is_used_by_the_aws_cli_and_boto3() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    home.write_credentials(&format!(
        "[work-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.access_key_id, user.secret_access_key
    ));
    home.cmd_at(&moto)
        .args(["login", "-p", "work", "-c", &common::totp_now(&user.seed)])
        .assert()
        .success();
    let token = profile(&home.read_credentials(), "work")["aws_session_token"].clone();
    home.write_config(&format!(
        "[profile work-mfa]\nregion = us-east-1\ncredential_process = {} credential-process --profile work\n",
        bin().display()
    ));
    let out = StdCommand::new(common::venv().join("bin/aws"))
        .args([
            "sts",
            "get-caller-identity",
            "--profile",
            "work-mfa",
            "--endpoint-url",
            &moto,
        ])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let py = "import boto3; c = boto3.Session(profile_name='work-mfa').get_credentials().get_frozen_credentials(); print(c.token)";
    let out = StdCommand::new(common::venv().join("bin/python"))
        .args(["-c", py])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), token);
}

#[cfg(unix)]
#[test]
fn exec_passes_the_session_and_the_exit_code() {
    let home = home_with_session(600);
    home.write_config("[profile dev]\nregion = eu-west-1\n");
    home.cmd()
        .env("AWS_PROFILE", "dev")
        .env("AWS_DEFAULT_PROFILE", "dev")
        .args([
            "exec",
            "--",
            "sh",
            "-c",
            r#"echo "$AWS_ACCESS_KEY_ID|$AWS_SESSION_TOKEN|$AWS_REGION|${AWS_PROFILE-unset}|${AWS_DEFAULT_PROFILE-unset}|$AWS_CREDENTIAL_EXPIRATION"; exit 42"#,
        ])
        .assert()
        .code(42)
        .stdout(predicate::str::starts_with(
            "ASIAVALIDSESSION0001|plain-token|eu-west-1|unset|unset|20",
        ));
    home.cmd()
        .args(["exec", "-p", "dev", "--", "no-such-command-anywhere"])
        .assert()
        .code(127)
        .stderr(predicate::str::contains(
            "cannot run no-such-command-anywhere",
        ));
}

/// exec replaces mfa-session: the command runs as the very process that was started, so a
/// spawn-and-wait implementation (a child with a new pid) fails here.
#[cfg(unix)]
#[test]
fn exec_runs_the_command_in_its_own_process() {
    let home = home_with_session(600);
    let child = StdCommand::new(bin())
        .args(["exec", "-p", "dev", "--", "sh", "-c", "echo $$"])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), pid.to_string());
}

#[cfg(unix)]
#[test]
fn exec_leaves_signals_to_the_command() {
    let home = home_with_session(600);
    let mut child = StdCommand::new(bin())
        .args(["exec", "-p", "dev", "--", "sleep", "30"])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .spawn()
        .unwrap();
    // The signal goes to the pid that was started, once it runs `sleep` (exec replaced us).
    wait_until("the command runs in mfa-session's place", || {
        comm(child.id()) == "sleep"
    });
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
}

#[test]
fn status_table_json_and_exit_codes() {
    let home = Home::new();
    home.write_credentials(&format!(
        "{LT_SECTION}\n{}\n[ops-long-term]\naws_access_key_id = AKIAOPS\naws_secret_access_key = x\n\n{}",
        session_section("dev", "t1", 600),
        session_section("ops", "t2", -30),
    ));
    let out = home.cmd().arg("status").output().unwrap();
    assert_eq!(out.status.code(), Some(10));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(!table.contains('\u{1b}'), "no colour off a terminal");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[1].contains("dev") && lines[1].contains("valid") && lines[1].contains("9h 59m"),
        "{table}"
    );
    assert!(
        lines[1].contains("arn:aws:iam::123456789012:mfa/alice")
            && lines[1].contains("dev-long-term")
    );
    assert!(
        lines[2].contains("ops") && lines[2].contains("expired 30m"),
        "{table}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 2 sessions not valid"));

    home.cmd().args(["status", "-p", "dev"]).assert().success();
    home.cmd().args(["status", "-p", "ops"]).assert().code(10);
    home.cmd()
        .args(["status", "-p", "nobody"])
        .assert()
        .code(10)
        .stdout(predicate::str::contains("missing"));

    let out = home.cmd().args(["status", "--json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["profile"], "dev");
    assert_eq!(rows[0]["state"], "valid");
    assert!(rows[0]["seconds_left"].as_i64().unwrap() > 35_000);
    assert_eq!(rows[1]["state"], "expired");
    assert_eq!(rows[1]["serial"], serde_json::Value::Null);
    // Secrets are not part of a status report.
    let all = String::from_utf8_lossy(&out.stdout);
    assert!(
        !all.contains("sess/secret+key") && !all.contains("t1"),
        "{all}"
    );

    let empty = Home::new();
    empty
        .cmd()
        .arg("status")
        .assert()
        .code(10)
        .stderr(predicate::str::contains("no managed profiles"));
}

#[cfg(unix)]
#[test]
fn exec_without_a_command_starts_the_shell_with_a_marker() {
    let home = home_with_session(600);
    let out = home
        .cmd()
        .env("SHELL", "/bin/sh")
        .args(["exec", "-p", "dev"])
        .write_stdin(
            "echo \"$MFA_SESSION_PROFILE $AWS_ACCESS_KEY_ID ${AWS_PROFILE:-unset}\"; exit 3\n",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "dev ASIAVALIDSESSION0001 unset\n"
    );
    // exec inside such a shell says it replaces the session.
    home.cmd()
        .env("MFA_SESSION_PROFILE", "other")
        .args(["exec", "-p", "dev", "--", "true"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "already inside `mfa-session exec` for [other]",
        ));
}

#[test]
fn status_prompt_is_one_short_line_about_the_profile_in_use() {
    let home = home_with_session(600);
    let out = home
        .cmd()
        .env("AWS_PROFILE", "dev")
        .args(["status", "--prompt"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(line == "dev 9h59m\n" || line == "dev 10h00m\n", "{line:?}");
    assert!(out.stderr.is_empty());
    // The profile of an exec shell wins over AWS_PROFILE; an expired session says so, exit 10.
    home.write_credentials(&format!(
        "{LT_SECTION}\n{}",
        session_section("dev", "t", -5)
    ));
    home.cmd()
        .env("AWS_PROFILE", "other")
        .env("MFA_SESSION_PROFILE", "dev")
        .args(["status", "--prompt"])
        .assert()
        .code(10)
        .stdout("dev expired\n");
    home.cmd()
        .args(["status", "--prompt", "-p", "nothing"])
        .assert()
        .code(10)
        .stdout("nothing no session\n");
}

/// `exec --server` keeps mfa-session alongside the command: a SIGTERM sent to it reaches the
/// command, and mfa-session ends as the command did (here: killed by that signal).
#[cfg(unix)]
#[test]
fn exec_server_passes_signals_and_status_through() {
    use std::os::unix::process::ExitStatusExt;
    let home = home_with_session(600);
    let out = home
        .cmd()
        .args(["exec", "-p", "dev", "--server", "--", "sh", "-c"])
        .arg("test -z \"$AWS_ACCESS_KEY_ID\" && test -n \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" && exit 5")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = StdCommand::new(bin())
        .args(["exec", "-p", "dev", "--server", "--", "sleep", "30"])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .spawn()
        .unwrap();
    // mfa-session stays, serving; the signal is sent once its child runs `sleep`.
    wait_until("mfa-session's child runs the command", || {
        children(child.id()).iter().any(|&c| comm(c) == "sleep")
    });
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let start = Instant::now();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "sleep was stopped, not waited for"
    );
}

/// Polls `done` every 5 ms; fails the test after 10 s instead of sleeping a fixed time.
#[cfg(unix)]
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A profile name from the environment (a repository's `.envrc` can set it) reaches the prompt
/// with its control characters escaped: no title change or clipboard write on every prompt.
#[test]
fn status_prompt_escapes_control_characters_of_the_profile_name() {
    let home = home_with_session(600);
    for var in ["AWS_PROFILE", "MFA_SESSION_PROFILE"] {
        let out = home
            .cmd()
            .env(
                var,
                "x\u{1b}]0;owned\u{7}\u{1b}]52;c;ZWNobyBoaQ==\u{7}\u{202e}",
            )
            .args(["status", "--prompt"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(10), "{var}");
        let line = String::from_utf8(out.stdout).unwrap();
        assert!(
            !line.chars().any(|c| c.is_control() && c != '\n') && !line.contains('\u{202e}'),
            "{var}: {line:?}"
        );
        assert_eq!(
            line, "x\\x1b]0;owned\\x07\\x1b]52;c;ZWNobyBoaQ==\\x07\\u{202e} no session\n",
            "{var}"
        );
        assert!(out.stderr.is_empty(), "{var}");
    }
}
