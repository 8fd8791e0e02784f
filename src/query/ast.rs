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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub text: String,
    pub quoted: bool,
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

/// The resolved query: facet values are dictionary keys, dates are instants.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Every article.
    All,
    /// Free text over the searched fields (or one `field`), analysed by the backend.
    Text {
        text: String,
        phrase: bool,
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
    /// Whether any part of the query ranks by text relevance.
    pub fn has_text(&self) -> bool {
        match self {
            Query::Text { .. } => true,
            Query::And { queries } | Query::Or { queries } => queries.iter().any(Query::has_text),
            Query::Not { .. } | Query::All | Query::Facet { .. } | Query::Keyword { .. } => false,
            Query::Published(_) => false,
        }
    }
}
