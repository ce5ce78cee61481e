//! Fetching a source's bytes: `http(s)://` with conditional GET, or `file://`.
//!
//! Redirects are followed here, by hand, up to [`MAX_REDIRECTS`], so that a permanent move
//! can be reported to the caller (which may then poll the new URL) and so that a redirect
//! can never lead to a non-HTTP URL. Bodies are read chunk by chunk and abandoned as soon as
//! they pass `max_body`, so a huge or endless body never sits in memory. The whole fetch,
//! redirects included, is bounded by `timeout`. This module returns bytes and response
//! metadata only; it does not decode or parse them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use tokio::io::AsyncReadExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::config::Daemon;

/// What a source answered last time, sent back to ask "has it changed?".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// XXH3-128 (16 bytes) of the last document read whole, with what reading it depended
    /// on ([`crate::source::read`]): a server that sends neither validator (or ignores
    /// them) and answers 200 with the same bytes is treated as a 304, without parsing. The
    /// SHA-256 an older build stored (32 bytes) never matches, so that document is read once
    /// more.
    pub digest: Option<Vec<u8>>,
}

/// Most redirects followed for one fetch; one more is an error.
pub const MAX_REDIRECTS: usize = 10;

/// A fetch that succeeded.
// One per poll, moved a few times and never kept in bulk: boxing the body would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Fetched {
    /// 304, or a file whose size and modification time are unchanged.
    NotModified {
        status: Option<u16>,
        /// The 304's `Cache-Control: max-age`, as for [`Body::max_age`].
        max_age: Option<Duration>,
        /// Where the source has permanently moved, as for [`Body::moved_to`].
        moved_to: Option<Url>,
    },
    Body(Body),
}

/// A body as its pieces come in. One read in one piece, as most are (the 5000 feeds of
/// the benchmark came in 5,851 pieces), is kept as it came rather than copied; an empty
/// piece, such as HTTP/2 may end a body with, does not count. One in several is put
/// together in room for the length the server gave.
#[derive(Default)]
struct Gathered {
    first: Bytes,
    joined: Option<Vec<u8>>,
}

impl Gathered {
    fn len(&self) -> usize {
        self.joined.as_ref().map_or(self.first.len(), Vec::len)
    }

    /// Adds `piece`; `length` is the whole body's, as the server gave it.
    fn push(&mut self, piece: Bytes, length: Option<u64>) {
        match &mut self.joined {
            _ if piece.is_empty() => {}
            Some(bytes) => bytes.extend_from_slice(&piece),
            None if self.first.is_empty() => self.first = piece,
            None => {
                let room = (length.unwrap_or(0) as usize).max(self.first.len() + piece.len());
                let mut bytes = Vec::with_capacity(room);
                bytes.extend_from_slice(&self.first);
                bytes.extend_from_slice(&piece);
                self.joined = Some(bytes);
            }
        }
    }

    fn into_bytes(self) -> Bytes {
        self.joined.map_or(self.first, Bytes::from)
    }
}

/// A response body and what came with it.
#[derive(Debug)]
pub struct Body {
    /// As the client handed it over when it came in one piece, as most do.
    pub bytes: Bytes,
    /// The URL after redirects: the base for relative links.
    pub url: Url,
    /// The Content-Type header, for its charset only.
    pub content_type: Option<String>,
    /// HTTP status; `None` for files.
    pub status: Option<u16>,
    pub validators: Validators,
    /// How long the server says the response stays fresh (`Cache-Control: max-age`; zero
    /// for `no-store` or a bare `no-cache`): a floor for the next poll. `None` for files and
    /// for servers that do not say.
    pub max_age: Option<Duration>,
    /// Where the source has permanently moved: the URL reached by the leading run of
    /// permanent redirects (301, 308) from the one requested. A temporary redirect ends the
    /// run, since what lies behind it may change. `None` for files and unmoved sources.
    pub moved_to: Option<Url>,
}

/// Why a fetch failed. The daemon branches on the kind (back-off, Retry-After, Gone).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP {status}")]
    Status {
        status: u16,
        /// How long the server asked us to wait (`Retry-After`, mostly with 429 and 503),
        /// from when the answer came: given in seconds or as a date.
        retry_after: Option<Duration>,
    },
    #[error("no complete response within {0:?}")]
    Timeout(Duration),
    #[error("body is larger than max_body ({limit} bytes)")]
    TooLarge { limit: u64 },
    #[error("{0}")]
    Network(String),
    /// A redirect that cannot be followed: no Location, not http(s), or too many.
    #[error("{0}")]
    Redirect(String),
    #[error("{0}")]
    File(String),
}

impl FetchError {
    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How long the server asked us to wait before asking again, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Fetches sources with one shared HTTP client and the config's limits.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
    max_body: u64,
}

impl Fetcher {
    pub fn new(daemon: &Daemon) -> anyhow::Result<Fetcher> {
        let client = reqwest::Client::builder()
            .user_agent(daemon.user_agent.clone())
            .timeout(daemon.timeout)
            .connect_timeout(daemon.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            // Whole TLS settings, in place of the builder's own TLS options.
            .tls_backend_preconfigured(super::tls::client_config()?)
            .build()?;
        Ok(Fetcher {
            client,
            timeout: daemon.timeout,
            max_body: daemon.max_body,
        })
    }

    /// Fetches `url`, sending `validators` so an unchanged source answers 304.
    pub async fn fetch(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        let started = std::time::Instant::now();
        let fetched = match url.scheme() {
            "file" => self.fetch_file(url, validators).await,
            _ => self.fetch_http(url, validators).await,
        };
        crate::stages::add(crate::stages::Stage::Fetch, started.elapsed());
        fetched
    }

    /// Fetches over HTTP within one deadline for the whole chain of redirects.
    async fn fetch_http(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        tokio::time::timeout(self.timeout, self.follow(url, validators))
            .await
            .unwrap_or(Err(FetchError::Timeout(self.timeout)))
    }

    /// Requests `url` and follows its redirects, sending the same validators on each hop.
    async fn follow(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        let mut current = url.clone();
        let mut moved_to = None;
        let mut permanent = true;
        for _ in 0..=MAX_REDIRECTS {
            let response = self.request(&current, validators).await?;
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                let moved_to = moved_to.filter(|m| m != url);
                return self.answer(response, current, moved_to).await;
            }
            let next = redirect_target(&current, status, response.headers())?;
            permanent &= matches!(
                status,
                StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
            );
            if permanent {
                moved_to = Some(next.clone());
            }
            current = next;
        }
        Err(FetchError::Redirect(format!(
            "more than {MAX_REDIRECTS} redirects (the most syndic follows), last to {current}"
        )))
    }

    async fn request(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<reqwest::Response, FetchError> {
        let mut request = self.client.get(url.clone()).header(
            header::ACCEPT,
            "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8",
        );
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, modified);
        }
        request.send().await.map_err(|e| self.classify(e))
    }

    /// Turns the last response of a chain into the fetch's outcome, reading its body.
    async fn answer(
        &self,
        mut response: reqwest::Response,
        url: Url,
        moved_to: Option<Url>,
    ) -> Result<Fetched, FetchError> {
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified {
                status: Some(status.as_u16()),
                max_age: super::headers::max_age(response.headers()),
                moved_to,
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: super::headers::retry_after(response.headers(), SystemTime::now()),
            });
        }
        // Read before the body: what the client reports later is what is left to come.
        let length = response.content_length();
        if length.is_some_and(|n| n > self.max_body) {
            return Err(FetchError::TooLarge {
                limit: self.max_body,
            });
        }
        let mut body = Gathered::default();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if (body.len() + chunk.len()) as u64 > self.max_body {
                return Err(FetchError::TooLarge {
                    limit: self.max_body,
                });
            }
            body.push(chunk, length);
        }
        let bytes = body.into_bytes();
        let headers = response.headers();
        Ok(Fetched::Body(Body {
            bytes,
            url,
            content_type: header_text(headers, header::CONTENT_TYPE),
            status: Some(status.as_u16()),
            validators: Validators {
                etag: header_text(headers, header::ETAG),
                last_modified: header_text(headers, header::LAST_MODIFIED),
                digest: None,
            },
            max_age: super::headers::max_age(headers),
            moved_to,
        }))
    }

    /// Reads a local file. Its size and modification time serve as its validator, so an
    /// unchanged file is not parsed again.
    async fn fetch_file(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        let path = url
            .to_file_path()
            .map_err(|()| FetchError::File(format!("{url} is not a local path")))?;
        let file_error = |e: std::io::Error| FetchError::File(format!("{}: {e}", path.display()));
        let file = tokio::fs::File::open(&path).await.map_err(file_error)?;
        let meta = file.metadata().await.map_err(file_error)?;
        if meta.is_dir() {
            return Err(FetchError::File(format!("{} is a folder", path.display())));
        }
        let stamp = file_stamp(&path, meta.len(), meta.modified().ok());
        if validators.etag.as_deref() == Some(stamp.as_str()) {
            return Ok(Fetched::NotModified {
                status: None,
                max_age: None,
                moved_to: None,
            });
        }
        if meta.len() > self.max_body {
            return Err(FetchError::TooLarge {
                limit: self.max_body,
            });
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        // Bounded even if the file grows while it is read.
        file.take(self.max_body + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(file_error)?;
        if bytes.len() as u64 > self.max_body {
            return Err(FetchError::TooLarge {
                limit: self.max_body,
            });
        }
        Ok(Fetched::Body(Body {
            bytes: bytes.into(),
            url: url.clone(),
            content_type: None,
            status: None,
            validators: Validators {
                etag: Some(stamp),
                last_modified: None,
                digest: None,
            },
            max_age: None,
            moved_to: None,
        }))
    }

    fn classify(&self, error: reqwest::Error) -> FetchError {
        if error.is_timeout() {
            return FetchError::Timeout(self.timeout);
        }
        FetchError::Network(error_chain(&error))
    }
}

fn file_stamp(path: &Path, len: u64, modified: Option<SystemTime>) -> String {
    let nanos = modified
        .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("file:{len}:{nanos}:{}", path.display())
}

/// Where a redirect from `from` leads: its Location, resolved against `from`, if http(s).
fn redirect_target(from: &Url, status: StatusCode, headers: &HeaderMap) -> Result<Url, FetchError> {
    let code = status.as_u16();
    // Servers do send raw UTF-8 here; the URL parser percent-encodes it.
    let location = headers
        .get(header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            FetchError::Redirect(format!("HTTP {code} redirect without a Location header"))
        })?;
    let target = from.join(&location).map_err(|e| {
        FetchError::Redirect(format!(
            "HTTP {code} redirect to {location:?}, which is not a usable URL: {e}"
        ))
    })?;
    match target.scheme() {
        "http" | "https" => Ok(target),
        other => Err(FetchError::Redirect(format!(
            "HTTP {code} redirect to {target}: a {other}: URL is not followed (only http and https)"
        ))),
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// "error sending request: client error (Connect): tcp connect error: Connection refused":
/// reqwest's top-level message alone rarely says what went wrong.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// Caps on fetches in flight: `concurrency` in all and `per_host` to any one host (a feed
/// gives both places back once its bytes are in); on feeds being read: [`reading_turns`];
/// and on polls between the start of their fetch and their recording in the store: four
/// times `concurrency`, which bounds the bodies waiting to be read and the items waiting
/// for the store, however far reading or the store falls behind. A feed had kept its place
/// among the fetches until it was read, with twice `concurrency` polls, which left the
/// readers fewer than `concurrency` bodies to go on with through a stall of the network or
/// the server: a 5000-feed first poll took 1.360 s that way against 1.333 s (in turn,
/// medians of 30), for 15 MB more at its peak.
pub struct Limits {
    global: Arc<Semaphore>,
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    reading: Arc<Semaphore>,
    unrecorded: Arc<Semaphore>,
}

/// Held while a fetch is in flight.
pub struct Permit {
    _global: OwnedSemaphorePermit,
    _host: Option<OwnedSemaphorePermit>,
}

/// How many feeds are read at once: two per core. A turn is held from the read through the
/// encoding of its items, and while the feed waits for a blocking thread, or for the async
/// workers to hand it on, it keeps no core busy: with one turn per core (and the read and
/// the encoding then two tasks), a 5000-feed first poll left 0.3 of its 2 cores idle
/// throughout, and two per core took it from 3.33 s to 2.98 s (median of 5 runs each,
/// interleaved; four per core gave 2.97 s). At most 32, as each holds a document. The
/// blocking threads are this many and more (`cli::main`), so that feeds being read never
/// take every one of them (a web page is read without a turn, in its fetch slot).
pub fn reading_turns() -> usize {
    (2 * std::thread::available_parallelism().map_or(2, |n| n.get())).min(32)
}

impl Limits {
    pub fn new(concurrency: usize, per_host: usize) -> Limits {
        Limits {
            global: Arc::new(Semaphore::new(concurrency.max(1))),
            per_host: per_host.max(1),
            hosts: Mutex::new(HashMap::new()),
            reading: Arc::new(Semaphore::new(reading_turns())),
            unrecorded: Arc::new(Semaphore::new(4 * concurrency.max(1))),
        }
    }

    /// Waits for a turn to read a fetched feed (parsing and sanitising are CPU work, on
    /// blocking threads): there are [`reading_turns`], so that feeds whose fetch slot went
    /// back as soon as their bytes were in do not crowd the cores. A poll holding a turn
    /// waits for nothing but the threads that run it.
    pub async fn reading(&self) -> OwnedSemaphorePermit {
        self.reading
            .clone()
            .acquire_owned()
            .await
            .expect("the reading semaphore is never closed")
    }

    /// Waits for room among the polls not yet recorded; the permit is held until the poll
    /// is. Taken after a fetch slot, and a poll holding it never waits for another slot,
    /// so the two cannot deadlock.
    pub async fn unrecorded(&self) -> OwnedSemaphorePermit {
        self.unrecorded
            .clone()
            .acquire_owned()
            .await
            .expect("the unrecorded semaphore is never closed")
    }

    /// Waits for a slot for `url` (per-host first, so a busy host does not hold global slots).
    pub async fn acquire(&self, url: &Url) -> Permit {
        let host = url.host_str().map(|h| {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            hosts
                .entry(h.to_ascii_lowercase())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
                .clone()
        });
        let host_permit = match host {
            Some(semaphore) => semaphore.acquire_owned().await.ok(),
            None => None,
        };
        let global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("the global semaphore is never closed");
        Permit {
            _global: global,
            _host: host_permit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Runs `count` fetch-shaped tasks over `urls` and returns the most in flight at once,
    /// in all and per host.
    async fn most_in_flight(limits: Limits, urls: &[&str], count: usize) -> (usize, usize) {
        let limits = Arc::new(limits);
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let per_host: Arc<Mutex<HashMap<String, (usize, usize)>>> = Arc::default();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..count {
            let url = Url::parse(urls[i % urls.len()]).unwrap();
            let (limits, now, most, per_host) =
                (limits.clone(), now.clone(), most.clone(), per_host.clone());
            tasks.spawn(async move {
                let _permit = limits.acquire(&url).await;
                let host = url.host_str().unwrap().to_string();
                most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                {
                    let mut hosts = per_host.lock().unwrap();
                    let (current, max) = hosts.entry(host.clone()).or_default();
                    *current += 1;
                    *max = (*max).max(*current);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                per_host.lock().unwrap().get_mut(&host).unwrap().0 -= 1;
                now.fetch_sub(1, Ordering::SeqCst);
            });
        }
        while tasks.join_next().await.is_some() {}
        let host_max = per_host
            .lock()
            .unwrap()
            .values()
            .map(|(_, m)| *m)
            .max()
            .unwrap();
        (most.load(Ordering::SeqCst), host_max)
    }

    #[tokio::test]
    async fn polls_not_yet_recorded_are_capped_at_four_times_the_concurrency() {
        let limits = Limits::new(2, 1);
        let wait = Duration::from_millis(50);
        let mut held = Vec::new();
        for n in 1..=8 {
            let room = tokio::time::timeout(wait, limits.unrecorded()).await;
            held.push(room.unwrap_or_else(|_| panic!("poll {n} of eight waits")));
        }
        assert!(
            tokio::time::timeout(wait, limits.unrecorded())
                .await
                .is_err(),
            "a ninth poll waits"
        );
        held.pop();
        assert!(
            tokio::time::timeout(wait, limits.unrecorded())
                .await
                .is_ok()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn fetches_in_flight_are_capped_in_all_and_per_host() {
        let hosts = [
            "http://a.example/f",
            "http://B.example/f",
            "http://c.example/f",
        ];
        let (all, host) = most_in_flight(Limits::new(32, 2), &hosts, 60).await;
        assert_eq!((all, host), (6, 2), "three hosts, two each");
        let (all, host) = most_in_flight(Limits::new(4, 3), &hosts, 60).await;
        assert_eq!(all, 4, "the global cap binds first");
        assert!(host <= 3, "{host}");
        let one = ["http://a.example/1", "http://A.EXAMPLE/2"];
        let (_, host) = most_in_flight(Limits::new(32, 1), &one, 10).await;
        assert_eq!(host, 1, "host names are compared without case");
    }

    /// A body in one piece is not copied, even with an empty piece before or after it; one
    /// in several is put together once, in room for the length given.
    #[test]
    fn a_body_in_one_piece_is_kept_as_it_came() {
        let whole = Bytes::from(vec![b'x'; 1000]);
        let mut body = Gathered::default();
        for piece in [Bytes::new(), whole.clone(), Bytes::new()] {
            body.push(piece, Some(1000));
        }
        assert_eq!(body.len(), 1000);
        let kept = body.into_bytes();
        assert_eq!(kept.as_ptr(), whole.as_ptr(), "not copied");
        let mut body = Gathered::default();
        for (piece, read) in [(&b"ab"[..], 2), (b"", 2), (b"cd", 4), (b"ef", 6)] {
            body.push(Bytes::copy_from_slice(piece), Some(64));
            assert_eq!(body.len(), read);
        }
        assert_eq!(
            body.joined.as_ref().map(Vec::capacity),
            Some(64),
            "room made once"
        );
        assert_eq!(&body.into_bytes()[..], b"abcdef");
    }

    /// A server on 127.0.0.1 that answers every request with `head` and then `pieces`,
    /// each written on its own, 30 ms apart, so that the client reads them one by one.
    async fn serve_in_pieces(head: String, pieces: Vec<Vec<u8>>) -> Url {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (head, pieces) = (head.clone(), pieces.clone());
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = socket.read(&mut request).await;
                    socket.write_all(head.as_bytes()).await.unwrap();
                    for piece in pieces {
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        socket.write_all(&piece).await.unwrap();
                        socket.flush().await.unwrap();
                    }
                });
            }
        });
        Url::parse(&format!("http://{addr}/feed.xml")).unwrap()
    }

    #[tokio::test]
    async fn a_body_that_comes_in_pieces_is_read_whole() {
        let feed: Vec<u8> = (0..3000u32)
            .flat_map(|i| format!("<item><guid>{i}</guid></item>").into_bytes())
            .collect();
        let thirds: Vec<Vec<u8>> = feed
            .chunks(feed.len() / 3 + 1)
            .map(<[u8]>::to_vec)
            .collect();
        assert_eq!(thirds.len(), 3);
        let config = crate::config::Config::parse("", Path::new("syndic.toml")).unwrap();
        let fetcher = Fetcher::new(&config.daemon).unwrap();
        // With a length, and chunked without one.
        let sized = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", feed.len());
        let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_owned();
        let mut frames: Vec<Vec<u8>> = thirds
            .iter()
            .map(|t| {
                [
                    format!("{:x}\r\n", t.len()).into_bytes(),
                    t.clone(),
                    b"\r\n".to_vec(),
                ]
                .concat()
            })
            .collect();
        frames.push(b"0\r\n\r\n".to_vec());
        for (head, pieces) in [(sized, thirds.clone()), (chunked, frames)] {
            let url = serve_in_pieces(head.clone(), pieces).await;
            let fetched = fetcher.fetch(&url, &Validators::default()).await;
            let Ok(Fetched::Body(body)) = fetched else {
                panic!("{head:?}: {fetched:?}");
            };
            assert!(
                body.bytes[..] == feed[..],
                "{head:?}: {} bytes",
                body.bytes.len()
            );
        }
    }
}
