//! `syndic run`: the daemon. It starts one task per source ([`task`]), each polling on its
//! own schedule through the same code as `syndic once`, and a [`publisher`] that re-publishes
//! the feeds a finished poll changed. It reloads the config on SIGHUP or when the file
//! changes ([`watch`]), keeping the tasks of unchanged sources and their timers, and on
//! SIGTERM or SIGINT it stops scheduling, lets polls in flight finish within the grace
//! period, publishes once more, closes the store and exits 0. It keeps systemd informed
//! ([`notify`]).
//!
//! A broken config at reload is logged, every problem at ERROR, and the daemon goes on with
//! the config it had.

mod notify;
mod publisher;
mod task;
mod watch;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::cmd::{EXIT_FAILED, EXIT_OK};
use crate::config::{self, Config, Daemon as Settings, SourceConfig};
use crate::schedule::Clock;
use crate::source::http::{Fetcher, Limits};
use crate::store::Store;
use notify::{Health, Notifier};
use publisher::Request;
use task::FetchFn;

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

    pub(crate) fn health(&self) -> MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(PoisonError::into_inner)
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

pub(crate) struct Daemon {
    shared: Arc<Shared>,
    path: PathBuf,
    /// The bytes of the config last loaded, so an event that changed nothing is ignored.
    loaded: Vec<u8>,
    fetch: FetchFn,
    tasks: HashMap<String, Running>,
    publisher: JoinHandle<()>,
}

/// Runs the daemon until SIGTERM or SIGINT; the exit code.
pub async fn run(path: PathBuf, config: Config) -> u8 {
    let loaded = std::fs::read(&path).unwrap_or_default();
    let mut daemon = match Daemon::start(path, loaded, config, Clock::System) {
        Ok(daemon) => daemon,
        Err(e) => {
            error!(error = %format!("{e:#}"), "Cannot start.");
            return EXIT_FAILED;
        }
    };
    match daemon.serve().await {
        Ok(()) => EXIT_OK,
        Err(e) => {
            error!(error = %format!("{e:#}"), "The daemon failed.");
            daemon.shutdown().await;
            EXIT_FAILED
        }
    }
}

impl Daemon {
    fn start(
        path: PathBuf,
        loaded: Vec<u8>,
        config: Config,
        clock: Clock,
    ) -> anyhow::Result<Daemon> {
        let store = Store::open(&config.daemon.state_dir)?;
        let fetch = network_fetch(&config.daemon)?;
        let (publisher_tx, publisher_rx) = mpsc::unbounded_channel();
        let shared = Shared::new(clock, store, config, publisher_tx);
        let publisher = tokio::spawn(publisher::run(shared.clone(), publisher_rx));
        let mut daemon = Daemon {
            shared,
            path,
            loaded,
            fetch,
            tasks: HashMap::new(),
            publisher,
        };
        let config = daemon.shared.config();
        for source in &config.sources {
            daemon.spawn(source.clone(), None);
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
        Ok(daemon)
    }

    /// Starts `source`'s task; `after` is the task it replaces, which must end first.
    fn spawn(&mut self, source: SourceConfig, after: Option<JoinHandle<()>>) {
        let stop = CancellationToken::new();
        let run = task::run(
            self.shared.clone(),
            source.clone(),
            self.fetch.clone(),
            stop.clone(),
        );
        let handle = tokio::spawn(async move {
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

    /// Waits for signals, config edits and watchdog ticks until asked to stop.
    async fn serve(&mut self) -> anyhow::Result<()> {
        let mut hangup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let (_watcher, mut edits) = match watch::watch(&self.path) {
            Some((watcher, edits)) => (Some(watcher), Some(edits)),
            None => (None, None),
        };
        let watchdog = sd_notify::watchdog_enabled().map(|every| every / 2);
        let mut watchdog_tick = tokio::time::interval(watchdog.unwrap_or(Duration::MAX / 4));
        loop {
            tokio::select! {
                _ = hangup.recv() => self.reload(false).await,
                Some(()) = next_edit(&mut edits) => self.reload(true).await,
                _ = terminate.recv() => {
                    info!("SIGTERM: stopping.");
                    break;
                }
                _ = interrupt.recv() => {
                    info!("SIGINT: stopping.");
                    break;
                }
                _ = watchdog_tick.tick(), if watchdog.is_some() => {
                    let every = watchdog.unwrap_or_default();
                    if self.alive(every).await {
                        self.shared.notifier.watchdog();
                    } else {
                        warn!("Liveness check failed: not telling the watchdog.");
                    }
                }
            }
        }
        self.shutdown().await;
        Ok(())
    }

    /// The watchdog's check: the store answers within `within`, and the publisher runs.
    async fn alive(&self, within: Duration) -> bool {
        let store = self.shared.with_store(|store| store.ping());
        let store_ok = matches!(tokio::time::timeout(within, store).await, Ok(Ok(())));
        store_ok && !self.publisher.is_finished()
    }

    /// Reads the config again and applies it; on any problem keeps the running one.
    /// `edited`: the file watcher asked, so a file whose bytes did not change is skipped.
    async fn reload(&mut self, edited: bool) {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) => {
                error!(config = %self.path.display(), error = %e, "Cannot read the config; still running on the previous one.");
                return;
            }
        };
        if edited && bytes == self.loaded {
            return;
        }
        self.shared.notifier.reloading();
        let why = if edited { "file changed" } else { "SIGHUP" };
        info!(config = %self.path.display(), why, "Reloading the config.");
        match self.apply(&bytes) {
            Ok(()) => self.loaded = bytes,
            Err(problems) => {
                for problem in &problems {
                    error!(config = %self.path.display(), "{problem}");
                }
                error!(config = %self.path.display(), problems = problems.len(), "Config not reloaded; still running on the previous one.");
            }
        }
        let line = self.shared.health().line();
        self.shared.notifier.ready(&line);
    }

    /// Validates `bytes` and moves the daemon to that config; every problem, if not.
    fn apply(&mut self, bytes: &[u8]) -> Result<(), Vec<String>> {
        let text = String::from_utf8_lossy(bytes);
        let mut new = Config::parse(&text, &self.path).map_err(|e| match e {
            config::Error::Invalid { path, problems } => problems
                .iter()
                .map(|p| format!("{}:{p}", path.display()))
                .collect(),
            other => vec![other.to_string()],
        })?;
        let old = self.shared.config();
        if new.daemon.state_dir != old.daemon.state_dir {
            error!(
                state_dir = %new.daemon.state_dir.display(),
                "state_dir changed: restart syndic to move to it; the running one is kept."
            );
            new.daemon.state_dir = old.daemon.state_dir.clone();
        }
        let engine_changed = fetch_settings_differ(&old.daemon, &new.daemon);
        if engine_changed {
            self.fetch = network_fetch(&new.daemon).map_err(|e| vec![format!("{e:#}")])?;
        }
        let (mut added, mut removed, mut changed) = (0, 0, 0);
        let names: Vec<String> = self.tasks.keys().cloned().collect();
        for name in names {
            let keep = new
                .source(&name)
                .is_some_and(|s| !engine_changed && *s == self.tasks[&name].source);
            if !keep {
                let old_task = self.tasks.remove(&name).expect("listed");
                old_task.stop.cancel();
                self.shared.health().remove(&name);
                match new.source(&name) {
                    Some(source) => {
                        changed += 1;
                        self.spawn(source.clone(), Some(old_task.handle));
                    }
                    None => {
                        removed += 1;
                        info!(source = %name, "Source removed from the config: stopped; its items stay stored.");
                    }
                }
            }
        }
        for source in &new.sources {
            if !self.tasks.contains_key(&source.name) {
                added += 1;
                self.spawn(source.clone(), None);
            }
        }
        self.shared.set_config(new);
        self.shared.publish(Request::All);
        info!(added, removed, changed, "Reloaded the config.");
        Ok(())
    }

    /// Stops scheduling, lets polls in flight finish within the grace period, publishes,
    /// and closes the store.
    async fn shutdown(&mut self) {
        self.shared.notifier.stopping();
        let grace = self.shared.config().daemon.grace;
        let mut handles = Vec::new();
        for (_, running) in self.tasks.drain() {
            running.stop.cancel();
            handles.push(running.handle);
        }
        let wait_all = async {
            for handle in &mut handles {
                let _ = handle.await;
            }
        };
        if tokio::time::timeout(grace, wait_all).await.is_err() {
            let left = handles.iter().filter(|h| !h.is_finished()).count();
            warn!(
                polls = left,
                ?grace,
                "Grace period over: abandoning fetches still in flight."
            );
            self.shared.hard_stop.cancel();
            for handle in &mut handles {
                let _ = handle.await;
            }
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

/// The next settled config edit, or never when the file is not watched.
async fn next_edit(edits: &mut Option<mpsc::Receiver<()>>) -> Option<()> {
    match edits {
        Some(edits) => edits.recv().await,
        None => std::future::pending().await,
    }
}

fn network_fetch(settings: &Settings) -> anyhow::Result<FetchFn> {
    let fetcher = Fetcher::new(settings)?;
    let limits = Arc::new(Limits::new(settings.concurrency, settings.per_host));
    Ok(task::network(fetcher, limits))
}

/// Whether a reload must rebuild the HTTP client and limits (and so restart every source).
fn fetch_settings_differ(old: &Settings, new: &Settings) -> bool {
    old.concurrency != new.concurrency
        || old.per_host != new.per_host
        || old.timeout != new.timeout
        || old.max_body != new.max_body
        || old.user_agent != new.user_agent
}

#[cfg(test)]
mod tests;
