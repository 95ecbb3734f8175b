//! The `run` command: wires the simulation, the renderer, the analytics
//! pipeline and the sensor models together for one scenario.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use camtwin_analytics::aggregate::{Aggregator, IntervalCount};
use camtwin_analytics::counter::{CountEvent, CrossingDirection, LineGeometry};
use camtwin_analytics::detector::{Detector, DetectorConfig, ObjectClass};
use camtwin_analytics::frame::{Frame, FrameLease};
use camtwin_analytics::metrics::{CountPair, bias, wape};
use camtwin_analytics::pipeline::{FrameProducer, PipelineConfig, PipelineSummary, run_pipeline};
use camtwin_analytics::privacy::PrivacySettings;
use camtwin_analytics::report::{self, CountRow, Series};
use camtwin_analytics::tracker::TrackerConfig;
use camtwin_render::Renderer;
use camtwin_sim::body::AgentLibrary;
use camtwin_sim::scenario::{CameraSpec, CountingLine, Scenario};
use camtwin_sim::sensors::InfraredCounter;
use camtwin_sim::street::StreetLayout;
use camtwin_sim::truth::TruthCamera;
use camtwin_sim::world::{AgentClass, Crossing, Direction, Simulation};
use indicatif::{ProgressBar, ProgressStyle};

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
    /// product keeps no video).
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
}

/// `camtwin check`: parse and validate, then describe.
pub fn check(path: &Path) -> Result<()> {
    let s = Scenario::load(path)?;
    println!(
        "{}: `{}`, seed {}, {} s at {} Hz; {} pedestrians, {} cars; {} camera(s), {} line(s), {} infrared counter(s)",
        path.display(),
        s.scenario.name,
        s.scenario.seed,
        s.scenario.duration_s,
        s.scenario.step_hz,
        s.pedestrians.count,
        s.vehicles.count,
        s.cameras.len(),
        s.lines.len(),
        s.infrared.len()
    );
    Ok(())
}

/// Creates `dir` if needed and checks that files can be written in it.
pub fn ensure_writable_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {}", dir.display()))?;
    let probe = dir.join(format!(".camtwin-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| format!("output folder {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Renders the simulation for one camera, frame by frame, in lock-step.
struct SimProducer {
    sim: Simulation,
    renderer: Renderer,
    library: AgentLibrary,
    steps_per_frame: u32,
    frames_total: u64,
    next_index: u64,
    progress: ProgressBar,
    preview: Option<(PathBuf, u32)>,
    render_s: f64,
    /// Ground-truth labels of every frame, when exported.
    truth: Option<(TruthCamera, Vec<TruthRow>)>,
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
            && self.next_index < *n as u64
        {
            let path = dir.join(format!("frame-{:05}.png", self.next_index));
            if let Err(e) = report::write_png(&path, rendered.width, rendered.height, &rendered.rgb) {
                return Some(Err(e.to_string()));
            }
        }
        if let Some((truth, rows)) = &mut self.truth {
            rows.extend(truth.boxes(&snapshot).into_iter().map(|b| TruthRow {
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
        let frame =
            Frame::new(self.next_index, snapshot.time_s as f64, rendered.width, rendered.height, rendered.rgb, lease);
        self.next_index += 1;
        self.progress.inc(1);
        Some(Ok(frame))
    }
}

impl SimProducer {
    /// Runs the simulation to the end of the scenario (after the last frame).
    fn finish(mut self, total_steps: u64) -> (Simulation, f64, Option<Vec<TruthRow>>) {
        while self.sim.step_index() < total_steps {
            self.sim.step();
        }
        self.progress.finish_and_clear();
        (self.sim, self.render_s, self.truth.map(|(_, rows)| rows))
    }
}

fn to_direction(d: Direction) -> CrossingDirection {
    match d {
        Direction::Positive => CrossingDirection::Positive,
        Direction::Negative => CrossingDirection::Negative,
    }
}

fn to_class(c: AgentClass) -> ObjectClass {
    match c {
        AgentClass::Person => ObjectClass::Person,
        AgentClass::Car => ObjectClass::Car,
    }
}

/// Ground-truth counts of one line, aggregated like a sensor's.
fn truth_intervals(crossings: &[Crossing], line: usize, interval_s: u32, duration: f64) -> Vec<IntervalCount> {
    let mut agg = Aggregator::new(interval_s, duration);
    let events: Vec<CountEvent> = crossings
        .iter()
        .filter(|c| c.line == line)
        .map(|c| CountEvent { time_s: c.time_s as f64, class: to_class(c.class), direction: to_direction(c.direction) })
        .collect();
    agg.add(&events);
    agg.finish(&[ObjectClass::Person, ObjectClass::Bicycle, ObjectClass::Car])
}

/// The counting line a camera counts: the first whose ends both project
/// inside its image.
pub fn line_in_view(scenario: &Scenario, cam: &CameraSpec) -> Option<(usize, CountingLine)> {
    let view = cam.view();
    scenario.lines.iter().enumerate().find_map(|(i, l)| {
        let inside = [l.from, l.to].iter().all(|p| {
            view.project([p[0], p[1], 0.0])
                .is_some_and(|px| px[0] >= 0.0 && px[1] >= 0.0 && px[0] < cam.width as f32 && px[1] < cam.height as f32)
        });
        inside.then(|| (i, l.clone()))
    })
}

/// The analytics configuration of one camera: the scenario's privacy and
/// aggregation settings, the counting line and the camera's calibration.
pub fn pipeline_config(scenario: &Scenario, cam: &CameraSpec, line: &CountingLine, out: &Path) -> PipelineConfig {
    PipelineConfig {
        privacy: PrivacySettings { downscale: scenario.privacy.downscale, frame_step: scenario.privacy.frame_step },
        line: LineGeometry {
            from: line.from.map(f64::from),
            to: line.to.map(f64::from),
            image_to_ground: cam.view().image_to_ground_homography(),
            native_width: cam.width,
            dead_band_m: 0.25,
        },
        tracker: TrackerConfig::default(),
        interval_s: scenario.aggregation.interval_s,
        duration_s: scenario.scenario.duration_s as f64,
        max_frames_in_flight: 4,
        sink: Some(out.join(format!("aggregates-{}.csv", cam.id))),
    }
}

struct SourceResult {
    source: String,
    line: usize,
    intervals: Vec<IntervalCount>,
}

/// `camtwin run`.
pub fn run(args: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let scenario = Scenario::load(&args.scenario)?;
    if scenario.cameras.is_empty() {
        bail!("{}: the scenario has no [[cameras]]: nothing to analyse", args.scenario.display());
    }
    ensure_writable_dir(&args.out)?;
    let detector = Detector::load(&args.models, DetectorConfig { threads: args.threads.max(1), ..Default::default() })?;
    let duration = scenario.scenario.duration_s as f64;
    let interval_s = scenario.aggregation.interval_s;
    let total_steps = scenario.step_count();
    let mut sources: Vec<SourceResult> = Vec::new();
    let mut camera_notes = Vec::new();
    let mut crossings: Option<Vec<Crossing>> = None;

    for cam in &scenario.cameras {
        let Some((line_index, line)) = line_in_view(&scenario, cam) else {
            tracing::warn!(camera = %cam.id, "no counting line lies fully in view; camera skipped");
            continue;
        };
        let view = cam.view();
        let frames_total = (duration * cam.fps as f64).floor() as u64;
        let steps_per_frame = scenario.scenario.step_hz / cam.fps;
        let progress = ProgressBar::new(frames_total);
        progress.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} frames, {per_sec}, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        progress.set_prefix(format!("camera {}", cam.id));
        let preview = if args.preview_frames > 0 {
            let dir = args.out.join("frames").join(&cam.id);
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            Some((dir, args.preview_frames))
        } else {
            None
        };
        let sim_scenario = scenario.clone();
        let export_truth = args.export_truth;
        let make = move || -> std::result::Result<SimProducer, String> {
            let sim = Simulation::new(&sim_scenario);
            let layout = StreetLayout::new(&sim_scenario.street);
            let renderer =
                Renderer::new(&layout.scenery(), &sim_scenario.lighting, &view).map_err(|e| e.to_string())?;
            let library = AgentLibrary::new();
            let truth = export_truth.then(|| (TruthCamera::new(view, &layout, library.clone()), Vec::new()));
            Ok(SimProducer {
                sim,
                renderer,
                library,
                truth,
                steps_per_frame,
                frames_total,
                next_index: 0,
                progress,
                preview,
                render_s: 0.0,
            })
        };
        let config = pipeline_config(&scenario, cam, &line, &args.out);
        tracing::info!(camera = %cam.id, frames = frames_total, line = %line.id, "rendering and analysing");
        let (summary, producer) =
            run_pipeline(make, detector.clone(), config).with_context(|| format!("camera `{}`", cam.id))?;
        let (sim, render_s, truth_rows) = producer.finish(total_steps);
        if let Some(rows) = truth_rows {
            report::write_csv(&args.out.join(format!("truth-{}.csv", cam.id)), &rows, &TruthRow::HEADER)?;
        }
        camera_notes.push(camera_note(cam, &summary, render_s, &line));
        sources.push(SourceResult {
            source: format!("camera:{}", cam.id),
            line: line_index,
            intervals: summary.intervals,
        });
        crossings.get_or_insert_with(|| sim.crossings().to_vec());
    }
    if sources.is_empty() {
        bail!(
            "{}: no camera has a counting line fully in view: add a [[lines]] entry inside a camera's image",
            args.scenario.display()
        );
    }
    // The simulation is deterministic: every camera saw the same crossings.
    let crossings = crossings.unwrap_or_default();
    for (i, ir) in scenario.infrared.iter().enumerate() {
        let Some(line) = scenario.lines.iter().position(|l| l.id == ir.line) else { continue };
        let sensor = InfraredCounter::new(ir.clone(), line, scenario.scenario.seed ^ (i as u64 + 1));
        let events: Vec<CountEvent> = sensor
            .count(&crossings)
            .iter()
            .map(|c| CountEvent {
                time_s: c.time_s as f64,
                class: to_class(c.class),
                direction: to_direction(c.direction),
            })
            .collect();
        let mut agg = Aggregator::new(interval_s, duration);
        agg.add(&events);
        sources.push(SourceResult {
            source: format!("infrared:{}", ir.id),
            line,
            intervals: agg.finish(&[ObjectClass::Person, ObjectClass::Bicycle, ObjectClass::Car]),
        });
    }

    let rows = count_rows(&sources, &crossings, interval_s, duration);
    report::write_counts_csv(&args.out.join("counts.csv"), &rows)?;
    plot(&args.out.join("counts.png"), &scenario, &rows)?;
    let summary = summary_markdown(&scenario, &args.scenario, &rows, &camera_notes, started.elapsed().as_secs_f64());
    report::write_atomic(&args.out.join("summary.md"), summary.as_bytes())
        .with_context(|| format!("cannot write {}", args.out.join("summary.md").display()))?;
    println!("{summary}");
    tracing::info!(out = %args.out.display(), seconds = started.elapsed().as_secs_f64(), "done");
    Ok(())
}

fn count_rows(sources: &[SourceResult], crossings: &[Crossing], interval_s: u32, duration: f64) -> Vec<CountRow> {
    let mut rows = Vec::new();
    for s in sources {
        let truth = truth_intervals(crossings, s.line, interval_s, duration);
        for c in &s.intervals {
            let key = |x: &&IntervalCount| x.start_s == c.start_s && x.class == c.class && x.direction == c.direction;
            let truth_count = truth.iter().find(key).map_or(0, |t| t.count);
            let class_used = s.intervals.iter().chain(&truth).any(|x| x.class == c.class && x.count > 0);
            if c.class != ObjectClass::Person && !class_used {
                continue;
            }
            rows.push(CountRow {
                interval_start_s: c.start_s,
                interval_end_s: c.end_s,
                source: s.source.clone(),
                class: c.class.name().into(),
                direction: c.direction.name().into(),
                count: c.count,
                ground_truth: truth_count,
            });
        }
    }
    rows
}

fn camera_note(cam: &CameraSpec, s: &PipelineSummary, render_s: f64, line: &CountingLine) -> String {
    format!(
        "- camera `{}` ({}x{} at {} fps) counting line `{}`: {} frames rendered ({:.1} frames/s rendering), {} analysed, \
         detector {:.1} ms/frame, {} detections, {} confirmed tracks, {} crossings counted; frames alive at most {} \
         (bound {}), {} created and {} destroyed: none outlived detection.",
        cam.id,
        cam.width,
        cam.height,
        cam.fps,
        line.id,
        s.frames_in,
        if render_s > 0.0 { s.frames_in as f64 / render_s } else { 0.0 },
        s.frames_analysed,
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

fn pairs<'a>(rows: impl Iterator<Item = &'a CountRow>) -> Vec<CountPair> {
    rows.map(|r| CountPair { count: r.count, truth: r.ground_truth }).collect()
}

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{:.1} %", x * 100.0))
}

fn signed_pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{:+.1} %", x * 100.0))
}

fn summary_markdown(s: &Scenario, path: &Path, rows: &[CountRow], notes: &[String], seconds: f64) -> String {
    let mut sources: Vec<&str> = rows.iter().map(|r| r.source.as_str()).collect();
    sources.dedup();
    let mut md = format!(
        "# camtwin run: {}\n\nScenario `{}`, seed {}, {} s simulated, {} pedestrians and {} cars; privacy: downscale ×{}, \
         one frame in {}; counts aggregated every {} s.\n\n## Count error per source (person)\n\n\
         | source | direction | counted | ground truth | WAPE | bias |\n|---|---|---:|---:|---:|---:|\n",
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
    for src in &sources {
        for dir in ["positive", "negative", "both"] {
            let sel: Vec<&CountRow> = rows
                .iter()
                .filter(|r| r.source == *src && r.class == "person" && (dir == "both" || r.direction == dir))
                .collect();
            let p = pairs(sel.iter().copied());
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                src,
                dir,
                p.iter().map(|x| x.count).sum::<u64>(),
                p.iter().map(|x| x.truth).sum::<u64>(),
                pct(wape(&p)),
                signed_pct(bias(&p))
            ));
        }
    }
    md.push_str(
        "\nWAPE = Σ|count − truth| / Σ truth over intervals (and directions for \"both\"); bias = (Σ count − Σ truth) / Σ truth.\n\n## Cameras\n\n",
    );
    for n in notes {
        md.push_str(n);
        md.push('\n');
    }
    md.push_str(&format!(
        "\nFiles: `counts.csv` (every interval, source, class and direction with its ground truth), `counts.png`, \
         `aggregates-<camera>.csv` (what the device emits). Wall time {seconds:.1} s.\n"
    ));
    md
}

fn plot(path: &Path, s: &Scenario, rows: &[CountRow]) -> Result<()> {
    let mut starts: Vec<u32> = rows.iter().map(|r| r.interval_start_s).collect();
    starts.sort_unstable();
    starts.dedup();
    let mut sources: Vec<String> = rows.iter().map(|r| r.source.clone()).collect();
    sources.dedup();
    let mut panels = Vec::new();
    for dir in ["positive", "negative"] {
        let value = |src: &str, start: u32, truth: bool| {
            rows.iter()
                .find(|r| r.source == src && r.class == "person" && r.direction == dir && r.interval_start_s == start)
                .map_or(0, |r| if truth { r.ground_truth } else { r.count })
        };
        let mut series = Vec::new();
        if let Some(first) = sources.first() {
            series.push(Series {
                label: "ground truth".into(),
                values: starts.iter().map(|&t| value(first, t, true)).collect(),
            });
        }
        for src in &sources {
            series.push(Series { label: src.clone(), values: starts.iter().map(|&t| value(src, t, false)).collect() });
        }
        panels.push((format!("persons crossing, {dir} direction"), series));
    }
    report::plot_counts(
        path,
        &format!("{}: counts per {} s interval", s.scenario.name, s.aggregation.interval_s),
        &starts,
        &panels,
        Path::new(report::DEFAULT_FONT),
    )?;
    Ok(())
}
