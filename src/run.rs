//! The `run` command: wires the simulation, the renderer, the analytics
//! pipeline and the sensor models together for one scenario, over one seed
//! or several, and hands the results to the scoring library.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use camtwin_analytics::aggregate::Disclosure;
use camtwin_analytics::counter::{CountRule, CountingGeometry, LineShape, LineSpec};
use camtwin_analytics::detector::{Detector, DetectorConfig, analysis_input, vehicle_input};
use camtwin_analytics::faces::FaceDetector;
use camtwin_analytics::frame::{Frame, FrameLease};
use camtwin_analytics::intrusiveness::{self, FilterEffect, Intrusiveness, PersonObservation};
use camtwin_analytics::pipeline::{FrameLife, FrameProducer, PipelineConfig, PipelineSummary, run_pipeline};
use camtwin_analytics::privacy::PrivacySettings;
use camtwin_analytics::report::{self, COUNT_HEADER};
use camtwin_analytics::scoring::{
    self, CountedBy, CrossingSplit, ERROR_HEADER, ErrorRow, SEED_ERROR_HEADER, SPLIT_HEADER, SourceCounts, TimedCount,
};
use camtwin_analytics::tracker::TrackerConfig;
use camtwin_render::Renderer;
use camtwin_sim::body::AgentLibrary;
use camtwin_sim::geometry::{CameraView, RegionGroup};
use camtwin_sim::privacy::{FaceBlur, PrivacyConfig};
use camtwin_sim::scenario::{CameraSpec, Scenario, ZoneKind, ZoneSpec};
use camtwin_sim::street::StreetLayout;
use camtwin_sim::truth::{CrossingVisibility, Sight, TruthCamera};
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
    /// The first seed, instead of the scenario's.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Detector input size WIDTHxHEIGHT (multiples of 32) for every camera.
    /// By default each camera gets the input that keeps its proportions with
    /// a longer side of 416 (416x320 for 4:3 cameras).
    #[arg(long, value_parser = parse_size)]
    pub detector_input: Option<(usize, usize)>,
    /// Analyse each camera's whole image instead of the region around its
    /// counting lines and counting zones.
    #[arg(long)]
    pub whole_image: bool,
    /// Run only the privacy configuration NAME (repeat for several); every
    /// configuration of the scenario by default. With several, each writes
    /// its results to OUT/<name>/ and OUT/configurations.csv compares them.
    #[arg(long = "config", value_name = "NAME")]
    pub configs: Vec<String>,
    /// Cache folder for rendered footage and detections (default:
    /// $CAMTWIN_CACHE/footage or ~/.cache/camtwin/footage); see `camtwin cache`.
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Size limit of the cache, gigabytes; the least recently used footage
    /// goes first.
    #[arg(long, default_value_t = 20.0)]
    pub cache_limit_gb: f64,
    /// Render and detect without reading or writing the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// The detector's final score threshold, 0.1-1: boxes below it never
    /// reach the tracker. Applied after detection (the cache keeps every
    /// candidate from 0.1), so a new value replays cached footage.
    #[arg(long, default_value_t = 0.25, value_parser = parse_score)]
    pub score_threshold: f32,
    /// IoU of the detector's final non-maximum suppression, 0.1-0.7: a box
    /// overlapping a better one of its class by more is dropped. Applied
    /// after detection, like `--score-threshold`.
    #[arg(long, default_value_t = 0.45, value_parser = parse_iou)]
    pub nms_iou: f32,
}

/// Parses a score threshold no lower than the cached candidates' floor.
fn parse_score(text: &str) -> std::result::Result<f32, String> {
    parse_within(text, camtwin_analytics::detector::CANDIDATE_SCORE, 1.0)
}

/// Parses a suppression IoU no looser than the cached candidates'.
fn parse_iou(text: &str) -> std::result::Result<f32, String> {
    parse_within(text, 0.1, camtwin_analytics::detector::CANDIDATE_NMS_IOU)
}

fn parse_within(text: &str, lo: f32, hi: f32) -> std::result::Result<f32, String> {
    let v: f32 = text.trim().parse().map_err(|_| format!("`{text}` is not a number"))?;
    if (lo..=hi).contains(&v) { Ok(v) } else { Err(format!("{v} is outside {lo}-{hi}")) }
}

/// The detector input for a camera of `native` pixels (a scenario's camera,
/// or recorded footage in `camtwin analyse`): the one asked for, or the one
/// that keeps the proportions of the region it analyses (the whole image
/// when `region` is `None`), see [`analysis_input`]; for a camera counting
/// vehicles only ([`vehicles_only`]), shrunk rather than enlarged
/// ([`vehicle_input`]).
pub fn detector_input(
    asked: Option<(usize, usize)>,
    native: (u32, u32),
    region: Option<[u32; 4]>,
    config: &PrivacyConfig,
    vehicles_only: bool,
) -> (usize, usize) {
    let (w, h) = region.map_or(native, |r| (r[2] - r[0], r[3] - r[1]));
    // The region as the detector receives it: at the configuration's resolution.
    let scale = f64::from(config.analysed_size(native).0) / f64::from(native.0.max(1));
    let scaled = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
    let fit = if vehicles_only { vehicle_input } else { analysis_input };
    asked.unwrap_or_else(|| fit(scaled(w), scaled(h)))
}

/// Whether a camera counts vehicles only: it has lines in view, every one
/// of them across the road, and no counting zone in view.
fn vehicles_only(scenario: &Scenario, cam: &CameraSpec, lines: &[LineInView]) -> bool {
    let half_road = scenario.street.road_width_m / 2.0;
    !lines.is_empty()
        && lines
            .iter()
            .all(|l| matches!(l.spec.shape, LineShape::Ground { from, to } if across_road(from, to, half_road)))
        && !zone_in_view(scenario, cam)
}

/// Whether a ground line from `from` to `to` crosses the road (whose
/// half-width is `half_road`), rather than running along a sidewalk: a line
/// along the curb only touches the road.
fn across_road(from: [f64; 2], to: [f64; 2], half_road: f32) -> bool {
    let (a, b) = (from[1] as f32, to[1] as f32);
    a.min(b) < half_road - 0.01 && a.max(b) > -half_road + 0.01
}

/// How far either side of a counting line the analysis region reaches,
/// metres: enough for a walker to be detected and its track confirmed well
/// before the line (at 1.3 m/s, about two seconds).
pub const REGION_MARGIN_M: f32 = 2.5;
/// Height the region covers above the ground, metres (taller than people).
pub const REGION_HEIGHT_M: f32 = 2.2;
/// How far either side of a counting line across the road the region
/// reaches, metres: half a 12 m bus, and 4 m more (half a second at 30 km/h)
/// for its track to be confirmed before its centre reaches the line.
pub const VEHICLE_REGION_MARGIN_M: f32 = 10.0;
/// Height the region covers above a road line, metres (taller than a lorry).
pub const VEHICLE_REGION_HEIGHT_M: f32 = 3.6;

/// The region a camera analyses in this run.
fn camera_region(args: &RunArgs, scenario: &Scenario, cam: &CameraSpec, lines: &[LineInView]) -> Option<[u32; 4]> {
    if args.whole_image {
        None
    } else {
        analysis_region(cam, lines, &scenario.zones, scenario.street.road_width_m / 2.0)
    }
}

/// Where a camera's face blur looks when nothing but its region is ever
/// seen: the band of the region where faces can be
/// ([`camtwin_sim::geometry::CameraView::face_band`]; the region itself
/// when the band is too small), `None` (the whole image) without a region.
fn camera_face_band(args: &RunArgs, scenario: &Scenario, cam: &CameraSpec, lines: &[LineInView]) -> Option<[u32; 4]> {
    let region = camera_region(args, scenario, cam, lines)?;
    let half_road = scenario.street.road_width_m / 2.0;
    let near = camtwin_analytics::intrusiveness::identifiable_within_m(f64::from(cam.view().focal_px())) as f32;
    Some(analysis_area(cam, lines, &scenario.zones, half_road, |v, g| v.face_band(g, near)).unwrap_or(region))
}

/// The part of a camera's image where the people its counting lines and
/// counting zones need can appear: everything within [`REGION_MARGIN_M`] of
/// a line and the part of each counting zone in view, from the ground to
/// [`REGION_HEIGHT_M`] (for a line across the road, whose half-width is
/// `half_road`: within [`VEHICLE_REGION_MARGIN_M`], up to
/// [`VEHICLE_REGION_HEIGHT_M`]), as `[x0, y0, x1, y1]` native pixels; `None` when
/// that is most of the image anyway. Analysing only this region is the
/// regulator's frugality (fewer pixels looked at) and lets the detector see
/// the people that matter larger for the same cost.
pub fn analysis_region(cam: &CameraSpec, lines: &[LineInView], zones: &[ZoneSpec], half_road: f32) -> Option<[u32; 4]> {
    analysis_area(cam, lines, zones, half_road, CameraView::region_around_groups)
}

/// The rectangle that `area` gives for the segments of
/// [`analysis_region`]: the region itself or its face band.
fn analysis_area(
    cam: &CameraSpec,
    lines: &[LineInView],
    zones: &[ZoneSpec],
    half_road: f32,
    area: impl Fn(&CameraView, &[RegionGroup<'_>]) -> Option<[u32; 4]>,
) -> Option<[u32; 4]> {
    let mut segments = Vec::new();
    let mut road = Vec::new();
    for l in lines {
        let LineShape::Ground { from, to } = l.spec.shape else { return None };
        let across = across_road(from, to, half_road);
        let (from, to) = (from.map(|v| v as f32), to.map(|v| v as f32));
        if across { road.push((from, to)) } else { segments.push((from, to)) }
    }
    // A counting zone's ground in view, as points on a half-metre grid
    // (each a segment of no length, so the margin does not widen it).
    let view = cam.view();
    let (w, h) = (cam.width as f32, cam.height as f32);
    for zone in zones.iter().filter(|z| z.kind == ZoneKind::Count) {
        segments.extend(zone.grid(ZONE_GRID_M).filter(|p| ground_in_image(&view, (w, h), *p)).map(|p| (p, p)));
    }
    area(
        &view,
        &[(&segments, REGION_MARGIN_M, REGION_HEIGHT_M), (&road, VEHICLE_REGION_MARGIN_M, VEHICLE_REGION_HEIGHT_M)],
    )
}

/// Whether ground point `p` projects inside an image of `size` pixels.
fn ground_in_image(view: &camtwin_sim::geometry::CameraView, (w, h): (f32, f32), p: [f32; 2]) -> bool {
    view.project([p[0], p[1], 0.0]).is_some_and(|px| (0.0..=w).contains(&px[0]) && (0.0..=h).contains(&px[1]))
}

/// Whether part of a counting zone is in a camera's image: a camera over a
/// bus stop with no line beside it still counts the stop's occupancy.
fn zone_in_view(scenario: &Scenario, cam: &CameraSpec) -> bool {
    let view = cam.view();
    let size = (cam.width as f32, cam.height as f32);
    scenario
        .zones
        .iter()
        .filter(|z| z.kind == ZoneKind::Count)
        .any(|z| z.grid(ZONE_GRID_M).any(|p| ground_in_image(&view, size, p)))
}

/// Whether a camera has anything to count: a counting line or part of a
/// counting zone in its image.
fn counts_anything(scenario: &Scenario, cam: &CameraSpec) -> bool {
    !lines_in_view(scenario, cam).is_empty() || zone_in_view(scenario, cam)
}

/// Spacing of the ground points that stand for a counting zone in
/// [`analysis_region`], metres.
const ZONE_GRID_M: f32 = 0.5;

/// The detectors a run needs: one per network input size, loaded (and
/// checked) before any output is written.
struct Detectors {
    /// The footage and detection cache, unless `--no-cache`.
    cache: Option<crate::cache::FootageCache>,
    objects: Vec<((usize, usize), Detector)>,
    /// Face detectors per camera, area size and input scale, for
    /// configurations that blur faces with one.
    faces: HashMap<FaceKey, FaceDetector>,
}

/// What tells face detectors apart: the camera, the size of the area
/// CenterFace looks at, and its input scale (as bits, to hash).
type FaceKey = (String, (u32, u32), u64);

/// The face detector a camera needs under a configuration.
fn face_key(cam: &CameraSpec, band: Option<[u32; 4]>, config: &PrivacyConfig) -> FaceKey {
    let size = face_area(band, config).map_or((cam.width, cam.height), |r| (r[2] - r[0], r[3] - r[1]));
    (cam.id.clone(), size, config.face_scale.to_bits())
}

impl Detectors {
    fn load(args: &RunArgs, scenario: &Scenario, configs: &[PrivacyConfig]) -> Result<Self> {
        let mut objects: Vec<((usize, usize), Detector)> = Vec::new();
        let mut faces = HashMap::new();
        for cam in &scenario.cameras {
            let lines = lines_in_view(scenario, cam);
            let band = camera_face_band(args, scenario, cam, &lines);
            let (region, vehicles) = (camera_region(args, scenario, cam, &lines), vehicles_only(scenario, cam, &lines));
            for config in configs {
                let input = detector_input(args.detector_input, (cam.width, cam.height), region, config, vehicles);
                if objects.iter().any(|(i, _)| *i == input) {
                    continue;
                }
                let dc = DetectorConfig {
                    threads: args.threads.max(1),
                    input: Some(input),
                    score_threshold: args.score_threshold,
                    nms_iou: args.nms_iou,
                };
                objects.push((input, Detector::load(&args.models, dc)?));
            }
            for config in configs.iter().filter(|c| c.face_blur == FaceBlur::Centerface) {
                let key = face_key(cam, band, config);
                if faces.contains_key(&key) {
                    continue;
                }
                let (size, scale) = (key.1, config.face_scale);
                let face = FaceDetector::load(&args.models, size, scale, args.threads.max(1))
                    .with_context(|| format!("camera `{}`: face detector (run `make models`)", cam.id))?;
                faces.insert(key, face);
            }
        }
        let cache = if args.no_cache {
            None
        } else {
            let dir = args.cache.clone().unwrap_or_else(crate::cache::default_dir);
            let limit = (args.cache_limit_gb.max(0.0) * 1e9) as u64;
            Some(crate::cache::FootageCache::open(&dir, limit)?)
        };
        Ok(Self { cache, objects, faces })
    }

    fn for_camera(&self, cam: &CameraSpec, input: (usize, usize)) -> Result<&Detector> {
        self.objects
            .iter()
            .find(|(i, _)| *i == input)
            .map(|(_, d)| d)
            .with_context(|| format!("no detector was loaded for camera `{}`", cam.id))
    }

    fn faces_for(&self, cam: &CameraSpec, band: Option<[u32; 4]>, config: &PrivacyConfig) -> Option<FaceDetector> {
        (config.face_blur == FaceBlur::Centerface)
            .then(|| self.faces.get(&face_key(cam, band, config)).cloned())
            .flatten()
    }
}

/// The checksum files of the models a run uses, as text: part of the key of
/// cached detections, so a new model never replays an old one's boxes.
pub(crate) fn model_sums(models: &Path, faces: bool) -> String {
    let read = |name: &str| std::fs::read_to_string(models.join(name)).unwrap_or_default();
    if faces { format!("{}{}", read("SHA256SUMS"), read("centerface.sha256")) } else { read("SHA256SUMS") }
}

/// Where a configuration's face blur must look: the face band of the
/// detector's region ([`camera_face_band`]) when no frame outlives
/// detection (nothing else is ever seen), the whole frame (`None`) when
/// frames are kept or shipped.
fn face_area(band: Option<[u32; 4]>, config: &PrivacyConfig) -> Option<[u32; 4]> {
    (config.data_kind() == camtwin_sim::privacy::DataKind::AggregatesOnly).then_some(band).flatten()
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
        "{}: `{}`, seed {}, {} s at {} Hz; {} pedestrians, {}; {} camera(s), {} line(s), {} zone(s){}, {} \
         sensor(s); privacy configuration(s): {}",
        path.display(),
        s.scenario.name,
        s.scenario.seed,
        s.scenario.duration_s,
        s.scenario.step_hz,
        s.pedestrians.count,
        s.vehicles.describe(),
        s.cameras.len(),
        s.lines.len(),
        s.zones.len(),
        match s.zones.iter().filter(|z| z.wait.is_some()).count() {
            0 => String::new(),
            n => format!(" ({n} where people wait)"),
        },
        s.sensors.len(),
        s.privacy_configs().iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}

/// Files a run writes at the top of its output folder: removed before a new
/// run starts, so a failed run never leaves an older result looking like its own.
const RESULT_FILES: [&str; 13] = [
    "counts.csv",
    "errors.csv",
    "crossings.csv",
    "lost-crossings.csv",
    "unseen-crossings.csv",
    "extra-counts.csv",
    "counted-crossings.csv",
    "counts.png",
    "summary.md",
    "errors-over-seeds.csv",
    "intrusiveness.csv",
    "configurations.csv",
    "zones.csv",
];

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
            || ((name.ends_with(".csv") || name.ends_with(".json"))
                && (name.starts_with("aggregates-") || name.starts_with("truth-") || name.starts_with("frames-")))
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
    /// The renderer, made when a frame is not in the cache (or the cache is off).
    renderer: Option<Renderer>,
    /// How to make the renderer: scenery, lighting, view.
    scene: (Vec<camtwin_sim::geometry::MeshData>, camtwin_sim::geometry::Lighting, camtwin_sim::geometry::CameraView),
    /// Footage read from the cache, when it holds this camera's.
    cached: Option<crate::cache::Entry>,
    /// Footage being written to the cache.
    writer: Option<crate::cache::EntryWriter>,
    /// Frames whose earlier results are replayed: their pixels are not needed.
    replayed: std::collections::HashSet<u64>,
    /// Cached frames that could not be read (rendered instead).
    unreadable: u64,
    frames_from_cache: u64,
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
    /// Ground truth of every person in every frame, for intrusiveness.
    observations: Vec<PersonObservation>,
    /// Hand the true face boxes to the filter (the "truth" face blur).
    truth_faces: bool,
    /// The configuration's masks in native pixels.
    masks: Vec<Vec<[f32; 2]>>,
    /// Sensitive places, ground polygons.
    sensitive: Vec<Vec<[f32; 2]>>,
    /// Who is in each counting zone at each frame, for scoring the camera's zone counts.
    zone_truth: camtwin_sim::zones::ZoneLedger,
    /// Times of every native frame.
    frame_times: Vec<f64>,
}

impl TruthRow {
    /// Column names, in field order.
    const HEADER: [&'static str; 15] = [
        "frame",
        "time_s",
        "agent",
        "class",
        "x0",
        "y0",
        "x1",
        "y1",
        "visible_fraction",
        "pixels_per_metre",
        "visible_x0",
        "visible_y0",
        "visible_x1",
        "visible_y1",
        "visible_pixel_fraction",
    ];
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
    /// Box of the visible pixels (id buffer); empty when none is visible or
    /// the frame was not rendered with its ids.
    visible_x0: Option<f32>,
    visible_y0: Option<f32>,
    visible_x1: Option<f32>,
    visible_y1: Option<f32>,
    /// Visible pixels over the unoccluded silhouette's pixels.
    visible_pixel_fraction: Option<f32>,
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
        let mut boxes = self.truth.boxes(&snapshot);
        let needs_pixels = !self.replayed.contains(&self.next_index) || self.preview.is_some() || self.export.is_some();
        let from_cache = match (&self.cached, needs_pixels) {
            (_, false) => Some(camtwin_render::RenderedFrame {
                width: self.scene.2.width,
                height: self.scene.2.height,
                rgb: Vec::new(),
                ids: Vec::new(),
            }),
            (Some(entry), true) => match entry.frame(self.next_index) {
                Ok(f) => Some(f),
                Err(e) => {
                    self.unreadable += 1;
                    tracing::warn!("cached frame unreadable ({e}): rendering it again");
                    None
                }
            },
            (None, true) => None,
        };
        let rendered = match from_cache {
            Some(frame) => {
                self.frames_from_cache += 1;
                frame
            }
            None => {
                if self.renderer.is_none() {
                    let (scenery, lighting, view) = &self.scene;
                    match Renderer::new(scenery, lighting, view) {
                        Ok(r) => self.renderer = Some(r),
                        Err(e) => return Some(Err(e.to_string())),
                    }
                }
                let renderer = self.renderer.as_mut()?;
                let tags = TruthCamera::tags(&snapshot, &boxes);
                match renderer.render_tagged(&snapshot.instances(), &tags, &self.library) {
                    Ok(r) => r,
                    Err(e) => return Some(Err(format!("rendering frame {}: {e}", self.next_index))),
                }
            }
        };
        self.render_s += started.elapsed().as_secs_f64();
        if let Some(writer) = &mut self.writer
            && let Err(e) = writer.add(self.next_index, &rendered)
        {
            tracing::warn!("cannot cache frame {}: {e:#}; footage not cached", self.next_index);
            self.writer = None;
        }
        if let Some((dir, n)) = &self.preview
            && self.next_index < u64::from(*n)
        {
            let path = dir.join(format!("frame-{:05}.png", self.next_index));
            if let Err(e) = report::write_png(&path, rendered.width, rendered.height, &rendered.rgb) {
                return Some(Err(e.to_string()));
            }
            self.saved_frames += 1;
        }
        if self.export.is_some() || self.rows.is_some() {
            self.truth.measure_pixels(&snapshot, &mut boxes, &rendered.ids);
        }
        self.visibility.observe(&snapshot, &boxes);
        self.zone_truth.observe(&snapshot);
        self.frame_times.push(f64::from(snapshot.time_s));
        let mut truth_faces = Vec::new();
        for b in boxes.iter().filter(|b| b.class == camtwin_sim::world::ObjectClass::Person) {
            let agent = snapshot.agents.iter().find(|a| a.id == b.agent);
            let ground = agent.map(|a| [a.instance.translation[0], a.instance.translation[1]]);
            let centre = [(b.bbox[0] + b.bbox[2]) / 2.0, (b.bbox[1] + b.bbox[3]) / 2.0];
            if self.truth_faces
                && let Some(f) = b.face
            {
                truth_faces.push(f.bbox);
            }
            self.observations.push(PersonObservation {
                frame: self.next_index,
                agent: b.agent,
                pixels_per_metre: f64::from(b.pixels_per_metre),
                visible_fraction: f64::from(b.visible_fraction),
                face: b.face.map(|f| f.bbox),
                face_yaw_deg: b.face.map_or(180.0, |f| f64::from(f.yaw_deg)),
                face_occluded: b.face.is_some_and(|f| f.occluded),
                in_sensitive_place: ground
                    .is_some_and(|g| self.sensitive.iter().any(|z| camtwin_sim::geometry::point_in_polygon(g, z))),
                masked: self.masks.iter().any(|m| camtwin_sim::geometry::point_in_polygon(centre, m)),
                child: agent.is_some_and(|a| a.is_child()),
            });
        }
        if let Some(export) = &mut self.export {
            if let Err(e) = export.add(self.next_index, &rendered.rgb, boxes.clone()) {
                return Some(Err(format!("{e:#}")));
            }
            self.saved_frames += 1;
        }
        if let Some(rows) = &mut self.rows {
            rows.extend(boxes.into_iter().map(|b| {
                let visible = b.pixels.and_then(|p| p.bbox);
                TruthRow {
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
                    visible_x0: visible.map(|v| v[0]),
                    visible_y0: visible.map(|v| v[1]),
                    visible_x1: visible.map(|v| v[2]),
                    visible_y1: visible.map(|v| v[3]),
                    visible_pixel_fraction: b.pixels.map(|p| p.visible_fraction()),
                }
            }));
        }
        let mut frame = Frame::new(
            self.next_index,
            f64::from(snapshot.time_s),
            rendered.width,
            rendered.height,
            rendered.rgb,
            lease,
        );
        frame.truth_faces = truth_faces;
        self.next_index += 1;
        self.progress.inc(1);
        // Without a terminal (a log file, a batch job) the bar is hidden:
        // say how far a long camera has got every tenth of the way.
        let tenth = (self.frames_total / 10).max(1);
        if self.progress.is_hidden() && self.frames_total >= 1000 && self.next_index.is_multiple_of(tenth) {
            let done = self.next_index;
            tracing::info!(what = %self.progress.prefix(), frames = done, of = self.frames_total, "progress");
        }
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
    observations: Vec<PersonObservation>,
    writer: Option<crate::cache::EntryWriter>,
    frames_from_cache: u64,
    unreadable: u64,
    zone_truth: camtwin_sim::zones::ZoneLedger,
    frame_times: Vec<f64>,
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
            observations: self.observations,
            writer: self.writer,
            frames_from_cache: self.frames_from_cache,
            unreadable: self.unreadable,
            zone_truth: self.zone_truth,
            frame_times: self.frame_times,
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

/// The analytics configuration of one camera under one privacy
/// configuration: its resolved privacy settings, aggregation and disclosure
/// control, the counting lines and the camera's calibration.
pub fn pipeline_config(
    scenario: &Scenario,
    cam: &CameraSpec,
    lines: &[LineInView],
    out: &Path,
    privacy: &PrivacyConfig,
) -> PipelineConfig {
    let masks = camera_masks(scenario, cam, privacy);
    let seed = scenario.scenario.seed ^ stable_hash(&format!("{}/{}", cam.id, privacy.name));
    PipelineConfig {
        privacy: PrivacySettings::new(privacy.clone(), (cam.width, cam.height), masks),
        counting: CountingGeometry {
            lines: lines.iter().map(|l| l.spec.clone()).collect(),
            image_to_ground: Some(cam.view().image_to_ground_homography()),
            native_width: cam.width,
        },
        region: analysis_region(cam, lines, &scenario.zones, scenario.street.road_width_m / 2.0),
        tracker: TrackerConfig::default(),
        interval_s: privacy.interval_s.unwrap_or(scenario.aggregation.interval_s),
        disclosure: Disclosure { k: privacy.k, epsilon: privacy.epsilon, seed },
        faces: None,
        native_fps: f64::from(cam.fps),
        duration_s: f64::from(scenario.scenario.duration_s),
        max_frames_in_flight: 4,
        sink: Some(out.join(format!("aggregates-{}.csv", cam.id))),
        record_tracks: false,
        replay: None,
        zones: scenario
            .zones
            .iter()
            .filter(|z| z.kind == ZoneKind::Count)
            .map(|z| camtwin_analytics::zones::ZoneSpec {
                id: z.id.clone(),
                shape: camtwin_analytics::zones::ZoneShape::Ground(
                    z.polygon.iter().map(|p| p.map(f64::from)).collect(),
                ),
            })
            .collect(),
    }
}

/// FNV-1a: a stable 64-bit hash of a name, for seeding per camera and configuration.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// A configuration's masks as polygons in a camera's native pixels: image
/// masks for this camera as given, world polygons projected, zones as the
/// outline of their prism from the ground to the mask's height. A mask with
/// a corner behind the camera is not in its view and is left out.
pub fn camera_masks(scenario: &Scenario, cam: &CameraSpec, privacy: &PrivacyConfig) -> Vec<Vec<[f32; 2]>> {
    let view = cam.view();
    let project_all = |points: &[[f32; 3]]| points.iter().map(|p| view.project(*p)).collect::<Option<Vec<_>>>();
    let mut out = Vec::new();
    for m in &privacy.masks {
        if let Some(p) = &m.image {
            if m.camera.as_ref().is_none_or(|c| *c == cam.id) {
                out.push(p.clone());
            }
        } else if let Some(p) = &m.world {
            match project_all(p) {
                Some(px) => out.push(px),
                None => tracing::warn!(camera = %cam.id, "a world mask is partly behind the camera; left out"),
            }
        } else if let Some(zone) = m.zone.as_ref().and_then(|id| scenario.zones.iter().find(|z| z.id == *id)) {
            let prism: Vec<[f32; 3]> =
                zone.polygon.iter().flat_map(|g| [[g[0], g[1], 0.0], [g[0], g[1], m.height_m]]).collect();
            match project_all(&prism) {
                Some(px) => out.push(convex_hull(px)),
                None => tracing::warn!(camera = %cam.id, zone = %zone.id, "a zone mask is partly behind the camera"),
            }
        }
    }
    out
}

/// Convex hull of points (Andrew's monotone chain), counter-clockwise.
fn convex_hull(mut pts: Vec<[f32; 2]>) -> Vec<[f32; 2]> {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: [f32; 2], a: [f32; 2], b: [f32; 2]| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    let mut hull: Vec<[f32; 2]> = Vec::with_capacity(pts.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &[f32; 2]>> =
            if pass == 0 { Box::new(pts.iter()) } else { Box::new(pts.iter().rev()) };
        for &p in iter {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
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
                agent: Some(c.agent),
                counted_by: None,
            })
        })
        .collect()
}

/// What one seed's run produced, for the summary over seeds.
struct SeedOutcome {
    errors: Vec<ErrorRow>,
    splits: Vec<CrossingSplit>,
    summary: String,
    intrusion: Vec<IntrusionRow>,
}

/// One row of `intrusiveness.csv`: how much one camera sees of people under
/// one privacy configuration (docs/OUTPUTS.md defines every column).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct IntrusionRow {
    pub(crate) config: String,
    pub(crate) camera: String,
    pub(crate) analysed_width: u32,
    pub(crate) analysed_height: u32,
    pub(crate) fps: f64,
    pub(crate) face_blur: String,
    /// CenterFace's input scale; empty unless faces are blurred by CenterFace.
    #[serde(default)]
    pub(crate) face_scale: Option<f64>,
    pub(crate) masks: usize,
    pub(crate) mode: String,
    pub(crate) retention_s: f64,
    pub(crate) k: u32,
    pub(crate) epsilon: Option<f64>,
    pub(crate) data_kind: String,
    pub(crate) frames_analysed: u64,
    pub(crate) frames_retained: u64,
    pub(crate) max_frame_lifetime_s: f64,
    pub(crate) bytes_per_hour: f64,
    pub(crate) person_s_in_view: f64,
    pub(crate) median_ppm: f64,
    pub(crate) share_below_monitor: f64,
    pub(crate) share_monitor: f64,
    pub(crate) share_detect: f64,
    pub(crate) share_observe: f64,
    pub(crate) share_recognise: f64,
    pub(crate) share_identify: f64,
    pub(crate) face_s_facing: f64,
    pub(crate) face_s_identifiable: f64,
    pub(crate) face_s_blurred: f64,
    pub(crate) sensitive_person_s: f64,
    pub(crate) child_person_s: f64,
}

impl IntrusionRow {
    pub(crate) const HEADER: [&'static str; 30] = [
        "config",
        "camera",
        "analysed_width",
        "analysed_height",
        "fps",
        "face_blur",
        "face_scale",
        "masks",
        "mode",
        "retention_s",
        "k",
        "epsilon",
        "data_kind",
        "frames_analysed",
        "frames_retained",
        "max_frame_lifetime_s",
        "bytes_per_hour",
        "person_s_in_view",
        "median_ppm",
        "share_below_monitor",
        "share_monitor",
        "share_detect",
        "share_observe",
        "share_recognise",
        "share_identify",
        "face_s_facing",
        "face_s_identifiable",
        "face_s_blurred",
        "sensitive_person_s",
        "child_person_s",
    ];
}

/// One row of `configurations.csv`: a configuration's utility (camera count
/// error on one line, persons, both directions, whole run) beside its
/// intrusiveness, averaged over seeds.
#[derive(Debug, Clone, serde::Serialize)]
struct ConfigRow {
    config: String,
    camera: String,
    line: String,
    seeds: usize,
    wape: f64,
    wape_low: f64,
    wape_high: f64,
    bias: f64,
    data_kind: String,
    analysed_width: u32,
    analysed_height: u32,
    fps: f64,
    face_blur: String,
    frames_retained: f64,
    max_frame_lifetime_s: f64,
    bytes_per_hour: f64,
    person_s_in_view: f64,
    median_ppm: f64,
    share_observe_or_more: f64,
    face_s_identifiable: f64,
    face_s_blurred: f64,
    sensitive_person_s: f64,
    child_person_s: f64,
}

impl ConfigRow {
    const HEADER: [&'static str; 23] = [
        "config",
        "camera",
        "line",
        "seeds",
        "wape",
        "wape_low",
        "wape_high",
        "bias",
        "data_kind",
        "analysed_width",
        "analysed_height",
        "fps",
        "face_blur",
        "frames_retained",
        "max_frame_lifetime_s",
        "bytes_per_hour",
        "person_s_in_view",
        "median_ppm",
        "share_observe_or_more",
        "face_s_identifiable",
        "face_s_blurred",
        "sensitive_person_s",
        "child_person_s",
    ];
}

/// The configurations a run covers: those named with `--config` (in the
/// scenario's order), or all of them.
fn select_configs(scenario: &Scenario, asked: &[String], path: &Path) -> Result<Vec<PrivacyConfig>> {
    let all = scenario.privacy_configs();
    if let Some(unknown) = asked.iter().find(|n| !all.iter().any(|c| c.name == **n)) {
        let known: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
        bail!("{}: no privacy configuration `{unknown}` (configurations: {})", path.display(), known.join(", "));
    }
    Ok(all.into_iter().filter(|c| asked.is_empty() || asked.contains(&c.name)).collect())
}

/// `camtwin run`.
pub fn run(args: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let scenario = Scenario::load(&args.scenario)?;
    if scenario.cameras.is_empty() && scenario.sensors.is_empty() {
        bail!("{}: the scenario has no [[cameras]] and no [[sensors]]: nothing to measure", args.scenario.display());
    }
    let blind: Vec<&str> =
        scenario.cameras.iter().filter(|c| !counts_anything(&scenario, c)).map(|c| c.id.as_str()).collect();
    if !blind.is_empty() && blind.len() == scenario.cameras.len() && scenario.sensors.is_empty() {
        bail!(
            "{}: no camera sees any counting line or counting zone: add a [[lines]] entry (or a counting zone) \
             inside a camera's image",
            args.scenario.display()
        );
    }
    for id in blind {
        tracing::warn!(camera = %id, "no counting line or counting zone is in this camera's view; it is skipped");
    }
    let configs = select_configs(&scenario, &args.configs, &args.scenario)?;
    let detectors = Detectors::load(args, &scenario, &configs)?;
    prepare_out_dir(&args.out)?;
    if let [config] = &configs[..] {
        run_config(args, &scenario, config, &args.out, &detectors, started)?;
        return Ok(());
    }
    let mut rows = Vec::new();
    for (k, config) in configs.iter().enumerate() {
        tracing::info!(config = %config.name, run = k + 1, of = configs.len(), "privacy configuration");
        let dir = args.out.join(&config.name);
        prepare_out_dir(&dir)?;
        rows.extend(run_config(args, &scenario, config, &dir, &detectors, Instant::now())?);
    }
    report::write_csv(&args.out.join("configurations.csv"), &rows, &ConfigRow::HEADER)?;
    let mut md = format!(
        "# camtwin run over {} privacy configurations: {}\n\nScenario `{}`; each configuration's results are in \
         `<configuration>/`. Utility: the camera's person count error (WAPE) over the whole run, both directions. \
         Intrusiveness: measured from ground truth after the privacy filter.\n\n\
         | configuration | camera | line | WAPE | data | analysed | fps | face blur | identifiable face-s | \
         ≥ observe | median px/m | bytes/h | kept frames |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        configs.len(),
        scenario.scenario.name,
        args.scenario.display()
    );
    for r in &rows {
        md.push_str(&format!(
            "| {} | {} | {} | {:.1} % [{:.1}, {:.1}] | {} | {}x{} | {:.1} | {} | {:.1} | {:.0} % | {:.0} | {:.0} | {:.0} |\n",
            r.config,
            r.camera,
            r.line,
            r.wape * 100.0,
            r.wape_low * 100.0,
            r.wape_high * 100.0,
            r.data_kind,
            r.analysed_width,
            r.analysed_height,
            r.fps,
            r.face_blur,
            r.face_s_identifiable,
            r.share_observe_or_more * 100.0,
            r.median_ppm,
            r.bytes_per_hour,
            r.frames_retained
        ));
    }
    md.push_str(&format!(
        "\nFiles: `configurations.csv` (this table, every column), `<configuration>/` (each configuration's \
         results). Wall time {:.1} s.\n",
        started.elapsed().as_secs_f64()
    ));
    report::write_atomic(&args.out.join("summary.md"), md.as_bytes())
        .with_context(|| format!("cannot write {}", args.out.join("summary.md").display()))?;
    println!("{md}");
    Ok(())
}

/// Runs one privacy configuration over the seeds asked for, writing its
/// results to `out`, and returns its rows for the comparison of
/// configurations.
fn run_config(
    args: &RunArgs,
    scenario: &Scenario,
    config: &PrivacyConfig,
    out: &Path,
    detectors: &Detectors,
    started: Instant,
) -> Result<Vec<ConfigRow>> {
    let first = args.seed.unwrap_or(scenario.scenario.seed);
    let seeds: Vec<u64> = (0..u64::from(args.seeds)).map(|k| first.wrapping_add(k)).collect();
    if let [seed] = seeds[..] {
        let outcome = run_seed(args, scenario, config, seed, out, detectors, started)?;
        println!("{}", outcome.summary);
        return Ok(config_rows(config, std::slice::from_ref(&outcome)));
    }
    let mut outcomes = Vec::new();
    for (k, &seed) in seeds.iter().enumerate() {
        tracing::info!(seed, run = k + 1, of = seeds.len(), "seed");
        let dir = out.join(format!("seed-{seed}"));
        prepare_out_dir(&dir)?;
        outcomes.push(run_seed(args, scenario, config, seed, &dir, detectors, Instant::now())?);
    }
    let per_seed: Vec<Vec<ErrorRow>> = outcomes.iter().map(|o| o.errors.clone()).collect();
    let over = scoring::errors_over_seeds(&per_seed);
    report::write_csv(&out.join("errors-over-seeds.csv"), &over, &SEED_ERROR_HEADER)?;
    let splits: Vec<CrossingSplit> = scoring::sum_splits(outcomes.iter().flat_map(|o| o.splits.iter()));
    report::write_csv(&out.join("crossings.csv"), &splits, &SPLIT_HEADER)?;
    let intrusion: Vec<IntrusionRow> = outcomes.iter().flat_map(|o| o.intrusion.iter().cloned()).collect();
    report::write_csv(&out.join("intrusiveness.csv"), &intrusion, &IntrusionRow::HEADER)?;
    let mut md = format!(
        "# camtwin run over {} seeds: {}\n\nScenario `{}`, privacy configuration `{}`, seeds {}; each seed's outputs \
         are in `seed-<seed>/`.\n\n",
        seeds.len(),
        scenario.scenario.name,
        args.scenario.display(),
        config.name,
        seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    );
    md.push_str(&scoring::seed_error_tables(&over));
    md.push_str(&scoring::split_tables(&splits, "all seeds together"));
    md.push_str(&format!(
        "\nFiles: `errors-over-seeds.csv` (mean and 95 % interval of every whole-run error), `crossings.csv` \
         (crossings of all seeds, split by what each camera could see), `intrusiveness.csv` (each seed's \
         intrusiveness per camera). Wall time {:.1} s.\n",
        started.elapsed().as_secs_f64()
    ));
    report::write_atomic(&out.join("summary.md"), md.as_bytes())
        .with_context(|| format!("cannot write {}", out.join("summary.md").display()))?;
    println!("{md}");
    Ok(config_rows(config, &outcomes))
}

/// The comparison rows of one configuration: per camera and line, the
/// person count error over seeds and the mean intrusiveness.
fn config_rows(config: &PrivacyConfig, outcomes: &[SeedOutcome]) -> Vec<ConfigRow> {
    let per_seed: Vec<Vec<ErrorRow>> = outcomes.iter().map(|o| o.errors.clone()).collect();
    let over = scoring::errors_over_seeds(&per_seed);
    let mut rows = Vec::new();
    let Some(first) = outcomes.first() else { return rows };
    for cam in &first.intrusion {
        let of_cam: Vec<&IntrusionRow> =
            outcomes.iter().flat_map(|o| o.intrusion.iter()).filter(|r| r.camera == cam.camera).collect();
        let mean = |f: &dyn Fn(&IntrusionRow) -> f64| of_cam.iter().map(|r| f(r)).sum::<f64>() / of_cam.len() as f64;
        let source = format!("camera:{}", cam.camera);
        for e in over.iter().filter(|e| e.source == source && e.class == "person" && e.direction == "both") {
            rows.push(ConfigRow {
                config: config.name.clone(),
                camera: cam.camera.clone(),
                line: e.line.clone(),
                seeds: e.seeds,
                wape: e.wape_mean,
                wape_low: e.wape_low,
                wape_high: e.wape_high,
                bias: e.bias_mean,
                data_kind: cam.data_kind.clone(),
                analysed_width: cam.analysed_width,
                analysed_height: cam.analysed_height,
                fps: cam.fps,
                face_blur: cam.face_blur.clone(),
                frames_retained: mean(&|r| r.frames_retained as f64),
                max_frame_lifetime_s: of_cam.iter().map(|r| r.max_frame_lifetime_s).fold(0.0, f64::max),
                bytes_per_hour: mean(&|r| r.bytes_per_hour),
                person_s_in_view: mean(&|r| r.person_s_in_view),
                median_ppm: mean(&|r| r.median_ppm),
                share_observe_or_more: mean(&|r| r.share_observe + r.share_recognise + r.share_identify),
                face_s_identifiable: mean(&|r| r.face_s_identifiable),
                face_s_blurred: mean(&|r| r.face_s_blurred),
                sensitive_person_s: mean(&|r| r.sensitive_person_s),
                child_person_s: mean(&|r| r.child_person_s),
            });
        }
    }
    rows
}

/// A true crossing of a line in a camera's view that the camera could not
/// see, and why: where a camera's placement loses what no pipeline can
/// count (`unseen-crossings.csv`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct UnseenCrossing {
    source: String,
    line: String,
    class: String,
    direction: String,
    time_s: f64,
    agent: u32,
    /// [`Sight::as_str`]: hidden by people, vehicles or buildings, cut by
    /// the image's edge, too small, or out of view.
    reason: &'static str,
}

impl UnseenCrossing {
    const HEADER: [&'static str; 7] = ["source", "line", "class", "direction", "time_s", "agent", "reason"];
}

/// The summary's sentence on why a camera could not see the crossings it
/// could not see, most frequent reason first; empty when it saw them all.
fn unseen_note(unseen: &[UnseenCrossing]) -> String {
    let mut by_reason: Vec<(&str, usize)> = Vec::new();
    for u in unseen {
        match by_reason.iter_mut().find(|(r, _)| *r == u.reason) {
            Some((_, n)) => *n += 1,
            None => by_reason.push((u.reason, 1)),
        }
    }
    if by_reason.is_empty() {
        return String::new();
    }
    by_reason.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = by_reason.iter().map(|(r, n)| format!("{n} {}", r.replace('_', " "))).collect();
    format!(
        " Of the {} true crossings of its lines it could not see: {} (`unseen-crossings.csv`).",
        unseen.len(),
        parts.join(", ")
    )
}

/// One camera's results.
struct CameraOutcome {
    counts: SourceCounts,
    split: Vec<CrossingSplit>,
    /// Visible crossings the pipeline did not count.
    lost: Vec<scoring::LostCrossing>,
    /// True crossings the camera could not see, with the reason.
    unseen: Vec<UnseenCrossing>,
    /// Counts that paired with no true crossing.
    extra: Vec<scoring::ExtraCount>,
    /// Every count, with what it paired with.
    counted: Vec<scoring::CountedCrossing>,
    note: String,
    crossings: Vec<Crossing>,
    intrusion: IntrusionRow,
    zones: Vec<ZoneRow>,
}

fn run_camera(
    args: &RunArgs,
    scenario: &Scenario,
    cam: &CameraSpec,
    privacy: &PrivacyConfig,
    out: &Path,
    detectors: &Detectors,
) -> Result<Option<CameraOutcome>> {
    let lines = lines_in_view(scenario, cam);
    if lines.is_empty() && !zone_in_view(scenario, cam) {
        return Ok(None);
    }
    let region = camera_region(args, scenario, cam, &lines);
    let input = detector_input(
        args.detector_input,
        (cam.width, cam.height),
        region,
        privacy,
        vehicles_only(scenario, cam, &lines),
    );
    let detector = detectors.for_camera(cam, input)?;
    let mut config = pipeline_config(scenario, cam, &lines, out, privacy);
    config.region = region;
    config.record_tracks = args.export;
    let band = camera_face_band(args, scenario, cam, &lines);
    let face_region = face_area(band, privacy);
    config.faces = detectors.faces_for(cam, band, privacy);
    config.privacy.face_region = face_region;
    let masks = config.privacy.masks.clone();
    let sensitive: Vec<Vec<[f32; 2]>> =
        scenario.zones.iter().filter(|z| z.kind == ZoneKind::Sensitive).map(|z| z.polygon.clone()).collect();
    let truth_faces = privacy.face_blur == FaceBlur::Truth;
    let zone_truth = camtwin_sim::zones::ZoneLedger::new(
        scenario.zones.iter().filter(|z| z.kind == ZoneKind::Count).cloned().collect(),
    );
    // Render once, analyse many: footage and detections from the cache.
    let footage_key = crate::cache::footage_key(scenario, cam)?;
    let expected_frames = (f64::from(scenario.scenario.duration_s) * f64::from(cam.fps)).floor() as u64;
    let cached = detectors.cache.as_ref().and_then(|c| c.lookup(&footage_key)).filter(|e| {
        let fits = (e.meta.frames, e.meta.width, e.meta.height) == (expected_frames, cam.width, cam.height);
        if !fits {
            tracing::warn!(camera = %cam.id, "cached footage does not match the camera: rendering again");
        }
        fits
    });
    let detections_key = crate::cache::detections_key(&serde_json::json!({
        "footage": footage_key,
        "models": model_sums(&args.models, privacy.face_blur == FaceBlur::Centerface),
        "detector_input": detector.input_size(),
        "region": region,
        "analysed": config.privacy.analysed,
        "masks": config.privacy.masks,
        "face_blur": privacy.face_blur,
        "face_scale": (privacy.face_blur == FaceBlur::Centerface).then_some(privacy.face_scale),
        "face_input": config.faces.as_ref().map(|f| f.input_size()),
        "blur": privacy.blur,
        // Where CenterFace looked; nothing else blurs by region.
        "face_region": config.faces.as_ref().and(config.privacy.face_region),
        "mode": privacy.mode,
    }));
    let replay = cached.as_ref().and_then(|e| e.detections(&detections_key));
    let replayed: std::collections::HashSet<u64> =
        replay.as_ref().map(|r| r.keys().copied().collect()).unwrap_or_default();
    config.replay = replay.map(std::sync::Arc::new);
    let writer = match (&detectors.cache, &cached) {
        (Some(c), None) => Some(c.writer(&footage_key)?),
        _ => None,
    };
    let cached_entry = cached.clone();
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
        let scene = (layout.scenery(), sim_scenario.lighting, view);
        // Without cached footage, open the renderer now: its failure is the run's.
        let renderer = match &cached {
            Some(_) => None,
            None => Some(Renderer::new(&scene.0, &scene.1, &scene.2).map_err(|e| e.to_string())?),
        };
        let library = AgentLibrary::new();
        let truth = TruthCamera::new(view, &layout, library.clone());
        let visibility = CrossingVisibility::new(sim_scenario.lines.iter().map(|l| (l.from, l.to)).collect());
        Ok(SimProducer {
            sim,
            renderer,
            scene,
            cached,
            writer,
            replayed,
            unreadable: 0,
            frames_from_cache: 0,
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
            observations: Vec::new(),
            truth_faces,
            masks,
            sensitive,
            zone_truth,
            frame_times: Vec::new(),
        })
    };
    tracing::info!(camera = %cam.id, frames = frames_total, lines = lines.len(), "rendering and analysing");
    let (summary, producer) =
        run_pipeline(make, detector.clone(), config).with_context(|| format!("camera `{}`", cam.id))?;
    let mut truth = producer.finish(scenario.step_count());
    if let Some(cache) = &detectors.cache {
        let entry = match truth.writer.take() {
            Some(writer) => {
                let meta = crate::cache::Meta {
                    camera: cam.id.clone(),
                    scenario: scenario.scenario.name.clone(),
                    seed: scenario.scenario.seed,
                    frames: frames_total,
                    width: cam.width,
                    height: cam.height,
                };
                writer.finish(&meta).with_context(|| format!("camera `{}`: caching footage", cam.id))?;
                cache.evict()?;
                cache.lookup(&footage_key)
            }
            None => cached_entry,
        };
        if let Some(entry) = entry
            && summary.frames_replayed < summary.results.len() as u64
        {
            entry.store_detections(&detections_key, &summary.results)?;
        }
    }
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
    let sight = truth.visibility.sight(&crossings);
    let visible: Vec<bool> = sight.iter().map(|s| *s == Sight::Visible).collect();
    let source = format!("camera:{}", cam.id);
    let line_ids: Vec<String> = lines.iter().map(|l| l.spec.id.clone()).collect();
    let unseen: Vec<UnseenCrossing> = crossings
        .iter()
        .zip(&sight)
        .filter(|(_, s)| **s != Sight::Visible)
        .filter_map(|(c, s)| {
            let line = scenario.lines.get(c.line)?.id.clone();
            line_ids.contains(&line).then(|| UnseenCrossing {
                source: source.clone(),
                line,
                class: c.class.name().into(),
                direction: c.direction.name().into(),
                time_s: f64::from(c.time_s),
                agent: c.agent,
                reason: s.as_str(),
            })
        })
        .collect();
    let counted: Vec<TimedCount> = summary
        .events
        .iter()
        .filter_map(|e| {
            Some(TimedCount {
                line: line_ids.get(e.line)?.clone(),
                time_s: e.time_s,
                class: e.class,
                direction: e.direction,
                agent: None,
                counted_by: Some(CountedBy { rule: e.rule, track: e.track }),
            })
        })
        .collect();
    let scoring::CrossingReport { split, lost, extra, counted: counted_rows } =
        scoring::split_crossings(&source, &line_ids, &counted, &timed(scenario, &crossings), &visible);
    report::write_csv(&out.join(format!("frames-{}.csv", cam.id)), &summary.lifetimes, &FrameLife::HEADER)?;
    let zone_rows = zone_rows(&cam.id, &config_interval(scenario, privacy), scenario, &summary, &truth);
    let intrusion = intrusion_row(scenario, cam, privacy, &summary, &truth.observations);
    let mut note = camera_note(cam, region, detector.input_size(), &summary, &truth, &lines);
    note.push_str(&unseen_note(&unseen));
    note.push_str(&rule_note(&counted, &extra));
    let dc = detector.config();
    note.push_str(&format!(
        " Detector boxes kept from score {} after suppression at IoU {} (`--score-threshold`, `--nms-iou`).",
        dc.score_threshold, dc.nms_iou
    ));
    note.push_str(&intrusion_note(&intrusion, &summary, face_region));
    note.push_str(&format!(
        " Cache: {} of {} frames read from cached footage{}, {} of {} analysed frames replayed from cached detections.",
        truth.frames_from_cache,
        summary.frames_in,
        if truth.unreadable > 0 {
            format!(" ({} unreadable, rendered again)", truth.unreadable)
        } else {
            String::new()
        },
        summary.frames_replayed,
        summary.frames_analysed
    ));
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
    Ok(Some(CameraOutcome {
        counts: SourceCounts { source, intervals: summary.intervals },
        split,
        lost,
        unseen,
        extra,
        counted: counted_rows,
        note,
        crossings,
        intrusion,
        zones: zone_rows,
    }))
}

/// How many of a camera's counts each of the counter's rules made, and how
/// many of those paired with no true crossing: which rules to trust on this
/// scene.
fn rule_note(counted: &[TimedCount], extra: &[scoring::ExtraCount]) -> String {
    let parts: Vec<String> = CountRule::ALL
        .iter()
        .filter_map(|&r| {
            let n = counted.iter().filter(|c| c.counted_by.is_some_and(|b| b.rule == r)).count();
            let wrong = extra.iter().filter(|e| e.rule == Some(r)).count();
            (n > 0).then(|| format!("{} {n} ({wrong} extra)", r.name()))
        })
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!(
        " Counts by the counter's rule that made them: {}; each extra one is in extra-counts.csv with its rule and track.",
        parts.join(", ")
    )
}

fn config_interval(scenario: &Scenario, privacy: &PrivacyConfig) -> u32 {
    privacy.interval_s.unwrap_or(scenario.aggregation.interval_s)
}

/// One row of `zones.csv`: a camera's zone figures over one interval beside
/// the ground truth's.
#[derive(Debug, Clone, serde::Serialize)]
struct ZoneRow {
    source: String,
    zone: String,
    class: &'static str,
    start_s: u32,
    end_s: u32,
    mean_occupancy: f64,
    truth_mean_occupancy: f64,
    max_occupancy: u32,
    truth_max_occupancy: u32,
    visits: u32,
    truth_visits: u32,
    mean_dwell_s: Option<f64>,
    truth_mean_dwell_s: Option<f64>,
}

impl ZoneRow {
    const HEADER: [&'static str; 13] = [
        "source",
        "zone",
        "class",
        "start_s",
        "end_s",
        "mean_occupancy",
        "truth_mean_occupancy",
        "max_occupancy",
        "truth_max_occupancy",
        "visits",
        "truth_visits",
        "mean_dwell_s",
        "truth_mean_dwell_s",
    ];
}

/// The camera's zone figures joined with the truth, persons only (the other
/// classes are in the device's output but walk no zone here).
fn zone_rows(
    camera: &str,
    interval_s: &u32,
    scenario: &Scenario,
    s: &PipelineSummary,
    truth: &CameraTruth,
) -> Vec<ZoneRow> {
    use camtwin_analytics::zones::{Visit, zone_intervals};
    let ledger = &truth.zone_truth;
    if ledger.zones().is_empty() {
        return Vec::new();
    }
    let ids: Vec<String> = ledger.zones().iter().map(|z| z.id.clone()).collect();
    let occupied: std::collections::BTreeMap<(u64, usize, camtwin_sim::world::ObjectClass), u32> = ledger
        .occupancy()
        .iter()
        .map(|o| (((f64::from(o.time_s) * 1e6).round() as u64, o.zone, o.class), o.count))
        .collect();
    let mut samples = Vec::new();
    for &t in &truth.frame_times {
        for z in 0..ids.len() {
            for class in camtwin_sim::world::ObjectClass::ALL {
                let n = occupied.get(&(((t * 1e6).round() as u64), z, class)).copied().unwrap_or(0);
                samples.push((t, z, class, f64::from(n)));
            }
        }
    }
    let visits: Vec<Visit> = ledger
        .visits()
        .iter()
        .map(|v| Visit { zone: v.zone, class: v.class, enter_s: f64::from(v.enter_s), exit_s: f64::from(v.exit_s) })
        .collect();
    let duration = f64::from(scenario.scenario.duration_s);
    let truth_rows = zone_intervals(&ids, &samples, None, &visits, *interval_s, duration);
    s.zones
        .iter()
        .filter(|c| c.class == "person")
        .filter_map(|c| {
            let t = truth_rows.iter().find(|t| t.start_s == c.start_s && t.zone == c.zone && t.class == c.class)?;
            Some(ZoneRow {
                source: format!("camera:{camera}"),
                zone: c.zone.clone(),
                class: c.class,
                start_s: c.start_s,
                end_s: c.end_s,
                mean_occupancy: c.mean_occupancy,
                truth_mean_occupancy: t.mean_occupancy,
                max_occupancy: c.max_occupancy,
                truth_max_occupancy: t.max_occupancy,
                visits: c.visits,
                truth_visits: t.visits,
                mean_dwell_s: c.mean_dwell_s,
                truth_mean_dwell_s: t.mean_dwell_s,
            })
        })
        .collect()
}

/// Measures what one camera saw of people under one configuration.
fn intrusion_row(
    scenario: &Scenario,
    cam: &CameraSpec,
    privacy: &PrivacyConfig,
    summary: &PipelineSummary,
    observations: &[PersonObservation],
) -> IntrusionRow {
    let (aw, ah) = privacy.analysed_size((cam.width, cam.height));
    let analysed = summary.lifetimes.iter().map(|l| l.frame).collect();
    let blurred = summary.results.iter().map(|r| (r.frame, r.blurred.clone())).collect();
    let effect =
        FilterEffect { analysed, blurred, scale: f64::from(aw) / f64::from(cam.width), native_fps: f64::from(cam.fps) };
    let m: Intrusiveness = intrusiveness::measure(observations, &effect);
    let duration_h = f64::from(scenario.scenario.duration_s) / 3600.0;
    IntrusionRow {
        config: privacy.name.clone(),
        camera: cam.id.clone(),
        analysed_width: aw,
        analysed_height: ah,
        fps: privacy.fps.unwrap_or(f64::from(cam.fps)),
        face_blur: format!("{:?}", privacy.face_blur).to_lowercase(),
        face_scale: (privacy.face_blur == FaceBlur::Centerface).then_some(privacy.face_scale),
        masks: privacy.masks.len(),
        mode: format!("{:?}", privacy.mode).to_lowercase(),
        retention_s: privacy.retention_s,
        k: privacy.k,
        epsilon: privacy.epsilon,
        data_kind: privacy.data_kind().name().to_string(),
        frames_analysed: summary.frames_analysed,
        frames_retained: summary.frames_retained(),
        max_frame_lifetime_s: summary.max_lifetime_s(),
        bytes_per_hour: (summary.bytes_shipped + summary.bytes_aggregates) as f64 / duration_h.max(1e-9),
        person_s_in_view: m.person_s_in_view,
        median_ppm: m.median_ppm,
        share_below_monitor: m.dori_shares[0],
        share_monitor: m.dori_shares[1],
        share_detect: m.dori_shares[2],
        share_observe: m.dori_shares[3],
        share_recognise: m.dori_shares[4],
        share_identify: m.dori_shares[5],
        face_s_facing: m.face_s_facing,
        face_s_identifiable: m.face_s_identifiable,
        face_s_blurred: m.face_s_blurred,
        sensitive_person_s: m.sensitive_person_s,
        child_person_s: m.child_person_s,
    }
}

/// The intrusiveness sentence of a camera's note in the summary.
fn intrusion_note(r: &IntrusionRow, s: &PipelineSummary, face_area: Option<[u32; 4]>) -> String {
    let where_faces = match face_area {
        None => "the whole frame".to_string(),
        Some(b) => format!("[{}, {}]-[{}, {}] px, the analysis region at head height", b[0], b[1], b[2], b[3]),
    };
    format!(
        " Privacy `{}`: analysed at {}x{}, {:.1} fps, face blur {}{}, {} mask(s), {} mode; data produced: {}. \
         Intrusiveness (ground truth, after the filter): {:.1} person-s in view, median {:.0} px/m, {:.0} % of \
         person-s at Observe or finer (≥ 62.5 px/m), {:.1} identifiable face-s ({:.1} blurred, {:.1} facing the \
         camera in all), {:.1} person-s in sensitive places, {:.1} person-s of children; {} frame(s) kept after detection, longest lifetime \
         {:.2} s (retention {} s); {:.0} bytes/hour leave the device ({} bytes of frames shipped); filter {:.1} \
         ms/frame, {} frame(s) lost to filter faults.",
        r.config,
        r.analysed_width,
        r.analysed_height,
        r.fps,
        r.face_blur,
        r.face_scale.map(|k| format!(" (CenterFace at {k} of the size, on {where_faces})")).unwrap_or_default(),
        r.masks,
        r.mode,
        r.data_kind,
        r.person_s_in_view,
        r.median_ppm,
        (r.share_observe + r.share_recognise + r.share_identify) * 100.0,
        r.face_s_identifiable,
        r.face_s_blurred,
        r.face_s_facing,
        r.sensitive_person_s,
        r.child_person_s,
        r.frames_retained,
        r.max_frame_lifetime_s,
        r.retention_s,
        r.bytes_per_hour,
        s.bytes_shipped,
        if s.frames_analysed > 0 { s.filter_ms_total / s.frames_analysed as f64 } else { 0.0 },
        s.frames_lost_filter
    )
}

/// Runs every camera and sensor of `scenario` with `seed` and writes the
/// outputs to `out`.
fn run_seed(
    args: &RunArgs,
    scenario: &Scenario,
    privacy: &PrivacyConfig,
    seed: u64,
    out: &Path,
    detectors: &Detectors,
    started: Instant,
) -> Result<SeedOutcome> {
    let mut scenario = scenario.clone();
    scenario.scenario.seed = seed;
    let scenario = &scenario;
    let duration = f64::from(scenario.scenario.duration_s);
    let interval_s = privacy.interval_s.unwrap_or(scenario.aggregation.interval_s);
    let mut sources: Vec<SourceCounts> = Vec::new();
    let mut splits = Vec::new();
    let mut lost = Vec::new();
    let mut unseen = Vec::new();
    let mut extra = Vec::new();
    let mut counted = Vec::new();
    let mut notes = Vec::new();
    let mut crossings: Option<Vec<Crossing>> = None;
    let mut intrusion = Vec::new();
    let mut zones = Vec::new();
    for cam in &scenario.cameras {
        let Some(outcome) = run_camera(args, scenario, cam, privacy, out, detectors)? else { continue };
        intrusion.push(outcome.intrusion);
        zones.extend(outcome.zones);
        sources.push(outcome.counts);
        splits.extend(outcome.split);
        lost.extend(outcome.lost);
        unseen.extend(outcome.unseen);
        extra.extend(outcome.extra);
        counted.extend(outcome.counted);
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
    report::write_csv(&out.join("lost-crossings.csv"), &lost, &scoring::LOST_HEADER)?;
    report::write_csv(&out.join("unseen-crossings.csv"), &unseen, &UnseenCrossing::HEADER)?;
    report::write_csv(&out.join("extra-counts.csv"), &extra, &scoring::EXTRA_HEADER)?;
    report::write_csv(&out.join("counted-crossings.csv"), &counted, &scoring::COUNTED_HEADER)?;
    report::write_csv(&out.join("intrusiveness.csv"), &intrusion, &IntrusionRow::HEADER)?;
    if !zones.is_empty() {
        report::write_csv(&out.join("zones.csv"), &zones, &ZoneRow::HEADER)?;
    }
    let (starts, panels) = scoring::count_panels(&rows);
    report::plot_counts(
        &out.join("counts.png"),
        &format!("{}: counts per {} s interval", scenario.scenario.name, interval_s),
        &starts,
        &panels,
        Path::new(report::DEFAULT_FONT),
    )?;
    let mut summary =
        summary_markdown(scenario, privacy, &args.scenario, &errors, &splits, &notes, started.elapsed().as_secs_f64());
    summary.push_str(&crate::sensors::summary_section(scenario, &sensed.outputs));
    report::write_atomic(&out.join("summary.md"), summary.as_bytes())
        .with_context(|| format!("cannot write {}", out.join("summary.md").display()))?;
    tracing::info!(out = %out.display(), seed, seconds = started.elapsed().as_secs_f64(), "done");
    Ok(SeedOutcome { errors, splits, summary, intrusion })
}

fn camera_note(
    cam: &CameraSpec,
    region: Option<[u32; 4]>,
    input: (usize, usize),
    s: &PipelineSummary,
    truth: &CameraTruth,
    lines: &[LineInView],
) -> String {
    let (render_s, from_cache, saved) = (truth.render_s, truth.frames_from_cache, truth.saved_frames);
    // A run replayed from the cache rendered nothing and ran no detector:
    // say so rather than print a rendering rate and 0.0 ms per frame.
    let rendered = s.frames_in.saturating_sub(from_cache);
    let frames = match (rendered, from_cache) {
        (_, 0) => format!(
            "{} frames rendered ({:.1} frames/s rendering)",
            s.frames_in,
            if render_s > 0.0 { s.frames_in as f64 / render_s } else { 0.0 }
        ),
        (0, _) => format!("{} frames read from the cache", s.frames_in),
        (r, c) => format!("{} frames ({c} read from the cache, {r} rendered)", s.frames_in),
    };
    let detector = if s.frames_analysed > 0 && s.frames_replayed >= s.frames_analysed {
        "detections replayed from the cache".to_string()
    } else {
        format!("{:.1} ms/frame", s.detector_ms_per_frame())
    };
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
        "- camera `{}` ({}x{} at {} fps) counting {}: {frames}; {} \
         analysed, {} dropped by design (decimation), {} lost to detector faults{}; analysed in {}, detector at {}x{} \
         ({detector}), {} detections, {} confirmed tracks, {} crossings counted; frames alive \
         at most {} (bound {}), {} created and {} destroyed in the pipeline: {retained}.",
        cam.id,
        cam.width,
        cam.height,
        cam.fps,
        if lines_text.is_empty() {
            "no line (its counting zones only)".to_string()
        } else {
            format!("line(s) {}", lines_text.join(", "))
        },
        s.frames_analysed - s.frames_lost,
        s.frames_in - s.frames_analysed,
        s.frames_lost,
        s.first_fault.as_ref().map_or(String::new(), |f| format!(" (first: {f})")),
        region.map_or("the whole image".to_string(), |r| format!(
            "the region [{}, {}]-[{}, {}] px around its counting lines and zones ({:.0} % of the image)",
            r[0],
            r[1],
            r[2],
            r[3],
            f64::from((r[2] - r[0]) * (r[3] - r[1])) * 100.0 / f64::from(cam.width * cam.height)
        )),
        input.0,
        input.1,
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
    privacy: &PrivacyConfig,
    path: &Path,
    errors: &[ErrorRow],
    splits: &[CrossingSplit],
    notes: &[String],
    seconds: f64,
) -> String {
    let mut md = format!(
        "# camtwin run: {}\n\nScenario `{}`, seed {}, {} s simulated, {} pedestrians and {}; privacy configuration \
         `{}`; counts aggregated every {} s{}{}.\n\n",
        s.scenario.name,
        path.display(),
        s.scenario.seed,
        s.scenario.duration_s,
        s.pedestrians.count,
        s.vehicles.describe(),
        privacy.name,
        privacy.interval_s.unwrap_or(s.aggregation.interval_s),
        if privacy.k > 1 { format!(", counts below {} withheld", privacy.k) } else { String::new() },
        privacy.epsilon.map_or(String::new(), |e| format!(", Laplace noise with ε = {e} per count"))
    );
    md.push_str(&scoring::error_tables(errors));
    // A scenario with sensors only has no camera to describe.
    if !notes.is_empty() {
        md.push_str(&scoring::split_tables(splits, "this seed"));
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
         emits) with `aggregates-<camera>.json` (its disclosure control), `intrusiveness.csv` (what each camera \
         saw of people), `frames-<camera>.csv` (each analysed frame's creation and destruction). Wall time {seconds:.1} s.\n"
    ));
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_across_the_road_gets_a_region_a_bus_fits_in() {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mixed-traffic.toml"));
        let text = std::fs::read_to_string(path).expect("mixed-traffic scenario");
        let scenario = Scenario::parse(&text, path).expect("parses");
        let cam = &scenario.cameras[0];
        let lines = lines_in_view(&scenario, cam);
        let road = analysis_region(cam, &lines, &[], 3.5).expect("the road line's region");
        // The same line on a street without a road (no width): a walker's
        // margin and height only.
        let walk = analysis_region(cam, &lines, &[], -100.0).expect("a region");
        let view = cam.view();
        let [x0, y0, x1, y1] = road.map(|v| v as f32);
        // The top of a bus 10 m before the line in each lane, and its wheels
        // there, are inside the road region and outside the walker's.
        for p in [[-10.0, -1.75, 3.1], [10.0, 1.75, 3.1], [-10.0, -1.75, 0.0], [10.0, 1.75, 0.0]] {
            let px = view.project(p).expect("in front of the camera");
            assert!((x0..=x1).contains(&px[0]) && (y0..=y1).contains(&px[1]), "{p:?} at {px:?} outside {road:?}");
        }
        // The far bus's roof is above the walker's region.
        let far_roof = view.project([10.0, 1.75, 3.1]).expect("in view");
        assert!(far_roof[1] < walk[1] as f32, "the walker's region {walk:?} holds the far bus's roof {far_roof:?}");
    }

    #[test]
    fn only_a_camera_counting_vehicles_alone_gets_the_vehicles_scale() {
        let load = |name: &str| {
            let path = std::path::PathBuf::from(format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR")));
            let text = std::fs::read_to_string(&path).expect("scenario");
            Scenario::parse(&text, &path).expect("parses")
        };
        let mut traffic = load("mixed-traffic.toml");
        let cam = traffic.cameras[0].clone();
        let lines = lines_in_view(&traffic, &cam);
        assert!(vehicles_only(&traffic, &cam, &lines), "the road camera counts vehicles only");
        let edge = PrivacyConfig::default();
        let input = detector_input(None, (cam.width, cam.height), analysis_region(&cam, &lines, &[], 3.5), &edge, true);
        assert_eq!(input, (192, 192));
        // A sidewalk line in view, or a counting zone, brings people in.
        let mut walkers = lines.clone();
        walkers[0].spec.shape = LineShape::Ground { from: [-2.0, -5.0], to: [-2.0, -3.5] };
        assert!(!vehicles_only(&traffic, &cam, &walkers));
        traffic.zones.push(ZoneSpec {
            id: "stop".into(),
            polygon: vec![[0.0, -6.0], [4.0, -6.0], [4.0, -3.5], [0.0, -3.5]],
            kind: ZoneKind::Count,
            label: None,
            wait: None,
        });
        assert!(!vehicles_only(&traffic, &cam, &lines));
        let demo = load("demo.toml");
        assert!(!vehicles_only(&demo, &demo.cameras[0], &lines_in_view(&demo, &demo.cameras[0])));
    }

    #[test]
    fn the_analysis_region_takes_in_the_counting_zones_in_view() {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo.toml"));
        let text = std::fs::read_to_string(path).expect("demo scenario");
        let scenario = Scenario::parse(&text, path).expect("parses");
        let cam = &scenario.cameras[0];
        let lines = lines_in_view(&scenario, cam);
        let zone = |kind: ZoneKind, x0: f32| ZoneSpec {
            id: "z".into(),
            polygon: vec![[x0, 3.5], [x0 + 4.0, 3.5], [x0 + 4.0, 6.0], [x0, 6.0]],
            kind,
            label: None,
            wait: None,
        };
        let bare = analysis_region(cam, &lines, &[], 3.5).expect("the demo line's region");
        let with = |z: ZoneSpec| analysis_region(cam, &lines, &[z], 3.5);
        // A bus stop left of the line widens the region leftwards only.
        let stop = with(zone(ZoneKind::Count, -7.0)).expect("a region");
        assert!(stop[0] + 20 < bare[0] && stop[2] == bare[2], "{stop:?} against {bare:?}");
        // A sensitive place is not analysed for counts; a zone out of view adds nothing.
        assert_eq!(with(zone(ZoneKind::Sensitive, -7.0)), Some(bare));
        assert_eq!(with(zone(ZoneKind::Count, 100.0)), Some(bare));
    }
}
