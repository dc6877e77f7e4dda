//! Exit codes, in one place, so scripts and monitoring can rely on them.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | any other failure |
//! | 2 | usage error: unknown flag, bad value (clap reports these) |
//! | 3 | a credentials or config file could not be read, parsed or written; it was not changed |
//! | 4 | refused: the edit would overwrite long-term keys or store a value the SDKs would misread |
//!
//! The same table is in the README; a test keeps the two in step.

use std::process::ExitCode;

use crate::store::StoreError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Success = 0,
    Failure = 1,
    Usage = 2,
    File = 3,
    Refused = 4,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// The exit code for an error: decided by the first error kind in its chain that we know.
pub fn code_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return match e {
                StoreError::LongTermKeys { .. } | StoreError::Edit(_) => Exit::Refused,
                _ => Exit::File,
            };
        }
    }
    Exit::Failure
}

/// One line: the context we added, then the causes, joined — `anyhow`'s `{:#}`.
pub fn describe(err: &anyhow::Error) -> String {
    format!("{err:#}")
}
