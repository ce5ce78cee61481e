//! Atom 1.0 (RFC 4287) writer, written with quick-xml's event writer.
//!
//! Not the `atom_syndication` crate: it prints every date with chrono's `to_rfc3339`, which
//! spells UTC as `+00:00`, while our outputs use `Z` to the second; past that it only
//! escapes, which quick-xml does here. The document obeys the rules the schema cannot
//! check: the feed has an `author` (the channel title) so entries without one stay valid;
//! every entry has a `title` (empty when the item has none — inventing one from the
//! content would be guessing, and readers already show such entries by their content);
//! and an entry with no content and no alternate link carries its summary (or nothing) as
//! `content`, since §4.1.1.1 requires one or the other. An enclosure's `type` is written
//! only when it is a media type (the grammar wants `.+/.+`), an `email` only when it has an
//! `@`. This file does not sanitise HTML.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::{
    Channel, Format, absolute, email, media_type, newest_modified, rfc3339, unique, xml_clean,
};
use crate::model::{Item, Person};

/// `updated` of a feed without items: a fixed date, so that an empty feed is stable too.
const EPOCH: &str = "1970-01-01T00:00:00Z";

type W = Writer<Vec<u8>>;

/// Renders an Atom 1.0 feed document.
pub fn render(channel: &Channel, items: &[Item]) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    feed(&mut w, channel, items).expect("writing XML into a Vec<u8> cannot fail");
    let mut text = String::from_utf8_lossy(&w.into_inner()).into_owned();
    text.push('\n');
    text
}

fn feed(w: &mut W, channel: &Channel, items: &[Item]) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    let self_url = channel.self_url(Format::Atom);
    let id = match &self_url {
        Some(url) => url.clone(),
        None => format!("urn:syndic:feed:{}", channel.name),
    };
    let items = unique(items);
    let updated = newest_modified(&items).map(rfc3339);
    w.create_element("feed")
        .with_attribute(("xmlns", "http://www.w3.org/2005/Atom"))
        .write_inner_content(|w| {
            text(w, "id", &id)?;
            text(w, "title", channel.title)?;
            if let Some(d) = channel.description {
                text(w, "subtitle", d)?;
            }
            text(w, "updated", updated.as_deref().unwrap_or(EPOCH))?;
            if let Some(url) = &self_url {
                link(w, "self", url, Some(Format::Atom.media_type()), None)?;
            }
            if let Some(url) = channel.link.and_then(absolute) {
                link(w, "alternate", &url, Some("text/html"), None)?;
            }
            w.create_element("author")
                .write_inner_content(|w| text(w, "name", channel.title))?;
            items.iter().try_for_each(|item| entry(w, item))
        })?;
    Ok(())
}

fn entry(w: &mut W, item: &Item) -> io::Result<()> {
    let alternate = item.link.as_deref().and_then(absolute);
    // §4.1.1.1: without an alternate link there must be a content element; the summary is
    // then the content, rather than said twice.
    let (summary, content) = match (&item.content, &alternate) {
        (Some(c), _) => (item.summary.as_deref(), Some(c.as_str())),
        (None, Some(_)) => (item.summary.as_deref(), None),
        (None, None) => (None, Some(item.summary.as_deref().unwrap_or(""))),
    };
    w.create_element("entry").write_inner_content(|w| {
        text(w, "id", &item.id)?;
        text(w, "title", item.title.as_deref().unwrap_or(""))?;
        text(w, "updated", &rfc3339(item.modified()))?;
        if let Some(p) = item.published {
            text(w, "published", &rfc3339(p))?;
        }
        for p in &item.authors {
            author(w, p)?;
        }
        if let Some(url) = &alternate {
            link(w, "alternate", url, None, None)?;
        }
        for e in &item.enclosures {
            if let Some(url) = absolute(&e.url) {
                let mime_type = e.mime_type.as_deref().and_then(media_type);
                link(w, "enclosure", &url, mime_type.as_deref(), e.length)?;
            }
        }
        for c in item.categories.iter().map(|c| xml_clean(c)) {
            if !c.trim().is_empty() {
                w.create_element("category")
                    .with_attribute(("term", c.as_ref()))
                    .write_empty()?;
            }
        }
        if let Some(s) = summary {
            html(w, "summary", s)?;
        }
        if let Some(c) = content {
            html(w, "content", c)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn author(w: &mut W, p: &Person) -> io::Result<()> {
    w.create_element("author").write_inner_content(|w| {
        text(w, "name", &p.name)?;
        if let Some(email) = p.email.as_deref().and_then(email) {
            text(w, "email", &email)?;
        }
        if let Some(url) = p.url.as_deref().and_then(absolute) {
            text(w, "uri", &url)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn link(
    w: &mut W,
    rel: &str,
    href: &str,
    mime_type: Option<&str>,
    length: Option<u64>,
) -> io::Result<()> {
    let mut el = w
        .create_element("link")
        .with_attribute(("rel", rel))
        .with_attribute(("href", xml_clean(href).as_ref()));
    if let Some(t) = mime_type {
        el = el.with_attribute(("type", xml_clean(t).as_ref()));
    }
    if let Some(n) = length {
        el = el.with_attribute(("length", n.to_string().as_str()));
    }
    el.write_empty()?;
    Ok(())
}

/// `<name>value</name>`, escaped, without forbidden characters.
fn text(w: &mut W, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&xml_clean(value)))?;
    Ok(())
}

/// `<name type="html">escaped HTML</name>`.
fn html(w: &mut W, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .with_attribute(("type", "html"))
        .write_text_content(BytesText::new(&xml_clean(value)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::golden;
    use atom_syndication::Feed;

    fn parse(text: &str) -> Feed {
        Feed::read_from(text.as_bytes()).expect("output parses as Atom")
    }

    #[test]
    fn golden_file() {
        golden::check(Format::Atom);
    }

    #[test]
    fn round_trips_through_atom_syndication() {
        let items = golden::items();
        let feed = parse(&render(&golden::channel(), &items));
        assert_eq!(feed.id, "https://feeds.example.org/asia.atom");
        assert_eq!(feed.title.value, "Asia, merged & <more>");
        assert_eq!(feed.authors[0].name, "Asia, merged & <more>");
        let newest = items.iter().map(Item::modified).max().unwrap();
        assert_eq!(feed.updated.to_utc(), newest);
        assert_eq!(feed.entries.len(), items.len());
        for (out, inp) in feed.entries.iter().zip(&items) {
            assert_eq!(out.id, inp.id);
            let title = inp.title.as_deref().map(xml_clean).unwrap_or_default();
            assert_eq!(out.title.value, title);
            let alternate = out.links.iter().find(|l| l.rel == "alternate");
            assert_eq!(alternate.map(|l| l.href.as_str()), inp.link.as_deref());
            assert_eq!(out.updated.to_utc(), inp.modified());
            assert_eq!(out.published.map(|d| d.to_utc()), inp.published);
            if inp.content.is_some() {
                assert_eq!(out.content.as_ref().unwrap().value, inp.content);
            }
        }
    }

    #[test]
    fn dates_are_utc_with_z() {
        let text = render(&golden::channel(), &golden::items());
        assert!(text.contains("<updated>2024-03-02T10:00:00Z</updated>"));
        assert!(!text.contains("+00:00"));
    }

    #[test]
    fn enclosures_keep_type_and_length() {
        let feed = parse(&render(&golden::channel(), &golden::items()));
        let enc: Vec<_> = feed.entries[0]
            .links
            .iter()
            .filter(|l| l.rel == "enclosure")
            .collect();
        assert_eq!(enc.len(), 2);
        assert_eq!(enc[0].mime_type.as_deref(), Some("audio/mpeg"));
        assert_eq!(enc[0].length.as_deref(), Some("12345678"));
        assert_eq!(
            (enc[1].mime_type.as_deref(), enc[1].length.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn entry_without_link_or_content_gets_content() {
        let mut only_summary = golden::minimal("urn:x:1");
        only_summary.summary = Some("<b>hi</b>".into());
        let bare = golden::minimal("urn:x:2");
        let feed = parse(&render(&golden::channel(), &[only_summary, bare]));
        let e = &feed.entries[0];
        assert!(e.summary.is_none());
        assert_eq!(
            e.content.as_ref().unwrap().value.as_deref(),
            Some("<b>hi</b>")
        );
        let e = &feed.entries[1];
        assert_eq!(e.title.value, "");
        assert!(e.content.is_some());
    }

    #[test]
    fn empty_feed_without_base_url() {
        let channel = Channel {
            base_url: None,
            link: None,
            ..golden::channel()
        };
        let text = render(&channel, &[]);
        let feed = parse(&text);
        assert_eq!(feed.id, "urn:syndic:feed:asia");
        assert!(text.contains("<updated>1970-01-01T00:00:00Z</updated>"));
        assert!(feed.links.is_empty());
    }
}
