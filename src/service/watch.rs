//! Saved searches that watch the news: what each has not seen yet, by indexing time.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ServiceError;
use super::search::SearchService;
use crate::backend::{PageRequest, SearchBackend};
use crate::query::ast::Query;
use crate::results::{Hit, Sort};
use crate::watch::{Watch, WatchError, WatchStore};

/// A watch with how many articles it has not seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchStatus {
    #[serde(flatten)]
    pub watch: Watch,
    /// Articles matching it indexed after its mark.
    pub unseen: u64,
}

/// The watches of `geonews watch list` (and `GET /api/watches`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchList {
    pub watches: Vec<WatchStatus>,
}

/// What one watch found: the new articles, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchReport {
    pub watch: String,
    pub query: String,
    /// New articles in all; `hits` may hold fewer (`limit`).
    pub total: u64,
    pub hits: Vec<Hit>,
    /// The indexing stamps looked at: after the mark, through the index's latest.
    #[serde(skip)]
    pub window: (u64, u64),
}

/// `geonews watch run`: the reports of the watches run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchRun {
    pub reports: Vec<WatchReport>,
    /// Whether the watches' marks were left where they were (`--dry-run`).
    pub dry_run: bool,
}

impl WatchRun {
    pub fn found_anything(&self) -> bool {
        self.reports.iter().any(|report| report.total > 0)
    }
}

impl<B: SearchBackend> SearchService<B> {
    /// Saves a search after checking that its query resolves. It has seen everything indexed
    /// so far: only what comes next is news to it.
    pub fn add_watch(
        &self,
        store: &WatchStore,
        name: &str,
        query: &str,
        note: Option<String>,
    ) -> Result<Watch, ServiceError> {
        self.parse(query)?;
        let seen_through = self.latest_stamp()?;
        Ok(store.add(Watch {
            name: name.to_owned(),
            query: query.to_owned(),
            note,
            created: Utc::now(),
            seen_through,
            last_run: None,
        })?)
    }

    pub fn watches(&self, store: &WatchStore) -> Result<WatchList, ServiceError> {
        let through = self.latest_stamp()?;
        let watches = store
            .list()?
            .into_iter()
            .map(|watch| self.status(watch, through))
            .collect::<Result<_, ServiceError>>()?;
        Ok(WatchList { watches })
    }

    pub fn watch_status(
        &self,
        store: &WatchStore,
        name: &str,
    ) -> Result<WatchStatus, ServiceError> {
        self.status(store.get(name)?, self.latest_stamp()?)
    }

    /// Runs `names` (every watch when empty): each one's articles indexed since its mark,
    /// newest first, at most `limit`; then, unless `dry_run`, each mark moves to the latest
    /// article the index held when it ran.
    pub fn run_watches(
        &self,
        store: &WatchStore,
        names: &[String],
        limit: usize,
        dry_run: bool,
    ) -> Result<WatchRun, ServiceError> {
        let all = store.list()?;
        let chosen: Vec<Watch> = if names.is_empty() {
            all
        } else {
            names
                .iter()
                .map(|name| {
                    all.iter()
                        .find(|watch| &watch.name == name)
                        .cloned()
                        .ok_or_else(|| WatchError::Unknown(name.clone()))
                })
                .collect::<Result<_, _>>()?
        };
        // Fixed before searching: an article committed meanwhile is news for the next run.
        let through = self.latest_stamp()?;
        let now = Utc::now();
        let mut reports = Vec::with_capacity(chosen.len());
        for watch in chosen {
            let report = self.matching(&watch, watch.seen_through, through, limit)?;
            if !dry_run {
                store.mark_seen(&watch.name, through, now)?;
            }
            reports.push(report);
        }
        Ok(WatchRun { reports, dry_run })
    }

    /// A watch's latest matches whatever it has seen, newest first: its feed.
    pub fn watch_feed(
        &self,
        store: &WatchStore,
        name: &str,
        limit: usize,
    ) -> Result<(Watch, WatchReport), ServiceError> {
        let watch = store.get(name)?;
        let report = self.matching(&watch, 0, self.latest_stamp()?, limit)?;
        Ok((watch, report))
    }

    /// The indexing stamp of the article the index got last.
    fn latest_stamp(&self) -> Result<u64, ServiceError> {
        self.backend()
            .indexed_through()
            .map_err(ServiceError::backend)
    }

    /// The watch's matches indexed in `(after, through]`.
    fn matching(
        &self,
        watch: &Watch,
        after: u64,
        through: u64,
        limit: usize,
    ) -> Result<WatchReport, ServiceError> {
        let query = within(self.parse(&watch.query)?, after, through);
        let page = self
            .backend()
            .search(&PageRequest {
                query: &query,
                sort: Sort::NewestFirst,
                limit,
                offset: 0,
                tally: &[],
            })
            .map_err(ServiceError::backend)?;
        Ok(WatchReport {
            watch: watch.name.clone(),
            query: watch.query.clone(),
            total: page.total,
            hits: page.hits,
            window: (after, through),
        })
    }

    /// The watch with how many articles it has not seen, of those indexed through `through`.
    fn status(&self, watch: Watch, through: u64) -> Result<WatchStatus, ServiceError> {
        let unseen = if through <= watch.seen_through {
            0
        } else {
            let query = within(self.parse(&watch.query)?, watch.seen_through, through);
            let (total, _) = self
                .backend()
                .count(&query, &[])
                .map_err(ServiceError::backend)?;
            total
        };
        Ok(WatchStatus { watch, unseen })
    }
}

/// `query`, for articles indexed in `(after, through]` only.
fn within(query: Query, after: u64, through: u64) -> Query {
    Query::And {
        queries: vec![query, Query::IndexedWithin { after, through }],
    }
}

/// An indexing stamp as an instant.
pub fn stamp_time(stamp: u64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(i64::try_from(stamp).ok()?)
}
