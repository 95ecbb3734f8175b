//! Same scenario and seed → identical ground truth and identical frames.

mod common;

use camtwin_render::Renderer;
use camtwin_sim::body::AgentLibrary;
use camtwin_sim::scenario::Scenario;
use camtwin_sim::street::StreetLayout;
use camtwin_sim::truth::TruthCamera;
use camtwin_sim::world::Simulation;
use sha2::{Digest, Sha256};

fn scenario() -> Scenario {
    let text = common::SMALL.replace("width = 320", "width = 160").replace("height = 240", "height = 120");
    let s = Scenario::parse(&text, std::path::Path::new("small.toml")).expect("parses");
    s.validate(&text, std::path::Path::new("small.toml")).expect("valid");
    s
}

/// Ground truth of a whole run: every crossing and every box, as text.
fn ground_truth(s: &Scenario) -> String {
    let mut sim = Simulation::new(s);
    let truth = TruthCamera::new(s.cameras[0].view(), &StreetLayout::new(&s.street), AgentLibrary::new());
    let mut out = String::new();
    for _ in 0..s.step_count() {
        sim.step();
        if sim.step_index().is_multiple_of(10) {
            let snap = sim.snapshot();
            out.push_str(&format!("{:?}\n{:?}\n", snap, truth.boxes(&snap)));
        }
    }
    out.push_str(&format!("{:?}", sim.crossings()));
    out
}

fn frame_hashes(s: &Scenario, frames: usize) -> Vec<String> {
    let mut sim = Simulation::new(s);
    let layout = StreetLayout::new(&s.street);
    let mut renderer = Renderer::new(&layout.scenery(), &s.lighting, &s.cameras[0].view()).expect("renderer");
    let library = AgentLibrary::new();
    (0..frames)
        .map(|_| {
            for _ in 0..2 {
                sim.step();
            }
            let f = renderer.render(&sim.snapshot().instances(), &library).expect("frame");
            Sha256::digest(&f.rgb).iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect()
}

#[test]
fn same_seed_gives_identical_ground_truth() {
    let s = scenario();
    let a = ground_truth(&s);
    assert_eq!(a, ground_truth(&s));
    assert!(a.contains("Crossing"), "the run should contain crossings");
    let mut other = s.clone();
    other.scenario.seed += 1;
    assert_ne!(a, ground_truth(&other), "another seed gives another run");
}

#[test]
fn same_seed_gives_byte_identical_frames() {
    let s = scenario();
    let a = frame_hashes(&s, 12);
    let b = frame_hashes(&s, 12);
    assert_eq!(a, b);
    assert!(a.windows(2).any(|w| w[0] != w[1]), "frames change as people walk");
}
