//! `geonews export`: the sample index as Elasticsearch bulk NDJSON and the mapping for it,
//! checked by parsing what is written.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;

use common::*;
use serde_json::{Map, Value};
use tempfile::TempDir;

/// The article the README's first search finds: North Korea, sanctions, landmines.
const SEED: &str = "gn-2024-0002";

fn index() -> &'static Path {
    static INDEX: OnceLock<TempDir> = OnceLock::new();
    INDEX.get_or_init(sample_index).path()
}

fn stdout_of(index: &Path, args: &[&str]) -> String {
    let output = geonews(index).args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The (action, document) pairs of `export --format es-bulk ARGS`, each line parsed alone.
fn bulk(index: &Path, args: &[&str]) -> Vec<(Value, Map<String, Value>)> {
    let mut command = vec!["export", "--format", "es-bulk"];
    command.extend_from_slice(args);
    let text = stdout_of(index, &command);
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "_bulk needs a final newline"
    );
    let lines: Vec<Value> = text
        .lines()
        .enumerate()
        .map(|(number, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("line {}: {error}: {line}", number + 1))
        })
        .collect();
    assert_eq!(lines.len() % 2, 0, "actions and documents alternate");
    lines
        .chunks(2)
        .map(|pair| {
            let (action, document) = (&pair[0], &pair[1]);
            let keys: Vec<&String> = action.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["index"], "an action line: {action}");
            let document = document.as_object().expect("a document line").clone();
            assert!(
                !document.contains_key("index"),
                "two actions in a row: {document:?}"
            );
            (action.clone(), document)
        })
        .collect()
}

fn strings<'a>(document: &'a Map<String, Value>, field: &str) -> Vec<&'a str> {
    document[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} is not an array"))
        .iter()
        .map(|value| value.as_str().unwrap())
        .collect()
}

fn mapping(index: &Path, args: &[&str]) -> Value {
    let mut command = vec!["export", "--format", "es-mapping"];
    command.extend_from_slice(args);
    serde_json::from_str(&stdout_of(index, &command)).expect("the mapping is JSON")
}

/// The names of the fields of a fields.toml.
fn field_names(fields_toml: &str) -> Vec<(String, String)> {
    let fields: toml::Value = toml::from_str(fields_toml).unwrap();
    fields["field"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| {
            let name = field["name"].as_str().unwrap().to_owned();
            (name, field["type"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn every_article_is_an_action_and_a_document_with_its_facets_and_paths() {
    let pairs = bulk(index(), &[]);
    let stats = json(geonews(index()).args(["stats", "-f", "json"]));
    assert_eq!(pairs.len() as u64, stats["articles"].as_u64().unwrap());
    let mut ids = HashSet::new();
    for (action, document) in &pairs {
        let id = action["index"]["_id"].as_str().unwrap();
        assert_eq!(action["index"]["_index"], "geonews");
        assert_eq!(document["id"], id);
        assert!(ids.insert(id.to_owned()), "{id} exported twice");
    }

    let (_, seed) = pairs
        .iter()
        .find(|(action, _)| action["index"]["_id"] == SEED)
        .expect("the seed article is exported");
    assert!(strings(seed, "country").contains(&"NorthKorea"));
    assert!(strings(seed, "country_path").contains(&"/Asia/EastAsia/NorthKorea"));
    assert!(strings(seed, "region_path").contains(&"/Asia"));
    assert!(strings(seed, "topic").contains(&"sanctions"));
    assert!(strings(seed, "topic_path").contains(&"/sanctions"));
    // The article as `show` prints it.
    let shown = json(geonews(index()).args(["show", SEED, "-f", "json"]));
    for field in ["title", "body", "published", "source", "url", "author"] {
        assert_eq!(seed[field], shown[field], "{field}");
    }
    assert_eq!(seed["published"], "2024-06-20T05:00:00Z");
    let countries: Vec<&str> = shown["entities"]["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|country| country["key"].as_str().unwrap())
        .collect();
    assert_eq!(strings(seed, "country"), countries);

    // Fields a record adds are exported too: Markdown front matter's tags.
    let (_, tagged) = pairs
        .iter()
        .find(|(action, _)| action["index"]["_id"] == "gn-2025-0051")
        .expect("the Gaza ceasefire article is exported");
    let tags = tagged["tags"].as_str().expect("its tags");
    assert!(tags.contains("diplomacy"), "{tags}");
}

#[test]
fn a_query_exports_its_matches_oldest_first_under_the_index_named() {
    let query = "country:NorthKorea topic:sanctions";
    let pairs = bulk(index(), &["--es-index", "news-2025", query]);
    let exported: Vec<&str> = pairs
        .iter()
        .map(|(action, _)| {
            assert_eq!(action["index"]["_index"], "news-2025");
            action["index"]["_id"].as_str().unwrap()
        })
        .collect();
    let searched = json(geonews(index()).args([
        "search", "-f", "json", "-n", "1000", "--sort", "date", "--", query,
    ]));
    assert_eq!(exported, hit_ids(&searched));
    assert!(exported.contains(&SEED));
    assert!(bulk(index(), &["xylophonic"]).is_empty());
}

#[test]
fn the_mapping_has_a_property_for_every_field_and_every_exported_key() {
    let mapping = mapping(index(), &[]);
    let properties = mapping["mappings"]["properties"].as_object().unwrap();
    let fields = std::fs::read_to_string(repo_path("schema/fields.toml")).unwrap();
    for (name, kind) in field_names(&fields) {
        assert!(properties.contains_key(&name), "no property for {name}");
        if kind == "facet" {
            assert!(properties.contains_key(&format!("{name}_path")), "{name}");
        }
    }
    assert_eq!(mapping["mappings"]["dynamic"], "strict");
    assert_eq!(properties["title"]["analyzer"], "english");
    assert_eq!(properties["published"]["type"], "date");
    let normalizer = properties["source"]["normalizer"].as_str().unwrap();
    assert!(mapping["settings"]["analysis"]["normalizer"][normalizer].is_object());
    // A strict mapping refuses unknown fields: every key of every document has a property.
    for (_, document) in bulk(index(), &[]) {
        for key in document.keys() {
            assert!(properties.contains_key(key), "no property for {key}");
        }
    }
}

#[test]
fn the_mapping_follows_the_schema_folder() {
    let schema = TempDir::new().unwrap();
    let fields = std::fs::read_to_string(repo_path("schema/fields.toml")).unwrap()
        + "\n[[field]]\nname = \"weapon\"\ntype = \"facet\"\ndictionary = \"weapons\"\n";
    std::fs::write(schema.path().join("fields.toml"), &fields).unwrap();
    std::fs::write(
        schema.path().join("weapons.toml"),
        "[[entity]]\nkey = \"Himars\"\nname = \"HIMARS\"\nnames = [\"M142\"]\n",
    )
    .unwrap();
    let index = TempDir::new().unwrap();
    let input = index.path().join("in.jsonl");
    std::fs::write(
        &input,
        r#"{"id": "w-1", "title": "Kyiv receives more HIMARS launchers", "body": "Ukraine said a new batch of M142 launchers had arrived."}"#,
    )
    .unwrap();
    let with_schema = |args: &[&str]| {
        let mut command = geonews(&index.path().join("idx"));
        command.arg("--schema").arg(schema.path()).args(args);
        command
    };
    with_schema(&["index"]).arg(&input).assert().success();
    let output = with_schema(&["export", "-f", "es-mapping"])
        .output()
        .unwrap();
    let mapping: Value = serde_json::from_slice(&output.stdout).unwrap();
    let properties = &mapping["mappings"]["properties"];
    for (name, _) in field_names(&fields) {
        assert!(properties.get(&name).is_some(), "no property for {name}");
    }
    assert_eq!(properties["weapon_path"]["type"], "keyword");
    let output = with_schema(&["export", "-f", "es-bulk"]).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let document: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(document["weapon"], serde_json::json!(["Himars"]));
    assert_eq!(document["weapon_path"], serde_json::json!(["/Himars"]));
}

#[test]
fn wrong_requests_are_usage_errors_that_say_what_is_wrong() {
    let cases: [(&[&str], &str); 3] = [
        (
            &["export", "-f", "es-mapping", "topic:sanctions"],
            "es-mapping takes no query",
        ),
        (
            &["export", "-f", "es-bulk", "--es-index", "My News"],
            "--es-index \"My News\"",
        ),
        (
            &["export", "-f", "es-bulk", "country:Narnia"],
            "unknown country",
        ),
    ];
    for (args, message) in cases {
        let output = geonews(index()).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    let missing = TempDir::new().unwrap();
    let output = geonews(&missing.path().join("none"))
        .args(["export", "-f", "es-bulk"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
}

#[test]
fn quickwit_documents_carry_the_analysed_words_and_facet_paths() {
    let text = stdout_of(index(), &["export", "--format", "quickwit"]);
    let documents: Vec<Map<String, Value>> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON document a line"))
        .collect();
    assert_eq!(documents.len(), 66);
    let seed = documents
        .iter()
        .find(|document| document["id"] == SEED)
        .expect("the seed article is exported");
    let title_words = seed["title_words"].as_str().unwrap();
    assert!(
        title_words.split(' ').any(|word| word == "sanction"),
        "{title_words}"
    );
    assert!(
        title_words.chars().all(|c| !c.is_uppercase()),
        "{title_words}"
    );
    let paths = seed["country_path"].as_array().unwrap();
    assert!(
        paths.contains(&Value::from("/Asia/EastAsia/NorthKorea")),
        "{paths:?}"
    );
    assert!(seed["gn_month"].is_i64());
    assert_eq!(seed["cluster"], SEED);
}
