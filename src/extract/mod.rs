//! Entity extraction: countries, regions, people, organizations and topics from article text.
//!
//! All surface forms of all dictionaries go into one Aho-Corasick automaton (DFA,
//! leftmost-longest, ASCII case-insensitive), built once and shared across threads. Each match
//! is then checked for word boundaries, the pattern's case (an uppercase letter in a pattern
//! must be uppercase in the text) and, for ambiguous country names, the context.

mod context;
mod entities;
mod patterns;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

pub use entities::{CountryMention, Entities, EntityMention, RegionMention, TopicMention};

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

pub struct Extractor {
    automaton: AhoCorasick,
    patterns: PatternTable,
    dictionaries: Dictionaries,
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
            .build(patterns.automaton_patterns())?;
        let catalogs = Catalogs::build(dictionaries);
        Ok(Extractor {
            automaton,
            patterns,
            dictionaries: dictionaries.clone(),
            catalogs,
        })
    }

    pub fn catalogs(&self) -> &Catalogs {
        &self.catalogs
    }

    /// Entities of `article`: from its text, merged with the tags its record carried.
    pub fn extract(&self, article: &Article) -> (Entities, Vec<UnknownTag>) {
        let text = article.full_text();
        let mut found = entities::Collector::new(&self.dictionaries, article.title.len());
        let context = context::Context::new(&text);
        for matched in self.automaton.find_iter(&text) {
            let (start, end) = (matched.start(), matched.end());
            for variant in self.patterns.variants(matched.pattern().as_usize()) {
                let Some(end) = variant.accepts(&text, start, end) else {
                    continue;
                };
                let surface = &text[start..end];
                for target in &variant.targets {
                    if let Target::Country(index) = *target
                        && variant.ambiguous_for(index)
                        && !context.ambiguous_country_holds(
                            start,
                            end,
                            &self.dictionaries.countries[index].reject_near,
                        )
                    {
                        continue;
                    }
                    found.add(target, surface, start);
                }
            }
        }
        let unknown = self.merge_tags(article, &mut found);
        (found.finish(), unknown)
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

#[cfg(test)]
mod tests;
