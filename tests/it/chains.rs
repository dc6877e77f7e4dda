//! Role chains (issue 21, point 1): a role profile whose source profile is a role profile,
//! against the emulator, which refuses a role whose trust policy demands MFA unless the first
//! AssumeRole of the chain carries the code (or an MFA session signs it). One code at the root,
//! every hop cached, the 1 h chaining cap, loops refused, and `status`, `refresh`, `export`,
//! `exec` (and `--server`) and `credential-process` on a chain.

use crate::common;

use common::{Home, IamUser};

/// A trust policy that lets the account assume the role only with MFA.
const MFA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#;
/// A trust policy without conditions.
const PLAIN_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;

/// Creates IAM role `NAME-suffix` with `trust`; returns its ARN.
fn create_role(endpoint: &str, user: &IamUser, suffix: &str, trust: &str) -> String {
    common::runtime().block_on(async {
        common::admin_iam(endpoint)
            .create_role()
            .role_name(format!("{}-{suffix}", user.name))
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap()
            .role
            .unwrap()
            .arn
    })
}

/// `[work-long-term]` with the user's keys and device, and the config's `[profile work]` plus
/// one role profile per `(name, role_arn, source, extra)`.
fn home_with_chain(user: &IamUser, roles: &[(&str, &str, &str, &str)]) -> Home {
    let home = Home::new();
    home.write_credentials(&common::long_term("work", user, ""));
    let mut config = "[profile work]\nregion = us-east-1\n".to_string();
    for (name, arn, source, extra) in roles {
        config.push_str(&format!(
            "\n[profile {name}]\nrole_arn = {arn}\nsource_profile = {source}\nregion = us-east-1\n{extra}"
        ));
    }
    home.write_config(&config);
    home
}

fn ok(out: &std::process::Output) -> String {
    let err = common::stderr(out);
    assert!(out.status.success(), "{err}");
    err
}

/// The session `credential-process` prints: (access key id, seconds left).
fn credential_process(home: &Home, moto: &str, profile: &str) -> (String, i64) {
    let out = home.no_tty(moto, &["credential-process", "-p", profile]);
    ok(&out);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let exp = chrono::DateTime::parse_from_rfc3339(doc["Expiration"].as_str().unwrap()).unwrap();
    let left = (exp.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    (doc["AccessKeyId"].as_str().unwrap().to_string(), left)
}

/// `target` -> `jump` -> `work` (the user, MFA device): the code goes to the first AssumeRole
/// (jump, whose trust policy demands MFA), the second hop is signed by jump's session. One
/// code, two calls, both hops cached, 12 h asked and 1 h given with a word; then `export`,
/// `credential-process`, `exec`, `status` and `refresh` on the chain.
#[test]
fn a_two_hop_chain_takes_one_code_and_caches_both_hops() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let jump = create_role(&moto, &user, "jump", MFA_TRUST);
    let target = create_role(&moto, &user, "target", PLAIN_TRUST);
    let mfa = format!("mfa_serial = {}\n", user.serial);
    let home = home_with_chain(
        &user,
        &[
            ("jump", &jump, "work", &mfa),
            ("target", &target, "jump", "duration_seconds = 12h\n"),
        ],
    );
    let before = home.read_credentials();
    let assumes = || common::calls(&user, "AssumeRole");

    let out = home
        .cmd_at(&moto)
        .args(["login", "-p", "target", "-c", &common::totp_now(&user.seed)])
        .output()
        .unwrap();
    let err = ok(&out);
    assert!(
        err.contains("[jump] role assumed with the long-term keys of [work] and an MFA code"),
        "{err}"
    );
    assert!(
        err.contains("[target] role assumed with the session of role profile [jump]"),
        "{err}"
    );
    assert!(err.contains("43200 s asked, capped at 3600 s"), "{err}");
    assert_eq!(assumes(), 2, "one AssumeRole per hop");
    assert_eq!(common::calls(&user, "GetSessionToken"), 0);
    assert_eq!(home.read_credentials(), before, "no section written");
    for hop in ["jump", "target"] {
        assert!(
            home.path()
                .join(format!(".cache/mfa-session/roles/{hop}.json"))
                .is_file(),
            "{hop} cached"
        );
    }

    // Served from the cache, with no terminal and no code: no call.
    let (key, left) = credential_process(&home, &moto, "target");
    assert!(key.starts_with("ASIA"), "{key}");
    assert!(left <= 3600 && left > 3000, "{left}");
    let out = home.no_tty(&moto, &["export", "-p", "target", "--format", "dotenv"]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&key));
    assert_eq!(assumes(), 2, "both hops served from the cache");

    // exec: the command runs as the target role.
    let out = home
        .cmd_at(&moto)
        .args(["exec", "-p", "target", "--"])
        .arg(common::venv().join("bin/aws"))
        .args([
            "sts",
            "get-caller-identity",
            "--region",
            "us-east-1",
            "--output",
            "text",
            "--query",
            "Arn",
        ])
        .output()
        .unwrap();
    ok(&out);
    let arn = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        arn.contains(&format!(":assumed-role/{}-target/", user.name)),
        "{arn}"
    );
    assert_eq!(assumes(), 2);

    // status lists both hops, the chain's as a role via jump.
    let out = home.cmd().args(["status"]).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}: {table}"))
            .to_string()
    };
    assert!(row("target").contains("role via jump"), "{table}");
    assert!(row("jump").contains("role via work"), "{table}");
    let out = home
        .cmd()
        .args(["status", "-p", "target"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));

    // refresh renews the chain's last hop unattended, from jump's cached session: no code.
    let out = home.no_tty(&moto, &["refresh", "-p", "target", "--threshold", "2h"]);
    let err = ok(&out);
    assert!(err.contains("[target] renewed until"), "{err}");
    assert_eq!(assumes(), 3, "only the target hop was assumed again");
    let (renewed, _) = credential_process(&home, &moto, "target");
    assert_ne!(renewed, key);
    assert_eq!(assumes(), 3);
}

/// The emulator refuses the MFA-guarded first hop when it is assumed with plain keys, as AWS
/// does; mfa-session reports AWS's denial.
#[test]
fn the_first_hop_of_a_chain_is_refused_without_mfa() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let jump = create_role(&moto, &user, "jump", MFA_TRUST);
    let target = create_role(&moto, &user, "target", PLAIN_TRUST);
    // [plain-long-term]: the same keys, no serial anywhere: AssumeRole without MFA.
    let home = home_with_chain(
        &user,
        &[
            ("jump", &jump, "plain", ""),
            ("target", &target, "jump", ""),
        ],
    );
    home.write_credentials(&format!(
        "[plain-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.access_key_id, user.secret_access_key
    ));
    let out = home
        .cmd_at(&moto)
        .args(["login", "-p", "target"])
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(
        err.contains("not authorized to perform: sts:AssumeRole"),
        "{err}"
    );
    assert_eq!(
        common::calls(&user, "AssumeRole"),
        1,
        "stopped at the first hop"
    );
}

/// Three hops from a root with a valid MFA session: no code, no terminal, one AssumeRole per
/// hop, then none; `exec --server` serves the chain's session to the AWS CLI.
#[cfg(unix)]
#[test]
fn a_three_hop_chain_from_an_mfa_session_asks_for_nothing() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let first = create_role(&moto, &user, "first", MFA_TRUST);
    let mid = create_role(&moto, &user, "mid", PLAIN_TRUST);
    let last = create_role(&moto, &user, "last", PLAIN_TRUST);
    let home = home_with_chain(
        &user,
        &[
            ("first", &first, "work", ""),
            ("mid", &mid, "first", ""),
            ("last", &last, "mid", ""),
        ],
    );
    home.cmd_at(&moto)
        .args(["login", "-p", "work", "-c", &common::totp_now(&user.seed)])
        .assert()
        .success();
    let out = home.no_tty(&moto, &["credential-process", "-p", "last"]);
    let err = ok(&out);
    assert!(
        err.contains("[first] role assumed with the MFA session of [work]"),
        "{err}"
    );
    assert!(
        err.contains("[mid] role assumed with the session of role profile [first]"),
        "{err}"
    );
    assert!(!err.contains("capped"), "1 h asked, 1 h given: {err}");
    assert_eq!(common::calls(&user, "AssumeRole"), 3);
    assert_eq!(common::calls(&user, "GetSessionToken"), 1, "the login only");
    let (_, left) = credential_process(&home, &moto, "last");
    assert!(left <= 3600, "{left}");
    credential_process(&home, &moto, "mid");
    assert_eq!(common::calls(&user, "AssumeRole"), 3, "every hop cached");

    let out = home
        .cmd_at(&moto)
        .args(["exec", "-p", "last", "--server", "--"])
        .arg(common::venv().join("bin/aws"))
        .args([
            "sts",
            "get-caller-identity",
            "--region",
            "us-east-1",
            "--output",
            "text",
            "--query",
            "Arn",
        ])
        .output()
        .unwrap();
    ok(&out);
    let arn = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        arn.contains(&format!(":assumed-role/{}-last/", user.name)),
        "{arn}"
    );
}

/// Three hops, no session anywhere: one code, spent on the first AssumeRole only.
#[test]
fn a_three_hop_chain_spends_one_code_on_the_first_hop() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let first = create_role(&moto, &user, "first", MFA_TRUST);
    let mid = create_role(&moto, &user, "mid", PLAIN_TRUST);
    let last = create_role(&moto, &user, "last", PLAIN_TRUST);
    let home = home_with_chain(
        &user,
        &[
            ("first", &first, "work", ""),
            ("mid", &mid, "first", ""),
            ("last", &last, "mid", ""),
        ],
    );
    let out = home
        .cmd_at(&moto)
        .args(["login", "-p", "last", "-c", &common::totp_now(&user.seed)])
        .output()
        .unwrap();
    let err = ok(&out);
    assert!(
        err.contains("[first] role assumed with the long-term keys of [work] and an MFA code"),
        "{err}"
    );
    assert!(
        err.contains("[mid] role assumed with the session of role profile [first]"),
        "{err}"
    );
    assert_eq!(common::calls(&user, "AssumeRole"), 3);
    assert_eq!(common::calls(&user, "GetSessionToken"), 0);
    // Then with no code: every hop from the cache.
    let out = home
        .cmd_at(&moto)
        .args(["export", "-p", "last"])
        .output()
        .unwrap();
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("AWS_SESSION_TOKEN"));
    assert_eq!(common::calls(&user, "AssumeRole"), 3);
}

/// A later hop whose trust policy demands MFA is refused by AWS: a role session does not carry
/// MFA onward, so only the first hop of a chain can be MFA-protected. Exit 6, with AWS's words,
/// after the first hop.
#[test]
fn a_later_hop_that_demands_mfa_is_refused_by_aws() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let jump = create_role(&moto, &user, "jump", MFA_TRUST);
    let target = create_role(&moto, &user, "target", MFA_TRUST);
    let home = home_with_chain(
        &user,
        &[("jump", &jump, "work", ""), ("target", &target, "jump", "")],
    );
    let out = home
        .cmd_at(&moto)
        .args(["login", "-p", "target", "-c", &common::totp_now(&user.seed)])
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(
        err.contains("not authorized to perform: sts:AssumeRole"),
        "{err}"
    );
    assert_eq!(
        common::calls(&user, "AssumeRole"),
        2,
        "the first hop passed"
    );
}

/// A chain that comes back to one of its profiles is refused before any call, with the exit
/// code of a source profile that cannot give credentials (9, not set up).
#[test]
fn a_role_chain_loop_is_refused() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_chain(
        &user,
        &[
            ("a", common::ROLE, "b", ""),
            ("b", common::ROLE, "c", ""),
            ("c", common::ROLE, "a", ""),
        ],
    );
    let out = home
        .cmd_at(&moto)
        .args(["login", "-p", "a", "-c", "123456"])
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(9), "{err}");
    assert!(err.contains("loop (a -> b -> c -> a)"), "{err}");
    assert_eq!(common::calls(&user, "AssumeRole"), 0);
}
