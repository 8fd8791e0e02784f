//! Saved searches over HTTP: list, add and remove them, and read each as an Atom 1.0 feed
//! (RFC 4287) of its latest matches, for any feed reader.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::AppState;
use super::api::{ApiError, answer, run_service};
use crate::hash::Fnv64;
use crate::results::Hit;
use crate::service::{ServiceError, WatchReport, stamp_time};
use crate::watch::Watch;

/// Entries in a feed: the latest matches.
const FEED_ENTRIES: usize = 50;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/watches", get(list))
        .route("/api/watches/{name}", get(show).post(add).delete(remove))
        .route("/feeds/{file}", get(feed))
}

async fn list(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    answer(state, |state| state.search.watches(&state.watches)).await
}

async fn show(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    answer(state, move |state| {
        state.search.watch_status(&state.watches, &name)
    })
    .await
}

#[derive(Deserialize)]
struct NewWatch {
    query: String,
    note: Option<String>,
}

async fn add(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    body: Result<Json<NewWatch>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    refuse_changes(&state)?;
    let Json(new) = body.map_err(|rejection| {
        ApiError::new(
            rejection.status(),
            format!(
                "expected {{\"query\": \"...\", \"note\": \"...\"}}: {}",
                rejection.body_text()
            ),
        )
    })?;
    let query = state.checked_query(Some(new.query))?;
    let mut response = answer(state, move |state| {
        state
            .search
            .add_watch(&state.watches, &name, &query, new.note)
    })
    .await?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

async fn remove(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    refuse_changes(&state)?;
    answer(state, move |state| {
        state.watches.remove(&name).map_err(ServiceError::from)
    })
    .await
}

fn refuse_changes(state: &AppState) -> Result<(), ApiError> {
    if state.read_only {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this server is read-only (--read-only): saved searches cannot be changed here",
        ));
    }
    Ok(())
}

/// `GET /feeds/NAME.atom`: the watch's latest matches, with an ETag so that a reader that
/// has them gets 304.
async fn feed(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(name) = file.strip_suffix(".atom").map(str::to_owned) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "feeds are /feeds/NAME.atom",
        ));
    };
    let base = base_url(&headers);
    let (watch, report) = run_service(state, move |state| {
        state.search.watch_feed(&state.watches, &name, FEED_ENTRIES)
    })
    .await?;
    let etag = etag(&watch, &report);
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| matches_etag(tags, &etag));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let body = atom(&base, &watch, &report);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/atom+xml; charset=utf-8".to_owned(),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
        ],
        body,
    )
        .into_response())
}

/// `http://HOST` as the client reached the server.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| !host.is_empty() && !host.contains(['/', ' ', '"', '<', '>']))
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Changes whenever the watch or its entries do.
fn etag(watch: &Watch, report: &WatchReport) -> String {
    let mut hash = Fnv64::new();
    hash.write_field(&watch.name);
    hash.write_field(&watch.query);
    hash.write_field(&report.window.1.to_string());
    for hit in &report.hits {
        hash.write_field(&hit.id);
    }
    // Weak: the same entries may go out gzipped or not.
    format!("W/\"{:016x}\"", hash.finish())
}

/// Whether an `If-None-Match` list names `etag`, compared weakly (RFC 9110 §13.1.2).
fn matches_etag(header: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    header
        .split(',')
        .any(|tag| tag.trim() == "*" || opaque(tag) == opaque(etag))
}

/// The feed document: the watch as the feed, its matches as entries, each linking to the
/// article in the web page and to the original.
fn atom(base: &str, watch: &Watch, report: &WatchReport) -> String {
    let updated = stamp_time(report.window.1).unwrap_or(watch.created);
    let self_url = format!("{base}/feeds/{}.atom", watch.name);
    let search_url = format!("{base}/?q={}", url_encode(&watch.query));
    let mut xml = String::with_capacity(4096 + report.hits.len() * 1024);
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    element(&mut xml, 1, "title", &format!("geonews: {}", watch.name));
    element(&mut xml, 1, "subtitle", &subtitle(watch));
    element(&mut xml, 1, "id", &self_url);
    link(&mut xml, 1, "self", "application/atom+xml", &self_url);
    link(&mut xml, 1, "alternate", "text/html", &search_url);
    element(&mut xml, 1, "updated", &rfc3339(updated));
    xml.push_str("  <author><name>geonews</name></author>\n");
    element(&mut xml, 1, "generator", "geonews");
    for hit in &report.hits {
        entry(&mut xml, base, hit, updated);
    }
    xml.push_str("</feed>\n");
    xml
}

fn subtitle(watch: &Watch) -> String {
    match &watch.note {
        Some(note) => format!("{} ({note})", watch.query),
        None => watch.query.clone(),
    }
}

fn entry(xml: &mut String, base: &str, hit: &Hit, fallback: DateTime<Utc>) {
    let page = format!("{base}/?article={}", url_encode(&hit.id));
    xml.push_str("  <entry>\n");
    element(xml, 2, "title", &hit.title);
    element(
        xml,
        2,
        "id",
        &format!("urn:geonews:article:{}", url_encode(&hit.id)),
    );
    link(xml, 2, "alternate", "text/html", &page);
    if let Some(original) = hit.url.as_deref().filter(|url| is_web_address(url)) {
        link(xml, 2, "related", "text/html", original);
    }
    element(
        xml,
        2,
        "updated",
        &rfc3339(hit.published.unwrap_or(fallback)),
    );
    if let Some(published) = hit.published {
        element(xml, 2, "published", &rfc3339(published));
    }
    if let Some(source) = &hit.source {
        let _ = writeln!(xml, "    <author><name>{}</name></author>", escape(source));
    }
    element(xml, 2, "summary", &hit.snippet.text);
    let entities = &hit.entities;
    let categories = [
        (
            "country",
            entities
                .countries
                .iter()
                .map(|c| &c.key)
                .collect::<Vec<_>>(),
        ),
        ("topic", entities.topics.iter().map(|t| &t.key).collect()),
        ("person", entities.people.iter().map(|p| &p.key).collect()),
        (
            "org",
            entities.organizations.iter().map(|o| &o.key).collect(),
        ),
    ];
    for (field, keys) in categories {
        for key in keys {
            let _ = writeln!(
                xml,
                "    <category term=\"{}\" label=\"{}\"/>",
                escape(&format!("{field}:{key}")),
                escape(key)
            );
        }
    }
    xml.push_str("  </entry>\n");
}

/// Only http(s) addresses become links: an article's URL is whatever its source said.
fn is_web_address(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn element(xml: &mut String, depth: usize, name: &str, text: &str) {
    let _ = writeln!(
        xml,
        "{}<{name}>{}</{name}>",
        "  ".repeat(depth),
        escape(text)
    );
}

fn link(xml: &mut String, depth: usize, rel: &str, kind: &str, href: &str) {
    let _ = writeln!(
        xml,
        "{}<link rel=\"{rel}\" type=\"{kind}\" href=\"{}\"/>",
        "  ".repeat(depth),
        escape(href)
    );
}

fn rfc3339(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Text as XML character data or attribute value; characters XML 1.0 forbids are dropped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// `text` percent-encoded for a URL's path or query: everything but unreserved characters.
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped_and_forbidden_characters_dropped() {
        assert_eq!(
            escape("a < b & \"c\" 'd' >"),
            "a &lt; b &amp; &quot;c&quot; &apos;d&apos; &gt;"
        );
        assert_eq!(escape("bell\u{7}\u{0}ok\n"), "bellok\n");
    }

    #[test]
    fn the_base_url_comes_from_the_host_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(base_url(&headers), "http://localhost");
        headers.insert(header::HOST, "127.0.0.1:4747".parse().unwrap());
        assert_eq!(base_url(&headers), "http://127.0.0.1:4747");
        headers.insert(header::HOST, "evil\"><x".parse().unwrap());
        assert_eq!(base_url(&headers), "http://localhost");
    }
}
