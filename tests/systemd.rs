//! The systemd unit and its config in `systemd/`: `systemd-analyze verify` finds nothing
//! wrong with the unit, `systemd-analyze security` rates its exposure 2.0 or lower, it has
//! what the daemon relies on, and the config passes `syndic check` with paths the unit
//! lets the daemon write.
//!
//! These run the unit through systemd's own parser offline; they do not start it (a test
//! machine need not run systemd). Without `systemd-analyze` they say so and pass, except
//! under CI (`$CI` set), which must have it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::syndic_in;

/// The worst `systemd-analyze security` exposure level the unit may have.
const MAX_EXPOSURE: f64 = 2.0;

/// The grace period `syndic run` gives polls in flight on SIGTERM when the config sets none.
const DEFAULT_GRACE_SECS: u64 = 10;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn unit_text() -> String {
    std::fs::read_to_string(repo("systemd/syndic.service")).expect("systemd/syndic.service")
}

/// A copy of the unit in a scratch folder, named `syndic.service`, whose `ExecStart=` runs
/// the binary under test, so that `verify` finds an executable there.
fn unit_copy() -> (tempfile::TempDir, PathBuf) {
    let installed = "ExecStart=/usr/local/bin/syndic ";
    let text = unit_text();
    assert_eq!(
        text.lines().filter(|l| l.starts_with(installed)).count(),
        1,
        "the unit runs /usr/local/bin/syndic, once"
    );
    let text = text.replace(
        installed,
        &format!("ExecStart={} ", env!("CARGO_BIN_EXE_syndic")),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("syndic.service");
    std::fs::write(&path, text).expect("write unit");
    (dir, path)
}

/// Runs `systemd-analyze ARGS`, or returns `None` when it is not installed (failing instead
/// under CI).
fn analyze(args: &[&str], unit: &Path) -> Option<Output> {
    let run = Command::new("systemd-analyze")
        .args(args)
        .arg(unit)
        .current_dir(unit.parent().expect("unit's folder"))
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .output();
    match run {
        Ok(output) => Some(output),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("CI").is_none(),
                "systemd-analyze not found, and CI must have it (.ci/run installs it)"
            );
            println!("skipped: systemd-analyze not found");
            None
        }
        Err(e) => panic!("systemd-analyze: {e}"),
    }
}

#[test]
fn systemd_analyze_verify_finds_nothing_wrong_with_the_unit() {
    let (_dir, unit) = unit_copy();
    let Some(output) = analyze(&["verify"], &unit) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let ours: Vec<&str> = stderr.lines().filter(|l| l.contains("syndic")).collect();
    assert!(
        output.status.success() && ours.is_empty(),
        "systemd-analyze verify: {}\n{stderr}",
        output.status
    );
}

#[test]
fn systemd_analyze_security_rates_the_unit_2_0_or_lower() {
    let (_dir, unit) = unit_copy();
    let Some(output) = analyze(&["security", "--offline=true", "--no-pager"], &unit) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let exposure = exposure(&stdout).unwrap_or_else(|| {
        panic!(
            "no overall exposure level in:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(
        exposure <= MAX_EXPOSURE,
        "exposure {exposure} is above {MAX_EXPOSURE:.1}; what is exposed (✗):\n{}",
        stdout
            .lines()
            .filter(|l| l.starts_with('✗'))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// What `systemd-analyze security` may mark exposed (✗) in the unit, and why each is so.
/// Anything else it marks is a sandboxing setting lost or a new check to consider, even when
/// the overall level stays under [`MAX_EXPOSURE`] (one lost line rarely moves it past).
const ACCEPTED_EXPOSURES: &[(&str, &str)] = &[
    ("PrivateNetwork=", "sources are polled over the network"),
    (
        "RestrictAddressFamilies=~AF_(INET|INET6)",
        "HTTP(S) over IPv4 and IPv6",
    ),
    (
        "RestrictAddressFamilies=~AF_UNIX",
        "the notify socket, journald and nss-resolve",
    ),
    ("IPAddressDeny=", "a source may be at any address"),
    (
        "RootDirectory=/RootImage=",
        "it runs the host's /usr/local/bin/syndic",
    ),
    (
        "DeviceAllow=",
        "ProtectClock= itself leaves /dev/rtc readable",
    ),
];

#[test]
fn systemd_analyze_security_marks_only_the_accepted_exposures() {
    let (_dir, unit) = unit_copy();
    let Some(output) = analyze(&["security", "--offline=true", "--no-pager"], &unit) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let unexpected: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            l.strip_prefix('✗')
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|check| ACCEPTED_EXPOSURES.iter().all(|(c, _)| *c != check))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "exposed beyond what the daemon needs:\n{}",
        unexpected.join("\n")
    );
}

/// The number in "→ Overall exposure level for syndic.service: 1.1 OK 🙂".
fn exposure(report: &str) -> Option<f64> {
    let marker = "Overall exposure level for syndic.service:";
    let line = report.lines().find(|l| l.contains(marker))?;
    let (_, rest) = line.split_once(marker)?;
    rest.split_whitespace().next()?.parse().ok()
}

#[test]
fn exposure_is_read_from_the_summary_line() {
    let report = "✗ PrivateNetwork=  Service has access to the host's network  0.5\n\
                  \n→ Overall exposure level for syndic.service: 1.1 OK 🙂\n";
    assert_eq!(exposure(report), Some(1.1));
    assert_eq!(exposure("nothing here"), None);
}

/// The unit fits what `syndic run` does: readiness and watchdog pings over the notify
/// socket, SIGHUP to reload, and a drain on SIGTERM that must end before systemd kills it.
#[test]
fn the_unit_fits_the_daemon() {
    let text = unit_text();
    let value = |key: &str| {
        let prefix = format!("{key}=");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("the unit sets no {key}="))
            .to_string()
    };
    assert_eq!(value("Type"), "notify");
    assert!(
        value("ExecStart").ends_with(" run -c /etc/syndic/syndic.toml"),
        "{}",
        value("ExecStart")
    );
    assert_eq!(value("ExecReload"), "/bin/kill -HUP $MAINPID");
    assert!(seconds(&value("WatchdogSec")) > 0);
    let stop = seconds(&value("TimeoutStopSec"));
    assert!(
        stop >= 3 * DEFAULT_GRACE_SECS,
        "TimeoutStopSec={stop}s leaves too little room after the {DEFAULT_GRACE_SECS}s grace"
    );
}

/// Seconds in a systemd time span written as "90", "60s" or "2min".
fn seconds(span: &str) -> u64 {
    let digits = span.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: u64 = digits
        .parse()
        .unwrap_or_else(|_| panic!("time span {span:?}"));
    match &span[digits.len()..] {
        "" | "s" | "sec" => n,
        "m" | "min" => n * 60,
        "h" => n * 3600,
        unit => panic!("time span {span:?}: unit {unit:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_config_passes_check() {
    let run = syndic_in(&repo("."), &["check", "-c", "systemd/syndic.toml"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("ok"), "{}", run.stdout);
}

/// ProtectSystem=strict leaves the daemon only its StateDirectory= folders to write: the
/// config's state_dir and output_dir must be among them, and the folders the web server
/// reads must be ones systemd creates with StateDirectoryMode=.
#[test]
fn the_service_config_writes_only_where_the_unit_allows() {
    let config: toml::Table = std::fs::read_to_string(repo("systemd/syndic.toml"))
        .expect("systemd/syndic.toml")
        .parse()
        .expect("TOML");
    let text = unit_text();
    let state_dirs: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("StateDirectory="))
        .flat_map(|v| v.split_whitespace())
        .map(|d| format!("/var/lib/{d}"))
        .collect();
    for key in ["state_dir", "output_dir"] {
        let dir = config["daemon"][key].as_str().expect(key);
        assert!(
            state_dirs.iter().any(|d| d == dir),
            "{key} = {dir:?} is not one of the unit's StateDirectory= folders {state_dirs:?}"
        );
    }
}
