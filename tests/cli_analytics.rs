//! `geonews timeline` and `geonews cooc` on the sample corpus.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::*;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

fn index() -> &'static Path {
    static INDEX: OnceLock<TempDir> = OnceLock::new();
    INDEX.get_or_init(sample_index).path()
}

fn counts(values: &Value) -> Vec<u64> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|value| value.as_u64().unwrap())
        .collect()
}

#[test]
fn timeline_buckets_and_undated_sum_to_the_hit_count() {
    for (query, by) in [
        ("", "year"),
        ("", "month"),
        ("sanctions", "week"),
        ("country:Russia", "day"),
    ] {
        let timeline =
            json(geonews(index()).args(["timeline", "--by", by, "-f", "json", "--", query]));
        let buckets = timeline["buckets"].as_array().unwrap();
        let dated: u64 = buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum();
        let total = timeline["total"].as_u64().unwrap();
        assert_eq!(
            dated + timeline["undated"].as_u64().unwrap(),
            total,
            "{query} by {by}"
        );
        assert_eq!(total, common::total(&search(index(), query)), "{query}");
        assert!(buckets.first().unwrap()["count"].as_u64() > Some(0));
    }
    let by_year = json(geonews(index()).args(["timeline", "--by", "year", "-f", "json"]));
    assert!(
        by_year["undated"].as_u64() > Some(0),
        "the sample has undated articles"
    );
}

#[test]
fn timeline_buckets_are_calendar_periods_matching_date_filters() {
    let by_month =
        json(geonews(index()).args(["timeline", "--by", "month", "-f", "json", "country:Russia"]));
    for bucket in by_month["buckets"].as_array().unwrap() {
        let label = bucket["label"].as_str().unwrap();
        let query = format!("country:Russia date:{label}");
        assert_eq!(
            bucket["count"].as_u64(),
            Some(total(&search(index(), &query))),
            "{query}"
        );
    }
}

#[test]
fn timeline_split_counts_each_series_per_bucket() {
    let timeline = json(geonews(index()).args([
        "timeline", "--by", "year", "--split", "country", "--top", "2", "-f", "json",
    ]));
    let series: Vec<&str> = timeline["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key.as_str().unwrap())
        .collect();
    assert_eq!(series.len(), 2);
    for bucket in timeline["buckets"].as_array().unwrap() {
        let year = bucket["label"].as_str().unwrap();
        for (key, count) in series.iter().zip(counts(&bucket["split"])) {
            let query = format!("country:{key} date:{year}");
            assert_eq!(count, total(&search(index(), &query)), "{query}");
        }
    }
    geonews(index())
        .args(["timeline", "--by", "year", "sanctions"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "11 articles by year, 2023 to 2025\n",
        ))
        .stdout(predicate::str::is_match("(?m)^  2025  █{50} 7$").unwrap());
    geonews(index())
        .args(["timeline", "--split", "colour"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`colour` cannot be counted"));
}

#[test]
fn cooc_lift_compares_the_results_with_the_whole_index() {
    let cooc = json(geonews(index()).args([
        "cooc",
        "country",
        "-f",
        "json",
        "--min-count",
        "1",
        "topic:sanctions",
    ]));
    let results = cooc["results"].as_u64().unwrap();
    let articles = cooc["articles"].as_u64().unwrap();
    assert_eq!(results, total(&search(index(), "topic:sanctions")));
    assert_eq!(articles, total(&search(index(), "")));
    let values = cooc["values"].as_array().unwrap();
    assert!(values.len() >= 5);
    let lifts: Vec<f64> = values.iter().map(|v| v["lift"].as_f64().unwrap()).collect();
    assert!(lifts.windows(2).all(|pair| pair[0] >= pair[1]), "{lifts:?}");
    for value in values {
        let key = value["key"].as_str().unwrap();
        let count = total(&search(index(), &format!("topic:sanctions country:{key}")));
        let index_count = total(&search(index(), &format!("country:{key}")));
        assert_eq!(value["count"].as_u64(), Some(count));
        assert_eq!(value["index_count"].as_u64(), Some(index_count));
        let lift = (count as f64 / results as f64) / (index_count as f64 / articles as f64);
        assert!(
            (value["lift"].as_f64().unwrap() - lift).abs() < 1e-9,
            "{value}"
        );
    }
    assert_eq!(values[0]["count"], 2, "two articles give the highest lift");
    let at_least_three =
        json(geonews(index()).args(["cooc", "country", "-f", "json", "topic:sanctions"]));
    assert_eq!(
        at_least_three["values"][0]["key"], "NorthKorea",
        "by default, only values in three articles or more"
    );
}

#[test]
fn cooc_with_two_fields_prints_a_pair_table() {
    let table = json(geonews(index()).args([
        "cooc",
        "country",
        "country",
        "-f",
        "json",
        "--size",
        "4",
        "topic:sanctions",
    ]));
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows, table["columns"].as_array().unwrap());
    let cells: Vec<Vec<u64>> = table["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(counts)
        .collect();
    for (r, row) in cells.iter().enumerate() {
        assert_eq!(row[r], 0, "no pair of a value with itself");
        for (c, &count) in row.iter().enumerate() {
            assert_eq!(count, cells[c][r], "symmetric");
            let query = format!(
                "topic:sanctions country:{} country:{}",
                rows[r].as_str().unwrap(),
                rows[c].as_str().unwrap()
            );
            if r != c {
                assert_eq!(count, total(&search(index(), &query)), "{query}");
            }
        }
    }
    geonews(index())
        .args(["cooc", "country", "topic", "topic:sanctions"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "country × topic in 10 articles",
        ));
}

#[test]
fn cooc_help_explains_lift() {
    geonews(index())
        .args(["cooc", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Lift = (share of the matching articles",
        ));
}

#[test]
fn timeline_json_snapshot() {
    let timeline = json(geonews(index()).args([
        "timeline",
        "--by",
        "year",
        "--split",
        "topic",
        "--top",
        "2",
        "-f",
        "json",
        "country:NorthKorea",
    ]));
    insta::assert_json_snapshot!(timeline);
}

#[test]
fn cooc_json_snapshot() {
    let cooc =
        json(geonews(index()).args(["cooc", "topic", "-n", "3", "-f", "json", "country:Russia"]));
    insta::assert_json_snapshot!(cooc);
}
