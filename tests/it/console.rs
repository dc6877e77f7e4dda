//! `console`: a role profile's session traded at a local fake federation endpoint
//! (`AWS_ENDPOINT_URL_SIGNIN`) for a sign-in token, the sign-in URL printed (`--print`) or handed
//! to a recording fake `xdg-open`; the role session itself from the emulator (AssumeRole from
//! the source profile's MFA session). The fake checks what it receives: the session JSON must be
//! the role session's, and it counts requests, so a refusal can be shown to send none.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::common::{self, Home, IamUser, ROLE};
use predicates::prelude::*;

/// The token the fake federation endpoint hands out: `/`, `+` and `=` make encoding matter.
const TOKEN: &str = "FakeSigninToken/abc+def==";

/// A local federation endpoint over plain HTTP: records each request's query and answers
/// `getSigninToken` with [`TOKEN`] (or with `status` and `body` when set).
struct FakeSignin {
    url: String,
    queries: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl FakeSignin {
    fn start(status: u16, body: &'static str) -> FakeSignin {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let queries = Arc::new(Mutex::new(Vec::new()));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let (q, p) = (queries.clone(), paths.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                }
                let target = line.split(' ').nth(1).unwrap_or("").to_string();
                let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                p.lock()
                    .unwrap()
                    .push(format!("{} {path}", line.split(' ').next().unwrap()));
                q.lock().unwrap().push(parse_query(query));
                let body = if status == 200 && body.is_empty() {
                    format!("{{\"SigninToken\":\"{TOKEN}\"}}")
                } else {
                    body.to_string()
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        FakeSignin {
            url,
            queries,
            paths,
        }
    }

    fn ok() -> FakeSignin {
        FakeSignin::start(200, "")
    }

    fn queries(&self) -> Vec<BTreeMap<String, String>> {
        self.queries.lock().unwrap().clone()
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn parse_query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `[work-long-term]` with the user's keys, `[profile admin]` a role from `work`, and an MFA
/// session in `[work]` (logged in with a code), so the role is assumed with no code.
fn home_with_role_session(moto: &str, user: &IamUser, region: &str) -> Home {
    let home = Home::new();
    home.write_credentials(&format!(
        "[work-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\nmfa_serial = {}\n",
        user.access_key_id, user.secret_access_key, user.serial
    ));
    home.write_config(&format!(
        "[profile work]\nregion = {region}\n\n[profile admin]\nrole_arn = {ROLE}\nsource_profile = work\n\
         mfa_serial = {}\n",
        user.serial
    ));
    home.cmd_at(moto)
        .args(["login", "-p", "work", "-c", &common::totp_now(&user.seed)])
        .assert()
        .success();
    home
}

/// The role session as `export` hands it out now (from the cache, no call).
fn role_session(home: &Home, moto: &str) -> BTreeMap<String, String> {
    let out = home
        .cmd_at(moto)
        .args(["export", "-p", "admin", "--no-login", "--format", "dotenv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.trim_matches('\'').to_string())
        })
        .collect()
}

/// The fake saw exactly one getSigninToken, carrying the role session's three values.
fn assert_saw_the_role_session(
    fake: &FakeSignin,
    home: &Home,
    moto: &str,
) -> BTreeMap<String, String> {
    let queries = fake.queries();
    assert_eq!(queries.len(), 1, "{queries:?}");
    let q = &queries[0];
    assert_eq!(q["Action"], "getSigninToken");
    assert_eq!(fake.paths.lock().unwrap()[0], "GET /federation");
    let json: serde_json::Value = serde_json::from_str(&q["Session"]).unwrap();
    let role = role_session(home, moto);
    assert!(role["AWS_ACCESS_KEY_ID"].starts_with("ASIA"), "{role:?}");
    assert_eq!(
        json,
        serde_json::json!({
            "sessionId": role["AWS_ACCESS_KEY_ID"],
            "sessionKey": role["AWS_SECRET_ACCESS_KEY"],
            "sessionToken": role["AWS_SESSION_TOKEN"],
        })
    );
    q.clone()
}

#[test]
fn print_gives_a_sign_in_url_for_the_role_session() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_role_session(&moto, &user, "eu-west-1");
    let fake = FakeSignin::ok();
    let out = home
        .cmd_at(&moto)
        .env("AWS_ENDPOINT_URL_SIGNIN", &fake.url)
        .args(["console", "-p", "admin", "--print"])
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    let q = assert_saw_the_role_session(&fake, &home, &moto);
    assert!(!q.contains_key("SessionDuration"), "{q:?}");

    // stdout is the URL and nothing else; the token is encoded in it and is not on stderr.
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let url = stdout.trim_end();
    assert_eq!(
        url,
        format!(
            "{}/federation?Action=login&Issuer=mfa-session&Destination=\
             https%3A%2F%2Fconsole.aws.amazon.com%2F&SigninToken=FakeSigninToken%2Fabc%2Bdef%3D%3D",
            fake.url
        )
    );
    let (_, query) = url.split_once('?').unwrap();
    let q = parse_query(query);
    assert_eq!(q["SigninToken"], TOKEN);
    assert_eq!(q["Destination"], "https://console.aws.amazon.com/");
    assert_eq!(q["Issuer"], "mfa-session");
    assert!(!err.contains("FakeSigninToken"), "{err}");
    assert!(err.contains("role assumed with"), "{err}");
}

#[test]
fn destination_and_duration_are_passed_on_and_secrets_stay_out_of_logs() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_role_session(&moto, &user, "us-east-1");
    let fake = FakeSignin::ok();
    let dest = "https://console.aws.amazon.com/s3/buckets?region=us-east-1&tab=objects";
    let out = home
        .cmd_at(&moto)
        .env("AWS_ENDPOINT_URL_SIGNIN", format!("{}/", fake.url))
        .args([
            "-vvv",
            "console",
            "-p",
            "admin",
            "--print",
            "--destination",
            dest,
            "--duration",
            "2h",
        ])
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    let q = assert_saw_the_role_session(&fake, &home, &moto);
    assert_eq!(q["SessionDuration"], "7200");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (_, query) = stdout.trim_end().split_once('?').unwrap();
    assert!(
        query.contains(
            "&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fs3%2Fbuckets%3Fregion%3Dus-east-1%26tab%3Dobjects&"
        ),
        "{query}"
    );
    assert_eq!(parse_query(query)["Destination"], dest);
    // At -vvv nothing secret is logged: not the token, not the role session.
    let role = role_session(&home, &moto);
    for secret in [
        "FakeSigninToken",
        &role["AWS_SECRET_ACCESS_KEY"],
        &role["AWS_SESSION_TOKEN"],
        &user.secret_access_key,
    ] {
        assert!(!err.contains(secret), "a secret on stderr: {err}");
    }

    // Out-of-bounds values are usage errors, sent nowhere.
    for args in [
        ["--duration", "10m"],
        ["--duration", "13h"],
        ["--destination", "http://console.aws.amazon.com/"],
    ] {
        home.cmd_at(&moto)
            .env("AWS_ENDPOINT_URL_SIGNIN", &fake.url)
            .args(["console", "-p", "admin", "--print"])
            .args(args)
            .assert()
            .code(2);
    }
    assert_eq!(fake.queries().len(), 1);
}

#[test]
fn a_get_session_token_profile_is_refused_without_a_request() {
    let fake = FakeSignin::ok();
    // Both the STS endpoint and the federation endpoint are the fake: any request is counted.
    let home = common::home_with_long_term_and_serial("");
    for profile in ["dev", "nothing-here"] {
        let out = home
            .cmd_at(&fake.url)
            .env("AWS_ENDPOINT_URL_SIGNIN", &fake.url)
            .args(["console", "-p", profile, "--print"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
        let err = common::stderr(&out);
        assert!(err.contains("not a role profile"), "{err}");
        assert!(
            err.contains("does not accept GetSessionToken sessions"),
            "{err}"
        );
        assert!(err.contains("aws login"), "{err}");
        assert!(out.stdout.is_empty());
    }
    // A valid session in [dev] changes nothing: still refused, still no request.
    let home = common::home_with_long_term_and_serial(&common::session_section("dev", "tok", 600));
    home.cmd_at(&fake.url)
        .env("AWS_ENDPOINT_URL_SIGNIN", &fake.url)
        .args(["console", "-p", "dev"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("GetSessionToken"));
    assert!(fake.queries().is_empty());
}

#[test]
fn federation_errors_are_explained_and_print_nothing() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_role_session(&moto, &user, "us-east-1");
    for (status, body, code, words) in [
        (
            400,
            "<html>no</html>",
            6,
            "refused the role session (HTTP 400)",
        ),
        (503, "", 7, "unavailable (HTTP 503)"),
        (200, "{\"Nope\":1}", 1, "no SigninToken"),
    ] {
        let fake = FakeSignin::start(status, body);
        let out = home
            .cmd_at(&moto)
            .env("AWS_ENDPOINT_URL_SIGNIN", &fake.url)
            .args(["console", "-p", "admin", "--print"])
            .output()
            .unwrap();
        let err = common::stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains(words), "{err}");
        assert!(out.stdout.is_empty());
        assert_eq!(fake.queries().len(), 1);
    }
    // A closed port: unreachable, exit 7.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    home.cmd_at(&moto)
        .env("AWS_ENDPOINT_URL_SIGNIN", &closed)
        .args(["console", "-p", "admin", "--print"])
        .assert()
        .code(7)
        .stderr(predicate::str::contains(
            "cannot reach the federation endpoint",
        ));
}

#[cfg(unix)]
#[test]
fn without_print_the_url_goes_to_the_opener_and_not_to_stdout() {
    use std::os::unix::fs::PermissionsExt;
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_role_session(&moto, &user, "us-east-1");
    // The role assumed (and cached) now, so that the console below, in an aws-cn region the
    // emulator's user does not exist in, is served the cached session with no STS call.
    home.cmd_at(&moto)
        .args(["export", "-p", "admin"])
        .assert()
        .success();
    let fake = FakeSignin::ok();
    let bin = home.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let record = home.path().join("opened");
    let opener = bin.join("xdg-open");
    std::fs::write(
        &opener,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$#\" \"$@\" > '{}'\necho opener-stdout\n",
            record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = home
        .cmd_at(&moto)
        .env("PATH", &path)
        .env("AWS_REGION", "cn-north-1")
        .env("AWS_ENDPOINT_URL_SIGNIN", &fake.url)
        .args(["console", "-p", "admin"])
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        err.contains("console opened in your browser with xdg-open"),
        "{err}"
    );
    assert!(!err.contains("FakeSigninToken"), "{err}");
    assert_saw_the_role_session(&fake, &home, &moto);
    // One argument: the whole URL, with the aws-cn console (AWS_REGION is in aws-cn).
    let recorded = std::fs::read_to_string(&record).unwrap();
    let lines: Vec<&str> = recorded.lines().collect();
    assert_eq!(lines.len(), 2, "{recorded}");
    assert_eq!(lines[0], "1");
    let (_, query) = lines[1].split_once('?').unwrap();
    let q = parse_query(query);
    assert_eq!(q["SigninToken"], TOKEN);
    assert_eq!(q["Destination"], "https://console.amazonaws.cn/");

    // An opener that fails: said so, with the hint, and the URL is not printed.
    std::fs::write(&opener, "#!/bin/sh\nexit 3\n").unwrap();
    let out = home
        .cmd_at(&moto)
        .env("PATH", &path)
        .env("AWS_ENDPOINT_URL_SIGNIN", &fake.url)
        .args(["console", "-p", "admin"])
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("xdg-open could not open the sign-in URL"),
        "{err}"
    );
    assert!(err.contains("--print"), "{err}");
    assert!(
        !err.contains("FakeSigninToken") && out.stdout.is_empty(),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_missing_opener_is_a_clear_error_before_any_request() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = home_with_role_session(&moto, &user, "us-east-1");
    let fake = FakeSignin::ok();
    let empty = home.path().join("empty-bin");
    std::fs::create_dir(&empty).unwrap();
    let out = home
        .cmd_at(&moto)
        .env("PATH", &empty)
        .env("AWS_ENDPOINT_URL_SIGNIN", &fake.url)
        .args(["console", "-p", "admin"])
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(9), "{err}");
    assert!(err.contains("xdg-open was not found"), "{err}");
    assert!(err.contains("--print"), "{err}");
    assert!(out.stdout.is_empty());
    assert!(fake.queries().is_empty());
}
