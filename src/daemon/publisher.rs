//! Re-publishing from the daemon, coalesced. Source tasks ask for the feeds that include a
//! source to be re-published; requests that arrive close together (many sources finishing
//! at once, a reload) become one write per feed: the publisher waits until no request has
//! come for [`QUIET`], or [`MOST`] after the first, then publishes what was asked.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tracing::{error, info};

use super::Shared;
use crate::publish::feeds::publish_some;

/// How long the publisher waits for more requests after the last one…
pub(crate) const QUIET: Duration = Duration::from_millis(500);
/// …but no longer than this after the first.
pub(crate) const MOST: Duration = Duration::from_secs(5);

pub(crate) enum Request {
    /// The feeds that include this source.
    Source(String),
    /// Every feed (after a reload).
    All,
    /// Publish what is pending now, every feed included, and say when it is written.
    Flush(oneshot::Sender<()>),
}

#[derive(Default)]
struct Batch {
    sources: BTreeSet<String>,
    all: bool,
    done: Vec<oneshot::Sender<()>>,
}

impl Batch {
    fn add(&mut self, request: Request) {
        match request {
            Request::Source(name) => {
                self.sources.insert(name);
            }
            Request::All => self.all = true,
            Request::Flush(done) => {
                self.all = true;
                self.done.push(done);
            }
        }
    }
}

/// Serves requests until every sender is gone.
pub(crate) async fn run(shared: Arc<Shared>, mut requests: mpsc::UnboundedReceiver<Request>) {
    while let Some(first) = requests.recv().await {
        let mut batch = Batch::default();
        batch.add(first);
        let most = tokio::time::sleep(MOST);
        tokio::pin!(most);
        while batch.done.is_empty() {
            tokio::select! {
                request = requests.recv() => match request {
                    Some(request) => batch.add(request),
                    None => break,
                },
                () = tokio::time::sleep(QUIET) => break,
                () = &mut most => break,
            }
        }
        publish(&shared, &batch).await;
        for done in batch.done {
            let _ = done.send(());
        }
    }
}

async fn publish(shared: &Arc<Shared>, batch: &Batch) {
    let config = shared.config();
    let now = shared.clock.now();
    let (all, sources) = (batch.all, batch.sources.clone());
    let started = std::time::Instant::now();
    let written = shared
        .with_store(move |store| {
            publish_some(&config, store, now, |feed| {
                all || feed.sources.iter().any(|s| sources.contains(s))
            })
        })
        .await;
    let ms = started.elapsed().as_millis() as u64;
    match written {
        Ok(written) => {
            let changed = written.iter().filter(|w| w.changed).count();
            info!(
                sources = batch.sources.len(),
                files = written.len(),
                changed,
                ms,
                "Published."
            );
            shared.health().published(now);
            shared.status();
        }
        Err(e) => {
            error!(error = %format!("{e:#}"), ms, "Cannot publish; the files already published stay.")
        }
    }
}
