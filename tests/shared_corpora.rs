//! Acceptance on the real corpora in ../shared. Where it is absent, these tests are ignored
//! with that reason (build.rs sets `shared_data`), not passed.

mod common;

use common::*;
use predicates::prelude::*;
use tempfile::TempDir;

#[test]
#[cfg_attr(not(shared_data), ignore = "needs ../shared, absent on this machine")]
fn the_seed_article_is_found_by_country_and_topic_under_every_alias() {
    let seed = shared("seed-articles");
    let index = TempDir::new().unwrap();
    geonews(index.path())
        .arg("index")
        .arg(articles())
        .arg(&seed)
        .assert()
        .success();
    let results = search(index.path(), "country:NorthKorea topic:sanctions");
    let seed_hit = results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|hit| {
            hit["title"]
                .as_str()
                .unwrap()
                .starts_with("North Korean leader Kim Jong-un has confirmed")
        })
        .unwrap_or_else(|| panic!("seed article missing: {results:#}"));
    assert!(seed_hit["id"].as_str().unwrap().starts_with('h'));
    let about = hit_ids(&search(index.path(), "about:NorthKorea topic:sanctions"));
    assert!(
        about.contains(&seed_hit["id"].as_str().unwrap().to_owned()),
        "the seed article is about North Korea: {about:?}"
    );
    let expected = hit_ids(&results);
    for query in [
        "country:DPRK topic:sanctions",
        "country:\"North Korea\" topic:sanctions",
        "country:KP topic:sanctions",
    ] {
        assert_eq!(hit_ids(&search(index.path(), query)), expected, "{query}");
    }
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs ../shared, absent on this machine")]
fn all_shared_corpora_index_completely_and_a_second_run_adds_nothing() {
    let corpora = shared("corpora");
    let index = TempDir::new().unwrap();
    let first = geonews(index.path())
        .arg("index")
        .arg(&corpora)
        .output()
        .unwrap();
    let stderr = String::from_utf8(first.stderr).unwrap();
    // The only records skipped are the two with neither title nor body, named by file and line.
    assert_eq!(first.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("reuters-train.jsonl:12793: skipped: record has neither title nor body"),
        "{stderr}"
    );
    assert!(
        stderr.contains("NewsArticles.csv:1828: skipped: record has neither title nor body"),
        "{stderr}"
    );
    assert!(stderr.contains(", 2 skipped,"), "{stderr}");
    let stats = json(geonews(index.path()).args(["stats", "--format", "json"]));
    let articles = stats["articles"].as_u64().unwrap();
    // Reuters 15,390 + News 2017 3,824 + BBC 2,225 + Wikinews 295 + AG News 7,600, less the
    // two empty records and exact repeats.
    assert!((29_000..=29_332).contains(&articles), "{articles}");
    geonews(index.path())
        .arg("index")
        .arg(&corpora)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(" 0 new, 0 updated, "));
    let again = json(geonews(index.path()).args(["stats", "--format", "json"]));
    assert_eq!(again["articles"].as_u64(), Some(articles));
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs ../shared, absent on this machine")]
fn news2017_multi_select_counts_equal_separate_searches() {
    let news2017 = shared("corpora/news2017");
    let index = TempDir::new().unwrap();
    geonews(index.path())
        .arg("index")
        .arg(&news2017)
        .assert()
        .code(predicate::in_iter([0, 3]));
    let query = "country:(Russia OR Ukraine) -topic:elections after:2017-01-01";
    let compared = assert_facet_counts_match_searches(
        index.path(),
        query,
        &[
            ("country", "-topic:elections after:2017-01-01"),
            ("topic", "country:(Russia OR Ukraine) after:2017-01-01"),
            ("org", query),
        ],
    );
    assert!(compared >= 60, "only {compared} values compared");
}
