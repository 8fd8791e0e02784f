use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{DictionaryName, SchemaError, TopicModelSpec, invalid, parse_toml};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub key: String,
    pub name: String,
    pub parent: Option<String>,
    #[serde(default)]
    pub names: Vec<String>,
    /// Countries of a grouping outside the UN tree (`MiddleEast`, `Sahel`).
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Country {
    pub key: String,
    pub name: String,
    pub iso2: String,
    pub iso3: String,
    pub region: String,
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub demonyms: Vec<String>,
    #[serde(default)]
    pub capitals: Vec<String>,
    #[serde(default)]
    pub metonyms: Vec<String>,
    #[serde(default)]
    pub dissolved: bool,
    /// Surface forms that are also common words, first names or other places.
    #[serde(default)]
    pub ambiguous: Vec<String>,
    /// Words whose presence in an article means the ambiguous forms refer to something else.
    #[serde(default)]
    pub reject_near: Vec<String>,
}

impl Country {
    /// Every name running text may use for the country: its names, demonyms, capitals and
    /// metonyms (`the Kremlin`).
    pub fn surface_forms(&self) -> impl Iterator<Item = &String> {
        self.names
            .iter()
            .chain(&self.demonyms)
            .chain(&self.capitals)
            .chain(&self.metonyms)
    }
}

/// Before `until`, mentions of `countries` meant the state `meant` (the Soviet Union).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Era {
    pub meant: String,
    pub until: chrono::NaiveDate,
    pub countries: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryFile {
    #[serde(default)]
    era: Vec<Era>,
}

/// A city or province that names its country: `Aleppo`, `Crimea`, `California`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    pub name: String,
    /// The key of its country in countries.toml.
    pub country: String,
    pub kind: PlaceKind,
    pub population: Option<u64>,
    #[serde(default)]
    pub names: Vec<String>,
    /// Dateline abbreviations of a state or province (`Calif.`, `N.Y.`, `Que.`): read only
    /// after a dateline's place.
    #[serde(default)]
    pub abbreviations: Vec<String>,
    /// The name means something else in running text (Georgia the country): only the
    /// abbreviations are read, in datelines.
    #[serde(default)]
    pub dateline_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlaceKind {
    City,
    Subdivision,
    UsState,
}

impl Place {
    /// Every name running text may use for the place.
    pub fn surfaces(&self) -> impl Iterator<Item = &String> {
        let names = (!self.dateline_only).then_some(std::iter::once(&self.name).chain(&self.names));
        names.into_iter().flatten()
    }
}

/// The places of places.toml, each checked to name a country of `dictionaries` and to have
/// names with a letter or digit.
pub(super) fn parse_places(
    text: &str,
    dictionaries: &Dictionaries,
) -> Result<Vec<Place>, SchemaError> {
    let places = parse_toml::<PlacesFile>("places.toml", text)?.place;
    let countries: HashSet<&str> = dictionaries
        .countries
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    for place in &places {
        if !countries.contains(place.country.as_str()) {
            return Err(invalid(
                "places.toml",
                format!("`{}` names unknown country `{}`", place.name, place.country),
            ));
        }
        if let Some(empty) = place
            .surfaces()
            .chain(&place.abbreviations)
            .find(|name| !name.chars().any(char::is_alphanumeric))
        {
            return Err(invalid(
                "places.toml",
                format!("`{}` has a name without letters: {empty:?}", place.name),
            ));
        }
    }
    Ok(places)
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub names: Vec<String>,
    pub country: Option<String>,
    pub role: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub names: Vec<String>,
    pub country: Option<String>,
    pub kind: Option<String>,
}

/// An entity of a dictionary a schema adds (`weapons.toml`), found by its names alone.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NamedEntity {
    pub key: String,
    pub name: String,
    /// Other names running text uses; the name itself is always one.
    #[serde(default)]
    pub names: Vec<String>,
    pub country: Option<String>,
}

impl NamedEntity {
    pub fn surface_forms(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.name).chain(&self.names)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedEntitiesFile {
    entity: Vec<NamedEntity>,
}

/// A dictionary a schema adds by naming it in a facet field of fields.toml: `weapons` is
/// read from `weapons.toml`, a list of `[[entity]]` tables.
#[derive(Debug, Clone, Serialize)]
pub struct AddedDictionary {
    pub name: DictionaryName,
    pub entities: Vec<NamedEntity>,
}

impl AddedDictionary {
    pub(super) fn parse(name: DictionaryName, text: &str) -> Result<AddedDictionary, SchemaError> {
        let entities = parse_toml::<NamedEntitiesFile>(&name.file_name(), text)?.entity;
        Ok(AddedDictionary { name, entities })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Phrase {
    pub text: String,
    pub weight: f32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub key: String,
    pub name: String,
    /// Broader topics this one rolls up to: a ceasefire article is about armed conflict too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    #[serde(default)]
    pub gdelt: Vec<String>,
    pub phrases: Vec<Phrase>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSet {
    /// An article gets a topic when the topic's score reaches this.
    pub threshold: f32,
    /// A phrase in the title counts this many times its weight.
    pub title_weight: f32,
    #[serde(rename = "topic")]
    pub topics: Vec<Topic>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoplistFile {
    phrases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionsFile {
    region: Vec<Region>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountriesFile {
    country: Vec<Country>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlacesFile {
    #[serde(default)]
    place: Vec<Place>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeopleFile {
    /// Words that introduce a person's name: "Foreign Minister Sergei Lavrov".
    #[serde(default)]
    titles: Vec<String>,
    person: Vec<Person>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganizationsFile {
    organization: Vec<Organization>,
}

/// The entity dictionaries, validated against each other.
#[derive(Debug, Clone, Serialize)]
pub struct Dictionaries {
    pub regions: Vec<Region>,
    pub countries: Vec<Country>,
    pub eras: Vec<Era>,
    pub people: Vec<Person>,
    /// Titles that introduce the names of people outside the dictionary.
    pub person_titles: Vec<String>,
    pub organizations: Vec<Organization>,
    pub topics: TopicSet,
    /// The learned classifiers that decide the topics they name (topic-model.toml).
    pub topic_model: TopicModelSpec,
    /// Phrases that contain an entity's name but do not refer to it.
    pub stoplist: Vec<String>,
    /// Dictionaries the schema adds, in the order fields.toml names them. Left out of the
    /// fingerprint when there are none, as before there could be any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<AddedDictionary>,
}

impl Dictionaries {
    /// The dictionaries from the texts of their files, by file name.
    pub(super) fn parse<'t>(
        text_of: impl Fn(&str) -> &'t str,
        added: Vec<AddedDictionary>,
    ) -> Result<Dictionaries, SchemaError> {
        let people = parse_toml::<PeopleFile>("people.toml", text_of("people.toml"))?;
        let dictionaries = Dictionaries {
            regions: parse_toml::<RegionsFile>("regions.toml", text_of("regions.toml"))?.region,
            countries: parse_toml::<CountriesFile>("countries.toml", text_of("countries.toml"))?
                .country,
            eras: parse_toml::<HistoryFile>("history.toml", text_of("history.toml"))?.era,
            people: people.person,
            person_titles: people.titles,
            organizations: parse_toml::<OrganizationsFile>(
                "organizations.toml",
                text_of("organizations.toml"),
            )?
            .organization,
            topics: parse_toml("topics.toml", text_of("topics.toml"))?,
            topic_model: parse_toml("topic-model.toml", text_of("topic-model.toml"))?,
            stoplist: parse_toml::<StoplistFile>("stoplist.toml", text_of("stoplist.toml"))?
                .phrases,
            added,
        };
        dictionaries.validate()?;
        Ok(dictionaries)
    }

    /// The chain of region keys from the top level down to `key` itself.
    pub fn region_path<'s>(&'s self, key: &str) -> Vec<&'s str> {
        let find = |key: &str| self.regions.iter().find(|region| region.key == key);
        let mut path = Vec::new();
        let mut current = find(key);
        while let Some(region) = current {
            path.push(region.key.as_str());
            if path.len() > self.regions.len() {
                break; // a cycle, reported by validation
            }
            current = region.parent.as_deref().and_then(find);
        }
        path.reverse();
        path
    }

    /// Every topic above `key`, nearest first, each once: its parents, their parents, and so
    /// on up to the top level. A cycle, which validation rejects, ends the walk.
    pub fn topic_ancestors<'s>(&'s self, key: &str) -> Vec<&'s str> {
        let parents_of = |key: &str| {
            let topic = self.topics.topics.iter().find(|topic| topic.key == key);
            topic.into_iter().flat_map(|topic| &topic.parents)
        };
        let mut ancestors: Vec<&str> = Vec::new();
        let mut next = 0;
        ancestors.extend(parents_of(key).map(String::as_str));
        while let Some(&current) = ancestors.get(next) {
            next += 1;
            for parent in parents_of(current) {
                if !ancestors.contains(&parent.as_str()) {
                    ancestors.push(parent);
                }
            }
        }
        ancestors
    }

    fn validate(&self) -> Result<(), SchemaError> {
        let region_keys = unique_keys("regions.toml", self.regions.iter().map(|r| &r.key))?;
        let country_keys = unique_keys("countries.toml", self.countries.iter().map(|c| &c.key))?;
        unique_keys("people.toml", self.people.iter().map(|p| &p.key))?;
        unique_keys(
            "organizations.toml",
            self.organizations.iter().map(|o| &o.key),
        )?;
        let topic_keys = unique_keys("topics.toml", self.topics.topics.iter().map(|t| &t.key))?;

        self.validate_region_tree(&region_keys)?;
        self.topic_model.validate(&self.topics)?;
        self.validate_topic_tree(&topic_keys)?;
        self.validate_surface_forms()?;
        for region in &self.regions {
            if let Some(member) = region
                .members
                .iter()
                .find(|m| !country_keys.contains(m.as_str()))
            {
                return Err(invalid(
                    "regions.toml",
                    format!("region `{}` lists unknown country `{member}`", region.key),
                ));
            }
        }
        for country in &self.countries {
            if !region_keys.contains(country.region.as_str()) {
                return Err(invalid(
                    "countries.toml",
                    format!(
                        "country `{}` names unknown region `{}`",
                        country.key, country.region
                    ),
                ));
            }
        }
        for era in &self.eras {
            if let Some(unknown) = std::iter::once(&era.meant)
                .chain(&era.countries)
                .find(|key| !country_keys.contains(key.as_str()))
            {
                return Err(invalid(
                    "history.toml",
                    format!(
                        "the era of `{}` names unknown country `{unknown}`",
                        era.meant
                    ),
                ));
            }
        }
        for added in &self.added {
            unique_keys(
                &added.name.file_name(),
                added.entities.iter().map(|e| &e.key),
            )?;
        }
        let people_countries = self.people.iter().map(|p| (&p.key, p.country.as_ref()));
        let org_countries = self
            .organizations
            .iter()
            .map(|o| (&o.key, o.country.as_ref()));
        let added_countries = self.added.iter().map(|added| {
            let references = added.entities.iter().map(|e| (&e.key, e.country.as_ref()));
            (added.name.file_name(), references.collect::<Vec<_>>())
        });
        let built_in = [
            (
                "people.toml".to_owned(),
                people_countries.collect::<Vec<_>>(),
            ),
            ("organizations.toml".to_owned(), org_countries.collect()),
        ];
        for (file, references) in built_in.into_iter().chain(added_countries) {
            for (key, country) in references {
                if let Some(country) = country
                    && !country_keys.contains(country.as_str())
                {
                    return Err(invalid(
                        &file,
                        format!("`{key}` names unknown country `{country}`"),
                    ));
                }
            }
        }
        self.validate_topics()
    }

    /// Every surface form must hold a letter or digit: an empty one would match everywhere.
    fn validate_surface_forms(&self) -> Result<(), SchemaError> {
        let added = self.added.iter().map(|added| {
            let forms = added.entities.iter().flat_map(NamedEntity::surface_forms);
            (added.name.file_name(), forms.collect::<Vec<_>>())
        });
        let forms = [
            (
                "regions.toml",
                self.regions
                    .iter()
                    .flat_map(|r| &r.names)
                    .collect::<Vec<_>>(),
            ),
            (
                "countries.toml",
                self.countries
                    .iter()
                    .flat_map(Country::surface_forms)
                    .collect(),
            ),
            (
                "people.toml",
                self.people.iter().flat_map(|p| &p.names).collect(),
            ),
            (
                "organizations.toml",
                self.organizations.iter().flat_map(|o| &o.names).collect(),
            ),
            (
                "topics.toml",
                self.topics
                    .topics
                    .iter()
                    .flat_map(|t| t.phrases.iter().map(|p| &p.text))
                    .collect(),
            ),
            ("stoplist.toml", self.stoplist.iter().collect()),
        ]
        .map(|(file, forms)| (file.to_owned(), forms));
        for (file, forms) in forms.into_iter().chain(added) {
            if let Some(form) = forms.into_iter().find(|form| {
                !deunicode::deunicode(form)
                    .chars()
                    .any(char::is_alphanumeric)
            }) {
                return Err(invalid(
                    &file,
                    format!("surface form {form:?} has no letter or digit"),
                ));
            }
        }
        Ok(())
    }

    fn validate_region_tree(&self, region_keys: &HashSet<&str>) -> Result<(), SchemaError> {
        for region in &self.regions {
            if let Some(parent) = &region.parent
                && !region_keys.contains(parent.as_str())
            {
                return Err(invalid(
                    "regions.toml",
                    format!("region `{}` names unknown parent `{parent}`", region.key),
                ));
            }
            if self.region_path(&region.key).len() > self.regions.len() {
                return Err(invalid(
                    "regions.toml",
                    format!("region `{}` is its own ancestor", region.key),
                ));
            }
        }
        Ok(())
    }

    /// Every parent is a topic, and no topic is its own ancestor.
    fn validate_topic_tree(&self, topic_keys: &HashSet<&str>) -> Result<(), SchemaError> {
        for topic in &self.topics.topics {
            if let Some(parent) = topic
                .parents
                .iter()
                .find(|parent| !topic_keys.contains(parent.as_str()))
            {
                return Err(invalid(
                    "topics.toml",
                    format!("topic `{}` names unknown parent `{parent}`", topic.key),
                ));
            }
            if self
                .topic_ancestors(&topic.key)
                .contains(&topic.key.as_str())
            {
                return Err(invalid(
                    "topics.toml",
                    format!(
                        "topic `{}` is its own ancestor: its parents lead back to it",
                        topic.key
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_topics(&self) -> Result<(), SchemaError> {
        const FILE: &str = "topics.toml";
        if self.topics.threshold <= 0.0 || self.topics.title_weight <= 0.0 {
            return Err(invalid(FILE, "threshold and title_weight must be positive"));
        }
        let mut owner_of_phrase: HashMap<&str, &str> = HashMap::new();
        for topic in &self.topics.topics {
            if topic.phrases.is_empty() {
                return Err(invalid(
                    FILE,
                    format!("topic `{}` has no phrases", topic.key),
                ));
            }
            for phrase in &topic.phrases {
                if phrase.weight <= 0.0 {
                    return Err(invalid(
                        FILE,
                        format!(
                            "topic `{}`: phrase `{}` needs a positive weight",
                            topic.key, phrase.text
                        ),
                    ));
                }
                if let Some(owner) = owner_of_phrase.insert(&phrase.text, &topic.key) {
                    return Err(invalid(
                        FILE,
                        format!(
                            "phrase `{}` belongs to both `{owner}` and `{}`",
                            phrase.text, topic.key
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn unique_keys<'a>(
    file: &str,
    keys: impl Iterator<Item = &'a String>,
) -> Result<HashSet<&'a str>, SchemaError> {
    let mut seen = HashSet::new();
    for key in keys {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(invalid(
                file,
                format!("key `{key}` must be ASCII letters, digits or hyphens"),
            ));
        }
        if !seen.insert(key.as_str()) {
            return Err(invalid(file, format!("key `{key}` is used twice")));
        }
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::FILES;

    /// The built-in dictionaries with `topics` as topics.toml.
    fn with_topics(topics: &str) -> Result<Dictionaries, SchemaError> {
        let text_of = |name: &str| {
            if name == "topics.toml" {
                return topics;
            }
            // The built-in model decides topics these tests leave out.
            if name == "topic-model.toml" {
                return "";
            }
            FILES.iter().find(|file| file.name == name).unwrap().builtin
        };
        Dictionaries::parse(text_of, Vec::new())
    }

    fn topic(key: &str, parents: &[&str]) -> String {
        format!(
            "[[topic]]\nkey = \"{key}\"\nname = \"{key}\"\nparents = {parents:?}\n\
             phrases = [{{ text = \"{key} phrase\", weight = 1.0 }}]\n"
        )
    }

    fn topics(entries: &[(&str, &[&str])]) -> String {
        let topics: String = entries.iter().map(|(k, p)| topic(k, p)).collect();
        format!("threshold = 3.0\ntitle_weight = 3.0\n{topics}")
    }

    #[test]
    fn ancestors_run_up_every_parent_nearest_first_each_once() {
        let dictionaries = with_topics(&topics(&[
            ("armed-conflict", &[]),
            ("human-rights", &[]),
            ("war-crimes", &["human-rights", "armed-conflict"]),
            ("massacres", &["war-crimes", "armed-conflict"]),
        ]))
        .unwrap();
        assert_eq!(
            dictionaries.topic_ancestors("massacres"),
            ["war-crimes", "armed-conflict", "human-rights"]
        );
        assert!(dictionaries.topic_ancestors("human-rights").is_empty());
    }

    #[test]
    fn an_unknown_parent_is_named_with_its_topic() {
        let error = with_topics(&topics(&[("ceasefire", &["diplomcy"])]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "topics.toml: topic `ceasefire` names unknown parent `diplomcy`"
        );
    }

    #[test]
    fn a_cycle_is_rejected() {
        let error = with_topics(&topics(&[("a", &["c"]), ("b", &["a"]), ("c", &["b"])]))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("topics.toml: topic `a` is its own ancestor"),
            "{error}"
        );
        let error = with_topics(&topics(&[("a", &["a"])]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("topic `a` is its own ancestor"), "{error}");
    }

    #[test]
    fn built_in_core_topics_stay_at_the_top() {
        let builtin = |name: &str| FILES.iter().find(|f| f.name == name).unwrap().builtin;
        let dictionaries = Dictionaries::parse(builtin, Vec::new()).unwrap();
        // The core topics of the annotation guide are those the built-in model decides.
        let core = &dictionaries.topic_model.topics;
        assert_eq!(core.len(), 12);
        for topic in core {
            assert!(
                dictionaries.topic_ancestors(&topic.key).is_empty(),
                "{}",
                topic.key
            );
        }
    }
}
