//! The write side of the local index: documents to tantivy's multi-threaded writer, each
//! replacing an older version with the same key. A commit makes everything before it visible
//! at once: a run that is killed leaves the index as of its last commit.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use tantivy::index::SegmentId;
use tantivy::{IndexReader, IndexWriter, TantivyDocument, Term};

use super::clusters::ClusterFinder;
use super::generations::{self, IndexFolder, Removed, WriterLock};
use super::integrity;
use super::keys::{CommittedKeys, Known};
use super::mapper::{DocMapper, PreparedDocument};
use super::{IndexError, OpenIndex, backup, disk_full_or, io_error, size_on_disk, tantivy_error};
use crate::backend::{ArticleSink, Copied, Storage, Written};
use crate::dedup::Signature;
use crate::hash::Wide64;
use crate::schema::Schema;

#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Build a fresh index, replacing the old one only once the new one is complete.
    pub rebuild: bool,
    /// Create the index when there is none (indexing does; deleting, compacting and backing
    /// up need one).
    pub create: bool,
    /// Queue behind another writer of the index rather than stop.
    pub wait: bool,
    pub threads: usize,
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

impl WriterOptions {
    /// For deleting, compacting and backing up an index that exists: they add no documents,
    /// so one thread and the least memory do.
    pub fn upkeep(wait: bool) -> WriterOptions {
        WriterOptions {
            rebuild: false,
            create: false,
            wait,
            threads: 1,
            memory_budget_bytes: MIN_MEMORY_PER_WRITER_THREAD,
        }
    }

    /// Writer threads for a memory budget on `cores` cores: one per core up to four, fewer when
    /// each would get less than [`MIN_MEMORY_PER_WRITER_THREAD`].
    pub fn threads_for(
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

/// Writes documents into the index at a folder, creating it when absent, or into a fresh
/// generation that replaces the live one when finished (`rebuild`). It holds the folder's
/// writer lock from before anything is written.
pub struct LocalWriter {
    /// The folder as the user named it.
    named: PathBuf,
    folder: IndexFolder,
    target: OpenIndex,
    /// What earlier runs left and this one removed.
    removed: Vec<Removed>,
    schema: Arc<Schema>,
    rebuild: bool,
    /// `None` once finished or dropped.
    writer: Option<IndexWriter>,
    mapper: DocMapper,
    /// Every article in the index, and whether this run has seen it.
    /// The committed articles, looked up by key through the index.
    committed: CommittedKeys,
    /// The content hash of each key this run has seen first: a later record with the key is a
    /// duplicate (sixteen bytes a key of the run, whatever the index holds).
    seen_in_run: FxHashMap<KeyHash, u64>,
    /// Keys deleted since the last commit, which the committed articles still show.
    deleted: FxHashSet<KeyHash>,
    /// A rebuild's articles as the index it replaces holds them: one written again with the
    /// same content keeps its stamp, so saved searches do not take it for news.
    replaced: Option<CommittedKeys>,
    /// The stamp of the article written last; the next one gets a larger one.
    last_stamp: u64,
    /// Reloaded after each commit, for [`LocalWriter::committed`].
    reader: IndexReader,
    uncommitted: bool,
    /// Finds the story each article is a copy of; `None` when the layout has no `cluster`.
    clusters: Option<ClusterFinder>,
    /// Last, so that it is released after everything else is dropped.
    _lock: WriterLock,
}

impl LocalWriter {
    pub fn open(
        index_dir: &Path,
        schema: &Arc<Schema>,
        options: &WriterOptions,
    ) -> Result<LocalWriter, IndexError> {
        let named = index_dir.to_owned();
        // Absolute, so that `--index .` has a name and a parent.
        let index_dir = fs::canonicalize(index_dir)
            .or_else(|_| std::path::absolute(index_dir))
            .map_err(|source| io_error(index_dir, source))?;
        refuse_foreign_dir(&index_dir)?;
        if !options.create && !holds_index(&index_dir) {
            return Err(IndexError::Missing(named));
        }
        let folder = IndexFolder::new(&index_dir);
        let lock = folder
            .lock_writer(options.wait)
            .map_err(|source| io_error(&index_dir, source))?
            .map_err(|holder| IndexError::Busy {
                path: named.clone(),
                holder: holder.0,
            })?;
        let mut removed = folder
            .remove_leftovers()
            .map_err(|source| io_error(&index_dir, source))?;
        removed.extend(remove_old_staging(&index_dir)?);
        let replaced = if options.rebuild {
            replaced_keys(&folder)
        } else {
            None
        };
        let target = prepare_target(&folder, schema, options)?;
        let writer = target
            .index
            .writer_with_num_threads(options.threads, options.memory_budget_bytes)
            .map_err(|source| tantivy_error(&target.path, source))?;
        let reader = target.reader()?;
        let committed = CommittedKeys::of(reader.searcher(), &target.path)?;
        let last_stamp = committed
            .latest_stamp()
            .max(replaced.as_ref().map_or(0, CommittedKeys::latest_stamp));
        let clusters = match target.layout.cluster {
            Some(_) => Some(ClusterFinder::open(&target.path)?),
            None => None,
        };
        Ok(LocalWriter {
            clusters,
            committed,
            reader,
            seen_in_run: FxHashMap::default(),
            deleted: FxHashSet::default(),
            replaced,
            last_stamp,
            mapper: DocMapper::new(Arc::clone(&target.layout), Arc::clone(schema)),
            named,
            folder,
            removed,
            _lock: lock,
            target,
            schema: Arc::clone(schema),
            rebuild: options.rebuild,
            writer: Some(writer),
            uncommitted: false,
        })
    }

    /// The article with `key` in the index a rebuild replaces; none when that index cannot be
    /// read (a panic on a damaged file included).
    fn replaced_article(&self, key: &str) -> Option<Known> {
        let replaced = self.replaced.as_ref()?;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| replaced.get(key)))
            .ok()?
            .ok()?
    }

    /// What earlier runs left (unfinished rebuilds, builds no one reads any more) and this
    /// writer removed on opening.
    pub fn removed_leftovers(&self) -> &[Removed] {
        &self.removed
    }

    fn writer(&mut self) -> &mut IndexWriter {
        self.writer.as_mut().expect("a writer until finished")
    }

    /// The story the article is a copy of (its own key when it is the first), and the
    /// signature later copies will be compared with.
    fn add_cluster(
        &mut self,
        key: &str,
        signature: Option<&Signature>,
        document: &mut TantivyDocument,
    ) -> Result<(), IndexError> {
        let (Some(field), Some(clusters)) = (self.target.layout.cluster, &mut self.clusters) else {
            return Ok(());
        };
        let cluster = match signature {
            Some(signature) => clusters.assign(key, signature)?,
            None => key.to_owned(),
        };
        document.add_text(field, cluster);
        Ok(())
    }

    /// A stamp larger than every earlier one: the time in microseconds, or one more than the
    /// last stamp when the clock has not moved on (or went back).
    fn next_stamp(&mut self) -> u64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_micros() as u64);
        self.last_stamp = now.max(self.last_stamp + 1);
        self.last_stamp
    }
}

impl ArticleSink for LocalWriter {
    type Mapper = DocMapper;
    type Error = IndexError;

    fn mapper(&self) -> DocMapper {
        self.mapper.clone()
    }

    fn location(&self) -> String {
        self.named.display().to_string()
    }

    fn write(&mut self, prepared: PreparedDocument) -> Result<Vec<Written>, IndexError> {
        self.write_document(prepared)
            .map(|written| vec![written])
            .map_err(|error| disk_full_or(error, self.folder.dir()))
    }

    fn delete(&mut self, id: &str) -> Result<bool, IndexError> {
        let hash = key_hash(id);
        let in_run = self.seen_in_run.remove(&hash).is_some();
        let exists = in_run || (!self.deleted.contains(&hash) && self.committed.get(id)?.is_some());
        if !exists {
            return Ok(false);
        }
        self.deleted.insert(hash);
        let id = Term::from_field_text(self.target.layout.id, id);
        self.writer().delete_term(id);
        self.uncommitted = true;
        Ok(true)
    }

    fn commit(&mut self) -> Result<(), IndexError> {
        self.commit_all()
            .map_err(|error| disk_full_or(error, self.folder.dir()))
    }

    fn compact(&mut self) -> Result<(Storage, Storage), IndexError> {
        self.compact_all()
            .map_err(|error| disk_full_or(error, self.folder.dir()))
    }

    fn backup(&mut self, destination: &Path) -> Result<Copied, IndexError> {
        self.commit()?;
        backup::copy(&self.folder, &self.target, destination)
    }

    fn finish(self) -> Result<u64, IndexError> {
        let folder = self.folder.clone();
        self.finish_all()
            .map_err(|error| disk_full_or(error, folder.dir()))
    }
}

impl LocalWriter {
    fn write_document(&mut self, prepared: PreparedDocument) -> Result<Written, IndexError> {
        let PreparedDocument {
            key,
            content_hash,
            news_hash,
            signature,
            mut document,
        } = prepared;
        let hash = key_hash(&key);
        if let Some(&first) = self.seen_in_run.get(&hash) {
            return Ok(if first == content_hash {
                Written::Unchanged
            } else {
                Written::Duplicate
            });
        }
        self.seen_in_run.insert(hash, content_hash);
        let previous = if self.deleted.contains(&hash) {
            None
        } else {
            self.committed.get(&key)?
        };
        if let Some(known) = previous
            && known.content_hash == content_hash
        {
            // Unchanged: the index keeps the article and the stamp it has.
            return Ok(Written::Unchanged);
        }
        // Written again with what a reader sees unchanged (a dictionary change, a rebuild):
        // not news, so the stamp stays.
        let unchanged_news = match previous {
            Some(known) => Some(known),
            None => self.replaced_article(&key),
        }
        .filter(|old| old.news_hash == news_hash);
        let stamp = match unchanged_news {
            Some(old) => old.stamp,
            None => self.next_stamp(),
        };
        let written = if previous.is_some() {
            let id = self.target.layout.id;
            self.writer().delete_term(Term::from_field_text(id, &key));
            Written::Updated
        } else {
            Written::Added
        };
        document.add_u64(self.target.layout.indexed_at, stamp);
        self.add_cluster(&key, signature.as_ref(), &mut document)?;
        self.writer()
            .add_document(document)
            .map_err(|source| tantivy_error(&self.target.path, source))?;
        self.uncommitted = true;
        Ok(written)
    }

    fn commit_all(&mut self) -> Result<(), IndexError> {
        if !self.uncommitted {
            return Ok(());
        }
        let path = self.target.path.clone();
        self.writer()
            .commit()
            .map_err(|source| tantivy_error(&path, source))?;
        self.uncommitted = false;
        integrity::record_verified(&self.target.path, &self.target.index)?;
        self.reader
            .reload()
            .map_err(|source| tantivy_error(&path, source))?;
        self.committed = CommittedKeys::of(self.reader.searcher(), &path)?;
        self.deleted.clear();
        if let Some(clusters) = &mut self.clusters {
            clusters.committed()?;
        }
        Ok(())
    }

    /// Merges every segment into one, leaving out deleted documents. Readers that hold the old
    /// segments keep reading them: a file removed while open lives on until closed, and
    /// tantivy removes none while a reader is opening its segments (its meta lock).
    fn compact_all(&mut self) -> Result<(Storage, Storage), IndexError> {
        self.commit_all()?;
        let path = self.target.path.clone();
        let before = self.storage()?;
        // Only ids: a segment's metadata held here would keep its files from being removed.
        let segments: Vec<SegmentId> = self
            .target
            .index
            .searchable_segment_ids()
            .map_err(|source| tantivy_error(&path, source))?;
        // One segment without deletions is compact already: merging would only copy it.
        if segments.len() > 1 || before.deleted > 0 {
            self.writer()
                .merge(&segments)
                .wait()
                .map_err(|source| tantivy_error(&path, source))?;
        }
        // Also what an earlier merge left, if a run was stopped before removing it.
        self.writer()
            .garbage_collect_files()
            .wait()
            .map_err(|source| tantivy_error(&path, source))?;
        integrity::record_verified(&path, &self.target.index)?;
        Ok((before, self.storage()?))
    }

    /// The live generation's segments, bytes and documents as committed.
    fn storage(&self) -> Result<Storage, IndexError> {
        let path = &self.target.path;
        let segments = self
            .target
            .index
            .searchable_segment_metas()
            .map_err(|source| tantivy_error(path, source))?;
        Ok(Storage {
            segments: segments.len(),
            bytes: size_on_disk(path),
            articles: segments.iter().map(|s| u64::from(s.num_docs())).sum(),
            deleted: segments
                .iter()
                .map(|s| u64::from(s.num_deleted_docs()))
                .sum(),
        })
    }

    fn finish_all(mut self) -> Result<u64, IndexError> {
        self.commit_all()?;
        let writer = self.writer.take().expect("a writer until finished");
        writer
            .wait_merging_threads()
            .map_err(|source| tantivy_error(&self.target.path, source))?;
        integrity::record_verified(&self.target.path, &self.target.index)?;
        let articles = self.target.reader()?.searcher().num_docs();
        if self.seen_in_run.len() as u64 == articles && !self.target.dictionaries_current {
            self.target.record_current_dictionaries(&self.schema)?;
        }
        if self.rebuild {
            let dir = self.folder.dir().to_owned();
            self.folder
                .make_current(&self.target.path)
                .map_err(|source| io_error(&dir, source))?;
            remove_old_format_index(&dir)?;
            // The build it replaces goes now unless someone is reading it.
            self.folder
                .remove_leftovers()
                .map_err(|source| io_error(&dir, source))?;
        }
        Ok(articles)
    }
}

impl Drop for LocalWriter {
    /// A rebuild that did not finish leaves no generation behind.
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take()
            && self.rebuild
        {
            drop(writer);
            let _ = fs::remove_dir_all(&self.target.path);
        }
    }
}

/// The generation to write: the live one, a new one when there is none, or a new one that
/// will replace it (`rebuild`).
fn prepare_target(
    folder: &IndexFolder,
    schema: &Schema,
    options: &WriterOptions,
) -> Result<OpenIndex, IndexError> {
    let dir = folder.dir();
    let rebuild = options.rebuild;
    if !rebuild {
        match OpenIndex::open(dir, schema) {
            Err(IndexError::Missing(_)) if options.create => {}
            other => return other,
        }
    }
    let generation = folder
        .new_generation()
        .map_err(|source| io_error(dir, source))?;
    let target = OpenIndex::create(&generation, schema)?;
    if !rebuild {
        folder
            .make_current(&generation)
            .map_err(|source| io_error(dir, source))?;
    }
    Ok(target)
}

/// Whether `dir` holds an index: generations, or one of an older format at its top.
fn holds_index(dir: &Path) -> bool {
    [generations::CURRENT_FILE, super::META_FILE, "meta.json"]
        .iter()
        .any(|name| dir.join(name).exists())
}

/// Never write into a folder holding something other than an index.
fn refuse_foreign_dir(dir: &Path) -> Result<(), IndexError> {
    let Ok(mut entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    let is_index = holds_index(dir) || dir.join(generations::WRITER_LOCK_FILE).exists();
    if entries.next().is_some() && !is_index {
        return Err(io_error(
            dir,
            std::io::Error::other("folder is not empty and holds no index; choose another --index"),
        ));
    }
    Ok(())
}

/// Staging folders that rebuilds of index format 6 and earlier left beside the index.
fn remove_old_staging(index_dir: &Path) -> Result<Vec<Removed>, IndexError> {
    let name = index_dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut removed = Vec::new();
    for suffix in ["rebuild", "old"] {
        let path = index_dir.with_file_name(format!(".{name}.{suffix}"));
        if path.is_dir() {
            let bytes = super::size_on_disk(&path);
            fs::remove_dir_all(&path).map_err(|source| io_error(&path, source))?;
            removed.push(Removed {
                path,
                bytes,
                why: "an unfinished rebuild left by a run that was stopped",
            });
        }
    }
    Ok(removed)
}

/// Once a rebuild is live, the files of an index of an older format at the top of the folder
/// (tantivy's and geonews's own, by name) go.
fn remove_old_format_index(dir: &Path) -> Result<(), IndexError> {
    if !dir.join("meta.json").exists() {
        return Ok(());
    }
    let entries = fs::read_dir(dir).map_err(|source| io_error(dir, source))?;
    for entry in entries {
        let entry = entry.map_err(|source| io_error(dir, source))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let removal = if name == "signatures" {
            fs::remove_dir_all(&path)
        } else if is_old_format_file(&name) {
            fs::remove_file(&path)
        } else {
            continue;
        };
        removal.map_err(|source| io_error(&path, source))?;
    }
    Ok(())
}

fn is_old_format_file(name: &str) -> bool {
    let segment_file = name.split_once('.').is_some_and(|(stem, _)| {
        stem.len() == 32 && stem.bytes().all(|byte| byte.is_ascii_hexdigit())
    });
    segment_file
        || name.starts_with(".tantivy-")
        || [
            "meta.json",
            ".managed.json",
            super::META_FILE,
            "geonews.json.tmp",
        ]
        .contains(&name)
}

/// An article's key as the writer remembers the keys of the whole index: a 64-bit hash of it,
/// eight bytes whatever the key's length (two keys sharing one are as likely as a content
/// hash collision).
type KeyHash = u64;

fn key_hash(key: &str) -> KeyHash {
    let mut hash = Wide64::new();
    hash.write_field(key);
    hash.finish()
}

/// The articles of the index a rebuild replaces, whatever layout built it (a rebuild is the
/// way to a new layout), so that those it writes again unchanged keep their stamps. An index
/// that cannot be read (damaged, or predating stamps) gives none: then every article is new.
fn replaced_keys(folder: &IndexFolder) -> Option<CommittedKeys> {
    // An index of an older format sits at the top of the folder.
    let live = folder
        .current()
        .ok()
        .flatten()
        .unwrap_or_else(|| folder.dir().to_owned());
    // A damaged index may panic when read: then its articles are all new.
    std::panic::catch_unwind(|| {
        let index = tantivy::Index::open_in_dir(&live).ok()?;
        let reader = index.reader().ok()?;
        CommittedKeys::of(reader.searcher(), &live).ok()
    })
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_of_an_old_format_index_are_taken_for_it() {
        for name in [
            "meta.json",
            ".managed.json",
            "geonews.json",
            ".tantivy-writer.lock",
            "0123456789abcdef0123456789abcdef.idx",
            "0123456789abcdef0123456789abcdef.3.del",
        ] {
            assert!(is_old_format_file(name), "{name}");
        }
        for name in [
            "watches.json",
            "fetch-state.json",
            "CURRENT",
            "notes.txt",
            "gen-000001",
        ] {
            assert!(!is_old_format_file(name), "{name}");
        }
    }
}
