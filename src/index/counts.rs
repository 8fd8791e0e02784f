//! Collectors over fast fields: facet value counts and the span of publication dates.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

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

    fn merge_fruits(&self, segments: Vec<FacetTallies>) -> tantivy::Result<FacetTallies> {
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
    type Fruit = FacetTallies;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (column, counts) in self.columns.iter().zip(&mut self.counts) {
            if let Some(column) = column {
                for ord in column.term_ords(doc) {
                    counts[ord as usize] += 1;
                }
            }
        }
    }

    fn harvest(self) -> FacetTallies {
        self.columns
            .iter()
            .zip(self.counts)
            .map(|(column, counts)| {
                let mut values = HashMap::new();
                let Some(column) = column else { return values };
                for (ord, count) in counts.into_iter().enumerate() {
                    let mut value = String::new();
                    if count > 0 && column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                        values.insert(value, count);
                    }
                }
                values
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
