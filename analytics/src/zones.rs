//! Zone counters: how many confirmed tracks stand in each zone of a camera
//! (occupancy), and how long each stays (dwell), per COCO class.
//!
//! A zone is a polygon on the ground (through the camera's calibration) or
//! in the image (real footage without calibration); a track is inside when
//! its foot point (the bottom centre of its box) is. Occupancy is sampled on
//! every analysed frame and averaged per interval (a track lost for a
//! moment during an open visit still counts); a visit runs from the
//! first to the last analysed frame a track is seen inside, through gaps of
//! up to [`VISIT_GAP_S`] (a frame where the track is lost or its foot point
//! jitters over the edge does not end it), and belongs to the interval in
//! which it began. A track born inside a zone near where another was just
//! lost goes on with its visit ([`RESUME_S`], [`RESUME_M`]): someone
//! standing still in a crowd is found again under a new id, by place and
//! time only. Only counts and durations come out, never a track's path.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::counter::apply_homography;
use crate::detector::ObjectClass;
use crate::tracker::{TrackObservation, TrackState};

/// The shape of a zone.
#[derive(Debug, Clone, PartialEq)]
pub enum ZoneShape {
    /// Corners on the ground, metres (needs the calibration).
    Ground(Vec<[f64; 2]>),
    /// Corners in native image pixels.
    Image(Vec<[f64; 2]>),
}

/// One zone a camera watches.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneSpec {
    /// The zone's id in outputs.
    pub id: String,
    /// Its shape.
    pub shape: ZoneShape,
}

/// One finished (or, at the end, cut) stay of a track in a zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Visit {
    /// Index of the zone.
    pub zone: usize,
    /// The track's class.
    pub class: ObjectClass,
    /// First analysed frame inside, seconds.
    pub enter_s: f64,
    /// Last analysed frame inside, seconds.
    pub exit_s: f64,
}

/// Per-interval zone figures: what a device would emit for a zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneInterval {
    /// Interval start, seconds.
    pub start_s: u32,
    /// Interval end, seconds.
    pub end_s: u32,
    /// The zone's id.
    pub zone: String,
    /// The class.
    pub class: &'static str,
    /// Mean number inside over the interval's samples.
    pub mean_occupancy: f64,
    /// Most inside at once.
    pub max_occupancy: u32,
    /// Visits that began in the interval.
    pub visits: u32,
    /// Their mean dwell, seconds (empty without visits).
    pub mean_dwell_s: Option<f64>,
}

/// Column names of a zone file, in [`ZoneInterval`] field order.
pub const ZONE_HEADER: [&str; 8] =
    ["start_s", "end_s", "zone", "class", "mean_occupancy", "max_occupancy", "visits", "mean_dwell_s"];

/// Longest absence, seconds, that does not end a track's visit: a track
/// missed for a frame or two, or whose foot point steps over the zone's edge
/// and back, is still the same stay. One second is ten frames at 10 fps and
/// still one at 1 fps.
pub const VISIT_GAP_S: f64 = 1.0;

/// A track born at most this long ago, seconds, may go on with a visit
/// whose own track was lost: someone standing still in a crowd is found
/// again under a new track id when the tracker lost them for a while.
pub const NEW_TRACK_S: f64 = 1.0;

/// How long after its track was last measured inside a visit may still be
/// taken over by a new track, seconds.
pub const RESUME_S: f64 = 3.0;

/// How far from where a visit's track was last measured a new track may be
/// to take it over: metres on the ground ...
pub const RESUME_M: f64 = 0.7;

/// ... or, for image zones, box heights in pixels.
pub const RESUME_BOX_HEIGHTS: f64 = 0.4;

fn inside(polygon: &[[f64; 2]], p: [f64; 2]) -> bool {
    let mut yes = false;
    let n = polygon.len();
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[(i + n - 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]) {
            yes = !yes;
        }
    }
    yes
}

/// Samples occupancy and follows visits for every zone of a camera.
#[derive(Debug, Clone)]
pub struct ZoneCounter {
    zones: Vec<ZoneSpec>,
    image_to_ground: Option<[[f64; 3]; 3]>,
    native_width: u32,
    /// (time, zone, class, count) for every analysed frame, zeros included.
    samples: Vec<(f64, usize, ObjectClass, u32)>,
    /// Open visits by (zone, track).
    open: BTreeMap<(usize, u64), Stay>,
    /// Visits closed less than [`RESUME_S`] ago: a new track may still go
    /// on with one.
    ended: Vec<Stay>,
    visits: Vec<Visit>,
}

/// A visit with where its track was last measured inside (in the zone's
/// coordinates) and how far from there a new track may be to go on with it.
#[derive(Debug, Clone, Copy)]
struct Stay {
    visit: Visit,
    at: [f64; 2],
    reach: f64,
}

/// Where a visit that a new track goes on with is kept.
enum Taken {
    Open((usize, u64)),
    Ended(usize),
}

impl ZoneCounter {
    /// A counter for `zones`; ground zones need `image_to_ground`.
    pub fn new(zones: Vec<ZoneSpec>, image_to_ground: Option<[[f64; 3]; 3]>, native_width: u32) -> Self {
        Self {
            zones,
            image_to_ground,
            native_width,
            samples: Vec::new(),
            open: BTreeMap::new(),
            ended: Vec::new(),
            visits: Vec::new(),
        }
    }

    /// Consumes one analysed frame's tracks (`frame_width` undoes downscaling).
    pub fn update(&mut self, time_s: f64, frame_width: u32, tracks: &[TrackObservation]) {
        let scale = f64::from(self.native_width) / f64::from(frame_width.max(1));
        let mut seen = std::collections::BTreeSet::new();
        let tracked_now: std::collections::BTreeSet<u64> =
            tracks.iter().filter(|t| t.state == TrackState::Tracked).map(|t| t.id).collect();
        // Taken out while the frame is read, as `resume` changes the visits.
        let zones = std::mem::take(&mut self.zones);
        for (z, zone) in zones.iter().enumerate() {
            let mut counts: BTreeMap<ObjectClass, u32> = ObjectClass::ALL.iter().map(|c| (*c, 0)).collect();
            for t in tracks {
                if t.state == TrackState::Lost {
                    // A track missed for a moment in the middle of a stay is
                    // still there (its visit goes on): it still counts.
                    if self.open.get(&(z, t.id)).is_some_and(|s| time_s - s.visit.exit_s <= VISIT_GAP_S) {
                        *counts.entry(t.class).or_default() += 1;
                    }
                    continue;
                }
                let foot = [f64::from(t.bbox[0] + t.bbox[2]) / 2.0 * scale, f64::from(t.bbox[3]) * scale];
                // The foot in the zone's coordinates, and how far a track
                // that takes over from this one may be from it.
                let at = match &zone.shape {
                    ZoneShape::Image(p) => {
                        inside(p, foot).then_some((foot, RESUME_BOX_HEIGHTS * f64::from(t.bbox[3] - t.bbox[1]) * scale))
                    }
                    ZoneShape::Ground(p) => self
                        .image_to_ground
                        .as_ref()
                        .and_then(|h| apply_homography(h, foot))
                        .filter(|g| inside(p, *g))
                        .map(|g| (g, RESUME_M)),
                };
                let Some((point, reach)) = at else { continue };
                *counts.entry(t.class).or_default() += 1;
                seen.insert((z, t.id));
                let visit = match self.open.get(&(z, t.id)) {
                    Some(s) => s.visit,
                    None => (time_s - t.origin_time_s <= NEW_TRACK_S)
                        .then(|| self.resume(z, t.class, point, time_s, &tracked_now))
                        .flatten()
                        .unwrap_or(Visit { zone: z, class: t.class, enter_s: time_s, exit_s: time_s }),
                };
                self.open.insert((z, t.id), Stay { visit: Visit { exit_s: time_s, ..visit }, at: point, reach });
            }
            for (class, n) in counts {
                self.samples.push((time_s, z, class, n));
            }
        }
        self.zones = zones;
        let (gone, open): (BTreeMap<_, _>, BTreeMap<_, _>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|(k, s)| !seen.contains(k) && time_s - s.visit.exit_s > VISIT_GAP_S);
        self.open = open;
        self.ended.extend(gone.into_values());
        let (old, recent): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.ended).into_iter().partition(|s| time_s - s.visit.exit_s > RESUME_S);
        self.visits.extend(old.into_iter().map(|s| s.visit));
        self.ended = recent;
    }

    /// The visit a track just born at `point` in zone `z` goes on with: the
    /// nearest, within its reach, of the visits of that zone and class whose
    /// track was last measured inside less than [`RESUME_S`] ago and is not
    /// measured now (lost, or ended). Taken out of where it was.
    fn resume(
        &mut self,
        z: usize,
        class: ObjectClass,
        point: [f64; 2],
        time_s: f64,
        tracked_now: &std::collections::BTreeSet<u64>,
    ) -> Option<Visit> {
        let dist = |a: [f64; 2]| (a[0] - point[0]).hypot(a[1] - point[1]);
        let fits = |s: &Stay| {
            s.visit.zone == z && s.visit.class == class && time_s - s.visit.exit_s <= RESUME_S && dist(s.at) <= s.reach
        };
        let open = self
            .open
            .iter()
            .filter(|(k, s)| !tracked_now.contains(&k.1) && fits(s))
            .map(|(k, s)| (dist(s.at), Taken::Open(*k)));
        let ended = self.ended.iter().enumerate().filter(|(_, s)| fits(s)).map(|(i, s)| (dist(s.at), Taken::Ended(i)));
        let (_, best) = open.chain(ended).min_by(|a, b| a.0.total_cmp(&b.0))?;
        match best {
            Taken::Open(k) => self.open.remove(&k).map(|s| s.visit),
            Taken::Ended(i) => Some(self.ended.remove(i).visit),
        }
    }

    /// Per-interval figures for a run of `duration_s`, every zone and class;
    /// visits still open at the end are cut there.
    pub fn finish(&mut self, interval_s: u32, duration_s: f64) -> Vec<ZoneInterval> {
        let open = std::mem::take(&mut self.open).into_values();
        let ended = std::mem::take(&mut self.ended);
        self.visits.extend(open.chain(ended).map(|s| s.visit));
        let ids: Vec<String> = self.zones.iter().map(|z| z.id.clone()).collect();
        let samples: Vec<(f64, usize, ObjectClass, f64)> =
            self.samples.iter().map(|&(t, z, c, n)| (t, z, c, f64::from(n))).collect();
        zone_intervals(&ids, &samples, None, &self.visits, interval_s, duration_s)
    }
}

/// Per-interval zone figures from occupancy samples `(time, zone, class,
/// count)` and visits. `samples_per_interval` gives how many samples an
/// interval has when absent samples mean zero (ground truth lists only
/// occupied steps); `None` counts the samples given.
pub fn zone_intervals(
    zones: &[String],
    samples: &[(f64, usize, ObjectClass, f64)],
    samples_per_interval: Option<f64>,
    visits: &[Visit],
    interval_s: u32,
    duration_s: f64,
) -> Vec<ZoneInterval> {
    let interval = f64::from(interval_s.max(1));
    let buckets = (duration_s / interval).ceil().max(1.0) as u32;
    let bucket = |t: f64| ((t.max(0.0) / interval).floor() as u32).min(buckets - 1);
    let mut sums: BTreeMap<(u32, usize, ObjectClass), (f64, f64, u32)> = BTreeMap::new();
    let mut frames: BTreeMap<u32, std::collections::BTreeSet<u64>> = BTreeMap::new();
    for &(t, z, c, n) in samples {
        let e = sums.entry((bucket(t), z, c)).or_default();
        e.0 += n;
        e.1 = e.1.max(n);
        frames.entry(bucket(t)).or_default().insert((t * 1e6).round() as u64);
    }
    let mut dwell: BTreeMap<(u32, usize, ObjectClass), (u32, f64)> = BTreeMap::new();
    for v in visits {
        let e = dwell.entry((bucket(v.enter_s), v.zone, v.class)).or_default();
        e.0 += 1;
        e.1 += v.exit_s - v.enter_s;
    }
    let mut out = Vec::new();
    for b in 0..buckets {
        let n = samples_per_interval.unwrap_or_else(|| frames.get(&b).map_or(0, |f| f.len()) as f64);
        for (z, id) in zones.iter().enumerate() {
            for class in ObjectClass::ALL {
                let (sum, max, _) = sums.get(&(b, z, class)).copied().unwrap_or_default();
                let (visits, total) = dwell.get(&(b, z, class)).copied().unwrap_or_default();
                out.push(ZoneInterval {
                    start_s: b * interval_s,
                    end_s: ((b + 1) * interval_s).min(duration_s.ceil() as u32),
                    zone: id.clone(),
                    class: class.name(),
                    mean_occupancy: if n > 0.0 { sum / n } else { 0.0 },
                    max_occupancy: max as u32,
                    visits,
                    mean_dwell_s: (visits > 0).then(|| total / f64::from(visits)),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(id: u64, x: f32) -> TrackObservation {
        TrackObservation {
            id,
            class: ObjectClass::Person,
            bbox: [x - 5.0, 0.0, x + 5.0, 50.0],
            state: TrackState::Tracked,
            origin: [x - 5.0, 0.0, x + 5.0, 50.0],
            origin_time_s: 0.0,
        }
    }

    /// An image zone from x = 100 to `right`, y = 0 to 100.
    fn image_zone(right: f64) -> ZoneSpec {
        ZoneSpec {
            id: "z".into(),
            shape: ZoneShape::Image(vec![[100.0, 0.0], [right, 0.0], [right, 100.0], [100.0, 100.0]]),
        }
    }

    #[test]
    fn occupancy_and_dwell_follow_tracks_through_an_image_zone() {
        let zone = image_zone(200.0);
        let mut c = ZoneCounter::new(vec![zone], None, 320);
        // Track 1 walks through from x = 50 to 250 in 1 s steps; track 2 stands inside.
        for (i, x) in [50.0, 150.0, 160.0, 170.0, 250.0].into_iter().enumerate() {
            c.update(i as f64, 320, &[track(1, x), track(2, 120.0)]);
        }
        let out = c.finish(10, 5.0);
        let person = out.iter().find(|r| r.class == "person").expect("person row");
        assert!((person.mean_occupancy - 8.0 / 5.0).abs() < 1e-9, "{person:?}");
        assert_eq!(person.max_occupancy, 2);
        assert_eq!(person.visits, 2);
        // Walker inside from t = 1 to 3 (2 s), stander 0 to 4 (4 s).
        assert_eq!(person.mean_dwell_s, Some(3.0));
        let car = out.iter().find(|r| r.class == "car").expect("car row");
        assert_eq!((car.mean_occupancy, car.visits), (0.0, 0));
    }

    #[test]
    fn a_stay_goes_on_through_a_short_gap_and_ends_at_a_long_one() {
        let zone = image_zone(200.0);
        let mut c = ZoneCounter::new(vec![zone], None, 320);
        // At 10 fps for 20 s, someone stands at x = 150: lost for two frames
        // at 3 s, its foot over the edge for three at 6 s, then gone from 10
        // to 12 s.
        for i in 0..200 {
            let t = f64::from(i) / 10.0;
            let mut tr = track(1, if (6.0..6.25).contains(&t) { 210.0 } else { 150.0 });
            if (3.0..3.15).contains(&t) {
                tr.state = TrackState::Lost;
            }
            let tracks = if (10.0..12.0).contains(&t) { vec![] } else { vec![tr] };
            c.update(t, 320, &tracks);
        }
        let out = c.finish(60, 20.0);
        let person = out.iter().find(|r| r.class == "person").expect("person row");
        assert_eq!(person.visits, 2, "{person:?}");
        // Inside in 177 of 200 frames: not while gone (20) or over the edge
        // (3), but while lost for two frames in the middle of the stay.
        assert!((person.mean_occupancy - 0.885).abs() < 1e-9, "{person:?}");
        // 0 to 9.9 s and 12 to 19.9 s: 9.9 and 7.9 s.
        assert!((person.mean_dwell_s.unwrap_or(0.0) - 8.9).abs() < 1e-6, "{person:?}");
    }

    #[test]
    fn a_new_track_where_a_stay_was_lost_goes_on_with_it() {
        let zone = image_zone(300.0);
        // 10 fps for 10 s: track 1 stands at x = 150 until 4 s; a track born
        // at `x` (boxes 50 px tall) takes its place from `from` s, born then
        // or, when `walked_in`, 5 s earlier outside the zone.
        let run = |x: f32, from: f64, walked_in: bool| {
            let mut c = ZoneCounter::new(vec![zone.clone()], None, 320);
            for i in 0..100 {
                let t = f64::from(i) / 10.0;
                let mut tracks = Vec::new();
                if t < 4.0 {
                    tracks.push(track(1, 150.0));
                }
                if t >= from {
                    let origin_time_s = if walked_in { from - 5.0 } else { from };
                    tracks.push(TrackObservation { origin_time_s, ..track(2, x) });
                }
                c.update(t, 320, &tracks);
            }
            let out = c.finish(60, 10.0);
            out.into_iter().find(|r| r.class == "person").map(|r| (r.visits, r.mean_dwell_s))
        };
        // Found again 1.5 s later, 10 px (0.2 box heights) off: one stay of 9.9 s.
        let (visits, dwell) = run(160.0, 5.5, false).expect("row");
        assert_eq!(visits, 1);
        assert!((dwell.unwrap_or(0.0) - 9.9).abs() < 1e-6, "{dwell:?}");
        // Found again while the old track's visit is still open.
        assert_eq!(run(160.0, 4.3, false).map(|r| r.0), Some(1), "0.4 s later");
        // Too far off, too late, or someone who walked in: two stays.
        assert_eq!(run(180.0, 5.5, false).map(|r| r.0), Some(2), "30 px off");
        assert_eq!(run(160.0, 7.5, false).map(|r| r.0), Some(2), "3.6 s later");
        assert_eq!(run(160.0, 5.5, true).map(|r| r.0), Some(2), "walked in");
    }

    #[test]
    fn downscaled_frames_are_mapped_back_and_ground_zones_use_the_calibration() {
        // Pixels are centimetres on the ground.
        let h = [[0.01, 0.0, 0.0], [0.0, 0.01, 0.0], [0.0, 0.0, 1.0]];
        let zone =
            ZoneSpec { id: "g".into(), shape: ZoneShape::Ground(vec![[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0]]) };
        let mut c = ZoneCounter::new(vec![zone], Some(h), 320);
        // At half resolution, x = 75 is native x = 150: 1.5 m, inside.
        c.update(0.0, 160, &[TrackObservation { bbox: [70.0, 0.0, 80.0, 25.0], ..track(1, 0.0) }]);
        let out = c.finish(10, 1.0);
        assert_eq!(out[0].max_occupancy, 1);
    }
}
