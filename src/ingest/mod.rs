//! Finding article files and reading records out of them.
//!
//! Reading never stops at bad input: each problem becomes an [`Item::Problem`] naming the file
//! and line, and the reader goes on with the next record.

mod dates;
mod feed;
mod fetch;
mod formats;
mod html;
mod limits;
mod record;
mod text;
mod title;
mod transcode;
mod warc;

use std::ffi::OsStr;
use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use walkdir::WalkDir;

pub use dates::parse_date;
pub use fetch::FetchOptions;
pub use fetch::{Fetcher, STATE_FILE as FETCH_STATE_FILE, is_url};
pub use html::{Page, PageHints, read_page};
pub use limits::{ReadLimits, cut_to, megabytes};
pub use record::{Markup, RawRecord, RecordOutcome, to_article};

use crate::article::Origin;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Json,
    JsonLines,
    Csv,
    Text,
    /// A saved web page.
    Html,
    /// RSS 2.0, RSS 1.0 (RDF) or Atom.
    Feed,
    /// A web archive (ISO 28500).
    Warc,
}

/// A file to read: a path, standard input (`-`: its format told by its first bytes), or a
/// URL (its format told by its content type and first bytes).
#[derive(Debug, Clone)]
pub struct InputFile {
    /// The path, or the URL as given.
    pub path: Arc<Path>,
    pub format: InputFormat,
    pub gzip: bool,
    pub source: Source,
}

#[derive(Debug, Clone)]
pub enum Source {
    File,
    Stdin,
    /// A named pipe or device (`<(zcat x.gz)`, `/dev/stdin`, a FIFO): read once, as it comes,
    /// its format told from its first bytes.
    Stream,
    Url(Arc<Fetcher>),
}

impl Source {
    /// Whether the input is a stream whose format is told from its first bytes.
    pub fn is_stream(&self) -> bool {
        matches!(self, Source::Stdin | Source::Stream)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The record or file was not indexed.
    Skipped,
    /// Indexed, with something worth knowing (an unreadable date, a guessed encoding).
    Warning,
    /// Passed over by design, for the record (a web archive's records that are not pages).
    Note,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub origin: Origin,
    pub severity: Severity,
    pub message: String,
}

impl Problem {
    pub fn skipped(origin: Origin, message: impl Into<String>) -> Problem {
        Problem {
            origin,
            severity: Severity::Skipped,
            message: message.into(),
        }
    }

    pub fn warning(origin: Origin, message: impl Into<String>) -> Problem {
        Problem {
            origin,
            severity: Severity::Warning,
            message: message.into(),
        }
    }

    pub fn note(origin: Origin, message: impl Into<String>) -> Problem {
        Problem {
            origin,
            severity: Severity::Note,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.severity {
            Severity::Skipped => write!(f, "{}: skipped: {}", self.origin, self.message),
            Severity::Warning | Severity::Note => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

/// What a reader hands on: a record, or a problem with one.
#[derive(Debug)]
pub enum Item {
    Record { origin: Origin, record: RawRecord },
    Problem(Problem),
}

/// The files found under the paths given, and what was passed over.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<InputFile>,
    /// Files that are not articles: documentation, unsupported extensions.
    pub ignored: Vec<(PathBuf, &'static str)>,
    pub problems: Vec<Problem>,
    /// What reading each file and record may cost.
    pub limits: ReadLimits,
}

/// File stems that name documentation, not articles, in corpus folders.
const DOCUMENTATION_STEMS: [&str; 10] = [
    "readme",
    "license",
    "licence",
    "copying",
    "changelog",
    "notice",
    "authors",
    "contributing",
    "source",
    "citation",
];

/// The inputs under `paths`: files (folders walked), `-` for standard input, and URLs,
/// fetched with `fetcher` (without one, a URL is a problem).
pub fn discover(paths: &[PathBuf], fetcher: Option<&Arc<Fetcher>>) -> Discovery {
    let mut discovery = Discovery::default();
    for path in paths {
        if path.as_os_str() == "-" {
            discovery.files.push(InputFile {
                path: Arc::from(Path::new("<stdin>")),
                format: InputFormat::JsonLines,
                gzip: false,
                source: Source::Stdin,
            });
            continue;
        }
        if let Some(url) = path.to_str().filter(|text| fetch::is_url(text)) {
            discovery.add_url(url, fetcher);
            continue;
        }
        if is_stream(path) {
            discovery.files.push(InputFile {
                path: Arc::from(path.as_path()),
                format: InputFormat::JsonLines,
                gzip: false,
                source: Source::Stream,
            });
            continue;
        }
        // Links are followed; walkdir reports a link back into its own ancestors as a loop.
        let walker = WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
        for entry in walker {
            match entry {
                Ok(entry) if entry.file_type().is_file() => discovery.add_file(entry.path()),
                Ok(_) => {}
                Err(error) => {
                    let at = error.path().unwrap_or(path).to_path_buf();
                    discovery.problems.push(Problem::skipped(
                        Origin::file(Arc::from(at)),
                        cannot_read(&error),
                    ));
                }
            }
        }
    }
    discovery
}

/// Whether `path` names something that is neither a folder nor a regular file: a pipe, a
/// device, a socket.
fn is_stream(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| !meta.is_dir() && !meta.is_file())
}

fn cannot_read(error: &walkdir::Error) -> String {
    match error.io_error() {
        Some(io) => format!("cannot read: {io}"),
        None => format!("cannot read: {error}"),
    }
}

fn is_hidden(name: &OsStr) -> bool {
    name.to_str().is_some_and(|name| name.starts_with('.'))
}

impl Discovery {
    fn add_file(&mut self, path: &Path) {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let (name, gzip) = match name.strip_suffix(".gz") {
            Some(inner) => (inner.to_owned(), true),
            None => (name, false),
        };
        let (stem, extension) = name.rsplit_once('.').unwrap_or((&name, ""));
        let format = match extension {
            "json" => InputFormat::Json,
            "jsonl" | "ndjson" => InputFormat::JsonLines,
            "csv" => InputFormat::Csv,
            "txt" | "md" | "markdown" | "text" | "" => InputFormat::Text,
            "html" | "htm" | "xhtml" => InputFormat::Html,
            // A `.xml` file is read when its root element names a feed.
            "rss" | "atom" | "xml" => InputFormat::Feed,
            "warc" => InputFormat::Warc,
            _ => {
                self.ignored
                    .push((path.to_path_buf(), "not an article format"));
                return;
            }
        };
        if format == InputFormat::Text && DOCUMENTATION_STEMS.contains(&stem) {
            self.ignored.push((path.to_path_buf(), "documentation"));
            return;
        }
        self.files.push(InputFile {
            path: Arc::from(path),
            format,
            gzip,
            source: Source::File,
        });
    }

    fn add_url(&mut self, url: &str, fetcher: Option<&Arc<Fetcher>>) {
        let path: Arc<Path> = Arc::from(Path::new(url));
        match fetcher {
            Some(fetcher) => self.files.push(InputFile {
                path,
                format: InputFormat::Html,
                gzip: false,
                source: Source::Url(Arc::clone(fetcher)),
            }),
            None => self.problems.push(Problem::skipped(
                Origin::file(path),
                "URLs are read by `geonews index`, not here",
            )),
        }
    }
}

/// The URLs listed in `file`, one a line (blank lines and `#` comments skipped), and a
/// problem for each line that is not an http(s) URL.
pub fn read_url_list(file: &Path) -> Result<(Vec<PathBuf>, Vec<Problem>), std::io::Error> {
    let text = std::fs::read_to_string(file)?;
    let origin = Origin::file(Arc::from(file));
    let (mut urls, mut problems) = (Vec::new(), Vec::new());
    for (number, line) in (1..).zip(text.lines()) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if fetch::is_url(line) {
            urls.push(PathBuf::from(line));
        } else {
            problems.push(Problem::skipped(
                origin.at_line(number),
                format!("not an http or https URL: {line:?}"),
            ));
        }
    }
    Ok((urls, problems))
}

/// One article given whole, as a request body: a JSON object, or text (optionally with YAML
/// or TOML front matter) read like a `.txt` or `.md` file.
pub fn record_from_body(body: &str, is_json: bool) -> Result<RawRecord, String> {
    if !is_json {
        return text::parse_text_article(body)
            .map_err(|error| format!("front matter, line {}: {}", error.line, error.message));
    }
    match serde_json::from_str(body) {
        Ok(serde_json::Value::Object(fields)) => Ok(RawRecord::from_fields(fields)),
        Ok(_) => Err("expected an article object".to_owned()),
        Err(error) => Err(format!(
            "invalid JSON at line {} column {}: {error}",
            error.line(),
            error.column()
        )),
    }
}

/// Reads every record of `file`, handing each record or problem to `emit`, which may stop it.
pub fn read(file: &InputFile, limits: &ReadLimits, emit: &mut dyn FnMut(Item) -> ControlFlow<()>) {
    formats::read(file, limits, emit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_sorts_formats_and_skips_hidden_and_docs() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "a.json",
            "b.jsonl.gz",
            "c.csv",
            "d.md",
            "README.md",
            "e.png",
            ".hidden.json",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/f.json"), "x").unwrap();
        let discovery = discover(&[dir.path().to_path_buf()], None);
        let formats: Vec<(InputFormat, bool)> = discovery
            .files
            .iter()
            .map(|file| (file.format, file.gzip))
            .collect();
        assert_eq!(
            formats,
            [
                (InputFormat::Json, false),
                (InputFormat::JsonLines, true),
                (InputFormat::Csv, false),
                (InputFormat::Text, false)
            ]
        );
        let ignored: Vec<&str> = discovery.ignored.iter().map(|(_, why)| *why).collect();
        assert_eq!(ignored, ["documentation", "not an article format"]);
    }

    #[test]
    fn missing_path_is_a_problem() {
        let discovery = discover(&[PathBuf::from("/definitely/not/here")], None);
        assert!(discovery.files.is_empty());
        assert_eq!(discovery.problems.len(), 1);
    }
}
