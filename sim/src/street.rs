//! The street's fixed layout: road, sidewalks, facades, and the scenery mesh
//! drawn for them.

use crate::geometry::{CameraView, MeshData};
use crate::mesh::{cuboid, quad};
use crate::scenario::Street;

/// Which sidewalk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The sidewalk at negative y.
    South,
    /// The sidewalk at positive y.
    North,
}

/// Derived street geometry: every y-band and length the simulation and the
/// renderer need.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreetLayout {
    /// Half the modelled length: the street spans x in [-half_length, half_length].
    pub half_length: f32,
    /// Half the carriageway width.
    pub half_road: f32,
    /// Sidewalk width.
    pub sidewalk: f32,
    /// Facade height.
    pub building_height: f32,
}

impl StreetLayout {
    /// Layout of a scenario's street.
    pub fn new(street: &Street) -> Self {
        Self {
            half_length: street.length_m / 2.0,
            half_road: street.road_width_m / 2.0,
            sidewalk: street.sidewalk_width_m,
            building_height: street.building_height_m,
        }
    }

    /// The y-range `(curb, facade)` side of a sidewalk, as (min, max).
    pub fn sidewalk_band(&self, side: Side) -> (f32, f32) {
        match side {
            Side::North => (self.half_road, self.half_road + self.sidewalk),
            Side::South => (-self.half_road - self.sidewalk, -self.half_road),
        }
    }

    /// Whether a ground point is on a sidewalk inside the modelled stretch.
    pub fn is_walkable(&self, p: [f32; 2]) -> bool {
        p[0].abs() <= self.half_length
            && [Side::North, Side::South].iter().any(|&s| {
                let (lo, hi) = self.sidewalk_band(s);
                p[1] >= lo && p[1] <= hi
            })
    }

    /// Whether a camera's image shows any sidewalk ground: sampled on a grid
    /// of pixels unprojected to the ground plane.
    pub fn camera_sees_walkable_area(&self, view: &CameraView) -> bool {
        let (nx, ny) = (24, 18);
        (0..nx).any(|i| {
            (0..ny).any(|j| {
                let px = [
                    (i as f32 + 0.5) / nx as f32 * view.width as f32,
                    (j as f32 + 0.5) / ny as f32 * view.height as f32,
                ];
                view.unproject_to_ground(px).is_some_and(|g| {
                    let facade = self.half_road + self.sidewalk;
                    // A facade between the camera and the point hides it.
                    let hidden = g[1].abs() > facade || view.position[1].abs() > facade;
                    !hidden && self.is_walkable(g)
                })
            })
        })
    }

    /// The static scenery: ground, road with markings, sidewalks, curbs and
    /// facades with windows, in world coordinates.
    pub fn scenery(&self) -> Vec<MeshData> {
        let l = self.half_length + 40.0;
        let facade = self.half_road + self.sidewalk;
        let up = [0.0, 0.0, 1.0];
        let mut ground = quad(
            [[-l, -facade, 0.0], [l, -facade, 0.0], [l, facade, 0.0], [-l, facade, 0.0]],
            up,
            [0.09, 0.09, 0.10, 1.0],
        );
        for side in [Side::South, Side::North] {
            let (lo, hi) = self.sidewalk_band(side);
            ground.append(&quad(
                [[-l, lo, 0.01], [l, lo, 0.01], [l, hi, 0.01], [-l, hi, 0.01]],
                up,
                [0.36, 0.34, 0.31, 1.0],
            ));
            // Paving joints every 2 m give the detector the texture of a real pavement.
            let mut x = -l;
            while x < l {
                ground.append(&quad(
                    [[x, lo, 0.012], [x + 0.05, lo, 0.012], [x + 0.05, hi, 0.012], [x, hi, 0.012]],
                    up,
                    [0.26, 0.25, 0.23, 1.0],
                ));
                x += 2.0;
            }
            let curb_y = if side == Side::North { lo } else { hi - 0.2 };
            ground.append(&cuboid([-l, curb_y, 0.0], [l, curb_y + 0.2, 0.12], [0.50, 0.49, 0.46, 1.0]));
        }
        // Dashed centre line.
        let mut x = -l;
        while x < l {
            ground.append(&quad(
                [[x, -0.06, 0.011], [x + 3.0, -0.06, 0.011], [x + 3.0, 0.06, 0.011], [x, 0.06, 0.011]],
                up,
                [0.75, 0.75, 0.70, 1.0],
            ));
            x += 6.0;
        }
        let mut meshes = vec![ground];
        meshes.extend(self.facades(l));
        meshes
    }

    fn facades(&self, l: f32) -> Vec<MeshData> {
        const WALLS: [[f32; 4]; 5] = [
            [0.45, 0.38, 0.30, 1.0],
            [0.55, 0.52, 0.46, 1.0],
            [0.30, 0.20, 0.16, 1.0],
            [0.50, 0.45, 0.40, 1.0],
            [0.38, 0.38, 0.40, 1.0],
        ];
        let facade = self.half_road + self.sidewalk;
        let h = self.building_height;
        let mut out = Vec::new();
        for (side, sign) in [(Side::South, -1.0f32), (Side::North, 1.0)] {
            let mut x = -l;
            let mut i = 0usize;
            let mut m = MeshData::default();
            while x < l {
                let width = 9.0 + 3.0 * ((i * 7 + side as usize * 3) % 3) as f32;
                let color = WALLS[(i * 3 + side as usize) % WALLS.len()];
                let height = h * (0.8 + 0.1 * ((i * 5) % 4) as f32);
                let (y0, y1) = if sign > 0.0 { (facade, facade + 10.0) } else { (-facade - 10.0, -facade) };
                m.append(&cuboid([x, y0, 0.0], [x + width, y1, height], color));
                // Windows and a ground-floor shop front, slightly proud of the wall.
                let face_y = facade * sign - 0.02 * sign;
                let normal = [0.0, -sign, 0.0];
                let mut floor = 0.0f32;
                while floor + 3.0 <= height {
                    let mut wx = x + 1.0;
                    while wx + 1.2 <= x + width - 0.5 {
                        let (z0, z1, w) = if floor == 0.0 { (0.3, 2.6, 2.2) } else { (floor + 0.9, floor + 2.4, 1.2) };
                        if wx + w > x + width - 0.5 {
                            break;
                        }
                        let c = [[wx, face_y, z0], [wx + w, face_y, z0], [wx + w, face_y, z1], [wx, face_y, z1]];
                        let c = if sign < 0.0 { [c[1], c[0], c[3], c[2]] } else { c };
                        m.append(&quad(c, normal, [0.07, 0.09, 0.11, 1.0]));
                        wx += w + 1.0;
                    }
                    floor += 3.0;
                }
                x += width;
                i += 1;
            }
            out.push(m);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> StreetLayout {
        StreetLayout::new(&Street { length_m: 60.0, road_width_m: 7.0, sidewalk_width_m: 3.5, building_height_m: 12.0 })
    }

    #[test]
    fn sidewalks_flank_the_road() {
        let l = layout();
        assert_eq!(l.sidewalk_band(Side::North), (3.5, 7.0));
        assert!(l.is_walkable([0.0, 5.0]) && l.is_walkable([10.0, -5.0]));
        assert!(!l.is_walkable([0.0, 0.0]) && !l.is_walkable([40.0, 5.0]));
    }

    #[test]
    fn camera_across_the_street_sees_the_far_sidewalk_and_sky_camera_does_not() {
        let l = layout();
        let mut v = CameraView {
            position: [0.0, -3.6, 5.0],
            yaw_deg: 90.0,
            pitch_deg: 25.0,
            hfov_deg: 70.0,
            width: 640,
            height: 480,
        };
        assert!(l.camera_sees_walkable_area(&v));
        v.pitch_deg = -40.0;
        assert!(!l.camera_sees_walkable_area(&v));
    }
}
