//! A copy of an index folder as of its last commit, made while searches go on: the files of
//! the live generation that its `meta.json` names, geonews's own files beside them, and the
//! folder's saved searches and fetch state, laid out as an index folder of its own
//! (`CURRENT` naming `gen-000001/`). The caller holds the writer lock, so no commit or merge
//! changes the files while they are copied; readers take no part in it.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use super::clusters::FOLDER as SIGNATURES_FOLDER;
use super::generations::IndexFolder;
use super::{IndexError, META_FILE, OpenIndex, disk_full_or, integrity, io_error, tantivy_error};
use crate::backend::{Copied, unfit_for_backup};
use crate::ingest::FETCH_STATE_FILE;
use crate::watch::WATCHES_FILE;

/// tantivy's own files beside its segments: the list of segments, and the files it manages.
const TANTIVY_FILES: [&str; 2] = ["meta.json", ".managed.json"];

/// Copies the live generation `live` of `folder` into `destination`, which must be new or
/// empty. A copy that fails is removed: `destination` is left as it was found.
pub(super) fn copy(
    folder: &IndexFolder,
    live: &OpenIndex,
    destination: &Path,
) -> Result<Copied, IndexError> {
    if let Some(why) = unfit_for_backup(destination) {
        return Err(IndexError::BackupDestination {
            path: destination.to_owned(),
            why,
        });
    }
    let created = !destination.exists();
    fs::create_dir_all(destination).map_err(|source| io_error(destination, source))?;
    let copied = copy_into(folder, live, destination);
    if copied.is_err() {
        let _ = if created {
            fs::remove_dir_all(destination)
        } else {
            empty(destination)
        };
    }
    copied.map_err(|error| disk_full_or(error, destination))
}

fn copy_into(
    folder: &IndexFolder,
    live: &OpenIndex,
    destination: &Path,
) -> Result<Copied, IndexError> {
    let target = IndexFolder::new(destination);
    let generation = target
        .new_generation()
        .map_err(|source| io_error(destination, source))?;
    let mut copied = Copied {
        files: 0,
        bytes: 0,
        articles: 0,
        segments: 0,
    };
    let mut add = |bytes: u64| {
        copied.files += 1;
        copied.bytes += bytes;
    };

    let metas = live
        .index
        .load_metas()
        .map_err(|source| tantivy_error(&live.path, source))?;
    // Some files the list names may not exist (a segment without deletions has no `.del`);
    // opening the copy below finds any that a segment needs.
    let segment_files: BTreeSet<PathBuf> = metas.list_segment_files().into_iter().collect();
    for name in &segment_files {
        if let Some(bytes) = copy_file_if_present(&live.path.join(name), &generation.join(name))? {
            add(bytes);
        }
    }
    for name in TANTIVY_FILES.into_iter().chain([META_FILE]) {
        add(copy_file(&live.path.join(name), &generation.join(name))?);
    }
    let signatures = live.path.join(SIGNATURES_FOLDER);
    if signatures.is_dir() {
        let into = generation.join(SIGNATURES_FOLDER);
        fs::create_dir_all(&into).map_err(|source| io_error(&into, source))?;
        for entry in fs::read_dir(&signatures).map_err(|source| io_error(&signatures, source))? {
            let entry = entry.map_err(|source| io_error(&signatures, source))?;
            if entry.file_type().is_ok_and(|kind| kind.is_file()) {
                add(copy_file(&entry.path(), &into.join(entry.file_name()))?);
            }
        }
        sync_folder(&into)?;
    }
    for name in [WATCHES_FILE, FETCH_STATE_FILE] {
        if let Some(bytes) =
            copy_file_if_present(&folder.dir().join(name), &destination.join(name))?
        {
            add(bytes);
        }
    }
    sync_folder(&generation)?;

    let (articles, segments) = verify(live, &generation)?;
    copied.articles = articles;
    copied.segments = segments;
    target
        .make_current(&generation)
        .map_err(|source| io_error(destination, source))?;
    Ok(copied)
}

/// Checks the copy: every file against its checksum, and as many articles as the original.
/// Then records its files as verified, so that its readers trust them as the original's do
/// (the original's records name other files' times).
fn verify(live: &OpenIndex, generation: &Path) -> Result<(u64, usize), IndexError> {
    let copy = tantivy::Index::open_in_dir(generation)
        .map_err(|source| tantivy_error(generation, source))?;
    let checked = integrity::check_all(generation, &copy)?;
    if !checked.damaged.is_empty() {
        let original = integrity::check_all(&live.path, &live.index)?;
        if !original.damaged.is_empty() {
            return Err(integrity::damaged_segments(&live.path, &original.damaged));
        }
        let segments: Vec<&str> = checked.damaged.keys().map(String::as_str).collect();
        return Err(IndexError::Corrupt(format!(
            "the copy in {} of segment {} fails its checksum, while the index holds; check the \
             disk it was written to",
            generation.display(),
            segments.join(", ")
        )));
    }
    let articles = |index: &tantivy::Index, path: &Path| -> Result<u64, IndexError> {
        let reader = index
            .reader()
            .map_err(|source| tantivy_error(path, source))?;
        Ok(reader.searcher().num_docs())
    };
    let (original, copied) = (
        articles(&live.index, &live.path)?,
        articles(&copy, generation)?,
    );
    if original != copied {
        return Err(IndexError::Corrupt(format!(
            "the copy holds {copied} articles where the index holds {original}"
        )));
    }
    integrity::record_verified(generation, &copy)?;
    Ok((copied, checked.segments))
}

/// Copies `from` to `to` and makes it durable; its bytes.
fn copy_file(from: &Path, to: &Path) -> Result<u64, IndexError> {
    let bytes = fs::copy(from, to).map_err(|source| io_error(from, source))?;
    File::open(to)
        .and_then(|file| file.sync_all())
        .map_err(|source| io_error(to, source))?;
    Ok(bytes)
}

fn copy_file_if_present(from: &Path, to: &Path) -> Result<Option<u64>, IndexError> {
    match copy_file(from, to) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(IndexError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

fn sync_folder(path: &Path) -> Result<(), IndexError> {
    File::open(path)
        .and_then(|folder| folder.sync_all())
        .map_err(|source| io_error(path, source))
}

/// Removes everything in `dir`, which was empty before the copy began.
fn empty(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            fs::remove_dir_all(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_that_holds_anything_is_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        assert_eq!(unfit_for_backup(&dir.path().join("new")), None);
        assert_eq!(unfit_for_backup(dir.path()), None);
        fs::write(dir.path().join("notes.txt"), "kept").unwrap();
        assert_eq!(
            unfit_for_backup(dir.path()).as_deref(),
            Some("it exists and is not empty")
        );
        assert_eq!(
            unfit_for_backup(&dir.path().join("notes.txt")).as_deref(),
            Some("it is not a folder")
        );
    }
}
