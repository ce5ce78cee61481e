//! Every published format checked by the readers people use: the Atom files against the
//! RFC 4287 RELAX NG grammar (jing), the JSON Feed files against the JSON Feed 1.1 schema,
//! and the RSS and Atom files read by Python feedparser (no `bozo`) and by newsboat, both
//! of which must see the ids, titles, links, dates and enclosures syndic wrote.
//!
//! Three sets of outputs: the shipped demo's; items at the edges of what the writers take,
//! in a channel with everything and in a bare one; and every feed file of the third-party
//! suites in `../shared/conformance`, parsed, normalised and, when it yields an item,
//! rendered in all three formats. For the suites the expectations are the items rendered;
//! for the others, what syndic's own parser reads back. Without a tool or the suites these
//! tests say `skipped: … not found` and pass, except under CI (`$CI` set), where `.ci/run`
//! installs everything and a missing piece fails. Nothing here touches the network:
//! newsboat reads `file://` URLs.

mod check;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use syndic::model::Item;
use syndic::publish::{Channel, Format, media_type, render};
use url::Url;

/// One file syndic wrote, and what it wrote in it.
pub struct Output {
    pub path: PathBuf,
    pub format: Format,
    /// What the file was made from, for failure messages: a suite file or a demo feed.
    pub input: String,
    /// The entries, in order (not filled for JSON Feed, which only the schema checks).
    pub entries: Vec<Written>,
}

/// One entry as written, in the terms readers report it.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    pub id: String,
    /// Empty when the item has none (the writers then write an empty or no title).
    pub title: String,
    pub link: Option<String>,
    /// Unix seconds of RSS `pubDate` or Atom `published`.
    pub published: Option<i64>,
    /// Unix seconds of Atom `updated`; `None` in RSS, which has no such element.
    pub updated: Option<i64>,
    /// URL and type of each enclosure written (RSS writes only the first).
    pub enclosures: Vec<(String, Option<String>)>,
}

/// Whether `$CI` is set: then a missing tool fails the test instead of skipping it.
fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// Says that `what` is missing and the check is skipped, or fails under CI.
pub fn skip(what: &str) {
    assert!(
        !in_ci(),
        "{what} not found, and CI must have it (.ci/run installs it)"
    );
    println!("skipped: {what} not found");
}

/// `../shared/conformance`, beside the repository.
pub fn conformance() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance")
}

/// The time every sample is normalised at: the first-seen date of undated items.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()
}

/// Unix seconds of a date as the writers spell it: to the second, in years 1 to 9999 (RSS:
/// 1900 to 9999).
fn seconds(format: Format, dt: DateTime<Utc>) -> i64 {
    let first = if format == Format::Rss { 1900 } else { 1 };
    let min = Utc.with_ymd_and_hms(first, 1, 1, 0, 0, 0).unwrap();
    let max = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
    match dt.year() {
        y if y < first => min,
        10000.. => max,
        _ => dt,
    }
    .timestamp()
}

/// What the writer of `format` puts in each entry for `items`.
pub fn written(format: Format, items: &[Item]) -> Vec<Written> {
    items
        .iter()
        .map(|i| Written {
            id: i.id.clone(),
            title: i.title.clone().unwrap_or_default(),
            link: i.link.clone(),
            published: match format {
                Format::Atom => i.published.map(|d| seconds(format, d)),
                _ => Some(seconds(format, i.date())),
            },
            updated: (format == Format::Atom).then(|| seconds(format, i.modified())),
            enclosures: i
                .enclosures
                .iter()
                .take(if format == Format::Rss { 1 } else { usize::MAX })
                .map(|e| {
                    // Atom leaves out a type that is missing or no media type; RSS and
                    // JSON Feed must give one.
                    let mime_type = e.mime_type.as_deref().and_then(media_type);
                    let mime_type = match format {
                        Format::Atom => mime_type,
                        _ => Some(mime_type.unwrap_or("application/octet-stream".into())),
                    };
                    (e.url.clone(), mime_type)
                })
                .collect(),
        })
        .collect()
}

/// An output file read back with syndic's own parser: what the demo wrote.
pub fn read_back(path: &Path, input: &str) -> Output {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let format: Format = ext
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let base = Url::parse("https://feeds.example.org/").unwrap();
    let doc = syndic::source::feed::parse(&bytes, None, &base)
        .unwrap_or_else(|e| panic!("{} does not parse back: {e}", path.display()));
    let entries = doc
        .entries
        .into_iter()
        .map(|e| Written {
            id: e.id.unwrap_or_default(),
            title: e.title.unwrap_or_default(),
            link: e.link,
            published: e.published.map(|d| seconds(format, d)),
            updated: e.updated.map(|d| seconds(format, d)),
            enclosures: e
                .enclosures
                .into_iter()
                .map(|x| (x.url, x.mime_type))
                .collect(),
        })
        .collect();
    Output {
        path: path.to_owned(),
        format,
        input: input.to_owned(),
        entries,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_outputs_pass_every_reader() {
    let (_root, public) = crate::support::publish_demo().await;
    let mut outputs = Vec::new();
    for entry in std::fs::read_dir(&public).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if [".rss", ".atom", ".json"].iter().any(|x| name.ends_with(x)) {
            outputs.push(read_back(&path, &format!("config/demo.toml, feed {name}")));
        }
    }
    outputs.sort_by(|a, b| a.path.cmp(&b.path));
    assert!(outputs.len() >= 6, "demo outputs: {}", outputs.len());
    check::all(&outputs);
}

/// Items at the edges of what the writers take: one field only, characters XML forbids,
/// `]]>` in HTML, relative URLs, malformed types and emails, several enclosures, a repeated
/// id, dates at the ends of what RSS and Atom can spell, an internationalised link.
fn edge_items() -> Vec<Item> {
    let at = |y, mo, d| Utc.with_ymd_and_hms(y, mo, d, 12, 0, 0).unwrap();
    let item = |id: &str| Item::new("edge", id, at(2024, 1, 1));
    let enclosure = |url: &str, mime_type: Option<&str>| syndic::model::Enclosure {
        url: url.into(),
        mime_type: mime_type.map(Into::into),
        length: Some(1234),
    };
    let person = |name: &str, email: Option<&str>, url: Option<&str>| syndic::model::Person {
        name: name.into(),
        email: email.map(Into::into),
        url: url.map(Into::into),
    };
    vec![
        Item {
            title: Some("Only a title".into()),
            ..item("urn:edge:only-title")
        },
        Item {
            content: Some("<p>Only content</p>".into()),
            ..item("urn:edge:only-content")
        },
        Item {
            link: Some("https://example.org/only-link".into()),
            ..item("https://example.org/only-link")
        },
        Item {
            enclosures: vec![enclosure(
                "https://cdn.example.org/only.ogg",
                Some("application/ogg"),
            )],
            ..item("urn:edge:only-enclosure")
        },
        Item {
            title: Some("Bell\u{7} \u{FFFE}& 1 < 2 \u{1b}".into()),
            link: Some("https://example.org/ctl\u{0}".into()),
            authors: vec![person("Zo\u{1b}ë", Some("zoe\u{1}@example.org"), None)],
            published: Some(at(2024, 5, 1)),
            content: Some("<p>a]]>b]]]]>c\u{0}</p>".into()),
            categories: vec!["cat\u{8}".into()],
            ..item("urn:edge:controls\u{1}")
        },
        Item {
            title: Some("The same id again".into()),
            ..item("urn:edge:controls")
        },
        Item {
            title: Some("Relative URLs are left out".into()),
            link: Some("/relative".into()),
            authors: vec![person("Me", Some("nobody"), Some("/me"))],
            enclosures: vec![
                enclosure("relative.mp3", Some("audio/mpeg")),
                enclosure("https://cdn.example.org/bad-type.mp3", Some("mp3")),
            ],
            image: Some("img.png".into()),
            ..item("urn:edge:relative")
        },
        Item {
            title: Some("Several enclosures".into()),
            link: Some("https://example.org/several".into()),
            published: Some(at(2023, 12, 24)),
            updated: Some(at(2024, 2, 1)),
            enclosures: vec![
                enclosure("https://cdn.example.org/cover.jpg", Some("image/jpeg")),
                enclosure("https://cdn.example.org/ep.mp3", Some("audio/mpeg")),
                enclosure("https://cdn.example.org/ep.mp4", Some("video/mp4")),
                enclosure("https://cdn.example.org/notes", None),
            ],
            ..item("tag:example.org,2024:several")
        },
        Item {
            title: Some("Dates at the ends".into()),
            published: Some(Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap()),
            updated: Some(Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()),
            ..item("urn:edge:extremes")
        },
        Item {
            title: Some("Une adresse internationale".into()),
            link: Some("https://exemple.例え.jp/été?q=ü".into()),
            published: Some(at(1969, 7, 20)),
            ..item("https://example.org/international")
        },
    ]
}

#[test]
fn edge_cases_pass_every_reader() {
    let out = tempfile::tempdir().unwrap();
    let served = Url::parse("https://feeds.example.org/edge/").unwrap();
    let full = Channel {
        name: "full",
        title: "Edge cases & more",
        description: Some("Everything a channel can say"),
        link: Some("https://example.org/"),
        base_url: Some(&served),
    };
    // No site and no base URL: no self links, an empty RSS channel link, a URN Atom id.
    let bare = Channel {
        name: "bare",
        title: "Bare",
        description: None,
        link: None,
        base_url: None,
    };
    let items = edge_items();
    let mut outputs = Vec::new();
    for channel in [full, bare] {
        for format in Format::all() {
            let path = out.path().join(channel.file_name(format));
            std::fs::write(&path, render(format, &channel, &items)).unwrap();
            outputs.push(read_back(&path, "the edge-case items"));
        }
    }
    check::all(&outputs);
}

/// The suites sampled, under `../shared/conformance`.
const SUITES: [&str; 10] = [
    "feedparser/wellformed",
    "feedparser/illformed",
    "feedparser/encoding",
    "feedparser/entities",
    "gofeed/testdata",
    "feed-rs/fixture",
    "feedvalidator/testcases",
    "rss-parser",
    "feedjira",
    "jsonfeed-schemastore",
];

/// Every feed file of the suites, not a sample: all of them fit the time budget (over 1,200
/// give items; the readers take about 35 s over them in a debug build on two cores).
#[test]
fn the_conformance_suites_pass_every_reader() {
    let root = conformance();
    if !root.join("README.md").is_file() {
        skip("the conformance suites (../shared/conformance)");
        return;
    }
    let started = std::time::Instant::now();
    let out = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    let mut inputs = 0;
    for suite in SUITES {
        let files = suite_files(&root.join(suite));
        let before = inputs;
        for file in &files {
            let made = sample(&root, file, out.path(), inputs);
            inputs += usize::from(!made.is_empty());
            outputs.extend(made);
        }
        println!(
            "readers: {suite}: {} of {} files give items",
            inputs - before,
            files.len()
        );
        assert!(inputs > before, "{suite}: no file gives items");
    }
    println!(
        "readers: {inputs} inputs, {} outputs rendered in {:.1?}",
        outputs.len(),
        started.elapsed()
    );
    assert!(inputs >= 600, "only {inputs} suite files gave items");
    check::all(&outputs);
    println!("readers: checked in {:.1?}", started.elapsed());
}

/// The files of a suite folder that are feeds, sorted: not the suites' expectation files
/// (gofeed's `x.json` beside `x.xml`, `*_expected.json`, feed-rs's `*.serde.json`,
/// rss-parser's `output/`) nor their licences and manifests.
fn suite_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("rss-parser/output") {
                    todo.push(path);
                }
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy();
            let expectation = name.ends_with("_expected.json")
                || name.ends_with(".serde.json")
                || (name.ends_with(".json") && path.with_extension("xml").exists());
            let paperwork = ["LICENSE", "SOURCE"].contains(&name.as_ref())
                || name.ends_with(".tsv")
                || name.starts_with("manifest.");
            if !expectation && !paperwork {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Parses and normalises one suite file and, when it yields items, renders all three
/// formats into `out` as `sNNNN.EXT`. No outputs when it yields nothing.
fn sample(root: &Path, file: &Path, out: &Path, n: usize) -> Vec<Output> {
    let input = file.strip_prefix(root).unwrap().display().to_string();
    let bytes = std::fs::read(file).unwrap();
    let base = Url::parse("http://example.org/sample/")
        .unwrap()
        .join(&input)
        .unwrap();
    let Ok(doc) = syndic::source::feed::parse(&bytes, None, &base) else {
        return Vec::new();
    };
    let items = syndic::source::normalise::normalise(doc, "sample", now());
    if items.is_empty() {
        return Vec::new();
    }
    let name = format!("s{n:04}");
    let title = format!("Sample of {input}");
    let served = Url::parse("https://feeds.example.org/sample/").unwrap();
    let channel = Channel {
        name: &name,
        title: &title,
        description: Some("A conformance suite file, as syndic publishes it"),
        link: Some("https://example.org/"),
        base_url: Some(&served),
    };
    Format::all()
        .into_iter()
        .map(|format| {
            let path = out.join(channel.file_name(format));
            std::fs::write(&path, render(format, &channel, &items)).unwrap();
            let entries = match format {
                Format::Json => Vec::new(),
                _ => written(format, &items),
            };
            Output {
                path,
                format,
                input: input.clone(),
                entries,
            }
        })
        .collect()
}
