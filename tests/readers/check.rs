//! The four readers, each run once over many files (jing and the JSON Feed validator take
//! every file at once; feedparser two halves side by side; newsboat a few caches), all at
//! the same time, and their verdicts turned into one list of problems naming the file, the
//! input it came from and what the reader said.
//!
//! The comparisons are exact except for the reader behaviour documented where it is
//! handled: feedparser and newsboat are judged on what they promise to report, not on how
//! they fill fields a feed leaves out.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output as Finished, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use syndic::publish::Format;

use super::{Output, Written, conformance, skip};

/// One reader: its name and the check that runs it.
type Reader = (&'static str, fn(&[Output]) -> Vec<String>);

const READERS: [Reader; 4] = [
    ("jing", jing),
    ("JSON Feed schema", jsonfeed),
    ("feedparser", feedparser),
    ("newsboat", newsboat),
];

/// Runs every reader over `outputs`, side by side, and fails with every problem they found
/// (the first 200 shown).
pub fn all(outputs: &[Output]) {
    let problems: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = READERS
            .iter()
            .map(|&(name, check)| {
                s.spawn(move || {
                    let started = std::time::Instant::now();
                    let problems = check(outputs);
                    println!("readers: {name} took {:.1?}", started.elapsed());
                    problems
                })
            })
            .collect();
        runs.into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    if !problems.is_empty() {
        let shown: Vec<&str> = problems.iter().take(200).map(String::as_str).collect();
        panic!(
            "{} problems with {} outputs:\n{}",
            problems.len(),
            outputs.len(),
            shown.join("\n")
        );
    }
}

/// `FILE (from INPUT): READER: MESSAGE`.
fn problem(o: &Output, reader: &str, message: impl std::fmt::Display) -> String {
    let file = o.path.file_name().unwrap_or_default().to_string_lossy();
    format!("{file} (from {}): {reader}: {message}", o.input)
}

fn of(outputs: &[Output], format: Format) -> Vec<&Output> {
    outputs.iter().filter(|o| o.format == format).collect()
}

/// The longest any one reader may take: they take seconds, so only a hung one reaches it,
/// and it is killed rather than left to hold CI.
const READER_LIMIT: Duration = Duration::from_secs(300);

/// `cmd.output()`, but a program still running after [`READER_LIMIT`] is killed and the
/// test fails.
fn output_within(cmd: &mut Command, what: &str) -> std::io::Result<Finished> {
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > READER_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} was still running after {READER_LIMIT:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Finished {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Runs `cmd`, or returns `None` (after [`skip`]) when its program is not installed.
fn run(mut cmd: Command, what: &str) -> Option<Finished> {
    match output_within(&mut cmd, what) {
        Ok(done) => Some(done),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            skip(what);
            None
        }
        Err(e) => panic!("{what}: {e}"),
    }
}

/// Whether `../shared/conformance` (which holds the Atom grammar and the JSON Feed schema)
/// is there; says it is missing otherwise.
fn have_suites() -> bool {
    let here = conformance().join("schemas").is_dir();
    if !here {
        skip("the conformance suites (../shared/conformance)");
    }
    here
}

/// Whether python3 can import `modules`; says what is missing otherwise.
fn python_has(modules: &str, what: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(what);
    }
    ok
}

fn text(done: &Finished) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr)
    )
}

/// Assigns each line of a tool's report to the output whose path starts it; lines about no
/// output go to the first output, so that nothing the tool said is lost.
fn by_file(outputs: &[&Output], report: &str, reader: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for line in report.lines().filter(|l| !l.trim().is_empty()) {
        let owner = outputs
            .iter()
            .find(|o| line.starts_with(&*o.path.to_string_lossy()))
            .or(outputs.first());
        if let Some(o) = owner {
            problems.push(problem(o, reader, line));
        }
    }
    problems
}

/// jing with the RFC 4287 grammar: silent and exit 0 for valid files.
fn jing(outputs: &[Output]) -> Vec<String> {
    let atom = of(outputs, Format::Atom);
    if atom.is_empty() || !have_suites() {
        return Vec::new();
    }
    let mut cmd = Command::new("jing");
    cmd.arg("-c")
        .arg(conformance().join("schemas/atom.rnc"))
        .args(atom.iter().map(|o| &o.path));
    let Some(done) = run(cmd, "jing") else {
        return Vec::new();
    };
    // jing reports on stdout. Debian's wrapper script warns on stderr about optional jars
    // it did not find ("[warning] /usr/bin/jing: Unable to locate xml-apis in …"); those
    // lines say nothing about the files, anything else on stderr does.
    let stderr = String::from_utf8_lossy(&done.stderr);
    let wrapper = |l: &str| l.starts_with("[warning]") && l.contains(": Unable to locate ");
    let stderr: Vec<&str> = stderr.lines().filter(|l| !wrapper(l)).collect();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&done.stdout),
        stderr.join("\n")
    );
    let mut problems = by_file(&atom, &report, "jing");
    if !done.status.success() && problems.is_empty() {
        problems.push(problem(atom[0], "jing", format!("{}", done.status)));
    }
    problems
}

/// `tools/jsonfeed_validate.py`: prints `FILE valid` or `FILE INVALID` and then the
/// schema's complaints, indented; exit 0 when every file is valid.
fn jsonfeed(outputs: &[Output]) -> Vec<String> {
    let json = of(outputs, Format::Json);
    if json.is_empty()
        || !have_suites()
        || !python_has("jsonschema, referencing", "Python jsonschema/referencing")
    {
        return Vec::new();
    }
    let mut cmd = Command::new("python3");
    cmd.arg(conformance().join("tools/jsonfeed_validate.py"))
        .args(json.iter().map(|o| &o.path));
    let Some(done) = run(cmd, "python3") else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    let mut current: Option<&Output> = None;
    for line in String::from_utf8_lossy(&done.stdout).lines() {
        if let Some(o) = json
            .iter()
            .find(|o| line.starts_with(&*o.path.to_string_lossy()))
        {
            current = line.ends_with(" INVALID").then_some(*o);
        } else if let Some(o) = current {
            problems.push(problem(o, "JSON Feed 1.1 schema", line.trim()));
        }
    }
    if !done.status.success() && problems.is_empty() {
        problems.push(problem(json[0], "jsonfeed_validate.py", text(&done)));
    }
    problems
}

/// Python feedparser over the RSS and Atom files, in two processes side by side.
fn feedparser(outputs: &[Output]) -> Vec<String> {
    let xml: Vec<&Output> = outputs
        .iter()
        .filter(|o| o.format != Format::Json)
        .collect();
    if xml.is_empty() || !python_has("feedparser", "Python feedparser") {
        return Vec::new();
    }
    let scratch = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/readers/feedparser_check.py");
    let halves: Vec<&[&Output]> = xml.chunks(xml.len().div_ceil(2)).collect();
    let reports: Vec<Value> = std::thread::scope(|s| {
        let runs: Vec<_> = halves
            .iter()
            .enumerate()
            .map(|(n, half)| {
                let list = scratch.path().join(format!("list{n}"));
                let names: Vec<String> = half
                    .iter()
                    .map(|o| o.path.to_string_lossy().into_owned())
                    .collect();
                std::fs::write(&list, names.join("\n")).unwrap();
                let script = &script;
                s.spawn(move || {
                    let done = output_within(
                        Command::new("python3").arg(script).arg(&list),
                        "feedparser_check.py",
                    )
                    .unwrap();
                    assert!(
                        done.status.success(),
                        "feedparser_check.py: {}",
                        text(&done)
                    );
                    serde_json::from_slice::<Value>(&done.stdout).unwrap()
                })
            })
            .collect();
        runs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut problems = Vec::new();
    for o in xml {
        let seen = reports
            .iter()
            .find_map(|r| r.get(&*o.path.to_string_lossy()))
            .expect("feedparser reported every file");
        problems.extend(feedparser_agrees(o, seen));
    }
    problems
}

fn feedparser_agrees(o: &Output, seen: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if seen["bozo"] == true {
        problems.push(problem(o, "feedparser bozo", &seen["error"]));
    }
    let entries = seen["entries"].as_array().cloned().unwrap_or_default();
    if entries.len() != o.entries.len() {
        problems.push(problem(
            o,
            "feedparser",
            format!("{} entries, wrote {}", entries.len(), o.entries.len()),
        ));
        return problems;
    }
    for (e, w) in entries.iter().zip(&o.entries) {
        let str_of = |k: &str| e[k].as_str().map(str::to_owned);
        let int_of = |k: &str| e[k].as_i64();
        // feedparser treats an Atom id as a permalink guid: an entry without a link gets
        // its id as `link`. (RSS guids are written isPermaLink="false" unless they are
        // the link, so there it does not happen.)
        let link = match (&w.link, o.format) {
            (None, Format::Atom) => Some(w.id.clone()),
            (link, _) => link.clone(),
        };
        let enclosures = e["enclosures"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|x| {
                let url = x[0].as_str().unwrap_or_default().to_owned();
                (url, x[1].as_str().map(str::to_owned))
            })
            .collect();
        // feedparser gives every Atom link without a `type` the type `text/html`,
        // enclosures included.
        let typed = |(url, t): &(String, Option<String>)| match (t, o.format) {
            (None, Format::Atom) => (url.clone(), Some("text/html".to_owned())),
            (t, _) => (url.clone(), t.clone()),
        };
        let want = Written {
            link,
            enclosures: w.enclosures.iter().map(typed).collect(),
            ..w.clone()
        };
        let got = Written {
            id: str_of("id").unwrap_or_default(),
            title: str_of("title").unwrap_or_default(),
            link: str_of("link"),
            published: int_of("published"),
            updated: int_of("updated"),
            enclosures,
        };
        if got != want {
            problems.push(problem(
                o,
                "feedparser",
                format!("read {got:?}, wrote {want:?}"),
            ));
        }
    }
    problems
}

/// One row of newsboat's `rss_item` table.
#[derive(Debug, PartialEq)]
struct Row {
    guid: String,
    title: String,
    url: String,
    pub_date: i64,
    enclosure_url: String,
    enclosure_type: String,
}

/// newsboat over the RSS and Atom files as `file://` URLs. It keys items by guid across a
/// whole cache, so the files are split into batches in which no id repeats, one cache
/// each; RSS and Atom outputs of one input share ids and so land in different batches.
/// Every entry syndic writes has a date (RSS `pubDate`, Atom `updated`), so newsboat's
/// dating of an undated item "now" never comes into play; an entry without a link has
/// `url` "" there.
fn newsboat(outputs: &[Output]) -> Vec<String> {
    let xml: Vec<&Output> = outputs
        .iter()
        .filter(|o| o.format != Format::Json)
        .collect();
    if xml.is_empty() {
        return Vec::new();
    }
    let mut batches: Vec<(HashSet<&str>, Vec<&Output>)> = Vec::new();
    for o in xml {
        let ids: Vec<&str> = o.entries.iter().map(|w| w.id.as_str()).collect();
        match batches
            .iter_mut()
            .find(|(seen, _)| ids.iter().all(|id| !seen.contains(id)))
        {
            Some((seen, files)) => {
                seen.extend(ids);
                files.push(o);
            }
            None => batches.push((ids.into_iter().collect(), vec![o])),
        }
    }
    let scratch = tempfile::tempdir().unwrap();
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Two batches at a time: newsboat reads its feeds one after another.
    let results: Vec<Option<Vec<String>>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut problems = Vec::new();
                    loop {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((_, files)) = batches.get(n) else {
                            return Some(problems);
                        };
                        let dir = scratch.path().join(format!("batch{n}"));
                        std::fs::create_dir(&dir).unwrap();
                        let rows = newsboat_batch(&dir, files)?;
                        for o in files {
                            problems.extend(newsboat_agrees(o, rows.get(&o.path)));
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    results.into_iter().flatten().flatten().collect()
}

/// Runs newsboat once over `files` with a fresh cache in `dir`; the rows of each file.
/// `None` when newsboat is not installed.
fn newsboat_batch(dir: &Path, files: &[&Output]) -> Option<HashMap<PathBuf, Vec<Row>>> {
    let mut by_url = HashMap::new();
    let mut urls = String::new();
    for o in files {
        let url = url::Url::from_file_path(&o.path).unwrap().to_string();
        urls.push_str(&url);
        urls.push('\n');
        by_url.insert(url, o.path.clone());
    }
    std::fs::write(dir.join("urls"), urls).unwrap();
    let cache = dir.join("cache.db");
    let mut cmd = Command::new("newsboat");
    cmd.arg("-u")
        .arg(dir.join("urls"))
        .arg("-c")
        .arg(&cache)
        .args(["-C", "/dev/null", "-x", "reload"])
        .env("HOME", dir);
    let done = run(cmd, "newsboat")?;
    assert!(done.status.success(), "newsboat: {}", text(&done));
    let db = rusqlite::Connection::open(&cache).unwrap();
    let mut query = db
        .prepare(
            "SELECT feedurl, guid, title, url, pubDate, enclosure_url, enclosure_type \
             FROM rss_item ORDER BY id",
        )
        .unwrap();
    let mut rows: HashMap<PathBuf, Vec<Row>> = HashMap::new();
    let found = query
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Row {
                    guid: r.get(1)?,
                    title: r.get(2)?,
                    url: r.get(3)?,
                    pub_date: r.get(4)?,
                    enclosure_url: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                    enclosure_type: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                },
            ))
        })
        .unwrap();
    for row in found {
        let (feed, row) = row.unwrap();
        let path = by_url.get(&feed).cloned().unwrap_or_else(|| feed.into());
        rows.entry(path).or_default().push(row);
    }
    Some(rows)
}

/// 1583-01-01T00:00:00Z, the first date newsboat reads as written.
const FIRST_NEWSBOAT_SECOND: i64 = -12_212_553_600;

/// Whether newsboat keeps an enclosure of this type: it keeps podcasts only (its
/// `is_valid_podcast_type`: `audio/*`, `video/*`, `application/ogg`).
fn podcast(mime_type: &str) -> bool {
    mime_type.starts_with("audio/")
        || mime_type.starts_with("video/")
        || mime_type == "application/ogg"
}

/// A URL as newsboat stores an item's link: resolved by a WHATWG URL parser, so with the
/// host lower-cased and in punycode, a `/` path when there is none, and the path escaped.
fn resolved(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| url.to_owned(), String::from)
}

fn newsboat_agrees(o: &Output, rows: Option<&Vec<Row>>) -> Vec<String> {
    let rows = rows.map(Vec::as_slice).unwrap_or_default();
    let by_guid: BTreeMap<&str, &Row> = rows.iter().map(|r| (r.guid.as_str(), r)).collect();
    let mut problems = Vec::new();
    if rows.len() != o.entries.len() {
        problems.push(problem(
            o,
            "newsboat",
            format!("{} items, wrote {}", rows.len(), o.entries.len()),
        ));
    }
    for w in &o.entries {
        let Some(got) = by_guid.get(w.id.as_str()) else {
            problems.push(problem(o, "newsboat", format!("no item {:?}", w.id)));
            continue;
        };
        // newsboat takes the podcast enclosures only and, in Atom, the last of them (each
        // enclosure link replaces the one before).
        let (enclosure_url, enclosure_type) = w
            .enclosures
            .iter()
            .rfind(|(_, t)| t.as_deref().is_some_and(podcast))
            .map(|(u, t)| (u.clone(), t.clone().unwrap_or_default()))
            .unwrap_or_default();
        let url = w.link.as_deref().map(resolved).unwrap_or_default();
        let want = Row {
            guid: w.id.clone(),
            // An untitled item with a link gets a title newsboat makes from the URL.
            title: match (w.title.is_empty(), &w.link) {
                (true, Some(_)) => got.title.clone(),
                _ => w.title.clone(),
            },
            url,
            // newsboat dates an Atom entry by `published`, else `updated`.
            pub_date: match w.published.or(w.updated) {
                // newsboat reads dates with curl's parser, which takes a year below 100 for
                // two digits (0001 is 2001) and cannot read one below 1583 (the item is
                // dated "now"). RSS never has such years (the writer starts at 1900).
                Some(t) if t < FIRST_NEWSBOAT_SECOND => got.pub_date,
                // It keeps dates as 32-bit unsigned seconds: outside 1970–2106 they wrap.
                Some(t) => t.rem_euclid(1 << 32),
                None => -1,
            },
            enclosure_url,
            enclosure_type,
        };
        if **got != want {
            problems.push(problem(
                o,
                "newsboat",
                format!("read {got:?}, wrote {want:?}"),
            ));
        }
    }
    problems
}
