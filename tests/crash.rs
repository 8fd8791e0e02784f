//! Killing `geonews index` mid-run leaves an index that opens and answers with its last commit.

mod common;

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tempfile::TempDir;

const GENERATED_ARTICLES: usize = 40_000;

/// A corpus large enough that indexing it takes a while, written fresh for the test.
fn generated_corpus(dir: &std::path::Path) -> std::path::PathBuf {
    let places = [
        "Pyongyang",
        "Kyiv",
        "the Kremlin",
        "Tbilisi",
        "Amman",
        "Brasília",
        "Nairobi",
        "Hanoi",
    ];
    let topics = [
        "sanctions",
        "landmines",
        "elections",
        "trade talks",
        "refugees",
        "drone strikes",
    ];
    let mut text = String::with_capacity(GENERATED_ARTICLES * 400);
    for n in 0..GENERATED_ARTICLES {
        let place = places[n % places.len()];
        let topic = topics[n % topics.len()];
        writeln!(
            text,
            r#"{{"id": "gen-{n}", "title": "Officials in {place} discuss {topic} ({n})", "body": "Officials in {place} discussed {topic} on day {n}. Further talks on {topic} were planned, and observers expect new {topic} measures soon.", "date": "2024-01-{:02}"}}"#,
            n % 28 + 1
        )
        .unwrap();
    }
    let path = dir.join("generated.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

fn articles_in(index: &std::path::Path) -> Option<u64> {
    let output = geonews(index)
        .args(["stats", "--format", "json"])
        .output()
        .ok()?;
    let stats: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    stats["articles"].as_u64()
}

#[test]
fn kill_9_mid_run_keeps_the_last_commit() {
    let index = sample_index();
    let baseline = articles_in(index.path()).unwrap();
    let corpus = TempDir::new().unwrap();
    let file = generated_corpus(corpus.path());

    let mut child = Command::new(binary())
        .arg("--index")
        .arg(index.path())
        .args(["index", "--commit-every", "500"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until a commit from this run is visible, then kill without warning.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = baseline;
    while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        seen = articles_in(index.path()).unwrap_or(seen);
        if seen > baseline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let finished_first = child.try_wait().unwrap().is_some();
    child.kill().unwrap_or(()); // SIGKILL on Unix
    child.wait().unwrap();
    assert!(
        !finished_first,
        "indexing finished before it could be killed; grow the corpus"
    );
    assert!(
        seen > baseline,
        "no commit became visible within the deadline"
    );

    let after = articles_in(index.path()).expect("the killed index opens");
    assert!(
        after >= seen && after < baseline + GENERATED_ARTICLES as u64,
        "{baseline} {seen} {after}"
    );
    let results = search(index.path(), "country:NorthKorea topic:sanctions");
    assert!(total(&results) >= 3, "sample articles still answer");
    // The next run completes what the killed one started, without duplicates.
    geonews(index.path())
        .arg("index")
        .arg(&file)
        .assert()
        .success();
    assert_eq!(
        articles_in(index.path()),
        Some(baseline + GENERATED_ARTICLES as u64)
    );
}
