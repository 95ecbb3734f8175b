//! In-road vehicle sensors: inductive loops and parking-bay magnetometers.
//!
//! An inductive loop is a wire rectangle, about 2 m long, cut into one lane
//! (domain brief §4). A vehicle's metal body over it changes its inductance;
//! people, who carry no conductive mass to speak of, never do, and neither
//! (in this model) do bicycles, whose light frames a loop tuned for cars
//! does not see (an assumption: loops for cyclists need their own tuning
//! and layout). The detector
//! reports counts (rising edges), occupancy (share of time occupied) and,
//! from a single loop, speed as `(assumed vehicle length + loop length) /
//! on-time`, so its speed error is the spread of real vehicle lengths around
//! the assumed one. One loop sees one lane: it counts in that lane's
//! direction of travel. Short loops leave gaps in which a vehicle can be
//! missed (a lane change, a motorbike beside the loop); the model keeps that
//! as a miss rate per vehicle.
//!
//! A parking magnetometer lies in the middle of a bay and senses the change
//! of the Earth's field under a parked car; a vehicle passing close by
//! disturbs it too, which the device filters by waiting until a change has
//! lasted `debounce_s`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{
    CostProfile, LineFrame, LoopInterval, OccupancyInterval, SensorCount, SensorFault, check_range, fault, ground,
    intervals, presence::slot_of,
};
use crate::street::StreetLayout;
use crate::world::{AgentPose, Direction, ObjectClass, Snapshot};

/// An inductive loop in the scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopSpec {
    /// Identifier used in outputs.
    pub id: String,
    /// The counting line across the road it reports on.
    pub line: String,
    /// Centre of the loop `[x, y]`, metres; must be on the road.
    pub position: [f32; 2],
    /// Length along the lane, metres.
    #[serde(default = "default_length")]
    pub length_m: f32,
    /// Width across the lane, metres.
    #[serde(default = "default_width")]
    pub width_m: f32,
    /// Share of vehicles the loop misses.
    #[serde(default = "default_miss")]
    pub miss_rate: f32,
    /// Vehicle length assumed by the single-loop speed estimate, metres.
    #[serde(default = "default_vehicle_length")]
    pub assumed_vehicle_length_m: f32,
    /// How often the detector card reads the loop, seconds; 0 (default) reads
    /// it at every simulation step. Older cards sampled every 250 ms (Cherrett
    /// et al. 2001), which rounds each on-time, and so each speed, to that step.
    #[serde(default)]
    pub sample_period_s: f32,
}

fn default_length() -> f32 {
    2.0
}
fn default_width() -> f32 {
    1.8
}
fn default_miss() -> f32 {
    0.01
}
fn default_vehicle_length() -> f32 {
    4.5
}

/// Detector card, saw-cut loop with a lane closure, upkeep (assumption:
/// order of magnitude of municipal contract prices).
pub const LOOP_COST: CostProfile = CostProfile {
    hardware_eur: 600.0,
    installation_eur: 2500.0,
    operation_eur_per_year: 150.0,
    basis: "assumption (municipal contract prices, order of magnitude; with an infrared counter, near a published infrared-and-loop counter's cost)",
};

/// A battery magnetometer glued or drilled into a bay, with a gateway share
/// (assumption: order of magnitude of public prices).
pub const MAGNETOMETER_COST: CostProfile = CostProfile {
    hardware_eur: 250.0,
    installation_eur: 100.0,
    operation_eur_per_year: 30.0,
    basis: "assumption (public prices, order of magnitude)",
};

fn on_road(layout: &StreetLayout, p: [f32; 2], half_width: f32) -> bool {
    p[0].is_finite()
        && p[1].is_finite()
        && p[0].abs() <= layout.half_length
        && p[1].abs() + half_width <= layout.half_road
}

/// The direction of travel in the lane at `y`: right-hand traffic,
/// eastbound south of the centre line.
fn lane_heading(y: f32) -> [f32; 2] {
    if y < 0.0 { [1.0, 0.0] } else { [-1.0, 0.0] }
}

impl LoopSpec {
    pub(super) fn validate(
        &self,
        layout: &StreetLayout,
        line: Option<&crate::scenario::CountingLine>,
    ) -> Result<(), SensorFault> {
        check_range("length_m", self.length_m, 0.5, 10.0, " m")?;
        check_range("width_m", self.width_m, 0.5, 4.0, " m")?;
        if !super::on_map(layout, self.position) {
            return super::check_on_map(layout, self.position);
        }
        if !on_road(layout, self.position, self.width_m / 2.0) {
            return Err(fault(
                "position",
                format!(
                    "the loop at [{}, {}] ({} m wide) is not on the road (y within ±{} m): loops detect vehicles in a lane, \
                     not on a sidewalk",
                    self.position[0], self.position[1], self.width_m, layout.half_road
                ),
            ));
        }
        check_range("miss_rate", self.miss_rate, 0.0, 1.0, "")?;
        check_range("assumed_vehicle_length_m", self.assumed_vehicle_length_m, 1.0, 25.0, " m")?;
        check_range("sample_period_s", self.sample_period_s, 0.0, 2.0, " s")?;
        if let Some(l) = line {
            let h = lane_heading(self.position[1]);
            let y = self.position[1];
            if crate::world::segment_crossing(l.from, l.to, [-1e4 * h[0], y], [1e4 * h[0], y]).is_none() {
                return Err(fault("line", format!("line `{}` does not cross the loop's lane at y = {y}", l.id)));
            }
        }
        Ok(())
    }
}

/// A magnetometer in the scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MagnetometerSpec {
    /// Identifier used in outputs (the bay).
    pub id: String,
    /// Where it lies `[x, y]`, metres: the middle of a bay on the road.
    pub position: [f32; 2],
    /// Distance around a vehicle's body within which it disturbs the
    /// field, metres.
    #[serde(default = "default_reach")]
    pub reach_m: f32,
    /// How long a change must last to be reported, seconds.
    #[serde(default = "default_debounce")]
    pub debounce_s: f32,
}

fn default_reach() -> f32 {
    0.4
}
fn default_debounce() -> f32 {
    5.0
}

impl MagnetometerSpec {
    pub(super) fn validate(&self, layout: &StreetLayout) -> Result<(), SensorFault> {
        super::check_on_map(layout, self.position)?;
        if !on_road(layout, self.position, 0.0) {
            return Err(fault(
                "position",
                format!("the magnetometer at [{}, {}] is not on the road", self.position[0], self.position[1]),
            ));
        }
        check_range("reach_m", self.reach_m, 0.0, 3.0, " m")?;
        check_range("debounce_s", self.debounce_s, 0.0, 600.0, " s")
    }
}

/// The part of a vehicle's footprint over an axis-aligned rectangle, as
/// `(overlap along x, overlap along y)`, metres.
fn overlap(a: &AgentPose, centre: [f32; 2], half: [f32; 2], margin: f32) -> (f32, f32) {
    let [l, w, _] = a.vehicle_size_m();
    let p = ground(a);
    let ox = (p[0] + l / 2.0 + margin).min(centre[0] + half[0]) - (p[0] - l / 2.0 - margin).max(centre[0] - half[0]);
    let oy = (p[1] + w / 2.0 + margin).min(centre[1] + half[1]) - (p[1] - w / 2.0 - margin).max(centre[1] - half[1]);
    (ox, oy)
}

/// Overlap along the lane a vehicle needs before the loop detects it, metres.
const MIN_OVERLAP_M: f32 = 0.3;

/// One detection: from when to when the card saw metal, whether the count
/// was kept, and the vehicle that set it off (the one furthest over the
/// loop), whose true speed its speed estimate is scored against. A
/// detection still on when the run ends is cut: counted, but its on-time
/// gives no speed.
#[derive(Debug, Clone, Copy)]
struct Detection {
    start_s: f32,
    end_s: f32,
    counted: bool,
    vehicle: Option<u32>,
    cut: bool,
}

#[derive(Debug, Clone)]
struct Passage {
    start_s: f32,
    speed_sum: f32,
    speed_n: u32,
}

impl Passage {
    /// The vehicle's true mean speed over the loop, m/s.
    fn mean_speed(&self) -> Option<f32> {
        (self.speed_n > 0).then(|| self.speed_sum / self.speed_n as f32)
    }
}

/// A running inductive loop.
#[derive(Debug, Clone)]
pub struct InductiveLoop {
    spec: LoopSpec,
    direction: Direction,
    dt: f32,
    rng: ChaCha8Rng,
    slots: Vec<[f32; 2]>,
    /// The detector's own state: when the current detection began, and the
    /// vehicle that began it.
    on_since: Option<(f32, Option<u32>)>,
    counted_current: bool,
    /// The card's last reading, as a count of sample periods.
    last_tick: Option<i64>,
    detections: Vec<Detection>,
    /// Ground truth: vehicles over the loop, by id.
    passages: std::collections::BTreeMap<u32, Passage>,
    last_pos: std::collections::BTreeMap<u32, [f32; 2]>,
    truth_on: Vec<f32>,
}

impl InductiveLoop {
    /// A loop for `spec` reporting on `line`.
    pub fn new(spec: LoopSpec, line: LineFrame, seed: u64, dt: f32, duration_s: f32, interval_s: u32) -> Self {
        let slots = intervals(interval_s, duration_s);
        Self {
            direction: line.direction_of(lane_heading(spec.position[1])),
            dt,
            rng: super::sensor_rng(seed, &spec.id, 1),
            truth_on: vec![0.0; slots.len()],
            slots,
            on_since: None,
            counted_current: false,
            last_tick: None,
            detections: Vec::new(),
            passages: Default::default(),
            last_pos: Default::default(),
            spec,
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
        [self.position_x() - 20.0, self.position_x() + 20.0]
    }

    fn position_x(&self) -> f32 {
        self.spec.position[0]
    }

    /// Looks at one step, `agents` being those within [`Self::x_range`]:
    /// is metal over the loop?
    pub fn observe_near(&mut self, snap: &Snapshot, agents: &[&AgentPose]) {
        let half = [self.spec.length_m / 2.0, self.spec.width_m / 2.0];
        let mut on = false;
        let mut truth = false;
        // The vehicle furthest over the loop, with its overlap.
        let mut over: Option<(f32, u32)> = None;
        for a in agents.iter().filter(|a| a.class.is_motor_vehicle()) {
            let (ox, oy) = overlap(a, self.spec.position, half, 0.0);
            if ox <= 0.0 || oy <= 0.0 {
                continue;
            }
            truth = true;
            on |= ox >= MIN_OVERLAP_M;
            if over.is_none_or(|(o, _)| ox > o) {
                over = Some((ox, a.id));
            }
            let p = ground(a);
            let speed = self.last_pos.get(&a.id).map(|q| (p[0] - q[0]).hypot(p[1] - q[1]) / self.dt);
            let e = self.passages.entry(a.id).or_insert(Passage { start_s: snap.time_s, speed_sum: 0.0, speed_n: 0 });
            if let Some(v) = speed {
                e.speed_sum += v;
                e.speed_n += 1;
            }
        }
        self.last_pos = agents
            .iter()
            .filter(|a| a.class.is_motor_vehicle())
            .filter(|a| (ground(a)[0] - self.spec.position[0]).abs() < 15.0)
            .map(|a| (a.id, ground(a)))
            .collect();
        if truth && let Some(k) = slot_of(&self.slots, snap.time_s) {
            self.truth_on[k] += self.dt;
        }
        // The card reads the loop once per sample period, at the first step
        // of the period, and times what it sees by its own clock.
        let period = self.spec.sample_period_s;
        let now = if period > 0.0 {
            let tick = (snap.time_s / period + 1e-4).floor() as i64;
            if self.last_tick == Some(tick) {
                return;
            }
            self.last_tick = Some(tick);
            tick as f32 * period
        } else {
            snap.time_s
        };
        match (on, self.on_since) {
            (true, None) => {
                self.on_since = Some((now, over.map(|(_, id)| id)));
                self.counted_current = self.rng.random::<f32>() >= self.spec.miss_rate;
            }
            (false, Some((start_s, vehicle))) => {
                let counted = self.counted_current;
                self.detections.push(Detection { start_s, end_s: now, counted, vehicle, cut: false });
                self.on_since = None;
            }
            _ => {}
        }
    }

    /// Counts on the line, and counts, occupancy and speed per interval
    /// next to the truth.
    pub fn finish(mut self) -> (Vec<SensorCount>, Vec<LoopInterval>) {
        if let Some((start_s, vehicle)) = self.on_since.take() {
            let end_s = self.slots.last().map_or(start_s, |s| s[1]);
            self.detections.push(Detection { start_s, end_s, counted: self.counted_current, vehicle, cut: true });
        }
        let n = self.slots.len();
        let mut vehicles = vec![0u32; n];
        let mut on_time = vec![0.0f32; n];
        let mut speeds: Vec<Vec<f32>> = vec![Vec::new(); n];
        let mut deviations: Vec<Vec<f32>> = vec![Vec::new(); n];
        let mut counts = Vec::new();
        for &Detection { start_s: start, end_s: end, counted, vehicle, cut } in &self.detections {
            // Occupancy is measured whether or not the count was kept.
            let mut t = start;
            while t < end {
                if let Some(k) = slot_of(&self.slots, t) {
                    on_time[k] += self.dt;
                }
                t += self.dt;
            }
            if !counted {
                continue;
            }
            let Some(k) = slot_of(&self.slots, start) else { continue };
            vehicles[k] += 1;
            counts.push(SensorCount { time_s: start, direction: self.direction, class: ObjectClass::Car });
            let on = end - start;
            if on > 0.0 && !cut {
                let estimate = (self.spec.assumed_vehicle_length_m + self.spec.length_m - 2.0 * MIN_OVERLAP_M) / on;
                speeds[k].push(estimate);
                let truth = vehicle.and_then(|id| self.passages.get(&id)).and_then(Passage::mean_speed);
                if let Some(v) = truth.filter(|&v| v > 0.1) {
                    deviations[k].push((estimate - v).abs() / v);
                }
            }
        }
        let mut truth_vehicles = vec![0u32; n];
        let mut truth_speeds: Vec<Vec<f32>> = vec![Vec::new(); n];
        for p in self.passages.values() {
            if let Some(k) = slot_of(&self.slots, p.start_s) {
                truth_vehicles[k] += 1;
                if let Some(v) = p.mean_speed() {
                    truth_speeds[k].push(v);
                }
            }
        }
        let mean = |v: &[f32]| (!v.is_empty()).then(|| v.iter().sum::<f32>() / v.len() as f32);
        let traffic = (0..n)
            .map(|k| {
                let len = (self.slots[k][1] - self.slots[k][0]).max(1e-6);
                LoopInterval {
                    start_s: self.slots[k][0],
                    end_s: self.slots[k][1],
                    vehicles: vehicles[k],
                    occupancy: (on_time[k] / len).min(1.0),
                    mean_speed_mps: mean(&speeds[k]),
                    truth_vehicles: truth_vehicles[k],
                    truth_occupancy: (self.truth_on[k] / len).min(1.0),
                    truth_mean_speed_mps: mean(&truth_speeds[k]),
                    speed_mapd: mean(&deviations[k]),
                }
            })
            .collect();
        (counts, traffic)
    }
}

/// A running parking magnetometer.
#[derive(Debug, Clone)]
pub struct ParkingMagnetometer {
    spec: MagnetometerSpec,
    dt: f32,
    slots: Vec<[f32; 2]>,
    state: bool,
    pending_since: Option<f32>,
    reported_on: Vec<f32>,
    truth_on: Vec<f32>,
}

impl ParkingMagnetometer {
    /// A magnetometer for `spec`.
    pub fn new(spec: MagnetometerSpec, dt: f32, duration_s: f32, interval_s: u32) -> Self {
        let slots = intervals(interval_s, duration_s);
        Self {
            spec,
            dt,
            state: false,
            pending_since: None,
            reported_on: vec![0.0; slots.len()],
            truth_on: vec![0.0; slots.len()],
            slots,
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
        [self.spec.position[0] - 5.0, self.spec.position[0] + 5.0]
    }

    /// Looks at one step, `agents` being those within [`Self::x_range`]:
    /// the field under the bay.
    pub fn observe_near(&mut self, snap: &Snapshot, agents: &[&AgentPose]) {
        let p = self.spec.position;
        let vehicles = agents.iter().filter(|a| a.class.is_motor_vehicle());
        let (mut raw, mut truth) = (false, false);
        for a in vehicles {
            let (ox, oy) = overlap(a, p, [0.0, 0.0], self.spec.reach_m);
            raw |= ox >= 0.0 && oy >= 0.0;
            let (tx, ty) = overlap(a, p, [0.0, 0.0], 0.0);
            truth |= tx >= 0.0 && ty >= 0.0;
        }
        if raw != self.state {
            let since = *self.pending_since.get_or_insert(snap.time_s);
            if snap.time_s - since >= self.spec.debounce_s {
                self.state = raw;
                self.pending_since = None;
            }
        } else {
            self.pending_since = None;
        }
        if let Some(k) = slot_of(&self.slots, snap.time_s) {
            if self.state {
                self.reported_on[k] += self.dt;
            }
            if truth {
                self.truth_on[k] += self.dt;
            }
        }
    }

    /// Bay occupancy per interval (occupied for more than half of it).
    pub fn finish(self) -> Vec<OccupancyInterval> {
        self.slots
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let half = (s[1] - s[0]) / 2.0;
                OccupancyInterval {
                    place: self.spec.id.clone(),
                    start_s: s[0],
                    end_s: s[1],
                    occupied: self.reported_on[k] > half,
                    truth_occupied: self.truth_on[k] > half,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Instance, MeshKey};
    use crate::scenario::CountingLine;

    fn agent(id: u32, class: ObjectClass, x: f32, y: f32) -> AgentPose {
        AgentPose {
            id,
            class,
            // A compact car (4.2 m) or a person.
            instance: Instance {
                mesh: if class == ObjectClass::Person { MeshKey(0) } else { crate::body::car_key(0, 1) },
                translation: [x, y, 0.0],
                yaw_rad: 0.0,
            },
            height_m: 1.5,
        }
    }

    fn spec() -> LoopSpec {
        LoopSpec {
            id: "loop".into(),
            line: "road".into(),
            position: [0.0, -1.75],
            length_m: 2.0,
            width_m: 1.8,
            miss_rate: 0.0,
            assumed_vehicle_length_m: 4.2,
            sample_period_s: 0.0,
        }
    }

    fn run(class: ObjectClass, speed: f32) -> (Vec<SensorCount>, Vec<LoopInterval>) {
        run_with(spec(), vec![(class, speed, 1)])
    }

    /// One vehicle (class, speed, car model) after another, 20 s apart, over
    /// a loop read at `spec`'s period.
    fn run_with(spec: LoopSpec, passes: Vec<(ObjectClass, f32, u8)>) -> (Vec<SensorCount>, Vec<LoopInterval>) {
        let line = LineFrame::new(&CountingLine { id: "road".into(), from: [0.0, -3.5], to: [0.0, 3.5] });
        let duration = 20.0 * passes.len() as f32;
        let mut l = InductiveLoop::new(spec, line, 1, 0.05, duration, 20);
        for step in 0..(duration / 0.05).round() as u64 {
            let t = step as f32 * 0.05;
            let (k, local_t) = ((t / 20.0) as usize, t % 20.0);
            let Some(&(class, speed, model)) = passes.get(k) else { break };
            let mut a = agent(k as u32 + 1, class, -20.0 + speed * local_t, -1.75);
            if class != ObjectClass::Person {
                a.instance.mesh = crate::body::car_key(0, model);
            }
            l.observe(&Snapshot { step, time_s: t, agents: vec![a] });
        }
        l.finish()
    }

    #[test]
    fn the_speed_error_follows_the_vehicle_length_and_the_sampling_period() {
        // Same true speed, three lengths: the assumed 4.2 m fits the compact
        // car only; a shorter car clears the loop sooner and looks faster.
        // At 5 m/s the on-times (1.02, 1.12 and 1.27 s) are far apart for
        // the 0.05 s steps of the simulation.
        let cars = vec![(ObjectClass::Car, 5.0, 0), (ObjectClass::Car, 5.0, 1), (ObjectClass::Car, 5.0, 3)];
        let (_, traffic) = run_with(spec(), cars.clone());
        let speeds: Vec<f32> = traffic.iter().filter_map(|t| t.mean_speed_mps).collect();
        assert_eq!(speeds.len(), 3);
        assert!(speeds[0] > 5.25 && (speeds[1] - 5.0).abs() < 0.25 && speeds[2] < 4.75, "{speeds:?}");
        let mapd: Vec<f32> = traffic.iter().filter_map(|t| t.speed_mapd).collect();
        assert_eq!(mapd.len(), 3);
        for (d, v) in mapd.iter().zip(&speeds) {
            assert!((d - (v - 5.0).abs() / 5.0).abs() < 0.02, "MAPD {d} for {v}");
        }
        // Read every 250 ms, the on-time is a whole number of periods.
        let sampled = LoopSpec { sample_period_s: 0.25, ..spec() };
        let (counts, traffic) = run_with(sampled, cars);
        assert_eq!(counts.len(), 3);
        let effective = 4.2 + 2.0 - 2.0 * MIN_OVERLAP_M;
        for v in traffic.iter().filter_map(|t| t.mean_speed_mps) {
            let periods = effective / v / 0.25;
            assert!((periods - periods.round()).abs() < 1e-3, "on-time of {periods} periods");
        }
    }

    #[test]
    fn a_bus_reads_slow_and_a_motorcycle_fast_each_counted_once() {
        // Models 5 (a 12 m bus) and 7 (a 2.1 m motorcycle) at the same true
        // speed: one detection each, however long, and speeds off by the
        // ratio of the effective lengths (assumed 4.2 m against the real).
        let passes = vec![(ObjectClass::Bus, 5.0, 5), (ObjectClass::Motorcycle, 5.0, 7)];
        let (counts, traffic) = run_with(spec(), passes);
        assert_eq!(counts.len(), 2, "{counts:?}");
        // A single loop cannot tell a bus from a car: it counts vehicles.
        assert!(counts.iter().all(|c| c.class == ObjectClass::Car));
        let speeds: Vec<f32> = traffic.iter().filter_map(|t| t.mean_speed_mps).collect();
        assert_eq!(speeds.len(), 2);
        let expected = |length: f32| 5.0 * (4.2 + 2.0 - 2.0 * MIN_OVERLAP_M) / (length + 2.0 - 2.0 * MIN_OVERLAP_M);
        assert!((speeds[0] - expected(12.0)).abs() < 0.2, "bus read at {} m/s", speeds[0]);
        // Its 0.7 s on-time is 14 steps of 0.05 s, give or take one.
        assert!((speeds[1] - expected(2.1)).abs() < 0.7, "motorcycle read at {} m/s", speeds[1]);
    }

    #[test]
    fn a_car_still_over_the_loop_at_the_end_is_counted_without_a_speed() {
        // At 1 m/s the car reaches the loop after 17 s and is on it at 20 s.
        let (counts, traffic) = run_with(spec(), vec![(ObjectClass::Car, 1.0, 1)]);
        assert_eq!(counts.len(), 1);
        assert!(traffic.iter().all(|t| t.mean_speed_mps.is_none() && t.speed_mapd.is_none()), "{traffic:?}");
    }

    #[test]
    fn a_car_is_counted_with_its_speed_and_a_pedestrian_or_a_bicycle_never() {
        let (counts, traffic) = run(ObjectClass::Car, 8.0);
        assert_eq!(counts.len(), 1);
        assert_eq!(counts[0].direction, Direction::Positive, "eastbound across a northward line");
        let v = traffic.iter().find_map(|t| t.mean_speed_mps).expect("a speed");
        assert!((v - 8.0).abs() < 1.0, "{v}");
        let (counts, traffic) = run(ObjectClass::Person, 1.3);
        assert!(counts.is_empty() && traffic.iter().all(|t| t.vehicles == 0 && t.occupancy == 0.0));
        // Nor a bicycle (model 8), ridden over the loop's middle.
        let (counts, traffic) = run_with(spec(), vec![(ObjectClass::Bicycle, 4.5, 8)]);
        assert!(counts.is_empty() && traffic.iter().all(|t| t.vehicles == 0 && t.occupancy == 0.0));
    }
}
