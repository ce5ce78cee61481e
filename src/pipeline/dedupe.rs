//! The same story from two sources appears once: items are the same when they share an id,
//! or a canonical link (tracking parameters and fragment removed). The first seen wins.

use std::collections::HashMap;

use crate::model::Item;
use crate::source::normalise::canonical_link;

/// Items kept so far, with the keys that identify each.
#[derive(Default)]
pub struct Dedupe {
    items: Vec<Item>,
    keys: HashMap<String, usize>,
}

impl Dedupe {
    /// Adds `item` unless an item with the same id or canonical link is already there; of
    /// two such items, the one first seen earlier stays.
    pub fn add(&mut self, item: Item) {
        let keys = keys_of(&item);
        match keys.iter().find_map(|k| self.keys.get(k).copied()) {
            None => {
                let index = self.items.len();
                self.items.push(item);
                for k in keys {
                    self.keys.entry(k).or_insert(index);
                }
            }
            Some(index) => {
                let kept = &mut self.items[index];
                if (item.first_seen, &item.source, &item.id)
                    < (kept.first_seen, &kept.source, &kept.id)
                {
                    for k in keys {
                        self.keys.entry(k).or_insert(index);
                    }
                    *kept = item;
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn into_items(self) -> Vec<Item> {
        self.items
    }
}

fn keys_of(item: &Item) -> Vec<String> {
    let mut keys = vec![format!("id {}", item.id)];
    if let Some(link) = item.link.as_deref().and_then(canonical_link) {
        keys.push(format!("link {link}"));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::tests::item;

    #[test]
    fn same_id_or_same_canonical_link_appears_once_first_seen_wins() {
        let mut d = Dedupe::default();
        let mut early = item("b", "https://news.example/story", 5, 1);
        early.link = Some("https://news.example/story?utm_source=rss#top".into());
        let mut late = item("a", "urn:syndic:a:77", 5, 2);
        late.link = Some("https://news.example/story?fbclid=abc".into());
        d.add(late);
        d.add(early.clone());
        let mut same_id = item("c", "https://news.example/story", 5, 3);
        same_id.link = None;
        d.add(same_id);
        d.add(item("a", "other", 5, 2));
        let items = d.into_items();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], early, "the copy seen first wins");
    }

    #[test]
    fn different_stories_stay_apart() {
        let mut d = Dedupe::default();
        d.add(item("a", "1", 1, 1));
        d.add(item("b", "1-other", 1, 1));
        let mut no_link = item("c", "2", 1, 1);
        no_link.link = None;
        d.add(no_link);
        assert_eq!(d.len(), 3);
    }
}
