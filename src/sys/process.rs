//! This process's hardening, the programs it starts for the user, and running one in its
//! place.
//!
//! - [`no_core_dumps`]: no core file or crash dump holds keys, codes or sessions (Unix:
//!   `RLIMIT_CORE` 0 and, on Linux, not dumpable; Windows: no Windows Error Reporting dialog or
//!   dump of ours: docs/security.md says what each platform gets).
//! - [`spawn_served`]: the command `exec --server` serves, which must not outlive us (Linux's
//!   parent-death signal; a kill-on-close Job Object on Windows; macOS has neither).
//! - [`exec`]: the command `exec` runs in our place (`execve` on Unix; on Windows, which has no
//!   such call, it is started, waited for, and its exit code becomes ours, Ctrl-C going to it).
//! - [`shell_command`]: a command line that needs a shell, as `sh -c` or `cmd.exe /C`.
//! - [`split_command`]: a plain command line split into words by the platform's rules (`sh`'s
//!   quoting and backslash escapes on Unix; on Windows, quotes only: `\` separates paths).
//! - [`open_url`]: a URL opened in the person's browser by the platform's opener
//!   ([`URL_OPENER`]: `xdg-open` on Linux and the BSDs, `open` on macOS, `cmd /C start` on
//!   Windows), as aws-vault's `login` (through open-golang) and granted's `-c` do.

#[cfg(unix)]
#[path = "unix/process.rs"]
mod imp;
#[cfg(windows)]
#[path = "windows/process.rs"]
mod imp;

pub use imp::*;
