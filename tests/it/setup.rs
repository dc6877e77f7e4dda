//! `mfa-session setup`: static keys moved losslessly, the serial found and stored, then a login
//! that works; idempotent; refusals; code sources recorded; no terminal needed. `--store
//! keyring` and `--store file` against a real Secret Service (gnome-keyring-daemon on a private
//! D-Bus), with login, refresh, export and a role reading the keys through it, and a locked or
//! absent keyring failing in bounded time.

use crate::common;

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

const KEY_SERVICE: &str = "mfa-session aws_secret_access_key";
const SEED_SERVICE: &str = "mfa-session totp-seed";

/// A profile whose secret key and seed are in files, ready to move into a keyring.
fn keyring_home(moto: &str) -> (Home, common::IamUser, String) {
    let user = common::provision_user(moto);
    let home = Home::new();
    let seed = home.path().join("work.totp");
    std::fs::write(&seed, format!("{}\n", user.seed)).unwrap();
    std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o600)).unwrap();
    let original = format!(
        "# keys\n[work-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}   # mine\n\
         mfa_serial = {}\nmfa_totp_secret_file = ~/work.totp\n\n[other]\nregion = x\n",
        user.access_key_id, user.secret_access_key, user.serial
    );
    home.write_credentials(&original);
    (home, user, original)
}

fn with_bus(home: &Home, moto: &str, bus: &str, args: &[&str]) -> Output {
    home.cmd_at(moto)
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    err
}

#[test]
fn keyring_store_round_trip_with_login_refresh_export_and_a_role() {
    let moto = common::moto();
    let (home, user, original) = keyring_home(&moto);
    let ss = common::SecretService::start(&home);
    let err = ok(&with_bus(
        &home,
        &moto,
        &ss.bus,
        &["setup", "-p", "work", "--store", "keyring"],
    ));
    assert!(err.contains("into the OS keyring"), "{err}");
    // Nothing under HOME holds the secret key or the seed any more (the keyring's own file is
    // encrypted); the credentials file changed by exactly the two renamed lines.
    assert!(common::files_containing(home.path(), &user.secret_access_key).is_empty());
    assert!(common::files_containing(home.path(), &user.seed).is_empty());
    let moved = original
        .replace(
            &format!(
                "aws_secret_access_key = {}   # mine",
                user.secret_access_key
            ),
            "mfa_store = keyring   # mine",
        )
        .replace(
            "mfa_totp_secret_file = ~/work.totp",
            "mfa_totp_secret_keyring = ~/work.totp",
        );
    assert_eq!(home.read_credentials(), moved);
    assert_eq!(
        ss.lookup(KEY_SERVICE, &user.access_key_id).as_deref(),
        Some(user.secret_access_key.as_str())
    );
    assert!(ss.lookup(SEED_SERVICE, "work").is_some());
    // Again: nothing to do, nothing changes.
    ok(&with_bus(
        &home,
        &moto,
        &ss.bus,
        &["setup", "-p", "work", "--store", "keyring"],
    ));
    assert_eq!(home.read_credentials(), moved);
    // A different secret in the file as well: ambiguous, refused, nothing changes.
    let both = moved.replace(
        "mfa_store = keyring   # mine",
        "mfa_store = keyring   # mine\naws_secret_access_key = other",
    );
    home.write_credentials(&both);
    let out = with_bus(
        &home,
        &moto,
        &ss.bus,
        &["setup", "-p", "work", "--store", "file"],
    );
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(home.read_credentials(), both);
    home.write_credentials(&moved);

    // A role from the source's long-term keys (read from the keyring), then refresh with the
    // seed from the keyring, then export.
    home.write_config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = work\n",
    );
    let role = with_bus(
        &home,
        &moto,
        &ss.bus,
        &["credential-process", "-p", "admin"],
    );
    ok(&role);
    assert!(String::from_utf8_lossy(&role.stdout).contains("\"AccessKeyId\""));
    // The role took this 30-second window's code; AWS (and the emulator) take the next
    // window's code a step early, so refresh runs with its clock 30 s ahead (faketime) instead
    // of waiting for the window to turn.
    let out = std::process::Command::new("faketime")
        .args(["-f", "+30s"])
        .arg(assert_cmd::cargo::cargo_bin("mfa-session"))
        .args(["refresh", "-p", "work"])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("AWS_ENDPOINT_URL", &moto)
        .env("DBUS_SESSION_BUS_ADDRESS", &ss.bus)
        // Only the wall clock moves: timeouts run on the monotonic clock, and a faked one put
        // a bounded wait's deadline out of the kernel's reach (a refresh hung for minutes).
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .output()
        .expect("faketime is needed (Debian package faketime; scripts/setup-test-env installs it)");
    let err = ok(&out);
    assert!(err.contains("[work] renewed until"), "{err}");
    assert!(
        !err.contains("trying again with the next code"),
        "renewed with the next window's code, not by waiting: {err}"
    );
    assert!(profile(&home.read_credentials(), "work")["aws_access_key_id"].starts_with("ASIA"));
    // login signs with the keys from the keyring too. Two of the three codes AWS (and the
    // emulator) accept right now may be spent, by the role and by refresh: of the previous,
    // this and the next window's codes, one is free.
    let logged_in = [-30, 0, 30].into_iter().any(|offset| {
        let code = code_at(&user, offset);
        let out = with_bus(
            &home,
            &moto,
            &ss.bus,
            &["login", "-p", "work", "--force", "-c", &code],
        );
        match out.status.code() {
            Some(0) => true,
            Some(5) => false,
            _ => panic!("{}", String::from_utf8_lossy(&out.stderr)),
        }
    });
    assert!(logged_in, "no free code among three windows");
    let session = profile(&home.read_credentials(), "work");
    let export = with_bus(&home, &moto, &ss.bus, &["export", "-p", "work"]);
    ok(&export);
    assert!(String::from_utf8_lossy(&export.stdout).contains(&session["aws_access_key_id"]));

    // And back: the credentials file is byte-identical to the original (bar the session
    // written meanwhile), the seed file is back with mode 600, the keyring holds nothing.
    let out = with_bus(
        &home,
        &moto,
        &ss.bus,
        &["setup", "-p", "work", "--store", "file"],
    );
    ok(&out);
    let back = home.read_credentials();
    assert!(back.starts_with(&original), "{back}");
    let seed = home.path().join("work.totp");
    assert_eq!(
        std::fs::read_to_string(&seed).unwrap().trim(),
        user.seed.to_ascii_uppercase()
    );
    assert_eq!(
        std::fs::metadata(&seed).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(ss.lookup(KEY_SERVICE, &user.access_key_id).is_none());
    assert!(ss.lookup(SEED_SERVICE, "work").is_none());
}

#[test]
fn a_locked_or_absent_keyring_fails_in_bounded_time_without_a_prompt() {
    let moto = common::moto();
    let (home, _, _) = keyring_home(&moto);
    let ss = common::SecretService::start(&home);
    ok(&with_bus(
        &home,
        &moto,
        &ss.bus,
        &["setup", "-p", "work", "--store", "keyring"],
    ));
    let before = home.read_credentials();
    ss.lock();
    let start = std::time::Instant::now();
    let out = with_bus(
        &home,
        &moto,
        &ss.bus,
        &["login", "-p", "work", "-c", "123456"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{err}");
    assert!(
        err.contains("keyring is locked") && err.contains("--store file"),
        "{err}"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(15));
    // refresh: the profile fails, in bounded time, and the keyring stays locked (no unlock
    // prompt was raised).
    let start = std::time::Instant::now();
    let out = home
        .cmd_at(&moto)
        .env("DBUS_SESSION_BUS_ADDRESS", &ss.bus)
        .args(["refresh", "-p", "work"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(10), "{err}");
    assert!(err.contains("keyring is locked"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(ss.collection_locked(), Some(true));
    // No Secret Service at all: no bus address.
    let start = std::time::Instant::now();
    let out = home
        .cmd_at(&moto)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .args(["login", "-p", "work", "-c", "123456"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{err}");
    assert!(err.contains("keyring is not available"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(15));
    // A bus that accepts the connection and never answers: given up after 10 s.
    let socket = home.path().join("silent-bus");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let silent = std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(2).collect();
        std::thread::sleep(std::time::Duration::from_secs(20));
        drop(held);
    });
    let start = std::time::Instant::now();
    let out = home
        .cmd_at(&moto)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", socket.display()),
        )
        .args(["login", "-p", "work", "-c", "123456"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{err}");
    assert!(err.contains("did not answer within 10 s"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(home.read_credentials(), before);
    drop(silent);
}

// ---- rotate ----------------------------------------------------------------------------

/// The access key ids IAM has for `user` (asked as the emulator's admin).
fn keys_at_aws(moto: &str, user: &str) -> Vec<String> {
    common::runtime().block_on(async {
        common::admin_iam(moto)
            .list_access_keys()
            .user_name(user)
            .send()
            .await
            .unwrap()
            .access_key_metadata
            .into_iter()
            .filter_map(|k| k.access_key_id)
            .collect()
    })
}

/// GetCallerIdentity signed with long-term keys, through the AWS CLI: the ARN, or None when
/// AWS rejects the key.
fn cli_identity(home: &Home, moto: &str, id: &str, secret: &str) -> Option<String> {
    let out = std::process::Command::new(common::venv().join("bin/aws"))
        .args([
            "sts",
            "get-caller-identity",
            "--endpoint-url",
            moto,
            "--region",
            "us-east-1",
        ])
        .args(["--output", "text", "--query", "Arn"])
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_ACCESS_KEY_ID", id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The code of the device `offset` seconds from now (AWS and the emulator accept the codes of
/// one 30-second step either way).
fn code_at(user: &common::IamUser, offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    common::totp_at(&user.seed, now.saturating_add_signed(offset))
}

fn next_code(user: &common::IamUser) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    common::totp_at(&user.seed, now + 30)
}

#[test]
fn rotate_replaces_the_key_in_the_file_and_the_old_one_stops_working() {
    let moto = common::moto();
    let (home, user, _) = keyring_home(&moto);
    let out = home
        .cmd_at(&moto)
        .args(["rotate", "-p", "work"])
        .output()
        .unwrap();
    let err = ok(&out);
    assert!(err.contains("deleted"), "{err}");
    let lt = profile(&home.read_credentials(), "work-long-term");
    let new_id = lt["aws_access_key_id"].clone();
    assert_ne!(new_id, user.access_key_id);
    assert_eq!(
        keys_at_aws(&moto, &user.name),
        std::slice::from_ref(&new_id)
    );
    let arn = cli_identity(&home, &moto, &new_id, &lt["aws_secret_access_key"]).unwrap();
    assert!(arn.ends_with(&format!(":user/{}", user.name)), "{arn}");
    assert_eq!(
        cli_identity(&home, &moto, &user.access_key_id, &user.secret_access_key),
        None,
        "the old key is rejected"
    );
    // A new session from the new key, used by the AWS CLI.
    ok(&home
        .cmd_at(&moto)
        .args(["login", "-p", "work", "--force", "-c", &next_code(&user)])
        .output()
        .unwrap());
    let out = std::process::Command::new(common::venv().join("bin/aws"))
        .args([
            "sts",
            "get-caller-identity",
            "--profile",
            "work",
            "--endpoint-url",
            &moto,
        ])
        .args([
            "--region",
            "us-east-1",
            "--output",
            "text",
            "--query",
            "Arn",
        ])
        .env_clear()
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&user.name));
    // status knows the key's age now.
    let status = home.cmd().args(["status", "--json"]).output().unwrap();
    assert!(String::from_utf8_lossy(&status.stdout).contains("\"key_created\":\"20"));
}

#[test]
fn rotate_with_two_keys_refuses_unless_told_which_to_delete() {
    let moto = common::moto();
    let (home, user, _) = keyring_home(&moto);
    let extra = common::runtime().block_on(async {
        common::admin_iam(&moto)
            .create_access_key()
            .user_name(&user.name)
            .send()
            .await
            .unwrap()
            .access_key
            .unwrap()
            .access_key_id
    });
    let before = home.read_credentials();
    let out = home
        .cmd_at(&moto)
        .args(["rotate", "-p", "work"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains(&extra) && err.contains(&user.access_key_id) && err.contains("--delete"),
        "{err}"
    );
    let out = home
        .cmd_at(&moto)
        .args(["rotate", "-p", "work", "--delete", &user.access_key_id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // The session made by the first attempt stays; the long-term section is untouched.
    let lt = |t: &str| profile(t, "work-long-term");
    assert_eq!(lt(&home.read_credentials()), lt(&before));
    ok(&home
        .cmd_at(&moto)
        .args(["rotate", "-p", "work", "--delete", &extra, "--keep-old"])
        .output()
        .unwrap());
    let keys = keys_at_aws(&moto, &user.name);
    let new_id = lt(&home.read_credentials())["aws_access_key_id"].clone();
    assert_eq!(keys.len(), 2, "the new key and the deactivated old one");
    assert!(keys.contains(&new_id) && keys.contains(&user.access_key_id) && !keys.contains(&extra));
    assert_eq!(
        cli_identity(&home, &moto, &user.access_key_id, &user.secret_access_key),
        None,
        "the deactivated key is rejected"
    );
}

#[test]
fn rotate_moves_keyring_keys_too() {
    let moto = common::moto();
    let (home, user, _) = keyring_home(&moto);
    let ss = common::SecretService::start(&home);
    ok(&with_bus(
        &home,
        &moto,
        &ss.bus,
        &["setup", "-p", "work", "--store", "keyring"],
    ));
    ok(&with_bus(&home, &moto, &ss.bus, &["rotate", "-p", "work"]));
    let lt = profile(&home.read_credentials(), "work-long-term");
    let new_id = lt["aws_access_key_id"].clone();
    assert_eq!(lt["mfa_store"], "keyring");
    assert!(!lt.contains_key("aws_secret_access_key"));
    let secret = ss
        .lookup(KEY_SERVICE, &new_id)
        .expect("the new secret is in the keyring");
    assert!(ss.lookup(KEY_SERVICE, &user.access_key_id).is_none());
    assert!(cli_identity(&home, &moto, &new_id, &secret).is_some());
    assert_eq!(keys_at_aws(&moto, &user.name), [new_id]);
}

/// SIGKILL at random moments of rotate, over and over: every time, the stored key works.
#[test]
fn rotate_killed_at_any_step_leaves_a_working_stored_key() {
    let moto = common::moto();
    let (home, user, _) = keyring_home(&moto);
    // A session first, so each rotate below goes straight to the key calls.
    ok(&home
        .cmd_at(&moto)
        .args(["login", "-p", "work"])
        .output()
        .unwrap());
    let bin = assert_cmd::cargo::cargo_bin("mfa-session");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let mut killed = 0;
    for round in 0..12u64 {
        let delay = (seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(round * 1442695040888963407)
            >> 33)
            % 120;
        let mut child = std::process::Command::new(&bin)
            .args(["rotate", "-p", "work"])
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("AWS_ENDPOINT_URL", &moto)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let status = child.wait().unwrap();
        killed += usize::from(!status.success());
        let lt = profile(&home.read_credentials(), "work-long-term");
        let stored = lt["aws_access_key_id"].clone();
        assert!(
            cli_identity(&home, &moto, &stored, &lt["aws_secret_access_key"]).is_some(),
            "round {round} (killed after {delay} ms): the stored key {stored} does not work"
        );
        // A kill between create and delete leaves a second key: remove the unstored one, as
        // the message of the next rotate would say.
        for other in keys_at_aws(&moto, &user.name)
            .into_iter()
            .filter(|k| *k != stored)
        {
            common::runtime().block_on(async {
                common::admin_iam(&moto)
                    .delete_access_key()
                    .user_name(&user.name)
                    .access_key_id(other)
                    .send()
                    .await
                    .unwrap()
            });
        }
    }
    eprintln!("rotate: {killed} of 12 runs killed mid-way; the stored key worked after each");
}

// ---- rotate against the hostile endpoint: what may exist at AWS after a failure ---------

const OLD_KEY: &str = "AKIAOLDKEYOLDKEY0001";
const OLD_SECRET: &str = "oldSecret/K7MDENG/bPxRfiCYEXAMPLEKEY00001";
const NEW_KEY: &str = "AKIANEWKEYNEWKEY0002";

/// `[work]` with a valid MFA session (no login needed) and `[work-long-term]` with OLD_KEY.
fn home_for_fake_rotate() -> Home {
    let home = Home::new();
    let later = (chrono::Utc::now() + chrono::Duration::hours(5)).format("%Y-%m-%dT%H:%M:%SZ");
    home.write_credentials(&format!(
        "[work-long-term]\naws_access_key_id = {OLD_KEY}\naws_secret_access_key = {OLD_SECRET}\n\
         [work]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n\
         expiration = {later}\n",
        common::fake_aws::SESSION_KEY_ID,
        common::fake_aws::SESSION_SECRET,
        common::fake_aws::SESSION_TOKEN,
    ));
    std::fs::set_permissions(home.credentials(), std::fs::Permissions::from_mode(0o600)).unwrap();
    home
}

fn caller_xml() -> String {
    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
     <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/alice</Arn>\
     <UserId>AIDAALICE</UserId><Account>123456789012</Account></GetCallerIdentityResult>\
     <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
        .to_string()
}

fn keys_xml(ids: &[&str]) -> String {
    let members: String = ids
        .iter()
        .map(|id| {
            format!(
                "<member><UserName>alice</UserName><AccessKeyId>{id}</AccessKeyId>\
                 <Status>Active</Status><CreateDate>2026-01-01T00:00:00Z</CreateDate></member>"
            )
        })
        .collect();
    format!(
        "<ListAccessKeysResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
         <ListAccessKeysResult><AccessKeyMetadata>{members}</AccessKeyMetadata>\
         <IsTruncated>false</IsTruncated></ListAccessKeysResult>\
         <ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></ListAccessKeysResponse>"
    )
}

fn created_xml() -> String {
    format!(
        "<CreateAccessKeyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
         <CreateAccessKeyResult><AccessKey><UserName>alice</UserName>\
         <AccessKeyId>{NEW_KEY}</AccessKeyId><Status>Active</Status>\
         <SecretAccessKey>newSecret/K7MDENG/bPxRfiCYEXAMPLEKEY00002</SecretAccessKey>\
         <CreateDate>2026-01-01T00:00:00Z</CreateDate></AccessKey></CreateAccessKeyResult>\
         <ResponseMetadata><RequestId>3</RequestId></ResponseMetadata></CreateAccessKeyResponse>"
    )
}

/// The connection drops after CreateAccessKey was sent: rotate does not say "cannot connect"
/// but that a new key may exist, finds it with ListAccessKeys and gives the exact delete
/// command; when the listing fails too, the command that lists the keys. Never a second
/// CreateAccessKey; the file unchanged.
#[test]
fn rotate_after_a_lost_create_answer_names_the_key_that_may_exist() {
    use common::fake_aws::{FakeAws, Reply};
    // The listing after the loss shows the new key.
    let fake = FakeAws::start();
    fake.on("GetCallerIdentity", vec![Reply::Http(200, caller_xml())])
        .on(
            "ListAccessKeys",
            vec![
                Reply::Http(200, keys_xml(&[OLD_KEY])),
                Reply::Http(200, keys_xml(&[OLD_KEY, NEW_KEY])),
            ],
        )
        .on("CreateAccessKey", vec![Reply::Drop]);
    let home = home_for_fake_rotate();
    let before = home.read_credentials();
    let out = home.no_tty(&fake.url, &["rotate", "-p", "work"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    eprintln!("{err}");
    assert!(!err.contains("cannot connect"), "{err}");
    assert!(
        err.contains(&format!(
            "aws iam delete-access-key --user-name alice --access-key-id {NEW_KEY}"
        )) && err.contains(&format!("{OLD_KEY} is unchanged")),
        "{err}"
    );
    assert_eq!(home.read_credentials(), before);
    let creates = fake
        .actions()
        .iter()
        .filter(|a| *a == "CreateAccessKey")
        .count();
    assert_eq!(creates, 1);

    // The listing fails too: the command to list the keys, and which one to keep.
    let fake = FakeAws::start();
    fake.on("GetCallerIdentity", vec![Reply::Http(200, caller_xml())])
        .on(
            "ListAccessKeys",
            vec![Reply::Http(200, keys_xml(&[OLD_KEY])), Reply::Drop],
        )
        .on("CreateAccessKey", vec![Reply::Drop]);
    let out = home.no_tty(&fake.url, &["rotate", "-p", "work"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    eprintln!("{err}");
    assert!(
        err.contains("may have created a new key")
            && err.contains("aws iam list-access-keys --user-name alice")
            && err.contains("aws iam delete-access-key --user-name alice --access-key-id")
            && err.contains(OLD_KEY),
        "{err}"
    );
    assert_eq!(home.read_credentials(), before);
}

/// The new key never works and deleting it fails too: rotate does not say "try again later"
/// (AWS would refuse a third key) but names both keys and the exact delete command. The old
/// key is stored again.
#[test]
fn rotate_after_a_failed_proof_and_clean_up_gives_the_delete_command() {
    use common::fake_aws::{FakeAws, Reply, error_xml};
    let fake = FakeAws::start();
    fake.on(
        "GetCallerIdentity",
        vec![
            Reply::Http(200, caller_xml()),
            Reply::Http(
                403,
                error_xml(
                    "sts",
                    "InvalidClientTokenId",
                    "The security token is invalid.",
                ),
            ),
        ],
    )
    .on(
        "ListAccessKeys",
        vec![Reply::Http(200, keys_xml(&[OLD_KEY]))],
    )
    .on("CreateAccessKey", vec![Reply::Http(200, created_xml())])
    .on(
        "DeleteAccessKey",
        vec![Reply::Http(
            403,
            error_xml("iam", "AccessDenied", "not allowed"),
        )],
    );
    let home = home_for_fake_rotate();
    let before = home.read_credentials();
    let out = home.no_tty(&fake.url, &["rotate", "-p", "work"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    eprintln!("{err}");
    assert!(!err.contains("try again later"), "{err}");
    assert!(
        err.contains(&format!(
            "aws iam delete-access-key --user-name alice --access-key-id {NEW_KEY}"
        )) && err.contains(OLD_KEY),
        "{err}"
    );
    let now = profile(&home.read_credentials(), "work-long-term");
    assert_eq!(now["aws_access_key_id"], OLD_KEY);
    assert_eq!(now["aws_secret_access_key"], OLD_SECRET);
    let _ = before;
}

/// Two profiles with the same access key, both in the keyring (one item, keyed by the key id):
/// moving one back to the file keeps the item the other still reads; moving the last one
/// deletes it.
#[test]
fn keyring_secret_shared_by_two_profiles_stays_while_one_uses_it() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    let section = |name: &str| {
        format!(
            "[{name}-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\nmfa_serial = {}\n",
            user.access_key_id, user.secret_access_key, user.serial
        )
    };
    home.write_credentials(&format!("{}{}", section("work"), section("ci")));
    let ss = common::SecretService::start(&home);
    const SERVICE: &str = "mfa-session aws_secret_access_key";
    for p in ["work", "ci"] {
        ok(&with_bus(
            &home,
            &moto,
            &ss.bus,
            &["setup", "-p", p, "--store", "keyring"],
        ));
    }
    assert!(common::files_containing(home.path(), &user.secret_access_key).is_empty());

    let err = ok(&with_bus(
        &home,
        &moto,
        &ss.bus,
        &["setup", "-p", "ci", "--store", "file"],
    ));
    assert_eq!(
        ss.lookup(SERVICE, &user.access_key_id).as_deref(),
        Some(user.secret_access_key.as_str()),
        "the secret [work-long-term] reads was deleted"
    );
    assert!(err.contains("[work-long-term]"), "{err}");
    ok(&with_bus(
        &home,
        &moto,
        &ss.bus,
        &["login", "-p", "work", "-c", &common::totp_now(&user.seed)],
    ));
    assert_eq!(
        profile(&home.read_credentials(), "ci-long-term")["aws_secret_access_key"],
        user.secret_access_key
    );

    // The last profile that uses it moves back: the item goes.
    ok(&with_bus(
        &home,
        &moto,
        &ss.bus,
        &["setup", "-p", "work", "--store", "file"],
    ));
    assert_eq!(ss.lookup(SERVICE, &user.access_key_id), None);
}
