//! The table of RSS, Atom and extension elements a feed reader cares about: for an element
//! in a given context, what to do with it ([`classify`]), and where its content goes once
//! collected ([`apply`]).
//!
//! Vocabulary is decided by namespace, never by prefix alone, so an `atom:link` inside RSS is
//! never taken for RSS `link`. Ranks order competing sources of one fact (lower wins); each
//! date element has a rank of its own, since a repeated one corrects the earlier
//! (`Ranked::replace`) and two different ones must not.
//! Everything not listed is skipped with its subtree — including Atom `source` and RSS
//! channel `image`/`textInput`, whose titles and links must not leak into the feed's.

use std::rc::Rc;

use url::Url;

use super::capture::{Capture, How, Mode, atom_construct};
use super::feed::Format;
use super::feedxml::{Ctx, EntryState, Walker, plain_web_url, resolve};
use super::text;
use super::xml::{Element, Ns};
use crate::model::{Enclosure, MediaKind, Person};

/// How many authors, enclosures and categories one entry keeps: bounds the work a hostile
/// feed can cause with thousands of them (lists are de-duplicated pairwise).
pub const MAX_LIST: usize = 100;

fn push_category(e: &mut EntryState, category: String) {
    if e.categories.len() < MAX_LIST && !e.categories.contains(&category) {
        e.categories.push(category);
    }
}

/// What to do with an element.
pub enum Action {
    Enter(Ctx),
    Capture(Target, Mode, How),
    Entry,
    Person,
    Skip,
}

/// Where collected content goes (feed-level for titles, links and subtitles outside
/// entries). The number is the rank.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    Title(u8),
    Link(u8),
    Subtitle(u8),
    Id,
    Guid {
        permalink: bool,
    },
    Published(u8),
    Updated(u8),
    DcDate,
    Summary(u8),
    /// An RSS item's `summary` element.
    RssSummary,
    Content(u8),
    Author,
    FallbackAuthor,
    Category,
    /// Categories as one comma-separated list.
    TagList,
    PersonName,
    PersonEmail,
    PersonUri,
}

impl Target {
    /// Whether the value holds URLs to resolve against the element's base.
    pub fn needs_base(self) -> bool {
        matches!(
            self,
            Target::Link(_)
                | Target::Guid { .. }
                | Target::Summary(_)
                | Target::RssSummary
                | Target::Content(_)
                | Target::PersonUri
        )
    }
}

/// Vocabularies, by namespace and document format.
#[derive(Clone, Copy, PartialEq)]
enum V {
    Rss,
    Atom,
    Dc,
    DcTerms,
    Content,
    Media,
    Itunes,
    Xhtml,
    Other,
}

fn vocab(w: &Walker, ns: Ns) -> V {
    match ns {
        Ns::Atom10 | Ns::Atom03 => V::Atom,
        _ if w.is_atom() && ns == w.root_ns => V::Atom,
        Ns::None | Ns::Rss10 | Ns::Rss090 if !w.is_atom() => V::Rss,
        // An RSS root in a namespace of its own (Userland's, say): its elements are RSS.
        _ if !w.is_atom() && ns == w.root_ns => V::Rss,
        Ns::Dc => V::Dc,
        Ns::DcTerms => V::DcTerms,
        Ns::Content => V::Content,
        Ns::Media => V::Media,
        Ns::Itunes => V::Itunes,
        Ns::Xhtml => V::Xhtml,
        _ => V::Other,
    }
}

/// The RSS names of the table (and of an author's parts), spelt as the table spells them.
const RSS_NAMES: &[&str] = &[
    "channel",
    "item",
    "title",
    "link",
    "description",
    "summary",
    "guid",
    "pubDate",
    "author",
    "category",
    "tags",
    "enclosure",
    "fullitem",
    "body",
    "name",
    "email",
    "uri",
    "url",
    "homepage",
];

/// The element's local name, for matching against the table. RSS names are matched
/// without regard to case, as iTunes does (`<Title>`, `<PubDate>`, `<pubdate>`): one the
/// table knows is given in the case the table spells it, without allocating.
fn name<'e>(v: V, el: &'e Element) -> &'e str {
    let local = el.local();
    if v != V::Rss || RSS_NAMES.contains(&local) {
        return local;
    }
    RSS_NAMES
        .iter()
        .find(|n| n.eq_ignore_ascii_case(local))
        .copied()
        .unwrap_or(local)
}

/// Whether `el` is an RSS item or an Atom entry of this document.
pub fn is_entry(w: &Walker, el: &Element) -> bool {
    match vocab(w, el.ns) {
        V::Rss => name(V::Rss, el) == "item",
        V::Atom => el.local() == "entry" && w.is_atom(),
        _ => false,
    }
}

pub fn classify(w: &mut Walker, parent: Ctx, el: &Element) -> Action {
    let v = vocab(w, el.ns);
    match parent {
        Ctx::Feed => feed_child(w, v, el),
        Ctx::Entry => entry_child(w, v, el),
        Ctx::Person => match (v, name(v, el)) {
            (V::Atom | V::Rss, "name") => {
                Action::Capture(Target::PersonName, Mode::Text, How::Text)
            }
            (V::Atom | V::Rss, "email") => {
                Action::Capture(Target::PersonEmail, Mode::Text, How::Raw)
            }
            (V::Atom | V::Rss, "uri" | "url" | "homepage") => {
                Action::Capture(Target::PersonUri, Mode::Text, How::Raw)
            }
            _ => Action::Skip,
        },
        Ctx::Media => media_child(w, v, el),
        _ => Action::Skip,
    }
}

fn feed_child(w: &mut Walker, v: V, el: &Element) -> Action {
    use Action::Capture as Cap;
    match (v, name(v, el)) {
        (V::Rss, "channel") => {
            if el.ns == Ns::Rss090 {
                w.format = Some(Format::Rss090);
            }
            Action::Enter(Ctx::Feed)
        }
        (V::Rss, "item") => {
            if el.ns == Ns::Rss090 {
                w.format = Some(Format::Rss090);
            }
            Action::Entry
        }
        (V::Atom, "entry") if w.is_atom() => Action::Entry,
        (V::Rss, "title") => Cap(Target::Title(0), Mode::Text, How::MaybeHtml),
        (V::Rss, "link") => Cap(Target::Link(0), Mode::Text, How::Raw),
        (V::Rss, "description") => Cap(Target::Subtitle(0), Mode::Text, How::MaybeHtml),
        (V::Atom, "title") => construct(Target::Title(0), el),
        (V::Atom, "subtitle" | "tagline") => construct(Target::Subtitle(0), el),
        (V::Atom, "link") => atom_link(w, el),
        (V::Atom, "author") if w.is_atom() => Action::Person,
        (V::Dc, "title") => Cap(Target::Title(1), Mode::Text, How::MaybeHtml),
        (V::Dc, "description") => Cap(Target::Subtitle(1), Mode::Text, How::MaybeHtml),
        (V::Itunes, "subtitle" | "summary") => Cap(Target::Subtitle(2), Mode::Text, How::Text),
        _ => Action::Skip,
    }
}

fn entry_child(w: &mut Walker, v: V, el: &Element) -> Action {
    use Action::Capture as Cap;
    use Target::*;
    let text = |t| Cap(t, Mode::Text, How::Raw);
    match (v, name(v, el)) {
        (V::Rss, "title") => Cap(Title(0), Mode::Text, How::MaybeHtml),
        (V::Rss, "link") => Cap(Link(0), Mode::Text, How::Raw),
        (V::Rss, "description") => Cap(Summary(0), Mode::Html, How::Html),
        // Not RSS, but written beside `description`: the first of the two is the summary,
        // the second the content.
        (V::Rss, "summary") => Cap(RssSummary, Mode::Html, How::Html),
        (V::Rss, "guid") => {
            let permalink = !el
                .attr("isPermaLink")
                .is_some_and(|p| p.eq_ignore_ascii_case("false"));
            text(Guid { permalink })
        }
        (V::Rss, "pubDate") => text(Published(0)),
        (V::Rss, "author") => text(Author),
        (V::Rss, "category") => text(Category),
        // Not RSS, but some blog engines write their tags as one comma-separated list.
        (V::Rss, "tags") => text(TagList),
        (V::Rss, "enclosure") => {
            enclosure(w, el, "url", "length");
            Action::Skip
        }
        (V::Atom, "title") => construct(Title(0), el),
        (V::Atom, "link") => atom_link(w, el),
        (V::Atom, "id") => text(Id),
        (V::Atom, "published") => text(Published(1)),
        (V::Atom, "issued") => text(Published(2)),
        (V::Atom, "created") => text(Published(6)),
        (V::Atom, "updated") => text(Updated(0)),
        (V::Atom, "modified") => text(Updated(1)),
        (V::Atom, "author") => Action::Person,
        (V::Atom, "summary") => construct(Summary(1), el),
        (V::Atom, "content") if el.attr("src").is_none() => construct(Content(1), el),
        (V::Atom, "category") => {
            let [term, label] = el.attrs_named(["term", "label"]);
            let term = term.filter(|t| !t.is_empty()).or(label);
            if let (Some(term), Some(e)) = (term, w.entry.as_mut()) {
                push_category(e, term.into_owned());
            }
            Action::Skip
        }
        (V::Dc, "title") => Cap(Title(2), Mode::Text, How::MaybeHtml),
        (V::Dc, "creator" | "author") => text(Author),
        // Readers disagree whether dc:date is a publication or a modification date; it
        // serves as either when nothing better is given.
        (V::Dc, "date") => text(DcDate),
        (V::Dc, "modified") => text(Updated(3)),
        (V::Dc, "subject") => text(Category),
        (V::Dc, "description") => Cap(Summary(2), Mode::Html, How::Html),
        (V::DcTerms, "issued") => text(Published(4)),
        (V::DcTerms, "created") => text(Published(5)),
        (V::DcTerms, "modified") => text(Updated(2)),
        (V::Content, "encoded") => Cap(Content(0), Mode::Html, How::Html),
        (V::Rss, "fullitem") => Cap(Content(1), Mode::Html, How::Html),
        (V::Rss, "body") => Cap(Content(2), Mode::Xhtml, How::Xhtml),
        (V::Xhtml, "body" | "div") => Cap(Content(2), Mode::Xhtml, How::Xhtml),
        (V::Itunes, "image" | "link") => {
            let is_image = el.local() == "image" || el.attr("rel").as_deref() == Some("image");
            if let Some(url) = el
                .attr("href")
                .or_else(|| el.attr("url"))
                .and_then(|h| w.resolve(&h))
                && is_image
            {
                image(w, 2, url);
            }
            Action::Skip
        }
        (V::Itunes, "author") => text(FallbackAuthor),
        (V::Itunes, "summary") => Cap(Summary(3), Mode::Text, How::Text),
        (V::Media, _) | (V::Itunes, "category") => media_child(w, v, el),
        _ => Action::Skip,
    }
}

/// Media RSS, directly in an entry or inside `media:group` / `media:content`.
fn media_child(w: &mut Walker, v: V, el: &Element) -> Action {
    match (v, el.local()) {
        (V::Media, "group") => Action::Enter(Ctx::Media),
        (V::Media, "content") => {
            let Some(url) = el.attr("url").and_then(|u| w.resolve(&u)) else {
                return Action::Enter(Ctx::Media);
            };
            let medium = el.attr("medium").unwrap_or_default().to_ascii_lowercase();
            let ty = el.attr("type").unwrap_or_default().to_ascii_lowercase();
            // An image medium or type is a picture, an audio or video one a recording to
            // attach; with neither type nor medium the URL's extension decides. A Guardian
            // picture without either, or YouTube's Flash player, is no enclosure.
            let kind = if medium == "image" || ty.starts_with("image/") {
                MediaKind::Image
            } else if matches!(medium.as_str(), "audio" | "video") {
                MediaKind::Playable
            } else if medium.is_empty() || !ty.is_empty() {
                MediaKind::of(Some(&ty), &url)
            } else {
                MediaKind::Other
            };
            match kind {
                MediaKind::Image => image(w, 1, url),
                // A video or a recording, attached as an RSS enclosure would attach it.
                MediaKind::Playable => enclosure(w, el, "url", "fileSize"),
                MediaKind::Other => {}
            }
            Action::Enter(Ctx::Media)
        }
        (V::Media, "thumbnail") => {
            if let Some(url) = el.attr("url").and_then(|u| w.resolve(&u)) {
                image(w, 0, url);
            }
            Action::Skip
        }
        (V::Media, "title") => Action::Capture(Target::Title(3), Mode::Text, How::MaybeHtml),
        (V::Media, "category") => Action::Capture(Target::Category, Mode::Text, How::Raw),
        (V::Itunes, "category") => {
            if let (Some(text), Some(e)) = (el.attr("text"), w.entry.as_mut())
                && !text.is_empty()
            {
                push_category(e, text.into_owned());
            }
            // Subcategories nest.
            Action::Enter(Ctx::Media)
        }
        (V::Media, "description") => match el.attr("type").as_deref() {
            Some("html") => Action::Capture(Target::Summary(4), Mode::Html, How::Html),
            _ => Action::Capture(Target::Summary(4), Mode::Text, How::Text),
        },
        _ => Action::Skip,
    }
}

fn construct(target: Target, el: &Element) -> Action {
    let (mode, how) = atom_construct(el);
    Action::Capture(target, mode, how)
}

fn image(w: &mut Walker, rank: u8, url: String) {
    if let Some(e) = w.entry.as_mut() {
        e.image.offer(rank, url);
    }
}

/// RSS `enclosure` and Atom `link rel="enclosure"`.
fn enclosure(w: &mut Walker, el: &Element, url_attr: &str, length_attr: &str) {
    let [url, mime_type, length] = el.attrs_named([url_attr, "type", length_attr]);
    let Some(url) = url.and_then(|u| w.resolve(&u)) else {
        return;
    };
    let mime_type = mime_type.map(|t| t.into_owned()).filter(|t| !t.is_empty());
    let length = length.and_then(|l| l.trim().parse::<u64>().ok());
    if mime_type
        .as_deref()
        .is_some_and(|t| t.starts_with("image/"))
    {
        image(w, 3, url.clone());
    }
    if let Some(e) = w.entry.as_mut()
        && e.enclosures.len() < MAX_LIST
        && !e.enclosures.iter().any(|x| x.url == url)
    {
        e.enclosures.push(Enclosure {
            url,
            mime_type,
            length,
        });
    }
}

/// Atom `link`: `rel="alternate"` (or none) is the page, `rel="enclosure"` a file.
fn atom_link(w: &mut Walker, el: &Element) -> Action {
    const IANA: &str = "http://www.iana.org/assignments/relation/";
    let [rel, ty, href] = el.attrs_named(["rel", "type", "href"]);
    let rel = rel.unwrap_or_default();
    let rel = match rel.get(..IANA.len()) {
        Some(iana) if iana.eq_ignore_ascii_case(IANA) => &rel[IANA.len()..],
        _ => &rel,
    };
    let alternate = rel.is_empty() || rel.eq_ignore_ascii_case("alternate");
    match rel {
        _ if alternate => {
            let ty = ty.unwrap_or_default();
            let html = ty
                .as_bytes()
                .windows(4)
                .any(|w| w.eq_ignore_ascii_case(b"html"));
            let rank = if ty.is_empty() || html { 1 } else { 2 };
            let Some(url) = href.and_then(|h| w.resolve(&h)) else {
                // Some Atom 0.3 feeds put the URL in the element's text.
                return Action::Capture(Target::Link(rank), Mode::Text, How::Raw);
            };
            match w.entry.as_mut() {
                Some(e) => e.link.offer(rank, url),
                None => w.link.offer(rank, url),
            }
        }
        _ if rel.eq_ignore_ascii_case("enclosure") => enclosure(w, el, "href", "length"),
        _ => {}
    }
    Action::Skip
}

/// Whether `s` opens with a scheme and its colon (`tag:`, `urn:`, `https:`): url reads
/// such a string as absolute, so there is no need to ask it whether the string is relative.
/// A tab or newline, which url would skip, makes this false.
pub fn starts_with_scheme(s: &str) -> bool {
    scheme(s).is_some()
}

/// The scheme `s` opens with, as [`starts_with_scheme`] reads it, without its colon.
fn scheme(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let end = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))?;
    (b.first().is_some_and(u8::is_ascii_alphabetic) && b[end] == b':').then(|| &s[..end])
}

/// Whether `s` opens with a scheme that is not http or https: url would read it as such a
/// URL or not at all, so there is no need to ask it whether `s` is a web address. Ids are
/// often `tag:` URIs, and url took 4,300 instructions to read one.
pub fn other_scheme(s: &str) -> bool {
    scheme(s).is_some_and(|scheme| {
        !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https")
    })
}

/// Whether url would read `s` as an absolute URL with an opaque path (`tag:…`, `urn:…`,
/// `mailto:…`), which it always can: a scheme other than those it gives hosts to (`http`,
/// `file` …), then neither `/` nor the end, and no tab or line break anywhere (url drops
/// them, so `tag:\t//[` would be read as `tag://[`).
pub fn opaque_uri(s: &str) -> bool {
    const SPECIAL: [&str; 6] = ["http", "https", "ws", "wss", "ftp", "file"];
    scheme(s).is_some_and(|scheme| {
        !SPECIAL.iter().any(|s| s.eq_ignore_ascii_case(scheme))
            && !matches!(s.as_bytes().get(scheme.len() + 1), None | Some(b'/'))
            && memchr::memchr3(b'\t', b'\n', b'\r', s.as_bytes()).is_none()
    })
}

/// Puts collected content where `target` says.
pub fn apply(w: &mut Walker, target: Target, cap: &Capture, base: Option<Rc<Url>>) {
    let raw = text::trim(&cap.buf);
    match target {
        Target::Title(rank) => {
            let title = cap.plain();
            match w.entry.as_mut() {
                _ if title.is_empty() => {}
                Some(e) => e.title.offer(rank, title),
                None => w.title.offer(rank, title),
            }
        }
        Target::Subtitle(rank) if w.entry.is_none() => {
            let subtitle = cap.plain();
            if !subtitle.is_empty() {
                w.subtitle.offer(rank, subtitle);
            }
        }
        Target::Link(rank) => {
            let Some(url) = base.as_ref().and_then(|b| resolve(b, raw)) else {
                return;
            };
            match w.entry.as_mut() {
                Some(e) => e.link.offer(rank, url),
                None => w.link.offer(rank, url),
            }
        }
        Target::Published(_) | Target::Updated(_) => w.date(target, raw),
        Target::DcDate => {
            w.date(Target::Published(3), raw);
            w.date(Target::Updated(4), raw);
        }
        _ => apply_entry(w, target, cap, base),
    }
}

fn apply_entry(w: &mut Walker, target: Target, cap: &Capture, base: Option<Rc<Url>>) {
    let raw = text::trim(&cap.buf);
    if let Some(p) = w.person.as_mut() {
        match target {
            Target::PersonName => p.name = text::collapse_whitespace(raw),
            Target::PersonEmail if !raw.is_empty() => {
                p.email = Some(raw.trim_start_matches("mailto:").to_owned())
            }
            Target::PersonUri => p.url = base.as_ref().and_then(|b| resolve(b, raw)),
            _ => {}
        }
        return;
    }
    let Some(e) = w.entry.as_mut() else { return };
    match target {
        Target::Id if !raw.is_empty() && e.id.is_none() => {
            let relative = !starts_with_scheme(raw)
                && Url::parse(raw) == Err(url::ParseError::RelativeUrlWithoutBase);
            let resolved = base.filter(|_| relative).and_then(|b| b.join(raw).ok());
            e.id = Some(resolved.map_or_else(|| raw.to_owned(), String::from));
            e.permalink = Some(false);
        }
        Target::Guid { permalink } if !raw.is_empty() && e.permalink != Some(true) => {
            e.id = Some(raw.to_owned());
            e.permalink = Some(permalink);
            let absolute = plain_web_url(raw)
                || (!other_scheme(raw)
                    && Url::parse(raw).is_ok_and(|u| matches!(u.scheme(), "http" | "https")));
            if permalink && absolute {
                e.link.offer(3, raw.to_owned());
            }
        }
        Target::Summary(_) | Target::RssSummary | Target::Content(_) => {
            let html = cap.html();
            let Some(base) = base.filter(|_| !html.is_empty()) else {
                return;
            };
            match target {
                // RSS `description` and `summary`: whichever comes second is the content.
                Target::Summary(0) | Target::RssSummary
                    if e.summary.rank() == Some(0)
                        && e.summary_is_rss != (target == Target::RssSummary) =>
                {
                    e.content.offer(4, (html, base))
                }
                Target::RssSummary => {
                    e.summary_is_rss = true;
                    e.summary.offer(0, (html, base))
                }
                Target::Summary(rank) => e.summary.offer(rank, (html, base)),
                Target::Content(rank) => e.content.offer(rank, (html, base)),
                _ => {}
            }
        }
        Target::Author if e.authors.len() < MAX_LIST => e.authors.extend(person_from_text(raw)),
        Target::FallbackAuthor => {
            e.fallback_author = e.fallback_author.take().or_else(|| person_from_text(raw))
        }
        Target::Category if !raw.is_empty() => push_category(e, text::collapse_whitespace(raw)),
        Target::TagList => {
            for tag in raw.split(',').map(text::collapse_whitespace) {
                if !tag.is_empty() {
                    push_category(e, tag);
                }
            }
        }
        _ => {}
    }
}

/// An RSS `author` or `dc:creator`: "me@x.org (Name)", "Name <me@x.org>", an address, or a
/// name.
pub fn person_from_text(s: &str) -> Option<Person> {
    let s = text::collapse_whitespace(s);
    if s.is_empty() {
        return None;
    }
    let person = |name: &str, email: &str| {
        let email = email.trim().trim_start_matches("mailto:").to_owned();
        let name = name.trim();
        Person {
            name: if name.is_empty() {
                email.clone()
            } else {
                name.to_owned()
            },
            email: Some(email),
            url: None,
        }
    };
    if let (Some(open), true) = (s.find('('), s.ends_with(')')) {
        let (outside, inside) = (&s[..open], &s[open + 1..s.len() - 1]);
        if outside.contains('@') && !outside.trim().contains(' ') {
            return Some(person(inside, outside));
        }
        if inside.contains('@') && !inside.contains(' ') {
            return Some(person(outside, inside));
        }
    }
    if let (Some(open), true) = (s.rfind('<'), s.ends_with('>'))
        && s[open..].contains('@')
    {
        return Some(person(&s[..open], &s[open + 1..s.len() - 1]));
    }
    if s.contains('@') && !s.contains(' ') {
        return Some(person("", &s));
    }
    Some(Person {
        name: s,
        email: None,
        url: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the scheme checks say without asking url, url says too.
    #[test]
    fn scheme_checks_agree_with_url() {
        assert!(opaque_uri("tag:server.example,2026:review-0"));
        assert!(other_scheme("tag:server.example,2026:review-0"));
        assert!(!other_scheme("HTTPS://ex.org/") && !opaque_uri("urn:"));
        let schemes = [
            "tag",
            "urn",
            "mailto",
            "data",
            "javascript",
            "HTTP",
            "Https",
            "ws",
            "WSS",
            "ftp",
            "file",
            "x-y.z+1",
            "c",
            "1a",
            "a b",
            "",
        ];
        let rests = [
            ":",
            ":x",
            "://",
            ":/x",
            "://a:99999/",
            ":a b",
            ":%zz",
            ":é",
            ":\u{1}",
            ":?q",
            ":#f",
            ":[::1]",
            "://[",
            ":x:y",
            ":\t",
            "\t:x",
            ":\\x",
            "://ex.org/p",
            ":\t//[",
            ":\n/x",
        ];
        let mut opaque = 0;
        for scheme in schemes {
            for rest in rests {
                let s = format!("{scheme}{rest}");
                let parsed = Url::parse(&s);
                if opaque_uri(&s) {
                    opaque += 1;
                    assert!(parsed.is_ok(), "{s:?}: {parsed:?}");
                }
                if other_scheme(&s) {
                    let web = parsed.is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
                    assert!(!web, "{s:?}");
                }
            }
        }
        assert!(opaque > 50, "only {opaque} read as opaque");
    }

    fn p(name: &str, email: Option<&str>) -> Option<Person> {
        Some(Person {
            name: name.into(),
            email: email.map(Into::into),
            url: None,
        })
    }

    /// Wherever the shortcut says a scheme opens the string, url must not call it relative.
    #[test]
    fn a_string_opening_with_a_scheme_is_never_relative_to_url() {
        let pieces = [
            "a", "Z", "9", "+", "-", ".", ":", "/", "//", "\t", " ", "%", "?", "#", "[", "@",
            "tag", "http", "file", "c", "x.y",
        ];
        let mut r = crate::testing::Rng(0x0dd_ba11_cafe_f00d);
        let mut shortcut = 0;
        for _ in 0..20_000 {
            let mut s: String = (0..1 + r.below(6)).map(|_| r.pick(&pieces)).collect();
            if r.below(2) == 0 {
                s.insert_str(
                    0,
                    r.pick(&["tag:", "a:", "x.y:", "c:", "http:", "file:", "a-+.:"]),
                );
            }
            if starts_with_scheme(&s) {
                shortcut += 1;
                assert_ne!(
                    Url::parse(&s),
                    Err(url::ParseError::RelativeUrlWithoutBase),
                    "{s:?}"
                );
            }
        }
        assert!(shortcut > 1000, "only {shortcut} strings took the shortcut");
    }

    #[test]
    fn rss_author_forms() {
        assert_eq!(
            person_from_text("me@x.org (Ann Example)"),
            p("Ann Example", Some("me@x.org"))
        );
        assert_eq!(
            person_from_text("Ann Example (me@x.org)"),
            p("Ann Example", Some("me@x.org"))
        );
        assert_eq!(
            person_from_text("Ann Example <mailto:me@x.org>"),
            p("Ann Example", Some("me@x.org"))
        );
        assert_eq!(
            person_from_text(" me@x.org "),
            p("me@x.org", Some("me@x.org"))
        );
        assert_eq!(person_from_text("Ann  Example\n"), p("Ann Example", None));
        assert_eq!(
            person_from_text("Ann (the editor)"),
            p("Ann (the editor)", None)
        );
        assert_eq!(person_from_text("  "), None);
    }
}
