//! `syndic discover URL|PATH`: the feeds a web page links to with `<link rel="alternate">`,
//! one absolute URL a line — what to put in a `[[source]]` before reaching for
//! `[source.html]` selectors. A URL that is itself a feed is listed as it is.
//!
//! Exit 0 when it found a feed, 1 when the page links to none or cannot be fetched. It
//! needs no config file; one named with `-c` lends its `[daemon]` fetch settings.

use std::path::Path;

use super::preview::direct_url;
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::config::Config;
use crate::source::http::{Fetched, Fetcher, Validators};
use crate::source::{charset, discover::feed_links, feed};

pub async fn discover(explicit: Option<&Path>, target: &str) -> u8 {
    let url = match direct_url(target) {
        Some(Ok(url)) => url,
        Some(Err(message)) => {
            eprintln!("error: {message}");
            return EXIT_USAGE;
        }
        None => {
            eprintln!("error: {target:?} is neither a URL nor an existing file");
            return EXIT_USAGE;
        }
    };
    let config = match explicit {
        Some(path) => Config::load(path),
        None => Config::parse("", Path::new("syndic.toml")),
    };
    let config = match config {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let fetched = match Fetcher::new(&config.daemon) {
        Ok(fetcher) => fetcher.fetch(&url, &Validators::default()).await,
        Err(e) => {
            eprintln!("error: {e:#}");
            return EXIT_FAILED;
        }
    };
    let body = match fetched {
        Ok(Fetched::Body(body)) => body,
        Ok(Fetched::NotModified { .. }) => {
            eprintln!("error: {url} answered \"not modified\" to an unconditional request");
            return EXIT_FAILED;
        }
        Err(e) => {
            eprintln!("error: {url}: {e}");
            return EXIT_FAILED;
        }
    };
    if let Ok(document) = feed::parse(&body.bytes, body.content_type.as_deref(), &body.url) {
        eprintln!("{} is itself a feed ({})", body.url, document.format);
        println!("{}", body.url);
        return EXIT_OK;
    }
    let text = charset::decode(&body.bytes, body.content_type.as_deref()).text;
    let feeds = feed_links(&text, &body.url);
    if feeds.is_empty() {
        eprintln!(
            "{} links to no feed (no <link rel=\"alternate\"> with a feed type)",
            body.url
        );
        return EXIT_FAILED;
    }
    for feed in feeds {
        println!("{feed}");
    }
    EXIT_OK
}
