//! Wi-Fi and Bluetooth device counting.
//!
//! A scanner beside the street records the hardware (MAC) addresses of the
//! devices people and cars carry: Wi-Fi probe requests that phones send in
//! bursts, and Bluetooth devices answering inquiries. Each address seen is
//! a pseudonymous device identifier: personal data, though not an image.
//! The model has every known cause of error: only a share of people carry
//! a discoverable device; a probe or an inquiry reply is received with a
//! probability that falls with distance and with each body in the way
//! (rapier ray casts); Bluetooth discovery takes time, so fast vehicles that
//! spend little time in range are missed more (Bluetooth detected 50-90 %
//! of vehicles by day, 20-50 % at night, fewer above 80 km/h: domain brief
//! §4); and Wi-Fi devices randomise their MAC address, so one device seen
//! across a change counts twice and its dwell breaks in two.
//!
//! The scanner has two directional antennas aimed along the street on either
//! side of its counting line, so a session seen on both sides has a
//! direction; sessions seen on one side only are shared between the two
//! directions in turn. Counts are the sessions scaled by
//! `1 / calibration_share` (the operator's estimate of the device share).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{
    CostProfile, DetectionShare, DwellInterval, Expander, LineFrame, SensorCount, SensorFault, bodies_between,
    check_on_map, check_range, ground, intervals, presence::slot_of,
};
use crate::street::StreetLayout;
use crate::world::{AgentPose, Direction, ObjectClass, Snapshot};

/// Which radio a scanner listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Radio {
    /// Wi-Fi probe requests.
    Wifi,
    /// Bluetooth inquiry responses.
    Bluetooth,
}

/// A Wi-Fi or Bluetooth scanner in the scenario file; absent parameters
/// take the radio's defaults ([`RadioParams`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadioSpec {
    /// Identifier used in outputs.
    pub id: String,
    /// The counting line whose flow it estimates.
    pub line: String,
    /// Where the scanner stands `[x, y]`, metres.
    pub position: [f32; 2],
    /// Range beyond which nothing is received, metres (> 0).
    #[serde(default)]
    pub range_m: Option<f32>,
    /// Share of people (and of cars) carrying a discoverable device.
    #[serde(default)]
    pub device_share: Option<f32>,
    /// The operator's estimate of that share, used to scale counts.
    #[serde(default)]
    pub calibration_share: Option<f32>,
    /// Mean time between a Wi-Fi device's probe bursts, seconds.
    #[serde(default)]
    pub probe_interval_s: Option<f32>,
    /// How often a device changes its randomised MAC address, seconds
    /// (0: never).
    #[serde(default)]
    pub mac_rotation_s: Option<f32>,
    /// Mean time for a Bluetooth inquiry to discover a device in range, seconds.
    #[serde(default)]
    pub discovery_s: Option<f32>,
    /// Share of receptions lost per body between device and scanner.
    #[serde(default)]
    pub body_loss: Option<f32>,
}

/// The parameters of a scanner once the radio's defaults are applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadioParams {
    /// Range, metres.
    pub range_m: f32,
    /// True device share.
    pub device_share: f32,
    /// Share assumed by the count estimate.
    pub calibration_share: f32,
    /// Probe burst interval, seconds (Wi-Fi).
    pub probe_interval_s: f32,
    /// MAC rotation period, seconds (0: none).
    pub mac_rotation_s: f32,
    /// Mean discovery time, seconds (Bluetooth).
    pub discovery_s: f32,
    /// Loss per body in the way.
    pub body_loss: f32,
}

impl RadioParams {
    /// Defaults per radio. Wi-Fi: 50 m outdoor reception of phone probes,
    /// 60 % of people with Wi-Fi on and probing, a burst every 30 s and a
    /// new random address every 5 minutes (assumptions: the order of
    /// magnitude reported for current phones, which vary widely by
    /// operating system and screen state). Bluetooth: 60 m with a
    /// high-gain antenna, 70 % discoverable devices by day, 5 s mean
    /// discovery (an inquiry lasts up to 10.24 s), fixed addresses of
    /// classic discoverable devices (assumptions set so that the detection
    /// shares fall in the published 50-90 % by day).
    pub fn of(spec: &RadioSpec, radio: Radio) -> Self {
        let (range, share, probe, rotation, discovery) = match radio {
            Radio::Wifi => (50.0, 0.6, 30.0, 300.0, 5.0),
            Radio::Bluetooth => (60.0, 0.7, 30.0, 0.0, 5.0),
        };
        let device_share = spec.device_share.unwrap_or(share);
        Self {
            range_m: spec.range_m.unwrap_or(range),
            device_share,
            calibration_share: spec.calibration_share.unwrap_or(device_share),
            probe_interval_s: spec.probe_interval_s.unwrap_or(probe),
            mac_rotation_s: spec.mac_rotation_s.unwrap_or(rotation),
            discovery_s: spec.discovery_s.unwrap_or(discovery),
            body_loss: spec.body_loss.unwrap_or(0.3),
        }
    }
}

/// A Wi-Fi scanner at the roadside: the same kind of radio reader as the
/// Bluetooth one (many read both), so it takes that published cost (see
/// [`BLUETOOTH_COST`]); no figure for a Wi-Fi-only street scanner was found.
pub const WIFI_COST: CostProfile = CostProfile {
    basis: "as the Bluetooth reader (Utah DOT 2014, USDOT ITS Costs Database 2014-SC00334; dollars taken as euros)",
    ..BLUETOOTH_COST
};

/// A Bluetooth traffic reader with GPS and a cellular uplink: US$4,000-5,000
/// a device bought and installed (ten for about $40,000), and $33,000 of
/// vendor data access and maintenance for the ten over nine months, about
/// $4,400 a device-year (Utah DOT, 2014; USDOT ITS Costs Database entry
/// 2014-SC00334, from FHWA-HOP-14-007). Dollars are taken as euros: an
/// order of magnitude.
pub const BLUETOOTH_COST: CostProfile = CostProfile {
    hardware_eur: 3_500.0,
    installation_eur: 500.0,
    operation_eur_per_year: 4_400.0,
    basis: "Utah DOT 2014, USDOT ITS Costs Database 2014-SC00334: $4,000-5,000 a reader installed, $33,000 data access and maintenance for ten over nine months; dollars taken as euros",
};

impl RadioSpec {
    pub(super) fn validate(&self, layout: &StreetLayout) -> Result<(), SensorFault> {
        check_on_map(layout, self.position)?;
        if let Some(r) = self.range_m {
            check_range("range_m", r, 0.5, 500.0, " m")?;
        }
        for (key, v) in [("device_share", self.device_share), ("body_loss", self.body_loss)] {
            if let Some(v) = v {
                check_range(key, v, 0.0, 1.0, "")?;
            }
        }
        if let Some(v) = self.calibration_share {
            check_range("calibration_share", v, 0.01, 1.0, "")?;
        }
        if let Some(v) = self.probe_interval_s {
            check_range("probe_interval_s", v, 0.1, 3600.0, " s")?;
        }
        if let Some(v) = self.mac_rotation_s {
            check_range("mac_rotation_s", v, 0.0, 1e6, " s")?;
        }
        if let Some(v) = self.discovery_s {
            check_range("discovery_s", v, 0.1, 600.0, " s")?;
        }
        Ok(())
    }
}

/// What a device looks like to scanners: whether it is discoverable, the
/// phase of its probe bursts and of its address changes. Derived from the
/// seed and the agent's id alone (a SplitMix64 hash), so every scanner sees
/// the same devices and no table of devices is needed.
#[derive(Debug, Clone, Copy)]
struct Device {
    present: bool,
    probe_phase: f32,
    rotation_phase: f32,
    address_seed: u64,
}

fn device_of(seed: u64, radio: Radio, agent: u32, p: &RadioParams) -> Device {
    let mut rng =
        super::SplitMix64(seed ^ 0xD371_CE00 ^ ((radio as u64) << 32) ^ (u64::from(agent) << 40) ^ u64::from(agent));
    let present = rng.unit() < p.device_share;
    let probe_phase = rng.unit() * p.probe_interval_s;
    let rotation_phase = rng.unit() * p.mac_rotation_s.max(1.0);
    Device { present, probe_phase, rotation_phase, address_seed: rng.next_u64() }
}

/// Ground truth of stays in range is kept every this many seconds: fine for
/// stays of tens of seconds.
const TRUTH_PERIOD_S: f32 = 0.5;

/// Reception probability at distance `d`: near-certain close by, falling
/// off towards the range (a logistic in distance standing for received
/// signal strength against the scanner's threshold).
fn reception(d: f32, range: f32) -> f32 {
    if d > range {
        return 0.0;
    }
    0.95 / (1.0 + ((d - 0.75 * range) / (0.08 * range)).exp())
}

#[derive(Debug, Clone)]
struct Session {
    first_s: f32,
    last_s: f32,
    first_side: bool,
    last_side: bool,
    class: ObjectClass,
}

/// A running Wi-Fi or Bluetooth scanner.
#[derive(Debug, Clone)]
pub struct RadioScanner {
    radio: Radio,
    params: RadioParams,
    line: LineFrame,
    position: [f32; 2],
    seed: u64,
    dt: f32,
    rng: ChaCha8Rng,
    slots: Vec<[f32; 2]>,
    /// Sessions by (agent, address epoch): the scanner sees addresses only.
    sessions: std::collections::BTreeMap<(u32, u64), Session>,
    /// Truth: when each agent entered and last was within range.
    in_range: std::collections::BTreeMap<u32, (f32, f32)>,
    truth_stays: Vec<(f32, f32)>,
    /// Every agent that came within range, with its class.
    seen_classes: std::collections::BTreeMap<u32, ObjectClass>,
    /// When the truth was last kept.
    truth_at_s: f32,
}

impl RadioScanner {
    /// A scanner for `spec` estimating the flow over `line`.
    pub fn new(
        spec: RadioSpec,
        radio: Radio,
        line: LineFrame,
        seed: u64,
        dt: f32,
        duration_s: f32,
        interval_s: u32,
    ) -> Self {
        Self {
            params: RadioParams::of(&spec, radio),
            radio,
            line,
            position: spec.position,
            seed,
            dt,
            rng: super::sensor_rng(seed, &spec.id, 1),
            slots: intervals(interval_s, duration_s),
            sessions: Default::default(),
            in_range: Default::default(),
            truth_stays: Vec::new(),
            seen_classes: Default::default(),
            truth_at_s: f32::MIN,
        }
    }

    /// The parameters in force.
    pub fn params(&self) -> RadioParams {
        self.params
    }

    /// Looks at one step with every agent as a candidate.
    pub fn observe(&mut self, snap: &Snapshot) {
        let all: Vec<&AgentPose> = snap.agents.iter().collect();
        self.observe_near(snap, &all);
    }

    /// The stretch of street `[x_min, x_max]` the sensor can sense: agents
    /// elsewhere need not be offered to it.
    pub fn x_range(&self) -> [f32; 2] {
        [self.position[0] - self.params.range_m, self.position[0] + self.params.range_m]
    }

    /// Looks at one step, `agents` being those within [`Self::x_range`]:
    /// which devices in range send, and which are heard.
    pub fn observe_near(&mut self, snap: &Snapshot, agents: &[&AgentPose]) {
        let t = snap.time_s;
        let range = self.params.range_m;
        let c = self.position;
        let near: Vec<&AgentPose> = agents
            .iter()
            .copied()
            .filter(|a| {
                let p = ground(a);
                (p[0] - c[0]).abs() <= range && (p[0] - c[0]).hypot(p[1] - c[1]) <= range
            })
            .collect();
        if t - self.truth_at_s >= TRUTH_PERIOD_S {
            self.truth_at_s = t;
            let mut here = std::collections::BTreeSet::new();
            for a in &near {
                here.insert(a.id);
                self.seen_classes.entry(a.id).or_insert(a.class);
                self.in_range.entry(a.id).and_modify(|s| s.1 = t).or_insert((t, t));
            }
            let left: Vec<u32> = self.in_range.keys().filter(|id| !here.contains(id)).copied().collect();
            for id in left {
                if let Some(stay) = self.in_range.remove(&id) {
                    self.truth_stays.push(stay);
                }
            }
        }
        let (seed, radio, params) = (self.seed, self.radio, self.params);
        for a in &near {
            let device = device_of(seed, radio, a.id, &params);
            if !device.present {
                continue;
            }
            let sends = match self.radio {
                // A probe burst falls in this step.
                Radio::Wifi => {
                    let k = |time: f32| ((time + device.probe_phase) / params.probe_interval_s).floor();
                    k(t) != k(t - self.dt)
                }
                // Discovery is a race against the inquiry cycle.
                Radio::Bluetooth => self.rng.random::<f32>() < self.dt / params.discovery_s,
            };
            if !sends {
                continue;
            }
            let p = ground(a);
            let d = (p[0] - c[0]).hypot(p[1] - c[1]);
            let mut chance = reception(d, range);
            if chance <= 0.0 {
                continue;
            }
            let origin = [c[0], c[1], 1.5];
            let blockers = bodies_between(origin, [p[0], p[1], 1.2], &near, a.id);
            chance *= (1.0 - params.body_loss).powi(blockers as i32);
            if self.rng.random::<f32>() >= chance {
                continue;
            }
            let epoch = if params.mac_rotation_s > 0.0 {
                ((t + device.rotation_phase) / params.mac_rotation_s).floor() as u64
            } else {
                0
            };
            let side = self.line.local(p).1 > 0.0;
            let class = match self.radio {
                // A probe request does not say what carries the phone.
                Radio::Wifi => ObjectClass::Person,
                // The class of device tells a car kit from a phone.
                Radio::Bluetooth => a.class,
            };
            let key = (device.address_seed.rotate_left(7) ^ u64::from(a.id), epoch);
            self.sessions
                .entry((a.id, key.0 ^ key.1))
                .and_modify(|s| {
                    s.last_s = t;
                    s.last_side = side;
                })
                .or_insert(Session { first_s: t, last_s: t, first_side: side, last_side: side, class });
        }
    }

    /// Counts on the line, dwell per interval, and the share of agents
    /// detected per class.
    pub fn finish(mut self) -> (Vec<SensorCount>, Vec<DwellInterval>, Vec<DetectionShare>) {
        self.truth_stays.extend(self.in_range.values().map(|s| (s.0, s.1)));
        let detected_ids: std::collections::BTreeSet<u32> = self.sessions.keys().map(|k| k.0).collect();
        let mut shares: std::collections::BTreeMap<ObjectClass, (u32, u32)> = Default::default();
        for (id, class) in &self.seen_classes {
            let e = shares.entry(*class).or_default();
            e.0 += 1;
            e.1 += u32::from(detected_ids.contains(id));
        }
        let shares = shares
            .into_iter()
            .map(|(class, (in_range, detected))| DetectionShare { class, in_range, detected })
            .collect();
        let mut sessions: Vec<Session> = self.sessions.into_values().collect();
        sessions.sort_by(|a, b| a.first_s.total_cmp(&b.first_s).then(a.last_s.total_cmp(&b.last_s)));
        let weight = 1.0 / self.params.calibration_share;
        let mut expand = [Expander::default(); 2];
        let mut alternate = false;
        let mut counts = Vec::new();
        let n = self.slots.len();
        let mut dwell: Vec<Vec<f32>> = vec![Vec::new(); n];
        for s in &sessions {
            let direction = if s.first_side != s.last_side {
                // Left of the line first: crossing left to right.
                if s.first_side { Direction::Positive } else { Direction::Negative }
            } else {
                alternate = !alternate;
                if alternate { Direction::Positive } else { Direction::Negative }
            };
            let time_s = (s.first_s + s.last_s) / 2.0;
            let k = usize::from(direction == Direction::Negative);
            for _ in 0..expand[k].add(weight) {
                counts.push(SensorCount { time_s, direction, class: s.class });
            }
            if let Some(k) = slot_of(&self.slots, s.last_s) {
                dwell[k].push(s.last_s - s.first_s);
            }
        }
        counts.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        let mut truth: Vec<Vec<f32>> = vec![Vec::new(); n];
        for (a, b) in &self.truth_stays {
            if let Some(k) = slot_of(&self.slots, *b) {
                truth[k].push(b - a);
            }
        }
        let mean = |v: &[f32]| (!v.is_empty()).then(|| v.iter().sum::<f32>() / v.len() as f32);
        let dwell = (0..n)
            .map(|k| DwellInterval {
                start_s: self.slots[k][0],
                end_s: self.slots[k][1],
                sessions: dwell[k].len() as u32,
                mean_dwell_s: mean(&dwell[k]),
                truth_agents: truth[k].len() as u32,
                truth_mean_dwell_s: mean(&truth[k]),
            })
            .collect();
        (counts, dwell, shares)
    }
}
