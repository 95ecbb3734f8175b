//! A real face pasted into frames at a chosen size, for the face blur's
//! test and bench: the sample is assets/models/face-sample.png (fetched by
//! `make models` from a pinned registry package, public domain).
#![allow(dead_code)]

use std::path::Path;

use camtwin_analytics::faces::FaceDetector;
use camtwin_analytics::report::decode_png;
use image::{ImageBuffer, Rgb, RgbImage, imageops};

/// The head cut out of the sample, and its face box inside the cut-out.
pub struct FaceSample {
    /// Head, hair and shoulders around the face.
    pub crop: RgbImage,
    /// The face box `[x0, y0, x1, y1]` in `crop`'s pixels.
    pub face: [f32; 4],
}

impl FaceSample {
    /// Loads the sample from `models` and finds its face with CenterFace at
    /// full resolution: the face box is CenterFace's own, so that "a face
    /// W px wide" means a box of the kind the blur uses.
    pub fn load(models: &Path) -> Result<Self, String> {
        let path = models.join("face-sample.png");
        let (sw, sh, rgb) = decode_png(&path).map_err(|e| format!("{e} (run `make models`)"))?;
        let sample: RgbImage = ImageBuffer::from_raw(sw, sh, rgb).ok_or("bad PNG size")?;
        let detector = FaceDetector::load(models, (sw, sh), 1.0, 2).map_err(|e| e.to_string())?;
        let faces = detector.detect_rgb(sw, sh, sample.as_raw()).map_err(|e| e.to_string())?;
        let area = |b: &[f32; 4]| (b[2] - b[0]) * (b[3] - b[1]);
        let face = faces.into_iter().max_by(|a, b| area(a).total_cmp(&area(b))).ok_or("no face in the sample")?;
        let (fw, fh) = (face[2] - face[0], face[3] - face[1]);
        let x0 = (face[0] - 0.6 * fw).max(0.0) as u32;
        let y0 = (face[1] - 0.5 * fh).max(0.0) as u32;
        let x1 = ((face[2] + 0.6 * fw) as u32).min(sw);
        let y1 = ((face[3] + 0.8 * fh) as u32).min(sh);
        let crop = imageops::crop_imm(&sample, x0, y0, x1 - x0, y1 - y0).to_image();
        let (ox, oy) = (x0 as f32, y0 as f32);
        Ok(Self { crop, face: [face[0] - ox, face[1] - oy, face[2] - ox, face[3] - oy] })
    }

    /// A grey `w` × `h` frame with the head pasted at nine places, resized
    /// so that each face box is `face_width` px wide, and those face boxes.
    pub fn frame(&self, face_width: u32, w: u32, h: u32) -> (RgbImage, Vec<[f32; 4]>) {
        let k = face_width as f32 / (self.face[2] - self.face[0]);
        let (cw, ch) = self.crop.dimensions();
        let rw = (cw as f32 * k).round().max(1.0) as u32;
        let rh = (ch as f32 * k).round().max(1.0) as u32;
        let small = imageops::resize(&self.crop, rw, rh, imageops::FilterType::Triangle);
        let mut frame = ImageBuffer::from_pixel(w, h, Rgb([128u8, 128, 128]));
        let mut faces = Vec::new();
        for gy in 0..3u32 {
            for gx in 0..3u32 {
                // A grid with uneven offsets, so faces fall at different
                // phases of the network's stride.
                let px = (w / 16 + gx * (w * 21 / 64) + (gy * 17) % 23).min(w.saturating_sub(rw));
                let py = (h / 12 + gy * (h * 5 / 16) + (gx * 13) % 19).min(h.saturating_sub(rh));
                imageops::overlay(&mut frame, &small, i64::from(px), i64::from(py));
                let (fx, fy) = (px as f32 + self.face[0] * k, py as f32 + self.face[1] * k);
                faces.push([fx, fy, fx + (self.face[2] - self.face[0]) * k, fy + (self.face[3] - self.face[1]) * k]);
            }
        }
        (frame, faces)
    }
}
