//! Throughput of the expensive stages on this machine, side by side in one
//! run: rendering the demo street at 640×480 (frames rendered and read back
//! per second) and the detector (ms per frame), plus ground truth per frame.
//!
//! Run with `make bench` (or `cargo test --bench throughput -- FRAMES`).

use std::path::PathBuf;
use std::time::Instant;

use camtwin_analytics::detector::{Detector, DetectorConfig};
use camtwin_render::Renderer;
use camtwin_sim::body::AgentLibrary;
use camtwin_sim::scenario::Scenario;
use camtwin_sim::street::StreetLayout;
use camtwin_sim::truth::TruthCamera;
use camtwin_sim::world::Simulation;

fn main() {
    let frames: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(200);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let s = match Scenario::load(&root.join("scenarios/demo.toml")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let cam = &s.cameras[0];
    let layout = StreetLayout::new(&s.street);
    let library = AgentLibrary::new();
    let started = Instant::now();
    let mut renderer = match Renderer::new(&layout.scenery(), &s.lighting, &cam.view()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let init_s = started.elapsed().as_secs_f64();
    let truth = TruthCamera::new(cam.view(), &layout, library.clone());
    let detector = match Detector::load(&root.join("assets/models"), DetectorConfig::default()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let mut sim = Simulation::new(&s);
    // Warm the mesh cache and the renderer with the first second.
    for _ in 0..20 {
        sim.step();
        let _ = renderer.render(&sim.snapshot().instances(), &library);
    }
    let steps = (s.scenario.step_hz / cam.fps) as usize;
    let (mut render_s, mut detect_s, mut truth_s, mut agents) = (0.0, 0.0, 0.0, 0usize);
    let mut rendered = Vec::new();
    for _ in 0..frames {
        for _ in 0..steps {
            sim.step();
        }
        let snap = sim.snapshot();
        agents += snap.agents.len();
        let t = Instant::now();
        let f = renderer.render(&snap.instances(), &library).unwrap_or_else(|e| {
            eprintln!("error: {e}");
            std::process::exit(1);
        });
        render_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let _ = truth.boxes(&snap);
        truth_s += t.elapsed().as_secs_f64();
        rendered.push(f);
        if rendered.len() > 20 {
            rendered.remove(0);
        }
        let last = rendered.last().map(|f| (f.width, f.height, &f.rgb));
        if let Some((w, h, rgb)) = last {
            let t = Instant::now();
            if let Err(e) = detector.detect_rgb(w, h, rgb) {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
            detect_s += t.elapsed().as_secs_f64();
        }
    }
    let n = frames as f64;
    println!(
        "throughput over {frames} frames of the demo street at {}x{}, {:.0} agents per frame:",
        cam.width,
        cam.height,
        agents as f64 / n
    );
    println!("  renderer start-up      {init_s:.2} s");
    println!("  render + readback      {:.1} frames/s ({:.1} ms/frame)", n / render_s, render_s / n * 1000.0);
    println!("  detector (416x416)     {:.1} ms/frame", detect_s / n * 1000.0);
    println!("  ground truth boxes     {:.2} ms/frame", truth_s / n * 1000.0);
}
