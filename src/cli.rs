//! Command-line definitions, and nothing else: what each command and flag means is documented
//! here because this text is the `--help`, the man page and the shell completions.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "mfa-session",
    version,
    about = "MFA-backed AWS STS sessions in ~/.aws/credentials",
    long_about = "MFA-backed AWS STS sessions in ~/.aws/credentials.\n\n\
        When an IAM policy denies everything unless MFA is present, plain access keys stop \
        working for the AWS CLI, SDKs and batch jobs. mfa-session keeps your long-term keys in \
        [PROFILE-long-term], trades them plus a one-time code for temporary STS session \
        credentials, and writes those into [PROFILE] with their expiration, without touching \
        any other line of your files.\n\n\
        Files: AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials) and AWS_CONFIG_FILE \
        (default ~/.aws/config). Profile: --profile, else AWS_PROFILE, else \"default\".",
    after_help = "Exit codes: 0 success, 1 failure, 2 usage error, 3 a file could not be read, \
        parsed or written (it was left unchanged), 4 refused to overwrite long-term keys or to \
        store an unreadable value.\n\nSee `mfa-session man` for the full manual."
)]
pub struct Cli {
    /// More diagnostics on stderr: -v info, -vv debug, -vvv trace. Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a shell completion script.
    ///
    /// bash: `mfa-session completions bash > ~/.local/share/bash-completion/completions/mfa-session`
    /// zsh: `mfa-session completions zsh > "${fpath[1]}/_mfa-session"`
    /// fish: `mfa-session completions fish > ~/.config/fish/completions/mfa-session.fish`
    #[command(verbatim_doc_comment)]
    Completions {
        /// The shell to generate for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    ///
    /// Install it with `mfa-session man > ~/.local/share/man/man1/mfa-session.1`.
    Man,
}
