//! Every scenario and experiment file the project ships passes its own
//! checks: a user who copies one starts from a file that works.

use std::path::{Path, PathBuf};
use std::process::Command;

fn files(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    out.sort();
    out
}

fn camtwin(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_camtwin")).args(args).output().expect("runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn every_shipped_scenario_and_experiment_checks() {
    let scenarios = files("scenarios");
    assert!(scenarios.len() >= 8, "{scenarios:?}");
    for s in &scenarios {
        let (ok, text) = camtwin(&["check", &s.to_string_lossy()]);
        assert!(ok, "{}: {text}", s.display());
        let waits = std::fs::read_to_string(s).expect("reads").lines().any(|l| l.starts_with("wait ="));
        assert_eq!(text.contains("where people wait"), waits, "{}: {text}", s.display());
    }
    let experiments = files("experiments");
    assert!(experiments.len() >= 4, "{experiments:?}");
    let out = tempfile::tempdir().expect("tempdir");
    for e in &experiments {
        let (ok, text) =
            camtwin(&["experiment", &e.to_string_lossy(), "--plan", "--out", &out.path().to_string_lossy()]);
        assert!(ok && text.contains("to run"), "{}: {text}", e.display());
    }
}
