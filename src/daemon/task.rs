//! One source's life in the daemon: wait for its next poll (see [`crate::schedule`]), poll
//! and record it through [`crate::harvest`], ask for the feeds that include it to be
//! re-published when something changed, and again — until told to stop.
//!
//! A poll of a full-text source whose listing has items without their article (new ones,
//! or ones whose page was never fetched) starts a background task (tracked with the others)
//! that fetches those pages and asks for a re-publish once they are in; the source's
//! schedule does not wait for it. One such task runs per source at a time.
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
use crate::harvest::{self, Fetched, Outcome, report};
use crate::schedule::{History, Next, Timing};
use crate::source::fulltext::{self, Extracted};
use crate::source::http::{Fetcher, Limits, Validators};
use crate::store::Wanted;

/// Fetches and reads one source: `None` when it gave up (the first token fired while it
/// waited for a fetch slot, or the second before the bytes were in). The real one goes to
/// the network; tests script it.
pub(crate) type FetchFn = Arc<
    dyn Fn(
            SourceConfig,
            Validators,
            DateTime<Utc>,
            CancellationToken,
            CancellationToken,
        ) -> Pin<Box<dyn Future<Output = Option<Fetched>> + Send>>
        + Send
        + Sync,
>;

/// The network fetch, within the daemon's limits.
pub(crate) fn network(fetcher: Fetcher, limits: Arc<Limits>) -> FetchFn {
    Arc::new(move |source, validators, now, waiting, abandon| {
        let (fetcher, limits) = (fetcher.clone(), limits.clone());
        Box::pin(async move {
            let (waiting, abandon) = (&waiting, &abandon);
            harvest::fetch(
                &fetcher,
                &limits,
                &source,
                &validators,
                now,
                waiting,
                abandon,
            )
            .await
        })
    })
}

/// Fetches and extracts the articles of a source's wanted items, until the token fires
/// (pages not done by then are left out).
pub(crate) type ArticlesFn = Arc<
    dyn Fn(
            SourceConfig,
            Vec<Wanted>,
            CancellationToken,
        ) -> Pin<Box<dyn Future<Output = Vec<(Wanted, Extracted)>> + Send>>
        + Send
        + Sync,
>;

/// The network's article fetches, within the same limits as the polls.
pub(crate) fn articles(fetcher: Fetcher, limits: Arc<Limits>) -> ArticlesFn {
    Arc::new(move |source, wanted, abandon| {
        let (fetcher, limits) = (fetcher.clone(), limits.clone());
        Box::pin(
            async move { fulltext::fetch_all(&fetcher, &limits, &source, wanted, &abandon).await },
        )
    })
}

/// How long a source waits before asking the store for its state again.
const STATE_RETRY: Duration = Duration::from_secs(30);

/// Runs `source` until `stop` (or the daemon's hard stop).
pub(crate) async fn run(
    shared: Arc<Shared>,
    source: SourceConfig,
    fetch: FetchFn,
    articles: ArticlesFn,
    stop: CancellationToken,
) {
    // The store may be briefly unavailable (locked, disk full): try again, never give up
    // on the source.
    let state = loop {
        let name = source.name.clone();
        match shared.with_store(move |s| s.source_state(&name)).await {
            Ok(state) => break state,
            Err(e) => {
                error!(source = %source.name, error = %format!("{e:#}"), retry_in = ?STATE_RETRY, "Cannot read the source's state.");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(STATE_RETRY) => {}
                }
            }
        }
    };
    let mut history = History::from_state(&state, &source.url);
    let mut moved_to = state.moved_to.clone().filter(|_| state.is_for(&source.url));
    let timing = Timing::new(&source.schedule, source.timezone, &source.name);
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
        // Asked before the poll: fetches that end while it is recorded may have stored an
        // article after the poll found it missing.
        let articles_idle = shared.articles_idle(&source.name);
        let Some(mut outcome) = poll_once(&shared, &source, &fetch, &history, now, &stop).await
        else {
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
        // Items whose article has not been fetched are wanted at every poll until it is;
        // while earlier fetches of the source go on, this poll's are left to the next.
        let wanted = std::mem::take(&mut outcome.wanted);
        if !wanted.is_empty() && articles_idle {
            let job = full_text(shared.clone(), source.clone(), articles.clone(), wanted);
            shared.articles_started(&source.name, shared.tracker.spawn(job));
        }
        if stop.is_cancelled() {
            return;
        }
    }
}

/// Fetches the articles of `wanted` items, records them, and asks for the source's feeds
/// to be re-published when any item got its article. The hard stop abandons it.
async fn full_text(
    shared: Arc<Shared>,
    source: SourceConfig,
    articles: ArticlesFn,
    wanted: Vec<Wanted>,
) {
    let asked = wanted.len();
    let done = articles(source.clone(), wanted, shared.hard_stop.clone()).await;
    if done.len() < asked {
        info!(source = %source.name, abandoned = asked - done.len(), "Shutting down: abandoned article fetches in flight.");
    }
    let (name, now) = (source.name.clone(), shared.clock.now());
    match shared
        .with_store(move |s| fulltext::record(s, &name, done, now))
        .await
    {
        Ok(0) => {}
        Ok(applied) => {
            info!(source = %source.name, articles = applied, "Fetched full text.");
            shared.publish(Request::Source(source.name.clone()));
        }
        Err(e) => {
            error!(source = %source.name, error = %format!("{e:#}"), "Cannot record full text in the store.")
        }
    }
}

/// One poll, recorded. `None` when `stop` came while it waited for a fetch slot, or the
/// hard stop before the fetch finished.
async fn poll_once(
    shared: &Arc<Shared>,
    source: &SourceConfig,
    fetch: &FetchFn,
    history: &History,
    now: DateTime<Utc>,
    stop: &CancellationToken,
) -> Option<Outcome> {
    let (name, url) = (source.name.clone(), source.url.to_string());
    let validators = shared
        .with_store(move |s| s.validators(&name, &url))
        .await
        .unwrap_or_default();
    let (waiting, abandon) = (stop.clone(), shared.hard_stop.clone());
    let Some(fetched) = fetch(source.clone(), validators, now, waiting, abandon).await else {
        if shared.hard_stop.is_cancelled() {
            info!(source = %source.name, "Shutting down: abandoned a fetch in flight.");
        }
        return None;
    };
    let elapsed = fetched.elapsed;
    let recorded = shared
        .record(source.clone(), fetched, now, history.clone())
        .await;
    match recorded {
        Ok(outcome) => Some(outcome),
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
                wanted: Vec::new(),
                elapsed,
            })
        }
    }
}
