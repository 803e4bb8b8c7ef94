//! Replays every committed fuzz input through the same function the fuzzer runs: the seed and
//! minimised corpora (`fuzz/corpus/<target>/`) and every finding kept as a regression
//! (`fuzz/regressions/<target>/`). Seconds, on every `cargo test`; the fuzzer itself runs with
//! `fuzz/run-all.sh`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use keyward_fuzz::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs each input of `kind` for every target; returns how many ran per target.
fn replay(kind: &str) -> Vec<(&'static str, usize)> {
    TARGETS
        .iter()
        .map(|(name, run)| {
            let files = inputs(&fuzz_dir().join(kind).join(name));
            for file in &files {
                let data = fs::read(file).unwrap();
                // A panic names the input, so the failure says which file to open.
                let outcome = std::panic::catch_unwind(|| run(&data));
                assert!(outcome.is_ok(), "{name} panicked on {}", file.display());
            }
            (*name, files.len())
        })
        .collect()
}

#[test]
fn every_corpus_input_replays_without_a_finding() {
    for (name, count) in replay("corpus") {
        assert!(count > 0, "fuzz/corpus/{name} is empty: the target has no seeds");
    }
}

#[test]
fn every_regression_replays_without_a_finding() {
    replay("regressions");
}

/// Each library function has its one-line cargo-fuzz target, and each target a function, so
/// neither side can lose a parser without this failing.
#[test]
fn every_target_has_a_fuzz_target_file_and_back() {
    let in_library: BTreeSet<String> = TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    let files: BTreeSet<String> = inputs(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(in_library, files);
    let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for name in &in_library {
        let source = fs::read_to_string(fuzz_dir().join(format!("fuzz_targets/{name}.rs"))).unwrap();
        assert!(
            source.contains(&format!("keyward_fuzz::{name}(")),
            "fuzz_targets/{name}.rs does not call keyward_fuzz::{name}"
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
    }
}
