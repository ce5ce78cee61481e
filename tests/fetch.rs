//! Fetching as servers really answer: compressed bodies (gzip, deflate, brotli) and
//! redirects, after which relative links resolve against the final URL.

use std::io::Write;

use url::Url;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Site, fixture, fixture_response};

fn compress(encoding: &str, data: &[u8]) -> Vec<u8> {
    match encoding {
        "gzip" => {
            let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            w.write_all(data).unwrap();
            w.finish().unwrap()
        }
        "deflate" => {
            let mut w = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            w.write_all(data).unwrap();
            w.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                w.write_all(data).unwrap();
            }
            out
        }
        other => panic!("no encoder for {other}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn compressed_bodies_are_decoded() {
    let server = MockServer::start().await;
    let plain = fixture("http/alpha.rss");
    let mut config = String::new();
    for encoding in ["gzip", "deflate", "br"] {
        Mock::given(path(format!("/{encoding}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-encoding", encoding)
                    .set_body_bytes(compress(encoding, &plain)),
            )
            .mount(&server)
            .await;
        config.push_str(&format!(
            "[[source]]\nname = \"{encoding}\"\nurl = \"{}/{encoding}\"\n\n",
            server.uri()
        ));
    }
    let site = Site::new(&config);
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    for encoding in ["gzip", "deflate", "br"] {
        assert!(
            run.stderr
                .contains(&format!("source={encoding} status=200 new=3")),
            "{encoding}: {}",
            run.stderr
        );
    }
    let requests = server.received_requests().await.unwrap();
    let accepted = requests[0]
        .headers
        .get("accept-encoding")
        .unwrap()
        .to_str()
        .unwrap();
    for encoding in ["gzip", "deflate", "br"] {
        assert!(accepted.contains(encoding), "{accepted}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_followed_and_links_resolve_against_the_final_url() {
    let old = MockServer::start().await;
    let new = MockServer::start().await;
    Mock::given(path("/feed"))
        .respond_with(
            ResponseTemplate::new(301)
                .insert_header("location", format!("{}/moved/feed.atom", new.uri())),
        )
        .mount(&old)
        .await;
    Mock::given(path("/moved/feed.atom"))
        .respond_with(fixture_response("beta.atom"))
        .mount(&new)
        .await;
    let site = Site::new(&format!(
        "[[source]]\nname = \"beta\"\nurl = \"{}/feed\"\n\n[[feed]]\nname = \"merged\"\n",
        old.uri()
    ));
    let run = site.syndic(&["once"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let bytes = std::fs::read(site.public("merged.atom")).unwrap();
    let base = Url::parse("https://feeds.example.org/").unwrap();
    let doc = syndic::source::feed::parse(&bytes, None, &base).unwrap();
    let own = doc
        .entries
        .iter()
        .find(|e| e.title.as_deref() == Some("Beta own"))
        .unwrap();
    assert_eq!(
        own.link.as_deref(),
        Some(format!("{}/own", new.uri()).as_str())
    );
    assert!(
        own.content
            .as_deref()
            .unwrap()
            .contains(&format!("{}/more", new.uri())),
        "{:?}",
        own.content
    );
}
