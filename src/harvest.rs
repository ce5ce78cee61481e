//! One poll of one source, start to finish: fetch and read it within the fetch limits,
//! write the outcome to the store, and say what the scheduler must know next. `syndic once`
//! and every daemon source task go through here, so both behave the same.
//!
//! A failed poll is an [`Outcome`] like any other (its items stay stored); only a store
//! that cannot be written is an `Err`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use url::Url;

use crate::config::{KEEP_NEWEST, SourceConfig};
use crate::schedule::{History, MAX_RETRY_AFTER, delta};
use crate::source::http::{Fetcher, Limits, Permit, Validators};
use crate::source::{PollError, Polled, more_pages, read, read_then};
use crate::stages::{Stage, Timer};
use crate::store::{Changes, Encodings, Failure, Poll, Store, Wanted, encode_all};

/// What a poll did.
#[derive(Debug)]
pub struct Outcome {
    /// HTTP status; `None` for files and for failures before an answer.
    pub status: Option<u16>,
    pub changes: Changes,
    /// The poll failed (a consecutive failure, for back-off).
    pub failed: bool,
    /// Why it failed, or what was wrong with a document that was read only in part.
    pub error: Option<String>,
    /// Where a permanent redirect led.
    pub moved_to: Option<Url>,
    /// The scheduler's view of the source after this poll.
    pub history: History,
    /// New or changed items of a full-text source whose article page was never fetched.
    pub wanted: Vec<Wanted>,
    pub elapsed: Duration,
}

/// What a fetch brought, read, and how long it took from asking for a fetch slot to the
/// answer (so `now + elapsed` is when the server answered).
#[derive(Debug)]
pub struct Fetched {
    pub result: Result<Polled, PollError>,
    /// The items for the store ([`Poll::encoded`]), when they were encoded: the result then
    /// lists none, as they were freed where they were made.
    pub encoded: Option<Encodings>,
    pub elapsed: Duration,
    /// Room among the polls not yet recorded ([`Limits::unrecorded`]), given back when
    /// [`record`] is done with the poll.
    pub held: Option<OwnedSemaphorePermit>,
}

/// Fetches and reads `source`, holding a fetch slot from `limits` while fetching (a feed
/// gives it back once its bytes are in, and waits for a turn to be read),
/// and room among the polls not yet recorded until [`record`] is done with it. `None` when
/// `waiting` fires before a slot and room are free, or `abandon` before the fetch is done;
/// once the bytes are in, they are read. A web page's further listing pages are fetched
/// one at a time in the same slot (kept while it is read), without validators; `abandon`
/// stops that walk with the pages read so far.
pub async fn fetch(
    fetcher: &Fetcher,
    limits: &Limits,
    source: &SourceConfig,
    validators: &Validators,
    now: DateTime<Utc>,
    waiting: &CancellationToken,
    abandon: &CancellationToken,
) -> Option<Fetched> {
    let began = Instant::now();
    let permit = tokio::select! {
        permit = limits.acquire(&source.url) => permit,
        () = waiting.cancelled() => return None,
        () = abandon.cancelled() => return None,
    };
    // When the store falls behind, fetching waits here, so what waits for it stays bounded
    // (without this, 5000 feeds read by 32 fetches at once queued 375 MB of parsed items).
    let held = tokio::select! {
        held = limits.unrecorded() => held,
        () = waiting.cancelled() => return None,
        () = abandon.cancelled() => return None,
    };
    // Boxed: the fetching and reading are most of the future's size, and only polls with
    // a slot need them (5000 queued polls took 26 MB unboxed).
    let (result, encoded, elapsed) = Box::pin(fetch_and_read(
        fetcher, limits, permit, began, source, validators, now, abandon,
    ))
    .await?;
    Some(Fetched {
        result,
        encoded,
        elapsed,
        held: Some(held),
    })
}

/// The fetching and reading of [`fetch`], once it has `slot`, and the encoding of the items
/// for the store, with the time from `began` to the server's answer; `None` when `abandon`
/// fires before the bytes are in.
#[allow(clippy::too_many_arguments)]
async fn fetch_and_read(
    fetcher: &Fetcher,
    limits: &Limits,
    slot: Permit,
    began: Instant,
    source: &SourceConfig,
    validators: &Validators,
    now: DateTime<Utc>,
    abandon: &CancellationToken,
) -> Option<(Result<Polled, PollError>, Option<Encodings>, Duration)> {
    let fetched = tokio::select! {
        fetched = fetcher.fetch(&source.url, validators) => fetched,
        () = abandon.cancelled() => return None,
    };
    let elapsed = began.elapsed();
    let fetched = match fetched {
        Ok(fetched) => fetched,
        Err(e) => return Some((Err(e.into()), None, elapsed)),
    };
    if source.html.is_none() {
        // A feed is done with the network once its bytes are in: its fetch slot goes back
        // (with `per_host = 2`, 5000 feeds on one host had been read two at a time, a core
        // idling while either waited for the network), and it waits for a turn to be read.
        // What bounds the bodies held is the room among the polls not yet recorded
        // ([`Limits::unrecorded`]). A feed has no further pages.
        drop(slot);
        let _turn = limits.reading().await;
        let digest = validators.digest.as_deref();
        let links = source.full_text.is_some();
        let read = read_then(source, fetched, digest, now, move |r| {
            encode_items(r, links)
        })
        .await;
        let (result, encoded) = read.unwrap_or_else(|e| (Err(e), None));
        return Some((result, encoded, elapsed));
    }
    // A web page keeps its whole slot for its further pages and is read in it, without a
    // turn: a turn is never held across the network.
    let result = read(source, fetched, validators.digest.as_deref(), now).await;
    // Further pages in the same slot: a poll holding room among the unrecorded never
    // waits for a slot, so slots and room cannot wait on each other.
    let result = more_pages(source, result, now, |url| async move {
        let unconditional = Validators::default();
        tokio::select! {
            fetched = fetcher.fetch(&url, &unconditional) => Some(fetched),
            () = abandon.cancelled() => None,
        }
    })
    .await;
    let (result, encoded) = encoded(result, source.full_text.is_some()).await;
    drop(slot);
    Some((result, encoded, elapsed))
}

/// `result` with its items encoded in their place, on a blocking thread: the store has one
/// writer, and a first poll's writer had spent two fifths of its time on this. No
/// encodings (the store makes them itself from the items) when encoding fails.
async fn encoded(
    result: Result<Polled, PollError>,
    links: bool,
) -> (Result<Polled, PollError>, Option<Encodings>) {
    if !matches!(&result, Ok(Polled::Items { items, .. }) if !items.is_empty()) {
        return (result, None);
    }
    match tokio::task::spawn_blocking(move || encode_items(result, links)).await {
        Ok(done) => done,
        // The result went with the panic: the poll fails as a panicking read would.
        Err(e) => (Err(PollError::Internal(e.to_string())), None),
    }
}

/// [`encoded`], on the thread it is called on: the items are freed here, once encoded.
/// `links`: whether the encodings keep the items' links, which only a full-text source's
/// recording reads (its articles are looked up by them).
fn encode_items(
    mut result: Result<Polled, PollError>,
    links: bool,
) -> (Result<Polled, PollError>, Option<Encodings>) {
    let encoded = match &mut result {
        Ok(Polled::Items { items, .. }) if !items.is_empty() => {
            let _timer = Timer::start(Stage::Store);
            encode_all(items, links)
        }
        _ => None,
    };
    (result, encoded)
}

/// Writes one poll's outcome to the store. `now` is when the poll began; `before` is the
/// scheduler's view before it; `cache_ceiling` caps how long a server's `max-age` may
/// postpone the next poll.
pub fn record(
    store: &mut Store,
    source: &SourceConfig,
    fetched: Fetched,
    now: DateTime<Utc>,
    before: &History,
    cache_ceiling: Duration,
) -> anyhow::Result<Outcome> {
    let _timer = Timer::start(Stage::Store);
    let Fetched {
        result,
        encoded,
        elapsed,
        held: _held,
    } = fetched;
    // Deferrals count from the answer, not from the start of a wait for a slot.
    let answered = now + delta(elapsed);
    let mut poll = Poll {
        url: source.url.as_str(),
        now,
        items: None,
        encoded: None,
        status: None,
        validators: None,
        retain: source.retain,
        keep_newest: KEEP_NEWEST,
        warning: None,
        fresh_until: None,
        moved_to: None,
        full_text: source.full_text.is_some(),
    };
    let succeeded = |max_age: Option<Duration>| History {
        last_fetch: Some(now),
        failures: 0,
        retry_at: None,
        fresh_until: max_age.map(|age| answered + delta(age.min(cache_ceiling))),
        gone: false,
    };
    match result {
        Ok(polled) => {
            // A 304 lists nothing; a document lists its items, with new validators unless it
            // was read only in part (then the next poll fetches it again instead of being
            // told it has not changed). The same document again lists nothing either, but
            // its validators are kept.
            let (status, max_age, moved_to, unchanged, listing) = match polled {
                Polled::NotModified {
                    status,
                    max_age,
                    moved_to,
                    validators,
                } => (status, max_age, moved_to, validators, None),
                Polled::Items {
                    items,
                    status,
                    validators,
                    warning,
                    max_age,
                    moved_to,
                    ..
                } => (
                    status,
                    max_age,
                    moved_to,
                    None,
                    Some((items, validators, warning)),
                ),
            };
            let history = succeeded(max_age);
            poll.status = status;
            poll.fresh_until = history.fresh_until;
            poll.moved_to = moved_to.as_ref().map(Url::as_str);
            let mut error = None;
            poll.validators = unchanged.as_ref();
            if let Some((items, validators, warning)) = &listing {
                // The items themselves only when they were not encoded (and freed).
                poll.encoded = encoded.as_ref();
                poll.items = poll.encoded.is_none().then_some(items.as_slice());
                poll.warning = warning.as_deref();
                poll.validators = warning.is_none().then_some(validators);
                error = warning.clone();
            }
            let recorded = store.record_listing(&source.name, &poll)?;
            Ok(Outcome {
                status,
                changes: recorded.changes,
                failed: false,
                error,
                moved_to,
                history,
                wanted: recorded.wanted,
                elapsed,
            })
        }
        Err(e) => {
            let error = e.to_string();
            let status = e.status();
            let gone = status == Some(410);
            let retry_at = e
                .retry_after()
                .map(|wait| answered + delta(wait.min(MAX_RETRY_AFTER)));
            store.record_failure(
                &source.name,
                &Failure {
                    url: source.url.as_str(),
                    now,
                    status,
                    error: &error,
                    retry_at,
                    gone_url: gone.then_some(source.url.as_str()),
                },
            )?;
            Ok(Outcome {
                status,
                changes: Changes::default(),
                failed: true,
                error: Some(error),
                moved_to: None,
                history: History {
                    last_fetch: Some(now),
                    failures: before.failures.saturating_add(1),
                    retry_at,
                    fresh_until: before.fresh_until,
                    gone,
                },
                wanted: Vec::new(),
                elapsed,
            })
        }
    }
}

/// The log line of a poll, and the one-time warning for a permanent redirect.
pub fn report(source: &SourceConfig, outcome: &Outcome, moved_to: &mut Option<String>) {
    let ms = outcome.elapsed.as_millis() as u64;
    let status = outcome
        .status
        .map_or_else(|| "-".to_string(), |s| s.to_string());
    let (new, updated) = (outcome.changes.new, outcome.changes.updated);
    match (&outcome.error, outcome.failed) {
        (None, _) => {
            info!(source = %source.name, %status, new, updated, ms, "Polled source.")
        }
        (Some(error), false) => {
            warn!(source = %source.name, %status, new, updated, ms, %error, "Source failed: its document is broken; the entries before the break were kept.")
        }
        (Some(error), true) => {
            warn!(source = %source.name, url = %source.url, %status, failures = outcome.history.failures, ms, %error, "Source failed; its stored items stay published.")
        }
    }
    if !outcome.failed {
        let current = outcome.moved_to.as_ref().map(|u| u.to_string());
        if let Some(new_url) = &current
            && moved_to.as_ref() != Some(new_url)
        {
            warn!(source = %source.name, url = %source.url, moved_to = %new_url, "Source moved permanently: put the new URL in the config.");
        }
        *moved_to = current;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::config::Config;

    /// A feed's fetch slot, its host's and its place among all fetches, goes back once its
    /// bytes are in, while it waits for its turn to be read. It is read, and encoded for the
    /// store, once it has a turn.
    #[tokio::test]
    async fn a_feed_gives_its_fetch_slot_back_before_it_is_read() {
        let server = MockServer::start().await;
        let feed = "<rss version='2.0'><channel><item><title>x</title></item></channel></rss>";
        Mock::given(path("/feed.xml"))
            .respond_with(ResponseTemplate::new(200).set_body_string(feed))
            .mount(&server)
            .await;
        let config = Config::parse("", Path::new("syndic.toml")).unwrap();
        let fetcher = Fetcher::new(&config.daemon).unwrap();
        let url = Url::parse(&format!("{}/feed.xml", server.uri())).unwrap();
        let source = SourceConfig::new("one", url.clone(), &config.daemon);
        // Two fetches in all, one per host.
        let limits = Arc::new(Limits::new(2, 1));
        let mut turns = Vec::new();
        for _ in 0..crate::source::http::reading_turns() {
            turns.push(limits.reading().await);
        }
        // The poll queues for the host's only slot, which it gets when this one goes back.
        let mine = limits.acquire(&url).await;
        let poll = tokio::spawn({
            let limits = limits.clone();
            async move {
                let never = CancellationToken::new();
                let validators = Validators::default();
                fetch(
                    &fetcher,
                    &limits,
                    &source,
                    &validators,
                    Utc::now(),
                    &never,
                    &never,
                )
                .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(mine);
        let wait = Duration::from_secs(10);
        let again = tokio::time::timeout(wait, limits.acquire(&url)).await;
        let again = again.expect("the host's slot comes back before the feed is read");
        assert!(!poll.is_finished(), "the feed waits for a turn to be read");
        // Two fetches in all: the one just taken, and one more as the feed holds none.
        let elsewhere = Url::parse("http://elsewhere.example/").unwrap();
        let short = Duration::from_millis(100);
        let other = tokio::time::timeout(short, limits.acquire(&elsewhere)).await;
        let other = other.expect("the feed no longer holds a place among all fetches");
        assert!(!poll.is_finished(), "the feed still waits for a turn");
        drop((again, other, turns));
        let fetched = poll.await.unwrap().expect("the poll is not abandoned");
        assert_eq!(
            fetched.encoded.map(|e| e.len()),
            Some(1),
            "its item is encoded for the store"
        );
        assert!(
            matches!(fetched.result, Ok(Polled::Items { items, .. }) if items.is_empty()),
            "and freed once encoded"
        );
    }
}
