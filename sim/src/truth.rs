//! Per-camera ground truth: each agent's 2D box from its projected posed
//! geometry, its visible fraction (ray casts through rapier against the other
//! agents and the buildings) and its identifiability in pixels per metre.
//!
//! Boxes come from the min/max of projected mesh vertices, not from a 3D
//! bounding volume: volume boxes are too large and turn correct detections
//! into misses.

use rapier3d::prelude::*;

use crate::body::AgentLibrary;
use crate::geometry::{CameraView, Instance};
use crate::street::StreetLayout;
use crate::world::{ObjectClass, Snapshot};

/// Ground truth for one agent in one camera frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruthBox {
    /// Agent id.
    pub agent: u32,
    /// Its class.
    pub class: ObjectClass,
    /// Box in pixels `[x0, y0, x1, y1]`, clipped to the image.
    pub bbox: [f32; 4],
    /// Share of the agent's sample points that are inside the image and not
    /// hidden by another agent or a building, 0..=1.
    pub visible_fraction: f32,
    /// What the other sample points were lost to: the reason a camera could
    /// not see someone, for a camera's placement.
    pub blocked: Blocked,
    /// Pixels per metre at the agent's head (EN 62676-4 DORI measure).
    pub pixels_per_metre: f32,
    /// The person's face as this camera sees it (persons whose head
    /// projects into the image only).
    pub face: Option<TruthFace>,
    /// What the rendered frame's id buffer shows of the agent, when the
    /// frame was rendered with tags ([`TruthCamera::measure_pixels`]).
    pub pixels: Option<PixelTruth>,
}

/// One agent's visible pixels in one rendered frame, read from the
/// renderer's id buffer.
///
/// Exists so that exported labels give the box of what is actually seen of
/// a partly hidden person, and a visible share taken from the same pixels
/// as the image, instead of the projected geometry and ray-cast samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelTruth {
    /// Box of the visible pixels `[x0, y0, x1, y1]` (pixel edges), `None`
    /// when no pixel of the agent is visible.
    pub bbox: Option<[f32; 4]>,
    /// Pixels of the image that show the agent.
    pub visible_px: u32,
    /// Pixels the agent's silhouette covers with nothing in front of it,
    /// including the part outside the image ([`silhouette_px`]).
    pub silhouette_px: u32,
}

impl PixelTruth {
    /// Visible share of the silhouette, 0..=1.
    pub fn visible_fraction(&self) -> f32 {
        if self.silhouette_px == 0 { 0.0 } else { (self.visible_px as f32 / self.silhouette_px as f32).min(1.0) }
    }
}

/// Most agents a frame can tag: the renderer's tags are 8 bits and 0 means
/// nobody.
pub const MAX_TAGGED: usize = 255;

/// Pixels whose centre lies inside the projection of `mesh` placed by
/// `instance`, counted on an unbounded image plane (parts outside the
/// `width` × `height` image count too, up to one image size beyond each
/// edge): the agent's silhouette with nothing in front of it.
///
/// The renderer fills the same pixels (pixel-centre sampling of the same
/// projection), so visible pixels over this count is the visible share.
/// Triangles with a corner behind the camera are skipped.
pub fn silhouette_px(view: &CameraView, mesh: &crate::geometry::MeshData, instance: &Instance) -> u32 {
    let projected: Vec<Option<[f32; 2]>> =
        mesh.positions.iter().map(|&p| view.project(world_point(instance, p))).collect();
    let (w, h) = (view.width as f32, view.height as f32);
    let mut lo = [f32::MAX, f32::MAX];
    let mut hi = [f32::MIN, f32::MIN];
    for p in projected.iter().flatten() {
        lo = [lo[0].min(p[0]), lo[1].min(p[1])];
        hi = [hi[0].max(p[0]), hi[1].max(p[1])];
    }
    let x0 = lo[0].max(-w).floor() as i64;
    let y0 = lo[1].max(-h).floor() as i64;
    let x1 = hi[0].min(2.0 * w).ceil() as i64;
    let y1 = hi[1].min(2.0 * h).ceil() as i64;
    if x1 <= x0 || y1 <= y0 {
        return 0;
    }
    let cols = (x1 - x0) as usize;
    let mut covered = vec![false; cols * (y1 - y0) as usize];
    for tri in mesh.indices.chunks_exact(3) {
        let corner = |k: usize| projected.get(tri[k] as usize).copied().flatten();
        let (Some(a), Some(b), Some(c)) = (corner(0), corner(1), corner(2)) else { continue };
        let area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
        if area.abs() < 1e-9 {
            continue;
        }
        let edge = |p: [f32; 2], q: [f32; 2], x: f32, y: f32| {
            ((q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0])) * area.signum()
        };
        let tx0 = (a[0].min(b[0]).min(c[0]).floor() as i64).max(x0);
        let ty0 = (a[1].min(b[1]).min(c[1]).floor() as i64).max(y0);
        let tx1 = (a[0].max(b[0]).max(c[0]).ceil() as i64).min(x1);
        let ty1 = (a[1].max(b[1]).max(c[1]).ceil() as i64).min(y1);
        for y in ty0..ty1 {
            let cy = y as f32 + 0.5;
            for x in tx0..tx1 {
                let cx = x as f32 + 0.5;
                if edge(a, b, cx, cy) >= 0.0 && edge(b, c, cx, cy) >= 0.0 && edge(c, a, cx, cy) >= 0.0 {
                    covered[(y - y0) as usize * cols + (x - x0) as usize] = true;
                }
            }
        }
    }
    covered.iter().filter(|&&c| c).count() as u32
}

/// A person's face in one camera frame: where it is and whether it is
/// turned towards the camera, for measuring identifiable face time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruthFace {
    /// Face box in pixels `[x0, y0, x1, y1]`: [`FACE_WIDTH_M`] by
    /// [`FACE_HEIGHT_M`] around the face centre, at the head's scale.
    pub bbox: [f32; 4],
    /// Angle between the direction the face points (the body's heading,
    /// horizontal) and the direction from the face to the camera, degrees:
    /// 0 looks into the lens, 90 is a profile, 180 the back of the head.
    pub yaw_deg: f32,
    /// Whether the line of sight from the camera to the face centre is
    /// blocked by another person, a car or a building.
    pub occluded: bool,
}

/// Width of a face box, metres (bizygomatic breadth, about 14 cm, plus the
/// ears' margin).
pub const FACE_WIDTH_M: f32 = 0.16;
/// Height of a face box, metres (chin to hairline, about 19 cm, plus margin).
pub const FACE_HEIGHT_M: f32 = 0.22;
/// Height of the face centre as a share of standing height (eye level is
/// about 93 % of stature).
pub const FACE_CENTRE_SHARE: f32 = 0.915;
/// Lowest height of a face's lower edge above the ground, metres: the
/// shortest simulated child (1.15 m) has its face box from 0.94 m; 0.8 m
/// leaves room for a head bent down. The face blur need not look lower
/// ([`crate::geometry::CameraView::face_band`]).
pub const FACE_FLOOR_M: f32 = 0.8;

impl TruthBox {
    /// Box height in pixels.
    pub fn height(&self) -> f32 {
        self.bbox[3] - self.bbox[1]
    }
}

/// Shares of an agent's sample points (as in [`TruthBox::visible_fraction`])
/// that a camera did not see, by what hid them; with the visible fraction
/// they add up to 1.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Blocked {
    /// Behind another person.
    pub people: f32,
    /// Behind a vehicle, moving or parked.
    pub vehicles: f32,
    /// Behind a building.
    pub buildings: f32,
    /// Outside the image.
    pub outside: f32,
}

/// Why a true crossing was or was not visible to a camera
/// ([`CrossingVisibility::sight`]): what a policymaker can change (mount
/// the camera higher, away from parked cars, nearer the line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sight {
    /// Visible: enough good frames near the line.
    Visible,
    /// Hidden mostly by other people (groups, crowds).
    HiddenByPeople,
    /// Hidden mostly by vehicles.
    HiddenByVehicles,
    /// Hidden mostly by buildings.
    HiddenByBuildings,
    /// Mostly outside the image (the edge of the frame cut the person).
    CutByEdge,
    /// Seen, but smaller than [`VISIBLE_MIN_HEIGHT_PX`] in too many frames.
    TooSmall,
    /// In the image in fewer than [`VISIBLE_MIN_FRAMES`] frames near the line.
    OutOfView,
}

impl Sight {
    /// The name written in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Sight::Visible => "visible",
            Sight::HiddenByPeople => "hidden_by_people",
            Sight::HiddenByVehicles => "hidden_by_vehicles",
            Sight::HiddenByBuildings => "hidden_by_buildings",
            Sight::CutByEdge => "cut_by_image_edge",
            Sight::TooSmall => "too_small",
            Sight::OutOfView => "out_of_view",
        }
    }
}

fn world_point(inst: &Instance, p: [f32; 3]) -> [f32; 3] {
    let (s, c) = inst.yaw_rad.sin_cos();
    [inst.translation[0] + c * p[0] - s * p[1], inst.translation[1] + s * p[0] + c * p[1], inst.translation[2] + p[2]]
}

/// Computes ground truth for every agent at least partly in view of a camera.
pub struct TruthCamera {
    view: CameraView,
    library: AgentLibrary,
    buildings: Vec<(Vector, Vector)>,
}

impl TruthCamera {
    /// Ground truth for `view` on `layout`, using the shared mesh `library`.
    pub fn new(view: CameraView, layout: &StreetLayout, library: AgentLibrary) -> Self {
        let facade = layout.half_road + layout.sidewalk;
        let half_len = layout.half_length + 40.0;
        let half_h = layout.building_height / 2.0;
        // Building blocks behind each sidewalk, as occluders (centre, half extents).
        let buildings = [-1.0f32, 1.0]
            .iter()
            .map(|s| (Vector::new(0.0, s * (facade + 5.0), half_h), Vector::new(half_len, 5.0, half_h)))
            .collect();
        Self { view, library, buildings }
    }

    /// The camera this ground truth is for.
    pub fn view(&self) -> &CameraView {
        &self.view
    }

    /// Ground-truth boxes of the agents in `snapshot` that project into the image.
    pub fn boxes(&self, snapshot: &Snapshot) -> Vec<TruthBox> {
        let (w, h) = (self.view.width as f32, self.view.height as f32);
        // Occluders: one collider per agent and per building block.
        let mut colliders = ColliderSet::new();
        let mut handles = Vec::with_capacity(snapshot.agents.len());
        for a in &snapshot.agents {
            let t = a.instance.translation;
            let collider = match a.class {
                ObjectClass::Person => {
                    let r = 0.2;
                    let half = (a.height_m / 2.0 - r).max(0.05);
                    ColliderBuilder::capsule_z(half, r).translation(Vector::new(t[0], t[1], a.height_m / 2.0)).build()
                }
                _ => {
                    let [l, wd, hh] = a.vehicle_size_m();
                    ColliderBuilder::cuboid(l / 2.0, wd / 2.0, hh / 2.0)
                        .translation(Vector::new(t[0], t[1], hh / 2.0 + 0.1))
                        .rotation(Vector::new(0.0, 0.0, a.instance.yaw_rad))
                        .build()
                }
            };
            handles.push(colliders.insert(collider));
        }
        for (centre, half) in &self.buildings {
            colliders.insert(ColliderBuilder::cuboid(half.x, half.y, half.z).translation(*centre).build());
        }
        // What each collider is, for what hid a sample point.
        let kind_of: std::collections::HashMap<ColliderHandle, ObjectClass> =
            handles.iter().zip(&snapshot.agents).map(|(h, a)| (*h, a.class)).collect();
        let mut broad_phase = BroadPhaseBvh::new();
        let params = IntegrationParameters::default();
        for (handle, co) in colliders.iter() {
            broad_phase.set_aabb(&params, handle, co.compute_aabb());
        }
        let bodies = RigidBodySet::new();
        let narrow = NarrowPhase::new();
        let eye = Vector::new(self.view.position[0], self.view.position[1], self.view.position[2]);

        let mut out = Vec::new();
        for (a, &own) in snapshot.agents.iter().zip(&handles) {
            let mesh = self.library.get(a.instance.mesh);
            let mut bbox = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
            let mut any_in_front = false;
            for &p in &mesh.positions {
                if let Some(px) = self.view.project(world_point(&a.instance, p)) {
                    any_in_front = true;
                    bbox = [bbox[0].min(px[0]), bbox[1].min(px[1]), bbox[2].max(px[0]), bbox[3].max(px[1])];
                }
            }
            if !any_in_front || bbox[2] < 0.0 || bbox[3] < 0.0 || bbox[0] > w || bbox[1] > h {
                continue;
            }
            let bbox = [bbox[0].max(0.0), bbox[1].max(0.0), bbox[2].min(w), bbox[3].min(h)];
            if bbox[2] - bbox[0] < 1.0 || bbox[3] - bbox[1] < 1.0 {
                continue;
            }
            let filter = QueryFilter::default().exclude_collider(own);
            let query = broad_phase.as_query_pipeline(narrow.query_dispatcher(), &bodies, &colliders, filter);
            let stride = (mesh.positions.len() / 40).max(1);
            let (mut seen, mut total) = (0u32, 0u32);
            let mut lost = [0u32; 4];
            for &p in mesh.positions.iter().step_by(stride) {
                total += 1;
                let wp = world_point(&a.instance, p);
                let inside =
                    self.view.project(wp).is_some_and(|px| px[0] >= 0.0 && px[1] >= 0.0 && px[0] <= w && px[1] <= h);
                if !inside {
                    lost[3] += 1;
                    continue;
                }
                let target = Vector::new(wp[0], wp[1], wp[2]);
                let d = target - eye;
                let dist = d.length();
                let ray = Ray::new(eye, d / dist);
                match query.cast_ray(&ray, dist - 0.05, true) {
                    None => seen += 1,
                    Some((hit, _)) => match kind_of.get(&hit) {
                        Some(ObjectClass::Person) => lost[0] += 1,
                        Some(_) => lost[1] += 1,
                        None => lost[2] += 1,
                    },
                }
            }
            let share = |n: u32| if total > 0 { n as f32 / total as f32 } else { 0.0 };
            let blocked = Blocked {
                people: share(lost[0]),
                vehicles: share(lost[1]),
                buildings: share(lost[2]),
                outside: share(lost[3]),
            };
            let head = world_point(&a.instance, [0.0, 0.0, a.height_m * 0.93]);
            let face = (a.class == ObjectClass::Person)
                .then(|| {
                    let centre = world_point(&a.instance, [0.1, 0.0, a.height_m * FACE_CENTRE_SHARE]);
                    let px = self.view.project(centre)?;
                    if px[0] < 0.0 || px[1] < 0.0 || px[0] > w || px[1] > h {
                        return None;
                    }
                    let ppm = self.view.pixels_per_metre(centre);
                    let (hw, hh) = (FACE_WIDTH_M * ppm / 2.0, FACE_HEIGHT_M * ppm / 2.0);
                    let to_cam = Vector::new(
                        self.view.position[0] - centre[0],
                        self.view.position[1] - centre[1],
                        self.view.position[2] - centre[2],
                    );
                    let dist = to_cam.length().max(1e-3);
                    let (s, c) = a.instance.yaw_rad.sin_cos();
                    let cos = ((c * to_cam.x + s * to_cam.y) / dist).clamp(-1.0, 1.0);
                    let target = Vector::new(centre[0], centre[1], centre[2]);
                    let d = target - eye;
                    let ray = Ray::new(eye, d / d.length().max(1e-3));
                    let occluded = query.cast_ray(&ray, d.length() - 0.05, true).is_some();
                    Some(TruthFace {
                        bbox: [px[0] - hw, px[1] - hh, px[0] + hw, px[1] + hh],
                        yaw_deg: cos.acos().to_degrees(),
                        occluded,
                    })
                })
                .flatten();
            out.push(TruthBox {
                agent: a.id,
                class: a.class,
                bbox,
                visible_fraction: share(seen),
                blocked,
                pixels_per_metre: self.view.pixels_per_metre(head),
                face,
                pixels: None,
            });
        }
        out
    }

    /// The renderer tags of `snapshot`'s drawn instances (in the order of
    /// [`Snapshot::instances`]): the agent of `boxes[i]` gets tag `i + 1`
    /// for the first [`MAX_TAGGED`] boxes; shadows, agents out of view and
    /// any beyond that get 0.
    pub fn tags(snapshot: &Snapshot, boxes: &[TruthBox]) -> Vec<u8> {
        let tag_of: std::collections::HashMap<u32, u8> =
            boxes.iter().take(MAX_TAGGED).enumerate().map(|(i, b)| (b.agent, (i + 1) as u8)).collect();
        snapshot.drawn().map(|(_, agent)| agent.and_then(|a| tag_of.get(&a).copied()).unwrap_or(0)).collect()
    }

    /// Fills each box's [`TruthBox::pixels`] from `ids`, the id buffer of the
    /// frame rendered with [`tags`](Self::tags)`(snapshot, boxes)`. Boxes past
    /// [`MAX_TAGGED`] keep `None`. `ids` of the wrong size leave every box
    /// unchanged.
    pub fn measure_pixels(&self, snapshot: &Snapshot, boxes: &mut [TruthBox], ids: &[u8]) {
        let (w, h) = (self.view.width as usize, self.view.height as usize);
        if ids.len() != w * h {
            return;
        }
        let mut count = [0u32; 256];
        let mut extent = [[usize::MAX, usize::MAX, 0, 0]; 256];
        for (i, &t) in ids.iter().enumerate() {
            if t == 0 {
                continue;
            }
            let (x, y) = (i % w, i / w);
            let e = &mut extent[t as usize];
            count[t as usize] += 1;
            *e = [e[0].min(x), e[1].min(y), e[2].max(x + 1), e[3].max(y + 1)];
        }
        for (i, b) in boxes.iter_mut().enumerate().take(MAX_TAGGED) {
            let Ok(k) = snapshot.agents.binary_search_by_key(&b.agent, |a| a.id) else { continue };
            let agent = &snapshot.agents[k];
            let mesh = self.library.get(agent.instance.mesh);
            let tag = i + 1;
            let e = extent[tag];
            b.pixels = Some(PixelTruth {
                bbox: (count[tag] > 0).then(|| [e[0] as f32, e[1] as f32, e[2] as f32, e[3] as f32]),
                visible_px: count[tag],
                silhouette_px: silhouette_px(&self.view, &mesh, &agent.instance),
            });
        }
    }
}

/// Which true crossings a camera could see: a crossing is visible when, in
/// at least [`VISIBLE_MIN_FRAMES`] rendered frames while the person is within
/// [`VISIBLE_NEAR_M`] of the line (a vehicle: within that and half its
/// length), the person is at least
/// [`VISIBLE_MIN_FRACTION`] visible and [`VISIBLE_MIN_HEIGHT_PX`] tall. It
/// separates the error no camera at that spot could avoid (a walker hidden
/// behind another for the whole passage) from the pipeline's own.
#[derive(Debug, Clone)]
pub struct CrossingVisibility {
    lines: Vec<([f32; 2], [f32; 2])>,
    /// The frames in which (agent, line) was in the image near the line.
    near: std::collections::HashMap<(u32, usize), Vec<NearFrame>>,
}

/// One frame of an agent in the image near a line.
#[derive(Debug, Clone, Copy)]
struct NearFrame {
    time_s: f32,
    height_px: f32,
    visible_fraction: f32,
    blocked: Blocked,
}

impl NearFrame {
    /// Whether this frame shows the agent well enough to count.
    fn good(&self) -> bool {
        self.visible_fraction >= VISIBLE_MIN_FRACTION && self.height_px >= VISIBLE_MIN_HEIGHT_PX
    }
}

/// Minimum visible fraction for a frame to show a crossing.
pub const VISIBLE_MIN_FRACTION: f32 = 0.5;
/// Minimum box height, pixels.
pub const VISIBLE_MIN_HEIGHT_PX: f32 = 40.0;
/// Distance from the line within which frames are considered, metres.
pub const VISIBLE_NEAR_M: f32 = 1.0;
/// Frames needed.
pub const VISIBLE_MIN_FRAMES: usize = 5;
/// Frames further than this from a crossing's time belong to another
/// passage of the same agent, seconds.
const VISIBLE_WINDOW_S: f32 = 4.0;

fn distance_to_segment(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let ab = [b[0] - a[0], b[1] - a[1]];
    let len2 = ab[0] * ab[0] + ab[1] * ab[1];
    let u = if len2 > 0.0 { (((p[0] - a[0]) * ab[0] + (p[1] - a[1]) * ab[1]) / len2).clamp(0.0, 1.0) } else { 0.0 };
    let q = [a[0] + u * ab[0], a[1] + u * ab[1]];
    (p[0] - q[0]).hypot(p[1] - q[1])
}

impl CrossingVisibility {
    /// An accumulator for the scenario's counting lines (`(from, to)`, metres).
    pub fn new(lines: Vec<([f32; 2], [f32; 2])>) -> Self {
        Self { lines, near: std::collections::HashMap::new() }
    }

    /// Records one rendered frame: the snapshot and its ground-truth boxes.
    pub fn observe(&mut self, snapshot: &Snapshot, boxes: &[TruthBox]) {
        for b in boxes {
            let frame = NearFrame {
                time_s: snapshot.time_s,
                height_px: b.height(),
                visible_fraction: b.visible_fraction,
                blocked: b.blocked,
            };
            let Ok(i) = snapshot.agents.binary_search_by_key(&b.agent, |a| a.id) else { continue };
            let agent = &snapshot.agents[i];
            let t = agent.instance.translation;
            // A vehicle is at the line while its body is over it: its centre
            // within half its length more (a car at 30 km/h is within 1 m
            // of the line in only two frames at 10 fps).
            let near = match agent.class {
                ObjectClass::Person => VISIBLE_NEAR_M,
                _ => VISIBLE_NEAR_M + agent.vehicle_size_m()[0] / 2.0,
            };
            for (li, (from, to)) in self.lines.iter().enumerate() {
                if distance_to_segment([t[0], t[1]], *from, *to) <= near {
                    self.near.entry((b.agent, li)).or_default().push(frame);
                }
            }
        }
    }

    /// Whether each of `crossings` was visible and, when not, why: out of
    /// view (in the image in fewer than [`VISIBLE_MIN_FRAMES`] frames near
    /// the line), too small (fewer such frames [`VISIBLE_MIN_HEIGHT_PX`]
    /// tall), or else hidden, by what hid most of the person in those
    /// frames (people, vehicles, buildings or the image's edge).
    pub fn sight(&self, crossings: &[crate::world::Crossing]) -> Vec<Sight> {
        crossings
            .iter()
            .map(|c| {
                let frames: Vec<&NearFrame> = self
                    .near
                    .get(&(c.agent, c.line))
                    .map(|f| f.iter().filter(|f| (f.time_s - c.time_s).abs() <= VISIBLE_WINDOW_S).collect())
                    .unwrap_or_default();
                if frames.iter().filter(|f| f.good()).count() >= VISIBLE_MIN_FRAMES {
                    return Sight::Visible;
                }
                if frames.len() < VISIBLE_MIN_FRAMES {
                    return Sight::OutOfView;
                }
                let tall: Vec<&&NearFrame> = frames.iter().filter(|f| f.height_px >= VISIBLE_MIN_HEIGHT_PX).collect();
                if tall.len() < VISIBLE_MIN_FRAMES {
                    return Sight::TooSmall;
                }
                let sum = |get: fn(&Blocked) -> f32| tall.iter().map(|f| get(&f.blocked)).sum::<f32>();
                let reasons = [
                    (sum(|b| b.people), Sight::HiddenByPeople),
                    (sum(|b| b.vehicles), Sight::HiddenByVehicles),
                    (sum(|b| b.buildings), Sight::HiddenByBuildings),
                    (sum(|b| b.outside), Sight::CutByEdge),
                ];
                reasons.into_iter().max_by(|a, b| a.0.total_cmp(&b.0)).map_or(Sight::HiddenByPeople, |r| r.1)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{PersonLook, person_key};
    use crate::scenario::Street;
    use crate::world::AgentPose;

    fn person(id: u32, x: f32, y: f32) -> AgentPose {
        AgentPose {
            id,
            class: ObjectClass::Person,
            instance: Instance {
                mesh: person_key(PersonLook { skin: 0, top: 0, bottom: 0, hair: 0, height: 2 }, 0),
                translation: [x, y, 0.0],
                yaw_rad: 0.0,
            },
            height_m: 1.75,
        }
    }

    #[test]
    fn a_crossing_is_visible_only_with_enough_good_frames_near_the_line() {
        use crate::world::{Crossing, Direction};
        let mut v = CrossingVisibility::new(vec![([0.0, 3.5], [0.0, 7.0])]);
        let good = |agent, x: f32, t: f32, vis: f32| {
            let snap = Snapshot { step: 0, time_s: t, agents: vec![person(agent, x, 5.0)] };
            let b = TruthBox {
                face: None,
                agent,
                class: ObjectClass::Person,
                bbox: [0.0, 0.0, 20.0, 60.0],
                visible_fraction: vis,
                blocked: Blocked { people: 1.0 - vis, ..Default::default() },
                pixels_per_metre: 40.0,
                pixels: None,
            };
            (snap, b)
        };
        for i in 0..10 {
            let t = i as f32 * 0.1;
            let x = -0.5 + t;
            // Agent 1 seen well; agent 2 half-hidden (below the threshold).
            let (s1, b1) = good(1, x, t, 0.8);
            v.observe(&s1, &[b1]);
            let (s2, b2) = good(2, x, t, 0.3);
            v.observe(&s2, &[b2]);
        }
        let crossing = |agent, time_s| Crossing {
            line: 0,
            agent,
            class: ObjectClass::Person,
            time_s,
            direction: Direction::Positive,
            normal_speed: 1.0,
        };
        let sight = v.sight(&[crossing(1, 0.5), crossing(2, 0.5), crossing(1, 30.0)]);
        let visible: Vec<bool> = sight.into_iter().map(|s| s == Sight::Visible).collect();
        assert_eq!(visible, [true, false, false]);
    }

    #[test]
    fn an_unseen_crossing_says_what_hid_it() {
        use crate::world::{Crossing, Direction};
        let mut v = CrossingVisibility::new(vec![([0.0, 3.5], [0.0, 7.0])]);
        // Agents 1-4 hidden, each mostly by one thing; 5 too small; 6 in
        // the image in three frames only.
        let hidden = [
            (1, Blocked { people: 0.5, vehicles: 0.2, ..Default::default() }),
            (2, Blocked { people: 0.2, vehicles: 0.5, ..Default::default() }),
            (3, Blocked { buildings: 0.7, ..Default::default() }),
            (4, Blocked { outside: 0.6, people: 0.1, ..Default::default() }),
            (5, Blocked::default()),
            (6, Blocked::default()),
        ];
        for i in 0..10 {
            let t = i as f32 * 0.1;
            for (agent, blocked) in hidden {
                if agent == 6 && i >= 3 {
                    continue;
                }
                let lost = blocked.people + blocked.vehicles + blocked.buildings + blocked.outside;
                let height = if agent == 5 { 30.0 } else { 60.0 };
                let snap = Snapshot { step: 0, time_s: t, agents: vec![person(agent, -0.5 + t, 5.0)] };
                let b = TruthBox {
                    face: None,
                    agent,
                    class: ObjectClass::Person,
                    bbox: [0.0, 0.0, 20.0, height],
                    visible_fraction: 1.0 - lost,
                    blocked,
                    pixels_per_metre: 40.0,
                    pixels: None,
                };
                v.observe(&snap, &[b]);
            }
        }
        let crossing = |agent| Crossing {
            line: 0,
            agent,
            class: ObjectClass::Person,
            time_s: 0.5,
            direction: Direction::Positive,
            normal_speed: 1.0,
        };
        let crossings: Vec<Crossing> = (1..=7).map(crossing).collect();
        assert_eq!(
            v.sight(&crossings),
            [
                Sight::HiddenByPeople,
                Sight::HiddenByVehicles,
                Sight::HiddenByBuildings,
                Sight::CutByEdge,
                Sight::TooSmall,
                Sight::OutOfView,
                Sight::OutOfView
            ]
        );
    }

    #[test]
    fn a_car_at_city_speed_is_visible_while_its_body_is_over_the_line() {
        use crate::world::{Crossing, Direction};
        // A car at 8.3 m/s, seen every 0.1 s: its centre is within 1 m of
        // the line in two or three frames, its body over it in seven.
        let mut v = CrossingVisibility::new(vec![([0.0, -3.5], [0.0, 3.5])]);
        for i in 0..20 {
            let t = i as f32 * 0.1;
            let car = AgentPose {
                id: 9,
                class: ObjectClass::Car,
                instance: Instance {
                    mesh: crate::body::car_key(0, 1),
                    translation: [-8.3 + 8.3 * t, -1.75, 0.0],
                    yaw_rad: 0.0,
                },
                height_m: 1.45,
            };
            let b = TruthBox {
                face: None,
                agent: 9,
                class: ObjectClass::Car,
                bbox: [0.0, 0.0, 120.0, 50.0],
                visible_fraction: 0.9,
                blocked: Blocked::default(),
                pixels_per_metre: 35.0,
                pixels: None,
            };
            v.observe(&Snapshot { step: i, time_s: t, agents: vec![car] }, &[b]);
        }
        let crossing = Crossing {
            line: 0,
            agent: 9,
            class: ObjectClass::Car,
            time_s: 1.0,
            direction: Direction::Positive,
            normal_speed: 8.3,
        };
        assert_eq!(v.sight(&[crossing]), [Sight::Visible]);
    }

    /// A camera at eye level, 1.6 m up at the south curb, looking north
    /// across a 60 m street.
    fn eye_level_camera() -> TruthCamera {
        let layout = StreetLayout::new(&Street {
            length_m: 60.0,
            road_width_m: 7.0,
            sidewalk_width_m: 3.5,
            building_height_m: 12.0,
        });
        let view = CameraView {
            position: [0.0, -3.6, 1.6],
            yaw_deg: 90.0,
            pitch_deg: 5.0,
            hfov_deg: 60.0,
            width: 640,
            height: 480,
        };
        TruthCamera::new(view, &layout, AgentLibrary::new())
    }

    #[test]
    fn a_person_behind_another_is_partly_hidden() {
        let truth = eye_level_camera();
        let alone = Snapshot { step: 0, time_s: 0.0, agents: vec![person(1, 0.0, 6.0)] };
        let b = truth.boxes(&alone);
        assert_eq!(b.len(), 1);
        assert!(b[0].visible_fraction > 0.95, "{}", b[0].visible_fraction);
        // Camera at 1.6 m, 9.6 m away, f = 554 px: about 100 px tall.
        assert!((b[0].height() - 100.0).abs() < 12.0, "{}", b[0].height());
        let hidden = Snapshot { step: 0, time_s: 0.0, agents: vec![person(1, 0.0, 6.0), person(2, 0.0, 4.0)] };
        let b = truth.boxes(&hidden);
        let far = b.iter().find(|t| t.agent == 1).expect("far person in view");
        assert!(far.visible_fraction < 0.5, "{}", far.visible_fraction);
        // What was not seen was hidden by the person in front.
        let lost = far.blocked;
        assert!((far.visible_fraction + lost.people - 1.0).abs() < 1e-4, "{lost:?}");
        assert_eq!((lost.vehicles, lost.buildings, lost.outside), (0.0, 0.0, 0.0));
        assert!(far.face.expect("face in the image").occluded, "the near person hides the far face");
        let near = b.iter().find(|t| t.agent == 2).expect("near person");
        assert!(!near.face.expect("face").occluded);
    }

    #[test]
    fn a_face_turned_to_the_camera_is_frontal_and_sized_by_distance() {
        let truth = eye_level_camera();
        let facing = |yaw: f32| {
            let mut p = person(1, 0.0, 6.0);
            p.instance.yaw_rad = yaw;
            let b = truth.boxes(&Snapshot { step: 0, time_s: 0.0, agents: vec![p] });
            b[0].face.expect("face in view")
        };
        // Facing south (towards the camera), east (profile), north (away).
        let (front, side, back) =
            (facing(-std::f32::consts::FRAC_PI_2), facing(0.0), facing(std::f32::consts::FRAC_PI_2));
        assert!(front.yaw_deg < 10.0, "{}", front.yaw_deg);
        assert!((side.yaw_deg - 90.0).abs() < 10.0, "{}", side.yaw_deg);
        assert!(back.yaw_deg > 170.0, "{}", back.yaw_deg);
        // 9.5 m away at f = 554 px: 58 px/m, a 16 cm face is about 9 px wide.
        let width = front.bbox[2] - front.bbox[0];
        assert!((width - 9.3).abs() < 1.0, "{width}");
    }

    /// Tags follow the drawn instances (persons tagged by their box, shadows
    /// 0), and the id buffer's pixels of each tag give its visible box and
    /// count; a tag with no pixel is wholly hidden.
    #[test]
    fn tags_and_id_buffer_give_visible_boxes() {
        let truth = eye_level_camera();
        let snap = Snapshot { step: 0, time_s: 0.0, agents: vec![person(1, -1.0, 6.0), person(2, 1.0, 6.0)] };
        let mut boxes = truth.boxes(&snap);
        assert_eq!(boxes.len(), 2);
        let tags = TruthCamera::tags(&snap, &boxes);
        assert_eq!(snap.instances().len(), tags.len());
        let expected: Vec<u8> = snap
            .drawn()
            .map(|(_, agent)| agent.map_or(0, |a| boxes.iter().position(|b| b.agent == a).map_or(0, |i| i as u8 + 1)))
            .collect();
        assert_eq!(tags, expected);
        assert_eq!(tags.iter().filter(|&&t| t == 0).count(), 2, "two shadows untagged");
        // Tag 1 shows in a 10 x 20 block at (100, 50); tag 2 nowhere.
        let mut ids = vec![0u8; 640 * 480];
        for y in 50..70 {
            for x in 100..110 {
                ids[y * 640 + x] = 1;
            }
        }
        truth.measure_pixels(&snap, &mut boxes, &ids);
        let first = boxes[0].pixels.expect("measured");
        assert_eq!(first.bbox, Some([100.0, 50.0, 110.0, 70.0]));
        assert_eq!(first.visible_px, 200);
        assert!(first.silhouette_px > 1000, "{}", first.silhouette_px);
        let second = boxes[1].pixels.expect("measured");
        assert_eq!((second.bbox, second.visible_px, second.visible_fraction()), (None, 0, 0.0));
        // An id buffer of another size measures nothing.
        let mut fresh = truth.boxes(&snap);
        truth.measure_pixels(&snap, &mut fresh, &ids[1..]);
        assert!(fresh.iter().all(|b| b.pixels.is_none()));
    }
}
