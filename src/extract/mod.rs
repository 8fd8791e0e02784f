//! Entity extraction: countries, regions, people, organizations and topics from article text.
//!
//! All surface forms of all dictionaries go into one Aho-Corasick automaton (leftmost-longest,
//! ASCII case-insensitive), built once and shared across threads. Every surface form must start
//! a word, so the automaton is walked anchored from each word start whose first byte can begin
//! a pattern, rather than over every byte: most walks end after a byte or two. Anchored walks
//! need no failure transitions, which is what a DFA buys, and a contiguous NFA is 4 MiB where
//! the DFA of the same patterns is 88 MiB: its walks miss the cache on nearly every step, and
//! it evicts the indexer's own data (BENCHMARKS.md has the measurements). The NFA's first
//! three levels are dense, as fast as a DFA's, and hold nearly every walk. Each match is then
//! checked for word boundaries, the pattern's case (an uppercase letter in a pattern must be
//! uppercase in the text) and, for ambiguous country names, the context.

mod context;
mod dateline;
mod entities;
mod patterns;
mod topic_model;

use std::collections::HashMap;
use std::ops::Range;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, Match, MatchKind};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

pub use entities::{CountryMention, Entities, EntityMention, RegionMention, TopicMention};
use entities::{RegionTable, TextParts, TopicTable};
use topic_model::TopicModel;
pub use topic_model::{FeatureContribution, TopicText, TopicVerdict, named_features};

use crate::article::Article;
use crate::schema::{Catalogs, Dictionaries, DictionaryName, Place, normalize_alias, person_key};
use patterns::{PatternTable, Target};

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("cannot build the entity automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
    #[error("place `{place}` names unknown country `{country}`")]
    UnknownCountry { place: String, country: String },
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

/// Why a surface form counted for an entity, or did not (`geonews extract --explain`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// `country`, `region`, `topic`, `person`, `org`, `stoplist`, or the name of a dictionary
    /// the schema adds.
    pub field: String,
    pub key: String,
    pub surface: String,
    /// Byte offset in title + summary + body.
    pub offset: usize,
    pub kept: bool,
    pub rule: String,
}

pub struct Extractor {
    /// Walked anchored from [`Extractor::start`] at a word start, it finds the patterns
    /// starting exactly there.
    automaton: NFA,
    start: StateID,
    /// The bytes a pattern can start with, in either ASCII case.
    first_bytes: [bool; 256],
    patterns: PatternTable,
    dictionaries: Dictionaries,
    region_table: RegionTable,
    /// Decides the topics it has classifiers for; topics.toml's thresholds decide the rest.
    topic_model: Option<TopicModel>,
    topic_table: TopicTable,
    catalogs: Catalogs,
    country_index: HashMap<String, usize>,
    /// Normalized place names and US state abbreviations → country, for datelines.
    place_names: HashMap<String, usize>,
    /// States whose names mean something else in running text (Georgia) → their country.
    dateline_only_states: HashMap<String, usize>,
    /// Until when, which state, and the countries that meant it.
    eras: Vec<(NaiveDate, usize, Vec<usize>)>,
}

impl std::fmt::Debug for Extractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extractor")
            .field("patterns", &self.patterns())
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}

impl Extractor {
    /// The extractor for `dictionaries` and the cities, provinces and states of `places`.
    pub fn new(dictionaries: &Dictionaries, places: &[Place]) -> Result<Extractor, ExtractError> {
        let country_index: HashMap<String, usize> = dictionaries
            .countries
            .iter()
            .enumerate()
            .map(|(index, country)| (country.key.clone(), index))
            .collect();
        if let Some(place) = places
            .iter()
            .find(|p| !country_index.contains_key(&p.country))
        {
            return Err(ExtractError::UnknownCountry {
                place: place.name.clone(),
                country: place.country.clone(),
            });
        }
        let patterns = PatternTable::build(dictionaries, places, &country_index);
        let automaton = NFA::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .dense_depth(3)
            .ascii_case_insensitive(true)
            // Walked by hand, never searched: a prefilter would go unused.
            .prefilter(false)
            .build(patterns.automaton_patterns())?;
        let start = automaton
            .start_state(Anchored::Yes)
            .expect("an automaton built for anchored searches has an anchored start");
        let mut first_bytes = [false; 256];
        for pattern in patterns.automaton_patterns() {
            if let Some(&first) = pattern.as_bytes().first() {
                first_bytes[usize::from(first.to_ascii_lowercase())] = true;
                first_bytes[usize::from(first.to_ascii_uppercase())] = true;
            }
        }
        let catalogs = Catalogs::build(dictionaries);
        let place_names = places
            .iter()
            .flat_map(|place| {
                let country = country_index[&place.country];
                place
                    .surfaces()
                    .chain(&place.abbreviations)
                    .map(move |name| (normalize_alias(name), country))
            })
            .collect();
        let dateline_only_states = places
            .iter()
            .filter(|place| place.dateline_only)
            .map(|place| (normalize_alias(&place.name), country_index[&place.country]))
            .collect();
        Ok(Extractor {
            automaton,
            start,
            first_bytes,
            patterns,
            dictionaries: dictionaries.clone(),
            region_table: RegionTable::build(dictionaries),
            topic_model: TopicModel::compile(&dictionaries.topic_model, &dictionaries.topics),
            topic_table: TopicTable::build(dictionaries),
            catalogs,
            eras: dictionaries
                .eras
                .iter()
                .map(|era| {
                    let countries = era.countries.iter().map(|key| country_index[key]).collect();
                    (era.until, country_index[&era.meant], countries)
                })
                .collect(),
            country_index,
            place_names,
            dateline_only_states,
        })
    }

    /// Patterns in the automaton: every spelling of every dictionary entry.
    pub fn patterns(&self) -> usize {
        self.automaton.patterns_len()
    }

    /// Heap memory of the automaton.
    pub fn memory_bytes(&self) -> usize {
        self.automaton.memory_usage()
    }

    pub fn catalogs(&self) -> &Catalogs {
        &self.catalogs
    }

    /// Entities of `article`: from its text, merged with the tags its record carried.
    pub fn extract(&self, article: &Article) -> (Entities, Vec<UnknownTag>) {
        let (entities, unknown, _) = self.extract_traced(article, None);
        (entities, unknown)
    }

    /// The entities of `article`; per entity, each surface form found with the rule that kept
    /// or rejected it, in text order; and what the topic model made of each of its topics,
    /// with the features that weighed most.
    pub fn explain(&self, article: &Article) -> (Entities, Vec<Decision>, Vec<TopicVerdict>) {
        let mut decisions = Vec::new();
        let (entities, _, verdicts) = self.extract_traced(article, Some(&mut decisions));
        (entities, decisions, verdicts)
    }

    /// The topic model's features of `article` by name, for training it: phrase scores come
    /// from topics.toml as extraction scores them.
    pub fn topic_features(
        &self,
        article: &Article,
        settings: &crate::schema::FeatureSettings,
    ) -> Vec<(String, f32)> {
        let (text, title_len) = article.extraction_text();
        let (found, _) = self.collect(article, &text, title_len, &mut None);
        let scores = found.topic_scores();
        let topics = &self.dictionaries.topics.topics;
        let named: Vec<(&str, f32)> = (topics.iter())
            .zip(scores)
            .map(|(topic, score)| (topic.key.as_str(), score))
            .collect();
        named_features(
            TopicText {
                text: &text,
                title_len,
            },
            &named,
            settings,
        )
    }

    fn extract_traced(
        &self,
        article: &Article,
        mut trace: Option<&mut Vec<Decision>>,
    ) -> (Entities, Vec<UnknownTag>, Vec<TopicVerdict>) {
        let (text, title_len) = article.extraction_text();
        let (found, unknown) = self.collect(article, &text, title_len, &mut trace);
        let verdicts = match &self.topic_model {
            Some(model) => model.decide(
                TopicText {
                    text: &text,
                    title_len,
                },
                &found.topic_scores(),
                trace.is_some(),
            ),
            None => Vec::new(),
        };
        (found.finish(&verdicts), unknown, verdicts)
    }

    /// Every mention in `text` (the article's extraction text), with the tags its record
    /// carried.
    fn collect(
        &self,
        article: &Article,
        text: &str,
        title_len: usize,
        trace: &mut Option<&mut Vec<Decision>>,
    ) -> (entities::Collector<'_>, Vec<UnknownTag>) {
        let body_start = text.len() - article.body.len();
        let (parts, dateline) = text_parts(text, title_len, body_start);
        let dateline_country = dateline.as_ref().and_then(|d| self.dateline_country(d));
        let former = self.former_states(article.published);
        // For explaining only: which country keys now counted for another state then.
        let formerly: HashMap<&str, &str> = match trace {
            Some(_) => former
                .iter()
                .map(|(&now, &then)| {
                    let countries = &self.dictionaries.countries;
                    (countries[now].key.as_str(), countries[then].key.as_str())
                })
                .collect(),
            None => HashMap::new(),
        };
        let mut found = entities::Collector::new(
            &self.dictionaries,
            &self.region_table,
            &self.topic_table,
            parts.clone(),
            former,
        );
        if let (Some(country), Some(dateline)) = (dateline_country, &dateline) {
            let target = Target::Country(country);
            found.add(&target, dateline.place, parts.dateline.start);
            let written = match dateline.qualifier {
                Some(qualifier) => format!("{}, {qualifier}", dateline.place),
                None => dateline.place.to_owned(),
            };
            self.decide(
                trace,
                &target,
                &written,
                parts.dateline.start,
                Ok("dateline"),
            );
        }
        // A resolved dateline says where the story was filed; names inside it say nothing more.
        let skip_places_in = if dateline_country.is_some() {
            parts.dateline.clone()
        } else {
            0..0
        };
        let context = context::Context::new(text, title_len);
        let mut at = 0;
        let mut previous_is_word = false;
        for (start, c) in text.char_indices() {
            let starts_word = !previous_is_word;
            previous_is_word = c.is_alphanumeric();
            if !starts_word || start < at || !self.first_bytes[usize::from(text.as_bytes()[start])]
            {
                continue;
            }
            let mut candidate = self.longest_match(text, start..text.len());
            at = loop {
                // Nothing accepted starts here: matches inside this one start words of their own.
                let Some(current) = candidate else {
                    break start;
                };
                if skip_places_in.contains(&current.start()) {
                    if trace.is_some()
                        && patterns::on_word_boundaries(text, current.start(), current.end())
                    {
                        let rule = Err("inside a dateline already resolved");
                        for variant in self.patterns.variants(current.pattern().as_usize()) {
                            for target in &variant.targets {
                                let surface = &text[current.start()..current.end()];
                                self.decide(trace, target, surface, current.start(), rule);
                            }
                        }
                    }
                    break current.end();
                }
                if let Some(end) = self.record(text, &context, current, &mut found, trace) {
                    break end.max(next_char_boundary(text, current.start()));
                }
                candidate = self.shorter_match(text, current);
            };
        }
        let unknown = self.merge_tags(article, &mut found);
        if let Some(decisions) = trace {
            for decision in decisions
                .iter_mut()
                .filter(|d| d.kept && d.field == "country")
            {
                if let Some(then) = formerly.get(decision.key.as_str()) {
                    decision
                        .rule
                        .push_str(&format!("; counts for {then} at the article's date"));
                }
            }
        }
        (found, unknown)
    }

    /// Countries that meant another state on `published` (Russia → the Soviet Union in 1987).
    fn former_states(&self, published: Option<DateTime<Utc>>) -> HashMap<usize, usize> {
        let Some(published) = published.map(|date| date.date_naive()) else {
            return HashMap::new();
        };
        self.eras
            .iter()
            .filter(|(until, _, _)| published < *until)
            .flat_map(|(_, meant, countries)| countries.iter().map(|country| (*country, *meant)))
            .collect()
    }

    /// The country a dateline was filed from: its qualifier's (`ROCHESTER, N.Y.`,
    /// `KHARKIV, Ukraine`), else its place's.
    fn dateline_country(&self, dateline: &dateline::Dateline) -> Option<usize> {
        let place = self.place_country(dateline.place);
        let Some(qualifier) = dateline.qualifier else {
            return place;
        };
        // `SAVANNAH, Georgia` is the US state; `TBILISI, Georgia` the country.
        if let Some(&state_country) = self.dateline_only_states.get(&normalize_alias(qualifier)) {
            let as_country = self.place_country(qualifier);
            return if place.is_some() && place == as_country {
                place
            } else {
                Some(state_country)
            };
        }
        self.place_country(qualifier).or(place)
    }

    /// The country a place name means on its own: a city, province or US state (or its
    /// abbreviation), else a country's name or capital. Codes (`PA`, `IN`) are not places:
    /// `Pa.` is Pennsylvania.
    fn place_country(&self, name: &str) -> Option<usize> {
        let normalized = normalize_alias(name);
        if let Some(&country) = self.place_names.get(&normalized) {
            return Some(country);
        }
        if normalized.len() <= 3 {
            return None;
        }
        let entry = self
            .catalogs
            .get(&DictionaryName::Countries)
            .resolve(name)?;
        self.country_index.get(&entry.key).copied()
    }

    /// The longest pattern starting where `rejected` starts and ending before it: when a
    /// pattern's case or boundaries rule it out, a shorter one may hold ("a Paris club").
    fn shorter_match(&self, text: &str, rejected: Match) -> Option<Match> {
        let shorter = previous_char_boundary(text, rejected.end());
        (shorter > rejected.start())
            .then(|| self.longest_match(text, rejected.start()..shorter))
            .flatten()
    }

    /// The longest pattern that starts at `span.start` and ends within `span`.
    ///
    /// The automaton is walked here rather than through `AhoCorasick::find`: this runs at every
    /// word start, and most walks end after a byte or two, so the call's set-up would cost more
    /// than the walk.
    fn longest_match(&self, text: &str, span: Range<usize>) -> Option<Match> {
        let automaton = &self.automaton;
        let mut state = self.start;
        let mut longest = None;
        for (at, &byte) in text.as_bytes()[..span.end]
            .iter()
            .enumerate()
            .skip(span.start)
        {
            state = automaton.next_state(Anchored::Yes, state, byte);
            if !automaton.is_special(state) {
                continue;
            }
            if automaton.is_dead(state) {
                break;
            }
            if automaton.is_match(state) {
                // A match state also carries the patterns of its failure chain, which start
                // later: the one that starts here is as long as the walk.
                let walked = at + 1 - span.start;
                let starting_here = (0..automaton.match_len(state))
                    .map(|index| automaton.match_pattern(state, index))
                    .find(|&pattern| automaton.pattern_len(pattern) == walked);
                if let Some(pattern) = starting_here {
                    longest = Some(Match::new(pattern, span.start..at + 1));
                }
            }
        }
        longest
    }

    /// Adds the targets of every spelling of the matched pattern that its case, boundary and
    /// context rules accept; returns where the accepted text ends, or `None` if none holds.
    fn record(
        &self,
        text: &str,
        context: &context::Context,
        matched: Match,
        found: &mut entities::Collector,
        trace: &mut Option<&mut Vec<Decision>>,
    ) -> Option<usize> {
        let start = matched.start();
        let mut accepted_end = None;
        for variant in self.patterns.variants(matched.pattern().as_usize()) {
            let Some(end) = variant.accepts(text, start, matched.end()) else {
                // A match inside a longer word ("ai" in "said") is no surface form at all.
                if trace.is_some() && patterns::on_word_boundaries(text, start, matched.end()) {
                    let surface = &text[start..matched.end()];
                    let rule = Err("the case does not match (capitals must be capitals)");
                    for target in &variant.targets {
                        self.decide(trace, target, surface, start, rule);
                    }
                }
                continue;
            };
            accepted_end = accepted_end.max(Some(end));
            for target in &variant.targets {
                let verdict = match *target {
                    Target::Country(index)
                        if names_a_language(&text[end..])
                            && self.is_demonym(index, &text[start..end]) =>
                    {
                        Err("a language, not the country (French-speaking, Spanish-language)")
                    }
                    Target::Country(index) if variant.ambiguous_for(index) => context
                        .ambiguous_country_holds(
                            start,
                            end,
                            index,
                            &self.dictionaries.countries[index].reject_near,
                        )
                        .map(|()| "ambiguous name, read as the country here"),
                    Target::Nothing => {
                        Ok("stoplist phrase: it holds the words and counts for nothing")
                    }
                    Target::Title(_) => {
                        if !context.in_title_case(start) {
                            self.titled_person(text, start, end, found, trace);
                        }
                        continue;
                    }
                    _ => Ok("whole words, case matches"),
                };
                self.decide(trace, target, &text[start..end], start, verdict);
                if verdict.is_ok() {
                    found.add(target, &text[start..end], start);
                }
            }
        }
        accepted_end
    }

    /// The person a title at `start..end` introduces ("Foreign Minister Arvid Kallas"), when
    /// the name is not a dictionary entry (those are matched on their own).
    fn titled_person(
        &self,
        text: &str,
        start: usize,
        end: usize,
        found: &mut entities::Collector,
        trace: &mut Option<&mut Vec<Decision>>,
    ) {
        let title = &text[start..end];
        let Some((name_start, name)) = name_after(text, end) else {
            return;
        };
        let people = self.catalogs.get(&DictionaryName::People);
        if people.resolve(name).is_some()
            || person_key(name).is_empty()
            || self.dictionary_person_at(text, name_start)
        {
            return;
        }
        found.add_titled(name, title, name_start);
        if let Some(decisions) = trace {
            decisions.push(Decision {
                field: "person".to_owned(),
                key: person_key(name),
                surface: format!("{title} {name}"),
                offset: start,
                kept: true,
                rule: "a name introduced by a title".to_owned(),
            });
        }
    }

    /// Whether a dictionary person's name starts at `at` ("Abdel Fattah el-Sisi", whose
    /// lowercase particle would cut a name read word by word).
    fn dictionary_person_at(&self, text: &str, at: usize) -> bool {
        self.longest_match(text, at..text.len())
            .is_some_and(|found| {
                self.patterns
                    .variants(found.pattern().as_usize())
                    .iter()
                    .any(|variant| {
                        variant.accepts(text, at, found.end()).is_some()
                            && variant
                                .targets
                                .iter()
                                .any(|t| matches!(t, Target::Person(_)))
                    })
            })
    }

    fn is_demonym(&self, country: usize, surface: &str) -> bool {
        self.dictionaries.countries[country]
            .demonyms
            .iter()
            .any(|demonym| demonym.eq_ignore_ascii_case(surface))
    }

    /// Records why `surface` at `offset` counted for `target` or did not, when explaining.
    fn decide(
        &self,
        trace: &mut Option<&mut Vec<Decision>>,
        target: &Target,
        surface: &str,
        offset: usize,
        verdict: Result<&str, &str>,
    ) {
        let Some(decisions) = trace else { return };
        let dictionaries = &self.dictionaries;
        let (field, key) = match *target {
            Target::Country(index) => ("country", &dictionaries.countries[index].key),
            Target::Region(index) => ("region", &dictionaries.regions[index].key),
            Target::Person(index) => ("person", &dictionaries.people[index].key),
            Target::Organization(index) => ("org", &dictionaries.organizations[index].key),
            Target::Topic { topic, .. } => ("topic", &dictionaries.topics.topics[topic].key),
            Target::Title(index) => ("title", &dictionaries.person_titles[index]),
            Target::Added { dictionary, entity } => {
                let added = &dictionaries.added[dictionary];
                (added.name.as_str(), &added.entities[entity].key)
            }
            Target::Nothing => ("stoplist", &surface.to_owned()),
        };
        let rule = match (verdict, target) {
            (Ok(rule), Target::Topic { weight, .. }) => {
                format!("{rule}; adds {weight} to the score")
            }
            (Ok(rule) | Err(rule), _) => rule.to_owned(),
        };
        decisions.push(Decision {
            field: field.to_owned(),
            key: key.clone(),
            surface: surface.to_owned(),
            offset,
            kept: verdict.is_ok(),
            rule,
        });
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
                match self.catalogs.get(&dictionary).resolve(value) {
                    Some(entry) => found.add_tag(&dictionary, &entry.key),
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

/// Where the title, dateline and lead lie in the extraction text, and the dateline itself:
/// the lead is the first paragraph after the title and dateline, at most [`MAX_LEAD_BYTES`].
fn text_parts(
    text: &str,
    title_len: usize,
    body: usize,
) -> (TextParts, Option<dateline::Dateline<'_>>) {
    let body_start = if title_len == 0 {
        0
    } else {
        (title_len + 2).min(text.len())
    };
    // The dateline opens the summary, or the body when a summary comes first (RSS).
    let dateline = [body_start, body].into_iter().find_map(|start| {
        dateline::parse(&text[start..]).map(|found| dateline::Dateline {
            place_start: start + found.place_start,
            end: start + found.end,
            ..found
        })
    });
    let dateline_range = dateline
        .as_ref()
        .map_or(body_start..body_start, |d| d.place_start..d.end);
    let lead_start = dateline_range.end;
    let lead_text = &text.as_bytes()[lead_start..];
    let lead_text = &lead_text[..lead_text.len().min(MAX_LEAD_BYTES)];
    let paragraph_end = lead_text
        .windows(2)
        .position(|pair| pair[0] == b'\n' && matches!(pair[1], b'\n' | b' ' | b'\t'))
        .unwrap_or(lead_text.len());
    let parts = TextParts {
        title: 0..title_len,
        dateline: dateline_range,
        lead: lead_start..lead_start + paragraph_end,
    };
    (parts, dateline)
}

/// The lead ends with the first paragraph, or here.
const MAX_LEAD_BYTES: usize = 400;

/// Whether the text after a demonym makes it a language: `-speaking`, `-language`,
/// ` subtitles`.
fn names_a_language(rest: &str) -> bool {
    const LANGUAGE_USES: [&str; 9] = [
        "-speaking",
        "-language",
        " language",
        "-speaker",
        " speaker",
        " subtitle",
        " translation",
        " dubbing",
        "-dubbed",
    ];
    LANGUAGE_USES.iter().any(|usage| {
        rest.get(..usage.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(usage))
    })
}

/// Capitalized words that follow a title but are no part of a name: days, months, and the
/// words of offices and bodies ("General Assembly President", "General Motors").
const NOT_NAME_WORDS: [&str; 38] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "The",
    "In",
    "President",
    "Minister",
    "Secretary",
    "General",
    "Chief",
    "Executive",
    "Assembly",
    "Council",
    "Committee",
    "Motors",
    "Party",
    "Army",
    "Bank",
    "Ministry",
    "Department",
    "Said",
    "Says",
];

/// Two to four capitalized words right after a title ending at `end`, with where they start:
/// `Sergei Lavrov` in "Foreign Minister Sergei Lavrov said". Words in capitals only (a
/// headline), days, months and words of offices are no part of a name.
fn name_after(text: &str, end: usize) -> Option<(usize, &str)> {
    let rest = text[end..].strip_prefix(' ')?;
    let mut name_end = 0;
    let mut words = 0;
    for word in rest.split(char::is_whitespace).take(4) {
        let bare = word.trim_end_matches(|c: char| !c.is_alphanumeric());
        let bare = bare
            .strip_suffix("'s")
            .or_else(|| bare.strip_suffix("’s"))
            .unwrap_or(bare);
        let is_name_word = bare.chars().next().is_some_and(char::is_uppercase)
            && bare.chars().any(char::is_lowercase)
            && bare
                .chars()
                .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '’'))
            && !NOT_NAME_WORDS.contains(&bare);
        if !is_name_word {
            break;
        }
        words += 1;
        name_end = word.as_ptr() as usize - rest.as_ptr() as usize + bare.len();
        if bare.len() < word.len() {
            break;
        }
    }
    (words >= 2).then(|| (end + 1, &rest[..name_end]))
}

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
