//! `topic-model.toml`: the learned topic classifiers, as `xtask train-topics` writes them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::dictionaries::TopicSet;
use super::{SchemaError, invalid};

/// How an article's text becomes features, shared by training and extraction: each namespace
/// holds log-scaled counts of word unigrams and bigrams, divided by the square root of the
/// namespace's n-gram count and multiplied by its scale.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSettings {
    /// The lead: this many bytes from the start of the summary and body.
    pub lead_bytes: usize,
    pub text_scale: f32,
    pub title_scale: f32,
    pub lead_scale: f32,
    /// Scale of each topic's phrase score from topics.toml (`rule:KEY`, log-scaled).
    pub rule_scale: f32,
}

/// One topic's logistic regression: probability = sigmoid(bias + Σ weight × feature), and the
/// article gets the topic when the probability reaches `threshold`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TopicClassifier {
    pub key: String,
    pub bias: f32,
    pub threshold: f32,
    /// By feature name: `word`, `word word` (the whole text), `title:…`, `lead:…`, `rule:KEY`.
    #[serde(default)]
    pub weights: BTreeMap<String, f32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TopicModelSpec {
    pub features: Option<FeatureSettings>,
    #[serde(default, rename = "topic")]
    pub topics: Vec<TopicClassifier>,
}

const FILE: &str = "topic-model.toml";

impl TopicModelSpec {
    /// Checks the model against the topics it decides and the features it reads.
    pub(super) fn validate(&self, topics: &TopicSet) -> Result<(), SchemaError> {
        if self.topics.is_empty() {
            return Ok(());
        }
        let Some(settings) = &self.features else {
            return Err(invalid(
                FILE,
                "a model with topics needs a [features] table",
            ));
        };
        let scales = [
            settings.text_scale,
            settings.title_scale,
            settings.lead_scale,
            settings.rule_scale,
        ];
        if scales
            .iter()
            .any(|scale| !scale.is_finite() || *scale < 0.0)
        {
            return Err(invalid(
                FILE,
                "feature scales must be finite and not negative",
            ));
        }
        let known = |key: &str| topics.topics.iter().any(|topic| topic.key == key);
        let mut seen = std::collections::HashSet::new();
        for classifier in &self.topics {
            let key = &classifier.key;
            if !known(key) {
                return Err(invalid(
                    FILE,
                    format!("topic `{key}` is not in topics.toml"),
                ));
            }
            if !seen.insert(key) {
                return Err(invalid(FILE, format!("topic `{key}` has two classifiers")));
            }
            if !(0.0..=1.0).contains(&classifier.threshold) {
                return Err(invalid(
                    FILE,
                    format!("topic `{key}`: threshold must be a probability (0 to 1)"),
                ));
            }
            for (feature, weight) in &classifier.weights {
                if !weight.is_finite() {
                    return Err(invalid(
                        FILE,
                        format!("topic `{key}`: feature `{feature}` has no finite weight"),
                    ));
                }
                if let Some(rule) = feature.strip_prefix("rule:")
                    && !known(rule)
                {
                    return Err(invalid(
                        FILE,
                        format!("topic `{key}`: feature `{feature}` names an unknown topic"),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::schema::Schema;

    fn load_model(model: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("topic-model.toml"), model).unwrap();
        Schema::load(Some(dir.path())).unwrap_err().to_string()
    }

    const FEATURES: &str = "[features]\nlead_bytes = 400\ntext_scale = 1.0\n\
        title_scale = 0.5\nlead_scale = 0.0\nrule_scale = 0.3\n";

    #[test]
    fn a_classifier_must_name_a_topic_of_topics_toml() {
        let error = load_model(&format!(
            "{FEATURES}[[topic]]\nkey = \"football\"\nbias = 0.0\nthreshold = 0.5\n\
             [topic.weights]\ngoal = 1.0\n"
        ));
        assert!(
            error.ends_with("topic `football` is not in topics.toml"),
            "{error}"
        );
    }

    #[test]
    fn thresholds_are_probabilities_and_rule_features_name_topics() {
        let error = load_model(&format!(
            "{FEATURES}[[topic]]\nkey = \"trade\"\nbias = 0.0\nthreshold = 3.0\n"
        ));
        assert!(error.contains("threshold must be a probability"), "{error}");
        let error = load_model(&format!(
            "{FEATURES}[[topic]]\nkey = \"trade\"\nbias = 0.0\nthreshold = 0.5\n\
             [topic.weights]\n\"rule:football\" = 1.0\n"
        ));
        assert!(error.contains("names an unknown topic"), "{error}");
    }

    #[test]
    fn a_model_file_without_classifiers_is_a_valid_empty_model() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("topic-model.toml"), "# none\n").unwrap();
        let schema = Schema::load(Some(dir.path())).unwrap();
        assert!(schema.dictionaries.topic_model.topics.is_empty());
    }

    #[test]
    fn own_phrases_without_their_own_model_get_no_model() {
        let dir = tempfile::tempdir().unwrap();
        let topics = "threshold = 2.0\ntitle_weight = 2.0\n[[topic]]\nkey = \"polar\"\n\
                      name = \"Polar\"\nphrases = [{ text = \"penguin*\", weight = 1.0 }]\n";
        std::fs::write(dir.path().join("topics.toml"), topics).unwrap();
        let schema = Schema::load(Some(dir.path())).unwrap();
        assert!(schema.dictionaries.topic_model.topics.is_empty());
    }
}
