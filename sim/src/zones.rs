//! Ground truth of zones: who is inside each zone at each step, and for how
//! long each visit lasts. Zone counters (camera) and presence detectors
//! (sensors) are scored against it, and sensitive places weigh on
//! intrusiveness through it.

use std::collections::BTreeMap;

use crate::scenario::ZoneSpec;
use crate::world::{ObjectClass, Snapshot};

/// One agent's stay inside one zone, from the step it was first seen inside
/// to the step it was last seen inside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZoneVisit {
    /// Index of the zone in the scenario's `zones`.
    pub zone: usize,
    /// Which agent.
    pub agent: u32,
    /// Its class.
    pub class: ObjectClass,
    /// First time seen inside, seconds.
    pub enter_s: f32,
    /// Last time seen inside, seconds; equal to `enter_s` for a single step.
    pub exit_s: f32,
    /// Whether the visit was still going on when the run ended.
    pub open: bool,
}

impl ZoneVisit {
    /// Dwell time, seconds.
    pub fn dwell_s(&self) -> f32 {
        self.exit_s - self.enter_s
    }
}

/// How many agents of one class were inside one zone at one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Occupancy {
    /// Index of the zone.
    pub zone: usize,
    /// Simulated time, seconds.
    pub time_s: f32,
    /// The class counted.
    pub class: ObjectClass,
    /// Agents inside.
    pub count: u32,
}

/// Watches snapshots and records occupancy and visits for every zone.
#[derive(Debug, Clone)]
pub struct ZoneLedger {
    zones: Vec<ZoneSpec>,
    inside: BTreeMap<(usize, u32), ZoneVisit>,
    visits: Vec<ZoneVisit>,
    occupancy: Vec<Occupancy>,
    last_time_s: f32,
}

impl ZoneLedger {
    /// A ledger for the scenario's zones.
    pub fn new(zones: Vec<ZoneSpec>) -> Self {
        Self { zones, inside: BTreeMap::new(), visits: Vec::new(), occupancy: Vec::new(), last_time_s: 0.0 }
    }

    /// Records one step: an agent's ground point is the centre of its footprint.
    pub fn observe(&mut self, snapshot: &Snapshot) {
        let t = snapshot.time_s;
        self.last_time_s = t;
        let mut seen = std::collections::BTreeSet::new();
        for (z, zone) in self.zones.iter().enumerate() {
            let mut per_class: BTreeMap<ObjectClass, u32> = BTreeMap::new();
            for a in &snapshot.agents {
                let p = [a.instance.translation[0], a.instance.translation[1]];
                if !zone.contains(p) {
                    continue;
                }
                *per_class.entry(a.class).or_default() += 1;
                seen.insert((z, a.id));
                self.inside.entry((z, a.id)).and_modify(|v| v.exit_s = t).or_insert(ZoneVisit {
                    zone: z,
                    agent: a.id,
                    class: a.class,
                    enter_s: t,
                    exit_s: t,
                    open: true,
                });
            }
            for (class, count) in per_class {
                self.occupancy.push(Occupancy { zone: z, time_s: t, class, count });
            }
        }
        let left: Vec<(usize, u32)> = self.inside.keys().filter(|k| !seen.contains(k)).copied().collect();
        for k in left {
            if let Some(mut v) = self.inside.remove(&k) {
                v.open = false;
                self.visits.push(v);
            }
        }
    }

    /// Every visit, finished ones first in the order they ended, then the
    /// visits still open at the last observed step.
    pub fn visits(&self) -> Vec<ZoneVisit> {
        let mut out = self.visits.clone();
        out.extend(self.inside.values().copied());
        out
    }

    /// Occupancy per zone, step and class; steps with nobody inside a zone
    /// have no entry.
    pub fn occupancy(&self) -> &[Occupancy] {
        &self.occupancy
    }

    /// The zones watched.
    pub fn zones(&self) -> &[ZoneSpec] {
        &self.zones
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Instance, MeshKey};
    use crate::scenario::ZoneKind;
    use crate::world::AgentPose;

    fn agent(id: u32, x: f32) -> AgentPose {
        AgentPose {
            id,
            class: ObjectClass::Person,
            instance: Instance { mesh: MeshKey(0), translation: [x, 5.0, 0.0], yaw_rad: 0.0 },
            height_m: 1.7,
        }
    }

    fn snap(step: u64, agents: Vec<AgentPose>) -> Snapshot {
        Snapshot { step, time_s: step as f32 * 0.5, agents }
    }

    #[test]
    fn visits_and_occupancy_follow_agents_in_and_out() {
        let zone = ZoneSpec {
            id: "z".into(),
            polygon: vec![[0.0, 3.0], [2.0, 3.0], [2.0, 7.0], [0.0, 7.0]],
            kind: ZoneKind::Count,
            label: None,
            wait: None,
        };
        let mut ledger = ZoneLedger::new(vec![zone]);
        // Agent 1 walks through x = -1, 0.5, 1.5, 3; agent 2 stands inside throughout.
        for (step, x) in [-1.0, 0.5, 1.5, 3.0].into_iter().enumerate() {
            ledger.observe(&snap(step as u64, vec![agent(1, x), agent(2, 1.0)]));
        }
        let visits = ledger.visits();
        assert_eq!(visits.len(), 2);
        let walker = visits.iter().find(|v| v.agent == 1).expect("walker");
        assert!(!walker.open);
        assert_eq!((walker.enter_s, walker.exit_s), (0.5, 1.0));
        let stayer = visits.iter().find(|v| v.agent == 2).expect("stayer");
        assert!(stayer.open && stayer.dwell_s() == 1.5);
        let counts: Vec<u32> = ledger.occupancy().iter().map(|o| o.count).collect();
        assert_eq!(counts, vec![1, 2, 2, 1]);
    }
}
