//! JSON Feed 1.1 writer: serde structs in the spec's field order, serialised by serde_json.
//!
//! Absent values are left out, never written as `null`. Every item carries `content_html`
//! (the content, else the summary) or, when it has neither, an empty `content_text`, because
//! the spec requires one of the two. `summary` is plain text made from the summary HTML
//! (tags dropped, entities decoded, whitespace collapsed). `date_published` is
//! [`Item::date`], the same date the RSS `pubDate` shows, so an undated item keeps its
//! first-seen time; `date_modified` appears only when the item has an update date. An
//! author's email, which JSON Feed has no field for, becomes a `mailto:` URL when the
//! author has no page. An attachment needs a `mime_type`: a missing or malformed one is
//! written as `application/octet-stream`. This file does not sanitise HTML.

use std::borrow::Cow;

use crate::source::text::html_to_text;
use serde::Serialize;

use super::{
    Channel, Format, UNKNOWN_TYPE, absolute, email, media_type, rfc3339, unique, xml_clean,
};
use crate::model::{Item, Person};

/// Text as written: the characters XML forbids are dropped here too, so that every format
/// carries the same text and no reader meets a NUL.
type Text<'a> = Cow<'a, str>;

const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct Feed<'a> {
    version: &'static str,
    title: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    home_page_url: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    feed_url: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Text<'a>>,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<Text<'a>>,
    date_published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_modified: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Text<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment<'a>>,
}

#[derive(Serialize)]
struct Author<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<Text<'a>>,
}

#[derive(Serialize)]
struct Attachment<'a> {
    url: Text<'a>,
    mime_type: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
}

/// Renders a JSON Feed 1.1 document.
pub fn render(channel: &Channel, items: &[Item]) -> String {
    let feed = Feed {
        version: VERSION,
        title: xml_clean(channel.title),
        home_page_url: channel.link.and_then(absolute),
        feed_url: channel.self_url(Format::Json).map(owned),
        description: channel.description.map(xml_clean),
        items: unique(items).into_iter().map(item).collect(),
    };
    let mut text =
        serde_json::to_string_pretty(&feed).expect("plain structs with string keys serialise");
    text.push('\n');
    text
}

fn item(item: &Item) -> JsonItem<'_> {
    let html = item.content.as_deref().or(item.summary.as_deref());
    JsonItem {
        id: xml_clean(&item.id),
        url: item.link.as_deref().and_then(absolute),
        title: item.title.as_deref().map(xml_clean),
        content_html: html.map(xml_clean),
        content_text: html.is_none().then_some(Cow::Borrowed("")),
        summary: item
            .summary
            .as_deref()
            .map(|s| owned(html_to_text(s)))
            .filter(|s| !s.is_empty()),
        image: item.image.as_deref().and_then(absolute),
        date_published: rfc3339(item.date()),
        date_modified: item.updated.map(rfc3339),
        authors: item.authors.iter().filter_map(author).collect(),
        tags: item
            .categories
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| xml_clean(c))
            .collect(),
        attachments: item
            .enclosures
            .iter()
            .filter_map(|e| {
                Some(Attachment {
                    url: absolute(&e.url)?,
                    mime_type: match e.mime_type.as_deref().and_then(media_type) {
                        Some(t) => Cow::Owned(t),
                        None => Cow::Borrowed(UNKNOWN_TYPE),
                    },
                    size_in_bytes: e.length,
                })
            })
            .collect(),
    }
}

/// An author object needs a name or a URL; one with neither is left out.
fn author(p: &Person) -> Option<Author<'_>> {
    let page = p.url.as_deref().and_then(absolute);
    let url = page.or_else(|| {
        let mailto = format!("mailto:{}", email(p.email.as_deref()?)?);
        absolute(&mailto).map(|u| Cow::Owned(u.into_owned()))
    });
    let name = xml_clean(&p.name);
    (!name.is_empty() || url.is_some()).then_some(Author { name, url })
}

fn owned(s: String) -> Text<'static> {
    Cow::Owned(xml_clean(&s).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::golden;
    use serde_json::Value;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).expect("output parses as JSON")
    }

    #[test]
    fn golden_file() {
        golden::check(Format::Json);
    }

    #[test]
    fn round_trips_through_serde_json() {
        let items = golden::items();
        let v = parse(&render(&golden::channel(), &items));
        assert_eq!(v["version"], VERSION);
        assert_eq!(v["feed_url"], "https://feeds.example.org/asia.json");
        assert_eq!(v["home_page_url"], "https://example.org/");
        let out = v["items"].as_array().unwrap();
        assert_eq!(out.len(), items.len());
        for (o, i) in out.iter().zip(&items) {
            assert_eq!(o["id"], i.id.as_str());
            assert_eq!(o["url"].as_str(), i.link.as_deref());
            assert_eq!(o["title"].as_str(), i.title.as_deref());
            assert_eq!(
                o["date_published"].as_str(),
                Some(rfc3339(i.date()).as_str())
            );
            assert_eq!(
                o["date_modified"].as_str(),
                i.updated.map(rfc3339).as_deref()
            );
            assert!(o["content_html"].is_string() || o["content_text"].is_string());
        }
    }

    #[test]
    fn no_nulls_anywhere() {
        let text = render(&golden::channel(), &golden::items());
        assert!(!text.contains("null"));
        let bare = render(&golden::channel(), &[golden::minimal("urn:x:1")]);
        let v = parse(&bare);
        assert_eq!(v["items"][0]["content_text"], "");
        assert!(v["items"][0].get("content_html").is_none());
        assert!(!bare.contains("null"));
    }

    #[test]
    fn attachments_and_authors() {
        let v = parse(&render(&golden::channel(), &golden::items()));
        let pod = &v["items"][0];
        assert_eq!(pod["attachments"][0]["mime_type"], "audio/mpeg");
        assert_eq!(pod["attachments"][0]["size_in_bytes"], 12345678);
        assert_eq!(pod["attachments"][1]["mime_type"], UNKNOWN_TYPE);
        assert!(pod["attachments"][1].get("size_in_bytes").is_none());
        assert_eq!(pod["authors"][0]["url"], "https://example.org/jane");
        assert_eq!(pod["authors"][1]["url"], "mailto:ravi@example.org");
    }

    #[test]
    fn forbidden_characters_are_dropped_as_in_xml() {
        let mut it = golden::minimal("urn:x:\u{0}1");
        it.title = Some("bell\u{7} here\u{FFFF}".into());
        it.summary = Some("<p>s\u{1b}</p>".into());
        let v = parse(&render(&golden::channel(), &[it]));
        assert_eq!(v["items"][0]["id"], "urn:x:1");
        assert_eq!(v["items"][0]["title"], "bell here");
        assert_eq!(v["items"][0]["content_html"], "<p>s</p>");
    }

    #[test]
    fn summary_is_plain_text() {
        assert_eq!(
            html_to_text("<p>Fish &amp; <b>chips</b></p><p>caf&eacute;&nbsp;&lt;3</p>"),
            "Fish & chips café <3"
        );
        // (Script bodies never get here: summaries are sanitised when they are stored.)
        assert_eq!(html_to_text("a<br>b"), "a b");
        assert_eq!(
            html_to_text("<ul><li>one</li><li>two</li></ul>tail"),
            "one two tail"
        );
        assert_eq!(html_to_text("<p><b>x</b></p><i>y</i>"), "x y");
        assert_eq!(html_to_text("  "), "");
        // A character reference can spell a character XML forbids; the writer drops it.
        let mut it = golden::minimal("urn:x:1");
        it.summary = Some("a&#1;b".into());
        let v = parse(&render(&golden::channel(), &[it]));
        assert_eq!(v["items"][0]["summary"], "ab");
    }
}
