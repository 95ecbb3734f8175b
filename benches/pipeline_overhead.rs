//! Pipeline overhead: the actor pipeline (privacy filter → detector →
//! tracker → counter → aggregator, bounded frames in flight, audit) against
//! a bare loop calling the same detector on the same frames, side by side,
//! alternating twice. Target: the pipeline adds at most 5 %.
//!
//! Then the cost of face blur (CenterFace on tract) on the same frames,
//! side by side with the same pipeline without it: on the whole 640x480
//! frame (what a configuration that keeps or ships frames must blur) and on
//! the detector's region around the counting line (all that a configuration
//! keeping no frame ever lets anything see), where faces are looked for in
//! the band of the region at head height. Target: face blur adds at most
//! 30 % to per-frame analysis time.
//!
//! Run with `cargo test --bench pipeline_overhead -- FRAMES [ROUNDS]` (in
//! `make bench`; face blur alternates ROUNDS times, 6 by default).

use std::path::PathBuf;
use std::time::Instant;

use camtwin_analytics::counter::{CountingGeometry, LineShape, LineSpec};
use camtwin_analytics::detector::{Detector, DetectorConfig, analysis_input};
use camtwin_analytics::faces::FaceDetector;
use camtwin_analytics::frame::{Frame, FrameLease};
use camtwin_analytics::pipeline::{FrameProducer, PipelineConfig, run_pipeline};
use camtwin_analytics::privacy::{FaceBlur, PrivacyConfig, PrivacySettings};
use camtwin_analytics::tracker::TrackerConfig;
use camtwin_render::Renderer;
use camtwin_sim::body::AgentLibrary;
use camtwin_sim::scenario::Scenario;
use camtwin_sim::street::StreetLayout;
use camtwin_sim::world::Simulation;

/// A rendered frame: time, width, height, RGB pixels.
type Rendered = (f64, u32, u32, Vec<u8>);

/// Frames rendered beforehand, handed out one by one.
struct Replay {
    frames: std::sync::Arc<Vec<Rendered>>,
    next: usize,
}

impl FrameProducer for Replay {
    fn next_frame(&mut self, lease: FrameLease) -> Option<Result<Frame, String>> {
        let (t, w, h, rgb) = self.frames.get(self.next)?;
        let frame = Frame::new(self.next as u64, *t, *w, *h, rgb.clone(), lease);
        self.next += 1;
        Some(Ok(frame))
    }
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(1)
}

fn main() {
    let numbers: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = numbers.first().copied().unwrap_or(100);
    // Face blur alternates with and without this many times: the machine's
    // speed drifts over tens of seconds, so paired rounds say more than two.
    let rounds = numbers.get(1).copied().unwrap_or(6).max(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let s = Scenario::load(&root.join("scenarios/demo.toml")).unwrap_or_else(|e| fail(e));
    let cam = &s.cameras[0];
    let layout = StreetLayout::new(&s.street);
    let library = AgentLibrary::new();
    let mut renderer = Renderer::new(&layout.scenery(), &s.lighting, &cam.view()).unwrap_or_else(|e| fail(e));
    let mut sim = Simulation::new(&s);
    let steps = s.scenario.step_hz / cam.fps;
    let mut frames = Vec::with_capacity(n);
    for i in 0..n + 10 {
        for _ in 0..steps {
            sim.step();
        }
        let f = renderer.render(&sim.snapshot().instances(), &library).unwrap_or_else(|e| fail(e));
        // The first frames are blank while shaders compile.
        if i >= 10 {
            frames.push((f64::from(sim.time_s()), f.width, f.height, f.rgb));
        }
    }
    let frames = std::sync::Arc::new(frames);
    let input = analysis_input(cam.width, cam.height);
    let config = DetectorConfig { input: Some(input), ..Default::default() };
    let detector = Detector::load(&root.join("assets/models"), config).unwrap_or_else(|e| fail(e));
    let line = &s.lines[0];
    let pipeline_config = PipelineConfig {
        privacy: PrivacySettings::default(),
        counting: CountingGeometry {
            lines: vec![LineSpec {
                id: line.id.clone(),
                shape: LineShape::Ground { from: line.from.map(f64::from), to: line.to.map(f64::from) },
                dead_band: 0.25,
            }],
            image_to_ground: Some(cam.view().image_to_ground_homography()),
            native_width: cam.width,
        },
        region: None,
        tracker: TrackerConfig::default(),
        interval_s: 15,
        disclosure: Default::default(),
        faces: None,
        native_fps: f64::from(cam.fps),
        duration_s: f64::from(s.scenario.duration_s),
        max_frames_in_flight: 4,
        sink: None,
        record_tracks: false,
        replay: None,
        zones: Vec::new(),
    };
    let (mut bare_s, mut pipe_s) = (0.0, 0.0);
    for _ in 0..2 {
        let t = Instant::now();
        for (_, w, h, rgb) in frames.iter() {
            detector.detect_rgb(*w, *h, rgb).unwrap_or_else(|e| fail(e));
        }
        bare_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let replay = Replay { frames: frames.clone(), next: 0 };
        let (summary, _) =
            run_pipeline(move || Ok(replay), detector.clone(), pipeline_config.clone()).unwrap_or_else(|e| fail(e));
        pipe_s += t.elapsed().as_secs_f64();
        if summary.frames_analysed != n as u64 {
            fail(format!("the pipeline analysed {} of {n} frames", summary.frames_analysed));
        }
    }
    let per = |s: f64| s / (2 * n) as f64 * 1000.0;
    println!(
        "pipeline overhead over {n} frames x 2 (640x480, detector at {}x{}): bare loop {:.1} ms/frame, pipeline \
         {:.1} ms/frame, overhead {:+.1} %",
        input.0,
        input.1,
        per(bare_s),
        per(pipe_s),
        (pipe_s / bare_s - 1.0) * 100.0
    );

    // Face blur: the same pipeline with and without it, alternating.
    let models = root.join("assets/models");
    let blur = PrivacyConfig { face_blur: FaceBlur::Centerface, ..Default::default() };
    let segments: Vec<([f32; 2], [f32; 2])> = s.lines.iter().map(|l| (l.from, l.to)).collect();
    let groups = [(&segments[..], 2.5, 2.2)];
    // Faces identifiable at native resolution are looked for wherever they show.
    let identifiable_m =
        camtwin_analytics::intrusiveness::identifiable_within_m(f64::from(cam.view().focal_px())) as f32;
    let (region, band) = (cam.view().region_around_groups(&groups), cam.view().face_band(&groups, identifiable_m));
    let mut variants = Vec::new();
    // The region with faces looked for in all of it, beside its head-height
    // band (the product's choice), to show what the band saves.
    for (name, region, band) in
        [("whole frame", None, None), ("analysis region", region, region), ("analysis region", region, band)]
    {
        let size = region.map_or((cam.width, cam.height), |r: [u32; 4]| (r[2] - r[0], r[3] - r[1]));
        let band_size = band.or(region).map_or((cam.width, cam.height), |r: [u32; 4]| (r[2] - r[0], r[3] - r[1]));
        let input = analysis_input(size.0, size.1);
        let det = Detector::load(&models, DetectorConfig { input: Some(input), ..Default::default() })
            .unwrap_or_else(|e| fail(e));
        let faces = FaceDetector::load(&models, band_size, blur.face_scale, 2).unwrap_or_else(|e| fail(e));
        let plain = PipelineConfig { region, ..pipeline_config.clone() };
        let mut blurred = plain.clone();
        blurred.privacy = PrivacySettings {
            face_region: band.or(region),
            ..PrivacySettings::new(blur.clone(), (cam.width, cam.height), Vec::new())
        };
        blurred.faces = Some(faces.clone());
        // Wall time, and the process's CPU time beside it: on a shared host
        // whose speed drifts, the CPU time of the same work moves less.
        let (mut wall, mut cpu) = ([0.0; 2], [0.0; 2]);
        let (mut paired, mut paired_cpu) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let round = [&plain, &blurred].map(|config| {
                let (t, c) = (Instant::now(), cpu_seconds());
                let replay = Replay { frames: frames.clone(), next: 0 };
                run_pipeline(move || Ok(replay), det.clone(), config.clone()).unwrap_or_else(|e| fail(e));
                (t.elapsed().as_secs_f64(), cpu_seconds() - c)
            });
            for k in 0..2 {
                wall[k] += round[k].0;
                cpu[k] += round[k].1;
            }
            paired.push((round[1].0 / round[0].0 - 1.0) * 100.0);
            paired_cpu.push((round[1].1 / round[0].1 - 1.0) * 100.0);
        }
        let per_frame = |s: f64| s / (rounds * n) as f64 * 1000.0;
        variants.push(Variant {
            name,
            size,
            band_size,
            face_input: faces.input_size(),
            wall: wall.map(per_frame),
            cpu: cpu.map(per_frame),
            paired,
            paired_cpu,
        });
    }
    for mut v in variants {
        let spread = |p: &mut Vec<f64>| {
            p.sort_by(f64::total_cmp);
            format!("per round median {:+.1} %, from {:+.1} to {:+.1} %", p[p.len() / 2], p[0], p[p.len() - 1])
        };
        println!(
            "face blur on the {} ({}x{} px, faces looked for in {}x{}, CenterFace input {}x{}), {rounds} rounds of \
             {n} frames: analysis {:.1} ms/frame without, {:.1} ms/frame with, {:+.1} %; {}; CPU time {:.1} → {:.1} \
             ms/frame, {:+.1} %; {}",
            v.name,
            v.size.0,
            v.size.1,
            v.band_size.0,
            v.band_size.1,
            v.face_input.0,
            v.face_input.1,
            v.wall[0],
            v.wall[1],
            (v.wall[1] / v.wall[0] - 1.0) * 100.0,
            spread(&mut v.paired),
            v.cpu[0],
            v.cpu[1],
            (v.cpu[1] / v.cpu[0] - 1.0) * 100.0,
            spread(&mut v.paired_cpu),
        );
    }
}

/// One face-blur variant's figures: without and with the blur, per frame.
struct Variant {
    name: &'static str,
    size: (u32, u32),
    band_size: (u32, u32),
    face_input: (usize, usize),
    wall: [f64; 2],
    cpu: [f64; 2],
    paired: Vec<f64>,
    paired_cpu: Vec<f64>,
}

/// User and system CPU seconds of this process so far (all its threads),
/// from `/proc/self/stat` (fields 14 and 15, in clock ticks of 1/100 s,
/// the fixed unit of that file on Linux); 0 where it cannot be read.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // The command name may hold spaces: count the fields after its `)`.
    let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { return 0.0 };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // Field 3 (the state) is the first after the name: utime is field 14.
    (ticks(14 - 3) + ticks(15 - 3)) / 100.0
}
