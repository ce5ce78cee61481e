//! `check`, `preview`, `status` and `publish` as a user runs them, and config errors: exit codes, and
//! every problem named with its line.

use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Run, Site, fixture, fixture_response, syndic_in};

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_config_exits_2_and_names_every_problem_with_its_line() {
    let site = Site::new(
        r#"[daemon]
concurency = 4

[[source]]
name = "a"
url = "https://a.example/feed.xml"
schedule = "*/5 * * *"

[[feed]]
name = "f"
sources = ["a", "b"]
include = ["(?i)korea["]
"#,
    );
    for command in ["check", "once", "status"] {
        let run = site.syndic(&[command]).await;
        assert_eq!(run.code, 2, "{command}: {run:?}");
        for (line, key) in [
            (2, "daemon.concurency"),
            (7, "source \"a\".schedule"),
            (11, "feed \"f\".sources"),
            (12, "feed \"f\".include"),
        ] {
            let wanted = format!("syndic.toml:{line}:");
            assert!(
                run.stderr
                    .lines()
                    .any(|l| l.contains(&wanted) && l.contains(key)),
                "{command}: no problem at line {line} for {key}:\n{}",
                run.stderr
            );
        }
        assert!(run.stderr.contains("has 4 problems"), "{}", run.stderr);
    }
    assert!(
        !site.dir.path().join("public").exists(),
        "nothing was published"
    );
    assert!(
        !site.dir.path().join("state").exists(),
        "no store was created"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn time_zones_are_checked_by_name_and_shown_per_source() {
    let site = Site::new(
        r#"[daemon]
timezone = "Europe/Berlin"

[[source]]
name = "here"
url = "https://a.example/feed.xml"

[[source]]
name = "there"
url = "https://b.example/feed.xml"
timezone = "Asia/Seoul"
"#,
    );
    let run = site.syndic(&["check"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    for (name, zone) in [("here", "Europe/Berlin"), ("there", "Asia/Seoul")] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.contains(name) && l.contains(&format!(", {zone})"))),
            "{name} in {zone}: {}",
            run.stdout
        );
    }

    site.write_config(
        "[daemon]\ntimezone = \"Europe/Berlin\"\n\n[[source]]\nname = \"a\"\n\
         url = \"https://a.example/feed.xml\"\ntimezone = \"asia/seoul\"\n",
    );
    let run = site.syndic(&["check"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "syndic.toml:7:12: source \"a\".timezone: unknown time zone \"asia/seoul\" (did you mean \"Asia/Seoul\"?)"
        ),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_accepts_the_shipped_configs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for config in ["config/example.toml", "config/demo.toml"] {
        let run = syndic_in(root, &["check", "-c", config]).await;
        assert_eq!(run.code, 0, "{config}: {run:?}");
        assert!(run.stdout.contains("ok"), "{}", run.stdout);
    }
}

/// The binary allocates with jemalloc unless built without the `jemalloc` feature: asked
/// through jemalloc's own environment variable, it prints its statistics at exit.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[tokio::test(flavor = "multi_thread")]
async fn the_binary_allocates_with_jemalloc() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_syndic"))
        .args(["check", "-c", "config/demo.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Begin jemalloc statistics"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn config_lookup_order() {
    let dir = tempfile::tempdir().unwrap();
    // No -c, no $SYNDIC_CONFIG, no ./syndic.toml (and, on a test machine, no /etc one).
    if !std::path::Path::new("/etc/syndic/syndic.toml").exists() {
        let run = syndic_in(dir.path(), &["check"]).await;
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("no config file"), "{}", run.stderr);
    }
    std::fs::write(dir.path().join("syndic.toml"), "").unwrap();
    let run = syndic_in(dir.path(), &["check"]).await;
    assert_eq!(run.code, 0, "./syndic.toml is found: {run:?}");

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_syndic"))
        .arg("check")
        .current_dir(dir.path())
        .env("SYNDIC_CONFIG", dir.path().join("elsewhere.toml"))
        .output()
        .await
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "$SYNDIC_CONFIG wins over ./syndic.toml"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("elsewhere.toml"));
}

#[tokio::test(flavor = "multi_thread")]
async fn preview_a_url_or_a_path_needs_no_config_and_writes_nothing() {
    let server = MockServer::start().await;
    Mock::given(path("/alpha.rss"))
        .respond_with(fixture_response("alpha.rss"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/alpha.rss", server.uri());

    let table = syndic_in(dir.path(), &["preview", &url]).await;
    assert_eq!(table.code, 0, "{table:?}");
    assert!(
        table.stdout.contains("Alpha News — RSS 2.0, 3 items"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("2026-03-03 10:00  Alpha two"),
        "{}",
        table.stdout
    );

    let json = syndic_in(dir.path(), &["preview", &url, "--json"]).await;
    assert_eq!(json.code, 0, "{json:?}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON on stdout");
    assert_eq!(doc["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(doc["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(doc["items"][0]["title"], "Alpha one", "document order");
    assert_eq!(doc["items"][0]["id"], "https://alpha.example/one");

    let file = dir.path().join("beta.atom");
    std::fs::write(&file, fixture("http/beta.atom")).unwrap();
    let run = syndic_in(dir.path(), &["preview", "beta.atom"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Beta Journal — Atom 1.0, 2 items"),
        "{}",
        run.stdout
    );

    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(
        entries.len(),
        1,
        "preview wrote nothing but the file we put there"
    );

    let missing = syndic_in(dir.path(), &["preview", "nothing-here"]).await;
    assert_eq!(missing.code, 2);

    // A broken ./syndic.toml that nobody asked for does not stop a preview of a URL…
    std::fs::write(dir.path().join("syndic.toml"), "bogus = 1\n").unwrap();
    let ignored = syndic_in(dir.path(), &["preview", &url]).await;
    assert_eq!(ignored.code, 0, "{ignored:?}");
    assert!(
        ignored.stderr.contains("warning: ignoring the config"),
        "{}",
        ignored.stderr
    );
    // …but one named with -c does.
    let named = syndic_in(dir.path(), &["preview", &url, "-c", "syndic.toml"]).await;
    assert_eq!(named.code, 2, "{named:?}");
    std::fs::remove_file(dir.path().join("syndic.toml")).unwrap();
    let broken = syndic_in(
        dir.path(),
        &["preview", &format!("{}/missing", server.uri())],
    )
    .await;
    assert_eq!(broken.code, 1);
    assert!(broken.stderr.contains("HTTP 404"), "{}", broken.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn preview_a_configured_source_by_name_leaves_the_store_alone() {
    let server = MockServer::start().await;
    Mock::given(path("/beta.atom"))
        .respond_with(fixture_response("beta.atom"))
        .mount(&server)
        .await;
    let site = Site::new(&format!(
        "[[source]]\nname = \"beta\"\nurl = \"{}/beta.atom\"\n",
        server.uri()
    ));
    let run = site.syndic(&["preview", "beta"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Beta own"), "{}", run.stdout);
    assert!(!site.dir.path().join("state").exists());
    let status = site.syndic(&["status"]).await;
    assert!(
        status.stdout.contains("nothing has been polled"),
        "{}",
        status.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn status_shows_each_source_after_a_run() {
    let server = MockServer::start().await;
    Mock::given(path("/alpha.rss"))
        .respond_with(fixture_response("alpha.rss"))
        .mount(&server)
        .await;
    Mock::given(path("/busy"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7200"))
        .mount(&server)
        .await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(410))
        .mount(&server)
        .await;
    Mock::given(path("/old"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/alpha.rss"))
        .mount(&server)
        .await;
    let source = |name: &str, path: &str| {
        format!(
            "[[source]]\nname = \"{name}\"\nurl = \"{}{path}\"\nschedule = \"0 * * * *\"\n\n",
            server.uri()
        )
    };
    let site = Site::new(
        &[
            source("alpha", "/alpha.rss"),
            source("missing", "/missing"),
            source("busy", "/busy"),
            source("gone", "/gone"),
            source("moved", "/old"),
            source("new", "/new"),
        ]
        .concat(),
    );
    // Poll all but "new" once.
    let config = std::fs::read_to_string(site.config()).unwrap();
    let cut = config.find("[[source]]\nname = \"new\"").unwrap();
    site.write_config(&config[..cut]);
    assert_eq!(site.syndic(&["once"]).await.code, 1);
    site.write_config(&config);
    let status = site.syndic(&["status"]).await;
    assert_eq!(status.code, 0);
    let line = |name: &str| {
        status
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in\n{}", status.stdout))
            .to_string()
    };
    let columns = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
    let (alpha, missing) = (line("alpha"), line("missing"));
    assert_eq!(&columns(&alpha)[3..6], ["200", "3", "0"], "{alpha}");
    // Next run: the next hour's slot plus alpha's jitter (at most 5 minutes).
    let next = chrono::NaiveDateTime::parse_from_str(
        &format!("{} {}", columns(&alpha)[6], columns(&alpha)[7]),
        "%Y-%m-%d %H:%M:%S",
    )
    .unwrap()
    .and_utc();
    let ahead = next - chrono::Utc::now();
    assert!(
        ahead > chrono::TimeDelta::zero() && ahead <= chrono::TimeDelta::minutes(65),
        "{alpha}"
    );
    assert!(alpha.contains("on schedule"), "{alpha}");
    assert_eq!(&columns(&missing)[3..6], ["404", "0", "1"], "{missing}");
    assert!(missing.ends_with("HTTP 404"), "{missing}");
    assert!(missing.contains("(back-off 1h)"), "{missing}");
    assert!(
        line("busy").contains("Retry-After (back-off 1h)"),
        "{}",
        line("busy")
    );
    assert!(
        line("gone").contains("stopped: 410 Gone"),
        "{}",
        line("gone")
    );
    let moved = line("moved");
    assert!(
        moved.contains(&format!("moved permanently to {}/alpha.rss", server.uri())),
        "{moved}"
    );
    assert!(line("new").contains("never polled") && line("new").contains("now"));
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_rewrites_feeds_from_the_store_and_never_from_an_empty_one() {
    let (server, site) = alpha_site().await;

    // Before anything was polled, there is nothing to publish from: a published feed stays.
    std::fs::create_dir_all(site.public("")).unwrap();
    std::fs::write(site.public("all.rss"), "published before").unwrap();
    let refused = site.syndic(&["publish"]).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("no store in"), "{}", refused.stderr);
    assert_eq!(site.read("all.rss"), "published before");
    assert!(!site.dir.path().join("state").exists());

    let once = site.syndic(&["once", "--timings"]).await;
    assert_eq!(once.code, 0, "{once:?}");
    let timings = timings_of(&once);
    for stage in [
        "fetch",
        "parse",
        "normalise",
        "store",
        "select",
        "render",
        "write",
    ] {
        assert!(timings[stage].as_f64().is_some(), "{stage} in {timings}");
    }
    for stage in ["fetch", "parse", "normalise", "store", "render"] {
        assert!(
            timings[stage].as_f64().unwrap() > 0.0,
            "{stage} in {timings}"
        );
    }
    let rss = site.read("all.rss");
    assert!(rss.contains("<item>"), "{rss}");

    // The files are rewritten from the store alone: no request reaches the server.
    let requests = server.received_requests().await.unwrap().len();
    std::fs::remove_file(site.public("all.atom")).unwrap();
    let publish = site.syndic(&["publish"]).await;
    assert_eq!(publish.code, 0, "{publish:?}");
    assert_eq!(site.read("all.rss"), rss);
    assert!(site.public("all.atom").exists());
    assert_eq!(server.received_requests().await.unwrap().len(), requests);

    // The server sends no validators: the same bytes again are fetched, not parsed.
    let again = site.syndic(&["once", "--timings"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(timings_of(&again)["parse"].as_f64(), Some(0.0), "{again:?}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        requests + 1
    );
    assert_eq!(site.read("all.rss"), rss);
}

/// A first `once` starts its polls while the store is made: a store that cannot be made
/// still fails the run, with its cause, before anything is recorded or published.
#[tokio::test(flavor = "multi_thread")]
async fn once_with_a_state_dir_it_cannot_make_fails_and_publishes_nothing() {
    let (_server, site) = alpha_site().await;
    std::fs::write(
        site.dir.path().join("state"),
        "a file where the folder goes",
    )
    .unwrap();

    let once = site.syndic(&["once"]).await;
    assert_eq!(once.code, 1, "{once:?}");
    assert!(
        once.stderr.contains("cannot create state_dir"),
        "{}",
        once.stderr
    );
    assert!(!once.stderr.contains("Polled source"), "{}", once.stderr);
    assert!(!site.public("").exists(), "nothing was published");
}

/// A site with one source, `alpha` (the `alpha.rss` fixture, served by the returned
/// server), and one feed of it, `all`.
async fn alpha_site() -> (MockServer, Site) {
    let server = MockServer::start().await;
    Mock::given(path("/alpha.rss"))
        .respond_with(fixture_response("alpha.rss"))
        .mount(&server)
        .await;
    let config = format!(
        "[[source]]\nname = \"alpha\"\nurl = \"{}/alpha.rss\"\n\n[[feed]]\nname = \"all\"\ntitle = \"All\"\n",
        server.uri()
    );
    let site = Site::new(&config);
    (server, site)
}

/// The `--timings` line of a run.
fn timings_of(run: &Run) -> serde_json::Value {
    let line = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("timings "))
        .unwrap_or_else(|| panic!("no timings line: {}", run.stderr));
    serde_json::from_str(line).unwrap()
}
