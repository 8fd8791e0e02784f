//! The boundary between geonews and the engines that hold its articles.
//!
//! An engine has two sides: [`SearchBackend`] answers searches and counts over resolved
//! queries, and [`ArticleSink`] takes analysed articles and commits them. The local tantivy
//! index ([`crate::index`]) is one engine; a remote cluster is another. Both sides return raw
//! material (hits, complete value tallies, bucket counts): policy such as multi-select facet
//! counts, merging spellings and cutting lists to a limit lives once, in
//! [`crate::service`].

mod document;

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::analytics::{Interval, PairCounts, TimelineCounts};
use crate::pipeline::Analysed;
use crate::query::ast::Query;
use crate::results::{EngineStats, Hit, Related, Sort, StoredArticle};
use chrono::{DateTime, Utc};

/// Every value of one countable field among some articles, with the articles that have it.
/// Values a query cannot tell apart (`Sample Times`, `sample-times`) are still separate here.
pub type Tally = HashMap<String, u64>;

pub use document::{DocumentFacts, FacetValues};

/// One page of hits for a resolved query, with fields to tally over all matches.
#[derive(Debug, Clone)]
pub struct PageRequest<'a> {
    pub query: &'a Query,
    pub sort: Sort,
    pub limit: usize,
    pub offset: usize,
    /// Countable fields tallied over every match (not only the page).
    pub tally: &'a [String],
}

/// What a backend returns for a [`PageRequest`]: whole hits, or only their ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<H> {
    pub total: u64,
    pub hits: Vec<H>,
    /// Aligned with [`PageRequest::tally`].
    pub tallies: Vec<Tally>,
}

/// Facts about a whole index that any engine can give.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    pub articles: u64,
    pub earliest: Option<DateTime<Utc>>,
    pub latest: Option<DateTime<Utc>>,
    pub undated: u64,
    pub engine: Option<EngineStats>,
}

/// The read side of an engine: resolved queries in, raw results out.
pub trait SearchBackend: Send + Sync {
    type Error: std::error::Error + Send + Sync + 'static;

    /// The hits of one page, read whole (stored fields and a snippet), and the tallies.
    fn search(&self, request: &PageRequest) -> Result<Page<Hit>, Self::Error>;

    /// As [`SearchBackend::search`], with only the ids of the hits: no stored article is read.
    fn search_ids(&self, request: &PageRequest) -> Result<Page<String>, Self::Error>;

    /// The number of articles matching `query`, and a tally of each of `fields` over them.
    fn count(&self, query: &Query, fields: &[String]) -> Result<(u64, Vec<Tally>), Self::Error>;

    fn article(&self, id: &str) -> Result<Option<StoredArticle>, Self::Error>;

    /// Articles matching `query` per calendar bucket, optionally split by a countable field's
    /// values.
    fn timeline(
        &self,
        query: &Query,
        interval: Interval,
        split: Option<&str>,
    ) -> Result<TimelineCounts, Self::Error>;

    /// How often values of two countable fields (or two values of one) appear together in the
    /// articles matching `query`.
    fn pair_counts(&self, query: &Query, fields: [&str; 2]) -> Result<PairCounts, Self::Error>;

    /// The `limit` articles most like article `id` in words and entities, or `None` when no
    /// article has that id.
    fn related(&self, id: &str, limit: usize) -> Result<Option<Related>, Self::Error>;

    /// The indexing stamp of the article written last (0 for an empty index): articles
    /// written later have larger ones (see [`Query::IndexedWithin`]).
    fn indexed_through(&self) -> Result<u64, Self::Error>;

    /// The whole index: its size, date span, and a tally of each of `fields`.
    fn overview(&self, fields: &[String]) -> Result<(Overview, Vec<Tally>), Self::Error>;

    /// Where the articles live, for messages: a folder, or a cluster's address.
    fn location(&self) -> String;

    /// What a user should know before trusting the answers (stale facets, say).
    fn warnings(&self) -> Vec<String>;
}

/// What writing one article did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Added,
    /// It replaced an older version with other content.
    Updated,
    /// The engine already holds it with the same content.
    Unchanged,
    /// Another record with its key came earlier in this run, with other content: the first
    /// is kept, so that running the same input again changes nothing.
    Duplicate,
}

/// How an engine's storage stands: its parts, its bytes, and its articles, live and deleted
/// (a deleted article takes space until the parts holding it are merged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Storage {
    pub segments: usize,
    pub bytes: u64,
    pub articles: u64,
    pub deleted: u64,
}

/// What copying an engine's committed articles elsewhere took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Copied {
    pub files: usize,
    pub bytes: u64,
    pub articles: u64,
    pub segments: usize,
}

/// Why `destination` cannot take a backup, if it cannot: a backup goes into a new or empty
/// folder, never over anything.
pub fn unfit_for_backup(destination: &Path) -> Option<String> {
    match std::fs::read_dir(destination) {
        Ok(mut entries) => entries
            .next()
            .is_some()
            .then(|| "it exists and is not empty".to_owned()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) if error.kind() == std::io::ErrorKind::NotADirectory => {
            Some("it is not a folder".to_owned())
        }
        Err(error) => Some(error.to_string()),
    }
}

/// Turns analysed articles into an engine's documents. It runs on every core at once, while
/// the sink it came from writes the documents before it.
pub trait DocumentMapper: Send + Sync {
    type Document: Send;

    fn document(&self, analysed: Analysed) -> Self::Document;
}

/// The write side of an engine: documents in, made searchable at each commit.
pub trait ArticleSink: Send {
    type Mapper: DocumentMapper;
    type Error: std::error::Error + Send + Sync + 'static;

    fn mapper(&self) -> Self::Mapper;

    /// Where the articles go, for messages: a folder, or a cluster's address.
    fn location(&self) -> String;

    /// Writes one document; returns what writing the documents it has decided did, in the
    /// order they were written. A local index decides each at once; a remote engine may hold
    /// documents back to look their keys up together, and decides them later or at
    /// [`ArticleSink::flush`].
    fn write(
        &mut self,
        document: <Self::Mapper as DocumentMapper>::Document,
    ) -> Result<Vec<Written>, Self::Error>;

    /// Decides every document held back, and returns what writing them did.
    fn flush(&mut self) -> Result<Vec<Written>, Self::Error> {
        Ok(Vec::new())
    }

    /// Removes the article `id`, gone from searches at the next commit; whether the engine
    /// held it.
    fn delete(&mut self, id: &str) -> Result<bool, Self::Error>;

    /// Makes every document written or deleted so far searchable at once.
    fn commit(&mut self) -> Result<(), Self::Error>;

    /// Merges the committed articles into one part, dropping deleted ones for good; the
    /// storage before and after.
    fn compact(&mut self) -> Result<(Storage, Storage), Self::Error>;

    /// Copies the committed articles into `destination` (a new or empty folder) as an index
    /// of its own that the engine can open.
    fn backup(&mut self, destination: &Path) -> Result<Copied, Self::Error>;

    /// Commits the rest and closes the sink; returns the articles the engine now holds. A sink
    /// dropped without finishing keeps only what it committed.
    fn finish(self) -> Result<u64, Self::Error>;
}
