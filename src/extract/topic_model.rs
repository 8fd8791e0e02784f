//! The learned topic classifiers of `schema/topic-model.toml`, and the features they read.
//!
//! An article's features are the word unigrams and bigrams of three parts of its text (the
//! whole text, the title, and the lead) and the phrase score of every topic in topics.toml.
//! Training (`xtask train-topics`) reads them by name through [`named_features`]; extraction
//! reads only those the model has weights for, by hash, so that it stays fast.

use std::ops::Range;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::hash::Fnv64;
use crate::schema::{FeatureSettings, TopicModelSpec, TopicSet};

/// The parts of an article's text that features are counted in, with their name prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Text,
    Title,
    Lead,
}

impl Part {
    const ALL: [Part; 3] = [Part::Text, Part::Title, Part::Lead];

    fn prefix(self) -> &'static str {
        match self {
            Part::Text => "",
            Part::Title => "title:",
            Part::Lead => "lead:",
        }
    }

    fn seed(self) -> u64 {
        match self {
            Part::Text => 0x51_7cc1_b727_220a,
            Part::Title => 0x2d35_8dcc_aa6c_78a5,
            Part::Lead => 0x8ebc_6af0_9c88_c6e3,
        }
    }

    fn scale(self, settings: &FeatureSettings) -> f32 {
        match self {
            Part::Text => settings.text_scale,
            Part::Title => settings.title_scale,
            Part::Lead => settings.lead_scale,
        }
    }

    fn of(name: &str) -> (Part, &str) {
        for part in [Part::Title, Part::Lead] {
            if let Some(rest) = name.strip_prefix(part.prefix()) {
                return (part, rest);
            }
        }
        (Part::Text, name)
    }
}

const RULE_PREFIX: &str = "rule:";
const RULE_SEED: u64 = 0x9e37_79b9_7f4a_7c15;
const BIGRAM_SEED: u64 = 0xc2b2_ae3d_27d4_eb4f;

/// The text an article's features are read from: title, summary and body as extraction sees
/// them (`Article::extraction_text`), with the title's length.
#[derive(Debug, Clone, Copy)]
pub struct TopicText<'a> {
    pub text: &'a str,
    pub title_len: usize,
}

impl TopicText<'_> {
    /// Where the lead lies: its first `lead_bytes` bytes after the title.
    fn lead(&self, settings: &FeatureSettings) -> Range<usize> {
        let rest = &self.text[self.title_len..];
        let start = self.text.len() - rest.trim_start().len();
        start..(start + settings.lead_bytes).min(self.text.len())
    }

    /// Calls `visit(part, previous, word)` for each word of each part of the text, with the
    /// word before it in the same part: a word is in the title or the lead when it lies
    /// wholly inside it. A part whose scale is zero is left out.
    fn for_each_word(
        &self,
        settings: &FeatureSettings,
        mut visit: impl FnMut(Part, Option<&Word>, &Word),
    ) {
        let lead = self.lead(settings);
        let counted = Part::ALL.map(|part| part.scale(settings) > 0.0);
        let mut previous: [Option<Word>; 3] = [None, None, None];
        for_each_word(self.text, |word| {
            let in_part = [
                counted[0],
                counted[1] && word.span.end <= self.title_len,
                counted[2] && lead.start <= word.span.start && word.span.end <= lead.end,
            ];
            for (slot, part) in Part::ALL.into_iter().enumerate() {
                if in_part[slot] {
                    visit(part, previous[slot].as_ref(), &word);
                    previous[slot] = Some(word.clone());
                }
            }
        });
    }
}

/// A feature's value from its count among `ngrams` n-grams of its part.
fn ngram_value(count: u32, ngrams: usize, scale: f32) -> f32 {
    (count as f32).ln_1p() * scale / (ngrams.max(1) as f32).sqrt()
}

fn rule_value(score: f32, settings: &FeatureSettings) -> f32 {
    score.max(0.0).ln_1p() * settings.rule_scale
}

/// Finalizer of SplitMix64 over `a` combined with `b`: every bit of both moves every bit.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A word of the text: its lowercase form's hash and where it lies.
#[derive(Debug, Clone)]
struct Word {
    hash: u64,
    span: Range<usize>,
}

/// Calls `visit` with each word of `text`: maximal runs of letters and digits, lowercased
/// (hashed as near-duplicate detection hashes them, eight ASCII bytes at a step).
fn for_each_word(text: &str, mut visit: impl FnMut(Word)) {
    crate::dedup::for_each_word_at(text, |hash, _, span| visit(Word { hash, span }));
}

fn unigram_hash(part: Part, word: u64) -> u64 {
    mix(part.seed(), word)
}

fn bigram_hash(part: Part, first: u64, second: u64) -> u64 {
    mix(unigram_hash(part, first) ^ BIGRAM_SEED, second)
}

fn rule_hash(topic_key: &str) -> u64 {
    mix(RULE_SEED, Fnv64::of(topic_key.as_bytes()))
}

/// The hash extraction computes for a feature named as in topic-model.toml.
fn feature_hash(name: &str) -> u64 {
    if let Some(key) = name.strip_prefix(RULE_PREFIX) {
        return rule_hash(key);
    }
    let (part, ngram) = Part::of(name);
    let mut hashes = Vec::new();
    for_each_word(ngram, |word| hashes.push(word.hash));
    match hashes[..] {
        [second_last, last] => bigram_hash(part, second_last, last),
        [only] => unigram_hash(part, only),
        // Never an n-gram of text: it cannot match, and weighs nothing.
        _ => mix(part.seed(), Fnv64::of(name.as_bytes())),
    }
}

/// Every feature of a text, by name, with its value: what the model is trained on.
/// `rule_scores` gives each topic's phrase score from topics.toml.
pub fn named_features(
    text: TopicText<'_>,
    rule_scores: &[(&str, f32)],
    settings: &FeatureSettings,
) -> Vec<(String, f32)> {
    let mut counts: [FxHashMap<String, u32>; 3] = Default::default();
    let word_at = |word: &Word| text.text[word.span.clone()].to_lowercase();
    text.for_each_word(settings, |part, previous, word| {
        let counts = &mut counts[part as usize];
        let word = word_at(word);
        if let Some(previous) = previous {
            let bigram = format!("{}{} {word}", part.prefix(), word_at(previous));
            *counts.entry(bigram).or_default() += 1;
        }
        *counts
            .entry(format!("{}{word}", part.prefix()))
            .or_default() += 1;
    });
    let mut features = Vec::new();
    for (part, counts) in Part::ALL.into_iter().zip(counts) {
        let ngrams = counts.values().sum::<u32>() as usize;
        let scale = part.scale(settings);
        features.extend(
            counts
                .into_iter()
                .map(|(name, count)| (name, ngram_value(count, ngrams, scale))),
        );
    }
    for &(key, score) in rule_scores {
        if score > 0.0 {
            features.push((format!("{RULE_PREFIX}{key}"), rule_value(score, settings)));
        }
    }
    features.sort_by(|a, b| a.0.cmp(&b.0));
    features
}

/// What the model made of one topic for one article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicVerdict {
    /// Index of the topic in topics.toml.
    #[serde(skip)]
    pub topic: usize,
    pub key: String,
    pub probability: f32,
    pub threshold: f32,
    pub kept: bool,
    /// With `explain`: the features that moved the probability most, strongest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<FeatureContribution>,
}

/// A feature's share of a topic's decision: its weight times its value in the article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureContribution {
    pub feature: String,
    pub weight: f32,
    pub contribution: f32,
}

/// Feature hashes → rows, by open addressing on the hash itself (it is already uniform).
/// Most n-grams of a text are not features: a bit per bucket, small enough to stay in the
/// first-level cache, answers them without touching the slots.
#[derive(Debug)]
struct RowTable {
    filter: Vec<u64>,
    /// Slot → (hash, row); a row of `u32::MAX` marks an empty slot.
    slots: Vec<(u64, u32)>,
    len: usize,
}

/// 256 Kibit: a model of 10,000 features fills a few percent of the buckets.
const FILTER_BITS: usize = 1 << 18;
const EMPTY: u32 = u32::MAX;

impl Default for RowTable {
    fn default() -> Self {
        RowTable {
            filter: vec![0; FILTER_BITS / 64],
            slots: vec![(0, EMPTY); 1024],
            len: 0,
        }
    }
}

impl RowTable {
    fn bucket(hash: u64) -> usize {
        (hash >> 40) as usize & (FILTER_BITS - 1)
    }

    #[inline]
    fn get(&self, hash: u64) -> Option<u32> {
        let bucket = Self::bucket(hash);
        if self.filter[bucket / 64] & (1 << (bucket % 64)) == 0 {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let (key, row) = self.slots[slot];
            if row == EMPTY {
                return None;
            }
            if key == hash {
                return Some(row);
            }
            slot = (slot + 1) & mask;
        }
    }

    fn insert(&mut self, hash: u64, row: u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            let grown = vec![(0, EMPTY); self.slots.len() * 2];
            let old = std::mem::replace(&mut self.slots, grown);
            for (key, row) in old.into_iter().filter(|&(_, row)| row != EMPTY) {
                self.place(key, row);
            }
        }
        self.place(hash, row);
        self.len += 1;
        let bucket = Self::bucket(hash);
        self.filter[bucket / 64] |= 1 << (bucket % 64);
    }

    fn place(&mut self, hash: u64, row: u32) {
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        while self.slots[slot].1 != EMPTY {
            slot = (slot + 1) & mask;
        }
        self.slots[slot] = (hash, row);
    }
}

/// How many features `explain` lists per topic, on each side of the decision.
const REASONS_PER_SIDE: usize = 5;

#[derive(Debug)]
struct Classifier {
    topic: usize,
    key: String,
    bias: f32,
    threshold: f32,
}

/// The classifiers of topic-model.toml, ready to score articles.
#[derive(Debug)]
pub struct TopicModel {
    settings: FeatureSettings,
    classifiers: Vec<Classifier>,
    /// Feature hash → its row in `weights` (one weight per classifier).
    rows: RowTable,
    names: Vec<String>,
    weights: Vec<f32>,
    /// Rows of the `rule:KEY` features, by topic index in topics.toml.
    rule_rows: Vec<(usize, u32)>,
}

impl TopicModel {
    /// The model of `spec`, or `None` when it has no classifiers.
    pub fn compile(spec: &TopicModelSpec, topics: &TopicSet) -> Option<TopicModel> {
        let settings = spec.features.clone()?;
        if spec.topics.is_empty() {
            return None;
        }
        let topic_index = |key: &str| topics.topics.iter().position(|t| t.key == key);
        let classifiers: Vec<Classifier> = spec
            .topics
            .iter()
            .map(|c| Classifier {
                topic: topic_index(&c.key).expect("validated against topics.toml"),
                key: c.key.clone(),
                bias: c.bias,
                threshold: c.threshold,
            })
            .collect();
        let width = classifiers.len();
        let mut model = TopicModel {
            settings,
            classifiers,
            rows: RowTable::default(),
            names: Vec::new(),
            weights: Vec::new(),
            rule_rows: Vec::new(),
        };
        for (column, classifier) in spec.topics.iter().enumerate() {
            for (name, &weight) in &classifier.weights {
                let row = model.row_of(name, width);
                model.weights[row as usize * width + column] = weight;
            }
        }
        model.rule_rows = (model.names.iter().enumerate())
            .filter_map(|(row, name)| {
                let key = name.strip_prefix(RULE_PREFIX)?;
                Some((topic_index(key)?, row as u32))
            })
            .collect();
        Some(model)
    }

    fn row_of(&mut self, name: &str, width: usize) -> u32 {
        let hash = feature_hash(name);
        if let Some(row) = self.rows.get(hash) {
            return row;
        }
        let row = self.names.len() as u32;
        self.rows.insert(hash, row);
        self.names.push(name.to_owned());
        self.weights.resize(self.weights.len() + width, 0.0);
        row
    }

    /// Decides each topic the model knows: `rule_scores` holds the phrase score of each topic
    /// of topics.toml by index (0 where none matched).
    pub fn decide(
        &self,
        text: TopicText<'_>,
        rule_scores: &[f32],
        explain: bool,
    ) -> Vec<TopicVerdict> {
        let features = self.features(text, rule_scores);
        let width = self.classifiers.len();
        let mut logits: Vec<f32> = self.classifiers.iter().map(|c| c.bias).collect();
        for &(row, value) in &features {
            let row = &self.weights[row as usize * width..][..width];
            for (logit, weight) in logits.iter_mut().zip(row) {
                *logit += weight * value;
            }
        }
        self.classifiers
            .iter()
            .zip(logits)
            .enumerate()
            .map(|(column, (classifier, logit))| {
                let weight_of = |row: u32| self.weights[row as usize * width + column];
                let probability = 1.0 / (1.0 + (-logit).exp());
                let kept = probability >= classifier.threshold;
                let reasons = if explain {
                    self.reasons(&features, weight_of, kept)
                } else {
                    Vec::new()
                };
                TopicVerdict {
                    topic: classifier.topic,
                    key: classifier.key.clone(),
                    probability,
                    threshold: classifier.threshold,
                    kept,
                    reasons,
                }
            })
            .collect()
    }

    /// The model's features present in the text, as (row, value).
    fn features(&self, text: TopicText<'_>, rule_scores: &[f32]) -> Vec<(u32, f32)> {
        let mut hits: [Vec<u32>; 3] = Default::default();
        let mut ngrams = [0usize; 3];
        let mut look_up = |part: Part, hash: u64| {
            ngrams[part as usize] += 1;
            if let Some(row) = self.rows.get(hash) {
                hits[part as usize].push(row);
            }
        };
        text.for_each_word(&self.settings, |part, previous, word| {
            if let Some(previous) = previous {
                look_up(part, bigram_hash(part, previous.hash, word.hash));
            }
            look_up(part, unigram_hash(part, word.hash));
        });
        let mut features = Vec::new();
        for (part, mut hits) in Part::ALL.into_iter().zip(hits) {
            hits.sort_unstable();
            let scale = part.scale(&self.settings);
            for run in hits.chunk_by(|a, b| a == b) {
                let value = ngram_value(run.len() as u32, ngrams[part as usize], scale);
                features.push((run[0], value));
            }
        }
        for &(topic, row) in &self.rule_rows {
            if let Some(&score) = rule_scores.get(topic)
                && score > 0.0
            {
                features.push((row, rule_value(score, &self.settings)));
            }
        }
        features
    }

    /// The features that pushed a topic most towards its decision, then the strongest against.
    fn reasons(
        &self,
        features: &[(u32, f32)],
        weight_of: impl Fn(u32) -> f32,
        kept: bool,
    ) -> Vec<FeatureContribution> {
        let mut contributions: Vec<FeatureContribution> = features
            .iter()
            .map(|&(row, value)| FeatureContribution {
                feature: self.names[row as usize].clone(),
                weight: weight_of(row),
                contribution: weight_of(row) * value,
            })
            .filter(|c| c.contribution != 0.0)
            .collect();
        let towards = |c: &FeatureContribution| (c.contribution > 0.0) == kept;
        contributions.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        let mut reasons: Vec<_> = contributions
            .iter()
            .filter(|c| towards(c))
            .take(REASONS_PER_SIDE)
            .cloned()
            .collect();
        reasons.extend(
            contributions
                .iter()
                .filter(|c| !towards(c))
                .take(REASONS_PER_SIDE)
                .cloned(),
        );
        reasons
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Schema, TopicClassifier};

    const SETTINGS: FeatureSettings = FeatureSettings {
        lead_bytes: 40,
        text_scale: 1.0,
        title_scale: 0.5,
        lead_scale: 0.5,
        rule_scale: 0.3,
    };

    fn text() -> TopicText<'static> {
        TopicText {
            text: "Sanctions on Iran\n\nThe EU imposed new sanctions on Iran's oil exports, \
                   and Iran's Ölminister said sanctions would fail.",
            title_len: "Sanctions on Iran".len(),
        }
    }

    /// A model of one classifier with a distinct weight for every feature of `text()`.
    fn model_of_every_feature(topics: &TopicSet) -> (TopicModel, f32) {
        let features = named_features(text(), &[("sanctions", 4.5)], &SETTINGS);
        let weights: std::collections::BTreeMap<String, f32> = (features.iter().enumerate())
            .map(|(i, (name, _))| (name.clone(), (i % 7) as f32 * 0.1 - 0.3))
            .collect();
        let logit = -0.5
            + features
                .iter()
                .map(|(name, value)| weights[name] * value)
                .sum::<f32>();
        let spec = TopicModelSpec {
            features: Some(SETTINGS),
            topics: vec![TopicClassifier {
                key: "sanctions".into(),
                bias: -0.5,
                threshold: 0.5,
                weights,
            }],
        };
        (TopicModel::compile(&spec, topics).unwrap(), logit)
    }

    #[test]
    fn extraction_reads_by_hash_exactly_the_features_training_reads_by_name() {
        let schema = Schema::builtin().unwrap();
        let topics = &schema.dictionaries.topics;
        let (model, logit) = model_of_every_feature(topics);
        let sanctions = topics.topics.iter().position(|t| t.key == "sanctions");
        let mut scores = vec![0.0; topics.topics.len()];
        scores[sanctions.unwrap()] = 4.5;
        let verdict = &model.decide(text(), &scores, false)[0];
        let expected = 1.0 / (1.0 + (-logit).exp());
        assert!(
            (verdict.probability - expected).abs() < 1e-5,
            "{verdict:?} vs {expected}"
        );
        assert_eq!(verdict.kept, expected >= 0.5);
    }

    #[test]
    fn a_model_without_classifiers_compiles_to_none() {
        let schema = Schema::builtin().unwrap();
        let topics = &schema.dictionaries.topics;
        assert!(TopicModel::compile(&TopicModelSpec::default(), topics).is_none());
        assert!(TopicModel::compile(&schema.dictionaries.topic_model, topics).is_some());
    }

    #[test]
    fn features_are_lowercase_words_and_bigrams_of_each_part() {
        let features = named_features(text(), &[("sanctions", 4.5), ("trade", 0.0)], &SETTINGS);
        let names: Vec<&str> = features.iter().map(|(name, _)| name.as_str()).collect();
        for expected in [
            "sanctions",
            "new sanctions",
            "ölminister",
            "title:sanctions on",
            "lead:the eu",
            "rule:sanctions",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        // The lead ends within its byte budget; a topic with no phrase score is no feature.
        assert!(!names.contains(&"lead:fail"));
        assert!(!names.contains(&"rule:trade"));
    }

    #[test]
    fn explanations_list_the_strongest_features_for_the_decision_first() {
        let schema = Schema::builtin().unwrap();
        let (model, _) = model_of_every_feature(&schema.dictionaries.topics);
        let verdict = &model.decide(text(), &[], true)[0];
        let towards: Vec<_> = (verdict.reasons.iter())
            .take_while(|r| (r.contribution > 0.0) == verdict.kept)
            .collect();
        assert!(!towards.is_empty() && towards.len() <= REASONS_PER_SIDE);
        assert!(
            towards
                .windows(2)
                .all(|pair| pair[0].contribution.abs() >= pair[1].contribution.abs())
        );
        assert!(verdict.reasons.len() <= 2 * REASONS_PER_SIDE);
    }
}
