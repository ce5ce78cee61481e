//! How the daemon is doing, and telling systemd (`Type=notify`): READY=1 after the first load,
//! RELOADING=1 / READY=1 around a reload, STOPPING=1, a one-line STATUS=, and WATCHDOG=1
//! while a real liveness check passes. Without `NOTIFY_SOCKET` all of it is silent.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sd_notify::NotifyState;
use tracing::debug;

use crate::schedule::History;

/// Sends notifications when systemd asked for them.
#[derive(Debug)]
pub(crate) struct Notifier {
    enabled: bool,
}

impl Notifier {
    pub(crate) fn from_env() -> Notifier {
        Notifier {
            enabled: std::env::var_os("NOTIFY_SOCKET").is_some_and(|s| !s.is_empty()),
        }
    }

    fn send(&self, states: &[NotifyState]) {
        if !self.enabled {
            return;
        }
        if let Err(e) = sd_notify::notify(states) {
            debug!(error = %e, "Cannot notify systemd.");
        }
    }

    pub(crate) fn ready(&self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    pub(crate) fn reloading(&self) {
        match NotifyState::monotonic_usec_now() {
            Ok(now) => self.send(&[NotifyState::Reloading, now]),
            Err(_) => self.send(&[NotifyState::Reloading]),
        }
    }

    pub(crate) fn stopping(&self) {
        self.send(&[NotifyState::Stopping, NotifyState::Status("Stopping")]);
    }

    pub(crate) fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(status)]);
    }

    pub(crate) fn watchdog(&self) {
        self.send(&[NotifyState::Watchdog]);
    }
}

/// How the sources are doing, for STATUS=.
#[derive(Debug, Default)]
pub(crate) struct Health {
    /// Per source: consecutive failures, or `None` when it is stopped (410).
    sources: HashMap<String, Option<u32>>,
    last_publish: Option<DateTime<Utc>>,
    /// How many times the publisher has written (for tests of coalescing).
    pub(crate) publishes: u64,
}

impl Health {
    pub(crate) fn set(&mut self, source: &str, history: &History) {
        let state = (!history.gone).then_some(history.failures);
        self.sources.insert(source.to_string(), state);
    }

    pub(crate) fn remove(&mut self, source: &str) {
        self.sources.remove(source);
    }

    pub(crate) fn published(&mut self, at: DateTime<Utc>) {
        self.last_publish = Some(at);
        self.publishes += 1;
    }

    /// "12 sources: 11 ok, 1 failing; last publish 2026-11-28 09:00:03 UTC".
    pub(crate) fn line(&self) -> String {
        let failing = self
            .sources
            .values()
            .filter(|s| s.is_some_and(|f| f > 0))
            .count();
        let stopped = self.sources.values().filter(|s| s.is_none()).count();
        let ok = self.sources.len() - failing - stopped;
        let mut line = format!("{} sources: {ok} ok, {failing} failing", self.sources.len());
        if stopped > 0 {
            line.push_str(&format!(", {stopped} stopped"));
        }
        match self.last_publish {
            Some(at) => line.push_str(&format!(
                "; last publish {}",
                at.format("%Y-%m-%d %H:%M:%S UTC")
            )),
            None => line.push_str("; nothing published yet"),
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_counts_sources() {
        let mut health = Health::default();
        let ok = History::default();
        let failing = History {
            failures: 2,
            ..History::default()
        };
        let gone = History {
            gone: true,
            ..History::default()
        };
        health.set("a", &ok);
        health.set("b", &failing);
        health.set("c", &gone);
        health.set("d", &ok);
        health.remove("d");
        assert_eq!(
            health.line(),
            "3 sources: 1 ok, 1 failing, 1 stopped; nothing published yet"
        );
        health.published("2026-11-28T09:00:03Z".parse().unwrap());
        assert!(
            health
                .line()
                .ends_with("; last publish 2026-11-28 09:00:03 UTC")
        );
    }
}
