//! How freely people walk in a scenario: runs it over several seeds and
//! prints, per seed, the walkers' mean speed along their way within 5 m of
//! the counting lines (on either side) and over the whole street, and the
//! share of their steps near the lines slower than 0.3 m/s (held up).
//!
//! ```text
//! cargo run -p camtwin-sim --bin walker_pace -- scenarios/busy-sidewalk-5min.toml [--seeds 5]
//! ```
//!
//! A congested street makes every counter's task harder (people bunch up
//! and mill at the lines), so the accuracy figures of docs/PERFORMANCE.md
//! are read with these: free walking is 1.34 m/s on average (Weidmann
//! 1993), and at the densities of camtwin's streets (up to about 0.3 people
//! a square metre) walkers should keep most of it.

use std::collections::HashMap;
use std::path::PathBuf;

use camtwin_sim::scenario::Scenario;
use camtwin_sim::world::{ObjectClass, Simulation};

/// Reach of "near a line" along the street, metres.
const NEAR_M: f32 = 5.0;

/// Below this speed along its way a walker is held up, m/s.
const HELD_UP_MPS: f32 = 0.3;

fn usage() -> ! {
    eprintln!("usage: walker_pace SCENARIO.toml [--seeds N]");
    std::process::exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut scenario: Option<PathBuf> = None;
    let mut seeds = 5u64;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seeds" => {
                let v = args.next().unwrap_or_else(|| usage());
                seeds = v.parse().ok().filter(|&n| n > 0).unwrap_or_else(|| {
                    eprintln!("error: --seeds: expected a whole number above 0, got {v:?}");
                    std::process::exit(2)
                });
            }
            _ if scenario.is_none() && !a.starts_with("--") => scenario = Some(PathBuf::from(a)),
            _ => usage(),
        }
    }
    let path = scenario.unwrap_or_else(|| usage());
    let base = Scenario::load(&path).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    println!("| seed | near the lines, m/s | held up near the lines | whole street, m/s |");
    println!("|---:|---:|---:|---:|");
    let mut means = [0.0f64; 3];
    for k in 0..seeds {
        let mut scenario = base.clone();
        scenario.scenario.seed = base.scenario.seed + k;
        let [near, held, all] = pace(&scenario);
        println!("| {} | {near:.2} | {:.1} % | {all:.2} |", scenario.scenario.seed, 100.0 * held);
        for (m, v) in means.iter_mut().zip([near, held, all]) {
            *m += v / seeds as f64;
        }
    }
    println!("| mean | {:.2} | {:.1} % | {:.2} |", means[0], 100.0 * means[1], means[2]);
}

/// Mean speed along their way of walkers near a line, the share of those
/// steps held up, and the mean speed of every walker, over the run.
fn pace(scenario: &Scenario) -> [f64; 3] {
    let lines: Vec<[f32; 2]> =
        scenario.lines.iter().map(|l| [l.from[0].min(l.to[0]) - NEAR_M, l.from[0].max(l.to[0]) + NEAR_M]).collect();
    let mut sim = Simulation::new(scenario);
    let dt = 1.0 / scenario.scenario.step_hz as f32;
    let steps = (scenario.scenario.duration_s / dt).round() as u64;
    let mut last: HashMap<u32, f32> = HashMap::new();
    let (mut near, mut near_sum, mut held, mut all, mut all_sum) = (0u64, 0f64, 0u64, 0u64, 0f64);
    for _ in 0..steps {
        sim.step();
        let snapshot = sim.snapshot();
        let mut now = HashMap::with_capacity(last.len());
        for a in snapshot.agents.iter().filter(|a| a.class == ObjectClass::Person) {
            let x = a.instance.translation[0];
            if let Some(x0) = last.get(&a.id) {
                // Nobody walks backwards: the speed along x is the pace.
                let v = f64::from((x - x0).abs() / dt);
                all += 1;
                all_sum += v;
                if lines.iter().any(|r| (r[0]..=r[1]).contains(&x)) {
                    near += 1;
                    near_sum += v;
                    held += u64::from(v < f64::from(HELD_UP_MPS));
                }
            }
            now.insert(a.id, x);
        }
        last = now;
    }
    let per = |sum: f64, n: u64| if n == 0 { 0.0 } else { sum / n as f64 };
    [per(near_sum, near), per(held as f64, near), per(all_sum, all)]
}
