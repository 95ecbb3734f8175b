//! The CenterFace face blur on a real face: at the default input scale it
//! finds every face at the identifiability threshold and above, and the
//! privacy filter blurs those faces and nothing else.

mod common;
#[path = "common/face_sample.rs"]
mod face_sample;

use camtwin_analytics::detector::iou;
use camtwin_analytics::faces::FaceDetector;
use camtwin_analytics::frame::{Frame, FrameGate};
use camtwin_analytics::privacy::{FaceBlur, PrivacyConfig, PrivacyFilter, PrivacySettings};
use face_sample::FaceSample;

/// The face box width of a face with 10 px between the pupils (the
/// identifiability threshold, docs/PRIVACY.md): CenterFace's box is about
/// 2.2 times the inter-pupillary distance on the sample (the product's face
/// model, a 16 cm box over 6.3 cm, gives 25 px; 25 is tested too).
const THRESHOLD_FACE_PX: u32 = 22;

#[test]
fn default_scale_finds_faces_from_the_identifiability_threshold_up() {
    let models = common::models();
    let sample = FaceSample::load(&models).expect("face sample (run `make models`)");
    let (w, h) = (640, 480);
    let scale = PrivacyConfig::default().face_scale;
    let detector = FaceDetector::load(&models, (w, h), scale, 2).expect("CenterFace");
    for width in [THRESHOLD_FACE_PX, 25, 30, 40, 60] {
        let (frame, faces) = sample.frame(width, w, h);
        let boxes = detector.detect_rgb(w, h, frame.as_raw()).expect("detect");
        let found = faces.iter().filter(|f| boxes.iter().any(|b| iou(b, f) >= 0.3)).count();
        assert_eq!(found, faces.len(), "{width} px faces at scale {scale}: {boxes:?}");
        assert_eq!(boxes.len(), faces.len(), "{width} px faces: boxes elsewhere {boxes:?}");
    }
    // Far below the threshold a reduced copy loses faces: the scale matters.
    let (frame, _) = sample.frame(12, w, h);
    let boxes = detector.detect_rgb(w, h, frame.as_raw()).expect("detect");
    assert!(boxes.len() < 9, "12 px faces all found at scale {scale}: the sweep is not testing size");
}

#[test]
fn the_filter_blurs_the_faces_it_finds_and_nothing_else() {
    let models = common::models();
    let sample = FaceSample::load(&models).expect("face sample (run `make models`)");
    let (w, h) = (640u32, 480u32);
    let (image, faces) = sample.frame(40, w, h);
    let config = PrivacyConfig { face_blur: FaceBlur::Centerface, ..Default::default() };
    let detector = FaceDetector::load(&models, (w, h), config.face_scale, 2).expect("CenterFace");
    let mut filter = PrivacyFilter::new(PrivacySettings::new(config, (w, h), Vec::new()), Some(detector));
    let gate = FrameGate::new(1);
    let lease = gate.acquire();
    let before = image.as_raw().clone();
    let (out, record) = filter.apply(Frame::new(0, 0.0, w, h, before.clone(), lease)).expect("filtered");
    assert_eq!(record.blurred.len(), faces.len(), "{:?}", record.blurred);
    let changed = |x0: f32, y0: f32, x1: f32, y1: f32| {
        let mut n = 0;
        for y in y0 as usize..y1 as usize {
            for x in x0 as usize..x1 as usize {
                let i = (y * w as usize + x) * 3;
                n += usize::from(out.rgb[i..i + 3] != before[i..i + 3]);
            }
        }
        n
    };
    for f in &faces {
        let area = ((f[2] - f[0]) * (f[3] - f[1])) as usize;
        // Inside the face's central half, most pixels changed.
        let (cx, cy, hw, hh) = ((f[0] + f[2]) / 2.0, (f[1] + f[3]) / 2.0, (f[2] - f[0]) / 4.0, (f[3] - f[1]) / 4.0);
        let inner = changed(cx - hw, cy - hh, cx + hw, cy + hh);
        assert!(inner * 4 > area / 4, "face {f:?}: {inner} of {} central pixels changed", area / 4);
    }
    // Nothing changed outside the blurred boxes.
    let mut outside = 0;
    for y in 0..h as usize {
        for x in 0..w as usize {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            let in_box = record
                .blurred
                .iter()
                .any(|b| fx >= b[0] - 1.0 && fx <= b[2] + 1.0 && fy >= b[1] - 1.0 && fy <= b[3] + 1.0);
            let i = (y * w as usize + x) * 3;
            if !in_box && out.rgb[i..i + 3] != before[i..i + 3] {
                outside += 1;
            }
        }
    }
    assert_eq!(outside, 0, "pixels changed outside the face boxes");
}

#[test]
fn a_run_with_centerface_blur_records_its_scale() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = common::SMALL.replace("duration_s = 20.0", "duration_s = 2.0");
    let text = format!(
        "{s}\n[[privacy]]\nname = \"blur\"\nface_blur = \"centerface\"\nface_scale = 0.5\n\n[[privacy]]\nname = \"plain\"\n"
    );
    let scenario = common::write(dir.path(), "s.toml", &text);
    let out_dir = dir.path().join("out");
    let out = common::camtwin(&["run", scenario.to_str().expect("utf8"), "--out", out_dir.to_str().expect("utf8")]);
    assert!(out.status.success(), "run failed: {}", String::from_utf8_lossy(&out.stderr));
    for (config, scale, blur) in [("blur", "0.5", "centerface"), ("plain", "", "none")] {
        let mut reader = csv::Reader::from_path(out_dir.join(config).join("intrusiveness.csv")).expect("csv");
        let headers = reader.headers().expect("header").clone();
        let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
        let (ib, is) = (col("face_blur"), col("face_scale"));
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        assert!(!rows.is_empty());
        for r in rows {
            assert_eq!((&r[ib], &r[is]), (blur, scale), "{config}");
        }
    }
    let summary = std::fs::read_to_string(out_dir.join("blur").join("summary.md")).expect("summary");
    assert!(summary.contains("CenterFace at 0.5 of the size"), "{summary}");
    // Nothing outlives detection, so faces are looked for where the detector
    // looks, and there only at head height: the band is the analysis
    // region less its lower part (legs and feet).
    let corners = |after: &str| -> [u32; 4] {
        let at = summary.find(after).unwrap_or_else(|| panic!("no `{after}` in {summary}")) + after.len();
        let nums: Vec<u32> = summary[at..]
            .split(|c: char| !c.is_ascii_digit())
            .filter(|t| !t.is_empty())
            .take(4)
            .map(|t| t.parse().expect("number"))
            .collect();
        [nums[0], nums[1], nums[2], nums[3]]
    };
    let (region, band) = (corners("the region "), corners("of the size, on "));
    assert!(summary.contains("the analysis region at head height"), "{summary}");
    assert_eq!((band[0], band[1], band[2]), (region[0], region[1], region[2]), "{band:?} in {region:?}");
    assert!(band[3] + 10 < region[3], "the band {band:?} keeps the lower part of the region {region:?}");
}
