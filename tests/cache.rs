//! Render once, analyse many: a second run of the same footage reads the
//! cached frames and replays the cached detections, with exactly the same
//! results; a configuration that changes only what comes after detection
//! replays too; a damaged cache entry is rendered again with a warning.

mod common;

use common::{SMALL, camtwin_cached, write};

fn run(scenario: &std::path::Path, out: &std::path::Path, cache: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec!["run", scenario.to_str().expect("utf8"), "--out", out.to_str().expect("utf8")];
    args.extend_from_slice(extra);
    let o = camtwin_cached(&args, cache);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "run failed: {stderr}");
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary");
    format!("{summary}\n{stderr}")
}

fn file(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).expect(name)
}

#[test]
fn a_second_run_replays_the_cache_with_identical_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    // Two configurations that differ only after detection (k, ε).
    let text = format!(
        "{SMALL}\n[[privacy]]\nname = \"plain\"\n\n[[privacy]]\nname = \"protected\"\nk = 3\nepsilon = 1.0\n\n\
             [[privacy]]\nname = \"kept\"\nretention_s = 2.0\npixelate_people = true\n"
    );
    let scenario = write(dir.path(), "small.toml", &text);
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    let log = run(&scenario, &first, &cache, &["--config", "plain", "--export"]);
    assert!(log.contains("Cache: 0 of 200 frames read from cached footage"), "{log}");
    assert!(log.contains("200 frames rendered (") && log.contains(" ms/frame)"), "{log}");
    let log = run(&scenario, &second, &cache, &["--config", "plain"]);
    assert!(log.contains("Cache: 200 of 200 frames read from cached footage"), "{log}");
    assert!(log.contains("200 of 200 analysed frames replayed"), "{log}");
    // The replay says what it did, not a rendering rate and 0.0 ms per frame.
    assert!(log.contains("200 frames read from the cache;"), "{log}");
    assert!(log.contains("(detections replayed from the cache)") && !log.contains("frames rendered"), "{log}");
    for f in ["counts.csv", "errors.csv", "crossings.csv", "intrusiveness.csv", "aggregates-cam.csv"] {
        assert_eq!(file(&first, f), file(&second, f), "{f} differs between the rendered and the replayed run");
    }
    let protected = dir.path().join("protected");
    let log = run(&scenario, &protected, &cache, &["--config", "protected"]);
    assert!(log.contains("200 of 200 analysed frames replayed"), "k and ε act after detection: {log}");
    assert!(file(&protected, "aggregates-cam.json").contains("laplace"));
    // Kept frames with whole-person pixelation: a second run replays the
    // detections, and its frames (which carry no pixels) are still kept and audited.
    let kept = dir.path().join("kept");
    run(&scenario, &kept, &cache, &["--config", "kept"]);
    let log = run(&scenario, &kept, &cache, &["--config", "kept"]);
    assert!(log.contains("200 of 200 analysed frames replayed"), "{log}");
    let lifetimes = file(&kept, "frames-cam.csv");
    assert!(lifetimes.lines().skip(1).any(|l| l.ends_with("true")), "kept frames are audited as retained");

    // Damage one cached frame: it is rendered again, with a warning, and the
    // results do not change.
    let entry = std::fs::read_dir(cache.join("footage"))
        .expect("cache")
        .flatten()
        .find(|e| e.path().join("meta.json").is_file())
        .expect("one entry");
    std::fs::write(entry.path().join("frames/000005.png"), b"not a png").expect("damage");
    let third = dir.path().join("third");
    let log = run(&scenario, &third, &cache, &["--config", "plain", "--export"]);
    assert!(log.contains("unreadable"), "{log}");
    assert_eq!(file(&first, "counts.csv"), file(&third, "counts.csv"));
    // The id buffer is cached with the footage: labels exported from cached
    // frames are the visible-pixel boxes of the rendered run.
    for f in ["export/cam/gt/gt.txt", "export/cam/gt/gt_amodal.txt"] {
        assert!(file(&first, f) == file(&third, f), "{f} differs between rendered and cached footage");
    }
}

#[test]
fn a_replayed_run_keeps_the_faces_its_filter_blurred() {
    // A camera over a shop door looking along the sidewalk, close enough for
    // faces to be identifiable, with the ground-truth face blur.
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let close = SMALL.replace("duration_s = 20.0", "duration_s = 8.0").replace(
        "position = [0.0, -3.6, 5.0]\nyaw_deg = 90.0\npitch_deg = 27.0\nhfov_deg = 42.0",
        "position = [4.0, 6.8, 2.6]\nyaw_deg = 180.0\npitch_deg = 12.0\nhfov_deg = 50.0",
    );
    assert_ne!(close, SMALL.replace("duration_s = 20.0", "duration_s = 8.0"), "the camera was not moved");
    let text = format!("{close}\n[[privacy]]\nname = \"blurred\"\nface_blur = \"truth\"\n");
    let scenario = write(dir.path(), "door.toml", &text);
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    run(&scenario, &first, &cache, &[]);
    let log = run(&scenario, &second, &cache, &[]);
    assert!(log.contains("80 of 80 analysed frames replayed"), "{log}");
    let measured = file(&first, "intrusiveness.csv");
    let mut rows = csv::Reader::from_reader(measured.as_bytes());
    let col = rows.headers().expect("header").iter().position(|h| h == "face_s_blurred").expect("column");
    let face_s: f64 = rows.records().next().expect("a row").expect("row")[col].parse().expect("number");
    assert!(face_s > 0.0, "no face was blurred: {measured}");
    assert_eq!(measured, file(&second, "intrusiveness.csv"), "the replay lost the blurred faces");
}
