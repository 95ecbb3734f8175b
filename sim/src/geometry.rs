//! Plain geometry shared by the simulation, the ground truth and the renderer.
//!
//! World coordinates: metres, `x` east, `y` north, `z` up; the ground is `z = 0`.
//! The renderer converts these to its own axes at its boundary, so that nothing
//! else depends on the rendering engine's conventions.

use serde::{Deserialize, Serialize};

/// A triangle mesh with per-vertex colours, in the coordinates of whatever owns
/// it (world coordinates for static scenery, body coordinates for agents).
///
/// It exists so that the renderer draws exactly the geometry that ground-truth
/// boxes are computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeshData {
    /// Vertex positions.
    pub positions: Vec<[f32; 3]>,
    /// Unit vertex normals, one per position.
    pub normals: Vec<[f32; 3]>,
    /// Linear RGBA vertex colours, one per position.
    pub colors: Vec<[f32; 4]>,
    /// Triangle list, counter-clockwise seen from outside.
    pub indices: Vec<u32>,
}

impl MeshData {
    /// Appends another mesh, shifting its indices; used to build one mesh per
    /// agent (one draw call) from many parts.
    pub fn append(&mut self, other: &MeshData) {
        let base = self.positions.len() as u32;
        self.positions.extend_from_slice(&other.positions);
        self.normals.extend_from_slice(&other.normals);
        self.colors.extend_from_slice(&other.colors);
        self.indices.extend(other.indices.iter().map(|i| i + base));
    }

    /// Number of triangles, for render-cost accounting.
    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }
}

/// Identifies one mesh in a [`MeshLibrary`]; the renderer caches GPU meshes by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MeshKey(pub u64);

/// Supplies meshes by key, so that the renderer uploads each distinct posed
/// body only once and reuses it across frames and agents.
pub trait MeshLibrary {
    /// The mesh for `key`, in body coordinates (feet at the origin, facing +x).
    fn mesh(&self, key: MeshKey) -> MeshData;
}

/// One drawn object in one frame: a library mesh placed in the world.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instance {
    /// Which mesh to draw.
    pub mesh: MeshKey,
    /// Where the mesh origin goes, world coordinates.
    pub translation: [f32; 3],
    /// Rotation about +z, radians, counter-clockwise; 0 faces +x (east).
    pub yaw_rad: f32,
}

/// Sun and sky light, shared by every camera of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lighting {
    /// Direction the sunlight travels (from the sun towards the ground), world axes.
    pub sun_direction: [f32; 3],
    /// Linear RGB sun illuminance factor.
    pub sun_color: [f32; 3],
    /// Linear RGB ambient light from the sky (surfaces facing up).
    pub sky_color: [f32; 3],
    /// Linear RGB ambient light bounced from the ground (surfaces facing down).
    pub ground_color: [f32; 3],
}

impl Default for Lighting {
    fn default() -> Self {
        Self {
            sun_direction: [0.35, 0.45, -0.82],
            sun_color: [0.80, 0.78, 0.72],
            sky_color: [0.42, 0.45, 0.50],
            ground_color: [0.25, 0.24, 0.22],
        }
    }
}

/// A pinhole camera: pose and intrinsics, in world coordinates.
///
/// This is the single definition of how a camera maps the world to pixels; the
/// renderer and the ground-truth boxes both follow it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CameraView {
    /// Optical centre, world coordinates (metres).
    pub position: [f32; 3],
    /// Heading of the optical axis, degrees counter-clockwise from +x (east).
    pub yaw_deg: f32,
    /// Tilt of the optical axis below the horizon, degrees (positive looks down).
    pub pitch_deg: f32,
    /// Horizontal field of view, degrees.
    pub hfov_deg: f32,
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
}

/// Ground segments `(from, to)` with the margin either side and the
/// height above them that [`CameraView::region_around_groups`] covers,
/// metres.
pub type RegionGroup<'a> = (&'a [([f32; 2], [f32; 2])], f32, f32);

impl CameraView {
    /// Unit forward (optical axis), right and up vectors of the camera, world axes.
    pub fn basis(&self) -> ([f32; 3], [f32; 3], [f32; 3]) {
        let yaw = self.yaw_deg.to_radians();
        let pitch = self.pitch_deg.to_radians();
        let forward = [pitch.cos() * yaw.cos(), pitch.cos() * yaw.sin(), -pitch.sin()];
        // right = forward x world-up, normalised; world-up is +z.
        let right = normalize([yaw.sin(), -yaw.cos(), 0.0]);
        let up = cross(right, forward);
        (forward, right, up)
    }

    /// Focal length in pixels (square pixels, principal point at the centre).
    pub fn focal_px(&self) -> f32 {
        (self.width as f32 / 2.0) / (self.hfov_deg.to_radians() / 2.0).tan()
    }

    /// Vertical field of view in radians, derived from the horizontal one and
    /// the aspect ratio.
    pub fn vfov_rad(&self) -> f32 {
        2.0 * ((self.height as f32 / 2.0) / self.focal_px()).atan()
    }

    /// Camera-frame coordinates (right, up, depth) of a world point.
    pub fn to_camera(&self, p: [f32; 3]) -> [f32; 3] {
        let (f, r, u) = self.basis();
        let d = sub(p, self.position);
        [dot(d, r), dot(d, u), dot(d, f)]
    }

    /// Pixel coordinates (x right, y down, origin at the top-left corner of the
    /// image) of a world point, or `None` if it is behind the camera.
    pub fn project(&self, p: [f32; 3]) -> Option<[f32; 2]> {
        let [x, y, z] = self.to_camera(p);
        if z <= 1e-3 {
            return None;
        }
        let f = self.focal_px();
        Some([self.width as f32 / 2.0 + f * x / z, self.height as f32 / 2.0 - f * y / z])
    }

    /// The ground point (`z = 0`) seen at a pixel, or `None` above the horizon.
    pub fn unproject_to_ground(&self, px: [f32; 2]) -> Option<[f32; 2]> {
        let (f, r, u) = self.basis();
        let fp = self.focal_px();
        let x = (px[0] - self.width as f32 / 2.0) / fp;
        let y = -(px[1] - self.height as f32 / 2.0) / fp;
        let dir = [f[0] + x * r[0] + y * u[0], f[1] + x * r[1] + y * u[1], f[2] + x * r[2] + y * u[2]];
        if dir[2] >= -1e-6 {
            return None;
        }
        let t = -self.position[2] / dir[2];
        Some([self.position[0] + t * dir[0], self.position[1] + t * dir[1]])
    }

    /// The 3×3 homography mapping image pixels (x, y, 1) to ground-plane points
    /// (east, north, 1). Installers obtain the same matrix by calibrating a
    /// real camera; analytics uses it to place tracked feet on the ground.
    pub fn image_to_ground_homography(&self) -> [[f64; 3]; 3] {
        let (f, r, u) = self.basis();
        let fp = self.focal_px() as f64;
        let (cx, cy) = (self.width as f64 / 2.0, self.height as f64 / 2.0);
        let c = self.position.map(f64::from);
        let (f, r, u) = (f.map(f64::from), r.map(f64::from), u.map(f64::from));
        // Ray direction for pixel (x, y): d = f + ((x-cx)/fp) r - ((y-cy)/fp) u,
        // linear in (x, y, 1): d = A [x y 1]^T.
        let mut a = [[0.0f64; 3]; 3];
        for i in 0..3 {
            a[i][0] = r[i] / fp;
            a[i][1] = -u[i] / fp;
            a[i][2] = f[i] - cx * r[i] / fp + cy * u[i] / fp;
        }
        // Ground point: c + t d with t = -c_z / d_z. In homogeneous form:
        // X = c_x d_z - c_z d_x, Y = c_y d_z - c_z d_y, W = d_z.
        let mut h = [[0.0f64; 3]; 3];
        for j in 0..3 {
            h[0][j] = c[0] * a[2][j] - c[2] * a[0][j];
            h[1][j] = c[1] * a[2][j] - c[2] * a[1][j];
            h[2][j] = a[2][j];
        }
        h
    }

    /// Pixels per metre at a world point: the DORI identifiability measure
    /// (EN 62676-4), `focal_px / distance`.
    pub fn pixels_per_metre(&self, p: [f32; 3]) -> f32 {
        let d = sub(p, self.position);
        self.focal_px() / dot(d, d).sqrt().max(1e-3)
    }

    /// The image region where anything standing within `margin_m` of the
    /// ground segments `(from, to)` and up to `height_m` tall can appear, as
    /// `[x0, y0, x1, y1]` pixels clipped to the image; `None` when that is
    /// over 80 % of the image or under 32 px a side. It is how a camera
    /// limits analysis to where its counting lines need it.
    pub fn region_around(&self, segments: &[([f32; 2], [f32; 2])], margin_m: f32, height_m: f32) -> Option<[u32; 4]> {
        self.region_around_groups(&[(segments, margin_m, height_m)])
    }

    /// [`Self::region_around`] for groups of segments, each with its own
    /// margin and height (a sidewalk line needs a walker's, a road line a
    /// bus's): one rectangle holding all of them.
    pub fn region_around_groups(&self, groups: &[RegionGroup<'_>]) -> Option<[u32; 4]> {
        self.region_in_band(groups, 0.0)
    }

    /// The part of [`Self::region_around_groups`] where a face can be: the
    /// same segments and margins from [`crate::truth::FACE_FLOOR_M`] up
    /// instead of from the ground, widened to take in the face of anyone
    /// standing within `identifiable_m` of the camera (nearer than the
    /// counting area, whose face is large enough to identify) wherever it
    /// shows in the region. The face blur looks only there when nothing but
    /// the detector's region is ever seen: legs and feet carry no face, a
    /// face further than `identifiable_m` and outside the counting area is
    /// too small to identify, and the face detector's cost grows with the
    /// pixels it reads. `None` when the band would be all of the image,
    /// under 32 px a side, or the region itself is `None`.
    pub fn face_band(&self, groups: &[RegionGroup<'_>], identifiable_m: f32) -> Option<[u32; 4]> {
        let region = self.region_around_groups(groups)?;
        let band = self.region_in_band(groups, crate::truth::FACE_FLOOR_M)?;
        let mut b = band.map(|v| v as f32);
        // Faces near the camera, on rings every 0.25 m and 5°, from the
        // lowest face to the top of the tallest group: each position's face
        // span (a vertical segment, a segment in the image too) widens the
        // band by the part of it inside the region.
        let top = groups.iter().filter(|g| !g.0.is_empty()).map(|g| g.2).fold(crate::truth::FACE_FLOOR_M, f32::max);
        let r = region.map(|v| v as f32);
        let rings = (identifiable_m.max(0.0) / 0.25).ceil() as usize;
        for ring in 1..=rings {
            let radius = (ring as f32 * 0.25).min(identifiable_m);
            for step in 0..72 {
                let a = (step as f32 * 5.0).to_radians();
                let (x, y) = (self.position[0] + radius * a.cos(), self.position[1] + radius * a.sin());
                let (Some(lo), Some(hi)) =
                    (self.project([x, y, crate::truth::FACE_FLOOR_M]), self.project([x, y, top]))
                else {
                    continue;
                };
                let (x0, x1) = (lo[0].min(hi[0]), lo[0].max(hi[0]));
                let (y0, y1) = (lo[1].min(hi[1]), lo[1].max(hi[1]));
                if x1 < r[0] || x0 > r[2] || y1 < r[1] || y0 > r[3] {
                    continue;
                }
                b = [b[0].min(x0.max(r[0])), b[1].min(y0.max(r[1])), b[2].max(x1.min(r[2])), b[3].max(y1.min(r[3]))];
            }
        }
        // Everything lies in the region; the intersection only guards rounding.
        let b = [
            (b[0].floor() as u32).max(region[0]),
            (b[1].floor() as u32).max(region[1]),
            (b[2].ceil() as u32).min(region[2]),
            (b[3].ceil() as u32).min(region[3]),
        ];
        (b[2] >= b[0] + 32 && b[3] >= b[1] + 32).then_some(b)
    }

    /// The rectangle around everything within each group's margin of its
    /// segments, from `floor_m` up to the group's height.
    fn region_in_band(&self, groups: &[RegionGroup<'_>], floor_m: f32) -> Option<[u32; 4]> {
        let mut bbox = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
        for (from, to, margin_m, height_m) in
            groups.iter().flat_map(|(segments, margin, height)| segments.iter().map(|(f, t)| (f, t, *margin, *height)))
        {
            let d = [to[0] - from[0], to[1] - from[1]];
            let len = d[0].hypot(d[1]).max(1e-6);
            let n = [-d[1] / len, d[0] / len];
            for k in 0..=20 {
                let u = k as f32 / 20.0;
                for off in [-margin_m, 0.0, margin_m] {
                    for z in [floor_m.min(height_m), height_m] {
                        let p = [from[0] + u * d[0] + off * n[0], from[1] + u * d[1] + off * n[1], z];
                        if let Some(px) = self.project(p) {
                            bbox = [bbox[0].min(px[0]), bbox[1].min(px[1]), bbox[2].max(px[0]), bbox[3].max(px[1])];
                        }
                    }
                }
            }
        }
        let (w, h) = (self.width as f32, self.height as f32);
        let r = [bbox[0].max(0.0).floor(), bbox[1].max(0.0).floor(), bbox[2].min(w).ceil(), bbox[3].min(h).ceil()];
        if r[2] - r[0] < 32.0 || r[3] - r[1] < 32.0 || (r[2] - r[0]) * (r[3] - r[1]) > 0.8 * w * h {
            return None;
        }
        Some(r.map(|v| v as u32))
    }
}

/// Whether ground point `p` lies inside `polygon` (even-odd rule), so that
/// zones, sensors and intrusiveness measures agree on what is inside an area.
pub fn point_in_polygon(p: [f32; 2], polygon: &[[f32; 2]]) -> bool {
    let mut inside = false;
    let n = polygon.len();
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[(i + n - 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if p[0] < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// Unsigned area of a simple polygon (shoelace formula), square metres; used
/// to reject degenerate zones.
pub fn polygon_area(polygon: &[[f32; 2]]) -> f32 {
    let n = polygon.len();
    let twice: f32 = (0..n)
        .map(|i| {
            let (a, b) = (polygon[i], polygon[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum();
    twice.abs() / 2.0
}

/// Vector difference `a - b`.
pub fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Dot product.
pub fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Cross product.
pub fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

/// Unit vector in the direction of `a` (zero stays zero).
pub fn normalize(a: [f32; 3]) -> [f32; 3] {
    let n = dot(a, a).sqrt();
    if n > 0.0 { [a[0] / n, a[1] / n, a[2] / n] } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> CameraView {
        CameraView {
            position: [0.0, -6.0, 5.0],
            yaw_deg: 90.0,
            pitch_deg: 25.0,
            hfov_deg: 70.0,
            width: 640,
            height: 480,
        }
    }

    #[test]
    fn optical_axis_projects_to_image_centre() {
        let v = view();
        let (f, _, _) = v.basis();
        let p = [v.position[0] + 10.0 * f[0], v.position[1] + 10.0 * f[1], v.position[2] + 10.0 * f[2]];
        let px = v.project(p).expect("in front");
        assert!((px[0] - 320.0).abs() < 1e-3 && (px[1] - 240.0).abs() < 1e-3, "{px:?}");
    }

    #[test]
    fn ground_unprojection_inverts_projection() {
        let v = view();
        let g = [1.5f32, 4.0];
        let px = v.project([g[0], g[1], 0.0]).expect("in front");
        let back = v.unproject_to_ground(px).expect("below horizon");
        assert!((back[0] - g[0]).abs() < 1e-3 && (back[1] - g[1]).abs() < 1e-3, "{back:?}");
        let h = v.image_to_ground_homography();
        let (x, y) = (px[0] as f64, px[1] as f64);
        let w = h[2][0] * x + h[2][1] * y + h[2][2];
        let gx = (h[0][0] * x + h[0][1] * y + h[0][2]) / w;
        let gy = (h[1][0] * x + h[1][1] * y + h[1][2]) / w;
        assert!((gx - 1.5).abs() < 1e-3 && (gy - 4.0).abs() < 1e-3, "{gx} {gy}");
    }

    #[test]
    fn the_face_band_holds_every_face_and_drops_the_legs() {
        use crate::truth::{FACE_FLOOR_M, FACE_HEIGHT_M, FACE_WIDTH_M};
        // The demo street's pole camera and its sidewalk line.
        let v = CameraView { position: [0.0, -3.6, 5.0], ..view() };
        let line = [([0.0, 3.5], [0.0, 7.0])];
        let groups = [(&line[..], 2.5, 2.2)];
        let region = v.region_around_groups(&groups).expect("region");
        // Faces identifiable within 2.9 m (f = 457 px): all below the image.
        let band = v.face_band(&groups, 2.9).expect("band");
        assert!(band[0] >= region[0] && band[1] >= region[1] && band[2] <= region[2] && band[3] <= region[3]);
        assert!(band[3] + 20 < region[3], "the band {band:?} keeps the legs of {region:?}");
        // Faces from the lowest (lower edge on the floor) to a 2 m person's,
        // anywhere within the margin of the line.
        let low = FACE_FLOOR_M + FACE_HEIGHT_M / 2.0;
        let high = 2.0 * crate::truth::FACE_CENTRE_SHARE;
        for (i, j, k) in (0..=10).flat_map(|i| (0..=10).flat_map(move |j| (0..=4).map(move |k| (i, j, k)))) {
            let centre = [-2.5 + 0.5 * i as f32, 3.5 + 0.35 * j as f32, low + (high - low) * k as f32 / 4.0];
            let c = v.project(centre).expect("in front");
            let ppm = v.pixels_per_metre(centre);
            let (hw, hh) = (FACE_WIDTH_M * ppm / 2.0, FACE_HEIGHT_M * ppm / 2.0);
            let face = [c[0] - hw, c[1] - hh, c[0] + hw, c[1] + hh];
            let inside = |r: [u32; 4]| {
                face[0] >= r[0] as f32 - 1.0
                    && face[1] >= r[1] as f32 - 1.0
                    && face[2] <= r[2] as f32 + 1.0
                    && face[3] <= r[3] as f32 + 1.0
            };
            assert!(!inside(region) || inside(band), "face {face:?} at {centre:?} is outside the band {band:?}");
        }
    }

    #[test]
    fn the_face_band_takes_in_faces_near_the_camera_that_show_in_the_region() {
        use crate::truth::FACE_FLOOR_M;
        // A low camera close behind the counting area, nearly level: the
        // head of someone a metre or two in front of it shows in the lower
        // part of the region, where the counting area's legs are.
        let v = CameraView { position: [0.0, 0.5, 1.8], pitch_deg: 8.0, ..view() };
        let line = [([0.0, 3.5], [0.0, 7.0])];
        let groups = [(&line[..], 2.5, 2.2)];
        let region = v.region_around_groups(&groups).expect("region");
        let far_only = v.face_band(&groups, 0.0).expect("band");
        let near = v.face_band(&groups, 2.5).expect("band");
        let head = v.project([0.3, 2.0, FACE_FLOOR_M + 0.1]).expect("in front");
        let inside = |r: [u32; 4]| {
            head[0] >= r[0] as f32 && head[0] <= r[2] as f32 && head[1] >= r[1] as f32 && head[1] <= r[3] as f32
        };
        assert!(inside(region) && !inside(far_only), "{head:?} in {region:?}, band {far_only:?}");
        assert!(inside(near), "the face at {head:?}, 1.5 m from the camera, is outside the band {near:?}");
        assert!(near[3] <= region[3] && near[1] >= region[1]);
    }

    #[test]
    fn right_of_image_is_right_of_camera() {
        let v = view(); // looking north: east is to the right
        let px = v.project([3.0, 5.0, 0.0]).expect("in front");
        assert!(px[0] > 320.0);
    }

    #[test]
    fn concave_polygon_membership_and_area() {
        // An L shape: the notch at (1.5, 1.5) is outside.
        let l = [[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0], [1.0, 2.0], [0.0, 2.0]];
        assert!(point_in_polygon([0.5, 1.5], &l));
        assert!(point_in_polygon([1.5, 0.5], &l));
        assert!(!point_in_polygon([1.5, 1.5], &l));
        assert!(!point_in_polygon([-0.1, 0.5], &l));
        assert!((polygon_area(&l) - 3.0).abs() < 1e-6);
    }
}
