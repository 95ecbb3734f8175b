//! Tracking and counting speed, detector excluded: 50 walkers per frame
//! crossing two counting lines, with box jitter, a weak box now and then and
//! a few missed detections, through the tracker and the line counter.
//! Target: at least 2,000 frames per second.
//!
//! Run with `make bench` (or `cargo test --bench tracking -- FRAMES`).

use std::time::Instant;

use camtwin_analytics::counter::{CountingGeometry, LineCounter, LineShape, LineSpec};
use camtwin_analytics::detector::{Detection, ObjectClass};
use camtwin_analytics::tracker::{Tracker, TrackerConfig};

/// A small deterministic generator (the bench needs no statistical quality).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn main() {
    let frames: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20_000);
    let walkers = 50usize;
    let fps = 10.0;
    let mut rng = Lcg(7);
    // Walkers on 10 rows, spread along x, some walking each way at 40-80 px/s,
    // wrapping around a 1,280-px-wide scene.
    let starts: Vec<(f32, f32, f32)> = (0..walkers)
        .map(|i| {
            let dir = if i % 2 == 0 { 1.0 } else { -1.0 };
            (rng.next() * 1280.0, 200.0 + (i % 10) as f32 * 25.0, dir * (40.0 + 40.0 * rng.next()))
        })
        .collect();
    let mut all: Vec<Vec<Detection>> = Vec::with_capacity(frames);
    for f in 0..frames {
        let t = f as f32 / fps;
        let dets = starts
            .iter()
            .filter_map(|&(x0, y, v)| {
                let x = (x0 + v * t).rem_euclid(1280.0);
                let (jx, jy, r) = (rng.next() * 4.0 - 2.0, rng.next() * 4.0 - 2.0, rng.next());
                (r > 0.05).then_some(Detection {
                    class: ObjectClass::Person,
                    score: if r < 0.15 { 0.3 } else { 0.8 },
                    bbox: [x + jx, y + jy - 80.0, x + jx + 30.0, y + jy],
                })
            })
            .collect();
        all.push(dets);
    }
    let geometry = CountingGeometry {
        lines: ["a", "b"]
            .iter()
            .zip([400.0, 900.0])
            .map(|(id, x)| LineSpec {
                id: (*id).into(),
                shape: LineShape::Image { points: vec![[x, 0.0], [x, 480.0]] },
                dead_band: 6.0,
            })
            .collect(),
        image_to_ground: None,
        native_width: 1280,
    };
    let mut tracker = Tracker::new(TrackerConfig::default());
    let mut counter = match LineCounter::new(&geometry) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let started = Instant::now();
    let mut counted = 0usize;
    for (f, dets) in all.iter().enumerate() {
        let time = f as f64 / f64::from(fps);
        let tracks = tracker.update(time, dets);
        counted += counter.update(time, 1280, &tracks).len();
    }
    let s = started.elapsed().as_secs_f64();
    println!(
        "tracking + counting: {frames} frames of {walkers} walkers in {s:.2} s = {:.0} frames/s \
         ({:.1} µs/frame); {} tracks confirmed, {counted} crossings counted",
        frames as f64 / s,
        s / frames as f64 * 1e6,
        tracker.confirmed_total()
    );
}
