//! The privacy filter applied before any analysis, in the order the
//! regulator's guarantees need (domain brief §2):
//!
//! 1. masks: windows, doorways, private property and sensitive places are
//!    blacked out before anything else sees the frame;
//! 2. frame rate: frames are selected in time (frames per second), not "one
//!    in N", so the rate means the same for every camera;
//! 3. face blur: faces found by a face detector (or known from ground truth,
//!    in experiments) are pixelated or blurred;
//! 4. resolution: the frame is resized to the configured size (any factor),
//!    with an anti-aliasing filter; the detector's letterbox comes after.
//!
//! After detection, [`pixelate_boxes`] makes people unreadable in any frame
//! that is kept.

use image::{ImageBuffer, Rgb, imageops};

use crate::faces::FaceDetector;
use crate::frame::{Frame, crop};
pub use camtwin_vocab::privacy::{BlurKind, FaceBlur, OutputMode, PrivacyConfig};

/// A privacy configuration resolved for one camera: what the filter needs.
/// The default analyses native frames (an analysed size of 0 × 0 means "no
/// resize") with the default configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PrivacySettings {
    /// The configuration as the user wrote it (name, blur, retention,
    /// aggregation).
    pub config: PrivacyConfig,
    /// Size the analysed frames are resized to, pixels.
    pub analysed: (u32, u32),
    /// Masks as polygons in native pixels.
    pub masks: Vec<Vec<[f32; 2]>>,
    /// Where the face detector looks, `[x0, y0, x1, y1]` native pixels (the
    /// whole frame when `None`). When no frame outlives detection, only the
    /// detector's region is ever seen, so faces need blurring there only.
    pub face_region: Option<[u32; 4]>,
}

impl PrivacySettings {
    /// Settings for a camera of `native` pixels, masks already in its pixels.
    pub fn new(config: PrivacyConfig, native: (u32, u32), masks: Vec<Vec<[f32; 2]>>) -> Self {
        let analysed = config.analysed_size(native);
        Self { config, analysed, masks, face_region: None }
    }
}

/// What the filter did to one frame, for the audit and the intrusiveness
/// measures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterRecord {
    /// Frame time, seconds.
    pub time_s: f64,
    /// Face boxes blurred, native pixels.
    pub blurred: Vec<[f32; 4]>,
}

/// The stateful filter of one run: remembers which frame-rate slot was last
/// analysed, and runs the face detector when one is configured.
pub struct PrivacyFilter {
    settings: PrivacySettings,
    faces: Option<FaceDetector>,
    last_slot: Option<i64>,
}

impl std::fmt::Debug for PrivacyFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivacyFilter").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl PrivacyFilter {
    /// A filter; `faces` is required when the configuration blurs faces with
    /// a detector.
    pub fn new(settings: PrivacySettings, faces: Option<FaceDetector>) -> Self {
        Self { settings, faces, last_slot: None }
    }

    /// The settings.
    pub fn settings(&self) -> &PrivacySettings {
        &self.settings
    }

    /// Whether the frame at `time_s` is analysed: the first frame of every
    /// `1 / fps` slot is.
    pub fn keep(&mut self, time_s: f64) -> bool {
        let Some(fps) = self.settings.config.fps else { return true };
        let slot = (time_s * fps + 1e-6).floor() as i64;
        if self.last_slot == Some(slot) {
            return false;
        }
        self.last_slot = Some(slot);
        true
    }

    /// Masks, blurs faces and resizes a kept frame. Errors come from the
    /// face detector.
    pub fn apply(&mut self, mut frame: Frame) -> Result<(Frame, FilterRecord), String> {
        let (w, h) = (frame.width, frame.height);
        for mask in &self.settings.masks {
            fill_polygon(&mut frame.rgb, w, h, mask, [0, 0, 0]);
        }
        let faces = match self.settings.config.face_blur {
            FaceBlur::None => Vec::new(),
            FaceBlur::Truth => frame.truth_faces.clone(),
            FaceBlur::Centerface => match (&self.faces, self.settings.face_region) {
                (Some(d), None) => d.detect_rgb(w, h, &frame.rgb).map_err(|e| e.to_string())?,
                (Some(d), Some(region)) => {
                    let (x0, y0, cw, ch, rgb) = crop(&frame, region);
                    let faces = d.detect_rgb(cw, ch, &rgb).map_err(|e| e.to_string())?;
                    faces.into_iter().map(|b| [b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0]).collect()
                }
                (None, _) => return Err("face blur by CenterFace is configured but no face model was loaded".into()),
            },
        };
        for b in &faces {
            blur_rect(&mut frame.rgb, w, h, *b, self.settings.config.blur);
        }
        let record = FilterRecord { time_s: frame.time_s, blurred: faces };
        let (tw, th) = self.settings.analysed;
        if tw == 0 || th == 0 || (tw, th) == (w, h) {
            return Ok((frame, record));
        }
        let rgb = resize(std::mem::take(&mut frame.rgb), w, h, tw, th)?;
        Ok((frame.with_pixels(tw, th, rgb), record))
    }
}

/// Resizes RGB8 pixels with a triangle (bilinear) filter whose support
/// widens with the reduction, so that downscaling averages rather than
/// aliases.
pub fn resize(rgb: Vec<u8>, w: u32, h: u32, tw: u32, th: u32) -> Result<Vec<u8>, String> {
    let img: ImageBuffer<Rgb<u8>, Vec<u8>> =
        ImageBuffer::from_raw(w, h, rgb).ok_or_else(|| format!("a {w}x{h} frame has the wrong number of bytes"))?;
    Ok(imageops::resize(&img, tw, th, imageops::FilterType::Triangle).into_raw())
}

/// Paints a polygon (pixel centres inside it, even-odd rule) with `colour`.
pub fn fill_polygon(rgb: &mut [u8], w: u32, h: u32, polygon: &[[f32; 2]], colour: [u8; 3]) {
    if polygon.len() < 3 {
        return;
    }
    let (ymin, ymax) = polygon.iter().fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p[1]), b.max(p[1])));
    let y0 = ymin.floor().max(0.0) as u32;
    let y1 = (ymax.ceil().max(0.0) as u32).min(h);
    let n = polygon.len();
    let mut xs: Vec<f32> = Vec::new();
    for y in y0..y1 {
        let yc = y as f32 + 0.5;
        xs.clear();
        for i in 0..n {
            let (a, b) = (polygon[i], polygon[(i + 1) % n]);
            if (a[1] > yc) != (b[1] > yc) {
                xs.push(a[0] + (yc - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
            }
        }
        xs.sort_by(f32::total_cmp);
        for pair in xs.chunks_exact(2) {
            // Pixels whose centre x + 0.5 lies in [pair[0], pair[1]).
            let xa = (pair[0] - 0.5).ceil().clamp(0.0, w as f32) as u32;
            let xb = (pair[1] - 0.5).ceil().clamp(0.0, w as f32) as u32;
            for x in xa..xb {
                let i = (y as usize * w as usize + x as usize) * 3;
                rgb[i..i + 3].copy_from_slice(&colour);
            }
        }
    }
}

/// Clamps a box `[x0, y0, x1, y1]` to the image, in whole pixels.
fn pixel_rect(b: [f32; 4], w: u32, h: u32) -> Option<(usize, usize, usize, usize)> {
    let x0 = b[0].floor().clamp(0.0, w as f32) as usize;
    let y0 = b[1].floor().clamp(0.0, h as f32) as usize;
    let x1 = b[2].ceil().clamp(0.0, w as f32) as usize;
    let y1 = b[3].ceil().clamp(0.0, h as f32) as usize;
    (x1 > x0 && y1 > y0).then_some((x0, y0, x1, y1))
}

/// Makes a box unreadable. Pixelation paints blocks of an eighth of the
/// box's width (at least 2 px) with their mean colour; the blur is three
/// passes of a box filter of radius a quarter of the box's width.
pub fn blur_rect(rgb: &mut [u8], w: u32, h: u32, b: [f32; 4], kind: BlurKind) {
    let Some((x0, y0, x1, y1)) = pixel_rect(b, w, h) else { return };
    match kind {
        BlurKind::Pixelate => {
            let block = ((x1 - x0) / 8).max(2);
            pixelate(rgb, w as usize, (x0, y0, x1, y1), block);
        }
        BlurKind::Gaussian => {
            let radius = ((x1 - x0) / 4).max(1);
            for _ in 0..3 {
                box_pass(rgb, w as usize, (x0, y0, x1, y1), radius, true);
                box_pass(rgb, w as usize, (x0, y0, x1, y1), radius, false);
            }
        }
    }
}

/// Whole-person pixelation of kept frames: blocks of a sixth of each box's
/// width (at least 4 px), so that neither face nor clothing can be read. A
/// buffer that is not `w` × `h` RGB (a replayed frame carries no pixels) is
/// left as it is.
pub fn pixelate_boxes(rgb: &mut [u8], w: u32, h: u32, boxes: &[[f32; 4]]) {
    if rgb.len() != w as usize * h as usize * 3 {
        return;
    }
    for b in boxes {
        if let Some(r) = pixel_rect(*b, w, h) {
            pixelate(rgb, w as usize, r, ((r.2 - r.0) / 6).max(4));
        }
    }
}

fn pixelate(rgb: &mut [u8], w: usize, (x0, y0, x1, y1): (usize, usize, usize, usize), block: usize) {
    for by in (y0..y1).step_by(block) {
        for bx in (x0..x1).step_by(block) {
            let (ex, ey) = ((bx + block).min(x1), (by + block).min(y1));
            let mut acc = [0u64; 3];
            for y in by..ey {
                for x in bx..ex {
                    let i = (y * w + x) * 3;
                    for c in 0..3 {
                        acc[c] += u64::from(rgb[i + c]);
                    }
                }
            }
            let n = ((ex - bx) * (ey - by)) as u64;
            let mean = acc.map(|a| ((a + n / 2) / n) as u8);
            for y in by..ey {
                for x in bx..ex {
                    let i = (y * w + x) * 3;
                    rgb[i..i + 3].copy_from_slice(&mean);
                }
            }
        }
    }
}

/// One horizontal or vertical box-filter pass inside a rectangle (edges
/// clamped to the rectangle).
fn box_pass(rgb: &mut [u8], w: usize, (x0, y0, x1, y1): (usize, usize, usize, usize), r: usize, horizontal: bool) {
    let (outer, inner) = if horizontal { ((y0, y1), (x0, x1)) } else { ((x0, x1), (y0, y1)) };
    let mut line: Vec<[u8; 3]> = Vec::with_capacity(inner.1 - inner.0);
    for o in outer.0..outer.1 {
        let at = |k: usize| if horizontal { (o * w + k) * 3 } else { (k * w + o) * 3 };
        line.clear();
        line.extend((inner.0..inner.1).map(|k| {
            let i = at(k);
            [rgb[i], rgb[i + 1], rgb[i + 2]]
        }));
        let n = line.len();
        for (j, k) in (inner.0..inner.1).enumerate() {
            let (a, b) = (j.saturating_sub(r), (j + r).min(n - 1));
            let mut acc = [0u32; 3];
            for px in &line[a..=b] {
                for c in 0..3 {
                    acc[c] += u32::from(px[c]);
                }
            }
            let cnt = (b - a + 1) as u32;
            let i = at(k);
            for c in 0..3 {
                rgb[i + c] = ((acc[c] + cnt / 2) / cnt) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameGate;

    fn frame(gate: &FrameGate, index: u64, time_s: f64, w: u32, h: u32, rgb: Vec<u8>) -> Frame {
        Frame::new(index, time_s, w, h, rgb, gate.acquire())
    }

    #[test]
    fn frames_are_selected_in_time() {
        let config = PrivacyConfig { fps: Some(2.0), ..Default::default() };
        let mut f = PrivacyFilter::new(PrivacySettings::new(config, (8, 8), Vec::new()), None);
        // A 10 fps stream: 0.0, 0.5, 1.0, ... are analysed.
        let kept: Vec<u64> = (0..20u64).filter(|i| f.keep(*i as f64 / 10.0)).collect();
        assert_eq!(kept, vec![0, 5, 10, 15]);
        // A 3 fps stream under a 2 fps rate: one frame per half second.
        let mut f = PrivacyFilter::new(
            PrivacySettings::new(PrivacyConfig { fps: Some(2.0), ..Default::default() }, (8, 8), Vec::new()),
            None,
        );
        assert_eq!((0..9u64).filter(|i| f.keep(*i as f64 / 3.0)).count(), 6);
    }

    #[test]
    fn fractional_downscale_averages() {
        let gate = FrameGate::new(2);
        // A 4x4 checkerboard of 0 and 200 scaled by 0.5 is mid-grey.
        let rgb: Vec<u8> = (0..16).flat_map(|i| [if (i + i / 4) % 2 == 0 { 0 } else { 200 }; 3]).collect();
        let config = PrivacyConfig { scale: Some(0.5), ..Default::default() };
        let mut f = PrivacyFilter::new(PrivacySettings::new(config, (4, 4), Vec::new()), None);
        let (out, _) = f.apply(frame(&gate, 0, 0.0, 4, 4, rgb)).expect("filtered");
        assert_eq!((out.width, out.height), (2, 2));
        assert!(out.rgb.iter().all(|v| (90..=110).contains(v)), "{:?}", out.rgb);
        let config = PrivacyConfig { scale: Some(0.75), ..Default::default() };
        let mut f = PrivacyFilter::new(PrivacySettings::new(config, (4, 4), Vec::new()), None);
        let (out, _) = f.apply(frame(&gate, 1, 0.1, 4, 4, vec![50; 48])).expect("filtered");
        assert_eq!((out.width, out.height, out.rgb.len()), (3, 3, 27));
    }

    #[test]
    fn masks_black_out_pixel_centres_inside_the_polygon() {
        let gate = FrameGate::new(1);
        let mask = vec![[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0]];
        let mut f = PrivacyFilter::new(PrivacySettings::new(PrivacyConfig::default(), (4, 4), vec![mask]), None);
        let (out, _) = f.apply(frame(&gate, 0, 0.0, 4, 4, vec![255; 48])).expect("filtered");
        let black: Vec<usize> = (0..16).filter(|i| out.rgb[i * 3] == 0).collect();
        assert_eq!(black, vec![5, 6, 9, 10]);
    }

    #[test]
    fn truth_face_blur_removes_detail_inside_the_face_only() {
        let gate = FrameGate::new(2);
        let (w, h) = (32u32, 16u32);
        let rgb: Vec<u8> = (0..w * h).flat_map(|i| [if i % 2 == 0 { 0 } else { 255 }; 3]).collect();
        for blur in [BlurKind::Pixelate, BlurKind::Gaussian] {
            let config = PrivacyConfig { face_blur: FaceBlur::Truth, blur, ..Default::default() };
            let mut f = PrivacyFilter::new(PrivacySettings::new(config, (w, h), Vec::new()), None);
            let mut input = frame(&gate, 1, 0.0, w, h, rgb.clone());
            input.truth_faces = vec![[0.0, 0.0, 16.0, 16.0]];
            let (out, record) = f.apply(input).expect("filtered");
            assert_eq!(record.blurred.len(), 1);
            let px = |x: usize, y: usize| out.rgb[(y * w as usize + x) * 3];
            let inside: Vec<u8> = (0..16).map(|x| px(x, 8)).collect();
            let spread = inside.iter().max().copied().unwrap_or(0) - inside.iter().min().copied().unwrap_or(0);
            assert!(spread < 60, "{blur:?} left detail: {inside:?}");
            assert_eq!((px(20, 8), px(21, 8)), (0, 255), "outside the face untouched");
        }
    }
}
