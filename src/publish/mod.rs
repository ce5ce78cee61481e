//! Publishing: render each output feed in RSS 2.0, Atom 1.0 and JSON Feed 1.1, plus an OPML
//! index, and write every file atomically, only when its bytes change.

pub mod write;

pub use write::write_if_changed;
