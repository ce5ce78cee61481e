//! The command line: arguments, logging to stderr, and the exit code.
//!
//! Parsing only: each subcommand's work lives in its own module under [`crate::cmd`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cmd;
use crate::source::http::reading_turns;

/// syndic turns feeds into merged RSS, Atom and JSON feeds.
#[derive(Debug, Parser)]
#[command(name = "syndic", version, about, long_about = None)]
pub struct Cli {
    /// Config file [default: $SYNDIC_CONFIG, else ./syndic.toml, else /etc/syndic/syndic.toml]
    #[arg(short, long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: poll each source on its schedule, publish, reload on SIGHUP or when
    /// the file changes, stop on SIGTERM (exit 0)
    Run,
    /// Poll every source once, publish, exit: 0 all ok, 1 some source failed, 2 config error
    Once {
        /// Print the busy time of each stage (fetch, parse, normalise, store, select,
        /// render, write) to stderr at the end, as one `timings {JSON}` line
        #[arg(long)]
        timings: bool,
    },
    /// Publish every feed from the store without polling (after editing `[[feed]]`s, say):
    /// 0 ok, 1 a file could not be written, 2 config error
    Publish {
        /// Print the busy time of each stage to stderr at the end, as for `once`
        #[arg(long)]
        timings: bool,
    },
    /// Validate the config and print every problem: 0 valid, 2 not
    Check,
    /// Fetch and parse one source (a configured NAME, a URL or a PATH) without touching the store
    Preview {
        /// A source name from the config, an http(s) URL, or a file path
        target: String,
        /// Print a JSON Feed 1.1 document instead of a table
        #[arg(long)]
        json: bool,
    },
    /// List the feeds a web page links to (<link rel="alternate">): 0 found, 1 none or the
    /// fetch failed
    Discover {
        /// An http(s) URL or a file path
        target: String,
    },
    /// Per-source health from the store: last fetch, HTTP status, last error, items
    Status,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    // Parsing and the store run on blocking threads. Tokio's default of 512 lets a
    // thousand sources polled at once start hundreds of threads, each holding its document
    // (and, under glibc's malloc where this was measured, its own arena) while it waits for
    // the store: twice the peak memory for no speed, measured with 1000 sources. Beyond the
    // feeds being read, a thread per core is left for the store's writer and readers and for
    // full-text extraction.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(reading_turns() + cores.clamp(2, 16))
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(cmd::EXIT_FAILED);
        }
    };
    ExitCode::from(run_to_end(runtime, cmd::run(cli)))
}

/// Runs `command` on `runtime`, then leaves without joining the runtime's threads. Every
/// command waits for its own polls and publishing, and closes its store, before it
/// returns; what the runtime still holds then is threads parked for more, which dropping
/// it joined one by one (about 4 ms of each `syndic once`, from its last commit to its
/// exit by strace timestamps: 33.8 ms against 30.0 ms, medians of six), and blocking work
/// whose task was dropped (an article's extraction after the daemon stopped its fetches,
/// a DNS lookup of a cancelled fetch), which ends with the process instead of holding up
/// its exit. A command must not return while anything it started still writes the store
/// or a published file: that would be cut off here.
fn run_to_end(runtime: tokio::runtime::Runtime, command: impl Future<Output = u8>) -> u8 {
    let code = runtime.block_on(command);
    runtime.shutdown_background();
    code
}

/// Logs go to stderr (journald picks them up); `RUST_LOG` filters, default `info`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// A command that returns leaves at once, whatever it left running on the runtime.
    #[test]
    fn a_command_that_returns_does_not_wait_for_work_it_left() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = Instant::now();
        let code = run_to_end(runtime, async {
            // Abandoned: nothing awaits it.
            drop(tokio::task::spawn_blocking(|| {
                std::thread::sleep(Duration::from_secs(60))
            }));
            7
        });
        assert_eq!(code, 7);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "waited {:?} for abandoned work",
            started.elapsed()
        );
    }
}
