//! Line counting: several directional lines per camera, each with its own id.
//!
//! A line is either a segment on the ground (rendered scenes, or real footage
//! with a ground calibration), where each confirmed track's foot point
//! (bottom centre of its box) is mapped to the ground through the camera's
//! image → ground homography and distances are in metres; or a polyline in
//! image pixels (real footage without calibration), where distances are in
//! native pixels.
//!
//! Hysteresis: a track's side of a line changes only when its foot is beyond
//! a dead band on the other side, so foot-point jitter, a box that shrinks
//! when the legs are hidden, and flicker near the line do not count twice.
//! Every change of side counts, not only a track's first in each direction:
//! in a crowd one track can follow several people in turn (an identity
//! switch), and each of their crossings is real. Only measured boxes move a
//! track's side (a coasting track's prediction does not), so a walker
//! hidden while crossing counts when it reappears on the far side. A track
//! confirmed late starts from the side where its first detection was.
//!
//! Births at the line: nobody appears out of nowhere next to a counting
//! line, so a track whose first detection was within [`BIRTH_BANDS`] dead
//! bands of the line is a walker whose earlier track was lost there (behind
//! or merged with others, the commonest way a crossing went uncounted on the
//! demo street). When it has moved away from the line (a quarter of a dead
//! band beyond where it started, and out of the band), it counts as having
//! crossed from the other side, at the time its motion puts it on the line.
//! A person standing at the line never leaves the band and never counts.
//!
//! Handovers: a track first seen further past the line (up to
//! [`HANDOVER_BANDS`] dead bands), walking away from it, where another track
//! vanished near the line on the other side less than [`HANDOVER_S`] before,
//! is that walker found again: it counts the crossing, timed between where
//! the two were seen. Either way the vanished track is moved to the far side,
//! so that it cannot count the same crossing again if it is found.
//!
//! Found again where it was: a track that a rule moved to the far side while
//! it went unmeasured (its crossing handed over, or carried over as a hidden
//! companion) and that is measured again off the band on the side it was
//! moved from never crossed: the rule's guess about it was wrong, or it has
//! taken up someone else there. It goes back to that side without counting
//! a crossing back. Counted, that crossing back was an extra count in half
//! of the cases on the busy sidewalk, and the tracks that counted one
//! direction twice within 3 s were nearly all of this kind
//! (docs/PERFORMANCE.md, "Tracks found again where they were").
//!
//! Hidden companions: two people walking together, one behind the other
//! as the camera sees them, often become one box near the line. A track
//! that stops being measured while its last box lies mostly inside the box
//! of a track that goes on (a track seen apart for at least
//! [`HIDDEN_MIN_AGE_S`], walking towards the line) is hidden behind it; if
//! the one in front crosses the line within [`HIDDEN_S`], in the direction
//! the hidden one was walking, from the side it was last seen on, the
//! hidden one counts the same crossing and moves to the far side.
//!
//! Swaps at the line: two walkers crossing in opposite directions meet at
//! the line, where their boxes overlap, and their tracks may trade walkers
//! inside the dead band: each track then goes into the band and comes back
//! out on the side it came from, and neither crossing counts. Two tracks
//! that turn back in the band from opposite sides, at the same time
//! ([`SWAP_SLACK_S`]) and place ([`SWAP_BANDS`]), count both crossings,
//! provided each walked into the band and back out of it
//! ([`SWAP_AWAY_BANDS`]): a track on someone standing near the line, in
//! and out of the band, is no half of a swap.
//!
//! Turn-back handovers: when only one of the two tracks of a swap turns
//! back in the band, the other having lost its walker before reaching the
//! line, the walker the turned-back track carried in is often found again
//! past the line by a new track. A track first seen past the line (within
//! [`HANDOVER_BANDS`], walking away, with no vanished track to take over
//! from) while a track that came from the other side was in the band, or
//! up to [`HANDOVER_S`] after it turned back, within [`SWAP_BANDS`] of it
//! along the line, takes over that crossing; each turn-back and each new
//! track serves once.
//!
//! One two-wheeler, one count: a cyclist is often two tracks, their own
//! and their bicycle's (the rider's box and the bicycle's are merged only
//! where they overlap enough, see `tracker::merge_riders`), and both count
//! as a two-wheeler (the rider by its votes or its speed). On a ground line,
//! a two-wheeler's count within [`RIDER_PAIR_S`] and [`RIDER_PAIR_M`] of
//! another's, same line and direction, from another track, is the same
//! rider and is dropped.
//!
//! The crossing time is interpolated between the last measurement on the old
//! side and the first on the new one, so a crossing belongs to the interval
//! in which it happened, not to the frame in which the counter noticed it.

use std::collections::HashMap;

pub use camtwin_vocab::Direction;

use crate::detector::ObjectClass;
use crate::tracker::{TrackObservation, TrackState};

/// Where a counting line lies.
#[derive(Debug, Clone, PartialEq)]
pub enum LineShape {
    /// A segment on the ground, metres (east, north); needs a calibration.
    Ground {
        /// First end.
        from: [f64; 2],
        /// Second end.
        to: [f64; 2],
    },
    /// A polyline in native image pixels (x right, y down), two points or more.
    Image {
        /// The vertices.
        points: Vec<[f64; 2]>,
    },
}

/// A counting line. Crossing it from its left to its right, looking along it
/// from its first point towards its last, is [`Direction::Positive`]: on the
/// ground as on a map seen from above, in image pixels as on the screen (a
/// line drawn from the top of the screen to the bottom has its left on the
/// screen's right).
#[derive(Debug, Clone, PartialEq)]
pub struct LineSpec {
    /// Identifier used in outputs.
    pub id: String,
    /// Its geometry.
    pub shape: LineShape,
    /// Half-width of the dead band around the line: metres for ground lines,
    /// native pixels for image lines.
    pub dead_band: f64,
}

/// The lines of one camera and what is needed to use them.
#[derive(Debug, Clone, PartialEq)]
pub struct CountingGeometry {
    /// The lines, in output order.
    pub lines: Vec<LineSpec>,
    /// Native image → ground homography, for ground lines.
    pub image_to_ground: Option<[[f64; 3]; 3]>,
    /// Native image width, pixels (to map downscaled frames back).
    pub native_width: u32,
}

/// Why a counting geometry cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CounterError {
    /// A ground line without a calibration to reach it.
    #[error("line `{0}` is on the ground but the camera has no ground calibration")]
    NoCalibration(String),
    /// A degenerate line.
    #[error("line `{0}` needs two distinct points")]
    Degenerate(String),
}

/// One counted crossing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountEvent {
    /// Index of the line in its [`CountingGeometry::lines`] (or, for ground
    /// truth, in the scenario's lines).
    pub line: usize,
    /// When the crossing happened, seconds.
    pub time_s: f64,
    /// Class of the track.
    pub class: ObjectClass,
    /// Which way.
    pub direction: Direction,
    /// Which of the counter's rules counted it.
    pub rule: CountRule,
    /// The track whose walker it counts (its id in the tracker's output and
    /// in `--export`'s `camtwin.txt`), so that an extra count can be looked
    /// up there.
    pub track: u64,
}

/// Which of the counter's rules (see the module documentation) counted a
/// crossing. Most counts are a track's foot changing sides; the others
/// stand in for a walker the tracker lost near the line, and each can
/// also count someone who never crossed. Written beside each extra count,
/// so that an engineer sees which rule to look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountRule {
    /// A track's foot went from one side of the line to the other.
    Crossed,
    /// A track born at the line walked away from it ("Births at the line").
    BornAtLine,
    /// A track born past the line took over from one that vanished on the
    /// other side ("Handovers").
    Handover,
    /// A walker hidden behind the track in front counted with it ("Hidden
    /// companions").
    Companion,
    /// Two tracks turned back in the band from opposite sides ("Swaps at the
    /// line").
    Swap,
    /// A track turned back in the band and its walker was found past the
    /// line ("Turn-back handovers").
    TurnBack,
}

impl CountRule {
    /// Every rule, in the order summaries list them.
    pub const ALL: [CountRule; 6] =
        [Self::Crossed, Self::BornAtLine, Self::Handover, Self::Companion, Self::Swap, Self::TurnBack];

    /// The rule's name in output files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Crossed => "crossed",
            Self::BornAtLine => "born-at-line",
            Self::Handover => "handover",
            Self::Companion => "companion",
            Self::Swap => "swap",
            Self::TurnBack => "turn-back",
        }
    }
}

/// Maps native pixels to ground metres.
pub(crate) fn apply_homography(h: &[[f64; 3]; 3], px: [f64; 2]) -> Option<[f64; 2]> {
    let w = h[2][0] * px[0] + h[2][1] * px[1] + h[2][2];
    if w.abs() < 1e-12 {
        return None;
    }
    let g = [(h[0][0] * px[0] + h[0][1] * px[1] + h[0][2]) / w, (h[1][0] * px[0] + h[1][1] * px[1] + h[1][2]) / w];
    g.iter().all(|v| v.is_finite()).then_some(g)
}

/// Signed distance of `p` from the polyline (positive on its left) and
/// whether `p` lies alongside it (its nearest point is not an end that `p`
/// is beyond by more than 5 % of the first or last segment).
fn signed_distance(points: &[[f64; 2]], p: [f64; 2]) -> Option<f64> {
    let mut best: Option<(f64, f64)> = None; // (|distance|, signed)
    let last = points.len().checked_sub(2)?;
    for (i, seg) in points.windows(2).enumerate() {
        let (a, b) = (seg[0], seg[1]);
        let ab = [b[0] - a[0], b[1] - a[1]];
        let len2 = ab[0] * ab[0] + ab[1] * ab[1];
        if len2 <= 0.0 {
            continue;
        }
        let ap = [p[0] - a[0], p[1] - a[1]];
        let u = (ab[0] * ap[0] + ab[1] * ap[1]) / len2;
        let (lo, hi) = (if i == 0 { -0.05 } else { 0.0 }, if i == last { 1.05 } else { 1.0 });
        if !(lo..=hi).contains(&u) {
            continue;
        }
        // Left of a→b in a right-handed frame (x east, y north).
        let signed = (ab[0] * ap[1] - ab[1] * ap[0]) / len2.sqrt();
        if best.is_none_or(|(d, _)| signed.abs() < d) {
            best = Some((signed.abs(), signed));
        }
    }
    best.map(|(_, s)| s)
}

/// How far along a line (from its first point towards its last) `p` lies.
fn along(points: &[[f64; 2]], p: [f64; 2]) -> f64 {
    let (a, b) = (points[0], points[points.len() - 1]);
    let (ux, uy) = (b[0] - a[0], b[1] - a[1]);
    let length = ux.hypot(uy).max(f64::EPSILON);
    ((p[0] - a[0]) * ux + (p[1] - a[1]) * uy) / length
}

/// The crossing a turn-back stands for: from the side it came from, timed in
/// the middle of its visit to the band.
/// `track` is the track of the walker it counts.
fn turn_back_crossing(b: &TurnBack, rule: CountRule, track: u64) -> CountEvent {
    CountEvent {
        line: b.line,
        time_s: (b.entered_s + b.left_s) / 2.0,
        class: b.class,
        direction: direction_from(b.side),
        rule,
        track,
    }
}

/// When a foot moving in a straight line from `(t0, d0)` to `(t1, d1)`
/// (time, signed distance) is on the line; `None` when it does not move.
fn on_line_at((t0, d0): (f64, f64), (t1, d1): (f64, f64)) -> Option<f64> {
    (d0 != d1).then(|| t0 + (t1 - t0) * d0 / (d0 - d1))
}

/// The direction of a crossing from side `old_side` (1 left, -1 right).
fn direction_from(old_side: i8) -> Direction {
    if old_side > 0 { Direction::Positive } else { Direction::Negative }
}

#[derive(Debug, Clone, Copy, Default)]
struct LineState {
    /// Committed side: 1 left, -1 right, 0 not yet known.
    side: i8,
    /// Last measurement on the committed side (time, signed distance).
    last: Option<(f64, f64)>,
    /// For a track born near the line: time and signed distance of its
    /// first detection, until its first side is known.
    born_near: Option<(f64, f64)>,
    /// Its last measurement, in the band or not (time, signed distance).
    seen: Option<(f64, f64)>,
    /// When it went into the dead band from its committed side, and its
    /// foot there (in the line's space), until it leaves the band.
    band_in: Option<(f64, [f64; 2])>,
    /// When it was last measured at least [`SWAP_AWAY_BANDS`] from the line
    /// on its committed side.
    away_s: Option<f64>,
    /// A turn-back waiting for the track to walk [`SWAP_AWAY_BANDS`] away
    /// from the line before it may pair.
    turn_back: Option<TurnBack>,
    /// The side a rule moved the track from while it went unmeasured (it
    /// handed its walker over, or was carried over as a hidden companion),
    /// until it is next measured off the band.
    moved_from: Option<i8>,
}

impl LineState {
    /// Puts a track that a rule decided crossed while unmeasured on side
    /// `to`, remembering the side it came from ("Found again where it was").
    fn move_unseen(&mut self, to: i8) {
        self.moved_from = Some(self.side);
        self.side = to;
        self.last = None;
    }
}

/// A track whose first detection lies within this many dead bands of a line
/// is taken to have crossed it from the side it moves away from (0.4 m for
/// the default 0.2-m band). On 2 seeds × 5 minutes of the demo street
/// (387 visible crossings), counted visible crossings went up by 17 with
/// one band, 21 with two (one extra count), 23 with three (one extra), 24
/// with five (four extra counts).
pub const BIRTH_BANDS: f64 = 2.0;

/// A track first seen further than [`BIRTH_BANDS`] from a line but within
/// this many dead bands (2 m for the default band), walking away from it,
/// takes over the crossing of a track that vanished near the line on the
/// other side shortly before (a walker lost behind others while crossing and
/// found again past the line). On 4 seeds × 5 minutes of the demo street
/// (784 visible crossings), counted visible crossings went up by 8 with 4
/// bands, 11 with 8, 12 with 10, 16 with 12 or 16 (one extra count more).
pub const HANDOVER_BANDS: f64 = 10.0;

/// Seconds a track that vanished near a line stays a candidate for handing
/// its crossing over to a track born on the far side.
const HANDOVER_S: f64 = 2.0;

/// A track must have been tracked at least this long (seconds since the
/// detection that started it) before it can count as hidden behind another:
/// a person seen apart, not a fragment of the other's box.
pub const HIDDEN_MIN_AGE_S: f64 = 0.5;

/// Seconds a hidden track stays behind the track that hid it, waiting for
/// that one to cross. Longer waits carry more walkers over but also some
/// who had stopped or turned away: with 3 s the busy sidewalk (3 seeds × 5
/// minutes, 45 % in groups) gained 21 visible crossings for 18 extra
/// counts, with 1 s 14 for 5 (docs/PERFORMANCE.md, "Hidden companions").
pub const HIDDEN_S: f64 = 1.0;

/// Share of the hidden track's last box that must lie inside the box of the
/// track that hides it.
pub const HIDDEN_OVERLAP: f32 = 0.5;

/// Seconds by which the band visits of two tracks that turned back at a
/// line from opposite sides may miss each other and still be a swap.
pub const SWAP_SLACK_S: f64 = 0.5;

/// How far apart, in dead bands (2 m for the default band), the feet of two
/// tracks entering the band from opposite sides may be for a swap: walkers
/// passing each other on a sidewalk are a stride or two apart along the line.
pub const SWAP_BANDS: f64 = 8.0;

/// A turn-back is a walker's only when the track came into the band from at
/// least this many dead bands away, and went back as far, each within
/// [`SWAP_AWAY_S`]: someone standing at the edge of the band (a group
/// stopped near the line) goes in and out of it without walking.
pub const SWAP_AWAY_BANDS: f64 = 2.0;

/// See [`SWAP_AWAY_BANDS`], seconds.
pub const SWAP_AWAY_S: f64 = 1.5;

/// Ground speed, m/s, above which a person's track counts as a rider: faster
/// than anyone walks (1.34 m/s on average, Weidmann 1993) or jogs (about 3
/// m/s), slower than city cyclists (15-20 km/h, 4-5.5 m/s). The detector
/// often finds the rider and not the two-wheeler under it: a bicycle seen
/// head-on, a motorcycle it does not know (docs/PERFORMANCE.md, "Riders
/// told by their speed"). Only on lines on the ground, where speeds are in
/// metres.
pub const RIDER_MIN_SPEED_MPS: f64 = 3.5;

/// Ground speed, m/s, above which a rider counts as on a motorcycle rather
/// than a bicycle: 23 km/h, above most cyclists, below city traffic.
pub const MOTORCYCLE_MIN_SPEED_MPS: f64 = 6.5;

/// A track's speed is taken over at least this long, seconds, so that one
/// box's jitter is not read as speed; short enough for a motorcycle seen
/// from the side, which crosses half a camera's view in under a second.
pub const SPEED_MIN_S: f64 = 0.5;

/// Two counts of a two-wheeler on one ground line, in one direction, at
/// most this far apart in time (seconds) and [`RIDER_PAIR_M`] along the
/// line, are one rider counted by two tracks (the rider's and the
/// bicycle's). Two cyclists riding in file are rarely closer: 0.5 s at 16
/// km/h is 2.2 m front wheel to front wheel, a 1.8 m bicycle and 0.4 m
/// between them.
pub const RIDER_PAIR_S: f64 = 0.5;

/// See [`RIDER_PAIR_S`], metres along the line: the rider's feet on the
/// pedals are above the ground and map up to half a metre beyond the
/// wheels from a camera 4 m up; two riders abreast are about a metre and
/// a half apart.
pub const RIDER_PAIR_M: f64 = 1.2;

/// A two-wheeler's count kept for [`RIDER_PAIR_S`], to drop the same
/// rider's count by another track.
#[derive(Debug, Clone, Copy)]
struct WheelCount {
    line: usize,
    direction: Direction,
    time_s: f64,
    /// Where along the line the track's foot was.
    along: f64,
    track: u64,
}

/// A track that went into a line's dead band and came back out on the side
/// it came from: half of a possible swap (see the module documentation).
#[derive(Debug, Clone, Copy)]
struct TurnBack {
    track: u64,
    line: usize,
    /// The side it came from and went back to.
    side: i8,
    /// When it went into the band and when it came out, seconds.
    entered_s: f64,
    left_s: f64,
    /// Its foot when it went into the band, in the line's space.
    at: [f64; 2],
    class: ObjectClass,
}

/// A track first seen past a line within [`HANDOVER_BANDS`], walking away
/// from it, with no vanished track to take over from: the far half of a
/// possible turn-back handover (see the module documentation).
#[derive(Debug, Clone, Copy)]
struct Orphan {
    track: u64,
    line: usize,
    /// The side it was first seen on.
    side: i8,
    /// When it was first seen, seconds.
    born_s: f64,
    /// Its first foot, in the line's space.
    at: [f64; 2],
}

/// A track that stopped being measured behind another (see the module
/// documentation, "Hidden companions").
#[derive(Debug, Clone, Copy)]
struct Hidden {
    /// The track in front, that hides it.
    front: u64,
    /// When the hidden track was last measured, seconds.
    since_s: f64,
}

/// A line ready to count: the shape in the space its distances are taken in.
#[derive(Debug, Clone)]
struct PreparedLine {
    points: Vec<[f64; 2]>,
    on_ground: bool,
    dead_band: f64,
}

/// Counts line crossings of confirmed tracks on every line of a camera.
#[derive(Debug, Clone)]
pub struct LineCounter {
    lines: Vec<PreparedLine>,
    image_to_ground: Option<[[f64; 3]; 3]>,
    native_width: u32,
    state: HashMap<(u64, usize), LineState>,
    /// States of tracks that ended in the last [`HANDOVER_S`], by track and
    /// line.
    ended: Vec<((u64, usize), LineState)>,
    /// The previous frame's measured tracks: id, box, time of the detection
    /// that started it, and its box.
    previous: Vec<(u64, [f32; 4], f64, [f32; 4])>,
    /// The previous frame's time, seconds.
    previous_s: Option<f64>,
    /// The first frame's time, seconds: crossings placed before it (a
    /// walker found past the line in the first frame) happened before the
    /// recording and are not counted.
    first_s: Option<f64>,
    /// Tracks hidden behind another, by the hidden track's id.
    hidden: HashMap<u64, Hidden>,
    /// Turn-backs with no partner yet, kept [`SWAP_SLACK_S`] +
    /// [`SWAP_AWAY_S`] after they left the band.
    turn_backs: Vec<TurnBack>,
    /// Tracks first seen past a line with nobody to take over from, kept
    /// [`HANDOVER_S`].
    orphans: Vec<Orphan>,
    /// Two-wheelers' counts of the last [`RIDER_PAIR_S`] and a second.
    wheel_counts: Vec<WheelCount>,
}

impl LineCounter {
    /// A counter for every line of `geometry`.
    pub fn new(geometry: &CountingGeometry) -> Result<Self, CounterError> {
        let mut lines = Vec::new();
        for l in &geometry.lines {
            let (points, on_ground) = match &l.shape {
                LineShape::Ground { from, to } => {
                    if geometry.image_to_ground.is_none() {
                        return Err(CounterError::NoCalibration(l.id.clone()));
                    }
                    (vec![*from, *to], true)
                }
                // Image y points down: flip it so that "left" means the same
                // as on the ground seen from above.
                LineShape::Image { points } => (points.iter().map(|p| [p[0], -p[1]]).collect(), false),
            };
            let length: f64 = points.windows(2).map(|s| (s[1][0] - s[0][0]).hypot(s[1][1] - s[0][1])).sum();
            if points.len() < 2 || length.is_nan() || length <= 0.0 {
                return Err(CounterError::Degenerate(l.id.clone()));
            }
            lines.push(PreparedLine { points, on_ground, dead_band: l.dead_band.max(0.0) });
        }
        Ok(Self {
            lines,
            image_to_ground: geometry.image_to_ground,
            native_width: geometry.native_width,
            state: HashMap::new(),
            ended: Vec::new(),
            previous: Vec::new(),
            previous_s: None,
            first_s: None,
            hidden: HashMap::new(),
            turn_backs: Vec::new(),
            orphans: Vec::new(),
            wheel_counts: Vec::new(),
        })
    }

    /// A box's foot point in the space of line `li` (ground metres, or
    /// native pixels with y up).
    fn foot(&self, li: usize, bbox: [f32; 4], scale: f64) -> Option<[f64; 2]> {
        let foot = [f64::from(bbox[0] + bbox[2]) / 2.0 * scale, f64::from(bbox[3]) * scale];
        if self.lines[li].on_ground {
            apply_homography(self.image_to_ground.as_ref()?, foot)
        } else {
            Some([foot[0], -foot[1]])
        }
    }

    /// Signed distance of a box's foot point from line `li`.
    fn distance(&self, li: usize, bbox: [f32; 4], scale: f64) -> Option<f64> {
        signed_distance(&self.lines[li].points, self.foot(li, bbox, scale)?)
    }

    fn side(&self, li: usize, d: f64) -> i8 {
        let band = self.lines[li].dead_band;
        if d > band {
            1
        } else if d < -band {
            -1
        } else {
            0
        }
    }

    /// Consumes one frame's confirmed tracks at `time_s` (`frame_width` is
    /// the analysed frame's width, to undo downscaling); returns the
    /// crossings completed in it. Tracks missing from `tracks` have ended:
    /// their state is kept [`HANDOVER_S`] for handovers, then dropped.
    pub fn update(&mut self, time_s: f64, frame_width: u32, tracks: &[TrackObservation]) -> Vec<CountEvent> {
        let scale = f64::from(self.native_width) / f64::from(frame_width.max(1));
        let mut gone: Vec<(u64, usize)> =
            self.state.keys().filter(|(id, _)| !tracks.iter().any(|t| t.id == *id)).copied().collect();
        gone.sort_unstable();
        for key in gone {
            if let Some(s) = self.state.remove(&key) {
                self.ended.push((key, s));
            }
        }
        self.ended.retain(|(_, s)| s.seen.is_some_and(|(ts, _)| time_s - ts <= HANDOVER_S));
        self.turn_backs.retain(|b| time_s - b.left_s <= SWAP_SLACK_S + SWAP_AWAY_S);
        self.orphans.retain(|o| time_s - o.born_s <= HANDOVER_S);
        let mut events = Vec::new();
        let measured: Vec<u64> = tracks.iter().filter(|t| t.state == TrackState::Tracked).map(|t| t.id).collect();
        self.note_hidden(time_s, &measured, scale);
        for t in tracks.iter().filter(|t| t.state == TrackState::Tracked) {
            for li in 0..self.lines.len() {
                let Some(d) = self.distance(li, t.bbox, scale) else { continue };
                let side = self.side(li, d);
                let band = self.lines[li].dead_band;
                let key = (t.id, li);
                let mut s = match self.state.get(&key) {
                    Some(s) => *s,
                    None => {
                        let (s, handed_over) = self.start(t, li, d, scale, &measured);
                        events.extend(handed_over);
                        s
                    }
                };
                s.seen = Some((time_s, d));
                events.extend(self.follow_turn_back(&mut s, t, li, (time_s, d), scale));
                if side != 0 && s.moved_from.take() == Some(side) {
                    // Found again where a rule had moved it from: no crossing.
                    s.side = side;
                    s.last = Some((time_s, d));
                } else if side != 0 {
                    let from = if s.side != 0 {
                        (s.side != side).then_some((s.side, s.last))
                    } else {
                        // Born near the line: crossed from the other side if it
                        // has moved away from the line since it was first seen.
                        s.born_near
                            .take()
                            .filter(|&(_, d0)| (d - d0) * f64::from(side) > 0.25 * band)
                            .map(|origin| (-side, Some(origin)))
                    };
                    if let Some((old_side, last)) = from {
                        if s.side == 0 {
                            // The walker's earlier track, if it vanished
                            // there, must not count the same crossing again.
                            let _ = self.hand_over(&measured, li, side, last.map_or(time_s, |(t0, _)| t0));
                        }
                        // Interpolated (extrapolated, for a birth past the line)
                        // to where the foot was on the line, never after now.
                        let when = last
                            .filter(|&(t0, _)| t0 < time_s)
                            .and_then(|a| on_line_at(a, (time_s, d)))
                            .map_or(time_s, |w| w.min(time_s));
                        events.push(CountEvent {
                            line: li,
                            time_s: when,
                            class: t.class,
                            direction: direction_from(old_side),
                            rule: if s.side == 0 { CountRule::BornAtLine } else { CountRule::Crossed },
                            track: t.id,
                        });
                        events.extend(self.companions_cross(t.id, li, old_side, when, t.class));
                    }
                    s.side = side;
                    s.last = Some((time_s, d));
                }
                self.state.insert(key, s);
            }
        }
        self.previous = tracks
            .iter()
            .filter(|t| t.state == TrackState::Tracked)
            .map(|t| (t.id, t.bbox, t.origin_time_s, t.origin))
            .collect();
        self.previous_s = Some(time_s);
        let first = *self.first_s.get_or_insert(time_s);
        events.retain(|e| e.time_s >= first);
        self.wheel_counts.retain(|w| time_s - w.time_s <= RIDER_PAIR_S + 1.0);
        let mut kept = Vec::with_capacity(events.len());
        for mut e in events {
            let track = tracks.iter().find(|t| t.id == e.track);
            if let Some(t) = track {
                e.class = self.class_by_speed(e.line, t, time_s, scale);
            }
            if !self.same_rider_counted(&e, track, scale) {
                kept.push(e);
            }
        }
        kept
    }

    /// Whether another track already counted the rider that two-wheeler
    /// count `e` (made by `track`) counts (see [`RIDER_PAIR_S`]); if not,
    /// and `e` is a two-wheeler's count on a ground line, remembers it.
    fn same_rider_counted(&mut self, e: &CountEvent, track: Option<&TrackObservation>, scale: f64) -> bool {
        let wheels = matches!(e.class, ObjectClass::Bicycle | ObjectClass::Motorcycle);
        if !wheels || !self.lines[e.line].on_ground {
            return false;
        }
        let Some(foot) = track.and_then(|t| self.foot(e.line, t.bbox, scale)) else {
            return false;
        };
        let at = along(&self.lines[e.line].points, foot);
        let twin = self.wheel_counts.iter().any(|w| {
            w.line == e.line
                && w.direction == e.direction
                && w.track != e.track
                && (w.time_s - e.time_s).abs() <= RIDER_PAIR_S
                && (w.along - at).abs() <= RIDER_PAIR_M
        });
        if !twin {
            self.wheel_counts.push(WheelCount {
                line: e.line,
                direction: e.direction,
                time_s: e.time_s,
                along: at,
                track: e.track,
            });
        }
        twin
    }

    /// The class of track `t` counted at line `li`: a person's track that
    /// moved over the ground faster than anyone on foot, from where it
    /// started to where it is now, carried a rider whose bicycle or
    /// motorcycle the detector missed (see [`RIDER_MIN_SPEED_MPS`]).
    fn class_by_speed(&self, li: usize, t: &TrackObservation, time_s: f64, scale: f64) -> ObjectClass {
        let elapsed = time_s - t.origin_time_s;
        if t.class != ObjectClass::Person || !self.lines[li].on_ground || elapsed < SPEED_MIN_S {
            return t.class;
        }
        let (Some(a), Some(b)) = (self.foot(li, t.origin, scale), self.foot(li, t.bbox, scale)) else {
            return t.class;
        };
        let speed = (b[0] - a[0]).hypot(b[1] - a[1]) / elapsed;
        if speed >= MOTORCYCLE_MIN_SPEED_MPS {
            ObjectClass::Motorcycle
        } else if speed >= RIDER_MIN_SPEED_MPS {
            ObjectClass::Bicycle
        } else {
            ObjectClass::Person
        }
    }

    /// Finds the tracks measured in the previous frame and not in this one
    /// whose last box lay mostly inside the box of a track measured in both,
    /// and notes them as hidden behind it; forgets hidden tracks found again
    /// or hidden longer than [`HIDDEN_S`].
    fn note_hidden(&mut self, time_s: f64, measured: &[u64], scale: f64) {
        let measured: std::collections::HashSet<u64> = measured.iter().copied().collect();
        self.hidden.retain(|id, h| !measured.contains(id) && time_s - h.since_s <= HIDDEN_S);
        let Some(last_s) = self.previous_s else { return };
        let fronts: Vec<(u64, [f32; 4])> =
            self.previous.iter().filter(|(id, ..)| measured.contains(id)).map(|&(id, b, ..)| (id, b)).collect();
        for &(id, bbox, origin_s, origin) in &self.previous {
            if measured.contains(&id) || time_s - origin_s < HIDDEN_MIN_AGE_S || self.hidden.contains_key(&id) {
                continue;
            }
            let in_front = fronts
                .iter()
                .map(|(other, b)| (*other, crate::detector::inside_share(&bbox, b)))
                .filter(|&(_, share)| share >= HIDDEN_OVERLAP)
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
            let Some((front, _)) = in_front else { continue };
            // Only a track walking towards a line it has not crossed can be
            // carried over it: its state keeps the side, its origin the way.
            let walking_to_a_line = (0..self.lines.len()).any(|li| {
                let (Some(s), Some(d0)) = (self.state.get(&(id, li)), self.distance(li, origin, scale)) else {
                    return false;
                };
                s.side != 0 && s.seen.is_some_and(|(_, d)| (d - d0) * f64::from(s.side) < 0.0)
            });
            if walking_to_a_line {
                self.hidden.insert(id, Hidden { front, since_s: last_s });
            }
        }
    }

    /// Track `front` crossed line `li` from `old_side` at `time_s`: every
    /// track hidden behind it, last seen on that side and walking towards
    /// the line, crosses with it.
    fn companions_cross(
        &mut self,
        front: u64,
        li: usize,
        old_side: i8,
        time_s: f64,
        class: ObjectClass,
    ) -> Vec<CountEvent> {
        let mut ids: Vec<u64> = self.hidden.iter().filter(|(_, h)| h.front == front).map(|(id, _)| *id).collect();
        ids.sort_unstable();
        let mut events = Vec::new();
        for id in ids {
            let ended = &mut self.ended;
            let found = self
                .state
                .get_mut(&(id, li))
                .or_else(|| ended.iter_mut().find(|(k, _)| *k == (id, li)).map(|(_, s)| s));
            let Some(s) = found else { continue };
            if s.side != old_side {
                continue;
            }
            s.move_unseen(-old_side);
            self.hidden.remove(&id);
            events.push(CountEvent {
                line: li,
                time_s,
                class,
                direction: direction_from(old_side),
                rule: CountRule::Companion,
                track: id,
            });
        }
        events
    }

    /// The state of track `t` on line `li` when the counter first sees it, at
    /// signed distance `d`, and the crossing it takes over if it was born
    /// past the line where another track just vanished.
    fn start(
        &mut self,
        t: &TrackObservation,
        li: usize,
        d: f64,
        scale: f64,
        measured: &[u64],
    ) -> (LineState, Option<CountEvent>) {
        let mut s = LineState::default();
        // Where the track started, in the line's space, and how far from it.
        let Some(at) = self.foot(li, t.origin, scale) else { return (s, None) };
        let Some(d0) = signed_distance(&self.lines[li].points, at) else { return (s, None) };
        let (origin_side, band) = (self.side(li, d0), self.lines[li].dead_band);
        if d0.abs() <= BIRTH_BANDS * band {
            s.born_near = Some((t.origin_time_s, d0));
            return (s, None);
        }
        if origin_side == 0 {
            return (s, None);
        }
        s.side = origin_side;
        s.last = Some((t.origin_time_s, d0));
        // Born further past the line, walking away from it, where a track
        // just vanished on the other side: the same walker, handed over.
        if d0.abs() > HANDOVER_BANDS * band || (d - d0) * f64::from(origin_side) <= 0.0 {
            return (s, None);
        }
        if let Some((ts, ds)) = self.hand_over(measured, li, origin_side, t.origin_time_s) {
            let event = CountEvent {
                line: li,
                time_s: on_line_at((ts, ds), (t.origin_time_s, d0)).unwrap_or(ts),
                class: t.class,
                direction: direction_from(-origin_side),
                rule: CountRule::Handover,
                track: t.id,
            };
            return (s, Some(event));
        }
        let orphan = Orphan { track: t.id, line: li, side: origin_side, born_s: t.origin_time_s, at };
        let turned =
            self.turn_backs.iter().position(|b| self.turned_for(b, &orphan)).map(|i| self.turn_backs.remove(i));
        match turned {
            Some(b) => (s, Some(turn_back_crossing(&b, CountRule::TurnBack, t.id))),
            None => {
                self.orphans.push(orphan);
                (s, None)
            }
        }
    }

    /// Finds the track that most recently vanished near line `li` on the
    /// side opposite `new_side`, no later than `born_s` (when a track was
    /// first seen past the line) and no earlier than [`HANDOVER_S`] before,
    /// and not `measured` in this frame; moves it to `new_side` so that it
    /// cannot count that crossing again, and returns where it was last seen
    /// (time, signed distance).
    fn hand_over(&mut self, measured: &[u64], li: usize, new_side: i8, born_s: f64) -> Option<(f64, f64)> {
        let near = BIRTH_BANDS * self.lines[li].dead_band;
        let fits = |s: &LineState| {
            s.side == -new_side
                && s.seen.is_some_and(|(ts, ds)| ts <= born_s && born_s - ts <= HANDOVER_S && ds.abs() <= near)
        };
        // Most recently seen first; ties go to the lower track id, so that
        // the choice never depends on the hash map's order.
        let rank = |(id, _): &(u64, usize), s: &LineState| (s.seen.map_or(f64::NEG_INFINITY, |(ts, _)| ts), *id);
        let later = |a: &(f64, u64), b: &(f64, u64)| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1));
        let alive = self
            .state
            .iter()
            .filter(|((cid, cli), s)| !measured.contains(cid) && *cli == li && fits(s))
            .map(|(k, s)| (rank(k, s), *k, *s))
            .max_by(|a, b| later(&a.0, &b.0));
        let ended = self
            .ended
            .iter()
            .enumerate()
            .filter(|(_, ((_, cli), s))| *cli == li && fits(s))
            .map(|(i, (k, s))| (rank(k, s), i, *s))
            .max_by(|a, b| later(&a.0, &b.0));
        match (alive, ended) {
            (Some((ra, key, a)), e) if e.is_none_or(|(re, _, _)| later(&re, &ra).is_le()) => {
                if let Some(s) = self.state.get_mut(&key) {
                    s.move_unseen(new_side);
                }
                a.seen
            }
            (_, Some((_, i, e))) => {
                self.ended.remove(i);
                e.seen
            }
            _ => None,
        }
    }

    /// Follows track `t`'s visits to the dead band of line `li` (state `s`,
    /// measured at `(time_s, d)`): notes when it walks in from its side, and
    /// when it comes back out there and walks away as far, offers the
    /// turn-back to [`Self::swap`].
    fn follow_turn_back(
        &mut self,
        s: &mut LineState,
        t: &TrackObservation,
        li: usize,
        (time_s, d): (f64, f64),
        scale: f64,
    ) -> Vec<CountEvent> {
        let side = self.side(li, d);
        let away = side != 0 && side == s.side && d.abs() >= SWAP_AWAY_BANDS * self.lines[li].dead_band;
        if side == 0 {
            s.turn_back = None;
            if s.side != 0 && s.band_in.is_none() && s.away_s.is_some_and(|a| time_s - a <= SWAP_AWAY_S) {
                s.band_in = self.foot(li, t.bbox, scale).map(|p| (time_s, p));
            }
        } else if let Some((entered_s, at)) = s.band_in.take()
            && side == s.side
        {
            s.turn_back = Some(TurnBack { track: t.id, line: li, side, entered_s, left_s: time_s, at, class: t.class });
        }
        if away {
            s.away_s = Some(time_s);
        }
        match s.turn_back {
            Some(turn) if away => {
                s.turn_back = None;
                self.swap(turn)
            }
            Some(turn) if time_s - turn.left_s > SWAP_AWAY_S => {
                s.turn_back = None;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// A track turned back at a line: if another turned back there from the
    /// other side at the same time and place, the two traded walkers in the
    /// band and both crossings count; otherwise it waits for a partner.
    fn swap(&mut self, turn: TurnBack) -> Vec<CountEvent> {
        let reach = SWAP_BANDS * self.lines[turn.line].dead_band;
        let partner = self
            .turn_backs
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                b.line == turn.line
                    && b.side == -turn.side
                    && b.track != turn.track
                    && b.entered_s <= turn.left_s + SWAP_SLACK_S
                    && turn.entered_s <= b.left_s + SWAP_SLACK_S
                    && (b.at[0] - turn.at[0]).hypot(b.at[1] - turn.at[1]) <= reach
            })
            .min_by(|a, b| (a.1.entered_s - turn.entered_s).abs().total_cmp(&(b.1.entered_s - turn.entered_s).abs()))
            .map(|(i, _)| i);
        if let Some(i) = partner {
            let other = self.turn_backs.remove(i);
            return vec![
                turn_back_crossing(&turn, CountRule::Swap, turn.track),
                turn_back_crossing(&other, CountRule::Swap, other.track),
            ];
        }
        if let Some(i) = self.orphans.iter().position(|o| self.turned_for(&turn, o)) {
            let orphan = self.orphans.remove(i);
            return vec![turn_back_crossing(&turn, CountRule::TurnBack, orphan.track)];
        }
        self.turn_backs.push(turn);
        Vec::new()
    }

    /// Whether turn-back `b` handed its walker over to `orphan`, a track
    /// first seen past the line on the other side while `b` was in the band
    /// or up to [`HANDOVER_S`] after it came out, within [`SWAP_BANDS`] of
    /// it along the line (see the module documentation, "Turn-back
    /// handovers").
    fn turned_for(&self, b: &TurnBack, orphan: &Orphan) -> bool {
        let line = &self.lines[b.line];
        b.line == orphan.line
            && b.side == -orphan.side
            && b.track != orphan.track
            && orphan.born_s >= b.entered_s - SWAP_SLACK_S
            && orphan.born_s - b.left_s <= HANDOVER_S
            && (along(&line.points, b.at) - along(&line.points, orphan.at)).abs() <= SWAP_BANDS * line.dead_band
    }

    /// Track-and-line states held (for tests of pruning).
    pub fn tracked_states(&self) -> usize {
        self.state.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Image pixels are ground metres ×100 (x → east, y → north); a ground
    /// line at x = 1 m from y = 0 to 2 m.
    fn ground() -> CountingGeometry {
        CountingGeometry {
            lines: vec![LineSpec {
                id: "l".into(),
                shape: LineShape::Ground { from: [1.0, 0.0], to: [1.0, 2.0] },
                dead_band: 0.2,
            }],
            image_to_ground: Some([[0.01, 0.0, 0.0], [0.0, 0.01, 0.0], [0.0, 0.0, 1.0]]),
            native_width: 640,
        }
    }

    fn obs(id: u64, foot_x: f32) -> TrackObservation {
        let bbox = [foot_x - 10.0, 50.0, foot_x + 10.0, 100.0];
        TrackObservation {
            id,
            class: ObjectClass::Person,
            bbox,
            origin: bbox,
            origin_time_s: 0.0,
            state: TrackState::Tracked,
        }
    }

    fn walk(c: &mut LineCounter, id: u64, xs: &[f32]) -> Vec<CountEvent> {
        let mut events = Vec::new();
        for (i, x) in xs.iter().enumerate() {
            events.extend(c.update(i as f64, 640, &[obs(id, *x)]));
        }
        events
    }

    /// Two tracks measured together, frame by frame (0.1 s apart from
    /// `t0`): feet at `a` and `b` px (x), the second `dy` px further along
    /// the line; the second frames start `lag` frames later.
    fn two(c: &mut LineCounter, a: &[f32], b: &[f32], dy: f32, lag: usize) -> Vec<CountEvent> {
        let mut events = Vec::new();
        for i in 0..a.len().max(b.len() + lag) {
            let mut tracks = Vec::new();
            if let Some(&x) = a.get(i) {
                tracks.push(obs(1, x));
            }
            if let Some(&x) = i.checked_sub(lag).and_then(|j| b.get(j)) {
                let mut o = obs(2, x);
                o.bbox[1] += dy;
                o.bbox[3] += dy;
                o.origin = o.bbox;
                tracks.push(o);
            }
            events.extend(c.update(i as f64 * 0.1, 640, &tracks));
        }
        events
    }

    #[test]
    fn a_person_faster_than_anyone_on_foot_counts_as_a_rider() {
        // A track from 4 m west of the line (1 m east) at `speed` m/s,
        // measured every 0.1 s from where it started.
        let class_at = |speed: f32| {
            let mut c = LineCounter::new(&ground()).expect("counter");
            let start = obs(1, -300.0);
            let mut events = Vec::new();
            for i in 0..80 {
                let t = i as f32 * 0.1;
                let mut o = obs(1, -300.0 + 100.0 * speed * t);
                (o.origin, o.origin_time_s) = (start.bbox, 0.0);
                events.extend(c.update(f64::from(t), 640, &[o]));
                if !events.is_empty() {
                    break;
                }
            }
            assert_eq!(events.len(), 1, "{events:?}");
            events[0].class
        };
        assert_eq!(class_at(1.4), ObjectClass::Person, "a walker");
        assert_eq!(class_at(3.0), ObjectClass::Person, "a jogger");
        assert_eq!(class_at(4.5), ObjectClass::Bicycle, "a cyclist found as a person");
        assert_eq!(class_at(8.3), ObjectClass::Motorcycle, "a motorcyclist found as a person");
        // Too early to tell: a track born 0.3 s before it jumps the line.
        let mut c = LineCounter::new(&ground()).expect("counter");
        let start = obs(1, 60.0);
        let mut events = Vec::new();
        for (t, x) in [(0.0, 60.0), (0.1, 65.0), (0.2, 70.0), (0.3, 150.0)] {
            let mut o = obs(1, x);
            (o.origin, o.origin_time_s) = (start.bbox, 0.0);
            events.extend(c.update(t, 640, &[o]));
        }
        assert_eq!(events.iter().map(|e| e.class).collect::<Vec<_>>(), [ObjectClass::Person], "{events:?}");
    }

    #[test]
    fn a_rider_and_their_bicycle_on_two_tracks_count_once() {
        // Track 1 is a person's box on a rider, track 2 a bicycle's, both
        // from 3 m west of the line at `speed` m/s; their feet `r` and `b`
        // px (1 px = 1 cm) along the line from its middle.
        let count = |r: f32, b: f32, speed: f32| {
            let mut c = LineCounter::new(&ground()).expect("counter");
            let at = |id: u64, x: f32, dy: f32, class: ObjectClass| {
                let mut o = obs(id, x);
                o.class = class;
                for k in [1, 3] {
                    o.bbox[k] += dy;
                }
                o.origin = o.bbox;
                o.origin[0] -= x + 200.0;
                o.origin[2] -= x + 200.0;
                o
            };
            let mut events = Vec::new();
            for i in 0..40 {
                let t = i as f32 * 0.1;
                let x = -200.0 + 100.0 * speed * t;
                let tracks = [at(1, x, r, ObjectClass::Person), at(2, x + 5.0, b, ObjectClass::Bicycle)];
                events.extend(c.update(f64::from(t), 640, &tracks));
            }
            events.iter().map(|e| (e.track, e.class)).collect::<Vec<_>>()
        };
        let (p, b) = (ObjectClass::Person, ObjectClass::Bicycle);
        assert_eq!(count(0.0, 30.0, 4.5), [(1, b)], "one cyclist");
        assert_eq!(count(-80.0, 80.0, 4.5), [(1, b), (2, b)], "two cyclists abreast, 1.6 m apart");
        assert_eq!(count(0.0, 30.0, 1.4), [(1, p), (2, b)], "someone walking beside a bicycle");
    }

    #[test]
    fn two_tracks_turning_back_at_the_line_from_both_sides_count_a_swap() {
        // Track 1 comes from the left (west) into the band and goes back
        // out west; track 2 comes from the east into the band and goes back
        // east: they traded walkers in the band.
        let west = [50.0, 70.0, 85.0, 92.0, 85.0, 70.0, 50.0];
        let east = [150.0, 130.0, 115.0, 108.0, 115.0, 130.0, 150.0];
        let mut c = LineCounter::new(&ground()).expect("counter");
        let mut events = two(&mut c, &west, &east, 30.0, 0);
        events.sort_by_key(|e| e.direction == Direction::Negative);
        let dirs: Vec<Direction> = events.iter().map(|e| e.direction).collect();
        assert_eq!(dirs, vec![Direction::Positive, Direction::Negative], "{events:?}");
        assert!(events.iter().all(|e| e.rule == CountRule::Swap), "{events:?}");
        // Each track counts the walker it carried in: track 1 (from the west) positive.
        assert_eq!(events.iter().map(|e| e.track).collect::<Vec<_>>(), [1, 2], "{events:?}");
        // Timed in the middle of the band visits (in at 0.2 s, out at 0.5 s).
        assert!(events.iter().all(|e| (e.time_s - 0.35).abs() < 1e-9), "{events:?}");
        // A partner a few frames late still pairs (within the slack).
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert_eq!(two(&mut c, &west, &east, 0.0, 5).len(), 2);

        // One track turning back alone is someone who turned back.
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert!(walk(&mut c, 1, &west).is_empty());
        // Someone standing at the band's edge on the other side, in and out
        // of it, is not walking: no swap.
        let stand = [125.0, 118.0, 112.0, 118.0, 125.0, 118.0, 112.0];
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert!(two(&mut c, &west, &stand, 30.0, 0).is_empty());
        // Both from the same side: no swap.
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert!(two(&mut c, &west, &west, 30.0, 0).is_empty());
        // Too far apart in time, or along the line (2.5 m > 8 bands of 0.2 m).
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert!(two(&mut c, &west, &east, 0.0, 12).is_empty());
        let mut long = ground();
        long.lines[0].shape = LineShape::Ground { from: [1.0, 0.0], to: [1.0, 5.0] };
        let mut c = LineCounter::new(&long).expect("counter");
        assert_eq!(two(&mut c, &west, &east, 50.0, 0).len(), 2, "0.5 m apart: a swap");
        let mut c = LineCounter::new(&long).expect("counter");
        assert!(two(&mut c, &west, &east, 250.0, 0).is_empty());
        // Two walkers who really cross count once each, with no swap added.
        let mut c = LineCounter::new(&ground()).expect("counter");
        let through: Vec<f32> = (0..8).map(|i| 50.0 + 15.0 * i as f32).collect();
        let back: Vec<f32> = (0..8).map(|i| 160.0 - 15.0 * i as f32).collect();
        assert_eq!(two(&mut c, &through, &back, 30.0, 0).len(), 2);
    }

    /// Track 1 walks `a` (feet in px, 0.1 s apart); track 2, first detected
    /// `lag` frames later and `dy` px further along the line, walks `b`,
    /// confirmed on its second detection.
    fn turn_and_birth(a: &[f32], b: &[f32], dy: f32, lag: usize) -> Vec<CountEvent> {
        // A 5-m line, so that walkers 2.5 m apart along it are both beside it.
        let mut long = ground();
        long.lines[0].shape = LineShape::Ground { from: [1.0, 0.0], to: [1.0, 5.0] };
        let mut c = LineCounter::new(&long).expect("counter");
        let mut events = Vec::new();
        let mut origin = None;
        for i in 0..a.len().max(b.len() + lag) {
            let t = i as f64 * 0.1;
            let mut tracks: Vec<TrackObservation> = a.get(i).map(|&x| obs(1, x)).into_iter().collect();
            if let Some(&x) = i.checked_sub(lag).and_then(|j| b.get(j)) {
                let mut o = obs(2, x);
                o.bbox[1] += dy;
                o.bbox[3] += dy;
                // Confirmed on its second detection, started by its first.
                let (first, first_s) = *origin.get_or_insert((o.bbox, t));
                o.origin = first;
                o.origin_time_s = first_s;
                if first_s < t {
                    tracks.push(o);
                }
            }
            events.extend(c.update(t, 640, &tracks));
        }
        events
    }

    #[test]
    fn a_turn_back_hands_its_walker_over_to_a_track_found_past_the_line() {
        // Track 1 walks from the west into the band and back out west: it
        // lost its walker there to someone coming the other way. Track 2 is
        // first seen 0.5 m past the line (beyond the births at the line),
        // walking east: the walker track 1 had, found again.
        let west = [50.0, 70.0, 85.0, 92.0, 85.0, 70.0, 50.0, 40.0];
        let east = [150.0, 160.0, 170.0, 180.0, 190.0, 200.0, 210.0];
        for lag in [3, 8, 20] {
            let events = turn_and_birth(&west, &east, 30.0, lag);
            assert_eq!(events.len(), 1, "found {lag} frames later: {events:?}");
            assert_eq!((events[0].direction, events[0].rule), (Direction::Positive, CountRule::TurnBack));
            assert_eq!(events[0].track, 2, "the walker is track 2's");
            // Timed in the middle of track 1's visit to the band (0.2-0.5 s).
            assert!((events[0].time_s - 0.35).abs() < 1e-9, "{events:?}");
        }
        // Found too late (more than 2 s after the turn-back), on the side it
        // turned back to, walking towards the line, or 2.5 m along it: no
        // crossing.
        assert!(turn_and_birth(&west, &east, 30.0, 35).is_empty());
        let west_walker: Vec<f32> = east.iter().map(|x| 200.0 - x).collect();
        assert!(turn_and_birth(&west, &west_walker, 30.0, 3).is_empty());
        let towards: Vec<f32> = [190.0, 180.0, 170.0, 160.0, 150.0].to_vec();
        assert!(turn_and_birth(&west, &towards, 30.0, 3).is_empty());
        assert!(turn_and_birth(&west, &east, 250.0, 3).is_empty());
        assert_eq!(turn_and_birth(&west, &east, 150.0, 3).len(), 1, "1.5 m along the line");
        // A walker found past the line with nobody turning back counts
        // nothing.
        assert!(turn_and_birth(&[], &east, 30.0, 3).is_empty());
    }

    #[test]
    fn a_track_confirmed_after_the_line_counts_from_where_it_started() {
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert!(c.update(0.0, 640, &[]).is_empty());
        let late = TrackObservation { origin: obs(3, 50.0).bbox, origin_time_s: 1.0, ..obs(3, 130.0) };
        let events = c.update(2.0, 640, &[late]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].direction, Direction::Positive);
        // From 50 px (0.5 m left of the line) at 1 s to 130 px (0.3 m right) at 2 s.
        assert!((events[0].time_s - (1.0 + 0.5 / 0.8)).abs() < 1e-9, "{events:?}");
    }

    #[test]
    fn a_walk_across_counts_once_with_direction_and_interpolated_time() {
        let mut c = LineCounter::new(&ground()).expect("counter");
        // Walking east: from the line's left (west) to its right; jitter at the line.
        let events = walk(&mut c, 7, &[40.0, 70.0, 95.0, 105.0, 98.0, 110.0, 130.0, 160.0]);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].direction, Direction::Positive);
        // Last left of the band at t = 1 (70 px), first right of it at t = 6 (130 px)...
        // but 95/105/98/110 are inside the band (80..120 px), so the last
        // measurement before the crossing is at t = 5 (110 px, d = +0.1 m).
        assert!(events[0].time_s >= 1.0 && events[0].time_s <= 6.0, "{events:?}");
    }

    #[test]
    fn flicker_inside_the_dead_band_does_not_count() {
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert!(walk(&mut c, 1, &[90.0, 110.0, 90.0, 110.0]).is_empty());
    }

    #[test]
    fn a_track_born_at_the_line_counts_once_it_walks_away() {
        // First seen at 95 px (inside the band: its earlier track was lost
        // behind someone at the line), then walking west: it came from the
        // east, right of the line, so the crossing is negative.
        let mut c = LineCounter::new(&ground()).expect("counter");
        // The recording started earlier.
        assert!(c.update(-10.0, 640, &[]).is_empty());
        let events = walk(&mut c, 4, &[95.0, 85.0, 75.0, 60.0, 40.0]);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!((events[0].direction, events[0].rule), (Direction::Negative, CountRule::BornAtLine));
        // On the line (1 m) 0.05 m east of where it was first seen, walking
        // 0.1 m/s: half a second before.
        assert!((events[0].time_s + 0.5).abs() < 1e-9, "{events:?}");
        // In the recording's first frame, that crossing happened before it.
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert!(walk(&mut c, 4, &[95.0, 85.0, 75.0, 60.0, 40.0]).is_empty());
        // Born near the line but walking towards it: one count, when it crosses.
        let events = walk(&mut c, 5, &[65.0, 75.0, 90.0, 110.0, 130.0]);
        assert_eq!(
            events.iter().map(|e| (e.direction, e.rule)).collect::<Vec<_>>(),
            [(Direction::Positive, CountRule::Crossed)]
        );
    }

    /// A companion's box, mostly inside the box `obs(_, foot_x)` would give
    /// (a person further away, seen behind the one in front).
    fn behind(id: u64, foot_x: f32, origin_x: f32) -> TrackObservation {
        let bbox = [foot_x - 8.0, 45.0, foot_x + 8.0, 95.0];
        let origin = [origin_x - 8.0, 45.0, origin_x + 8.0, 95.0];
        TrackObservation { bbox, origin, ..obs(id, foot_x) }
    }

    /// Two walkers east side by side, the second hidden behind the first
    /// once `companion_x` (its positions while seen) runs out: its track
    /// coasts for `coast` frames, then ends; `found_again` measures it once
    /// more at the end. Returns the events.
    fn pair(
        c: &mut LineCounter,
        front: &[f32],
        companion_x: &[f32],
        coast: usize,
        found_again: Option<f32>,
    ) -> Vec<CountEvent> {
        let mut events = Vec::new();
        for (i, &x) in front.iter().enumerate() {
            let mut tracks = vec![obs(1, x)];
            match companion_x.get(i) {
                Some(&cx) => tracks.push(behind(2, cx, companion_x[0])),
                None if i < companion_x.len() + coast => {
                    tracks.push(TrackObservation { state: TrackState::Lost, ..behind(2, x, companion_x[0]) })
                }
                None => {}
            }
            events.extend(c.update(i as f64 * 0.1, 640, &tracks));
        }
        if let Some(x) = found_again {
            events.extend(c.update(front.len() as f64 * 0.1, 640, &[obs(1, 190.0), behind(2, x, companion_x[0])]));
        }
        events
    }

    #[test]
    fn a_companion_hidden_behind_a_walker_crosses_with_it() {
        let front = [20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 110.0, 125.0, 140.0, 160.0];
        let companion = [21.0, 31.0, 41.0, 51.0, 61.0, 71.0, 81.0];
        let directions = |e: &[CountEvent]| e.iter().map(|e| e.direction).collect::<Vec<_>>();
        let mut c = LineCounter::new(&ground()).expect("counter");
        let events = pair(&mut c, &front, &companion, 20, None);
        assert_eq!(directions(&events), [Direction::Positive, Direction::Positive], "{events:?}");
        assert_eq!(events[0].time_s, events[1].time_s);
        assert_eq!([events[0].rule, events[1].rule], [CountRule::Crossed, CountRule::Companion]);
        assert_eq!([events[0].track, events[1].track], [1, 2]);
        // Its track ended (the tracker gave up on it) before the other crossed.
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert_eq!(directions(&pair(&mut c, &front, &companion, 2, None)), [Direction::Positive; 2]);
        // Found again past the line under its own id: not counted twice.
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert_eq!(pair(&mut c, &front, &companion, 20, Some(175.0)).len(), 2);
        // Found again where it was hidden, short of the line: it did not
        // cross with the other, and does not cross back either.
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert_eq!(directions(&pair(&mut c, &front, &companion, 20, Some(75.0))), [Direction::Positive; 2]);
        // Seen for less than HIDDEN_MIN_AGE_S: perhaps a piece of the other's box.
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert_eq!(directions(&pair(&mut c, &front, &companion[..4], 20, None)), [Direction::Positive]);
        // Walking away from the line (west) when the other catches up and
        // hides it: it does not cross with it.
        let slowing = [20.0, 30.0, 40.0, 50.0, 55.0, 56.0, 57.0, 60.0, 70.0, 80.0, 90.0, 100.0, 110.0, 125.0, 140.0];
        let mut c = LineCounter::new(&ground()).expect("counter");
        let away = [58.0, 57.0, 56.0, 55.0, 54.0, 53.0, 52.0];
        assert_eq!(directions(&pair(&mut c, &slowing, &away, 20, None)), [Direction::Positive]);
        // The one in front dawdles: more than HIDDEN_S later the companion
        // may have stopped or turned away, and is not carried over.
        let dawdling = [
            20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 82.0, 84.0, 86.0, 88.0, 90.0, 92.0, 94.0, 96.0, 98.0, 100.0,
            110.0, 125.0, 140.0,
        ];
        let mut c = LineCounter::new(&ground()).expect("counter");
        assert_eq!(directions(&pair(&mut c, &dawdling, &companion, 30, None)), [Direction::Positive]);
        // The same companion walking east is carried over.
        let mut c = LineCounter::new(&ground()).expect("counter");
        let towards = [52.0, 53.0, 54.0, 55.0, 56.0, 57.0, 58.0];
        assert_eq!(directions(&pair(&mut c, &slowing, &towards, 20, None)), [Direction::Positive; 2]);
    }

    /// Track `id` seen at `foot_x` px at `time_s`, first seen at `origin_x`
    /// at `origin_s`.
    fn seen(id: u64, foot_x: f32, origin_x: f32, origin_s: f64) -> TrackObservation {
        TrackObservation { origin: obs(id, origin_x).bbox, origin_time_s: origin_s, ..obs(id, foot_x) }
    }

    #[test]
    fn a_walker_lost_at_the_line_and_found_past_it_counts_once() {
        // Track 1 walks east to the band (95 px, line at 100) and ends;
        // track 2 is first seen 0.6 m past the line, walking on east.
        let mut c = LineCounter::new(&ground()).expect("counter");
        let mut events = walk(&mut c, 1, &[40.0, 60.0, 80.0, 95.0]);
        assert!(events.is_empty());
        events.extend(c.update(4.0, 640, &[]));
        events.extend(c.update(5.0, 640, &[seen(2, 170.0, 160.0, 4.5)]));
        events.extend(c.update(6.0, 640, &[seen(2, 180.0, 160.0, 4.5)]));
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            (events[0].direction, events[0].rule, events[0].track),
            (Direction::Positive, CountRule::Handover, 2)
        );
        // Between 95 px at 3 s and 160 px at 4.5 s, where the foot met the line.
        assert!((events[0].time_s - (3.0 + 1.5 * 5.0 / 65.0)).abs() < 1e-9, "{events:?}");
        // Nothing vanished on the west side lately: a track first seen past
        // the line is not a crossing.
        assert!(c.update(9.0, 640, &[seen(3, 170.0, 160.0, 8.5)]).is_empty());
    }

    /// Track 1 walks east into the band (95 px, line at 100) and coasts
    /// there, hidden, while track 2, first seen at `origin_x` px at 4 s,
    /// walks on east through `steps` (time, foot x). Returns the events.
    fn hidden_while_another_walks_on(c: &mut LineCounter, origin_x: f32, steps: &[(f64, f32)]) -> Vec<CountEvent> {
        walk(c, 1, &[40.0, 60.0, 80.0, 95.0]);
        let hidden = TrackObservation { state: TrackState::Lost, ..obs(1, 100.0) };
        let mut events = Vec::new();
        for &(time, x) in steps {
            events.extend(c.update(time, 640, &[hidden, seen(2, x, origin_x, 4.0)]));
        }
        events
    }

    #[test]
    fn a_vanished_track_found_again_does_not_count_a_handed_over_crossing_twice() {
        // Track 2 is born in the band.
        let mut c = LineCounter::new(&ground()).expect("counter");
        let events = hidden_while_another_walks_on(&mut c, 105.0, &[(4.0, 105.0), (5.0, 125.0), (6.0, 140.0)]);
        assert_eq!(events.len(), 1, "{events:?}");
        // Track 1 is found again on the far side: the crossing was counted.
        assert!(c.update(7.0, 640, &[obs(1, 150.0), seen(2, 160.0, 105.0, 4.0)]).is_empty());
    }

    #[test]
    fn a_track_moved_by_a_rule_and_found_again_where_it_was_does_not_count_a_crossing_back() {
        // Track 2, first seen past the line, takes track 1's crossing over.
        let mut c = LineCounter::new(&ground()).expect("counter");
        let events = hidden_while_another_walks_on(&mut c, 160.0, &[(4.0, 170.0), (5.0, 180.0)]);
        assert_eq!(events.len(), 1, "{events:?}");
        // Track 1 is measured again west of the line, where it vanished: it
        // never crossed east, so it does not cross back west either.
        assert!(c.update(6.0, 640, &[obs(1, 70.0), seen(2, 190.0, 160.0, 4.0)]).is_empty());
        // Its walker then crosses: counted once.
        let later = c.update(7.0, 640, &[obs(1, 130.0)]);
        assert_eq!(later.iter().map(|e| (e.direction, e.track)).collect::<Vec<_>>(), [(Direction::Positive, 1)]);
    }

    #[test]
    fn a_handover_between_tracks_that_vanished_together_goes_to_the_lower_id() {
        // Tracks 5 and 3 vanish in the same frame; a walker is found past the
        // line; the crossing is handed over from track 3 whatever the order
        // of the counter's hash map (a new one each time).
        for _ in 0..20 {
            let mut c = LineCounter::new(&ground()).expect("counter");
            c.update(0.0, 640, &[obs(5, 40.0), obs(3, 40.0)]);
            c.update(1.0, 640, &[obs(5, 90.0), obs(3, 90.0)]);
            let hidden = [5, 3].map(|id| TrackObservation { state: TrackState::Lost, ..obs(id, 100.0) });
            assert_eq!(c.update(2.0, 640, &[hidden[0], hidden[1], seen(9, 170.0, 160.0, 1.5)]).len(), 1);
            // Track 3's crossing was handed over; track 5's was not.
            assert!(c.update(3.0, 640, &[obs(3, 150.0), hidden[0]]).is_empty());
            assert_eq!(c.update(4.0, 640, &[obs(3, 160.0), obs(5, 150.0)]).len(), 1);
        }
    }

    #[test]
    fn a_track_still_walking_towards_the_line_is_not_handed_over() {
        // Track 1 is still seen west of the line (walking east) after track
        // 2 appears east of it: they are two people.
        for two_first in [false, true] {
            let mut c = LineCounter::new(&ground()).expect("counter");
            c.update(0.0, 640, &[obs(1, 60.0)]);
            c.update(1.0, 640, &[obs(1, 75.0)]);
            let mut events = Vec::new();
            for (time, x1, x2) in [(2.0, 85.0, 170.0), (3.0, 95.0, 180.0)] {
                let mut both = [obs(1, x1), seen(2, x2, 160.0, 1.5)];
                if two_first {
                    both.reverse();
                }
                events.extend(c.update(time, 640, &both));
            }
            assert!(events.is_empty(), "{events:?}");
            // Track 1 crosses itself later: one count.
            assert_eq!(c.update(4.0, 640, &[obs(1, 130.0)]).len(), 1);
        }
    }

    #[test]
    fn a_track_that_crosses_back_counts_every_crossing() {
        // One track following one walker east, then (after an identity
        // switch in a crowd) another walking west, then a third east.
        let mut c = LineCounter::new(&ground()).expect("counter");
        let events = walk(&mut c, 6, &[30.0, 60.0, 140.0, 170.0, 140.0, 60.0, 30.0, 60.0, 140.0]);
        let directions: Vec<_> = events.iter().map(|e| e.direction).collect();
        assert_eq!(directions, [Direction::Positive, Direction::Negative, Direction::Positive]);
    }

    #[test]
    fn coasting_predictions_do_not_move_a_track_across() {
        let mut c = LineCounter::new(&ground()).expect("counter");
        c.update(0.0, 640, &[obs(1, 50.0)]);
        let ghost = TrackObservation { state: TrackState::Lost, ..obs(1, 150.0) };
        assert!(c.update(1.0, 640, &[ghost]).is_empty());
        // Seen again on the far side: now it counts, at a time between the two measurements.
        let e = c.update(2.0, 640, &[obs(1, 150.0)]);
        assert_eq!(e.len(), 1);
        assert!((e[0].time_s - 1.0).abs() < 1e-9, "{e:?}");
    }

    #[test]
    fn downscaled_frames_are_mapped_back_to_native_pixels() {
        let mut c = LineCounter::new(&ground()).expect("counter");
        c.update(0.0, 320, &[obs(1, 20.0)]);
        assert_eq!(c.update(1.0, 320, &[obs(1, 80.0)]).len(), 1);
    }

    #[test]
    fn ended_tracks_are_pruned() {
        let mut c = LineCounter::new(&ground()).expect("counter");
        c.update(0.0, 640, &[obs(1, 50.0), obs(2, 60.0)]);
        assert_eq!(c.tracked_states(), 2);
        c.update(1.0, 640, &[obs(2, 70.0)]);
        assert_eq!(c.tracked_states(), 1);
    }

    #[test]
    fn several_lines_count_apart_with_their_index() {
        let mut g = ground();
        g.lines.push(LineSpec {
            id: "m".into(),
            shape: LineShape::Ground { from: [2.0, 0.0], to: [2.0, 2.0] },
            dead_band: 0.2,
        });
        let mut c = LineCounter::new(&g).expect("counter");
        let events = walk(&mut c, 1, &[50.0, 150.0, 250.0]);
        assert_eq!(events.iter().map(|e| e.line).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn image_polylines_count_in_pixels_with_screen_left_to_right() {
        // A vertical polyline at x = 100 px going down the screen (y grows):
        // seen on the screen, walking right crosses it from its left... which,
        // looking from the first point (top) to the last (bottom), is its
        // right: negative.
        let g = CountingGeometry {
            lines: vec![LineSpec {
                id: "img".into(),
                shape: LineShape::Image { points: vec![[100.0, 0.0], [100.0, 60.0], [100.0, 120.0]] },
                dead_band: 5.0,
            }],
            image_to_ground: None,
            native_width: 640,
        };
        let mut c = LineCounter::new(&g).expect("counter");
        let e = walk(&mut c, 1, &[60.0, 98.0, 140.0]);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].direction, Direction::Negative);
        // Beyond the polyline's lower end nothing counts.
        let mut below = obs(2, 60.0);
        below.bbox[3] = 200.0;
        c.update(0.0, 640, &[below]);
        below.bbox = [130.0, 150.0, 150.0, 200.0];
        assert!(c.update(1.0, 640, &[below]).is_empty());
    }

    #[test]
    fn ground_lines_need_a_calibration() {
        let mut g = ground();
        g.image_to_ground = None;
        assert_eq!(LineCounter::new(&g).err(), Some(CounterError::NoCalibration("l".into())));
    }
}
