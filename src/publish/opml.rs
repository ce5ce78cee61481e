//! `index.opml`: an OPML 2.0 list of every file syndic publishes, for importing into a reader.
//!
//! One `outline type="rss"` per published file, in the order given (feeds, then each feed's
//! formats), titled with the feed title and the format so that three copies of one feed
//! can be told apart. `xmlUrl` is absolute when `base_url` is set, else the bare file name
//! (relative to the index itself). No `dateCreated` or `dateModified`: the index changes only
//! when the list does. Reading OPML (`syndic opml import`) lives elsewhere.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use url::Url;

use super::{Format, file_name, file_url, xml_clean};

/// One published feed and the formats it is written in.
#[derive(Clone, Copy, Debug)]
pub struct OpmlFeed<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub formats: &'a [Format],
}

/// Renders the OPML index.
pub fn render(title: &str, base_url: Option<&Url>, feeds: &[OpmlFeed]) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write(&mut w, title, base_url, feeds).expect("writing XML into a Vec<u8> cannot fail");
    let mut text = String::from_utf8_lossy(&w.into_inner()).into_owned();
    text.push('\n');
    text
}

fn write(
    w: &mut Writer<Vec<u8>>,
    title: &str,
    base_url: Option<&Url>,
    feeds: &[OpmlFeed],
) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    w.create_element("opml")
        .with_attribute(("version", "2.0"))
        .write_inner_content(|w| {
            w.create_element("head").write_inner_content(|w| {
                w.create_element("title")
                    .write_text_content(BytesText::new(&xml_clean(title)))?;
                Ok(())
            })?;
            w.create_element("body").write_inner_content(|w| {
                for feed in feeds {
                    for &format in feed.formats {
                        outline(w, base_url, feed, format)?;
                    }
                }
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(())
}

fn outline(
    w: &mut Writer<Vec<u8>>,
    base_url: Option<&Url>,
    feed: &OpmlFeed,
    format: Format,
) -> io::Result<()> {
    let file = file_name(feed.name, format);
    let url = base_url.and_then(|b| file_url(b, &file)).unwrap_or(file);
    let text = xml_clean(&format!("{} ({})", feed.title, format.label())).into_owned();
    w.create_element("outline")
        .with_attribute(("type", "rss"))
        .with_attribute(("text", text.as_str()))
        .with_attribute(("title", text.as_str()))
        .with_attribute(("xmlUrl", xml_clean(&url).as_ref()))
        .write_empty()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::golden;
    use quick_xml::events::Event;
    use quick_xml::{Reader, XmlVersion};

    const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    fn feeds() -> Vec<OpmlFeed<'static>> {
        vec![
            OpmlFeed {
                name: "asia",
                title: "Asia, merged & <more>",
                formats: &ALL,
            },
            OpmlFeed {
                name: "podcasts",
                title: "Podcasts",
                formats: &[Format::Rss],
            },
        ]
    }

    /// `xmlUrl` of every outline, read back with a real XML parser.
    fn xml_urls(text: &str) -> Vec<String> {
        let mut reader = Reader::from_str(text);
        let mut urls = Vec::new();
        loop {
            match reader.read_event().expect("output is well-formed") {
                Event::Empty(e) if e.name().as_ref() == "outline" => {
                    let attr = e.try_get_attribute("xmlUrl").unwrap().unwrap();
                    urls.push(
                        attr.normalized_value(XmlVersion::Explicit1_0)
                            .unwrap()
                            .into_owned(),
                    );
                }
                Event::Eof => break,
                _ => {}
            }
        }
        urls
    }

    #[test]
    fn golden_file() {
        let base = Url::parse(golden::BASE_URL).unwrap();
        let text = render("syndic feeds", Some(&base), &feeds());
        golden::compare("index.opml", &text);
    }

    #[test]
    fn one_outline_per_file_with_absolute_urls() {
        let base = Url::parse("https://feeds.example.org/x/").unwrap();
        let urls = xml_urls(&render("t", Some(&base), &feeds()));
        assert_eq!(
            urls,
            [
                "https://feeds.example.org/x/asia.rss",
                "https://feeds.example.org/x/asia.atom",
                "https://feeds.example.org/x/asia.json",
                "https://feeds.example.org/x/podcasts.rss",
            ]
        );
    }

    #[test]
    fn bare_file_names_without_base_url() {
        let text = render("t", None, &feeds());
        assert_eq!(
            xml_urls(&text),
            ["asia.rss", "asia.atom", "asia.json", "podcasts.rss"]
        );
        assert!(text.contains("text=\"Asia, merged &amp; &lt;more&gt; (Atom)\""));
    }

    #[test]
    fn no_feeds_is_still_a_document() {
        let text = render("t\u{0}", None, &[]);
        assert!(xml_urls(&text).is_empty());
        assert!(text.contains("<title>t</title>"));
    }
}
