//! Presence detectors: is anyone in this zone? Yes or no per interval.
//!
//! A ceiling- or mast-mounted motion detector (passive infrared or
//! microwave) covering a zone. It reports a zone as occupied for an interval
//! if it detected motion at any time in it. A person inside is detected at
//! a rate per second (walking people move constantly; the rate stands for
//! the chance that their motion crosses the detector's zones), and someone
//! standing still (waiting at a stop) at a much lower rate: only their small
//! movements trigger it; false triggers arrive as a Poisson process. Its
//! error is the occupied interval it misses (a short pass at the zone's
//! edge, someone standing still) and the empty interval it reports as
//! occupied. The truth is the zone ledger's ([`ZoneLedger`]): anyone inside
//! at any sampled step of the interval.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{CostProfile, OccupancyInterval, SensorFault, check_range, fault, ground, intervals};
use crate::scenario::{Scenario, ZoneSpec};
use crate::world::{AgentPose, Snapshot};
use crate::zones::ZoneLedger;

/// A presence detector in the scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceSpec {
    /// Identifier used in outputs.
    pub id: String,
    /// The `[[zones]]` id it covers.
    pub zone: String,
    /// Detections per second of a moving person inside the zone.
    #[serde(default = "default_rate")]
    pub detection_rate_per_s: f32,
    /// Detections per second of a person standing still inside the zone
    /// (slower than [`STILL_SPEED_MPS`]).
    #[serde(default = "default_still_rate")]
    pub still_detection_rate_per_s: f32,
    /// False triggers per hour.
    #[serde(default = "default_false")]
    pub false_triggers_per_h: f32,
}

fn default_rate() -> f32 {
    1.5
}
fn default_false() -> f32 {
    2.0
}
/// A fifteenth of a walker's rate (assumption): standing people shift
/// their weight, turn and gesture, which a motion detector sees far less
/// surely than walking (occupancy sensor ratings give the coverage of
/// "minor motion" apart from, and smaller than, that of "major motion").
fn default_still_rate() -> f32 {
    0.1
}

/// Below this ground speed a person counts as standing still, m/s.
pub const STILL_SPEED_MPS: f32 = 0.3;

/// A commercial occupancy sensor on a mast with a radio uplink
/// (assumption: order of magnitude of public prices).
pub const COST: CostProfile = CostProfile {
    hardware_eur: 120.0,
    installation_eur: 200.0,
    operation_eur_per_year: 30.0,
    basis: "assumption (public prices, order of magnitude)",
};

impl PresenceSpec {
    pub(super) fn validate(&self, scenario: &Scenario) -> Result<(), SensorFault> {
        if !scenario.zones.iter().any(|z| z.id == self.zone) {
            return Err(fault("zone", format!("presence `{}` names unknown zone `{}`", self.id, self.zone)));
        }
        check_range("detection_rate_per_s", self.detection_rate_per_s, 0.0, 100.0, " per second")?;
        check_range("still_detection_rate_per_s", self.still_detection_rate_per_s, 0.0, 100.0, " per second")?;
        check_range("false_triggers_per_h", self.false_triggers_per_h, 0.0, 3600.0, " per hour")
    }
}

/// A running presence detector.
#[derive(Debug, Clone)]
pub struct PresenceDetector {
    zone: ZoneSpec,
    /// Rates as chances per step: moving, standing still.
    p_step: f32,
    still_rate_per_s: f32,
    /// Where each agent in the zone was at the last look, and when: its
    /// speed says whether it moves.
    last_seen: std::collections::HashMap<u32, ([f32; 2], f32)>,
    rng: ChaCha8Rng,
    slots: Vec<[f32; 2]>,
    detected: Vec<bool>,
    /// The zone's ground truth, kept by the same ledger as every zone's.
    ledger: ZoneLedger,
}

impl PresenceDetector {
    /// A detector for `spec` over `zone`.
    pub fn new(spec: PresenceSpec, zone: ZoneSpec, seed: u64, dt: f32, duration_s: f32, interval_s: u32) -> Self {
        let slots = intervals(interval_s, duration_s);
        let mut detected = vec![false; slots.len()];
        let mut ghosts = super::sensor_rng(seed, &spec.id, 2);
        for t in super::poisson_times(&mut ghosts, spec.false_triggers_per_h, duration_s) {
            if let Some(k) = slot_of(&slots, t) {
                detected[k] = true;
            }
        }
        Self {
            p_step: 1.0 - (-spec.detection_rate_per_s * dt).exp(),
            still_rate_per_s: spec.still_detection_rate_per_s,
            last_seen: Default::default(),
            rng: super::sensor_rng(seed, &spec.id, 1),
            ledger: ZoneLedger::new(vec![zone.clone()]),
            detected,
            slots,
            zone,
        }
    }

    /// Looks at one step with every agent as a candidate.
    pub fn observe(&mut self, snap: &Snapshot) {
        let all: Vec<&AgentPose> = snap.agents.iter().collect();
        self.observe_near(snap, &all);
    }

    /// The stretch of street `[x_min, x_max]` the sensor can sense: agents
    /// elsewhere need not be offered to it.
    pub fn x_range(&self) -> [f32; 2] {
        let (lo, hi) = self.zone.bounds();
        [lo[0], hi[0]]
    }

    /// Looks at one step, `agents` being those within [`Self::x_range`]:
    /// who is inside, and whether their motion is detected.
    pub fn observe_near(&mut self, snap: &Snapshot, agents: &[&AgentPose]) {
        let Some(k) = slot_of(&self.slots, snap.time_s) else { return };
        let local = Snapshot { step: snap.step, time_s: snap.time_s, agents: agents.iter().map(|a| **a).collect() };
        self.ledger.observe(&local);
        let mut seen = std::collections::HashMap::with_capacity(self.last_seen.len());
        for a in agents {
            let p = ground(a);
            if !self.zone.contains(p) {
                continue;
            }
            // Someone just come in is walking.
            let chance = match self.last_seen.get(&a.id) {
                Some((q, t)) if snap.time_s > *t => {
                    let dt = snap.time_s - t;
                    let speed = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt() / dt;
                    if speed < STILL_SPEED_MPS { 1.0 - (-self.still_rate_per_s * dt).exp() } else { self.p_step }
                }
                _ => self.p_step,
            };
            seen.insert(a.id, (p, snap.time_s));
            if self.rng.random::<f32>() < chance {
                self.detected[k] = true;
            }
        }
        self.last_seen = seen;
    }

    /// Occupancy per interval, reported and true.
    pub fn finish(self) -> Vec<OccupancyInterval> {
        let mut truth = vec![false; self.slots.len()];
        for o in self.ledger.occupancy() {
            if let Some(k) = slot_of(&self.slots, o.time_s) {
                truth[k] |= o.count > 0;
            }
        }
        self.slots
            .iter()
            .zip(self.detected.iter().zip(&truth))
            .map(|(s, (&occupied, &truth_occupied))| OccupancyInterval {
                place: self.zone.id.clone(),
                start_s: s[0],
                end_s: s[1],
                occupied,
                truth_occupied,
            })
            .collect()
    }
}

/// The interval a time falls in.
pub(super) fn slot_of(slots: &[[f32; 2]], t: f32) -> Option<usize> {
    let step = slots.first().map(|s| s[1] - s[0])?;
    if t < 0.0 || step <= 0.0 {
        return None;
    }
    let k = ((t / step) as usize).min(slots.len() - 1);
    (t <= slots[k][1]).then_some(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Instance, MeshKey};
    use crate::scenario::ZoneKind;
    use crate::world::ObjectClass;

    fn detector(still_rate: f32, duration_s: f32) -> PresenceDetector {
        let zone = ZoneSpec {
            id: "z".into(),
            polygon: vec![[0.0, 3.5], [4.0, 3.5], [4.0, 7.0], [0.0, 7.0]],
            kind: ZoneKind::Count,
            label: None,
            wait: None,
        };
        let spec = PresenceSpec {
            id: "p".into(),
            zone: "z".into(),
            detection_rate_per_s: 5.0,
            still_detection_rate_per_s: still_rate,
            false_triggers_per_h: 0.0,
        };
        PresenceDetector::new(spec, zone, 1, 0.05, duration_s, 10)
    }

    fn person_at(x: f32) -> AgentPose {
        AgentPose {
            id: 1,
            class: ObjectClass::Person,
            instance: Instance { mesh: MeshKey(0), translation: [x, 5.0, 0.0], yaw_rad: 0.0 },
            height_m: 1.7,
        }
    }

    #[test]
    fn occupied_intervals_follow_people_in_the_zone() {
        let mut det = detector(0.1, 30.0);
        for step in 0..600u64 {
            let t = step as f32 * 0.05;
            // Someone walks to and fro in the zone during the second interval only.
            let x = if (10.0..20.0).contains(&t) { 2.0 + (t * 1.2).sin() } else { -5.0 };
            det.observe(&Snapshot { step, time_s: t, agents: vec![person_at(x)] });
        }
        let occ: Vec<(bool, bool)> = det.finish().iter().map(|o| (o.occupied, o.truth_occupied)).collect();
        assert_eq!(occ, vec![(false, false), (true, true), (false, false)]);
    }

    #[test]
    fn someone_standing_still_is_missed_in_some_intervals() {
        // One hour standing in the zone: 360 intervals of 10 s.
        let standing = |still_rate: f32| {
            let mut det = detector(still_rate, 3600.0);
            for step in 0..72_000u64 {
                det.observe(&Snapshot { step, time_s: step as f32 * 0.05, agents: vec![person_at(2.0)] });
            }
            let occ = det.finish();
            assert!(occ.iter().all(|o| o.truth_occupied));
            occ.iter().filter(|o| o.occupied).count() as f64 / occ.len() as f64
        };
        // 0.1/s over 10 s: detected in 1 - e^-1 = 63 % of intervals.
        let seen = standing(0.1);
        assert!((0.55..0.71).contains(&seen), "{seen}");
        assert_eq!(standing(5.0), 1.0, "at a walker's rate nothing is missed");
    }
}
