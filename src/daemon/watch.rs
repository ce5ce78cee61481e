//! Noticing edits to the config file. Editors save by writing a new file and renaming it
//! over the old one, which a watch on the file itself would miss, so the file's folder is
//! watched and events are filtered by name. A burst of events (write, rename, chmod) becomes
//! one reload after [`SETTLE`] of quiet.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// How long the folder must be quiet before the edit counts.
pub(crate) const SETTLE: Duration = Duration::from_millis(300);

/// Watches `config`; sends `()` once per settled edit. The watcher stops when the returned
/// value is dropped. `None` when the folder cannot be watched (logged; SIGHUP still works).
pub(crate) fn watch(config: &Path) -> Option<(notify::RecommendedWatcher, mpsc::Receiver<()>)> {
    let absolute = std::path::absolute(config).ok()?;
    let folder = absolute.parent()?.to_path_buf();
    let name: OsString = absolute.file_name()?.to_os_string();
    let (raw_tx, mut raw_rx) = mpsc::unbounded_channel();
    let handler = move |event: notify::Result<notify::Event>| match event {
        // Reading the file (syndic itself, `cat`, an editor opening it) is not an edit; a
        // save arrives as a create, a modify or a rename.
        Ok(event) if matches!(event.kind, EventKind::Access(_)) => {}
        Ok(event) if event.paths.iter().any(|p| p.file_name() == Some(&name)) => {
            let _ = raw_tx.send(());
        }
        Ok(_) => {}
        Err(e) => debug!(error = %e, "Config watch error."),
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(watcher) => watcher,
        Err(e) => {
            warn!(error = %e, "Cannot watch the config file; reload with SIGHUP.");
            return None;
        }
    };
    if let Err(e) = watcher.watch(&folder, RecursiveMode::NonRecursive) {
        warn!(folder = %folder.display(), error = %e, "Cannot watch the config's folder; reload with SIGHUP.");
        return None;
    }
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        while raw_rx.recv().await.is_some() {
            // Wait for the burst to end.
            while let Ok(Some(())) = tokio::time::timeout(SETTLE, raw_rx.recv()).await {}
            if tx.send(()).await.is_err() {
                return;
            }
        }
    });
    Some((watcher, rx))
}
