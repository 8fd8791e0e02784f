//! The local index as the rest of geonews sees it: the live generation of an index folder,
//! moved to a rebuild's generation once that is live, behind a boundary that turns a panic
//! while reading (what tantivy does on some damaged files) into a damaged-index error.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::generations::IndexFolder;
use super::integrity::{self, Checked};
use super::search::Generation;
use super::writer::{LocalWriter, WriterOptions};
use super::{IndexError, OpenIndex, io_error};
use crate::analytics::{Interval, PairCounts, TimelineCounts};
use crate::backend::{Overview, Page, PageRequest, SearchBackend, Tally};
use crate::query::ast::Query;
use crate::results::{Hit, Related, StoredArticle};
use crate::schema::Schema;

pub struct LocalIndex {
    folder: PathBuf,
    schema: Arc<Schema>,
    /// Following other processes' commits (a server), or as of the last commit.
    live: bool,
    current: RwLock<Arc<Generation>>,
}

impl LocalIndex {
    /// The index as of its last commit, for one command.
    pub fn open(path: &Path, schema: &Arc<Schema>) -> Result<LocalIndex, IndexError> {
        LocalIndex::open_with(path, schema, false)
    }

    /// The index for a long-lived reader (a server): it follows commits, and moves to a
    /// rebuild's generation on the first request after the swap (the old one is removed when
    /// the last request on it ends).
    pub fn open_live(path: &Path, schema: &Arc<Schema>) -> Result<LocalIndex, IndexError> {
        LocalIndex::open_with(path, schema, true)
    }

    fn open_with(path: &Path, schema: &Arc<Schema>, live: bool) -> Result<LocalIndex, IndexError> {
        let generation = guarded(path, None, || Generation::open(path, schema, live))?;
        Ok(LocalIndex {
            folder: path.to_owned(),
            schema: Arc::clone(schema),
            live,
            current: RwLock::new(Arc::new(generation)),
        })
    }

    /// The write side: the index at `path`, created when absent (see [`LocalWriter`]).
    pub fn writer(
        path: &Path,
        schema: &Arc<Schema>,
        options: &WriterOptions,
    ) -> Result<LocalWriter, IndexError> {
        LocalWriter::open(path, schema, options)
    }

    /// Reads every file of the live generation and checks its sum (`geonews check`); when all
    /// hold, records them as verified.
    pub fn check(path: &Path, schema: &Schema) -> Result<Checked, IndexError> {
        let open = guarded(path, None, || OpenIndex::open_to_check(path, schema))?;
        let checked = guarded(path, None, || integrity::check_all(&open.path, &open.index))?;
        if checked.damaged.is_empty() {
            integrity::record_verified(&open.path, &open.index)?;
        }
        Ok(checked)
    }

    /// Runs `read` on the live generation, opened again when a rebuild has replaced the one
    /// held; a panic inside is damage.
    fn read<T>(
        &self,
        read: impl FnOnce(&Generation) -> Result<T, IndexError>,
    ) -> Result<T, IndexError> {
        let generation = self.current()?;
        let (path, index) = generation.files();
        guarded(path, Some(index), || read(&generation))
    }

    /// One command reads the generation it opened; a server moves on to a rebuild's.
    fn current(&self) -> Result<Arc<Generation>, IndexError> {
        let held = Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()));
        if !self.live {
            return Ok(held);
        }
        let live = IndexFolder::new(&self.folder)
            .current()
            .map_err(|source| io_error(&self.folder, source))?;
        if live.is_none_or(|live| live == held.files().0) {
            return Ok(held);
        }
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        let reopened = guarded(&self.folder, None, || {
            Generation::open(&self.folder, &self.schema, self.live)
        })?;
        *current = Arc::new(reopened);
        Ok(Arc::clone(&current))
    }
}

/// Runs `read`, turning a panic into damage: the segments whose sums fail, when `index` is
/// open to check them, else what panicked.
fn guarded<T>(
    path: &Path,
    index: Option<&tantivy::Index>,
    read: impl FnOnce() -> Result<T, IndexError>,
) -> Result<T, IndexError> {
    catch_unwind(AssertUnwindSafe(read)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        Err(match index {
            Some(index) => integrity::damage_after_failure(path, index, what),
            None => IndexError::Damaged {
                path: path.to_owned(),
                detail: format!("it cannot be opened ({what})"),
            },
        })
    })
}

impl SearchBackend for LocalIndex {
    type Error = IndexError;

    fn search(&self, request: &PageRequest) -> Result<Page<Hit>, IndexError> {
        self.read(|index| index.search(request))
    }

    fn search_ids(&self, request: &PageRequest) -> Result<Page<String>, IndexError> {
        self.read(|index| index.search_ids(request))
    }

    fn count(&self, query: &Query, fields: &[String]) -> Result<(u64, Vec<Tally>), IndexError> {
        self.read(|index| index.count(query, fields))
    }

    fn article(&self, id: &str) -> Result<Option<StoredArticle>, IndexError> {
        self.read(|index| index.article(id))
    }

    fn timeline(
        &self,
        query: &Query,
        interval: Interval,
        split: Option<&str>,
    ) -> Result<TimelineCounts, IndexError> {
        self.read(|index| index.timeline(query, interval, split))
    }

    fn pair_counts(&self, query: &Query, fields: [&str; 2]) -> Result<PairCounts, IndexError> {
        self.read(|index| index.pair_counts(query, fields))
    }

    fn related(&self, id: &str, limit: usize) -> Result<Option<Related>, IndexError> {
        self.read(|index| index.related(id, limit))
    }

    fn indexed_through(&self) -> Result<u64, IndexError> {
        self.read(|index| index.indexed_through())
    }

    fn overview(&self, fields: &[String]) -> Result<(Overview, Vec<Tally>), IndexError> {
        self.read(|index| index.overview(fields))
    }

    fn location(&self) -> String {
        self.folder.display().to_string()
    }

    fn warnings(&self) -> Vec<String> {
        self.current()
            .map(|index| index.warnings())
            .unwrap_or_default()
    }
}
