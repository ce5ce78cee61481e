//! `syndic run`: the daemon. It starts one task per source ([`task`]), each polling on its
//! own schedule through the same code as `syndic once`, and a [`publisher`] that re-publishes
//! the feeds a finished poll changed. It reloads the config on SIGHUP or when the file
//! changes ([`watch`]), keeping the tasks of unchanged sources and their timers, and on
//! SIGTERM or SIGINT it stops scheduling, lets polls in flight finish within the grace
//! period, publishes once more, closes the store and exits 0. It keeps systemd informed
//! ([`health`]).
//!
//! A broken config at reload is logged, every problem at ERROR, and the daemon goes on with
//! the config it had.

mod health;
mod publisher;
mod reload;
mod task;
mod watch;

use std::any::Any;
use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::cmd::{EXIT_FAILED, EXIT_OK};
use crate::config::{Config, Daemon as Settings, SourceConfig};
use crate::harvest::{self, Fetched, Outcome};
use crate::schedule::{Clock, History};
use crate::source::http::{Fetcher, Limits};
use crate::store::Store;
use health::{Health, Notifier};
use publisher::Request;
use task::{ArticlesFn, FetchFn};

/// What the daemon's tasks share.
pub(crate) struct Shared {
    pub(crate) clock: Clock,
    /// `None` once the daemon has closed it.
    store: Mutex<Option<Store>>,
    config: RwLock<Arc<Config>>,
    publisher: mpsc::UnboundedSender<Request>,
    health: Mutex<Health>,
    /// Abandons fetches still in flight (the grace period is over).
    pub(crate) hard_stop: CancellationToken,
    notifier: Notifier,
    /// Every source task and background article fetch, to wait for them all at shutdown.
    pub(crate) tracker: TaskTracker,
    /// Polls waiting to be recorded ([`Shared::record`]).
    unrecorded: Mutex<Vec<Unrecorded>>,
    /// Whether a recorder ([`Shared::recorder`]) is running: one at a time, so that polls
    /// waiting for the store do not each hold one of the few blocking threads that
    /// parsing needs.
    recording: AtomicBool,
    /// Each full-text source's article fetches started last, kept here rather than in its
    /// task so that a task restarted by a reload sees those of the one before it.
    articles: Mutex<HashMap<String, JoinHandle<()>>>,
}

/// What a panic said, when it said it with a string.
fn panic_message(panicked: &(dyn Any + Send)) -> &str {
    panicked
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panicked.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

/// The recorder [`Shared::record`] starts: [`Shared::recorder`] on a blocking thread. If it
/// is dropped without running, it stands the recorder down.
struct Recorder(Option<Arc<Shared>>);

impl Recorder {
    fn run(mut self) {
        if let Some(shared) = self.0.take() {
            shared.recorder();
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(shared) = self.0.take() {
            shared.recording.store(false, Ordering::SeqCst);
        }
    }
}

/// A poll waiting to be recorded, and where its outcome goes.
struct Unrecorded {
    source: SourceConfig,
    fetched: Fetched,
    now: DateTime<Utc>,
    before: History,
    reply: oneshot::Sender<anyhow::Result<Outcome>>,
}

impl Shared {
    fn new(
        clock: Clock,
        store: Store,
        config: Config,
        publisher: mpsc::UnboundedSender<Request>,
    ) -> Arc<Shared> {
        Arc::new(Shared {
            clock,
            store: Mutex::new(Some(store)),
            config: RwLock::new(Arc::new(config)),
            publisher,
            health: Mutex::default(),
            hard_stop: CancellationToken::new(),
            notifier: Notifier::from_env(),
            tracker: TaskTracker::new(),
            unrecorded: Mutex::default(),
            recording: AtomicBool::new(false),
            articles: Mutex::default(),
        })
    }

    pub(crate) fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_config(&self, config: Config) {
        *self.config.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
    }

    /// Runs `f` on the store, off the async workers.
    pub(crate) async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Store) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let shared = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = shared.store.lock().unwrap_or_else(PoisonError::into_inner);
            match store.as_mut() {
                Some(store) => f(store),
                None => anyhow::bail!("the store is closed"),
            }
        })
        .await
        .context("store task failed")?
    }

    /// Records a poll ([`harvest::record`]), in one transaction with the other polls that
    /// are waiting for the store by then: one recorder at a time records every poll
    /// queued. Polls that finish together (all of them at start-up) then share commits, as
    /// in `syndic once`; a poll that fails to record fails alone.
    pub(crate) async fn record(
        self: &Arc<Self>,
        source: SourceConfig,
        fetched: Fetched,
        now: DateTime<Utc>,
        before: History,
    ) -> anyhow::Result<Outcome> {
        let (reply, outcome) = oneshot::channel();
        self.unrecorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Unrecorded {
                source,
                fetched,
                now,
                before,
                reply,
            });
        if !self.recording.swap(true, Ordering::SeqCst) {
            // Should the recorder never run (no thread could be started for it), its
            // guard stands it down, and the next poll starts one.
            let recorder = Recorder(Some(self.clone()));
            tokio::task::spawn_blocking(move || recorder.run());
        }
        outcome.await.context("store task failed")?
    }

    /// Records queued polls until none is left, then stands down and looks once more: a
    /// poll queued before that look is recorded here, one queued after it finds no recorder
    /// and starts one.
    fn recorder(&self) {
        loop {
            let recorded = panic::catch_unwind(AssertUnwindSafe(|| self.record_queued()));
            if let Err(panicked) = recorded {
                // The polls taken by then get "store task failed"; the rest are recorded.
                let error = panic_message(&*panicked);
                error!(error, "Recording polls failed inside syndic.");
            }
            self.recording.store(false, Ordering::SeqCst);
            let waiting = !self
                .unrecorded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty();
            if !waiting || self.recording.swap(true, Ordering::SeqCst) {
                return;
            }
            // Between rounds, a chance for others waiting for the store (the publisher, a
            // source reading its state) to take it.
            std::thread::yield_now();
        }
    }

    /// Records every queued poll in one transaction, each in a savepoint of its own.
    fn record_queued(&self) {
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let queued = std::mem::take(
            &mut *self
                .unrecorded
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if queued.is_empty() {
            return; // Nothing to record.
        }
        let Some(store) = store.as_mut() else {
            for poll in queued {
                let _ = poll.reply.send(Err(anyhow::anyhow!("the store is closed")));
            }
            return;
        };
        let ceiling = self.config().daemon.cache_ceiling;
        let (replies, polls): (Vec<_>, Vec<_>) = queued
            .into_iter()
            .map(|poll| {
                (
                    poll.reply,
                    (poll.source, poll.fetched, poll.now, poll.before),
                )
            })
            .unzip();
        let recorded = store.batch(|store| {
            let mut outcomes = Vec::with_capacity(polls.len());
            for (source, fetched, now, before) in polls {
                let outcome = store.isolated(|store| {
                    // A bug in one poll's recording fails that poll alone.
                    panic::catch_unwind(AssertUnwindSafe(|| {
                        harvest::record(store, &source, fetched, now, &before, ceiling)
                    }))
                    .unwrap_or_else(|panicked| {
                        Err(anyhow::anyhow!(
                            "recording the poll panicked: {}",
                            panic_message(&*panicked)
                        ))
                    })
                });
                if !store.in_batch() {
                    // SQLite undid the whole transaction: every poll in it fails.
                    let cause = outcome.err().map(|e| format!("{e:#}")).unwrap_or_default();
                    anyhow::bail!("the store undid its transaction: {cause}");
                }
                outcomes.push(outcome);
            }
            Ok(outcomes)
        });
        match recorded {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(anyhow::anyhow!("{e:#}")));
                }
            }
        }
    }

    pub(crate) fn health(&self) -> MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `source` has no article fetches running (none started, or the last done).
    pub(crate) fn articles_idle(&self, source: &str) -> bool {
        self.articles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(source)
            .is_none_or(JoinHandle::is_finished)
    }

    /// Notes `job` as `source`'s article fetches.
    pub(crate) fn articles_started(&self, source: &str, job: JoinHandle<()>) {
        self.articles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(source.to_owned(), job);
    }

    pub(crate) fn publish(&self, request: Request) {
        // Fails only once the publisher has stopped, at the very end.
        let _ = self.publisher.send(request);
    }

    /// Sends the one-line health summary to systemd.
    pub(crate) fn status(&self) {
        let line = self.health().line();
        self.notifier.status(&line);
    }
}

/// A source task and how to stop it.
struct Running {
    source: SourceConfig,
    stop: CancellationToken,
    handle: JoinHandle<()>,
}

/// The OS's ways of asking the daemon something, set up before it says it is ready.
struct Requests {
    hangup: Signal,
    terminate: Signal,
    interrupt: Signal,
    /// Settled edits of the config file; `None` when its folder cannot be watched.
    edits: Option<(::notify::RecommendedWatcher, mpsc::Receiver<()>)>,
}

pub(crate) struct Daemon {
    shared: Arc<Shared>,
    path: PathBuf,
    /// The bytes of the config last applied, and of the last one refused, so an edit
    /// event that changed nothing is ignored and a broken file is reported once.
    loaded: Vec<u8>,
    refused: Option<Vec<u8>>,
    fetch: FetchFn,
    articles: ArticlesFn,
    tasks: HashMap<String, Running>,
    /// Tasks told to stop (their source removed or changed) that may still be finishing a
    /// poll: a source started again under the same name waits for its old task.
    retiring: HashMap<String, JoinHandle<()>>,
    publisher: JoinHandle<()>,
    watchdog: Option<JoinHandle<()>>,
}

/// Runs the daemon until SIGTERM or SIGINT; the exit code.
pub async fn run(path: PathBuf, config: Config) -> u8 {
    let loaded = std::fs::read(&path).unwrap_or_default();
    let (mut daemon, requests) = match Daemon::start(path, loaded, config, Clock::System) {
        Ok(started) => started,
        Err(e) => {
            error!(error = %format!("{e:#}"), "Cannot start.");
            return EXIT_FAILED;
        }
    };
    daemon.serve(requests).await;
    EXIT_OK
}

impl Daemon {
    fn start(
        path: PathBuf,
        loaded: Vec<u8>,
        config: Config,
        clock: Clock,
    ) -> anyhow::Result<(Daemon, Requests)> {
        // Signals and the watch first: once READY=1 is sent, systemd may send SIGHUP at
        // once, and its default action would end the process.
        let requests = Requests {
            hangup: signal(SignalKind::hangup()).context("cannot handle SIGHUP")?,
            terminate: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
            edits: watch::watch(&path),
        };
        let store = Store::open(&config.daemon.state_dir)?;
        let (fetch, articles) = network_fetch(&config.daemon)?;
        let (publisher_tx, publisher_rx) = mpsc::unbounded_channel();
        let shared = Shared::new(clock, store, config, publisher_tx);
        let publisher = tokio::spawn(publisher::run(shared.clone(), publisher_rx));
        let watchdog = sd_notify::watchdog_enabled()
            .map(|every| tokio::spawn(watchdog(shared.clone(), publisher.abort_handle(), every)));
        let mut daemon = Daemon {
            shared,
            path,
            loaded,
            refused: None,
            fetch,
            articles,
            tasks: HashMap::new(),
            retiring: HashMap::new(),
            publisher,
            watchdog,
        };
        let config = daemon.shared.config();
        for source in &config.sources {
            daemon.spawn(source.clone());
        }
        // Feeds whose definition changed while syndic was stopped are written at once.
        daemon.shared.publish(Request::All);
        info!(
            config = %daemon.path.display(),
            sources = config.sources.len(),
            feeds = config.feeds.len(),
            "syndic is running."
        );
        let line = daemon.shared.health().line();
        daemon.shared.notifier.ready(&line);
        Ok((daemon, requests))
    }

    /// Starts `source`'s task, after the old task of that name if one is still finishing.
    fn spawn(&mut self, source: SourceConfig) {
        let stop = CancellationToken::new();
        let after = self.retiring.remove(&source.name);
        let run = task::run(
            self.shared.clone(),
            source.clone(),
            self.fetch.clone(),
            self.articles.clone(),
            stop.clone(),
        );
        let handle = self.shared.tracker.spawn(async move {
            if let Some(previous) = after {
                let _ = previous.await;
            }
            run.await;
        });
        self.tasks.insert(
            source.name.clone(),
            Running {
                source,
                stop,
                handle,
            },
        );
    }

    /// Tells `name`'s task to stop; it may finish a poll in flight meanwhile.
    fn retire(&mut self, name: &str) {
        if let Some(running) = self.tasks.remove(name) {
            running.stop.cancel();
            self.retiring.insert(name.to_string(), running.handle);
            self.shared.health().remove(name);
        }
    }

    /// Waits for signals and config edits until asked to stop, then stops.
    async fn serve(&mut self, mut requests: Requests) {
        loop {
            tokio::select! {
                _ = requests.hangup.recv() => self.reload(false).await,
                Some(()) = next_edit(&mut requests.edits) => self.reload(true).await,
                _ = requests.terminate.recv() => {
                    info!("SIGTERM: stopping.");
                    break;
                }
                _ = requests.interrupt.recv() => {
                    info!("SIGINT: stopping.");
                    break;
                }
            }
        }
        self.shutdown().await;
    }

    /// Stops scheduling, lets polls in flight finish within the grace period, publishes,
    /// and closes the store.
    async fn shutdown(&mut self) {
        self.shared.notifier.stopping();
        if let Some(watchdog) = &self.watchdog {
            watchdog.abort();
        }
        let grace = self.shared.config().daemon.grace;
        for running in self.tasks.values() {
            running.stop.cancel();
        }
        let tracker = &self.shared.tracker;
        tracker.close();
        if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
            let left = tracker.len();
            warn!(
                tasks = left,
                ?grace,
                "Grace period over: abandoning fetches still in flight."
            );
            self.shared.hard_stop.cancel();
            tracker.wait().await;
        }
        let (done, published) = oneshot::channel();
        self.shared.publish(Request::Flush(done));
        if published.await.is_err() {
            warn!("The publisher had stopped; the last changes were not published.");
        }
        self.publisher.abort();
        let store = self
            .shared
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(store);
        info!("Stopped.");
    }
}

/// Pings systemd's watchdog at half its interval while the daemon is alive: the store
/// answers within that time and the publisher runs. On its own task, so a slow check
/// never delays a signal.
async fn watchdog(shared: Arc<Shared>, publisher: tokio::task::AbortHandle, interval: Duration) {
    let every = (interval / 2).max(Duration::from_millis(10));
    loop {
        tokio::time::sleep(every).await;
        let store = shared.with_store(|store| store.ping());
        let store_ok = matches!(tokio::time::timeout(every, store).await, Ok(Ok(())));
        if store_ok && !publisher.is_finished() {
            shared.notifier.watchdog();
        } else {
            warn!(
                store_ok,
                publisher_ok = !publisher.is_finished(),
                "Liveness check failed: not telling the watchdog."
            );
        }
    }
}

/// The next settled config edit, or never when the file is not watched.
async fn next_edit(
    edits: &mut Option<(::notify::RecommendedWatcher, mpsc::Receiver<()>)>,
) -> Option<()> {
    match edits {
        Some((_, edits)) => edits.recv().await,
        None => std::future::pending().await,
    }
}

/// Polls and article fetches, sharing one client and one set of limits.
fn network_fetch(settings: &Settings) -> anyhow::Result<(FetchFn, ArticlesFn)> {
    let fetcher = Fetcher::new(settings)?;
    let limits = Arc::new(Limits::new(settings.concurrency, settings.per_host));
    Ok((
        task::network(fetcher.clone(), limits.clone()),
        task::articles(fetcher, limits),
    ))
}

#[cfg(test)]
mod tests;
