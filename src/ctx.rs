//! What every command and the provider layer may need, resolved once at start-up: the
//! environment (read in one place, [`crate::env`]), the file paths it implies, the long-term
//! section suffix and whether the person asked for quiet. Commands build it; providers receive
//! it, so nothing below the command layer reads the process environment or knows about flags.

use std::path::PathBuf;

use crate::env::Env;

#[derive(Clone, Debug)]
pub struct Ctx {
    pub env: Env,
    pub quiet: bool,
    pub long_term_suffix: String,
    pub credentials_path: Option<PathBuf>,
    pub config_path: Option<PathBuf>,
}

impl Ctx {
    pub fn new(env: Env, quiet: bool, long_term_suffix: String) -> Ctx {
        Ctx {
            credentials_path: env.credentials_path(),
            config_path: env.config_path(),
            env,
            quiet,
            long_term_suffix,
        }
    }

    /// A status line for the person running the command: stderr, silenced by -q.
    pub fn say(&self, line: &str) {
        if !self.quiet {
            eprintln!("mfa-session: {line}");
        }
    }

    /// `[P-long-term]`'s name for profile `p`.
    pub fn long_term(&self, profile: &str) -> String {
        format!("{profile}{}", self.long_term_suffix)
    }
}
