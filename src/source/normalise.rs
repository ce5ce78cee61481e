//! Entries → [`Item`]s: stable ids, absolute and safe URLs, sanitised HTML, and no
//! characters that XML forbids, so that every writer can just escape.
//!
//! The id rule is the one documented on [`Item::id`]. HTML is cleaned with ammonia (no
//! scripts, styles, frames, plugins, forms, event handlers, or URLs other than http(s),
//! mailto, ftp and tel; relative URLs rewritten against the entry's base). The only clock
//! value is `first_seen = now`; an item without dates keeps `None` here, and the store gives
//! it its first-seen time. Nothing here fetches, dedupes across sources, or filters.
//! Hostile input is bounded: at most 100 authors, categories and enclosures per item, and
//! HTML nested absurdly deep (which makes html5ever quadratic) is kept as escaped text.

use std::collections::HashSet;

use ammonia::{Builder, UrlRelative};
use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use url::Url;

use super::feed::{Document, Entry};
use super::text;
use crate::model::{Enclosure, Item, Person};

/// Authors, categories and enclosures kept per item; they are de-duplicated pairwise.
const MAX_LIST: usize = 100;

/// Characters kept as they are in the NSS of a URN (RFC 8141: unreserved, sub-delims, `:`,
/// `@`, `/`); everything else is percent-encoded, `%` included.
const URN_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@')
    .remove(b'/');

/// The same, but with `:` encoded too, for the source name between two `:`.
const URN_SOURCE: &AsciiSet = &URN_KEEP.add(b':');

/// Entries → Items for source `source` (its config name), `first_seen = now`. Ids are unique
/// in the result: a later entry repeating an id is dropped, as is an entry with nothing in it.
pub fn normalise(doc: Document, source: &str, now: DateTime<Utc>) -> Vec<Item> {
    let mut seen = HashSet::new();
    let mut cleaner = Cleaner::default();
    let mut items = Vec::with_capacity(doc.entries.len());
    for entry in doc.entries {
        let Some(item) = item(entry, source, now, &mut cleaner) else {
            continue;
        };
        if seen.insert(item.id.clone()) {
            items.push(item);
        }
    }
    items
}

fn item(e: Entry, source: &str, now: DateTime<Utc>, cleaner: &mut Cleaner) -> Option<Item> {
    let title = e
        .title
        .as_deref()
        .map(|t| text::collapse_whitespace(&text::strip_forbidden(t)))
        .filter(|t| !t.is_empty());
    let link = e
        .link
        .as_deref()
        .and_then(|l| web_url(l).or_else(|| local_url(l, e.base.as_ref())));
    let summary = e
        .summary
        .as_deref()
        .and_then(|h| cleaner.clean(h, e.base.as_ref()));
    let content = e
        .content
        .as_deref()
        .and_then(|h| cleaner.clean(h, e.base.as_ref()));
    let mut enclosures: Vec<Enclosure> = Vec::new();
    for enc in e.enclosures.into_iter().take(MAX_LIST) {
        let Some(url) = web_url(&enc.url) else {
            continue;
        };
        if !enclosures.iter().any(|x| x.url == url) {
            let mime_type = enc
                .mime_type
                .map(|t| text::strip_forbidden(t.trim()).into_owned())
                .filter(|t| !t.is_empty());
            enclosures.push(Enclosure {
                url,
                mime_type,
                length: enc.length,
            });
        }
    }
    if title.is_none()
        && link.is_none()
        && summary.is_none()
        && content.is_none()
        && enclosures.is_empty()
    {
        return None;
    }
    let id = item_id(
        &e.id,
        source,
        link.as_deref(),
        &e.title,
        e.content.as_ref().or(e.summary.as_ref()),
    );
    let mut categories: Vec<String> = Vec::new();
    for c in e.categories.iter().take(MAX_LIST) {
        let c = text::collapse_whitespace(&text::strip_forbidden(c));
        if !c.is_empty() && !categories.contains(&c) {
            categories.push(c);
        }
    }
    Some(Item {
        id,
        source: source.to_owned(),
        title,
        link,
        authors: e.authors.iter().take(MAX_LIST).filter_map(person).collect(),
        // An entry dated only by `updated` (common in Atom) is published then: the item is
        // sorted by `published` alone, so that a later edit (which moves `updated`) never
        // moves it.
        published: e.published.or(e.updated),
        updated: e.updated,
        summary,
        content,
        categories,
        enclosures,
        image: e.image.as_deref().and_then(web_url),
        first_seen: now,
    })
}

/// The id rule of [`Item::id`].
fn item_id(
    id: &Option<String>,
    source: &str,
    link: Option<&str>,
    title: &Option<String>,
    body: Option<&String>,
) -> String {
    let source = utf8_percent_encode(source, URN_SOURCE);
    if let Some(id) = id
        .as_deref()
        .map(|i| text::strip_forbidden(i.trim()).into_owned())
        .filter(|i| !i.is_empty())
    {
        if is_absolute_uri(&id) {
            return id;
        }
        return format!("urn:syndic:{source}:{}", utf8_percent_encode(&id, URN_KEEP));
    }
    // A local file's link would make the id depend on where the files are: hash instead.
    if let Some(link) = link.filter(|l| is_web_link(l)).and_then(canonical_link) {
        return link;
    }
    let mut hash = Sha256::new();
    hash.update(title.as_deref().unwrap_or_default());
    hash.update([0]);
    hash.update(body.map(String::as_str).unwrap_or_default());
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("urn:syndic:{source}:sha256-{hex}")
}

/// A scheme (letter, then letters, digits, `+-.`), a colon, no whitespace, and url accepts
/// it.
fn is_absolute_uri(id: &str) -> bool {
    let Some((scheme, _)) = id.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !id.contains(char::is_whitespace)
        && Url::parse(id).is_ok()
}

/// The link a story is recognised by across sources: fragment dropped, and the tracking
/// parameters `utm_*`, `fbclid` and `gclid` removed from the query (the rest of the query is
/// kept byte for byte). None when `url` is not an absolute URL.
pub fn canonical_link(url: &str) -> Option<String> {
    let mut url = Url::parse(url.trim()).ok()?;
    url.set_fragment(None);
    if let Some(query) = url.query() {
        let tracking = |pair: &&str| {
            let key = pair
                .split('=')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            key.starts_with("utm_") || key == "fbclid" || key == "gclid"
        };
        if query.split('&').any(|p| tracking(&p)) {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|p| !p.is_empty() && !tracking(p))
                .collect();
            let kept = kept.join("&");
            url.set_query(if kept.is_empty() { None } else { Some(&kept) });
        }
    }
    Some(url.into())
}

/// An absolute http(s) URL — as written when it is clean, else as url serialises it; None
/// for anything else (`javascript:`, `data:`, relative).
fn web_url(url: &str) -> Option<String> {
    let written = text::strip_forbidden(url.trim());
    let parsed = Url::parse(&written).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    Some(
        if written.contains(|c: char| c.is_whitespace() || c.is_control()) {
            parsed.into()
        } else {
            written.into_owned()
        },
    )
}

/// Whether an item's link is on the web (http or https): the only links published, and
/// the only ones an id is made from. (A local source's items may hold `file:` links.)
pub fn is_web_link(link: &str) -> bool {
    link.starts_with("http://") || link.starts_with("https://")
}

/// A `file:` link in a document that was itself read from a file (a local mirror of a
/// site): kept so its page can be read for full text, never published (see
/// [`crate::publish`]). A document from the web never links to local files.
fn local_url(url: &str, base: Option<&Url>) -> Option<String> {
    if base?.scheme() != "file" {
        return None;
    }
    let parsed = Url::parse(url.trim()).ok()?;
    (parsed.scheme() == "file").then(|| parsed.into())
}

fn person(p: &Person) -> Option<Person> {
    let clean = |s: &str| text::collapse_whitespace(&text::strip_forbidden(s));
    let name = clean(&p.name);
    let email = p.email.as_deref().map(clean).filter(|e| !e.is_empty());
    let url = p.url.as_deref().and_then(web_url);
    let name = if name.is_empty() {
        email.clone().or_else(|| url.clone())?
    } else {
        name
    };
    Some(Person { name, email, url })
}

/// Sanitises one piece of third-party HTML as items' HTML is sanitised (no scripts, event
/// handlers or unsafe URLs), making relative URLs absolute against `base`. `None` when
/// nothing is left.
pub fn sanitise(html: &str, base: Option<&Url>) -> Option<String> {
    Cleaner::default().clean(html, base)
}

/// ammonia, configured once per base URL (entries of a feed nearly always share one).
#[derive(Default)]
struct Cleaner {
    current: Option<(Option<Url>, Builder<'static>)>,
}

impl Cleaner {
    fn clean(&mut self, html: &str, base: Option<&Url>) -> Option<String> {
        if self
            .current
            .as_ref()
            .is_none_or(|(b, _)| b.as_ref() != base)
        {
            self.current = Some((base.cloned(), sanitiser(base)));
        }
        let (_, builder) = self.current.as_ref()?;
        if too_deep(html) {
            // html5ever slows down quadratically with nesting depth; no real story nests
            // this deep, so a hostile one is kept as plain text.
            let plain = text::escape_html(&text::html_to_text(html)).into_owned();
            return (!plain.is_empty()).then(|| format!("<p>{plain}</p>"));
        }
        let cleaned = builder.clean(&text::strip_forbidden(html)).to_string();
        let cleaned = text::strip_forbidden(cleaned.trim()).into_owned();
        (!cleaned.is_empty()).then_some(cleaned)
    }
}

/// Whether start tags ever run more than [`MAX_DEPTH`] ahead of end tags: a cheap,
/// approximate nesting depth. Void elements, and those HTML closes by itself (`<p>`, `<li>`,
/// table cells …), do not count.
pub fn too_deep(html: &str) -> bool {
    const FLAT: [&str; 16] = [
        "br", "img", "hr", "wbr", "input", "meta", "link", "source", "p", "li", "td", "th", "tr",
        "dd", "dt", "option",
    ];
    let b = html.as_bytes();
    let mut depth: usize = 0;
    for lt in memchr::memchr_iter(b'<', b) {
        match b.get(lt + 1) {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let name_len = b[lt + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .count();
                let name = &html[lt + 1..lt + 1 + name_len];
                if !FLAT.iter().any(|v| v.eq_ignore_ascii_case(name)) {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

/// Nesting deeper than any real story, and enough to make html5ever crawl.
const MAX_DEPTH: usize = 1000;

fn sanitiser(base: Option<&Url>) -> Builder<'static> {
    let mut b = Builder::default();
    b.add_tags(["tfoot"])
        .add_clean_content_tags([
            "iframe", "object", "embed", "noscript", "template", "svg", "math", "select",
        ])
        .add_generic_attributes(["dir"])
        .url_schemes(
            ["http", "https", "mailto", "ftp", "tel"]
                .into_iter()
                .collect(),
        )
        .link_rel(None)
        .url_relative(match base {
            Some(base) => UrlRelative::RewriteWithBase(base.clone()),
            None => UrlRelative::Deny,
        });
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::feed::Format;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn doc(entries: Vec<Entry>) -> Document {
        Document {
            format: Format::Rss20,
            title: None,
            link: None,
            subtitle: None,
            entries,
            warning: None,
        }
    }

    fn entry(id: Option<&str>, link: Option<&str>, title: &str) -> Entry {
        Entry {
            id: id.map(Into::into),
            link: link.map(Into::into),
            title: Some(title.into()),
            ..Default::default()
        }
    }

    fn ids(entries: Vec<Entry>) -> Vec<String> {
        normalise(doc(entries), "my src", now())
            .into_iter()
            .map(|i| i.id)
            .collect()
    }

    #[test]
    fn id_rule() {
        assert_eq!(
            ids(vec![
                entry(Some("https://example.org/a"), None, "a"),
                entry(Some("tag:example.org,2024:b"), None, "b"),
                entry(Some("urn:uuid:1234"), None, "c"),
                entry(Some("  42 "), None, "d"),
                entry(Some("a b#c%d"), None, "e"),
                entry(
                    None,
                    Some("https://example.org/f?utm_source=x&id=3#top"),
                    "f"
                ),
            ]),
            [
                "https://example.org/a",
                "tag:example.org,2024:b",
                "urn:uuid:1234",
                "urn:syndic:my%20src:42",
                "urn:syndic:my%20src:a%20b%23c%25d",
                "https://example.org/f?id=3",
            ]
        );
    }

    #[test]
    fn id_from_hash_when_nothing_else() {
        let a = ids(vec![entry(None, None, "Title")]);
        assert!(
            a[0].starts_with("urn:syndic:my%20src:sha256-")
                && a[0].len() == "urn:syndic:my%20src:sha256-".len() + 64,
            "{a:?}"
        );
        assert_eq!(a, ids(vec![entry(None, None, "Title")]), "stable");
        assert_ne!(a, ids(vec![entry(None, None, "Other")]));
    }

    #[test]
    fn later_duplicate_ids_are_dropped() {
        let items = normalise(
            doc(vec![
                entry(Some("x"), None, "first"),
                entry(Some("x"), None, "second"),
            ]),
            "s",
            now(),
        );
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].title.as_deref(), Some("first"));
    }

    #[test]
    fn canonical_links_drop_tracking_and_fragment_only() {
        assert_eq!(
            canonical_link("https://ex.org/p?a=1&utm_medium=rss&UTM_x=2&fbclid=z&gclid=q&b=%20#f")
                .as_deref(),
            Some("https://ex.org/p?a=1&b=%20")
        );
        assert_eq!(
            canonical_link("https://ex.org/p?utm_source=a").as_deref(),
            Some("https://ex.org/p")
        );
        assert_eq!(
            canonical_link("https://ex.org/p?q=a%20b+c").as_deref(),
            Some("https://ex.org/p?q=a%20b+c")
        );
        assert_eq!(canonical_link("not a url"), None);
    }

    #[test]
    fn html_is_sanitised_and_made_absolute() {
        let e = Entry {
            content: Some(r#"<p onclick="x()">Hi <a href="/a">a</a> <img src="i.png"><script>alert(1)</script><iframe src="x">f</iframe><a href="javascript:alert(1)">j</a><img src="data:image/png;base64,AA"><style>p{}</style><form><input></form></p><table><tr><td>t</td></tr></table><figure><blockquote>q</blockquote><pre><code>c</code></pre></figure>"#.into()),
            summary: Some("a\u{1}b".into()),
            base: Some(Url::parse("https://ex.org/dir/post").unwrap()),
            ..entry(Some("x"), None, "t")
        };
        let item = &normalise(doc(vec![e]), "s", now())[0];
        let html = item.content.as_deref().unwrap();
        assert_eq!(
            html,
            r#"<p>Hi <a href="https://ex.org/a">a</a> <img src="https://ex.org/dir/i.png"><a>j</a><img></p><p></p><table><tbody><tr><td>t</td></tr></tbody></table><figure><blockquote>q</blockquote><pre><code>c</code></pre></figure>"#
        );
        assert_eq!(item.summary.as_deref(), Some("ab"));
    }

    #[test]
    fn absurdly_deep_html_is_kept_as_text() {
        let deep = format!(
            "{}deep &amp; text{}",
            "<div>".repeat(5000),
            "</div>".repeat(5000)
        );
        let e = Entry {
            content: Some(deep),
            base: Some(Url::parse("https://ex.org/").unwrap()),
            ..entry(Some("x"), None, "t")
        };
        let started = std::time::Instant::now();
        let item = &normalise(doc(vec![e]), "s", now())[0];
        assert_eq!(item.content.as_deref(), Some("<p>deep &amp; text</p>"));
        assert!(started.elapsed().as_secs() < 2);
        assert!(!too_deep(&format!(
            "<p>{}</p>",
            "a<br>b<img src=x><p>c<li>d".repeat(5000)
        )));
    }

    #[test]
    fn strings_are_cleaned_and_empties_become_none() {
        let e = Entry {
            title: Some("  \u{B} \n ".into()),
            summary: Some("<script>x</script>".into()),
            link: Some("javascript:alert(1)".into()),
            image: Some("https://ex.org/i.png".into()),
            authors: vec![
                Person {
                    name: " Ann\u{0} ".into(),
                    email: None,
                    url: Some("https://ann.example".into()),
                },
                Person {
                    name: "".into(),
                    email: Some("b@x.org".into()),
                    url: None,
                },
                Person {
                    name: " ".into(),
                    email: None,
                    url: None,
                },
            ],
            categories: vec!["a".into(), " a ".into(), "".into(), "b\u{FFFF}".into()],
            enclosures: vec![
                Enclosure {
                    url: "http://ex.org/e.mp3".into(),
                    mime_type: Some("audio/mpeg".into()),
                    length: Some(3),
                },
                Enclosure {
                    url: "http://ex.org/e.mp3".into(),
                    mime_type: None,
                    length: None,
                },
                Enclosure {
                    url: "data:audio/mpeg,xx".into(),
                    mime_type: None,
                    length: None,
                },
            ],
            ..entry(Some("id"), None, "")
        };
        let item = &normalise(doc(vec![e]), "s", now())[0];
        assert_eq!(
            (
                item.title.as_deref(),
                item.link.as_deref(),
                item.summary.as_deref()
            ),
            (None, None, None)
        );
        assert_eq!(
            item.authors
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["Ann", "b@x.org"]
        );
        assert_eq!(item.authors[0].url.as_deref(), Some("https://ann.example"));
        assert_eq!(item.categories, ["a", "b"]);
        assert_eq!(item.enclosures.len(), 1);
        assert_eq!(
            (item.first_seen, item.published, item.id.as_str()),
            (now(), None, "urn:syndic:s:id")
        );
    }
}
