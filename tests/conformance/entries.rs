//! gofeed's and feed-rs's expectations, flattened to one row per entry in `entries.tsv`:
//! file, entry index, title, link, id, published, updated, author, enclosure.
//!
//! gofeed's universal model is the closest to syndic's, so its rows are compared field by
//! field and an entry passes when every field does ("gofeed entries"). feed-rs's fixtures
//! are feeds saved from real sites; its target is that every entry keeps its title and link
//! ("feed-rs title+link"), and its other fields are reported too. feed-rs invents an id
//! (an MD5 or a UUID) for an entry without one: those ids are skipped, as are expectations
//! of no id (the item model gives every item one).

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use syndic::source::text;
use url::Url;

use super::{Case, Outcome, Report, same_id};

const FIELDS: [&str; 7] = [
    "title",
    "link",
    "id",
    "published",
    "updated",
    "author",
    "enclosure",
];

/// Reads a suite file as if served at `http://example.org/feeds/FILE`.
fn read(dir: &Path, file: &str) -> Case {
    let body = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let base = Url::parse("http://example.org/feeds/")
        .and_then(|u| u.join(file))
        .expect("a URL");
    Case::read(&body, None, &base)
}

pub fn gofeed(root: &Path, report: &mut Report) {
    table(root, "gofeed", "gofeed entries", report);
}

/// gofeed's translator cases (`manifest.tsv`, files under `testdata/translator/`), whose
/// expectations are in gofeed's universal model: an item's description, content,
/// categories, enclosures (URL, type, length) and image, which `entries.tsv` leaves out.
pub fn gofeed_universal(root: &Path, report: &mut Report) {
    let dir = root.join("gofeed");
    let tsv = std::fs::read_to_string(dir.join("manifest.tsv")).expect("gofeed manifest.tsv");
    let mut cases: HashMap<String, Case> = HashMap::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, _, _, path, op, expected] = cols[..] else {
            continue;
        };
        let parts: Vec<&str> = path.split('/').collect();
        let ["items", index, field, rest @ ..] = &parts[..] else {
            continue;
        };
        let (index, field) = (*index, *field);
        if !file.starts_with("testdata/translator/")
            || !matches!(
                field,
                "description" | "content" | "categories" | "enclosures" | "image"
            )
            || op != "eq"
        {
            continue;
        }
        let index: usize = index.parse().expect("an item index");
        // The TSV writes a quote inside a JSON string as \\".
        let want: serde_json::Value =
            serde_json::from_str(&expected.replace("\\\\\"", "\\\"")).unwrap_or_default();
        let want = want
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| want.to_string());
        let case = cases
            .entry(file.to_owned())
            .or_insert_with(|| read(&dir, file));
        let what = format!("{file}#{index} {path} = {want:?}");
        let Some(Some(item)) = case.items.get(index) else {
            report.add(
                "gofeed universal model",
                field,
                &what,
                Outcome::Fail("no such item".into()),
            );
            continue;
        };
        let enclosure = |i: &str| i.parse::<usize>().ok().and_then(|i| item.enclosures.get(i));
        let outcome = match (field, rest) {
            ("description", []) => {
                let summary = item.summary.as_deref().or(item.content.as_deref());
                super::feedparser::html_row(case, summary, &want, false)
            }
            ("content", []) => {
                super::feedparser::html_row(case, item.content.as_deref(), &want, false)
            }
            ("categories", [i]) => {
                let got = i.parse::<usize>().ok().and_then(|i| item.categories.get(i));
                super::feedparser::same(got.is_some_and(|c| *c == want), &got)
            }
            ("enclosures", [i, "url"]) => {
                let got = enclosure(i).map(|e| e.url.as_str());
                super::feedparser::same(case.same_link(index, got, &want), &got)
            }
            ("enclosures", [i, "type"]) => {
                let got = enclosure(i).and_then(|e| e.mime_type.as_deref());
                super::feedparser::same(got.unwrap_or_default() == want, &got)
            }
            ("enclosures", [i, "length"]) => {
                let got = enclosure(i).and_then(|e| e.length);
                let ok = got.map(|l| l.to_string()).unwrap_or_default() == want;
                super::feedparser::same(ok, &got)
            }
            ("image", ["url"]) => {
                super::feedparser::same(item.image.as_deref() == Some(&*want), &item.image)
            }
            _ => Outcome::Skip("an image is kept as its URL only"),
        };
        let topic = match field {
            "description" | "content" => "content",
            "categories" => "category",
            "enclosures" => "enclosure",
            _ => "other",
        };
        report.add("gofeed universal model", topic, &what, outcome);
    }
}

pub fn feed_rs(root: &Path, report: &mut Report) {
    table(root, "feed-rs", "feed-rs title+link", report);
}

fn table(root: &Path, suite: &str, whole: &str, report: &mut Report) {
    let dir = root.join(suite);
    let tsv = std::fs::read_to_string(dir.join("entries.tsv")).expect("entries.tsv");
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name);
    let mut cases: HashMap<String, Case> = HashMap::new();
    for line in lines {
        let cols: Vec<&str> = line.split('\t').collect();
        let get = |name: &str| column(name).and_then(|i| cols.get(i)).copied();
        let (Some(file), Some(index)) = (get("file"), get("entry")) else {
            continue;
        };
        let index: usize = index.parse().expect("an entry index");
        let case = cases
            .entry(file.to_owned())
            .or_insert_with(|| read(&dir, file));
        let mut entry_ok = true;
        for field in FIELDS {
            let Some(want) = get(field) else { continue };
            let outcome = cell(suite, file, field, case, index, want);
            let what = format!("{file}#{index} {field} = {want:?}");
            match &outcome {
                Outcome::Fail(_) => entry_ok = false,
                Outcome::Pass | Outcome::Skip(_) => {}
            }
            let outcome = match outcome {
                Outcome::Fail(got) => Outcome::Fail(format!("{got}; {}", case.describe(index))),
                other => other,
            };
            let cells = format!("{suite} fields");
            let topic = match field {
                "published" | "updated" => "date",
                other => other,
            };
            report.add(&cells, topic, &what, outcome);
        }
        let entry = if suite == "feed-rs" {
            // The target for real-world feeds: every entry keeps its title and link.
            ["title", "link"].iter().all(|f| {
                get(f).is_none_or(|want| {
                    matches!(cell(suite, file, f, case, index, want), Outcome::Pass)
                })
            })
        } else {
            entry_ok
        };
        let outcome = if entry {
            Outcome::Pass
        } else {
            Outcome::Fail("see the field rows".to_owned())
        };
        report.add(whole, "entry", &format!("{file}#{index}"), outcome);
    }
}

/// One field of one entry.
fn cell(suite: &str, file: &str, field: &str, case: &Case, index: usize, want: &str) -> Outcome {
    if field == "id" && want.is_empty() {
        return Outcome::Skip("the item model gives every item an id");
    }
    let written = String::from_utf8_lossy(&case.body);
    if suite == "feed-rs" && field == "id" && !text::unescape(&written).contains(want) {
        return Outcome::Skip("feed-rs invented this id: it is nowhere in the document");
    }
    if want.starts_with("{'") {
        return Outcome::Skip("a value of gofeed's format-specific model (a dict), not a field");
    }
    if file.starts_with("testdata/parser/json/") && want.is_empty() && field != "author" {
        return Outcome::Skip("gofeed's JSON Feed model names this field otherwise");
    }
    let Some(Some(item)) = case.items.get(index) else {
        return if want.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail("no such item".to_owned())
        };
    };
    let ok = match field {
        "title" => {
            let ours = item.title.as_deref().unwrap_or_default();
            ours == want
                || ours == text::collapse_whitespace(want)
                || ours == text::html_to_text(want)
        }
        "link" => case.same_link(index, item.link.as_deref(), want),
        "id" => same_id(&item.id, want),
        "published" => {
            same_date(item.published, want)
                || (want.is_empty() && case.published_from_updated(index, item))
        }
        // The model's `updated` is only what the feed said; an entry with none has none.
        "updated" => same_date(item.updated, want),
        "author" => {
            let names: Vec<&str> = item.authors.iter().map(|a| a.name.as_str()).collect();
            match item.authors.first() {
                None => want.is_empty(),
                // The model names an author without a name by address or home page.
                Some(first) if want.is_empty() => {
                    Some(&first.name) == first.email.as_ref()
                        || Some(&first.name) == first.url.as_ref()
                }
                Some(first) => [want, &text::html_to_text(want)].iter().any(|want| {
                    first.name == *want
                        || first.email.as_deref() == Some(*want)
                        || names.join(", ") == *want
                }),
            }
        }
        "enclosure" => {
            let ours = item.enclosures.first().map(|e| e.url.as_str());
            case.same_link(index, ours, want) && !(want.is_empty() && ours.is_some())
        }
        _ => return Outcome::Skip("not a field of the item model"),
    };
    if ok {
        Outcome::Pass
    } else {
        Outcome::Fail("differs".to_owned())
    }
}

/// Dates are equal as instants. The suites write them in RFC 3339, with or without
/// fractions, or (gofeed's RSS parser model) as the feed wrote them in RFC 822; chrono reads
/// both, independently of syndic's own date parser.
fn same_date(ours: Option<DateTime<Utc>>, want: &str) -> bool {
    let want = want.trim();
    if want.is_empty() {
        return ours.is_none();
    }
    let parsed = DateTime::parse_from_rfc3339(want).or_else(|_| DateTime::parse_from_rfc2822(want));
    parsed.is_ok_and(|p| Some(p.with_timezone(&Utc)) == ours)
}
