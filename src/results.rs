//! What a search returns, independent of the backend that ran it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::extract::Entities;
use crate::query::ast::Query;
use crate::schema::DictionaryName;

/// The order of hits; ties keep the index's order, so paging is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sort {
    /// BM25 relevance; newest first when the query has no free text.
    #[serde(rename = "relevance")]
    Relevance,
    /// Oldest first (`--sort date`); undated articles last.
    #[serde(rename = "date")]
    OldestFirst,
    /// Newest first (`--sort -date`); undated articles last.
    #[serde(rename = "-date")]
    NewestFirst,
}

#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: Query,
    pub sort: Sort,
    pub limit: usize,
    pub offset: usize,
    /// Facet fields to count over the whole result set.
    pub facets: Vec<String>,
    pub facet_limit: usize,
}

impl SearchRequest {
    /// The facet fields counted under the query itself, and those the query filters on, each
    /// with the query it is counted under instead (see [`Query::without_filters_on`]).
    pub fn facet_queries(&self) -> (Vec<String>, Vec<(String, Query)>) {
        let mut plain = Vec::new();
        let mut multi_select = Vec::new();
        for field in &self.facets {
            match self.query.without_filters_on(field) {
                Some(query) => multi_select.push((field.clone(), query)),
                None => plain.push(field.clone()),
            }
        }
        (plain, multi_select)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    pub total: u64,
    pub hits: Vec<Hit>,
    pub facets: Vec<FacetCounts>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: String,
    /// BM25 score, when ranked by relevance.
    pub score: Option<f32>,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub source: Option<String>,
    pub url: Option<String>,
    pub author: Option<String>,
    pub language: Option<String>,
    pub snippet: Snippet,
    pub entities: Entities,
}

/// A passage of the body with the byte ranges of the matched words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCounts {
    pub field: String,
    /// Counted as if the query's own filters on this field were absent, so that the counts
    /// show what else could be picked.
    pub multi_select: bool,
    /// Distinct values in the result set (the list below may be cut at the limit).
    pub distinct: usize,
    pub values: Vec<FacetCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCount {
    pub key: String,
    pub count: u64,
}

/// Articles like one article: similar words, shared entities.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Related {
    pub id: String,
    pub title: String,
    pub hits: Vec<RelatedHit>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelatedHit {
    #[serde(flatten)]
    pub hit: Hit,
    /// Per facet field, the values this hit shares with the article.
    pub shared: Vec<SharedValues>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedValues {
    pub field: String,
    pub keys: Vec<String>,
}

/// The entity keys two articles share, per facet field (`fields`: name and dictionary), in
/// the order of `a`. Regions are left out: they follow from the countries.
pub fn shared_entities<'f>(
    fields: impl IntoIterator<Item = (&'f str, DictionaryName)>,
    a: &Entities,
    b: &Entities,
) -> Vec<SharedValues> {
    fields
        .into_iter()
        .filter(|(_, dictionary)| *dictionary != DictionaryName::Regions)
        .filter_map(|(field, dictionary)| {
            let theirs = b.keys(dictionary);
            let keys: Vec<String> = a
                .keys(dictionary)
                .into_iter()
                .filter(|key| theirs.contains(key))
                .map(str::to_owned)
                .collect();
            (!keys.is_empty()).then(|| SharedValues {
                field: field.to_owned(),
                keys,
            })
        })
        .collect()
}

/// Everything stored for one article, for `geonews show`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredArticle {
    pub id: String,
    pub title: String,
    pub summary: Option<String>,
    pub body: String,
    pub published: Option<DateTime<Utc>>,
    pub source: Option<String>,
    pub url: Option<String>,
    pub author: Option<String>,
    pub language: Option<String>,
    pub entities: Entities,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexStats {
    pub articles: u64,
    pub earliest: Option<DateTime<Utc>>,
    pub latest: Option<DateTime<Utc>>,
    pub undated: u64,
    pub size_bytes: u64,
    pub segments: usize,
    pub facets: Vec<FacetCounts>,
}

/// A search engine holding indexed articles: the local tantivy index, later a remote cluster.
pub trait SearchBackend {
    type Error: std::error::Error + Send + Sync + 'static;

    fn search(&self, request: &SearchRequest) -> Result<SearchResults, Self::Error>;

    /// Counts of `fields` over the articles matching `query`, and the number of those articles.
    fn facet_counts(
        &self,
        query: &Query,
        fields: &[String],
        limit: usize,
    ) -> Result<(u64, Vec<FacetCounts>), Self::Error>;

    fn article(&self, id: &str) -> Result<Option<StoredArticle>, Self::Error>;

    /// The `limit` articles most like article `id` in words and entities, or `None` when no
    /// article has that id.
    fn related(&self, id: &str, limit: usize) -> Result<Option<Related>, Self::Error>;

    fn stats(&self, facets: &[String], limit: usize) -> Result<IndexStats, Self::Error>;
}
