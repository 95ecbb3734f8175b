//! Recorded footage goes through the same pipeline: frames saved to disk by
//! one run and analysed again from the folder give byte-identical aggregates.

mod common;

use common::{SMALL, camtwin, write};

#[test]
fn frames_from_disk_give_the_same_aggregates_as_rendered_frames() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write(dir.path(), "small.toml", SMALL);
    let live = dir.path().join("live");
    let out = camtwin(&[
        "run",
        scenario.to_str().expect("utf8"),
        "--out",
        live.to_str().expect("utf8"),
        "--preview-frames",
        "1000",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let frames = live.join("frames/cam");
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
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let a = std::fs::read_to_string(live.join("aggregates-cam.csv")).expect("live aggregates");
    let b = std::fs::read_to_string(recorded.join("aggregates-cam.csv")).expect("recorded aggregates");
    assert_eq!(a, b);
    assert!(a.lines().skip(1).any(|l| !l.ends_with(",0")), "something was counted: {a}");
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
    let out = camtwin(&[
        "analyse",
        "--frames",
        frames.to_str().expect("utf8"),
        "--scenario",
        scenario.to_str().expect("utf8"),
        "--camera",
        "cam",
        "--out",
        out_dir.to_str().expect("utf8"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("gap after frame 1 (next is 3)"), "{err}");
    assert!(!out_dir.exists(), "nothing written for a bad folder");
}
