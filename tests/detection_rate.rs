//! Are the rendered people people to a stock COCO detector? Of ground-truth
//! persons at least 60 px tall and at least 70 % visible in the demo camera,
//! the detector (at the input the product gives a 640×480 camera's whole
//! image, 416×320) must find at least half (IoU ≥ 0.5), with at most one
//! unmatched person box every two frames. The figures are printed.

mod common;

use camtwin_analytics::detector::{Detector, DetectorConfig, ObjectClass, fitted_input, iou};
use camtwin_render::Renderer;
use camtwin_sim::body::AgentLibrary;
use camtwin_sim::scenario::Scenario;
use camtwin_sim::street::StreetLayout;
use camtwin_sim::truth::TruthCamera;
use camtwin_sim::world::Simulation;

#[test]
fn detector_finds_most_clearly_visible_rendered_people() {
    let path = common::root().join("scenarios/demo.toml");
    let s = Scenario::load(&path).expect("demo scenario");
    let cam = &s.cameras[0];
    let layout = StreetLayout::new(&s.street);
    let mut renderer = Renderer::new(&layout.scenery(), &s.lighting, &cam.view()).expect("renderer");
    let library = AgentLibrary::new();
    let truth = TruthCamera::new(cam.view(), &layout, library.clone());
    let input = fitted_input(cam.width, cam.height, 416, 32);
    let detector = Detector::load(&common::models(), DetectorConfig { input: Some(input), ..Default::default() })
        .expect("model: run `make models`");
    let mut sim = Simulation::new(&s);
    let (mut eligible, mut found, mut frames, mut false_pos) = (0usize, 0usize, 0usize, 0usize);
    // Two frames a second over the demo minute.
    for step in 0..s.step_count() {
        sim.step();
        if step % (s.scenario.step_hz as u64 / 2) != 0 {
            continue;
        }
        let snap = sim.snapshot();
        let frame = renderer.render(&snap.instances(), &library).expect("frame");
        let dets: Vec<_> = detector
            .detect_rgb(frame.width, frame.height, &frame.rgb)
            .expect("detect")
            .into_iter()
            .filter(|d| d.class == ObjectClass::Person)
            .collect();
        let boxes = truth.boxes(&snap);
        let persons: Vec<_> = boxes.iter().filter(|b| b.class == ObjectClass::Person).collect();
        for b in persons.iter().filter(|b| b.height() >= 60.0 && b.visible_fraction >= 0.7) {
            eligible += 1;
            if dets.iter().any(|d| iou(&d.bbox, &b.bbox) >= 0.5) {
                found += 1;
            }
        }
        false_pos += dets.iter().filter(|d| persons.iter().all(|b| iou(&d.bbox, &b.bbox) < 0.3)).count();
        frames += 1;
    }
    let recall = found as f64 / eligible.max(1) as f64;
    println!(
        "detection rate: {found}/{eligible} = {recall:.3} of persons >= 60 px tall and >= 70 % visible \
         (IoU >= 0.5) over {frames} frames; {:.2} unmatched person boxes per frame",
        false_pos as f64 / frames.max(1) as f64
    );
    assert!(eligible >= 200, "too few eligible people to judge: {eligible}");
    assert!(recall >= 0.5, "recall {recall:.3} below 0.5");
    let per_frame = false_pos as f64 / frames.max(1) as f64;
    assert!(per_frame <= 0.5, "{per_frame:.2} unmatched person boxes per frame");
}
