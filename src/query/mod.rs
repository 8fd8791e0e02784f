//! The query language: parsing the line a user types, and resolving its field names, facet
//! values and dates against the schema. Errors point at their column.

pub mod ast;
mod dates;
mod parser;

use std::fmt;

use ast::{Modifier, Node, Query, Span, Text, TextMatch};
use chrono::{DateTime, Utc};

use crate::schema::edit_distance;
use crate::schema::{Catalogs, DictionaryName, FieldKind, Fields, normalize_alias, person_key};

pub use parser::parse;

const DATE_FIELDS: [&str; 3] = ["after", "before", "date"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct QueryError {
    pub query: String,
    pub message: String,
    /// 1-based column (in characters) where the problem starts.
    pub column: usize,
    /// How many characters the problem spans.
    pub width: usize,
    pub suggestions: Vec<String>,
}

impl QueryError {
    pub fn at(query: &str, span: Span, message: impl Into<String>) -> QueryError {
        QueryError {
            query: query.to_owned(),
            message: message.into(),
            column: span.start + 1,
            width: (span.end - span.start).max(1),
            suggestions: Vec::new(),
        }
    }

    fn suggesting(mut self, suggestions: Vec<String>) -> QueryError {
        self.suggestions = suggestions;
        self
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} (column {})", self.message, self.column)?;
        writeln!(f, "  {}", self.query)?;
        write!(
            f,
            "  {}{}",
            " ".repeat(self.column - 1),
            "^".repeat(self.width)
        )?;
        if !self.suggestions.is_empty() {
            write!(f, "\n  did you mean: {}?", self.suggestions.join(", "))?;
        }
        Ok(())
    }
}

/// Resolves parse trees against the fields and dictionaries of a schema.
pub struct Resolver<'a> {
    fields: &'a Fields,
    catalogs: &'a Catalogs,
    /// The instant relative dates (`date:last-30d`) count back from.
    now: DateTime<Utc>,
}

impl<'a> Resolver<'a> {
    pub fn new(fields: &'a Fields, catalogs: &'a Catalogs) -> Resolver<'a> {
        Resolver {
            fields,
            catalogs,
            now: Utc::now(),
        }
    }

    /// The same resolver with relative dates counted back from `now`.
    pub fn at(self, now: DateTime<Utc>) -> Resolver<'a> {
        Resolver { now, ..self }
    }

    /// Parses and resolves a query line; an empty line matches every article.
    pub fn parse(&self, query: &str) -> Result<Query, QueryError> {
        match parse(query)? {
            Some(node) => self.resolve(query, &node),
            None => Ok(Query::All),
        }
    }

    fn resolve(&self, query: &str, node: &Node) -> Result<Query, QueryError> {
        Ok(match node {
            Node::Text(text) => free_text(text, None),
            Node::Field {
                name,
                name_span,
                value,
            } => self.resolve_field(query, name, *name_span, value)?,
            Node::Not(inner) => Query::Not {
                query: Box::new(self.resolve(query, inner)?),
            },
            // `a (b country:X)` is `a b country:X`: flat, so that multi-select finds the filter.
            Node::And(parts) => Query::And {
                queries: self
                    .resolve_all(query, parts)?
                    .into_iter()
                    .flat_map(|part| match part {
                        Query::And { queries } => queries,
                        other => vec![other],
                    })
                    .collect(),
            },
            Node::Or(parts) => Query::Or {
                queries: self.resolve_all(query, parts)?,
            },
        })
    }

    fn resolve_all(&self, query: &str, nodes: &[Node]) -> Result<Vec<Query>, QueryError> {
        nodes.iter().map(|node| self.resolve(query, node)).collect()
    }

    fn resolve_field(
        &self,
        query: &str,
        name: &str,
        name_span: Span,
        value: &Text,
    ) -> Result<Query, QueryError> {
        let lowercase = name.to_ascii_lowercase();
        if DATE_FIELDS.contains(&lowercase.as_str()) {
            refuse_modifier(query, &lowercase, value)?;
            return dates::resolve(query, &lowercase, value, self.now);
        }
        if let Some(spec) = self
            .fields
            .get(&lowercase)
            .filter(|s| s.kind == FieldKind::Text)
        {
            return Ok(free_text(value, Some(&spec.name)));
        }
        let Some(spec) = self.fields.by_query_name(&lowercase) else {
            return Err(self.unknown_field(query, name, name_span));
        };
        refuse_modifier(query, &lowercase, value)?;
        if !value.quoted && value.text.starts_with(['-', '+']) {
            return Err(QueryError::at(
                query,
                value.span,
                format!(
                    "a sign goes before the field: `-{lowercase}:{}`",
                    &value.text[1..]
                ),
            ));
        }
        match (spec.kind, &spec.dictionary) {
            (FieldKind::Facet, Some(dictionary)) => {
                let catalog = self.catalogs.get(dictionary);
                match catalog.resolve(&value.text) {
                    Some(entry) => Ok(Query::Facet {
                        field: spec.name.clone(),
                        key: entry.key.clone(),
                        path: entry.path.clone(),
                    }),
                    // People outside the dictionary are found by the name a title introduced,
                    // unless the name is close to a listed one (a typo: suggest it).
                    None if *dictionary == DictionaryName::People
                        && !person_key(&value.text).is_empty()
                        && catalog.suggest(&value.text, 1).is_empty() =>
                    {
                        let key = person_key(&value.text);
                        Ok(Query::Facet {
                            field: spec.name.clone(),
                            path: vec![key.clone()],
                            key,
                        })
                    }
                    None => Err(QueryError::at(
                        query,
                        value.span,
                        format!("unknown {lowercase} `{}`", value.text),
                    )
                    .suggesting(
                        catalog
                            .suggest(&value.text, 3)
                            .into_iter()
                            .map(str::to_owned)
                            .collect(),
                    )),
                }
            }
            _ => Ok(Query::Keyword {
                field: spec.name.clone(),
                value: normalize_alias(&value.text),
            }),
        }
    }

    fn unknown_field(&self, query: &str, name: &str, span: Span) -> QueryError {
        let mut known: Vec<&str> = self.fields.query_names().collect();
        known.extend(DATE_FIELDS);
        known.extend(
            self.fields
                .iter()
                .filter(|spec| spec.kind == FieldKind::Text)
                .map(|spec| spec.name.as_str()),
        );
        let name_lower = name.to_ascii_lowercase();
        let mut close: Vec<(usize, &str)> = known
            .iter()
            .map(|candidate| (edit_distance(&name_lower, candidate), *candidate))
            .filter(|(distance, _)| *distance <= 2)
            .collect();
        close.sort_unstable();
        close.dedup();
        close.truncate(3);
        let close = close.into_iter().map(|(_, name)| name);
        QueryError::at(
            query,
            Span::new(span.start, span.end.saturating_sub(1).max(span.start + 1)),
            format!("unknown field `{name}` (quote the text to search for it)"),
        )
        .suggesting(close.map(|name| format!("{name}:")).collect())
    }
}

fn free_text(value: &Text, field: Option<&str>) -> Query {
    let matching = match value.modifier {
        None if value.quoted => TextMatch::Phrase { slop: 0 },
        None => TextMatch::Words,
        Some(Modifier::Proximity(slop)) => TextMatch::Phrase { slop },
        Some(Modifier::Prefix) => TextMatch::Prefix,
        Some(Modifier::Fuzzy(distance)) => TextMatch::Fuzzy {
            distance: distance.unwrap_or_else(|| fuzzy_distance(&value.text)),
        },
    };
    Query::Text {
        text: value.text.clone(),
        matching,
        field: field.map(str::to_owned),
    }
}

/// Edits allowed for `word~`, as Elasticsearch's `AUTO`: none for one or two letters, one up
/// to five, two beyond.
fn fuzzy_distance(word: &str) -> u8 {
    match word.chars().count() {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    }
}

/// Facet, keyword and date values match whole values: no prefix, fuzzy or proximity.
fn refuse_modifier(query: &str, field: &str, value: &Text) -> Result<(), QueryError> {
    let what = match value.modifier {
        None => return Ok(()),
        Some(Modifier::Prefix) => "a prefix (`*`)",
        Some(Modifier::Fuzzy(_)) => "fuzzy (`~`)",
        Some(Modifier::Proximity(_)) => "a proximity (`~N`)",
    };
    Err(QueryError::at(
        query,
        value.span,
        format!("`{field}:` matches whole values and cannot be {what}"),
    ))
}

#[cfg(test)]
pub(crate) mod tests;
