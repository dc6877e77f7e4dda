//! Diagnostics go to stderr through `tracing`, never to stdout, which carries only data
//! (exports, JSON) that shells and SDKs parse.
//!
//! Levels: `-q` errors only, default warnings, `-v` info, `-vv` debug, `-vvv` trace. Secrets are
//! never logged at any level: the types that hold them redact their `Debug` output.

use std::io::IsTerminal;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

use crate::env::Env;

pub fn level(verbose: u8, quiet: bool) -> LevelFilter {
    match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::INFO,
        (false, 2) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    }
}

pub fn init(verbose: u8, quiet: bool, env: &Env) {
    let colour = !env.no_color && std::io::stderr().is_terminal();
    let ours = level(verbose, quiet);
    // The SDK's own events stop at info: at debug and trace it logs request and response
    // details that we do not control, and secrets must never reach stderr.
    let sdk = ours.min(LevelFilter::INFO);
    let filter = Targets::new()
        .with_target("mfa_session", ours)
        .with_default(sdk);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false);
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .try_init();
}
