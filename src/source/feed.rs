//! Feed documents: decode the body, sniff what it is, and hand it to the RSS/Atom or JSON
//! Feed parser, which fill in the format-neutral [`Document`] and [`Entry`] defined here.
//!
//! The kind of body is decided by its bytes — BOM, whitespace, comments, processing
//! instructions and doctype skipped, then the root element or the first JSON character —
//! never by the Content-Type, which servers get wrong; the header is used only for its
//! charset. Characters XML forbids are dropped from the decoded body before anything reads
//! it. Entries are as the feed wrote them, made absolute and typed but not yet cleaned:
//! [`super::normalise`] turns them into [`crate::model::Item`]s.

use std::fmt;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use url::Url;

use super::{charset, discover, feedxml, json, text};
use crate::model::{Enclosure, Person};

/// One parsed feed.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub format: Format,
    /// Plain text.
    pub title: Option<String>,
    /// The site the feed belongs to, absolute.
    pub link: Option<String>,
    /// Plain text: RSS channel `description`, Atom `subtitle` (`tagline` in 0.3), JSON
    /// `description`.
    pub subtitle: Option<String>,
    pub entries: Vec<Entry>,
    /// What was wrong with a document that was read anyway (malformed XML past which some
    /// entries were kept), for the log: the source still works, but its owner should know.
    pub warning: Option<String>,
    /// Every text in it holds only characters XML allows, so normalising need not strip the
    /// others: true of XML read from a body they were stripped from, whose references to
    /// them are dropped as they are decoded ([`super::text::push_entity`]). Not of JSON,
    /// whose escapes can write any character, nor of web pages.
    pub xml_chars: bool,
}

/// The dialect a document was written in. RSS 0.93 and 0.94 count as 0.92.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Rss090,
    Rss091,
    Rss092,
    Rss10,
    Rss20,
    Atom03,
    Atom10,
    JsonFeed10,
    JsonFeed11,
    /// A web page read with a source's `[source.html]` selectors.
    Html,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Rss090 => "RSS 0.90",
            Format::Rss091 => "RSS 0.91",
            Format::Rss092 => "RSS 0.92",
            Format::Rss10 => "RSS 1.0",
            Format::Rss20 => "RSS 2.0",
            Format::Atom03 => "Atom 0.3",
            Format::Atom10 => "Atom 1.0",
            Format::JsonFeed10 => "JSON Feed 1.0",
            Format::JsonFeed11 => "JSON Feed 1.1",
            Format::Html => "HTML page",
        })
    }
}

/// One entry (RSS item, Atom entry, JSON Feed item) as the feed gave it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entry {
    /// guid / atom:id / JSON id, trimmed, as written; for an RSS item with none of these and
    /// no link, its `rdf:about`, resolved.
    pub id: Option<String>,
    /// RSS guid isPermaLink (absent = true); false for Atom and JSON Feed.
    pub id_is_permalink: bool,
    /// Plain text.
    pub title: Option<String>,
    /// Absolute where resolvable (xml:base, else the response URL).
    pub link: Option<String>,
    /// An author known only by a home page has an empty name: the normaliser names it by
    /// the URL once it has checked that the URL is a web page.
    pub authors: Vec<Person>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// HTML, not yet sanitised (text-typed input escaped to HTML).
    pub summary: Option<String>,
    /// HTML, not yet sanitised.
    pub content: Option<String>,
    /// Base in effect for relative URLs inside summary and content (shared by the entries
    /// read under it). `Rc`, not `Arc`: a document is read and normalised on one thread,
    /// and the parser takes and drops a count of the base at every element it keeps.
    pub base: Option<Rc<Url>>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
    pub image: Option<String>,
}

/// Why a body could not be read as a feed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// Not a feed at all; `what` says what it looks like ("an empty body", "a PNG image",
    /// "plain text beginning 'Hello…'", "an XML document whose root is `<svg>`").
    #[error("not a feed: {what}")]
    NotAFeed { what: String },
    /// An HTML page where a feed was expected, with the feeds it links to.
    #[error("{}", html_page_message(.feeds))]
    HtmlPage { feeds: Vec<String> },
    /// Unrecoverable XML, with 1-based line and column.
    #[error("malformed XML at line {line}, column {column}: {message}")]
    Xml {
        line: u64,
        column: u64,
        message: String,
    },
    /// A web page on which a source's `item` selector matched nothing.
    #[error("the item selector {selector:?} matched nothing on the page")]
    NoItems { selector: String },
    /// JSON that is not a valid JSON Feed (wrong types etc.), with serde_json's reason and
    /// position.
    #[error("not a valid JSON Feed: {message}")]
    Json { message: String },
}

fn html_page_message(feeds: &[String]) -> String {
    if feeds.is_empty() {
        "an HTML page, not a feed, and it links to no feed".to_owned()
    } else {
        format!(
            "an HTML page, not a feed; it links to these feeds: {}",
            feeds.join(", ")
        )
    }
}

/// Sniffs the body (not the Content-Type) and parses it. `content_type` is the HTTP header,
/// used only for its charset parameter. `base` is the response URL (after redirects), for
/// relative links — except for a local file that names its site: a copy of a feed on disk
/// should link to the site, not to the disk, so it is read again with the site as base.
pub fn parse(body: &[u8], content_type: Option<&str>, base: &Url) -> Result<Document, ParseError> {
    let document = parse_with_base(body, content_type, base)?;
    if base.scheme() == "file"
        && let Some(site) = document.link.as_deref().and_then(|l| Url::parse(l).ok())
        && matches!(site.scheme(), "http" | "https")
    {
        return parse_with_base(body, content_type, &site);
    }
    Ok(document)
}

fn parse_with_base(
    body: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<Document, ParseError> {
    if let Some(what) = binary_kind(body) {
        return Err(ParseError::NotAFeed {
            what: what.to_owned(),
        });
    }
    let decoded = charset::decode(body, content_type);
    let src = text::strip_forbidden(&decoded.text);
    match sniff(&src) {
        Kind::Xml => feedxml::parse(&src, base).map(|doc| Document {
            xml_chars: true,
            ..doc
        }),
        Kind::Json => json::parse(&src, base),
        Kind::Html => Err(ParseError::HtmlPage {
            feeds: discover::feed_links(&src, base),
        }),
        Kind::Empty => Err(ParseError::NotAFeed {
            what: "an empty body".to_owned(),
        }),
        Kind::Text(start) => Err(ParseError::NotAFeed {
            what: format!("plain text beginning '{start}…'"),
        }),
    }
}

fn binary_kind(body: &[u8]) -> Option<&'static str> {
    Some(match body {
        [0x89, b'P', b'N', b'G', ..] => "a PNG image",
        [b'G', b'I', b'F', b'8', ..] => "a GIF image",
        [0xFF, 0xD8, 0xFF, ..] => "a JPEG image",
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => "a WebP image",
        [b'%', b'P', b'D', b'F', ..] => "a PDF document",
        [0x1F, 0x8B, ..] => "gzip-compressed data",
        [b'P', b'K', 3, 4, ..] => "a ZIP archive",
        _ => return None,
    })
}

enum Kind {
    Xml,
    Json,
    Html,
    Empty,
    Text(String),
}

/// What the body is, from its first significant characters.
fn sniff(src: &str) -> Kind {
    let mut rest = src;
    let mut html_doctype = false;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
        let skip_to = |end: &str| rest.find(end).map_or("", |i| &rest[i + end.len()..]);
        if rest.starts_with("<?") {
            rest = skip_to("?>");
        } else if rest.starts_with("<!--") {
            rest = skip_to("-->");
        } else if rest
            .get(..9)
            .is_some_and(|d| d.eq_ignore_ascii_case("<!doctype"))
        {
            let decl = &rest[9..];
            html_doctype |= decl
                .trim_start()
                .get(..4)
                .is_some_and(|n| n.eq_ignore_ascii_case("html"));
            rest = match (decl.find('['), decl.find('>')) {
                (Some(open), Some(close)) if open < close => skip_to("]>"),
                _ => skip_to(">"),
            };
        } else {
            break;
        }
    }
    match rest.chars().next() {
        None => Kind::Empty,
        Some('{') | Some('[') => Kind::Json,
        Some('<') => {
            let name: String = rest[1..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == ':')
                .collect();
            let local = name
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let feed_root = matches!(local.as_str(), "rss" | "rdf" | "feed" | "channel" | "entry");
            if matches!(local.as_str(), "html" | "head" | "body") || (html_doctype && !feed_root) {
                Kind::Html
            } else {
                Kind::Xml
            }
        }
        Some(_) => Kind::Text(text::collapse_whitespace(
            &rest.chars().take(40).collect::<String>(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.org/feed").unwrap()
    }

    /// What [`Document::xml_chars`] promises, and normalising relies on: no text of a
    /// document read from XML holds a character XML forbids, whether it came raw, through
    /// a reference, a declared entity, an attribute or a CDATA section; nor does any item
    /// made from it.
    #[test]
    fn documents_read_from_xml_hold_only_characters_xml_allows() {
        let nasty =
            "a\u{1}\u{85}\u{9F}\u{FFFF}&#1;&#x80;&#150;&#xFFFE;&#xFFFF;&#xD800;&e;&amp;#2;z";
        let dtd = r#"<!DOCTYPE x [<!ENTITY e "x&#2;&#x9F;&#xFFFE;y">]>"#;
        // Base64 (Atom's other media types, and 0.3's mode="base64") can encode any
        // character: "\u{1}a\u{92}" and "<p>\u{1}a\u{92}\u{FFFF}</p>".
        let (b64_text, b64_html) = ("AWHCkg==", "PHA+AWHCku+/vzwvcD4=");
        let rss = format!(
            r#"{dtd}<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
            <title>{nasty}</title><item><title>{nasty}</title><link>https://ex.org/{nasty}</link>
            <guid isPermaLink="false">tag:{nasty}</guid><dc:creator>{nasty}</dc:creator>
            <description>&lt;p title="{nasty}"&gt;{nasty}&lt;/p&gt;</description>
            <category>{nasty}</category><pubDate>{nasty}</pubDate>
            <enclosure url="https://ex.org/{nasty}" type="{nasty}" length="1"/>
            </item><item><title><![CDATA[{nasty}]]></title>
            <description><![CDATA[<p a="{nasty}">{nasty}</p>]]></description></item></channel></rss>"#
        );
        let atom = format!(
            r#"{dtd}<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">{nasty}</title>
            <entry><id>tag:{nasty}</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{nasty}<b title="{nasty}">{nasty}</b></div></title>
            <author><name>{nasty}</name><email>{nasty}</email><uri>https://ex.org/{nasty}</uri></author>
            <link href="https://ex.org/{nasty}"/><category term="{nasty}" label="{nasty}"/>
            <summary type="text">{nasty}</summary><content type="html">&lt;i&gt;{nasty}&lt;/i&gt;</content>
            </entry><entry><id>tag:b64</id><title type="application/octet-stream">{b64_text}</title>
            <content type="html" mode="base64">{b64_html}</content></entry></feed>"#
        );
        let clean = |what: &str, s: &str| {
            assert_eq!(text::strip_forbidden(s), s, "{what}: {s:?}");
        };
        // JSON's escapes write any character: its documents make no such promise, and their
        // items are stripped as they are made.
        let json = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [
            {"id": "1\u0001", "title": "a\u0001\u0085b", "content_html": "<p>\u0002</p>",
             "tags": ["\uFFFF"], "authors": [{"name": "\u0003n"}]}]}"#;
        for body in [rss, atom, json.to_owned()] {
            let doc = parse(body.as_bytes(), None, &base()).unwrap();
            let from_json = body.starts_with('{');
            assert_eq!(doc.xml_chars, !from_json);
            if body.contains("<feed") {
                let b64 = &doc.entries[1];
                assert_eq!(b64.title.as_deref(), Some("a\u{2019}"), "read from base64");
            }
            assert_eq!(doc.entries.len(), if from_json { 1 } else { 2 });
            for e in doc.entries.iter().filter(|_| !from_json) {
                let texts = [&e.id, &e.title, &e.link, &e.summary, &e.content, &e.image];
                for t in texts.into_iter().flatten() {
                    clean("entry", t);
                }
                for p in &e.authors {
                    clean("author", &p.name);
                    p.email
                        .iter()
                        .chain(&p.url)
                        .for_each(|s| clean("author", s));
                }
                e.categories.iter().for_each(|c| clean("category", c));
                for enclosure in &e.enclosures {
                    clean("enclosure", &enclosure.url);
                    enclosure
                        .mime_type
                        .iter()
                        .for_each(|t| clean("enclosure", t));
                }
            }
            let items = super::super::normalise::normalise(doc, "s", chrono::Utc::now());
            assert!(!items.is_empty());
            let json = serde_json::to_string(&items).unwrap();
            let items: serde_json::Value = serde_json::from_str(&json).unwrap();
            let mut strings = vec![&items];
            while let Some(v) = strings.pop() {
                match v {
                    serde_json::Value::String(s) => clean("item", s),
                    serde_json::Value::Array(a) => strings.extend(a),
                    serde_json::Value::Object(o) => strings.extend(o.values()),
                    _ => {}
                }
            }
        }
    }

    fn not_a_feed(body: &[u8]) -> String {
        match parse(body, None, &base()) {
            Err(ParseError::NotAFeed { what }) => what,
            other => panic!("expected NotAFeed, got {other:?}"),
        }
    }

    #[test]
    fn junk_is_described() {
        assert_eq!(not_a_feed(b""), "an empty body");
        assert_eq!(not_a_feed(b"  \n "), "an empty body");
        assert_eq!(not_a_feed(b"\x89PNG\r\n\x1a\n...."), "a PNG image");
        assert_eq!(
            not_a_feed(b"Hello world, this is not a feed at all, really not."),
            "plain text beginning 'Hello world, this is not a feed at all,…'"
        );
        assert_eq!(
            not_a_feed(b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>"),
            "an XML document whose root is <svg>"
        );
    }

    #[test]
    fn content_type_does_not_decide_the_format() {
        let rss = b"<?xml version='1.0'?>\n<!-- c --><rss version='2.0'><channel><title>T</title></channel></rss>";
        let doc = parse(rss, Some("text/html; charset=utf-8"), &base()).unwrap();
        assert_eq!(
            (doc.format, doc.title.as_deref()),
            (Format::Rss20, Some("T"))
        );
        let json = br#"{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": []}"#;
        assert_eq!(
            parse(json, Some("application/rss+xml"), &base())
                .unwrap()
                .format,
            Format::JsonFeed11
        );
    }

    #[test]
    fn sniffing_skips_bom_comments_pis_and_doctype() {
        let atom = "\u{FEFF} \n<?xml version='1.0'?><!-- generated --><?xml-stylesheet href='s.xsl'?>\
            <!DOCTYPE feed [<!ENTITY x 'y'>]>\n<feed xmlns='http://www.w3.org/2005/Atom'><title>&x;</title></feed>";
        let doc = parse(atom.as_bytes(), None, &base()).unwrap();
        assert_eq!(
            (doc.format, doc.title.as_deref()),
            (Format::Atom10, Some("y"))
        );
        let xhtml_doctype = "<!DOCTYPE html PUBLIC '-//W3C//DTD XHTML 1.0//EN' 'x.dtd'><rss><channel><title>R</title></channel></rss>";
        assert_eq!(
            parse(xhtml_doctype.as_bytes(), None, &base())
                .unwrap()
                .format,
            Format::Rss20
        );
    }

    #[test]
    fn utf16_feed_with_bom() {
        let src = "<?xml version='1.0' encoding='utf-16'?><rss><channel><title>Ünïcödé ✓</title></channel></rss>";
        let body: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(src.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(
            parse(&body, None, &base()).unwrap().title.as_deref(),
            Some("Ünïcödé ✓")
        );
    }

    #[test]
    fn a_local_file_resolves_against_the_site_it_names() {
        let file = Url::parse("file:///srv/feeds/copy.xml").unwrap();
        let doc = b"<rss version='2.0'><channel><link>https://site.example/blog/</link>\
            <item><link>post-1</link><description>&lt;img src=\"/i.png\"&gt;</description></item>\
            </channel></rss>";
        let d = parse(doc, None, &file).unwrap();
        assert_eq!(
            d.entries[0].link.as_deref(),
            Some("https://site.example/blog/post-1")
        );
        assert_eq!(
            d.entries[0].base.as_deref().map(Url::as_str),
            Some("https://site.example/blog/")
        );

        let no_site =
            b"<rss version='2.0'><channel><item><link>post-1</link></item></channel></rss>";
        let d = parse(no_site, None, &file).unwrap();
        assert_eq!(
            d.entries[0].link.as_deref(),
            Some("file:///srv/feeds/post-1")
        );
    }

    #[test]
    fn html_page_names_its_feeds() {
        let page = b"<!DOCTYPE html><html><head><link rel=alternate type='application/atom+xml' href='/atom.xml'></head><body>x</body></html>";
        let err = parse(page, Some("application/rss+xml"), &base()).unwrap_err();
        assert_eq!(
            err,
            ParseError::HtmlPage {
                feeds: vec!["https://example.org/atom.xml".into()]
            }
        );
        assert!(
            err.to_string().contains("https://example.org/atom.xml"),
            "{err}"
        );
        let bare = parse(b"<html><body>hi</body></html>", None, &base()).unwrap_err();
        assert_eq!(
            bare.to_string(),
            "an HTML page, not a feed, and it links to no feed"
        );
    }

    #[test]
    fn broken_xml_reports_line_and_column() {
        let err = parse(
            b"<rss version='2.0'>\n<channel>\n<title>x</title>\n<item",
            None,
            &base(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Xml {
                    line: 4,
                    column: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("malformed XML at line 4, column 1: "),
            "{err}"
        );
    }

    #[test]
    fn formats_display_their_names() {
        assert_eq!(Format::Rss090.to_string(), "RSS 0.90");
        assert_eq!(Format::Atom03.to_string(), "Atom 0.3");
        assert_eq!(Format::JsonFeed10.to_string(), "JSON Feed 1.0");
    }
}
