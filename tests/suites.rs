//! The long, CPU-heavy checks against third-party material, in a test binary of their own:
//! cargo runs test binaries one after another, so they never share the machine with the
//! timing-sensitive daemon tests of `main.rs`.
//!
//! - `conformance`: syndic's parser measured against the feedparser, gofeed and feed-rs
//!   suites, and every suite file read as hostile input.
//! - `readers`: outside readers (jing, the JSON Feed schema, Python feedparser, newsboat)
//!   check what syndic publishes.

mod support;

mod conformance;
mod readers;
