//! Reliability of the file store on a real file system: concurrent writers, SIGKILL in the
//! middle of writes, modes, symlinks, malformed, unreadable and unwritable files.
//!
//! Writers run as separate processes (this test binary re-run in "child" mode), because that is
//! how logins, refreshes and cron jobs meet in real life: separate processes and one lock file.

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::process::Output;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use mfa_session::session::{Secret, Session};
use mfa_session::store::{self, Document, FileKind, SharedFile, StoreError};

const CHILD: &str = "MFA_SESSION_TEST_CHILD";

fn session(n: usize) -> Session {
    Session {
        access_key_id: format!("ASIA{n:016}"),
        secret_access_key: Secret::new(format!("secret{n}")),
        session_token: Secret::new(format!("token{n}")),
        expiration: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
    }
}

/// The child side: one operation on the file named by the environment.
#[test]
#[ignore = "run by the other tests as a child process"]
fn child() {
    let Ok(op) = std::env::var(CHILD) else { return };
    let file = SharedFile::new(std::env::var("FILE").unwrap(), FileKind::Credentials);
    let arg = std::env::var("ARG").unwrap_or_default();
    let result = match op.as_str() {
        "put-session" => {
            let n: usize = arg.parse().unwrap();
            file.update(|doc| store::put_session(doc, &format!("p{n}"), "-long-term", &session(n)))
        }
        "toggle" => loop {
            // Flip four big values (each under the 64 KiB value limit) back and forth until
            // killed.
            for v in ["a", "b"] {
                file.update(|doc| {
                    for k in ["blob1", "blob2", "blob3", "blob4"] {
                        doc.set("big", k, &v.repeat(50_000))
                            .map_err(StoreError::from)?;
                    }
                    Ok::<_, StoreError>(())
                })
                .unwrap();
            }
        },
        "set" => file.update(|doc| doc.set("p", "k", &arg).map_err(StoreError::from)),
        other => panic!("unknown child op {other}"),
    };
    if let Err(e) = result {
        eprintln!("ERROR: {e}");
        std::process::exit(3);
    }
}

fn child_cmd(op: &str, file: &Path, arg: &str) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--ignored",
        "--exact",
        "store_fs::child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, op)
    .env("FILE", file)
    .env("ARG", arg)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    c
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("mfa-store-")
        .tempdir()
        .unwrap()
}

fn stray_temps(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(".mfa-session-tmp-"))
        .collect()
}

#[test]
fn fifty_concurrent_writers_lose_nothing() {
    let dir = temp_dir();
    let path = dir.path().join("credentials");
    let original = "# my keys, do not touch\n[p-long-term]\naws_access_key_id = AKIAKEEP\n";
    fs::write(&path, original).unwrap();
    let children: Vec<Child> = (0..50)
        .map(|n| {
            child_cmd("put-session", &path, &n.to_string())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(original), "foreign lines changed:\n{text}");
    let doc = Document::parse(FileKind::Credentials, &text).unwrap();
    for n in 0..50 {
        let p = doc
            .profile(&format!("p{n}"))
            .unwrap_or_else(|| panic!("p{n} lost"));
        assert_eq!(p["aws_session_token"], format!("token{n}"));
    }
    assert_eq!(doc.profile_names().len(), 51);
    assert!(stray_temps(dir.path()).is_empty());
}

/// A tiny deterministic generator, seeded per run, so kill times differ but a failure can be
/// reproduced from the printed seed.
#[cfg(unix)]
struct XorShift(u64);
#[cfg(unix)]
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[cfg(unix)]
#[test]
fn sigkill_during_writes_leaves_old_or_new_file() {
    let dir = temp_dir();
    let path = dir.path().join("credentials");
    let blob = "a".repeat(50_000);
    let a = format!(
        "# header\n[big]\nblob1 = {blob}\nblob2 = {blob}\nblob3 = {blob}\nblob4 = {blob}\n[other]\nx = 1\n"
    );
    let b = a.replace(&blob, &"b".repeat(50_000));
    fs::write(&path, &a).unwrap();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    let mut rng = XorShift(seed);
    let mut saw = (false, false);
    for round in 0..40 {
        let inode = |p: &Path| {
            let m = fs::metadata(p).unwrap();
            (
                std::os::unix::fs::MetadataExt::ino(&m),
                m.modified().unwrap(),
            )
        };
        let first = inode(&path);
        let mut child = child_cmd("toggle", &path, "").spawn().unwrap();
        // Kill only once the child is in its write loop (its first rename has landed), at a
        // random point of the following writes.
        let deadline = Instant::now() + Duration::from_secs(20);
        while inode(&path) == first {
            assert!(Instant::now() < deadline, "the child never wrote");
            std::thread::sleep(Duration::from_micros(200));
        }
        // Until the kill, read continuously: a reader must never see a torn file either.
        let kill_at = Instant::now() + Duration::from_micros(rng.next() % 25_000);
        while Instant::now() < kill_at {
            let seen = fs::read_to_string(&path).unwrap();
            assert!(
                seen == a || seen == b,
                "round {round}: a reader saw {} bytes",
                seen.len()
            );
        }
        // SIGKILL: no destructor, no cleanup, exactly like an OOM kill or a power cut for us.
        child.kill().unwrap();
        child.wait().unwrap();
        let now = fs::read_to_string(&path).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(
            now == a || now == b,
            "round {round} (seed {seed}): torn file of {} bytes",
            now.len()
        );
        if now == a {
            saw.0 = true;
        } else {
            saw.1 = true;
        }
        assert!(stray_temps(dir.path()).len() <= 1, "temp files pile up");
    }
    // The kills did land during the writing loop (otherwise the test proves nothing).
    assert!(saw.0 && saw.1, "never saw both versions: {saw:?}");
    // The next writer clears a temp file a killed one left behind.
    let out = child_cmd("set", &path, "v").output().unwrap();
    assert!(out.status.success());
    assert!(stray_temps(dir.path()).is_empty());
}

#[cfg(unix)]
#[test]
fn modes_are_kept_and_new_files_are_private() {
    let dir = temp_dir();
    let aws = dir.path().join("home/.aws");
    let path = aws.join("credentials");
    let f = SharedFile::new(&path, FileKind::Credentials);
    f.update(|d| store::put_session(d, "p", "-long-term", &session(1)))
        .unwrap();
    assert_eq!(
        fs::metadata(&aws).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    f.update(|d| store::put_session(d, "q", "-long-term", &session(2)))
        .unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let lock = PathBuf::from(format!("{}.lock", path.display()));
    assert_eq!(
        fs::metadata(lock).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[cfg(unix)]
#[test]
fn writes_through_a_symlink_and_keeps_it() {
    let dir = temp_dir();
    fs::create_dir_all(dir.path().join("dotfiles")).unwrap();
    fs::create_dir_all(dir.path().join(".aws")).unwrap();
    let target = dir.path().join("dotfiles/aws-credentials");
    fs::write(&target, "[keep]\nx = 1\n").unwrap();
    let link = dir.path().join(".aws/credentials");
    symlink("../dotfiles/aws-credentials", &link).unwrap();
    let f = SharedFile::new(&link, FileKind::Credentials);
    f.update(|d| store::put_session(d, "p", "-long-term", &session(1)))
        .unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let text = fs::read_to_string(&target).unwrap();
    assert!(
        text.starts_with("[keep]\nx = 1\n") && text.contains("token1"),
        "{text}"
    );
    // The lock sits next to the real file, so every path to it shares one lock.
    assert!(dir.path().join("dotfiles/aws-credentials.lock").exists());
}

#[test]
fn malformed_file_is_never_rewritten() {
    let dir = temp_dir();
    let path = dir.path().join("credentials");
    let bad = "[ok]\nx = 1\n[broken\ny = 2\n";
    fs::write(&path, bad).unwrap();
    let f = SharedFile::new(&path, FileKind::Credentials);
    let err = f
        .update(|d| store::put_session(d, "p", "-long-term", &session(1)))
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&format!("{}:3:", path.display())), "{msg}");
    assert!(msg.contains("must end with ']'"), "{msg}");
    assert_eq!(fs::read_to_string(&path).unwrap(), bad);
    assert!(stray_temps(dir.path()).is_empty());
    fs::write(&path, b"[p]\nx = \xff\n").unwrap();
    let err = f
        .update(|d| d.set("p", "y", "1").map_err(StoreError::from))
        .unwrap_err();
    assert!(err.to_string().contains("not valid UTF-8"), "{err}");
}

#[test]
fn long_term_keys_are_never_overwritten_on_disk() {
    let dir = temp_dir();
    let path = dir.path().join("credentials");
    let keys = "[p0]\naws_access_key_id = AKIA\naws_secret_access_key = s\n";
    fs::write(&path, keys).unwrap();
    let out = child_cmd("put-session", &path, "0").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("long-term access keys"));
    assert_eq!(fs::read_to_string(&path).unwrap(), keys);
}

#[test]
fn unchanged_documents_are_not_rewritten() {
    let dir = temp_dir();
    let path = dir.path().join("credentials");
    fs::write(&path, "[p]\nk = v\n").unwrap();
    let before = fs::metadata(&path).unwrap().modified().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    SharedFile::new(&path, FileKind::Credentials)
        .update(|d| d.set("p", "k", "v").map_err(StoreError::from))
        .unwrap();
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), before);
}

/// Runs a child without root's power to ignore permissions (as `nobody` when we are root).
#[cfg(unix)]
fn run_unprivileged(op: &str, file: &Path, arg: &str) -> Output {
    let mut cmd = child_cmd(op, file, arg);
    if unsafe { libc::geteuid() } == 0 {
        let inner = cmd;
        cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(inner.get_program())
            .args(inner.get_args())
            .envs(inner.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
    }
    cmd.output().unwrap()
}

#[cfg(unix)]
fn open_dir(dir: &Path) {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn unreadable_file_gives_a_clear_error() {
    let dir = temp_dir();
    // The directory is the user's own (they can lock and write in it); only the file is not.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let path = dir.path().join("credentials");
    fs::write(&path, "[p]\nk = v\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    let out = run_unprivileged("set", &path, "new");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("cannot read") && err.contains("ermission denied"),
        "{err}"
    );
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "[p]\nk = v\n");
}

#[cfg(unix)]
#[test]
fn unwritable_directory_gives_a_clear_error() {
    let dir = temp_dir();
    open_dir(dir.path());
    let aws = dir.path().join("aws");
    fs::create_dir(&aws).unwrap();
    let path = aws.join("credentials");
    fs::write(&path, "[p]\nk = v\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    // The lock file exists and is writable, so it is the temp file that fails.
    fs::write(aws.join("credentials.lock"), "").unwrap();
    fs::set_permissions(
        aws.join("credentials.lock"),
        fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    if unsafe { libc::geteuid() } == 0 {
        // The file is nobody's own, so the only obstacle is the directory (a file owned by
        // someone else is refused earlier: its owner could not be kept).
        std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    }
    fs::set_permissions(&aws, fs::Permissions::from_mode(0o555)).unwrap();
    let out = run_unprivileged("set", &path, "new");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("cannot write") && err.contains("ermission denied"),
        "{err}"
    );
    assert!(err.contains("left unchanged"), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "[p]\nk = v\n");
    fs::set_permissions(&aws, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn lock_is_released_after_each_update() {
    let dir = temp_dir();
    let path = dir.path().join("credentials");
    let f = SharedFile::new(&path, FileKind::Credentials);
    let start = Instant::now();
    for i in 0..20 {
        f.update(|d| d.set("p", "k", &i.to_string()).map_err(StoreError::from))
            .unwrap();
    }
    // Another process can take it straight away.
    let out = child_cmd("set", &path, "x").output().unwrap();
    assert!(out.status.success());
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!(f.read().unwrap().get("p", "k").as_deref(), Some("x"));
}
