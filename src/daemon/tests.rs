//! The daemon's timing on tokio's paused clock: a source task's polls with scripted
//! answers (success, failures, Retry-After, Cache-Control, Gone), and the publisher's
//! coalescing. No test here sleeps for real.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::publisher::{self, Request};
use super::task::{self, FetchFn};
use super::*;
use crate::harvest::Fetched;
use crate::schedule::Timing;
use crate::source::http::FetchError;
use crate::source::{PollError, Polled};

/// What the scripted server answers, poll by poll (then "not modified" for ever).
#[derive(Clone, Copy)]
enum Answer {
    Fine,
    Status(u16),
    RetryAfter(u64),
    MaxAge(u64),
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 10, 0, 5).unwrap()
}

const CONFIG: &str = r#"
[daemon]
state_dir = "state"
output_dir = "public"
schedule = "*/10 * * * * *"

[[source]]
name = "alpha"
url = "http://127.0.0.1:9/alpha.rss"

[[feed]]
name = "all"
title = "All"
"#;

struct Harness {
    shared: Arc<Shared>,
    config: Config,
    _dir: tempfile::TempDir,
    publish_rx: mpsc::UnboundedReceiver<Request>,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::parse(CONFIG, &dir.path().join("syndic.toml")).unwrap();
    let store = Store::open(&config.daemon.state_dir).unwrap();
    let (tx, publish_rx) = mpsc::unbounded_channel();
    let shared = Shared::new(Clock::tokio(start()), store, config.clone(), tx);
    Harness {
        shared,
        config,
        _dir: dir,
        publish_rx,
    }
}

/// The network's article fetches: the test sources are not full-text ones, so it is
/// never called.
fn no_articles(config: &Config) -> task::ArticlesFn {
    let fetcher = crate::source::http::Fetcher::new(&config.daemon).unwrap();
    task::articles(fetcher, Arc::new(crate::source::http::Limits::new(1, 1)))
}

/// A 200 answer listing `items`.
fn listing(items: Vec<crate::model::Item>) -> Polled {
    Polled::Items {
        items,
        format: crate::source::feed::Format::Rss20,
        title: None,
        warning: None,
        status: Some(200),
        validators: Default::default(),
        max_age: None,
        moved_to: None,
        listing: None,
    }
}

/// What a fetch that took no time brought.
fn fetched(result: Result<Polled, PollError>) -> Fetched {
    Fetched {
        result,
        encoded: None,
        elapsed: Duration::ZERO,
        held: None,
    }
}

/// A fetch that answers from `script` and notes the time of every poll.
fn scripted(script: &[Answer], polls: Arc<Mutex<Vec<DateTime<Utc>>>>) -> FetchFn {
    let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
    Arc::new(move |_source, _validators, now, _waiting, _abandon| {
        polls.lock().unwrap().push(now);
        let answer = script.lock().unwrap().pop_front().unwrap_or(Answer::Fine);
        let not_modified = |max_age| Polled::NotModified {
            status: Some(304),
            max_age,
            moved_to: None,
            validators: None,
        };
        let failed = |status, retry_after| {
            Err(PollError::Fetch(FetchError::Status {
                status,
                retry_after,
            }))
        };
        let result = match answer {
            Answer::Fine => Ok(not_modified(None)),
            Answer::MaxAge(s) => Ok(not_modified(Some(Duration::from_secs(s)))),
            Answer::Status(code) => failed(code, None),
            Answer::RetryAfter(s) => failed(429, Some(Duration::from_secs(s))),
        };
        Box::pin(async move { Some(fetched(result)) })
    })
}

/// Runs the source for `seconds` of paused time; the poll times as seconds after 10:00:00,
/// the source's jitter in seconds, and whether the task had ended by itself.
async fn polls(script: &[Answer], seconds: u64) -> (Vec<f64>, f64, bool) {
    let h = harness();
    let source = h.config.sources[0].clone();
    let jitter = Timing::new(&source.schedule, source.timezone, &source.name)
        .jitter
        .as_secs_f64();
    let times = Arc::new(Mutex::new(Vec::new()));
    let stop = CancellationToken::new();
    let handle = tokio::spawn(task::run(
        h.shared.clone(),
        source,
        scripted(script, times.clone()),
        no_articles(&h.config),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let ended = handle.is_finished();
    stop.cancel();
    handle.await.unwrap();
    let origin = start() - chrono::TimeDelta::seconds(5);
    let times = times
        .lock()
        .unwrap()
        .iter()
        .map(|t| (*t - origin).as_seconds_f64())
        .collect();
    (times, jitter, ended)
}

fn assert_times(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 0.01, "{actual:?} vs {expected:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn polls_at_once_then_on_each_jittered_slot() {
    let (times, j, _) = polls(&[], 45).await;
    assert!(j > 0.0 && j < 1.0, "jitter {j}");
    assert_times(&times, &[5.0, 10.0 + j, 20.0 + j, 30.0 + j, 40.0 + j]);
}

#[tokio::test(start_paused = true)]
async fn failures_back_off_exponentially_and_success_resets() {
    let script = [Answer::Status(500); 3];
    let (times, j, _) = polls(&script, 95).await;
    // Waits of one, two, then four intervals; on schedule again after the success.
    assert_times(&times, &[5.0, 20.0 + j, 40.0 + j, 80.0 + j, 90.0 + j]);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_not_polled_early() {
    let (times, j, _) = polls(&[Answer::RetryAfter(35)], 55).await;
    assert_times(&times, &[5.0, 40.0, 50.0 + j]);
}

#[tokio::test(start_paused = true)]
async fn cache_control_max_age_is_a_floor() {
    let (times, j, _) = polls(&[Answer::MaxAge(25)], 45).await;
    assert_times(&times, &[5.0, 30.0 + j, 40.0 + j]);
}

#[tokio::test(start_paused = true)]
async fn gone_stops_the_source() {
    let (times, _, ended) = polls(&[Answer::Status(410)], 60).await;
    assert_times(&times, &[5.0]);
    assert!(ended, "the task should end after 410 Gone");
}

#[tokio::test(start_paused = true)]
async fn a_restart_polls_an_overdue_source_once_and_keeps_back_off() {
    let h = harness();
    let source = h.config.sources[0].clone();
    // Stored: three failures, the last 90 s before start; back-off is 40 s: overdue.
    let failed_at = start() - chrono::TimeDelta::seconds(90);
    for _ in 0..3 {
        let failure = crate::store::Failure {
            url: "http://127.0.0.1:9/alpha.rss",
            now: failed_at,
            status: Some(500),
            error: "HTTP 500",
            retry_at: None,
            gone_url: None,
        };
        let name = source.name.clone();
        h.shared
            .with_store(move |s| s.record_failure(&name, &failure))
            .await
            .unwrap();
    }
    let times = Arc::new(Mutex::new(Vec::new()));
    let stop = CancellationToken::new();
    let script = [Answer::Status(500)];
    let handle = tokio::spawn(task::run(
        h.shared.clone(),
        source,
        scripted(&script, times.clone()),
        no_articles(&h.config),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(100)).await;
    stop.cancel();
    handle.await.unwrap();
    let times: Vec<_> = times.lock().unwrap().clone();
    assert_eq!(times[0], start(), "overdue: polled at once");
    // Its fourth failure waits 80 s (the stored count went on), not 10.
    let gap = (times[1] - times[0]).num_seconds();
    assert!((75..=86).contains(&gap), "{times:?}");
}

#[tokio::test(start_paused = true)]
async fn requests_close_together_publish_once() {
    let h = harness();
    let (shared, rx) = (h.shared.clone(), h.publish_rx);
    let publisher = tokio::spawn(publisher::run(shared.clone(), rx));
    for _ in 0..50 {
        shared.publish(Request::Source("alpha".into()));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(shared.health().publishes, 1);
    // Apart by more than QUIET: two more writes.
    shared.publish(Request::Source("alpha".into()));
    tokio::time::sleep(publisher::QUIET * 3).await;
    shared.publish(Request::All);
    tokio::time::sleep(publisher::QUIET * 3).await;
    assert_eq!(shared.health().publishes, 3);
    // A steady trickle is still published every MOST.
    for _ in 0..25 {
        shared.publish(Request::Source("alpha".into()));
        tokio::time::sleep(publisher::QUIET / 2).await;
    }
    let publishes = shared.health().publishes;
    assert!((4..=6).contains(&publishes), "{publishes}");
    assert!(h.config.daemon.output_dir.join("all.rss").exists());
    publisher.abort();
}

/// Polls recorded at once, from many tasks and in waves, are all recorded, each with its
/// own outcome, by one recorder at a time: none is left waiting when it stands down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_polls_are_all_recorded() {
    let h = harness();
    let source = h.config.sources[0].clone();
    let mut polls = tokio::task::JoinSet::new();
    for round in 0..200u32 {
        let (shared, source) = (h.shared.clone(), source.clone());
        polls.spawn(async move {
            let item = crate::model::Item {
                title: Some(format!("story {round}")),
                ..crate::model::Item::new("alpha", &format!("urn:x:{round}"), start())
            };
            let fetched = fetched(Ok(listing(vec![item])));
            let before = History::default();
            shared.record(source, fetched, start(), before).await
        });
        // In waves, so that polls come while a recorder is at work.
        if round % 10 == 9 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let mut new = 0;
    let all = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(done) = polls.join_next().await {
            new += done.unwrap().expect("recorded").changes.new;
        }
    });
    all.await.expect("no poll is left waiting for the store");
    assert_eq!(new, 200, "every poll recorded its own new item");
    // It stands down just after its last replies.
    let stood_down = tokio::time::timeout(Duration::from_secs(10), async {
        while h.shared.recording.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    stood_down.await.expect("the recorder stood down");
}

/// A recorder that never runs (no thread could be started for it) stands down, so that
/// the next poll starts one.
#[test]
fn a_recorder_that_never_runs_stands_down() {
    let h = harness();
    h.shared.recording.store(true, Ordering::SeqCst);
    drop(Recorder(Some(h.shared.clone())));
    assert!(!h.shared.recording.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn an_unfetched_article_is_asked_for_again_but_never_twice_at_once() {
    let h = harness();
    let with_full_text = CONFIG.replace("alpha.rss\"\n", "alpha.rss\"\nfull_text = true\n");
    let config = Config::parse(&with_full_text, &h._dir.path().join("syndic.toml")).unwrap();
    let source = config.sources[0].clone();
    assert!(source.full_text.is_some());
    // The first poll lists one item; later ones are "not modified".
    let listed = Arc::new(Mutex::new(false));
    let fetch: FetchFn = Arc::new(move |source, _validators, now, _waiting, _abandon| {
        let first = !std::mem::replace(&mut *listed.lock().unwrap(), true);
        let result = Ok(if first {
            listing(vec![crate::model::Item {
                link: Some("http://127.0.0.1:9/story".into()),
                ..crate::model::Item::new(&source.name, "story", now)
            }])
        } else {
            Polled::NotModified {
                status: Some(304),
                max_age: None,
                moved_to: None,
                validators: None,
            }
        });
        Box::pin(async move { Some(fetched(result)) })
    });
    // Each article fetch takes 25 s (over two polls) and gives nothing, as when abandoned.
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let articles: task::ArticlesFn = Arc::new(move |_source, wanted, _abandon| {
        seen.lock()
            .unwrap()
            .push((tokio::time::Instant::now(), wanted));
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(25)).await;
            Vec::new()
        })
    });
    // A reload restarts the task while the first fetches run: the new task must not start
    // its own meanwhile.
    for seconds in [12, 68] {
        let stop = CancellationToken::new();
        let handle = tokio::spawn(task::run(
            h.shared.clone(),
            source.clone(),
            fetch.clone(),
            articles.clone(),
            stop.clone(),
        ));
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.cancel();
        handle.await.unwrap();
    }
    let calls = calls.lock().unwrap();
    // Asked at the first poll; the polls while that runs ask nothing; the next polls after
    // it ends without the article ask again.
    assert!(calls.len() >= 2, "{} calls", calls.len());
    for pair in calls.windows(2) {
        assert!(
            pair[1].0 - pair[0].0 >= Duration::from_secs(25),
            "overlapping fetches"
        );
    }
    for (_, wanted) in calls.iter() {
        assert_eq!(wanted.len(), 1);
        assert_eq!(wanted[0].link, "http://127.0.0.1:9/story");
    }
}
