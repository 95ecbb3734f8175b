//! Multi-object tracker of the ByteTrack class (Zhang et al., "ByteTrack:
//! Multi-Object Tracking by Associating Every Detection Box", ECCV 2022).
//!
//! - Each track carries a constant-velocity Kalman filter on its box centre
//!   (pixels and pixels per second) and a random-walk one on its width and
//!   height (a stride's swing is not a trend). Time is in seconds, so
//!   a decimated stream (fewer frames a second) predicts further between
//!   frames instead of behaving as if people slowed down.
//! - Association is optimal (Hungarian, `pathfinding::kuhn_munkres`) on IoU
//!   between predicted and detected boxes of the same kind (a class; motor
//!   vehicles of any class together, see [`ObjectClass::same_kind`]), in ByteTrack's
//!   stages: confident detections against every track (tracked or lost), then
//!   weak detections against tracks still tracked (a weak box is usually a
//!   partly hidden person), then the remaining confident detections against
//!   tentative tracks. What is left of the confident detections starts
//!   tentative tracks. In the confident stages a box that does not overlap
//!   a track's prediction may still continue it if its centre is within
//!   [`TrackerConfig::reach_heights_per_s`] of it: at a low analysed frame
//!   rate a walker's boxes no longer overlap from one frame to the next.
//!   A confirmed person's track never takes a box whose feet lie further
//!   than [`TrackerConfig::foot_gate_heights`] from its predicted feet:
//!   someone standing behind the walker, whose box overlaps the walker's.
//! - A tentative track becomes confirmed (and gets an id) after
//!   [`TrackerConfig::min_hits`] matched frames; a tentative track that misses
//!   one frame dies, so flicker and one-frame false positives never reach the
//!   counters (peers inflate counts with unconfirmed tracks that share a
//!   placeholder id).
//! - A confirmed track that loses its detection (a walker hidden by another,
//!   or merged with a companion into one box) coasts on its prediction for up
//!   to [`TrackerConfig::max_lost_s`] seconds and takes up again when a box
//!   reappears near where it is predicted.
//!
//! Ids are per-run integers that say nothing about who a person is: no
//! appearance features are computed or kept (no re-identification).

use crate::assignment::max_weight_pairs;
use crate::detector::{Detection, ObjectClass, iou};

/// Tracker settings. The defaults started from ByteTrack's MOT17 settings
/// (times converted from its 30-frame buffer at 30 fps into seconds); the
/// confident-box score (0.3 instead of 0.45, YOLOv4-tiny scores a partly
/// hidden walker 0.25-0.4) and confirmation after 2 frames instead of 3 were
/// then chosen on the demo street, 4 seeds × 5 minutes (docs/PERFORMANCE.md,
/// "Counting accuracy"); the confident-box score was lowered to 0.25 on the
/// busy sidewalk's 10 seeds and checked on 4 seeds not used to choose it
/// ("Tracks found again where they were").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerConfig {
    /// Detections at or above this score are "high" (first association,
    /// track birth); those below are "low" (second association only).
    /// At 0.25, the detector's default final threshold, the low band is
    /// empty unless the detector keeps weaker boxes (`--score-threshold`
    /// below 0.25): on the busy sidewalk, walkers partly hidden in a crowd
    /// scored 0.25-0.3 were better used to start and continue tracks than
    /// only to continue them, and a low band from 0.2 or 0.15 added extra
    /// counts (docs/PERFORMANCE.md, "Tracks found again where they were").
    pub high_score: f32,
    /// Detections below this score are ignored.
    pub low_score: f32,
    /// Minimum IoU for the first association (confident boxes, all tracks).
    pub match_iou: f32,
    /// Minimum IoU for the second association (weak boxes, tracked tracks).
    pub low_match_iou: f32,
    /// Minimum IoU to extend a tentative track.
    pub tentative_match_iou: f32,
    /// Matched frames before a track is confirmed and gets an id.
    pub min_hits: u32,
    /// Seconds a confirmed track survives without a detection.
    pub max_lost_s: f64,
    /// How far, in box heights per second, a confident box may lie from a
    /// track's predicted box and still continue it when they do not overlap
    /// (first and third stages). At 2 or 1 analysed frames a second a walker
    /// moves 0.4-0.8 of its height between frames, so its boxes no longer
    /// overlap and IoU alone never confirms a track: the demo street counted
    /// 26 % of true crossings at 2 fps and 9 % at 1 fps. Two heights a second
    /// (3.4 m/s for a person 1.7 m tall, faster than anyone walks) brought that
    /// to 80 % and 73 %, with the camera's error down from 74 % to 20 % and
    /// from 91 % to 29 % (4 seeds × 5 minutes), and changed nothing at 10 fps.
    pub reach_heights_per_s: f64,
    /// How far, in box heights, a box's bottom edge may lie from the bottom
    /// of a confirmed track's predicted box and still continue it. Two
    /// people whose boxes overlap in the image but who stand at different
    /// depths have their feet at different heights in it; without this gate
    /// a track could jump from one to the other where they pass, and a
    /// crossing was lost or counted the wrong way. 0.35 was chosen on the
    /// demo street (6 seeds × 5 minutes) and the busy sidewalk (3 seeds):
    /// 0.15-0.3 gained more crossings but broke more tracks, whose
    /// rebirths near the lines counted twice (extra counts above 2 % of
    /// the true crossings in a direction), 0.4 gained less
    /// (docs/PERFORMANCE.md, "Feet apart"). People only: a vehicle
    /// driving towards or away from the camera grows or shrinks faster
    /// than its predicted box (sizes follow a random walk), and on the mixed
    /// traffic street the gate lost 4 of 113 motor vehicles. Widens in
    /// proportion when frames are more than [`FOOT_GATE_WIDENS_AFTER_S`]
    /// apart.
    pub foot_gate_heights: f32,
}

/// Frames further apart than this (seconds) widen the feet gate
/// ([`TrackerConfig::foot_gate_heights`]) in proportion: a prediction a
/// second ahead is coarse. At one analysed frame a second the fixed gate
/// raised the demo street's extra counts from 7 / 10 to 11 / 13 (4 seeds ×
/// 5 minutes); widened, 7 / 8, with every higher frame rate unchanged.
pub const FOOT_GATE_WIDENS_AFTER_S: f64 = 0.5;

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            high_score: 0.25,
            low_score: 0.1,
            match_iou: 0.2,
            low_match_iou: 0.4,
            tentative_match_iou: 0.3,
            min_hits: 2,
            max_lost_s: 2.0,
            reach_heights_per_s: 2.0,
            foot_gate_heights: 0.35,
        }
    }
}

/// Whether a confirmed track was seen in the current frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackState {
    /// Matched to a detection in this frame: its box is measured.
    Tracked,
    /// Not matched in this frame: its box is a prediction.
    Lost,
}

/// A confirmed track's state after one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackObservation {
    /// Track id, unique within a run.
    pub id: u64,
    /// Class of the detections it follows.
    pub class: ObjectClass,
    /// Filtered box in frame pixels (predicted when [`TrackState::Lost`]).
    pub bbox: [f32; 4],
    /// Box of the detection that started the track, so that a counter can
    /// tell where a track came from even if it was confirmed late.
    pub origin: [f32; 4],
    /// Time of the detection that started the track, seconds.
    pub origin_time_s: f64,
    /// Tracked or coasting.
    pub state: TrackState,
}

/// One coordinate's constant-velocity Kalman filter: position and velocity
/// with their 2×2 covariance. The four box coordinates are filtered apart:
/// with ByteTrack's diagonal noise the full 8-state filter's covariance stays
/// block-diagonal, so this is the same filter, not an approximation.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Axis {
    pos: f64,
    vel: f64,
    /// Covariance `[[p_pp, p_pv], [p_pv, p_vv]]`.
    p_pp: f64,
    p_pv: f64,
    p_vv: f64,
    /// Whether the coordinate has a velocity. A box's width and height do
    /// not: a walker's box widens and narrows with every stride (18 to 45 px
    /// for a person 85 px tall on the demo street), and a size velocity
    /// learnt from that swing, extrapolated while the walker is hidden,
    /// shrinks the predicted box to a sliver within a few frames, which then
    /// no longer overlaps the walker when it reappears (a new id, and a
    /// crossing lost if that happens at a counting line). Sizes follow a
    /// random walk instead.
    moving: bool,
}

/// Noise of the motion model, as fractions of the box size (ByteTrack's
/// 1/20 for position and 1/160 per frame for velocity, at its 30 fps).
mod noise {
    /// Reference frame interval the fractions were set for, seconds.
    pub const REF_DT: f64 = 1.0 / 30.0;
    /// Position noise, fraction of the box size.
    pub const POSITION: f64 = 1.0 / 20.0;
    /// Velocity noise per reference frame, fraction of the box size.
    pub const VELOCITY: f64 = 1.0 / 160.0;
}

impl Axis {
    fn new(pos: f64, size: f64, moving: bool) -> Self {
        let sp = 2.0 * noise::POSITION * size;
        let sv = if moving { 10.0 * noise::VELOCITY * size / noise::REF_DT } else { 0.0 };
        Self { pos, vel: 0.0, p_pp: sp * sp, p_pv: 0.0, p_vv: sv * sv, moving }
    }

    fn predict(&mut self, dt: f64, size: f64) {
        let steps = dt / noise::REF_DT;
        let qp = (noise::POSITION * size).powi(2) * steps;
        let qv = if self.moving { (noise::VELOCITY * size / noise::REF_DT).powi(2) * steps } else { 0.0 };
        self.pos += self.vel * dt;
        self.p_pp += 2.0 * dt * self.p_pv + dt * dt * self.p_vv + qp;
        self.p_pv += dt * self.p_vv;
        self.p_vv += qv;
    }

    fn update(&mut self, z: f64, size: f64) {
        let r = (noise::POSITION * size).powi(2);
        let s = self.p_pp + r;
        let (k0, k1) = (self.p_pp / s, self.p_pv / s);
        let y = z - self.pos;
        self.pos += k0 * y;
        self.vel += k1 * y;
        let (pp, pv, vv) = (self.p_pp, self.p_pv, self.p_vv);
        self.p_pp = (1.0 - k0) * pp;
        self.p_pv = (1.0 - k0) * pv;
        self.p_vv = vv - k1 * pv;
    }
}

/// The box as `[cx, cy, w, h]` axes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BoxFilter {
    axes: [Axis; 4],
}

impl BoxFilter {
    fn new(b: [f32; 4]) -> Self {
        let m = measure(b);
        let (w, h) = (m[2].max(1.0), m[3].max(1.0));
        Self {
            axes: [
                Axis::new(m[0], w, true),
                Axis::new(m[1], h, true),
                Axis::new(m[2], w, false),
                Axis::new(m[3], h, false),
            ],
        }
    }

    fn sizes(&self) -> [f64; 4] {
        let (w, h) = (self.axes[2].pos.max(1.0), self.axes[3].pos.max(1.0));
        [w, h, w, h]
    }

    fn predict(&mut self, dt: f64) {
        let sizes = self.sizes();
        for (a, s) in self.axes.iter_mut().zip(sizes) {
            a.predict(dt, s);
        }
    }

    fn update(&mut self, b: [f32; 4]) {
        let sizes = self.sizes();
        for ((a, z), s) in self.axes.iter_mut().zip(measure(b)).zip(sizes) {
            a.update(z, s);
        }
    }

    fn bbox(&self) -> [f32; 4] {
        let [cx, cy, w, h] = self.axes.map(|a| a.pos);
        let (w, h) = (w.max(1.0), h.max(1.0));
        [(cx - w / 2.0) as f32, (cy - h / 2.0) as f32, (cx + w / 2.0) as f32, (cy + h / 2.0) as f32]
    }
}

fn measure(b: [f32; 4]) -> [f64; 4] {
    let [x0, y0, x1, y1] = b.map(f64::from);
    [(x0 + x1) / 2.0, (y0 + y1) / 2.0, x1 - x0, y1 - y0]
}

/// Detection scores summed per class over a track's matched boxes: the
/// track's class is the one with the most.
#[derive(Debug, Clone, Default)]
struct ClassVotes([f32; ObjectClass::ALL.len()]);

impl ClassVotes {
    /// The slot of `class` (every class is in [`ObjectClass::ALL`]).
    fn slot(class: ObjectClass) -> usize {
        ObjectClass::ALL.iter().position(|c| *c == class).unwrap_or(0)
    }

    fn add(&mut self, class: ObjectClass, score: f32) {
        self.0[Self::slot(class)] += score;
    }

    /// The class with the most votes (the earlier in [`ObjectClass::ALL`] on
    /// a tie), or `current` when there are none; but a person seen on a
    /// two-wheeler in a good share of frames is its rider
    /// ([`RIDER_VOTE_SHARE`]): the detector finds the rider more often than
    /// the bicycle under them.
    fn winner(&self, current: ObjectClass) -> ObjectClass {
        let mut best = (current, 0.0f32);
        for (c, v) in ObjectClass::ALL.iter().zip(self.0) {
            if v > best.1 {
                best = (*c, v);
            }
        }
        if best.0 == ObjectClass::Person {
            let ridden = [ObjectClass::Bicycle, ObjectClass::Motorcycle]
                .into_iter()
                .map(|c| (c, self.0[Self::slot(c)]))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((class, v)) = ridden
                && v >= RIDER_VOTE_SHARE * best.1
            {
                return class;
            }
        }
        best.0
    }
}

/// Share of a track's person votes that its two-wheeler votes must reach
/// for it to be a rider: in a third of the frames a bicycle or motorcycle
/// box was found under the person.
pub const RIDER_VOTE_SHARE: f32 = 1.0 / 3.0;

/// How much of a two-wheeler's box a person's box must cover to be its
/// rider (intersection over the two-wheeler's area).
pub const RIDER_OVERLAP: f32 = 0.3;

/// Joins each rider to the bicycle or motorcycle under them. A COCO detector
/// boxes a cyclist twice, as a person and as a bicycle, and finds the person
/// more often; counted apart, every cyclist would be a pedestrian crossing
/// the road. A person box covering [`RIDER_OVERLAP`] of a two-wheeler's box
/// and that box become one box of the two-wheeler's class: their union,
/// with the higher score. Each two-wheeler, best score first, takes the
/// person covering most of it; the other boxes pass unchanged.
pub fn merge_riders(detections: &[Detection]) -> Vec<Detection> {
    let two_wheeler = |c: ObjectClass| matches!(c, ObjectClass::Bicycle | ObjectClass::Motorcycle);
    if !detections.iter().any(|d| two_wheeler(d.class)) {
        return detections.to_vec();
    }
    let mut wheels: Vec<usize> = (0..detections.len()).filter(|&i| two_wheeler(detections[i].class)).collect();
    wheels.sort_by(|&a, &b| detections[b].score.total_cmp(&detections[a].score).then(a.cmp(&b)));
    let mut taken = vec![false; detections.len()];
    let mut out = Vec::new();
    for w in wheels {
        let wb = detections[w].bbox;
        let cover = |p: &Detection| crate::detector::inside_share(&wb, &p.bbox);
        let rider = (0..detections.len())
            .filter(|&i| !taken[i] && detections[i].class == ObjectClass::Person)
            .map(|i| (i, cover(&detections[i])))
            .filter(|(_, c)| *c >= RIDER_OVERLAP)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        taken[w] = true;
        let mut d = detections[w];
        if let Some((p, _)) = rider {
            taken[p] = true;
            let pb = detections[p].bbox;
            d.bbox = [wb[0].min(pb[0]), wb[1].min(pb[1]), wb[2].max(pb[2]), wb[3].max(pb[3])];
            d.score = d.score.max(detections[p].score);
        }
        out.push(d);
    }
    out.extend(detections.iter().enumerate().filter(|(i, _)| !taken[*i]).map(|(_, d)| *d));
    out
}

#[derive(Debug, Clone)]
struct Track {
    id: Option<u64>,
    class: ObjectClass,
    votes: ClassVotes,
    filter: BoxFilter,
    origin: [f32; 4],
    origin_time_s: f64,
    hits: u32,
    last_seen_s: f64,
    matched_now: bool,
}

/// The tracker's state across frames.
#[derive(Debug, Clone)]
pub struct Tracker {
    config: TrackerConfig,
    tracks: Vec<Track>,
    next_id: u64,
    last_time_s: Option<f64>,
}

/// Optimal one-to-one matching of `rows` to `cols` maximising total IoU among
/// pairs at or above `min_iou`; returns `(row, col)` pairs.
fn assign(rows: usize, cols: usize, similarity: impl Fn(usize, usize) -> f32, min_iou: f32) -> Vec<(usize, usize)> {
    // Integer weights (micro-IoU); pairs under the gate weigh nothing and
    // are dropped after the assignment, which then equals a maximum-weight
    // matching over the admissible pairs only.
    let weight = |r: usize, c: usize| {
        let s = similarity(r, c);
        if s >= min_iou { (f64::from(s) * 1e6).round() as i64 } else { 0 }
    };
    max_weight_pairs(rows, cols, weight).into_iter().filter(|&(r, c)| similarity(r, c) >= min_iou).collect()
}

impl Tracker {
    /// A tracker with no tracks.
    pub fn new(config: TrackerConfig) -> Self {
        Self { config, tracks: Vec::new(), next_id: 1, last_time_s: None }
    }

    /// Number of ids handed out so far.
    pub fn confirmed_total(&self) -> u64 {
        self.next_id - 1
    }

    /// Consumes one frame's detections at `time_s` (seconds); returns every
    /// confirmed track still alive, tracked or coasting. A confirmed id
    /// missing from the list has ended for good.
    pub fn update(&mut self, time_s: f64, detections: &[Detection]) -> Vec<TrackObservation> {
        let merged = merge_riders(detections);
        let detections = &merged[..];
        let cfg = self.config;
        let dt = self.last_time_s.map_or(0.0, |t| (time_s - t).max(0.0));
        self.last_time_s = Some(time_s);
        for t in &mut self.tracks {
            t.filter.predict(dt);
            t.matched_now = false;
        }
        let high: Vec<&Detection> = detections.iter().filter(|d| d.score >= cfg.high_score).collect();
        let low: Vec<&Detection> =
            detections.iter().filter(|d| d.score >= cfg.low_score && d.score < cfg.high_score).collect();
        let predicted: Vec<[f32; 4]> = self.tracks.iter().map(|t| t.filter.bbox()).collect();

        // Stage 1: confident boxes against every confirmed track, tracked or lost.
        let confirmed: Vec<usize> = (0..self.tracks.len()).filter(|&i| self.tracks[i].id.is_some()).collect();
        let mut high_used = vec![false; high.len()];
        let reach = cfg.reach_heights_per_s * dt;
        let feet = cfg.foot_gate_heights * (dt / FOOT_GATE_WIDENS_AFTER_S).max(1.0) as f32;
        self.match_stage(&confirmed, &high, &mut high_used, &predicted, cfg.match_iou, time_s, reach, feet);

        // Stage 2: weak boxes against confirmed tracks seen in the last frame.
        // ByteTrack's "tracked" pool: matched in the previous frame (the
        // "lost" pool only takes confident boxes).
        let previous = time_s - dt - 1e-9;
        let remaining: Vec<usize> = confirmed
            .iter()
            .copied()
            .filter(|&i| !self.tracks[i].matched_now && self.tracks[i].last_seen_s >= previous)
            .collect();
        let mut low_used = vec![false; low.len()];
        self.match_stage(&remaining, &low, &mut low_used, &predicted, cfg.low_match_iou, time_s, 0.0, feet);

        // Stage 3: the remaining confident boxes against tentative tracks.
        let tentative: Vec<usize> = (0..self.tracks.len()).filter(|&i| self.tracks[i].id.is_none()).collect();
        let free: Vec<usize> = (0..high.len()).filter(|&d| !high_used[d]).collect();
        let free_dets: Vec<&Detection> = free.iter().map(|&d| high[d]).collect();
        let mut free_used = vec![false; free.len()];
        self.match_stage(
            &tentative,
            &free_dets,
            &mut free_used,
            &predicted,
            cfg.tentative_match_iou,
            time_s,
            reach,
            feet,
        );
        for (k, &d) in free.iter().enumerate() {
            high_used[d] = free_used[k];
        }

        // Deaths: tentative tracks that missed, confirmed ones lost too long.
        self.tracks.retain(|t| if t.id.is_some() { time_s - t.last_seen_s <= cfg.max_lost_s } else { t.matched_now });
        // Births from confident boxes nobody took.
        for (d, used) in high.iter().zip(&high_used) {
            if !used {
                let mut votes = ClassVotes::default();
                votes.add(d.class, d.score);
                self.tracks.push(Track {
                    id: None,
                    class: d.class,
                    votes,
                    filter: BoxFilter::new(d.bbox),
                    origin: d.bbox,
                    origin_time_s: time_s,
                    hits: 1,
                    last_seen_s: time_s,
                    matched_now: true,
                });
            }
        }
        let mut out = Vec::new();
        for t in &mut self.tracks {
            if t.id.is_none() && t.hits >= cfg.min_hits {
                t.id = Some(self.next_id);
                self.next_id += 1;
            }
            if let Some(id) = t.id {
                out.push(TrackObservation {
                    id,
                    class: t.class,
                    bbox: t.filter.bbox(),
                    origin: t.origin,
                    origin_time_s: t.origin_time_s,
                    state: if t.matched_now { TrackState::Tracked } else { TrackState::Lost },
                });
            }
        }
        out
    }

    /// Matches `tracks` with the unused `dets` on the similarity of each
    /// track's predicted box with each box: their IoU, or, where `reach`
    /// (box heights) is positive, `1 − centre distance / reach` when that is
    /// higher; pairs under `min_iou` are not matched, nor a confirmed
    /// person's track with a box whose bottom lies further than `feet` box
    /// heights from its predicted bottom ([`TrackerConfig::foot_gate_heights`],
    /// widened for frames far apart).
    #[allow(clippy::too_many_arguments)]
    fn match_stage(
        &mut self,
        tracks: &[usize],
        dets: &[&Detection],
        used: &mut [bool],
        predicted: &[[f32; 4]],
        min_iou: f32,
        time_s: f64,
        reach: f64,
        feet: f32,
    ) {
        let free: Vec<usize> = (0..dets.len()).filter(|&d| !used[d]).collect();
        let sim = |r: usize, c: usize| {
            let (t, d) = (&self.tracks[tracks[r]], dets[free[c]]);
            if !t.class.same_kind(d.class) {
                return 0.0;
            }
            let p = &predicted[tracks[r]];
            let height = ((p[3] - p[1]) + (d.bbox[3] - d.bbox[1])) / 2.0;
            let person = t.class == ObjectClass::Person;
            if person && t.id.is_some() && (p[3] - d.bbox[3]).abs() > feet * height {
                return 0.0;
            }
            let overlap = iou(p, &d.bbox);
            if reach <= 0.0 {
                return overlap;
            }
            let (a, b) = (measure(*p), measure(d.bbox));
            let limit = reach * (a[3] + b[3]) / 2.0;
            let near = 1.0 - (a[0] - b[0]).hypot(a[1] - b[1]) / limit.max(1e-9);
            overlap.max(near as f32)
        };
        let pairs = assign(tracks.len(), free.len(), sim, min_iou);
        for (r, c) in pairs {
            let d = free[c];
            used[d] = true;
            let t = &mut self.tracks[tracks[r]];
            t.filter.update(dets[d].bbox);
            t.votes.add(dets[d].class, dets[d].score);
            t.class = t.votes.winner(t.class);
            t.hits += 1;
            t.last_seen_s = time_s;
            t.matched_now = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rider_and_the_bicycle_under_them_are_one_box_and_one_track() {
        let person = |x: f32| Detection { class: ObjectClass::Person, score: 0.7, bbox: [x, 100.0, x + 30.0, 190.0] };
        let bike =
            |x: f32| Detection { class: ObjectClass::Bicycle, score: 0.4, bbox: [x - 5.0, 150.0, x + 35.0, 200.0] };
        // The cyclist at x = 100 and a walker at x = 300.
        let merged = merge_riders(&[person(300.0), person(100.0), bike(100.0)]);
        assert_eq!(merged.len(), 2, "{merged:?}");
        assert_eq!(merged[0].class, ObjectClass::Bicycle);
        assert_eq!(merged[0].bbox, [95.0, 100.0, 135.0, 200.0]);
        assert_eq!(merged[0].score, 0.7);
        assert_eq!(merged[1], person(300.0));
        // Over 3 s, the bicycle under the rider is found in two frames of
        // five: one track, counted as a bicycle; the walker stays a person.
        let mut t = Tracker::new(TrackerConfig::default());
        let mut classes = std::collections::BTreeMap::new();
        for f in 0..30 {
            let x = 100.0 + 6.0 * f as f32;
            let mut dets = vec![person(x), person(400.0 - 2.0 * f as f32)];
            if f % 5 < 2 {
                dets.push(bike(x));
            }
            for o in t.update(f as f64 * 0.1, &dets) {
                classes.insert(o.id, o.class);
            }
        }
        let found: Vec<ObjectClass> = classes.values().copied().collect();
        assert_eq!(found, [ObjectClass::Bicycle, ObjectClass::Person], "{classes:?}");
    }

    #[test]
    fn a_vehicle_whose_label_flickers_keeps_one_track_of_its_majority_class() {
        let mut t = Tracker::new(TrackerConfig::default());
        let mut ids = std::collections::BTreeSet::new();
        let mut last_class = None;
        for f in 0..30 {
            let x = 10.0 + 8.0 * f as f32;
            // Called a truck three frames running after every six as a car.
            let class = if (f / 3) % 3 == 2 { ObjectClass::Truck } else { ObjectClass::Car };
            let d = Detection { class, score: 0.6, bbox: [x, 200.0, x + 120.0, 260.0] };
            for o in t.update(f as f64 * 0.1, &[d]) {
                ids.insert(o.id);
                last_class = Some(o.class);
            }
        }
        assert_eq!(ids.len(), 1, "tracks {ids:?}");
        // The track takes the class most of its boxes gave it.
        assert_eq!(last_class, Some(ObjectClass::Car));
        // A person never continues a vehicle's track, nor a vehicle a person's.
        let mut t = Tracker::new(TrackerConfig::default());
        let mut ids = std::collections::BTreeSet::new();
        for f in 0..30 {
            let class = if f < 15 { ObjectClass::Person } else { ObjectClass::Car };
            let d = Detection { class, score: 0.9, bbox: [100.0, 100.0, 140.0, 200.0] };
            ids.extend(t.update(f as f64 * 0.1, &[d]).iter().map(|o| o.id));
        }
        assert_eq!(ids.len(), 2, "tracks {ids:?}");
    }

    fn det(x: f32, score: f32) -> Detection {
        Detection { class: ObjectClass::Person, score, bbox: [x, 100.0, x + 30.0, 180.0] }
    }

    fn tracked(obs: &[TrackObservation]) -> Vec<u64> {
        obs.iter().filter(|o| o.state == TrackState::Tracked).map(|o| o.id).collect()
    }

    #[test]
    fn a_walker_gets_one_id_after_confirmation_and_keeps_it() {
        let mut t = Tracker::new(TrackerConfig { min_hits: 3, ..Default::default() });
        assert!(t.update(0.0, &[det(0.0, 0.9)]).is_empty());
        assert!(t.update(0.1, &[det(5.0, 0.9)]).is_empty());
        let third = t.update(0.2, &[det(10.0, 0.9)]);
        assert_eq!(tracked(&third).len(), 1);
        let id = third[0].id;
        // A weak detection keeps the track tracked; a missed frame only makes it coast.
        assert_eq!(tracked(&t.update(0.3, &[det(15.0, 0.2)])), [id]);
        let coasting = t.update(0.4, &[]);
        assert_eq!(coasting.len(), 1);
        assert_eq!(coasting[0].state, TrackState::Lost);
        // The prediction moved on at the walker's speed (50 px/s).
        assert!((coasting[0].bbox[0] - 20.0).abs() < 3.0, "{:?}", coasting[0].bbox);
        assert_eq!(tracked(&t.update(0.5, &[det(25.0, 0.9)])), [id]);
        assert_eq!(t.confirmed_total(), 1);
    }

    #[test]
    fn a_one_frame_false_positive_never_gets_an_id() {
        let mut t = Tracker::new(TrackerConfig::default());
        t.update(0.0, &[det(300.0, 0.9)]);
        for i in 1..6 {
            assert!(t.update(i as f64 * 0.1, &[]).is_empty());
        }
        assert_eq!(t.confirmed_total(), 0);
    }

    #[test]
    fn flicker_every_other_frame_never_confirms() {
        let mut t = Tracker::new(TrackerConfig::default());
        for i in 0..20 {
            let dets = if i % 2 == 0 { vec![det(100.0, 0.9)] } else { vec![] };
            t.update(i as f64 * 0.1, &dets);
        }
        assert_eq!(t.confirmed_total(), 0);
    }

    #[test]
    fn a_lost_track_lives_for_seconds_whatever_the_frame_rate() {
        for fps in [10.0, 2.0] {
            let mut t = Tracker::new(TrackerConfig { max_lost_s: 1.0, ..Default::default() });
            let mut time = 0.0;
            for _ in 0..3 {
                t.update(time, &[det(100.0, 0.9)]);
                time += 1.0 / fps;
            }
            let id = t.update(time, &[det(100.0, 0.9)])[0].id;
            let seen = time;
            // Alive (coasting) until 1 s after it was last seen, gone after.
            while time < seen + 0.99 {
                time += 1.0 / fps;
                let alive = t.update(time, &[]);
                if time - seen <= 1.0 {
                    assert_eq!(alive.iter().map(|o| o.id).collect::<Vec<_>>(), [id], "fps {fps}, {time}");
                }
            }
            assert!(t.update(seen + 1.2, &[]).is_empty(), "fps {fps}");
        }
    }

    #[test]
    fn a_striding_walker_hidden_for_half_a_second_keeps_its_id() {
        // A walker 90 px tall at 60 px/s whose box swings between 18 and 40
        // px wide with its stride, as YOLOv4-tiny boxes rendered walkers,
        // passes behind something for five frames just as its box narrows.
        let mut t = Tracker::new(TrackerConfig::default());
        let walker = |i: usize| {
            let cx = 100.0 + 6.0 * i as f32;
            let w = [18.0, 24.0, 32.0, 40.0, 40.0, 32.0, 24.0, 18.0][i % 8];
            Detection { class: ObjectClass::Person, score: 0.9, bbox: [cx - w / 2.0, 100.0, cx + w / 2.0, 190.0] }
        };
        let mut id = None;
        for i in 0..30 {
            let hidden = (16..21).contains(&i);
            let dets = if hidden { vec![] } else { vec![walker(i)] };
            let obs = t.update(i as f64 * 0.1, &dets);
            if !hidden && let Some(o) = obs.first() {
                assert_eq!(*id.get_or_insert(o.id), o.id, "frame {i}: {obs:?}");
            }
        }
        assert_eq!(t.confirmed_total(), 1);
    }

    #[test]
    fn a_walker_filmed_at_two_frames_a_second_gets_one_id() {
        // 90 px tall, 60 px/s: 30 px between frames, boxes 22 px wide never
        // overlap from one frame to the next.
        let mut t = Tracker::new(TrackerConfig::default());
        let mut ids = Vec::new();
        for i in 0..8 {
            let x = 30.0 * i as f32;
            let d = Detection { class: ObjectClass::Person, score: 0.9, bbox: [x, 100.0, x + 22.0, 190.0] };
            ids.extend(t.update(f64::from(i) * 0.5, &[d]).iter().map(|o| o.id));
        }
        assert_eq!(ids.len(), 7, "confirmed on the second frame and kept: {ids:?}");
        assert!(ids.iter().all(|&id| id == ids[0]), "{ids:?}");
        // The reach is a speed: a box as far away a tenth of a second later
        // is someone else, and alternating boxes never confirm.
        let mut t = Tracker::new(TrackerConfig::default());
        for i in 0..8 {
            let x = if i % 2 == 0 { 0.0 } else { 30.0 };
            t.update(
                f64::from(i) * 0.1,
                &[Detection { class: ObjectClass::Person, score: 0.9, bbox: [x, 100.0, x + 22.0, 190.0] }],
            );
        }
        assert_eq!(t.confirmed_total(), 0);
    }

    #[test]
    fn a_track_does_not_jump_to_someone_standing_further_back() {
        // A walker goes right (box 80 px tall, feet at y = 180). In frame 5
        // it is hidden and the only box is someone standing further back
        // (feet at y = 145, 0.44 box heights higher), overlapping the
        // walker's predicted box at IoU 0.41: the walker's track coasts
        // instead of taking it, and takes the walker up again.
        let mut t = Tracker::new(TrackerConfig::default());
        let walker = |i: usize| Detection {
            class: ObjectClass::Person,
            score: 0.9,
            bbox: [i as f32 * 8.0, 100.0, i as f32 * 8.0 + 30.0, 180.0],
        };
        let standing = Detection { class: ObjectClass::Person, score: 0.9, bbox: [40.0, 70.0, 70.0, 145.0] };
        let mut first = None;
        for i in 0..10 {
            let dets = match i {
                5 => vec![standing],
                6.. => vec![walker(i), standing],
                _ => vec![walker(i)],
            };
            let obs = t.update(i as f64 * 0.1, &dets);
            let on_walker =
                obs.iter().find(|o| o.state == TrackState::Tracked && (o.bbox[3] - 180.0).abs() < 5.0).map(|o| o.id);
            if i == 5 {
                let jumped = obs.iter().any(|o| o.state == TrackState::Tracked && (o.bbox[3] - 145.0).abs() < 10.0);
                assert!(!jumped, "the walker's track took the standing person's box: {obs:?}");
            } else if let Some(id) = on_walker {
                assert_eq!(*first.get_or_insert(id), id, "frame {i}: the walker changed track");
            }
        }
        assert!(first.is_some());
    }

    #[test]
    fn the_feet_gate_is_for_people_not_vehicles() {
        // A car coming towards the camera: its box grows at the bottom
        // faster than the filter predicts (sizes follow a random walk), by
        // 0.4 box heights (50 px of a 125-px mean) in one frame. It keeps
        // its track; the same jump of a person's box starts a new one.
        for (class, same) in [(ObjectClass::Car, true), (ObjectClass::Person, false)] {
            let mut t = Tracker::new(TrackerConfig::default());
            let mut ids = Vec::new();
            for i in 0..8 {
                let bottom = if i < 5 { 200.0 } else { 250.0 };
                let d = Detection { class, score: 0.9, bbox: [100.0, 100.0, 160.0, bottom] };
                ids.extend(
                    t.update(f64::from(i) * 0.1, &[d]).iter().filter(|o| o.state == TrackState::Tracked).map(|o| o.id),
                );
            }
            assert_eq!(ids.iter().all(|&id| id == ids[0]), same, "{class:?}: {ids:?}");
        }
    }

    #[test]
    fn the_feet_gate_widens_when_frames_are_far_apart() {
        // The same jump of a person's feet (0.4 box heights) between two
        // frames: a new track at 10 frames a second, the same track at one.
        for (dt, same) in [(0.1, false), (1.0, true)] {
            let mut t = Tracker::new(TrackerConfig::default());
            let mut ids = Vec::new();
            for i in 0..8 {
                let bottom = if i < 5 { 200.0 } else { 250.0 };
                let d = Detection { class: ObjectClass::Person, score: 0.9, bbox: [100.0, 100.0, 160.0, bottom] };
                let obs = t.update(f64::from(i) * dt, &[d]);
                ids.extend(obs.iter().filter(|o| o.state == TrackState::Tracked).map(|o| o.id));
            }
            assert_eq!(ids.iter().all(|&id| id == ids[0]), same, "{dt} s apart: {ids:?}");
        }
    }

    #[test]
    fn two_walkers_passing_each_other_keep_their_ids() {
        // One walks right, one left, on rows 10 px apart: their boxes overlap
        // as they pass. Optimal assignment with motion prediction keeps ids.
        let mut t = Tracker::new(TrackerConfig::default());
        let mut ids = None;
        for i in 0..30 {
            let time = i as f64 * 0.1;
            let a = Detection {
                class: ObjectClass::Person,
                score: 0.9,
                bbox: [i as f32 * 8.0, 100.0, i as f32 * 8.0 + 30.0, 180.0],
            };
            let bx = 240.0 - i as f32 * 8.0;
            let b = Detection { class: ObjectClass::Person, score: 0.9, bbox: [bx, 110.0, bx + 30.0, 190.0] };
            let obs = t.update(time, &[a, b]);
            if obs.len() == 2 {
                let left = obs.iter().min_by(|p, q| p.origin[0].total_cmp(&q.origin[0])).map(|o| (o.id, o.bbox[0]));
                let Some((id_a, x_a)) = left else { continue };
                assert!((x_a - a.bbox[0]).abs() < 6.0, "frame {i}: track {id_a} of the walker going right is at {x_a}");
                ids.get_or_insert(id_a);
                assert_eq!(ids, Some(id_a));
            }
        }
        assert_eq!(t.confirmed_total(), 2);
    }

    #[test]
    fn assignment_is_optimal_not_greedy() {
        // Greedy would take the best pair (0,0)=0.9 and leave row 1 with
        // nothing; the optimum pairs (0,1) and (1,0).
        let m = [[0.9, 0.8], [0.85, 0.0]];
        let pairs = assign(2, 2, |r, c| m[r][c], 0.2);
        assert_eq!(pairs, [(0, 1), (1, 0)]);
        // More rows than columns works too, and the gate drops weak pairs.
        let pairs = assign(3, 1, |r, _| [0.1, 0.5, 0.3][r], 0.2);
        assert_eq!(pairs, [(1, 0)]);
    }
}
