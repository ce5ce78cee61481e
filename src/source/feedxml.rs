//! RSS (0.90–2.0, 1.0/RDF) and Atom (0.3, 1.0) documents, read in one pass over the
//! [`XmlReader`] stream into a [`Document`].
//!
//! A stack of contexts (feed, entry, author, media group, skipped subtree) says what each
//! element means; [`super::elements`] maps names to meanings. Where a feed gives one fact
//! twice (an RSS `link` and an `atom:link`, `pubDate` and `dc:date`) the better source wins
//! whatever the order, by rank. A syntax error after at least one complete entry keeps what
//! was read (the entry it broke is dropped); before that it is [`ParseError::Xml`].

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
    pub summary: Ranked<(String, Url)>,
    pub content: Ranked<(String, Url)>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
    pub image: Ranked<String>,
    pub base: Option<Url>,
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
    pub capture: Option<(Target, Capture, Option<Url>)>,
    pub title: Ranked<String>,
    pub link: Ranked<String>,
    pub subtitle: Ranked<String>,
    pub feed_authors: Vec<Person>,
    pub person: Option<Person>,
    pub entry: Option<EntryState>,
    pub entries: Vec<Entry>,
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
        title: Ranked::default(),
        link: Ranked::default(),
        subtitle: Ranked::default(),
        feed_authors: Vec::new(),
        person: None,
        entry: None,
        entries: Vec::new(),
        fatal: None,
    };
    while let Some(node) = w.r.next_node() {
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
            None => self.root(el),
            Some(Ctx::Capture | Ctx::Inside) => {
                if let Some((_, cap, _)) = &mut self.capture {
                    cap.start(el);
                }
                Ctx::Inside
            }
            Some(Ctx::Skip) => Ctx::Skip,
            Some(parent) => match elements::classify(self, parent, el) {
                Action::Enter(ctx) => ctx,
                Action::Capture(target, mode, how) => {
                    let base = match target {
                        // An Atom id is resolved only against an explicit xml:base.
                        Target::Id => self.r.explicit_base().cloned(),
                        t if t.needs_base() => Some(self.r.base().clone()),
                        _ => None,
                    };
                    let mut cap = Capture::new(mode, how);
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
                        self.entry = Some(EntryState {
                            base: Some(self.r.base().clone()),
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
                base: Some(self.r.base().clone()),
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
            match p.email.clone() {
                Some(name) => p.name = name,
                None => return,
            }
        }
        match &mut self.entry {
            Some(e) => e.authors.push(p),
            None => self.feed_authors.push(p),
        }
    }

    fn finish_entry(&mut self) {
        let Some(e) = self.entry.take() else { return };
        if self.r.error.is_some() {
            // The document broke inside this entry: what was read of it may be cut short.
            return;
        }
        let mut authors: Vec<Person> = Vec::new();
        for p in e.authors {
            if !authors.iter().any(|a| a.name == p.name) {
                authors.push(p);
            }
        }
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
        self.entries.push(Entry {
            id_is_permalink: e.id.is_some() && e.permalink == Some(true),
            id: e.id,
            title: e.title.take(),
            link: e.link.take(),
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
        if let Some(err) = &self.r.error {
            // Keep what was read when it is something, or when all that broke is the last end
            // tag (`</rss` at the end of the file).
            let tail = self.src.get(err.offset..).unwrap_or_default().trim();
            let last_end_tag = tail.starts_with("</") && !tail[2..].contains(['<', '>']);
            if self.entries.is_empty() && !last_end_tag {
                let (line, column) = self.r.line_column(err.offset);
                return Err(ParseError::Xml {
                    line,
                    column,
                    message: err.message.clone(),
                });
            }
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
            Target::Published(rank) => e.published.offer(rank, d),
            Target::Updated(rank) => e.updated.offer(rank, d),
            _ => {}
        }
    }
}

/// A cheap check for the common case, an absolute http(s) URL that url would accept as it
/// is: scheme, a host of letters, digits, dots and dashes (and a port), and a path of
/// printable ASCII that needs no escaping. Anything else goes through url.
pub fn plain_web_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(host_end);
    let host = host.split_once(':').map_or(Some(host), |(h, port)| {
        port.bytes().all(|b| b.is_ascii_digit()).then_some(h)
    });
    host.is_some_and(|h| {
        !h.is_empty()
            && !h.starts_with(['.', '-'])
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    }) && path.bytes().all(|b| {
        b.is_ascii_graphic()
            && !matches!(
                b,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
    })
}

/// `url` (trimmed) made absolute against `base`; None when empty or unresolvable. An
/// absolute URL is kept as written unless it needs cleaning up (spaces and the like).
pub fn resolve(base: &Url, url: &str) -> Option<String> {
    let url = url.trim();
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
