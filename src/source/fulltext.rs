//! Full text: fetch a new item's page and put the article found there in its content, for
//! sources (`full_text = true`) whose feeds carry only a teaser.
//!
//! [`extract`] is pure: page bytes → decoded ([`super::charset`]) → `remove` selectors
//! dropped → the `content` container, or the article Readability ([`dom_smoothie`]) finds →
//! sanitised with the items' own sanitiser, URLs made absolute against the page. [`fetch`]
//! and [`fetch_all`] get pages within the same [`Limits`] as polls; [`record`] keeps each
//! outcome in the store's full-text cache (by URL, so a page is fetched once, across polls
//! and restarts) and puts a usable article in its item. An article that cannot be had —
//! the page failed, is not HTML, has no article, or gives less text than the item already
//! had — leaves the item as the source gave it, and the reason is cached and logged. Which
//! items need an article is the store's call ([`crate::store::Wanted`]); nothing here
//! schedules.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use scraper::Html;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};
use url::Url;

use super::http::{Fetched, Fetcher, Limits, Validators};
use super::{charset, normalise, text};
use crate::config::{FullText, SourceConfig};
use crate::model::Item;
use crate::store::{Store, Wanted};

/// What became of one item's page: the article's sanitised HTML, or why there is none.
pub type Extracted = Result<String, String>;

/// Cuts the article out of a page fetched from `url`; `content_type` is the HTTP header (for
/// the media type and charset). The error says why there is no article.
pub fn extract(bytes: &[u8], content_type: Option<&str>, url: &Url, rule: &FullText) -> Extracted {
    let media = content_type
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|t| !t.is_empty());
    match media.as_deref() {
        Some("text/html" | "application/xhtml+xml") => {}
        Some(other) => return Err(format!("the page is not HTML but {other}")),
        None if !text::looks_like_html(&String::from_utf8_lossy(
            &bytes[..bytes.len().min(4096)],
        )) =>
        {
            return Err("the page is not HTML".into());
        }
        None => {}
    }
    let page = charset::decode(bytes, content_type).text;
    if normalise::too_deep(&page) {
        return Err("the page nests elements absurdly deep".into());
    }
    let mut document = Html::parse_document(&page);
    for pick in &rule.remove {
        let doomed: Vec<_> = document.select(&pick.selector).map(|e| e.id()).collect();
        for id in doomed {
            if let Some(mut node) = document.tree.get_mut(id) {
                node.detach();
            }
        }
    }
    let article = match &rule.content {
        Some(pick) => {
            let found: Vec<String> = document
                .select(&pick.selector)
                .map(|e| e.inner_html())
                .collect();
            if found.is_empty() {
                return Err(format!("no element matches content = {:?}", pick.text));
            }
            found.join("\n")
        }
        None => readability(&document.html(), url)?,
    };
    let article = normalise::sanitise(&article, Some(url))
        .ok_or_else(|| "the article is empty once sanitised".to_string())?;
    if text::html_to_text(&article).trim().is_empty() {
        return Err("the article has no text".into());
    }
    Ok(article)
}

/// The main content of a page, as Mozilla's Readability finds it.
fn readability(page: &str, url: &Url) -> Extracted {
    let mut reader = dom_smoothie::Readability::new(page, Some(url.as_str()), None)
        .map_err(|e| format!("Readability cannot read the page: {e}"))?;
    let article = reader
        .parse()
        .map_err(|e| format!("Readability found no article: {e}"))?;
    Ok(article.content.to_string())
}

/// What goes in the item: the article, unless it has less text than the item already had
/// (its content, else its summary), in which case the reason.
pub fn choose(item: &Item, extracted: Extracted) -> Extracted {
    let article = extracted?;
    let length = |html: &str| text::html_to_text(html).chars().count();
    let had = item
        .content
        .as_deref()
        .or(item.summary.as_deref())
        .map_or(0, length);
    let got = length(&article);
    if got < had {
        return Err(format!(
            "the article's text ({got} characters) is shorter than the item's own ({had})"
        ));
    }
    Ok(article)
}

/// Fetches the page at `link` within `limits` and extracts its article. Only http(s)
/// pages, and local files when `files` (the source is itself a local file).
pub async fn fetch(
    fetcher: &Fetcher,
    limits: &Limits,
    link: &str,
    rule: &FullText,
    files: bool,
) -> Extracted {
    let url = Url::parse(link).map_err(|e| format!("{link:?} is not a URL: {e}"))?;
    let allowed = match url.scheme() {
        "http" | "https" => true,
        "file" => files,
        _ => false,
    };
    if !allowed {
        return Err(format!("{link} is not an http(s) URL"));
    }
    let fetched = {
        let _permit = limits.acquire(&url).await;
        fetcher.fetch(&url, &Validators::default()).await
    };
    let body = match fetched {
        Ok(Fetched::Body(body)) => body,
        Ok(Fetched::NotModified { .. }) => return Err("the server answered 304".into()),
        Err(e) => return Err(format!("cannot fetch the page: {e}")),
    };
    let rule = rule.clone();
    // Parsing a page is CPU work: keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        extract(&body.bytes, body.content_type.as_deref(), &body.url, &rule)
    })
    .await
    .unwrap_or_else(|e| Err(format!("internal error while extracting: {e}")))
}

/// Fetches the pages of `wanted` items of `source` at once (the limits bound how many are in
/// flight), until `abandon` fires; pages not done by then are left out.
pub async fn fetch_all(
    fetcher: &Fetcher,
    limits: &Arc<Limits>,
    source: &SourceConfig,
    wanted: Vec<Wanted>,
    abandon: &CancellationToken,
) -> Vec<(Wanted, Extracted)> {
    let Some(rule) = &source.full_text else {
        return Vec::new();
    };
    // A local source's stories may be local files; a page on the web never leads to one.
    let files = source.url.scheme() == "file";
    let mut tasks = JoinSet::new();
    for item in wanted {
        let (fetcher, limits, rule) = (fetcher.clone(), limits.clone(), rule.clone());
        tasks.spawn(async move {
            let extracted = fetch(&fetcher, &limits, &item.link, &rule, files).await;
            (item, extracted)
        });
    }
    let mut done = Vec::new();
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Ok(result)) => done.push(result),
                Some(Err(e)) => warn!(source = %source.name, error = %e, "An article fetch failed inside syndic."),
                None => break,
            },
            () = abandon.cancelled() => {
                debug!(source = %source.name, left = tasks.len(), "Abandoned article fetches in flight.");
                break;
            }
        }
    }
    done
}

/// Caches each page's outcome and puts usable articles in their items (an item gone from
/// the store meanwhile is skipped). Returns how many items got their article.
pub fn record(
    store: &mut Store,
    source: &str,
    results: Vec<(Wanted, Extracted)>,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut applied = 0;
    for (wanted, extracted) in results {
        let Some(item) = store.item(source, &wanted.id)? else {
            continue;
        };
        let outcome = choose(&item, extracted);
        match &outcome {
            Ok(_) => applied += 1,
            Err(reason) => {
                warn!(source = %source, url = %wanted.link, %reason, "No full text for the item; it keeps the source's text.")
            }
        }
        let outcome = outcome.as_deref().map_err(String::as_str);
        store.record_article(source, &wanted, now, outcome)?;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_pick;

    const PAGE: &str =
        include_str!("../../tests/fixtures/news-site/article-pyongyang-china-ties.html");

    fn url() -> Url {
        Url::parse("http://news.example/2024/07/28/pyongyang/").unwrap()
    }

    fn rule(content: Option<&str>, remove: &[&str]) -> FullText {
        FullText {
            content: content.map(|c| parse_pick(c).unwrap()),
            remove: remove.iter().map(|r| parse_pick(r).unwrap()).collect(),
        }
    }

    const STORY: [&str; 4] = [
        "North Korean leader Kim Jong-un has said",
        "paid tribute to fallen Chinese soldiers",
        "did not carry any articles on the anniversary",
        "It marked the first time Kim visited the cemetery",
    ];
    const FURNITURE: [&str; 6] = [
        "Previous Story",
        "Next Story",
        "Latest from",
        "Don't Miss",
        "Go to Top",
        "All rights reserved",
    ];

    #[test]
    fn readability_finds_the_story_and_leaves_the_furniture() {
        let html = extract(PAGE.as_bytes(), Some("text/html"), &url(), &rule(None, &[])).unwrap();
        let text = text::html_to_text(&html);
        for sentence in STORY {
            assert!(text.contains(sentence), "{sentence:?} missing from {text}");
        }
        for furniture in FURNITURE {
            assert!(!text.contains(furniture), "{furniture:?} left in {text}");
        }
        assert!(html.matches("<p").count() >= 11, "{html}");
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn content_and_remove_rules() {
        let picked = rule(Some(".entry-content"), &[".also-read", ".ad-slot"]);
        let html = extract(PAGE.as_bytes(), None, &url(), &picked).unwrap();
        let text = text::html_to_text(&html);
        assert!(STORY.iter().all(|s| text.contains(s)), "{text}");
        assert!(!text.contains("ALSO READ"), "{text}");
        assert!(!html.contains("adsbygoogle"), "{html}");

        let kept = extract(
            PAGE.as_bytes(),
            None,
            &url(),
            &rule(Some(".entry-content"), &[]),
        );
        assert!(kept.unwrap().contains("ALSO READ"), "only remove drops it");
        let none = extract(PAGE.as_bytes(), None, &url(), &rule(Some("#nothing"), &[]));
        assert_eq!(
            none,
            Err("no element matches content = \"#nothing\"".into())
        );
    }

    #[test]
    fn pages_that_are_not_html_and_charsets() {
        let plain = extract(
            b"{\"a\": 1}",
            Some("application/json"),
            &url(),
            &rule(None, &[]),
        );
        assert_eq!(
            plain,
            Err("the page is not HTML but application/json".into())
        );
        let page = b"<html><head><meta charset=\"windows-1252\"></head><body><div class=\"a\">\
                     <p>Caf\xe9 \x93quoted\x94 text.</p></div></body></html>";
        let html = extract(page, Some("text/html"), &url(), &rule(Some(".a"), &[])).unwrap();
        assert!(html.contains("Café “quoted” text."), "{html}");
    }

    #[test]
    fn hostile_markup_never_reaches_the_article() {
        let page = "<html><body><div class=\"story\"><p onclick=\"steal()\">A long enough \
                    paragraph <a href=\"javascript:alert(1)\">click</a> and \
                    <a href=\"/rel/\">relative</a>.</p><script>alert(2)</script></div></body></html>";
        let html = extract(page.as_bytes(), None, &url(), &rule(Some(".story"), &[])).unwrap();
        for bad in ["onclick", "javascript:", "<script", "alert"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("href=\"http://news.example/rel/\""), "{html}");
    }

    #[test]
    fn a_shorter_article_loses_to_the_item_text() {
        let mut item = Item::new("s", "x", Utc::now());
        item.summary = Some("<p>A teaser of some length.</p>".into());
        assert!(
            choose(
                &item,
                Ok("<p>A much longer article than the teaser.</p>".into())
            )
            .is_ok()
        );
        let short = choose(&item, Ok("<p>Short.</p>".into())).unwrap_err();
        assert!(short.contains("shorter than the item's own"), "{short}");
        assert_eq!(choose(&item, Err("gone".into())), Err("gone".into()));
    }
}
