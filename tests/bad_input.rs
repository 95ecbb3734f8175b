//! Bad input: every case is a one-line error naming what is wrong, a
//! non-zero exit, no panic, and no output that looks complete.

mod common;

use common::{SMALL, camtwin, write};

fn assert_clean_failure(out: &std::process::Output, expect: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "panicked: {stderr}");
    let error_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "one error line expected: {stderr}");
    for e in expect {
        assert!(error_lines[0].contains(e), "`{e}` missing from: {}", error_lines[0]);
    }
}

#[test]
fn nonexistent_scenario_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let out = camtwin(&["run", "no/such/scenario.toml", "--out", out_dir.to_str().expect("utf8")]);
    assert_clean_failure(&out, &["no/such/scenario.toml"]);
    assert!(!out_dir.join("counts.csv").exists());
}

#[test]
fn malformed_toml_names_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = SMALL.replace("seed = 7", "seed = = 7");
    let path = write(dir.path(), "bad.toml", &bad);
    let out = camtwin(&["check", path.to_str().expect("utf8")]);
    let line = bad.lines().position(|l| l.starts_with("seed")).expect("seed line") + 1;
    assert_clean_failure(&out, &[&format!("bad.toml:{line}:")]);
}

#[test]
fn unknown_key_and_wrong_type_name_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "typo.toml", &SMALL.replace("fps = 10", "fps = 10\nframerate = 5"));
    assert_clean_failure(&camtwin(&["check", path.to_str().expect("utf8")]), &["typo.toml:", "framerate"]);
    let path = write(dir.path(), "type.toml", &SMALL.replace("fps = 10", "fps = \"ten\""));
    assert_clean_failure(&camtwin(&["check", path.to_str().expect("utf8")]), &["type.toml:", "cameras[0].fps"]);
}

#[test]
fn camera_that_sees_no_walkable_area_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "sky.toml", &SMALL.replace("pitch_deg = 27.0", "pitch_deg = -50.0"));
    assert_clean_failure(&camtwin(&["check", path.to_str().expect("utf8")]), &["sky.toml:", "sees no walkable area"]);
}

#[test]
fn zero_agents_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No pedestrians and no vehicles (a road with vehicles and no one
    // walking is a valid scenario).
    let text = SMALL.replace("count = 70", "count = 0").replace("[vehicles]\ncount = 2", "[vehicles]\ncount = 0");
    assert!(text.contains("[vehicles]\ncount = 0"), "the small scenario's vehicles moved");
    let path = write(dir.path(), "empty.toml", &text);
    assert_clean_failure(&camtwin(&["check", path.to_str().expect("utf8")]), &["empty.toml:", "pedestrians.count"]);
}

#[test]
fn detector_thresholds_outside_what_the_cache_keeps_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "ok.toml", SMALL);
    let out_dir = dir.path().join("out");
    let run = |flag: &str, value: &str| {
        camtwin(&["run", scenario.to_str().expect("utf8"), "--out", out_dir.to_str().expect("utf8"), flag, value])
    };
    // Below the candidates' floor (0.1), looser than their suppression (0.7).
    assert_clean_failure(&run("--score-threshold", "0.05"), &["--score-threshold", "0.05"]);
    assert_clean_failure(&run("--nms-iou", "0.8"), &["--nms-iou", "0.8"]);
    assert!(!out_dir.exists(), "nothing written");
}

#[test]
fn unwritable_out_fails_before_any_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "ok.toml", SMALL);
    // A path below a regular file can never be created, even by root.
    let blocker = write(dir.path(), "file", "");
    let out_dir = blocker.join("out");
    let out = camtwin(&["run", scenario.to_str().expect("utf8"), "--out", out_dir.to_str().expect("utf8")]);
    assert_clean_failure(&out, &["output folder", "out"]);
}

#[test]
fn missing_model_names_the_command_that_fetches_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "ok.toml", SMALL);
    let out_dir = dir.path().join("out");
    let out = camtwin(&[
        "run",
        scenario.to_str().expect("utf8"),
        "--out",
        out_dir.to_str().expect("utf8"),
        "--models",
        dir.path().join("nomodels").to_str().expect("utf8"),
    ]);
    assert_clean_failure(&out, &["make models"]);
    assert!(!out_dir.exists(), "no output folder before the model is loaded");
}

#[test]
fn a_model_file_that_is_not_onnx_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "ok.toml", SMALL);
    let models = dir.path().join("models");
    std::fs::create_dir(&models).expect("models dir");
    let json = std::fs::read(common::models().join("yolov4-tiny.json")).expect("sidecar: run `make models`");
    std::fs::write(models.join("yolov4-tiny.json"), &json).expect("copy sidecar");
    let garbage = b"this is not a neural network";
    std::fs::write(models.join("yolov4-tiny.onnx"), garbage).expect("write");
    let hex = |b: &[u8]| -> String {
        use sha2::Digest;
        sha2::Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
    };
    let sums = format!("{}  yolov4-tiny.onnx\n{}  yolov4-tiny.json\n", hex(garbage), hex(&json));
    std::fs::write(models.join("SHA256SUMS"), sums).expect("sums");
    let out_dir = dir.path().join("out");
    let out = camtwin(&[
        "run",
        scenario.to_str().expect("utf8"),
        "--out",
        out_dir.to_str().expect("utf8"),
        "--models",
        models.to_str().expect("utf8"),
    ]);
    assert_clean_failure(&out, &["cannot load the detector model", "yolov4-tiny.onnx"]);
    assert!(!out_dir.exists());
}

#[test]
fn a_run_that_fails_midway_leaves_no_earlier_result_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "ok.toml", SMALL);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).expect("out");
    for f in ["counts.csv", "summary.md", "errors.csv"] {
        std::fs::write(out_dir.join(f), "from an earlier run").expect("stale result");
    }
    // Previews cannot be saved where a file named `frames` stands.
    std::fs::write(out_dir.join("frames"), "").expect("blocker");
    let out = camtwin(&[
        "run",
        scenario.to_str().expect("utf8"),
        "--out",
        out_dir.to_str().expect("utf8"),
        "--preview-frames",
        "1",
    ]);
    assert_clean_failure(&out, &["frames"]);
    for f in ["counts.csv", "summary.md", "errors.csv"] {
        assert!(!out_dir.join(f).exists(), "{f} of an earlier run is still there");
    }
}

#[test]
fn unknown_sensor_kind_names_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = SMALL.replace("kind = \"passive_infrared\"", "kind = \"sonar\"");
    let path = write(dir.path(), "sonar.toml", &text);
    let line = text.lines().position(|l| l.starts_with("kind = \"sonar\"")).expect("kind line") + 1;
    assert_clean_failure(
        &camtwin(&["check", path.to_str().expect("utf8")]),
        &[&format!("sonar.toml:{line}:"), "sensors[0].kind", "unknown sensor kind `sonar`"],
    );
}

#[test]
fn a_loop_on_a_sidewalk_and_a_reused_sensor_id_name_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sidewalk_loop = SMALL.replace(
        "[aggregation]",
        "[[sensors]]\nkind = \"inductive_loop\"\nid = \"loop\"\nline = \"north\"\nposition = [0.0, 5.0]\n\n[aggregation]",
    );
    let path = write(dir.path(), "loop.toml", &sidewalk_loop);
    let line = sidewalk_loop.lines().position(|l| l == "position = [0.0, 5.0]").expect("position line") + 1;
    assert_clean_failure(
        &camtwin(&["check", path.to_str().expect("utf8")]),
        &[&format!("loop.toml:{line}:"), "sensors[1].position", "not on the road"],
    );
    let reused = SMALL.replace(
        "[aggregation]",
        "[[sensors]]\nkind = \"manual\"\nid = \"ir\"\nline = \"north\"\nwindows = [[0.0, 6.0]]\n\n[aggregation]",
    );
    let path = write(dir.path(), "dup.toml", &reused);
    let line = reused.lines().enumerate().filter(|(_, l)| *l == "id = \"ir\"").nth(1).expect("second id").0 + 1;
    assert_clean_failure(
        &camtwin(&["check", path.to_str().expect("utf8")]),
        &[&format!("dup.toml:{line}:"), "sensors[1].id", "duplicate id `ir`"],
    );
    let watching = SMALL.replace(
        "[aggregation]",
        "[[sensors]]\nkind = \"manual\"\nid = \"obs\"\nline = \"north\"\nalso_watching = [\"nowhere\"]\n\
         windows = [[0.0, 6.0]]\n\n[aggregation]",
    );
    let path = write(dir.path(), "watch.toml", &watching);
    let line = watching.lines().position(|l| l.starts_with("also_watching")).expect("also_watching line") + 1;
    assert_clean_failure(
        &camtwin(&["check", path.to_str().expect("utf8")]),
        &[&format!("watch.toml:{line}:"), "sensors[1].also_watching", "unknown line `nowhere`"],
    );
}

#[test]
fn a_signal_off_the_street_or_always_green_names_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let signal = |x: &str, green: &str| {
        SMALL.replace(
            "[aggregation]",
            &format!(
                "[[vehicles.signals]]\nid = \"junction\"\nx_m = {x}\ncycle_s = 60.0\ngreen_s = {green}\n\n[aggregation]"
            ),
        )
    };
    // (file, x_m, green_s, the offending line, its key, what the error says)
    for (name, x, green, bad, key, says) in [
        ("outside.toml", "40.0", "30.0", "x_m = 40.0", "x_m", "outside the street"),
        ("green.toml", "0.0", "60.0", "green_s = 60.0", "green_s", "below the cycle"),
    ] {
        let text = signal(x, green);
        let path = write(dir.path(), name, &text);
        let line = text.lines().position(|l| l == bad).expect("offending line") + 1;
        assert_clean_failure(
            &camtwin(&["check", path.to_str().expect("utf8")]),
            &[&format!("{name}:{line}:"), &format!("vehicles.signals[0].{key}"), says],
        );
    }
}

#[test]
fn bad_privacy_configurations_are_located_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("[[privacy]]\nname = \"a\"\nepsilon = 0.0\n", "privacy[0].epsilon"),
        ("[[privacy]]\nname = \"a\"\nk = 0\n", "privacy[0].k"),
        ("[[privacy]]\nname = \"a\"\nresolution = [400, 240]\n", "privacy[0].resolution"),
        (
            "[[privacy]]\nname = \"a\"\nmasks = [{ image = [[900.0, 0.0], [990.0, 0.0], [990.0, 50.0]] }]\n",
            "masks[0].image",
        ),
        ("[[privacy]]\nname = \"a\"\n\n[[privacy]]\nname = \"a\"\n", "privacy[1].name"),
    ];
    for (i, (table, key)) in cases.iter().enumerate() {
        let scenario = write(dir.path(), &format!("bad{i}.toml"), &format!("{SMALL}\n{table}"));
        let out_dir = dir.path().join(format!("out{i}"));
        let out = camtwin(&["run", scenario.to_str().expect("utf8"), "--out", out_dir.to_str().expect("utf8")]);
        assert_clean_failure(&out, &[&format!("bad{i}.toml:"), key]);
        assert!(!out_dir.exists(), "case {i}: no output folder for a bad configuration");
    }
    let scenario = write(dir.path(), "ok.toml", SMALL);
    let out_dir = dir.path().join("out");
    let out = camtwin(&[
        "run",
        scenario.to_str().expect("utf8"),
        "--out",
        out_dir.to_str().expect("utf8"),
        "--config",
        "nope",
    ]);
    assert_clean_failure(&out, &["no privacy configuration `nope`", "default"]);
}

#[test]
fn printing_to_a_closed_pipe_is_not_a_panic() {
    // `camtwin cache list | head -0`: the reader is gone before camtwin prints.
    let cache = tempfile::tempdir().expect("cache dir");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_camtwin"))
        .args(["cache", "list", "--dir"])
        .arg(cache.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("camtwin starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("camtwin ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
