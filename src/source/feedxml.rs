//! RSS (0.90–2.0, 1.0/RDF) and Atom (0.3, 1.0) documents, read in one pass over the
//! [`XmlReader`] stream into a [`Document`].
//!
//! A stack of contexts (feed, entry, author, media group, skipped subtree) says what each
//! element means; [`super::elements`] maps names to meanings. Where a feed gives one fact
//! twice (an RSS `link` and an `atom:link`, `pubDate` and `dc:date`) the better source wins
//! whatever the order, by rank. A document that ends early or breaks keeps the entries it
//! completed (the one it cut short is dropped) and says so in [`Document::warning`]; a
//! break that leaves no entry is [`ParseError::Xml`], unless all that broke is the final end
//! tag of a document that had none.

use std::rc::Rc;

use url::Url;

use super::capture::{Capture, Mode};
use super::elements::{self, Action, Target};
use super::feed::{Document, Entry, Format, ParseError};
use super::xml::{Element, Node, Ns, XmlReader};
use super::{date, discover, text};
use crate::model::{Enclosure, Person};

/// A value that several elements may supply; the lowest rank wins, the first among equals.
#[derive(Debug)]
pub struct Ranked<T>(Option<(u8, T)>);

impl<T> Default for Ranked<T> {
    fn default() -> Self {
        Ranked(None)
    }
}

impl<T> Ranked<T> {
    pub fn offer(&mut self, rank: u8, value: T) {
        if self.0.as_ref().is_none_or(|(r, _)| rank < *r) {
            self.0 = Some((rank, value));
        }
    }

    /// Like [`Ranked::offer`], but the last among equals wins: a later date element of
    /// the same kind corrects an earlier one.
    pub fn replace(&mut self, rank: u8, value: T) {
        if self.0.as_ref().is_none_or(|(r, _)| rank <= *r) {
            self.0 = Some((rank, value));
        }
    }

    /// The rank of the value held, if any.
    pub fn rank(&self) -> Option<u8> {
        self.0.as_ref().map(|(r, _)| *r)
    }

    pub fn take(self) -> Option<T> {
        self.0.map(|(_, v)| v)
    }
}

/// What each open element is, for the elements inside it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ctx {
    Feed,
    Entry,
    Person,
    Media,
    Skip,
    /// The element being captured, and elements inside it.
    Capture,
    Inside,
}

/// An entry being read.
#[derive(Default)]
pub struct EntryState {
    pub id: Option<String>,
    pub permalink: Option<bool>,
    pub title: Ranked<String>,
    pub link: Ranked<String>,
    pub authors: Vec<Person>,
    pub fallback_author: Option<Person>,
    pub published: Ranked<chrono::DateTime<chrono::Utc>>,
    pub updated: Ranked<chrono::DateTime<chrono::Utc>>,
    pub summary: Ranked<(String, Rc<Url>)>,
    /// Whether the rank-0 summary came from an RSS `summary` element (not `description`).
    pub summary_is_rss: bool,
    pub content: Ranked<(String, Rc<Url>)>,
    /// RSS 1.0 `rdf:about`, resolved: the id of an item that has no other and no link.
    pub about: Option<String>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
    pub image: Ranked<String>,
    pub base: Option<Rc<Url>>,
}

/// The whole document being read.
pub struct Walker<'a> {
    pub src: &'a str,
    pub r: XmlReader<'a>,
    pub format: Option<Format>,
    /// The root element's namespace: in an Atom document, elements in it are Atom even when
    /// it is no Atom namespace we know.
    pub root_ns: Ns,
    pub ctx: Vec<Ctx>,
    pub capture: Option<(Target, Capture, Option<Rc<Url>>)>,
    /// The last capture's buffer, kept for the next: most elements of an entry are
    /// captured, and each would otherwise allocate its own.
    spare: String,
    pub title: Ranked<String>,
    pub link: Ranked<String>,
    pub subtitle: Ranked<String>,
    pub feed_authors: Vec<Person>,
    pub person: Option<Person>,
    pub entry: Option<EntryState>,
    pub entries: Vec<Entry>,
    /// Entries dropped because the document broke inside them.
    pub dropped: usize,
    pub fatal: Option<ParseError>,
}

/// Parses an RSS or Atom document (already decoded).
pub fn parse(src: &str, base: &Url) -> Result<Document, ParseError> {
    let mut w = Walker {
        src,
        r: XmlReader::new(src, base),
        format: None,
        root_ns: Ns::None,
        ctx: Vec::with_capacity(16),
        capture: None,
        spare: String::new(),
        title: Ranked::default(),
        link: Ranked::default(),
        subtitle: Ranked::default(),
        feed_authors: Vec::new(),
        person: None,
        entry: None,
        entries: Vec::new(),
        dropped: 0,
        fatal: None,
    };
    loop {
        // Text outside a capture is dropped, so the whitespace between elements is not read
        // as text at all.
        if w.capture.is_none() {
            w.r.skip_space();
        }
        let Some(node) = w.r.next_node() else { break };
        match node {
            Node::Start(el) => w.start(&el),
            Node::End => w.end(),
            Node::Text(t) => {
                if let Some((_, cap, _)) = &mut w.capture {
                    cap.text(&t);
                }
            }
        }
        if let Some(err) = w.fatal.take() {
            return Err(err);
        }
    }
    w.finish()
}

impl Walker<'_> {
    fn start(&mut self, el: &Element) {
        let ctx = match self.ctx.last().copied() {
            // Junk after the root element (an injected `<script>`, a second root) is ignored.
            None if self.format.is_some() => Ctx::Skip,
            None => self.root(el),
            Some(Ctx::Capture | Ctx::Inside) => {
                if let Some((_, cap, _)) = &mut self.capture {
                    cap.start(el);
                }
                Ctx::Inside
            }
            // An entry inside a skipped element means the feed forgot to close that element
            // (an `<itunes:category>` without its end tag swallowing every item).
            Some(Ctx::Skip) if self.entry.is_none() && elements::is_entry(self, el) => {
                self.entry = Some(EntryState {
                    base: Some(self.r.shared_base()),
                    ..Default::default()
                });
                Ctx::Entry
            }
            Some(Ctx::Skip) => Ctx::Skip,
            Some(parent) => match elements::classify(self, parent, el) {
                Action::Enter(ctx) => ctx,
                Action::Capture(target, mode, how) => {
                    let base = match target {
                        // An Atom id is resolved only against an explicit xml:base.
                        Target::Id => self.r.explicit_base(),
                        t if t.needs_base() => Some(self.r.shared_base()),
                        _ => None,
                    };
                    let mut cap = Capture::new(mode, how, std::mem::take(&mut self.spare));
                    if mode != Mode::Xhtml && !el.empty {
                        self.r.leaf_text(&mut cap.buf);
                    }
                    self.capture = Some((target, cap, base));
                    Ctx::Capture
                }
                Action::Entry => {
                    if self.entry.is_some() {
                        Ctx::Skip
                    } else {
                        let about = el
                            .attrs()
                            .find(|(k, _)| {
                                k.split_once(':').is_some_and(|(prefix, local)| {
                                    local == "about" && self.r.prefix_ns(prefix) == Ns::Rdf
                                })
                            })
                            .and_then(|(_, v)| self.resolve(&v));
                        self.entry = Some(EntryState {
                            base: Some(self.r.shared_base()),
                            about,
                            ..Default::default()
                        });
                        Ctx::Entry
                    }
                }
                Action::Person => {
                    self.person = Some(Person {
                        name: String::new(),
                        email: None,
                        url: None,
                    });
                    Ctx::Person
                }
                Action::Skip => Ctx::Skip,
            },
        };
        self.ctx.push(ctx);
    }

    fn end(&mut self) {
        match self.ctx.pop() {
            Some(Ctx::Inside) => {
                if let Some((_, cap, _)) = &mut self.capture {
                    cap.end();
                }
            }
            Some(Ctx::Capture) => {
                if let Some((target, cap, base)) = self.capture.take() {
                    elements::apply(self, target, &cap, base);
                    self.spare = cap.buf;
                }
            }
            Some(Ctx::Entry) => self.finish_entry(),
            Some(Ctx::Person) => self.finish_person(),
            _ => {}
        }
    }

    /// The root element decides the format.
    fn root(&mut self, el: &Element) -> Ctx {
        let local = el.local();
        let version = el.attr("version");
        let version = version.as_deref().unwrap_or_default();
        let format = match local {
            "rss" | "RSS" => match version {
                "0.91" => Format::Rss091,
                "0.92" | "0.93" | "0.94" => Format::Rss092,
                "0.9" | "0.90" => Format::Rss090,
                _ => Format::Rss20,
            },
            "channel" => Format::Rss20,
            "RDF"
                if el
                    .attr("xmlns")
                    .is_some_and(|ns| Ns::from_uri(&ns) == Ns::Rss090) =>
            {
                Format::Rss090
            }
            "RDF" if el.ns != Ns::Other => Format::Rss10,
            "feed" if el.ns == Ns::Atom03 || (el.ns != Ns::Atom10 && version == "0.3") => {
                Format::Atom03
            }
            "feed" => Format::Atom10,
            "entry" if el.ns == Ns::Atom03 => Format::Atom03,
            "entry" if el.ns == Ns::Atom10 => Format::Atom10,
            _ if local.eq_ignore_ascii_case("html") => {
                self.fatal = Some(ParseError::HtmlPage {
                    feeds: discover::feed_links(self.src, self.r.base()),
                });
                return Ctx::Skip;
            }
            _ => {
                let what = format!("an XML document whose root is <{}>", el.qname());
                self.fatal = Some(ParseError::NotAFeed { what });
                return Ctx::Skip;
            }
        };
        self.format = Some(format);
        self.root_ns = el.ns;
        if local == "entry" {
            self.entry = Some(EntryState {
                base: Some(self.r.shared_base()),
                ..Default::default()
            });
            return Ctx::Entry;
        }
        Ctx::Feed
    }

    pub fn is_atom(&self) -> bool {
        matches!(self.format, Some(Format::Atom03 | Format::Atom10))
    }

    fn finish_person(&mut self) {
        let Some(mut p) = self.person.take() else {
            return;
        };
        p.name = text::collapse_whitespace(&p.name);
        if p.name.is_empty() {
            // Named by the address here; one known only by a home page stays nameless, for
            // the normaliser to name once it has checked the URL is a web page.
            match &p.email {
                Some(email) => p.name = email.clone(),
                None if p.url.is_some() => {}
                None => return,
            }
        }
        let authors = match &mut self.entry {
            Some(e) => &mut e.authors,
            None => &mut self.feed_authors,
        };
        if authors.len() < elements::MAX_LIST {
            authors.push(p);
        }
    }

    fn finish_entry(&mut self) {
        let Some(e) = self.entry.take() else { return };
        if self.r.cut_short {
            // The document ended or broke inside this entry: it may be truncated.
            self.dropped += 1;
            return;
        }
        // Repeats dropped in place, the first of each kept in order: a new list had been an
        // allocation for every entry with an author.
        let mut authors = e.authors;
        let mut kept = 0;
        for at in 0..authors.len() {
            let p = &authors[at];
            let repeat = (authors[..kept].iter())
                .any(|a| a == p || (!p.name.is_empty() && a.name == p.name));
            if !repeat {
                authors.swap(kept, at);
                kept += 1;
            }
        }
        authors.truncate(kept);
        if authors.is_empty() {
            authors.extend(e.fallback_author);
        }
        let content = e.content.take();
        let summary = e.summary.take();
        let base = content
            .as_ref()
            .or(summary.as_ref())
            .map(|(_, b)| b.clone())
            .or(e.base);
        let link = e.link.take();
        // An item with a link was known by it before rdf:about was read; its id must not
        // change, or stored items would be published again.
        let about = e.about.filter(|_| link.is_none());
        self.entries.push(Entry {
            id_is_permalink: e.id.is_some() && e.permalink == Some(true),
            id: e.id.or(about),
            title: e.title.take(),
            link,
            authors,
            published: e.published.take(),
            updated: e.updated.take(),
            summary: summary.map(|(s, _)| s),
            content: content.map(|(s, _)| s),
            base,
            categories: e.categories,
            enclosures: e.enclosures,
            image: e.image.take(),
        });
    }

    fn finish(mut self) -> Result<Document, ParseError> {
        let mut warning = None;
        // A broken final end tag (`</rss` at the end of the file) loses nothing. Anything else
        // loses what came after it: keep the entries read before the break, and say so; with
        // none, the document is an error, so the source's stored items stay as they are.
        let error = self.r.error.as_ref();
        if self.dropped > 0 || error.is_some_and(|e| !e.only_final_end_tag) {
            let (offset, message) = match error {
                Some(e) => (e.offset, e.message.clone()),
                None => (
                    self.src.len(),
                    "the document ends inside an entry".to_owned(),
                ),
            };
            let (line, column) = self.r.line_column(offset);
            if self.entries.is_empty() {
                return Err(ParseError::Xml {
                    line,
                    column,
                    message,
                });
            }
            warning = Some(format!(
                "malformed XML at line {line}, column {column}: {message}; kept the {} entries before it",
                self.entries.len()
            ));
        }
        let Some(format) = self.format else {
            return Err(ParseError::NotAFeed {
                what: "an XML document without a root element".to_owned(),
            });
        };
        if self.is_atom() && !self.feed_authors.is_empty() {
            // RFC 4287 4.2.1: an entry without an author has the feed's.
            for e in self.entries.iter_mut().filter(|e| e.authors.is_empty()) {
                e.authors = self.feed_authors.clone();
            }
        }
        Ok(Document {
            format,
            title: self.title.take(),
            link: self.link.take(),
            subtitle: self.subtitle.take(),
            entries: std::mem::take(&mut self.entries),
            warning,
            xml_chars: false,
        })
    }

    /// Resolves a URL from the feed against the base in effect for the current element.
    pub fn resolve(&self, url: &str) -> Option<String> {
        resolve(self.r.base(), url)
    }

    /// Where the date elements of the current context go.
    pub fn date(&mut self, target: Target, s: &str) {
        let (Some(e), Some(d)) = (self.entry.as_mut(), date::parse_date(s)) else {
            return;
        };
        match target {
            Target::Published(rank) => e.published.replace(rank, d),
            Target::Updated(rank) => e.updated.replace(rank, d),
            _ => {}
        }
    }
}

/// A cheap check for the common case, an absolute http(s) URL that url would accept as it
/// is: scheme, a host of letters, digits, dots and dashes (and a port), and a path of
/// printable ASCII that needs no escaping. Hosts url reads otherwise (a last label that is a
/// number, as in an IPv4 address; an `xn--` label, which must decode) and anything else go
/// through url. It runs on every link a feed has, several times: one pass over the bytes.
pub fn plain_web_url(url: &str) -> bool {
    let b = url.as_bytes();
    // A feed's links nearly all share one host: the scheme, host and port last found plain
    // on this thread are not read again (the path after them always is).
    let known = KNOWN_HOST.with_borrow(|known| {
        b.strip_prefix(known.as_slice())
            .filter(|path| {
                !known.is_empty() && matches!(path.first(), None | Some(b'/' | b'?' | b'#'))
            })
            .map(|path| b.len() - path.len())
    });
    if let Some(at) = known {
        return plain_path(&b[at..]);
    }
    let Some(rest) = b
        .strip_prefix(b"https://")
        .or_else(|| b.strip_prefix(b"http://"))
    else {
        return false;
    };
    // The host, a label at a time, noting whether each of the last two labels is numeric:
    // url reads the host as an address when the last (before a final dot) is. One look at
    // each byte, by table.
    let (mut at, mut numeric) = (0, (false, false));
    loop {
        let start = at;
        let mut digits = true;
        while let Some(&c) = rest.get(at) {
            match HOST[usize::from(c)] {
                Host::Digit => {}
                Host::Other => digits = false,
                Host::End => break,
            }
            at += 1;
        }
        let label = &rest[start..at];
        if let [x, n, b'-', b'-', ..] = label
            && x | 0x20 == b'x'
            && n | 0x20 == b'n'
        {
            return false;
        }
        let hex = matches!(label, [b'0', x, ..] if x | 0x20 == b'x');
        numeric = (numeric.1, digits || hex);
        if rest.get(at) != Some(&b'.') {
            break;
        }
        at += 1;
    }
    let host = &rest[..at];
    let numeric = match host.last() {
        Some(b'.') => numeric.0,
        _ => numeric.1,
    };
    if host.is_empty() || matches!(host[0], b'.' | b'-') || numeric {
        return false;
    }
    // Then a port of digits only (`parse` would also take a sign, which url refuses).
    let mut path = &rest[at..];
    if let Some(after) = path.strip_prefix(b":") {
        let digits = after.iter().take_while(|c| c.is_ascii_digit()).count();
        let port = after[..digits].iter().try_fold(0u32, |n, &d| {
            Some(n * 10 + u32::from(d - b'0')).filter(|&n| n <= 65535)
        });
        if port.is_none() {
            return false;
        }
        path = &after[digits..];
    }
    if !matches!(path.first(), None | Some(b'/' | b'?' | b'#')) {
        return false;
    }
    let host = &b[..b.len() - path.len()];
    KNOWN_HOST.with_borrow_mut(|known| {
        known.clear();
        known.extend_from_slice(host);
    });
    plain_path(path)
}

thread_local! {
    /// The scheme, host and port of the last URL [`plain_web_url`] read them for and found
    /// plain, on this thread.
    static KNOWN_HOST: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What a byte of a host is to [`plain_web_url`]: a digit, another byte a label may hold
/// (letter or dash), or the end of the label.
#[derive(Clone, Copy)]
enum Host {
    Digit,
    Other,
    End,
}

const HOST: [Host; 256] = {
    let mut table = [Host::End; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_digit() {
            table[c] = Host::Digit;
        } else if b.is_ascii_alphabetic() || b == b'-' {
            table[c] = Host::Other;
        }
        c += 1;
    }
    table
};

/// Whether every byte of `path` is one a plain URL's path may hold ([`plain_path_byte`]):
/// sixteen at a time without a branch, so the compiler compares them at once (a link's path
/// is most of its bytes), and the rest by [`PLAIN_PATH`].
fn plain_path(path: &[u8]) -> bool {
    let mut chunks = path.chunks_exact(16);
    chunks
        .by_ref()
        .all(|chunk| chunk.iter().fold(true, |ok, &c| ok & plain_path_byte(c)))
        && chunks
            .remainder()
            .iter()
            .all(|&c| PLAIN_PATH[usize::from(c)])
}

/// Printable ASCII that url would not escape in a path, query or fragment. Written with `&`,
/// not `&&` or `matches!`, so that a fold of it over sixteen bytes has no branch.
const fn plain_path_byte(c: u8) -> bool {
    (c > b' ')
        & (c < 0x7f)
        & (c != b'"')
        & (c != b'<')
        & (c != b'>')
        & (c != b'\\')
        & (c != b'^')
        & (c != b'`')
        & (c != b'{')
        & (c != b'|')
        & (c != b'}')
}

/// [`plain_path_byte`] of every byte.
const PLAIN_PATH: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = plain_path_byte(c as u8);
        c += 1;
    }
    table
};

/// `url` (trimmed) made absolute against `base`; None when empty or unresolvable. An
/// absolute URL is kept as written unless it needs cleaning up (spaces and the like).
pub fn resolve(base: &Url, url: &str) -> Option<String> {
    let url = text::trim(url);
    if url.is_empty() {
        return None;
    }
    if plain_web_url(url)
        || (!url.contains(|c: char| c.is_whitespace() || c.is_control()) && Url::parse(url).is_ok())
    {
        return Some(url.to_owned());
    }
    base.join(url).ok().map(String::from)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::{DateTime, Utc};
    use url::Url;

    use super::super::feed::{Document, Entry, Format, ParseError, parse};
    use super::{PLAIN_PATH, plain_path, plain_web_url};
    use crate::model::{Enclosure, Person};
    use crate::testing::Rng;

    fn base() -> Url {
        Url::parse("https://example.org/feeds/main.xml").unwrap()
    }

    fn fixture_bytes(name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/feeds")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn fixture(name: &str) -> Document {
        parse(&fixture_bytes(name), None, &base()).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn doc(src: &str) -> Document {
        parse(src.as_bytes(), None, &base()).unwrap_or_else(|e| panic!("{e}: {src}"))
    }

    fn one(src: &str) -> Entry {
        let mut d = doc(src);
        assert_eq!(d.entries.len(), 1, "{src}");
        d.entries.remove(0)
    }

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    /// Atom link relations and types are matched in any case, the relation also with the
    /// IANA registry's prefix; an HTML page outranks another alternate.
    #[test]
    fn atom_link_relations_and_types_ignore_case() {
        let entry = |links: &str| {
            one(&format!(
                r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry>{links}</entry></feed>"#
            ))
        };
        for (links, link) in [
            (
                r#"<link rel="ALTERNATE" href="https://ex.org/a"/>"#,
                Some("https://ex.org/a"),
            ),
            (
                r#"<link rel="HTTP://WWW.IANA.ORG/assignments/relation/Alternate" href="https://ex.org/i"/>"#,
                Some("https://ex.org/i"),
            ),
            (
                r#"<link type="application/pdf" href="https://ex.org/p"/><link type="Text/HTML" href="https://ex.org/h"/>"#,
                Some("https://ex.org/h"),
            ),
            (
                r#"<link type="application/xHTML+xml" href="https://ex.org/x"/><link type="application/pdf" href="https://ex.org/p"/>"#,
                Some("https://ex.org/x"),
            ),
            (r#"<link rel="self" href="https://ex.org/s"/>"#, None),
            (r#"<link rel="alternates" href="https://ex.org/s"/>"#, None),
        ] {
            assert_eq!(entry(links).link.as_deref(), link, "{links}");
        }
        let e = entry(r#"<link rel="Enclosure" href="https://ex.org/e.mp3" length="9"/>"#);
        assert_eq!(e.enclosures.len(), 1);
        assert_eq!(e.link, None);
    }

    fn person(name: &str, email: Option<&str>, url: Option<&str>) -> Person {
        Person {
            name: name.into(),
            email: email.map(Into::into),
            url: url.map(Into::into),
        }
    }

    #[test]
    fn rss2_podcast() {
        let d = fixture("rss20-podcast.xml");
        assert_eq!(d.format, Format::Rss20);
        assert_eq!(d.title.as_deref(), Some("Night Shift & Friends"));
        assert_eq!(d.link.as_deref(), Some("https://pod.example.com/"));
        assert_eq!(d.subtitle.as_deref(), Some("Conversations after midnight."));
        let e = &d.entries[0];
        assert_eq!(e.title.as_deref(), Some("Episode 12: Café talk"));
        assert_eq!(
            e.link.as_deref(),
            Some("https://pod.example.com/ep/12"),
            "atom:link is not RSS link"
        );
        assert_eq!(
            (e.id.as_deref(), e.id_is_permalink),
            (Some("pod-ep-12"), false)
        );
        assert_eq!(e.published, utc("2024-03-05T11:00:00Z"));
        assert_eq!(
            e.authors,
            [
                person("Ann Host", Some("host@pod.example.com"), None),
                person("Bob Guest", None, None)
            ]
        );
        assert_eq!(e.categories, ["Talk", "Coffee"]);
        assert_eq!(
            e.summary.as_deref(),
            Some(r#"<p>Show notes with <a href="/notes/12">links</a> & a bare ampersand.</p>"#)
        );
        assert_eq!(e.content.as_deref(), Some("<p>Full <b>transcript</b>.</p>"));
        assert_eq!(e.base.as_deref(), Some(&base()));
        let ep12 = "https://cdn.example.com/ep12.mp3?a=1&b=2";
        let enclosure = Enclosure {
            url: ep12.into(),
            mime_type: Some("audio/mpeg".into()),
            length: Some(12345678),
        };
        assert_eq!(e.enclosures, [enclosure]);
        assert_eq!(e.image.as_deref(), Some("https://pod.example.com/ep12.jpg"));

        let e = &d.entries[1];
        assert_eq!(
            e.link.as_deref(),
            Some("https://pod.example.com/ep/11"),
            "permalink guid as link"
        );
        assert!(e.id_is_permalink);
        assert_eq!(e.published, utc("2024-02-27T11:00:00Z"));
        assert_eq!(e.enclosures[0].url, "https://example.org/media/ep11.mp3");
        assert_eq!(e.enclosures[0].length, None, "unparsable length");
        assert_eq!(
            e.image.as_deref(),
            Some("https://pod.example.com/ep11-thumb.jpg")
        );
    }

    #[test]
    fn atom10_with_xml_base() {
        let d = fixture("atom10-base.xml");
        assert_eq!(d.format, Format::Atom10);
        assert_eq!(d.title.as_deref(), Some("A blog"));
        assert_eq!(d.subtitle.as_deref(), Some("Notes & essays"));
        assert_eq!(d.link.as_deref(), Some("https://blog.example.org/"));
        let e = &d.entries[0];
        assert_eq!(e.title.as_deref(), Some("Less is more"));
        assert_eq!(
            e.link.as_deref(),
            Some("https://blog.example.org/posts/2024/less-is-more.html")
        );
        let audio = Enclosure {
            url: "https://blog.example.org/audio/less.ogg".into(),
            mime_type: Some("audio/ogg".into()),
            length: Some(2048),
        };
        assert_eq!(e.enclosures, [audio]);
        assert_eq!(
            (e.id.as_deref(), e.id_is_permalink),
            (Some("tag:blog.example.org,2024:1"), false)
        );
        assert_eq!(e.published, utc("2024-04-01T07:00:00Z"));
        assert_eq!(e.updated, utc("2024-04-02T10:00:00Z"));
        let ann = person("Ann", None, Some("https://blog.example.org/about/ann"));
        assert_eq!(
            e.authors,
            [ann, person("Bob", Some("bob@example.org"), None)],
            "not the source's"
        );
        assert_eq!(e.categories, ["essays", "Only a label"]);
        assert_eq!(
            e.summary.as_deref(),
            Some("Plain text with &lt;angle brackets&gt;")
        );
        assert_eq!(
            e.content.as_deref(),
            Some(r#"<p>See <img src="chart.png" alt="chart"> &amp; more.</p>"#)
        );
        assert_eq!(
            e.base.as_deref().map(Url::as_str),
            Some("https://blog.example.org/posts/2024/images/")
        );

        let e = &d.entries[1];
        assert_eq!(
            e.authors,
            [person("Feed Author", Some("feed@example.org"), None)],
            "inherited"
        );
        assert_eq!(
            e.content.as_deref(),
            Some(r#"<p>Hello <a href="rel">there</a></p>"#)
        );
        assert_eq!(
            e.base.as_deref().map(Url::as_str),
            Some("https://blog.example.org/")
        );
    }

    #[test]
    fn atom03_constructs_and_dates() {
        let d = fixture("atom03.xml");
        assert_eq!(d.format, Format::Atom03);
        assert_eq!(d.title.as_deref(), Some("Old <b>Atom</b>"));
        assert_eq!(d.subtitle.as_deref(), Some("Still around"), "tagline");
        let e = &d.entries[0];
        assert_eq!(e.published, utc("2004-01-01T17:00:00Z"), "issued");
        assert_eq!(e.updated, utc("2004-01-02T00:00:00Z"), "modified");
        assert_eq!(
            e.authors,
            [person("Old Timer", None, Some("http://old.example.net/me"))]
        );
        assert_eq!(e.content.as_deref(), Some("<p>Escaped <i>HTML</i></p>"));
        assert_eq!(d.entries[1].content.as_deref(), Some("<p>Base 64</p>"));
        assert_eq!(d.entries[1].summary.as_deref(), Some("a &lt; b"));
        assert_eq!(
            d.entries[2].content.as_deref(),
            Some("<p>Inline <em>XHTML</em></p>")
        );
    }

    #[test]
    fn rss10_and_rss090() {
        let d = fixture("rss10.xml");
        assert_eq!(
            (d.format, d.title.as_deref()),
            (Format::Rss10, Some("RDF Site"))
        );
        let e = &d.entries[0];
        assert_eq!(e.title.as_deref(), Some("First item"));
        assert_eq!(e.summary.as_deref(), Some("Item <b>one</b>"));
        assert_eq!(
            (e.published, e.updated),
            (utc("2003-12-31T18:14:55Z"), utc("2003-12-31T18:14:55Z"))
        );
        assert_eq!(e.authors, [person("Dee Sea", None, None)]);
        assert_eq!(e.categories, ["rdf"]);
        let d = fixture("rss090.xml");
        assert_eq!((d.format, d.entries.len()), (Format::Rss090, 2));
        assert_eq!(
            d.entries[1].link.as_deref(),
            Some("http://www.mozilla.org/bugs/")
        );
    }

    #[test]
    fn windows_1252_with_and_without_a_lying_header() {
        for ct in [None, Some("application/rss+xml; charset=utf-8")] {
            let d = parse(&fixture_bytes("rss091-windows-1252.xml"), ct, &base()).unwrap();
            assert_eq!(d.format, Format::Rss091);
            assert_eq!(d.title.as_deref(), Some("Café \u{201C}quotes\u{201D}"));
            assert_eq!(d.entries[0].title.as_deref(), Some("Naïve € price"));
            assert_eq!(d.entries[0].summary.as_deref(), Some("Crème brûlée"));
        }
    }

    #[test]
    fn a_break_that_leaves_no_entry_is_an_error_and_a_lost_tail_a_warning() {
        let base = Url::parse("https://example.org/feed").unwrap();
        let cut = "<rss version='2.0'><channel><title>T</title>\n<item><title>One</title";
        let err = parse(cut.as_bytes(), None, &base).unwrap_err();
        assert!(matches!(err, ParseError::Xml { line: 2, .. }), "{err:?}");

        let whole = "<rss version='2.0'><channel><title>T</title><item><title>One</title></item></channel></rss";
        let d = parse(whole.as_bytes(), None, &base).unwrap();
        assert_eq!(
            (d.entries.len(), d.warning),
            (1, None),
            "only the final end tag broke"
        );

        let empty = "<rss version='2.0'><channel><title>T</title></channel></rss";
        assert_eq!(parse(empty.as_bytes(), None, &base).unwrap().warning, None);
    }

    #[test]
    fn a_plain_web_url_is_one_url_accepts() {
        let cases = [
            ("https://example.org/a/b?c=d#e", true),
            ("http://EXAMPLE.org:8080", true),
            ("http://a.example.:/x", true),
            ("http://a.example:65536/", false),
            ("http://a.example:+80/", false),
            ("http://1.2.3.4/", false),
            ("http://a.0x1f/", false),
            ("http://xn--a.example/", false),
            ("http://a..b/", true),
            ("http://a.b../", false),
            ("http://1.2.3.4./", false),
            ("http://a.XN--b/", false),
            ("http://a:80:90/", false),
            ("http://a@b/", false),
            ("http://a.example:00080/x", true),
            ("http://a.1./", false),
            ("http://a.:80", true),
            ("http://-a/", false),
            ("http://a b/", false),
            ("http://a/{x}", false),
            ("ftp://a/", false),
            ("http://a.0X1f/", false),
            ("http://a.Xn--b/", false),
            ("http://0x.example/", true),
            ("http://xa--b.example/", true),
            ("http://a.1x/", true),
            ("http://a.example/0123456789abcdef0123456789", true),
            ("http://a.example/0123456789abcde|x", false),
            ("http://a.example/0123456789abcdef0<", false),
            ("http://a.b/", true),
            ("http://a.b.1/", false),
            ("http://a.b:1/", true),
            ("http://a.b:1x/", false),
            ("http://a.b", true),
            ("http://a.bc/", true),
        ];
        // Each after each, so that every host found plain is the one known when the next
        // is read.
        for (before, _) in cases {
            for (url, plain) in cases {
                plain_web_url(before);
                assert_eq!(plain_web_url(url), plain, "{url} after {before}");
            }
        }
        // Whatever the check passes, url must take as an http(s) URL, or the shortcut
        // would keep links url refuses.
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut pick = |url: &mut String, alphabet: &[u8], most: usize| {
            for _ in 0..rng.below(most + 1) {
                url.push(rng.pick(alphabet) as char);
            }
        };
        let mut passed = 0;
        for n in 0..100_000 {
            let mut url = String::from(if n % 2 == 0 { "http://" } else { "https://" });
            pick(&mut url, b"a0.-9xXnF1", 12);
            if n % 3 == 0 {
                url.push(':');
                pick(&mut url, b"0123456789+-", 6);
            }
            pick(&mut url, b"/?#%_a.~'9", 8);
            if plain_web_url(&url) {
                passed += 1;
                let parsed = Url::parse(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
                assert!(matches!(parsed.scheme(), "http" | "https"), "{url}");
            }
        }
        assert!(passed > 10_000, "{passed}");
    }

    /// A path is checked sixteen bytes at a time and then byte by byte: any byte in any
    /// place counts the same as the table says.
    #[test]
    fn plain_paths_are_checked_in_every_place() {
        for len in 1..50 {
            assert!(plain_path(&vec![b'a'; len]), "{len}");
            for at in 0..len {
                for c in 0..=255u8 {
                    let mut path = vec![b'a'; len];
                    path[at] = c;
                    assert_eq!(
                        plain_path(&path),
                        PLAIN_PATH[usize::from(c)],
                        "{c:#x} at {at} of {len}"
                    );
                }
            }
        }
        let plain: Vec<u8> = (0..=255u8)
            .filter(|&c| PLAIN_PATH[usize::from(c)])
            .collect();
        assert_eq!(plain.len(), 94 - 9);
        assert!(plain.iter().all(|c| c.is_ascii_graphic()));
    }

    #[test]
    fn sloppy_rss_is_repaired() {
        let d = parse(
            &fixture_bytes("rss-sloppy.xml"),
            None,
            &Url::parse("https://sloppy.example.com/feed").unwrap(),
        )
        .unwrap();
        assert_eq!(d.format, Format::Rss20, "<rss> without a version");
        // &nbsp; decodes to U+00A0, which title whitespace collapsing turns into a space.
        assert_eq!(d.title.as_deref(), Some("Sloppy Feed © AT&T"));
        assert_eq!(d.entries.len(), 1, "the item cut off at the end is dropped");
        let warning = d.warning.as_deref().unwrap_or_default();
        assert!(
            warning.contains("kept the 1 entries before it"),
            "{warning:?}"
        );
        let e = &d.entries[0];
        assert_eq!(e.title.as_deref(), Some("Tom & Jerry … bold"));
        assert_eq!(
            e.link.as_deref(),
            Some("https://sloppy.example.com/relative/story?id=1&utm_source=rss")
        );
        assert_eq!(
            e.published,
            utc("2024-01-02T03:04:05Z"),
            "undeclared dc: prefix"
        );
        assert!(
            e.summary
                .as_deref()
                .is_some_and(|s| s.starts_with("Unclosed <p>paragraph <br> and a stray")),
            "{:?}",
            e.summary
        );
        assert_eq!(e.enclosures[0].url, "http://sloppy.example.com/café.mp3");
        assert_eq!(e.enclosures[0].length, None);
    }

    #[test]
    fn rss_versions() {
        for (root, format) in [
            ("<rss version='0.91'>", Format::Rss091),
            ("<rss version='0.92'>", Format::Rss092),
            ("<rss version='0.93'>", Format::Rss092),
            ("<rss version='0.94'>", Format::Rss092),
            ("<rss version='2.0'>", Format::Rss20),
            ("<rss version='2.01-beta'>", Format::Rss20),
            ("<rss>", Format::Rss20),
        ] {
            assert_eq!(
                doc(&format!("{root}<channel><title>t</title></channel></rss>")).format,
                format,
                "{root}"
            );
        }
    }

    #[test]
    fn atom_elements_in_rss_are_atom() {
        let e = one(
            r#"<rss><channel><item xmlns:a="http://www.w3.org/2005/Atom">
            <a:link rel="self" href="https://x.example/self"/><a:link href="https://x.example/alt"/>
            <a:id>tag:x,1</a:id></item></channel></rss>"#,
        );
        assert_eq!(
            (e.link.as_deref(), e.id.as_deref()),
            (Some("https://x.example/alt"), Some("tag:x,1"))
        );
        assert!(!e.id_is_permalink);
    }

    #[test]
    fn namespaces_are_resolved_not_matched_by_prefix() {
        let d = doc(
            r#"<a:feed xmlns:a="http://www.w3.org/2005/Atom" xmlns:d="http://purl.org/dc/elements/1.1/">
            <a:title>Prefixed</a:title><a:entry><a:title>E</a:title><d:subject>s</d:subject>
            <title>not atom</title><dc:subject xmlns:dc="http://example.com/not-dc">x</dc:subject></a:entry></a:feed>"#,
        );
        assert_eq!(
            (d.format, d.title.as_deref()),
            (Format::Atom10, Some("Prefixed"))
        );
        assert_eq!(d.entries[0].title.as_deref(), Some("E"));
        assert_eq!(d.entries[0].categories, ["s"]);
    }

    #[test]
    fn xml_base_on_rss_channel_and_items() {
        let d = doc(
            r#"<rss xml:base="https://a.example/root/"><channel xml:base="chan/"><link>home</link>
            <item xml:base="/items/"><link>one</link><enclosure url="f.mp3"/><description>x</description><media:thumbnail url="t.jpg"/></item>
            <item><link xml:base="https://b.example/">two</link></item></channel></rss>"#,
        );
        assert_eq!(d.link.as_deref(), Some("https://a.example/root/chan/home"));
        assert_eq!(
            d.entries[0].link.as_deref(),
            Some("https://a.example/items/one")
        );
        assert_eq!(
            d.entries[0].enclosures[0].url,
            "https://a.example/items/f.mp3"
        );
        assert_eq!(
            d.entries[0].image.as_deref(),
            Some("https://a.example/items/t.jpg")
        );
        assert_eq!(
            d.entries[0].base.as_deref().map(Url::as_str),
            Some("https://a.example/items/")
        );
        assert_eq!(d.entries[1].link.as_deref(), Some("https://b.example/two"));
    }

    #[test]
    fn each_capture_starts_empty() {
        // Elements are captured one after another into one buffer: a long one must leave
        // nothing behind for the short ones after it, whatever their mode.
        let long = "x".repeat(5000);
        let d = doc(&format!(
            "<feed xmlns='http://www.w3.org/2005/Atom'>
             <entry><id>1</id><content type='html'>&lt;p&gt;{long}&lt;/p&gt;</content>
               <title type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>Short</div></title>
               <summary type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><b>s</b></div></summary></entry>
             <entry><id>2</id><summary>{long}</summary><title>Two <b>bold</b></title>
               <content type='text'>t</content></entry></feed>"
        ));
        let (a, b) = (&d.entries[0], &d.entries[1]);
        assert_eq!(
            a.content.as_deref(),
            Some(format!("<p>{long}</p>").as_str())
        );
        assert_eq!(a.title.as_deref(), Some("Short"));
        assert_eq!(a.summary.as_deref(), Some("<b>s</b>"));
        assert_eq!(b.summary.as_deref(), Some(long.as_str()));
        assert_eq!(b.title.as_deref(), Some("Two bold"));
        assert_eq!(b.content.as_deref(), Some("t"));
    }

    #[test]
    fn titles_are_plain_text() {
        let title = |t: &str| {
            one(&format!(
                "<feed xmlns='http://www.w3.org/2005/Atom'><entry>{t}</entry></feed>"
            ))
            .title
        };
        assert_eq!(
            title("<title type='html'>A &amp;amp; B &lt;i&gt;c&lt;/i&gt;</title>").as_deref(),
            Some("A & B c")
        );
        assert_eq!(
            title("<title type='text'>1 &lt; 2\n   and  more</title>").as_deref(),
            Some("1 < 2 and more")
        );
        assert_eq!(title("<title>   </title>"), None);
    }

    #[test]
    fn items_swallowed_by_an_unclosed_element_are_found() {
        let d = doc(
            "<rss><channel><itunes:category text='Tech'><itunes:category text='Gadgets'/>
            <item><title>One</title></item><item><title>Two</title></item></channel></rss>",
        );
        let titles: Vec<_> = d.entries.iter().map(|e| e.title.as_deref()).collect();
        assert_eq!(titles, [Some("One"), Some("Two")]);
    }

    #[test]
    fn date_sources_and_their_precedence() {
        let e = one(
            r#"<rss xmlns:dcterms="http://purl.org/dc/terms/"><channel><item>
            <dc:date>2001-01-01T00:00:00Z</dc:date><pubDate>Mon, 02 Jan 2006 00:00:00 GMT</pubDate>
            <dcterms:modified>2007-01-03T00:00:00Z</dcterms:modified></item></channel></rss>"#,
        );
        assert_eq!(
            (e.published, e.updated),
            (utc("2006-01-02T00:00:00Z"), utc("2007-01-03T00:00:00Z"))
        );
        let e = one(
            "<rss><channel><item><dc:modified>2005-05-05</dc:modified><pubDate>not a date</pubDate></item></channel></rss>",
        );
        assert_eq!(
            (e.published, e.updated),
            (None, utc("2005-05-05T00:00:00Z"))
        );
    }

    #[test]
    fn junk_after_the_root_is_ignored() {
        let d = doc("<rss><channel><title>T</title></channel></rss><script>x</script><rss/>");
        assert_eq!((d.format, d.title.as_deref()), (Format::Rss20, Some("T")));
    }

    #[test]
    fn guid_that_is_not_a_permalink_is_not_a_link() {
        let e = one(
            "<rss><channel><item><guid isPermaLink='false'>https://x.example/1</guid></item></channel></rss>",
        );
        assert_eq!((e.link, e.id_is_permalink), (None, false));
    }

    #[test]
    fn cdata_with_bare_ampersands_is_kept() {
        let e = one(
            "<rss><channel><item><title><![CDATA[Q&A <3]]></title><description><![CDATA[a & b &amp; c]]></description></item></channel></rss>",
        );
        assert_eq!(e.title.as_deref(), Some("Q&A <3"));
        assert_eq!(e.summary.as_deref(), Some("a & b &amp; c"));
    }

    #[test]
    fn raw_forbidden_characters_are_dropped() {
        let e =
            one("<rss><channel><item><title>a\u{1}b\u{b}c\u{FFFF}d</title></item></channel></rss>");
        assert_eq!(e.title.as_deref(), Some("abcd"));
    }

    #[test]
    fn broken_beyond_repair_is_an_xml_error() {
        let err = parse(
            b"<rss><channel><title>x</title><item><title>a</titl",
            None,
            &base(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Xml {
                    line: 1,
                    column: 45,
                    ..
                }
            ),
            "{err:?}"
        );
        let ok = parse(
            b"<rss><channel><item><title>a</title></item><item><title>b</tit",
            None,
            &base(),
        )
        .unwrap();
        assert_eq!(
            ok.entries.len(),
            1,
            "a complete entry before the break is kept"
        );
        let ok = parse(
            b"<rss><channel><title>x</title></channel></rss",
            None,
            &base(),
        )
        .unwrap();
        assert_eq!(
            ok.title.as_deref(),
            Some("x"),
            "only the final end tag is broken"
        );
    }

    /// Inputs built to make a careless parser quadratic (or explode), each about 1 MB: each
    /// must be read in well under a second even unoptimised, and normalised (ammonia is
    /// slow unoptimised, so on a tenth of the size).
    #[test]
    fn hostile_input_stays_linear() {
        let item = |body: String| {
            format!("<rss><channel><item><title>t</title>{body}</item></channel></rss>")
        };
        let cases = |n: usize| {
            [
                ("deep nesting with stray end tags", item(format!("<description>{}{}</description>", "<a>".repeat(n), "</b>".repeat(n)))),
                ("many namespace declarations", format!("<rss {}><channel>{}</channel></rss>", (0..n / 4).map(|i| format!("xmlns:p{i}='u{i}'")).collect::<String>(), "<item><p9:x/></item>".repeat(n / 20))),
                ("entity expansion", format!("<!DOCTYPE rss [<!ENTITY a '{}'>]>{}", "x".repeat(4000), item(format!("<description>{}</description>", "&a;".repeat(n))))),
                ("unclosed tags in a title", item(format!("<title>{}</title>", "&lt;a ".repeat(n)))),
                ("many authors and categories", item("<dc:creator>a</dc:creator><category>c</category><enclosure url='http://e/1'/>".repeat(n / 10))),
                ("bare ampersands", item(format!("<title>{}</title>", "&aaaa".repeat(n)))),
                ("formatting soup", item(format!("<description><![CDATA[{}]]></description>", "<b><i><u><a href=x>".repeat(n / 20)))),
            ]
        };
        for (what, src) in cases(100_000) {
            let started = std::time::Instant::now();
            let _ = parse(src.as_bytes(), None, &base());
            assert!(
                started.elapsed().as_secs_f64() < 3.0,
                "{what}: {:?}",
                started.elapsed()
            );
        }
        for (what, src) in cases(10_000) {
            let started = std::time::Instant::now();
            if let Ok(d) = parse(src.as_bytes(), None, &base()) {
                let _ = crate::source::normalise::normalise(d, "s", chrono::Utc::now());
            }
            assert!(
                started.elapsed().as_secs_f64() < 5.0,
                "{what}: {:?}",
                started.elapsed()
            );
        }
    }

    /// Every prefix of every fixture, and every fixture with bytes flipped: no panic, and each
    /// parse stays fast.
    #[test]
    fn truncated_and_corrupted_input_never_panics() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds");
        let mut seed: u32 = 12345;
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let body = std::fs::read(entry.path()).unwrap();
            for cut in 0..body.len() {
                let _ = parse(&body[..cut], None, &base());
            }
            for _ in 0..200 {
                let mut bad = body.clone();
                for _ in 0..4 {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    let at = (seed >> 8) as usize % bad.len();
                    bad[at] = b"<>&;/\"'=!?[]\x00\xff\xc3"[(seed >> 4) as usize % 15];
                }
                let started = std::time::Instant::now();
                let _ = parse(&bad, None, &base());
                assert!(started.elapsed().as_secs() < 1);
            }
        }
    }

    #[test]
    fn rss_names_match_whatever_their_case() {
        let d = doc(
            "<rss><channel><TiTlE>T</TiTlE><ITEM><Title>A</Title><PubDate>Thu, 01 Jan 2004 19:48:21 GMT</PubDate></ITEM></channel></rss>",
        );
        assert_eq!(d.title.as_deref(), Some("T"));
        assert_eq!(d.entries[0].title.as_deref(), Some("A"));
        assert_eq!(d.entries[0].published, utc("2004-01-01T19:48:21Z"));
        for spelling in ["pubdate", "PUBDATE", "PubDate", "pubDate"] {
            let e = one(&format!(
                "<rss><channel><item><{spelling}>Thu, 01 Jan 2004 19:48:21 GMT</{spelling}></item></channel></rss>"
            ));
            assert_eq!(e.published, utc("2004-01-01T19:48:21Z"), "{spelling}");
        }
        let e = one(
            "<rss><channel><item><LINK>https://x.example/1</LINK><GUID>g</GUID></item></channel></rss>",
        );
        assert_eq!(
            (e.link.as_deref(), e.id.as_deref()),
            (Some("https://x.example/1"), Some("g"))
        );
    }

    #[test]
    fn rss_summary_beside_description_is_the_content_when_second() {
        let e = one(
            "<rss><channel><item><description>D</description><summary>S</summary></item></channel></rss>",
        );
        assert_eq!(
            (e.summary.as_deref(), e.content.as_deref()),
            (Some("D"), Some("S"))
        );
        let e = one(
            "<rss><channel><item><summary>S</summary><description>D</description></item></channel></rss>",
        );
        assert_eq!(
            (e.summary.as_deref(), e.content.as_deref()),
            (Some("S"), Some("D"))
        );
        let e = one(
            "<rss><channel><item><description>D</description><description>E</description></item></channel></rss>",
        );
        assert_eq!(
            (e.summary.as_deref(), e.content.as_deref()),
            (Some("D"), None)
        );
    }

    #[test]
    fn a_tags_list_is_categories() {
        let e = one(
            "<rss><channel><item><title>t</title><tags>tag one, tag two,</tags><category>c</category></item></channel></rss>",
        );
        assert_eq!(e.categories, ["tag one", "tag two", "c"]);
    }

    #[test]
    fn rdf_about_is_the_id_of_last_resort() {
        let src = |guid: &str| {
            format!(
                r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><item rdf:about="http://example.org/1"><title>t</title>{guid}</item></rdf:RDF>"#
            )
        };
        assert_eq!(one(&src("")).id.as_deref(), Some("http://example.org/1"));
        let e = one(&src("<guid isPermaLink='false'>g</guid>"));
        assert_eq!(e.id.as_deref(), Some("g"));
    }

    fn rss10_item(item: &str) -> Entry {
        one(&format!(
            r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:x="http://example.com/x#">{item}</rdf:RDF>"#
        ))
    }

    #[test]
    fn rdf_about_counts_only_in_the_rdf_namespace() {
        let id = |item: &str| rss10_item(item).id;
        assert_eq!(
            id(r#"<item r:about="https://e.example/1" xmlns:r="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><title>t</title></item>"#).as_deref(),
            Some("https://e.example/1")
        );
        assert_eq!(
            id(r#"<item x:about="https://e.example/1"><title>t</title></item>"#),
            None
        );
        assert_eq!(
            id(
                r#"<item rdf:about="https://e.example/1" xmlns:rdf="http://example.com/not-rdf"><title>t</title></item>"#
            ),
            None
        );
        assert_eq!(
            id(r#"<item about="https://e.example/1"><title>t</title></item>"#),
            None
        );
    }

    #[test]
    fn rdf_about_is_resolved_against_the_items_base() {
        let id = |item: &str| rss10_item(item).id;
        assert_eq!(
            id(r#"<item rdf:about="items/1" xml:base="https://b.example/base/"><title>t</title></item>"#).as_deref(),
            Some("https://b.example/base/items/1")
        );
        assert_eq!(
            id(r#"<item rdf:about="2"><title>t</title></item>"#).as_deref(),
            Some("https://example.org/feeds/2")
        );
    }

    /// Before rdf:about was read, an RSS 1.0 item was known by its link: that id stays.
    #[test]
    fn rdf_about_never_replaces_the_link_as_the_id() {
        let src = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><item rdf:about="https://e.example/about/1"><title>t</title><link>https://e.example/1?utm_source=rss</link></item></rdf:RDF>"#;
        let e = one(src);
        assert_eq!(
            (e.id.as_deref(), e.link.as_deref()),
            (None, Some("https://e.example/1?utm_source=rss"))
        );
        let items = crate::source::normalise::normalise(doc(src), "s", Utc::now());
        assert_eq!(items[0].id, "https://e.example/1");
    }

    #[test]
    fn an_entrys_repeated_authors_are_dropped_and_the_others_keep_their_order() {
        let e = one(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title><author><name>Ann</name><email>a@x.org</email></author><author><name>Bob</name></author><author><name>Ann</name><email>other@x.org</email></author><author><name>Bob</name></author><author><name>Cy</name></author></entry></feed>"#,
        );
        assert_eq!(
            e.authors,
            [
                person("Ann", Some("a@x.org"), None),
                person("Bob", None, None),
                person("Cy", None, None)
            ]
        );
    }

    #[test]
    fn an_author_with_only_a_home_page_is_left_for_the_normaliser_to_name() {
        let e = one(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title><author><uri>/me</uri></author><author><uri>/you</uri></author><author><uri>/me</uri></author><author><name> </name></author></entry></feed>"#,
        );
        assert_eq!(
            e.authors,
            [
                person("", None, Some("https://example.org/me")),
                person("", None, Some("https://example.org/you"))
            ]
        );
    }

    #[test]
    fn an_author_known_by_a_url_is_named_by_it_only_when_it_is_a_web_page() {
        let authors = |uri: &str| {
            let src = format!(
                r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title><author><uri>{uri}</uri></author></entry></feed>"#
            );
            let items = crate::source::normalise::normalise(doc(&src), "s", Utc::now());
            items[0].authors.clone()
        };
        let me = "https://example.org/me";
        assert_eq!(authors(me), [person(me, None, Some(me))]);
        assert_eq!(authors("javascript:alert(1)"), []);
    }

    #[test]
    fn a_repeated_date_element_corrects_the_earlier_one() {
        let e = one(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title><updated>2010-12-01T10:14:55Z</updated><updated>2003-12-31T10:14:55Z</updated><published>2003-01-01T00:00:00Z</published></entry></feed>"#,
        );
        assert_eq!(e.updated, utc("2003-12-31T10:14:55Z"));
        assert_eq!(e.published, utc("2003-01-01T00:00:00Z"));
    }

    #[test]
    fn each_date_element_has_a_rank_of_its_own() {
        let published = |dates: &str| {
            one(&format!(
                r#"<rss xmlns:dcterms="http://purl.org/dc/terms/" xmlns:a="http://www.w3.org/2005/Atom"><channel><item><title>t</title>{dates}</item></channel></rss>"#
            ))
            .published
        };
        let issued = "<dcterms:issued>2020-01-01T00:00:00Z</dcterms:issued>";
        let created = "<dcterms:created>2019-01-01T00:00:00Z</dcterms:created>";
        let atom_created = "<a:created>2018-01-01T00:00:00Z</a:created>";
        let y2020 = utc("2020-01-01T00:00:00Z");
        assert_eq!(published(&format!("{issued}{created}")), y2020);
        assert_eq!(published(&format!("{created}{issued}")), y2020);
        assert_eq!(
            published(&format!("{atom_created}{created}")),
            utc("2019-01-01T00:00:00Z")
        );
        assert_eq!(
            published(&format!(
                "{issued}<dcterms:issued>2021-01-01T00:00:00Z</dcterms:issued>"
            )),
            utc("2021-01-01T00:00:00Z"),
            "a repeated element corrects the earlier"
        );
    }

    #[test]
    fn media_content_is_an_enclosure_only_when_it_plays() {
        let e = one(
            r#"<rss xmlns:media="http://search.yahoo.com/mrss/"><channel><item><title>t</title>
            <media:content width="140" url="https://i.example/pic.jpg"/>
            <media:group><media:content url="https://y.example/v/abc?version=3" type="application/x-shockwave-flash" width="640"/>
            <media:thumbnail url="https://y.example/thumb.jpg"/></media:group>
            <media:content url="https://x.example/page"/>
            <media:content url="https://x.example/file.mp3" medium="document"/>
            <media:content url="https://a.example/ep.MP3?x=1"/>
            <media:content url="https://a.example/stream" medium="audio"/>
            <media:content url="https://a.example/clip" type="video/webm"/>
            </item></channel></rss>"#,
        );
        let urls: Vec<_> = e.enclosures.iter().map(|x| x.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://a.example/ep.MP3?x=1",
                "https://a.example/stream",
                "https://a.example/clip"
            ]
        );
        assert_eq!(e.image.as_deref(), Some("https://y.example/thumb.jpg"));
        let e = one(
            r#"<rss xmlns:media="http://search.yahoo.com/mrss/"><channel><item><title>t</title><media:content width="140" url="https://i.example/pic.jpg"/></item></channel></rss>"#,
        );
        assert_eq!(
            (e.enclosures.len(), e.image.as_deref()),
            (0, Some("https://i.example/pic.jpg"))
        );
    }

    #[test]
    fn media_content_that_is_not_a_picture_is_an_enclosure() {
        let e = one(
            r#"<rss xmlns:media="http://search.yahoo.com/mrss/"><channel><item><title>t</title><media:content url="https://v.example/1.mp4" type="video/mp4" fileSize="99"/><media:content url="https://v.example/1.jpg" medium="image"/></item></channel></rss>"#,
        );
        assert_eq!(
            e.enclosures,
            [Enclosure {
                url: "https://v.example/1.mp4".into(),
                mime_type: Some("video/mp4".into()),
                length: Some(99),
            }]
        );
        assert_eq!(e.image.as_deref(), Some("https://v.example/1.jpg"));
    }
}
