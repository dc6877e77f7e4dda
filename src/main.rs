//! Entry point: run, and turn an error into one line on stderr and a documented exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match mfa_session::run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("mfa-session: {}", mfa_session::error::describe(&err));
            mfa_session::error::code_for(&err).into()
        }
    }
}
