//! The one item model every source kind is normalised into and every output is rendered from.
//!
//! Each field says which RSS 2.0, Atom 1.0 and JSON Feed 1.1 elements it is read from and
//! written to. There is no RSS↔Atom conversion layer: parsers fill an [`Item`], writers read
//! one. Values here are already clean — absolute URLs, UTC dates, sanitised HTML, no
//! characters that XML forbids — so writers only escape. The one exception is an item on
//! its way into the store, whose HTML may still be as the source gave it ([`Item::raw`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One story, from any source, as stored and published.
///
/// Its JSON is how the store keeps it (see [`crate::store`]): without `id` and `source`,
/// which the store keeps as columns and puts back on reading, and without the fields that
/// are empty. JSON from an older build, which has all of them, reads the same.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Stable identity, unique across every output: the upstream id when it is an absolute URI
    /// (`http:`, `tag:`, `urn:` …), else `urn:syndic:SOURCE:ID`; with no upstream id, the
    /// canonical link; with neither, `urn:syndic:SOURCE:sha256-…` of title and content.
    /// In: RSS `guid` (RSS 1.0 `rdf:about` when there is neither guid nor link), Atom `id`,
    /// JSON `id`. Out: RSS `guid`, Atom `id`, JSON `id`.
    #[serde(default, skip_serializing)]
    pub id: String,
    /// Name of the `[[source]]` the item came from. Not published as an element. Shared:
    /// the items read from one document hold one name.
    #[serde(default, skip_serializing)]
    pub source: Arc<str>,
    /// Plain text (entities decoded, markup removed, whitespace collapsed).
    /// In/out: RSS `title`, Atom `title`, JSON `title`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Absolute URL of the story. In: RSS `link` (or a permalink `guid`), Atom
    /// `link rel="alternate"`, JSON `url`. Out: the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// In: RSS `author`/`dc:creator`, Atom `author`, JSON `authors`. Out: RSS `dc:creator`
    /// (and `author` when there is an email), Atom `author`, JSON `authors`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<Person>,
    /// UTC; what the item is sorted and filtered by. In: RSS `pubDate`/`dc:date`, Atom
    /// `published` (`issued` in 0.3), JSON `date_published`; when a source gives only an
    /// update date, that. Out: RSS `pubDate`, Atom `published`, JSON `date_published`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    /// UTC. In: Atom `updated` (`modified` in 0.3), `dc:modified`, JSON `date_modified`; set
    /// to the poll time when a stored item's content changes. Never moves the item: see
    /// [`Item::date`]. Out: Atom `updated`, JSON `date_modified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    /// Sanitised HTML with absolute URLs (as the source gave it while [`Item::raw`] is
    /// set). In: RSS `description`, Atom `summary`, JSON `summary`/`content_text`. Out:
    /// RSS `description`, Atom `summary type="html"`, JSON `summary` (as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Sanitised HTML with absolute URLs (as the source gave it while [`Item::raw`] is
    /// set). In: RSS `content:encoded`, Atom `content`, JSON `content_html`. Out: RSS
    /// `content:encoded`, Atom `content type="html"`, JSON `content_html`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// In: RSS `category`, Atom `category term`/`label`, JSON `tags`. Out: the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Attached media; podcasts depend on these surviving. In/out: RSS `enclosure`, Atom
    /// `link rel="enclosure"`, JSON `attachments`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enclosures: Vec<Enclosure>,
    /// Absolute URL of the story's picture. In: `media:thumbnail`/`media:content` image,
    /// `itunes:image`, JSON `image`. Out: JSON `image`; RSS and Atom carry it only inside
    /// the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Set while `summary` and `content` hold the source's HTML as it gave it, not yet
    /// sanitised. A poll stores an item so, and the store sanitises it as it reads it back
    /// ([`crate::source::normalise::finish`]), as do `preview` and, should one come to it
    /// so, [`crate::publish::render`]: sanitising every new item had been a tenth of a
    /// first poll's CPU, for items most of which no feed ever shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<Raw>,
    /// When syndic first stored the item. Kept across polls and restarts; it stands in for
    /// the date of an item that has none, so such an item never jumps to "now".
    pub first_seen: DateTime<Utc>,
}

/// What sanitising an item's raw HTML needs besides the HTML (see [`Item::raw`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Raw {
    /// The absolute URL relative URLs in the HTML are resolved against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
}

/// An author or contributor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Display name; the email address when that is all there is.
    pub name: String,
    pub email: Option<String>,
    /// Absolute URL of the person's page (Atom `uri`, JSON `url`).
    pub url: Option<String>,
}

/// A file attached to an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enclosure {
    /// Absolute URL.
    pub url: String,
    /// Media type such as `audio/mpeg`.
    pub mime_type: Option<String>,
    /// Size in bytes, when the source states it.
    pub length: Option<u64>,
}

/// What an attached file is, as far as a reader cares: something to play, a picture, or
/// anything else (a Flash player, a document).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    /// A recording or a video.
    Playable,
    Image,
    Other,
}

/// Extensions of recordings and videos, for files whose type is not given.
const PLAYABLE_EXTENSIONS: &[&str] = &[
    "mp3", "m4a", "aac", "ogg", "oga", "opus", "wav", "flac", "mp4", "m4v", "mov", "webm", "mkv",
];

/// Extensions of pictures, for files whose type is not given.
const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "gif", "webp", "avif"];

impl MediaKind {
    /// By the media type (`audio/mpeg`) when one is given, else by the extension of the
    /// URL's path (`…/ep.mp3?token=1`).
    pub fn of(mime_type: Option<&str>, url: &str) -> MediaKind {
        if let Some(ty) = mime_type.map(str::trim).filter(|t| !t.is_empty()) {
            let top = ty.split('/').next().unwrap_or_default();
            return if top.eq_ignore_ascii_case("audio") || top.eq_ignore_ascii_case("video") {
                MediaKind::Playable
            } else if top.eq_ignore_ascii_case("image") {
                MediaKind::Image
            } else {
                MediaKind::Other
            };
        }
        let path = url::Url::parse(url.trim()).map(|u| u.path().to_owned());
        let path = path.as_deref().unwrap_or_default();
        let file = path.rsplit('/').next().unwrap_or_default();
        let Some((_, ext)) = file.rsplit_once('.') else {
            return MediaKind::Other;
        };
        let known = |list: &[&str]| list.iter().any(|e| e.eq_ignore_ascii_case(ext));
        if known(PLAYABLE_EXTENSIONS) {
            MediaKind::Playable
        } else if known(IMAGE_EXTENSIONS) {
            MediaKind::Image
        } else {
            MediaKind::Other
        }
    }
}

impl Enclosure {
    /// What the file is, by its type, else by its URL.
    pub fn kind(&self) -> MediaKind {
        MediaKind::of(self.mime_type.as_deref(), &self.url)
    }
}

impl Item {
    /// An item with only its identity and first-seen time; every other field empty.
    pub fn new(source: &str, id: &str, first_seen: DateTime<Utc>) -> Item {
        Item {
            id: id.to_owned(),
            source: source.into(),
            title: None,
            link: None,
            authors: Vec::new(),
            published: None,
            updated: None,
            summary: None,
            content: None,
            categories: Vec::new(),
            enclosures: Vec::new(),
            image: None,
            raw: None,
            first_seen,
        }
    }

    /// The date the item is sorted and filtered by: published, else first seen. Not
    /// `updated`, which moves when the content changes: an edit must not bring an old item
    /// back to the top, nor an undated one to "now".
    pub fn date(&self) -> DateTime<Utc> {
        self.published.unwrap_or(self.first_seen)
    }

    /// The date the item last changed: updated, else [`Item::date`].
    pub fn modified(&self) -> DateTime<Utc> {
        self.updated.unwrap_or_else(|| self.date())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_kind_by_type_else_by_extension() {
        use MediaKind::*;
        for (ty, url, kind) in [
            (Some("audio/mpeg"), "https://x.example/ep", Playable),
            (Some("Video/MP4"), "https://x.example/v.jpg", Playable),
            (Some("image/jpeg"), "https://x.example/ep.mp3", Image),
            (
                Some("application/x-shockwave-flash"),
                "https://x.example/v.mp4",
                Other,
            ),
            (Some(" "), "https://x.example/ep.MP3?token=a.b", Playable),
            (None, "https://x.example/a/v.webm#t=10", Playable),
            (None, "https://x.example/cover.jpeg", Image),
            (None, "https://x.example/watch?v=1.mp4", Other),
            (None, "https://x.example/v/abc", Other),
            (None, "https://ep.mp3/", Other),
            (None, "not a url.mp3", Other),
        ] {
            assert_eq!(MediaKind::of(ty, url), kind, "{ty:?} {url}");
        }
    }
}
