//! Collecting one element's content while the XML stream goes by, and turning it into
//! plain text (titles) or HTML (summaries, content) according to how the feed typed it.
//!
//! Three ways to collect: text only (child tags ignored), HTML (text at the top is already
//! HTML source, as in an RSS `description`; stray child elements are serialised back to
//! tags), and XHTML (Atom `type="xhtml"`: everything is markup, text is escaped, and the
//! wrapping `<div>` is dropped). It does not sanitise; that is the normaliser's job.

use std::borrow::Cow;

use super::text;
use super::xml::{Element, Ns};

/// How the element's children are collected.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Text,
    Html,
    Xhtml,
}

/// What the collected characters are.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum How {
    /// Identifiers, URLs, dates: trimmed text.
    Raw,
    /// Plain text.
    Text,
    /// Text that is often escaped HTML in practice (RSS titles): read as HTML when it
    /// looks like HTML.
    MaybeHtml,
    Html,
    Xhtml,
    /// Base64 of text, or of HTML when `html`.
    Base64 {
        html: bool,
    },
}

/// Elements that have no end tag in HTML.
const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// The content of one element so far.
pub struct Capture {
    pub mode: Mode,
    pub how: How,
    pub buf: String,
    /// Local names of the open child elements (markup modes only).
    open: Vec<String>,
    /// XHTML: byte range of the inside of a top-level `<div>`, and whether anything but
    /// whitespace sits outside it.
    div: (Option<usize>, Option<usize>, bool),
}

impl Capture {
    /// A capture that collects into `buf`, emptied first: a buffer passed from one capture to
    /// the next is allocated once, not for every element.
    pub fn new(mode: Mode, how: How, mut buf: String) -> Self {
        buf.clear();
        Capture {
            mode,
            how,
            buf,
            open: Vec::new(),
            div: (None, None, false),
        }
    }

    pub fn start(&mut self, el: &Element) {
        if self.mode == Mode::Text && self.how == How::Text {
            // Text cannot hold elements: a text construct that does holds naked markup
            // (common in Atom 0.3, whose default mode is inline XML). What came before was
            // text, so it is escaped, and the rest is collected as XHTML.
            self.buf = text::escape_html(&self.buf).into_owned();
            self.mode = Mode::Xhtml;
            self.how = How::Xhtml;
            self.div.2 = !self.buf.trim().is_empty();
        }
        if self.mode == Mode::Text {
            return;
        }
        let top = self.open.is_empty();
        let local = el.local();
        if top
            && self.mode == Mode::Html
            && local == "div"
            && self.buf.trim().is_empty()
            && el
                .attr("xmlns")
                .is_some_and(|uri| Ns::from_uri(&uri) == Ns::Xhtml)
        {
            // An HTML construct wrapped in an XHTML `<div>` (TypePad's way): what the
            // wrapper holds is the HTML source; the wrapper itself is not content.
            self.buf.clear();
            self.open.push(String::new());
            return;
        }
        if top && self.mode == Mode::Xhtml {
            if local == "div" && self.div.0.is_none() && self.buf.trim().is_empty() {
                self.buf.clear();
            } else {
                self.div.2 = true;
            }
        }
        self.buf.push('<');
        self.buf.push_str(local);
        for (name, value) in el.attrs() {
            if name == "xmlns" || name.starts_with("xmlns:") || name.starts_with("xml:") {
                continue;
            }
            self.buf.push(' ');
            self.buf.push_str(name);
            self.buf.push_str("=\"");
            text::push_escaped(&mut self.buf, &value);
            self.buf.push('"');
        }
        self.buf.push('>');
        if top && self.mode == Mode::Xhtml && !self.div.2 && local == "div" {
            self.div.0 = Some(self.buf.len());
        }
        self.open.push(local.to_owned());
    }

    pub fn end(&mut self) {
        let Some(local) = self.open.pop() else { return };
        if local.is_empty() {
            return;
        }
        if self.open.is_empty() && self.div.0.is_some() && self.div.1.is_none() && !self.div.2 {
            self.div.1 = Some(self.buf.len());
        }
        if !VOID.contains(&local.as_str()) {
            self.buf.push_str("</");
            self.buf.push_str(&local);
            self.buf.push('>');
        }
    }

    pub fn text(&mut self, t: &str) {
        let top = self.open.is_empty() || self.open == [""];
        match self.mode {
            Mode::Text => self.buf.push_str(t),
            Mode::Html if top => self.buf.push_str(t),
            Mode::Html => text::push_escaped(&mut self.buf, t),
            Mode::Xhtml => {
                if top && self.div.1.is_some() && !t.trim().is_empty() {
                    self.div.2 = true;
                }
                text::push_escaped(&mut self.buf, t);
            }
        }
    }

    /// The collected markup, without the wrapping XHTML `<div>`.
    fn markup(&self) -> &str {
        match self.div {
            (Some(a), Some(b), false) => &self.buf[a..b],
            _ => &self.buf,
        }
    }

    /// The decoded text, without the characters XML forbids (base64 can hold any, and the
    /// document's text is promised free of them: `Document::xml_chars`); when the content
    /// is not base64 of UTF-8 after all (an unknown media type on plain text), the text as
    /// it is.
    fn base64(&self) -> Option<String> {
        let decoded = text::base64_decode(&self.buf).and_then(|b| String::from_utf8(b).ok());
        Some(match decoded {
            Some(decoded) => match text::strip_forbidden(&decoded) {
                Cow::Borrowed(_) => decoded,
                Cow::Owned(stripped) => stripped,
            },
            None => self.buf.clone(),
        })
    }

    /// Plain text: markup removed, references decoded, whitespace collapsed.
    pub fn plain(&self) -> String {
        match self.how {
            How::Raw | How::Text => text::collapse_whitespace(&self.buf),
            How::MaybeHtml if text::looks_like_html(&self.buf) => text::html_to_text(&self.buf),
            How::MaybeHtml => text::collapse_whitespace(&self.buf),
            How::Html | How::Xhtml => text::html_to_text(self.markup()),
            How::Base64 { html: true } => self
                .base64()
                .map(|s| text::html_to_text(&s))
                .unwrap_or_default(),
            How::Base64 { html: false } => self
                .base64()
                .map(|s| text::collapse_whitespace(&s))
                .unwrap_or_default(),
        }
    }

    /// HTML: text escaped, markup as written.
    pub fn html(&self) -> String {
        match self.how {
            How::Raw | How::Text | How::MaybeHtml => {
                text::escape_html(text::trim(&self.buf)).into_owned()
            }
            How::Html | How::Xhtml => text::trim(self.markup()).to_owned(),
            How::Base64 { html: true } => self
                .base64()
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            How::Base64 { html: false } => self
                .base64()
                .map(|s| text::escape_html(s.trim()).into_owned())
                .unwrap_or_default(),
        }
    }
}

/// How an Atom text construct (`title`, `summary`, `content`, …) is typed: Atom 1.0
/// `type="text|html|xhtml|MIME"`, Atom 0.3 `type="MIME"` with `mode="xml|escaped|base64"`.
pub fn atom_construct(el: &Element) -> (Mode, How) {
    let [ty, mode] = el.attrs_named(["type", "mode"]);
    let ty = ty.map(|t| t.to_ascii_lowercase()).unwrap_or_default();
    let ty = ty.split(';').next().unwrap_or_default().trim();
    let html = matches!(ty, "html" | "text/html");
    let xml = matches!(ty, "xhtml" | "application/xhtml+xml")
        || ty.ends_with("+xml")
        || ty.ends_with("/xml");
    let mode = mode.map(|m| m.to_ascii_lowercase());
    match mode.as_deref() {
        Some("base64") => (Mode::Text, How::Base64 { html: html || xml }),
        Some("escaped") if html || xml => (Mode::Html, How::Html),
        Some("escaped") => (Mode::Text, How::Text),
        _ if html => (Mode::Html, How::Html),
        _ if xml => (Mode::Xhtml, How::Xhtml),
        _ if ty.is_empty() || ty == "text" || ty.starts_with("text/") => (Mode::Text, How::Text),
        // Any other media type is base64 (RFC 4287 4.1.3.3).
        _ => (Mode::Text, How::Base64 { html: false }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::xml::{Node, XmlReader};
    use super::*;

    /// Captures the content of the root element of `src` the way `atom_construct` says.
    fn capture(src: &str) -> Capture {
        let base = url::Url::parse("http://example.org/").unwrap();
        let mut r = XmlReader::new(src, &base);
        let mut cap: Option<Capture> = None;
        while let Some(node) = r.next_node() {
            match (node, cap.as_mut()) {
                (Node::Start(el), None) => {
                    let (mode, how) = atom_construct(&el);
                    cap = Some(Capture::new(mode, how, String::new()));
                }
                (Node::Start(el), Some(c)) => c.start(&el),
                (Node::End, Some(c)) => c.end(),
                (Node::Text(t), Some(c)) => c.text(&t),
                _ => {}
            }
        }
        cap.unwrap()
    }

    #[test]
    fn text_is_escaped_into_html() {
        let c =
            capture("<content type='text'>History of the &lt;blink&gt; tag &amp; more</content>");
        assert_eq!(c.html(), "History of the &lt;blink&gt; tag &amp; more");
        assert_eq!(c.plain(), "History of the <blink> tag & more");
    }

    #[test]
    fn naked_markup_in_a_text_construct_is_markup() {
        let c = capture("<summary>Example &amp; <b>Atom</b></summary>");
        assert_eq!(c.html(), "Example &amp; <b>Atom</b>");
        assert_eq!(c.plain(), "Example & Atom");
        let c = capture("<title type='text'><div>Just <em>this</em></div></title>");
        assert_eq!(c.plain(), "Just this");
    }

    #[test]
    fn escaped_html_and_naked_markup() {
        let c = capture("<summary type='html'>&lt;p&gt;A &amp;amp; B&lt;/p&gt;</summary>");
        assert_eq!(
            (c.html().as_str(), c.plain().as_str()),
            ("<p>A &amp; B</p>", "A & B")
        );
        let c = capture(
            "<summary type='text/html' mode='xml'>Example <b>Atom &amp; co</b><br/></summary>",
        );
        assert_eq!(c.html(), "Example <b>Atom &amp; co</b><br>");
    }

    #[test]
    fn html_wrapped_in_an_xhtml_div_is_the_html_inside() {
        let c = capture(
            r#"<content type="html"><div xmlns="http://www.w3.org/1999/xhtml">Example &lt;b&gt;Atom&lt;/b&gt; <i>x</i></div></content>"#,
        );
        assert_eq!(c.html(), "Example <b>Atom</b> <i>x</i>");
        // A div without the XHTML namespace is markup of the content, kept.
        let c = capture(r#"<content type="html"><div>A &lt; B</div></content>"#);
        assert_eq!(c.html(), "<div>A &lt; B</div>");
    }

    #[test]
    fn xhtml_div_is_unwrapped() {
        let src = r#"<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"> <p class="x">A &amp; <a href="/b">B</a></p> </div></content>"#;
        assert_eq!(
            capture(src).html(),
            r#"<p class="x">A &amp; <a href="/b">B</a></p>"#
        );
        let src = r#"<title type="xhtml"><xh:div xmlns:xh="http://www.w3.org/1999/xhtml">Less: &lt;em&gt; <xh:em>x</xh:em></xh:div></title>"#;
        assert_eq!(capture(src).plain(), "Less: <em> x");
    }

    #[test]
    fn base64_content() {
        let c = capture("<content type='text/html' mode='base64'>PHA+SGk8L3A+</content>");
        assert_eq!(c.html(), "<p>Hi</p>");
        let c = capture("<content type='application/octet-stream'>PHA+SGk8L3A+</content>");
        assert_eq!(c.html(), "&lt;p&gt;Hi&lt;/p&gt;");
        let c = capture("<title type='application/x-custom'>test</title>");
        assert_eq!(c.plain(), "test");
    }

    #[test]
    fn rss_titles_decide_by_looking() {
        let mut c = Capture::new(Mode::Text, How::MaybeHtml, String::new());
        c.text("AT&amp;T <b>news</b>");
        assert_eq!(c.plain(), "AT&T news");
        let mut c = Capture::new(Mode::Text, How::MaybeHtml, String::new());
        c.text("1 < 2 & 3 > 2");
        assert_eq!(c.plain(), "1 < 2 & 3 > 2");
    }
}
