//! Which story an article being written is a copy of: the most similar earlier article
//! sharing a band of its near-duplicate signature, among those committed (found through the
//! index's band terms, their signatures computed again from their stored bodies) and those
//! written since the last commit (kept in memory until then).

use std::path::Path;
use std::sync::Arc;

use chrono::DateTime;
use rustc_hash::{FxHashMap, FxHashSet};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{
    DocAddress, DocId, DocSet, IndexReader, Searcher, SegmentReader, TERMINATED, TantivyDocument,
    Term,
};

use super::layout::Layout;
use super::{IndexError, io_error, tantivy_error};
use crate::dedup::Signature;

/// Earlier articles compared with each new one, at most. A band shared by thousands of
/// articles is one story told thousands of times: a few of them tell which, and comparing
/// with all would make a large story cost quadratic time.
const MAX_CANDIDATES: usize = 8;

pub struct ClusterFinder {
    reader: IndexReader,
    layout: Arc<Layout>,
    path: Arc<Path>,
    /// Articles written since the last commit: their signatures and clusters.
    recent: Vec<(Signature, String)>,
    /// Their bands, each to the last of them that has it: one copy tells the story.
    recent_bands: FxHashMap<u64, usize>,
    /// Every band of the committed articles: most articles have no copy, and this tells so
    /// without looking a band up in each segment (some 40 bytes an article).
    committed_bands: FxHashSet<u64>,
    /// Signatures (and clusters) of committed articles read since the last commit: a story
    /// with many copies is a candidate again and again.
    read_back: FxHashMap<(u32, DocId), Option<(Signature, String)>>,
}

/// Committed articles whose signatures are kept once read: at about 200 bytes each, 20 MB.
const MAX_READ_BACK: usize = 100_000;

/// The best copy found so far: its similarity and cluster.
type Best = Option<(f64, String)>;

impl ClusterFinder {
    pub fn new(
        reader: IndexReader,
        layout: Arc<Layout>,
        path: &Path,
    ) -> Result<ClusterFinder, IndexError> {
        let committed_bands = committed_bands(&reader.searcher(), layout.dup_bands)
            .map_err(|source| tantivy_error(path, source))?;
        Ok(ClusterFinder {
            reader,
            layout,
            path: Arc::from(path),
            recent: Vec::new(),
            recent_bands: FxHashMap::default(),
            committed_bands,
            read_back: FxHashMap::default(),
        })
    }

    /// The cluster of the article `key` with `signature` and its `bands`: that of its most
    /// similar earlier copy, else its own key.
    pub fn assign(
        &mut self,
        key: &str,
        signature: &Signature,
        bands: &[u64],
    ) -> Result<String, IndexError> {
        let mut best = self.best_recent(signature, bands);
        let shared: Vec<u64> = bands
            .iter()
            .copied()
            .filter(|band| self.committed_bands.contains(band))
            .collect();
        if !shared.is_empty() {
            let searcher = self.reader.searcher();
            let mut budget = MAX_CANDIDATES;
            for segment_ord in 0..searcher.segment_readers().len() as u32 {
                if budget == 0 {
                    break;
                }
                self.best_committed(
                    &searcher,
                    segment_ord,
                    signature,
                    &shared,
                    &mut budget,
                    &mut best,
                )?;
            }
        }
        let cluster = best.map_or_else(|| key.to_owned(), |(_, cluster)| cluster);
        for &band in bands {
            self.recent_bands.insert(band, self.recent.len());
        }
        self.recent.push((signature.clone(), cluster.clone()));
        Ok(cluster)
    }

    /// After a commit, the articles written are found through the index.
    pub fn committed(&mut self) -> Result<(), IndexError> {
        self.reader
            .reload()
            .map_err(|source| tantivy_error(&self.path, source))?;
        self.committed_bands.extend(self.recent_bands.keys());
        self.recent.clear();
        self.recent_bands.clear();
        // Document numbers change when segments merge.
        self.read_back.clear();
        Ok(())
    }

    fn best_recent(&self, signature: &Signature, bands: &[u64]) -> Best {
        let candidates: FxHashSet<usize> = bands
            .iter()
            .filter_map(|band| self.recent_bands.get(band).copied())
            .collect();
        let mut best = None;
        for position in candidates {
            let (other, cluster) = &self.recent[position];
            consider(&mut best, signature, other, || cluster.clone());
        }
        best
    }

    /// Candidates of one segment: their signatures computed again from their stored bodies
    /// (cheaper than keeping them: few articles have a copy).
    fn best_committed(
        &mut self,
        searcher: &Searcher,
        segment_ord: u32,
        signature: &Signature,
        bands: &[u64],
        budget: &mut usize,
        best: &mut Best,
    ) -> Result<(), IndexError> {
        let segment = searcher.segment_reader(segment_ord);
        let candidates = self.segment_candidates(segment, bands, *budget)?;
        *budget -= candidates.len();
        for doc in candidates {
            let read = match self.read_back.get(&(segment_ord, doc)) {
                Some(read) => read.clone(),
                None => {
                    let read = self.read_signature(searcher, DocAddress::new(segment_ord, doc))?;
                    if self.read_back.len() < MAX_READ_BACK {
                        self.read_back.insert((segment_ord, doc), read.clone());
                    }
                    read
                }
            };
            if let Some((other, cluster)) = read {
                consider(best, signature, &other, || cluster);
            }
        }
        Ok(())
    }

    /// The signature and cluster of a committed article, from its stored body and date.
    fn read_signature(
        &self,
        searcher: &Searcher,
        address: DocAddress,
    ) -> Result<Option<(Signature, String)>, IndexError> {
        let Some(cluster_field) = self.layout.cluster else {
            return Ok(None);
        };
        let document: TantivyDocument = searcher
            .doc(address)
            .map_err(|source| tantivy_error(&self.path, source))?;
        let text = |field| document.get_first(field).and_then(|value| value.as_str());
        let published = document
            .get_first(self.layout.timestamp)
            .and_then(|value| value.as_datetime())
            .and_then(|date| DateTime::from_timestamp(date.into_timestamp_secs(), 0));
        let signature = text(self.layout.body).and_then(|body| Signature::of(body, published));
        Ok(signature.zip(text(cluster_field).map(str::to_owned)))
    }

    /// Up to `limit` live documents of `segment` sharing a band with the article.
    fn segment_candidates(
        &self,
        segment: &SegmentReader,
        bands: &[u64],
        limit: usize,
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
            while doc != TERMINATED && candidates.len() < limit {
                if !segment.is_deleted(doc) {
                    candidates.insert(doc);
                }
                doc = postings.advance();
            }
        }
        Ok(candidates)
    }
}

/// Every band term of the index's live segments (a deleted article's bands may remain: they
/// only cost a lookup).
fn committed_bands(searcher: &Searcher, field: Field) -> tantivy::Result<FxHashSet<u64>> {
    let mut bands = FxHashSet::default();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut terms = inverted.terms().stream()?;
        while terms.advance() {
            // A u64 term holds the number big-endian.
            if let Ok(bytes) = <[u8; 8]>::try_from(terms.key()) {
                bands.insert(u64::from_be_bytes(bytes));
            }
        }
    }
    Ok(bands)
}

/// Keeps the candidate when it is a copy and more similar than the best so far.
fn consider(
    best: &mut Best,
    signature: &Signature,
    candidate: &Signature,
    cluster: impl FnOnce() -> String,
) {
    let similarity = signature.similarity(candidate);
    let better = best.as_ref().is_none_or(|(most, _)| similarity > *most);
    if better && signature.same_story(candidate) {
        *best = Some((similarity, cluster()));
    }
}
