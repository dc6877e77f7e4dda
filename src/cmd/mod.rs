//! One module per subcommand. Each takes what it needs (parsed flags, a [`Ctx`] with the
//! environment, writers) as arguments and orchestrates the pieces in `store`, `session`, `mfa`
//! and `aws`; none of them parses text or builds SDK clients itself.

pub mod completions;
pub mod login;
pub mod man;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::Command;
use crate::env::Env;

/// What every command may need, resolved once.
#[derive(Debug)]
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
}

pub fn dispatch(command: Command, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Login(args) => login::run(&args, ctx),
        Command::Completions { shell } => completions::run(shell, &mut out),
        Command::Man => man::run(&mut out),
    }
}
