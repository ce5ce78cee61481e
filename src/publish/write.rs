//! Atomic file replacement that leaves unchanged files alone.
//!
//! Readers poll the published files with `If-None-Match`/`If-Modified-Since`; rewriting a
//! file with the same bytes would still bump its mtime and make every reader download it
//! again, so a file is replaced only when its bytes differ. Replacement goes through a
//! temporary file in the same folder (same file system, so `rename` is atomic), which is
//! fsynced before the rename, and the folder is fsynced after it, so a crash leaves either
//! the old file or the new one, never a torn one. A new file is readable by everyone
//! (0644, for the web server); a replaced file keeps its permissions. This file does not
//! decide names or paths, and does not lock: one publisher per output folder is assumed.

use std::fs::{self, File};
use std::io::{self, ErrorKind, Write};
use std::path::Path;

/// Atomically replaces `path` with `bytes` unless it already holds exactly those bytes:
/// temporary file in the same folder, write, fsync, rename, fsync the folder. Returns
/// whether it wrote. Creates the folder if missing. Never leaves a temp file behind on error.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let existing = match fs::metadata(path) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if let Some(meta) = &existing
        && meta.is_file()
        && meta.len() == bytes.len() as u64
        && fs::read(path)? == bytes
    {
        return Ok(false);
    }

    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "path has no file name"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;

    // Dropping a `NamedTempFile` deletes it, so every early return below cleans up.
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(file_name);
    prefix.push(".");
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    set_permissions(tmp.as_file(), existing.as_ref())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)?;
    Ok(true)
}

#[cfg(unix)]
fn set_permissions(file: &File, existing: Option<&fs::Metadata>) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let perms = match existing {
        Some(meta) => meta.permissions(),
        None => fs::Permissions::from_mode(0o644),
    };
    file.set_permissions(perms)
}

#[cfg(not(unix))]
fn set_permissions(_: &File, _: Option<&fs::Metadata>) -> io::Result<()> {
    Ok(())
}

/// Makes the rename durable. Only Unix can open and fsync a directory.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_then_skips_identical_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asia.rss");
        assert!(write_if_changed(&path, b"one").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"one");

        // Push the mtime into the past so an unwanted rewrite could not hide in the same tick.
        let past = SystemTime::now() - Duration::from_secs(3600);
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(past)
            .unwrap();
        let before = fs::metadata(&path).unwrap().modified().unwrap();
        assert!(!write_if_changed(&path, b"one").unwrap());
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), before);
        assert_eq!(names(dir.path()), ["asia.rss"]);
    }

    #[test]
    fn replaces_changed_bytes_by_rename() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asia.atom");
        write_if_changed(&path, b"old bytes").unwrap();
        // A reader holding the old file keeps seeing the old bytes: a new inode took its place.
        let mut held = File::open(&path).unwrap();
        assert!(write_if_changed(&path, b"new").unwrap());
        let mut old = String::new();
        io::Read::read_to_string(&mut held, &mut old).unwrap();
        assert_eq!(old, "old bytes");
        assert_eq!(fs::read(&path).unwrap(), b"new");
        // Same length, different bytes.
        assert!(write_if_changed(&path, b"NEW").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"NEW");
        assert_eq!(names(dir.path()), ["asia.atom"]);
    }

    #[test]
    fn creates_missing_folders() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/index.opml");
        assert!(write_if_changed(&path, b"<opml/>").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"<opml/>");
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_world_readable_and_modes_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asia.json");
        write_if_changed(&path, b"{}").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o644);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_if_changed(&path, b"{\"a\":1}").unwrap();
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    fn failure_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a non-empty folder: rename onto it fails after the temp file exists.
        let path = dir.path().join("taken");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("x"), b"x").unwrap();
        assert!(write_if_changed(&path, b"bytes").is_err());
        assert_eq!(names(dir.path()), ["taken"]);
    }
}
