//! Helpers for the integration tests: a scratch folder with a config, the `syndic` binary
//! run as a user runs it, fixture files, and small misbehaving servers on 127.0.0.1:0.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
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
        self.syndic_env(args, &[]).await
    }

    /// [`Site::syndic`] with `vars` set in its environment.
    pub async fn syndic_env(&self, args: &[&str], vars: &[(&str, &Path)]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        let config = self.config();
        all.extend(["-c", config.to_str().expect("utf-8 path")]);
        syndic_env_in(self.dir.path(), &all, vars).await
    }
}

/// Runs the `syndic` binary in `dir` with `args`, with a clean environment for config lookup.
pub async fn syndic_in(dir: &Path, args: &[&str]) -> Run {
    syndic_env_in(dir, args, &[]).await
}

/// [`syndic_in`] with `vars` set in its environment.
pub async fn syndic_env_in(dir: &Path, args: &[&str], vars: &[(&str, &Path)]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_syndic"))
        .args(args)
        .current_dir(dir)
        .env_remove("SYNDIC_CONFIG")
        .env("RUST_LOG", "info")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .envs(vars.iter().copied())
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

/// The test certificate authority's certificate (`tests/fixtures/tls/ca.pem`), which
/// vouches for [`tls_server`] and is trusted by nothing else.
pub fn test_ca() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem")
}

/// An `https://` server on 127.0.0.1 with a certificate for that address signed by
/// [`test_ca`]: every request, on any path, is answered 200 with `body` as `content_type`.
pub async fn tls_server(body: Vec<u8>, content_type: &'static str) -> SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let chain = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .expect("server.pem")
        .collect::<Result<Vec<_>, _>>()
        .expect("server.pem holds certificates");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("server.key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("the server's certificate and key");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (acceptor, body) = (acceptor.clone(), body.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake here.
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                if read_head(&mut tls).await.is_none() {
                    return;
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.write_all(&body).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
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
    if let Err(e) = valid_output(name, bytes) {
        panic!("{e}");
    }
}

/// Whether `bytes` are a valid output named `name`: JSON Feed 1.1 with the fields it
/// requires, or well-formed XML that the `rss` or `atom_syndication` crate reads.
pub fn valid_output(name: &str, bytes: &[u8]) -> Result<(), String> {
    if name.ends_with(".json") {
        let doc: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?;
        if doc["version"] != "https://jsonfeed.org/version/1.1" || !doc["title"].is_string() {
            return Err(format!("{name}: no JSON Feed 1.1 version and title"));
        }
        let items = doc["items"]
            .as_array()
            .ok_or_else(|| format!("{name}: no items"))?;
        for item in items {
            if !item["id"].is_string() {
                return Err(format!("{name}: item without an id: {item}"));
            }
            if !item["content_html"].is_string() && !item["content_text"].is_string() {
                return Err(format!("{name}: item without content: {item}"));
            }
        }
        return Ok(());
    }
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => buf.clear(),
            Err(e) => {
                return Err(format!(
                    "{name} is not well-formed at {}: {e}",
                    reader.buffer_position()
                ));
            }
        }
    }
    if name.ends_with(".rss") {
        rss::Channel::read_from(bytes).map_err(|e| format!("{name}: {e}"))?;
    } else if name.ends_with(".atom") {
        atom_syndication::Feed::read_from(bytes).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

/// One scripted answer of a [`LogServer`].
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How long the server takes before answering.
    pub delay: Duration,
}

impl Reply {
    pub fn ok(body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body,
            delay: Duration::ZERO,
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            ..Reply::ok(Vec::new())
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

#[derive(Default)]
struct LogState {
    routes: std::collections::HashMap<String, Reply>,
    hits: Vec<(String, std::time::Instant)>,
    in_flight: usize,
    most_in_flight: usize,
}

/// An HTTP/1.1 server on 127.0.0.1:0 that answers each path with a scripted [`Reply`] (404
/// otherwise), one request per connection, and records when each path was asked for and
/// how many requests it was serving at once.
#[derive(Clone)]
pub struct LogServer {
    pub addr: SocketAddr,
    state: std::sync::Arc<std::sync::Mutex<LogState>>,
}

impl LogServer {
    pub async fn start() -> LogServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let server = LogServer {
            addr: listener.local_addr().expect("addr"),
            state: Default::default(),
        };
        let state = server.state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve_one(socket, state.clone()));
            }
        });
        server
    }

    pub fn route(&self, path: &str, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), reply);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// When `path` was asked for, in order.
    pub fn hits(&self, path: &str) -> Vec<std::time::Instant> {
        let state = self.state.lock().unwrap();
        state
            .hits
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, at)| *at)
            .collect()
    }

    /// The most requests served at once.
    pub fn most_in_flight(&self) -> usize {
        self.state.lock().unwrap().most_in_flight
    }

    /// Waits up to `within` for `path` to have been asked for `count` times.
    pub async fn wait_for_hits(&self, path: &str, count: usize, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            if self.hits(path).len() >= count {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.hits(path).len() >= count
    }
}

/// A request's head, up to the blank line that ends it; `None` when the client leaves first.
async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    Some(head)
}

async fn serve_one(
    mut socket: tokio::net::TcpStream,
    state: std::sync::Arc<std::sync::Mutex<LogState>>,
) {
    let Some(head) = read_head(&mut socket).await else {
        return;
    };
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let reply = {
        let mut state = state.lock().unwrap();
        state.hits.push((path.clone(), std::time::Instant::now()));
        state.in_flight += 1;
        state.most_in_flight = state.most_in_flight.max(state.in_flight);
        state.routes.get(&path).cloned()
    };
    let reply = reply.unwrap_or_else(|| Reply::status(404));
    tokio::time::sleep(reply.delay).await;
    let mut response = format!(
        "HTTP/1.1 {} Scripted\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    let mut bytes = response.into_bytes();
    bytes.extend_from_slice(&reply.body);
    let _ = socket.write_all(&bytes).await;
    let _ = socket.shutdown().await;
    state.lock().unwrap().in_flight -= 1;
}

/// A running `syndic run` process, its stderr collected as it comes.
pub struct Daemon {
    child: tokio::process::Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Site {
    /// Starts `syndic run -c syndic.toml` in the site's folder, with `env` added.
    pub fn run_daemon(&self, env: &[(&str, &str)]) -> Daemon {
        let config = self.config();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_syndic"))
            .args(["run", "-c", config.to_str().expect("utf-8 path")])
            .current_dir(self.dir.path())
            .env_remove("SYNDIC_CONFIG")
            .env_remove("NOTIFY_SOCKET")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("syndic run started");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncBufReadExt;
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Daemon { child, log }
    }
}

impl Daemon {
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits up to `within` for the log to contain `needle` `count` times.
    pub async fn wait_for_log(&self, needle: &str, count: usize, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if self.log().matches(needle).count() >= count {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends `signal` (a `kill -s` name: HUP, TERM, INT).
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("still running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-s", signal, &pid])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {signal} {pid}");
    }

    /// Waits up to `within` for the process to exit; its exit code, or `None` if it did not.
    pub async fn exit_code(&mut self, within: Duration) -> Option<i32> {
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => status.expect("wait").code(),
            Err(_) => None,
        }
    }
}

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

/// Runs `syndic once -c config/demo.toml` in a fresh copy of `config/`; the copy (keep it
/// alive while using the files) and its `public/` folder.
pub async fn publish_demo() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
        &root.path().join("config"),
    );
    let first = syndic_in(root.path(), &["once", "-c", "config/demo.toml"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let public = root.path().join("public");
    (root, public)
}
