//! A damaged index is reported as damaged, never as a crash: overwriting a block of any kind
//! of segment file makes `search`, `stats` and `index` exit with code 5 and the advice,
//! `geonews check` names the segment, and `index --rebuild` restores the index.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;

const DAMAGED: i32 = 5;
const KINDS: [&str; 6] = ["idx", "pos", "term", "store", "fast", "fieldnorm"];

/// The live generation's files of one kind.
fn files_of_kind(index: &Path, kind: &str) -> Vec<PathBuf> {
    let live = fs::read_to_string(index.join("CURRENT")).unwrap();
    let mut files: Vec<PathBuf> = fs::read_dir(index.join(live.trim()))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == kind))
        .collect();
    files.sort();
    files
}

/// Overwrites up to 4 KB of `file` from a place `seed` picks with bytes it picks.
fn overwrite_block(file: &Path, seed: u64) {
    let mut bytes = fs::read(file).unwrap();
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let length = bytes.len().min(4096);
    let start = (next() as usize) % (bytes.len() - length + 1);
    for byte in &mut bytes[start..start + length] {
        *byte = next() as u8;
    }
    fs::write(file, bytes).unwrap();
}

fn assert_damaged(index: &Path, args: &[&str], what: &str) {
    let output = geonews(index).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(DAMAGED),
        "{what}: {args:?}: {stderr}"
    );
    assert!(
        stderr.contains("index damaged at") && stderr.contains("run `geonews check`"),
        "{what}: {args:?}: {stderr}"
    );
}

#[test]
fn every_kind_of_damaged_segment_file_is_reported_and_rebuilt() {
    for (seed, kind) in (1..).zip(KINDS) {
        let index = sample_index();
        let files = files_of_kind(index.path(), kind);
        assert!(!files.is_empty(), "no .{kind} file");
        overwrite_block(&files[0], seed);
        let what = format!(".{kind} overwritten");

        assert_damaged(index.path(), &["search", "sanctions"], &what);
        assert_damaged(index.path(), &["stats"], &what);
        assert_damaged(
            index.path(),
            &["index", articles().join("json").to_str().unwrap()],
            &what,
        );
        let check = geonews(index.path()).arg("check").output().unwrap();
        let report = String::from_utf8_lossy(&check.stdout);
        let segment: String = files[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .chars()
            .take(8)
            .collect();
        assert_eq!(check.status.code(), Some(DAMAGED), "{what}: {report}");
        assert!(
            report.contains(&format!("segment {segment}: {kind} fails its checksum")),
            "{what}: {report}"
        );

        geonews(index.path())
            .args(["index", "--rebuild"])
            .arg(articles())
            .assert()
            .success();
        assert!(total(&search(index.path(), "sanctions")) > 0, "{what}");
        geonews(index.path()).arg("check").assert().success();
    }
}

#[test]
fn a_damaged_list_of_segments_is_reported() {
    let index = sample_index();
    let live = fs::read_to_string(index.path().join("CURRENT")).unwrap();
    fs::write(index.path().join(live.trim()).join("meta.json"), b"{\"segm").unwrap();
    assert_damaged(
        index.path(),
        &["search", "sanctions"],
        "meta.json cut short",
    );
}
