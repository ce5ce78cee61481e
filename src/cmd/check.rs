//! `syndic check`: validate the config and print every problem, or a summary of what it
//! would do.

use std::path::Path;

use super::{EXIT_OK, load};

pub fn check(explicit: Option<&Path>) -> u8 {
    let config = match load(explicit) {
        Ok(config) => config,
        Err(code) => return code,
    };
    println!(
        "{}: ok — {} source{}, {} feed{}",
        config.path.display(),
        config.sources.len(),
        plural(config.sources.len()),
        config.feeds.len(),
        plural(config.feeds.len()),
    );
    for source in &config.sources {
        println!(
            "  source {:<20} {:<8} {}  ({}, {})",
            source.name,
            source.url.scheme(),
            source.url,
            source.schedule.cron.describe().trim_end_matches('.'),
            source.timezone
        );
    }
    for feed in &config.feeds {
        let formats: Vec<&str> = feed.formats.iter().map(|f| f.extension()).collect();
        println!(
            "  feed   {:<20} {} source{} → {}.{{{}}}",
            feed.name,
            feed.sources.len(),
            plural(feed.sources.len()),
            config.daemon.output_dir.join(&feed.name).display(),
            formats.join(",")
        );
    }
    EXIT_OK
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
