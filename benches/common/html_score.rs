//! The article-body score of the extraction benchmark (../shared/html-benchmark/README.md):
//! 4-token shingles of `\w+` tokens, counts normalised per page, precision and recall averaged
//! over pages.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\w+").expect("valid pattern"));

const SHINGLE_TOKENS: usize = 4;

fn shingles(text: &str) -> HashMap<Vec<&str>, usize> {
    let tokens: Vec<&str> = WORD.find_iter(text).map(|token| token.as_str()).collect();
    let mut counts = HashMap::new();
    if tokens.is_empty() {
        return counts;
    }
    for shingle in tokens.windows(SHINGLE_TOKENS.min(tokens.len())) {
        *counts.entry(shingle.to_vec()).or_insert(0) += 1;
    }
    counts
}

/// Precision and recall averaged over the pages scored so far.
#[derive(Default)]
pub struct Score {
    precision_sum: f64,
    precision_pages: usize,
    recall_sum: f64,
    recall_pages: usize,
}

impl Score {
    pub fn add(&mut self, predicted: &str, truth: &str) {
        let predicted = shingles(predicted);
        let truth = shingles(truth);
        let mut true_positives = 0;
        let mut false_positives = 0;
        for (shingle, &count) in &predicted {
            let in_truth = truth.get(shingle).copied().unwrap_or(0);
            true_positives += count.min(in_truth);
            false_positives += count.saturating_sub(in_truth);
        }
        let false_negatives: usize = truth
            .iter()
            .map(|(shingle, &count)| {
                count.saturating_sub(predicted.get(shingle).copied().unwrap_or(0))
            })
            .sum();
        let exact = false_positives == 0 && false_negatives == 0;
        if let Some(precision) = share(true_positives, false_positives, exact) {
            self.precision_sum += precision;
            self.precision_pages += 1;
        }
        if let Some(recall) = share(true_positives, false_negatives, exact) {
            self.recall_sum += recall;
            self.recall_pages += 1;
        }
    }

    pub fn precision(&self) -> f64 {
        self.precision_sum / self.precision_pages.max(1) as f64
    }

    pub fn recall(&self) -> f64 {
        self.recall_sum / self.recall_pages.max(1) as f64
    }

    pub fn f1(&self) -> f64 {
        let (precision, recall) = (self.precision(), self.recall());
        if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        }
    }
}

/// TP / (TP + wrong) for one page: 1 when the page came out exactly, none when both are 0.
fn share(true_positives: usize, wrong: usize, exact: bool) -> Option<f64> {
    match true_positives + wrong {
        0 => None,
        _ if exact => Some(1.0),
        all => Some(true_positives as f64 / all as f64),
    }
}
