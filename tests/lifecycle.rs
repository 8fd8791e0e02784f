//! The data lifecycle of a store of record: `delete` takes articles out by id or query (with a
//! dry run first), `compact` merges segments and reclaims deleted ones' space, and `backup`
//! copies the index while searches go on; the copy is an index of its own. Each takes the
//! writer lock as `index` does.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::writes::{SearchLoop, articles_file, live_generation, spawn_index};
use common::*;
use serde_json::Value;
use tempfile::TempDir;

const SKIPPED_INPUT: i32 = 3;
const USAGE: i32 = 2;

fn ids_in(index: &Path, query: &str) -> BTreeSet<String> {
    hit_ids(&search(index, query)).into_iter().collect()
}

fn stats(index: &Path) -> Value {
    json(geonews(index).args(["stats", "-f", "json"]))
}

fn articles(index: &Path) -> u64 {
    stats(index)["articles"].as_u64().unwrap()
}

fn segments(index: &Path) -> u64 {
    stats(index)["segments"].as_u64().unwrap()
}

fn assert_check_passes(index: &Path) {
    let output = geonews(index).arg("check").output().unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A search that succeeds without a word of damage.
fn assert_searches_cleanly(index: &Path) {
    let output = geonews(index)
        .args(["search", "sanctions", "-n", "3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("damaged"), "{stderr}");
}

#[test]
fn deleting_by_id_takes_the_article_out_of_everything_and_names_ids_not_found() {
    let index = sample_index();
    let before = articles(index.path());
    let all = hit_ids(&search(index.path(), ""));
    let (first, second) = (&all[0], &all[1]);

    let output = geonews(index.path())
        .args([
            "delete",
            "-f",
            "json",
            first,
            second,
            "no-such-article",
            first.as_str(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(SKIPPED_INPUT), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["count"], 2);
    assert_eq!(report["ids"], serde_json::json!([first, second]));
    assert_eq!(report["not_found"], serde_json::json!(["no-such-article"]));
    assert_eq!(report["articles_in_index"], before - 2);

    for id in [first, second] {
        let shown = geonews(index.path())
            .args(["show", id.as_str()])
            .output()
            .unwrap();
        assert_eq!(shown.status.code(), Some(1), "{id} is still shown");
        assert!(String::from_utf8_lossy(&shown.stderr).contains("no article with id"));
        assert!(!ids_in(index.path(), "").contains(id.as_str()));
    }
    assert_eq!(articles(index.path()), before - 2);
    let facets = json(geonews(index.path()).args(["facets", "country", "-f", "json"]));
    assert_eq!(facets["total"], before - 2);
    assert_check_passes(index.path());
    assert_searches_cleanly(index.path());

    // Readers trust the deletion files: the writer recorded them after its commit.
    let generation = live_generation(index.path());
    let verified: Value =
        serde_json::from_slice(&fs::read(generation.join("verified.json")).unwrap()).unwrap();
    let deletions: Vec<String> = fs::read_dir(&generation)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".del"))
        .collect();
    assert!(!deletions.is_empty());
    for name in deletions {
        assert!(verified["files"].get(&name).is_some(), "{name} unrecorded");
    }

    let again = geonews(index.path())
        .args(["delete", first.as_str()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(SKIPPED_INPUT));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains(&format!("not found: {first}")),
        "{again:?}"
    );
}

#[test]
fn a_dry_run_lists_what_a_delete_by_query_then_deletes() {
    let index = sample_index();
    let query = "country:Russia sanctions";
    let matching = ids_in(index.path(), query);
    assert!(matching.len() >= 2, "{matching:?}");
    let before = articles(index.path());

    let plan =
        json(geonews(index.path()).args(["delete", "--dry-run", "--query", query, "-f", "json"]));
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["query"], query);
    assert_eq!(plan["count"], matching.len());
    let planned: BTreeSet<String> = plan["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(planned, matching);
    let lines = geonews(index.path())
        .args(["delete", "--dry-run", "--query", query, "-f", "jsonl"])
        .output()
        .unwrap();
    assert!(lines.status.success());
    let lines: Vec<Value> = String::from_utf8(lines.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), matching.len());
    assert!(lines.iter().all(|line| line["status"] == "to_delete"));
    let text = geonews(index.path())
        .args(["delete", "--dry-run", "--query", query])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.starts_with(&format!(
            "would delete {} articles matching {query}",
            matching.len()
        )),
        "{text}"
    );
    assert_eq!(
        ids_in(index.path(), query),
        matching,
        "a dry run changes nothing"
    );
    assert_eq!(articles(index.path()), before);

    let done = json(geonews(index.path()).args(["delete", "--query", query, "-f", "json"]));
    assert_eq!(done["dry_run"], false);
    assert_eq!(done["count"], matching.len());
    assert_eq!(done["articles_in_index"], before - matching.len() as u64);
    assert_eq!(total(&search(index.path(), query)), 0);
    assert_eq!(articles(index.path()), before - matching.len() as u64);
    assert_check_passes(index.path());
    assert_searches_cleanly(index.path());

    let text = geonews(index.path())
        .args(["delete", "--query", query])
        .output()
        .unwrap();
    assert!(text.status.success());
    assert!(
        String::from_utf8_lossy(&text.stdout).starts_with("deleted 0 articles matching"),
        "{text:?}"
    );
}

#[test]
fn a_delete_that_would_take_everything_or_cannot_parse_is_refused() {
    let index = sample_index();
    let before = articles(index.path());
    for query in ["", "  "] {
        let output = geonews(index.path())
            .args(["delete", "--query", query])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(USAGE), "{query:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("matches every article"));
    }
    let output = geonews(index.path())
        .args(["delete", "--query", "country:Atlantis"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(USAGE));
    assert_eq!(articles(index.path()), before);

    let missing = TempDir::new().unwrap();
    let output = geonews(&missing.path().join("none"))
        .args(["delete", "some-id"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no index at"));
    assert!(!missing.path().join("none").exists(), "no index is created");
}

#[test]
fn compacting_merges_every_segment_into_one_and_keeps_every_article() {
    let index = sample_index();
    assert!(segments(index.path()) > 1, "the sample index has several");
    let deleted = hit_ids(&search(index.path(), "country:China"))[0].clone();
    geonews(index.path())
        .args(["delete", deleted.as_str()])
        .assert()
        .success();
    let ids = ids_in(index.path(), "");
    let before = stats(index.path());

    let report = json(geonews(index.path()).args(["compact", "-f", "json"]));
    assert_eq!(report["before"]["segments"], before["segments"]);
    assert_eq!(report["before"]["deleted"], 1);
    assert_eq!(report["after"]["segments"], 1);
    assert_eq!(report["after"]["deleted"], 0);
    assert_eq!(report["after"]["articles"], before["articles"]);
    assert_eq!(report["after"]["articles"], report["before"]["articles"]);

    assert_eq!(segments(index.path()), 1);
    assert_eq!(ids_in(index.path(), ""), ids);
    assert_eq!(stats(index.path())["facets"], before["facets"]);
    assert_check_passes(index.path());
    assert_searches_cleanly(index.path());
    let files: Vec<String> = fs::read_dir(live_generation(index.path()))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".store"))
        .collect();
    assert_eq!(files.len(), 1, "the merged segments' files are removed");

    let again = geonews(index.path()).arg("compact").output().unwrap();
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("is compact already: 1 segment"),
        "{again:?}"
    );
}

#[test]
fn searches_go_on_while_the_index_is_compacted() {
    let data = TempDir::new().unwrap();
    let index = TempDir::new().unwrap();
    let mut searches = None;
    for round in 0..3 {
        for part in 0..3 {
            let file = articles_file(data.path(), &format!("r{round}p{part}"), 400);
            geonews(index.path())
                .arg("index")
                .arg(file)
                .assert()
                .success();
        }
        searches.get_or_insert_with(|| SearchLoop::start(index.path()));
        geonews(index.path()).arg("compact").assert().success();
        assert_eq!(segments(index.path()), 1, "round {round}");
        assert_eq!(articles(index.path()), 1_200 * (round + 1));
    }
    searches.unwrap().stop();
    assert_check_passes(index.path());
}

#[test]
fn a_backup_made_while_searching_is_an_index_of_its_own() {
    let data = TempDir::new().unwrap();
    let index = sample_index();
    geonews(index.path())
        .args(["watch", "add", "russia", "country:Russia"])
        .assert()
        .success();
    let ids = ids_in(index.path(), "");
    let count = articles(index.path());

    let searches = SearchLoop::start(index.path());
    thread::sleep(Duration::from_millis(200));
    let copy = TempDir::new().unwrap();
    let copy = copy.path().join("backup");
    let report = json(
        geonews(index.path())
            .arg("backup")
            .arg(&copy)
            .args(["-f", "json"]),
    );
    searches.stop();
    assert_eq!(report["articles"], count);
    assert_eq!(report["destination"], copy.to_str().unwrap());
    assert_eq!(
        fs::read_to_string(copy.join("CURRENT")).unwrap().trim(),
        "gen-000001"
    );

    // Restoring is pointing --index at the copy.
    assert_eq!(ids_in(&copy, ""), ids);
    assert_eq!(articles(&copy), count);
    assert_check_passes(&copy);
    assert_searches_cleanly(&copy);
    let watches = json(geonews(&copy).args(["watch", "list", "-f", "json"]));
    assert_eq!(watches["watches"][0]["name"], "russia");

    // Later changes to the original leave the copy as it was.
    let removed = hit_ids(&search(index.path(), "country:Russia"))[0].clone();
    geonews(index.path())
        .args(["delete", removed.as_str()])
        .assert()
        .success();
    geonews(index.path())
        .arg("index")
        .arg(articles_file(data.path(), "later", 20))
        .assert()
        .success();
    geonews(index.path()).arg("compact").assert().success();
    assert_eq!(ids_in(&copy, ""), ids);
    assert_check_passes(&copy);

    // And the copy takes new articles like any index.
    geonews(&copy)
        .arg("index")
        .arg(articles_file(data.path(), "intocopy", 5))
        .assert()
        .success();
    assert_eq!(articles(&copy), count + 5);
    assert_eq!(total(&search(&copy, "intocopy")), 5);
    assert_check_passes(&copy);
}

#[test]
fn a_backup_into_a_folder_that_holds_anything_is_refused() {
    let index = sample_index();
    let busy = TempDir::new().unwrap();
    fs::write(busy.path().join("notes.txt"), "mine").unwrap();
    let output = geonews(index.path())
        .arg("backup")
        .arg(busy.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(USAGE), "{stderr}");
    assert!(
        stderr.contains("cannot back up into") && stderr.contains("exists and is not empty"),
        "{stderr}"
    );
    let left: Vec<_> = fs::read_dir(busy.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "nothing is written beside what was there");

    let empty = TempDir::new().unwrap();
    geonews(index.path())
        .arg("backup")
        .arg(empty.path())
        .assert()
        .success();
    assert_check_passes(empty.path());
}

#[test]
fn delete_compact_and_backup_wait_their_turn_behind_another_writer() {
    let data = TempDir::new().unwrap();
    let big = articles_file(data.path(), "big", 40_000);
    let index = sample_index();
    let some_id = hit_ids(&search(index.path(), ""))[0].clone();
    let lock = index.path().join("writer.lock");
    let idle_holder = fs::read_to_string(&lock).unwrap();
    let mut writer = spawn_index(index.path(), &["--rebuild"], &big);
    let deadline = Instant::now() + Duration::from_secs(60);
    while fs::read_to_string(&lock).unwrap() == idle_holder {
        assert!(Instant::now() < deadline, "the rebuild never took the lock");
        thread::sleep(Duration::from_millis(20));
    }

    let copy = data.path().join("backup");
    let copy_arg = copy.to_str().unwrap();
    let attempts: [&[&str]; 4] = [
        &["delete", some_id.as_str()],
        &["delete", "--query", "country:Russia"],
        &["compact"],
        &["backup", copy_arg],
    ];
    let mut refusals = Vec::new();
    for args in attempts {
        let output = geonews(index.path()).args(args).output().unwrap();
        refusals.push((args, output));
    }
    // A dry run only reads.
    let plan = geonews(index.path())
        .args(["delete", "--dry-run", some_id.as_str()])
        .output()
        .unwrap();
    writer.kill().ok();
    writer.wait().unwrap();

    for (args, output) in refusals {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("another geonews is writing the index")
                && stderr.contains(&format!("pid {}", writer.id()))
                && stderr.contains("--wait"),
            "{args:?}: {stderr}"
        );
    }
    assert!(plan.status.success(), "{plan:?}");
    assert!(!copy.exists(), "a refused backup writes nothing");
    assert!(ids_in(index.path(), "").contains(&some_id));
}

#[test]
fn a_delete_with_wait_queues_behind_the_writer() {
    let data = TempDir::new().unwrap();
    let index = sample_index();
    let some_id = hit_ids(&search(index.path(), ""))[0].clone();
    let lock = index.path().join("writer.lock");
    let idle_holder = fs::read_to_string(&lock).unwrap();
    let mut writer = Command::new(binary())
        .arg("--index")
        .arg(index.path())
        .arg("index")
        .arg(articles_file(data.path(), "queued", 20_000))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while fs::read_to_string(&lock).unwrap() == idle_holder {
        assert!(Instant::now() < deadline, "the writer never took the lock");
        thread::sleep(Duration::from_millis(20));
    }
    let output = geonews(index.path())
        .args(["delete", "--wait", some_id.as_str()])
        .output()
        .unwrap();
    assert!(writer.wait().unwrap().success());
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("waiting for the other writer"),
        "{output:?}"
    );
    assert!(!ids_in(index.path(), "").contains(&some_id));
    assert_eq!(total(&search(index.path(), "queued")), 20_000);
    assert_check_passes(index.path());
}
