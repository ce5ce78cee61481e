//! `syndic once`: poll every source once (honouring stored validators), record the results,
//! publish every feed, exit. The daemon runs the same steps on a schedule.
//!
//! New items of full-text sources get their articles before anything is published, so one
//! run publishes full text; those page fetches share the polls' limits.
//!
//! A failing source is logged and recorded with its cause; its stored items stay published
//! and every other source goes on. Exit 1 when any source failed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{SubsecRound, Utc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use super::{EXIT_FAILED, EXIT_OK};
use crate::config::Config;
use crate::harvest::{self, Fetched, report};
use crate::publish::feeds::publish;
use crate::schedule::History;
use crate::source::http::{Fetcher, Limits};
use crate::source::{PollError, fulltext};
use crate::store::{SourceState, Store};

/// At most this many finished polls are taken at once before they are recorded.
const MAX_BATCH: usize = 256;

/// Polls are recorded as they finish into a transaction committed this long after it was
/// opened (or when the last poll is in): see [`Store::begin_batch`]. A crash loses about
/// this much recording (and the polls that finished meanwhile), which the next run polls
/// again.
const COMMIT_EVERY: Duration = Duration::from_secs(1);

pub async fn once(config: &Config) -> u8 {
    match run(config).await {
        Ok(0) => EXIT_OK,
        Ok(_) => EXIT_FAILED,
        Err(e) => {
            error!(error = %format!("{e:#}"), "syndic once failed.");
            EXIT_FAILED
        }
    }
}

/// `syndic publish`: every feed from the store as it is, no polling.
pub fn publish_only(config: &Config) -> u8 {
    let started = Instant::now();
    let now = Utc::now().trunc_subsecs(0);
    // Never from an empty store: a mistyped state_dir would replace every published
    // feed with an empty one.
    let dir = &config.daemon.state_dir;
    let written = match Store::open_existing(dir) {
        Ok(Some(store)) => publish(config, &store, now),
        Ok(None) => Err(anyhow::anyhow!(
            "no store in {}: nothing was ever polled there (run `syndic once` first)",
            dir.display()
        )),
        Err(e) => Err(e),
    };
    match written {
        Ok(written) => {
            let changed = written.iter().filter(|w| w.changed).count();
            let ms = started.elapsed().as_millis() as u64;
            info!(files = written.len(), changed, ms, "Published.");
            EXIT_OK
        }
        Err(e) => {
            error!(error = %format!("{e:#}"), "syndic publish failed.");
            EXIT_FAILED
        }
    }
}

/// Polls, records and publishes; returns how many sources failed.
async fn run(config: &Config) -> anyhow::Result<usize> {
    let started = Instant::now();
    let now = Utc::now().trunc_subsecs(0);
    // A store that does not exist yet holds no validators, so the polls start while it is
    // made (its syncs, on one thread while the other core idled, had held the first request
    // of the 5000-feed benchmark back by 8 ms); they wait for it only to be recorded. If
    // another process makes it meanwhile, these polls ask without validators: whole bodies
    // rather than 304s, recorded all the same.
    let dir = &config.daemon.state_dir;
    let fresh = !Store::exists(dir);
    let mut opening = Opening::start(dir.clone());
    let mut states: HashMap<String, SourceState> = HashMap::new();
    if !fresh {
        let store = opening.store().await?;
        states = (store.source_states_uncounted()?.into_iter())
            .map(|s| (s.name.clone(), s))
            .collect();
    }
    let fetcher = Fetcher::new(&config.daemon)?;
    let limits = Arc::new(Limits::new(
        config.daemon.concurrency,
        config.daemon.per_host,
    ));

    let never = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let mut task_sources = HashMap::new();
    for source in &config.sources {
        let state = states.remove(&source.name).unwrap_or_default();
        let (fetcher, limits, task_source) = (fetcher.clone(), limits.clone(), source.clone());
        let never = never.clone();
        let task = tasks.spawn(async move {
            // Validators issued for another URL are not sent to this one.
            let validators = match state.is_for(&task_source.url) {
                true => state.validators.clone(),
                false => Default::default(),
            };
            let fetched = harvest::fetch(
                &fetcher,
                &limits,
                &task_source,
                &validators,
                now,
                &never,
                &never,
            )
            .await;
            let fetched = fetched.expect("once never abandons a fetch");
            (fetched, state)
        });
        task_sources.insert(task.id(), source);
    }

    let store = opening.store().await?;
    let mut failed = 0;
    let (mut new, mut updated) = (0, 0);
    let mut articles = JoinSet::new();
    // When the open transaction was opened, and what it holds.
    let mut opened: Option<Instant> = None;
    let mut uncommitted = Vec::new();
    loop {
        // The next finished poll; `None` when the open transaction is due first.
        let joined = match opened {
            Some(opened) => tokio::select! {
                joined = tasks.join_next_with_id() => Some(joined),
                () = tokio::time::sleep_until((opened + COMMIT_EVERY).into()) => None,
            },
            None => Some(tasks.join_next_with_id().await),
        };
        if let Some(Some(joined)) = joined {
            let mut ready = vec![joined];
            while ready.len() < MAX_BATCH
                && let Some(joined) = tasks.try_join_next_with_id()
            {
                ready.push(joined);
            }
            if opened.is_none() {
                store.begin_batch()?;
                opened = Some(Instant::now());
            }
            for joined in ready {
                // A poll that panicked (a bug) fails its source, not the run.
                let (source, fetched, state) = match joined {
                    Ok((id, (fetched, state))) => (task_sources[&id], fetched, state),
                    Err(e) => {
                        let fetched = Fetched {
                            result: Err(PollError::Internal(e.to_string())),
                            encoded: None,
                            elapsed: Duration::ZERO,
                            held: None,
                        };
                        (task_sources[&e.id()], fetched, SourceState::default())
                    }
                };
                let before = History::from_state(&state, &source.url);
                let ceiling = config.daemon.cache_ceiling;
                let outcome = harvest::record(store, source, fetched, now, &before, ceiling)?;
                uncommitted.push((source, state, outcome));
            }
        }
        let finished = tasks.is_empty();
        if opened.is_some_and(|o| o.elapsed() < COMMIT_EVERY) && !finished {
            continue;
        }
        if opened.take().is_some() {
            store.commit_batch()?;
        }
        // Reported once committed: a poll logged as recorded is in the store.
        for (source, state, outcome) in uncommitted.drain(..) {
            let mut moved_to = state.moved_to.clone().filter(|_| state.is_for(&source.url));
            report(source, &outcome, &mut moved_to);
            new += outcome.changes.new;
            updated += outcome.changes.updated;
            if outcome.error.is_some() {
                failed += 1;
            }
            if !outcome.wanted.is_empty() {
                let (fetcher, limits, source) = (fetcher.clone(), limits.clone(), source.clone());
                let never = never.clone();
                articles.spawn(async move {
                    let wanted = outcome.wanted;
                    let done =
                        fulltext::fetch_all(&fetcher, &limits, &source, wanted, &never).await;
                    (source.name, done)
                });
            }
        }
        if finished {
            break;
        }
    }
    let mut full_text = 0;
    while let Some(joined) = articles.join_next().await {
        match joined {
            Ok((name, done)) => full_text += fulltext::record(store, &name, done, now)?,
            Err(e) => error!(error = %e, "Fetching articles failed inside syndic."),
        }
    }

    let written = publish(config, store, now)?;
    let changed = written.iter().filter(|w| w.changed).count();
    info!(
        sources = config.sources.len(),
        failed,
        new,
        updated,
        full_text,
        files = written.len(),
        changed,
        ms = started.elapsed().as_millis() as u64,
        "Published."
    );
    Ok(failed)
}

/// The store `once` writes, opened on a blocking thread: alone with it, `once` writes
/// through a rollback journal; beside another connection (a daemon's), through the log,
/// which is copied into the database aside meanwhile as batch follows batch with no pause.
enum Opening {
    Pending(tokio::task::JoinHandle<anyhow::Result<Store>>),
    Open(Box<Store>),
}

impl Opening {
    fn start(dir: PathBuf) -> Opening {
        Opening::Pending(tokio::task::spawn_blocking(move || {
            let mut store = Store::open(&dir)?;
            store.write_in_bulk()?;
            Ok(store)
        }))
    }

    /// The store, once it is open.
    async fn store(&mut self) -> anyhow::Result<&mut Store> {
        if let Opening::Pending(handle) = self {
            let store = handle
                .await
                .context("opening the store failed inside syndic")??;
            *self = Opening::Open(Box::new(store));
        }
        match self {
            Opening::Open(store) => Ok(store),
            Opening::Pending(_) => unreachable!("the store was just opened"),
        }
    }
}
