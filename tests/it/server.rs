//! `exec --server` under attack and under real SDK clients: the served command's default chain
//! ends at the endpoint whatever the user's files and environment hold; the endpoint answers
//! its owner among a thousand slow connections with a handful of threads; a renewal never reads
//! the command's terminal and serves what is stored while it lasts; nothing of ours outlives
//! mfa-session, however it is ended.

use crate::common;
use common::{LT_SECTION, children, comm, session_section};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use common::Home;

/// Polls `done` every 10 ms; fails the test after `secs` instead of sleeping a fixed time.
fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A process that no longer runs: gone, or a zombie nobody reaped yet.
fn not_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            state.starts_with('Z') || state.starts_with('X')
        }
    }
}

/// The pids of running processes whose command line is exactly `argv`.
fn processes_running(argv: &[&str]) -> Vec<u32> {
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want))
        .filter(|&pid| !not_running(pid))
        .collect()
}

fn threads(pid: u32) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

fn signal(pid: u32, sig: i32) {
    unsafe { libc::kill(pid as i32, sig) };
}

/// Where the served command writes the endpoint it was given, for the test to use.
fn endpoint_file(home: &Home) -> PathBuf {
    home.path().join("endpoint")
}

/// `exec --server` running `sleep SECONDS` after writing its URL and token to
/// [`endpoint_file`]; returns the child and (url, token) once written.
fn serving(home: &Home, profile: &str, seconds: &str) -> (std::process::Child, String, String) {
    let file = endpoint_file(home);
    let child = StdCommand::new(assert_cmd::cargo::cargo_bin("mfa-session"))
        .args(["exec", "-p", profile, "--server", "--", "sh", "-c"])
        .arg(format!(
            "printf '%s %s' \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" \"$AWS_CONTAINER_AUTHORIZATION_TOKEN\" > {f}.tmp && mv {f}.tmp {f} && exec sleep {seconds}",
            f = file.display()
        ))
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the command wrote its endpoint", 20, || file.exists());
    let text = std::fs::read_to_string(&file).unwrap();
    let (url, token) = text.split_once(' ').unwrap();
    (child, url.to_string(), token.to_string())
}

/// One GET of the endpoint with `token`; the status code and body.
fn get(url: &str, token: &str, timeout: Duration) -> std::io::Result<(u16, String)> {
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut s = TcpStream::connect(&addr)?;
    s.set_read_timeout(Some(timeout))?;
    write!(
        s,
        "GET /credentials HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {token}\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Ok((code, body))
}

/// Issue 20, 1: with a `[default]` profile of another user in the credentials file, web
/// identity and a token file inherited from CI, the AWS CLI, boto3 and the JavaScript SDK v3 in
/// the served command still get the served session; the user's other profiles stay usable by
/// name, and `[default]`'s `output` setting still applies.
#[test]
fn served_command_sdks_use_the_served_identity() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let other = common::provision_user(&moto);
    let home = Home::new();
    home.write_credentials(&format!(
        "{}\n[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        common::long_term("work", &user, ""),
        other.access_key_id,
        other.secret_access_key
    ));
    home.write_config(
        "[default]\nregion = us-east-1\noutput = text\n\n[profile work]\nregion = us-east-1\n",
    );
    home.cmd_at(&moto)
        .args(["login", "-p", "work", "-c", &common::totp_now(&user.seed)])
        .assert()
        .success();
    let token_file = home.path().join("web-identity-token");
    std::fs::write(&token_file, "eyJhbGciOiJub25lIn0.e30.").unwrap();
    let wrong_token = home.path().join("container-token");
    std::fs::write(&wrong_token, "not-the-servers-token").unwrap();
    let script = home.path().join("child.py");
    std::fs::write(
        &script,
        r#"import json, os, subprocess, sys
import boto3
aws = os.path.join(os.path.dirname(sys.executable), "aws")
def cli(*args):
    r = subprocess.run([aws, "sts", "get-caller-identity", "--query", "Arn", *args],
        capture_output=True, text=True)
    return (r.stdout + r.stderr).strip()
js = subprocess.run(["node", sys.argv[1]], capture_output=True, text=True)
print(json.dumps({
    "boto3": boto3.session.Session().client("sts").get_caller_identity()["Arn"],
    "js": (js.stdout + js.stderr).strip(),
    "cli": cli(),
    "cli_default": cli("--profile", "default", "--output", "json"),
    "config": os.environ["AWS_CONFIG_FILE"],
}))
"#,
    )
    .unwrap();
    // The JavaScript SDK v3 (scripts/setup-test-env installs it into .node/).
    let node_modules = Path::new(env!("CARGO_MANIFEST_DIR")).join(".node/node_modules");
    assert!(
        node_modules.join("@aws-sdk/client-sts").is_dir(),
        "the JavaScript SDK is missing: run scripts/setup-test-env"
    );
    let js = home.path().join("child.js");
    std::fs::write(
        &js,
        r#"const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
new STSClient({}).send(new GetCallerIdentityCommand({}))
  .then((r) => console.log(r.Arn))
  .catch((e) => console.log("ERROR " + e.name + ": " + e.message));
"#,
    )
    .unwrap();
    let out = home
        .cmd_at(&moto)
        .env("NODE_PATH", &node_modules)
        .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci-oidc")
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &wrong_token)
        .env("AWS_PROFILE", "default")
        .args(["exec", "-p", "work", "--server", "--"])
        .arg(common::venv().join("bin/python"))
        .arg(&script)
        .arg(&js)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let mine = format!("user/{}", user.name);
    assert!(
        report["boto3"].as_str().unwrap().ends_with(&mine),
        "{report}"
    );
    // `output = text` of [default] still applies: the ARN is printed bare, not as JSON.
    let cli = report["cli"].as_str().unwrap();
    assert!(cli.starts_with("arn:") && cli.ends_with(&mine), "{report}");
    // [default] is still there for whoever names it.
    let by_name = report["cli_default"].as_str().unwrap();
    assert!(
        by_name.contains(&format!("user/{}", other.name)),
        "{report}"
    );
    // The copy of the config the command read is gone with it.
    let config = report["config"].as_str().unwrap();
    assert!(!Path::new(config).exists(), "{config} is left behind");
}

/// Issue 20, 2: 1100 connections that send a byte a second (and reconnect when dropped) neither
/// starve the owner's request (answered within 5 s) nor cost a thread each.
#[test]
fn endpoint_answers_its_owner_among_slow_connections() {
    let home = Home::new();
    home.write_credentials(&format!(
        "{LT_SECTION}\n{}",
        session_section("dev", "stored-token", 600)
    ));
    let (mut server, url, token) = serving(&home, "dev", "120");
    let pid = server.id();
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attacker = {
        let (addr, stop) = (addr.clone(), stop.clone());
        std::thread::spawn(move || {
            let connect = || {
                let s = TcpStream::connect(&addr).ok()?;
                s.set_nonblocking(true).ok()?;
                Some(s)
            };
            let mut conns: Vec<Option<TcpStream>> = (0..1100).map(|_| connect()).collect();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for c in conns.iter_mut() {
                    let alive = c
                        .as_mut()
                        .is_some_and(|s| s.write(b"G").is_ok_and(|n| n == 1));
                    if !alive {
                        *c = connect();
                    }
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    let mut most_threads = 0;
    for _ in 0..4 {
        let start = Instant::now();
        let (code, body) = get(&url, &token, Duration::from_secs(10)).expect("an answer");
        let took = start.elapsed();
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("ASIAVALIDSESSION0001"), "{body}");
        assert!(took < Duration::from_secs(5), "answered after {took:?}");
        most_threads = most_threads.max(threads(pid));
        std::thread::sleep(Duration::from_millis(700));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    attacker.join().unwrap();
    assert!(most_threads <= 8, "{most_threads} threads under load");
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server died under load"
    );
    signal(pid, libc::SIGTERM);
    server.wait().unwrap();
}

/// Issue 20, 3: a renewal that falls due while the command runs never asks on the command's
/// terminal: what is stored is served while it has time left (at once), and once it has none
/// the request gets an error at once.
#[test]
fn renewals_under_exec_server_never_read_the_terminal() {
    let home = Home::new();
    home.write_credentials(&format!(
        "{LT_SECTION}\n{}",
        session_section("dev", "stored-token", 600)
    ));
    let script = home.path().join("child.py");
    std::fs::write(
        &script,
        r#"import os, re, sys, time, urllib.request, urllib.error
creds = os.path.join(os.environ["HOME"], ".aws/credentials")
def set_expiration(minutes):
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + minutes * 60))
    text = open(creds).read()
    open(creds, "w").write(re.sub(r"expiration = .*", "expiration = " + when, text))
def ask():
    req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    req.add_header("Authorization", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
    start = time.time()
    try:
        body = urllib.request.urlopen(req, timeout=10).read().decode()
        code = 200
    except urllib.error.HTTPError as e:
        code, body = e.code, e.read().decode()
    except Exception as e:
        code, body = 0, repr(e)
    return "%d %.1fs %s" % (code, time.time() - start, body.replace("\n", " "))
set_expiration(5)
print("DUE:", ask(), flush=True)
set_expiration(-5)
print("GONE:", ask(), flush=True)
"#,
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("mfa-session");
    let out = home.on_terminal(
        "http://127.0.0.1:9",
        &format!(
            "{} exec -p dev --server -- {} {}",
            bin.display(),
            common::venv().join("bin/python").display(),
            script.display()
        ),
        None,
        &[],
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(!screen.contains("MFA code for"), "{screen}");
    let line = |tag: &str| {
        screen
            .lines()
            .find_map(|l| l.strip_prefix(tag))
            .unwrap_or_else(|| panic!("no {tag} line: {screen}"))
            .trim()
            .to_string()
    };
    let due = line("DUE:");
    assert!(due.starts_with("200 0."), "{due}");
    assert!(due.contains("ASIAVALIDSESSION0001"), "{due}");
    let gone = line("GONE:");
    assert!(
        gone.starts_with("500 0.") || gone.starts_with("500 1."),
        "{gone}"
    );
    assert!(gone.contains("[dev]"), "{gone}");
}

/// Issue 20, 3: a cached role session that is due for renewal but still has time left is
/// served when the role cannot be assumed again (the source has no session and nobody can give
/// a code), not answered with 500.
#[test]
fn a_cached_role_session_with_time_left_is_served() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    home.write_credentials(&common::long_term("work", &user, ""));
    home.write_config(&format!(
        "[profile work]\nregion = us-east-1\n\n[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\n\
         source_profile = work\nmfa_serial = {}\nregion = us-east-1\n",
        user.serial
    ));
    home.cmd_at(&moto)
        .args(["login", "-p", "admin", "-c", &common::totp_now(&user.seed)])
        .assert()
        .success();
    let cache = home.path().join(".cache/mfa-session/roles/admin.json");
    let cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    let key = cached["AccessKeyId"].as_str().unwrap().to_string();
    let script = home.path().join("child.py");
    std::fs::write(
        &script,
        r#"import json, os, sys, time, urllib.request, urllib.error
cache = sys.argv[1]
doc = json.load(open(cache))
doc["Expiration"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 300))
open(cache, "w").write(json.dumps(doc))
req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
req.add_header("Authorization", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
try:
    print(200, urllib.request.urlopen(req, timeout=10).read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
"#,
    )
    .unwrap();
    let out = StdCommand::new("setsid")
        .arg("-w")
        .arg(assert_cmd::cargo::cargo_bin("mfa-session"))
        .args(["exec", "-p", "admin", "--server", "--"])
        .arg(common::venv().join("bin/python"))
        .arg(&script)
        .arg(&cache)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("AWS_ENDPOINT_URL", &moto)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.starts_with("200 ") && stdout.contains(&key),
        "{stdout} {stderr}"
    );
    assert!(stderr.contains("serving the stored session"), "{stderr}");
}

/// Issue 20, 4: SIGKILL of `exec --server` takes the command with it.
#[test]
fn the_served_command_dies_with_exec_server() {
    let home = Home::new();
    home.write_credentials(&format!(
        "{LT_SECTION}\n{}",
        session_section("dev", "stored-token", 600)
    ));
    let (mut server, _, _) = serving(&home, "dev", "3011");
    let pid = server.id();
    let mut command = 0;
    wait_until("the command runs sleep", 10, || {
        command = children(pid).first().copied().unwrap_or(0);
        command != 0 && comm(command) == "sleep"
    });
    signal(pid, libc::SIGKILL);
    server.wait().unwrap();
    wait_until("the orphaned command ends", 5, || not_running(command));
}

/// Issue 20, 4: a SIGTERM that arrives while `exec --server` is starting the command never
/// leaves the command running without it (40 tries at staggered moments).
#[test]
fn an_early_sigterm_never_orphans_the_command() {
    let home = Home::new();
    home.write_credentials(&format!(
        "{LT_SECTION}\n{}",
        session_section("dev", "stored-token", 600)
    ));
    let bin = assert_cmd::cargo::cargo_bin("mfa-session");
    let seconds = format!("30{}", std::process::id() % 1000 + 100);
    for i in 0..40u64 {
        let mut child = StdCommand::new(&bin)
            .args(["exec", "-p", "dev", "--server", "--", "sleep", &seconds])
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var_os("PATH").unwrap())
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(250 * (i % 20)));
        signal(child.id(), libc::SIGTERM);
        let ended = (0..500).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            child.try_wait().unwrap().is_some()
        });
        if !ended {
            let _ = child.kill();
            for pid in processes_running(&["sleep", &seconds]) {
                signal(pid, libc::SIGKILL);
            }
            panic!("try {i}: exec --server did not end within 5 s of SIGTERM");
        }
        wait_until("no orphaned sleep is left", 5, || {
            processes_running(&["sleep", &seconds]).is_empty()
        });
    }
}

/// Issue 20, 4: SIGTERM or SIGHUP to `export` / `credential-process` while an `mfa_process`
/// runs ends its whole process group too (a `ykman` would otherwise keep the key).
#[test]
fn a_signal_while_mfa_process_runs_ends_its_group() {
    for (command, sig) in [
        ("export", libc::SIGTERM),
        ("credential-process", libc::SIGHUP),
    ] {
        let home = Home::new();
        let pids = home.path().join("pids");
        home.write_credentials(&format!(
            "{LT_SECTION}mfa_process = echo $$ > {p}.tmp; sleep 60 & echo $! >> {p}.tmp; mv {p}.tmp {p}; wait\n",
            p = pids.display()
        ));
        let mut child = StdCommand::new("setsid")
            .arg("-w")
            .arg(assert_cmd::cargo::cargo_bin("mfa-session"))
            .args([command, "-p", "dev"])
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("mfa_process runs", 20, || pids.exists());
        let running: Vec<u32> = std::fs::read_to_string(&pids)
            .unwrap()
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(running.len(), 2);
        let target = common::under_setsid(child.id());
        signal(target, sig);
        child.wait().unwrap();
        for pid in running {
            wait_until(&format!("{command}: mfa_process {pid} ends"), 5, || {
                not_running(pid)
            });
        }
    }
}
