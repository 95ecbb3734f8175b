//! Low-resolution thermal arrays: thermopile grids looking straight down
//! over a doorway or a crossing.
//!
//! An 8×8 grid (Panasonic Grid-EYE class, 60° field of view, 10 Hz) or a
//! 32×24 grid (Melexis MLX90640 class, 110°×75° wide-angle lens) sees only
//! temperatures: a few warm pixels per person, no face, no shape, no
//! identity. The model renders each frame's heat image from ground truth
//! (every person a Gaussian warm blob, every car a larger and cooler one,
//! each pixel the blob's share of its footprint, plus sensor noise), keeps a
//! running background, finds warm blobs (8-connected pixels above the
//! background by `threshold_c`), follows them with a nearest-neighbour
//! tracker and counts each track crossing the counting line. Blobs larger
//! than a car's footprint are reported as cars; two people close together
//! merge into one blob, which is this sensor's main error.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{CostProfile, LineFrame, SensorCount, SensorFault, check_on_map, check_range, fault, ground};
use crate::street::StreetLayout;
use crate::world::{AgentPose, Direction, ObjectClass, Snapshot};

/// The grid of a thermopile array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resolution {
    /// 8×8 pixels.
    #[serde(rename = "8x8")]
    Grid8x8,
    /// 32×24 pixels.
    #[serde(rename = "32x24")]
    Grid32x24,
}

impl Resolution {
    /// Pixels across and down.
    pub fn size(self) -> (usize, usize) {
        match self {
            Self::Grid8x8 => (8, 8),
            Self::Grid32x24 => (32, 24),
        }
    }

    /// The usual lens: field of view across and down, degrees (Grid-EYE
    /// 60°×60°; MLX90640 wide-angle 110°×75°, datasheets).
    pub fn default_fov_deg(self) -> [f32; 2] {
        match self {
            Self::Grid8x8 => [60.0, 60.0],
            Self::Grid32x24 => [110.0, 75.0],
        }
    }

    /// Noise of one pixel, °C standard deviation (NETD at 10 Hz: about
    /// 0.16 °C for the Grid-EYE in high-gain mode, about 0.1 °C for the
    /// MLX90640 at 4 Hz, worse at 10 Hz; datasheet orders of magnitude).
    pub fn default_noise_c(self) -> f32 {
        match self {
            Self::Grid8x8 => 0.16,
            Self::Grid32x24 => 0.2,
        }
    }

    /// Sensor module on an edge board, mounting and upkeep (assumption:
    /// component prices plus a ceiling or mast mount).
    pub fn cost(self) -> CostProfile {
        match self {
            Self::Grid8x8 => CostProfile {
                hardware_eur: 150.0,
                installation_eur: 300.0,
                operation_eur_per_year: 60.0,
                basis: "assumption (component prices, order of magnitude)",
            },
            Self::Grid32x24 => CostProfile {
                hardware_eur: 250.0,
                installation_eur: 300.0,
                operation_eur_per_year: 60.0,
                basis: "assumption (component prices, order of magnitude)",
            },
        }
    }
}

/// A thermal array in the scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThermalSpec {
    /// Identifier used in outputs.
    pub id: String,
    /// The counting line its virtual line follows.
    pub line: String,
    /// The point on the ground below the sensor `[x, y]`, metres.
    pub position: [f32; 2],
    /// Mounting height, metres.
    #[serde(default = "default_height")]
    pub height_m: f32,
    /// `"8x8"` or `"32x24"`.
    pub resolution: Resolution,
    /// Field of view across (x) and down (y), degrees; the usual lens of
    /// the resolution if absent.
    #[serde(default)]
    pub fov_deg: Option<[f32; 2]>,
    /// Frames per second; must divide the scenario's `step_hz`.
    #[serde(default = "default_fps")]
    pub fps: u32,
    /// Pixel noise, °C standard deviation; the resolution's usual if absent.
    #[serde(default)]
    pub noise_c: Option<f32>,
    /// Background temperature, °C.
    #[serde(default = "default_ambient")]
    pub ambient_c: f32,
    /// How much warmer a bare-headed person's head and shoulders look than
    /// the background, °C (others look cooler, see
    /// [`Self::person_contrast_spread`]).
    #[serde(default = "default_contrast")]
    pub person_contrast_c: f32,
    /// A pixel this much above the background is warm, °C.
    #[serde(default = "default_threshold")]
    pub threshold_c: f32,
    /// How much people differ in the heat they show from above: each
    /// person's contrast is `person_contrast_c × (1 − spread × |z|)` for a
    /// normal draw `z` (at least 0.4 of it), as hair, a hat, a hood or a
    /// winter coat hide the warm head and shoulders to different degrees
    /// (people in thick winter clothing lowered a 32×32 array's precision in
    /// Klir, Lerch, Benkner & Khanh, Sensors 25(2) 419, 2025, doi
    /// 10.3390/s25020419). 0.25 is an assumption. Without it every person
    /// would show exactly `person_contrast_c`, and a contrast just under the
    /// threshold would hide everyone at once.
    #[serde(default = "default_contrast_spread")]
    pub person_contrast_spread: f32,
}

fn default_height() -> f32 {
    3.0
}
fn default_fps() -> u32 {
    10
}
fn default_ambient() -> f32 {
    20.0
}
/// A bare-headed person's contrast: 7.5 °C, so that people's mean
/// contrast (0.8 of it with the default spread) is the 6 °C assumed before
/// people differed.
fn default_contrast() -> f32 {
    7.5
}
fn default_threshold() -> f32 {
    1.2
}
fn default_contrast_spread() -> f32 {
    0.25
}

/// The least of one person's contrast factor: nobody is invisible.
const CONTRAST_FACTOR_MIN: f32 = 0.4;

/// One person's contrast relative to a bare-headed person's
/// (`person_contrast_c`): `1 − spread × |z|` for a normal draw `z`, at
/// least [`CONTRAST_FACTOR_MIN`]. One-sided, as hair, hats and hoods only
/// hide heat; nothing shows warmer than bare skin. Keyed by the scenario
/// seed and the agent's id alone (a SplitMix64 hash), so every array sees
/// the same person alike.
fn contrast_factor(seed: u64, agent: u32, spread: f32) -> f32 {
    if spread <= 0.0 {
        return 1.0;
    }
    let mut rng = super::SplitMix64(seed ^ 0x7E4A_1C0D_u64 ^ (u64::from(agent) << 32) ^ u64::from(agent));
    let (u1, u2) = (rng.unit().max(1e-7), rng.unit());
    let z = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos();
    (1.0 - spread * z.abs()).max(CONTRAST_FACTOR_MIN)
}

/// Standard deviation of a person's heat footprint seen from above, metres
/// (head and shoulders, about 0.5 m across).
const PERSON_SIGMA_M: f32 = 0.13;
/// A car's contrast, °C: bonnet and exhaust warm, body near ambient (assumption).
const CAR_CONTRAST_C: f32 = 3.0;
/// Blobs larger than this are reported as cars, m².
const CAR_BLOB_M2: f32 = 3.0;
/// Background update rate of pixels that are not warm, per frame.
const BACKGROUND_ALPHA: f32 = 0.05;
/// Fastest plausible blob motion, m/s (a running person).
const MAX_SPEED_MPS: f32 = 4.0;
/// Frames a track survives without a blob.
const MAX_MISSED_FRAMES: u32 = 2;

impl ThermalSpec {
    pub(super) fn validate(&self, layout: &StreetLayout, step_hz: u32) -> Result<(), SensorFault> {
        check_on_map(layout, self.position)?;
        check_range("height_m", self.height_m, 1.5, 15.0, " m")?;
        if let Some(f) = self.fov_deg {
            check_range("fov_deg", f[0], 10.0, 140.0, " degrees")?;
            check_range("fov_deg", f[1], 10.0, 140.0, " degrees")?;
        }
        if self.fps == 0 || !step_hz.is_multiple_of(self.fps) {
            return Err(fault("fps", format!("{} must divide scenario.step_hz {step_hz}", self.fps)));
        }
        if let Some(n) = self.noise_c {
            check_range("noise_c", n, 0.0, 5.0, " °C")?;
        }
        check_range("ambient_c", self.ambient_c, -40.0, 45.0, " °C")?;
        check_range("person_contrast_c", self.person_contrast_c, 0.0, 30.0, " °C")?;
        check_range("threshold_c", self.threshold_c, 0.05, 20.0, " °C")?;
        check_range("person_contrast_spread", self.person_contrast_spread, 0.0, 1.0, "")
    }

    /// Half the ground footprint `[x, y]`, metres.
    pub fn half_footprint(&self) -> [f32; 2] {
        let fov = self.fov_deg.unwrap_or_else(|| self.resolution.default_fov_deg());
        [self.height_m * (fov[0].to_radians() / 2.0).tan(), self.height_m * (fov[1].to_radians() / 2.0).tan()]
    }
}

/// The integral of a unit Gaussian of standard deviation `s` centred on 0
/// over `[a, b]`.
fn gauss_mass(a: f32, b: f32, s: f32) -> f32 {
    let k = std::f32::consts::FRAC_1_SQRT_2 / s;
    0.5 * (erf(b * k) - erf(a * k))
}

/// Abramowitz & Stegun 7.1.26, error below 1.5e-7.
fn erf(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = 1.0
        - (((((1.061_405_4 * t - 1.453_152_1) * t) + 1.421_413_8) * t - 0.284_496_72) * t + 0.254_829_6)
            * t
            * (-x * x).exp();
    if x >= 0.0 { y } else { -y }
}

#[derive(Debug, Clone)]
struct Track {
    pos: [f32; 2],
    missed: u32,
    last_counted: Option<Direction>,
}

/// A running thermal array with its blob tracker.
#[derive(Debug, Clone)]
pub struct ThermalCounter {
    spec: ThermalSpec,
    line: LineFrame,
    size: (usize, usize),
    half: [f32; 2],
    noise_c: f32,
    steps_per_frame: u64,
    frame_dt: f32,
    background: Option<Vec<f32>>,
    tracks: Vec<Track>,
    /// Warm area of one person, m², measured at commissioning.
    person_area_m2: f32,
    /// The scenario seed, for each person's contrast ([`contrast_factor`]).
    seed: u64,
    rng: ChaCha8Rng,
    counts: Vec<SensorCount>,
}

impl ThermalCounter {
    /// An array for `spec` whose virtual line is `line`.
    pub fn new(spec: ThermalSpec, line: LineFrame, seed: u64, step_hz: u32) -> Self {
        let fps = spec.fps.max(1);
        Self {
            size: spec.resolution.size(),
            half: spec.half_footprint(),
            noise_c: spec.noise_c.unwrap_or_else(|| spec.resolution.default_noise_c()),
            steps_per_frame: u64::from((step_hz / fps).max(1)),
            frame_dt: 1.0 / fps as f32,
            rng: super::sensor_rng(seed, &spec.id, 1),
            seed,
            spec,
            line,
            background: None,
            tracks: Vec::new(),
            person_area_m2: 0.0,
            counts: Vec::new(),
        }
        .commissioned()
    }

    /// Measures the warm area of one person standing at a few places under
    /// the sensor, without noise, as an installer's calibration walk would:
    /// a blob several times larger is several people.
    fn commissioned(mut self) -> Self {
        let c = self.spec.position;
        let (w, h) = self.size;
        let step = [self.half[0] / w as f32, self.half[1] / h as f32];
        let pixel_area = self.pixel_area_m2();
        let mut areas = Vec::new();
        for (fx, fy) in [(0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5), (0.25, 0.75)] {
            let snap = Snapshot {
                step: 0,
                time_s: 0.0,
                agents: vec![crate::world::AgentPose {
                    id: 0,
                    class: ObjectClass::Person,
                    instance: crate::geometry::Instance {
                        mesh: crate::geometry::MeshKey(0),
                        translation: [c[0] + fx * 2.0 * step[0], c[1] + fy * 2.0 * step[1], 0.0],
                        yaw_rad: 0.0,
                    },
                    height_m: 1.7,
                }],
            };
            let img = self.heat(&snap.agents.iter().collect::<Vec<_>>(), false);
            let warm: Vec<bool> = img.iter().map(|v| v - self.spec.ambient_c > self.spec.threshold_c).collect();
            areas.push(warm.iter().filter(|w| **w).count() as f32 * pixel_area);
        }
        // The largest: a lone person anywhere under the grid counts once.
        // At least one pixel: where the usual person is too faint to show at
        // all, a blob of one pixel is one person, not hundreds.
        self.person_area_m2 = areas.iter().copied().fold(pixel_area, f32::max);
        self
    }

    /// Simulation steps between two frames.
    pub fn steps_per_frame(&self) -> u64 {
        self.steps_per_frame
    }

    /// Ground area one pixel sees, m².
    fn pixel_area_m2(&self) -> f32 {
        let (w, h) = self.size;
        let [hx, hy] = self.half;
        (2.0 * hx / w as f32) * (2.0 * hy / h as f32)
    }

    /// Ground coordinates of pixel `(i, j)`'s corners `[x0, y0, x1, y1]`.
    fn pixel_rect(&self, i: usize, j: usize) -> [f32; 4] {
        let (w, h) = self.size;
        let [hx, hy] = self.half;
        let (px, py) = (2.0 * hx / w as f32, 2.0 * hy / h as f32);
        let x0 = self.spec.position[0] - hx + i as f32 * px;
        let y0 = self.spec.position[1] - hy + j as f32 * py;
        [x0, y0, x0 + px, y0 + py]
    }

    /// The heat image of one snapshot, °C, row-major (`j * width + i`).
    pub fn render(&mut self, snap: &Snapshot) -> Vec<f32> {
        self.render_agents(&snap.agents.iter().collect::<Vec<_>>())
    }

    /// The heat image of `agents`, with noise.
    fn render_agents(&mut self, agents: &[&AgentPose]) -> Vec<f32> {
        let mut img = self.heat(agents, true);
        for v in &mut img {
            *v += self.noise_c * normal(&mut self.rng);
        }
        img
    }

    /// The noise-free heat image; each person at their own contrast when
    /// `vary`, else at the usual person's (the commissioning walk).
    fn heat(&self, agents: &[&AgentPose], vary: bool) -> Vec<f32> {
        let (w, h) = self.size;
        let [hx, hy] = self.half;
        let pixel_area = self.pixel_area_m2();
        let mut img = vec![self.spec.ambient_c; w * h];
        let c = self.spec.position;
        for a in agents {
            let p = ground(a);
            let (contrast, sx, sy, area) = match a.class {
                // A cyclist is a warm person on a cold frame.
                ObjectClass::Person | ObjectClass::Bicycle => {
                    let s = PERSON_SIGMA_M;
                    let factor =
                        if vary { contrast_factor(self.seed, a.id, self.spec.person_contrast_spread) } else { 1.0 };
                    (self.spec.person_contrast_c * factor, s, s, 2.0 * std::f32::consts::PI * s * s)
                }
                _ => {
                    let [l, wd, _] = a.vehicle_size_m();
                    (CAR_CONTRAST_C, l / 2.5, wd / 2.5, l * wd)
                }
            };
            if (p[0] - c[0]).abs() > hx + 4.0 * sx || (p[1] - c[1]).abs() > hy + 4.0 * sy {
                continue;
            }
            // Only pixels within four standard deviations get any heat; the
            // Gaussian is separable, so columns and rows are integrated once.
            let (px, py) = (2.0 * hx / w as f32, 2.0 * hy / h as f32);
            let (x0, y0) = (c[0] - hx, c[1] - hy);
            let first = |lo: f32, size: f32, n: usize| ((lo / size).floor().max(0.0) as usize).min(n);
            let end = |hi: f32, size: f32, n: usize| (((hi / size).floor() + 1.0).max(0.0) as usize).min(n);
            let (i0, i1) = (first(p[0] - 4.0 * sx - x0, px, w), end(p[0] + 4.0 * sx - x0, px, w));
            let (j0, j1) = (first(p[1] - 4.0 * sy - y0, py, h), end(p[1] + 4.0 * sy - y0, py, h));
            let mx: Vec<f32> = (i0..i1)
                .map(|i| {
                    let r = self.pixel_rect(i, 0);
                    gauss_mass(r[0] - p[0], r[2] - p[0], sx)
                })
                .collect();
            for j in j0..j1 {
                let r = self.pixel_rect(0, j);
                let my = gauss_mass(r[1] - p[1], r[3] - p[1], sy);
                for i in i0..i1 {
                    let mass = mx[i - i0] * my;
                    if mass > 1e-4 {
                        // The share of the pixel the warm body fills.
                        let fill = (mass * area / pixel_area).min(1.0);
                        img[j * w + i] += contrast * fill;
                    }
                }
            }
        }
        img
    }

    /// Looks at one step with every agent as a candidate.
    pub fn observe(&mut self, snap: &Snapshot) {
        let all: Vec<&AgentPose> = snap.agents.iter().collect();
        self.observe_near(snap, &all);
    }

    /// The stretch of street `[x_min, x_max]` the sensor can sense: agents
    /// elsewhere need not be offered to it.
    pub fn x_range(&self) -> [f32; 2] {
        [self.spec.position[0] - self.half[0] - 3.0, self.spec.position[0] + self.half[0] + 3.0]
    }

    /// Looks at one step, `agents` being those within [`Self::x_range`]:
    /// renders and analyses a frame at the array's rate.
    pub fn observe_near(&mut self, snap: &Snapshot, agents: &[&AgentPose]) {
        if !snap.step.is_multiple_of(self.steps_per_frame) {
            return;
        }
        let img = self.render_agents(agents);
        let background = self.background.get_or_insert_with(|| {
            // Start from the median: most of the floor is empty.
            let mut sorted = img.clone();
            sorted.sort_by(f32::total_cmp);
            vec![sorted[sorted.len() / 2]; img.len()]
        });
        let warm: Vec<bool> = img.iter().zip(background.iter()).map(|(v, b)| v - b > self.spec.threshold_c).collect();
        for ((b, v), hot) in background.iter_mut().zip(&img).zip(&warm) {
            if !hot {
                *b += BACKGROUND_ALPHA * (v - *b);
            }
        }
        let blobs = self.blobs(&img, &warm);
        self.track(blobs, snap.time_s);
    }

    /// Warm blobs: centroid weighted by excess heat, and area in m².
    fn blobs(&self, img: &[f32], warm: &[bool]) -> Vec<([f32; 2], f32)> {
        let (w, h) = self.size;
        let bg = self.background.as_deref().unwrap_or(img);
        let pixel_area = self.pixel_area_m2();
        let mut label = vec![usize::MAX; w * h];
        let mut out = Vec::new();
        for start in 0..w * h {
            if !warm[start] || label[start] != usize::MAX {
                continue;
            }
            let id = out.len();
            let mut stack = vec![start];
            label[start] = id;
            let (mut sx, mut sy, mut sw, mut n) = (0.0f32, 0.0f32, 0.0f32, 0u32);
            while let Some(k) = stack.pop() {
                let (i, j) = (k % w, k / w);
                let r = self.pixel_rect(i, j);
                let weight = (img[k] - bg[k]).max(1e-3);
                sx += weight * (r[0] + r[2]) / 2.0;
                sy += weight * (r[1] + r[3]) / 2.0;
                sw += weight;
                n += 1;
                for dj in -1i64..=1 {
                    for di in -1i64..=1 {
                        let (ni, nj) = (i as i64 + di, j as i64 + dj);
                        if ni < 0 || nj < 0 || ni >= w as i64 || nj >= h as i64 {
                            continue;
                        }
                        let nk = nj as usize * w + ni as usize;
                        if warm[nk] && label[nk] == usize::MAX {
                            label[nk] = id;
                            stack.push(nk);
                        }
                    }
                }
            }
            out.push(([sx / sw, sy / sw], n as f32 * pixel_area));
        }
        out
    }

    /// Greedy nearest-neighbour association, then line crossings.
    fn track(&mut self, blobs: Vec<([f32; 2], f32)>, time_s: f32) {
        let gate = MAX_SPEED_MPS * self.frame_dt * (1 + MAX_MISSED_FRAMES) as f32 + 0.3;
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (ti, t) in self.tracks.iter().enumerate() {
            for (bi, b) in blobs.iter().enumerate() {
                let d = (t.pos[0] - b.0[0]).hypot(t.pos[1] - b.0[1]);
                if d <= gate {
                    pairs.push((d, ti, bi));
                }
            }
        }
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut track_used = vec![false; self.tracks.len()];
        let mut blob_used = vec![false; blobs.len()];
        for (_, ti, bi) in pairs {
            if track_used[ti] || blob_used[bi] {
                continue;
            }
            track_used[ti] = true;
            blob_used[bi] = true;
            let (to, area) = blobs[bi];
            let from = self.tracks[ti].pos;
            if let Some((_, side_before)) = crate::world::segment_crossing(
                self.line.from,
                [
                    self.line.from[0] + self.line.tangent[0] * self.line.length,
                    self.line.from[1] + self.line.tangent[1] * self.line.length,
                ],
                from,
                to,
            ) {
                let direction = if side_before > 0.0 { Direction::Positive } else { Direction::Negative };
                let t = &mut self.tracks[ti];
                // A blob jittering on the line counts once per passage.
                if t.last_counted != Some(direction) {
                    t.last_counted = Some(direction);
                    let (class, people) = if area > CAR_BLOB_M2 {
                        (ObjectClass::Car, 1)
                    } else {
                        // A blob as large as two people is two people.
                        (ObjectClass::Person, ((area / self.person_area_m2).round() as u32).max(1))
                    };
                    for _ in 0..people {
                        self.counts.push(SensorCount { time_s, direction, class });
                    }
                }
            }
            let t = &mut self.tracks[ti];
            t.pos = to;
            t.missed = 0;
        }
        for (t, used) in self.tracks.iter_mut().zip(&track_used) {
            if !used {
                t.missed += 1;
            }
        }
        self.tracks.retain(|t| t.missed <= MAX_MISSED_FRAMES);
        for (b, used) in blobs.iter().zip(blob_used) {
            if !used {
                self.tracks.push(Track { pos: b.0, missed: 0, last_counted: None });
            }
        }
    }

    /// The counts over the run.
    pub fn finish(self) -> Vec<SensorCount> {
        self.counts
    }
}

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f32 = rng.random::<f32>().max(1e-7);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Instance, MeshKey};
    use crate::scenario::CountingLine;

    fn spec(resolution: Resolution) -> ThermalSpec {
        ThermalSpec {
            id: "th".into(),
            line: "l".into(),
            position: [0.0, 5.25],
            height_m: 3.0,
            resolution,
            fov_deg: None,
            fps: 10,
            noise_c: None,
            ambient_c: 20.0,
            person_contrast_c: 7.5,
            threshold_c: 1.2,
            person_contrast_spread: 0.25,
        }
    }

    fn run(resolution: Resolution, lanes: &[(f32, f32)]) -> Vec<SensorCount> {
        let line = LineFrame::new(&CountingLine { id: "l".into(), from: [0.0, 3.5], to: [0.0, 7.0] });
        let mut th = ThermalCounter::new(spec(resolution), line, 3, 20);
        for step in 0..160u64 {
            let t = step as f32 * 0.05;
            let agents = lanes
                .iter()
                .enumerate()
                .map(|(i, &(x0, y))| AgentPose {
                    id: i as u32,
                    class: ObjectClass::Person,
                    instance: Instance { mesh: MeshKey(0), translation: [x0 - 1.3 * t, y, 0.0], yaw_rad: 0.0 },
                    height_m: 1.7,
                })
                .collect();
            th.observe(&Snapshot { step, time_s: t, agents });
        }
        th.finish()
    }

    #[test]
    fn the_heat_image_shows_a_person_where_they_stand() {
        let line = LineFrame::new(&CountingLine { id: "l".into(), from: [0.0, 3.5], to: [0.0, 7.0] });
        let alike = ThermalSpec { person_contrast_spread: 0.0, ..spec(Resolution::Grid8x8) };
        let mut th = ThermalCounter::new(alike, line, 3, 20);
        let snap = Snapshot {
            step: 0,
            time_s: 0.0,
            agents: vec![AgentPose {
                id: 1,
                class: ObjectClass::Person,
                instance: Instance { mesh: MeshKey(0), translation: [1.0, 6.0, 0.0], yaw_rad: 0.0 },
                height_m: 1.7,
            }],
        };
        let img = th.render(&snap);
        let hottest = (0..64).max_by(|&a, &b| img[a].total_cmp(&img[b])).expect("pixels");
        let r = th.pixel_rect(hottest % 8, hottest / 8);
        assert!(r[0] <= 1.0 && 1.0 <= r[2] && r[1] <= 6.0 && 6.0 <= r[3], "hottest pixel {r:?}");
        assert!(img[hottest] > 20.0 + 2.0);
    }

    #[test]
    fn a_walker_is_counted_westward_by_both_grids() {
        for res in [Resolution::Grid8x8, Resolution::Grid32x24] {
            let counts = run(res, &[(3.0, 5.0)]);
            assert_eq!(counts.len(), 1, "{res:?}: {counts:?}");
            assert_eq!(counts[0].direction, Direction::Negative);
            assert_eq!(counts[0].class, ObjectClass::Person);
        }
    }

    /// Share of 80 lone walkers, one after another, that a 32×24 array at
    /// 3.5 m counts at `contrast_c` with `spread`.
    fn lone_walkers_counted(contrast_c: f32, spread: f32) -> f32 {
        let line = LineFrame::new(&CountingLine { id: "l".into(), from: [0.0, 3.5], to: [0.0, 7.0] });
        let spec = ThermalSpec {
            height_m: 3.5,
            person_contrast_c: contrast_c,
            person_contrast_spread: spread,
            ..spec(Resolution::Grid32x24)
        };
        let mut th = ThermalCounter::new(spec, line, 11, 20);
        let walkers = 80u32;
        // One walker every 6 s, each on its own path across the line.
        for step in 0..(walkers as u64 * 120) {
            let t = step as f32 * 0.05;
            let k = (step / 120) as u32;
            let x = 4.0 - 1.3 * (t - k as f32 * 6.0);
            let agents = vec![AgentPose {
                id: k,
                class: ObjectClass::Person,
                instance: Instance {
                    mesh: MeshKey(0),
                    translation: [x, 4.2 + 0.12 * (k % 20) as f32, 0.0],
                    yaw_rad: 0.0,
                },
                height_m: 1.7,
            }];
            th.observe(&Snapshot { step, time_s: t, agents });
        }
        th.finish().len() as f32 / walkers as f32
    }

    #[test]
    fn people_differ_in_heat_so_low_contrast_loses_them_gradually() {
        // Every person alike: the share counted jumps from a quarter to
        // nine in ten over half a degree. People differing in heat: it
        // climbs over several degrees, and a contrast at which the alike
        // are all found still loses the coolest.
        let contrasts = [1.5, 2.0, 2.5, 3.0, 4.0, 5.0];
        let alike: Vec<f32> = contrasts.iter().map(|&c| lone_walkers_counted(c, 0.0)).collect();
        let differ: Vec<f32> = contrasts.iter().map(|&c| lone_walkers_counted(c, 0.25)).collect();
        assert!(alike[1] < 0.3 && alike[2] > 0.9, "alike: {alike:?}");
        assert!(differ.windows(2).all(|w| w[0] <= w[1] + 0.05), "not rising with contrast: {differ:?}");
        assert!((0.3..0.9).contains(&differ[2]) && (0.3..0.9).contains(&differ[3]), "differ: {differ:?}");
        assert!(differ[5] > 0.9 && differ[3] < alike[3] - 0.1, "alike {alike:?}, differ {differ:?}");
        // A person's factor depends on the seed and the person, not the array.
        assert_eq!(contrast_factor(5, 17, 0.25), contrast_factor(5, 17, 0.25));
        let factors: Vec<f32> = (0..200).map(|a| contrast_factor(5, a, 0.25)).collect();
        let mean = factors.iter().sum::<f32>() / 200.0;
        // Half-normal: mean 1 − 0.25 × 0.80; never warmer than bare skin.
        assert!((mean - 0.8).abs() < 0.04, "mean factor {mean}");
        assert!(factors.iter().all(|f| (CONTRAST_FACTOR_MIN..=1.0).contains(f)));
    }

    #[test]
    fn the_finer_grid_separates_people_walking_abreast() {
        let pair = [(3.0, 4.9), (3.0, 5.55)];
        assert_eq!(run(Resolution::Grid32x24, &pair).len(), 2);
        assert!(run(Resolution::Grid8x8, &pair).len() <= 2);
    }
}
