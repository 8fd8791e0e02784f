//! A Quickwit cluster as a geonews engine: the index created from fields.toml, articles sent as
//! NDJSON, resolved queries translated to Quickwit's query language and aggregations.
//!
//! Quickwit has no stemming tokenizer, so analysis stays geonews's: each text field travels
//! twice, as written (for display and snippets) and as the English analyzer's words separated
//! by spaces (`<field>_words`, indexed with Quickwit's `whitespace` tokenizer, positions kept),
//! and queries are analysed the same way before they are translated.

mod client;
mod document;
mod init;
mod reader;
mod sink;
mod stories;
mod translate;

use std::fmt;

pub use document::{QuickwitDocument, QuickwitMapper};
pub use init::{IndexConfig, create_index, index_config};
pub use reader::{PageSearch, QuickwitIndex};
pub use sink::{CommitMode, QuickwitSink};
pub use translate::{Translation, Translator};

/// How `--engine` names a Quickwit index: `quickwit+http://HOST:7280/INDEX`, several nodes
/// separated by commas (`quickwit+http://a:7280,b:7280/INDEX`).
pub const SCHEME: &str = "quickwit+";

/// A Quickwit index and the nodes that serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Base URLs (`http://host:7280`), tried in this order.
    pub nodes: Vec<String>,
    pub index: String,
}

impl Target {
    /// Parses `quickwit+http://HOST:PORT[,HOST:PORT...]/INDEX`.
    pub fn parse(engine: &str) -> Result<Target, String> {
        let usage = "expected quickwit+http://HOST:7280/INDEX (several nodes: \
                     quickwit+http://HOST1:7280,HOST2:7280/INDEX)";
        let rest = engine
            .strip_prefix(SCHEME)
            .ok_or_else(|| format!("`{engine}` is not a Quickwit engine: {usage}"))?;
        let (scheme, rest) = rest
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
            .ok_or_else(|| format!("`{engine}`: {usage}"))?;
        let (hosts, index) = rest
            .split_once('/')
            .ok_or_else(|| format!("`{engine}` names no index: {usage}"))?;
        let index = index.trim_end_matches('/');
        if !valid_index_id(index) {
            return Err(format!(
                "`{index}` is not a Quickwit index id: it starts with a letter and has only \
                 letters, digits, `-`, `_` and `.` (3 to 255 characters)"
            ));
        }
        let nodes: Vec<String> = hosts
            .split(',')
            .map(|host| host.trim().trim_end_matches('/'))
            .map(|host| {
                if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
                    Err(format!("`{engine}`: `{host}` is not a HOST:PORT; {usage}"))
                } else {
                    Ok(format!("{scheme}://{host}"))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Target {
            nodes,
            index: index.to_owned(),
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Quickwit index `{}` at {}",
            self.index,
            self.nodes.join(", ")
        )
    }
}

/// Quickwit's rule for index ids.
fn valid_index_id(id: &str) -> bool {
    let mut chars = id.chars();
    (3..=255).contains(&id.len())
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[derive(Debug, thiserror::Error)]
pub enum QuickwitError {
    #[error("no Quickwit node answered: {0}")]
    Unreachable(String),
    #[error("Quickwit answered {status} to {url}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("Quickwit at {url}: {detail}")]
    Response { url: String, detail: String },
    #[error(
        "no Quickwit index `{index}` at {nodes}: create it with `geonews quickwit init --engine \
         {engine}`"
    )]
    MissingIndex {
        index: String,
        nodes: String,
        engine: String,
    },
    #[error(
        "the Quickwit index `{index}` was not created from this schema ({why}); create a new \
         one with `geonews quickwit init`"
    )]
    Mismatch { index: String, why: String },
    #[error("{what} is not available on a Quickwit engine: {instead}")]
    Unsupported {
        what: &'static str,
        instead: &'static str,
    },
    #[error("this engine cannot count `{0}`: it is not one of its facet or fast keyword fields")]
    NotCountable(String),
    #[error("Quickwit returned an article that cannot be read: {0}")]
    Corrupt(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_url_names_its_nodes_and_index() {
        let target = Target::parse("quickwit+http://127.0.0.1:7280,127.0.0.1:7290/news").unwrap();
        assert_eq!(
            target.nodes,
            ["http://127.0.0.1:7280", "http://127.0.0.1:7290"]
        );
        assert_eq!(target.index, "news");
    }

    #[test]
    fn a_wrong_engine_url_says_what_is_expected() {
        for (engine, says) in [
            ("http://localhost:7280/news", "is not a Quickwit engine"),
            ("quickwit+ftp://localhost/news", "expected quickwit+http"),
            ("quickwit+http://localhost:7280", "names no index"),
            (
                "quickwit+http://localhost:7280/9news",
                "is not a Quickwit index id",
            ),
            ("quickwit+http://a:1,,b:2/news", "is not a HOST:PORT"),
        ] {
            let error = Target::parse(engine).unwrap_err();
            assert!(error.contains(says), "{engine}: {error}");
        }
    }
}
