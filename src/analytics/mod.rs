//! Analytics over a query's results, independent of the backend: articles over time, and how
//! facet values co-occur with a query and with each other. Backends return raw counts; this
//! module shapes them and renders them as text.

mod cooc;
mod timeline;

pub use cooc::{
    CoocOptions, CoocOrder, CoocValue, Cooccurrence, Pair, PairCounts, PairTable, cooc_text,
    pair_table_text,
};
pub use timeline::{Bucket, Interval, Timeline, TimelineCounts, timeline_text};

use crate::output::Style;

/// The `limit` keys with the highest counts and their counts, highest first (ties by key).
fn most_frequent<K: Ord>(
    counts: impl IntoIterator<Item = (K, u64)>,
    limit: usize,
) -> Vec<(K, u64)> {
    let mut counts: Vec<(K, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts.truncate(limit);
    counts
}

/// `numerator / denominator`, or 0 when there is nothing to divide by.
fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 {
        0.0
    } else {
        numerator / denominator
    }
}

/// Rows of cells as aligned lines, columns two spaces apart: the first column left-aligned and
/// painted as a label, the others right-aligned; the first row is a header, painted whole.
fn table(style: Style, rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .enumerate()
        .map(|(index, row)| {
            let mut cells = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(column, (cell, &width))| {
                    if column == 0 {
                        format!("{cell:<width$}")
                    } else {
                        format!("{cell:>width$}")
                    }
                });
            let first = cells.next().unwrap_or_default();
            let rest: String = cells.map(|cell| format!("  {cell}")).collect();
            if index == 0 {
                style.label(&(first + &rest))
            } else {
                style.label(&first) + &rest
            }
        })
        .collect()
}

/// At most `chars` characters of `text`, the last one an ellipsis when cut.
fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn plural(count: u64) -> &'static str {
    if count == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_frequent_breaks_ties_by_key() {
        let counts = [("b", 2), ("c", 5), ("a", 2), ("d", 1)];
        assert_eq!(most_frequent(counts, 3), [("c", 5), ("a", 2), ("b", 2)]);
    }

    #[test]
    fn tables_align_columns() {
        let rows = vec![
            vec!["".to_owned(), "count".to_owned()],
            vec!["Russia".to_owned(), "7".to_owned()],
            vec!["Mali".to_owned(), "1234567".to_owned()],
        ];
        assert_eq!(
            table(Style { color: false }, &rows),
            ["          count", "Russia        7", "Mali    1234567"]
        );
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("NorthKorea", 12), "NorthKorea");
        assert_eq!(truncate("CentralAfricanRepublic", 12), "CentralAfri…");
    }
}
