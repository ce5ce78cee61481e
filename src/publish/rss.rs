//! RSS 2.0 writer: maps a [`Channel`] and items onto the `rss` crate's model and serialises it.
//!
//! The `atom`, `content` and `dc` namespaces are always declared on `<rss>`, in that order,
//! so the prologue does not change with the items. Channel dates come from the items
//! (`pubDate` = newest [`Item::date`], `lastBuildDate` = newest [`Item::modified`]) and are
//! left out when there are none. RSS allows one `author` and one `enclosure` per item (and
//! readers take one): the first author with a well-formed email and the first recording
//! or video with an absolute URL (else the first file with one) are written, every author
//! goes to `dc:creator`, and Atom and JSON Feed carry the other enclosures. A `guid` is a
//! permalink only when it is the item's link; otherwise it says `isPermaLink="false"`.
//! This file does not sanitise HTML (the content is already clean); it only drops
//! XML-forbidden characters.

use std::borrow::Cow;
use std::collections::BTreeMap;

use ::rss::extension::dublincore::DublinCoreExtension;
use ::rss::extension::{Extension, ExtensionMap};
use ::rss::{Category, Enclosure, Guid};

use super::{
    Channel, Format, UNKNOWN_TYPE, absolute, email, media_type, newest_date, newest_modified,
    rfc822, unique, xml_clean,
};
use crate::model::{Item, MediaKind};

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
const CONTENT_NS: &str = "http://purl.org/rss/1.0/modules/content/";
const DC_NS: &str = "http://purl.org/dc/elements/1.1/";

/// Renders an RSS 2.0 document.
pub fn render(channel: &Channel, items: &[Item]) -> String {
    // RSS requires a channel link; with no site and no base URL there is none to give, and
    // the element stays empty (readers accept that; a relative one they would misread).
    let link = channel
        .link
        .and_then(absolute)
        .map(Cow::into_owned)
        .or_else(|| channel.base_url.map(|u| u.to_string()))
        .or_else(|| channel.self_url(Format::Rss))
        .unwrap_or_default();
    let items = unique(items);
    let out = ::rss::Channel {
        title: clean(channel.title),
        link: clean(&link),
        description: clean(channel.description.unwrap_or(channel.title)),
        pub_date: newest_date(&items).map(rfc822),
        last_build_date: newest_modified(&items).map(rfc822),
        extensions: self_link(channel),
        items: items.into_iter().map(item).collect(),
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
    // `author` is an address, then the name in parentheses when there is another name.
    let author = item.authors.iter().find_map(|p| {
        let email = email(p.email.as_deref()?)?;
        let name = clean(p.name.trim());
        Some(match name.is_empty() || name == email {
            true => email,
            false => format!("{email} ({name})"),
        })
    });
    let creators: Vec<String> = item
        .authors
        .iter()
        .map(|p| clean(&p.name))
        .filter(|n| !n.trim().is_empty())
        .collect();
    let link = item.link.as_deref().and_then(absolute).map(Cow::into_owned);
    let id = clean(&item.id);
    // A guid is a permalink only when it is the item's (absolute) link; otherwise readers
    // that treat a permalink guid as the link would open an id that is no page.
    let permalink = link.as_deref() == Some(id.as_str());
    ::rss::Item {
        title,
        description,
        author,
        categories: item
            .categories
            .iter()
            .map(|c| clean(c))
            .filter(|c| !c.trim().is_empty())
            .map(|name| Category { name, domain: None })
            .collect(),
        enclosure: enclosure(item),
        guid: Some(Guid {
            value: id,
            permalink,
        }),
        link,
        pub_date: Some(rfc822(item.date())),
        content: item.content.as_deref().map(clean),
        dublin_core_ext: (!creators.is_empty()).then(|| DublinCoreExtension {
            creators,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// RSS readers take one enclosure per item: the first recording or video with an absolute
/// URL (a cover picture listed before the episode must not replace it), else the first
/// file with one. Atom and JSON Feed carry them all.
fn enclosure(item: &Item) -> Option<Enclosure> {
    let usable = || {
        item.enclosures
            .iter()
            .filter_map(|e| Some((e, absolute(&e.url)?)))
    };
    let (e, url) = usable()
        .find(|(e, _)| e.kind() == MediaKind::Playable)
        .or_else(|| usable().next())?;
    Some(Enclosure {
        url: url.into_owned(),
        length: e.length.unwrap_or(0).to_string(),
        mime_type: e
            .mime_type
            .as_deref()
            .and_then(media_type)
            .unwrap_or_else(|| UNKNOWN_TYPE.to_owned()),
    })
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
    fn guid_is_a_permalink_only_when_it_is_the_absolute_link() {
        let cases = [
            ("https://example.org/a", Some("https://example.org/a"), true),
            (
                "https://example.org/a",
                Some("https://example.org/b"),
                false,
            ),
            ("https://example.org/a", None, false),
            ("urn:x:1", None, false),
            ("/a", Some("/a"), false),
        ];
        for (id, link, permalink) in cases {
            let mut it = golden::minimal(id);
            it.link = link.map(Into::into);
            let text = render(&golden::channel(), &[it]);
            let guid = parse(&text).items[0].guid.clone().unwrap();
            assert_eq!(
                (guid.value.as_str(), guid.permalink),
                (id, permalink),
                "{text}"
            );
            assert_eq!(text.contains("isPermaLink=\"false\""), !permalink, "{text}");
        }
    }

    #[test]
    fn author_is_an_address_then_the_name() {
        let person = |name: &str, email: Option<&str>| crate::model::Person {
            name: name.into(),
            email: email.map(Into::into),
            url: None,
        };
        let cases = [
            (
                vec![person("Jo", Some("jo@example.org"))],
                Some("jo@example.org (Jo)"),
            ),
            (
                vec![person("jo@example.org", Some("jo@example.org"))],
                Some("jo@example.org"),
            ),
            (
                vec![
                    person("No Address", Some("nobody")),
                    person("Al", Some("al@x.org")),
                ],
                Some("al@x.org (Al)"),
            ),
            (vec![person("Name Only", None)], None),
        ];
        for (authors, expected) in cases {
            let mut it = golden::minimal("urn:x:1");
            it.authors = authors;
            let ch = parse(&render(&golden::channel(), &[it]));
            assert_eq!(ch.items[0].author.as_deref(), expected);
        }
    }

    #[test]
    fn the_first_usable_enclosure_is_written() {
        let mut it = golden::minimal("urn:x:1");
        for url in [
            "relative.mp3",
            "https://cdn.example.org/a.mp3",
            "https://cdn.example.org/b.mp3",
        ] {
            it.enclosures.push(crate::model::Enclosure {
                url: url.into(),
                mime_type: Some("audio/mpeg".into()),
                length: Some(1),
            });
        }
        let text = render(&golden::channel(), &[it]);
        let enc = parse(&text).items[0].enclosure.clone().unwrap();
        assert_eq!(enc.url, "https://cdn.example.org/a.mp3");
        assert_eq!(text.matches("<enclosure").count(), 1);
    }

    #[test]
    fn a_recording_is_preferred_to_a_picture_listed_before_it() {
        let enclosure = |url: &str, ty: Option<&str>| crate::model::Enclosure {
            url: url.into(),
            mime_type: ty.map(Into::into),
            length: Some(1),
        };
        let cover = "https://cdn.example.org/cover.jpg";
        let episode = "https://cdn.example.org/ep.mp3";
        for (enclosures, expected) in [
            (
                vec![
                    enclosure(cover, Some("image/jpeg")),
                    enclosure(episode, Some("audio/mpeg")),
                ],
                episode,
            ),
            (
                vec![enclosure(cover, None), enclosure(episode, None)],
                episode,
            ),
            (
                vec![
                    enclosure("ep.mp3", Some("audio/mpeg")),
                    enclosure(cover, None),
                ],
                cover,
            ),
            (
                vec![
                    enclosure(cover, None),
                    enclosure("https://cdn.example.org/notes.pdf", None),
                ],
                cover,
            ),
        ] {
            let mut it = golden::minimal("urn:x:1");
            it.enclosures = enclosures;
            let text = render(&golden::channel(), &[it]);
            let enc = parse(&text).items[0].enclosure.clone().unwrap();
            assert_eq!(enc.url, expected, "{text}");
            assert_eq!(text.matches("<enclosure").count(), 1);
        }
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
