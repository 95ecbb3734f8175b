//! Manual counts: a person at the line with a tally counter.
//!
//! Frequentation surveys are the regulator's oldest less intrusive means
//! (domain brief §3). An observer counts only during their hours, costs
//! money per hour, and misses people: a base miss rate, a rate growing with
//! the time spent counting without a break (fatigue), a rate at the start of
//! each window that fades as the observer settles into the task (warm-up),
//! and a higher rate for people crossing within a second of another (a
//! group is easy to under-tally). Observers at intersections erred most at
//! the beginning and the end of their sessions (Diogenes, Greene-Roesel,
//! Arnold & Ragland, Transportation Research Record 2007): warm-up and
//! fatigue give that shape. The rates are assumptions stated in docs/sensors.md;
//! field studies used manual counts as the reference for the sensors,
//! because a rested counter at moderate volume is accurate, and so is this
//! model with its defaults. The observer sees people and vehicles but writes
//! down only tallies: no personal data leaves the site.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{CostProfile, SensorCount, SensorFault, check_range, fault};
use crate::world::Crossing;

/// A manual count in the scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualSpec {
    /// Identifier used in outputs.
    pub id: String,
    /// The counting line watched.
    pub line: String,
    /// Other lines the same observer watches at the same time (every
    /// crosswalk of an intersection): their crossings take its attention
    /// too, so a crossing within a second of one on any watched line is
    /// crowded. Counts are reported for `line` only.
    #[serde(default)]
    pub also_watching: Vec<String>,
    /// Counting windows `[[start_s, end_s], ...]`, seconds since the start.
    /// Intervals of the aggregation that lie inside a window are reported;
    /// the others have no manual count.
    pub windows: Vec<[f32; 2]>,
    /// Share of crossings missed by a rested observer.
    #[serde(default = "default_miss")]
    pub miss_rate: f32,
    /// Added miss rate per hour of counting since the window began.
    #[serde(default = "default_fatigue")]
    pub fatigue_per_h: f32,
    /// Added miss rate for a crossing within a second of the previous one.
    #[serde(default = "default_crowd")]
    pub crowd_miss_rate: f32,
    /// Added miss rate at the start of each window, fading linearly to none
    /// at `warmup_s`: an observer not yet used to the site and the task.
    #[serde(default = "default_warmup_miss")]
    pub warmup_miss_rate: f32,
    /// How long the warm-up lasts, seconds from the start of each window.
    #[serde(default = "default_warmup_s")]
    pub warmup_s: f32,
    /// What an hour of counting costs, euros.
    #[serde(default = "default_cost")]
    pub cost_per_h_eur: f32,
}

fn default_miss() -> f32 {
    0.02
}
fn default_fatigue() -> f32 {
    0.04
}
fn default_crowd() -> f32 {
    0.05
}
fn default_warmup_miss() -> f32 {
    0.10
}
fn default_warmup_s() -> f32 {
    900.0
}
fn default_cost() -> f32 {
    35.0
}

impl ManualSpec {
    pub(super) fn validate(&self, duration_s: f32, line_ids: &[&str]) -> Result<(), SensorFault> {
        for (k, l) in self.also_watching.iter().enumerate() {
            if !line_ids.contains(&l.as_str()) {
                return Err(fault("also_watching", format!("entry {k} names unknown line `{l}`")));
            }
            if *l == self.line {
                return Err(fault("also_watching", format!("entry {k}, `{l}`, is the counted line itself")));
            }
        }
        if self.windows.is_empty() {
            return Err(fault("windows", "needs at least one [start_s, end_s] window".into()));
        }
        let mut sorted = self.windows.clone();
        sorted.sort_by(|a, b| a[0].total_cmp(&b[0]));
        for w in &sorted {
            if !(w[0].is_finite() && w[1].is_finite() && 0.0 <= w[0] && w[0] < w[1] && w[1] <= duration_s) {
                return Err(fault(
                    "windows",
                    format!("window [{}, {}] must satisfy 0 <= start < end <= duration_s ({duration_s})", w[0], w[1]),
                ));
            }
        }
        if sorted.windows(2).any(|p| p[1][0] < p[0][1]) {
            return Err(fault("windows", "windows overlap".into()));
        }
        check_range("miss_rate", self.miss_rate, 0.0, 1.0, "")?;
        check_range("fatigue_per_h", self.fatigue_per_h, 0.0, 1.0, " per hour")?;
        check_range("crowd_miss_rate", self.crowd_miss_rate, 0.0, 1.0, "")?;
        check_range("warmup_miss_rate", self.warmup_miss_rate, 0.0, 1.0, "")?;
        check_range("warmup_s", self.warmup_s, 0.0, 86_400.0, " s")?;
        check_range("cost_per_h_eur", self.cost_per_h_eur, 0.0, 10_000.0, " €")
    }

    /// Hours counted in one run.
    pub fn hours(&self) -> f32 {
        self.windows.iter().map(|w| (w[1] - w[0]).max(0.0)).sum::<f32>() / 3600.0
    }

    /// The cost of this run's counting hours (no equipment).
    pub fn cost(&self) -> CostProfile {
        CostProfile {
            hardware_eur: 0.0,
            installation_eur: 0.0,
            operation_eur_per_year: self.hours() * self.cost_per_h_eur,
            basis: "the scenario's counting hours at cost_per_h_eur (assumption: 35 €/h loaded cost of a survey \
                    worker)",
        }
    }

    /// The miss probability of a crossing at `t` (inside `window`), with
    /// `crowded` saying whether it follows another within a second.
    pub fn miss_probability(&self, window: [f32; 2], t: f32, crowded: bool) -> f32 {
        let seconds_in = (t - window[0]).max(0.0);
        let crowd = if crowded { self.crowd_miss_rate } else { 0.0 };
        let warmup =
            if seconds_in < self.warmup_s { self.warmup_miss_rate * (1.0 - seconds_in / self.warmup_s) } else { 0.0 };
        (self.miss_rate + self.fatigue_per_h * seconds_in / 3600.0 + warmup + crowd).clamp(0.0, 1.0)
    }
}

/// A running manual count.
#[derive(Debug, Clone)]
pub struct ManualCount {
    spec: ManualSpec,
    line: usize,
    /// Scenario line indices of [`ManualSpec::also_watching`].
    watching: Vec<usize>,
    seed: u64,
}

impl ManualCount {
    /// An observer for `spec` at scenario line index `line`, also watching
    /// the lines at indices `watching`.
    pub fn new(spec: ManualSpec, line: usize, watching: Vec<usize>, seed: u64) -> Self {
        Self { spec, line, watching, seed }
    }

    /// What the observer tallies of the run's crossings.
    pub fn count(&self, crossings: &[Crossing]) -> Vec<SensorCount> {
        let mut seen: Vec<&Crossing> =
            crossings.iter().filter(|c| c.line == self.line || self.watching.contains(&c.line)).collect();
        seen.sort_by(|a, b| a.time_s.total_cmp(&b.time_s).then(a.line.cmp(&b.line)).then(a.agent.cmp(&b.agent)));
        let mut rng = super::sensor_rng(self.seed, &self.spec.id, 1);
        let mut out = Vec::new();
        let mut previous = f32::MIN;
        for c in seen {
            let crowded = c.time_s - previous < 1.0;
            previous = c.time_s;
            if c.line != self.line {
                continue;
            }
            // Draw for every crossing so that the windows do not shift the draws.
            let draw = rng.random::<f32>();
            let Some(window) = self.spec.windows.iter().find(|w| w[0] <= c.time_s && c.time_s < w[1]) else {
                continue;
            };
            if draw >= self.spec.miss_probability(*window, c.time_s, crowded) {
                out.push(SensorCount { time_s: c.time_s, direction: c.direction, class: c.class });
            }
        }
        out
    }

    /// The aggregation intervals the observer covers: those lying inside a
    /// window.
    pub fn windows(&self, interval_s: u32, duration_s: f32) -> Vec<[f32; 2]> {
        super::intervals(interval_s, duration_s)
            .into_iter()
            .filter(|s| self.spec.windows.iter().any(|w| w[0] <= s[0] && s[1] <= w[1]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{Direction, ObjectClass};

    fn spec(windows: Vec<[f32; 2]>) -> ManualSpec {
        ManualSpec {
            id: "m".into(),
            line: "l".into(),
            also_watching: Vec::new(),
            windows,
            miss_rate: 0.02,
            fatigue_per_h: 0.04,
            crowd_miss_rate: 0.05,
            warmup_miss_rate: default_warmup_miss(),
            warmup_s: default_warmup_s(),
            cost_per_h_eur: 35.0,
        }
    }

    fn crossings(n: u32, every_s: f32) -> Vec<Crossing> {
        (0..n)
            .map(|i| Crossing {
                line: 0,
                agent: i,
                class: ObjectClass::Person,
                time_s: i as f32 * every_s,
                direction: Direction::Positive,
                normal_speed: 1.3,
            })
            .collect()
    }

    #[test]
    fn counts_only_inside_windows_and_tires() {
        let m = ManualCount::new(spec(vec![[0.0, 3600.0], [7200.0, 10800.0]]), 0, Vec::new(), 5);
        let all = crossings(10_800, 1.2);
        let counted = m.count(&all);
        assert!(counted.iter().all(|c| c.time_s < 3600.0 || (7200.0..10800.0).contains(&c.time_s)));
        let first_hour = counted.iter().filter(|c| c.time_s < 3600.0).count() as f32 / 3000.0;
        assert!(first_hour > 0.93 && first_hour < 0.99, "{first_hour}");
        let s = spec(vec![[0.0, 7200.0]]);
        // Fatigue: later in the window, after the warm-up, misses more.
        assert!(s.miss_probability([0.0, 7200.0], 7000.0, false) > s.miss_probability([0.0, 7200.0], 1000.0, false));
        assert_eq!(m.windows(600, 10800.0).len(), 12);
    }

    /// Watching a second line takes attention: the same crossings of the
    /// counted line, with another line's crossings between them, are missed
    /// more often; the other line is never reported.
    #[test]
    fn watching_more_lines_misses_more_on_the_counted_one() {
        // A walker every 2 s on line 0, never crowded alone; one every 2 s on
        // line 1, 0.5 s before each of them.
        let own = crossings(1800, 2.0);
        let mut all = own.clone();
        all.extend(own.iter().map(|c| Crossing { line: 1, agent: c.agent + 10_000, time_s: c.time_s + 1.5, ..*c }));
        let alone = ManualCount::new(spec(vec![[0.0, 3600.0]]), 0, Vec::new(), 3).count(&all);
        let busy = ManualCount::new(spec(vec![[0.0, 3600.0]]), 0, vec![1], 3).count(&all);
        assert!(busy.iter().chain(&alone).all(|c| own.iter().any(|o| o.time_s == c.time_s)), "line 0 only");
        let missed = |n: usize| 1.0 - n as f32 / own.len() as f32;
        // The crowd term (5 %) applies to every crossing of line 0 when busy.
        assert!(missed(busy.len()) > missed(alone.len()) + 0.03, "busy {}, alone {}", busy.len(), alone.len());
    }

    /// Errors are larger at the beginning and the end of a session than in
    /// its middle (warm-up, then fatigue), as the intersection study found.
    #[test]
    fn misses_most_at_the_start_and_the_end_of_a_session() {
        let hours = 2.0;
        let m = ManualCount::new(spec(vec![[0.0, hours * 3600.0]]), 0, Vec::new(), 11);
        // A walker every 1.5 s: never crowded, so only warm-up and fatigue vary.
        let all = crossings((hours * 3600.0 / 1.5) as u32, 1.5);
        let counted = m.count(&all);
        let missed_in = |from: f32, to: f32| {
            let truth = all.iter().filter(|c| (from..to).contains(&c.time_s)).count() as f32;
            let seen = counted.iter().filter(|c| (from..to).contains(&c.time_s)).count() as f32;
            1.0 - seen / truth
        };
        let (start, middle, end) = (missed_in(0.0, 600.0), missed_in(2700.0, 4500.0), missed_in(6600.0, 7200.0));
        assert!(start > middle + 0.01, "start {start}, middle {middle}");
        assert!(end > middle + 0.01, "end {end}, middle {middle}");
    }
}
