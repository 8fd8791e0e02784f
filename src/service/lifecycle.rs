//! The life of stored articles after indexing: taking them out (a takedown, a retracted
//! story), compacting what is left, and copying the index elsewhere. Deleting by query finds
//! the ids on the read side and deletes them on the write side; the rest is the write side's.

use std::path::PathBuf;

use serde::Serialize;

use super::ServiceError;
use super::search::SearchService;
use crate::backend::{ArticleSink, Copied, PageRequest, SearchBackend, Storage, unfit_for_backup};
use crate::query::Resolver;
use crate::query::ast::Query;
use crate::results::Sort;
use crate::schema::Schema;

/// Which articles to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteTarget {
    Ids(Vec<String>),
    /// Every article matching a query, in the language of `search`.
    Query(String),
}

#[derive(Debug, Clone)]
pub struct DeleteRequest {
    pub target: DeleteTarget,
    /// List what would be deleted; change nothing.
    pub dry_run: bool,
}

/// What a delete did, or would do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeleteResponse {
    #[serde(skip)]
    pub location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub dry_run: bool,
    /// Articles deleted, or that the dry run would delete.
    pub count: u64,
    pub ids: Vec<String>,
    /// Ids asked for that the index does not hold.
    pub not_found: Vec<String>,
    /// After the delete (unchanged by a dry run).
    pub articles_in_index: u64,
}

impl DeleteResponse {
    /// Whether some ids asked for were not there.
    pub fn missed_any(&self) -> bool {
        !self.not_found.is_empty()
    }
}

/// `geonews compact`: the storage before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompactResponse {
    #[serde(skip)]
    pub location: String,
    pub before: Storage,
    pub after: Storage,
}

#[derive(Debug, Clone)]
pub struct BackupRequest {
    /// A new or empty folder.
    pub destination: PathBuf,
}

/// `geonews backup DIR`: what was copied where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupResponse {
    #[serde(skip)]
    pub location: String,
    pub destination: String,
    #[serde(flatten)]
    pub copied: Copied,
}

impl<B: SearchBackend> SearchService<B> {
    /// What `request` would delete, changing nothing.
    pub fn plan_delete(&self, request: &DeleteRequest) -> Result<DeleteResponse, ServiceError> {
        check_delete(self.schema(), request)?;
        let (ids, not_found) = match &request.target {
            DeleteTarget::Ids(asked) => {
                let mut found = Vec::new();
                let mut not_found = Vec::new();
                for id in distinct(asked) {
                    let held = self
                        .backend()
                        .article(&id)
                        .map_err(ServiceError::backend)?
                        .is_some();
                    if held {
                        found.push(id);
                    } else {
                        not_found.push(id);
                    }
                }
                (found, not_found)
            }
            DeleteTarget::Query(text) => (self.matching_ids(text)?, Vec::new()),
        };
        let (articles_in_index, _) = self
            .backend()
            .count(&Query::All, &[])
            .map_err(ServiceError::backend)?;
        Ok(self.delete_response(request, ids, not_found, articles_in_index))
    }

    /// Deletes what `request` names from `sink` and commits. The sink must have been opened
    /// before this service's backend: then the ids a query finds are those the sink holds, as
    /// no other writer can commit in between.
    pub fn delete<S: ArticleSink>(
        &self,
        request: &DeleteRequest,
        mut sink: S,
    ) -> Result<DeleteResponse, ServiceError> {
        if request.dry_run {
            return self.plan_delete(request);
        }
        check_delete(self.schema(), request)?;
        let asked = match &request.target {
            DeleteTarget::Ids(ids) => distinct(ids),
            DeleteTarget::Query(text) => self.matching_ids(text)?,
        };
        let mut deleted = Vec::new();
        let mut not_found = Vec::new();
        for id in asked {
            if sink.delete(&id).map_err(ServiceError::backend)? {
                deleted.push(id);
            } else {
                not_found.push(id);
            }
        }
        sink.commit().map_err(ServiceError::backend)?;
        let articles_in_index = sink.finish().map_err(ServiceError::backend)?;
        Ok(self.delete_response(request, deleted, not_found, articles_in_index))
    }

    /// The ids of every article matching `query`, oldest first.
    fn matching_ids(&self, query: &str) -> Result<Vec<String>, ServiceError> {
        let query = self.parse(query)?;
        let page = self
            .backend()
            .search_ids(&PageRequest {
                query: &query,
                sort: Sort::OldestFirst,
                limit: usize::MAX,
                offset: 0,
                tally: &[],
            })
            .map_err(ServiceError::backend)?;
        Ok(page.hits)
    }

    fn delete_response(
        &self,
        request: &DeleteRequest,
        ids: Vec<String>,
        not_found: Vec<String>,
        articles_in_index: u64,
    ) -> DeleteResponse {
        DeleteResponse {
            location: self.backend().location(),
            query: match &request.target {
                DeleteTarget::Query(text) => Some(text.clone()),
                DeleteTarget::Ids(_) => None,
            },
            dry_run: request.dry_run,
            count: ids.len() as u64,
            ids,
            not_found,
            articles_in_index,
        }
    }
}

/// Checks a delete before anything is opened or locked: its query resolves and does not
/// match every article (a rebuild or a new index does that plainly).
pub fn check_delete(schema: &Schema, request: &DeleteRequest) -> Result<(), ServiceError> {
    match &request.target {
        DeleteTarget::Ids(ids) if ids.is_empty() => Err(ServiceError::Input(
            "name the ids to delete, or --query QUERY".to_owned(),
        )),
        DeleteTarget::Ids(_) => Ok(()),
        DeleteTarget::Query(text) => {
            let query = Resolver::new(&schema.fields, schema.catalogs())
                .parse(text)
                .map_err(ServiceError::Query)?;
            match query {
                Query::All => Err(ServiceError::Input(format!(
                    "--query {text:?} matches every article: to empty the index, remove its \
                     folder or rebuild it"
                ))),
                _ => Ok(()),
            }
        }
    }
}

/// `ids` without repeats, in the order given.
fn distinct(ids: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.iter().filter(|id| seen.insert(*id)).cloned().collect()
}

/// Merges the index's parts into one, dropping deleted articles for good.
pub fn compact<S: ArticleSink>(mut sink: S) -> Result<CompactResponse, ServiceError> {
    let (before, after) = sink.compact().map_err(ServiceError::backend)?;
    let location = sink.location();
    sink.finish().map_err(ServiceError::backend)?;
    Ok(CompactResponse {
        location,
        before,
        after,
    })
}

/// Checks a backup's destination before anything is locked.
pub fn check_backup(request: &BackupRequest) -> Result<(), ServiceError> {
    match unfit_for_backup(&request.destination) {
        Some(why) => Err(ServiceError::Input(format!(
            "cannot back up into {}: {why}; name a new or empty folder",
            request.destination.display()
        ))),
        None => Ok(()),
    }
}

/// Copies the committed articles into a new or empty folder, as an index of their own.
pub fn backup<S: ArticleSink>(
    mut sink: S,
    request: &BackupRequest,
) -> Result<BackupResponse, ServiceError> {
    let copied = sink
        .backup(&request.destination)
        .map_err(ServiceError::backend)?;
    Ok(BackupResponse {
        location: sink.location(),
        destination: request.destination.display().to_string(),
        copied,
    })
}
