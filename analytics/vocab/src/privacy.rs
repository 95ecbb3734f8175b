//! Privacy configurations as data: every knob the regulator names (domain
//! brief §2), in one named table that a scenario lists (`[[privacy]]`), a
//! camera file carries (`[privacy]`) or a folder of files holds.
//!
//! The types here are what a user writes; the edge core receives them
//! resolved for one camera (masks projected to pixels, sizes computed).
//! docs/PRIVACY.md documents every key.

use serde::{Deserialize, Serialize};

/// What a configuration blurs faces with, before detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceBlur {
    /// No face blur.
    #[default]
    None,
    /// Faces found by the CenterFace detector (run on the device) are blurred.
    Centerface,
    /// Faces known from ground truth are blurred: a perfect blur, for
    /// experiments that need to separate the blur's effect from its misses.
    /// Not something a device can do.
    Truth,
}

/// How a blurred area is made unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlurKind {
    /// Mosaic: the area is divided into blocks (8 blocks across a face, at
    /// least 2 px) each painted with its mean colour.
    #[default]
    Pixelate,
    /// Box blur of radius a quarter of the area's width, three passes (close
    /// to a Gaussian, by the central limit theorem).
    Gaussian,
}

/// Where the device's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputMode {
    /// Processing at the edge: only aggregates leave the device.
    #[default]
    Edge,
    /// Frames (after the privacy filter) are shipped to a central server
    /// for analysis; their bytes are counted as data leaving the device.
    Central,
}

/// A region blacked out before anything else sees the frame: a window, a
/// doorway, private property, a sensitive place. Exactly one of `world`,
/// `image` and `zone` gives its shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskSpec {
    /// What is masked, for reports.
    #[serde(default)]
    pub label: Option<String>,
    /// Polygon in world coordinates (east, north, height), metres; a facade
    /// window is a vertical polygon. Projected into every camera.
    #[serde(default)]
    pub world: Option<Vec<[f32; 3]>>,
    /// Polygon in image pixels at the camera's native size (x right, y
    /// down), for the camera named by `camera` (every camera when absent).
    #[serde(default)]
    pub image: Option<Vec<[f32; 2]>>,
    /// A scenario zone, masked from the ground up to `height_m`.
    #[serde(default)]
    pub zone: Option<String>,
    /// Height of a zone mask, metres.
    #[serde(default = "default_mask_height")]
    pub height_m: f32,
    /// The camera an image mask belongs to.
    #[serde(default)]
    pub camera: Option<String>,
}

fn default_mask_height() -> f32 {
    2.5
}

/// One named privacy configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Name, used for the result folder and in reports.
    #[serde(default = "default_name")]
    pub name: String,
    /// Analysed image size `[width, height]`, pixels; must keep the
    /// camera's proportions. Exclusive with `scale`.
    #[serde(default)]
    pub resolution: Option<[u32; 2]>,
    /// Analysed image size as a factor of the native size, in (0, 1]; any
    /// fraction. Exclusive with `resolution`.
    #[serde(default)]
    pub scale: Option<f64>,
    /// Frames analysed per second (the camera's own rate when absent).
    #[serde(default)]
    pub fps: Option<f64>,
    /// Face blur before detection.
    #[serde(default)]
    pub face_blur: FaceBlur,
    /// The size of the copy CenterFace looks at, as a factor of the pixels
    /// it blurs, in (0, 1]: smaller is faster and misses smaller faces.
    /// The default keeps every face above the identifiability threshold
    /// findable (docs/PRIVACY.md, `cargo test --bench face_size`).
    #[serde(default = "default_face_scale")]
    pub face_scale: f64,
    /// How faces and people are made unreadable.
    #[serde(default)]
    pub blur: BlurKind,
    /// Pixelate every detected person in any frame that is kept after
    /// detection (retention > 0 or central mode).
    #[serde(default)]
    pub pixelate_people: bool,
    /// Regions blacked out first.
    #[serde(default)]
    pub masks: Vec<MaskSpec>,
    /// Edge (aggregates only) or central (frames shipped).
    #[serde(default)]
    pub mode: OutputMode,
    /// How long a frame may be kept after detection, seconds of stream time
    /// (0: deleted as soon as it is analysed).
    #[serde(default)]
    pub retention_s: f64,
    /// Aggregation interval, seconds (the scenario's `[aggregation]` when absent).
    #[serde(default)]
    pub interval_s: Option<u32>,
    /// Small-count suppression: a count below `k` (and above 0) is withheld.
    /// 1 withholds nothing.
    #[serde(default = "default_k")]
    pub k: u32,
    /// Laplace noise with privacy budget ε per count (sensitivity 1), when given.
    #[serde(default)]
    pub epsilon: Option<f64>,
}

fn default_name() -> String {
    "default".into()
}

fn default_k() -> u32 {
    1
}

/// CenterFace's default input scale. CenterFace finds faces from about
/// 14 px wide at its input; at three quarters size it finds every face of
/// a real sample 18 px wide and more, below the identifiability threshold
/// (10 px between the pupils: a face box 22-25 px wide), at two thirds
/// of the cost of a full-size pass on a 640×480 frame; at half size it
/// misses faces 25 px wide (`cargo test --bench face_size`,
/// docs/PERFORMANCE.md).
pub const DEFAULT_FACE_SCALE: f64 = 0.75;

fn default_face_scale() -> f64 {
    DEFAULT_FACE_SCALE
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            name: default_name(),
            resolution: None,
            scale: None,
            fps: None,
            face_blur: FaceBlur::None,
            face_scale: DEFAULT_FACE_SCALE,
            blur: BlurKind::Pixelate,
            pixelate_people: false,
            masks: Vec::new(),
            mode: OutputMode::Edge,
            retention_s: 0.0,
            interval_s: None,
            k: 1,
            epsilon: None,
        }
    }
}

/// A fault in a configuration: the key (relative to the configuration's own
/// table, `masks[0].image`) and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFault {
    /// Dotted key inside the configuration.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl PrivacyConfig {
    /// The analysed size for a camera of `native` pixels.
    pub fn analysed_size(&self, native: (u32, u32)) -> (u32, u32) {
        match (self.resolution, self.scale) {
            (Some([w, h]), _) => (w, h),
            (None, Some(s)) => {
                (((f64::from(native.0) * s).round() as u32).max(1), ((f64::from(native.1) * s).round() as u32).max(1))
            }
            (None, None) => native,
        }
    }

    /// Checks what types cannot, for a camera of `native` pixels at
    /// `native_fps` when one is known. Names the key at fault.
    pub fn check(&self, native: Option<(u32, u32)>, native_fps: Option<f64>) -> Result<(), ConfigFault> {
        let fault = |key: &str, message: String| Err(ConfigFault { key: key.into(), message });
        if self.name.is_empty()
            || !self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return fault(
                "name",
                format!("`{}` must be non-empty letters, digits, `-`, `_` or `.` (it names a folder)", self.name),
            );
        }
        if self.resolution.is_some() && self.scale.is_some() {
            return fault("scale", "give `resolution` or `scale`, not both".into());
        }
        if let Some(s) = self.scale
            && !(s > 0.0 && s <= 1.0)
        {
            return fault("scale", format!("must be in (0, 1], got {s}"));
        }
        if !(self.face_scale > 0.0 && self.face_scale <= 1.0) {
            return fault("face_scale", format!("must be in (0, 1], got {}", self.face_scale));
        }
        if let Some([w, h]) = self.resolution {
            if w < 16 || h < 16 {
                return fault("resolution", format!("{w}x{h} is smaller than 16x16"));
            }
            if let Some((nw, nh)) = native {
                if w > nw || h > nh {
                    return fault("resolution", format!("{w}x{h} is larger than the camera's {nw}x{nh}"));
                }
                let (a, b) = (f64::from(w) / f64::from(h), f64::from(nw) / f64::from(nh));
                if (a / b - 1.0).abs() > 0.02 {
                    return fault(
                        "resolution",
                        format!("{w}x{h} does not keep the camera's {nw}x{nh} proportions (within 2 %)"),
                    );
                }
            }
        }
        if let Some(fps) = self.fps {
            if !(fps > 0.0 && fps.is_finite()) {
                return fault("fps", format!("must be a positive number of frames per second, got {fps}"));
            }
            if let Some(native) = native_fps
                && fps > native + 1e-9
            {
                return fault("fps", format!("{fps} is more than the camera's {native} frames per second"));
            }
        }
        if !(self.retention_s >= 0.0 && self.retention_s.is_finite()) {
            return fault("retention_s", format!("must be a finite number of seconds ≥ 0, got {}", self.retention_s));
        }
        if self.pixelate_people && self.retention_s == 0.0 && self.mode == OutputMode::Edge {
            return fault(
                "pixelate_people",
                "no frame is kept after detection (retention_s = 0, mode = \"edge\"): there is nothing to pixelate"
                    .into(),
            );
        }
        if self.interval_s == Some(0) {
            return fault("interval_s", "must be at least 1 second".into());
        }
        if self.k == 0 {
            return fault("k", "must be at least 1 (1 suppresses nothing)".into());
        }
        if let Some(e) = self.epsilon
            && !(e > 0.0 && e.is_finite())
        {
            return fault("epsilon", format!("must be a positive, finite privacy budget, got {e}"));
        }
        for (i, m) in self.masks.iter().enumerate() {
            let key = |k: &str| format!("masks[{i}].{k}");
            let shapes = [m.world.is_some(), m.image.is_some(), m.zone.is_some()].iter().filter(|b| **b).count();
            if shapes != 1 {
                return fault(&format!("masks[{i}]"), "give exactly one of `world`, `image` and `zone`".into());
            }
            if let Some(p) = &m.world
                && (p.len() < 3 || p.iter().flatten().any(|v| !v.is_finite()))
            {
                return fault(&key("world"), "needs at least 3 finite corners".into());
            }
            if let Some(p) = &m.image {
                if p.len() < 3 || p.iter().flatten().any(|v| !v.is_finite()) {
                    return fault(&key("image"), "needs at least 3 finite corners".into());
                }
                if let Some((w, h)) = native {
                    let outside = p.iter().all(|q| q[0] < 0.0 || q[1] < 0.0 || q[0] > w as f32 || q[1] > h as f32);
                    if outside {
                        return fault(&key("image"), format!("lies wholly outside the {w}x{h} image"));
                    }
                }
            }
            if !(m.height_m > 0.0 && m.height_m.is_finite()) {
                return fault(&key("height_m"), format!("must be a positive height, got {}", m.height_m));
            }
        }
        Ok(())
    }

    /// The kind of data this configuration lets out of the device, from
    /// least to most personal (see docs/PRIVACY.md).
    pub fn data_kind(&self) -> DataKind {
        if self.mode == OutputMode::Central {
            DataKind::Images
        } else if self.retention_s > 0.0 {
            DataKind::ImagesKeptOnDevice
        } else {
            DataKind::AggregatesOnly
        }
    }
}

/// The kind of data a configuration produces, ordered from least to most
/// personal: what the regulator asks first about any processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// Only counts per interval exist outside the analysis step.
    AggregatesOnly,
    /// Frames are kept on the device for a while (retention > 0).
    ImagesKeptOnDevice,
    /// Frames leave the device.
    Images,
}

impl DataKind {
    /// Name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::AggregatesOnly => "aggregates_only",
            Self::ImagesKeptOnDevice => "images_kept_on_device",
            Self::Images => "images",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_name_their_key() {
        let native = Some((640, 480));
        let bad = |c: PrivacyConfig| c.check(native, Some(10.0)).expect_err("invalid").key;
        assert_eq!(bad(PrivacyConfig { epsilon: Some(0.0), ..Default::default() }), "epsilon");
        assert_eq!(bad(PrivacyConfig { k: 0, ..Default::default() }), "k");
        assert_eq!(bad(PrivacyConfig { resolution: Some([320, 200]), ..Default::default() }), "resolution");
        assert_eq!(bad(PrivacyConfig { fps: Some(25.0), ..Default::default() }), "fps");
        assert_eq!(bad(PrivacyConfig { face_scale: 0.0, ..Default::default() }), "face_scale");
        assert_eq!(bad(PrivacyConfig { face_scale: 1.5, ..Default::default() }), "face_scale");
        assert_eq!(bad(PrivacyConfig { name: "a b".into(), ..Default::default() }), "name");
        let outside = MaskSpec {
            label: None,
            world: None,
            image: Some(vec![[700.0, 10.0], [800.0, 10.0], [800.0, 90.0]]),
            zone: None,
            height_m: 2.5,
            camera: None,
        };
        assert_eq!(bad(PrivacyConfig { masks: vec![outside], ..Default::default() }), "masks[0].image");
        PrivacyConfig { resolution: Some([320, 240]), fps: Some(2.0), k: 5, epsilon: Some(1.0), ..Default::default() }
            .check(native, Some(10.0))
            .expect("valid");
    }

    #[test]
    fn analysed_size_follows_resolution_or_scale() {
        let c = PrivacyConfig { scale: Some(0.375), ..Default::default() };
        assert_eq!(c.analysed_size((640, 480)), (240, 180));
        let c = PrivacyConfig { resolution: Some([160, 120]), ..Default::default() };
        assert_eq!(c.analysed_size((640, 480)), (160, 120));
        assert_eq!(PrivacyConfig::default().analysed_size((640, 480)), (640, 480));
    }
}
