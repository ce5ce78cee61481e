//! Dates as feeds write them, to UTC: RFC 822/2822 (with the obsolete and informal zone
//! names feeds use), ISO 8601 / W3C-DTF (partial dates, fractions, ordinal dates, a space for
//! `T`), asctime, and a few local formats (Greek, Hungarian, Korean).
//!
//! It rejects what it cannot read exactly — an hour of 25, an unknown word, text after the
//! zone — rather than guess; callers then fall back to another date or to first-seen. No
//! natural-language dates ("yesterday"), and no clock: the same input always gives the same
//! instant, and a missing zone means UTC.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// Parses a feed date; None when it is empty or not a date we can read without guessing.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    canonical(s)
        .or_else(|| iso8601(s))
        .or_else(|| rfc822(s))
        .or_else(|| korean(s))
}

/// The two forms nearly every feed writes, read at fixed places: RFC 3339 with a zone
/// (`2026-03-31T21:01:40Z`, `…40.25+02:00`) and RFC 822 as RFC 2822 writes it (`Tue, 31 Mar
/// 2026 21:01:40 +0000`, or a zone name). Dates are read for every item, and the general
/// readers below, which split the text into parts, took 2,650 instructions a date. `None`
/// for anything else, or anything out of range, which those readers then decide: what this
/// reads, they read the same.
fn canonical(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let is = |at: usize, c: u8| b.get(at) == Some(&c);
    let num = |at: usize, len: usize| digits(s.get(at..at + len)?);
    let (date, time, zone_at) = if b[0].is_ascii_digit() {
        if !(is(4, b'-') && is(7, b'-') && is(10, b'T') && is(13, b':') && is(16, b':')) {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 2)?, num(8, 2)?)?;
        let (mut nanos, mut end) = (0, 19);
        if is(19, b'.') {
            let figures = b[20..].iter().take_while(|c| c.is_ascii_digit()).count();
            let kept = figures.min(9);
            nanos = num(20, kept)? * 10u32.pow(9 - kept as u32);
            end = 20 + figures;
        }
        if !matches!(b.get(end), Some(b'Z' | b'+' | b'-')) {
            return None;
        }
        (date, (num(11, 2)?, num(14, 2)?, num(17, 2)?, nanos), end)
    } else {
        let spaces = [4, 7, 11, 16, 25];
        let fixed =
            is(3, b',') && spaces.iter().all(|&at| is(at, b' ')) && is(19, b':') && is(22, b':');
        if !fixed || !is_weekday(s.get(..3)?) {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(num(12, 4)? as i32, month(s.get(8..11)?)?, num(5, 2)?)?;
        (date, (num(17, 2)?, num(20, 2)?, num(23, 2)?, 0), 26)
    };
    let (h, m, sec, _) = time;
    if !(h <= 24 && m <= 59 && sec <= 60) {
        return None;
    }
    instant(date, time, zone(&s[zone_at..])?)
}

/// A calendar date, a time of day (24:00 allowed) and an offset east of UTC in seconds.
fn instant(
    date: NaiveDate,
    (h, m, sec, nanos): (u32, u32, u32, u32),
    offset: i64,
) -> Option<DateTime<Utc>> {
    let (h, extra_day) = if h == 24 && m == 0 && sec == 0 && nanos == 0 {
        (0, 1)
    } else {
        (h, 0)
    };
    let time = NaiveTime::from_hms_nano_opt(h, m, sec.min(59), nanos)?;
    let local = NaiveDateTime::new(date, time) + Duration::days(extra_day);
    Some((local - Duration::seconds(offset)).and_utc())
}

/// One to nine ASCII digits as a number, read here rather than by `str::parse`, which
/// checks for a sign and overflow that nine digits cannot have: every date has six or
/// seven numbers.
fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 {
        return None;
    }
    let digit = |b: u8| b.is_ascii_digit().then(|| u32::from(b - b'0'));
    s.bytes().try_fold(0, |n, b| Some(n * 10 + digit(b)?))
}

/// Two- and three-digit years as RFC 2822 reads them.
fn full_year(s: &str) -> Option<i32> {
    let y = digits(s)? as i32;
    Some(match s.len() {
        2 if y < 50 => 2000 + y,
        2 | 3 => 1900 + y,
        4 => y,
        _ => return None,
    })
}

/// `hh:mm[:ss[.frac]]` or `hhmm[ss]`, hours of one or two digits.
fn clock(s: &str) -> Option<(u32, u32, u32, u32)> {
    let (main, frac) = match s.find(['.', ',']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if !main.is_ascii() {
        return None;
    }
    let mut held = [""; 3];
    let parts = if main.contains(':') {
        split_at_most(main, ':', &mut held)?
    } else if main.len() == 4 || main.len() == 6 {
        for (part, at) in held.iter_mut().zip((0..main.len()).step_by(2)) {
            *part = &main[at..at + 2];
        }
        &held[..main.len() / 2]
    } else {
        return None;
    };
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty() || p.len() > 2) {
        return None;
    }
    let h = digits(parts[0])?;
    let m = digits(parts[1])?;
    let sec = parts.get(2).map_or(Some(0), |p| digits(p))?;
    let nanos = match frac {
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            let f = &f[..f.len().min(9)];
            digits(f)? * 10u32.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    (h <= 24 && m <= 59 && sec <= 60).then_some((h, m, sec, nanos))
}

/// The parts of `s` between `sep`s, in `held`; `None` when there are more than it holds.
/// Dates are read for every item, and a `Vec` of the parts is one allocation more each.
fn split_at_most<'s, 'h, const N: usize>(
    s: &'s str,
    sep: char,
    held: &'h mut [&'s str; N],
) -> Option<&'h [&'s str]> {
    let mut parts = s.split(sep);
    let mut n = 0;
    for part in parts.by_ref().take(N) {
        held[n] = part;
        n += 1;
    }
    parts.next().is_none().then_some(&held[..n])
}

/// `+hh:mm`, `-hhmm`, `+hh`, `Z`, or a zone name (`GMT`, `EST`, `GMT-01:01`, `Etc/GMT`).
fn zone(s: &str) -> Option<i64> {
    if let Some(rest) = s.strip_prefix(['+', '-']) {
        let sign = if s.starts_with('-') { -1 } else { 1 };
        let (h, m) = match rest.split_once(':') {
            Some((h, m)) if h.len() <= 2 && m.len() == 2 => (digits(h)?, digits(m)?),
            None if rest.len() == 4 && rest.is_ascii() => {
                (digits(&rest[..2])?, digits(&rest[2..])?)
            }
            None if rest.len() <= 2 => (digits(rest)?, 0),
            _ => return None,
        };
        return (h <= 23 && m <= 59).then_some(sign * i64::from(h * 3600 + m * 60));
    }
    // Upper-cased on the stack: every name and `Etc/GMT-01:01` fit, and a longer word is
    // none of them.
    let mut held = [0; 16];
    let upper = held.get_mut(..s.len())?;
    upper.copy_from_slice(s.as_bytes());
    upper.make_ascii_uppercase();
    let upper = std::str::from_utf8(upper).ok()?;
    let upper = upper.strip_prefix("ETC/").unwrap_or(upper);
    for prefix in ["GMT", "UTC", "UT"] {
        if let Some(rest) = upper
            .strip_prefix(prefix)
            .filter(|r| r.starts_with(['+', '-']))
        {
            return zone(rest);
        }
    }
    let hours = match upper {
        "Z" | "UT" | "UTC" | "GMT" | "WET" => 0,
        "EST" | "ET" | "CDT" => -5,
        "EDT" | "AST" | "AT" => -4,
        "ADT" => -3,
        "CST" | "CT" | "MDT" => -6,
        "MST" | "MT" | "PDT" => -7,
        "PST" | "PT" | "AKDT" => -8,
        "AKST" => -9,
        "HST" => -10,
        "MET" | "CET" | "BST" | "WEST" => 1,
        "MEST" | "CEST" | "EET" => 2,
        "EEST" | "MSK" => 3,
        "JST" | "KST" => 9,
        "AEST" => 10,
        "AEDT" => 11,
        "NZST" => 12,
        "NZDT" => 13,
        // RFC 822 military zones, with RFC 822's signs (as feedparser reads them).
        z if z.len() == 1 => match z.as_bytes()[0] {
            c @ b'A'..=b'I' => -i64::from(c - b'A' + 1),
            c @ b'K'..=b'M' => -i64::from(c - b'K' + 10),
            c @ b'N'..=b'Y' => i64::from(c - b'N' + 1),
            _ => return None,
        },
        _ => return None,
    };
    Some(hours * 3600)
}

/// ISO 8601 / W3C-DTF, including the truncated forms of ISO 8601:2000 that feedparser reads.
fn iso8601(s: &str) -> Option<DateTime<Utc>> {
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-') {
        return None;
    }
    let split = s
        .char_indices()
        .find(|&(i, c)| {
            matches!(c, 'T' | 't' | ' ') && i > 0 && s.as_bytes()[i - 1].is_ascii_digit()
        })
        .map_or(s.len(), |(i, _)| i);
    let date = iso_date(&s[..split])?;
    let rest = s[split..].trim_start_matches(['T', 't', ' ']);
    if rest.is_empty() {
        return instant(date, (0, 0, 0, 0), 0);
    }
    let zone_at = rest.find(['Z', 'z', '+', '-', ' ']).unwrap_or(rest.len());
    let time = clock(&rest[..zone_at])?;
    let z = rest[zone_at..].trim();
    let offset = if z.is_empty() { 0 } else { zone(z)? };
    instant(date, time, offset)
}

fn iso_date(s: &str) -> Option<NaiveDate> {
    let ymd = NaiveDate::from_ymd_opt;
    if let Some(rest) = s.strip_prefix('-') {
        // -YYMM and -YY-MM: year and month only.
        let (y, m) = match rest.split_once('-') {
            Some((y, m)) => (y, m),
            None if rest.len() == 4 && rest.is_ascii() => rest.split_at(2),
            None => return None,
        };
        return (y.len() == 2).then(|| ymd(full_year(y)?, digits(m)?, 1))?;
    }
    let mut held = [""; 3];
    match split_at_most(s, '-', &mut held)? {
        [y] if y.len() == 4 => ymd(full_year(y)?, 1, 1),
        [d] if !d.is_ascii() => None,
        [d] if d.len() == 8 => ymd(full_year(&d[..4])?, digits(&d[4..6])?, digits(&d[6..])?),
        [d] if d.len() == 6 => ymd(full_year(&d[..2])?, digits(&d[2..4])?, digits(&d[4..])?),
        [d] if d.len() == 7 => NaiveDate::from_yo_opt(full_year(&d[..4])?, digits(&d[4..])?),
        [y, o] if y.len() == 4 && o.len() == 3 => NaiveDate::from_yo_opt(full_year(y)?, digits(o)?),
        [y, m] if y.len() == 4 && m.len() <= 2 => ymd(full_year(y)?, digits(m)?, 1),
        [y, m, d] if (y.len() == 4 || y.len() == 2) && d.len() <= 2 && !d.is_empty() => {
            let month = digits(m)
                .filter(|_| m.len() <= 3)
                .or_else(|| hungarian_month(m))?;
            ymd(full_year(y)?, month, digits(d)?)
        }
        _ => None,
    }
}

fn hungarian_month(m: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "január",
        "február",
        "március",
        "április",
        "május",
        "június",
        "július",
        "augusztus",
        "szeptember",
        "október",
        "november",
        "december",
    ];
    let m = m.to_lowercase();
    MONTHS.iter().position(|&n| n == m).map(|i| i as u32 + 1)
}

pub(super) fn month(word: &str) -> Option<u32> {
    const EN: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    const GREEK: [(&str, u32); 19] = [
        ("Ιαν", 1),
        ("Φεβ", 2),
        ("Μάώ", 3),
        ("Μαώ", 3),
        ("Μάρ", 3),
        ("Απρ", 4),
        ("Μάι", 5),
        ("Μαϊ", 5),
        ("Μαι", 5),
        ("Ιούν", 6),
        ("Ιον", 6),
        ("Ιούλ", 7),
        ("Ιολ", 7),
        ("Αύγ", 8),
        ("Αυγ", 8),
        ("Σεπ", 9),
        ("Οκτ", 10),
        ("Νοέ", 11),
        ("Δεκ", 12),
    ];
    // Abbreviations in other languages that feeds localise dates into (Italian, Spanish,
    // German, French), where they differ from the English ones.
    const LOCAL: [(&str, u32); 24] = [
        ("gen", 1),
        ("ene", 1),
        ("janv", 1),
        ("févr", 2),
        ("fevr", 2),
        ("mär", 3),
        ("mars", 3),
        ("abr", 4),
        ("avr", 4),
        ("mag", 5),
        ("mai", 5),
        ("giu", 6),
        ("juin", 6),
        ("lug", 7),
        ("juil", 7),
        ("ago", 8),
        ("août", 8),
        ("set", 9),
        ("ott", 10),
        ("okt", 10),
        ("dic", 12),
        ("dez", 12),
        ("déc", 12),
        ("sept", 9),
    ];
    let english = |word: &str| {
        EN.iter()
            .position(|m| m.eq_ignore_ascii_case(word))
            .or_else(|| FULL.iter().position(|m| m.eq_ignore_ascii_case(word)))
            .map(|i| i as u32 + 1)
    };
    if word.is_ascii() {
        // Lower-cased as it is compared: for ASCII, the same as `to_lowercase`.
        let word = word.trim_end_matches('.');
        return english(word).or_else(|| {
            LOCAL
                .iter()
                .find(|(l, _)| l.eq_ignore_ascii_case(word))
                .map(|&(_, m)| m)
        });
    }
    let lower = word.to_lowercase();
    let lower = lower.trim_end_matches('.');
    english(lower)
        .or_else(|| LOCAL.iter().find(|(l, _)| *l == lower).map(|&(_, m)| m))
        .or_else(|| GREEK.iter().find(|(g, _)| *g == word).map(|&(_, m)| m))
}

pub(super) fn is_weekday(word: &str) -> bool {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    const FULL: [&str; 9] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "tues",
        "thur",
    ];
    const GREEK: [&str; 7] = ["Κυρ", "Δευ", "Τρι", "Τετ", "Πεμ", "Παρ", "Σαβ"];
    let bare = word.trim_end_matches('.');
    let named = |days: &[&str]| days.iter().any(|d| d.eq_ignore_ascii_case(bare));
    named(&DAYS) || named(&FULL) || GREEK.contains(&word)
}

/// RFC 822/2822 and its relatives: any order of day, month name and year around a time,
/// as long as every word is one of those, a weekday first, or a zone after the time.
fn rfc822(s: &str) -> Option<DateTime<Utc>> {
    let mut tokens = s
        .split([' ', ',', '\t', '\n', '\r'])
        .filter(|t| !t.is_empty())
        .peekable();
    // A weekday first; in another language, recognised by the comma after it.
    let local_weekday = |t: &str| {
        s.starts_with(&format!("{t},")) && t.chars().all(char::is_alphabetic) && month(t).is_none()
    };
    if tokens
        .peek()
        .is_some_and(|t| is_weekday(t) || local_weekday(t))
    {
        tokens.next();
    }
    let (mut day, mut mon, mut year, mut time, mut offset) = (None, None, None, None, None);
    let mut pm: Option<bool> = None;
    for t in tokens {
        let b = t.as_bytes();
        if b.iter().all(u8::is_ascii_digit) {
            if t.len() <= 2 && day.is_none() {
                day = Some(digits(t)?);
            } else if year.is_none() {
                year = Some(full_year(t)?);
            } else {
                return None;
            }
        } else if t.contains('/') && b[0].is_ascii_digit() && year.is_none() {
            // Perforce: 2006/09/15.
            let mut p = t.split('/');
            let (y, m, d) = (p.next()?, p.next()?, p.next()?);
            if p.next().is_some() || y.len() != 4 {
                return None;
            }
            (year, mon, day) = (Some(full_year(y)?), Some(digits(m)?), Some(digits(d)?));
        } else if t.contains(':') && b[0].is_ascii_digit() && time.is_none() {
            time = Some(clock(t)?);
        } else if time.is_some() && offset.is_none() && zone(t).is_some() {
            offset = zone(t);
        } else if let Some(m) = month(t).filter(|_| mon.is_none()) {
            mon = Some(m);
        } else if time.is_some()
            && pm.is_none()
            && matches!(t.to_ascii_lowercase().as_str(), "am" | "pm")
        {
            pm = Some(t.eq_ignore_ascii_case("pm"));
        } else if offset.is_some() && t.starts_with('(') && t.ends_with(')') {
            // "-0800 (PST)": a comment repeating the zone.
        } else {
            return None;
        }
    }
    let date = NaiveDate::from_ymd_opt(year?, mon?, day?)?;
    let mut time = time.unwrap_or((0, 0, 0, 0));
    match pm {
        Some(_) if time.0 == 0 || time.0 > 12 => return None,
        Some(true) if time.0 < 12 => time.0 += 12,
        Some(false) if time.0 == 12 => time.0 = 0,
        _ => {}
    }
    instant(date, time, offset.unwrap_or(0))
}

/// Korean blog formats: `2004년 05월 28일 01:31:15` and `2004-05-25 오후 11:23:17`, in KST.
fn korean(s: &str) -> Option<DateTime<Utc>> {
    let pm = if s.contains('오') {
        Some(s.contains("오후"))
    } else {
        None
    };
    if pm.is_none() && !s.contains('년') {
        return None;
    }
    let nums: Vec<u32> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .map(digits)
        .collect::<Option<_>>()?;
    let [y, mo, d, mut h, mi, sec] = <[u32; 6]>::try_from(nums).ok()?;
    if pm == Some(true) && h < 12 {
        h += 12;
    }
    instant(
        NaiveDate::from_ymd_opt(y as i32, mo, d)?,
        (h, mi, sec, 0),
        9 * 3600,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Option<String> {
        parse_date(s).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    /// The general readers alone, without the fixed-place one.
    fn general(s: &str) -> Option<DateTime<Utc>> {
        let s = s.trim();
        iso8601(s).or_else(|| rfc822(s)).or_else(|| korean(s))
    }

    /// The fixed-place reader reads the common forms, and whatever it reads, even with a
    /// character changed, dropped or added anywhere, the general readers read the same.
    #[test]
    fn the_fixed_place_reader_agrees_with_the_general_readers() {
        let common = [
            "2026-03-31T21:01:40Z",
            "2026-03-31T21:01:40+02:00",
            "2026-03-31T21:01:40-09:30",
            "2026-03-31T21:01:40.25Z",
            "2026-03-31T21:01:40.123456789123-05:00",
            "2024-02-29T24:00:00Z",
            "Tue, 31 Mar 2026 21:01:40 +0000",
            "Tue, 31 Mar 2026 21:01:40 -0330",
            "Sun, 01 Nov 2026 00:00:60 GMT",
            "Thu, 01 Jan 2004 19:48:21 EST",
            "wed, 07 sep 2002 00:00:01 Z",
        ];
        for s in common {
            let read = canonical(s);
            assert!(read.is_some(), "{s:?} is not read at fixed places");
            assert_eq!(read, general(s), "{s:?}");
        }
        let swaps = b"0159:-+.TZz ,aMG";
        let mut tried = 0;
        for s in common {
            let b = s.as_bytes();
            for at in 0..=b.len() {
                let mut variants = vec![[&b[..at], &b[(at + 1).min(b.len())..]].concat()];
                for &c in swaps {
                    variants.push([&b[..at], &[c], &b[(at + 1).min(b.len())..]].concat());
                    variants.push([&b[..at], &[c], &b[at..]].concat());
                }
                for v in variants {
                    let v = String::from_utf8(v).unwrap();
                    if let Some(read) = canonical(&v) {
                        tried += 1;
                        assert_eq!(Some(read), general(&v), "{v:?}");
                    }
                }
            }
        }
        assert!(
            tried > 200,
            "only {tried} variants were read at fixed places"
        );
    }

    #[test]
    fn rfc822_with_named_and_numeric_zones() {
        assert_eq!(
            utc("Thu, 01 Jan 2004 19:48:21 GMT").as_deref(),
            Some("2004-01-01T19:48:21Z")
        );
        assert_eq!(
            utc("Sat, 07 Sep 2002 00:00:01 EDT").as_deref(),
            Some("2002-09-07T04:00:01Z")
        );
        assert_eq!(
            utc("Sat, 07 Sep 2002 00:00:01 -0330").as_deref(),
            Some("2002-09-07T03:30:01Z")
        );
        assert_eq!(
            utc("Thu, 30 Apr 2015 08:57:00 CEST").as_deref(),
            Some("2015-04-30T06:57:00Z")
        );
        assert_eq!(
            utc("Mon, 26 January 2004 16:31:00 PT").as_deref(),
            Some("2004-01-27T00:31:00Z")
        );
        assert_eq!(
            utc("Wed, 19 Aug 2009 18:28:00 Etc/GMT").as_deref(),
            Some("2009-08-19T18:28:00Z")
        );
        assert_eq!(
            utc("Wed, 19 Feb 2012 22:40:00 GMT-01:01").as_deref(),
            Some("2012-02-19T23:41:00Z")
        );
        assert_eq!(
            utc("Fri, 01 Jan 2010 10:00:00 Z").as_deref(),
            Some("2010-01-01T10:00:00Z")
        );
        assert_eq!(
            utc("Fri, 01 Jan 2010 10:00:00 N").as_deref(),
            Some("2010-01-01T09:00:00Z")
        );
    }

    #[test]
    fn rfc822_sloppy_variants() {
        assert_eq!(
            utc("Thu, 01 Jan 04 19:48:21 GMT").as_deref(),
            Some("2004-01-01T19:48:21Z")
        );
        assert_eq!(
            utc("01 Jan 2004 19:48 GMT").as_deref(),
            Some("2004-01-01T19:48:00Z")
        );
        assert_eq!(
            utc("Mon, 13 Feb, 2012 06:28:00 UTC").as_deref(),
            Some("2012-02-13T06:28:00Z")
        );
        assert_eq!(
            utc("Fri,24 Nov 2023 18:28:36 -0000").as_deref(),
            Some("2023-11-24T18:28:36Z")
        );
        assert_eq!(
            utc("Thu Aug 30 2012 17:26:16 +0200").as_deref(),
            Some("2012-08-30T15:26:16Z")
        );
        assert_eq!(
            utc("Thu, 01 Jan 2004").as_deref(),
            Some("2004-01-01T00:00:00Z")
        );
        assert_eq!(
            utc("Tue, 10 Jun 2003 09:41:01 -0800 (PST)").as_deref(),
            Some("2003-06-10T17:41:01Z")
        );
    }

    #[test]
    fn asctime() {
        assert_eq!(
            utc("Sun Jan  4 16:29:06 2004").as_deref(),
            Some("2004-01-04T16:29:06Z")
        );
        assert_eq!(
            utc("Sun Jul 15 01:16:00 +0000 2012").as_deref(),
            Some("2012-07-15T01:16:00Z")
        );
    }

    #[test]
    fn iso8601_forms() {
        assert_eq!(
            utc("2003-12-31T10:14:55-08:00").as_deref(),
            Some("2003-12-31T18:14:55Z")
        );
        assert_eq!(
            utc("2007-04-23T23:25:47.538+10:00").as_deref(),
            Some("2007-04-23T13:25:47Z")
        );
        assert_eq!(
            utc("2003-12-31T10:14:55").as_deref(),
            Some("2003-12-31T10:14:55Z")
        );
        assert_eq!(utc("2003-12-31").as_deref(), Some("2003-12-31T00:00:00Z"));
        assert_eq!(utc("2003-12").as_deref(), Some("2003-12-01T00:00:00Z"));
        assert_eq!(utc("2003").as_deref(), Some("2003-01-01T00:00:00Z"));
        assert_eq!(utc("2003-335").as_deref(), Some("2003-12-01T00:00:00Z"));
        assert_eq!(
            utc("2004-07-08 23:56:58 -00:20").as_deref(),
            Some("2004-07-09T00:16:58Z")
        );
        assert_eq!(
            utc("20031231T101455Z").as_deref(),
            Some("2003-12-31T10:14:55Z")
        );
        let fine = parse_date("2003-12-31T10:14:55.1234Z").map(|d| d.timestamp_subsec_micros());
        assert_eq!(fine, Some(123_400));
    }

    #[test]
    fn invalid_values_are_rejected() {
        for bad in [
            "2003-12-31T25:14:55Z",
            "2003-12-31T10:61:55Z",
            "2003-12-31T10:14:61Z",
            "9999-12-31T23:59:59-99:99",
            "2013-01-28T11:30:00-06:00Textra",
            "2013-xx-27",
            "Sun, 16 Dec 2012 1:2:3:4 GMT",
            "Sun, 99 Jun 2009 12:00:00 GMT",
            "Sun, 16 zzz 2012 11:47:32 GMT",
            "yesterday",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    /// Weekdays, months and zones are matched without regard to case (Unicode case for the
    /// localised months), and an abbreviation may end with a dot.
    #[test]
    fn names_in_any_case() {
        for (date, want) in [
            // A weekday without a comma after it must be known as one.
            ("THU 01 JAN 2004 19:48:21 GMT", "2004-01-01T19:48:21Z"),
            ("THU, 01 JAN 2004 19:48:21 gmt", "2004-01-01T19:48:21Z"),
            (
                "thu., 01 jan. 2004 19:48:21 Etc/Gmt+01:00",
                "2004-01-01T18:48:21Z",
            ),
            (
                "Tues, 3 SEPTEMBER 2002 10:00:00 cest",
                "2002-09-03T08:00:00Z",
            ),
            ("12 SEPT 2004 10:00:00 Z", "2004-09-12T10:00:00Z"),
            ("12 Févr. 2004 10:00:00 Z", "2004-02-12T10:00:00Z"),
            ("12 FÉVR 2004 10:00:00 Z", "2004-02-12T10:00:00Z"),
            ("12 DÉC 2004 10:00:00 Z", "2004-12-12T10:00:00Z"),
        ] {
            assert_eq!(utc(date).as_deref(), Some(want), "{date}");
        }
        for bad in [
            "THURSDAYS 01 JAN 2004 19:48:21 GMT",
            "2003-12-31-01",
            "2003-12-31T10:14:55:01Z",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn local_formats() {
        assert_eq!(
            utc("Κυρ, 11 Ιούλ 2004 12:00:00 EST").as_deref(),
            Some("2004-07-11T17:00:00Z")
        );
        assert_eq!(
            utc("2004-július-13T9:15-05:00").as_deref(),
            Some("2004-07-13T14:15:00Z")
        );
        assert_eq!(
            utc("2004-05-25 오후 11:23:17").as_deref(),
            Some("2004-05-25T14:23:17Z")
        );
    }
}
