//! Co-occurrence: which facet values are unusually frequent among a query's results (lift
//! against the whole index), and which pairs of values appear together.

use std::collections::HashMap;

use serde::Serialize;

use super::ratio;
use crate::results::{FacetCount, most_frequent, shown_spellings};
use crate::schema::normalize_alias;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CoocOrder {
    Count,
    Lift,
}

/// Which values a co-occurrence table keeps, and in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoocOptions {
    /// Values with fewer matching articles are left out: a lift over two articles means little.
    pub min_count: u64,
    pub order: CoocOrder,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cooccurrence {
    pub field: String,
    /// Articles matching the query.
    pub results: u64,
    /// Articles in the whole index.
    pub articles: u64,
    pub order: CoocOrder,
    pub values: Vec<CoocValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoocValue {
    pub key: String,
    /// Matching articles with the value.
    pub count: u64,
    /// Articles in the whole index with the value.
    pub index_count: u64,
    /// `count / results`.
    pub share: f64,
    /// P(value | query) / P(value): above 1 when the value is unusually frequent in the results.
    pub lift: f64,
}

impl Cooccurrence {
    /// `results` and `index` are the article totals and complete value counts of `field` under
    /// the query and over the whole index. Values are kept and ordered (descending; ties by
    /// key) as `options` say.
    pub fn build(
        field: &str,
        (results, in_results): (u64, &[FacetCount]),
        (articles, in_index): (u64, &[FacetCount]),
        options: CoocOptions,
    ) -> Cooccurrence {
        let CoocOptions {
            min_count,
            order,
            limit,
        } = options;
        // Each list shows a value under its most frequent spelling, which can differ between them.
        let in_index: HashMap<String, u64> = in_index
            .iter()
            .map(|value| (normalize_alias(&value.key), value.count))
            .collect();
        let mut values: Vec<CoocValue> = in_results
            .iter()
            .filter(|value| value.count >= min_count)
            .map(|value| {
                // The whole index has at least as many articles with a value as the results.
                let index_count = in_index
                    .get(&normalize_alias(&value.key))
                    .map_or(value.count, |&count| count.max(value.count));
                CoocValue::new(value, index_count, results, articles)
            })
            .collect();
        values.sort_by(|a, b| {
            let by = match order {
                CoocOrder::Count => b.count.cmp(&a.count),
                CoocOrder::Lift => b.lift.total_cmp(&a.lift),
            };
            by.then_with(|| a.key.cmp(&b.key))
        });
        values.truncate(limit);
        Cooccurrence {
            field: field.to_owned(),
            results,
            articles,
            order,
            values,
        }
    }
}

impl CoocValue {
    fn new(value: &FacetCount, index_count: u64, results: u64, articles: u64) -> CoocValue {
        let count = value.count as f64;
        CoocValue {
            key: value.key.clone(),
            count: value.count,
            index_count,
            share: ratio(count, results as f64),
            lift: ratio(count * articles as f64, results as f64 * index_count as f64),
        }
    }
}

/// Raw pair counts a backend returns: per matching article, every (a, b) with a from field A's
/// values and b from field B's; when A and B are the same field, each unordered pair of distinct
/// values once, stored with a < b.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairCounts {
    /// Matching articles.
    pub total: u64,
    /// Matching articles per value of field A.
    pub first: HashMap<String, u64>,
    /// Matching articles per value of field B (the same as `first` when A is B).
    pub second: HashMap<String, u64>,
    pub pairs: HashMap<(String, String), u64>,
}

impl PairCounts {
    /// The counts with spellings a query cannot tell apart (`Sample Times`, `SAMPLE TIMES`)
    /// counted as one; for one field, pairs of two spellings of one value are dropped.
    fn with_spellings_merged(self, one_field: bool) -> PairCounts {
        let merge =
            |values: HashMap<String, u64>| -> (HashMap<String, u64>, HashMap<String, String>) {
                let shown =
                    shown_spellings(values.iter().map(|(value, &count)| (value.as_str(), count)));
                let mut merged: HashMap<String, u64> = HashMap::new();
                for (value, count) in &values {
                    *merged.entry(shown[value].clone()).or_default() += count;
                }
                (merged, shown)
            };
        let (first, first_shown) = merge(self.first);
        let (second, second_shown) = merge(self.second);
        let mut pairs: HashMap<(String, String), u64> = HashMap::new();
        for ((a, b), count) in self.pairs {
            let (a, b) = (first_shown[&a].clone(), second_shown[&b].clone());
            let pair = match one_field {
                true if a == b => continue,
                true if b < a => (b, a),
                _ => (a, b),
            };
            *pairs.entry(pair).or_default() += count;
        }
        PairCounts {
            total: self.total,
            first,
            second,
            pairs,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairTable {
    pub fields: [String; 2],
    pub results: u64,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    /// `cells[r][c]`: articles with both `rows[r]` and `columns[c]`.
    pub cells: Vec<Vec<u64>>,
    pub pairs: Vec<Pair>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    pub first: String,
    pub second: String,
    pub count: u64,
    /// How much more often the two appear together in the results than if independent.
    pub lift: f64,
}

impl PairTable {
    /// rows/columns: the `size` most frequent values of each field (for one field, the same list
    /// for both); cells[r][c] = articles with both (symmetric for one field, 0 on the diagonal);
    /// `pairs`: the top `limit` pairs by count (ties by keys) among those in at least
    /// `min_count` articles, with lift = results * count / (first_count * second_count).
    pub fn build(
        fields: [&str; 2],
        counts: PairCounts,
        size: usize,
        limit: usize,
        min_count: u64,
    ) -> PairTable {
        let one_field = fields[0] == fields[1];
        let counts = counts.with_spellings_merged(one_field);
        let frequent = |values: &HashMap<String, u64>| -> Vec<String> {
            most_frequent(values.iter().map(|(key, &count)| (key, count)), size)
                .into_iter()
                .map(|(key, _)| key.clone())
                .collect()
        };
        let rows = frequent(&counts.first);
        let columns = if one_field {
            rows.clone()
        } else {
            frequent(&counts.second)
        };
        PairTable {
            fields: fields.map(str::to_owned),
            results: counts.total,
            cells: cells(&counts.pairs, &rows, &columns, one_field),
            pairs: top_pairs(&counts, limit, min_count),
            rows,
            columns,
        }
    }
}

/// `cells[r][c]`: the count of pair (`rows[r]`, `columns[c]`); for one field, pairs are stored
/// with the smaller value first.
fn cells(
    pairs: &HashMap<(String, String), u64>,
    rows: &[String],
    columns: &[String],
    one_field: bool,
) -> Vec<Vec<u64>> {
    let pairs: HashMap<(&str, &str), u64> = pairs
        .iter()
        .map(|((a, b), &count)| ((a.as_str(), b.as_str()), count))
        .collect();
    let together = |a: &str, b: &str| {
        let key = if one_field && b < a { (b, a) } else { (a, b) };
        pairs.get(&key).copied().unwrap_or(0)
    };
    rows.iter()
        .map(|row| columns.iter().map(|column| together(row, column)).collect())
        .collect()
}

fn top_pairs(counts: &PairCounts, limit: usize, min_count: u64) -> Vec<Pair> {
    let alone =
        |values: &HashMap<String, u64>, key: &String| values.get(key).copied().unwrap_or(0) as f64;
    let frequent_enough = counts
        .pairs
        .iter()
        .filter(|(_, count)| **count >= min_count);
    most_frequent(frequent_enough.map(|(pair, &count)| (pair, count)), limit)
        .into_iter()
        .map(|((first, second), count)| Pair {
            first: first.clone(),
            second: second.clone(),
            count,
            lift: ratio(
                counts.total as f64 * count as f64,
                alone(&counts.first, first) * alone(&counts.second, second),
            ),
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn pair_values_a_query_cannot_tell_apart_are_one() {
        let spellings = HashMap::from([
            ("A Co".to_owned(), 2),
            ("a co".to_owned(), 3),
            ("B".to_owned(), 3),
        ]);
        let counts = PairCounts {
            total: 5,
            first: spellings.clone(),
            second: spellings,
            pairs: HashMap::from([
                (("A Co".to_owned(), "a co".to_owned()), 1),
                (("A Co".to_owned(), "B".to_owned()), 1),
                (("B".to_owned(), "a co".to_owned()), 2),
            ]),
        };
        let table = PairTable::build(["source", "source"], counts, 5, 5, 1);
        assert_eq!(table.rows, ["a co", "B"]);
        assert_eq!(table.cells, [[0, 3], [3, 0]]);
        assert_eq!(table.pairs.len(), 1);
    }

    fn facet_counts(values: &[(&str, u64)]) -> Vec<FacetCount> {
        values
            .iter()
            .map(|&(key, count)| FacetCount::new(key.to_owned(), count))
            .collect()
    }

    /// 100 of 1000 articles match; A is common in both, B rarer in the results than overall,
    /// C and D appear (almost) only in the results.
    pub(crate) fn cooc(min_count: u64, order: CoocOrder, limit: usize) -> Cooccurrence {
        let in_results = facet_counts(&[("A", 50), ("B", 10), ("C", 2), ("D", 10)]);
        let in_index = facet_counts(&[("A", 100), ("B", 500), ("C", 2), ("D", 10), ("E", 7)]);
        Cooccurrence::build(
            "country",
            (100, &in_results),
            (1000, &in_index),
            CoocOptions {
                min_count,
                order,
                limit,
            },
        )
    }

    fn keys(cooc: &Cooccurrence) -> Vec<&str> {
        cooc.values.iter().map(|value| value.key.as_str()).collect()
    }

    #[test]
    fn lift_compares_results_with_the_index() {
        let cooc = cooc(1, CoocOrder::Lift, 10);
        let lifts: Vec<(&str, f64, f64)> = cooc
            .values
            .iter()
            .map(|value| (value.key.as_str(), value.share, value.lift))
            .collect();
        assert_eq!(
            lifts,
            [
                ("C", 0.02, 10.0),
                ("D", 0.1, 10.0),
                ("A", 0.5, 5.0),
                ("B", 0.1, 0.2)
            ]
        );
        assert_eq!(cooc.values[2].index_count, 100);
    }

    #[test]
    fn rare_values_are_left_out_and_the_rest_ordered() {
        assert_eq!(keys(&cooc(5, CoocOrder::Lift, 10)), ["D", "A", "B"]);
        assert_eq!(keys(&cooc(1, CoocOrder::Count, 10)), ["A", "B", "D", "C"]);
        assert_eq!(keys(&cooc(1, CoocOrder::Count, 2)), ["A", "B"]);
    }

    #[test]
    fn spellings_match_across_the_lists() {
        let in_results = facet_counts(&[("Sample Times", 4)]);
        let in_index = facet_counts(&[("SAMPLE TIMES", 40)]);
        let cooc = Cooccurrence::build(
            "source",
            (10, &in_results),
            (100, &in_index),
            CoocOptions {
                min_count: 1,
                order: CoocOrder::Lift,
                limit: 10,
            },
        );
        assert_eq!(cooc.values[0].index_count, 40);
        assert_eq!(cooc.values[0].lift, 1.0);
    }

    fn one_field_counts() -> PairCounts {
        let values = |pairs: &[(&str, u64)]| {
            pairs
                .iter()
                .map(|&(key, count)| (key.to_owned(), count))
                .collect::<HashMap<_, _>>()
        };
        let first = values(&[("A", 6), ("B", 5), ("C", 2), ("D", 1)]);
        PairCounts {
            total: 10,
            second: first.clone(),
            first,
            pairs: [(("A", "B"), 4), (("A", "C"), 1), (("B", "C"), 2)]
                .into_iter()
                .map(|((a, b), count)| ((a.to_owned(), b.to_owned()), count))
                .collect(),
        }
    }

    #[test]
    fn one_field_makes_a_symmetric_matrix() {
        let table = PairTable::build(["country", "country"], one_field_counts(), 3, 10, 1);
        assert_eq!(table.rows, ["A", "B", "C"]);
        assert_eq!(table.columns, table.rows);
        assert_eq!(table.cells, [[0, 4, 1], [4, 0, 2], [1, 2, 0]]);
    }

    #[test]
    fn pairs_by_count_with_lift() {
        let table = PairTable::build(["country", "country"], one_field_counts(), 2, 2, 1);
        assert_eq!(table.cells, [[0, 4], [4, 0]]);
        let rare_left_out = PairTable::build(["country", "country"], one_field_counts(), 2, 10, 4);
        assert_eq!(
            rare_left_out.cells, table.cells,
            "the matrix keeps every count"
        );
        assert!(rare_left_out.pairs.iter().all(|pair| pair.count >= 4));
        assert_eq!(rare_left_out.pairs.len(), 1);
        let pairs: Vec<(&str, &str, u64, f64)> = table
            .pairs
            .iter()
            .map(|pair| {
                (
                    pair.first.as_str(),
                    pair.second.as_str(),
                    pair.count,
                    pair.lift,
                )
            })
            .collect();
        // 10 × 4 / (6 × 5) and 10 × 2 / (5 × 2).
        assert_eq!(pairs, [("A", "B", 4, 4.0 / 3.0), ("B", "C", 2, 2.0)]);
    }

    pub(crate) fn two_field_table() -> PairTable {
        let counts = PairCounts {
            total: 4,
            first: [("NorthKorea", 3), ("Russia", 1)]
                .map(|(key, count)| (key.to_owned(), count))
                .into(),
            second: [("sanctions", 2), ("nuclear-weapons-and-missiles", 3)]
                .map(|(key, count)| (key.to_owned(), count))
                .into(),
            pairs: [
                (("NorthKorea", "nuclear-weapons-and-missiles"), 3),
                (("NorthKorea", "sanctions"), 1),
                (("Russia", "sanctions"), 1),
            ]
            .map(|((a, b), count)| ((a.to_owned(), b.to_owned()), count))
            .into(),
        };
        PairTable::build(["country", "topic"], counts, 5, 5, 1)
    }

    #[test]
    fn two_fields_keep_their_own_values() {
        let table = two_field_table();
        assert_eq!(table.rows, ["NorthKorea", "Russia"]);
        assert_eq!(table.columns, ["nuclear-weapons-and-missiles", "sanctions"]);
        assert_eq!(table.cells, [[3, 1], [0, 1]]);
        assert_eq!(table.pairs[2].lift, 2.0);
    }
}
