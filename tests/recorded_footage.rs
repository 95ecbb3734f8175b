//! Recorded footage goes through the same pipeline: frames saved to disk by
//! one run and analysed again from the folder give byte-identical aggregates.

mod common;

use std::path::Path;

use common::{SMALL, camtwin, write};

/// `camtwin analyse` of the small street's camera `cam`, footage given as
/// `source` (`--frames` or `--video`) at `path`.
fn analyse_small(source: &str, path: &Path, scenario: &Path, out: &Path) -> std::process::Output {
    let utf8 = |p: &Path| p.to_str().expect("utf8").to_string();
    let (path, scenario, out) = (utf8(path), utf8(scenario), utf8(out));
    camtwin(&["analyse", source, &path, "--scenario", &scenario, "--camera", "cam", "--out", &out])
}

#[test]
fn frames_from_disk_give_the_same_aggregates_as_rendered_frames() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "small.toml", SMALL);
    let live = dir.path().join("live");
    let out = camtwin(&["run", scenario.to_str().expect("utf8"), "--out", live.to_str().expect("utf8"), "--export"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let frames = live.join("export/cam/img1");
    assert_eq!(std::fs::read_dir(&frames).expect("frames").count(), 200);
    let recorded = dir.path().join("recorded");
    let out = camtwin(&[
        "analyse",
        "--frames",
        frames.to_str().expect("utf8"),
        "--scenario",
        scenario.to_str().expect("utf8"),
        "--camera",
        "cam",
        "--out",
        recorded.to_str().expect("utf8"),
        "--gt",
        live.join("export/cam/gt/gt.txt").to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let a = std::fs::read_to_string(live.join("aggregates-cam.csv")).expect("live aggregates");
    let b = std::fs::read_to_string(recorded.join("aggregates-cam.csv")).expect("recorded aggregates");
    assert_eq!(a, b);
    // Given the labels, the recorded footage is scored like the live run
    // (gt.txt rounds boxes to 0.01 px, and frame times come from the frame
    // rate rather than the simulation clock, which moves the filtered boxes
    // and the IoU-weighted HOTA in far decimals).
    let read = |p: std::path::PathBuf| std::fs::read_to_string(p).expect("scores");
    for f in ["tracking.csv", "detection.csv"] {
        let values = |text: String| -> Vec<f64> {
            text.lines().nth(1).expect("a row").split(',').map(|v| v.parse().expect("number")).collect()
        };
        let (l, r) = (values(read(live.join("export/cam").join(f))), values(read(recorded.join(f))));
        assert_eq!(l.len(), r.len());
        assert!(l.iter().zip(&r).all(|(a, b)| (a - b).abs() <= 1e-3), "{f}: {l:?} against {r:?}");
    }
    assert!(a.lines().skip(1).any(|l| !l.ends_with(",0")), "something was counted: {a}");

    // The same footage as a lossless video file, decoded by ffmpeg, gives the
    // same aggregates; the file cut in half is an error that says so.
    let clip = dir.path().join("clip.mkv");
    let made = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-framerate", "10", "-i"])
        .arg(frames.join("%06d.png"))
        .args(["-c:v", "ffv1"])
        .arg(&clip)
        .status()
        .expect("ffmpeg runs (scripts/setup-system.sh installs it)");
    assert!(made.success());
    let from_video = dir.path().join("video");
    let out = analyse_small("--video", &clip, &scenario, &from_video);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = std::fs::read_to_string(from_video.join("aggregates-cam.csv")).expect("video aggregates");
    assert_eq!(a, v, "a lossless video counts like its frames");
    let bytes = std::fs::read(&clip).expect("clip");
    let cut = dir.path().join("cut.mkv");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("cut clip");
    let out = analyse_small("--video", &cut, &scenario, &dir.path().join("cut"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("cut.mkv") && err.contains("cut off"), "{err}");
    assert!(!dir.path().join("cut/aggregates-cam.csv").exists(), "no result from a cut-off video");

    // The same footage described by a camera file, as for a real camera: the
    // scenario's line once as an image polyline, once on the ground through a
    // calibration from four marked ground points. Both count about what the
    // scenario's camera counted.
    let s = camtwin_sim::scenario::Scenario::parse(SMALL, std::path::Path::new("small.toml")).expect("parses");
    let view = s.cameras[0].view();
    let px = |p: [f32; 2]| view.project([p[0], p[1], 0.0]).expect("in front of the camera");
    let marks = [[-3.0f32, 3.5], [3.0, 3.5], [3.0, 7.0], [-3.0, 7.0]];
    let image: Vec<String> = marks.iter().map(|m| format!("[{:.2}, {:.2}]", px(*m)[0], px(*m)[1])).collect();
    let ground: Vec<String> = marks.iter().map(|m| format!("[{}, {}]", m[0], m[1])).collect();
    let (a_px, b_px) = (px([0.0, 3.5]), px([0.0, 7.0]));
    let camera_file = format!(
        "[camera]\nid = \"real\"\nwidth = 320\nheight = 240\nfps = 10\n\n\
         [[lines]]\nid = \"drawn\"\nimage = [[{:.2}, {:.2}], [{:.2}, {:.2}]]\n\n\
         [[lines]]\nid = \"measured\"\nground = [[0.0, 3.5], [0.0, 7.0]]\n\n\
         [calibration]\nimage = [{}]\nground = [{}]\n\n[aggregation]\ninterval_s = 6\n",
        a_px[0],
        a_px[1],
        b_px[0],
        b_px[1],
        image.join(", "),
        ground.join(", ")
    );
    let cam_path = write(dir.path(), "real.toml", &camera_file);
    let real = dir.path().join("real");
    let out = camtwin(&[
        "analyse",
        "--frames",
        frames.to_str().expect("utf8"),
        "--camera-file",
        cam_path.to_str().expect("utf8"),
        "--out",
        real.to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let persons = |csv: &str, line: Option<&str>| -> u64 {
        csv.lines()
            .skip(1)
            .filter(|l| l.contains(",person,") && line.is_none_or(|id| l.split(',').nth(2) == Some(id)))
            .filter_map(|l| l.rsplit(',').next()?.parse::<u64>().ok())
            .sum()
    };
    let scenario_count = persons(&a, None);
    let real_csv = std::fs::read_to_string(real.join("aggregates-real.csv")).expect("camera-file aggregates");
    for line in ["drawn", "measured"] {
        let n = persons(&real_csv, Some(line));
        assert!(n.abs_diff(scenario_count) <= 3, "line {line}: {n} against {scenario_count} with the scenario");
    }
}

#[test]
fn a_camera_file_with_a_line_outside_the_image_or_no_calibration_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let head = "[camera]\nid = \"c\"\nwidth = 320\nheight = 240\nfps = 10\n\n";
    let cases = [
        (
            "[[lines]]\nid = \"door\"\nimage = [[10, 10], [400, 100]]\n",
            "lines[0] (`door`): point [400, 100] is outside the 320x240 image",
        ),
        (
            "[[lines]]\nid = \"kerb\"\nground = [[0, 0], [0, 3]]\n",
            "lines[0] (`kerb`): a `ground` line needs a [calibration]",
        ),
        (
            "[[lines]]\nid = \"kerb\"\nground = [[0, 0], [0, 3]]\n[calibration]\nimage = [[0, 0], [1, 1], [2, 2]]\nground = [[0, 0], [1, 1], [2, 2]]\n",
            "[calibration]: a ground calibration needs at least 4",
        ),
    ];
    for (i, (body, expected)) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("cam{i}.toml"), &format!("{head}{body}"));
        let out_dir = dir.path().join(format!("out{i}"));
        let out = camtwin(&[
            "analyse",
            "--frames",
            dir.path().to_str().expect("utf8"),
            "--camera-file",
            path.to_str().expect("utf8"),
            "--out",
            out_dir.to_str().expect("utf8"),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "case {i} should fail");
        assert!(err.contains(&format!("cam{i}.toml")) && err.contains(expected), "case {i}: {err}");
        assert!(!out_dir.exists(), "case {i}: nothing written");
    }
}

#[test]
fn a_missing_frames_folder_or_camera_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "small.toml", SMALL);
    let s = scenario.to_str().expect("utf8");
    let out = camtwin(&["analyse", "--frames", "/no/such/frames", "--scenario", s, "--camera", "cam"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("/no/such/frames") && !err.contains("panicked"), "{err}");
    let out =
        camtwin(&["analyse", "--frames", dir.path().to_str().expect("utf8"), "--scenario", s, "--camera", "zoom"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no camera `zoom`"), "{err}");
}

#[test]
fn a_frames_folder_with_a_gap_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "small.toml", SMALL);
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).expect("frames");
    for n in [0, 1, 3] {
        let file = std::fs::File::create(frames.join(format!("frame-{n:05}.png"))).expect("png");
        let mut enc = png::Encoder::new(file, 320, 240);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().expect("header");
        w.write_image_data(&vec![90u8; 320 * 240 * 3]).expect("pixels");
        w.finish().expect("finish");
    }
    let out_dir = dir.path().join("out");
    let out = analyse_small("--frames", &frames, &scenario, &out_dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("gap after frame 1 (next is 3)"), "{err}");
    assert!(!out_dir.exists(), "nothing written for a bad folder");
}

#[test]
fn a_file_that_is_not_a_video_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "small.toml", SMALL);
    let fake = write(dir.path(), "clip.mp4", "this is not a video");
    let out_dir = dir.path().join("out");
    let out = analyse_small("--video", &fake, &scenario, &out_dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("clip.mp4: not a video"), "{err}");
    assert!(!out_dir.exists(), "nothing written");
}
