//! Helpers for the integration tests: a scratch folder with a config, the `syndic` binary
//! run as a user runs it, fixture files, and small misbehaving servers on 127.0.0.1:0.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A scratch folder holding `syndic.toml`, with `public/` and `state/` beside it.
pub struct Site {
    pub dir: tempfile::TempDir,
}

/// What a finished `syndic` process left.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Site {
    pub fn new(config: &str) -> Site {
        let site = Site {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        site.write_config(config);
        site
    }

    pub fn write_config(&self, config: &str) {
        std::fs::write(self.config(), config).expect("write config");
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("syndic.toml")
    }

    pub fn public(&self, file: &str) -> PathBuf {
        self.dir.path().join("public").join(file)
    }

    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.public(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    /// Runs `syndic ARGS -c syndic.toml` in the site's folder.
    pub async fn syndic(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        let config = self.config();
        all.extend(["-c", config.to_str().expect("utf-8 path")]);
        syndic_in(self.dir.path(), &all).await
    }
}

/// Runs the `syndic` binary in `dir` with `args`, with a clean environment for config lookup.
pub async fn syndic_in(dir: &Path, args: &[&str]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_syndic"))
        .args(args)
        .current_dir(dir)
        .env_remove("SYNDIC_CONFIG")
        .env("RUST_LOG", "info")
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("syndic finished within a minute")
        .expect("syndic started");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The bytes of `tests/fixtures/NAME`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A 200 response whose body is `tests/fixtures/http/FILE`.
pub fn fixture_response(file: &str) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_bytes(fixture(&format!("http/{file}")))
}

pub fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("utf-8 fixture")
}

/// A server that accepts connections, reads the request, and never answers.
pub async fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            held.push(socket); // keep it open, say nothing
        }
    });
    addr
}

/// A server that answers 200 with a chunked body that never ends (until the client leaves,
/// or `limit` bytes), announcing no length: only a streaming cap stops a reader.
pub async fn endless_server(limit: u64) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/rss+xml\r\ntransfer-encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b'x'; 64 * 1024];
                let frame = [
                    format!("{:x}\r\n", chunk.len()).into_bytes(),
                    chunk,
                    b"\r\n".to_vec(),
                ]
                .concat();
                let mut sent = 0u64;
                while sent < limit {
                    if socket.write_all(&frame).await.is_err() {
                        return;
                    }
                    sent += 64 * 1024;
                }
            });
        }
    });
    addr
}

/// Fails the test unless `bytes` (the published file `name`) is well-formed XML that the
/// `rss` / `atom_syndication` crates read, or a JSON Feed 1.1 document with the fields the
/// spec requires. Stricter than syndic's own parser, which repairs what it can.
pub fn assert_valid_output(name: &str, bytes: &[u8]) {
    if name.ends_with(".json") {
        let doc: serde_json::Value =
            serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc["version"], "https://jsonfeed.org/version/1.1", "{name}");
        assert!(doc["title"].is_string(), "{name}: title");
        for item in doc["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: items"))
        {
            assert!(item["id"].is_string(), "{name}: item id in {item}");
            assert!(
                item["content_html"].is_string() || item["content_text"].is_string(),
                "{name}: item content in {item}"
            );
        }
        return;
    }
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => buf.clear(),
            Err(e) => panic!(
                "{name} is not well-formed at {}: {e}",
                reader.buffer_position()
            ),
        }
    }
    if name.ends_with(".rss") {
        rss::Channel::read_from(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    } else if name.ends_with(".atom") {
        atom_syndication::Feed::read_from(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
