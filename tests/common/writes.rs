//! Helpers for tests that write an index while others read it: generated articles, searches
//! run over and over in other processes, the live generation's folder.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use super::{binary, geonews};

/// `count` articles with ids `{prefix}-N`, as JSON Lines.
pub fn articles_file(dir: &Path, prefix: &str, count: usize) -> PathBuf {
    let lines: Vec<String> = (0..count)
        .map(|n| {
            format!(
                r#"{{"id": "{prefix}-{n}", "title": "Talks in Geneva on sanctions, round {n}", "body": "Diplomats met in Geneva on day {n} of talks on sanctions and a ceasefire; {prefix} reported that a further round was planned.", "date": "2024-02-{:02}"}}"#,
                n % 28 + 1
            )
        })
        .collect();
    let path = dir.join(format!("{prefix}.jsonl"));
    fs::write(&path, lines.join("\n")).unwrap();
    path
}

/// `geonews index ARGS FILE` started in the background, its standard error piped.
pub fn spawn_index(index: &Path, args: &[&str], file: &Path) -> Child {
    Command::new(binary())
        .arg("--index")
        .arg(index)
        .arg("index")
        .args(args)
        .arg(file)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The live generation's folder.
pub fn live_generation(index: &Path) -> PathBuf {
    let current = fs::read_to_string(index.join("CURRENT")).unwrap();
    index.join(current.trim())
}

/// `geonews search` run again and again on an index, each in its own process, until stopped.
pub struct SearchLoop {
    stop: Arc<AtomicBool>,
    searches: thread::JoinHandle<(usize, Vec<String>)>,
}

impl SearchLoop {
    pub fn start(index: &Path) -> SearchLoop {
        let stop = Arc::new(AtomicBool::new(false));
        let index = index.to_owned();
        let stopped = Arc::clone(&stop);
        let searches = thread::spawn(move || {
            let (mut runs, mut failures) = (0, Vec::new());
            while !stopped.load(Ordering::Relaxed) {
                let output = geonews(&index)
                    .args(["search", "sanctions", "-n", "5", "-f", "json"])
                    .output()
                    .unwrap();
                runs += 1;
                if !output.status.success() {
                    failures.push(String::from_utf8_lossy(&output.stderr).into_owned());
                }
            }
            (runs, failures)
        });
        SearchLoop { stop, searches }
    }

    /// Stops the searches, checking that some ran and none failed.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let (runs, failures) = self.searches.join().unwrap();
        assert!(runs > 0);
        assert!(
            failures.is_empty(),
            "{} of {runs} searches failed: {:?}",
            failures.len(),
            failures.first()
        );
    }
}
