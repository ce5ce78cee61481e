//! Publishing: render each output feed in RSS 2.0, Atom 1.0 and JSON Feed 1.1, plus an OPML
//! index, and write every file atomically, only when its bytes change.

// Placeholder until the writers land: the formats a feed can be published in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub fn all() -> [Format; 3] {
        [Format::Rss, Format::Atom, Format::Json]
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rss" => Ok(Format::Rss),
            "atom" => Ok(Format::Atom),
            "json" => Ok(Format::Json),
            _ => Err(s.to_string()),
        }
    }
}
