//! What the writer knows of an article already in an index, looked up through the index itself
//! (its id terms, then three fast columns) rather than held for every article: a writer's
//! memory then grows with what its run reads, not with the index.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::columnar::Column;
use tantivy::fastfield::AliveBitSet;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, InvertedIndexReader, Searcher, TERMINATED, Term};

use super::layout::{CONTENT_HASH_FIELD, ID_FIELD, INDEXED_AT_FIELD, NEWS_HASH_FIELD};
use super::{IndexError, io_error, tantivy_error};

/// What the index holds of an article: its content hash, the hash of what a reader sees of
/// it, and when it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub content_hash: u64,
    pub news_hash: u64,
    pub stamp: u64,
}

/// The committed articles of an index, found by key.
pub struct CommittedKeys {
    id: Field,
    path: PathBuf,
    segments: Vec<SegmentKeys>,
    /// Holds the segments open while they are looked in.
    _searcher: Searcher,
}

struct SegmentKeys {
    ids: Arc<InvertedIndexReader>,
    alive: Option<AliveBitSet>,
    content: Column<u64>,
    news: Column<u64>,
    stamps: Column<u64>,
}

impl CommittedKeys {
    /// The articles `searcher` sees in the index at `path`.
    pub fn of(searcher: Searcher, path: &Path) -> Result<CommittedKeys, IndexError> {
        let id = searcher
            .schema()
            .get_field(ID_FIELD)
            .map_err(|source| tantivy_error(path, source))?;
        let mut segments = Vec::new();
        for segment in searcher.segment_readers() {
            let fast = segment.fast_fields();
            let column = |name| fast.u64(name).map_err(|source| tantivy_error(path, source));
            segments.push(SegmentKeys {
                ids: segment
                    .inverted_index(id)
                    .map_err(|source| tantivy_error(path, source))?,
                alive: segment.alive_bitset().cloned(),
                content: column(CONTENT_HASH_FIELD)?,
                news: column(NEWS_HASH_FIELD)?,
                stamps: column(INDEXED_AT_FIELD)?,
            });
        }
        Ok(CommittedKeys {
            id,
            path: path.to_owned(),
            segments,
            _searcher: searcher,
        })
    }

    /// The article with `key`, if the index holds it.
    pub fn get(&self, key: &str) -> Result<Option<Known>, IndexError> {
        let term = Term::from_field_text(self.id, key);
        for segment in &self.segments {
            let Some(info) = segment
                .ids
                .get_term_info(&term)
                .map_err(|source| io_error(&self.path, source))?
            else {
                continue;
            };
            let mut postings = segment
                .ids
                .read_postings_from_terminfo(&info, IndexRecordOption::Basic)
                .map_err(|source| io_error(&self.path, source))?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if segment
                    .alive
                    .as_ref()
                    .is_none_or(|alive| alive.is_alive(doc))
                {
                    return Ok(Some(Known {
                        content_hash: segment.content.first(doc).unwrap_or_default(),
                        news_hash: segment.news.first(doc).unwrap_or_default(),
                        stamp: segment.stamps.first(doc).unwrap_or_default(),
                    }));
                }
                doc = postings.advance();
            }
        }
        Ok(None)
    }

    /// The latest stamp of any article (0 for none).
    pub fn latest_stamp(&self) -> u64 {
        self.segments
            .iter()
            .map(|segment| segment.stamps.max_value())
            .max()
            .unwrap_or(0)
    }
}
