//! The surface forms of every dictionary, as automaton patterns with their match rules.

use std::collections::HashMap;

use crate::schema::{Dictionaries, Place};

/// What a surface form stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    Country(usize),
    Region(usize),
    Person(usize),
    Organization(usize),
    Topic {
        topic: usize,
        weight: f32,
    },
    /// A title that introduces a person's name ("Foreign Minister").
    Title(usize),
    /// An entity of a dictionary the schema adds: indexes into `Dictionaries::added`.
    Added {
        dictionary: usize,
        entity: usize,
    },
    /// A stoplist phrase: it wins the span and counts for nothing.
    Nothing,
}

/// One spelling of a pattern, with its own case and prefix rule.
#[derive(Debug)]
pub struct Variant {
    text: String,
    /// A `*` pattern: matches any word starting with `text`.
    prefix: bool,
    pub targets: Vec<Target>,
    ambiguous_countries: Vec<usize>,
}

impl Variant {
    /// The end of the accepted match (a prefix pattern extends to the end of its word), or
    /// `None` when the match breaks a word boundary or the pattern's case.
    pub fn accepts(&self, text: &str, start: usize, end: usize) -> Option<usize> {
        if end - start != self.text.len() || !case_matches(&self.text, &text[start..end]) {
            return None;
        }
        if text[..start].chars().next_back().is_some_and(is_word_char) {
            return None;
        }
        let rest = &text[end..];
        if self.prefix {
            let word_len = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
            return Some(end + word_len);
        }
        (!rest.chars().next().is_some_and(is_word_char)).then_some(end)
    }

    pub fn ambiguous_for(&self, country: usize) -> bool {
        self.ambiguous_countries.contains(&country)
    }
}

/// Whether `start..end` begins and ends at word boundaries of `text`.
pub fn on_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    !text[..start].chars().next_back().is_some_and(is_word_char)
        && !text[end..].chars().next().is_some_and(is_word_char)
}

/// Whether `word` appears in `text` as whole words.
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Every uppercase ASCII letter of the pattern is uppercase in the text too.
fn case_matches(pattern: &str, found: &str) -> bool {
    pattern
        .bytes()
        .zip(found.bytes())
        .all(|(p, f)| !p.is_ascii_uppercase() || f.is_ascii_uppercase())
}

/// Automaton patterns (ASCII-lowercased) and, per pattern, the spellings that produced it.
#[derive(Debug, Default)]
pub struct PatternTable {
    keys: Vec<String>,
    variants: Vec<Vec<Variant>>,
    index_of_key: HashMap<String, usize>,
}

impl PatternTable {
    /// The patterns of every dictionary and place; `country_index` maps country keys to their
    /// position in `dictionaries.countries` and holds every country `places` name.
    pub fn build(
        dictionaries: &Dictionaries,
        places: &[Place],
        country_index: &HashMap<String, usize>,
    ) -> PatternTable {
        let mut table = PatternTable::default();
        for (index, country) in dictionaries.countries.iter().enumerate() {
            for surface in country.surface_forms() {
                let ambiguous = country.ambiguous.contains(surface);
                table.add(surface, Target::Country(index), ambiguous.then_some(index));
            }
        }
        for place in places {
            let country = country_index[&place.country];
            for surface in place.surfaces() {
                table.add(surface, Target::Country(country), None);
            }
        }
        for (index, region) in dictionaries.regions.iter().enumerate() {
            for surface in &region.names {
                table.add(surface, Target::Region(index), None);
            }
        }
        for (index, person) in dictionaries.people.iter().enumerate() {
            for surface in std::iter::once(&person.name).chain(&person.names) {
                table.add(surface, Target::Person(index), None);
            }
        }
        for (index, org) in dictionaries.organizations.iter().enumerate() {
            // `Bank of Japan` is about Japan; `Radio Free Europe` names no country of its own.
            let own_country = org.country.as_deref().map(|key| {
                (
                    country_index[key],
                    &dictionaries.countries[country_index[key]],
                )
            });
            for surface in &org.names {
                table.add(surface, Target::Organization(index), None);
                if let Some((country, names)) = own_country
                    && names
                        .names
                        .iter()
                        .chain(&names.demonyms)
                        .any(|name| contains_word(surface, name))
                {
                    table.add(surface, Target::Country(country), None);
                }
            }
        }
        for (dictionary, added) in dictionaries.added.iter().enumerate() {
            for (entity, named) in added.entities.iter().enumerate() {
                for surface in named.surface_forms() {
                    table.add(surface, Target::Added { dictionary, entity }, None);
                }
            }
        }
        for (topic, definition) in dictionaries.topics.topics.iter().enumerate() {
            for phrase in &definition.phrases {
                let target = Target::Topic {
                    topic,
                    weight: phrase.weight,
                };
                table.add(&phrase.text, target, None);
            }
        }
        for (index, title) in dictionaries.person_titles.iter().enumerate() {
            table.add(title, Target::Title(index), None);
        }
        for phrase in &dictionaries.stoplist {
            table.add(phrase, Target::Nothing, None);
        }
        table
    }

    pub fn automaton_patterns(&self) -> &[String] {
        &self.keys
    }

    pub fn variants(&self, pattern: usize) -> &[Variant] {
        &self.variants[pattern]
    }

    /// Adds `surface` and its typographic twins: curly apostrophes and unaccented letters.
    fn add(&mut self, surface: &str, target: Target, ambiguous_country: Option<usize>) {
        let (text, prefix) = match surface.strip_suffix('*') {
            Some(stem) => (stem.trim(), true),
            None => (surface.trim(), false),
        };
        if text.is_empty() {
            return;
        }
        let mut spellings = vec![text.to_owned()];
        let unaccented = deunicode::deunicode(text);
        // The automaton folds ASCII case only: "TÜRKIYE" in a headline needs its own spelling.
        let uppercase = (!text.is_ascii()).then(|| text.to_uppercase());
        let twins = [
            Some(text.replace('\'', "\u{2019}")),
            Some(unaccented),
            uppercase,
        ];
        for spelling in twins.into_iter().flatten() {
            if !spelling.trim().is_empty() && !spellings.contains(&spelling) {
                spellings.push(spelling);
            }
        }
        for spelling in spellings {
            self.add_spelling(spelling, prefix, target, ambiguous_country);
        }
    }

    fn add_spelling(
        &mut self,
        text: String,
        prefix: bool,
        target: Target,
        ambiguous_country: Option<usize>,
    ) {
        let key = text.to_ascii_lowercase();
        let pattern = *self.index_of_key.entry(key.clone()).or_insert_with(|| {
            self.keys.push(key);
            self.variants.push(Vec::new());
            self.keys.len() - 1
        });
        let variants = &mut self.variants[pattern];
        let variant = match variants
            .iter_mut()
            .position(|variant| variant.text == text && variant.prefix == prefix)
        {
            Some(position) => &mut variants[position],
            None => {
                variants.push(Variant {
                    text,
                    prefix,
                    targets: Vec::new(),
                    ambiguous_countries: Vec::new(),
                });
                variants.last_mut().expect("just pushed")
            }
        };
        if !variant.targets.contains(&target) {
            variant.targets.push(target);
        }
        variant.ambiguous_countries.extend(ambiguous_country);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(text: &str, prefix: bool) -> Variant {
        Variant {
            text: text.to_owned(),
            prefix,
            targets: Vec::new(),
            ambiguous_countries: Vec::new(),
        }
    }

    #[test]
    fn uppercase_in_pattern_must_be_uppercase_in_text() {
        assert!(case_matches("US", "US"));
        assert!(!case_matches("US", "us"));
        assert!(!case_matches("China", "china"));
        assert!(case_matches("China", "CHINA"));
        assert!(case_matches("the Kremlin", "The Kremlin"));
        assert!(case_matches("sanctions", "SANCTIONS"));
    }

    #[test]
    fn word_boundaries_are_checked_on_both_sides() {
        let niger = variant("Niger", false);
        assert_eq!(niger.accepts("in Niger.", 3, 8), Some(8));
        assert_eq!(niger.accepts("in Nigeria", 3, 8), None);
        assert_eq!(niger.accepts("xNiger", 1, 6), None);
        assert_eq!(niger.accepts("Niger's", 0, 5), Some(5));
    }

    #[test]
    fn prefix_patterns_extend_to_the_word_end() {
        let sanction = variant("sanction", true);
        assert_eq!(sanction.accepts("new sanctions on", 4, 12), Some(13));
        assert_eq!(sanction.accepts("unsanctioned", 2, 10), None);
    }
}
