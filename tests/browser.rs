//! The web page in a real headless Chromium, driven over WebDriver: search, tick a facet,
//! drag the timeline, open an article, mistype a query. Screenshots go to
//! target/screenshots/. Ignored, with the reason, where ChromeDriver is absent (build.rs);
//! `.ci/run` installs Debian's chromium and chromium-driver.

#![cfg_attr(not(chromedriver), allow(dead_code, unused_imports))]

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::server::Server;
use common::*;
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[cfg(chromedriver)]
const CHROMEDRIVER: &str = env!("GEONEWS_TEST_CHROMEDRIVER");
#[cfg(not(chromedriver))]
const CHROMEDRIVER: &str = "chromedriver";

async fn browser() -> (Driver, Client) {
    let port = free_port();
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let profile = tempfile::TempDir::new().unwrap();
    let capabilities = json!({
        "goog:chromeOptions": {
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = loop {
        let mut builder = ClientBuilder::new(connector.clone());
        builder.capabilities(capabilities.as_object().unwrap().clone());
        match builder.connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(client) => break client,
            Err(error) if Instant::now() > deadline => panic!("no WebDriver session: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    // The profile folder must outlive the browser: leave it for the OS to clean.
    std::mem::forget(profile);
    (driver, client)
}

fn screenshot_path(name: &str) -> PathBuf {
    let dir = repo_path("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}.png"))
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshot_path(name), png).unwrap();
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits until `check` holds for the page, up to ten seconds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the page has shown the answers to its latest request (`body[data-state]`).
async fn settled(client: &Client) {
    eventually("the page to settle", || async {
        client
            .execute("return document.body.dataset.state", vec![])
            .await
            .map(|state| state == "ready")
            .unwrap_or(false)
    })
    .await;
}

async fn search_for(client: &Client, query: &str) {
    let input = client.find(Locator::Id("q")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(query).await.unwrap();
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(client).await;
}

async fn query_in_url(client: &Client) -> String {
    let url = client.current_url().await.unwrap();
    url.query_pairs()
        .find(|(key, _)| key == "q")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(chromedriver),
    ignore = "needs chromedriver (Debian's chromium-driver)"
)]
async fn an_analyst_searches_filters_drags_reads_and_mistypes() {
    let index = sample_index();
    let server = Server::start(index.path(), &[]);
    let (_driver, client) = browser().await;
    client.goto(&server.url("/")).await.unwrap();
    client
        .wait()
        .for_element(Locator::Css("#facets section"))
        .await
        .unwrap();

    // The seed-like sample article is found by country and topic.
    search_for(&client, "country:NorthKorea topic:sanctions").await;
    eventually("the sanctions hits", || async {
        text_of(&client, "#summary").await.starts_with("5 articles")
    })
    .await;
    let titles = text_of(&client, "#hits").await;
    assert!(titles.contains("Mines, walls and sanctions"), "{titles}");
    screenshot(&client, "search").await;

    // Ticking a second country widens the search and moves the counts.
    let before = text_of(&client, "#summary").await;
    client
        .find(Locator::Css(
            "#facets input[data-field=country][data-key=Russia]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the counts to change", || async {
        text_of(&client, "#summary").await != before
    })
    .await;
    assert_eq!(
        query_in_url(&client).await,
        "topic:sanctions country:(NorthKorea OR Russia)"
    );

    // Dragging across the timeline sets a date range.
    search_for(&client, "topic:sanctions").await;
    eventually("a timeline with several bars", || async {
        client
            .find_all(Locator::Css("#timeline rect.bar"))
            .await
            .map(|bars| bars.len() > 3)
            .unwrap_or(false)
    })
    .await;
    let chart = client.find(Locator::Css("#timeline svg")).await.unwrap();
    let (_, _, width, _) = chart.rectangle().await.unwrap();
    let drag = MouseActions::new("mouse".to_owned())
        .then(PointerAction::MoveToElement {
            element: chart.clone(),
            duration: None,
            x: -width / 2.0 + 5.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveToElement {
            element: chart.clone(),
            duration: Some(Duration::from_millis(200)),
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    client.perform_actions(drag).await.unwrap();
    eventually("after: and before: in the query", || async {
        let query = query_in_url(&client).await;
        query.contains("after:") && query.contains("before:")
    })
    .await;
    settled(&client).await;
    screenshot(&client, "timeline").await;

    // An article shows its evidence highlighted in place.
    client
        .find(Locator::Css("#hits h3 a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let evidence = client
        .wait()
        .for_element(Locator::Css("#article .text span.ev.country"))
        .await
        .unwrap();
    assert!(!evidence.text().await.unwrap().is_empty());
    assert!(client.find(Locator::Css("#article .salient")).await.is_ok());
    screenshot(&client, "article").await;

    // Back returns to the search without the article.
    client.back().await.unwrap();
    settled(&client).await;
    eventually("the article to close", || async {
        client
            .find(Locator::Css("#article"))
            .await
            .unwrap()
            .attr("hidden")
            .await
            .unwrap()
            .is_some()
    })
    .await;

    // A broken query shows its column and clickable suggestions.
    search_for(&client, "sanctions country:Nort-Korea").await;
    let error = client
        .wait()
        .for_element(Locator::Css("#error pre"))
        .await
        .unwrap();
    let caret = error.text().await.unwrap();
    assert!(
        caret.ends_with(&format!("\n{}^", " ".repeat(18))),
        "{caret:?}"
    );
    screenshot(&client, "error").await;
    client
        .find(Locator::Css("#error button.suggestion"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the suggestion to be searched", || async {
        query_in_url(&client).await == "sanctions country:NorthKorea"
    })
    .await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(chromedriver),
    ignore = "needs chromedriver (Debian's chromium-driver)"
)]
async fn a_saved_search_is_a_feed_whose_links_open_the_article() {
    let index = sample_index();
    let server = Server::start(index.path(), &[]);
    let (_driver, client) = browser().await;
    client
        .goto(&server.url("/?q=country%3ANorthKorea+topic%3Asanctions"))
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("#hits li"))
        .await
        .unwrap();
    let name = client.find(Locator::Id("watch-name")).await.unwrap();
    name.send_keys("nk").await.unwrap();
    client
        .find(Locator::Css("#watch-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let listed = client
        .wait()
        .for_element(Locator::Css("#watch-list a.feed"))
        .await
        .unwrap();
    let href = listed.attr("href").await.unwrap().unwrap();
    assert_eq!(href, "/feeds/nk.atom");
    screenshot(&client, "watches").await;

    // The feed a reader gets links each entry to its page in the web UI.
    let response = server.get(&href);
    assert_eq!(response.status, 200);
    let feed = feed_rs::parser::parse(&response.body[..]).expect("a valid Atom feed");
    let entry = feed
        .entries
        .iter()
        .find(|entry| {
            entry
                .title
                .as_ref()
                .unwrap()
                .content
                .starts_with("Mines, walls")
        })
        .expect("the sample article is in the feed");
    let link = entry.links[0]
        .href
        .replace("http://localhost", &server.url(""));
    client.goto(&link).await.unwrap();
    let title = client
        .wait()
        .for_element(Locator::Css("#article-title"))
        .await
        .unwrap();
    assert!(title.text().await.unwrap().starts_with("Mines, walls"));
    client.close().await.unwrap();
}
