//! Passive infrared (pyroelectric) pedestrian counters.
//!
//! A dual-element pyroelectric sensor on a wall or post looks across the
//! sidewalk along a counting line. It fires when a warm body enters its
//! narrow detection band in view; the order in which its two elements fire
//! gives the direction. Field studies report sensitivities of 73-97 %
//! (Eco-Counter) and 57-97 % (TRAFCO) with the range driven by people
//! hiding each other, and absolute errors of 16 % / 18 % on weekdays and
//! 18 % / 21 % on weekends, with site and season effects and correction
//! factors per counter, site and season (Nytepchuk, University of Manitoba
//! thesis: 24,690 people at three Winnipeg sites, July 2014 to February
//! 2015). A dual-sensor passive infrared device undercounted people walking
//! side by side (Greene-Roesel, Diogenes, Ragland & Lindau, TRB 2008).
//!
//! The model reproduces those mechanisms rather than their figures:
//!
//! - a person entering the band is *seen* only if no other body stands on
//!   the line of sight from the sensor (rapier ray cast against capsules):
//!   the far one of two people side by side is hidden, and gives a pulse of
//!   its own only with probability `hidden_detection` (companions walk a
//!   little staggered; the calibration parameter of the model);
//! - a seen entry within `refractory_s` of the previous pulse merges with
//!   it (close followers);
//! - a pulse is counted with probability `sensitivity` scaled by the
//!   thermal contrast between clothed bodies and the background (season);
//! - false triggers (sun on the background, heat sources) arrive as a
//!   Poisson process;
//! - the operator's site and season `correction_factor` scales the counts.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{CostProfile, Expander, LineFrame, SensorCount, SensorFault, bodies_between, check_range, ground};
use crate::world::{AgentPose, Direction, ObjectClass, Snapshot};

/// Which end of its line a sensor is mounted at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineEnd {
    /// The line's `from` end.
    From,
    /// The line's `to` end (the facade for lines drawn from the curb).
    #[default]
    To,
}

/// A passive infrared counter in the scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PirSpec {
    /// Identifier used in outputs.
    pub id: String,
    /// The counting line it looks along.
    pub line: String,
    /// The end of the line it is mounted at, looking towards the other end.
    #[serde(default)]
    pub mount: LineEnd,
    /// Probability of counting a pulse from a walker seen alone at full
    /// thermal contrast.
    #[serde(default = "default_sensitivity")]
    pub sensitivity: f32,
    /// Width of the detection band across the walking direction, metres.
    #[serde(default = "default_band")]
    pub detection_width_m: f32,
    /// Chance that a walker hidden behind another when entering the band
    /// still gives a pulse of their own: real companions walk staggered
    /// and swing their arms, so the far body is rarely hidden whole.
    #[serde(default = "default_hidden")]
    pub hidden_detection: f32,
    /// Time after a pulse during which a new entry merges with it, seconds.
    #[serde(default = "default_refractory")]
    pub refractory_s: f32,
    /// Background (air and ground) temperature, °C: the season.
    #[serde(default = "default_ambient")]
    pub ambient_c: f32,
    /// False triggers per hour.
    #[serde(default = "default_false_triggers")]
    pub false_triggers_per_h: f32,
    /// The operator's site and season correction factor applied to counts
    /// (1 = none).
    #[serde(default = "one")]
    pub correction_factor: f32,
}

fn default_sensitivity() -> f32 {
    0.95
}
fn default_band() -> f32 {
    0.1
}
/// Calibrated on the sensors sidewalk to Nytepchuk's weekday and weekend
/// absolute errors (docs/sensors.md, validation): 0.45 since groups fall
/// into file to let others by (0.5 before, 0.7 before the collision-free
/// walkers).
fn default_hidden() -> f32 {
    0.45
}
fn default_refractory() -> f32 {
    0.3
}
fn default_ambient() -> f32 {
    15.0
}
fn default_false_triggers() -> f32 {
    1.0
}
fn one() -> f32 {
    1.0
}

/// Apparent surface temperature of a clothed person, °C (assumption:
/// clothing surface 28-32 °C indoors and in mild weather).
pub const BODY_SURFACE_C: f32 = 31.0;
/// Contrast above which detection is not limited by temperature, °C
/// (assumption).
pub const FULL_CONTRAST_C: f32 = 12.0;
/// Height of the sensor and of the sight line, metres.
pub const MOUNT_HEIGHT_M: f32 = 1.0;

/// Share of pulses a low contrast loses at most: in hot weather the
/// background approaches body temperature (assumption, direction of effect
/// from the season dependence in Nytepchuk's thesis).
const MAX_CONTRAST_LOSS: f32 = 0.25;

/// Purchase, installation and running costs (assumption: order of
/// magnitude of public list prices for pyroelectric counters with a
/// battery logger and cellular upload). With [`super::loops::LOOP_COST`]
/// it comes to 6,000 € installed and 10,000 € over ten years, the order of
/// a published counter of both ($5,820 and $10,000, Texas Department of
/// Transportation, 2016-2017; docs/sensors.md).
pub const COST: CostProfile = CostProfile {
    hardware_eur: 2500.0,
    installation_eur: 400.0,
    operation_eur_per_year: 250.0,
    basis: "assumption (public list prices, order of magnitude; with a loop, near a published infrared-and-loop counter's cost)",
};

impl PirSpec {
    pub(super) fn validate(&self) -> Result<(), SensorFault> {
        check_range("sensitivity", self.sensitivity, 0.0, 1.0, "")?;
        check_range("detection_width_m", self.detection_width_m, 0.01, 1.0, " m")?;
        check_range("hidden_detection", self.hidden_detection, 0.0, 1.0, "")?;
        check_range("refractory_s", self.refractory_s, 0.0, 5.0, " s")?;
        check_range("ambient_c", self.ambient_c, -40.0, 45.0, " °C")?;
        check_range("false_triggers_per_h", self.false_triggers_per_h, 0.0, 1000.0, " per hour")?;
        check_range("correction_factor", self.correction_factor, 0.1, 10.0, "")
    }

    /// Detection probability of a seen pulse at this spec's ambient
    /// temperature.
    pub fn detection_probability(&self) -> f32 {
        let contrast = (BODY_SURFACE_C - self.ambient_c).abs();
        let shortfall = (1.0 - contrast / FULL_CONTRAST_C).clamp(0.0, 1.0);
        self.sensitivity * (1.0 - MAX_CONTRAST_LOSS * shortfall)
    }
}

/// A running passive infrared counter.
#[derive(Debug, Clone)]
pub struct PirCounter {
    spec: PirSpec,
    line: LineFrame,
    mount: [f32; 2],
    in_band: Vec<u32>,
    last_pulse_s: f32,
    rng: ChaCha8Rng,
    expand: [Expander; 2],
    counts: Vec<SensorCount>,
    false_triggers: Vec<(f32, Direction)>,
}

impl PirCounter {
    /// A counter for `spec` on `line`, with its own streams of `seed`.
    pub fn new(spec: PirSpec, line: LineFrame, seed: u64, duration_s: f32) -> Self {
        let mount = match spec.mount {
            LineEnd::From => line.from,
            LineEnd::To => [line.from[0] + line.tangent[0] * line.length, line.from[1] + line.tangent[1] * line.length],
        };
        let mut ghosts = super::sensor_rng(seed, &spec.id, 2);
        let false_triggers = super::poisson_times(&mut ghosts, spec.false_triggers_per_h, duration_s)
            .into_iter()
            .map(|t| (t, if ghosts.random::<bool>() { Direction::Positive } else { Direction::Negative }))
            .collect();
        Self {
            rng: super::sensor_rng(seed, &spec.id, 1),
            spec,
            line,
            mount,
            in_band: Vec::new(),
            last_pulse_s: f32::MIN,
            expand: [Expander::default(); 2],
            counts: Vec::new(),
            false_triggers,
        }
    }

    fn emit(&mut self, time_s: f32, direction: Direction) {
        let k = usize::from(direction == Direction::Negative);
        for _ in 0..self.expand[k].add(self.spec.correction_factor) {
            self.counts.push(SensorCount { time_s, direction, class: ObjectClass::Person });
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
        let a = self.line.from[0];
        let b = a + self.line.tangent[0] * self.line.length;
        [a.min(b) - 1.5, a.max(b) + 1.5]
    }

    /// Looks at one step, `agents` being those within [`Self::x_range`]:
    /// who enters the band, and whether the sensor sees them.
    pub fn observe_near(&mut self, snap: &Snapshot, agents: &[&AgentPose]) {
        let half_band = self.spec.detection_width_m / 2.0 + BODY_DEPTH_M / 2.0;
        let near: Vec<&AgentPose> = agents
            .iter()
            .copied()
            .filter(|a| a.class == ObjectClass::Person)
            .filter(|a| {
                let (along, across) = self.line.local(ground(a));
                across.abs() <= 1.0 && (-0.5..=self.line.length + 0.5).contains(&along)
            })
            .collect();
        let mut entering: Vec<(f32, &AgentPose)> = Vec::new();
        let mut now_in: Vec<u32> = Vec::new();
        for a in &near {
            let p = ground(a);
            let (along, across) = self.line.local(p);
            if across.abs() > half_band || !(0.0..=self.line.length).contains(&along) {
                continue;
            }
            now_in.push(a.id);
            if !self.in_band.contains(&a.id) {
                let dist = (p[0] - self.mount[0]).hypot(p[1] - self.mount[1]);
                entering.push((dist, a));
            }
        }
        entering.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.id.cmp(&y.1.id)));
        let origin = [self.mount[0], self.mount[1], MOUNT_HEIGHT_M];
        for (_, a) in entering {
            let p = ground(a);
            let hidden = bodies_between(origin, [p[0], p[1], MOUNT_HEIGHT_M], &near, a.id) > 0;
            // Draw for every entry so that one occlusion does not shift later draws.
            let detected = self.rng.random::<f32>() < self.spec.detection_probability();
            let glimpsed = self.rng.random::<f32>() < self.spec.hidden_detection;
            let heading = [a.instance.yaw_rad.cos(), a.instance.yaw_rad.sin()];
            let direction = self.line.direction_of(heading);
            if hidden {
                // A companion's edge or swinging arm reaching past the body
                // in front gives a pulse of its own, or nothing.
                if glimpsed && detected {
                    self.emit(snap.time_s, direction);
                }
                continue;
            }
            if snap.time_s - self.last_pulse_s < self.spec.refractory_s {
                continue;
            }
            self.last_pulse_s = snap.time_s;
            if detected {
                self.emit(snap.time_s, direction);
            }
        }
        now_in.sort_unstable();
        self.in_band = now_in;
    }

    /// The counts over the run, false triggers included, in time order.
    pub fn finish(mut self) -> Vec<SensorCount> {
        for (t, d) in std::mem::take(&mut self.false_triggers) {
            self.emit(t, d);
        }
        self.counts.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        self.counts
    }
}

/// Depth of a walking body along its walking direction, metres.
pub const BODY_DEPTH_M: f32 = 0.3;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Instance, MeshKey};
    use crate::scenario::CountingLine;

    fn spec() -> PirSpec {
        PirSpec {
            id: "ir".into(),
            line: "l".into(),
            mount: LineEnd::To,
            sensitivity: 1.0,
            detection_width_m: 0.1,
            hidden_detection: 0.0,
            refractory_s: 0.3,
            ambient_c: 15.0,
            false_triggers_per_h: 0.0,
            correction_factor: 1.0,
        }
    }

    fn person(id: u32, x: f32, y: f32) -> AgentPose {
        AgentPose {
            id,
            class: ObjectClass::Person,
            instance: Instance { mesh: MeshKey(0), translation: [x, y, 0.0], yaw_rad: 0.0 },
            height_m: 1.7,
        }
    }

    /// Walkers moving east at 1.3 m/s through a line at x = 0, lanes at `ys`,
    /// starting at `x0` each.
    fn run(spec: PirSpec, walkers: &[(f32, f32)]) -> Vec<SensorCount> {
        let line = LineFrame::new(&CountingLine { id: "l".into(), from: [0.0, 3.5], to: [0.0, 7.0] });
        let mut pir = PirCounter::new(spec, line, 7, 60.0);
        for step in 0..400u32 {
            let t = step as f32 * 0.05;
            let agents = walkers.iter().enumerate().map(|(i, &(x0, y))| person(i as u32, x0 + 1.3 * t, y)).collect();
            pir.observe(&Snapshot { step: step as u64, time_s: t, agents });
        }
        pir.finish()
    }

    #[test]
    fn a_lone_walker_counts_once_in_its_direction() {
        let counts = run(spec(), &[(-3.0, 5.0)]);
        assert_eq!(counts.len(), 1);
        assert_eq!(counts[0].direction, Direction::Positive, "eastward across a northward line");
    }

    #[test]
    fn side_by_side_walkers_count_once_and_followers_twice() {
        assert_eq!(run(spec(), &[(-3.0, 5.0), (-3.0, 5.6)]).len(), 1, "abreast: the far one is hidden");
        assert_eq!(run(spec(), &[(-3.0, 5.0), (-5.0, 5.0)]).len(), 2, "2 m apart in file");
    }

    #[test]
    fn the_correction_factor_scales_counts_and_false_triggers_come_without_people() {
        let walkers: Vec<(f32, f32)> = (0..10).map(|k| (-3.0 - 2.0 * k as f32, 5.0)).collect();
        let plain = run(spec(), &walkers).len();
        let corrected = run(PirSpec { correction_factor: 1.5, ..spec() }, &walkers).len();
        assert_eq!(plain, 10);
        assert_eq!(corrected, 15, "1.5 × 10 walkers");
        let ghosts = run(PirSpec { false_triggers_per_h: 3600.0, ..spec() }, &[]);
        assert!((40..=85).contains(&ghosts.len()), "about one a second over the 60 s run: {}", ghosts.len());
    }

    #[test]
    fn hot_weather_lowers_detection() {
        let mut hot = spec();
        hot.ambient_c = 30.0;
        assert!(hot.detection_probability() < spec().detection_probability());
    }
}
