//! Timelines and co-occurrence tables.

use std::io::{self, Write};

use super::{Printer, Render, Style, json_lines_of, plural, table, truncate};
use crate::analytics::{CoocOrder, Cooccurrence, PairTable, Timeline};
use crate::service::CoocResponse;

/// Characters of a column header in a pair matrix.
const HEADER_CHARS: usize = 12;
/// Cells of the longest bar in a chart.
const CHART_CELLS: u64 = 50;
/// Cells of the longest bar beside a split table.
const TABLE_CELLS: u64 = 20;
const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

impl Render for Timeline {
    /// A bar chart of articles per bucket, or with a split a table of the series per bucket.
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let style = printer.style;
        writeln!(out, "{}", heading(style, self))?;
        match self.split_field {
            None => chart_text(out, style, self),
            Some(_) => split_text(out, style, self),
        }
    }

    fn json_lines(&self, out: &mut dyn Write) -> io::Result<()> {
        json_lines_of(out, &self.buckets)
    }
}

impl Render for CoocResponse {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        match self {
            CoocResponse::Values(cooc) => cooc_text(out, printer.style, cooc),
            CoocResponse::Pairs(pairs) => pair_table_text(out, printer.style, pairs),
        }
    }

    fn json_lines(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            CoocResponse::Values(cooc) => json_lines_of(out, &cooc.values),
            CoocResponse::Pairs(pairs) => json_lines_of(out, &pairs.pairs),
        }
    }
}

/// `1234 articles by month, 2017-01 to 2017-12 (5 undated)`.
fn heading(style: Style, timeline: &Timeline) -> String {
    let split = timeline
        .split_field
        .as_ref()
        .map(|field| format!(" and {field}"))
        .unwrap_or_default();
    let span = match (timeline.buckets.first(), timeline.buckets.last()) {
        (Some(first), Some(last)) => format!(", {} to {}", first.label, last.label),
        _ => String::new(),
    };
    let undated = if timeline.undated > 0 {
        format!(" ({} undated)", timeline.undated)
    } else {
        String::new()
    };
    format!(
        "{} article{} by {}{span}{undated}",
        timeline.total,
        plural(timeline.total),
        style.title(&format!("{}{split}", timeline.by.name()))
    )
}

fn chart_text(out: &mut dyn Write, style: Style, timeline: &Timeline) -> io::Result<()> {
    let longest = longest_bucket(timeline);
    let width = timeline
        .buckets
        .iter()
        .map(|bucket| bucket.label.chars().count())
        .max()
        .unwrap_or(0);
    for bucket in &timeline.buckets {
        writeln!(
            out,
            "  {}  {} {}",
            style.label(&format!("{:<width$}", bucket.label)),
            bar(bucket.count, longest, CHART_CELLS),
            style.dim(&bucket.count.to_string())
        )?;
    }
    Ok(())
}

fn split_text(out: &mut dyn Write, style: Style, timeline: &Timeline) -> io::Result<()> {
    let header = [timeline.by.name(), "total"]
        .into_iter()
        .map(str::to_owned)
        .chain(timeline.series.iter().cloned())
        .collect();
    let rows: Vec<Vec<String>> = std::iter::once(header)
        .chain(timeline.buckets.iter().map(|bucket| {
            [bucket.label.clone(), bucket.count.to_string()]
                .into_iter()
                .chain(bucket.split.iter().map(u64::to_string))
                .collect()
        }))
        .collect();
    let lines = table(style, &rows);
    let longest = longest_bucket(timeline);
    let bars = std::iter::once(String::new()).chain(
        timeline
            .buckets
            .iter()
            .map(|bucket| bar(bucket.count, longest, TABLE_CELLS)),
    );
    for (line, bar) in lines.into_iter().zip(bars) {
        let line = format!("  {line}  {bar}");
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn longest_bucket(timeline: &Timeline) -> u64 {
    timeline
        .buckets
        .iter()
        .map(|bucket| bucket.count)
        .max()
        .unwrap_or(0)
}

/// `count` as block characters in eighths of a cell, `longest` filling `cells`; a count above
/// zero always shows.
fn bar(count: u64, longest: u64, cells: u64) -> String {
    if count == 0 {
        return String::new();
    }
    let eighths = (count as f64 / longest as f64 * (cells * 8) as f64).round() as usize;
    let eighths = eighths.max(1);
    "█".repeat(eighths / 8) + EIGHTHS[eighths % 8]
}

/// `country in 123 of 29334 articles, by lift`, then a line per value.
fn cooc_text(out: &mut dyn Write, style: Style, cooc: &Cooccurrence) -> io::Result<()> {
    let order = match cooc.order {
        CoocOrder::Count => "count",
        CoocOrder::Lift => "lift",
    };
    writeln!(
        out,
        "{} in {} of {} article{}, by {order}",
        style.title(&cooc.field),
        cooc.results,
        cooc.articles,
        plural(cooc.articles)
    )?;
    let header = [&cooc.field, "count", "share", "index", "lift"].map(str::to_owned);
    let rows: Vec<Vec<String>> = std::iter::once(Vec::from(header))
        .chain(cooc.values.iter().map(|value| {
            vec![
                value.key.clone(),
                value.count.to_string(),
                format!("{:.1}%", value.share * 100.0),
                value.index_count.to_string(),
                format!("{:.2}", value.lift),
            ]
        }))
        .collect();
    write_lines(out, table(style, &rows))
}

/// A matrix of the most frequent values, then the pairs seen together most often.
fn pair_table_text(out: &mut dyn Write, style: Style, pairs: &PairTable) -> io::Result<()> {
    writeln!(
        out,
        "{} × {} in {} article{}",
        style.title(&pairs.fields[0]),
        style.title(&pairs.fields[1]),
        pairs.results,
        plural(pairs.results)
    )?;
    write_lines(out, table(style, &matrix_rows(pairs)))?;
    writeln!(out)?;
    write_lines(out, table(style, &pair_rows(pairs)))
}

fn matrix_rows(pairs: &PairTable) -> Vec<Vec<String>> {
    let header = std::iter::once(String::new())
        .chain(pairs.columns.iter().map(|key| truncate(key, HEADER_CHARS)))
        .collect();
    let rows = pairs.rows.iter().zip(&pairs.cells).map(|(key, cells)| {
        std::iter::once(key.clone())
            .chain(cells.iter().map(u64::to_string))
            .collect()
    });
    std::iter::once(header).chain(rows).collect()
}

fn pair_rows(pairs: &PairTable) -> Vec<Vec<String>> {
    let header = vec!["pair".to_owned(), "count".to_owned(), "lift".to_owned()];
    let rows = pairs.pairs.iter().map(|pair| {
        vec![
            format!("{} + {}", pair.first, pair.second),
            pair.count.to_string(),
            format!("{:.2}", pair.lift),
        ]
    });
    std::iter::once(header).chain(rows).collect()
}

fn write_lines(out: &mut dyn Write, lines: Vec<String>) -> io::Result<()> {
    for line in lines {
        writeln!(out, "  {}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::cooc_fixtures::{cooc, two_field_table};
    use crate::analytics::timeline_fixtures::{counts, day, split_timeline};
    use crate::analytics::{CoocOrder, Interval};

    fn text(render: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        render(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn cooc_table_text() {
        let cooc = cooc(5, CoocOrder::Lift, 10);
        assert_eq!(
            text(|out| cooc_text(out, Style { color: false }, &cooc)),
            "country in 100 of 1000 articles, by lift\n  \
             country  count  share  index   lift\n  \
             D           10  10.0%     10  10.00\n  \
             A           50  50.0%    100   5.00\n  \
             B           10  10.0%    500   0.20\n"
        );
    }

    #[test]
    fn pair_matrix_text() {
        let table = two_field_table();
        assert_eq!(
            text(|out| pair_table_text(out, Style { color: false }, &table)),
            "country × topic in 4 articles\n  \
             \x20           nuclear-wea…  sanctions\n  \
             NorthKorea             3          1\n  \
             Russia                 0          1\n\
             \n  \
             pair                                       count  lift\n  \
             NorthKorea + nuclear-weapons-and-missiles      3  1.33\n  \
             NorthKorea + sanctions                         1  0.67\n  \
             Russia + sanctions                             1  2.00\n"
        );
    }

    fn timeline_text(timeline: &Timeline) -> String {
        let mut out = Vec::new();
        timeline.text(&mut out, &Printer::plain()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn chart() {
        let counts = counts(
            &[
                (day(2017, 1, 1), 8),
                (day(2017, 3, 1), 3),
                (day(2017, 4, 1), 1),
            ],
            &[],
            2,
        );
        let timeline = Timeline::build(counts, Interval::Month, None, 5);
        let full = "█".repeat(50);
        let three_eighths = format!("{}▊", "█".repeat(18));
        assert_eq!(
            timeline_text(&timeline),
            format!(
                "14 articles by month, 2017-01 to 2017-04 (2 undated)\n  \
                 2017-01  {full} 8\n  \
                 2017-02   0\n  \
                 2017-03  {three_eighths} 3\n  \
                 2017-04  ██████▎ 1\n"
            )
        );
    }

    #[test]
    fn split_table() {
        assert_eq!(
            timeline_text(&split_timeline()),
            "8 articles by month and country, 2017-01 to 2017-03 (1 undated)\n  \
             month    total  China  Mali\n  \
             2017-01      5      2     1  ████████████████████\n  \
             2017-02      0      0     0\n  \
             2017-03      2      1     2  ████████\n"
        );
    }
}
