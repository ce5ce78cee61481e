//! Time zones as the config names them: IANA names such as `UTC` or `Europe/Berlin`, the
//! zone in which cron schedules are read.
//!
//! A name must match exactly, as the tz database spells it; a near miss (wrong case, a
//! space for `_`, or a city without its region) is still an error, but one that suggests
//! the right name. Abbreviations such as `CEST` and offsets such as `+02:00` are not zone
//! names: a schedule in local time needs a zone that knows its daylight-saving rules.

use chrono_tz::{TZ_VARIANTS, Tz};

/// Parses an IANA time zone name.
pub fn parse_timezone(text: &str) -> Result<Tz, String> {
    if let Ok(zone) = text.parse::<Tz>() {
        return Ok(zone);
    }
    let suggestions = near_misses(text);
    match suggestions.as_slice() {
        [] => Err(format!(
            "unknown time zone {text:?}: use an IANA name such as \"UTC\" or \"Europe/Berlin\""
        )),
        names => {
            let names: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
            Err(format!(
                "unknown time zone {text:?} (did you mean {}?)",
                names.join(" or ")
            ))
        }
    }
}

/// Zone names that `text` probably meant: the same name in another case or with spaces for
/// underscores, else zones whose last part (the city) is that name. At most three.
fn near_misses(text: &str) -> Vec<&'static str> {
    let wanted = text.trim().replace(' ', "_").to_ascii_lowercase();
    if wanted.is_empty() {
        return Vec::new();
    }
    let names = || TZ_VARIANTS.iter().map(|zone| zone.name());
    if let Some(name) = names().find(|n| n.eq_ignore_ascii_case(&wanted)) {
        return vec![name];
    }
    if wanted.contains('/') {
        return Vec::new();
    }
    names()
        .filter(|n| {
            n.rsplit_once('/')
                .is_some_and(|(_, city)| city.eq_ignore_ascii_case(&wanted))
        })
        .take(3)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_are_read() {
        assert_eq!(parse_timezone("UTC"), Ok(Tz::UTC));
        assert_eq!(parse_timezone("Europe/Berlin"), Ok(Tz::Europe__Berlin));
        assert_eq!(
            parse_timezone("America/Argentina/Buenos_Aires"),
            Ok(Tz::America__Argentina__Buenos_Aires)
        );
        assert_eq!(parse_timezone("Asia/Seoul"), Ok(Tz::Asia__Seoul));
    }

    #[test]
    fn near_misses_are_errors_that_suggest_the_name() {
        for (typed, meant) in [
            ("europe/berlin", "\"Europe/Berlin\""),
            ("utc", "\"UTC\""),
            ("America/New York", "\"America/New_York\""),
            ("Berlin", "\"Europe/Berlin\""),
            ("new york", "\"America/New_York\""),
        ] {
            let error = parse_timezone(typed).unwrap_err();
            assert!(
                error.contains(&format!("did you mean {meant}?")),
                "{typed}: {error}"
            );
        }
    }

    #[test]
    fn unknown_names_say_what_to_write() {
        for typed in ["Mars/Olympus_Mons", "", "+02:00", "Europe/Berlinn"] {
            let error = parse_timezone(typed).unwrap_err();
            assert!(
                error.contains("use an IANA name such as"),
                "{typed}: {error}"
            );
        }
    }
}
