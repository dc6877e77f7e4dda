//! `mfa-session status`: every managed profile, its state and time left — for people (a table,
//! coloured only on a terminal) and for scripts and monitoring (JSON, and an exit code that is 0
//! only when every session shown is valid). Reads the files; never calls AWS.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use comfy_table::{Cell, Color, Table, presets};

use crate::cmd::Ctx;
use crate::error::Exit;
use crate::provider::profile::{self, Kind};
use crate::provider::role;
use crate::provider::{Files, RoleProfile};
use crate::session::{self, Holding};
use crate::shell::json_string;

type Props = BTreeMap<String, String>;

/// One line of the report.
#[derive(Debug, PartialEq, Eq)]
pub struct Row {
    pub profile: String,
    pub state: State,
    pub expiration: Option<DateTime<Utc>>,
    pub seconds_left: Option<i64>,
    pub serial: Option<String>,
    pub source: Option<String>,
    /// When the long-term key was created, where known (recorded by `rotate`).
    pub key_created: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Valid,
    /// Inside the refresh window: still usable, due for renewal.
    Expiring,
    Expired,
    /// No session at all.
    Missing,
    /// Session keys without a readable expiration (written by another tool).
    Unknown,
    /// The section holds long-term keys, not a session.
    LongTerm,
}

impl State {
    /// Valid, expiring (inside the refresh window) or expired, for a session at `now`: the
    /// one rule of [`session::Session::state`].
    fn of(s: &session::Session, now: DateTime<Utc>, window: Duration) -> State {
        match s.state(now, window) {
            session::State::Valid => State::Valid,
            session::State::Expiring => State::Expiring,
            session::State::Expired => State::Expired,
        }
    }

    fn name(self) -> &'static str {
        match self {
            State::Valid => "valid",
            State::Expiring => "expiring",
            State::Expired => "expired",
            State::Missing => "missing",
            State::Unknown => "unknown",
            State::LongTerm => "long-term-keys",
        }
    }

    fn colour(self) -> Color {
        match self {
            State::Valid => Color::Green,
            State::Expiring => Color::Yellow,
            _ => Color::Red,
        }
    }
}

/// The row of one profile at `now`.
pub fn row(
    profile: &str,
    credentials: &BTreeMap<String, Props>,
    config: &BTreeMap<String, Props>,
    suffix: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Row {
    let empty = Props::new();
    let props = credentials.get(profile).unwrap_or(&empty);
    let long_term_name = format!("{profile}{suffix}");
    let long_term = credentials.get(&long_term_name);
    let serial = session::configured_serial(
        config.get(profile).unwrap_or(&empty),
        long_term.unwrap_or(&empty),
    );
    let configured = config.get(profile).and_then(|c| c.get("duration_seconds"));
    let lifetime = profile::lifetime_of(configured.cloned(), false);
    let window = session::effective_window(window, lifetime);
    let (state, expiration) = match Holding::of(props) {
        Holding::Session(Some(s)) => (State::of(&s, now, window), Some(s.expiration)),
        Holding::Session(None) => (State::Unknown, None),
        Holding::LongTermKeys => (State::LongTerm, None),
        Holding::Empty => (State::Missing, None),
    };
    Row {
        profile: profile.to_string(),
        state,
        seconds_left: expiration.map(|e| (e - now).num_seconds()),
        expiration,
        serial,
        key_created: long_term
            .and_then(|lt| lt.get(crate::provider::rotate::CREATED_KEY))
            .and_then(|t| session::parse_expiration(t)),
        source: long_term.map(|lt| match crate::secrets::Store::of(lt) {
            crate::secrets::Store::Keyring => format!("{long_term_name} (keyring)"),
            crate::secrets::Store::File => long_term_name,
        }),
    }
}

/// The row of a role profile: the state of its cached session.
pub fn role_row(
    r: &RoleProfile,
    cached: Option<session::Session>,
    now: DateTime<Utc>,
    window: Duration,
) -> Row {
    let lifetime = profile::lifetime_of(r.duration_seconds.clone(), true);
    let window = session::effective_window(window, lifetime);
    let (state, expiration) = match cached {
        None => (State::Missing, None),
        Some(s) => (State::of(&s, now, window), Some(s.expiration)),
    };
    Row {
        profile: r.name.clone(),
        state,
        seconds_left: expiration.map(|e| (e - now).num_seconds()),
        expiration,
        serial: r.mfa_serial.clone(),
        source: r.source_profile.as_ref().map(|s| format!("role via {s}")),
        key_created: None,
    }
}

pub fn render_json(rows: &[Row]) -> String {
    let opt = |v: Option<String>| v.map(|s| json_string(&s)).unwrap_or_else(|| "null".into());
    let mut out = String::from("[");
    for (i, r) in rows.iter().enumerate() {
        let _ = write!(
            out,
            "{}\n  {{\"profile\":{},\"state\":\"{}\",\"expiration\":{},\"seconds_left\":{},\"serial\":{},\"source\":{},\"key_created\":{}}}",
            if i == 0 { "" } else { "," },
            json_string(&r.profile),
            r.state.name(),
            opt(r.expiration.map(session::format_expiration)),
            r.seconds_left
                .map(|s| s.to_string())
                .unwrap_or_else(|| "null".into()),
            opt(r.serial.clone()),
            opt(r.source.clone()),
            opt(r.key_created.map(session::format_expiration)),
        );
    }
    out.push_str(if rows.is_empty() { "]\n" } else { "\n]\n" });
    out
}

pub fn render_table(rows: &[Row], now: DateTime<Utc>, colour: bool) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    if colour {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t.set_header([
        "PROFILE",
        "STATE",
        "EXPIRES",
        "LEFT",
        "MFA DEVICE",
        "KEYS FROM",
        "KEY AGE",
    ]);
    for r in rows {
        let mut state = Cell::new(r.state.name());
        if colour {
            state = state.fg(r.state.colour());
        }
        let dash = || "-".to_string();
        t.add_row(vec![
            Cell::new(&r.profile),
            state,
            Cell::new(r.expiration.map(session::local_time).unwrap_or_else(dash)),
            Cell::new(
                r.expiration
                    .map(|e| session::human_duration(e - now))
                    .unwrap_or_else(dash),
            ),
            Cell::new(r.serial.clone().unwrap_or_else(dash)),
            Cell::new(r.source.clone().unwrap_or_else(dash)),
            Cell::new(
                r.key_created
                    .map(|c| format!("{}d", (now - c).num_days()))
                    .unwrap_or_else(dash),
            ),
        ]);
    }
    let mut text: String = t.lines().map(|l| format!("{}\n", l.trim_end())).collect();
    if rows.is_empty() {
        text.clear();
    }
    text
}

/// How `status` shows its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Table,
    Json,
    /// One short line about one profile, for a shell prompt.
    Prompt,
}

/// The prompt segment of a row: `work 3h12m`, `work 9m expiring`, `work expired`. The name may
/// come from `AWS_PROFILE` (a repository's `.envrc` can set it): its control characters are
/// escaped, so no prompt changes the terminal's title or clipboard.
pub fn render_prompt(r: &Row) -> String {
    let left = r.seconds_left.map(compact).unwrap_or_default();
    let text = match r.state {
        State::Valid => left,
        State::Expiring => format!("{left} expiring"),
        State::Expired => "expired".into(),
        State::Missing | State::LongTerm => "no session".into(),
        State::Unknown => "unknown".into(),
    };
    format!("{} {text}\n", crate::text::untrusted(&r.profile))
}

/// `3h12m`, `9m`, `45s`, `1d2h`: short enough for a prompt.
fn compact(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

pub fn run(
    profile: Option<&str>,
    view: View,
    window: Duration,
    ctx: &Ctx,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let files = Files::read(ctx)?;
    let now = Utc::now();
    let suffix = &ctx.long_term_suffix;
    // A prompt is about the profile in use: the flag, an `exec` shell's, AWS_PROFILE, default.
    let in_use;
    let profile = match (view, profile) {
        (View::Prompt, None) => {
            in_use = ctx
                .env
                .exec_profile
                .clone()
                .unwrap_or_else(|| ctx.env.profile(None));
            Some(in_use.as_str())
        }
        (_, p) => p,
    };
    let rows: Vec<Row> = match profile {
        Some(p) if let Some(r) = profile::role_profile(&files.config, p) => {
            vec![role_row(&r, role::cached(ctx, &r)?, now, window)]
        }
        // One profile: look up just its two sections, not every profile of a large file.
        Some(p) => {
            let mut credentials = BTreeMap::new();
            for name in [p.to_string(), format!("{p}{suffix}")] {
                if let Some(props) = files.credentials.profile(&name) {
                    credentials.insert(name, props);
                }
            }
            let config: BTreeMap<String, Props> = files
                .config
                .profile(p)
                .map(|c| BTreeMap::from([(p.to_string(), c)]))
                .unwrap_or_default();
            vec![row(p, &credentials, &config, suffix, now, window)]
        }
        None => {
            let credentials = files.credentials.profiles().profiles;
            let config = files.config.profiles().profiles;
            let has_cached = |r: &RoleProfile| role::cached(ctx, r).ok().flatten().is_some();
            let mut rows = Vec::new();
            for (name, kind) in profile::managed(&files, suffix, has_cached) {
                rows.push(match kind {
                    Kind::Role(r) => role_row(&r, role::cached(ctx, &r)?, now, window),
                    _ => row(&name, &credentials, &config, suffix, now, window),
                });
            }
            rows
        }
    };
    let text = match view {
        View::Json => render_json(&rows),
        View::Prompt => rows.iter().map(render_prompt).collect(),
        View::Table => {
            let colour = !ctx.env.no_color && std::io::stdout().is_terminal();
            render_table(&rows, now, colour)
        }
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to stdout")?;
    let bad = rows.iter().filter(|r| r.state != State::Valid).count();
    if view == View::Prompt {
        // A prompt segment says it all; nothing on stderr on every prompt.
        return Ok(if bad > 0 {
            Exit::NoSession.into()
        } else {
            ExitCode::SUCCESS
        });
    }
    if rows.is_empty() {
        ctx.say(&format!(
            "no managed profiles in {} (log in with `mfa-session login --profile NAME`)",
            files.credentials_path.display()
        ));
        return Ok(Exit::NoSession.into());
    }
    if bad > 0 {
        ctx.say(&format!("{bad} of {} sessions not valid", rows.len()));
        return Ok(Exit::NoSession.into());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Document, FileKind};
    use chrono::TimeZone;

    #[test]
    fn states_and_rendering_at_a_fixed_time() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        let creds = Document::parse(
            FileKind::Credentials,
            "[a-long-term]\naws_access_key_id = AKIA\naws_mfa_device = arn:a\n\
             [a]\naws_access_key_id = ASIA\naws_secret_access_key = s\naws_session_token = t\nexpiration = 2026-11-23T20:00:00Z\n\
             [b]\naws_access_key_id = ASIA\naws_secret_access_key = s\naws_session_token = t\nexpiration = 2026-11-23 12:10:00\n\
             [c]\naws_access_key_id = ASIA\naws_secret_access_key = s\naws_session_token = t\nexpiration = 2026-11-23T11:00:00Z\n\
             [d-long-term]\naws_access_key_id = AKIA\n\
             [static]\naws_access_key_id = AKIA\naws_secret_access_key = s\n",
        )
        .unwrap()
        .profiles()
        .profiles;
        let config = Document::parse(FileKind::Config, "[profile d]\nmfa_serial = arn:d\n")
            .unwrap()
            .profiles()
            .profiles;
        let names: Vec<String> = profile::session_profiles(&creds, "-long-term")
            .into_iter()
            .collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        let rows: Vec<Row> = names
            .iter()
            .map(|n| {
                row(
                    n,
                    &creds,
                    &config,
                    "-long-term",
                    now,
                    Duration::from_secs(900),
                )
            })
            .collect();
        let states: Vec<State> = rows.iter().map(|r| r.state).collect();
        assert_eq!(
            states,
            [
                State::Valid,
                State::Expiring,
                State::Expired,
                State::Missing
            ]
        );
        assert_eq!(rows[0].serial.as_deref(), Some("arn:a"));
        assert_eq!(rows[3].serial.as_deref(), Some("arn:d"));
        assert_eq!(rows[1].seconds_left, Some(600));
        let json = render_json(&rows);
        assert!(json.contains(
            "{\"profile\":\"a\",\"state\":\"valid\",\"expiration\":\"2026-11-23T20:00:00Z\",\"seconds_left\":28800,\"serial\":\"arn:a\",\"source\":\"a-long-term\",\"key_created\":null}"
        ), "{json}");
        assert!(json.contains("\"profile\":\"d\",\"state\":\"missing\",\"expiration\":null"));
        let table = render_table(&rows, now, false);
        assert!(
            !table.contains('\u{1b}'),
            "no colour when not asked: {table}"
        );
        assert!(table.lines().next().unwrap().contains("PROFILE"));
        assert!(
            table.contains("8h 0m") && table.contains("expired 1h 0m ago"),
            "{table}"
        );
        assert!(render_table(&rows, now, true).contains('\u{1b}'));
        let prompts: Vec<String> = rows.iter().map(render_prompt).collect();
        assert_eq!(
            prompts,
            [
                "a 8h00m\n",
                "b 10m expiring\n",
                "c expired\n",
                "d no session\n"
            ]
        );
        assert_eq!(compact(93_600), "1d2h");
        assert_eq!(compact(45), "45s");
        let one = row(
            "static",
            &creds,
            &config,
            "-long-term",
            now,
            Duration::from_secs(900),
        );
        assert_eq!(one.state, State::LongTerm);
    }
}
