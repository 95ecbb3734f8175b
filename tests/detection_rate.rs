//! Are the rendered people people to a stock COCO detector, as the product
//! runs it? The demo camera analyses the region around its counting line
//! (`CameraView::region_around`, with the margins `camtwin run` uses) at the
//! input `analysis_input` gives it. Of ground-truth persons at least 60 px
//! tall, at least 70 % visible and inside that region, the detector must find
//! at least 80 % (IoU ≥ 0.5), at least as many as the model's square 416×416
//! input on the whole image finds of the same people, with at most one
//! unmatched person box every two frames. The figures are printed.

mod common;

use camtwin_analytics::detector::{Detection, Detector, DetectorConfig, ObjectClass, analysis_input, iou};
use camtwin_render::Renderer;
use camtwin_sim::body::AgentLibrary;
use camtwin_sim::scenario::Scenario;
use camtwin_sim::street::StreetLayout;
use camtwin_sim::truth::TruthCamera;
use camtwin_sim::world::Simulation;

fn persons(dets: Vec<Detection>) -> Vec<Detection> {
    dets.into_iter().filter(|d| d.class == ObjectClass::Person).collect()
}

#[test]
fn detector_finds_most_clearly_visible_rendered_people() {
    let path = common::root().join("scenarios/demo.toml");
    let s = Scenario::load(&path).expect("demo scenario");
    let cam = &s.cameras[0];
    let layout = StreetLayout::new(&s.street);
    let mut renderer = Renderer::new(&layout.scenery(), &s.lighting, &cam.view()).expect("renderer");
    let library = AgentLibrary::new();
    let truth = TruthCamera::new(cam.view(), &layout, library.clone());
    let segments: Vec<([f32; 2], [f32; 2])> = s.lines.iter().map(|l| (l.from, l.to)).collect();
    // The margins of `camtwin run` (REGION_MARGIN_M, REGION_HEIGHT_M).
    let region = cam.view().region_around(&segments, 2.5, 2.2).expect("the demo line is in view");
    let (rw, rh) = (region[2] - region[0], region[3] - region[1]);
    let input = analysis_input(rw, rh);
    let load = |input| {
        Detector::load(&common::models(), DetectorConfig { input: Some(input), ..Default::default() })
            .expect("model: run `make models`")
    };
    let (product, square) = (load(input), load((416, 416)));
    let mut sim = Simulation::new(&s);
    let (mut eligible, mut found, mut found_square, mut frames, mut false_pos) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    // Two frames a second over the demo minute.
    for step in 0..s.step_count() {
        sim.step();
        if step % (u64::from(s.scenario.step_hz) / 2) != 0 {
            continue;
        }
        let snap = sim.snapshot();
        let frame = renderer.render(&snap.instances(), &library).expect("frame");
        let mut crop = Vec::with_capacity(rw as usize * rh as usize * 3);
        for y in region[1]..region[3] {
            let start = (y * frame.width + region[0]) as usize * 3;
            crop.extend_from_slice(&frame.rgb[start..start + rw as usize * 3]);
        }
        let (x0, y0) = (region[0] as f32, region[1] as f32);
        let dets: Vec<Detection> = persons(product.detect_rgb(rw, rh, &crop).expect("detect"))
            .into_iter()
            .map(|d| Detection { bbox: [d.bbox[0] + x0, d.bbox[1] + y0, d.bbox[2] + x0, d.bbox[3] + y0], ..d })
            .collect();
        let whole = persons(square.detect_rgb(frame.width, frame.height, &frame.rgb).expect("detect"));
        let boxes = truth.boxes(&snap);
        let inside = |b: &[f32; 4]| {
            b[0] >= region[0] as f32 && b[1] >= region[1] as f32 && b[2] <= region[2] as f32 && b[3] <= region[3] as f32
        };
        let people: Vec<_> = boxes.iter().filter(|b| b.class == ObjectClass::Person).collect();
        for b in people.iter().filter(|b| b.height() >= 60.0 && b.visible_fraction >= 0.7 && inside(&b.bbox)) {
            eligible += 1;
            found += usize::from(dets.iter().any(|d| iou(&d.bbox, &b.bbox) >= 0.5));
            found_square += usize::from(whole.iter().any(|d| iou(&d.bbox, &b.bbox) >= 0.5));
        }
        false_pos += dets.iter().filter(|d| people.iter().all(|b| iou(&d.bbox, &b.bbox) < 0.3)).count();
        frames += 1;
    }
    let recall = found as f64 / eligible.max(1) as f64;
    let recall_square = found_square as f64 / eligible.max(1) as f64;
    let per_frame = false_pos as f64 / frames.max(1) as f64;
    println!(
        "detection rate: {found}/{eligible} = {recall:.3} of persons >= 60 px tall, >= 70 % visible and inside the \
         region {region:?} (IoU >= 0.5), detector at {}x{} on the region; {found_square}/{eligible} = \
         {recall_square:.3} at 416x416 on the whole image; over {frames} frames; {per_frame:.2} unmatched person \
         boxes per frame",
        input.0, input.1
    );
    assert!(eligible >= 150, "too few eligible people to judge: {eligible}");
    assert!(recall >= 0.8, "recall {recall:.3} below 0.8");
    assert!(found >= found_square, "the product's input finds fewer people ({found}) than 416x416 ({found_square})");
    assert!(per_frame <= 0.5, "{per_frame:.2} unmatched person boxes per frame");
}
