//! Whether an index's files are as their writer left them. Every tantivy file ends with a
//! checksum of its bytes; checking one reads the whole file, too slow for every search. So the
//! writer records, after each commit, each segment file's length and modification time in
//! `verified.json`: segment files never change once written, so a reader that finds a file
//! as recorded trusts it, and checks the sum of any other (a file overwritten since, or one a
//! killed writer's merge left unrecorded). `geonews check` checks every file.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use tantivy::Index;
use tantivy::directory::{Directory, META_LOCK};

use super::{IndexError, io_error};

const VERIFIED_FILE: &str = "verified.json";

/// A file's length and modification time, in nanoseconds since the epoch.
type Stamp = (u64, u128);

#[derive(Debug, Default, Serialize, Deserialize)]
struct Verified {
    files: BTreeMap<String, Stamp>,
}

/// What a full check found: the segments and files read, and what is damaged.
#[derive(Debug, Default)]
pub struct Checked {
    pub segments: usize,
    pub files: usize,
    pub bytes: u64,
    /// Each damaged segment's id and its damaged files' kinds (`idx`, `store`…).
    pub damaged: BTreeMap<String, BTreeSet<String>>,
}

/// Records the segment files of `index` (in the generation folder `path`) as verified: their
/// writer just wrote them, or a full check just read them.
pub fn record_verified(path: &Path, index: &Index) -> Result<(), IndexError> {
    let mut verified = Verified::default();
    for file in segment_files(path, index)? {
        let stamp = stamp_of(&path.join(&file)).map_err(|source| io_error(path, source))?;
        verified.files.insert(file, stamp);
    }
    let json = serde_json::to_vec(&verified).expect("a map of numbers serializes");
    let staging = path.join(format!("{VERIFIED_FILE}.tmp"));
    fs::write(&staging, json).map_err(|source| io_error(&staging, source))?;
    fs::rename(&staging, path.join(VERIFIED_FILE)).map_err(|source| io_error(path, source))
}

/// Checks the sums of the files not as recorded; the damage found, as an error.
pub fn check_changed_files(path: &Path, index: &Index) -> Result<(), IndexError> {
    if changed_files_failing(path, index)?.is_empty() {
        return Ok(());
    }
    // A writer's merge or commit may have replaced segments between our reading their list
    // and their files. Look again holding tantivy's meta lock, which its removal of files
    // waits for: a file then listed and failing is damage.
    let _meta_lock = index
        .directory()
        .acquire_lock(&META_LOCK)
        .map_err(|error| io_error(path, std::io::Error::other(error.to_string())))?;
    let damaged = changed_files_failing(path, index)?;
    if damaged.is_empty() {
        Ok(())
    } else {
        Err(damage(path, &damaged))
    }
}

/// The live segment files whose length or time differ from the record and whose sums fail.
fn changed_files_failing(path: &Path, index: &Index) -> Result<HashSet<PathBuf>, IndexError> {
    let recorded: Verified = fs::read(path.join(VERIFIED_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let mut damaged = HashSet::new();
    for file in segment_files(path, index)? {
        let stamp = stamp_of(&path.join(&file)).ok();
        if stamp.is_some() && recorded.files.get(&file) == stamp.as_ref() {
            continue;
        }
        if !sum_holds(index, &file) {
            damaged.insert(PathBuf::from(file));
        }
    }
    Ok(damaged)
}

/// Reads every segment file and checks its sum.
pub fn check_all(path: &Path, index: &Index) -> Result<Checked, IndexError> {
    let mut checked = Checked {
        segments: index
            .searchable_segment_metas()
            .map_err(|source| super::tantivy_error(path, source))?
            .len(),
        ..Checked::default()
    };
    let mut failing = Vec::new();
    for file in segment_files(path, index)? {
        checked.files += 1;
        checked.bytes += fs::metadata(path.join(&file)).map_or(0, |meta| meta.len());
        if !sum_holds(index, &file) {
            failing.push(PathBuf::from(file));
        }
    }
    checked.damaged = by_segment(&failing);
    Ok(checked)
}

/// Damaged files grouped by segment, each with its files' kinds.
fn by_segment<'a>(
    files: impl IntoIterator<Item = &'a PathBuf>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut segments: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let (segment, kind) = segment_and_kind(file);
        segments.entry(segment).or_default().insert(kind);
    }
    segments
}

/// The error for a damaged index: which segments, and what to do.
pub fn damage(path: &Path, files: &HashSet<PathBuf>) -> IndexError {
    damaged_segments(path, &by_segment(files))
}

/// The error for a damaged index from its damaged segments and their files' kinds.
pub fn damaged_segments(path: &Path, segments: &BTreeMap<String, BTreeSet<String>>) -> IndexError {
    let detail = segments
        .iter()
        .map(|(segment, kinds)| {
            let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
            format!(
                "segment {segment} ({} fails its checksum)",
                kinds.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    IndexError::Damaged {
        path: path.to_owned(),
        detail,
    }
}

/// The damage found when a read failed or panicked: the damaged segments when their sums
/// say so, else what failed.
pub fn damage_after_failure(path: &Path, index: &Index, what_failed: &str) -> IndexError {
    match index.validate_checksum() {
        Ok(files) if !files.is_empty() => damage(path, &files),
        _ => IndexError::Damaged {
            path: path.to_owned(),
            detail: format!("a read failed ({what_failed})"),
        },
    }
}

fn sum_holds(index: &Index, file: &str) -> bool {
    index
        .directory()
        .validate_checksum(Path::new(file))
        .unwrap_or(false)
}

/// The files of `index`'s segments that its list of segments names, by name: not a
/// deletion file being written for a commit not yet made, nor one a commit has replaced.
fn segment_files(path: &Path, index: &Index) -> Result<Vec<String>, IndexError> {
    let named: HashSet<PathBuf> = index
        .load_metas()
        .map_err(|source| super::tantivy_error(path, source))?
        .list_segment_files();
    let mut files = Vec::new();
    for entry in fs::read_dir(path).map_err(|source| io_error(path, source))? {
        let name = entry.map_err(|source| io_error(path, source))?.file_name();
        if named.contains(Path::new(&name)) && !name.to_string_lossy().ends_with(".temp") {
            files.push(name.to_string_lossy().into_owned());
        }
    }
    files.sort();
    Ok(files)
}

fn stamp_of(path: &Path) -> std::io::Result<Stamp> {
    let meta = fs::metadata(path)?;
    let modified = meta
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    Ok((meta.len(), modified))
}

/// `0123….idx` → (the segment's first 8 hex digits, `idx`).
fn segment_and_kind(file: &Path) -> (String, String) {
    let name = file.to_string_lossy();
    let (segment, kind) = name.split_once('.').unwrap_or((&name, ""));
    let kind = kind.rsplit('.').next().unwrap_or(kind);
    (segment.chars().take(8).collect(), kind.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_by_segment_and_kind() {
        assert_eq!(
            segment_and_kind(Path::new("0123456789abcdef0123456789abcdef.3.del")),
            ("01234567".to_owned(), "del".to_owned())
        );
        assert_eq!(
            segment_and_kind(Path::new("0123456789abcdef0123456789abcdef.store")),
            ("01234567".to_owned(), "store".to_owned())
        );
    }
}
