//! The fast path of sanitising: the simple HTML most feeds carry, written out as ammonia
//! would write it, without building a tree.
//!
//! Paragraphs, lists, quotes, code, headings, links and pictures, every element closed
//! explicitly and in order, text with plain entities: for such HTML the tree html5ever
//! builds is the tag structure as written, so ammonia's output follows from the tokens
//! alone. The same allow-lists apply (read from the same configured [`Builder`]), the same
//! URL rules, and the same escaping as html5ever's serialiser. Anything outside that subset
//! makes [`clean`] give up with `None` and the caller runs ammonia: a tag not listed in
//! [`TAGS`], an end tag the parser would have to imply or repair, a block inside a
//! paragraph, a comment, a doctype, an entity that is not spelled out in full, a relative
//! URL that cannot be joined. Giving up is always safe; only what is accepted must match,
//! and debug builds check that it does on every input by running ammonia as well.

use std::borrow::Cow;

use ammonia::Builder;
use foldhash::{HashMap, HashMapExt, HashSet};
use url::Url;

use super::feedxml::plain_web_url;

/// Where an element may open and what it may hold, in terms of html5ever's tree builder.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// No content and no end tag; opens wherever text may go (`br`, `img`, `wbr`).
    Void,
    /// Void, but it closes an open `p`: opens only where blocks may (`hr`).
    VoidBlock,
    /// Holds text and phrasing; opens wherever text may go (`em`, `a`, `code` …).
    Phrase,
    /// Holds text and phrasing; opens only where blocks may (`p`, headings, `pre`).
    Paragraph,
    /// Holds anything; opens only where blocks may (`div`, `blockquote` …).
    Flow,
    /// Holds `li` and text; opens only where blocks may (`ul`, `ol`).
    List,
    /// Holds anything; opens only directly inside a [`Kind::List`] (`li`).
    Item,
}

/// The elements the fast path knows. None of them is one html5ever closes by itself, moves,
/// or renames as long as the nesting rules of [`Kind`] hold; an element ammonia does not
/// keep is dropped from this list when the [`Policy`] is made.
const TAGS: [(&str, Kind); 46] = [
    ("br", Kind::Void),
    ("img", Kind::Void),
    ("wbr", Kind::Void),
    ("hr", Kind::VoidBlock),
    ("a", Kind::Phrase),
    ("abbr", Kind::Phrase),
    ("b", Kind::Phrase),
    ("bdi", Kind::Phrase),
    ("cite", Kind::Phrase),
    ("code", Kind::Phrase),
    ("data", Kind::Phrase),
    ("del", Kind::Phrase),
    ("dfn", Kind::Phrase),
    ("em", Kind::Phrase),
    ("i", Kind::Phrase),
    ("ins", Kind::Phrase),
    ("kbd", Kind::Phrase),
    ("mark", Kind::Phrase),
    ("q", Kind::Phrase),
    ("s", Kind::Phrase),
    ("samp", Kind::Phrase),
    ("small", Kind::Phrase),
    ("span", Kind::Phrase),
    ("strong", Kind::Phrase),
    ("sub", Kind::Phrase),
    ("sup", Kind::Phrase),
    ("time", Kind::Phrase),
    ("u", Kind::Phrase),
    ("var", Kind::Phrase),
    ("p", Kind::Paragraph),
    ("h1", Kind::Paragraph),
    ("h2", Kind::Paragraph),
    ("h3", Kind::Paragraph),
    ("h4", Kind::Paragraph),
    ("h5", Kind::Paragraph),
    ("h6", Kind::Paragraph),
    ("pre", Kind::Paragraph),
    ("div", Kind::Flow),
    ("blockquote", Kind::Flow),
    ("figure", Kind::Flow),
    ("figcaption", Kind::Flow),
    ("article", Kind::Flow),
    ("aside", Kind::Flow),
    ("ul", Kind::List),
    ("ol", Kind::List),
    ("li", Kind::Item),
];

/// Deeper than this, the caller's own guard against pathological nesting decides.
const MAX_OPEN: usize = 256;

/// What ammonia keeps, read from its configured [`Builder`]: per element of [`TAGS`] that it
/// keeps, the attributes it keeps there; and the URL schemes it lets through.
///
/// Its sets hash with foldhash rather than std's SipHash: they are looked up for every tag
/// and attribute of every item, and their keys are ammonia's, not the feed's.
pub struct Policy {
    tags: HashMap<&'static str, (Kind, HashSet<&'static str>)>,
    schemes: HashSet<&'static str>,
    /// What relative URLs are joined to; `None`: they are dropped.
    base: Option<Url>,
}

impl Policy {
    /// The policy of `builder`; `None` when it uses a feature the fast path does not mirror
    /// (attribute prefixes, allowed classes, attributes it sets or adds, comments kept,
    /// relative URLs other than joined to a base or dropped). Two settings cannot be read
    /// back. The attribute filter: syndic's rewrites only `fill` and `stroke`, and an
    /// element that keeps either is left out here. Style filtering: syndic sets none, and
    /// an element that keeps `style` is left out too.
    pub fn new(builder: &Builder<'static>) -> Option<Policy> {
        if builder.clone_generic_attribute_prefixes().is_some()
            || !builder.clone_allowed_classes().is_empty()
            || !builder.clone_set_tag_attribute_values().is_empty()
            || builder.get_link_rel().is_some()
            || !builder.will_strip_comments()
            || !(builder.is_url_relative_deny() || builder.is_url_relative_rewrite_with_base())
        {
            return None;
        }
        let kept = builder.clone_tags();
        let emptied = builder.clone_clean_content_tags();
        let generic = builder.clone_generic_attributes();
        let per_tag = builder.clone_tag_attributes();
        let valued = builder.clone_tag_attribute_values();
        let mut tags = HashMap::new();
        for (tag, kind) in TAGS {
            if !kept.contains(tag) || emptied.contains(tag) || valued.contains_key(tag) {
                continue;
            }
            let mut attrs: HashSet<&'static str> = generic.iter().copied().collect();
            attrs.extend(per_tag.get(tag).into_iter().flatten().copied());
            // `id` is prefixed, `fill` and `stroke` filtered, `style` perhaps: not mirrored.
            if ["id", "fill", "stroke", "style"]
                .iter()
                .any(|a| attrs.contains(a))
            {
                continue;
            }
            tags.insert(tag, (kind, attrs));
        }
        Some(Policy {
            tags,
            schemes: builder.clone_url_schemes().into_iter().collect(),
            base: builder.url_relative_base().cloned(),
        })
    }

    /// Takes up the base `builder` now joins relative URLs to (the rest of a builder's
    /// settings do not change once it is made).
    pub fn rebase(&mut self, builder: &Builder<'static>) {
        self.base = builder.url_relative_base().cloned();
    }
}

/// `html` as ammonia under `policy` would write it (before any trimming); `None` when
/// `html` is outside the simple subset.
pub fn clean(html: &str, policy: &Policy) -> Option<String> {
    let base = policy.base.as_ref();
    // html5ever drops a byte-order mark that starts its input…
    let html = html.strip_prefix('\u{FEFF}').unwrap_or(html);
    // …and reads CR LF and a lone CR as LF before it tokenises.
    let html: Cow<str> = if html.contains('\r') {
        Cow::Owned(html.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(html)
    };
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut open: Vec<(&'static str, Kind)> = Vec::new();
    // Right after `<pre>` the parser drops a newline: not mirrored.
    let mut after_pre = false;
    let mut i = 0;
    while i < b.len() {
        if after_pre && b[i] == b'\n' {
            return None;
        }
        after_pre = false;
        match b[i] {
            b'&' => {
                let (text, len) = char_ref(&html[i..])?;
                if text.as_str().starts_with('\n') {
                    return None;
                }
                push_escaped(&mut out, text.as_str(), false);
                i += len;
            }
            b'<' if b.get(i + 1) == Some(&b'/') => {
                let (name, len) = end_tag(&html[i..])?;
                match open.pop() {
                    Some((tag, kind)) if tag == name.as_ref() && kind != Kind::Void => {
                        out.push_str("</");
                        out.push_str(tag);
                        out.push('>');
                    }
                    _ => return None,
                }
                i += len;
            }
            b'<' => {
                let tag = start_tag(&html[i..])?;
                let (name, (kind, allowed)) = policy.tags.get_key_value(tag.name.as_ref())?;
                let context = open.last().map(|&(_, k)| k);
                let blocks_here = matches!(context, None | Some(Kind::Flow | Kind::Item));
                let text_here =
                    blocks_here || matches!(context, Some(Kind::Paragraph | Kind::Phrase));
                let fits = match kind {
                    Kind::Void => text_here,
                    // A link inside a link is taken apart by the parser.
                    Kind::Phrase => {
                        text_here && (*name != "a" || !open.iter().any(|&(t, _)| t == "a"))
                    }
                    Kind::VoidBlock | Kind::Paragraph | Kind::Flow | Kind::List => blocks_here,
                    Kind::Item => context == Some(Kind::List),
                };
                let void = matches!(kind, Kind::Void | Kind::VoidBlock);
                if !fits || (tag.self_closing && !void) || open.len() >= MAX_OPEN {
                    return None;
                }
                out.push('<');
                out.push_str(name);
                for (attr, value) in &tag.attrs {
                    if !allowed.contains(attr.as_ref()) {
                        continue;
                    }
                    let Some(value) = url_checked(name, attr, value, &policy.schemes, base)? else {
                        continue;
                    };
                    out.push(' ');
                    out.push_str(attr);
                    out.push_str("=\"");
                    push_escaped(&mut out, &value, true);
                    out.push('"');
                }
                out.push('>');
                if !void {
                    open.push((name, *kind));
                }
                after_pre = *name == "pre";
                i += tag.len;
            }
            _ => {
                let end = memchr::memchr2(b'<', b'&', &b[i..]).map_or(b.len(), |n| i + n);
                push_escaped(&mut out, &html[i..end], false);
                i = end;
            }
        }
    }
    open.is_empty().then_some(out)
}

/// A start tag as html5ever tokenises it: lower-cased names, decoded values (borrowed from
/// the HTML when it has them already, as nearly every tag does).
struct StartTag<'a> {
    name: Cow<'a, str>,
    attrs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    self_closing: bool,
    /// Bytes from `<` to `>`, both included.
    len: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0C')
}

/// The ASCII-alphanumeric name starting at `s[at..]`, lower-cased, and where it ends.
fn name_at(s: &str, at: usize) -> (Cow<'_, str>, usize) {
    let end = s.as_bytes()[at..]
        .iter()
        .position(|c| !c.is_ascii_alphanumeric())
        .map_or(s.len(), |n| at + n);
    (lower(&s[at..end]), end)
}

/// `name` in ASCII lower case; borrowed when it is already.
fn lower(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|c| c.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// `</name>` with optional spaces before `>`: the name and the length.
fn end_tag(s: &str) -> Option<(Cow<'_, str>, usize)> {
    let b = s.as_bytes();
    if !b.get(2)?.is_ascii_alphabetic() {
        return None;
    }
    let (name, mut at) = name_at(s, 2);
    while b.get(at).copied().is_some_and(is_space) {
        at += 1;
    }
    (*b.get(at)? == b'>').then_some((name, at + 1))
}

/// The start tag at the beginning of `s` (which starts with `<`), when it is written plainly:
/// attribute names of letters, digits, `-` and `_`, each once; values quoted or bare; a space
/// between attributes; `/` only just before `>`.
fn start_tag(s: &str) -> Option<StartTag<'_>> {
    let b = s.as_bytes();
    if !b.get(1)?.is_ascii_alphabetic() {
        return None;
    }
    let (name, mut at) = name_at(s, 1);
    let mut attrs: Vec<(Cow<str>, Cow<str>)> = Vec::new();
    loop {
        let spaced = b.get(at).copied().is_some_and(is_space);
        while b.get(at).copied().is_some_and(is_space) {
            at += 1;
        }
        match *b.get(at)? {
            b'>' => {
                return Some(StartTag {
                    name,
                    attrs,
                    self_closing: false,
                    len: at + 1,
                });
            }
            b'/' => {
                return (*b.get(at + 1)? == b'>').then_some(StartTag {
                    name,
                    attrs,
                    self_closing: true,
                    len: at + 2,
                });
            }
            _ if !spaced => return None,
            _ => {}
        }
        let start = at;
        while b
            .get(at)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
        {
            at += 1;
        }
        if at == start || !b[start].is_ascii_alphabetic() {
            return None;
        }
        let attr = lower(&s[start..at]);
        let mut eq = at;
        while b.get(eq).copied().is_some_and(is_space) {
            eq += 1;
        }
        let value = if b.get(eq) == Some(&b'=') {
            at = eq + 1;
            while b.get(at).copied().is_some_and(is_space) {
                at += 1;
            }
            let (raw, next) = match *b.get(at)? {
                q @ (b'"' | b'\'') => {
                    let close = memchr::memchr(q, &b[at + 1..])? + at + 1;
                    (&s[at + 1..close], close + 1)
                }
                _ => {
                    let end = b[at..]
                        .iter()
                        .position(|&c| is_space(c) || c == b'>')
                        .map_or(b.len(), |n| at + n);
                    let raw = &s[at..end];
                    if raw.is_empty() || raw.contains(['"', '\'', '<', '=', '`']) {
                        return None;
                    }
                    (raw, end)
                }
            };
            at = next;
            attribute_value(raw)?
        } else {
            Cow::Borrowed("")
        };
        if attrs.iter().any(|(a, _)| *a == attr) {
            return None;
        }
        attrs.push((attr, value));
    }
}

/// An attribute's value with its character references decoded; borrowed when it has none.
fn attribute_value(raw: &str) -> Option<Cow<'_, str>> {
    if memchr::memchr(b'&', raw.as_bytes()).is_none() {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = memchr::memchr(b'&', rest.as_bytes()) {
        out.push_str(&rest[..amp]);
        let (text, len) = char_ref(&rest[amp..])?;
        out.push_str(text.as_str());
        rest = &rest[amp + len..];
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

/// The text of a character reference: at most two characters, kept inline.
struct RefText {
    bytes: [u8; 8],
    len: usize,
}

impl RefText {
    fn new() -> RefText {
        RefText {
            bytes: [0; 8],
            len: 0,
        }
    }

    fn one(c: char) -> RefText {
        let mut text = RefText::new();
        text.push(c);
        text
    }

    fn push(&mut self, c: char) {
        self.len += c.encode_utf8(&mut self.bytes[self.len..]).len();
    }

    fn as_str(&self) -> &str {
        // Only whole characters are ever written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// The character reference at the start of `s` (which starts with `&`): its text and
/// length. A `&` that cannot start one is itself; a reference is read only when it ends
/// with `;` and stands for characters html5ever passes through unchanged. `None` for
/// anything else, where html5ever's rules for legacy names, unterminated and out-of-range
/// references apply.
fn char_ref(s: &str) -> Option<(RefText, usize)> {
    let b = s.as_bytes();
    match b.get(1) {
        Some(b'#') => {
            let (digits, radix, from) = match b.get(2) {
                Some(b'x' | b'X') => (&b[3..], 16, 3),
                _ => (&b[2..], 10, 2),
            };
            let n = digits.iter().take_while(|c| c.is_ascii_hexdigit()).count();
            let n = if radix == 10 {
                digits.iter().take_while(|c| c.is_ascii_digit()).count()
            } else {
                n
            };
            if n == 0 || n > 7 || digits.get(n) != Some(&b';') {
                return None;
            }
            let code = u32::from_str_radix(&s[from..from + n], radix).ok()?;
            let c = char::from_u32(code).filter(|&c| plain_char(c))?;
            Some((RefText::one(c), from + n + 1))
        }
        Some(c) if c.is_ascii_alphanumeric() => {
            let n = b[1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            if b.get(1 + n) != Some(&b';') {
                return None;
            }
            let key = &s[1..n + 2];
            let &(first, second) = markup5ever::data::NAMED_ENTITIES.get(key)?;
            let mut text = RefText::new();
            for code in [first, second].into_iter().filter(|&c| c != 0) {
                text.push(char::from_u32(code).filter(|&c| plain_char(c))?);
            }
            (text.len > 0).then_some((text, n + 2))
        }
        _ => Some((RefText::one('&'), 1)),
    }
}

/// A character a numeric reference yields as itself: not NUL, a C0 or C1 control (other
/// than tab and line feed), a surrogate or a noncharacter, which html5ever replaces or
/// reports.
fn plain_char(c: char) -> bool {
    let n = c as u32;
    matches!(c, '\t' | '\n')
        || ((0x20..0x7F).contains(&n) || n >= 0xA0)
            && !(0xFDD0..=0xFDEF).contains(&n)
            && (n & 0xFFFE) != 0xFFFE
}

/// The value of attribute `attr` of `tag` as ammonia keeps it: `Some(None)` when it drops
/// it, `None` when the fast path gives up. A URL with an allowed scheme stays as written;
/// a relative one is joined to `base` (dropped without one); anything else is dropped.
fn url_checked<'v>(
    tag: &str,
    attr: &str,
    value: &'v str,
    schemes: &HashSet<&str>,
    base: Option<&Url>,
) -> Option<Option<Cow<'v, str>>> {
    let is_url = matches!(attr, "href" | "src") || (tag == "a" && attr == "ping");
    if !is_url {
        return Some(Some(Cow::Borrowed(value)));
    }
    // Most URLs in a feed's HTML are plain absolute http(s) ones, which url would accept
    // as they are: their scheme is all there is to check.
    if plain_web_url(value) {
        let scheme = if value.starts_with("https:") {
            "https"
        } else {
            "http"
        };
        return Some(schemes.contains(scheme).then_some(Cow::Borrowed(value)));
    }
    Some(match Url::parse(value) {
        Ok(url) => schemes
            .contains(url.scheme())
            .then_some(Cow::Borrowed(value)),
        Err(url::ParseError::RelativeUrlWithoutBase) => match base {
            // ammonia drops a relative URL it cannot join, but reorders the attributes
            // after it as it does.
            Some(base) => Some(Cow::Owned(String::from(base.join(value).ok()?))),
            None => None,
        },
        Err(_) => None,
    })
}

/// Escapes as html5ever's serialiser does: `&`, `<`, `>` and no-break spaces, and `"` in an
/// attribute.
fn push_escaped(out: &mut String, text: &str, attribute: bool) {
    let b = text.as_bytes();
    // The next byte to escape from `at`: `<`, `>` or `"` first, then `&` or the no-break
    // space's lead byte before it, as html5ever's serialiser looks, so each byte is read
    // about twice whatever the text holds.
    let next = |at: usize| {
        let stop = if attribute {
            memchr::memchr3(b'"', b'<', b'>', &b[at..])
        } else {
            memchr::memchr2(b'<', b'>', &b[at..])
        }
        .map_or(b.len(), |n| at + n);
        memchr::memchr2(b'&', 0xC2, &b[at..stop]).map_or(stop, |n| at + n)
    };
    let mut from = 0;
    let mut at = next(0);
    while at < b.len() {
        let (escaped, len) = match b[at] {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            // U+00A0 is C2 A0; other characters starting with C2 stay as they are.
            _ if b.get(at + 1) == Some(&0xA0) => ("&nbsp;", 2),
            _ => {
                at = next(at + 1);
                continue;
            }
        };
        out.push_str(&text[from..at]);
        out.push_str(escaped);
        from = at + len;
        at = next(from);
    }
    out.push_str(&text[from..]);
}

#[cfg(test)]
mod tests {
    use super::super::normalise::sanitiser_for_tests;
    use super::*;
    use crate::testing::Rng;

    fn policy(base: Option<&Url>) -> Policy {
        Policy::new(&sanitiser_for_tests(base)).unwrap()
    }

    #[test]
    fn writes_simple_html_as_ammonia_does() {
        let base = Url::parse("https://example.org/blog/post").unwrap();
        let p = policy(Some(&base));
        let cases = [
            (
                "<p>Hello <em>world</em> &amp; all &#8217; &mdash;</p>",
                "<p>Hello <em>world</em> &amp; all \u{2019} \u{2014}</p>",
            ),
            (
                "<ul>\n<li>one</li><li>two</li></ul>",
                "<ul>\n<li>one</li><li>two</li></ul>",
            ),
            (
                r#"<P CLASS="x" Title='a "b"'>x<br/>y</P>"#,
                r#"<p title="a &quot;b&quot;">x<br>y</p>"#,
            ),
            (
                r#"<a href="/x?a=1&amp;b=2" onclick="evil()">l</a><img src=pic.jpg alt="">"#,
                r#"<a href="https://example.org/x?a=1&amp;b=2">l</a><img src="https://example.org/blog/pic.jpg" alt="">"#,
            ),
            (r#"<a href="javascript:alert(1)">l</a>"#, "<a>l</a>"),
            ("a > b &lt; c\u{A0}d", "a &gt; b &lt; c&nbsp;d"),
            ("AT & T", "AT &amp; T"),
            // A named reference to two characters; references in an attribute's value.
            (
                r#"<p title="caf&#233; &amp; &lt;b&gt;">&NotEqualTilde;</p>"#,
                "<p title=\"caf\u{E9} &amp; &lt;b&gt;\">\u{2242}\u{338}</p>",
            ),
            // html5ever drops a byte-order mark at the start only.
            ("\u{FEFF}<p>x\u{FEFF}</p>", "<p>x\u{FEFF}</p>"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input, &p).as_deref(), Some(want), "{input}");
        }
        assert_eq!(
            clean(r#"<a href="rel">x</a>"#, &policy(None)).as_deref(),
            Some("<a>x</a>")
        );
    }

    const TEXT: [&str; 16] = [
        "text",
        " ",
        "\n",
        "&amp;",
        "&lt;b&gt;",
        "&#8217;",
        "&#x2014;",
        "&mdash;",
        "AT & T",
        "a > b",
        "\u{A0}",
        "caf\u{E9}",
        "\r\n",
        "&quot;q&quot;",
        "&notin;",
        "x=1&y;",
    ];
    const OPENERS: [&str; 14] = [
        "<a href=\"https://example.org/a?b=1&amp;c=2\">",
        "<a href=\"http://Example.ORG:8080/p#f\">",
        "<a href=\"HTTPS://example.org:99999/\">",
        "<a href=\"rel/page\" rel=\"nofollow\" class=x>",
        "<a href='javascript:alert(1)'>",
        "<a href=\"//cdn.example.net/x\" title=\"a &quot;t&quot;\">",
        "<a href=\"http://[bad\">",
        "<span lang=en dir=rtl style=\"color:red\">",
        "<q cite=\"https://example.org/q\">",
        "<abbr title=x>",
        "<time datetime=2024>",
        "<del cite=c datetime=d>",
        "<EM>",
        "<code class=\"lang-rust\">",
    ];
    const VOIDS: [&str; 6] = [
        "<br>",
        "<br/>",
        "<img src=\"pic.jpg\" alt=\"a picture\" width=10 height=\"20\" onerror=\"x()\">",
        "<img src=\"data:image/png;base64,AAAA\" alt=''>",
        "<wbr>",
        "<img src=https://example.org/p.png />",
    ];
    const PHRASES: [&str; 10] = [
        "b", "i", "em", "strong", "code", "small", "sub", "sup", "mark", "u",
    ];
    const BLOCKS: [&str; 12] = [
        "p",
        "h2",
        "h3",
        "pre",
        "div",
        "blockquote",
        "figure",
        "figcaption",
        "ul",
        "ol",
        "hr",
        "article",
    ];

    /// Phrasing content, `depth` levels deep at most.
    fn phrasing(r: &mut Rng, depth: usize, out: &mut String) {
        for _ in 0..r.below(4) {
            match r.below(6) {
                0 | 1 => out.push_str(r.pick(&TEXT)),
                2 => out.push_str(r.pick(&VOIDS)),
                3 if depth > 0 => {
                    let open = r.pick(&OPENERS);
                    let name = open[1..]
                        .split([' ', '>'])
                        .next()
                        .unwrap()
                        .to_ascii_lowercase();
                    out.push_str(open);
                    phrasing(r, depth - 1, out);
                    out.push_str(&format!("</{name}>"));
                }
                _ if depth > 0 => {
                    let name = r.pick(&PHRASES);
                    out.push_str(&format!("<{name}>"));
                    phrasing(r, depth - 1, out);
                    out.push_str(&format!("</{name}>"));
                }
                _ => out.push_str("word"),
            }
        }
    }

    /// Flow content, `depth` levels deep at most.
    fn flow(r: &mut Rng, depth: usize, out: &mut String) {
        for _ in 0..r.below(4) {
            let name = r.pick(&BLOCKS);
            match name {
                _ if depth == 0 || r.below(4) == 0 => phrasing(r, depth.min(2), out),
                "hr" => out.push_str("<hr>"),
                "ul" | "ol" => {
                    out.push_str(if name == "ol" {
                        "<ol start=3 type=a>"
                    } else {
                        "<ul>"
                    });
                    for _ in 0..r.below(3) {
                        out.push_str(r.pick(&["", "\n", " "]));
                        out.push_str("<li>");
                        flow(r, depth - 1, out);
                        out.push_str("</li>");
                    }
                    out.push_str(&format!("</{name}>"));
                }
                "p" | "h2" | "h3" | "pre" => {
                    out.push_str(&format!("<{name}>"));
                    phrasing(r, depth - 1, out);
                    out.push_str(&format!("</{name}>"));
                }
                _ => {
                    out.push_str(&format!("<{name}>"));
                    flow(r, depth - 1, out);
                    out.push_str(&format!("</{name}>"));
                }
            }
        }
    }

    /// Well-formed markup, some of it broken on purpose (a tag dropped, moved or doubled),
    /// with and without a base: wherever the fast path accepts it, ammonia must agree.
    #[test]
    fn agrees_with_ammonia_on_generated_markup() {
        let base = Url::parse("https://example.org/dir/item").unwrap();
        let with_base = sanitiser_for_tests(Some(&base));
        let without = sanitiser_for_tests(None);
        let policies = [
            Policy::new(&with_base).unwrap(),
            Policy::new(&without).unwrap(),
        ];
        let mut r = Rng(0x5eed_1234_abcd_9876);
        let (mut accepted, total) = (0, 3000);
        for case in 0..total {
            let mut html = String::new();
            flow(&mut r, 4, &mut html);
            if case % 3 == 0 && !html.is_empty() {
                // Break it: cut at a random byte boundary, or repeat a slice of it.
                let at = (0..=html.len())
                    .filter(|&i| html.is_char_boundary(i))
                    .nth(r.below(html.len()))
                    .unwrap_or(0);
                if r.below(2) == 0 {
                    html.truncate(at);
                } else {
                    let dup = html[at..].to_string();
                    html.push_str(&dup);
                }
            }
            for (builder, policy) in [(&with_base, &policies[0]), (&without, &policies[1])] {
                if let Some(fast) = clean(&html, policy) {
                    accepted += 1;
                    assert_eq!(fast, builder.clean(&html).to_string(), "on {html:?}");
                }
            }
        }
        // The comparison means something only if the fast path takes most sound markup.
        assert!(
            accepted > total / 2,
            "only {accepted} of {} accepted",
            2 * total
        );
    }

    #[test]
    fn gives_up_where_the_parser_would_repair_or_rules_differ() {
        let p = policy(None);
        for input in [
            "<p>one<p>two",
            "<p>a<div>b</div></p>",
            "<b>x<i>y</b></i>",
            "<a href=x>1<a href=y>2</a></a>",
            "<li>stray</li>",
            "<ul><b>x</b></ul>",
            "<pre>\ncode</pre>",
            "<!-- c --><p>x</p>",
            "<script>x</script>",
            "<table><tr><td>x</td></tr></table>",
            "&copy without semicolon",
            "&#128;",
            "<p>x</p></div>",
            "<span/>",
            "<p a=1 a=2>x</p>",
            "<img src=\"a\"alt=\"b\">",
            "< p>",
        ] {
            assert_eq!(clean(input, &p), None, "{input}");
        }
    }

    /// A builder that adds `rel` to links, or keeps comments, is one the fast path does not
    /// mirror.
    #[test]
    fn no_policy_for_settings_it_does_not_mirror() {
        let mut adds_rel = sanitiser_for_tests(None);
        adds_rel.link_rel(Some("noopener"));
        assert!(Policy::new(&adds_rel).is_none());
        let mut keeps_comments = sanitiser_for_tests(None);
        keeps_comments.strip_comments(false);
        assert!(Policy::new(&keeps_comments).is_none());
    }
}
