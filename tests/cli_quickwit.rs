//! The Quickwit engine's errors, which need no Quickwit: a wrong engine URL, an unreachable
//! cluster, commands only the local index has. The answers of a real Quickwit are in
//! tests/quickwit_live.rs.

mod common;

use std::net::TcpListener;

use common::*;
use tempfile::TempDir;

/// An address nothing listens on.
fn dead_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

fn error_of(args: &[&str]) -> (Option<i32>, String) {
    let folder = TempDir::new().unwrap();
    let output = geonews(folder.path()).args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn a_wrong_engine_url_is_a_usage_error() {
    let (code, stderr) = error_of(&["--engine", "http://localhost:7280/news", "search", "x"]);
    assert_eq!(code, Some(2));
    insta::assert_snapshot!(stderr);
}

#[test]
fn an_unreachable_cluster_names_every_node_it_tried() {
    let (first, second) = (dead_address(), dead_address());
    let engine = format!("quickwit+http://{first},{second}/news");
    let (code, stderr) = error_of(&["--engine", &engine, "search", "sanctions"]);
    assert_eq!(code, Some(1));
    let stderr = stderr.replace(&first, "NODE1").replace(&second, "NODE2");
    insta::assert_snapshot!(stderr);
}

#[test]
fn quickwit_init_needs_a_quickwit_engine() {
    let (code, stderr) = error_of(&["quickwit", "init"]);
    assert_eq!(code, Some(2));
    insta::assert_snapshot!(stderr);
}

#[test]
fn rebuild_is_for_the_local_index() {
    let engine = format!("quickwit+http://{}/news", dead_address());
    let (code, stderr) = error_of(&["--engine", &engine, "index", "--rebuild", "x.jsonl"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("geonews quickwit init --replace"),
        "{stderr}"
    );
}

#[test]
fn the_engine_comes_from_the_environment_too() {
    let folder = TempDir::new().unwrap();
    let engine = format!("quickwit+http://{}/news", dead_address());
    let output = geonews(folder.path())
        .env("GEONEWS_ENGINE", &engine)
        .args(["stats"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: no Quickwit node answered"),
        "{stderr}"
    );
}
