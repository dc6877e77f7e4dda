//! Role profiles (`role_arn` + `source_profile` in the config file) against the emulator, which
//! checks MFA codes on AssumeRole like AWS: assumed with a code and used by the real AWS CLI;
//! assumed from an existing MFA session with no code and no terminal; the AWS CLI's own role
//! handling on top of a managed session; no `[role]` section ever written; `--write-profile`;
//! duration errors explained.

use crate::common;

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::process::Command as StdCommand;

use common::fake_aws::{self, FakeAws, Reply, error_xml};
use common::{Home, IamUser, ROLE, profile};
use predicates::prelude::*;

fn home_with_role(user: &IamUser, role_extra: &str) -> Home {
    let home = Home::new();
    home.write_credentials(&format!(
        "# keys\n[work-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\nmfa_serial = {}\n",
        user.access_key_id, user.secret_access_key, user.serial
    ));
    home.write_config(&format!(
        "[profile work]\nregion = us-east-1\n\n[profile admin]\nrole_arn = {ROLE}\nsource_profile = work\n\
         mfa_serial = {}\nregion = us-east-1\n{role_extra}",
        user.serial
    ));
    home
}

/// Runs the AWS CLI's get-caller-identity with the given extra environment; returns the ARN.
fn caller_arn(home: &Home, moto: &str, profile: Option<&str>, env: &[(String, String)]) -> String {
    let mut c = StdCommand::new(common::venv().join("bin/aws"));
    c.args([
        "sts",
        "get-caller-identity",
        "--endpoint-url",
        moto,
        "--region",
        "us-east-1",
        "--output",
        "text",
        "--query",
        "Arn",
    ])
    .env_clear()
    .env("HOME", home.path())
    .env("PATH", std::env::var_os("PATH").unwrap());
    if let Some(p) = profile {
        c.args(["--profile", p]);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `export --format dotenv` parsed into pairs, for handing to another process.
#[cfg(unix)]
fn exported(home: &Home, moto: &str, profile: &str) -> Vec<(String, String)> {
    let out = home.no_tty(moto, &["export", "-p", profile, "--format", "dotenv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.trim_matches('\'').to_string())
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn a_role_logged_in_with_a_code_is_exported_and_used_by_the_aws_cli() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_role(&user, "");
    let before = home.read_credentials();

    // A wrong code is refused by AWS's MFA check on AssumeRole.
    let wrong = if common::totp_now(&user.seed) == "000000" {
        "111111"
    } else {
        "000000"
    };
    home.cmd_at(&moto)
        .args(["login", "-p", "admin", "-c", wrong])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("rejected the MFA code"));

    home.cmd_at(&moto)
        .args(["login", "-p", "admin", "-c", &common::totp_now(&user.seed)])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "role assumed with the long-term keys of [work]",
        ));
    // No [admin] (or any) section was written: the AWS CLI resolves [profile admin] itself.
    assert_eq!(home.read_credentials(), before);
    let cache = home.path().join(".cache/mfa-session/roles/admin.json");
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(cache.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );

    // Exported (from the cache, no code, no terminal) and used by the AWS CLI.
    let env = exported(&home, &moto, "admin");
    assert!(
        env.iter()
            .any(|(k, v)| k == "AWS_SESSION_TOKEN" && !v.is_empty())
    );
    let arn = caller_arn(&home, &moto, None, &env);
    assert!(arn.contains(":assumed-role/Admin/"), "{arn}");

    // status lists it.
    home.cmd()
        .args(["status", "-p", "admin"])
        .assert()
        .success()
        .stdout(predicate::str::contains("role via work"));
}

#[cfg(unix)]
#[test]
fn a_role_is_assumed_from_an_existing_mfa_session_without_code_or_terminal() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_role(&user, "duration_seconds = 7200\n");
    home.cmd_at(&moto)
        .args(["login", "-p", "work", "-c", &common::totp_now(&user.seed)])
        .assert()
        .success();
    let before = home.read_credentials();
    // No terminal, no code: the MFA session of [work] is used (and the 2 h asked for is capped
    // at the 1 h AWS allows a chained role session).
    let out = home.no_tty(&moto, &["credential-process", "-p", "admin"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("role assumed with the MFA session of [work]"),
        "{err}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let exp = chrono::DateTime::parse_from_rfc3339(doc["Expiration"].as_str().unwrap()).unwrap();
    let left = exp.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(left <= chrono::Duration::hours(1), "{left}");
    assert_eq!(home.read_credentials(), before, "no section written");
    let env = vec![
        (
            "AWS_ACCESS_KEY_ID".to_string(),
            doc["AccessKeyId"].as_str().unwrap().to_string(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_string(),
            doc["SecretAccessKey"].as_str().unwrap().to_string(),
        ),
        (
            "AWS_SESSION_TOKEN".to_string(),
            doc["SessionToken"].as_str().unwrap().to_string(),
        ),
    ];
    assert!(caller_arn(&home, &moto, None, &env).contains(":assumed-role/Admin/"));
}

#[test]
fn the_aws_cli_itself_assumes_a_role_from_a_managed_session() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_role(&user, "");
    home.cmd_at(&moto)
        .args(["login", "-p", "work", "-c", &common::totp_now(&user.seed)])
        .assert()
        .success();
    // A role profile with source_profile = work and no mfa_serial: the AWS CLI uses the MFA
    // session mfa-session keeps in [work], and asks for nothing.
    let cfg = std::fs::read_to_string(home.config()).unwrap();
    home.write_config(&format!(
        "{cfg}\n[profile cli-admin]\nrole_arn = {ROLE}\nsource_profile = work\n"
    ));
    // The CLI's own AssumeRole call does not follow --endpoint-url; the service-specific
    // variable points it at the emulator too.
    let arn = caller_arn(
        &home,
        &moto,
        Some("cli-admin"),
        &[("AWS_ENDPOINT_URL_STS".to_string(), moto.clone())],
    );
    assert!(arn.contains(":assumed-role/Admin/"), "{arn}");
}

#[test]
fn write_profile_writes_under_another_name_only() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_role(&user, "");
    let before = home.read_credentials();
    for shadowing in ["admin", "work"] {
        home.cmd_at(&moto)
            .args([
                "login",
                "-p",
                "admin",
                "-c",
                "123456",
                "--write-profile",
                shadowing,
            ])
            .assert()
            .code(4)
            .stderr(predicate::str::contains("pick another name"));
    }
    assert_eq!(home.read_credentials(), before);
    home.cmd_at(&moto)
        .args([
            "login",
            "-p",
            "admin",
            "-c",
            &common::totp_now(&user.seed),
            "--write-profile",
            "admin-keys",
        ])
        .assert()
        .success();
    let text = home.read_credentials();
    assert!(text.starts_with(&before), "{text}");
    let s = profile(&text, "admin-keys");
    assert!(s["aws_access_key_id"].starts_with("ASIA") && !s["expiration"].is_empty());
    assert!(profile(&text, "admin").is_empty());
}

#[test]
fn duration_errors_are_explained_in_one_line() {
    let fake = FakeAws::start();
    let home = Home::new();
    home.write_credentials(&format!(
        "[work]\naws_access_key_id = ASIASESSION\naws_secret_access_key = s\naws_session_token = t\nexpiration = {}\n",
        (chrono::Utc::now() + chrono::Duration::hours(5)).format("%Y-%m-%dT%H:%M:%SZ")
    ));
    home.write_config(&format!(
        "[profile admin]\nrole_arn = {ROLE}\nsource_profile = work\n"
    ));
    for (message, expect) in [
        (
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            "MaxSessionDuration",
        ),
        (
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            "at most 1 hour",
        ),
    ] {
        fake.on(
            "AssumeRole",
            vec![Reply::Http(
                400,
                error_xml("sts", "ValidationError", message),
            )],
        );
        let out = home
            .cmd_at(&fake.url)
            .args(["login", "-p", "admin"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(expect) && err.trim_end().lines().count() == 1,
            "{err}"
        );
    }
    // Signed with the session of [work], no MFA parameters.
    let req = &fake.requests()[0];
    assert!(req.authorization.contains("Credential=ASIASESSION/"));
    assert!(!req.body.contains("SerialNumber"));
    let _ = fake_aws::SESSION_KEY_ID;
}

#[cfg(unix)]
#[test]
fn refresh_renews_a_role_from_the_source_session_unattended() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_role(&user, "");
    let out = home.no_tty(&moto, &["refresh", "-p", "admin"]);
    let err = String::from_utf8_lossy(&out.stderr);
    // No session for [work] yet and no code source: refresh fails fast, asking for nothing.
    assert_eq!(out.status.code(), Some(10), "{err}");
    assert!(err.contains("[admin] failed"), "{err}");
    home.cmd_at(&moto)
        .args(["login", "-p", "work", "-c", &common::totp_now(&user.seed)])
        .assert()
        .success();
    let out = home.no_tty(&moto, &["refresh", "-p", "admin"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("[admin] renewed until"), "{err}");
    let out = home.no_tty(&moto, &["refresh", "-p", "admin", "--threshold", "10m"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("[admin] still valid until"));
}

/// One duration parser for flags and files, with AWS's bounds, before any network call: the
/// endpoint here refuses connections, so reaching it would exit 7, not 2.
#[test]
fn durations_are_bounded_before_any_call_for_roles_and_sessions() {
    let home = Home::new();
    home.write_credentials(
        "[work-long-term]\naws_access_key_id = AKIAWORK\naws_secret_access_key = s\n\
         mfa_serial = arn:aws:iam::123456789012:mfa/w\n",
    );
    let before = home.read_credentials();
    let nowhere = "http://127.0.0.1:9";
    let run = |config: &str, args: &[&str]| {
        home.write_config(config);
        let out = home.cmd_at(nowhere).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        err
    };
    let role = format!("[profile admin]\nrole_arn = {ROLE}\nsource_profile = work\n");
    // 4294968196 = 2^32 + 900: must not wrap to 900 s; 2^31 + 900 must not turn negative.
    for huge in ["4294968196", "2147484548"] {
        let err = run(&role, &["login", "-p", "admin", "-c", "123456", "-d", huge]);
        assert!(
            err.contains("--duration") && err.contains("outside"),
            "{err}"
        );
    }
    let err = run(
        &role,
        &["login", "-p", "admin", "-c", "123456", "-d", "13h"],
    );
    assert!(err.contains("900 s (15m) to 43200 s (12h)"), "{err}");
    let err = run(
        &format!("{role}duration_seconds = 99999\n"),
        &["login", "-p", "admin", "-c", "123456"],
    );
    assert!(err.contains("duration_seconds in [profile admin]"), "{err}");
    // The same mistake on a session profile: the same exit code and the same kind of message.
    let err = run(
        "[profile work]\nduration_seconds = 99999999\n",
        &["login", "-p", "work", "-c", "123456"],
    );
    assert!(err.contains("duration_seconds in [profile work]"), "{err}");
    assert_eq!(home.read_credentials(), before);
}

/// `exec --server`: the child has no keys, boto3 and the AWS CLI get the role's session from
/// the endpoint, and (with an emulator whose role sessions last 30 s) see it renewed within
/// seconds; requests without or with a wrong token get 403; the exit status passes through.
#[test]
fn exec_server_serves_renewing_role_sessions_to_sdks() {
    let emu = common::Emulator::start(&[("MFA_SESSION_EMULATOR_ROLE_SECONDS", "30")]);
    let user = common::provision_user(&emu.url);
    let home = home_with_role(&user, "");
    home.cmd_at(&emu.url)
        .args(["login", "-p", "work", "-c", &common::totp_now(&user.seed)])
        .assert()
        .success();
    let script = home.path().join("child.py");
    std::fs::write(
        &script,
        r#"import json, os, subprocess, sys, time, urllib.request, urllib.error
import boto3
assert "AWS_ACCESS_KEY_ID" not in os.environ and os.environ["AWS_PROFILE"] == "mfa-session-served"
session = boto3.session.Session(region_name="us-east-1")
sts = session.client("sts")
arns, keys = [], []
for _ in range(2):
    arns.append(sts.get_caller_identity()["Arn"])
    keys.append(session.get_credentials().get_frozen_credentials().access_key)
    time.sleep(1)
cli = subprocess.run([os.path.join(os.path.dirname(sys.executable), "aws"), "sts",
    "get-caller-identity", "--region", "us-east-1", "--output", "text", "--query", "Arn"],
    capture_output=True, text=True)
codes = []
for token in (None, "wrong"):
    req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    if token:
        req.add_header("Authorization", token)
    try:
        urllib.request.urlopen(req)
        codes.append(200)
    except urllib.error.HTTPError as e:
        codes.append(e.code)
print(json.dumps({"arns": arns, "keys": keys, "cli": cli.stdout.strip(), "codes": codes}))
sys.exit(7)
"#,
    )
    .unwrap();
    let python = common::venv().join("bin/python");
    let out = home
        .cmd_at(&emu.url)
        .args(["exec", "-p", "admin", "--server", "--"])
        .arg(&python)
        .arg(&script)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the child's report");
    for arn in report["arns"].as_array().unwrap() {
        assert!(
            arn.as_str().unwrap().contains(":assumed-role/Admin/"),
            "{report}"
        );
    }
    assert!(
        report["cli"]
            .as_str()
            .unwrap()
            .contains(":assumed-role/Admin/"),
        "{report}"
    );
    let keys = report["keys"].as_array().unwrap();
    assert_ne!(
        keys[0], keys[1],
        "the session was renewed between the calls: {report}"
    );
    assert_eq!(report["codes"], serde_json::json!([403, 403]));
}

/// Issue 20, item 12: a cached role session records what it was assumed with (role, source
/// profile, external id, session name, MFA serial); after the profile is edited, the next
/// export or credential-process assumes the role again instead of serving the old session.
#[cfg(unix)]
#[test]
fn a_cached_role_session_is_not_served_after_the_profile_changes() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_role(&user, "");
    home.cmd_at(&moto)
        .args(["login", "-p", "work", "-c", &common::totp_now(&user.seed)])
        .assert()
        .success();
    // [work2]: the same MFA session under another name, a second source profile.
    let text = home.read_credentials();
    let work = profile(&text, "work");
    home.write_credentials(&format!(
        "{text}\n[work2]\naws_access_key_id = {}\naws_secret_access_key = {}\n\
         aws_session_token = {}\nexpiration = {}\n",
        work["aws_access_key_id"],
        work["aws_secret_access_key"],
        work["aws_session_token"],
        work["expiration"]
    ));
    let config = |extra: &str| {
        // No mfa_serial in the role: it is assumed from the source's session, without a code.
        home.write_config(&format!(
            "[profile work]\nregion = us-east-1\n\n[profile admin]\nrole_arn = {ROLE}\n\
             region = us-east-1\n{extra}"
        ));
    };
    let assumes = || common::calls(&user, "AssumeRole");
    let serve = |args: &[&str]| {
        let out = home.no_tty(&moto, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    config("source_profile = work\n");
    serve(&["credential-process", "-p", "admin"]);
    assert_eq!(assumes(), 1);
    serve(&["export", "-p", "admin"]);
    assert_eq!(assumes(), 1, "served from the cache");
    let edits = [
        "source_profile = work\nexternal_id = ext-1\n",
        "source_profile = work\nexternal_id = ext-2\n",
        "source_profile = work\nexternal_id = ext-2\nrole_session_name = alice\n",
        "source_profile = work2\nexternal_id = ext-2\nrole_session_name = alice\n",
    ];
    for (i, edit) in edits.iter().enumerate() {
        config(edit);
        let args: &[&str] = if i % 2 == 0 {
            &["export", "-p", "admin"]
        } else {
            &["credential-process", "-p", "admin"]
        };
        serve(args);
        assert_eq!(assumes(), i + 2, "assumed again after: {edit}");
        serve(&["export", "-p", "admin"]);
        assert_eq!(assumes(), i + 2, "then served from the cache: {edit}");
    }
    // Back to a setting the cache entry was not assumed with: assumed again.
    config("source_profile = work2\nexternal_id = ext-2\n");
    serve(&["credential-process", "-p", "admin"]);
    assert_eq!(assumes(), edits.len() + 2);
}

/// `--write-profile` writes only to a section that is absent, empty, or an earlier copy of the
/// same role: never over another managed profile (another user's MFA session, a session
/// profile whose keys are in `[P-long-term]`, a long-term section, a config profile with its
/// own credentials, another role's copy). Each refusal is exit 4, before any call, with the
/// file unchanged.
#[test]
fn write_profile_refuses_every_managed_profile() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_role(&user, "");
    let later = (chrono::Utc::now() + chrono::Duration::hours(5)).format("%Y-%m-%dT%H:%M:%SZ");
    let creds = home.read_credentials();
    home.write_credentials(&format!(
        "{creds}[alice]\naws_access_key_id = ASIAALICE\naws_secret_access_key = s\n\
         aws_session_token = t\nexpiration = {later}\n\
         [bob-long-term]\naws_access_key_id = AKIABOB\naws_secret_access_key = s\n\
         [carol]\nregion = eu-west-1\n"
    ));
    let config = std::fs::read_to_string(home.config()).unwrap();
    home.write_config(&format!(
        "{config}\n[profile sso]\nsso_start_url = https://example.awsapps.com/start\n\
         sso_region = us-east-1\n[profile admin2]\nrole_arn = {ROLE}\nsource_profile = work\n"
    ));
    let before = home.read_credentials();
    for (target, says) in [
        ("alice", "holds session credentials"),
        ("bob", "[bob-long-term]"),
        ("bob-long-term", "long-term"),
        ("sso", "sso_start_url"),
        ("carol", "region"),
    ] {
        home.cmd_at(&moto)
            .args([
                "login",
                "-p",
                "admin",
                "-c",
                "123456",
                "--write-profile",
                target,
            ])
            .assert()
            .code(4)
            .stderr(predicate::str::contains(says).and(predicate::str::contains("pick another")));
    }
    assert_eq!(home.read_credentials(), before);
    assert_eq!(common::calls(&user, "AssumeRole"), 0);

    // A new name is written, with a mark saying whose copy it is; a later run (the role session
    // still cached) writes it again.
    home.cmd_at(&moto)
        .args([
            "login",
            "-p",
            "admin",
            "-c",
            &common::totp_now(&user.seed),
            "--write-profile",
            "admin-keys",
        ])
        .assert()
        .success();
    let first = profile(&home.read_credentials(), "admin-keys");
    assert!(first["aws_access_key_id"].starts_with("ASIA"));
    home.cmd_at(&moto)
        .args(["login", "-p", "admin", "--write-profile", "admin-keys"])
        .assert()
        .success()
        .stderr(predicate::str::contains("still valid"));
    assert_eq!(profile(&home.read_credentials(), "admin-keys"), first);
    // Another role may not take it over.
    let before = home.read_credentials();
    home.cmd_at(&moto)
        .args([
            "login",
            "-p",
            "admin2",
            "-c",
            "123456",
            "--write-profile",
            "admin-keys",
        ])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("role profile admin"));
    assert_eq!(home.read_credentials(), before);
}
