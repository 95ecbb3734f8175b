//! The deterministic simulation: pedestrians (collision-free walking, groups,
//! both directions on both sidewalks) and cars, advanced with a fixed time
//! step and seeded ChaCha randomness, plus ground-truth line crossings.
//!
//! Randomness is drawn per arrival unit from its own ChaCha stream, so adding
//! one pedestrian does not reshuffle everyone else.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::body::{self, GAIT_CYCLE_M, PersonLook, WALK_PHASES};
use crate::geometry::Instance;
use crate::scenario::{CountingLine, Scenario, SignalSpec};
use crate::street::{Side, StreetLayout};

pub use camtwin_vocab::{Direction, ObjectClass};

/// One ground-truth crossing of a counting line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crossing {
    /// Index of the line in the scenario's `lines`.
    pub line: usize,
    /// Which agent crossed.
    pub agent: u32,
    /// Its class.
    pub class: ObjectClass,
    /// When, seconds (interpolated within the step).
    pub time_s: f32,
    /// Which way.
    pub direction: Direction,
    /// Speed across the line, m/s.
    pub normal_speed: f32,
}

/// A well-mixed 64-bit hash of (seed, agent id) (SplitMix64's finaliser):
/// the draw that makes a pedestrian a child.
fn child_hash(seed: u64, id: u32) -> u64 {
    let mut z = seed ^ (u64::from(id) + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xc41d_c41d;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Where one agent is and how it is drawn at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentPose {
    /// Stable agent id.
    pub id: u32,
    /// Its class.
    pub class: ObjectClass,
    /// The mesh and its placement (the mesh key encodes the walk phase).
    pub instance: Instance,
    /// Body height, metres.
    pub height_m: f32,
}

impl AgentPose {
    /// The body (length, width, height) of a vehicle, metres, as drawn: what
    /// occludes, heats a thermal pixel or lies over a loop. Not meaningful
    /// for a person (a key that is no vehicle's gives the largest car).
    pub fn vehicle_size_m(&self) -> [f32; 3] {
        body::vehicle_size(self.instance.mesh).unwrap_or(body::MAX_CAR_SIZE)
    }

    /// Whether this agent is a child (a person shorter than
    /// [`body::CHILD_MAX_HEIGHT_M`]): children in view weigh on a camera's
    /// intrusiveness (domain brief §3, vulnerable people).
    pub fn is_child(&self) -> bool {
        self.class == ObjectClass::Person && self.height_m < body::CHILD_MAX_HEIGHT_M
    }
}

/// The world at one simulation step: the ground truth that cameras film.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Step index.
    pub step: u64,
    /// Simulated time, seconds.
    pub time_s: f32,
    /// Every agent in the modelled stretch.
    pub agents: Vec<AgentPose>,
}

impl Snapshot {
    /// What the renderer draws: every agent plus a contact shadow under each person.
    pub fn instances(&self) -> Vec<Instance> {
        self.drawn().map(|(instance, _)| instance).collect()
    }

    /// What the renderer draws, in the order of [`instances`](Self::instances),
    /// each with the agent it shows (`None` for a shadow): lets ground truth
    /// tag each agent's pixels in the renderer's id buffer.
    pub fn drawn(&self) -> impl Iterator<Item = (Instance, Option<u32>)> + '_ {
        self.agents.iter().flat_map(|a| {
            let shadow = (a.class == ObjectClass::Person).then(|| Instance {
                mesh: body::shadow_key(),
                translation: [a.instance.translation[0], a.instance.translation[1], 0.0],
                yaw_rad: a.instance.yaw_rad,
            });
            std::iter::once((a.instance, Some(a.id))).chain(shadow.map(|s| (s, None)))
        })
    }
}

#[derive(Debug, Clone)]
struct Pedestrian {
    id: u32,
    pos: [f32; 2],
    /// Unit vector of the way the body faces and walks (kept while it
    /// stands, so that a walker held up keeps its heading).
    facing: [f32; 2],
    speed: f32,
    dir: f32,
    side: Side,
    lane_y: f32,
    look: PersonLook,
    gait_m: f32,
    /// Leader's id and lateral offset from it, for group members.
    follow: Option<(u32, f32)>,
    group: u32,
    /// Where a group's leader will stop and wait, in the order it walks
    /// past them (empty for most walkers and every follower).
    stops: Vec<Stop>,
    /// While its leader waits at a stop: until when, seconds.
    wait_until: Option<f32>,
    /// Standing still with its group at a stop: drawn standing, facing the
    /// road.
    halted: bool,
    /// For a group's leader: until when the group walks in file, seconds
    /// (see [`FILE_LOOKAHEAD_M`]).
    file_until: f32,
}

/// One stop of a walker in a zone where people wait.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stop {
    /// The point it stands on.
    at: [f32; 2],
    /// How long it stands, seconds.
    dwell_s: f32,
}

/// Lateral distance between companions walking side by side, centre to
/// centre, metres (an assumption: a shoulder width and a little more).
const GROUP_SPACING_M: f32 = 0.65;

/// How far ahead a group walking abreast looks for someone coming the
/// other way (or standing) across its width, metres. Groups walk abreast
/// where there is room and fall into file, one behind the other, in
/// counterflow or where others block the sidewalk (the V- and river-like
/// formations of Moussaïd, Perozo, Garnier, Helbing & Theraulaz, "The
/// walking behaviour of pedestrian social groups and its impact on crowd
/// dynamics", PLoS ONE 5(4), e10047, 2010). About two seconds at the
/// closing speed of two walkers (an assumption).
const FILE_LOOKAHEAD_M: f32 = 5.0;

/// How long a group stays in file after the last walker it made way for,
/// seconds (an assumption), so that it does not fan out between two
/// oncoming walkers a step apart.
const FILE_HOLD_S: f32 = 2.0;

/// Distance between companions walking in file, centre to centre, metres
/// (an assumption: a step and a half; the collision-free model then sets
/// the follower's own gap from its speed).
const FILE_GAP_M: f32 = 1.0;

/// Lateral margin beyond a group's outer members within which a walker
/// ahead is in its way, metres: a body's width and a little room.
const FILE_MARGIN_M: f32 = 0.5;

/// A companion of a group that stops stands once it is no more than this
/// far behind its leader, metres; until then it walks up.
const HALT_BESIDE_M: f32 = 0.3;

/// Walkers slow down for a stop from this far before it, metres.
const STOP_APPROACH_M: f32 = 3.0;

/// Salt of the stream that decides who waits where, apart from every other
/// draw: a scenario without waiting zones keeps every walker unchanged.
const WAIT_SALT: u64 = 0x5741_4954_5354_4f50;

/// Points on a 0.25 m grid inside `zone` where a walker can stand: on a
/// sidewalk, at least 0.45 m from its edges and 1 m from the street's ends.
/// Each comes with its sidewalk.
pub fn wait_point_candidates<'a>(
    zone: &'a crate::scenario::ZoneSpec,
    layout: &'a StreetLayout,
) -> impl Iterator<Item = ([f32; 2], Side)> + 'a {
    const GRID: f32 = 0.25;
    const MARGIN: f32 = 0.45;
    zone.grid(GRID).filter(|p| p[0].abs() <= layout.half_length - 1.0).filter_map(|p| {
        [Side::North, Side::South].into_iter().find_map(|side| {
            let (lo, hi) = layout.sidewalk_band(side);
            (p[1] >= lo + MARGIN && p[1] <= hi - MARGIN).then_some((p, side))
        })
    })
}

#[derive(Debug, Clone)]
struct Car {
    id: u32,
    x: f32,
    lane_y: f32,
    dir: f32,
    speed: f32,
    desired: f32,
    paint: u8,
    /// Index into the fleet ([`body::vehicle_model`]): a car model, or a van, bus, lorry or motorcycle.
    model: u8,
}

impl Car {
    /// Body length, metres.
    fn length_m(&self) -> f32 {
        body::car_size(self.model)[0]
    }

    /// Its class (car, truck, bus or motorcycle).
    fn class(&self) -> ObjectClass {
        body::vehicle_model(self.model).kind.class()
    }
}

/// Lets `car` into the street behind the last car of its lane: when that
/// one is still too close (or, for the cars on the street at the start,
/// ahead), the newcomer queues behind it at no more than its speed, rather
/// than appearing inside it.
fn queue_into(cars: &mut Vec<Car>, mut car: Car) {
    let last = cars.iter().filter(|o| o.dir == car.dir).min_by(|a, b| (a.x * a.dir).total_cmp(&(b.x * b.dir)));
    if let Some(o) = last {
        let room = 0.5 * (car.length_m() + o.length_m()) + 2.0;
        if (o.x - car.x) * car.dir < room {
            car.x = o.x - car.dir * room;
            car.speed = car.speed.min(o.speed);
        }
    }
    cars.push(car);
}

/// Lets walker `p` into the street: when a body of another group stands
/// where it would appear, it appears that much further back (the street's
/// end is off every camera), rather than inside someone.
fn enter_walker(peds: &mut Vec<Pedestrian>, mut p: Pedestrian) {
    let clear = 2.0 * walk::RADIUS + 0.05;
    for _ in 0..40 {
        let blocked = peds.iter().any(|q| {
            q.side == p.side && q.group != p.group && {
                let d = [q.pos[0] - p.pos[0], q.pos[1] - p.pos[1]];
                d[0] * d[0] + d[1] * d[1] < clear * clear
            }
        });
        if !blocked {
            break;
        }
        p.pos[0] -= p.dir * 0.25;
    }
    peds.push(p);
}

#[derive(Debug, Clone)]
enum Arrival {
    Ped(Pedestrian),
    Car(Car),
}

/// Names how this simulation moves and poses agents. Part of the key of
/// cached footage (with the renderer's version), so that footage rendered
/// from an older simulation is never replayed against a newer one's ground
/// truth: the scenario and seed alone do not say where people walk once the
/// motion code changes. Change it with any change to where agents are, how
/// they are posed or which mesh draws them (a change to a mesh's shape is
/// the renderer's, `RENDERER_VERSION` in the binary's cache); the test
/// `the_simulation_moves_as_its_version_says` fails until the version and
/// the recorded digest of a reference run are changed together.
pub const SIMULATION_VERSION: &str = "camtwin-sim/2026-12-07-groups-in-file";

/// The running simulation.
#[derive(Debug, Clone)]
pub struct Simulation {
    layout: StreetLayout,
    lines: Vec<CountingLine>,
    dt: f32,
    step: u64,
    /// Arrivals not yet in the street, sorted by their step, latest first.
    pending: Vec<(u64, Arrival)>,
    peds: Vec<Pedestrian>,
    cars: Vec<Car>,
    crossings: Vec<Crossing>,
    /// Every parked car's stay, planned at the start (empty without parking).
    parked: Vec<ParkedStay>,
    /// Traffic signals (stop lines).
    signals: Vec<SignalSpec>,
    /// Largest acceleration of a car, m/s² (`None`: speeds change at once).
    max_accel: Option<f32>,
    /// Whether any zone has people wait in it.
    waiting: bool,
    /// Steps of the warm-up ([`crate::scenario::ScenarioHeader::warm_up_s`]):
    /// `step` counts from the warm-up's start, time zero is this step.
    origin: u64,
}

/// Hardest braking, m/s², with which a car still stops for a signal turning
/// red; a car that would need more goes on through (the amber dilemma
/// zone). 3 m/s² is a common design value for comfortable deceleration
/// (ITE's 10 ft/s², about 3.0 m/s², in the amber-interval formula); an
/// assumption here, not fitted.
pub const SIGNAL_BRAKE_MPS2: f32 = 3.0;

/// Where a car waiting on red stops: its front this far before the line, m.
const STOP_LINE_SETBACK_M: f32 = 1.0;

/// One parked car's stay in one bay.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ParkedStay {
    id: u32,
    centre: [f32; 2],
    yaw_rad: f32,
    from_s: f32,
    until_s: f32,
    paint: u8,
    /// Index into [`body::CAR_MODELS`].
    model: u8,
}

/// First id of parked cars (moving cars start at 1,000,000).
const PARKED_ID_BASE: u32 = 3_000_000;

/// Plans the stays in every bay: an alternation of occupied and free
/// periods with exponential lengths whose means give the bay's long-run
/// occupancy, each bay from its own stream of the seed.
fn plan_parking(scenario: &Scenario, layout: &StreetLayout) -> Vec<ParkedStay> {
    let Some(spec) = &scenario.parking else { return Vec::new() };
    let duration = scenario.scenario.duration_s;
    let mean_free = spec.mean_stay_s * (1.0 - spec.occupancy) / spec.occupancy.max(1e-3);
    let exp = |rng: &mut ChaCha8Rng, mean: f32| -mean * (1.0 - rng.random::<f32>()).max(1e-9).ln();
    let mut out = Vec::new();
    for bay in 0..spec.bays {
        let mut rng = ChaCha8Rng::seed_from_u64(scenario.scenario.seed ^ 0x0BA7_5EED);
        rng.set_stream(u64::from(bay));
        let centre = spec.bay_centre(bay, layout.half_road);
        // Parked with the traffic of the adjacent lane.
        let yaw_rad = if centre[1] < 0.0 { 0.0 } else { std::f32::consts::PI };
        let mut occupied = rng.random::<f32>() < spec.occupancy;
        // Start part-way through a period.
        let mut t = -exp(&mut rng, if occupied { spec.mean_stay_s } else { mean_free });
        for k in 0..1000u32 {
            if t >= duration {
                break;
            }
            let len = exp(&mut rng, if occupied { spec.mean_stay_s } else { mean_free });
            if occupied {
                out.push(ParkedStay {
                    id: PARKED_ID_BASE + bay * 1000 + k,
                    centre,
                    yaw_rad,
                    from_s: t,
                    until_s: t + len,
                    paint: rng.random_range(0..6),
                    model: body::car_model_for(rng.random()),
                });
            }
            t += len;
            occupied = !occupied;
        }
    }
    out
}

/// The walkers' model: the collision-free speed model of Tordeux, Chraibi
/// & Seyfried ("Collision-free speed model for pedestrian dynamics",
/// Traffic and Granular Flow '15, 2016, arXiv:1512.05597), a first-order
/// model chosen because a walker's speed along its way never turns negative
/// and bodies never overlap, where the social force of Helbing & Molnár
/// (1995) pushed walkers back by up to a metre when someone came the other
/// way (docs/PERFORMANCE.md, "Walkers who step back"). Each step a walker
/// takes a direction (its wish, plus an exponential repulsion from each
/// neighbour and from the sidewalk's edges) and a speed
/// `min(v0, max(0, (s - ℓ) / T))` from the distance `s` to the nearest
/// body across its path. Strengths, ranges, time gap and radius are
/// JuPedSim's defaults for the model; the turning time is the reaction
/// time of the anticipation velocity model (Xu, Chraibi & Seyfried, Phys.
/// Rev. E 103, 043302, 2021), so that bodies turn smoothly on screen.
mod walk {
    /// Time gap kept to the body ahead (T), s.
    pub const TIME_GAP_S: f32 = 1.0;
    /// Body radius, m: two bodies touch at twice this (ℓ).
    pub const RADIUS: f32 = 0.2;
    /// Neighbour repulsion strength (a), against a wish of 1.
    pub const A: f32 = 8.0;
    /// Neighbour repulsion range (D), m.
    pub const D: f32 = 0.1;
    /// Repulsion range between companions of a group, m: half the range
    /// between strangers (an assumption), so that walking side by side at
    /// [`super::GROUP_SPACING_M`] they hardly push each other, yet one
    /// behind the other they turn aside instead of blocking.
    pub const D_COMPANION: f32 = 0.05;
    /// Repulsion strength of the sidewalk's edges.
    pub const A_WALL: f32 = 5.0;
    /// Repulsion range of the sidewalk's edges, m.
    pub const D_WALL: f32 = 0.02;
    /// Weight of people behind against people ahead (the anisotropy of
    /// Helbing et al., Nature 407, 2000), so that one is steered by what
    /// one sees.
    pub const LAMBDA: f32 = 0.35;
    /// Time over which a walker turns to a new direction, s.
    pub const TURN_S: f32 = 0.3;
    /// Pull to the side of a walker coming up on someone standing in its
    /// lane, against a wish of 1.
    pub const SIDESTEP: f32 = 1.0;
    /// Lateral room kept when passing someone coming the other way, beyond
    /// touching, m (an assumption).
    pub const PASS_ROOM_M: f32 = 0.2;
    /// Pull to the side when someone coming the other way within the
    /// neighbour range would pass closer than that, against a wish of 1.
    /// Walkers anticipate such encounters seconds ahead (Karamouzas,
    /// Skinner & Guy, "Universal power law governing pedestrian
    /// interactions", Phys. Rev. Lett. 113, 238701, 2014: interactions
    /// depend on the time to collision, not on distance), where the
    /// model's distance-based repulsion, a tenth of a metre in range, acts
    /// only once bodies nearly touch and both had slowed to a crawl.
    pub const PASS_STEER: f32 = 0.5;
}

/// Range beyond which people do not push each other, metres: the grid cell
/// width of the neighbour search.
const NEIGHBOUR_RANGE_M: f32 = 3.0;

/// A zone where people wait: its index (the stream of its draws), its
/// spec, and the points where one can stand on the north and on the south
/// sidewalk.
type WaitingZone<'a> = (u64, &'a crate::scenario::WaitSpec, [Vec<[f32; 2]>; 2]);

/// The stops of the group led by `group`: in each waiting zone with
/// standing points on its sidewalk still ahead of it, it stops with the
/// zone's share, at a point and for a dwell drawn from a stream of its own.
fn plan_stops(seed: u64, group: u32, side: Side, dir: f32, start_x: f32, waits: &[WaitingZone<'_>]) -> Vec<Stop> {
    let mut stops = Vec::new();
    for (zone, wait, points) in waits {
        let mut rng = ChaCha8Rng::seed_from_u64(child_hash(seed ^ WAIT_SALT, group));
        rng.set_stream(*zone);
        let (u, pick, d) = (rng.random::<f32>(), rng.random::<f64>(), rng.random::<f32>());
        let mine = &points[usize::from(side == Side::South)];
        if u >= wait.share || mine.is_empty() {
            continue;
        }
        let at = mine[((pick * mine.len() as f64) as usize).min(mine.len() - 1)];
        if dir * (at[0] - start_x) > 0.5 {
            stops.push(Stop { at, dwell_s: wait.dwell_s[0] + d * (wait.dwell_s[1] - wait.dwell_s[0]) });
        }
    }
    stops.sort_by(|a, b| (dir * a.at[0]).total_cmp(&(dir * b.at[0])));
    stops
}

fn normal(rng: &mut ChaCha8Rng, mean: f32, sd: f32) -> f32 {
    // Box-Muller transform.
    let u1: f32 = rng.random::<f32>().max(1e-7);
    let u2: f32 = rng.random();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

impl Simulation {
    /// Plans every arrival from the scenario seed and places those already
    /// walking at time zero.
    pub fn new(scenario: &Scenario) -> Self {
        let layout = StreetLayout::new(&scenario.street);
        let step_hz = scenario.scenario.step_hz as f32;
        let dt = 1.0 / step_hz;
        let duration = scenario.scenario.duration_s;
        let seed = scenario.scenario.seed;
        let demand = &scenario.pedestrians;
        let length = layout.half_length * 2.0;
        // The simulation starts `warm_steps` before time zero (the warm-up),
        // at time `start`; arrivals are keyed by steps from there.
        let warm_steps = (scenario.scenario.warm_up_s * step_hz).round() as u64;
        let start = 0.0 - warm_steps as f32 / step_hz;
        let mut pending = Vec::new();
        let mut initial = Vec::new();
        let mut next_id = 0u32;
        // Zones where people wait: their spec and standing points per side.
        let waits: Vec<WaitingZone<'_>> = scenario
            .zones
            .iter()
            .enumerate()
            .filter_map(|(i, z)| {
                let w = z.wait.as_ref()?;
                let mut points = [Vec::new(), Vec::new()];
                for (p, side) in wait_point_candidates(z, &layout) {
                    points[usize::from(side == Side::South)].push(p);
                }
                Some((i as u64, w, points))
            })
            .collect();
        let waiting = !waits.is_empty();
        let mut unit = 0u64;
        while next_id < demand.count {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(unit);
            unit += 1;
            let size = if rng.random::<f32>() < demand.group_share {
                if rng.random::<f32>() < 0.7 { 2 } else { 3 }
            } else {
                1
            };
            let size = size.min(demand.count - next_id);
            let side = if rng.random::<bool>() { Side::North } else { Side::South };
            let dir = if rng.random::<bool>() { 1.0 } else { -1.0 };
            let speed = normal(&mut rng, demand.speed_mean_mps, demand.speed_sd_mps).clamp(0.6, 2.2);
            let (lo, hi) = layout.sidewalk_band(side);
            let span = (size - 1) as f32 * GROUP_SPACING_M;
            let margin = 0.45;
            let lane_y = lo + margin + span / 2.0 + rng.random::<f32>() * (hi - lo - 2.0 * margin - span).max(0.0);
            // Spawn time: from "already crossed part of the street" to the end.
            let cross_time = length / speed;
            let t0 = -cross_time + rng.random::<f32>() * (duration + cross_time);
            let start_x = -dir * layout.half_length + dir * speed * (start - t0).max(0.0);
            let group = next_id;
            let stops = plan_stops(seed, group, side, dir, start_x, &waits);
            for k in 0..size {
                let offset = (k as f32 - (size - 1) as f32 / 2.0) * GROUP_SPACING_M;
                let look =
                    PersonLook::from_random([rng.random(), rng.random(), rng.random(), rng.random(), rng.random()]);
                // Children are drawn from a stream of their own, so a scenario
                // without children keeps every other draw unchanged.
                let child_draw = child_hash(scenario.scenario.seed, next_id);
                let look = if ((child_draw >> 11) as f64 / (1u64 << 53) as f64)
                    < f64::from(scenario.pedestrians.child_share)
                {
                    look.as_child(child_draw as u32)
                } else {
                    look
                };
                let ped = Pedestrian {
                    id: next_id,
                    pos: [start_x - dir * 0.15 * k as f32, lane_y + offset],
                    facing: [dir, 0.0],
                    speed,
                    dir,
                    side,
                    lane_y: lane_y + offset,
                    look,
                    gait_m: rng.random::<f32>() * GAIT_CYCLE_M,
                    follow: (k > 0).then_some((group, k as f32 * GROUP_SPACING_M)),
                    group,
                    stops: if k == 0 { stops.clone() } else { Vec::new() },
                    wait_until: None,
                    halted: false,
                    file_until: f32::NEG_INFINITY,
                };
                next_id += 1;
                if t0 <= start {
                    initial.push(ped);
                } else {
                    pending.push((((t0 - start) * step_hz).round() as u64, Arrival::Ped(ped)));
                }
            }
        }
        let mut on_street = Vec::new();
        for i in 0..scenario.vehicles.count {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x00C0_FFEE);
            rng.set_stream(i as u64);
            let dir = if rng.random::<bool>() { 1.0 } else { -1.0 };
            // Draws in the order they always had: a scenario without
            // bicycles draws the same traffic.
            let pace = 0.85 + 0.3 * rng.random::<f32>();
            let arrival: f32 = rng.random();
            let paint = rng.random_range(0..6);
            let model = scenario.vehicles.model_for(rng.random());
            let cyclist = body::vehicle_model(model).kind == body::VehicleKind::Bicycle;
            let desired = if cyclist { body::BICYCLE_SPEED_MPS } else { scenario.vehicles.speed_mean_mps } * pace;
            let t0 = -length / desired + arrival * (duration + length / desired);
            let car = Car {
                id: 1_000_000 + i,
                x: -dir * (layout.half_length + 5.0) + dir * desired * (start - t0).max(0.0),
                // Right-hand traffic: eastbound on the south lane.
                lane_y: -dir * layout.half_road / 2.0,
                dir,
                speed: desired,
                desired,
                paint,
                model,
            };
            if t0 <= start {
                on_street.push(car);
            } else {
                pending.push((((t0 - start) * step_hz).round() as u64, Arrival::Car(car)));
            }
        }
        // The cars already on the street, the furthest along first.
        on_street.sort_by(|a, b| (b.x * b.dir).total_cmp(&(a.x * a.dir)).then(a.id.cmp(&b.id)));
        let mut cars = Vec::new();
        for car in on_street {
            queue_into(&mut cars, car);
        }
        pending.sort_by_key(|(s, a)| {
            let id = match a {
                Arrival::Ped(p) => p.id,
                Arrival::Car(c) => c.id,
            };
            std::cmp::Reverse((*s, id))
        });
        let parked = plan_parking(scenario, &layout);
        let mut sim = Self {
            layout,
            lines: scenario.lines.clone(),
            dt,
            step: 0,
            pending,
            peds: initial,
            cars,
            crossings: Vec::new(),
            parked,
            signals: scenario.vehicles.signals.clone(),
            max_accel: scenario.vehicles.max_accel_mps2,
            waiting,
            origin: warm_steps,
        };
        // The warm-up: nobody sees these steps, and their crossings (at
        // negative times) are no one's to count.
        while sim.step < sim.origin {
            sim.step();
        }
        sim.crossings.clear();
        sim
    }

    /// Current step index.
    pub fn step_index(&self) -> u64 {
        self.step.saturating_sub(self.origin)
    }

    /// Current simulated time, seconds.
    pub fn time_s(&self) -> f32 {
        (self.step as f32 - self.origin as f32) * self.dt
    }

    /// The street this simulation runs on.
    pub fn layout(&self) -> &StreetLayout {
        &self.layout
    }

    /// Every ground-truth line crossing so far, in time order.
    pub fn crossings(&self) -> &[Crossing] {
        &self.crossings
    }

    /// Advances the world by one fixed time step.
    pub fn step(&mut self) {
        self.step += 1;
        while self.pending.last().is_some_and(|(s, _)| *s <= self.step) {
            if let Some((_, arrival)) = self.pending.pop() {
                match arrival {
                    Arrival::Ped(p) => enter_walker(&mut self.peds, p),
                    Arrival::Car(c) => queue_into(&mut self.cars, c),
                }
            }
        }
        let before: Vec<[f32; 2]> = self.peds.iter().map(|p| p.pos).collect();
        self.move_pedestrians();
        let t1 = self.time_s();
        let t0 = t1 - self.dt;
        for (p, from) in self.peds.iter().zip(before) {
            record_crossings(&self.lines, &mut self.crossings, p.id, ObjectClass::Person, from, p.pos, t0, self.dt);
        }
        let car_before: Vec<[f32; 2]> = self.cars.iter().map(|c| [c.x, c.lane_y]).collect();
        self.move_cars();
        for (c, from) in self.cars.iter().zip(car_before) {
            record_crossings(&self.lines, &mut self.crossings, c.id, c.class(), from, [c.x, c.lane_y], t0, self.dt);
        }
        let limit = self.layout.half_length + 0.5;
        self.peds.retain(|p| p.pos[0] * p.dir <= limit);
        self.cars.retain(|c| c.x * c.dir <= limit + 10.0);
    }

    /// Starts and ends the waits of leaders at their stops, and says what
    /// each group that waits or is about to wants: (speed along x, lane y).
    /// Marks every member of a waiting group as halted.
    fn follow_stops(&mut self) -> std::collections::HashMap<u32, (f32, f32)> {
        let now = self.time_s();
        let mut intent = std::collections::HashMap::new();
        let mut standing = std::collections::HashSet::new();
        for p in self.peds.iter_mut().filter(|p| !p.stops.is_empty()) {
            if p.wait_until.is_some_and(|t| now >= t) {
                p.stops.remove(0);
                p.wait_until = None;
            }
            let Some(stop) = p.stops.first().copied() else { continue };
            let ahead = p.dir * (stop.at[0] - p.pos[0]);
            if p.wait_until.is_none() && ahead <= 0.1 {
                p.wait_until = Some(now + stop.dwell_s);
            }
            if p.wait_until.is_some() {
                // Hold the spot against the jostling of passers-by.
                intent.insert(p.group, ((0.8 * (stop.at[0] - p.pos[0])).clamp(-0.5, 0.5), stop.at[1]));
                standing.insert(p.group);
            } else if ahead < STOP_APPROACH_M {
                intent.insert(p.group, (p.dir * p.speed.min(0.2 + 0.6 * ahead), stop.at[1]));
            }
        }
        // A companion still walking up stands once beside its leader.
        let leaders: std::collections::HashMap<u32, f32> =
            self.peds.iter().filter(|p| p.follow.is_none()).map(|p| (p.group, p.pos[0])).collect();
        for p in &mut self.peds {
            let caught_up =
                p.follow.is_none() || leaders.get(&p.group).is_none_or(|&x| p.dir * (x - p.pos[0]) < HALT_BESIDE_M);
            p.halted = standing.contains(&p.group) && (p.halted || caught_up);
        }
        intent
    }

    /// The groups that walk in file this step, each with the lane they line
    /// up in: the lane of the member furthest to the right of their way, so
    /// that those coming the other way pass on their left. A group of two or
    /// three walking abreast falls into file when someone ahead within
    /// [`FILE_LOOKAHEAD_M`] comes the other way or stands across its width,
    /// and fans out again [`FILE_HOLD_S`] after the last. A group waiting
    /// at a stop (in `intent`) keeps its place.
    fn file_lanes(
        &mut self,
        grid: &std::collections::HashMap<(i64, Side), Vec<usize>>,
        intent: &std::collections::HashMap<u32, (f32, f32)>,
    ) -> std::collections::HashMap<u32, f32> {
        let now = self.time_s();
        // Each group's width: its outermost companion's offset from the leader.
        let mut width: std::collections::HashMap<u32, f32> = std::collections::HashMap::new();
        for p in &self.peds {
            if let Some((_, offset)) = p.follow {
                let w = width.entry(p.group).or_insert(0.0);
                *w = w.max(offset);
            }
        }
        let reach = (FILE_LOOKAHEAD_M / NEIGHBOUR_RANGE_M).ceil() as i64;
        let mut blocked = Vec::new();
        for (i, p) in self.peds.iter().enumerate() {
            let Some(&w) = width.get(&p.group) else { continue };
            if p.follow.is_some() || p.halted || intent.contains_key(&p.group) {
                continue;
            }
            let (lo, hi) = (p.lane_y - FILE_MARGIN_M, p.lane_y + w + FILE_MARGIN_M);
            let cx = (p.pos[0] / NEIGHBOUR_RANGE_M).floor() as i64;
            let in_way = (-reach..=reach).flat_map(|dx| grid.get(&(cx + dx, p.side)).into_iter().flatten()).any(|&j| {
                let q = &self.peds[j];
                let ahead = p.dir * (q.pos[0] - p.pos[0]);
                q.group != p.group
                    && (q.halted || q.dir != p.dir)
                    && ahead > 0.0
                    && ahead <= FILE_LOOKAHEAD_M
                    && (lo..=hi).contains(&q.pos[1])
            });
            if in_way {
                blocked.push(i);
            }
        }
        for i in blocked {
            self.peds[i].file_until = now + FILE_HOLD_S;
        }
        self.peds
            .iter()
            .filter(|p| p.follow.is_none() && now < p.file_until && !intent.contains_key(&p.group))
            .filter_map(|p| {
                let w = *width.get(&p.group)?;
                // Right of the way: south walking east, north walking west.
                Some((p.group, if p.dir > 0.0 { p.lane_y } else { p.lane_y + w }))
            })
            .collect()
    }

    /// Moves every walker by the collision-free speed model (see [`walk`]):
    /// a direction from the wish to go on, the lane, neighbours and the
    /// sidewalk's edges; a speed from the room ahead in that direction.
    fn move_pedestrians(&mut self) {
        let intent = if self.waiting { self.follow_stops() } else { Default::default() };
        let n = self.peds.len();
        let mut moves = Vec::with_capacity(n);
        // Neighbours within the interaction range, from a grid of cells as
        // wide as that range; visited in index order, so the sums add up
        // exactly as a scan of everyone would.
        let cell_of = |p: &Pedestrian| ((p.pos[0] / NEIGHBOUR_RANGE_M).floor() as i64, p.side);
        let mut grid: std::collections::HashMap<(i64, Side), Vec<usize>> = std::collections::HashMap::new();
        for (j, q) in self.peds.iter().enumerate() {
            grid.entry(cell_of(q)).or_default().push(j);
        }
        let index_of: std::collections::HashMap<u32, usize> =
            self.peds.iter().enumerate().map(|(j, q)| (q.id, j)).collect();
        let file = self.file_lanes(&grid, &intent);
        let turn = (self.dt / walk::TURN_S).min(1.0);
        let mut near = Vec::new();
        for (i, p) in self.peds.iter().enumerate() {
            let mut desired = [p.dir * p.speed, 0.0];
            let mut lane = p.lane_y;
            let file_lane = file.get(&p.group).copied();
            if let Some(&(vx, y)) = intent.get(&p.group) {
                desired[0] = vx;
                if p.follow.is_none() {
                    lane = y;
                }
            } else if let Some(y) = file_lane {
                lane = y;
            }
            if let Some((leader, offset)) = p.follow
                && let Some(l) = index_of.get(&leader).map(|&j| &self.peds[j])
            {
                if let Some(y) = file_lane {
                    // In file: the k-th companion drops back to k places
                    // behind the leader; one already ahead of it walks on
                    // in front, at the group's pace.
                    lane = y;
                    if p.dir * (l.pos[0] - p.pos[0]) > 0.0 {
                        // Dropping back at no less than half the pace.
                        let behind = offset / GROUP_SPACING_M * FILE_GAP_M;
                        let pull = desired[0] + 0.8 * (l.pos[0] - p.dir * behind - p.pos[0]);
                        desired[0] = p.dir * (p.dir * pull).max(0.5 * p.speed);
                    }
                } else {
                    // Walk beside the leader: match its progress and keep the offset.
                    lane = l.pos[1] + offset;
                    desired[0] += 0.8 * (l.pos[0] - p.pos[0]);
                }
            }
            if !p.halted {
                // Ahead of one's leader, one waits for it rather than walk back.
                desired[0] = p.dir * (p.dir * desired[0]).max(0.0);
            }
            desired[1] = 0.6 * (lane - p.pos[1]);
            let wish = (desired[0] * desired[0] + desired[1] * desired[1]).sqrt();
            let v0 = wish.min(1.3 * p.speed);
            let mut e = if wish > 1e-6 { [desired[0] / wish, desired[1] / wish] } else { [0.0, 0.0] };
            let heading = [p.dir, 0.0];
            let (cx, side) = cell_of(p);
            near.clear();
            for dx in -1..=1 {
                near.extend(grid.get(&(cx + dx, side)).into_iter().flatten().copied());
            }
            near.sort_unstable();
            let contact = 2.0 * walk::RADIUS;
            for &j in &near {
                let q = &self.peds[j];
                if i == j || q.side != p.side {
                    continue;
                }
                let d = [p.pos[0] - q.pos[0], p.pos[1] - q.pos[1]];
                let dist = (d[0] * d[0] + d[1] * d[1]).sqrt();
                if !(1e-4..=NEIGHBOUR_RANGE_M).contains(&dist) {
                    continue;
                }
                let nrm = [d[0] / dist, d[1] / dist];
                // Companions walk close: their repulsion has a shorter range.
                let range = if q.group == p.group { walk::D_COMPANION } else { walk::D };
                let strength = walk::A * ((contact - dist) / range).exp();
                // People ahead matter more than people behind.
                let cos = -(nrm[0] * heading[0] + nrm[1] * heading[1]);
                let w = walk::LAMBDA + (1.0 - walk::LAMBDA) * (1.0 + cos) / 2.0;
                e[0] += strength * w * nrm[0];
                e[1] += strength * w * nrm[1];
                if q.halted && !p.halted && cos > 0.3 && dist < 1.5 && d[1].abs() < 0.6 {
                    // Step round someone standing in the way, on the side
                    // already leaned to (the sidewalk's middle when square).
                    let (lo, hi) = self.layout.sidewalk_band(p.side);
                    let away = if d[1].abs() > 0.02 { d[1].signum() } else { ((lo + hi) / 2.0 - q.pos[1]).signum() };
                    e[1] += walk::SIDESTEP * away;
                } else if !q.halted
                    && cos > 0.5
                    && d[1].abs() < contact + walk::PASS_ROOM_M
                    && (q.dir != p.dir || (q.group != p.group && q.speed < p.speed))
                {
                    // Someone coming the other way, or slower ahead, on a
                    // course that brushes: edge away well before meeting;
                    // when square, keep to the right of someone coming and
                    // overtake on the left.
                    let square = if q.dir != p.dir { -p.dir } else { p.dir };
                    let away = if d[1].abs() > 0.1 { d[1].signum() } else { square };
                    e[1] += walk::PASS_STEER * away;
                }
            }
            let (lo, hi) = self.layout.sidewalk_band(p.side);
            e[1] += walk::A_WALL * ((walk::RADIUS - (p.pos[1] - lo)) / walk::D_WALL).exp();
            e[1] -= walk::A_WALL * ((walk::RADIUS - (hi - p.pos[1])) / walk::D_WALL).exp();
            if !p.halted && e[0] * p.dir < 0.0 {
                // Nobody walks backwards: pressed from ahead, one steps aside.
                e[0] = 0.0;
            }
            // Turn towards that direction over the turning time.
            let mut facing = [p.facing[0] + turn * (e[0] - p.facing[0]), p.facing[1] + turn * (e[1] - p.facing[1])];
            let norm = (facing[0] * facing[0] + facing[1] * facing[1]).sqrt();
            if norm > 1e-6 {
                facing = [facing[0] / norm, facing[1] / norm];
            } else {
                facing = p.facing;
            }
            // The room ahead: the nearest body whose disc lies across the path.
            let mut room = f32::INFINITY;
            for &j in &near {
                let q = &self.peds[j];
                if i == j || q.side != p.side {
                    continue;
                }
                let d = [q.pos[0] - p.pos[0], q.pos[1] - p.pos[1]];
                let along = d[0] * facing[0] + d[1] * facing[1];
                let across = (d[0] * facing[1] - d[1] * facing[0]).abs();
                if along > 0.0 && across < contact {
                    room = room.min((d[0] * d[0] + d[1] * d[1]).sqrt());
                }
            }
            let speed = v0.min(((room - contact) / walk::TIME_GAP_S).max(0.0));
            moves.push((facing, speed));
        }
        let dt = self.dt;
        for (p, (facing, speed)) in self.peds.iter_mut().zip(moves) {
            p.facing = facing;
            let vel = [facing[0] * speed, facing[1] * speed];
            p.pos[0] += vel[0] * dt;
            p.pos[1] += vel[1] * dt;
            let (lo, hi) = self.layout.sidewalk_band(p.side);
            p.pos[1] = p.pos[1].clamp(lo + walk::RADIUS, hi - walk::RADIUS);
            p.gait_m += speed * dt;
        }
    }

    fn move_cars(&mut self) {
        let n = self.cars.len();
        let now = self.time_s();
        let mut speeds = Vec::with_capacity(n);
        for c in &self.cars {
            // Follow the nearest car ahead in the same lane: keep a 2 s headway.
            let ahead = self
                .cars
                .iter()
                .filter(|o| o.id != c.id && o.dir == c.dir && (o.x - c.x) * c.dir > 0.0)
                .map(|o| ((o.x - c.x) * c.dir, o.speed, o.length_m()))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            let mut v = c.desired;
            if let Some((gap, v_ahead, ahead_length)) = ahead {
                let free_gap = gap - 0.5 * (c.length_m() + ahead_length) - 2.0;
                v = v.min((free_gap / 2.0).max(0.0)).min(v_ahead.max(free_gap / 2.0));
            }
            // A red stop line ahead: brake evenly to stand just before it,
            // unless that would take harder braking than SIGNAL_BRAKE_MPS2
            // (then go on through, as on amber).
            let front = c.x + c.dir * c.length_m() / 2.0;
            let stop_gap = self
                .signals
                .iter()
                .filter(|g| g.is_red(now))
                .map(|g| (g.x_m - front) * c.dir)
                .filter(|&d| d >= 0.0 && c.speed * c.speed <= 2.0 * SIGNAL_BRAKE_MPS2 * d)
                .min_by(f32::total_cmp);
            if let Some(d) = stop_gap {
                let room = d - STOP_LINE_SETBACK_M;
                let braked =
                    if room <= 0.0 { 0.0 } else { (c.speed - c.speed * c.speed / (2.0 * room) * self.dt).max(0.0) };
                v = v.min(braked);
            }
            if let Some(a) = self.max_accel {
                v = v.min(c.speed + a * self.dt);
            }
            speeds.push(v.max(0.0));
        }
        for (c, v) in self.cars.iter_mut().zip(speeds) {
            c.speed = v;
            c.x += c.dir * v * self.dt;
        }
    }

    /// The agents as they stand now, in id order (stable across runs).
    pub fn snapshot(&self) -> Snapshot {
        // Pedestrian ids are dense from 0 and below every vehicle id: place
        // them by id (no comparison sort), then the vehicles sorted.
        let slots = self.peds.iter().map(|p| p.id as usize + 1).max().unwrap_or(0);
        let mut by_id: Vec<Option<usize>> = vec![None; slots];
        for (i, p) in self.peds.iter().enumerate() {
            by_id[p.id as usize] = Some(i);
        }
        self.snapshot_of(by_id.into_iter().flatten().collect(), |_| true)
    }

    /// The agents standing within any of the x-ranges `[x_min, x_max]`, in
    /// id order: the part of the world that sensors along a long street can
    /// sense, without posing everyone else.
    pub fn snapshot_within(&self, ranges: &[[f32; 2]]) -> Snapshot {
        // A table of one-metre cells along x, marked where a range reaches:
        // one look-up per agent (cells at a range's ends may add a few agents
        // just outside it, never drop one inside).
        let lo = ranges.iter().map(|r| r[0]).fold(f32::INFINITY, f32::min).floor();
        let hi = ranges.iter().map(|r| r[1]).fold(f32::NEG_INFINITY, f32::max);
        let cells = if hi >= lo { (hi - lo) as usize + 1 } else { 0 };
        let mut marked = vec![false; cells];
        for r in ranges.iter().filter(|r| r[1] >= r[0]) {
            let (a, b) = ((r[0] - lo).max(0.0) as usize, ((r[1] - lo) as usize).min(cells.saturating_sub(1)));
            marked[a..=b].iter_mut().for_each(|m| *m = true);
        }
        let keep = |x: f32| x >= lo && marked.get((x - lo) as usize).copied().unwrap_or(false);
        let mut order: Vec<usize> = (0..self.peds.len()).filter(|&i| keep(self.peds[i].pos[0])).collect();
        order.sort_unstable_by_key(|&i| self.peds[i].id);
        self.snapshot_of(order, keep)
    }

    /// Poses the pedestrians at indices `order` (already in id order) and
    /// the vehicles whose x passes `keep`.
    fn snapshot_of(&self, order: Vec<usize>, keep: impl Fn(f32) -> bool) -> Snapshot {
        let mut agents: Vec<AgentPose> = Vec::with_capacity(order.len() + self.cars.len());
        agents.extend(order.into_iter().map(|i| &self.peds[i]).map(|p| {
            let (phase, yaw) = if p.halted {
                // Standing, feet together (phase 0), facing the road.
                (0, if p.side == Side::North { -std::f32::consts::FRAC_PI_2 } else { std::f32::consts::FRAC_PI_2 })
            } else {
                let phase = ((p.gait_m / GAIT_CYCLE_M * WALK_PHASES as f32) as u64 % WALK_PHASES as u64) as u8;
                (phase, p.facing[1].atan2(p.facing[0]))
            };
            AgentPose {
                id: p.id,
                class: ObjectClass::Person,
                instance: Instance {
                    mesh: body::person_key(p.look, phase),
                    translation: [p.pos[0], p.pos[1], 0.0],
                    yaw_rad: yaw,
                },
                height_m: p.look.height_m(),
            }
        }));
        let first_vehicle = agents.len();
        agents.extend(self.cars.iter().filter(|c| keep(c.x)).map(|c| AgentPose {
            id: c.id,
            class: c.class(),
            instance: Instance {
                mesh: body::car_key(c.paint, c.model),
                translation: [c.x, c.lane_y, 0.0],
                yaw_rad: if c.dir > 0.0 { 0.0 } else { std::f32::consts::PI },
            },
            height_m: body::car_size(c.model)[2],
        }));
        let now = self.time_s();
        agents.extend(self.parked.iter().filter(|p| p.from_s <= now && now < p.until_s && keep(p.centre[0])).map(
            |p| AgentPose {
                id: p.id,
                class: ObjectClass::Car,
                instance: Instance {
                    mesh: body::car_key(p.paint, p.model),
                    translation: [p.centre[0], p.centre[1], 0.0],
                    yaw_rad: p.yaw_rad,
                },
                height_m: body::car_size(p.model)[2],
            },
        ));
        agents[first_vehicle..].sort_unstable_by_key(|a| a.id);
        Snapshot { step: self.step_index(), time_s: self.time_s(), agents }
    }
}

#[allow(clippy::too_many_arguments)]
fn record_crossings(
    lines: &[CountingLine],
    out: &mut Vec<Crossing>,
    agent: u32,
    class: ObjectClass,
    from: [f32; 2],
    to: [f32; 2],
    t0: f32,
    dt: f32,
) {
    for (li, line) in lines.iter().enumerate() {
        if let Some((s, side_before)) = segment_crossing(line.from, line.to, from, to) {
            let moved = [to[0] - from[0], to[1] - from[1]];
            let lv = [line.to[0] - line.from[0], line.to[1] - line.from[1]];
            let llen = (lv[0] * lv[0] + lv[1] * lv[1]).sqrt();
            let normal_speed = (moved[0] * lv[1] - moved[1] * lv[0]).abs() / llen / dt;
            out.push(Crossing {
                line: li,
                agent,
                class,
                time_s: t0 + s * dt,
                direction: if side_before > 0.0 { Direction::Positive } else { Direction::Negative },
                normal_speed,
            });
        }
    }
}

/// If the motion `p0 → p1` crosses the segment `a → b`, the fraction of the
/// motion at the crossing and the side `p0` started on (positive: left of a→b).
pub fn segment_crossing(a: [f32; 2], b: [f32; 2], p0: [f32; 2], p1: [f32; 2]) -> Option<(f32, f32)> {
    let side = |p: [f32; 2]| (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
    let (s0, s1) = (side(p0), side(p1));
    // Strictly changes side: a point exactly on the line counts once, when it leaves.
    if !((s0 > 0.0 && s1 <= 0.0) || (s0 < 0.0 && s1 >= 0.0)) || s0 == 0.0 {
        return None;
    }
    let t = s0 / (s0 - s1);
    let x = [p0[0] + t * (p1[0] - p0[0]), p0[1] + t * (p1[1] - p0[1])];
    let ab = [b[0] - a[0], b[1] - a[1]];
    let u = ((x[0] - a[0]) * ab[0] + (x[1] - a[1]) * ab[1]) / (ab[0] * ab[0] + ab[1] * ab[1]);
    (0.0..=1.0).contains(&u).then_some((t, s0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A digest of every agent's mesh and placement (to the centimetre and
    /// the milliradian), step by step, over the first 20 s of the demo
    /// street: FNV-1a over the quantised values.
    fn motion_digest() -> u64 {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/demo.toml"));
        let scenario = crate::scenario::Scenario::load(path).expect("the demo scenario loads");
        let mut sim = Simulation::new(&scenario);
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |v: i64| {
            for b in v.to_le_bytes() {
                hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        let steps = 20 * scenario.scenario.step_hz as usize;
        for _ in 0..steps {
            sim.step();
            for a in sim.snapshot().agents {
                eat(i64::from(a.id));
                eat(a.instance.mesh.0 as i64);
                for v in a.instance.translation {
                    eat((v * 100.0).round() as i64);
                }
                eat((a.instance.yaw_rad * 1000.0).round() as i64);
            }
        }
        hash
    }

    #[test]
    fn the_simulation_moves_as_its_version_says() {
        // Recorded with the version: change both together (see
        // SIMULATION_VERSION), never the digest alone.
        const RECORDED: (&str, u64) = ("camtwin-sim/2026-12-07-groups-in-file", 0xc7e5_d75d_7d9f_2905);
        let digest = motion_digest();
        assert_eq!(
            (SIMULATION_VERSION, digest),
            RECORDED,
            "the simulation moves agents differently from what {} recorded: give SIMULATION_VERSION a new \
             name (cached footage of the old motion must not be replayed) and record it with digest {digest:#x}",
            RECORDED.0
        );
    }

    #[test]
    fn crossing_direction_follows_the_left_to_right_rule() {
        // Line pointing north at x = 0: its left is west.
        let (a, b) = ([0.0, 0.0], [0.0, 4.0]);
        let east = segment_crossing(a, b, [-0.1, 1.0], [0.1, 1.0]).expect("crosses");
        assert!(east.1 > 0.0);
        let west = segment_crossing(a, b, [0.1, 1.0], [-0.1, 1.0]).expect("crosses");
        assert!(west.1 < 0.0);
        assert!(segment_crossing(a, b, [-0.1, 5.0], [0.1, 5.0]).is_none(), "beyond the end");
        assert!(segment_crossing(a, b, [-0.2, 1.0], [-0.1, 1.0]).is_none());
    }

    fn street(child_share: f32) -> Scenario {
        let text = format!(
            "[scenario]\nname = \"t\"\nseed = 3\nduration_s = 30.0\n\n[street]\nlength_m = 40.0\nroad_width_m = \
             7.0\nsidewalk_width_m = 3.5\n\n[pedestrians]\ncount = 200\nchild_share = {child_share}\n"
        );
        crate::scenario::Scenario::parse(&text, std::path::Path::new("t.toml")).expect("parses")
    }

    /// Car crossings of a line across the road at the stop line (x = 0) of
    /// a 60 s signal, green for the first 25 s of each cycle when `signal`,
    /// with the cars' acceleration limited to `accel` m/s².
    fn stop_line_crossings(signal: bool, accel: Option<f32>) -> Vec<f32> {
        let mut text = String::from(
            "[scenario]\nname = \"t\"\nseed = 8\nduration_s = 600.0\n\n[street]\nlength_m = 200.0\n\
             road_width_m = 7.0\nsidewalk_width_m = 3.5\n\n[pedestrians]\ncount = 1\n\n[vehicles]\ncount = 120\n",
        );
        if let Some(a) = accel {
            text.push_str(&format!("max_accel_mps2 = {a}\n"));
        }
        if signal {
            text.push_str("\n[[vehicles.signals]]\nid = \"s\"\nx_m = 0.0\ncycle_s = 60.0\ngreen_s = 25.0\n");
        }
        text.push_str("\n[[lines]]\nid = \"stop\"\nfrom = [0.0, -3.5]\nto = [0.0, 3.5]\n");
        let scenario = crate::scenario::Scenario::parse(&text, std::path::Path::new("t.toml")).expect("parses");
        let mut sim = Simulation::new(&scenario);
        for _ in 0..scenario.step_count() {
            sim.step();
        }
        sim.crossings().iter().filter(|c| c.class == ObjectClass::Car).map(|c| c.time_s).collect()
    }

    #[test]
    fn a_car_too_close_to_stop_when_the_light_turns_red_goes_on() {
        // Red from t = 5 s to 35 s at x = 0. At 5 s an eastbound car is 5 m
        // from the line (it would need 6.9 m/s² to stop) and a westbound one
        // 20 m (1.7 m/s²): the first goes on, the second waits for green.
        let text = "[scenario]\nname = \"t\"\nseed = 1\nduration_s = 45.0\n\n[street]\nlength_m = 200.0\n\
                    road_width_m = 7.0\nsidewalk_width_m = 3.5\n\n[pedestrians]\ncount = 1\n\n[vehicles]\ncount = 0\n\n\
                    [[vehicles.signals]]\nid = \"s\"\nx_m = 0.0\ncycle_s = 60.0\ngreen_s = 30.0\noffset_s = 35.0\n\n\
                    [[lines]]\nid = \"stop\"\nfrom = [0.0, -3.5]\nto = [0.0, 3.5]\n";
        let scenario = crate::scenario::Scenario::parse(text, std::path::Path::new("t.toml")).expect("parses");
        let mut sim = Simulation::new(&scenario);
        let v = 8.3;
        let car = |id: u32, dir: f32, front_at_red: f32| {
            let half = body::car_size(1)[0] / 2.0;
            Car {
                id,
                x: -dir * (front_at_red + v * 5.0 + half),
                lane_y: -dir * 1.75,
                dir,
                speed: v,
                desired: v,
                paint: 0,
                model: 1,
            }
        };
        sim.cars = vec![car(1_000_000, 1.0, 5.0), car(1_000_001, -1.0, 20.0)];
        for _ in 0..scenario.step_count() {
            sim.step();
        }
        let crossed = |dir: Direction| {
            sim.crossings().iter().filter(|c| c.direction == dir).map(|c| c.time_s).collect::<Vec<_>>()
        };
        let (east, west) = (crossed(Direction::Positive), crossed(Direction::Negative));
        assert_eq!(east.len() + west.len(), 2, "{east:?} {west:?}");
        let (through, waited) = if east.first().is_some_and(|t| *t < 35.0) { (east, west) } else { (west, east) };
        assert!(through.iter().all(|t| (5.0..7.0).contains(t)), "went on through: {through:?}");
        assert!(waited.iter().all(|t| *t > 35.0), "waited for green: {waited:?}");
    }

    #[test]
    fn cars_stop_on_red_and_leave_on_green() {
        let free = stop_line_crossings(false, None);
        let in_red = |t: &f32| t.rem_euclid(60.0) >= 25.0;
        // Without a signal the cars cross at any time of the "cycle".
        assert!(free.iter().filter(|t| in_red(t)).count() > free.len() / 3, "{free:?}");
        let timed = stop_line_crossings(true, Some(1.5));
        assert!(timed.len() > 80, "{} cars crossed", timed.len());
        // On red only those too close to stop comfortably go on, in its
        // first seconds (the amber's job).
        let late: Vec<f32> = timed.iter().copied().filter(|t| t.rem_euclid(60.0) >= 28.0).collect();
        assert!(late.is_empty(), "crossed on red: {late:?}");
        // Queues discharge: cars still cross well into the green, one after
        // another, slower with the acceleration limited.
        let discharge = |c: &[f32]| c.iter().filter(|t| (5.0..25.0).contains(&t.rem_euclid(60.0))).count();
        assert!(discharge(&timed) > timed.len() / 4, "{timed:?}");
        let mean_into_green = |c: &[f32]| {
            let g: Vec<f32> =
                c.iter().filter(|t| **t >= 60.0).map(|t| t.rem_euclid(60.0)).filter(|t| *t < 25.0).collect();
            g.iter().sum::<f32>() / g.len().max(1) as f32
        };
        let instant = stop_line_crossings(true, None);
        assert!(mean_into_green(&timed) > mean_into_green(&instant) + 0.5, "{timed:?} {instant:?}");
    }

    /// The smallest gap between the back of one vehicle and the front of
    /// the next in the same lane, metres (sorts `vehicles` by lane and place).
    fn bumper_gap(vehicles: &mut [&AgentPose]) -> f32 {
        vehicles.sort_by(|a, b| {
            (a.instance.translation[1], a.instance.translation[0])
                .partial_cmp(&(b.instance.translation[1], b.instance.translation[0]))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let mut closest = f32::INFINITY;
        for w in vehicles.windows(2).filter(|w| w[0].instance.translation[1] == w[1].instance.translation[1]) {
            let centres = w[1].instance.translation[0] - w[0].instance.translation[0];
            closest = closest.min(centres - 0.5 * (w[0].vehicle_size_m()[0] + w[1].vehicle_size_m()[0]));
        }
        closest
    }

    #[test]
    fn cars_come_in_every_model_and_follow_by_their_own_length() {
        let text = "[scenario]\nname = \"t\"\nseed = 5\nduration_s = 240.0\n\n[street]\nlength_m = 200.0\n\
                    road_width_m = 7.0\nsidewalk_width_m = 3.5\n\n[pedestrians]\ncount = 0\n\n[vehicles]\n\
                    count = 600\nspeed_mean_mps = 9.0\n";
        let scenario = crate::scenario::Scenario::parse(text, std::path::Path::new("t.toml")).expect("parses");
        let mut sim = Simulation::new(&scenario);
        let mut models: std::collections::HashMap<u32, [f32; 3]> = std::collections::HashMap::new();
        let mut closest = f32::INFINITY;
        for _ in 0..scenario.step_count() {
            sim.step();
            let snap = sim.snapshot();
            let mut cars: Vec<_> = snap.agents.iter().filter(|a| a.class == ObjectClass::Car).collect();
            for c in &cars {
                models.insert(c.id, c.vehicle_size_m());
                assert_eq!(c.height_m, c.vehicle_size_m()[2]);
            }
            closest = closest.min(bumper_gap(&mut cars));
        }
        // Queues formed (the closest pair is near the 2 m the drivers keep),
        // and no driver ever came closer than that by misjudging a length.
        assert!((1.8..3.0).contains(&closest), "closest bumper-to-bumper gap {closest} m");
        for m in body::CAR_MODELS {
            let n = models.values().filter(|s| **s == m.size_m).count();
            let share = n as f32 / models.len() as f32;
            assert!((share - m.share).abs() < 0.06, "{}: {n} of {} cars", m.name, models.len());
        }
    }

    /// Vehicles crossing a line across the road of a street with 500
    /// vehicles over 10 minutes, with the mix given as TOML (none: all
    /// cars): (class, agent, time) per crossing, and the closest
    /// bumper-to-bumper gap seen.
    fn mixed_traffic(mix: &str) -> (Vec<(ObjectClass, u32, u32)>, f32) {
        let text = format!(
            "[scenario]\nname = \"t\"\nseed = 5\nduration_s = 600.0\n\n[street]\nlength_m = 200.0\n\
             road_width_m = 7.0\nsidewalk_width_m = 3.5\n\n[pedestrians]\ncount = 0\n\n[vehicles]\n\
             count = 500\nspeed_mean_mps = 9.0\n{mix}\n[[lines]]\nid = \"road\"\nfrom = [0.0, -3.5]\nto = [0.0, 3.5]\n"
        );
        let scenario = crate::scenario::Scenario::parse(&text, std::path::Path::new("t.toml")).expect("parses");
        scenario.validate(&text, std::path::Path::new("t.toml")).expect("valid");
        let mut sim = Simulation::new(&scenario);
        let mut closest = f32::INFINITY;
        for _ in 0..scenario.step_count() {
            sim.step();
            let snap = sim.snapshot();
            let mut vehicles: Vec<_> = snap.agents.iter().filter(|a| a.class != ObjectClass::Person).collect();
            closest = closest.min(bumper_gap(&mut vehicles));
        }
        let crossings = sim.crossings().iter().map(|c| (c.class, c.agent, c.time_s.to_bits())).collect();
        (crossings, closest)
    }

    #[test]
    fn cyclists_ride_at_their_own_speed_whatever_the_cars() {
        let (crossings, _) = mixed_traffic("mix = { bicycle = 1.0 }\n");
        assert!(crossings.len() > 100, "{} crossings", crossings.len());
        assert!(crossings.iter().all(|c| c.0 == ObjectClass::Bicycle));
        // mixed_traffic keeps class, agent and time only: measure speeds here.
        let text = "[scenario]\nname = \"t\"\nseed = 5\nduration_s = 120.0\n\n[street]\nlength_m = 200.0\n\
                    road_width_m = 7.0\nsidewalk_width_m = 3.5\n\n[pedestrians]\ncount = 0\n\n[vehicles]\n\
                    count = 40\nspeed_mean_mps = 9.0\nmix = { car = 0.5, bicycle = 0.5 }\n";
        let scenario = crate::scenario::Scenario::parse(text, std::path::Path::new("t.toml")).expect("parses");
        let sim = Simulation::new(&scenario);
        let pending = sim.pending.iter().filter_map(|(_, a)| match a {
            Arrival::Car(c) => Some(c),
            Arrival::Ped(_) => None,
        });
        let (mut bikes, mut cars) = (Vec::new(), Vec::new());
        for c in sim.cars.iter().chain(pending) {
            let list = if c.class() == ObjectClass::Bicycle { &mut bikes } else { &mut cars };
            list.push(c.desired);
        }
        assert!(!bikes.is_empty() && !cars.is_empty(), "{} bicycles, {} cars", bikes.len(), cars.len());
        assert!(bikes.iter().all(|v| (0.85 * 4.5 - 1e-4..=1.15 * 4.5 + 1e-4).contains(v)), "{bikes:?}");
        assert!(cars.iter().all(|v| (0.85 * 9.0 - 1e-4..=1.15 * 9.0 + 1e-4).contains(v)), "{cars:?}");
    }

    #[test]
    fn a_mixed_fleet_comes_at_its_shares_each_under_its_class() {
        let mix = "mix = { car = 0.5, van = 0.15, bus = 0.1, truck = 0.1, motorcycle = 0.15 }\n";
        let (mixed, closest) = mixed_traffic(mix);
        assert!(mixed.len() > 400, "{} crossings", mixed.len());
        let share = |class: ObjectClass| mixed.iter().filter(|c| c.0 == class).count() as f32 / mixed.len() as f32;
        // Vans and lorries are both COCO trucks.
        for (class, want) in [
            (ObjectClass::Car, 0.5),
            (ObjectClass::Truck, 0.25),
            (ObjectClass::Bus, 0.1),
            (ObjectClass::Motorcycle, 0.15),
        ] {
            assert!((share(class) - want).abs() < 0.06, "{class:?}: {} of {}", share(class), mixed.len());
        }
        // A bus's driver keeps 2 m behind by the bus's own length too.
        assert!((1.8..3.0).contains(&closest), "closest bumper-to-bumper gap {closest} m");
        // Without a mix every vehicle is a car, and a mix of cars only
        // draws the very same cars.
        let (plain, _) = mixed_traffic("");
        let (cars_only, _) = mixed_traffic("mix = { car = 1.0 }\n");
        assert!(plain.iter().all(|c| c.0 == ObjectClass::Car));
        assert_eq!(plain, cars_only);
    }

    #[test]
    fn children_come_at_their_share_without_changing_anyone_else() {
        let heights = |share: f32| {
            let mut sim = Simulation::new(&street(share));
            for _ in 0..300 {
                sim.step();
            }
            let snap = sim.snapshot();
            snap.agents.iter().map(|a| (a.id, a.instance.translation, a.height_m, a.is_child())).collect::<Vec<_>>()
        };
        let (none, some) = (heights(0.0), heights(0.3));
        assert!(none.iter().all(|a| !a.3));
        assert_eq!(none.len(), some.len(), "same people");
        let children = some.iter().filter(|a| a.3).count();
        let share = children as f64 / some.len() as f64;
        assert!((0.15..0.45).contains(&share), "{children} children of {}", some.len());
        for (a, b) in none.iter().zip(&some) {
            assert_eq!((a.0, a.1), (b.0, b.1), "same ids, same places");
            if !b.3 {
                assert_eq!(a.2, b.2, "an adult keeps its height");
            }
        }
    }

    /// The test street with a zone on the north sidewalk (x from -4 to 4)
    /// where people wait with `share`, for 20-40 s.
    fn street_with_stop(share: f32) -> Scenario {
        let text = format!(
            "[scenario]\nname = \"t\"\nseed = 3\nduration_s = 120.0\n\n[street]\nlength_m = 40.0\nroad_width_m = \
             7.0\nsidewalk_width_m = 3.5\n\n[pedestrians]\ncount = 200\n\n[[zones]]\nid = \"stop\"\n\
             polygon = [[-4.0, 3.5], [4.0, 3.5], [4.0, 6.0], [-4.0, 6.0]]\nwait = {{ share = {share}, dwell_s = [20.0, 40.0] }}\n"
        );
        crate::scenario::Scenario::parse(&text, std::path::Path::new("t.toml")).expect("parses")
    }

    #[test]
    fn people_wait_at_a_stop_and_the_others_walk_past() {
        // Per agent: (first step seen, last step seen, steps halted, x when
        // first halted, sidewalk, walking speed, a companion).
        type Seen = std::collections::BTreeMap<u32, (u64, u64, u64, Option<f32>, Side, f32, bool)>;
        let run = |share: f32| -> (Seen, Vec<Crossing>) {
            let mut sim = Simulation::new(&street_with_stop(share));
            let mut seen = Seen::new();
            for _ in 0..2400 {
                sim.step();
                for p in &sim.peds {
                    let e =
                        seen.entry(p.id).or_insert((sim.step, sim.step, 0, None, p.side, p.speed, p.follow.is_some()));
                    e.1 = sim.step;
                    if p.halted {
                        e.2 += 1;
                        e.3.get_or_insert(p.pos[0]);
                    }
                }
            }
            (seen, sim.crossings().to_vec())
        };
        let (none, none_crossings) = run(0.0);
        let (some, some_crossings) = run(0.5);
        assert!(none.values().all(|v| v.2 == 0), "nobody waits where nobody is asked to");
        let waited: Vec<_> = some.iter().filter(|(_, v)| v.2 > 0).collect();
        let north = some.values().filter(|v| v.4 == Side::North).count();
        assert!(
            waited.len() * 10 >= north && waited.iter().all(|(_, v)| v.4 == Side::North),
            "{} of {north} on the north sidewalk waited",
            waited.len()
        );
        for (id, v) in &waited {
            let x = v.3.unwrap_or(f32::NAN);
            // Companions stand beside their leader, up to a metre off.
            assert!((-5.0..=5.0).contains(&x), "{id} waited at x = {x}, outside the zone");
            // 20-40 s at 20 steps a second, unless the run ended first; a
            // companion walking in file behind its leader stands up to 3 s
            // after it.
            let least = if v.6 { 17 * 20 } else { 20 * 20 - 1 };
            assert!(v.2 <= 40 * 20 + 1 && (v.2 >= least || v.1 == 2400), "{id} halted {} steps", v.2);
        }
        // Nobody who walks on is held up for long behind someone standing:
        // the north sidewalk's walkers who lived their whole crossing in the
        // run and did not wait take about as long as without the stop.
        let times = |seen: &Seen| -> Vec<f32> {
            let whole = seen.values().filter(|v| v.4 == Side::North && v.2 == 0 && v.0 > 1 && v.1 < 2400);
            whole.map(|v| (v.1 - v.0) as f32 * v.5 / 40.0).collect()
        };
        let (free, past) = (times(&none), times(&some));
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        let max = |v: &[f32]| v.iter().copied().fold(0.0, f32::max);
        assert!(
            past.len() >= 15 && mean(&past) < 1.15 * mean(&free),
            "{} / {} ({} / {} walkers)",
            mean(&past),
            mean(&free),
            past.len(),
            free.len()
        );
        assert!(max(&past) < 1.3 * max(&free), "{} / {}", max(&past), max(&free));
        // The south sidewalk never meets anyone waiting: its walkers cross
        // exactly as without the stop.
        let south = |c: &Vec<Crossing>, seen: &Seen| -> Vec<(u32, u32)> {
            c.iter()
                .filter(|k| seen.get(&k.agent).is_some_and(|v| v.4 == Side::South))
                .map(|k| (k.agent, k.time_s.to_bits()))
                .collect()
        };
        assert_eq!(south(&none_crossings, &none), south(&some_crossings, &some));
    }

    #[test]
    fn a_walker_steps_round_someone_standing_in_its_lane() {
        let mut sim = Simulation::new(&street_with_stop(0.0));
        sim.peds.clear();
        sim.pending.clear();
        let person = |id: u32, x: f32, speed: f32| Pedestrian {
            id,
            pos: [x, 5.0],
            facing: [1.0, 0.0],
            speed: speed.max(1.2),
            dir: 1.0,
            side: Side::North,
            lane_y: 5.0,
            look: PersonLook::from_random([7; 5]),
            gait_m: 0.0,
            follow: None,
            group: id,
            stops: Vec::new(),
            wait_until: None,
            halted: false,
            file_until: f32::NEG_INFINITY,
        };
        let mut standing = person(0, 0.0, 0.0);
        standing.stops = vec![Stop { at: [0.0, 5.0], dwell_s: 1000.0 }];
        sim.peds = vec![standing, person(1, -10.0, 1.2)];
        for _ in 0..20 * 30 {
            sim.step();
        }
        let x = |id: u32| sim.peds.iter().find(|p| p.id == id).map(|p| p.pos[0]);
        assert!(x(0).is_some_and(|x| x.abs() < 0.3), "the one waiting holds its spot: {:?}", x(0));
        // 10 m to the one standing and 5 m past it take about 13 s alone.
        assert!(x(1).is_none_or(|x| x > 5.0), "the walker is still behind at x = {:?}", x(1));
    }

    #[test]
    fn groups_fall_into_file_to_pass_each_other() {
        let mut sim = Simulation::new(&street_with_stop(0.0));
        sim.peds.clear();
        sim.pending.clear();
        let walker = |id: u32, x: f32, y: f32, dir: f32, leader: u32| Pedestrian {
            id,
            pos: [x, y],
            facing: [dir, 0.0],
            speed: 1.3,
            dir,
            side: Side::North,
            lane_y: y,
            look: PersonLook::from_random([7; 5]),
            gait_m: 0.0,
            follow: (id != leader).then_some((leader, (id - leader) as f32 * GROUP_SPACING_M)),
            group: leader,
            stops: Vec::new(),
            wait_until: None,
            halted: false,
            file_until: f32::NEG_INFINITY,
        };
        // Two groups of three abreast on the 3.5 m sidewalk (y 3.5-7.0),
        // coming at each other: 1.7 m wide each, too wide to pass abreast.
        sim.peds = (0..3)
            .map(|k| walker(k, -15.0, 4.0 + k as f32 * GROUP_SPACING_M, 1.0, 0))
            .chain((3..6).map(|k| walker(k, 15.0, 4.2 + (k - 3) as f32 * GROUP_SPACING_M, -1.0, 3)))
            .collect();
        let width = |sim: &Simulation, group: u32| {
            let ys = sim.peds.iter().filter(|p| p.group == group).map(|p| p.pos[1]);
            let (lo, hi) = ys.fold((f32::INFINITY, f32::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
            hi - lo
        };
        let (mut narrowest_when_met, mut all_past_s) = (f32::INFINITY, None);
        // Until the first of them is 2 m from the street's end.
        while sim.peds.iter().all(|p| p.dir * p.pos[0] < 18.0) && sim.time_s() < 40.0 {
            sim.step();
            let front = |group: u32| {
                sim.peds.iter().filter(|p| p.group == group).map(|p| p.dir * p.pos[0]).fold(f32::MIN, f32::max)
            };
            // Met: the two fronts level with each other.
            if (front(0) + front(3)).abs() < 0.5 {
                narrowest_when_met = narrowest_when_met.min(width(&sim, 0).min(width(&sim, 3)));
            }
            if all_past_s.is_none() && sim.peds.iter().all(|p| p.dir * p.pos[0] > 10.0) {
                all_past_s = Some(sim.time_s());
            }
        }
        // Where they met, at least one group walked one behind the other
        // (within a body's width across), and neither held the other up:
        // 25 m at 1.3 m/s take 19.2 s.
        assert!(narrowest_when_met < 0.4, "the narrower group was {narrowest_when_met} m wide where they met");
        assert!(all_past_s.is_some_and(|t| t < 22.0), "all six 10 m past the middle after {all_past_s:?} s");
        // Abreast again once past.
        assert!(
            width(&sim, 0) > 1.0 && width(&sim, 3) > 1.0,
            "{} and {} m wide after passing",
            width(&sim, 0),
            width(&sim, 3)
        );
    }

    #[test]
    fn walkers_keep_their_pace_on_a_busy_sidewalk() {
        // The busy sidewalk: 800 people in 5 minutes, about 0.3 people a
        // square metre, where one-way walkers keep nearly all their free
        // speed (Weidmann, "Transporttechnik der Fussgänger", ETH Zürich
        // 1993: over 99 % of 1.34 m/s at that density). Before groups fell
        // into file and walkers made room ahead of time, jams held them to
        // 0.82 m/s on average within 5 m of the lines (72 % of their free
        // pace with groups in file alone, 84 % with room made ahead alone).
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/busy-sidewalk-5min.toml"));
        let mut scenario = crate::scenario::Scenario::load(path).expect("the busy sidewalk loads");
        // Without the scenario's warm-up: the rules must hold from a cold
        // start (the shares above were measured so).
        scenario.scenario.warm_up_s = 0.0;
        let mut sim = Simulation::new(&scenario);
        let share = pace_share(&mut sim, 120 * scenario.scenario.step_hz as usize);
        assert!(share > 0.85, "walkers made {:.1} % of their free pace", 100.0 * share);
    }

    /// The busy sidewalk with a warm-up of `warm_up_s`: pairs of walkers of
    /// different groups closer than 0.5 m at the first step, and the share
    /// of their free pace walkers make over the first `first_s` seconds, and
    /// how many people are on the street at the first step.
    fn busy_start(warm_up_s: f32, first_s: usize) -> (usize, f64, usize) {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/busy-sidewalk-5min.toml"));
        let mut scenario = crate::scenario::Scenario::load(path).expect("the busy sidewalk loads");
        scenario.scenario.warm_up_s = warm_up_s;
        let mut sim = Simulation::new(&scenario);
        let (mut close, on_street) = (0, sim.peds.len());
        for (a, p) in sim.peds.iter().enumerate() {
            for q in sim.peds[a + 1..].iter().filter(|q| q.side == p.side && q.group != p.group) {
                close += usize::from((p.pos[0] - q.pos[0]).hypot(p.pos[1] - q.pos[1]) < 0.5);
            }
        }
        (close, pace_share(&mut sim, first_s * scenario.scenario.step_hz as usize), on_street)
    }

    /// The share of their free pace walkers make over the next `steps`
    /// steps: the distance they cover along their way over the distance
    /// they would cover at their own speed.
    fn pace_share(sim: &mut Simulation, steps: usize) -> f64 {
        let (mut made, mut wished) = (0.0f64, 0.0f64);
        for _ in 0..steps {
            let before: std::collections::HashMap<u32, f32> = sim.peds.iter().map(|p| (p.id, p.pos[0])).collect();
            sim.step();
            for p in &sim.peds {
                if let Some(x0) = before.get(&p.id) {
                    made += f64::from(p.dir * (p.pos[0] - x0));
                    wished += f64::from(p.speed * sim.dt);
                }
            }
        }
        made / wished
    }

    #[test]
    fn a_warm_up_lets_walkers_start_apart_and_at_their_pace() {
        // Placed at time zero where free walking would have taken them,
        // 21 pairs of walkers of the busy sidewalk start within half a
        // metre of each other, and over the first 10 s walkers make 81 % of
        // their free pace while they sort themselves out (88 % over two
        // minutes, `walkers_keep_their_pace_on_a_busy_sidewalk`).
        let (close_cold, pace_cold, on_street_cold) = busy_start(0.0, 10);
        let (close_warm, pace_warm, on_street_warm) = busy_start(10.0, 10);
        assert!(close_cold > 10 && pace_cold < 0.84, "{close_cold} close pairs, pace {pace_cold:.3} without warm-up");
        assert_eq!(close_warm, 0, "pairs of walkers within 0.5 m after a 10 s warm-up");
        assert!(pace_warm > 0.85, "walkers made {:.1} % of their free pace after a warm-up", 100.0 * pace_warm);
        // The same arrivals: about as many people on the street at time zero.
        let ratio = on_street_warm as f64 / on_street_cold as f64;
        assert!((0.95..=1.05).contains(&ratio), "{on_street_warm} people at time zero against {on_street_cold}");
    }

    #[test]
    fn a_warm_up_is_unseen_time_starts_at_zero_and_its_crossings_are_dropped() {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/busy-sidewalk-5min.toml"));
        let mut scenario = crate::scenario::Scenario::load(path).expect("the busy sidewalk loads");
        scenario.scenario.warm_up_s = 30.0;
        let mut sim = Simulation::new(&scenario);
        assert_eq!((sim.step_index(), sim.time_s()), (0, 0.0));
        assert!(sim.crossings().is_empty(), "crossings of the warm-up were kept");
        assert_eq!(sim.snapshot().step, 0);
        for _ in 0..20 {
            sim.step();
        }
        assert_eq!((sim.step_index(), sim.snapshot().step), (20, 20));
        assert!((sim.time_s() - 1.0).abs() < 1e-6);
        let crossed: Vec<f32> = sim.crossings().iter().map(|c| c.time_s).collect();
        assert!(!crossed.is_empty() && crossed.iter().all(|&t| (0.0..=1.0).contains(&t)), "{crossed:?}");
    }

    #[test]
    fn walkers_never_step_back_nor_walk_into_each_other() {
        // The busy sidewalk's first two minutes: 800 people in 5 minutes
        // on both sidewalks in both directions, 45 % of arrivals in groups.
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/busy-sidewalk-5min.toml"));
        let scenario = crate::scenario::Scenario::load(path).expect("the busy sidewalk loads");
        let mut sim = Simulation::new(&scenario);
        let steps_per_s = scenario.scenario.step_hz as usize;
        // Per walker: its direction and its x, step by step.
        let mut xs: std::collections::HashMap<u32, (f32, Vec<f32>)> = Default::default();
        let (mut touching, mut closest) = (0usize, f32::INFINITY);
        for _ in 0..120 * steps_per_s {
            sim.step();
            for (a, p) in sim.peds.iter().enumerate() {
                xs.entry(p.id).or_insert((p.dir, Vec::new())).1.push(p.pos[0]);
                for q in sim.peds[a + 1..].iter().filter(|q| q.side == p.side && q.group != p.group) {
                    let d = ((p.pos[0] - q.pos[0]).powi(2) + (p.pos[1] - q.pos[1]).powi(2)).sqrt();
                    closest = closest.min(d);
                    touching += usize::from(d < 0.3);
                }
            }
        }
        // The largest move against one's way within a second.
        let mut back = 0.0f32;
        for (dir, x) in xs.values() {
            for (i, from) in x.iter().enumerate() {
                for to in &x[i + 1..(i + steps_per_s + 1).min(x.len())] {
                    back = back.max(dir * (from - to));
                }
            }
        }
        assert!(back < 0.01, "a walker stepped back {back} m");
        let c = sim.crossings();
        assert!(c.len() > 200, "{} crossings", c.len());
        let recrossed = c.iter().enumerate().filter(|(i, a)| {
            c[..*i].iter().any(|b| b.agent == a.agent && b.line == a.line && a.time_s - b.time_s < 3.0)
        });
        assert_eq!(recrossed.count(), 0, "someone crossed a line back within 3 s");
        // Pairs of bodies (centres under 0.3 m apart, each 0.4 m wide) over
        // 2,400 steps: a handful at most.
        assert!(touching <= 20, "{touching} steps with two strangers' centres under 0.3 m (closest {closest} m)");
    }
}
