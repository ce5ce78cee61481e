//! `syndic status`: per-source health from the store — last fetch, HTTP status, items,
//! consecutive failures, the next run and why (the daemon's own rule, computed from the
//! config and the stored state), last error. It never polls and never creates a store (opening an
//! existing one may bring its schema up to date).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{EXIT_FAILED, EXIT_OK};
use crate::config::{Config, SourceConfig, format_duration};
use crate::schedule::{History, Next, Timing};
use crate::store::{SourceState, Store};

pub fn status(config: &Config) -> u8 {
    let store = match Store::open_existing(&config.daemon.state_dir) {
        Ok(Some(store)) => store,
        Ok(None) => {
            println!(
                "No store yet in {}: nothing has been polled. Run `syndic once`.",
                config.daemon.state_dir.display()
            );
            return EXIT_OK;
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            return EXIT_FAILED;
        }
    };
    let states = match store.source_states() {
        Ok(states) => states,
        Err(e) => {
            eprintln!("error: {e:#}");
            return EXIT_FAILED;
        }
    };
    let now = Utc::now();
    println!(
        "{:<20}  {:<19}  {:>6}  {:>6}  {:>5}  {:<36}  LAST ERROR",
        "SOURCE", "LAST FETCH (UTC)", "STATUS", "ITEMS", "FAILS", "NEXT RUN (UTC)"
    );
    for source in &config.sources {
        let state = states.iter().find(|s| s.name == source.name);
        let next = next_run(source, state, now);
        println!("{}", row(&source.name, state, &next).trim_end());
    }
    for state in states.iter().filter(|s| config.source(&s.name).is_none()) {
        println!("{}", row(&state.name, Some(state), "not in the config"));
    }
    EXIT_OK
}

/// When the daemon polls `source` next, and why, as the daemon itself would decide.
fn next_run(source: &SourceConfig, state: Option<&SourceState>, now: DateTime<Utc>) -> String {
    let history = state.map_or_else(History::default, |s| History::from_state(s, &source.url));
    let timing = Timing::new(&source.schedule, source.timezone, &source.name);
    let mut text = match timing.next(&history, now) {
        Next::At(at, _) if at <= now => "now".to_string(),
        Next::At(at, reason) => format!("{} {reason}", at.format("%Y-%m-%d %H:%M:%S")),
        Next::Stopped => "stopped: 410 Gone".into(),
        Next::Never => "never: no future slot".into(),
    };
    if history.failures > 0 && !history.gone {
        let wait = timing.backoff(history.failures).as_secs();
        text.push_str(&format!(
            " (back-off {})",
            format_duration(Duration::from_secs(wait))
        ));
    }
    text
}

fn row(name: &str, state: Option<&SourceState>, next: &str) -> String {
    let Some(s) = state else {
        return format!(
            "{name:<20}  {:<19}  {:>6}  {:>6}  {:>5}  {next:<36}",
            "never polled", "-", "-", "-"
        );
    };
    let mut error = s.last_error.clone().unwrap_or_default();
    if let Some(moved) = &s.moved_to {
        error = format!("moved permanently to {moved}; {error}");
    }
    let status = match (s.last_status, s.last_fetch) {
        (Some(code), _) => code.to_string(),
        (None, Some(_)) if s.last_error.is_none() => "ok".into(),
        (None, Some(_)) => "error".into(),
        (None, None) => "-".into(),
    };
    format!(
        "{name:<20}  {:<19}  {status:>6}  {:>6}  {:>5}  {next:<36}  {}",
        time(s.last_fetch),
        s.items,
        s.failures,
        error.trim_end_matches("; ")
    )
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}
