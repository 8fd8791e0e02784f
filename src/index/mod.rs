//! The local tantivy index: its layout on disk, writing articles into it, and searching it.
//! This is the only module that names tantivy: the rest of geonews sees it through the
//! [`crate::backend`] traits.

mod analyzer;
mod backup;
mod clusters;
mod counts;
mod generations;
mod integrity;
mod keys;
mod layout;
mod local;
mod mapper;
mod search;
mod snippet;
mod text;
mod writer;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, ReloadPolicy};

pub use generations::Removed;
pub use integrity::Checked;
pub use layout::Layout;
pub use local::LocalIndex;
pub use mapper::{DocMapper, PreparedDocument};
pub use text::{EnglishWords, GAP, snippet_of};
pub use writer::{LocalWriter, MemoryBudgetError, WriterOptions};

use crate::schema::Schema;

/// Bumped whenever the way geonews lays out an index changes. 2: fast-field dictionaries are
/// no longer zstd-compressed (each lookup of a hit's id or a facet value decompressed a block).
/// 3 and 4: every article records when it was indexed and a hash of what a reader sees of it,
/// for saved searches. 5: each article's `cluster`. 6: the signatures that find copies live
/// beside the index, not as terms in it. 7: the index folder holds generations of the index
/// and `CURRENT`, so that a rebuild swaps without moving a folder under its readers.
const FORMAT_VERSION: u32 = 7;
const META_FILE: &str = "geonews.json";

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("no index at {0}: run `geonews index PATH...` first (or pass --index DIR)")]
    Missing(PathBuf),
    #[error("the index at {path} was built {why}; re-index with `geonews index --rebuild PATH...`")]
    Mismatch { path: PathBuf, why: String },
    #[error("{path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("index at {path}")]
    Tantivy {
        path: PathBuf,
        source: tantivy::TantivyError,
    },
    #[error("this index cannot count `{0}`: it is not one of its facet or fast keyword fields")]
    NotCountable(String),
    #[error("stored article is corrupt: {0}")]
    Corrupt(String),
    #[error(
        "another geonews is writing the index at {path} ({holder}); wait for it to finish, or \
         pass --wait to queue behind it"
    )]
    Busy { path: PathBuf, holder: String },
    #[error(
        "index damaged at {path}: {detail}; run `geonews check`, then `geonews index --rebuild` \
         or restore a backup"
    )]
    Damaged { path: PathBuf, detail: String },
    #[error(
        "no space left on device ({free_megabytes} MB free on {path}); the index keeps its last \
         commit: free some space and run again"
    )]
    DiskFull { path: PathBuf, free_megabytes: u64 },
    #[error("cannot back up into {path}: {why}; name a new or empty folder")]
    BackupDestination { path: PathBuf, why: String },
}

impl IndexError {
    /// Whether the index's files are not what its writer left.
    pub fn is_damage(&self) -> bool {
        matches!(self, IndexError::Damaged { .. })
    }
}

/// What geonews writes beside tantivy's own files, to know an index it can read.
#[derive(Debug, Serialize, Deserialize)]
struct IndexMeta {
    format: u32,
    layout_fingerprint: String,
    dictionary_fingerprint: String,
    geonews_version: String,
}

impl IndexMeta {
    fn for_schema(schema: &Schema) -> IndexMeta {
        IndexMeta {
            format: FORMAT_VERSION,
            layout_fingerprint: format!("{:016x}", schema.layout_fingerprint),
            dictionary_fingerprint: format!("{:016x}", schema.dictionary_fingerprint),
            geonews_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// An opened index with the layout it was built with.
pub struct OpenIndex {
    /// The generation's folder (see [`generations`]).
    pub path: PathBuf,
    /// The index folder the user names.
    pub folder: PathBuf,
    /// Held while the index is open, so that a rebuild does not remove it under its readers.
    _pinned: Option<generations::Pinned>,
    pub index: Index,
    pub layout: Arc<Layout>,
    /// False when the dictionaries changed since indexing: facets may be stale.
    pub dictionaries_current: bool,
}

impl OpenIndex {
    /// Opens the live generation of the index folder `folder`, checking it was built with this
    /// schema's layout and that its files are as recorded (see [`integrity`]).
    pub(crate) fn open(folder: &Path, schema: &Schema) -> Result<OpenIndex, IndexError> {
        let open = OpenIndex::open_to_check(folder, schema)?;
        integrity::check_changed_files(&open.path, &open.index)?;
        Ok(open)
    }

    /// Opens the live generation without looking at its files' sums, for a full check.
    pub(crate) fn open_to_check(folder: &Path, schema: &Schema) -> Result<OpenIndex, IndexError> {
        let pinned = generations::IndexFolder::new(folder)
            .pin_current()
            .map_err(|source| io_error(folder, source))?;
        // Without generations, an index of an older format may sit at the top of the folder.
        let path = pinned
            .as_ref()
            .map_or_else(|| folder.to_owned(), |pinned| pinned.path.clone());
        let path = path.as_path();
        let meta_path = path.join(META_FILE);
        if !meta_path.exists() {
            if path.join("meta.json").exists() {
                return Err(IndexError::Mismatch {
                    path: path.to_owned(),
                    why: "by another program or an unknown geonews version".to_owned(),
                });
            }
            return Err(IndexError::Missing(path.to_owned()));
        }
        let meta: IndexMeta = read_json(&meta_path).map_err(|why| IndexError::Mismatch {
            path: path.to_owned(),
            why: format!("with unreadable metadata ({why})"),
        })?;
        let wanted = IndexMeta::for_schema(schema);
        if meta.format != FORMAT_VERSION {
            return Err(IndexError::Mismatch {
                path: path.to_owned(),
                why: format!(
                    "in format {} and this geonews reads format {FORMAT_VERSION}",
                    meta.format
                ),
            });
        }
        if meta.layout_fingerprint != wanted.layout_fingerprint {
            return Err(IndexError::Mismatch {
                path: path.to_owned(),
                why: "with other index fields (schema/fields.toml)".to_owned(),
            });
        }
        let index = Index::open_in_dir(path).map_err(|source| match source {
            tantivy::TantivyError::DataCorruption(_) => IndexError::Damaged {
                path: path.to_owned(),
                detail: format!("its list of segments cannot be read ({source})"),
            },
            source => tantivy_error(path, source),
        })?;
        layout::register_analyzers(index.tokenizers());
        let layout = Layout::from_schema(index.schema(), &schema.fields).map_err(|field| {
            IndexError::Mismatch {
                path: path.to_owned(),
                why: format!("without the field `{field}` this geonews needs"),
            }
        })?;
        Ok(OpenIndex {
            path: path.to_owned(),
            folder: folder.to_owned(),
            _pinned: pinned,
            index,
            layout: Arc::new(layout),
            dictionaries_current: meta.dictionary_fingerprint == wanted.dictionary_fingerprint,
        })
    }

    /// Creates a new, empty index in the generation folder `path`, which must be empty or
    /// absent.
    pub fn create(path: &Path, schema: &Schema) -> Result<OpenIndex, IndexError> {
        fs::create_dir_all(path).map_err(|source| io_error(path, source))?;
        let layout = Layout::build(&schema.fields);
        let directory =
            MmapDirectory::open(path).map_err(|error| tantivy_error(path, error.into()))?;
        let index = Index::create(directory, layout.schema.clone(), Default::default())
            .map_err(|source| tantivy_error(path, source))?;
        layout::register_analyzers(index.tokenizers());
        write_meta(path, schema)?;
        Ok(OpenIndex {
            path: path.to_owned(),
            folder: path.parent().unwrap_or(path).to_owned(),
            _pinned: None,
            index,
            layout: Arc::new(layout),
            dictionaries_current: true,
        })
    }

    /// Notes that every article's facets now come from this schema's dictionaries.
    pub fn record_current_dictionaries(&self, schema: &Schema) -> Result<(), IndexError> {
        write_meta(&self.path, schema)
    }

    pub fn reader(&self) -> Result<IndexReader, IndexError> {
        self.reader_with(ReloadPolicy::Manual)
    }

    pub(crate) fn reader_with(&self, policy: ReloadPolicy) -> Result<IndexReader, IndexError> {
        self.index
            .reader_builder()
            .reload_policy(policy)
            .try_into()
            .map_err(|source| tantivy_error(&self.path, source))
    }
}

/// Where the index lives when `--index` and `GEONEWS_INDEX` are not given:
/// `$XDG_DATA_HOME/geonews/index`, else `~/.local/share/geonews/index`.
pub fn default_index_dir() -> PathBuf {
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data_home.join("geonews").join("index")
}

/// Bytes of all files in the index folder.
pub fn size_on_disk(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.metadata().ok())
        .filter(fs::Metadata::is_file)
        .map(|metadata| metadata.len())
        .sum()
}

/// Writes the metadata file whole or not at all (a temporary file renamed over it).
fn write_meta(path: &Path, schema: &Schema) -> Result<(), IndexError> {
    let meta = serde_json::to_vec_pretty(&IndexMeta::for_schema(schema))
        .expect("index metadata serializes");
    let staging = path.join(format!("{META_FILE}.tmp"));
    fs::write(&staging, meta).map_err(|source| io_error(&staging, source))?;
    fs::rename(&staging, path.join(META_FILE)).map_err(|source| io_error(path, source))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let bytes = fs::read(path).map_err(|error| error.to_string())?;
    serde_json::from_slice(&bytes).map_err(|error| error.to_string())
}

/// Below this much free space, a failed write is taken for a full disk.
const FULL_DISK_BYTES: u64 = 64 << 20;

/// `error`, or a full disk where `path` lies when that is what it comes from: an error that
/// says so, or too little space left (tantivy's writer threads report a full disk only as
/// their death).
fn disk_full_or(error: IndexError, path: &Path) -> IndexError {
    let says_full = matches!(&error, IndexError::Io { source, .. }
        if source.kind() == std::io::ErrorKind::StorageFull);
    let existing = path.ancestors().find(|dir| dir.exists()).unwrap_or(path);
    match fs4::available_space(existing) {
        Ok(free) if says_full || free < FULL_DISK_BYTES => IndexError::DiskFull {
            path: path.to_owned(),
            free_megabytes: free / 1_000_000,
        },
        _ => error,
    }
}

fn io_error(path: &Path, source: std::io::Error) -> IndexError {
    IndexError::Io {
        path: path.to_owned(),
        source,
    }
}

fn tantivy_error(path: &Path, source: tantivy::TantivyError) -> IndexError {
    IndexError::Tantivy {
        path: path.to_owned(),
        source,
    }
}
