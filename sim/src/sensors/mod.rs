//! Less intrusive sensors, fed by the same ground truth as the cameras.
//!
//! The regulator's necessity test asks first whether a less intrusive means
//! meets the purpose (domain brief §3). Each model here reads the
//! simulation's snapshots (and, for line counts, its crossings) and reports
//! what the real device would report, with the errors field studies found:
//!
//! - [`pir`]: passive infrared (pyroelectric) pedestrian counters: people
//!   side by side hide each other, close followers merge, false triggers,
//!   season (ambient temperature) and a site correction factor;
//! - [`thermal`]: low-resolution thermopile arrays (8×8, 32×24) looking
//!   down: a heat image rendered from ground truth, a blob tracker counting
//!   across a virtual line;
//! - [`presence`]: zone presence detectors (occupied yes/no per interval);
//! - [`loops`]: inductive loops (vehicles only: counts, occupancy, speed)
//!   and parking-bay magnetometers;
//! - [`wifi`]: Wi-Fi probe and Bluetooth inquiry scanners (device share, MAC
//!   randomisation, detection by distance, time in range and bodies in the
//!   way, dwell);
//! - [`manual`]: an observer counting during limited hours, with misses
//!   growing with fatigue and crowding.
//!
//! Every sensor draws its randomness from ChaCha streams keyed by the
//! scenario seed and a hash of its id ([`sensor_rng`]), never by its
//! position in the file, so adding or reordering sensors changes no other
//! sensor's output. Each has a [`CostProfile`] and a [`DataKind`].

pub mod loops;
pub mod manual;
pub mod pir;
pub mod presence;
pub mod thermal;
pub mod wifi;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};

use crate::scenario::{CountingLine, Scenario};
use crate::street::StreetLayout;
use crate::world::{Crossing, Direction, ObjectClass, Snapshot};

/// One sensor in the scenario's `[[sensors]]` array, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SensorSpec {
    /// A passive infrared (pyroelectric) pedestrian counter on a line.
    PassiveInfrared(pir::PirSpec),
    /// A low-resolution thermopile array looking down over a line.
    ThermalArray(thermal::ThermalSpec),
    /// A presence detector watching a zone.
    Presence(presence::PresenceSpec),
    /// An inductive loop in a road lane.
    InductiveLoop(loops::LoopSpec),
    /// A magnetometer in a parking bay.
    ParkingMagnetometer(loops::MagnetometerSpec),
    /// A Wi-Fi probe-request scanner.
    Wifi(wifi::RadioSpec),
    /// A Bluetooth inquiry scanner.
    Bluetooth(wifi::RadioSpec),
    /// A person counting by hand.
    Manual(manual::ManualSpec),
}

/// The `kind` values a sensor may have, for error messages.
pub const KINDS: [&str; 8] = [
    "passive_infrared",
    "thermal_array",
    "presence",
    "inductive_loop",
    "parking_magnetometer",
    "wifi",
    "bluetooth",
    "manual",
];

/// Prefix of a parse error inside one sensor table, so that the scenario
/// parser can point at the key inside the table (see `Scenario::parse`).
pub(crate) const FIELD_ERROR_PREFIX: &str = "sensor key `";

fn field_error(key: &str, message: impl std::fmt::Display) -> String {
    format!("{FIELD_ERROR_PREFIX}{key}`: {message}")
}

fn parse_kind<T: DeserializeOwned>(table: toml::Table) -> Result<T, String> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let message = e.inner().to_string();
        let mut key = e.path().to_string();
        // An unknown key is reported at its table: name the key itself.
        if let Some(rest) = message.strip_prefix("unknown field `")
            && let Some((field, _)) = rest.split_once('`')
        {
            key = if key == "." || key.is_empty() { field.to_string() } else { format!("{key}.{field}") };
        }
        let key = if key == "." { String::new() } else { key };
        field_error(&key, message)
    })
}

impl<'de> Deserialize<'de> for SensorSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut table = toml::Table::deserialize(d)?;
        let kind = match table.remove("kind") {
            Some(toml::Value::String(k)) => k,
            Some(other) => {
                return Err(D::Error::custom(field_error(
                    "kind",
                    format!("must be a string, one of {}; got {other}", KINDS.join(", ")),
                )));
            }
            None => {
                return Err(D::Error::custom(field_error("", format!("missing `kind`, one of {}", KINDS.join(", ")))));
            }
        };
        let spec = match kind.as_str() {
            "passive_infrared" => parse_kind(table).map(Self::PassiveInfrared),
            "thermal_array" => parse_kind(table).map(Self::ThermalArray),
            "presence" => parse_kind(table).map(Self::Presence),
            "inductive_loop" => parse_kind(table).map(Self::InductiveLoop),
            "parking_magnetometer" => parse_kind(table).map(Self::ParkingMagnetometer),
            "wifi" => parse_kind(table).map(Self::Wifi),
            "bluetooth" => parse_kind(table).map(Self::Bluetooth),
            "manual" => parse_kind(table).map(Self::Manual),
            other => {
                Err(field_error("kind", format!("unknown sensor kind `{other}`, expected one of {}", KINDS.join(", "))))
            }
        };
        spec.map_err(D::Error::custom)
    }
}

/// A validation fault inside one sensor's table: the key (relative to the
/// table) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorFault {
    /// Key inside the sensor's table (`position`, `range_m`).
    pub key: &'static str,
    /// What is wrong.
    pub message: String,
}

fn fault(key: &'static str, message: String) -> SensorFault {
    SensorFault { key, message }
}

impl SensorSpec {
    /// The sensor's id, unique in the scenario.
    pub fn id(&self) -> &str {
        match self {
            Self::PassiveInfrared(s) => &s.id,
            Self::ThermalArray(s) => &s.id,
            Self::Presence(s) => &s.id,
            Self::InductiveLoop(s) => &s.id,
            Self::ParkingMagnetometer(s) => &s.id,
            Self::Wifi(s) | Self::Bluetooth(s) => &s.id,
            Self::Manual(s) => &s.id,
        }
    }

    /// The `kind` tag, used as the source prefix in outputs
    /// (`passive_infrared:ir-1`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PassiveInfrared(_) => "passive_infrared",
            Self::ThermalArray(_) => "thermal_array",
            Self::Presence(_) => "presence",
            Self::InductiveLoop(_) => "inductive_loop",
            Self::ParkingMagnetometer(_) => "parking_magnetometer",
            Self::Wifi(_) => "wifi",
            Self::Bluetooth(_) => "bluetooth",
            Self::Manual(_) => "manual",
        }
    }

    /// The counting line the sensor counts, for line sensors.
    pub fn line(&self) -> Option<&str> {
        match self {
            Self::PassiveInfrared(s) => Some(&s.line),
            Self::ThermalArray(s) => Some(&s.line),
            Self::InductiveLoop(s) => Some(&s.line),
            Self::Wifi(s) | Self::Bluetooth(s) => Some(&s.line),
            Self::Manual(s) => Some(&s.line),
            Self::Presence(_) | Self::ParkingMagnetometer(_) => None,
        }
    }

    /// What personal data the device handles.
    pub fn data_kind(&self) -> DataKind {
        match self {
            Self::Wifi(_) | Self::Bluetooth(_) => DataKind::PseudonymousDeviceIds,
            // The observer sees people, but writes down only tallies.
            _ => DataKind::NonePersonal,
        }
    }

    /// What the device costs.
    pub fn cost(&self) -> CostProfile {
        match self {
            Self::PassiveInfrared(_) => pir::COST,
            Self::ThermalArray(s) => s.resolution.cost(),
            Self::Presence(_) => presence::COST,
            Self::InductiveLoop(_) => loops::LOOP_COST,
            Self::ParkingMagnetometer(_) => loops::MAGNETOMETER_COST,
            Self::Wifi(_) => wifi::WIFI_COST,
            Self::Bluetooth(_) => wifi::BLUETOOTH_COST,
            Self::Manual(s) => s.cost(),
        }
    }

    /// Checks what the types cannot: the sensor is on the map, names an
    /// existing line or zone, and its parameters are physical.
    pub fn validate(&self, scenario: &Scenario) -> Result<(), SensorFault> {
        if let Some(line) = self.line()
            && !scenario.lines.iter().any(|l| l.id == line)
        {
            return Err(fault("line", format!("{} `{}` names unknown line `{line}`", self.kind(), self.id())));
        }
        let layout = StreetLayout::new(&scenario.street);
        match self {
            Self::PassiveInfrared(s) => s.validate(),
            Self::ThermalArray(s) => s.validate(&layout, scenario.scenario.step_hz),
            Self::Presence(s) => s.validate(scenario),
            Self::InductiveLoop(s) => s.validate(&layout, line_of(scenario, &s.line)),
            Self::ParkingMagnetometer(s) => s.validate(&layout),
            Self::Wifi(s) | Self::Bluetooth(s) => s.validate(&layout),
            Self::Manual(s) => {
                let ids: Vec<&str> = scenario.lines.iter().map(|l| l.id.as_str()).collect();
                s.validate(scenario.scenario.duration_s, &ids)
            }
        }
    }
}

fn line_of<'a>(scenario: &'a Scenario, id: &str) -> Option<&'a CountingLine> {
    scenario.lines.iter().find(|l| l.id == id)
}

/// Whether a ground point lies on the modelled map: along the street and
/// between the two facades.
pub fn on_map(layout: &StreetLayout, p: [f32; 2]) -> bool {
    p[0].is_finite()
        && p[1].is_finite()
        && p[0].abs() <= layout.half_length
        && p[1].abs() <= layout.half_road + layout.sidewalk
}

fn check_on_map(layout: &StreetLayout, p: [f32; 2]) -> Result<(), SensorFault> {
    if on_map(layout, p) {
        Ok(())
    } else {
        Err(fault(
            "position",
            format!(
                "[{}, {}] is outside the map (x within ±{} m, y within ±{} m)",
                p[0],
                p[1],
                layout.half_length,
                layout.half_road + layout.sidewalk
            ),
        ))
    }
}

fn check_range(key: &'static str, v: f32, lo: f32, hi: f32, unit: &str) -> Result<(), SensorFault> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(fault(key, format!("must be between {lo} and {hi}{unit}, got {v}")))
    }
}

/// The kind of personal data a device captures: the intrusiveness axis of
/// the necessity test (domain brief §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// Nothing that relates to a person: beam breaks, heat blobs, metal.
    NonePersonal,
    /// Device identifiers (MAC addresses): pseudonymous personal data.
    PseudonymousDeviceIds,
    /// Images of people.
    Images,
}

impl DataKind {
    /// The name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::NonePersonal => "none_personal",
            Self::PseudonymousDeviceIds => "pseudonymous_device_ids",
            Self::Images => "images",
        }
    }
}

/// What a device costs, so the necessity test can weigh means by price as
/// well as by accuracy and intrusiveness. Euros, excluding tax.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CostProfile {
    /// Purchase of the device.
    pub hardware_eur: f32,
    /// Installation (mounting, cabling, road works).
    pub installation_eur: f32,
    /// Operation per year (power, data, maintenance); for manual counts the
    /// hours this scenario counts, at the hourly rate.
    pub operation_eur_per_year: f32,
    /// Where the figures come from, or that they are assumptions.
    pub basis: &'static str,
}

/// One count reported by a line sensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SensorCount {
    /// When, seconds.
    pub time_s: f32,
    /// Which way.
    pub direction: Direction,
    /// The class the sensor reports.
    pub class: ObjectClass,
}

/// Whether a zone (or a parking bay) was occupied during one interval, as the
/// sensor says and in truth.
#[derive(Debug, Clone, PartialEq)]
pub struct OccupancyInterval {
    /// The zone id, or the bay sensor's id for a magnetometer.
    pub place: String,
    /// Interval start, seconds.
    pub start_s: f32,
    /// Interval end, seconds.
    pub end_s: f32,
    /// What the sensor reports.
    pub occupied: bool,
    /// Ground truth: a presence zone is occupied if anyone was inside at
    /// any sampled step; a bay if a vehicle covered it for more than half the interval.
    pub truth_occupied: bool,
}

/// What an inductive loop measured over one interval, next to the truth.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopInterval {
    /// Interval start, seconds.
    pub start_s: f32,
    /// Interval end, seconds.
    pub end_s: f32,
    /// Vehicles counted.
    pub vehicles: u32,
    /// Share of the interval the loop was occupied.
    pub occupancy: f32,
    /// Mean speed estimated from on-time and an assumed vehicle length, m/s.
    pub mean_speed_mps: Option<f32>,
    /// Vehicles that passed over the loop.
    pub truth_vehicles: u32,
    /// Share of the interval a vehicle body was over the loop.
    pub truth_occupancy: f32,
    /// Their true mean speed, m/s.
    pub truth_mean_speed_mps: Option<f32>,
    /// Mean absolute deviation of each counted vehicle's estimated speed from
    /// its own true speed, as a share of the true speed: the measure of
    /// single-loop speed studies (Cherrett et al. 2001, "MAPD").
    pub speed_mapd: Option<f32>,
}

/// Dwell near a radio scanner over one interval, as estimated from device
/// sessions and in truth.
#[derive(Debug, Clone, PartialEq)]
pub struct DwellInterval {
    /// Interval start, seconds.
    pub start_s: f32,
    /// Interval end, seconds.
    pub end_s: f32,
    /// Device sessions (one MAC address seen) that ended in the interval.
    pub sessions: u32,
    /// Their mean dwell, first to last detection, seconds.
    pub mean_dwell_s: Option<f32>,
    /// Agents whose stay within range ended in the interval.
    pub truth_agents: u32,
    /// Their mean true time within range, seconds.
    pub truth_mean_dwell_s: Option<f32>,
}

/// Everything one sensor reported over a run.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorOutput {
    /// The sensor's id.
    pub id: String,
    /// Its kind tag.
    pub kind: &'static str,
    /// The line it counts, for line sensors.
    pub line: Option<String>,
    /// Counts on that line.
    pub counts: Vec<SensorCount>,
    /// The time windows the sensor covers, when not the whole run (manual
    /// counts): intervals outside them have no count, not a zero count.
    pub windows: Option<Vec<[f32; 2]>>,
    /// Zone or bay occupancy per interval.
    pub occupancy: Vec<OccupancyInterval>,
    /// Loop measurements per interval.
    pub traffic: Vec<LoopInterval>,
    /// Dwell estimates per interval.
    pub dwell: Vec<DwellInterval>,
    /// Radio scanners: per class, how many agents came within range and
    /// how many of them were detected at least once.
    pub detected: Vec<DetectionShare>,
}

/// How many agents of one class a radio scanner detected at least once,
/// of those that came within its range: the figure Bluetooth field
/// studies report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectionShare {
    /// The class.
    pub class: ObjectClass,
    /// Agents that came within range.
    pub in_range: u32,
    /// Of those, agents detected at least once.
    pub detected: u32,
}

impl SensorOutput {
    fn new(spec: &SensorSpec) -> Self {
        Self {
            id: spec.id().to_string(),
            kind: spec.kind(),
            line: spec.line().map(str::to_string),
            counts: Vec::new(),
            windows: None,
            occupancy: Vec::new(),
            traffic: Vec::new(),
            dwell: Vec::new(),
            detected: Vec::new(),
        }
    }

    /// The source name in outputs, `<kind>:<id>`.
    pub fn source(&self) -> String {
        format!("{}:{}", self.kind, self.id)
    }
}

/// A ChaCha stream for one sensor and one purpose: keyed by the scenario
/// seed, the sensor's id and a purpose constant, never by file position.
pub fn sensor_rng(seed: u64, id: &str, purpose: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(stream_of(id));
    rng
}

/// A SplitMix64 stream (Steele, Lea & Flood, "Fast splittable
/// pseudorandom number generators", OOPSLA 2014): cheap draws keyed by a
/// seed and an agent's id alone, so that every sensor sees the same
/// person alike (the same phone, the same hat) without a table of them.
#[derive(Debug, Clone, Copy)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform draw in [0, 1) with 24 bits.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// FNV-1a of a sensor id: a stable stream number per id.
pub fn stream_of(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// A counting line as a frame: unit tangent, left normal, length. A point's
/// signed distance is positive on the line's left, where `positive`
/// crossings start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFrame {
    /// First end.
    pub from: [f32; 2],
    /// Unit vector from `from` to `to`.
    pub tangent: [f32; 2],
    /// Unit vector to the line's left.
    pub normal: [f32; 2],
    /// Length, metres.
    pub length: f32,
}

impl LineFrame {
    /// The frame of a scenario line.
    pub fn new(line: &CountingLine) -> Self {
        let d = [line.to[0] - line.from[0], line.to[1] - line.from[1]];
        let length = d[0].hypot(d[1]).max(1e-6);
        let tangent = [d[0] / length, d[1] / length];
        Self { from: line.from, tangent, normal: [-tangent[1], tangent[0]], length }
    }

    /// `(along, across)`: distance along the line from `from`, and signed
    /// distance to its left.
    pub fn local(&self, p: [f32; 2]) -> (f32, f32) {
        let r = [p[0] - self.from[0], p[1] - self.from[1]];
        (r[0] * self.tangent[0] + r[1] * self.tangent[1], r[0] * self.normal[0] + r[1] * self.normal[1])
    }

    /// The direction of a motion with velocity `v` across the line.
    pub fn direction_of(&self, v: [f32; 2]) -> Direction {
        // Moving to the right (against the left normal) crosses left to right.
        if v[0] * self.normal[0] + v[1] * self.normal[1] <= 0.0 { Direction::Positive } else { Direction::Negative }
    }
}

/// Turns weighted detections into whole counts: each detection adds its
/// weight (a site correction factor, a device-share expansion) and a count
/// is emitted for every whole unit accumulated, deterministically.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Expander {
    carried: f32,
}

impl Expander {
    /// Adds one detection of weight `w` and returns how many counts it yields.
    pub fn add(&mut self, w: f32) -> u32 {
        self.carried += w.max(0.0);
        let whole = self.carried.floor();
        self.carried -= whole;
        whole as u32
    }
}

fn exponential(rng: &mut ChaCha8Rng, mean: f32) -> f32 {
    use rand::Rng;
    -mean * (1.0 - rng.random::<f32>()).max(1e-9).ln()
}

/// Times of a Poisson process of `rate_per_h` events over `[0, duration_s)`.
fn poisson_times(rng: &mut ChaCha8Rng, rate_per_h: f32, duration_s: f32) -> Vec<f32> {
    let mut out = Vec::new();
    if rate_per_h <= 0.0 {
        return out;
    }
    let mean = 3600.0 / rate_per_h;
    let mut t = exponential(rng, mean);
    while t < duration_s {
        out.push(t);
        t += exponential(rng, mean);
    }
    out
}

/// The position of an agent on the ground.
fn ground(a: &crate::world::AgentPose) -> [f32; 2] {
    [a.instance.translation[0], a.instance.translation[1]]
}

/// The interval boundaries of a run: `[start, end)` of each interval.
fn intervals(interval_s: u32, duration_s: f32) -> Vec<[f32; 2]> {
    let step = interval_s.max(1) as f32;
    let n = (duration_s / step).ceil().max(1.0) as usize;
    (0..n).map(|k| [k as f32 * step, ((k + 1) as f32 * step).min(duration_s)]).collect()
}

/// Sampling rate of sensors with slow physics (presence, magnetometers,
/// radio scanners), Hz: their detectors integrate over seconds, and a probe
/// or an inquiry reply is placed to a tenth of a second.
pub const SLOW_SAMPLE_HZ: u32 = 10;

/// Width of the cells of the agent index, metres.
const INDEX_CELL_M: f32 = 10.0;

/// The agents of one snapshot bucketed by x, so that each sensor looks only
/// at its own stretch of a long street (buffers kept between steps).
#[derive(Debug, Clone, Default)]
struct AgentIndex {
    x0: f32,
    cells: Vec<Vec<u32>>,
}

impl AgentIndex {
    fn rebuild(&mut self, snap: &Snapshot) {
        for c in &mut self.cells {
            c.clear();
        }
        self.x0 = snap.agents.iter().map(|a| a.instance.translation[0]).fold(f32::INFINITY, f32::min);
        for (i, a) in snap.agents.iter().enumerate() {
            let k = ((a.instance.translation[0] - self.x0) / INDEX_CELL_M) as usize;
            if k >= self.cells.len() {
                self.cells.resize_with(k + 1, Vec::new);
            }
            self.cells[k].push(i as u32);
        }
    }

    /// Indices of the agents whose x may lie in `[lo, hi]`, in snapshot
    /// (id) order.
    fn within(&self, [lo, hi]: [f32; 2], out: &mut Vec<u32>) {
        out.clear();
        if self.cells.is_empty() || hi < lo {
            return;
        }
        let cell = |x: f32| (((x - self.x0) / INDEX_CELL_M).max(0.0) as usize).min(self.cells.len() - 1);
        if hi < self.x0 {
            return;
        }
        for c in &self.cells[cell(lo)..=cell(hi)] {
            out.extend_from_slice(c);
        }
        out.sort_unstable();
    }
}

/// One running sensor.
#[derive(Debug, Clone)]
enum Model {
    Pir(pir::PirCounter),
    Thermal(thermal::ThermalCounter),
    Presence(presence::PresenceDetector),
    Loop(loops::InductiveLoop),
    Magnetometer(loops::ParkingMagnetometer),
    Radio(wifi::RadioScanner),
    Manual(manual::ManualCount),
}

/// Every sensor of a scenario, run side by side on one simulation: fed each
/// step's snapshot, then the run's crossings.
#[derive(Debug, Clone)]
pub struct SensorBank {
    sensors: Vec<(SensorSpec, Model)>,
    /// Each sensor samples every this many steps (0: never; manual counts
    /// read crossings).
    every: Vec<u64>,
    index: AgentIndex,
    interval_s: u32,
    duration_s: f32,
}

/// Why the sensors could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SensorError {
    /// A sensor names something the scenario does not have (a scenario that
    /// passed validation never gives this).
    #[error("sensor `{id}`: {message}")]
    Reference {
        /// The sensor.
        id: String,
        /// What is missing.
        message: String,
    },
}

impl SensorBank {
    /// Builds every sensor of a validated scenario.
    pub fn new(scenario: &Scenario) -> Result<Self, SensorError> {
        let seed = scenario.scenario.seed;
        let dt = 1.0 / scenario.scenario.step_hz.max(1) as f32;
        let duration = scenario.scenario.duration_s;
        let interval_s = scenario.aggregation.interval_s;
        // Sensors whose physics is slow sample at SLOW_SAMPLE_HZ.
        let slow_every = u64::from((scenario.scenario.step_hz / SLOW_SAMPLE_HZ).max(1));
        let slow_dt = slow_every as f32 * dt;
        let mut every = Vec::with_capacity(scenario.sensors.len());
        let missing =
            |spec: &SensorSpec, what: &str| SensorError::Reference { id: spec.id().to_string(), message: what.into() };
        let mut sensors = Vec::with_capacity(scenario.sensors.len());
        for spec in &scenario.sensors {
            let line = spec.line().map(|id| line_of(scenario, id).map(LineFrame::new));
            let line = match line {
                Some(None) => return Err(missing(spec, "unknown line")),
                Some(Some(l)) => Some(l),
                None => None,
            };
            let model = match (spec, line) {
                (SensorSpec::PassiveInfrared(s), Some(l)) => {
                    Model::Pir(pir::PirCounter::new(s.clone(), l, seed, duration))
                }
                (SensorSpec::ThermalArray(s), Some(l)) => {
                    Model::Thermal(thermal::ThermalCounter::new(s.clone(), l, seed, scenario.scenario.step_hz))
                }
                (SensorSpec::Presence(s), _) => {
                    let zone =
                        scenario.zones.iter().find(|z| z.id == s.zone).ok_or_else(|| missing(spec, "unknown zone"))?;
                    Model::Presence(presence::PresenceDetector::new(
                        s.clone(),
                        zone.clone(),
                        seed,
                        slow_dt,
                        duration,
                        interval_s,
                    ))
                }
                (SensorSpec::InductiveLoop(s), Some(l)) => {
                    Model::Loop(loops::InductiveLoop::new(s.clone(), l, seed, dt, duration, interval_s))
                }
                (SensorSpec::ParkingMagnetometer(s), _) => {
                    Model::Magnetometer(loops::ParkingMagnetometer::new(s.clone(), slow_dt, duration, interval_s))
                }
                (SensorSpec::Wifi(s), Some(l)) => Model::Radio(wifi::RadioScanner::new(
                    s.clone(),
                    wifi::Radio::Wifi,
                    l,
                    seed,
                    slow_dt,
                    duration,
                    interval_s,
                )),
                (SensorSpec::Bluetooth(s), Some(l)) => Model::Radio(wifi::RadioScanner::new(
                    s.clone(),
                    wifi::Radio::Bluetooth,
                    l,
                    seed,
                    slow_dt,
                    duration,
                    interval_s,
                )),
                (SensorSpec::Manual(s), _) => {
                    let index_of = |id: &str| {
                        scenario.lines.iter().position(|l| l.id == id).ok_or_else(|| missing(spec, "unknown line"))
                    };
                    let watching = s.also_watching.iter().map(|l| index_of(l)).collect::<Result<Vec<_>, _>>()?;
                    Model::Manual(manual::ManualCount::new(s.clone(), index_of(&s.line)?, watching, seed))
                }
                _ => return Err(missing(spec, "unknown line")),
            };
            every.push(match &model {
                Model::Pir(_) | Model::Loop(_) => 1,
                Model::Thermal(m) => m.steps_per_frame(),
                Model::Presence(_) | Model::Magnetometer(_) | Model::Radio(_) => slow_every,
                Model::Manual(_) => 0,
            });
            sensors.push((spec.clone(), model));
        }
        Ok(Self { sensors, every, index: AgentIndex::default(), interval_s, duration_s: duration })
    }

    /// The stretches of street the sensors that sample at step `step` can
    /// sense: what the snapshot of that step must hold
    /// ([`Simulation::snapshot_within`](crate::world::Simulation::snapshot_within)).
    pub fn ranges_due(&self, step: u64) -> Vec<[f32; 2]> {
        self.x_ranges_where(|k| self.due(k, step))
    }

    fn due(&self, k: usize, step: u64) -> bool {
        self.every.get(k).is_some_and(|&e| e > 0 && step.is_multiple_of(e))
    }

    /// The stretches of street `[x_min, x_max]` some sensor can sense: the
    /// simulation need only pose the agents there
    /// ([`Simulation::snapshot_within`](crate::world::Simulation::snapshot_within)).
    pub fn x_ranges(&self) -> Vec<[f32; 2]> {
        self.x_ranges_where(|_| true)
    }

    fn x_ranges_where(&self, keep: impl Fn(usize) -> bool) -> Vec<[f32; 2]> {
        self.sensors
            .iter()
            .enumerate()
            .filter(|(k, _)| keep(*k))
            .filter_map(|(_, (_, model))| match model {
                Model::Pir(m) => Some(m.x_range()),
                Model::Thermal(m) => Some(m.x_range()),
                Model::Presence(m) => Some(m.x_range()),
                Model::Loop(m) => Some(m.x_range()),
                Model::Magnetometer(m) => Some(m.x_range()),
                Model::Radio(m) => Some(m.x_range()),
                Model::Manual(_) => None,
            })
            .collect()
    }

    /// Whether the bank has no sensor (then the simulation need not feed it).
    pub fn is_empty(&self) -> bool {
        self.sensors.is_empty()
    }

    /// Feeds one simulation step to every sensor that watches the world,
    /// each offered only the agents along its stretch of street. The
    /// snapshot must hold at least every agent within [`Self::x_ranges`].
    pub fn observe(&mut self, snapshot: &Snapshot) {
        self.index.rebuild(snapshot);
        let mut ids = Vec::new();
        let step = snapshot.step;
        let due: Vec<bool> = (0..self.sensors.len()).map(|k| self.due(k, step)).collect();
        for ((_, model), due) in self.sensors.iter_mut().zip(due) {
            if !due {
                continue;
            }
            let range = match model {
                Model::Pir(m) => m.x_range(),
                Model::Thermal(m) => m.x_range(),
                Model::Presence(m) => m.x_range(),
                Model::Loop(m) => m.x_range(),
                Model::Magnetometer(m) => m.x_range(),
                Model::Radio(m) => m.x_range(),
                Model::Manual(_) => continue,
            };
            self.index.within(range, &mut ids);
            let near: Vec<&crate::world::AgentPose> = ids.iter().map(|&i| &snapshot.agents[i as usize]).collect();
            match model {
                Model::Pir(m) => m.observe_near(snapshot, &near),
                Model::Thermal(m) => m.observe_near(snapshot, &near),
                Model::Presence(m) => m.observe_near(snapshot, &near),
                Model::Loop(m) => m.observe_near(snapshot, &near),
                Model::Magnetometer(m) => m.observe_near(snapshot, &near),
                Model::Radio(m) => m.observe_near(snapshot, &near),
                Model::Manual(_) => {}
            }
        }
    }

    /// Every sensor's report, in the scenario's order, once the run is over;
    /// `crossings` are the run's ground-truth line crossings.
    pub fn finish(self, crossings: &[Crossing]) -> Vec<SensorOutput> {
        let (interval_s, duration) = (self.interval_s, self.duration_s);
        self.sensors
            .into_iter()
            .map(|(spec, model)| {
                let mut out = SensorOutput::new(&spec);
                match model {
                    Model::Pir(m) => out.counts = m.finish(),
                    Model::Thermal(m) => out.counts = m.finish(),
                    Model::Presence(m) => out.occupancy = m.finish(),
                    Model::Loop(m) => (out.counts, out.traffic) = m.finish(),
                    Model::Magnetometer(m) => out.occupancy = m.finish(),
                    Model::Radio(m) => (out.counts, out.dwell, out.detected) = m.finish(),
                    Model::Manual(m) => {
                        out.counts = m.count(crossings);
                        out.windows = Some(m.windows(interval_s, duration));
                    }
                }
                out
            })
            .collect()
    }
}

/// Radius of a person's body for line-of-sight tests, metres (half a
/// shoulder width).
pub const BODY_RADIUS_M: f32 = 0.22;

/// How many bodies stand between a sensor at `origin` and a point `target`:
/// rapier (parry) ray casts against each person's capsule and each car's
/// box in `agents`, except the agent `skip` (the target itself).
pub fn bodies_between(origin: [f32; 3], target: [f32; 3], agents: &[&crate::world::AgentPose], skip: u32) -> u32 {
    use rapier3d::math::Vector;
    use rapier3d::parry::query::{Ray, RayCast};
    use rapier3d::parry::shape::{Capsule, Cuboid};
    let o = Vector::new(origin[0], origin[1], origin[2]);
    let d = Vector::new(target[0], target[1], target[2]) - o;
    let dist = d.length();
    if dist < 1e-3 {
        return 0;
    }
    let dir = d / dist;
    // On the ground, the path is a segment; only bodies near it can block.
    let (ax, ay) = (origin[0], origin[1]);
    let (sx, sy) = (target[0] - ax, target[1] - ay);
    let len2 = (sx * sx + sy * sy).max(1e-9);
    let mut n = 0;
    for a in agents {
        if a.id == skip {
            continue;
        }
        let [x, y, _] = a.instance.translation;
        let u = (((x - ax) * sx + (y - ay) * sy) / len2).clamp(0.0, 1.0);
        // A vehicle reaches half its own diagonal from its centre (a bus
        // far more than a car: one reach for all would test every car
        // near a path against a bus's).
        let reach = if a.class == ObjectClass::Person {
            BODY_RADIUS_M
        } else {
            let [l, w, _] = a.vehicle_size_m();
            0.5 * l.hypot(w)
        };
        if (x - ax - u * sx).hypot(y - ay - u * sy) > reach {
            continue;
        }
        let hit = if a.class == ObjectClass::Person {
            let r = BODY_RADIUS_M;
            let top = (a.height_m - r).max(r + 0.05);
            Capsule::new(Vector::new(x, y, r), Vector::new(x, y, top), r).cast_local_ray(&Ray::new(o, dir), dist, true)
        } else {
            let [l, w, h] = a.vehicle_size_m();
            let (s, c) = (-a.instance.yaw_rad).sin_cos();
            let rel = o - Vector::new(x, y, h / 2.0 + 0.1);
            let local_o = Vector::new(c * rel.x - s * rel.y, s * rel.x + c * rel.y, rel.z);
            let local_d = Vector::new(c * dir.x - s * dir.y, s * dir.x + c * dir.y, dir.z);
            Cuboid::new(Vector::new(l / 2.0, w / 2.0, h / 2.0)).cast_local_ray(&Ray::new(local_o, local_d), dist, true)
        };
        if hit.is_some() {
            n += 1;
        }
    }
    n
}

/// A whole run of the simulation with every sensor of the scenario watching:
/// the ground-truth crossings and each sensor's report. The simulation is
/// the same with or without sensors; they only read its snapshots.
pub fn simulate(scenario: &Scenario) -> Result<(Vec<Crossing>, Vec<SensorOutput>), SensorError> {
    let mut bank = SensorBank::new(scenario)?;
    let mut sim = crate::world::Simulation::new(scenario);
    while sim.step_index() < scenario.step_count() {
        sim.step();
        let ranges = bank.ranges_due(sim.step_index());
        if !ranges.is_empty() {
            bank.observe(&sim.snapshot_within(&ranges));
        }
    }
    let crossings = sim.crossings().to_vec();
    let outputs = bank.finish(&crossings);
    Ok((crossings, outputs))
}

#[cfg(test)]
mod tests;
