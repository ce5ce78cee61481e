//! Feed discovery: the feeds an HTML page advertises with `<link rel="alternate">`.
//!
//! Used to explain a page served where a feed was expected, and by `syndic discover`. It
//! reads only `<link>` elements (honouring `<base href>`); it does not guess at `<a>` links
//! or well-known paths such as `/feed`. scraper's `Html` is not `Send`, so this stays a
//! plain synchronous function that drops the tree before returning.

use scraper::{Html, Selector};
use url::Url;

const FEED_TYPES: [&str; 5] = [
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
];

/// Feeds an HTML page links to with `<link rel="alternate" type="application/rss+xml|
/// atom+xml|feed+json|json">`, absolute, in page order, without duplicates.
pub fn feed_links(html: &str, base: &Url) -> Vec<String> {
    let doc = Html::parse_document(html);
    let (Ok(links), Ok(bases)) = (Selector::parse("link[href]"), Selector::parse("base[href]"))
    else {
        return Vec::new();
    };
    let base = doc
        .select(&bases)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| base.join(href.trim()).ok())
        .unwrap_or_else(|| base.clone());
    let mut out: Vec<String> = Vec::new();
    for link in doc.select(&links) {
        let el = link.value();
        let rel = el.attr("rel").unwrap_or_default();
        if !rel
            .split_ascii_whitespace()
            .any(|r| r.eq_ignore_ascii_case("alternate"))
        {
            continue;
        }
        let ty = el.attr("type").unwrap_or_default();
        let ty = ty
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if !FEED_TYPES.contains(&ty.as_str()) {
            continue;
        }
        let Some(url) = el.attr("href").and_then(|h| base.join(h.trim()).ok()) else {
            continue;
        };
        let url = url.to_string();
        if !out.contains(&url) {
            out.push(url);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(html: &str) -> Vec<String> {
        feed_links(html, &Url::parse("https://example.org/blog/post").unwrap())
    }

    #[test]
    fn finds_alternate_feed_links_and_resolves_them() {
        let html = r#"<html><head>
            <link rel="stylesheet" href="/s.css">
            <link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">
            <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="atom.xml">
            <link rel="alternate" type="application/feed+json" href="https://cdn.example.net/f.json">
            <link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
            <link rel="alternate" type="application/rss+xml" href="/feed.xml">
            </head><body></body></html>"#;
        assert_eq!(
            links(html),
            [
                "https://example.org/feed.xml",
                "https://example.org/blog/atom.xml",
                "https://cdn.example.net/f.json"
            ]
        );
    }

    #[test]
    fn honours_base_href() {
        let html = r#"<head><base href="https://static.example.com/x/"><link rel="alternate" type="application/json" href="feed.json"></head>"#;
        assert_eq!(links(html), ["https://static.example.com/x/feed.json"]);
    }

    #[test]
    fn a_page_without_feeds_gives_nothing() {
        assert!(links("<p>no feeds here</p>").is_empty());
    }
}
