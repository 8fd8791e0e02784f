//! Running resolved queries on the local index.

use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery,
    Query as TantivyQuery, RangeQuery, TermQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::{
    DateTime as TantivyDate, DocAddress, IndexReader, Order, Searcher, TantivyDocument, Term,
};

use super::counts::{
    DateSpan, FacetCounter, FacetTallies, PairCollector, TimelineCollector, ord_strings,
};
use super::layout::{ID_FIELD, INDEXED_AT_FIELD, Layout};
use super::mapper::DocMapper;
use super::snippet::Snippets;
use super::{IndexError, OpenIndex, size_on_disk, tantivy_error};
use crate::analytics::{Interval, PairCounts, TimelineCounts};
use crate::backend::{Overview, Page, PageRequest, SearchBackend, Tally};
use crate::query::ast::{DateRange, Query, TextMatch};
use crate::results::{
    EngineStats, Hit, Related, RelatedHit, Snippet, Sort, StoredArticle, shared_entities,
};
use crate::schema::{DictionaryName, Schema};

/// The length of a hit's snippet: bytes for a passage around the query's words (as tantivy
/// measures them), characters for the opening of an article without them.
pub(super) const SNIPPET_CHARS: usize = 220;
/// Bytes of a related article's snippet: tantivy's default, as related articles had it.
const RELATED_SNIPPET_BYTES: usize = 150;

/// What one shared entity adds to a related article's score, next to its words' BM25.
const SHARED_ENTITY_SCORE: f32 = 1.5;
/// Words of an article searched for its related articles.
const DISTINCTIVE_WORDS: usize = 30;

/// One page of matches, before the hits are read.
struct Matches {
    total: u64,
    top: Vec<(Option<f32>, DocAddress)>,
    tallies: FacetTallies,
}

/// One generation of the local index, opened for searching; the reader is reused across
/// queries. [`super::LocalIndex`] holds the live one.
pub(super) struct Generation {
    open: OpenIndex,
    reader: IndexReader,
    mapper: DocMapper,
}

impl Generation {
    /// The live generation of the index folder `path`: as of its last commit, or following
    /// the commits other processes make (`live`, for a server: each commit is searched within
    /// a second of it, without holding the writer's lock).
    pub(super) fn open(
        path: &Path,
        schema: &Arc<Schema>,
        live: bool,
    ) -> Result<Generation, IndexError> {
        let open = OpenIndex::open(path, schema)?;
        let policy = if live {
            tantivy::ReloadPolicy::OnCommitWithDelay
        } else {
            tantivy::ReloadPolicy::Manual
        };
        let reader = open.reader_with(policy)?;
        Ok(Generation::with_reader(open, reader, schema))
    }

    /// The generation's folder and its tantivy index, to check what failed.
    pub(super) fn files(&self) -> (&Path, &tantivy::Index) {
        (&self.open.path, &self.open.index)
    }

    fn with_reader(open: OpenIndex, reader: IndexReader, schema: &Arc<Schema>) -> Generation {
        let mapper = DocMapper::new(Arc::clone(&open.layout), Arc::clone(schema));
        Generation {
            open,
            reader,
            mapper,
        }
    }

    fn layout(&self) -> &Layout {
        &self.open.layout
    }

    /// Snippets of the body for the words of `query`, at most `max_bytes` long.
    fn snippets(
        &self,
        searcher: &Searcher,
        query: &dyn TantivyQuery,
        max_bytes: usize,
    ) -> Result<Snippets, IndexError> {
        let body = self.layout().body;
        let analyzer = self
            .open
            .index
            .tokenizer_for_field(body)
            .map_err(|source| self.error(source))?;
        Snippets::new(searcher, query, body, analyzer, max_bytes)
            .map_err(|source| self.error(source))
    }

    /// A failed read: damage when the error says the data is not what was written.
    fn error(&self, source: tantivy::TantivyError) -> IndexError {
        use tantivy::TantivyError::{DataCorruption, IoError, OpenReadError};
        if matches!(source, DataCorruption(_) | IoError(_) | OpenReadError(_)) {
            return super::integrity::damage_after_failure(
                &self.open.path,
                &self.open.index,
                &source.to_string(),
            );
        }
        tantivy_error(&self.open.path, source)
    }

    /// The fast column holding the values of countable field `name`.
    fn column(&self, name: &str) -> Result<String, IndexError> {
        self.layout()
            .count_column(name)
            .map(str::to_owned)
            .ok_or_else(|| IndexError::NotCountable(name.to_owned()))
    }

    /// A collector counting `fields`, each of which must be countable in this index.
    fn counter(&self, fields: &[String]) -> Result<FacetCounter, IndexError> {
        let columns = fields
            .iter()
            .map(|name| self.column(name))
            .collect::<Result<_, _>>()?;
        Ok(FacetCounter::new(columns))
    }

    fn translator(&self) -> Translator<'_> {
        Translator {
            layout: self.layout(),
            open: &self.open,
        }
    }

    fn translate(&self, query: &Query) -> Result<Box<dyn TantivyQuery>, IndexError> {
        self.translator().translate(query)
    }

    fn search_with<C>(
        &self,
        searcher: &Searcher,
        query: &dyn TantivyQuery,
        top: C,
        counter: FacetCounter,
    ) -> Result<(usize, FacetTallies, C::Fruit), IndexError>
    where
        C: Collector,
    {
        searcher
            .search(query, &(Count, counter, top))
            .map_err(|source| self.error(source))
    }

    /// The hits of the requested page (score when ranked by relevance), the total and the
    /// tallies, all from one pass over the matches.
    fn matches(
        &self,
        searcher: &Searcher,
        query: &dyn TantivyQuery,
        request: &PageRequest,
    ) -> Result<Matches, IndexError> {
        let counter = self.counter(request.tally)?;
        let order = match request.sort {
            Sort::Relevance if self.translator().ranks(request.query)? => None,
            Sort::Relevance | Sort::NewestFirst => Some(Order::Desc),
            Sort::OldestFirst => Some(Order::Asc),
        };
        // Never ask for more hits than the index holds: the collector allocates for them.
        let available = searcher.num_docs() as usize;
        let offset = request.offset.min(available);
        let limit = request.limit.min(available - offset);
        let window = TopDocs::with_limit(limit.max(1)).and_offset(offset);
        let (total, tallies, mut top): (usize, FacetTallies, Vec<(Option<f32>, DocAddress)>) =
            match order {
                Some(order) => {
                    let timestamp = &self.layout().timestamp_name;
                    let top = window.order_by_fast_field::<TantivyDate>(timestamp, order);
                    let (total, tallies, top) = self.search_with(searcher, query, top, counter)?;
                    let top = top.into_iter().map(|(_, address)| (None, address));
                    (total, tallies, top.collect())
                }
                None => {
                    let top = window.order_by_score();
                    let (total, tallies, top) = self.search_with(searcher, query, top, counter)?;
                    let top = top
                        .into_iter()
                        .map(|(score, address)| (Some(score), address));
                    (total, tallies, top.collect())
                }
            };
        top.truncate(limit);
        Ok(Matches {
            total: total as u64,
            top,
            tallies,
        })
    }

    /// The ids of `addresses`, in order, from the id column rather than stored documents.
    fn ids_of(
        &self,
        searcher: &Searcher,
        addresses: &[DocAddress],
    ) -> Result<Vec<String>, IndexError> {
        let mut by_segment: HashMap<u32, Vec<u32>> = HashMap::new();
        for address in addresses {
            by_segment
                .entry(address.segment_ord)
                .or_default()
                .push(address.doc_id);
        }
        let mut ids: HashMap<DocAddress, String> = HashMap::with_capacity(addresses.len());
        for (segment_ord, docs) in by_segment {
            let column = searcher
                .segment_reader(segment_ord)
                .fast_fields()
                .str(ID_FIELD)
                .map_err(|source| self.error(source))?
                .ok_or_else(|| IndexError::Corrupt("the id column is missing".to_owned()))?;
            let no_id = |doc| IndexError::Corrupt(format!("article {doc} has no id"));
            let ords: Vec<(u32, u64)> = docs
                .iter()
                .map(|&doc| {
                    let ord = column.term_ords(doc).next().ok_or_else(|| no_id(doc))?;
                    Ok((doc, ord))
                })
                .collect::<Result<_, IndexError>>()?;
            let values = ord_strings(&column, ords.iter().map(|(_, ord)| *ord));
            for (doc, ord) in ords {
                let id = values.get(&ord).cloned().ok_or_else(|| no_id(doc))?;
                ids.insert(DocAddress::new(segment_ord, doc), id);
            }
        }
        addresses
            .iter()
            .map(|address| {
                ids.remove(address)
                    .ok_or_else(|| IndexError::Corrupt(format!("article {address:?} has no id")))
            })
            .collect()
    }

    fn hit(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        score: Option<f32>,
        snippets: &mut Snippets,
    ) -> Result<Hit, IndexError> {
        let document: TantivyDocument =
            searcher.doc(address).map_err(|source| self.error(source))?;
        let stored = self.mapper.to_stored_article(&document)?;
        let snippet = snippets
            .snippet(&stored.body)
            .unwrap_or_else(|| lead_snippet(stored.summary.as_deref().unwrap_or(&stored.body)));
        Ok(Hit::from_stored(stored, score, snippet))
    }
}

impl Generation {
    fn address_of(&self, searcher: &Searcher, id: &str) -> Result<Option<DocAddress>, IndexError> {
        let query = TermQuery::new(
            Term::from_field_text(self.layout().id, id),
            IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .map_err(|source| self.error(source))?;
        Ok(top.first().map(|(_, address)| *address))
    }

    /// Other articles like `article`: its most distinctive words, plus a fixed score for each
    /// entity they share with it.
    fn like(&self, words: &[(Term, f32)], article: &StoredArticle) -> BooleanQuery {
        let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = words
            .iter()
            .map(|(term, weight)| {
                let (term, weight) = (term.clone(), *weight);
                let word = TermQuery::new(term, IndexRecordOption::WithFreqs);
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(word), weight)) as Box<dyn TantivyQuery>,
                )
            })
            .collect();
        for facet in &self.layout().facets {
            // Regions follow from countries, and `about` repeats some of them.
            if facet.dictionary == DictionaryName::Regions || facet.salient_only {
                continue;
            }
            for key in article.entities.keys(&facet.dictionary) {
                let term = TermQuery::new(
                    Term::from_field_text(facet.keys, key),
                    IndexRecordOption::Basic,
                );
                let shared = ConstScoreQuery::new(Box::new(term), SHARED_ENTITY_SCORE);
                clauses.push((Occur::Should, Box::new(shared)));
            }
        }
        let itself = TermQuery::new(
            Term::from_field_text(self.layout().id, &article.id),
            IndexRecordOption::Basic,
        );
        clauses.push((Occur::MustNot, Box::new(itself)));
        BooleanQuery::new(clauses)
    }

    /// The words of a document's searched fields that best tell it apart (more-like-this):
    /// ranked by frequency in it times rarity in the index, skipping words in one article only
    /// or in more than a fifth of them, each weighted relative to the best. Ties are broken by
    /// the word, so the same article always gives the same query.
    fn distinctive_words(
        &self,
        searcher: &Searcher,
        document: &TantivyDocument,
    ) -> Result<Vec<(Term, f32)>, IndexError> {
        let translator = self.translator();
        let mut frequencies: HashMap<Term, u32> = HashMap::new();
        for (field, _) in &self.layout().searched {
            for text in document.get_all(*field).filter_map(|value| value.as_str()) {
                for (_, term) in translator.analyse(*field, text)? {
                    if term.value().as_str().is_some_and(|word| word.len() >= 3) {
                        *frequencies.entry(term).or_default() += 1;
                    }
                }
            }
        }
        let articles = searcher.num_docs();
        let mut scored = Vec::with_capacity(frequencies.len());
        for (term, frequency) in frequencies {
            let in_articles = searcher
                .doc_freq(&term)
                .map_err(|source| self.error(source))?;
            let rarity = (articles as f32 / in_articles as f32).ln();
            if (2..=(articles / 5).max(2)).contains(&in_articles) && rarity > 0.0 {
                scored.push((term, frequency as f32 * rarity));
            }
        }
        scored.sort_by(|(a, a_score), (b, b_score)| {
            b_score.total_cmp(a_score).then_with(|| a.cmp(b))
        });
        scored.truncate(DISTINCTIVE_WORDS);
        let best = scored.first().map_or(1.0, |(_, score)| *score);
        Ok(scored
            .into_iter()
            .map(|(term, score)| (term, score / best))
            .collect())
    }
}

/// The opening of a text, for hits whose body has no highlighted words.
pub(super) fn lead_snippet(text: &str) -> Snippet {
    let text = text.trim();
    let cut = text
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(text.len(), |(index, _)| index);
    let cut = if cut < text.len() {
        text[..cut].rfind(' ').unwrap_or(cut)
    } else {
        cut
    };
    Snippet {
        text: text[..cut].to_owned(),
        highlights: Vec::new(),
    }
}

impl SearchBackend for Generation {
    type Error = IndexError;

    fn search(&self, request: &PageRequest) -> Result<Page<Hit>, IndexError> {
        let searcher = self.reader.searcher();
        let query = self.translate(request.query)?;
        let matches = self.matches(&searcher, &*query, request)?;
        let mut snippets = self.snippets(&searcher, &*query, SNIPPET_CHARS)?;
        let hits = matches
            .top
            .into_iter()
            .map(|(score, address)| self.hit(&searcher, address, score, &mut snippets))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            total: matches.total,
            hits,
            tallies: matches.tallies,
        })
    }

    fn search_ids(&self, request: &PageRequest) -> Result<Page<String>, IndexError> {
        let searcher = self.reader.searcher();
        let query = self.translate(request.query)?;
        let matches = self.matches(&searcher, &*query, request)?;
        let addresses: Vec<DocAddress> = matches.top.iter().map(|(_, address)| *address).collect();
        let hits = self.ids_of(&searcher, &addresses)?;
        Ok(Page {
            total: matches.total,
            hits,
            tallies: matches.tallies,
        })
    }

    fn count(&self, query: &Query, fields: &[String]) -> Result<(u64, Vec<Tally>), IndexError> {
        let searcher = self.reader.searcher();
        let query = self.translate(query)?;
        let counter = self.counter(fields)?;
        let (total, tallies) = searcher
            .search(&*query, &(Count, counter))
            .map_err(|source| self.error(source))?;
        Ok((total as u64, tallies))
    }

    fn article(&self, id: &str) -> Result<Option<StoredArticle>, IndexError> {
        let searcher = self.reader.searcher();
        let Some(address) = self.address_of(&searcher, id)? else {
            return Ok(None);
        };
        let document: TantivyDocument =
            searcher.doc(address).map_err(|source| self.error(source))?;
        self.mapper.to_stored_article(&document).map(Some)
    }

    fn timeline(
        &self,
        query: &Query,
        interval: Interval,
        split: Option<&str>,
    ) -> Result<TimelineCounts, IndexError> {
        let split_column = split.map(|field| self.column(field)).transpose()?;
        let collector =
            TimelineCollector::new(&self.layout().timestamp_name, interval, split_column);
        self.reader
            .searcher()
            .search(&*self.translate(query)?, &collector)
            .map_err(|source| self.error(source))
    }

    fn pair_counts(&self, query: &Query, fields: [&str; 2]) -> Result<PairCounts, IndexError> {
        let [first, second] = fields;
        let collector = PairCollector::new(self.column(first)?, self.column(second)?);
        self.reader
            .searcher()
            .search(&*self.translate(query)?, &collector)
            .map_err(|source| self.error(source))
    }

    fn related(&self, id: &str, limit: usize) -> Result<Option<Related>, IndexError> {
        let searcher = self.reader.searcher();
        let Some(address) = self.address_of(&searcher, id)? else {
            return Ok(None);
        };
        let document: TantivyDocument =
            searcher.doc(address).map_err(|source| self.error(source))?;
        let article = self.mapper.to_stored_article(&document)?;
        let words = self.distinctive_words(&searcher, &document)?;
        let query = self.like(&words, &article);
        let limit = limit.min(searcher.num_docs() as usize);
        let top = searcher
            .search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(|source| self.error(source))?;
        let mut snippets = self.snippets(&searcher, &query, RELATED_SNIPPET_BYTES)?;
        let facet_fields = self
            .layout()
            .facets
            .iter()
            .filter(|facet| !facet.salient_only)
            .map(|facet| (facet.name.as_str(), facet.dictionary.clone()));
        let hits = top
            .into_iter()
            .take(limit)
            .map(|(score, address)| {
                let hit = self.hit(&searcher, address, Some(score), &mut snippets)?;
                let shared =
                    shared_entities(facet_fields.clone(), &article.entities, &hit.entities);
                Ok(RelatedHit { hit, shared })
            })
            .collect::<Result<Vec<_>, IndexError>>()?;
        Ok(Some(Related {
            id: article.id,
            title: article.title,
            words: words
                .iter()
                .filter_map(|(term, _)| term.value().as_str().map(str::to_owned))
                .collect(),
            hits,
        }))
    }

    fn overview(&self, fields: &[String]) -> Result<(Overview, Vec<Tally>), IndexError> {
        let searcher = self.reader.searcher();
        let counter = self.counter(fields)?;
        let span = DateSpan::new(&self.layout().timestamp_name);
        let (tallies, span) = searcher
            .search(&AllQuery, &(counter, span))
            .map_err(|source| self.error(source))?;
        let to_date =
            |seconds: Option<i64>| seconds.and_then(|s| DateTime::<Utc>::from_timestamp(s, 0));
        let overview = Overview {
            articles: searcher.num_docs(),
            earliest: to_date(span.earliest),
            latest: to_date(span.latest),
            undated: span.undated,
            engine: Some(EngineStats {
                size_bytes: size_on_disk(&self.open.path),
                segments: searcher.segment_readers().len(),
            }),
        };
        Ok((overview, tallies))
    }

    fn indexed_through(&self) -> Result<u64, IndexError> {
        let searcher = self.reader.searcher();
        let mut latest = 0;
        for segment in searcher.segment_readers() {
            let column = segment
                .fast_fields()
                .u64(INDEXED_AT_FIELD)
                .map_err(|source| self.error(source))?;
            if segment.num_docs() > 0 {
                latest = latest.max(column.max_value());
            }
        }
        Ok(latest)
    }

    fn location(&self) -> String {
        self.open.folder.display().to_string()
    }

    fn warnings(&self) -> Vec<String> {
        if self.open.dictionaries_current {
            return Vec::new();
        }
        vec![
            "the dictionaries changed since this index was built; its facets may be stale \
             (re-run `geonews index` on the same paths to refresh them)"
                .to_owned(),
        ]
    }
}

/// Resolved queries to tantivy queries. Filters score nothing; free text scores by BM25.
struct Translator<'a> {
    layout: &'a Layout,
    open: &'a OpenIndex,
}

impl Translator<'_> {
    /// The whole query; parts with nothing to look for leave every article in.
    fn translate(&self, query: &Query) -> Result<Box<dyn TantivyQuery>, IndexError> {
        Ok(self.part(query)?.unwrap_or_else(match_all))
    }

    /// One part of the query, or `None` when it constrains nothing (a word that analyses to no
    /// terms, such as punctuation): such a part is dropped, negated or not.
    fn part(&self, query: &Query) -> Result<Option<Box<dyn TantivyQuery>>, IndexError> {
        Ok(match query {
            Query::All => Some(match_all()),
            Query::Text {
                text,
                matching,
                field,
            } => self.text(text, *matching, field.as_deref())?,
            Query::Facet { field, path, .. } => {
                let facet = self
                    .layout
                    .facet(field)
                    .expect("resolved facet fields exist in the layout");
                Some(filter(Box::new(TermQuery::new(
                    Term::from_facet(facet.facet, &Facet::from_path(path)),
                    IndexRecordOption::Basic,
                ))))
            }
            Query::Keyword { field, value } => {
                let field = self
                    .layout
                    .schema
                    .get_field(field)
                    .expect("resolved keyword fields exist in the layout");
                Some(filter(Box::new(TermQuery::new(
                    Term::from_field_text(field, value),
                    IndexRecordOption::Basic,
                ))))
            }
            Query::Published(range) => Some(filter(Box::new(self.date_range(range)))),
            Query::IndexedWithin { after, through } => {
                let stamp = |value| Term::from_field_u64(self.layout.indexed_at, value);
                Some(filter(Box::new(RangeQuery::new(
                    Bound::Excluded(stamp(*after)),
                    Bound::Included(stamp(*through)),
                ))))
            }
            Query::Not { query } => self.part(query)?.map(|excluded| {
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, match_all()),
                    (Occur::MustNot, excluded),
                ])) as Box<dyn TantivyQuery>
            }),
            Query::And { queries } => {
                let mut clauses = Vec::with_capacity(queries.len());
                for query in queries {
                    let (occur, query) = match query {
                        Query::Not { query } => (Occur::MustNot, query.as_ref()),
                        other => (Occur::Must, other),
                    };
                    clauses.extend(self.part(query)?.map(|query| (occur, query)));
                }
                if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
                    if clauses.is_empty() {
                        return Ok(None);
                    }
                    clauses.push((Occur::Must, match_all()));
                }
                Some(Box::new(BooleanQuery::new(clauses)))
            }
            Query::Or { queries } => {
                let mut clauses = Vec::with_capacity(queries.len());
                for query in queries {
                    clauses.extend(self.part(query)?.map(|query| (Occur::Should, query)));
                }
                (!clauses.is_empty())
                    .then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn TantivyQuery>)
            }
        })
    }

    /// Free text over each searched field (or one field), each with its boost.
    fn text(
        &self,
        text: &str,
        matching: TextMatch,
        field: Option<&str>,
    ) -> Result<Option<Box<dyn TantivyQuery>>, IndexError> {
        let fields: Vec<(Field, f32)> = match field {
            Some(name) => vec![(self.text_field(name), 1.0)],
            None => self.layout.searched.clone(),
        };
        let mut per_field: Vec<(Occur, Box<dyn TantivyQuery>)> = Vec::new();
        for (field, boost) in fields {
            let terms = self.analyse(field, text)?;
            if let Some(query) = text_in_field(terms, matching) {
                per_field.push((Occur::Should, Box::new(BoostQuery::new(query, boost))));
            }
        }
        Ok((!per_field.is_empty())
            .then(|| Box::new(BooleanQuery::new(per_field)) as Box<dyn TantivyQuery>))
    }

    /// Whether the query ranks by relevance: some free text outside a negation analyses to
    /// words (`,` or `"..."` alone do not).
    fn ranks(&self, query: &Query) -> Result<bool, IndexError> {
        Ok(match query {
            Query::Text { text, field, .. } => {
                let fields = match field {
                    Some(name) => vec![self.text_field(name)],
                    None => self
                        .layout
                        .searched
                        .iter()
                        .map(|(field, _)| *field)
                        .collect(),
                };
                let mut any = false;
                for field in fields {
                    any |= !self.analyse(field, text)?.is_empty();
                }
                any
            }
            Query::And { queries } | Query::Or { queries } => {
                let mut any = false;
                for query in queries {
                    any |= self.ranks(query)?;
                }
                any
            }
            Query::Not { .. }
            | Query::All
            | Query::Facet { .. }
            | Query::Keyword { .. }
            | Query::Published(_)
            | Query::IndexedWithin { .. } => false,
        })
    }

    fn text_field(&self, name: &str) -> Field {
        self.layout
            .schema
            .get_field(name)
            .expect("resolved text fields exist")
    }

    fn analyse(&self, field: Field, text: &str) -> Result<Vec<(usize, Term)>, IndexError> {
        let mut analyzer = self
            .open
            .index
            .tokenizer_for_field(field)
            .map_err(|source| tantivy_error(&self.open.path, source))?;
        let mut stream = analyzer.token_stream(text);
        let mut terms = Vec::new();
        while stream.advance() {
            let token = stream.token();
            terms.push((token.position, Term::from_field_text(field, &token.text)));
        }
        Ok(terms)
    }

    fn date_range(&self, range: &DateRange) -> RangeQuery {
        let bound = |date: Option<DateTime<Utc>>, inclusive: bool| match date {
            None => Bound::Unbounded,
            Some(date) => {
                let term = Term::from_field_date_for_search(
                    self.layout.timestamp,
                    TantivyDate::from_timestamp_secs(date.timestamp()),
                );
                if inclusive {
                    Bound::Included(term)
                } else {
                    Bound::Excluded(term)
                }
            }
        };
        RangeQuery::new(bound(range.start, true), bound(range.end, false))
    }
}

/// The analysed words of a text, matched in one field. Several words (a quoted phrase, or a word
/// like `Jong-un`) are a phrase; fuzzy and prefix matching apply to each word.
fn text_in_field(terms: Vec<(usize, Term)>, matching: TextMatch) -> Option<Box<dyn TantivyQuery>> {
    let each_word = |word: &dyn Fn(Term) -> FuzzyTermQuery| -> Box<dyn TantivyQuery> {
        let mut words: Vec<(Occur, Box<dyn TantivyQuery>)> = terms
            .iter()
            .map(|(_, term)| {
                (
                    Occur::Must,
                    Box::new(word(term.clone())) as Box<dyn TantivyQuery>,
                )
            })
            .collect();
        match words.len() {
            1 => words.pop().expect("one word").1,
            _ => Box::new(BooleanQuery::new(words)),
        }
    };
    Some(match (matching, terms.len()) {
        (_, 0) => return None,
        (TextMatch::Fuzzy { distance }, _) => {
            each_word(&|term| FuzzyTermQuery::new(term, distance, true))
        }
        (TextMatch::Prefix, _) => each_word(&|term| FuzzyTermQuery::new_prefix(term, 0, true)),
        (TextMatch::Words | TextMatch::Phrase { .. }, 1) => Box::new(TermQuery::new(
            terms.into_iter().next().expect("one term").1,
            IndexRecordOption::WithFreqs,
        )),
        (TextMatch::Words, _) => Box::new(PhraseQuery::new_with_offset(terms)),
        (TextMatch::Phrase { slop }, _) => {
            let mut phrase = PhraseQuery::new_with_offset(terms);
            phrase.set_slop(slop);
            Box::new(phrase)
        }
    })
}

fn match_all() -> Box<dyn TantivyQuery> {
    Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0))
}

fn filter(query: Box<dyn TantivyQuery>) -> Box<dyn TantivyQuery> {
    Box::new(ConstScoreQuery::new(query, 0.0))
}
