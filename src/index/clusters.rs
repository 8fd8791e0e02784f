//! Which story an article being written is a copy of: the most similar earlier article
//! sharing a band of its near-duplicate signature, among those written since the last commit
//! (kept in memory) and those committed (their signatures kept beside the index, in
//! `signatures/`).
//!
//! Each commit adds a file of the signatures it wrote, each with its article's cluster. On
//! opening, the files are read once to map every band to the last signature that has it; a
//! candidate's signature is then read from its file. Neither costs tantivy anything: no terms,
//! no stored article read back. The file is written after tantivy's commit, so a run killed
//! between the two only misses copies of that commit's articles later, and a signature of
//! an article since deleted or changed only names a cluster that once was.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use super::{IndexError, io_error};
use crate::dedup::{BestCopy, Signature, consider_copy};

pub(super) const FOLDER: &str = "signatures";
const EXTENSION: &str = "sig";
const MAGIC: &[u8; 8] = b"GNSIG\x00\x00\x01";
/// Files kept before they are merged into one: each is opened and read at the start of a run.
const MAX_FILES: usize = 32;

/// Where a committed signature is: its file's place in [`ClusterFinder::files`] (the top 16
/// bits) and its record's offset there, in one number to keep the band map small.
#[derive(Clone, Copy)]
struct Locator(u64);

impl Locator {
    const OFFSET_BITS: u32 = 48;

    fn new(file: usize, offset: u64) -> Locator {
        debug_assert!(offset < 1 << Locator::OFFSET_BITS);
        Locator(((file as u64) << Locator::OFFSET_BITS) | offset)
    }

    fn file(self) -> usize {
        (self.0 >> Locator::OFFSET_BITS) as usize
    }

    fn offset(self) -> u64 {
        self.0 & ((1 << Locator::OFFSET_BITS) - 1)
    }
}

pub struct ClusterFinder {
    folder: PathBuf,
    /// The signature files, oldest first, with their names' numbers.
    files: Vec<(u64, File)>,
    /// Each band of a committed signature, to the last signature that has it: one copy tells
    /// the story (three bands an article, about 70 bytes).
    committed: FxHashMap<u64, Locator>,
    /// Articles written since the last commit: their signatures and clusters.
    recent: Vec<(Signature, String)>,
    /// Their bands, each to the last of them that has it.
    recent_bands: FxHashMap<u64, usize>,
}

/// The best copy found so far: its similarity and cluster.
impl ClusterFinder {
    /// The finder of the index at `index_dir`, its committed signatures read (leftovers of a
    /// killed run removed).
    pub fn open(index_dir: &Path) -> Result<ClusterFinder, IndexError> {
        let folder = index_dir.join(FOLDER);
        fs::create_dir_all(&folder).map_err(|source| io_error(&folder, source))?;
        let mut finder = ClusterFinder {
            folder,
            files: Vec::new(),
            committed: FxHashMap::default(),
            recent: Vec::new(),
            recent_bands: FxHashMap::default(),
        };
        for number in finder.file_numbers()? {
            finder.add_file(number)?;
        }
        Ok(finder)
    }

    /// The cluster of the article `key` with `signature`: that of its most similar earlier
    /// copy, else its own key.
    pub fn assign(&mut self, key: &str, signature: &Signature) -> Result<String, IndexError> {
        let bands = signature.bands();
        let mut best = self.best_recent(signature, &bands);
        let mut read = Vec::with_capacity(bands.len());
        for band in bands {
            let Some(&locator) = self.committed.get(&band) else {
                continue;
            };
            // An exact copy's bands all lead to one signature.
            if !read.contains(&locator.0) {
                read.push(locator.0);
                let (other, cluster) = self.read(locator)?;
                consider_copy(&mut best, signature, &other, || cluster);
            }
        }
        let cluster = best.map_or_else(|| key.to_owned(), |(_, cluster)| cluster);
        for band in bands {
            self.recent_bands.insert(band, self.recent.len());
        }
        self.recent.push((signature.clone(), cluster.clone()));
        Ok(cluster)
    }

    /// After the index's commit: the signatures written since the last one go to a new file.
    pub fn committed(&mut self) -> Result<(), IndexError> {
        if self.recent.is_empty() {
            return Ok(());
        }
        let number = self.next_number();
        let path = self.path(number);
        let write = || -> io::Result<()> {
            let mut out = SignatureWriter::create(&path)?;
            for (signature, cluster) in &self.recent {
                out.push(signature, cluster)?;
            }
            out.finish()
        };
        write().map_err(|source| io_error(&path, source))?;
        self.recent.clear();
        self.recent_bands.clear();
        self.add_file(number)?;
        if self.files.len() > MAX_FILES {
            self.merge_files()?;
        }
        Ok(())
    }

    fn best_recent(&self, signature: &Signature, bands: &[u64]) -> BestCopy {
        let mut best = None;
        for band in bands {
            if let Some(&position) = self.recent_bands.get(band) {
                let (other, cluster) = &self.recent[position];
                consider_copy(&mut best, signature, other, || cluster.clone());
            }
        }
        best
    }

    /// The numbers of the signature files, in order; unfinished files of a killed run are
    /// removed.
    fn file_numbers(&self) -> Result<Vec<u64>, IndexError> {
        let entries =
            fs::read_dir(&self.folder).map_err(|source| io_error(&self.folder, source))?;
        let mut numbers = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|source| io_error(&self.folder, source))?
                .path();
            let number = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .and_then(|stem| stem.parse::<u64>().ok());
            match number {
                Some(number) if path.extension().is_some_and(|e| e == EXTENSION) => {
                    numbers.push(number);
                }
                _ => fs::remove_file(&path).map_err(|source| io_error(&path, source))?,
            }
        }
        numbers.sort_unstable();
        Ok(numbers)
    }

    fn path(&self, number: u64) -> PathBuf {
        self.folder.join(format!("{number:08}.{EXTENSION}"))
    }

    fn next_number(&self) -> u64 {
        self.files.last().map_or(1, |(number, _)| number + 1)
    }

    /// Opens file `number` and maps the bands of its signatures to them.
    fn add_file(&mut self, number: u64) -> Result<(), IndexError> {
        let path = self.path(number);
        let file = File::open(&path).map_err(|source| io_error(&path, source))?;
        let place = self.files.len();
        let mut records = Records::new(&file).map_err(|source| io_error(&path, source))?;
        while let Some((offset, signature, _)) =
            records.next().map_err(|source| io_error(&path, source))?
        {
            let locator = Locator::new(place, offset);
            for band in signature.bands() {
                self.committed.insert(band, locator);
            }
        }
        self.files.push((number, file));
        Ok(())
    }

    /// Replaces every file by one holding all their records, in order, read and written a
    /// record at a time.
    fn merge_files(&mut self) -> Result<(), IndexError> {
        let merged = self.next_number();
        let merged_path = self.path(merged);
        let mut out = SignatureWriter::create(&merged_path)
            .map_err(|source| io_error(&merged_path, source))?;
        for (number, file) in &self.files {
            let path = self.path(*number);
            let mut records = Records::new(file).map_err(|source| io_error(&path, source))?;
            while let Some((_, signature, cluster)) =
                records.next().map_err(|source| io_error(&path, source))?
            {
                out.push(&signature, &cluster)
                    .map_err(|source| io_error(&merged_path, source))?;
            }
        }
        out.finish()
            .map_err(|source| io_error(&merged_path, source))?;
        for (number, _) in std::mem::take(&mut self.files) {
            let path = self.path(number);
            fs::remove_file(&path).map_err(|source| io_error(&path, source))?;
        }
        self.committed.clear();
        self.add_file(merged)
    }

    /// The signature and cluster at `locator`.
    fn read(&self, locator: Locator) -> Result<(Signature, String), IndexError> {
        let (number, file) = &self.files[locator.file()];
        let read = || -> io::Result<(Signature, String)> {
            let mut file = file;
            file.seek(SeekFrom::Start(locator.offset()))?;
            let mut reader = BufReader::with_capacity(512, file);
            read_record(&mut reader)?.ok_or_else(|| io::ErrorKind::UnexpectedEof.into())
        };
        read().map_err(|source| io_error(&self.path(*number), source))
    }
}

/// A signature file being written, in place only once whole (a `.tmp` until then).
struct SignatureWriter {
    out: BufWriter<File>,
    unfinished: PathBuf,
    path: PathBuf,
}

impl SignatureWriter {
    fn create(path: &Path) -> io::Result<SignatureWriter> {
        let unfinished = path.with_extension("tmp");
        let mut out = BufWriter::new(File::create(&unfinished)?);
        out.write_all(MAGIC)?;
        Ok(SignatureWriter {
            out,
            unfinished,
            path: path.to_owned(),
        })
    }

    fn push(&mut self, signature: &Signature, cluster: &str) -> io::Result<()> {
        self.out.write_all(&signature.to_bytes())?;
        let length = u32::try_from(cluster.len()).map_err(io::Error::other)?;
        self.out.write_all(&length.to_le_bytes())?;
        self.out.write_all(cluster.as_bytes())
    }

    fn finish(self) -> io::Result<()> {
        self.out
            .into_inner()
            .map_err(|error| error.into_error())?
            .sync_all()?;
        fs::rename(&self.unfinished, &self.path)
    }
}

/// The records of a signature file, after its header: a signature, then its cluster's length
/// and bytes.
struct Records<'a> {
    reader: BufReader<&'a File>,
    offset: u64,
}

impl<'a> Records<'a> {
    /// The records of a whole file, its header checked.
    fn new(mut file: &'a File) -> io::Result<Records<'a>> {
        file.seek(SeekFrom::Start(0))?;
        let mut reader = BufReader::with_capacity(64 * 1024, file);
        let mut magic = [0; MAGIC.len()];
        reader.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a geonews signature file",
            ));
        }
        Ok(Records {
            reader,
            offset: MAGIC.len() as u64,
        })
    }

    /// The next record and its offset, or `None` at the end of the file.
    fn next(&mut self) -> io::Result<Option<(u64, Signature, String)>> {
        let offset = self.offset;
        let Some((signature, cluster)) = read_record(&mut self.reader)? else {
            return Ok(None);
        };
        self.offset += (Signature::BYTES + 4 + cluster.len()) as u64;
        Ok(Some((offset, signature, cluster)))
    }
}

fn read_record(reader: &mut impl Read) -> io::Result<Option<(Signature, String)>> {
    let mut signature = [0; Signature::BYTES];
    match reader.read_exact(&mut signature) {
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        result => result?,
    }
    let mut length = [0; 4];
    reader.read_exact(&mut length)?;
    let mut cluster = vec![0; u32::from_le_bytes(length) as usize];
    reader.read_exact(&mut cluster)?;
    let cluster = String::from_utf8(cluster)
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
    Ok(Some((Signature::from_bytes(&signature), cluster)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(topic: &str) -> String {
        let words: Vec<String> = (0..150).map(|n| format!("{topic}{n}")).collect();
        words.join(" ")
    }

    fn signature(topic: &str) -> Signature {
        Signature::of(&body(topic), None).expect("long enough")
    }

    #[test]
    fn copies_are_found_in_memory_and_after_commits_and_reopening() {
        let folder = tempfile_folder("copies");
        let mut finder = ClusterFinder::open(&folder).unwrap();
        assert_eq!(finder.assign("a", &signature("ceasefire")).unwrap(), "a");
        assert_eq!(finder.assign("b", &signature("ceasefire")).unwrap(), "a");
        finder.committed().unwrap();
        assert_eq!(finder.assign("c", &signature("ceasefire")).unwrap(), "a");
        assert_eq!(finder.assign("d", &signature("election")).unwrap(), "d");
        finder.committed().unwrap();
        drop(finder);

        let mut reopened = ClusterFinder::open(&folder).unwrap();
        assert_eq!(reopened.files.len(), 2);
        assert_eq!(reopened.assign("e", &signature("election")).unwrap(), "d");
        assert_eq!(reopened.assign("f", &signature("harvest")).unwrap(), "f");
        fs::remove_dir_all(folder).unwrap();
    }

    #[test]
    fn many_commits_are_merged_into_one_file_and_leftovers_removed() {
        let folder = tempfile_folder("merged");
        let mut finder = ClusterFinder::open(&folder).unwrap();
        for n in 0..=MAX_FILES {
            finder
                .assign(&format!("key{n}"), &signature(&format!("story{n}x")))
                .unwrap();
            finder.committed().unwrap();
        }
        assert_eq!(finder.files.len(), 1);
        fs::write(folder.join(FOLDER).join("00000099.tmp"), b"half").unwrap();
        drop(finder);

        let mut reopened = ClusterFinder::open(&folder).unwrap();
        assert_eq!(reopened.files.len(), 1);
        assert_eq!(fs::read_dir(folder.join(FOLDER)).unwrap().count(), 1);
        for n in [0, MAX_FILES / 2, MAX_FILES] {
            let copy = reopened
                .assign("new", &signature(&format!("story{n}x")))
                .unwrap();
            assert_eq!(copy, format!("key{n}"));
        }
        fs::remove_dir_all(folder).unwrap();
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it() {
        let folder = tempfile_folder("damaged");
        fs::create_dir_all(folder.join(FOLDER)).unwrap();
        fs::write(folder.join(FOLDER).join("00000001.sig"), b"not signatures").unwrap();
        let error = ClusterFinder::open(&folder).err().unwrap().to_string();
        assert!(error.contains("00000001.sig"), "{error}");
        fs::remove_dir_all(folder).unwrap();
    }

    fn tempfile_folder(name: &str) -> PathBuf {
        let folder =
            std::env::temp_dir().join(format!("geonews-clusters-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&folder);
        fs::create_dir_all(&folder).unwrap();
        folder
    }
}
