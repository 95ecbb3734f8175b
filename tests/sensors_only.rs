//! A scenario with sensors and no camera runs end to end through the
//! binary, and its sensors are scored in the same files as cameras.

mod common;

use common::{camtwin, write};

const SENSORS_ONLY: &str = r#"
[scenario]
name = "sensors only"
seed = 3
duration_s = 120.0

[street]
length_m = 40.0
road_width_m = 7.0
sidewalk_width_m = 3.5

[pedestrians]
count = 150
group_share = 0.3

[vehicles]
count = 12

[parking]
side = "south"
bays = 2
first_x_m = 4.0

[[lines]]
id = "north"
from = [0.0, 3.5]
to = [0.0, 7.0]

[[lines]]
id = "road"
from = [-5.0, -3.5]
to = [-5.0, 3.5]

[[lines]]
id = "section"
from = [5.0, -7.0]
to = [5.0, 7.0]

[aggregation]
interval_s = 30
"#;

/// The scenario above with one sensor of every kind.
fn sensors_only() -> String {
    format!("{SENSORS_ONLY}\n{}", include_str!("../sim/tests/fixtures/every_sensor.toml"))
}

fn column(path: &std::path::Path, name: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_path(path).expect("csv");
    let i = reader.headers().expect("header").iter().position(|h| h == name).expect("column");
    reader.records().map(|r| r.expect("row")[i].to_string()).collect()
}

#[test]
fn a_scenario_with_sensors_and_no_camera_runs_and_scores_every_sensor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "sensors.toml", &sensors_only());
    let out_dir = dir.path().join("out");
    // No model folder is needed without a camera.
    let out = camtwin(&[
        "run",
        scenario.to_str().expect("utf8"),
        "--out",
        out_dir.to_str().expect("utf8"),
        "--models",
        dir.path().join("no-models").to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "run failed: {}", String::from_utf8_lossy(&out.stderr));
    let sources = column(&out_dir.join("counts.csv"), "source");
    for s in
        ["passive_infrared:ir", "thermal_array:th", "inductive_loop:loop", "wifi:wifi", "bluetooth:bt", "manual:man"]
    {
        assert!(sources.iter().any(|x| x == s), "{s} missing from counts.csv");
    }
    assert!(!sources.iter().any(|x| x.starts_with("camera:")));
    let errors = column(&out_dir.join("errors.csv"), "source");
    assert!(errors.iter().any(|x| x == "passive_infrared:ir") && errors.iter().any(|x| x == "manual:man"));
    // The observer counted the first minute only: two 30-s intervals.
    let mut reader = csv::Reader::from_path(out_dir.join("counts.csv")).expect("counts");
    let manual_starts: std::collections::BTreeSet<u32> = reader
        .records()
        .map(|r| r.expect("row"))
        .filter(|r| &r[2] == "manual:man")
        .map(|r| r[0].parse().expect("start"))
        .collect();
    assert_eq!(manual_starts.into_iter().collect::<Vec<_>>(), vec![0, 30]);
    let places = column(&out_dir.join("occupancy.csv"), "place");
    assert!(places.iter().any(|p| p == "z") && places.iter().any(|p| p == "mag"));
    assert!(!column(&out_dir.join("loops.csv"), "vehicles").is_empty());
    assert!(!column(&out_dir.join("dwell.csv"), "sessions").is_empty());
    let kinds = column(&out_dir.join("sensors.csv"), "data_kind");
    assert_eq!(kinds.len(), 8);
    assert!(kinds.iter().any(|k| k == "pseudonymous_device_ids") && kinds.iter().any(|k| k == "none_personal"));
    let summary = std::fs::read_to_string(out_dir.join("summary.md")).expect("summary");
    assert!(summary.contains("## Sensors"), "{summary}");
}
