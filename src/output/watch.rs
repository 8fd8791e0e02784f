//! Saved searches: the list, one watch, and what a run found.

use std::io::{self, Write};

use serde::Serialize;

use super::search::hit_text;
use super::{Printer, Render, json_lines_of, plural, write_json_line};
use crate::results::Hit;
use crate::service::{WatchList, WatchRun, WatchStatus};
use crate::watch::Watch;

impl Render for Watch {
    /// `saved nk-sanctions: country:NorthKorea topic:sanctions`.
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        writeln!(
            out,
            "{} {}: {} (new articles are those indexed from now on)",
            printer.style.title("saved"),
            self.name,
            self.query
        )
    }
}

impl Render for WatchList {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        if self.watches.is_empty() {
            return writeln!(
                out,
                "no saved searches: add one with `geonews watch add NAME QUERY`"
            );
        }
        let width = self
            .watches
            .iter()
            .map(|status| status.watch.name.len())
            .max()
            .unwrap_or(0)
            .max("watch".len());
        let style = printer.style;
        writeln!(
            out,
            "{}",
            style.label(&format!("{:<width$}  {:>5}  query", "watch", "new"))
        )?;
        for status in &self.watches {
            let note = status
                .watch
                .note
                .as_ref()
                .map(|note| format!("  ({note})"))
                .unwrap_or_default();
            writeln!(
                out,
                "{}  {:>5}  {}{}",
                style.label(&format!("{:<width$}", status.watch.name)),
                status.unseen,
                status.watch.query,
                style.dim(&note)
            )?;
        }
        Ok(())
    }

    fn json_lines(&self, out: &mut dyn Write) -> io::Result<()> {
        json_lines_of(out, &self.watches)
    }
}

impl Render for WatchStatus {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let style = printer.style;
        let watch = &self.watch;
        writeln!(out, "{}  {}", style.label("watch   "), watch.name)?;
        writeln!(out, "{}  {}", style.label("query   "), watch.query)?;
        if let Some(note) = &watch.note {
            writeln!(out, "{}  {note}", style.label("note    "))?;
        }
        writeln!(
            out,
            "{}  {}",
            style.label("created "),
            watch.created.to_rfc3339()
        )?;
        let last = watch
            .last_run
            .map_or_else(|| "never".to_owned(), |when| when.to_rfc3339());
        writeln!(out, "{}  {last}", style.label("last run"))?;
        writeln!(out, "{}  {}", style.label("new     "), self.unseen)
    }
}

/// One article a watch found, as a JSON line: the watch, then the hit.
#[derive(Serialize)]
struct WatchHit<'a> {
    watch: &'a str,
    query: &'a str,
    #[serde(flatten)]
    hit: &'a Hit,
}

impl Render for WatchRun {
    /// Per watch, a heading with its count of new articles, then the articles.
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let style = printer.style;
        for (n, report) in self.reports.iter().enumerate() {
            if n > 0 {
                writeln!(out)?;
            }
            let found = match report.total {
                0 => "nothing new".to_owned(),
                count => format!("{count} new article{}", plural(count)),
            };
            let shown = if (report.hits.len() as u64) < report.total {
                format!(", {} shown", report.hits.len())
            } else {
                String::new()
            };
            writeln!(
                out,
                "{}  {found}{shown}  {}",
                style.title(&report.watch),
                style.dim(&format!("({})", report.query))
            )?;
            for (rank, hit) in report.hits.iter().enumerate() {
                writeln!(out)?;
                hit_text(out, printer, rank + 1, hit)?;
            }
        }
        if self.dry_run {
            writeln!(out, "\n{}", style.dim("(dry run: nothing marked as seen)"))?;
        }
        Ok(())
    }

    fn json_lines(&self, out: &mut dyn Write) -> io::Result<()> {
        for report in &self.reports {
            for hit in &report.hits {
                write_json_line(
                    out,
                    &WatchHit {
                        watch: &report.watch,
                        query: &report.query,
                        hit,
                    },
                )?;
            }
        }
        Ok(())
    }
}
