//! Round trips through every writer: the golden items and [`golden::hostile`] ones are
//! rendered in each format and read back with syndic's own parser, which must find the
//! ids, titles, links, dates and HTML that went in — or, for hostile input, what the
//! writers promise to make of it (forbidden characters dropped, a repeated id written once,
//! relative URLs and malformed media types and emails left out). The strict `rss` and
//! `atom_syndication` crates and serde_json then check what each format requires of every
//! entry. Test-only.

use chrono::{TimeZone, Utc};

use super::{Channel, Format, UNKNOWN_TYPE, golden, render};
use crate::model::Item;
use crate::source::feed::{Document, Entry, parse};
use crate::source::text::is_xml_char;

fn read(format: Format, channel: &Channel, items: &[Item]) -> (String, Document) {
    let text = render(format, channel, items);
    let base = url::Url::parse("https://feeds.example.org/").unwrap();
    let doc = parse(text.as_bytes(), None, &base)
        .unwrap_or_else(|e| panic!("{format} does not parse back: {e}\n{text}"));
    (text, doc)
}

/// The HTML an entry carries in `format`, as the writer places it.
fn html_of(format: Format, e: &Entry) -> Option<&str> {
    match format {
        Format::Json => e.content.as_deref(),
        _ => e.content.as_deref().or(e.summary.as_deref()),
    }
}

#[test]
fn golden_items_survive_every_format() {
    let items = golden::items();
    for f in Format::all() {
        let (_, doc) = read(f, &golden::channel(), &items);
        assert_eq!(doc.entries.len(), items.len(), "{f}");
        for (e, i) in doc.entries.iter().zip(&items) {
            assert_eq!(e.id.as_deref(), Some(i.id.as_str()), "{f}");
            // A `<Tags>` in a title names no HTML element, so even RSS, where feeds do
            // escape HTML into titles, reads it back as text.
            assert_eq!(e.title, i.title, "{f}");
            assert_eq!(e.link, i.link, "{f}");
            let (published, updated) = match f {
                Format::Rss => (Some(i.date()), None),
                Format::Atom => (i.published, Some(i.modified())),
                Format::Json => (Some(i.date()), i.updated),
            };
            assert_eq!(
                (e.published, e.updated),
                (published, updated),
                "{f} {}",
                i.id
            );
            let html = i.content.as_deref().or(i.summary.as_deref());
            assert_eq!(html_of(f, e), html, "{f} {}", i.id);
        }
    }
}

#[test]
fn hostile_items_come_out_as_the_writers_promise() {
    for f in Format::all() {
        let (text, doc) = read(f, &golden::channel(), &golden::hostile());
        assert!(text.chars().all(is_xml_char), "{f}: {text:?}");
        let ids: Vec<&str> = doc.entries.iter().filter_map(|e| e.id.as_deref()).collect();
        assert_eq!(
            ids,
            [
                "urn:x:ctl",
                "https://example.org/cdata",
                "/relative/page",
                "urn:x:malformed",
                "urn:x:only-title",
                "urn:x:only-content",
                "https://example.org/only-link",
                "urn:x:only-enclosure",
                "urn:x:extremes",
            ],
            "{f}: the repeated id is written once, the first time"
        );
        let entry = |id: &str| doc.entries.iter().find(|e| e.id.as_deref() == Some(id));
        let e = entry("urn:x:ctl").unwrap();
        assert_eq!(e.title.as_deref(), Some("bell & 1 < 2"), "{f}");
        assert_eq!(e.link.as_deref(), Some("https://example.org/ab"), "{f}");
        assert_eq!(e.authors[0].name, "Zoë", "{f}");
        assert_eq!(e.enclosures[0].url, "https://cdn.example.org/x.mp3", "{f}");
        assert_eq!(e.enclosures[0].mime_type.as_deref(), Some("audio/mpeg"));
        assert_eq!(
            e.categories,
            ["category"],
            "{f}: the empty category is dropped"
        );

        let e = entry("https://example.org/cdata").unwrap();
        let content = "<p>a]]>b]]]]>c</p><pre><![CDATA[x]]></pre>";
        assert_eq!(e.content.as_deref(), Some(content), "{f}");
        if f != Format::Json {
            assert_eq!(e.summary.as_deref(), Some("<p>]]></p>"), "{f}");
        }
        assert_eq!(e.title.as_deref(), Some("CDATA ]]> in a title"), "{f}");

        let e = entry("/relative/page").unwrap();
        assert_eq!((&e.link, e.enclosures.len(), &e.image), (&None, 0, &None));
        assert!(e.authors.iter().all(|p| p.url.is_none()), "{f}");
        let written = [
            "href=\"/relative",
            "<link>/relative",
            "\"url\": \"/relative",
            "episode.mp3",
            "img.png",
            "/people/me",
        ];
        for relative in written {
            assert!(!text.contains(relative), "{f} writes {relative}");
        }

        let e = entry("urn:x:malformed").unwrap();
        let expected_type = (f != Format::Atom).then_some(UNKNOWN_TYPE);
        assert_eq!(e.enclosures[0].mime_type.as_deref(), expected_type, "{f}");
        assert!(!text.contains("\"mp3\"") && !text.contains("nobody"), "{f}");

        let e = entry("urn:x:extremes").unwrap();
        let first = match f {
            Format::Rss => Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap(),
            _ => Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
        };
        let last = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(e.published, Some(first), "{f}: RSS has no year before 1900");
        if f != Format::Rss {
            assert_eq!(e.updated, Some(last), "{f}");
        }
    }
}

/// What each format requires of every entry, checked by strict readers.
#[test]
fn every_entry_has_what_its_format_requires() {
    let full = golden::channel();
    let bare = Channel {
        description: None,
        link: None,
        base_url: None,
        ..full
    };
    for items in [golden::items(), golden::hostile()] {
        for c in [&full, &bare] {
            let feed =
                atom_syndication::Feed::read_from(render(Format::Atom, c, &items).as_bytes())
                    .expect("Atom parses");
            assert!(!feed.authors.is_empty(), "a feed author covers every entry");
            for e in &feed.entries {
                assert!(!e.id.is_empty());
                let alternate = e.links.iter().any(|l| l.rel == "alternate");
                assert!(
                    e.content.is_some() || alternate,
                    "{}: content or link",
                    e.id
                );
            }
            let text = render(Format::Rss, c, &items);
            for item in text.split("<item>").skip(1) {
                // (The rss crate reads an empty <title></title> as no title: look at the text.)
                let has = |tag: &str| item.contains(&format!("<{tag}>"));
                assert!(has("title") || has("description"), "{item}");
            }
            let rss = ::rss::Channel::read_from(text.as_bytes()).expect("RSS parses");
            for i in &rss.items {
                let guid = i.guid.as_ref().expect("every item has a guid");
                assert_eq!(
                    guid.permalink,
                    i.link.as_ref() == Some(&guid.value),
                    "{i:?}"
                );
            }
            let json: serde_json::Value =
                serde_json::from_str(&render(Format::Json, c, &items)).expect("JSON parses");
            for i in json["items"].as_array().unwrap() {
                assert!(i["id"].as_str().is_some_and(|s| !s.is_empty()), "{i}");
                assert!(i["content_html"].is_string() || i["content_text"].is_string());
            }
        }
    }
}

#[test]
fn a_relative_channel_link_is_left_out() {
    let channel = Channel {
        link: Some("/site/"),
        base_url: None,
        ..golden::channel()
    };
    for f in Format::all() {
        let text = render(f, &channel, &golden::items());
        assert!(!text.contains("/site/"), "{f}: {text}");
    }
    let rss = ::rss::Channel::read_from(render(Format::Rss, &channel, &[]).as_bytes()).unwrap();
    assert_eq!(
        rss.link, "",
        "no site and no base URL: RSS's required link stays empty"
    );
}
