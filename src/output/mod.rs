//! Rendering results for people (text) and scripts (JSON, JSON Lines).

mod style;

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use style::Style;

use crate::eval::{Evaluation, FieldScore};
use crate::extract::{Decision, Entities};
use crate::index::IndexReport;
use crate::query::QueryError;
use crate::results::{
    FacetCount, FacetCounts, Hit, IndexStats, Related, SearchResults, SharedValues, Snippet,
    StoredArticle,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Jsonl,
}

/// Distinctive words listed above related articles.
const RELATED_WORDS_SHOWN: usize = 12;

/// Facet values shown per field on each hit.
const HIT_FACET_VALUES: usize = 6;

pub fn write_json<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// One answered query of `geonews search --batch`.
#[derive(Debug, Serialize)]
pub struct BatchResult<'a> {
    pub query: &'a str,
    pub total: u64,
    pub ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub facets: Vec<FacetCounts>,
    /// From reading the query to having the results, inside the process.
    pub latency_us: u128,
}

impl<'a> BatchResult<'a> {
    pub fn new(query: &'a str, results: SearchResults<String>, latency_us: u128) -> Self {
        BatchResult {
            query,
            total: results.total,
            ids: results.hits,
            facets: results.facets,
            latency_us,
        }
    }
}

/// A query of `geonews search --batch` that could not be run.
#[derive(Debug, Serialize)]
pub struct BatchError<'a> {
    pub query: &'a str,
    pub error: &'a str,
    /// 1-based, in characters.
    pub column: usize,
}

impl<'a> BatchError<'a> {
    pub fn new(error: &'a QueryError) -> Self {
        BatchError {
            query: &error.query,
            error: &error.message,
            column: error.column,
        }
    }
}

pub fn write_json_line<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

fn date(date: Option<DateTime<Utc>>) -> String {
    date.map_or_else(
        || "undated".to_owned(),
        |date| date.format("%Y-%m-%d").to_string(),
    )
}

pub fn search_text(
    out: &mut dyn Write,
    style: Style,
    query: &str,
    offset: usize,
    results: &SearchResults,
) -> io::Result<()> {
    let everything_shown = offset == 0 && results.hits.len() as u64 == results.total;
    let shown = if results.hits.is_empty() || everything_shown {
        String::new()
    } else {
        format!(", showing {}–{}", offset + 1, offset + results.hits.len())
    };
    let plural = if results.total == 1 { "" } else { "s" };
    writeln!(
        out,
        "{} hit{plural} for {}{shown}",
        results.total,
        style.title(if query.trim().is_empty() {
            "(everything)"
        } else {
            query.trim()
        })
    )?;
    for (rank, hit) in results.hits.iter().enumerate() {
        writeln!(out)?;
        hit_text(out, style, offset + rank + 1, hit)?;
    }
    if results.facets.iter().any(|facet| !facet.values.is_empty()) {
        writeln!(out)?;
        facets_text(out, style, &results.facets)?;
    }
    Ok(())
}

pub fn related_text(out: &mut dyn Write, style: Style, related: &Related) -> io::Result<()> {
    writeln!(
        out,
        "{} articles like {}  {}",
        related.hits.len(),
        style.dim(&related.id),
        style.title(&related.title)
    )?;
    if !related.words.is_empty() {
        let shown = related.words.len().min(RELATED_WORDS_SHOWN);
        writeln!(
            out,
            "{} {}",
            style.label("by words"),
            related.words[..shown].join(", ")
        )?;
    }
    for (rank, related_hit) in related.hits.iter().enumerate() {
        writeln!(out)?;
        hit_text(out, style, rank + 1, &related_hit.hit)?;
        if !related_hit.shared.is_empty() {
            writeln!(
                out,
                "     {} {}",
                style.label("shares"),
                shared_text(&related_hit.shared)
            )?;
        }
    }
    Ok(())
}

/// `country: NorthKorea, Russia · topic: sanctions`.
fn shared_text(shared: &[SharedValues]) -> String {
    shared
        .iter()
        .map(|values| format!("{}: {}", values.field, values.keys.join(", ")))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn hit_text(out: &mut dyn Write, style: Style, rank: usize, hit: &Hit) -> io::Result<()> {
    writeln!(out, "{rank:>3}. {}", style.title(&hit.title))?;
    let mut meta = vec![date(hit.published)];
    meta.extend(hit.source.clone());
    meta.push(hit.id.clone());
    writeln!(out, "     {}", style.dim(&meta.join(" · ")))?;
    let facets = entity_summary(style, &hit.entities);
    if !facets.is_empty() {
        writeln!(out, "     {facets}")?;
    }
    let snippet = snippet_text(style, &hit.snippet);
    if !snippet.is_empty() {
        writeln!(out, "     {snippet}")?;
    }
    Ok(())
}

/// `country: NorthKorea, Russia · topic: sanctions` for the fields an article has.
fn entity_summary(style: Style, entities: &Entities) -> String {
    let fields: [(&str, Vec<&str>); 4] = [
        (
            "country",
            entities.countries.iter().map(|c| c.key.as_str()).collect(),
        ),
        (
            "topic",
            entities.topics.iter().map(|t| t.key.as_str()).collect(),
        ),
        (
            "person",
            entities.people.iter().map(|p| p.key.as_str()).collect(),
        ),
        (
            "org",
            entities
                .organizations
                .iter()
                .map(|o| o.key.as_str())
                .collect(),
        ),
    ];
    fields
        .into_iter()
        .filter(|(_, keys)| !keys.is_empty())
        .map(|(label, keys)| {
            let more = keys.len().saturating_sub(HIT_FACET_VALUES);
            let mut shown = keys[..keys.len().min(HIT_FACET_VALUES)].join(", ");
            if more > 0 {
                shown.push_str(&format!(" +{more}"));
            }
            format!("{} {shown}", style.label(&format!("{label}:")))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The snippet on one line, highlighted words emphasised.
fn snippet_text(style: Style, snippet: &Snippet) -> String {
    let mut text = String::with_capacity(snippet.text.len() + 16);
    let mut at = 0;
    for &(start, end) in &snippet.highlights {
        if start < at || end > snippet.text.len() {
            continue;
        }
        text.push_str(&snippet.text[at..start]);
        text.push_str(&style.highlight(&snippet.text[start..end]));
        at = end;
    }
    text.push_str(&snippet.text[at..]);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn facets_text(out: &mut dyn Write, style: Style, facets: &[FacetCounts]) -> io::Result<()> {
    let width = facets
        .iter()
        .map(|facet| facet.field.len())
        .max()
        .unwrap_or(0);
    for facet in facets {
        let values: Vec<String> = facet
            .values
            .iter()
            .map(|value| format!("{} {}", value.key, style.dim(&value.count.to_string())))
            .collect();
        let more = facet.distinct.saturating_sub(facet.values.len());
        let mut more = if more > 0 {
            format!(" (+{more} more)")
        } else {
            String::new()
        };
        if facet.multi_select {
            more.push_str(&style.dim(&format!(" (counted without the {} filter)", facet.field)));
        }
        writeln!(
            out,
            "{}  {}{more}",
            style.label(&format!("{:<width$}", facet.field)),
            if values.is_empty() {
                "-".to_owned()
            } else {
                values.join(" · ")
            }
        )?;
    }
    Ok(())
}

/// One facet field as a table: value and count per line, values below others indented.
pub fn facet_table_text(
    out: &mut dyn Write,
    style: Style,
    total: u64,
    facet: &FacetCounts,
) -> io::Result<()> {
    writeln!(
        out,
        "{} values of {} in {total} articles",
        facet.distinct,
        style.title(&facet.field)
    )?;
    let width = widest_key(&facet.values, 0);
    facet_rows_text(out, &facet.values, 0, width)
}

/// The widest key with its indentation, at `depth` and below.
fn widest_key(values: &[FacetCount], depth: usize) -> usize {
    values
        .iter()
        .map(|value| (2 * depth + value.key.len()).max(widest_key(&value.children, depth + 1)))
        .max()
        .unwrap_or(0)
}

fn facet_rows_text(
    out: &mut dyn Write,
    values: &[FacetCount],
    depth: usize,
    width: usize,
) -> io::Result<()> {
    for value in values {
        let key = format!("{}{}", "  ".repeat(depth), value.key);
        writeln!(out, "  {key:<width$}  {:>7}", value.count)?;
        facet_rows_text(out, &value.children, depth + 1, width)?;
    }
    Ok(())
}

pub fn evaluation_text(
    out: &mut dyn Write,
    style: Style,
    evaluation: &Evaluation,
) -> io::Result<()> {
    let which = if evaluation.salient_only {
        " (countries: salient only)"
    } else {
        ""
    };
    writeln!(
        out,
        "{} {} articles with gold labels{which}",
        style.title("scored"),
        evaluation.articles
    )?;
    for field in &evaluation.fields {
        writeln!(out)?;
        field_score_text(out, style, field)?;
    }
    if !evaluation.not_compared.is_empty() {
        writeln!(
            out,
            "\nnot compared (no such dictionary): {}",
            evaluation.not_compared.join(", ")
        )?;
    }
    Ok(())
}

fn field_score_text(out: &mut dyn Write, style: Style, field: &FieldScore) -> io::Result<()> {
    let score = &field.score;
    writeln!(
        out,
        "{}  precision {:.3}  recall {:.3}  F1 {:.3}   (tp {}, fp {}, fn {}; {} articles)",
        style.label(&format!("{:<13}", field.field)),
        score.precision,
        score.recall,
        score.f1,
        score.true_positives,
        score.false_positives,
        score.false_negatives,
        field.articles
    )?;
    for (label, errors) in [
        ("false positives", &field.top_false_positives),
        ("false negatives", &field.top_false_negatives),
    ] {
        for error in errors {
            writeln!(
                out,
                "  {}  {:<16} {:>6}  e.g. {}",
                style.dim(label),
                error.label,
                error.count,
                error.examples.join(", ")
            )?;
        }
    }
    if !field.unknown_labels.is_empty() {
        let total: u64 = field.unknown_labels.iter().map(|(_, count)| count).sum();
        let shown: Vec<String> = field
            .unknown_labels
            .iter()
            .take(8)
            .map(|(label, count)| format!("{label} {count}"))
            .collect();
        writeln!(
            out,
            "  {}  {total} gold labels name nothing in the dictionary: {}{}",
            style.dim("left out"),
            shown.join(", "),
            if field.unknown_labels.len() > 8 {
                ", …"
            } else {
                ""
            }
        )?;
    }
    if !field.per_label.is_empty() {
        writeln!(
            out,
            "  {:<16} {:>6} {:>6} {:>6}  {:>9}  {:>6}  {:>5}",
            "label", "tp", "fp", "fn", "precision", "recall", "F1"
        )?;
        for label in &field.per_label {
            let score = &label.score;
            writeln!(
                out,
                "  {:<16} {:>6} {:>6} {:>6}  {:>9.3}  {:>6.3}  {:>5.3}",
                label.label,
                score.true_positives,
                score.false_positives,
                score.false_negatives,
                score.precision,
                score.recall,
                score.f1
            )?;
        }
    }
    Ok(())
}

pub fn stats_text(
    out: &mut dyn Write,
    style: Style,
    path: &str,
    stats: &IndexStats,
) -> io::Result<()> {
    writeln!(out, "{}  {path}", style.label("index   "))?;
    writeln!(out, "{}  {}", style.label("articles"), stats.articles)?;
    let span = match (stats.earliest, stats.latest) {
        (Some(earliest), Some(latest)) => {
            format!("{} to {}", date(Some(earliest)), date(Some(latest)))
        }
        _ => "none".to_owned(),
    };
    let undated = if stats.undated > 0 {
        format!(" ({} undated)", stats.undated)
    } else {
        String::new()
    };
    writeln!(out, "{}  {span}{undated}", style.label("dates   "))?;
    writeln!(
        out,
        "{}  {} in {} segment{}",
        style.label("size    "),
        human_bytes(stats.size_bytes),
        stats.segments,
        if stats.segments == 1 { "" } else { "s" }
    )?;
    writeln!(out)?;
    facets_text(out, style, &stats.facets)
}

pub fn article_text(out: &mut dyn Write, style: Style, article: &StoredArticle) -> io::Result<()> {
    writeln!(out, "{}", style.title(&article.title))?;
    let mut meta = vec![date(article.published)];
    meta.extend(article.source.clone());
    meta.extend(article.author.clone());
    meta.push(article.id.clone());
    writeln!(out, "{}", style.dim(&meta.join(" · ")))?;
    if let Some(url) = &article.url {
        writeln!(out, "{}", style.dim(url))?;
    }
    entities_text(out, style, &article.entities)?;
    writeln!(out)?;
    if let Some(summary) = &article.summary {
        writeln!(out, "{summary}\n")?;
    }
    writeln!(out, "{}", article.body)
}

/// Every entity with its mention count and evidence, one field per line.
pub fn entities_text(out: &mut dyn Write, style: Style, entities: &Entities) -> io::Result<()> {
    let describe = |key: &str, mentions: u32, evidence: &[String]| {
        format!("{key} ({mentions}: {})", evidence.join(", "))
    };
    let lines: [(&str, Vec<String>); 5] = [
        (
            "country",
            entities
                .countries
                .iter()
                .map(|c| describe(&c.key, c.mentions, &c.evidence))
                .collect(),
        ),
        (
            "region",
            entities.regions.iter().map(|r| r.key.clone()).collect(),
        ),
        (
            "topic",
            entities
                .topics
                .iter()
                .map(|t| format!("{} (score {}: {})", t.key, t.score, t.evidence.join(", ")))
                .collect(),
        ),
        (
            "person",
            entities
                .people
                .iter()
                .map(|p| describe(&p.key, p.mentions, &p.evidence))
                .collect(),
        ),
        (
            "org",
            entities
                .organizations
                .iter()
                .map(|o| describe(&o.key, o.mentions, &o.evidence))
                .collect(),
        ),
    ];
    for (label, values) in lines {
        if !values.is_empty() {
            writeln!(
                out,
                "{} {}",
                style.label(&format!("{label:<8}")),
                values.join("; ")
            )?;
        }
    }
    Ok(())
}

/// Per entity, each surface form found with its offset and the rule that kept or rejected it.
pub fn decisions_text(out: &mut dyn Write, style: Style, decisions: &[Decision]) -> io::Result<()> {
    let mut by_entity: Vec<&Decision> = decisions.iter().collect();
    by_entity.sort_by(|a, b| (a.field, &a.key, a.offset).cmp(&(b.field, &b.key, b.offset)));
    let mut current = None;
    for decision in by_entity {
        let entity = (decision.field, decision.key.as_str());
        if current != Some(entity) {
            writeln!(out, "  {} {}", style.label(decision.field), decision.key)?;
            current = Some(entity);
        }
        let verdict = if decision.kept {
            "kept    "
        } else {
            "rejected"
        };
        writeln!(
            out,
            "    {} {:?} at {}: {}",
            if decision.kept {
                style.title(verdict)
            } else {
                style.dim(verdict)
            },
            decision.surface,
            decision.offset,
            decision.rule
        )?;
    }
    Ok(())
}

pub fn index_summary_text(
    out: &mut dyn Write,
    style: Style,
    path: &str,
    report: &IndexReport,
) -> io::Result<()> {
    writeln!(
        out,
        "{} {} files: {} new, {} updated, {} unchanged, {} skipped, {} warnings",
        style.title("indexed"),
        report.files_read,
        report.added,
        report.updated,
        report.unchanged,
        report.skipped,
        report.warnings
    )?;
    if !report.files_ignored.is_empty() {
        let documentation = report
            .files_ignored
            .iter()
            .filter(|(_, why)| *why == "documentation")
            .count();
        writeln!(
            out,
            "  ignored {} files ({documentation} documentation, {} other formats)",
            report.files_ignored.len(),
            report.files_ignored.len() - documentation
        )?;
    }
    for (kind, count) in &report.problem_kinds {
        writeln!(out, "  {count:>6} × {kind}")?;
    }
    writeln!(
        out,
        "{} {path}: {} articles",
        style.title("index"),
        report.articles_in_index
    )
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_collapse_whitespace_and_mark_highlights() {
        let snippet = Snippet {
            text: "new  sanctions\non Pyongyang".into(),
            highlights: vec![(5, 14)],
        };
        assert_eq!(
            snippet_text(Style { color: false }, &snippet),
            "new sanctions on Pyongyang"
        );
        let colored = snippet_text(Style { color: true }, &snippet);
        assert!(
            colored.contains("\x1b[1;33msanctions\x1b[0m"),
            "{colored:?}"
        );
    }

    #[test]
    fn bytes_for_people() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
