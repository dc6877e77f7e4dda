//! Signals (Unix) and console control events (Windows) that end mfa-session without leaving
//! anything of ours behind.
//!
//! Two things must not outlive us: the process trees of the code sources and dialogs we run
//! (an `mfa_process` holding a YubiKey, a zenity dialog on screen) and, under
//! `exec --server`, the command we serve. `sys::child` registers each tree for the time it
//! runs; the handlers installed here kill every registered tree before mfa-session dies of
//! the signal it got (SIGTERM, SIGHUP, SIGINT; Ctrl-C, Ctrl-Break, a closed console), so whoever
//! sent it still sees us die of it. [`forward_to`] makes the served command decide instead,
//! and its end becomes ours ([`die_like`]).

#[cfg(unix)]
#[path = "unix/signals.rs"]
pub(super) mod imp;
#[cfg(windows)]
#[path = "windows/signals.rs"]
pub(super) mod imp;

pub use imp::{Deferred, defer, die_like, forward_to, kill_tracked};
