//! The less intrusive sensors of a run, on the binary's side: runs them on
//! the seed's simulation, turns their counts into the same per-interval
//! aggregates as a camera's (so scoring, plots and experiments treat both
//! alike), and writes what only sensors measure (zone and bay occupancy,
//! loop traffic, radio dwell) and every sensor's cost and data kind.

use std::path::Path;

use anyhow::{Context, Result};
use camtwin_analytics::report;
use camtwin_analytics::scoring::{self, SourceCounts, TimedCount};
use camtwin_sim::scenario::Scenario;
use camtwin_sim::sensors::{SensorOutput, SensorSpec};
use camtwin_sim::world::Crossing;
use serde::Serialize;

/// Files only a run with sensors writes (removed before every run).
pub const SENSOR_FILES: [&str; 4] = ["occupancy.csv", "loops.csv", "dwell.csv", "sensors.csv"];

/// What the sensors of one seed produced.
pub struct SensorRun {
    /// The run's ground-truth crossings (the simulation is the cameras').
    pub crossings: Vec<Crossing>,
    /// Each sensor's report, in the scenario's order.
    pub outputs: Vec<SensorOutput>,
}

/// Runs the simulation of `scenario` (seed included) with its sensors.
/// `known` are the crossings of a camera's run of the same simulation, if
/// any: without sensors the simulation is then not run again.
pub fn run(scenario: &Scenario, known: Option<Vec<Crossing>>) -> Result<SensorRun> {
    if let Some(crossings) = known
        && scenario.sensors.is_empty()
    {
        return Ok(SensorRun { crossings, outputs: Vec::new() });
    }
    let (crossings, outputs) = camtwin_sim::sensors::simulate(scenario).context("setting up the sensors")?;
    Ok(SensorRun { crossings, outputs })
}

/// Every line sensor's counts as a source (`<kind>:<id>`), aggregated per
/// interval like a camera's; a sensor that covers only some hours (manual
/// counts) has only the intervals it covers.
pub fn sources(scenario: &Scenario, outputs: &[SensorOutput]) -> Vec<SourceCounts> {
    let interval_s = scenario.aggregation.interval_s;
    let duration = f64::from(scenario.scenario.duration_s);
    outputs
        .iter()
        .filter_map(|o| {
            let line = o.line.clone()?;
            let counted: Vec<TimedCount> = o
                .counts
                .iter()
                .map(|c| TimedCount {
                    line: line.clone(),
                    time_s: f64::from(c.time_s),
                    class: c.class,
                    direction: c.direction,
                    agent: None,
                    counted_by: None,
                })
                .collect();
            let mut intervals = scoring::aggregate_timed(&counted, std::slice::from_ref(&line), interval_s, duration);
            if let Some(windows) = &o.windows {
                intervals.retain(|c| windows.iter().any(|w| (w[0] - c.start_s as f32).abs() < 1e-3));
            }
            Some(SourceCounts { source: o.source(), intervals })
        })
        .collect()
}

/// One row of `occupancy.csv`.
#[derive(Debug, Serialize)]
struct OccupancyRow {
    source: String,
    place: String,
    start_s: f32,
    end_s: f32,
    occupied: u8,
    truth_occupied: u8,
}

/// One row of `loops.csv`.
#[derive(Debug, Serialize)]
struct LoopRow {
    source: String,
    start_s: f32,
    end_s: f32,
    vehicles: u32,
    occupancy: f32,
    mean_speed_mps: Option<f32>,
    truth_vehicles: u32,
    truth_occupancy: f32,
    truth_mean_speed_mps: Option<f32>,
    speed_mapd: Option<f32>,
}

/// One row of `dwell.csv`.
#[derive(Debug, Serialize)]
struct DwellRow {
    source: String,
    start_s: f32,
    end_s: f32,
    sessions: u32,
    mean_dwell_s: Option<f32>,
    truth_agents: u32,
    truth_mean_dwell_s: Option<f32>,
}

/// One row of `sensors.csv`.
#[derive(Debug, Serialize)]
struct InventoryRow {
    source: String,
    kind: &'static str,
    data_kind: &'static str,
    hardware_eur: f32,
    installation_eur: f32,
    operation_eur_per_year: f32,
    cost_basis: &'static str,
}

const OCCUPANCY_HEADER: [&str; 6] = ["source", "place", "start_s", "end_s", "occupied", "truth_occupied"];
const LOOP_HEADER: [&str; 10] = [
    "source",
    "start_s",
    "end_s",
    "vehicles",
    "occupancy",
    "mean_speed_mps",
    "truth_vehicles",
    "truth_occupancy",
    "truth_mean_speed_mps",
    "speed_mapd",
];
const DWELL_HEADER: [&str; 7] =
    ["source", "start_s", "end_s", "sessions", "mean_dwell_s", "truth_agents", "truth_mean_dwell_s"];
const INVENTORY_HEADER: [&str; 7] =
    ["source", "kind", "data_kind", "hardware_eur", "installation_eur", "operation_eur_per_year", "cost_basis"];

fn spec_of<'a>(scenario: &'a Scenario, o: &SensorOutput) -> Option<&'a SensorSpec> {
    scenario.sensors.iter().find(|s| s.id() == o.id)
}

/// Writes `occupancy.csv`, `loops.csv`, `dwell.csv` and `sensors.csv` when
/// the scenario has sensors.
pub fn write_outputs(out: &Path, scenario: &Scenario, outputs: &[SensorOutput]) -> Result<()> {
    if outputs.is_empty() {
        return Ok(());
    }
    let bit = u8::from;
    let occupancy: Vec<OccupancyRow> = outputs
        .iter()
        .flat_map(|o| {
            o.occupancy.iter().map(|r| OccupancyRow {
                source: o.source(),
                place: r.place.clone(),
                start_s: r.start_s,
                end_s: r.end_s,
                occupied: bit(r.occupied),
                truth_occupied: bit(r.truth_occupied),
            })
        })
        .collect();
    let loops: Vec<LoopRow> = outputs
        .iter()
        .flat_map(|o| {
            o.traffic.iter().map(|r| LoopRow {
                source: o.source(),
                start_s: r.start_s,
                end_s: r.end_s,
                vehicles: r.vehicles,
                occupancy: r.occupancy,
                mean_speed_mps: r.mean_speed_mps,
                truth_vehicles: r.truth_vehicles,
                truth_occupancy: r.truth_occupancy,
                truth_mean_speed_mps: r.truth_mean_speed_mps,
                speed_mapd: r.speed_mapd,
            })
        })
        .collect();
    let dwell: Vec<DwellRow> = outputs
        .iter()
        .flat_map(|o| {
            o.dwell.iter().map(|r| DwellRow {
                source: o.source(),
                start_s: r.start_s,
                end_s: r.end_s,
                sessions: r.sessions,
                mean_dwell_s: r.mean_dwell_s,
                truth_agents: r.truth_agents,
                truth_mean_dwell_s: r.truth_mean_dwell_s,
            })
        })
        .collect();
    let inventory: Vec<InventoryRow> = outputs
        .iter()
        .filter_map(|o| {
            let spec = spec_of(scenario, o)?;
            let cost = spec.cost();
            Some(InventoryRow {
                source: o.source(),
                kind: o.kind,
                data_kind: spec.data_kind().name(),
                hardware_eur: cost.hardware_eur,
                installation_eur: cost.installation_eur,
                operation_eur_per_year: cost.operation_eur_per_year,
                cost_basis: cost.basis,
            })
        })
        .collect();
    report::write_csv(&out.join("occupancy.csv"), &occupancy, &OCCUPANCY_HEADER)?;
    report::write_csv(&out.join("loops.csv"), &loops, &LOOP_HEADER)?;
    report::write_csv(&out.join("dwell.csv"), &dwell, &DWELL_HEADER)?;
    report::write_csv(&out.join("sensors.csv"), &inventory, &INVENTORY_HEADER)?;
    Ok(())
}

/// The summary's section on sensors: data kind and cost of each, and what
/// the non-count outputs say against the truth.
pub fn summary_section(scenario: &Scenario, outputs: &[SensorOutput]) -> String {
    if outputs.is_empty() {
        return String::new();
    }
    let mut md = String::from(
        "\n## Sensors\n\n| source | data handled | hardware + installation (€) | operation (€/year) | also measured |\n\
         |---|---|---:|---:|---|\n",
    );
    for o in outputs {
        let Some(spec) = spec_of(scenario, o) else { continue };
        let cost = spec.cost();
        let mut also = Vec::new();
        if !o.occupancy.is_empty() {
            let agree = o.occupancy.iter().filter(|r| r.occupied == r.truth_occupied).count();
            also.push(format!("occupancy right in {agree} of {} intervals", o.occupancy.len()));
        }
        if !o.traffic.is_empty() {
            let n: u32 = o.traffic.iter().map(|r| r.vehicles).sum();
            let truth: u32 = o.traffic.iter().map(|r| r.truth_vehicles).sum();
            also.push(format!("{n} vehicles over the loop for {truth} true"));
        }
        if !o.dwell.is_empty() {
            let sessions: u32 = o.dwell.iter().map(|r| r.sessions).sum();
            let agents: u32 = o.dwell.iter().map(|r| r.truth_agents).sum();
            also.push(format!("{sessions} device sessions for {agents} agents in range"));
        }
        if let Some(w) = &o.windows {
            also.push(format!("counts {} interval(s) only", w.len()));
        }
        md.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {} |\n",
            o.source(),
            spec.data_kind().name(),
            cost.hardware_eur + cost.installation_eur,
            cost.operation_eur_per_year,
            also.join("; ")
        ));
    }
    md.push_str(
        "\nCosts are order-of-magnitude assumptions unless `sensors.csv` names a source; see docs/sensors.md.\n",
    );
    md
}
