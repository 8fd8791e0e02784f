//! One writer at a time: `index` and `index --rebuild` started together queue or stop with the
//! holder's name, readers never fail while a rebuild swaps in, and what a killed rebuild left
//! is removed by the next run.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use common::writes::{SearchLoop, articles_file, spawn_index};
use common::*;
use tempfile::TempDir;

fn ids_in(index: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let output = geonews(index)
        .args(["search", "", "-n", "100000", "-f", "jsonl"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let hit: serde_json::Value = serde_json::from_str(line).unwrap();
        ids.insert(hit["id"].as_str().unwrap().to_owned());
    }
    ids
}

fn ids(prefix: &str, count: usize) -> BTreeSet<String> {
    (0..count).map(|n| format!("{prefix}-{n}")).collect()
}

#[test]
fn writers_started_together_queue_and_readers_never_fail() {
    let data = TempDir::new().unwrap();
    let (a, b, c) = (
        articles_file(data.path(), "a", 300),
        articles_file(data.path(), "b", 2_000),
        articles_file(data.path(), "c", 2_500),
    );
    let index = TempDir::new().unwrap();
    geonews(index.path())
        .arg("index")
        .arg(&c)
        .assert()
        .success();

    let searches = SearchLoop::start(index.path());
    for round in 0..4 {
        let writers = [
            spawn_index(index.path(), &["--wait"], &a),
            spawn_index(index.path(), &["--wait", "--rebuild"], &b),
            spawn_index(index.path(), &["--wait", "--rebuild"], &c),
        ];
        for writer in writers {
            let output = writer.wait_with_output().unwrap();
            assert!(output.status.success(), "round {round}: {output:?}");
        }
        // Whichever order they ran in, the index is one rebuild's articles, with or without
        // the plain run's added after it.
        let found = ids_in(index.path());
        let with_a = |rebuilt: BTreeSet<String>| {
            let mut both = rebuilt.clone();
            both.extend(ids("a", 300));
            [rebuilt, both]
        };
        let possible: Vec<BTreeSet<String>> = with_a(ids("b", 2_000))
            .into_iter()
            .chain(with_a(ids("c", 2_500)))
            .collect();
        assert!(
            possible.contains(&found),
            "round {round}: {} articles",
            found.len()
        );
    }
    searches.stop();
    // A build a search still read when its rebuild finished goes with the next writer.
    geonews(index.path())
        .arg("index")
        .arg(&a)
        .assert()
        .success();
    let generations = fs::read_dir(index.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("gen-"))
        .count();
    assert_eq!(generations, 1, "builds no one reads are removed");
}

#[test]
fn a_second_writer_is_told_who_holds_the_index() {
    let data = TempDir::new().unwrap();
    let big = articles_file(data.path(), "big", 40_000);
    let index = TempDir::new().unwrap();
    let mut first = spawn_index(index.path(), &["--rebuild"], &big);
    let lock = index.path().join("writer.lock");
    let deadline = Instant::now() + Duration::from_secs(60);
    while fs::read_to_string(&lock).unwrap_or_default().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the first writer never took the lock"
        );
        thread::sleep(Duration::from_millis(20));
    }
    let second = geonews(index.path())
        .arg("index")
        .arg(articles().join("json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    first.kill().ok();
    first.wait().unwrap();
    assert!(!second.status.success());
    assert!(
        stderr.contains("another geonews is writing the index")
            && stderr.contains(&format!("pid {}", first.id()))
            && stderr.contains("--wait"),
        "{stderr}"
    );
}

#[test]
fn what_a_killed_rebuild_left_is_removed_by_the_next_run() {
    let data = TempDir::new().unwrap();
    let big = articles_file(data.path(), "big", 40_000);
    let index = sample_index();
    let before = ids_in(index.path());
    let mut rebuild = spawn_index(index.path(), &["--rebuild", "--commit-every", "500"], &big);
    let unfinished = index.path().join("gen-000002");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !unfinished.join("meta.json").exists() {
        assert!(Instant::now() < deadline, "the rebuild never started");
        thread::sleep(Duration::from_millis(10));
    }
    rebuild.kill().unwrap();
    rebuild.wait().unwrap();
    assert_eq!(ids_in(index.path()), before, "the live build is untouched");

    let output = geonews(index.path())
        .arg("index")
        .arg(articles().join("json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("gen-000002") && stderr.contains("unfinished rebuild"),
        "{stderr}"
    );
    assert!(!unfinished.exists());
}
