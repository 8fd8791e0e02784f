//! Snippets: the passage of a hit's body where the query's words are densest, with those words
//! marked. The algorithm is tantivy's (`tantivy::snippet`), kept to the byte so that every
//! snippet is the same; what it costs on long news bodies is not: tantivy lowercases every
//! token into a new string, where the English analyzer's tokens are already lowercase (and the
//! analyzer's memo shares its words across clones: BENCHMARKS.md, HTTP).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use tantivy::query::Query as TantivyQuery;
use tantivy::schema::Field;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Searcher, Term};

use crate::results::Snippet;

/// Snippets of one field for the terms of one query.
pub struct Snippets {
    /// Each query term of the field with its weight: rarer words weigh more.
    terms: BTreeMap<String, f32>,
    analyzer: TextAnalyzer,
    max_bytes: usize,
}

/// A passage of at most `max_bytes` and the query words in it.
struct Fragment {
    score: f32,
    start: usize,
    end: usize,
    highlighted: Vec<Range<usize>>,
}

impl Fragment {
    fn at(start: usize) -> Fragment {
        Fragment {
            score: 0.0,
            start,
            end: start,
            highlighted: Vec::new(),
        }
    }
}

impl Snippets {
    /// The terms `query` looks for in `field`, weighted `1 / (1 + document frequency)`.
    pub fn new(
        searcher: &Searcher,
        query: &dyn TantivyQuery,
        field: Field,
        analyzer: TextAnalyzer,
        max_bytes: usize,
    ) -> tantivy::Result<Snippets> {
        let mut field_terms: BTreeSet<&Term> = BTreeSet::new();
        query.query_terms(&mut |term, _| {
            if term.field() == field {
                field_terms.insert(term);
            }
        });
        let mut terms = BTreeMap::new();
        for term in field_terms {
            let value = term.value();
            let Some(text) = value.as_str() else {
                continue;
            };
            let frequency = searcher.doc_freq(term)?;
            if frequency > 0 {
                terms.insert(text.to_owned(), 1.0 / (1.0 + frequency as f32));
            }
        }
        Ok(Snippets {
            terms,
            analyzer,
            max_bytes,
        })
    }

    /// Snippets for analysed `terms`, all weighing the same: for an engine that gives no
    /// document frequencies.
    pub fn for_terms(
        terms: impl IntoIterator<Item = String>,
        analyzer: TextAnalyzer,
        max_bytes: usize,
    ) -> Snippets {
        Snippets {
            terms: terms.into_iter().map(|term| (term, 1.0)).collect(),
            analyzer,
            max_bytes,
        }
    }

    /// The best passage of `text`, or `None` when no query word is in it.
    pub fn snippet(&mut self, text: &str) -> Option<Snippet> {
        if self.terms.is_empty() {
            return None;
        }
        let best = self.fragments(text).into_iter().max_by(|left, right| {
            match left.score.partial_cmp(&right.score) {
                Some(Ordering::Equal) | None => {
                    (right.start, right.end).cmp(&(left.start, left.end))
                }
                Some(order) => order,
            }
        })?;
        Some(Snippet {
            text: text[best.start..best.end].to_owned(),
            highlights: best
                .highlighted
                .iter()
                .map(|range| (range.start - best.start, range.end - best.start))
                .collect(),
        })
    }

    /// Passages of at most `max_bytes`, cut where the next word would not fit, that hold a
    /// query word.
    fn fragments(&mut self, text: &str) -> Vec<Fragment> {
        // A fresh clone per text, as tantivy does: its words come from the process's shared
        // memo, and no clone reads enough of them to build a table of its own.
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(text);
        let mut fragment = Fragment::at(0);
        let mut fragments = Vec::new();
        while stream.advance() {
            let token = stream.token();
            if token.offset_to - fragment.start > self.max_bytes {
                let next = Fragment::at(token.offset_from);
                let done = std::mem::replace(&mut fragment, next);
                if done.score > 0.0 {
                    fragments.push(done);
                }
            }
            fragment.end = token.offset_to;
            if let Some(&score) = self.terms.get(token.text.as_str()) {
                fragment.score += score;
                fragment
                    .highlighted
                    .push(token.offset_from..token.offset_to);
            }
        }
        if fragment.score > 0.0 {
            fragments.push(fragment);
        }
        fragments
    }
}
