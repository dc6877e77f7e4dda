//! One module per subcommand. Each takes what it needs (parsed flags, the environment, writers)
//! as arguments and orchestrates the pieces in `store`, `session` and friends; none of them
//! parses text or touches AWS directly.

pub mod completions;
pub mod man;

use std::process::ExitCode;

use crate::cli::Command;
use crate::env::Env;

pub fn dispatch(command: Command, _env: &Env) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Completions { shell } => completions::run(shell, &mut out),
        Command::Man => man::run(&mut out),
    }
}
