//! Collectors over fast fields: facet value counts, the span of publication dates, articles
//! per time bucket and pairs of values.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::analytics::{Interval, PairCounts, TimelineCounts};

/// Counts the values of raw-string fast fields over the matching documents.
pub struct FacetCounter {
    fields: Vec<String>,
}

impl FacetCounter {
    pub fn new(fields: Vec<String>) -> FacetCounter {
        FacetCounter { fields }
    }
}

/// Per field (in the order asked), value → count.
pub type FacetTallies = Vec<HashMap<String, u64>>;

/// Per field, the values one segment counted, with their counts.
pub type SegmentTallies = Vec<Vec<(String, u64)>>;

pub struct FacetSegmentCounter {
    columns: Vec<Option<StrColumn>>,
    counts: Vec<Vec<u64>>,
}

impl Collector for FacetCounter {
    type Fruit = FacetTallies;
    type Child = FacetSegmentCounter;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegmentCounter> {
        let columns: Vec<Option<StrColumn>> = self
            .fields
            .iter()
            .map(|field| reader.fast_fields().str(field))
            .collect::<tantivy::Result<_>>()?;
        let counts = columns
            .iter()
            .map(|column| vec![0; column.as_ref().map_or(0, |column| column.num_terms())])
            .collect();
        Ok(FacetSegmentCounter { columns, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<SegmentTallies>) -> tantivy::Result<FacetTallies> {
        let mut merged: FacetTallies = vec![HashMap::new(); self.fields.len()];
        for segment in segments {
            for (total, counts) in merged.iter_mut().zip(segment) {
                for (value, count) in counts {
                    *total.entry(value).or_default() += count;
                }
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for FacetSegmentCounter {
    type Fruit = SegmentTallies;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (column, counts) in self.columns.iter().zip(&mut self.counts) {
            if let Some(column) = column {
                for ord in column.term_ords(doc) {
                    counts[ord as usize] += 1;
                }
            }
        }
    }

    fn harvest(self) -> SegmentTallies {
        self.columns
            .iter()
            .zip(self.counts)
            .map(|(column, counts)| match column {
                Some(column) => counted_with_values(column, &counts),
                None => Vec::new(),
            })
            .collect()
    }
}

/// Earliest and latest publication time (Unix seconds) and the number of undated documents.
pub struct DateSpan {
    field: String,
}

impl DateSpan {
    pub fn new(field: &str) -> DateSpan {
        DateSpan {
            field: field.to_owned(),
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Span {
    pub earliest: Option<i64>,
    pub latest: Option<i64>,
    pub undated: u64,
}

impl Span {
    fn merge(self, other: Span) -> Span {
        Span {
            earliest: min_option(self.earliest, other.earliest),
            latest: self.latest.max(other.latest),
            undated: self.undated + other.undated,
        }
    }
}

fn min_option(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

pub struct DateSpanSegment {
    column: Column<tantivy::DateTime>,
    span: Span,
}

impl Collector for DateSpan {
    type Fruit = Span;
    type Child = DateSpanSegment;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<DateSpanSegment> {
        Ok(DateSpanSegment {
            column: reader.fast_fields().date(&self.field)?,
            span: Span::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, spans: Vec<Span>) -> tantivy::Result<Span> {
        Ok(spans.into_iter().fold(Span::default(), Span::merge))
    }
}

impl SegmentCollector for DateSpanSegment {
    type Fruit = Span;

    fn collect(&mut self, doc: DocId, _score: Score) {
        match self.column.first(doc) {
            Some(date) => {
                let seconds = date.into_timestamp_secs();
                let one = Span {
                    earliest: Some(seconds),
                    latest: Some(seconds),
                    undated: 0,
                };
                self.span = self.span.merge(one);
            }
            None => self.span.undated += 1,
        }
    }

    fn harvest(self) -> Span {
        self.span
    }
}

/// The distinct term ordinals of `doc` in `column`, sorted, into `ords`.
fn load_ords(column: Option<&StrColumn>, doc: DocId, ords: &mut Vec<u64>) {
    ords.clear();
    if let Some(column) = column {
        ords.extend(column.term_ords(doc));
        ords.sort_unstable();
        ords.dedup();
    }
}

/// The values counted at least once in `counts` (indexed by ordinal), with their counts.
fn counted_with_values(column: &StrColumn, counts: &[u64]) -> Vec<(String, u64)> {
    let ords = counted_ords(counts);
    let values = sorted_ord_strings(column, &ords);
    values
        .into_iter()
        .zip(ords)
        .map(|(value, ord)| (value, counts[ord as usize]))
        .collect()
}

/// The values of the term ordinals counted at least once in `counts` (indexed by ordinal).
fn counted_values(column: &StrColumn, counts: &[u64]) -> HashMap<u64, String> {
    let ords = counted_ords(counts);
    let values = sorted_ord_strings(column, &ords);
    ords.into_iter().zip(values).collect()
}

fn counted_ords(counts: &[u64]) -> Vec<u64> {
    (0..counts.len() as u64)
        .filter(|&ord| counts[ord as usize] > 0)
        .collect()
}

/// The values of term ordinals `ords` in `column`, for turning a segment's counts into values.
pub fn ord_strings(
    column: &StrColumn,
    ords: impl IntoIterator<Item = u64>,
) -> HashMap<u64, String> {
    let mut ords: Vec<u64> = ords.into_iter().collect();
    ords.sort_unstable();
    ords.dedup();
    let values = sorted_ord_strings(column, &ords);
    ords.into_iter().zip(values).collect()
}

/// The values of sorted, distinct term ordinals, in their order: one pass over the dictionary,
/// reading each of its blocks once. A lookup that stops early leaves the first ones paired
/// right; an unreadable dictionary names nothing, as `ord_to_str` would.
fn sorted_ord_strings(column: &StrColumn, ords: &[u64]) -> Vec<String> {
    let mut values = Vec::with_capacity(ords.len());
    let _ = column.dictionary().sorted_ords_to_term_cb(ords, |term| {
        values.push(String::from_utf8_lossy(term).into_owned());
    });
    values
}

fn add_counts<K: Hash + Eq>(total: &mut HashMap<K, u64>, counts: HashMap<K, u64>) {
    for (key, count) in counts {
        *total.entry(key).or_default() += count;
    }
}

/// Counts matching documents per time bucket of a date fast field, optionally split by the
/// values of a raw-string fast column.
pub struct TimelineCollector {
    date_field: String,
    interval: Interval,
    split_column: Option<String>,
}

impl TimelineCollector {
    pub fn new(
        date_field: &str,
        interval: Interval,
        split_column: Option<String>,
    ) -> TimelineCollector {
        TimelineCollector {
            date_field: date_field.to_owned(),
            interval,
            split_column,
        }
    }
}

pub struct TimelineSegment {
    dates: Option<Column<tantivy::DateTime>>,
    split: Option<StrColumn>,
    interval: Interval,
    total: u64,
    undated: u64,
    buckets: BTreeMap<i64, u64>,
    /// (Bucket, term ordinal of the split value) → documents.
    split_counts: HashMap<(i64, u64), u64>,
    ords: Vec<u64>,
}

impl Collector for TimelineCollector {
    type Fruit = TimelineCounts;
    type Child = TimelineSegment;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<TimelineSegment> {
        let split = match &self.split_column {
            Some(column) => reader.fast_fields().str(column)?,
            None => None,
        };
        Ok(TimelineSegment {
            dates: reader.fast_fields().column_opt(&self.date_field)?,
            split,
            interval: self.interval,
            total: 0,
            undated: 0,
            buckets: BTreeMap::new(),
            split_counts: HashMap::new(),
            ords: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<TimelineCounts>) -> tantivy::Result<TimelineCounts> {
        let mut merged = TimelineCounts::default();
        for segment in segments {
            merged.total += segment.total;
            merged.undated += segment.undated;
            for (bucket, count) in segment.buckets {
                *merged.buckets.entry(bucket).or_default() += count;
            }
            add_counts(&mut merged.split, segment.split);
        }
        Ok(merged)
    }
}

impl SegmentCollector for TimelineSegment {
    type Fruit = TimelineCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.total += 1;
        let Some(date) = self.dates.as_ref().and_then(|dates| dates.first(doc)) else {
            self.undated += 1;
            return;
        };
        let bucket = self.interval.bucket(date.into_timestamp_secs());
        *self.buckets.entry(bucket).or_default() += 1;
        load_ords(self.split.as_ref(), doc, &mut self.ords);
        for &ord in &self.ords {
            *self.split_counts.entry((bucket, ord)).or_default() += 1;
        }
    }

    fn harvest(self) -> TimelineCounts {
        let values = match &self.split {
            Some(column) => ord_strings(column, self.split_counts.keys().map(|&(_, ord)| ord)),
            None => HashMap::new(),
        };
        let split = self
            .split_counts
            .into_iter()
            .filter_map(|((bucket, ord), count)| Some(((bucket, values.get(&ord)?.clone()), count)))
            .collect();
        TimelineCounts {
            total: self.total,
            undated: self.undated,
            buckets: self.buckets,
            split,
        }
    }
}

/// Counts value pairs of two raw-string fast columns (possibly the same) over matching
/// documents.
pub struct PairCollector {
    first_column: String,
    second_column: String,
}

impl PairCollector {
    pub fn new(first_column: String, second_column: String) -> PairCollector {
        PairCollector {
            first_column,
            second_column,
        }
    }
}

/// State per column in arrays of two: the first column's, then the second's.
pub struct PairSegment {
    columns: [Option<StrColumn>; 2],
    one_column: bool,
    total: u64,
    /// Documents per term ordinal.
    counts: [Vec<u64>; 2],
    /// (First ordinal, second ordinal) → documents; for one column, the smaller ordinal first.
    pairs: HashMap<(u64, u64), u64>,
    ords: [Vec<u64>; 2],
}

impl Collector for PairCollector {
    type Fruit = PairCounts;
    type Child = PairSegment;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<PairSegment> {
        let columns = [
            reader.fast_fields().str(&self.first_column)?,
            reader.fast_fields().str(&self.second_column)?,
        ];
        let counts = columns
            .each_ref()
            .map(|column| vec![0; column.as_ref().map_or(0, |column| column.num_terms())]);
        Ok(PairSegment {
            columns,
            one_column: self.first_column == self.second_column,
            total: 0,
            counts,
            pairs: HashMap::new(),
            ords: [Vec::new(), Vec::new()],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<PairCounts>) -> tantivy::Result<PairCounts> {
        let mut merged = PairCounts::default();
        for segment in segments {
            merged.total += segment.total;
            add_counts(&mut merged.first, segment.first);
            add_counts(&mut merged.second, segment.second);
            add_counts(&mut merged.pairs, segment.pairs);
        }
        Ok(merged)
    }
}

impl SegmentCollector for PairSegment {
    type Fruit = PairCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.total += 1;
        for ((column, ords), counts) in self
            .columns
            .iter()
            .zip(&mut self.ords)
            .zip(&mut self.counts)
        {
            load_ords(column.as_ref(), doc, ords);
            for &ord in ords.iter() {
                counts[ord as usize] += 1;
            }
        }
        let [first, second] = &self.ords;
        for &a in first {
            // One column gives the same list twice: a < b keeps each pair of distinct values once.
            for &b in second.iter().filter(|&&b| !self.one_column || a < b) {
                *self.pairs.entry((a, b)).or_default() += 1;
            }
        }
    }

    fn harvest(self) -> PairCounts {
        let values = |side: usize| -> HashMap<u64, String> {
            self.columns[side]
                .as_ref()
                .map(|column| counted_values(column, &self.counts[side]))
                .unwrap_or_default()
        };
        let values = [values(0), values(1)];
        let tally = |side: usize| -> HashMap<String, u64> {
            values[side]
                .iter()
                .map(|(&ord, value)| (value.clone(), self.counts[side][ord as usize]))
                .collect()
        };
        PairCounts {
            total: self.total,
            first: tally(0),
            second: tally(1),
            pairs: self
                .pairs
                .iter()
                .filter_map(|((a, b), &count)| {
                    Some((
                        (values[0].get(a)?.clone(), values[1].get(b)?.clone()),
                        count,
                    ))
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy::indexer::NoMergePolicy;
    use tantivy::query::{AllQuery, TermQuery};
    use tantivy::schema::{
        DateOptions, Field, IndexRecordOption, Schema, TantivyDocument, TextFieldIndexing,
        TextOptions,
    };
    use tantivy::{DateTime, Index, IndexWriter, Searcher, Term};

    use super::*;

    struct Fields {
        published: Field,
        country: Field,
        topic: Field,
    }

    /// 2017-01-01 and 2017-02-01, as days since 1970-01-01.
    const JANUARY: i64 = 17_167;
    const FEBRUARY: i64 = 17_198;
    const NOON: i64 = 12 * 3600;

    fn document(
        fields: &Fields,
        day: Option<i64>,
        countries: &[&str],
        topics: &[&str],
    ) -> TantivyDocument {
        let mut document = TantivyDocument::new();
        if let Some(day) = day {
            document.add_date(
                fields.published,
                DateTime::from_timestamp_secs(day * 86_400 + NOON),
            );
        }
        for country in countries {
            document.add_text(fields.country, country);
        }
        for topic in topics {
            document.add_text(fields.topic, topic);
        }
        document
    }

    /// Six articles in three segments: two undated, one without country or topic.
    fn searcher() -> (Searcher, Fields) {
        let mut builder = Schema::builder();
        let raw = TextOptions::default()
            .set_indexing_options(TextFieldIndexing::default().set_tokenizer("raw"))
            .set_fast("raw");
        let fields = Fields {
            published: builder
                .add_date_field("published", DateOptions::default().set_indexed().set_fast()),
            country: builder.add_text_field("country", raw.clone()),
            topic: builder.add_text_field("topic", raw),
        };
        let index = Index::create_in_ram(builder.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(NoMergePolicy));
        let segments: [Vec<TantivyDocument>; 3] = [
            vec![
                document(
                    &fields,
                    Some(JANUARY),
                    &["Russia", "China", "Mali"],
                    &["sanctions"],
                ),
                document(
                    &fields,
                    Some(JANUARY + 3),
                    &["Russia", "China"],
                    &["sanctions", "trade"],
                ),
                document(&fields, None, &["Russia"], &["trade"]),
            ],
            vec![
                document(&fields, Some(FEBRUARY), &["China", "Russia"], &["trade"]),
                document(&fields, Some(FEBRUARY + 1), &[], &[]),
            ],
            vec![document(&fields, None, &["Mali"], &[])],
        ];
        for documents in segments {
            for document in documents {
                writer.add_document(document).unwrap();
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 3);
        (searcher, fields)
    }

    fn values(pairs: &[(&str, u64)]) -> HashMap<String, u64> {
        pairs
            .iter()
            .map(|&(value, count)| (value.to_owned(), count))
            .collect()
    }

    fn pairs(pairs: &[((&str, &str), u64)]) -> HashMap<(String, String), u64> {
        pairs
            .iter()
            .map(|&((a, b), count)| ((a.to_owned(), b.to_owned()), count))
            .collect()
    }

    #[test]
    fn timeline_counts_buckets_and_undated_articles() {
        let (searcher, _) = searcher();
        let collector = TimelineCollector::new("published", Interval::Month, None);
        let counts = searcher.search(&AllQuery, &collector).unwrap();
        assert_eq!(counts.total, 6);
        assert_eq!(counts.undated, 2);
        assert_eq!(
            counts.buckets,
            BTreeMap::from([(JANUARY, 2), (FEBRUARY, 2)])
        );
        assert!(counts.split.is_empty());
        assert_eq!(
            counts.buckets.values().sum::<u64>() + counts.undated,
            counts.total
        );
    }

    #[test]
    fn timeline_splits_dated_articles_by_value() {
        let (searcher, _) = searcher();
        let collector =
            TimelineCollector::new("published", Interval::Month, Some("country".into()));
        let counts = searcher.search(&AllQuery, &collector).unwrap();
        let expected: HashMap<(i64, String), u64> = [
            ((JANUARY, "Russia"), 2),
            ((JANUARY, "China"), 2),
            ((JANUARY, "Mali"), 1),
            ((FEBRUARY, "Russia"), 1),
            ((FEBRUARY, "China"), 1),
        ]
        .map(|((bucket, value), count)| ((bucket, value.to_owned()), count))
        .into();
        assert_eq!(counts.split, expected);
    }

    #[test]
    fn timeline_counts_only_matching_articles() {
        let (searcher, fields) = searcher();
        let query = TermQuery::new(
            Term::from_field_text(fields.topic, "trade"),
            IndexRecordOption::Basic,
        );
        let collector = TimelineCollector::new("published", Interval::Year, None);
        let counts = searcher.search(&query, &collector).unwrap();
        assert_eq!((counts.total, counts.undated), (3, 1));
        assert_eq!(counts.buckets, BTreeMap::from([(JANUARY, 2)]));
    }

    #[test]
    fn pairs_of_one_column_are_unordered_and_distinct() {
        let (searcher, _) = searcher();
        let collector = PairCollector::new("country".into(), "country".into());
        let counts = searcher.search(&AllQuery, &collector).unwrap();
        assert_eq!(counts.total, 6);
        assert_eq!(
            counts.first,
            values(&[("Russia", 4), ("China", 3), ("Mali", 2)])
        );
        assert_eq!(counts.second, counts.first);
        assert_eq!(
            counts.pairs,
            pairs(&[
                (("China", "Russia"), 3),
                (("China", "Mali"), 1),
                (("Mali", "Russia"), 1)
            ])
        );
    }

    #[test]
    fn pairs_of_two_columns() {
        let (searcher, _) = searcher();
        let collector = PairCollector::new("country".into(), "topic".into());
        let counts = searcher.search(&AllQuery, &collector).unwrap();
        assert_eq!(counts.total, 6);
        assert_eq!(counts.second, values(&[("sanctions", 2), ("trade", 3)]));
        assert_eq!(
            counts.pairs,
            pairs(&[
                (("Russia", "sanctions"), 2),
                (("China", "sanctions"), 2),
                (("Mali", "sanctions"), 1),
                (("Russia", "trade"), 3),
                (("China", "trade"), 2),
            ])
        );
    }

    #[test]
    fn missing_columns_contribute_nothing() {
        let (searcher, _) = searcher();
        let timeline = TimelineCollector::new("published", Interval::Day, Some("person".into()));
        let pair = PairCollector::new("country".into(), "person".into());
        let (timeline, pairs) = searcher.search(&AllQuery, &(timeline, pair)).unwrap();
        assert_eq!((timeline.total, timeline.undated), (6, 2));
        assert_eq!(timeline.buckets.len(), 4);
        assert!(timeline.split.is_empty());
        assert_eq!(pairs.total, 6);
        assert_eq!(pairs.first.len(), 3);
        assert!(pairs.second.is_empty() && pairs.pairs.is_empty());
    }
}
