//! Properties every sensor model must have, on whole simulated runs.

use std::path::Path;

use super::*;

/// A 40 m street with lines on the north sidewalk and across the road, and
/// `sensors` appended.
fn scenario(pedestrians: u32, group_share: f32, cars: u32, duration_s: f32, sensors: &str) -> Scenario {
    let text = format!(
        r#"
[scenario]
name = "t"
seed = 11
duration_s = {duration_s}

[street]
length_m = 40.0
road_width_m = 7.0
sidewalk_width_m = 3.5

[pedestrians]
count = {pedestrians}
group_share = {group_share}

[vehicles]
count = {cars}

[[lines]]
id = "north"
from = [0.0, 3.5]
to = [0.0, 7.0]

[[lines]]
id = "road"
from = [-5.0, -3.5]
to = [-5.0, 3.5]

[[lines]]
id = "section"
from = [5.0, -7.0]
to = [5.0, 7.0]

[aggregation]
interval_s = 60
{sensors}
"#
    );
    let s = Scenario::parse(&text, Path::new("t.toml")).expect("parses");
    s.validate(&text, Path::new("t.toml")).expect("valid");
    s
}

const IR: &str =
    "[[sensors]]\nkind = \"passive_infrared\"\nid = \"ir\"\nline = \"north\"\nfalse_triggers_per_h = 0.0\n";

fn output<'a>(outputs: &'a [SensorOutput], id: &str) -> &'a SensorOutput {
    outputs.iter().find(|o| o.id == id).expect("sensor output")
}

/// Infrared undercount, 1 − counted / true, over three seeds.
fn ir_undercount(pedestrians: u32, group_share: f32) -> f32 {
    let (mut counted, mut truth) = (0usize, 0usize);
    for seed in 0..3 {
        let mut s = scenario(pedestrians, group_share, 0, 300.0, IR);
        s.scenario.seed = 100 + seed;
        let (crossings, outputs) = simulate(&s).expect("runs");
        counted += output(&outputs, "ir").counts.len();
        truth += crossings.iter().filter(|c| c.line == 0 && c.class == ObjectClass::Person).count();
    }
    assert!(truth > 50, "the runs should have crossings: {truth}");
    1.0 - counted as f32 / truth as f32
}

#[test]
fn infrared_undercount_grows_with_group_share() {
    let alone = ir_undercount(300, 0.0);
    let some = ir_undercount(300, 0.3);
    let many = ir_undercount(300, 0.7);
    assert!(alone < some && some < many, "undercount {alone} < {some} < {many}");
}

#[test]
fn infrared_undercount_grows_with_density() {
    let sparse = ir_undercount(100, 0.0);
    let dense = ir_undercount(900, 0.0);
    assert!(sparse < dense, "undercount sparse {sparse} < dense {dense}");
}

#[test]
fn loops_count_vehicles_in_their_lane_and_never_pedestrians() {
    let loops = "[[sensors]]\nkind = \"inductive_loop\"\nid = \"loop\"\nline = \"road\"\nposition = [-5.0, -1.75]\nmiss_rate = 0.0\n";
    let s = scenario(300, 0.3, 0, 120.0, loops);
    let (crossings, outputs) = simulate(&s).expect("runs");
    assert!(crossings.iter().any(|c| c.class == ObjectClass::Person), "people walk");
    assert!(output(&outputs, "loop").counts.is_empty(), "no car, no count, whatever the pedestrians do");
    let s = scenario(300, 0.3, 20, 120.0, loops);
    let (crossings, outputs) = simulate(&s).expect("runs");
    let counts = &output(&outputs, "loop").counts;
    let eastbound = crossings.iter().filter(|c| c.line == 1 && c.direction == Direction::Positive).count();
    assert!(eastbound > 0);
    assert_eq!(counts.len(), eastbound, "every eastbound car over the loop, no pedestrian");
    assert!(counts.iter().all(|c| c.class == ObjectClass::Car && c.direction == Direction::Positive));
}

#[test]
fn wifi_counts_scale_with_the_device_share() {
    let counts = |share: f32| {
        let wifi = format!(
            "[[sensors]]\nkind = \"wifi\"\nid = \"w\"\nline = \"section\"\nposition = [5.0, 6.8]\ndevice_share = {share}\ncalibration_share = 0.5\n"
        );
        let (_, outputs) = simulate(&scenario(400, 0.3, 10, 300.0, &wifi)).expect("runs");
        output(&outputs, "w").counts.len() as f32
    };
    let (low, mid, high) = (counts(0.2), counts(0.4), counts(0.8));
    assert!(low > 0.0 && low < mid && mid < high, "{low} < {mid} < {high}");
    let ratio = high / low;
    assert!((2.5..6.0).contains(&ratio), "four times the devices, about four times the count: {ratio}");
}

#[test]
fn manual_counts_cover_only_their_hours() {
    let manual =
        "[[sensors]]\nkind = \"manual\"\nid = \"m\"\nline = \"north\"\nwindows = [[60.0, 120.0], [180.0, 240.0]]\n";
    let s = scenario(400, 0.3, 0, 300.0, manual);
    let (crossings, outputs) = simulate(&s).expect("runs");
    let m = output(&outputs, "m");
    assert!(!m.counts.is_empty());
    assert!(m.counts.iter().all(|c| (60.0..120.0).contains(&c.time_s) || (180.0..240.0).contains(&c.time_s)));
    let inside = crossings
        .iter()
        .filter(|c| c.line == 0 && ((60.0..120.0).contains(&c.time_s) || (180.0..240.0).contains(&c.time_s)))
        .count();
    assert!(m.counts.len() <= inside && m.counts.len() * 10 >= inside * 8, "{} of {inside}", m.counts.len());
    assert_eq!(m.windows.as_deref(), Some(&[[60.0, 120.0], [180.0, 240.0]][..]), "the covered intervals");
}

/// One sensor of every kind (shared with the scenario and binary tests).
const ALL: &str = include_str!("../../tests/fixtures/every_sensor.toml");

fn all_sensors(seed: u64, sensors: &str) -> Vec<SensorOutput> {
    let mut s = scenario(300, 0.3, 15, 120.0, sensors);
    s.scenario.seed = seed;
    simulate(&s).expect("runs").1
}

#[test]
fn same_seed_same_output_and_another_seed_another() {
    let a = all_sensors(5, ALL);
    assert_eq!(a, all_sensors(5, ALL));
    let b = all_sensors(6, ALL);
    for id in ["ir", "th", "wifi", "bt", "man"] {
        assert_ne!(output(&a, id).counts, output(&b, id).counts, "sensor `{id}` should differ with the seed");
    }
}

#[test]
fn sensor_streams_are_keyed_by_id_not_file_position() {
    let a = all_sensors(5, ALL);
    // The same sensors, in reverse order in the file.
    let (zone, sensors) = ALL.split_at(ALL.find("[[sensors]]").expect("sensors"));
    let mut tables: Vec<&str> = sensors.split("[[sensors]]").filter(|t| !t.trim().is_empty()).collect();
    tables.reverse();
    let reversed = format!("{zone}[[sensors]]{}", tables.join("[[sensors]]"));
    let b = all_sensors(5, &reversed);
    assert_eq!(b.first().map(|o| o.id.as_str()), Some("man"), "the order did change");
    for o in &a {
        assert_eq!(o, output(&b, &o.id), "sensor `{}` moved in the file and changed", o.id);
    }
    // Renaming one sensor redraws its own randomness, and no one else's.
    let c = all_sensors(5, &ALL.replace("id = \"ir\"", "id = \"ir-2\""));
    assert_ne!(output(&a, "ir").counts, output(&c, "ir-2").counts);
    assert_eq!(output(&a, "th"), output(&c, "th"));
}

#[test]
fn parking_bays_fill_magnetometers_and_leave_runs_without_parking_untouched() {
    let mag = "[[sensors]]\nkind = \"parking_magnetometer\"\nid = \"mag\"\nposition = [3.0, -2.4]\n";
    let mut s = scenario(100, 0.3, 10, 600.0, mag);
    let (without, outputs) = simulate(&s).expect("runs");
    assert!(output(&outputs, "mag").occupancy.iter().all(|o| !o.truth_occupied), "no parking, no parked car");
    s.parking = Some(crate::scenario::ParkingSpec {
        side: crate::scenario::ParkingSide::South,
        bays: 3,
        first_x_m: 0.0,
        occupancy: 0.9,
        mean_stay_s: 300.0,
    });
    let (with, outputs) = simulate(&s).expect("runs");
    assert_eq!(without, with, "parked cars cross no line");
    let occ = &output(&outputs, "mag").occupancy;
    assert!(occ.iter().any(|o| o.truth_occupied), "a bay occupied 90 % of the time is occupied sometimes");
    let right = occ.iter().filter(|o| o.occupied == o.truth_occupied).count();
    assert!(right * 10 >= occ.len() * 8, "the magnetometer agrees with the bay in {right} of {}", occ.len());
}

#[test]
fn bluetooth_misses_fast_vehicles_more() {
    let bt = "[[sensors]]\nkind = \"bluetooth\"\nid = \"bt\"\nline = \"section\"\nposition = [5.0, -6.8]\n";
    let share = |speed: f32| {
        let mut s = scenario(50, 0.0, 150, 300.0, bt);
        s.street.length_m = 400.0;
        s.vehicles.speed_mean_mps = speed;
        let (_, outputs) = simulate(&s).expect("runs");
        let cars = output(&outputs, "bt").detected.iter().find(|d| d.class == ObjectClass::Car).copied();
        let cars = cars.expect("cars came within range");
        assert!(cars.in_range > 50, "{cars:?}");
        cars.detected as f32 / cars.in_range as f32
    };
    let (city, fast) = (share(8.3), share(25.0));
    assert!(fast < city * 0.8, "90 km/h {fast} against 30 km/h {city}");
}
