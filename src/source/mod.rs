//! Sources: fetch a source's bytes and turn them into normalised items.

pub mod date;
pub mod feed;
pub mod text;
