//! The boundary between camtwin's world axes and Bevy's.
//!
//! camtwin: metres, `x` east, `y` north, `z` up (right-handed).
//! Bevy: `x` right, `y` up, `z` towards the viewer (right-handed).
//! The map `(x, y, z) -> (x, z, -y)` is a proper rotation (a quarter turn
//! about `x`), so triangle winding, normals and handedness survive unchanged.

use bevy::asset::RenderAssetUsages;
use bevy::camera::primitives::Aabb;
use bevy::math::{Mat3, Quat, Vec3};
use bevy::mesh::{Indices, Mesh, PrimitiveTopology};
use camtwin_sim::geometry::{CameraView, Instance, MeshData};

use crate::RenderError;

/// World point or direction to Bevy axes.
pub(crate) fn to_bevy(p: [f32; 3]) -> Vec3 {
    Vec3::new(p[0], p[2], -p[1])
}

/// Bevy rotation of an instance: a yaw about world `+z` is a yaw about Bevy `+y`.
pub(crate) fn instance_rotation(instance: &Instance) -> Quat {
    Quat::from_rotation_y(instance.yaw_rad)
}

/// Bevy camera translation and rotation reproducing [`CameraView::project`].
///
/// A Bevy camera looks along its local `-z` with local `+y` up and `+x` right,
/// so its rotation matrix has columns (right, up, -forward).
pub(crate) fn camera_pose(view: &CameraView) -> (Vec3, Quat) {
    let (forward, right, up) = view.basis();
    let f = to_bevy(forward).normalize();
    let r = to_bevy(right).normalize();
    let u = to_bevy(up).normalize();
    let rotation = Quat::from_mat3(&Mat3::from_cols(r, u, -f)).normalize();
    (to_bevy(view.position), rotation)
}

/// Checks a camera view before building a renderer around it.
pub(crate) fn validate_view(view: &CameraView) -> Result<(), RenderError> {
    let bad = |reason: String| Err(RenderError::InvalidView(reason));
    if view.width == 0 || view.height == 0 || view.width > 8192 || view.height > 8192 {
        return bad(format!("image size {}x{} outside 1..=8192", view.width, view.height));
    }
    if !(view.hfov_deg > 0.0 && view.hfov_deg < 179.0) {
        return bad(format!("horizontal fov {} deg outside (0, 179)", view.hfov_deg));
    }
    let finite = view.position.iter().all(|c| c.is_finite()) && view.yaw_deg.is_finite() && view.pitch_deg.is_finite();
    if !finite {
        return bad("non-finite position or angle".to_owned());
    }
    Ok(())
}

/// A mesh converted for Bevy, with its bounding box (Bevy axes, mesh-local).
pub(crate) struct BevyMesh {
    /// The Bevy mesh asset (render-world only: the CPU copy is dropped after upload).
    pub mesh: Mesh,
    /// Local bounding box used for frustum culling.
    pub aabb: Aabb,
}

/// Converts a [`MeshData`] to a Bevy mesh, or `None` for an empty mesh (nothing to draw).
///
/// `what` names the mesh in error messages.
pub(crate) fn build_mesh(data: &MeshData, what: &str) -> Result<Option<BevyMesh>, RenderError> {
    let invalid = |reason: String| RenderError::InvalidMesh { what: what.to_owned(), reason };
    let n = data.positions.len();
    if data.normals.len() != n || data.colors.len() != n {
        return Err(invalid(format!(
            "{n} positions but {} normals and {} colours",
            data.normals.len(),
            data.colors.len()
        )));
    }
    if !data.indices.len().is_multiple_of(3) {
        return Err(invalid(format!("{} indices is not a whole number of triangles", data.indices.len())));
    }
    if let Some(bad) = data.indices.iter().find(|&&i| i as usize >= n) {
        return Err(invalid(format!("index {bad} out of range for {n} vertices")));
    }
    let all_finite = data.positions.iter().flatten().all(|c| c.is_finite())
        && data.normals.iter().flatten().all(|c| c.is_finite())
        && data.colors.iter().flatten().all(|c| c.is_finite());
    if !all_finite {
        return Err(invalid("non-finite vertex data".to_owned()));
    }
    if n == 0 || data.indices.is_empty() {
        return Ok(None);
    }

    let positions: Vec<[f32; 3]> = data.positions.iter().map(|&p| to_bevy(p).to_array()).collect();
    let normals: Vec<[f32; 3]> = data.normals.iter().map(|&v| to_bevy(v).to_array()).collect();
    let (mut min, mut max) = (Vec3::splat(f32::INFINITY), Vec3::splat(f32::NEG_INFINITY));
    for p in &positions {
        let p = Vec3::from_array(*p);
        min = min.min(p);
        max = max.max(p);
    }
    let mesh = Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::RENDER_WORLD)
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
        .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, normals)
        .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, data.colors.clone())
        .with_inserted_indices(Indices::U32(data.indices.clone()));
    Ok(Some(BevyMesh { mesh, aabb: Aabb::from_min_max(min, max) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_map_is_a_proper_rotation() {
        let x = to_bevy([1.0, 0.0, 0.0]);
        let y = to_bevy([0.0, 1.0, 0.0]);
        let z = to_bevy([0.0, 0.0, 1.0]);
        assert!((x.cross(y) - z).length() < 1e-6, "handedness flipped");
        assert_eq!(z, Vec3::Y, "world up must be Bevy up");
    }

    #[test]
    fn yaw_matches_world_rotation() {
        let inst = Instance { mesh: camtwin_sim::geometry::MeshKey(0), translation: [0.0; 3], yaw_rad: 0.7 };
        // World: rotating +x by yaw about +z gives (cos, sin, 0).
        let expected = to_bevy([0.7f32.cos(), 0.7f32.sin(), 0.0]);
        let got = instance_rotation(&inst) * to_bevy([1.0, 0.0, 0.0]);
        assert!((got - expected).length() < 1e-6, "{got} vs {expected}");
    }

    #[test]
    fn camera_looks_along_the_optical_axis() {
        let view = CameraView {
            position: [1.0, -6.0, 5.0],
            yaw_deg: 70.0,
            pitch_deg: 25.0,
            hfov_deg: 70.0,
            width: 640,
            height: 480,
        };
        let (_, rot) = camera_pose(&view);
        let (f, r, u) = view.basis();
        assert!((rot * Vec3::NEG_Z - to_bevy(f)).length() < 1e-5);
        assert!((rot * Vec3::X - to_bevy(r)).length() < 1e-5);
        assert!((rot * Vec3::Y - to_bevy(u)).length() < 1e-5);
    }

    #[test]
    fn malformed_meshes_are_rejected_and_empty_ones_skipped() {
        let mut m = MeshData {
            positions: vec![[0.0; 3]; 3],
            normals: vec![[0.0, 0.0, 1.0]; 3],
            colors: vec![[1.0; 4]; 3],
            indices: vec![0, 1, 3],
        };
        assert!(matches!(build_mesh(&m, "t"), Err(RenderError::InvalidMesh { .. })));
        m.indices = vec![0, 1];
        assert!(build_mesh(&m, "t").is_err());
        m.normals.pop();
        m.indices = vec![0, 1, 2];
        assert!(build_mesh(&m, "t").is_err());
        assert!(matches!(build_mesh(&MeshData::default(), "t"), Ok(None)));
    }
}
