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
use crate::world::{AgentClass, Snapshot};

/// Ground truth for one agent in one camera frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruthBox {
    /// Agent id.
    pub agent: u32,
    /// Its class.
    pub class: AgentClass,
    /// Box in pixels `[x0, y0, x1, y1]`, clipped to the image.
    pub bbox: [f32; 4],
    /// Share of the agent's sample points that are inside the image and not
    /// hidden by another agent or a building, 0..=1.
    pub visible_fraction: f32,
    /// Pixels per metre at the agent's head (EN 62676-4 DORI measure).
    pub pixels_per_metre: f32,
}

impl TruthBox {
    /// Box height in pixels.
    pub fn height(&self) -> f32 {
        self.bbox[3] - self.bbox[1]
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
                AgentClass::Person => {
                    let r = 0.2;
                    let half = (a.height_m / 2.0 - r).max(0.05);
                    ColliderBuilder::capsule_z(half, r).translation(Vector::new(t[0], t[1], a.height_m / 2.0)).build()
                }
                AgentClass::Car => {
                    let [l, wd, hh] = crate::body::CAR_SIZE;
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
            for &p in mesh.positions.iter().step_by(stride) {
                total += 1;
                let wp = world_point(&a.instance, p);
                let Some(px) = self.view.project(wp) else { continue };
                if px[0] < 0.0 || px[1] < 0.0 || px[0] > w || px[1] > h {
                    continue;
                }
                let target = Vector::new(wp[0], wp[1], wp[2]);
                let d = target - eye;
                let dist = d.length();
                let ray = Ray::new(eye, d / dist);
                if query.cast_ray(&ray, dist - 0.05, true).is_none() {
                    seen += 1;
                }
            }
            let head = world_point(&a.instance, [0.0, 0.0, a.height_m * 0.93]);
            out.push(TruthBox {
                agent: a.id,
                class: a.class,
                bbox,
                visible_fraction: if total > 0 { seen as f32 / total as f32 } else { 0.0 },
                pixels_per_metre: self.view.pixels_per_metre(head),
            });
        }
        out
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
            class: AgentClass::Person,
            instance: Instance {
                mesh: person_key(PersonLook { skin: 0, top: 0, bottom: 0, hair: 0, height: 2 }, 0),
                translation: [x, y, 0.0],
                yaw_rad: 0.0,
            },
            height_m: 1.75,
        }
    }

    #[test]
    fn a_person_behind_another_is_partly_hidden() {
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
        let truth = TruthCamera::new(view, &layout, AgentLibrary::new());
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
    }
}
