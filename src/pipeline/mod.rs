//! What goes into one output feed: include/exclude filters, `max_age`, de-duplication,
//! newest first, `limit`.
//!
//! A [`Collector`] is fed candidate items newest first (as [`crate::store::Store::scan`]
//! yields them) and says when it has enough, so a feed is built without loading the store.
//! Pure: no I/O, no clock (the caller passes `now`).

mod dedupe;
mod filter;

use std::ops::ControlFlow;

use chrono::{DateTime, Utc};

use crate::config::FeedConfig;
use crate::model::Item;

pub use dedupe::Dedupe;
pub use filter::Filter;

/// Builds one output feed's item list from newest-first candidates.
pub struct Collector<'a> {
    filter: Filter<'a>,
    dedupe: Dedupe,
    limit: usize,
}

impl<'a> Collector<'a> {
    pub fn new(feed: &'a FeedConfig, now: DateTime<Utc>) -> Collector<'a> {
        Collector {
            filter: Filter::new(feed, now),
            dedupe: Dedupe::default(),
            limit: feed.limit,
        }
    }

    /// The earliest date an item may have, for the store to skip older rows.
    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.filter.since()
    }

    /// Offers the next candidate; breaks once the feed is full.
    pub fn offer(&mut self, item: Item) -> ControlFlow<()> {
        if self.dedupe.len() >= self.limit {
            return ControlFlow::Break(());
        }
        if self.filter.accepts(&item) {
            self.dedupe.add(item);
        }
        if self.dedupe.len() >= self.limit {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    /// The feed's items, newest first; ties broken by first seen, source and id so that the
    /// same items always come out in the same order.
    pub fn finish(self) -> Vec<Item> {
        let mut items = self.dedupe.into_items();
        items.sort_by(|a, b| {
            b.date()
                .cmp(&a.date())
                .then(a.first_seen.cmp(&b.first_seen))
                .then_with(|| a.source.cmp(&b.source))
                .then_with(|| a.id.cmp(&b.id))
        });
        items
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::time::Duration;

    /// Runs a whole candidate list through the pipeline (candidates in any order).
    pub fn run(feed: &FeedConfig, now: DateTime<Utc>, mut candidates: Vec<Item>) -> Vec<Item> {
        candidates.sort_by_key(|i| std::cmp::Reverse(i.date()));
        let mut collector = Collector::new(feed, now);
        for item in candidates {
            if collector.offer(item).is_break() {
                break;
            }
        }
        collector.finish()
    }

    pub(crate) fn feed(limit: usize) -> FeedConfig {
        FeedConfig {
            name: "f".into(),
            title: "F".into(),
            description: None,
            link: None,
            sources: vec!["a".into(), "b".into()],
            formats: crate::publish::Format::all().to_vec(),
            limit,
            max_age: None,
            include: vec![],
            exclude: vec![],
        }
    }

    pub(crate) fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, 0, 0, 0).unwrap()
    }

    pub(crate) fn item(source: &str, id: &str, published: u32, seen: u32) -> Item {
        Item {
            title: Some(format!("story {id}")),
            link: Some(format!("https://{source}.example/{id}")),
            published: Some(day(published)),
            ..Item::new(source, id, day(seen))
        }
    }

    fn ids(items: &[Item]) -> Vec<&str> {
        items.iter().map(|i| i.id.as_str()).collect()
    }

    #[test]
    fn newest_first_then_limit() {
        let candidates = vec![
            item("a", "1", 1, 1),
            item("a", "3", 3, 3),
            item("b", "2", 2, 2),
            item("b", "4", 4, 4),
        ];
        assert_eq!(ids(&run(&feed(3), day(10), candidates)), ["4", "3", "2"]);
    }

    #[test]
    fn max_age_drops_old_items() {
        let mut f = feed(10);
        f.max_age = Some(Duration::from_secs(3 * 86_400));
        let candidates = vec![item("a", "old", 1, 1), item("a", "new", 8, 8)];
        assert_eq!(ids(&run(&f, day(10), candidates)), ["new"]);
    }

    #[test]
    fn same_items_same_order_whatever_the_input_order() {
        let mut candidates = vec![
            item("b", "x", 5, 2),
            item("a", "y", 5, 2),
            item("a", "z", 5, 1),
        ];
        let first = run(&feed(10), day(10), candidates.clone());
        candidates.reverse();
        let second = run(&feed(10), day(10), candidates);
        assert_eq!(first, second);
        assert_eq!(ids(&first), ["z", "y", "x"]);
    }
}
