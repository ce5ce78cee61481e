//! Bad input, one test each: the failing source's error is recorded and logged with its name
//! and cause, every other source is still published, the failing source's stored items stay
//! in the output, `once` exits 1, and every written file still parses. Input that can be
//! repaired (odd charsets, control characters, hostile markup) is repaired, not refused.

use url::Url;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Site, assert_valid_output, endless_server, fixture_response, silent_server};

const FILES: [&str; 4] = ["merged.rss", "merged.atom", "merged.json", "index.opml"];

fn config(good: &str, victim: &str, extra_daemon: &str) -> String {
    format!(
        "[daemon]\ntimeout = \"2s\"\nmax_body = \"1MiB\"\n{extra_daemon}\n\
         [[source]]\nname = \"good\"\nurl = \"{good}\"\n\n\
         [[source]]\nname = \"victim\"\nurl = \"{victim}\"\n\n\
         [[feed]]\nname = \"merged\"\n"
    )
}

/// Titles in a published file, after checking it with strict parsers.
fn titles(site: &Site, file: &str) -> Vec<String> {
    let bytes = std::fs::read(site.public(file)).unwrap();
    assert_valid_output(file, &bytes);
    if file.ends_with(".opml") {
        return vec![];
    }
    let base = Url::parse("https://feeds.example.org/").unwrap();
    syndic::source::feed::parse(&bytes, None, &base)
        .unwrap_or_else(|e| panic!("{file} does not parse: {e}"))
        .entries
        .into_iter()
        .filter_map(|e| e.title)
        .collect()
}

/// First run: the victim serves a good Atom feed. Second run: the victim is `bad_url`, and
/// the good source has a new story, so every output is written again.
async fn fails_but_keeps_everything(bad_url: &str, cause: &str) {
    let server = MockServer::start().await;
    let good_v1 = Mock::given(path("/good.rss"))
        .respond_with(fixture_response("alpha.rss"))
        .mount_as_scoped(&server)
        .await;
    Mock::given(path("/victim.atom"))
        .respond_with(fixture_response("beta.atom"))
        .mount(&server)
        .await;
    let good = format!("{}/good.rss", server.uri());
    let site = Site::new(&config(&good, &format!("{}/victim.atom", server.uri()), ""));
    let first = site.syndic(&["once"]).await;
    assert_eq!(first.code, 0, "{first:?}");

    let before = std::fs::read(site.public("merged.rss")).unwrap();
    drop(good_v1);
    Mock::given(path("/good.rss"))
        .respond_with(fixture_response("alpha-later.rss"))
        .mount(&server)
        .await;
    site.write_config(&config(&good, bad_url, ""));
    let second = site.syndic(&["once"]).await;
    assert_ne!(
        std::fs::read(site.public("merged.rss")).unwrap(),
        before,
        "the second run published again"
    );
    assert_eq!(
        second.code, 1,
        "once exits 1 when a source fails: {second:?}"
    );
    let failure = second
        .stderr
        .lines()
        .find(|l| l.contains("victim") && l.contains("failed"))
        .unwrap_or_else(|| panic!("no failure line naming the source:\n{}", second.stderr));
    assert!(
        failure.contains(cause),
        "cause {cause:?} not in {failure:?}"
    );

    for file in FILES {
        let titles = titles(&site, file);
        if file.ends_with(".opml") {
            continue;
        }
        for kept in ["Alpha one", "Alpha three", "Beta own", "The shared story"] {
            assert!(
                titles.iter().any(|t| t == kept),
                "{file} lost {kept:?}: {titles:?}"
            );
        }
    }

    let status = site.syndic(&["status"]).await;
    assert_eq!(status.code, 0);
    let row = status
        .stdout
        .lines()
        .find(|l| l.starts_with("victim"))
        .unwrap_or_else(|| panic!("{}", status.stdout));
    assert!(row.contains(cause), "status row {row:?} lacks {cause:?}");
}

async fn serving(body: ResponseTemplate) -> (MockServer, String) {
    let server = MockServer::start().await;
    Mock::given(path("/bad"))
        .respond_with(body)
        .mount(&server)
        .await;
    let url = format!("{}/bad", server.uri());
    (server, url)
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_xml() {
    // A download cut off inside the first item: nothing before the break is an item.
    let body = b"<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>Broken</title>\n<item><title>One</title";
    let (_server, url) = serving(ResponseTemplate::new(200).set_body_bytes(body.to_vec())).await;
    fails_but_keeps_everything(&url, "malformed XML at line 3, column 17").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_xml_read_in_part_keeps_what_it_read_and_still_fails() {
    // Two whole items, then the download breaks off inside the third.
    let body = b"<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>Partly</title>\n\
        <item><title>Partly one</title><link>https://partly.example/1</link></item>\n\
        <item><title>Partly two</title><link>https://partly.example/2</link></item>\n\
        <item><title>Partly th";
    let (_server, url) = serving(ResponseTemplate::new(200).set_body_bytes(body.to_vec())).await;
    fails_but_keeps_everything(&url, "malformed XML at line 5, column 23").await;

    // Alone, to see what was kept: the two whole items, published, and the cause in status.
    let server = MockServer::start().await;
    Mock::given(path("/partly"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(body.to_vec()))
        .mount(&server)
        .await;
    let site = Site::new(&format!(
        "[[source]]\nname = \"partly\"\nurl = \"{}/partly\"\n\n[[feed]]\nname = \"merged\"\n",
        server.uri()
    ));
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(titles(&site, "merged.rss"), ["Partly one", "Partly two"]);
    let status = site.syndic(&["status"]).await;
    assert!(
        status.stdout.contains("kept the 2 entries before it"),
        "{}",
        status.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_html_page_names_the_feeds_it_links_to() {
    let (server, url) = serving(
        fixture_response("page.html").insert_header("content-type", "text/html; charset=utf-8"),
    )
    .await;
    fails_but_keeps_everything(&url, &format!("{}/feed.rss", server.uri())).await;
    fails_but_keeps_everything(&url, "https://alpha.example/feed.atom").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_max_body_is_abandoned_while_streaming() {
    // 4 GiB at most, never announced: only a streaming cap stops the reader in time.
    let addr = endless_server(4 << 30).await;
    fails_but_keeps_everything(&format!("http://{addr}/huge.xml"), "larger than max_body").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_never_answers_times_out() {
    let addr = silent_server().await;
    fails_but_keeps_everything(
        &format!("http://{addr}/feed.xml"),
        "no complete response within 2s",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_errors_404_410_500() {
    for status in [404, 410, 500] {
        let (_server, url) = serving(ResponseTemplate::new(status)).await;
        fails_but_keeps_everything(&url, &format!("HTTP {status}")).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_json_feed_with_wrong_types() {
    let (_server, url) = serving(
        fixture_response("bad-types.json").insert_header("content-type", "application/feed+json"),
    )
    .await;
    fails_but_keeps_everything(&url, "JSON").await;
}

/// Runs `once` with a single source serving `file` with `content_type`; returns the site.
async fn publish_one(file: &str, content_type: &str) -> Site {
    let server = MockServer::start().await;
    Mock::given(path("/feed"))
        .respond_with(fixture_response(file).insert_header("content-type", content_type))
        .mount(&server)
        .await;
    let site = Site::new(&format!(
        "[[source]]\nname = \"only\"\nurl = \"{}/feed\"\n\n[[feed]]\nname = \"merged\"\n",
        server.uri()
    ));
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    site
}

#[tokio::test(flavor = "multi_thread")]
async fn windows_1252_and_iso_8859_1_decode() {
    let site = publish_one("windows-1252.rss", "application/rss+xml").await;
    for file in &FILES[..3] {
        assert_eq!(titles(&site, file), ["Naïve – résumé € 5"], "{file}");
    }
    // No XML declaration: only the HTTP header says ISO-8859-1.
    let site = publish_one(
        "latin1-header.rss",
        "application/rss+xml; charset=ISO-8859-1",
    )
    .await;
    for file in &FILES[..3] {
        assert_eq!(titles(&site, file), ["Garçon à la crème"], "{file}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_are_dropped() {
    let site = publish_one("control-chars.rss", "application/rss+xml").await;
    for file in FILES {
        let text = site.read(file);
        assert!(
            !text
                .chars()
                .any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r')),
            "{file} holds a control character"
        );
    }
    for file in &FILES[..3] {
        assert_eq!(
            titles(&site, file),
            ["Bellhere and backspacethere"],
            "{file}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scripts_handlers_and_javascript_links_never_reach_the_output() {
    let site = publish_one("hostile.rss", "application/rss+xml").await;
    for file in &FILES[..3] {
        let text = site.read(file).to_lowercase();
        for banned in [
            "<script",
            "alert(",
            "onerror",
            "onclick",
            "javascript:",
            "<iframe",
            "<style",
            "display:none",
        ] {
            // In RSS and Atom the HTML is escaped, so look for both spellings.
            let escaped = banned.replace('<', "&lt;");
            assert!(
                !text.contains(banned) && !text.contains(&escaped),
                "{file} contains {banned:?}"
            );
        }
        assert!(text.contains("story text."), "{file} lost the story");
        titles(&site, file);
    }
}
