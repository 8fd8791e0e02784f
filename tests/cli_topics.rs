//! The topic tree: sub-topics roll up to their parents in the index and in facet counts.

mod common;

use std::path::Path;

use common::*;
use serde_json::json;
use tempfile::TempDir;

/// An index of a peace-talks article, a ceasefire article and one with no topic, none of
/// them using a word of its parent topic.
fn index() -> TempDir {
    let index = TempDir::new().unwrap();
    let records = [
        json!({"id": "talks", "title": "Peace talks resume",
               "body": "The peace talks resumed on Monday in a hotel by the lake."}),
        json!({"id": "truce", "title": "Ceasefire holds",
               "body": "The truce agreed on Sunday held through the night."}),
        json!({"id": "none", "title": "Quiet day", "body": "Nothing happened."}),
    ]
    .map(|record| format!("{record}\n"))
    .concat();
    geonews(index.path())
        .args(["index", "-"])
        .write_stdin(records)
        .assert()
        .success();
    index
}

fn facets_text(index: &Path) -> String {
    let output = geonews(index).args(["facets", "topic"]).assert().success();
    String::from_utf8(output.get_output().stdout.clone()).unwrap()
}

#[test]
fn a_parent_topic_finds_the_articles_of_its_sub_topics() {
    let index = index();
    assert_eq!(
        hit_ids(&search(index.path(), "topic:peace-talks")),
        ["talks"]
    );
    assert_eq!(hit_ids(&search(index.path(), "topic:diplomacy")), ["talks"]);
    assert_eq!(
        hit_ids(&search(index.path(), "topic:armed-conflict")),
        ["truce"]
    );
}

#[test]
fn facet_counts_show_sub_topics_under_their_parents() {
    let index = index();
    let text = facets_text(index.path());
    assert!(
        text.contains("  armed-conflict        1\n    ceasefire           1\n"),
        "{text}"
    );
    assert!(
        text.contains("  diplomacy             1\n    peace-talks         1\n"),
        "{text}"
    );
    let counts = json(geonews(index.path()).args(["facets", "topic", "-f", "json"]));
    let ceasefire = counts["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|value| value["key"] == "ceasefire")
        .unwrap();
    assert_eq!(
        ceasefire,
        &json!({"key": "ceasefire", "count": 1, "parents": ["armed-conflict"]})
    );
}

#[test]
fn extract_names_the_sub_topic_a_parent_came_from() {
    let output = geonews(Path::new("unused"))
        .args(["extract", "--format", "jsonl", "-"])
        .write_stdin(
            "{\"id\": \"launch\", \"title\": \"Missile launch\", \"body\": \"The ballistic missile flew 500 km.\"}\n",
        )
        .assert()
        .success();
    let found: serde_json::Value = serde_json::from_slice(&output.get_output().stdout).unwrap();
    let parent = found["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|topic| topic["key"] == "military")
        .unwrap();
    assert_eq!(parent["via"], json!(["missiles"]));
    assert_eq!(parent["evidence"], json!([]));
}
