//! Publishing: render each output feed in RSS 2.0, Atom 1.0 and JSON Feed 1.1, plus an OPML
//! index, and write every file atomically, only when its bytes change.
//!
//! Renderers are pure functions from a [`Channel`] and items to text: the same input always
//! gives the same bytes, because every date comes from the items (never the clock) and
//! nothing iterates a hash map. Items arrive selected, de-duplicated, sorted and clean; the
//! writers still drop characters XML forbids and escape everything, so whatever reaches
//! them, the output parses. This module does not choose, filter or order items (that is
//! [`crate::pipeline`]) and does not decide where files go beyond `NAME.EXT` (the caller
//! passes paths to [`write_if_changed`]).

pub mod atom;
pub mod feeds;
#[cfg(test)]
mod golden;
pub mod json;
pub mod opml;
pub mod rss;
pub mod write;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Item;

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
pub fn render(format: Format, channel: &Channel, items: &[Item]) -> String {
    match format {
        Format::Rss => rss::render(channel, items),
        Format::Atom => atom::render(channel, items),
        Format::Json => json::render(channel, items),
    }
}

/// Writers drop the characters XML forbids once more, whatever reached them.
pub(crate) use crate::source::text::strip_forbidden as xml_clean;

/// `type` of an enclosure that does not say; RSS and JSON Feed both require one.
pub(crate) const UNKNOWN_TYPE: &str = "application/octet-stream";

/// Keeps a date inside years 1–9999, the range both date formats can spell with four digits.
fn clamp(dt: DateTime<Utc>) -> DateTime<Utc> {
    let min = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).single();
    let max = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single();
    match (min, max) {
        (Some(min), _) if dt.year() < 1 => min,
        (_, Some(max)) if dt.year() > 9999 => max,
        _ => dt,
    }
}

/// RFC 822 as RSS wants it, always in UTC: `Sat, 07 Sep 2002 00:00:01 +0000`.
pub(crate) fn rfc822(dt: DateTime<Utc>) -> String {
    clamp(dt).format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// RFC 3339 to the second, in UTC with `Z`: `2002-09-07T00:00:01Z`.
pub(crate) fn rfc3339(dt: DateTime<Utc>) -> String {
    clamp(dt).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The latest [`Item::modified`] among `items`: when the feed as a whole last changed.
pub(crate) fn newest_modified(items: &[Item]) -> Option<DateTime<Utc>> {
    items.iter().map(Item::modified).max()
}

/// The latest [`Item::date`] among `items`.
pub(crate) fn newest_date(items: &[Item]) -> Option<DateTime<Utc>> {
    items.iter().map(Item::date).max()
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
    fn dates_use_utc_and_fixed_width() {
        let dt = Utc.with_ymd_and_hms(2002, 9, 7, 0, 0, 1).unwrap()
            + chrono::Duration::milliseconds(250);
        assert_eq!(rfc822(dt), "Sat, 07 Sep 2002 00:00:01 +0000");
        assert_eq!(rfc3339(dt), "2002-09-07T00:00:01Z");
        let far = Utc.with_ymd_and_hms(20000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(rfc3339(far), "9999-12-31T23:59:59Z");
    }
}
