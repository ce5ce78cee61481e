//! Sources: fetch a source's bytes and turn them into normalised items.

mod capture;
pub mod charset;
pub mod date;
pub mod discover;
mod elements;
pub mod feed;
mod feedxml;
pub mod http;
pub mod json;
pub mod normalise;
pub mod text;
pub mod xml;
