//! The service over a backend double: a handful of articles held in memory, queried by
//! evaluating the resolved query on each. No tantivy index is opened.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::analytics::{CoocOptions, CoocOrder, Interval, PairCounts, TimelineCounts};
use crate::backend::{Overview, Page, PageRequest, SearchBackend, Tally};
use crate::query::ast::Query;
use crate::results::{Hit, Related, RelatedHit, Snippet, Sort, StoredArticle};
use crate::schema::Schema;

/// One article of the double: its facet values by field.
#[derive(Debug, Clone)]
struct Doc {
    id: &'static str,
    /// Its indexing stamp: its place in the list.
    indexed: u64,
    published: Option<DateTime<Utc>>,
    words: &'static str,
    facets: BTreeMap<&'static str, Vec<&'static str>>,
}

/// Answers from a list of articles, recording every query it is asked to count under.
struct Double {
    docs: Vec<Doc>,
    counted_under: Mutex<Vec<(Vec<String>, Query)>>,
}

impl Double {
    fn matches(&self, query: &Query, doc: &Doc) -> bool {
        match query {
            Query::All => true,
            Query::Text { text, .. } => doc.words.contains(&text.to_lowercase()),
            Query::Facet { field, key, .. } => doc
                .facets
                .get(field.as_str())
                .is_some_and(|keys| keys.contains(&key.as_str())),
            Query::Keyword { .. } => false,
            Query::Published(range) => doc.published.is_some_and(|date| {
                range.start.is_none_or(|start| date >= start)
                    && range.end.is_none_or(|end| date < end)
            }),
            Query::IndexedWithin { after, through } => {
                *after < doc.indexed && doc.indexed <= *through
            }
            Query::Not { query } => !self.matches(query, doc),
            Query::And { queries } => queries.iter().all(|q| self.matches(q, doc)),
            Query::Or { queries } => queries.iter().any(|q| self.matches(q, doc)),
        }
    }

    fn matching(&self, query: &Query) -> Vec<&Doc> {
        self.docs
            .iter()
            .filter(|doc| self.matches(query, doc))
            .collect()
    }

    fn tally(&self, docs: &[&Doc], field: &str) -> Tally {
        let mut tally = Tally::new();
        for doc in docs {
            for key in doc.facets.get(field).into_iter().flatten() {
                *tally.entry((*key).to_owned()).or_default() += 1;
            }
        }
        tally
    }

    fn hit(doc: &Doc) -> Hit {
        Hit {
            id: doc.id.to_owned(),
            score: None,
            title: doc.words.to_owned(),
            published: doc.published,
            source: None,
            url: None,
            author: None,
            language: None,
            snippet: Snippet::default(),
            entities: Default::default(),
            cluster: doc.cluster(),
            similar: None,
        }
    }
}

impl Doc {
    fn cluster(&self) -> Option<String> {
        let clusters = self.facets.get("cluster")?;
        clusters.first().map(|cluster| (*cluster).to_owned())
    }
}

impl SearchBackend for Double {
    type Error = Infallible;

    fn search(&self, request: &PageRequest) -> Result<Page<Hit>, Infallible> {
        let ids = self.search_ids(request)?;
        let hits = ids
            .hits
            .iter()
            .map(|id| Double::hit(self.docs.iter().find(|d| d.id == id).unwrap()))
            .collect();
        Ok(Page {
            total: ids.total,
            hits,
            tallies: ids.tallies,
        })
    }

    fn search_ids(&self, request: &PageRequest) -> Result<Page<String>, Infallible> {
        let mut docs = self.matching(request.query);
        if request.sort == Sort::NewestFirst {
            docs.sort_by_key(|doc| std::cmp::Reverse(doc.published));
        }
        let tallies = request.tally.iter().map(|f| self.tally(&docs, f)).collect();
        self.counted_under
            .lock()
            .unwrap()
            .push((request.tally.to_vec(), request.query.clone()));
        Ok(Page {
            total: docs.len() as u64,
            hits: docs
                .iter()
                .skip(request.offset)
                .take(request.limit)
                .map(|doc| doc.id.to_owned())
                .collect(),
            tallies,
        })
    }

    fn count(&self, query: &Query, fields: &[String]) -> Result<(u64, Vec<Tally>), Infallible> {
        self.counted_under
            .lock()
            .unwrap()
            .push((fields.to_vec(), query.clone()));
        let docs = self.matching(query);
        let tallies = fields.iter().map(|f| self.tally(&docs, f)).collect();
        Ok((docs.len() as u64, tallies))
    }

    fn article(&self, id: &str) -> Result<Option<StoredArticle>, Infallible> {
        Ok(self
            .docs
            .iter()
            .find(|d| d.id == id)
            .map(|doc| StoredArticle {
                id: doc.id.to_owned(),
                title: doc.words.to_owned(),
                summary: None,
                body: doc.words.to_owned(),
                published: doc.published,
                source: None,
                url: None,
                author: None,
                language: None,
                entities: Default::default(),
                cluster: doc.cluster(),
                extra: Default::default(),
            }))
    }

    fn timeline(
        &self,
        query: &Query,
        interval: Interval,
        split: Option<&str>,
    ) -> Result<TimelineCounts, Infallible> {
        let docs = self.matching(query);
        let mut counts = TimelineCounts {
            total: docs.len() as u64,
            ..TimelineCounts::default()
        };
        for doc in docs {
            let Some(published) = doc.published else {
                counts.undated += 1;
                continue;
            };
            let bucket = interval.bucket(published.timestamp());
            *counts.buckets.entry(bucket).or_default() += 1;
            for key in split.and_then(|f| doc.facets.get(f)).into_iter().flatten() {
                *counts.split.entry((bucket, (*key).to_owned())).or_default() += 1;
            }
        }
        Ok(counts)
    }

    fn pair_counts(&self, query: &Query, fields: [&str; 2]) -> Result<PairCounts, Infallible> {
        let docs = self.matching(query);
        let mut counts = PairCounts {
            total: docs.len() as u64,
            first: self.tally(&docs, fields[0]),
            second: self.tally(&docs, fields[1]),
            pairs: Default::default(),
        };
        for doc in &docs {
            for a in doc.facets.get(fields[0]).into_iter().flatten() {
                for b in doc.facets.get(fields[1]).into_iter().flatten() {
                    *counts
                        .pairs
                        .entry(((*a).to_owned(), (*b).to_owned()))
                        .or_default() += 1;
                }
            }
        }
        Ok(counts)
    }

    /// Articles sharing a country with article `id`, in index order.
    fn related(&self, id: &str, limit: usize) -> Result<Option<Related>, Infallible> {
        let Some(article) = self.docs.iter().find(|d| d.id == id) else {
            return Ok(None);
        };
        let countries = |doc: &Doc| doc.facets.get("country").cloned().unwrap_or_default();
        let hits = self
            .docs
            .iter()
            .filter(|doc| doc.id != id)
            .filter(|doc| {
                countries(doc)
                    .iter()
                    .any(|c| countries(article).contains(c))
            })
            .take(limit)
            .map(|doc| RelatedHit {
                hit: Double::hit(doc),
                shared: Vec::new(),
            })
            .collect();
        Ok(Some(Related {
            id: id.to_owned(),
            title: article.words.to_owned(),
            words: Vec::new(),
            hits,
        }))
    }

    fn overview(&self, fields: &[String]) -> Result<(Overview, Vec<Tally>), Infallible> {
        let docs: Vec<&Doc> = self.docs.iter().collect();
        let overview = Overview {
            articles: docs.len() as u64,
            earliest: docs.iter().filter_map(|d| d.published).min(),
            latest: docs.iter().filter_map(|d| d.published).max(),
            undated: docs.iter().filter(|d| d.published.is_none()).count() as u64,
            engine: None,
        };
        Ok((
            overview,
            fields.iter().map(|f| self.tally(&docs, f)).collect(),
        ))
    }

    fn indexed_through(&self) -> Result<u64, Infallible> {
        Ok(self.docs.iter().map(|doc| doc.indexed).max().unwrap_or(0))
    }

    fn location(&self) -> String {
        "the double".to_owned()
    }

    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
}

fn date(year: i32, month: u32, day: u32) -> Option<DateTime<Utc>> {
    Utc.with_ymd_and_hms(year, month, day, 12, 0, 0).single()
}

fn doc(
    id: &'static str,
    published: Option<DateTime<Utc>>,
    words: &'static str,
    facets: &[(&'static str, &[&'static str])],
) -> Doc {
    Doc {
        id,
        indexed: 0,
        published,
        words,
        facets: facets.iter().map(|(f, keys)| (*f, keys.to_vec())).collect(),
    }
}

fn service() -> SearchService<Double> {
    let docs = vec![
        doc(
            "a",
            date(2024, 1, 5),
            "sanctions on pyongyang",
            &[
                ("country", &["NorthKorea", "SouthKorea"]),
                ("topic", &["sanctions"]),
                ("source", &["Sample Times", "sample times"]),
                ("cluster", &["a"]),
            ],
        ),
        // A copy of a's story.
        doc(
            "b",
            date(2024, 3, 9),
            "sanctions on moscow",
            &[
                ("country", &["Russia"]),
                ("topic", &["sanctions"]),
                ("cluster", &["a"]),
            ],
        ),
        doc(
            "c",
            date(2024, 3, 20),
            "ceasefire talks",
            &[
                ("country", &["Russia", "Ukraine"]),
                ("topic", &["diplomacy"]),
                ("cluster", &["c"]),
            ],
        ),
        doc(
            "d",
            None,
            "sanctions and talks",
            &[
                ("country", &["Russia", "NorthKorea"]),
                ("topic", &["sanctions", "diplomacy"]),
                ("cluster", &["d"]),
            ],
        ),
    ];
    let docs = docs
        .into_iter()
        .zip(1..)
        .map(|(doc, indexed)| Doc { indexed, ..doc })
        .collect();
    let schema = Arc::new(Schema::builtin().unwrap());
    SearchService::new(
        schema,
        Double {
            docs,
            counted_under: Mutex::new(Vec::new()),
        },
    )
}

fn options(facets: &[&str]) -> SearchOptions {
    SearchOptions {
        sort: Sort::Relevance,
        limit: 10,
        offset: 0,
        facets: facets.iter().map(|f| (*f).to_owned()).collect(),
        facet_limit: 10,
        collapse: false,
    }
}

fn counts(facet: &crate::results::FacetCounts) -> Vec<(&str, u64)> {
    facet
        .values
        .iter()
        .map(|v| (v.key.as_str(), v.count))
        .collect()
}

#[test]
fn search_counts_a_filtered_field_as_if_its_filter_were_absent() {
    let service = service();
    let response = service
        .search(&SearchRequest {
            query: "country:Russia topic:sanctions".to_owned(),
            options: options(&["country", "topic", "source"]),
        })
        .unwrap();
    assert_eq!(response.results.total, 2);
    let [country, topic, source] = &response.results.facets[..] else {
        panic!("three facets: {:?}", response.results.facets);
    };
    // Countries under `topic:sanctions` alone: a, b, d.
    assert!(country.multi_select);
    assert_eq!(
        counts(country),
        [("NorthKorea", 2), ("Russia", 2), ("SouthKorea", 1)]
    );
    // Topics under `country:Russia` alone: b, c, d.
    assert!(topic.multi_select);
    assert_eq!(counts(topic), [("diplomacy", 2), ("sanctions", 2)]);
    // Source is not filtered: counted under the whole query, spellings merged (none here).
    assert!(!source.multi_select);
    assert!(source.values.is_empty());
    let asked = service.backend().counted_under.lock().unwrap();
    assert_eq!(
        asked.len(),
        3,
        "one page and one count per multi-select field"
    );
}

#[test]
fn collapsed_searches_show_one_hit_per_story_with_its_copies_counted() {
    let service = service();
    let request = SearchRequest {
        query: "sanctions".to_owned(),
        options: SearchOptions {
            collapse: true,
            ..options(&[])
        },
    };
    let results = service.search(&request).unwrap().results;
    assert_eq!((results.total, results.clusters), (3, Some(2)));
    let hits: Vec<(&str, Option<u64>)> = results
        .hits
        .iter()
        .map(|hit| (hit.id.as_str(), hit.similar))
        .collect();
    assert_eq!(hits, [("a", Some(1)), ("d", Some(0))]);
}

#[test]
fn facets_count_stories_once_when_asked() {
    let service = service();
    let request = |count_clusters| FacetsRequest {
        field: "topic".to_owned(),
        query: String::new(),
        limit: 10,
        count_clusters,
    };
    let articles = service.facets(&request(false)).unwrap();
    assert_eq!(
        counts(&articles.facet),
        [("sanctions", 3), ("diplomacy", 2)]
    );
    assert_eq!(articles.clusters, None);
    let stories = service.facets(&request(true)).unwrap();
    // a and b are one story; c and d stories of their own.
    assert_eq!(stories.clusters, Some(3));
    assert_eq!(counts(&stories.facet), [("diplomacy", 2), ("sanctions", 2)]);
}

#[test]
fn spellings_a_query_cannot_tell_apart_count_once() {
    let response = service()
        .search(&SearchRequest {
            query: "pyongyang".to_owned(),
            options: options(&["source"]),
        })
        .unwrap();
    let source = &response.results.facets[0];
    assert_eq!(source.distinct, 1);
    assert_eq!(source.values[0].count, 2);
}

#[test]
fn a_bad_query_is_a_usage_error_with_its_column() {
    let error = service()
        .search(&SearchRequest {
            query: "sanctions country:Nort-Korea".to_owned(),
            options: options(&[]),
        })
        .unwrap_err();
    assert!(error.is_usage());
    let ServiceError::Query(error) = error else {
        panic!("not a query error: {error}");
    };
    assert_eq!(error.column, 19);
    assert!(error.suggestions.contains(&"NorthKorea".to_owned()));
    let unknown = service()
        .search(&SearchRequest {
            query: "sanctions".to_owned(),
            options: options(&["colour"]),
        })
        .unwrap_err();
    assert!(matches!(unknown, ServiceError::NotCountable { ref name, .. } if name == "colour"));
}

#[test]
fn timeline_buckets_the_matches_and_splits_by_a_field() {
    let timeline = service()
        .timeline(&TimelineRequest {
            query: "topic:sanctions".to_owned(),
            by: Interval::Month,
            split: Some("country".to_owned()),
            top: 2,
        })
        .unwrap();
    assert_eq!((timeline.total, timeline.undated), (3, 1));
    let buckets: Vec<(&str, u64)> = timeline
        .buckets
        .iter()
        .map(|b| (b.label.as_str(), b.count))
        .collect();
    assert_eq!(buckets, [("2024-01", 1), ("2024-02", 0), ("2024-03", 1)]);
    assert_eq!(timeline.series, ["NorthKorea", "Russia"]);
}

#[test]
fn cooc_ranks_values_by_lift_and_builds_pair_tables() {
    let service = service();
    let options = CoocOptions {
        min_count: 1,
        order: CoocOrder::Lift,
        limit: 10,
    };
    let CoocResponse::Values(values) = service
        .cooc(&CoocRequest {
            field: "country".to_owned(),
            second: None,
            query: "topic:diplomacy".to_owned(),
            options,
            size: 4,
        })
        .unwrap()
    else {
        panic!("one field gives values");
    };
    assert_eq!((values.results, values.articles), (2, 4));
    // Ukraine is in 1 of 2 results and 1 of 4 articles: lift 2; Russia 2/2 over 3/4.
    assert_eq!(values.values[0].key, "Ukraine");
    assert_eq!(values.values[0].lift, 2.0);
    let CoocResponse::Pairs(pairs) = service
        .cooc(&CoocRequest {
            field: "country".to_owned(),
            second: Some("topic".to_owned()),
            query: "sanctions".to_owned(),
            options,
            size: 4,
        })
        .unwrap()
    else {
        panic!("two fields give pairs");
    };
    assert_eq!(pairs.results, 3);
    let russia = pairs.rows.iter().position(|r| r == "Russia").unwrap();
    let sanctions = pairs.columns.iter().position(|c| c == "sanctions").unwrap();
    assert_eq!(pairs.cells[russia][sanctions], 2);
}

#[test]
fn cooc_words_take_a_first_countable_word_as_the_second_field() {
    let service = service();
    let words = |text: &str| -> Vec<String> { text.split(' ').map(str::to_owned).collect() };
    assert_eq!(
        service.cooc_words(&words("topic sanctions")),
        (Some("topic".to_owned()), "sanctions".to_owned())
    );
    assert_eq!(
        service.cooc_words(&words("sanctions topic")),
        (None, "sanctions topic".to_owned())
    );
}

#[test]
fn related_and_show_name_a_missing_id() {
    let service = service();
    let related = service.related("b", 5).unwrap();
    let ids: Vec<&str> = related.hits.iter().map(|h| h.hit.id.as_str()).collect();
    assert_eq!(ids, ["c", "d"]);
    assert_eq!(service.related("b", 1).unwrap().hits.len(), 1);
    assert!(matches!(
        service.related("zz", 3),
        Err(ServiceError::NotFound { .. })
    ));
    let missing = service.article("zz").unwrap_err();
    assert_eq!(
        missing.to_string(),
        "no article with id \"zz\" in the double"
    );
    assert_eq!(service.article("b").unwrap().id, "b");
}

#[test]
fn stats_count_every_countable_field_without_engine_details() {
    let stats = service().stats(2).unwrap().stats;
    assert_eq!((stats.articles, stats.undated), (4, 1));
    assert_eq!(stats.engine, None);
    let country = stats.facets.iter().find(|f| f.field == "country").unwrap();
    assert_eq!(counts(country), [("Russia", 3), ("NorthKorea", 2)]);
}

#[test]
fn a_batch_answers_bad_queries_in_line() {
    let service = service();
    let answer = service
        .batch_answer("country:Nowhere", &options(&[]))
        .unwrap();
    assert!(answer.is_failure());
    let BatchAnswer::Answered { total, ids, .. } =
        service.batch_answer("sanctions", &options(&[])).unwrap()
    else {
        panic!("a good query is answered");
    };
    assert_eq!(total, 3);
    assert_eq!(ids, ["a", "b", "d"]);
}

#[test]
fn watches_see_what_was_indexed_after_their_mark_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::watch::WatchStore::new(dir.path());
    let service = service();
    let saved = service
        .add_watch(&store, "ru", "country:Russia", None)
        .unwrap();
    // Saved after all four articles: it has seen them.
    assert_eq!(saved.seen_through, 4);
    assert_eq!(service.watches(&store).unwrap().watches[0].unseen, 0);
    // Move its mark back to after the first article: b, c and d are new; a is not Russian.
    store.mark_seen("ru", 0, chrono::Utc::now()).unwrap();
    let mut watches = std::fs::read_to_string(store.path()).unwrap();
    watches = watches.replace("\"seen_through\": 4", "\"seen_through\": 1");
    std::fs::write(store.path(), watches).unwrap();
    assert_eq!(service.watch_status(&store, "ru").unwrap().unseen, 3);
    let dry = service.run_watches(&store, &[], 10, true).unwrap();
    assert_eq!(dry.reports[0].total, 3);
    let run = service.run_watches(&store, &[], 2, false).unwrap();
    assert_eq!((run.reports[0].total, run.reports[0].hits.len()), (3, 2));
    assert!(run.found_anything());
    let again = service.run_watches(&store, &[], 10, false).unwrap();
    assert!(!again.found_anything());
    assert!(matches!(
        service.run_watches(&store, &["nope".to_owned()], 10, false),
        Err(ServiceError::Watch(crate::watch::WatchError::Unknown(_)))
    ));
}

/// A write side that holds ids and records what it was asked to do.
#[derive(Default)]
struct SinkDouble {
    held: Vec<String>,
    deleted: Vec<String>,
    commits: usize,
}

struct NoMapper;

impl crate::backend::DocumentMapper for NoMapper {
    type Document = ();

    fn document(&self, _: crate::pipeline::Analysed) {}
}

impl crate::backend::ArticleSink for &mut SinkDouble {
    type Mapper = NoMapper;
    type Error = Infallible;

    fn mapper(&self) -> NoMapper {
        NoMapper
    }

    fn location(&self) -> String {
        "the sink double".to_owned()
    }

    fn write(&mut self, (): ()) -> Result<Vec<crate::backend::Written>, Infallible> {
        unreachable!("deleting writes nothing")
    }

    fn delete(&mut self, id: &str) -> Result<bool, Infallible> {
        let held = self.held.iter().any(|h| h == id);
        self.held.retain(|h| h != id);
        if held {
            self.deleted.push(id.to_owned());
        }
        Ok(held)
    }

    fn commit(&mut self) -> Result<(), Infallible> {
        self.commits += 1;
        Ok(())
    }

    fn compact(
        &mut self,
    ) -> Result<(crate::backend::Storage, crate::backend::Storage), Infallible> {
        unreachable!("not compacted here")
    }

    fn backup(&mut self, _: &std::path::Path) -> Result<crate::backend::Copied, Infallible> {
        unreachable!("not backed up here")
    }

    fn finish(self) -> Result<u64, Infallible> {
        Ok(self.held.len() as u64)
    }
}

fn sink_holding(ids: &[&str]) -> SinkDouble {
    SinkDouble {
        held: ids.iter().map(|id| (*id).to_owned()).collect(),
        ..SinkDouble::default()
    }
}

#[test]
fn a_delete_by_query_finds_ids_on_the_read_side_and_deletes_them_on_the_write_side() {
    let service = service();
    let request = DeleteRequest {
        target: DeleteTarget::Query("topic:sanctions".to_owned()),
        dry_run: true,
    };
    let plan = service.plan_delete(&request).unwrap();
    assert_eq!((plan.count, plan.dry_run), (3, true));
    assert_eq!(plan.articles_in_index, 4);

    let mut sink = sink_holding(&["a", "b", "c", "d"]);
    let request = DeleteRequest {
        dry_run: false,
        ..request
    };
    let done = service.delete(&request, &mut sink).unwrap();
    assert_eq!(done.ids, plan.ids);
    assert_eq!((done.count, done.articles_in_index), (3, 1));
    assert!(!done.missed_any());
    let mut deleted = sink.deleted.clone();
    deleted.sort();
    assert_eq!(deleted, ["a", "b", "d"]);
    assert_eq!(sink.commits, 1);
}

#[test]
fn a_delete_by_id_names_the_ids_it_did_not_find_once_each() {
    let service = service();
    let request = DeleteRequest {
        target: DeleteTarget::Ids(vec!["c".into(), "zz".into(), "c".into(), "zz".into()]),
        dry_run: true,
    };
    let plan = service.plan_delete(&request).unwrap();
    assert_eq!(
        (plan.ids.clone(), plan.not_found.clone()),
        (vec!["c".to_owned()], vec!["zz".to_owned()])
    );
    assert!(plan.missed_any());

    let mut sink = sink_holding(&["a", "c"]);
    let done = service
        .delete(
            &DeleteRequest {
                dry_run: false,
                ..request
            },
            &mut sink,
        )
        .unwrap();
    assert_eq!(done.ids, ["c"]);
    assert_eq!(done.not_found, ["zz"]);
    assert_eq!(done.articles_in_index, 1);
}

#[test]
fn a_delete_of_everything_or_of_nothing_named_is_a_usage_error() {
    let schema = Schema::builtin().unwrap();
    for target in [
        DeleteTarget::Query(String::new()),
        DeleteTarget::Ids(Vec::new()),
        DeleteTarget::Query("country:Atlantis".to_owned()),
    ] {
        let request = DeleteRequest {
            target,
            dry_run: false,
        };
        let error = check_delete(&schema, &request).unwrap_err();
        assert!(error.is_usage(), "{error}");
    }
}

#[test]
fn an_export_reads_every_match_once_in_order_whatever_the_page() {
    let service = service();
    let all: Vec<&str> = service.backend().docs.iter().map(|doc| doc.id).collect();
    let sanctions: Vec<&str> = service
        .backend()
        .docs
        .iter()
        .filter(|doc| {
            doc.facets
                .get("topic")
                .is_some_and(|t| t.contains(&"sanctions"))
        })
        .map(|doc| doc.id)
        .collect();
    assert!(sanctions.len() > 1 && sanctions.len() < all.len());
    for page in [1, 2, 3, 1000] {
        for (query, expected) in [("", all.clone()), ("topic:sanctions", sanctions.clone())] {
            let mut exported = Vec::new();
            let count = service
                .export_in_pages(query, page, &mut |article| {
                    exported.push(article.id.clone());
                    Ok(())
                })
                .unwrap();
            assert_eq!(exported, expected, "{query:?} {page} at a time");
            assert_eq!(count, expected.len() as u64);
        }
    }
}

#[test]
fn an_export_stops_when_its_writer_fails_or_its_query_is_wrong() {
    let service = service();
    let mut written = 0;
    let error = service
        .export_in_pages("", 2, &mut |_| {
            written += 1;
            match written {
                3 => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
                _ => Ok(()),
            }
        })
        .unwrap_err();
    assert!(matches!(error, ServiceError::Output(_)), "{error}");
    assert_eq!(written, 3);
    let error = service
        .export_in_pages("country:Atlantis", 2, &mut |_| Ok(()))
        .unwrap_err();
    assert!(error.is_usage(), "{error}");
    let mapping_with_a_query = ExportRequest {
        format: ExportFormat::EsMapping,
        query: "topic:sanctions".to_owned(),
        es_index: "geonews".to_owned(),
    };
    assert!(check_export(&mapping_with_a_query).unwrap_err().is_usage());
}
