//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The detector model folder (made by `make models`).
pub fn models() -> PathBuf {
    root().join("assets/models")
}

/// Runs the camtwin binary with `args`, with a cache of its own that
/// starts empty, so every run renders and detects for real.
pub fn camtwin(args: &[&str]) -> Output {
    let cache = tempfile::tempdir().expect("cache dir");
    camtwin_cached(args, cache.path())
}

/// Runs the camtwin binary with `args` and the footage cache in `cache`.
pub fn camtwin_cached(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_camtwin"))
        .args(args)
        .current_dir(root())
        .env("RUST_LOG", "warn")
        .env("CAMTWIN_CACHE", cache)
        .output()
        .expect("the camtwin binary runs")
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write test file");
    p
}

/// A small street scenario for fast end-to-end runs: 320x240, a narrower
/// field of view so people are still 70+ px tall.
pub const SMALL: &str = r#"
[scenario]
name = "small"
seed = 7
duration_s = 20.0
step_hz = 20

[street]
length_m = 30.0
road_width_m = 7.0
sidewalk_width_m = 3.5

[pedestrians]
count = 70
group_share = 0.0

[vehicles]
count = 2

[[cameras]]
id = "cam"
position = [0.0, -3.6, 5.0]
yaw_deg = 90.0
pitch_deg = 27.0
hfov_deg = 42.0
width = 320
height = 240
fps = 10

[[lines]]
id = "north"
from = [0.0, 3.5]
to = [0.0, 7.0]

[[sensors]]
kind = "passive_infrared"
id = "ir"
line = "north"

[[zones]]
id = "around-line"
polygon = [[-1.5, 3.5], [1.5, 3.5], [1.5, 7.0], [-1.5, 7.0]]

[aggregation]
interval_s = 6
"#;

/// The Python of the evaluation venv made by `make eval`
/// (scripts/setup-eval.sh): py-motmetrics and pycocotools.
pub fn eval_python() -> PathBuf {
    let venv = std::env::var_os("CAMTWIN_EVAL_VENV").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/camtwin/eval-venv")
    });
    venv.join("bin/python")
}

/// The small street, shorter, with two privacy configurations and a
/// presence detector beside the infrared counter.
pub fn experiment_scenario() -> String {
    let s = SMALL.replace("duration_s = 20.0", "duration_s = 8.0").replace("interval_s = 6", "interval_s = 4");
    format!(
        "{s}\n[[sensors]]\nkind = \"presence\"\nid = \"pres\"\nzone = \"around-line\"\n\n\
         [[privacy]]\nname = \"native\"\n\n[[privacy]]\nname = \"low\"\nresolution = [160, 120]\nfps = 5.0\n"
    )
}

pub const EXPERIMENT: &str = r#"
[experiment]
name = "small-exp"
question = "Is a camera needed to count people on the small street?"
seeds = 2

[[purposes]]
name = "counts"
use = "statistics"
measure = "count"
classes = ["person"]
line = "north"
max_error = 0.5

[[purposes]]
name = "occupied"
use = "statistics"
measure = "occupancy"
zone = "around-line"
max_error = 0.5

[[scenarios]]
path = "small.toml"
"#;

/// Writes the small experiment (`small.toml` and `exp.toml`) into `dir`;
/// returns the experiment file. A folder with the scenario and the experiment file.
pub fn experiment_fixture(dir: &Path) -> PathBuf {
    write(dir, "small.toml", &experiment_scenario());
    write(dir, "exp.toml", EXPERIMENT)
}

/// The experiment's files whose content must not depend on how its jobs
/// were scheduled (one run, shards merged, Slurm).
pub const EXPERIMENT_RESULTS: [&str; 4] = ["means.csv", "errors.csv", "recommendations.csv", "report.md"];
