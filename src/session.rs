//! The session credentials this tool manages, and what they look like in a profile.
//!
//! A session is only useful with its expiry: every decision (keep, renew, refuse to overwrite)
//! hangs on it. This module owns the profile keys a session is stored under, the two expiry
//! formats we read (RFC 3339 as we write it, and aws-mfa's `YYYY-MM-DD HH:MM:SS` UTC so its users
//! switch without logging in again), and the types that keep secrets out of `Debug` output.
//! The current time is always passed in, so every time-dependent answer is testable.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// Profile keys of a session section that this tool owns and rewrites.
pub const KEY_ACCESS_KEY_ID: &str = "aws_access_key_id";
pub const KEY_SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
pub const KEY_SESSION_TOKEN: &str = "aws_session_token";
/// aws-mfa also writes the token under this older name; when present we keep it in step.
pub const KEY_SECURITY_TOKEN: &str = "aws_security_token";
pub const KEY_EXPIRATION: &str = "expiration";

/// Where the files name a profile's MFA device: `mfa_serial` in `[profile P]` of the config
/// file, then `mfa_serial` or aws-mfa's `aws_mfa_device` in `[P-long-term]`, in that order.
/// Empty values are skipped.
pub fn configured_serials<'a>(
    config: &'a BTreeMap<String, String>,
    long_term: &'a BTreeMap<String, String>,
) -> impl Iterator<Item = &'a str> {
    [
        config.get("mfa_serial"),
        long_term.get("mfa_serial"),
        long_term.get("aws_mfa_device"),
    ]
    .into_iter()
    .flatten()
    .map(String::as_str)
    .filter(|s| !s.is_empty())
}

/// The MFA serial the files name for a profile (the first of [`configured_serials`]).
pub fn configured_serial(
    config: &BTreeMap<String, String>,
    long_term: &BTreeMap<String, String>,
) -> Option<String> {
    configured_serials(config, long_term)
        .next()
        .map(str::to_string)
}

/// The access key id and secret of a section, when it has both (non-empty).
pub fn key_pair(props: &BTreeMap<String, String>) -> Option<(String, String)> {
    let get = |k: &str| props.get(k).filter(|v| !v.is_empty()).cloned();
    get(KEY_ACCESS_KEY_ID).zip(get(KEY_SECRET_ACCESS_KEY))
}

/// A refresh window or threshold as a span of time to compare with what a session has left.
pub fn window(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// GetSessionToken's default duration, in seconds.
pub const DEFAULT_DURATION: u32 = 43_200;
/// Root users' sessions are capped here (AWS shortens longer requests silently).
pub const ROOT_MAX_DURATION: u32 = 3_600;

/// Parses a duration as users write it: `3600` (seconds), `90m`, `12h`, `1d12h`, `1h 30m`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u64>()
            .map(std::time::Duration::from_secs)
            .map_err(|e| e.to_string());
    }
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 3600, 90m, 12h, 1d12h)"))
}

/// The refresh window that applies to a session lasting `lifetime_secs` in all: the window
/// asked for, but at most a third of the session's life, so that a short session (900 s, the
/// minimum, under the default 15-minute window) counts as valid when fresh instead of being
/// renewed by every command.
pub fn effective_window(window: std::time::Duration, lifetime_secs: u32) -> std::time::Duration {
    window.min(std::time::Duration::from_secs(u64::from(lifetime_secs / 3)))
}

/// Where a session stands at a moment: the one rule every command uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// More than the refresh window left.
    Valid,
    /// Still usable, but inside the refresh window: due for renewal.
    Expiring,
    Expired,
}

/// A secret string: readable on purpose through [`Secret::expose`], never by accident through
/// `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Temporary credentials from STS, with their expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    pub expiration: DateTime<Utc>,
}

/// Parses an expiry as we write it (RFC 3339) or as aws-mfa writes it (`2026-01-02 03:04:05`,
/// UTC).
pub fn parse_expiration(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// The expiry as we store it: RFC 3339, UTC, whole seconds (`2026-01-02T03:04:05Z`).
pub fn format_expiration(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An instant as the user reads it: local time with its offset.
pub fn local_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// A time span for people: `11h 59m`, `4m 10s`, `expired 3m ago`.
pub fn human_duration(d: chrono::Duration) -> String {
    let secs = d.num_seconds();
    let a = secs.unsigned_abs();
    let text = match a {
        0..60 => format!("{a}s"),
        60..3600 => format!("{}m {}s", a / 60, a % 60),
        3600..86400 => format!("{}h {}m", a / 3600, a % 3600 / 60),
        _ => format!("{}d {}h", a / 86400, a % 86400 / 3600),
    };
    if secs < 0 {
        format!("expired {text} ago")
    } else {
        text
    }
}

/// What a profile section holds, as far as this tool is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holding {
    /// Nothing, or no access key.
    Empty,
    /// An access key with neither a session token nor an expiry: someone's long-term keys,
    /// which must never be overwritten by a session.
    LongTermKeys,
    /// Session credentials (token or expiry present), complete or not.
    Session(Option<Session>),
}

impl Holding {
    /// The access key, session token and expiration a section has (non-empty ones).
    fn parts(props: &BTreeMap<String, String>) -> (Option<&str>, Option<&str>, Option<&str>) {
        let get = |k: &str| props.get(k).map(String::as_str).filter(|v| !v.is_empty());
        (
            get(KEY_ACCESS_KEY_ID),
            get(KEY_SESSION_TOKEN).or(get(KEY_SECURITY_TOKEN)),
            get(KEY_EXPIRATION),
        )
    }

    /// Whether [`Holding::of`] would say `Session`, without copying any secret.
    pub fn is_session(props: &BTreeMap<String, String>) -> bool {
        let (_, token, expiration) = Self::parts(props);
        token.is_some() || expiration.is_some()
    }

    /// Classifies a profile's properties (keys lower-cased, as the reader gives them).
    pub fn of(props: &BTreeMap<String, String>) -> Holding {
        let get = |k: &str| props.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let (key, token, expiration) = Self::parts(props);
        match (key, token, expiration) {
            (None, None, None) => Holding::Empty,
            (Some(_), None, None) => Holding::LongTermKeys,
            _ => Holding::Session((|| {
                Some(Session {
                    access_key_id: key?.to_string(),
                    secret_access_key: Secret::new(get(KEY_SECRET_ACCESS_KEY)?),
                    session_token: Secret::new(token?),
                    expiration: parse_expiration(expiration?)?,
                })
            })()),
        }
    }
}

impl Session {
    /// Time left at `now` (negative once expired).
    pub fn remaining(&self, now: DateTime<Utc>) -> chrono::Duration {
        self.expiration - now
    }

    /// Its time left at `now`, for messages: `it expires in 4m 10s`, `expired 3m 0s ago`.
    pub fn time_left_text(&self, now: DateTime<Utc>) -> String {
        let left = self.remaining(now);
        if left > chrono::Duration::zero() {
            format!("it expires in {}", human_duration(left))
        } else {
            human_duration(left)
        }
    }

    /// Valid, expiring (`window` or less left) or expired, at `now`.
    pub fn state(&self, now: DateTime<Utc>, window: std::time::Duration) -> State {
        let left = self.remaining(now);
        if left <= chrono::Duration::zero() {
            State::Expired
        } else if left <= self::window(window) {
            State::Expiring
        } else {
            State::Valid
        }
    }

    /// Whether the session should be renewed at `now`, given how much time must be left.
    pub fn needs_renewal(&self, now: DateTime<Utc>, window: std::time::Duration) -> bool {
        self.state(now, window) != State::Valid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn props(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_both_expiry_formats() {
        let want = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(parse_expiration("2026-01-02T03:04:05Z"), Some(want));
        assert_eq!(parse_expiration("2026-01-02T04:04:05+01:00"), Some(want));
        assert_eq!(parse_expiration("2026-01-02 03:04:05"), Some(want));
        assert_eq!(parse_expiration("tomorrow"), None);
        assert_eq!(format_expiration(want), "2026-01-02T03:04:05Z");
    }

    #[test]
    fn classifies_sections() {
        assert_eq!(Holding::of(&props(&[])), Holding::Empty);
        assert_eq!(
            Holding::of(&props(&[("aws_access_key_id", "AKIA"), ("region", "x")])),
            Holding::LongTermKeys
        );
        let s = Holding::of(&props(&[
            ("aws_access_key_id", "ASIA"),
            ("aws_secret_access_key", "s"),
            ("aws_security_token", "t"),
            ("expiration", "2026-01-02 03:04:05"),
        ]));
        let Holding::Session(Some(s)) = s else {
            panic!("{s:?}")
        };
        assert_eq!(s.session_token.expose(), "t");
        assert!(matches!(
            Holding::of(&props(&[("aws_access_key_id", "A"), ("expiration", "bad")])),
            Holding::Session(None)
        ));
    }

    #[test]
    fn serials_and_key_pairs() {
        let cfg = props(&[("mfa_serial", "")]);
        let lt = props(&[("aws_mfa_device", "arn:dev"), ("aws_access_key_id", "AKIA")]);
        assert_eq!(configured_serial(&cfg, &lt).as_deref(), Some("arn:dev"));
        let cfg = props(&[("mfa_serial", "arn:cfg")]);
        let lt = props(&[("mfa_serial", "arn:lt"), ("aws_mfa_device", "arn:dev")]);
        assert_eq!(
            configured_serials(&cfg, &lt).collect::<Vec<_>>(),
            ["arn:cfg", "arn:lt", "arn:dev"]
        );
        assert_eq!(configured_serial(&props(&[]), &props(&[])), None);
        assert_eq!(key_pair(&lt), None);
        let both = props(&[
            ("aws_access_key_id", "AKIA"),
            ("aws_secret_access_key", "s"),
        ]);
        assert_eq!(key_pair(&both), Some(("AKIA".into(), "s".into())));
    }

    #[test]
    fn is_session_agrees_with_of() {
        let keys = [
            KEY_ACCESS_KEY_ID,
            KEY_SECRET_ACCESS_KEY,
            KEY_SESSION_TOKEN,
            KEY_SECURITY_TOKEN,
            KEY_EXPIRATION,
        ];
        // Every subset of the keys, each present with a value or empty.
        for mask in 0..(1u32 << (2 * keys.len())) {
            let p: BTreeMap<String, String> = keys
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << (2 * i)) != 0)
                .map(|(i, k)| {
                    let v = if mask & (1 << (2 * i + 1)) != 0 {
                        ""
                    } else {
                        "2026-01-02 03:04:05"
                    };
                    (k.to_string(), v.to_string())
                })
                .collect();
            assert_eq!(
                Holding::is_session(&p),
                matches!(Holding::of(&p), Holding::Session(_)),
                "{p:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let s = Session {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("very-secret"),
            session_token: Secret::new("token-secret"),
            expiration: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        };
        let d = format!("{s:?} {s:#?}");
        assert!(
            !d.contains("very-secret") && !d.contains("token-secret"),
            "{d}"
        );
        assert!(d.contains("ASIAEXAMPLE"));
    }

    #[test]
    fn human_durations() {
        let h = |s| human_duration(chrono::Duration::seconds(s));
        assert_eq!(h(59), "59s");
        assert_eq!(h(61), "1m 1s");
        assert_eq!(h(43199), "11h 59m");
        assert_eq!(h(129600), "1d 12h");
        assert_eq!(h(-180), "expired 3m 0s ago");
    }

    #[test]
    fn renewal_window() {
        let exp = Utc.with_ymd_and_hms(2026, 1, 2, 12, 0, 0).unwrap();
        let s = Session {
            access_key_id: "A".into(),
            secret_access_key: Secret::new("s"),
            session_token: Secret::new("t"),
            expiration: exp,
        };
        let w = std::time::Duration::from_secs(15 * 60);
        assert!(!s.needs_renewal(exp - chrono::Duration::minutes(16), w));
        assert!(s.needs_renewal(exp - chrono::Duration::minutes(15), w));
        assert!(s.needs_renewal(exp + chrono::Duration::minutes(1), w));
        assert_eq!(
            s.state(exp - chrono::Duration::minutes(16), w),
            State::Valid
        );
        assert_eq!(
            s.state(exp - chrono::Duration::minutes(1), w),
            State::Expiring
        );
        assert_eq!(s.state(exp, w), State::Expired);
        // A 900 s session under a 15-minute window: the window shrinks to a third of its life.
        assert_eq!(
            effective_window(w, 900),
            std::time::Duration::from_secs(300)
        );
        assert_eq!(effective_window(w, 43_200), w);
        let fresh = exp - chrono::Duration::seconds(899);
        assert_eq!(s.state(fresh, effective_window(w, 900)), State::Valid);
    }
}
