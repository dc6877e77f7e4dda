//! `mfa-session login` as a real process: against the moto emulator with users and virtual MFA
//! devices provisioned through the IAM API and real TOTP codes, and against a local fake AWS
//! endpoint for every failure moto cannot produce. Each failure asserts the message, the exit
//! code and that the credentials file is byte-for-byte unchanged.

use crate::common;
use common::in_hours;

use std::process::Command as StdCommand;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::fake_aws::{self, FakeAws, Reply, error_xml};
use common::{Home, LT_KEY, LT_SECRET, SERIAL, home_with_long_term, profile};
use predicates::prelude::*;

// ---------------------------------------------------------------- against moto

#[test]
fn login_with_moto_and_the_aws_cli_accepts_the_profile() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    let original = format!(
        "; work account\r\n[work-long-term]\r\naws_access_key_id = {}\r\naws_secret_access_key = {}\r\n\r\n[other]\r\nregion = eu-west-1 # keep\r\n",
        user.access_key_id, user.secret_access_key
    );
    home.write_credentials(&original);

    home.cmd_at(&moto)
        .args([
            "login",
            "--profile",
            "work",
            "--code",
            &common::totp_now(&user.seed),
        ])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("[work] logged in with"));

    let text = home.read_credentials();
    // Every original line is still there, CRLF included; only [work] was added.
    let without_serial = text.replace(&format!("mfa_serial = {}\r\n", user.serial), "");
    assert!(without_serial.starts_with(&original), "{text}");
    let lt = profile(&text, "work-long-term");
    assert_eq!(
        lt["mfa_serial"], user.serial,
        "the discovered serial is remembered"
    );
    let s = profile(&text, "work");
    assert!(!s["aws_session_token"].is_empty());
    let exp = DateTime::parse_from_rfc3339(&s["expiration"]).unwrap();
    let left = exp.with_timezone(&Utc) - Utc::now();
    assert!(
        left > chrono::Duration::hours(11) && left <= chrono::Duration::hours(12),
        "{left}"
    );

    // The real AWS CLI reads the profile we wrote and calls STS with it.
    let out = StdCommand::new(common::venv().join("bin/aws"))
        .args([
            "sts",
            "get-caller-identity",
            "--profile",
            "work",
            "--endpoint-url",
            &moto,
            "--region",
            "us-east-1",
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
    let id: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        id["Arn"],
        format!("arn:aws:iam::123456789012:user/{}", user.name),
        "{id}"
    );
    assert!(s["aws_access_key_id"].starts_with("ASIA"));

    // boto3 reads it too.
    let py = "import boto3,sys; c=boto3.Session(profile_name='work').get_credentials(); \
              print(c.access_key, c.token is not None)";
    let out = StdCommand::new(common::venv().join("bin/python"))
        .args(["-c", py])
        .env_clear()
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{} True", s["aws_access_key_id"])
    );

    // A second login while the session is fresh makes no call and changes nothing.
    let before = home.read_credentials();
    home.cmd_at("http://127.0.0.1:9")
        .args(["login", "--profile", "work"])
        .assert()
        .success()
        .stderr(predicate::str::contains("still valid until"));
    assert_eq!(home.read_credentials(), before);
}

#[test]
fn the_emulator_rejects_a_wrong_or_reused_code_and_the_file_stays() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    home.write_credentials(&format!(
        "[p-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\nmfa_serial = {}\n",
        user.access_key_id, user.secret_access_key, user.serial
    ));
    let wrong = if common::totp_now(&user.seed) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert_fails(
        &home,
        &moto,
        &["login", "-p", "p", "-c", wrong],
        5,
        "rejected the MFA code",
    );
    let code = common::totp_now(&user.seed);
    home.cmd_at(&moto)
        .args(["login", "-p", "p", "-c", &code])
        .assert()
        .success();
    // AWS accepts a code once per device and 30-second window.
    let out = home
        .cmd_at(&moto)
        .args(["login", "-p", "p", "-c", &code, "--force"])
        .output()
        .unwrap();
    if common::totp_now(&user.seed) == code {
        assert_eq!(
            out.status.code(),
            Some(5),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A serial that is not the user's.
    let other = common::provision_user(&moto);
    let out = home
        .cmd_at(&moto)
        .args([
            "login",
            "-p",
            "p",
            "--force",
            "-s",
            &other.serial,
            "-c",
            &common::totp_now(&other.seed),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not associated with this user"));
}

#[test]
fn several_devices_without_a_terminal_are_listed() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let second = common::add_device(&moto, &user.name, &format!("{}-backup", user.name));
    let home = Home::new();
    let original = format!(
        "[p-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.access_key_id, user.secret_access_key
    );
    home.write_credentials(&original);
    home.cmd_at(&moto)
        .args(["login", "-p", "p", "--code", "123456"])
        .assert()
        .code(8)
        .stderr(predicate::str::contains(&user.serial))
        .stderr(predicate::str::contains(&second))
        .stderr(predicate::str::contains("--serial"));
    assert_eq!(home.read_credentials(), original);
}

// ---------------------------------------------------------------- against the fake endpoint

#[test]
fn steady_state_is_exactly_one_sts_call_signed_with_the_long_term_key() {
    let fake = FakeAws::start();
    fake.on(
        "GetSessionToken",
        vec![Reply::Http(200, fake_aws::session_xml(&in_hours(12)))],
    );
    let home = home_with_long_term(&format!("mfa_serial = {SERIAL}\n"));
    home.cmd_at(&fake.url)
        // A shell that ran `eval "$(mfa-session export)"` has a session in its environment:
        // it must not be used to sign.
        .env("AWS_ACCESS_KEY_ID", "ASIAFROMTHEENVIRONMNT")
        .env("AWS_SECRET_ACCESS_KEY", "env-secret")
        .env("AWS_SESSION_TOKEN", "env-token")
        .env("AWS_PROFILE", "dev")
        .args(["login", "--force", "--code", "123456"])
        .assert()
        .success();
    let reqs = fake.requests();
    assert_eq!(fake.actions(), ["GetSessionToken"]);
    assert!(
        reqs[0]
            .authorization
            .contains(&format!("Credential={LT_KEY}/")),
        "{}",
        reqs[0].authorization
    );
    assert!(reqs[0].body.contains("TokenCode=123456"));
    assert!(
        reqs[0]
            .body
            .contains(&format!("SerialNumber={}", urlencode(SERIAL)))
    );
    assert!(reqs[0].body.contains("DurationSeconds=43200"));
    let s = profile(&home.read_credentials(), "dev");
    assert_eq!(s["aws_access_key_id"], fake_aws::SESSION_KEY_ID);
    assert_eq!(s["aws_secret_access_key"], fake_aws::SESSION_SECRET);
    assert_eq!(s["aws_session_token"], fake_aws::SESSION_TOKEN);
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

#[test]
fn duration_from_flag_and_config() {
    let fake = FakeAws::start();
    fake.on(
        "GetSessionToken",
        vec![Reply::Http(200, fake_aws::session_xml(&in_hours(1)))],
    );
    let home = home_with_long_term(&format!("mfa_serial = {SERIAL}\n"));
    home.write_config("[profile dev]\nduration_seconds = 7200\nregion = eu-central-1\n");
    home.cmd_at(&fake.url)
        .args(["login", "-p", "dev", "-c", "123456"])
        .assert()
        .success();
    home.cmd_at(&fake.url)
        .args([
            "login",
            "-p",
            "dev",
            "-c",
            "123456",
            "--force",
            "--duration",
            "1d12h",
        ])
        .assert()
        .success();
    let bodies: Vec<String> = fake.requests().into_iter().map(|r| r.body).collect();
    assert!(bodies[0].contains("DurationSeconds=7200"), "{}", bodies[0]);
    assert!(
        bodies[1].contains("DurationSeconds=129600"),
        "{}",
        bodies[1]
    );
    assert!(
        fake.requests()[0]
            .authorization
            .contains("/eu-central-1/sts/")
    );
}

/// Runs a login that must fail, and checks code, message and the unchanged file.
fn assert_fails(home: &Home, endpoint: &str, args: &[&str], code: i32, message: &str) -> String {
    let before = home.read_credentials();
    let out = home.cmd_at(endpoint).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(
        stderr.contains(message),
        "expected {message:?} in:\n{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(
        home.read_credentials(),
        before,
        "the file changed on failure"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line:\n{stderr}");
    stderr
}

fn sts_error(status: u16, code: &str, message: &str) -> Vec<Reply> {
    vec![Reply::Http(status, error_xml("sts", code, message))]
}

#[test]
fn aws_errors_are_one_actionable_line_with_their_exit_code() {
    let login = ["login", "-p", "dev", "--code", "123456"];
    let cases: &[(Vec<Reply>, i32, &str)] = &[
        (
            sts_error(
                403,
                "AccessDenied",
                "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
            ),
            5,
            "rejected the MFA code",
        ),
        (
            sts_error(
                403,
                "AccessDenied",
                "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.",
            ),
            5,
            "serial is not associated with this user",
        ),
        (
            sts_error(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ),
            6,
            "invalid, inactive or deleted",
        ),
        (
            sts_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            ),
            6,
            "secret access key",
        ),
        (
            sts_error(
                403,
                "SignatureDoesNotMatch",
                "Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z (20260101T001500Z - 15 min.)",
            ),
            6,
            "clock",
        ),
        (
            sts_error(400, "Throttling", "Rate exceeded"),
            7,
            "throttling",
        ),
        (
            sts_error(
                503,
                "ServiceUnavailable",
                "Service is unable to handle request.",
            ),
            7,
            "server error (503)",
        ),
    ];
    for (replies, code, message) in cases {
        let fake = FakeAws::start();
        fake.on("GetSessionToken", replies.clone());
        let home = home_with_long_term(&format!("mfa_serial = {SERIAL}\n"));
        assert_fails(&home, &fake.url, &login, *code, message);
        // A call carrying a one-time code is never retried (tests/hardening.rs has the calls
        // without a code, which are).
        assert_eq!(fake.actions().len(), 1, "{message}: not retried");
    }
}

#[test]
fn timeout_and_connection_refused() {
    let fake = FakeAws::start();
    fake.on("GetSessionToken", vec![Reply::Hang]);
    let home = home_with_long_term(&format!("mfa_serial = {SERIAL}\n"));
    let start = Instant::now();
    assert_fails(
        &home,
        &fake.url,
        &["login", "-p", "dev", "-c", "123456", "--timeout", "1s"],
        7,
        "timed out",
    );
    assert!(start.elapsed() < Duration::from_secs(20));
    // Port 9 (discard) on loopback: nothing listens.
    assert_fails(
        &home,
        "http://127.0.0.1:9",
        &["login", "-p", "dev", "-c", "123456"],
        7,
        "cannot connect",
    );
}

#[test]
fn list_devices_denied_suggests_serial() {
    let fake = FakeAws::start();
    fake.on(
        "ListMFADevices",
        vec![Reply::Http(
            403,
            error_xml(
                "iam",
                "AccessDenied",
                "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:ListMFADevices",
            ),
        )],
    );
    let home = home_with_long_term("");
    assert_fails(
        &home,
        &fake.url,
        &["login", "-p", "dev", "-c", "123456"],
        6,
        "pass --serial",
    );
    assert_eq!(fake.actions(), ["ListMFADevices"]);
}

#[test]
fn single_device_is_found_and_remembered_then_one_call() {
    let fake = FakeAws::start();
    fake.on(
        "ListMFADevices",
        vec![Reply::Http(200, fake_aws::devices_xml("alice", &[SERIAL]))],
    );
    fake.on(
        "GetSessionToken",
        vec![Reply::Http(200, fake_aws::session_xml(&in_hours(12)))],
    );
    let home = home_with_long_term("");
    home.cmd_at(&fake.url)
        .args(["login", "-p", "dev", "-c", "123456"])
        .assert()
        .success();
    assert_eq!(fake.actions(), ["ListMFADevices", "GetSessionToken"]);
    assert_eq!(
        profile(&home.read_credentials(), "dev-long-term")["mfa_serial"],
        SERIAL
    );
    home.cmd_at(&fake.url)
        .args(["login", "-p", "dev", "-c", "123456", "--force"])
        .assert()
        .success();
    assert_eq!(
        fake.actions(),
        ["ListMFADevices", "GetSessionToken", "GetSessionToken"]
    );
}

#[test]
fn aws_mfa_setups_are_read_as_they_are() {
    let fake = FakeAws::start();
    fake.on(
        "GetSessionToken",
        vec![Reply::Http(200, fake_aws::session_xml(&in_hours(12)))],
    );
    let home = Home::new();
    let expired = (Utc::now() - chrono::Duration::hours(1)).format("%Y-%m-%d %H:%M:%S");
    home.write_credentials(&format!(
        "[dev-long-term]\naws_access_key_id = {LT_KEY}\naws_secret_access_key = {LT_SECRET}\n\
         aws_mfa_device = {SERIAL}\n\n[dev]\naws_access_key_id = ASIAOLD\naws_secret_access_key = old\n\
         aws_session_token = oldtoken\naws_security_token = oldtoken\nexpiration = {expired}\n"
    ));
    home.cmd_at(&fake.url)
        .args(["login", "-p", "dev", "-c", "123456"])
        .assert()
        .success();
    assert_eq!(
        fake.actions(),
        ["GetSessionToken"],
        "serial from aws_mfa_device, no discovery"
    );
    let s = profile(&home.read_credentials(), "dev");
    assert_eq!(s["aws_security_token"], fake_aws::SESSION_TOKEN);
    assert_eq!(s["aws_session_token"], fake_aws::SESSION_TOKEN);

    // A valid aws-mfa session (its own expiration format) is kept without a call.
    let fake = FakeAws::start();
    let valid = (Utc::now() + chrono::Duration::hours(5)).format("%Y-%m-%d %H:%M:%S");
    home.write_credentials(&format!(
        "[dev-long-term]\naws_access_key_id = {LT_KEY}\naws_secret_access_key = {LT_SECRET}\n\n\
         [dev]\naws_access_key_id = ASIAOLD\naws_secret_access_key = old\naws_session_token = t\nexpiration = {valid}\n"
    ));
    home.cmd_at(&fake.url)
        .args(["login", "-p", "dev"])
        .assert()
        .success()
        .stderr(predicate::str::contains("still valid"));
    assert!(fake.actions().is_empty());
}

/// `key : value` (a colon, no `=`): the SDKs' grammar rejects it, but the AWS CLI reads it. We
/// read such lines as the CLI does (shown here by the CLI itself) and keep them byte for byte.
#[test]
fn colon_property_lines_are_read_like_the_aws_cli_and_kept() {
    let fake = FakeAws::start();
    fake.on(
        "GetSessionToken",
        vec![
            Reply::Http(200, fake_aws::session_xml(&in_hours(12))),
            Reply::Http(200, fake_aws::session_xml(&in_hours(12))),
        ],
    );
    let home = Home::new();
    let text = format!(
        "[other]\nregion : eu-west-3\n\n[dev-long-term]\naws_access_key_id = {LT_KEY}\n\
         aws_secret_access_key = {LT_SECRET}\nmfa_serial : {SERIAL}\n"
    );
    home.write_credentials(&text);
    home.write_config("[profile dev]\nregion : eu-central-1\n");
    home.cmd_at(&fake.url)
        .args(["login", "-p", "dev", "-c", "123456"])
        .assert()
        .success();
    assert_eq!(
        fake.actions(),
        ["GetSessionToken"],
        "serial read from the colon line"
    );
    assert!(
        fake.requests()[0]
            .authorization
            .contains("/eu-central-1/sts/")
    );
    let after = home.read_credentials();
    assert!(after.starts_with(&text), "{after}");
    let cli = StdCommand::new(common::venv().join("bin/aws"))
        .args(["configure", "get", "region", "--profile", "other"])
        .env_clear()
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&cli.stdout).trim(), "eu-west-3");
    // The same line is never edited: writing a session over a colon line is refused.
    home.write_credentials(&format!(
        "{text}\n[dev]\naws_session_token : x\nexpiration : 2001-01-01T00:00:00Z\n"
    ));
    let before = home.read_credentials();
    let out = home
        .cmd_at(&fake.url)
        .args(["login", "-p", "dev", "-c", "123456"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not edit them"), "{err}");
    assert_eq!(home.read_credentials(), before);
}

#[test]
fn setup_problems_fail_before_any_call() {
    let fake = FakeAws::start();
    // Static keys in [dev] and no [dev-long-term].
    let home = Home::new();
    home.write_credentials(&format!(
        "[dev]\naws_access_key_id = {LT_KEY}\naws_secret_access_key = {LT_SECRET}\n"
    ));
    assert_fails(
        &home,
        &fake.url,
        &["login", "-p", "dev", "-c", "123456"],
        9,
        "rename the header [dev] to [dev-long-term]",
    );
    // No keys at all.
    let home = Home::new();
    home.write_credentials("[other]\nx = 1\n");
    assert_fails(
        &home,
        &fake.url,
        &["login", "-p", "dev", "-c", "123456"],
        9,
        "[dev-long-term]",
    );
    // Durations outside AWS's limits.
    let home = home_with_long_term(&format!("mfa_serial = {SERIAL}\n"));
    assert_fails(
        &home,
        &fake.url,
        &["login", "-p", "dev", "-c", "123456", "-d", "10m"],
        2,
        "900 s (15m) to 129600 s (36h)",
    );
    assert_fails(
        &home,
        &fake.url,
        &["login", "-p", "dev", "-c", "123456", "-d", "37h"],
        2,
        "129600",
    );
    // A malformed credentials file.
    home.write_credentials("[dev-long-term\n");
    assert_fails(
        &home,
        &fake.url,
        &["login", "-p", "dev", "-c", "123456"],
        3,
        "credentials:1:",
    );
    assert!(fake.actions().is_empty());
}

#[test]
fn a_bad_code_is_refused_without_echoing_it() {
    let fake = FakeAws::start();
    let home = home_with_long_term(&format!("mfa_serial = {SERIAL}\n"));
    for code in ["12345", "1234567", "12a456"] {
        let err = assert_fails(
            &home,
            &fake.url,
            &["login", "-p", "dev", "-c", code],
            2,
            "exactly 6 digits",
        );
        assert!(!err.contains(code), "{err}");
    }
    assert!(fake.actions().is_empty());
}

#[cfg(unix)]
#[test]
fn no_terminal_and_no_code_fails_at_once() {
    let fake = FakeAws::start();
    let home = home_with_long_term(&format!("mfa_serial = {SERIAL}\n"));
    let before = home.read_credentials();
    let start = Instant::now();
    // setsid: a new session with no controlling terminal, as under cron; stdin closed.
    let out = home.no_tty(&fake.url, &["login", "-p", "dev"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{stderr}");
    assert!(stderr.contains("--code"), "{stderr}");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(fake.actions().is_empty());
    assert_eq!(home.read_credentials(), before);
}

#[test]
fn long_term_keys_in_the_session_section_are_never_overwritten() {
    let fake = FakeAws::start();
    fake.on(
        "GetSessionToken",
        vec![Reply::Http(200, fake_aws::session_xml(&in_hours(12)))],
    );
    let home = Home::new();
    home.write_credentials(&format!(
        "[dev-long-term]\naws_access_key_id = {LT_KEY}\naws_secret_access_key = {LT_SECRET}\nmfa_serial = {SERIAL}\n\
         [dev]\naws_access_key_id = AKIAOTHERSTATICKEY01\naws_secret_access_key = other\n"
    ));
    // Refused before any call (no code spent), saying what is wrong: two different keys.
    let msg = assert_fails(
        &home,
        &fake.url,
        &["login", "-p", "dev", "-c", "123456"],
        9,
        "[dev] holds long-term access key AKIAOTHERSTATICKEY01",
    );
    assert!(
        msg.contains("differs from the key in [dev-long-term]"),
        "{msg}"
    );
    assert!(fake.actions().is_empty(), "{:?}", fake.actions());
}

/// Long-term keys in `[P]` next to a `[P-long-term]` are refused before GetSessionToken, for
/// `login` and for a cron `refresh` alike: the emulator sees no call, no code is spent, and the
/// message says what is wrong and that `setup` removes the copy.
#[cfg(unix)]
#[test]
fn a_copy_of_the_long_term_keys_in_the_session_section_spends_no_code() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    let seed = common::seed_file(&home, "work", &user, 0o600);
    home.write_credentials(&format!(
        "{}[work]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        common::long_term("work", &user, &format!("mfa_totp_secret_file = {seed}")),
        user.access_key_id,
        user.secret_access_key
    ));
    let before = home.read_credentials();
    let out = home.no_tty(&moto, &["login", "-p", "work"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "[work] holds a copy of long-term access key {}",
            user.access_key_id
        )) && err.contains("mfa-session setup --profile work"),
        "{err}"
    );
    assert!(!err.contains(&user.secret_access_key), "{err}");
    let out = home.no_tty(&moto, &["refresh", "--all"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(10), "{err}");
    assert!(err.contains("mfa-session setup --profile work"), "{err}");
    assert_eq!(common::calls(&user, "GetSessionToken"), 0);
    assert_eq!(home.read_credentials(), before);
    // setup removes the copy; then login works.
    home.cmd().args(["setup", "-p", "work"]).assert().success();
    home.cmd_at(&moto)
        .args(["login", "-p", "work"])
        .assert()
        .success();
    assert_eq!(common::calls(&user, "GetSessionToken"), 1);
}

#[test]
fn secrets_never_reach_stderr_even_at_trace() {
    let fake = FakeAws::start();
    fake.on(
        "GetSessionToken",
        vec![Reply::Http(200, fake_aws::session_xml(&in_hours(12)))],
    );
    let home = home_with_long_term(&format!("mfa_serial = {SERIAL}\n"));
    let out = home
        .cmd_at(&fake.url)
        .args(["-vvv", "login", "-p", "dev", "-c", "135790"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GetSessionToken"),
        "-vvv logs something:\n{stderr}"
    );
    for secret in [
        LT_SECRET,
        fake_aws::SESSION_SECRET,
        fake_aws::SESSION_TOKEN,
        "135790",
    ] {
        assert!(!stderr.contains(secret), "{secret} leaked:\n{stderr}");
    }
    // And on failure too.
    let fake = FakeAws::start();
    fake.on(
        "GetSessionToken",
        sts_error(
            403,
            "AccessDenied",
            "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
        ),
    );
    let out = home
        .cmd_at(&fake.url)
        .args(["-vvv", "login", "-p", "dev", "-c", "135790", "--force"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for secret in [LT_SECRET, "135790"] {
        assert!(!stderr.contains(secret), "{secret} leaked:\n{stderr}");
    }
}

#[cfg(unix)]
#[test]
fn prompts_on_the_real_terminal_and_asks_again_after_a_rejected_code() {
    let fake = FakeAws::start();
    fake.on(
        "GetSessionToken",
        vec![
            Reply::Http(
                403,
                error_xml(
                    "sts",
                    "AccessDenied",
                    "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
                ),
            ),
            Reply::Http(200, fake_aws::session_xml(&in_hours(12))),
        ],
    );
    let home = home_with_long_term(&format!("mfa_serial = {SERIAL}\n"));
    let bin = assert_cmd::cargo::cargo_bin("mfa-session");
    // `script` gives the command a pseudo-terminal as its controlling terminal (/dev/tty) and
    // types our lines into it, as a person would.
    let out = home.on_terminal(
        &fake.url,
        &format!("{} login -p dev", bin.display()),
        Some("MFA code for"),
        &["111111", "222222"],
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert_eq!(
        screen
            .matches(&format!("MFA code for profile dev ({SERIAL}): "))
            .count(),
        2,
        "{screen}"
    );
    assert!(screen.contains("AWS rejected that code"), "{screen}");
    let bodies: Vec<String> = fake.requests().into_iter().map(|r| r.body).collect();
    assert!(bodies[0].contains("TokenCode=111111") && bodies[1].contains("TokenCode=222222"));
    assert_eq!(
        profile(&home.read_credentials(), "dev")["aws_session_token"],
        fake_aws::SESSION_TOKEN
    );
}

#[test]
fn root_users_are_told_about_the_one_hour_cap() {
    let fake = FakeAws::start();
    // AWS silently shortens a root user's session to one hour.
    fake.on(
        "GetSessionToken",
        vec![Reply::Http(200, fake_aws::session_xml(&in_hours(1)))],
    );
    let home = home_with_long_term(&format!("mfa_serial = {SERIAL}\n"));
    home.cmd_at(&fake.url)
        .args(["login", "-p", "dev", "-c", "123456"])
        .assert()
        .success()
        .stderr(predicate::str::contains("root user are capped at 3600 s"));
}

#[test]
fn region_and_endpoint_precedence() {
    let fake = FakeAws::start();
    fake.on(
        "GetSessionToken",
        vec![Reply::Http(200, fake_aws::session_xml(&in_hours(12)))],
    );
    let home = home_with_long_term(&format!("mfa_serial = {SERIAL}\n"));
    // endpoint_url from the config file; region from it unless the environment or flag says.
    home.write_config(&format!(
        "[profile dev]\nregion = eu-central-1\nendpoint_url = {}\n",
        fake.url
    ));
    let login = ["login", "-p", "dev", "-c", "123456", "--force"];
    home.cmd().args(login).assert().success();
    home.cmd()
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .args(login)
        .assert()
        .success();
    home.cmd()
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .env("AWS_REGION", "eu-north-1")
        .args(login)
        .assert()
        .success();
    home.cmd()
        .env("AWS_REGION", "eu-north-1")
        .args(login)
        .args(["--region", "ap-south-1"])
        .assert()
        .success();
    // A service-specific variable beats the config file.
    home.cmd()
        .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
        .args(login)
        .assert()
        .code(7);
    let regions: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.authorization.split('/').nth(2).unwrap().to_string())
        .collect();
    assert_eq!(
        regions,
        ["eu-central-1", "eu-west-1", "eu-north-1", "ap-south-1"]
    );
}
