//! Test support for the writers: a fixed channel and set of items that exercise every field,
//! and comparison of rendered output with the golden files in `tests/fixtures/publish/`.
//!
//! On a mismatch the test fails with a line diff (common head and tail trimmed, three lines
//! of context). `SYNDIC_BLESS=1 cargo test publish` rewrites the golden files instead; review
//! the change with `git diff` before committing it. Test-only; nothing here ships.

use std::path::PathBuf;
use std::sync::LazyLock;

use chrono::{DateTime, TimeZone, Utc};

use super::{Channel, Format, file_name, render};
use crate::model::{Enclosure, Item, Person};

pub const BASE_URL: &str = "https://feeds.example.org/";

static BASE: LazyLock<url::Url> = LazyLock::new(|| url::Url::parse(BASE_URL).unwrap());

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

pub fn channel() -> Channel<'static> {
    Channel {
        name: "asia",
        title: "Asia, merged & <more>",
        description: Some("News from Asia — merged"),
        link: Some("https://example.org/"),
        base_url: Some(&BASE),
    }
}

/// An item with nothing but an id.
pub fn minimal(id: &str) -> Item {
    Item::new("test", id, at(2024, 1, 1, 0, 0, 0))
}

/// The golden set, newest first by [`Item::date`], as the pipeline hands it over.
pub fn items() -> Vec<Item> {
    let podcast = Item {
        title: Some("Episode 12: Ünïcode & <Tags>".into()),
        link: Some("https://example.org/podcast/12".into()),
        authors: vec![
            Person {
                name: "Jane Doe".into(),
                email: Some("jane@example.org".into()),
                url: Some("https://example.org/jane".into()),
            },
            Person {
                name: "Ravi K.".into(),
                email: Some("ravi@example.org".into()),
                url: None,
            },
        ],
        published: Some(at(2024, 3, 2, 9, 0, 0)),
        updated: Some(at(2024, 3, 2, 10, 0, 0)),
        summary: Some(
            "<p>Show notes: <a href=\"https://example.org/n?a=1&amp;b=2\">links</a> &amp; more</p>"
                .into(),
        ),
        categories: vec!["podcast".into(), "tech & science".into()],
        enclosures: vec![
            Enclosure {
                url: "https://cdn.example.org/ep12.mp3".into(),
                mime_type: Some("audio/mpeg".into()),
                length: Some(12_345_678),
            },
            Enclosure {
                url: "https://cdn.example.org/ep12.transcript".into(),
                mime_type: None,
                length: None,
            },
        ],
        image: Some("https://cdn.example.org/ep12.jpg".into()),
        ..minimal("https://example.org/podcast/12")
    };
    let html = Item {
        title: Some("Escaping: <tags> & ]]> in «Zürich» — 東京".into()),
        link: Some("https://example.org/blog/cdata".into()),
        authors: vec![Person {
            name: "Zoë".into(),
            email: None,
            url: None,
        }],
        published: Some(at(2024, 3, 1, 12, 30, 45)),
        content: Some(
            "<p>a[b[0]]> &lt; c &amp;&amp; d</p><pre>]]></pre><p>naïve café 日本語 🎙</p>".into(),
        ),
        ..minimal("urn:syndic:blog:abc123")
    };
    let only_title = Item {
        title: Some("Only a title".into()),
        published: Some(at(2024, 2, 28, 8, 0, 0)),
        ..minimal("tag:example.org,2024:only-title")
    };
    let only_content = Item {
        content: Some("<p>Only content, no title.</p>".into()),
        published: Some(at(2024, 2, 27, 7, 0, 0)),
        ..minimal("urn:syndic:notes:7")
    };
    let undated = Item {
        title: Some("Undated: first seen stands in".into()),
        link: Some("https://example.org/undated?page=1".into()),
        summary: Some("<p>No date upstream.</p>".into()),
        first_seen: at(2024, 2, 20, 0, 0, 0),
        ..minimal("https://example.org/undated")
    };
    vec![podcast, html, only_title, only_content, undated]
}

/// Items no pipeline should hand over, to prove the writers hold anyway: characters XML
/// forbids in every field, `]]>` in HTML, relative URLs, a malformed media type and email,
/// items with a single field, a repeated id, and dates at the ends of what can be spelt.
pub fn hostile() -> Vec<Item> {
    let person = |name: &str, email: Option<&str>, url: Option<&str>| Person {
        name: name.into(),
        email: email.map(Into::into),
        url: url.map(Into::into),
    };
    let enclosure = |url: &str, mime_type: Option<&str>| Enclosure {
        url: url.into(),
        mime_type: mime_type.map(Into::into),
        length: Some(42),
    };
    let controls = Item {
        title: Some("bell\u{7} \u{FFFE}& 1 < 2\u{1b}".into()),
        link: Some("https://example.org/a\u{0}b".into()),
        authors: vec![person(
            "Zo\u{1b}ë",
            Some("zoe\u{1}@example.org"),
            Some("https://example.org/\u{FFFF}zoe"),
        )],
        published: Some(at(2024, 5, 1, 12, 0, 0)),
        summary: Some("<p>s\u{1b}</p>".into()),
        content: Some("<p>c\u{0}</p>".into()),
        categories: vec!["cat\u{8}egory".into(), "\u{1}".into()],
        enclosures: vec![enclosure(
            "https://cdn.example.org/x\u{2}.mp3",
            Some("audio/mpeg\u{3}"),
        )],
        ..minimal("urn:x:ctl\u{1}")
    };
    let cdata = Item {
        title: Some("CDATA ]]> in a title".into()),
        link: Some("https://example.org/cdata".into()),
        published: Some(at(2024, 4, 30, 0, 0, 0)),
        summary: Some("<p>]]></p>".into()),
        content: Some("<p>a]]>b]]]]>c</p><pre><![CDATA[x]]></pre>".into()),
        ..minimal("https://example.org/cdata")
    };
    let relative = Item {
        title: Some("Relative URLs".into()),
        link: Some("/relative/page".into()),
        authors: vec![person("Me", None, Some("/people/me"))],
        published: Some(at(2024, 4, 29, 0, 0, 0)),
        enclosures: vec![enclosure("episode.mp3", Some("audio/mpeg"))],
        image: Some("img.png".into()),
        ..minimal("/relative/page")
    };
    let malformed = Item {
        title: Some("Bad media type and email".into()),
        link: Some("https://example.org/malformed".into()),
        authors: vec![person("Nobody", Some("nobody"), None)],
        published: Some(at(2024, 4, 28, 0, 0, 0)),
        enclosures: vec![enclosure("https://cdn.example.org/m.mp3", Some("mp3"))],
        ..minimal("urn:x:malformed")
    };
    let only_title = Item {
        title: Some("Only a title".into()),
        ..minimal("urn:x:only-title")
    };
    let only_content = Item {
        content: Some("<p>Only content</p>".into()),
        ..minimal("urn:x:only-content")
    };
    let only_link = Item {
        link: Some("https://example.org/only-link".into()),
        ..minimal("https://example.org/only-link")
    };
    let only_enclosure = Item {
        enclosures: vec![enclosure("https://cdn.example.org/only.ogg", None)],
        ..minimal("urn:x:only-enclosure")
    };
    let repeated = Item {
        title: Some("A second item with the id of the first".into()),
        ..minimal("urn:x:ctl\u{1}")
    };
    let extremes = Item {
        title: Some("Dates at the ends".into()),
        published: Some(Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap()),
        updated: Some(Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()),
        ..minimal("urn:x:extremes")
    };
    vec![
        controls,
        cdata,
        relative,
        malformed,
        only_title,
        only_content,
        only_link,
        only_enclosure,
        repeated,
        extremes,
    ]
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/publish")
        .join(name)
}

/// Renders the golden set in `format` and compares it with `asia.EXT`.
pub fn check(format: Format) {
    compare(
        &file_name("asia", format),
        &render(format, &channel(), &items()),
    );
}

/// Compares `actual` with the golden file `name`, or rewrites it under `SYNDIC_BLESS=1`.
pub fn compare(name: &str, actual: &str) {
    let path = fixture(name);
    if std::env::var_os("SYNDIC_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with SYNDIC_BLESS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "{} differs from the rendered output (SYNDIC_BLESS=1 rewrites it):\n{}",
            path.display(),
            diff(&expected, actual)
        );
    }
}

/// A unified-style diff of the one changed region: common head and tail lines are trimmed.
fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let head = e.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let tail = e[head..]
        .iter()
        .rev()
        .zip(a[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let from = head.saturating_sub(3);
    let mut out = format!("@@ line {} @@\n", from + 1);
    for line in &e[from..head] {
        out += &format!("  {line}\n");
    }
    for line in &e[head..e.len() - tail] {
        out += &format!("- {line}\n");
    }
    for line in &a[head..a.len() - tail] {
        out += &format!("+ {line}\n");
    }
    for line in e[e.len() - tail..].iter().take(3) {
        out += &format!("  {line}\n");
    }
    out
}

#[test]
fn diff_shows_the_changed_region() {
    let d = diff("a\nb\nc\nd\ne\nf\n", "a\nb\nc\nX\ne\nf\n");
    assert_eq!(d, "@@ line 1 @@\n  a\n  b\n  c\n- d\n+ X\n  e\n  f\n");
}

#[test]
fn renderers_are_deterministic() {
    for f in Format::all() {
        assert_eq!(
            render(f, &channel(), &items()),
            render(f, &channel(), &items())
        );
    }
}

#[test]
fn golden_set_ids_are_unique() {
    let items = items();
    let mut ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), items.len());
}
