//! A short scenario through the whole product: simulation, Bevy rendering,
//! the actor pipeline with the real detector, the infrared baseline, and the
//! outputs, with camera counts within a stated tolerance of ground truth.

mod common;

use std::collections::BTreeMap;

use common::{SMALL, camtwin, write};

#[test]
fn small_street_counts_close_to_ground_truth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "small.toml", SMALL);
    let out_dir = dir.path().join("out");
    let out =
        camtwin(&["run", scenario.to_str().expect("utf8"), "--out", out_dir.to_str().expect("utf8"), "--export-truth"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "run failed: {stderr}");
    for f in ["counts.csv", "counts.png", "summary.md", "aggregates-cam.csv", "truth-cam.csv"] {
        assert!(out_dir.join(f).is_file(), "{f} missing");
    }
    let mut reader = csv::Reader::from_path(out_dir.join("counts.csv")).expect("counts.csv");
    let headers = reader.headers().expect("header").clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        ["interval_start_s", "interval_end_s", "source", "class", "direction", "count", "ground_truth"]
    );
    // (source, direction) → (count, truth), persons only.
    let mut totals: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for rec in reader.records() {
        let rec = rec.expect("row");
        if &rec[3] != "person" {
            continue;
        }
        let e = totals.entry((rec[2].to_string(), rec[4].to_string())).or_default();
        e.0 += rec[5].parse::<u64>().expect("count");
        e.1 += rec[6].parse::<u64>().expect("truth");
    }
    println!("{totals:#?}");
    let cam: (u64, u64) =
        totals.iter().filter(|((s, _), _)| s == "camera:cam").fold((0, 0), |a, (_, v)| (a.0 + v.0, a.1 + v.1));
    let ir: (u64, u64) =
        totals.iter().filter(|((s, _), _)| s == "infrared:ir").fold((0, 0), |a, (_, v)| (a.0 + v.0, a.1 + v.1));
    assert!(cam.1 >= 5, "the scenario should produce crossings: {cam:?}");
    assert_eq!(cam.1, ir.1, "both sources are scored against the same ground truth");
    // Stated tolerance: the camera total is within 35 % (or 2) of ground truth.
    let tolerance = (cam.1 as f64 * 0.35).max(2.0);
    assert!(
        (cam.0 as f64 - cam.1 as f64).abs() <= tolerance,
        "camera counted {} for {} true crossings (tolerance {tolerance})",
        cam.0,
        cam.1
    );
    assert!(ir.0 <= ir.1, "the infrared model can only undercount");
    // Exported labels: one row per agent in view per frame, boxes inside the image.
    let mut truth = csv::Reader::from_path(out_dir.join("truth-cam.csv")).expect("truth-cam.csv");
    let header: Vec<String> = truth.headers().expect("header").iter().map(String::from).collect();
    assert_eq!(header[..4], ["frame", "time_s", "agent", "class"]);
    let rows: Vec<csv::StringRecord> = truth.records().collect::<Result<_, _>>().expect("rows");
    let frames: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.get(0).expect("frame")).collect();
    assert_eq!(frames.len(), 200, "every frame of 20 s at 10 fps has people in view");
    for r in &rows {
        let v: Vec<f32> = (4..10).map(|i| r[i].parse().expect("number")).collect();
        assert!(v[0] >= 0.0 && v[1] >= 0.0 && v[2] <= 320.0 && v[3] <= 240.0 && v[0] < v[2] && v[1] < v[3], "{r:?}");
        assert!((0.0..=1.0).contains(&v[4]) && v[5] > 0.0, "{r:?}");
    }
    let summary = std::fs::read_to_string(out_dir.join("summary.md")).expect("summary");
    assert!(summary.contains("WAPE") && summary.contains("none outlived detection"), "{summary}");
}
