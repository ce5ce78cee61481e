//! Sources: fetch a source's bytes and turn them into normalised items.
//!
//! [`poll`] is the one path from a source to items, shared by `once`, `preview` and the
//! daemon: fetch ([`http`], with [`headers`] read for when to ask again) → decode
//! ([`charset`]), sniff and parse ([`feed`]: the RSS/Atom reader [`feedxml`] on the [`xml`]
//! tokeniser, with [`elements`] and [`capture`], or [`json`]) — or, for a web page, apply
//! its selectors ([`html`], following `next` pages with [`more_pages`]) → normalise
//! ([`normalise`]). [`date`], [`humandate`] and [`text`] are shared helpers; [`discover`]
//! finds the feeds an HTML page links to;
//! [`fulltext`] fetches and extracts the articles of full-text sources' new items. It
//! neither reads nor writes the store: callers pass validators in and record the outcome,
//! and act on what the server said about timing and moves.

mod capture;
pub mod charset;
pub mod date;
pub mod discover;
mod elements;
pub mod feed;
mod feedxml;
pub mod fulltext;
mod headers;
pub mod html;
pub mod http;
pub mod humandate;
pub mod json;
pub mod normalise;
mod simple_html;
pub mod text;
mod tls;
pub mod xml;

use crate::stages::{self, Stage};
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;
use xxhash_rust::xxh3::Xxh3;

use crate::config::SourceConfig;
use crate::model::Item;
use feed::{Format, ParseError};
use http::{FetchError, Fetched, Fetcher, Validators};
use normalise::Sanitise;

/// Most entries taken from one document (the first ones, which feeds list newest first).
/// An 8 MiB body of bare `<item>`s holds a quarter of a million; keeping them all would cost
/// hundreds of megabytes per poll and flood the store.
pub const MAX_ENTRIES: usize = 5000;

/// A poll that succeeded.
#[derive(Debug)]
pub enum Polled {
    /// The source has not changed since the validators were issued: a 304, or the very
    /// document read last time ([`Validators::digest`]).
    NotModified {
        status: Option<u16>,
        /// How long the server says its answer stays fresh ([`http::Body::max_age`]).
        max_age: Option<Duration>,
        /// Where the source has permanently moved ([`http::Body::moved_to`]).
        moved_to: Option<Url>,
        /// The validators the unchanged document came with this time, to keep in place of
        /// the stored ones; `None` for a 304.
        validators: Option<Validators>,
    },
    /// The source's current items, normalised; their HTML may be as the source gave it,
    /// to be sanitised once it is read back out of the store ([`Item::raw`]).
    Items {
        items: Vec<Item>,
        format: Format,
        /// The document's own title, for `preview`.
        title: Option<String>,
        /// Something wrong with the document that did not stop it being read.
        warning: Option<String>,
        status: Option<u16>,
        validators: Validators,
        /// How long the server says its answer stays fresh ([`http::Body::max_age`]).
        max_age: Option<Duration>,
        /// Where the source has permanently moved ([`http::Body::moved_to`]).
        moved_to: Option<Url>,
        /// For a web page: what its selectors found over every page read, and the next
        /// listing page, not yet read ([`more_pages`] reads it).
        listing: Option<Box<html::Listing>>,
    },
}

/// Why a poll failed: the fetch, or what came back.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// A bug met while parsing; the source fails, the program goes on.
    #[error("internal error while parsing: {0}")]
    Internal(String),
}

impl PollError {
    /// The HTTP status to record with the failure, if the server gave one.
    pub fn status(&self) -> Option<u16> {
        match self {
            PollError::Fetch(e) => e.status(),
            PollError::Parse(_) | PollError::Internal(_) => None,
        }
    }

    /// How long the server asked us to wait before polling again, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PollError::Fetch(e) => e.retry_after(),
            PollError::Parse(_) | PollError::Internal(_) => None,
        }
    }
}

/// Fetches `source` (validators go to its first page only) and returns its items, with
/// `first_seen = now`; for a web page, up to `max_pages` listing pages.
pub async fn poll(
    fetcher: &Fetcher,
    source: &SourceConfig,
    validators: &Validators,
    now: DateTime<Utc>,
) -> Result<Polled, PollError> {
    let first = match fetcher.fetch(&source.url, validators).await {
        Ok(fetched) => read(source, fetched, validators.digest.as_deref(), now).await,
        Err(e) => Err(e.into()),
    };
    more_pages(source, first, now, |url| async move {
        Some(fetcher.fetch(&url, &Validators::default()).await)
    })
    .await
}

/// Reads a web page's further listing pages after its first, following `next` up to
/// `max_pages` pages in all, fetching each with `fetch` (unconditionally: validators
/// belong to the first page). Items already seen on an earlier page are skipped. A page
/// that cannot be fetched or read ends the walk with a warning (the items so far are
/// kept); one without items, or `fetch` giving up (`None`), ends it quietly. Anything but a
/// web page's items passes through unchanged.
pub async fn more_pages<F, Fut>(
    source: &SourceConfig,
    first: Result<Polled, PollError>,
    now: DateTime<Utc>,
    mut fetch: F,
) -> Result<Polled, PollError>
where
    F: FnMut(Url) -> Fut,
    Fut: Future<Output = Option<Result<Fetched, FetchError>>>,
{
    let Some(max_pages) = source.html.as_ref().map(|h| h.max_pages) else {
        return first;
    };
    let Ok(Polled::Items {
        mut items,
        format,
        title,
        mut warning,
        status,
        validators,
        max_age,
        moved_to,
        mut listing,
    }) = first
    else {
        return first;
    };
    let mut visited = vec![source.url.clone()];
    let mut pages = 1;
    while let Some(url) = listing.as_mut().and_then(|l| l.next.take()) {
        if pages >= max_pages || visited.contains(&url) {
            break;
        }
        // A page on the web never leads to a local file (nor a file to the web).
        let web = |u: &Url| matches!(u.scheme(), "http" | "https");
        if web(&url) != web(&source.url) || !matches!(url.scheme(), "http" | "https" | "file") {
            tracing::warn!(source = %source.name, next = %url, "The next page's link leaves the source's kind of URL; not followed.");
            break;
        }
        // Further pages are read in the poll's own fetch slot, which is for its host only.
        if url.host_str() != source.url.host_str() {
            tracing::warn!(source = %source.name, next = %url, "The next page's link leads to another host; not followed.");
            break;
        }
        visited.push(url.clone());
        pages += 1;
        let read = match fetch(url.clone()).await {
            None => break,
            Some(Ok(fetched)) => read(source, fetched, None, now).await,
            Some(Err(e)) => Err(e.into()),
        };
        match read {
            Ok(Polled::Items {
                items: more,
                listing: found,
                ..
            }) => {
                for item in more {
                    if !items.iter().any(|i| i.id == item.id) {
                        items.push(item);
                    }
                }
                if let (Some(all), Some(found)) = (listing.as_mut(), found) {
                    all.report.add(&found.report);
                    all.next = found.next;
                }
            }
            Ok(Polled::NotModified { .. }) | Err(PollError::Parse(ParseError::NoItems { .. })) => {
                break;
            }
            Err(e) => {
                warning.get_or_insert(format!("listing page {pages} ({url}): {e}"));
                break;
            }
        }
    }
    Ok(Polled::Items {
        items,
        format,
        title,
        warning,
        status,
        validators,
        max_age,
        moved_to,
        listing,
    })
}

/// Turns what a fetch brought into items (the half of [`poll`] after the network), as a
/// feed or, when `source` has `[source.html]`, as a web page. Does not follow `next`.
/// A document whose digest is `last_digest` is not read again: it is [`Polled::NotModified`].
pub async fn read(
    source: &SourceConfig,
    fetched: Fetched,
    last_digest: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<Polled, PollError> {
    read_then(source, fetched, last_digest, now, |polled| polled)
        .await
        .unwrap_or_else(Err)
}

/// [`read`], then `then` on what it read, in the same task on a blocking thread (one
/// hand-off between threads, not two, for a caller with more CPU work to do on it). `Err`
/// only when that task panicked, taking the result with it. A 304 has nothing to read:
/// `then` runs at once on the caller's task, where a panic is the caller's.
pub async fn read_then<T: Send + 'static>(
    source: &SourceConfig,
    fetched: Fetched,
    last_digest: Option<&[u8]>,
    now: DateTime<Utc>,
    then: impl FnOnce(Result<Polled, PollError>) -> T + Send + 'static,
) -> Result<T, PollError> {
    let body = match fetched {
        Fetched::NotModified {
            status,
            max_age,
            moved_to,
        } => {
            return Ok(then(Ok(Polled::NotModified {
                status,
                max_age,
                moved_to,
                validators: None,
            })));
        }
        Fetched::Body(body) => body,
    };
    let name = source.name.clone();
    let html = source.html.clone();
    let zone = source.timezone;
    // A source's items are sanitised when they are read out of the store, unless its
    // articles replace their content: what the source gave is then compared as sanitised
    // (see `Store::record_listing`), as the article is.
    let sanitise = match source.full_text {
        Some(_) => Sanitise::Now,
        None => Sanitise::Later,
    };
    let reading = reading(source);
    let last_digest = last_digest.map(<[u8]>::to_vec);
    // Parsing is CPU work: keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        let read = move || -> Result<Polled, PollError> {
            let digest = reading.map(|reading| digest(&reading, &body));
            let validators = Validators {
                digest,
                ..body.validators
            };
            if validators.digest.is_some() && validators.digest == last_digest {
                return Ok(Polled::NotModified {
                    status: body.status,
                    max_age: body.max_age,
                    moved_to: body.moved_to,
                    validators: Some(validators),
                });
            }
            let (mut document, listing) = stages::timed(Stage::Parse, || {
                Ok::<_, PollError>(match &html {
                    Some(html) => {
                        let page = html::parse(
                            &body.bytes,
                            body.content_type.as_deref(),
                            &body.url,
                            html,
                            zone,
                        )?;
                        (page.document, Some(Box::new(page.listing)))
                    }
                    None => (
                        feed::parse(&body.bytes, body.content_type.as_deref(), &body.url)?,
                        None,
                    ),
                })
            })?;
            let found = document.entries.len();
            if found > MAX_ENTRIES {
                document.entries.truncate(MAX_ENTRIES);
                tracing::warn!(
                    source = %name,
                    found,
                    kept = MAX_ENTRIES,
                    "Source lists more entries than syndic takes; kept the first."
                );
            }
            let format = document.format;
            let title = document.title.clone();
            let warning = document.warning.clone();
            Ok(Polled::Items {
                title,
                warning,
                items: stages::timed(Stage::Normalise, || {
                    normalise::normalise_with(document, &name, now, sanitise)
                }),
                format,
                status: body.status,
                validators,
                max_age: body.max_age,
                moved_to: body.moved_to,
                listing,
            })
        };
        then(read())
    })
    .await
    .map_err(|e| PollError::Internal(e.to_string()))
}

/// What reading a document of `source` depends on besides its bytes, for [`digest`]:
/// syndic's version and the source's name (part of ids), zone and page selectors. `None`
/// for a web page that walks further pages, which the first page's bytes say nothing of.
fn reading(source: &SourceConfig) -> Option<String> {
    if source.html.as_ref().is_some_and(|h| h.next.is_some()) {
        return None;
    }
    Some(format!(
        "syndic {}\n{}\n{}\n{:?}",
        env!("CARGO_PKG_VERSION"),
        source.name,
        source.timezone,
        source.html
    ))
}

/// XXH3-128 of a document with everything its reading depends on: `reading`, the address
/// it came from (the base of its links) and its Content-Type (its charset). It only tells
/// the same bytes again, so it need not be a cryptographic hash (SHA-256 was 2.7 % of the
/// 5000-feed first poll's CPU, hashing every byte fetched). A digest stored by an older
/// build (32 bytes) never equals one of these, so that document is read once more.
fn digest(reading: &str, body: &http::Body) -> Vec<u8> {
    let mut hash = Xxh3::new();
    for part in [
        reading.as_bytes(),
        body.url.as_str().as_bytes(),
        body.content_type.as_deref().unwrap_or("").as_bytes(),
        &body.bytes,
    ] {
        hash.update(&(part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.digest128().to_le_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    #[tokio::test]
    async fn a_web_page_never_leads_to_a_local_file_or_another_host() {
        for next in ["file:///etc/passwd", "https://elsewhere.example/page2"] {
            assert_not_followed(next).await;
        }
    }

    async fn assert_not_followed(next: &str) {
        let config = Config::parse(
            "[[source]]\nname = 'w'\nurl = 'https://news.example/'\n[source.html]\nitem = 'li'\nnext = 'a.next'\n",
            Path::new("syndic.toml"),
        )
        .unwrap();
        let source = &config.sources[0];
        let page =
            format!("<ul><li><a href='/a'>A</a></li></ul><a class='next' href='{next}'>more</a>");
        let body = http::Body {
            bytes: page.into(),
            url: source.url.clone(),
            content_type: Some("text/html".into()),
            status: Some(200),
            validators: Validators::default(),
            max_age: None,
            moved_to: None,
        };
        let first = read(source, Fetched::Body(body), None, Utc::now()).await;
        let mut asked = Vec::new();
        let polled = more_pages(source, first, Utc::now(), |url| {
            asked.push(url);
            async { None }
        })
        .await;
        assert!(asked.is_empty(), "followed {asked:?}");
        let Ok(Polled::Items { items, .. }) = polled else {
            panic!("the first page's items stay");
        };
        assert_eq!(items.len(), 1);
    }

    #[tokio::test]
    async fn a_document_gives_at_most_max_entries_items() {
        let dir = tempfile::tempdir().unwrap();
        let mut feed = String::from("<rss version='2.0'><channel><title>Many</title>");
        for i in 0..MAX_ENTRIES + 7 {
            feed.push_str(&format!(
                "<item><guid>https://many.example/{i}</guid></item>"
            ));
        }
        feed.push_str("</channel></rss>");
        let path = dir.path().join("many.xml");
        std::fs::write(&path, feed).unwrap();
        let config = Config::parse("", Path::new("syndic.toml")).unwrap();
        let fetcher = Fetcher::new(&config.daemon).unwrap();
        let url = Url::from_file_path(&path).unwrap();
        let source = SourceConfig::new("many", url, &config.daemon);
        let polled = poll(&fetcher, &source, &Validators::default(), Utc::now())
            .await
            .unwrap();
        let Polled::Items { items, warning, .. } = polled else {
            panic!("a first poll reads the file");
        };
        assert_eq!(items.len(), MAX_ENTRIES);
        assert_eq!(
            items[0].id, "https://many.example/0",
            "the first ones are kept"
        );
        assert_eq!(warning, None, "a long feed is not a broken one");
    }

    #[tokio::test]
    async fn a_file_has_no_cache_lifetime_and_never_moves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.xml");
        std::fs::write(
            &path,
            "<rss version='2.0'><channel><item><guid>x</guid></item></channel></rss>",
        )
        .unwrap();
        let config = Config::parse("", Path::new("syndic.toml")).unwrap();
        let fetcher = Fetcher::new(&config.daemon).unwrap();
        let url = Url::from_file_path(&path).unwrap();
        let source = SourceConfig::new("one", url, &config.daemon);
        let first = poll(&fetcher, &source, &Validators::default(), Utc::now()).await;
        let Ok(Polled::Items {
            max_age,
            moved_to,
            validators,
            ..
        }) = first
        else {
            panic!("a first poll reads the file: {first:?}");
        };
        assert_eq!((max_age, moved_to), (None, None));
        let again = poll(&fetcher, &source, &validators, Utc::now()).await;
        let Ok(Polled::NotModified {
            max_age, moved_to, ..
        }) = again
        else {
            panic!("an unchanged file is not read again: {again:?}");
        };
        assert_eq!((max_age, moved_to), (None, None));
    }
}
