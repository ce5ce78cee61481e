//! feedparser's suite: `manifest.json` (per case, the headers it is served with and its
//! assertions on feedparser's model) and `dates.tsv` (72 date strings and the instant
//! each means).
//!
//! Each row's path is mapped onto the item model: `entries/N/title` is item N's title, and
//! so on. feedparser sanitises HTML and resolves relative URLs too, but not with the same
//! whitelist, so HTML is equal when it is the same after syndic's sanitiser, or has the same
//! text. Paths for what the model does not keep (feed-level authors, rights, cloud, textInput,
//! the raw date strings, content types …) are skipped with the reason.

use std::collections::HashMap;
use std::path::Path;

use encoding_rs::Encoding;
use serde::Deserialize;
use serde_json::Value;
use syndic::source::text;
use url::Url;

use super::{Case, Outcome, Report, same_id, utc};

/// feedparser's tests serve each case at this address; its base cases expect it.
const SERVED_AT: &str = "http://127.0.0.1:8097/tests/";

/// The 72 date cases, which travel with the repository (`tests/fixtures/dates.tsv`).
pub fn dates(report: &mut Report) {
    let table = include_str!("../fixtures/dates.tsv");
    for line in table.lines().skip(1).filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(input), Some(expected)) = (cols.get(1), cols.get(2)) else {
            continue;
        };
        let input: String = serde_json::from_str(input).unwrap_or_default();
        let got = utc(syndic::source::date::parse_date(&input));
        let outcome = if got == *expected {
            Outcome::Pass
        } else {
            Outcome::Fail(format!("got {got:?}, want {expected:?}"))
        };
        report.add(
            "feedparser dates.tsv",
            "date",
            &format!("{input:?}"),
            outcome,
        );
    }
}

/// One case of `feedparser/manifest.json`.
#[derive(Deserialize)]
struct Entry {
    file: String,
    /// Headers the case is served with (`Content-Type`, `Content-Location`).
    http_headers: Option<HashMap<String, String>>,
    /// The address the case is served at, when it matters.
    document_url: Option<String>,
    assertions: Vec<Assertion>,
}

/// One assertion on feedparser's model: `path` `op` `value`.
#[derive(Deserialize)]
struct Assertion {
    path: String,
    op: String,
    /// Absent for `falsy`.
    #[serde(default)]
    value: Value,
}

/// Every assertion of `feedparser/manifest.json`.
pub fn manifest(root: &Path, report: &mut Report) {
    let dir = root.join("feedparser");
    let manifest = std::fs::read(dir.join("manifest.json")).expect("manifest.json");
    let cases: Vec<Entry> = serde_json::from_slice(&manifest).expect("manifest.json");
    for entry in cases {
        let folder = entry.file.split('/').next().unwrap_or_default();
        let suite = format!("feedparser {folder}");
        if entry.assertions.is_empty() {
            // A case that only says whether feedparser calls the document broken.
            let skip = Outcome::Skip("only feedparser's bozo flag or Python code");
            report.add(&suite, "bozo", &entry.file, skip);
            continue;
        }
        let case = read(&dir, &entry);
        for assertion in &entry.assertions {
            let (path, op, expected) = (&assertion.path, &assertion.op, &assertion.value);
            let topic = topic(folder, &entry.file, path);
            let what = format!("{} {path} {op} {expected}", entry.file);
            let index: Option<usize> = path
                .strip_prefix("entries/")
                .and_then(|p| p.split('/').next())
                .and_then(|n| n.parse().ok());
            let suite = match index {
                Some(i) if case.is_bare(i) => format!("{suite} (bare entries)"),
                _ => suite.clone(),
            };
            let outcome = match row(&case, path, op, expected) {
                Outcome::Fail(got) => Outcome::Fail(match index {
                    Some(i) => format!("{got}; item {i}: {}", case.describe(i)),
                    None => got,
                }),
                other => other,
            };
            report.add(&suite, topic, &what, outcome);
        }
    }
}

/// Reads a case as feedparser's test server serves it: at its own address, with its
/// Content-Type, and against its `Content-Location` when it has one.
fn read(dir: &Path, entry: &Entry) -> Case {
    let file = &entry.file;
    let body = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let header = |name: &str| {
        entry.http_headers.as_ref().and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        })
    };
    let mut base = match &entry.document_url {
        Some(url) => Url::parse(url).expect("a document URL"),
        None => Url::parse(SERVED_AT)
            .and_then(|u| u.join(file))
            .expect("a URL"),
    };
    if let Some(location) = header("Content-Location")
        && let Ok(url) = base.join(location.trim())
        && matches!(url.scheme(), "http" | "https")
    {
        base = url;
    }
    Case::read(&body, header("Content-Type"), &base)
}

/// The topic a row is reported under: the folder for encoding and ill-formed cases, `base`
/// for the relative-URL cases, else the field.
fn topic(folder: &str, file: &str, path: &str) -> &'static str {
    if folder == "encoding" || path == "encoding" {
        return "encoding";
    }
    if folder == "illformed" {
        return "illformed";
    }
    if file.contains("/base/") || file.contains("xml_base") {
        return "base";
    }
    let field = path.rsplit('/').find(|p| p.parse::<usize>().is_err());
    let leaf = path
        .split('/')
        .filter(|p| p.parse::<usize>().is_err())
        .nth(1)
        .unwrap_or(path);
    match (leaf, field) {
        ("title" | "title_detail", _) => "title",
        ("link" | "links", _) => "link",
        ("id" | "guidislink", _) => "id",
        ("summary" | "summary_detail" | "content" | "subtitle" | "subtitle_detail", _) => "content",
        ("enclosures", _) => "enclosure",
        ("author" | "author_detail" | "authors" | "contributors", _) => "author",
        (l, _) if l.contains("published") || l.contains("updated") || l.contains("created") => {
            "date"
        }
        ("tags" | "category", _) => "category",
        _ => "other",
    }
}

/// Checks one row against the case. Paths follow feedparser's model.
fn row(case: &Case, path: &str, op: &str, expected: &Value) -> Outcome {
    let want = match expected {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    };
    let falsy = op == "falsy";
    let parts: Vec<&str> = path.split('/').collect();
    if let Some(reason) = skipped(&parts) {
        return Outcome::Skip(reason);
    }
    if parts == ["encoding"] {
        // NUL bytes mean 16- or 32-bit units, which no ASCII-compatible encoding reads.
        if case.body.is_ascii() && !case.body.contains(&0) {
            return Outcome::Skip(
                "the body is ASCII: every ASCII-compatible encoding reads it alike, so the \
                 choice cannot be seen",
            );
        }
        return same(same_text(&case.body, &case.encoding, &want), &case.encoding);
    }
    let doc = match &case.doc {
        Ok(doc) => doc,
        Err(e) => return Outcome::Fail(format!("not read: {e}")),
    };
    match parts.as_slice() {
        ["feed", "title"] | ["feed", "title_detail", "value"] => {
            text_row(doc.title.as_deref(), &want, falsy)
        }
        ["feed", "link"] => same(doc.link.as_deref().unwrap_or_default() == want, &doc.link),
        ["entries"] if op == "len" => {
            let n = case.items.iter().flatten().count();
            same(n.to_string() == want, &n)
        }
        ["entries", n, rest @ ..] => {
            let Ok(n) = n.parse::<usize>() else {
                return Outcome::Skip("not an entry path");
            };
            let Some(Some(item)) = case.items.get(n) else {
                return if falsy {
                    Outcome::Pass
                } else {
                    Outcome::Fail("no such item".to_owned())
                };
            };
            entry_row(case, item, rest, &want, expected, falsy)
        }
        _ => Outcome::Skip("the item model has no such field"),
    }
}

fn entry_row(
    case: &Case,
    item: &syndic::model::Item,
    rest: &[&str],
    want: &str,
    expected: &Value,
    falsy: bool,
) -> Outcome {
    let first_author = item.authors.first();
    let enclosure = |i: &str| i.parse::<usize>().ok().and_then(|i| item.enclosures.get(i));
    match rest {
        ["title"] | ["title_detail", "value"] => text_row(item.title.as_deref(), want, falsy),
        ["link"] => same(item.link.as_deref().unwrap_or_default() == want, &item.link),
        ["id"] if want.is_empty() => Outcome::Skip("the item model gives every item an id"),
        ["id"] => same(same_id(&item.id, want), &item.id),
        ["summary"] | ["summary_detail", "value"] => {
            // feedparser shows an entry's only body as its summary too.
            let summary = item.summary.as_deref().or(item.content.as_deref());
            html_row(case, summary, want, falsy)
        }
        ["content", "0", "value"] => html_row(case, item.content.as_deref(), want, falsy),
        ["published_parsed"] => same(utc(item.published) == want, &item.published),
        // A date as written, when what was written is an instant: compared as one.
        ["published" | "created"] => match instant(want) {
            Some(at) => same(item.published == Some(at), &item.published),
            None => Outcome::Skip("dates are kept as instants, not as written"),
        },
        ["updated"] => match instant(want) {
            Some(at) => same(item.updated.or(item.published) == Some(at), &item.updated),
            None => Outcome::Skip("dates are kept as instants, not as written"),
        },
        // feedparser lists the alternate link and the enclosures as `links`.
        ["links", _, "href"] => same(
            item.link.as_deref() == Some(want) || item.enclosures.iter().any(|e| e.url == want),
            &(&item.link, &item.enclosures),
        ),
        ["enclosures", i] => {
            let got = enclosure(i);
            let field = |k: &str| {
                expected
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let ok = got.is_some_and(|e| {
                e.url == field("href")
                    && e.mime_type.clone().unwrap_or_default() == field("type")
                    && e.length.map(|l| l.to_string()).unwrap_or_default() == field("length")
            });
            same(ok, &got)
        }
        ["media_thumbnail", "0", "url"] => same(item.image.as_deref() == Some(want), &item.image),
        ["updated_parsed"] => {
            let updated = item.updated.or(item.published);
            same(utc(updated) == want, &updated)
        }
        ["author"] => same(
            first_author.is_some_and(|a| {
                let email = a.email.as_deref().unwrap_or_default();
                want == a.name
                    || want == email
                    || want == format!("{} ({email})", a.name)
                    || want == format!("{email} ({})", a.name)
            }),
            &item.authors,
        ),
        ["author_detail" | "authors", ..] => {
            let field = rest.last().copied().unwrap_or_default();
            let person = match rest {
                ["authors", i, _] => i.parse::<usize>().ok().and_then(|i| item.authors.get(i)),
                _ => first_author,
            };
            let got = person.and_then(|a| match field {
                "name" => Some(a.name.as_str()),
                "email" => a.email.as_deref(),
                "href" => a.url.as_deref(),
                _ => None,
            });
            same(got.unwrap_or_default() == want, &item.authors)
        }
        ["tags", i, "term"] => {
            let got = i.parse::<usize>().ok().and_then(|i| item.categories.get(i));
            same(got.map(String::as_str).unwrap_or_default() == want, &got)
        }
        ["category"] => same(
            item.categories
                .first()
                .map(String::as_str)
                .unwrap_or_default()
                == want,
            &item.categories,
        ),
        ["enclosures", i, "href"] => {
            let got = enclosure(i).map(|e| e.url.as_str());
            same(got.unwrap_or_default() == want, &got)
        }
        ["enclosures", i, "type"] => {
            let got = enclosure(i).and_then(|e| e.mime_type.as_deref());
            same(got.unwrap_or_default() == want, &got)
        }
        ["enclosures", i, "length"] => {
            let got = enclosure(i).and_then(|e| e.length);
            same(got.map(|l| l.to_string()).unwrap_or_default() == want, &got)
        }
        ["image", "href"] => same(
            item.image.as_deref().unwrap_or_default() == want,
            &item.image,
        ),
        _ => Outcome::Skip("the item model has no such field"),
    }
}

/// Why a path says nothing about the item model, if it does not.
fn skipped(parts: &[&str]) -> Option<&'static str> {
    let last = *parts.last()?;
    let first = parts[0];
    if first == "version" {
        return Some("the format version is not part of the item model");
    }
    if first == "feed" {
        return match parts.get(1).copied() {
            Some("title" | "link") if parts.len() == 2 => None,
            Some("title_detail") if last == "value" => None,
            _ => Some("feed-level metadata other than title and link is not kept"),
        };
    }
    if parts.len() >= 3 && parts[2] == "source" {
        return Some("an entry's <source> feed is not kept");
    }
    if matches!(last, "base" | "type" | "language") {
        return Some("HTML is kept with absolute URLs, not with its base, type or language");
    }
    if matches!(last, "expired" | "created_parsed" | "expired_parsed") {
        return Some("the item model keeps no creation or expiry date");
    }
    match parts.get(2).copied() {
        Some("links") if last != "href" => Some("a link is kept as its URL only"),
        Some("contributors") => Some("contributors are not kept"),
        Some("tags") if last != "term" => Some("a category is kept as its term only"),
        Some("guidislink") => Some("whether the guid is the link is decided when writing"),
        Some("content") if parts.get(3).is_some_and(|i| *i != "0") || last == "src" => {
            Some("one content body is kept")
        }
        Some("enclosures") if parts.len() == 4 => None,
        Some(
            "title" | "title_detail" | "link" | "id" | "summary" | "summary_detail" | "content"
            | "published_parsed" | "updated_parsed" | "author" | "author_detail" | "authors"
            | "tags" | "category" | "enclosures" | "image" | "published" | "updated" | "created"
            | "links" | "media_thumbnail",
        ) => None,
        Some(_) => Some("the item model has no such field"),
        None => None,
    }
}

/// An instant written in RFC 3339 or RFC 822, read by chrono (not by syndic's own parser).
fn instant(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .or_else(|_| chrono::DateTime::parse_from_rfc2822(s))
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc))
}

pub(super) fn same(ok: bool, got: &impl std::fmt::Debug) -> Outcome {
    if ok {
        Outcome::Pass
    } else {
        Outcome::Fail(format!("got {got:?}"))
    }
}

fn text_row(ours: Option<&str>, want: &str, falsy: bool) -> Outcome {
    let ok = if falsy {
        ours.is_none_or(str::is_empty)
    } else {
        let ours = ours.unwrap_or_default();
        ours == want || ours == text::collapse_whitespace(want) || ours == text::html_to_text(want)
    };
    same(ok, &ours)
}

pub(super) fn html_row(case: &Case, ours: Option<&str>, want: &str, falsy: bool) -> Outcome {
    let ok = match ours {
        _ if falsy => ours.is_none_or(str::is_empty),
        None => want.is_empty(),
        Some(ours) => {
            let (bare_ours, bare_want) = (unwrap_div(ours), unwrap_div(want));
            [(ours, want), (ours, bare_want), (bare_ours, bare_want)]
                .iter()
                .any(|(ours, want)| {
                    ours == want
                        || clean(ours) == clean(want)
                        || same_text_tags_and_urls(ours, want)
                })
                || (text_typed(case) && !ours.contains('<') && text::unescape(ours) == want.trim())
        }
    };
    same(ok, &ours)
}

/// feedparser wraps an XHTML body in the `div` that held it; syndic keeps what is inside.
fn unwrap_div(html: &str) -> &str {
    let trimmed = html.trim();
    match (trimmed.strip_prefix("<div>"), trimmed.ends_with("</div>")) {
        (Some(inner), true) if !inner[..inner.len() - 6].contains("<div") => {
            &inner[..inner.len() - 6]
        }
        _ => html,
    }
}

/// The sanitisers differ in the attributes they keep and in how they serialise, so HTML
/// is also equal when it has the same text, the same elements in the same order, and the
/// same link and image URLs.
fn same_text_tags_and_urls(ours: &str, want: &str) -> bool {
    let outline = |html: &str| {
        let doc = scraper::Html::parse_fragment(html);
        let mut tags = Vec::new();
        let mut urls = Vec::new();
        for node in doc.root_element().descendants() {
            if let Some(el) = node.value().as_element() {
                tags.push(el.name().to_owned());
                // As URLs: an IRI and its percent-encoded URI are one address.
                urls.extend(
                    ["href", "src"]
                        .iter()
                        .filter_map(|a| el.attr(a))
                        .map(|u| url::Url::parse(u).map_or_else(|_| u.to_owned(), String::from)),
                );
            }
        }
        (text::html_to_text(html), tags, urls)
    };
    outline(ours) == outline(want)
}

/// Whether the case declares its bodies as text or as a media type that is neither text
/// nor HTML (Atom `type="text"`, `text/plain`, `application/octet-stream`, or base64 of
/// those). feedparser gives such a body as the text itself, syndic as HTML with the text
/// escaped: they agree when syndic's HTML has no markup and reads as exactly that text.
fn text_typed(case: &Case) -> bool {
    let body = String::from_utf8_lossy(&case.body);
    [
        "type=\"text\"",
        "type='text'",
        "text/plain",
        "application/octet-stream",
    ]
    .iter()
    .any(|marker| body.contains(marker))
        || (body.contains("mode=\"base64\"") && !body.contains("html"))
}

/// HTML as syndic's sanitiser leaves it, whitespace between tags collapsed.
fn clean(html: &str) -> String {
    let cleaned = syndic::source::normalise::sanitise(html, None).unwrap_or_default();
    text::collapse_whitespace(&cleaned).replace("> <", "><")
}

/// Whether the encoding syndic chose reads `body` (not plain ASCII) as the same text as
/// the one feedparser chose: Russian text reads the same in KOI8-R and KOI8-U, Thai the
/// same in TIS-620 and windows-874. What matters is the text, not the label.
fn same_text(body: &[u8], ours: &str, want: &str) -> bool {
    if ours.eq_ignore_ascii_case(want) {
        return true;
    }
    let decode = |label: &str| {
        let label = match label.to_ascii_lowercase().as_str() {
            // Labels WHATWG lacks; TIS-620 is windows-874 without its extra punctuation.
            "tis-620" => "windows-874".to_owned(),
            other => other.to_owned(),
        };
        Encoding::for_label(label.as_bytes()).map(|e| e.decode_without_bom_handling(body).0)
    };
    match (decode(ours), decode(want)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}
