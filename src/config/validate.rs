//! Raw tables → resolved [`Config`], collecting every problem before failing.
//!
//! The document is parsed once into spanned TOML values. Each table (`[daemon]`, each
//! `[[source]]`, each `[[feed]]`) is deserialised on its own, so one bad entry does not hide
//! the others; when a key is unknown or mistyped it is reported, dropped, and the table is
//! tried again, so one typo does not hide the next. Then every value is checked.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use url::Url;

use chrono::format::{Item as FormatItem, StrftimeItems};

use super::pick::parse_pick;
use super::raw::{RawDaemon, RawFeed, RawHtml, RawSource};
use super::units::{parse_duration, parse_size};
use super::zone::parse_timezone;
use super::{
    Config, Daemon, FeedConfig, FullText, HtmlConfig, MAX_PAGES, Pick, Problem, Schedule,
    SourceConfig, file_url,
};
use crate::publish::Format;

const DEFAULT_SCHEDULE: &str = "*/30 * * * *";
const DEFAULT_LIMIT: u32 = 100;
/// Listing pages read per poll when `next` is given without `max_pages`.
const DEFAULT_MAX_PAGES: usize = 5;

pub(super) fn validate(text: &str, path: &Path) -> Result<Config, Vec<Problem>> {
    let mut v = Validator {
        text,
        problems: Vec::new(),
    };
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        for e in errors {
            let at = e.span().map_or(0, |s| s.start);
            v.problem(at, "syntax", e.message().trim().to_string());
        }
        return Err(v.problems);
    }
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut top = doc.into_inner();

    let raw_daemon = match top.remove("daemon") {
        Some(value) => v.table::<RawDaemon>("daemon", value).unwrap_or_default(),
        None => RawDaemon::default(),
    };
    let raw_sources: Vec<(String, RawSource)> = match top.remove("source") {
        Some(value) => v.sources(value),
        None => Vec::new(),
    };
    let raw_feeds: Vec<(String, RawFeed)> = match top.remove("feed") {
        Some(value) => v.array("feed", value),
        None => Vec::new(),
    };
    for (key, _) in top.iter() {
        v.problem(
            key.span().start,
            key.get_ref(),
            "unknown table or key (expected [daemon], [[source]] or [[feed]])".into(),
        );
    }

    // Feeds are checked against every source the file names, even one with problems of its
    // own, so a bad schedule does not also read as "unknown source" in every feed.
    let catalogue: Vec<(String, Vec<String>)> = raw_sources
        .iter()
        .map(|(_, s)| {
            let tags = s.tags.iter().map(|t| t.get_ref().clone()).collect();
            (s.name.get_ref().clone(), tags)
        })
        .collect();
    let spans = |names: Vec<&Spanned<String>>| -> Vec<(String, usize)> {
        names
            .into_iter()
            .map(|n| (n.get_ref().clone(), n.span().start))
            .collect()
    };
    let source_names = spans(raw_sources.iter().map(|(_, s)| &s.name).collect());
    let feed_names = spans(raw_feeds.iter().map(|(_, f)| &f.name).collect());
    let daemon = v.daemon(raw_daemon, &dir);
    let mut sources = Vec::with_capacity(raw_sources.len());
    sources.extend(
        raw_sources
            .into_iter()
            .filter_map(|(key, raw)| v.source(&key, raw, &daemon, &dir)),
    );
    v.unique_names("source", &source_names);
    let feeds: Vec<FeedConfig> = raw_feeds
        .into_iter()
        .filter_map(|(key, raw)| v.feed(&key, raw, &catalogue))
        .collect();
    v.unique_names("feed", &feed_names);

    v.problems.sort_by_key(|p| (p.line, p.column));
    if v.problems.is_empty() {
        Ok(Config {
            path: path.to_path_buf(),
            daemon,
            sources,
            feeds,
        })
    } else {
        Err(v.problems)
    }
}

struct Validator<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn problem(&mut self, offset: usize, key: &str, message: String) {
        let (line, column) = line_column(self.text, offset);
        self.problems.push(Problem {
            line,
            column,
            key: key.to_string(),
            message,
        });
    }

    fn at<T>(&mut self, value: &Spanned<T>, key: &str, message: String) {
        self.problem(value.span().start, key, message);
    }

    /// Deserialises one table; on an unknown or mistyped key, reports it, drops it and tries
    /// again so that every bad key is reported. `None` when the table is beyond use.
    fn table<T: DeserializeOwned>(&mut self, key: &str, mut value: Spanned<DeValue>) -> Option<T> {
        if !matches!(value.get_ref(), DeValue::Table(_)) {
            self.at(&value, key, "must be a table".into());
            return None;
        }
        let mut dropped: Vec<String> = Vec::new();
        loop {
            let error = match T::deserialize(ValueDeserializer::from(value.clone())) {
                Ok(parsed) => return Some(parsed),
                Err(e) => e,
            };
            let message = error.message().trim().to_string();
            let at = error.span().map_or(value.span().start, |s| s.start);
            if dropped
                .iter()
                .any(|k| message.contains(&format!("missing field `{k}`")))
            {
                return None; // already reported as the key's own problem
            }
            let DeValue::Table(table) = value.get_mut() else {
                return None;
            };
            let culprit = table
                .iter()
                .find(|(k, v)| k.span().contains(&at) || v.span().contains(&at))
                .map(|(k, _)| k.get_ref().to_string());
            match culprit {
                Some(name) => {
                    self.problem(at, &format!("{key}.{name}"), message);
                    table.remove(name.as_str());
                    dropped.push(name);
                }
                None => {
                    self.problem(at, key, message);
                    return None;
                }
            }
        }
    }

    /// Deserialises an array of tables, naming each entry `KEY "NAME"` (or `KEY[N]`).
    fn array<T: DeserializeOwned>(
        &mut self,
        key: &str,
        value: Spanned<DeValue>,
    ) -> Vec<(String, T)> {
        let span = value.span();
        let DeValue::Array(items) = value.into_inner() else {
            self.problem(
                span.start,
                key,
                format!("must be an array of tables: write [[{key}]]"),
            );
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let label = entry_label(key, i, &item);
            if let Some(parsed) = self.table::<T>(&label, item) {
                out.push((label, parsed));
            }
        }
        out
    }

    /// The `[[source]]` array, like [`Validator::array`], with each `[source.html]` table
    /// read on its own so its unknown keys are named as its own. A source whose table is
    /// beyond use is dropped (its problems are reported).
    fn sources(&mut self, value: Spanned<DeValue>) -> Vec<(String, RawSource)> {
        let span = value.span();
        let DeValue::Array(items) = value.into_inner() else {
            self.problem(
                span.start,
                "source",
                "must be an array of tables: write [[source]]".into(),
            );
            return Vec::new();
        };
        // Room for all at once: a source's raw table is large, and the list grown one at a
        // time copied it at each doubling (with 5000 sources, `syndic once` reached its
        // first fetch 2 ms sooner with room made, a median of eight runs each).
        let mut out = Vec::with_capacity(items.len());
        for (i, mut item) in items.into_iter().enumerate() {
            let label = entry_label("source", i, &item);
            let html = match item.get_mut() {
                DeValue::Table(table) => table.remove("html"),
                _ => None,
            };
            let html = match html {
                Some(html) => match self.table::<RawHtml>(&format!("{label}.html"), html) {
                    Some(html) => Some(Box::new(html)),
                    None => continue,
                },
                None => None,
            };
            if let Some(mut parsed) = self.table::<RawSource>(&label, item) {
                parsed.html = html;
                out.push((label, parsed));
            }
        }
        out
    }

    fn daemon(&mut self, raw: RawDaemon, dir: &Path) -> Daemon {
        let schedule = raw
            .schedule
            .and_then(|s| self.schedule("daemon.schedule", &s))
            .unwrap_or_else(|| parse_schedule(DEFAULT_SCHEDULE).expect("default schedule parses"));
        let timeout = self.duration("daemon.timeout", raw.timeout.as_ref(), "30s");
        let max_body = match raw.max_body {
            Some(s) => match parse_size(s.get_ref()) {
                Ok(0) => {
                    self.at(&s, "daemon.max_body", "must be more than 0".into());
                    0
                }
                Ok(n) => n,
                Err(e) => {
                    self.at(&s, "daemon.max_body", e);
                    0
                }
            },
            None => 8 << 20,
        };
        let base_url = raw.base_url.and_then(|s| {
            let mut url = self.url("daemon.base_url", &s, &["http", "https"], None)?;
            if !url.path().ends_with('/') {
                url.set_path(&format!("{}/", url.path()));
            }
            Some(url)
        });
        Daemon {
            output_dir: dir.join(raw.output_dir.map_or("public".into(), Spanned::into_inner)),
            state_dir: dir.join(raw.state_dir.map_or("state".into(), Spanned::into_inner)),
            schedule,
            concurrency: self.count("daemon.concurrency", raw.concurrency, 32),
            per_host: self.count("daemon.per_host", raw.per_host, 2),
            timeout,
            max_body,
            user_agent: raw.user_agent.map_or_else(
                || format!("syndic/{}", env!("CARGO_PKG_VERSION")),
                Spanned::into_inner,
            ),
            base_url,
            retain: self.duration("daemon.retain", raw.retain.as_ref(), "90d"),
            title: raw
                .title
                .map_or_else(|| "syndic feeds".into(), Spanned::into_inner),
            timezone: raw
                .timezone
                .and_then(|z| self.timezone("daemon.timezone", &z))
                .unwrap_or(Tz::UTC),
            grace: self.duration_or_zero("daemon.grace", raw.grace.as_ref(), "10s"),
            cache_ceiling: self.duration_or_zero(
                "daemon.cache_ceiling",
                raw.cache_ceiling.as_ref(),
                "6h",
            ),
        }
    }

    fn source(
        &mut self,
        key: &str,
        raw: RawSource,
        daemon: &Daemon,
        dir: &Path,
    ) -> Option<SourceConfig> {
        let name_ok = self.name(&format!("{key}.name"), &raw.name);
        let url = self.url(
            &format!("{key}.url"),
            &raw.url,
            &["http", "https", "file"],
            Some(dir),
        );
        let schedule = match &raw.schedule {
            Some(s) => self.schedule(&format!("{key}.schedule"), s),
            None => Some(daemon.schedule.clone()),
        };
        let mut tags = Vec::new();
        for tag in &raw.tags {
            if self.name(&format!("{key}.tags"), tag) {
                tags.push(tag.get_ref().clone());
            }
        }
        let retain = match &raw.retain {
            Some(r) => self.duration(&format!("{key}.retain"), Some(r), "90d"),
            None => daemon.retain,
        };
        let timezone = match &raw.timezone {
            Some(z) => self.timezone(&format!("{key}.timezone"), z),
            None => Some(daemon.timezone),
        };
        let mut raw = raw;
        if let Some(html) = raw.html.as_mut() {
            let here = format!("{key}.html");
            self.hoist(
                &here,
                "full_text",
                &mut raw.full_text,
                html.full_text.take(),
            );
            self.hoist(&here, "content", &mut raw.content, html.content.take());
            if let Some(first) = html.remove.first() {
                if raw.remove.is_empty() {
                    raw.remove = std::mem::take(&mut html.remove);
                } else {
                    let message = "is also set on the source: set it in one place".into();
                    self.at(first, &format!("{here}.remove"), message);
                }
            }
        }
        let full_text = self.full_text(key, &raw);
        Some(SourceConfig {
            name: name_ok.then(|| raw.name.into_inner())?,
            url: url?,
            schedule: schedule?,
            tags,
            retain,
            timezone: timezone?,
            full_text,
            html: match raw.html {
                Some(html) => Some(Box::new(self.html(&format!("{key}.html"), *html)?)),
                None => None,
            },
        })
    }

    /// `[source.html]`: every selector parsed, `max_pages` and `date_format` checked.
    fn html(&mut self, key: &str, raw: RawHtml) -> Option<HtmlConfig> {
        let mut ok = true;
        let mut pick = |v: &mut Self, name: &str, text: Option<&Spanned<String>>| {
            let text = text?;
            match parse_pick(text.get_ref()) {
                Ok(pick) => Some(pick),
                Err(e) => {
                    v.at(text, &format!("{key}.{name}"), e);
                    ok = false;
                    None
                }
            }
        };
        let item = pick(self, "item", Some(&raw.item));
        let title = pick(self, "title", raw.title.as_ref());
        let link = pick(self, "link", raw.link.as_ref());
        let summary = pick(self, "summary", raw.summary.as_ref());
        let date = pick(self, "date", raw.date.as_ref());
        let author = pick(self, "author", raw.author.as_ref());
        let image = pick(self, "image", raw.image.as_ref());
        let id = pick(self, "id", raw.id.as_ref());
        let next = pick(self, "next", raw.next.as_ref());
        let max_pages = match (&raw.max_pages, &raw.next) {
            (None, None) => 1,
            (None, Some(_)) => DEFAULT_MAX_PAGES,
            (Some(n), None) => {
                self.at(
                    n,
                    &format!("{key}.max_pages"),
                    "has no effect without `next` (the selector of the next page's link)".into(),
                );
                ok = false;
                1
            }
            (Some(n), Some(_)) => {
                let pages = *n.get_ref() as usize;
                if !(1..=MAX_PAGES).contains(&pages) {
                    self.at(
                        n,
                        &format!("{key}.max_pages"),
                        format!("must be from 1 to {MAX_PAGES}"),
                    );
                    ok = false;
                }
                pages
            }
        };
        if let Some(format) = &raw.date_format {
            let bad = StrftimeItems::new(format.get_ref()).any(|i| matches!(i, FormatItem::Error));
            if bad || format.get_ref().trim().is_empty() {
                self.at(
                    format,
                    &format!("{key}.date_format"),
                    format!("{:?} is not a strftime format", format.get_ref()),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        Some(HtmlConfig {
            item: item?,
            title,
            link,
            summary,
            date,
            author,
            image,
            id,
            next,
            max_pages,
            date_format: raw.date_format.map(Spanned::into_inner),
            day_first: raw.day_first.unwrap_or(false),
        })
    }

    /// `full_text`, `content` and `remove`. Selectors are checked even when `full_text` is
    /// off, and setting them without it is a problem: they would silently do nothing.
    fn full_text(&mut self, key: &str, raw: &RawSource) -> Option<FullText> {
        let content = raw
            .content
            .as_ref()
            .and_then(|c| self.pick(&format!("{key}.content"), c));
        let remove: Vec<Pick> = raw
            .remove
            .iter()
            .filter_map(|r| self.pick(&format!("{key}.remove"), r))
            .collect();
        let on = raw.full_text.as_ref().is_some_and(|f| *f.get_ref());
        if !on {
            let stray = raw.content.iter().chain(raw.remove.first()).next();
            if let Some(stray) = stray {
                let which = if raw.content.is_some() {
                    "content"
                } else {
                    "remove"
                };
                self.at(
                    stray,
                    &format!("{key}.{which}"),
                    "has no effect without full_text = true".into(),
                );
            }
            return None;
        }
        Some(FullText { content, remove })
    }

    /// Moves a full-text key written in `[source.html]` (at `key`) to the source, unless
    /// the source sets it too.
    fn hoist<T>(
        &mut self,
        key: &str,
        name: &str,
        on_source: &mut Option<Spanned<T>>,
        in_html: Option<Spanned<T>>,
    ) {
        let Some(value) = in_html else { return };
        if on_source.is_some() {
            let message = "is also set on the source: set it in one place".into();
            self.at(&value, &format!("{key}.{name}"), message);
        } else {
            *on_source = Some(value);
        }
    }

    /// A full-text selector (`content`, `remove`): elements, never `@attribute`.
    fn pick(&mut self, key: &str, text: &Spanned<String>) -> Option<Pick> {
        match parse_pick(text.get_ref()) {
            Ok(pick) if pick.attr.is_some() => {
                let message = format!(
                    "{:?} names an attribute; write a CSS selector only",
                    pick.text
                );
                self.at(text, key, message);
                None
            }
            Ok(pick) => Some(pick),
            Err(e) => {
                self.at(text, key, e);
                None
            }
        }
    }

    fn feed(
        &mut self,
        key: &str,
        raw: RawFeed,
        sources: &[(String, Vec<String>)],
    ) -> Option<FeedConfig> {
        let name_ok = self.name(&format!("{key}.name"), &raw.name);
        let link = raw.link.and_then(|l| {
            self.url(&format!("{key}.link"), &l, &["http", "https"], None)
                .map(String::from)
        });
        let selected = match &raw.sources {
            None => sources.iter().map(|(name, _)| name.clone()).collect(),
            Some(wanted) => self.select(&format!("{key}.sources"), wanted, sources),
        };
        let mut formats = Vec::new();
        match &raw.formats {
            None => formats.extend(Format::all()),
            Some(list) => {
                for f in list {
                    match f.get_ref().parse::<Format>() {
                        Ok(format) if !formats.contains(&format) => formats.push(format),
                        Ok(_) => {}
                        Err(_) => self.at(
                            f,
                            &format!("{key}.formats"),
                            format!(
                                "unknown format {:?} (use \"rss\", \"atom\" or \"json\")",
                                f.get_ref()
                            ),
                        ),
                    }
                }
            }
        }
        if let Some(list) = &raw.formats
            && list.is_empty()
        {
            self.problem(
                raw.name.span().start,
                &format!("{key}.formats"),
                "is empty: list at least one of \"rss\", \"atom\", \"json\" (or leave it out for all three)".into(),
            );
        }
        let limit = self.count(&format!("{key}.limit"), raw.limit, DEFAULT_LIMIT);
        let max_age = raw
            .max_age
            .as_ref()
            .map(|m| self.duration(&format!("{key}.max_age"), Some(m), "0s"));
        let include = self.regexes(&format!("{key}.include"), &raw.include);
        let exclude = self.regexes(&format!("{key}.exclude"), &raw.exclude);
        let name = raw.name.into_inner();
        Some(FeedConfig {
            title: raw.title.map_or_else(|| name.clone(), Spanned::into_inner),
            name: name_ok.then_some(name)?,
            description: raw.description,
            link,
            sources: selected,
            formats,
            limit,
            max_age,
            include,
            exclude,
        })
    }

    /// Resolves a feed's `sources` list (names and `tag:NAME`) into source names.
    fn select(
        &mut self,
        key: &str,
        wanted: &[Spanned<String>],
        sources: &[(String, Vec<String>)],
    ) -> Vec<String> {
        let mut picked: HashSet<&str> = HashSet::new();
        for entry in wanted {
            let text = entry.get_ref();
            if let Some(tag) = text.strip_prefix("tag:") {
                let tagged: Vec<&str> = sources
                    .iter()
                    .filter(|(_, tags)| tags.iter().any(|t| t == tag))
                    .map(|(name, _)| name.as_str())
                    .collect();
                if tagged.is_empty() {
                    self.at(entry, key, format!("no source has the tag {tag:?}"));
                }
                picked.extend(tagged);
            } else if sources.iter().any(|(name, _)| name == text) {
                picked.insert(text);
            } else {
                self.at(
                    entry,
                    key,
                    format!("unknown source {text:?} (write a source name, or tag:NAME)"),
                );
            }
        }
        // Config order, not the order of the list, so output does not depend on how it is written.
        let mut names: Vec<String> = sources
            .iter()
            .filter(|(name, _)| picked.contains(name.as_str()))
            .map(|(name, _)| name.clone())
            .collect();
        names.dedup();
        names
    }

    fn name(&mut self, key: &str, name: &Spanned<String>) -> bool {
        let text = name.get_ref();
        let ok = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !text.starts_with('.');
        if !ok {
            self.at(
                name,
                key,
                format!(
                    "{text:?} is not a valid name: use letters, digits, '-', '_' and '.' (not first)"
                ),
            );
        }
        ok
    }

    /// Reports every repeat of a name (the first definition stands; later ones are the ones
    /// to rename), given each name with the offset where it is written.
    fn unique_names(&mut self, kind: &str, names: &[(String, usize)]) {
        let mut seen: HashSet<&str> = HashSet::new();
        for (name, offset) in names {
            if !seen.insert(name) {
                self.problem(
                    *offset,
                    &format!("{kind} \"{name}\".name"),
                    format!("two {kind}s are named {name:?}: names must be unique"),
                );
            }
        }
    }

    fn schedule(&mut self, key: &str, text: &Spanned<String>) -> Option<Schedule> {
        match parse_schedule(text.get_ref()) {
            Ok(s) => Some(s),
            Err(e) => {
                self.at(text, key, e);
                None
            }
        }
    }

    fn timezone(&mut self, key: &str, text: &Spanned<String>) -> Option<Tz> {
        match parse_timezone(text.get_ref()) {
            Ok(zone) => Some(zone),
            Err(e) => {
                self.at(text, key, e);
                None
            }
        }
    }

    fn duration(&mut self, key: &str, text: Option<&Spanned<String>>, default: &str) -> Duration {
        match text {
            Some(t) if parse_duration(t.get_ref()).is_ok_and(|d| d.is_zero()) => {
                self.at(t, key, "must be longer than 0".into());
                Duration::ZERO
            }
            _ => self.duration_or_zero(key, text, default),
        }
    }

    /// A duration for which zero means something ("do not wait", "ignore the server").
    fn duration_or_zero(
        &mut self,
        key: &str,
        text: Option<&Spanned<String>>,
        default: &str,
    ) -> Duration {
        let Some(text) = text else {
            return parse_duration(default).expect("default duration parses");
        };
        parse_duration(text.get_ref()).unwrap_or_else(|e| {
            self.at(text, key, e);
            Duration::ZERO
        })
    }

    fn count(&mut self, key: &str, value: Option<Spanned<u32>>, default: u32) -> usize {
        match value {
            Some(v) if *v.get_ref() == 0 => {
                self.at(&v, key, "must be at least 1".into());
                1
            }
            Some(v) => *v.get_ref() as usize,
            None => default as usize,
        }
    }

    /// Parses a URL with one of `schemes`; with `dir`, a value without a scheme is a path
    /// relative to it.
    fn url(
        &mut self,
        key: &str,
        text: &Spanned<String>,
        schemes: &[&str],
        dir: Option<&Path>,
    ) -> Option<Url> {
        let raw = text.get_ref().trim();
        let parsed = match (Url::parse(raw), dir) {
            (Err(url::ParseError::RelativeUrlWithoutBase), Some(dir)) if !raw.is_empty() => {
                file_url(&dir.join(raw))
            }
            (Ok(url), _) => Ok(url),
            (Err(e), _) => Err(format!("{raw:?} is not a URL: {e}")),
        };
        match parsed {
            Ok(url) if schemes.contains(&url.scheme()) => Some(url),
            Ok(url) => {
                self.at(
                    text,
                    key,
                    format!(
                        "unsupported scheme {:?} (use {})",
                        url.scheme(),
                        schemes.join(", ")
                    ),
                );
                None
            }
            Err(e) => {
                self.at(text, key, e);
                None
            }
        }
    }

    fn regexes(&mut self, key: &str, patterns: &[Spanned<String>]) -> Vec<regex::Regex> {
        let mut out = Vec::new();
        for p in patterns {
            match regex::Regex::new(p.get_ref()) {
                Ok(r) => out.push(r),
                Err(e) => {
                    // The regex crate draws a multi-line caret diagram; its last line is the reason.
                    let text = e.to_string();
                    let reason = text.lines().last().unwrap_or_default();
                    let reason = reason.strip_prefix("error: ").unwrap_or(reason);
                    self.at(p, key, format!("bad regular expression: {reason}"));
                }
            }
        }
        out
    }
}

/// Parses a cron expression: 5 fields (minutes), 6 (seconds first) or a nickname such as
/// `@hourly`, `@daily` or `@weekly`.
pub fn parse_schedule(text: &str) -> Result<Schedule, String> {
    let fields = text.split_whitespace().count();
    if !text.trim_start().starts_with('@') && !(5..=6).contains(&fields) {
        return Err(format!(
            "{text:?} is not a cron expression: it has {fields} fields, expected 5 (minute hour day month weekday) or 6 (with seconds first)"
        ));
    }
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .build()
        .parse(text)
        .map(|cron| Schedule {
            text: text.to_string(),
            cron: Arc::new(cron),
        })
        .map_err(|e| format!("{text:?} is not a valid cron expression: {e}"))
}

fn entry_label(key: &str, index: usize, item: &Spanned<DeValue>) -> String {
    if let DeValue::Table(t) = item.get_ref()
        && let Some(name) = t.get("name")
        && let DeValue::String(s) = name.get_ref()
    {
        return format!("{key} \"{s}\"");
    }
    format!("{key}[{}]", index + 1)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Config, Vec<Problem>> {
        validate(text, Path::new("/etc/syndic/syndic.toml"))
    }

    fn problems(text: &str) -> Vec<String> {
        check(text)
            .expect_err("config should be rejected")
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    /// Fails unless every problem in `expected` begins one of those `found`.
    fn assert_reported(found: &[String], expected: &[&str]) {
        for want in expected {
            assert!(
                found.iter().any(|p| p.starts_with(want)),
                "missing {want:?} in {found:#?}"
            );
        }
    }

    #[test]
    fn resolves_defaults_paths_and_selection() {
        let config = check(
            r#"
[daemon]
output_dir = "out"
base_url = "https://feeds.example.org/x"

[[source]]
name = "a"
url = "https://example.org/feed.xml"
tags = ["news"]

[[source]]
name = "b"
url = "feeds/b.xml"
schedule = "0 */5 * * * *"

[[feed]]
name = "all"

[[feed]]
name = "news"
sources = ["tag:news", "a"]
formats = ["atom"]
max_age = "30d"
include = ["(?i)korea"]
"#,
        )
        .expect("valid");
        assert_eq!(config.daemon.output_dir, Path::new("/etc/syndic/out"));
        assert_eq!(config.daemon.state_dir, Path::new("/etc/syndic/state"));
        assert_eq!(
            config.daemon.base_url.as_ref().map(Url::as_str),
            Some("https://feeds.example.org/x/")
        );
        assert_eq!(config.daemon.timeout, Duration::from_secs(30));
        assert_eq!(config.daemon.max_body, 8 << 20);
        assert_eq!(config.daemon.timezone, Tz::UTC);
        assert_eq!(config.daemon.grace, Duration::from_secs(10));
        assert_eq!(config.daemon.cache_ceiling, Duration::from_secs(6 * 3600));
        assert_eq!(config.sources[0].timezone, Tz::UTC);
        assert_eq!(
            config.sources[1].url.as_str(),
            "file:///etc/syndic/feeds/b.xml"
        );
        assert_eq!(config.sources[0].schedule.text, DEFAULT_SCHEDULE);
        assert_eq!(config.sources[1].schedule.text, "0 */5 * * * *");
        assert_eq!(config.feeds[0].sources, ["a", "b"]);
        assert_eq!(config.feeds[0].formats, Format::all());
        assert_eq!(config.feeds[0].limit, 100);
        assert_eq!(config.feeds[1].sources, ["a"]);
        assert_eq!(config.feeds[1].formats, [Format::Atom]);
        assert_eq!(
            config.feeds[1].max_age,
            Some(Duration::from_secs(30 * 86_400))
        );
    }

    #[test]
    fn every_problem_is_reported_with_line_column_and_key() {
        let found = problems(
            r#"[daemon]
timout = "30s"
max_body = "lots"

[[source]]
name = "a"
url = "https://example.org/a.xml"
schedul = "0 * * * *"
tagz = ["x"]

[[source]]
name = "b"
url = "ftp://example.org/b.xml"
schedule = "every hour"

[[source]]
name = "a"
url = "https://example.org/again.xml"

[[feed]]
name = "f"
sources = ["nope", "tag:missing"]
include = ["(unclosed"]
formats = ["rss", "opml"]
"#,
        );
        let expected = [
            "2:1: daemon.timout: unknown field `timout`",
            "3:12: daemon.max_body: \"lots\" is not a size",
            "8:1: source \"a\".schedul: unknown field `schedul`",
            "9:1: source \"a\".tagz: unknown field `tagz`",
            "13:7: source \"b\".url: unsupported scheme \"ftp\"",
            "14:12: source \"b\".schedule: \"every hour\" is not a cron expression",
            "22:12: feed \"f\".sources: unknown source \"nope\"",
            "22:20: feed \"f\".sources: no source has the tag \"missing\"",
            "23:12: feed \"f\".include: bad regular expression: unclosed group",
            "24:19: feed \"f\".formats: unknown format \"opml\"",
            "17:8: source \"a\".name: two sources are named \"a\"",
        ];
        assert_reported(&found, &expected);
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        let mut sorted = found.clone();
        sorted.sort_by_key(|p| {
            let mut parts = p.split(':').map(|n| n.parse::<usize>().unwrap_or(0));
            (parts.next(), parts.next())
        });
        assert_eq!(found, sorted, "problems are listed in file order");
    }

    #[test]
    fn time_zones_grace_and_cache_ceiling() {
        let config = check(
            r#"
[daemon]
timezone = "Europe/Berlin"
grace = "0s"
cache_ceiling = "1h30m"

[[source]]
name = "here"
url = "https://example.org/a.xml"

[[source]]
name = "there"
url = "https://example.org/b.xml"
timezone = "Asia/Seoul"
"#,
        )
        .expect("valid");
        assert_eq!(config.daemon.timezone, Tz::Europe__Berlin);
        assert_eq!(config.daemon.grace, Duration::ZERO, "zero: do not wait");
        assert_eq!(config.daemon.cache_ceiling, Duration::from_secs(5400));
        assert_eq!(config.sources[0].timezone, Tz::Europe__Berlin, "inherited");
        assert_eq!(config.sources[1].timezone, Tz::Asia__Seoul, "its own");

        let found = problems("[daemon]\ntimeout = \"0s\"\n");
        assert_eq!(
            found,
            ["2:11: daemon.timeout: must be longer than 0"],
            "where zero means nothing, it is still refused"
        );

        let found = problems(
            r#"[daemon]
timezone = "europe/berlin"
grace = "soon"
cache_ceiling = "6"

[[source]]
name = "a"
url = "https://example.org/a.xml"
timezone = "Mars/Olympus_Mons"
"#,
        );
        let expected = [
            "2:12: daemon.timezone: unknown time zone \"europe/berlin\" (did you mean \"Europe/Berlin\"?)",
            "3:9: daemon.grace: \"soon\" is not a duration",
            "4:17: daemon.cache_ceiling: \"6\" has no unit",
            "9:12: source \"a\".timezone: unknown time zone \"Mars/Olympus_Mons\": use an IANA name",
        ];
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        for (found, want) in found.iter().zip(expected) {
            assert!(found.starts_with(want), "{found:?} is not {want:?}");
        }
    }

    #[test]
    fn syntax_errors_and_wrong_types() {
        let found = problems("[[source]\nname = \"a\"\n");
        assert!(found[0].starts_with("1:"), "{found:?}");
        assert!(found[0].contains("syntax"), "{found:?}");

        let found = problems("[daemon]\nconcurrency = \"many\"\nper_host = 0\n");
        assert!(
            found[0].starts_with("2:15: daemon.concurrency: invalid type"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("3:12: daemon.per_host: must be at least 1"),
            "{found:?}"
        );

        let found = problems("source = 3\n[extra]\n");
        assert!(
            found.iter().any(|p| p.contains("write [[source]]")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("2:2: extra: unknown table")),
            "{found:?}"
        );
    }

    #[test]
    fn missing_required_keys_and_bad_names() {
        let found = problems(
            "[[source]]\nurl = \"https://e.org/\"\n[[source]]\nname = \"a b\"\nurl = \"x.xml\"\n",
        );
        assert!(
            found[0].contains("source[1]: missing field `name`"),
            "{found:?}"
        );
        assert!(
            found[1].contains("\"a b\" is not a valid name"),
            "{found:?}"
        );
    }

    #[test]
    fn duplicates_are_found_however_they_are_quoted() {
        let found = problems(
            "[[source]]\nname = 'a'\nurl = 'a.xml'\n[[source]]\nname = 'a'\nurl = 'b.xml'\n\
             [[feed]]\nname = \"a\"\nformats = []\n",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("5:8: source \"a\".name: two sources"),
            "{found:?}"
        );
        assert!(
            found[1].contains("feed \"a\".formats: is empty"),
            "{found:?}"
        );
    }

    #[test]
    fn full_text_keys_may_sit_in_the_html_table_once() {
        let config = check(
            r#"
[[source]]
name = "page"
url = "https://news.example/top/"
[source.html]
item = "article"
full_text = true
remove = [".also-read", ".ad-slot"]
"#,
        )
        .unwrap();
        let full_text = config.sources[0].full_text.as_ref().expect("full text on");
        let removed: Vec<_> = full_text.remove.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(removed, [".also-read", ".ad-slot"]);
        let found = problems(
            r#"
[[source]]
name = "page"
url = "https://news.example/top/"
full_text = true
content = ".entry"
[source.html]
item = "article"
full_text = true
remove = [".ad@class"]
"#,
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].starts_with("9:13: source \"page\".html.full_text: is also set"));
        assert!(
            found[1].starts_with("10:11: source \"page\".remove: \".ad@class\" names an attribute")
        );
    }

    #[test]
    fn full_text_keys() {
        let config = check(
            r#"
[[source]]
name = "plain"
url = "https://example.org/a.xml"

[[source]]
name = "readable"
url = "https://example.org/b.xml"
full_text = true

[[source]]
name = "picked"
url = "https://example.org/c.xml"
full_text = true
content = ".entry-content"
remove = [".also-read", ".ad-slot"]
"#,
        )
        .expect("valid");
        assert_eq!(config.sources[0].full_text, None, "off by default");
        let readable = config.sources[1].full_text.as_ref().unwrap();
        assert!(readable.content.is_none() && readable.remove.is_empty());
        let picked = config.sources[2].full_text.as_ref().unwrap();
        assert_eq!(picked.content.as_ref().unwrap().text, ".entry-content");
        let removed: Vec<&str> = picked.remove.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(removed, [".also-read", ".ad-slot"]);
        assert!(picked.remove.iter().all(|p| p.attr.is_none()));

        let found = problems(
            r#"[[source]]
name = "a"
url = "https://example.org/a.xml"
full_text = true
content = "div["
remove = [".ok", "..bad"]

[[source]]
name = "b"
url = "https://example.org/b.xml"
remove = [".ad"]
full_text = "yes"
"#,
        );
        let expected = [
            "5:11: source \"a\".content: \"div[\" is not a CSS selector",
            "6:18: source \"a\".remove: \"..bad\" is not a CSS selector",
            "12:13: source \"b\".full_text: invalid type",
            "11:11: source \"b\".remove: has no effect without full_text = true",
        ];
        assert_reported(&found, &expected);
        assert_eq!(found.len(), expected.len(), "{found:#?}");
    }

    #[test]
    fn web_page_sources_are_resolved_and_bad_selectors_located() {
        let config = check(
            r#"
[[source]]
name = "page"
url = "https://news.example/top/"
[source.html]
item = "article.post-card:not(.sponsored)"
title = "h2 a"
image = "img@data-src"
next = "a.next@href"

[[source]]
name = "feed"
url = "https://news.example/feed.xml"
"#,
        )
        .expect("valid");
        let html = config.sources[0].html.as_ref().expect("a web page");
        assert_eq!(html.item.text, "article.post-card:not(.sponsored)");
        assert_eq!(
            html.image.as_ref().unwrap().attr.as_deref(),
            Some("data-src")
        );
        assert_eq!(html.max_pages, 5, "next without max_pages");
        assert!(!html.day_first);
        assert!(config.sources[1].html.is_none());

        let found = problems(
            r#"[[source]]
name = "page"
url = "https://news.example/top/"
[source.html]
item = "article..card"
title = "h2 a"
date = "time["
max_pages = 3
date_format = "%Q"
colour = "red"
"#,
        );
        let expected = [
            "5:8: source \"page\".html.item: \"article..card\" is not a CSS selector",
            "7:8: source \"page\".html.date: \"time[\" is not a CSS selector",
            "8:13: source \"page\".html.max_pages: has no effect without `next`",
            "9:15: source \"page\".html.date_format: \"%Q\" is not a strftime format",
        ];
        // The unknown key is reported, then the table is read without it.
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("10:1: source \"page\".html.colour: unknown field")),
            "{found:#?}"
        );
        assert_eq!(found.len(), expected.len() + 1, "{found:#?}");
        assert_reported(&found, &expected);

        let found = problems(
            "[[source]]\nname = 'p'\nurl = 'https://e.org/'\n[source.html]\nitem = 'li'\nnext = 'a'\nmax_pages = 51\n",
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].starts_with("7:13: source \"p\".html.max_pages: must be from 1 to 50"));
    }

    #[test]
    fn schedules_people_write() {
        for ok in [
            "*/30 * * * *",
            "0 */5 * * * *",
            "@hourly",
            "@daily",
            "@weekly",
            "0 9 * * MON-FRI",
        ] {
            assert!(parse_schedule(ok).is_ok(), "{ok}");
        }
        for bad in ["* * *", "61 * * * *", "@sometimes", "* * * * * * * *"] {
            assert!(parse_schedule(bad).is_err(), "{bad}");
        }
    }
}
