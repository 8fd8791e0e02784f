//! Entity types are data: a schema folder adds a facet over a dictionary of its own, and every
//! command filters, counts and shows it without a change to the code.

mod common;

use std::path::Path;

use common::*;
use predicates::prelude::*;
use tempfile::TempDir;

const WEAPONS: &str = r#"
[[entity]]
key = "Himars"
name = "HIMARS"
names = ["M142", "High Mobility Artillery Rocket System"]

[[entity]]
key = "Shahed136"
name = "Shahed-136"
names = ["Geran-2"]
country = "Iran"
"#;

const WEAPON_FIELD: &str = r#"
[[field]]
name = "weapon"
type = "facet"
dictionary = "weapons"
query_names = ["weapon", "weapons"]
"#;

const ARTICLES: &str = r#"{"id": "w-1", "title": "Kyiv receives more HIMARS launchers", "body": "Ukraine said on Tuesday that a new batch of M142 launchers had arrived from the United States."}
{"id": "w-2", "title": "Drone strikes on Odesa", "body": "Russia launched Shahed-136 drones, known in Russia as Geran-2, at the port of Odesa overnight. HIMARS units were not involved."}
{"id": "w-3", "title": "Grain talks resume in Istanbul", "body": "Turkey hosted the talks on grain exports."}
"#;

/// A schema folder with the built-in fields plus a `weapon` facet, and weapons.toml.
fn weapons_schema() -> TempDir {
    let schema = TempDir::new().unwrap();
    let fields = std::fs::read_to_string(repo_path("schema/fields.toml")).unwrap();
    std::fs::write(schema.path().join("fields.toml"), fields + WEAPON_FIELD).unwrap();
    std::fs::write(schema.path().join("weapons.toml"), WEAPONS).unwrap();
    schema
}

fn with_schema(index: &Path, schema: &Path) -> assert_cmd::Command {
    let mut command = geonews(index);
    command.arg("--schema").arg(schema);
    command
}

fn indexed(schema: &Path) -> TempDir {
    let index = TempDir::new().unwrap();
    let input = TempDir::new().unwrap();
    let articles = input.path().join("weapons.jsonl");
    std::fs::write(&articles, ARTICLES).unwrap();
    with_schema(index.path(), schema)
        .arg("index")
        .arg(&articles)
        .assert()
        .success();
    index
}

#[test]
fn an_added_dictionary_gives_a_filter_counts_and_hit_text() {
    let schema = weapons_schema();
    let index = indexed(schema.path());
    let sorted_ids = |results: &serde_json::Value| {
        let mut ids = hit_ids(results);
        ids.sort();
        ids
    };
    let search = |query: &str| {
        let output = with_schema(index.path(), schema.path())
            .args(["search", query, "-f", "json", "--facets", "weapon"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    // Any name of an entity finds it; the key is what the facet counts.
    for query in ["weapon:HIMARS", "weapon:M142", "weapons:himars"] {
        assert_eq!(sorted_ids(&search(query)), ["w-1", "w-2"], "{query}");
    }
    assert_eq!(hit_ids(&search("weapon:Geran-2")), ["w-2"]);
    let counts = &search("")["facets"][0];
    assert_eq!(counts["field"], "weapon");
    assert_eq!(counts["values"][0]["key"], "Himars");
    assert_eq!(counts["values"][0]["count"], 2);
    assert_eq!(counts["values"][1]["key"], "Shahed136");
    let hit = &search("weapon:Shahed136")["hits"][0];
    assert_eq!(hit["entities"]["weapons"][0]["key"], "Shahed136");
    assert_eq!(
        hit["entities"]["weapons"][0]["evidence"],
        serde_json::json!(["Shahed-136", "Geran-2"])
    );

    with_schema(index.path(), schema.path())
        .args(["search", "weapon:Shahed136", "--facets", "weapon"])
        .assert()
        .success()
        .stdout(predicate::str::contains("weapon: Shahed136, Himars"))
        .stdout(predicate::str::contains(
            "weapon  Himars 2 · Shahed136 1 (counted without the weapon filter)",
        ));
    with_schema(index.path(), schema.path())
        .args(["show", "w-2"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "weapon   Shahed136 (2: Shahed-136, Geran-2); Himars (1: HIMARS)",
        ));
    with_schema(index.path(), schema.path())
        .args(["facets", "weapon"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 values of weapon in 3 articles"));
    with_schema(index.path(), schema.path())
        .args(["search", "weapon:Himmars"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean: Himars?"));
}

#[test]
fn extract_shows_the_added_entities_with_their_rule() {
    let schema = weapons_schema();
    let input = TempDir::new().unwrap();
    let articles = input.path().join("weapons.jsonl");
    std::fs::write(&articles, ARTICLES).unwrap();
    with_schema(input.path(), schema.path())
        .args(["extract", "-f", "text", "--explain"])
        .arg(&articles)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "weapon   Himars (2: HIMARS, M142)",
        ))
        .stdout(predicate::str::contains("  weapons Himars"));
}

#[test]
fn a_dictionary_without_its_file_or_with_a_bad_entry_is_named() {
    let schema = TempDir::new().unwrap();
    let fields = std::fs::read_to_string(repo_path("schema/fields.toml")).unwrap();
    std::fs::write(schema.path().join("fields.toml"), fields + WEAPON_FIELD).unwrap();
    let index = TempDir::new().unwrap();
    with_schema(index.path(), schema.path())
        .args(["search", "x"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "dictionary `weapons` has no file: put weapons.toml in the --schema folder",
        ));
    std::fs::write(
        schema.path().join("weapons.toml"),
        "[[entity]]\nkey = \"Himars\"\nname = \"HIMARS\"\ncountry = \"Atlantis\"\n",
    )
    .unwrap();
    with_schema(index.path(), schema.path())
        .args(["search", "x"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "weapons.toml: `Himars` names unknown country `Atlantis`",
        ));
}

#[test]
fn the_publication_date_is_whichever_datetime_field_the_schema_declares() {
    let schema = TempDir::new().unwrap();
    let fields = std::fs::read_to_string(repo_path("schema/fields.toml")).unwrap();
    let renamed = fields.replace("name = \"published\"", "name = \"issued\"");
    std::fs::write(schema.path().join("fields.toml"), &renamed).unwrap();
    let index = TempDir::new().unwrap();
    with_schema(index.path(), schema.path())
        .arg("index")
        .arg(articles())
        .assert()
        .success();
    let output = with_schema(index.path(), schema.path())
        .args([
            "search",
            "date:2025",
            "--sort",
            "date",
            "-n",
            "100",
            "-f",
            "json",
        ])
        .output()
        .unwrap();
    let results: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let dates: Vec<&str> = results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["published"].as_str().unwrap())
        .collect();
    assert!(dates.len() > 5, "{results}");
    assert!(
        dates.iter().all(|date| date.starts_with("2025")),
        "{dates:?}"
    );
    assert!(dates.is_sorted(), "{dates:?}");

    let two_dates = format!("{renamed}\n[[field]]\nname = \"updated\"\ntype = \"datetime\"\n");
    std::fs::write(schema.path().join("fields.toml"), two_dates).unwrap();
    with_schema(index.path(), schema.path())
        .args(["search", "x"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "declare exactly one datetime field, the publication date (found issued, updated)",
        ));
}
