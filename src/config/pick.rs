//! A CSS selector as the user wrote it in the config, parsed once at validation.
//!
//! [`Pick`] keeps the text next to the compiled [`scraper::Selector`], so configs compare by
//! what was written (a reload that changed nothing is seen as such) and messages can quote
//! it. The `sel@attr` form (pick an attribute instead of the text) is part of the type for
//! the web-page source kind; the full-text keys (`content`, `remove`) never use it. Nothing
//! here reads a document.

use std::fmt;

use scraper::Selector;

/// A parsed CSS selector, with the attribute to read when written `sel@attr`.
#[derive(Clone)]
pub struct Pick {
    /// As written in the config.
    pub text: String,
    pub selector: Selector,
    /// The attribute after `@`; always `None` from [`parse_pick`].
    pub attr: Option<String>,
}

/// Two picks are equal when written alike: the same text always parses to the same selector.
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

/// Parses a CSS selector (a whole selector list, e.g. `".a, .b"`); the error says why it
/// does not parse, in scraper's words.
pub fn parse_pick(text: &str) -> Result<Pick, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("is empty: write a CSS selector such as \".entry-content\"".into());
    }
    let selector = Selector::parse(trimmed)
        .map_err(|e| format!("{trimmed:?} is not a CSS selector: {}", reason(&e)))?;
    Ok(Pick {
        text: trimmed.to_string(),
        selector,
        attr: None,
    })
}

/// scraper's reason, without the "please report this" text it wraps selector errors in.
fn reason(error: &scraper::error::SelectorErrorKind) -> String {
    use scraper::error::SelectorErrorKind as Kind;
    match error {
        Kind::UnexpectedSelectorParseError(kind) => format!("{kind:?}"),
        Kind::EndOfLine => "it ends too early".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_and_compare_as_written() {
        let a = parse_pick(" .entry-content ").unwrap();
        assert_eq!(a.text, ".entry-content");
        assert_eq!(a.attr, None);
        assert_eq!(a, parse_pick(".entry-content").unwrap());
        assert_ne!(a, parse_pick("div.entry-content").unwrap());
        assert!(parse_pick(".also-read, .ad-slot").is_ok());
        for bad in ["", "  ", "div[", "..x", "p:nope(1)"] {
            let error = parse_pick(bad).unwrap_err();
            assert!(
                !error.contains('\n') && !error.contains("report"),
                "{error}"
            );
        }
    }
}
