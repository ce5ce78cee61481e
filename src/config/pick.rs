//! Picks: what a web-page source's selector keys say — a CSS selector, relative to the
//! element it is applied to, and optionally `@attr` to take an attribute instead of the
//! text (`"h2 a@href"`, `"img@data-src"`).
//!
//! Only the parsing lives here, so every key that names elements (the `[source.html]`
//! table, and whatever later selects parts of an article) reads them alike and reports a
//! bad selector the same way. Applying a pick to a page is [`crate::source::html`]'s job.

use std::fmt;

use scraper::Selector;
use scraper::error::SelectorErrorKind;

/// A CSS selector with an optional attribute to read, as written in the config.
#[derive(Clone)]
pub struct Pick {
    /// As written, for messages and for comparing configs.
    pub text: String,
    pub selector: Selector,
    /// The attribute to read; `None` reads the element (its text, or a kind-specific
    /// default such as an `<a>`'s href).
    pub attr: Option<String>,
}

/// Two picks are equal when written alike: the same text always parses the same way.
impl PartialEq for Pick {
    fn eq(&self, other: &Pick) -> bool {
        self.text == other.text
    }
}

impl fmt::Debug for Pick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pick({:?})", self.text)
    }
}

/// Parses `"selector"` or `"selector@attribute"`. The `@` splits only when what follows it
/// is an attribute name, so a selector such as `a[href*="@"]` stays whole.
pub fn parse_pick(text: &str) -> Result<Pick, String> {
    let trimmed = text.trim();
    let (selector_text, attr) = match trimmed.rsplit_once('@') {
        Some((selector, attr)) if is_attribute_name(attr) => (selector.trim(), Some(attr)),
        _ => (trimmed, None),
    };
    if selector_text.is_empty() {
        return Err(match attr {
            Some(attr) => format!("{text:?} names the attribute {attr:?} but no selector"),
            None => "is empty: write a CSS selector".to_string(),
        });
    }
    let selector = Selector::parse(selector_text).map_err(|e| {
        format!(
            "{selector_text:?} is not a CSS selector: {}",
            selector_error(&e)
        )
    })?;
    Ok(Pick {
        text: text.to_string(),
        selector,
        attr: attr.map(|a| a.to_ascii_lowercase()),
    })
}

fn is_attribute_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

/// scraper's own wording, except for its catch-all, which dumps parser internals.
fn selector_error(e: &SelectorErrorKind) -> String {
    match e {
        SelectorErrorKind::UnexpectedSelectorParseError(_) => {
            "unexpected or unsupported syntax".to_string()
        }
        other => other.to_string().to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_with_and_without_attributes() {
        let p = parse_pick("article.post-card:not(.sponsored)").unwrap();
        assert_eq!(p.attr, None);
        let p = parse_pick("img@data-src").unwrap();
        assert_eq!(p.attr.as_deref(), Some("data-src"));
        assert_eq!(p.text, "img@data-src");
        let p = parse_pick("a.next @ href").unwrap_err();
        assert!(p.contains("not a CSS selector"), "{p}");
        let p = parse_pick(r#"a[href*="@"]"#).unwrap();
        assert_eq!(p.attr, None, "an @ inside the selector is not an attribute");
    }

    #[test]
    fn bad_selectors_say_why() {
        for bad in ["h2..title", "", "@href", "div[", "p:nosuch"] {
            let e = parse_pick(bad).unwrap_err();
            assert!(!e.contains("report this"), "{bad}: {e}");
            assert!(!e.is_empty());
        }
        assert_eq!(parse_pick("a").unwrap(), parse_pick("a").unwrap());
        assert_ne!(parse_pick("a").unwrap(), parse_pick("a@href").unwrap());
    }
}
