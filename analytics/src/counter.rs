//! Line counting on the ground plane.
//!
//! Each confirmed track's foot point (bottom centre of its box) is mapped to
//! the ground with the camera's calibration homography, and a crossing is
//! counted when the foot moves from one side of the line to the other by more
//! than a dead band. The dead band stops box flicker near the line from
//! counting one walker twice, and each track counts at most once per
//! direction. Working in metres rather than pixels keeps counts meaningful
//! wherever the line sits in the image.

use std::collections::HashMap;

use crate::detector::ObjectClass;
use crate::tracker::TrackObservation;

/// Which way a line was crossed: `Positive` is from the left of the line
/// (looking from its first end to its second) to its right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CrossingDirection {
    /// Left to right.
    Positive,
    /// Right to left.
    Negative,
}

impl CrossingDirection {
    /// Name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Negative => "negative",
        }
    }

    /// Parses an output name back.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "positive" => Some(Self::Positive),
            "negative" => Some(Self::Negative),
            _ => None,
        }
    }
}

/// A counting line with the camera calibration needed to use it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineGeometry {
    /// First end on the ground (east, north), metres.
    pub from: [f64; 2],
    /// Second end.
    pub to: [f64; 2],
    /// Image (native pixels) → ground homography.
    pub image_to_ground: [[f64; 3]; 3],
    /// Native image width, pixels (to rescale downscaled frames).
    pub native_width: u32,
    /// Half-width of the dead band around the line, metres.
    pub dead_band_m: f64,
}

/// One counted crossing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountEvent {
    /// When, seconds.
    pub time_s: f64,
    /// Class of the track.
    pub class: ObjectClass,
    /// Which way.
    pub direction: CrossingDirection,
}

#[derive(Debug, Clone, Default)]
struct TrackSide {
    side: i8,
    counted_positive: bool,
    counted_negative: bool,
}

/// Counts line crossings of confirmed tracks.
#[derive(Debug, Clone)]
pub struct LineCounter {
    line: LineGeometry,
    state: HashMap<u64, TrackSide>,
}

impl LineCounter {
    /// A counter for `line`.
    pub fn new(line: LineGeometry) -> Self {
        Self { line, state: HashMap::new() }
    }

    fn to_ground(&self, px: [f64; 2]) -> Option<[f64; 2]> {
        let h = &self.line.image_to_ground;
        let w = h[2][0] * px[0] + h[2][1] * px[1] + h[2][2];
        if w.abs() < 1e-12 {
            return None;
        }
        let g = [(h[0][0] * px[0] + h[0][1] * px[1] + h[0][2]) / w, (h[1][0] * px[0] + h[1][1] * px[1] + h[1][2]) / w];
        g.iter().all(|v| v.is_finite()).then_some(g)
    }

    /// Which side of the line a box's foot point is on: 1 left, -1 right,
    /// 0 inside the dead band; `None` when it is beyond the line's ends.
    fn side_of(&self, bbox: [f32; 4], scale: f64) -> Option<i8> {
        let (a, b) = (self.line.from, self.line.to);
        let ab = [b[0] - a[0], b[1] - a[1]];
        let len = (ab[0] * ab[0] + ab[1] * ab[1]).sqrt();
        let foot = [(bbox[0] + bbox[2]) as f64 / 2.0 * scale, bbox[3] as f64 * scale];
        let g = self.to_ground(foot)?;
        let ap = [g[0] - a[0], g[1] - a[1]];
        // Signed distance: positive on the left of a→b.
        let dist = (ab[0] * ap[1] - ab[1] * ap[0]) / len;
        let along = (ab[0] * ap[0] + ab[1] * ap[1]) / (len * len);
        if !(-0.05..=1.05).contains(&along) {
            return None;
        }
        Some(if dist > self.line.dead_band_m {
            1
        } else if dist < -self.line.dead_band_m {
            -1
        } else {
            0
        })
    }

    /// Consumes one frame's tracks (`frame_width` is the analysed frame's
    /// width, to undo downscaling); returns the crossings completed in it.
    pub fn update(&mut self, time_s: f64, frame_width: u32, tracks: &[TrackObservation]) -> Vec<CountEvent> {
        let scale = self.line.native_width as f64 / frame_width.max(1) as f64;
        let mut events = Vec::new();
        for t in tracks {
            let Some(side) = self.side_of(t.bbox, scale) else { continue };
            let fresh = !self.state.contains_key(&t.id);
            let origin_side = if fresh { self.side_of(t.origin, scale).unwrap_or(0) } else { 0 };
            let s = self.state.entry(t.id).or_default();
            if fresh {
                s.side = origin_side;
            }
            if side == 0 {
                continue;
            }
            if s.side != 0 && s.side != side {
                let (direction, counted) = if s.side > 0 {
                    (CrossingDirection::Positive, &mut s.counted_positive)
                } else {
                    (CrossingDirection::Negative, &mut s.counted_negative)
                };
                if !*counted {
                    *counted = true;
                    events.push(CountEvent { time_s, class: t.class, direction });
                }
            }
            s.side = side;
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity_line() -> LineGeometry {
        // Image pixels are ground metres ×100 (x → east, y → north).
        LineGeometry {
            from: [1.0, 0.0],
            to: [1.0, 2.0],
            image_to_ground: [[0.01, 0.0, 0.0], [0.0, 0.01, 0.0], [0.0, 0.0, 1.0]],
            native_width: 640,
            dead_band_m: 0.2,
        }
    }

    fn obs(id: u64, foot_x: f32) -> TrackObservation {
        let bbox = [foot_x - 10.0, 50.0, foot_x + 10.0, 100.0];
        TrackObservation { id, class: ObjectClass::Person, bbox, origin: bbox }
    }

    #[test]
    fn a_track_confirmed_after_the_line_counts_from_where_it_started() {
        let mut c = LineCounter::new(identity_line());
        let late = TrackObservation { origin: obs(3, 60.0).bbox, ..obs(3, 130.0) };
        let events = c.update(0.0, 640, &[late]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].direction, CrossingDirection::Positive);
    }

    #[test]
    fn a_walk_across_counts_once_with_direction() {
        let mut c = LineCounter::new(identity_line());
        let mut events = Vec::new();
        // Walking east: from the line's left (west) to its right.
        for (i, x) in [40.0, 70.0, 95.0, 105.0, 98.0, 110.0, 130.0, 160.0].iter().enumerate() {
            events.extend(c.update(i as f64, 640, &[obs(7, *x)]));
        }
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].direction, CrossingDirection::Positive);
    }

    #[test]
    fn flicker_inside_the_dead_band_does_not_count() {
        let mut c = LineCounter::new(identity_line());
        let n: usize = [90.0, 110.0, 90.0, 110.0].iter().map(|x| c.update(0.0, 640, &[obs(1, *x)]).len()).sum();
        assert_eq!(n, 0);
    }

    #[test]
    fn downscaled_frames_are_mapped_back_to_native_pixels() {
        let mut c = LineCounter::new(identity_line());
        c.update(0.0, 320, &[obs(1, 20.0)]);
        assert_eq!(c.update(1.0, 320, &[obs(1, 80.0)]).len(), 1);
    }
}
