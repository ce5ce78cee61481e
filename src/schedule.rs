//! When each source polls next: a pure function of its cron schedule, its timezone, what
//! its last polls left in the store, and the time. The daemon sleeps until the answer;
//! `syndic status` shows it. Nothing here reads a clock except [`Clock`].
//!
//! Rules, in order of strength:
//! - a source whose URL answered 410 Gone is not polled again (until its URL changes);
//! - never before a server's `Retry-After`;
//! - not before the first slot after its `Cache-Control: max-age` ran out;
//! - after `n` consecutive failures, not before the first slot once `interval × 2^(n-1)`
//!   (capped) has passed since the last poll;
//! - otherwise at the next cron slot after the last poll, shifted by the source's jitter.
//!
//! Deadlines counted from a poll's time allow for the poll having started a little after
//! its slot, so they land on the slot they were meant for rather than one later.
//!
//! A source that is due (or was never polled) polls now, once: missed slots never pile up,
//! because the next slot is always counted from the last poll.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::config::Schedule;
use crate::store::SourceState;

/// Jitter is at most this fraction of a source's interval…
const JITTER_FRACTION: f64 = 0.1;
/// …and never more than this.
const MAX_JITTER: Duration = Duration::from_secs(5 * 60);
/// Where a schedule's interval is measured from (a Monday, far from DST changes)…
const REFERENCE: &str = "2026-01-05T00:00:00Z";
/// …over this many slots.
const GAP_SAMPLE: usize = 64;
/// A poll is followed by the next slot at least half an interval later, or this much.
const MAX_GAP: Duration = Duration::from_secs(60);
/// Back-off doubles up to this (or the source's interval, if that is longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(24 * 60 * 60);
/// A `Retry-After` further away than this is taken as this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A source's schedule, resolved: its cron slots in its timezone, its interval and its jitter.
#[derive(Clone, Debug)]
pub struct Timing {
    cron: Arc<croner::Cron>,
    tz: Tz,
    /// The shortest gap between two slots (for jitter, back-off and the least gap between
    /// polls).
    pub interval: Duration,
    /// How far after each slot this source fires: derived from its name, so it is the same
    /// on every start and in `status`.
    pub jitter: Duration,
}

/// What the scheduler knows of a source's last polls (from the store, then kept in memory).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub last_fetch: Option<DateTime<Utc>>,
    /// Consecutive failed polls.
    pub failures: u32,
    pub retry_at: Option<DateTime<Utc>>,
    pub fresh_until: Option<DateTime<Utc>>,
    /// The source's URL answered 410 Gone.
    pub gone: bool,
}

/// Why a source polls when it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Never polled.
    New,
    /// Its slot passed while syndic was not running (or was busy).
    Overdue,
    Schedule,
    BackOff,
    RetryAfter,
    CacheControl,
}

/// The answer for one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    At(DateTime<Utc>, Reason),
    /// 410 Gone: not polled again.
    Stopped,
    /// The cron expression has no future slot (e.g. a date that has passed).
    Never,
}

impl Timing {
    pub fn new(schedule: &Schedule, tz: Tz, name: &str) -> Timing {
        let mut timing = Timing {
            cron: schedule.cron.clone(),
            tz,
            interval: MAX_BACKOFF,
            jitter: Duration::ZERO,
        };
        timing.interval = timing.shortest_gap().unwrap_or(MAX_BACKOFF);
        let spread = timing.interval.mul_f64(JITTER_FRACTION).min(MAX_JITTER);
        timing.jitter = spread.mul_f64(name_fraction(name));
        timing
    }

    /// The shortest gap between slots among the first [`GAP_SAMPLE`] after a fixed date:
    /// the same on every start and in `status`, and for an uneven schedule ("0-4 * * * *")
    /// the gap its busiest part keeps, so no slot is skipped.
    fn shortest_gap(&self) -> Option<Duration> {
        let reference = DateTime::parse_from_rfc3339(REFERENCE)
            .expect("valid reference date")
            .with_timezone(&Utc);
        let mut previous = self.occurrence_after(reference)?;
        let mut shortest: Option<Duration> = None;
        for _ in 0..GAP_SAMPLE {
            let Some(next) = self.occurrence_after(previous) else {
                break;
            };
            let gap = (next - previous).to_std().ok()?;
            shortest = Some(shortest.map_or(gap, |s| s.min(gap)));
            previous = next;
        }
        shortest
    }

    /// The first cron slot strictly after `t`.
    fn occurrence_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.tz);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|next| next.with_timezone(&Utc))
    }

    /// The first firing time (a slot plus jitter) strictly after `t`.
    pub fn fire_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let jitter = delta(self.jitter);
        Some(self.occurrence_after(t - jitter)? + jitter)
    }

    /// The least time between two polls on schedule: a poll off its slot (after a
    /// Retry-After, or the first of a new source) is not followed at once by the next slot.
    fn gap(&self) -> TimeDelta {
        delta((self.interval / 2).min(MAX_GAP))
    }

    /// How early a deadline may be met: a poll starts a little after its slot, so a wait
    /// counted from it ends a little after a later slot, which should still count.
    fn slack(&self) -> TimeDelta {
        delta(self.interval.mul_f64(JITTER_FRACTION).min(MAX_GAP))
    }

    /// The first firing time at or after `t`.
    fn fire_from(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.fire_after(t - TimeDelta::nanoseconds(1))
    }

    /// How long to wait after `failures` consecutive failures: the interval, doubled for
    /// each failure after the first, up to a day (or the interval, if longer).
    pub fn backoff(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let cap = MAX_BACKOFF.max(self.interval);
        let factor = 2u32.saturating_pow(failures - 1);
        self.interval.saturating_mul(factor).min(cap)
    }

    /// When the source should poll next, and why.
    pub fn next(&self, history: &History, now: DateTime<Utc>) -> Next {
        if history.gone {
            return Next::Stopped;
        }
        let Some(last) = history.last_fetch else {
            return Next::At(now, Reason::New);
        };
        let Some(slot) = self.fire_from(last + self.gap()) else {
            return Next::Never;
        };
        let mut next = (slot, Reason::Schedule);
        let mut later = |at: Option<DateTime<Utc>>, reason| {
            if let Some(at) = at
                && at > next.0
            {
                next = (at, reason);
            }
        };
        // Back-off and Cache-Control skip slots; a Retry-After names its own time.
        let backoff = self.backoff(history.failures);
        if !backoff.is_zero() {
            let not_before = last + delta(backoff) - self.slack();
            later(self.fire_from(not_before), Reason::BackOff);
        }
        later(history.retry_at, Reason::RetryAfter);
        later(
            history
                .fresh_until
                .and_then(|t| self.fire_from(t - self.slack())),
            Reason::CacheControl,
        );
        match next {
            (at, Reason::Schedule) if at <= now => Next::At(now, Reason::Overdue),
            (at, reason) => Next::At(at.max(now), reason),
        }
    }
}

impl History {
    /// The scheduler's view of a source from what the store holds, for the URL it has now.
    pub fn from_state(state: &SourceState, url: &url::Url) -> History {
        // A source whose URL changed starts afresh: what the old server asked (back-off,
        // Retry-After, max-age) is not the new one's.
        if !state.is_for(url) {
            return History::default();
        }
        History {
            last_fetch: state.last_fetch,
            failures: state.failures,
            retry_at: state.retry_at,
            fresh_until: state.fresh_until,
            gone: state.gone_url.as_deref() == Some(url.as_str()),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Reason::New => "never polled",
            Reason::Overdue => "overdue",
            Reason::Schedule => "on schedule",
            Reason::BackOff => "backing off",
            Reason::RetryAfter => "Retry-After",
            Reason::CacheControl => "Cache-Control",
        })
    }
}

/// A number in [0, 1) fixed by `name`: the same source fires at the same offset every time,
/// and sources sharing a schedule spread out.
fn name_fraction(name: &str) -> f64 {
    let digest = Sha256::digest(name.as_bytes());
    let bits = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

pub(crate) fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// The daemon's clock. `System` is the wall clock; `Tokio` follows tokio's (pausable)
/// clock from a fixed start, so tests can run schedules without waiting.
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Tokio {
        start: DateTime<Utc>,
        at: tokio::time::Instant,
    },
}

/// How long the system clock sleeps at most before looking at the time again, so a
/// suspended machine or a clock step does not make a source late by more than this. Each
/// look costs a wake-up per source: at one a minute, 1000 idle sources took 0.13 % of a
/// core; at this, 0.023 %.
const WAKE_EVERY: Duration = Duration::from_secs(5 * 60);

impl Clock {
    /// A clock that starts at `start` now and runs with tokio's time.
    pub fn tokio(start: DateTime<Utc>) -> Clock {
        Clock::Tokio {
            start,
            at: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Tokio { start, at } => *start + delta(at.elapsed()),
        }
    }

    /// Returns at `deadline` (or a little after).
    pub async fn sleep_until(&self, deadline: DateTime<Utc>) {
        loop {
            let left = match (deadline - self.now()).to_std() {
                Ok(left) if !left.is_zero() => left,
                _ => return,
            };
            match self {
                Clock::System => tokio::time::sleep(left.min(WAKE_EVERY)).await,
                Clock::Tokio { .. } => tokio::time::sleep(left).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn schedule(text: &str) -> Schedule {
        crate::config::parse_schedule(text).expect("valid schedule")
    }

    fn utc(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, h, m, s).unwrap()
    }

    fn timing(text: &str, name: &str) -> Timing {
        Timing::new(&schedule(text), Tz::UTC, name)
    }

    fn polled(at: DateTime<Utc>) -> History {
        History {
            last_fetch: Some(at),
            ..History::default()
        }
    }

    #[test]
    fn jitter_is_stable_small_and_spreads_sources() {
        let a = timing("*/30 * * * *", "alpha");
        assert_eq!(a.interval, Duration::from_secs(1800));
        assert_eq!(a.jitter, timing("*/30 * * * *", "alpha").jitter);
        assert!(a.jitter < Duration::from_secs(180), "{:?}", a.jitter);
        let jitters: std::collections::BTreeSet<_> = (0..50)
            .map(|i| timing("*/30 * * * *", &format!("source-{i}")).jitter)
            .collect();
        assert!(jitters.len() > 45, "names share jitter: {jitters:?}");
        let spread = jitters
            .last()
            .unwrap()
            .saturating_sub(*jitters.first().unwrap());
        assert!(spread > Duration::from_secs(120), "{spread:?}");
        // A daily schedule's jitter is capped.
        assert!(timing("@daily", "alpha").jitter <= MAX_JITTER);
    }

    #[test]
    fn an_uneven_schedule_is_measured_by_its_shortest_gap() {
        assert_eq!(timing("0-4 * * * *", "a").interval, Duration::from_secs(60));
        assert_eq!(
            timing("0,10 * * * *", "a").interval,
            Duration::from_secs(600)
        );
        assert_eq!(
            timing("0 9,10 * * *", "a").interval,
            Duration::from_secs(3600)
        );
        // Every slot of the busy part is polled, whenever the daemon started.
        let t = timing("0-4 * * * *", "a");
        let j = delta(t.jitter);
        let mut at = utc(10, 2, 0) + j;
        let mut polls = vec![at];
        for _ in 0..3 {
            let Next::At(next, _) = t.next(&polled(at), at) else {
                panic!("no next")
            };
            polls.push(next);
            at = next;
        }
        let expected: Vec<_> = [(10, 2), (10, 3), (10, 4), (11, 0)]
            .iter()
            .map(|&(h, m)| utc(h, m, 0) + j)
            .collect();
        assert_eq!(polls, expected);
    }

    #[test]
    fn next_slot_is_counted_from_the_last_poll_plus_jitter() {
        let t = timing("0 * * * *", "alpha");
        let j = delta(t.jitter);
        // Polled on its 10:00 slot: next is the 11:00 slot.
        let next = t.next(&polled(utc(10, 0, 0) + j), utc(10, 0, 5) + j);
        assert_eq!(next, Next::At(utc(11, 0, 0) + j, Reason::Schedule));
    }

    #[test]
    fn never_polled_and_overdue_sources_poll_now_once() {
        let t = timing("0 * * * *", "alpha");
        let now = utc(15, 30, 0);
        assert_eq!(t.next(&History::default(), now), Next::At(now, Reason::New));
        // Last polled at 09:00; five slots were missed while stopped: one poll, now.
        assert_eq!(
            t.next(&polled(utc(9, 0, 0)), now),
            Next::At(now, Reason::Overdue)
        );
        // After that poll, the next slot, not the missed ones.
        let j = delta(t.jitter);
        assert_eq!(
            t.next(&polled(now), now),
            Next::At(utc(16, 0, 0) + j, Reason::Schedule)
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let t = timing("*/10 * * * *", "alpha");
        let minutes = |n| t.backoff(n).as_secs() / 60;
        assert_eq!(
            (0..10).map(minutes).collect::<Vec<_>>(),
            [0, 10, 20, 40, 80, 160, 320, 640, 1280, 1440]
        );
        assert_eq!(t.backoff(u32::MAX), MAX_BACKOFF);
        let history = History {
            failures: 3,
            ..polled(utc(10, 0, 0))
        };
        // Forty minutes on, the slot there (with its jitter).
        let j = delta(t.jitter);
        assert_eq!(
            t.next(&history, utc(10, 0, 1)),
            Next::At(utc(10, 40, 0) + j, Reason::BackOff)
        );
    }

    #[test]
    fn retry_after_and_cache_control_postpone_but_never_advance() {
        let t = timing("*/10 * * * *", "alpha");
        let j = delta(t.jitter);
        let last = polled(utc(10, 0, 0) + j);
        let now = utc(10, 0, 1) + j;
        let retry = History {
            retry_at: Some(utc(12, 0, 0)),
            failures: 1,
            ..last.clone()
        };
        assert_eq!(
            t.next(&retry, now),
            Next::At(utc(12, 0, 0), Reason::RetryAfter)
        );
        // A Retry-After sooner than the next slot changes nothing.
        let soon = History {
            retry_at: Some(utc(10, 1, 0)),
            ..last.clone()
        };
        assert_eq!(
            t.next(&soon, now),
            Next::At(utc(10, 10, 0) + j, Reason::Schedule)
        );
        let fresh = History {
            fresh_until: Some(utc(10, 25, 0)),
            ..last
        };
        assert_eq!(
            t.next(&fresh, now),
            Next::At(utc(10, 30, 0) + j, Reason::CacheControl)
        );
    }

    #[test]
    fn gone_stops_and_a_past_date_never_fires() {
        let t = timing("*/10 * * * *", "alpha");
        let gone = History {
            gone: true,
            ..polled(utc(10, 0, 0))
        };
        assert_eq!(t.next(&gone, utc(11, 0, 0)), Next::Stopped);
        let never = timing("0 0 30 2 *", "alpha");
        assert_eq!(
            never.next(&polled(utc(10, 0, 0)), utc(11, 0, 0)),
            Next::Never
        );
    }

    #[test]
    fn slots_follow_the_configured_timezone_across_dst() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let t = Timing::new(&schedule("0 9 * * *"), berlin, "alpha");
        let j = delta(t.jitter);
        // 2026-03-28 09:00 in Berlin is 08:00 UTC; after the switch on the 29th, 07:00 UTC.
        let before = Utc.with_ymd_and_hms(2026, 3, 28, 8, 0, 0).unwrap() + j;
        let after = Utc.with_ymd_and_hms(2026, 3, 29, 7, 0, 0).unwrap() + j;
        assert_eq!(t.fire_after(before - TimeDelta::hours(1)), Some(before));
        assert_eq!(t.fire_after(before), Some(after));
    }
}
