//! What the less intrusive sensors add to simulation time: a 2 km street
//! with 10,000 pedestrians present over a 30 s run (about 9,800 at once)
//! and 200 cars, simulated alone and with 20 sensors of every kind (6
//! passive infrared, 3 8×8 and 2 32×24 thermal arrays, 2 presence
//! detectors, 2 loops, a magnetometer, 2 Wi-Fi and a Bluetooth scanner, a
//! manual count), side by side in one run, alternating. Target: sensors
//! add at most 5 %.
//!
//! Run with `cargo test --bench sensors_overhead [-- ROUNDS]` (default 5
//! rounds of each; the fastest of each is compared, the least disturbed by
//! other work on a shared machine). Times are the thread's CPU time (Linux
//! `/proc/thread-self/schedstat`), which waiting for a core does not
//! inflate, and wall time where that is not available.

use std::path::Path;
use std::time::Instant;

use camtwin_sim::scenario::Scenario;
use camtwin_sim::sensors::SensorBank;
use camtwin_sim::world::Simulation;

fn scenario() -> Scenario {
    let mut text = String::from(
        r#"
[scenario]
name = "10,000 agents"
seed = 77
duration_s = 30.0

[street]
length_m = 2000.0
road_width_m = 7.0
sidewalk_width_m = 3.5

[pedestrians]
count = 10000
group_share = 0.3

[vehicles]
count = 200

[[zones]]
id = "z1"
polygon = [[-60.0, 3.5], [-50.0, 3.5], [-50.0, 7.0], [-60.0, 7.0]]

[[zones]]
id = "z2"
polygon = [[300.0, -7.0], [310.0, -7.0], [310.0, -3.5], [300.0, -3.5]]

[[lines]]
id = "road"
from = [-100.0, -3.5]
to = [-100.0, 3.5]

[[lines]]
id = "section"
from = [500.0, -7.0]
to = [500.0, 7.0]
"#,
    );
    for k in 0..6 {
        let (x, y0, y1) =
            (-800.0 + 300.0 * k as f32, if k % 2 == 0 { 3.5 } else { -7.0 }, if k % 2 == 0 { 7.0 } else { -3.5 });
        text.push_str(&format!(
            "\n[[lines]]\nid = \"l{k}\"\nfrom = [{x}, {y0}]\nto = [{x}, {y1}]\n\n[[sensors]]\nkind = \"passive_infrared\"\nid = \"ir{k}\"\nline = \"l{k}\"\n"
        ));
        if k < 5 {
            let resolution = if k < 3 { "8x8" } else { "32x24" };
            let y = (y0 + y1) / 2.0;
            text.push_str(&format!(
                "\n[[sensors]]\nkind = \"thermal_array\"\nid = \"th{k}\"\nline = \"l{k}\"\nposition = [{x}, {y}]\nresolution = \"{resolution}\"\n"
            ));
        }
    }
    text.push_str(
        r#"
[[sensors]]
kind = "presence"
id = "p1"
zone = "z1"

[[sensors]]
kind = "presence"
id = "p2"
zone = "z2"

[[sensors]]
kind = "inductive_loop"
id = "loop-e"
line = "road"
position = [-100.0, -1.75]

[[sensors]]
kind = "inductive_loop"
id = "loop-w"
line = "road"
position = [-100.0, 1.75]

[[sensors]]
kind = "parking_magnetometer"
id = "mag"
position = [0.0, -2.4]

[[sensors]]
kind = "wifi"
id = "wifi1"
line = "section"
position = [500.0, 6.8]

[[sensors]]
kind = "wifi"
id = "wifi2"
line = "l2"
position = [-200.0, 6.8]

[[sensors]]
kind = "bluetooth"
id = "bt"
line = "section"
position = [500.0, -6.8]

[[sensors]]
kind = "manual"
id = "obs"
line = "l0"
windows = [[0.0, 30.0]]
"#,
    );
    let path = Path::new("bench.toml");
    let s = Scenario::parse(&text, path).expect("bench scenario parses");
    s.validate(&text, path).expect("bench scenario is valid");
    assert_eq!(s.sensors.len(), 20);
    s
}

/// A clock of the time this thread ran on a core, seconds.
struct Clock {
    wall: Instant,
    cpu: Option<f64>,
}

fn thread_cpu_s() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

impl Clock {
    fn start() -> Self {
        Self { wall: Instant::now(), cpu: thread_cpu_s() }
    }

    fn elapsed(&self) -> f64 {
        match (self.cpu, thread_cpu_s()) {
            (Some(a), Some(b)) => b - a,
            _ => self.wall.elapsed().as_secs_f64(),
        }
    }
}

/// Seconds to simulate the whole run, and the agents present at mid-run.
fn simulation_alone(s: &Scenario) -> (f64, usize) {
    let started = Clock::start();
    let mut sim = Simulation::new(s);
    let mut mid = 0;
    while sim.step_index() < s.step_count() {
        sim.step();
        if sim.step_index() == s.step_count() / 2 {
            mid = sim.snapshot().agents.len();
        }
    }
    std::hint::black_box(sim.crossings().len());
    (started.elapsed(), mid)
}

/// Seconds to simulate the run with every sensor watching each step.
fn with_sensors(s: &Scenario) -> f64 {
    let started = Clock::start();
    let mut sim = Simulation::new(s);
    let mut bank = SensorBank::new(s).expect("sensors");
    while sim.step_index() < s.step_count() {
        sim.step();
        let ranges = bank.ranges_due(sim.step_index());
        bank.observe(&sim.snapshot_within(&ranges));
    }
    let outputs = bank.finish(sim.crossings());
    std::hint::black_box(outputs.len());
    started.elapsed()
}

fn fastest(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn main() {
    let clock = if thread_cpu_s().is_some() { "thread CPU time" } else { "wall time" };
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(5);
    let s = scenario();
    let (mut alone, mut sensed) = (Vec::new(), Vec::new());
    let mut present = 0;
    for round in 0..rounds {
        let (t, mid) = simulation_alone(&s);
        present = mid;
        alone.push(t);
        sensed.push(with_sensors(&s));
        println!("round {}: simulation alone {:.2} s, with 20 sensors {:.2} s", round + 1, t, sensed[round]);
    }
    let (a, b) = (fastest(&alone), fastest(&sensed));
    let mut ratios: Vec<f64> = alone.iter().zip(&sensed).map(|(a, b)| b / a - 1.0).collect();
    ratios.sort_by(f64::total_cmp);
    let median_ratio = ratios[ratios.len() / 2];
    println!(
        "{} steps, {present} agents present at mid-run, 20 sensors ({clock}): simulation alone {a:.2} s, with \
         sensors {b:.2} s, overhead {:+.1} % fastest against fastest, {:+.1} % median of the rounds (target <= 5 %)",
        s.step_count(),
        (b / a - 1.0) * 100.0,
        median_ratio * 100.0
    );
}
