//! The process environment, read once, in one place.
//!
//! Commands receive an [`Env`] instead of calling `std::env` themselves, so tests can hand them
//! any environment and the rules for where files live sit side by side: the same rules as the
//! AWS CLI and SDKs, so a user's existing setup is found where they expect it.

use std::ffi::OsString;
use std::path::PathBuf;

/// The variable `exec` sets to the profile whose session it hands out.
pub const EXEC_MARKER: &str = "MFA_SESSION_PROFILE";

#[derive(Clone, Debug, Default)]
pub struct Env {
    pub home: Option<PathBuf>,
    /// `AWS_PROFILE`.
    pub aws_profile: Option<String>,
    /// `AWS_SHARED_CREDENTIALS_FILE`.
    pub credentials_file: Option<PathBuf>,
    /// `AWS_CONFIG_FILE`.
    pub config_file: Option<PathBuf>,
    /// `NO_COLOR` set to anything non-empty (<https://no-color.org>).
    pub no_color: bool,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
    /// `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// `AWS_ENDPOINT_URL_STS`.
    pub endpoint_url_sts: Option<String>,
    /// `AWS_ENDPOINT_URL_IAM`.
    pub endpoint_url_iam: Option<String>,
    /// `AWS_ENDPOINT_URL_SIGNIN`: the console federation endpoint (`console`), as the SDKs'
    /// `AWS_ENDPOINT_URL_<SERVICE>` convention names it. `AWS_ENDPOINT_URL` does not apply to
    /// it: that one points the API calls at an emulator or a proxy, which signs no one in.
    pub endpoint_url_signin: Option<String>,
    /// `XDG_CACHE_HOME`, when it is an absolute path: the XDG Base Directory spec says a
    /// relative one is invalid and must be ignored (it would put the cache, role sessions
    /// included, under whatever the working directory happens to be).
    pub xdg_cache_home: Option<PathBuf>,
    /// `MFA_SESSION_PROFILE`: set in the environment of what `exec` runs.
    pub exec_profile: Option<String>,
    /// `SHELL`.
    pub shell: Option<PathBuf>,
    /// `DISPLAY` or `WAYLAND_DISPLAY` is set: a graphical session, where dialogs can be shown.
    pub display: bool,
    /// `PATH`, where the dialog programs (zenity, kdialog), ykman and the programs `doctor`
    /// checks are looked for.
    pub path: Option<OsString>,
    /// `MFA_SESSION_PROMPT`: the prompt driver, for tools that cannot pass `--prompt`.
    pub prompt: Option<String>,
    /// `AWS_DEFAULT_PROFILE`: the AWS CLI v1's name for `AWS_PROFILE`.
    pub aws_default_profile: Option<String>,
    /// Which of [`CREDENTIAL_VARS`] are set (names only: their values are secrets).
    pub credential_vars: Vec<&'static str>,
    /// `%LOCALAPPDATA%` (Windows), when absolute: where the cache goes there.
    pub local_app_data: Option<PathBuf>,
}

/// Variables that give the AWS CLI and SDKs credentials ahead of any profile.
pub const CREDENTIAL_VARS: [&str; 7] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
];

/// `program` in one of the directories of `path` (a `PATH` value), as an executable file.
pub fn find_on_path(path: Option<&std::ffi::OsStr>, program: &str) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .filter(|dir| !dir.as_os_str().is_empty())
        .find_map(|dir| crate::sys::process::executable_in(&dir, program))
}

/// A file this OS runs (Unix: a regular file with an execute bit).
pub fn is_executable(p: &std::path::Path) -> bool {
    crate::sys::process::is_executable(p)
}

/// The AWS SDKs' home directory: `HOME`; on Windows then `USERPROFILE`, then `HOMEDRIVE` +
/// `HOMEPATH` (the Rust SDK's order); `None` leaves it to what the OS says.
fn sdk_home(
    windows: bool,
    home: Option<PathBuf>,
    user_profile: Option<PathBuf>,
    drive_and_path: Option<(OsString, OsString)>,
) -> Option<PathBuf> {
    if home.is_some() || !windows {
        return home;
    }
    user_profile.or_else(|| {
        let (mut drive, path) = drive_and_path?;
        drive.push(path);
        Some(PathBuf::from(drive))
    })
}

impl Env {
    pub fn from_process() -> Env {
        Env::from_vars(std::env::vars_os(), dirs::home_dir())
    }

    /// Builds an `Env` from explicit variables; `home` is the fallback when `HOME` is unset.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (OsString, OsString)>,
        home: Option<PathBuf>,
    ) -> Env {
        let mut env = Env {
            home,
            ..Env::default()
        };
        let non_empty = |v: OsString| (!v.is_empty()).then_some(v);
        let text = |v: OsString| non_empty(v).and_then(|v| v.into_string().ok());
        let mut default_region = None;
        let (mut home, mut user_profile, mut home_drive, mut home_path) = (None, None, None, None);
        for (k, v) in vars {
            match k.to_str() {
                Some("HOME") => home = non_empty(v).map(PathBuf::from),
                Some("USERPROFILE") => user_profile = non_empty(v).map(PathBuf::from),
                Some("HOMEDRIVE") => home_drive = non_empty(v),
                Some("HOMEPATH") => home_path = non_empty(v),
                Some("LOCALAPPDATA") => {
                    env.local_app_data =
                        non_empty(v).map(PathBuf::from).filter(|p| p.is_absolute());
                }
                Some("AWS_PROFILE") => {
                    env.aws_profile = non_empty(v).and_then(|v| v.into_string().ok())
                }
                Some("AWS_SHARED_CREDENTIALS_FILE") => {
                    env.credentials_file = non_empty(v).map(PathBuf::from)
                }
                Some("AWS_CONFIG_FILE") => env.config_file = non_empty(v).map(PathBuf::from),
                Some("NO_COLOR") => env.no_color = !v.is_empty(),
                Some("AWS_REGION") => env.region = text(v),
                Some("AWS_DEFAULT_REGION") => default_region = text(v),
                Some("AWS_ENDPOINT_URL") => env.endpoint_url = text(v),
                Some("AWS_ENDPOINT_URL_STS") => env.endpoint_url_sts = text(v),
                Some("AWS_ENDPOINT_URL_IAM") => env.endpoint_url_iam = text(v),
                Some("AWS_ENDPOINT_URL_SIGNIN") => env.endpoint_url_signin = text(v),
                Some("XDG_CACHE_HOME") => {
                    env.xdg_cache_home =
                        non_empty(v).map(PathBuf::from).filter(|p| p.is_absolute());
                }
                Some(EXEC_MARKER) => env.exec_profile = text(v),
                Some("SHELL") => env.shell = non_empty(v).map(PathBuf::from),
                Some("DISPLAY" | "WAYLAND_DISPLAY") => env.display |= !v.is_empty(),
                Some("PATH") => env.path = non_empty(v),
                Some("MFA_SESSION_PROMPT") => env.prompt = text(v),
                Some("AWS_DEFAULT_PROFILE") => env.aws_default_profile = text(v),
                Some(name) if !v.is_empty() => {
                    if let Some(known) = CREDENTIAL_VARS.iter().find(|c| **c == name) {
                        env.credential_vars.push(known);
                    }
                }
                _ => {}
            }
        }
        env.region = env.region.or(default_region);
        env.home = sdk_home(
            crate::sys::WINDOWS,
            home,
            user_profile,
            home_drive.zip(home_path),
        )
        .or(env.home);
        env
    }

    /// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    pub fn credentials_path(&self) -> Option<PathBuf> {
        self.aws_path(self.credentials_file.as_ref(), "credentials")
    }

    /// `AWS_CONFIG_FILE`, else `~/.aws/config`.
    pub fn config_path(&self) -> Option<PathBuf> {
        self.aws_path(self.config_file.as_ref(), "config")
    }

    fn aws_path(&self, explicit: Option<&PathBuf>, name: &str) -> Option<PathBuf> {
        match explicit {
            // The SDKs expand a leading `~/` in these variables; so do we.
            Some(p) => match (p.strip_prefix("~"), &self.home) {
                (Ok(rest), Some(home)) => Some(home.join(rest)),
                _ => Some(p.clone()),
            },
            None => Some(self.home.as_ref()?.join(".aws").join(name)),
        }
    }

    /// Where role sessions are cached: `$XDG_CACHE_HOME/mfa-session/roles`, else
    /// `~/.cache/mfa-session/roles`.
    pub fn role_cache_dir(&self) -> Option<PathBuf> {
        Some(self.cache_dir()?.join("roles"))
    }

    /// Where the login locks of the single flight live: `$XDG_CACHE_HOME/mfa-session/locks`,
    /// else `~/.cache/mfa-session/locks`.
    pub fn lock_dir(&self) -> Option<PathBuf> {
        Some(self.cache_dir()?.join("locks"))
    }

    /// mfa-session's own cache directory: `$XDG_CACHE_HOME/mfa-session` (an absolute
    /// `XDG_CACHE_HOME` only), else `~/.cache/mfa-session`; on Windows
    /// `%LOCALAPPDATA%\mfa-session`, else `~\AppData\Local\mfa-session`.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        let base = if crate::sys::WINDOWS {
            self.local_app_data
                .clone()
                .or_else(|| Some(self.home.as_ref()?.join("AppData").join("Local")))?
        } else {
            self.xdg_cache_home
                .clone()
                .or_else(|| Some(self.home.as_ref()?.join(".cache")))?
        };
        Some(base.join("mfa-session"))
    }

    /// Where the profile name comes from, in the words `doctor` uses.
    pub fn profile_origin(&self, flag: Option<&str>) -> &'static str {
        match (flag, &self.aws_profile) {
            (Some(_), _) => "--profile",
            (None, Some(_)) => "AWS_PROFILE",
            (None, None) => "the default (no --profile, no AWS_PROFILE)",
        }
    }

    /// An executable named `program` (a path, or a name looked up in `PATH`), if one exists.
    pub fn find_program(&self, program: &str) -> Option<PathBuf> {
        if std::path::Path::new(program).components().count() > 1 {
            let p = PathBuf::from(program);
            return is_executable(&p).then_some(p);
        }
        find_on_path(self.path.as_deref(), program)
    }

    /// `--profile`, else `AWS_PROFILE`, else `default`.
    pub fn profile(&self, flag: Option<&str>) -> String {
        flag.map(str::to_string)
            .or_else(|| self.aws_profile.clone())
            .unwrap_or_else(|| "default".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Env {
        Env::from_vars(
            vars.iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
            Some("/fallback".into()),
        )
    }

    #[test]
    fn paths_follow_the_sdk_rules() {
        let e = env(&[("HOME", "/h")]);
        assert_eq!(
            e.credentials_path().unwrap(),
            PathBuf::from("/h/.aws/credentials")
        );
        assert_eq!(e.config_path().unwrap(), PathBuf::from("/h/.aws/config"));
        let e = env(&[
            ("HOME", "/h"),
            ("AWS_SHARED_CREDENTIALS_FILE", "~/c"),
            ("AWS_CONFIG_FILE", "/x/cfg"),
        ]);
        assert_eq!(e.credentials_path().unwrap(), PathBuf::from("/h/c"));
        assert_eq!(e.config_path().unwrap(), PathBuf::from("/x/cfg"));
        assert_eq!(
            env(&[]).credentials_path().unwrap(),
            PathBuf::from("/fallback/.aws/credentials")
        );
    }

    #[test]
    fn profile_precedence_and_no_color() {
        assert_eq!(env(&[]).profile(None), "default");
        assert_eq!(env(&[("AWS_PROFILE", "p")]).profile(None), "p");
        assert_eq!(env(&[("AWS_PROFILE", "p")]).profile(Some("f")), "f");
        assert_eq!(env(&[("AWS_PROFILE", "")]).profile(None), "default");
        assert!(env(&[("NO_COLOR", "1")]).no_color);
        assert!(!env(&[("NO_COLOR", "")]).no_color);
    }

    #[test]
    fn a_graphical_session_is_either_display() {
        assert!(!env(&[]).display);
        assert!(!env(&[("DISPLAY", "")]).display);
        assert!(env(&[("DISPLAY", ":0")]).display);
        assert!(env(&[("WAYLAND_DISPLAY", "wayland-0"), ("DISPLAY", "")]).display);
        assert_eq!(
            env(&[("MFA_SESSION_PROMPT", "zenity")]).prompt.as_deref(),
            Some("zenity")
        );
    }

    #[test]
    fn a_relative_xdg_cache_home_is_ignored() {
        let e = env(&[("HOME", "/h"), ("XDG_CACHE_HOME", "/c")]);
        assert_eq!(e.lock_dir().unwrap(), PathBuf::from("/c/mfa-session/locks"));
        for relative in ["cache", "./cache", "~/cache", ""] {
            let e = env(&[("HOME", "/h"), ("XDG_CACHE_HOME", relative)]);
            assert_eq!(
                e.role_cache_dir().unwrap(),
                PathBuf::from("/h/.cache/mfa-session/roles"),
                "{relative}"
            );
        }
    }

    #[test]
    fn the_home_follows_the_sdks_on_each_platform() {
        let p = |s: &str| Some(PathBuf::from(s));
        let pair = Some((OsString::from("D:"), OsString::from("\\Users\\h")));
        assert_eq!(sdk_home(true, p("/h"), p("C:\\u"), pair.clone()), p("/h"));
        assert_eq!(sdk_home(true, None, p("C:\\u"), pair.clone()), p("C:\\u"));
        assert_eq!(sdk_home(true, None, None, pair.clone()), p("D:\\Users\\h"));
        assert_eq!(sdk_home(true, None, None, None), None);
        assert_eq!(sdk_home(false, None, p("C:\\u"), pair), None);
    }

    #[test]
    fn the_signin_endpoint_has_its_own_variable() {
        let e = env(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]);
        assert_eq!(e.endpoint_url_signin, None);
        let e = env(&[("AWS_ENDPOINT_URL_SIGNIN", "http://127.0.0.1:6000")]);
        assert_eq!(
            e.endpoint_url_signin.as_deref(),
            Some("http://127.0.0.1:6000")
        );
        assert_eq!(
            env(&[("AWS_ENDPOINT_URL_SIGNIN", "")]).endpoint_url_signin,
            None
        );
    }

    #[test]
    fn region_prefers_aws_region() {
        let e = env(&[
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_REGION", "eu-north-1"),
        ]);
        assert_eq!(e.region.as_deref(), Some("eu-north-1"));
        let e = env(&[("AWS_DEFAULT_REGION", "eu-west-1")]);
        assert_eq!(e.region.as_deref(), Some("eu-west-1"));
    }
}
