//! Face blur: which faces CenterFace still finds when it looks at a smaller
//! copy of the frame, and what each input scale costs.
//!
//! A real face (assets/models/face-sample.png, fetched by `make models`) is
//! cut out, resized so that its face box is W pixels wide, and pasted into
//! a grey 640×480 frame at nine places. CenterFace then runs at each input
//! scale; a face is found when a returned box overlaps the pasted face box
//! with IoU ≥ 0.3. The identifiability threshold of the intrusiveness
//! measure (10 px between the pupils, docs/PRIVACY.md) is a face box 22-25
//! px wide (CenterFace's box on the sample is 2.2 pupil distances; the
//! product's face model, 16 cm over 6.3 cm, gives 25 px).
//! Then the time of one CenterFace call on the whole 640×480 frame and on
//! the demo camera's analysis region (300×165) at each scale, with one and
//! two threads.
//!
//! With `--profile`, also the mean time per kind of operator on the
//! region at the default scale, one and two threads.
//!
//! Run with `cargo test --bench face_size -- [ROUNDS] [--profile]` (in `make bench`).

use std::path::PathBuf;
use std::time::Instant;

use camtwin_analytics::detector::iou;
use camtwin_analytics::faces::FaceDetector;
use image::{ImageBuffer, Rgb, imageops};

#[path = "../tests/common/face_sample.rs"]
mod face_sample;

const SCALES: [f64; 6] = [1.0, 0.75, 0.67, 0.6, 0.5, 0.4];
const WIDTHS: [u32; 12] = [8, 10, 12, 14, 16, 18, 20, 22, 25, 30, 40, 60];

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(1)
}

fn main() {
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20);
    let models = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/models");
    if std::env::args().any(|a| a == "--profile") {
        let scale = camtwin_analytics::privacy::PrivacyConfig::default().face_scale;
        for threads in [1, 2] {
            let d = FaceDetector::load(&models, (300, 165), scale, threads).unwrap_or_else(|e| fail(e));
            let ops = d.profile_ops(rounds).unwrap_or_else(|e| fail(e));
            let total: f64 = ops.iter().map(|o| o.1).sum();
            let (iw, ih) = d.input_size();
            println!("CenterFace on the 300x165 region (input {iw}x{ih}), {threads} thread(s): {total:.2} ms per call");
            for (op, ms) in ops {
                println!("  {op:<24} {ms:>7.2} ms  {:>5.1} %", 100.0 * ms / total);
            }
        }
        return;
    }
    let sample = face_sample::FaceSample::load(&models).unwrap_or_else(|e| fail(e));
    let (w, h) = (640u32, 480u32);
    let detectors: Vec<FaceDetector> =
        SCALES.iter().map(|&s| FaceDetector::load(&models, (w, h), s, 2).unwrap_or_else(|e| fail(e))).collect();
    println!("face width (px) | {}", SCALES.map(|s| format!("scale {s}")).join(" | "));
    for &width in &WIDTHS {
        let (frame, expected) = sample.frame(width, w, h);
        let found: Vec<String> = detectors
            .iter()
            .map(|d| {
                let boxes = d.detect_rgb(w, h, frame.as_raw()).unwrap_or_else(|e| fail(e));
                let hits = expected.iter().filter(|e| boxes.iter().any(|b| iou(b, e) >= 0.3)).count();
                let extra = boxes.iter().filter(|b| !expected.iter().any(|e| iou(b, e) >= 0.3)).count();
                format!("{hits}/{} found, {extra} other", expected.len())
            })
            .collect();
        println!("{width:>3} | {}", found.join(" | "));
    }

    // Time per call, whole frame and the demo camera's analysis region.
    let frame = ImageBuffer::from_pixel(w, h, Rgb([128u8, 128, 128]));
    for (name, size) in [("640x480 frame", (w, h)), ("300x165 region", (300u32, 165u32))] {
        let pixels = imageops::crop_imm(&frame, 0, 0, size.0, size.1).to_image();
        for &s in &SCALES {
            for threads in [1, 2] {
                let d = FaceDetector::load(&models, size, s, threads).unwrap_or_else(|e| fail(e));
                d.detect_rgb(size.0, size.1, pixels.as_raw()).unwrap_or_else(|e| fail(e));
                let t = Instant::now();
                for _ in 0..rounds {
                    d.detect_rgb(size.0, size.1, pixels.as_raw()).unwrap_or_else(|e| fail(e));
                }
                let ms = t.elapsed().as_secs_f64() * 1000.0 / rounds as f64;
                let (iw, ih) = d.input_size();
                println!(
                    "CenterFace on the {name} at scale {s} (input {iw}x{ih}), {threads} thread(s): {ms:.1} ms per call"
                );
            }
        }
    }
}
