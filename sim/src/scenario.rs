//! The scenario file: plain serde structs, parsed strictly, validated apart.
//!
//! Parsing rejects unknown keys and wrong types and names the file, line,
//! column and key path of the fault; [`Scenario::validate`] then checks what
//! types cannot express (positive counts, a camera that sees the street, a
//! sensor that names an existing line).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::body::{self, VehicleKind};
use crate::geometry::CameraView;
pub use crate::privacy::PrivacyConfig;

/// A whole scenario: where, who, which cameras and sensors, for how long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name, seed and duration.
    pub scenario: ScenarioHeader,
    /// The street's shape.
    pub street: Street,
    /// Sun and sky.
    #[serde(default)]
    pub lighting: crate::geometry::Lighting,
    /// Pedestrian demand.
    pub pedestrians: PedestrianDemand,
    /// Vehicle demand.
    #[serde(default)]
    pub vehicles: VehicleDemand,
    /// Cameras filming the street.
    #[serde(default)]
    pub cameras: Vec<CameraSpec>,
    /// Counting lines on the ground.
    #[serde(default)]
    pub lines: Vec<CountingLine>,
    /// Areas on the ground: zones whose occupancy and dwell are measured,
    /// and sensitive places whose filming weighs on intrusiveness.
    #[serde(default)]
    pub zones: Vec<ZoneSpec>,
    /// Less intrusive sensors: infrared and thermal counters, presence
    /// detectors, loops, magnetometers, radio scanners, manual counts.
    #[serde(default)]
    pub sensors: Vec<crate::sensors::SensorSpec>,
    /// Parked cars in bays along a curb; none if absent.
    #[serde(default)]
    pub parking: Option<ParkingSpec>,
    /// Named privacy configurations, each applied to every camera's
    /// analytics in a run of its own (one default configuration when none
    /// is given).
    #[serde(default)]
    pub privacy: Vec<PrivacyConfig>,
    /// How counts are aggregated before they leave the device.
    #[serde(default)]
    pub aggregation: AggregationConfig,
}

/// Identity, randomness and time of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioHeader {
    /// Human-readable name, shown in reports.
    pub name: String,
    /// Seed of every random choice: same seed, same results.
    pub seed: u64,
    /// Simulated time, seconds.
    pub duration_s: f32,
    /// Fixed simulation steps per second; every camera's fps must divide it.
    #[serde(default = "default_step_hz")]
    pub step_hz: u32,
    /// Seconds the street is simulated before the first step anyone sees
    /// (0 by default). Those already on the street at the start are placed
    /// where free walking would have taken them, regardless of each other,
    /// so they start bunched; a warm-up lets them sort themselves out
    /// before the cameras, sensors and ground truth begin.
    #[serde(default)]
    pub warm_up_s: f32,
}

/// Longest warm-up a scenario may ask for, seconds: long enough for anyone
/// to walk a long street, short enough that a typo does not simulate hours.
pub const MAX_WARM_UP_S: f32 = 600.0;

/// Most simulation steps a scenario may ask for (2^21: 29 hours at the
/// default 20 Hz, a day and then some). Simulated time is kept in single
/// precision; beyond this its rounding reaches a quarter of a step and two
/// steps could carry the same time. Longer periods run as several scenarios.
pub const MAX_STEPS: u64 = 1 << 21;

fn default_step_hz() -> u32 {
    20
}

/// A straight street along the x axis, centred on the origin: a two-lane road
/// between two sidewalks, lined by building facades.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Street {
    /// Length of the modelled stretch, metres (from -length/2 to +length/2).
    pub length_m: f32,
    /// Carriageway width, metres, centred on y = 0.
    pub road_width_m: f32,
    /// Width of each sidewalk, metres.
    pub sidewalk_width_m: f32,
    /// Height of the facades, metres.
    #[serde(default = "default_building_height")]
    pub building_height_m: f32,
}

fn default_building_height() -> f32 {
    12.0
}

/// How many pedestrians use the street and how they walk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PedestrianDemand {
    /// Pedestrians present over the whole run (those already walking at the
    /// start included), both sidewalks and both directions.
    pub count: u32,
    /// Share of pedestrians who walk in a group of two or three, 0..=1.
    #[serde(default = "default_group_share")]
    pub group_share: f32,
    /// Share of pedestrians who are children, 0..=1 (0 by default: about one
    /// person in six in France is under 15 by INSEE's population estimates,
    /// but a street's share depends on the place and the hour, near a
    /// school far more: set it per scenario).
    #[serde(default)]
    pub child_share: f32,
    /// Mean free walking speed, m/s (1.34 m/s: Weidmann 1993, cited by Helbing 2000).
    #[serde(default = "default_walk_speed")]
    pub speed_mean_mps: f32,
    /// Standard deviation of the free walking speed, m/s.
    #[serde(default = "default_walk_sd")]
    pub speed_sd_mps: f32,
}

fn default_group_share() -> f32 {
    0.3
}
fn default_walk_speed() -> f32 {
    1.34
}
fn default_walk_sd() -> f32 {
    0.26
}

/// How many cars drive through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleDemand {
    /// Cars over the whole run, both directions.
    #[serde(default)]
    pub count: u32,
    /// Mean speed, m/s (8.3 m/s = 30 km/h, a city-centre limit).
    #[serde(default = "default_car_speed")]
    pub speed_mean_mps: f32,
    /// Largest acceleration of a car gathering speed, m/s². Without it a
    /// car takes a new speed at once, as on the free-flowing streets
    /// rendered before signals existed; a street with signals should set it
    /// (cars pulling away from a queue), see docs/SCENARIO.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_accel_mps2: Option<f32>,
    /// Traffic signals: stop lines across the road where cars wait on red,
    /// so that queues form and discharge (over a loop, for instance).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<SignalSpec>,
    /// Shares of each kind of vehicle in the traffic; all cars without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<VehicleMix>,
}

/// The traffic's composition: the share of each kind of vehicle, the shares
/// summing to one. Real traffic is not all cars (Great Britain, 2023,
/// vehicle miles on all roads: cars 76 %, vans 17 %, lorries 5 %, buses and
/// coaches 1 %, motorcycles 1 %; Department for Transport, road traffic
/// estimates), and a single loop's speed estimate and a camera's classes
/// both depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleMix {
    /// Passenger cars (of the four car models).
    #[serde(default)]
    pub car: f32,
    /// Light commercial vans.
    #[serde(default)]
    pub van: f32,
    /// City buses.
    #[serde(default)]
    pub bus: f32,
    /// Rigid lorries.
    #[serde(default)]
    pub truck: f32,
    /// Motorcycles.
    #[serde(default)]
    pub motorcycle: f32,
    /// Bicycles, ridden in the road at [`body::BICYCLE_SPEED_MPS`] (cars do
    /// not overtake them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bicycle: f32,
}

fn is_zero(v: &f32) -> bool {
    *v == 0.0
}

impl VehicleMix {
    /// Each kind with its share, in a fixed order.
    pub fn shares(&self) -> [(VehicleKind, f32); 6] {
        [
            (VehicleKind::Car, self.car),
            (VehicleKind::Van, self.van),
            (VehicleKind::Bus, self.bus),
            (VehicleKind::Truck, self.truck),
            (VehicleKind::Motorcycle, self.motorcycle),
            (VehicleKind::Bicycle, self.bicycle),
        ]
    }
}

impl VehicleDemand {
    /// The traffic in words for summaries: "40 cars", or with a mix
    /// "40 vehicles (76 % car, 17 % van, ...)".
    pub fn describe(&self) -> String {
        let Some(mix) = &self.mix else { return format!("{} cars", self.count) };
        let parts: Vec<String> = mix
            .shares()
            .iter()
            .filter(|(_, share)| *share > 0.0)
            .map(|(kind, share)| format!("{:.0} % {}", share * 100.0, kind.name()))
            .collect();
        format!("{} vehicles ({})", self.count, parts.join(", "))
    }

    /// The vehicle model for a uniform random number `u` in [0, 1): the
    /// kind from the mix, then (for a car) the car model from where `u` fell
    /// within the cars' share. Without a mix every vehicle is a car and the
    /// car model comes from `u` itself, as before mixes existed, so a
    /// scenario without one draws the same cars.
    pub fn model_for(&self, u: f32) -> u8 {
        let Some(mix) = &self.mix else { return body::car_model_for(u) };
        let mut acc = 0.0;
        let shares = mix.shares();
        for (kind, share) in shares {
            if share > 0.0 && u < acc + share {
                return kind.model_for((u - acc) / share);
            }
            acc += share;
        }
        let last = shares.iter().rev().find(|(_, s)| *s > 0.0).map_or(VehicleKind::Car, |(k, _)| *k);
        last.model_for(0.999)
    }
}

fn default_car_speed() -> f32 {
    8.3
}

impl Default for VehicleDemand {
    fn default() -> Self {
        Self { count: 0, speed_mean_mps: default_car_speed(), max_accel_mps2: None, signals: Vec::new(), mix: None }
    }
}

/// A fixed-time traffic signal: a stop line across both lanes at `x_m`,
/// green for `green_s` of every `cycle_s` from `offset_s` on, red (amber
/// included) the rest of the cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalSpec {
    /// Identifier, unique among the signals.
    pub id: String,
    /// Where the stop line crosses the road, metres along the street (east).
    pub x_m: f32,
    /// Length of one cycle, seconds.
    #[serde(default = "default_cycle")]
    pub cycle_s: f32,
    /// Green time in each cycle, seconds.
    #[serde(default = "default_green")]
    pub green_s: f32,
    /// When the first green starts, seconds into the run.
    #[serde(default)]
    pub offset_s: f32,
}

fn default_cycle() -> f32 {
    60.0
}
fn default_green() -> f32 {
    30.0
}

impl SignalSpec {
    /// Whether cars must stop at time `t_s`.
    pub fn is_red(&self, t_s: f32) -> bool {
        (t_s - self.offset_s).rem_euclid(self.cycle_s) >= self.green_s
    }
}

/// A fixed camera on a pole or facade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraSpec {
    /// Identifier used in outputs.
    pub id: String,
    /// Optical centre (east, north, height), metres.
    pub position: [f32; 3],
    /// Heading, degrees counter-clockwise from east.
    pub yaw_deg: f32,
    /// Tilt below the horizon, degrees.
    pub pitch_deg: f32,
    /// Horizontal field of view, degrees.
    pub hfov_deg: f32,
    /// Native image width, pixels.
    pub width: u32,
    /// Native image height, pixels.
    pub height: u32,
    /// Native frame rate, frames per second.
    pub fps: u32,
}

impl CameraSpec {
    /// The pinhole view this camera films.
    pub fn view(&self) -> CameraView {
        CameraView {
            position: self.position,
            yaw_deg: self.yaw_deg,
            pitch_deg: self.pitch_deg,
            hfov_deg: self.hfov_deg,
            width: self.width,
            height: self.height,
        }
    }
}

/// A counting line on the ground. Crossing it from its left to its right
/// (looking from `from` to `to`) is direction `positive`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountingLine {
    /// Identifier used in outputs.
    pub id: String,
    /// First end (east, north), metres.
    pub from: [f32; 2],
    /// Second end (east, north), metres.
    pub to: [f32; 2],
}

/// What a zone is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    /// A counting zone: its occupancy and people's dwell time are measured
    /// (a bus stop, a terrace, a square).
    #[default]
    Count,
    /// A sensitive place (the entrance of a hospital, a place of worship, a
    /// union or political office, a school): filming people there reveals
    /// health, religion, opinions or minors, so person-seconds in view inside
    /// it weigh on a configuration's intrusiveness (domain brief §3).
    Sensitive,
}

/// An area on the ground, a polygon in world coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSpec {
    /// Identifier used in outputs.
    pub id: String,
    /// Corners (east, north), metres, in order around the area; at least 3.
    pub polygon: Vec<[f32; 2]>,
    /// What the zone is for (`count` by default).
    #[serde(default)]
    pub kind: ZoneKind,
    /// What is there, for reports (`"church entrance"`).
    #[serde(default)]
    pub label: Option<String>,
    /// People stop and wait here (a bus stop, a bench, a shop window): who
    /// stands still is what presence detectors miss and radio scanners see
    /// for minutes. None: everyone walks through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<WaitSpec>,
}

/// Who waits in a zone and for how long. Walkers (a group as one) whose
/// sidewalk the zone lies on stop at a point drawn inside it, stand for a
/// dwell drawn uniformly in `dwell_s`, then walk on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitSpec {
    /// Share of the walkers passing on the zone's sidewalk who stop, 0-1.
    pub share: f32,
    /// Shortest and longest wait, seconds (uniform between them: people
    /// arriving at random at a stop served every `max` seconds wait so).
    pub dwell_s: [f32; 2],
}

impl ZoneSpec {
    /// Whether a ground point lies inside the zone.
    pub fn contains(&self, p: [f32; 2]) -> bool {
        crate::geometry::point_in_polygon(p, &self.polygon)
    }

    /// The corners of the zone's bounding box, `([x_min, y_min], [x_max,
    /// y_max])`: the stretch of street a sensor over it senses, the ground a
    /// grid of points over it covers.
    pub fn bounds(&self) -> ([f32; 2], [f32; 2]) {
        self.polygon.iter().fold(([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]), |(lo, hi), p| {
            ([lo[0].min(p[0]), lo[1].min(p[1])], [hi[0].max(p[0]), hi[1].max(p[1])])
        })
    }

    /// Points on a grid of `step` metres over the bounding box, from its
    /// lower corner and with its far sides always included, that lie inside
    /// the zone: where people can stand in it, the ground a camera must see
    /// of it.
    pub fn grid(&self, step: f32) -> impl Iterator<Item = [f32; 2]> + '_ {
        let (lo, hi) = self.bounds();
        // One axis: lo, lo + step, ... below hi, then hi.
        let axis = move |k: usize| {
            let inner = (0u32..).map(move |i| lo[k] + i as f32 * step).take_while(move |v| *v < hi[k] - 1e-4);
            inner.chain((hi[k] >= lo[k]).then_some(hi[k]))
        };
        axis(0).flat_map(move |x| axis(1).map(move |y| [x, y])).filter(|p| self.contains(*p))
    }
}

/// Parking bays along one curb: cars arrive, stay and leave, each bay with
/// its own seeded stream, so parking magnetometers have something to sense.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParkingSpec {
    /// Which curb: `"north"` or `"south"`.
    pub side: ParkingSide,
    /// Number of bays, each [`BAY_LENGTH_M`] long.
    pub bays: u32,
    /// Where the first bay begins, metres along x; bays run eastwards.
    pub first_x_m: f32,
    /// Long-run share of time a bay is occupied, 0..1.
    #[serde(default = "default_bay_occupancy")]
    pub occupancy: f32,
    /// Mean stay of a parked car, seconds.
    #[serde(default = "default_stay")]
    pub mean_stay_s: f32,
}

/// Length of one parking bay, metres.
pub const BAY_LENGTH_M: f32 = 6.0;

fn default_bay_occupancy() -> f32 {
    0.7
}
fn default_stay() -> f32 {
    1800.0
}

/// A curb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParkingSide {
    /// The curb at positive y.
    North,
    /// The curb at negative y.
    South,
}

impl ParkingSpec {
    /// Centre `[x, y]` of bay `k` on a road of half-width `half_road`.
    pub fn bay_centre(&self, k: u32, half_road: f32) -> [f32; 2] {
        let y = half_road - 1.1;
        let y = match self.side {
            ParkingSide::North => y,
            ParkingSide::South => -y,
        };
        [self.first_x_m + (k as f32 + 0.5) * BAY_LENGTH_M, y]
    }
}

/// Aggregation of counts before anything leaves the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregationConfig {
    /// Length of one counting interval, seconds (60 = per-minute counts).
    #[serde(default = "default_interval")]
    pub interval_s: u32,
}

fn default_interval() -> u32 {
    60
}

impl Default for AggregationConfig {
    fn default() -> Self {
        Self { interval_s: default_interval() }
    }
}

/// Where in a scenario file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, if known.
    pub line: Option<usize>,
    /// 1-based column, if known.
    pub column: Option<usize>,
    /// Dotted key path (`cameras[0].fps`), if known.
    pub key: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": key `{k}`")?;
        }
        Ok(())
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read scenario: {cause}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The file is not valid TOML or does not match the format.
    #[error("{at}: {message}")]
    Parse {
        /// Where.
        at: Location,
        /// What is wrong.
        message: String,
    },
    /// The file parses but describes something impossible.
    #[error("{at}: {message}")]
    Invalid {
        /// Where.
        at: Location,
        /// What is wrong.
        message: String,
    },
}

impl Scenario {
    /// Reads, parses and validates a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text =
            std::fs::read_to_string(path).map_err(|cause| ScenarioError::Read { path: path.to_path_buf(), cause })?;
        let scenario = Self::parse(&text, path)?;
        scenario.validate(&text, path)?;
        Ok(scenario)
    }

    /// Parses scenario text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ScenarioError> {
        let located = |err: &toml::de::Error, key: Option<String>| {
            let (line, column) = match err.span() {
                Some(span) => {
                    let (l, c) = line_col(text, span.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            ScenarioError::Parse {
                at: Location { path: path.to_path_buf(), line, column, key },
                message: err.message().trim().to_string(),
            }
        };
        let de = toml::de::Deserializer::parse(text).map_err(|e| located(&e, None))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let message = e.inner().message().trim();
            // A fault inside a `[[sensors]]` table names its own key: point at it.
            if let Some(rest) = message.strip_prefix(crate::sensors::FIELD_ERROR_PREFIX)
                && let Some((inner, what)) = rest.split_once("`: ")
            {
                let key = if inner.is_empty() { key } else { format!("{key}.{inner}") };
                let mut at = locate_key(text, path, &key);
                if at.line.is_none() {
                    let (l, c) = e.inner().span().map_or((None, None), |sp| {
                        let (l, c) = line_col(text, sp.start);
                        (Some(l), Some(c))
                    });
                    (at.line, at.column) = (l, c);
                }
                return ScenarioError::Parse { at, message: what.to_string() };
            }
            let key = (key != "." && !key.is_empty()).then_some(key);
            located(e.inner(), key)
        })
    }

    /// Checks what the types cannot: positive sizes, known references, and that
    /// every camera sees part of a sidewalk. `text` is used to locate keys.
    pub fn validate(&self, text: &str, path: &Path) -> Result<(), ScenarioError> {
        let fail = |key: &str, message: String| ScenarioError::Invalid { at: locate_key(text, path, key), message };
        let h = &self.scenario;
        if !(h.duration_s > 0.0 && h.duration_s.is_finite()) {
            return Err(fail(
                "scenario.duration_s",
                format!("must be a positive number of seconds, got {}", h.duration_s),
            ));
        }
        if h.step_hz == 0 || h.step_hz > 1000 {
            return Err(fail("scenario.step_hz", format!("must be between 1 and 1000, got {}", h.step_hz)));
        }
        if f64::from(h.duration_s) * f64::from(h.step_hz) > MAX_STEPS as f64 {
            return Err(fail(
                "scenario.duration_s",
                format!(
                    "{} s at {} Hz is more than {MAX_STEPS} simulation steps ({:.0} s at this step rate): \
                     split the period into several scenarios",
                    h.duration_s,
                    h.step_hz,
                    MAX_STEPS as f64 / f64::from(h.step_hz)
                ),
            ));
        }
        if !(0.0..=MAX_WARM_UP_S).contains(&h.warm_up_s) {
            return Err(fail(
                "scenario.warm_up_s",
                format!("must be between 0 and {MAX_WARM_UP_S} seconds, got {}", h.warm_up_s),
            ));
        }
        let s = &self.street;
        for (key, v) in [
            ("street.length_m", s.length_m),
            ("street.road_width_m", s.road_width_m),
            ("street.sidewalk_width_m", s.sidewalk_width_m),
            ("street.building_height_m", s.building_height_m),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(fail(key, format!("must be a positive length in metres, got {v}")));
            }
        }
        if s.sidewalk_width_m < 1.0 {
            return Err(fail(
                "street.sidewalk_width_m",
                format!("must be at least 1 m for people to walk, got {}", s.sidewalk_width_m),
            ));
        }
        let p = &self.pedestrians;
        if p.count == 0 && self.vehicles.count == 0 && self.parking.is_none() {
            return Err(fail(
                "pedestrians.count",
                "must be at least 1 when no vehicle drives or parks: a scenario with zero agents has nothing to count"
                    .into(),
            ));
        }
        if p.count > 1_000_000 {
            return Err(fail("pedestrians.count", format!("must be at most 1,000,000, got {}", p.count)));
        }
        if !(0.0..=1.0).contains(&p.child_share) {
            return Err(fail("pedestrians.child_share", format!("must be between 0 and 1, got {}", p.child_share)));
        }
        if !(0.0..=1.0).contains(&p.group_share) {
            return Err(fail("pedestrians.group_share", format!("must be between 0 and 1, got {}", p.group_share)));
        }
        if !(p.speed_mean_mps > 0.2 && p.speed_mean_mps < 4.0) {
            return Err(fail(
                "pedestrians.speed_mean_mps",
                format!("must be a walking speed between 0.2 and 4 m/s, got {}", p.speed_mean_mps),
            ));
        }
        if !(p.speed_sd_mps >= 0.0 && p.speed_sd_mps < 1.0) {
            return Err(fail(
                "pedestrians.speed_sd_mps",
                format!("must be between 0 and 1 m/s, got {}", p.speed_sd_mps),
            ));
        }
        if !(self.vehicles.speed_mean_mps > 1.0 && self.vehicles.speed_mean_mps < 40.0) {
            return Err(fail(
                "vehicles.speed_mean_mps",
                format!("must be between 1 and 40 m/s, got {}", self.vehicles.speed_mean_mps),
            ));
        }
        if let Some(a) = self.vehicles.max_accel_mps2
            && !(a > 0.1 && a <= 10.0)
        {
            return Err(fail("vehicles.max_accel_mps2", format!("must be between 0.1 and 10 m/s², got {a}")));
        }
        if let Some(mix) = &self.vehicles.mix {
            for (kind, share) in mix.shares() {
                if !(0.0..=1.0).contains(&share) {
                    let key = format!("vehicles.mix.{}", kind.name());
                    return Err(fail(&key, format!("must be between 0 and 1, got {share}")));
                }
            }
            let total: f32 = mix.shares().iter().map(|(_, s)| s).sum();
            if (total - 1.0).abs() > 1e-3 {
                return Err(fail("vehicles.mix", format!("the shares must sum to 1, got {total}")));
            }
        }
        for (i, g) in self.vehicles.signals.iter().enumerate() {
            let key = |k: &str| format!("vehicles.signals[{i}].{k}");
            if !g.x_m.is_finite() || g.x_m.abs() >= s.length_m / 2.0 {
                return Err(fail(
                    &key("x_m"),
                    format!(
                        "signal `{}`: stop line at x = {} m is outside the street (±{} m)",
                        g.id,
                        g.x_m,
                        s.length_m / 2.0
                    ),
                ));
            }
            if !(g.cycle_s >= 10.0 && g.cycle_s <= 300.0) {
                return Err(fail(
                    &key("cycle_s"),
                    format!("signal `{}`: cycle must be 10-300 s, got {}", g.id, g.cycle_s),
                ));
            }
            if !(g.green_s > 0.0 && g.green_s < g.cycle_s) {
                return Err(fail(
                    &key("green_s"),
                    format!(
                        "signal `{}`: green must be above 0 and below the cycle ({} s), got {}",
                        g.id, g.cycle_s, g.green_s
                    ),
                ));
            }
            if !(g.offset_s >= 0.0 && g.offset_s < g.cycle_s) {
                return Err(fail(
                    &key("offset_s"),
                    format!(
                        "signal `{}`: offset must be from 0 to below the cycle ({} s), got {}",
                        g.id, g.cycle_s, g.offset_s
                    ),
                ));
            }
        }
        let layout = crate::street::StreetLayout::new(s);
        for (i, c) in self.cameras.iter().enumerate() {
            let key = |k: &str| format!("cameras[{i}].{k}");
            if c.width < 64 || c.height < 48 || c.width > 7680 || c.height > 4320 {
                return Err(fail(
                    &key("width"),
                    format!("camera `{}`: image {}x{} is outside 64x48..7680x4320", c.id, c.width, c.height),
                ));
            }
            if !(c.hfov_deg > 5.0 && c.hfov_deg < 150.0) {
                return Err(fail(
                    &key("hfov_deg"),
                    format!("camera `{}`: field of view must be between 5 and 150 degrees, got {}", c.id, c.hfov_deg),
                ));
            }
            if c.fps == 0 || !h.step_hz.is_multiple_of(c.fps) {
                return Err(fail(
                    &key("fps"),
                    format!("camera `{}`: fps {} must divide scenario.step_hz {}", c.id, c.fps, h.step_hz),
                ));
            }
            if c.position[2] <= 0.0 {
                return Err(fail(
                    &key("position"),
                    format!("camera `{}`: must be above the ground (height {} m)", c.id, c.position[2]),
                ));
            }
            if !layout.camera_sees_walkable_area(&c.view()) {
                return Err(fail(
                    &key("pitch_deg"),
                    format!("camera `{}` sees no walkable area: check its position, yaw_deg and pitch_deg", c.id),
                ));
            }
        }
        let tables: [(&str, Vec<&str>); 5] = [
            ("cameras", self.cameras.iter().map(|c| c.id.as_str()).collect()),
            ("lines", self.lines.iter().map(|l| l.id.as_str()).collect()),
            ("zones", self.zones.iter().map(|z| z.id.as_str()).collect()),
            ("sensors", self.sensors.iter().map(|s| s.id()).collect()),
            ("vehicles.signals", self.vehicles.signals.iter().map(|g| g.id.as_str()).collect()),
        ];
        for (table, ids) in tables {
            let mut seen = std::collections::BTreeSet::new();
            for (i, id) in ids.iter().enumerate() {
                if !seen.insert(*id) {
                    return Err(fail(&format!("{table}[{i}].id"), format!("duplicate id `{id}`")));
                }
            }
        }
        for (i, l) in self.lines.iter().enumerate() {
            let len = ((l.to[0] - l.from[0]).powi(2) + (l.to[1] - l.from[1]).powi(2)).sqrt();
            if len.is_nan() || len < 0.1 {
                return Err(fail(&format!("lines[{i}].to"), format!("line `{}` is shorter than 10 cm", l.id)));
            }
        }
        for (i, z) in self.zones.iter().enumerate() {
            if z.polygon.len() < 3 {
                return Err(fail(
                    &format!("zones[{i}].polygon"),
                    format!("zone `{}` needs at least 3 corners, got {}", z.id, z.polygon.len()),
                ));
            }
            if let Some(bad) = z.polygon.iter().find(|p| !(p[0].is_finite() && p[1].is_finite())) {
                return Err(fail(&format!("zones[{i}].polygon"), format!("zone `{}` has a corner {bad:?}", z.id)));
            }
            let area = crate::geometry::polygon_area(&z.polygon);
            if area < 0.01 {
                return Err(fail(
                    &format!("zones[{i}].polygon"),
                    format!("zone `{}` encloses {area:.3} m², less than 100 cm²: are its corners in order?", z.id),
                ));
            }
            if let Some(w) = &z.wait {
                if !(0.0..=1.0).contains(&w.share) {
                    return Err(fail(
                        &format!("zones[{i}].wait"),
                        format!("zone `{}`: wait share {} is not between 0 and 1", z.id, w.share),
                    ));
                }
                let [lo, hi] = w.dwell_s;
                if !(lo > 0.0 && lo <= hi && hi <= 86_400.0) {
                    return Err(fail(
                        &format!("zones[{i}].wait"),
                        format!(
                            "zone `{}`: wait dwell_s {:?} must be [shortest, longest] seconds, 0 < shortest <= longest <= 86400",
                            z.id, w.dwell_s
                        ),
                    ));
                }
                let layout = crate::street::StreetLayout::new(&self.street);
                if crate::world::wait_point_candidates(z, &layout).next().is_none() {
                    return Err(fail(
                        &format!("zones[{i}].wait"),
                        format!("zone `{}` has people wait in it but covers no sidewalk to stand on", z.id),
                    ));
                }
            }
        }
        for (i, sensor) in self.sensors.iter().enumerate() {
            if let Err(f) = sensor.validate(self) {
                return Err(fail(
                    &format!("sensors[{i}].{}", f.key),
                    format!("{} `{}`: {}", sensor.kind(), sensor.id(), f.message),
                ));
            }
        }
        if let Some(p) = &self.parking {
            if p.bays == 0 || p.bays > 1000 {
                return Err(fail("parking.bays", format!("must be between 1 and 1000, got {}", p.bays)));
            }
            let end = p.first_x_m + p.bays as f32 * BAY_LENGTH_M;
            if !(p.first_x_m.is_finite() && p.first_x_m >= -layout.half_length && end <= layout.half_length) {
                return Err(fail(
                    "parking.first_x_m",
                    format!(
                        "bays from x = {} to {end} leave the street (x within ±{})",
                        p.first_x_m, layout.half_length
                    ),
                ));
            }
            if !(p.occupancy > 0.0 && p.occupancy < 1.0) {
                return Err(fail(
                    "parking.occupancy",
                    format!("must be between 0 and 1 (exclusive), got {}", p.occupancy),
                ));
            }
            if !(p.mean_stay_s >= 10.0 && p.mean_stay_s.is_finite()) {
                return Err(fail("parking.mean_stay_s", format!("must be at least 10 s, got {}", p.mean_stay_s)));
            }
            if s.road_width_m < 5.0 {
                return Err(fail("parking.side", format!("a {} m road leaves no room for parking", s.road_width_m)));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, c) in self.privacy.iter().enumerate() {
            let key = |k: &str| format!("privacy[{i}].{k}");
            if !names.insert(c.name.as_str()) {
                return Err(fail(&key("name"), format!("duplicate configuration name `{}`", c.name)));
            }
            let fps = self.cameras.iter().map(|c| f64::from(c.fps)).reduce(f64::max);
            c.check(None, fps).map_err(|f| fail(&key(&f.key), format!("configuration `{}`: {}", c.name, f.message)))?;
            for cam in &self.cameras {
                c.check(Some((cam.width, cam.height)), Some(f64::from(cam.fps))).map_err(|f| {
                    fail(&key(&f.key), format!("configuration `{}`, camera `{}`: {}", c.name, cam.id, f.message))
                })?;
            }
            for (m, mask) in c.masks.iter().enumerate() {
                if let Some(zone) = &mask.zone
                    && !self.zones.iter().any(|z| &z.id == zone)
                {
                    return Err(fail(&key(&format!("masks[{m}].zone")), format!("unknown zone `{zone}`")));
                }
                if let Some(cam) = &mask.camera
                    && !self.cameras.iter().any(|c| &c.id == cam)
                {
                    return Err(fail(&key(&format!("masks[{m}].camera")), format!("unknown camera `{cam}`")));
                }
            }
        }
        if self.aggregation.interval_s == 0 {
            return Err(fail("aggregation.interval_s", "must be at least 1 second".into()));
        }
        Ok(())
    }

    /// The privacy configurations to run: the scenario's, or the default
    /// one (native resolution and frame rate, edge, nothing kept) when it
    /// lists none.
    pub fn privacy_configs(&self) -> Vec<PrivacyConfig> {
        if self.privacy.is_empty() { vec![PrivacyConfig::default()] } else { self.privacy.clone() }
    }

    /// Number of simulation steps in the run.
    pub fn step_count(&self) -> u64 {
        (self.scenario.duration_s * self.scenario.step_hz as f32).round() as u64
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Finds the line of a dotted key path (`cameras[1].fps`) in the source, so
/// that validation errors point at the offending line as parse errors do.
fn locate_key(text: &str, path: &Path, key: &str) -> Location {
    let mut at = Location { path: path.to_path_buf(), line: None, column: None, key: Some(key.to_string()) };
    let Ok(doc) = toml::de::DeTable::parse(text) else {
        return at;
    };
    let mut span: Option<std::ops::Range<usize>> = None;
    let mut table = Some(doc.get_ref());
    let mut array_item: Option<&toml::de::DeValue<'_>> = None;
    for part in key.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let current = match (table, array_item) {
            (Some(t), _) => t,
            (None, Some(toml::de::DeValue::Table(t))) => t,
            _ => break,
        };
        let Some(value) = current.get(name) else { break };
        span = Some(value.span());
        table = None;
        let value = match (value.get_ref(), index) {
            (toml::de::DeValue::Array(items), Some(i)) => match items.get(i) {
                Some(item) => {
                    span = Some(item.span());
                    item.get_ref()
                }
                None => break,
            },
            (v, _) => v,
        };
        array_item = Some(value);
    }
    if let Some(span) = span {
        let (l, c) = line_col(text, span.start);
        at.line = Some(l);
        at.column = Some(c);
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[scenario]
name = "t"
seed = 1
duration_s = 5.0

[street]
length_m = 40.0
road_width_m = 7.0
sidewalk_width_m = 3.5

[pedestrians]
count = 10

[[cameras]]
id = "c"
position = [0.0, -3.6, 5.0]
yaw_deg = 90.0
pitch_deg = 25.0
hfov_deg = 70.0
width = 320
height = 240
fps = 10
"#;

    fn p() -> &'static Path {
        Path::new("t.toml")
    }

    #[test]
    fn minimal_scenario_parses_and_validates() {
        let s = Scenario::parse(MINIMAL, p()).expect("parses");
        s.validate(MINIMAL, p()).expect("valid");
        assert_eq!(s.scenario.step_hz, 20);
        assert_eq!(s.step_count(), 100);
    }

    #[test]
    fn unknown_key_is_rejected_with_line_and_key() {
        let text = MINIMAL.replace("fps = 10", "fps = 10\nzoom = 2");
        let err = Scenario::parse(&text, p()).expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.contains("t.toml:"), "{msg}");
        assert!(msg.contains("zoom"), "{msg}");
        assert!(msg.contains("cameras[0]"), "{msg}");
        let line = text.lines().position(|l| l.starts_with("zoom")).expect("line") + 1;
        assert!(msg.contains(&format!(":{line}:")), "{msg} (expected line {line})");
    }

    #[test]
    fn wrong_type_names_key_line_and_column() {
        let text = MINIMAL.replace("fps = 10", "fps = \"ten\"");
        let msg = Scenario::parse(&text, p()).expect_err("bad type").to_string();
        let line = text.lines().position(|l| l.starts_with("fps")).expect("line") + 1;
        assert!(msg.contains(&format!("t.toml:{line}:7")), "{msg}");
        assert!(msg.contains("cameras[0].fps"), "{msg}");
    }

    #[test]
    fn malformed_toml_is_located() {
        let text = MINIMAL.replace("seed = 1", "seed = = 1");
        let msg = Scenario::parse(&text, p()).expect_err("malformed").to_string();
        assert!(msg.starts_with("t.toml:4:"), "{msg}");
    }

    #[test]
    fn zero_pedestrians_is_invalid_and_located() {
        let text = MINIMAL.replace("count = 10", "count = 0");
        let s = Scenario::parse(&text, p()).expect("parses");
        let msg = s.validate(&text, p()).expect_err("invalid").to_string();
        assert!(msg.contains("pedestrians.count"), "{msg}");
        let line = text.lines().position(|l| l.starts_with("count")).expect("line") + 1;
        assert!(msg.contains(&format!(":{line}:")), "{msg}");
    }

    /// Asserts that `text` parses but fails validation with an error naming
    /// `key` and the line of `t.toml` that starts with `line_start`.
    fn assert_rejected_at(text: &str, key: &str, line_start: &str) {
        let s = Scenario::parse(text, p()).expect("parses");
        let msg = s.validate(text, p()).expect_err("invalid").to_string();
        let line = text.lines().position(|l| l.starts_with(line_start)).expect("line") + 1;
        assert!(msg.contains(key) && msg.contains(&format!("t.toml:{line}:")), "{msg}");
    }

    #[test]
    fn a_duration_beyond_the_step_limit_is_located() {
        for (bad, hz) in [("1e12", 20), ("104858.0", 20), ("2098.0", 1000)] {
            let text = MINIMAL.replace("duration_s = 5.0", &format!("duration_s = {bad}\nstep_hz = {hz}"));
            assert_rejected_at(&text, "scenario.duration_s", "duration_s");
        }
        let text = MINIMAL.replace("duration_s = 5.0", "duration_s = 86400.0");
        let s = Scenario::parse(&text, p()).expect("parses");
        s.validate(&text, p()).expect("a day at 20 Hz is valid");
    }

    #[test]
    fn a_negative_or_endless_warm_up_is_located() {
        for bad in ["-5.0", "3600.0", "nan"] {
            let text = MINIMAL.replace("seed = 1", &format!("seed = 1\nwarm_up_s = {bad}"));
            assert_rejected_at(&text, "scenario.warm_up_s", "warm_up_s");
        }
        let text = MINIMAL.replace("seed = 1", "seed = 1\nwarm_up_s = 10.0");
        let s = Scenario::parse(&text, p()).expect("parses");
        s.validate(&text, p()).expect("a 10 s warm-up is valid");
        assert_eq!(s.scenario.warm_up_s, 10.0);
    }

    #[test]
    fn a_vehicle_mix_must_be_shares_summing_to_one() {
        let with =
            |mix: &str| MINIMAL.replace("[[cameras]]", &format!("[vehicles]\ncount = 5\nmix = {mix}\n\n[[cameras]]"));
        let good = with("{ car = 0.8, van = 0.2 }");
        Scenario::parse(&good, p()).expect("parses").validate(&good, p()).expect("valid");
        for (mix, key, says) in [
            ("{ car = 0.8, van = 0.1 }", "vehicles.mix", "sum to 1, got 0.9"),
            ("{ car = 1.2, bus = -0.2 }", "vehicles.mix.car", "between 0 and 1, got 1.2"),
        ] {
            let text = with(mix);
            let msg = Scenario::parse(&text, p()).expect("parses").validate(&text, p()).expect_err(mix).to_string();
            assert!(msg.contains(key) && msg.contains(says), "{mix}: {msg}");
            let line = text.lines().position(|l| l.starts_with("mix")).expect("line") + 1;
            assert!(msg.contains(&format!("t.toml:{line}:")), "{msg} (expected line {line})");
        }
        let text = with("{ car = 0.8, tram = 0.2 }");
        let msg = Scenario::parse(&text, p()).expect_err("unknown kind").to_string();
        assert!(msg.contains("tram"), "{msg}");
    }

    #[test]
    fn camera_looking_at_the_sky_is_invalid() {
        let text = MINIMAL.replace("pitch_deg = 25.0", "pitch_deg = -60.0");
        let s = Scenario::parse(&text, p()).expect("parses");
        let msg = s.validate(&text, p()).expect_err("invalid").to_string();
        assert!(msg.contains("sees no walkable area"), "{msg}");
        assert!(msg.contains("cameras[0].pitch_deg"), "{msg}");
    }

    #[test]
    fn duplicate_ids_are_located() {
        let text = format!(
            "{MINIMAL}\n[[lines]]\nid = \"a\"\nfrom = [0.0, 3.5]\nto = [0.0, 7.0]\n\n[[lines]]\nid = \"a\"\nfrom = [1.0, 3.5]\nto = [1.0, 7.0]\n"
        );
        let s = Scenario::parse(&text, p()).expect("parses");
        let msg = s.validate(&text, p()).expect_err("duplicate").to_string();
        assert!(msg.contains("lines[1].id") && msg.contains("duplicate id `a`"), "{msg}");
        let line = text.lines().enumerate().filter(|(_, l)| l.starts_with("id = \"a\"")).nth(1).expect("line").0 + 1;
        assert!(msg.contains(&format!(":{line}:")), "{msg} (expected line {line})");
    }

    #[test]
    fn a_bad_wait_is_located() {
        let zone = |polygon: &str, wait: &str| {
            format!("{MINIMAL}\n[[zones]]\nid = \"stop\"\npolygon = {polygon}\nwait = {wait}\n")
        };
        let sidewalk = "[[-2.0, 3.5], [2.0, 3.5], [2.0, 7.0], [-2.0, 7.0]]";
        let good = zone(sidewalk, "{ share = 0.2, dwell_s = [10.0, 60.0] }");
        let s = Scenario::parse(&good, p()).expect("parses");
        s.validate(&good, p()).expect("valid");
        assert_eq!(s.zones[0].wait, Some(WaitSpec { share: 0.2, dwell_s: [10.0, 60.0] }));
        for (text, says) in [
            (zone(sidewalk, "{ share = 1.5, dwell_s = [10.0, 60.0] }"), "share 1.5"),
            (zone(sidewalk, "{ share = 0.2, dwell_s = [0.0, 60.0] }"), "dwell_s"),
            (zone(sidewalk, "{ share = 0.2, dwell_s = [60.0, 10.0] }"), "dwell_s"),
            (
                zone("[[-2.0, -1.0], [2.0, -1.0], [2.0, 1.0], [-2.0, 1.0]]", "{ share = 0.2, dwell_s = [10.0, 60.0] }"),
                "no sidewalk",
            ),
        ] {
            let s = Scenario::parse(&text, p()).expect("parses");
            let msg = s.validate(&text, p()).expect_err("invalid").to_string();
            assert!(msg.contains("zones[0].wait") && msg.contains(says), "{msg}");
            let line = text.lines().position(|l| l.starts_with("wait")).expect("line") + 1;
            assert!(msg.contains(&format!(":{line}:")), "{msg} (expected line {line})");
        }
    }

    #[test]
    fn zones_parse_and_a_degenerate_zone_is_located() {
        let zone = "\n[[zones]]\nid = \"stop\"\npolygon = [[-2.0, 3.5], [2.0, 3.5], [2.0, 7.0], [-2.0, 7.0]]\n";
        let text = format!(
            "{MINIMAL}{zone}[[zones]]\nid = \"church\"\nkind = \"sensitive\"\npolygon = [[0.0, 4.0], [1.0, 5.0], [2.0, 6.0]]\n"
        );
        let s = Scenario::parse(&text, p()).expect("parses");
        assert_eq!(s.zones[0].kind, ZoneKind::Count);
        assert_eq!(s.zones[1].kind, ZoneKind::Sensitive);
        assert!(s.zones[0].contains([0.0, 5.0]) && !s.zones[0].contains([0.0, 2.0]));
        let msg = s.validate(&text, p()).expect_err("collinear corners").to_string();
        assert!(msg.contains("zones[1].polygon") && msg.contains("church"), "{msg}");
        let line = text.lines().position(|l| l.starts_with("polygon = [[0.0")).expect("line") + 1;
        assert!(msg.contains(&format!(":{line}:")), "{msg} (expected line {line})");
    }

    /// The minimal scenario with a line on the north sidewalk, one across
    /// the road and one across the whole street, then `sensors`.
    fn with_sensors(sensors: &str) -> String {
        format!(
            "{MINIMAL}\n[[lines]]\nid = \"north\"\nfrom = [0.0, 3.5]\nto = [0.0, 7.0]\n\n[[lines]]\nid = \"road\"\nfrom = [-5.0, -3.5]\nto = [-5.0, 3.5]\n\n[[lines]]\nid = \"section\"\nfrom = [5.0, -7.0]\nto = [5.0, 7.0]\n{sensors}"
        )
    }

    /// The error of a scenario that must fail, parsing or validating, and
    /// the 1-based line of the first line of `text` starting with `needle`.
    fn sensor_error(text: &str, needle: &str) -> (String, usize) {
        let msg = match Scenario::parse(text, p()) {
            Err(e) => e.to_string(),
            Ok(s) => s.validate(text, p()).expect_err("invalid").to_string(),
        };
        let line = text.lines().position(|l| l.starts_with(needle)).expect("needle line") + 1;
        (msg, line)
    }

    #[test]
    fn sensors_of_every_kind_parse_and_validate() {
        // The fixture's manual counter works the first minute.
        let text = with_sensors(include_str!("../tests/fixtures/every_sensor.toml"))
            .replace("duration_s = 5.0", "duration_s = 60.0");
        let s = Scenario::parse(&text, p()).expect("parses");
        s.validate(&text, p()).expect("valid");
        let kinds: Vec<&str> = s.sensors.iter().map(|x| x.kind()).collect();
        assert_eq!(kinds, crate::sensors::KINDS);
    }

    #[test]
    fn sensor_outside_the_map_is_located() {
        let text =
            with_sensors("\n[[sensors]]\nkind = \"wifi\"\nid = \"w\"\nline = \"north\"\nposition = [0.0, 40.0]\n");
        let (msg, line) = sensor_error(&text, "position = [0.0, 40.0]");
        assert!(msg.contains("sensors[0].position") && msg.contains("outside the map"), "{msg}");
        assert!(msg.contains(&format!("t.toml:{line}:")), "{msg} (expected line {line})");
    }

    #[test]
    fn loop_on_a_sidewalk_is_located() {
        let text = with_sensors(
            "\n[[sensors]]\nkind = \"inductive_loop\"\nid = \"l\"\nline = \"north\"\nposition = [0.0, 5.0]\n",
        );
        let (msg, line) = sensor_error(&text, "position = [0.0, 5.0]");
        assert!(msg.contains("sensors[0].position") && msg.contains("not on the road"), "{msg}");
        assert!(msg.contains(&format!("t.toml:{line}:")), "{msg} (expected line {line})");
    }

    #[test]
    fn a_thermal_contrast_spread_above_one_is_located() {
        let text = with_sensors(
            "\n[[sensors]]\nkind = \"thermal_array\"\nid = \"th\"\nline = \"north\"\nposition = [0.0, 6.0]\nresolution = \"32x24\"\nperson_contrast_spread = 1.5\n",
        );
        let (msg, line) = sensor_error(&text, "person_contrast_spread");
        assert!(msg.contains("sensors[0].person_contrast_spread") && msg.contains("got 1.5"), "{msg}");
        assert!(msg.contains(&format!("t.toml:{line}:")), "{msg} (expected line {line})");
    }

    #[test]
    fn wifi_range_of_zero_is_located() {
        let text = with_sensors(
            "\n[[sensors]]\nkind = \"wifi\"\nid = \"w\"\nline = \"north\"\nposition = [0.0, 6.0]\nrange_m = 0.0\n",
        );
        let (msg, line) = sensor_error(&text, "range_m");
        assert!(msg.contains("sensors[0].range_m") && msg.contains("got 0"), "{msg}");
        assert!(msg.contains(&format!("t.toml:{line}:")), "{msg} (expected line {line})");
    }

    #[test]
    fn unknown_sensor_kind_is_located() {
        let text = with_sensors("\n[[sensors]]\nkind = \"sonar\"\nid = \"s\"\n");
        let (msg, line) = sensor_error(&text, "kind");
        assert!(msg.contains("sensors[0].kind") && msg.contains("unknown sensor kind `sonar`"), "{msg}");
        assert!(msg.contains("passive_infrared"), "the message lists the kinds: {msg}");
        assert!(msg.contains(&format!("t.toml:{line}:")), "{msg} (expected line {line})");
    }

    #[test]
    fn unknown_or_mistyped_key_inside_a_sensor_is_located() {
        let ir = "\n[[sensors]]\nkind = \"passive_infrared\"\nid = \"ir\"\nline = \"north\"\n";
        let text = with_sensors(&format!("{ir}sensitivty = 0.9\n"));
        let (msg, line) = sensor_error(&text, "sensitivty");
        assert!(msg.contains("sensors[0].sensitivty") && msg.contains("unknown field"), "{msg}");
        assert!(msg.contains(&format!("t.toml:{line}:")), "{msg} (expected line {line})");
        let text = with_sensors(&format!("{ir}sensitivity = \"high\"\n"));
        let (msg, line) = sensor_error(&text, "sensitivity");
        assert!(msg.contains("sensors[0].sensitivity"), "{msg}");
        assert!(msg.contains(&format!("t.toml:{line}:")), "{msg} (expected line {line})");
    }

    #[test]
    fn two_sensors_with_one_id_are_located() {
        let ir = "\n[[sensors]]\nkind = \"passive_infrared\"\nid = \"ir\"\nline = \"north\"\n";
        let text = with_sensors(&format!(
            "{ir}{}",
            ir.replace("passive_infrared", "manual")
                .replace("line = \"north\"\n", "line = \"north\"\nwindows = [[0.0, 5.0]]\n")
        ));
        let msg = Scenario::parse(&text, p()).expect("parses").validate(&text, p()).expect_err("dup").to_string();
        let line = text.lines().enumerate().filter(|(_, l)| l.starts_with("id = \"ir\"")).nth(1).expect("line").0 + 1;
        assert!(msg.contains("sensors[1].id") && msg.contains("duplicate id `ir`"), "{msg}");
        assert!(msg.contains(&format!("t.toml:{line}:")), "{msg} (expected line {line})");
    }

    #[test]
    fn missing_file_is_named() {
        let msg = Scenario::load(Path::new("no/such.toml")).expect_err("missing").to_string();
        assert!(msg.contains("no/such.toml"), "{msg}");
    }
}
