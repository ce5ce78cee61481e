//! `syndic run` as a real process against a local server: it polls on 6-field (seconds)
//! schedules, reloads on SIGHUP and on file edits, keeps the old config when an edit is
//! broken, honours Retry-After and the per-host cap, stops sources that are gone, and exits
//! 0 on SIGTERM within the grace period with valid outputs. It also talks to a stand-in for
//! systemd's notify socket.

use std::time::{Duration, Instant};

use crate::support::{LogServer, Reply, Site, assert_valid_output, fixture};

const EVERY_SECOND: &str = "* * * * * *";

fn feed(name: &str) -> Reply {
    Reply::ok(fixture(&format!("http/{name}")))
}

/// A config polling `sources` (name, url) with `schedule`, publishing them all as `all`.
fn config(sources: &[(&str, String)], schedule: &str, extra_daemon: &str) -> String {
    let mut text = format!(
        "[daemon]\noutput_dir = \"public\"\nstate_dir = \"state\"\nschedule = \"{schedule}\"\n\
         timeout = \"5s\"\n{extra_daemon}\n"
    );
    for (name, url) in sources {
        text.push_str(&format!(
            "\n[[source]]\nname = \"{name}\"\nurl = \"{url}\"\n"
        ));
    }
    text.push_str("\n[[feed]]\nname = \"all\"\ntitle = \"All\"\n");
    text
}

fn gaps(hits: &[Instant]) -> Vec<Duration> {
    hits.windows(2).map(|w| w[1] - w[0]).collect()
}

/// SIGTERM, then the exit code within `within`.
async fn stop(daemon: &mut crate::support::Daemon, within: Duration) -> i32 {
    daemon.signal("TERM");
    let code = daemon.exit_code(within).await.unwrap_or_else(|| {
        panic!(
            "syndic run did not stop within {within:?}:\n{}",
            daemon.log()
        )
    });
    if code != 0 {
        // The caller's assertion says only the code; the log says why.
        eprintln!("syndic run exited {code}:\n{}", daemon.log());
    }
    code
}

#[tokio::test]
async fn polls_on_schedule_publishes_and_stops_cleanly() {
    let server = LogServer::start().await;
    server.route("/alpha.rss", feed("alpha.rss"));
    let site = Site::new(&config(
        &[("alpha", server.url("/alpha.rss"))],
        EVERY_SECOND,
        "",
    ));
    let mut daemon = site.run_daemon(&[]);
    assert!(
        server
            .wait_for_hits("/alpha.rss", 4, Duration::from_secs(8))
            .await,
        "{}",
        daemon.log()
    );
    // The first poll comes at once (never polled); then about one per second. (Loose
    // bounds: a loaded machine may run a poll late, but never twice in one slot.)
    let hits = server.hits("/alpha.rss");
    assert!(
        gaps(&hits)[1..]
            .iter()
            .all(|g| *g > Duration::from_millis(500)),
        "polled twice within a second: {:?}",
        gaps(&hits)
    );
    let span = hits[hits.len() - 1] - hits[1];
    assert!(
        span < Duration::from_secs(hits.len() as u64),
        "fewer polls than slots: {:?}",
        gaps(&hits)
    );
    assert!(
        daemon
            .wait_for_log("Published.", 1, Duration::from_secs(5))
            .await
    );
    assert!(daemon.log().contains("source=alpha"), "{}", daemon.log());
    assert_eq!(stop(&mut daemon, Duration::from_secs(12)).await, 0);
    let log = daemon.log();
    assert!(log.contains("Stopped."), "{log}");
    for file in ["all.rss", "all.atom", "all.json"] {
        let text = site.read(file);
        assert_valid_output(file, text.as_bytes());
        assert!(
            text.contains("Alpha"),
            "{file} lacks alpha's items:\n{text}"
        );
    }
}

#[tokio::test]
async fn sighup_adds_a_source_and_a_broken_edit_keeps_the_old_config() {
    let server = LogServer::start().await;
    server.route("/alpha.rss", feed("alpha.rss"));
    server.route("/beta.atom", feed("beta.atom"));
    let alpha = ("alpha", server.url("/alpha.rss"));
    let beta = ("beta", server.url("/beta.atom"));
    let site = Site::new(&config(std::slice::from_ref(&alpha), EVERY_SECOND, ""));
    let mut daemon = site.run_daemon(&[]);
    assert!(
        server
            .wait_for_hits("/alpha.rss", 1, Duration::from_secs(8))
            .await
    );
    assert!(server.hits("/beta.atom").is_empty());

    site.write_config(&config(&[alpha.clone(), beta.clone()], EVERY_SECOND, ""));
    daemon.signal("HUP");
    assert!(
        server
            .wait_for_hits("/beta.atom", 2, Duration::from_secs(8))
            .await,
        "the added source was not polled:\n{}",
        daemon.log()
    );
    assert!(daemon.log().contains("Reloaded the config."));

    // A typo and a bad schedule: both reported with their lines; the old config runs on.
    let mut broken = config(&[alpha, beta], EVERY_SECOND, "colour = \"blue\"");
    broken.push_str("\n[[source]]\nname = \"gamma\"\nurl = \"http://127.0.0.1:9/\"\nschedule = \"every tuesday\"\n");
    site.write_config(&broken);
    daemon.signal("HUP");
    assert!(
        daemon
            .wait_for_log("Config not reloaded", 1, Duration::from_secs(8))
            .await,
        "{}",
        daemon.log()
    );
    let log = daemon.log();
    assert!(log.contains("ERROR"), "{log}");
    assert!(log.contains("syndic.toml:6:1: daemon.colour"), "{log}");
    assert!(log.contains("every tuesday"), "{log}");
    let (alpha_before, beta_before) = (
        server.hits("/alpha.rss").len(),
        server.hits("/beta.atom").len(),
    );
    assert!(
        server
            .wait_for_hits("/beta.atom", beta_before + 2, Duration::from_secs(8))
            .await
    );
    assert!(server.hits("/alpha.rss").len() > alpha_before);
    assert_eq!(stop(&mut daemon, Duration::from_secs(12)).await, 0);
}

#[tokio::test]
async fn an_edit_to_the_file_reloads_without_a_signal() {
    let server = LogServer::start().await;
    server.route("/alpha.rss", feed("alpha.rss"));
    server.route("/gamma.json", feed("gamma.json"));
    let alpha = ("alpha", server.url("/alpha.rss"));
    let site = Site::new(&config(std::slice::from_ref(&alpha), EVERY_SECOND, ""));
    let mut daemon = site.run_daemon(&[]);
    assert!(
        daemon
            .wait_for_log("syndic is running.", 1, Duration::from_secs(8))
            .await
    );
    // Saved the way editors save: a new file renamed over the old one.
    let text = config(
        &[alpha, ("gamma", server.url("/gamma.json"))],
        EVERY_SECOND,
        "",
    );
    let scratch = site.dir.path().join(".syndic.toml.swp");
    std::fs::write(&scratch, text).unwrap();
    std::fs::rename(&scratch, site.config()).unwrap();
    assert!(
        server
            .wait_for_hits("/gamma.json", 1, Duration::from_secs(8))
            .await,
        "{}",
        daemon.log()
    );
    assert!(
        daemon.log().contains("why=\"file changed\""),
        "{}",
        daemon.log()
    );
    // Reading the file is not an edit.
    let reloads = daemon.log().matches("Reloading the config").count();
    for _ in 0..3 {
        std::fs::read(site.config()).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        daemon.log().matches("Reloading the config").count(),
        reloads,
        "{}",
        daemon.log()
    );
    // A broken save is reported once, not again each time the file is read.
    site.write_config("[daemon]\nschedule = \"sometimes\"\n");
    assert!(
        daemon
            .wait_for_log("Config not reloaded", 1, Duration::from_secs(8))
            .await
    );
    std::fs::read(site.config()).unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        daemon.log().matches("Config not reloaded").count(),
        1,
        "{}",
        daemon.log()
    );
    assert_eq!(stop(&mut daemon, Duration::from_secs(12)).await, 0);
}

#[tokio::test]
async fn sigterm_lets_a_slow_poll_finish_and_records_it() {
    let server = LogServer::start().await;
    server.route(
        "/slow.rss",
        feed("alpha.rss").delay(Duration::from_millis(1500)),
    );
    let site = Site::new(&config(
        &[("slow", server.url("/slow.rss"))],
        "0 0 1 1 *",
        "grace = \"8s\"",
    ));
    let mut daemon = site.run_daemon(&[]);
    assert!(
        server
            .wait_for_hits("/slow.rss", 1, Duration::from_secs(8))
            .await
    );
    let asked = Instant::now();
    assert_eq!(stop(&mut daemon, Duration::from_secs(12)).await, 0);
    assert!(
        asked.elapsed() >= Duration::from_millis(800),
        "did not wait for the poll"
    );
    let log = daemon.log();
    assert!(log.contains("Polled source."), "{log}");
    let text = site.read("all.atom");
    assert_valid_output("all.atom", text.as_bytes());
    assert!(
        text.contains("Alpha"),
        "the slow poll's items were lost:\n{text}"
    );
}

#[tokio::test]
async fn sigterm_abandons_a_hung_fetch_after_the_grace_period() {
    let server = LogServer::start().await;
    server.route("/alpha.rss", feed("alpha.rss"));
    server.route(
        "/hung.rss",
        feed("alpha.rss").delay(Duration::from_secs(60)),
    );
    let site = Site::new(&config(
        &[
            ("alpha", server.url("/alpha.rss")),
            ("hung", server.url("/hung.rss")),
        ],
        "0 0 1 1 *",
        "grace = \"1s\"",
    ));
    let mut daemon = site.run_daemon(&[]);
    assert!(
        server
            .wait_for_hits("/hung.rss", 1, Duration::from_secs(8))
            .await
    );
    assert!(
        daemon
            .wait_for_log("source=alpha", 1, Duration::from_secs(8))
            .await
    );
    let asked = Instant::now();
    assert_eq!(stop(&mut daemon, Duration::from_secs(6)).await, 0);
    assert!(
        asked.elapsed() < Duration::from_secs(4),
        "{:?}",
        asked.elapsed()
    );
    assert!(
        daemon.log().contains("Grace period over"),
        "{}",
        daemon.log()
    );
    let text = site.read("all.rss");
    assert_valid_output("all.rss", text.as_bytes());
    assert!(text.contains("Alpha"));
}

#[tokio::test]
async fn retry_after_defers_the_next_poll() {
    let server = LogServer::start().await;
    // The answer takes 1.5 s: Retry-After counts from the answer, not from the request.
    server.route(
        "/busy.rss",
        Reply::status(429)
            .header("retry-after", "3")
            .delay(Duration::from_millis(1500)),
    );
    let site = Site::new(&config(
        &[("busy", server.url("/busy.rss"))],
        EVERY_SECOND,
        "",
    ));
    let mut daemon = site.run_daemon(&[]);
    assert!(
        server
            .wait_for_hits("/busy.rss", 3, Duration::from_secs(16))
            .await,
        "{}",
        daemon.log()
    );
    for gap in gaps(&server.hits("/busy.rss")) {
        assert!(
            gap >= Duration::from_millis(4400),
            "asked again {gap:?} after a request answered in 1.5 s with Retry-After: 3"
        );
    }
    assert!(daemon.log().contains("status=429"), "{}", daemon.log());
    assert_eq!(stop(&mut daemon, Duration::from_secs(12)).await, 0);
}

#[tokio::test]
async fn fetches_to_one_host_never_exceed_per_host() {
    let server = LogServer::start().await;
    let mut sources = Vec::new();
    for i in 0..6 {
        let path = format!("/s{i}.rss");
        server.route(&path, feed("alpha.rss").delay(Duration::from_millis(400)));
        sources.push((format!("s{i}"), server.url(&path)));
    }
    let sources: Vec<(&str, String)> = sources
        .iter()
        .map(|(n, u)| (n.as_str(), u.clone()))
        .collect();
    let site = Site::new(&config(
        &sources,
        EVERY_SECOND,
        "per_host = 2\nconcurrency = 32",
    ));
    let mut daemon = site.run_daemon(&[]);
    for (_, url) in &sources {
        let path = url.trim_start_matches(&server.url(""));
        assert!(server.wait_for_hits(path, 2, Duration::from_secs(15)).await);
    }
    assert_eq!(server.most_in_flight(), 2, "per_host = 2");
    assert_eq!(stop(&mut daemon, Duration::from_secs(12)).await, 0);
}

#[tokio::test]
async fn a_gone_source_stops_and_a_moved_one_warns_once() {
    let server = LogServer::start().await;
    server.route("/gone.rss", Reply::status(410));
    server.route(
        "/old.rss",
        Reply::status(301).header("location", "/new.rss"),
    );
    server.route("/new.rss", feed("alpha.rss"));
    let site = Site::new(&config(
        &[
            ("gone", server.url("/gone.rss")),
            ("moved", server.url("/old.rss")),
        ],
        EVERY_SECOND,
        "",
    ));
    let mut daemon = site.run_daemon(&[]);
    assert!(
        server
            .wait_for_hits("/new.rss", 3, Duration::from_secs(8))
            .await
    );
    assert_eq!(server.hits("/gone.rss").len(), 1, "polled after 410 Gone");
    let log = daemon.log();
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR") && l.contains("Source is gone (HTTP 410)")),
        "{log}"
    );
    assert_eq!(
        log.matches("moved permanently").count(),
        1,
        "the move is logged once:\n{log}"
    );
    assert!(log.contains(&server.url("/new.rss")), "{log}");
    assert_eq!(stop(&mut daemon, Duration::from_secs(12)).await, 0);
}

#[tokio::test]
async fn tells_systemd_ready_reloading_status_and_stopping() {
    let server = LogServer::start().await;
    server.route("/alpha.rss", feed("alpha.rss"));
    let site = Site::new(&config(
        &[("alpha", server.url("/alpha.rss"))],
        EVERY_SECOND,
        "",
    ));
    let socket_path = site.dir.path().join("notify.sock");
    let socket = tokio::net::UnixDatagram::bind(&socket_path).unwrap();
    let mut daemon = site.run_daemon(&[
        ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
        ("WATCHDOG_USEC", "400000"),
    ]);
    let mut said = String::new();
    heard(&socket, &mut said, "READY=1").await;
    heard(
        &socket,
        &mut said,
        "STATUS=1 sources: 1 ok, 0 failing; last publish",
    )
    .await;
    // Pinged at half the watchdog interval, while the liveness check passes.
    let mut pings = String::new();
    heard(&socket, &mut pings, "WATCHDOG=1").await;
    daemon.signal("HUP");
    heard(&socket, &mut said, "RELOADING=1").await;
    let mut after_reload = String::new();
    heard(&socket, &mut after_reload, "READY=1").await;
    daemon.signal("TERM");
    heard(&socket, &mut after_reload, "STOPPING=1").await;
    assert_eq!(daemon.exit_code(Duration::from_secs(12)).await, Some(0));
}

/// Reads notifications into `said` until one contains `wanted` (within 8 s).
async fn heard(socket: &tokio::net::UnixDatagram, said: &mut String, wanted: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    let mut buf = vec![0u8; 4096];
    while !said.contains(wanted) {
        let n = tokio::time::timeout_at(deadline, socket.recv(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no {wanted} in:\n{said}"))
            .unwrap();
        said.push_str(&String::from_utf8_lossy(&buf[..n]));
        said.push('\n');
    }
}
