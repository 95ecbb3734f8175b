//! The camera file of `camtwin analyse --camera-file`: a real camera
//! described for counting, without a scenario. It gives the image size and
//! frame rate, the counting lines as image polylines (or as ground segments
//! when a calibration from four or more image/ground point pairs is given),
//! and optionally the privacy and aggregation settings. docs/CAMERA_FILE.md
//! documents it.

use std::path::Path;

use anyhow::{Context, Result, bail};
use camtwin_analytics::calibration::calibrate;
use camtwin_analytics::counter::{CountingGeometry, LineShape, LineSpec};
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraFile {
    /// The camera.
    pub camera: CameraSection,
    /// Counting lines.
    #[serde(default)]
    pub lines: Vec<LineEntry>,
    /// Image → ground point pairs.
    pub calibration: Option<CalibrationSection>,
    /// The privacy configuration (docs/PRIVACY.md).
    #[serde(default)]
    pub privacy: camtwin_sim::privacy::PrivacyConfig,
    /// Aggregation settings.
    #[serde(default)]
    pub aggregation: camtwin_sim::scenario::AggregationConfig,
}

/// `[camera]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraSection {
    /// Identifier used in outputs.
    pub id: String,
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Frames per second of the footage.
    pub fps: u32,
}

/// One `[[lines]]` entry: exactly one of `image` and `ground`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineEntry {
    /// Identifier used in outputs.
    pub id: String,
    /// Polyline in image pixels (x right, y down), two points or more.
    pub image: Option<Vec<[f64; 2]>>,
    /// Segment on the ground, metres; needs `[calibration]`.
    pub ground: Option<[[f64; 2]; 2]>,
    /// Dead band around an image line, pixels.
    #[serde(default = "default_band_px")]
    pub dead_band_px: f64,
    /// Dead band around a ground line, metres.
    #[serde(default = "default_band_m")]
    pub dead_band_m: f64,
}

fn default_band_px() -> f64 {
    6.0
}

fn default_band_m() -> f64 {
    0.25
}

/// `[calibration]`: the same points in the image and on the ground.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationSection {
    /// Image points, pixels.
    pub image: Vec<[f64; 2]>,
    /// Ground points, metres (east, north), in the same order.
    pub ground: Vec<[f64; 2]>,
}

/// A camera file, read and checked, ready for the pipeline.
#[derive(Debug, Clone)]
pub struct CameraSite {
    /// The parsed file.
    pub file: CameraFile,
    /// The lines and calibration as the counter takes them.
    pub counting: CountingGeometry,
    /// RMS disagreement of the calibration pairs, metres.
    pub calibration_rms_m: Option<f64>,
}

/// Reads and checks a camera file; every error names the file and the entry.
pub fn load(path: &Path) -> Result<CameraSite> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read camera file {}", path.display()))?;
    let file: CameraFile = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let at = path.display();
    let c = &file.camera;
    if c.width == 0 || c.height == 0 || c.fps == 0 {
        bail!("{at}: [camera] width, height and fps must be positive (got {}x{} at {} fps)", c.width, c.height, c.fps);
    }
    if file.lines.is_empty() {
        bail!("{at}: no [[lines]]: a camera file needs at least one counting line");
    }
    let calibration = match &file.calibration {
        Some(cal) => Some(calibrate(&cal.image, &cal.ground).map_err(|e| anyhow::anyhow!("{at}: [calibration]: {e}"))?),
        None => None,
    };
    let (w, h) = (f64::from(c.width), f64::from(c.height));
    let mut lines = Vec::new();
    for (i, l) in file.lines.iter().enumerate() {
        let name = format!("{at}: lines[{i}] (`{}`)", l.id);
        if l.id.trim().is_empty() {
            bail!("{at}: lines[{i}]: the id is empty");
        }
        if file.lines[..i].iter().any(|o| o.id == l.id) {
            bail!("{name}: the id is used twice");
        }
        let (shape, dead_band) = match (&l.image, &l.ground) {
            (Some(points), None) => {
                if points.len() < 2 {
                    bail!("{name}: `image` needs two points or more");
                }
                if let Some(p) = points.iter().find(|p| !(0.0..=w).contains(&p[0]) || !(0.0..=h).contains(&p[1])) {
                    bail!("{name}: point [{}, {}] is outside the {}x{} image", p[0], p[1], c.width, c.height);
                }
                (LineShape::Image { points: points.clone() }, l.dead_band_px)
            }
            (None, Some([from, to])) => {
                if calibration.is_none() {
                    bail!("{name}: a `ground` line needs a [calibration] with four or more point pairs");
                }
                (LineShape::Ground { from: *from, to: *to }, l.dead_band_m)
            }
            _ => bail!("{name}: give exactly one of `image` (pixels) and `ground` (metres)"),
        };
        if !(dead_band.is_finite() && dead_band >= 0.0) {
            bail!("{name}: the dead band must be zero or more (got {dead_band})");
        }
        lines.push(LineSpec { id: l.id.clone(), shape, dead_band });
    }
    if file.aggregation.interval_s == 0 {
        bail!("{at}: [aggregation] interval_s must be positive");
    }
    if let Err(f) = file.privacy.check(Some((c.width, c.height)), Some(f64::from(c.fps))) {
        bail!("{at}: key `privacy.{}`: {}", f.key, f.message);
    }
    if file.privacy.face_blur == camtwin_sim::privacy::FaceBlur::Truth {
        bail!(
            "{at}: key `privacy.face_blur`: \"truth\" needs ground truth, which real footage has not; use \"centerface\""
        );
    }
    if let Some(i) = file.privacy.masks.iter().position(|m| m.image.is_none()) {
        bail!("{at}: key `privacy.masks[{i}]`: a camera file has no world model: give the mask as `image` pixels");
    }
    let counting =
        CountingGeometry { lines, image_to_ground: calibration.map(|c| c.image_to_ground), native_width: c.width };
    Ok(CameraSite { counting, calibration_rms_m: calibration.map(|c| c.rms_error_m), file })
}
