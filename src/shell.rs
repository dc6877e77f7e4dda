//! Rendering a session as text other programs evaluate: shell exports, dotenv, and the
//! `credential_process` JSON document.
//!
//! Output of `export` is fed to `eval`, `source` and `Invoke-Expression`, so every value is
//! quoted for the one language that reads it, and a value that a format cannot carry inertly
//! (a `%` for cmd.exe, a line break for dotenv) makes the whole render fail: nothing is printed
//! rather than something half-safe. Pure: values in, text out.

use std::fmt::Write as _;

use crate::session::{Session, format_expiration};

/// The output formats of `export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// POSIX shells: bash, zsh, dash, ksh (`eval "$(mfa-session export)"`).
    Sh,
    /// fish (`mfa-session export --format fish | source`).
    Fish,
    /// PowerShell (`mfa-session export --format powershell | Invoke-Expression`).
    Powershell,
    /// Windows cmd.exe batch (`set "NAME=value"` lines).
    Cmd,
    /// A .env file (`NAME=value` lines).
    Dotenv,
    /// The credential_process JSON document.
    Json,
}

#[derive(Debug, thiserror::Error)]
#[error("the value of {name} cannot be written safely in {format} format: {why}")]
pub struct RenderError {
    pub name: &'static str,
    pub format: &'static str,
    pub why: &'static str,
}

/// The variables of a session, in the order they are printed.
pub fn variables<'a>(s: &'a Session, region: Option<&'a str>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", s.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY",
            s.secret_access_key.expose().to_string(),
        ),
        ("AWS_SESSION_TOKEN", s.session_token.expose().to_string()),
        ("AWS_CREDENTIAL_EXPIRATION", format_expiration(s.expiration)),
    ];
    if let Some(r) = region {
        vars.push(("AWS_REGION", r.to_string()));
    }
    vars
}

/// Renders the session in `format`. The output ends with a newline.
pub fn render(format: Format, s: &Session, region: Option<&str>) -> Result<String, RenderError> {
    if format == Format::Json {
        return Ok(credential_process_json(s));
    }
    let vars = variables(s, region);
    let mut out = String::new();
    for (name, value) in &vars {
        let err = |why| RenderError {
            name,
            format: format_name(format),
            why,
        };
        if value.contains('\0') {
            return Err(err("it contains a NUL byte"));
        }
        match format {
            Format::Sh => {
                let _ = writeln!(out, "export {name}={}", sh_quote(value));
            }
            Format::Fish => {
                let _ = writeln!(out, "set -gx {name} {};", fish_quote(value));
            }
            Format::Powershell => {
                let _ = writeln!(out, "$Env:{name} = {}", powershell_quote(value));
            }
            Format::Cmd => {
                if value.contains(['%', '"', '!', '\n', '\r', '^']) {
                    return Err(err("cmd.exe cannot quote %, \", !, ^ or line breaks"));
                }
                let _ = writeln!(out, "set \"{name}={value}\"");
            }
            Format::Dotenv => {
                // Written so that python-dotenv and docker compose both read the value back
                // byte for byte, or refused: inside single quotes compose takes everything
                // literally, while python-dotenv halves `\\`, unescapes `\'` and expands
                // `${VAR}`, and neither has a way to write a line break both read.
                if value.contains(['\n', '\r', '\'', '\\']) || value.contains("${") {
                    return Err(err(
                        "python-dotenv and docker compose read line breaks, quotes, backslashes \
                         and ${ differently",
                    ));
                }
                if value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=._:-".contains(&b))
                {
                    let _ = writeln!(out, "{name}={value}");
                } else {
                    let _ = writeln!(out, "{name}='{value}'");
                }
            }
            Format::Json => unreachable!("handled above"),
        }
    }
    if format == Format::Sh {
        // The profile's name would otherwise win over the exported keys in some tools.
        out.push_str("unset AWS_PROFILE\n");
    } else if format == Format::Fish {
        out.push_str("set -e AWS_PROFILE;\n");
    } else if format == Format::Powershell {
        out.push_str("Remove-Item Env:AWS_PROFILE -ErrorAction SilentlyContinue\n");
    } else if format == Format::Cmd {
        // `set "NAME="` removes the variable (silently when it is not set).
        out.push_str("set \"AWS_PROFILE=\"\n");
    }
    Ok(out)
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Sh => "sh",
        Format::Fish => "fish",
        Format::Powershell => "powershell",
        Format::Cmd => "cmd",
        Format::Dotenv => "dotenv",
        Format::Json => "json",
    }
}

/// POSIX single quotes: everything literal, `'` written as `'\''`.
pub fn sh_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

/// fish single quotes: only `\` and `'` are special inside them.
pub fn fish_quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', r"\\").replace('\'', r"\'"))
}

/// PowerShell single quotes: literal, a quote doubled. PowerShell also takes the typographic
/// single quotes as quote characters, so those are doubled too.
pub fn powershell_quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('\'');
    for c in v.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The document `credential_process` must print: `Version` 1, the keys, and `Expiration` so the
/// SDKs know when to ask again.
pub fn credential_process_json(s: &Session) -> String {
    format!(
        "{{\"Version\":1,\"AccessKeyId\":{},\"SecretAccessKey\":{},\"SessionToken\":{},\"Expiration\":{}}}\n",
        json_string(&s.access_key_id),
        json_string(s.secret_access_key.expose()),
        json_string(s.session_token.expose()),
        json_string(&format_expiration(s.expiration)),
    )
}

pub fn json_string(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Secret;
    use chrono::{TimeZone, Utc};

    fn session(token: &str) -> Session {
        Session {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("se/cr+et="),
            session_token: Secret::new(token),
            expiration: Utc.with_ymd_and_hms(2026, 11, 23, 15, 4, 5).unwrap(),
        }
    }

    #[test]
    fn sh_output() {
        let out = render(Format::Sh, &session("tok"), Some("eu-west-1")).unwrap();
        assert_eq!(
            out,
            "export AWS_ACCESS_KEY_ID='ASIAEXAMPLE'\nexport AWS_SECRET_ACCESS_KEY='se/cr+et='\n\
             export AWS_SESSION_TOKEN='tok'\nexport AWS_CREDENTIAL_EXPIRATION='2026-11-23T15:04:05Z'\n\
             export AWS_REGION='eu-west-1'\nunset AWS_PROFILE\n"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("a'b"), r"'a'\''b'");
        assert_eq!(fish_quote(r"a'b\c"), r"'a\'b\\c'");
        assert_eq!(powershell_quote("a'b\u{2019}c"), "'a''b\u{2019}\u{2019}c'");
        assert_eq!(json_string("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
    }

    #[test]
    fn unsafe_values_are_refused_not_mangled() {
        assert!(render(Format::Cmd, &session("a%PATH%"), None).is_err());
        assert!(render(Format::Cmd, &session("a\nb"), None).is_err());
        assert!(render(Format::Dotenv, &session("a\nb"), None).is_err());
        assert!(render(Format::Dotenv, &session("a\\\\b"), None).is_err());
        assert!(render(Format::Dotenv, &session("a${HOME}b"), None).is_err());
        assert!(render(Format::Dotenv, &session("a\\b"), None).is_err());
        assert!(render(Format::Sh, &session("a\0b"), None).is_err());
        let e = render(Format::Cmd, &session("a%b"), None).unwrap_err();
        assert!(
            !e.to_string().contains("a%b"),
            "no secret in the message: {e}"
        );
        assert_eq!(
            render(Format::Dotenv, &session("a b"), None)
                .unwrap()
                .lines()
                .nth(2),
            Some("AWS_SESSION_TOKEN='a b'")
        );
    }

    #[test]
    fn json_document() {
        assert_eq!(
            credential_process_json(&session("tok")),
            "{\"Version\":1,\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"se/cr+et=\",\
             \"SessionToken\":\"tok\",\"Expiration\":\"2026-11-23T15:04:05Z\"}\n"
        );
    }
}
