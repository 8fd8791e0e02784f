//! Saved searches: `watch run` shows exactly what is new to each watch by indexing time,
//! `index --watch` percolates a run's articles, unchanged articles never re-alert, and each
//! watch is an Atom feed a real feed parser reads.

mod common;

use std::path::Path;

use common::server::Server;
use common::*;
use predicates::prelude::*;
use tempfile::TempDir;

fn write_articles(dir: &Path, name: &str, lines: &[&str]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

const MATCH_1: &str = r#"{"id": "w-1", "title": "New sanctions on Pyongyang", "published": "2024-01-10", "body": "The UN Security Council imposed new sanctions on North Korea over its missile tests."}"#;
const MATCH_2: &str = r#"{"id": "w-2", "title": "Tehran talks stall", "published": "1999-05-01", "body": "Iran and the European Union failed to agree on sanctions relief in Tehran on Monday."}"#;
const OTHER: &str = r#"{"id": "w-3", "title": "Football in Madrid", "published": "2024-02-01", "body": "Real Madrid won the derby on Sunday."}"#;

/// JSON Lines of `watch run -f jsonl`: (watch, article id) pairs.
fn run_pairs(index: &Path, extra: &[&str]) -> (Vec<(String, String)>, i32) {
    let output = geonews(index)
        .args(["watch", "run", "-f", "jsonl"])
        .args(extra)
        .output()
        .unwrap();
    let pairs = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                value["watch"].as_str().unwrap().to_owned(),
                value["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (pairs, output.status.code().unwrap())
}

fn pair(watch: &str, id: &str) -> (String, String) {
    (watch.to_owned(), id.to_owned())
}

/// The sample index with the two watches, then `lines` indexed: the index and the input folder.
fn watched_index_after(lines: &[&str]) -> (TempDir, TempDir) {
    let index = sample_index();
    add_watches(index.path());
    let input = TempDir::new().unwrap();
    let batch = write_articles(input.path(), "batch.jsonl", lines);
    geonews(index.path())
        .arg("index")
        .arg(&batch)
        .assert()
        .success();
    (index, input)
}

fn add_watches(index: &Path) {
    geonews(index)
        .args(["watch", "add", "nk", "country:NorthKorea topic:sanctions"])
        .assert()
        .success();
    geonews(index)
        .args([
            "watch",
            "add",
            "iran",
            "--note",
            "Iran sanctions",
            "country:Iran sanctions",
        ])
        .assert()
        .success();
}

#[test]
fn watch_run_shows_exactly_the_new_matches_once() {
    let index = sample_index();
    add_watches(index.path());
    // Nothing is new to a watch just saved.
    assert_eq!(run_pairs(index.path(), &[]), (vec![], 4));
    let input = TempDir::new().unwrap();
    let batch = write_articles(input.path(), "batch.jsonl", &[MATCH_1, MATCH_2, OTHER]);
    geonews(index.path())
        .arg("index")
        .arg(&batch)
        .assert()
        .success();
    // A dry run shows without marking; an 1999 article indexed today is news.
    let expected = vec![pair("nk", "w-1"), pair("iran", "w-2")];
    assert_eq!(
        run_pairs(index.path(), &["--dry-run"]),
        (expected.clone(), 0)
    );
    assert_eq!(run_pairs(index.path(), &[]), (expected, 0));
    assert_eq!(run_pairs(index.path(), &[]), (vec![], 4));
    geonews(index.path())
        .args(["watch", "list"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"(?m)^iran +0  country:Iran sanctions  \(Iran sanctions\)$")
                .unwrap(),
        );
}

#[test]
fn index_watch_prints_the_watches_with_news_and_unchanged_articles_never_realert() {
    let index = sample_index();
    add_watches(index.path());
    let input = TempDir::new().unwrap();
    let first = write_articles(input.path(), "first.jsonl", &[MATCH_1, OTHER]);
    let output = geonews(index.path())
        .args(["index", "--watch"])
        .arg(&first)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    assert!(text.contains("nk  1 new article"), "{text}");
    assert!(text.contains("New sanctions on Pyongyang"), "{text}");
    assert!(!text.contains("Football"), "{text}");
    assert!(!text.contains("iran"), "only watches with news: {text}");

    // The same content again: nothing to tell, so nothing printed (a cron job mails nothing).
    geonews(index.path())
        .args(["index", "--watch"])
        .arg(&first)
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    // The same article with other entities: news again.
    let changed = MATCH_1.replace("North Korea", "North Korea and Iran");
    let second = write_articles(input.path(), "second.jsonl", &[&changed]);
    geonews(index.path())
        .arg("index")
        .arg(&second)
        .assert()
        .success();
    assert_eq!(
        run_pairs(index.path(), &[]),
        (vec![pair("nk", "w-1"), pair("iran", "w-1")], 0)
    );
}

#[test]
fn a_rebuild_keeps_the_watches_and_what_they_have_seen() {
    let index = sample_index();
    add_watches(index.path());
    let input = TempDir::new().unwrap();
    let batch = write_articles(input.path(), "batch.jsonl", &[MATCH_1]);
    geonews(index.path())
        .arg("index")
        .arg(&batch)
        .assert()
        .success();
    assert_eq!(run_pairs(index.path(), &[]).0, [pair("nk", "w-1")]);
    geonews(index.path())
        .args(["index", "--rebuild"])
        .arg(articles())
        .arg(&batch)
        .assert()
        .success();
    assert_eq!(run_pairs(index.path(), &[]), (vec![], 4));
}

#[test]
fn bad_watches_are_refused_with_the_usual_errors() {
    let index = sample_index();
    geonews(index.path())
        .args(["watch", "add", "typo", "country:Nort-Korea"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean: NorthKorea"));
    geonews(index.path())
        .args(["watch", "add", "has space", "sanctions"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot name a saved search"));
    geonews(index.path())
        .args(["watch", "rm", "missing"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no saved search named `missing`"));
    geonews(index.path())
        .args(["watch", "run", "missing"])
        .assert()
        .code(2);
}

#[test]
fn each_watch_is_an_atom_feed_with_conditional_get() {
    let (index, _input) = watched_index_after(&[MATCH_1, MATCH_2, OTHER]);
    // With a token, any host name may reach the server; a feed reader passes it as ?token=.
    let server = Server::start(index.path(), &["--token", "s3cret"]);
    let feed_request = |extra: &str| {
        format!(
            "GET /feeds/nk.atom?token=s3cret HTTP/1.1\r\nHost: example.test:1\r\n{extra}\
             Connection: close\r\n\r\n"
        )
    };
    assert_eq!(server.get("/feeds/nk.atom").status, 401);
    let response = server.send(feed_request("").as_bytes());
    assert_eq!(response.status, 200, "{}", response.text());
    let content_type = &response
        .headers
        .iter()
        .find(|(n, _)| n == "content-type")
        .unwrap()
        .1;
    assert!(content_type.starts_with("application/atom+xml"));
    let feed = feed_rs::parser::parse(&response.body[..]).expect("a valid Atom feed");
    assert_eq!(feed.title.unwrap().content, "geonews: nk");
    let titles: Vec<String> = feed
        .entries
        .iter()
        .map(|entry| entry.title.as_ref().unwrap().content.clone())
        .collect();
    assert!(
        titles.contains(&"New sanctions on Pyongyang".to_owned()),
        "{titles:?}"
    );
    assert!(!titles.contains(&"Football in Madrid".to_owned()));
    let entry = feed
        .entries
        .iter()
        .find(|entry| entry.title.as_ref().unwrap().content == "New sanctions on Pyongyang")
        .unwrap();
    // Links are built from the Host the reader used.
    assert_eq!(entry.links[0].href, "http://example.test:1/?article=w-1");
    assert!(
        entry
            .categories
            .iter()
            .any(|c| c.term == "country:NorthKorea")
    );
    assert!(
        entry
            .summary
            .as_ref()
            .unwrap()
            .content
            .contains("sanctions")
    );

    let etag = response
        .headers
        .iter()
        .find(|(name, _)| name == "etag")
        .unwrap()
        .1
        .clone();
    let again = server.send(feed_request(&format!("If-None-Match: {etag}\r\n")).as_bytes());
    assert_eq!(again.status, 304);
    let missing = |path: &str| {
        server
            .send(
                format!(
                    "GET {path}?token=s3cret HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .status
    };
    assert_eq!(missing("/feeds/missing.atom"), 404);
    assert_eq!(missing("/feeds/nk.rss"), 404);
}

#[test]
fn watches_are_listed_added_and_removed_over_http_unless_read_only() {
    let index = sample_index();
    add_watches(index.path());
    let server = Server::start(index.path(), &[]);
    let list = server.get("/api/watches").json();
    assert_eq!(list["watches"].as_array().unwrap().len(), 2);
    assert_eq!(list["watches"][0]["unseen"], 0);
    let body = r#"{"query": "topic:elections", "note": "votes"}"#;
    let post = |name: &str, body: &str| {
        server.send(
            format!(
                "POST /api/watches/{name} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
    };
    let created = post("votes", body);
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(post("votes", body).status, 409);
    let bad = post("typo", r#"{"query": "country:Nort-Korea"}"#);
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["column"], 9);
    let delete = server.send(
        b"DELETE /api/watches/votes HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(delete.status, 200);
    assert_eq!(server.get("/api/watches/votes").status, 404);
    drop(server);

    let read_only = Server::start(index.path(), &["--read-only"]);
    let refused = read_only.send(
        format!(
            "POST /api/watches/votes HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(refused.status, 403);
    assert_eq!(read_only.get("/api/watches").status, 200);
}

#[test]
fn a_dictionary_change_that_finds_the_same_entities_is_not_news() {
    let (index, input) = watched_index_after(&[MATCH_1]);
    assert_eq!(run_pairs(index.path(), &[]).0, [pair("nk", "w-1")]);
    // A new organization no article names: every article is written again, none is news.
    let schema = TempDir::new().unwrap();
    let organizations = std::fs::read_to_string(repo_path("schema/organizations.toml")).unwrap()
        + "\n[[organization]]\nkey = \"ZzyzxInstitute\"\nname = \"Zzyzx Institute\"\nnames = [\"Zzyzx Institute\"]\n";
    std::fs::write(schema.path().join("organizations.toml"), organizations).unwrap();
    let output = geonews(index.path())
        .arg("--schema")
        .arg(schema.path())
        .args(["index", "--watch"])
        .arg(articles())
        .arg(input.path().join("batch.jsonl"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("67 updated"), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn a_feed_takes_a_percent_encoded_token() {
    let (index, _input) = watched_index_after(&[MATCH_1]);
    let server = Server::start(index.path(), &["--token", "a+b/c="]);
    assert_eq!(server.get("/feeds/nk.atom?token=a%2Bb%2Fc%3D").status, 200);
    assert_eq!(server.get("/feeds/nk.atom?token=a+b/c=").status, 401);
}
