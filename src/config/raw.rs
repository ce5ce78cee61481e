//! What the user typed: serde structs for each table of `syndic.toml`, with spans.
//!
//! Nothing here is checked beyond types and key names (`deny_unknown_fields` makes a typo an
//! error); [`super::validate`] turns these into the resolved config. Values that validation
//! inspects keep their [`Spanned`] position so its problems can name line and column.

use serde::Deserialize;
use toml::Spanned;

/// `[daemon]`: settings for the whole program. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDaemon {
    /// Where published files go; relative to the config file's folder.
    pub output_dir: Option<Spanned<String>>,
    /// Where the SQLite store lives; relative to the config file's folder.
    pub state_dir: Option<Spanned<String>>,
    /// Default schedule of every source.
    pub schedule: Option<Spanned<String>>,
    /// Fetches in flight at once.
    pub concurrency: Option<Spanned<u32>>,
    /// Fetches in flight per host.
    pub per_host: Option<Spanned<u32>>,
    /// Limit on one whole fetch, e.g. "30s".
    pub timeout: Option<Spanned<String>>,
    /// Largest body read from a source, e.g. "8MiB".
    pub max_body: Option<Spanned<String>>,
    pub user_agent: Option<Spanned<String>>,
    /// Public URL of `output_dir`: gives feeds their self links and the OPML its URLs.
    pub base_url: Option<Spanned<String>>,
    /// How long an item stays stored after its source last listed it, e.g. "90d".
    pub retain: Option<Spanned<String>>,
    /// Title of `index.opml`.
    pub title: Option<Spanned<String>>,
    /// IANA time zone in which cron schedules are read, e.g. "Europe/Berlin".
    pub timezone: Option<Spanned<String>>,
    /// How long shutdown waits for polls in flight, e.g. "10s".
    pub grace: Option<Spanned<String>>,
    /// Longest a server's `Cache-Control: max-age` may postpone a source's next poll.
    pub cache_ceiling: Option<Spanned<String>>,
}

/// One `[[source]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub name: Spanned<String>,
    /// `http(s)://`, `file://` or a path.
    pub url: Spanned<String>,
    pub schedule: Option<Spanned<String>>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    /// Overrides `[daemon].retain` for this source.
    pub retain: Option<Spanned<String>>,
    /// Overrides `[daemon].timezone` for this source's schedule.
    pub timezone: Option<Spanned<String>>,
    /// Fetch each new item's page and put its article in the item's content.
    pub full_text: Option<Spanned<bool>>,
    /// CSS selector of the article's container on those pages (else Readability finds it).
    pub content: Option<Spanned<String>>,
    /// CSS selectors of elements dropped from the article.
    #[serde(default)]
    pub remove: Vec<Spanned<String>>,
    /// `[source.html]`: present for a web page read with selectors instead of a feed. Read
    /// as a table of its own (see `validate`), so that its problems name its keys.
    #[serde(skip)]
    pub html: Option<Box<RawHtml>>,
}

/// `[source.html]`: CSS selectors (`"sel"` or `"sel@attr"`), each relative to one item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHtml {
    /// Each element it matches on the page is one item.
    pub item: Spanned<String>,
    pub title: Option<Spanned<String>>,
    pub link: Option<Spanned<String>>,
    pub summary: Option<Spanned<String>>,
    pub date: Option<Spanned<String>>,
    pub author: Option<Spanned<String>>,
    pub image: Option<Spanned<String>>,
    pub id: Option<Spanned<String>>,
    /// The link to the next listing page, applied to the whole page.
    pub next: Option<Spanned<String>>,
    /// Most listing pages read per poll, following `next`.
    pub max_pages: Option<Spanned<u32>>,
    /// strftime format of the dates, when the built-in reading gets them wrong.
    pub date_format: Option<Spanned<String>>,
    /// Read `01/02/2025` as 1 February.
    pub day_first: Option<bool>,
    /// The full-text keys of `[[source]]` may sit here too, beside the selectors they
    /// belong with (as DESIGN.md shows them); each may be set in one place only.
    pub full_text: Option<Spanned<bool>>,
    pub content: Option<Spanned<String>>,
    #[serde(default)]
    pub remove: Vec<Spanned<String>>,
}

/// One `[[feed]]`: an output feed merged from some sources.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeed {
    pub name: Spanned<String>,
    pub title: Option<Spanned<String>>,
    pub description: Option<String>,
    /// The site the feed is about (its `<link>` / `home_page_url`).
    pub link: Option<Spanned<String>>,
    /// Source names or `tag:NAME`; absent means every source.
    pub sources: Option<Vec<Spanned<String>>>,
    pub formats: Option<Vec<Spanned<String>>>,
    pub limit: Option<Spanned<u32>>,
    pub max_age: Option<Spanned<String>>,
    #[serde(default)]
    pub include: Vec<Spanned<String>>,
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
}
