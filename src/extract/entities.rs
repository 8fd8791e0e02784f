//! The entities of one article, as `geonews extract` prints them and the index stores them.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::patterns::Target;
use super::topic_model::TopicVerdict;
use crate::schema::{Catalogs, Dictionaries, DictionaryName, FieldSpec, person_key};

/// Evidence recorded for a tag the input record carried rather than the text.
pub const TAGGED_EVIDENCE: &str = "(tagged in input)";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entities {
    pub countries: Vec<CountryMention>,
    pub regions: Vec<RegionMention>,
    pub topics: Vec<TopicMention>,
    pub people: Vec<EntityMention>,
    pub organizations: Vec<EntityMention>,
    /// Entities of the dictionaries a schema adds, by dictionary name (`weapons`).
    #[serde(flatten)]
    pub added: BTreeMap<String, Vec<EntityMention>>,
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
    #[serde(default)]
    pub in_title: bool,
    /// Named by the dateline (`MOSCOW, February 7. /TASS/.`).
    #[serde(default)]
    pub in_dateline: bool,
    /// Mentioned in the lead: the first paragraph of the text.
    #[serde(default)]
    pub in_lead: bool,
    /// What the article is about, not a passing mention: see [`is_salient`].
    #[serde(default)]
    pub salient: bool,
}

/// How much a country is what the article is about, rather than a passing mention: the
/// dateline counts 3, the title 2, the lead 1.5 and each mention 0.5 (up to six). A country
/// is salient when its score reaches [`SALIENT_SCORE`], when it is the only country named,
/// or, when no country reaches it, when it scores highest: an article is about something.
fn salience(country: &CountryMention) -> f32 {
    let flag = |set: bool, weight: f32| if set { weight } else { 0.0 };
    flag(country.in_dateline, 3.0)
        + flag(country.in_title, 2.0)
        + flag(country.in_lead, 1.5)
        + 0.5 * country.mentions.min(6) as f32
}

/// See [`salience`]; the weights were chosen on the Reuters-21578 gold labels, which mark
/// the countries a story is about.
const SALIENT_SCORE: f32 = 3.0;

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
    /// The summed weight of the topic's phrases (topics.toml).
    pub score: f32,
    /// For a topic the learned model decides: its probability (topic-model.toml).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f32>,
    pub evidence: Vec<String>,
    /// For a topic the article has only because it found sub-topics of it (`ceasefire` lifts
    /// `armed-conflict`), those sub-topics; its score is then the highest of theirs and its
    /// evidence empty. Empty for a topic its own phrases or a tag put here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityMention {
    pub key: String,
    pub name: String,
    pub mentions: u32,
    pub first_offset: Option<usize>,
    pub evidence: Vec<String>,
    /// A person's role: the dictionary's, or the title that introduced the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The country key a person or organization belongs to, from the dictionary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl Entities {
    /// Keys of one facet field that the article is about: salient countries; for other
    /// fields, every key.
    /// The values facet field `spec` holds for these entities: each key with its path in its
    /// dictionary's tree. People named after a title are in no dictionary: their key is their
    /// path. Keys a dictionary no longer has are left out.
    pub fn facet_values(&self, spec: &FieldSpec, catalogs: &Catalogs) -> Vec<(&str, Vec<String>)> {
        let Some(dictionary) = &spec.dictionary else {
            return Vec::new();
        };
        let catalog = catalogs.get(dictionary);
        let keys = if spec.salient_only {
            self.salient_keys(dictionary)
        } else {
            self.keys(dictionary)
        };
        keys.into_iter()
            .filter_map(|key| match catalog.get(key) {
                Some(entry) => Some((key, entry.path.clone())),
                None if *dictionary == DictionaryName::People => Some((key, vec![key.to_owned()])),
                None => None,
            })
            .collect()
    }

    pub fn salient_keys(&self, dictionary: &DictionaryName) -> Vec<&str> {
        match dictionary {
            DictionaryName::Countries => self
                .countries
                .iter()
                .filter(|country| country.salient)
                .map(|country| country.key.as_str())
                .collect(),
            _ => self.keys(dictionary),
        }
    }

    /// Keys of one facet field, most prominent first.
    pub fn keys(&self, dictionary: &DictionaryName) -> Vec<&str> {
        match dictionary {
            DictionaryName::Countries => self.countries.iter().map(|c| c.key.as_str()).collect(),
            DictionaryName::Regions => self.regions.iter().map(|r| r.key.as_str()).collect(),
            DictionaryName::Topics => self.topics.iter().map(|t| t.key.as_str()).collect(),
            other => self
                .mentions(other)
                .iter()
                .map(|m| m.key.as_str())
                .collect(),
        }
    }

    /// The people, organizations or added entities the article names; nothing for the
    /// dictionaries with mentions of their own kind (countries, regions, topics).
    pub fn mentions(&self, dictionary: &DictionaryName) -> &[EntityMention] {
        match dictionary {
            DictionaryName::People => &self.people,
            DictionaryName::Organizations => &self.organizations,
            DictionaryName::Added(name) => self.added.get(name).map_or(&[], Vec::as_slice),
            DictionaryName::Countries | DictionaryName::Regions | DictionaryName::Topics => &[],
        }
    }
}

#[derive(Debug, Default)]
struct Tally {
    mentions: u32,
    first_offset: Option<usize>,
    evidence: Vec<String>,
    score: f32,
    /// Parts of the text the mentions fell in.
    seen_in: SeenIn,
}

#[derive(Debug, Default, Clone, Copy)]
struct SeenIn {
    title: bool,
    dateline: bool,
    lead: bool,
}

/// Where the title, dateline and lead lie in an article's extraction text (byte ranges).
#[derive(Debug, Clone, Default)]
pub struct TextParts {
    pub title: Range<usize>,
    pub dateline: Range<usize>,
    pub lead: Range<usize>,
}

impl TextParts {
    fn of(&self, offset: usize) -> SeenIn {
        SeenIn {
            title: self.title.contains(&offset),
            dateline: self.dateline.contains(&offset),
            lead: self.lead.contains(&offset),
        }
    }
}

impl Tally {
    fn add(&mut self, surface: &str, offset: Option<usize>, score: f32) {
        self.mentions += u32::from(offset.is_some());
        self.first_offset = match (self.first_offset, offset) {
            (Some(first), Some(offset)) => Some(first.min(offset)),
            (first, offset) => first.or(offset),
        };
        if !self.evidence.iter().any(|seen| seen == surface) {
            self.evidence.push(surface.to_owned());
        }
        self.score += score;
    }

    fn seen(&mut self, seen: SeenIn) {
        self.seen_in.title |= seen.title;
        self.seen_in.dateline |= seen.dateline;
        self.seen_in.lead |= seen.lead;
    }
}

/// Accumulates matches of one article, by dictionary and entry index.
pub struct Collector<'a> {
    dictionaries: &'a Dictionaries,
    region_table: &'a RegionTable,
    topic_table: &'a TopicTable,
    parts: TextParts,
    /// Countries that meant another state when the article was published (Russia in 1987).
    former: HashMap<usize, usize>,
    countries: BTreeMap<usize, Tally>,
    regions: BTreeMap<usize, Tally>,
    people: BTreeMap<usize, Tally>,
    /// People outside the dictionary, named after a title: key → (name, title, tally).
    titled: BTreeMap<String, (String, String, Tally)>,
    organizations: BTreeMap<usize, Tally>,
    topics: BTreeMap<usize, Tally>,
    /// Entities of added dictionaries, by dictionary and entity index.
    added: BTreeMap<(usize, usize), Tally>,
}

impl<'a> Collector<'a> {
    pub fn new(
        dictionaries: &'a Dictionaries,
        region_table: &'a RegionTable,
        topic_table: &'a TopicTable,
        parts: TextParts,
        former: HashMap<usize, usize>,
    ) -> Collector<'a> {
        Collector {
            dictionaries,
            region_table,
            topic_table,
            parts,
            former,
            countries: BTreeMap::new(),
            regions: BTreeMap::new(),
            people: BTreeMap::new(),
            titled: BTreeMap::new(),
            organizations: BTreeMap::new(),
            topics: BTreeMap::new(),
            added: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, target: &Target, surface: &str, offset: usize) {
        let at = Some(offset);
        match *target {
            Target::Country(index) => {
                let index = self.former.get(&index).copied().unwrap_or(index);
                let tally = self.countries.entry(index).or_default();
                tally.add(surface, at, 0.0);
                tally.seen(self.parts.of(offset));
            }
            Target::Region(index) => self.regions.entry(index).or_default().add(surface, at, 0.0),
            Target::Person(index) => self.people.entry(index).or_default().add(surface, at, 0.0),
            Target::Organization(index) => self
                .organizations
                .entry(index)
                .or_default()
                .add(surface, at, 0.0),
            Target::Topic { topic, weight } => {
                let in_title = self.parts.title.contains(&offset);
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
            Target::Added { dictionary, entity } => self
                .added
                .entry((dictionary, entity))
                .or_default()
                .add(surface, at, 0.0),
            // The name after a title is added by `add_titled`.
            Target::Title(_) | Target::Nothing => {}
        }
    }

    /// A person outside the dictionary, named after `title` ("Defence Minister Arvid Kallas").
    pub fn add_titled(&mut self, name: &str, title: &str, offset: usize) {
        let (_, _, tally) = self
            .titled
            .entry(person_key(name))
            .or_insert_with(|| (name.to_owned(), title.to_owned(), Tally::default()));
        tally.add(&format!("{title} {name}"), Some(offset), 0.0);
    }

    /// A tag from the input record: kept whatever the text says.
    pub fn add_tag(&mut self, dictionary: &DictionaryName, key: &str) {
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
            // Records carry tags of the built-in dictionaries only.
            DictionaryName::Added(_) => return,
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

    /// Each topic's phrase score, by its index in topics.toml (0 where no phrase matched).
    pub fn topic_scores(&self) -> Vec<f32> {
        let mut scores = vec![0.0; self.dictionaries.topics.topics.len()];
        for (&index, tally) in &self.topics {
            scores[index] = tally.score;
        }
        scores
    }

    /// The entities found, with the topic model's `verdicts` deciding the topics they name.
    pub fn finish(self, verdicts: &[TopicVerdict]) -> Entities {
        let dictionaries = self.dictionaries;
        let mut countries: Vec<(usize, CountryMention)> = self
            .countries
            .into_iter()
            .map(|(index, tally)| {
                let country = &dictionaries.countries[index];
                let mention = CountryMention {
                    key: country.key.clone(),
                    iso2: country.iso2.clone(),
                    name: country.name.clone(),
                    mentions: tally.mentions,
                    first_offset: tally.first_offset,
                    evidence: tally.evidence,
                    in_title: tally.seen_in.title,
                    in_dateline: tally.seen_in.dateline,
                    in_lead: tally.seen_in.lead,
                    salient: false,
                };
                (index, mention)
            })
            .collect();
        let named = countries.len();
        let best = countries
            .iter()
            .map(|(_, c)| salience(c))
            .fold(0.0, f32::max);
        for (_, country) in &mut countries {
            let score = salience(country);
            country.salient = score >= SALIENT_SCORE.min(best) || named == 1;
        }
        countries.sort_by_key(|(_, c)| {
            (
                std::cmp::Reverse((c.salient, c.in_dateline || c.in_title, c.mentions)),
                c.first_offset,
            )
        });
        let regions = region_mentions(dictionaries, self.region_table, &countries, self.regions);
        let countries = countries.into_iter().map(|(_, country)| country).collect();
        let topics = topic_mentions(dictionaries, self.topics, verdicts);
        let topics = roll_up_topics(dictionaries, self.topic_table, topics);
        let mut people = mentions(self.people, |i| {
            let person = &dictionaries.people[i];
            (&person.key, &person.name, &person.role, &person.country)
        });
        people.extend(
            self.titled
                .into_iter()
                .map(|(key, (name, title, tally))| EntityMention {
                    key,
                    name,
                    mentions: tally.mentions,
                    first_offset: tally.first_offset,
                    evidence: tally.evidence,
                    role: Some(title),
                    country: None,
                }),
        );
        people.sort_by_key(|m| (std::cmp::Reverse(m.mentions), m.first_offset));
        let organizations = mentions(self.organizations, |i| {
            let org = &dictionaries.organizations[i];
            (&org.key, &org.name, &None, &org.country)
        });
        let mut added: BTreeMap<String, Vec<EntityMention>> = BTreeMap::new();
        let mut by_dictionary: BTreeMap<usize, BTreeMap<usize, Tally>> = BTreeMap::new();
        for ((dictionary, entity), tally) in self.added {
            by_dictionary
                .entry(dictionary)
                .or_default()
                .insert(entity, tally);
        }
        for (dictionary, tallies) in by_dictionary {
            let dictionary = &dictionaries.added[dictionary];
            let found = mentions(tallies, |i| {
                let entity = &dictionary.entities[i];
                (&entity.key, &entity.name, &None, &entity.country)
            });
            added.insert(dictionary.name.as_str().to_owned(), found);
        }
        Entities {
            countries,
            regions,
            topics,
            people,
            organizations,
            added,
        }
    }
}

/// The topics an article gets, by topic index: a topic the model has a classifier for when
/// the model keeps it, any other when its phrase score reaches topics.toml's threshold, and a
/// topic the input record was tagged with in any case.
fn topic_mentions(
    dictionaries: &Dictionaries,
    mut tallies: BTreeMap<usize, Tally>,
    verdicts: &[TopicVerdict],
) -> BTreeMap<usize, TopicMention> {
    let threshold = dictionaries.topics.threshold;
    let decided: HashMap<usize, &TopicVerdict> = verdicts.iter().map(|v| (v.topic, v)).collect();
    for verdict in verdicts.iter().filter(|v| v.kept) {
        tallies.entry(verdict.topic).or_default();
    }
    tallies
        .into_iter()
        .filter(|(index, tally)| {
            let tagged = tally.evidence.iter().any(|e| e == TAGGED_EVIDENCE);
            tagged
                || match decided.get(index) {
                    Some(verdict) => verdict.kept,
                    None => tally.score >= threshold,
                }
        })
        .map(|(index, tally)| {
            let topic = &dictionaries.topics.topics[index];
            let mention = TopicMention {
                key: topic.key.clone(),
                name: topic.name.clone(),
                score: round2(tally.score),
                probability: decided.get(&index).map(|v| round2(v.probability)),
                evidence: tally.evidence,
                via: Vec::new(),
            };
            (index, mention)
        })
        .collect()
}

fn round2(value: f32) -> f32 {
    (value * 100.0).round() / 100.0
}

/// The topics found, each with every ancestor, highest score first. The roll-up is the one
/// step after topics are decided, whatever decides them: an ancestor found on its own keeps
/// its score and evidence, and one found only through sub-topics names them in `via` and
/// takes the highest of their scores, so that no score is counted twice up the tree.
fn roll_up_topics(
    dictionaries: &Dictionaries,
    table: &TopicTable,
    found: BTreeMap<usize, TopicMention>,
) -> Vec<TopicMention> {
    let mut lifted: BTreeMap<usize, TopicMention> = BTreeMap::new();
    for (index, child) in &found {
        for &ancestor in &table.ancestors[*index] {
            if found.contains_key(&ancestor) {
                continue;
            }
            let parent = lifted.entry(ancestor).or_insert_with(|| {
                let topic = &dictionaries.topics.topics[ancestor];
                TopicMention {
                    key: topic.key.clone(),
                    name: topic.name.clone(),
                    score: 0.0,
                    probability: None,
                    evidence: Vec::new(),
                    via: Vec::new(),
                }
            });
            parent.score = parent.score.max(child.score);
            parent.via.push(child.key.clone());
        }
    }
    let mut topics: Vec<TopicMention> = found.into_values().chain(lifted.into_values()).collect();
    let strength = |t: &TopicMention| t.probability.unwrap_or(0.0) + t.score;
    topics.sort_by(|a, b| {
        strength(b)
            .total_cmp(&strength(a))
            .then_with(|| a.key.cmp(&b.key))
    });
    topics
}

/// Topics by index, worked out once: the ancestors of each topic, nearest first.
#[derive(Debug)]
pub struct TopicTable {
    ancestors: Vec<Vec<usize>>,
}

impl TopicTable {
    pub fn build(dictionaries: &Dictionaries) -> TopicTable {
        let topics = &dictionaries.topics.topics;
        let index_of: HashMap<&str, usize> = topics
            .iter()
            .enumerate()
            .map(|(index, topic)| (topic.key.as_str(), index))
            .collect();
        let ancestors = topics
            .iter()
            .map(|topic| {
                let keys = dictionaries.topic_ancestors(&topic.key);
                keys.into_iter().map(|key| index_of[key]).collect()
            })
            .collect();
        TopicTable { ancestors }
    }
}

/// Key, name, role and country of a dictionary entry.
type Described<'d> = (
    &'d String,
    &'d String,
    &'d Option<String>,
    &'d Option<String>,
);

fn mentions<'d>(
    tallies: BTreeMap<usize, Tally>,
    describe: impl Fn(usize) -> Described<'d>,
) -> Vec<EntityMention> {
    let mut mentions: Vec<EntityMention> = tallies
        .into_iter()
        .map(|(index, tally)| {
            let (key, name, role, country) = describe(index);
            EntityMention {
                key: key.clone(),
                name: name.clone(),
                mentions: tally.mentions,
                first_offset: tally.first_offset,
                evidence: tally.evidence,
                role: role.clone(),
                country: country.clone(),
            }
        })
        .collect();
    mentions.sort_by_key(|m| (std::cmp::Reverse(m.mentions), m.first_offset));
    mentions
}

/// Regions by index, worked out once: each region with its ancestors, and each country with
/// every region it lies in (its UN subregion, the groupings that list it, and their ancestors).
#[derive(Debug)]
pub struct RegionTable {
    paths: Vec<Vec<usize>>,
    of_country: Vec<Vec<usize>>,
}

impl RegionTable {
    pub fn build(dictionaries: &Dictionaries) -> RegionTable {
        let index_of: HashMap<&str, usize> = dictionaries
            .regions
            .iter()
            .enumerate()
            .map(|(index, region)| (region.key.as_str(), index))
            .collect();
        let path_of = |key: &str| -> Vec<usize> {
            dictionaries
                .region_path(key)
                .into_iter()
                .filter_map(|key| index_of.get(key).copied())
                .collect()
        };
        let paths = dictionaries
            .regions
            .iter()
            .map(|r| path_of(&r.key))
            .collect();
        let of_country = dictionaries
            .countries
            .iter()
            .map(|country| {
                let groupings = dictionaries
                    .regions
                    .iter()
                    .filter(|region| region.members.contains(&country.key))
                    .map(|region| region.key.as_str());
                let mut regions: Vec<usize> = std::iter::once(country.region.as_str())
                    .chain(groupings)
                    .flat_map(path_of)
                    .collect();
                regions.sort_unstable();
                regions.dedup();
                regions
            })
            .collect();
        RegionTable { paths, of_country }
    }
}

fn region_entry<'m>(
    regions: &'m mut BTreeMap<usize, RegionMention>,
    dictionaries: &Dictionaries,
    index: usize,
) -> &'m mut RegionMention {
    regions.entry(index).or_insert_with(|| {
        let region = &dictionaries.regions[index];
        RegionMention {
            key: region.key.clone(),
            name: region.name.clone(),
            mentions: 0,
            evidence: Vec::new(),
            countries: Vec::new(),
        }
    })
}

/// Regions named in the text, and every region of the article's countries.
fn region_mentions(
    dictionaries: &Dictionaries,
    table: &RegionTable,
    countries: &[(usize, CountryMention)],
    direct: BTreeMap<usize, Tally>,
) -> Vec<RegionMention> {
    let mut regions: BTreeMap<usize, RegionMention> = BTreeMap::new();
    for (index, tally) in direct {
        for &ancestor in &table.paths[index] {
            region_entry(&mut regions, dictionaries, ancestor);
        }
        let region = region_entry(&mut regions, dictionaries, index);
        region.mentions = tally.mentions;
        region.evidence = tally.evidence;
    }
    for (country, mention) in countries {
        for &index in &table.of_country[*country] {
            let region = region_entry(&mut regions, dictionaries, index);
            region.countries.push(mention.key.clone());
        }
    }
    let mut regions: Vec<RegionMention> = regions.into_values().collect();
    regions.sort_by_key(|r| std::cmp::Reverse(r.mentions + r.countries.len() as u32));
    regions
}
