//! Low-poly mesh primitives with flat vertex colours.
//!
//! Triangles are what a software rasteriser pays for, so every primitive here
//! uses the fewest segments that still read as the intended shape.

use crate::geometry::{MeshData, cross, normalize, sub};

/// An axis-aligned box from `min` to `max`, one colour, outward normals.
pub fn cuboid(min: [f32; 3], max: [f32; 3], color: [f32; 4]) -> MeshData {
    let mut m = MeshData::default();
    let faces: [([f32; 3], [[f32; 3]; 4]); 6] = [
        (
            [1.0, 0.0, 0.0],
            [[max[0], min[1], min[2]], [max[0], max[1], min[2]], [max[0], max[1], max[2]], [max[0], min[1], max[2]]],
        ),
        (
            [-1.0, 0.0, 0.0],
            [[min[0], max[1], min[2]], [min[0], min[1], min[2]], [min[0], min[1], max[2]], [min[0], max[1], max[2]]],
        ),
        (
            [0.0, 1.0, 0.0],
            [[max[0], max[1], min[2]], [min[0], max[1], min[2]], [min[0], max[1], max[2]], [max[0], max[1], max[2]]],
        ),
        (
            [0.0, -1.0, 0.0],
            [[min[0], min[1], min[2]], [max[0], min[1], min[2]], [max[0], min[1], max[2]], [min[0], min[1], max[2]]],
        ),
        (
            [0.0, 0.0, 1.0],
            [[min[0], min[1], max[2]], [max[0], min[1], max[2]], [max[0], max[1], max[2]], [min[0], max[1], max[2]]],
        ),
        (
            [0.0, 0.0, -1.0],
            [[min[0], max[1], min[2]], [max[0], max[1], min[2]], [max[0], min[1], min[2]], [min[0], min[1], min[2]]],
        ),
    ];
    for (n, corners) in faces {
        quad_into(&mut m, corners, n, color);
    }
    m
}

/// A flat quad (corners counter-clockwise seen from the `normal` side).
pub fn quad(corners: [[f32; 3]; 4], normal: [f32; 3], color: [f32; 4]) -> MeshData {
    let mut m = MeshData::default();
    quad_into(&mut m, corners, normal, color);
    m
}

fn quad_into(m: &mut MeshData, corners: [[f32; 3]; 4], normal: [f32; 3], color: [f32; 4]) {
    let base = m.positions.len() as u32;
    for c in corners {
        m.positions.push(c);
        m.normals.push(normal);
        m.colors.push(color);
    }
    m.indices.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
}

/// A solid whose side profile (a convex polygon in the x-z plane, either
/// winding) is extruded across y from `y0` to `y1`, one colour: a car's
/// sloped bonnet, windscreen and boot, which boxes cannot draw.
pub fn prism(profile: &[[f32; 2]], y0: f32, y1: f32, color: [f32; 4]) -> MeshData {
    let mut m = MeshData::default();
    let n = profile.len();
    if n < 3 {
        return m;
    }
    let centre = profile.iter().fold([0.0, 0.0], |a, p| [a[0] + p[0] / n as f32, a[1] + p[1] / n as f32]);
    // The two caps: a fan from the first point, each triangle wound to face
    // its cap's side.
    for (y, ny) in [(y0, -1.0f32), (y1, 1.0)] {
        for i in 1..n - 1 {
            let (a, b, c) = (profile[0], profile[i], profile[i + 1]);
            let mut tri = [[a[0], y, a[1]], [b[0], y, b[1]], [c[0], y, c[1]]];
            let facing = cross(sub(tri[1], tri[0]), sub(tri[2], tri[0]))[1];
            if facing * ny < 0.0 {
                tri.swap(1, 2);
            }
            let base = m.positions.len() as u32;
            for v in tri {
                m.positions.push(v);
                m.normals.push([0.0, ny, 0.0]);
                m.colors.push(color);
            }
            m.indices.extend_from_slice(&[base, base + 1, base + 2]);
        }
    }
    // The band around it, one quad per edge, facing away from the centre.
    for i in 0..n {
        let (a, b) = (profile[i], profile[(i + 1) % n]);
        let mut normal = [b[1] - a[1], 0.0, a[0] - b[0]];
        let mid = [(a[0] + b[0]) / 2.0 - centre[0], (a[1] + b[1]) / 2.0 - centre[1]];
        if normal[0] * mid[0] + normal[2] * mid[1] < 0.0 {
            normal = [-normal[0], 0.0, -normal[2]];
        }
        let normal = normalize(normal);
        let mut corners = [[a[0], y0, a[1]], [b[0], y0, b[1]], [b[0], y1, b[1]], [a[0], y1, a[1]]];
        let facing = cross(sub(corners[1], corners[0]), sub(corners[2], corners[0]));
        if facing[0] * normal[0] + facing[2] * normal[2] < 0.0 {
            corners.reverse();
        }
        quad_into(&mut m, corners, normal, color);
    }
    m
}

/// A horizontal disc at height `z`, facing up.
pub fn disc(center: [f32; 2], radius: [f32; 2], z: f32, segments: u32, color: [f32; 4]) -> MeshData {
    let mut m = MeshData::default();
    m.positions.push([center[0], center[1], z]);
    m.normals.push([0.0, 0.0, 1.0]);
    m.colors.push(color);
    for i in 0..segments {
        let a = std::f32::consts::TAU * i as f32 / segments as f32;
        m.positions.push([center[0] + radius[0] * a.cos(), center[1] + radius[1] * a.sin(), z]);
        m.normals.push([0.0, 0.0, 1.0]);
        m.colors.push(color);
    }
    for i in 0..segments {
        let a = 1 + i;
        let b = 1 + (i + 1) % segments;
        m.indices.extend_from_slice(&[0, a, b]);
    }
    m
}

/// A closed cylinder between points `a` and `b` with elliptical section
/// (`radius[0]` along `side`, `radius[1]` across), smooth sides and flat caps.
pub fn limb(a: [f32; 3], b: [f32; 3], radius: [f32; 2], side: [f32; 3], segments: u32, color: [f32; 4]) -> MeshData {
    let axis = normalize(sub(b, a));
    // Orthonormal frame around the axis; `side` picks the first direction.
    let u = normalize(cross(cross(axis, side), axis));
    let u = if u == [0.0; 3] { any_perpendicular(axis) } else { u };
    let v = cross(axis, u);
    let mut m = MeshData::default();
    for ring in [a, b] {
        for i in 0..segments {
            let t = std::f32::consts::TAU * i as f32 / segments as f32;
            let (c, s) = (t.cos(), t.sin());
            let off = [
                radius[0] * c * u[0] + radius[1] * s * v[0],
                radius[0] * c * u[1] + radius[1] * s * v[1],
                radius[0] * c * u[2] + radius[1] * s * v[2],
            ];
            m.positions.push([ring[0] + off[0], ring[1] + off[1], ring[2] + off[2]]);
            m.normals.push(normalize([
                c * u[0] / radius[0].max(1e-4) + s * v[0] / radius[1].max(1e-4),
                c * u[1] / radius[0].max(1e-4) + s * v[1] / radius[1].max(1e-4),
                c * u[2] / radius[0].max(1e-4) + s * v[2] / radius[1].max(1e-4),
            ]));
            m.colors.push(color);
        }
    }
    for i in 0..segments {
        let j = (i + 1) % segments;
        let (a0, a1, b0, b1) = (i, j, segments + i, segments + j);
        m.indices.extend_from_slice(&[a0, a1, b1, a0, b1, b0]);
    }
    // Caps: centre vertices with axial normals.
    for (centre, normal, ring, flip) in [(a, [-axis[0], -axis[1], -axis[2]], 0, true), (b, axis, segments, false)] {
        let c = m.positions.len() as u32;
        m.positions.push(centre);
        m.normals.push(normal);
        m.colors.push(color);
        let first = m.positions.len() as u32;
        for i in 0..segments {
            let p = m.positions[(ring + i) as usize];
            m.positions.push(p);
            m.normals.push(normal);
            m.colors.push(color);
        }
        for i in 0..segments {
            let (x, y) = (first + i, first + (i + 1) % segments);
            if flip {
                m.indices.extend_from_slice(&[c, y, x]);
            } else {
                m.indices.extend_from_slice(&[c, x, y]);
            }
        }
    }
    m
}

/// A UV sphere (ellipsoid with `radius` per axis) of `seg` longitudes and
/// `rings` latitudes.
pub fn ellipsoid(center: [f32; 3], radius: [f32; 3], seg: u32, rings: u32, color: [f32; 4]) -> MeshData {
    let mut m = MeshData::default();
    for r in 0..=rings {
        let phi = std::f32::consts::PI * r as f32 / rings as f32;
        for s in 0..seg {
            let th = std::f32::consts::TAU * s as f32 / seg as f32;
            let n = [phi.sin() * th.cos(), phi.sin() * th.sin(), phi.cos()];
            m.positions.push([
                center[0] + radius[0] * n[0],
                center[1] + radius[1] * n[1],
                center[2] + radius[2] * n[2],
            ]);
            m.normals.push(normalize([n[0] / radius[0], n[1] / radius[1], n[2] / radius[2]]));
            m.colors.push(color);
        }
    }
    for r in 0..rings {
        for s in 0..seg {
            let a = r * seg + s;
            let b = r * seg + (s + 1) % seg;
            let c = (r + 1) * seg + s;
            let d = (r + 1) * seg + (s + 1) % seg;
            if r > 0 {
                m.indices.extend_from_slice(&[a, c, b]);
            }
            if r + 1 < rings {
                m.indices.extend_from_slice(&[b, c, d]);
            }
        }
    }
    m
}

fn any_perpendicular(a: [f32; 3]) -> [f32; 3] {
    let helper = if a[2].abs() < 0.9 { [0.0, 0.0, 1.0] } else { [1.0, 0.0, 0.0] };
    normalize(cross(a, helper))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outward(m: &MeshData, centre: [f32; 3]) -> bool {
        m.indices.chunks(3).all(|t| {
            let [a, b, c] = [t[0], t[1], t[2]].map(|i| m.positions[i as usize]);
            let n = cross(sub(b, a), sub(c, a));
            let mid = [(a[0] + b[0] + c[0]) / 3.0, (a[1] + b[1] + c[1]) / 3.0, (a[2] + b[2] + c[2]) / 3.0];
            crate::geometry::dot(n, sub(mid, centre)) >= -1e-6
        })
    }

    #[test]
    fn primitives_wind_outwards() {
        assert!(outward(&cuboid([0.0; 3], [1.0, 2.0, 3.0], [1.0; 4]), [0.5, 1.0, 1.5]));
        assert!(outward(&ellipsoid([0.0; 3], [1.0, 1.0, 1.5], 8, 5, [1.0; 4]), [0.0; 3]));
        assert!(outward(&limb([0.0; 3], [0.0, 0.0, 1.0], [0.1, 0.1], [1.0, 0.0, 0.0], 6, [1.0; 4]), [0.0, 0.0, 0.5]));
    }
}
