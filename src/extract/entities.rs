//! The entities of one article, as `geonews extract` prints them and the index stores them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::patterns::Target;
use crate::schema::{Dictionaries, DictionaryName};

/// Evidence recorded for a tag the input record carried rather than the text.
pub const TAGGED_EVIDENCE: &str = "(tagged in input)";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entities {
    pub countries: Vec<CountryMention>,
    pub regions: Vec<RegionMention>,
    pub topics: Vec<TopicMention>,
    pub people: Vec<EntityMention>,
    pub organizations: Vec<EntityMention>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountryMention {
    pub key: String,
    pub iso2: String,
    pub name: String,
    pub mentions: u32,
    /// Byte offset of the first mention in title + summary + body.
    pub first_offset: Option<usize>,
    /// The distinct surface forms found, in order of first appearance.
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionMention {
    pub key: String,
    pub name: String,
    /// Mentions of the region itself in the text.
    pub mentions: u32,
    pub evidence: Vec<String>,
    /// Countries of the article that lie in this region.
    pub countries: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicMention {
    pub key: String,
    pub name: String,
    pub score: f32,
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityMention {
    pub key: String,
    pub name: String,
    pub mentions: u32,
    pub first_offset: Option<usize>,
    pub evidence: Vec<String>,
}

impl Entities {
    /// Keys of one facet field, most prominent first.
    pub fn keys(&self, dictionary: DictionaryName) -> Vec<&str> {
        match dictionary {
            DictionaryName::Countries => self.countries.iter().map(|c| c.key.as_str()).collect(),
            DictionaryName::Regions => self.regions.iter().map(|r| r.key.as_str()).collect(),
            DictionaryName::Topics => self.topics.iter().map(|t| t.key.as_str()).collect(),
            DictionaryName::People => self.people.iter().map(|p| p.key.as_str()).collect(),
            DictionaryName::Organizations => {
                self.organizations.iter().map(|o| o.key.as_str()).collect()
            }
        }
    }
}

#[derive(Debug, Default)]
struct Tally {
    mentions: u32,
    first_offset: Option<usize>,
    evidence: Vec<String>,
    score: f32,
}

impl Tally {
    fn add(&mut self, surface: &str, offset: Option<usize>, score: f32) {
        self.mentions += u32::from(offset.is_some());
        if self.first_offset.is_none() {
            self.first_offset = offset;
        }
        if !self.evidence.iter().any(|seen| seen == surface) {
            self.evidence.push(surface.to_owned());
        }
        self.score += score;
    }
}

/// Accumulates matches of one article, by dictionary and entry index.
pub struct Collector<'a> {
    dictionaries: &'a Dictionaries,
    title_len: usize,
    countries: BTreeMap<usize, Tally>,
    regions: BTreeMap<usize, Tally>,
    people: BTreeMap<usize, Tally>,
    organizations: BTreeMap<usize, Tally>,
    topics: BTreeMap<usize, Tally>,
}

impl<'a> Collector<'a> {
    pub fn new(dictionaries: &'a Dictionaries, title_len: usize) -> Collector<'a> {
        Collector {
            dictionaries,
            title_len,
            countries: BTreeMap::new(),
            regions: BTreeMap::new(),
            people: BTreeMap::new(),
            organizations: BTreeMap::new(),
            topics: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, target: &Target, surface: &str, offset: usize) {
        let at = Some(offset);
        match *target {
            Target::Country(index) => self
                .countries
                .entry(index)
                .or_default()
                .add(surface, at, 0.0),
            Target::Region(index) => self.regions.entry(index).or_default().add(surface, at, 0.0),
            Target::Person(index) => self.people.entry(index).or_default().add(surface, at, 0.0),
            Target::Organization(index) => self
                .organizations
                .entry(index)
                .or_default()
                .add(surface, at, 0.0),
            Target::Topic { topic, weight } => {
                let in_title = offset < self.title_len;
                let score = if in_title {
                    weight * self.dictionaries.topics.title_weight
                } else {
                    weight
                };
                self.topics
                    .entry(topic)
                    .or_default()
                    .add(&surface.to_lowercase(), at, score);
            }
            Target::Nothing => {}
        }
    }

    /// A tag from the input record: kept whatever the text says.
    pub fn add_tag(&mut self, dictionary: DictionaryName, key: &str) {
        let dictionaries = self.dictionaries;
        let (tallies, position) = match dictionary {
            DictionaryName::Countries => (
                &mut self.countries,
                dictionaries.countries.iter().position(|c| c.key == key),
            ),
            DictionaryName::Regions => (
                &mut self.regions,
                dictionaries.regions.iter().position(|r| r.key == key),
            ),
            DictionaryName::People => (
                &mut self.people,
                dictionaries.people.iter().position(|p| p.key == key),
            ),
            DictionaryName::Organizations => (
                &mut self.organizations,
                dictionaries.organizations.iter().position(|o| o.key == key),
            ),
            DictionaryName::Topics => (
                &mut self.topics,
                dictionaries.topics.topics.iter().position(|t| t.key == key),
            ),
        };
        if let Some(index) = position {
            // A tagged topic always reaches the threshold.
            let score = dictionaries.topics.threshold;
            tallies
                .entry(index)
                .or_default()
                .add(TAGGED_EVIDENCE, None, score);
        }
    }

    pub fn finish(self) -> Entities {
        let dictionaries = self.dictionaries;
        let mut countries: Vec<CountryMention> = self
            .countries
            .into_iter()
            .map(|(index, tally)| {
                let country = &dictionaries.countries[index];
                CountryMention {
                    key: country.key.clone(),
                    iso2: country.iso2.clone(),
                    name: country.name.clone(),
                    mentions: tally.mentions,
                    first_offset: tally.first_offset,
                    evidence: tally.evidence,
                }
            })
            .collect();
        countries.sort_by_key(|c| (std::cmp::Reverse(c.mentions), c.first_offset));
        let regions = region_mentions(dictionaries, &countries, self.regions);
        let threshold = dictionaries.topics.threshold;
        let mut topics: Vec<TopicMention> = self
            .topics
            .into_iter()
            .filter(|(_, tally)| tally.score >= threshold)
            .map(|(index, tally)| {
                let topic = &dictionaries.topics.topics[index];
                TopicMention {
                    key: topic.key.clone(),
                    name: topic.name.clone(),
                    score: (tally.score * 100.0).round() / 100.0,
                    evidence: tally.evidence,
                }
            })
            .collect();
        topics.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
        let people = mentions(self.people, |i| {
            (&dictionaries.people[i].key, &dictionaries.people[i].name)
        });
        let organizations = mentions(self.organizations, |i| {
            let org = &dictionaries.organizations[i];
            (&org.key, &org.name)
        });
        Entities {
            countries,
            regions,
            topics,
            people,
            organizations,
        }
    }
}

fn mentions<'d>(
    tallies: BTreeMap<usize, Tally>,
    describe: impl Fn(usize) -> (&'d String, &'d String),
) -> Vec<EntityMention> {
    let mut mentions: Vec<EntityMention> = tallies
        .into_iter()
        .map(|(index, tally)| {
            let (key, name) = describe(index);
            EntityMention {
                key: key.clone(),
                name: name.clone(),
                mentions: tally.mentions,
                first_offset: tally.first_offset,
                evidence: tally.evidence,
            }
        })
        .collect();
    mentions.sort_by_key(|m| (std::cmp::Reverse(m.mentions), m.first_offset));
    mentions
}

/// The mention of region `key` (a key from `region_path`, so it exists).
fn region_entry<'m>(
    regions: &'m mut BTreeMap<String, RegionMention>,
    dictionaries: &Dictionaries,
    key: &str,
) -> &'m mut RegionMention {
    regions.entry(key.to_owned()).or_insert_with(|| {
        let region = dictionaries
            .regions
            .iter()
            .find(|region| region.key == key)
            .expect("region paths hold known keys");
        RegionMention {
            key: region.key.clone(),
            name: region.name.clone(),
            mentions: 0,
            evidence: Vec::new(),
            countries: Vec::new(),
        }
    })
}

/// Regions named in the text, and every region (with its ancestors) of the article's countries.
fn region_mentions(
    dictionaries: &Dictionaries,
    countries: &[CountryMention],
    direct: BTreeMap<usize, Tally>,
) -> Vec<RegionMention> {
    let mut regions: BTreeMap<String, RegionMention> = BTreeMap::new();
    for (index, tally) in direct {
        let key = &dictionaries.regions[index].key;
        for ancestor in dictionaries.region_path(key) {
            let region = region_entry(&mut regions, dictionaries, ancestor);
            if ancestor == key {
                region.mentions = tally.mentions;
                region.evidence = tally.evidence.clone();
            }
        }
    }
    for country in countries {
        let Some(definition) = dictionaries.countries.iter().find(|c| c.key == country.key) else {
            continue;
        };
        let groupings = dictionaries
            .regions
            .iter()
            .filter(|region| region.members.contains(&country.key))
            .map(|region| region.key.as_str());
        let mut ancestors: Vec<&str> = std::iter::once(definition.region.as_str())
            .chain(groupings)
            .flat_map(|key| dictionaries.region_path(key))
            .collect();
        ancestors.sort_unstable();
        ancestors.dedup();
        for ancestor in ancestors {
            let region = region_entry(&mut regions, dictionaries, ancestor);
            region.countries.push(country.key.clone());
        }
    }
    let mut regions: Vec<RegionMention> = regions.into_values().collect();
    regions.sort_by_key(|r| std::cmp::Reverse(r.mentions + r.countries.len() as u32));
    regions
}
