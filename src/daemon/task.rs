//! One source's life in the daemon: wait for its next poll (see [`crate::schedule`]), poll
//! and record it through [`crate::harvest`], ask for the feeds that include it to be
//! re-published when something changed, and again — until told to stop.
//!
//! Stopping is two-staged. `stop` ends the wait between polls at once but lets a poll in
//! flight finish; the daemon's hard stop (after the grace period) abandons a fetch still in
//! flight. Once a document has been fetched and read, its items are always recorded.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use super::Shared;
use super::publisher::Request;
use crate::config::SourceConfig;
use crate::harvest::{self, Outcome, report};
use crate::schedule::{History, Next, Timing};
use crate::source::http::{Fetcher, Limits, Validators};
use crate::source::{PollError, Polled};

/// What a fetch brought, and how long it took.
pub(crate) type Fetched = (Result<Polled, PollError>, Duration);

/// Fetches and reads one source (`None`: abandoned when the token fired before the bytes
/// were in). The real one goes to the network; tests script it.
pub(crate) type FetchFn = Arc<
    dyn Fn(
            SourceConfig,
            Validators,
            DateTime<Utc>,
            CancellationToken,
        ) -> Pin<Box<dyn Future<Output = Option<Fetched>> + Send>>
        + Send
        + Sync,
>;

/// The network fetch, within the daemon's limits.
pub(crate) fn network(fetcher: Fetcher, limits: Arc<Limits>) -> FetchFn {
    Arc::new(move |source, validators, now, abandon| {
        let (fetcher, limits) = (fetcher.clone(), limits.clone());
        Box::pin(async move {
            harvest::fetch(&fetcher, &limits, &source, &validators, now, &abandon).await
        })
    })
}

/// Runs `source` until `stop` (or the daemon's hard stop).
pub(crate) async fn run(
    shared: Arc<Shared>,
    source: SourceConfig,
    fetch: FetchFn,
    stop: CancellationToken,
) {
    let name = source.name.clone();
    let state = match shared.with_store(move |s| s.source_state(&name)).await {
        Ok(state) => state,
        Err(e) => {
            error!(source = %source.name, error = %format!("{e:#}"), "Cannot read the source's state; not polling it.");
            return;
        }
    };
    let mut history = History::from_state(&state, &source.url);
    let mut moved_to = state.moved_to;
    let timing = Timing::new(
        &source.schedule,
        source.timezone,
        &source.name,
        shared.clock.now(),
    );
    shared.health().set(&source.name, &history);
    loop {
        match timing.next(&history, shared.clock.now()) {
            Next::Stopped => {
                error!(source = %source.name, url = %source.url, "Source is gone (HTTP 410): not polling it again until its url changes. `syndic once` tries it once more.");
                return;
            }
            Next::Never => {
                warn!(source = %source.name, schedule = %source.schedule.text, "The schedule has no future run: source not polled.");
                return;
            }
            Next::At(at, reason) => {
                debug!(source = %source.name, at = %at, %reason, "Next poll.");
                tokio::select! {
                    biased;
                    () = stop.cancelled() => return,
                    () = shared.clock.sleep_until(at) => {}
                }
            }
        }
        let now = shared.clock.now();
        let Some(outcome) = poll_once(&shared, &source, &fetch, &history, now).await else {
            return;
        };
        report(&source, &outcome, &mut moved_to);
        history = outcome.history;
        shared.health().set(&source.name, &history);
        shared.status();
        let changes = outcome.changes;
        if changes.new + changes.updated + changes.removed > 0 {
            shared.publish(Request::Source(source.name.clone()));
        }
        if stop.is_cancelled() {
            return;
        }
    }
}

/// One poll, recorded. `None` when the hard stop came before the fetch finished.
async fn poll_once(
    shared: &Arc<Shared>,
    source: &SourceConfig,
    fetch: &FetchFn,
    history: &History,
    now: DateTime<Utc>,
) -> Option<Outcome> {
    let name = source.name.clone();
    let validators = shared
        .with_store(move |s| s.validators(&name))
        .await
        .unwrap_or_default();
    let abandon = shared.hard_stop.clone();
    let Some((result, elapsed)) = fetch(source.clone(), validators, now, abandon).await else {
        info!(source = %source.name, "Shutting down: abandoned a fetch in flight.");
        return None;
    };
    let (task_source, before) = (source.clone(), history.clone());
    let ceiling = shared.config().daemon.cache_ceiling;
    let recorded = shared
        .with_store(move |s| harvest::record(s, &task_source, result, now, &before, ceiling))
        .await;
    match recorded {
        Ok(mut outcome) => {
            outcome.elapsed = elapsed;
            Some(outcome)
        }
        Err(e) => {
            // The store could not be written: count it as a failure so the source backs off
            // instead of fetching again at once.
            error!(source = %source.name, error = %format!("{e:#}"), "Cannot record the poll in the store.");
            Some(Outcome {
                status: None,
                changes: Default::default(),
                failed: true,
                error: Some(format!("{e:#}")),
                moved_to: None,
                history: History {
                    last_fetch: Some(now),
                    failures: history.failures.saturating_add(1),
                    ..history.clone()
                },
                elapsed,
            })
        }
    }
}
