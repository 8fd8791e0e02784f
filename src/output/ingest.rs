//! What reading articles prints: the index summary, extracted entities and evaluation scores.

use std::io::{self, Write};

use super::search::entities_text;
use super::{Printer, Render, Style};
use crate::eval::{Evaluation, FieldScore};
use crate::extract::{Decision, TopicVerdict};
use crate::ingest::{Problem, Severity};
use crate::service::{ArticleText, ExtractedArticle, IndexReport};

/// Date, source, URL and language on a line, then the summary and body.
fn article_text_lines(out: &mut dyn Write, style: Style, text: &ArticleText) -> io::Result<()> {
    let mut meta = vec![super::date(text.published)];
    meta.extend(text.source.clone());
    meta.extend(text.language.clone());
    meta.extend(text.url.clone());
    writeln!(out, "{}", style.dim(&meta.join(" · ")))?;
    if let Some(summary) = &text.summary {
        writeln!(out, "{summary}")?;
    }
    writeln!(out, "{}", text.body)
}

/// A problem with the input, as a warning line (or a note, for what was passed over by design).
pub fn problem_text(out: &mut dyn Write, style: Style, problem: &Problem) -> io::Result<()> {
    match problem.severity {
        Severity::Note => writeln!(out, "{} {problem}", style.dim("note:")),
        _ => writeln!(out, "{} {problem}", style.warning("warning:")),
    }
}

impl Render for IndexReport {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let (style, report) = (printer.style, self);
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
            "{} {}: {} articles",
            style.title("index"),
            report.location,
            report.articles_in_index
        )
    }
}

impl Render for ExtractedArticle {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let style = printer.style;
        writeln!(out, "{}  {}", style.dim(&self.id), style.title(&self.title))?;
        if let Some(text) = &self.text {
            article_text_lines(out, style, text)?;
        }
        entities_text(out, printer, &self.entities)?;
        if let Some(decisions) = &self.explain {
            decisions_text(out, style, decisions)?;
        }
        if let Some(verdicts) = &self.topic_model {
            topic_model_text(out, style, verdicts)?;
        }
        writeln!(out)
    }
}

/// Per topic the model decides: its probability against its threshold, then the features
/// that pushed it that way and the strongest that pushed against, each with its share.
fn topic_model_text(
    out: &mut dyn Write,
    style: Style,
    verdicts: &[TopicVerdict],
) -> io::Result<()> {
    for verdict in verdicts {
        let (decision, comparison) = match verdict.kept {
            true => (style.title("kept    "), "≥"),
            false => (style.dim("rejected"), "<"),
        };
        writeln!(
            out,
            "  {} {}  {decision} probability {:.2} {comparison} threshold {:.2}",
            style.label("topic model"),
            verdict.key,
            verdict.probability,
            verdict.threshold,
        )?;
        for reason in &verdict.reasons {
            writeln!(
                out,
                "    {:+.3}  {}  (weight {:+.3})",
                reason.contribution, reason.feature, reason.weight
            )?;
        }
    }
    Ok(())
}

/// Per entity, each surface form found with its offset and the rule that kept or rejected it.
fn decisions_text(out: &mut dyn Write, style: Style, decisions: &[Decision]) -> io::Result<()> {
    let mut by_entity: Vec<&Decision> = decisions.iter().collect();
    by_entity.sort_by(|a, b| (&a.field, &a.key, a.offset).cmp(&(&b.field, &b.key, b.offset)));
    let mut current = None;
    for decision in by_entity {
        let entity = (decision.field.as_str(), decision.key.as_str());
        if current != Some(entity) {
            writeln!(out, "  {} {}", style.label(&decision.field), decision.key)?;
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

impl Render for Evaluation {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let style = printer.style;
        let which = if self.salient_only {
            " (countries: salient only)"
        } else {
            ""
        };
        writeln!(
            out,
            "{} {} articles with gold labels{which}",
            style.title("scored"),
            self.articles
        )?;
        for field in &self.fields {
            writeln!(out)?;
            field_score_text(out, style, field)?;
        }
        if !self.not_compared.is_empty() {
            writeln!(
                out,
                "\nnot compared (no such dictionary): {}",
                self.not_compared.join(", ")
            )?;
        }
        Ok(())
    }
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
    if !field.outside_gold.is_empty() {
        let shown: Vec<String> = field
            .outside_gold
            .iter()
            .map(|(label, count)| format!("{label} {count}"))
            .collect();
        writeln!(
            out,
            "  {}  labels no gold article carries: {}",
            style.dim("left out"),
            shown.join(", ")
        )?;
    }
    if field.empty_left_out > 0 {
        writeln!(
            out,
            "  {}  {} articles with an empty gold list (--empty-is-unlabelled)",
            style.dim("left out"),
            field.empty_left_out
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
