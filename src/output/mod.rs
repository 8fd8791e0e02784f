//! All rendering, in one place: every response of the [service layer](crate::service) as
//! text for people, and as JSON or JSON Lines for scripts. Each response type implements
//! [`Render`]; [`emit`] picks the format. JSON is the response's own serde form, so every front
//! end (the CLI, the HTTP server) prints the same JSON for the same request.

mod analytics;
mod elasticsearch;
mod ingest;
mod lifecycle;
mod search;
mod style;
mod watch;

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use elasticsearch::EsExport;
pub use ingest::problem_text;
pub use search::human_bytes;
pub use style::Style;

use crate::schema::{DictionaryName, Fields};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Jsonl,
}

/// A response that can be shown: as text, and in JSON through its serde form.
pub trait Render: Serialize {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()>;

    /// JSON Lines: one object a line, for the list a response holds (its hits, buckets,
    /// values), else the whole response on one line.
    fn json_lines(&self, out: &mut dyn Write) -> io::Result<()> {
        write_json_line(out, self)
    }
}

/// Renders `response` in `format`.
pub fn emit<R: Render + ?Sized>(
    out: &mut dyn Write,
    format: Format,
    printer: &Printer,
    response: &R,
) -> io::Result<()> {
    match format {
        Format::Text => response.text(out, printer),
        Format::Json => write_json(out, response),
        Format::Jsonl => response.json_lines(out),
    }
}

/// What text rendering needs beyond a response: colours, and how the schema labels entities.
#[derive(Debug, Clone)]
pub struct Printer {
    pub style: Style,
    entity_fields: Vec<EntityField>,
}

/// A facet field as text shows it next to an article's entities.
#[derive(Debug, Clone)]
struct EntityField {
    /// The name a query uses for the field (`org`), else the field's name.
    label: String,
    dictionary: DictionaryName,
}

impl Printer {
    /// Entities are labelled and ordered as the facet fields of `fields` (the `about` field,
    /// which repeats salient countries, is left out).
    pub fn new(style: Style, fields: &Fields) -> Printer {
        let entity_fields = fields
            .facets()
            .filter(|spec| !spec.salient_only)
            .filter_map(|spec| {
                let label = spec.query_names.first().unwrap_or(&spec.name).clone();
                Some(EntityField {
                    label,
                    dictionary: spec.dictionary.clone()?,
                })
            })
            .collect();
        Printer {
            style,
            entity_fields,
        }
    }
}

#[cfg(test)]
impl Printer {
    /// Without colours, for the built-in schema.
    pub(crate) fn plain() -> Printer {
        let schema = crate::schema::Schema::builtin().expect("the built-in schema loads");
        Printer::new(Style { color: false }, &schema.fields)
    }
}

pub fn write_json<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

pub fn write_json_line<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

/// Each item on a line of its own.
fn json_lines_of<T: Serialize>(out: &mut dyn Write, items: &[T]) -> io::Result<()> {
    items.iter().try_for_each(|item| write_json_line(out, item))
}

fn date(date: Option<DateTime<Utc>>) -> String {
    date.map_or_else(
        || "undated".to_owned(),
        |date| date.format("%Y-%m-%d").to_string(),
    )
}

/// Rows of cells as aligned lines, columns two spaces apart: the first column left-aligned and
/// painted as a label, the others right-aligned; the first row is a header, painted whole.
pub(crate) fn table(style: Style, rows: &[Vec<String>]) -> Vec<String> {
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
pub(crate) fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

pub(crate) fn plural(count: u64) -> &'static str {
    if count == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

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
