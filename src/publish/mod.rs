//! Publishing: render each output feed in RSS 2.0, Atom 1.0 and JSON Feed 1.1, plus an OPML
//! index, and write every file atomically, only when its bytes change.
//!
//! Renderers are pure functions from a [`Channel`] and items to text: the same input always
//! gives the same bytes, because every date comes from the items (never the clock) and
//! nothing iterates a hash map. Items arrive selected, de-duplicated, sorted and clean; the
//! writers still hold each format's rules whatever reaches them: an id is written once
//! (the first item with it wins, see `unique`), a URL that is not absolute is left out
//! (link, enclosure, image, author page, channel link), so is a malformed media type or
//! email, characters XML forbids are dropped and everything is escaped. This module does
//! not choose, filter or order items (that is
//! [`crate::pipeline`]) and does not decide where files go beyond `NAME.EXT` (the caller
//! passes paths to [`write_if_changed`]).

pub mod atom;
pub mod feeds;
#[cfg(test)]
mod golden;
pub mod json;
pub mod opml;
#[cfg(test)]
mod roundtrip;
pub mod rss;
pub mod write;

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Item;
use crate::source::normalise::finish;

pub use write::write_if_changed;

/// One output format; each output feed is written once per format it lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    /// Every format, in the order files are written and listed.
    pub fn all() -> [Format; 3] {
        [Format::Rss, Format::Atom, Format::Json]
    }

    /// File extension (no dot), also the name used in the config.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    /// Media type to serve the file with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml",
            Format::Atom => "application/atom+xml",
            Format::Json => "application/feed+json",
        }
    }

    /// Human name, for titles and logs.
    pub fn label(self) -> &'static str {
        match self {
            Format::Rss => "RSS",
            Format::Atom => "Atom",
            Format::Json => "JSON Feed",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// A format name that is not `rss`, `atom` or `json`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?} (use \"rss\", \"atom\" or \"json\")")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::all()
            .into_iter()
            .find(|f| f.extension() == s)
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// What a rendered feed says about itself: one `[[feed]]` of the config.
#[derive(Clone, Copy, Debug)]
pub struct Channel<'a> {
    /// The `[[feed]]` name; files are `NAME.rss`, `NAME.atom`, `NAME.json`.
    pub name: &'a str,
    pub title: &'a str,
    pub description: Option<&'a str>,
    /// The site the feed is about (absolute URL), if any.
    pub link: Option<&'a str>,
    /// Where `output_dir` is served (ends with `/`); without it there are no self links.
    pub base_url: Option<&'a url::Url>,
}

impl Channel<'_> {
    /// The file name of this feed in format `f`: `NAME.EXT`.
    pub fn file_name(&self, f: Format) -> String {
        file_name(self.name, f)
    }

    /// Absolute URL this feed is served at in format `f`, when `base_url` is set.
    pub fn self_url(&self, f: Format) -> Option<String> {
        file_url(self.base_url?, &self.file_name(f))
    }
}

/// `NAME.EXT`, the file a feed is written to.
pub fn file_name(name: &str, f: Format) -> String {
    format!("{name}.{}", f.extension())
}

/// `base` with `file` appended as one path segment (percent-encoded, so a `?`, `#` or `:` in
/// a feed name cannot turn into a query, fragment or scheme). `None` for a base that cannot
/// have paths, such as `mailto:`.
fn file_url(base: &url::Url, file: &str) -> Option<String> {
    let mut url = base.clone();
    url.path_segments_mut().ok()?.pop_if_empty().push(file);
    Some(url.into())
}

/// Renders `items` as one document in `format`.
///
/// An item whose HTML is still as its source gave it ([`Item::raw`]; the store sanitises
/// what it reads back, so none should come here) is sanitised first.
pub fn render(format: Format, channel: &Channel, items: &[Item]) -> String {
    let finished: Vec<Item>;
    let items = match items.iter().any(|i| i.raw.is_some()) {
        true => {
            finished = (items.iter().cloned())
                .map(|mut item| {
                    finish(&mut item);
                    item
                })
                .collect();
            &finished
        }
        false => items,
    };
    match format {
        Format::Rss => rss::render(channel, items),
        Format::Atom => atom::render(channel, items),
        Format::Json => json::render(channel, items),
    }
}

/// Writers drop the characters XML forbids once more, whatever reached them.
pub(crate) use crate::source::text::strip_forbidden as xml_clean;

/// The items a writer writes, in order: each id once, the first item with it winning (a
/// reader keys items by id, so a second entry with the same id would replace or hide the
/// first), and no item whose id is empty once forbidden characters are dropped (every
/// format requires an id). The pipeline already de-duplicates; this holds whatever arrives.
pub(crate) fn unique(items: &[Item]) -> Vec<&Item> {
    let mut seen = HashSet::new();
    items
        .iter()
        .filter(|i| {
            let id = xml_clean(&i.id);
            !id.trim().is_empty() && seen.insert(id)
        })
        .collect()
}

/// `url` when it is an absolute URL, without forbidden characters; `None` for a relative or
/// unparsable one, which a reader would resolve against the feed's own address and get
/// wrong, and for one that runs code or reads the reader's disk (`javascript:`, `data:`,
/// `vbscript:`, `file:`). Written as given, unless it holds whitespace: then in the
/// parsed, escaped form.
pub(crate) fn absolute(url: &str) -> Option<Cow<'_, str>> {
    let written = xml_clean(url);
    let parsed = url::Url::parse(&written).ok()?;
    if matches!(parsed.scheme(), "javascript" | "data" | "vbscript" | "file") {
        return None;
    }
    if written.contains(char::is_whitespace) {
        return Some(Cow::Owned(parsed.into()));
    }
    Some(written)
}

/// `value`, trimmed, when it is a media type (`type/subtype`, parameters allowed, RFC 6838
/// names), else `None`: Atom's grammar rejects a `type` without a slash, and a reader
/// cannot use a type such as `mp3` anyway.
pub fn media_type(value: &str) -> Option<String> {
    let value = xml_clean(value);
    let value = value.trim();
    let essence = value.split(';').next().unwrap_or_default();
    let (kind, sub) = essence.trim().split_once('/')?;
    let name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    let one_line = !value.contains(['\n', '\r', '\t']);
    (name(kind) && name(sub) && one_line).then(|| value.to_owned())
}

/// `value`, trimmed, when it looks like an email address (`local@domain`, no spaces), else
/// `None`: Atom's grammar requires `.+@.+`, and RSS's `author` must start with an address.
pub(crate) fn email(value: &str) -> Option<String> {
    let value = xml_clean(value);
    let value = value.trim();
    let (local, domain) = value.split_once('@')?;
    let ok = !local.is_empty() && !domain.is_empty() && !value.contains(char::is_whitespace);
    ok.then(|| value.to_owned())
}

/// `type` of an enclosure that does not say; RSS and JSON Feed both require one.
pub(crate) const UNKNOWN_TYPE: &str = "application/octet-stream";

/// Keeps a date inside years `first`–9999 (four digits, as both date formats spell them).
fn clamp(dt: DateTime<Utc>, first: i32) -> DateTime<Utc> {
    let min = Utc.with_ymd_and_hms(first, 1, 1, 0, 0, 0).single();
    let max = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single();
    match (min, max) {
        (Some(min), _) if dt.year() < first => min,
        (_, Some(max)) if dt.year() > 9999 => max,
        _ => dt,
    }
}

/// RFC 822 as RSS wants it (RFC 2822's four-digit form), always in UTC:
/// `Sat, 07 Sep 2002 00:00:01 +0000`. RFC 2822 §3.3 has no year before 1900, and readers
/// take `0001` for 2001: an earlier date is written as the first second of 1900.
pub(crate) fn rfc822(dt: DateTime<Utc>) -> String {
    clamp(dt, 1900)
        .format("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

/// RFC 3339 to the second, in UTC with `Z`: `2002-09-07T00:00:01Z`; years 1–9999.
pub(crate) fn rfc3339(dt: DateTime<Utc>) -> String {
    clamp(dt, 1).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The latest [`Item::modified`] among `items`: when the feed as a whole last changed.
pub(crate) fn newest_modified(items: &[&Item]) -> Option<DateTime<Utc>> {
    items.iter().map(|i| i.modified()).max()
}

/// The latest [`Item::date`] among `items`.
pub(crate) fn newest_date(items: &[&Item]) -> Option<DateTime<Utc>> {
    items.iter().map(|i| i.date()).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel<'a>(base: Option<&'a url::Url>) -> Channel<'a> {
        Channel {
            name: "asia",
            title: "Asia",
            description: None,
            link: None,
            base_url: base,
        }
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::all() {
            assert_eq!(f.extension().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.extension());
        }
        assert!("RSS2".parse::<Format>().is_err());
        assert_eq!(Format::Json.media_type(), "application/feed+json");
    }

    #[test]
    fn self_url_joins_base() {
        let base = url::Url::parse("https://feeds.example.org/out/").unwrap();
        let c = channel(Some(&base));
        assert_eq!(
            c.self_url(Format::Atom).as_deref(),
            Some("https://feeds.example.org/out/asia.atom")
        );
        assert_eq!(channel(None).self_url(Format::Rss), None);
    }

    #[test]
    fn self_url_encodes_odd_names() {
        let base = url::Url::parse("https://feeds.example.org/").unwrap();
        let c = Channel {
            name: "a:b?c#d e",
            ..channel(Some(&base))
        };
        assert_eq!(
            c.self_url(Format::Rss).as_deref(),
            Some("https://feeds.example.org/a:b%3Fc%23d%20e.rss")
        );
    }

    /// The store sanitises what it reads back; an item that comes here raw all the same is
    /// sanitised before it is written.
    #[test]
    fn an_item_with_raw_html_is_sanitised_before_it_is_written() {
        let at = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let raw = Item {
            title: Some("t".into()),
            content: Some(
                r#"<p onclick="x()"><a href="b">b</a><script>alert(1)</script></p>"#.into(),
            ),
            raw: Some(crate::model::Raw {
                base: Some("https://example.org/dir/".into()),
            }),
            ..Item::new("s", "urn:x:1", at)
        };
        for format in Format::all() {
            let out = render(format, &channel(None), std::slice::from_ref(&raw));
            for banned in ["<script", "&lt;script", "alert(", "onclick"] {
                assert!(!out.contains(banned), "{format}: {out}");
            }
            assert!(out.contains("https://example.org/dir/b"), "{format}: {out}");
        }
    }

    #[test]
    fn xml_clean_drops_forbidden_characters_only() {
        assert!(matches!(
            xml_clean("plain ü 日本"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(xml_clean("a\u{0}b\u{1b}c\td\u{FFFE}e\u{FFFF}"), "abc\tde");
        assert_eq!(xml_clean("emoji 🎙"), "emoji 🎙");
    }

    #[test]
    fn unique_keeps_the_first_of_each_id_and_drops_empty_ids() {
        let at = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let item = |id: &str, title: &str| Item {
            title: Some(title.into()),
            ..Item::new("s", id, at)
        };
        let items = [
            item("urn:a", "first"),
            item("urn:b", "b"),
            item("urn:a", "second"),
            item("urn:\u{1}a", "same id once the control is gone"),
            item("\u{0}", "no id at all"),
            item(" ", "blank id"),
        ];
        let kept: Vec<&str> = unique(&items)
            .iter()
            .map(|i| i.title.as_deref().unwrap())
            .collect();
        assert_eq!(kept, ["first", "b"]);
    }

    #[test]
    fn only_absolute_urls_pass() {
        for ok in [
            "https://example.org/a?b=1&c#d",
            "http://例え.jp/パス",
            "mailto:a@example.org",
            "tag:example.org,2024:x",
        ] {
            assert_eq!(absolute(ok).as_deref(), Some(ok));
        }
        for relative in [
            "",
            "/a",
            "a/b",
            "//example.org/a",
            "../x",
            "?q",
            "#f",
            "example.org",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "file:///etc/passwd",
        ] {
            assert_eq!(absolute(relative), None, "{relative:?}");
        }
        assert_eq!(
            absolute(" https://example.org/a b\u{0}").as_deref(),
            Some("https://example.org/a%20b")
        );
    }

    #[test]
    fn media_types_need_a_slash_and_emails_an_at() {
        assert_eq!(media_type(" audio/mpeg ").as_deref(), Some("audio/mpeg"));
        assert_eq!(
            media_type("text/html; charset=utf-8").as_deref(),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(
            media_type("application/vnd.ms-excel+xml").as_deref(),
            Some("application/vnd.ms-excel+xml")
        );
        for bad in [
            "mp3",
            "",
            "/",
            "audio/",
            "/mpeg",
            "audio /mpeg",
            "a/b\nc",
            "audio/mp3 x",
        ] {
            assert_eq!(media_type(bad), None, "{bad:?}");
        }
        assert_eq!(email(" a@b.example ").as_deref(), Some("a@b.example"));
        for bad in ["nobody", "@b", "a@", "a b@c", ""] {
            assert_eq!(email(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn dates_read_back_as_rfc_2822_and_rfc_3339() {
        let dates = [
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(2024, 2, 29, 12, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        ];
        let y1900 = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap();
        for dt in dates {
            let rss = rfc822(dt + chrono::Duration::milliseconds(999));
            assert_eq!(
                DateTime::parse_from_rfc2822(&rss).map(|d| d.to_utc()),
                Ok(dt.max(y1900)),
                "{rss}: RFC 2822 has no year before 1900"
            );
            assert!(rss.ends_with(" +0000") && rss.len() == 31, "{rss}");
            let atom = rfc3339(dt + chrono::Duration::milliseconds(999));
            assert_eq!(
                DateTime::parse_from_rfc3339(&atom).map(|d| d.to_utc()),
                Ok(dt),
                "{atom}"
            );
            assert!(atom.ends_with('Z') && atom.len() == 20, "{atom}");
        }
    }

    #[test]
    fn dates_use_utc_and_fixed_width() {
        let dt = Utc.with_ymd_and_hms(2002, 9, 7, 0, 0, 1).unwrap()
            + chrono::Duration::milliseconds(250);
        assert_eq!(rfc822(dt), "Sat, 07 Sep 2002 00:00:01 +0000");
        assert_eq!(rfc3339(dt), "2002-09-07T00:00:01Z");
        let far = Utc.with_ymd_and_hms(20000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(rfc3339(far), "9999-12-31T23:59:59Z");
    }
}
