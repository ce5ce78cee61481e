//! Reloading the config while the daemon runs (SIGHUP or an edit of the file): validate the
//! new file, and if it is sound, move the running daemon onto it — start added sources,
//! stop removed ones, restart changed ones (after their old task finishes its poll), leave
//! the rest and their timers alone, and re-publish the feeds. A file with problems changes
//! nothing: each problem is logged at ERROR, once per version of the file.

use tracing::{error, info};

use super::publisher::Request;
use super::{Daemon, network_fetch};
use crate::config::{self, Config, Daemon as Settings};

impl Daemon {
    /// Reads the config again and applies it; on any problem keeps the running one.
    /// `edited`: the file watcher asked, so a file already applied or already refused is
    /// skipped (an explicit SIGHUP always tries again).
    pub(super) async fn reload(&mut self, edited: bool) {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) => {
                error!(config = %self.path.display(), error = %e, "Cannot read the config; still running on the previous one.");
                return;
            }
        };
        if edited && (bytes == self.loaded || self.refused.as_ref() == Some(&bytes)) {
            return;
        }
        self.shared.notifier.reloading();
        let why = if edited { "file changed" } else { "SIGHUP" };
        info!(config = %self.path.display(), why, "Reloading the config.");
        match self.apply(&bytes) {
            Ok(()) => {
                self.loaded = bytes;
                self.refused = None;
            }
            Err(problems) => {
                for problem in &problems {
                    error!(config = %self.path.display(), "{problem}");
                }
                error!(config = %self.path.display(), problems = problems.len(), "Config not reloaded; still running on the previous one.");
                self.refused = Some(bytes);
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
        let fetching_changed = fetch_settings_differ(&old.daemon, &new.daemon);
        if fetching_changed {
            (self.fetch, self.articles) =
                network_fetch(&new.daemon).map_err(|e| vec![format!("{e:#}")])?;
        }
        self.retiring.retain(|_, handle| !handle.is_finished());
        let (mut added, mut removed, mut changed) = (0, 0, 0);
        let names: Vec<String> = self.tasks.keys().cloned().collect();
        for name in names {
            let same = new
                .source(&name)
                .is_some_and(|s| !fetching_changed && *s == self.tasks[&name].source);
            if same {
                continue;
            }
            self.retire(&name);
            match new.source(&name) {
                Some(source) => {
                    changed += 1;
                    self.spawn(source.clone());
                }
                None => {
                    removed += 1;
                    info!(source = %name, "Source removed from the config: stopped; its items stay stored.");
                }
            }
        }
        for source in &new.sources {
            if !self.tasks.contains_key(&source.name) {
                added += 1;
                self.spawn(source.clone());
            }
        }
        self.shared.set_config(new);
        self.shared.publish(Request::All);
        info!(added, removed, changed, "Reloaded the config.");
        Ok(())
    }
}

/// Whether a reload must rebuild the HTTP client and limits (and so restart every source).
fn fetch_settings_differ(old: &Settings, new: &Settings) -> bool {
    old.concurrency != new.concurrency
        || old.per_host != new.per_host
        || old.timeout != new.timeout
        || old.max_body != new.max_body
        || old.user_agent != new.user_agent
}
