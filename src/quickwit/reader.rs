//! The read side of a Quickwit index: resolved queries in, the same raw results as the local
//! index out.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};

use super::client::{Body, Client};
use super::document::{INDEXED_AT, QuickwitMapper, bucket_field, words_field};
use super::init::{field_types, index_config};
use super::translate::{Translation, Translator};
use super::{QuickwitError, Target};
use crate::analytics::{Interval, PairCounts, TimelineCounts};
use crate::backend::{Overview, Page, PageRequest, SearchBackend, Tally};
use crate::index::{EnglishWords, snippet_of};
use crate::query::ast::Query;
use crate::results::{EngineStats, Hit, Related, RelatedHit, Sort, StoredArticle, shared_entities};
use crate::schema::{DictionaryName, Schema};

/// Buckets one terms aggregation may return: Quickwit's default limit on a response's buckets.
const MAX_BUCKETS: u64 = 65_000;
/// Bytes of a related article's snippet, as the local index makes it.
const RELATED_SNIPPET_BYTES: usize = 150;
/// What one shared entity adds to a related article's score, next to its words' BM25.
const SHARED_ENTITY_BOOST: f32 = 1.5;
/// Words of an article searched for its related articles.
const DISTINCTIVE_WORDS: usize = 30;
/// The article's most frequent words whose document frequencies are asked for.
const CANDIDATE_WORDS: usize = 2000;

/// A page of hits as Quickwit found them.
struct Found {
    total: u64,
    /// Each hit's stored fields, and its score when ranked by relevance.
    hits: Vec<(Value, Option<f32>)>,
    tallies: Vec<Tally>,
}

pub struct QuickwitIndex {
    target: Target,
    client: Client,
    schema: Arc<Schema>,
    mapper: QuickwitMapper,
}

impl QuickwitIndex {
    /// The index `target` names, checked to have the fields this schema needs.
    pub fn open(target: &Target, schema: &Arc<Schema>) -> Result<QuickwitIndex, QuickwitError> {
        let index = QuickwitIndex {
            target: target.clone(),
            client: Client::new(target.nodes.clone()),
            schema: Arc::clone(schema),
            mapper: QuickwitMapper::new(Arc::clone(schema)),
        };
        index.check_fields()?;
        Ok(index)
    }

    /// The index's metadata, or [`QuickwitError::MissingIndex`].
    fn metadata(client: &Client, target: &Target) -> Result<Value, QuickwitError> {
        match client.get::<Value>(&format!("/api/v1/indexes/{}", target.index)) {
            Err(QuickwitError::Status { status: 404, .. }) => Err(QuickwitError::MissingIndex {
                index: target.index.clone(),
                nodes: target.nodes.join(", "),
                engine: engine_url(target),
            }),
            other => other,
        }
    }

    fn check_fields(&self) -> Result<(), QuickwitError> {
        let metadata = QuickwitIndex::metadata(&self.client, &self.target)?;
        let found = field_types(&metadata["index_config"]["doc_mapping"]["field_mappings"]);
        let wanted = index_config(&self.schema, &self.target.index).fields();
        let missing: Vec<String> = wanted
            .iter()
            .filter(|field| !found.contains(field))
            .map(|(name, kind)| format!("{name} ({kind})"))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(QuickwitError::Mismatch {
            index: self.target.index.clone(),
            why: format!("it lacks {}", missing.join(", ")),
        })
    }

    fn search_json(&self, body: &Value) -> Result<Value, QuickwitError> {
        let response: Value = self.client.post(
            &format!("/api/v1/{}/search", self.target.index),
            Body::Json(body),
        )?;
        if let Some(errors) = response["errors"].as_array().filter(|e| !e.is_empty()) {
            return Err(QuickwitError::Response {
                url: self.target.nodes.join(", "),
                detail: format!("the search failed on some splits: {errors:?}"),
            });
        }
        Ok(response)
    }

    fn translate(&self, query: &Query) -> Translation {
        Translator::new(&self.schema).translate(query)
    }

    /// One page of hits for a request, with the tallies, through Quickwit's
    /// Elasticsearch-compatible search (the one that gives scores).
    fn page(&self, request: &PageRequest) -> Result<(PageSearch, Value), QuickwitError> {
        let search = PageSearch::new(&self.schema, request)?;
        let response: Value = self.client.post(
            &format!("/api/v1/_elastic/{}/_search", self.target.index),
            Body::Json(&search.body),
        )?;
        Ok((search, response))
    }

    /// The words of an article's searched fields that best tell it apart, weighted relative to
    /// the best, as the local index picks them; document frequencies come from one
    /// multi-search over the article's most frequent words.
    fn distinctive_words(
        &self,
        article: &StoredArticle,
        articles: u64,
    ) -> Result<Vec<(String, String, f32)>, QuickwitError> {
        let mut analyzer = EnglishWords::default();
        let mut frequencies: HashMap<(String, String), u32> = HashMap::new();
        for (field, _) in self.schema.fields.searched() {
            let Some(text) = article.value_of(field) else {
                continue;
            };
            for (_, word) in analyzer.words(text) {
                if word.len() >= 3 {
                    *frequencies.entry((field.to_owned(), word)).or_default() += 1;
                }
            }
        }
        // Ties go as in the local index: by field, in fields.toml's order, then by word.
        let field_order = |field: &str| self.schema.fields.iter().position(|s| s.name == field);
        let tie = |(field, word): &(String, String)| (field_order(field), word.clone());
        let mut candidates: Vec<((String, String), u32)> = frequencies.into_iter().collect();
        candidates.sort_by(|(a, a_count), (b, b_count)| {
            b_count.cmp(a_count).then_with(|| tie(a).cmp(&tie(b)))
        });
        candidates.truncate(CANDIDATE_WORDS);
        let in_articles = self.document_frequencies(candidates.iter().map(|(term, _)| term))?;
        let ceiling = (articles / 5).max(2);
        let mut scored: Vec<((String, String), f32)> = candidates
            .into_iter()
            .zip(in_articles)
            .filter(|(_, in_articles)| (2..=ceiling).contains(in_articles))
            .filter_map(|((term, frequency), in_articles)| {
                let rarity = (articles as f32 / in_articles as f32).ln();
                (rarity > 0.0).then_some((term, frequency as f32 * rarity))
            })
            .collect();
        scored.sort_by(|(a, a_score), (b, b_score)| {
            b_score.total_cmp(a_score).then_with(|| tie(a).cmp(&tie(b)))
        });
        scored.truncate(DISTINCTIVE_WORDS);
        let best = scored.first().map_or(1.0, |(_, score)| *score);
        Ok(scored
            .into_iter()
            .map(|((field, word), score)| (field, word, score / best))
            .collect())
    }

    /// Articles holding each (field, word), from one `_msearch` request.
    fn document_frequencies<'t>(
        &self,
        terms: impl Iterator<Item = &'t (String, String)>,
    ) -> Result<Vec<u64>, QuickwitError> {
        let mut lines = Vec::new();
        let mut asked = 0;
        for (field, word) in terms {
            let header = json!({ "index": self.target.index });
            let search = json!({
                "size": 0,
                "track_total_hits": true,
                "query": { "query_string": {
                    "query": format!("{}:\"{word}\"", words_field(field)),
                } },
            });
            for line in [header, search] {
                serde_json::to_writer(&mut lines, &line).expect("JSON serializes");
                lines.push(b'\n');
            }
            asked += 1;
        }
        if asked == 0 {
            return Ok(Vec::new());
        }
        let response: Value = self
            .client
            .post("/api/v1/_elastic/_msearch", Body::Ndjson(&lines))?;
        totals_of_each(&response, asked).map_err(|detail| QuickwitError::Response {
            url: self.target.nodes.join(", "),
            detail,
        })
    }

    /// Other articles like `article`: its distinctive words, plus a boost for each entity they
    /// share with it, never itself.
    fn like_query(&self, words: &[(String, String, f32)], article: &StoredArticle) -> String {
        let mut clauses: Vec<String> = words
            .iter()
            .map(|(field, word, weight)| format!("{}:\"{word}\"^{weight}", words_field(field)))
            .collect();
        for spec in self.schema.fields.facets() {
            let dictionary = spec.dictionary.as_ref().expect("facets have dictionaries");
            if *dictionary == DictionaryName::Regions || spec.salient_only {
                continue;
            }
            for key in article.entities.keys(dictionary) {
                let key = key.replace(['"', '\\'], "");
                clauses.push(format!("{}:\"{key}\"^{SHARED_ENTITY_BOOST}", spec.name));
            }
        }
        let id = article.id.replace('\\', "\\\\").replace('"', "\\\"");
        if clauses.is_empty() {
            return format!("id:\"{id}\" AND NOT id:\"{id}\"");
        }
        format!("({}) AND NOT id:\"{id}\"", clauses.join(" OR "))
    }

    fn stored_hits(&self, response: &Value) -> Result<Vec<StoredArticle>, QuickwitError> {
        response["hits"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|hit| self.mapper.to_stored_article(hit))
            .collect()
    }
}

/// One page search as Quickwit is asked it (an Elasticsearch-compatible search body), and the
/// mapping of its response back to hits: no network, so that what geonews adds to a search can
/// be timed on its own (examples/quickwit_overhead.rs).
pub struct PageSearch {
    pub body: Value,
    ranked: bool,
    tally_count: usize,
    /// The analysed words the query looks for, for snippets.
    words: Vec<String>,
}

impl PageSearch {
    pub fn new(schema: &Schema, request: &PageRequest) -> Result<PageSearch, QuickwitError> {
        let translation = Translator::new(schema).translate(request.query);
        let timestamp = &schema.fields.timestamp().name;
        let ranked = request.sort == Sort::Relevance && translation.ranks;
        let sort = match request.sort {
            _ if ranked => json!([{ "_score": { "order": "desc" } }]),
            Sort::Relevance | Sort::NewestFirst => json!([{ timestamp: { "order": "desc" } }]),
            Sort::OldestFirst => json!([{ timestamp: { "order": "asc" } }]),
        };
        let body = json!({
            "query": { "query_string": { "query": translation.query } },
            "size": request.limit,
            "from": request.offset,
            "sort": sort,
            "track_total_hits": true,
            "aggs": tally_aggregations(schema, request.tally)?,
        });
        Ok(PageSearch {
            body,
            ranked,
            tally_count: request.tally.len(),
            words: translation.words,
        })
    }

    /// The page a response holds: whole hits with snippets, the total and the tallies.
    pub fn hits(
        &self,
        mapper: &QuickwitMapper,
        response: &Value,
    ) -> Result<Page<Hit>, QuickwitError> {
        let found = self.found(response);
        let hits = found
            .hits
            .iter()
            .map(|(source, score)| {
                let stored = mapper.to_stored_article(source)?;
                Ok(to_hit(stored, *score, &self.words, None))
            })
            .collect::<Result<_, QuickwitError>>()?;
        Ok(Page {
            total: found.total,
            hits,
            tallies: found.tallies,
        })
    }

    fn found(&self, response: &Value) -> Found {
        found(response, self.ranked, self.tally_count)
    }
}

/// The terms aggregations tallying `fields`, named by position.
fn tally_aggregations(schema: &Schema, fields: &[String]) -> Result<Value, QuickwitError> {
    let mut aggregations = serde_json::Map::new();
    for (position, field) in fields.iter().enumerate() {
        aggregations.insert(format!("tally{position}"), terms(column(schema, field)?));
    }
    Ok(Value::Object(aggregations))
}

fn column<'f>(schema: &Schema, field: &'f str) -> Result<&'f str, QuickwitError> {
    if schema.fields.countable_names().any(|name| name == field) {
        Ok(field)
    } else {
        Err(QuickwitError::NotCountable(field.to_owned()))
    }
}

fn to_hit(
    stored: StoredArticle,
    score: Option<f32>,
    words: &[String],
    bytes: Option<usize>,
) -> Hit {
    let snippet = snippet_of(words, &stored.body, stored.summary.as_deref(), bytes);
    Hit::from_stored(stored, score, snippet)
}

fn engine_url(target: &Target) -> String {
    let hosts: Vec<&str> = target
        .nodes
        .iter()
        .map(|node| {
            node.split_once("://")
                .map_or(node.as_str(), |(_, host)| host)
        })
        .collect();
    let scheme = target.nodes[0].split_once("://").map_or("http", |(s, _)| s);
    format!("quickwit+{scheme}://{}/{}", hosts.join(","), target.index)
}

fn terms(field: &str) -> Value {
    json!({ "terms": { "field": field, "size": MAX_BUCKETS } })
}

/// A terms aggregation's buckets as a tally.
fn tally(aggregation: &Value) -> Tally {
    buckets(aggregation)
        .map(|(key, count, _)| (key, count))
        .collect()
}

/// Each bucket's key (as text), document count and the bucket itself.
fn buckets(aggregation: &Value) -> impl Iterator<Item = (String, u64, &Value)> {
    aggregation["buckets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|bucket| {
            let key = match &bucket["key"] {
                Value::String(text) => text.clone(),
                Value::Number(number) => match number.as_i64() {
                    Some(integer) => integer.to_string(),
                    None => (number.as_f64()? as i64).to_string(),
                },
                _ => return None,
            };
            Some((key, bucket["doc_count"].as_u64()?, bucket))
        })
}

fn hits_total(response: &Value) -> u64 {
    response["num_hits"].as_u64().unwrap_or(0)
}

/// The tallies named `tally0`, `tally1`... of a response.
fn tallies(response: &Value, count: usize) -> Vec<Tally> {
    (0..count)
        .map(|position| tally(&response["aggregations"][format!("tally{position}")]))
        .collect()
}

/// A page from an Elasticsearch-compatible search response.
fn found(response: &Value, ranked: bool, tally_count: usize) -> Found {
    let hits = response["hits"]["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|hit| {
            let score = ranked
                .then(|| hit["sort"][0].as_f64())
                .flatten()
                .map(|score| score as f32);
            (hit["_source"].clone(), score)
        })
        .collect();
    Found {
        total: response["hits"]["total"]["value"].as_u64().unwrap_or(0),
        hits,
        tallies: tallies(response, tally_count),
    }
}

/// Matching articles per calendar bucket (and per split value) from a `buckets` terms
/// aggregation over a bucket field.
fn timeline_counts(response: &Value) -> Result<TimelineCounts, String> {
    let total = hits_total(response);
    let mut counts = TimelineCounts {
        total,
        undated: total,
        buckets: BTreeMap::new(),
        split: HashMap::new(),
    };
    for (key, count, bucket) in buckets(&response["aggregations"]["buckets"]) {
        let day: i64 = key
            .parse()
            .map_err(|_| format!("a timeline bucket `{key}` is not a day number"))?;
        counts.buckets.insert(day, count);
        counts.undated = counts.undated.saturating_sub(count);
        for (value, count, _) in buckets(&bucket["split"]) {
            counts.split.insert((day, value), count);
        }
    }
    Ok(counts)
}

/// Pairs of values from a `first` terms aggregation nesting `second`, beside a `second` of its
/// own.
fn pair_counts(response: &Value, one_field: bool) -> PairCounts {
    let aggregations = &response["aggregations"];
    let mut pairs = HashMap::new();
    for (a, _, bucket) in buckets(&aggregations["first"]) {
        for (b, count, _) in buckets(&bucket["second"]) {
            // One field gives each pair twice, and each value with itself: keep a < b.
            if !one_field || a < b {
                pairs.insert((a.clone(), b), count);
            }
        }
    }
    PairCounts {
        total: hits_total(response),
        first: tally(&aggregations["first"]),
        second: tally(&aggregations["second"]),
        pairs,
    }
}

/// The index's size and date span from a search with a `span` stats aggregation, and its
/// storage from `describe`.
fn overview(response: &Value, described: &Value, tally_count: usize) -> (Overview, Vec<Tally>) {
    let span = &response["aggregations"]["span"];
    let articles = hits_total(response);
    let dated = span["count"].as_u64().unwrap_or(0);
    let overview = Overview {
        articles,
        earliest: super::document::datetime(&span["min"]),
        latest: super::document::datetime(&span["max"]),
        undated: articles.saturating_sub(dated),
        engine: Some(EngineStats {
            size_bytes: described["size_published_splits"].as_u64().unwrap_or(0),
            segments: described["num_published_splits"].as_u64().unwrap_or(0) as usize,
        }),
    };
    (overview, tallies(response, tally_count))
}

/// The total of each search of an `_msearch` response, which must answer all `asked`.
fn totals_of_each(response: &Value, asked: usize) -> Result<Vec<u64>, String> {
    let responses = response["responses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if responses.len() != asked {
        return Err(format!(
            "_msearch answered {} of {asked} searches",
            responses.len()
        ));
    }
    responses
        .iter()
        .map(|one| match one["hits"]["total"]["value"].as_u64() {
            Some(total) => Ok(total),
            None => Err(format!("a search of _msearch failed: {one}")),
        })
        .collect()
}

impl SearchBackend for QuickwitIndex {
    type Error = QuickwitError;

    fn search(&self, request: &PageRequest) -> Result<Page<Hit>, QuickwitError> {
        let (search, response) = self.page(request)?;
        search.hits(&self.mapper, &response)
    }

    fn search_ids(&self, request: &PageRequest) -> Result<Page<String>, QuickwitError> {
        let (search, response) = self.page(request)?;
        let found = search.found(&response);
        let hits = found
            .hits
            .iter()
            .map(|(source, _)| {
                source["id"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| QuickwitError::Corrupt("a hit has no id".to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            total: found.total,
            hits,
            tallies: found.tallies,
        })
    }

    fn count(&self, query: &Query, fields: &[String]) -> Result<(u64, Vec<Tally>), QuickwitError> {
        let request = PageRequest {
            query,
            sort: Sort::Relevance,
            limit: 0,
            offset: 0,
            tally: fields,
        };
        let (search, response) = self.page(&request)?;
        let found = search.found(&response);
        Ok((found.total, found.tallies))
    }

    fn article(&self, id: &str) -> Result<Option<StoredArticle>, QuickwitError> {
        let query = Query::Keyword {
            field: "id".to_owned(),
            value: id.to_owned(),
        };
        let body = json!({ "query": self.translate(&query).query, "max_hits": 1 });
        let response = self.search_json(&body)?;
        Ok(self.stored_hits(&response)?.into_iter().next())
    }

    fn timeline(
        &self,
        query: &Query,
        interval: Interval,
        split: Option<&str>,
    ) -> Result<TimelineCounts, QuickwitError> {
        let mut buckets_aggregation = terms(bucket_field(interval));
        if let Some(split) = split {
            buckets_aggregation["aggs"] = json!({ "split": terms(column(&self.schema, split)?) });
        }
        let body = json!({
            "query": self.translate(query).query,
            "max_hits": 0,
            "count_all": true,
            "aggs": { "buckets": buckets_aggregation },
        });
        let response = self.search_json(&body)?;
        timeline_counts(&response).map_err(|detail| QuickwitError::Response {
            url: self.target.nodes.join(", "),
            detail,
        })
    }

    fn pair_counts(&self, query: &Query, fields: [&str; 2]) -> Result<PairCounts, QuickwitError> {
        let [first, second] = [
            column(&self.schema, fields[0])?,
            column(&self.schema, fields[1])?,
        ];
        let mut nested = terms(first);
        nested["aggs"] = json!({ "second": terms(second) });
        let body = json!({
            "query": self.translate(query).query,
            "max_hits": 0,
            "count_all": true,
            "aggs": { "first": nested, "second": terms(second) },
        });
        let response = self.search_json(&body)?;
        Ok(pair_counts(&response, first == second))
    }

    fn related(&self, id: &str, limit: usize) -> Result<Option<Related>, QuickwitError> {
        let Some(article) = self.article(id)? else {
            return Ok(None);
        };
        let articles = self.count(&Query::All, &[])?.0;
        let words = self.distinctive_words(&article, articles)?;
        let body = json!({
            "query": self.like_query(&words, &article),
            "max_hits": limit,
            "sort_by": "_score",
        });
        let response = self.search_json(&body)?;
        let snippet_words: Vec<String> = words.iter().map(|(_, word, _)| word.clone()).collect();
        let facet_fields: Vec<(&str, DictionaryName)> = self
            .schema
            .fields
            .facets()
            .filter(|spec| !spec.salient_only)
            .filter_map(|spec| Some((spec.name.as_str(), spec.dictionary.clone()?)))
            .collect();
        let hits = self
            .stored_hits(&response)?
            .into_iter()
            .map(|stored| {
                let hit = to_hit(stored, None, &snippet_words, Some(RELATED_SNIPPET_BYTES));
                let shared = shared_entities(
                    facet_fields.iter().cloned(),
                    &article.entities,
                    &hit.entities,
                );
                RelatedHit { hit, shared }
            })
            .collect();
        Ok(Some(Related {
            id: article.id,
            title: article.title,
            words: snippet_words,
            hits,
        }))
    }

    fn indexed_through(&self) -> Result<u64, QuickwitError> {
        let body = json!({
            "query": "*",
            "max_hits": 0,
            "aggs": { "latest": { "max": { "field": INDEXED_AT } } },
        });
        let response = self.search_json(&body)?;
        Ok(response["aggregations"]["latest"]["value"]
            .as_f64()
            .map_or(0, |latest| latest as u64))
    }

    fn overview(&self, fields: &[String]) -> Result<(Overview, Vec<Tally>), QuickwitError> {
        let mut aggregations = tally_aggregations(&self.schema, fields)?;
        let timestamp = &self.schema.fields.timestamp().name;
        aggregations["span"] = json!({ "stats": { "field": timestamp } });
        let body = json!({
            "query": "*",
            "max_hits": 0,
            "count_all": true,
            "aggs": aggregations,
        });
        let response = self.search_json(&body)?;
        let described: Value = self
            .client
            .get(&format!("/api/v1/indexes/{}/describe", self.target.index))?;
        Ok(overview(&response, &described, fields.len()))
    }

    fn location(&self) -> String {
        self.target.to_string()
    }

    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response recorded from Quickwit 0.9.0 serving the sample corpus.
    fn recorded(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/quickwit/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn a_ranked_page_has_scores_sources_and_tallies() {
        let page = found(&recorded("search-ranked.json"), true, 2);
        assert_eq!(page.total, 5);
        assert_eq!(page.hits.len(), 2);
        let (source, score) = &page.hits[0];
        assert_eq!(source["id"], "gn-2024-0002");
        assert!(score.is_some_and(|score| score > 0.0));
        assert_eq!(page.tallies[0]["NorthKorea"], 5);
        assert_eq!(page.tallies[1].values().sum::<u64>(), 5);
        let unranked = found(&recorded("search-ranked.json"), false, 0);
        assert!(unranked.hits.iter().all(|(_, score)| score.is_none()));
    }

    #[test]
    fn timeline_buckets_are_days_and_the_rest_is_undated() {
        let counts = timeline_counts(&recorded("timeline-month-split.json")).unwrap();
        assert_eq!(counts.total, 11);
        let dated: u64 = counts.buckets.values().sum();
        assert_eq!(dated + counts.undated, counts.total);
        // 2024-03-01, the first day of a month bucket.
        assert_eq!(counts.buckets.get(&19_783), Some(&1));
        assert!(
            counts
                .split
                .contains_key(&(19_783, "NorthKorea".to_owned()))
        );
    }

    #[test]
    fn pairs_of_one_field_keep_each_pair_once() {
        let response = recorded("pairs-country-topic.json");
        let two = pair_counts(&response, false);
        assert_eq!(two.total, 11);
        assert_eq!(
            two.pairs[&("NorthKorea".to_owned(), "sanctions".to_owned())],
            5
        );
        let one = pair_counts(&response, true);
        assert!(one.pairs.keys().all(|(a, b)| a < b));
    }

    #[test]
    fn the_overview_tells_the_date_span_and_storage() {
        let (overview, tallies) =
            overview(&recorded("overview.json"), &recorded("describe.json"), 1);
        assert_eq!(overview.articles, 66);
        assert_eq!(overview.undated, 7);
        assert_eq!(
            overview.earliest.unwrap().to_rfc3339(),
            "2023-07-30T00:00:00+00:00"
        );
        assert_eq!(overview.engine.unwrap().segments, 1);
        assert_eq!(tallies[0]["en"], 33);
    }

    #[test]
    fn a_multi_search_gives_each_total() {
        let response = recorded("msearch.json");
        assert_eq!(totals_of_each(&response, 2).unwrap(), [11, 3]);
        assert!(totals_of_each(&response, 3).unwrap_err().contains("2 of 3"));
    }
}
