//! `syndic once`: poll every source once (honouring stored validators), record the results,
//! publish every feed, exit. The daemon runs the same steps on a schedule.
//!
//! A failing source is logged and recorded with its cause; its stored items stay published
//! and every other source goes on. Exit 1 when any source failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use super::{EXIT_FAILED, EXIT_OK};
use crate::config::{Config, KEEP_NEWEST, SourceConfig};
use crate::publish::feeds::publish;
use crate::source::http::{Fetcher, Limits, Validators};
use crate::source::{PollError, Polled, poll};
use crate::store::{Poll, Store};

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

/// Polls, records and publishes; returns how many sources failed.
async fn run(config: &Config) -> anyhow::Result<usize> {
    let started = Instant::now();
    let now = Utc::now().trunc_subsecs(0);
    let mut store = Store::open(&config.daemon.state_dir)?;
    let fetcher = Fetcher::new(&config.daemon)?;
    let limits = Arc::new(Limits::new(
        config.daemon.concurrency,
        config.daemon.per_host,
    ));
    let mut validators: HashMap<String, Validators> = store
        .source_states()?
        .into_iter()
        .map(|s| (s.name, s.validators))
        .collect();

    let mut tasks = JoinSet::new();
    let mut task_sources = HashMap::new();
    for source in &config.sources {
        let validators = validators.remove(&source.name).unwrap_or_default();
        let (fetcher, limits, task_source) = (fetcher.clone(), limits.clone(), source.clone());
        let task = tasks.spawn(async move {
            let _permit = limits.acquire(&task_source.url).await;
            let began = Instant::now();
            let url = &task_source.url;
            let result = poll(&fetcher, &task_source.name, url, &validators, now).await;
            (result, began.elapsed())
        });
        task_sources.insert(task.id(), source);
    }

    let mut failed = 0;
    let (mut new, mut updated) = (0, 0);
    while let Some(joined) = tasks.join_next_with_id().await {
        // A poll that panicked (a bug) fails its source, not the run.
        let (source, result, elapsed) = match joined {
            Ok((id, (result, elapsed))) => (task_sources[&id], result, elapsed),
            Err(e) => {
                let internal = PollError::Internal(e.to_string());
                (task_sources[&e.id()], Err(internal), Duration::ZERO)
            }
        };
        let ms = elapsed.as_millis() as u64;
        match record(&mut store, source, result, now) {
            Ok(Recorded { status, changes }) => {
                new += changes.new;
                updated += changes.updated;
                let status = status.map_or_else(|| "-".to_string(), |s| s.to_string());
                info!(source = %source.name, %status, new = changes.new, updated = changes.updated, ms, "Polled source.");
            }
            Err(e) => {
                failed += 1;
                warn!(source = %source.name, url = %source.url, ms, error = %format!("{e:#}"), "Source failed; its stored items stay published.");
            }
        }
    }

    let written = publish(config, &store, now)?;
    let changed = written.iter().filter(|w| w.changed).count();
    info!(
        sources = config.sources.len(),
        failed,
        new,
        updated,
        files = written.len(),
        changed,
        ms = started.elapsed().as_millis() as u64,
        "Published."
    );
    Ok(failed)
}

struct Recorded {
    status: Option<u16>,
    changes: crate::store::Changes,
}

/// Writes one poll's outcome to the store; a failed poll is recorded and returned as the error.
fn record(
    store: &mut Store,
    source: &SourceConfig,
    result: Result<Polled, PollError>,
    now: DateTime<Utc>,
) -> anyhow::Result<Recorded> {
    let mut poll = Poll {
        now,
        items: None,
        status: None,
        validators: None,
        retain: source.retain,
        keep_newest: KEEP_NEWEST,
        warning: None,
    };
    match result {
        Ok(Polled::NotModified { status, .. }) => {
            poll.status = status;
            let changes = store.record_poll(&source.name, &poll)?;
            Ok(Recorded { status, changes })
        }
        Ok(Polled::Items {
            items,
            status,
            validators,
            warning,
            ..
        }) => {
            poll.items = Some(&items);
            poll.status = status;
            poll.warning = warning.as_deref();
            // A document read only in part keeps the old validators, so the next poll
            // fetches it again instead of being told it has not changed.
            if warning.is_none() {
                poll.validators = Some(&validators);
            }
            let changes = store.record_poll(&source.name, &poll)?;
            match warning {
                // The items read are kept, but the source is broken: say so, and fail.
                Some(warning) => Err(anyhow::anyhow!(warning)),
                None => Ok(Recorded { status, changes }),
            }
        }
        Err(e) => {
            let message = e.to_string();
            store.record_failure(&source.name, now, e.status(), &message)?;
            Err(e.into())
        }
    }
}
