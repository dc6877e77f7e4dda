//! The command-line frame, run as a real process: help, version, completions, man page, exit
//! codes. stdout, stderr and the exit code are checked together.

use assert_cmd::Command;
use predicates::prelude::*;

fn bin() -> Command {
    let mut c = Command::cargo_bin("mfa-session").unwrap();
    // Never let a developer's real setup leak in.
    let home = tempfile::tempdir().unwrap().keep();
    c.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap());
    c
}

#[test]
fn help_teaches_files_profiles_and_exit_codes() {
    bin()
        .arg("--help")
        .assert()
        .success()
        .stderr("")
        .stdout(predicate::str::contains("AWS_SHARED_CREDENTIALS_FILE"))
        .stdout(predicate::str::contains("[PROFILE-long-term]"))
        .stdout(predicate::str::contains("Exit codes:"))
        .stdout(predicate::str::contains("completions"));
}

#[test]
fn version() {
    bin()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("mfa-session {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn no_subcommand_is_a_usage_error() {
    bin()
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("Usage:"));
    bin()
        .arg("frobnicate")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unrecognized subcommand"));
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef mfa-session"),
        ("fish", "complete -c mfa-session"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        bin()
            .args(["completions", shell])
            .assert()
            .success()
            .stderr("")
            .stdout(predicate::str::contains(marker));
    }
    bin().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn bash_completion_script_is_valid_bash() {
    let out = bin().args(["completions", "bash"]).output().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.bash");
    std::fs::write(&f, &out.stdout).unwrap();
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(&f)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn man_page_is_roff() {
    bin()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(".ie \\n(.g .ds Aq"))
        .stdout(predicate::str::contains(".TH mfa-session 1"));
}

#[test]
fn verbosity_flags_are_global_and_exclusive() {
    bin()
        .args(["-vvv", "completions", "bash"])
        .assert()
        .success();
    bin().args(["completions", "bash", "-q"]).assert().success();
    bin()
        .args(["-q", "-v", "man"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}

/// The exit-code table lives in src/error.rs; the README and `--help` must say the same.
#[test]
fn exit_codes_are_documented_in_step() {
    let exit_rs = include_str!("../../src/error.rs");
    let readme = include_str!("../../README.md");
    let rows: Vec<&str> = exit_rs
        .lines()
        .filter_map(|l| l.strip_prefix("//! | "))
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect();
    assert!(rows.len() >= 5, "{rows:?}");
    for row in rows {
        assert!(
            readme.contains(&format!("| {row}")),
            "README lacks exit code row: {row}"
        );
        let code = row.split(' ').next().unwrap();
        let help = String::from_utf8(bin().arg("--help").output().unwrap().stdout).unwrap();
        // clap wraps the text to the terminal width: compare with whitespace folded.
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            help.contains(&format!(" {code} ")),
            "--help lacks exit code {code}"
        );
    }
}

/// Every "Examples:" header in a command's help is followed by example lines, never by prose
/// (`exec --help` had a stray one before the `--server` paragraph).
#[test]
fn examples_headers_are_followed_by_examples() {
    let top = bin().arg("--help").output().unwrap();
    let top = String::from_utf8(top.stdout).unwrap();
    let commands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.iter().any(|c| c == "exec"), "{commands:?}");
    for command in &commands {
        let out = bin().args([command.as_str(), "--help"]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if l.trim() == "Examples:" {
                let indent = |s: &str| s.len() - s.trim_start().len();
                let next = lines.get(i + 1).copied().unwrap_or("");
                assert!(
                    next.contains("mfa-session ") && indent(next) > indent(l),
                    "`{command} --help`: \"Examples:\" is followed by {next:?}"
                );
            }
        }
    }
    let exec = bin().args(["exec", "--help"]).output().unwrap();
    let exec = String::from_utf8(exec.stdout).unwrap();
    assert_eq!(exec.matches("Examples:").count(), 1, "{exec}");
    assert!(
        exec.find("With --server") < exec.find("Examples:"),
        "{exec}"
    );
}

/// `scripts/dist` looks for the release binary where cargo puts it: under `CARGO_TARGET_DIR`
/// when that is set (scripts/test-package builds a whole distribution that way; this checks,
/// without a release build, which path it uses).
#[cfg(unix)]
#[test]
fn dist_looks_for_the_binary_under_cargo_target_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("bash")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/dist"))
        .arg("--skip-build")
        .env("CARGO_TARGET_DIR", dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let want = dir.path().join("release/mfa-session");
    assert!(
        err.contains(&format!("{} is missing", want.display())),
        "{err}"
    );
}
