//! Aggregation: the only data that leaves the device are counts per interval,
//! class and direction.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::counter::{CountEvent, CrossingDirection};
use crate::detector::ObjectClass;

/// Column names of an aggregates file, in [`IntervalCount`] field order.
pub const AGGREGATE_HEADER: [&str; 5] = ["start_s", "end_s", "class", "direction", "count"];

/// Counts of one class in one direction over one interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IntervalCount {
    /// Interval start, seconds since the start of the run.
    pub start_s: u32,
    /// Interval end, seconds.
    pub end_s: u32,
    /// Counted class.
    #[serde(serialize_with = "class_name")]
    pub class: ObjectClass,
    /// Crossing direction.
    #[serde(serialize_with = "direction_name")]
    pub direction: CrossingDirection,
    /// Number of crossings.
    pub count: u64,
}

fn class_name<S: serde::Serializer>(c: &ObjectClass, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.name())
}

fn direction_name<S: serde::Serializer>(d: &CrossingDirection, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(d.name())
}

/// Buckets count events into fixed intervals.
#[derive(Debug, Clone)]
pub struct Aggregator {
    interval_s: u32,
    duration_s: f64,
    counts: BTreeMap<(u32, ObjectClass, CrossingDirection), u64>,
}

impl Aggregator {
    /// Intervals of `interval_s` seconds covering a run of `duration_s`.
    pub fn new(interval_s: u32, duration_s: f64) -> Self {
        Self { interval_s: interval_s.max(1), duration_s, counts: BTreeMap::new() }
    }

    /// Adds events.
    pub fn add(&mut self, events: &[CountEvent]) {
        for e in events {
            let bucket = (e.time_s.max(0.0) / self.interval_s as f64).floor() as u32;
            *self.counts.entry((bucket, e.class, e.direction)).or_insert(0) += 1;
        }
    }

    /// Every (interval, class, direction) cell, zeros included, for the
    /// classes in `classes`.
    pub fn finish(&self, classes: &[ObjectClass]) -> Vec<IntervalCount> {
        let buckets = (self.duration_s / self.interval_s as f64).ceil().max(1.0) as u32;
        let mut out = Vec::new();
        for b in 0..buckets {
            for &class in classes {
                for direction in [CrossingDirection::Positive, CrossingDirection::Negative] {
                    out.push(IntervalCount {
                        start_s: b * self.interval_s,
                        end_s: ((b + 1) * self.interval_s).min(self.duration_s.ceil() as u32),
                        class,
                        direction,
                        count: self.counts.get(&(b, class, direction)).copied().unwrap_or(0),
                    });
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
        let mut a = Aggregator::new(15, 60.0);
        let e = |t, d| CountEvent { time_s: t, class: ObjectClass::Person, direction: d };
        a.add(&[
            e(1.0, CrossingDirection::Positive),
            e(14.9, CrossingDirection::Positive),
            e(15.0, CrossingDirection::Negative),
        ]);
        let out = a.finish(&[ObjectClass::Person]);
        assert_eq!(out.len(), 8);
        assert_eq!(out[0].count, 2);
        assert_eq!(out[3].count, 1);
        assert_eq!(out.iter().map(|c| c.count).sum::<u64>(), 3);
    }
}
