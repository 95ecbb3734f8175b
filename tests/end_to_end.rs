//! A short scenario through the whole product: simulation, Bevy rendering,
//! the actor pipeline with the real detector, the passive infrared counter, and the
//! outputs, with camera counts within a stated tolerance of ground truth.

mod common;

use std::collections::BTreeMap;

use common::{SMALL, camtwin, write};

/// The numbers a reference tool printed after `prefix` on a line of its own.
fn figures(said: &str, prefix: &str) -> Vec<f64> {
    said.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in {said}"))
        .split_whitespace()
        .map(|v| v.parse().expect("number"))
        .collect()
}

/// A one-row CSV of camtwin's scores: its text and its numbers.
fn csv_row(path: &std::path::Path) -> (String, Vec<f64>) {
    let text = std::fs::read_to_string(path).expect("scores file");
    let values = text.lines().nth(1).expect("a row").split(',').map(|v| v.parse().expect("number")).collect();
    (text, values)
}

#[test]
fn small_street_counts_close_to_ground_truth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "small.toml", SMALL);
    let out_dir = dir.path().join("out");
    let out = camtwin(&[
        "run",
        scenario.to_str().expect("utf8"),
        "--out",
        out_dir.to_str().expect("utf8"),
        "--export-truth",
        "--export",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "run failed: {stderr}");
    for f in
        ["counts.csv", "errors.csv", "crossings.csv", "counts.png", "summary.md", "aggregates-cam.csv", "truth-cam.csv"]
    {
        assert!(out_dir.join(f).is_file(), "{f} missing");
    }
    // The camera's zone occupancy follows the truth's (persons, whole run).
    let mut zones = csv::Reader::from_path(out_dir.join("zones.csv")).expect("zones.csv");
    let (mut seen, mut truth) = (0.0, 0.0);
    for rec in zones.records() {
        let rec = rec.expect("row");
        assert_eq!(&rec[1], "around-line");
        seen += rec[5].parse::<f64>().expect("mean_occupancy");
        truth += rec[6].parse::<f64>().expect("truth_mean_occupancy");
    }
    assert!(truth > 0.5, "people stand in the zone: {truth}");
    assert!((seen / truth - 1.0).abs() < 0.5, "camera occupancy {seen} against truth {truth}");
    let mut reader = csv::Reader::from_path(out_dir.join("counts.csv")).expect("counts.csv");
    let headers = reader.headers().expect("header").clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        ["interval_start_s", "interval_end_s", "source", "line", "class", "direction", "count", "ground_truth"]
    );
    // (source, direction) → (count, truth), persons only.
    let mut totals: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for rec in reader.records() {
        let rec = rec.expect("row");
        if &rec[4] != "person" {
            continue;
        }
        assert_eq!(&rec[3], "north", "every source counts the scenario's one line");
        let e = totals.entry((rec[2].to_string(), rec[5].to_string())).or_default();
        e.0 += rec[6].parse::<u64>().expect("count");
        e.1 += rec[7].parse::<u64>().expect("truth");
    }
    println!("{totals:#?}");
    let cam: (u64, u64) =
        totals.iter().filter(|((s, _), _)| s == "camera:cam").fold((0, 0), |a, (_, v)| (a.0 + v.0, a.1 + v.1));
    let ir: (u64, u64) =
        totals.iter().filter(|((s, _), _)| s == "passive_infrared:ir").fold((0, 0), |a, (_, v)| (a.0 + v.0, a.1 + v.1));
    assert!(cam.1 >= 5, "the scenario should produce crossings: {cam:?}");
    assert_eq!(cam.1, ir.1, "both sources are scored against the same ground truth");
    // Stated tolerance, the product's target: in each direction the camera
    // is within 10 % (or 2) of ground truth. This street is the densest of
    // the test seeds (21 crossings in 20 s); on seeds 7-12 the camera is off
    // by 0 or 1 in each direction but once, by 2 of 14 (docs/PERFORMANCE.md).
    for dir in ["positive", "negative"] {
        let (count, truth) = totals[&("camera:cam".to_string(), dir.to_string())];
        assert!(truth >= 2, "the scenario should produce {dir} crossings: {totals:?}");
        let tolerance = (truth as f64 * 0.10).max(2.0);
        assert!(
            (count as f64 - truth as f64).abs() <= tolerance,
            "{dir}: camera counted {count} for {truth} true crossings (tolerance {tolerance})"
        );
    }
    // The camera's error split: its true crossings are the truth of its line,
    // at least half of them visible on this open sidewalk, and the parts add up.
    let mut split = csv::Reader::from_path(out_dir.join("crossings.csv")).expect("crossings.csv");
    let (mut true_total, mut visible_total, mut lost_total, mut extra_total) = (0u64, 0u64, 0u64, 0u64);
    let (mut not_visible_total, mut counted_visible_total) = (0u64, 0u64);
    for rec in split.records() {
        let rec = rec.expect("row");
        if &rec[2] != "person" {
            continue;
        }
        let n: Vec<u64> = (4..12).map(|i| rec[i].parse().expect("number")).collect();
        let [truth, visible, counted, counted_visible, counted_hidden, extra, not_visible, lost] = n[..] else {
            unreachable!("eight numbers")
        };
        assert_eq!(counted, counted_visible + counted_hidden + extra, "{rec:?}");
        assert_eq!(not_visible, truth - visible, "{rec:?}");
        assert_eq!(lost, visible - counted_visible, "{rec:?}");
        assert!(extra <= 1, "at most one count that matches no true crossing: {rec:?}");
        true_total += truth;
        visible_total += visible;
        lost_total += lost;
        extra_total += extra;
        not_visible_total += not_visible;
        counted_visible_total += counted_visible;
    }
    // The crossings it could not see one by one, each with what hid it.
    let mut unseen = csv::Reader::from_path(out_dir.join("unseen-crossings.csv")).expect("unseen-crossings.csv");
    let reasons = [
        "hidden_by_people",
        "hidden_by_vehicles",
        "hidden_by_buildings",
        "cut_by_image_edge",
        "too_small",
        "out_of_view",
    ];
    let mut unseen_people = 0u64;
    for rec in unseen.records() {
        let rec = rec.expect("row");
        assert!(reasons.contains(&&rec[6]), "{rec:?}");
        unseen_people += u64::from(&rec[2] == "person");
    }
    assert_eq!(unseen_people, not_visible_total, "one row per crossing the camera could not see");
    assert_eq!(true_total, cam.1, "the split counts the same true crossings as counts.csv");
    // The lost crossings one by one: as many per direction as the split says.
    let mut lost_file = csv::Reader::from_path(out_dir.join("lost-crossings.csv")).expect("lost-crossings.csv");
    let mut lost_rows = 0u64;
    let mut lost_agents: Vec<(String, f64)> = Vec::new();
    for rec in lost_file.records() {
        let rec = rec.expect("row");
        assert_eq!((&rec[0], &rec[1], &rec[2]), ("camera:cam", "north", "person"), "{rec:?}");
        let t: f64 = rec[4].parse().expect("time_s");
        assert!((0.0..=20.0).contains(&t), "{rec:?}");
        lost_agents.push((rec[5].to_string(), t));
        lost_rows += 1;
    }
    assert_eq!(lost_rows, lost_total, "one row per crossing the pipeline lost");
    // And the extra counts one by one.
    let mut extra_file = csv::Reader::from_path(out_dir.join("extra-counts.csv")).expect("extra-counts.csv");
    assert_eq!(
        extra_file.headers().expect("header"),
        vec!["source", "line", "class", "direction", "time_s", "rule", "track"]
    );
    let extra_rows: Vec<csv::StringRecord> = extra_file.records().collect::<Result<_, _>>().expect("extra rows");
    assert_eq!(extra_rows.len() as u64, extra_total, "one row per extra count");
    // Each names the counter's rule that made it.
    let rules = ["crossed", "born-at-line", "handover", "companion", "swap", "turn-back"];
    assert!(extra_rows.iter().all(|r| rules.contains(&&r[5]) && r[6].parse::<u64>().is_ok()), "{extra_rows:?}");
    // And every count, good or extra, with what it paired with.
    let mut counted_file =
        csv::Reader::from_path(out_dir.join("counted-crossings.csv")).expect("counted-crossings.csv");
    assert_eq!(
        counted_file.headers().expect("header"),
        vec!["source", "line", "class", "direction", "time_s", "rule", "track", "paired", "agent", "crossed_s"]
    );
    let counted_rows: Vec<csv::StringRecord> = counted_file.records().collect::<Result<_, _>>().expect("counted rows");
    let paired = |kind: &str| counted_rows.iter().filter(|r| &r[2] == "person" && &r[7] == kind).count() as u64;
    assert_eq!((paired("visible"), paired("extra")), (counted_visible_total, extra_total), "{counted_rows:?}");
    assert!(
        counted_rows.iter().all(|r| (&r[7] == "extra") == r[8].is_empty() && (&r[7] == "extra") == r[9].is_empty()),
        "a paired count names its agent and crossing time, an extra one neither: {counted_rows:?}"
    );
    assert!(visible_total * 2 >= true_total, "{visible_total} of {true_total} visible");
    // Exported labels: one row per agent in view per frame, boxes inside the image.
    let mut truth = csv::Reader::from_path(out_dir.join("truth-cam.csv")).expect("truth-cam.csv");
    let header: Vec<String> = truth.headers().expect("header").iter().map(String::from).collect();
    assert_eq!(header[..4], ["frame", "time_s", "agent", "class"]);
    let rows: Vec<csv::StringRecord> = truth.records().collect::<Result<_, _>>().expect("rows");
    // Each lost crossing names a walker labelled in view when it crossed.
    for (agent, t) in &lost_agents {
        let labelled = rows
            .iter()
            .any(|r| &r[2] == agent && &r[3] == "person" && (r[1].parse::<f64>().expect("time_s") - t).abs() <= 0.5);
        assert!(labelled, "lost crossing of agent `{agent}` at {t} s has no label near that time");
    }
    let frames: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.get(0).expect("frame")).collect();
    assert_eq!(frames.len(), 200, "every frame of 20 s at 10 fps has people in view");
    for r in &rows {
        let v: Vec<f32> = (4..10).map(|i| r[i].parse().expect("number")).collect();
        assert!(v[0] >= 0.0 && v[1] >= 0.0 && v[2] <= 320.0 && v[3] <= 240.0 && v[0] < v[2] && v[1] < v[3], "{r:?}");
        assert!((0.0..=1.0).contains(&v[4]) && v[5] > 0.0, "{r:?}");
    }
    // Visible boxes from the id buffer: inside the amodal box (to the pixel),
    // the whole box for people in the open, a smaller one for people partly
    // hidden, and none for people wholly hidden.
    let visible: Vec<csv::StringRecord> = rows.iter().filter(|r| !r[10].is_empty()).cloned().collect();
    let (mut open, mut cut) = (0, 0);
    for r in &visible {
        let a: Vec<f32> = (4..8).map(|i| r[i].parse().expect("amodal")).collect();
        let v: Vec<f32> = (10..14).map(|i| r[i].parse().expect("visible box")).collect();
        let fraction: f32 = r[14].parse().expect("visible pixel fraction");
        assert!(v[0] >= a[0].floor() && v[1] >= a[1].floor() && v[2] <= a[2].ceil() && v[3] <= a[3].ceil(), "{r:?}");
        assert!(fraction > 0.0 && fraction <= 1.0, "{r:?}");
        let height_ratio = (v[3] - v[1]) / (a[3] - a[1]);
        if fraction > 0.98 && &r[3] == "person" {
            open += 1;
            assert!(height_ratio > 0.9, "a fully visible person's visible box is its box: {r:?}");
        }
        if fraction < 0.6 && (v[2] - v[0]) * (v[3] - v[1]) < 0.8 * (a[2] - a[0]) * (a[3] - a[1]) {
            cut += 1;
        }
    }
    assert!(open > 100 && cut > 10, "{open} labels in the open, {cut} partly hidden with a smaller visible box");
    let hidden = rows.iter().filter(|r| r[10].is_empty());
    assert!(hidden.clone().all(|r| r[14].parse::<f32>() == Ok(0.0)), "a row without a visible box shows no pixel");
    // The labelled data set: one PNG per frame, and the same labels as
    // truth-cam.csv in MOTChallenge and COCO layouts.
    let export = out_dir.join("export/cam");
    assert_eq!(std::fs::read_dir(export.join("img1")).expect("img1").count(), 200);
    let seqinfo = std::fs::read_to_string(export.join("seqinfo.ini")).expect("seqinfo.ini");
    for line in ["seqLength=200", "frameRate=10", "imWidth=320", "imHeight=240", "imExt=.png"] {
        assert!(seqinfo.lines().any(|l| l == line), "{line} missing from {seqinfo}");
    }
    let gt = std::fs::read_to_string(export.join("gt/gt.txt")).expect("gt.txt");
    assert_eq!(gt.lines().count(), visible.len(), "one gt line per visible agent and frame");
    let amodal = std::fs::read_to_string(export.join("gt/gt_amodal.txt")).expect("gt_amodal.txt");
    assert_eq!(amodal.lines().count(), visible.len(), "the amodal boxes beside");
    let rows = visible;
    let persons = rows.iter().filter(|r| &r[3] == "person").count();
    let mot_persons =
        gt.lines().filter(|l| l.split(',').nth(6) == Some("1") && l.split(',').nth(7) == Some("1")).count();
    assert_eq!(mot_persons, persons, "persons are MOT class 1 with conf 1");
    let first = &rows[0];
    let first_gt: Vec<f64> =
        gt.lines().next().expect("a line").split(',').map(|v| v.parse().expect("number")).collect();
    let x0: f64 = first[10].parse().expect("visible x0");
    let x1: f64 = first[12].parse().expect("visible x1");
    let fraction: f64 = first[14].parse().expect("visible pixel fraction");
    assert_eq!(first_gt[0], 1.0, "MOT frames count from 1");
    assert!((first_gt[2] - x0).abs() < 0.01 && (first_gt[4] - (x1 - x0)).abs() < 0.02, "{first_gt:?} vs {first:?}");
    assert!(
        (first_gt[8] - fraction).abs() < 0.001,
        "gt.txt's visibility is the pixel share: {first_gt:?} vs {first:?}"
    );
    let first_amodal: Vec<f64> =
        amodal.lines().next().expect("a line").split(',').map(|v| v.parse().expect("number")).collect();
    let ax0: f64 = first[4].parse().expect("x0");
    assert!((first_amodal[2] - ax0).abs() < 0.01, "{first_amodal:?} vs {first:?}");
    let coco: serde_json::Value =
        serde_json::from_slice(&std::fs::read(export.join("coco.json")).expect("coco.json")).expect("JSON");
    assert_eq!(coco["images"].as_array().map(Vec::len), Some(200));
    assert_eq!(coco["annotations"].as_array().map(Vec::len), Some(rows.len()));
    assert!(coco["annotations"][0]["amodal_bbox"].as_array().is_some_and(|b| b.len() == 4), "amodal box beside");
    // The reference tools read the files unedited: py-motmetrics keeps the
    // persons (conf 1) of gt.txt, pycocotools reads every image and box.
    let script = r#"
import sys, motmetrics as mm
from pycocotools.coco import COCO
df = mm.io.loadtxt(sys.argv[1] + "/gt/gt.txt", fmt="mot15-2D", min_confidence=1)
coco = COCO(sys.argv[1] + "/coco.json")
person = coco.getCatIds(catNms=["person"])
print("tools", len(df), df.index.get_level_values(0).nunique(), len(coco.getImgIds()), len(coco.getAnnIds()),
      len(coco.getAnnIds(catIds=person)))
ts = mm.io.loadtxt(sys.argv[1] + "/camtwin.txt", fmt="mot15-2D")
acc = mm.utils.compare_to_groundtruth(df, ts, "iou", distth=0.5)
m = mm.metrics.create().compute(acc, metrics=["mota", "idf1", "num_switches", "num_misses", "num_false_positives"])
print("metrics", m["mota"].iloc[0], m["idf1"].iloc[0], m["num_switches"].iloc[0], m["num_misses"].iloc[0],
      m["num_false_positives"].iloc[0])
import contextlib, io
from pycocotools.cocoeval import COCOeval
with contextlib.redirect_stdout(io.StringIO()):
    E = COCOeval(coco, coco.loadRes(sys.argv[1] + "/detections.json"), "bbox")
    E.params.catIds = person
    E.params.areaRng = [[float(sys.argv[2]), 1e10]]
    E.params.areaRngLbl = ["all"]
    E.evaluate(); E.accumulate(); E.summarize()
print("coco", E.stats[1], E.eval["recall"][0, 0, 0, 2])
import numpy as np
from trackeval.metrics import HOTA
gt = df.reset_index(); tr = ts.reset_index()
gids = {v: i for i, v in enumerate(sorted(set(gt["Id"])))}
tids = {v: i for i, v in enumerate(sorted(set(tr["Id"])))}
def boxes(d):
    return d[["X", "Y", "Width", "Height"]].to_numpy(dtype=float)
def iou(a, b):
    ix = np.clip(np.minimum((a[:, 0] + a[:, 2])[:, None], (b[:, 0] + b[:, 2])[None]) - np.maximum(a[:, 0][:, None], b[:, 0][None]), 0, None)
    iy = np.clip(np.minimum((a[:, 1] + a[:, 3])[:, None], (b[:, 1] + b[:, 3])[None]) - np.maximum(a[:, 1][:, None], b[:, 1][None]), 0, None)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - ix * iy
    return np.where(union > 0, ix * iy / np.maximum(union, 1e-12), 0.0)
data = {"num_gt_ids": len(gids), "num_tracker_ids": len(tids), "num_gt_dets": len(gt), "num_tracker_dets": len(tr),
        "gt_ids": [], "tracker_ids": [], "similarity_scores": []}
for f in sorted(set(gt["FrameId"]) | set(tr["FrameId"])):
    g = gt[gt["FrameId"] == f]; t = tr[tr["FrameId"] == f]
    data["gt_ids"].append(np.array([gids[v] for v in g["Id"]], dtype=int))
    data["tracker_ids"].append(np.array([tids[v] for v in t["Id"]], dtype=int))
    data["similarity_scores"].append(iou(boxes(g), boxes(t)))
r = HOTA().eval_sequence(data)
print("hota", r["HOTA"].mean(), r["DetA"].mean(), r["AssA"].mean())
"#;
    // The area range of camtwin's detection scores (first column of detection.csv).
    let (detection_csv, detection) = csv_row(&export.join("detection.csv"));
    let min_area = detection[0];
    assert!(min_area > 0.0, "the detection metrics state the size they score: {detection_csv}");
    let tools = std::process::Command::new(common::eval_python())
        .args(["-c", script, export.to_str().expect("utf8"), &min_area.to_string()])
        .output()
        .expect("the evaluation venv runs: `make eval`");
    let said = String::from_utf8_lossy(&tools.stdout);
    assert!(tools.status.success(), "{said}{}", String::from_utf8_lossy(&tools.stderr));
    let line = said.lines().find(|l| l.starts_with("tools ")).expect("the tools' counts");
    let n: Vec<usize> = line.split_whitespace().skip(1).map(|v| v.parse().expect("count")).collect();
    assert_eq!(n, [persons, 200, 200, rows.len(), persons], "what the tools read: {line}");
    // camtwin's own MOTA and IDF1 of its tracks equal py-motmetrics' on the
    // exported files (within 0.5 percentage point; they agree exactly).
    let reference = figures(&said, "metrics ");
    let (ours, values) = csv_row(&export.join("tracking.csv"));
    let (mota, idf1, switches, misses, false_pos) = (values[6], values[8], values[5], values[3], values[4]);
    assert!((mota - reference[0]).abs() <= 0.005, "MOTA {mota} against py-motmetrics {}", reference[0]);
    assert!((idf1 - reference[1]).abs() <= 0.005, "IDF1 {idf1} against py-motmetrics {}", reference[1]);
    assert_eq!([switches, misses, false_pos], [reference[2], reference[3], reference[4]], "{ours}");
    assert!(values[1] > 0.0, "the tracker's output was exported: {ours}");
    // ... and its HOTA, DetA and AssA equal TrackEval's HOTA metric.
    let hota_ref = figures(&said, "hota ");
    for (k, name) in ["HOTA", "DetA", "AssA"].iter().enumerate() {
        assert!(
            (values[9 + k] - hota_ref[k]).abs() <= 0.005,
            "{name} {} against TrackEval {}",
            values[9 + k],
            hota_ref[k]
        );
    }
    // camtwin's AP50 and recall of its detections equal pycocotools'.
    let coco_ref = figures(&said, "coco ");
    let (ours, values) = csv_row(&export.join("detection.csv"));
    let (recall, ap50) = (values[5], values[6]);
    assert!(values[1] > 0.0 && ap50 > 0.3, "detections were exported and score: {ours}");
    assert!((ap50 - coco_ref[0]).abs() <= 0.005, "AP50 {ap50} against pycocotools {}", coco_ref[0]);
    assert!((recall - coco_ref[1]).abs() <= 0.005, "recall {recall} against pycocotools {}", coco_ref[1]);
    let summary = std::fs::read_to_string(out_dir.join("summary.md")).expect("summary");
    assert!(
        summary.contains("WAPE")
            && summary.contains("200 frames were saved")
            && summary.contains("could see")
            && summary.contains("Counts by the counter's rule that made them: crossed "),
        "{summary}"
    );
}
