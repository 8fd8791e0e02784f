//! Hostile input, generated here: each file is read, cut or refused with a message, the rest
//! of the run goes on, and no run peaks over 1 GiB of memory (measured by `wait4`, as the
//! benchmarks measure it).

mod common;

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use flate2::Compression;
use flate2::write::GzEncoder;
use tempfile::TempDir;

const GIB: u64 = 1 << 30;

struct Run {
    code: i32,
    stderr: String,
    peak_bytes: u64,
}

/// Runs geonews with `args` and measures its peak resident memory.
// The child is reaped by wait4, which std's `wait` would not let us read the usage of.
#[allow(clippy::zombie_processes)]
fn measured(index: &Path, inputs: &[&PathBuf]) -> Run {
    let mut child = Command::new(binary())
        .arg("--index")
        .arg(index)
        .arg("index")
        .args(inputs)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; both pointers are valid.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let stderr = reader.join().unwrap();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Run {
        code,
        stderr,
        peak_bytes: usage.ru_maxrss as u64 * 1024,
    }
}

impl Run {
    fn assert_said(&self, text: &str) {
        assert!(
            self.stderr.contains(text),
            "{text:?} not in: {}",
            self.stderr
        );
    }
}

fn assert_bounded(run: &Run, what: &str) {
    assert!(
        run.peak_bytes < GIB,
        "{what}: peak {} MiB",
        run.peak_bytes >> 20
    );
    assert!(
        ![101, 70].contains(&run.code) && run.code < 128,
        "{what}: exit {}: {}",
        run.code,
        run.stderr
    );
}

/// A gzip file of `members` copies of one gzip member holding `chunk`: it inflates to
/// `members` × the chunk from a few bytes each.
fn gzip_bomb(path: &Path, chunk: &[u8], members: usize) {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(chunk).unwrap();
    let member = encoder.finish().unwrap();
    let mut out = BufWriter::new(File::create(path).unwrap());
    for _ in 0..members {
        out.write_all(&member).unwrap();
    }
}

fn write_lines(path: &Path, lines: impl Iterator<Item = String>) {
    let mut out = BufWriter::new(File::create(path).unwrap());
    for line in lines {
        out.write_all(line.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
    }
}

fn article_line(id: &str, title: &str) -> String {
    format!(
        r#"{{"id": "{id}", "title": "{title}", "body": "Officials met in Geneva on sanctions."}}"#
    )
}

fn file(dir: &TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn compression_bombs_are_refused_with_their_numbers() {
    let dir = TempDir::new().unwrap();
    let text_bomb = file(&dir, "bomb.txt.gz");
    gzip_bomb(&text_bomb, "ceasefire ".repeat(100_000).as_bytes(), 2_000);
    let filler = format!(r#"{{"filler": "{}"}}"#, "x".repeat(10_000));
    let lines_bomb = file(&dir, "bomb.jsonl.gz");
    gzip_bomb(
        &lines_bomb,
        format!("{filler}\n").repeat(100).as_bytes(),
        5_000,
    );
    let fine = file(&dir, "fine.jsonl");
    write_lines(
        &fine,
        std::iter::once(article_line("fine-1", "Geneva talks")),
    );

    let index = TempDir::new().unwrap();
    let run = measured(index.path(), &[&text_bomb, &lines_bomb, &fine]);
    assert_bounded(&run, "gzip bombs");
    assert_eq!(run.code, 3, "{}", run.stderr);
    // A text is one article: only its beginning is inflated.
    run.assert_said("bomb.txt.gz: a text longer than 8.0 MB; only its beginning is read");
    run.assert_said("more than 100 times its size (--max-ratio): a compression bomb? refused");
    run.assert_said("2 new");
}

#[test]
fn a_200_mb_line_is_skipped_and_the_next_read() {
    let dir = TempDir::new().unwrap();
    let lines = file(&dir, "long.jsonl");
    {
        let mut out = BufWriter::new(File::create(&lines).unwrap());
        write!(out, r#"{{"id": "long", "title": "Long", "body": ""#).unwrap();
        let block = "word ".repeat(200_000);
        for _ in 0..200 {
            out.write_all(block.as_bytes()).unwrap();
        }
        writeln!(out, "\"}}").unwrap();
        writeln!(out, "{}", article_line("after", "After the long line")).unwrap();
    }
    let index = TempDir::new().unwrap();
    let run = measured(index.path(), &[&lines]);
    assert_bounded(&run, "200 MB line");
    run.assert_said("long.jsonl:1: skipped: a line longer than");
    assert_eq!(hit_ids(&search(index.path(), "title:after")), ["after"]);
}

#[test]
fn a_100_mb_article_is_cut_to_the_longest_body() {
    let dir = TempDir::new().unwrap();
    let text = file(&dir, "huge.txt");
    {
        let mut out = BufWriter::new(File::create(&text).unwrap());
        writeln!(out, "Sanctions report of unusual length\n").unwrap();
        let block = "The sanctions committee met again. ".repeat(30_000);
        while out.get_ref().metadata().unwrap().len() < 100 << 20 {
            out.write_all(block.as_bytes()).unwrap();
            out.flush().unwrap();
        }
    }
    let index = TempDir::new().unwrap();
    let run = measured(index.path(), &[&text]);
    assert_bounded(&run, "100 MB article");
    run.assert_said("only its beginning is read");
    run.assert_said("cut to 2.0 MB (--max-article)");
    let shown = json(geonews(index.path()).args(["search", "sanctions", "-f", "json", "-n", "1"]));
    assert_eq!(total(&shown), 1);
}

#[test]
fn a_200_mb_json_array_is_read_an_item_at_a_time() {
    let dir = TempDir::new().unwrap();
    let array = file(&dir, "array.json");
    {
        let mut out = BufWriter::new(File::create(&array).unwrap());
        out.write_all(b"[").unwrap();
        let filler = "x".repeat(2_000);
        for n in 0..100_000 {
            write!(out, r#"{{"id": "a{n}", "filler": "{filler}"}},"#).unwrap();
        }
        out.write_all(article_line("last", "Last item").as_bytes())
            .unwrap();
        out.write_all(b"]").unwrap();
    }
    let index = TempDir::new().unwrap();
    let run = measured(index.path(), &[&array]);
    assert_bounded(&run, "200 MB JSON array");
    // Held whole, the array's values alone would take more than twice the file.
    assert!(
        run.peak_bytes < 300 << 20,
        "peak {} MiB",
        run.peak_bytes >> 20
    );
    run.assert_said("more problems not shown");
    assert!(run.stderr.lines().count() < 40, "{}", run.stderr);
    assert_eq!(hit_ids(&search(index.path(), "title:last")), ["last"]);
}

#[test]
fn deep_nesting_is_refused_and_a_flood_of_empty_records_summarised() {
    let dir = TempDir::new().unwrap();
    let deep_json = file(&dir, "deep.json");
    fs::write(
        &deep_json,
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
    )
    .unwrap();
    let deep_yaml = file(&dir, "deep.md");
    fs::write(
        &deep_yaml,
        format!(
            "---\nkey: {}1{}\n---\nBody.\n",
            "[".repeat(20_000),
            "]".repeat(20_000)
        ),
    )
    .unwrap();
    let deep_toml = file(&dir, "deep-toml.md");
    fs::write(
        &deep_toml,
        format!(
            "+++\nkey = {}1{}\n+++\nBody.\n",
            "[".repeat(20_000),
            "]".repeat(20_000)
        ),
    )
    .unwrap();
    let flood = file(&dir, "flood.jsonl.gz");
    gzip_bomb(&flood, "{}\n".repeat(10_000).as_bytes(), 30);

    let index = TempDir::new().unwrap();
    let run = measured(index.path(), &[&deep_json, &deep_yaml, &deep_toml, &flood]);
    assert_bounded(&run, "deep nesting and a flood");
    run.assert_said("recursion limit exceeded");
    assert_eq!(
        run.stderr
            .matches("nested more than 32 levels deep")
            .count(),
        2,
        "{}",
        run.stderr
    );
    run.assert_said("299980 more problems not shown");
    assert!(run.stderr.lines().count() < 60, "{}", run.stderr);
}

#[test]
fn stray_quotes_utf16_and_pipes_are_read() {
    let dir = TempDir::new().unwrap();
    let csv = file(&dir, "quotes.csv");
    let rows = (1..=10_000).map(|row| match row {
        3 => format!("{row},\"Title {row},Body {row}"),
        5_000 => format!("{row},Title {row},\"Body {row}"),
        _ => format!("{row},Title {row},Body of row {row} on sanctions"),
    });
    write_lines(
        &csv,
        std::iter::once("id,title,body".to_owned()).chain(rows),
    );
    let utf16 = file(&dir, "wide.jsonl");
    let text = article_line("wide", "Łódź talks on sanctions");
    let bytes: Vec<u8> = [0xfeff_u16]
        .into_iter()
        .chain(text.encode_utf16())
        .flat_map(u16::to_le_bytes)
        .collect();
    fs::write(&utf16, bytes).unwrap();
    let fifo = file(&dir, "pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let line = article_line("piped", "Piped sanctions news");
            fs::write(fifo, format!("{line}\n")).unwrap();
        })
    };

    let index = TempDir::new().unwrap();
    let run = measured(index.path(), &[&csv, &utf16, &fifo]);
    writer.join().unwrap();
    assert_bounded(&run, "quotes, UTF-16, a pipe");
    run.assert_said("quotes.csv:4: skipped: a quoted field opened on this line");
    run.assert_said("read 9998 of the 10000 rows");
    for (query, id) in [("title:łódź", "wide"), ("title:piped", "piped")] {
        assert_eq!(hit_ids(&search(index.path(), query)), [id]);
    }
}

#[test]
#[cfg_attr(not(root), ignore = "mounting a small tmpfs needs root")]
fn a_full_disk_is_reported_with_the_space_left() {
    let mount = TempDir::new().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
        .arg(mount.path())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        mounted,
        "root could not mount a tmpfs at {}",
        mount.path().display()
    );
    let dir = TempDir::new().unwrap();
    let lines = file(&dir, "many.jsonl");
    let body = "Officials discussed sanctions and a ceasefire in Geneva. ".repeat(20);
    write_lines(
        &lines,
        (0..60_000).map(|n| {
            format!(r#"{{"id": "m{n}", "title": "Talks {n}", "body": "{body} unique{n}"}}"#)
        }),
    );
    let index = mount.path().join("index");
    let run = measured(&index, &[&lines]);
    let _ = Command::new("umount").arg(mount.path()).status();
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.assert_said("no space left on device (");
    run.assert_said("MB free on");
}

#[test]
fn a_query_past_its_time_budget_stops_with_an_error() {
    let index = sample_index();
    let output = geonews(index.path())
        .args(["--timeout", "0.001", "search", "sanctions"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("ran past its time budget of 0.001 s (--timeout)"),
        "{stderr}"
    );
}
