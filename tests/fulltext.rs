//! Full text: a teaser feed whose item links to a story page on the local server; `once`
//! and the daemon fetch the page once, put the article in the item, and fall back to the
//! teaser (saying why) when the page times out, is not HTML, or gives less text.

use std::time::Duration;

use syndic::store::Store;

use crate::support::{LogServer, Reply, Site, fixture};

const STORY: &str = "/2024/07/28/pyongyang-says-ties-with-china-to-be-firmly-carried-forward/";
const TEASER: &str = "Kim visited a monument to ties with China.";

/// Sentences from the story's first, middle and last paragraphs.
const SENTENCES: [&str; 4] = [
    "North Korean leader Kim Jong-un has said",
    "Friendship Tower in Pyongyang",
    "the Rodong Sinmun, the newspaper of the North",
    "It marked the first time Kim visited the cemetery",
];
/// The page's furniture, which full text must leave out.
const FURNITURE: [&str; 8] = [
    "Previous Story",
    "Next Story",
    "Latest from",
    "Don't Miss",
    "Don&#8217;t Miss",
    "Go to Top",
    "All rights reserved",
    "privacy-policy",
];

/// A teaser feed with one item linking to `link`.
fn feed(link: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Teasers</title>\
         <link>http://news.example/</link><description>x</description><item>\
         <title>Pyongyang says ties with China to be firmly carried forward</title>\
         <link>{link}</link><guid>{link}</guid><description>{TEASER}</description>\
         <pubDate>Sun, 28 Jul 2024 08:12:00 GMT</pubDate></item></channel></rss>"
    )
    .into_bytes()
}

fn html(body: Vec<u8>) -> Reply {
    Reply::ok(body).header("Content-Type", "text/html; charset=utf-8")
}

fn site_for(server: &LogServer, extra: &str, daemon: &str) -> Site {
    Site::new(&format!(
        "[daemon]\n{daemon}\n\n[[source]]\nname = \"teasers\"\nurl = \"{}\"\nfull_text = true\n{extra}\n\n\
         [[feed]]\nname = \"all\"\nformats = [\"json\"]\n",
        server.url("/feed.xml")
    ))
}

/// What the published item holds when it kept its teaser: JSON Feed's content_html falls
/// back to the summary.
fn teaser_only() -> (String, String) {
    (TEASER.to_string(), TEASER.to_string())
}

/// The published item's content_html and summary.
fn published(site: &Site) -> (String, String) {
    let doc: serde_json::Value = serde_json::from_str(&site.read("all.json")).unwrap();
    let item = &doc["items"][0];
    let text = |key: &str| item[key].as_str().unwrap_or_default().to_string();
    (text("content_html"), text("summary"))
}

/// A server with the teaser feed at `/feed.xml` and the story its item links to.
async fn serving_the_story() -> LogServer {
    let server = LogServer::start().await;
    server.route("/feed.xml", Reply::ok(feed(&server.url(STORY))));
    server.route(
        STORY,
        html(fixture("news-site/article-pyongyang-china-ties.html")),
    );
    server
}

fn cached(site: &Site, url: &str) -> syndic::store::Article {
    let store = Store::open(&site.dir.path().join("state")).unwrap();
    store
        .article(url)
        .unwrap()
        .expect("the page's outcome is cached")
}

#[tokio::test]
async fn once_publishes_the_story_fetched_once() {
    let server = serving_the_story().await;
    let site = site_for(&server, "", "");
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (content, summary) = published(&site);
    for sentence in SENTENCES {
        assert!(
            content.contains(sentence),
            "{sentence:?} missing: {content}"
        );
    }
    assert!(content.matches("<p>").count() >= 11, "{content}");
    for furniture in FURNITURE {
        assert!(
            !content.contains(furniture),
            "{furniture:?} left in {content}"
        );
    }
    assert!(!content.contains("<script"), "{content}");
    assert!(
        content.contains(&server.url("/wp-content/")) || !content.contains("/wp-content/"),
        "page links are made absolute: {content}"
    );
    assert_eq!(summary, TEASER, "the teaser stays the summary");

    // A second run (a new process: the cache is in the store) fetches the page no more.
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.hits(STORY).len(), 1, "the article is fetched once");
    assert_eq!(server.hits("/feed.xml").len(), 2);
    assert!(
        published(&site).0.contains(SENTENCES[3]),
        "still the full text"
    );
}

#[tokio::test]
async fn items_stored_before_full_text_was_asked_for_get_their_story() {
    // The same state as a run stopped after it stored the listing and before it read the
    // page: an item in the store, its article never fetched.
    let server = serving_the_story().await;
    let site = site_for(&server, "", "");
    let config = std::fs::read_to_string(site.config()).unwrap();
    site.write_config(&config.replace("full_text = true\n", ""));
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(published(&site), teaser_only());
    assert!(server.hits(STORY).is_empty());

    site.write_config(&config);
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.hits(STORY).len(), 1, "{}", run.stderr);
    let (content, summary) = published(&site);
    assert!(content.contains(SENTENCES[3]), "{content}");
    assert_eq!(summary, TEASER);
}

#[tokio::test]
async fn remove_drops_what_sits_inside_the_story() {
    let server = serving_the_story().await;
    let site = site_for(&server, "remove = [\".also-read\", \".ad-slot\"]", "");
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (content, _) = published(&site);
    assert!(SENTENCES.iter().all(|s| content.contains(s)), "{content}");
    assert!(!content.contains("ALSO READ"), "{content}");
    assert!(!content.contains("adsbygoogle"), "{content}");

    // With content = the story's container, the same.
    let site = site_for(
        &server,
        "content = \".entry-content\"\nremove = [\".also-read\", \".ad-slot\"]",
        "",
    );
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (content, _) = published(&site);
    assert!(SENTENCES.iter().all(|s| content.contains(s)), "{content}");
    assert_eq!(content.matches("<p>").count(), 11, "{content}");
    assert!(!content.contains("ALSO READ"), "{content}");
}

#[tokio::test]
async fn a_page_that_times_out_or_is_not_html_leaves_the_teaser() {
    let server = LogServer::start().await;
    let slow = server.url("/slow/");
    server.route("/feed.xml", Reply::ok(feed(&slow)));
    server.route(
        "/slow/",
        html(fixture("news-site/article-pyongyang-china-ties.html")).delay(Duration::from_secs(3)),
    );
    let site = site_for(&server, "", "timeout = \"1s\"");
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "the source itself is fine: {}", run.stderr);
    assert_eq!(published(&site), teaser_only());
    let why = cached(&site, &slow).error.unwrap_or_default();
    assert!(why.contains("no complete response within"), "{why}");
    assert!(
        run.stderr.contains("teasers") && run.stderr.contains("No full text for the item"),
        "{}",
        run.stderr
    );

    let server = LogServer::start().await;
    let pdf = server.url("/story.pdf");
    server.route("/feed.xml", Reply::ok(feed(&pdf)));
    server.route(
        "/story.pdf",
        Reply::ok(b"%PDF-1.7 not a page".to_vec()).header("Content-Type", "application/pdf"),
    );
    let site = site_for(&server, "", "");
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(published(&site), teaser_only());
    let why = cached(&site, &pdf).error.unwrap_or_default();
    assert_eq!(why, "the page is not HTML but application/pdf");
}

#[tokio::test]
async fn a_page_with_less_text_than_the_teaser_is_not_used() {
    let server = LogServer::start().await;
    let thin = server.url("/thin/");
    server.route("/feed.xml", Reply::ok(feed(&thin)));
    server.route(
        "/thin/",
        html(b"<html><body><div class=\"story\"><p>Paywall.</p></div></body></html>".to_vec()),
    );
    let site = site_for(&server, "content = \".story\"", "");
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(published(&site), teaser_only());
    let why = cached(&site, &thin).error.unwrap_or_default();
    assert!(why.contains("shorter than the item's own"), "{why}");
}

#[tokio::test]
async fn hostile_markup_in_the_article_never_reaches_the_output() {
    let server = LogServer::start().await;
    let page = server.url("/hostile/");
    server.route("/feed.xml", Reply::ok(feed(&page)));
    let mut body = String::from("<html><head><title>x</title></head><body><article>");
    for i in 0..6 {
        body.push_str(&format!(
            "<p onclick=\"steal({i})\">Paragraph {i} of a story that is long enough to be an \
             article, with <a href=\"javascript:alert({i})\">a hostile link</a> and \
             <a href=\"/next/{i}\">a relative one</a>.</p><script>alert('x{i}')</script>"
        ));
    }
    body.push_str("</article></body></html>");
    server.route("/hostile/", html(body.into_bytes()));
    let site = site_for(&server, "", "");
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (content, _) = published(&site);
    assert!(content.contains("Paragraph 5 of a story"), "{content}");
    for bad in ["<script", "onclick", "javascript:", "alert"] {
        assert!(!content.contains(bad), "{bad} in {content}");
    }
    assert!(content.contains(&server.url("/next/0")), "{content}");
}

#[tokio::test]
async fn the_daemon_fetches_articles_in_the_background_and_republishes() {
    let server = LogServer::start().await;
    server.route("/feed.xml", Reply::ok(feed(&server.url(STORY))));
    server.route(
        STORY,
        html(fixture("news-site/article-pyongyang-china-ties.html"))
            .delay(Duration::from_millis(300)),
    );
    let site = Site::new(&format!(
        "[[source]]\nname = \"teasers\"\nurl = \"{}\"\nschedule = \"* * * * * *\"\nfull_text = true\n\n\
         [[feed]]\nname = \"all\"\nformats = [\"json\"]\n",
        server.url("/feed.xml")
    ));
    let mut daemon = site.run_daemon(&[]);
    assert!(
        daemon
            .wait_for_log("Fetched full text.", 1, Duration::from_secs(20))
            .await,
        "{}",
        daemon.log()
    );
    assert!(
        server
            .wait_for_hits("/feed.xml", 3, Duration::from_secs(20))
            .await
    );
    // The feed is written after the article is in.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !site.public("all.json").exists() || !published(&site).0.contains(SENTENCES[0]) {
        assert!(tokio::time::Instant::now() < deadline, "{}", daemon.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        server.hits(STORY).len(),
        1,
        "fetched once, however often polled"
    );
    daemon.signal("TERM");
    assert_eq!(daemon.exit_code(Duration::from_secs(20)).await, Some(0));
}
