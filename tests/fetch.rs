//! Fetching as servers really answer: compressed bodies (gzip, deflate, brotli) and
//! redirects, after which relative links resolve against the final URL and permanent moves
//! are reported; `Cache-Control` read on 200 and 304, and `Retry-After` on errors; `https`
//! against trusted, untrusted and unreadable roots. Most tests call the library's fetcher
//! directly, to see what it hands the caller.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use url::Url;
use wiremock::matchers::{header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use syndic::config::{Config, SourceConfig};
use syndic::source::http::{FetchError, Fetched, Fetcher, Validators};
use syndic::source::{PollError, Polled, poll};

use crate::support::{Site, fixture, fixture_response, test_ca, tls_server};

/// A fetcher with the default `[daemon]` settings.
fn fetcher() -> Fetcher {
    let config = Config::parse("", Path::new("syndic.toml")).expect("an empty config is valid");
    Fetcher::new(&config.daemon).expect("client")
}

/// Serves `from` on `server` as a `status` redirect to `to` (a path on the same server, or
/// a whole URL).
async fn redirect(server: &MockServer, from: &str, status: u16, to: &str) {
    Mock::given(path(from))
        .respond_with(ResponseTemplate::new(status).insert_header("location", to))
        .mount(server)
        .await;
}

fn at(server: &MockServer, path: &str) -> Url {
    Url::parse(&format!("{}{path}", server.uri())).unwrap()
}

/// A feed source at `url` with the default settings.
fn feed(name: &str, url: Url) -> SourceConfig {
    let config = Config::parse("", Path::new("syndic.toml")).expect("an empty config is valid");
    SourceConfig::new(name, url, &config.daemon)
}

async fn fetch(url: &Url) -> Result<Fetched, FetchError> {
    fetcher().fetch(url, &Validators::default()).await
}

fn compress(encoding: &str, data: &[u8]) -> Vec<u8> {
    match encoding {
        "gzip" => {
            let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            w.write_all(data).unwrap();
            w.finish().unwrap()
        }
        "deflate" => {
            let mut w = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            w.write_all(data).unwrap();
            w.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                w.write_all(data).unwrap();
            }
            out
        }
        other => panic!("no encoder for {other}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn compressed_bodies_are_decoded() {
    let server = MockServer::start().await;
    let plain = fixture("http/alpha.rss");
    let mut config = String::new();
    for encoding in ["gzip", "deflate", "br"] {
        Mock::given(path(format!("/{encoding}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-encoding", encoding)
                    .set_body_bytes(compress(encoding, &plain)),
            )
            .mount(&server)
            .await;
        config.push_str(&format!(
            "[[source]]\nname = \"{encoding}\"\nurl = \"{}/{encoding}\"\n\n",
            server.uri()
        ));
    }
    let site = Site::new(&config);
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    for encoding in ["gzip", "deflate", "br"] {
        assert!(
            run.stderr
                .contains(&format!("source={encoding} status=200 new=3")),
            "{encoding}: {}",
            run.stderr
        );
    }
    let requests = server.received_requests().await.unwrap();
    let accepted = requests[0]
        .headers
        .get("accept-encoding")
        .unwrap()
        .to_str()
        .unwrap();
    for encoding in ["gzip", "deflate", "br"] {
        assert!(accepted.contains(encoding), "{accepted}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_followed_and_links_resolve_against_the_final_url() {
    let old = MockServer::start().await;
    let new = MockServer::start().await;
    Mock::given(path("/feed"))
        .respond_with(
            ResponseTemplate::new(301)
                .insert_header("location", format!("{}/moved/feed.atom", new.uri())),
        )
        .mount(&old)
        .await;
    Mock::given(path("/moved/feed.atom"))
        .respond_with(fixture_response("beta.atom"))
        .mount(&new)
        .await;
    let site = Site::new(&format!(
        "[[source]]\nname = \"beta\"\nurl = \"{}/feed\"\n\n[[feed]]\nname = \"merged\"\n",
        old.uri()
    ));
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let bytes = std::fs::read(site.public("merged.atom")).unwrap();
    let base = Url::parse("https://feeds.example.org/").unwrap();
    let doc = syndic::source::feed::parse(&bytes, None, &base).unwrap();
    let own = doc
        .entries
        .iter()
        .find(|e| e.title.as_deref() == Some("Beta own"))
        .unwrap();
    assert_eq!(
        own.link.as_deref(),
        Some(format!("{}/own", new.uri()).as_str())
    );
    assert!(
        own.content
            .as_deref()
            .unwrap()
            .contains(&format!("{}/more", new.uri())),
        "{:?}",
        own.content
    );
}

#[tokio::test]
async fn a_permanent_redirect_is_reported_and_items_come_from_the_new_url() {
    let old = MockServer::start().await;
    let new = MockServer::start().await;
    redirect(
        &old,
        "/feed",
        301,
        &format!("{}/moved/feed.atom", new.uri()),
    )
    .await;
    Mock::given(path("/moved/feed.atom"))
        .respond_with(fixture_response("beta.atom"))
        .mount(&new)
        .await;
    let polled = poll(
        &fetcher(),
        &feed("beta", at(&old, "/feed")),
        &Validators::default(),
        Utc::now(),
    )
    .await
    .unwrap();
    let Polled::Items {
        items, moved_to, ..
    } = polled
    else {
        panic!("a 200 after the redirect gives items");
    };
    assert_eq!(moved_to, Some(at(&new, "/moved/feed.atom")));
    let own = items
        .iter()
        .find(|i| i.title.as_deref() == Some("Beta own"))
        .unwrap();
    assert_eq!(own.link.as_deref(), Some(at(&new, "/own").as_str()));
}

#[tokio::test]
async fn a_temporary_redirect_is_not_a_move() {
    let server = MockServer::start().await;
    redirect(&server, "/feed", 302, "/today.rss").await;
    Mock::given(path("/today.rss"))
        .respond_with(fixture_response("alpha.rss"))
        .mount(&server)
        .await;
    let Ok(Fetched::Body(body)) = fetch(&at(&server, "/feed")).await else {
        panic!("the redirect is followed");
    };
    assert_eq!(body.moved_to, None);
    assert_eq!(body.url, at(&server, "/today.rss"), "the base for links");
}

#[tokio::test]
async fn a_move_is_the_leading_run_of_permanent_redirects() {
    let server = MockServer::start().await;
    Mock::given(path("/end"))
        .respond_with(fixture_response("alpha.rss"))
        .mount(&server)
        .await;
    // 308 then 302: the move stops where the temporary redirect starts.
    redirect(&server, "/a", 308, "/b").await;
    redirect(&server, "/b", 302, "/end").await;
    // 302 then 301: nothing after a temporary redirect is a move of this URL.
    redirect(&server, "/c", 302, "/d").await;
    redirect(&server, "/d", 301, "/end").await;
    // 301 then 308: both permanent, so the move is to the end.
    redirect(&server, "/e", 301, "/f").await;
    redirect(&server, "/f", 308, "/end").await;
    for (start, moved) in [("/a", Some("/b")), ("/c", None), ("/e", Some("/end"))] {
        let Ok(Fetched::Body(body)) = fetch(&at(&server, start)).await else {
            panic!("{start}: the chain is followed");
        };
        assert_eq!(body.moved_to, moved.map(|m| at(&server, m)), "{start}");
        assert_eq!(body.url, at(&server, "/end"), "{start}");
    }
}

#[tokio::test]
async fn validators_are_sent_on_every_hop_and_a_304_keeps_the_move_and_max_age() {
    let server = MockServer::start().await;
    redirect(&server, "/feed", 301, "/new").await;
    Mock::given(path("/new"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304).insert_header("cache-control", "max-age=900"))
        .mount(&server)
        .await;
    let validators = Validators {
        etag: Some("\"v1\"".into()),
        last_modified: Some("Tue, 03 Mar 2026 10:00:00 GMT".into()),
        digest: None,
    };
    let fetched = fetcher()
        .fetch(&at(&server, "/feed"), &validators)
        .await
        .unwrap();
    let Fetched::NotModified {
        status,
        max_age,
        moved_to,
    } = fetched
    else {
        panic!("the new URL answers 304: {fetched:?}");
    };
    assert_eq!(status, Some(304));
    assert_eq!(max_age, Some(Duration::from_secs(900)));
    assert_eq!(moved_to, Some(at(&server, "/new")));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for request in requests {
        // Read whole: wiremock's header() matcher would split the date at its comma.
        for (name, value) in [
            ("if-none-match", "\"v1\""),
            ("if-modified-since", "Tue, 03 Mar 2026 10:00:00 GMT"),
        ] {
            assert_eq!(request.headers[name], value, "{name} on {}", request.url);
        }
    }
}

#[tokio::test]
async fn the_same_document_again_is_not_read_again() {
    let server = MockServer::start().await;
    // A server that sends no validators and ignores conditional requests.
    Mock::given(path("/feed"))
        .respond_with(fixture_response("alpha.rss").insert_header("cache-control", "max-age=60"))
        .mount(&server)
        .await;
    let source = feed("alpha", at(&server, "/feed"));
    let first = poll(&fetcher(), &source, &Validators::default(), Utc::now()).await;
    let Ok(Polled::Items { validators, .. }) = first else {
        panic!("the first poll reads the feed: {first:?}");
    };
    assert_eq!(validators.digest.as_ref().map(Vec::len), Some(16));

    let again = poll(&fetcher(), &source, &validators, Utc::now()).await;
    let Ok(Polled::NotModified {
        status,
        max_age,
        validators: kept,
        ..
    }) = again
    else {
        panic!("the same bytes again are not read again: {again:?}");
    };
    assert_eq!(
        (status, max_age),
        (Some(200), Some(Duration::from_secs(60)))
    );
    assert_eq!(kept, Some(validators.clone()), "its validators are kept");

    // Another digest (or an older build's SHA-256), or a source read otherwise (ids carry
    // its name), reads it again.
    for len in [16, 32] {
        let stale = Validators {
            digest: Some(vec![0; len]),
            ..validators.clone()
        };
        let changed = poll(&fetcher(), &source, &stale, Utc::now()).await;
        assert!(matches!(changed, Ok(Polled::Items { .. })), "{changed:?}");
    }
    let renamed = feed("alpha2", at(&server, "/feed"));
    let renamed = poll(&fetcher(), &renamed, &validators, Utc::now()).await;
    assert!(matches!(renamed, Ok(Polled::Items { .. })), "{renamed:?}");
}

#[tokio::test]
async fn a_web_page_that_walks_further_pages_keeps_no_digest() {
    let server = MockServer::start().await;
    Mock::given(path("/news"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "<ul><li><a href='/a'>A story</a></li></ul><a class='next' href='/news2'>more</a>",
        ))
        .mount(&server)
        .await;
    Mock::given(path("/news2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("<ul><li><a href='/b'>Another story</a></li></ul>"),
        )
        .mount(&server)
        .await;
    let config = Config::parse(
        &format!(
            "[[source]]\nname = 'w'\nurl = '{}'\n[source.html]\nitem = 'li'\nnext = 'a.next'\n",
            at(&server, "/news")
        ),
        Path::new("syndic.toml"),
    )
    .unwrap();
    let polled = poll(
        &fetcher(),
        &config.sources[0],
        &Validators::default(),
        Utc::now(),
    )
    .await;
    let Ok(Polled::Items {
        validators, items, ..
    }) = polled
    else {
        panic!("the pages are read: {polled:?}");
    };
    assert_eq!(items.len(), 2);
    assert_eq!(
        validators.digest, None,
        "the first page's bytes say nothing of the next"
    );
}

#[tokio::test]
async fn redirects_that_cannot_be_followed_say_why() {
    let server = MockServer::start().await;
    redirect(&server, "/loop", 301, "/loop").await;
    redirect(&server, "/file", 302, "file:///etc/passwd").await;
    Mock::given(path("/nowhere"))
        .respond_with(ResponseTemplate::new(302))
        .mount(&server)
        .await;
    for (start, says) in [
        ("/loop", "more than 10 redirects"),
        ("/file", "file: URL is not followed"),
        ("/nowhere", "302 redirect without a Location"),
    ] {
        let error = fetch(&at(&server, start)).await.unwrap_err();
        assert!(
            matches!(error, FetchError::Redirect(_)),
            "{start}: {error:?}"
        );
        assert!(error.to_string().contains(says), "{start}: {error}");
    }
    let loops = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/loop")
        .count();
    assert_eq!(loops, 11, "the first request and ten redirects");
    let error = poll(
        &fetcher(),
        &feed("loop", at(&server, "/loop")),
        &Validators::default(),
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, PollError::Fetch(_)), "{error:?}");
}

#[tokio::test]
async fn cache_control_max_age_comes_with_the_items() {
    let server = MockServer::start().await;
    for (at_path, cache_control) in [
        ("/cached", Some("public, Max-Age=3600")),
        ("/uncached", Some("max-age=3600, no-cache")),
        ("/silent", None),
    ] {
        let mut response = fixture_response("alpha.rss");
        if let Some(value) = cache_control {
            response = response.insert_header("cache-control", value);
        }
        Mock::given(path(at_path))
            .respond_with(response)
            .mount(&server)
            .await;
    }
    for (at_path, expected) in [
        ("/cached", Some(Duration::from_secs(3600))),
        ("/uncached", Some(Duration::ZERO)),
        ("/silent", None),
    ] {
        let polled = poll(
            &fetcher(),
            &feed("alpha", at(&server, at_path)),
            &Validators::default(),
            Utc::now(),
        )
        .await
        .unwrap();
        let Polled::Items { max_age, items, .. } = polled else {
            panic!("{at_path}: a 200 gives items");
        };
        assert_eq!(max_age, expected, "{at_path}");
        assert_eq!(items.len(), 3, "{at_path}");
    }
}

#[tokio::test]
async fn retry_after_is_read_in_seconds_and_as_a_date() {
    let server = MockServer::start().await;
    let in_an_hour = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    let an_hour_ago = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(3600));
    for (at_path, status, value) in [
        ("/busy", 429, Some("120")),
        ("/down", 503, Some(in_an_hour.as_str())),
        ("/late", 503, Some(an_hour_ago.as_str())),
        ("/gone", 410, None),
    ] {
        let mut response = ResponseTemplate::new(status);
        if let Some(value) = value {
            response = response.insert_header("retry-after", value);
        }
        Mock::given(path(at_path))
            .respond_with(response)
            .mount(&server)
            .await;
    }
    let wait = |error: &PollError| error.retry_after().map(|d| d.as_secs());
    let error = poll_error(&at(&server, "/busy")).await;
    assert_eq!((error.status(), wait(&error)), (Some(429), Some(120)));
    let error = poll_error(&at(&server, "/down")).await;
    assert_eq!(error.status(), Some(503));
    let seconds = wait(&error).expect("a date is read");
    assert!((3590..=3600).contains(&seconds), "{seconds}");
    let error = poll_error(&at(&server, "/late")).await;
    assert_eq!(wait(&error), Some(0), "a date already past");
    let error = poll_error(&at(&server, "/gone")).await;
    assert_eq!((error.status(), wait(&error)), (Some(410), None));
}

async fn poll_error(url: &Url) -> PollError {
    poll(
        &fetcher(),
        &feed("source", url.clone()),
        &Validators::default(),
        Utc::now(),
    )
    .await
    .expect_err("the server answers with an error")
}

/// A config of the given `(name, url)` sources and one feed of them all.
fn sources_config(sources: &[(&str, String)]) -> String {
    let mut config = String::from("[daemon]\ntimeout = \"5s\"\n\n");
    for (name, url) in sources {
        config.push_str(&format!(
            "[[source]]\nname = \"{name}\"\nurl = \"{url}\"\n\n"
        ));
    }
    config + "[[feed]]\nname = \"merged\"\n"
}

/// The environment that makes `file` the only store of trusted roots: `SSL_CERT_FILE`, with
/// `SSL_CERT_DIR` (which would add its own) set empty.
fn roots(file: &Path) -> [(&'static str, &Path); 2] {
    [("SSL_CERT_FILE", file), ("SSL_CERT_DIR", Path::new(""))]
}

/// The line of `stderr` that reports `source`'s failure.
fn failure<'a>(stderr: &'a str, source: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.contains(&format!("source={source}")) && l.contains("failed"))
        .unwrap_or_else(|| panic!("no failure line for {source}:\n{stderr}"))
}

#[tokio::test]
async fn an_https_source_is_read_when_a_trusted_authority_signed_its_certificate() {
    let addr = tls_server(fixture("http/alpha.rss"), "application/rss+xml").await;
    let site = Site::new(&sources_config(&[(
        "secure",
        format!("https://{addr}/feed.rss"),
    )]));
    let run = site.syndic_env(&["once"], &roots(&test_ca())).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(site.read("merged.rss").contains("Alpha one"), "{run:?}");
}

#[tokio::test]
async fn an_https_source_whose_certificate_no_trusted_authority_signed_fails() {
    let addr = tls_server(fixture("http/alpha.rss"), "application/rss+xml").await;
    let site = Site::new(&sources_config(&[(
        "secure",
        format!("https://{addr}/feed.rss"),
    )]));
    let other = test_ca().with_file_name("other-ca.pem");
    let run = site.syndic_env(&["once"], &roots(&other)).await;
    assert_eq!(run.code, 1, "{run:?}");
    let line = failure(&run.stderr, "secure");
    assert!(line.contains("UnknownIssuer"), "{line}");
    assert!(!site.read("merged.rss").contains("Alpha one"));
}

/// The system's roots are read at the first `https` handshake, not before the first fetch:
/// when they cannot be read, `http` sources are still polled and published, and each
/// `https` source fails with the reason.
#[tokio::test]
async fn roots_that_cannot_be_read_fail_the_https_sources_alone() {
    let plain = MockServer::start().await;
    Mock::given(path("/alpha.rss"))
        .respond_with(fixture_response("alpha.rss"))
        .mount(&plain)
        .await;
    let addr = tls_server(fixture("http/beta.atom"), "application/atom+xml").await;
    let site = Site::new(&sources_config(&[
        ("plain", format!("{}/alpha.rss", plain.uri())),
        ("secure", format!("https://{addr}/feed.atom")),
    ]));
    let missing = site.dir.path().join("no-such-roots.pem");
    let run = site.syndic_env(&["once"], &roots(&missing)).await;
    assert_eq!(run.code, 1, "{run:?}");
    let line = failure(&run.stderr, "secure");
    assert!(line.contains("No CA certificates"), "{line}");
    let rss = site.read("merged.rss");
    assert!(
        rss.contains("Alpha one") && !rss.contains("Beta own"),
        "{rss}"
    );
}
