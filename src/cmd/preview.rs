//! `syndic preview NAME|URL|PATH [--json]`: fetch and parse one source exactly as a poll
//! would, and show the items — as a table, or as a JSON Feed 1.1 document. Never touches
//! the store; given a URL or a path it needs no config file.

use std::path::Path;

use chrono::{SubsecRound, Utc};
use url::Url;

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE, config_path};
use crate::config::{Config, file_url};
use crate::model::Item;
use crate::publish::{Channel, Format, render};
use crate::source::http::{Fetcher, Validators};
use crate::source::{Polled, poll};

pub async fn preview(explicit: Option<&Path>, target: &str, json: bool) -> u8 {
    let (config, name, url) = match resolve(explicit, target) {
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
    match poll(&fetcher, &name, &url, &Validators::default(), now).await {
        Ok(Polled::Items {
            items,
            format,
            title,
            warning,
            ..
        }) => {
            if let Some(warning) = warning {
                eprintln!("warning: {warning}");
            }
            let title = title.unwrap_or_else(|| name.clone());
            if json {
                let channel = Channel {
                    name: &name,
                    title: &title,
                    description: None,
                    link: None,
                    base_url: None,
                };
                print!("{}", render(Format::Json, &channel, &items));
            } else {
                print_table(&url, &title, &format.to_string(), &items);
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
/// whose limits apply (defaults when there is none), the name to use, and the URL. A config
/// that was not asked for (found in the usual places) and does not load is ignored, with a
/// warning, when the target is a URL or a file: those need no config.
fn resolve(explicit: Option<&Path>, target: &str) -> Result<(Config, String, Url), String> {
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
        return Ok((config.clone(), source.name.clone(), source.url.clone()));
    }
    let url = direct.ok_or_else(|| {
        format!("{target:?} is neither a source in the config, a URL, nor an existing file")
    })??;
    let config = match found {
        Some(config) => config,
        None => Config::parse("", Path::new("syndic.toml")).map_err(|e| e.to_string())?,
    };
    Ok((config, "preview".into(), url))
}

/// The URL `target` names by itself, if it is a URL or an existing file.
fn direct_url(target: &str) -> Option<Result<Url, String>> {
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

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}
