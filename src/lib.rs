//! syndic: a feed generator and aggregator daemon.
//!
//! It polls the sources listed in a TOML file — RSS, Atom and JSON feeds, and web pages
//! read with CSS selectors — normalises every item into one model, keeps them in an
//! embedded store, and publishes merged feeds as static files (RSS 2.0, Atom 1.0, JSON
//! Feed 1.1) plus an OPML index.
//!
//! # Layout
//!
//! - [`cli`]: command-line arguments, logging, exit codes; routes to [`cmd`].
//! - [`cmd`]: one module per subcommand (`once`, `check`, `preview`, `discover`, `status`; `run` is [`daemon`]).
//! - [`daemon`]: `syndic run`: one task per source on its schedule, coalesced publishing,
//!   reload, shutdown, systemd notifications.
//! - [`harvest`]: one poll of one source, recorded; shared by `once` and the daemon.
//! - [`config`]: the TOML file: raw serde structs, then validation into a resolved [`config::Config`].
//! - [`model`]: the one [`model::Item`] every source is normalised into.
//! - [`source`]: fetch bytes (`http`), turn them into items (`feed`, `xml`, `json`, `html`,
//!   `normalise`); fetch and extract full-text articles (`fulltext`).
//! - [`schedule`]: when each source polls next (cron, timezone, jitter, back-off).
//! - [`store`]: SQLite: items with first-seen times, per-source HTTP and health state, the
//!   full-text cache.
//! - [`pipeline`]: per output feed: select, filter, de-duplicate, sort, limit.
//! - [`publish`]: render RSS, Atom, JSON Feed and OPML; write files atomically when they change.
//! - [`stages`]: busy time per stage, for `--timings` and the benchmark.
//!
//! # Data flow
//!
//! config → schedule (when) → source (fetch → parse → normalise) → store → pipeline →
//! publish. `once` runs the middle once for every source; the daemon runs it per source on
//! its schedule and re-publishes what changed.
//! Everything between fetch and render is pure functions over values; I/O sits at the ends.

pub mod cli;
pub mod cmd;
pub mod config;
pub mod daemon;
pub mod harvest;
pub mod model;
pub mod pipeline;
pub mod publish;
pub mod schedule;
pub mod source;
pub mod stages;
pub mod store;
#[cfg(test)]
mod testing;
