//! `geonews serve` as a client sees it: the API answers with the JSON the CLI prints, errors
//! are JSON with their column, hostile requests get a 4xx or a closed connection while normal
//! ones go on being answered, and new commits are searched without a restart.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use common::server::{Response, Server};
use common::*;
use geonews::index::LocalIndex;
use geonews::schema::Schema;
use geonews::server::url_encode as encode;
use geonews::server::{Access, AppState, Limits, router};
use geonews::service::{IngestService, SearchService};
use geonews::watch::WatchStore;
use http_body_util::BodyExt;
use tempfile::TempDir;
use tower::ServiceExt;

fn cli_json(index: &Path, args: &[&str]) -> String {
    let output = geonews(index).args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn every_route_answers_with_the_json_the_cli_prints() {
    let index = sample_index();
    let server = Server::start(index.path(), &[]);
    let q = "sanctions country:Russia";
    let cases: [(String, Vec<&str>); 9] = [
        (
            format!("/api/search?q={}", encode(q)),
            vec!["search", "-f", "json", "--", q],
        ),
        (
            format!(
                "/api/search?q={}&facets=country,region,org&facet_limit=3&sort=-date&limit=4&offset=2",
                encode(q)
            ),
            vec![
                "search",
                "-f",
                "json",
                "--facets",
                "country,region,org",
                "--facet-limit",
                "3",
                "--sort=-date",
                "-n",
                "4",
                "--offset",
                "2",
                "--",
                q,
            ],
        ),
        (
            "/api/facets?field=region&q=topic%3Asanctions&limit=3".to_owned(),
            vec![
                "facets",
                "region",
                "topic:sanctions",
                "-n",
                "3",
                "-f",
                "json",
            ],
        ),
        (
            "/api/timeline?q=country%3ARussia&by=year&split=topic&top=2".to_owned(),
            vec![
                "timeline",
                "country:Russia",
                "--by",
                "year",
                "--split",
                "topic",
                "--top",
                "2",
                "-f",
                "json",
            ],
        ),
        (
            "/api/cooc?field=country&q=topic%3Asanctions&limit=5".to_owned(),
            vec![
                "cooc",
                "country",
                "topic:sanctions",
                "-n",
                "5",
                "-f",
                "json",
            ],
        ),
        (
            "/api/cooc?field=country&field2=topic&q=region%3AAsia&size=4&limit=4".to_owned(),
            vec![
                "cooc",
                "country",
                "topic",
                "region:Asia",
                "--size",
                "4",
                "-n",
                "4",
                "-f",
                "json",
            ],
        ),
        (
            "/api/related/gn-2024-0002?limit=2".to_owned(),
            vec!["related", "gn-2024-0002", "-n", "2", "-f", "json"],
        ),
        (
            "/api/articles/gn-2024-0002".to_owned(),
            vec!["show", "gn-2024-0002", "-f", "json"],
        ),
        (
            "/api/stats?facet_limit=3".to_owned(),
            vec!["stats", "--facet-limit", "3", "-f", "json"],
        ),
    ];
    for (path, args) in cases {
        let response = server.get(&path);
        assert_eq!(response.status, 200, "{path}: {}", response.text());
        let mut expected = cli_json(index.path(), &args);
        let mut answered = response.text();
        if path.starts_with("/api/stats") {
            // The size on disk is read at each call; the rest must match.
            let size = |text: &mut String| {
                let mut value: serde_json::Value = serde_json::from_str(text).unwrap();
                value["size_bytes"] = 0.into();
                *text = value.to_string();
            };
            size(&mut expected);
            size(&mut answered);
        }
        assert_eq!(answered, expected, "{path}");
    }
}

/// The benchmark queries in geonews syntax (bench/fts5.py's `geonews_query`).
fn benchmark_queries() -> Vec<String> {
    let tsv = std::fs::read_to_string(repo_path("bench/queries.tsv")).unwrap();
    tsv.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let mut columns = line.split('\t');
            let mut parts = vec![columns.next().unwrap_or("").trim().to_owned()];
            if let Some(country) = columns.next().filter(|c| !c.is_empty()) {
                parts.push(format!("country:{country}"));
            }
            let from = columns.next().unwrap_or("");
            let to = columns.next().unwrap_or("");
            if !from.is_empty() || !to.is_empty() {
                parts.push(format!("date:{from}..{to}"));
            }
            parts.join(" ").trim().to_owned()
        })
        .collect()
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs ../shared, absent on this machine")]
fn fifty_benchmark_queries_answer_as_the_cli_on_real_news() {
    let index = TempDir::new().unwrap();
    geonews(index.path())
        .arg("index")
        .arg(shared("corpora/news2017"))
        .arg(shared("corpora/wikinews"))
        .arg(shared("corpora/reuters21578"))
        .assert()
        .code(3); // two records without text are skipped
    let server = Server::start(index.path(), &[]);
    let queries: Vec<String> = benchmark_queries()
        .into_iter()
        .step_by(4)
        .take(50)
        .collect();
    assert_eq!(queries.len(), 50);
    let mut with_hits = 0;
    for query in &queries {
        let response = server.get(&format!(
            "/api/search?q={}&facets=country,topic&limit=10",
            encode(query)
        ));
        assert_eq!(response.status, 200, "{query}: {}", response.text());
        let expected = cli_json(
            index.path(),
            &[
                "search",
                "-f",
                "json",
                "--facets",
                "country,topic",
                "--",
                query,
            ],
        );
        assert_eq!(response.text(), expected, "{query}");
        with_hits += usize::from(response.json()["total"].as_u64().unwrap() > 0);
    }
    assert!(
        with_hits >= 40,
        "only {with_hits} of 50 queries found anything"
    );
}

#[test]
fn errors_are_json_with_status_column_and_suggestions() {
    let index = sample_index();
    let server = Server::start(index.path(), &[]);
    let bad = server.get(&format!(
        "/api/search?q={}",
        encode("sanctions country:Nort-Korea")
    ));
    assert_eq!(bad.status, 400);
    insta::assert_json_snapshot!("bad_query", bad.json());
    let unknown = server.get("/api/articles/no-such-id");
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json()["error"]["message"],
        format!(
            "no article with id \"no-such-id\" in {}",
            index.path().display()
        )
    );
    for (path, status) in [
        ("/api/search?facets=colour", 400),
        ("/api/search?limit=5000", 400),
        ("/api/search?limit=ten", 400),
        ("/api/search?sort=sideways", 400),
        ("/api/timeline?by=decade", 400),
        ("/api/facets", 400),
        ("/api/nothing-here", 404),
        ("/assets/missing.js", 404),
    ] {
        let response = server.get(path);
        assert_eq!(response.status, status, "{path}: {}", response.text());
        assert!(response.json()["error"]["message"].is_string(), "{path}");
    }
    let empty = server.send(
        b"POST /api/extract HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
          Content-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    assert_eq!(empty.status, 400);
    assert_eq!(
        empty.json()["error"]["message"],
        "record has neither title nor body"
    );
}

#[test]
fn extract_takes_text_or_a_json_article() {
    let index = sample_index();
    let server = Server::start(index.path(), &[]);
    let text = "Talks in Geneva\n\nIran and the United States met in Geneva on sanctions.";
    let request = format!(
        "POST /api/extract?explain=true HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let extracted = server.send(request.as_bytes()).json();
    assert_eq!(extracted["title"], "Talks in Geneva");
    let countries: Vec<&str> = extracted["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert!(countries.contains(&"Iran") && countries.contains(&"UnitedStates"));
    assert!(!extracted["explain"].as_array().unwrap().is_empty());
}

#[test]
fn a_token_guards_every_api_route_and_non_loopback_needs_one() {
    let index = sample_index();
    let server = Server::start(index.path(), &["--token", "s3cret"]);
    assert_eq!(server.get("/api/stats").status, 401);
    let wrong = server.send(
        b"GET /api/stats HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer s3cre\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(wrong.status, 401);
    let right = server.send(
        b"GET /api/stats HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(right.status, 200);
    // The page itself and the health check load; the page asks for the token.
    assert_eq!(server.get("/").status, 200);
    assert_eq!(server.get("/healthz").status, 200);
    assert_eq!(server.get("/feeds/anything.atom").status, 401);
    let post = server.send(
        b"POST /api/watches/x HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
          Content-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    assert_eq!(post.status, 401);
    geonews(index.path())
        .args(["serve", "--listen", "0.0.0.0:0"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("give --token TOKEN"));
}

#[test]
fn without_a_token_only_loopback_host_names_are_answered() {
    let index = sample_index();
    let server = Server::start(index.path(), &[]);
    let rebound =
        server.send(b"GET /api/stats HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
    assert_eq!(rebound.status, 403);
    assert!(
        rebound.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("loopback host")
    );
    assert_eq!(server.get("/api/stats").status, 200);
}

#[test]
fn hostile_requests_get_a_4xx_or_a_closed_connection_and_the_server_goes_on() {
    let index = sample_index();
    let server = Server::start(index.path(), &["--header-timeout", "1"]);
    let healthy = |server: &Server| assert_eq!(server.get("/api/search?q=sanctions").status, 200);

    let long_query = "sanctions ".repeat(10_000);
    let long = server.get(&format!("/api/search?q={}", encode(&long_query)));
    assert!([400, 414].contains(&long.status), "{}", long.status);
    let nested = format!("{}sanctions{}", "(".repeat(1000), ")".repeat(1000));
    let deep = server.get(&format!("/api/search?q={}", encode(&nested)));
    assert_eq!(deep.status, 400, "{}", deep.text());
    assert_eq!(server.get("/api/search?q=%FF%FEsanctions").status, 400);
    let nul = server.get("/api/search?q=sanctions%00country:Russia");
    assert_eq!(nul.status, 400);
    assert_eq!(nul.json()["error"]["column"], 10);
    for path in [
        "/assets/../Cargo.toml",
        "/assets/..%2F..%2FCargo.toml",
        "/assets/%2e%2e/src/main.rs",
        "/../../etc/passwd",
    ] {
        let status = server.get(path).status;
        assert!(status == 404 || status == 400, "{path}: {status}");
    }
    healthy(&server);

    // A 50 MB body is refused as soon as its length is known.
    let mut stream = server.connect();
    let head = "POST /api/extract HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n\
                Content-Length: 52428800\r\nConnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'a'; 1 << 16];
    for _ in 0..64 {
        if stream.write_all(&chunk).is_err() {
            break;
        }
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let too_big = Response::parse(&raw).expect("a response");
    assert_eq!(too_big.status, 413);
    assert!(
        too_big.json()["error"]["message"].is_string(),
        "errors are JSON"
    );

    // 200 idle connections do not stop anyone else.
    let idle: Vec<_> = (0..200).map(|_| server.connect()).collect();
    healthy(&server);
    drop(idle);

    // A client sending its headers a byte at a time is cut off by the header timeout.
    let mut slow = server.connect();
    let started = Instant::now();
    let mut closed = false;
    for byte in b"GET /api/stats HTTP/1.1\r\nHost: localhost\r\n" {
        if slow.write_all(&[*byte]).is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
        if started.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    let mut rest = Vec::new();
    let read = slow.read_to_end(&mut rest);
    assert!(
        closed || read.is_ok(),
        "the slow client should have been disconnected"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    healthy(&server);
}

#[test]
fn new_commits_are_searched_while_eight_clients_search() {
    let index = sample_index();
    let server = Arc::new(Server::start(index.path(), &[]));
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let clients: Vec<_> = (0..8)
        .map(|n| {
            let (server, stop) = (Arc::clone(&server), Arc::clone(&stop));
            let (answered, failed) = (Arc::clone(&answered), Arc::clone(&failed));
            std::thread::spawn(move || {
                let queries = [
                    "sanctions",
                    "country:Russia",
                    "topic:elections",
                    "ceasefire",
                ];
                while !stop.load(Ordering::Relaxed) {
                    let query = queries[n % queries.len()];
                    let response = server.get(&format!("/api/search?q={}", encode(query)));
                    let counter = if response.status == 200 {
                        &answered
                    } else {
                        &failed
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let input = TempDir::new().unwrap();
    let news = input.path().join("new.jsonl");
    std::fs::write(
        &news,
        "{\"id\": \"live-1\", \"title\": \"Zanzibar ferry talks\", \"body\": \"Officials from Tanzania met on Zanzibar to discuss quokkaferry routes.\"}\n",
    )
    .unwrap();
    geonews(index.path())
        .arg("index")
        .arg(&news)
        .assert()
        .success();
    let deadline = Instant::now() + Duration::from_secs(10);
    let found = loop {
        let results = server.get("/api/search?q=quokkaferry").json();
        if results["total"] == 1 {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(found, "the new article was never searched");

    // A rebuild swaps in a new generation: the server moves to it, and no request fails.
    let rebuilt = input.path().join("rebuilt.jsonl");
    std::fs::write(
        &rebuilt,
        "{\"id\": \"live-2\", \"title\": \"Pemba port talks\", \"body\": \"Officials met on Pemba to discuss quokkaport plans.\"}\n",
    )
    .unwrap();
    geonews(index.path())
        .args(["index", "--rebuild"])
        .arg(articles())
        .arg(&rebuilt)
        .assert()
        .success();
    let deadline = Instant::now() + Duration::from_secs(10);
    let moved = loop {
        let (new, old) = (
            server.get("/api/search?q=quokkaport").json(),
            server.get("/api/search?q=quokkaferry").json(),
        );
        if new["total"] == 1 && old["total"] == 0 {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    assert!(moved, "the server never searched the rebuilt index");
    assert_eq!(failed.load(Ordering::Relaxed), 0);
    assert!(answered.load(Ordering::Relaxed) > 8);

    // The build the server read is removed by the next writer, now that no one reads it.
    let stderr = stderr_of(geonews(index.path()).arg("index").arg(&rebuilt));
    assert!(
        stderr.contains("gen-000001") && stderr.contains("no one reads"),
        "{stderr}"
    );
    assert!(!index.path().join("gen-000001").exists());
}

/// The router in process, without a socket (`tower::ServiceExt::oneshot`).
#[tokio::test(flavor = "multi_thread")]
async fn the_router_answers_in_process() {
    let index = sample_index();
    let schema = Arc::new(Schema::builtin().unwrap());
    let state = Arc::new(AppState::new(
        SearchService::new(
            Arc::clone(&schema),
            geonews::engine::Engine::Local(LocalIndex::open_live(index.path(), &schema).unwrap()),
        ),
        IngestService::new(schema).unwrap(),
        WatchStore::new(index.path()),
        Limits::default(),
        false,
    ));
    let app = router(state, Access::default());
    let get = |uri: &str| {
        axum::http::Request::builder()
            .uri(uri)
            .body(Body::empty())
            .unwrap()
    };
    let response = app
        .clone()
        .oneshot(get("/api/search?q=topic%3Alandmines&limit=1&facets="))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let expected = cli_json(
        index.path(),
        &[
            "search",
            "topic:landmines",
            "-n",
            "1",
            "--facets",
            "",
            "-f",
            "json",
        ],
    );
    assert_eq!(String::from_utf8(body.to_vec()).unwrap(), expected);
    let page = app.oneshot(get("/")).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&html).contains("<script src=\"/assets/app.js\">"));
}
