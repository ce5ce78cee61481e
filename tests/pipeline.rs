//! `syndic once` end to end: conditional GET, byte-identical re-runs, first-seen dates,
//! items kept after their source drops them, de-duplication across sources, and the three
//! formats agreeing with each other.

use std::collections::BTreeMap;

use syndic::source::feed::{Document, parse};
use url::Url;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Site, fixture_response};

fn serve(file: &str, content_type: &str) -> ResponseTemplate {
    fixture_response(file).insert_header("content-type", content_type)
}

fn config(server: &MockServer, sources: &[(&str, &str)]) -> String {
    let mut text = String::from("[daemon]\nbase_url = \"https://feeds.example.org/\"\n");
    for (name, file) in sources {
        text.push_str(&format!(
            "\n[[source]]\nname = \"{name}\"\nurl = \"{}/{file}\"\n",
            server.uri()
        ));
    }
    text.push_str("\n[[feed]]\nname = \"merged\"\ntitle = \"Merged\"\n");
    text
}

/// Parses a published file back with syndic's own parser.
fn read_back(site: &Site, file: &str) -> Document {
    let bytes = std::fs::read(site.public(file)).expect(file);
    let base = Url::parse("https://feeds.example.org/").unwrap();
    parse(&bytes, None, &base).unwrap_or_else(|e| panic!("{file} does not parse back: {e}"))
}

/// (id, title, link, date) of each entry, in order.
fn summary(doc: &Document) -> Vec<(String, String, String, String)> {
    doc.entries
        .iter()
        .map(|e| {
            (
                e.id.clone().unwrap_or_default(),
                e.title.clone().unwrap_or_default(),
                e.link.clone().unwrap_or_default(),
                e.published
                    .or(e.updated)
                    .map(|d| d.to_rfc3339())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn conditional_get_and_a_second_run_that_changes_no_byte() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/alpha.rss"))
        .and(header("if-none-match", "\"alpha-v1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/alpha.rss"))
        .respond_with(
            serve("alpha.rss", "application/rss+xml")
                .insert_header("etag", "\"alpha-v1\"")
                .insert_header("last-modified", "Wed, 04 Mar 2026 10:00:00 GMT"),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/beta.atom"))
        .respond_with(serve("beta.atom", "application/atom+xml"))
        .mount(&server)
        .await;
    let site = Site::new(&config(
        &server,
        &[("alpha", "alpha.rss"), ("beta", "beta.atom")],
    ));

    let first = site.syndic(&["once"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let files = ["merged.rss", "merged.atom", "merged.json", "index.opml"];
    let before: Vec<(Vec<u8>, std::time::SystemTime)> = files
        .iter()
        .map(|f| {
            let p = site.public(f);
            (
                std::fs::read(&p).unwrap(),
                p.metadata().unwrap().modified().unwrap(),
            )
        })
        .collect();
    let alpha_items = summary(&read_back(&site, "merged.rss"))
        .into_iter()
        .filter(|(_, title, _, _)| title.starts_with("Alpha"))
        .count();
    assert_eq!(alpha_items, 2);

    // Past the next whole second, so that a clock reading in any output would show.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = site.syndic(&["once"]).await;
    assert_eq!(second.code, 0, "{second:?}");

    // The second poll of alpha was conditional and got 304.
    let alpha_requests: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/alpha.rss")
        .collect();
    assert_eq!(alpha_requests.len(), 2);
    assert!(alpha_requests[0].headers.get("if-none-match").is_none());
    assert_eq!(
        alpha_requests[1].headers.get("if-none-match").unwrap(),
        "\"alpha-v1\""
    );
    assert_eq!(
        alpha_requests[1].headers.get("if-modified-since").unwrap(),
        "Wed, 04 Mar 2026 10:00:00 GMT"
    );
    assert!(
        second.stderr.contains("source=alpha status=304"),
        "{}",
        second.stderr
    );

    // Every output is byte-identical, and was not even rewritten.
    for (file, (bytes, mtime)) in files.iter().zip(before) {
        let p = site.public(file);
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{file} changed");
        assert_eq!(
            p.metadata().unwrap().modified().unwrap(),
            mtime,
            "{file} was rewritten"
        );
    }
    // The 304 kept alpha's items.
    let again = summary(&read_back(&site, "merged.rss"));
    assert_eq!(
        again
            .iter()
            .filter(|(_, t, _, _)| t.starts_with("Alpha"))
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn undated_items_keep_their_first_seen_date_and_dropped_items_stay() {
    let server = MockServer::start().await;
    let alpha = Mock::given(path("/alpha.rss"))
        .respond_with(serve("alpha.rss", "application/rss+xml"))
        .mount_as_scoped(&server)
        .await;
    Mock::given(path("/undated.rss"))
        .respond_with(serve("undated.rss", "application/rss+xml"))
        .mount(&server)
        .await;
    let site = Site::new(&config(
        &server,
        &[("alpha", "alpha.rss"), ("undated", "undated.rss")],
    ));
    assert_eq!(site.syndic(&["once"]).await.code, 0);
    let first = read_back(&site, "merged.atom");
    let undated_date = |doc: &Document| -> Vec<String> {
        doc.entries
            .iter()
            .filter(|e| e.title.as_deref().unwrap_or("").starts_with("No date"))
            .map(|e| e.updated.expect("atom entries carry a date").to_rfc3339())
            .collect()
    };
    let dates = undated_date(&first);
    assert_eq!(dates.len(), 2);

    // Later the alpha feed rotates: only a new story is listed.
    drop(alpha);
    Mock::given(path("/alpha.rss"))
        .respond_with(serve("alpha-later.rss", "application/rss+xml"))
        .mount(&server)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(site.syndic(&["once"]).await.code, 0);
    let later = read_back(&site, "merged.atom");
    assert_eq!(
        undated_date(&later),
        dates,
        "undated items must not move to 'now'"
    );
    let titles: Vec<String> = later
        .entries
        .iter()
        .filter_map(|e| e.title.clone())
        .collect();
    for kept in ["Alpha one", "Alpha two", "The shared story", "Alpha three"] {
        assert!(
            titles.iter().any(|t| t == kept),
            "{kept} missing from {titles:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_story_from_two_sources_appears_once_and_formats_agree() {
    let server = MockServer::start().await;
    for (file, kind) in [
        ("alpha.rss", "application/rss+xml"),
        ("beta.atom", "application/atom+xml"),
        ("gamma.json", "application/feed+json"),
    ] {
        Mock::given(path(format!("/{file}")))
            .respond_with(serve(file, kind))
            .mount(&server)
            .await;
    }
    let site = Site::new(&config(
        &server,
        &[
            ("alpha", "alpha.rss"),
            ("beta", "beta.atom"),
            ("gamma", "gamma.json"),
        ],
    ));
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{run:?}");

    let rss = summary(&read_back(&site, "merged.rss"));
    let atom = summary(&read_back(&site, "merged.atom"));
    let json = summary(&read_back(&site, "merged.json"));
    let shared: Vec<_> = rss
        .iter()
        .filter(|(_, t, _, _)| t == "The shared story")
        .collect();
    assert_eq!(shared.len(), 1, "{rss:#?}");
    // Alpha's copy was seen first (same run, same first-seen: earlier date order decides
    // nothing here, source order does) — either way the link is the canonical story.
    assert!(shared[0].2.starts_with("https://shared.example/story"));
    assert_eq!(
        rss.len(),
        5,
        "3 alpha + 2 beta + 1 gamma - 1 duplicate: {rss:#?}"
    );
    assert_eq!(rss, atom, "RSS and Atom disagree");
    assert_eq!(rss, json, "RSS and JSON Feed disagree");

    // Newest first.
    let dates: Vec<&String> = rss.iter().map(|(_, _, _, d)| d).collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);

    // The podcast attachment survived into every format.
    let enclosures = |file: &str| -> BTreeMap<String, usize> {
        read_back(&site, file)
            .entries
            .iter()
            .map(|e| (e.title.clone().unwrap_or_default(), e.enclosures.len()))
            .collect()
    };
    for file in ["merged.rss", "merged.atom", "merged.json"] {
        assert_eq!(enclosures(file).get("Gamma one"), Some(&1), "{file}");
    }
    let opml = site.read("index.opml");
    assert!(
        opml.contains("https://feeds.example.org/merged.rss"),
        "{opml}"
    );
}
