//! Helpers shared by the CLI tests: a `geonews` command bound to a temporary index.
#![allow(dead_code)] // each test binary uses its own subset

pub mod quickwit;
pub mod server;
pub mod web;
pub mod writes;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

pub fn articles() -> PathBuf {
    repo_path("sample-corpus/articles")
}

pub fn malformed() -> PathBuf {
    repo_path("sample-corpus/malformed")
}

/// A path in `../shared` beside the repository. Tests that call it are ignored where
/// `../shared` is absent (`#[cfg_attr(not(shared_data), ignore = ...)]`, set by build.rs), so
/// a missing part of it is an error.
pub fn shared(relative: &str) -> PathBuf {
    let path = repo_path("../shared").join(relative);
    assert!(
        path.exists(),
        "{} is missing from ../shared",
        path.display()
    );
    path
}

pub fn binary() -> &'static Path {
    assert_cmd::cargo::cargo_bin!("geonews")
}

/// `geonews --index DIR`, colourless and untouched by the caller's environment.
pub fn geonews(index: &Path) -> Command {
    let mut command = Command::new(binary());
    command
        .arg("--index")
        .arg(index)
        .env("NO_COLOR", "1")
        .env_remove("GEONEWS_INDEX")
        .env_remove("GEONEWS_ENGINE");
    command
}

/// A fresh index of the sample articles.
pub fn sample_index() -> TempDir {
    let dir = TempDir::new().unwrap();
    geonews(dir.path())
        .arg("index")
        .arg(articles())
        .assert()
        .success();
    dir
}

pub fn json(command: &mut Command) -> Value {
    let output = command.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&output)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {}", String::from_utf8_lossy(&output)))
}

pub fn search(index: &Path, query: &str) -> Value {
    json(geonews(index).args(["search", "--format", "json", "--limit", "1000", "--", query]))
}

pub fn hit_ids(results: &Value) -> Vec<String> {
    results["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| hit["id"].as_str().expect("id").to_owned())
        .collect()
}

pub fn total(results: &Value) -> u64 {
    results["total"].as_u64().expect("total")
}

pub fn stderr_of(command: &mut Command) -> String {
    String::from_utf8(command.output().unwrap().stderr).unwrap()
}

/// Checks the facet counts of `search QUERY`: each value of a field counts the articles of
/// `BASE field:value`, where BASE is QUERY for a field QUERY does not filter on, and QUERY
/// without its filters on that field for the others (multi-select). Returns how many values
/// were compared.
pub fn assert_facet_counts_match_searches(
    index: &Path,
    query: &str,
    bases: &[(&str, &str)],
) -> usize {
    let fields: Vec<&str> = bases.iter().map(|(field, _)| *field).collect();
    let results = json(geonews(index).args([
        "search",
        "-f",
        "json",
        "-n",
        "0",
        "--facet-limit",
        "25",
        "--facets",
        &fields.join(","),
        "--",
        query,
    ]));
    let mut compared = 0;
    for (facet, (field, base)) in results["facets"].as_array().unwrap().iter().zip(bases) {
        assert_eq!(facet["field"], *field);
        assert_eq!(facet["multi_select"], *base != query, "{facet}");
        for value in facet["values"].as_array().unwrap() {
            let key = value["key"].as_str().unwrap();
            let separate = format!("{base} {field}:{key}");
            assert_eq!(
                total(&search(index, &separate)),
                value["count"].as_u64().unwrap(),
                "`{separate}` against the {field} counts of `{query}`"
            );
            compared += 1;
        }
    }
    compared
}
