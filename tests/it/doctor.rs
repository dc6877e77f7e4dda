//! `doctor` through the binary against the emulator: a working profile passes every check and
//! costs no code; each kind of breakage is one failing (or warning) line with its fix and the
//! right exit status; a clock shifted with `faketime` is caught against the time in STS's
//! answer, whichever way it is off. Nothing is ever written.

use std::process::Output;

use serde_json::Value;

use crate::common::{self, Home, IamUser, calls, long_term, seed_file};

/// A home where [work] is set up as a careful user would: keys in [work-long-term] (0600), a
/// private seed file as code source, and credential_process wired under another name.
fn set_up(user: &IamUser) -> Home {
    let home = Home::new();
    let seed = seed_file(&home, "work", user, 0o600);
    home.write_credentials(&long_term(
        "work",
        user,
        &format!("mfa_totp_secret_file = {seed}"),
    ));
    std::fs::set_permissions(
        home.credentials(),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    home.write_config(&format!(
        "[profile work-mfa]\ncredential_process = {} credential-process --profile work\n",
        assert_cmd::cargo::cargo_bin("mfa-session").display()
    ));
    home
}

/// `doctor --json` for `profile` with extra environment; the exit code and the report.
fn doctor(home: &Home, moto: &str, profile: &str, env: &[(&str, &str)]) -> (Option<i32>, Value) {
    let mut cmd = home.cmd_at(moto);
    cmd.args(["doctor", "--json", "--profile", profile]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let report = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

/// The checks of `area`, as (status, detail, fix).
fn checks(report: &Value, area: &str) -> Vec<(String, String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == area)
        .map(|c| {
            (
                c["status"].as_str().unwrap().to_string(),
                c["detail"].as_str().unwrap().to_string(),
                c["fix"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn status_of(report: &Value, area: &str) -> String {
    let found = checks(report, area);
    assert_eq!(found.len(), 1, "one {area} check expected: {report:#}");
    found[0].0.clone()
}

#[test]
fn a_working_profile_passes_every_check_and_spends_no_code() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = set_up(&user);
    let before = home.read_credentials();
    let (code, report) = doctor(&home, &moto, "work", &[]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["login_would_work"], true);
    for c in report["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "ok", "{c}");
    }
    let areas: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    for area in [
        "profile",
        "environment",
        "credentials file",
        "config file",
        "long-term keys",
        "aws",
        "clock",
        "mfa device",
        "session",
        "code source",
        "credential_process",
    ] {
        assert!(areas.contains(&area), "{area} missing: {areas:?}");
    }
    assert_eq!(areas[0], "profile", "what the profile is comes first");
    assert!(
        checks(&report, "aws")[0]
            .1
            .contains(&format!("user/{}", user.name))
    );
    assert!(checks(&report, "mfa device")[0].1.contains(&user.serial));
    assert!(
        checks(&report, "credentials file")[0]
            .1
            .contains("mode 0600")
    );
    assert!(checks(&report, "code source")[0].1.contains("base32 seed"));
    // Nothing written, no code spent, no secret shown.
    assert_eq!(home.read_credentials(), before);
    assert_eq!(calls(&user, "GetSessionToken"), 0);
    let text = report.to_string();
    assert!(!text.contains(&user.secret_access_key));
    assert!(!text.contains(&user.seed));

    // The plain report says the same, one line per check, and the verdict.
    let out = home
        .cmd_at(&moto)
        .args(["doctor", "-p", "work"])
        .output()
        .unwrap();
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.lines().any(|l| l.starts_with("ok    clock")),
        "{shown}"
    );
    assert!(shown.ends_with("login would work\n"), "{shown}");
}

/// `doctor` with this machine's clock shifted by `offset` (libfaketime's syntax).
fn doctor_with_clock(home: &Home, moto: &str, offset: &str) -> Output {
    let faketime = std::process::Command::new("faketime")
        .arg("--version")
        .output();
    assert!(
        faketime.is_ok(),
        "faketime is needed for the clock-skew test (Debian package faketime; \
         scripts/setup-test-env installs it)"
    );
    std::process::Command::new("faketime")
        .args(["-f", offset])
        .arg(assert_cmd::cargo::cargo_bin("mfa-session"))
        .args(["doctor", "--json", "-p", "work"])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("AWS_ENDPOINT_URL", moto)
        // Only the wall clock moves: timeouts run on the monotonic clock, and a faked one put
        // a bounded wait's deadline out of the kernel's reach (a refresh hung for minutes).
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .output()
        .unwrap()
}

#[test]
fn a_clock_off_by_more_than_five_minutes_is_found_against_the_time_aws_answers_with() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = set_up(&user);
    for (offset, direction) in [("+10m", "ahead of"), ("-7m", "behind")] {
        let out = doctor_with_clock(&home, &moto, offset);
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(out.status.code(), Some(1), "{report:#}");
        let clock = checks(&report, "clock");
        assert_eq!(clock[0].0, "fail", "{report:#}");
        assert!(clock[0].1.contains(direction), "{offset}: {}", clock[0].1);
        assert!(clock[0].2.contains("timedatectl"), "{}", clock[0].2);
        // AWS (the emulator, as AWS does) refused the signature's time: said as such.
        let aws = checks(&report, "aws");
        assert_eq!(aws[0].0, "fail");
        assert!(aws[0].1.contains("clock"), "{}", aws[0].1);
    }
    // A clock 2 minutes off still works, with a warning.
    let out = doctor_with_clock(&home, &moto, "+2m");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status_of(&report, "clock"), "warn", "{report:#}");
    assert_eq!(status_of(&report, "aws"), "ok", "{report:#}");
    assert_eq!(out.status.code(), Some(0), "{report:#}");
}

#[test]
fn variables_that_override_the_profile_are_named_without_their_values() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = set_up(&user);
    std::fs::set_permissions(
        home.credentials(),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let (code, report) = doctor(
        &home,
        &moto,
        "work",
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENTKEY01"),
            ("AWS_SECRET_ACCESS_KEY", "environment-secret-value"),
            ("AWS_PROFILE", "other"),
        ],
    );
    // Warnings only: a login would still work.
    assert_eq!(code, Some(0), "{report:#}");
    let env = checks(&report, "environment");
    assert!(
        env.iter().any(|(s, d, f)| s == "warn"
            && d.contains("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY")
            && f.contains("unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY")),
        "{env:?}"
    );
    assert!(
        env.iter()
            .any(|(s, d, _)| s == "warn" && d.contains("AWS_PROFILE=other")),
        "{env:?}"
    );
    let file = &checks(&report, "credentials file")[0];
    assert_eq!(file.0, "warn");
    assert!(file.2.starts_with("chmod 600 "), "{file:?}");
    let text = report.to_string();
    assert!(!text.contains("environment-secret-value"));
    assert!(!text.contains("AKIAENVIRONMENTKEY01"));
}

#[test]
fn each_breakage_fails_its_own_check_with_the_fix_and_nothing_is_written() {
    let moto = common::moto();
    let user = common::provision_user(&moto);

    // A profile that is nowhere.
    let home = set_up(&user);
    let (code, report) = doctor(&home, &moto, "nowhere", &[]);
    assert_eq!(code, Some(1));
    assert_eq!(status_of(&report, "profile"), "fail");
    assert!(
        checks(&report, "profile")[0]
            .2
            .contains("mfa-session setup")
    );

    // A key AWS does not know (deleted, or a typo).
    let home = Home::new();
    let seed = seed_file(&home, "work", &user, 0o600);
    let dead = long_term("work", &user, &format!("mfa_totp_secret_file = {seed}"))
        .replace(&user.access_key_id, "AKIAXXXXXXXXXXXXXXXX");
    home.write_credentials(&dead);
    let (code, report) = doctor(&home, &moto, "work", &[]);
    assert_eq!(code, Some(1), "{report:#}");
    let aws = &checks(&report, "aws")[0];
    assert_eq!(aws.0, "fail");
    assert!(
        aws.1.contains("rejected the long-term access key"),
        "{aws:?}"
    );
    assert_eq!(home.read_credentials(), dead);

    // A code source whose program is not there, and a device that is not the user's.
    let home = Home::new();
    let creds = long_term(
        "work",
        &user,
        "mfa_process = no-such-otp-tool --account aws",
    )
    .replace(&user.serial, "arn:aws:iam::123456789012:mfa/somebody-else");
    home.write_credentials(&creds);
    let (code, report) = doctor(&home, &moto, "work", &[]);
    assert_eq!(code, Some(1), "{report:#}");
    let source = &checks(&report, "code source")[0];
    assert_eq!(source.0, "fail");
    assert!(source.1.contains("no-such-otp-tool"), "{source:?}");
    let device = &checks(&report, "mfa device")[0];
    assert_eq!(device.0, "fail");
    assert!(
        device.1.contains(&user.serial),
        "lists the real device: {device:?}"
    );

    // credential_process under the session profile's own name.
    let home = set_up(&user);
    home.write_config(&format!(
        "[profile work]\ncredential_process = {} credential-process --profile work\n",
        assert_cmd::cargo::cargo_bin("mfa-session").display()
    ));
    let (code, report) = doctor(&home, &moto, "work", &[]);
    assert_eq!(code, Some(1), "{report:#}");
    let wiring = &checks(&report, "credential_process")[0];
    assert_eq!(wiring.0, "fail");
    assert!(wiring.2.contains("[profile work-mfa]"), "{wiring:?}");

    // A credentials file that does not parse: the line is named, the file kept.
    let home = Home::new();
    home.write_credentials("[work-long-term]\nthis line is not a property\n");
    let (code, report) = doctor(&home, &moto, "work", &[]);
    assert_eq!(code, Some(1), "{report:#}");
    let file = &checks(&report, "credentials file")[0];
    assert_eq!(file.0, "fail");
    assert!(file.1.contains(":2:"), "{file:?}");
    assert_eq!(
        home.read_credentials(),
        "[work-long-term]\nthis line is not a property\n"
    );
    assert_eq!(calls(&user, "GetSessionToken"), 0);
}

#[test]
fn a_role_profile_is_checked_through_its_source() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = set_up(&user);
    home.write_config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = work\n",
    );
    let (code, report) = doctor(&home, &moto, "admin", &[]);
    assert_eq!(code, Some(0), "{report:#}");
    let profile = &checks(&report, "profile")[0];
    assert!(
        profile.1.contains("role profile") && profile.1.contains("[work]"),
        "{profile:?}"
    );
    assert_eq!(status_of(&report, "aws"), "ok");
    assert_eq!(status_of(&report, "session"), "ok");

    home.write_config("[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\n");
    let (code, report) = doctor(&home, &moto, "admin", &[]);
    assert_eq!(code, Some(1), "{report:#}");
    assert!(checks(&report, "profile")[0].2.contains("source_profile"));
}
