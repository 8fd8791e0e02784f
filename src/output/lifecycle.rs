//! What deleting, compacting and backing up print.

use std::io::{self, Write};

use serde::Serialize;

use super::search::human_bytes;
use super::{Printer, Render, plural, write_json_line};
use crate::backend::Storage;
use crate::results::CreatedIndex;
use crate::service::{BackupResponse, CompactResponse, DeleteResponse};

/// One line of `delete -f jsonl`: an id and what became of it.
#[derive(Serialize)]
struct DeletedId<'a> {
    id: &'a str,
    /// `deleted`, `to_delete` (a dry run) or `not_found`.
    status: &'static str,
}

impl Render for DeleteResponse {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let style = printer.style;
        let matching = match &self.query {
            Some(query) => format!(" matching {}", style.title(query)),
            None => String::new(),
        };
        let articles = format!("{} article{}", self.count, plural(self.count));
        if self.dry_run {
            writeln!(
                out,
                "would delete {articles}{matching} from {} (dry run: nothing changed)",
                self.location
            )?;
            for id in &self.ids {
                writeln!(out, "  {id}")?;
            }
        } else {
            writeln!(
                out,
                "{} {articles}{matching} from {}; {} left",
                style.title("deleted"),
                self.location,
                self.articles_in_index
            )?;
        }
        for id in &self.not_found {
            writeln!(out, "{} {id}", style.warning("not found:"))?;
        }
        Ok(())
    }

    fn json_lines(&self, out: &mut dyn Write) -> io::Result<()> {
        let done = if self.dry_run { "to_delete" } else { "deleted" };
        let found = self.ids.iter().map(|id| (id, done));
        let missing = self.not_found.iter().map(|id| (id, "not_found"));
        for (id, status) in found.chain(missing) {
            write_json_line(out, &DeletedId { id, status })?;
        }
        Ok(())
    }
}

/// `2 segments, 277.1 KiB, 66 articles (3 deleted)`.
fn storage_text(storage: &Storage) -> String {
    let deleted = if storage.deleted > 0 {
        format!(" ({} deleted)", storage.deleted)
    } else {
        String::new()
    };
    format!(
        "{} segment{}, {}, {} article{}{deleted}",
        storage.segments,
        plural(storage.segments as u64),
        human_bytes(storage.bytes),
        storage.articles,
        plural(storage.articles)
    )
}

impl Render for CompactResponse {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        if self.before == self.after {
            return writeln!(
                out,
                "{} is compact already: {}",
                self.location,
                storage_text(&self.after)
            );
        }
        writeln!(
            out,
            "{} {}: {} → {}",
            printer.style.title("compacted"),
            self.location,
            storage_text(&self.before),
            storage_text(&self.after)
        )
    }
}

impl Render for BackupResponse {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let copied = &self.copied;
        writeln!(
            out,
            "{} {} to {}: {} article{} in {} segment{}, {} files ({}), each checked against its \
             checksum",
            printer.style.title("backed up"),
            self.location,
            self.destination,
            copied.articles,
            plural(copied.articles),
            copied.segments,
            plural(copied.segments as u64),
            copied.files,
            human_bytes(copied.bytes)
        )?;
        writeln!(
            out,
            "{}",
            printer.style.dim(&format!(
                "to restore, point --index at it: geonews --index {} search ...",
                self.destination
            ))
        )
    }
}

impl Render for CreatedIndex {
    fn text(&self, out: &mut dyn Write, printer: &Printer) -> io::Result<()> {
        let what = if self.replaced { "replaced" } else { "created" };
        writeln!(
            out,
            "{} {} ({} fields)",
            printer.style.title(what),
            self.location,
            self.fields
        )
    }
}
