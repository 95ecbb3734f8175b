//! Validation of the sensor models against field-study figures: runs a
//! scenario over several seeds and prints, per sensor, the figures the
//! studies report (sensitivity and absolute error of line counts, detection
//! share of radio scanners, agreement of occupancy), as a Markdown table.
//!
//! ```text
//! cargo run -p camtwin-sim --bin sensor_validation -- scenarios/sensors-sidewalk.toml \
//!     [--seeds 10] [--group-share 0.33] [--vehicle-speed 25 --street-length 400] [--device-share 0.35] [--interval 10]
//!     [--pedestrians 4000] [--manual-session] [--manual-watch-all] [--loop-sample 0.25] [--loop-width 1.5]
//!     [--vehicles 600] [--wait 0.1] [--mix car=0.76,van=0.17,truck=0.05,bus=0.01,motorcycle=0.01]
//! ```
//!
//! Sensitivity is counted / true over the run (persons; vehicles for
//! loops); absolute error is Σ|count − truth| / Σ truth over the
//! aggregation intervals and both directions (the WAPE of `errors.csv`);
//! the MAPE is the mean over intervals of |count − truth| / truth with both
//! directions summed first, as footfall studies compare minute counts.
//! For manual counts it also prints the share missed in each interval, summed
//! over seeds; `--manual-session` makes every manual count one session over
//! the whole run, to see how the error moves through a session, and
//! `--manual-watch-all` makes every observer also watch every other line
//! (an intersection's crosswalks at once).
//! For inductive loops it prints the speed error (mean absolute percentage
//! deviation, per vehicle and per interval mean); `--loop-sample` and
//! `--loop-width` set every loop's sampling period and width. `--wait S`
//! makes a share S of the walkers passing every counting zone on their
//! sidewalk stop there for 15 s to 8 minutes ([`WAIT_DWELL_S`]), as at a bus
//! stop. `--mix` sets the traffic's composition (`vehicles.mix`; a loop's
//! truth is every vehicle, whatever its kind).

use std::collections::BTreeMap;
use std::path::PathBuf;

use camtwin_sim::scenario::{Scenario, VehicleMix, WaitSpec, ZoneKind};
use camtwin_sim::sensors::wifi::{Radio, RadioParams};
use camtwin_sim::sensors::{SensorOutput, SensorSpec, simulate};
use camtwin_sim::world::{Crossing, Direction, ObjectClass};

struct Args {
    scenario: PathBuf,
    seeds: u64,
    group_share: Option<f32>,
    vehicle_speed: Option<f32>,
    street_length: Option<f32>,
    device_share: Option<f32>,
    interval_s: Option<u32>,
    pedestrians: Option<u32>,
    manual_session: bool,
    manual_watch_all: bool,
    loop_sample_s: Option<f32>,
    loop_width_m: Option<f32>,
    vehicles: Option<u32>,
    wait_share: Option<f32>,
    mix: Option<VehicleMix>,
}

/// How long people wait with `--wait`, seconds: uniform, as for people
/// arriving at random at a stop served every 8 minutes (assumption).
const WAIT_DWELL_S: [f32; 2] = [15.0, 480.0];

/// Takes the value of option `name` from the arguments and parses it.
fn parsed<T: std::str::FromStr>(name: &str, it: &mut impl Iterator<Item = String>) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    let v = it.next().ok_or_else(|| format!("{name} needs a value"))?;
    v.parse().map_err(|e| format!("{name}: {e}"))
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        scenario: PathBuf::new(),
        seeds: 10,
        group_share: None,
        vehicle_speed: None,
        street_length: None,
        device_share: None,
        interval_s: None,
        pedestrians: None,
        manual_session: false,
        manual_watch_all: false,
        loop_sample_s: None,
        loop_width_m: None,
        vehicles: None,
        wait_share: None,
        mix: None,
    };
    while let Some(a) = it.next() {
        let it = &mut it;
        match a.as_str() {
            "--seeds" => args.seeds = parsed("--seeds", it)?,
            "--group-share" => args.group_share = Some(parsed("--group-share", it)?),
            "--vehicle-speed" => args.vehicle_speed = Some(parsed("--vehicle-speed", it)?),
            "--street-length" => args.street_length = Some(parsed("--street-length", it)?),
            "--interval" => args.interval_s = Some(parsed("--interval", it)?),
            "--pedestrians" => args.pedestrians = Some(parsed("--pedestrians", it)?),
            "--device-share" => args.device_share = Some(parsed("--device-share", it)?),
            "--manual-session" => args.manual_session = true,
            "--manual-watch-all" => args.manual_watch_all = true,
            "--loop-sample" => args.loop_sample_s = Some(parsed("--loop-sample", it)?),
            "--loop-width" => args.loop_width_m = Some(parsed("--loop-width", it)?),
            "--vehicles" => args.vehicles = Some(parsed("--vehicles", it)?),
            "--wait" => args.wait_share = Some(parsed("--wait", it)?),
            "--mix" => args.mix = Some(parse_mix(&it.next().ok_or("--mix needs a value")?)?),
            path => args.scenario = PathBuf::from(path),
        }
    }
    if args.scenario.as_os_str().is_empty() {
        return Err("usage: sensor_validation SCENARIO [--seeds N] [--group-share S] [--vehicle-speed MPS] \
                    [--street-length M] [--device-share S] [--interval S] [--pedestrians N] [--manual-session] [--manual-watch-all] \
                    [--loop-sample S] [--loop-width M] [--vehicles N] [--wait S] [--mix car=S,van=S,bus=S,truck=S,motorcycle=S,bicycle=S]"
            .into());
    }
    Ok(args)
}

/// A traffic mix from `car=0.76,van=0.17,...` (kinds left out have no
/// share).
fn parse_mix(text: &str) -> Result<VehicleMix, String> {
    let mut mix = VehicleMix { car: 0.0, van: 0.0, bus: 0.0, truck: 0.0, motorcycle: 0.0, bicycle: 0.0 };
    for part in text.split(',') {
        let (kind, share) = part.split_once('=').ok_or_else(|| format!("--mix: `{part}` is not kind=share"))?;
        let share: f32 = share.trim().parse().map_err(|e| format!("--mix: {kind}: {e}"))?;
        let slot = match kind.trim() {
            "car" => &mut mix.car,
            "van" => &mut mix.van,
            "bus" => &mut mix.bus,
            "truck" => &mut mix.truck,
            "motorcycle" => &mut mix.motorcycle,
            "bicycle" => &mut mix.bicycle,
            other => return Err(format!("--mix: unknown kind `{other}` (car, van, bus, truck, motorcycle, bicycle)")),
        };
        *slot = share;
    }
    Ok(mix)
}

/// Per sensor and seed: the figures a field study would report.
#[derive(Default)]
struct Figures {
    sensitivity: Vec<f64>,
    absolute_error: Vec<f64>,
    /// Mean absolute percentage error of the per-interval counts, both
    /// directions together (Wi-Fi footfall studies report this).
    mape: Vec<f64>,
    detection: BTreeMap<&'static str, Vec<f64>>,
    agreement: Vec<f64>,
    /// Occupancy: share of truly occupied intervals reported occupied, and
    /// of empty ones reported empty.
    occupied_seen: Vec<f64>,
    empty_seen: Vec<f64>,
    /// Per aggregation interval: (counted, true), summed over seeds.
    by_interval: BTreeMap<u32, (f64, f64)>,
    /// Loops: speed error per vehicle and of interval mean speeds, per seed.
    speed_per_vehicle: Vec<f64>,
    speed_per_interval: Vec<f64>,
}

/// A line sensor's figures over one run.
struct LineFigures {
    sensitivity: f64,
    absolute_error: f64,
    /// Mean over intervals with a true crossing of |counted − true| / true,
    /// both directions together.
    mape: Option<f64>,
    /// Per aggregation interval: (counted, true), both directions.
    by_interval: BTreeMap<u32, (f64, f64)>,
}

fn line_figures(s: &Scenario, o: &SensorOutput, crossings: &[Crossing]) -> Option<LineFigures> {
    let line = s.lines.iter().position(|l| Some(&l.id) == o.line.as_ref())?;
    // A loop counts every vehicle, whatever its kind (it reports them all as
    // cars); the other line sensors count people.
    let loop_sensor = o.kind == "inductive_loop";
    let counted = |c: ObjectClass| (c == ObjectClass::Person) != loop_sensor;
    let interval = s.aggregation.interval_s as f32;
    let covered = |t: f32| o.windows.as_ref().is_none_or(|w| w.iter().any(|w| w[0] <= t && t < w[1]));
    let cell = |t: f32, d: Direction| ((t / interval) as u32, d == Direction::Positive);
    let mut cells: BTreeMap<(u32, bool), (f64, f64)> = BTreeMap::new();
    for c in crossings.iter().filter(|c| c.line == line && counted(c.class) && covered(c.time_s)) {
        // A loop sees one lane: its truth is that lane's direction.
        if loop_sensor && o.counts.first().is_some_and(|k| k.direction != c.direction) {
            continue;
        }
        cells.entry(cell(c.time_s, c.direction)).or_default().1 += 1.0;
    }
    for c in o.counts.iter().filter(|c| counted(c.class) && covered(c.time_s)) {
        cells.entry(cell(c.time_s, c.direction)).or_default().0 += 1.0;
    }
    let (count, truth) = cells.values().fold((0.0, 0.0), |a, v| (a.0 + v.0, a.1 + v.1));
    let abs: f64 = cells.values().map(|v| (v.0 - v.1).abs()).sum();
    let mut by_interval: BTreeMap<u32, (f64, f64)> = BTreeMap::new();
    for (&(i, _), &v) in &cells {
        add_to(&mut by_interval, i, v);
    }
    let shares: Vec<f64> = by_interval.values().filter(|v| v.1 > 0.0).map(|v| (v.0 - v.1).abs() / v.1).collect();
    let mape = (!shares.is_empty()).then(|| shares.iter().sum::<f64>() / shares.len() as f64);
    (truth > 0.0).then(|| LineFigures { sensitivity: count / truth, absolute_error: abs / truth, mape, by_interval })
}

/// Adds (counted, true) to interval `i` of `map`.
fn add_to(map: &mut BTreeMap<u32, (f64, f64)>, i: u32, (count, truth): (f64, f64)) {
    let e = map.entry(i).or_default();
    e.0 += count;
    e.1 += truth;
}

/// A loop's speed errors over one run: the mean absolute percentage
/// deviation per vehicle (each interval's figure weighted by its vehicles)
/// and that of the interval mean speeds.
fn speed_errors(o: &SensorOutput) -> Option<(f64, f64)> {
    let (mut sum, mut n) = (0.0, 0.0);
    let mut intervals = Vec::new();
    for t in &o.traffic {
        if let Some(d) = t.speed_mapd {
            sum += f64::from(d) * f64::from(t.vehicles);
            n += f64::from(t.vehicles);
        }
        if let (Some(v), Some(truth)) = (t.mean_speed_mps, t.truth_mean_speed_mps) {
            intervals.push(f64::from((v - truth).abs() / truth.max(0.1)));
        }
    }
    (n > 0.0 && !intervals.is_empty()).then(|| (sum / n, intervals.iter().sum::<f64>() / intervals.len() as f64))
}

fn mean_range(v: &[f64]) -> String {
    if v.is_empty() {
        return "n/a".into();
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{:.1} % ({:.1}-{:.1})", mean * 100.0, lo * 100.0, hi * 100.0)
}

fn main() -> Result<(), String> {
    let args = parse_args()?;
    let text = std::fs::read_to_string(&args.scenario).map_err(|e| format!("{}: {e}", args.scenario.display()))?;
    let mut scenario = Scenario::parse(&text, &args.scenario).map_err(|e| e.to_string())?;
    scenario.validate(&text, &args.scenario).map_err(|e| e.to_string())?;
    if let Some(g) = args.group_share {
        scenario.pedestrians.group_share = g;
    }
    if let Some(v) = args.vehicle_speed {
        scenario.vehicles.speed_mean_mps = v;
    }
    if let Some(l) = args.street_length {
        scenario.street.length_m = l;
    }
    if let Some(i) = args.interval_s {
        scenario.aggregation.interval_s = i;
    }
    if let Some(n) = args.pedestrians {
        scenario.pedestrians.count = n;
    }
    if let Some(n) = args.vehicles {
        scenario.vehicles.count = n;
    }
    if args.mix.is_some() {
        scenario.vehicles.mix = args.mix;
        scenario.validate(&text, &args.scenario).map_err(|e| e.to_string())?;
    }
    if let Some(share) = args.wait_share {
        for zone in scenario.zones.iter_mut().filter(|z| z.kind == ZoneKind::Count) {
            zone.wait = Some(WaitSpec { share, dwell_s: WAIT_DWELL_S });
        }
        scenario.validate(&text, &args.scenario).map_err(|e| e.to_string())?;
    }
    for sensor in &mut scenario.sensors {
        if let SensorSpec::InductiveLoop(l) = sensor {
            l.sample_period_s = args.loop_sample_s.unwrap_or(l.sample_period_s);
            l.width_m = args.loop_width_m.unwrap_or(l.width_m);
        }
    }
    let line_ids: Vec<String> = scenario.lines.iter().map(|l| l.id.clone()).collect();
    for sensor in &mut scenario.sensors {
        if let SensorSpec::Manual(m) = sensor {
            if args.manual_session {
                m.windows = vec![[0.0, scenario.scenario.duration_s]];
            }
            if args.manual_watch_all {
                m.also_watching = line_ids.iter().filter(|l| **l != m.line).cloned().collect();
            }
        }
    }
    if let Some(d) = args.device_share {
        // Every radio scanner: the share of discoverable devices (night, a
        // population with Bluetooth off); the operator's calibration stays.
        for sensor in &mut scenario.sensors {
            let (spec, radio) = match sensor {
                SensorSpec::Wifi(r) => (r, Radio::Wifi),
                SensorSpec::Bluetooth(r) => (r, Radio::Bluetooth),
                _ => continue,
            };
            spec.calibration_share = Some(RadioParams::of(spec, radio).calibration_share);
            spec.device_share = Some(d);
        }
    }
    let mut per_sensor: BTreeMap<String, Figures> = BTreeMap::new();
    let mut order = Vec::new();
    let mut truth_people = Vec::new();
    for k in 0..args.seeds {
        let mut s = scenario.clone();
        s.scenario.seed = scenario.scenario.seed.wrapping_add(k);
        let (crossings, outputs) = simulate(&s).map_err(|e| e.to_string())?;
        truth_people.push(crossings.iter().filter(|c| c.class == ObjectClass::Person).count());
        for o in &outputs {
            let source = o.source();
            if k == 0 {
                order.push(source.clone());
            }
            let f = per_sensor.entry(source).or_default();
            if let Some(lf) = line_figures(&s, o, &crossings) {
                f.sensitivity.push(lf.sensitivity);
                f.absolute_error.push(lf.absolute_error);
                f.mape.extend(lf.mape);
                if o.windows.is_some() {
                    for (i, v) in lf.by_interval {
                        add_to(&mut f.by_interval, i, v);
                    }
                }
            }
            for d in &o.detected {
                if d.in_range > 0 {
                    f.detection.entry(d.class.name()).or_default().push(f64::from(d.detected) / f64::from(d.in_range));
                }
            }
            if let Some((per_vehicle, per_interval)) = speed_errors(o) {
                f.speed_per_vehicle.push(per_vehicle);
                f.speed_per_interval.push(per_interval);
            }
            if !o.occupancy.is_empty() {
                let agree = o.occupancy.iter().filter(|r| r.occupied == r.truth_occupied).count();
                f.agreement.push(agree as f64 / o.occupancy.len() as f64);
                let share = |truth: bool| {
                    let of: Vec<_> = o.occupancy.iter().filter(|r| r.truth_occupied == truth).collect();
                    (!of.is_empty()).then(|| of.iter().filter(|r| r.occupied == truth).count() as f64 / of.len() as f64)
                };
                f.occupied_seen.extend(share(true));
                f.empty_seen.extend(share(false));
            }
        }
    }
    println!(
        "Scenario `{}` ({}), {} seeds from {}, group share {}, vehicles at {} m/s, street {} m, {} s intervals; {} person crossings per seed on average.\n",
        scenario.scenario.name,
        args.scenario.display(),
        args.seeds,
        scenario.scenario.seed,
        scenario.pedestrians.group_share,
        scenario.vehicles.speed_mean_mps,
        scenario.street.length_m,
        scenario.aggregation.interval_s,
        truth_people.iter().sum::<usize>() / truth_people.len().max(1)
    );
    println!(
        "| source | sensitivity (count / truth), mean (min-max) | absolute error (WAPE), mean (min-max) | MAPE per interval, both directions | detected at least once | occupancy right |"
    );
    println!("|---|---|---|---|---|---|");
    for source in order {
        let f = &per_sensor[&source];
        let detection: Vec<String> = f.detection.iter().map(|(c, v)| format!("{c}: {}", mean_range(v))).collect();
        println!(
            "| {source} | {} | {} | {} | {} | {} |",
            mean_range(&f.sensitivity),
            mean_range(&f.absolute_error),
            mean_range(&f.mape),
            if detection.is_empty() { "n/a".into() } else { detection.join("; ") },
            mean_range(&f.agreement)
        );
    }
    let loops: Vec<_> = per_sensor.iter().filter(|(_, f)| !f.speed_per_vehicle.is_empty()).collect();
    if !loops.is_empty() {
        println!("\n| loop | speed MAPD per vehicle, mean (min-max) | MAPD of interval mean speeds, mean (min-max) |");
        println!("|---|---|---|");
        for (source, f) in loops {
            println!("| {source} | {} | {} |", mean_range(&f.speed_per_vehicle), mean_range(&f.speed_per_interval));
        }
    }
    let occupancy: Vec<_> = per_sensor.iter().filter(|(_, f)| !f.agreement.is_empty()).collect();
    if !occupancy.is_empty() {
        println!("\n| occupancy | right | occupied intervals reported occupied | empty intervals reported empty |");
        println!("|---|---|---|---|");
        for (source, f) in occupancy {
            let (a, o, e) = (mean_range(&f.agreement), mean_range(&f.occupied_seen), mean_range(&f.empty_seen));
            println!("| {source} | {a} | {o} | {e} |");
        }
    }
    for (source, f) in per_sensor.iter().filter(|(_, f)| !f.by_interval.is_empty()) {
        println!("\n{source}: missed per {} s interval, all seeds together", scenario.aggregation.interval_s);
        println!("\n| interval (s) | true | counted | missed |\n|---|---:|---:|---:|");
        for (i, (count, truth)) in &f.by_interval {
            let start = i * scenario.aggregation.interval_s;
            let missed = if *truth > 0.0 { (1.0 - count / truth) * 100.0 } else { 0.0 };
            println!("| {start}-{} | {truth} | {count} | {missed:.1} % |", start + scenario.aggregation.interval_s);
        }
    }
    Ok(())
}
