//! The privacy filter applied before any analysis: fewer pixels (integer
//! downscaling) and fewer frames (decimation), two of the regulator's named
//! privacy-by-design guarantees.

use serde::{Deserialize, Serialize};

use crate::frame::Frame;

/// Privacy settings of one analytics configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacySettings {
    /// Integer downscale factor (1 = native resolution).
    pub downscale: u32,
    /// Keep one frame in `frame_step`.
    pub frame_step: u32,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        Self { downscale: 1, frame_step: 1 }
    }
}

impl PrivacySettings {
    /// Applies the settings: `None` if the frame is decimated away (it is
    /// dropped here), else the frame at reduced resolution.
    pub fn apply(&self, frame: Frame) -> Option<Frame> {
        if !frame.index.is_multiple_of(self.frame_step.max(1) as u64) {
            return None;
        }
        let k = self.downscale.max(1);
        if k == 1 {
            return Some(frame);
        }
        let (w, h) = (frame.width / k, frame.height / k);
        let src_w = frame.width as usize;
        let mut out = vec![0u8; w as usize * h as usize * 3];
        let area = k * k;
        for y in 0..h as usize {
            for x in 0..w as usize {
                let mut acc = [0u32; 3];
                for dy in 0..k as usize {
                    let row = (y * k as usize + dy) * src_w;
                    for dx in 0..k as usize {
                        let i = (row + x * k as usize + dx) * 3;
                        for (a, &v) in acc.iter_mut().zip(&frame.rgb[i..i + 3]) {
                            *a += v as u32;
                        }
                    }
                }
                let o = (y * w as usize + x) * 3;
                for (dst, a) in out[o..o + 3].iter_mut().zip(acc) {
                    *dst = ((a + area / 2) / area) as u8;
                }
            }
        }
        Some(frame.with_pixels(w, h, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameGate;

    #[test]
    fn downscale_averages_blocks_and_decimation_drops_frames() {
        let gate = FrameGate::new(4);
        let rgb: Vec<u8> = (0..4 * 2).flat_map(|i| [i as u8 * 10; 3]).collect();
        let f = Frame::new(0, 0.0, 4, 2, rgb, gate.acquire());
        let s = PrivacySettings { downscale: 2, frame_step: 2 };
        let out = s.apply(f).expect("kept");
        assert_eq!((out.width, out.height), (2, 1));
        assert_eq!(out.rgb, vec![25, 25, 25, 45, 45, 45]);
        let odd = Frame::new(1, 0.1, 4, 2, vec![0; 24], gate.acquire());
        assert!(s.apply(odd).is_none());
        drop(out);
        assert_eq!(gate.audit().alive, 0);
    }
}
