//! JSON Feed 1.0 and 1.1, read with serde into a [`Document`].
//!
//! Types are checked strictly — a title that is a number is [`ParseError::Json`] with
//! serde_json's reason and position — except the item `id`, which the spec says readers must
//! coerce from a number. 1.0's `author` and 1.1's `authors` are both read; items without
//! authors take the feed's. `content_text` and `summary` are plain text and come out
//! escaped as HTML. Extensions (`_foo`) and hubs are ignored.

use std::rc::Rc;

use serde::Deserialize;
use url::Url;

use super::feed::{Document, Entry, Format, ParseError};
use super::feedxml::resolve;
use super::{date, text};
use crate::model::{Enclosure, Person};

#[derive(Deserialize)]
struct Feed {
    version: Option<String>,
    title: Option<String>,
    home_page_url: Option<String>,
    description: Option<String>,
    author: Option<Author>,
    authors: Option<Vec<Author>>,
    items: Option<Vec<Item>>,
}

#[derive(Deserialize)]
struct Item {
    id: Option<Id>,
    url: Option<String>,
    external_url: Option<String>,
    title: Option<String>,
    content_html: Option<String>,
    content_text: Option<String>,
    summary: Option<String>,
    image: Option<String>,
    banner_image: Option<String>,
    date_published: Option<String>,
    date_modified: Option<String>,
    author: Option<Author>,
    authors: Option<Vec<Author>>,
    tags: Option<Vec<String>>,
    attachments: Option<Vec<Attachment>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(serde_json::Number),
}

#[derive(Clone, Deserialize)]
struct Author {
    name: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct Attachment {
    url: String,
    mime_type: Option<String>,
    size_in_bytes: Option<serde_json::Number>,
}

/// Parses a JSON Feed (already decoded).
pub fn parse(src: &str, base: &Url) -> Result<Document, ParseError> {
    if src.trim_start().starts_with('[') {
        return Err(ParseError::NotAFeed {
            what: "a JSON array, not a JSON Feed".to_owned(),
        });
    }
    let feed: Feed = serde_json::from_str(src).map_err(|e| ParseError::Json {
        message: e.to_string(),
    })?;
    let version = feed.version.as_deref().unwrap_or_default();
    if !version.contains("jsonfeed.org/version/") && feed.items.is_none() {
        return Err(ParseError::NotAFeed {
            what: "a JSON document that is not a JSON Feed".to_owned(),
        });
    }
    let format = if version.trim_end_matches('/').ends_with("/version/1") {
        Format::JsonFeed10
    } else {
        Format::JsonFeed11
    };
    let feed_authors = authors(feed.authors, feed.author, base);
    let shared = Rc::new(base.clone());
    let entries = feed
        .items
        .unwrap_or_default()
        .into_iter()
        .map(|item| entry(item, &feed_authors, &shared))
        .collect();
    Ok(Document {
        format,
        title: feed
            .title
            .map(|t| text::collapse_whitespace(&t))
            .filter(|t| !t.is_empty()),
        link: feed.home_page_url.and_then(|u| resolve(base, &u)),
        subtitle: feed
            .description
            .map(|d| text::collapse_whitespace(&d))
            .filter(|d| !d.is_empty()),
        entries,
        warning: None,
        xml_chars: false,
    })
}

fn entry(item: Item, feed_authors: &[Person], base: &Rc<Url>) -> Entry {
    let escaped =
        |s: String| Some(text::escape_html(s.trim()).into_owned()).filter(|s| !s.is_empty());
    let mut authors = authors(item.authors, item.author, base);
    if authors.is_empty() {
        authors = feed_authors.to_vec();
    }
    Entry {
        id: item
            .id
            .map(|id| match id {
                Id::Text(s) => s.trim().to_owned(),
                Id::Number(n) => n.to_string(),
            })
            .filter(|id| !id.is_empty()),
        id_is_permalink: false,
        title: item
            .title
            .map(|t| text::collapse_whitespace(&t))
            .filter(|t| !t.is_empty()),
        link: item
            .url
            .as_deref()
            .or(item.external_url.as_deref())
            .and_then(|u| resolve(base, u)),
        authors,
        published: item.date_published.as_deref().and_then(date::parse_date),
        updated: item.date_modified.as_deref().and_then(date::parse_date),
        summary: item.summary.and_then(escaped),
        content: match item
            .content_html
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
        {
            Some(html) => Some(html),
            None => item.content_text.and_then(escaped),
        },
        base: Some(base.clone()),
        categories: item
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
        enclosures: item
            .attachments
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| {
                Some(Enclosure {
                    url: resolve(base, &a.url)?,
                    mime_type: a.mime_type.filter(|t| !t.trim().is_empty()),
                    length: a
                        .size_in_bytes
                        .and_then(|n| n.as_u64().or_else(|| n.as_f64().map(|f| f as u64))),
                })
            })
            .collect(),
        image: item
            .image
            .or(item.banner_image)
            .and_then(|u| resolve(base, &u)),
    }
}

/// 1.1 `authors`, else 1.0 `author`. An author with only a `mailto:` URL is named by the
/// address; one with only a web page stays nameless, for the normaliser to name once it has
/// checked the URL.
fn authors(many: Option<Vec<Author>>, one: Option<Author>, base: &Url) -> Vec<Person> {
    many.unwrap_or_else(|| one.into_iter().collect())
        .into_iter()
        .filter_map(|a| {
            let url = a.url.and_then(|u| resolve(base, &u));
            let name = a
                .name
                .map(|n| text::collapse_whitespace(&n))
                .filter(|n| !n.is_empty());
            let email = url
                .as_deref()
                .and_then(|u| u.strip_prefix("mailto:"))
                .map(str::to_owned);
            let url = url.filter(|u| !u.starts_with("mailto:"));
            if name.is_none() && email.is_none() && url.is_none() {
                return None;
            }
            Some(Person {
                name: name.or_else(|| email.clone()).unwrap_or_default(),
                email,
                url,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.org/feed.json").unwrap()
    }

    #[test]
    fn json_feed_1_1() {
        let src = r#"{
            "version": "https://jsonfeed.org/version/1.1",
            "title": "My  Feed", "home_page_url": "/", "description": "About",
            "authors": [{"name": "Feed Author"}],
            "items": [{
                "id": "tag:example.org,2024:1", "url": "/posts/1", "title": "Hello",
                "content_text": "a < b & c", "summary": "Sum <mary>",
                "date_published": "2024-01-02T03:04:05+01:00", "date_modified": "2024-01-03T00:00:00Z",
                "tags": ["rust", " "], "image": "img/1.png",
                "attachments": [{"url": "/ep1.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 1234}]
            }]
        }"#;
        let doc = parse(src, &base()).unwrap();
        assert_eq!(
            (doc.format, doc.title.as_deref(), doc.link.as_deref()),
            (
                Format::JsonFeed11,
                Some("My Feed"),
                Some("https://example.org/")
            )
        );
        let e = &doc.entries[0];
        assert_eq!(e.id.as_deref(), Some("tag:example.org,2024:1"));
        assert_eq!(e.link.as_deref(), Some("https://example.org/posts/1"));
        assert_eq!(e.content.as_deref(), Some("a &lt; b &amp; c"));
        assert_eq!(e.summary.as_deref(), Some("Sum &lt;mary&gt;"));
        assert_eq!(
            e.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2024-01-02T02:04:05+00:00")
        );
        assert!(e.updated.is_some());
        assert_eq!(e.authors[0].name, "Feed Author");
        assert_eq!(e.categories, ["rust"]);
        assert_eq!(e.image.as_deref(), Some("https://example.org/img/1.png"));
        assert_eq!(
            e.enclosures,
            [Enclosure {
                url: "https://example.org/ep1.mp3".into(),
                mime_type: Some("audio/mpeg".into()),
                length: Some(1234)
            }]
        );
        assert!(!e.id_is_permalink);
    }

    #[test]
    fn json_feed_1_0_author_and_html_content() {
        let src = r#"{"version": "https://jsonfeed.org/version/1", "title": "Old",
            "items": [{"id": 42, "content_html": "<p>Hi</p>", "content_text": "Hi",
                       "author": {"name": "Ann", "url": "https://ann.example/"}}]}"#;
        let doc = parse(src, &base()).unwrap();
        assert_eq!(doc.format, Format::JsonFeed10);
        let e = &doc.entries[0];
        assert_eq!(
            (e.id.as_deref(), e.content.as_deref()),
            (Some("42"), Some("<p>Hi</p>"))
        );
        assert_eq!(
            e.authors,
            [Person {
                name: "Ann".into(),
                email: None,
                url: Some("https://ann.example/".into())
            }]
        );
    }

    #[test]
    fn an_author_known_by_a_url_is_named_by_it_only_when_it_is_a_web_page() {
        let names = |url: &str| {
            let src = format!(
                r#"{{"version": "https://jsonfeed.org/version/1.1", "title": "T",
                    "items": [{{"id": "1", "title": "t", "authors": [{{"url": "{url}"}}]}}]}}"#
            );
            let doc = parse(&src, &base()).unwrap();
            let items = crate::source::normalise::normalise(doc, "s", chrono::Utc::now());
            let authors = &items[0].authors;
            authors.iter().map(|a| a.name.clone()).collect::<Vec<_>>()
        };
        assert_eq!(names("https://ann.example/"), ["https://ann.example/"]);
        assert_eq!(names("mailto:ann@example.org"), ["ann@example.org"]);
        assert!(names("javascript:alert(1)").is_empty());
    }

    #[test]
    fn wrong_types_are_json_errors_with_position() {
        let src =
            "{\"version\": \"https://jsonfeed.org/version/1.1\",\n \"title\": 5, \"items\": []}";
        let Err(ParseError::Json { message }) = parse(src, &base()) else {
            panic!("expected a JSON error")
        };
        assert!(
            message.contains("invalid type") && message.contains("line 2"),
            "{message}"
        );
        assert!(matches!(
            parse("{\"items\": [{\"tags\": \"x\"}]}", &base()),
            Err(ParseError::Json { .. })
        ));
    }

    #[test]
    fn other_json_is_not_a_feed() {
        assert!(matches!(
            parse(r#"{"name": "package.json"}"#, &base()),
            Err(ParseError::NotAFeed { .. })
        ));
        assert!(matches!(
            parse("[1, 2]", &base()),
            Err(ParseError::NotAFeed { .. })
        ));
    }
}
