//! `xtask train-topics`: trains the topic model of `schema/topic-model.toml`.
//!
//! One L2-regularised logistic regression per topic the labelled articles use (the 12 core
//! topics of the annotation guide), with balanced class weights, over the
//! features geonews's extractor reads (`Extractor::topic_features`: word unigrams and bigrams
//! of the text, title and lead, and each topic's phrase score). Each topic's threshold is the
//! one that maximises F1 on out-of-fold predictions of a k-fold cross-validation of the
//! training articles; the shipped weights are a fit on all of them, each topic keeping its
//! strongest weights. Deterministic: the same articles give the same file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use geonews::extract::Extractor;
use geonews::ingest::{RecordOutcome, record_from_body, to_article};
use geonews::schema::{FeatureSettings, Schema};

use super::Res;

const SETTINGS: FeatureSettings = FeatureSettings {
    lead_bytes: 400,
    text_scale: 1.0,
    title_scale: 0.5,
    lead_scale: 0.0,
    rule_scale: 0.3,
};

pub struct Options {
    pub gold: String,
    pub out: String,
    pub folds: usize,
    /// Weights kept per topic in the shipped model.
    pub keep: usize,
    /// Inverse regularisation strength, as in scikit-learn's `C`.
    pub c: f64,
    pub epochs: usize,
    /// Features in more than this share of the articles are left out: words such as "the"
    /// say little about a topic, and would be looked up in every article.
    pub max_df: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            gold: "target/gold/topics-train.jsonl".into(),
            out: "schema/topic-model.toml".into(),
            folds: 5,
            keep: 1000,
            c: 10.0,
            epochs: 60,
            max_df: 0.1,
        }
    }
}

/// One labelled article as the trainer sees it: sparse features and, per topic trained,
/// whether it has it.
struct Example {
    features: Vec<(u32, f32)>,
    labels: Vec<bool>,
}

/// The training set: the articles, the names of the features, and the topics to learn in
/// topics.toml's order.
struct TrainingSet {
    examples: Vec<Example>,
    vocabulary: Vec<String>,
    topics: Vec<String>,
}

pub fn run(options: &Options) -> Res<()> {
    let set = read_training_set(Path::new(&options.gold), options.max_df)?;
    let examples = &set.examples;
    eprintln!(
        "{} articles, {} features kept, topics {}",
        examples.len(),
        set.vocabulary.len(),
        set.topics.join(", ")
    );
    let fit = |rows: &[usize]| Fit::train(&set, rows, options).pruned(options.keep);
    let all: Vec<usize> = (0..examples.len()).collect();
    let mut out_of_fold = vec![Vec::new(); examples.len()];
    for fold in 0..options.folds {
        let (train, held): (Vec<usize>, Vec<usize>) = all
            .iter()
            .partition(|&&i| fold_of(i) % options.folds != fold);
        let model = fit(&train);
        for &i in &held {
            out_of_fold[i] = model.probabilities(&examples[i].features);
        }
    }
    let thresholds = report_thresholds(&set, &out_of_fold);
    let model = fit(&all);
    std::fs::write(&options.out, model.to_toml(&set, &thresholds, options))
        .map_err(|error| format!("cannot write {}: {error}", options.out))?;
    eprintln!("wrote {}", options.out);
    Ok(())
}

/// A stable fold for each article, from its position in the (fixed) labelled file.
fn fold_of(index: usize) -> usize {
    let mut z = index as u64 ^ 0x9e37_79b9_7f4a_7c15;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as usize
}

/// The labelled articles with their features; the vocabulary of features seen in at least
/// two of them (rarer ones cannot generalise) and in at most `max_df` of them, phrase scores
/// always kept; and every topic their labels use.
fn read_training_set(gold: &Path, max_df: f64) -> Res<TrainingSet> {
    let text = std::fs::read_to_string(gold).map_err(|error| {
        format!(
            "cannot read {}: {error} (python3 data/build_gold.py --geonews target/release/geonews builds it)",
            gold.display()
        )
    })?;
    let schema = Schema::builtin().map_err(|error| error.to_string())?;
    let places = schema.places().map_err(|error| error.to_string())?;
    let extractor = Extractor::new(&schema.dictionaries, &places).map_err(|e| e.to_string())?;
    let mut named = Vec::new();
    for (line, body) in text.lines().enumerate() {
        let record = record_from_body(body, true)
            .map_err(|error| format!("{}:{}: {error}", gold.display(), line + 1))?;
        let RecordOutcome::Article { article, .. } = to_article(record) else {
            return Err(format!("{}:{}: not an article", gold.display(), line + 1));
        };
        let topics = article
            .gold
            .as_ref()
            .and_then(|gold| gold.get("topics"))
            .ok_or_else(|| format!("{}:{}: no gold topics", gold.display(), line + 1))?;
        named.push((
            extractor.topic_features(&article, &SETTINGS),
            topics.clone(),
        ));
    }
    let topics = labelled_topics(&schema, named.iter().map(|(_, labels)| labels))?;
    let vocabulary = vocabulary_of(named.iter().map(|(features, _)| features), max_df);
    let index: HashMap<&str, u32> = (vocabulary.iter().enumerate())
        .map(|(i, name)| (name.as_str(), i as u32))
        .collect();
    let examples = named
        .iter()
        .map(|(features, labels)| Example {
            features: (features.iter())
                .filter_map(|(name, value)| Some((*index.get(name.as_str())?, *value)))
                .collect(),
            labels: topics.iter().map(|topic| labels.contains(topic)).collect(),
        })
        .collect();
    Ok(TrainingSet {
        examples,
        vocabulary,
        topics,
    })
}

/// The topics the labels use, in topics.toml's order; a label topics.toml lacks is an error.
fn labelled_topics<'a>(
    schema: &Schema,
    labels: impl Iterator<Item = &'a Vec<String>>,
) -> Res<Vec<String>> {
    let known = &schema.dictionaries.topics.topics;
    let mut used: Vec<&String> = labels.flatten().collect();
    used.sort();
    used.dedup();
    if let Some(unknown) = used
        .iter()
        .find(|key| !known.iter().any(|t| &t.key == **key))
    {
        return Err(format!("gold topic `{unknown}` is not in topics.toml"));
    }
    Ok(known
        .iter()
        .filter(|topic| used.contains(&&topic.key))
        .map(|topic| topic.key.clone())
        .collect())
}

/// The features seen in at least two of the articles and in at most `max_df` of them, sorted;
/// phrase scores are kept however common.
fn vocabulary_of<'a>(
    articles: impl ExactSizeIterator<Item = &'a Vec<(String, f32)>>,
    max_df: f64,
) -> Vec<String> {
    let most = (max_df * articles.len() as f64) as u32;
    let mut document_frequency: HashMap<&str, u32> = HashMap::new();
    for features in articles {
        for (name, _) in features {
            *document_frequency.entry(name).or_default() += 1;
        }
    }
    let mut vocabulary: Vec<String> = document_frequency
        .into_iter()
        .filter(|&(name, count)| count >= 2 && (count <= most || name.starts_with("rule:")))
        .map(|(name, _)| name.to_owned())
        .collect();
    vocabulary.sort();
    vocabulary
}

/// The classifiers of all topics trained: `weights[feature * topics + topic]`.
struct Fit {
    bias: Vec<f64>,
    weights: Vec<f64>,
}

impl Fit {
    /// Stochastic gradient descent on the regularised, class-weighted log loss (Bottou's
    /// schedule, with the weights kept as a scale times a vector so that shrinking them for
    /// the regulariser costs nothing per step), on the articles `rows` of `set`.
    fn train(set: &TrainingSet, rows: &[usize], options: &Options) -> Fit {
        let (examples, topics, features) = (&set.examples, set.topics.len(), set.vocabulary.len());
        let n = rows.len() as f64;
        let lambda = 1.0 / (options.c * n);
        let class_weight: Vec<[f64; 2]> = (0..topics)
            .map(|t| {
                let positives = rows.iter().filter(|&&i| examples[i].labels[t]).count();
                let positives = (positives as f64).max(1.0);
                [n / (2.0 * (n - positives).max(1.0)), n / (2.0 * positives)]
            })
            .collect();
        let mut vector = vec![0f64; features * topics];
        let mut scale = vec![1f64; topics];
        let mut bias = vec![0f64; topics];
        let eta0 = 0.5;
        let mut order = rows.to_vec();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut step = 0f64;
        for _ in 0..options.epochs {
            shuffle(&mut order, &mut rng);
            for &i in &order {
                let eta = eta0 / (1.0 + eta0 * lambda * step);
                step += 1.0;
                let example = &examples[i];
                for t in 0..topics {
                    let weight = |f: u32| vector[f as usize * topics + t];
                    let logit = bias[t] + scale[t] * dot(&example.features, weight);
                    let label = example.labels[t];
                    let gradient = (sigmoid(logit) - f64::from(u8::from(label)))
                        * class_weight[t][usize::from(label)];
                    scale[t] *= 1.0 - eta * lambda;
                    if scale[t] < 1e-9 {
                        for f in 0..features {
                            vector[f * topics + t] *= scale[t];
                        }
                        scale[t] = 1.0;
                    }
                    let step_size = eta * gradient / scale[t];
                    for &(f, v) in &example.features {
                        vector[f as usize * topics + t] -= step_size * f64::from(v);
                    }
                    bias[t] -= eta * gradient;
                }
            }
        }
        for row in vector.chunks_mut(topics) {
            for (weight, scale) in row.iter_mut().zip(&scale) {
                *weight *= scale;
            }
        }
        Fit {
            bias,
            weights: vector,
        }
    }

    /// The same classifiers with each topic's `keep` strongest weights and the rest zero.
    fn pruned(mut self, keep: usize) -> Fit {
        let topics = self.bias.len();
        let features = self.weights.len() / topics;
        if keep >= features {
            return self;
        }
        for t in 0..topics {
            let mut magnitudes: Vec<f64> = (0..features)
                .map(|f| self.weights[f * topics + t].abs())
                .collect();
            let (_, cut, _) = magnitudes.select_nth_unstable_by(features - keep, f64::total_cmp);
            let cut = *cut;
            for f in 0..features {
                if self.weights[f * topics + t].abs() < cut {
                    self.weights[f * topics + t] = 0.0;
                }
            }
        }
        self
    }

    fn probabilities(&self, features: &[(u32, f32)]) -> Vec<f32> {
        let topics = self.bias.len();
        (self.bias.iter().enumerate())
            .map(|(t, bias)| {
                let weight = |f: u32| self.weights[f as usize * topics + t];
                sigmoid(bias + dot(features, weight)) as f32
            })
            .collect()
    }

    fn to_toml(&self, set: &TrainingSet, thresholds: &[f32], options: &Options) -> String {
        let topics = self.bias.len();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# The learned topic classifiers (schema/README.md, \"Topic model\"). Generated by\n\
             # `cargo run --release --manifest-path xtask/Cargo.toml -- train-topics` from\n\
             # {} ({} folds, C = {}, {} epochs, {} weights kept per topic): do not edit.\n",
            options.gold, options.folds, options.c, options.epochs, options.keep
        );
        let settings = toml::to_string(&toml::Table::from_iter([(
            "features".to_owned(),
            toml::Value::try_from(&SETTINGS).expect("settings serialize"),
        )]))
        .expect("settings serialize");
        out.push_str(&settings);
        for (t, key) in set.topics.iter().enumerate() {
            let _ = writeln!(
                out,
                "\n[[topic]]\nkey = \"{key}\"\nbias = {:.5}\nthreshold = {:.2}\n\n[topic.weights]",
                self.bias[t], thresholds[t]
            );
            let mut weights: Vec<(&str, f64)> = (set.vocabulary.iter().enumerate())
                .map(|(f, name)| (name.as_str(), self.weights[f * topics + t]))
                .filter(|&(_, weight)| weight != 0.0)
                .collect();
            weights.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(b.0)));
            for (name, weight) in weights {
                let _ = writeln!(
                    out,
                    "{} = {weight:.5}",
                    toml::Value::String(name.to_owned())
                );
            }
        }
        out
    }
}

/// Σ weight(feature) × value over an article's sparse features.
fn dot(features: &[(u32, f32)], weight: impl Fn(u32) -> f64) -> f64 {
    features
        .iter()
        .map(|&(f, v)| weight(f) * f64::from(v))
        .sum()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn shuffle(items: &mut [usize], state: &mut u64) {
    for i in (1..items.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        items.swap(i, (*state % (i as u64 + 1)) as usize);
    }
}

/// Per topic, the threshold that maximises F1 on the out-of-fold probabilities, printed with
/// the cross-validated precision, recall and F1 it gives.
fn report_thresholds(set: &TrainingSet, out_of_fold: &[Vec<f32>]) -> Vec<f32> {
    let mut totals = [0usize; 3];
    let mut thresholds = Vec::new();
    eprintln!("cross-validated on the training articles:");
    eprintln!(
        "  {:<15} {:>5} {:>9} {:>9} {:>7} {:>7}",
        "topic", "gold", "threshold", "precision", "recall", "F1"
    );
    for (t, key) in set.topics.iter().enumerate() {
        let counts = |threshold: f32| {
            let mut tally = [0usize; 3];
            for (example, probabilities) in set.examples.iter().zip(out_of_fold) {
                match (probabilities[t] >= threshold, example.labels[t]) {
                    (true, true) => tally[0] += 1,
                    (true, false) => tally[1] += 1,
                    (false, true) => tally[2] += 1,
                    (false, false) => {}
                }
            }
            tally
        };
        let f1 = |[tp, fp, fn_]: [usize; 3]| 2.0 * tp as f64 / (2 * tp + fp + fn_).max(1) as f64;
        // Among equally good thresholds, the one nearest 0.5.
        let best = (5..=95)
            .map(|percent| percent as f32 / 100.0)
            .max_by(|&a, &b| {
                f1(counts(a))
                    .total_cmp(&f1(counts(b)))
                    .then((b - 0.5).abs().total_cmp(&(a - 0.5).abs()))
            })
            .expect("thresholds to try");
        let tally = counts(best);
        let [tp, fp, fn_] = tally;
        eprintln!(
            "  {key:<15} {:>5} {best:>9.2} {:>9.3} {:>7.3} {:>7.3}",
            tp + fn_,
            tp as f64 / (tp + fp).max(1) as f64,
            tp as f64 / (tp + fn_).max(1) as f64,
            f1(tally)
        );
        for (total, count) in totals.iter_mut().zip(tally) {
            *total += count;
        }
        thresholds.push(best);
    }
    let [tp, fp, fn_] = totals;
    eprintln!(
        "  {:<15} {:>5} {:>9} {:>9.3} {:>7.3} {:>7.3}",
        "micro",
        tp + fn_,
        "",
        tp as f64 / (tp + fp).max(1) as f64,
        tp as f64 / (tp + fn_).max(1) as f64,
        2.0 * tp as f64 / (2 * tp + fp + fn_) as f64
    );
    thresholds
}
