//! `mfa-session doctor`: why a profile does not work. Lowers the flags into a
//! [`doctor::Request`], runs the checks of [`crate::doctor`] and prints them — one line each,
//! ok / warn / fail with the fix, or JSON for scripts and support tickets. Exit 0 only when a
//! login would work (no check failed), 1 otherwise.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use crate::cmd::Ctx;
use crate::doctor::{self, Level, Report};
use crate::error::Exit;
use crate::shell::json_string;

pub fn run(
    profile: Option<String>,
    json: bool,
    timeout: Duration,
    window: Duration,
    ctx: &Ctx,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let req = doctor::Request {
        profile,
        timeout,
        window,
    };
    let report = doctor::diagnose(&req, ctx);
    if json {
        writeln!(out, "{}", to_json(&report))?;
    } else {
        let colour = std::io::stdout().is_terminal() && !ctx.env.no_color;
        write!(out, "{}", to_text(&report, colour))?;
    }
    Ok(if report.login_would_work() {
        Exit::Success
    } else {
        Exit::Failure
    }
    .into())
}

/// One line per check, the fix indented under it, and the verdict.
pub fn to_text(report: &Report, colour: bool) -> String {
    let mut s = format!("mfa-session doctor: profile [{}]\n", report.profile);
    for c in &report.checks {
        let label = format!("{:<4}", c.level.name());
        let label = match (colour, c.level) {
            (false, _) => label,
            (true, Level::Ok) => format!("\x1b[32m{label}\x1b[0m"),
            (true, Level::Warn) => format!("\x1b[33m{label}\x1b[0m"),
            (true, Level::Fail) => format!("\x1b[31m{label}\x1b[0m"),
        };
        s.push_str(&format!("{label}  {:<18}  {}\n", c.area, c.detail));
        if let Some(fix) = &c.fix {
            s.push_str(&format!("{:<24}  fix: {fix}\n", ""));
        }
    }
    s.push_str(if report.login_would_work() {
        "login would work\n"
    } else {
        "login would not work: fix what failed above\n"
    });
    s
}

/// `{"profile", "login_would_work", "checks": [{"check", "status", "detail", "fix"}]}`.
pub fn to_json(report: &Report) -> String {
    let checks: Vec<String> = report
        .checks
        .iter()
        .map(|c| {
            format!(
                "{{\"check\":{},\"status\":{},\"detail\":{},\"fix\":{}}}",
                json_string(c.area),
                json_string(c.level.name()),
                json_string(&c.detail),
                c.fix.as_deref().map_or("null".into(), json_string)
            )
        })
        .collect();
    format!(
        "{{\"profile\":{},\"login_would_work\":{},\"checks\":[{}]}}",
        json_string(&report.profile),
        report.login_would_work(),
        checks.join(",")
    )
}
