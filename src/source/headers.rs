//! Response headers that say when to ask a server again: `Cache-Control: max-age` and
//! `Retry-After`.
//!
//! Pure functions over header text, with the clock passed in, so they are tested without a
//! server or a real "now". They only read what the server said; how long a source actually
//! waits (floors, ceilings, back-off) is the scheduler's decision. Shared caches' directives
//! (`s-maxage`, `public`) are not ours.

use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap};

/// How long a response stays fresh from now: its `Cache-Control` max-age less its `Age`
/// (the time it already spent in a cache on the way), if it gave a max-age.
pub fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let lines = headers.get_all(header::CACHE_CONTROL).into_iter();
    let lifetime = cache_max_age(lines.filter_map(|v| v.to_str().ok()))?;
    let age = headers
        .get(header::AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(delta_seconds)
        .unwrap_or_default();
    Some(lifetime.saturating_sub(age))
}

/// `max-age=N` from `Cache-Control` lines, directive names read without case. `no-store`
/// and a bare `no-cache` mean "ask again every time": zero, whatever else is said. A
/// malformed `max-age` is ignored; of several, the first well-formed one counts.
pub fn cache_max_age<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<Duration> {
    let mut found = None;
    for line in lines {
        for (name, value) in directives(line) {
            match (name.to_ascii_lowercase().as_str(), value) {
                ("no-store", _) | ("no-cache", None) => return Some(Duration::ZERO),
                ("max-age", Some(v)) if found.is_none() => found = delta_seconds(v),
                _ => {}
            }
        }
    }
    found
}

/// A header's comma-separated `name[=value]` directives; a value may be a quoted string
/// (with commas inside), returned without its quotes.
fn directives(line: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&line[start..]);
    parts.into_iter().filter_map(|part| {
        let part = part.trim();
        let (name, value) = match part.split_once('=') {
            Some((n, v)) => {
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                (n.trim(), Some(v))
            }
            None => (part, None),
        };
        (!name.is_empty()).then_some((name, value))
    })
}

/// How long a response's `Retry-After` asks the client to wait, from `now`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    parse_retry_after(headers.get(header::RETRY_AFTER)?.to_str().ok()?, now)
}

/// `Retry-After` is delay-seconds or an HTTP-date: IMF-fixdate, or the obsolete RFC 850 and
/// asctime forms that RFC 9110 still asks recipients to read. A date already past means
/// "now": zero.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Some(delay) = delta_seconds(value) {
        return Some(delay);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A whole number of seconds. One too large to hold is taken as 2^31 s (RFC 9111 §1.2.2).
pub fn delta_seconds(text: &str) -> Option<Duration> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Duration::from_secs(text.parse().unwrap_or(1 << 31)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_spent_in_a_cache_is_taken_off_max_age() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CACHE_CONTROL,
            "public, max-age=3600".parse().unwrap(),
        );
        assert_eq!(max_age(&headers), Some(Duration::from_secs(3600)));
        headers.insert(header::AGE, "3500".parse().unwrap());
        assert_eq!(max_age(&headers), Some(Duration::from_secs(100)));
        headers.insert(header::AGE, "9000".parse().unwrap());
        assert_eq!(max_age(&headers), Some(Duration::ZERO));
        headers.insert(header::AGE, "soon".parse().unwrap());
        assert_eq!(max_age(&headers), Some(Duration::from_secs(3600)));
    }

    fn max_age_of(lines: &[&str]) -> Option<u64> {
        cache_max_age(lines.iter().copied()).map(|d| d.as_secs())
    }

    #[test]
    fn max_age_as_servers_write_it() {
        assert_eq!(max_age_of(&["max-age=3600"]), Some(3600));
        assert_eq!(
            max_age_of(&["public, max-age=600, must-revalidate"]),
            Some(600)
        );
        assert_eq!(max_age_of(&["Max-Age=60"]), Some(60), "names ignore case");
        assert_eq!(max_age_of(&["max-age = 60"]), Some(60));
        assert_eq!(max_age_of(&["max-age=\"120\""]), Some(120), "quoted");
        assert_eq!(
            max_age_of(&["public", "max-age=30"]),
            Some(30),
            "second line"
        );
        assert_eq!(max_age_of(&["max-age=0"]), Some(0));
        assert_eq!(
            max_age_of(&["max-age=99999999999999999999999"]),
            Some(1 << 31)
        );
    }

    #[test]
    fn max_age_ignores_what_is_not_for_us() {
        assert_eq!(max_age_of(&[]), None);
        assert_eq!(max_age_of(&["public"]), None);
        assert_eq!(max_age_of(&["s-maxage=600"]), None, "for shared caches");
        assert_eq!(max_age_of(&["s-maxage=600, max-age=60"]), Some(60));
        assert_eq!(max_age_of(&["max-age"]), None);
        assert_eq!(max_age_of(&["max-age=soon"]), None);
        assert_eq!(max_age_of(&["max-age=-5"]), None);
        assert_eq!(max_age_of(&["max-age=1.5"]), None);
        assert_eq!(max_age_of(&["max-age=soon, max-age=60"]), Some(60));
        assert_eq!(max_age_of(&["max-age=60, max-age=120"]), Some(60), "first");
        assert_eq!(
            max_age_of(&["private=\"a, max-age=5\", max-age=60"]),
            Some(60),
            "commas inside quotes do not split"
        );
    }

    /// Sun, 06 Nov 1994 08:49:37 GMT, the date RFC 9110's examples use.
    fn rfc_now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777)
    }

    fn wait(value: &str) -> Option<u64> {
        parse_retry_after(value, rfc_now()).map(|d| d.as_secs())
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(wait("120"), Some(120));
        assert_eq!(wait(" 0 "), Some(0));
        assert_eq!(wait("99999999999999999999999"), Some(1 << 31));
        assert_eq!(wait("-1"), None);
        assert_eq!(wait("1.5"), None);
        assert_eq!(wait("soon"), None);
        assert_eq!(wait(""), None);
    }

    #[test]
    fn retry_after_as_a_date_in_every_form_http_allows() {
        for (form, value) in [
            ("IMF-fixdate", "Sun, 06 Nov 1994 08:51:37 GMT"),
            ("RFC 850", "Sunday, 06-Nov-94 08:51:37 GMT"),
            ("asctime", "Sun Nov  6 08:51:37 1994"),
        ] {
            assert_eq!(wait(value), Some(120), "{form}: {value}");
        }
        assert_eq!(wait("Mon, 07 Nov 1994 08:49:37 GMT"), Some(86_400));
        assert_eq!(wait("Sun, 06 Nov 1994 08:49:37 GMT"), Some(0), "now");
        assert_eq!(wait("Sat, 05 Nov 1994 08:49:37 GMT"), Some(0), "past");
        assert_eq!(wait("Sun, 06 Nov 1994 08:51:37 +0100"), None, "not HTTP");
        assert_eq!(wait("Sun, 32 Nov 1994 08:51:37 GMT"), None);
    }

    #[test]
    fn retry_after_is_read_from_the_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, rfc_now()), None);
        headers.insert(header::RETRY_AFTER, "30".parse().unwrap());
        assert_eq!(
            retry_after(&headers, rfc_now()),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn no_store_and_no_cache_mean_ask_every_time() {
        assert_eq!(max_age_of(&["no-store"]), Some(0));
        assert_eq!(max_age_of(&["max-age=600, no-cache"]), Some(0));
        assert_eq!(max_age_of(&["max-age=600", "No-Store"]), Some(0));
        assert_eq!(
            max_age_of(&["no-cache=\"Set-Cookie\", max-age=600"]),
            Some(600),
            "a no-cache naming fields covers only those fields"
        );
    }
}
