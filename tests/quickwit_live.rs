//! Live tests against a real Quickwit 0.9: geonews's answers from a Quickwit index against
//! those of the local index, over the same articles, and a three-node cluster that loses a
//! searcher mid-run. They run when `GEONEWS_QUICKWIT` names a quickwit binary (they start
//! their own nodes) or `GEONEWS_QUICKWIT_URL` a running node (the cluster test needs the
//! binary); otherwise they are ignored with that reason, never passed.

mod common;

use std::path::Path;

use common::quickwit::{NodeSpec, Quickwit, start, unique};
use common::*;
use serde_json::Value;
use tempfile::TempDir;

/// Queries over every part of the language: words, phrases, proximity, prefix, fuzzy, fields,
/// facets with their trees, keywords, dates, negation.
const QUERIES: [&str; 24] = [
    "",
    "sanctions",
    "landmine clearance country:NorthKorea topic:sanctions",
    "\"mine clearance\"~3",
    "sanct*",
    "sanktions~",
    "Pyongyang~1",
    "Jong-un",
    "title:ceasefire",
    "title:(mine* OR demining)",
    "mines country:Ukraine OR country:Iraq",
    "sanctions -country:Russia",
    "sanctions NOT protests",
    "-protests",
    "country:(Russia,Ukraine -Belarus)",
    "about:NorthKorea",
    "region:Asia -country:China",
    "region:Sahel",
    "topic:armed-conflict,terrorism",
    "topic:diplomacy",
    "person:\"Kim Jong-un\" OR org:IAEA",
    "source:\"Sample Times\" lang:en",
    "after:2024-06 before:2025-06",
    "date:2025 sanctions",
];

const FACETS: &str = "country,about,region,topic,person,org,source,language,cluster";

/// `geonews` reading and writing the Quickwit index `engine`.
fn on_quickwit(engine: &str, folder: &Path) -> assert_cmd::Command {
    let mut command = geonews(folder);
    command.arg("--engine").arg(engine);
    command
}

/// A local index and a Quickwit index of the same `paths`, the Quickwit one just created.
fn both_indexed(quickwit: &Quickwit, name: &str, paths: &[&Path]) -> (TempDir, String) {
    let local = TempDir::new().unwrap();
    let engine = quickwit.engine(name);
    let mut index = geonews(local.path());
    index.arg("index").args(paths);
    let local_status = index.output().unwrap().status.code();
    on_quickwit(&engine, local.path())
        .args(["quickwit", "init"])
        .assert()
        .success();
    let mut index = on_quickwit(&engine, local.path());
    index
        .args(["index", "--quickwit-commit", "force"])
        .args(paths);
    assert_eq!(index.output().unwrap().status.code(), local_status);
    (local, engine)
}

/// A search's total and facet counts, and the ids of its first ten hits.
fn answer(mut command: assert_cmd::Command, query: &str) -> (u64, Value, Vec<String>) {
    let results = json(command.args([
        "search",
        "-f",
        "json",
        "-n",
        "10",
        "--facets",
        FACETS,
        "--facet-limit",
        "1000",
        "--",
        query,
    ]));
    (
        total(&results),
        results["facets"].clone(),
        hit_ids(&results),
    )
}

/// How many of the first ten local hits Quickwit also ranks in its first ten.
fn overlap(local: &[String], remote: &[String]) -> usize {
    local.iter().filter(|id| remote.contains(id)).count()
}

#[test]
#[cfg_attr(
    not(quickwit),
    ignore = "needs GEONEWS_QUICKWIT (a quickwit binary) or GEONEWS_QUICKWIT_URL (a running node)"
)]
fn the_sample_corpus_gives_the_same_answers_from_quickwit() {
    let quickwit = Quickwit::single();
    let (local, engine) = both_indexed(&quickwit, "sample", &[&articles()]);
    let folder = local.path();
    for query in QUERIES {
        let (local_total, local_facets, local_top) = answer(geonews(folder), query);
        let (total, facets, top) = answer(on_quickwit(&engine, folder), query);
        assert_eq!(total, local_total, "total of `{query}`");
        assert_eq!(facets, local_facets, "facet counts of `{query}`");
        println!(
            "{query:?}: {total} articles, top 10 overlap {}/{}",
            overlap(&local_top, &top),
            local_top.len()
        );
    }
    for command in [
        vec!["timeline", "--by", "month", "-f", "json", "--", "sanctions"],
        vec!["timeline", "--by", "week", "--split", "topic", "-f", "json"],
        vec![
            "timeline",
            "--by",
            "year",
            "-f",
            "json",
            "--",
            "-country:Russia",
        ],
        vec!["cooc", "-f", "json", "--", "country", "topic:sanctions"],
        vec![
            "cooc",
            "-f",
            "json",
            "--",
            "country",
            "topic",
            "region:Europe",
        ],
        vec!["facets", "-f", "json", "--", "person"],
        vec!["show", "-f", "json", "--", "gn-2024-0002"],
        vec!["facets", "-f", "json", "--", "cluster"],
    ] {
        let local_answer = json(geonews(folder).args(&command));
        let answer = json(on_quickwit(&engine, folder).args(&command));
        assert_eq!(answer, local_answer, "{command:?}");
    }
    let related = |mut command: assert_cmd::Command| {
        let related = json(command.args(["related", "gn-2024-0001", "-f", "json"]));
        let mut ids = hit_ids(&related);
        ids.sort();
        (related["words"].clone(), ids)
    };
    assert_eq!(
        related(on_quickwit(&engine, folder)),
        related(geonews(folder))
    );
    // Indexing the same files again adds nothing.
    let again = stderr_of(
        on_quickwit(&engine, folder)
            .args(["index", "--quickwit-commit", "force"])
            .arg(articles()),
    );
    assert!(again.contains("0 new, 0 updated, 66 unchanged"), "{again}");
}

#[test]
#[cfg_attr(
    not(all(quickwit, shared_data)),
    ignore = "needs ../shared and GEONEWS_QUICKWIT (a quickwit binary) or GEONEWS_QUICKWIT_URL"
)]
fn the_shared_corpora_give_the_same_totals_and_counts_from_quickwit() {
    let quickwit = Quickwit::single();
    let corpora = shared("corpora");
    let (local, engine) = both_indexed(&quickwit, "corpora", &[&corpora]);
    let folder = local.path();
    let queries = benchmark_queries();
    let mut overlaps = 0;
    let mut compared = 0;
    for query in &queries {
        let (local_total, local_facets, local_top) = answer(geonews(folder), query);
        let (total, facets, top) = answer(on_quickwit(&engine, folder), query);
        assert_eq!(total, local_total, "total of `{query}`");
        assert_eq!(facets, local_facets, "facet counts of `{query}`");
        overlaps += overlap(&local_top, &top);
        compared += local_top.len();
    }
    for query in ["", "sanctions", "country:Iran"] {
        let timeline = |command: &mut assert_cmd::Command| {
            json(command.args(["timeline", "--by", "month", "-f", "json", "--", query]))
        };
        assert_eq!(
            timeline(&mut on_quickwit(&engine, folder)),
            timeline(&mut geonews(folder)),
            "timeline of `{query}`"
        );
    }
    println!(
        "{} benchmark queries: the same totals and facet counts; top-10 overlap {overlaps}/{compared} ({:.1}%)",
        queries.len(),
        100.0 * overlaps as f64 / compared.max(1) as f64
    );
}

/// The benchmark's queries (bench/queries.tsv) in geonews's syntax.
fn benchmark_queries() -> Vec<String> {
    let output = std::process::Command::new("python3")
        .arg(repo_path("bench/fts5.py"))
        .arg("geonews-queries")
        .arg(repo_path("bench/queries.tsv"))
        .output()
        .expect("python3 runs bench/fts5.py");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
#[cfg_attr(
    not(quickwit_binary),
    ignore = "needs GEONEWS_QUICKWIT (a quickwit binary) to start a cluster"
)]
fn searches_go_on_through_the_other_searcher_when_one_is_killed() {
    let storage = TempDir::new().unwrap();
    let indexer = start(&NodeSpec {
        name: "indexer",
        services: &["metastore", "control_plane", "indexer", "janitor"],
        storage: storage.path(),
        seed: None,
    });
    let searcher = |name| {
        start(&NodeSpec {
            name,
            services: &["searcher"],
            storage: storage.path(),
            seed: Some(indexer.gossip_port),
        })
    };
    let mut first = searcher("searcher-1");
    let second = searcher("searcher-2");
    let index = unique("cluster");
    let writing = format!("quickwit+http://{}/{index}", indexer.url());
    let reading = format!("quickwit+http://{},{}/{index}", first.url(), second.url());
    let folder = TempDir::new().unwrap();
    on_quickwit(&writing, folder.path())
        .args(["quickwit", "init"])
        .assert()
        .success();
    on_quickwit(&writing, folder.path())
        .args(["index", "--quickwit-commit", "force"])
        .arg(articles())
        .assert()
        .success();
    let query = "country:NorthKorea topic:sanctions";
    let expected = total(&json(
        on_quickwit(&reading, folder.path()).args(["search", "-f", "json", "--", query]),
    ));
    assert_eq!(expected, 5);
    for round in 0..12 {
        if round == 4 {
            first.kill();
        }
        let results =
            json(on_quickwit(&reading, folder.path()).args(["search", "-f", "json", "--", query]));
        assert_eq!(total(&results), expected, "round {round}");
    }
    println!("12 searches through {reading}: all answered; searcher-1 killed before the 5th");
}
