//! The shipped demo (`config/demo.toml`), run from a copy of the repository's `config/`: it
//! publishes every promised file, each valid to strict parsers, a second run changes no
//! byte, and Python feedparser reads the RSS and Atom files with `bozo` false and the same
//! ids, titles and links we wrote. (feedparser does not read JSON Feed; the JSON file is
//! checked for the fields JSON Feed 1.1 requires.)

use std::path::Path;
use std::process::Command;

use url::Url;

use crate::support::{assert_valid_output, syndic_in};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

const OUTPUTS: [&str; 7] = [
    "all.rss",
    "all.atom",
    "all.json",
    "harbour.rss",
    "harbour.atom",
    "podcasts.rss",
    "index.opml",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_publishes_everything_and_a_rerun_changes_nothing() {
    let root = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
        &root.path().join("config"),
    );
    let first = syndic_in(root.path(), &["once", "-c", "config/demo.toml"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let public = root.path().join("public");
    let before: Vec<Vec<u8>> = OUTPUTS
        .iter()
        .map(|f| std::fs::read(public.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect();

    for (file, bytes) in OUTPUTS.iter().zip(&before) {
        assert_valid_output(file, bytes);
    }

    let second = syndic_in(root.path(), &["once", "-c", "config/demo.toml"]).await;
    assert_eq!(second.code, 0, "{second:?}");
    for (file, bytes) in OUTPUTS.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(public.join(file)).unwrap(),
            bytes,
            "{file} changed"
        );
    }

    let base = Url::parse("https://feeds.example.org/").unwrap();
    let all = syndic::source::feed::parse(&before[0], None, &base).unwrap();
    let titles: Vec<&str> = all
        .entries
        .iter()
        .filter_map(|e| e.title.as_deref())
        .collect();
    assert_eq!(
        titles
            .iter()
            .filter(|t| **t == "Release 4.2: faster start-up, fewer surprises")
            .count(),
        1,
        "the story in two sources appears once: {titles:?}"
    );
    assert!(
        titles.contains(&"Berth 7 closed for dredging"),
        "undated items: {titles:?}"
    );
    let podcast = all
        .entries
        .iter()
        .find(|e| e.title.as_deref() == Some("Episode 12: The crane operators"))
        .unwrap();
    assert_eq!(
        podcast.enclosures[0].url,
        "https://radio.harbour.example/audio/12.mp3"
    );
    assert_eq!(podcast.enclosures[0].length, Some(38_462_117));
    let cafe = all
        .entries
        .iter()
        .find(|e| e.title.as_deref() == Some("Pilot boarding point moved 0.5 nm north"))
        .unwrap();
    assert!(
        cafe.summary.as_deref().unwrap().contains("Café"),
        "ISO-8859-1 decoded"
    );
    // The web-page source: its stories, and the one story page the demo has, in full.
    let story = all
        .entries
        .iter()
        .find(|e| {
            e.title.as_deref()
                == Some(
                    "Pyongyang says ties with China to be \u{2018}firmly\u{2019} carried forward",
                )
        })
        .unwrap_or_else(|| panic!("no Pyongyang story in {titles:?}"));
    let article = story.content.as_deref().expect("full text fetched");
    assert_eq!(article.matches("<p").count(), 11, "{article}");
    for furniture in ["Previous Story", "Next Story", "Don't Miss", "ALSO READ"] {
        assert!(!article.contains(furniture), "{furniture} in {article}");
    }
    assert_eq!(
        titles.iter().filter(|t| !t.is_empty()).count(),
        titles.len(),
        "every story has its title"
    );
    for (file, bytes) in OUTPUTS.iter().zip(&before) {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("file:"), "{file} publishes a local path");
    }

    feedparser_agrees(&public, &all);
}

/// Python feedparser must read every RSS and Atom output with bozo false, and see the ids,
/// titles and links syndic's own parser sees.
fn feedparser_agrees(public: &Path, all: &syndic::source::feed::Document) {
    let available = Command::new("python3")
        .args(["-c", "import feedparser"])
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        assert!(
            std::env::var("CI").is_err(),
            "CI must have Python feedparser (.ci/run installs it)"
        );
        eprintln!("skipped: Python feedparser not installed (pip install feedparser)");
        return;
    }
    let script = r#"
import feedparser, json, sys
out = {}
for path in sys.argv[1:]:
    d = feedparser.parse(path)
    out[path] = {"bozo": int(bool(d.bozo)), "error": str(d.get("bozo_exception", "")),
                 "entries": [[e.get("id"), e.get("title"), e.get("link")] for e in d.entries]}
print(json.dumps(out))
"#;
    let files: Vec<String> = OUTPUTS
        .iter()
        .filter(|f| f.ends_with(".rss") || f.ends_with(".atom"))
        .map(|f| public.join(f).to_string_lossy().into_owned())
        .collect();
    let output = Command::new("python3")
        .args(["-c", script])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for file in &files {
        let result = &report[file];
        assert_eq!(result["bozo"], 0, "{file}: {}", result["error"]);
    }
    for (file, id_is_link) in [(&files[0], false), (&files[1], true)] {
        let seen: Vec<Vec<String>> = report[file]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .collect();
        let ours: Vec<Vec<String>> = all
            .entries
            .iter()
            .map(|e| {
                let id = e.id.clone().unwrap_or_default();
                // feedparser gives an Atom entry without a link its id as the link (its
                // `guidislink` rule); the web page read from a file has linkless stories.
                let link = match &e.link {
                    Some(link) => link.clone(),
                    None if id_is_link => id.clone(),
                    None => String::new(),
                };
                vec![id, e.title.clone().unwrap_or_default(), link]
            })
            .collect();
        assert_eq!(seen, ours, "{file}: feedparser sees other entries");
    }
}
