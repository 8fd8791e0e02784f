//! Facet values as a query names them: `country:DPRK`, `country:"North Korea"`,
//! `country:north-korea` and `country:KP` all resolve to the key `NorthKorea`.

use std::collections::HashMap;

use super::{Dictionaries, DictionaryName};

/// One value of a facet field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetEntry {
    pub key: String,
    pub name: String,
    /// Facet path, outermost first: `["Asia", "EastAsia", "NorthKorea"]`.
    pub path: Vec<String>,
}

/// The values of one dictionary with every name a query may use for them.
#[derive(Debug, Default)]
pub struct FacetCatalog {
    entries: Vec<FacetEntry>,
    by_key: HashMap<String, usize>,
    by_alias: HashMap<String, usize>,
}

/// Lowercase ASCII with accents folded and everything but letters and digits dropped.
pub fn normalize_alias(text: &str) -> String {
    deunicode::deunicode(text)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A person key from a name: `Sergei Lavrov` → `SergeiLavrov`, accents folded.
pub fn person_key(name: &str) -> String {
    deunicode::deunicode(name)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            let first = chars.next().expect("non-empty word").to_ascii_uppercase();
            std::iter::once(first).chain(chars).collect::<String>()
        })
        .collect()
}

impl FacetCatalog {
    pub fn build(dictionaries: &Dictionaries, name: &DictionaryName) -> FacetCatalog {
        let mut catalog = FacetCatalog::default();
        match name {
            DictionaryName::Countries => {
                for country in &dictionaries.countries {
                    let mut path = owned(dictionaries.region_path(&country.region));
                    path.push(country.key.clone());
                    let aliases = [&country.iso2, &country.iso3]
                        .into_iter()
                        .chain(country.surface_forms());
                    catalog.add(&country.key, &country.name, path, aliases);
                }
            }
            DictionaryName::Regions => {
                for region in &dictionaries.regions {
                    let path = owned(dictionaries.region_path(&region.key));
                    catalog.add(&region.key, &region.name, path, &region.names);
                }
            }
            DictionaryName::Topics => {
                for topic in &dictionaries.topics.topics {
                    catalog.add(&topic.key, &topic.name, vec![topic.key.clone()], &[]);
                }
            }
            DictionaryName::People => {
                for person in &dictionaries.people {
                    let path = vec![person.key.clone()];
                    catalog.add(&person.key, &person.name, path, &person.names);
                }
            }
            DictionaryName::Organizations => {
                for org in &dictionaries.organizations {
                    catalog.add(&org.key, &org.name, vec![org.key.clone()], &org.names);
                }
            }
            DictionaryName::Added(_) => {
                let added = dictionaries.added.iter().find(|added| added.name == *name);
                for entity in added.into_iter().flat_map(|added| &added.entities) {
                    let path = vec![entity.key.clone()];
                    catalog.add(&entity.key, &entity.name, path, &entity.names);
                }
            }
        }
        catalog
    }

    fn add<'a>(
        &mut self,
        key: &str,
        name: &'a str,
        path: Vec<String>,
        aliases: impl IntoIterator<Item = &'a String>,
    ) {
        let index = self.entries.len();
        self.by_key.insert(key.to_owned(), index);
        self.entries.push(FacetEntry {
            key: key.to_owned(),
            name: name.to_owned(),
            path,
        });
        // A key always means its own entry; other names go to the first entry that claims them.
        self.by_alias.insert(normalize_alias(key), index);
        for alias in std::iter::once(name).chain(aliases.into_iter().map(String::as_str)) {
            let alias = normalize_alias(alias);
            if !alias.is_empty() {
                self.by_alias.entry(alias).or_insert(index);
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&FacetEntry> {
        self.by_key.get(key).map(|&index| &self.entries[index])
    }

    pub fn resolve(&self, value: &str) -> Option<&FacetEntry> {
        let lookup = |value: &str| self.by_alias.get(&normalize_alias(value));
        let without_article = value
            .get(..4)
            .filter(|head| head.eq_ignore_ascii_case("the "))
            .map(|_| &value[4..]);
        lookup(value)
            .or_else(|| without_article.and_then(lookup))
            .map(|&index| &self.entries[index])
    }

    /// Up to `limit` keys whose names are closest to `value`, closest first.
    pub fn suggest(&self, value: &str, limit: usize) -> Vec<&str> {
        let wanted = normalize_alias(value);
        let max_distance = (wanted.len() / 3).max(2);
        let mut scored: Vec<(usize, &str)> = self
            .by_alias
            .iter()
            .filter_map(|(alias, &index)| {
                let distance = edit_distance(&wanted, alias);
                let prefix_match = wanted.len() >= 3 && alias.starts_with(&wanted);
                (distance <= max_distance || prefix_match)
                    .then(|| (distance, self.entries[index].key.as_str()))
            })
            .collect();
        scored.sort();
        let mut keys: Vec<&str> = Vec::new();
        for (_, key) in scored {
            if !keys.contains(&key) {
                keys.push(key);
            }
            if keys.len() == limit {
                break;
            }
        }
        keys
    }
}

/// The catalogs of every dictionary.
#[derive(Debug)]
pub struct Catalogs {
    by_dictionary: HashMap<DictionaryName, FacetCatalog>,
}

impl Catalogs {
    pub fn build(dictionaries: &Dictionaries) -> Catalogs {
        let added = dictionaries.added.iter().map(|added| added.name.clone());
        let by_dictionary = DictionaryName::BUILT_IN
            .into_iter()
            .chain(added)
            .map(|name| {
                let catalog = FacetCatalog::build(dictionaries, &name);
                (name, catalog)
            })
            .collect();
        Catalogs { by_dictionary }
    }

    /// The catalog of a dictionary of the schema these catalogs were built from.
    pub fn get(&self, name: &DictionaryName) -> &FacetCatalog {
        &self.by_dictionary[name]
    }
}

fn owned(path: Vec<&str>) -> Vec<String> {
    path.into_iter().map(str::to_owned).collect()
}

/// Levenshtein distance over bytes (aliases are normalized ASCII).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    fn countries() -> FacetCatalog {
        let schema = Schema::builtin().unwrap();
        FacetCatalog::build(&schema.dictionaries, &DictionaryName::Countries)
    }

    #[test]
    fn aliases_case_spacing_and_codes_resolve_to_one_key() {
        let catalog = countries();
        for value in [
            "NorthKorea",
            "DPRK",
            "North Korea",
            "north-korea",
            "KP",
            "PRK",
            "Pyongyang",
        ] {
            let entry = catalog
                .resolve(value)
                .unwrap_or_else(|| panic!("{value} unresolved"));
            assert_eq!(entry.key, "NorthKorea", "{value}");
        }
    }

    #[test]
    fn seats_of_government_resolve_with_or_without_the_article() {
        let catalog = countries();
        assert_eq!(catalog.resolve("the Kremlin").unwrap().key, "Russia");
        assert_eq!(catalog.resolve("Kremlin").unwrap().key, "Russia");
    }

    #[test]
    fn accents_fold() {
        assert_eq!(normalize_alias("Türkiye"), "turkiye");
        assert_eq!(countries().resolve("Türkiye").unwrap().key, "Turkey");
    }

    #[test]
    fn country_path_runs_through_its_regions() {
        let catalog = countries();
        let entry = catalog.resolve("NorthKorea").unwrap();
        assert_eq!(entry.path, ["Asia", "EastAsia", "NorthKorea"]);
    }

    #[test]
    fn suggestions_are_nearest_keys() {
        assert!(countries().suggest("Nort Korea", 3).contains(&"NorthKorea"));
        assert!(countries().suggest("Rusia", 3).contains(&"Russia"));
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
