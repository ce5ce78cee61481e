//! `syndic status`: per-source health from the store — last fetch, HTTP status, items,
//! consecutive failures, last error. It never polls and never creates a store (opening an
//! existing one may bring its schema up to date).

use chrono::{DateTime, Utc};

use super::{EXIT_FAILED, EXIT_OK};
use crate::config::Config;
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
    println!(
        "{:<20}  {:<20}  {:>6}  {:>6}  {:>5}  LAST ERROR",
        "SOURCE", "LAST FETCH (UTC)", "STATUS", "ITEMS", "FAILS"
    );
    for source in &config.sources {
        let state = states.iter().find(|s| s.name == source.name);
        println!("{}", row(&source.name, state));
    }
    for state in states.iter().filter(|s| config.source(&s.name).is_none()) {
        println!("{}  (not in the config)", row(&state.name, Some(state)));
    }
    EXIT_OK
}

fn row(name: &str, state: Option<&SourceState>) -> String {
    let Some(s) = state else {
        return format!("{name:<20}  {:<20}", "never polled");
    };
    let status = match (s.last_status, s.last_fetch) {
        (Some(code), _) => code.to_string(),
        (None, Some(_)) if s.last_error.is_none() => "ok".into(),
        (None, Some(_)) => "error".into(),
        (None, None) => "-".into(),
    };
    format!(
        "{name:<20}  {:<20}  {status:>6}  {:>6}  {:>5}  {}",
        time(s.last_fetch),
        s.items,
        s.failures,
        s.last_error.as_deref().unwrap_or("")
    )
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}
