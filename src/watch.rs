//! Saved searches ("watches"), kept in a small versioned JSON file beside the index. Each
//! remembers the indexing stamp it has seen through: what was indexed after it is news to it,
//! however old the article's own date.
//!
//! Every change is a read-modify-write under an exclusive lock on the file's lock file, and
//! the file is replaced whole (a temporary file renamed over it), so a cron job and a server
//! changing watches at once lose nothing and a crash leaves the old file or the new one.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The file's name in the index folder.
pub const WATCHES_FILE: &str = "watches.json";
/// The lock file, beside the index folder (`.NAME.watches.lock`), not in it: a rebuild swaps
/// the folder while holding it.
const LOCK_SUFFIX: &str = "watches.lock";
const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watch {
    pub name: String,
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub created: DateTime<Utc>,
    /// The indexing stamp the watch has seen through: articles indexed after it are new.
    pub seen_through: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct WatchFile {
    format: u32,
    watches: Vec<Watch>,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("no saved search named `{0}` (see `geonews watch list`)")]
    Unknown(String),
    #[error("a saved search named `{0}` exists already (remove it first)")]
    Exists(String),
    #[error(
        "`{0}` cannot name a saved search: use 1 to 64 letters, digits, `-` or `_` (it is part of its feed's URL)"
    )]
    BadName(String),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

/// The saved searches of one index.
#[derive(Debug, Clone)]
pub struct WatchStore {
    dir: PathBuf,
}

impl WatchStore {
    /// The watches of the index in `dir` (the file is made when the first watch is added).
    /// The folder is made absolute (links resolved), so that every process names the same
    /// lock file for it, however it was given (`--index .`, a link).
    pub fn new(dir: &Path) -> WatchStore {
        let dir = std::fs::canonicalize(dir)
            .or_else(|_| std::path::absolute(dir))
            .unwrap_or_else(|_| dir.to_owned());
        WatchStore { dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(WATCHES_FILE)
    }

    pub fn list(&self) -> Result<Vec<Watch>, WatchError> {
        let _lock = self.lock_shared()?;
        self.read()
    }

    pub fn get(&self, name: &str) -> Result<Watch, WatchError> {
        self.list()?
            .into_iter()
            .find(|watch| watch.name == name)
            .ok_or_else(|| WatchError::Unknown(name.to_owned()))
    }

    /// Adds `watch`, refusing a name in use or one that cannot be part of a URL.
    pub fn add(&self, watch: Watch) -> Result<Watch, WatchError> {
        check_name(&watch.name)?;
        self.update(|watches| {
            if watches.iter().any(|other| other.name == watch.name) {
                return Err(WatchError::Exists(watch.name.clone()));
            }
            watches.push(watch.clone());
            Ok(())
        })?;
        Ok(watch)
    }

    pub fn remove(&self, name: &str) -> Result<Watch, WatchError> {
        let mut removed = None;
        self.update(|watches| {
            let at = watches
                .iter()
                .position(|watch| watch.name == name)
                .ok_or_else(|| WatchError::Unknown(name.to_owned()))?;
            removed = Some(watches.remove(at));
            Ok(())
        })?;
        Ok(removed.expect("removed or failed"))
    }

    /// Marks `name` as having seen everything indexed through `stamp` (never moving back).
    pub fn mark_seen(&self, name: &str, stamp: u64, when: DateTime<Utc>) -> Result<(), WatchError> {
        self.update(|watches| {
            let watch = watches
                .iter_mut()
                .find(|watch| watch.name == name)
                .ok_or_else(|| WatchError::Unknown(name.to_owned()))?;
            watch.seen_through = watch.seen_through.max(stamp);
            watch.last_run = Some(when);
            Ok(())
        })
    }

    fn update(
        &self,
        change: impl FnOnce(&mut Vec<Watch>) -> Result<(), WatchError>,
    ) -> Result<(), WatchError> {
        let _lock = self.lock()?;
        let mut watches = self.read()?;
        change(&mut watches)?;
        self.write(&watches)
    }

    fn read(&self) -> Result<Vec<Watch>, WatchError> {
        let path = self.path();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(self.file_error(&path, error)),
        };
        let file: WatchFile =
            serde_json::from_slice(&bytes).map_err(|error| self.file_error(&path, error))?;
        if file.format != FORMAT {
            return Err(self.file_error(
                &path,
                format!(
                    "saved searches in format {}, and this geonews reads format {FORMAT}",
                    file.format
                ),
            ));
        }
        Ok(file.watches)
    }

    fn write(&self, watches: &[Watch]) -> Result<(), WatchError> {
        let path = self.path();
        let staging = self.dir.join(format!("{WATCHES_FILE}.tmp"));
        let file = WatchFile {
            format: FORMAT,
            watches: watches.to_vec(),
        };
        let json = serde_json::to_vec_pretty(&file).expect("watches serialize");
        let written = File::create(&staging)
            .and_then(|mut out| {
                out.write_all(&json)?;
                out.sync_all()
            })
            .and_then(|()| fs::rename(&staging, &path));
        written.map_err(|error| self.file_error(&path, error))
    }

    /// An exclusive lock on the watches, held until it is dropped: a rebuild holds it while it
    /// carries them into the new index.
    pub fn lock(&self) -> Result<File, WatchError> {
        let path = self.lock_path();
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|error| self.file_error(&path, error))?;
        file.lock().map_err(|error| self.file_error(&path, error))?;
        Ok(file)
    }

    /// A lock that readers share, or none where the folder beside the index is read-only (no
    /// one can change the watches there either).
    fn lock_shared(&self) -> Result<Option<File>, WatchError> {
        let path = self.lock_path();
        let file = match File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => return Ok(None),
            Err(error) if error.kind() == std::io::ErrorKind::ReadOnlyFilesystem => {
                return Ok(None);
            }
            Err(error) => return Err(self.file_error(&path, error)),
        };
        file.lock_shared()
            .map_err(|error| self.file_error(&path, error))?;
        Ok(Some(file))
    }

    /// `.NAME.watches.lock` beside the index folder NAME.
    fn lock_path(&self) -> PathBuf {
        let name = self
            .dir
            .file_name()
            .map_or_else(|| "index".into(), |name| name.to_string_lossy());
        self.dir.with_file_name(format!(".{name}.{LOCK_SUFFIX}"))
    }

    fn file_error(&self, path: &Path, error: impl std::fmt::Display) -> WatchError {
        WatchError::File {
            path: path.to_owned(),
            message: error.to_string(),
        }
    }
}

fn check_name(name: &str) -> Result<(), WatchError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(WatchError::BadName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(name: &str) -> Watch {
        Watch {
            name: name.to_owned(),
            query: "sanctions".to_owned(),
            note: None,
            created: Utc::now(),
            seen_through: 0,
            last_run: None,
        }
    }

    #[test]
    fn watches_are_added_marked_and_removed_in_a_versioned_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = WatchStore::new(dir.path());
        assert!(store.list().unwrap().is_empty());
        store.add(watch("nk")).unwrap();
        store.add(watch("iran")).unwrap();
        assert!(matches!(store.add(watch("nk")), Err(WatchError::Exists(_))));
        assert!(matches!(
            store.add(watch("no spaces")),
            Err(WatchError::BadName(_))
        ));
        store.mark_seen("nk", 42, Utc::now()).unwrap();
        store.mark_seen("nk", 7, Utc::now()).unwrap();
        assert_eq!(
            store.get("nk").unwrap().seen_through,
            42,
            "marks never move back"
        );
        store.remove("iran").unwrap();
        let names: Vec<String> = store.list().unwrap().into_iter().map(|w| w.name).collect();
        assert_eq!(names, ["nk"]);
        let text = fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("\"format\": 1"), "{text}");
        assert!(!dir.path().join("watches.json.tmp").exists());
    }

    #[test]
    fn a_damaged_file_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = WatchStore::new(dir.path());
        fs::write(store.path(), "{not json").unwrap();
        let error = store.list().unwrap_err().to_string();
        assert!(
            error.starts_with(&store.path().display().to_string()),
            "{error}"
        );
    }
}
