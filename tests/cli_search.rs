//! `geonews search`, `facets`, `stats` and `show` on the sample corpus.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::*;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

/// One index of the sample articles for every read-only test here.
fn index() -> &'static Path {
    static INDEX: OnceLock<TempDir> = OnceLock::new();
    INDEX.get_or_init(sample_index).path()
}

fn ids(query: &str) -> Vec<String> {
    let mut ids = hit_ids(&search(index(), query));
    ids.sort();
    ids
}

fn has_country(hit: &Value, key: &str) -> bool {
    hit["entities"]["countries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|country| country["key"] == key)
}

#[test]
fn facet_filters_find_the_north_korea_sanctions_stories() {
    let found = ids("country:NorthKorea topic:sanctions");
    for id in ["gn-2024-0001", "gn-2024-0002", "gn-2024-0003"] {
        assert!(
            found.contains(&id.to_owned()),
            "{id} missing from {found:?}"
        );
    }
}

#[test]
fn facet_values_resolve_through_aliases_case_and_codes() {
    let expected = ids("country:NorthKorea topic:sanctions");
    assert!(!expected.is_empty());
    for query in [
        "country:DPRK topic:sanctions",
        "country:\"North Korea\" topic:sanctions",
        "country:north-korea topic:sanctions",
        "country:KP topic:Sanctions",
    ] {
        assert_eq!(ids(query), expected, "{query}");
    }
}

#[test]
fn keywords_are_anded_and_stemmed() {
    let both = ids("landmine clearance");
    let landmines = ids("landmines");
    assert!(!both.is_empty() && both.len() <= landmines.len());
    assert!(both.iter().all(|id| landmines.contains(id)));
    assert_eq!(ids("sanction"), ids("sanctions"));
}

#[test]
fn or_negation_phrases_and_parentheses() {
    let georgia = ids("country:Georgia");
    let jordan = ids("country:Jordan");
    let either = ids("country:Georgia OR country:Jordan");
    let mut union: Vec<String> = georgia.iter().chain(&jordan).cloned().collect();
    union.sort();
    union.dedup();
    assert!(!georgia.is_empty() && !jordan.is_empty());
    assert_eq!(either, union);
    let without_russia = search(index(), "sanctions -country:Russia");
    assert!(total(&without_russia) > 0);
    assert!(
        without_russia["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|hit| !has_country(hit, "Russia"))
    );
    let with_russia = ids("sanctions country:Russia");
    assert_eq!(
        total(&without_russia) as usize + with_russia.len(),
        ids("sanctions").len()
    );
    let phrase = ids("\"mine clearance\"");
    assert!(phrase.iter().all(|id| ids("mine clearance").contains(id)));
    let jordan_only: Vec<String> = jordan
        .iter()
        .filter(|id| !georgia.contains(id))
        .cloned()
        .collect();
    assert_eq!(
        ids("(country:Georgia OR country:Jordan) -country:Georgia"),
        jordan_only
    );
    assert!(ids("-landmines").len() + ids("landmines").len() == ids("").len());
    // Words with nothing to search for (punctuation, over-long tokens) constrain nothing.
    assert_eq!(ids("sanctions , ;"), ids("sanctions"));
    assert_eq!(ids("-, sanctions"), ids("sanctions"));
    assert_eq!(
        ids(&format!("sanctions -{}", "x".repeat(60))),
        ids("sanctions")
    );
}

#[test]
fn dates_filter_by_day_month_year_and_range() {
    let all = search(index(), "");
    let in_2024 = total(&search(index(), "date:2024"));
    let before_2024 = total(&search(index(), "before:2024"));
    let after_2025 = total(&search(index(), "after:2025-01-01"));
    let undated = json(geonews(index()).args(["stats", "-f", "json"]))["undated"]
        .as_u64()
        .unwrap();
    assert_eq!(before_2024 + in_2024 + after_2025 + undated, total(&all));
    let range = search(index(), "date:2024-01..2024-03");
    for hit in range["hits"].as_array().unwrap() {
        let date = hit["published"].as_str().unwrap();
        assert!(("2024-01-01".."2024-04-01").contains(&date), "{date}");
    }
}

#[test]
fn source_and_region_filters() {
    let sample_times = search(index(), "source:\"Sample Times\"");
    assert!(total(&sample_times) >= 5);
    assert!(
        sample_times["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|hit| hit["source"] == "Sample Times")
    );
    assert_eq!(ids("source:sampletimes"), ids("source:\"sample times\""));
    let east_asia = ids("region:EastAsia");
    let asia = ids("region:Asia");
    assert!(!east_asia.is_empty() && east_asia.iter().all(|id| asia.contains(id)));
    assert!(
        ids("country:NorthKorea")
            .iter()
            .all(|id| east_asia.contains(id))
    );
    // Groupings outside the UN tree hold their member countries.
    let middle_east = ids("region:MiddleEast");
    let iran = ids("country:Iran");
    assert!(
        !iran.is_empty() && iran.iter().all(|id| middle_east.contains(id)),
        "{middle_east:?}"
    );
}

#[test]
fn hits_carry_dates_sources_facets_and_snippets() {
    let results = search(index(), "landmines country:Cambodia");
    let hit = &results["hits"][0];
    assert_eq!(hit["id"], "gn-2024-0005");
    assert!(hit["published"].as_str().unwrap().starts_with("2024-11-25"));
    assert!(has_country(hit, "Cambodia"));
    let snippet = &hit["snippet"];
    let (start, end) = (
        snippet["highlights"][0][0].as_u64().unwrap(),
        snippet["highlights"][0][1].as_u64().unwrap(),
    );
    let highlighted = &snippet["text"].as_str().unwrap()[start as usize..end as usize];
    assert!(
        highlighted.to_lowercase().starts_with("landmine"),
        "{highlighted}"
    );
}

#[test]
fn text_output_lists_hits_and_facet_counts() {
    geonews(index())
        .args(["search", "country:NorthKorea", "--facets", "country,topic"])
        .assert()
        .success()
        .stdout(predicate::str::contains("hits for country:NorthKorea"))
        .stdout(predicate::str::is_match("(?m)^country  UnitedStates 40 · Russia").unwrap())
        .stdout(predicate::str::contains(
            "(counted without the country filter)",
        ))
        .stdout(predicate::str::contains(
            "         military 2\n           missiles 1\n",
        ))
        .stdout(predicate::str::contains("\x1b[").not());
    geonews(index())
        .args(["--color", "always", "search", "landmines"])
        .assert()
        .stdout(predicate::str::contains("\x1b[1;33m"));
}

fn sorted_hits(sort: &str, query: &str, limit: usize, offset: usize) -> Value {
    json(geonews(index()).args([
        "search",
        &format!("--sort={sort}"),
        "-f",
        "json",
        "-n",
        &limit.to_string(),
        "--offset",
        &offset.to_string(),
        "--",
        query,
    ]))
}

fn published(results: &Value) -> Vec<Option<&str>> {
    results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["published"].as_str())
        .collect()
}

#[test]
fn sort_by_date_both_ways_with_undated_last() {
    let oldest_first = sorted_hits("date", "", 500, 0);
    let newest_first = sorted_hits("-date", "", 500, 0);
    for (results, ascending) in [(&oldest_first, true), (&newest_first, false)] {
        let dates = published(results);
        let dated = dates.iter().take_while(|date| date.is_some()).count();
        assert!(
            dated < dates.len(),
            "the sample corpus has undated articles"
        );
        assert!(dates[dated..].iter().all(Option::is_none), "{dates:?}");
        assert!(
            dates[..dated].windows(2).all(|pair| if ascending {
                pair[0] <= pair[1]
            } else {
                pair[0] >= pair[1]
            }),
            "{dates:?}"
        );
    }
    assert_eq!(
        published(&sorted_hits("relevance", "", 500, 0)),
        published(&newest_first),
        "without free text, relevance means newest first"
    );
}

#[test]
fn text_without_words_does_not_rank_by_relevance() {
    for query in [",", "\"...\""] {
        assert_eq!(
            published(&sorted_hits("relevance", query, 500, 0)),
            published(&sorted_hits("relevance", "", 500, 0)),
            "{query}: newest first, as with no text"
        );
    }
}

#[test]
fn pages_concatenate_to_the_whole_list_in_every_order() {
    for sort in ["relevance", "date", "-date"] {
        for query in ["sanctions", "", "country:Russia"] {
            let whole = hit_ids(&sorted_hits(sort, query, 500, 0));
            let paged: Vec<String> = (0..whole.len())
                .step_by(5)
                .flat_map(|offset| hit_ids(&sorted_hits(sort, query, 5, offset)))
                .collect();
            assert_eq!(paged, whole, "--sort {sort} {query:?}");
        }
    }
}

#[test]
fn jsonl_prints_one_hit_a_line() {
    let output = geonews(index())
        .args(["search", "--format", "jsonl", "-n", "3", "sanctions"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<Value> = String::from_utf8(output)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines
            .iter()
            .all(|hit| hit["id"].is_string() && hit["entities"].is_object())
    );
}

#[test]
fn facets_agree_with_search_totals() {
    let counts = json(geonews(index()).args([
        "facets",
        "country",
        "--format",
        "json",
        "--",
        "topic:sanctions",
    ]));
    let values = counts["values"].as_array().unwrap();
    assert!(values.len() >= 3, "{counts:#}");
    for value in values {
        let key = value["key"].as_str().unwrap();
        let query = format!("topic:sanctions country:{key}");
        assert_eq!(
            total(&search(index(), &query)),
            value["count"].as_u64().unwrap(),
            "{query}"
        );
    }
    assert_eq!(
        counts["total"].as_u64(),
        Some(total(&search(index(), "topic:sanctions")))
    );
}

#[test]
fn multi_select_counts_equal_separate_searches() {
    let compared = assert_facet_counts_match_searches(
        index(),
        "country:(Russia OR Ukraine) -topic:elections after:2017-01-01",
        &[
            ("country", "-topic:elections after:2017-01-01"),
            ("topic", "country:(Russia OR Ukraine) after:2017-01-01"),
            (
                "region",
                "country:(Russia OR Ukraine) -topic:elections after:2017-01-01",
            ),
        ],
    );
    assert!(compared >= 15, "only {compared} values compared");
}

#[test]
fn facets_json_snapshot() {
    let counts = json(geonews(index()).args([
        "facets",
        "topic",
        "-n",
        "5",
        "-f",
        "json",
        "country:NorthKorea",
    ]));
    insta::assert_json_snapshot!(counts);
}

#[test]
fn search_json_snapshot() {
    let results = json(geonews(index()).args([
        "search",
        "-f",
        "json",
        "-n",
        "1",
        "--facets",
        "country",
        "--facet-limit",
        "3",
        "landmines country:Cambodia",
    ]));
    insta::assert_json_snapshot!(results, { ".hits[].score" => "[score]" });
}

#[test]
fn query_errors_point_at_the_column_and_exit_2() {
    geonews(index())
        .args(["search", "country:Narnia"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown country `Narnia` (column 9)",
        ))
        .stderr(predicate::str::contains("        ^^^^^^"));
    geonews(index())
        .args(["search", "--", "topic:sanktions"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean: sanctions?"));
    geonews(index())
        .args(["search", "(sanctions"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("never closed (column 1)"));
}

#[test]
fn sources_count_like_facets_and_unknown_fields_are_refused() {
    let counts = json(geonews(index()).args(["facets", "source", "-f", "json"]));
    let sample_times = counts["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|value| value["key"] == "Sample Times")
        .expect("Sample Times counted");
    assert_eq!(
        sample_times["count"].as_u64(),
        Some(total(&search(index(), "source:\"Sample Times\"")))
    );
    geonews(index())
        .args(["search", "--facets", "country,colour", "sanctions"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`colour` cannot be counted: choose from source, language, country",
        ));
}

#[test]
fn huge_limits_and_offsets_are_clamped() {
    for args in [
        ["-n", "18446744073709551615"],
        ["--offset", "18446744073709551615"],
        ["-n", "100000000000"],
    ] {
        let results = json(
            geonews(index())
                .args(["search", "-f", "json"])
                .args(args)
                .arg("sanctions"),
        );
        assert_eq!(
            results["total"],
            total(&search(index(), "sanctions")),
            "{args:?}"
        );
    }
}

#[test]
fn stats_report_articles_dates_size_and_facets() {
    let stats = json(geonews(index()).args(["stats", "--format", "json"]));
    assert_eq!(stats["articles"], 66);
    assert!(stats["earliest"].as_str().unwrap() < stats["latest"].as_str().unwrap());
    assert!(stats["size_bytes"].as_u64().unwrap() > 10_000);
    let fields: Vec<&str> = stats["facets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "source", "language", "country", "about", "region", "topic", "person", "org", "cluster"
        ]
    );
    geonews(index())
        .arg("stats")
        .assert()
        .success()
        .stdout(predicate::str::contains("articles  66"));
}

#[test]
fn show_prints_one_article_or_says_it_is_missing() {
    geonews(index())
        .args(["show", "gn-2024-0002"])
        .assert()
        .success()
        .stdout(predicate::str::contains("country  "))
        .stdout(predicate::str::contains("NorthKorea ("));
    geonews(index())
        .args(["show", "no-such-id"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "no article with id \"no-such-id\"",
        ));
}

#[test]
fn broken_pipe_exits_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(binary())
        .args(["--index"])
        .arg(index())
        .args(["search", "-n", "60", ""])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn related_articles_share_words_and_entities_and_say_which() {
    let related = json(geonews(index()).args(["related", "gn-2024-0002", "-n", "5", "-f", "json"]));
    assert_eq!(related["id"], "gn-2024-0002");
    let hits = related["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 5);
    assert!(
        hits.iter().all(|hit| hit["id"] != "gn-2024-0002"),
        "not itself"
    );
    let first_shared = &hits[0]["shared"];
    assert!(
        first_shared
            .as_array()
            .unwrap()
            .iter()
            .any(|values| values["field"] == "country"
                && values["keys"]
                    .as_array()
                    .unwrap()
                    .contains(&"NorthKorea".into())),
        "{first_shared}"
    );
    geonews(index())
        .args(["related", "gn-2024-0002", "-n", "2"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("2 articles like gn-2024-0002"))
        .stdout(predicate::str::contains("shares country: "));
    geonews(index())
        .args(["related", "no-such-id"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no article with id \"no-such-id\"",
        ));
}

#[test]
fn region_counts_are_a_tree_down_to_countries() {
    let counts = json(geonews(index()).args(["facets", "region", "-f", "json", "topic:sanctions"]));
    let child = |value: &Value, key: &str| -> Value {
        value["children"]
            .as_array()
            .unwrap_or_else(|| panic!("no children: {value}"))
            .iter()
            .find(|child| child["key"] == key)
            .unwrap_or_else(|| panic!("no {key} under {value}"))
            .clone()
    };
    let root = Value::Object(
        [("children".to_owned(), counts["values"].clone())]
            .into_iter()
            .collect(),
    );
    let east_asia = child(&child(&root, "Asia"), "EastAsia");
    let north_korea = child(&east_asia, "NorthKorea");
    assert_eq!(
        north_korea["count"].as_u64(),
        Some(total(&search(
            index(),
            "topic:sanctions country:NorthKorea"
        )))
    );
    geonews(index())
        .args(["facets", "region", "topic:sanctions"])
        .assert()
        .success()
        .stdout(predicate::str::is_match("(?m)^  Asia +[0-9]+\n    EastAsia +[0-9]+\n").unwrap());
}

/// The JSON lines `search --batch` printed for `queries` on standard input.
fn batch(queries: impl Into<Vec<u8>>, extra: &[&str]) -> (Vec<Value>, Option<i32>) {
    let output = geonews(index())
        .args(["search", "--batch", "-"])
        .args(extra)
        .write_stdin(queries.into())
        .output()
        .unwrap();
    let lines = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (lines, output.status.code())
}

#[test]
fn batch_answers_each_query_as_a_single_search_would() {
    let queries = [
        "country:NorthKorea topic:sanctions",
        "landmines",
        "\"mine clearance\" country:Cambodia",
        "country:Russia date:2024",
    ];
    let (answers, code) = batch(format!("{}\n\n# a comment\n", queries.join("\n")), &[]);
    assert_eq!(code, Some(0));
    assert_eq!(
        answers.len(),
        queries.len(),
        "blank and # lines are skipped"
    );
    for (query, answer) in queries.iter().zip(&answers) {
        let single = search(index(), query);
        assert_eq!(answer["query"], *query);
        assert_eq!(answer["total"], single["total"], "{query}");
        let ids: Vec<String> = serde_json::from_value(answer["ids"].clone()).unwrap();
        let single_ids = hit_ids(&single);
        assert_eq!(
            ids,
            single_ids[..ids.len()],
            "{query}: same order, first page"
        );
        assert_eq!(ids.len(), single_ids.len().min(10));
        assert_eq!(answer["facets"], single["facets"], "{query}");
        assert!(answer["latency_us"].as_u64().is_some(), "{answer}");
    }
}

#[test]
fn batch_reports_a_bad_query_with_its_column_and_goes_on() {
    let queries = b"country:Narnia\nlandmines\nmines \xff\n".to_vec();
    let (answers, code) = batch(queries, &["--facets", ""]);
    assert_eq!(code, Some(2), "a bad line makes the exit code 2");
    assert_eq!(answers[0]["error"], "unknown country `Narnia`");
    assert_eq!(answers[0]["column"], 9);
    assert!(answers[1]["total"].as_u64().unwrap() > 0);
    assert!(
        answers[1].get("facets").is_none(),
        "no facets asked, none printed"
    );
    assert_eq!(answers[2]["error"], "not valid UTF-8");
    assert_eq!(answers[2]["column"], 7);
}

#[test]
fn batch_reads_a_file_and_names_it_when_missing() {
    let dir = TempDir::new().unwrap();
    let queries = dir.path().join("queries.txt");
    std::fs::write(&queries, "landmines\n").unwrap();
    let answer = json(
        geonews(index())
            .args(["search", "-n", "2", "--sort", "-date", "--batch"])
            .arg(&queries),
    );
    let newest = json(geonews(index()).args([
        "search",
        "-f",
        "json",
        "-n",
        "2",
        "--sort",
        "-date",
        "landmines",
    ]));
    assert_eq!(
        serde_json::from_value::<Vec<String>>(answer["ids"].clone()).unwrap(),
        hit_ids(&newest),
        "--sort and -n apply to each query of the batch"
    );
    geonews(index())
        .args(["search", "--batch"])
        .arg(dir.path().join("absent.txt"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("absent.txt"));
}

#[test]
fn batch_takes_no_query_of_its_own() {
    geonews(index())
        .args(["search", "--batch", "-", "landmines"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}

#[test]
fn json_lines_is_one_object_a_line_for_every_command() {
    let index = sample_index();
    let lines = |args: &[&str]| -> Vec<serde_json::Value> {
        let output = geonews(index.path()).args(args).assert().success();
        let stdout = String::from_utf8(output.get_output().stdout.clone()).unwrap();
        stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{args:?}: {e}: {line}"))
            })
            .collect()
    };
    let gold = repo_path("tests/fixtures/modern-gold.jsonl");
    let gold = gold.to_str().unwrap();
    // Commands that answer with one object print it on one line.
    for args in [
        &["stats", "-f", "jsonl"][..],
        &["show", "gn-2024-0002", "-f", "jsonl"],
        &["eval", "--gold", gold, "-f", "jsonl"],
    ] {
        let objects = lines(args);
        assert_eq!(objects.len(), 1, "{args:?}");
        assert!(objects[0].is_object(), "{args:?}");
    }
    assert_eq!(
        lines(&["show", "gn-2024-0002", "-f", "jsonl"])[0]["id"],
        "gn-2024-0002"
    );
    // Commands that answer with a list print an item a line.
    assert_eq!(
        lines(&["search", "topic:landmines", "-n", "3", "-f", "jsonl"]).len(),
        3
    );
    let facets = lines(&[
        "facets",
        "country",
        "topic:sanctions",
        "-n",
        "4",
        "-f",
        "jsonl",
    ]);
    assert_eq!(facets.len(), 4);
    assert!(facets[0]["key"].is_string() && facets[0]["count"].is_u64());
    let timeline = lines(&["timeline", "country:Russia", "--by", "year", "-f", "jsonl"]);
    assert!(timeline.iter().all(|bucket| bucket["label"].is_string()));
}

#[test]
fn stats_json_keeps_its_shape() {
    let index = sample_index();
    let stats = json(geonews(index.path()).args(["stats", "-f", "json", "--facet-limit", "2"]));
    insta::assert_json_snapshot!(stats, { ".size_bytes" => "[size]", ".segments" => "[segments]" });
}
