//! Fuzzing for a bounded time: every reader on arbitrary bytes (random, and the sample
//! corpus's files with random damage) and the query parser on arbitrary strings. Each target
//! runs for `GEONEWS_FUZZ_SECONDS` (5 by default; CI sets more); a panic fails the test with
//! the input that caused it, saved under target/fuzz-failures.

mod common;

use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use geonews::ingest::{self, ReadLimits};
use geonews::query::Resolver;
use geonews::schema::{Catalogs, Schema};

/// SplitMix64: reproducible from the seed printed with a failure.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

fn budget() -> Duration {
    let seconds = std::env::var("GEONEWS_FUZZ_SECONDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(seconds)
}

/// Sample files of each extension, to damage.
fn seeds(extension: &str) -> Vec<Vec<u8>> {
    walkdir::WalkDir::new(repo_path("sample-corpus"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| {
            entry.file_type().is_file()
                && entry
                    .path()
                    .to_string_lossy()
                    .ends_with(&format!(".{extension}"))
        })
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .collect()
}

/// Random bytes, or a seed with bytes flipped, cut, duplicated or spliced in.
fn input(random: &mut Random, seeds: &[Vec<u8>]) -> Vec<u8> {
    if seeds.is_empty() || random.below(4) == 0 {
        let length = random.below(4096);
        return (0..length).map(|_| random.next() as u8).collect();
    }
    let mut bytes = seeds[random.below(seeds.len())].clone();
    for _ in 0..=random.below(8) {
        if bytes.is_empty() {
            break;
        }
        let at = random.below(bytes.len());
        match random.below(4) {
            0 => bytes[at] = random.next() as u8,
            1 => bytes.truncate(at),
            2 => {
                let end = (at + random.below(64)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            _ => {
                let special = [b'"', b'{', b'[', b'<', b'\n', b',', b'\\', 0xff, 0xfe, 0];
                bytes.insert(at, special[random.below(special.len())]);
            }
        }
    }
    bytes
}

fn save_failure(name: &str, bytes: &[u8]) -> PathBuf {
    let folder = repo_path("target/fuzz-failures");
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn text_readers_survive_arbitrary_bytes() {
    fuzz_readers(&["json", "jsonl", "csv", "txt", "md"]);
}

#[test]
fn page_feed_archive_and_gzip_readers_survive_arbitrary_bytes() {
    fuzz_readers(&["html", "xml", "warc", "jsonl.gz"]);
}

/// Reads random inputs with each extension for [`budget`].
fn fuzz_readers(extensions: &[&str]) {
    let dir = tempfile::TempDir::new().unwrap();
    let limits = ReadLimits::default();
    for &extension in extensions {
        let seeds = seeds(extension.trim_end_matches(".gz"));
        let mut random = Random(0x5eed ^ extension.len() as u64);
        let deadline = Instant::now() + budget();
        let mut runs = 0;
        while Instant::now() < deadline {
            let mut bytes = input(&mut random, &seeds);
            if extension.ends_with(".gz") && random.below(2) == 0 {
                bytes = gzip(&bytes);
            }
            let path = dir.path().join(format!("input.{extension}"));
            std::fs::write(&path, &bytes).unwrap();
            let discovery = ingest::discover(&[path], None);
            let read = catch_unwind(AssertUnwindSafe(|| {
                for file in &discovery.files {
                    ingest::read(file, &limits, &mut |item| {
                        if let ingest::Item::Record { record, .. } = item {
                            let _ = ingest::to_article(record);
                        }
                        ControlFlow::Continue(())
                    });
                }
            }));
            if read.is_err() {
                let saved = save_failure(&format!("reader.{extension}"), &bytes);
                panic!("the {extension} reader panicked on {}", saved.display());
            }
            runs += 1;
        }
        eprintln!("{extension}: {runs} inputs read without a panic");
        assert!(runs > 0);
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn the_query_parser_survives_arbitrary_strings() {
    let schema = Schema::builtin().unwrap();
    let catalogs = Catalogs::build(&schema.dictionaries);
    let resolver = Resolver::new(&schema.fields, &catalogs);
    let pieces = [
        "country:",
        "topic:",
        "person:",
        "after:",
        "before:",
        "date:",
        "title:",
        "cluster:",
        "\"",
        "(",
        ")",
        "-",
        "+",
        "AND ",
        "OR ",
        "NOT ",
        "~",
        "~2",
        "*",
        "^",
        ":",
        " ",
        "2024-",
        "sanctions",
        "NorthKorea",
        "Ukraine",
        "\u{0}",
        "é",
        "ß",
        "🕊",
        "\\",
        "[",
        "]",
        "{",
        "}",
    ];
    let mut random = Random(0x9e37);
    let deadline = Instant::now() + budget();
    let mut runs = 0;
    while Instant::now() < deadline {
        let query: String = (0..random.below(40))
            .map(|_| pieces[random.below(pieces.len())])
            .collect();
        if catch_unwind(AssertUnwindSafe(|| resolver.parse(&query))).is_err() {
            let saved = save_failure("query.txt", query.as_bytes());
            panic!("the query parser panicked on {}", saved.display());
        }
        runs += 1;
    }
    eprintln!("queries: {runs} parsed without a panic");
    assert!(runs > 0);
}
