//! Reading web archives: geonews's WARC reader against the `warc` crate, on the same
//! CC-NEWS-style archive (one gzip member a record), read whole: records per second and pages
//! found. Neither extracts main text here; that is the `html_extraction` bench.
//!
//! `cargo bench --bench warc_reading` (the archive, 2,000 copies of a sample page with their
//! own URLs, is written to a temporary folder first).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use geonews::ingest::{self, Item};
use warc::{RecordType, WarcHeader, WarcReader};

const PAGES: usize = 2_000;
const RUNS: usize = 5;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let archive = dir.path().join("sample.warc.gz");
    write_archive(&archive);
    let megabytes = std::fs::metadata(&archive).expect("the archive").len() as f64 / 1e6;
    println!("{PAGES} pages, {megabytes:.1} MB gzipped, median of {RUNS} runs");
    println!("{:<12} {:>8} {:>12}", "reader", "pages", "pages/s");
    let geonews = median(|| read_with_geonews(&archive));
    let crate_warc = median(|| read_with_warc_crate(&archive));
    for (name, (pages, seconds)) in [("geonews", geonews), ("warc 0.4", crate_warc)] {
        println!("{name:<12} {pages:>8} {:>12.0}", pages as f64 / seconds);
    }
    println!(
        "geonews / warc crate throughput = {:.2}",
        crate_warc.1 / geonews.1
    );
}

/// Pages found and the median seconds of [`RUNS`] readings.
fn median(read: impl Fn() -> usize) -> (usize, f64) {
    let mut runs: Vec<(Duration, usize)> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let pages = read();
            (started.elapsed(), pages)
        })
        .collect();
    runs.sort();
    let (elapsed, pages) = runs[RUNS / 2];
    (pages, elapsed.as_secs_f64())
}

fn read_with_geonews(archive: &Path) -> usize {
    let discovery = ingest::discover(&[archive.to_path_buf()], None);
    let mut pages = 0;
    for file in &discovery.files {
        ingest::read(file, &ingest::ReadLimits::default(), &mut |item| {
            pages += usize::from(matches!(item, Item::Record { .. }));
            ControlFlow::Continue(())
        });
    }
    pages
}

fn read_with_warc_crate(archive: &Path) -> usize {
    let reader = WarcReader::from_path_gzip(archive).expect("the archive opens");
    reader
        .iter_records()
        .filter_map(Result::ok)
        .filter(|record| *record.warc_type() == RecordType::Response)
        .filter(|record| {
            record
                .header(WarcHeader::ContentType)
                .is_some_and(|kind| kind.contains("msgtype=response"))
        })
        .count()
}

fn write_archive(path: &PathBuf) {
    let page = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-corpus/web/pages/kyiv-grain-corridor.html"),
    )
    .expect("the sample page");
    let mut out = BufWriter::new(File::create(path).expect("the archive file"));
    for number in 0..PAGES {
        let mut block = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
            page.len()
        )
        .into_bytes();
        block.extend_from_slice(&page);
        let head = format!(
            "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://news.example/{number}\r\n\
             WARC-Date: 2025-06-01T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-{number:012x}>\r\n\
             Content-Type: application/http; msgtype=response\r\nContent-Length: {}\r\n\r\n",
            block.len()
        );
        let mut member = GzEncoder::new(Vec::new(), Compression::fast());
        member.write_all(head.as_bytes()).expect("in memory");
        member.write_all(&block).expect("in memory");
        member.write_all(b"\r\n\r\n").expect("in memory");
        out.write_all(&member.finish().expect("in memory"))
            .expect("the archive is written");
    }
    out.flush().expect("the archive is written");
}
