//! Dates as people write them on web pages, to UTC: "July 28, 2024", "Sep 19, 2025",
//! "28 July 2024, 9:12 pm", "2024-07-28 09:12", "19/09/2025", and — through
//! [`super::date`] — RFC 822 and ISO 8601 with their zones.
//!
//! A value without a zone is local time in the source's zone, and a date without a time is
//! midnight there (never the time of day of the poll). `01/02/2025` is 2 January unless the
//! source says `day_first`; a value that can be read only one way (`19/09/2025`) is read
//! that way. A `date_format` (strftime) is tried first when the source gives one. Written by
//! hand rather than with `dateparser`: that crate fills date-only values with the clock's
//! time of day, has no day-first switch for a source, and reads zone-less values in the
//! machine's zone, not the source's. No relative dates ("2 hours ago").

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::date::{is_weekday, month, parse_date};

/// How a source's dates are read.
#[derive(Clone, Copy, Debug)]
pub struct DateStyle<'a> {
    /// strftime format, tried first.
    pub format: Option<&'a str>,
    /// `01/02/2025` is 1 February.
    pub day_first: bool,
    /// The zone of values written without one.
    pub zone: Tz,
}

/// Reads a date written on a page; `None` when it is not one.
pub fn parse_human(text: &str, style: &DateStyle) -> Option<DateTime<Utc>> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return None;
    }
    style
        .format
        .and_then(|f| formatted(&text, f, style.zone))
        .or_else(|| iso_local(&text, style.zone))
        .or_else(|| worded(&text, style.zone))
        .or_else(|| numeric(&text, style.day_first, style.zone))
        .or_else(|| parse_date(&text))
}

/// Local date and time in `zone`, to UTC. In a gap (clocks going forward) the hour after;
/// when ambiguous (clocks going back) the earlier one.
fn local(naive: NaiveDateTime, zone: Tz) -> Option<DateTime<Utc>> {
    let resolved = match zone.from_local_datetime(&naive) {
        LocalResult::None => zone
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest(),
        other => other.earliest(),
    };
    resolved.map(|d| d.with_timezone(&Utc))
}

fn formatted(text: &str, format: &str, zone: Tz) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_str(text, format) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDateTime::parse_from_str(text, format) {
        return local(d, zone);
    }
    NaiveDate::parse_from_str(text, format)
        .ok()
        .and_then(|d| local(d.and_time(NaiveTime::MIN), zone))
}

/// ISO-style dates with no zone: `2024-07-28`, `2024-07-28 09:12`, `2024-07-28T09:12:30`.
fn iso_local(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    for format in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(text, format) {
            return local(d, zone);
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(text, format) {
            return local(d.and_time(NaiveTime::MIN), zone);
        }
    }
    None
}

/// A month named in words, a day, a year, maybe a weekday and a time, in any order people
/// use: "July 28, 2024", "Sun 28th July 2024 at 9:12 pm", "Sep 19, 2025 14:05".
fn worded(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let lower = text.to_lowercase().replace(',', " ");
    let tokens: Vec<&str> = lower.split_whitespace().collect();
    let (mut m, mut d, mut y, mut time) = (None, None, None, None);
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i].trim_end_matches('.');
        i += 1;
        if matches!(token, "at" | "on" | "the" | "of") || is_weekday(token) {
            continue;
        }
        if let Some(n) = month(token) {
            if m.replace(n).is_some() {
                return None;
            }
            continue;
        }
        if token.contains(':') {
            // A following "am"/"pm" belongs to the time.
            let meridiem = tokens.get(i).copied().filter(|t| is_meridiem(t));
            if meridiem.is_some() {
                i += 1;
            }
            if time.replace(clock(token, meridiem)?).is_some() {
                return None;
            }
            continue;
        }
        let number = ["st", "nd", "rd", "th"]
            .iter()
            .find_map(|s| token.strip_suffix(s))
            .unwrap_or(token);
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let slot = if number.len() == 4 { &mut y } else { &mut d };
        if number.len() > 4 || slot.replace(number.parse::<u32>().ok()?).is_some() {
            return None;
        }
    }
    let date = NaiveDate::from_ymd_opt(y? as i32, m?, d?)?;
    local(date.and_time(time.unwrap_or(NaiveTime::MIN)), zone)
}

fn is_meridiem(token: &str) -> bool {
    matches!(token, "am" | "pm" | "a.m." | "p.m.")
}

/// `9:12`, `09:12:30`, `9:12pm`, or `9:12` with `meridiem` (`am`/`pm`) beside it.
fn clock(token: &str, meridiem: Option<&str>) -> Option<NaiveTime> {
    let (token, attached) = match token.strip_suffix("am").or(token.strip_suffix("a.m.")) {
        Some(t) => (t, Some(false)),
        None => match token.strip_suffix("pm").or(token.strip_suffix("p.m.")) {
            Some(t) => (t, Some(true)),
            None => (token, None),
        },
    };
    let pm = attached.or(meridiem.map(|m| m.starts_with('p')));
    let mut parts = token.split(':').map(|p| p.parse::<u32>().ok());
    let h = parts.next()??;
    let min = parts.next()??;
    let s = parts.next().unwrap_or(Some(0))?;
    if parts.next().is_some() {
        return None;
    }
    let h = match pm {
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(true) => h % 12 + 12,
        Some(false) => h % 12,
        None => h,
    };
    NaiveTime::from_hms_opt(h, min, s)
}

/// `19/09/2025`, `09/19/2025`, `19.09.2025`, `19-09-25`, each maybe followed by a time.
fn numeric(text: &str, day_first: bool, zone: Tz) -> Option<DateTime<Utc>> {
    let (date, time) = match text.split_once(' ') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let parts: Vec<&str> = date.split(['/', '.', '-']).collect();
    let [a, b, y] = parts.as_slice() else {
        return None;
    };
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (a, b, year) = (number(a)?, number(b)?, number(y)?);
    let year = match y.len() {
        4 => year as i32,
        2 => 2000 + year as i32,
        _ => return None,
    };
    let (first, second) = if day_first { (b, a) } else { (a, b) };
    // (month, day) as the source writes them, else the only other reading there is.
    let date = NaiveDate::from_ymd_opt(year, first, second)
        .or_else(|| NaiveDate::from_ymd_opt(year, second, first))?;
    let time = match time {
        None => NaiveTime::MIN,
        Some(t) => {
            let (t, meridiem) = match t.split_once(' ') {
                Some((t, m)) if is_meridiem(&m.to_lowercase()) => (t, Some(m)),
                Some(_) => return None,
                None => (t, None),
            };
            let meridiem = meridiem.map(str::to_lowercase);
            clock(&t.to_lowercase(), meridiem.as_deref())?
        }
    };
    local(date.and_time(time), zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, day_first: bool, zone: Tz) -> Option<String> {
        let style = DateStyle {
            format: None,
            day_first,
            zone,
        };
        parse_human(text, &style).map(|d| d.to_rfc3339())
    }

    #[test]
    fn dates_people_write() {
        let utc = |t| read(t, false, Tz::UTC);
        for (text, want) in [
            ("July 28, 2024", "2024-07-28T00:00:00+00:00"),
            ("Sep 19, 2025", "2025-09-19T00:00:00+00:00"),
            ("Sept. 19, 2025", "2025-09-19T00:00:00+00:00"),
            ("September 20, 2025", "2025-09-20T00:00:00+00:00"),
            ("28 July 2024", "2024-07-28T00:00:00+00:00"),
            (
                "Sunday, 28th July 2024 at 9:12 pm",
                "2024-07-28T21:12:00+00:00",
            ),
            ("July 28, 2024 12:05am", "2024-07-28T00:05:00+00:00"),
            ("2024-07-28 09:12", "2024-07-28T09:12:00+00:00"),
            ("2024-07-28", "2024-07-28T00:00:00+00:00"),
            (
                "Sun, 28 Jul 2024 09:12:00 +0200",
                "2024-07-28T07:12:00+00:00",
            ),
            ("2024-07-28T09:12:00+01:00", "2024-07-28T08:12:00+00:00"),
            ("2024-07-28T09:12:00Z", "2024-07-28T09:12:00+00:00"),
            ("07/28/2024", "2024-07-28T00:00:00+00:00"),
            ("19/09/2025", "2025-09-19T00:00:00+00:00"),
            ("  July\n 28,   2024 ", "2024-07-28T00:00:00+00:00"),
        ] {
            assert_eq!(utc(text).as_deref(), Some(want), "{text}");
        }
        for bad in [
            "",
            "yesterday",
            "July 2024",
            "July 32, 2024",
            "2 mins read",
            "13/13/2025",
            "July 28, 2024 25:00",
            "July 28 2024 July",
        ] {
            assert_eq!(utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn day_first_decides_only_what_is_ambiguous() {
        assert_eq!(
            read("01/02/2025", false, Tz::UTC).as_deref(),
            Some("2025-01-02T00:00:00+00:00")
        );
        assert_eq!(
            read("01/02/2025", true, Tz::UTC).as_deref(),
            Some("2025-02-01T00:00:00+00:00")
        );
        assert_eq!(
            read("19.09.2025 14:30", true, Tz::UTC).as_deref(),
            Some("2025-09-19T14:30:00+00:00")
        );
    }

    #[test]
    fn a_date_alone_is_midnight_in_the_source_zone() {
        let seoul = read("July 28, 2024", false, Tz::Asia__Seoul);
        assert_eq!(seoul.as_deref(), Some("2024-07-27T15:00:00+00:00"));
        let london = read("2024-07-28 09:12", false, Tz::Europe__London);
        assert_eq!(london.as_deref(), Some("2024-07-28T08:12:00+00:00"));
        // A written zone wins over the source's.
        let fixed = read("2024-07-28T09:12:00Z", false, Tz::Asia__Seoul);
        assert_eq!(fixed.as_deref(), Some("2024-07-28T09:12:00+00:00"));
        // 02:30 does not exist in Berlin on 2025-03-30: the hour after.
        let gap = read("2025-03-30 02:30", false, Tz::Europe__Berlin);
        assert_eq!(gap.as_deref(), Some("2025-03-30T01:30:00+00:00"));
    }

    #[test]
    fn a_format_is_tried_first() {
        let style = |format| DateStyle {
            format: Some(format),
            day_first: false,
            zone: Tz::Europe__Berlin,
        };
        let at = |text, format| parse_human(text, &style(format)).map(|d| d.to_rfc3339());
        assert_eq!(
            at("28.07.2024 um 09:12", "%d.%m.%Y um %H:%M").as_deref(),
            Some("2024-07-28T07:12:00+00:00")
        );
        assert_eq!(
            at("Posted 2024|07|28", "Posted %Y|%m|%d").as_deref(),
            Some("2024-07-27T22:00:00+00:00")
        );
        assert_eq!(
            at("July 28, 2024", "%d.%m.%Y").as_deref(),
            Some("2024-07-27T22:00:00+00:00"),
            "the built-in reading still applies when the format does not fit"
        );
    }
}
