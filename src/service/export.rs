//! `geonews export`: the articles of the index, read one at a time through any
//! [`SearchBackend`], for another engine to load. How they are written (Elasticsearch bulk
//! actions, the mapping for them) is [`crate::output`]'s.

use serde::Serialize;

use super::ServiceError;
use super::search::SearchService;
use crate::backend::{PageRequest, SearchBackend};
use crate::results::{Sort, StoredArticle};

/// Ids read from the backend at a time: each page is a search for the next ids, oldest first.
const PAGE: usize = 10_000;

/// What `geonews export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Elasticsearch / OpenSearch `_bulk` NDJSON: an index action and a document per article
    EsBulk,
    /// The body that creates the Elasticsearch / OpenSearch index (`PUT /INDEX`): settings
    /// and mappings generated from fields.toml
    EsMapping,
    /// Quickwit NDJSON: each article as an index of `geonews quickwit init` takes it, its
    /// analysed words beside its text (for Quickwit's own ingest API or `quickwit tool`)
    Quickwit,
}

#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub format: ExportFormat,
    /// Only articles matching this query (every article when empty); not for a mapping.
    pub query: String,
    /// The Elasticsearch index the bulk actions name.
    pub es_index: String,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportResponse {
    #[serde(skip)]
    pub location: String,
    pub query: String,
    /// The Elasticsearch index the bulk actions name; none for Quickwit documents.
    pub es_index: Option<String>,
    pub articles: u64,
}

/// Checks an export before the index is opened: a mapping is the schema's, for every article,
/// so it takes no query.
pub fn check_export(request: &ExportRequest) -> Result<(), ServiceError> {
    match request.format {
        ExportFormat::EsMapping if !request.query.trim().is_empty() => {
            Err(ServiceError::Input(format!(
                "--format es-mapping takes no query (got {:?}): the mapping is generated from \
                 fields.toml and fits every article; give the query to --format es-bulk",
                request.query.trim()
            )))
        }
        _ => Ok(()),
    }
}

impl<B: SearchBackend> SearchService<B> {
    /// Hands every article matching `request`'s query to `each`, one at a time, oldest first
    /// (undated ones last, ties in the index's order), and says how many there were. Ids are
    /// read a page at a time and each article by its id, so that no more than a page of ids
    /// is held however large the index.
    pub fn export(
        &self,
        request: &ExportRequest,
        each: &mut dyn FnMut(&StoredArticle) -> std::io::Result<()>,
    ) -> Result<ExportResponse, ServiceError> {
        let articles = self.export_in_pages(&request.query, PAGE, each)?;
        Ok(ExportResponse {
            location: self.backend().location(),
            query: request.query.clone(),
            es_index: (request.format != ExportFormat::Quickwit).then(|| request.es_index.clone()),
            articles,
        })
    }

    /// [`SearchService::export`] reading `page` ids at a time. The matches must hold still
    /// while they are read: when their number changes between two pages (another process
    /// committed to an engine that shows commits at once), paging by offset would skip or
    /// repeat articles, and the export stops with an error instead.
    pub(super) fn export_in_pages(
        &self,
        query: &str,
        page: usize,
        each: &mut dyn FnMut(&StoredArticle) -> std::io::Result<()>,
    ) -> Result<u64, ServiceError> {
        let query = self.parse(query)?;
        let mut written: u64 = 0;
        let mut expected = None;
        loop {
            let ids = self
                .backend()
                .search_ids(&PageRequest {
                    query: &query,
                    sort: Sort::OldestFirst,
                    limit: page,
                    offset: usize::try_from(written).unwrap_or(usize::MAX),
                    tally: &[],
                })
                .map_err(ServiceError::backend)?;
            let total = *expected.get_or_insert(ids.total);
            if ids.total != total {
                let detail = format!("{total} articles matched, then {}", ids.total);
                return Err(self.changed_while_exporting(detail, written));
            }
            if ids.hits.is_empty() {
                break;
            }
            for id in &ids.hits {
                let Some(article) = self.backend().article(id).map_err(ServiceError::backend)?
                else {
                    let detail = format!("article {id:?} was found, then it was gone");
                    return Err(self.changed_while_exporting(detail, written));
                };
                each(&article).map_err(ServiceError::Output)?;
                written += 1;
            }
            if written >= total {
                break;
            }
        }
        match expected {
            Some(total) if written != total => {
                let detail = format!("{total} articles matched, but the pages held {written}");
                Err(self.changed_while_exporting(detail, written))
            }
            _ => Ok(written),
        }
    }

    fn changed_while_exporting(&self, detail: String, written: u64) -> ServiceError {
        ServiceError::ChangedWhileExporting {
            location: self.backend().location(),
            detail,
            written,
        }
    }
}
