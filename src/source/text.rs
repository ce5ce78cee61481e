//! Small text helpers shared by the feed parsers and the normaliser: entity references,
//! characters XML forbids, HTML escaping, HTML-to-plain-text for titles, whitespace, base64.
//!
//! Everything here works on already-decoded UTF-8 and never fails: unknown references stay
//! literal, forbidden characters vanish. It does not parse HTML properly (that is ammonia's
//! and scraper's job); `html_to_text` is a tag stripper good enough for one-line titles.

use std::borrow::Cow;

use markup5ever::data::NAMED_ENTITIES;

/// Whether XML 1.0 allows `c` in a document (tab, LF, CR, and everything from U+0020 except
/// surrogates, U+FFFE and U+FFFF; Rust chars are never surrogates).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `s` without the characters XML forbids; borrows when there are none. C1 controls
/// (U+0080–U+009F), which in feeds are always windows-1252 bytes decoded as Latin-1, become
/// the characters they meant (`\u{92}` → `’`).
pub fn strip_forbidden(s: &str) -> Cow<'_, str> {
    if !has_forbidden(s) {
        return Cow::Borrowed(s);
    }
    let remap = |c: char| match c as u32 {
        code @ 0x80..=0x9F => char::from_u32(C1_AS_1252[(code - 0x80) as usize]).unwrap_or(c),
        _ => c,
    };
    Cow::Owned(s.chars().filter(|&c| is_xml_char(c)).map(remap).collect())
}

/// Fast check over the bytes: C0 controls other than tab/LF/CR, C1 controls (C2 80–9F), or
/// U+FFFE/U+FFFF (EF BF BE/BF). (One branch-free pass for all three, looking closer only
/// at chunks holding any, took 20 % more instructions than this on the benchmark corpus.)
fn has_forbidden(s: &str) -> bool {
    let b = s.as_bytes();
    // Branch-free over fixed chunks so that it vectorises: this runs over every body.
    let control = |c: u8| (c < 0x20) & (c != b'\t') & (c != b'\n') & (c != b'\r');
    if b.chunks(64)
        .any(|chunk| chunk.iter().fold(false, |bad, &c| bad | control(c)))
    {
        return true;
    }
    let c1 = memchr::memchr_iter(0xC2, b)
        .any(|i| b.get(i + 1).is_some_and(|n| (0x80..0xA0).contains(n)));
    // Not `memmem`: making its searcher cost more than the search of a short text.
    c1 || memchr::memchr_iter(0xEF, b)
        .any(|i| b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE) | Some(0xBF)))
}

/// Windows-1252 meanings of the C1 range, which HTML (and every feed reader) applies to
/// numeric references such as `&#150;`.
const C1_AS_1252: [u32; 32] = [
    0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
];

/// Appends what the reference `&name;` stands for (`name` without `&` and `;`) and returns
/// true, or returns false when `name` is no reference we know. Numeric references to
/// characters XML forbids append nothing (they are dropped, not kept literally).
pub fn push_entity(out: &mut String, name: &str) -> bool {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) if !hex.is_empty() && hex.len() <= 8 => u32::from_str_radix(hex, 16).ok(),
            Some(_) => None,
            None if !num.is_empty() && num.len() <= 10 => num.parse::<u32>().ok(),
            None => None,
        };
        let Some(mut code) = code else { return false };
        if (0x80..0xA0).contains(&code) {
            code = C1_AS_1252[(code - 0x80) as usize];
        }
        if let Some(c) = char::from_u32(code).filter(|&c| is_xml_char(c)) {
            out.push(c);
        }
        return true;
    }
    let predefined = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    };
    if let Some(c) = predefined {
        out.push(c);
        return true;
    }
    if name.is_empty() || name.len() > 40 || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let mut key = [0u8; 41];
    key[..name.len()].copy_from_slice(name.as_bytes());
    key[name.len()] = b';';
    let Ok(key) = std::str::from_utf8(&key[..=name.len()]) else {
        return false;
    };
    match NAMED_ENTITIES.get(key) {
        Some(&(a, b)) if a != 0 => {
            out.extend(char::from_u32(a));
            if b != 0 {
                out.extend(char::from_u32(b));
            }
            true
        }
        _ => false,
    }
}

/// Decodes every entity and character reference in `s` (XML and HTML5 names); a `&` that
/// starts no known reference stays literal. Borrows when `s` has no `&`.
pub fn unescape(s: &str) -> Cow<'_, str> {
    let Some(first) = memchr::memchr(b'&', s.as_bytes()) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..first]);
    let mut rest = &s[first..];
    while let Some(amp) = memchr::memchr(b'&', rest.as_bytes()) {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let name_end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map(|i| i + 1);
        match name_end {
            Some(end) if rest[end..].starts_with(';') && push_entity(&mut out, &rest[1..end]) => {
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Escapes `&`, `<`, `>` and `"` so that `s` reads as text in HTML or XML (also inside a
/// double-quoted attribute).
pub fn escape_html(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| matches!(b, b'&' | b'<' | b'>' | b'"')) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    push_escaped(&mut out, s);
    Cow::Owned(out)
}

/// Appends `s` to `out`, escaped as by [`escape_html`].
pub fn push_escaped(out: &mut String, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// `s.trim()`, answered from the two end bytes when neither can be whitespace (printable
/// ASCII other than the space), as for nearly every value a feed holds: `str::trim` reads a
/// character at each end, some fifty instructions, and every captured value is trimmed.
pub fn trim(s: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x80);
    match plain(s.as_bytes().first()) && plain(s.as_bytes().last()) {
        true => s,
        false => s.trim(),
    }
}

/// Collapses runs of whitespace into one space and trims the ends.
pub fn collapse_whitespace(s: &str) -> String {
    if is_collapsed(s) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The bytes of `block` that `hit` picks as 0xFF, the others as 0, the first byte lowest:
/// so the first such is at `trailing_zeros() / 8`, and none is 0. Written so that it
/// compiles to a few vector instructions (SSE2 on x86-64) for a simple `hit`.
#[inline(always)]
pub fn flags16(block: &[u8; 16], hit: impl Fn(u8) -> bool) -> u128 {
    let mut flags = [0u8; 16];
    for (flag, &c) in flags.iter_mut().zip(block) {
        *flag = u8::from(hit(c)).wrapping_neg();
    }
    u128::from_le_bytes(flags)
}

/// Whether [`collapse_whitespace`] leaves `s` as it is. It may say no of a string it would
/// leave, one with a non-ASCII character that only shares its lead byte with a space.
pub fn is_collapsed(s: &str) -> bool {
    // Most strings are already collapsed: no ASCII whitespace but single inner spaces, and no
    // lead byte of a non-ASCII space (U+0085, U+00A0, U+1680, U+2000–U+205F, U+3000).
    let b = s.as_bytes();
    let other = |c: u8| {
        matches!(
            c,
            b'\t' | b'\n' | b'\r' | 0x0B | 0x0C | 0xC2 | 0xE1 | 0xE2 | 0xE3
        )
    };
    // Branch-free so that it vectorises: this runs on every title, name and category, and
    // looking byte by byte for each until one was found cost 440 instructions a string.
    let double = b.iter().zip(&b[1.min(b.len())..]);
    b.first() != Some(&b' ')
        && b.last() != Some(&b' ')
        && !b.iter().fold(false, |bad, &c| bad | other(c))
        && !double.fold(false, |bad, (&x, &y)| bad | ((x == b' ') & (y == b' ')))
}

/// Whether `s` contains something that reads as an HTML tag or an entity reference: the
/// test for "this RSS title was really escaped HTML". A tag counts only when it names an
/// HTML element, so a title about `<Tags>` or `Vec<String>` stays text.
pub fn looks_like_html(s: &str) -> bool {
    let b = s.as_bytes();
    let last_gt = memchr::memrchr(b'>', b);
    let tag = memchr::memchr_iter(b'<', b).any(|i| {
        let start = if b.get(i + 1) == Some(&b'/') {
            i + 2
        } else {
            i + 1
        };
        let len = b[start.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let name = &s[start.min(s.len())..start.min(s.len()) + len];
        // A tag name ends at `>`, `/` or HTML whitespace (space, tab, LF, FF, CR).
        let ends = matches!(
            b.get(start + len),
            Some(b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
        );
        len > 0 && ends && last_gt.is_some_and(|gt| gt > i) && is_html_element(name)
    });
    tag || (memchr::memchr(b'&', b).is_some() && unescape(s) != s)
}

/// HTML element names, for [`looks_like_html`]: every element of the WHATWG HTML standard
/// (with `math` and `svg`, which it embeds) and the obsolete ones it still lists (`font`,
/// `marquee`, `xmp` …), lowercase and sorted for a binary search.
const HTML_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "applet",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "base",
    "basefont",
    "bdi",
    "bdo",
    "bgsound",
    "big",
    "blink",
    "blockquote",
    "body",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "datalist",
    "dd",
    "del",
    "details",
    "dfn",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hgroup",
    "hr",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "isindex",
    "kbd",
    "keygen",
    "label",
    "legend",
    "li",
    "link",
    "listing",
    "main",
    "map",
    "mark",
    "marquee",
    "math",
    "menu",
    "menuitem",
    "meta",
    "meter",
    "multicol",
    "nav",
    "nextid",
    "nobr",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "param",
    "picture",
    "plaintext",
    "pre",
    "progress",
    "q",
    "rb",
    "rp",
    "rt",
    "rtc",
    "ruby",
    "s",
    "samp",
    "script",
    "search",
    "section",
    "select",
    "selectedcontent",
    "slot",
    "small",
    "source",
    "spacer",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "svg",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "title",
    "tr",
    "track",
    "tt",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
    "xmp",
];

/// Whether `name` (any case) is in [`HTML_ELEMENTS`].
fn is_html_element(name: &str) -> bool {
    HTML_ELEMENTS
        .binary_search_by(|e| e.bytes().cmp(name.bytes().map(|b| b.to_ascii_lowercase())))
        .is_ok()
}

/// Plain text of an HTML fragment: tags and comments removed, references decoded,
/// whitespace collapsed. For titles; block structure is not preserved.
pub fn html_to_text(s: &str) -> String {
    let b = s.as_bytes();
    let mut stripped = String::with_capacity(s.len());
    let mut i = 0;
    let mut last = 0;
    while let Some(off) = memchr::memchr(b'<', &b[i..]) {
        let lt = i + off;
        let next = b.get(lt + 1).copied().unwrap_or(b' ');
        let tag_like = next.is_ascii_alphabetic() || matches!(next, b'/' | b'!' | b'?');
        let end = if s[lt..].starts_with("<!--") {
            s[lt..].find("-->").map(|e| lt + e + 3)
        } else if tag_like {
            tag_end(&b[lt..]).map(|e| lt + e + 1)
        } else {
            None
        };
        match end {
            Some(end) => {
                stripped.push_str(&s[last..lt]);
                stripped.push(' ');
                last = end;
                i = end;
            }
            // An unclosed tag or comment: no later one can close either, the rest is text.
            None if tag_like => break,
            None => i = lt + 1,
        }
    }
    stripped.push_str(&s[last..]);
    // A tag boundary is a word boundary only for block elements; inline tags such as <b>
    // sit inside words too rarely to matter in a title, so spaces are collapsed after.
    collapse_whitespace(&unescape(&stripped))
}

/// Index of the `>` that closes the tag at the start of `b`, skipping quoted attribute
/// values (`alt="a<br>b"`; a quote only opens a value right after `=`).
fn tag_end(b: &[u8]) -> Option<usize> {
    let mut quote = None;
    let mut after_eq = false;
    for (i, &c) in b.iter().enumerate() {
        match (quote, c) {
            (None, b'"' | b'\'') if after_eq => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            after_eq = c == b'=';
        }
    }
    None
}

/// Decodes standard or URL-safe base64, ignoring whitespace; None when it is not base64.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b if b.is_ascii_whitespace() => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The windows-1252 byte a character is, for the characters that stand for bytes 0x80 to
/// 0xFF when UTF-8 is misread as windows-1252 (or ISO-8859-1, for the five bytes
/// windows-1252 leaves undefined).
fn cp1252_byte(c: char) -> Option<u8> {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match c as u32 {
        0xA0..=0xFF => Some(c as u8),
        _ => HIGH.iter().position(|h| *h == c).map(|i| 0x80 + i as u8),
    }
}

/// Repairs UTF-8 that was read as windows-1252 and encoded again ("Itâ€™s" for "It’s",
/// "â€¦" for "…"), a common fault of feeds. Only a run that reads as whole UTF-8 sequences
/// (a lead byte 0xC2–0xF4 and its continuation bytes) is replaced, so text that merely
/// has accented letters ("Café", "naïve") is left alone.
pub fn repair_mojibake(s: &str) -> Cow<'_, str> {
    // Every lead byte misread is a character from Â to ô, all of which UTF-8 starts with
    // 0xC3, and the character after it stands for a byte 0x80–0xBF in windows-1252: U+0080
    // to U+00BF or one of its punctuation marks and letters, which UTF-8 starts with 0xC2,
    // 0xC5, 0xC6, 0xCB or 0xE2. Text with accents but no such pair ("Café", "naïve") is
    // passed over without decoding it.
    let b = s.as_bytes();
    if !memchr::memchr_iter(0xC3, b)
        .any(|i| matches!(b.get(i + 2), Some(0xC2 | 0xC5 | 0xC6 | 0xCB | 0xE2)))
    {
        return Cow::Borrowed(s);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        let lead = chars[i] as u32;
        let need = match lead {
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF4 => 3,
            _ => 0,
        };
        if need > 0 && i + need < chars.len() {
            let mut bytes = vec![lead as u8];
            for c in chars.iter().skip(i + 1).take(need) {
                match cp1252_byte(*c) {
                    Some(b @ 0x80..=0xBF) => bytes.push(b),
                    _ => break,
                }
            }
            if bytes.len() == need + 1
                && let Ok(fixed) = std::str::from_utf8(&bytes)
            {
                out.push_str(fixed);
                changed = true;
                i += need + 1;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check that finds nothing to collapse never misses what there is.
    #[test]
    fn whitespace_is_collapsed_as_split_whitespace_reads_it() {
        let pieces = [
            "a", "bc", " ", "  ", "\t", "\n", "\r", "\u{B}", "\u{C}", "\u{85}", "\u{A0}",
            "\u{1680}", "\u{2003}", "\u{200B}", "\u{2028}", "\u{202F}", "\u{205F}", "\u{3000}",
            "é", "日本", "€",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    for s in [
                        format!("{a}{b}{c}"),
                        format!("x{a}y{b}z{c}w"),
                        format!("{a} {b}"),
                    ] {
                        let words: Vec<&str> = s.split_whitespace().collect();
                        assert_eq!(collapse_whitespace(&s), words.join(" "), "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn trim_is_str_trim() {
        let ends = [
            "", " ", "\t", "\n", "\u{85}", "\u{a0}", "\u{3000}", "\u{1c}", "a", "~", "\u{7f}", "é",
            "日",
        ];
        for a in ends {
            for b in ends {
                for middle in ["", "x", " x ", "\u{a0}"] {
                    let s = format!("{a}{middle}{b}");
                    assert_eq!(trim(&s), s.trim(), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn forbidden_characters_are_dropped() {
        assert_eq!(strip_forbidden("a\u{1}b\u{FFFE}c\u{FFFF}d\te"), "abcd\te");
        assert_eq!(strip_forbidden("\u{FEFF}b\u{FFFE}c\u{FFFF}"), "\u{FEFF}bc");
        assert!(matches!(
            strip_forbidden("\u{FFFD}\u{EFFF}"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(strip_forbidden("plain é"), Cow::Borrowed(_)));
        assert_eq!(
            strip_forbidden("don\u{92}t \u{85}"),
            "don\u{2019}t \u{2026}"
        );
    }

    /// The check finds a forbidden character in any place, across the end of a chunk it
    /// reads too, and only those: lead bytes of allowed characters are looked at and passed.
    #[test]
    fn forbidden_characters_are_found_in_every_place() {
        let forbidden = |s: &str| {
            s.chars()
                .any(|c| !is_xml_char(c) || ('\u{80}'..='\u{9F}').contains(&c))
        };
        let marks = [
            '\u{1}',
            '\u{1F}',
            '\u{80}',
            '\u{9F}',
            '\u{FFFE}',
            '\u{FFFF}',
            '\t',
            '\n',
            '\r',
            ' ',
            '\u{A0}',
            '\u{C2}',
            '\u{FFFD}',
            '\u{FF01}',
            '\u{FEFF}',
            'é',
            '日',
            '\u{10000}',
        ];
        for len in (0..8).chain(60..70).chain(124..132) {
            for at in 0..=len {
                for mark in marks {
                    let s: String = (0..len).map(|_| 'a').collect();
                    let s = format!("{}{mark}{}", &s[..at], &s[at..]);
                    assert_eq!(
                        has_forbidden(&s),
                        forbidden(&s),
                        "{mark:?} at {at} of {len}"
                    );
                    for later in marks {
                        let s = format!("{s}{later}");
                        assert_eq!(has_forbidden(&s), forbidden(&s), "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn entities_resolve_xml_html_and_numeric() {
        assert_eq!(unescape("a &amp; b &lt;&gt;&quot;&apos;"), "a & b <>\"'");
        assert_eq!(unescape("caf&eacute;&nbsp;&hellip;"), "café\u{a0}…");
        assert_eq!(unescape("&#65;&#x42;&#X43;"), "ABC");
        assert_eq!(unescape("&#150;&#x92;"), "\u{2013}\u{2019}");
    }

    #[test]
    fn unknown_and_bare_ampersands_stay_literal() {
        assert_eq!(unescape("AT&T & co &bogus; &"), "AT&T & co &bogus; &");
    }

    #[test]
    fn references_to_forbidden_characters_are_dropped() {
        assert_eq!(unescape("a&#0;b&#x1;c&#xFFFE;d&#xD800;e"), "abcde");
    }

    #[test]
    fn escaping_covers_markup_characters() {
        assert_eq!(escape_html(r#"a<b>&"c""#), "a&lt;b&gt;&amp;&quot;c&quot;");
        assert!(matches!(escape_html("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn html_to_text_strips_tags_and_decodes() {
        assert_eq!(
            html_to_text("<p>Hello <b>w&ouml;rld</b></p>\n  again"),
            "Hello wörld again"
        );
        assert_eq!(html_to_text("1 < 2 and 3 > 2"), "1 < 2 and 3 > 2");
        assert_eq!(html_to_text("a <!-- c --> b"), "a b");
        assert_eq!(
            html_to_text(r#"<img alt="cat<br />dog" src="x.jpg"> cat"#),
            "cat"
        );
        assert_eq!(html_to_text(r#"<a href=http://x/">link</a>"#), "link");
    }

    #[test]
    fn html_detection() {
        assert!(looks_like_html("<b>bold</b>"));
        assert!(looks_like_html("AT&amp;T"));
        assert!(!looks_like_html("1 < 2 & 3 > 2"));
        assert!(!looks_like_html("plain"));
    }

    #[test]
    fn mojibake_is_repaired_and_accents_are_not() {
        assert_eq!(repair_mojibake("Itâ€™s â€¦ Â£5"), "It’s … £5");
        assert_eq!(repair_mojibake("Ã©tÃ© Ã\u{a0}Paris"), "été àParis");
        for fine in ["Café naïve Ærø", "plain", "Ã", "Â pas", "€100", "Größe"] {
            assert_eq!(repair_mojibake(fine), fine);
            assert!(matches!(repair_mojibake(fine), Cow::Borrowed(_)));
        }
        assert!(!looks_like_html("Episode 12: Ünïcode & <Tags>"));
        assert!(!looks_like_html("Why Vec<String> beats Vec<&str>"));
        assert!(looks_like_html("An <em>odd</em> one"));
        assert!(looks_like_html("Line<br/>break"));
    }

    #[test]
    fn html_detection_knows_every_element() {
        assert!(
            HTML_ELEMENTS.windows(2).all(|w| w[0] < w[1]),
            "sorted, for the binary search"
        );
        assert!(
            HTML_ELEMENTS
                .iter()
                .all(|e| !e.bytes().any(|b| b.is_ascii_uppercase()))
        );
        for name in [
            "label",
            "nobr",
            "template",
            "textarea",
            "select",
            "option",
            "title",
            "svg",
            "math",
            "dl",
            "dialog",
            "canvas",
            "noscript",
            "base",
            "bdi",
            "bdo",
            "data",
            "output",
            "meter",
            "progress",
            "rp",
            "rt",
            "ruby",
            "legend",
            "fieldset",
            "optgroup",
            "colgroup",
            "map",
            "param",
            "track",
            "slot",
            "hgroup",
            "search",
            "menu",
            "frame",
            "frameset",
            "noframes",
            "xmp",
            "listing",
            "plaintext",
            "marquee",
            "blink",
            "a",
            "wbr",
            "TEXTAREA",
            "Svg",
        ] {
            assert!(looks_like_html(&format!("x <{name}>y")), "{name}");
            assert!(looks_like_html(&format!("x </{name}> y")), "{name}");
        }
        for name in ["tags", "string", "labels", "sv", "image", "custom-element"] {
            assert!(!looks_like_html(&format!("x <{name}>y")), "{name}");
        }
    }

    #[test]
    fn html_tag_names_end_at_any_html_whitespace() {
        for space in [" ", "\t", "\n", "\r", "\x0c"] {
            assert!(
                looks_like_html(&format!("<b{space}class=x>bold</b")),
                "{space:?}"
            );
        }
        assert!(!looks_like_html("<b\x0bclass=x>"));
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(
            base64_decode("RXhhbXBsZSA8Yj5BdG9tPC9iPg==").as_deref(),
            Some(&b"Example <b>Atom</b>"[..])
        );
        assert_eq!(base64_decode("not base64!"), None);
    }
}
