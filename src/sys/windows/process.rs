//! Hardening, served commands and `exec` on Windows: no error-reporting dumps of ours, Job
//! Objects instead of a parent-death signal, and `exec` as start, wait and pass the exit code
//! on (Windows cannot replace a running process with another).

use std::io;
use std::os::windows::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use windows_sys::Win32::System::Diagnostics::Debug::{
    SEM_FAILCRITICALERRORS, SEM_NOGPFAULTERRORBOX, SetErrorMode,
};

use crate::sys::job::Job;
use crate::sys::signals::Deferred;

/// The shell for a command line that needs one, and for `exec` without a command when `SHELL`
/// is not set.
pub const DEFAULT_SHELL: &str = "cmd.exe";

/// `line` run by the shell, as aws-vault does: `cmd.exe /D /S /C "LINE"`, the line passed
/// verbatim (std's quoting rules are not cmd's).
pub fn shell_command(line: &str) -> Command {
    let mut c = Command::new(DEFAULT_SHELL);
    c.args(["/D", "/S", "/C"]).raw_arg(format!("\"{line}\""));
    c
}

/// A plain command line (no shell syntax) split into its words as Windows programs split
/// theirs: whitespace separates, double quotes group, and a backslash is a path separator,
/// never an escape (`C:\Users\me\code.bat`, `"C:\Program Files\Yubico\ykman.exe" oath`).
/// `None` when a quote is left open.
pub fn split_command(line: &str) -> Option<Vec<String>> {
    let (mut words, mut word, mut in_word, mut quoted) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return None;
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// The program that opens a URL in the person's browser: `cmd.exe`, with its `start` built-in.
pub const URL_OPENER: &str = DEFAULT_SHELL;

/// `cmd.exe /D /C start "" "URL"`: the empty title first (`start` takes a first quoted
/// argument as the window's title), the URL quoted so that cmd does not split it at `&`. The
/// line is passed verbatim (std's quoting rules are not cmd's); the URL holds only characters
/// a query string percent-encodes to, never a `"`.
pub fn open_url(url: &str) -> Command {
    let mut c = Command::new(DEFAULT_SHELL);
    c.args(["/D", "/C"])
        .raw_arg(format!("start \"\" \"{url}\""));
    c
}

/// The extensions a bare program name is tried with, as `cmd.exe` does with `PATHEXT`'s
/// default.
const EXTENSIONS: [&str; 4] = ["exe", "com", "bat", "cmd"];

/// `program` in `dir`: the file itself when the name has an extension, else the first of
/// `program.exe`, `.com`, `.bat`, `.cmd` there.
pub fn executable_in(dir: &Path, program: &str) -> Option<PathBuf> {
    let p = dir.join(program);
    if Path::new(program).extension().is_some() {
        return p.is_file().then_some(p);
    }
    EXTENSIONS
        .iter()
        .map(|ext| p.with_extension(ext))
        .find(|c| c.is_file())
}

/// A file Windows runs: one with an `.exe`, `.com`, `.bat` or `.cmd` extension.
pub fn is_executable(p: &Path) -> bool {
    p.is_file()
        && p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// No Windows Error Reporting dialog or crash handling of ours (`SetErrorMode`): a crash ends
/// the process without our help. A system-wide `LocalDumps` policy set by an administrator can
/// still write dumps (docs/security.md).
pub fn no_core_dumps() {
    // SAFETY: a plain process-wide setting.
    unsafe {
        SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    }
}

/// Windows has no per-process limit of open sockets to raise: `want`.
pub fn raise_open_files(want: u64) -> u64 {
    want
}

/// What ties a served command to us: its kill-on-close job, whose last handle is ours, so
/// Windows ends the command's whole tree when we end, however we end.
#[derive(Debug)]
pub struct Tie {
    _job: Option<Job>,
}

/// Starts the command `exec --server` serves, in a kill-on-close job.
pub fn spawn_served(mut cmd: Command, deferred: &Deferred) -> io::Result<(Child, Tie)> {
    deferred.not_in(&mut cmd);
    let child = cmd.spawn()?;
    let job = Job::holding(&child);
    Ok((child, Tie { _job: job }))
}

/// Runs `cmd` in our place: Ctrl-C is left to it (it shares our console), it is ended with us,
/// and its exit code becomes ours. Only returns on failure to start it.
pub fn exec(cmd: Command) -> io::Error {
    // Ctrl-C and Ctrl-Break are the command's (it shares our console): a handler that leaves
    // them to it, installed before it starts. Not `SetConsoleCtrlHandler(None, TRUE)`: that
    // "ignore Ctrl-C" flag is inherited, and the command would ignore Ctrl-C too.
    crate::sys::signals::forward_to(0);
    let (mut child, tie) = match spawn_served(cmd, &crate::sys::signals::defer()) {
        Ok(started) => started,
        Err(e) => return e,
    };
    let code = match child.wait() {
        Ok(status) => status.code().unwrap_or(1),
        Err(e) => return e,
    };
    drop(tie);
    std::process::exit(code)
}
