//! Searches, facets, related articles, stored articles and index statistics.

use std::io::{self, Write};

use super::{Printer, Render, Style, date, json_lines_of};
use crate::extract::Entities;
use crate::results::{
    CheckReport, FacetCount, FacetCounts, Hit, Related, SharedValues, Snippet, StoredArticle,
    nest_under_parents,
};
use crate::schema::DictionaryName;
use crate::service::{FacetsResponse, SearchResponse, StatsResponse};

/// Distinctive words listed above related articles.
const RELATED_WORDS_SHOWN: usize = 12;

/// Facet values shown per field on each hit.
const HIT_FACET_VALUES: usize = 6;

impl Render for SearchResponse {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let (style, results, offset) = (printer.style, &self.results, self.offset);
        let everything_shown = offset == 0 && results.hits.len() as u64 == results.total;
        let shown = if results.hits.is_empty() || everything_shown {
            String::new()
        } else {
            format!(", showing {}–{}", offset + 1, offset + results.hits.len())
        };
        let plural = if results.total == 1 { "" } else { "s" };
        let query = self.query.trim();
        let stories = match results.clusters {
            Some(clusters) => format!(" in {clusters} {}", stories(clusters)),
            None => String::new(),
        };
        writeln!(
            out,
            "{} hit{plural}{stories} for {}{shown}",
            results.total,
            style.title(if query.is_empty() {
                "(everything)"
            } else {
                query
            })
        )?;
        for (rank, hit) in results.hits.iter().enumerate() {
            writeln!(out)?;
            hit_text(out, printer, offset + rank + 1, hit)?;
        }
        if results.facets.iter().any(|facet| !facet.values.is_empty()) {
            writeln!(out)?;
            facets_text(out, style, &results.facets)?;
        }
        Ok(())
    }

    fn json_lines(&self, out: &mut dyn Write) -> io::Result<()> {
        json_lines_of(out, &self.results.hits)
    }
}

impl Render for Related {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let style = printer.style;
        writeln!(
            out,
            "{} articles like {}  {}",
            self.hits.len(),
            style.dim(&self.id),
            style.title(&self.title)
        )?;
        if !self.words.is_empty() {
            let shown = self.words.len().min(RELATED_WORDS_SHOWN);
            writeln!(
                out,
                "{} {}",
                style.label("by words"),
                self.words[..shown].join(", ")
            )?;
        }
        for (rank, related_hit) in self.hits.iter().enumerate() {
            writeln!(out)?;
            hit_text(out, printer, rank + 1, &related_hit.hit)?;
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

    fn json_lines(&self, out: &mut dyn Write) -> io::Result<()> {
        json_lines_of(out, &self.hits)
    }
}

/// `country: NorthKorea, Russia · topic: sanctions`.
fn shared_text(shared: &[SharedValues]) -> String {
    shared
        .iter()
        .map(|values| format!("{}: {}", values.field, values.keys.join(", ")))
        .collect::<Vec<_>>()
        .join(" · ")
}

pub(super) fn hit_text(
    out: &mut dyn Write,
    printer: &Printer,
    rank: usize,
    hit: &Hit,
) -> io::Result<()> {
    let style = printer.style;
    writeln!(out, "{rank:>3}. {}", style.title(&hit.title))?;
    let mut meta = vec![date(hit.published)];
    meta.extend(hit.source.clone());
    meta.push(hit.id.clone());
    if let (Some(similar @ 1..), Some(cluster)) = (hit.similar, &hit.cluster) {
        meta.push(format!("+{similar} similar (cluster:{cluster})"));
    }
    writeln!(out, "     {}", style.dim(&meta.join(" · ")))?;
    let facets = entity_summary(printer, &hit.entities);
    if !facets.is_empty() {
        writeln!(out, "     {facets}")?;
    }
    let snippet = snippet_text(style, &hit.snippet);
    if !snippet.is_empty() {
        writeln!(out, "     {snippet}")?;
    }
    Ok(())
}

/// `country: NorthKorea, Russia · topic: sanctions` for the entity fields an article has;
/// regions are left out, as they follow from the countries.
fn entity_summary(printer: &Printer, entities: &Entities) -> String {
    printer
        .entity_fields
        .iter()
        .filter(|field| field.dictionary != DictionaryName::Regions)
        .map(|field| (&field.label, entities.keys(&field.dictionary)))
        .filter(|(_, keys)| !keys.is_empty())
        .map(|(label, keys)| {
            let more = keys.len().saturating_sub(HIT_FACET_VALUES);
            let mut shown = keys[..keys.len().min(HIT_FACET_VALUES)].join(", ");
            if more > 0 {
                shown.push_str(&format!(" +{more}"));
            }
            format!("{} {shown}", printer.style.label(&format!("{label}:")))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The snippet on one line, highlighted words emphasised.
pub(super) fn snippet_text(style: Style, snippet: &Snippet) -> String {
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

fn facets_text(out: &mut dyn Write, style: Style, facets: &[FacetCounts]) -> io::Result<()> {
    let width = facets
        .iter()
        .map(|facet| facet.field.len())
        .max()
        .unwrap_or(0);
    for facet in facets {
        let more = facet.distinct.saturating_sub(facet.values.len());
        let mut more = if more > 0 {
            format!(" (+{more} more)")
        } else {
            String::new()
        };
        if facet.multi_select {
            more.push_str(&style.dim(&format!(" (counted without the {} filter)", facet.field)));
        }
        let label = style.label(&format!("{:<width$}", facet.field));
        let tree = nest_under_parents(&facet.values);
        if tree.iter().any(|value| !value.children.is_empty()) {
            let mut rows = Vec::new();
            tree_rows(style, &tree, 0, &mut rows);
            let indent = " ".repeat(width + 2);
            let rows = rows.join(&format!("\n{indent}"));
            writeln!(out, "{label}  {rows}{more}")?;
            continue;
        }
        let values: Vec<String> = facet
            .values
            .iter()
            .map(|value| format!("{} {}", value.key, style.dim(&value.count.to_string())))
            .collect();
        writeln!(
            out,
            "{label}  {}{more}",
            if values.is_empty() {
                "-".to_owned()
            } else {
                values.join(" · ")
            }
        )?;
    }
    Ok(())
}

/// Values with children (topics under their parents) as rows, each level indented more.
fn tree_rows(style: Style, values: &[FacetCount], depth: usize, rows: &mut Vec<String>) {
    for value in values {
        let count = style.dim(&value.count.to_string());
        rows.push(format!("{}{} {count}", "  ".repeat(depth), value.key));
        tree_rows(style, &value.children, depth + 1, rows);
    }
}

impl Render for FacetsResponse {
    /// One facet field as a table: value and count per line, values below others indented.
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let facet = &self.facet;
        let counted = match self.clusters {
            Some(clusters) => format!(
                " in {clusters} {} (each counted once per story)",
                stories(clusters)
            ),
            None => String::new(),
        };
        writeln!(
            out,
            "{} values of {} in {} articles{counted}",
            facet.distinct,
            printer.style.title(&facet.field),
            self.total
        )?;
        let values = nest_under_parents(&facet.values);
        let width = widest_key(&values, 0);
        facet_rows_text(out, &values, 0, width)
    }

    fn json_lines(&self, out: &mut dyn Write) -> io::Result<()> {
        json_lines_of(out, &self.facet.values)
    }
}

fn stories(count: u64) -> &'static str {
    if count == 1 { "story" } else { "stories" }
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

impl Render for StatsResponse {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let (style, stats) = (printer.style, &self.stats);
        writeln!(out, "{}  {}", style.label("index   "), self.location)?;
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
        if let Some(engine) = &stats.engine {
            writeln!(
                out,
                "{}  {} in {} segment{}",
                style.label("size    "),
                human_bytes(engine.size_bytes),
                engine.segments,
                if engine.segments == 1 { "" } else { "s" }
            )?;
        }
        writeln!(out)?;
        facets_text(out, style, &stats.facets)
    }
}

impl Render for CheckReport {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let style = printer.style;
        writeln!(
            out,
            "{}: read {} files of {} segment{} ({}), each against its checksum",
            self.location,
            self.files,
            self.segments,
            if self.segments == 1 { "" } else { "s" },
            human_bytes(self.bytes)
        )?;
        if self.damaged.is_empty() {
            return writeln!(out, "no damage found");
        }
        for damaged in &self.damaged {
            writeln!(
                out,
                "{} segment {}: {} fails its checksum",
                style.error("damaged:"),
                damaged.segment,
                damaged.files.join(", ")
            )?;
        }
        writeln!(
            out,
            "run `geonews index --rebuild PATH...` on the original files, or restore a backup"
        )
    }
}

impl Render for StoredArticle {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let style = printer.style;
        writeln!(out, "{}", style.title(&self.title))?;
        let mut meta = vec![date(self.published)];
        meta.extend(self.source.clone());
        meta.extend(self.author.clone());
        meta.push(self.id.clone());
        writeln!(out, "{}", style.dim(&meta.join(" · ")))?;
        if let Some(url) = &self.url {
            writeln!(out, "{}", style.dim(url))?;
        }
        entities_text(out, printer, &self.entities)?;
        writeln!(out)?;
        if let Some(summary) = &self.summary {
            writeln!(out, "{summary}\n")?;
        }
        writeln!(out, "{}", self.body)
    }
}

/// Every entity with its mention count and evidence, one field per line.
pub(super) fn entities_text(
    out: &mut dyn Write,
    printer: &Printer,
    entities: &Entities,
) -> io::Result<()> {
    for field in &printer.entity_fields {
        let values = described(entities, &field.dictionary);
        if !values.is_empty() {
            writeln!(
                out,
                "{} {}",
                printer.style.label(&format!("{:<8}", field.label)),
                values.join("; ")
            )?;
        }
    }
    Ok(())
}

/// An article's entities of one dictionary with their mentions and evidence: `Russia (3:
/// Russia, Moscow)`, topics with their score, regions by key alone.
fn described(entities: &Entities, dictionary: &DictionaryName) -> Vec<String> {
    let describe = |key: &str, mentions: u32, evidence: &[String]| {
        format!("{key} ({mentions}: {})", evidence.join(", "))
    };
    match dictionary {
        DictionaryName::Countries => entities
            .countries
            .iter()
            .map(|c| describe(&c.key, c.mentions, &c.evidence))
            .collect(),
        DictionaryName::Regions => entities.regions.iter().map(|r| r.key.clone()).collect(),
        DictionaryName::Topics => entities
            .topics
            .iter()
            .map(|t| {
                let phrases = match t.evidence.is_empty() {
                    true => format!("score {}", t.score),
                    false => format!("score {}: {}", t.score, t.evidence.join(", ")),
                };
                match (t.via.is_empty(), t.probability) {
                    (false, _) => format!("{} (via {})", t.key, t.via.join(", ")),
                    (true, Some(p)) => format!("{} (model {p:.2}; phrase {phrases})", t.key),
                    (true, None) => format!("{} ({phrases})", t.key),
                }
            })
            .collect(),
        other => entities
            .mentions(other)
            .iter()
            .map(|m| describe(&m.key, m.mentions, &m.evidence))
            .collect(),
    }
}

pub fn human_bytes(bytes: u64) -> String {
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
