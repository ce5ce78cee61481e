//! Subcommands: one module each, routed by the closed [`Command`] enum. They share the
//! config lookup and the exit codes.

mod check;
mod discover;
mod once;
mod preview;
mod status;

use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command};
use crate::config::Config;

/// Everything worked.
pub const EXIT_OK: u8 = 0;
/// Something failed at run time (a source, a fetch); what could be done was done.
pub const EXIT_FAILED: u8 = 1;
/// The config or the command line is wrong; nothing was done.
pub const EXIT_USAGE: u8 = 2;

/// Runs `cli`'s subcommand and returns its exit code.
pub async fn run(cli: Cli) -> u8 {
    let explicit = cli.config.as_deref();
    match cli.command {
        Command::Run => match config_path(explicit) {
            Ok(path) => match Config::load(&path) {
                Ok(config) => crate::daemon::run(path, config).await,
                Err(e) => {
                    eprintln!("error: {e}");
                    EXIT_USAGE
                }
            },
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_USAGE
            }
        },
        Command::Once { timings } => match load(explicit) {
            Ok(config) => with_timings(timings, once::once(&config).await),
            Err(code) => code,
        },
        Command::Publish { timings } => match load(explicit) {
            Ok(config) => with_timings(timings, once::publish_only(&config)),
            Err(code) => code,
        },
        Command::Check => check::check(explicit),
        Command::Preview { target, json } => preview::preview(explicit, &target, json).await,
        Command::Discover { target } => discover::discover(explicit, &target).await,
        Command::Status => match load(explicit) {
            Ok(config) => status::status(&config),
            Err(code) => code,
        },
    }
}

/// Prints the stage timings when asked, and passes the exit code on.
fn with_timings(timings: bool, code: u8) -> u8 {
    if timings {
        eprintln!("timings {}", crate::stages::report());
    }
    code
}

/// The config file to use: `-c`, else `$SYNDIC_CONFIG`, else `./syndic.toml`, else
/// `/etc/syndic/syndic.toml`. A path named explicitly is used even if it does not exist,
/// so the error names it.
pub fn config_path(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os("SYNDIC_CONFIG").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let candidates = [
        Path::new("syndic.toml"),
        Path::new("/etc/syndic/syndic.toml"),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .map(|p| p.to_path_buf())
        .ok_or_else(|| {
            "no config file: pass -c PATH, set SYNDIC_CONFIG, or create ./syndic.toml or /etc/syndic/syndic.toml".into()
        })
}

/// Finds and validates the config, printing every problem; the exit code on failure.
fn load(explicit: Option<&Path>) -> Result<Config, u8> {
    let path = config_path(explicit).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_USAGE
    })?;
    Config::load(&path).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_USAGE
    })
}
