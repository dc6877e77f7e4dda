//! Shared test harness: a private HOME per test, the built binary with a clean environment,
//! IAM users with real virtual MFA devices in the moto emulator, TOTP codes from their seeds,
//! and a local fake AWS endpoint for the failures moto cannot produce.

#![allow(dead_code)]

pub mod fake_aws;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;

/// A temporary HOME with `~/.aws`; removed on drop.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        let dir = tempfile::Builder::new()
            .prefix("mfa-home-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
        Home { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn credentials(&self) -> PathBuf {
        self.path().join(".aws/credentials")
    }

    pub fn config(&self) -> PathBuf {
        self.path().join(".aws/config")
    }

    pub fn write_credentials(&self, text: &str) {
        std::fs::write(self.credentials(), text).unwrap();
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config(), text).unwrap();
    }

    pub fn read_credentials(&self) -> String {
        std::fs::read_to_string(self.credentials()).unwrap()
    }

    /// The built binary with only HOME and PATH set: no AWS_* from the developer's shell.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("mfa-session").unwrap();
        c.env_clear()
            .env("HOME", self.path())
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("NO_COLOR", "1");
        c
    }

    /// Runs the binary as cron would: no controlling terminal (`setsid`), stdin closed, only
    /// HOME, PATH and the endpoint in the environment.
    #[cfg(unix)]
    pub fn no_tty(&self, endpoint: &str, args: &[&str]) -> std::process::Output {
        std::process::Command::new("setsid")
            .arg("-w")
            .arg(assert_cmd::cargo::cargo_bin("mfa-session"))
            .args(args)
            .env_clear()
            .env("HOME", self.path())
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("AWS_ENDPOINT_URL", endpoint)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs `shell_command` on a pseudo-terminal (util-linux `script`) and types each of
    /// `lines` as a person would: once the screen shows `prompt` one more time than before (or
    /// at once, with no prompt to wait for: the terminal keeps what is typed until it is read).
    /// Returns what the terminal showed. Fails the test, rather than hanging, when a prompt does
    /// not come or the command does not end within 60 s.
    #[cfg(unix)]
    pub fn on_terminal(
        &self,
        endpoint: &str,
        shell_command: &str,
        prompt: Option<&str>,
        lines: &[&str],
    ) -> std::process::Output {
        use std::io::{Read, Write};
        use std::process::{Command, Stdio};
        use std::sync::{Arc, Mutex};
        use std::time::{Duration, Instant};
        let mut child = Command::new("script")
            .args(["-qec", shell_command, "/dev/null"])
            .current_dir(self.path())
            .env_clear()
            .env("HOME", self.path())
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("AWS_ENDPOINT_URL", endpoint)
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
        let shown =
            |screen: &Mutex<Vec<u8>>| String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut stdin = child.stdin.take().unwrap();
        for (i, line) in lines.iter().enumerate() {
            if let Some(prompt) = prompt {
                while shown(&screen).matches(prompt).count() <= i {
                    if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
                        let _ = child.kill();
                        panic!(
                            "prompt {} ({prompt:?}) never came: {}",
                            i + 1,
                            shown(&screen)
                        );
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        }
        // stdin stays open until the command ends: `script` ends the session at its EOF.
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the command did not end within 60 s: {}", shown(&screen));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        drop(stdin);
        reader.join().unwrap();
        let mut stderr = Vec::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_end(&mut stderr)
            .unwrap();
        let stdout = screen.lock().unwrap().clone();
        std::process::Output {
            status,
            stdout,
            stderr,
        }
    }

    /// Same, pointed at an endpoint for both STS and IAM.
    pub fn cmd_at(&self, endpoint: &str) -> Command {
        let mut c = self.cmd();
        c.env("AWS_ENDPOINT_URL", endpoint);
        c
    }
}

/// The emulator the test script started (`scripts/test` sets this).
pub fn moto() -> String {
    std::env::var("MFA_SESSION_TEST_MOTO").expect(
        "MFA_SESSION_TEST_MOTO is not set: run the tests through scripts/test, which starts the \
         moto STS/IAM emulator",
    )
}

/// The venv with the AWS CLI and boto3 (`scripts/test` sets this).
pub fn venv() -> PathBuf {
    PathBuf::from(
        std::env::var("MFA_SESSION_TEST_VENV")
            .expect("MFA_SESSION_TEST_VENV is not set: run the tests through scripts/test"),
    )
}

/// A user provisioned in moto: long-term keys and an enabled virtual MFA device.
pub struct IamUser {
    pub name: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub serial: String,
    pub seed: String,
}

static USERS: AtomicUsize = AtomicUsize::new(0);

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An IAM client with the emulator's admin credentials.
pub fn admin_iam(endpoint: &str) -> aws_sdk_iam::Client {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let conf = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build_https(),
        )
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            "AKIAADMINADMINADMIN0",
            "admin-secret",
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

/// Creates a user with an access key and an enabled virtual MFA device, as a real account
/// admin would (CreateUser, CreateAccessKey, CreateVirtualMFADevice, EnableMFADevice with two
/// consecutive codes from the seed).
pub fn provision_user(endpoint: &str) -> IamUser {
    let n = USERS.fetch_add(1, Ordering::SeqCst);
    let name = format!("user-{}-{n}", std::process::id());
    runtime().block_on(async {
        let iam = admin_iam(endpoint);
        iam.create_user().user_name(&name).send().await.unwrap();
        let key = iam
            .create_access_key()
            .user_name(&name)
            .send()
            .await
            .unwrap()
            .access_key
            .unwrap();
        let device = iam
            .create_virtual_mfa_device()
            .virtual_mfa_device_name(&name)
            .send()
            .await
            .unwrap()
            .virtual_mfa_device
            .unwrap();
        let seed_bytes = device.base32_string_seed.unwrap().into_inner();
        let seed = String::from_utf8(seed_bytes).unwrap();
        let serial = device.serial_number;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        iam.enable_mfa_device()
            .user_name(&name)
            .serial_number(&serial)
            .authentication_code1(totp_at(&seed, now - 30))
            .authentication_code2(totp_at(&seed, now))
            .send()
            .await
            .unwrap();
        IamUser {
            name,
            access_key_id: key.access_key_id,
            secret_access_key: key.secret_access_key,
            serial,
            seed,
        }
    })
}

/// Adds a second virtual MFA device to a user.
pub fn add_device(endpoint: &str, user: &str, device_name: &str) -> String {
    runtime().block_on(async {
        let iam = admin_iam(endpoint);
        let device = iam
            .create_virtual_mfa_device()
            .virtual_mfa_device_name(device_name)
            .send()
            .await
            .unwrap()
            .virtual_mfa_device
            .unwrap();
        iam.enable_mfa_device()
            .user_name(user)
            .serial_number(&device.serial_number)
            .authentication_code1("123456")
            .authentication_code2("654321")
            .send()
            .await
            .unwrap();
        device.serial_number
    })
}

/// Registers a security key (a FIDO/passkey MFA device) for `user`, as the IAM console does:
/// EnableMFADevice with the `u2f` serial AWS gives such a device. Returns the serial.
pub fn add_security_key(endpoint: &str, user: &IamUser, key_name: &str) -> String {
    // The user's virtual device serial names the account: arn:aws:iam::ACCOUNT:mfa/NAME.
    let account = user.serial.split(':').nth(4).unwrap();
    let serial = format!("arn:aws:iam::{account}:u2f/user/{}/{key_name}", user.name);
    runtime().block_on(async {
        admin_iam(endpoint)
            .enable_mfa_device()
            .user_name(&user.name)
            .serial_number(&serial)
            .authentication_code1("000000")
            .authentication_code2("000000")
            .send()
            .await
            .unwrap();
    });
    serial
}

/// Removes `user`'s virtual MFA device (DeactivateMFADevice), so that only what is added later
/// remains.
pub fn remove_virtual_device(endpoint: &str, user: &IamUser) {
    runtime().block_on(async {
        admin_iam(endpoint)
            .deactivate_mfa_device()
            .user_name(&user.name)
            .serial_number(&user.serial)
            .send()
            .await
            .unwrap();
    });
}

/// The TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) of a base32 seed at a Unix time.
pub fn totp_at(seed: &str, unix: u64) -> String {
    let secret = totp_rs::Secret::Encoded(seed.to_string())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, secret).generate(unix)
}

pub fn totp_now(seed: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp_at(seed, now)
}

/// Parses a credentials file the way the product does.
pub fn profile(text: &str, name: &str) -> std::collections::BTreeMap<String, String> {
    mfa_session::store::Document::parse(mfa_session::store::FileKind::Credentials, text)
        .unwrap()
        .profile(name)
        .unwrap_or_default()
}

/// A real Secret Service for one test: a private D-Bus session bus and `gnome-keyring-daemon`
/// with a login keyring created and unlocked with a test password, its files under the test's
/// HOME. Both die with this value. Fails loudly when the Debian packages are missing
/// (`scripts/setup-test-env` installs `dbus-daemon`, `gnome-keyring` and `libsecret-tools`).
#[cfg(unix)]
pub struct SecretService {
    /// The bus address to hand to mfa-session as `DBUS_SESSION_BUS_ADDRESS`.
    pub bus: String,
    dbus_pid: i32,
    keyring: std::process::Child,
    home: PathBuf,
}

#[cfg(unix)]
impl SecretService {
    pub fn start(home: &Home) -> SecretService {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let out = Command::new("dbus-daemon")
            .args(["--session", "--fork", "--print-address=1", "--print-pid=2"])
            .env("HOME", home.path())
            .output()
            .expect("dbus-daemon is needed for the keyring tests: run scripts/setup-test-env");
        assert!(out.status.success(), "dbus-daemon failed: {out:?}");
        let bus = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let dbus_pid: i32 = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .next()
            .expect("dbus-daemon printed its pid");
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "gnome-keyring-daemon is needed for the keyring tests: run scripts/setup-test-env",
            );
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(b"test-password").unwrap();
        drop(stdin);
        let mut ss = SecretService {
            bus,
            dbus_pid,
            keyring,
            home: home.path().to_path_buf(),
        };
        // Ready when our daemon owns the Secret Service name (asked of the bus itself: asking
        // the service would make D-Bus start a second, locked daemon) and the login collection
        // is unlocked.
        for _ in 0..200 {
            let owned = ss
                .tool("dbus-send")
                .args([
                    "--session",
                    "--dest=org.freedesktop.DBus",
                    "--print-reply",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("true"));
            if owned && ss.collection_locked() == Some(false) {
                return ss;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!(
            "the Secret Service did not come up on {}: keyring daemon {:?}",
            ss.bus,
            ss.keyring.try_wait()
        );
    }

    fn tool(&self, program: &str) -> std::process::Command {
        let mut c = std::process::Command::new(program);
        c.env_clear()
            .env("HOME", &self.home)
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus);
        c
    }

    /// Whether the login collection is locked (`None`: no answer yet).
    pub fn collection_locked(&self) -> Option<bool> {
        let out = self
            .tool("dbus-send")
            .args([
                "--session",
                "--dest=org.freedesktop.secrets",
                "--print-reply",
                "/org/freedesktop/secrets/collection/login",
                "org.freedesktop.DBus.Properties.Get",
                "string:org.freedesktop.Secret.Collection",
                "string:Locked",
            ])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        out.status.success().then(|| text.contains("true"))
    }

    /// Locks the login collection, as a screen lock or a timeout would.
    pub fn lock(&self) {
        let out = self
            .tool("dbus-send")
            .args([
                "--session",
                "--dest=org.freedesktop.secrets",
                "--type=method_call",
                "--print-reply",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(self.collection_locked(), Some(true));
    }

    /// What the keyring holds for (`service`, `username`), read with libsecret's `secret-tool`.
    pub fn lookup(&self, service: &str, username: &str) -> Option<String> {
        let out = self
            .tool("secret-tool")
            .args(["lookup", "service", service, "username", username])
            .output()
            .expect("secret-tool is needed for the keyring tests: run scripts/setup-test-env");
        let text = String::from_utf8(out.stdout).unwrap();
        (out.status.success() && !text.is_empty()).then_some(text)
    }
}

#[cfg(unix)]
impl Drop for SecretService {
    fn drop(&mut self) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        unsafe { libc::kill(self.dbus_pid, libc::SIGTERM) };
    }
}

/// Every file under `dir` whose bytes contain `needle` (for "no secret left on disk" checks).
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file()
                && std::fs::read(&path)
                    .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(path);
            }
        }
    }
    found
}

/// An emulator of this test's own (scripts/emulator.py), for settings the shared one must not
/// have (`MFA_SESSION_EMULATOR_ROLE_SECONDS`, say). Stopped on drop.
pub struct Emulator {
    pub url: String,
    child: std::process::Child,
}

impl Emulator {
    pub fn start(env: &[(&str, &str)]) -> Emulator {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(venv().join("bin/python"))
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/emulator.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the emulator venv: run the tests through scripts/test");
        // Owned from here on, so a failure below still stops it.
        let emulator = Emulator {
            url: format!("http://127.0.0.1:{port}"),
            child,
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return emulator;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!(
            "the emulator did not listen on {} within 20 s",
            emulator.url
        );
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `[NAME-long-term]` with `user`'s keys and device, and `extra` lines.
pub fn long_term(name: &str, user: &IamUser, extra: &str) -> String {
    format!(
        "[{name}-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\nmfa_serial = {}\n{extra}\n",
        user.access_key_id, user.secret_access_key, user.serial
    )
}

/// The device seed in a file of the given mode.
#[cfg(unix)]
pub fn seed_file(home: &Home, name: &str, user: &IamUser, mode: u32) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = home.path().join(format!("{name}.totp"));
    std::fs::write(&path, format!("{}\n", user.seed)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path.display().to_string()
}

/// How many times the emulator logged `action` for `user` (see scripts/emulator.py).
pub fn calls(user: &IamUser, action: &str) -> usize {
    let log = std::env::var("MFA_SESSION_EMULATOR_CALLS")
        .expect("MFA_SESSION_EMULATOR_CALLS is not set: run the tests through scripts/test");
    let want = format!("{} {action}", user.name);
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| *l == want)
        .count()
}

/// An RFC 3339 UTC time `minutes` from now, as the credentials file holds it.
pub fn expiring_in(minutes: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(minutes))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// [`expiring_in`] for whole hours.
pub fn in_hours(h: i64) -> String {
    expiring_in(h * 60)
}

/// Whether the tests run as root (the ownership tests need it).
#[cfg(unix)]
pub fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// A process's stderr as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The direct children of a process, from /proc.
#[cfg(unix)]
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|c| c.parse().ok())
        .collect()
}

/// The command name of a running process, from /proc ("" once it is gone).
#[cfg(unix)]
pub fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

/// The pid of mfa-session started as `setsid -w mfa-session …` (`child`): setsid forks when it
/// leads a process group, and mfa-session is then its child.
#[cfg(unix)]
pub fn under_setsid(child: u32) -> u32 {
    if comm(child) == "setsid" {
        children(child)[0]
    } else {
        child
    }
}

/// The built binary's path, for tests that start it with `std::process::Command`.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("mfa-session")
}

// Fixed fake credentials for the tests against the local fake endpoint (`fake_aws`), which
// accepts any keys: never sent to AWS.

/// The long-term access key id of `[dev-long-term]`.
pub const LT_KEY: &str = "AKIALONGTERMKEY00001";
/// The long-term secret of `[dev-long-term]`; must never appear in output.
pub const LT_SECRET: &str = "longTermSecret/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// An MFA device serial.
pub const SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";
/// A role to assume.
pub const ROLE: &str = "arn:aws:iam::123456789012:role/Admin";

/// A whole `[dev-long-term]` section with keys and a serial, for tests that never call AWS
/// with it (a valid session sits beside it).
pub const LT_SECTION: &str = "[dev-long-term]\naws_access_key_id = AKIALONGTERMKEY00001\naws_secret_access_key = lt-secret\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n";

/// A HOME whose credentials file is `# my keys` and `[dev-long-term]` with [`LT_KEY`] and
/// [`LT_SECRET`], then the lines `extra`.
pub fn home_with_long_term(extra: &str) -> Home {
    let home = Home::new();
    home.write_credentials(&format!(
        "# my keys\n[dev-long-term]\naws_access_key_id = {LT_KEY}\naws_secret_access_key = {LT_SECRET}\n{extra}"
    ));
    home
}

/// [`home_with_long_term`] with `mfa_serial = SERIAL` before `extra`: no ListMFADevices call.
pub fn home_with_long_term_and_serial(extra: &str) -> Home {
    home_with_long_term(&format!("mfa_serial = {SERIAL}\n{extra}"))
}

/// A `[name]` section holding a session with `token`, expiring `minutes` from now.
pub fn session_section(name: &str, token: &str, minutes: i64) -> String {
    format!(
        "[{name}]\naws_access_key_id = ASIAVALIDSESSION0001\naws_secret_access_key = sess/secret+key\n\
         aws_session_token = {token}\nexpiration = {}\n",
        expiring_in(minutes)
    )
}

/// The uid and gid of `nobody`, whom the ownership tests hand files to.
#[cfg(unix)]
pub const NOBODY: u32 = 65534;

/// The binary as `nobody` (the caller is root), with the same environment as `home.cmd_at`.
#[cfg(unix)]
pub fn as_nobody(home: &Home, endpoint: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(bin())
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}
