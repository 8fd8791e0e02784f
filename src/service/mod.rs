//! The service layer: one typed request and one typed response per use case, for every front
//! end. The CLI ([`crate::app`]) and the HTTP server build requests, call a service and render
//! its response with [`crate::output`]; a service prints nothing, and reports problems as it
//! reads through the callbacks it is given.
//!
//! [`SearchService`] answers searches and analytics over any [`crate::backend::SearchBackend`];
//! [`IngestService`] reads articles, extracts their entities and writes them to any
//! [`crate::backend::ArticleSink`]; deleting, compacting and backing up (`lifecycle`) use the
//! write side too.

mod export;
mod ingest;
mod lifecycle;
mod search;
#[cfg(test)]
mod tests;
mod watch;

pub use export::{ExportFormat, ExportRequest, ExportResponse, check_export};
pub use ingest::{
    ArticleText, EvalRequest, ExtractRequest, ExtractedArticle, IndexEvent, IndexReport,
    IndexRequest, IngestService, ReadEvent, ReadSummary,
};
pub use lifecycle::{
    BackupRequest, BackupResponse, CompactResponse, DeleteRequest, DeleteResponse, DeleteTarget,
    backup, check_backup, check_delete, compact,
};
pub use search::{
    BatchAnswer, CoocRequest, CoocResponse, FacetsRequest, FacetsResponse, SearchOptions,
    SearchRequest, SearchResponse, SearchService, StatsResponse, TimelineRequest,
};
pub use watch::{WatchList, WatchReport, WatchRun, WatchStatus, stamp_time};

use crate::extract::ExtractError;
use crate::ingest::Problem;
use crate::query::QueryError;
use crate::schema::SchemaError;
use crate::watch::WatchError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The query does not parse or names unknown fields or values: the user's to fix.
    #[error("{0}")]
    Query(QueryError),
    /// A field named for counting is not countable: the user's to fix.
    #[error("`{name}` cannot be counted: choose from {}", known.join(", "))]
    NotCountable { name: String, known: Vec<String> },
    #[error(
        "this index has no countable `cluster` field (schema/fields.toml), so copies of a story \
         cannot be collapsed or counted once"
    )]
    NoClusters,
    #[error("no article with id {id:?} in {location}")]
    NotFound { id: String, location: String },
    #[error("no article carries a `gold` object of labels")]
    NoGold,
    /// An article given in a request cannot be read: the user's to fix.
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Watch(#[from] WatchError),
    #[error("stopped at the first problem (--strict), nothing committed from this run: {0}")]
    Strict(Problem),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// Another process changed the articles while an export read them a page at a time.
    #[error(
        "the index at {location} changed while it was exported ({detail}; {written} articles \
         written): export again once nothing else writes to it"
    )]
    ChangedWhileExporting {
        location: String,
        detail: String,
        written: u64,
    },
    /// The engine failed (an unreadable index, a cluster that does not answer).
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    /// A front end's callback could not write what it was given.
    #[error(transparent)]
    Output(std::io::Error),
}

impl ServiceError {
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> ServiceError {
        ServiceError::Backend(Box::new(error))
    }

    /// Whether the request itself is wrong (a bad query or field name), not the data or engine.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            ServiceError::Query(_)
                | ServiceError::NotCountable { .. }
                | ServiceError::NoClusters
                | ServiceError::Input(_)
                | ServiceError::Watch(
                    WatchError::Unknown(_) | WatchError::Exists(_) | WatchError::BadName(_)
                )
        )
    }
}
