//! The query as typed (the parse tree) and as resolved against the schema.
//!
//! Neither knows which search backend will run it: backends translate [`Query`].

use chrono::{DateTime, Utc};

/// Columns of the query line a node came from, counted in characters from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// How a word or phrase is matched, as typed after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    /// `clear*`: words starting with it.
    Prefix,
    /// `sanktions~` or `sanktions~1`: words within an edit distance (`None`: by word length).
    Fuzzy(Option<u8>),
    /// `"mine clearance"~3`: the words within this many positions of each other.
    Proximity(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub text: String,
    pub quoted: bool,
    pub modifier: Option<Modifier>,
    pub span: Span,
}

/// The parse tree: structure and spans, no knowledge of which fields exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A bare word or a `"quoted phrase"`.
    Text(Text),
    /// `name:value`.
    Field {
        name: String,
        name_span: Span,
        value: Text,
    },
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

/// A half-open instant range `[start, end)`; a missing side is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

/// How free text matches the analysed words of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMatch {
    /// Each word; a text that analyses to several words (`Jong-un`) is a phrase.
    Words,
    /// The words in order, at most `slop` positions apart in total.
    Phrase { slop: u32 },
    /// Words within `distance` edits (insertions, deletions, substitutions, transpositions).
    Fuzzy { distance: u8 },
    /// Words starting with the text.
    Prefix,
}

/// The resolved query: facet values are dictionary keys, dates are instants.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Every article.
    All,
    /// Free text over the searched fields (or one `field`), analysed by the backend.
    Text {
        text: String,
        matching: TextMatch,
        field: Option<String>,
    },
    /// Articles whose facet `field` holds `path` or a value below it.
    Facet {
        field: String,
        key: String,
        path: Vec<String>,
    },
    /// Articles whose keyword `field` equals `value` (normalized).
    Keyword {
        field: String,
        value: String,
    },
    Published(DateRange),
    /// Articles indexed in `(after, through]` (indexing stamps, in microseconds since the
    /// epoch): what a saved search has not seen yet. Never typed, only built by watches.
    IndexedWithin {
        after: u64,
        through: u64,
    },
    Not {
        query: Box<Query>,
    },
    And {
        queries: Vec<Query>,
    },
    Or {
        queries: Vec<Query>,
    },
}

impl Query {
    /// The query without its top-level filters on `field`, or `None` when it has none. Counts
    /// of a field's values are taken under it (multi-select faceting): a user filtering on
    /// `country:Russia` still sees the other countries they could pick, with their counts.
    pub fn without_filters_on(&self, field: &str) -> Option<Query> {
        match self {
            Query::And { queries } => {
                let mut kept: Vec<Query> = queries
                    .iter()
                    .filter(|query| !query.filters_only(field))
                    .cloned()
                    .collect();
                (kept.len() < queries.len()).then(|| match kept.len() {
                    0 => Query::All,
                    1 => kept.pop().expect("one query"),
                    _ => Query::And { queries: kept },
                })
            }
            query => query.filters_only(field).then_some(Query::All),
        }
    }

    /// Whether the query is a filter on `field` and nothing else (`country:(Russia OR Ukraine)`).
    fn filters_only(&self, field: &str) -> bool {
        match self {
            Query::Facet { field: name, .. } | Query::Keyword { field: name, .. } => name == field,
            Query::Not { query } => query.filters_only(field),
            Query::And { queries } | Query::Or { queries } => {
                !queries.is_empty() && queries.iter().all(|query| query.filters_only(field))
            }
            Query::All | Query::Text { .. } | Query::Published(_) | Query::IndexedWithin { .. } => {
                false
            }
        }
    }
}
