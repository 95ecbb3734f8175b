//! The `analyse` command: recorded footage (a folder of PNG frames) through
//! the same edge-analytics pipeline as rendered video. The site (camera
//! calibration, counting line, privacy and aggregation settings) is read
//! from a scenario file; no simulation or rendering takes place and no
//! ground truth is involved.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use camtwin_analytics::detector::{Detector, DetectorConfig, ObjectClass};
use camtwin_analytics::frame::{Frame, FrameLease};
use camtwin_analytics::pipeline::{FrameProducer, run_pipeline};
use camtwin_sim::scenario::Scenario;

use crate::run::{lines_in_view, pipeline_config, prepare_out_dir};

/// Arguments of `camtwin analyse`.
#[derive(Debug, clap::Args)]
pub struct AnalyseArgs {
    /// Folder of frames, PNG, analysed in file-name order.
    #[arg(long)]
    pub frames: PathBuf,
    /// Scenario describing the site: the camera's calibration, the counting
    /// line, privacy and aggregation settings.
    #[arg(long)]
    pub scenario: PathBuf,
    /// Which of the scenario's cameras filmed the frames.
    #[arg(long)]
    pub camera: String,
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

fn decode_png(path: &Path) -> std::result::Result<(u32, u32, Vec<u8>), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| format!("{}: not a PNG: {e}", path.display()))?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or_else(|| format!("{}: image too large", path.display()))?];
    let info = reader.next_frame(&mut buf).map_err(|e| format!("{}: {e}", path.display()))?;
    let pixels = &buf[..info.buffer_size()];
    let rgb = match info.color_type {
        png::ColorType::Rgb => pixels.to_vec(),
        png::ColorType::Rgba => pixels.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        png::ColorType::Grayscale => pixels.iter().flat_map(|&g| [g, g, g]).collect(),
        png::ColorType::GrayscaleAlpha => pixels.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0]]).collect(),
        png::ColorType::Indexed => return Err(format!("{}: unexpanded palette image", path.display())),
    };
    Ok((info.width, info.height, rgb))
}

impl FrameProducer for PngFolder {
    fn next_frame(&mut self, lease: FrameLease) -> Option<std::result::Result<Frame, String>> {
        let path = self.files.get(self.next)?;
        let index = self.next as u64;
        self.next += 1;
        Some(decode_png(path).and_then(|(w, h, rgb)| {
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

/// `camtwin analyse`.
pub fn analyse(args: &AnalyseArgs) -> Result<()> {
    let scenario = Scenario::load(&args.scenario)?;
    let Some(cam) = scenario.cameras.iter().find(|c| c.id == args.camera) else {
        let known: Vec<&str> = scenario.cameras.iter().map(|c| c.id.as_str()).collect();
        bail!("{}: no camera `{}` (cameras: {})", args.scenario.display(), args.camera, known.join(", "));
    };
    let lines = lines_in_view(&scenario, cam);
    if lines.is_empty() {
        bail!("{}: no counting line lies in the image of camera `{}`", args.scenario.display(), cam.id);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.frames)
        .with_context(|| format!("cannot read the frames folder {}", args.frames.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("png")))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{}: no .png frames in this folder", args.frames.display());
    }
    check_numbering(&args.frames, &files)?;
    let input = crate::run::detector_input(None, cam, crate::run::analysis_region(cam, &lines));
    let detector = Detector::load(&args.models, DetectorConfig { input: Some(input), ..Default::default() })?;
    prepare_out_dir(&args.out)?;
    let mut config = pipeline_config(&scenario, cam, &lines, &args.out);
    config.duration_s = files.len() as f64 / cam.fps as f64;
    let producer = PngFolder { files, next: 0, fps: cam.fps, size: (cam.width, cam.height) };
    tracing::info!(camera = %cam.id, frames = producer.files.len(), lines = lines.len(), "analysing recorded frames");
    let (summary, _) = run_pipeline(move || Ok(producer), detector, config)?;
    let per_line: Vec<String> = lines
        .iter()
        .map(|l| {
            let n: u64 = summary
                .intervals
                .iter()
                .filter(|c| c.class == ObjectClass::Person && c.line == l.spec.id)
                .map(|c| c.count)
                .sum();
            format!("{n} across line `{}`", l.spec.id)
        })
        .collect();
    println!(
        "{} frames analysed ({} after decimation), detector {:.1} ms/frame; persons counted: {}; aggregates in {}",
        summary.frames_in,
        summary.frames_analysed,
        summary.detector_ms_per_frame(),
        per_line.join(", "),
        args.out.join(format!("aggregates-{}.csv", cam.id)).display()
    );
    Ok(())
}
