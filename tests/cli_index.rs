//! `geonews index`: every input format, the malformed records, updates and rebuilds.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

#[test]
fn every_format_of_the_sample_corpus_is_indexed() {
    let index = sample_index();
    // One article from each format and field spelling of sample-corpus/articles.
    for (id, format) in [
        ("gn-2024-0023", "json object"),
        ("gn-2025-0030", "json array"),
        ("gn-2024-0001", "jsonl"),
        ("gn-2025-0008", "jsonl with article_id/text"),
        ("gn-2024-0014", "ndjson"),
        ("gn-2023-0020", "jsonl.gz"),
        ("gn-2023-0034", "csv news dump"),
        ("gn-2024-0040", "csv briefs"),
        ("gn-2025-0046", "markdown yaml front matter"),
        ("gn-2025-0058", "markdown toml front matter"),
    ] {
        geonews(index.path())
            .args(["show", id])
            .assert()
            .success()
            .stdout(predicate::str::is_empty().not())
            .stderr(predicate::str::is_empty());
        let shown = json(geonews(index.path()).args(["show", id, "--format", "json"]));
        assert_eq!(shown["id"], id, "{format}");
        assert!(
            !shown["body"].as_str().unwrap().is_empty(),
            "{format}: empty body"
        );
    }
    let stats = json(geonews(index.path()).args(["stats", "--format", "json"]));
    assert_eq!(stats["articles"], 66);
}

#[test]
fn text_files_take_their_title_from_line_one_or_the_first_sentence() {
    let index = sample_index();
    let titled = search(index.path(), "OPEC");
    assert!(
        titled["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|hit| hit["id"].as_str().unwrap().starts_with('h')
                && !hit["title"].as_str().unwrap().contains("(geonews)")),
        "a text article with a title line: {titled:#}"
    );
    let untitled = search(index.path(), "Maiduguri");
    let title = untitled["hits"][0]["title"].as_str().unwrap();
    assert!(
        title.starts_with("MAIDUGURI, Nigeria, April 10 (geonews) - Islamist militants"),
        "{title}"
    );
    assert!(
        title.ends_with('…') && title.chars().count() <= 121,
        "{title}"
    );
}

#[test]
fn malformed_records_are_reported_by_file_and_line_and_the_rest_is_indexed() {
    let index = TempDir::new().unwrap();
    let output = geonews(index.path())
        .arg("index")
        .arg(malformed())
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    for expected in [
        "bad-json-line.jsonl:2: skipped: invalid JSON",
        "wrong-column-count.csv:3: skipped: wrong column count",
        "bad-date.json: unreadable date \"sometime next week\"",
        "latin1.txt: not valid UTF-8; decoded as Windows-1252",
        "empty.json: skipped: empty file",
        "binary.txt: skipped: binary file",
        "missing-body.jsonl:1: skipped: record has neither title nor body",
    ] {
        assert!(
            stderr.contains(expected),
            "missing `{expected}` in:\n{stderr}"
        );
    }
    // Good lines of the broken files, the article with a bad date and the Latin-1 one.
    let stats = json(geonews(index.path()).args(["stats", "--format", "json"]));
    assert_eq!(stats["articles"], 7, "{stderr}");
    let latin1 = search(index.path(), "café");
    assert_eq!(total(&latin1), 1);
}

#[test]
fn strict_stops_at_the_first_problem_and_keeps_the_index_as_it_was() {
    let index = sample_index();
    geonews(index.path())
        .args(["index", "--strict"])
        .arg(malformed())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--strict"));
    let stats = json(geonews(index.path()).args(["stats", "--format", "json"]));
    assert_eq!(stats["articles"], 66);
    // Even when the problem comes after several commits' worth of good articles.
    let corpus = TempDir::new().unwrap();
    let good: String = (0..30)
        .map(|n| format!("{{\"id\": \"ok{n}\", \"title\": \"Fine {n}\"}}\n"))
        .collect();
    fs::write(
        corpus.path().join("feed.jsonl"),
        format!("{good}{{broken\n"),
    )
    .unwrap();
    geonews(index.path())
        .args(["index", "--strict", "--commit-every", "5"])
        .arg(corpus.path())
        .assert()
        .code(1);
    let stats = json(geonews(index.path()).args(["stats", "--format", "json"]));
    assert_eq!(stats["articles"], 66);
}

#[test]
fn reindexing_adds_nothing_and_a_changed_article_replaces_the_old_one() {
    let corpus = TempDir::new().unwrap();
    let file = corpus.path().join("feed.jsonl");
    let line = |body: &str| {
        format!(
            r#"{{"id": "a1", "title": "Talks in Pyongyang", "body": "{body}", "date": "2024-05-01"}}"#
        )
    };
    fs::write(
        &file,
        format!(
            "{}\n{}\n",
            line("First version."),
            r#"{"title": "Second", "body": "Kyiv."}"#
        ),
    )
    .unwrap();
    let index = TempDir::new().unwrap();
    geonews(index.path())
        .arg("index")
        .arg(corpus.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("2 new, 0 updated, 0 unchanged"));
    geonews(index.path())
        .arg("index")
        .arg(corpus.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("0 new, 0 updated, 2 unchanged"));
    fs::write(
        &file,
        format!("{}\n", line("Second version about sanctions.")),
    )
    .unwrap();
    geonews(index.path())
        .arg("index")
        .arg(corpus.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("0 new, 1 updated, 0 unchanged"));
    let shown = json(geonews(index.path()).args(["show", "a1", "--format", "json"]));
    assert_eq!(shown["body"], "Second version about sanctions.");
    assert_eq!(
        json(geonews(index.path()).args(["stats", "-f", "json"]))["articles"],
        2
    );
}

#[test]
fn rebuild_starts_afresh() {
    let index = sample_index();
    let corpus = TempDir::new().unwrap();
    fs::write(
        corpus.path().join("one.json"),
        r#"{"id": "only", "title": "Only one", "body": "Seoul."}"#,
    )
    .unwrap();
    geonews(index.path())
        .args(["index", "--rebuild"])
        .arg(corpus.path())
        .assert()
        .success();
    let stats = json(geonews(index.path()).args(["stats", "--format", "json"]));
    assert_eq!(stats["articles"], 1);
}

#[test]
fn rebuild_refuses_a_folder_that_is_not_an_index() {
    let folder = TempDir::new().unwrap();
    fs::write(folder.path().join("precious.txt"), "keep me").unwrap();
    geonews(folder.path())
        .args(["index", "--rebuild"])
        .arg(articles())
        .assert()
        .failure()
        .stderr(predicate::str::contains("holds no index"));
    assert!(folder.path().join("precious.txt").exists());
}

#[test]
fn standard_input_is_read_as_json_lines() {
    let index = TempDir::new().unwrap();
    geonews(index.path())
        .args(["index", "-"])
        .write_stdin(
            "{\"id\": \"s1\", \"title\": \"Ankara talks\", \"body\": \"Turkish officials met.\"}\n",
        )
        .assert()
        .success();
    let results = search(index.path(), "country:Turkey");
    assert_eq!(hit_ids(&results), ["s1"]);
}

#[test]
fn spellings_a_query_cannot_tell_apart_count_as_one_value() {
    let index = TempDir::new().unwrap();
    let records: String = [
        "Sample Times",
        "SAMPLE TIMES",
        "sample-times",
        "Sample Times",
    ]
    .iter()
    .enumerate()
    .map(|(n, source)| {
        format!("{{\"id\": \"s{n}\", \"title\": \"T{n}\", \"source\": \"{source}\"}}\n")
    })
    .collect();
    geonews(index.path())
        .args(["index", "-"])
        .write_stdin(records)
        .assert()
        .success();
    let counts = json(geonews(index.path()).args(["facets", "source", "-f", "json"]));
    assert_eq!(
        counts["values"],
        serde_json::json!([{"key": "Sample Times", "count": 4}])
    );
    assert_eq!(total(&search(index.path(), "source:\"Sample Times\"")), 4);
}

#[test]
fn symlinked_files_inside_folders_are_read_and_loops_reported() {
    let folder = TempDir::new().unwrap();
    std::os::unix::fs::symlink(
        articles().join("json/gn-2024-0023.json"),
        folder.path().join("linked.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink(folder.path(), folder.path().join("loop")).unwrap();
    let index = TempDir::new().unwrap();
    let output = geonews(index.path())
        .arg("index")
        .arg(folder.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("1 new"), "{stderr}");
    assert!(stderr.contains("loop"), "{stderr}");
}

#[test]
fn tagged_facets_merge_with_extracted_ones() {
    let index = TempDir::new().unwrap();
    geonews(index.path())
        .args(["index", "-"])
        .write_stdin(
            "{\"id\": \"t1\", \"title\": \"Quiet day\", \"body\": \"Nothing named.\", \"countries\": [\"Japan\"], \"topics\": [\"trade\"]}\n",
        )
        .assert()
        .success();
    assert_eq!(
        hit_ids(&search(index.path(), "country:Japan topic:trade")),
        ["t1"]
    );
}

#[test]
fn a_foreign_or_outdated_index_asks_for_a_rebuild() {
    let index = sample_index();
    let live = fs::read_to_string(index.path().join("CURRENT")).unwrap();
    let meta = index.path().join(live.trim()).join("geonews.json");
    let text = fs::read_to_string(&meta).unwrap();
    fs::write(&meta, text.replace("\"format\": 7", "\"format\": 6")).unwrap();
    geonews(index.path())
        .args(["search", "sanctions"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "re-index with `geonews index --rebuild",
        ));
}

#[test]
fn a_missing_index_says_how_to_make_one() {
    let empty = TempDir::new().unwrap();
    geonews(&empty.path().join("nothing"))
        .args(["search", "sanctions"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "run `geonews index PATH...` first",
        ));
}

#[test]
fn extract_prints_entities_per_article_without_indexing() {
    let index = TempDir::new().unwrap();
    let output = geonews(&index.path().join("unused"))
        .args(["extract", "--format", "jsonl"])
        .arg(articles().join("jsonl/wire-sanctions-landmines.jsonl"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8(output)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 7);
    let first = &lines[0];
    assert_eq!(first["id"], "gn-2024-0001");
    let korea = first["countries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|country| country["key"] == "NorthKorea")
        .expect("North Korea extracted");
    assert_eq!(korea["iso2"], "KP");
    assert!(korea["mentions"].as_u64().unwrap() >= 2);
    assert!(
        first["topics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|topic| topic["key"] == "sanctions")
    );
    assert!(
        !index.path().join("unused").exists(),
        "extract must not create an index"
    );
}

#[test]
fn extract_text_prints_each_article_as_indexed() {
    let index = TempDir::new().unwrap();
    let output = geonews(index.path())
        .args(["extract", "--text"])
        .arg(articles().join("jsonl/wire-sanctions-landmines.jsonl"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8(output).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["id"], "gn-2024-0001");
    for field in ["published", "url", "source", "language", "summary"] {
        assert!(first.get(field).is_some(), "{field} missing: {first}");
    }
    assert!(first["body"].as_str().unwrap().len() > 200, "{first}");
    assert!(first["countries"].is_array());
    geonews(index.path())
        .args(["extract", "--text", "-f", "text"])
        .arg(articles().join("jsonl/wire-sanctions-landmines.jsonl"))
        .assert()
        .success()
        .stdout(predicate::str::contains("gn-2024-0001  "))
        .stdout(predicate::str::contains("country  "));
}

#[test]
fn a_schema_folder_replaces_built_in_dictionaries() {
    let schema = TempDir::new().unwrap();
    fs::write(
        schema.path().join("topics.toml"),
        "threshold = 2.0\ntitle_weight = 2.0\n\n[[topic]]\nkey = \"polar\"\nname = \"Polar affairs\"\nphrases = [{ text = \"penguin*\", weight = 1.0 }]\n",
    )
    .unwrap();
    let index = TempDir::new().unwrap();
    let article = "{\"id\": \"p1\", \"title\": \"Penguins counted\", \"body\": \"Scientists counted penguins near Ushuaia, Argentina.\"}\n";
    geonews(index.path())
        .arg("--schema")
        .arg(schema.path())
        .args(["index", "-"])
        .write_stdin(article)
        .assert()
        .success();
    let mut with_schema = geonews(index.path());
    with_schema.arg("--schema").arg(schema.path());
    let results = json(with_schema.args(["search", "-f", "json", "topic:polar country:Argentina"]));
    assert_eq!(hit_ids(&results), ["p1"]);
    // The built-in dictionaries know no such topic, and say the index was built with others.
    geonews(index.path())
        .args(["search", "topic:polar"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("dictionaries changed"))
        .stderr(predicate::str::contains("unknown topic `polar`"));
    // Re-indexing every article with the built-in dictionaries refreshes the facets.
    geonews(index.path())
        .args(["index", "-"])
        .write_stdin(article)
        .assert()
        .success()
        .stderr(predicate::str::contains("0 new, 1 updated"));
    geonews(index.path())
        .args(["search", "penguins"])
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}

#[test]
fn an_invalid_schema_file_is_named_in_the_error() {
    let schema = TempDir::new().unwrap();
    fs::write(schema.path().join("topics.toml"), "treshold = 2.0\n").unwrap();
    let index = TempDir::new().unwrap();
    geonews(index.path())
        .arg("--schema")
        .arg(schema.path())
        .args(["index"])
        .arg(articles())
        .assert()
        .failure()
        .stderr(predicate::str::contains("topics.toml"))
        .stderr(predicate::str::contains("treshold"));
}

#[test]
fn the_index_location_comes_from_the_environment() {
    let chosen = TempDir::new().unwrap();
    assert_cmd::Command::new(binary())
        .env("GEONEWS_INDEX", chosen.path())
        .arg("index")
        .arg(articles().join("json"))
        .assert()
        .success();
    assert!(chosen.path().join("CURRENT").exists());

    let data_home = TempDir::new().unwrap();
    assert_cmd::Command::new(binary())
        .env_remove("GEONEWS_INDEX")
        .env("XDG_DATA_HOME", data_home.path())
        .arg("index")
        .arg(articles().join("json"))
        .assert()
        .success();
    assert!(data_home.path().join("geonews/index/CURRENT").exists());
}

#[test]
fn extract_explains_which_rule_kept_or_rejected_each_surface_form() {
    let article = r#"{"id":"x1","title":"Jordan and Georgia talks","published":"1987-03-01","body":"AMMAN, March 1 - Michael Jordan visited Moscow. Voters in Georgia lined up in Atlanta."}"#;
    let output = geonews(Path::new("unused"))
        .args(["extract", "--explain", "-"])
        .write_stdin(article)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let line: Value = serde_json::from_slice(&output).unwrap();
    let decisions = line["explain"].as_array().unwrap();
    let find = |surface: &str, kept: bool| {
        decisions
            .iter()
            .find(|d| d["surface"] == surface && d["kept"] == kept)
            .unwrap_or_else(|| panic!("no {surface} kept={kept}: {decisions:#?}"))
            .clone()
    };
    assert_eq!(find("AMMAN", true)["rule"], "dateline");
    assert_eq!(find("AMMAN", true)["key"], "Jordan");
    assert!(
        find("Georgia", false)["rule"]
            .as_str()
            .unwrap()
            .contains("another place")
    );
    let moscow = find("Moscow", true);
    assert!(
        moscow["rule"]
            .as_str()
            .unwrap()
            .contains("counts for SovietUnion"),
        "{moscow}"
    );
    assert_eq!(
        moscow["offset"], 66,
        "title, blank line, then 40 bytes into the body"
    );
    let countries: Vec<&str> = line["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(countries, ["Jordan", "SovietUnion", "UnitedStates"]);
}

#[test]
fn eval_scores_the_fixture_set() {
    let fixtures = repo_path("tests/fixtures/modern-gold.jsonl");
    let report = json(
        geonews(Path::new("unused"))
            .args(["eval", "-f", "json", "--per-label", "--gold"])
            .arg(&fixtures),
    );
    assert_eq!(report["articles"], 60);
    let field = |name: &str| {
        report["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|field| field["field"] == name)
            .unwrap()
            .clone()
    };
    let countries = field("countries");
    assert!(countries["f1"].as_f64().unwrap() >= 0.95, "{countries:#}");
    assert!(countries["per_label"].as_array().unwrap().len() > 30);
    geonews(Path::new("unused"))
        .args(["eval", "--gold"])
        .arg(&fixtures)
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "scored 60 articles with gold labels\n",
        ))
        .stdout(predicate::str::is_match("(?m)^countries +precision 0\\.9").unwrap());
    geonews(Path::new("unused"))
        .args(["eval", "--gold"])
        .arg(repo_path("sample-corpus/articles/csv"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no article carries a `gold` object",
        ));
}

#[test]
fn the_writer_memory_budget_is_a_size_with_a_floor() {
    let dir = TempDir::new().unwrap();
    geonews(dir.path())
        .args(["index", "--memory", "16MB"])
        .arg(articles())
        .assert()
        .success();
    let stats = json(geonews(dir.path()).args(["stats", "--format", "json"]));
    assert_eq!(stats["articles"], 66, "the least budget indexes everything");
    for (size, complaint) in [
        ("10MB", "at least 15000000 bytes"),
        ("lots", "`lots` is not a size"),
        ("5TB", "unknown unit `tb`"),
        ("9GB", "at most"),
    ] {
        geonews(&dir.path().join("other"))
            .args(["index", "--memory", size])
            .arg(articles())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(complaint));
    }
}
