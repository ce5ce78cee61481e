//! Durations ("30s", "12h", "30d", "1h30m") and sizes ("8MiB", "512 KB", "1000") as people
//! write them in the config file.
//!
//! Deliberately small: whole numbers and a fixed set of units, nothing locale-dependent.

use std::time::Duration;

/// Parses a duration: one or more `NUMBER UNIT` pairs, units `ms`, `s`, `m`, `h`, `d`, `w`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err("empty duration; write e.g. \"30s\", \"12h\" or \"30d\"".into());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "{text:?} is not a duration; write e.g. \"30s\", \"12h\" or \"30d\""
            ));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{text:?}: number too large"))?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let seconds_per = match &rest[..unit_len] {
            "ms" => None,
            "s" | "sec" | "secs" => Some(1),
            "m" | "min" | "mins" => Some(60),
            "h" | "hour" | "hours" => Some(3600),
            "d" | "day" | "days" => Some(86_400),
            "w" | "week" | "weeks" => Some(604_800),
            "" => return Err(format!("{text:?} has no unit; write e.g. \"{number}s\"")),
            unit => {
                return Err(format!(
                    "{text:?}: unknown unit {unit:?} (use ms, s, m, h, d or w)"
                ));
            }
        };
        let part = match seconds_per {
            None => Duration::from_millis(number),
            Some(per) => Duration::from_secs(
                number
                    .checked_mul(per)
                    .ok_or_else(|| format!("{text:?}: duration too large"))?,
            ),
        };
        total += part;
        rest = rest[unit_len..].trim_start();
    }
    Ok(total)
}

/// Parses a size in bytes: a whole number with an optional unit `B`, `KB`/`MB`/`GB` (powers of
/// 1000) or `KiB`/`MiB`/`GiB` (powers of 1024), case-insensitive.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    if digits == 0 {
        return Err(format!(
            "{text:?} is not a size; write e.g. \"8MiB\" or \"500KB\""
        ));
    }
    let number: u64 = trimmed[..digits]
        .parse()
        .map_err(|_| format!("{text:?}: number too large"))?;
    let unit = trimmed[digits..].trim().to_ascii_lowercase();
    let multiplier: u64 = match unit.as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1_000,
        "mb" | "m" => 1_000_000,
        "gb" | "g" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit (use B, KB, MB, GB, KiB, MiB or GiB)"
            ));
        }
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{text:?}: size too large"))
}

/// Writes a duration the way [`parse_duration`] reads it, to the second: "1d2h", "40m", "0s".
pub fn format_duration(d: Duration) -> String {
    let mut left = d.as_secs();
    let mut out = String::new();
    for (unit, secs) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if left >= secs {
            out.push_str(&format!("{}{unit}", left / secs));
            left %= secs;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_people_write() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2w"), Ok(Duration::from_secs(14 * 86_400)));
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(parse_duration("30x").unwrap_err().contains("unknown unit"));
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("500 KB"), Ok(500_000));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("2gib"), Ok(2 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("8 MiBs").is_err());
    }

    #[test]
    fn formatted_durations_read_back() {
        for secs in [0, 1, 59, 60, 3_600, 5_400, 86_400, 90_061, 1_209_600] {
            let text = format_duration(Duration::from_secs(secs));
            assert_eq!(
                parse_duration(&text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
        }
        assert_eq!(format_duration(Duration::from_secs(5_400)), "1h30m");
    }
}
