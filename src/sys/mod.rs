//! The platform seam: the one place where raw OS calls (`libc`, `std::os::unix`,
//! `std::os::windows`, `windows-sys`) appear. Everything above it calls the portable functions
//! here and never writes `cfg` (a test, `tests/it/platform.rs`, fails when a raw call appears
//! outside `src/sys/`).
//!
//! Each module below is the portable API with its documentation and shared types; its
//! implementation is one file per family, `unix/<module>.rs` or `windows/<module>.rs`, chosen
//! once with `#[cfg] #[path] mod imp` (as ripgrep and aws-vault's `*_unix.go` /
//! `*_windows.go` do). Both families are compiled and linted by `scripts/check-platforms`, so
//! their APIs cannot drift apart. What each platform gets where they differ (core dumps, a
//! parent's death, file ownership, the terminal) is in `docs/security.md`.

/// Whether this build is for Windows, for the few portable decisions that differ there (where
/// the home and the cache directory are): the one `cfg` callers see, as a value.
pub const WINDOWS: bool = cfg!(windows);

/// Whether this build is for macOS (where `auto` prompts fall back to osascript).
pub const MACOS: bool = cfg!(target_os = "macos");

pub mod child;
pub mod dialog;
pub mod fs;
pub mod owner;
pub mod process;
pub mod run;
pub mod signals;
pub mod terminal;

/// Job Objects, which several Windows implementations share.
#[cfg(windows)]
#[path = "windows/job.rs"]
mod job;
