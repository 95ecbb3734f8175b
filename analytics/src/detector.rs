//! The object detector: a COCO YOLO network (ONNX) run with tract on the CPU.
//!
//! The network's raw head outputs are decoded here (sigmoid offsets, anchor
//! scaling, objectness × class score, per-class non-maximum suppression); the
//! input size, anchors and centre scaling are read from the JSON sidecar
//! written by the model conversion script, so another YOLO export drops in.
//! Only the classes a street census needs are kept: person, bicycle, car,
//! motorcycle, bus and truck ([`ObjectClass`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use tract_onnx::prelude::*;

pub use camtwin_vocab::ObjectClass;

/// One detected object in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Class.
    pub class: ObjectClass,
    /// Objectness × class probability.
    pub score: f32,
    /// `[x0, y0, x1, y1]`, pixels of the frame the detector saw.
    pub bbox: [f32; 4],
}

/// Intersection over union of two `[x0, y0, x1, y1]` boxes.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// Share of box `a`'s area that lies inside box `b`, 0..=1 (0 for a box of
/// no area): how much of a face a blur covers, of a lost track's box the
/// box of one that goes on, of a two-wheeler's box its rider's.
pub fn inside_share(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let area = (a[2] - a[0]) * (a[3] - a[1]);
    if area > 0.0 { w * h / area } else { 0.0 }
}

/// Why the detector could not load or run.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    /// The model files are not there.
    #[error("detector model not found at {}: run `make models` (scripts/fetch-models.sh) to fetch and convert it", path.display())]
    MissingModel {
        /// The missing file.
        path: PathBuf,
    },
    /// A model file could not be read.
    #[error("cannot read {}: {cause}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// The model's checksum does not match its manifest.
    #[error("{} does not match its checksum in SHA256SUMS (expected {expected}, found {found}): run `make models` to regenerate it", path.display())]
    Checksum {
        /// The file.
        path: PathBuf,
        /// Recorded hash.
        expected: String,
        /// Computed hash.
        found: String,
    },
    /// The sidecar is malformed.
    #[error("bad model metadata {}: {message}", path.display())]
    Meta {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The model file is not a network tract can load with the sidecar's input.
    #[error("cannot load the detector model {}: {message}", path.display())]
    Model {
        /// The model file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// tract failed.
    #[error("detector inference failed: {0}")]
    Tract(String),
    /// A frame's size does not match its pixels.
    #[error("frame of {width}x{height} has {len} bytes, expected {expected}")]
    BadFrame {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
        /// Bytes present.
        len: usize,
        /// Bytes expected.
        expected: usize,
    },
}

pub(crate) fn tract_err(e: impl std::fmt::Display) -> DetectorError {
    DetectorError::Tract(format!("{e:#}"))
}

/// The sidecar describing the network's input and heads.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelMeta {
    /// The network input.
    pub input: InputMeta,
    /// The detection heads, in output order.
    pub outputs: Vec<HeadMeta>,
}

/// The network input tensor (NCHW, RGB in [0, 1]).
#[derive(Debug, Clone, Deserialize)]
pub struct InputMeta {
    /// Width, pixels.
    pub width: usize,
    /// Height, pixels.
    pub height: usize,
}

/// One YOLO detection head.
#[derive(Debug, Clone, Deserialize)]
pub struct HeadMeta {
    /// Output tensor name.
    pub name: String,
    /// Input pixels per grid cell: how an output tensor is matched to its
    /// head (its grid is the input size divided by the stride).
    pub stride: usize,
    /// Anchor boxes `(w, h)` in input pixels.
    pub anchors: Vec<[f32; 2]>,
    /// Darknet's `scale_x_y` centre scaling.
    pub scale_x_y: f32,
    /// Number of classes per anchor.
    pub classes: usize,
}

/// Tunable thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Minimum score kept.
    pub score_threshold: f32,
    /// IoU above which a lower-scored box of the same class is suppressed.
    pub nms_iou: f32,
    /// Threads tract may use for matrix products.
    pub threads: usize,
    /// Network input `(width, height)` instead of the sidecar's, each a
    /// multiple of the largest head stride (32 for YOLOv4-tiny): a 4:3 frame
    /// fits 416×320 with its proportions kept and a quarter fewer pixels
    /// than 416×416. `None` keeps the sidecar's size.
    pub input: Option<(usize, usize)>,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self { score_threshold: 0.25, nms_iou: 0.45, threads: 2, input: None }
    }
}

/// The network input that keeps a frame's proportions: the longer side
/// `long_side` pixels, the shorter one scaled alike, both rounded to
/// multiples of `stride`. A 640×480 camera gets 416×320 from 416: the
/// proportions the network was trained on, and a quarter fewer pixels (and
/// less time) than the model's square 416×416.
pub fn fitted_input(frame_width: u32, frame_height: u32, long_side: usize, stride: usize) -> (usize, usize) {
    let stride = stride.max(1);
    let round = |v: f64| ((v / stride as f64).round() as usize).max(1) * stride;
    let (w, h) = (f64::from(frame_width.max(1)), f64::from(frame_height.max(1)));
    let long = long_side as f64;
    if w >= h { (round(long), round(long * h / w)) } else { (round(long * w / h), round(long)) }
}

/// Largest enlargement of an analysed region into the detector input.
/// Measured on the demo street and the test street (4 seeds each): people
/// seen 1.3-1.4× larger than filmed are found and kept apart more often than
/// at 0.65-1.2×, while 1.5× and more only blurs them and loses counts.
pub const MAX_MAGNIFICATION: f64 = 1.4;

/// Times each kind of operator of a runnable network over `runs` runs on
/// `input` (after one warm-up run): mean milliseconds per run, largest
/// first. Shared by the object and the face detector, whose speeds are
/// compared with other runtimes and input sizes.
pub(crate) fn profile_plan(
    plan: &Arc<TypedRunnableModel>,
    input: Tensor,
    runs: usize,
) -> Result<Vec<(String, f64)>, DetectorError> {
    use tract_onnx::tract_core::plan::{SimpleState, eval};
    let mut state = SimpleState::new(plan).map_err(tract_err)?;
    let mut per_op: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    for run in 0..=runs {
        state
            .run_plan_with_eval(tvec!(input.clone().into()), |ctx, op_state, node, inputs| {
                let started = std::time::Instant::now();
                let out = eval(ctx, op_state, node, inputs);
                if run > 0 {
                    *per_op.entry(node.op.name().to_string()).or_default() += started.elapsed().as_secs_f64() * 1000.0;
                }
                out
            })
            .map_err(tract_err)?;
    }
    let mut ops: Vec<(String, f64)> = per_op.into_iter().map(|(k, v)| (k, v / runs.max(1) as f64)).collect();
    ops.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(ops)
}

/// Pixels of detector input per frame: YOLOv4-tiny's 416 × 320 for a 4:3
/// image, which costs about 48 ms with tract on two cores.
pub const INPUT_PIXEL_BUDGET: f64 = 416.0 * 320.0;

/// The detector input for an analysed image or region of `width` × `height`
/// pixels: its proportions kept, as large as [`INPUT_PIXEL_BUDGET`] allows
/// but enlarged at most [`MAX_MAGNIFICATION`], both sides multiples of 32.
/// A wide strip around two lines is thus analysed at nearly its own
/// resolution instead of being squeezed into 416 pixels.
pub fn analysis_input(width: u32, height: u32) -> (usize, usize) {
    input_within(width, height, MAX_MAGNIFICATION)
}

/// Largest scale of a region analysed for vehicles only (every counting
/// line in view crosses the road, no counting zone). YOLOv4-tiny calls the
/// rendered cars "truck" more often the larger it sees them: on the mixed
/// traffic street (3 seeds), cars seen from behind were counted as cars 1
/// of 43 times at 1.07× (the pixel budget's scale), 34 at 0.7×, 41 at
/// 0.55× and 43 at 0.45×, where lorries start to pass for cars (5 of 14)
/// and fewer vehicles are found; 0.55× also runs the detector three times
/// faster (docs/PERFORMANCE.md, "Vehicle classes and the detector's input
/// scale").
pub const VEHICLE_MAX_MAGNIFICATION: f64 = 0.55;

/// The detector input for a region analysed for vehicles only: as
/// [`analysis_input`], at most [`VEHICLE_MAX_MAGNIFICATION`].
pub fn vehicle_input(width: u32, height: u32) -> (usize, usize) {
    input_within(width, height, VEHICLE_MAX_MAGNIFICATION)
}

/// The input keeping the proportions of a `width` × `height` image, within
/// [`INPUT_PIXEL_BUDGET`] and enlarged at most `max_magnification`, both
/// sides multiples of 32.
fn input_within(width: u32, height: u32, max_magnification: f64) -> (usize, usize) {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let scale = (INPUT_PIXEL_BUDGET / (w * h)).sqrt().min(max_magnification);
    let long = (w.max(h) * scale).round() as usize;
    fitted_input(width, height, long, 32)
}

/// A loaded detector, cheap to clone (the plan is shared).
#[derive(Debug, Clone)]
pub struct Detector {
    plan: Arc<TypedRunnableModel>,
    meta: ModelMeta,
    config: DetectorConfig,
}

/// The model files of a detector in `dir`.
pub fn model_paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("yolov4-tiny.onnx"), dir.join("yolov4-tiny.json"))
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, DetectorError> {
    std::fs::read(path).map_err(|cause| {
        if cause.kind() == std::io::ErrorKind::NotFound {
            DetectorError::MissingModel { path: path.to_path_buf() }
        } else {
            DetectorError::Io { path: path.to_path_buf(), cause }
        }
    })
}

fn verify_checksum(dir: &Path, file: &Path, bytes: &[u8]) -> Result<(), DetectorError> {
    verify_checksum_in(&dir.join("SHA256SUMS"), file, bytes)
}

/// Checks `bytes` (the content of `file`) against its entry in the checksum
/// file `sums_path` (`sha256sum` format).
pub(crate) fn verify_checksum_in(sums_path: &Path, file: &Path, bytes: &[u8]) -> Result<(), DetectorError> {
    let sums_path = sums_path.to_path_buf();
    let sums = read(&sums_path)?;
    let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let sums = String::from_utf8_lossy(&sums);
    let expected = sums
        .lines()
        .filter_map(|l| l.split_once(char::is_whitespace))
        .find(|(_, f)| f.trim().trim_start_matches('*') == name)
        .map(|(h, _)| h.to_string())
        .ok_or_else(|| DetectorError::Meta { path: sums_path.clone(), message: format!("no entry for {name}") })?;
    let found: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
    if found != expected {
        return Err(DetectorError::Checksum { path: file.to_path_buf(), expected, found });
    }
    Ok(())
}

impl Detector {
    /// Loads and optimises the model in `dir`, checking it against `SHA256SUMS`.
    pub fn load(dir: &Path, config: DetectorConfig) -> Result<Self, DetectorError> {
        let (onnx_path, meta_path) = model_paths(dir);
        let bytes = read(&onnx_path)?;
        verify_checksum(dir, &onnx_path, &bytes)?;
        let meta_bytes = read(&meta_path)?;
        verify_checksum(dir, &meta_path, &meta_bytes)?;
        let mut meta: ModelMeta = serde_json::from_slice(&meta_bytes)
            .map_err(|e| DetectorError::Meta { path: meta_path.clone(), message: e.to_string() })?;
        if meta.outputs.is_empty() || meta.input.width == 0 || meta.input.height == 0 {
            return Err(DetectorError::Meta { path: meta_path, message: "no outputs or zero input size".into() });
        }
        let mut strides: Vec<usize> = meta.outputs.iter().map(|h| h.stride).collect();
        strides.sort_unstable();
        strides.dedup();
        if strides.len() != meta.outputs.len() || strides.contains(&0) {
            return Err(DetectorError::Meta {
                path: meta_path,
                message: "every head needs its own non-zero stride".into(),
            });
        }
        if let Some((w, h)) = config.input {
            let step = strides.last().copied().unwrap_or(32);
            if w == 0 || h == 0 || w % step != 0 || h % step != 0 {
                return Err(DetectorError::Meta {
                    path: meta_path,
                    message: format!("detector input {w}x{h} is not a multiple of the largest stride {step}"),
                });
            }
            meta.input.width = w;
            meta.input.height = h;
        }
        let model_err = |e: TractError| DetectorError::Model { path: onnx_path.clone(), message: format!("{e:#}") };
        let model = tract_onnx::onnx()
            .model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(model_err)?
            .with_input_fact(0, f32::fact([1, 3, meta.input.height, meta.input.width]).into())
            .map_err(model_err)?
            .into_optimized()
            .map_err(model_err)?;
        let heads = model.output_outlets().map_err(model_err)?.len();
        if heads != meta.outputs.len() {
            return Err(DetectorError::Model {
                path: onnx_path,
                message: format!("the network has {heads} outputs but its sidecar describes {}", meta.outputs.len()),
            });
        }
        let options = RunOptions {
            executor: (config.threads > 1).then(|| tract_linalg::multithread::Executor::multithread(config.threads)),
            ..Default::default()
        };
        let plan = model.into_runnable_with_options(&options).map_err(tract_err)?;
        Ok(Self { plan, meta, config })
    }

    /// The network's input size `(width, height)`.
    pub fn input_size(&self) -> (usize, usize) {
        (self.meta.input.width, self.meta.input.height)
    }

    /// Runs the network alone on a prepared NCHW input of
    /// [`input_size`](Self::input_size) (values 0..1), without resizing or
    /// decoding: what a comparison of inference runtimes times.
    pub fn infer_raw(&self, chw: &[f32]) -> Result<(), DetectorError> {
        let (iw, ih) = self.input_size();
        let tensor = Tensor::from_shape(&[1, 3, ih, iw], chw).map_err(tract_err)?;
        self.plan.run(tvec!(tensor.into())).map_err(tract_err)?;
        Ok(())
    }

    /// Times the network's operators over `runs` inferences on a prepared
    /// input (after one warm-up run): mean milliseconds per run for each kind
    /// of operator, largest first. It tells where inference time goes, for
    /// comparing runtimes and input sizes.
    pub fn profile_ops(&self, chw: &[f32], runs: usize) -> Result<Vec<(String, f64)>, DetectorError> {
        let (iw, ih) = self.input_size();
        profile_plan(&self.plan, Tensor::from_shape(&[1, 3, ih, iw], chw).map_err(tract_err)?, runs)
    }

    /// The thresholds this detector was loaded with.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Detects the counted road users ([`ObjectClass`]) in an RGB8 image:
    /// the candidates of [`Self::detect_candidates_rgb`] under the
    /// configured score threshold and suppression.
    pub fn detect_rgb(&self, width: u32, height: u32, rgb: &[u8]) -> Result<Vec<Detection>, DetectorError> {
        Ok(select_detections(self.detect_candidates_rgb(width, height, rgb)?, &self.config))
    }

    /// Every box the network scores at least [`CANDIDATE_SCORE`] (or the
    /// configured threshold, if lower), after a loose suppression of
    /// near-duplicates (IoU above [`CANDIDATE_NMS_IOU`], or the configured
    /// IoU if higher). The detection cache keeps these, so that the final
    /// score threshold and suppression ([`select_detections`]) are settings
    /// applied after detection, tried without running the network again.
    pub fn detect_candidates_rgb(&self, width: u32, height: u32, rgb: &[u8]) -> Result<Vec<Detection>, DetectorError> {
        let expected = width as usize * height as usize * 3;
        if rgb.len() != expected || width == 0 || height == 0 {
            return Err(DetectorError::BadFrame { width, height, len: rgb.len(), expected });
        }
        let (iw, ih) = self.input_size();
        let input = resize_to_chw(width as usize, height as usize, rgb, iw, ih);
        let tensor = Tensor::from_shape(&[1, 3, ih, iw], &input).map_err(tract_err)?;
        let outputs = self.plan.run(tvec!(tensor.into())).map_err(tract_err)?;
        let mut candidates = Vec::new();
        for out in outputs.iter() {
            let view = out.to_plain_array_view::<f32>().map_err(tract_err)?;
            let shape = view.shape().to_vec();
            // Match the output to its head by stride, not by position.
            let head = (shape.len() == 4 && shape[3] > 0)
                .then(|| self.meta.outputs.iter().find(|h| h.stride * shape[3] == iw && h.stride * shape[2] == ih))
                .flatten()
                .ok_or_else(|| {
                    DetectorError::Tract(format!("an output of shape {shape:?} matches no head's stride"))
                })?;
            if shape[1] != head.anchors.len() * (5 + head.classes) {
                return Err(DetectorError::Tract(format!("head {} has shape {shape:?}", head.name)));
            }
            let (gh, gw) = (shape[2], shape[3]);
            let data = view.as_slice().ok_or_else(|| tract_err("non-contiguous output"))?;
            decode_head(
                head,
                data,
                gw,
                gh,
                (iw, ih),
                (width as f32, height as f32),
                self.config.score_threshold.min(CANDIDATE_SCORE),
                &mut candidates,
            );
        }
        Ok(non_max_suppression(candidates, self.config.nms_iou.max(CANDIDATE_NMS_IOU)))
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[allow(clippy::too_many_arguments)]
fn decode_head(
    head: &HeadMeta,
    data: &[f32],
    gw: usize,
    gh: usize,
    input: (usize, usize),
    frame: (f32, f32),
    threshold: f32,
    out: &mut Vec<Detection>,
) {
    let per = 5 + head.classes;
    let plane = gw * gh;
    let at = |c: usize, y: usize, x: usize| data[c * plane + y * gw + x];
    let s = head.scale_x_y;
    for (a, anchor) in head.anchors.iter().enumerate() {
        let base = a * per;
        for y in 0..gh {
            for x in 0..gw {
                let obj = sigmoid(at(base + 4, y, x));
                if obj < threshold {
                    continue;
                }
                let mut best: Option<(ObjectClass, f32)> = None;
                for class in ObjectClass::ALL.into_iter().filter(|c| c.coco_index() < head.classes) {
                    let p = obj * sigmoid(at(base + 5 + class.coco_index(), y, x));
                    if p >= threshold && best.is_none_or(|(_, b)| p > b) {
                        best = Some((class, p));
                    }
                }
                let Some((class, score)) = best else { continue };
                let cx = (x as f32 + sigmoid(at(base, y, x)) * s - (s - 1.0) / 2.0) / gw as f32;
                let cy = (y as f32 + sigmoid(at(base + 1, y, x)) * s - (s - 1.0) / 2.0) / gh as f32;
                let bw = at(base + 2, y, x).exp() * anchor[0] / input.0 as f32;
                let bh = at(base + 3, y, x).exp() * anchor[1] / input.1 as f32;
                let bbox = [
                    ((cx - bw / 2.0) * frame.0).max(0.0),
                    ((cy - bh / 2.0) * frame.1).max(0.0),
                    ((cx + bw / 2.0) * frame.0).min(frame.0),
                    ((cy + bh / 2.0) * frame.1).min(frame.1),
                ];
                out.push(Detection { class, score, bbox });
            }
        }
    }
}

/// Greedy per-class non-maximum suppression, highest score first; ties are
/// broken by position so the output is deterministic.
/// Lowest score of a candidate box ([`Detector::detect_candidates_rgb`]):
/// ByteTrack's low-score boxes start at 0.1 (Zhang et al. 2022), so any
/// final threshold a tracker may want is at or above it.
pub const CANDIDATE_SCORE: f32 = 0.1;

/// IoU above which a candidate box is a near-duplicate of a better one of
/// the same class and dropped before caching: looser than any final
/// suppression worth trying (darknet's default is 0.45).
pub const CANDIDATE_NMS_IOU: f32 = 0.7;

/// The final detections among `candidates`: scored at least
/// `config.score_threshold`, then non-maximum suppression at
/// `config.nms_iou`.
pub fn select_detections(candidates: Vec<Detection>, config: &DetectorConfig) -> Vec<Detection> {
    let kept = candidates.into_iter().filter(|d| d.score >= config.score_threshold).collect();
    // Motor vehicles suppress each other whatever their class; a rider's
    // person box does not suppress the bicycle under it (the tracker joins
    // them, `tracker::merge_riders`).
    suppress(kept, config.nms_iou, |a, b| a == b || (a.is_motor_vehicle() && b.is_motor_vehicle()))
}

/// Greedy non-maximum suppression per class: boxes in descending score, each
/// kept unless it overlaps a kept box of its class by more than
/// `iou_threshold`.
pub fn non_max_suppression(candidates: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    suppress(candidates, iou_threshold, |a, b| a == b)
}

/// Greedy non-maximum suppression where a box is suppressed by a kept box
/// of a class `rivals` says may name the same object. The final selection
/// treats motor vehicles as one: a car box and a truck box over one vehicle
/// leave one box, not two tracks and two counts.
fn suppress(
    mut candidates: Vec<Detection>,
    iou_threshold: f32,
    rivals: impl Fn(ObjectClass, ObjectClass) -> bool,
) -> Vec<Detection> {
    candidates.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then(a.bbox[0].total_cmp(&b.bbox[0])).then(a.bbox[1].total_cmp(&b.bbox[1]))
    });
    let mut kept: Vec<Detection> = Vec::new();
    for c in candidates {
        if kept.iter().all(|k| !rivals(k.class, c.class) || iou(&k.bbox, &c.bbox) <= iou_threshold) {
            kept.push(c);
        }
    }
    kept
}

/// Bilinear resize of RGB8 to a planar float image in [0, 1] (darknet's
/// default: the whole frame stretched to the network input).
fn resize_to_chw(w: usize, h: usize, rgb: &[u8], ow: usize, oh: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; 3 * ow * oh];
    let sx = w as f32 / ow as f32;
    let sy = h as f32 / oh as f32;
    let xs: Vec<(usize, usize, f32)> = (0..ow)
        .map(|x| {
            let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (w - 1) as f32);
            let x0 = fx.floor() as usize;
            (x0, (x0 + 1).min(w - 1), fx - x0 as f32)
        })
        .collect();
    for y in 0..oh {
        let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (h - 1) as f32);
        let y0 = fy.floor() as usize;
        let y1 = (y0 + 1).min(h - 1);
        let wy = fy - y0 as f32;
        let (r0, r1) = (&rgb[y0 * w * 3..(y0 + 1) * w * 3], &rgb[y1 * w * 3..(y1 + 1) * w * 3]);
        for (x, &(x0, x1, wx)) in xs.iter().enumerate() {
            for c in 0..3 {
                let top = r0[x0 * 3 + c] as f32 * (1.0 - wx) + r0[x1 * 3 + c] as f32 * wx;
                let bottom = r1[x0 * 3 + c] as f32 * (1.0 - wx) + r1[x1 * 3 + c] as f32 * wx;
                out[c * ow * oh + y * ow + x] = (top * (1.0 - wy) + bottom * wy) / 255.0;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_input_keeps_the_frame_proportions_in_multiples_of_the_stride() {
        assert_eq!(fitted_input(640, 480, 416, 32), (416, 320));
        assert_eq!(fitted_input(1920, 1080, 416, 32), (416, 224));
        assert_eq!(fitted_input(480, 640, 416, 32), (320, 416));
        assert_eq!(fitted_input(416, 416, 416, 32), (416, 416));
        // A small region is enlarged at most 1.4×: 276 px → 386 → 384.
        assert_eq!(analysis_input(276, 151), (384, 224));
        assert_eq!(analysis_input(300, 165), (416, 224));
        assert_eq!(analysis_input(640, 480), (416, 320));
        // A wide strip keeps nearly its own resolution within the budget.
        assert_eq!(analysis_input(640, 165), (704, 192));
    }

    #[test]
    fn a_vehicles_only_region_is_shrunk_not_enlarged() {
        // The mixed traffic camera's region: 1.07× as a person region would
        // be, 0.55× for vehicles (360 → 198 → 192, 320 → 176 → 192).
        assert_eq!(analysis_input(360, 320), (384, 352));
        assert_eq!(vehicle_input(360, 320), (192, 192));
        assert_eq!(vehicle_input(640, 480), (352, 256));
        assert_eq!(vehicle_input(276, 151), (160, 96));
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_per_class() {
        let d = |class, score, x: f32| Detection { class, score, bbox: [x, 0.0, x + 10.0, 20.0] };
        let kept = non_max_suppression(
            vec![
                d(ObjectClass::Person, 0.5, 1.0),
                d(ObjectClass::Person, 0.9, 0.0),
                d(ObjectClass::Car, 0.4, 0.0),
                d(ObjectClass::Person, 0.6, 30.0),
            ],
            0.45,
        );
        assert_eq!(kept.len(), 3);
        assert_eq!(kept[0].score, 0.9);
    }

    #[test]
    fn one_vehicle_called_car_and_truck_keeps_one_box_and_a_rider_stays() {
        let d = |class, score, x: f32| Detection { class, score, bbox: [x, 0.0, x + 100.0, 50.0] };
        let kept = select_detections(
            vec![
                d(ObjectClass::Car, 0.5, 0.0),
                d(ObjectClass::Truck, 0.6, 3.0),
                d(ObjectClass::Person, 0.7, 2.0),
                d(ObjectClass::Bus, 0.4, 200.0),
            ],
            &DetectorConfig::default(),
        );
        let classes: Vec<ObjectClass> = kept.iter().map(|k| k.class).collect();
        assert_eq!(classes, [ObjectClass::Person, ObjectClass::Truck, ObjectClass::Bus]);
    }

    #[test]
    fn final_thresholds_select_among_the_candidates() {
        // Two people side by side overlap by IoU 0.5: one box at the default
        // suppression (0.45), both at 0.6; a faint third only from 0.1.
        let d = |score, x: f32| Detection { class: ObjectClass::Person, score, bbox: [x, 0.0, x + 30.0, 90.0] };
        let candidates = vec![d(0.9, 0.0), d(0.7, 10.0), d(0.15, 60.0)];
        let pick = |score_threshold, nms_iou| {
            let config = DetectorConfig { score_threshold, nms_iou, ..Default::default() };
            select_detections(candidates.clone(), &config).iter().map(|d| d.score).collect::<Vec<_>>()
        };
        assert_eq!(pick(0.25, 0.45), [0.9]);
        assert_eq!(pick(0.25, 0.6), [0.9, 0.7]);
        assert_eq!(pick(0.1, 0.6), [0.9, 0.7, 0.15]);
    }

    #[test]
    fn resize_preserves_a_uniform_image() {
        let img = vec![128u8; 8 * 6 * 3];
        let out = resize_to_chw(8, 6, &img, 5, 5);
        assert!(out.iter().all(|v| (v - 128.0 / 255.0).abs() < 1e-5));
    }

    #[test]
    fn missing_model_names_the_fix() {
        let err = Detector::load(Path::new("/nonexistent"), DetectorConfig::default()).expect_err("missing");
        assert!(err.to_string().contains("make models"), "{err}");
    }
}
