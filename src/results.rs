//! What a search returns, independent of the backend that ran it.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::article::Article;
use crate::extract::Entities;
use crate::schema::{Dictionaries, DictionaryName, Region, normalize_alias};

/// The order of hits; ties keep a fixed order, so paging is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sort {
    /// BM25 relevance; newest first when the query has no free text.
    #[serde(rename = "relevance")]
    Relevance,
    /// Oldest first (`--sort date`); undated articles last.
    #[serde(rename = "date")]
    OldestFirst,
    /// Newest first (`--sort -date`); undated articles last.
    #[serde(rename = "-date")]
    NewestFirst,
}

/// The hits of one page (whole [`Hit`]s, or only their ids) and the facet counts over all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults<H = Hit> {
    pub total: u64,
    /// The stories among the matches, when hits are collapsed to one per story.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters: Option<u64>,
    pub hits: Vec<H>,
    pub facets: Vec<FacetCounts>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: String,
    /// BM25 score, when ranked by relevance.
    pub score: Option<f32>,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub source: Option<String>,
    pub url: Option<String>,
    pub author: Option<String>,
    pub language: Option<String>,
    pub snippet: Snippet,
    pub entities: Entities,
    /// The story the article is a copy of (see `dedup`), when the index tells stories apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Other copies of this story among the matches, when hits are collapsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similar: Option<u64>,
}

impl Hit {
    /// A hit showing a stored article, with its score when ranked and its snippet.
    pub fn from_stored(stored: StoredArticle, score: Option<f32>, snippet: Snippet) -> Hit {
        Hit {
            id: stored.id,
            score,
            title: stored.title,
            published: stored.published,
            source: stored.source,
            url: stored.url,
            author: stored.author,
            language: stored.language,
            snippet,
            entities: stored.entities,
            cluster: stored.cluster,
            similar: None,
        }
    }
}

/// A passage of the body with the byte ranges of the matched words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCounts {
    pub field: String,
    /// Counted as if the query's own filters on this field were absent, so that the counts
    /// show what else could be picked.
    pub multi_select: bool,
    /// Distinct values in the result set (the list below may be cut at the limit).
    pub distinct: usize,
    pub values: Vec<FacetCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCount {
    pub key: String,
    pub count: u64,
    /// Values below this one (regions: subregions, then countries), most frequent first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<FacetCount>,
    /// The topics this topic rolls up to: every article counted here is counted there too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
}

impl FacetCount {
    pub fn new(key: String, count: u64) -> FacetCount {
        FacetCount {
            key,
            count,
            children: Vec::new(),
            parents: Vec::new(),
        }
    }
}

/// Counted values as a tree by their `parents`: each value under every parent of it that is
/// among `values`, and the others at the top, in the order given. A value with two parents
/// shows under both.
pub fn nest_under_parents(values: &[FacetCount]) -> Vec<FacetCount> {
    let shown: HashSet<&str> = values.iter().map(|value| value.key.as_str()).collect();
    values
        .iter()
        .filter(|value| !value.parents.iter().any(|p| shown.contains(p.as_str())))
        .map(|root| with_children(root, values))
        .collect()
}

/// `value` with the values naming it as a parent added below the children it has.
fn with_children(value: &FacetCount, values: &[FacetCount]) -> FacetCount {
    let mut nested = value.clone();
    nested.children.extend(
        values
            .iter()
            .filter(|child| child.parents.contains(&value.key))
            .map(|child| with_children(child, values)),
    );
    nested
}

/// Values a query cannot tell apart (`Sample Times`, `SAMPLE TIMES`, `sample-times`), each
/// mapped to the spelling shown for all of them: the most frequent (ties: the first in order).
pub fn shown_spellings<'v>(
    counts: impl IntoIterator<Item = (&'v str, u64)>,
) -> HashMap<String, String> {
    let mut totals: HashMap<&str, u64> = HashMap::new();
    for (spelling, count) in counts {
        *totals.entry(spelling).or_default() += count;
    }
    let mut best: HashMap<String, (u64, &str)> = HashMap::new();
    for (&spelling, &count) in &totals {
        let (best_count, shown) = best
            .entry(normalize_alias(spelling))
            .or_insert((count, spelling));
        if count > *best_count || (count == *best_count && spelling < *shown) {
            (*best_count, *shown) = (count, spelling);
        }
    }
    totals
        .keys()
        .map(|&spelling| {
            let shown = best[&normalize_alias(spelling)].1;
            (spelling.to_owned(), shown.to_owned())
        })
        .collect()
}

/// Value counts with the spellings a query cannot tell apart counted as one.
pub fn merge_spellings(tally: HashMap<String, u64>) -> Vec<FacetCount> {
    let shown = shown_spellings(
        tally
            .iter()
            .map(|(spelling, &count)| (spelling.as_str(), count)),
    );
    let mut merged: HashMap<&str, u64> = HashMap::new();
    for (spelling, count) in &tally {
        *merged.entry(shown[spelling].as_str()).or_default() += count;
    }
    merged
        .into_iter()
        .map(|(key, count)| FacetCount::new(key.to_owned(), count))
        .collect()
}

/// Something counted, ranked by its count and then by its key.
pub trait Ranked {
    fn count(&self) -> u64;
    fn cmp_keys(&self, other: &Self) -> Ordering;
}

impl Ranked for FacetCount {
    fn count(&self) -> u64 {
        self.count
    }

    fn cmp_keys(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

impl<K: Ord> Ranked for (K, u64) {
    fn count(&self) -> u64 {
        self.1
    }

    fn cmp_keys(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

/// At most `limit` items, the highest counts first (ties by key).
pub fn most_frequent<T: Ranked>(items: impl IntoIterator<Item = T>, limit: usize) -> Vec<T> {
    let mut items: Vec<T> = items.into_iter().collect();
    items.sort_by(|a, b| b.count().cmp(&a.count()).then_with(|| a.cmp_keys(b)));
    items.truncate(limit);
    items
}

/// Region counts as a tree: top-level regions, their subregions and groupings, and under each
/// the countries counted in it; `limit` values per level, most frequent first. `regions` and
/// `countries` are complete counts of the two fields over the same articles.
pub fn region_tree(
    dictionaries: &Dictionaries,
    regions: &[FacetCount],
    countries: &[FacetCount],
    limit: usize,
) -> Vec<FacetCount> {
    let count_of = |counts: &[FacetCount]| -> HashMap<String, u64> {
        counts.iter().map(|c| (c.key.clone(), c.count)).collect()
    };
    let (region_counts, country_counts) = (count_of(regions), count_of(countries));
    let roots = dictionaries.regions.iter().filter(|r| r.parent.is_none());
    most_frequent(
        roots
            .filter_map(|root| {
                region_node(dictionaries, root, &region_counts, &country_counts, limit)
            })
            .collect::<Vec<_>>(),
        limit,
    )
}

fn region_node(
    dictionaries: &Dictionaries,
    region: &Region,
    region_counts: &HashMap<String, u64>,
    country_counts: &HashMap<String, u64>,
    limit: usize,
) -> Option<FacetCount> {
    let count = *region_counts.get(&region.key)?;
    let subregions = dictionaries
        .regions
        .iter()
        .filter(|child| child.parent.as_deref() == Some(region.key.as_str()))
        .filter_map(|child| region_node(dictionaries, child, region_counts, country_counts, limit));
    let countries = dictionaries
        .countries
        .iter()
        .filter(|country| country.region == region.key || region.members.contains(&country.key))
        .filter_map(|country| {
            let count = *country_counts.get(&country.key)?;
            Some(FacetCount::new(country.key.clone(), count))
        });
    let mut children = most_frequent(subregions, limit);
    children.extend(most_frequent(countries, limit));
    Some(FacetCount {
        children,
        ..FacetCount::new(region.key.clone(), count)
    })
}

/// Articles like one article: similar words, shared entities.
/// What `geonews check` found: every file of the index read and its checksum compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub location: String,
    pub segments: usize,
    pub files: usize,
    pub bytes: u64,
    /// The damaged segments, each with the kinds of its files that fail their sums.
    pub damaged: Vec<DamagedSegment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DamagedSegment {
    pub segment: String,
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Related {
    pub id: String,
    pub title: String,
    /// The article's most distinctive words (as indexed: stemmed), most distinctive first.
    pub words: Vec<String>,
    pub hits: Vec<RelatedHit>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelatedHit {
    #[serde(flatten)]
    pub hit: Hit,
    /// Per facet field, the values this hit shares with the article.
    pub shared: Vec<SharedValues>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedValues {
    pub field: String,
    pub keys: Vec<String>,
}

/// The entity keys two articles share, per facet field (`fields`: name and dictionary), in
/// the order of `a`. Regions are left out: they follow from the countries.
pub fn shared_entities<'f>(
    fields: impl IntoIterator<Item = (&'f str, DictionaryName)>,
    a: &Entities,
    b: &Entities,
) -> Vec<SharedValues> {
    fields
        .into_iter()
        .filter(|(_, dictionary)| *dictionary != DictionaryName::Regions)
        .filter_map(|(field, dictionary)| {
            let theirs = b.keys(&dictionary);
            let keys: Vec<String> = a
                .keys(&dictionary)
                .into_iter()
                .filter(|key| theirs.contains(key))
                .map(str::to_owned)
                .collect();
            (!keys.is_empty()).then(|| SharedValues {
                field: field.to_owned(),
                keys,
            })
        })
        .collect()
}

/// Everything stored for one article, for `geonews show`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredArticle {
    pub id: String,
    pub title: String,
    pub summary: Option<String>,
    pub body: String,
    pub published: Option<DateTime<Utc>>,
    pub source: Option<String>,
    pub url: Option<String>,
    pub author: Option<String>,
    pub language: Option<String>,
    pub entities: Entities,
    pub cluster: Option<String>,
    /// The stored values of the fields fields.toml adds beyond the article model (`tags`), by
    /// field name. `geonews export` writes them; `show` leaves them out.
    #[serde(skip)]
    pub extra: BTreeMap<String, String>,
}

impl StoredArticle {
    /// The stored value of a text, keyword or stored field of fields.toml, by its name.
    pub fn value_of(&self, field: &str) -> Option<&str> {
        match field {
            "id" => Some(&self.id),
            "title" => Some(&self.title),
            "summary" => self.summary.as_deref(),
            "body" => Some(&self.body),
            "url" => self.url.as_deref(),
            "source" => self.source.as_deref(),
            "author" => self.author.as_deref(),
            "language" => self.language.as_deref(),
            "cluster" => self.cluster.as_deref(),
            other => self.extra.get(other).map(String::as_str),
        }
    }

    /// The article as extraction reads it, with the stored values of the fields fields.toml
    /// adds (what the record carried beyond the stored fields is gone).
    pub fn to_article(&self) -> Article {
        Article {
            key: self.id.clone(),
            title: self.title.clone(),
            title_is_derived: false,
            summary: self.summary.clone(),
            body: self.body.clone(),
            published: self.published,
            url: self.url.clone(),
            source: self.source.clone(),
            author: self.author.clone(),
            language: self.language.clone(),
            tagged: Default::default(),
            extra: self.extra.clone(),
            gold: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexStats {
    pub articles: u64,
    pub earliest: Option<DateTime<Utc>>,
    pub latest: Option<DateTime<Utc>>,
    pub undated: u64,
    /// What the engine tells of its storage, where it can.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineStats>,
    pub facets: Vec<FacetCounts>,
}

/// An engine's index created for the schema's fields (`geonews quickwit init`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreatedIndex {
    pub location: String,
    /// Whether an index of that name was deleted first.
    pub replaced: bool,
    pub fields: usize,
    /// What the engine was sent.
    pub config: serde_json::Value,
}

/// What only some engines know about their storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineStats {
    pub size_bytes: u64,
    pub segments: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    fn counts(pairs: &[(&str, u64)]) -> Vec<FacetCount> {
        pairs
            .iter()
            .map(|(key, count)| FacetCount::new((*key).to_owned(), *count))
            .collect()
    }

    /// `key count [children]` on one line, for compact assertions.
    fn shape(values: &[FacetCount]) -> String {
        let parts: Vec<String> = values
            .iter()
            .map(|value| match value.children.is_empty() {
                true => format!("{} {}", value.key, value.count),
                false => format!("{} {} [{}]", value.key, value.count, shape(&value.children)),
            })
            .collect();
        parts.join(", ")
    }

    #[test]
    fn values_nest_under_every_shown_parent() {
        let mut values = counts(&[
            ("armed-conflict", 5),
            ("human-rights", 3),
            ("war-crimes", 2),
            ("strikes", 1),
        ]);
        values[2].parents = vec!["human-rights".into(), "armed-conflict".into()];
        values[3].parents = vec!["labour".into(), "protests".into()];
        assert_eq!(
            shape(&nest_under_parents(&values)),
            "armed-conflict 5 [war-crimes 2], human-rights 3 [war-crimes 2], strikes 1"
        );
        let regions = vec![FacetCount {
            children: counts(&[("EastAsia", 2)]),
            ..FacetCount::new("Asia".into(), 2)
        }];
        assert_eq!(nest_under_parents(&regions), regions);
    }

    #[test]
    fn regions_nest_subregions_then_countries_and_groupings_hold_members() {
        let schema = Schema::builtin().unwrap();
        let regions = counts(&[
            ("Asia", 3),
            ("EastAsia", 2),
            ("SouthAsia", 1),
            ("MiddleEast", 1),
            ("Europe", 0),
        ]);
        let countries = counts(&[("NorthKorea", 2), ("China", 1), ("Iran", 1)]);
        let tree = region_tree(&schema.dictionaries, &regions, &countries, 10);
        assert_eq!(
            shape(&tree),
            "Asia 3 [EastAsia 2 [NorthKorea 2, China 1], SouthAsia 1 [Iran 1]], \
             MiddleEast 1 [Iran 1], Europe 0"
        );
        let cut = region_tree(&schema.dictionaries, &regions, &countries, 1);
        assert_eq!(shape(&cut), "Asia 3 [EastAsia 2 [NorthKorea 2]]");
    }

    #[test]
    fn shared_entities_per_field_without_regions() {
        let entities = |countries: &[&str]| Entities {
            countries: countries
                .iter()
                .map(|key| crate::extract::CountryMention {
                    key: (*key).to_owned(),
                    iso2: String::new(),
                    name: String::new(),
                    mentions: 1,
                    first_offset: None,
                    evidence: Vec::new(),
                    in_title: false,
                    in_dateline: false,
                    in_lead: false,
                    salient: false,
                })
                .collect(),
            ..Entities::default()
        };
        let fields = [
            ("country", DictionaryName::Countries),
            ("region", DictionaryName::Regions),
        ];
        let shared = shared_entities(
            fields.clone(),
            &entities(&["Russia", "NorthKorea", "Japan"]),
            &entities(&["NorthKorea", "Russia"]),
        );
        assert_eq!(
            shared,
            [SharedValues {
                field: "country".into(),
                keys: vec!["Russia".into(), "NorthKorea".into()]
            }]
        );
        assert!(shared_entities(fields, &entities(&["Japan"]), &entities(&["Peru"])).is_empty());
    }
}
