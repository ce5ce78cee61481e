//! RSS 2.0 writer: maps a [`Channel`] and items onto the `rss` crate's model and serialises it.
//!
//! The `atom`, `content` and `dc` namespaces are always declared on `<rss>`, in that order,
//! so the prologue does not change with the items. Channel dates come from the items
//! (`pubDate` = newest [`Item::date`], `lastBuildDate` = newest [`Item::modified`]) and are
//! left out when there are none. RSS allows one `author` and one `enclosure` per item: the
//! first author with an email and the first enclosure are written, every author goes to
//! `dc:creator`, and Atom and JSON Feed carry the other enclosures. This file does not
//! sanitise HTML (the content is already clean); it only drops XML-forbidden characters.

use std::collections::BTreeMap;

use ::rss::extension::dublincore::DublinCoreExtension;
use ::rss::extension::{Extension, ExtensionMap};
use ::rss::{Category, Enclosure, Guid};

use super::{Channel, Format, UNKNOWN_TYPE, newest_date, newest_modified, rfc822, xml_clean};
use crate::model::Item;

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
const CONTENT_NS: &str = "http://purl.org/rss/1.0/modules/content/";
const DC_NS: &str = "http://purl.org/dc/elements/1.1/";

/// Renders an RSS 2.0 document.
pub fn render(channel: &Channel, items: &[Item]) -> String {
    let link = channel
        .link
        .map(str::to_owned)
        .or_else(|| channel.base_url.map(|u| u.to_string()))
        .or_else(|| channel.self_url(Format::Rss))
        .unwrap_or_default();
    let out = ::rss::Channel {
        title: clean(channel.title),
        link: clean(&link),
        description: clean(channel.description.unwrap_or(channel.title)),
        pub_date: newest_date(items).map(rfc822),
        last_build_date: newest_modified(items).map(rfc822),
        extensions: self_link(channel),
        items: items.iter().map(item).collect(),
        namespaces: BTreeMap::from([
            ("atom".to_owned(), ATOM_NS.to_owned()),
            ("content".to_owned(), CONTENT_NS.to_owned()),
            ("dc".to_owned(), DC_NS.to_owned()),
        ]),
        ..Default::default()
    };
    let bytes = out
        .pretty_write_to(Vec::new(), b' ', 2)
        .expect("writing XML into a Vec<u8> cannot fail");
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    text.push('\n');
    text
}

/// `<atom:link rel="self">`, which feed readers and validators use to find the feed's home.
fn self_link(channel: &Channel) -> ExtensionMap {
    let Some(href) = channel.self_url(Format::Rss) else {
        return ExtensionMap::new();
    };
    let link = Extension {
        name: "atom:link".to_owned(),
        // An empty value keeps the start and end tags on one line when pretty-printing.
        value: Some(String::new()),
        attrs: BTreeMap::from([
            ("href".to_owned(), clean(&href)),
            ("rel".to_owned(), "self".to_owned()),
            ("type".to_owned(), Format::Rss.media_type().to_owned()),
        ]),
        children: BTreeMap::new(),
    };
    BTreeMap::from([(
        "atom".to_owned(),
        BTreeMap::from([("link".to_owned(), vec![link])]),
    )])
}

fn item(item: &Item) -> ::rss::Item {
    let description = item
        .summary
        .as_ref()
        .or(item.content.as_ref())
        .map(|s| clean(s));
    // RSS needs a title or a description; an item with neither gets an empty title.
    let title = match (&item.title, &description) {
        (Some(t), _) => Some(clean(t)),
        (None, None) => Some(String::new()),
        (None, Some(_)) => None,
    };
    let author = item.authors.iter().find_map(|p| {
        let email = p.email.as_deref()?;
        Some(clean(&format!("{email} ({})", p.name)))
    });
    let creators: Vec<String> = item
        .authors
        .iter()
        .filter(|p| !p.name.is_empty())
        .map(|p| clean(&p.name))
        .collect();
    ::rss::Item {
        title,
        link: item.link.as_deref().map(clean),
        description,
        author,
        categories: item
            .categories
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| Category {
                name: clean(c),
                domain: None,
            })
            .collect(),
        enclosure: item.enclosures.first().map(|e| Enclosure {
            url: clean(&e.url),
            length: e.length.unwrap_or(0).to_string(),
            mime_type: clean(e.mime_type.as_deref().unwrap_or(UNKNOWN_TYPE)),
        }),
        guid: Some(Guid {
            value: clean(&item.id),
            permalink: item.link.as_deref() == Some(item.id.as_str()),
        }),
        pub_date: Some(rfc822(item.date())),
        content: item.content.as_deref().map(clean),
        dublin_core_ext: (!creators.is_empty()).then(|| DublinCoreExtension {
            creators,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn clean(s: &str) -> String {
    xml_clean(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::golden;

    fn parse(text: &str) -> ::rss::Channel {
        ::rss::Channel::read_from(text.as_bytes()).expect("output parses as RSS")
    }

    #[test]
    fn golden_file() {
        golden::check(Format::Rss);
    }

    #[test]
    fn round_trips_through_the_rss_crate() {
        let items = golden::items();
        let text = render(&golden::channel(), &items);
        let ch = parse(&text);
        assert_eq!(ch.title, "Asia, merged & <more>");
        assert_eq!(ch.link, "https://example.org/");
        assert_eq!(ch.items.len(), items.len());
        let newest = items.iter().map(Item::modified).max().unwrap();
        assert_eq!(ch.last_build_date.as_deref(), Some(rfc822(newest).as_str()));
        for (out, inp) in ch.items.iter().zip(&items) {
            let guid = out.guid.as_ref().unwrap();
            assert_eq!(guid.value, inp.id);
            assert_eq!(guid.permalink, inp.link.as_deref() == Some(inp.id.as_str()));
            assert_eq!(out.link, inp.link);
            if let Some(t) = &inp.title {
                assert_eq!(out.title.as_deref(), Some(xml_clean(t).as_ref()));
            }
            assert_eq!(out.pub_date.as_deref(), Some(rfc822(inp.date()).as_str()));
            assert_eq!(out.content, inp.content);
        }
    }

    #[test]
    fn podcast_enclosure_and_author() {
        let items = golden::items();
        let ch = parse(&render(&golden::channel(), &items));
        let pod = &ch.items[0];
        let enc = pod.enclosure.as_ref().unwrap();
        assert_eq!(enc.url, "https://cdn.example.org/ep12.mp3");
        assert_eq!(
            (enc.length.as_str(), enc.mime_type.as_str()),
            ("12345678", "audio/mpeg")
        );
        assert_eq!(pod.author.as_deref(), Some("jane@example.org (Jane Doe)"));
        let dc = pod.dublin_core_ext.as_ref().unwrap();
        assert_eq!(dc.creators, ["Jane Doe", "Ravi K."]);
    }

    #[test]
    fn enclosure_defaults_length_and_type() {
        let mut it = golden::minimal("urn:x:1");
        it.enclosures.push(crate::model::Enclosure {
            url: "https://cdn.example.org/f".into(),
            mime_type: None,
            length: None,
        });
        let ch = parse(&render(&golden::channel(), &[it]));
        let enc = ch.items[0].enclosure.as_ref().unwrap();
        assert_eq!(
            (enc.length.as_str(), enc.mime_type.as_str()),
            ("0", UNKNOWN_TYPE)
        );
    }

    #[test]
    fn cdata_terminator_is_split() {
        let mut it = golden::minimal("urn:x:1");
        it.content = Some("<p>a]]>b]]]]>c</p>".into());
        let text = render(&golden::channel(), &[it]);
        assert_eq!(
            parse(&text).items[0].content.as_deref(),
            Some("<p>a]]>b]]]]>c</p>")
        );
    }

    #[test]
    fn forbidden_characters_are_dropped() {
        let mut it = golden::minimal("urn:x:\u{1}1");
        it.title = Some("bell\u{7} here\u{FFFF}".into());
        let ch = parse(&render(&golden::channel(), &[it]));
        assert_eq!(ch.items[0].title.as_deref(), Some("bell here"));
        assert_eq!(ch.items[0].guid.as_ref().unwrap().value, "urn:x:1");
    }

    #[test]
    fn empty_feed_has_no_dates_and_stays_well_formed() {
        let channel = Channel {
            name: "empty",
            title: "Empty",
            description: None,
            link: None,
            base_url: None,
        };
        let text = render(&channel, &[]);
        let ch = parse(&text);
        assert_eq!((ch.link.as_str(), ch.description.as_str()), ("", "Empty"));
        assert!(ch.pub_date.is_none() && ch.last_build_date.is_none());
        assert!(!text.contains("atom:link"));
    }

    #[test]
    fn item_with_nothing_but_an_id_still_has_a_title() {
        let text = render(&golden::channel(), &[golden::minimal("urn:x:1")]);
        assert!(text.contains("<item>\n      <title></title>"), "{text}");
        assert_eq!(parse(&text).items.len(), 1);
    }
}
