//! Entity extraction: countries, regions, people, organizations and topics from article text.
//!
//! All surface forms of all dictionaries go into one Aho-Corasick automaton (DFA,
//! leftmost-longest, ASCII case-insensitive), built once and shared across threads. Each match
//! is then checked for word boundaries, the pattern's case (an uppercase letter in a pattern
//! must be uppercase in the text) and, for ambiguous country names, the context.

mod context;
mod dateline;
mod entities;
mod patterns;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, Match, MatchKind, StartKind};

pub use entities::{CountryMention, Entities, EntityMention, RegionMention, TopicMention};
use entities::{RegionTable, TextParts};

use crate::article::Article;
use crate::schema::{Catalogs, Dictionaries, DictionaryName};
use patterns::{PatternTable, Target};

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("cannot build the entity automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
}

/// A tag from the input record that names no dictionary entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTag {
    pub field: &'static str,
    pub value: String,
}

impl std::fmt::Display for UnknownTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown {} tag {:?} ignored", self.field, self.value)
    }
}

pub struct Extractor {
    automaton: AhoCorasick,
    patterns: PatternTable,
    dictionaries: Dictionaries,
    region_table: RegionTable,
    catalogs: Catalogs,
}

impl std::fmt::Debug for Extractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extractor")
            .field("patterns", &self.automaton.patterns_len())
            .field("memory_bytes", &self.automaton.memory_usage())
            .finish()
    }
}

impl Extractor {
    pub fn new(dictionaries: &Dictionaries) -> Result<Extractor, ExtractError> {
        let patterns = PatternTable::build(dictionaries);
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .start_kind(StartKind::Both)
            .build(patterns.automaton_patterns())?;
        let catalogs = Catalogs::build(dictionaries);
        Ok(Extractor {
            automaton,
            patterns,
            dictionaries: dictionaries.clone(),
            region_table: RegionTable::build(dictionaries),
            catalogs,
        })
    }

    pub fn catalogs(&self) -> &Catalogs {
        &self.catalogs
    }

    /// Entities of `article`: from its text, merged with the tags its record carried.
    pub fn extract(&self, article: &Article) -> (Entities, Vec<UnknownTag>) {
        let (text, title_len) = article.extraction_text();
        let parts = text_parts(&text, title_len);
        let mut found = entities::Collector::new(&self.dictionaries, &self.region_table, parts);
        let context = context::Context::new(&text);
        let mut at = 0;
        while let Some(matched) = self.automaton.find(Input::new(&text).span(at..text.len())) {
            let mut candidate = Some(matched);
            at = loop {
                let Some(current) = candidate else {
                    // Nothing starts here: look again from the next character, so that a
                    // rejected match does not hide the ones inside it.
                    break next_char_boundary(&text, matched.start());
                };
                if let Some(end) = self.record(&text, &context, current, &mut found) {
                    break end.max(next_char_boundary(&text, current.start()));
                }
                candidate = self.shorter_match(&text, current);
            };
        }
        let unknown = self.merge_tags(article, &mut found);
        (found.finish(), unknown)
    }

    /// The longest pattern starting where `rejected` starts and ending before it: when a
    /// pattern's case or boundaries rule it out, a shorter one may hold ("a Paris club").
    fn shorter_match(&self, text: &str, rejected: Match) -> Option<Match> {
        let shorter = previous_char_boundary(text, rejected.end());
        (shorter > rejected.start())
            .then(|| {
                let input = Input::new(text)
                    .span(rejected.start()..shorter)
                    .anchored(Anchored::Yes);
                self.automaton.find(input)
            })
            .flatten()
    }

    /// Adds the targets of every spelling of the matched pattern that its case, boundary and
    /// context rules accept; returns where the accepted text ends, or `None` if none holds.
    fn record(
        &self,
        text: &str,
        context: &context::Context,
        matched: Match,
        found: &mut entities::Collector,
    ) -> Option<usize> {
        let start = matched.start();
        let mut accepted_end = None;
        for variant in self.patterns.variants(matched.pattern().as_usize()) {
            let Some(end) = variant.accepts(text, start, matched.end()) else {
                continue;
            };
            accepted_end = accepted_end.max(Some(end));
            for target in &variant.targets {
                if let Target::Country(index) = *target
                    && variant.ambiguous_for(index)
                    && !context.ambiguous_country_holds(
                        start,
                        end,
                        index,
                        &self.dictionaries.countries[index].reject_near,
                    )
                {
                    continue;
                }
                found.add(target, &text[start..end], start);
            }
        }
        accepted_end
    }

    fn merge_tags(&self, article: &Article, found: &mut entities::Collector) -> Vec<UnknownTag> {
        let mut unknown = Vec::new();
        let tags = [
            (
                "countries",
                DictionaryName::Countries,
                &article.tagged.countries,
            ),
            ("topics", DictionaryName::Topics, &article.tagged.topics),
            ("people", DictionaryName::People, &article.tagged.people),
            (
                "organizations",
                DictionaryName::Organizations,
                &article.tagged.organizations,
            ),
        ];
        for (field, dictionary, values) in tags {
            for value in values {
                match self.catalogs.get(dictionary).resolve(value) {
                    Some(entry) => found.add_tag(dictionary, &entry.key),
                    None => unknown.push(UnknownTag {
                        field,
                        value: value.clone(),
                    }),
                }
            }
        }
        unknown
    }
}

/// Where the title, dateline and lead lie in the extraction text: the lead is the first
/// paragraph after the title, at most [`MAX_LEAD_BYTES`] long.
fn text_parts(text: &str, title_len: usize) -> TextParts {
    let body_start = if title_len == 0 {
        0
    } else {
        (title_len + 2).min(text.len())
    };
    let body = &text[body_start..];
    let dateline = dateline::parse(body).map_or(body_start..body_start, |d| {
        body_start + d.place_start..body_start + d.end
    });
    let lead_text = &text[dateline.end.max(body_start)..];
    let paragraph_end = ["\n\n", "\n    ", "\n\t"]
        .iter()
        .filter_map(|gap| lead_text.find(gap))
        .min()
        .unwrap_or(lead_text.len())
        .min(MAX_LEAD_BYTES);
    let lead_start = dateline.end.max(body_start);
    TextParts {
        title: 0..title_len,
        lead: lead_start..lead_start + paragraph_end,
        dateline,
    }
}

/// The lead ends with the first paragraph, or here.
const MAX_LEAD_BYTES: usize = 400;

fn next_char_boundary(text: &str, index: usize) -> usize {
    text[index..]
        .chars()
        .next()
        .map_or(text.len(), |c| index + c.len_utf8())
}

fn previous_char_boundary(text: &str, index: usize) -> usize {
    text[..index]
        .chars()
        .next_back()
        .map_or(0, |c| index - c.len_utf8())
}

#[cfg(test)]
mod tests;
