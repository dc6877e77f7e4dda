//! The Windows binary (`x86_64-pc-windows-gnu`) under wine, against the emulator (issue 19,
//! point 1). `scripts/test` builds it (`scripts/wine-env`'s `wine_build`) and sets
//! `MFA_SESSION_TEST_WINDOWS_EXE`, `WINEPREFIX`, `WINE_SHIM` and `WINE_ENVRUN`; without them
//! these tests fail, saying so.
//!
//! Wine replaces `HOME`, `USERPROFILE` and `LOCALAPPDATA` with its own values when it starts a
//! Windows program from Linux (HOME becomes `WINEHOMEDIR`), so each run goes through
//! `envrun.exe` (scripts/wine/envrun.c), which sets them inside wine to this test's own
//! directories (`Z:\tmp\mfa-home-…`) and then starts the binary with its arguments verbatim.
//! Files are checked from Linux; the AWS CLI on Linux reads what the Windows binary wrote, and
//! wine's `cmd.exe` runs the batch files. No PowerShell here: its format is checked for shape.

use crate::common;
use common::{Home, IamUser, calls, long_term, profile, session_section, stderr};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Debian's wine64 loader, as scripts/wine-env runs it.
const WINE64: &str = "/usr/lib/wine/wine64";

struct Wine {
    exe: PathBuf,
    envrun: PathBuf,
    prefix: String,
}

fn wine() -> &'static Wine {
    static WINE: OnceLock<Wine> = OnceLock::new();
    WINE.get_or_init(|| {
        let need = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!(
                    "{name} is not set: these tests run the Windows binary under wine; run them \
                     through scripts/test, which sources scripts/wine-env, builds the exe \
                     (wine_build) and sets MFA_SESSION_TEST_WINDOWS_EXE, WINEPREFIX, WINE_SHIM \
                     and WINE_ENVRUN"
                )
            })
        };
        let exe = PathBuf::from(need("MFA_SESSION_TEST_WINDOWS_EXE"));
        let shim = PathBuf::from(need("WINE_SHIM"));
        let envrun = PathBuf::from(need("WINE_ENVRUN"));
        let prefix = need("WINEPREFIX");
        for p in [&exe, &shim, &envrun] {
            assert!(p.is_file(), "{} is missing: run scripts/test", p.display());
        }
        assert!(
            Path::new(WINE64).is_file(),
            "{WINE64} is missing: scripts/wine-env installs wine64"
        );
        // Rust's std needs ProcessPrng, which wine 8 lacks: the shim beside the exe, as
        // wine_run puts it (copied once, before any run, and only when it differs).
        let beside = exe.with_file_name("bcryptprimitives.dll");
        if std::fs::read(&beside).ok() != std::fs::read(&shim).ok() {
            std::fs::copy(&shim, &beside).unwrap();
        }
        Wine {
            exe,
            envrun,
            prefix,
        }
    })
}

/// A Linux path as wine's Windows programs see it: `Z:\tmp\x`.
fn win(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}

/// Which variable names the home for the Windows binary.
#[derive(Clone, Copy)]
enum HomeVar {
    Home,
    UserProfile,
}

/// wine64 with a clean environment: only what wine needs and the endpoint.
fn wine_command(endpoint: &str) -> Command {
    let w = wine();
    let mut c = Command::new(WINE64);
    c.env_clear()
        .env("WINEPREFIX", &w.prefix)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env("NO_COLOR", "1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .stdin(Stdio::null());
    c
}

/// `program args` run under wine with the home (and `%LOCALAPPDATA%`, where the cache and
/// locks live) in `home`.
fn in_home(home: &Home, var: HomeVar, endpoint: &str, program: &str, args: &[&str]) -> Command {
    in_home_with(home, var, endpoint, &[], program, args)
}

/// [`in_home`], with more `NAME=VALUE` `settings` made inside wine.
fn in_home_with(
    home: &Home,
    var: HomeVar,
    endpoint: &str,
    settings: &[&str],
    program: &str,
    args: &[&str],
) -> Command {
    let name = match var {
        HomeVar::Home => "HOME",
        HomeVar::UserProfile => "USERPROFILE",
    };
    let mut c = wine_command(endpoint);
    c.arg(&wine().envrun)
        .arg(format!("{name}={}", win(home.path())))
        .arg(format!(
            "LOCALAPPDATA={}",
            win(&home.path().join("AppData/Local"))
        ))
        .args(settings)
        .arg("--")
        .arg(program)
        .args(args);
    c
}

/// The Windows mfa-session with HOME=`Z:\…` and `args`.
fn mfa(home: &Home, endpoint: &str, args: &[&str]) -> Command {
    in_home(home, HomeVar::Home, endpoint, &win(&wine().exe), args)
}

fn run(home: &Home, endpoint: &str, args: &[&str]) -> Output {
    mfa(home, endpoint, args).output().unwrap()
}

/// stdout of a run that must succeed.
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `lines` as a batch file under `home` (CRLF, as Windows editors write them); its `Z:\` path.
fn batch(home: &Home, name: &str, lines: &[&str]) -> String {
    let path = home.path().join(name);
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    std::fs::write(&path, text).unwrap();
    win(&path)
}

/// `refresh`'s and the single flight's code source: a batch file in `dir` that logs each run to
/// `runs`, waits `ping_count - 1` seconds (a person touching a key) and prints the code the
/// test wrote into `code.txt` (no Python on the Windows side to compute it).
fn code_batch(home: &Home, user: &IamUser, ping_count: u32, dir: &str) -> String {
    std::fs::write(
        home.path().join("code.txt"),
        format!("{}\r\n", common::totp_now(&user.seed)),
    )
    .unwrap();
    let runs = win(&home.path().join("runs"));
    let code = win(&home.path().join("code.txt"));
    std::fs::create_dir_all(home.path().join(dir)).unwrap();
    batch(
        home,
        &format!("{dir}/code.bat"),
        &[
            "@echo off",
            &format!("echo run>> {runs}"),
            &format!("ping -n {ping_count} 127.0.0.1 > nul"),
            &format!("type {code}"),
        ],
    )
}

fn runs(home: &Home) -> usize {
    std::fs::read_to_string(home.path().join("runs"))
        .unwrap_or_default()
        .lines()
        .count()
}

/// A managed profile `dev` with a session valid for an hour, beside its long-term keys.
fn home_with_session(token: &str) -> Home {
    let home = Home::new();
    home.write_credentials(&format!(
        "{}\r\n{}",
        common::LT_SECTION,
        session_section("dev", token, 60)
    ));
    home
}

/// The emulator, a new user, and a home whose credentials file holds `[p-long-term]` in CRLF, as
/// a Windows editor writes it; the file's text.
fn windows_home() -> (String, IamUser, Home, String) {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    let original = long_term("p", &user, "").replace('\n', "\r\n");
    home.write_credentials(&original);
    (moto, user, home, original)
}

// ------------------------------------------------------------------------------------- tests

#[test]
fn login_keeps_crlf_and_the_aws_cli_on_linux_reads_the_session() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    let original = format!(
        "; work account\r\n[work-long-term]\r\naws_access_key_id = {}\r\naws_secret_access_key = {}\r\n\r\n[other]\r\nregion = eu-west-1 # keep\r\n",
        user.access_key_id, user.secret_access_key
    );
    home.write_credentials(&original);

    let out = run(
        &home,
        &moto,
        &[
            "login",
            "--profile",
            "work",
            "--code",
            &common::totp_now(&user.seed),
        ],
    );
    assert_eq!(ok(&out), "");
    assert!(
        stderr(&out).contains("[work] logged in with"),
        "{}",
        stderr(&out)
    );
    // The file under HOME=Z:\…: every original byte kept, and the new lines in CRLF too.
    let text = home.read_credentials();
    let without_serial = text.replace(&format!("mfa_serial = {}\r\n", user.serial), "");
    assert!(without_serial.starts_with(&original), "{text:?}");
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "a bare LF: {text:?}"
    );
    assert!(
        text.contains("\r\n[work]\r\naws_access_key_id = ASIA"),
        "{text:?}"
    );
    assert_eq!(profile(&text, "work-long-term")["mfa_serial"], user.serial);
    assert!(!profile(&text, "work")["aws_session_token"].is_empty());

    // The AWS CLI on Linux reads the same file and calls STS with the session.
    let out = Command::new(common::venv().join("bin/aws"))
        .args(["sts", "get-caller-identity", "--profile", "work"])
        .args(["--endpoint-url", &moto, "--region", "us-east-1"])
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_SHARED_CREDENTIALS_FILE", home.credentials())
        .env("AWS_CONFIG_FILE", home.config())
        .output()
        .unwrap();
    let id: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(
        id["Arn"],
        format!("arn:aws:iam::123456789012:user/{}", user.name)
    );
    assert_eq!(calls(&user, "GetSessionToken"), 1);
}

#[test]
fn export_cmd_is_evaluated_by_cmd_exe_and_powershell_has_its_shape() {
    // A token with what cmd.exe treats specially outside quotes (no `%`, `"`, `!`, `^`: those
    // are refused for cmd, see shell.rs).
    let token = "IQoJb3+/== a&b|c<d>e(f)";
    let home = home_with_session(token);
    let lines = ok(&run(
        &home,
        "http://127.0.0.1:9",
        &["export", "--profile", "dev", "--format", "cmd"],
    ));
    let mut script = vec!["@echo off", "set \"AWS_PROFILE=dev\""];
    script.extend(lines.lines());
    script.push("set AWS_");
    let bat = batch(&home, "export.bat", &script);
    let out = wine_command("http://127.0.0.1:9")
        .args(["cmd.exe", "/D", "/C", &bat])
        .output()
        .unwrap();
    let shown = ok(&out).replace("\r\n", "\n");
    for want in [
        "AWS_ACCESS_KEY_ID=ASIAVALIDSESSION0001\n",
        "AWS_SECRET_ACCESS_KEY=sess/secret+key\n",
        &format!("AWS_SESSION_TOKEN={token}\n"),
    ] {
        assert!(shown.contains(want), "{want:?} not in {shown:?}\n{lines}");
    }
    assert!(
        !shown.contains("AWS_PROFILE="),
        "the profile's name would win over the exported keys: {shown:?}\n{lines}"
    );

    // As docs/windows.md has cmd.exe take them, with no file between: `for /f` runs each line.
    let bat = batch(
        &home,
        "export-for.bat",
        &[
            "@echo off",
            "set \"AWS_PROFILE=dev\"",
            &format!(
                "for /f \"delims=\" %%L in ('{} export --profile dev --format cmd') do call %%L",
                win(&wine().exe)
            ),
            "set AWS_",
        ],
    );
    let out = in_home(
        &home,
        HomeVar::Home,
        "http://127.0.0.1:9",
        "cmd.exe",
        &["/D", "/C", &bat],
    )
    .output()
    .unwrap();
    let shown = ok(&out).replace("\r\n", "\n");
    assert!(
        shown.contains(&format!("AWS_SESSION_TOKEN={token}\n"))
            && shown.contains("AWS_ACCESS_KEY_ID=ASIAVALIDSESSION0001\n")
            && !shown.contains("AWS_PROFILE="),
        "{shown:?}"
    );

    // PowerShell (not installed here, so only its shape): one `$Env:NAME = '…'` line per
    // variable, in single quotes (nothing in them is special but `'`, doubled), then
    // AWS_PROFILE removed.
    let ps = ok(&run(
        &home,
        "http://127.0.0.1:9",
        &["export", "--profile", "dev", "--format", "powershell"],
    ));
    let lines: Vec<&str> = ps.lines().collect();
    let (last, sets) = lines.split_last().unwrap();
    assert_eq!(
        *last, "Remove-Item Env:AWS_PROFILE -ErrorAction SilentlyContinue",
        "{ps}"
    );
    let names: Vec<&str> = sets
        .iter()
        .map(|l| {
            let (name, value) = l
                .strip_prefix("$Env:")
                .and_then(|l| l.split_once(" = "))
                .unwrap_or_else(|| panic!("{l:?}"));
            assert!(
                value.len() >= 2 && value.starts_with('\'') && value.ends_with('\''),
                "{l:?}"
            );
            assert!(!value[1..value.len() - 1].contains('\''), "{l:?}");
            name
        })
        .collect();
    assert_eq!(
        names,
        [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION"
        ],
        "{ps}"
    );
    assert!(
        lines.contains(&format!("$Env:AWS_SESSION_TOKEN = '{token}'").as_str()),
        "{ps}"
    );
}

#[test]
fn credential_process_json_and_status_with_userprofile() {
    let home = home_with_session("tok-json");
    let out = ok(&run(
        &home,
        "http://127.0.0.1:9",
        &["credential-process", "--profile", "dev"],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Version"], 1);
    assert_eq!(v["AccessKeyId"], "ASIAVALIDSESSION0001");
    assert_eq!(v["SecretAccessKey"], "sess/secret+key");
    assert_eq!(v["SessionToken"], "tok-json");
    assert!(v["Expiration"].as_str().unwrap().starts_with("20"), "{v}");

    // The home from %USERPROFILE% alone (no HOME), as on a Windows machine.
    let out = in_home(
        &home,
        HomeVar::UserProfile,
        "http://127.0.0.1:9",
        &win(&wine().exe),
        &["status", "--json"],
    )
    .output()
    .unwrap();
    let text = ok(&out);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(text.contains("\"dev\""), "{v}");
    let out = in_home(
        &home,
        HomeVar::UserProfile,
        "http://127.0.0.1:9",
        &win(&wine().exe),
        &["status"],
    )
    .output()
    .unwrap();
    assert!(ok(&out).contains("dev"), "{}", stderr(&out));
}

#[test]
fn exec_passes_the_exit_code_and_the_environment_to_cmd_exe() {
    let home = home_with_session("tok-exec");
    let out = run(
        &home,
        "http://127.0.0.1:9",
        &["exec", "-p", "dev", "--", "cmd.exe", "/C", "exit 7"],
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let out = run(
        &home,
        "http://127.0.0.1:9",
        &[
            "exec",
            "-p",
            "dev",
            "--",
            "cmd.exe",
            "/C",
            "echo %AWS_ACCESS_KEY_ID% %AWS_SESSION_TOKEN%",
        ],
    );
    assert_eq!(ok(&out).trim_end(), "ASIAVALIDSESSION0001 tok-exec");
}

#[test]
fn refresh_through_a_batch_file_mfa_process() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    home.write_credentials(&format!(
        "{}[p]\r\naws_access_key_id = ASIAOLDSESSION\r\naws_secret_access_key = old\r\n\
         aws_session_token = old\r\nexpiration = {}\r\n",
        long_term("p", &user, ""),
        common::expiring_in(5)
    ));
    // In a folder with a space, quoted as Windows quotes paths.
    let bat = code_batch(&home, &user, 1, "my codes");
    home.write_config(&format!("[profile p]\r\nmfa_process = \"{bat}\"\r\n"));
    let out = run(&home, &moto, &["refresh", "--all"]);
    ok(&out);
    assert!(
        stderr(&out).contains("[p] renewed until"),
        "{}",
        stderr(&out)
    );
    assert_eq!(runs(&home), 1);
    let s = profile(&home.read_credentials(), "p");
    assert!(
        s["aws_access_key_id"].starts_with("ASIA") && s["aws_access_key_id"] != "ASIAOLDSESSION",
        "{s:?}"
    );
    assert_eq!(calls(&user, "GetSessionToken"), 1);
}

#[test]
fn ten_credential_processes_share_one_code_and_one_call() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    home.write_credentials(&format!(
        "[p1-long-term]\r\naws_access_key_id = {}\r\naws_secret_access_key = {}\r\n",
        user.access_key_id, user.secret_access_key
    ));
    let bat = code_batch(&home, &user, 2, "codes");
    home.write_config(&format!("[profile p1]\r\nmfa_process = {bat}\r\n"));
    let children: Vec<_> = (0..10)
        .map(|_| {
            mfa(&home, &moto, &["credential-process", "--profile", "p1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let keys: Vec<String> = outs
        .iter()
        .map(|out| {
            let v: serde_json::Value = serde_json::from_str(&ok(out)).unwrap();
            v["AccessKeyId"].as_str().unwrap().to_string()
        })
        .collect();
    // They did run at once: some waited for the one logging in.
    assert!(
        outs.iter()
            .any(|o| stderr(o).contains("waiting for another mfa-session logging in to [p1]")),
        "{:?}",
        outs.iter().map(stderr).collect::<Vec<_>>()
    );
    assert!(keys[0].starts_with("ASIA"), "{keys:?}");
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    assert_eq!(runs(&home), 1, "the code source ran once");
    assert_eq!(calls(&user, "GetSessionToken"), 1);
}

#[test]
fn concurrent_logins_to_different_profiles_lose_nothing() {
    let moto = common::moto();
    let users: Vec<IamUser> = (0..4).map(|_| common::provision_user(&moto)).collect();
    let home = Home::new();
    let mut original = String::from("; shared by four logins\r\n");
    for (i, u) in users.iter().enumerate() {
        original.push_str(&long_term(&format!("p{i}"), u, "").replace('\n', "\r\n"));
    }
    home.write_credentials(&original);
    let children: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let p = format!("p{i}");
            let code = common::totp_now(&u.seed);
            mfa(&home, &moto, &["login", "-p", &p, "-c", &code])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        ok(&c.wait_with_output().unwrap());
    }
    let text = home.read_credentials();
    assert!(text.starts_with(&original), "{text:?}");
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "a bare LF: {text:?}"
    );
    for (i, u) in users.iter().enumerate() {
        let s = profile(&text, &format!("p{i}"));
        assert!(s["aws_access_key_id"].starts_with("ASIA"), "p{i}: {text}");
        assert_eq!(calls(u, "GetSessionToken"), 1);
    }
}

#[test]
fn keyring_store_round_trip_through_the_credential_manager() {
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    let original = format!(
        "# keys\r\n[work-long-term]\r\naws_access_key_id = {}\r\naws_secret_access_key = {}   # mine\r\n\
         mfa_serial = {}\r\n\r\n[other]\r\nregion = x\r\n",
        user.access_key_id, user.secret_access_key, user.serial
    );
    home.write_credentials(&original);
    let out = run(&home, &moto, &["setup", "-p", "work", "--store", "keyring"]);
    ok(&out);
    assert!(
        stderr(&out).contains("into the OS keyring"),
        "{}",
        stderr(&out)
    );
    // The secret key left the file (wine keeps the Credential Manager in its registry, in the
    // prefix, not under HOME).
    assert!(common::files_containing(home.path(), &user.secret_access_key).is_empty());
    let moved = original.replace(
        &format!(
            "aws_secret_access_key = {}   # mine",
            user.secret_access_key
        ),
        "mfa_store = keyring   # mine",
    );
    assert_eq!(home.read_credentials(), moved);
    // A login signs with the secret read back from the Credential Manager.
    ok(&run(
        &home,
        &moto,
        &["login", "-p", "work", "-c", &common::totp_now(&user.seed)],
    ));
    assert_eq!(calls(&user, "GetSessionToken"), 1);
    let with_session = home.read_credentials();
    // Back to the file: byte for byte as before, the session section aside.
    ok(&run(
        &home,
        &moto,
        &["setup", "-p", "work", "--store", "file"],
    ));
    let back = home.read_credentials();
    assert!(back.starts_with(&original), "{back:?}");
    assert_eq!(
        &back[original.len()..],
        &with_session[moved.len()..],
        "only the session follows"
    );
}

/// Starts `holdfile.exe`, which opens `file` without delete sharing (as many editors and
/// scanners do) for `millis`, and returns once it holds it.
fn hold_open(moto: &str, home: &Home, file: &Path, millis: u32) -> std::process::Child {
    let held = home.path().join("held");
    let _ = std::fs::remove_file(&held);
    let holdfile = std::env::var("WINE_HOLDFILE")
        .expect("WINE_HOLDFILE is not set: run the tests through scripts/test");
    let holder = wine_command(moto)
        .arg(holdfile)
        .args([win(file), win(&held), millis.to_string()])
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !held.exists() {
        assert!(
            start.elapsed().as_secs() < 60,
            "holdfile.exe never held the file"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    holder
}

#[test]
fn a_credentials_file_held_open_briefly_is_replaced_once_it_is_let_go() {
    let (moto, user, home, original) = windows_home();
    let mut holder = hold_open(&moto, &home, &home.credentials(), 1000);
    let out = run(
        &home,
        &moto,
        &["login", "-p", "p", "-c", &common::totp_now(&user.seed)],
    );
    ok(&out);
    assert!(holder.wait().unwrap().success(), "holdfile.exe failed");
    let after = home.read_credentials();
    assert!(
        after.starts_with(&original),
        "the long-term lines changed:\n{after:?}"
    );
    assert!(after.contains("[p]\r\n"), "no session section:\n{after:?}");
    assert_eq!(calls(&user, "GetSessionToken"), 1);
}

#[test]
fn a_credentials_file_held_open_too_long_fails_with_one_line_and_is_unchanged() {
    let (moto, user, home, original) = windows_home();
    let mut holder = hold_open(&moto, &home, &home.credentials(), 15_000);
    let t = std::time::Instant::now();
    let out = run(
        &home,
        &moto,
        &["login", "-p", "p", "-c", &common::totp_now(&user.seed)],
    );
    let took = t.elapsed();
    let still_held = holder.try_wait().unwrap().is_none();
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(
        still_held,
        "the holder let go before the login ended ({took:?})"
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "exit code; stderr:\n{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line:\n{err}");
    assert!(
        err.contains("in use by another program"),
        "the line says why:\n{err}"
    );
    assert_eq!(home.read_credentials(), original, "the file changed");
    assert!(
        !std::fs::read_dir(home.path().join(".aws"))
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().contains("tmp-")),
        "a temp file was left behind"
    );
}

/// Wine processes (as Linux sees them) whose command line holds `marker`.
fn wine_processes_with(marker: &str) -> Vec<String> {
    processes_with(&[marker])
        .into_iter()
        .map(|(_, cmdline)| cmdline)
        .collect()
}

/// Processes (pid, command line) whose command line holds every one of `needles`.
fn processes_with(needles: &[&str]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if needles.iter().all(|n| cmdline.contains(n)) {
                found.push((entry.file_name().to_string_lossy().into_owned(), cmdline));
            }
        }
    }
    found
}

/// SIGKILLs, as a crash would, the mfa-session.exe processes whose command line holds every one
/// of `needles` (envrun.exe, which holds the command line it starts, is left alone); fails the
/// test unless exactly `expected` were found.
fn kill_mfa_session(needles: &[&str], expected: usize) {
    let exe = wine()
        .exe
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let mut all = vec![exe.as_str()];
    all.extend_from_slice(needles);
    let ours: Vec<(String, String)> = processes_with(&all)
        .into_iter()
        .filter(|(_, cmdline)| !cmdline.contains("envrun"))
        .collect();
    assert_eq!(
        ours.len(),
        expected,
        "mfa-session.exe processes with {needles:?}: {ours:?}"
    );
    for (pid, _) in &ours {
        let _ = Command::new("kill").args(["-KILL", pid]).status();
    }
}

/// Waits up to 10 s for every wine process holding `marker` to be gone.
fn assert_none_left(marker: &str, what: &str) {
    let start = std::time::Instant::now();
    loop {
        let left = wine_processes_with(marker);
        if left.is_empty() {
            return;
        }
        assert!(
            start.elapsed().as_secs() < 10,
            "{what}: still running: {left:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// `args` run like [`run`], but killed (and the test failed) after `secs`: what a test of
/// "nothing left running" needs, where a leftover would otherwise hang the run.
fn run_within(home: &Home, endpoint: &str, args: &[&str], secs: u64) -> Output {
    let mut child = mfa(home, endpoint, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed().as_secs() >= secs {
            let _ = child.kill();
            panic!("mfa-session.exe {args:?} did not end within {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// A batch code source that first starts `ping -n COUNT` in the background (a helper it leaves
/// behind; COUNT is the test's marker), then, unless `hang`, prints the code.
fn code_batch_leaving(home: &Home, user: &IamUser, count: u32, hang: bool) -> String {
    std::fs::write(
        home.path().join("code.txt"),
        format!("{}\r\n", common::totp_now(&user.seed)),
    )
    .unwrap();
    let code = win(&home.path().join("code.txt"));
    let mut lines = vec![
        "@echo off".to_string(),
        format!("start /b ping -n {count} 127.0.0.1 > nul"),
    ];
    if hang {
        lines.push(format!("ping -n {} 127.0.0.1 > nul", count + 1));
    }
    lines.push(format!("type {code}"));
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    batch(home, "leaving.bat", &lines)
}

#[test]
fn what_an_mfa_process_leaves_behind_ends_with_it() {
    let (moto, user, home, _) = windows_home();
    let marker = 3000 + std::process::id() % 1000;
    let bat = code_batch_leaving(&home, &user, marker, false);
    let out = run_within(
        &home,
        &moto,
        &["login", "-p", "p", "--mfa-process", &bat],
        60,
    );
    ok(&out);
    assert_eq!(calls(&user, "GetSessionToken"), 1);
    assert_none_left(
        &format!("-n {marker} "),
        "the helper the code source started (its Job Object was not closed)",
    );
}

#[test]
fn an_mfa_process_past_the_bound_is_killed_with_all_it_started() {
    let (moto, user, home, original) = windows_home();
    let marker = 4000 + std::process::id() % 1000;
    let bat = code_batch_leaving(&home, &user, marker, true);
    let t = std::time::Instant::now();
    let out = run_within(
        &home,
        &moto,
        &["login", "-p", "p", "--mfa-process", &bat],
        90,
    );
    let took = t.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("did not finish within 30 s and was killed"),
        "{err}"
    );
    assert!(took.as_secs() < 60, "took {took:?}");
    assert_none_left(&format!("-n {marker} "), "the code source's helper");
    assert_none_left(&format!("-n {} ", marker + 1), "the code source");
    assert_eq!(calls(&user, "GetSessionToken"), 0);
    assert_eq!(home.read_credentials(), original);
}

#[test]
fn an_mfa_process_ends_when_mfa_session_is_killed() {
    let (moto, user, home, _) = windows_home();
    let marker = 5000 + std::process::id() % 1000;
    let bat = code_batch_leaving(&home, &user, marker, true);
    let mut child = mfa(&home, &moto, &["login", "-p", "p", "--mfa-process", &bat])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Once the code source runs, kill mfa-session.exe itself (not wine's loader we started).
    let start = std::time::Instant::now();
    while wine_processes_with(&format!("-n {} ", marker + 1)).is_empty() {
        assert!(
            start.elapsed().as_secs() < 30,
            "the code source never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let home_name = home
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    kill_mfa_session(&["leaving.bat", &home_name], 1);
    let _ = child.wait();
    assert_none_left(&format!("-n {marker} "), "the code source's helper");
    assert_none_left(&format!("-n {} ", marker + 1), "the code source");
    assert_eq!(calls(&user, "GetSessionToken"), 0);
}

/// `text` without its terminal control sequences (`ESC [ … letter`): wine's console hides and
/// shows the cursor around each character it writes.
fn without_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `args` for the Windows binary run on a pseudo-terminal (`script`), so wine gives it a console
/// on that terminal; `keys` are typed once `prompt` is on the screen (Enter is `\r`: the console
/// reads the terminal raw; Ctrl-C is `\x03`). Returns the exit status, everything the screen
/// showed, and how long the run took after the keys.
fn on_console(
    home: &Home,
    endpoint: &str,
    args: &[&str],
    prompt: &str,
    keys: &str,
    settings: &[&str],
) -> (Option<i32>, String, std::time::Duration) {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let c = in_home_with(
        home,
        HomeVar::Home,
        endpoint,
        settings,
        &win(&wine().exe),
        args,
    );
    let line = std::iter::once(c.get_program())
        .chain(c.get_args())
        .map(|a| quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    // Run by bash, which waits out a Ctrl-C its command survives (dash would die of it and end
    // the run while the Windows programs go on); not exec'd, which wine takes differently.
    let line = format!("{line}; exit $?");
    let mut script = Command::new("script");
    script
        .args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("SHELL", "/bin/bash");
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            script.env(k, v);
        }
    }
    let mut child = script
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let screen = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let screen = Arc::clone(&screen);
        let mut out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = out.read(&mut buf) {
                screen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let shown = || String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
    let start = std::time::Instant::now();
    while !without_escapes(&shown()).contains(prompt) {
        if start.elapsed().as_secs() > 60 || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("the prompt {prompt:?} never came; the screen:\n{}", shown());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // A moment for the program to be waiting for the keys (wine reads the terminal in turns).
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(keys.as_bytes()).unwrap();
    let typed = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed().as_secs() > 90 {
            let _ = child.kill();
            panic!("it never ended; the screen:\n{}", shown());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let took = typed.elapsed();
    drop(stdin);
    reader.join().unwrap();
    (status.code(), shown(), took)
}

#[test]
fn the_console_prompt_does_not_show_the_code() {
    let (moto, user, home, _) = windows_home();
    let code = common::totp_now(&user.seed);
    let (status, screen, _) = on_console(
        &home,
        &moto,
        &["login", "-p", "p"],
        "MFA code for",
        &format!("{code}\r"),
        &[],
    );
    assert_eq!(status, Some(0), "the screen:\n{screen}");
    let after_prompt = &screen[screen.find("MFA code for").unwrap()..];
    assert!(
        after_prompt.contains("[p]"),
        "the prompt names the profile:\n{screen}"
    );
    assert!(
        !after_prompt.contains(&code),
        "the code was shown on the console:\n{screen}"
    );
    assert_eq!(calls(&user, "GetSessionToken"), 1);
}

/// The Windows binary's `credential-process` for `profile`, started with no console (stdin,
/// stdout and stderr not a terminal) on the X display of `x`, as an IDE starts it. It runs in a
/// wine prefix of its own (`WINE_GUI_PREFIX`): wine's desktop belongs to the display of the
/// first window a prefix shows, and this test's Xvfb is its own.
fn credential_process_without_console(
    x: &crate::prompts::Xvfb,
    moto: &str,
    home: &Home,
    profile: &str,
) -> std::process::Child {
    let prefix = std::env::var("WINE_GUI_PREFIX")
        .expect("WINE_GUI_PREFIX is not set: run the tests through scripts/test");
    mfa(home, moto, &["credential-process", "--profile", profile])
        .env("WINEPREFIX", prefix)
        .env("DISPLAY", &x.display)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// One test for both answers, on one display, one after the other: the dialogs of two tests at
/// once would share a title.
#[test]
fn without_a_console_the_code_is_asked_in_a_credui_dialog_and_cancel_exits_8() {
    let x = crate::prompts::Xvfb::start();
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    // The profile is named after the user, so that this test's processes are told apart.
    let original = long_term(&user.name, &user, "").replace('\n', "\r\n");
    home.write_credentials(&original);

    // Cancel (Escape): exit 8, no call, nothing written.
    let mut child = credential_process_without_console(&x, &moto, &home, &user.name);
    let (window, first) = x.wait_window("mfa-session: MFA code", &[], &mut child);
    let _ = x.xdotool(&["windowfocus", &window]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(x.xdotool(&["key", "Escape"]).status.success());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(8), "{err}");
    assert!(err.contains("credui"), "{err}");
    assert_eq!(calls(&user, "GetSessionToken"), 0);
    assert_eq!(home.read_credentials(), original);

    // mfa-session.exe killed while the dialog is open: the dialog (in its Job Object) goes too.
    let mut child = credential_process_without_console(&x, &moto, &home, &user.name);
    let (_, second) = x.wait_window(
        "mfa-session: MFA code",
        std::slice::from_ref(&first),
        &mut child,
    );
    // mfa-session.exe itself (not the dialog, whose text names the profile too).
    kill_mfa_session(&[&format!("credential-process --profile {}", user.name)], 1);
    let _ = child.wait();
    let start = std::time::Instant::now();
    while std::path::Path::new(&format!("/proc/{second}")).exists() {
        assert!(
            start.elapsed().as_secs() < 10,
            "the dialog outlived mfa-session.exe: {}",
            x.argv_of(&second)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        x.windows("mfa-session: MFA code").is_empty() || {
            std::thread::sleep(std::time::Duration::from_secs(1));
            x.windows("mfa-session: MFA code").is_empty()
        }
    );
    assert_eq!(calls(&user, "GetSessionToken"), 0);

    // The code typed: a session.
    let mut child = credential_process_without_console(&x, &moto, &home, &user.name);
    let (window, pid) = x.wait_window("mfa-session: MFA code", &[first, second], &mut child);
    // The dialog is this exe's credui-dialog, asking for this profile and device.
    let argv = x.argv_of(&pid);
    assert!(argv.contains("credui-dialog"), "{argv}");
    assert!(
        argv.contains(&format!(
            "MFA code for profile {} (arn:aws:iam::",
            user.name
        )),
        "{argv}"
    );
    let code = common::totp_now(&user.seed);
    x.type_into(&window, &code);
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert!(
        v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"),
        "{v}"
    );
    assert_eq!(calls(&user, "GetSessionToken"), 1);
    assert!(!argv.contains(&code));
    assert!(!stderr(&out).contains(&code), "{}", stderr(&out));
}

#[test]
fn ctrl_c_goes_to_execs_command_and_its_exit_code_comes_back() {
    let home = home_with_session("tok-ctrl-c");
    let ctrlc = std::env::var("WINE_CTRLC")
        .expect("WINE_CTRLC is not set: run the tests through scripts/test");
    // Ctrl-C typed on the console while the command waits for it: the command must get it (a
    // command that inherited "ignore Ctrl-C" never does, and exits 3 after 20 s) and exit 42;
    // mfa-session, which leaves Ctrl-C to its command, must still be there to pass the 42 on.
    let (status, screen, took) = on_console(
        &home,
        "http://127.0.0.1:9",
        &["exec", "-p", "dev", "--", &win(Path::new(&ctrlc))],
        "READY",
        "\x03",
        &[],
    );
    assert_eq!(status, Some(42), "after {took:?}; the screen:\n{screen}");
    assert!(took.as_secs() < 15, "{took:?}");
}

#[test]
fn exec_server_serves_the_aws_cli_and_ends_with_its_command() {
    let (moto, user, home, _) = windows_home();
    ok(&run(
        &home,
        &moto,
        &["login", "-p", "p", "-c", &common::totp_now(&user.seed)],
    ));
    // The command ending ends exec --server, with its exit code.
    let out = run_within(
        &home,
        &moto,
        &[
            "exec", "--server", "-p", "p", "--", "cmd.exe", "/C", "exit 5",
        ],
        60,
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));

    // A command that stays: it hands the endpoint to the test, which points the AWS CLI on
    // Linux at it; then mfa-session.exe is killed, and the command must end with it.
    let marker = 7000 + std::process::id() % 1000;
    let handed = home.path().join("endpoint.txt");
    let mut served = mfa(
        &home,
        &moto,
        &[
            "exec",
            "--server",
            "-p",
            "p",
            "--",
            "cmd.exe",
            "/C",
            &format!(
                "echo %AWS_CONTAINER_CREDENTIALS_FULL_URI%> {0}& \
                 echo %AWS_CONTAINER_AUTHORIZATION_TOKEN%>> {0}& ping -n {marker} 127.0.0.1 > nul",
                win(&handed)
            ),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let start = std::time::Instant::now();
    let (uri, token) = loop {
        let text = std::fs::read_to_string(&handed).unwrap_or_default();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        if lines.len() == 2 {
            break (lines[0].to_string(), lines[1].to_string());
        }
        if start.elapsed().as_secs() > 60 || served.try_wait().unwrap().is_some() {
            let _ = served.kill();
            let out = served.wait_with_output().unwrap();
            panic!(
                "no endpoint handed over ({text:?}); exit {:?}: {}{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                stderr(&out)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(uri.starts_with("http://127.0.0.1:"), "{uri}");
    let out = Command::new(common::venv().join("bin/aws"))
        .args(["sts", "get-caller-identity"])
        .args(["--endpoint-url", &moto, "--region", "us-east-1"])
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
        .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", &token)
        .output()
        .unwrap();
    let id: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(
        id["Arn"],
        format!("arn:aws:iam::123456789012:user/{}", user.name)
    );
    kill_mfa_session(&["--server", &win(&handed)], 1);
    let _ = served.wait();
    assert_none_left(&format!("-n {marker} "), "the served command");
    // And the endpoint is gone with mfa-session.
    let port = uri.trim_start_matches("http://127.0.0.1:");
    let port: u16 = port.split('/').next().unwrap().parse().unwrap();
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the endpoint still answers"
    );
}

#[test]
fn ykman_on_windows_with_its_touch_hint_on_the_console() {
    let (moto, user, home, _) = windows_home();
    home.write_config("[profile p]\r\nmfa_prompt = ykman\r\nmfa_ykman_account = aws:work\r\n");
    // A ykman.bat on PATH that waits like a key waiting for a touch, records its arguments and
    // prints the code the test wrote.
    std::fs::create_dir_all(home.path().join("bin")).unwrap();
    std::fs::write(
        home.path().join("code.txt"),
        format!("{}\r\n", common::totp_now(&user.seed)),
    )
    .unwrap();
    let args = win(&home.path().join("args.txt"));
    let code = win(&home.path().join("code.txt"));
    batch(
        &home,
        "bin/ykman.bat",
        &[
            "@echo off",
            &format!("echo %*> {args}"),
            "ping -n 3 127.0.0.1 > nul",
            &format!("type {code}"),
        ],
    );
    let path = format!(
        "PATH={};C:\\windows\\system32;C:\\windows",
        win(&home.path().join("bin"))
    );
    let (status, screen, _) = on_console(
        &home,
        &moto,
        &["login", "-p", "p"],
        "Touch your YubiKey",
        "",
        &[&path],
    );
    let screen = without_escapes(&screen);
    assert_eq!(status, Some(0), "{screen}");
    assert!(
        screen
            .contains("Touch your YubiKey (mfa-session needs the code of aws:work for profile p ("),
        "{screen}"
    );
    assert_eq!(
        std::fs::read_to_string(home.path().join("args.txt"))
            .unwrap()
            .trim(),
        "oath accounts code --single aws:work"
    );
    assert_eq!(calls(&user, "GetSessionToken"), 1);
}

#[test]
fn a_seed_file_others_may_read_is_refused_and_a_private_one_used() {
    use std::os::unix::fs::PermissionsExt;
    let moto = common::moto();
    let user = common::provision_user(&moto);
    let home = Home::new();
    let seed = home.path().join("seed.txt");
    std::fs::write(&seed, format!("{}\n", user.seed)).unwrap();
    let original = long_term(
        "p",
        &user,
        &format!("mfa_totp_secret_file = {}", win(&seed)),
    )
    .replace('\n', "\r\n");
    home.write_credentials(&original);
    // Wine gives a file without an ACL of its own one made from its Unix mode: 0644 lets
    // Everyone read it.
    std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(&home, &moto, &["login", "-p", "p"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(9), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("readable or writable by")
            && err.contains("(S-1-1-0) under its access control list"),
        "names the account and why: {err}"
    );
    assert!(
        err.contains("icacls \""),
        "the Windows fix, not chmod: {err}"
    );
    assert!(!err.contains("chmod") && !err.contains(&user.seed), "{err}");
    assert_eq!(home.read_credentials(), original);
    assert_eq!(calls(&user, "GetSessionToken"), 0);

    // Private (0600: only its owner in the ACL wine makes): used, one call.
    std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o600)).unwrap();
    ok(&run(&home, &moto, &["login", "-p", "p"]));
    assert_eq!(calls(&user, "GetSessionToken"), 1);
}

#[test]
fn ctrl_c_during_an_mfa_process_ends_it_and_all_it_started() {
    let (moto, user, home, original) = windows_home();
    let marker = 8000 + std::process::id() % 1000;
    let bat = code_batch_leaving(&home, &user, marker, true);
    // The code source announces itself on the console, then hangs with its helper running.
    let announce = batch(
        &home,
        "announce.bat",
        &["@echo off", "echo STARTED 1>&2", &format!("call {bat}")],
    );
    let (status, screen, took) = on_console(
        &home,
        &moto,
        &["login", "-p", "p", "--mfa-process", &announce],
        "STARTED",
        "\x03",
        &[],
    );
    // STATUS_CONTROL_C_EXIT (0xC000013A), of which the Linux side sees the low byte.
    assert_eq!(status, Some(0x3a), "{screen}");
    assert!(took.as_secs() < 15, "took {took:?}: {screen}");
    assert_none_left(&format!("-n {marker} "), "the code source's helper");
    assert_none_left(&format!("-n {} ", marker + 1), "the code source");
    assert_eq!(calls(&user, "GetSessionToken"), 0);
    assert_eq!(home.read_credentials(), original);
}
