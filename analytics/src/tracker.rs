//! Multi-object tracker: greedy IoU association in two passes (confident
//! detections first, then weak ones to keep existing tracks alive, as
//! ByteTrack does), constant-velocity prediction, and confirmation before a
//! track gets an id.
//!
//! Ids are handed out only to confirmed tracks, so a one-frame false
//! positive never reaches the counters (peers inflate counts with unconfirmed
//! tracks that share a placeholder id). Ids are per-run integers that say
//! nothing about who a person is.

use crate::detector::{Detection, ObjectClass, iou};

/// Tracker settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerConfig {
    /// Detections at or above this score may start tracks.
    pub high_score: f32,
    /// Minimum IoU between a prediction and a detection to associate them.
    pub match_iou: f32,
    /// Consecutive hits before a track is confirmed.
    pub min_hits: u32,
    /// Frames a confirmed track survives without a detection.
    pub max_misses: u32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self { high_score: 0.45, match_iou: 0.2, min_hits: 3, max_misses: 8 }
    }
}

/// A confirmed track's state after one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackObservation {
    /// Track id, unique within a run.
    pub id: u64,
    /// Class of the detections it follows.
    pub class: ObjectClass,
    /// Box in frame pixels.
    pub bbox: [f32; 4],
    /// Box of the detection that started the track, so that a counter can
    /// tell where a track came from even if it was confirmed late.
    pub origin: [f32; 4],
}

#[derive(Debug, Clone)]
struct Track {
    id: Option<u64>,
    class: ObjectClass,
    bbox: [f32; 4],
    origin: [f32; 4],
    velocity: [f32; 4],
    hits: u32,
    misses: u32,
}

impl Track {
    fn predicted(&self) -> [f32; 4] {
        let k = (self.misses + 1) as f32;
        [0, 1, 2, 3].map(|i| self.bbox[i] + self.velocity[i] * k)
    }
}

/// The tracker's state across frames.
#[derive(Debug, Clone)]
pub struct Tracker {
    config: TrackerConfig,
    tracks: Vec<Track>,
    next_id: u64,
}

impl Tracker {
    /// A tracker with no tracks.
    pub fn new(config: TrackerConfig) -> Self {
        Self { config, tracks: Vec::new(), next_id: 1 }
    }

    /// Number of ids handed out so far.
    pub fn confirmed_total(&self) -> u64 {
        self.next_id - 1
    }

    /// Consumes one frame's detections; returns the confirmed tracks seen in it.
    pub fn update(&mut self, detections: &[Detection]) -> Vec<TrackObservation> {
        let (high, low): (Vec<&Detection>, Vec<&Detection>) =
            detections.iter().partition(|d| d.score >= self.config.high_score);
        let mut matched = vec![false; self.tracks.len()];
        let mut used_high = vec![false; high.len()];
        self.associate(&high, &mut used_high, &mut matched, |_| true);
        let mut used_low = vec![false; low.len()];
        self.associate(&low, &mut used_low, &mut matched, |t| t.id.is_some());
        for (t, m) in self.tracks.iter_mut().zip(&matched) {
            if !m {
                t.misses += 1;
                t.hits = 0;
            }
        }
        let cfg = self.config;
        self.tracks.retain(|t| if t.id.is_some() { t.misses <= cfg.max_misses } else { t.misses == 0 });
        for (d, used) in high.iter().zip(&used_high) {
            if !used {
                self.tracks.push(Track {
                    id: None,
                    class: d.class,
                    bbox: d.bbox,
                    origin: d.bbox,
                    velocity: [0.0; 4],
                    hits: 1,
                    misses: 0,
                });
            }
        }
        let mut out = Vec::new();
        for t in &mut self.tracks {
            if t.id.is_none() && t.hits >= cfg.min_hits {
                t.id = Some(self.next_id);
                self.next_id += 1;
            }
            if let (Some(id), 0) = (t.id, t.misses) {
                out.push(TrackObservation { id, class: t.class, bbox: t.bbox, origin: t.origin });
            }
        }
        out
    }

    fn associate(
        &mut self,
        dets: &[&Detection],
        used: &mut [bool],
        matched: &mut [bool],
        eligible: impl Fn(&Track) -> bool,
    ) {
        let mut pairs = Vec::new();
        for (ti, t) in self.tracks.iter().enumerate() {
            if matched[ti] || !eligible(t) {
                continue;
            }
            let p = t.predicted();
            for (di, d) in dets.iter().enumerate() {
                if d.class == t.class {
                    let o = iou(&p, &d.bbox);
                    if o >= self.config.match_iou {
                        pairs.push((o, ti, di));
                    }
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for (_, ti, di) in pairs {
            if matched[ti] || used[di] {
                continue;
            }
            matched[ti] = true;
            used[di] = true;
            let t = &mut self.tracks[ti];
            let gap = (t.misses + 1) as f32;
            let new = dets[di].bbox;
            for ((vel, n), old) in t.velocity.iter_mut().zip(new).zip(t.bbox) {
                *vel = 0.6 * *vel + 0.4 * (n - old) / gap;
            }
            t.bbox = new;
            t.hits += 1;
            t.misses = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, score: f32) -> Detection {
        Detection { class: ObjectClass::Person, score, bbox: [x, 100.0, x + 30.0, 180.0] }
    }

    #[test]
    fn a_walker_gets_one_id_after_confirmation_and_keeps_it() {
        let mut t = Tracker::new(TrackerConfig::default());
        assert!(t.update(&[det(0.0, 0.9)]).is_empty());
        assert!(t.update(&[det(5.0, 0.9)]).is_empty());
        let third = t.update(&[det(10.0, 0.9)]);
        assert_eq!(third.len(), 1);
        let id = third[0].id;
        // A weak detection keeps the track alive; a missed frame does not break it.
        assert_eq!(t.update(&[det(15.0, 0.3)])[0].id, id);
        assert!(t.update(&[]).is_empty());
        assert_eq!(t.update(&[det(25.0, 0.9)])[0].id, id);
        assert_eq!(t.confirmed_total(), 1);
    }

    #[test]
    fn a_one_frame_false_positive_never_gets_an_id() {
        let mut t = Tracker::new(TrackerConfig::default());
        t.update(&[det(300.0, 0.9)]);
        for _ in 0..5 {
            assert!(t.update(&[]).is_empty());
        }
        assert_eq!(t.confirmed_total(), 0);
    }
}
