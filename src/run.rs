//! The `run` command: wires the simulation, the renderer, the analytics
//! pipeline and the sensor models together for one scenario, over one seed
//! or several, and hands the results to the scoring library.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use camtwin_analytics::counter::{CountingGeometry, LineShape, LineSpec};
use camtwin_analytics::detector::{Detector, DetectorConfig, analysis_input};
use camtwin_analytics::frame::{Frame, FrameLease};
use camtwin_analytics::pipeline::{FrameProducer, PipelineConfig, PipelineSummary, run_pipeline};
use camtwin_analytics::privacy::PrivacySettings;
use camtwin_analytics::report::{self, COUNT_HEADER};
use camtwin_analytics::scoring::{
    self, CrossingSplit, ERROR_HEADER, ErrorRow, SEED_ERROR_HEADER, SPLIT_HEADER, SourceCounts, TimedCount,
};
use camtwin_analytics::tracker::TrackerConfig;
use camtwin_render::Renderer;
use camtwin_sim::body::AgentLibrary;
use camtwin_sim::scenario::{CameraSpec, Scenario};
use camtwin_sim::street::StreetLayout;
use camtwin_sim::truth::{CrossingVisibility, TruthCamera};
use camtwin_sim::world::{Crossing, Simulation};
use indicatif::{ProgressBar, ProgressStyle};

use crate::export::{SequenceExport, score_and_write};

/// Arguments of `camtwin run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder (created if missing).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Folder holding the detector model (see `make models`).
    #[arg(long, default_value = "assets/models")]
    pub models: PathBuf,
    /// Also save the first N rendered frames of each camera as PNG under
    /// OUT/frames/ (for inspecting the rendering; off by default, as the
    /// product keeps no video). Saved frames are footage: the summary counts
    /// them as retained.
    #[arg(long, default_value_t = 0)]
    pub preview_frames: u32,
    /// Detector threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Also write each camera's per-frame ground truth (boxes, visible
    /// fraction, pixels per metre) to OUT/truth-<camera>.csv, for scoring
    /// detectors on the rendered footage.
    #[arg(long)]
    pub export_truth: bool,
    /// Also write each camera's rendered frames with their ground truth as a
    /// labelled data set in OUT/export/<camera>/: MOTChallenge layout
    /// (img1/, gt/gt.txt, seqinfo.ini) and COCO JSON (coco.json). The frames
    /// are footage: the summary counts them as retained.
    #[arg(long)]
    pub export: bool,
    /// Run the scenario over N seeds (the scenario's seed, then the next
    /// ones), each in OUT/seed-<seed>/, and report the mean and 95 %
    /// interval of every error in OUT/errors-over-seeds.csv.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub seeds: u32,
    /// Detector input size WIDTHxHEIGHT (multiples of 32) for every camera.
    /// By default each camera gets the input that keeps its proportions with
    /// a longer side of 416 (416x320 for 4:3 cameras).
    #[arg(long, value_parser = parse_size)]
    pub detector_input: Option<(usize, usize)>,
    /// Analyse each camera's whole image instead of the region around its
    /// counting lines.
    #[arg(long)]
    pub whole_image: bool,
}

/// The detector input for a camera: the one asked for, or the one that keeps
/// the proportions of the region it analyses (the whole image when `region`
/// is `None`), see [`analysis_input`].
pub fn detector_input(asked: Option<(usize, usize)>, cam: &CameraSpec, region: Option<[u32; 4]>) -> (usize, usize) {
    let (w, h) = region.map_or((cam.width, cam.height), |r| (r[2] - r[0], r[3] - r[1]));
    asked.unwrap_or_else(|| analysis_input(w, h))
}

/// How far either side of a counting line the analysis region reaches,
/// metres: enough for a walker to be detected and its track confirmed well
/// before the line (at 1.3 m/s, about two seconds).
pub const REGION_MARGIN_M: f32 = 2.5;
/// Height the region covers above the ground, metres (taller than people).
pub const REGION_HEIGHT_M: f32 = 2.2;

/// The region a camera analyses in this run.
fn camera_region(args: &RunArgs, cam: &CameraSpec, lines: &[LineInView]) -> Option<[u32; 4]> {
    if args.whole_image { None } else { analysis_region(cam, lines) }
}

/// The part of a camera's image where the people its counting lines need can
/// appear: everything within [`REGION_MARGIN_M`] of a line, from the ground
/// to [`REGION_HEIGHT_M`], as `[x0, y0, x1, y1]` native pixels; `None` when
/// that is most of the image anyway. Analysing only this region is the
/// regulator's frugality (fewer pixels looked at) and lets the detector see
/// the people that matter larger for the same cost.
pub fn analysis_region(cam: &CameraSpec, lines: &[LineInView]) -> Option<[u32; 4]> {
    let mut segments = Vec::new();
    for l in lines {
        let LineShape::Ground { from, to } = l.spec.shape else { return None };
        segments.push((from.map(|v| v as f32), to.map(|v| v as f32)));
    }
    cam.view().region_around(&segments, REGION_MARGIN_M, REGION_HEIGHT_M)
}

/// The detectors a run needs: one per network input size, loaded (and
/// checked) before any output is written.
struct Detectors(Vec<((usize, usize), Detector)>);

impl Detectors {
    fn load(args: &RunArgs, scenario: &Scenario) -> Result<Self> {
        let mut loaded: Vec<((usize, usize), Detector)> = Vec::new();
        for cam in &scenario.cameras {
            let region = camera_region(args, cam, &lines_in_view(scenario, cam));
            let input = detector_input(args.detector_input, cam, region);
            if loaded.iter().any(|(i, _)| *i == input) {
                continue;
            }
            let config = DetectorConfig { threads: args.threads.max(1), input: Some(input), ..Default::default() };
            loaded.push((input, Detector::load(&args.models, config)?));
        }
        Ok(Self(loaded))
    }

    fn for_camera(&self, args: &RunArgs, cam: &CameraSpec, region: Option<[u32; 4]>) -> Result<&Detector> {
        let input = detector_input(args.detector_input, cam, region);
        self.0
            .iter()
            .find(|(i, _)| *i == input)
            .map(|(_, d)| d)
            .with_context(|| format!("no detector was loaded for camera `{}`", cam.id))
    }
}

/// Parses `WIDTHxHEIGHT`.
pub fn parse_size(text: &str) -> std::result::Result<(usize, usize), String> {
    let (w, h) = text.split_once(['x', 'X']).ok_or_else(|| format!("`{text}` is not WIDTHxHEIGHT"))?;
    let parse = |v: &str| v.trim().parse::<usize>().map_err(|_| format!("`{v}` in `{text}` is not a whole number"));
    Ok((parse(w)?, parse(h)?))
}

/// `camtwin check`: parse and validate, then describe.
pub fn check(path: &Path) -> Result<()> {
    let s = Scenario::load(path)?;
    println!(
        "{}: `{}`, seed {}, {} s at {} Hz; {} pedestrians, {} cars; {} camera(s), {} line(s), {} sensor(s)",
        path.display(),
        s.scenario.name,
        s.scenario.seed,
        s.scenario.duration_s,
        s.scenario.step_hz,
        s.pedestrians.count,
        s.vehicles.count,
        s.cameras.len(),
        s.lines.len(),
        s.sensors.len()
    );
    Ok(())
}

/// Files a run writes at the top of its output folder: removed before a new
/// run starts, so a failed run never leaves an older result looking like its own.
const RESULT_FILES: [&str; 6] =
    ["counts.csv", "errors.csv", "crossings.csv", "counts.png", "summary.md", "errors-over-seeds.csv"];

/// Creates `dir` if needed, checks that files can be written in it and
/// removes the results of an earlier run. Call it only once the inputs are
/// validated and the model is loaded.
pub fn prepare_out_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {}", dir.display()))?;
    let probe = dir.join(format!(".camtwin-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| format!("output folder {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    let stale = |name: &str| {
        RESULT_FILES.contains(&name)
            || crate::sensors::SENSOR_FILES.contains(&name)
            || (name.ends_with(".csv") && (name.starts_with("aggregates-") || name.starts_with("truth-")))
    };
    let export = dir.join("export");
    if export.is_dir() {
        std::fs::remove_dir_all(&export)
            .with_context(|| format!("cannot remove the earlier export {}", export.display()))?;
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if stale(&name) {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove the earlier result {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Renders the simulation for one camera, frame by frame, in lock-step, and
/// collects the ground truth of what it films.
struct SimProducer {
    sim: Simulation,
    renderer: Renderer,
    library: AgentLibrary,
    steps_per_frame: u32,
    frames_total: u64,
    next_index: u64,
    progress: ProgressBar,
    preview: Option<(PathBuf, u32)>,
    saved_frames: u64,
    render_s: f64,
    truth: TruthCamera,
    visibility: CrossingVisibility,
    /// Ground-truth labels of every frame, when exported.
    rows: Option<Vec<TruthRow>>,
    /// The labelled data set being written, when asked for.
    export: Option<SequenceExport>,
}

impl TruthRow {
    /// Column names, in field order.
    const HEADER: [&'static str; 10] =
        ["frame", "time_s", "agent", "class", "x0", "y0", "x1", "y1", "visible_fraction", "pixels_per_metre"];
}

/// One row of `truth-<camera>.csv`: one agent in one frame.
#[derive(Debug, Clone, serde::Serialize)]
struct TruthRow {
    frame: u64,
    time_s: f32,
    agent: u32,
    class: &'static str,
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    visible_fraction: f32,
    pixels_per_metre: f32,
}

impl FrameProducer for SimProducer {
    fn next_frame(&mut self, lease: FrameLease) -> Option<Result<Frame, String>> {
        if self.next_index >= self.frames_total {
            return None;
        }
        if self.next_index > 0 {
            for _ in 0..self.steps_per_frame {
                self.sim.step();
            }
        }
        let snapshot = self.sim.snapshot();
        let started = Instant::now();
        let rendered = match self.renderer.render(&snapshot.instances(), &self.library) {
            Ok(r) => r,
            Err(e) => return Some(Err(format!("rendering frame {}: {e}", self.next_index))),
        };
        self.render_s += started.elapsed().as_secs_f64();
        if let Some((dir, n)) = &self.preview
            && self.next_index < u64::from(*n)
        {
            let path = dir.join(format!("frame-{:05}.png", self.next_index));
            if let Err(e) = report::write_png(&path, rendered.width, rendered.height, &rendered.rgb) {
                return Some(Err(e.to_string()));
            }
            self.saved_frames += 1;
        }
        let boxes = self.truth.boxes(&snapshot);
        self.visibility.observe(&snapshot, &boxes);
        if let Some(export) = &mut self.export {
            if let Err(e) = export.add(self.next_index, &rendered.rgb, boxes.clone()) {
                return Some(Err(format!("{e:#}")));
            }
            self.saved_frames += 1;
        }
        if let Some(rows) = &mut self.rows {
            rows.extend(boxes.into_iter().map(|b| TruthRow {
                frame: self.next_index,
                time_s: snapshot.time_s,
                agent: b.agent,
                class: b.class.name(),
                x0: b.bbox[0],
                y0: b.bbox[1],
                x1: b.bbox[2],
                y1: b.bbox[3],
                visible_fraction: b.visible_fraction,
                pixels_per_metre: b.pixels_per_metre,
            }));
        }
        let frame = Frame::new(
            self.next_index,
            f64::from(snapshot.time_s),
            rendered.width,
            rendered.height,
            rendered.rgb,
            lease,
        );
        self.next_index += 1;
        self.progress.inc(1);
        Some(Ok(frame))
    }
}

/// What a camera's producer leaves behind once the simulation has run out.
struct CameraTruth {
    sim: Simulation,
    render_s: f64,
    saved_frames: u64,
    visibility: CrossingVisibility,
    rows: Option<Vec<TruthRow>>,
    export: Option<SequenceExport>,
}

impl SimProducer {
    /// Runs the simulation to the end of the scenario (after the last frame).
    fn finish(mut self, total_steps: u64) -> CameraTruth {
        while self.sim.step_index() < total_steps {
            self.sim.step();
        }
        self.progress.finish_and_clear();
        CameraTruth {
            sim: self.sim,
            render_s: self.render_s,
            saved_frames: self.saved_frames,
            visibility: self.visibility,
            rows: self.rows,
            export: self.export,
        }
    }
}

/// One of the scenario's counting lines as a camera sees it.
#[derive(Debug, Clone)]
pub struct LineInView {
    /// The line as the camera counts it: the part of it inside the image.
    pub spec: LineSpec,
    /// Share of the line's length inside the image, 0..=1.
    pub share_in_view: f64,
}

/// Samples along a line to find the part inside a camera's image.
const LINE_SAMPLES: usize = 200;

/// The counting lines a camera sees, each cut to the part inside its image
/// (the longest stretch whose ground points project at least 2 px inside).
pub fn lines_in_view(scenario: &Scenario, cam: &CameraSpec) -> Vec<LineInView> {
    let view = cam.view();
    let (w, h) = (cam.width as f32 - 2.0, cam.height as f32 - 2.0);
    scenario
        .lines
        .iter()
        .filter_map(|l| {
            let at = |k: usize| {
                let u = k as f32 / LINE_SAMPLES as f32;
                [l.from[0] + u * (l.to[0] - l.from[0]), l.from[1] + u * (l.to[1] - l.from[1])]
            };
            let inside = |k: usize| {
                let p = at(k);
                view.project([p[0], p[1], 0.0])
                    .is_some_and(|px| px[0] >= 2.0 && px[1] >= 2.0 && px[0] <= w && px[1] <= h)
            };
            // Longest run of inside samples.
            let (mut best, mut start) = (None::<(usize, usize)>, None);
            for k in 0..=LINE_SAMPLES {
                match (inside(k), start) {
                    (true, None) => start = Some(k),
                    (false, Some(s)) => {
                        if best.is_none_or(|(a, b)| k - 1 - s > b - a) {
                            best = Some((s, k - 1));
                        }
                        start = None;
                    }
                    _ => {}
                }
            }
            if let Some(s) = start
                && best.is_none_or(|(a, b)| LINE_SAMPLES - s > b - a)
            {
                best = Some((s, LINE_SAMPLES));
            }
            let (a, b) = best.filter(|(a, b)| b > a)?;
            let (from, to) = (at(a), at(b));
            Some(LineInView {
                spec: LineSpec {
                    id: l.id.clone(),
                    shape: LineShape::Ground { from: from.map(f64::from), to: to.map(f64::from) },
                    dead_band: COUNTING_DEAD_BAND_M,
                },
                share_in_view: (b - a) as f64 / LINE_SAMPLES as f64,
            })
        })
        .collect()
}

/// Half-width of the counting lines' dead band, metres: wider than the
/// foot-point jitter of a tracked walker (a few centimetres at the demo's
/// 60-100 px people), narrower than a step.
const COUNTING_DEAD_BAND_M: f64 = 0.25;

/// The analytics configuration of one camera: the scenario's privacy and
/// aggregation settings, the counting lines and the camera's calibration.
pub fn pipeline_config(scenario: &Scenario, cam: &CameraSpec, lines: &[LineInView], out: &Path) -> PipelineConfig {
    PipelineConfig {
        privacy: PrivacySettings { downscale: scenario.privacy.downscale, frame_step: scenario.privacy.frame_step },
        counting: CountingGeometry {
            lines: lines.iter().map(|l| l.spec.clone()).collect(),
            image_to_ground: Some(cam.view().image_to_ground_homography()),
            native_width: cam.width,
        },
        region: analysis_region(cam, lines),
        tracker: TrackerConfig::default(),
        interval_s: scenario.aggregation.interval_s,
        duration_s: f64::from(scenario.scenario.duration_s),
        max_frames_in_flight: 4,
        sink: Some(out.join(format!("aggregates-{}.csv", cam.id))),
        record_tracks: false,
    }
}

/// Ground-truth crossings in the scoring vocabulary.
fn timed(scenario: &Scenario, crossings: &[Crossing]) -> Vec<TimedCount> {
    crossings
        .iter()
        .filter_map(|c| {
            Some(TimedCount {
                line: scenario.lines.get(c.line)?.id.clone(),
                time_s: f64::from(c.time_s),
                class: c.class,
                direction: c.direction,
            })
        })
        .collect()
}

/// What one seed's run produced, for the summary over seeds.
struct SeedOutcome {
    errors: Vec<ErrorRow>,
    splits: Vec<CrossingSplit>,
    summary: String,
}

/// `camtwin run`.
pub fn run(args: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let scenario = Scenario::load(&args.scenario)?;
    if scenario.cameras.is_empty() && scenario.sensors.is_empty() {
        bail!("{}: the scenario has no [[cameras]] and no [[sensors]]: nothing to measure", args.scenario.display());
    }
    let blind: Vec<&str> =
        scenario.cameras.iter().filter(|c| lines_in_view(&scenario, c).is_empty()).map(|c| c.id.as_str()).collect();
    if !blind.is_empty() && blind.len() == scenario.cameras.len() && scenario.sensors.is_empty() {
        bail!(
            "{}: no camera sees any counting line: add a [[lines]] entry inside a camera's image",
            args.scenario.display()
        );
    }
    for id in blind {
        tracing::warn!(camera = %id, "no counting line is in this camera's view; it is skipped");
    }
    let detectors = Detectors::load(args, &scenario)?;
    prepare_out_dir(&args.out)?;
    let seeds: Vec<u64> = (0..u64::from(args.seeds)).map(|k| scenario.scenario.seed.wrapping_add(k)).collect();
    if let [seed] = seeds[..] {
        let outcome = run_seed(args, &scenario, seed, &args.out, &detectors, started)?;
        println!("{}", outcome.summary);
        return Ok(());
    }
    let mut outcomes = Vec::new();
    for (k, &seed) in seeds.iter().enumerate() {
        tracing::info!(seed, run = k + 1, of = seeds.len(), "seed");
        let dir = args.out.join(format!("seed-{seed}"));
        prepare_out_dir(&dir)?;
        outcomes.push(run_seed(args, &scenario, seed, &dir, &detectors, Instant::now())?);
    }
    let per_seed: Vec<Vec<ErrorRow>> = outcomes.iter().map(|o| o.errors.clone()).collect();
    let over = scoring::errors_over_seeds(&per_seed);
    report::write_csv(&args.out.join("errors-over-seeds.csv"), &over, &SEED_ERROR_HEADER)?;
    let splits: Vec<CrossingSplit> = scoring::sum_splits(outcomes.iter().flat_map(|o| o.splits.iter()));
    report::write_csv(&args.out.join("crossings.csv"), &splits, &SPLIT_HEADER)?;
    let mut md = format!(
        "# camtwin run over {} seeds: {}\n\nScenario `{}`, seeds {}; each seed's outputs are in `seed-<seed>/`.\n\n",
        seeds.len(),
        scenario.scenario.name,
        args.scenario.display(),
        seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    );
    md.push_str(&scoring::seed_error_table(&over));
    md.push_str(&scoring::split_table(&splits, "all seeds together"));
    md.push_str(&format!(
        "\nFiles: `errors-over-seeds.csv` (mean and 95 % interval of every whole-run error), `crossings.csv` \
         (crossings of all seeds, split by what each camera could see). Wall time {:.1} s.\n",
        started.elapsed().as_secs_f64()
    ));
    report::write_atomic(&args.out.join("summary.md"), md.as_bytes())
        .with_context(|| format!("cannot write {}", args.out.join("summary.md").display()))?;
    println!("{md}");
    Ok(())
}

/// One camera's results.
struct CameraOutcome {
    counts: SourceCounts,
    split: Vec<CrossingSplit>,
    note: String,
    crossings: Vec<Crossing>,
}

fn run_camera(
    args: &RunArgs,
    scenario: &Scenario,
    cam: &CameraSpec,
    out: &Path,
    detectors: &Detectors,
) -> Result<Option<CameraOutcome>> {
    let lines = lines_in_view(scenario, cam);
    if lines.is_empty() {
        return Ok(None);
    }
    let region = camera_region(args, cam, &lines);
    let detector = detectors.for_camera(args, cam, region)?;
    let duration = f64::from(scenario.scenario.duration_s);
    let view = cam.view();
    let frames_total = (duration * f64::from(cam.fps)).floor() as u64;
    let steps_per_frame = scenario.scenario.step_hz / cam.fps;
    let progress = ProgressBar::new(frames_total);
    progress.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} frames, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    progress.set_prefix(format!("camera {}", cam.id));
    let preview = if args.preview_frames > 0 {
        let dir = out.join("frames").join(&cam.id);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Some((dir, args.preview_frames))
    } else {
        None
    };
    let export = if args.export {
        let dir = out.join("export").join(&cam.id);
        Some(SequenceExport::create(&dir, &cam.id, cam.fps, (cam.width, cam.height))?)
    } else {
        None
    };
    let sim_scenario = scenario.clone();
    let export_truth = args.export_truth;
    let make = move || -> std::result::Result<SimProducer, String> {
        let sim = Simulation::new(&sim_scenario);
        let layout = StreetLayout::new(&sim_scenario.street);
        let renderer = Renderer::new(&layout.scenery(), &sim_scenario.lighting, &view).map_err(|e| e.to_string())?;
        let library = AgentLibrary::new();
        let truth = TruthCamera::new(view, &layout, library.clone());
        let visibility = CrossingVisibility::new(sim_scenario.lines.iter().map(|l| (l.from, l.to)).collect());
        Ok(SimProducer {
            sim,
            renderer,
            library,
            truth,
            visibility,
            rows: export_truth.then(Vec::new),
            export,
            steps_per_frame,
            frames_total,
            next_index: 0,
            progress,
            preview,
            saved_frames: 0,
            render_s: 0.0,
        })
    };
    let mut config = pipeline_config(scenario, cam, &lines, out);
    config.region = region;
    config.record_tracks = args.export;
    tracing::info!(camera = %cam.id, frames = frames_total, lines = lines.len(), "rendering and analysing");
    let (summary, producer) =
        run_pipeline(make, detector.clone(), config).with_context(|| format!("camera `{}`", cam.id))?;
    let mut truth = producer.finish(scenario.step_count());
    let mut tracking = None;
    if let Some(export) = truth.export.take() {
        let scores = score_and_write(export.dir(), &export.person_labels(), &summary.tracks, cam.fps)?;
        export.finish().with_context(|| format!("camera `{}`: export", cam.id))?;
        tracking = Some(scores);
    }
    if let Some(rows) = &truth.rows {
        report::write_csv(&out.join(format!("truth-{}.csv", cam.id)), rows, &TruthRow::HEADER)?;
    }
    let crossings = truth.sim.crossings().to_vec();
    let visible = truth.visibility.visible(&crossings);
    let source = format!("camera:{}", cam.id);
    let line_ids: Vec<String> = lines.iter().map(|l| l.spec.id.clone()).collect();
    let counted: Vec<TimedCount> = summary
        .events
        .iter()
        .filter_map(|e| {
            Some(TimedCount {
                line: line_ids.get(e.line)?.clone(),
                time_s: e.time_s,
                class: e.class,
                direction: e.direction,
            })
        })
        .collect();
    let split = scoring::split_crossings(&source, &line_ids, &counted, &timed(scenario, &crossings), &visible);
    let mut note =
        camera_note(cam, region, detector.input_size(), &summary, truth.render_s, truth.saved_frames, &lines);
    if let Some((t, h)) = tracking {
        note.push_str(&format!(
            " Tracking of persons against the exported labels (IoU ≥ 0.5, every labelled person in the image, also \
             outside the analysed region, where they count as misses): MOTA {:.1} %, IDF1 {:.1} %, HOTA {:.1} %, {} \
             misses, {} false positives, {} identity switches (export/{}/tracking.csv).",
            t.mota * 100.0,
            t.idf1 * 100.0,
            h.hota * 100.0,
            t.misses,
            t.false_positives,
            t.switches,
            cam.id
        ));
    }
    Ok(Some(CameraOutcome { counts: SourceCounts { source, intervals: summary.intervals }, split, note, crossings }))
}

/// Runs every camera and sensor of `scenario` with `seed` and writes the
/// outputs to `out`.
fn run_seed(
    args: &RunArgs,
    scenario: &Scenario,
    seed: u64,
    out: &Path,
    detectors: &Detectors,
    started: Instant,
) -> Result<SeedOutcome> {
    let mut scenario = scenario.clone();
    scenario.scenario.seed = seed;
    let scenario = &scenario;
    let duration = f64::from(scenario.scenario.duration_s);
    let interval_s = scenario.aggregation.interval_s;
    let mut sources: Vec<SourceCounts> = Vec::new();
    let mut splits = Vec::new();
    let mut notes = Vec::new();
    let mut crossings: Option<Vec<Crossing>> = None;
    for cam in &scenario.cameras {
        let Some(outcome) = run_camera(args, scenario, cam, out, detectors)? else { continue };
        sources.push(outcome.counts);
        splits.extend(outcome.split);
        notes.push(outcome.note);
        // The simulation is deterministic: every camera saw the same crossings.
        crossings.get_or_insert(outcome.crossings);
    }
    // The sensors watch their own run of the same deterministic simulation.
    let sensed = crate::sensors::run(scenario, crossings)?;
    let crossings = sensed.crossings.clone();
    sources.extend(crate::sensors::sources(scenario, &sensed.outputs));
    crate::sensors::write_outputs(out, scenario, &sensed.outputs)?;
    let truth = timed(scenario, &crossings);
    let rows = scoring::count_rows(&sources, &truth, interval_s, duration);
    let errors = scoring::error_rows(&rows);
    report::write_csv(&out.join("counts.csv"), &rows, &COUNT_HEADER)?;
    report::write_csv(&out.join("errors.csv"), &errors, &ERROR_HEADER)?;
    report::write_csv(&out.join("crossings.csv"), &splits, &SPLIT_HEADER)?;
    let (starts, panels) = scoring::count_panels(&rows);
    report::plot_counts(
        &out.join("counts.png"),
        &format!("{}: counts per {} s interval", scenario.scenario.name, interval_s),
        &starts,
        &panels,
        Path::new(report::DEFAULT_FONT),
    )?;
    let mut summary =
        summary_markdown(scenario, &args.scenario, &errors, &splits, &notes, started.elapsed().as_secs_f64());
    summary.push_str(&crate::sensors::summary_section(scenario, &sensed.outputs));
    report::write_atomic(&out.join("summary.md"), summary.as_bytes())
        .with_context(|| format!("cannot write {}", out.join("summary.md").display()))?;
    tracing::info!(out = %out.display(), seed, seconds = started.elapsed().as_secs_f64(), "done");
    Ok(SeedOutcome { errors, splits, summary })
}

fn camera_note(
    cam: &CameraSpec,
    region: Option<[u32; 4]>,
    input: (usize, usize),
    s: &PipelineSummary,
    render_s: f64,
    saved: u64,
    lines: &[LineInView],
) -> String {
    let lines_text: Vec<String> = lines
        .iter()
        .map(|l| {
            if l.share_in_view >= 0.995 {
                format!("`{}` (fully in view)", l.spec.id)
            } else {
                format!(
                    "`{}` (only {:.0} % of its length is in view: the camera counts that part, the truth is the whole line)",
                    l.spec.id,
                    l.share_in_view * 100.0
                )
            }
        })
        .collect();
    let retained = if saved == 0 {
        "none outlived detection".to_string()
    } else {
        format!("{saved} frames were saved to disk (previews or export) and are retained until deleted: footage")
    };
    format!(
        "- camera `{}` ({}x{} at {} fps) counting line(s) {}: {} frames rendered ({:.1} frames/s rendering); {} \
         analysed, {} dropped by design (decimation), {} lost to detector faults{}; analysed in {}, detector at {}x{} \
         {:.1} ms/frame, {} detections, {} confirmed tracks, {} crossings counted; frames alive \
         at most {} (bound {}), {} created and {} destroyed in the pipeline: {retained}.",
        cam.id,
        cam.width,
        cam.height,
        cam.fps,
        lines_text.join(", "),
        s.frames_in,
        if render_s > 0.0 { s.frames_in as f64 / render_s } else { 0.0 },
        s.frames_analysed - s.frames_lost,
        s.frames_in - s.frames_analysed,
        s.frames_lost,
        s.first_fault.as_ref().map_or(String::new(), |f| format!(" (first: {f})")),
        region.map_or("the whole image".to_string(), |r| format!(
            "the region [{}, {}]-[{}, {}] px around the lines ({:.0} % of the image)",
            r[0],
            r[1],
            r[2],
            r[3],
            f64::from((r[2] - r[0]) * (r[3] - r[1])) * 100.0 / f64::from(cam.width * cam.height)
        )),
        input.0,
        input.1,
        s.detector_ms_per_frame(),
        s.detections,
        s.tracks_confirmed,
        s.crossings_counted,
        s.audit.peak_alive,
        s.audit.capacity,
        s.audit.created,
        s.audit.destroyed
    )
}

fn summary_markdown(
    s: &Scenario,
    path: &Path,
    errors: &[ErrorRow],
    splits: &[CrossingSplit],
    notes: &[String],
    seconds: f64,
) -> String {
    let mut md = format!(
        "# camtwin run: {}\n\nScenario `{}`, seed {}, {} s simulated, {} pedestrians and {} cars; privacy: downscale ×{}, \
         one frame in {}; counts aggregated every {} s.\n\n",
        s.scenario.name,
        path.display(),
        s.scenario.seed,
        s.scenario.duration_s,
        s.pedestrians.count,
        s.vehicles.count,
        s.privacy.downscale,
        s.privacy.frame_step,
        s.aggregation.interval_s
    );
    md.push_str(&scoring::error_table(errors, "person"));
    // A scenario with sensors only has no camera to describe.
    if !notes.is_empty() {
        md.push_str(&scoring::split_table(splits, "this seed"));
        md.push_str("\n## Cameras\n\n");
    }
    for n in notes {
        md.push_str(n);
        md.push('\n');
    }
    md.push_str(&format!(
        "\nFiles: `counts.csv` (every interval, source, line, class and direction with its ground truth), \
         `errors.csv` (WAPE and bias per source, line, class, direction and interval), `crossings.csv` (each \
         camera's crossings split by what it could see), `counts.png`, `aggregates-<camera>.csv` (what the device \
         emits). Wall time {seconds:.1} s.\n"
    ));
    md
}
