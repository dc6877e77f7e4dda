//! Issue 20, item 5: mfa-session's own cache (`~/.cache/mfa-session`: the single-flight locks and
//! the role sessions) under root, read-only or full file systems, shared or relative
//! `XDG_CACHE_HOME`, hostile lock paths and very long profile names. Each through the binary.

#![allow(dead_code, unused_imports)]

use crate::common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output};

use chrono::Utc;
use common::Home;
use common::fake_aws::{self, FakeAws, Reply};

const LT_KEY: &str = "AKIALONGTERMKEY00001";
const LT_SECRET: &str = "longTermSecret/K7MDENG/bPxRfiCYEXAMPLEKEY";
const SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";
const ROLE: &str = "arn:aws:iam::123456789012:role/Admin";
const NOBODY: u32 = 65534;

fn in_hours(h: i64) -> String {
    (Utc::now() + chrono::Duration::hours(h))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An endpoint that answers GetSessionToken and AssumeRole with a session.
fn fake() -> FakeAws {
    let fake = FakeAws::start();
    let session = fake_aws::session_xml(&in_hours(12));
    let role = fake_aws::session_xml(&in_hours(1)).replace("GetSessionToken", "AssumeRole");
    fake.on("GetSessionToken", vec![Reply::Http(200, session)]);
    fake.on("AssumeRole", vec![Reply::Http(200, role)]);
    fake
}

/// `[dev-long-term]` with keys and a serial; `[work]` with a valid session; role profile
/// `role_name` assumed from `[work]`'s session (no code needed).
fn home_with(role_name: &str) -> Home {
    let home = Home::new();
    home.write_credentials(&format!(
        "[dev-long-term]\naws_access_key_id = {LT_KEY}\naws_secret_access_key = {LT_SECRET}\n\
         mfa_serial = {SERIAL}\n\n[work]\naws_access_key_id = ASIAWORKSESSION\n\
         aws_secret_access_key = s\naws_session_token = t\nexpiration = {}\n",
        in_hours(10)
    ));
    home.write_config(&format!(
        "[profile {role_name}]\nrole_arn = {ROLE}\nsource_profile = work\n"
    ));
    home
}

fn lock_dir(home: &Home) -> PathBuf {
    home.path().join(".cache/mfa-session/locks")
}

/// Every entry under `dir` (itself included), with its owner.
fn owners(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = vec![(dir.to_path_buf(), fs::symlink_metadata(dir).unwrap().uid())];
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.extend(owners(&path));
        } else {
            out.push((path.clone(), fs::symlink_metadata(&path).unwrap().uid()));
        }
    }
    out
}

/// The binary as `nobody`, with the same environment as `home.cmd_at`.
fn as_nobody(home: &Home, endpoint: &str, args: &[&str]) -> Output {
    StdCommand::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(assert_cmd::cargo::cargo_bin("mfa-session"))
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn chown_all(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
    if fs::symlink_metadata(path).unwrap().is_dir() {
        for entry in fs::read_dir(path).unwrap().flatten() {
            chown_all(&entry.path(), uid);
        }
    }
}

/// lands under the working directory.
#[test]
fn a_relative_xdg_cache_home_is_ignored() {
    let fake = fake();
    let home = home_with("admin");
    let cwd = home.path().join("project");
    fs::create_dir(&cwd).unwrap();
    let out = home
        .cmd_at(&fake.url)
        .current_dir(&cwd)
        .env("XDG_CACHE_HOME", "cache")
        .args(["export", "-p", "admin"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        home.path()
            .join(".cache/mfa-session/roles/admin.json")
            .is_file()
    );
    assert_eq!(fs::read_dir(&cwd).unwrap().count(), 0, "nothing in the cwd");
}
