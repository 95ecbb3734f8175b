//! The `analyse` command: recorded footage (a folder of PNG frames or a
//! video file decoded by ffmpeg) through the same edge-analytics pipeline
//! as rendered video. The site (counting lines, calibration, privacy and
//! aggregation settings) is read from a scenario's camera or from a camera
//! file; no simulation or rendering takes place and no ground truth is
//! involved.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use camtwin_analytics::aggregate::Disclosure;
use camtwin_analytics::detector::{Detector, DetectorConfig, ObjectClass};
use camtwin_analytics::faces::FaceDetector;
use camtwin_analytics::frame::{Frame, FrameLease};
use camtwin_analytics::pipeline::PipelineConfig;
use camtwin_analytics::pipeline::{FrameProducer, run_pipeline};
use camtwin_analytics::privacy::{FaceBlur, PrivacySettings};
use camtwin_analytics::tracker::TrackerConfig;
use camtwin_sim::scenario::Scenario;

use crate::run::{lines_in_view, pipeline_config, prepare_out_dir};
use crate::{camera_file, export, video};

/// Arguments of `camtwin analyse`.
#[derive(Debug, clap::Args)]
pub struct AnalyseArgs {
    /// Folder of frames, PNG, analysed in file-name order (the
    /// MOTChallenge img1/ layout works as it is).
    #[arg(long, conflicts_with = "video", required_unless_present = "video")]
    pub frames: Option<PathBuf>,
    /// A video file, decoded with ffmpeg.
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// Labels of the footage, a MOTChallenge gt.txt (frames from 1; persons
    /// are rows with conf 1): also write the detector's and the tracker's
    /// outputs and their scores (detection.csv, tracking.csv) to OUT.
    #[arg(long)]
    pub gt: Option<PathBuf>,
    /// Scenario describing the site: the camera's calibration, the counting
    /// lines, privacy and aggregation settings (with --camera).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Which of the scenario's cameras filmed the frames.
    #[arg(long)]
    pub camera: Option<String>,
    /// Which of the scenario's privacy configurations to apply (its first
    /// by default).
    #[arg(long = "config", value_name = "NAME")]
    pub config: Option<String>,
    /// A camera file instead of a scenario: image size, frame rate, lines in
    /// image pixels (or on the ground with a calibration); see
    /// docs/CAMERA_FILE.md.
    #[arg(long)]
    pub camera_file: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Folder holding the detector model (see `make models`).
    #[arg(long, default_value = "assets/models")]
    pub models: PathBuf,
}

/// Reads PNG frames from disk, one at a time.
struct PngFolder {
    files: Vec<PathBuf>,
    next: usize,
    fps: u32,
    size: (u32, u32),
}

impl FrameProducer for PngFolder {
    fn next_frame(&mut self, lease: FrameLease) -> Option<std::result::Result<Frame, String>> {
        let path = self.files.get(self.next)?;
        let index = self.next as u64;
        self.next += 1;
        Some(camtwin_analytics::report::decode_png(path).and_then(|(w, h, rgb)| {
            if (w, h) != self.size {
                return Err(format!(
                    "{}: frame is {w}x{h} but the camera is calibrated for {}x{}",
                    path.display(),
                    self.size.0,
                    self.size.1
                ));
            }
            Ok(Frame::new(index, index as f64 / self.fps as f64, w, h, rgb, lease))
        }))
    }
}

/// The number at the end of a frame file's name (`frame-00042.png` → 42).
fn frame_number(path: &Path) -> Option<u64> {
    let stem = path.file_stem()?.to_str()?;
    let digits: String = stem.chars().rev().take_while(char::is_ascii_digit).collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

/// Frames are timed by their position in the folder, so a missing frame
/// would shift every later one: numbered frames must follow each other.
fn check_numbering(folder: &Path, files: &[PathBuf]) -> Result<()> {
    let numbers: Option<Vec<u64>> = files.iter().map(|f| frame_number(f)).collect();
    let Some(mut numbers) = numbers else { return Ok(()) };
    numbers.sort_unstable();
    for pair in numbers.windows(2) {
        if pair[1] != pair[0] + 1 {
            bail!(
                "{}: the frames are numbered with a gap after frame {} (next is {}): a missing frame would shift \
                 the time of every later one",
                folder.display(),
                pair[0],
                pair[1]
            );
        }
    }
    Ok(())
}

/// The site the frames were filmed at, from a scenario camera or a camera file.
struct Site {
    id: String,
    size: (u32, u32),
    fps: u32,
    config: PipelineConfig,
}

fn site(args: &AnalyseArgs) -> Result<Site> {
    if let Some(path) = &args.camera_file {
        if args.scenario.is_some() || args.camera.is_some() {
            bail!("give either --camera-file or --scenario with --camera, not both");
        }
        let site = camera_file::load(path)?;
        let c = &site.file.camera;
        if let Some(rms) = site.calibration_rms_m {
            tracing::info!(rms_m = rms, "ground calibration fitted");
        }
        let privacy = site.file.privacy.clone();
        let masks: Vec<Vec<[f32; 2]>> = privacy.masks.iter().filter_map(|m| m.image.clone()).collect();
        let config = PipelineConfig {
            privacy: PrivacySettings::new(privacy.clone(), (c.width, c.height), masks),
            counting: site.counting.clone(),
            region: None,
            tracker: TrackerConfig::default(),
            interval_s: privacy.interval_s.unwrap_or(site.file.aggregation.interval_s),
            disclosure: Disclosure { k: privacy.k, epsilon: privacy.epsilon, seed: 0 },
            faces: None,
            native_fps: f64::from(c.fps),
            duration_s: 0.0,
            max_frames_in_flight: 4,
            sink: Some(args.out.join(format!("aggregates-{}.csv", c.id))),
            record_tracks: false,
            replay: None,
            zones: Vec::new(),
        };
        return Ok(Site { id: c.id.clone(), size: (c.width, c.height), fps: c.fps, config });
    }
    let (Some(path), Some(camera)) = (&args.scenario, &args.camera) else {
        bail!("say where the frames were filmed: --camera-file FILE, or --scenario FILE with --camera ID");
    };
    let scenario = Scenario::load(path)?;
    let Some(cam) = scenario.cameras.iter().find(|c| c.id == *camera) else {
        let known: Vec<&str> = scenario.cameras.iter().map(|c| c.id.as_str()).collect();
        bail!("{}: no camera `{}` (cameras: {})", path.display(), camera, known.join(", "));
    };
    let lines = lines_in_view(&scenario, cam);
    if lines.is_empty() {
        bail!("{}: no counting line lies in the image of camera `{}`", path.display(), cam.id);
    }
    let configs = scenario.privacy_configs();
    let privacy = match &args.config {
        None => configs.first().cloned().unwrap_or_default(),
        Some(name) => configs.iter().find(|c| c.name == *name).cloned().with_context(|| {
            let known: Vec<&str> = configs.iter().map(|c| c.name.as_str()).collect();
            format!("{}: no privacy configuration `{name}` (configurations: {})", path.display(), known.join(", "))
        })?,
    };
    if privacy.face_blur == FaceBlur::Truth {
        bail!(
            "{}: configuration `{}` blurs faces from ground truth, which recorded footage has not",
            path.display(),
            privacy.name
        );
    }
    let config = pipeline_config(&scenario, cam, &lines, &args.out, &privacy);
    Ok(Site { id: cam.id.clone(), size: (cam.width, cam.height), fps: cam.fps, config })
}

/// `camtwin analyse`.
pub fn analyse(args: &AnalyseArgs) -> Result<()> {
    let Site { id, size, fps, mut config } = site(args)?;
    let labels = args.gt.as_deref().map(export::read_mot_labels).transpose()?;
    config.record_tracks = labels.is_some();
    let input = crate::run::detector_input(None, size, config.region, &config.privacy.config, false);
    if config.privacy.config.face_blur == FaceBlur::Centerface {
        config.faces = Some(
            FaceDetector::load(&args.models, size, config.privacy.config.face_scale, 2)
                .context("face detector (run `make models`)")?,
        );
    }
    let line_ids: Vec<String> = config.counting.lines.iter().map(|l| l.id.clone()).collect();
    let summary = if let Some(path) = &args.video {
        let info = video::probe(path)?;
        if (info.width, info.height) != size {
            bail!(
                "{}: the video is {}x{} but the camera is {}x{}",
                path.display(),
                info.width,
                info.height,
                size.0,
                size.1
            );
        }
        if (info.fps - f64::from(fps)).abs() > 0.01 {
            bail!("{}: the video runs at {:.3} fps but the camera says {fps}", path.display(), info.fps);
        }
        let detector = Detector::load(&args.models, DetectorConfig { input: Some(input), ..Default::default() })?;
        prepare_out_dir(&args.out)?;
        config.duration_s = info.duration_s.max(1.0 / f64::from(fps));
        let producer = video::VideoFile::open(path, &info)?;
        tracing::info!(camera = %id, video = %path.display(), lines = line_ids.len(), "analysing a video");
        run_pipeline(move || Ok(producer), detector, config)?.0
    } else {
        let folder = args.frames.as_ref().context("give --frames DIR or --video FILE")?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
            .with_context(|| format!("cannot read the frames folder {}", folder.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("png")))
            .collect();
        files.sort();
        if files.is_empty() {
            bail!("{}: no .png frames in this folder", folder.display());
        }
        check_numbering(folder, &files)?;
        let detector = Detector::load(&args.models, DetectorConfig { input: Some(input), ..Default::default() })?;
        prepare_out_dir(&args.out)?;
        config.duration_s = files.len() as f64 / f64::from(fps);
        let producer = PngFolder { files, next: 0, fps, size };
        tracing::info!(camera = %id, frames = producer.files.len(), lines = line_ids.len(), "analysing recorded frames");
        run_pipeline(move || Ok(producer), detector, config)?.0
    };
    if let Some(labels) = &labels {
        let (t, h) = export::score_and_write(&args.out, labels, &summary.tracks, fps)?;
        println!(
            "against the labels: MOTA {:.1} %, IDF1 {:.1} %, HOTA {:.1} % (tracking.csv, detection.csv)",
            t.mota * 100.0,
            t.idf1 * 100.0,
            h.hota * 100.0
        );
    }
    let per_line: Vec<String> = line_ids
        .iter()
        .map(|line| {
            let n: u64 = summary
                .intervals
                .iter()
                .filter(|c| c.class == ObjectClass::Person && c.line == *line)
                .map(|c| c.count)
                .sum();
            format!("{n} across line `{line}`")
        })
        .collect();
    println!(
        "{} frames analysed ({} after decimation, {} lost to detector faults), detector {:.1} ms/frame; persons \
         counted: {}; aggregates in {}",
        summary.frames_in,
        summary.frames_analysed,
        summary.frames_lost,
        summary.detector_ms_per_frame(),
        per_line.join(", "),
        args.out.join(format!("aggregates-{id}.csv")).display()
    );
    Ok(())
}
