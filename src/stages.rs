//! Where the time goes: busy time per stage of a poll and a publish (fetch, parse,
//! normalise, store, render, write), summed over the threads that did the work, for
//! `syndic once --timings` and `syndic publish --timings` and the benchmark
//! (`tests/bench/run.py`) that reads them.
//!
//! Counters are process-wide atomics; adding to one costs two clock reads, so they are
//! always on. Busy times of stages that run in parallel add up to more than wall time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One stage of the work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Waiting for a server's answer and reading its body.
    Fetch,
    /// Decoding and parsing a document.
    Parse,
    /// Entries to items: ids, URLs, sanitising.
    Normalise,
    /// Writing a poll to the store.
    Store,
    /// Reading items back from the store and choosing each feed's.
    Select,
    /// Rendering RSS, Atom, JSON Feed and OPML.
    Render,
    /// Writing the files.
    Write,
}

const ALL: [Stage; 7] = [
    Stage::Fetch,
    Stage::Parse,
    Stage::Normalise,
    Stage::Store,
    Stage::Select,
    Stage::Render,
    Stage::Write,
];

static NANOS: [AtomicU64; 7] = [const { AtomicU64::new(0) }; 7];

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Fetch => "fetch",
            Stage::Parse => "parse",
            Stage::Normalise => "normalise",
            Stage::Store => "store",
            Stage::Select => "select",
            Stage::Render => "render",
            Stage::Write => "write",
        }
    }
}

/// Adds `took` to `stage`.
pub fn add(stage: Stage, took: Duration) {
    let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
    NANOS[stage as usize].fetch_add(nanos, Ordering::Relaxed);
}

/// Counts the time from its creation to its drop to a stage: for a function with many
/// exits.
pub struct Timer {
    stage: Stage,
    started: Instant,
}

impl Timer {
    pub fn start(stage: Stage) -> Timer {
        Timer {
            stage,
            started: Instant::now(),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        add(self.stage, self.started.elapsed());
    }
}

/// Runs `work`, counting its time to `stage`.
pub fn timed<T>(stage: Stage, work: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = work();
    add(stage, started.elapsed());
    out
}

/// Busy seconds per stage so far, as one JSON object (`{"fetch":1.234,…}`).
pub fn report() -> String {
    let fields: Vec<String> = ALL
        .iter()
        .map(|s| {
            let nanos = NANOS[*s as usize].load(Ordering::Relaxed);
            format!("\"{}\":{:.6}", s.name(), nanos as f64 / 1e9)
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_added_to_its_stage_and_reported_as_json() {
        add(Stage::Render, Duration::from_millis(1500));
        let value = timed(Stage::Write, || 7);
        assert_eq!(value, 7);
        let report: serde_json::Value = serde_json::from_str(&report()).unwrap();
        assert!(report["render"].as_f64().unwrap() >= 1.5);
        assert_eq!(report.as_object().unwrap().len(), ALL.len());
    }
}
