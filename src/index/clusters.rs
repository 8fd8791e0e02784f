//! Which story an article being written is a copy of: the most similar earlier article
//! sharing a band of its near-duplicate signature, among those committed (found through the
//! index's band terms) and those written since the last commit (kept in memory until then).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashSet;
use tantivy::DocSet;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, IndexReader, SegmentReader, TERMINATED, Term};

use super::layout::{CLUSTER_FIELD, DUP_SIGNATURE_FIELD, Layout};
use super::{IndexError, io_error, tantivy_error};
use crate::dedup::{SAME_STORY, Signature};

pub struct ClusterFinder {
    reader: IndexReader,
    layout: Arc<Layout>,
    path: Arc<Path>,
    /// Articles written since the last commit: their signatures and clusters.
    recent: Vec<(Signature, String)>,
    /// Their bands, to positions in `recent`.
    recent_bands: HashMap<u64, Vec<usize>>,
}

/// The best copy found so far: its similarity and cluster.
type Best = Option<(f64, String)>;

impl ClusterFinder {
    pub fn new(reader: IndexReader, layout: Arc<Layout>, path: &Path) -> ClusterFinder {
        ClusterFinder {
            reader,
            layout,
            path: Arc::from(path),
            recent: Vec::new(),
            recent_bands: HashMap::new(),
        }
    }

    /// The cluster of the article `key`: that of its most similar earlier copy, else its own.
    pub fn assign(&mut self, key: &str, signature: &Signature) -> Result<String, IndexError> {
        let bands = signature.bands();
        let mut best = self.best_recent(signature, &bands);
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            self.best_committed(segment, signature, &bands, &mut best)?;
        }
        let cluster = best.map_or_else(|| key.to_owned(), |(_, cluster)| cluster);
        for band in bands {
            self.recent_bands
                .entry(band)
                .or_default()
                .push(self.recent.len());
        }
        self.recent.push((signature.clone(), cluster.clone()));
        Ok(cluster)
    }

    /// After a commit, the articles written are found through the index.
    pub fn committed(&mut self) -> Result<(), IndexError> {
        self.reader
            .reload()
            .map_err(|source| tantivy_error(&self.path, source))?;
        self.recent.clear();
        self.recent_bands.clear();
        Ok(())
    }

    fn best_recent(&self, signature: &Signature, bands: &[u64]) -> Best {
        let candidates: FxHashSet<usize> = bands
            .iter()
            .filter_map(|band| self.recent_bands.get(band))
            .flatten()
            .copied()
            .collect();
        let mut best = None;
        for position in candidates {
            let (other, cluster) = &self.recent[position];
            consider(&mut best, signature.similarity(other), || cluster.clone());
        }
        best
    }

    fn best_committed(
        &self,
        segment: &SegmentReader,
        signature: &Signature,
        bands: &[u64],
        best: &mut Best,
    ) -> Result<(), IndexError> {
        let candidates = self.segment_candidates(segment, bands)?;
        if candidates.is_empty() {
            return Ok(());
        }
        let error = |source| tantivy_error(&self.path, source);
        let fast_fields = segment.fast_fields();
        let (Some(signatures), Some(clusters)) = (
            fast_fields.bytes(DUP_SIGNATURE_FIELD).map_err(error)?,
            fast_fields.str(CLUSTER_FIELD).map_err(error)?,
        ) else {
            return Ok(());
        };
        let mut bytes = Vec::new();
        for doc in candidates {
            let Some(ord) = signatures.term_ords(doc).next() else {
                continue;
            };
            bytes.clear();
            signatures
                .ord_to_bytes(ord, &mut bytes)
                .map_err(|source| io_error(&self.path, source))?;
            let Some(other) = Signature::from_bytes(&bytes) else {
                continue;
            };
            let Some(cluster_ord) = clusters.term_ords(doc).next() else {
                continue;
            };
            let mut cluster = String::new();
            let mut read = Ok(());
            consider(best, signature.similarity(&other), || {
                read = clusters.ord_to_str(cluster_ord, &mut cluster).map(drop);
                cluster.clone()
            });
            read.map_err(|source| io_error(&self.path, source))?;
        }
        Ok(())
    }

    /// Live documents of `segment` sharing a band with the article.
    fn segment_candidates(
        &self,
        segment: &SegmentReader,
        bands: &[u64],
    ) -> Result<FxHashSet<DocId>, IndexError> {
        let inverted = segment
            .inverted_index(self.layout.dup_bands)
            .map_err(|source| tantivy_error(&self.path, source))?;
        let mut candidates = FxHashSet::default();
        for &band in bands {
            let term = Term::from_field_u64(self.layout.dup_bands, band);
            let postings = inverted
                .read_postings(&term, IndexRecordOption::Basic)
                .map_err(|source| io_error(&self.path, source))?;
            let Some(mut postings) = postings else {
                continue;
            };
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if !segment.is_deleted(doc) {
                    candidates.insert(doc);
                }
                doc = postings.advance();
            }
        }
        Ok(candidates)
    }
}

/// Keeps the candidate when it is a copy and more similar than the best so far.
fn consider(best: &mut Best, similarity: f64, cluster: impl FnOnce() -> String) {
    let better = best.as_ref().is_none_or(|(most, _)| similarity > *most);
    if similarity >= SAME_STORY && better {
        *best = Some((similarity, cluster()));
    }
}
