//! The shipped demo (`config/demo.toml`), run from a copy of the repository's `config/`: it
//! publishes every promised file, each valid to strict parsers, a second run changes no
//! byte, and the stories come through as the demo promises. What outside readers make of
//! these files (jing, the JSON Feed schema, Python feedparser, newsboat) is checked in
//! `readers.rs`; both run it through [`publish_demo`].

use url::Url;

use crate::support::{assert_valid_output, publish_demo, syndic_in};

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
    let (root, public) = publish_demo().await;
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
}
