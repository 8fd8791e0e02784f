//! Answering searches, counts and analytics over any [`SearchBackend`].

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::ServiceError;
use crate::analytics::{CoocOptions, Cooccurrence, Interval, PairTable, Timeline, TimelineCounts};
use crate::backend::{PageRequest, SearchBackend, Tally};
use crate::query::ast::Query;
use crate::query::{QueryError, Resolver};
use crate::results::{
    FacetCount, FacetCounts, IndexStats, Related, SearchResults, Sort, StoredArticle,
    merge_spellings, most_frequent, region_tree,
};
use crate::schema::{DictionaryName, Schema};

/// How `search` pages, orders and counts, for one query or each of a batch.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub sort: Sort,
    pub limit: usize,
    pub offset: usize,
    /// Field names as the user gave them (`org`, `lang`).
    pub facets: Vec<String>,
    pub facet_limit: usize,
    /// One hit per story: copies of a hit are counted in its `similar`, not listed.
    pub collapse: bool,
}

#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    pub options: SearchOptions,
}

/// One page of hits and the facet counts over all of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResponse {
    #[serde(skip)]
    pub query: String,
    #[serde(skip)]
    pub offset: usize,
    #[serde(flatten)]
    pub results: SearchResults,
}

/// One query of a batch, answered with hit ids only, or its error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum BatchAnswer {
    Answered {
        query: String,
        total: u64,
        ids: Vec<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        facets: Vec<FacetCounts>,
        /// From reading the query to having the results, inside the process.
        latency_us: u128,
    },
    Failed {
        query: String,
        error: String,
        /// 1-based, in characters.
        column: usize,
    },
}

impl BatchAnswer {
    pub fn failed(error: &QueryError) -> BatchAnswer {
        BatchAnswer::Failed {
            query: error.query.clone(),
            error: error.message.clone(),
            column: error.column,
        }
    }

    pub fn is_failure(&self) -> bool {
        matches!(self, BatchAnswer::Failed { .. })
    }
}

#[derive(Debug, Clone)]
pub struct FacetsRequest {
    pub field: String,
    pub query: String,
    pub limit: usize,
    /// Count stories (clusters of copies), not articles: a wire story republished 40 times
    /// counts once.
    pub count_clusters: bool,
}

/// The values of one field over the articles matching a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacetsResponse {
    pub total: u64,
    /// The stories among them, when counting stories: then every count is of stories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters: Option<u64>,
    #[serde(flatten)]
    pub facet: FacetCounts,
}

#[derive(Debug, Clone)]
pub struct TimelineRequest {
    pub query: String,
    pub by: Interval,
    /// A countable field whose most frequent values get a series each.
    pub split: Option<String>,
    pub top: usize,
}

#[derive(Debug, Clone)]
pub struct CoocRequest {
    pub field: String,
    /// A second field, for a table of pairs of values.
    pub second: Option<String>,
    pub query: String,
    pub options: CoocOptions,
    /// Rows and columns of a pair table.
    pub size: usize,
}

/// Values ranked by lift against the whole index, or a table of pairs of values.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CoocResponse {
    Values(Cooccurrence),
    Pairs(PairTable),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsResponse {
    #[serde(skip)]
    pub location: String,
    #[serde(flatten)]
    pub stats: IndexStats,
}

/// Searches, counts and analytics, from query text to typed responses. The CLI and the HTTP
/// server both call it; it prints nothing.
pub struct SearchService<B> {
    schema: Arc<Schema>,
    backend: B,
}

impl<B: SearchBackend> SearchService<B> {
    pub fn new(schema: Arc<Schema>, backend: B) -> SearchService<B> {
        SearchService { schema, backend }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse, ServiceError> {
        let facets = self.countable_fields(&request.options.facets)?;
        let query = self.parse(&request.query)?;
        let results = if request.options.collapse {
            self.collapsed_search(&query, &request.options, facets)?
        } else {
            self.search_with(&query, &request.options, facets, |page| {
                self.backend.search(page)
            })?
        };
        Ok(SearchResponse {
            query: request.query.clone(),
            offset: request.options.offset,
            results,
        })
    }

    /// Checks the options of a batch before its first query.
    pub fn check_batch(&self, options: &SearchOptions) -> Result<(), ServiceError> {
        // Built now, so that no query's latency includes them.
        self.schema.catalogs();
        self.countable_fields(&options.facets).map(drop)
    }

    /// One query of a batch: hit ids only, and the time it took from parsing to results. A bad
    /// query is an answer too; only a failing backend is an error.
    pub fn batch_answer(
        &self,
        query: &str,
        options: &SearchOptions,
    ) -> Result<BatchAnswer, ServiceError> {
        let facets = self.countable_fields(&options.facets)?;
        let started = Instant::now();
        let parsed = match self.parse(query) {
            Ok(parsed) => parsed,
            Err(ServiceError::Query(error)) => return Ok(BatchAnswer::failed(&error)),
            Err(other) => return Err(other),
        };
        let results = self.search_with(&parsed, options, facets, |page| {
            self.backend.search_ids(page)
        })?;
        Ok(BatchAnswer::Answered {
            query: query.to_owned(),
            total: results.total,
            ids: results.hits,
            facets: results.facets,
            latency_us: started.elapsed().as_micros(),
        })
    }

    /// A page of hits, with each facet field counted under the query, or, when the query
    /// filters on that field, as if that filter were absent (multi-select).
    fn search_with<H>(
        &self,
        query: &Query,
        options: &SearchOptions,
        facets: Vec<String>,
        search: impl FnOnce(&PageRequest) -> Result<crate::backend::Page<H>, B::Error>,
    ) -> Result<SearchResults<H>, ServiceError> {
        let (plain, multi_select) = facet_queries(query, &facets);
        let page = search(&PageRequest {
            query,
            sort: options.sort,
            limit: options.limit,
            offset: options.offset,
            tally: &plain,
        })
        .map_err(ServiceError::backend)?;
        let mut counts: Vec<FacetCounts> = plain
            .iter()
            .zip(page.tallies)
            .map(|(field, tally)| self.counts_of(field, tally, options.facet_limit, false))
            .collect();
        for (field, unfiltered) in multi_select {
            let (_, mut tallies) = self
                .backend
                .count(&unfiltered, std::slice::from_ref(&field))
                .map_err(ServiceError::backend)?;
            let tally = tallies.pop().unwrap_or_default();
            counts.push(self.counts_of(&field, tally, options.facet_limit, true));
        }
        counts.sort_by_key(|counts| facets.iter().position(|f| *f == counts.field));
        Ok(SearchResults {
            total: page.total,
            clusters: None,
            hits: page.hits,
            facets: counts,
        })
    }

    /// The best hit of each story, in rank order, with the number of its other copies among
    /// the matches. Hits are read in growing pages until the page of stories is complete.
    fn collapsed_search(
        &self,
        query: &Query,
        options: &SearchOptions,
        facets: Vec<String>,
    ) -> Result<SearchResults, ServiceError> {
        let cluster_field = self.cluster_field()?;
        let (_, mut tallies) = self
            .backend
            .count(query, std::slice::from_ref(&cluster_field))
            .map_err(ServiceError::backend)?;
        let sizes = tallies.pop().unwrap_or_default();
        let wanted = options.offset.saturating_add(options.limit);
        let mut read = wanted.saturating_mul(4).max(50);
        loop {
            let page = SearchOptions {
                offset: 0,
                limit: read,
                ..options.clone()
            };
            let mut results = self.search_with(query, &page, facets.clone(), |page| {
                self.backend.search(page)
            })?;
            let complete = results.hits.len() as u64 >= results.total;
            let mut seen = std::collections::HashSet::new();
            results.hits.retain(|hit| seen.insert(hit.cluster.clone()));
            if complete || results.hits.len() >= wanted {
                results.hits = results
                    .hits
                    .into_iter()
                    .skip(options.offset)
                    .take(options.limit)
                    .map(|mut hit| {
                        let size = hit.cluster.as_ref().and_then(|cluster| sizes.get(cluster));
                        hit.similar = Some(size.map_or(0, |size| size.saturating_sub(1)));
                        hit
                    })
                    .collect();
                results.clusters = Some(sizes.len() as u64);
                return Ok(results);
            }
            read = read.saturating_mul(4);
        }
    }

    /// The field holding each article's story, or why stories cannot be told apart.
    fn cluster_field(&self) -> Result<String, ServiceError> {
        self.countable_fields(&["cluster".to_owned()])
            .ok()
            .and_then(|mut fields| fields.pop())
            .ok_or(ServiceError::NoClusters)
    }

    /// Stories per value of `field` among the matches, and the stories in all.
    fn cluster_tally(&self, query: &Query, field: &str) -> Result<(u64, Tally), ServiceError> {
        let cluster_field = self.cluster_field()?;
        let pairs = self
            .backend
            .pair_counts(query, [field, cluster_field.as_str()])
            .map_err(ServiceError::backend)?;
        let mut tally = Tally::new();
        for (value, _) in pairs.pairs.keys() {
            *tally.entry(value.clone()).or_default() += 1;
        }
        Ok((pairs.second.len() as u64, tally))
    }

    /// One field's values over the articles matching the query (its own filters included);
    /// regions as a tree down to countries.
    pub fn facets(&self, request: &FacetsRequest) -> Result<FacetsResponse, ServiceError> {
        let mut fields = self.countable_fields(std::slice::from_ref(&request.field))?;
        let field = fields.pop().expect("one field asked, one resolved");
        let query = self.parse(&request.query)?;
        if let Some(both) = self.region_and_country_fields(&field) {
            return self.region_tree_counts(&query, both, request);
        }
        let (total, mut tallies) = self
            .backend
            .count(&query, std::slice::from_ref(&field))
            .map_err(ServiceError::backend)?;
        let mut tally = tallies.pop().unwrap_or_default();
        let mut clusters = None;
        if request.count_clusters {
            let (stories, by_value) = self.cluster_tally(&query, &field)?;
            (clusters, tally) = (Some(stories), by_value);
        }
        Ok(FacetsResponse {
            total,
            clusters,
            facet: self.counts_of(&field, tally, request.limit, false),
        })
    }

    pub fn timeline(&self, request: &TimelineRequest) -> Result<Timeline, ServiceError> {
        let split = match &request.split {
            Some(name) => self.countable_fields(std::slice::from_ref(name))?.pop(),
            None => None,
        };
        let query = self.parse(&request.query)?;
        let counts: TimelineCounts = self
            .backend
            .timeline(&query, request.by, split.as_deref())
            .map_err(ServiceError::backend)?;
        Ok(Timeline::build(
            counts,
            request.by,
            split.as_deref(),
            request.top,
        ))
    }

    /// Splits the words after `cooc FIELD` into a second field and the query: a first word
    /// that names a countable field is the second field.
    pub fn cooc_words(&self, words: &[String]) -> (Option<String>, String) {
        match words.split_first() {
            Some((word, rest)) if self.schema.fields.countable(word).is_some() => {
                (Some(word.clone()), rest.join(" "))
            }
            _ => (None, words.join(" ")),
        }
    }

    pub fn cooc(&self, request: &CoocRequest) -> Result<CoocResponse, ServiceError> {
        let names: Vec<String> = std::iter::once(&request.field)
            .chain(&request.second)
            .cloned()
            .collect();
        let fields = self.countable_fields(&names)?;
        let query = self.parse(&request.query)?;
        match &fields[..] {
            [field] => self.cooc_values(&query, field, request.options),
            [first, second] => {
                let counts = self
                    .backend
                    .pair_counts(&query, [first, second])
                    .map_err(ServiceError::backend)?;
                let CoocOptions {
                    limit, min_count, ..
                } = request.options;
                Ok(CoocResponse::Pairs(PairTable::build(
                    [first, second],
                    counts,
                    request.size,
                    limit,
                    min_count,
                )))
            }
            _ => unreachable!("one or two fields"),
        }
    }

    /// The values of `field` among the results, with their lift over the whole index.
    fn cooc_values(
        &self,
        query: &Query,
        field: &str,
        options: CoocOptions,
    ) -> Result<CoocResponse, ServiceError> {
        let fields = [field.to_owned()];
        let (results, in_results) = self.count_all(query, &fields)?;
        let (articles, in_index) = self.count_all(&Query::All, &fields)?;
        Ok(CoocResponse::Values(Cooccurrence::build(
            field,
            (results, &in_results[0].values),
            (articles, &in_index[0].values),
            options,
        )))
    }

    pub fn article(&self, id: &str) -> Result<StoredArticle, ServiceError> {
        self.backend
            .article(id)
            .map_err(ServiceError::backend)?
            .ok_or_else(|| self.not_found(id))
    }

    pub fn related(&self, id: &str, limit: usize) -> Result<Related, ServiceError> {
        self.backend
            .related(id, limit)
            .map_err(ServiceError::backend)?
            .ok_or_else(|| self.not_found(id))
    }

    pub fn stats(&self, facet_limit: usize) -> Result<StatsResponse, ServiceError> {
        let fields: Vec<String> = self
            .schema
            .fields
            .countable_names()
            .map(str::to_owned)
            .collect();
        let (overview, tallies) = self
            .backend
            .overview(&fields)
            .map_err(ServiceError::backend)?;
        let facets = fields
            .iter()
            .zip(tallies)
            .map(|(field, tally)| self.counts_of(field, tally, facet_limit, false))
            .collect();
        Ok(StatsResponse {
            location: self.backend.location(),
            stats: IndexStats {
                articles: overview.articles,
                earliest: overview.earliest,
                latest: overview.latest,
                undated: overview.undated,
                engine: overview.engine,
                facets,
            },
        })
    }

    fn not_found(&self, id: &str) -> ServiceError {
        ServiceError::NotFound {
            id: id.to_owned(),
            location: self.backend.location(),
        }
    }

    pub(super) fn parse(&self, query: &str) -> Result<Query, ServiceError> {
        Resolver::new(&self.schema.fields, self.schema.catalogs())
            .parse(query)
            .map_err(ServiceError::Query)
    }

    /// The field names behind `--facets` names (`org`, `countries`, `lang`).
    fn countable_fields(&self, names: &[String]) -> Result<Vec<String>, ServiceError> {
        names
            .iter()
            .map(|name| match self.schema.fields.countable(name) {
                Some(spec) => Ok(spec.name.clone()),
                None => Err(ServiceError::NotCountable {
                    name: name.clone(),
                    known: self
                        .schema
                        .fields
                        .countable_names()
                        .map(str::to_owned)
                        .collect(),
                }),
            })
            .collect()
    }

    /// Complete counts (every value, spellings merged) of `fields` under `query`.
    fn count_all(
        &self,
        query: &Query,
        fields: &[String],
    ) -> Result<(u64, Vec<FacetCounts>), ServiceError> {
        let (total, tallies) = self
            .backend
            .count(query, fields)
            .map_err(ServiceError::backend)?;
        let counts = fields
            .iter()
            .zip(tallies)
            .map(|(field, tally)| facet_counts(field, tally, usize::MAX, false))
            .collect();
        Ok((total, counts))
    }

    /// [`facet_counts`], with each topic's parents when `field` holds topics.
    fn counts_of(
        &self,
        field: &str,
        tally: Tally,
        limit: usize,
        multi_select: bool,
    ) -> FacetCounts {
        let mut counts = facet_counts(field, tally, limit, multi_select);
        let holds_topics = self
            .schema
            .fields
            .facets()
            .any(|spec| spec.name == field && spec.dictionary == Some(DictionaryName::Topics));
        if holds_topics {
            let topics = &self.schema.dictionaries.topics.topics;
            for value in &mut counts.values {
                let topic = topics.iter().find(|topic| topic.key == value.key);
                value.parents = topic.map(|topic| topic.parents.clone()).unwrap_or_default();
            }
        }
        counts
    }

    /// `[region field, country field]` when `field` holds regions and the schema has countries.
    fn region_and_country_fields(&self, field: &str) -> Option<[String; 2]> {
        let of_dictionary = |dictionary: DictionaryName| {
            self.schema
                .fields
                .facets()
                .find(|spec| spec.dictionary.as_ref() == Some(&dictionary))
        };
        let regions = of_dictionary(DictionaryName::Regions).filter(|spec| spec.name == field)?;
        let countries = of_dictionary(DictionaryName::Countries)?;
        Some([regions.name.clone(), countries.name.clone()])
    }

    /// Region counts as a tree down to countries.
    fn region_tree_counts(
        &self,
        query: &Query,
        fields: [String; 2],
        request: &FacetsRequest,
    ) -> Result<FacetsResponse, ServiceError> {
        let (total, mut counts) = self.count_all(query, &fields)?;
        let mut clusters = None;
        if request.count_clusters {
            for (field, counted) in fields.iter().zip(counts.iter_mut()) {
                let (stories, tally) = self.cluster_tally(query, field)?;
                clusters = Some(stories);
                *counted = facet_counts(field, tally, usize::MAX, false);
            }
        }
        let [regions, countries] = &counts[..] else {
            unreachable!("two fields asked, two counted")
        };
        let tree = region_tree(
            &self.schema.dictionaries,
            &regions.values,
            &countries.values,
            request.limit,
        );
        Ok(FacetsResponse {
            total,
            clusters,
            facet: FacetCounts {
                values: tree,
                ..regions.clone()
            },
        })
    }
}

/// The facet fields counted under the query itself, and those the query filters on, each
/// with the query it is counted under instead (see [`Query::without_filters_on`]).
fn facet_queries(query: &Query, facets: &[String]) -> (Vec<String>, Vec<(String, Query)>) {
    let mut plain = Vec::new();
    let mut multi_select = Vec::new();
    for field in facets {
        match query.without_filters_on(field) {
            Some(query) => multi_select.push((field.clone(), query)),
            None => plain.push(field.clone()),
        }
    }
    (plain, multi_select)
}

/// A tally as shown: spellings a query cannot tell apart counted as one, most frequent first,
/// at most `limit` values.
fn facet_counts(field: &str, tally: Tally, limit: usize, multi_select: bool) -> FacetCounts {
    let values: Vec<FacetCount> = merge_spellings(tally);
    let distinct = values.len();
    FacetCounts {
        field: field.to_owned(),
        multi_select,
        distinct,
        values: most_frequent(values, limit),
    }
}
