//! Resolved queries to Quickwit's query language. Text is analysed here, by geonews's own
//! English analyzer, and looked up in the `<field>_words` fields that hold the same analysis;
//! filters score nothing (boost 0), as in the local index.

use std::collections::BTreeSet;

use chrono::{DateTime, SecondsFormat, Utc};

use super::document::{INDEXED_AT, normalized_field, path_field, path_term, words_field};
use crate::index::EnglishWords;
use crate::query::ast::{DateRange, Query, TextMatch};
use crate::schema::Schema;

/// Matches every document.
const ALL: &str = "*";
/// A filter's boost: it narrows the hits without changing their scores.
const FILTER: &str = "^0";
/// Quickwit refuses a regex whose automaton grows too large: some alternations of 900 bytes
/// already are.
const MAX_REGEX_BYTES: usize = 400;

/// A query in Quickwit's language, with what geonews needs to present its hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    pub query: String,
    /// Whether some free text outside a negation scores the hits (else they are sorted by date).
    pub ranks: bool,
    /// The analysed words the query looks for, for snippets.
    pub words: Vec<String>,
}

/// Translates resolved queries for one schema.
pub struct Translator<'a> {
    schema: &'a Schema,
    analyzer: EnglishWords,
}

impl<'a> Translator<'a> {
    pub fn new(schema: &'a Schema) -> Translator<'a> {
        Translator {
            schema,
            analyzer: EnglishWords::default(),
        }
    }

    pub fn translate(&mut self, query: &Query) -> Translation {
        let mut words = BTreeSet::new();
        let mut ranks = false;
        let query = self
            .part(query, &mut Scoring::new(&mut words, &mut ranks))
            .unwrap_or_else(|| ALL.to_owned());
        Translation {
            query,
            ranks,
            words: words.into_iter().collect(),
        }
    }

    /// One part of the query, or `None` when it constrains nothing (a word that analyses to no
    /// words, such as punctuation): such a part is dropped, negated or not.
    fn part(&mut self, query: &Query, scoring: &mut Scoring) -> Option<String> {
        match query {
            Query::All => Some(ALL.to_owned()),
            Query::Text {
                text,
                matching,
                field,
            } => self.text(text, *matching, field.as_deref(), scoring),
            Query::Facet { field, path, .. } => Some(filter(&path_field(field), &path_term(path))),
            Query::Keyword { field, value } if field == "id" => Some(filter(field, value)),
            Query::Keyword { field, value } => Some(filter(&normalized_field(field), value)),
            Query::Published(range) => Some(self.date_range(range)),
            Query::IndexedWithin { after, through } => Some(format!(
                "({INDEXED_AT}:>{after} AND {INDEXED_AT}:<={through}){FILTER}"
            )),
            Query::Not { query } => self
                .part(query, &mut Scoring::ignored())
                .map(|excluded| format!("({ALL} AND NOT {excluded})")),
            Query::And { queries } => {
                let mut clauses = Vec::with_capacity(queries.len());
                let mut only_negations = true;
                for query in queries {
                    let clause = match query {
                        Query::Not { query } => self
                            .part(query, &mut Scoring::ignored())
                            .map(|excluded| format!("NOT {excluded}")),
                        other => {
                            let clause = self.part(other, scoring);
                            only_negations &= clause.is_none();
                            clause
                        }
                    };
                    clauses.extend(clause);
                }
                if clauses.is_empty() {
                    return None;
                }
                if only_negations {
                    clauses.insert(0, ALL.to_owned());
                }
                Some(format!("({})", clauses.join(" AND ")))
            }
            Query::Or { queries } => {
                let clauses: Vec<String> = queries
                    .iter()
                    .filter_map(|query| self.part(query, scoring))
                    .collect();
                (!clauses.is_empty()).then(|| format!("({})", clauses.join(" OR ")))
            }
        }
    }

    /// Free text over each searched field (or one field), each with its boost.
    fn text(
        &mut self,
        text: &str,
        matching: TextMatch,
        field: Option<&str>,
        scoring: &mut Scoring,
    ) -> Option<String> {
        let words: Vec<String> = self
            .analyzer
            .words(text)
            .into_iter()
            .map(|(_, word)| word)
            .collect();
        if words.is_empty() {
            return None;
        }
        scoring.found(&words, matching);
        let fields: Vec<(String, f32)> = match field {
            Some(name) => vec![(name.to_owned(), 1.0)],
            None => self
                .schema
                .fields
                .searched()
                .map(|(name, boost)| (name.to_owned(), boost))
                .collect(),
        };
        let per_field: Vec<String> = fields
            .iter()
            .map(|(name, boost)| in_field(&words_field(name), &words, matching, *boost))
            .collect();
        Some(format!("({})", per_field.join(" OR ")))
    }

    fn date_range(&self, range: &DateRange) -> String {
        let field = &self.schema.fields.timestamp().name;
        let at = |date: DateTime<Utc>| date.to_rfc3339_opts(SecondsFormat::Secs, true);
        // A range takes no boost of its own: the group around it does.
        let bounds: Vec<String> = [
            range.start.map(|start| format!("{field}:>={}", at(start))),
            range.end.map(|end| format!("{field}:<{}", at(end))),
        ]
        .into_iter()
        .flatten()
        .collect();
        match bounds.len() {
            0 => ALL.to_owned(),
            _ => format!("({}){FILTER}", bounds.join(" AND ")),
        }
    }
}

/// What the text of a query contributes to ranking and snippets; negated text does neither.
struct Scoring<'s> {
    words: Option<&'s mut BTreeSet<String>>,
    ranks: Option<&'s mut bool>,
}

impl<'s> Scoring<'s> {
    fn new(words: &'s mut BTreeSet<String>, ranks: &'s mut bool) -> Scoring<'s> {
        Scoring {
            words: Some(words),
            ranks: Some(ranks),
        }
    }

    /// For negated text, which neither ranks nor marks words.
    fn ignored() -> Scoring<'static> {
        Scoring {
            words: None,
            ranks: None,
        }
    }

    fn found(&mut self, words: &[String], matching: TextMatch) {
        if let Some(ranks) = self.ranks.as_deref_mut() {
            *ranks = true;
        }
        // Prefix and fuzzy terms mark no words in snippets, as in the local index.
        if matches!(matching, TextMatch::Words | TextMatch::Phrase { .. })
            && let Some(found) = self.words.as_deref_mut()
        {
            found.extend(words.iter().cloned());
        }
    }
}

/// Analysed words matched in one field: several words are a phrase; prefix and fuzzy apply to
/// each word, all required.
fn in_field(field: &str, words: &[String], matching: TextMatch, boost: f32) -> String {
    let boost = boost_suffix(boost);
    let each_word = |regexes: &dyn Fn(&str) -> Vec<String>| {
        let clauses: Vec<String> = words
            .iter()
            .map(|word| {
                let alternatives: Vec<String> = regexes(word)
                    .iter()
                    .map(|regex| format!("{field}:/{regex}/{boost}"))
                    .collect();
                match alternatives.len() {
                    1 => alternatives.into_iter().next().expect("one regex"),
                    _ => format!("({})", alternatives.join(" OR ")),
                }
            })
            .collect();
        match clauses.len() {
            1 => clauses.into_iter().next().expect("one word"),
            _ => format!("({})", clauses.join(" AND ")),
        }
    };
    match matching {
        TextMatch::Prefix => each_word(&|word| vec![format!("{}.*", regex_escape(word))]),
        TextMatch::Fuzzy { distance } => each_word(&|word| fuzzy_regexes(word, distance)),
        TextMatch::Words | TextMatch::Phrase { slop: 0 } => {
            format!("{field}:{}{boost}", quoted(&words.join(" ")))
        }
        TextMatch::Phrase { .. } if words.len() == 1 => {
            format!("{field}:{}{boost}", quoted(&words[0]))
        }
        TextMatch::Phrase { slop } => {
            format!("{field}:{}~{slop}{boost}", quoted(&words.join(" ")))
        }
    }
}

fn boost_suffix(boost: f32) -> String {
    if boost == 1.0 {
        String::new()
    } else {
        format!("^{boost}")
    }
}

/// A filter on one value of a raw field.
fn filter(field: &str, value: &str) -> String {
    format!("{field}:{}{FILTER}", quoted(value))
}

/// A value in double quotes, Quickwit's escapes applied.
fn quoted(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// A literal for a regex between slashes.
fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric() {
            escaped.push(c);
        } else {
            escaped.push('\\');
            escaped.push(c);
        }
    }
    escaped
}

/// Regexes that together match the words within `distance` edits of `word` (insertions,
/// deletions, substitutions and swaps of neighbours): Quickwit has no fuzzy term query, and
/// regexes over the index's words find the same words as the local index's Levenshtein
/// automaton. Quickwit refuses a regex much over [`MAX_REGEX_BYTES`], so longer alternations
/// are split.
pub fn fuzzy_regexes(word: &str, distance: u8) -> Vec<String> {
    // `None` is any one character.
    let mut patterns: BTreeSet<Vec<Option<char>>> = BTreeSet::new();
    patterns.insert(word.chars().map(Some).collect());
    for _ in 0..distance {
        let edited: Vec<Vec<Option<char>>> = patterns.iter().flat_map(|p| edits(p)).collect();
        patterns.extend(edited);
    }
    let general: Vec<&Vec<Option<char>>> = patterns
        .iter()
        .filter(|pattern| {
            !patterns
                .iter()
                .any(|other| other != *pattern && covers(other, pattern))
        })
        .collect();
    let alternatives: Vec<String> = general
        .iter()
        .map(|pattern| {
            pattern
                .iter()
                .map(|element| match element {
                    Some(c) => regex_escape(&c.to_string()),
                    None => ".".to_owned(),
                })
                .collect()
        })
        .collect();
    let mut regexes = vec![String::new()];
    for alternative in alternatives {
        let last = regexes.last_mut().expect("one regex at least");
        if !last.is_empty() && last.len() + alternative.len() + 1 > MAX_REGEX_BYTES {
            regexes.push(alternative);
        } else {
            if !last.is_empty() {
                last.push('|');
            }
            last.push_str(&alternative);
        }
    }
    regexes
}

/// Whether every word `specific` matches, `general` matches too: the same length, and any
/// character wherever they differ.
fn covers(general: &[Option<char>], specific: &[Option<char>]) -> bool {
    general.len() == specific.len()
        && general
            .iter()
            .zip(specific)
            .all(|(general, specific)| general.is_none() || general == specific)
}

/// Every pattern one edit away from `pattern`.
fn edits(pattern: &[Option<char>]) -> Vec<Vec<Option<char>>> {
    let mut edited = Vec::new();
    for at in 0..=pattern.len() {
        let mut inserted = pattern.to_vec();
        inserted.insert(at, None);
        edited.push(inserted);
        if at < pattern.len() {
            let mut deleted = pattern.to_vec();
            deleted.remove(at);
            edited.push(deleted);
            let mut replaced = pattern.to_vec();
            replaced[at] = None;
            edited.push(replaced);
        }
        if at + 1 < pattern.len() && pattern[at] != pattern[at + 1] {
            let mut swapped = pattern.to_vec();
            swapped.swap(at, at + 1);
            edited.push(swapped);
        }
    }
    edited
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_patterns_cover_each_kind_of_edit() {
        let regexes = fuzzy_regexes("cat", 1);
        assert_eq!(regexes.len(), 1);
        let regex = &regexes[0];
        let alternatives: BTreeSet<&str> = regex.split('|').collect();
        for expected in [".cat", "ca.", "at", "act", "c.at", "cta"] {
            assert!(alternatives.contains(expected), "{expected} in {regex}");
        }
        assert!(!alternatives.contains("dog"));
    }

    #[test]
    fn long_alternations_are_split_into_regexes_quickwit_takes() {
        let regexes = fuzzy_regexes("sanktions", 2);
        assert!(regexes.len() > 1);
        assert!(regexes.iter().all(|regex| regex.len() <= MAX_REGEX_BYTES));
        let regexes: Vec<regex::Regex> = regexes
            .iter()
            .map(|regex| regex::Regex::new(&format!("^(?:{regex})$")).unwrap())
            .collect();
        let within = |word: &str| regexes.iter().any(|regex| regex.is_match(word));
        for near in [
            "sanktions",
            "sanctions",
            "snaktions",
            "sanktionsxy",
            "sanktio",
        ] {
            assert!(within(near), "{near}");
        }
        for far in ["sanctioned", "sanktionsxyz", "sank"] {
            assert!(!within(far), "{far}");
        }
    }

    /// Every query of docs/query-language.md, as Quickwit is sent it.
    #[test]
    fn documented_queries_translate() {
        let schema = Schema::builtin().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-01-15T12:00:00Z")
            .unwrap()
            .to_utc();
        let resolver = crate::query::Resolver::new(&schema.fields, schema.catalogs()).at(now);
        let mut translator = Translator::new(&schema);
        let mut lines = Vec::new();
        for query in crate::query::tests::documented_queries() {
            let resolved = resolver.parse(query).expect("documented queries resolve");
            let translation = translator.translate(&resolved);
            lines.push(format!(
                "{query}\n  → {}\n  ranks: {}, words: {:?}",
                translation.query, translation.ranks, translation.words
            ));
        }
        insta::assert_snapshot!(lines.join("\n\n"));
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(quoted(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(regex_escape("a.b/c"), r"a\.b\/c");
    }
}
