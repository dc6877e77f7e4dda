//! `mfa-session setup`: static keys moved losslessly, the serial found and stored, then a login
//! that works; idempotent; refusals; code sources recorded; no terminal needed.
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // test code: see [lints] in Cargo.toml

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use common::{Home, profile};

fn setup(home: &Home, endpoint: &str, args: &[&str]) -> Output {
    let args: Vec<&str> = std::iter::once("setup")
        .chain(args.iter().copied())
        .collect();
    home.no_tty(endpoint, &args)
}

#[test]
fn setup_then_login_on_a_file_with_comments() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    let original = format!(
        "# my work account\n[work]\n# created 2024-01-01\naws_access_key_id = {}\naws_secret_access_key = {}\nregion = eu-west-1 ; keep\n\n[other]\nx = 1\n",
        user.access_key_id, user.secret_access_key
    );
    home.write_credentials(&original);
    let out = setup(&home, &moto, &["--profile", "work"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("moved access key") && err.contains(&user.serial),
        "{err}"
    );
    assert!(
        err.contains("next: mfa-session login --profile work"),
        "{err}"
    );
    assert!(!err.contains(&user.secret_access_key));
    let text = home.read_credentials();
    assert_eq!(
        text,
        format!(
            "# my work account\n[work]\n# created 2024-01-01\nregion = eu-west-1 ; keep\n\n[other]\nx = 1\n\n\
             [work-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\nmfa_serial = {}\n",
            user.access_key_id, user.secret_access_key, user.serial
        )
    );

    // Again: nothing changes.
    let out = setup(&home, &moto, &["--profile", "work"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds the long-term keys"));
    assert_eq!(home.read_credentials(), text);

    home.cmd_at(&moto)
        .args(["login", "-p", "work", "-c", &common::totp_now(&user.seed)])
        .assert()
        .success();
    let s = profile(&home.read_credentials(), "work");
    assert!(s["aws_access_key_id"].starts_with("ASIA"));
    assert_eq!(s["region"], "eu-west-1");
}

#[test]
fn refusals_leave_the_file_alone() {
    let home = Home::new();
    // A session in [p] and no long-term keys anywhere.
    let session = "[p]\naws_access_key_id = ASIA\naws_secret_access_key = s\naws_session_token = t\nexpiration = 2030-01-01T00:00:00Z\n";
    home.write_credentials(session);
    let out = setup(&home, "http://127.0.0.1:9", &["-p", "p"]);
    assert_eq!(
        out.status.code(),
        Some(9),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(home.read_credentials(), session);
    // Different keys in both sections.
    let both = "[p]\naws_access_key_id = AKIAONE\naws_secret_access_key = one\n[p-long-term]\naws_access_key_id = AKIATWO\naws_secret_access_key = two\n";
    home.write_credentials(both);
    let out = setup(&home, "http://127.0.0.1:9", &["-p", "p"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("different access keys"));
    assert_eq!(home.read_credentials(), both);
    // An unsafe seed file.
    home.write_credentials("[p]\naws_access_key_id = AKIAONE\naws_secret_access_key = one\n");
    let seed = home.path().join("seed");
    std::fs::write(&seed, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n").unwrap();
    std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = setup(
        &home,
        "http://127.0.0.1:9",
        &[
            "-p",
            "p",
            "-s",
            "arn:aws:iam::1:mfa/p",
            "--totp-secret-file",
            seed.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(9));
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
    assert_eq!(
        home.read_credentials(),
        "[p]\naws_access_key_id = AKIAONE\naws_secret_access_key = one\n"
    );
}

#[test]
fn records_a_code_source_and_a_given_serial_without_network() {
    let home = Home::new();
    home.write_credentials("[p]\naws_access_key_id = AKIAONE\naws_secret_access_key = one\n");
    let out = setup(
        &home,
        "http://127.0.0.1:9",
        &[
            "-p",
            "p",
            "--serial",
            "arn:aws:iam::1:mfa/p",
            "--mfa-process",
            "ykman oath accounts code -s aws",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lt = profile(&home.read_credentials(), "p-long-term");
    assert_eq!(lt["mfa_serial"], "arn:aws:iam::1:mfa/p");
    assert_eq!(lt["mfa_process"], "ykman oath accounts code -s aws");
    assert_eq!(lt["aws_access_key_id"], "AKIAONE");
    assert!(profile(&home.read_credentials(), "p").is_empty());
}
