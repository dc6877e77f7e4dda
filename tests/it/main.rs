//! The one integration test binary. Each module drives the built `mfa-session` (or the library's
//! pure pieces) the way a user or another tool would; `common` is the shared harness: a private
//! HOME per test, the moto emulator, IAM users with real MFA devices, a hostile fake endpoint.
//! One binary instead of one per file: the AWS SDK is linked once, not eleven times.

// Unix-only modules, tests and helpers (signals, ptys, `setsid`, file modes and owners,
// `/dev/tty`, `sh` scripts as code sources, the Secret Service, X dialogs, /proc) are gated with
// `#[cfg(unix)]`; what stays ungated is meant to build and run on Windows too (issue 18).

// Test code may cast freely: see [lints] in Cargo.toml.
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]

mod common;

#[cfg(unix)]
mod caches;
#[cfg(unix)]
mod chains;
mod cli;
mod conformance;
mod console;
#[cfg(unix)]
mod devices;
#[cfg(unix)]
mod doctor;
mod editor_props;
mod hardening;
mod login;
mod platform;
mod policy;
#[cfg(unix)]
mod prompts;
#[cfg(unix)]
mod refresh;
mod roles;
#[cfg(unix)]
mod server;
mod sessions;
#[cfg(unix)]
mod setup;
mod store_fs;
mod tls;
// The Windows binary under wine, driven from Linux (issue 19).
#[cfg(unix)]
mod wine;
