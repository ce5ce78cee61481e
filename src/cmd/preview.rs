//! `syndic preview NAME|URL|PATH [--json]`: fetch and parse one source exactly as a poll
//! would, and show the items — as a table, or as a JSON Feed 1.1 document. Never touches
//! the store; given a URL or a path it needs no config file. For a web-page source the
//! table also says what each selector matched, and warns in plain words about a selector
//! that found nothing or only some of the items, so selectors can be written by trial.

use std::path::Path;

use chrono::{SubsecRound, Utc};
use url::Url;

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE, config_path};
use crate::config::{Config, SourceConfig, file_url};
use crate::model::Item;
use crate::publish::{Channel, Format, render};
use crate::source::html::Report;
use crate::source::http::{Fetcher, Validators};
use crate::source::normalise::finish;
use crate::source::{Polled, poll};

pub async fn preview(explicit: Option<&Path>, target: &str, json: bool) -> u8 {
    let (config, source) = match resolve(explicit, target) {
        Ok(resolved) => resolved,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_USAGE;
        }
    };
    let fetcher = match Fetcher::new(&config.daemon) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e:#}");
            return EXIT_FAILED;
        }
    };
    let now = Utc::now().trunc_subsecs(0);
    let (name, url) = (&source.name, &source.url);
    match poll(&fetcher, &source, &Validators::default(), now).await {
        Ok(Polled::Items {
            mut items,
            format,
            title,
            warning,
            listing,
            ..
        }) => {
            // Shown as a feed would show them.
            items.iter_mut().for_each(finish);
            let selectors = listing.map(|l| l.report);
            if let Some(warning) = warning {
                eprintln!("warning: {warning}");
            }
            if let Some(report) = &selectors {
                for warning in selector_warnings(report) {
                    eprintln!("warning: {warning}");
                }
            }
            let title = title.unwrap_or_else(|| name.clone());
            if json {
                let channel = Channel {
                    name,
                    title: &title,
                    description: None,
                    link: None,
                    base_url: None,
                };
                print!("{}", render(Format::Json, &channel, &items));
            } else {
                print_table(url, &title, &format.to_string(), &items);
                if let Some(report) = &selectors {
                    print_selectors(report);
                }
            }
            EXIT_OK
        }
        Ok(Polled::NotModified { .. }) => {
            eprintln!("error: {url} answered \"not modified\" to an unconditional request");
            EXIT_FAILED
        }
        Err(e) => {
            eprintln!("error: {name}: {url}: {e}");
            EXIT_FAILED
        }
    }
}

/// Works out what `target` names: a configured source, a URL, or a file. Returns the config
/// whose limits apply (defaults when there is none) and the source (a feed named "preview"
/// for a URL or a file). A config
/// that was not asked for (found in the usual places) and does not load is ignored, with a
/// warning, when the target is a URL or a file: those need no config.
fn resolve(explicit: Option<&Path>, target: &str) -> Result<(Config, SourceConfig), String> {
    let direct = direct_url(target);
    let found = match config_path(explicit) {
        Ok(path) if explicit.is_some() || path.is_file() => match Config::load(&path) {
            Ok(config) => Some(config),
            Err(e) if explicit.is_some() || direct.is_none() => return Err(e.to_string()),
            Err(e) => {
                eprintln!("warning: ignoring the config: {e}");
                None
            }
        },
        _ => None,
    };
    if let Some(config) = &found
        && let Some(source) = config.source(target)
    {
        return Ok((config.clone(), source.clone()));
    }
    let url = direct.ok_or_else(|| {
        format!("{target:?} is neither a source in the config, a URL, nor an existing file")
    })??;
    let config = match found {
        Some(config) => config,
        None => Config::parse("", Path::new("syndic.toml")).map_err(|e| e.to_string())?,
    };
    let source = SourceConfig::new("preview", url, &config.daemon);
    Ok((config, source))
}

/// The URL `target` names by itself, if it is a URL or an existing file.
pub(super) fn direct_url(target: &str) -> Option<Result<Url, String>> {
    if target.contains("://") {
        let url = Url::parse(target).map_err(|e| format!("{target:?} is not a URL: {e}"));
        return Some(url.and_then(|url| match url.scheme() {
            "http" | "https" | "file" => Ok(url),
            other => Err(format!("cannot fetch {other:?} URLs")),
        }));
    }
    Path::new(target)
        .is_file()
        .then(|| file_url(Path::new(target)))
}

fn print_table(url: &Url, title: &str, format: &str, items: &[Item]) {
    println!(
        "{title} — {format}, {} item{} — {url}",
        items.len(),
        if items.len() == 1 { "" } else { "s" }
    );
    println!();
    println!("{:<16}  {:<60}  LINK", "DATE (UTC)", "TITLE");
    for item in items {
        let date = item.published.or(item.updated).map_or_else(
            || "(no date)".to_string(),
            |d| d.format("%Y-%m-%d %H:%M").to_string(),
        );
        let title = item.title.as_deref().unwrap_or("(no title)");
        println!(
            "{date:<16}  {:<60}  {}",
            truncate(title, 60),
            item.link.as_deref().unwrap_or("")
        );
    }
}

/// What each selector of a web-page source matched, over every listing page read.
fn print_selectors(report: &Report) {
    println!();
    println!("SELECTORS");
    println!("  item     {:>4} elements", report.items);
    for (key, text, found) in &report.fields {
        println!("  {key:<8} {found:>4} of {} items   {text}", report.items);
    }
    if let Some((text, found)) = &report.next {
        let what = if *found { "found" } else { "not found" };
        println!("  next     {what:>4}   {text}");
    }
}

/// Plain-words warnings about selectors that found nothing, or a value in only some items.
fn selector_warnings(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for (key, text, found) in &report.fields {
        if *found < report.items {
            out.push(format!(
                "{key} matched {found} of {} items (selector {text:?})",
                report.items
            ));
        }
    }
    if let Some((text, false)) = &report.next {
        out.push(format!(
            "next matched no link on the last page read (selector {text:?})"
        ));
    }
    out
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}
