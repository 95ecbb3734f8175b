//! Articulated, clothed, walking people and simple cars as low-poly meshes.
//!
//! A stock COCO detector finds rendered people only if they have a human
//! structure (head, torso, separate arms and legs) in distinct clothing
//! colours; capsules are not found at all. Each person is one mesh per
//! (look, quantised walk phase), shared by everyone who looks the same, so the
//! renderer uploads it once. Ground-truth boxes are computed from exactly these
//! vertices.

use std::collections::HashMap;
use std::f32::consts::TAU;
use std::sync::{Arc, Mutex};

use crate::geometry::{MeshData, MeshKey, MeshLibrary};
use crate::mesh::{cuboid, disc, ellipsoid, limb, prism};
use camtwin_vocab::ObjectClass;

/// Walk-cycle phases a person's pose is quantised to.
pub const WALK_PHASES: u8 = 8;
/// Distance covered by one full gait cycle (two steps), metres; a 0.7 m step.
pub const GAIT_CYCLE_M: f32 = 1.4;

/// Skin tones, linear RGB.
const SKIN: [[f32; 3]; 5] =
    [[0.80, 0.56, 0.42], [0.62, 0.40, 0.27], [0.42, 0.25, 0.15], [0.24, 0.13, 0.07], [0.88, 0.68, 0.55]];
/// Tops, linear RGB: varied and mostly saturated, as street clothing is.
const TOPS: [[f32; 3]; 10] = [
    [0.60, 0.05, 0.05],
    [0.05, 0.12, 0.45],
    [0.75, 0.75, 0.72],
    [0.08, 0.30, 0.10],
    [0.70, 0.45, 0.05],
    [0.04, 0.04, 0.05],
    [0.35, 0.08, 0.35],
    [0.15, 0.40, 0.55],
    [0.55, 0.30, 0.18],
    [0.85, 0.60, 0.60],
];
/// Trousers and skirts, linear RGB.
const BOTTOMS: [[f32; 3]; 6] = [
    [0.03, 0.05, 0.15],
    [0.12, 0.12, 0.12],
    [0.30, 0.25, 0.18],
    [0.05, 0.05, 0.05],
    [0.20, 0.30, 0.45],
    [0.45, 0.40, 0.30],
];
/// Hair colours, linear RGB.
const HAIR: [[f32; 3]; 4] = [[0.02, 0.015, 0.01], [0.15, 0.08, 0.03], [0.45, 0.32, 0.12], [0.35, 0.35, 0.35]];
/// Body heights, metres: four adult heights around the European mean, then
/// three children's (about 6, 8 and 11 years old, WHO growth references).
const HEIGHTS: [f32; 7] = [1.58, 1.67, 1.75, 1.84, 1.15, 1.28, 1.42];
/// How many of [`HEIGHTS`] are adults'.
const ADULT_HEIGHTS: u32 = 4;
/// Anyone shorter is a child: between the tallest child and the shortest adult.
pub const CHILD_MAX_HEIGHT_M: f32 = 1.5;
/// Car paint colours, linear RGB.
const PAINT: [[f32; 3]; 6] = [
    [0.60, 0.60, 0.62],
    [0.05, 0.05, 0.06],
    [0.70, 0.02, 0.02],
    [0.02, 0.10, 0.40],
    [0.85, 0.85, 0.85],
    [0.25, 0.28, 0.30],
];

/// What one person looks like: indices into the palettes above. Chosen once
/// per person from the seeded generator and never tied to any real identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PersonLook {
    /// Skin tone index.
    pub skin: u8,
    /// Top colour index.
    pub top: u8,
    /// Bottom colour index.
    pub bottom: u8,
    /// Hair colour index.
    pub hair: u8,
    /// Height class index.
    pub height: u8,
}

impl PersonLook {
    /// Builds a look from raw random numbers, wrapping each into its palette.
    pub fn from_random(r: [u32; 5]) -> Self {
        Self {
            skin: (r[0] % SKIN.len() as u32) as u8,
            top: (r[1] % TOPS.len() as u32) as u8,
            bottom: (r[2] % BOTTOMS.len() as u32) as u8,
            hair: (r[3] % HAIR.len() as u32) as u8,
            height: (r[4] % ADULT_HEIGHTS) as u8,
        }
    }

    /// The same look as a child, of one of the children's heights picked by
    /// `r` (children are scaled adults: a simplification of their
    /// proportions).
    pub fn as_child(self, r: u32) -> Self {
        Self { height: (ADULT_HEIGHTS + r % (HEIGHTS.len() as u32 - ADULT_HEIGHTS)) as u8, ..self }
    }

    /// Standing height in metres.
    pub fn height_m(&self) -> f32 {
        HEIGHTS[self.height as usize % HEIGHTS.len()]
    }
}

const KIND_PERSON: u64 = 1 << 60;
const KIND_CAR: u64 = 2 << 60;
const KIND_SHADOW: u64 = 3 << 60;

/// Mesh key of a person with `look` at walk phase `phase`.
pub fn person_key(look: PersonLook, phase: u8) -> MeshKey {
    MeshKey(
        KIND_PERSON
            | (look.skin as u64)
            | (look.top as u64) << 8
            | (look.bottom as u64) << 16
            | (look.hair as u64) << 24
            | (look.height as u64) << 32
            | ((phase % WALK_PHASES) as u64) << 40,
    )
}

/// Mesh key of a vehicle of model `model` (an index into the fleet: see
/// [`vehicle_model`]) painted with palette colour `paint`.
pub fn car_key(paint: u8, model: u8) -> MeshKey {
    MeshKey(KIND_CAR | (paint as u64 % PAINT.len() as u64) | (model as u64 % FLEET_MODELS as u64) << 8)
}

/// The body size of the vehicle whose mesh is `key`, or `None` when the key
/// is not a vehicle's: ground-truth boxes, car following and the in-road and
/// thermal sensors all measure a vehicle by the body the renderer draws.
pub fn vehicle_size(key: MeshKey) -> Option<[f32; 3]> {
    (key.0 & (0xF << 60) == KIND_CAR).then(|| car_size((key.0 >> 8 & 0xFF) as u8))
}

/// The body (length, width, height) of vehicle model `model`, metres; the
/// one place a model index becomes a size.
pub fn car_size(model: u8) -> [f32; 3] {
    vehicle_model(model).size_m
}

/// Vehicle model `model` of the fleet: the passenger cars of [`CAR_MODELS`]
/// first, then [`OTHER_VEHICLES`] (indices wrap).
pub fn vehicle_model(model: u8) -> VehicleModel {
    let i = model as usize % FLEET_MODELS;
    match CAR_MODELS.get(i) {
        Some(car) => VehicleModel { name: car.name, size_m: car.size_m, kind: VehicleKind::Car },
        None => OTHER_VEHICLES[i - CAR_MODELS.len()],
    }
}

/// How many vehicle models the fleet has: [`CAR_MODELS`] then
/// [`OTHER_VEHICLES`].
pub const FLEET_MODELS: usize = CAR_MODELS.len() + OTHER_VEHICLES.len();

/// The kinds of road vehicle a scenario's traffic mixes. A single inductive
/// loop cannot tell them apart but is misled by their lengths, and a camera
/// counts them under different COCO classes: real traffic is not all cars
/// (docs/SCENARIO.md, `vehicles.mix`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VehicleKind {
    /// A passenger car, one of [`CAR_MODELS`].
    Car,
    /// A light commercial van.
    Van,
    /// A city bus.
    Bus,
    /// A rigid delivery lorry.
    Truck,
    /// A motorcycle with its rider.
    Motorcycle,
    /// A bicycle with its rider, in the road.
    Bicycle,
}

impl VehicleKind {
    /// Its key in a scenario's `vehicles.mix`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Car => "car",
            Self::Van => "van",
            Self::Bus => "bus",
            Self::Truck => "truck",
            Self::Motorcycle => "motorcycle",
            Self::Bicycle => "bicycle",
        }
    }

    /// The COCO class a detector should give it, and the class of its
    /// ground truth. A van is a truck: COCO's "truck" covers vans and
    /// pickups, its "car" passenger cars.
    pub fn class(self) -> ObjectClass {
        match self {
            Self::Car => ObjectClass::Car,
            Self::Van | Self::Truck => ObjectClass::Truck,
            Self::Bus => ObjectClass::Bus,
            Self::Motorcycle => ObjectClass::Motorcycle,
            Self::Bicycle => ObjectClass::Bicycle,
        }
    }

    /// The model index of this kind for a uniform random number `u` in
    /// [0, 1): a car drawn from [`CAR_MODELS`]' shares, any other kind its
    /// one model.
    pub fn model_for(self, u: f32) -> u8 {
        match self {
            Self::Car => car_model_for(u),
            other => {
                let i = OTHER_VEHICLES.iter().position(|v| v.kind == other).unwrap_or(0);
                (CAR_MODELS.len() + i) as u8
            }
        }
    }
}

/// One model of road vehicle: its body and its kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VehicleModel {
    /// Name used in documentation.
    pub name: &'static str,
    /// Body (length, width, height), metres; a motorcycle's height is its
    /// seated rider's.
    pub size_m: [f32; 3],
    /// What kind of vehicle it is.
    pub kind: VehicleKind,
}

/// The road vehicles other than passenger cars, one model each, at sizes
/// typical of urban traffic (a long-wheelbase high-roof van such as a
/// Renault Master, a 12 m city bus, a two-axle 12-19 t rigid lorry, a
/// mid-size motorcycle with a seated rider, a city bicycle with its rider
/// upright); an assumption, not fitted.
pub const OTHER_VEHICLES: [VehicleModel; 5] = [
    VehicleModel { name: "van", size_m: [5.5, 2.05, 2.45], kind: VehicleKind::Van },
    VehicleModel { name: "bus", size_m: [12.0, 2.55, 3.1], kind: VehicleKind::Bus },
    VehicleModel { name: "truck", size_m: [8.5, 2.5, 3.4], kind: VehicleKind::Truck },
    VehicleModel { name: "motorcycle", size_m: [2.1, 0.75, 1.45], kind: VehicleKind::Motorcycle },
    VehicleModel { name: "bicycle", size_m: [1.8, 0.6, 1.75], kind: VehicleKind::Bicycle },
];

/// Mean desired speed of a cyclist on a city street, m/s (16 km/h; an
/// assumption, typical of urban commuting), whatever the cars' speed.
pub const BICYCLE_SPEED_MPS: f32 = 4.5;

/// Mesh key of the soft contact shadow drawn under each person.
pub fn shadow_key() -> MeshKey {
    MeshKey(KIND_SHADOW)
}

/// One kind of passenger car on the street: its body and how common it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CarModel {
    /// Name used in documentation.
    pub name: &'static str,
    /// Body (length, width, height), metres.
    pub size_m: [f32; 3],
    /// Share of the cars on the street.
    pub share: f32,
}

/// The cars of the simulated fleet. Real traffic mixes short and long
/// vehicles, and that spread is what a single inductive loop's speed
/// estimate (from one on-time and one assumed length) gets wrong
/// (docs/sensors.md). Sizes are typical of each European segment and the
/// shares are an assumption (city cars most common in French towns); the mean
/// length is 4.2 m, the compact car every vehicle had before.
pub const CAR_MODELS: [CarModel; 4] = [
    CarModel { name: "city car", size_m: [3.7, 1.7, 1.48], share: 0.35 },
    CarModel { name: "compact", size_m: [4.2, 1.8, 1.45], share: 0.35 },
    CarModel { name: "family", size_m: [4.65, 1.84, 1.46], share: 0.2 },
    CarModel { name: "large", size_m: [4.95, 1.9, 1.62], share: 0.1 },
];

/// The model index for a uniform random number `u` in [0, 1), following the
/// shares of [`CAR_MODELS`].
pub fn car_model_for(u: f32) -> u8 {
    let mut acc = 0.0;
    for (i, m) in CAR_MODELS.iter().enumerate() {
        acc += m.share;
        if u < acc {
            return i as u8;
        }
    }
    (CAR_MODELS.len() - 1) as u8
}

/// The largest vehicle body of the fleet, metres: the reach of a vehicle
/// for queries that must not miss any.
pub const MAX_CAR_SIZE: [f32; 3] = {
    let mut max = [0.0f32; 3];
    let mut i = 0;
    while i < FLEET_MODELS {
        let size =
            if i < CAR_MODELS.len() { CAR_MODELS[i].size_m } else { OTHER_VEHICLES[i - CAR_MODELS.len()].size_m };
        let mut d = 0;
        while d < 3 {
            max[d] = max[d].max(size[d]);
            d += 1;
        }
        i += 1;
    }
    max
};

fn rgba(c: [f32; 3]) -> [f32; 4] {
    [c[0], c[1], c[2], 1.0]
}

/// The posed mesh of a person, feet at the origin, facing +x, z up.
pub fn person_mesh(look: PersonLook, phase: u8) -> MeshData {
    let s = look.height_m() / 1.75;
    let skin = rgba(SKIN[look.skin as usize % SKIN.len()]);
    let top = rgba(TOPS[look.top as usize % TOPS.len()]);
    let bottom = rgba(BOTTOMS[look.bottom as usize % BOTTOMS.len()]);
    let hair = rgba(HAIR[look.hair as usize % HAIR.len()]);
    let shoe = rgba([0.03, 0.03, 0.03]);
    let t = TAU * (phase % WALK_PHASES) as f32 / WALK_PHASES as f32;
    let p = |x: f32, y: f32, z: f32| [x * s, y * s, z * s];
    let mut m = MeshData::default();
    let side = [0.0, 1.0, 0.0];

    // Legs: hip swing in the sagittal (x-z) plane, knee bends on the back swing.
    for (y, sign) in [(0.09f32, 1.0f32), (-0.09, -1.0)] {
        let swing = 0.42 * (t.sin() * sign);
        let knee_bend = 0.55
            * (0.5 - 0.5 * (t * 1.0 + sign * 0.5 * std::f32::consts::PI).cos()).max(0.0)
            * if swing < 0.0 { 1.0 } else { 0.35 };
        let hip = [0.0, y, 0.92];
        let thigh = 0.43;
        let shin = 0.42;
        let knee = [hip[0] + thigh * swing.sin(), y, hip[2] - thigh * swing.cos()];
        let a2 = swing - knee_bend;
        let ankle = [knee[0] + shin * a2.sin(), y, knee[2] - shin * a2.cos()];
        m.append(&limb(
            p(hip[0], hip[1], hip[2]),
            p(knee[0], knee[1], knee[2]),
            [0.075 * s, 0.075 * s],
            side,
            6,
            bottom,
        ));
        m.append(&limb(
            p(knee[0], knee[1], knee[2]),
            p(ankle[0], ankle[1], ankle[2]),
            [0.058 * s, 0.058 * s],
            side,
            6,
            bottom,
        ));
        let foot_min = p(ankle[0] - 0.06, y - 0.05, (ankle[2] - 0.07).max(0.0));
        let foot_max = p(ankle[0] + 0.19, y + 0.05, (ankle[2] + 0.02).max(0.09));
        m.append(&cuboid(foot_min, foot_max, shoe));
    }
    // Pelvis and torso (torso slightly wider at the shoulders).
    m.append(&cuboid(p(-0.10, -0.17, 0.86), p(0.10, 0.17, 1.02), bottom));
    m.append(&limb(p(0.0, 0.0, 1.00), p(0.0, 0.0, 1.46), [0.12 * s, 0.19 * s], [1.0, 0.0, 0.0], 8, top));
    m.append(&limb(p(0.0, 0.0, 1.44), p(0.0, 0.0, 1.54), [0.05 * s, 0.05 * s], side, 5, skin));
    // Head with hair cap.
    m.append(&ellipsoid(p(0.0, 0.0, 1.635), [0.095 * s, 0.085 * s, 0.115 * s], 8, 5, skin));
    m.append(&ellipsoid(p(-0.015, 0.0, 1.665), [0.10 * s, 0.092 * s, 0.10 * s], 8, 4, hair));
    // Arms swing opposite to the legs; elbows slightly bent.
    for (y, sign) in [(0.225f32, -1.0f32), (-0.225, 1.0)] {
        let swing = 0.35 * t.sin() * sign;
        let shoulder = [0.0, y, 1.43];
        let upper = 0.30;
        let fore = 0.27;
        let elbow = [shoulder[0] + upper * swing.sin(), y * 1.03, shoulder[2] - upper * swing.cos()];
        let a2 = swing + 0.25;
        let wrist = [elbow[0] + fore * a2.sin(), y * 1.03, elbow[2] - fore * a2.cos()];
        m.append(&limb(
            p(shoulder[0], shoulder[1], shoulder[2]),
            p(elbow[0], elbow[1], elbow[2]),
            [0.05 * s, 0.05 * s],
            side,
            6,
            top,
        ));
        m.append(&limb(
            p(elbow[0], elbow[1], elbow[2]),
            p(wrist[0], wrist[1], wrist[2]),
            [0.04 * s, 0.04 * s],
            side,
            6,
            skin,
        ));
        m.append(&ellipsoid(
            p(wrist[0] + 0.03 * a2.sin(), wrist[1], wrist[2] - 0.05),
            [0.03 * s, 0.025 * s, 0.05 * s],
            5,
            3,
            skin,
        ));
    }
    // The stance foot carries the body: put the lowest point on the ground.
    let lowest = m.positions.iter().map(|v| v[2]).fold(f32::MAX, f32::min);
    for v in &mut m.positions {
        v[2] -= lowest;
    }
    m
}

/// A vehicle of model `model`, centred on the origin on the ground, facing
/// +x.
pub fn car_mesh(paint: u8, model: u8) -> MeshData {
    let v = vehicle_model(model);
    let [l, w, h] = v.size_m;
    let paint_index = paint;
    let paint = rgba(PAINT[paint as usize % PAINT.len()]);
    let glass = rgba([0.04, 0.06, 0.08]);
    let tyre = rgba([0.02, 0.02, 0.02]);
    match v.kind {
        VehicleKind::Car => {}
        VehicleKind::Van => return van_mesh([l, w, h], paint, glass, tyre),
        VehicleKind::Bus => return bus_mesh([l, w, h], paint, glass, tyre),
        VehicleKind::Truck => return truck_mesh([l, w, h], paint, glass, tyre),
        VehicleKind::Motorcycle => return motorcycle_mesh([l, w, h], paint, paint_index, tyre),
        VehicleKind::Bicycle => return bicycle_mesh([l, w, h], paint_index, tyre),
    }
    // Side profile: bumpers, bonnet, windscreen, roof, rear window, boot.
    let mut m = ground_shadow(l, w);
    m.append(&prism(
        &[
            [-l / 2.0, 0.3],
            [l / 2.0, 0.3],
            [l / 2.0, 0.68],
            [l / 2.0 - 0.3, 0.86],
            [-l / 2.0 + 0.15, 0.9],
            [-l / 2.0, 0.75],
        ],
        -w / 2.0,
        w / 2.0,
        paint,
    ));
    let (front, back) = (l * 0.2, -l * 0.33);
    m.append(&prism(
        &[[back, 0.86], [front, 0.86], [front - 0.75, h - 0.05], [back + 0.45, h - 0.05]],
        -w * 0.45,
        w * 0.45,
        glass,
    ));
    m.append(&prism(
        &[[back + 0.42, h - 0.06], [front - 0.72, h - 0.06], [front - 0.74, h], [back + 0.45, h]],
        -w * 0.46,
        w * 0.46,
        paint,
    ));
    // Door pillar between the side windows.
    let pillar = 0.5 * (back + front) - 0.1;
    m.append(&cuboid([pillar - 0.05, -w * 0.455, 0.86], [pillar + 0.05, w * 0.455, h - 0.05], paint));
    lights(&mut m, l, w, 0.55, 0.68);
    wheels(&mut m, &[l * 0.32, -l * 0.32], w, 0.32, tyre);
    m
}

/// A dark rectangle on the road under a vehicle: the contact shadow that
/// anchors it to the ground.
fn ground_shadow(l: f32, w: f32) -> MeshData {
    cuboid([-l / 2.0, -w / 2.0, 0.0], [l / 2.0, w / 2.0, 0.01], rgba([0.02, 0.02, 0.02]))
}

/// Headlights at the front (+x) and red lamps at the back, from `z0` to `z1`.
/// Below them, dark bumpers across both ends with a blank, light number
/// plate in the middle of each (no characters: nothing to read).
fn lights(m: &mut MeshData, l: f32, w: f32, z0: f32, z1: f32) {
    for y in [w / 2.0 - 0.35, -w / 2.0 + 0.1] {
        m.append(&cuboid([l / 2.0 - 0.02, y, z0], [l / 2.0 + 0.005, y + 0.25, z1], rgba([0.95, 0.92, 0.8])));
        m.append(&cuboid([-l / 2.0 - 0.005, y, z0], [-l / 2.0 + 0.02, y + 0.25, z1], rgba([0.6, 0.02, 0.02])));
    }
    let (b0, b1) = (z0 - 0.3, z0 - 0.1);
    let bumper = rgba([0.06, 0.06, 0.07]);
    let plate = rgba([0.85, 0.85, 0.82]);
    for end in [1.0f32, -1.0] {
        let x = end * l / 2.0;
        m.append(&cuboid([x.min(x + end * 0.008), -w / 2.0, b0], [x.max(x + end * 0.008), w / 2.0, b1], bumper));
        let face = x + end * 0.008;
        m.append(&cuboid(
            [face.min(face + end * 0.004), -0.26, b0 + 0.04],
            [face.max(face + end * 0.004), 0.26, b1 - 0.04],
            plate,
        ));
    }
}

/// The wheels of a vehicle: at each `x`, a pair at the body's sides, of
/// radius `r`, each a dark tyre with a light hub on its outer face.
fn wheels(m: &mut MeshData, xs: &[f32], w: f32, r: f32, tyre: [f32; 4]) {
    let hub = rgba([0.55, 0.55, 0.57]);
    for &x in xs {
        for side in [1.0f32, -1.0] {
            let outer = side * w / 2.0;
            m.append(&limb([x, outer, r], [x, outer - side * 0.25, r], [r, r], [1.0, 0.0, 0.0], 10, tyre));
            let face = outer + side * 0.002;
            m.append(&limb([x, face, r], [x, face - side * 0.01, r], [r * 0.55, r * 0.55], [1.0, 0.0, 0.0], 8, hub));
        }
    }
}

/// A high-roof van: one tall box, a sloping windscreen band in front, side
/// windows in the cab only.
fn van_mesh([l, w, h]: [f32; 3], paint: [f32; 4], glass: [f32; 4], tyre: [f32; 4]) -> MeshData {
    let mut m = ground_shadow(l, w);
    m.append(&cuboid([-l / 2.0, -w / 2.0, 0.35], [l / 2.0 - 0.6, w / 2.0, h], paint));
    lights(&mut m, l, w, 0.7, 0.85);
    // Bonnet, then the windscreen above it.
    m.append(&cuboid([l / 2.0 - 0.6, -w / 2.0, 0.35], [l / 2.0, w / 2.0, 1.05], paint));
    m.append(&cuboid([l / 2.0 - 0.62, -w * 0.46, 1.05], [l / 2.0 - 0.3, w * 0.46, h - 0.45], glass));
    m.append(&cuboid([l / 2.0 - 1.6, -w / 2.0 - 0.01, 1.1], [l / 2.0 - 0.62, w / 2.0 + 0.01, h - 0.5], glass));
    wheels(&mut m, &[l * 0.33, -l * 0.33], w, 0.34, tyre);
    m
}

/// A city bus: a long box, a band of windows along both sides and across
/// the front, a dark skirt.
fn bus_mesh([l, w, h]: [f32; 3], paint: [f32; 4], glass: [f32; 4], tyre: [f32; 4]) -> MeshData {
    let mut m = ground_shadow(l, w);
    m.append(&cuboid([-l / 2.0, -w / 2.0, 0.3], [l / 2.0, w / 2.0, h], paint));
    lights(&mut m, l, w, 0.6, 0.75);
    m.append(&cuboid([-l / 2.0 + 0.4, -w / 2.0 - 0.01, 1.15], [l / 2.0 + 0.01, w / 2.0 + 0.01, h - 0.35], glass));
    m.append(&cuboid([-l / 2.0, -w / 2.0 - 0.02, 0.3], [l / 2.0, w / 2.0 + 0.02, 0.55], rgba([0.1, 0.1, 0.1])));
    // Pillars between the side windows, about every 1.6 m.
    let panes = (l / 1.6).round().max(1.0) as usize;
    for i in 1..panes {
        let x = -l / 2.0 + 0.4 + (l - 0.4) * i as f32 / panes as f32;
        m.append(&cuboid([x - 0.06, -w / 2.0 - 0.015, 1.15], [x + 0.06, w / 2.0 + 0.015, h - 0.35], paint));
    }
    wheels(&mut m, &[l * 0.3, -l * 0.22], w, 0.5, tyre);
    m
}

/// A rigid lorry: a cab in front, a taller cargo box behind, a gap
/// between them.
fn truck_mesh([l, w, h]: [f32; 3], paint: [f32; 4], glass: [f32; 4], tyre: [f32; 4]) -> MeshData {
    let cab = 2.0;
    let mut m = ground_shadow(l, w);
    lights(&mut m, l, w, 0.75, 0.9);
    m.append(&cuboid([l / 2.0 - cab, -w / 2.0, 0.5], [l / 2.0, w / 2.0, 2.9], paint));
    m.append(&cuboid([l / 2.0 - 0.05, -w * 0.45, 1.6], [l / 2.0 + 0.01, w * 0.45, 2.6], glass));
    m.append(&cuboid([l / 2.0 - cab + 0.3, -w / 2.0 - 0.01, 1.7], [l / 2.0 - 0.2, w / 2.0 + 0.01, 2.6], glass));
    m.append(&cuboid([-l / 2.0, -w / 2.0, 0.9], [l / 2.0 - cab - 0.2, w / 2.0, h], rgba([0.82, 0.82, 0.8])));
    m.append(&cuboid([-l / 2.0, -0.5, 0.5], [l / 2.0 - cab, 0.5, 0.9], rgba([0.1, 0.1, 0.1])));
    wheels(&mut m, &[l / 2.0 - 1.2, -l * 0.3], w, 0.5, tyre);
    m
}

/// A city bicycle with its rider upright on it: two spoked-looking rings for
/// wheels, a diamond frame, a handlebar, and a rider (clothes from the
/// people's palettes by `look`) with legs to the pedals and arms to the bar.
fn bicycle_mesh([l, w, h]: [f32; 3], look: u8, tyre: [f32; 4]) -> MeshData {
    let r = 0.34;
    let tube = 0.025;
    let hub_z = r + tube;
    let (front, back) = (l / 2.0 - r - tube, -(l / 2.0 - r - tube));
    let mut m = MeshData::default();
    // Each wheel a ring of 14 short tubes, and a hub.
    let metal = rgba([0.6, 0.6, 0.62]);
    for x in [front, back] {
        let n = 14;
        for i in 0..n {
            let (a0, a1) = (TAU * i as f32 / n as f32, TAU * (i + 1) as f32 / n as f32);
            let p = |a: f32| [x + r * a.cos(), 0.0, hub_z + r * a.sin()];
            m.append(&limb(p(a0), p(a1), [tube, tube], [0.0, 1.0, 0.0], 5, tyre));
        }
        m.append(&limb([x, -0.04, hub_z], [x, 0.04, hub_z], [0.05, 0.05], [1.0, 0.0, 0.0], 6, metal));
    }
    let frame = rgba(PAINT[look as usize % PAINT.len()]);
    let (seat, head, crank) = ([-0.2, 0.0, 0.95], [front - 0.18, 0.0, 0.98], [0.0, 0.0, 0.32]);
    for (a, b) in [
        ([back, 0.0, hub_z], seat),
        ([back, 0.0, hub_z], crank),
        (crank, seat),
        (crank, head),
        (seat, head),
        (head, [front, 0.0, hub_z]),
    ] {
        m.append(&limb(a, b, [0.022, 0.022], [0.0, 1.0, 0.0], 5, frame));
    }
    let bar = [head[0] - 0.05, 0.0, 1.05];
    m.append(&limb(
        [bar[0], 0.02 - w / 2.0, bar[2]],
        [bar[0], w / 2.0 - 0.02, bar[2]],
        [0.02, 0.02],
        [1.0, 0.0, 0.0],
        5,
        metal,
    ));
    // The rider.
    let top = rgba(TOPS[look as usize % TOPS.len()]);
    let bottom = rgba(BOTTOMS[look as usize % BOTTOMS.len()]);
    let skin = rgba(SKIN[look as usize % SKIN.len()]);
    let hip = [seat[0], 0.0, seat[2] + 0.08];
    for (y, pedal) in [(0.11f32, [0.12, 0.11, 0.25]), (-0.11, [-0.1, -0.11, 0.42])] {
        let knee = [hip[0] + 0.38, y, 0.68];
        m.append(&limb([hip[0], y, hip[2]], knee, [0.07, 0.07], [0.0, 1.0, 0.0], 6, bottom));
        m.append(&limb(knee, pedal, [0.055, 0.055], [0.0, 1.0, 0.0], 6, bottom));
    }
    let shoulders = [hip[0] + 0.2, 0.0, 1.45];
    m.append(&limb([hip[0], 0.0, hip[2]], shoulders, [0.18, 0.11], [0.0, 1.0, 0.0], 8, top));
    for y in [0.19f32, -0.19] {
        m.append(&limb(
            [shoulders[0], y, shoulders[2] - 0.04],
            [bar[0], y * 1.2, bar[2] + 0.02],
            [0.045, 0.045],
            [0.0, 1.0, 0.0],
            6,
            top,
        ));
    }
    m.append(&ellipsoid([shoulders[0] + 0.04, 0.0, h - 0.12], [0.1, 0.09, 0.12], 10, 6, skin));
    m
}

/// A motorcycle with its rider seated on it, in the parts a detector knows
/// it by: thick tyres round dark rims, a bright fork up to a headlight and
/// handlebar, a large painted tank and tail, a dark engine with bright
/// cylinders, a bright exhaust, a seat, a contact shadow, and a rider (a
/// jacket from the people's palette by `look`, a helmet of the bike's
/// paint) with feet on the pegs and arms to the bar. YOLOv4-tiny found
/// none of the earlier box-bodied motorcycles (docs/PERFORMANCE.md,
/// "Motorcycles a detector finds").
fn motorcycle_mesh([l, w, h]: [f32; 3], paint: [f32; 4], look: u8, tyre: [f32; 4]) -> MeshData {
    let r = 0.32;
    let (front, back) = (l / 2.0 - r, -l / 2.0 + r);
    let metal = rgba([0.5, 0.5, 0.52]);
    let rim = rgba([0.32, 0.32, 0.34]);
    let chrome = rgba([0.82, 0.82, 0.84]);
    let mut m = disc([0.0, 0.0], [l / 2.0, 0.35], 0.012, 16, rgba([0.02, 0.02, 0.02]));
    for x in [front, back] {
        m.append(&limb([x, -0.08, r], [x, 0.08, r], [r, r], [1.0, 0.0, 0.0], 14, tyre));
        m.append(&limb([x, -0.085, r], [x, 0.085, r], [r - 0.11, r - 0.11], [1.0, 0.0, 0.0], 14, rim));
        m.append(&limb([x, -0.09, r], [x, 0.09, r], [0.06, 0.06], [1.0, 0.0, 0.0], 8, metal));
    }
    // Fork to the steering head, headlight, handlebar, front mudguard.
    let head = [front - 0.24, 0.0, 0.98];
    for y in [0.09f32, -0.09] {
        m.append(&limb([front, y, r], [head[0], y, head[2]], [0.03, 0.03], [0.0, 1.0, 0.0], 6, chrome));
    }
    m.append(&ellipsoid([head[0] + 0.1, 0.0, 0.9], [0.07, 0.09, 0.09], 10, 6, rgba([0.95, 0.93, 0.8])));
    let bar = head[0] - 0.03;
    m.append(&limb(
        [bar, 0.025 - w / 2.0, 1.02],
        [bar, w / 2.0 - 0.025, 1.02],
        [0.025, 0.025],
        [1.0, 0.0, 0.0],
        6,
        metal,
    ));
    m.append(&limb(
        [front - 0.25, 0.0, r + 0.33],
        [front + 0.2, 0.0, r + 0.24],
        [0.04, 0.08],
        [0.0, 1.0, 0.0],
        6,
        paint,
    ));
    // Frame, tank, seat and tail; engine, swingarm and exhaust below.
    m.append(&limb(head, [-0.1, 0.0, 0.45], [0.035, 0.035], [0.0, 1.0, 0.0], 6, metal));
    m.append(&ellipsoid([front - 0.6, 0.0, 0.88], [0.32, 0.19, 0.15], 12, 6, paint));
    m.append(&cuboid([-0.55, -0.13, 0.78], [front - 0.8, 0.13, 0.88], rgba([0.05, 0.05, 0.05])));
    m.append(&cuboid([back - 0.05, -0.1, 0.74], [-0.5, 0.1, 0.84], paint));
    m.append(&cuboid([-0.28, -0.17, 0.26], [0.3, 0.17, 0.55], rgba([0.3, 0.3, 0.32])));
    for (a, b) in [([-0.05, 0.0, 0.5], [-0.2, 0.0, 0.78]), ([0.1, 0.0, 0.5], [0.3, 0.0, 0.76])] {
        m.append(&limb(a, b, [0.11, 0.2], [0.0, 1.0, 0.0], 8, chrome));
    }
    for y in [0.1f32, -0.1] {
        m.append(&limb([-0.15, y, 0.42], [back, y, r], [0.03, 0.03], [0.0, 1.0, 0.0], 6, metal));
    }
    m.append(&limb([0.25, 0.18, 0.3], [back - 0.05, 0.2, 0.44], [0.05, 0.05], [0.0, 1.0, 0.0], 8, chrome));
    // The rider: knees bent to the pegs, torso leaning forward, arms to the bar.
    let jacket = rgba(TOPS[[0, 1, 3, 5, 6, 7][look as usize % 6]]);
    let trousers = rgba([0.12, 0.14, 0.25]);
    let hip = [-0.38, 0.0, 0.92];
    for y in [0.17f32, -0.17] {
        let knee = [0.02, y * 1.15, 0.78];
        m.append(&limb([hip[0], y, hip[2]], knee, [0.08, 0.08], [0.0, 1.0, 0.0], 6, trousers));
        m.append(&limb(knee, [-0.08, y * 1.2, 0.38], [0.06, 0.06], [0.0, 1.0, 0.0], 6, trousers));
    }
    let shoulders = [-0.2, 0.0, 1.28];
    m.append(&limb(hip, shoulders, [0.19, 0.13], [0.0, 1.0, 0.0], 8, jacket));
    for y in [0.2f32, -0.2] {
        m.append(&limb(
            [shoulders[0], y, shoulders[2] - 0.04],
            [bar, y * 1.4, 1.02],
            [0.05, 0.05],
            [0.0, 1.0, 0.0],
            6,
            jacket,
        ));
    }
    m.append(&ellipsoid([shoulders[0] + 0.06, 0.0, h - 0.14], [0.14, 0.13, 0.14], 10, 6, paint));
    m
}

/// A dark ellipse on the ground under a person: a cheap stand-in for the
/// contact shadow that helps detectors separate feet from pavement.
pub fn shadow_mesh() -> MeshData {
    disc([0.0, 0.0], [0.38, 0.30], 0.015, 10, [0.05, 0.05, 0.05, 1.0])
}

/// Most meshes an [`AgentLibrary`] keeps (about 28 KB each), far fewer
/// than the 38,400 possible looks and phases: a mesh missing is rebuilt in
/// about 0.1 ms, while a long run fills whatever bound it is given with
/// looks of people long gone. 1,024 let a 10-minute clip peak 13-14 % above
/// a 1-minute one; 256, with the renderer keeping GPU meshes 30 frames
/// instead of 100, 6 % (docs/PERFORMANCE.md, "Memory against clip length").
pub const MAX_CACHED_MESHES: usize = 256;

/// Two generations of meshes: those used since the last turnover, and those
/// used in the generation before.
#[derive(Debug, Default)]
struct Generations {
    current: HashMap<MeshKey, Arc<MeshData>>,
    previous: HashMap<MeshKey, Arc<MeshData>>,
}

/// Builds and caches every agent mesh by key; the renderer and the
/// ground-truth boxes share it so both see identical geometry.
#[derive(Debug, Clone, Default)]
pub struct AgentLibrary {
    cache: Arc<Mutex<Generations>>,
}

impl AgentLibrary {
    /// An empty library.
    pub fn new() -> Self {
        Self::default()
    }

    /// The mesh for `key`, built on first use.
    ///
    /// The cache holds at most [`MAX_CACHED_MESHES`], in two generations:
    /// when the current one is half full it becomes the previous one and the
    /// older is dropped. A mesh still in use moves up on its next use, so the
    /// people in view keep theirs and the looks of people long gone go; memory
    /// does not grow with the number of distinct people a long run sees.
    pub fn get(&self, key: MeshKey) -> Arc<MeshData> {
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(mesh) = cache.current.get(&key) {
            return mesh.clone();
        }
        if cache.current.len() >= MAX_CACHED_MESHES / 2 {
            let full = std::mem::take(&mut cache.current);
            cache.previous = full;
        }
        let mesh = cache.previous.remove(&key).unwrap_or_else(|| Arc::new(build(key)));
        cache.current.insert(key, mesh.clone());
        mesh
    }

    /// Meshes held now (both generations), for tests of the bound.
    pub fn cached(&self) -> usize {
        let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.current.len() + cache.previous.len()
    }
}

fn build(key: MeshKey) -> MeshData {
    let k = key.0;
    match k & (0xF << 60) {
        KIND_PERSON => {
            let look = PersonLook {
                skin: (k & 0xFF) as u8,
                top: (k >> 8 & 0xFF) as u8,
                bottom: (k >> 16 & 0xFF) as u8,
                hair: (k >> 24 & 0xFF) as u8,
                height: (k >> 32 & 0xFF) as u8,
            };
            person_mesh(look, (k >> 40 & 0xFF) as u8)
        }
        KIND_CAR => car_mesh((k & 0xFF) as u8, (k >> 8 & 0xFF) as u8),
        _ => shadow_mesh(),
    }
}

impl MeshLibrary for AgentLibrary {
    fn mesh(&self, key: MeshKey) -> MeshData {
        self.get(key).as_ref().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_face_is_above_the_face_floor() {
        use crate::truth::{FACE_CENTRE_SHARE, FACE_FLOOR_M, FACE_HEIGHT_M};
        for h in HEIGHTS {
            let bottom = h * FACE_CENTRE_SHARE - FACE_HEIGHT_M / 2.0;
            assert!(bottom >= FACE_FLOOR_M + 0.1, "a {h} m person's face starts at {bottom} m");
        }
    }

    #[test]
    fn person_is_as_tall_as_its_height_and_low_poly() {
        for h in 0..4 {
            let look = PersonLook { skin: 0, top: 1, bottom: 2, hair: 0, height: h };
            for phase in 0..WALK_PHASES {
                let m = person_mesh(look, phase);
                let top = m.positions.iter().map(|p| p[2]).fold(f32::MIN, f32::max);
                let bottom = m.positions.iter().map(|p| p[2]).fold(f32::MAX, f32::min);
                assert!((top - look.height_m()).abs() < 0.06, "top {top} for {}", look.height_m());
                assert!((-1e-4..0.05).contains(&bottom), "feet at {bottom}");
                assert!(m.triangle_count() < 700, "{} triangles", m.triangle_count());
            }
        }
    }

    #[test]
    fn every_vehicle_mesh_fills_the_body_its_sensors_measure() {
        // Ground-truth boxes, loops and car following use the size; the
        // renderer draws the mesh: they must agree.
        for model in 0..FLEET_MODELS as u8 {
            let v = vehicle_model(model);
            let m = car_mesh(1, model);
            for (d, want) in v.size_m.iter().enumerate() {
                let lo = m.positions.iter().map(|p| p[d]).fold(f32::MAX, f32::min);
                let hi = m.positions.iter().map(|p| p[d]).fold(f32::MIN, f32::max);
                let (lo_want, hi_want) = if d == 2 { (0.0, *want) } else { (-want / 2.0, want / 2.0) };
                assert!(
                    (lo - lo_want).abs() < 0.06 && (hi - hi_want).abs() < 0.06,
                    "{} axis {d}: {lo}..{hi} for {want}",
                    v.name
                );
            }
            assert!(m.triangle_count() < 1500, "{}: {} triangles", v.name, m.triangle_count());
            assert_eq!(vehicle_size(car_key(0, model)), Some(v.size_m));
        }
        assert_eq!(MAX_CAR_SIZE, [12.0, 2.55, 3.4]);
    }

    #[test]
    fn keys_round_trip_through_the_library() {
        let look = PersonLook { skin: 3, top: 9, bottom: 5, hair: 2, height: 1 };
        let lib = AgentLibrary::new();
        assert_eq!(*lib.get(person_key(look, 5)), person_mesh(look, 5));
        assert_eq!(*lib.get(car_key(2, 3)), car_mesh(2, 3));
        assert_eq!(*lib.get(shadow_key()), shadow_mesh());
    }

    #[test]
    fn the_library_stays_bounded_and_keeps_meshes_in_use() {
        let lib = AgentLibrary::new();
        let in_view = person_key(PersonLook { skin: 1, top: 1, bottom: 1, hair: 1, height: 1 }, 0);
        let first = lib.get(in_view);
        for i in 0..4 * MAX_CACHED_MESHES as u64 {
            let look = PersonLook { skin: (i % 7) as u8, top: (i / 7 % 200) as u8, bottom: 3, hair: 2, height: 0 };
            lib.get(person_key(look, (i / 1400 % 8) as u8));
            if i % 100 == 0 {
                // Used every few frames: never rebuilt.
                assert!(Arc::ptr_eq(&first, &lib.get(in_view)), "a mesh in use was dropped at {i}");
            }
            assert!(lib.cached() <= MAX_CACHED_MESHES, "{} meshes held", lib.cached());
        }
    }
}
