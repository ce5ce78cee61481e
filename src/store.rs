//! The embedded store: SQLite (WAL) in `state_dir`, holding every item with its first-seen
//! and last-seen times, and each source's HTTP validators and health. A batch job alone
//! with the store writes it through a rollback journal instead ([`Store::write_in_bulk`]).
//!
//! One poll is one transaction (or part of one: [`Store::batch`] records many polls in
//! one), so a crash never leaves half a poll. Items leave only by
//! retention ([`Store::record_poll`] prunes), never because their source stopped listing them.
//! For full-text sources it also caches each article page's outcome by URL (a usable
//! article, or why there is none) and keeps an item's article in its content, while the
//! item's hash stays that of the source's version, so re-listing it changes nothing.
//! The schema is versioned with `PRAGMA user_version` and upgraded by [`MIGRATIONS`].

use std::borrow::Cow;
use std::collections::HashSet;
use std::ffi::c_int;
use std::ops::ControlFlow;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, TrySendError};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use rusqlite::hooks::Wal;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::wal::CheckpointMode;
use rusqlite::{
    Connection, DEFAULT_NAME, DropBehavior, OptionalExtension, Transaction, TransactionBehavior,
    params,
};
use sha2::{Digest, Sha256};
use tracing::{debug, warn};
use xxhash_rust::xxh3::Xxh3;

use crate::model::Item;
use crate::source::http::Validators;
use crate::source::normalise::finish;
use crate::source::text;

/// File name of the database inside `state_dir`.
pub const FILE_NAME: &str = "syndic.db";

/// Bytes per page of a new store.
const PAGE_SIZE: i64 = 32 * 1024;

/// Bytes of write-ahead log after which a commit copies it into the database.
const WAL_CHECKPOINT: i64 = 64 * 1024 * 1024;

/// Bytes of log past which a writer whose checkpoints run aside waits for one
/// ([`Store::checkpoint_aside`]). It bounds the log when it cannot start again, and waiting
/// costs the writer what the thread would have copied anyway: at 256 MB, most first polls
/// of the 5000-feed benchmark (290 MB of log in three commits) stopped the writer for
/// 190–220 ms at the second commit, and the run took 0.1 s longer.
const WAL_CEILING: i64 = 8 * WAL_CHECKPOINT;

/// Schema steps; step N brings `user_version` from N to N+1. Never edit a step that shipped.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE sources (
        name          TEXT PRIMARY KEY,
        etag          TEXT,
        last_modified TEXT,
        last_fetch    INTEGER,          -- unix seconds of the last attempt
        last_success  INTEGER,
        last_listed   INTEGER,          -- the last poll that listed items (not a 304): the
                                        -- last_seen of every item in that listing
        last_status   INTEGER,          -- HTTP status of the last attempt, if any
        last_error    TEXT,             -- NULL after a success
        failures      INTEGER NOT NULL DEFAULT 0  -- consecutive
    );
    CREATE TABLE items (
        source     TEXT NOT NULL,
        id         TEXT NOT NULL,
        sort_date  INTEGER NOT NULL,    -- Item::date(), unix seconds
        first_seen INTEGER NOT NULL,
        last_seen  INTEGER NOT NULL,
        hash       BLOB NOT NULL,       -- of the item as the source gave it
        data       TEXT NOT NULL,       -- the Item, as JSON
        UNIQUE (source, id)
    );
    -- Publishing walks this index in order and stops at a feed's limit: it holds every
    -- ORDER BY term, so no row is sorted.
    CREATE INDEX items_by_date ON items (sort_date DESC, first_seen, source, id);
    CREATE INDEX items_by_source_date ON items (source, sort_date DESC);
",
    "
    -- What the daemon's scheduler needs to survive a restart (and `status` shows).
    ALTER TABLE sources ADD COLUMN url TEXT;            -- the URL the state below is for
    ALTER TABLE sources ADD COLUMN retry_at INTEGER;    -- Retry-After: no poll before this
    ALTER TABLE sources ADD COLUMN fresh_until INTEGER; -- Cache-Control max-age, capped
    ALTER TABLE sources ADD COLUMN gone_url TEXT;       -- the URL that answered 410 Gone
    ALTER TABLE sources ADD COLUMN moved_to TEXT;       -- where a permanent redirect led
",
    "
    -- Full text: what each article page gave, by URL, so a page is fetched once.
    CREATE TABLE full_text (
        url     TEXT PRIMARY KEY,   -- the item's link
        fetched INTEGER NOT NULL,   -- unix seconds
        content TEXT,               -- the article, sanitised HTML; NULL when not used
        error   TEXT                -- why there is no usable article; NULL when there is
    );
",
    "
    -- The date index without the id it repeated: the first poll of the 5000-feed benchmark
    -- spent most of its store time writing it, each new item landing on a random page. The
    -- source stays, so a feed of a few sources is picked out from the index alone; items
    -- tied on date, first seen and source are put in id order by a sort of just those ties.
    DROP INDEX items_by_date;
    CREATE INDEX items_by_date ON items (sort_date DESC, first_seen, source);
    -- What a source's rows are wanted by (retention, counts) the (source, id) key finds;
    -- retention sorts that one source's rows, which this index spared it.
    DROP INDEX items_by_source_date;
",
    "
    -- SHA-256 of the last body read whole: the same bytes again are not read again.
    ALTER TABLE sources ADD COLUMN digest BLOB;
",
    "
    -- When retention last ran for the source (unix seconds).
    ALTER TABLE sources ADD COLUMN pruned INTEGER;
",
    "
    -- Items' JSON no longer repeats the id and source (the columns hold them) and leaves
    -- out the fields that are empty. The tables are as they were: this step marks a store
    -- written so, which a build from before it refuses to open rather than misread.
",
    "
    -- Items' HTML may be as the source gave it, to be sanitised as it is read back (a `raw`
    -- key in their JSON). The tables are as they were: this step marks a store written so,
    -- which a build from before it, which would publish that HTML as it is, refuses to open.
",
];

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Set by [`Store::checkpoint_aside`].
    checkpointer: Option<Checkpointer>,
    /// Set while [`Store::write_in_bulk`] writes through a rollback journal.
    flusher: Option<Flusher>,
    journal: Journal,
    /// Set by [`Store::write_in_bulk`].
    bulk: bool,
}

/// How this connection writes the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Journal {
    /// Through the write-ahead log: readers read beside a writer.
    Wal,
    /// Through a rollback journal, chosen by [`Store::write_in_bulk`]; WAL again on drop.
    Alone,
    /// Through the rollback journal of another connection's [`Store::write_in_bulk`], found
    /// at open: WAL as soon as that ends (or, if that cannot switch back, at this
    /// connection's next batch).
    Following,
}

/// What a commit syncs: with the log, only checkpoints sync (a power cut may lose the last
/// commits, never the store); with a rollback journal, the journal, the database and, once
/// the journal is deleted, its folder, so that a power cut cannot bring a committed
/// transaction's journal back to undo it.
fn synchronous(journal: Journal) -> &'static str {
    match journal {
        Journal::Wal => "NORMAL",
        Journal::Alone | Journal::Following => "EXTRA",
    }
}

/// How many times a commit through a rollback journal is tried while readers hold it up,
/// each try waiting up to the busy timeout.
const COMMIT_TRIES: u32 = 6;

/// Commits the open transaction, or rolls it back when that fails. Through a rollback
/// journal a commit waits for readers to finish, and one that waits past the busy timeout
/// is tried again: the transaction stays open meanwhile (new reads wait for it).
fn commit(conn: &Connection) -> rusqlite::Result<()> {
    let mut committed = conn.execute_batch("COMMIT");
    for _ in 1..COMMIT_TRIES {
        match &committed {
            Err(e) if is_busy(e) && !conn.is_autocommit() => {
                warn!("A reader of the store holds up a commit; trying again.");
                committed = conn.execute_batch("COMMIT");
            }
            _ => break,
        }
    }
    if committed.is_err() {
        roll_back(conn);
    }
    committed
}

/// Undoes the transaction open on `conn`, if there is one. A failure is not reported: the
/// caller is already on its way out with an error or a panic, and closing the connection
/// undoes the transaction too.
fn roll_back(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::DatabaseBusy)
}

/// Sets the store's journal mode: `false` when another connection stands in the way.
/// Leaving WAL needs no other connection on the store, and SQLite says so at once.
/// Entering it needs no other connection's read or write: one that holds the write lock
/// makes SQLite say so at once, and a reader (or a writer that has written into the
/// database) is waited for up to the busy timeout.
fn set_journal(conn: &Connection, mode: &str) -> rusqlite::Result<bool> {
    let set = conn.pragma_update_and_check(None, "journal_mode", mode, |r| r.get::<_, String>(0));
    match set {
        Ok(now) => Ok(now.eq_ignore_ascii_case(mode)),
        Err(e) if is_busy(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A thread with a connection of its own that copies the write-ahead log into the database
/// while the writer goes on ([`Store::checkpoint_aside`]).
struct Checkpointer {
    counts: Arc<Counts>,
    /// Held by whoever copies the log (the thread, or a commit at the ceiling).
    #[cfg_attr(not(test), allow(dead_code))]
    copying: Arc<Mutex<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

/// What checkpointing aside has done, for the log and tests.
#[derive(Default)]
struct Counts {
    /// Frames in the log at the last commit, as the WAL hook saw them (0 once a checkpoint
    /// at the ceiling has copied them all).
    frames: AtomicI64,
    /// The thread's checkpoints that copied frames.
    copies: AtomicUsize,
    /// Checkpoints at the ceiling, after which the log started again.
    restarts: AtomicUsize,
}

/// The checkpoint thread: a passive checkpoint at each wake, until the writer's WAL hook
/// (which holds the sender) is removed.
fn copy_when_woken(
    copier: &Connection,
    woken: &mpsc::Receiver<()>,
    copying: &Mutex<()>,
    counts: &Counts,
) {
    let mut last = (0, 0);
    let mut failures = 0;
    while woken.recv().is_ok() {
        let _copying = copying.lock().unwrap_or_else(PoisonError::into_inner);
        // A connection that has read nothing has not opened the log, and its checkpoint
        // copies nothing. Passive: copies what is committed and waits for no one.
        let copied = copier
            .query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
            .and_then(|()| copier.wal_checkpoint_v2(DEFAULT_NAME, CheckpointMode::PASSIVE));
        match copied {
            Ok((frames, copied)) => {
                if copied > 0 && (frames, copied) != last {
                    counts.copies.fetch_add(1, Ordering::Relaxed);
                }
                last = (frames, copied);
            }
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy => {}
            Err(e) => {
                failures += 1;
                if failures <= 3 {
                    warn!(error = %e, "Cannot copy the store's log.");
                }
            }
        }
    }
}

/// How often [`Flusher`] syncs the database file.
const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// A thread that syncs the database file every so often while a bulk writer writes it
/// through a rollback journal ([`Store::write_in_bulk`]), so that the pages SQLite spills
/// while a transaction grows reach the disk while the writer goes on, and the commit's own
/// sync waits only for what came after the last one (RocksDB's `bytes_per_sync` does much
/// the same, by bytes written). In the 5000-feed benchmark's first poll, each commit had
/// stopped the writer for 80–95 ms, most of it that sync, while the polls waiting to be
/// recorded filled up and the cores ran dry; with the thread a commit took 23–24 ms, and
/// the run 1.73 s instead of 1.86 (8 runs each, interleaved). It changes when pages reach
/// the disk, not what a commit promises: a sync that fails makes every later commit fail
/// ([`Flusher::check`]). It syncs through a descriptor that is never closed
/// ([`kept_open`]).
struct Flusher {
    /// Dropped to stop the thread.
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
    /// Syncs done, for tests; the thread holds the other reference until it ends.
    #[cfg_attr(not(test), allow(dead_code))]
    syncs: Arc<AtomicUsize>,
    /// What the thread syncs ([`kept_open`]), for tests.
    #[cfg_attr(not(test), allow(dead_code))]
    file: Arc<std::fs::File>,
    /// Why a sync failed, once one has; the thread stops then.
    failed: Arc<Mutex<Option<String>>>,
    /// Held by the thread while it syncs, and by a commit from its check of `failed` to
    /// its end ([`Store::synced_so_far`]).
    syncing: Arc<Mutex<()>>,
}

/// A descriptor of the database file at `path` for [`Flusher`], opened once and then kept
/// open until the process exits: closing any descriptor of a file drops every POSIX lock
/// the process holds on it, SQLite's included (sqlite.org/howtocorrupt.html, 2.2), and a
/// connection of this process (the writer's own, in the first place) may hold some. The
/// list only grows: by one descriptor per store a process writes in bulk, and by one more
/// when a file it kept is replaced by another at the same path.
fn kept_open(path: &Path) -> anyhow::Result<Arc<std::fs::File>> {
    static KEPT: Mutex<Vec<(PathBuf, Arc<std::fs::File>)>> = Mutex::new(Vec::new());
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    let named =
        std::fs::metadata(path).with_context(|| format!("cannot read store {}", path.display()))?;
    let known = kept
        .iter()
        .find(|(p, file)| p == path && file.metadata().is_ok_and(|m| same_file(&m, &named)));
    if let Some((_, file)) = known {
        return Ok(file.clone());
    }
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open store {}", path.display()))?;
    let file = Arc::new(file);
    kept.push((path.to_owned(), file.clone()));
    Ok(file)
}

/// Whether `a` and `b` describe one file: the same device and inode.
#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

/// Without inodes to tell, a file kept for a path is taken to be the one there.
#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    true
}

impl Flusher {
    fn start(path: &Path, every: Duration) -> anyhow::Result<Flusher> {
        let file = kept_open(path)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let syncs = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(Mutex::new(None));
        let syncing = Arc::new(Mutex::new(()));
        let (done, synced, failing) = (syncs.clone(), file.clone(), failed.clone());
        let held = syncing.clone();
        let thread = thread::Builder::new()
            .name("flusher".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    let _syncing = held.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Err(e) = synced.sync_data() {
                        // A kernel may report a lost write only to the first sync that
                        // asks, this one: the commit's own sync could then succeed.
                        *failing.lock().unwrap_or_else(PoisonError::into_inner) =
                            Some(e.to_string());
                        break;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
            .context("cannot start the store's flusher thread")?;
        Ok(Flusher {
            stop: Some(stop),
            thread: Some(thread),
            syncs,
            file,
            failed,
            syncing,
        })
    }

    /// An error once a sync has failed: pages written before it may not be on the disk.
    fn check(&self) -> anyhow::Result<()> {
        match &*self.failed.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(e) => anyhow::bail!("cannot sync the store to its disk: {e}"),
            None => Ok(()),
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            warn!("The store's flusher thread panicked.");
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.flusher = None;
        if self.journal == Journal::Alone {
            // An open batch is undone first (as closing would): the journal cannot change
            // inside a transaction. Another writer mid-transaction makes the switch fail
            // at once, and that writer switches at its next batch.
            roll_back(&self.conn);
            match set_journal(&self.conn, "WAL") {
                Ok(true) => {}
                Ok(false) => debug!("The store stays on its rollback journal for now."),
                Err(e) => warn!(error = %e, "Cannot take the store back to its log."),
            }
        }
        if let Some(mut c) = self.checkpointer.take() {
            // Dropping the hook drops the thread's only sender: it ends after any copy in
            // hand, before the writer's connection closes (and, when it is the last
            // connection to the file, copies the rest itself).
            let _ = self
                .conn
                .wal_hook(None::<fn(&mut Wal, c_int) -> rusqlite::Result<()>>);
            if let Some(thread) = c.thread.take()
                && thread.join().is_err()
            {
                warn!("The store's checkpoint thread panicked.");
            }
            let counts = &c.counts;
            debug!(
                copies = counts.copies.load(Ordering::Relaxed),
                restarts = counts.restarts.load(Ordering::Relaxed),
                frames_left = counts.frames.load(Ordering::Relaxed),
                "Store log copied aside."
            );
        }
    }
}

/// What a successful poll brought, to be written in one transaction.
pub struct Poll<'a> {
    /// The URL polled: validators, failures and deferrals belong to it.
    pub url: &'a str,
    pub now: DateTime<Utc>,
    /// The items listed; with `encoded`, `None` when the source answered "not modified".
    pub items: Option<&'a [Item]>,
    /// The items listed, [`encode`]d beforehand: when given, this is the listing and
    /// `items` is not read (best left `None`, the items freed where they were made).
    pub encoded: Option<&'a Encodings>,
    pub status: Option<u16>,
    /// New validators; `None` keeps the stored ones (e.g. on 304).
    pub validators: Option<&'a Validators>,
    /// Items not listed since before `now - retain` may be dropped…
    pub retain: Duration,
    /// …except this many of the source's newest.
    pub keep_newest: usize,
    /// Something wrong with what the source sent that did not stop it being read (a
    /// malformed document read in part): kept as the source's last error.
    pub warning: Option<&'a str>,
    /// No poll before this: the server's `Cache-Control: max-age`, capped by the config.
    pub fresh_until: Option<DateTime<Utc>>,
    /// Where a permanent redirect (301, 308) led, for the user to put in the config.
    pub moved_to: Option<&'a str>,
    /// The source wants full text: a new or changed item gets its cached article, or is
    /// listed in [`Recorded::wanted`] when there is none yet.
    pub full_text: bool,
}

/// What [`Store::record_listing`] did.
#[derive(Debug, Default)]
pub struct Recorded {
    pub changes: Changes,
    /// Items whose article page has not been fetched yet (full-text sources only).
    pub wanted: Vec<Wanted>,
}

/// An item whose article is wanted, and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub id: String,
    /// The item's link: the article page, and the cache key.
    pub link: String,
}

/// A cached article page's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Article {
    pub fetched: DateTime<Utc>,
    /// The article, sanitised HTML, when it was usable…
    pub content: Option<String>,
    /// …else why not.
    pub error: Option<String>,
}

/// What a failed poll leaves for the scheduler.
pub struct Failure<'a> {
    pub url: &'a str,
    pub now: DateTime<Utc>,
    pub status: Option<u16>,
    pub error: &'a str,
    /// No poll before this: the server's `Retry-After`.
    pub retry_at: Option<DateTime<Utc>>,
    /// The URL, when it answered 410 Gone: polling it stops until the config changes it.
    pub gone_url: Option<&'a str>,
}

/// What a poll changed in the store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub new: usize,
    pub updated: usize,
    pub removed: usize,
}

/// A source's row, for `status` and for conditional GET.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceState {
    pub name: String,
    pub validators: Validators,
    pub last_fetch: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub failures: u32,
    pub items: u64,
    /// The URL the state is for (`None` in a store from before it was kept).
    pub url: Option<String>,
    pub retry_at: Option<DateTime<Utc>>,
    pub fresh_until: Option<DateTime<Utc>>,
    pub gone_url: Option<String>,
    pub moved_to: Option<String>,
}

impl SourceState {
    /// Whether the state was recorded for `url` (a state from before URLs were kept counts).
    pub fn is_for(&self, url: &url::Url) -> bool {
        self.url.as_deref().is_none_or(|u| u == url.as_str())
    }
}

impl Store {
    /// Opens (creating if needed) the store in `dir` and brings its schema up to date.
    pub fn open(dir: &Path) -> anyhow::Result<Store> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create state_dir {}", dir.display()))?;
        let path = dir.join(FILE_NAME);
        let conn = Connection::open(&path)
            .with_context(|| format!("cannot open store {}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // A new store gets 32 KB pages rather than 4 KB: an item runs to a kilobyte or two,
        // so a small page holds three and leaves much of itself empty, and every page costs
        // a log frame, a checksum, a write and a copy at checkpoint. With 16 KB rather than
        // 4 KB, the first poll of the 5000-feed benchmark corpus wrote 1.31 GB instead of
        // 1.55 GB, for a store of 313 MB instead of 363 MB, with 0.45 s less of system
        // time; with 32 KB rather than 16 KB, it took 1.370 s against 1.435 s (CPU 2.300 s
        // against 2.405 s), for 3.4 ms more in a publish of the newest 500 items (49.7 ms
        // against 46.3 ms), whose rows are on pages of their own. 64 KB took 1.365 s, for
        // 6.5 ms more. A store that exists keeps its pages (this is ignored once the file
        // has any).
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        // Not WAL only while a `once` alone with the store when it began is writing it
        // through a rollback journal (Store::write_in_bulk): this connection then follows
        // it. Between two of its transactions, this takes the store back to its log.
        let journal = match set_journal(&conn, "WAL")? {
            true => Journal::Wal,
            false => Journal::Following,
        };
        conn.pragma_update(None, "synchronous", synchronous(journal))?;
        // Checkpoint every 64 MB of log rather than SQLite's 4 MB: each checkpoint waits
        // for an fsync, and a first poll of the 1000-feed benchmark corpus (80 MB of store)
        // took 3.9 s instead of 2.6 s with the smaller log. The log is cut back to that size
        // after.
        let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
        conn.pragma_update(
            None,
            "wal_autocheckpoint",
            WAL_CHECKPOINT / page_size.max(512),
        )?;
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        // 16 MB of page cache rather than 2: the date index of a million items fits, so a
        // batch of polls finds the pages its new items land on in memory and writes each
        // once. The 5000-feed first poll's store time went from 10 s to 5–6 s with batches.
        conn.pragma_update(None, "cache_size", -16 * 1024)?;
        let mut store = Store {
            conn,
            path,
            checkpointer: None,
            flusher: None,
            journal,
            bulk: false,
        };
        store
            .migrate()
            .with_context(|| format!("cannot upgrade store {}", store.path.display()))?;
        Ok(store)
    }

    /// Whether a store was made in `dir`.
    pub fn exists(dir: &Path) -> bool {
        dir.join(FILE_NAME).exists()
    }

    /// Opens an existing store without creating one; `None` if there is none yet.
    pub fn open_existing(dir: &Path) -> anyhow::Result<Option<Store>> {
        if !Store::exists(dir) {
            return Ok(None);
        }
        Store::open(dir).map(Some)
    }

    fn migrate(&mut self) -> anyhow::Result<()> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let version = usize::try_from(version).unwrap_or(usize::MAX);
        if version > MIGRATIONS.len() {
            anyhow::bail!(
                "schema version {version} is newer than this syndic knows ({}); upgrade syndic",
                MIGRATIONS.len()
            );
        }
        for (step, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", step as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The stored state of `source` (default when it was never polled).
    pub fn source_state(&self, source: &str) -> anyhow::Result<SourceState> {
        Ok(self
            .states(Some(source), true)?
            .into_iter()
            .next()
            .unwrap_or_else(|| SourceState {
                name: source.to_string(),
                ..SourceState::default()
            }))
    }

    /// The validators to send when polling `source` at `url` next (none if they were
    /// issued for another URL).
    pub fn validators(&self, source: &str, url: &str) -> anyhow::Result<Validators> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT etag, last_modified, digest FROM sources
             WHERE name = ?1 AND (url IS NULL OR url = ?2)",
        )?;
        let found = stmt
            .query_row(params![source, url], |r| {
                Ok(Validators {
                    etag: r.get(0)?,
                    last_modified: r.get(1)?,
                    digest: r.get(2)?,
                })
            })
            .optional()?;
        Ok(found.unwrap_or_default())
    }

    /// Asks SQLite a trivial question: the daemon's liveness check.
    pub fn ping(&self) -> anyhow::Result<()> {
        self.conn.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    /// Every source the store knows, by name.
    pub fn source_states(&self) -> anyhow::Result<Vec<SourceState>> {
        self.states(None, true)
    }

    /// [`Store::source_states`] without counting each source's items (`items` is 0): what
    /// polling needs. Counting read the whole (source, id) key, 36 ms at 232,000 items, at
    /// the start of every `syndic once`.
    pub fn source_states_uncounted(&self) -> anyhow::Result<Vec<SourceState>> {
        self.states(None, false)
    }

    fn states(&self, only: Option<&str>, count: bool) -> anyhow::Result<Vec<SourceState>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, etag, last_modified, last_fetch, last_success, last_status, last_error,
                    failures,
                    CASE WHEN ?2 THEN (SELECT count(*) FROM items WHERE items.source = sources.name)
                         ELSE 0 END,
                    retry_at, fresh_until, gone_url, moved_to, url, digest
             FROM sources WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
        )?;
        let rows = stmt.query_map(params![only, count], |r| {
            Ok(SourceState {
                name: r.get(0)?,
                validators: Validators {
                    etag: r.get(1)?,
                    last_modified: r.get(2)?,
                    digest: r.get(14)?,
                },
                last_fetch: r.get::<_, Option<i64>>(3)?.and_then(from_unix),
                last_success: r.get::<_, Option<i64>>(4)?.and_then(from_unix),
                last_status: r.get(5)?,
                last_error: r.get(6)?,
                failures: r.get(7)?,
                items: r.get::<_, i64>(8)? as u64,
                retry_at: r.get::<_, Option<i64>>(9)?.and_then(from_unix),
                fresh_until: r.get::<_, Option<i64>>(10)?.and_then(from_unix),
                gone_url: r.get(11)?,
                moved_to: r.get(12)?,
                url: r.get(13)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a successful poll of `source`: stores new items, updates changed ones in place
    /// (keeping their first-seen time), marks listed ones as seen, applies retention and
    /// resets the failure count — all in one transaction.
    pub fn record_poll(&mut self, source: &str, poll: &Poll) -> anyhow::Result<Changes> {
        Ok(self.record_listing(source, poll)?.changes)
    }

    /// [`Store::record_poll`], also naming the items whose article is wanted.
    pub fn record_listing(&mut self, source: &str, poll: &Poll) -> anyhow::Result<Recorded> {
        let now = poll.now.timestamp();
        let tx = self.own_transaction()?;
        let conn = &self.conn;
        let mut changes = Changes::default();
        let mut wanted = Vec::new();
        // The source had nothing stored before this poll (its first).
        let mut fresh = false;
        // Whether retention is due (see below): only after a listing, at most once per
        // `every`.
        let mut prune = false;
        let every = prune_every(poll.retain);
        let made: Encodings;
        let listing = match (poll.encoded, poll.items) {
            (Some(encoded), _) => Some(encoded),
            (None, Some(items)) => {
                made = Encodings::new(items.iter().map(encode).collect::<anyhow::Result<_>>()?);
                Some(&made)
            }
            (None, None) => None,
        };
        if let Some(listing) = listing {
            let mut cached = conn.prepare_cached("SELECT content FROM full_text WHERE url = ?1")?;
            // The article (if any) a new or changed item gets; notes it as wanted when its
            // page was never fetched.
            let mut article = |e: &Encoded| -> anyhow::Result<Option<String>> {
                let Some(link) = e.link.as_ref().filter(|_| poll.full_text) else {
                    return Ok(None);
                };
                let row: Option<Option<String>> =
                    cached.query_row([link], |r| r.get(0)).optional()?;
                if row.is_none() {
                    wanted.push(Wanted {
                        id: e.id.clone(),
                        link: link.clone(),
                    });
                }
                Ok(row.flatten())
            };
            // The hash alone tells a re-listed item; its stored data is read only when the
            // item changed.
            let mut find =
                conn.prepare_cached("SELECT rowid, hash FROM items WHERE source = ?1 AND id = ?2")?;
            let mut insert = conn.prepare_cached(
                "INSERT INTO items (source, id, sort_date, first_seen, last_seen, hash, data)
                 VALUES (?1, ?2, ?3, ?4, ?7, ?5, ?6)",
            )?;
            let mut touch =
                conn.prepare_cached("UPDATE items SET last_seen = ?2 WHERE rowid = ?1")?;
            let mut rehash =
                conn.prepare_cached("UPDATE items SET last_seen = ?2, hash = ?3 WHERE rowid = ?1")?;
            let mut data = conn.prepare_cached("SELECT data FROM items WHERE rowid = ?1")?;
            let mut rewrite = conn.prepare_cached(
                "UPDATE items SET last_seen = ?2, hash = ?3, data = ?4 WHERE rowid = ?1",
            )?;
            let mut replace = conn.prepare_cached(
                "UPDATE items SET sort_date = ?2, last_seen = ?3, hash = ?4, data = ?5
                 WHERE rowid = ?1",
            )?;
            // A source with nothing stored (its first poll) has no item to find: an id listed
            // twice is found when its second insert fails.
            let (stored, pruned): (bool, Option<i64>) = conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM items WHERE source = ?1),
                            (SELECT pruned FROM sources WHERE name = ?1)",
                )?
                .query_row([source], |r| Ok((r.get(0)?, r.get(1)?)))?;
            fresh = !stored;
            prune = pruned.is_none_or(|at| at <= now - every);
            // A source's first listing, when its ids are distinct (so that no row can be
            // there already), goes in [`INSERT_ROWS`] rows to a statement, and what is left
            // of it one row at a time below; unless the source wants full text, whose new
            // items each need their article looked up (and noted as wanted) below.
            let mut inserted = 0;
            if fresh && !poll.full_text && listing.len() >= INSERT_ROWS && listing.distinct_ids {
                let mut many = conn.prepare_cached(&INSERT_MANY)?;
                for rows in listing.chunks_exact(INSERT_ROWS) {
                    many.raw_bind_parameter(1, source)?;
                    many.raw_bind_parameter(2, now)?;
                    for (i, e) in rows.iter().enumerate() {
                        let at = 3 + 5 * i;
                        many.raw_bind_parameter(at, e.id.as_str())?;
                        many.raw_bind_parameter(at + 1, e.sort_date)?;
                        many.raw_bind_parameter(at + 2, e.first_seen)?;
                        many.raw_bind_parameter(at + 3, &e.hash[..])?;
                        many.raw_bind_parameter(
                            at + 4,
                            ToSqlOutput::Borrowed(ValueRef::Text(&e.json)),
                        )?;
                    }
                    let added = many.raw_execute()?;
                    anyhow::ensure!(
                        added == INSERT_ROWS,
                        "the store took {added} of {INSERT_ROWS} new items of {source}"
                    );
                    changes.new += INSERT_ROWS;
                    inserted += INSERT_ROWS;
                }
            }
            for e in &listing[inserted..] {
                // The item itself is read back from its JSON only when it is needed: when it
                // changed, or gets an article.
                let item = || e.item(source);
                let Encoded { hash, json, .. } = e;
                let mut find = |id: &str| -> rusqlite::Result<Option<(i64, Vec<u8>)>> {
                    find.query_row(params![source, id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                };
                let mut stored = if fresh { None } else { find(&e.id)? };
                if stored.is_none() {
                    let (data, hash): (Cow<[u8]>, Cow<[u8]>) = match article(e)? {
                        Some(content) => {
                            let mut item = item()?;
                            let hash = put_article(&mut item, hash, content)?;
                            (Cow::Owned(serde_json::to_vec(&item)?), Cow::Owned(hash))
                        }
                        None => (Cow::Borrowed(json), Cow::Borrowed(&hash[..])),
                    };
                    let inserted = insert.execute(params![
                        source,
                        e.id,
                        e.sort_date,
                        e.first_seen,
                        hash,
                        ToSqlOutput::Borrowed(ValueRef::Text(&data)),
                        now
                    ]);
                    match inserted {
                        Ok(_) => {
                            changes.new += 1;
                            continue;
                        }
                        Err(rusqlite::Error::SqliteFailure(failure, _))
                            if fresh
                                && failure.extended_code
                                    == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
                        {
                            stored = find(&e.id)?;
                        }
                        Err(failure) => return Err(failure.into()),
                    }
                }
                match stored {
                    None => anyhow::bail!("item {:?} is neither stored nor new", e.id),
                    Some((row, old_hash)) if old_hash[..] == hash[..] => {
                        touch.execute(params![row, now])?;
                        // An article never fetched (a run stopped between recording the
                        // listing and fetching the page, or full text asked for since) is
                        // wanted still; one fetched is in the item already.
                        article(e)?;
                    }
                    // Hashed another way (by an older build, or over the HTML sanitised
                    // where this one is raw, or the other way round), or changed only in
                    // what sanitising drops: the same item still, under the hash that
                    // says so.
                    Some((row, old_hash)) => {
                        let mut item = item()?;
                        let mut read = None;
                        let mut old = || -> anyhow::Result<Item> {
                            if read.is_none() {
                                let json: String = data.query_row([row], |r| r.get(0))?;
                                let mut old: Item = serde_json::from_str(&json)
                                    .context("stored item is not valid JSON")?;
                                (old.id, old.source) = (item.id.clone(), item.source.clone());
                                read = Some(old);
                            }
                            Ok(read.clone().expect("read just now"))
                        };
                        let cached = article(e)?;
                        // Whether the stored item holds the article cached for its link in
                        // place of its content (the table is by URL, for every source):
                        // `cached` is that article when the source asks for full text.
                        let kept_article: Option<String> = match (&e.link, poll.full_text) {
                            (_, true) => cached.clone(),
                            // The query of `cached`, which `article` holds: prepared
                            // only on this rare path, as the statement cache keeps one
                            // statement per query, and a second one taken beside it on
                            // every recording was prepared anew on every poll.
                            (Some(link), false) => conn
                                .prepare_cached("SELECT content FROM full_text WHERE url = ?1")?
                                .query_row([link], |r| r.get(0))
                                .optional()?
                                .flatten(),
                            (None, false) => None,
                        };
                        let holds_article = match kept_article {
                            Some(article) => old()?.content == Some(article),
                            None => false,
                        };
                        if let Some(kept) =
                            same_when_sanitised(&old_hash, &item, hash, holds_article, &mut old)?
                        {
                            match cached {
                                // An item stored without its article (full text asked for
                                // since) gets it: an update to what a feed shows, though
                                // not to the item as its source lists it.
                                Some(content) if old()?.content.as_ref() != Some(&content) => {
                                    let mut old = old()?;
                                    finish(&mut old);
                                    old.content = Some(content);
                                    rewrite.execute(params![
                                        row,
                                        now,
                                        kept,
                                        serde_json::to_string(&old)?
                                    ])?;
                                    changes.updated += 1;
                                }
                                _ => {
                                    rehash.execute(params![row, now, kept])?;
                                }
                            }
                            continue;
                        }
                        let old = old()?;
                        // The hash of the item as listed, before the store dates it.
                        let hash = match cached {
                            Some(content) => put_article(&mut item, hash, content)?,
                            None => hash.to_vec(),
                        };
                        item.first_seen = old.first_seen;
                        if item.updated.is_none() || item.updated == old.updated {
                            item.updated = Some(poll.now);
                        }
                        replace.execute(params![
                            row,
                            item.date().timestamp(),
                            now,
                            hash,
                            serde_json::to_string(&item)?
                        ])?;
                        changes.updated += 1;
                    }
                }
            }
            // An id listed twice was asked for twice.
            let mut asked = HashSet::new();
            wanted.retain(|w| asked.insert(w.id.clone()));
        } else if poll.full_text {
            // Nothing listed (not modified, or the same bytes as before): the articles of the
            // last listing's items that were never fetched are wanted still.
            let mut unfetched = conn.prepare_cached(
                "SELECT id, link FROM (
                     SELECT id, CASE WHEN json_valid(data) THEN data ->> '$.link' END AS link
                     FROM items
                     WHERE source = ?1
                       AND last_seen >= (SELECT last_listed FROM sources WHERE name = ?1))
                 WHERE link IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM full_text WHERE url = link)",
            )?;
            let rows = unfetched.query_map([source], |r| {
                Ok(Wanted {
                    id: r.get(0)?,
                    link: r.get(1)?,
                })
            })?;
            for row in rows {
                wanted.push(row?);
            }
        }
        conn.prepare_cached(
            "INSERT INTO sources (name, etag, last_modified, last_fetch, last_success, last_listed,
                                  last_status, last_error, failures, fresh_until, moved_to, url,
                                  digest, pruned)
             VALUES (?1, ?2, ?3, ?4, ?4, ?8, ?5, ?7, 0, ?9, ?10, ?11, ?12, CASE WHEN ?13 THEN ?4 END)
             ON CONFLICT (name) DO UPDATE SET
                 etag = CASE WHEN ?6 THEN excluded.etag ELSE etag END,
                 last_modified = CASE WHEN ?6 THEN excluded.last_modified ELSE last_modified END,
                 digest = CASE WHEN ?6 THEN excluded.digest ELSE digest END,
                 last_fetch = ?4, last_success = ?4, last_listed = coalesce(?8, last_listed),
                 last_status = ?5, last_error = ?7, failures = 0,
                 retry_at = NULL, fresh_until = ?9, gone_url = NULL, moved_to = ?10, url = ?11,
                 pruned = CASE WHEN ?13 THEN ?4 ELSE pruned END",
        )?
        .execute(params![
            source,
            poll.validators.and_then(|v| v.etag.as_deref()),
            poll.validators.and_then(|v| v.last_modified.as_deref()),
            now,
            poll.status,
            poll.validators.is_some(),
            poll.warning,
            listing.map(|_| now),
            poll.fresh_until.map(ceil_seconds),
            poll.moved_to,
            poll.url,
            poll.validators.and_then(|v| v.digest.as_deref()),
            prune
        ])?;
        // Retention: an item goes once its source has not listed it for `retain`, unless it
        // is among the source's newest. What the last listing held is listed still, however
        // many 304s came since (their items' last_seen is the source's last_listed). A 304
        // changes no listing, so what it could remove waits for the next listing: reading
        // every source's newest items on each 304 was half of a poll of 5000 sources that
        // all answered 304. It reads every row of the source, so it runs at most once per
        // tenth of `retain` (at most a day): polling 5000 sources into a store of 695,000
        // items spent 2.8 s of its 6.2 s of store time on it.
        // The poll recorded above noted the time when `prune` (read with `fresh`) said that
        // retention is due. Retention cannot remove anything from a source's first poll: all
        // it holds was listed now. Skipping it there spared 5000 new sources a read of all
        // their rows.
        if prune && !fresh {
            changes.removed = conn
                .prepare_cached(
                    "DELETE FROM items WHERE source = ?1 AND last_seen < ?2
               AND last_seen < coalesce((SELECT last_listed FROM sources WHERE name = ?1), ?2)
               AND id NOT IN
                 (SELECT id FROM items WHERE source = ?1 ORDER BY sort_date DESC, id LIMIT ?3)",
                )?
                .execute(params![
                    source,
                    now - poll.retain.as_secs().min(i64::MAX as u64) as i64,
                    poll.keep_newest as i64
                ])?;
        }
        self.commit_own(tx)?;
        Ok(Recorded { changes, wanted })
    }

    /// Runs `record` with every recording it makes in one transaction: committed when it
    /// returns `Ok`, rolled back when it returns `Err` or panics. A recording that fails
    /// inside it may have written part of its poll, so `record` must return that error:
    /// the whole batch is then undone. (A savepoint, [`Store::isolated`], undoes just the
    /// one recording, but copies each page it first touches: 6 % of `once`'s store time.)
    /// Recording many polls at once writes each page of the date index once per batch
    /// rather than once per poll: the first poll of the 5000-feed benchmark spent most of
    /// its store time there.
    pub fn batch<T>(
        &mut self,
        record: impl FnOnce(&mut Store) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        self.begin_batch()?;
        let done = match panic::catch_unwind(AssertUnwindSafe(|| record(self))) {
            Ok(done) => done,
            Err(panicked) => {
                // Not left open for whoever catches the panic.
                roll_back(&self.conn);
                panic::resume_unwind(panicked);
            }
        };
        match done {
            Ok(done) => self.commit_batch().map(|()| done),
            Err(e) => {
                roll_back(&self.conn);
                Err(e)
            }
        }
    }

    /// Opens a transaction that stays open across recordings until
    /// [`Store::commit_batch`], like [`Store::batch`] but not bound to one call: for a
    /// caller that records polls as they arrive, a second or so at a time. A new item goes
    /// anywhere in the date index, so each commit writes most of that index's pages again:
    /// committing the polls ready at each moment (a few at a time) wrote 1.5 GB for a
    /// 380 MB store in the first poll of 5000 feeds. An uncommitted batch is rolled back
    /// when the store is dropped (an error, a panic).
    pub fn begin_batch(&mut self) -> anyhow::Result<()> {
        if self.journal == Journal::Following && set_journal(&self.conn, "WAL")? {
            self.on_the_log()?;
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        if self.journal == Journal::Alone {
            let began = self.follow_back_to_the_log();
            if began.is_err() {
                roll_back(&self.conn);
            }
            began?;
        }
        Ok(())
    }

    /// Inside a transaction just begun: if another connection has taken the store back to
    /// its log since the last one (which the transaction then follows), the log's sync
    /// level and copy aside, set between transactions (SQLite's rule for the sync level).
    fn follow_back_to_the_log(&mut self) -> anyhow::Result<()> {
        let mode: String = self
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        if mode.eq_ignore_ascii_case("wal") {
            debug!("Another connection took the store back to its log.");
            self.conn.execute_batch("COMMIT")?;
            self.on_the_log()?;
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        Ok(())
    }

    /// This connection writes through the log (again): its sync level, and for a bulk
    /// writer its copy aside.
    fn on_the_log(&mut self) -> anyhow::Result<()> {
        self.journal = Journal::Wal;
        // The log's commits do not sync; its copy aside syncs for itself.
        self.flusher = None;
        self.conn
            .pragma_update(None, "synchronous", synchronous(self.journal))?;
        if self.bulk {
            self.checkpoint_aside()?;
        }
        Ok(())
    }

    /// Commits the batch [`Store::begin_batch`] opened ([`commit`]); rolls it back when
    /// that fails.
    pub fn commit_batch(&mut self) -> anyhow::Result<()> {
        let _no_sync = self.synced_so_far()?;
        Ok(commit(&self.conn)?)
    }

    /// Before a commit: rolls back the open transaction and fails when the [`Flusher`]
    /// could not sync what it holds; else keeps the flusher from syncing until the guard
    /// returned is dropped, after the commit, since a sync beside the commit's own could
    /// take a lost write's report from it.
    fn synced_so_far(&self) -> anyhow::Result<Option<std::sync::MutexGuard<'_, ()>>> {
        let Some(flusher) = &self.flusher else {
            return Ok(None);
        };
        let held = flusher
            .syncing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = flusher.check() {
            drop(held);
            roll_back(&self.conn);
            return Err(e);
        }
        Ok(Some(held))
    }

    /// Sets the store up for a batch job that writes much at once (`once`), until it is
    /// dropped: into a store that holds no items yet, through a rollback journal instead of
    /// the write-ahead log while no other connection has the store open; else, or once
    /// another connection has taken the store back to its log, through the log, copied
    /// aside ([`Store::checkpoint_aside`]).
    ///
    /// The log holds every page a commit writes, and each is copied into the database
    /// later: written twice, read once more, and a log the size of the writes unlinked at
    /// the end. A rollback journal holds only the old content of pages a transaction
    /// changes, and pages added at the end of an empty store's file (nearly all a first
    /// poll writes) have none. The first poll of the 5000-feed benchmark took 2.21 s
    /// instead of 2.54 s (3.58 s of CPU instead of 4.06). Into a store that holds items,
    /// a transaction changes pages all over the indexes: their old content is journaled and
    /// synced before the database is written, and the writer waits for each sync, where the
    /// log's copy runs aside. Of five `once` runs in a row of five corpora into one store,
    /// the four after the first took 14.6–15.5 s in all through the journal (three
    /// sequences), 12.8–14.7 s through the log. Commits are synced ([`synchronous`]): a
    /// crash or a power cut loses at most the open transaction. Through the journal, a
    /// [`Flusher`] syncs the file between commits, so that each waits less for its sync.
    ///
    /// Meanwhile a reader waits (up to the busy timeout) while a transaction has written
    /// into the database, rather than reading beside it, and a commit waits for readers.
    pub fn write_in_bulk(&mut self) -> anyhow::Result<()> {
        self.bulk = true;
        let empty = || -> rusqlite::Result<bool> {
            self.conn
                .query_row("SELECT NOT EXISTS (SELECT 1 FROM items)", [], |r| r.get(0))
        };
        if self.journal == Journal::Wal
            && self.checkpointer.is_none()
            && empty()?
            && set_journal(&self.conn, "DELETE")?
        {
            self.journal = Journal::Alone;
            self.conn
                .pragma_update(None, "synchronous", synchronous(self.journal))?;
            // Commits sync for themselves: without the thread they only take longer.
            self.flusher = Flusher::start(&self.path, FLUSH_EVERY)
                .inspect_err(
                    |e| warn!(error = %format!("{e:#}"), "The store syncs only at commits."),
                )
                .ok();
            return Ok(());
        }
        self.checkpoint_aside()
    }

    /// Copies the write-ahead log into the database on a thread of its own from now on,
    /// for a writer that commits transaction after transaction (`once`, not alone): SQLite's
    /// own checkpoint runs in the commit that fills the log; its copy and sync stalled the
    /// writer of the 5000-feed benchmark's first poll about once a second. Here a commit
    /// past [`WAL_CHECKPOINT`] of log wakes the thread, which copies what is committed
    /// while the writer goes on. As that writer hardly pauses, the log cannot start again
    /// by itself, so a commit past [`WAL_CEILING`] waits for the copy in hand, copies the
    /// rest and lets the next write start it again. A reader holding the log up (another
    /// connection's open read) makes that commit wait up to the busy timeout; the next
    /// try is then a further [`WAL_CHECKPOINT`] on.
    pub fn checkpoint_aside(&mut self) -> anyhow::Result<()> {
        self.checkpoint_aside_at(WAL_CHECKPOINT, WAL_CEILING)
    }

    fn checkpoint_aside_at(&mut self, every: i64, ceiling: i64) -> anyhow::Result<()> {
        if self.checkpointer.is_some() || self.journal != Journal::Wal {
            return Ok(());
        }
        let page_size: i64 = self
            .conn
            .pragma_query_value(None, "page_size", |r| r.get(0))?;
        let (every, ceiling) = (every / page_size, ceiling / page_size);
        let copier = Connection::open(&self.path)
            .with_context(|| format!("cannot open store {}", self.path.display()))?;
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        // Held by whoever copies the log: SQLite does not wait for another checkpoint.
        let copying = Arc::new(Mutex::new(()));
        let counts = Arc::new(Counts::default());
        let thread = {
            let (copying, counts) = (copying.clone(), counts.clone());
            thread::Builder::new()
                .name("checkpoint".into())
                .spawn(move || copy_when_woken(&copier, &woken, &copying, &counts))
                .context("cannot start the checkpoint thread")?
        };
        // Replaces SQLite's own checkpointing after commits (wal_autocheckpoint). The
        // commit has happened when it runs: an error is only logged.
        let (seen, held) = (counts.clone(), copying.clone());
        // Where the next checkpoint at the ceiling is tried: a reader that holds the log up
        // makes each try wait for the busy timeout, so after a failure the next waits for
        // another `every` frames.
        let mut next_try = ceiling;
        let mut stopped = false;
        self.conn
            .wal_hook(Some(move |wal: &mut Wal, frames: c_int| {
                let frames = i64::from(frames);
                seen.frames.store(frames, Ordering::Relaxed);
                if frames >= next_try {
                    let _copying = held.lock().unwrap_or_else(PoisonError::into_inner);
                    match wal.checkpoint_v2(CheckpointMode::RESTART) {
                        Ok(_) => {
                            seen.restarts.fetch_add(1, Ordering::Relaxed);
                            // All copied: the next write starts the log again.
                            seen.frames.store(0, Ordering::Relaxed);
                            next_try = ceiling;
                            return Ok(());
                        }
                        Err(e) => {
                            warn!(error = %e, frames, "Cannot copy the store's log yet.");
                            next_try = frames.saturating_add(every);
                        }
                    }
                }
                if frames >= every
                    && let Err(TrySendError::Disconnected(())) = wake.try_send(())
                    && !std::mem::replace(&mut stopped, true)
                {
                    warn!("The store's checkpoint thread has stopped.");
                }
                Ok(())
            }))?;
        self.checkpointer = Some(Checkpointer {
            counts,
            copying,
            thread: Some(thread),
        });
        Ok(())
    }

    /// Runs one recording inside a [`Store::batch`] so that its failure undoes it alone,
    /// and the batch goes on.
    pub fn isolated<T>(
        &mut self,
        record: impl FnOnce(&mut Store) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        self.conn.execute_batch("SAVEPOINT recording")?;
        let done = record(self);
        // SQLite itself undoes the whole transaction on some errors (a full disk, an I/O
        // error): then there is no savepoint left, and [`Store::in_batch`] says so.
        if !self.conn.is_autocommit() {
            let end = match &done {
                Ok(_) => "RELEASE recording",
                Err(_) => "ROLLBACK TO recording; RELEASE recording",
            };
            let ended = self.conn.execute_batch(end);
            if let (Ok(_), Err(e)) = (&done, ended) {
                return Err(e.into());
            }
        }
        done
    }

    /// Whether a [`Store::batch`] is still open: false once SQLite has undone it.
    pub fn in_batch(&self) -> bool {
        !self.conn.is_autocommit()
    }

    /// A transaction for one recording; `None` inside a [`Store::batch`], whose own
    /// transaction holds the recording.
    fn own_transaction(&self) -> rusqlite::Result<Option<Transaction<'_>>> {
        if !self.conn.is_autocommit() {
            return Ok(None);
        }
        Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map(Some)
    }

    /// Commits a transaction of [`Store::own_transaction`] ([`commit`]).
    fn commit_own(&self, tx: Option<Transaction<'_>>) -> anyhow::Result<()> {
        let Some(mut tx) = tx else {
            return Ok(());
        };
        tx.set_drop_behavior(DropBehavior::Ignore);
        drop(tx);
        let _no_sync = self.synced_so_far()?;
        Ok(commit(&self.conn)?)
    }

    /// The stored item `id` of `source`.
    pub fn item(&self, source: &str, id: &str) -> anyhow::Result<Option<Item>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM items WHERE source = ?1 AND id = ?2")?;
        let data: Option<String> = stmt
            .query_row(params![source, id], |r| r.get(0))
            .optional()?;
        data.map(|d| stored_item(source.into(), id.to_owned(), &d))
            .transpose()
    }

    /// The cached outcome of the article page at `url`.
    pub fn article(&self, url: &str) -> anyhow::Result<Option<Article>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT fetched, content, error FROM full_text WHERE url = ?1")?;
        let row = stmt
            .query_row([url], |r| {
                Ok(Article {
                    fetched: from_unix(r.get(0)?).unwrap_or_default(),
                    content: r.get(1)?,
                    error: r.get(2)?,
                })
            })
            .optional()?;
        Ok(row)
    }

    /// Caches what `wanted`'s article page gave (the article, or why there is none) and puts
    /// an article in the item's content. The item's hash is left that of the item as the
    /// source gave it (of its HTML sanitised, for an item stored raw), so the next listing of
    /// the same item changes nothing.
    pub fn record_article(
        &mut self,
        source: &str,
        wanted: &Wanted,
        now: DateTime<Utc>,
        article: Result<&str, &str>,
    ) -> anyhow::Result<()> {
        let tx = self.own_transaction()?;
        let conn = &self.conn;
        conn.execute(
            "INSERT INTO full_text (url, fetched, content, error) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (url) DO UPDATE SET
                 fetched = excluded.fetched, content = excluded.content, error = excluded.error
             -- A page fetched again (two items linking to it) that now fails keeps the
             -- article it gave.
             WHERE full_text.content IS NULL OR excluded.content IS NOT NULL",
            params![wanted.link, now.timestamp(), article.ok(), article.err()],
        )?;
        if let Ok(content) = article {
            let row: Option<(String, Vec<u8>)> = conn
                .query_row(
                    "SELECT data, hash FROM items WHERE source = ?1 AND id = ?2",
                    params![source, wanted.id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((data, hash)) = row {
                let mut item: Item =
                    serde_json::from_str(&data).context("stored item is not valid JSON")?;
                (item.id, item.source) = (wanted.id.clone(), source.into());
                let hash = put_article(&mut item, &hash, content.to_string())?;
                conn.execute(
                    "UPDATE items SET data = ?3, hash = ?4 WHERE source = ?1 AND id = ?2",
                    params![source, wanted.id, serde_json::to_string(&item)?, hash],
                )?;
            }
        }
        self.commit_own(tx)?;
        Ok(())
    }

    /// Records a failed poll: the error and status, one more consecutive failure, and what
    /// the server asked of the scheduler. Items and validators stay as they were.
    pub fn record_failure(&mut self, source: &str, failure: &Failure) -> anyhow::Result<()> {
        // Failures count per URL: a source given a new URL starts its back-off afresh. A
        // 410 is kept until a success, whatever fails in between. In a transaction of its
        // own outside a batch, so that its commit is checked as every other is.
        let tx = self.own_transaction()?;
        self.conn.execute(
            "INSERT INTO sources (name, last_fetch, last_status, last_error, failures, retry_at,
                                  gone_url, url)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7)
             ON CONFLICT (name) DO UPDATE SET
                 last_fetch = ?2, last_status = ?3, last_error = ?4,
                 failures = CASE WHEN url IS NULL OR url = ?7 THEN failures + 1 ELSE 1 END,
                 retry_at = ?5, gone_url = coalesce(?6, gone_url), url = ?7",
            params![
                source,
                failure.now.timestamp(),
                failure.status,
                failure.error,
                failure.retry_at.map(ceil_seconds),
                failure.gone_url,
                failure.url
            ],
        )?;
        self.commit_own(tx)
    }

    /// Calls `visit` with the items of `sources` dated at or after `since`, newest first
    /// (ties: earliest first seen, then source and id, so the order is stable), until it
    /// breaks. Items are read one at a time: memory does not grow with the store.
    ///
    /// Sources that hold many rows are read down the date index, which soon yields the
    /// newest of them. Sources that hold few (at most [`FEW_ROWS`]) are picked out by
    /// their key and only their rows' sort keys sorted: down the date index, a feed of
    /// two sources that cannot fill itself read all of a million-item store (139 ms).
    pub fn scan(
        &self,
        sources: &[String],
        since: Option<DateTime<Utc>>,
        visit: impl FnMut(Item) -> ControlFlow<()>,
    ) -> anyhow::Result<()> {
        self.scan_with(sources, since, FEW_ROWS, visit)
    }

    /// [`Store::scan`], sorting by key when the sources hold at most `few` rows.
    fn scan_with(
        &self,
        sources: &[String],
        since: Option<DateTime<Utc>>,
        few: i64,
        mut visit: impl FnMut(Item) -> ControlFlow<()>,
    ) -> anyhow::Result<()> {
        let names = serde_json::to_string(sources)?;
        let since = since.map_or(i64::MIN, |d| d.timestamp());
        // One snapshot for the count, the sorted keys and the reads after them, even with
        // another process writing.
        let _snapshot = match self.conn.is_autocommit() {
            true => Some(Transaction::new_unchecked(
                &self.conn,
                TransactionBehavior::Deferred,
            )?),
            false => None,
        };
        let held: i64 = self
            .conn
            .prepare_cached(COUNT_SQL)?
            .query_row(params![names, few + 1], |r| r.get(0))?;
        // A row of (source, id, data). The items of one source share its name: a feed's
        // items come from a few sources at a time, so the last one made is kept.
        let mut last: Option<Arc<str>> = None;
        let mut visit_row = |r: &rusqlite::Row| -> anyhow::Result<ControlFlow<()>> {
            let name = r.get_ref(0)?.as_str()?;
            let source = match &last {
                Some(source) if **source == *name => source.clone(),
                _ => last.insert(name.into()).clone(),
            };
            let data = r.get_ref(2)?.as_str()?;
            Ok(visit(stored_item(source, r.get(1)?, data)?))
        };
        if held <= few {
            let rows: Vec<i64> = self
                .conn
                .prepare_cached(FEW_SQL)?
                .query_map(params![names, since], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut read = self
                .conn
                .prepare_cached("SELECT source, id, data FROM items WHERE rowid = ?1")?;
            for row in rows {
                let mut found = read.query([row])?;
                let found = found.next()?.context("an item went while it was read")?;
                if visit_row(found)?.is_break() {
                    break;
                }
            }
            return Ok(());
        }
        let mut stmt = self.conn.prepare_cached(SCAN_SQL)?;
        let mut rows = stmt.query(params![names, since])?;
        while let Some(row) = rows.next()? {
            if visit_row(row)?.is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// The most rows a feed's sources may hold for [`Store::scan`] to sort them by key.
const FEW_ROWS: i64 = 20_000;

/// How many rows some sources hold, counted up to ?2 (from the key alone).
const COUNT_SQL: &str = "SELECT count(*) FROM (SELECT 1 FROM items
     WHERE source IN (SELECT value FROM json_each(?1)) LIMIT ?2)";

/// The rows of a few sources, newest first, by rowid: found by their (source, id) key and
/// sorted.
const FEW_SQL: &str = "SELECT rowid FROM items INDEXED BY sqlite_autoindex_items_1
     WHERE source IN (SELECT value FROM json_each(?1)) AND sort_date >= ?2
     ORDER BY sort_date DESC, first_seen, source, id";

/// The rows of some sources, newest first. `INDEXED BY` keeps SQLite from choosing the
/// (source, id) key, which would make it sort every selected row before returning the first.
const SCAN_SQL: &str = "SELECT source, id, data FROM items INDEXED BY items_by_date
     WHERE source IN (SELECT value FROM json_each(?1)) AND sort_date >= ?2
     ORDER BY sort_date DESC, first_seen, source, id";

/// How many new items [`INSERT_MANY`] inserts. A statement's own work (its cursors on the
/// table and both indexes, opened and closed, its parameters bound and reset) had cost
/// about as much again as each row's insert. Counted over a first poll of 1000 feeds in a
/// scratch build (which made its statement's text anew for each poll): 2,973 M instructions
/// one row to a statement, 2,894 M eight to one, 2,909 M sixteen to one (more of each
/// listing is left over to go one at a time), and no fewer with 4 to 12. As built here,
/// 2,970 M → 2,840 M.
const INSERT_ROWS: usize = 8;

/// Inserts [`INSERT_ROWS`] new items of the source ?1 seen at ?2, each as five parameters
/// from ?3 on: id, sort date, first seen, hash, data. `OR IGNORE` though it is used only
/// where no row can conflict: a statement that a constraint could stop after its first row
/// keeps a journal of the index pages it changes, to undo them (2,909 M instructions, eight
/// to one, in the scratch build above). Any other failure (the disk, memory) rolls back
/// the whole transaction, as it would one row's insert.
static INSERT_MANY: LazyLock<String> = LazyLock::new(|| {
    let rows: Vec<String> = (0..INSERT_ROWS)
        .map(|i| {
            let at = 3 + 5 * i;
            let [id, date, seen, hash, data] = [at, at + 1, at + 2, at + 3, at + 4];
            format!("(?1, ?{id}, ?{date}, ?{seen}, ?2, ?{hash}, ?{data})")
        })
        .collect();
    format!(
        "INSERT OR IGNORE INTO items (source, id, sort_date, first_seen, last_seen, hash, data)
         VALUES {}",
        rows.join(", ")
    )
});

/// A listing's items, [`encode`]d, as [`Poll::encoded`] takes them.
#[derive(Debug)]
pub struct Encodings {
    items: Vec<Encoded>,
    /// No id is listed twice: found where the items were encoded, as the store writes a
    /// source's first listing many rows to a statement only then (hashing the ids of a
    /// first poll's 231,635 items had been 2 % of its writer's time).
    distinct_ids: bool,
}

impl Encodings {
    pub fn new(items: Vec<Encoded>) -> Encodings {
        use foldhash::HashSetExt;
        let mut ids = foldhash::HashSet::with_capacity(items.len());
        let distinct_ids = items.iter().all(|e| ids.insert(e.id.as_str()));
        drop(ids);
        Encodings {
            items,
            distinct_ids,
        }
    }
}

impl std::ops::Deref for Encodings {
    type Target = [Encoded];

    fn deref(&self) -> &[Encoded] {
        &self.items
    }
}

/// An item as the store writes it: the hash that tells whether a re-listed item changed,
/// and its JSON. Made where the item is made (see [`Poll::encoded`]), so that the store's
/// one writer spends its time writing: hashing and serialising 231,635 new items had been
/// two fifths of the writer's CPU in a first poll of 5000 feeds.
///
/// It holds all the store needs of the item, so that the item itself can be freed where it
/// was made: freeing 231,635 items on the writer's thread had been a tenth of its time.
#[derive(Debug)]
pub struct Encoded {
    id: String,
    /// [`Item::date`], in unix seconds.
    sort_date: i64,
    first_seen: i64,
    /// The page of its article: `None` but for a full-text source ([`encode_all`]).
    link: Option<String>,
    hash: ItemHash,
    /// UTF-8, as it is written from strings, and stored as text without being checked
    /// again (a pass over every item's bytes). The encodings of one poll share one buffer
    /// ([`encode_all`]).
    json: Bytes,
}

impl Encoded {
    /// The item encoded, as it was given (its HTML raw if it was), under `source`.
    fn item(&self, source: &str) -> anyhow::Result<Item> {
        let mut item: Item = serde_json::from_slice(&self.json).context("encoded item")?;
        item.id = self.id.clone();
        item.source = source.into();
        Ok(item)
    }
}

/// Encodes `item` for [`Poll::encoded`].
///
/// The JSON is serde's for [`Item`] (so without the id and source, which the store has as
/// columns, or the fields that are empty), written field by field, so that the fields the
/// hash covers are written and escaped once for both: the hash is XXH3-128 of those fields
/// as a JSON array (title, link, authors, published, updated, summary, content, categories,
/// enclosures, image), empty ones as `null` or `[]`. It only tells whether a re-listed item
/// changed, so it need not be cryptographic; SHA-256, which older builds stored (see
/// [`sha256_as_before`]), was 2.8 % of the 5000-feed first poll's CPU.
pub fn encode(item: &Item) -> anyhow::Result<Encoded> {
    let mut encoded = encode_fields(item)?;
    encoded.id.clone_from(&item.id);
    encoded.link.clone_from(&item.link);
    Ok(encoded)
}

/// [`encode`] of each of `items`, which it then takes: their ids, and their links when
/// `links` says, move into the encodings rather than being copied (two allocations an item,
/// on the reading threads); links not kept are freed here, with the rest of the items.
/// `None`, leaving `items` as they were, when one cannot be encoded.
///
/// Their JSON is written into one buffer, which the encodings share: the recorder, which
/// frees them, then frees a buffer a poll rather than one an item, each allocated on
/// another thread.
pub fn encode_all(items: &mut Vec<Item>, links: bool) -> Option<Encodings> {
    let mut json = Vec::with_capacity(items.iter().map(room).sum());
    let mut written = Vec::with_capacity(items.len());
    for item in items.iter() {
        let start = json.len();
        let fields = write_item(item, &mut json).ok()?;
        written.push((fields, start..json.len()));
    }
    let json = Bytes::from(json);
    let encoded = written.into_iter().zip(std::mem::take(items));
    let encoded = encoded.map(|((((sort_date, first_seen), hash), at), item)| Encoded {
        id: item.id,
        sort_date,
        first_seen,
        link: item.link.filter(|_| links),
        hash,
        json: json.slice(at),
    });
    Some(Encodings::new(encoded.collect()))
}

/// [`encode`] without the item's id and link, which the callers fill in (or, wanting only
/// the hash, leave out).
fn encode_fields(item: &Item) -> anyhow::Result<Encoded> {
    let mut json = Vec::with_capacity(room(item));
    let ((sort_date, first_seen), hash) = write_item(item, &mut json)?;
    Ok(Encoded {
        id: String::new(),
        sort_date,
        first_seen,
        link: None,
        hash,
        json: Bytes::from(json),
    })
}

/// Room for an item's whole JSON at once: the texts, a sixteenth more for the quotes that
/// HTML's attributes put in and JSON escapes, and the rest. With only the content counted,
/// most items grew their buffer once (and copied it) on the way.
fn room(item: &Item) -> usize {
    let texts: usize = [
        &item.title,
        &item.link,
        &item.summary,
        &item.content,
        &item.image,
    ]
    .iter()
    .map(|t| t.as_ref().map_or(0, String::len))
    .sum();
    512 + texts + texts / 16
}

/// Writes `item`'s JSON (without its id and link) at the end of `json`; returns its sort
/// date and first sight in unix seconds, and its hash.
fn write_item(item: &Item, json: &mut Vec<u8>) -> anyhow::Result<((i64, i64), ItemHash)> {
    let mut out = ItemWriter {
        start: json.len(),
        json,
        hash: Xxh3::new(),
        hashed: 0,
    };
    out.json.push(b'{');
    out.text("\"title\":", item.title.as_deref())?;
    out.text("\"link\":", item.link.as_deref())?;
    out.list("\"authors\":", &item.authors, |json, p| {
        json.extend_from_slice(b"{\"name\":");
        push_json_str(json, &p.name);
        json.extend_from_slice(b",\"email\":");
        push_json_opt(json, p.email.as_deref());
        json.extend_from_slice(b",\"url\":");
        push_json_opt(json, p.url.as_deref());
        json.push(b'}');
    })?;
    out.date("\"published\":", item.published.as_ref())?;
    out.date("\"updated\":", item.updated.as_ref())?;
    out.text("\"summary\":", item.summary.as_deref())?;
    out.text("\"content\":", item.content.as_deref())?;
    out.list("\"categories\":", &item.categories, |json, c| {
        push_json_str(json, c)
    })?;
    out.list("\"enclosures\":", &item.enclosures, |json, e| {
        json.extend_from_slice(b"{\"url\":");
        push_json_str(json, &e.url);
        json.extend_from_slice(b",\"mime_type\":");
        push_json_opt(json, e.mime_type.as_deref());
        json.extend_from_slice(b",\"length\":");
        match e.length {
            Some(n) => json.extend_from_slice(n.to_string().as_bytes()),
            None => json.extend_from_slice(b"null"),
        }
        json.push(b'}');
    })?;
    out.text("\"image\":", item.image.as_deref())?;
    out.hash.update(b"]");
    if let Some(base) = item.raw.as_ref().and_then(|raw| raw.base.as_deref()) {
        // After the array, which ends it unambiguously. Without its query and fragment,
        // which relative links in HTML seldom depend on and a signed feed URL changes on
        // every request: every item would look changed.
        let base = base.as_bytes();
        let end = memchr::memchr2(b'?', b'#', base).unwrap_or(base.len());
        out.hash.update(&base[..end]);
    }
    if let Some(raw) = &item.raw {
        // As serde writes it (`Raw` has the one field), without its machinery per item.
        out.key("\"raw\":{");
        if let Some(base) = &raw.base {
            out.json.extend_from_slice(b"\"base\":");
            push_json_str(out.json, base);
        }
        out.json.push(b'}');
    }
    out.key("\"first_seen\":");
    write_date(out.json, Some(&item.first_seen))?;
    out.json.push(b'}');
    let hash = ItemHash::new(out.hash.digest128(), item.raw.is_some());
    let dates = (item.date().timestamp(), item.first_seen.timestamp());
    Ok((dates, hash))
}

/// An item's hash as [`encode`] makes it: XXH3-128, then [`RAW_HASH`] when its HTML is as
/// the source gave it. Held in place: a vector of its own had been an allocation per item,
/// grown once for the last byte, made on a reading thread and freed on the writer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ItemHash {
    bytes: [u8; SANITISED_LEN + 1],
    raw: bool,
}

impl ItemHash {
    fn new(xxh3: u128, raw: bool) -> ItemHash {
        let mut bytes = [RAW_HASH; SANITISED_LEN + 1];
        bytes[..SANITISED_LEN].copy_from_slice(&xxh3.to_le_bytes());
        ItemHash { bytes, raw }
    }
}

impl std::ops::Deref for ItemHash {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes[..SANITISED_LEN + usize::from(self.raw)]
    }
}

/// What [`encode`] writes to.
struct ItemWriter<'a> {
    json: &'a mut Vec<u8>,
    /// Where the item's JSON begins in `json`.
    start: usize,
    /// Of the hashed fields as a JSON array: `[` before the first, `,` between them (the
    /// caller closes it).
    hash: Xxh3,
    hashed: usize,
}

impl ItemWriter<'_> {
    /// Writes `key` (by [`ItemWriter::key`]), then the value `write` writes, which also goes
    /// into the hash; then takes both back out of the JSON when the value is `null` or `[]`,
    /// as serde skips it (the hash keeps it).
    fn write(
        &mut self,
        key: &str,
        write: impl FnOnce(&mut Vec<u8>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let start = self.json.len();
        self.key(key);
        let at = self.json.len();
        write(self.json)?;
        self.hash.update(if self.hashed == 0 { b"[" } else { b"," });
        self.hash.update(&self.json[at..]);
        self.hashed += 1;
        if matches!(&self.json[at..], b"null" | b"[]") {
            self.json.truncate(start);
        }
        Ok(())
    }

    /// Writes `key`, after a comma unless it is the object's first.
    fn key(&mut self, key: &str) {
        if self.json.len() > self.start + 1 {
            self.json.push(b',');
        }
        self.json.extend_from_slice(key.as_bytes());
    }

    /// A string, escaped by [`push_json_str`].
    fn text(&mut self, key: &str, value: Option<&str>) -> anyhow::Result<()> {
        self.write(key, |json| {
            push_json_opt(json, value);
            Ok(())
        })
    }

    /// A date, by [`write_date`].
    fn date(&mut self, key: &str, value: Option<&DateTime<Utc>>) -> anyhow::Result<()> {
        self.write(key, |json| Ok(write_date(json, value)?))
    }

    /// A list, as serde_json writes it, each element by `each`: by hand rather than by
    /// serde, whose machinery for authors, categories and enclosures had been a seventh of
    /// encoding a first poll's items.
    fn list<T>(
        &mut self,
        key: &str,
        items: &[T],
        each: impl Fn(&mut Vec<u8>, &T),
    ) -> anyhow::Result<()> {
        self.write(key, |json| {
            json.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    json.push(b',');
                }
                each(json, item);
            }
            json.push(b']');
            Ok(())
        })
    }
}

/// Puts `article` in place of `item`'s content, and returns the hash to keep for it: `hash`,
/// unless `item`'s HTML was as its source gave it; then the hash of its HTML sanitised,
/// which is the item as the source listed it still (see [`same_when_sanitised`]).
fn put_article(item: &mut Item, hash: &[u8], article: String) -> anyhow::Result<Vec<u8>> {
    let hash = match item.raw {
        Some(_) => {
            finish(item);
            encode_fields(item)?.hash.to_vec()
        }
        None => hash.to_vec(),
    };
    item.content = Some(article);
    Ok(hash)
}

/// Bytes of an item hash stored by an older build: SHA-256.
const SHA256_LEN: usize = 32;

/// Bytes of the hash of an item whose HTML was sanitised when it was stored: XXH3-128.
const SANITISED_LEN: usize = 16;

/// What follows the XXH3-128 of an item stored with its HTML as the source gave it
/// ([`Item::raw`]), so that its hash tells which it is: 17 bytes. Its base URL is hashed
/// after the array of the other fields, without its query and fragment.
const RAW_HASH: u8 = b'r';

/// Whether `item`, whose hash `new_hash` is not `old_hash`, is the stored item `old` even
/// so once both are sanitised: `old_hash` was made another way (SHA-256 by an older build,
/// or over sanitised HTML where `item` has raw HTML, or the other way round), or the two
/// differ only in what sanitising drops (a script's random number). If so, the hash to
/// keep for it: `new_hash`, or the hash of `item` sanitised while `holds_article` (the
/// stored item may hold an article in place of its content, which only such a hash still
/// describes as the source listed it); `None` when it changed. Most items whose hash
/// differs have changed; this costs them a sanitising.
///
/// `updated` is compared loosely: the store may have dated the stored item's last change
/// itself (see [`Store::record_listing`]), which the source's listing does not show, so a
/// date the source gives that is not later than the stored one is no change.
fn same_when_sanitised(
    old_hash: &[u8],
    item: &Item,
    new_hash: &[u8],
    holds_article: bool,
    old: impl FnOnce() -> anyhow::Result<Item>,
) -> anyhow::Result<Option<Vec<u8>>> {
    let mut new = item.clone();
    finish(&mut new);
    let listed = encode_fields(&new)?.hash;
    let matches = |new: &Item| -> anyhow::Result<bool> {
        Ok(match old_hash.len() {
            SHA256_LEN => old_hash == sha256_as_before(new)?,
            SANITISED_LEN => old_hash == &encode_fields(new)?.hash[..],
            _ => false,
        })
    };
    // The listing as it is first: its sanitised hash is made once, for both uses.
    let as_listed = match old_hash.len() {
        SHA256_LEN => old_hash == sha256_as_before(&new)?,
        SANITISED_LEN => old_hash == &listed[..],
        _ => false,
    };
    let same = as_listed || {
        let mut old = old()?;
        finish(&mut old);
        if new
            .updated
            .is_none_or(|at| old.updated.is_some_and(|set| at <= set))
        {
            new.updated = old.updated;
        }
        match old_hash.len() {
            SHA256_LEN | SANITISED_LEN => matches(&new)?,
            // A hash of raw HTML: the stored item is what the source listed (it holds no
            // article: one in its place makes its hash one of sanitised HTML).
            _ => hashed_fields(&old)? == hashed_fields(&new)?,
        }
    };
    Ok(same.then(|| match holds_article {
        true => listed.to_vec(),
        false => new_hash.to_vec(),
    }))
}

/// The hash an older build stored for `item`: SHA-256 of the hashed fields as a JSON array,
/// the bytes [`encode`] hashes. Compared only with such a stored hash, which is then
/// replaced, so each stored item pays for it once.
fn sha256_as_before(item: &Item) -> anyhow::Result<Vec<u8>> {
    Ok(Sha256::digest(hashed_fields(item)?).to_vec())
}

/// The fields an item's hash covers, as a JSON array: what [`encode`] hashes as it goes.
fn hashed_fields(item: &Item) -> serde_json::Result<Vec<u8>> {
    let fields = (
        &item.title,
        &item.link,
        &item.authors,
        &item.published,
        &item.updated,
        &item.summary,
        &item.content,
        &item.categories,
        &item.enclosures,
        &item.image,
    );
    serde_json::to_vec(&fields)
}

/// Writes `s` as a JSON string, escaped exactly as serde_json escapes it, sixteen bytes at a
/// time: the runs between the bytes that need escaping (`"`, `\`, control characters) are
/// copied whole, where serde_json looks at each byte, and each block is looked at once
/// however many it holds (items' HTML has a quote every few words). The look compiles to a
/// few vector instructions (SSE2 on x86-64). A first poll of the 1000-feed corpus spent
/// 150 M instructions here looking eight bytes at a time by word arithmetic, starting
/// again after each byte escaped.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut copied = 0;
    let escape = |out: &mut Vec<u8>, copied: &mut usize, n: usize| {
        let escaped: &[u8] = match bytes[n] {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            c => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                b"0123456789abcdef"[usize::from(c >> 4)],
                b"0123456789abcdef"[usize::from(c & 0xf)],
            ],
        };
        out.extend_from_slice(&bytes[*copied..n]);
        out.extend_from_slice(escaped);
        *copied = n + 1;
    };
    let mut at = 0;
    while let Some(block) = bytes.get(at..at + 16) {
        let found = text::flags16(block.try_into().expect("sixteen bytes"), needs_escape);
        if found != 0 {
            escape_found(out, &mut copied, at, found, &escape);
        }
        at += 16;
    }
    for (n, &c) in bytes.iter().enumerate().skip(at) {
        if needs_escape(c) {
            escape(out, &mut copied, n);
        }
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

/// Escapes each byte `found` flags in the block at `at`, by `escape`: out of line, so that
/// the loop over blocks without any keeps its state in registers.
#[inline(never)]
fn escape_found(
    out: &mut Vec<u8>,
    copied: &mut usize,
    at: usize,
    mut found: u128,
    escape: &impl Fn(&mut Vec<u8>, &mut usize, usize),
) {
    while found != 0 {
        let byte = found.trailing_zeros() / 8;
        escape(out, copied, at + byte as usize);
        found &= !(0xFF << (8 * byte));
    }
}

/// Whether JSON escapes `c` in a string: a control character, `"` or `\`.
fn needs_escape(c: u8) -> bool {
    (c < 0x20) | (c == b'"') | (c == b'\\')
}

/// An item read back from the store: its JSON, with the source and id the store keeps as
/// columns put back (the JSON of an older build has them too), and its HTML sanitised when
/// it was stored as the source gave it.
fn stored_item(source: Arc<str>, id: String, data: &str) -> anyhow::Result<Item> {
    let mut item: Item = serde_json::from_str(data).context("stored item is not valid JSON")?;
    item.source = source;
    item.id = id;
    finish(&mut item);
    Ok(item)
}

/// A string as [`push_json_str`] writes it, or `null`.
fn push_json_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_json_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// Writes `value` as serde_json does, by [`push_json_date`] when it can.
fn write_date(json: &mut Vec<u8>, value: Option<&DateTime<Utc>>) -> serde_json::Result<()> {
    match value {
        Some(t) if push_json_date(json, t) => Ok(()),
        _ => serde_json::to_writer(json, &value),
    }
}

/// Writes `t` as chrono's serde writes it (`"2026-02-27T04:51:57Z"`, with 3, 6 or 9
/// digits of a fraction of a second, as few as hold it) when its year has four digits;
/// false, writing nothing, for any other year or a leap second. chrono goes through `fmt`,
/// which had been a fifth of encoding.
fn push_json_date(out: &mut Vec<u8>, t: &DateTime<Utc>) -> bool {
    use chrono::{Datelike, Timelike};
    let (year, nanos) = (t.year(), t.nanosecond());
    if nanos >= 1_000_000_000 || !(0..=9999).contains(&year) {
        return false;
    }
    // Written in place on the stack and copied out once: digit by digit into the vector,
    // with a power of ten worked out for each, it took some 500 instructions a date.
    let mut date = *b"\"0000-00-00T00:00:00.000000000";
    let put = |slot: &mut [u8], mut n: u32| {
        for digit in slot.iter_mut().rev() {
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(&mut date[1..5], year as u32);
    put(&mut date[6..8], t.month());
    put(&mut date[9..11], t.day());
    put(&mut date[12..14], t.hour());
    put(&mut date[15..17], t.minute());
    put(&mut date[18..20], t.second());
    // The fraction in as few of 3, 6 or 9 digits as hold it; none (nor its point) for 0.
    let len = match nanos {
        0 => 20,
        n if n % 1_000_000 == 0 => {
            put(&mut date[21..24], n / 1_000_000);
            24
        }
        n if n % 1_000 == 0 => {
            put(&mut date[21..27], n / 1_000);
            27
        }
        n => {
            put(&mut date[21..30], n);
            30
        }
    };
    out.extend_from_slice(&date[..len]);
    out.extend_from_slice(b"Z\"");
    true
}

/// How often retention runs for a source, in seconds: a tenth of `retain`, at most a day,
/// at least a minute. An item unlisted for `retain` goes at a listing within that much
/// longer.
fn prune_every(retain: Duration) -> i64 {
    (retain.as_secs() / 10).clamp(60, 86_400) as i64
}

/// Unix seconds, rounded up: a "not before" time stored must not come early.
fn ceil_seconds(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

fn from_unix(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Rng;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, day, 12, 0, 0).unwrap()
    }

    fn item(id: &str, published: Option<u32>, seen: u32) -> Item {
        Item {
            title: Some(format!("title {id}")),
            link: Some(format!("https://example.org/{id}")),
            published: published.map(at),
            ..Item::new("s", id, at(seen))
        }
    }

    #[test]
    fn encoding_all_items_takes_them_and_encodes_each_as_alone() {
        let items = vec![
            item("a", Some(1), 1),
            Item {
                link: None,
                ..item("b", None, 2)
            },
            item("c", Some(3), 3),
        ];
        let mut taken = items.clone();
        let all = encode_all(&mut taken, true).unwrap();
        assert!(taken.is_empty(), "the items are taken");
        let alone: Vec<Encoded> = items.iter().map(|i| encode(i).unwrap()).collect();
        // Written one after another into one buffer, each as it is written alone.
        assert_eq!(format!("{:?}", &all[..]), format!("{alone:?}"));
        assert!(all.distinct_ids);
        assert_eq!(all[2].id, "c");
        assert_eq!(all[2].link.as_deref(), Some("https://example.org/c"));
        assert_eq!(all[1].link, None);
        // Without links (a source that wants no full text), the rest as with them.
        let linkless = encode_all(&mut items.clone(), false).unwrap();
        assert!(linkless.iter().all(|e| e.link.is_none()));
        for (without, with) in linkless.iter().zip(all.iter()) {
            assert_eq!((&without.id, &without.json), (&with.id, &with.json));
        }
        // An id listed twice is found as they are encoded.
        let mut twice = vec![
            item("a", Some(1), 1),
            item("b", None, 1),
            item("a", None, 2),
        ];
        assert!(!encode_all(&mut twice, false).unwrap().distinct_ids);
    }

    #[test]
    fn stored_json_leaves_out_the_columns_and_empty_fields() {
        assert_eq!(
            &encode(&Item::new("s", "b", at(2))).unwrap().json[..],
            br#"{"first_seen":"2026-01-02T12:00:00Z"}"#
        );
        let dated = Item {
            updated: Some(at(3)),
            ..Item::new("s", "b", at(2))
        };
        assert_eq!(
            &encode(&dated).unwrap().json[..],
            br#"{"updated":"2026-01-03T12:00:00Z","first_seen":"2026-01-02T12:00:00Z"}"#
        );
    }

    /// Rows written by a build before the JSON left out the id, the source and the empty
    /// fields read as they did, by every way items are read, and are seen as unchanged.
    #[test]
    fn items_stored_with_the_older_json_read_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let listing = [item("a", Some(1), 1), item("b", None, 1)];
        store
            .record_poll("s", &poll(1, Some(&listing), None))
            .unwrap();
        let older = |item: &Item| {
            let fields = hashed_fields(item).unwrap();
            let fields: Vec<serde_json::Value> = serde_json::from_slice(&fields).unwrap();
            let keys = [
                "title",
                "link",
                "authors",
                "published",
                "updated",
                "summary",
                "content",
                "categories",
                "enclosures",
                "image",
            ];
            let mut json = serde_json::Map::new();
            json.insert("id".into(), item.id.clone().into());
            json.insert("source".into(), (&*item.source).into());
            json.extend(keys.iter().map(|k| k.to_string()).zip(fields));
            json.insert(
                "first_seen".into(),
                serde_json::to_value(item.first_seen).unwrap(),
            );
            serde_json::Value::Object(json).to_string()
        };
        for item in &listing {
            let data = older(item);
            assert!(data.contains(r#""updated":null"#) && data.contains(r#""id":"#));
            store
                .conn
                .execute(
                    "UPDATE items SET data = ?2 WHERE id = ?1",
                    params![item.id, data],
                )
                .unwrap();
            assert_eq!(store.item("s", &item.id).unwrap().as_ref(), Some(item));
        }
        let mut scanned = Vec::new();
        for few in [0, FEW_ROWS] {
            store
                .scan_with(&["s".to_string()], None, few, |item| {
                    scanned.push(item);
                    ControlFlow::Continue(())
                })
                .unwrap();
        }
        let mut expected = [&listing[..], &listing[..]].concat();
        for items in [&mut scanned, &mut expected] {
            items.sort_by(|x, y| x.id.cmp(&y.id));
        }
        assert_eq!(scanned, expected);
        let again = store
            .record_poll("s", &poll(2, Some(&listing), None))
            .unwrap();
        assert_eq!(again, Changes::default());

        // A changed item keeps the first_seen of its older row, which is written anew.
        let changed = [Item {
            title: Some("retitled".into()),
            ..item("a", Some(1), 3)
        }];
        let relisted = store
            .record_poll("s", &poll(3, Some(&changed), None))
            .unwrap();
        assert_eq!(relisted.updated, 1);
        let stored = store.item("s", "a").unwrap().unwrap();
        assert_eq!(
            (stored.title.as_deref(), stored.first_seen),
            (Some("retitled"), at(1))
        );
        // An article put in an older row is written with the rest of it.
        let wanted = Wanted {
            id: "b".into(),
            link: "https://example.org/b".into(),
        };
        store
            .record_article("s", &wanted, at(4), Ok("<p>all of b</p>"))
            .unwrap();
        let stored = store.item("s", "b").unwrap().unwrap();
        assert_eq!(
            stored,
            Item {
                content: Some("<p>all of b</p>".into()),
                ..listing[1].clone()
            }
        );
        for id in ["a", "b"] {
            let data: String = store
                .conn
                .query_row("SELECT data FROM items WHERE id = ?1", [id], |r| r.get(0))
                .unwrap();
            assert!(
                !data.contains(r#""id":"#) && !data.contains("null"),
                "{data}"
            );
        }
    }

    #[test]
    fn an_encoding_is_serdes_json_and_its_hash_that_of_the_fields_as_stores_had_them() {
        // Stored hashes are of `hashed_fields`: SHA-256 (older builds) or XXH3-128 (this
        // one), which `encode` makes as it writes the JSON.
        let full = Item {
            title: Some("Quotes \" and \\ and \u{1} and é 🚀".into()),
            summary: Some("<p>a</p>\n\t".into()),
            content: Some("<p>b &amp; c</p>".into()),
            updated: Some(at(7)),
            authors: vec![crate::model::Person {
                name: "N".into(),
                email: Some("n@example.org".into()),
                url: None,
            }],
            categories: vec!["x".into(), "y\"z".into()],
            enclosures: vec![crate::model::Enclosure {
                url: "https://example.org/a.mp3".into(),
                mime_type: Some("audio/mpeg".into()),
                length: Some(12),
            }],
            image: Some("https://example.org/i.png".into()),
            ..item("urn:x:\"1\"", Some(5), 6)
        };
        // Pinned, so that a change to the item's serialisation or to either hash function
        // cannot pass unseen: it would make every stored item look changed once.
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(&encode(&full).unwrap().hash),
            "b2aa508044186087edb453a7a0fa8434"
        );
        assert_eq!(
            hex(&sha256_as_before(&full).unwrap()),
            "b796706879f55bb99751f9c5dd672ee5fbadc46f5d78df456b77b51b08fd6469"
        );
        // An item kept raw: its base hashed after the array of fields, without its query and
        // fragment, and a last byte saying the hash is of raw HTML.
        let raw = Item {
            raw: Some(crate::model::Raw {
                base: Some("https://example.org/?sig=1#top".into()),
            }),
            ..full.clone()
        };
        let baseless = Item {
            raw: Some(crate::model::Raw { base: None }),
            ..item("b", None, 1)
        };
        let encoded = encode(&baseless).unwrap();
        assert_eq!(encoded.json, serde_json::to_vec(&baseless).unwrap());
        let encoded = encode(&raw).unwrap();
        assert_eq!(encoded.json, serde_json::to_vec(&raw).unwrap());
        let mut bytes = hashed_fields(&full).unwrap();
        bytes.extend_from_slice(b"https://example.org/");
        let mut xxh3 = xxhash_rust::xxh3::xxh3_128(&bytes).to_le_bytes().to_vec();
        xxh3.push(b'r');
        assert_eq!(encoded.hash[..], xxh3);
        for item in [full, item("a", None, 1), Item::new("s", "b", at(2))] {
            let encoded = encode(&item).unwrap();
            assert_eq!(encoded.json, serde_json::to_vec(&item).unwrap());
            let bytes = hashed_fields(&item).unwrap();
            let xxh3 = xxhash_rust::xxh3::xxh3_128(&bytes).to_le_bytes();
            assert_eq!(encoded.hash[..], xxh3, "{item:?}");
            let sha256 = Sha256::digest(&bytes).to_vec();
            assert_eq!(sha256_as_before(&item).unwrap(), sha256, "{item:?}");
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        // Every ASCII byte and some wider characters, at every offset within a word.
        let alphabet: Vec<char> = (0u8..0x80)
            .map(char::from)
            .chain(['é', '€', '🚀', '\u{7f}', '\u{2028}'])
            .collect();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let len = rng.below(70);
            let s: String = (0..len)
                .map(|_| match rng.below(4) {
                    0 => rng.pick(&alphabet),
                    _ => 'a',
                })
                .collect();
            let mut out = Vec::new();
            push_json_str(&mut out, &s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&s).unwrap()
            );
        }
    }

    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        // Any time from year -1 to 10000, or one near the ends of the four-digit years; now
        // and then with a fraction of a second (of milli-, micro- or nanoseconds) or a leap
        // second.
        const YEAR: i64 = 366 * 86_400;
        let year_0 = -62_167_219_200_i64;
        let year_10000 = 253_402_300_800_i64;
        let spans = [
            (year_0 - YEAR, year_10000 + YEAR),
            (year_0 - YEAR, year_0 + YEAR),
            (year_10000 - YEAR, year_10000 + YEAR),
        ];
        for n in 0..20_000 {
            let (first, last) = rng.pick(&spans);
            let seconds = first + (rng.below(1 << 62) as i64) % (last - first);
            let nanos = match n % 8 {
                0 => rng.below(2_000_000_000) as u32,
                1 => 1_000_000_000,
                2 => rng.below(1_000) as u32 * 1_000_000,
                3 => rng.below(1_000_000) as u32 * 1_000,
                _ => 0,
            };
            let Some(t) = DateTime::from_timestamp(seconds, nanos) else {
                continue;
            };
            let mut out = Vec::new();
            if !push_json_date(&mut out, &t) {
                assert!(out.is_empty());
                serde_json::to_writer(&mut out, &t).unwrap();
            }
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&t).unwrap()
            );
        }
    }

    fn poll<'a>(
        now: u32,
        items: Option<&'a [Item]>,
        validators: Option<&'a Validators>,
    ) -> Poll<'a> {
        Poll {
            url: "https://example.org/s",
            now: at(now),
            items,
            encoded: None,
            status: Some(200),
            validators,
            retain: Duration::from_secs(10 * 86_400),
            keep_newest: 2,
            warning: None,
            fresh_until: None,
            moved_to: None,
            full_text: false,
        }
    }

    /// Every stored item of source "s", in scan order.
    fn stored(store: &Store) -> Vec<Item> {
        let mut out = Vec::new();
        store
            .scan(&["s".into()], None, |i| {
                out.push(i);
                ControlFlow::Continue(())
            })
            .unwrap();
        out
    }

    fn ids(store: &Store) -> Vec<String> {
        stored(store).into_iter().map(|i| i.id).collect()
    }

    /// Encodings made beforehand are what the store writes, and tell re-listed items as the
    /// store's own do; given, they are the listing, and the items are not read.
    #[test]
    fn items_encoded_beforehand_are_written_as_they_are() {
        let rows = |store: &Store| -> Vec<(String, Vec<u8>, String)> {
            let mut stmt = store
                .conn
                .prepare("SELECT id, hash, data FROM items ORDER BY id")
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let items = [item("a", Some(1), 1), item("b", None, 1)];
        let encoded = Encodings::new(items.iter().map(|i| encode(i).unwrap()).collect());
        let (own, given) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut own = Store::open(own.path()).unwrap();
        let mut given = Store::open(given.path()).unwrap();
        own.record_poll("s", &poll(1, Some(&items), None)).unwrap();
        let with = Poll {
            encoded: Some(&encoded),
            ..poll(1, None, None)
        };
        given.record_poll("s", &with).unwrap();
        assert_eq!(rows(&own), rows(&given));
        // Bound as text, not checked again: SQLite's JSON functions read it as JSON.
        let text: i64 = (given.conn)
            .query_row(
                "SELECT count(*) FROM items WHERE typeof(data) = 'text' AND json_valid(data)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(text, 2);

        // Listed again with its encodings: nothing changed.
        let again = Poll {
            encoded: Some(&encoded),
            ..poll(2, Some(&items), None)
        };
        assert_eq!(given.record_poll("s", &again).unwrap(), Changes::default());

        // The encodings are the listing: the items, freed where they were encoded, are not
        // read. One that changed is read back from its encoding.
        let mut edited = item("b", None, 3);
        edited.title = Some("edited".into());
        let encoded = Encodings::new(vec![
            encode(&edited).unwrap(),
            encode(&item("c", Some(3), 3)).unwrap(),
        ]);
        let listed = Poll {
            encoded: Some(&encoded),
            ..poll(3, None, None)
        };
        let changes = given.record_poll("s", &listed).unwrap();
        assert_eq!((changes.new, changes.updated), (1, 1));
        let last_listed: i64 = (given.conn)
            .query_row("SELECT last_listed FROM sources", [], |r| r.get(0))
            .unwrap();
        assert_eq!(last_listed, at(3).timestamp(), "a listing all the same");
        let b = given.item("s", "b").unwrap().unwrap();
        assert_eq!((b.title.as_deref(), b.first_seen), (Some("edited"), at(1)));
        assert_eq!(b.updated, Some(at(3)), "dated by the store");
        let c = given.item("s", "c").unwrap().unwrap();
        assert_eq!((c.id.as_str(), c.published), ("c", Some(at(3))));
        // Retention runs on such a listing too.
        let later = Encodings::new(
            (["d", "e", "f"].iter())
                .map(|id| encode(&item(id, Some(20), 20)).unwrap())
                .collect(),
        );
        let listed = Poll {
            encoded: Some(&later),
            ..poll(20, None, None)
        };
        let changes = given.record_poll("s", &listed).unwrap();
        assert_eq!((changes.new, changes.removed), (3, 3));
    }

    #[test]
    fn first_seen_is_kept_and_relisting_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let first = [item("a", None, 1), item("b", Some(1), 1)];
        let changes = store
            .record_poll("s", &poll(1, Some(&first), None))
            .unwrap();
        assert_eq!(
            changes,
            Changes {
                new: 2,
                updated: 0,
                removed: 0
            }
        );

        // The next poll sees the same items with a later "now".
        let again = [item("a", None, 2), item("b", Some(1), 2)];
        let changes = store
            .record_poll("s", &poll(2, Some(&again), None))
            .unwrap();
        assert_eq!(changes, Changes::default());
        let all = stored(&store);
        let undated = all.iter().find(|i| i.id == "a").unwrap();
        assert_eq!(
            undated.first_seen,
            at(1),
            "an undated item keeps its first-seen date"
        );
        assert_eq!(undated.date(), at(1));
    }

    /// A batch left open is committed by `commit_batch`, and rolled back when the store is
    /// dropped without it.
    #[test]
    fn an_open_batch_lasts_until_committed() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = ([item("a", Some(1), 1)], [item("b", Some(2), 2)]);
        {
            let mut store = Store::open(dir.path()).unwrap();
            store.begin_batch().unwrap();
            store.record_poll("s", &poll(1, Some(&a), None)).unwrap();
            assert!(store.in_batch());
            store.commit_batch().unwrap();
            assert!(!store.in_batch());
            store.begin_batch().unwrap();
            store.record_poll("s", &poll(2, Some(&b), None)).unwrap();
            assert_eq!(ids(&store), ["b", "a"], "the batch sees its own writes");
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(ids(&store), ["a"], "the uncommitted poll is gone");
    }

    #[test]
    fn a_batch_is_committed_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let a = [item("a", Some(1), 1)];
        let failed: anyhow::Result<()> = store.batch(|store| {
            store.record_poll("s", &poll(1, Some(&a), None))?;
            anyhow::bail!("the disk is full")
        });
        assert!(failed.is_err());
        assert!(
            ids(&store).is_empty(),
            "a failed batch keeps none of its polls"
        );
        assert_eq!(store.source_state("s").unwrap().last_success, None);

        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.batch(|store| -> anyhow::Result<()> {
                store.record_poll("s", &poll(1, Some(&a), None))?;
                panic!("a bug")
            })
        }));
        assert!(panicked.is_err());
        assert!(
            store.conn.is_autocommit(),
            "no transaction is left open by a panic"
        );
        assert!(ids(&store).is_empty());

        // Inside a batch, an isolated recording that fails undoes itself alone.
        let kept = store
            .batch(|store| {
                let failed = store.isolated(|store| -> anyhow::Result<()> {
                    store.record_poll("s", &poll(1, Some(&a), None))?;
                    anyhow::bail!("the disk is full")
                });
                let other = [item("o", Some(1), 1)];
                store.isolated(|store| store.record_poll("t", &poll(1, Some(&other), None)))?;
                Ok(failed.is_err())
            })
            .unwrap();
        assert!(kept);
        assert!(ids(&store).is_empty(), "the failed recording left nothing");
        assert_eq!(
            store.source_state("t").unwrap().items,
            1,
            "the other was kept"
        );

        // When SQLite itself undoes the transaction (a full disk), the recording's own
        // error is kept and the batch is known to be over.
        let undone: anyhow::Result<()> = store.batch(|store| {
            let failed = store.isolated(|store| -> anyhow::Result<()> {
                store.record_poll("s", &poll(1, Some(&a), None))?;
                store.conn.execute_batch("ROLLBACK")?;
                anyhow::bail!("the disk is full")
            });
            assert_eq!(failed.unwrap_err().to_string(), "the disk is full");
            assert!(!store.in_batch());
            anyhow::bail!("the batch is over")
        });
        assert!(undone.is_err());
        assert!(store.conn.is_autocommit());
        assert!(ids(&store).is_empty());

        let b = [item("b", Some(2), 2)];
        store
            .batch(|store| {
                store.record_poll("s", &poll(1, Some(&a), None))?;
                store.record_poll("s", &poll(2, Some(&b), None))
            })
            .unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(ids(&store), ["b", "a"]);
    }

    #[test]
    fn items_tied_on_date_come_out_by_source_then_id() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let tied = |source: &str, id: &str| Item {
            source: source.into(),
            ..item(id, Some(1), 1)
        };
        store
            .record_poll("t", &poll(1, Some(&[tied("t", "a"), tied("t", "c")]), None))
            .unwrap();
        store
            .record_poll("s", &poll(1, Some(&[tied("s", "d"), tied("s", "b")]), None))
            .unwrap();
        // Down the date index, and sorted by key.
        for few in [0, FEW_ROWS] {
            let mut order = Vec::new();
            store
                .scan_with(&["s".into(), "t".into()], None, few, |i| {
                    order.push(format!("{}/{}", i.source, i.id));
                    ControlFlow::Continue(())
                })
                .unwrap();
            assert_eq!(order, ["s/b", "s/d", "t/a", "t/c"], "few = {few}");
        }
    }

    #[test]
    fn changed_content_updates_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .record_poll("s", &poll(1, Some(&[item("a", Some(1), 1)]), None))
            .unwrap();
        let mut changed = item("a", Some(1), 3);
        changed.title = Some("a better title".into());
        let changes = store
            .record_poll("s", &poll(3, Some(&[changed.clone()]), None))
            .unwrap();
        assert_eq!(changes.updated, 1);
        let stored = stored(&store).remove(0);
        assert_eq!(stored.title.as_deref(), Some("a better title"));
        assert_eq!(stored.first_seen, at(1));
        assert_eq!(stored.updated, Some(at(3)));
        // Seeing the same changed version again is not another change.
        let changes = store
            .record_poll("s", &poll(4, Some(&[changed]), None))
            .unwrap();
        assert_eq!(changes, Changes::default());
    }

    #[test]
    fn an_item_an_older_build_hashed_is_unchanged_and_rehashed_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let (a, b) = (item("a", Some(1), 1), item("b", Some(1), 1));
        store
            .record_poll("s", &poll(1, Some(&[a.clone(), b.clone()]), None))
            .unwrap();
        // As an older build left them: SHA-256 hashes.
        for it in [&a, &b] {
            store
                .conn
                .execute(
                    "UPDATE items SET hash = ?2 WHERE id = ?1",
                    params![it.id, sha256_as_before(it).unwrap()],
                )
                .unwrap();
        }
        let hashes = |store: &Store| -> Vec<i64> {
            let mut stmt = store
                .conn
                .prepare("SELECT length(hash) FROM items ORDER BY id")
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(hashes(&store), [32, 32]);
        let mut edited = item("b", Some(1), 2);
        edited.title = Some("edited".into());
        let changes = store
            .record_poll("s", &poll(2, Some(&[item("a", Some(1), 2), edited]), None))
            .unwrap();
        assert_eq!(changes.updated, 1, "only the edited item changed");
        assert_eq!(changes.new, 0);
        assert_eq!(hashes(&store), [16, 16], "both carry this build's hash now");
        let changes = store
            .record_poll("s", &poll(3, Some(&[item("a", Some(1), 3)]), None))
            .unwrap();
        assert_eq!(changes, Changes::default());
    }

    /// `item(id)` as a poll keeps it: `content` as the source gave it, relative to
    /// `https://example.org/dir/`.
    fn raw_item(id: &str, content: &str, seen: u32) -> Item {
        Item {
            content: Some(content.into()),
            raw: Some(crate::model::Raw {
                base: Some("https://example.org/dir/".into()),
            }),
            ..item(id, Some(1), seen)
        }
    }

    fn hash_len(store: &Store, id: &str) -> i64 {
        store
            .conn
            .query_row("SELECT length(hash) FROM items WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap()
    }

    /// An item kept raw is stored so, with a hash that says so, and read back sanitised by
    /// every way items are read; listed again as it was, it is unchanged.
    #[test]
    fn raw_html_is_stored_as_given_and_read_back_sanitised() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let html = r#"<p onclick="x()">A <a href="b">b</a><script>1</script></p>"#;
        let listing = [raw_item("a", html, 1)];
        let changes = store
            .record_poll("s", &poll(1, Some(&listing), None))
            .unwrap();
        assert_eq!(changes.new, 1);
        let data: String = (store.conn)
            .query_row("SELECT data FROM items", [], |r| r.get(0))
            .unwrap();
        assert!(data.contains("onclick"), "{data}");
        assert!(
            data.contains(r#""raw":{"base":"https://example.org/dir/"}"#),
            "{data}"
        );
        assert_eq!(hash_len(&store, "a"), 17);
        let sanitised = Item {
            content: Some(r#"<p>A <a href="https://example.org/dir/b">b</a></p>"#.into()),
            ..item("a", Some(1), 1)
        };
        assert_eq!(stored(&store), std::slice::from_ref(&sanitised));
        assert_eq!(store.item("s", "a").unwrap(), Some(sanitised));
        let again = [raw_item("a", html, 2)];
        let changes = store
            .record_poll("s", &poll(2, Some(&again), None))
            .unwrap();
        assert_eq!(changes, Changes::default());
    }

    /// A raw listing is compared as sanitised when its hash differs: with an item stored
    /// sanitised (by an older build, or while the source had full text), and with one whose
    /// HTML changed only where sanitising drops it. Neither is an update, even when the store
    /// had dated the item's last change itself.
    #[test]
    fn raw_html_that_sanitises_as_stored_is_no_update() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let sanitised = Item {
            content: Some(r#"<p>A <a href="https://example.org/dir/b">b</a></p>"#.into()),
            ..item("a", Some(1), 1)
        };
        store
            .record_poll("s", &poll(1, Some(&[sanitised]), None))
            .unwrap();
        assert_eq!(hash_len(&store, "a"), 16);
        let listed = |html: &str, day: u32| [raw_item("a", html, day)];
        let record = |store: &mut Store, html: &str, day: u32| {
            let listing = listed(html, day);
            store
                .record_poll("s", &poll(day, Some(&listing), None))
                .unwrap()
        };
        let same = r#"<p>A <a href="b">b</a><script>1</script></p>"#;
        assert_eq!(record(&mut store, same, 2), Changes::default());
        assert_eq!(hash_len(&store, "a"), 17, "rehashed: it holds no article");
        assert_eq!(record(&mut store, same, 3), Changes::default());
        let edited = r#"<p>A <a href="c">c</a><script>3</script></p>"#;
        assert_eq!(record(&mut store, edited, 4).updated, 1);
        assert_eq!(hash_len(&store, "a"), 17, "stored raw since");
        let now = stored(&store);
        assert_eq!(now[0].updated, Some(at(4)), "dated by the store");
        assert_eq!(now[0].first_seen, at(1));
        for (script, day) in [("2", 5), ("4", 6)] {
            let rescripted = format!(r#"<p>A <a href="c">c</a><script>{script}</script></p>"#);
            assert_eq!(record(&mut store, &rescripted, day), Changes::default());
            assert_eq!(stored(&store), now);
        }
        let edited = r#"<p>A <a href="d">d</a></p>"#;
        assert_eq!(record(&mut store, edited, 7).updated, 1);
        assert_eq!(
            stored(&store)[0].content.as_deref(),
            Some(r#"<p>A <a href="https://example.org/dir/d">d</a></p>"#)
        );
    }

    /// A base that changes only in its query (a signed feed URL, on every poll) is no
    /// change; a base that moves the item's relative links is.
    #[test]
    fn raw_html_under_another_base_is_unchanged_unless_its_links_move() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let html = r#"<p><a href="b">b</a></p>"#;
        let listing = [raw_item("a", html, 1)];
        store
            .record_poll("s", &poll(1, Some(&listing), None))
            .unwrap();
        // The same item listed on `day` under `base`.
        let under = |store: &mut Store, base: &str, day| {
            let moved = [Item {
                raw: Some(crate::model::Raw {
                    base: Some(base.into()),
                }),
                ..raw_item("a", html, day)
            }];
            store
                .record_poll("s", &poll(day, Some(&moved), None))
                .unwrap()
        };
        assert_eq!(
            under(&mut store, "https://example.org/dir/?sig=2", 2),
            Changes::default()
        );
        assert_eq!(
            stored(&store)[0].content.as_deref(),
            Some(r#"<p><a href="https://example.org/dir/b">b</a></p>"#)
        );
        assert_eq!(under(&mut store, "https://example.net/dir/", 3).updated, 1);
        assert_eq!(
            stored(&store)[0].content.as_deref(),
            Some(r#"<p><a href="https://example.net/dir/b">b</a></p>"#)
        );
    }

    /// An item the store dated itself (its source gives no dates) keeps its article, and
    /// is not updated, when full text is turned on and off; one whose content changed while
    /// full text was off gets its article back when it is turned on again.
    #[test]
    fn an_item_keeps_its_article_through_full_text_turned_on_and_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let undated = |html: &str| Item {
            published: None,
            ..raw_item("a", html, 1)
        };
        let sanitised = |html: &str| {
            let mut item = undated(html);
            crate::source::normalise::finish(&mut item);
            item
        };
        let record = |store: &mut Store, item: Item, full_text: bool, day: u32| {
            let listing = [item];
            let poll = Poll {
                full_text,
                ..poll(day, Some(&listing), None)
            };
            store.record_listing("s", &poll).unwrap()
        };
        let wanted = Wanted {
            id: "a".into(),
            link: "https://example.org/a".into(),
        };
        let (first, edited) = ("<p>first</p>", "<p>edited</p>");
        record(&mut store, undated(first), false, 1);
        assert_eq!(
            record(&mut store, undated(edited), false, 2)
                .changes
                .updated,
            1
        );
        assert_eq!(stored(&store)[0].updated, Some(at(2)), "dated by the store");
        let on = record(&mut store, sanitised(edited), true, 3);
        assert_eq!(
            (on.changes, on.wanted),
            (Changes::default(), vec![wanted.clone()])
        );
        store
            .record_article("s", &wanted, at(3), Ok("<p>the whole story</p>"))
            .unwrap();
        let story = Some("<p>the whole story</p>");
        for (full_text, day) in [(true, 4), (false, 5), (true, 6)] {
            let item = match full_text {
                true => sanitised(edited),
                false => undated(edited),
            };
            let again = record(&mut store, item, full_text, day);
            assert_eq!(again.changes, Changes::default(), "day {day}");
            assert!(again.wanted.is_empty());
            let item = &stored(&store)[0];
            assert_eq!(
                (item.content.as_deref(), item.updated),
                (story, Some(at(2)))
            );
        }
        // Changed while full text is off: the source's content; on again, the article.
        assert_eq!(
            record(&mut store, undated(first), false, 7).changes.updated,
            1
        );
        assert_eq!(stored(&store)[0].content.as_deref(), Some(first));
        // A change only in what sanitising drops leaves it so.
        let scripted = undated("<p>first</p><script>1</script>");
        assert_eq!(
            record(&mut store, scripted, false, 7).changes,
            Changes::default()
        );
        assert_eq!(stored(&store)[0].content.as_deref(), Some(first));
        let on = record(&mut store, sanitised(first), true, 8);
        assert_eq!(on.changes.updated, 1, "its feeds show the article again");
        assert_eq!(stored(&store)[0].content.as_deref(), story);
    }

    /// Full text turned on, off and on again changes no item: an article is kept under the
    /// hash of the item's HTML sanitised, which a raw listing of it matches.
    #[test]
    fn full_text_turned_off_and_on_again_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let raw = || {
            [raw_item(
                "a",
                r#"<p><a href="b">b</a><script>1</script></p>"#,
                1,
            )]
        };
        let sanitised = || {
            let mut item = raw()[0].clone();
            crate::source::normalise::finish(&mut item);
            [item]
        };
        fn with_full_text(listing: &[Item]) -> Poll<'_> {
            Poll {
                full_text: true,
                ..poll(1, Some(listing), None)
            }
        }
        let sanitised = sanitised();
        let wanted = Wanted {
            id: "a".into(),
            link: "https://example.org/a".into(),
        };
        // Off: stored raw; on, and its article comes.
        store
            .record_poll("s", &poll(1, Some(&raw()), None))
            .unwrap();
        let on = store
            .record_listing("s", &with_full_text(&sanitised))
            .unwrap();
        assert_eq!(on.changes, Changes::default());
        assert_eq!(on.wanted, std::slice::from_ref(&wanted));
        store
            .record_article("s", &wanted, at(1), Ok("<p>the whole story</p>"))
            .unwrap();
        for _ in 0..2 {
            // Off, then on.
            let off = store
                .record_poll("s", &poll(1, Some(&raw()), None))
                .unwrap();
            assert_eq!(off, Changes::default());
            let on = store
                .record_listing("s", &with_full_text(&sanitised))
                .unwrap();
            assert_eq!(on.changes, Changes::default());
            assert!(on.wanted.is_empty());
        }
        let item = &stored(&store)[0];
        assert_eq!(item.content.as_deref(), Some("<p>the whole story</p>"));
        assert_eq!(item.updated, None);
    }

    /// An article put into an item stored raw goes in beside its summary sanitised.
    #[test]
    fn an_article_in_a_raw_item_comes_with_its_summary_sanitised() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let listing = [Item {
            summary: Some(r#"<p onclick="x()">teaser</p>"#.into()),
            ..raw_item("a", "<p>b</p>", 1)
        }];
        store
            .record_poll("s", &poll(1, Some(&listing), None))
            .unwrap();
        let wanted = Wanted {
            id: "a".into(),
            link: "https://example.org/a".into(),
        };
        store
            .record_article("s", &wanted, at(1), Ok("<p>the whole story</p>"))
            .unwrap();
        let data: String = (store.conn)
            .query_row("SELECT data FROM items", [], |r| r.get(0))
            .unwrap();
        assert!(!data.contains("raw") && !data.contains("onclick"), "{data}");
        assert_eq!(hash_len(&store, "a"), 16, "the hash of the item sanitised");
        let again = store.record_poll("s", &poll(2, Some(&listing), None));
        assert_eq!(again.unwrap(), Changes::default());
        let item = &stored(&store)[0];
        assert_eq!(item.summary.as_deref(), Some("<p>teaser</p>"));
        assert_eq!(item.content.as_deref(), Some("<p>the whole story</p>"));
    }

    #[test]
    fn an_edited_undated_item_keeps_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .record_poll("s", &poll(1, Some(&[item("a", None, 1)]), None))
            .unwrap();
        let mut edited = item("a", None, 5);
        edited.summary = Some("now with a summary".into());
        store
            .record_poll("s", &poll(5, Some(&[edited]), None))
            .unwrap();
        let stored = stored(&store).remove(0);
        assert_eq!(stored.updated, Some(at(5)), "the edit is dated");
        assert_eq!(stored.date(), at(1), "but the item stays where it was");
        let mut recent = 0;
        store
            .scan(&["s".into()], Some(at(2)), |_| {
                recent += 1;
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(recent, 0, "its sort date did not move either");
    }

    #[test]
    fn dropped_items_stay_until_retention_but_the_newest_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let old = [
            item("old1", Some(1), 1),
            item("old2", Some(2), 1),
            item("old3", Some(3), 1),
        ];
        store.record_poll("s", &poll(3, Some(&old), None)).unwrap();
        // The source stops listing them; within the retention period they stay.
        store.record_poll("s", &poll(8, Some(&[]), None)).unwrap();
        assert_eq!(ids(&store), ["old3", "old2", "old1"]);
        // Past retention, only the newest `keep_newest` (2) survive.
        let changes = store.record_poll("s", &poll(20, Some(&[]), None)).unwrap();
        assert_eq!(changes.removed, 1);
        assert_eq!(ids(&store), ["old3", "old2"]);
    }

    #[test]
    fn retention_runs_at_most_once_a_tenth_of_retain() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let all: Vec<Item> = (1..=5)
            .map(|d| item(&format!("i{d}"), Some(d), 1))
            .collect();
        let pruned = |store: &Store| -> Option<i64> {
            let sql = "SELECT pruned FROM sources WHERE name = 's'";
            store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
        };
        store.record_poll("s", &poll(1, Some(&all), None)).unwrap();
        // A first poll counts as retention run: it could remove nothing.
        assert_eq!(pruned(&store), Some(at(1).timestamp()));
        let newest = [item("i5", Some(5), 5)];
        // Retention runs, with nothing old enough yet (retain is 10 days).
        let changes = store
            .record_poll("s", &poll(11, Some(&newest), None))
            .unwrap();
        assert_eq!(changes.removed, 0);
        assert_eq!(pruned(&store), Some(at(11).timestamp()));
        // Two hours later i1..i3 have aged out, but retention ran less than a day ago.
        let mut later = poll(11, Some(&newest), None);
        later.now += chrono::Duration::hours(2);
        assert_eq!(store.record_poll("s", &later).unwrap().removed, 0);
        assert_eq!(pruned(&store), Some(at(11).timestamp()));
        // Nor does a 304, which changes no listing, count as retention run.
        let mut not_modified = poll(11, None, None);
        not_modified.now += chrono::Duration::hours(3);
        store.record_poll("s", &not_modified).unwrap();
        assert_eq!(pruned(&store), Some(at(11).timestamp()));
        assert_eq!(ids(&store).len(), 5);
        // A day after it last ran, it runs again; the newest two stay.
        let changes = store
            .record_poll("s", &poll(12, Some(&newest), None))
            .unwrap();
        assert_eq!(changes.removed, 3);
        assert_eq!(ids(&store), ["i5", "i4"]);
    }

    #[test]
    fn not_modified_keeps_listed_items_from_ageing_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let listed = [
            item("a", Some(1), 1),
            item("b", Some(2), 1),
            item("c", Some(3), 1),
        ];
        store
            .record_poll("s", &poll(1, Some(&listed[..]), None))
            .unwrap();
        store
            .record_poll("s", &poll(2, Some(&listed[1..]), None))
            .unwrap();
        // Then 304 after 304, for longer than retention (10 days).
        for day in [8, 15, 22] {
            store.record_poll("s", &poll(day, None, None)).unwrap();
        }
        // "a" was dropped at day 2 and is past retention; "b" and "c" are still listed.
        // With keep_newest at 0, only their being listed keeps them. A 304 lists nothing
        // new, so "a" waits for the next listing to go.
        let mut p = poll(23, None, None);
        p.keep_newest = 0;
        store.record_poll("s", &p).unwrap();
        assert_eq!(ids(&store), ["c", "b", "a"]);
        let mut p = poll(24, Some(&listed[1..]), None);
        p.keep_newest = 0;
        assert_eq!(store.record_poll("s", &p).unwrap().removed, 1);
        assert_eq!(ids(&store), ["c", "b"]);
    }

    #[test]
    fn a_warning_is_kept_as_the_last_error_without_counting_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut p = poll(1, Some(&[]), None);
        p.warning = Some("malformed XML at line 9");
        store.record_poll("s", &p).unwrap();
        let state = store.source_state("s").unwrap();
        assert_eq!(state.last_error.as_deref(), Some("malformed XML at line 9"));
        assert_eq!(state.failures, 0);
        store.record_poll("s", &poll(2, Some(&[]), None)).unwrap();
        assert_eq!(store.source_state("s").unwrap().last_error, None);
    }

    /// SQLite's plan for `sql` (a scan of source "s" from time 0), one line per step.
    fn query_plan(store: &Store, sql: &str) -> Vec<String> {
        store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(params!["[\"s\"]", 0], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn publishing_walks_the_date_index_sorting_only_ties() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let plan = query_plan(&store, SCAN_SQL);
        assert!(plan.iter().any(|l| l.contains("items_by_date")), "{plan:?}");
        // Only rows tied on the indexed terms are sorted: rows stream out in date order.
        let sorts: Vec<_> = plan.iter().filter(|l| l.contains("TEMP B-TREE")).collect();
        assert!(
            sorts.iter().all(|l| l.contains("LAST TERM OF ORDER BY")),
            "{plan:?}"
        );
        let few = query_plan(&store, FEW_SQL);
        assert!(
            few.iter()
                .any(|l| l.contains("SEARCH items USING INDEX sqlite_autoindex_items_1")),
            "a few sources' rows are found by their key: {few:?}"
        );
    }

    #[test]
    fn failures_count_up_and_keep_items_and_validators() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let validators = Validators {
            etag: Some("\"v1\"".into()),
            last_modified: Some("Thu, 01 Jan 2026 00:00:00 GMT".into()),
            digest: Some(vec![7; 32]),
        };
        store
            .record_poll(
                "s",
                &poll(1, Some(&[item("a", Some(1), 1)]), Some(&validators)),
            )
            .unwrap();
        let failure = |day, status, error| Failure {
            url: "https://example.org/s",
            now: at(day),
            status,
            error,
            retry_at: None,
            gone_url: None,
        };
        store
            .record_failure("s", &failure(2, Some(500), "HTTP 500"))
            .unwrap();
        store
            .record_failure("s", &failure(3, None, "timed out"))
            .unwrap();
        let state = store.source_state("s").unwrap();
        assert_eq!(state.failures, 2);
        assert_eq!(state.last_error.as_deref(), Some("timed out"));
        assert_eq!(state.validators, validators);
        assert_eq!(state.items, 1);
        assert_eq!(state.last_success, Some(at(1)));
        // What polling reads: the same state, items not counted.
        let uncounted = store.source_states_uncounted().unwrap().remove(0);
        assert_eq!(
            uncounted,
            SourceState {
                items: 0,
                ..state.clone()
            }
        );

        // A 304 keeps the validators and items and clears the error.
        store.record_poll("s", &poll(4, None, None)).unwrap();
        let state = store.source_state("s").unwrap();
        assert_eq!((state.failures, state.last_error), (0, None));
        assert_eq!(state.validators, validators);
        assert_eq!(state.last_success, Some(at(4)));
        assert_eq!(ids(&store), ["a"]);
    }

    #[test]
    fn what_servers_asked_of_the_scheduler_is_kept_until_a_success() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let busy = Failure {
            url: "https://example.org/s",
            now: at(1),
            status: Some(429),
            error: "HTTP 429",
            retry_at: Some(at(2)),
            gone_url: None,
        };
        store.record_failure("s", &busy).unwrap();
        let gone = Failure {
            url: "https://example.org/feed",
            now: at(3),
            status: Some(410),
            error: "HTTP 410",
            retry_at: None,
            gone_url: Some("https://example.org/feed"),
        };
        store.record_failure("t", &gone).unwrap();
        drop(store);
        // Kept across a restart.
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(store.source_state("s").unwrap().retry_at, Some(at(2)));
        let t = store.source_state("t").unwrap();
        assert_eq!(t.gone_url.as_deref(), Some("https://example.org/feed"));
        assert_eq!(t.failures, 1);

        let moved = Poll {
            fresh_until: Some(at(5)),
            moved_to: Some("https://example.org/new"),
            ..poll(4, None, None)
        };
        store.record_poll("s", &moved).unwrap();
        store.record_poll("t", &moved).unwrap();
        for name in ["s", "t"] {
            let state = store.source_state(name).unwrap();
            assert_eq!((state.retry_at, state.gone_url), (None, None), "{name}");
            assert_eq!(state.fresh_until, Some(at(5)));
            assert_eq!(state.moved_to.as_deref(), Some("https://example.org/new"));
        }
        // A later poll without a move or max-age clears both.
        store.record_poll("s", &poll(6, None, None)).unwrap();
        let state = store.source_state("s").unwrap();
        assert_eq!((state.fresh_until, state.moved_to), (None, None));
    }

    #[test]
    fn a_new_url_starts_back_off_afresh_and_gets_no_old_validators() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let validators = Validators {
            etag: Some("\"v1\"".into()),
            last_modified: None,
            digest: Some(vec![7; 32]),
        };
        store
            .record_poll("s", &poll(1, Some(&[]), Some(&validators)))
            .unwrap();
        let old = "https://example.org/s";
        assert_eq!(store.validators("s", old).unwrap(), validators);
        let new = "https://example.org/moved";
        assert_eq!(store.validators("s", new).unwrap(), Validators::default());
        let failure = |url, gone_url| Failure {
            url,
            now: at(2),
            status: Some(404),
            error: "HTTP 404",
            retry_at: None,
            gone_url,
        };
        for _ in 0..3 {
            store.record_failure("s", &failure(old, None)).unwrap();
        }
        assert_eq!(store.source_state("s").unwrap().failures, 3);
        store.record_failure("s", &failure(new, None)).unwrap();
        let state = store.source_state("s").unwrap();
        assert_eq!(state.failures, 1);
        assert!(state.is_for(&url::Url::parse(new).unwrap()));
        // A 410 outlasts a later failure of another kind; only a success clears it.
        store.record_failure("s", &failure(new, Some(new))).unwrap();
        store.record_failure("s", &failure(new, None)).unwrap();
        assert_eq!(
            store.source_state("s").unwrap().gone_url.as_deref(),
            Some(new)
        );
    }

    #[test]
    fn scan_is_newest_first_since_a_date_and_stops_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let items = [
            item("a", Some(1), 5),
            item("b", Some(3), 5),
            item("c", None, 5),
        ];
        store
            .record_poll("s", &poll(5, Some(&items), None))
            .unwrap();
        store
            .record_poll("other", &poll(5, Some(&[item("x", Some(4), 5)]), None))
            .unwrap();
        assert_eq!(ids(&store), ["c", "b", "a"]);
        // Down the date index, and sorted by key.
        for few in [0, FEW_ROWS] {
            let mut recent = Vec::new();
            store
                .scan_with(&["s".into(), "other".into()], Some(at(3)), few, |i| {
                    recent.push(i.id);
                    ControlFlow::Continue(())
                })
                .unwrap();
            assert_eq!(recent, ["c", "x", "b"], "few = {few}");
            let mut first = Vec::new();
            store
                .scan_with(&["s".into()], None, few, |i| {
                    first.push(i.id);
                    ControlFlow::Break(())
                })
                .unwrap();
            assert_eq!(first, ["c"], "few = {few}");
            // Each item names its source; rows of one source in a row share one name.
            let mut names: Vec<Arc<str>> = Vec::new();
            store
                .scan_with(&["s".into(), "other".into()], None, few, |i| {
                    names.push(i.source);
                    ControlFlow::Continue(())
                })
                .unwrap();
            let read: Vec<&str> = names.iter().map(|n| &**n).collect();
            assert_eq!(
                read,
                ["c", "x", "b", "a"].map(|id| if id == "x" { "other" } else { "s" })
            );
            assert!(Arc::ptr_eq(&names[2], &names[3]), "few = {few}");
        }
    }

    /// Records poll `n`: 20 items of 2 KB.
    fn record_big(store: &mut Store, n: u32) {
        let items: Vec<Item> = (0..20)
            .map(|i| Item {
                content: Some("x".repeat(2000)),
                ..item(&format!("{n}-{i}"), Some(n % 28 + 1), 1)
            })
            .collect();
        store
            .record_poll(&format!("s{}", n % 7), &poll(1, Some(&items), None))
            .unwrap();
    }

    /// A bulk writer on a new store in `dir` that has committed one batch and holds the
    /// next open.
    fn mid_batch(dir: &Path) -> Store {
        let mut store = Store::open(dir).unwrap();
        store.write_in_bulk().unwrap();
        commit_big(&mut store, 0);
        store.begin_batch().unwrap();
        record_big(&mut store, 1);
        store
    }

    /// Records poll `n` in a transaction of its own, as `once` commits polls.
    fn commit_big(store: &mut Store, n: u32) {
        store.begin_batch().unwrap();
        record_big(store, n);
        store.commit_batch().unwrap();
    }

    /// Commits `batches` transactions of one [`record_big`] each, as `once` does; the
    /// frames in the log after each.
    fn write_batches(store: &mut Store, batches: std::ops::Range<u32>) -> Vec<i64> {
        let mut frames = Vec::new();
        for n in batches {
            commit_big(store, n);
            frames.push(counts(store).frames.load(Ordering::Relaxed));
        }
        frames
    }

    fn item_count(store: &Store) -> i64 {
        store
            .conn
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
            .unwrap()
    }

    /// Whether the database file says WAL (its header's read and write versions are 2).
    fn file_says_wal(dir: &Path) -> bool {
        let header = std::fs::read(dir.join(FILE_NAME)).unwrap();
        match header[18..20] {
            [2, 2] => true,
            [1, 1] => false,
            _ => panic!("bad header {:?}", &header[18..20]),
        }
    }

    #[test]
    fn alone_a_writer_uses_a_rollback_journal_and_leaves_the_store_on_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.write_in_bulk().unwrap();
        assert_eq!(store.journal, Journal::Alone);
        assert!(!file_says_wal(dir.path()));
        assert_eq!(sync_level(&store), 3, "EXTRA");
        for n in 0..10 {
            commit_big(&mut store, n);
        }
        assert!(!dir.path().join(format!("{FILE_NAME}-wal")).exists());
        drop(store);
        assert!(file_says_wal(dir.path()));
        let store = Store::open(dir.path()).unwrap();
        assert_eq!((store.journal, item_count(&store)), (Journal::Wal, 200));
    }

    #[test]
    fn through_the_rollback_journal_the_file_is_synced_between_commits_until_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.write_in_bulk().unwrap();
        assert_eq!(store.journal, Journal::Alone);
        let flusher = store.flusher.as_ref().expect("a flusher");
        let (syncs, file) = (flusher.syncs.clone(), flusher.file.clone());
        // Never closed (see `kept_open`): the next flusher of this store syncs it too.
        assert!(Arc::ptr_eq(&file, &kept_open(&store.path).unwrap()));
        let named = std::fs::metadata(&store.path).unwrap();
        assert!(
            same_file(&file.metadata().unwrap(), &named),
            "not the store's file"
        );
        store.begin_batch().unwrap();
        record_big(&mut store, 0);
        let waited = std::time::Instant::now();
        while syncs.load(Ordering::Relaxed) < 2 {
            assert!(waited.elapsed() < Duration::from_secs(30), "no sync");
            std::thread::sleep(FLUSH_EVERY / 4);
        }
        // A commit holds the thread off from its check to its end.
        let held = store.synced_so_far().unwrap();
        let before = syncs.load(Ordering::Relaxed);
        std::thread::sleep(FLUSH_EVERY * 3);
        assert_eq!(
            syncs.load(Ordering::Relaxed),
            before,
            "synced beside a commit"
        );
        drop(held);
        store.commit_batch().unwrap();
        drop(store);
        assert_eq!(
            Arc::strong_count(&syncs),
            1,
            "the thread outlived the store"
        );
        assert_eq!(
            Arc::strong_count(&file),
            2,
            "kept open, and by nothing else"
        );
        assert_eq!(item_count(&Store::open(dir.path()).unwrap()), 20);
        // A file put where the kept one was is another, and gets a descriptor of its own.
        std::fs::remove_file(dir.path().join(FILE_NAME)).unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.write_in_bulk().unwrap();
        let flusher = store.flusher.as_ref().expect("a flusher");
        assert!(!Arc::ptr_eq(&file, &flusher.file));
    }

    #[test]
    fn after_a_failed_sync_a_commit_fails_and_undoes_its_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = mid_batch(dir.path());
        let flusher = store.flusher.as_ref().expect("a flusher");
        *flusher.failed.lock().unwrap() = Some("Input/output error".into());
        let err = store.commit_batch().unwrap_err();
        assert!(format!("{err:#}").contains("Input/output error"), "{err:#}");
        assert!(!store.in_batch());
        assert_eq!(item_count(&store), 20);
        // A poll recorded in a transaction of its own fails too.
        let items = [item("late", Some(1), 1)];
        assert!(
            store
                .record_poll("s", &poll(1, Some(&items), None))
                .is_err()
        );
        assert_eq!(item_count(&store), 20);
        // And so does a failure recorded outside a batch.
        let failure = Failure {
            url: "https://example.org/f",
            now: at(1),
            status: Some(500),
            error: "HTTP 500",
            retry_at: None,
            gone_url: None,
        };
        assert!(store.record_failure("f", &failure).is_err());
        assert_eq!(store.source_state("f").unwrap().failures, 0);
    }

    /// [`Store::write_in_bulk`] on `store` keeps the log, copied aside, through `batches`.
    fn bulk_keeps_the_log(store: &mut Store, dir: &Path, batches: std::ops::Range<u32>) {
        store.write_in_bulk().unwrap();
        assert_eq!(store.journal, Journal::Wal);
        assert!(store.checkpointer.is_some());
        assert!(store.flusher.is_none(), "the log's commits do not sync");
        write_batches(store, batches);
        assert!(file_says_wal(dir));
    }

    #[test]
    fn into_a_store_that_holds_items_a_bulk_writer_keeps_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        commit_big(&mut store, 0);
        drop(store);
        let mut store = Store::open(dir.path()).unwrap();
        bulk_keeps_the_log(&mut store, dir.path(), 1..3);
        assert_eq!(item_count(&store), 60);
    }

    #[test]
    fn beside_another_connection_a_writer_keeps_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let other = Store::open(dir.path()).unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        bulk_keeps_the_log(&mut store, dir.path(), 0..3);
        assert_eq!(item_count(&other), 60);
    }

    #[test]
    fn a_store_opened_meanwhile_follows_the_rollback_journal_then_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut alone = mid_batch(dir.path());
        // Opened mid-transaction: no wait for the busy timeout, and the last commit read.
        let started = std::time::Instant::now();
        let mut other = Store::open(dir.path()).unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(
            (other.journal, item_count(&other)),
            (Journal::Following, 20)
        );
        alone.commit_batch().unwrap();
        // Dropped while the other is in a transaction, the writer cannot switch back...
        other.conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        drop(alone);
        assert!(!file_says_wal(dir.path()));
        other.conn.execute_batch("COMMIT").unwrap();
        // ...and the other does at its next batch.
        commit_big(&mut other, 2);
        assert!(file_says_wal(dir.path()));
        assert_eq!((other.journal, item_count(&other)), (Journal::Wal, 60));
    }

    fn sync_level(store: &Store) -> i64 {
        store
            .conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_store_opened_between_two_transactions_takes_the_bulk_writer_back_to_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut bulk = Store::open(dir.path()).unwrap();
        bulk.write_in_bulk().unwrap();
        assert!(bulk.flusher.is_some());
        commit_big(&mut bulk, 0);
        let other = Store::open(dir.path()).unwrap();
        assert_eq!(other.journal, Journal::Wal);
        assert!(file_says_wal(dir.path()));
        // The writer follows at its next batch, with the log's sync level and copy aside.
        commit_big(&mut bulk, 1);
        assert_eq!(bulk.journal, Journal::Wal);
        assert_eq!(sync_level(&bulk), 1, "NORMAL");
        assert!(bulk.checkpointer.is_some());
        assert!(bulk.flusher.is_none());
        assert!(dir.path().join(format!("{FILE_NAME}-wal")).exists());
        assert_eq!(item_count(&other), 40);
    }

    #[test]
    fn dropped_mid_batch_the_bulk_writer_undoes_it_and_leaves_the_log() {
        let dir = tempfile::tempdir().unwrap();
        drop(mid_batch(dir.path()));
        assert!(file_says_wal(dir.path()));
        assert_eq!(item_count(&Store::open(dir.path()).unwrap()), 20);
    }

    /// A read of the store in `dir` on a thread, begun when this returns and ended `after`.
    fn hold_a_read(dir: &Path, after: Duration) -> std::thread::JoinHandle<()> {
        let reader = Connection::open(dir.join(FILE_NAME)).unwrap();
        let (reading, read) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            reader.execute_batch("BEGIN").unwrap();
            let _: i64 = reader
                .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
                .unwrap();
            reading.send(()).unwrap();
            std::thread::sleep(after);
            reader.execute_batch("COMMIT").unwrap();
        });
        read.recv().unwrap();
        thread
    }

    #[test]
    fn through_the_rollback_journal_a_commit_outwaits_a_long_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.write_in_bulk().unwrap();
        store.conn.busy_timeout(Duration::from_millis(200)).unwrap();
        commit_big(&mut store, 0);
        // Reads that last past one busy timeout, not past all the tries: a batch's commit...
        let reading = hold_a_read(dir.path(), Duration::from_millis(350));
        store.begin_batch().unwrap();
        record_big(&mut store, 1);
        store.commit_batch().unwrap();
        reading.join().unwrap();
        // ...and a recording's own.
        let reading = hold_a_read(dir.path(), Duration::from_millis(350));
        record_big(&mut store, 2);
        reading.join().unwrap();
        assert_eq!(item_count(&store), 60);
    }

    #[test]
    fn a_crash_through_the_rollback_journal_loses_the_open_transaction_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.write_in_bulk().unwrap();
        // A small page cache, so that the open transaction writes into the database.
        store.conn.pragma_update(None, "cache_size", 8).unwrap();
        for n in 0..5 {
            commit_big(&mut store, n);
        }
        let committed = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
        store.begin_batch().unwrap();
        for n in 5..15 {
            record_big(&mut store, n);
        }
        // The files as a crash now would leave them.
        let crashed = tempfile::tempdir().unwrap();
        for name in [FILE_NAME.to_string(), format!("{FILE_NAME}-journal")] {
            std::fs::copy(dir.path().join(&name), crashed.path().join(&name)).unwrap();
        }
        assert_ne!(
            std::fs::read(crashed.path().join(FILE_NAME)).unwrap(),
            committed,
            "the transaction has written into the database"
        );
        store.commit_batch().unwrap();
        assert_eq!(item_count(&store), 300);
        let store = Store::open(crashed.path()).unwrap();
        let check: String = store
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!((check.as_str(), item_count(&store)), ("ok", 100));
    }

    fn counts(store: &Store) -> &Counts {
        &store.checkpointer.as_ref().unwrap().counts
    }

    #[test]
    fn at_the_ceiling_a_commit_copies_the_log_and_it_starts_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        // The thread is never woken: the log grows to 32 pages, then starts again.
        store.checkpoint_aside_at(i64::MAX, 32 * PAGE_SIZE).unwrap();
        let frames = write_batches(&mut store, 0..40);
        assert!(frames.iter().all(|&f| f < 32 + 16), "{frames:?}");
        assert!(counts(&store).restarts.load(Ordering::Relaxed) > 2);
        // After a checkpoint at the ceiling, the next batch is alone in the log.
        assert!(
            frames.windows(2).all(|w| w[0] > 0 || w[1] < 16),
            "{frames:?}"
        );
        assert_eq!(counts(&store).copies.load(Ordering::Relaxed), 0);

        // The copy in hand is waited for: a commit at the ceiling while the log is being
        // copied (the lock held here, for half a second) waits, then copies the rest.
        let copying = store.checkpointer.as_ref().unwrap().copying.clone();
        let (locked, release) = (mpsc::channel(), Duration::from_millis(500));
        let holder = std::thread::spawn(move || {
            let _copying = copying.lock().unwrap();
            locked.0.send(()).unwrap();
            std::thread::sleep(release);
        });
        locked.1.recv().unwrap();
        let restarts = counts(&store).restarts.load(Ordering::Relaxed);
        let mut waited = None;
        for n in 40..80 {
            let started = std::time::Instant::now();
            if write_batches(&mut store, n..n + 1) == [0] {
                waited = Some(started.elapsed());
                break;
            }
        }
        holder.join().unwrap();
        assert!(waited.unwrap() >= Duration::from_millis(200), "{waited:?}");
        assert_eq!(
            counts(&store).restarts.load(Ordering::Relaxed),
            restarts + 1
        );
        drop(store);

        let store = Store::open(dir.path()).unwrap();
        let count: i64 = store
            .conn
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
            .unwrap();
        assert!(count > 40 * 20, "{count}");
    }

    #[test]
    fn a_reader_holding_the_log_up_fails_no_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .checkpoint_aside_at(16 * PAGE_SIZE, 32 * PAGE_SIZE)
            .unwrap();
        store.conn.busy_timeout(Duration::from_millis(20)).unwrap();
        write_batches(&mut store, 0..2);
        let reader = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let _: i64 = reader
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
            .unwrap();
        // Commits go on (none returns the checkpoint's failure); the log cannot start again.
        let held = write_batches(&mut store, 2..30);
        assert!(held.windows(2).all(|w| w[1] > w[0]), "{held:?}");
        assert!(*held.last().unwrap() >= 32, "{held:?}");
        reader.execute_batch("COMMIT").unwrap();
        // Once it is gone, the log starts again within a few commits.
        let freed = write_batches(&mut store, 30..40);
        assert!(freed.iter().any(|&f| f < held[0]), "{freed:?}");
    }

    #[test]
    fn the_checkpoint_thread_copies_the_log_so_it_starts_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        // Woken past 8 pages; no ceiling.
        store.checkpoint_aside_at(8 * PAGE_SIZE, i64::MAX).unwrap();
        let mut frames = write_batches(&mut store, 0..10);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        // With the writer pausing, the thread catches up and the next write starts the
        // log again.
        for n in 10.. {
            std::thread::sleep(Duration::from_millis(20));
            frames.extend(write_batches(&mut store, n..n + 1));
            if frames.windows(2).any(|w| w[1] < w[0]) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{frames:?}");
        }
        assert!(counts(&store).copies.load(Ordering::Relaxed) > 0);
        assert_eq!(counts(&store).restarts.load(Ordering::Relaxed), 0);
    }

    /// A first listing goes in several rows to a statement, and what is left over one row at
    /// a time; both ways store every item as a listing that cannot go the first way (one that
    /// lists an id twice) stores it.
    #[test]
    fn a_first_listing_is_stored_whole_however_it_is_inserted() {
        let listing: Vec<Item> = (0..2 * INSERT_ROWS + 3)
            .map(|i| {
                let day = 1 + (i % 27) as u32;
                let mut item = item(&format!("i{i}"), Some(day), 28 - day);
                item.summary = Some(format!("<p>summary {i}</p>"));
                item
            })
            .collect();
        let mut twice = listing.clone();
        twice.insert(1, listing[0].clone());
        let rows = |listing: &[Item]| {
            let dir = tempfile::tempdir().unwrap();
            let mut store = Store::open(dir.path()).unwrap();
            let changes = store
                .record_poll("s", &poll(28, Some(listing), None))
                .unwrap();
            let rows: Vec<(String, i64, i64, i64, Vec<u8>, String)> = store
                .conn
                .prepare(
                    "SELECT id, sort_date, first_seen, last_seen, hash, data FROM items
                     WHERE source = 's' ORDER BY rowid",
                )
                .unwrap()
                .query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            // How many times the many-row statement ran: the cache hands back the one
            // the poll used, or a new one that never ran.
            let statements = store
                .conn
                .prepare_cached(&INSERT_MANY)
                .unwrap()
                .get_status(rusqlite::StatementStatus::Run);
            (changes, rows, stored(&store), statements)
        };
        let (changes, many, items, statements) = rows(&listing);
        assert_eq!(statements, 2, "two statements of {INSERT_ROWS} rows");
        assert_eq!(changes.new, listing.len());
        assert_eq!(items.len(), listing.len());
        for (row, item) in many.iter().zip(&listing) {
            let encoded = encode(item).unwrap();
            assert_eq!(row.0, item.id);
            assert_eq!((row.1, row.2), (encoded.sort_date, encoded.first_seen));
            assert_eq!(row.3, at(28).timestamp(), "last seen");
            assert_eq!(row.4[..], encoded.hash[..]);
            assert_eq!(row.5.as_bytes(), encoded.json);
        }
        let (changes, one_by_one, _, statements) = rows(&twice);
        assert_eq!(statements, 0, "a repeated id, one row to a statement");
        assert_eq!((changes.new, changes.updated), (listing.len(), 0));
        assert_eq!(many, one_by_one);
    }

    #[test]
    fn an_id_listed_twice_in_a_first_poll_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut edited = item("a", Some(1), 1);
        edited.title = Some("edited".into());
        let listing = [item("a", Some(1), 1), item("a", Some(1), 1), edited];
        let mut first = poll(1, Some(&listing), None);
        first.full_text = true;
        let recorded = store.record_listing("s", &first).unwrap();
        let changes = recorded.changes;
        assert_eq!((changes.new, changes.updated), (1, 1));
        assert_eq!(recorded.wanted.len(), 1, "its article is asked for once");
        let stored = stored(&store);
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].title.as_deref(), Some("edited"));
    }

    /// A full-text source's first listing, however long, has each new item's article
    /// asked for.
    #[test]
    fn every_new_item_of_a_long_first_listing_wants_its_article() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let listing: Vec<Item> = (0..2 * INSERT_ROWS + 1)
            .map(|i| item(&format!("i{i}"), Some(1), 1))
            .collect();
        let mut first = poll(1, Some(&listing), None);
        first.full_text = true;
        let recorded = store.record_listing("s", &first).unwrap();
        assert_eq!(recorded.changes.new, listing.len());
        let wanted: Vec<_> = recorded.wanted.iter().map(|w| w.id.as_str()).collect();
        let ids: Vec<_> = listing.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(wanted, ids);
    }

    #[test]
    fn full_text_is_wanted_once_cached_and_survives_relisting() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut teaser = item("a", Some(1), 1);
        teaser.summary = Some("<p>teaser</p>".into());
        let listing = [teaser.clone()];
        let mut first = poll(1, Some(&listing), None);
        first.full_text = true;
        let recorded = store.record_listing("s", &first).unwrap();
        let wanted = Wanted {
            id: "a".into(),
            link: "https://example.org/a".into(),
        };
        assert_eq!(recorded.wanted, std::slice::from_ref(&wanted));

        // Listed again before its page was read (the run was stopped), or not modified
        // since: wanted still.
        let mut relisted = poll(1, Some(&listing), None);
        relisted.full_text = true;
        let recorded = store.record_listing("s", &relisted).unwrap();
        assert_eq!(recorded.changes, Changes::default());
        assert_eq!(recorded.wanted, std::slice::from_ref(&wanted));
        let mut not_modified = poll(1, None, None);
        not_modified.full_text = true;
        let recorded = store.record_listing("s", &not_modified).unwrap();
        assert_eq!(recorded.wanted, std::slice::from_ref(&wanted));
        not_modified.full_text = false;
        let recorded = store.record_listing("s", &not_modified).unwrap();
        assert!(recorded.wanted.is_empty());

        store
            .record_article("s", &wanted, at(1), Ok("<p>the whole story</p>"))
            .unwrap();
        let cached = store.article(&wanted.link).unwrap().unwrap();
        assert_eq!(cached.content.as_deref(), Some("<p>the whole story</p>"));
        assert_eq!(
            stored(&store)[0].content.as_deref(),
            Some("<p>the whole story</p>")
        );

        // The same listing again: no change, nothing wanted, the article stays.
        let mut again = poll(2, Some(&listing), None);
        again.full_text = true;
        let recorded = store.record_listing("s", &again).unwrap();
        assert_eq!(recorded.changes, Changes::default());
        assert!(recorded.wanted.is_empty());
        again.items = None;
        assert!(store.record_listing("s", &again).unwrap().wanted.is_empty());
        assert_eq!(
            stored(&store)[0].content.as_deref(),
            Some("<p>the whole story</p>")
        );

        // An edit by the source gets the cached article back, without a fetch.
        let mut edited = teaser.clone();
        edited.title = Some("edited".into());
        let listing = [edited];
        let mut third = poll(3, Some(&listing), None);
        third.full_text = true;
        let recorded = store.record_listing("s", &third).unwrap();
        assert_eq!(recorded.changes.updated, 1);
        assert!(recorded.wanted.is_empty());
        let now = stored(&store).remove(0);
        assert_eq!(now.title.as_deref(), Some("edited"));
        assert_eq!(now.content.as_deref(), Some("<p>the whole story</p>"));

        // A failure is cached with its reason and leaves the item as it was.
        let other = Wanted {
            id: "b".into(),
            link: "https://example.org/b".into(),
        };
        store
            .record_article("s", &other, at(3), Err("HTTP 500"))
            .unwrap();
        let cached = store.article(&other.link).unwrap().unwrap();
        assert_eq!(
            (cached.content, cached.error.as_deref()),
            (None, Some("HTTP 500"))
        );
        // A page that gave its article and fails when fetched again keeps the article.
        store
            .record_article("s", &wanted, at(4), Err("HTTP 500"))
            .unwrap();
        let cached = store.article(&wanted.link).unwrap().unwrap();
        assert_eq!(cached.content.as_deref(), Some("<p>the whole story</p>"));
    }

    #[test]
    fn a_stored_row_that_is_not_json_wants_nothing_and_breaks_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let listing = [item("a", Some(1), 1), item("b", Some(1), 1)];
        let mut first = poll(1, Some(&listing), None);
        first.full_text = true;
        assert_eq!(store.record_listing("s", &first).unwrap().wanted.len(), 2);
        store
            .conn
            .execute("UPDATE items SET data = 'not json' WHERE id = 'a'", [])
            .unwrap();
        let mut not_modified = poll(2, None, None);
        not_modified.full_text = true;
        let wanted = store.record_listing("s", &not_modified).unwrap().wanted;
        assert_eq!(wanted.len(), 1);
        assert_eq!(wanted[0].id, "b");
    }

    #[test]
    fn a_new_store_has_large_pages_and_an_old_one_keeps_its_own() {
        let page_size = |store: &Store| -> i64 {
            store
                .conn
                .pragma_query_value(None, "page_size", |r| r.get(0))
                .unwrap()
        };
        let new = tempfile::tempdir().unwrap();
        let checkpoint = |store: &Store| -> i64 {
            store
                .conn
                .pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0))
                .unwrap()
        };
        let store = Store::open(new.path()).unwrap();
        assert_eq!(page_size(&store), PAGE_SIZE);
        assert_eq!(checkpoint(&store) * PAGE_SIZE, WAL_CHECKPOINT);

        // A store made with SQLite's default pages, as stores were before.
        let old = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(old.path().join(FILE_NAME)).unwrap();
            conn.pragma_update(None, "page_size", 4096).unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let mut store = Store::open(old.path()).unwrap();
        assert_eq!(page_size(&store), 4096);
        assert_eq!(checkpoint(&store) * 4096, WAL_CHECKPOINT);
        store
            .record_poll("s", &poll(1, Some(&[item("a", None, 1)]), None))
            .unwrap();
        drop(store);
        let store = Store::open(old.path()).unwrap();
        assert_eq!(
            (page_size(&store), ids(&store)),
            (4096, vec!["a".to_owned()])
        );
    }

    #[test]
    fn reopening_keeps_data_and_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = Store::open(dir.path()).unwrap();
            store
                .record_poll("s", &poll(1, Some(&[item("a", None, 1)]), None))
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(ids(&store), ["a"]);
        store.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(store);
        let error = Store::open(dir.path()).err().unwrap();
        assert!(
            format!("{error:#}").contains("newer than this syndic knows"),
            "{error:#}"
        );
        assert!(
            Store::open_existing(&dir.path().join("nothing"))
                .unwrap()
                .is_none()
        );
    }
}
