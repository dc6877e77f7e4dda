//! MFA devices STS does not take: security keys and passkeys (`u2f` serials), which AWS lets
//! users register since 2024 and lists in ListMFADevices. Through the binary against the
//! emulator, which accepts such serials in EnableMFADevice and lists them as AWS does: a user
//! with only a security key gets one message and exit 5 with no STS call (counted at the
//! emulator), from `login` whatever asks for the code; a security key next to a virtual device
//! is skipped without asking to choose; a configured u2f `mfa_serial` is refused before any
//! call, for a role too; `setup` and `doctor` say the same.

use crate::common::{self, Home, IamUser, ROLE, calls, profile};

/// A user whose only MFA device is a security key; returns the user and the key's serial.
fn key_only_user(moto: &str) -> (IamUser, String) {
    let user = common::provision_user(moto);
    common::remove_virtual_device(moto, &user);
    let key = common::add_security_key(moto, &user, "yubikey-5c-ABCDEF0123");
    (user, key)
}

fn keys_only(user: &IamUser) -> String {
    format!(
        "[p-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.access_key_id, user.secret_access_key
    )
}

/// The one message about security keys: what they are for, what to register, `aws login`.
fn assert_explains(stderr: &str, key: &str) {
    for words in [
        key,
        "security keys and passkeys",
        "not to CLI sessions",
        "virtual or hardware TOTP",
        "aws login",
    ] {
        assert!(stderr.contains(words), "{words:?} missing: {stderr}");
    }
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn the_emulator_takes_a_security_key_only_for_its_own_user() {
    let moto = common::moto();
    let (user, key) = key_only_user(&moto);
    let other = common::provision_user(&moto);
    // The same serial for another user is refused, as AWS ties it to the user it names.
    let refused = common::runtime().block_on(async {
        common::admin_iam(&moto)
            .enable_mfa_device()
            .user_name(&other.name)
            .serial_number(&key)
            .authentication_code1("000000")
            .authentication_code2("000000")
            .send()
            .await
    });
    assert!(refused.is_err(), "{refused:?}");
    let listed = common::runtime().block_on(async {
        common::admin_iam(&moto)
            .list_mfa_devices()
            .user_name(&user.name)
            .send()
            .await
            .unwrap()
    });
    let serials: Vec<&str> = listed
        .mfa_devices()
        .iter()
        .map(|d| d.serial_number())
        .collect();
    assert_eq!(serials, [key.as_str()]);
}

#[test]
fn only_a_security_key_fails_with_exit_5_and_no_sts_call() {
    let moto = common::moto();
    let (user, key) = key_only_user(&moto);
    let home = Home::new();
    home.write_credentials(&keys_only(&user));
    let before = home.read_credentials();
    let out = home
        .cmd_at(&moto)
        .args(["login", "-p", "p", "--code", "123456"])
        .output()
        .unwrap();
    let stderr = common::stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert_explains(&stderr, &key);
    assert_eq!(home.read_credentials(), before);
    assert_eq!(calls(&user, "ListMFADevices"), 1);
    assert_eq!(calls(&user, "GetSessionToken"), 0);
}

/// With nobody to ask either (no terminal, no dialog, no code source, as under an IDE), the
/// security keys are still the news: exit 5 and their message, not "no terminal", and no STS
/// call. `credential-process` and `login` alike.
#[cfg(unix)]
#[test]
fn only_a_security_key_with_nobody_to_ask_still_says_so() {
    let moto = common::moto();
    let (user, key) = key_only_user(&moto);
    let home = Home::new();
    home.write_credentials(&keys_only(&user));
    for args in [
        &["login", "-p", "p"][..],
        &["credential-process", "-p", "p"],
    ] {
        let out = home.no_tty(&moto, args);
        let stderr = common::stderr(&out);
        assert_eq!(out.status.code(), Some(5), "{args:?}: {stderr}");
        assert_explains(&stderr, &key);
        assert!(!stderr.contains("no terminal"), "{stderr}");
    }
    assert_eq!(calls(&user, "GetSessionToken"), 0);
}

#[test]
fn only_a_security_key_at_a_terminal_asks_for_nothing() {
    let moto = common::moto();
    let (user, key) = key_only_user(&moto);
    let home = Home::new();
    home.write_credentials(&keys_only(&user));
    let out = home.on_terminal(
        &moto,
        &format!("{} login -p p", common::bin().display()),
        None,
        &[],
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{screen}");
    assert!(
        screen.contains(&key) && screen.contains("aws login"),
        "{screen}"
    );
    assert!(!screen.contains("MFA code for"), "{screen}");
    assert!(!screen.contains("Use which device"), "{screen}");
    assert_eq!(calls(&user, "GetSessionToken"), 0);
}

#[test]
fn a_security_key_next_to_a_virtual_device_is_skipped_without_asking() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let key = common::add_security_key(&moto, &user, "passkey-1");
    let home = Home::new();
    home.write_credentials(&keys_only(&user));
    // No terminal: with two devices to choose from this was exit 8.
    let out = home.no_tty(
        &moto,
        &["login", "-p", "p", "--code", &common::totp_now(&user.seed)],
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = home.read_credentials();
    assert_eq!(profile(&text, "p-long-term")["mfa_serial"], user.serial);
    assert!(!text.contains(&key), "{text}");
    assert_eq!(calls(&user, "GetSessionToken"), 1);
}

#[test]
fn a_configured_security_key_is_refused_before_any_call() {
    let moto = common::moto();
    let (user, key) = key_only_user(&moto);
    let home = Home::new();
    home.write_credentials(&format!("{}mfa_serial = {key}\n", keys_only(&user)));
    let before = home.read_credentials();
    // With a code given, and with nobody to ask (export under setsid): the security key is
    // what is said, before anything else.
    for args in [
        vec!["login", "-p", "p", "--code", "123456"],
        vec!["export", "-p", "p"],
        vec!["login", "-p", "p", "--code", "123456", "--serial", &key],
    ] {
        let out = home.no_tty(&moto, &args);
        let stderr = common::stderr(&out);
        assert_eq!(out.status.code(), Some(5), "{args:?}: {stderr}");
        assert!(stderr.contains("nothing was sent"), "{stderr}");
        assert_explains(&stderr, &key);
    }
    assert_eq!(home.read_credentials(), before);
    assert_eq!(calls(&user, "ListMFADevices"), 0);
    assert_eq!(calls(&user, "GetSessionToken"), 0);

    // A role whose mfa_serial is a security key: no AssumeRole either.
    home.write_config(&format!(
        "[profile admin]\nrole_arn = {ROLE}\nsource_profile = p\nmfa_serial = {key}\n"
    ));
    let out = home.no_tty(&moto, &["export", "-p", "admin"]);
    let stderr = common::stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("[profile admin]"), "{stderr}");
    assert_explains(&stderr, &key);
    assert_eq!(calls(&user, "AssumeRole"), 0);
}

#[test]
fn setup_with_only_a_security_key_moves_the_keys_and_says_what_to_register() {
    let moto = common::moto();
    let (user, key) = key_only_user(&moto);
    let home = Home::new();
    home.write_credentials(&format!(
        "[p]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.access_key_id, user.secret_access_key
    ));
    let out = home.no_tty(&moto, &["setup", "--profile", "p"]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        common::stderr(&out)
    );
    assert!(out.status.success(), "{said}");
    for words in [key.as_str(), "virtual or hardware TOTP", "aws login"] {
        assert!(said.contains(words), "{words:?} missing: {said}");
    }
    let text = home.read_credentials();
    assert_eq!(
        profile(&text, "p-long-term")["aws_access_key_id"],
        user.access_key_id
    );
    assert!(!text.contains("mfa_serial"), "{text}");

    // A security key given as the serial is refused, and nothing changes.
    let before = home.read_credentials();
    let out = home.no_tty(&moto, &["setup", "--profile", "p", "--serial", &key]);
    assert_eq!(out.status.code(), Some(5), "{}", common::stderr(&out));
    assert_explains(&common::stderr(&out), &key);
    assert_eq!(home.read_credentials(), before);
    assert_eq!(calls(&user, "GetSessionToken"), 0);
}

#[test]
fn doctor_says_the_same() {
    let moto = common::moto();
    let (user, key) = key_only_user(&moto);
    let home = Home::new();
    home.write_credentials(&keys_only(&user));
    for (credentials, configured) in [
        (keys_only(&user), false),
        (format!("{}mfa_serial = {key}\n", keys_only(&user)), true),
    ] {
        home.write_credentials(&credentials);
        let out = home
            .cmd_at(&moto)
            .args(["doctor", "--json", "--profile", "p"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let device = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "mfa device")
            .unwrap_or_else(|| panic!("no mfa device check: {report:#}"));
        assert_eq!(device["status"], "fail", "{report:#}");
        let detail = device["detail"].as_str().unwrap();
        assert!(
            detail.contains(&key) && detail.contains("aws login"),
            "configured: {configured}: {detail}"
        );
    }
    assert_eq!(calls(&user, "GetSessionToken"), 0);
}
