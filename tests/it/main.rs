//! The one integration test binary. Each module drives the built `mfa-session` (or the library's
//! pure pieces) the way a user or another tool would; `common` is the shared harness: a private
//! HOME per test, the moto emulator, IAM users with real MFA devices, a hostile fake endpoint.
//! One binary instead of one per file: the AWS SDK is linked once, not eleven times.

// Test code may cast freely: see [lints] in Cargo.toml.
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]

mod common;

mod caches;
mod cli;
mod conformance;
mod doctor;
mod editor_props;
mod hardening;
mod login;
mod platform;
mod policy;
mod prompts;
mod refresh;
mod roles;
mod server;
mod sessions;
mod setup;
mod store_fs;
mod tls;
