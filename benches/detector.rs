//! The detector network alone on tract, for the side-by-side comparison with
//! onnxruntime in `benches/detector_vs_onnxruntime.sh`: the same ONNX file,
//! the same input size and thread count, the same deterministic input, timed
//! after warm-up. Prints one line per input size: `tract WxH: MEAN ms (min MIN)`.
//!
//! With `--profile`, also the mean time per kind of operator.
//!
//! Run with `cargo test --bench detector -- RUNS THREADS WxH... [--profile]`.

use std::path::PathBuf;
use std::time::Instant;

use camtwin_analytics::detector::{Detector, DetectorConfig};

fn main() {
    let profile = std::env::args().any(|a| a == "--profile");
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let runs: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(30);
    let threads: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2);
    let sizes: Vec<(usize, usize)> = args
        .iter()
        .skip(2)
        .filter_map(|a| a.split_once('x').and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?))))
        .collect();
    let sizes = if sizes.is_empty() { vec![(416, 416), (416, 320)] } else { sizes };
    let models = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/models");
    for (w, h) in sizes {
        let config = DetectorConfig { threads, input: Some((w, h)), ..Default::default() };
        let detector = match Detector::load(&models, config) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        };
        // The same input as the Python side: (i mod 255) / 255.
        let input: Vec<f32> = (0..3 * w * h).map(|i| (i % 255) as f32 / 255.0).collect();
        let mut times = Vec::with_capacity(runs);
        for i in 0..runs + 3 {
            let t = Instant::now();
            if let Err(e) = detector.infer_raw(&input) {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
            if i >= 3 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
        let min = times.iter().copied().fold(f64::MAX, f64::min);
        println!("tract {w}x{h}: {mean:.1} ms (min {min:.1}), {threads} threads, {runs} runs");
        if profile {
            let ops = detector.profile_ops(&input, runs).unwrap_or_else(|e| {
                eprintln!("error: {e}");
                std::process::exit(1)
            });
            let total: f64 = ops.iter().map(|(_, ms)| ms).sum();
            for (op, ms) in ops.iter().take(6) {
                println!("  {op:<20} {ms:6.2} ms  {:5.1} %", ms / total.max(1e-9) * 100.0);
            }
        }
    }
}
