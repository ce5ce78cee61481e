//! Web pages as sources: a `[source.html]` table's selectors applied to a listing page give
//! the same [`Document`] a feed gives, so [`super::normalise`] makes the items (ids from the
//! canonical link, sanitised summaries, only http(s) links) exactly as for feeds.
//!
//! The body is decoded like a feed's ([`super::charset`]: BOM, header, `<meta charset>`,
//! detection); relative URLs resolve against the page, or its `<base href>`. Fields have
//! defaults that fit common markup: a link reads an element's `href`, a date its `datetime`
//! before its text, an image its lazy-loading `data-src`/`srcset` before a placeholder
//! `src`. Dates are read by [`super::humandate`] in the source's zone. This file neither
//! fetches nor follows `next`: it only reports where the next page is. scraper's `Html` is
//! not `Send`, so everything here is synchronous and drops the tree before returning.

use std::rc::Rc;

use chrono_tz::Tz;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::MAX_ENTRIES;
use super::feed::{Document, Entry, Format, ParseError};
use super::humandate::{DateStyle, parse_human};
use super::{charset, text};
use crate::config::{HtmlConfig, Pick};
use crate::model::Person;

/// One listing page, read.
#[derive(Debug)]
pub struct Page {
    pub document: Document,
    pub listing: Listing,
}

/// What a listing page says beyond its items.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Listing {
    /// The next listing page, when `next` is set and matched.
    pub next: Option<Url>,
    pub report: Report,
}

/// How well the selectors fit the page, for `preview`: how many items `item` found and, for
/// each other key set, in how many of them it found a value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub items: usize,
    /// (key, selector as written, items in which it found a value).
    pub fields: Vec<(&'static str, String, usize)>,
    /// Whether `next` found a link, when it is set.
    pub next: Option<(String, bool)>,
}

impl Report {
    /// Adds another page's counts to these.
    pub fn add(&mut self, other: &Report) {
        self.items += other.items;
        for (mine, theirs) in self.fields.iter_mut().zip(&other.fields) {
            mine.2 += theirs.2;
        }
        self.next = other.next.clone();
    }
}

/// Reads a listing page: `content_type` for its charset, `url` the page's address (after
/// redirects), `zone` the zone of dates written without one.
pub fn parse(
    body: &[u8],
    content_type: Option<&str>,
    url: &Url,
    config: &HtmlConfig,
    zone: Tz,
) -> Result<Page, ParseError> {
    let decoded = charset::decode(body, content_type);
    let source = text::strip_forbidden(&decoded.text);
    let doc = Html::parse_document(&source);
    let base = Rc::new(page_base(&doc, url));
    let style = DateStyle {
        format: config.date_format.as_deref(),
        day_first: config.day_first,
        zone,
    };
    let picks: [(&'static str, Option<&Pick>); 7] = [
        ("title", config.title.as_ref()),
        ("link", config.link.as_ref()),
        ("summary", config.summary.as_ref()),
        ("date", config.date.as_ref()),
        ("author", config.author.as_ref()),
        ("image", config.image.as_ref()),
        ("id", config.id.as_ref()),
    ];
    let mut report = Report {
        fields: picks
            .iter()
            .filter_map(|(key, pick)| pick.map(|p| (*key, p.text.clone(), 0)))
            .collect(),
        ..Report::default()
    };
    let mut entries = Vec::new();
    for element in doc.select(&config.item.selector).take(MAX_ENTRIES) {
        let entry = entry(element, config, &base, &style);
        report.items += 1;
        let found = [
            entry.title.is_some(),
            entry.link.is_some(),
            entry.summary.is_some(),
            entry.published.is_some(),
            !entry.authors.is_empty(),
            entry.image.is_some(),
            entry.id.is_some(),
        ];
        let mut counts = report.fields.iter_mut();
        for ((_, pick), found) in picks.iter().zip(found) {
            if pick.is_some()
                && let Some(count) = counts.next()
            {
                count.2 += usize::from(found);
            }
        }
        entries.push(entry);
    }
    if entries.is_empty() {
        return Err(ParseError::NoItems {
            selector: config.item.text.clone(),
        });
    }
    let next = config.next.as_ref().and_then(|pick| {
        let found = doc
            .select(&pick.selector)
            .find_map(|e| link_value(e, pick.attr.as_deref()))
            .and_then(|href| base.join(&href).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https" | "file"));
        report.next = Some((pick.text.clone(), found.is_some()));
        found
    });
    let title = Selector::parse("title")
        .ok()
        .and_then(|s| doc.select(&s).next())
        .map(|t| text::collapse_whitespace(&t.text().collect::<String>()))
        .filter(|t| !t.is_empty());
    Ok(Page {
        document: Document {
            format: Format::Html,
            title,
            link: Some(url.to_string()),
            subtitle: None,
            entries,
            warning: None,
            xml_chars: false,
        },
        listing: Listing { next, report },
    })
}

/// The page's `<base href>`, resolved against its URL, else its URL.
fn page_base(doc: &Html, url: &Url) -> Url {
    Selector::parse("base[href]")
        .ok()
        .and_then(|s| doc.select(&s).next())
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| url.join(href.trim()).ok())
        .unwrap_or_else(|| url.clone())
}

fn entry(item: ElementRef, config: &HtmlConfig, base: &Rc<Url>, style: &DateStyle) -> Entry {
    let resolve = |href: String| base.join(&href).ok().map(String::from);
    let title = first(item, config.title.as_ref()).and_then(|(e, attr)| value(e, attr));
    // Without a link selector: the title's own link, else the item's first link.
    let link = match first(item, config.link.as_ref()) {
        Some((e, attr)) => link_value(e, attr),
        None if config.link.is_some() => None,
        None => first(item, config.title.as_ref())
            .and_then(|(e, _)| e.value().attr("href").map(str::to_string))
            .or_else(|| first_link(item)),
    }
    .and_then(resolve);
    let summary = first(item, config.summary.as_ref()).and_then(|(e, attr)| match attr {
        Some(attr) => e
            .value()
            .attr(attr)
            .map(|v| text::escape_html(v.trim()).into_owned()),
        None => Some(e.inner_html()),
    });
    let published = first(item, config.date.as_ref()).and_then(|(e, attr)| {
        let written = match attr {
            Some(attr) => e.value().attr(attr).map(str::to_string),
            None => e
                .value()
                .attr("datetime")
                .map(str::to_string)
                .or_else(|| value(e, None)),
        };
        parse_human(&written?, style)
    });
    let authors = first(item, config.author.as_ref())
        .and_then(|(e, attr)| value(e, attr))
        .map(|name| Person {
            name,
            email: None,
            url: None,
        })
        .into_iter()
        .collect();
    let image = first(item, config.image.as_ref())
        .and_then(|(e, attr)| match attr {
            Some("srcset") => e.value().attr("srcset").and_then(first_candidate),
            Some(attr) => e.value().attr(attr).map(str::to_string),
            None => image_of(e),
        })
        .and_then(resolve);
    let id = first(item, config.id.as_ref()).and_then(|(e, attr)| value(e, attr));
    Entry {
        id,
        id_is_permalink: false,
        title,
        link,
        authors,
        published,
        summary: summary.filter(|s| !s.trim().is_empty()),
        base: Some(base.clone()),
        image,
        ..Entry::default()
    }
}

/// The first element `pick` selects in `item`, with the attribute it asks for.
fn first<'a, 'p>(
    item: ElementRef<'a>,
    pick: Option<&'p Pick>,
) -> Option<(ElementRef<'a>, Option<&'p str>)> {
    let pick = pick?;
    Some((item.select(&pick.selector).next()?, pick.attr.as_deref()))
}

/// An attribute, or the element's text with whitespace collapsed; `None` when empty.
fn value(e: ElementRef, attr: Option<&str>) -> Option<String> {
    let v = match attr {
        Some(attr) => text::collapse_whitespace(e.value().attr(attr)?),
        None => text::collapse_whitespace(&e.text().collect::<String>()),
    };
    (!v.is_empty()).then_some(v)
}

/// A link: the attribute asked for, else the element's `href`, else its first link's.
fn link_value(e: ElementRef, attr: Option<&str>) -> Option<String> {
    match attr {
        Some(attr) => value(e, Some(attr)),
        None => value(e, Some("href")).or_else(|| first_link(e)),
    }
}

fn first_link(e: ElementRef) -> Option<String> {
    let links = Selector::parse("a[href]").ok()?;
    e.select(&links).find_map(|a| value(a, Some("href")))
}

/// An image's real address: lazy-loading attributes first, then `src` unless it is an
/// inline placeholder. On an element that is not an `<img>`, its first `<img>`.
fn image_of(e: ElementRef) -> Option<String> {
    let img = if e.value().name() == "img" {
        Some(e)
    } else {
        let imgs = Selector::parse("img").ok()?;
        e.select(&imgs).next()
    }?;
    let el = img.value();
    ["data-src", "data-lazy-src", "data-original"]
        .iter()
        .find_map(|a| value(img, Some(a)))
        .or_else(|| el.attr("data-srcset").and_then(first_candidate))
        .or_else(|| el.attr("srcset").and_then(first_candidate))
        .or_else(|| value(img, Some("src")).filter(|s| !s.starts_with("data:")))
}

/// The first URL of a `srcset` list ("a.jpg 1x, b.jpg 2x").
fn first_candidate(srcset: &str) -> Option<String> {
    let url = srcset.split(',').next()?.split_whitespace().next()?;
    (!url.is_empty()).then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_pick;

    fn config(item: &str, fields: &[(&str, &str)]) -> HtmlConfig {
        let pick = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| parse_pick(v).unwrap())
        };
        HtmlConfig {
            item: parse_pick(item).unwrap(),
            title: pick("title"),
            link: pick("link"),
            summary: pick("summary"),
            date: pick("date"),
            author: pick("author"),
            image: pick("image"),
            id: pick("id"),
            next: pick("next"),
            max_pages: 1,
            date_format: None,
            day_first: false,
        }
    }

    fn read(html: &[u8], config: &HtmlConfig) -> Result<Page, ParseError> {
        let url = Url::parse("https://news.example/section/top/").unwrap();
        parse(html, None, &url, config, Tz::UTC)
    }

    #[test]
    fn defaults_fit_common_markup() {
        let page = br#"<html><head><base href="https://cdn.news.example/x/"></head><body>
            <li><h2><a href="/a?utm_source=x">Caf&eacute;   &#8216;one&#8217;</a></h2>
              <time datetime="2025-09-20T18:05:00+01:00">September 20, 2025</time>
              <img src="data:image/gif;base64,R0l" srcset="one.jpg 1x, one@2x.jpg 2x"></li>
            <li><h2>Two</h2><a href="two.html">more</a><time>July 28, 2024</time>
              <img src="two.jpg"></li>
            <nav><a class="next" href="?page=2">Next</a></nav></body></html>"#;
        let c = config(
            "li",
            &[
                ("title", "h2"),
                ("date", "time"),
                ("image", "img"),
                ("next", "a.next"),
            ],
        );
        let page = read(page, &c).unwrap();
        let e = &page.document.entries;
        assert_eq!(e[0].title.as_deref(), Some("Café ‘one’"));
        assert_eq!(
            e[0].link.as_deref(),
            Some("https://cdn.news.example/a?utm_source=x"),
            "the item's first link, against <base href>"
        );
        assert_eq!(
            e[0].published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2025-09-20T17:05:00+00:00")
        );
        assert_eq!(
            e[0].image.as_deref(),
            Some("https://cdn.news.example/x/one.jpg")
        );
        assert_eq!(
            e[1].link.as_deref(),
            Some("https://cdn.news.example/x/two.html")
        );
        assert_eq!(
            e[1].published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2024-07-28T00:00:00+00:00")
        );
        assert_eq!(
            page.listing.next.as_ref().map(Url::as_str),
            Some("https://cdn.news.example/x/?page=2")
        );
        assert_eq!(page.listing.report.items, 2);
        assert_eq!(
            page.listing.report.fields,
            [
                ("title", "h2".to_string(), 2),
                ("date", "time".to_string(), 2),
                ("image", "img".to_string(), 2),
            ]
        );
    }

    #[test]
    fn attributes_are_read_when_asked() {
        let page = br#"<div class="card" data-id="42"><a class="t" href="/x" title=" Hi ">x</a>
            <span data-when="2024-07-28">today</span><p class="s" data-text="a &lt;b&gt;">p</p></div>"#;
        let c = config(
            "div.card",
            &[
                ("title", "a.t@title"),
                ("link", "a.t@href"),
                ("date", "span@data-when"),
                ("summary", "p@data-text"),
            ],
        );
        let e = &read(page, &c).unwrap().document.entries[0];
        assert_eq!(e.title.as_deref(), Some("Hi"));
        assert_eq!(e.link.as_deref(), Some("https://news.example/x"));
        assert_eq!(e.summary.as_deref(), Some("a &lt;b&gt;"));
        assert!(e.published.is_some());
    }

    #[test]
    fn a_page_without_items_says_so() {
        let c = config("article.post", &[("title", "h2")]);
        let e = read(b"<html><body><p>Nothing</p></body></html>", &c).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the item selector \"article.post\" matched nothing on the page"
        );
    }

    #[test]
    fn the_page_charset_is_honoured() {
        // windows-1252 bytes for "Café – ‘x’" with a <meta charset> that says so.
        let mut page = b"<html><head><meta charset=\"windows-1252\"></head><body><h2>Caf".to_vec();
        page.extend_from_slice(&[0xE9, b' ', 0x96, b' ', 0x91, b'x', 0x92]);
        page.extend_from_slice(b"</h2></body></html>");
        let c = config("body", &[("title", "h2")]);
        let e = &read(&page, &c).unwrap().document.entries[0];
        assert_eq!(e.title.as_deref(), Some("Café – ‘x’"));
    }
}
