//! `geonews eval`: extraction scored against the gold labels articles carry, as micro
//! precision, recall and F1 over (article, label) pairs, per field.
//!
//! Gold fields name dictionaries (`countries`, `topics`, `people`, `orgs`); a gold label is
//! read through the dictionary's aliases, so `KP`, `NorthKorea` and `North Korea` are one
//! label. Countries are compared by ISO alpha-2 code. People and organizations the dictionary
//! lacks are compared by name, as extraction keys them: a missed one counts as missed. Labels
//! under `<field>_disputed` count neither as right nor wrong, and gold countries and topics
//! that name nothing in the dictionary are left out and listed.
//!
//! Topics are scored on the gold's own vocabulary: a gold set that labels twelve core topics
//! says nothing about a thirteenth, so a topic no gold article carries is listed, not counted
//! as a false positive.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::extract::Entities;
use crate::schema::{Catalogs, Dictionaries, DictionaryName, person_key};

/// Articles listed as examples of one wrong label.
const EXAMPLES: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Articles with a gold object.
    pub articles: u64,
    /// Articles read without one, not scored.
    pub unlabelled: u64,
    /// Only the entities extraction marks salient were compared.
    pub salient_only: bool,
    pub fields: Vec<FieldScore>,
    /// Gold fields that name no dictionary, not compared.
    pub not_compared: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldScore {
    pub field: String,
    /// Articles whose gold labels this field.
    pub articles: u64,
    #[serde(flatten)]
    pub score: Score,
    /// The labels most often found wrongly, and most often missed.
    pub top_false_positives: Vec<LabelErrors>,
    pub top_false_negatives: Vec<LabelErrors>,
    /// Per label, most frequent in gold and extraction first (with `--per-label`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_label: Vec<LabelScore>,
    /// Gold labels that name nothing in the dictionary, with their counts: left out.
    pub unknown_labels: Vec<(String, u64)>,
    /// Labels extraction found that no gold article of this field carries (topics only), with
    /// how often: left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outside_gold: Vec<(String, u64)>,
    /// Articles whose gold list for this field was empty, left out (`--empty-is-unlabelled`).
    #[serde(skip_serializing_if = "is_zero")]
    pub empty_left_out: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Score {
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Score {
    fn new(true_positives: u64, false_positives: u64, false_negatives: u64) -> Score {
        let ratio = |part: u64, whole: u64| match whole {
            0 => 0.0,
            _ => part as f64 / whole as f64,
        };
        let precision = ratio(true_positives, true_positives + false_positives);
        let recall = ratio(true_positives, true_positives + false_negatives);
        let f1 = match precision + recall {
            sum if sum > 0.0 => 2.0 * precision * recall / sum,
            _ => 0.0,
        };
        Score {
            true_positives,
            false_positives,
            false_negatives,
            precision,
            recall,
            f1,
        }
    }
}

/// One label wrongly found (or missed), how often, and in which articles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelErrors {
    pub label: String,
    pub count: u64,
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelScore {
    pub label: String,
    #[serde(flatten)]
    pub score: Score,
}

/// Which extracted entities and gold labels to compare, and how many errors to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalOptions {
    pub salient_only: bool,
    pub per_label: bool,
    pub top_errors: usize,
    /// An empty gold list means the article was not labelled for that field, not that it
    /// has nothing (Reuters leaves 2,070 stories without countries).
    pub empty_is_unlabelled: bool,
}

/// Scores articles one at a time.
pub struct Evaluator<'a> {
    catalogs: &'a Catalogs,
    iso2_of_key: HashMap<&'a str, &'a str>,
    options: EvalOptions,
    articles: u64,
    unlabelled: u64,
    fields: BTreeMap<&'static str, FieldTally>,
    not_compared: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct FieldTally {
    articles: u64,
    per_label: BTreeMap<String, (u64, u64, u64)>,
    false_positives: BTreeMap<String, Vec<String>>,
    false_negatives: BTreeMap<String, Vec<String>>,
    unknown_labels: BTreeMap<String, u64>,
    /// Every label the gold of this field uses (disputed ones included).
    vocabulary: BTreeSet<String>,
    empty_left_out: u64,
}

/// The dictionary a gold field names, and the name the report gives it.
fn gold_field(name: &str) -> Option<(DictionaryName, &'static str)> {
    Some(match name {
        "countries" | "country" => (DictionaryName::Countries, "countries"),
        "topics" | "topic" => (DictionaryName::Topics, "topics"),
        "people" | "persons" | "person" => (DictionaryName::People, "people"),
        "orgs" | "organizations" | "organisations" | "organization" => {
            (DictionaryName::Organizations, "organizations")
        }
        _ => return None,
    })
}

impl<'a> Evaluator<'a> {
    pub fn new(
        dictionaries: &'a Dictionaries,
        catalogs: &'a Catalogs,
        options: EvalOptions,
    ) -> Evaluator<'a> {
        let iso2_of_key = dictionaries
            .countries
            .iter()
            .map(|country| (country.key.as_str(), country.iso2.as_str()))
            .collect();
        Evaluator {
            catalogs,
            iso2_of_key,
            options,
            articles: 0,
            unlabelled: 0,
            fields: BTreeMap::new(),
            not_compared: BTreeSet::new(),
        }
    }

    /// Scores one article's entities against its gold labels (`None`: not labelled).
    pub fn add(
        &mut self,
        id: &str,
        gold: Option<&BTreeMap<String, Vec<String>>>,
        found: &Entities,
    ) {
        let Some(gold) = gold else {
            self.unlabelled += 1;
            return;
        };
        self.articles += 1;
        for (name, labels) in gold {
            if name.ends_with("_disputed") {
                continue;
            }
            let Some((dictionary, field)) = gold_field(name) else {
                self.not_compared.insert(name.clone());
                continue;
            };
            if labels.is_empty() && self.options.empty_is_unlabelled {
                self.fields.entry(field).or_default().empty_left_out += 1;
                continue;
            }
            let disputed = gold
                .iter()
                .find(|(other, _)| {
                    other.strip_suffix("_disputed").and_then(gold_field)
                        == Some((dictionary.clone(), field))
                })
                .map(|(_, labels)| labels);
            let (expected, unknown) = self.labels(&dictionary, labels);
            let (ignored, _) = self.labels(&dictionary, disputed.map_or(&[][..], Vec::as_slice));
            let predicted = self.predicted(&dictionary, found);
            let tally = self.fields.entry(field).or_default();
            tally.articles += 1;
            tally
                .vocabulary
                .extend(expected.iter().chain(&ignored).cloned());
            for label in unknown {
                *tally.unknown_labels.entry(label).or_default() += 1;
            }
            tally.score(id, &expected, &predicted, &ignored);
        }
    }

    /// Gold labels as compared (countries by ISO code, others by key), and those naming nothing.
    fn labels(
        &self,
        dictionary: &DictionaryName,
        labels: &[String],
    ) -> (BTreeSet<String>, Vec<String>) {
        let catalog = self.catalogs.get(dictionary);
        let mut known = BTreeSet::new();
        let mut unknown = Vec::new();
        for label in labels {
            match catalog.resolve(label) {
                Some(entry) => {
                    known.insert(self.compared_label(dictionary, &entry.key));
                }
                // People and organizations outside the dictionary are keyed by name (as
                // extraction keys the people it finds by their titles): found or missed, never
                // left out, so recall counts every name the gold holds.
                None if matches!(
                    dictionary,
                    DictionaryName::People | DictionaryName::Organizations
                ) && !person_key(label).is_empty() =>
                {
                    known.insert(person_key(label));
                }
                None => unknown.push(label.clone()),
            }
        }
        (known, unknown)
    }

    fn compared_label(&self, dictionary: &DictionaryName, key: &str) -> String {
        match dictionary {
            DictionaryName::Countries => self.iso2_of_key.get(key).copied().unwrap_or(key),
            _ => key,
        }
        .to_owned()
    }

    fn predicted(&self, dictionary: &DictionaryName, found: &Entities) -> BTreeSet<String> {
        match dictionary {
            DictionaryName::Countries => found
                .countries
                .iter()
                .filter(|country| !self.options.salient_only || country.salient)
                .map(|country| country.iso2.clone())
                .collect(),
            _ => found
                .keys(dictionary)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }

    pub fn finish(self) -> Evaluation {
        let options = self.options;
        Evaluation {
            articles: self.articles,
            unlabelled: self.unlabelled,
            salient_only: options.salient_only,
            fields: self
                .fields
                .into_iter()
                .map(|(field, tally)| {
                    let closed_vocabulary = field == "topics";
                    tally.finish(field, options, closed_vocabulary)
                })
                .collect(),
            not_compared: self.not_compared.into_iter().collect(),
        }
    }
}

impl FieldTally {
    fn score(
        &mut self,
        id: &str,
        expected: &BTreeSet<String>,
        predicted: &BTreeSet<String>,
        ignored: &BTreeSet<String>,
    ) {
        for label in expected.union(predicted).filter(|l| !ignored.contains(*l)) {
            let counts = self.per_label.entry(label.clone()).or_default();
            let errors = match (expected.contains(label), predicted.contains(label)) {
                (true, true) => {
                    counts.0 += 1;
                    continue;
                }
                (false, _) => {
                    counts.1 += 1;
                    &mut self.false_positives
                }
                (true, false) => {
                    counts.2 += 1;
                    &mut self.false_negatives
                }
            };
            errors.entry(label.clone()).or_default().push(id.to_owned());
        }
    }

    /// The field's scores; with a `closed_vocabulary`, labels no gold article carries are
    /// listed apart instead of counted.
    fn finish(mut self, field: &str, options: EvalOptions, closed_vocabulary: bool) -> FieldScore {
        let mut outside_gold = Vec::new();
        if closed_vocabulary {
            let vocabulary = &self.vocabulary;
            let outside: Vec<String> = self
                .per_label
                .keys()
                .filter(|label| !vocabulary.contains(*label))
                .cloned()
                .collect();
            for label in outside {
                let (_, found, _) = self.per_label.remove(&label).unwrap_or_default();
                self.false_positives.remove(&label);
                outside_gold.push((label, found));
            }
            outside_gold.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        let (tp, fp, fn_) = self
            .per_label
            .values()
            .fold((0, 0, 0), |(a, b, c), &(tp, fp, fn_)| {
                (a + tp, b + fp, c + fn_)
            });
        let mut per_label: Vec<LabelScore> = match options.per_label {
            true => self
                .per_label
                .into_iter()
                .map(|(label, (tp, fp, fn_))| LabelScore {
                    label,
                    score: Score::new(tp, fp, fn_),
                })
                .collect(),
            false => Vec::new(),
        };
        per_label.sort_by_key(|label| {
            let score = label.score;
            std::cmp::Reverse(
                2 * score.true_positives + score.false_positives + score.false_negatives,
            )
        });
        let mut unknown_labels: Vec<(String, u64)> = self.unknown_labels.into_iter().collect();
        unknown_labels.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        FieldScore {
            field: field.to_owned(),
            articles: self.articles,
            score: Score::new(tp, fp, fn_),
            top_false_positives: most_frequent(self.false_positives, options.top_errors),
            top_false_negatives: most_frequent(self.false_negatives, options.top_errors),
            per_label,
            unknown_labels,
            outside_gold,
            empty_left_out: self.empty_left_out,
        }
    }
}

fn most_frequent(errors: BTreeMap<String, Vec<String>>, limit: usize) -> Vec<LabelErrors> {
    let mut errors: Vec<LabelErrors> = errors
        .into_iter()
        .map(|(label, articles)| LabelErrors {
            label,
            count: articles.len() as u64,
            examples: articles.into_iter().take(EXAMPLES).collect(),
        })
        .collect();
    errors.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    errors.truncate(limit);
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{CountryMention, TopicMention};
    use crate::schema::Schema;

    fn country(iso2: &str, salient: bool) -> CountryMention {
        CountryMention {
            key: iso2.to_owned(),
            iso2: iso2.to_owned(),
            name: String::new(),
            mentions: 1,
            first_offset: Some(0),
            evidence: Vec::new(),
            in_title: false,
            in_dateline: false,
            in_lead: false,
            salient,
        }
    }

    fn gold(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(field, labels)| {
                let labels = labels.iter().map(|label| (*label).to_owned()).collect();
                ((*field).to_owned(), labels)
            })
            .collect()
    }

    fn evaluate(options: EvalOptions) -> Evaluation {
        let schema = Schema::builtin().unwrap();
        let catalogs = Catalogs::build(&schema.dictionaries);
        let mut evaluator = Evaluator::new(&schema.dictionaries, &catalogs, options);
        let found = Entities {
            countries: vec![
                country("KP", true),
                country("RU", false),
                country("JP", true),
            ],
            topics: vec![TopicMention {
                key: "sanctions".into(),
                name: String::new(),
                score: 3.0,
                probability: None,
                evidence: Vec::new(),
                via: Vec::new(),
            }],
            ..Entities::default()
        };
        let labels = gold(&[
            ("countries", &["North Korea", "RU", "US"]),
            ("countries_disputed", &["JP"]),
            ("topics", &["sanctions", "earn"]),
            ("reuters_places", &["usa"]),
        ]);
        evaluator.add("a1", Some(&labels), &found);
        evaluator.add("a2", None, &found);
        evaluator.finish()
    }

    #[test]
    fn micro_scores_with_disputed_and_unknown_labels() {
        let options = EvalOptions {
            salient_only: false,
            per_label: true,
            top_errors: 5,
            empty_is_unlabelled: false,
        };
        let evaluation = evaluate(options);
        assert_eq!((evaluation.articles, evaluation.unlabelled), (1, 1));
        assert_eq!(evaluation.not_compared, ["reuters_places"]);
        let countries = &evaluation.fields[0];
        assert_eq!(countries.field, "countries");
        // KP and RU found, US missed, JP disputed.
        let score = countries.score;
        assert_eq!(
            (
                score.true_positives,
                score.false_positives,
                score.false_negatives
            ),
            (2, 0, 1)
        );
        assert!((score.f1 - 0.8).abs() < 1e-9);
        assert_eq!(countries.top_false_negatives[0].label, "US");
        assert_eq!(countries.top_false_negatives[0].examples, ["a1"]);
        assert_eq!(countries.per_label.len(), 3);
        let topics = &evaluation.fields[1];
        assert_eq!(topics.score.true_positives, 1);
        assert_eq!(topics.unknown_labels, [("earn".to_owned(), 1)]);
    }

    #[test]
    fn salient_only_compares_salient_countries() {
        let options = EvalOptions {
            salient_only: true,
            per_label: false,
            top_errors: 5,
            empty_is_unlabelled: false,
        };
        let countries = &evaluate(options).fields[0];
        // RU is not salient: now missed.
        let score = countries.score;
        assert_eq!(
            (
                score.true_positives,
                score.false_positives,
                score.false_negatives
            ),
            (1, 0, 2)
        );
        assert!(countries.per_label.is_empty());
    }

    #[test]
    fn topics_no_gold_article_carries_are_listed_not_counted() {
        let schema = Schema::builtin().unwrap();
        let catalogs = Catalogs::build(&schema.dictionaries);
        let options = EvalOptions {
            salient_only: false,
            per_label: false,
            top_errors: 5,
            empty_is_unlabelled: true,
        };
        let mut evaluator = Evaluator::new(&schema.dictionaries, &catalogs, options);
        let topic = |key: &str| TopicMention {
            key: key.into(),
            name: String::new(),
            score: 3.0,
            probability: None,
            evidence: Vec::new(),
            via: Vec::new(),
        };
        let found = Entities {
            topics: vec![topic("sanctions"), topic("maritime"), topic("elections")],
            ..Entities::default()
        };
        evaluator.add("a1", Some(&gold(&[("topics", &["sanctions"])])), &found);
        evaluator.add("a2", Some(&gold(&[("topics", &["diplomacy"])])), &found);
        evaluator.add(
            "a3",
            Some(&gold(&[("topics", &[]), ("orgs", &["Justice Department"])])),
            &found,
        );
        let evaluation = evaluator.finish();
        let topics = evaluation
            .fields
            .iter()
            .find(|f| f.field == "topics")
            .unwrap();
        // sanctions: right once, wrong once; diplomacy missed; maritime and elections are
        // outside the gold's vocabulary; a3's empty list is left out.
        let score = topics.score;
        assert_eq!(
            (
                score.true_positives,
                score.false_positives,
                score.false_negatives
            ),
            (1, 1, 1)
        );
        assert_eq!(
            topics.outside_gold,
            [("elections".to_owned(), 2), ("maritime".to_owned(), 2)]
        );
        assert_eq!(topics.empty_left_out, 1);
        // An organization the dictionary lacks is missed, not left out.
        let orgs = evaluation
            .fields
            .iter()
            .find(|f| f.field == "organizations")
            .unwrap();
        assert_eq!(orgs.score.false_negatives, 1);
        assert!(orgs.unknown_labels.is_empty());
    }
}
