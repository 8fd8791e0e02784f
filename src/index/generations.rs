//! An index folder and its generations. The folder holds, besides what belongs to the index
//! whatever build of it is live (saved searches, fetch state), one or more builds of the
//! index, `gen-000001/`, `gen-000002/`…, and `CURRENT`, naming the live one.
//!
//! - One writer at a time: `writer.lock`, held from before anything is written until the run
//!   ends, records who holds it.
//! - A rebuild writes a new generation and makes it live by renaming a new `CURRENT` over the
//!   old: readers see the old build or the new one, never a folder being moved.
//! - A reader holds a shared lock on its generation's `.readers.lock` for as long as it reads
//!   it; a generation no longer live is removed once nobody holds that lock.
//! - A generation newer than the live one is what a killed rebuild left, removed by the next
//!   writer.

use std::fs::{self, File, TryLockError};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::DateTime;

pub(super) const CURRENT_FILE: &str = "CURRENT";
const GENERATION_PREFIX: &str = "gen-";
pub(super) const WRITER_LOCK_FILE: &str = "writer.lock";
const READERS_LOCK_FILE: &str = ".readers.lock";
/// A reader that finds its generation removed under it reads `CURRENT` again: a rebuild
/// finishing in between is the only cause, so a few tries are plenty.
const PIN_ATTEMPTS: usize = 16;

/// An index folder: its generations and locks.
#[derive(Debug, Clone)]
pub struct IndexFolder {
    dir: PathBuf,
}

/// The live generation, held for reading: it is not removed while this lives.
#[derive(Debug)]
pub struct Pinned {
    pub path: PathBuf,
    _readers_lock: File,
}

/// The exclusive right to write an index folder, until dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

/// What a writer cleaned up that earlier runs left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub path: PathBuf,
    pub bytes: u64,
    pub why: &'static str,
}

/// Another process holds the writer lock: who, as it recorded itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder(pub String);

impl IndexFolder {
    pub fn new(dir: &Path) -> IndexFolder {
        IndexFolder {
            dir: dir.to_owned(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The live generation's folder, or `None` when there is none yet (or the folder holds an
    /// index of an older format at its top).
    pub fn current(&self) -> io::Result<Option<PathBuf>> {
        match fs::read_to_string(self.dir.join(CURRENT_FILE)) {
            Ok(name) => {
                let name = name.trim();
                if generation_number(name).is_none() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{CURRENT_FILE} names `{name}`, not a generation"),
                    ));
                }
                Ok(Some(self.dir.join(name)))
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The live generation, held against removal, or `None` when there is none.
    pub fn pin_current(&self) -> io::Result<Option<Pinned>> {
        for _ in 0..PIN_ATTEMPTS {
            let Some(path) = self.current()? else {
                return Ok(None);
            };
            let lock = match open_lock_file(&path.join(READERS_LOCK_FILE)) {
                Ok(lock) => lock,
                // Removed after CURRENT moved on: read it again.
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            };
            lock.lock_shared()?;
            if self.current()?.as_deref() == Some(path.as_path()) {
                return Ok(Some(Pinned {
                    path,
                    _readers_lock: lock,
                }));
            }
        }
        Err(io::Error::other(
            "the index kept changing while it was opened; try again",
        ))
    }

    /// Takes the writer lock, or says who holds it. With `wait`, queues behind the holder.
    pub fn lock_writer(&self, wait: bool) -> io::Result<Result<WriterLock, Holder>> {
        fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(WRITER_LOCK_FILE);
        let mut file = open_lock_file(&path)?;
        if wait {
            file.lock()?;
        } else {
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Ok(Err(Holder(if holder.is_empty() {
                        "another geonews process".to_owned()
                    } else {
                        holder.to_owned()
                    })));
                }
                Err(TryLockError::Error(error)) => return Err(error),
            }
        }
        file.set_len(0)?;
        file.write_all(holder_description().as_bytes())?;
        file.flush()?;
        Ok(Ok(WriterLock { _file: file }))
    }

    /// A new generation's folder, numbered after every existing one (not yet live).
    pub fn new_generation(&self) -> io::Result<PathBuf> {
        let next = self
            .generations()?
            .last()
            .map_or(1, |(number, _)| number + 1);
        let path = self.dir.join(format!("{GENERATION_PREFIX}{next:06}"));
        fs::create_dir_all(&path)?;
        Ok(path)
    }

    /// Makes `generation` the live one, atomically.
    pub fn make_current(&self, generation: &Path) -> io::Result<()> {
        let name = generation
            .file_name()
            .and_then(|name| name.to_str())
            .filter(|name| generation_number(name).is_some())
            .ok_or_else(|| io::Error::other("not a generation folder"))?;
        let staging = self.dir.join(format!("{CURRENT_FILE}.tmp"));
        let mut file = File::create(&staging)?;
        file.write_all(name.as_bytes())?;
        file.sync_all()?;
        fs::rename(&staging, self.dir.join(CURRENT_FILE))?;
        // The rename itself is durable once the folder is.
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .or(Ok(()))
    }

    /// Removes generations that are not live and nobody reads, and what killed runs left.
    /// Only a writer, holding the writer lock, calls this.
    pub fn remove_leftovers(&self) -> io::Result<Vec<Removed>> {
        let current = self.current()?;
        let current_number = current
            .as_deref()
            .and_then(|path| path.file_name()?.to_str())
            .and_then(generation_number);
        let mut removed = Vec::new();
        for (number, path) in self.generations()? {
            if Some(number) == current_number {
                continue;
            }
            let why = if current_number.is_some_and(|live| number < live) {
                "an earlier build no one reads any more"
            } else {
                "an unfinished rebuild left by a run that was stopped"
            };
            if let Some(bytes) = remove_unread(&path)? {
                removed.push(Removed { path, bytes, why });
            }
        }
        // Files written whole under the writer lock by renaming a temporary one: a temporary
        // one left is from a run stopped mid-write.
        let live = current.unwrap_or_else(|| self.dir.clone());
        let temporaries = [
            self.dir.join(format!("{CURRENT_FILE}.tmp")),
            self.dir.join("fetch-state.json.tmp"),
            live.join(format!("{}.tmp", super::META_FILE)),
        ];
        for path in temporaries {
            if let Ok(meta) = fs::metadata(&path) {
                fs::remove_file(&path)?;
                removed.push(Removed {
                    path,
                    bytes: meta.len(),
                    why: "a temporary file left by a run that was stopped",
                });
            }
        }
        Ok(removed)
    }

    /// Generation folders by number, lowest first.
    fn generations(&self) -> io::Result<Vec<(u64, PathBuf)>> {
        let mut generations = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(generations),
            Err(error) => return Err(error),
        };
        for entry in entries {
            let entry = entry?;
            let number = entry.file_name().to_str().and_then(generation_number);
            if let Some(number) = number
                && entry.file_type()?.is_dir()
            {
                generations.push((number, entry.path()));
            }
        }
        generations.sort_unstable();
        Ok(generations)
    }
}

/// Removes a generation unless a reader holds it; its size when removed.
fn remove_unread(path: &Path) -> io::Result<Option<u64>> {
    let lock = open_lock_file(&path.join(READERS_LOCK_FILE))?;
    match lock.try_lock() {
        Ok(()) => {
            let bytes = super::size_on_disk(path);
            fs::remove_dir_all(path)?;
            Ok(Some(bytes))
        }
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(error)) => Err(error),
    }
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    File::options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
}

fn generation_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(GENERATION_PREFIX)?;
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// `pid 1234, started 2026-12-05 13:02:11 UTC: geonews index --rebuild data/`
fn holder_description() -> String {
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|since| DateTime::from_timestamp(since.as_secs() as i64, 0))
        .map_or_else(String::new, |date| {
            date.format(", started %Y-%m-%d %H:%M:%S UTC").to_string()
        });
    let command: Vec<String> = std::env::args().collect();
    format!("pid {}{started}: {}", std::process::id(), command.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> IndexFolder {
        let dir =
            std::env::temp_dir().join(format!("geonews-generations-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        IndexFolder::new(&dir)
    }

    #[test]
    fn a_new_generation_becomes_live_and_the_old_one_goes_once_unread() {
        let folder = folder("swap");
        assert_eq!(folder.current().unwrap(), None);
        let first = folder.new_generation().unwrap();
        folder.make_current(&first).unwrap();
        let reading = folder.pin_current().unwrap().unwrap();
        assert_eq!(reading.path, first);

        let second = folder.new_generation().unwrap();
        assert!(second.ends_with("gen-000002"));
        folder.make_current(&second).unwrap();
        assert_eq!(folder.remove_leftovers().unwrap(), Vec::new());
        assert!(first.exists(), "a reader holds it");
        drop(reading);
        let removed = folder.remove_leftovers().unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].path, first);
        assert!(!first.exists());
        assert_eq!(folder.pin_current().unwrap().unwrap().path, second);
        fs::remove_dir_all(folder.dir()).unwrap();
    }

    #[test]
    fn an_unfinished_rebuild_is_removed_by_the_next_writer() {
        let folder = folder("unfinished");
        let live = folder.new_generation().unwrap();
        folder.make_current(&live).unwrap();
        let unfinished = folder.new_generation().unwrap();
        fs::write(unfinished.join("segment"), b"half written").unwrap();
        let removed = folder.remove_leftovers().unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!(
            removed[0].why,
            "an unfinished rebuild left by a run that was stopped"
        );
        assert!(live.exists() && !unfinished.exists());
        fs::remove_dir_all(folder.dir()).unwrap();
    }

    #[test]
    fn a_second_writer_learns_who_holds_the_lock() {
        let folder = folder("writers");
        let held = folder.lock_writer(false).unwrap().unwrap();
        let holder = folder.lock_writer(false).unwrap().unwrap_err();
        assert!(
            holder
                .0
                .starts_with(&format!("pid {}, started ", std::process::id())),
            "{holder:?}"
        );
        drop(held);
        assert!(folder.lock_writer(false).unwrap().is_ok());
        fs::remove_dir_all(folder.dir()).unwrap();
    }
}
