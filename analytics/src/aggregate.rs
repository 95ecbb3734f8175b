//! Aggregation: the only data that leaves the device are counts per interval,
//! line, class and direction.
//!
//! Crossings are bucketed by the time they happened (the counter's
//! interpolated crossing time), not by when the pipeline noticed them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::counter::{CountEvent, Direction};
use crate::detector::ObjectClass;

/// Column names of an aggregates file, in [`IntervalCount`] field order.
pub const AGGREGATE_HEADER: [&str; 7] = ["start_s", "end_s", "line", "class", "direction", "count", "withheld"];

/// Counts of one class in one direction across one line over one interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntervalCount {
    /// Interval start, seconds since the start of the run.
    pub start_s: u32,
    /// Interval end, seconds.
    pub end_s: u32,
    /// The counting line's id.
    pub line: String,
    /// Counted class.
    #[serde(serialize_with = "class_name")]
    pub class: ObjectClass,
    /// Crossing direction.
    #[serde(serialize_with = "direction_name")]
    pub direction: Direction,
    /// Number of crossings (after noise, when the configuration adds it;
    /// 0 when withheld).
    pub count: u64,
    /// Whether the count was withheld by small-count suppression: the
    /// recipient learns only that it was between 1 and k − 1.
    pub withheld: bool,
}

/// How counts are protected before they leave the device: small-count
/// suppression and optional Laplace noise (ε-differential privacy per
/// count, sensitivity 1: one crossing changes one count by one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disclosure {
    /// Counts from 1 to `k - 1` are withheld (1 withholds nothing).
    pub k: u32,
    /// Privacy budget per count, when noise is added.
    pub epsilon: Option<f64>,
    /// Seed of the noise, so that a run is reproducible.
    pub seed: u64,
}

impl Default for Disclosure {
    fn default() -> Self {
        Self { k: 1, epsilon: None, seed: 0 }
    }
}

impl Disclosure {
    /// The metadata written beside the aggregates, so that a recipient
    /// knows what was done to them (the noise seed is not disclosed).
    pub fn metadata(&self, interval_s: u32) -> serde_json::Value {
        serde_json::json!({
            "interval_s": interval_s,
            "small_count_suppression": { "k": self.k, "rule": "counts from 1 to k - 1 are withheld (count 0, withheld true)" },
            "noise": match self.epsilon {
                Some(e) => serde_json::json!({
                    "mechanism": "laplace",
                    "epsilon": e,
                    "sensitivity": 1,
                    "scale": 1.0 / e,
                    "post_processing": "rounded to the nearest integer, negative values set to 0, then suppression"
                }),
                None => serde_json::Value::Null,
            },
        })
    }
}

/// A Laplace draw of scale `b` from a uniform `u` in (-0.5, 0.5), by the
/// inverse of its distribution function.
fn laplace(u: f64, b: f64) -> f64 {
    let u = u.clamp(-0.499_999_999, 0.499_999_999);
    -b * u.signum() * (1.0 - 2.0 * u.abs()).ln()
}

/// A uniform number in (-0.5, 0.5) from a counter-based hash (SplitMix64),
/// so that each cell's noise depends only on the seed and the cell.
fn uniform(seed: u64, cell: u64) -> f64 {
    let mut z = seed ^ cell.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64 - 0.5
}

fn class_name<S: serde::Serializer>(c: &ObjectClass, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.name())
}

fn direction_name<S: serde::Serializer>(d: &Direction, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(d.name())
}

/// Buckets count events into fixed intervals.
#[derive(Debug, Clone)]
pub struct Aggregator {
    interval_s: u32,
    duration_s: f64,
    lines: Vec<String>,
    counts: BTreeMap<(u32, usize, ObjectClass, Direction), u64>,
}

impl Aggregator {
    /// Intervals of `interval_s` seconds covering a run of `duration_s`, for
    /// the lines named `lines` (an event's `line` indexes this list).
    pub fn new(interval_s: u32, duration_s: f64, lines: Vec<String>) -> Self {
        Self { interval_s: interval_s.max(1), duration_s, lines, counts: BTreeMap::new() }
    }

    /// The interval an event at `time_s` belongs to (clamped to the run).
    fn bucket(&self, time_s: f64) -> u32 {
        let last = (self.duration_s / f64::from(self.interval_s)).ceil().max(1.0) as u32 - 1;
        ((time_s.max(0.0) / f64::from(self.interval_s)).floor() as u32).min(last)
    }

    /// Adds events (events of unknown lines are ignored).
    pub fn add(&mut self, events: &[CountEvent]) {
        for e in events {
            self.add_one(e.line, e.time_s, e.class, e.direction);
        }
    }

    /// Adds one crossing of line `line` (index into the aggregator's lines;
    /// others are ignored) at `time_s`: for crossings that are not a
    /// counter's events (ground truth, a sensor's counts).
    pub fn add_one(&mut self, line: usize, time_s: f64, class: ObjectClass, direction: Direction) {
        if line < self.lines.len() {
            let bucket = self.bucket(time_s);
            *self.counts.entry((bucket, line, class, direction)).or_insert(0) += 1;
        }
    }

    /// Every (interval, line, class, direction) cell, zeros included, for the
    /// classes in `classes`, with no disclosure control.
    pub fn finish(&self, classes: &[ObjectClass]) -> Vec<IntervalCount> {
        self.finish_with(classes, &Disclosure::default())
    }

    /// Every cell as [`finish`](Self::finish), protected as `disclosure`
    /// says: noise first (when configured), then suppression.
    pub fn finish_with(&self, classes: &[ObjectClass], disclosure: &Disclosure) -> Vec<IntervalCount> {
        let mut out = self.cells(classes);
        for (i, c) in out.iter_mut().enumerate() {
            if let Some(e) = disclosure.epsilon {
                let noisy = c.count as f64 + laplace(uniform(disclosure.seed, i as u64), 1.0 / e);
                c.count = noisy.round().max(0.0) as u64;
            }
            if c.count > 0 && c.count < u64::from(disclosure.k) {
                c.count = 0;
                c.withheld = true;
            }
        }
        out
    }

    fn cells(&self, classes: &[ObjectClass]) -> Vec<IntervalCount> {
        let buckets = self.bucket(self.duration_s) + 1;
        let mut out = Vec::new();
        for b in 0..buckets {
            for (li, line) in self.lines.iter().enumerate() {
                for &class in classes {
                    for direction in Direction::BOTH {
                        out.push(IntervalCount {
                            start_s: b * self.interval_s,
                            end_s: ((b + 1) * self.interval_s).min(self.duration_s.ceil() as u32),
                            line: line.clone(),
                            class,
                            direction,
                            count: self.counts.get(&(b, li, class, direction)).copied().unwrap_or(0),
                            withheld: false,
                        });
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counter::CountRule;

    #[test]
    fn events_land_in_their_interval_and_empty_cells_are_zero() {
        let mut a = Aggregator::new(15, 60.0, vec!["a".into(), "b".into()]);
        let e = |line, t, d| CountEvent {
            line,
            time_s: t,
            class: ObjectClass::Person,
            direction: d,
            rule: CountRule::Crossed,
            track: 1,
        };
        a.add(&[
            e(0, 1.0, Direction::Positive),
            e(0, 14.9, Direction::Positive),
            e(0, 15.0, Direction::Negative),
            e(1, 59.99, Direction::Negative),
            e(1, 60.0, Direction::Negative),
        ]);
        let out = a.finish(&[ObjectClass::Person]);
        assert_eq!(out.len(), 4 * 2 * 2);
        assert_eq!((out[0].line.as_str(), out[0].count), ("a", 2));
        assert_eq!((out[5].line.as_str(), out[5].direction, out[5].count), ("a", Direction::Negative, 1));
        // A crossing at the very end of the run belongs to the last interval.
        assert_eq!((out[15].line.as_str(), out[15].start_s, out[15].count), ("b", 45, 2));
        assert_eq!(out.iter().map(|c| c.count).sum::<u64>(), 5);
    }

    #[test]
    fn small_counts_are_withheld() {
        let mut a = Aggregator::new(10, 10.0, vec!["a".into()]);
        let e = |t| CountEvent {
            line: 0,
            time_s: t,
            class: ObjectClass::Person,
            direction: Direction::Positive,
            rule: CountRule::Crossed,
            track: 1,
        };
        a.add(&[e(1.0), e(2.0), e(3.0)]);
        a.add(&[CountEvent { direction: Direction::Negative, ..e(4.0) }]);
        let out = a.finish_with(&[ObjectClass::Person], &Disclosure { k: 3, epsilon: None, seed: 1 });
        assert_eq!((out[0].count, out[0].withheld), (3, false));
        assert_eq!((out[1].count, out[1].withheld), (0, true), "1 < k is withheld");
    }

    #[test]
    fn laplace_noise_has_the_configured_spread_and_is_reproducible() {
        let mut a = Aggregator::new(1, 4000.0, vec!["a".into()]);
        let events: Vec<CountEvent> = (0..4000)
            .map(|t| CountEvent {
                line: 0,
                time_s: t as f64 + 0.5,
                class: ObjectClass::Person,
                direction: Direction::Positive,
                rule: CountRule::Crossed,
                track: 1,
            })
            .flat_map(|e| std::iter::repeat_n(e, 20))
            .collect();
        a.add(&events);
        let d = Disclosure { k: 1, epsilon: Some(0.5), seed: 7 };
        let out = a.finish_with(&[ObjectClass::Person], &d);
        let noisy: Vec<f64> =
            out.iter().filter(|c| c.direction == Direction::Positive).map(|c| c.count as f64).collect();
        let mean_abs = noisy.iter().map(|c| (c - 20.0).abs()).sum::<f64>() / noisy.len() as f64;
        // E|Laplace(b)| = b = 1/ε = 2 (rounding shifts it slightly).
        assert!((mean_abs - 2.0).abs() < 0.15, "mean absolute noise {mean_abs}");
        assert!(noisy.iter().any(|c| *c != 20.0));
        assert_eq!(out, a.finish_with(&[ObjectClass::Person], &d), "same seed, same noise");
        assert_ne!(out, a.finish_with(&[ObjectClass::Person], &Disclosure { seed: 8, ..d }));
    }
}
