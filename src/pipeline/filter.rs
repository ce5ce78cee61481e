//! Which items a feed wants: its `include` and `exclude` regexes over title and summary
//! text, and its `max_age`.

use chrono::{DateTime, Utc};
use regex::Regex;

use crate::config::FeedConfig;
use crate::model::Item;
use crate::source::text::html_to_text;

pub struct Filter<'a> {
    include: &'a [Regex],
    exclude: &'a [Regex],
    since: Option<DateTime<Utc>>,
}

impl<'a> Filter<'a> {
    pub fn new(feed: &'a FeedConfig, now: DateTime<Utc>) -> Filter<'a> {
        Filter {
            include: &feed.include,
            exclude: &feed.exclude,
            since: feed
                .max_age
                .and_then(|age| chrono::Duration::from_std(age).ok())
                .and_then(|age| now.checked_sub_signed(age)),
        }
    }

    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.since
    }

    /// Kept when recent enough, matched by some `include` (if there are any) and by no
    /// `exclude`. Patterns see the title and the summary's text, not its markup, so
    /// `(?i)sponsored` does not match `class="sponsored"`, and `AT&T` matches `AT&amp;T`.
    pub fn accepts(&self, item: &Item) -> bool {
        if self.since.is_some_and(|since| item.date() < since) {
            return false;
        }
        if self.include.is_empty() && self.exclude.is_empty() {
            return true;
        }
        let title = item.title.as_deref().unwrap_or_default();
        let summary = item
            .summary
            .as_deref()
            .map(html_to_text)
            .unwrap_or_default();
        let matches = |r: &Regex| r.is_match(title) || r.is_match(&summary);
        (self.include.is_empty() || self.include.iter().any(matches))
            && !self.exclude.iter().any(matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::tests::{day, feed, item};

    #[test]
    fn include_and_exclude_over_title_and_summary_text() {
        let mut f = feed(10);
        f.include = vec![Regex::new("(?i)korea|china").unwrap()];
        f.exclude = vec![Regex::new("(?i)sponsored").unwrap()];
        let filter = Filter::new(&f, day(10));

        let mut korea = item("a", "1", 1, 1);
        korea.title = Some("Korea talks".into());
        assert!(filter.accepts(&korea));

        let mut in_summary = item("a", "2", 1, 1);
        in_summary.summary = Some("<p>Trade with <b>China</b></p>".into());
        assert!(filter.accepts(&in_summary));

        let mut sponsored = korea.clone();
        sponsored.summary = Some("<p>Sponsored post</p>".into());
        assert!(!filter.accepts(&sponsored));

        let mut markup_only = korea.clone();
        markup_only.summary = Some(r#"<div class="sponsored">Plain news</div>"#.into());
        assert!(filter.accepts(&markup_only), "markup is not text");

        let mut entity = item("a", "4", 1, 1);
        entity.summary = Some("<p>Korea &amp; China</p>".into());
        assert!(filter.accepts(&entity));
        let mut att = Filter::new(&f, day(10));
        let amp = [Regex::new("Korea & China").unwrap()];
        att.include = &amp;
        assert!(att.accepts(&entity), "entities are decoded before matching");

        assert!(!filter.accepts(&item("a", "3", 1, 1)), "matches no include");
    }

    #[test]
    fn no_patterns_accept_everything_recent_enough() {
        let mut f = feed(10);
        f.max_age = Some(std::time::Duration::from_secs(86_400));
        let filter = Filter::new(&f, day(10));
        assert_eq!(filter.since(), Some(day(9)));
        assert!(filter.accepts(&item("a", "1", 9, 9)));
        assert!(!filter.accepts(&item("a", "1", 8, 8)));
    }
}
