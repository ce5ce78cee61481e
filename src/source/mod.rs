//! Sources: fetch a source's bytes and turn them into normalised items.
//!
//! Parsing: [`feed::parse`] decodes ([`charset`]), sniffs, and dispatches to the RSS/Atom
//! reader ([`feedxml`], on the [`xml`] tokeniser, with [`elements`] and [`capture`]) or to
//! [`json`]; [`normalise`] turns the entries into [`crate::model::Item`]s. [`date`] and
//! [`text`] are shared helpers; [`discover`] finds the feeds an HTML page links to.

mod capture;
pub mod charset;
pub mod date;
pub mod discover;
mod elements;
pub mod feed;
mod feedxml;
pub mod json;
pub mod normalise;
pub mod text;
pub mod xml;
