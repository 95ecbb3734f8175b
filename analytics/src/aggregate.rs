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
pub const AGGREGATE_HEADER: [&str; 6] = ["start_s", "end_s", "line", "class", "direction", "count"];

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
    /// Number of crossings.
    pub count: u64,
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
        for e in events.iter().filter(|e| e.line < self.lines.len()) {
            let bucket = self.bucket(e.time_s);
            *self.counts.entry((bucket, e.line, e.class, e.direction)).or_insert(0) += 1;
        }
    }

    /// Every (interval, line, class, direction) cell, zeros included, for the
    /// classes in `classes`.
    pub fn finish(&self, classes: &[ObjectClass]) -> Vec<IntervalCount> {
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

    #[test]
    fn events_land_in_their_interval_and_empty_cells_are_zero() {
        let mut a = Aggregator::new(15, 60.0, vec!["a".into(), "b".into()]);
        let e = |line, t, d| CountEvent { line, time_s: t, class: ObjectClass::Person, direction: d };
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
}
