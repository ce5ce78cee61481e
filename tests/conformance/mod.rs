//! Input conformance: syndic's parser and normaliser measured against the third-party feed
//! suites in `../shared/conformance` (feedparser, gofeed, feed-rs, the W3C validator's
//! cases, saved real-world feeds), the way the best parsers are measured.
//!
//! Two tests. The first compares what syndic publishes for each case with the suite's own
//! expectations, on the fields the item model has, prints a table of pass rates per suite
//! and per topic with every failure listed, writes the same report to
//! `target/tmp/conformance.txt`, and fails when a rate drops below its recorded floor in
//! [`FLOORS`] (a ratchet: raise a floor when a rate improves). Rows about fields the model
//! deliberately lacks are counted as skipped, each with its reason, never as passed. The
//! second reads every file of every suite, hostile ones included: no panic, no hang, and
//! whatever is recovered renders as valid RSS, Atom and JSON Feed.
//!
//! The suites are not part of a user's clone: without them both tests print
//! "skipped: suite not found" and pass, except under `CI=true`, where they fail.
//! `SYNDIC_CONFORMANCE` points at another copy.

mod entries;
mod every_file;
mod feedparser;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use syndic::model::Item;
use syndic::source::feed::{self, Document, Entry, ParseError};
use syndic::source::normalise;
use url::Url;

/// The recorded floor of each rate, in percent. A run below a floor fails.
/// The targets are 98 % (feedparser well-formed), 95 % (encoding), 95 % (dates),
/// 97 % (gofeed entries) and 100 % (feed-rs titles and links). Each floor is the rate last
/// reached, rounded down; where that is below the target, the README says why.
const FLOORS: &[(&str, f64)] = &[
    ("feedparser wellformed", 98.3),
    ("feedparser wellformed (bare entries)", 96.8),
    ("feedparser encoding", 96.4),
    ("feedparser dates.tsv", 98.6),
    ("feedparser entities", 99.2),
    ("feedparser illformed", 100.0),
    ("gofeed entries", 98.5),
    ("gofeed fields", 99.7),
    ("feed-rs title+link", 100.0),
    ("feed-rs fields", 91.3),
    ("gofeed universal model", 87.2),
];

/// The source name items are normalised under; ids that are not URIs become
/// `urn:syndic:conformance:ID`.
const SOURCE: &str = "conformance";

/// The title an entry with nothing else in it is read with (see [`Case::read`]).
const STAND_IN: &str = "stand-in title";

/// Where the suites are, or None (after saying so) when they are absent outside CI.
fn suites() -> Option<PathBuf> {
    let root = std::env::var_os("SYNDIC_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"));
    if root.join("README.md").is_file() {
        return Some(root);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have the conformance suites at {}",
        root.display()
    );
    eprintln!("skipped: suite not found at {}", root.display());
    None
}

/// The fixed clock every case is normalised at.
fn now() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().expect("a date")
}

/// One case read the way a poll reads it: the document, and each entry normalised on its
/// own so that index `i` is entry `i` (None where the normaliser drops an empty entry).
///
/// The suites test one field at a time, so many of their entries hold nothing a reader
/// could show (no title, link, summary, content or enclosure): a poll drops such an entry.
/// To still measure how its fields are read, it is normalised with a stand-in title, which
/// is then taken away; rows about such entries are reported on a line of their own
/// ("… (bare entries)"), apart from the rates the targets are about.
struct Case {
    doc: Result<Document, ParseError>,
    /// The address the case was read at.
    base: Url,
    items: Vec<Option<Item>>,
    /// Per entry: it holds nothing a reader could show, so a poll drops it; only the
    /// stand-in title kept it here (see [`Case::read`]).
    bare: Vec<bool>,
    /// The character encoding the body was decoded with.
    encoding: String,
    body: Vec<u8>,
}

impl Case {
    fn read(body: &[u8], content_type: Option<&str>, base: &Url) -> Case {
        let encoding = syndic::source::charset::decode(body, content_type)
            .encoding
            .to_owned();
        let doc = feed::parse(body, content_type, base);
        let mut bare_list = Vec::new();
        let items = match &doc {
            Ok(doc) => doc
                .entries
                .iter()
                .map(|entry| {
                    // The suites test one field at a time, so many entries hold nothing a
                    // reader could show, and the normaliser drops such an entry. It is read
                    // with a stand-in title instead, which is then taken away again.
                    let bare = entry.title.is_none()
                        && entry.link.is_none()
                        && entry.summary.is_none()
                        && entry.content.is_none()
                        && entry.enclosures.is_empty();
                    bare_list.push(bare);
                    let mut entry = entry.clone();
                    if bare {
                        entry.title = Some(STAND_IN.to_owned());
                    }
                    let one = Document {
                        entries: vec![entry],
                        ..doc.clone()
                    };
                    let mut item = normalise::normalise(one, SOURCE, now()).into_iter().next();
                    if bare && let Some(item) = &mut item {
                        item.title = None;
                    }
                    item
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        Case {
            doc,
            base: base.clone(),
            items,
            bare: bare_list,
            encoding,
            body: body.to_vec(),
        }
    }

    /// Whether item `index` exists only because of the stand-in title.
    fn is_bare(&self, index: usize) -> bool {
        self.bare.get(index).copied().unwrap_or(false)
    }

    /// Entry `index` as the parser gave it, before normalising.
    fn entry(&self, index: usize) -> Option<&Entry> {
        self.doc.as_ref().ok()?.entries.get(index)
    }

    /// Whether the item's published date is the model's stand-in for a missing one: an entry
    /// dated only by `updated` is published then ([`Item::published`]).
    fn published_from_updated(&self, index: usize, item: &Item) -> bool {
        self.entry(index)
            .is_some_and(|e| e.published.is_none() && e.updated == item.published)
    }

    /// Whether `link` equals what a suite expects: the same URL, once the expectation is
    /// made absolute against the case's address as the model's links are; or, when the
    /// suite expects none, a permalink guid, which the model takes as the link.
    fn same_link(&self, index: usize, link: Option<&str>, want: &str) -> bool {
        let Some(link) = link else {
            return want.is_empty();
        };
        if want.is_empty() {
            return self.entry(index).is_some_and(|e| {
                e.id_is_permalink && e.id.as_deref().map(str::trim) == Some(link)
            });
        }
        link == want
            || self
                .base
                .join(want.trim())
                .is_ok_and(|u| Url::parse(link).is_ok_and(|l| l == u))
    }

    /// What the item at `index` has, for failure messages.
    fn describe(&self, index: usize) -> String {
        match (&self.doc, self.items.get(index)) {
            (Err(e), _) => format!("not read: {e}"),
            (Ok(_), None) => format!("only {} entries", self.items.len()),
            (Ok(_), Some(None)) => "entry dropped as empty".to_owned(),
            (Ok(_), Some(Some(item))) => {
                let all = format!(
                    "title {:?}, link {:?}, id {:?}, published {:?}, updated {:?}, authors {:?}, \
                     summary {:?}, content {:?}, enclosures {:?}",
                    item.title,
                    item.link,
                    item.id,
                    item.published,
                    item.updated,
                    item.authors,
                    item.summary,
                    item.content,
                    item.enclosures
                );
                // A real feed's item is long: enough of it to see what went wrong.
                match all.char_indices().nth(600) {
                    Some((cut, _)) => format!("{}…", &all[..cut]),
                    None => all,
                }
            }
        }
    }
}

/// The result of one expectation.
enum Outcome {
    Pass,
    /// What we had instead.
    Fail(String),
    /// Why the row says nothing about syndic.
    Skip(&'static str),
}

/// Pass, fail and skip counts of one row of the table.
#[derive(Default)]
struct Tally {
    pass: usize,
    fail: usize,
    skip: usize,
}

impl Tally {
    fn rate(&self) -> f64 {
        100.0 * self.pass as f64 / (self.pass + self.fail).max(1) as f64
    }
}

/// Everything one run measured.
#[derive(Default)]
struct Report {
    suites: BTreeMap<String, Tally>,
    topics: BTreeMap<String, Tally>,
    skipped: BTreeMap<(String, &'static str), usize>,
    failures: Vec<String>,
}

impl Report {
    /// Counts `outcome` for `suite` and `topic`; `what` names the case in a failure line.
    fn add(&mut self, suite: &str, topic: &str, what: &str, outcome: Outcome) {
        let (s, t) = (
            self.suites.entry(suite.to_owned()).or_default(),
            self.topics.entry(topic.to_owned()).or_default(),
        );
        match outcome {
            Outcome::Pass => {
                s.pass += 1;
                t.pass += 1;
            }
            Outcome::Fail(got) => {
                s.fail += 1;
                t.fail += 1;
                self.failures
                    .push(format!("[{suite} · {topic}] {what}: {got}"));
            }
            Outcome::Skip(reason) => {
                s.skip += 1;
                t.skip += 1;
                *self.skipped.entry((suite.to_owned(), reason)).or_default() += 1;
            }
        }
    }

    fn table(&self) -> String {
        let mut out = String::new();
        for (title, rows) in [("suite", &self.suites), ("topic", &self.topics)] {
            let _ = writeln!(
                out,
                "{title:<38} {:>6} {:>6} {:>6} {:>7}",
                "pass", "fail", "skip", "rate"
            );
            for (name, t) in rows {
                let rate = if t.pass + t.fail == 0 {
                    "—".to_owned()
                } else {
                    format!("{:.1}%", t.rate())
                };
                let _ = writeln!(
                    out,
                    "{name:<38} {:>6} {:>6} {:>6} {rate:>7}",
                    t.pass, t.fail, t.skip
                );
            }
            out.push('\n');
        }
        out.push_str("skipped rows, by reason:\n");
        for ((suite, reason), n) in &self.skipped {
            let _ = writeln!(out, "  {n:>4}  {suite}: {reason}");
        }
        let _ = writeln!(out, "\nfailures ({}):", self.failures.len());
        for f in &self.failures {
            let _ = writeln!(out, "  {f}");
        }
        out
    }
}

#[test]
fn suites_meet_their_recorded_floors() {
    let mut report = Report::default();
    // The date cases travel with the repository, so they run even without the suites.
    feedparser::dates(&mut report);
    let root = suites();
    let found = root.is_some();
    if let Some(root) = root {
        feedparser::manifest(&root, &mut report);
        entries::gofeed(&root, &mut report);
        entries::gofeed_universal(&root, &mut report);
        entries::feed_rs(&root, &mut report);
    }
    let table = report.table();
    println!("{table}");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance.txt");
    std::fs::write(&path, &table).expect("write the report");
    let mut below = Vec::new();
    for (suite, floor) in FLOORS {
        let Some(tally) = report.suites.get(*suite) else {
            // Without the suites only the date cases run; with them, every floor is held.
            assert!(
                !found,
                "no rows for {suite}: a floor that measures nothing is not a floor"
            );
            continue;
        };
        if tally.rate() < *floor {
            below.push(format!(
                "{suite}: {:.1}% is below its floor of {floor}%",
                tally.rate()
            ));
        } else if tally.rate() >= floor + 0.5 {
            println!(
                "{suite}: {:.1}% is well above its floor of {floor}%: raise the floor",
                tally.rate()
            );
        }
    }
    assert!(
        below.is_empty(),
        "{}\n(full report in {})",
        below.join("\n"),
        path.display()
    );
}

/// A date as the suites write it (RFC 3339 UTC, seconds), or "" for none.
fn utc(date: Option<DateTime<Utc>>) -> String {
    date.map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// `expected` as the item model's id rule turns it: kept when it is an absolute URI, else
/// `urn:syndic:conformance:ID`. Equal when the item's id is either form.
fn same_id(ours: &str, expected: &str) -> bool {
    let expected = expected.trim();
    ours == expected
        || ours
            .strip_prefix("urn:syndic:conformance:")
            .and_then(|rest| {
                percent_encoding::percent_decode_str(rest)
                    .decode_utf8()
                    .ok()
            })
            .is_some_and(|rest| rest == expected)
}
