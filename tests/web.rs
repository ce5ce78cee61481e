//! Web pages as sources: the news-site fixture's listing page served from 127.0.0.1,
//! read with `[source.html]` selectors by `syndic once`, `check` and `preview` — the eight
//! stories with absolute links, their titles and dates, ids that survive re-scraping and
//! rotation, pagination within the fetch limits, and bad input (a selector that does not
//! parse, a page where nothing matches, hostile markup).

use serde_json::Value;

use crate::support::{LogServer, Reply, Site, fixture};

const LISTING: &str = "/category/top-news/";

fn listing() -> Vec<u8> {
    fixture("news-site/category-top-news.html")
}

/// A config with one web-page source `news` at `url`, `extra` lines added to its
/// `[source.html]`, and one feed `all`.
fn config(url: &str, extra: &str) -> String {
    format!(
        r#"[daemon]
per_host = 1

[[source]]
name = "news"
url = "{url}"
[source.html]
item = "article.post-card:not(.sponsored)"
title = "h2.post-title a"
summary = ".post-excerpt"
date = "time"
author = ".author"
image = "img"
day_first = true
{extra}
[[feed]]
name = "all"
"#
    )
}

fn items(site: &Site) -> Vec<Value> {
    let feed: Value = serde_json::from_str(&site.read("all.json")).expect("JSON Feed");
    feed["items"].as_array().expect("items").clone()
}

fn field<'a>(item: &'a Value, key: &str) -> &'a str {
    item[key].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_listing_page_gives_its_eight_stories() {
    let server = LogServer::start().await;
    server.route(
        LISTING,
        Reply::ok(listing()).header("content-type", "text/html"),
    );
    let site = Site::new(&config(&server.url(LISTING), ""));
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{run:?}");

    let items = items(&site);
    assert_eq!(items.len(), 8, "{items:#?}");
    assert!(
        items.iter().all(|i| !field(i, "title").contains("Invest")),
        "the sponsored card is left out"
    );
    let site_url = server.url("");
    for item in &items {
        let url = field(item, "url");
        assert!(url.starts_with(&format!("{site_url}/20")), "{url}");
        assert_eq!(field(item, "id"), url, "the id is the canonical link");
    }
    let story = items
        .iter()
        .find(|i| field(i, "url").contains("pyongyang-says-ties"))
        .expect("the Pyongyang story");
    assert_eq!(
        field(story, "title"),
        "Pyongyang says ties with China to be \u{2018}firmly\u{2019} carried forward"
    );
    assert_eq!(field(&story["authors"][0], "name"), "Asian Lite News");
    let starmer = items
        .iter()
        .find(|i| field(i, "url").contains("palestinian-state"))
        .unwrap();
    assert_eq!(
        field(starmer, "image"),
        format!("{site_url}/wp-content/uploads/2025/09/starmer.jpg"),
        "data-src, not the placeholder"
    );
    assert!(field(starmer, "summary").starts_with("Britain\u{2019}s move"));

    let day = |i: &Value| field(i, "date_published")[..10].to_string();
    let count = |d: &str| items.iter().filter(|i| day(i) == d).count();
    assert_eq!(count("2025-09-20"), 2);
    assert_eq!(
        count("2025-09-19"),
        3,
        "including the one written 19/09/2025"
    );
    assert_eq!(count("2024-07-28"), 2);
    let hague = items
        .iter()
        .find(|i| field(i, "url").contains("hague"))
        .unwrap();
    assert_eq!(field(hague, "date_published"), "2025-09-19T00:00:00Z");

    // The undated story keeps its first-seen date across runs.
    let undated = |items: &[Value]| {
        items
            .iter()
            .find(|i| field(i, "url").contains("money-laundering"))
            .map(|i| field(i, "date_published").to_string())
            .expect("the undated story")
    };
    let first = undated(&items);
    assert!(
        first.as_str() > "2025-09-21",
        "first seen, not a page date: {first}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(undated(&self::items(&site)), first);
}

#[tokio::test(flavor = "multi_thread")]
async fn stories_stay_after_they_rotate_off_the_page() {
    let server = LogServer::start().await;
    server.route(LISTING, Reply::ok(listing()));
    let site = Site::new(&config(&server.url(LISTING), ""));
    assert_eq!(site.syndic(&["once"]).await.code, 0);

    // The oldest story has rotated off; a tracking parameter appeared on another link.
    let page = String::from_utf8(listing()).unwrap();
    let start = page
        .find("<article class=\"post-card\">\n      <h2 class=\"post-title\"><a href=\"/2024/07/27")
        .unwrap();
    let end = start + page[start..].find("</article>").unwrap() + "</article>".len();
    let rotated = format!("{}{}", &page[..start], &page[end..]).replace(
        "/the-hague-erupts-in-chaos/\"",
        "/the-hague-erupts-in-chaos/?utm_source=home\"",
    );
    assert!(!rotated.contains("money-laundering"));
    server.route(LISTING, Reply::ok(rotated.into_bytes()));
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let items = items(&site);
    assert_eq!(items.len(), 8, "no duplicates, nothing lost: {items:#?}");
    assert!(
        items
            .iter()
            .any(|i| field(i, "url").contains("money-laundering"))
    );

    // A page where the item selector matches nothing fails the source, saying so; its
    // stories stay published.
    server.route(
        LISTING,
        Reply::ok(b"<html><body><p>Maintenance</p></body></html>".to_vec()),
    );
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("matched nothing on the page") && run.stderr.contains("news"),
        "{}",
        run.stderr
    );
    assert_eq!(self::items(&site).len(), 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn next_pages_are_followed_up_to_max_pages() {
    let server = LogServer::start().await;
    server.route(LISTING, Reply::ok(listing()).header("etag", "\"page-one\""));
    let page2 = r#"<html><body><div class="post-list">
        <article class="post-card"><h2 class="post-title"><a href="/2024/07/20/older-story/">An older story</a></h2>
          <time>July 20, 2024</time></article>
        <article class="post-card"><h2 class="post-title"><a href="/2024/07/28/pyongyang-says-ties-with-china-to-be-firmly-carried-forward/">Repeated</a></h2></article>
        </div><a class="next" href="/category/top-news/page/3/">Next</a></body></html>"#;
    server.route("/category/top-news/page/2/", Reply::ok(page2.into()));
    server.route("/category/top-news/page/3/", Reply::ok(listing()));
    let site = Site::new(&config(
        &server.url(LISTING),
        "next = \"a.next\"\nmax_pages = 2\n",
    ));
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let items = items(&site);
    assert_eq!(items.len(), 9, "eight, one more from page 2, no repeat");
    assert!(items.iter().any(|i| field(i, "title") == "An older story"));
    assert_eq!(server.hits("/category/top-news/page/2/").len(), 1);
    assert!(
        server.hits("/category/top-news/page/3/").is_empty(),
        "max_pages = 2"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_markup_never_reaches_the_output() {
    let server = LogServer::start().await;
    let page = r#"<html><body>
        <article class="post-card"><h2 class="post-title"><a href="javascript:alert(1)">Click me</a></h2>
          <div class="post-excerpt"><p onclick="steal()">Hi<script>alert(2)</script>
          <a href="javascript:alert(3)">x</a></p></div></article>
        <script>document.write('<article class="post-card">')</script></body></html>"#;
    server.route(LISTING, Reply::ok(page.into()));
    let site = Site::new(&config(&server.url(LISTING), ""));
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    for file in ["all.json", "all.rss", "all.atom"] {
        let out = site.read(file);
        assert!(out.contains("Click me"), "{file}: {out}");
        for bad in ["javascript:", "<script", "&lt;script", "onclick", "alert("] {
            assert!(!out.contains(bad), "{file} has {bad}: {out}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_selector_that_does_not_parse_is_a_check_error_with_its_line() {
    let site = Site::new(
        &config("https://news.example/", "").replace("\"h2.post-title a\"", "\"h2..post-title a\""),
    );
    let run = site.syndic(&["check"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    let want = format!(
        "{}:9:9: source \"news\".html.title: \"h2..post-title a\" is not a CSS selector",
        site.config().display()
    );
    assert!(run.stderr.contains(&want), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn preview_says_what_each_selector_matched() {
    let server = LogServer::start().await;
    server.route(LISTING, Reply::ok(listing()));
    let site = Site::new(&config(&server.url(LISTING), "id = \".no-such-thing\"\n"));
    let run = site.syndic(&["preview", "news"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("HTML page, 8 items"), "{}", run.stdout);
    assert!(run.stdout.contains("UK set to recognise Palestinian state"));
    assert!(
        run.stdout.contains("date        7 of 8 items"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("date matched 7 of 8 items")
            && run.stderr.contains("id matched 0 of 8 items"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("title matched"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn discover_lists_the_feeds_a_page_links_to() {
    let server = LogServer::start().await;
    let page = r#"<html><head><base href="/news/">
        <link rel="alternate" type="application/rss+xml" href="feed.xml">
        <link rel="alternate stylesheet" type="text/css" href="x.css">
        <link rel="Alternate" type="application/atom+xml" href="https://other.example/a.atom">
        </head><body></body></html>"#;
    server.route("/page", Reply::ok(page.into()));
    server.route("/bare", Reply::ok(listing()));
    let site = Site::new("");
    let run = crate::support::syndic_in(site.dir.path(), &["discover", &server.url("/page")]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "{}\nhttps://other.example/a.atom\n",
            server.url("/news/feed.xml")
        )
    );
    let run = crate::support::syndic_in(site.dir.path(), &["discover", &server.url("/bare")]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("links to no feed"), "{}", run.stderr);
    let run =
        crate::support::syndic_in(site.dir.path(), &["discover", &server.url("/missing")]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("HTTP 404"), "{}", run.stderr);
}
