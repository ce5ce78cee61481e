//! The config file: `[daemon]`, `[[source]]` and `[[feed]]` tables, read from TOML and
//! validated into a resolved [`Config`] in which every value is typed and checked.
//!
//! Reading collects **every** problem — syntax, unknown keys, wrong types, bad cron, regex,
//! duration, size or URL, duplicate or unknown names — and reports them together, each with
//! file, line, column and key. Nothing here touches the network or the store.

mod pick;
mod raw;
mod units;
mod validate;
mod zone;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use regex::Regex;
use url::Url;

use crate::publish::Format;

pub use pick::{Pick, parse_pick};
pub use units::{format_duration, parse_duration, parse_size};
pub use validate::parse_schedule;
pub use zone::parse_timezone;

/// A resolved, valid config.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    pub daemon: Daemon,
    pub sources: Vec<SourceConfig>,
    pub feeds: Vec<FeedConfig>,
}

/// `[daemon]`, with defaults filled in and paths made absolute. Equal when a reload changed
/// nothing in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Daemon {
    pub output_dir: PathBuf,
    pub state_dir: PathBuf,
    pub schedule: Schedule,
    pub concurrency: usize,
    pub per_host: usize,
    pub timeout: Duration,
    pub max_body: u64,
    pub user_agent: String,
    pub base_url: Option<Url>,
    pub retain: Duration,
    pub title: String,
    /// The zone in which sources' cron schedules are read, unless a source names its own.
    pub timezone: Tz,
    /// How long shutdown waits for polls in flight before abandoning them.
    pub grace: Duration,
    /// The longest a server's `Cache-Control: max-age` may postpone a source's next poll,
    /// so a server asking for a week of quiet cannot silence a source that long.
    pub cache_ceiling: Duration,
}

/// A 5-field (minutes) or 6-field (seconds) cron expression, or `@hourly`-style nickname.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// As written, for messages and `status`.
    pub text: String,
    /// Shared: a parsed cron is 5 KB, and thousands of sources share the default one (each
    /// copy of a config, and each daemon task, took 25 MB for 5000 sources).
    pub cron: Arc<croner::Cron>,
}

/// Two schedules are equal when written alike: the same text always parses to the same cron.
impl PartialEq for Schedule {
    fn eq(&self, other: &Schedule) -> bool {
        self.text == other.text
    }
}

/// One `[[source]]`. Equal when a reload changed nothing in it.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceConfig {
    pub name: String,
    /// `http`, `https` or `file` (plain paths are turned into `file://` URLs).
    pub url: Url,
    pub schedule: Schedule,
    pub tags: Vec<String>,
    /// How long an item stays stored after the source last listed it; the newest
    /// [`KEEP_NEWEST`] items of each source are kept regardless.
    pub retain: Duration,
    /// The zone `schedule` is read in: the source's own, else `[daemon].timezone`; for a
    /// web page, also the zone of dates written without one.
    pub timezone: Tz,
    /// `full_text = true`: each new item's page is fetched and its article replaces the
    /// item's content (see [`crate::source::fulltext`]).
    pub full_text: Option<FullText>,
    /// `[source.html]`: the source is a web page read with these selectors; `None` for a
    /// feed. Boxed: most sources are feeds, and with the settings in place (816 bytes a
    /// source) a config of 5000 sources took 12.8 ms to load rather than 8.7 ms.
    pub html: Option<Box<HtmlConfig>>,
}

/// How a full-text source's articles are cut out of their pages.
#[derive(Clone, Debug, PartialEq)]
pub struct FullText {
    /// `content`: the article's container; `None` lets Readability find it.
    pub content: Option<Pick>,
    /// `remove`: elements dropped from the page before the article is taken out.
    pub remove: Vec<Pick>,
}

impl SourceConfig {
    /// A feed source at `url` with `daemon`'s defaults, as if configured with only a name
    /// and a URL (for `preview URL` and tests).
    pub fn new(name: &str, url: Url, daemon: &Daemon) -> SourceConfig {
        SourceConfig {
            name: name.to_string(),
            url,
            schedule: daemon.schedule.clone(),
            tags: Vec::new(),
            retain: daemon.retain,
            timezone: daemon.timezone,
            full_text: None,
            html: None,
        }
    }
}

/// `[source.html]`, resolved: selectors parsed, defaults filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct HtmlConfig {
    /// Each element it matches is one item; the other picks apply inside it.
    pub item: Pick,
    pub title: Option<Pick>,
    /// Without an attribute, an element's `href` (an `<a>`'s link).
    pub link: Option<Pick>,
    /// The element's HTML, sanitised like a feed's.
    pub summary: Option<Pick>,
    /// Without an attribute, `datetime` (as on `<time>`) before the text.
    pub date: Option<Pick>,
    pub author: Option<Pick>,
    /// Without an attribute, `data-src` and `srcset` before `src` (lazy-loading pages put a
    /// placeholder in `src`).
    pub image: Option<Pick>,
    /// Without it, the item's id is its canonical link.
    pub id: Option<Pick>,
    /// The next listing page's link, applied to the whole page.
    pub next: Option<Pick>,
    /// Listing pages read per poll: 1 without `next`, else 5 unless set (at most
    /// [`MAX_PAGES`]).
    pub max_pages: usize,
    /// strftime format of dates; without it, [`crate::source::humandate`] reads them.
    pub date_format: Option<String>,
    /// Read `01/02/2025` as 1 February (day first) rather than 2 January.
    pub day_first: bool,
}

/// The most listing pages `max_pages` may ask for.
pub const MAX_PAGES: usize = 50;

/// However old they are, this many of each source's newest items stay in the store.
pub const KEEP_NEWEST: usize = 500;

/// One `[[feed]]`. Equal when a reload changed nothing in it (regexes compare as written).
#[derive(Clone, Debug)]
pub struct FeedConfig {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub link: Option<String>,
    /// Names of the selected sources, in config order (tags already expanded).
    pub sources: Vec<String>,
    pub formats: Vec<Format>,
    pub limit: usize,
    pub max_age: Option<Duration>,
    pub include: Vec<Regex>,
    pub exclude: Vec<Regex>,
}

impl PartialEq for FeedConfig {
    fn eq(&self, other: &FeedConfig) -> bool {
        // Named field by field, so a new field cannot be forgotten here.
        let FeedConfig {
            name,
            title,
            description,
            link,
            sources,
            formats,
            limit,
            max_age,
            include,
            exclude,
        } = self;
        let same =
            |a: &[Regex], b: &[Regex]| a.iter().map(Regex::as_str).eq(b.iter().map(Regex::as_str));
        *name == other.name
            && *title == other.title
            && *description == other.description
            && *link == other.link
            && *sources == other.sources
            && *formats == other.formats
            && *limit == other.limit
            && *max_age == other.max_age
            && same(include, &other.include)
            && same(exclude, &other.exclude)
    }
}

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Validates `text` as if read from `path` (relative paths resolve against its folder).
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        validate::validate(text, path).map_err(|problems| Error::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }

    /// The source called `name`.
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }
}

/// The `file://` URL of a path, made absolute against the working folder.
pub fn file_url(path: &Path) -> Result<Url, String> {
    let absolute = std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Url::from_file_path(&absolute).map_err(|()| format!("{} is not a usable path", path.display()))
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", render_problems(path, problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

/// One thing wrong with the file, located by line and column (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    /// Where in the config, e.g. `source "news".schedule` or `feed[2].sources`.
    pub key: String,
    pub message: String,
}

fn render_problems(path: &Path, problems: &[Problem]) -> String {
    let mut out = format!(
        "{} has {} problem{}:",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        out.push_str(&format!("\n  {}:{p}", path.display()));
    }
    out
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.line, self.column, self.key, self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::raw::{RawDaemon, RawFeed, RawHtml, RawSource};
    use super::*;
    use serde::de::{self, Deserialize, Visitor};

    /// The keys a config table accepts, as serde knows them (so the list cannot drift).
    fn fields<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
        #[derive(Debug)]
        struct Found(&'static [&'static str]);
        impl std::fmt::Display for Found {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }
        impl std::error::Error for Found {}
        impl de::Error for Found {
            fn custom<M: std::fmt::Display>(_: M) -> Self {
                Found(&[])
            }
        }
        struct Probe;
        impl<'de> de::Deserializer<'de> for Probe {
            type Error = Found;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Found> {
                Err(Found(&[]))
            }
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Found> {
                Err(Found(fields))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
                bytes byte_buf option unit unit_struct newtype_struct seq tuple
                tuple_struct map enum identifier ignored_any
            }
        }
        match T::deserialize(Probe) {
            Err(Found(fields)) => fields,
            Ok(_) => unreachable!("the probe never yields a value"),
        }
    }

    #[test]
    fn example_config_is_valid_and_sets_every_key() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let config = Config::parse(&text, &path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!config.sources.is_empty() && !config.feeds.is_empty());
        assert!(config.sources.iter().any(|s| s.html.is_some()));

        let doc: toml::Table = toml::from_str(&text).unwrap();
        let tables = |key: &str| -> Vec<toml::Table> {
            let (key, sub) = key
                .split_once('.')
                .map_or((key, None), |(k, s)| (k, Some(s)));
            let found: Vec<toml::Table> = match doc.get(key) {
                Some(toml::Value::Table(t)) => vec![t.clone()],
                Some(toml::Value::Array(a)) => {
                    a.iter().filter_map(|v| v.as_table().cloned()).collect()
                }
                _ => vec![],
            };
            match sub {
                None => found,
                Some(sub) => found
                    .iter()
                    .filter_map(|t| t.get(sub)?.as_table().cloned())
                    .collect(),
            }
        };
        // (table, key) of every `key = …` line with a comment line right above it.
        let mut commented = Vec::new();
        let mut table = "";
        let mut previous = "";
        for line in text.lines() {
            if let Some(header) = line.strip_prefix('[') {
                table = header.trim_matches(['[', ']']);
            } else if let Some((key, _)) = line.split_once(" =")
                && previous.starts_with('#')
            {
                commented.push((table.to_string(), key.to_string()));
            }
            previous = line;
        }
        for (table, keys) in [
            ("daemon", fields::<RawDaemon>()),
            ("source", fields::<RawSource>()),
            ("feed", fields::<RawFeed>()),
            ("source.html", fields::<RawHtml>()),
        ] {
            assert!(!keys.is_empty());
            for key in keys {
                assert!(
                    tables(table).iter().any(|t| t.contains_key(*key)),
                    "config/example.toml does not show {table}.{key}"
                );
                assert!(
                    commented.contains(&(table.to_string(), key.to_string())),
                    "{table}.{key} has no comment line above it"
                );
            }
        }
    }

    #[test]
    fn a_reload_sees_exactly_what_changed() {
        let text = r#"
[daemon]
timezone = "Europe/Berlin"

[[source]]
name = "a"
url = "https://example.org/a.xml"
schedule = "0 * * * *"

[[feed]]
name = "f"
include = ["(?i)korea"]
"#;
        let path = Path::new("/etc/syndic/syndic.toml");
        let before = Config::parse(text, path).unwrap();
        let same = Config::parse(text, path).unwrap();
        assert_eq!(before.daemon, same.daemon);
        assert_eq!(before.sources, same.sources);
        assert_eq!(before.feeds, same.feeds);

        let edit = |from: &str, to: &str| {
            assert!(text.contains(from), "{from}");
            Config::parse(&text.replace(from, to), path).unwrap()
        };
        let after = edit("0 * * * *", "30 * * * *");
        assert_ne!(before.sources, after.sources, "schedule");
        assert_eq!(before.feeds, after.feeds);
        let after = edit("Europe/Berlin", "UTC");
        assert_ne!(before.daemon, after.daemon, "daemon zone");
        assert_ne!(
            before.sources, after.sources,
            "the zone the source inherits"
        );
        let after = edit("(?i)korea", "(?i)china");
        assert_ne!(before.feeds, after.feeds, "regex");
        assert_eq!(before.sources, after.sources);
        let after = edit("[[feed]]", "full_text = true\n[[feed]]");
        assert_ne!(before.sources, after.sources, "full_text");
        let with = |rule: &str| edit("[[feed]]", &format!("full_text = true\n{rule}\n[[feed]]"));
        assert_eq!(
            with("remove = [\".ad\"]").sources,
            with("remove = [\".ad\"]").sources
        );
        assert_ne!(
            with("remove = [\".ad\"]").sources,
            with("remove = [\".ads\"]").sources,
            "selectors compare as written"
        );
        let after = edit("[[feed]]", "[[feed]]\nlimit = 5");
        assert_ne!(before.feeds, after.feeds, "limit");
    }

    #[test]
    fn demo_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml");
        let config = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.sources.len(), 6);
        assert!(config.source("top-news").is_some_and(|s| s.html.is_some()));
    }
}
