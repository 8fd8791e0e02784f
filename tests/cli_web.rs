//! News as it arrives: saved web pages, feeds, web archives, live URLs, and copies of one
//! story, from sample-corpus/web and a web server on 127.0.0.1.

mod common;

use std::fs;
use std::path::PathBuf;

use common::web::WebServer;
use common::*;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

fn web(relative: &str) -> PathBuf {
    repo_path("sample-corpus/web").join(relative)
}

/// `extract --text` of one input, one JSON object per article.
fn extracted(path: &std::path::Path) -> Vec<Value> {
    let output = geonews(TempDir::new().unwrap().path())
        .args(["extract", "--text", "-f", "jsonl"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn one(path: &str) -> Value {
    let mut articles = extracted(&web(path));
    assert_eq!(articles.len(), 1, "{path}: {articles:?}");
    articles.remove(0)
}

fn web_index() -> TempDir {
    let index = TempDir::new().unwrap();
    geonews(index.path())
        .arg("index")
        .arg(web(""))
        .assert()
        .code(3);
    index
}

#[test]
fn pages_feeds_and_archives_are_indexed_and_bad_ones_reported() {
    let index = TempDir::new().unwrap();
    let stderr = stderr_of(geonews(index.path()).arg("index").arg(web("")));
    // 4 pages, 4 + 3 + 2 feed items, 3 archived pages.
    assert!(stderr.contains("16 new"), "{stderr}");
    assert!(stderr.contains("2 skipped"), "{stderr}");
    assert!(
        stderr.contains("empty-shell.html: skipped: no article text"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not-a-feed.xml: skipped: not a news feed: the root element is <urlset>"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "crawl.warc.gz: 3 pages; passed over 7 records that are not HTML pages \
             (1 image/png, 1 metadata, 3 request, 1 text/plain, 1 warcinfo)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_page_is_its_main_text_and_metadata() {
    let page = one("pages/kyiv-grain-corridor.html");
    assert_eq!(
        page["title"],
        "Ukraine's Black Sea corridor ships record grain volumes despite strikes on Odesa ports"
    );
    assert_eq!(page["published"], "2024-10-08T06:30:00Z");
    assert_eq!(
        page["url"],
        "https://www.meridiandispatch.com/world/europe/2024/10/08/kyiv-grain-corridor"
    );
    assert_eq!(page["source"], "The Meridian Dispatch");
    assert_eq!(page["language"], "en");
    let body = page["body"].as_str().unwrap();
    for boilerplate in ["Advertisement", "cookie", "Most read", "Subscribe"] {
        assert!(
            !body.contains(boilerplate),
            "{boilerplate:?} in the body: {body}"
        );
    }
    assert!(body.len() > 1500, "{body}");
    let countries: Vec<&str> = page["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|country| country["key"].as_str().unwrap())
        .collect();
    assert!(countries.contains(&"Ukraine"), "{countries:?}");
}

#[test]
fn dates_come_from_meta_tags_or_the_canonical_url() {
    let baltic = one("pages/baltic-cable-incident.htm");
    assert_eq!(baltic["published"], "2025-03-14T07:45:00Z");
    assert_eq!(
        baltic["title"],
        "Finland detains cargo ship after undersea data cable to Estonia is damaged"
    );
    let gdansk = one("pages/gdansk-port-talks.html");
    assert_eq!(gdansk["published"], "2024-11-05T00:00:00Z");
}

#[test]
fn declared_and_undeclared_charsets_are_decoded() {
    let gdansk = one("pages/gdansk-port-talks.html");
    let body = gdansk["body"].as_str().unwrap();
    assert!(
        body.contains("Gdańsk") && body.contains("Świnoujście"),
        "{body}"
    );
    let sahel = one("pages/sahel-aid-convoy.xhtml");
    assert!(
        sahel["title"].as_str().unwrap().contains("Ménaka"),
        "{sahel}"
    );
    let index = TempDir::new().unwrap();
    geonews(index.path())
        .arg("index")
        .arg(web("pages/sahel-aid-convoy.xhtml"))
        .assert()
        .success()
        .stderr(predicate::str::contains("detected as windows-1252"));
}

#[test]
fn feed_items_and_archived_pages_keep_their_metadata() {
    let items = extracted(&web("feeds/world-desk.rss"));
    assert_eq!(items.len(), 4);
    assert_eq!(
        items[0]["title"],
        "Odesa ports ship record grain haul as Ukraine shrugs off drone attacks"
    );
    assert_eq!(items[0]["published"], "2024-10-08T11:20:00Z");
    assert!(!items[0]["body"].as_str().unwrap().contains("Read more"));
    assert_eq!(extracted(&web("feeds/briefing.xml")).len(), 2);
    let archived = extracted(&web("archive/crawl.warc.gz"));
    assert_eq!(archived.len(), 3);
    let iaea = archived
        .iter()
        .find(|page| page["title"].as_str().unwrap().starts_with("IAEA report"))
        .unwrap();
    // No date in its markup: the archive's date stands in.
    assert_eq!(iaea["published"], "2025-05-31T16:47:05Z");
}

#[test]
fn syndicated_copies_collapse_into_one_story() {
    let index = web_index();
    let collapsed = json(geonews(index.path()).args([
        "search",
        "-f",
        "json",
        "--collapse",
        "grain corridor Odesa",
    ]));
    let hits = collapsed["hits"].as_array().unwrap();
    let grain: Vec<&Value> = hits
        .iter()
        .filter(|hit| hit["title"].as_str().unwrap().contains("grain"))
        .collect();
    assert_eq!(grain.len(), 1, "{hits:?}");
    assert_eq!(grain[0]["similar"], 1);
    let cluster = grain[0]["cluster"].as_str().unwrap();
    let copies = search(index.path(), &format!("cluster:\"{cluster}\""));
    assert_eq!(total(&copies), 2);
    assert!(collapsed["clusters"].as_u64().unwrap() < collapsed["total"].as_u64().unwrap());
    let text = String::from_utf8(
        geonews(index.path())
            .args(["search", "--collapse", "grain corridor Odesa"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        text.contains(&format!("+1 similar (cluster:{cluster})")),
        "{text}"
    );
    // Counted once per story: Ukraine's two copies are one story.
    let articles = json(geonews(index.path()).args(["facets", "country", "-f", "json"]));
    let stories =
        json(geonews(index.path()).args(["facets", "country", "--count-clusters", "-f", "json"]));
    let count_of = |facets: &Value| {
        facets["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|value| value["key"] == "Ukraine")
            .map(|value| value["count"].as_u64().unwrap())
    };
    assert_eq!(
        count_of(&stories).unwrap() + 1,
        count_of(&articles).unwrap()
    );
    assert_eq!(stories["clusters"], 15);
}

#[test]
fn a_copy_indexed_in_a_later_run_joins_the_story() {
    let index = TempDir::new().unwrap();
    for path in ["pages/kyiv-grain-corridor.html", "feeds/world-desk.rss"] {
        geonews(index.path())
            .arg("index")
            .arg(web(path))
            .assert()
            .success();
    }
    let page_key = "https://www.meridiandispatch.com/world/europe/2024/10/08/kyiv-grain-corridor";
    let copies = search(index.path(), &format!("cluster:\"{page_key}\""));
    assert_eq!(total(&copies), 2, "{copies}");
}

#[test]
fn tracking_parameters_do_not_make_a_second_article() {
    let index = TempDir::new().unwrap();
    let lines = "{\"url\": \"https://news.example/a?utm_source=x&fbclid=y\", \"title\": \"A\", \"body\": \"b\"}\n\
                 {\"url\": \"https://news.example/a/\", \"title\": \"A\", \"body\": \"b\"}\n";
    let stderr = stderr_of(
        geonews(index.path())
            .args(["index", "-"])
            .write_stdin(lines),
    );
    assert!(stderr.contains("1 new, 0 updated, 1 unchanged"), "{stderr}");
    let shown = json(geonews(index.path()).args(["show", "https://news.example/a", "-f", "json"]));
    assert_eq!(shown["url"], "https://news.example/a");
}

#[test]
fn standard_input_is_told_apart_by_its_first_bytes() {
    for file in ["pages/kyiv-grain-corridor.html", "feeds/analysis.atom"] {
        let index = TempDir::new().unwrap();
        geonews(index.path())
            .args(["index", "-"])
            .write_stdin(fs::read(web(file)).unwrap())
            .assert()
            .success();
        let stats = json(geonews(index.path()).args(["stats", "-f", "json"]));
        assert!(stats["articles"].as_u64().unwrap() >= 1, "{file}");
    }
}

#[test]
fn bad_web_input_is_reported_by_file_and_record_and_the_rest_indexed() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("broken.rss"), "this is { not XML").unwrap();
    fs::write(
        dir.path().join("odd-charset.html"),
        "<html><head><meta charset=\"x-no-such-charset\"><title>Talks</title></head><body>\
         <article><p>Envoys from Norway and Colombia met in Oslo on Monday to restart talks \
         on a ceasefire, officials said.</p><p>Both sides said the meeting was useful and \
         that a second round would follow within weeks.</p></article></body></html>",
    )
    .unwrap();
    // The archive with one record's compressed bytes overwritten.
    let mut archive = fs::read(web("archive/crawl.warc.gz")).unwrap();
    archive[7000..7016].fill(0xa5);
    fs::write(dir.path().join("damaged.warc.gz"), archive).unwrap();
    let index = TempDir::new().unwrap();
    let stderr = stderr_of(geonews(index.path()).arg("index").arg(dir.path()));
    assert!(stderr.contains("broken.rss: skipped: not XML"), "{stderr}");
    assert!(
        stderr.contains("damaged.warc.gz (record 7): skipped: damaged compressed data"),
        "{stderr}"
    );
    assert!(stderr.contains("x-no-such-charset"), "{stderr}");
    // Two archived pages and the page in an unknown charset.
    assert!(stderr.contains("3 new"), "{stderr}");
}

#[test]
fn urls_are_fetched_politely_and_only_again_when_changed() {
    let server = WebServer::start(web(""));
    let index = TempDir::new().unwrap();
    let urls = [
        server.url("/pages/kyiv-grain-corridor.html"),
        server.url("/feeds/analysis.atom"),
    ];
    let run = || {
        stderr_of(
            geonews(index.path())
                .args(["index", "--host-delay", "0"])
                .args(&urls),
        )
    };
    let first = run();
    assert!(first.contains("4 new"), "{first}");
    let second = run();
    assert!(second.contains("0 new"), "{second}");
    assert!(
        second.contains("unchanged since the last run (HTTP 304)"),
        "{second}"
    );
    let page_requests = server.seen("/pages/kyiv-grain-corridor.html");
    assert_eq!(page_requests.len(), 2);
    assert_eq!(page_requests[0].if_none_match, None);
    assert!(page_requests[1].if_none_match.is_some());
    let agent = page_requests[0].user_agent.as_deref().unwrap();
    assert!(agent.starts_with("geonews/"), "{agent}");
    assert_eq!(server.seen("/robots.txt").len(), 2, "once per run");
}

#[test]
fn failing_urls_are_reported_and_the_rest_indexed() {
    let server = WebServer::start(web(""));
    let dir = TempDir::new().unwrap();
    let list = dir.path().join("urls.txt");
    let lines = [
        "# a comment".to_owned(),
        server.url("/status/404"),
        server.url("/status/500"),
        server.url("/hang"),
        server.url("/huge"),
        server.url("/private/story.html"),
        server.url("/binary.png"),
        "not a url".to_owned(),
        server.url("/pages/baltic-cable-incident.htm"),
    ];
    fs::write(&list, lines.join("\n")).unwrap();
    let index = TempDir::new().unwrap();
    let output = geonews(index.path())
        .args([
            "index",
            "--host-delay",
            "0",
            "--fetch-timeout",
            "2",
            "--max-download",
            "1MB",
        ])
        .arg("--urls")
        .arg(&list)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "some input skipped");
    let stderr = String::from_utf8(output.stderr).unwrap();
    for expected in [
        "/status/404: skipped: HTTP 404",
        "/status/500: skipped: HTTP 500",
        "/hang: skipped: timed out after 2 s",
        "/huge: skipped: body larger than 1 MB cap",
        "/private/story.html: skipped: disallowed by robots.txt",
        "/binary.png: skipped: not a web page or news feed (content type image/png)",
        "urls.txt:8: skipped: not an http or https URL: \"not a url\"",
        "1 new",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }
}
