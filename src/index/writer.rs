//! `geonews index`: read, extract and write articles, committing as it goes.
//!
//! Records flow through the shared [`pipeline`](crate::pipeline), which maps and extracts them
//! in parallel; the documents go to tantivy's multi-threaded writer. A commit makes everything before it visible
//! at once: a run that is killed leaves the index as of its last commit.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use tantivy::schema::Facet;
use tantivy::{DateTime as TantivyDate, IndexWriter, TantivyDocument, Term};

use super::layout::Layout;
use super::{IndexError, OpenIndex, io_error, tantivy_error};
use crate::article::Article;
use crate::extract::{Entities, Extractor};
use crate::ingest::{self, Problem, Severity};
use crate::pipeline::{self, Analysed, Sink};
use crate::schema::{DictionaryName, FieldKind, Schema};

#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// Build a fresh index, replacing the old one only once the new one is complete.
    pub rebuild: bool,
    /// Stop at the first problem, committing nothing from this run.
    pub strict: bool,
    /// Commit after this many new or changed articles.
    pub commit_every: usize,
    pub writer_threads: usize,
    /// The writer's memory, shared by its threads: a segment is written out when it is spent.
    pub memory_budget_bytes: usize,
}

/// The least memory tantivy's writer takes per indexing thread (its
/// `MEMORY_BUDGET_NUM_BYTES_MIN`).
pub const MIN_MEMORY_PER_WRITER_THREAD: usize = 15_000_000;
/// The most it takes per thread (its `MEMORY_BUDGET_NUM_BYTES_MAX`, about 4.29 GB).
pub const MAX_MEMORY_PER_WRITER_THREAD: usize = u32::MAX as usize - 1_000_000;
/// More writer threads than this add merging work for no gain in throughput.
const MAX_WRITER_THREADS: usize = 4;

/// A `--memory` budget the index writer cannot work with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MemoryBudgetError {
    #[error(
        "--memory must be at least {MIN_MEMORY_PER_WRITER_THREAD} bytes (15MB), the least the \
         index writer works with"
    )]
    TooSmall,
    #[error(
        "--memory can be at most {max} bytes here: the index writer takes up to \
         {MAX_MEMORY_PER_WRITER_THREAD} bytes for each of its {threads} threads"
    )]
    TooLarge { max: usize, threads: usize },
}

impl IndexOptions {
    /// Writer threads for a memory budget on `cores` cores: one per core up to four, fewer when
    /// each would get less than [`MIN_MEMORY_PER_WRITER_THREAD`].
    pub fn writer_threads(
        memory_budget_bytes: usize,
        cores: usize,
    ) -> Result<usize, MemoryBudgetError> {
        let affordable = memory_budget_bytes / MIN_MEMORY_PER_WRITER_THREAD;
        if affordable == 0 {
            return Err(MemoryBudgetError::TooSmall);
        }
        let threads = cores.clamp(1, MAX_WRITER_THREADS).min(affordable);
        let max = threads * MAX_MEMORY_PER_WRITER_THREAD;
        if memory_budget_bytes > max {
            return Err(MemoryBudgetError::TooLarge { max, threads });
        }
        Ok(threads)
    }
}

/// Progress, for a progress bar and for warnings as they happen.
#[derive(Debug)]
pub enum IndexEvent<'a> {
    FilesFound(usize),
    FileDone,
    Problem(&'a Problem),
    Committed,
}

#[derive(Debug, Default)]
pub struct IndexReport {
    pub files_read: usize,
    /// Files passed over as not articles, by reason.
    pub files_ignored: Vec<(String, &'static str)>,
    pub added: u64,
    pub updated: u64,
    /// Articles already in the index with the same content (including repeats within the run).
    pub unchanged: u64,
    pub skipped: u64,
    pub warnings: u64,
    /// Problems by message kind (the first words of the message) with counts.
    pub problem_kinds: Vec<(String, u64)>,
    pub articles_in_index: u64,
}

/// Reads `paths` into the index at `index_dir`, creating it when absent.
pub fn index_paths(
    index_dir: &Path,
    schema: &Schema,
    extractor: &Extractor,
    paths: &[PathBuf],
    options: &IndexOptions,
    on_event: &mut dyn FnMut(IndexEvent),
) -> Result<IndexReport, IndexError> {
    // Absolute, so that `--index .` has a name and a parent for the staging folder.
    let index_dir = &fs::canonicalize(index_dir)
        .or_else(|_| std::path::absolute(index_dir))
        .map_err(|source| io_error(index_dir, source))?;
    let target = prepare_target(index_dir, schema, options.rebuild)?;
    let outcome = run(&target, schema, extractor, paths, options, on_event);
    match outcome {
        Ok(report) => {
            if options.rebuild {
                replace_index(&target.path, index_dir)?;
            }
            Ok(report)
        }
        Err(error) => {
            if options.rebuild {
                let _ = fs::remove_dir_all(&target.path);
            }
            Err(error)
        }
    }
}

fn prepare_target(
    index_dir: &Path,
    schema: &Schema,
    rebuild: bool,
) -> Result<OpenIndex, IndexError> {
    if rebuild {
        refuse_foreign_dir(index_dir)?;
        let staging = sibling(index_dir, "rebuild");
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|source| io_error(&staging, source))?;
        }
        return OpenIndex::create(&staging, schema);
    }
    match OpenIndex::open(index_dir, schema) {
        Err(IndexError::Missing(_)) => {
            refuse_foreign_dir(index_dir)?;
            OpenIndex::create(index_dir, schema)
        }
        other => other,
    }
}

/// Never write into, or replace, a folder holding something other than an index.
fn refuse_foreign_dir(dir: &Path) -> Result<(), IndexError> {
    let Ok(mut entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    let is_index = dir.join(super::META_FILE).exists() || dir.join("meta.json").exists();
    if entries.next().is_some() && !is_index {
        return Err(io_error(
            dir,
            std::io::Error::other("folder is not empty and holds no index; choose another --index"),
        ));
    }
    Ok(())
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "index".to_owned());
    dir.with_file_name(format!(".{name}.{suffix}"))
}

fn replace_index(staging: &Path, index_dir: &Path) -> Result<(), IndexError> {
    let old = sibling(index_dir, "old");
    if index_dir.exists() {
        if old.exists() {
            fs::remove_dir_all(&old).map_err(|source| io_error(&old, source))?;
        }
        fs::rename(index_dir, &old).map_err(|source| io_error(index_dir, source))?;
    }
    if let Err(source) = fs::rename(staging, index_dir) {
        // Put the old index back rather than leave no index at all.
        if old.exists() {
            let _ = fs::rename(&old, index_dir);
        }
        return Err(io_error(index_dir, source));
    }
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|source| io_error(&old, source))?;
    }
    Ok(())
}

fn run(
    target: &OpenIndex,
    schema: &Schema,
    extractor: &Extractor,
    paths: &[PathBuf],
    options: &IndexOptions,
    on_event: &mut dyn FnMut(IndexEvent),
) -> Result<IndexReport, IndexError> {
    let writer: IndexWriter = target
        .index
        .writer_with_num_threads(options.writer_threads, options.memory_budget_bytes)
        .map_err(|source| tantivy_error(&target.path, source))?;
    let mut run = Run {
        target,
        schema,
        options,
        writer,
        known: existing_keys(target)?,
        seen: 0,
        pending: 0,
        report: IndexReport::default(),
        problem_kinds: HashMap::new(),
        on_event,
    };
    let discovery = ingest::discover(paths);
    run.report.files_ignored = discovery
        .ignored
        .iter()
        .map(|(path, why)| (path.display().to_string(), *why))
        .collect();
    (run.on_event)(IndexEvent::FilesFound(discovery.files.len()));
    let layout = &target.layout;
    let prepare = |analysed: Analysed| prepare(layout, schema, extractor, analysed);
    pipeline::run(&discovery, extractor, prepare, &mut run)?;
    run.commit()?;
    run.finish()
}

/// Keys and content hashes of the articles already in the index.
fn existing_keys(target: &OpenIndex) -> Result<HashMap<String, (u64, bool)>, IndexError> {
    let searcher = target.reader()?.searcher();
    let mut keys = HashMap::new();
    let mut key = String::new();
    for segment in searcher.segment_readers() {
        let fast_fields = segment.fast_fields();
        let ids = fast_fields
            .str("id")
            .map_err(|source| tantivy_error(&target.path, source))?;
        let hashes = fast_fields
            .u64("_content_hash")
            .map_err(|source| tantivy_error(&target.path, source))?;
        let Some(ids) = ids else { continue };
        for doc in 0..segment.max_doc() {
            if segment.is_deleted(doc) {
                continue;
            }
            let Some(ord) = ids.term_ords(doc).next() else {
                continue;
            };
            key.clear();
            ids.ord_to_str(ord, &mut key)
                .map_err(|source| io_error(&target.path, source))?;
            keys.insert(key.clone(), (hashes.first(doc).unwrap_or_default(), false));
        }
    }
    Ok(keys)
}

/// An article ready for the index.
struct PreparedDocument {
    key: String,
    content_hash: u64,
    document: TantivyDocument,
}

struct Run<'a, 'e> {
    target: &'a OpenIndex,
    schema: &'a Schema,
    options: &'a IndexOptions,
    writer: IndexWriter,
    /// Content hash of every article in the index, and whether this run has seen it.
    known: HashMap<String, (u64, bool)>,
    /// Distinct articles of the index this run read: when that is all of them, every stored
    /// facet comes from the current dictionaries.
    seen: u64,
    pending: usize,
    report: IndexReport,
    problem_kinds: HashMap<String, u64>,
    on_event: &'e mut dyn FnMut(IndexEvent),
}

impl Sink<PreparedDocument> for Run<'_, '_> {
    type Error = IndexError;

    fn problem(&mut self, problem: &Problem) -> Result<(), IndexError> {
        if self.options.strict {
            return Err(IndexError::Strict(problem.clone()));
        }
        match problem.severity {
            Severity::Skipped => self.report.skipped += 1,
            Severity::Warning => self.report.warnings += 1,
        }
        *self
            .problem_kinds
            .entry(problem_kind(&problem.message))
            .or_default() += 1;
        (self.on_event)(IndexEvent::Problem(problem));
        Ok(())
    }

    fn accept(&mut self, prepared: PreparedDocument) -> Result<(), IndexError> {
        self.write(prepared.key, prepared.content_hash, prepared.document)
    }

    fn file_done(&mut self) {
        self.report.files_read += 1;
        (self.on_event)(IndexEvent::FileDone);
    }
}

impl Run<'_, '_> {
    fn write(
        &mut self,
        key: String,
        content_hash: u64,
        document: TantivyDocument,
    ) -> Result<(), IndexError> {
        let previous = self.known.insert(key.clone(), (content_hash, true));
        if !matches!(previous, Some((_, true))) {
            self.seen += 1;
        }
        match previous {
            Some((known, _)) if known == content_hash => {
                self.report.unchanged += 1;
                return Ok(());
            }
            Some(_) => {
                self.writer
                    .delete_term(Term::from_field_text(self.target.layout.id, &key));
                self.report.updated += 1;
            }
            None => self.report.added += 1,
        }
        self.writer
            .add_document(document)
            .map_err(|source| tantivy_error(&self.target.path, source))?;
        self.pending += 1;
        // Under --strict a run commits all or nothing.
        if !self.options.strict && self.pending >= self.options.commit_every {
            self.commit()?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), IndexError> {
        if self.pending == 0 {
            return Ok(());
        }
        self.writer
            .commit()
            .map_err(|source| tantivy_error(&self.target.path, source))?;
        self.pending = 0;
        (self.on_event)(IndexEvent::Committed);
        Ok(())
    }

    fn finish(mut self) -> Result<IndexReport, IndexError> {
        self.writer
            .wait_merging_threads()
            .map_err(|source| tantivy_error(&self.target.path, source))?;
        let searcher = self.target.reader()?.searcher();
        self.report.articles_in_index = searcher.num_docs();
        if self.seen == self.report.articles_in_index && !self.target.dictionaries_current {
            self.target.record_current_dictionaries(self.schema)?;
        }
        let mut kinds: Vec<(String, u64)> = self.problem_kinds.into_iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.report.problem_kinds = kinds;
        Ok(self.report)
    }
}

/// The general part of a problem message, before its specifics (a colon, quote or bracket).
fn problem_kind(message: &str) -> String {
    let general = message
        .split([':', ';', '"', '`', '('])
        .next()
        .unwrap_or(message);
    general
        .split_whitespace()
        .take(6)
        .collect::<Vec<_>>()
        .join(" ")
}

fn prepare(
    layout: &Layout,
    schema: &Schema,
    extractor: &Extractor,
    analysed: Analysed,
) -> PreparedDocument {
    let Analysed { article, entities } = analysed;
    let content_hash = article.content_hash() ^ schema.dictionary_fingerprint;
    let document = build_document(layout, schema, extractor, &article, &entities, content_hash);
    PreparedDocument {
        key: article.key,
        content_hash,
        document,
    }
}

fn build_document(
    layout: &Layout,
    schema: &Schema,
    extractor: &Extractor,
    article: &Article,
    entities: &Entities,
    content_hash: u64,
) -> TantivyDocument {
    let mut document = TantivyDocument::new();
    for spec in schema.fields.iter() {
        let Ok(field) = layout.schema.get_field(&spec.name) else {
            continue;
        };
        match spec.kind {
            FieldKind::Datetime => {
                if let Some(published) = article.published.filter(|_| spec.name == "published") {
                    document.add_date(
                        field,
                        TantivyDate::from_timestamp_secs(published.timestamp()),
                    );
                }
            }
            FieldKind::Facet => {}
            FieldKind::Text | FieldKind::Keyword | FieldKind::Stored => {
                if let Some(value) = article_text(article, &spec.name).filter(|v| !v.is_empty()) {
                    document.add_text(field, value);
                }
            }
        }
    }
    for facet in &layout.facets {
        let catalog = extractor.catalogs().get(facet.dictionary);
        let keys = if facet.salient_only {
            entities.salient_keys(facet.dictionary)
        } else {
            entities.keys(facet.dictionary)
        };
        for key in keys {
            // People named after a title are no dictionary entries: their key is their path.
            let path = match catalog.get(key) {
                Some(entry) => entry.path.clone(),
                None if facet.dictionary == DictionaryName::People => vec![key.to_owned()],
                None => continue,
            };
            document.add_facet(facet.facet, Facet::from_path(&path));
            document.add_text(facet.keys, key);
        }
    }
    let entities_json = serde_json::to_string(entities).expect("entities serialize");
    document.add_text(layout.entities, entities_json);
    document.add_u64(layout.content_hash, content_hash);
    document
}

/// The article's value for an index field: its own fields by name, else the record's extras.
fn article_text<'a>(article: &'a Article, name: &str) -> Option<&'a str> {
    match name {
        "id" => Some(&article.key),
        "title" => Some(&article.title),
        "summary" => article.summary.as_deref(),
        "body" => Some(&article.body),
        "url" => article.url.as_deref(),
        "source" => article.source.as_deref(),
        "author" => article.author.as_deref(),
        "language" => article.language.as_deref(),
        other => article
            .extra
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(other))
            .map(|(_, value)| value.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_kinds_drop_specifics() {
        assert_eq!(
            problem_kind("wrong column count: 5 where the header has 4"),
            "wrong column count"
        );
        assert_eq!(
            problem_kind("unreadable date \"x\"; indexed"),
            "unreadable date"
        );
    }

    #[test]
    fn staging_folders_are_hidden_siblings() {
        assert_eq!(
            sibling(Path::new("/a/idx"), "rebuild"),
            Path::new("/a/.idx.rebuild")
        );
    }
}
