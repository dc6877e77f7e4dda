//! Issue 20, item 5: mfa-session's own cache (`~/.cache/mfa-session`: the single-flight locks and
//! the role sessions) under root, read-only or full file systems, shared or relative
//! `XDG_CACHE_HOME`, hostile lock paths and very long profile names. Each through the binary.

use crate::common;
use common::{LT_KEY, LT_SECRET, NOBODY, ROLE, SERIAL, as_nobody, in_hours, is_root, stderr};

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use common::Home;
use common::fake_aws::{self, FakeAws, Reply};

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

fn chown_all(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
    if fs::symlink_metadata(path).unwrap().is_dir() {
        for entry in fs::read_dir(path).unwrap().flatten() {
            chown_all(&entry.path(), uid);
        }
    }
}

/// Root working in a user's HOME (`sudo -E`, a root cron): every directory and file it creates
/// under `~/.cache` is the user's, so the user's own next login works.
#[test]
fn root_in_a_users_home_leaves_the_cache_to_that_user() {
    if !is_root() {
        eprintln!("skipped: needs root to run as another user");
        return;
    }
    let fake = fake();
    let home = home_with("admin");
    chown_all(home.path(), NOBODY);
    // As root: a GetSessionToken login (its lock) and a role login (its lock and cache).
    for args in [
        &["login", "-p", "dev", "-c", "123456"][..],
        &["login", "-p", "admin"][..],
    ] {
        let out = home.cmd_at(&fake.url).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let cache = home.path().join(".cache");
    let made = owners(&cache);
    assert!(
        made.iter().any(|(p, _)| p.ends_with("roles/admin.json")),
        "{made:?}"
    );
    assert!(
        made.iter()
            .any(|(p, _)| p.starts_with(lock_dir(&home))
                && p.extension().is_some_and(|e| e == "lock")),
        "{made:?}"
    );
    for (path, uid) in &made {
        assert_eq!(*uid, NOBODY, "{} is uid {uid}'s", path.display());
    }
    // The user: the cached role session is served, then renewed, without a word about owners.
    for args in [
        &["export", "-p", "admin"][..],
        &["login", "-p", "admin", "--force"][..],
        &["login", "-p", "dev", "-c", "123456", "--force"][..],
    ] {
        let out = as_nobody(&home, &fake.url, args);
        let err = stderr(&out);
        assert!(out.status.success(), "{args:?}: {err}");
        assert!(!err.contains("ignoring"), "{err}");
    }
    // And root reads the user's cache entry as the user's, not as a stranger's.
    let out = home
        .cmd_at(&fake.url)
        .args(["export", "-p", "admin"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("ignoring"), "{}", stderr(&out));
}

/// A lock path that is a symlink, a FIFO or a directory: refused with exit 3 (docs/files.md),
/// one line naming it, before any call.
#[test]
fn a_lock_path_that_is_not_a_regular_file_exits_3() {
    let fake = fake();
    let home = home_with("admin");
    fs::create_dir_all(lock_dir(&home)).unwrap();
    let lock = lock_dir(&home).join(format!("keys-{LT_KEY}.lock"));
    let before = home.read_credentials();
    for (what, make) in [
        (
            "a symbolic link",
            Box::new(|p: &Path| symlink("/nonexistent/target", p).unwrap()) as Box<dyn Fn(&Path)>,
        ),
        (
            "a FIFO",
            Box::new(|p: &Path| {
                let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            }),
        ),
        (
            "a directory",
            Box::new(|p: &Path| fs::create_dir(p).unwrap()),
        ),
    ] {
        make(&lock);
        let out = home
            .cmd_at(&fake.url)
            .args(["login", "-p", "dev", "-c", "123456"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{what}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            err.contains(what) && err.contains(&lock.display().to_string()),
            "{err}"
        );
        assert!(fake.actions().is_empty(), "{what}: {err}");
        assert_eq!(home.read_credentials(), before);
        if fs::symlink_metadata(&lock).unwrap().is_dir() {
            fs::remove_dir(&lock).unwrap();
        } else {
            fs::remove_file(&lock).unwrap();
        }
    }
}

/// `XDG_CACHE_HOME` on a shared directory: an `mfa-session` directory there that another user
/// made, or that group or others may write, is refused (exit 3, with the reason and the fix)
/// instead of letting them hold the locks or plant role sessions.
#[test]
fn a_shared_cache_directory_is_refused() {
    let fake = fake();
    let home = home_with("admin");
    let shared = tempfile::tempdir().unwrap();
    fs::set_permissions(shared.path(), fs::Permissions::from_mode(0o1777)).unwrap();
    let dir = shared.path().join("mfa-session");
    fs::create_dir(&dir).unwrap();
    let before = home.read_credentials();
    let mut cases = vec![(0o777, None, "writable by others"), (0o770, None, "group")];
    if is_root() {
        cases.push((0o700, Some(NOBODY), "belongs to uid 65534"));
    }
    for (mode, owner, why) in cases {
        fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
        if let Some(uid) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(uid)).unwrap();
        }
        for args in [
            &["login", "-p", "dev", "-c", "123456"][..],
            &["export", "-p", "admin"][..],
        ] {
            let out = home
                .cmd_at(&fake.url)
                .env("XDG_CACHE_HOME", shared.path())
                .args(args)
                .output()
                .unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
            assert!(
                err.contains(&dir.display().to_string()) && err.contains(why),
                "{err}"
            );
            assert!(err.contains("XDG_CACHE_HOME"), "{err}");
        }
        assert!(fake.actions().is_empty());
        assert_eq!(home.read_credentials(), before);
    }
    // A world-writable (sticky) base is fine when mfa-session's directory in it is ours alone.
    fs::remove_dir(&dir).unwrap();
    let out = home
        .cmd_at(&fake.url)
        .env("XDG_CACHE_HOME", shared.path())
        .args(["export", "-p", "admin"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    assert!(dir.join("roles/admin.json").is_file());
}

/// A relative `XDG_CACHE_HOME` is ignored, as the XDG spec says: `~/.cache` is used, nothing
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

/// A read-only `~/.cache`: a GetSessionToken login, which needs no cache, goes on without the
/// single-flight lock, with a warning; a role login, whose session lives there, fails with 3.
#[test]
fn a_read_only_cache_does_not_block_a_login_that_needs_none() {
    if !is_root() {
        eprintln!("skipped: needs root to run as a user a directory is read-only for");
        return;
    }
    let fake = fake();
    let home = home_with("admin");
    fs::create_dir(home.path().join(".cache")).unwrap();
    chown_all(home.path(), NOBODY);
    fs::set_permissions(
        home.path().join(".cache"),
        fs::Permissions::from_mode(0o500),
    )
    .unwrap();
    let out = as_nobody(&home, &fake.url, &["login", "-p", "dev", "-c", "123456"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("without the single-flight lock"), "{err}");
    assert!(home.read_credentials().contains(fake_aws::SESSION_KEY_ID));
    let out = as_nobody(&home, &fake.url, &["login", "-p", "admin"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("Permission denied"), "{err}");
    assert_eq!(
        fake.actions(),
        ["GetSessionToken"],
        "the role is refused before AssumeRole: {err}"
    );
}

/// A 250-character role profile name: its cache and lock files stay within 255 bytes, and its
/// cached session is found again.
#[test]
fn a_long_role_name_gets_short_cache_and_lock_names() {
    let fake = fake();
    let name = format!("r{}", "x".repeat(249));
    let home = home_with(&name);
    for _ in 0..2 {
        let out = home
            .cmd_at(&fake.url)
            .args(["export", "-p", &name])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(
        fake.actions(),
        ["AssumeRole"],
        "the second was served from the cache"
    );
    let roles = fs::read_dir(home.path().join(".cache/mfa-session/roles"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(roles.len(), 1, "{roles:?}");
    assert!(
        roles[0].len() <= 255 && roles[0].starts_with("rxxxx"),
        "{roles:?}"
    );
    let locks = fs::read_dir(lock_dir(&home))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .collect::<Vec<_>>();
    assert!(locks.iter().all(|l| l.len() <= 255), "{locks:?}");
}
