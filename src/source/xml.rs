//! A forgiving XML tokeniser for feeds, on quick-xml over an already-decoded UTF-8 buffer.
//!
//! It turns quick-xml's events into a balanced stream of [`Node`]s — every start has its end,
//! text arrives decoded — and adds what feeds need and quick-xml leaves out: namespace
//! resolution to the [`Ns`] we know (accepting the conventional prefixes even when a feed
//! forgets to declare them), `xml:base` scoping, HTML named entities, entities declared in an
//! internal DTD subset, a bare `&` read as a literal `&`, references to forbidden characters
//! dropped, and recovery from mismatched or unclosed end tags. It knows nothing about RSS or
//! Atom; `feedxml` gives the elements meaning. A syntax error it cannot step over ends the
//! stream and is kept in [`XmlReader::error`] with its byte offset. For speed, elements that
//! hold only text are decoded straight from the buffer ([`XmlReader::leaf_text`]); against
//! hostile input, end-tag matching, namespace declarations and entity expansion are bounded.

use std::borrow::Cow;
use std::rc::Rc;

use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::reader::Reader;
use url::Url;

use super::text;

/// The namespaces whose elements mean something to a feed reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ns {
    /// No namespace (RSS 0.91–2.0, and Atom feeds that forget theirs).
    None,
    Atom10,
    Atom03,
    Rss10,
    Rss090,
    Rdf,
    Dc,
    DcTerms,
    Content,
    Media,
    Itunes,
    Xhtml,
    /// A namespace we have no use for.
    Other,
}

impl Ns {
    pub fn from_uri(uri: &str) -> Ns {
        let uri = uri.trim().trim_end_matches(['/', '#']);
        let uri = uri
            .strip_prefix("http://")
            .or_else(|| uri.strip_prefix("https://"))
            .unwrap_or(uri);
        match uri.to_ascii_lowercase().as_str() {
            "" => Ns::None,
            "www.w3.org/2005/atom" => Ns::Atom10,
            "purl.org/atom/ns" | "purl.org/atom/ns/draft-ietf-atompub-format-08" => Ns::Atom03,
            "purl.org/rss/1.0" => Ns::Rss10,
            "my.netscape.com/rdf/simple/0.9" => Ns::Rss090,
            "www.w3.org/1999/02/22-rdf-syntax-ns" => Ns::Rdf,
            "purl.org/dc/elements/1.1" | "purl.org/dc/elements/1.0" => Ns::Dc,
            "purl.org/dc/terms" => Ns::DcTerms,
            "purl.org/rss/1.0/modules/content" => Ns::Content,
            "search.yahoo.com/mrss" | "video.search.yahoo.com/mrss" => Ns::Media,
            "www.itunes.com/dtds/podcast-1.0.dtd" => Ns::Itunes,
            "www.w3.org/1999/xhtml" => Ns::Xhtml,
            // Default namespaces some RSS 2.0 feeds declare; their elements are plain RSS.
            "backend.userland.com/rss"
            | "backend.userland.com/rss2"
            | "blogs.law.harvard.edu/tech/rss"
            | "purl.org/rss/2.0" => Ns::None,
            _ => Ns::Other,
        }
    }

    /// What an undeclared prefix conventionally means.
    fn from_prefix(prefix: &str) -> Ns {
        match prefix {
            "atom" | "atom10" | "a10" => Ns::Atom10,
            "atom03" => Ns::Atom03,
            "rdf" => Ns::Rdf,
            "dc" => Ns::Dc,
            "dcterms" => Ns::DcTerms,
            "content" => Ns::Content,
            "media" => Ns::Media,
            "itunes" => Ns::Itunes,
            "xhtml" => Ns::Xhtml,
            _ => Ns::Other,
        }
    }
}

/// A start tag with its namespace resolved.
pub struct Element<'a> {
    pub ns: Ns,
    /// Written as an empty-element tag (`<x/>`): its end follows at once.
    pub empty: bool,
    /// Where the name after its prefix begins: found when the element is made, as
    /// elements are matched on their local name several times.
    local_at: usize,
    start: BytesStart<'a>,
}

impl Element<'_> {
    /// The name as written, prefix included.
    pub fn qname(&self) -> &str {
        self.start.name().into_inner()
    }

    pub fn local(&self) -> &str {
        &self.qname()[self.local_at..]
    }

    /// Attributes as (name as written, value with references decoded).
    pub fn attrs(&self) -> impl Iterator<Item = (&str, Cow<'_, str>)> {
        self.raw_attrs().map(|(key, value)| (key, unescape(value)))
    }

    /// Attributes as (name as written, value as written).
    fn raw_attrs(&self) -> impl Iterator<Item = (&str, Cow<'_, str>)> {
        RawAttrs {
            s: self.start.attributes_raw(),
            at: 0,
        }
        .map(|(key, value)| (key, Cow::Borrowed(value)))
    }

    /// The value of the attribute named `name` (matched on the name as written, or on the
    /// local name for unprefixed attributes), trimmed. Only its value is decoded, not the
    /// element's other attributes'.
    pub fn attr(&self, name: &str) -> Option<Cow<'_, str>> {
        let (_, value) = self.raw_attrs().find(|(k, _)| *k == name)?;
        Some(trimmed(unescape(value)))
    }

    /// [`Element::attr`] of each of `names`, in one walk over the attributes (each walk
    /// reads every attribute before the one it finds, which for an Atom link asked for its
    /// `rel`, `type` and `href` cost more than the rest of the element).
    pub fn attrs_named<const N: usize>(&self, names: [&str; N]) -> [Option<Cow<'_, str>>; N] {
        let mut values = [const { None }; N];
        let mut missing = N;
        for (key, value) in self.raw_attrs() {
            if !names.contains(&key) {
                continue;
            }
            let value = trimmed(unescape(value));
            for (slot, name) in values.iter_mut().zip(names) {
                if name == key && slot.is_none() {
                    *slot = Some(value.clone());
                    missing -= 1;
                }
            }
            if missing == 0 {
                break;
            }
        }
        values
    }
}

fn trimmed(value: Cow<'_, str>) -> Cow<'_, str> {
    match value {
        Cow::Borrowed(v) => Cow::Borrowed(text::trim(v)),
        Cow::Owned(v) => Cow::Owned(text::trim(&v).to_owned()),
    }
}

/// The attributes of a tag (what follows its name) as quick-xml's `html_attributes` reads
/// them without its duplicate check, up to its first error: a name runs to `=` or
/// whitespace (and holds at least its first byte, whatever that is); a value is quoted, or
/// runs to whitespace; a name with no `=` after it has an empty value. quick-xml's reader
/// took some 150 instructions an attribute, and every link has two or three.
struct RawAttrs<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Iterator for RawAttrs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.s.as_bytes();
        let skip_space = |mut i: usize| {
            while i < b.len() && xml_space(b[i]) {
                i += 1;
            }
            i
        };
        let start = skip_space(self.at);
        if start == b.len() {
            self.at = start;
            return None;
        }
        let mut end = start + 1;
        while end < b.len() && b[end] != b'=' && !xml_space(b[end]) {
            end += 1;
        }
        let key = &self.s[start..end];
        let eq = skip_space(end);
        if b.get(eq) != Some(&b'=') {
            // No value: the next name starts where the spaces end.
            self.at = eq;
            return Some((key, ""));
        }
        let value = skip_space(eq + 1);
        // Past the end from here: quick-xml's errors end its walk.
        self.at = b.len();
        let quote = *b.get(value)?;
        if quote == b'"' || quote == b'\'' {
            let len = memchr::memchr(quote, &b[value + 1..])?;
            self.at = value + 1 + len + 1;
            return Some((key, &self.s[value + 1..value + 1 + len]));
        }
        let len = b[value..]
            .iter()
            .position(|&c| xml_space(c))
            .unwrap_or(b.len() - value);
        self.at = value + len;
        Some((key, &self.s[value..value + len]))
    }
}

/// An attribute's value with its references decoded; borrowed when it has none.
fn unescape(value: Cow<'_, str>) -> Cow<'_, str> {
    match value {
        Cow::Borrowed(v) => text::unescape(v),
        Cow::Owned(v) => Cow::Owned(text::unescape(&v).into_owned()),
    }
}

/// One step of the balanced stream.
pub enum Node<'a> {
    Start(Element<'a>),
    End,
    Text(Cow<'a, str>),
}

/// A syntax error that ended the stream early.
pub struct XmlError {
    pub offset: usize,
    pub message: String,
    /// All that is left is a broken end tag for the innermost open element (`</rss` at the
    /// end of the file): nothing was lost.
    pub only_final_end_tag: bool,
}

pub struct XmlReader<'a> {
    src: &'a str,
    reader: Reader<&'a [u8]>,
    /// Namespace bindings in scope: (depth declared at, prefix, namespace).
    bindings: Vec<(usize, String, Ns)>,
    /// `xml:base` values in scope: (depth declared at, resolved URL). Never empty. Shared,
    /// as every entry and most of their elements keep the base they were read under.
    bases: Vec<(usize, Rc<Url>)>,
    /// Hashes of the names of open elements, for matching end tags.
    open: Vec<u64>,
    /// Ends still to emit: after an empty-element tag, or to close elements that a
    /// mismatched end tag or the end of input left open.
    ends_due: usize,
    entities: Vec<(String, String)>,
    /// Bytes still allowed to come out of DTD entities, against "billion laughs" blow-ups.
    entity_budget: usize,
    /// Bytes taken behind quick-xml's back ([`XmlReader::take`]), which its positions do
    /// not count.
    skipped: u64,
    pub error: Option<XmlError>,
    /// The input ended (or broke) with elements still open; the ends now coming close them.
    pub cut_short: bool,
    /// quick-xml's last event was markup, after which it reads text: [`XmlReader::tag_ahead`]
    /// may read a tag in its stead.
    after_markup: bool,
    /// Whether [`XmlReader::tag_ahead`] is used (always, but in a test comparing it with
    /// quick-xml).
    own_tags: bool,
}

/// How many open elements an end tag may close at once.
const MATCH_WINDOW: usize = 64;
/// Namespace declarations kept in scope at once.
const MAX_BINDINGS: usize = 256;
/// Entities read from an internal DTD subset, their longest value, and the total bytes
/// they may expand to in one document.
const MAX_ENTITIES: usize = 256;
const MAX_ENTITY_LEN: usize = 4096;
const ENTITY_BUDGET: usize = 1 << 20;

/// The first `&` or `\r` in `b`. Escaped HTML has a reference every few bytes, one search
/// each: the first sixteen bytes are looked at here, by a few vector instructions, before
/// `memchr` and its setup are called on for the rest.
fn find_amp_or_cr(b: &[u8]) -> Option<usize> {
    let Some(block) = b.first_chunk::<16>() else {
        return b.iter().position(|&c| c == b'&' || c == b'\r');
    };
    match super::text::flags16(block, |c| (c == b'&') | (c == b'\r')) {
        0 => memchr::memchr2(b'&', b'\r', &b[16..]).map(|at| at + 16),
        found => Some(found.trailing_zeros() as usize / 8),
    }
}

/// FNV-1a: end tags are matched by hash so that open elements cost no allocation.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

impl<'a> XmlReader<'a> {
    pub fn new(src: &'a str, base: &Url) -> Self {
        let mut reader = Reader::from_str(src);
        let config = reader.config_mut();
        config.allow_dangling_amp = true;
        config.allow_unmatched_ends = true;
        config.check_end_names = false;
        config.check_comments = false;
        XmlReader {
            src,
            reader,
            bindings: Vec::new(),
            bases: vec![(0, Rc::new(base.clone()))],
            open: Vec::with_capacity(16),
            ends_due: 0,
            entities: Vec::new(),
            entity_budget: ENTITY_BUDGET,
            skipped: 0,
            error: None,
            cut_short: false,
            after_markup: false,
            own_tags: true,
        }
    }

    /// The base URL in effect for the element most recently started.
    pub fn base(&self) -> &Url {
        &self.bases[self.bases.len() - 1].1
    }

    /// [`XmlReader::base`], to keep.
    pub fn shared_base(&self) -> Rc<Url> {
        self.bases[self.bases.len() - 1].1.clone()
    }

    /// The base set by an `xml:base` in scope, if any (as opposed to the response URL).
    pub fn explicit_base(&self) -> Option<Rc<Url>> {
        (self.bases.len() > 1).then(|| self.shared_base())
    }

    /// 1-based line and column (in characters) of a byte offset into the source.
    pub fn line_column(&self, offset: usize) -> (u64, u64) {
        let mut offset = offset.min(self.src.len());
        while !self.src.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.src[..offset];
        let line = memchr::memchr_iter(b'\n', before.as_bytes()).count() + 1;
        let line_start = memchr::memrchr(b'\n', before.as_bytes()).map_or(0, |i| i + 1);
        (line as u64, before[line_start..].chars().count() as u64 + 1)
    }

    fn close_one(&mut self) -> Node<'a> {
        let depth = self.open.len();
        self.open.pop();
        while self.bindings.last().is_some_and(|b| b.0 >= depth) {
            self.bindings.pop();
        }
        while self.bases.len() > 1 && self.bases[self.bases.len() - 1].0 >= depth {
            self.bases.pop();
        }
        Node::End
    }

    /// The next node, or None at the end of input (or after an unrecoverable error).
    pub fn next_node(&mut self) -> Option<Node<'a>> {
        loop {
            if self.ends_due > 0 {
                self.ends_due -= 1;
                return Some(self.close_one());
            }
            if self.after_markup
                && self.own_tags
                && let Some(event) = self.tag_ahead()
            {
                match event {
                    Event::Start(start) => return Some(self.start(start)),
                    Event::Empty(start) => {
                        self.ends_due = 1;
                        return Some(self.start(start));
                    }
                    Event::End(end) => {
                        self.end(end.name().into_inner());
                        continue;
                    }
                    _ => unreachable!("tag_ahead reads tags only"),
                }
            }
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(e) => {
                    if self.error.is_none() {
                        let offset = (self.reader.error_position() + self.skipped) as usize;
                        let tail = self.src.get(offset..).unwrap_or_default().trim();
                        let only_final_end_tag = tail.strip_prefix("</").is_some_and(|name| {
                            !name.contains(['<', '>'])
                                && self.open.last() == Some(&name_hash(name.trim()))
                        });
                        self.error = Some(XmlError {
                            offset,
                            message: e.to_string(),
                            only_final_end_tag,
                        });
                    }
                    Event::Eof
                }
            };
            self.after_markup =
                !matches!(event, Event::Text(_) | Event::GeneralRef(_) | Event::Eof);
            match event {
                Event::Start(start) | Event::Empty(start)
                    if !valid_name(start.name().into_inner()) =>
                {
                    // "a < b" in text: not a tag; give the characters back as text.
                    return Some(Node::Text(Cow::Owned(format!("<{}>", &*start))));
                }
                Event::Start(start) => return Some(self.start(start)),
                Event::Empty(start) => {
                    self.ends_due = 1;
                    return Some(self.start(start));
                }
                Event::End(end) => self.end(end.name().into_inner()),
                Event::Text(t) => match t.xml10_content() {
                    Cow::Borrowed("") => {}
                    s => return Some(Node::Text(s)),
                },
                Event::CData(t) => return Some(Node::Text(t.xml10_content())),
                Event::GeneralRef(r) => {
                    let predefined = match &*r {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    };
                    if !predefined.is_empty() {
                        return Some(Node::Text(Cow::Borrowed(predefined)));
                    }
                    let mut out = String::new();
                    self.push_ref(&mut out, &r);
                    return Some(Node::Text(Cow::Owned(out)));
                }
                Event::DocType(d) => self.entities = dtd_entities(&d),
                Event::Eof => {
                    if self.open.is_empty() {
                        return None;
                    }
                    self.cut_short = true;
                    self.ends_due = self.open.len();
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            }
        }
    }

    /// Steps over the whitespace that comes next, for a caller that ignores text there:
    /// between the elements of a feed, where the events would hand it out as text, found,
    /// checked as UTF-8 and line-end normalised, a node for every element. Not before the
    /// root element.
    pub fn skip_space(&mut self) {
        if self.open.is_empty() {
            return;
        }
        let rest = self.reader.get_ref();
        let n = rest.iter().take_while(|&&b| xml_space(b)).count();
        self.take(n);
    }

    /// Moves past the next `n` bytes behind quick-xml's back, counting them for the error
    /// positions it gives, which do not.
    fn take(&mut self, n: usize) {
        *self.reader.get_mut() = &self.reader.get_ref()[n..];
        self.skipped += n as u64;
    }

    /// The end tag of `name`: the open element it names and every element opened since
    /// are due to end; a name that matches none is dropped.
    fn end(&mut self, name: &str) {
        let hash = name_hash(name);
        // Looked for among the innermost few only, so that hostile nesting with stray end
        // tags stays linear.
        let window = self.open.len().saturating_sub(MATCH_WINDOW);
        if let Some(i) = self.open[window..]
            .iter()
            .rposition(|&h| h == hash)
            .map(|i| i + window)
        {
            self.ends_due = self.open.len() - i;
        }
    }

    /// A start, empty-element or end tag of the plainest kind at the very front of what is
    /// left, read here as quick-xml would have read it: a start tag whose name begins with
    /// an ASCII letter, `_` or `:`, up to the first `>` outside quotes; an end tag of a
    /// name and whitespace. quick-xml spent some 300 instructions on each (finding the
    /// tag, checking it again as UTF-8, keeping the open names). Called only while quick-xml
    /// is between markup and text (its last event was markup), the state it is in after
    /// any tag, so that reading one behind its back leaves it as it was; the bytes are
    /// counted for error positions ([`XmlReader::take`]).
    fn tag_ahead(&mut self) -> Option<Event<'a>> {
        let pos = self.src.len() - self.reader.get_ref().len();
        let text: &'a str = self.src.get(pos..)?;
        let b = text.as_bytes();
        if b.first() != Some(&b'<') {
            return None;
        }
        let (event, len) = match *b.get(1)? {
            b'/' => {
                // A quote, even in a name, opens a value to quick-xml, which then looks for
                // the `>` after it closes: the name stops there too, and such a tag, not
                // closed by the `>` that follows its name, is left to quick-xml.
                let name_len = b[2..]
                    .iter()
                    .position(|&c| xml_space(c) || matches!(c, b'>' | b'"' | b'\''))?;
                let after = 2 + name_len;
                let close = after + b[after..].iter().position(|&c| !xml_space(c))?;
                if name_len == 0 || b[close] != b'>' {
                    return None;
                }
                (Event::End(BytesEnd::new(&text[2..after])), close + 1)
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b':' => {
                let mut quote = None;
                let close = memchr::memchr3_iter(b'>', b'"', b'\'', &b[1..]).find(|&i| {
                    match (quote, b[1 + i]) {
                        (None, b'>') => return true,
                        (None, q) => quote = Some(q),
                        (Some(open), q) if open == q => quote = None,
                        _ => {}
                    }
                    false
                })? + 1;
                let content = &text[1..close];
                let (content, empty) = match content.strip_suffix('/') {
                    Some(content) => (content, true),
                    None => (content, false),
                };
                let name_len = content.bytes().position(xml_space).unwrap_or(content.len());
                let start = BytesStart::from_content(content, name_len);
                match empty {
                    true => (Event::Empty(start), close + 1),
                    false => (Event::Start(start), close + 1),
                }
            }
            _ => return None,
        };
        self.take(len);
        Some(event)
    }

    /// Appends what `&name;` stands for: a character or entity reference, an entity of the
    /// internal DTD subset, or — unknown, or no reference at all ("AT& T; x", where the
    /// tokeniser took everything up to the `;` as a name) — the characters as written.
    fn push_ref(&mut self, out: &mut String, name: &str) {
        if !text::push_entity(out, name) {
            match self.entities.iter().find(|(n, _)| n == name) {
                Some((_, v)) if v.len() <= self.entity_budget => {
                    self.entity_budget -= v.len();
                    out.push_str(v);
                }
                _ => {
                    out.push('&');
                    out.push_str(name);
                    out.push(';');
                }
            }
        }
    }

    /// Fast path for an element just started (not empty) whose content is only text,
    /// references and CDATA sections, as in nearly every title, link, date and escaped-HTML
    /// description: decodes everything up to its end tag into `out` in one pass, exactly as
    /// the events would have, and the end tag is the next node. Returns false, having
    /// consumed nothing, when the content holds any other markup.
    pub fn leaf_text(&mut self, out: &mut String) -> bool {
        let Some(&open) = self.open.last() else {
            return false;
        };
        let pos = self.src.len() - self.reader.get_ref().len();
        let Some(text) = self.src.get(pos..) else {
            return false;
        };
        let bytes = text.as_bytes();
        let mark = out.len();
        let mut i = 0;
        while let Some(lt) = memchr::memchr(b'<', &bytes[i..]).map(|lt| i + lt) {
            out.reserve(lt - i);
            self.push_text(out, &text[i..lt]);
            let tail = &text[lt..];
            if let Some(cdata) = tail.strip_prefix("<![CDATA[") {
                let Some(end) = cdata.find("]]>") else { break };
                push_eol_normalised(out, &cdata[..end]);
                i = lt + 9 + end + 3;
                continue;
            }
            // The name stops at a quote too, which quick-xml reads as opening a value: a tag
            // with one is then not taken here (a name `t"` does not match; an end tag
            // `</t"…>` of `t` is not closed by a `>` after its name).
            let name = tail.strip_prefix("</").map(|t| {
                &t[..t
                    .find(|c: char| matches!(c, '>' | '"' | '\'') || c.is_whitespace())
                    .unwrap_or(t.len())]
            });
            if let Some(name) = name
                && name_hash(name) == open
            {
                // The end tag too, when nothing but whitespace comes before its `>`: the
                // end node is then due, without quick-xml reading the tag again.
                let after = &tail[2 + name.len()..];
                let space = after.len() - after.trim_start_matches([' ', '\t', '\r', '\n']).len();
                let taken = match after[space..].starts_with('>') {
                    true => {
                        self.ends_due = 1;
                        lt + 2 + name.len() + space + 1
                    }
                    false => lt,
                };
                self.take(taken);
                return true;
            }
            break;
        }
        out.truncate(mark);
        false
    }

    /// Character data as the events give it: references resolved (a `&` that starts none is
    /// literal), line ends normalised.
    fn push_text(&mut self, out: &mut String, mut raw: &str) {
        while let Some(j) = find_amp_or_cr(raw.as_bytes()) {
            out.push_str(&raw[..j]);
            if raw.as_bytes()[j] == b'\r' {
                out.push('\n');
                raw = &raw[j + 1..];
                raw = raw.strip_prefix('\n').unwrap_or(raw);
                continue;
            }
            let after = &raw[j + 1..];
            // The references escaped HTML is made of, without looking further: a feed's
            // descriptions hold some twenty an item.
            let predefined = match after.as_bytes() {
                [b'l', b't', b';', ..] => Some(('<', 3)),
                [b'g', b't', b';', ..] => Some(('>', 3)),
                [b'a', b'm', b'p', b';', ..] => Some(('&', 4)),
                [b'q', b'u', b'o', b't', b';', ..] => Some(('"', 5)),
                _ => None,
            };
            if let Some((c, len)) = predefined {
                out.push(c);
                raw = &after[len..];
                continue;
            }
            match memchr::memchr2(b';', b'&', after.as_bytes()) {
                Some(k) if after.as_bytes()[k] == b';' => {
                    self.push_ref(out, &after[..k]);
                    raw = &after[k + 1..];
                }
                _ => {
                    out.push('&');
                    raw = after;
                }
            }
        }
        out.push_str(raw);
    }

    fn start(&mut self, start: BytesStart<'a>) -> Node<'a> {
        self.open.push(name_hash(start.name().into_inner()));
        let depth = self.open.len();
        // Declarations and xml:base are rare; skip the attribute walk when there are none.
        // Not `memmem`: making its searcher cost more than the search of a tag's attributes.
        let raw = start.attributes_raw().as_bytes();
        if !raw.is_empty() && memchr::memchr_iter(b'x', raw).any(|at| raw[at..].starts_with(b"xml"))
        {
            let el = Element {
                ns: Ns::None,
                empty: false,
                local_at: local_at(start.name().into_inner()),
                start,
            };
            for (key, value) in el.attrs() {
                let prefix = if key == "xmlns" {
                    Some("")
                } else {
                    key.strip_prefix("xmlns:")
                };
                if let Some(prefix) = prefix {
                    // Hostile documents declare thousands; lookups must stay cheap.
                    if self.bindings.len() < MAX_BINDINGS {
                        self.bindings
                            .push((depth, prefix.to_owned(), Ns::from_uri(&value)));
                    }
                } else if key == "xml:base"
                    && let Ok(url) = self.base().join(value.trim())
                {
                    self.bases.push((depth, Rc::new(url)));
                }
            }
            return self.resolved(el.start);
        }
        self.resolved(start)
    }

    fn resolved(&self, start: BytesStart<'a>) -> Node<'a> {
        let name = start.name().into_inner();
        let local = local_at(name);
        let ns = self.prefix_ns(&name[..local.saturating_sub(1)]);
        Node::Start(Element {
            ns,
            empty: self.ends_due > 0,
            local_at: local,
            start,
        })
    }

    /// The namespace `prefix` stands for on the element most recently started (declared
    /// there or above, else by convention); the empty prefix is the default namespace. An
    /// attribute's prefix resolves the same way (an unprefixed attribute has none).
    pub fn prefix_ns(&self, prefix: &str) -> Ns {
        let same = |b: &&(usize, String, Ns)| {
            b.1.len() == prefix.len() && (prefix.is_empty() || b.1 == prefix)
        };
        match self.bindings.iter().rev().find(same) {
            Some(b) => b.2,
            None if prefix.is_empty() => Ns::None,
            None => Ns::from_prefix(prefix),
        }
    }
}

/// Where the local part of the qualified `name` begins: after its first colon, as in
/// quick-xml's `local_name` (which searches for a `char`: slower on a name this short).
fn local_at(name: &str) -> usize {
    name.bytes()
        .position(|b| b == b':')
        .map_or(0, |colon| colon + 1)
}

fn push_eol_normalised(out: &mut String, mut s: &str) {
    while let Some(j) = memchr::memchr(b'\r', s.as_bytes()) {
        out.push_str(&s[..j]);
        out.push('\n');
        s = &s[j + 1..];
        s = s.strip_prefix('\n').unwrap_or(s);
    }
    out.push_str(s);
}

/// XML's whitespace: space, tab, CR and LF.
fn xml_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Whether a start tag's name can begin an element (quick-xml ends names at whitespace).
fn valid_name(name: &str) -> bool {
    name.as_bytes()
        .first()
        .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80)
}

/// `<!ENTITY name "value">` declarations of an internal subset (parameter entities and
/// external entities are ignored; values have their character references decoded).
fn dtd_entities(doctype: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for decl in doctype.split("<!ENTITY").skip(1).take(MAX_ENTITIES) {
        let decl = decl.trim_start();
        if decl.starts_with('%') {
            continue;
        }
        let Some((name, rest)) = decl.split_once(char::is_whitespace) else {
            continue;
        };
        let rest = rest.trim_start();
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        if let Some(value) = rest[1..]
            .split(quote)
            .next()
            .filter(|v| v.len() <= MAX_ENTITY_LEN)
        {
            out.push((name.to_owned(), text::unescape(value).into_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wherever the first `&` or `\r` is, inside the first sixteen bytes or past them, or
    /// in a text shorter than that, it is the one found.
    #[test]
    fn the_first_ampersand_or_carriage_return_is_found_anywhere() {
        for len in [0, 1, 15, 16, 17, 31, 32, 33, 70] {
            let plain = "a".repeat(len);
            assert_eq!(find_amp_or_cr(plain.as_bytes()), None, "{len}");
            for at in 0..len {
                for (mark, second) in [(b'&', b'\r'), (b'\r', b'&')] {
                    let mut text = plain.clone().into_bytes();
                    text[at] = mark;
                    if at + 1 < len {
                        text[at + 1..]
                            .iter_mut()
                            .step_by(3)
                            .for_each(|c| *c = second);
                    }
                    assert_eq!(find_amp_or_cr(&text), Some(at), "{len} {at}");
                }
            }
        }
    }

    /// The stream as a compact string: `<ns:local>` for starts, `</>` for ends, text as is.
    fn dump(src: &str) -> String {
        let base = Url::parse("http://example.org/feed").unwrap();
        let mut r = XmlReader::new(src, &base);
        let mut out = String::new();
        while let Some(node) = r.next_node() {
            match node {
                Node::Start(e) => out.push_str(&format!("<{:?}:{}>", e.ns, e.local())),
                Node::End => out.push_str("</>"),
                Node::Text(t) => out.push_str(&t),
            }
        }
        out
    }

    #[test]
    fn entities_bare_ampersands_and_forbidden_references() {
        assert_eq!(
            dump("<a>AT&T &amp; caf&eacute;&nbsp;x &#1;&#65;</a>"),
            "<None:a>AT&T & café\u{a0}x A</>"
        );
        assert_eq!(dump("<a>x & y; z</a>"), "<None:a>x & y; z</>");
        assert_eq!(dump("<a>&unknown;</a>"), "<None:a>&unknown;</>");
    }

    #[test]
    fn cdata_is_kept_verbatim() {
        assert_eq!(
            dump("<a><![CDATA[a & b <i>x</i> &amp;]]></a>"),
            "<None:a>a & b <i>x</i> &amp;</>"
        );
    }

    #[test]
    fn namespaces_declared_and_conventional() {
        let src = r#"<rss xmlns:d="http://purl.org/dc/elements/1.1/"><d:creator/><dc:date/><atom:link/><x:y/></rss>"#;
        assert_eq!(
            dump(src),
            "<None:rss><Dc:creator></><Dc:date></><Atom10:link></><Other:y></></>"
        );
        let src = r#"<feed xmlns="http://www.w3.org/2005/Atom"><div xmlns="http://www.w3.org/1999/xhtml"/><title/></feed>"#;
        assert_eq!(dump(src), "<Atom10:feed><Xhtml:div></><Atom10:title></></>");
        // The prefix ends at the first colon; an empty one is the default namespace.
        let src = r#"<rss xmlns:d="http://purl.org/dc/elements/1.1/"><d:a:b/><:c/><e:/></rss>"#;
        assert_eq!(dump(src), "<None:rss><Dc:a:b></><None:c></><Other:></></>");
    }

    #[test]
    fn several_attributes_are_found_as_one_at_a_time() {
        let base = Url::parse("http://example.org/").unwrap();
        let src = r#"<r><a rel=" alternate " href="x&amp;y" type="text/html" rel="b"/><b/><c href='u' x:rel="p" z=""/></r>"#;
        let mut r = XmlReader::new(src, &base);
        let names = ["rel", "type", "href", "x:rel", "z", "none", "rel"];
        let mut elements = 0;
        while let Some(node) = r.next_node() {
            if let Node::Start(e) = node {
                elements += 1;
                let one_at_a_time = names.map(|n| e.attr(n));
                assert_eq!(e.attrs_named(names), one_at_a_time, "{}", e.local());
                assert_eq!(e.attrs_named(["href"]), [e.attr("href")]);
            }
        }
        assert_eq!(elements, 4);
        let mut r = XmlReader::new(src, &base);
        r.next_node();
        let Some(Node::Start(a)) = r.next_node() else {
            panic!("no <a>")
        };
        let found = a.attrs_named(["href", "rel", "type"]);
        assert_eq!(
            found.map(|v| v.map(|v| v.into_owned())),
            [
                Some("x&y".to_owned()),
                Some("alternate".to_owned()),
                Some("text/html".to_owned())
            ]
        );
    }

    #[test]
    fn attribute_prefixes_resolve_in_scope() {
        let base = Url::parse("http://example.org/").unwrap();
        let src = r#"<a xmlns:r="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><b xmlns:r="http://example.com/x"/><c/></a>"#;
        let mut r = XmlReader::new(src, &base);
        let mut seen = Vec::new();
        while let Some(node) = r.next_node() {
            if let Node::Start(e) = node {
                seen.push((e.local().to_owned(), r.prefix_ns("r"), r.prefix_ns("rdf")));
            }
        }
        let s = |l: &str, r, rdf| (l.to_owned(), r, rdf);
        assert_eq!(
            seen,
            [
                s("a", Ns::Rdf, Ns::Rdf),
                s("b", Ns::Other, Ns::Rdf),
                s("c", Ns::Rdf, Ns::Rdf)
            ]
        );
    }

    #[test]
    fn mismatched_and_unclosed_tags_recover() {
        assert_eq!(
            dump("<a><b>x</a><c>y</c>"),
            "<None:a><None:b>x</></><None:c>y</>"
        );
        assert_eq!(dump("<a><b>x</q></b>"), "<None:a><None:b>x</></>");
        assert_eq!(dump("<a><b>x"), "<None:a><None:b>x</></>");
        // A stray `<` swallows up to the next `>`; the text survives, the tag it ate is lost.
        assert_eq!(dump("<a>1 < 2</a>"), "<None:a>1 < 2</a></>");
    }

    #[test]
    fn xml_base_scopes() {
        let base = Url::parse("http://example.org/dir/feed").unwrap();
        let mut r = XmlReader::new(r#"<a xml:base="sub/"><b xml:base="/x/"/><c/></a>"#, &base);
        let mut seen = Vec::new();
        while let Some(node) = r.next_node() {
            if let Node::Start(e) = node {
                seen.push(format!("{}={}", e.local(), r.base()));
            }
        }
        assert_eq!(
            seen,
            [
                "a=http://example.org/dir/sub/",
                "b=http://example.org/x/",
                "c=http://example.org/dir/sub/"
            ]
        );
    }

    #[test]
    fn internal_dtd_entities() {
        let src =
            "<!DOCTYPE rss [<!ENTITY who \"Mark &amp; co\"><!ENTITY % p 'x'>]><rss>&who;</rss>";
        assert_eq!(dump(src), "<None:rss>Mark & co</>");
    }

    /// Text read by the fast path, end tag included, is what the events give.
    #[test]
    fn leaf_text_reads_as_the_events_do() {
        let base = Url::parse("http://example.org/").unwrap();
        let read = |src: &str, fast: bool| {
            let mut r = XmlReader::new(src, &base);
            let mut out = String::new();
            let mut taken = 0;
            while let Some(node) = r.next_node() {
                match node {
                    Node::Start(e) => {
                        out.push_str(&format!("<{}>", e.local()));
                        if fast && !e.empty && r.leaf_text(&mut out) {
                            taken += 1;
                        }
                    }
                    Node::End => out.push_str("</>"),
                    Node::Text(t) => out.push_str(&t),
                }
            }
            let error = r.error.as_ref().map(|e| (e.offset, e.only_final_end_tag));
            ((out, error, r.cut_short), taken)
        };
        for (src, leaves) in [
            ("<a><t>x &amp; y</t><u>1\r\n2</u></a>", 2),
            ("<a><t><![CDATA[<b>]]> &lt;i&gt;</t ><t>q</t\n\t></a>", 2),
            ("<a><t>x</t y><t>z</u></t></a>", 1),
            ("<a><t>x<b>y</b></t></a>", 1),
            ("<a><t>x</a>", 0),
            ("<a><t>x &bogus; &#1; &#x41;", 0),
            ("<a><t>x</t", 1),
            ("<a><t>x</t\u{a0}></a>", 1),
            ("<a><t>x</t></a><junk>", 1),
            (
                "<a><t>&quot;q&quot; &lt &ltx; &gt;&amp;amp; &amp&#60;</t></a>",
                1,
            ),
            (r#"<a><t" x=">v</t"></a>"#, 0),
            ("<a><t'>v</t'><u>w</u>'></a>", 1),
        ] {
            let (fast, taken) = read(src, true);
            assert_eq!(fast, read(src, false).0, "{src:?}");
            assert_eq!(taken, leaves, "{src:?}");
        }
    }

    /// Attributes are read as quick-xml's `html_attributes` reads them (without its
    /// duplicate check, up to its first error), over every short string of the bytes that
    /// matter to it and random longer ones.
    #[test]
    fn attributes_read_as_quick_xml_does() {
        let quick = |s: &str| -> Vec<(String, String)> {
            let start = BytesStart::from_content(format!("t {s}"), 1);
            let mut attrs = start.html_attributes();
            attrs.with_checks(false);
            attrs
                .map_while(Result::ok)
                .map(|a| {
                    let key = a.key.into_inner().to_owned();
                    (key, a.value.into_owned())
                })
                .collect()
        };
        let ours = |s: &str| -> Vec<(String, String)> {
            RawAttrs { s, at: 0 }
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        let alphabet = ["a", "b", "=", " ", "\t", "\n", "\"", "'", "é", ":"];
        let mut strings = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = strings
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(longer);
        }
        strings.dedup();
        let mut rng = crate::testing::Rng(0x05ee_da77_ab00_b1e5);
        for _ in 0..20_000 {
            let len = rng.below(24);
            strings.push((0..len).map(|_| rng.pick(&alphabet)).collect());
        }
        for s in &strings {
            assert_eq!(ours(s), quick(s), "{s:?}");
        }
        assert_eq!(
            ours(r#" rel="alternate"  type = 'text/html' href=x checked"#),
            [
                ("rel".to_owned(), "alternate".to_owned()),
                ("type".to_owned(), "text/html".to_owned()),
                ("href".to_owned(), "x".to_owned()),
                ("checked".to_owned(), String::new()),
            ]
        );
    }

    /// Tags read by `tag_ahead` come out as quick-xml's do: the same nodes, names,
    /// attributes and errors, over the feed fixtures and over odd and broken tags.
    #[test]
    fn own_tags_read_as_quick_xml_does() {
        let base = Url::parse("http://example.org/").unwrap();
        let read = |src: &str, own: bool| {
            let mut r = XmlReader::new(src, &base);
            r.own_tags = own;
            let mut out = String::new();
            while let Some(node) = r.next_node() {
                match node {
                    Node::Start(e) => {
                        out.push_str(&format!("<{:?}:{}:{}", e.ns, e.qname(), e.empty));
                        for (k, v) in e.attrs() {
                            out.push_str(&format!(" {k}={v:?}"));
                        }
                        out.push_str(&format!(" @{}>", r.base()));
                    }
                    Node::End => out.push_str("</>"),
                    Node::Text(t) => out.push_str(&format!("{t:?}")),
                }
            }
            let error = r.error.as_ref().map(|e| (e.offset, e.only_final_end_tag));
            (out, error, r.cut_short)
        };
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds");
        let mut documents: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|f| {
                String::from_utf8_lossy(&std::fs::read(f.unwrap().path()).unwrap()).into_owned()
            })
            .collect();
        assert!(documents.len() >= 7);
        for snippet in [
            r#"<a b=">" c='"'><d e='>'/><f g="'>'"></f></a>"#,
            "<a><b/ ><c /><d\t/><e\n></e\n\t></a >",
            "<a></ a></a x></b></a>",
            "<a><1b>x</1b><é>y</é><_c:d>z</_c:d></a>",
            "<a><!-- c --><?pi x?><![CDATA[<b>]]><b>&amp;</b></a>",
            "<!DOCTYPE a [<!ENTITY e 'v'>]><a>&e;<b>&e;</b></a>",
            r#"<a xmlns:x="http://purl.org/dc/elements/1.1/" xml:base="http://b.example/"><x:b xml:base="c/">t</x:b><y:c/></a>"#,
            r#"<a><b c="x"#,
            "<a><b",
            "<a><b></b",
            "<a>\n  <b>x</b>\n  <c",
            "<a><b>x</c></b></a>",
            "<a><b>x</b></a></a><junk/>",
            r#"<a></a">"#,
            "<r></r\"><x/>",
            "<a></a'><b/>'>",
        ] {
            documents.push(snippet.to_owned());
        }
        for src in &documents {
            assert_eq!(read(src, true), read(src, false), "{src:.200}");
        }
    }

    #[test]
    fn whitespace_skipped_between_elements_changes_nothing_else() {
        let base = Url::parse("http://example.org/").unwrap();
        let read = |src: &str, skip: bool| {
            let mut r = XmlReader::new(src, &base);
            let mut out = String::new();
            loop {
                if skip {
                    r.skip_space();
                }
                let Some(node) = r.next_node() else { break };
                match node {
                    Node::Start(e) => out.push_str(&format!("<{}>", e.local())),
                    Node::End => out.push_str("</>"),
                    Node::Text(t) => out.push_str(t.trim()),
                }
            }
            let error = r.error.as_ref().map(|e| (e.offset, e.only_final_end_tag));
            (out, error, r.cut_short)
        };
        for src in [
            " \n<?xml version='1.0'?>\n<rss>\r\n <c>\n <i> <t>a</t>\t<e/> &amp; x <![CDATA[ y ]]> </i>\n</c> </rss>\n",
            "<a>\n  <b>x</b>\n  <c",
            "<a>\n  <b>x</b>\n  </a",
            "<a> <b> </x> </b>  ",
            "<a>\r\n\t</a>  <junk/>",
        ] {
            let (skipping, plain) = (read(src, true), read(src, false));
            assert_eq!(skipping, plain, "{src:?}");
        }
        // Whitespace is not read as text before the root element.
        let mut r = XmlReader::new("  <a/>", &base);
        r.skip_space();
        assert!(matches!(r.next_node(), Some(Node::Text(_))));
    }

    #[test]
    fn syntax_errors_end_the_stream_with_a_position() {
        let base = Url::parse("http://example.org/").unwrap();
        let mut r = XmlReader::new("<a>\n  <b>x</b>\n  <c", &base);
        while r.next_node().is_some() {}
        let err = r.error.as_ref().map(|e| r.line_column(e.offset));
        assert_eq!(err, Some((3, 3)));
    }
}
