//! Every file of every suite — well-formed, ill-formed, deliberately invalid, and the
//! suites' own expectation files — read as if a source had served it: no panic, no hang,
//! and whatever is recovered renders as valid RSS 2.0, Atom 1.0 and JSON Feed 1.1 that
//! syndic's own parser reads back with the same items. Each file's items, kept as the
//! source gave them and sanitised only once they come back out of their stored JSON (as a
//! poll keeps them), are the items sanitised at once.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use syndic::model::Item;
use syndic::publish::{self, Channel, Format};
use syndic::source::normalise::Sanitise;
use syndic::source::{feed, normalise};
use url::Url;

use super::{SOURCE, now, suites};
use crate::support::valid_output;

/// A file whose checks take longer than this has hung. Reading is linear in the input; the
/// largest suite file (1.6 MB) is read in well under a second even in a debug build, so
/// this leaves room for a loaded CI machine and for the checks of what it publishes.
const HANG: Duration = Duration::from_secs(10);

/// Reading one file (parse and normalise) must take less processor time than this. It is
/// measured as the reading thread's CPU time, not wall time, so a loaded machine does not
/// make it fail; the slowest suite file takes about 0.3 s in a debug build.
const SLOW: Duration = Duration::from_secs(1);

/// The calling thread's CPU time (user and system), from `/proc/thread-self/stat`; `None`
/// where that is not available (then the wall time is used).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel reports in USER_HZ, 100 per second on Linux.
    Some(Duration::from_millis(ticks * 10))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// What one file came to, and how long parsing and normalising it took.
struct Outcome {
    read: Read,
    took: Duration,
}

enum Read {
    /// Read, published, checked: how many items.
    Items(usize),
    /// Not a feed, with the reason (an expected outcome for many hostile files).
    Refused,
    /// Something that must not happen: a panic, or an output a reader rejects.
    Broken(String),
}

fn read(path: &Path) -> Outcome {
    let body = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (started, cpu) = (Instant::now(), thread_cpu());
    let parsed = feed::parse(&body, None, &base_for(path));
    let items = parsed
        .clone()
        .map(|doc| normalise::normalise(doc, SOURCE, now()));
    let took = match (cpu, thread_cpu()) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => started.elapsed(),
    };
    let read = match (items, parsed) {
        (Err(_), _) | (_, Err(_)) => Read::Refused,
        (Ok(items), Ok(doc)) => match sanitised_later(doc, &items) {
            // Even an empty feed is published, and must be valid.
            None => publish_all(&items),
            Some(why) => Read::Broken(why),
        },
    };
    Outcome { read, took }
}

/// How `doc`'s items normalised with their HTML kept raw, then stored as JSON, read back and
/// sanitised, differ from `items` (the same sanitised at once); `None` when they do not.
fn sanitised_later(doc: feed::Document, items: &[Item]) -> Option<String> {
    let later = normalise::normalise_with(doc, SOURCE, now(), Sanitise::Later);
    if later.len() != items.len() {
        return Some(format!(
            "{} items when sanitised later, {} at once",
            later.len(),
            items.len()
        ));
    }
    for (raw, now) in later.into_iter().zip(items) {
        let json = serde_json::to_string(&raw).expect("an item encodes");
        let mut back: Item = serde_json::from_str(&json).expect("an item decodes");
        (back.id, back.source) = (raw.id, raw.source);
        normalise::finish(&mut back);
        if back != *now {
            return Some(format!(
                "sanitised later, an item differs: {back:?} instead of {now:?}"
            ));
        }
    }
    None
}

/// The address a suite file is read at, named after the file.
fn base_for(path: &Path) -> Url {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("feed");
    Url::parse("http://example.org/suite/")
        .and_then(|u| u.join(name))
        .unwrap_or_else(|_| Url::parse("http://example.org/suite/feed").expect("a URL"))
}

/// Renders `items` in every format, checks each output, and reads it back.
fn publish_all(items: &[syndic::model::Item]) -> Read {
    let site = Url::parse("https://feeds.example.net/").expect("a URL");
    let channel = Channel {
        name: "sample",
        title: "A sample",
        description: Some("What one suite file publishes as"),
        link: Some("https://example.net/"),
        base_url: Some(&site),
    };
    for format in Format::all() {
        let out = publish::render(format, &channel, items);
        let file = channel.file_name(format);
        if let Err(e) = valid_output(&file, out.as_bytes()) {
            return Read::Broken(e);
        }
        let again = match feed::parse(out.as_bytes(), None, &site) {
            Ok(again) => normalise::normalise(again, SOURCE, now()),
            Err(e) => return Read::Broken(format!("{file}: syndic cannot read it back: {e}")),
        };
        let ids = |items: &[syndic::model::Item]| -> Vec<String> {
            items.iter().map(|i| i.id.clone()).collect()
        };
        if ids(&again) != ids(items) {
            return Read::Broken(format!(
                "{file}: read back as other items: {:?} instead of {:?}",
                ids(&again),
                ids(items)
            ));
        }
    }
    Read::Items(items.len())
}

#[test]
fn every_suite_file_reads_without_panic_or_hang_and_publishes_valid_output() {
    let Some(root) = suites() else { return };
    let mut files = Vec::new();
    walk(&root, &mut files);
    let (mut published, mut empty, mut refused) = (0, 0, 0);
    let (mut slowest, mut slowest_file) = (Duration::ZERO, String::new());
    let mut problems = Vec::new();
    for path in &files {
        let (tx, rx) = mpsc::channel();
        let owned = path.clone();
        std::thread::spawn(move || {
            let outcome = std::panic::catch_unwind(|| read(&owned));
            let _ = tx.send(outcome);
        });
        let shown = path.strip_prefix(&root).unwrap_or(path).display();
        let outcome = match rx.recv_timeout(HANG) {
            Ok(outcome) => outcome,
            Err(_) => {
                problems.push(format!("{shown}: still reading after {HANG:?}"));
                continue;
            }
        };
        let Ok(Outcome { read, took }) = outcome else {
            problems.push(format!("{shown}: panicked"));
            continue;
        };
        if took > slowest {
            slowest = took;
            slowest_file = shown.to_string();
        }
        if took > SLOW {
            problems.push(format!("{shown}: took {took:?} of processor time to read"));
        }
        match read {
            Read::Broken(why) => problems.push(format!("{shown}: {why}")),
            Read::Refused => refused += 1,
            Read::Items(0) => empty += 1,
            Read::Items(_) => published += 1,
        }
    }
    println!(
        "{} files: {published} published valid feeds with items, {empty} valid empty feeds, \
         {refused} refused as not a feed; the slowest to read was {slowest_file}, in {slowest:?} of processor time",
        files.len()
    );
    assert!(files.len() > 3000, "only {} suite files found", files.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
