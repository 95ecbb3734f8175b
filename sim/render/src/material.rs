//! The one material every mesh is drawn with: vertex colour under Lambert lighting.
//!
//! Bevy's `StandardMaterial` (PBR, clustered lights, shadows) costs ~6x more on
//! lavapipe than this shader, and a surveillance-camera image does not need it.

use bevy::asset::{Asset, Handle, uuid_handle};
use bevy::math::Vec4;
use bevy::pbr::Material;
use bevy::reflect::TypePath;
use bevy::render::render_resource::{AsBindGroup, ShaderType};
use bevy::shader::{Shader, ShaderRef};
use camtwin_sim::geometry::{Lighting, normalize};

use crate::convert::to_bevy;

/// Fixed id under which the WGSL source is added to `Assets<Shader>`.
pub(crate) const LAMBERT_SHADER: Handle<Shader> = uuid_handle!("5d0c7a52-3f1e-4c8b-9a41-7b2e6f90c3d1");

/// WGSL source of the fragment shader.
pub(crate) const LAMBERT_WGSL: &str = include_str!("lambert.wgsl");

/// Lighting uniform, laid out as in `lambert.wgsl`.
#[derive(Clone, Copy, Debug, ShaderType)]
pub(crate) struct LambertLighting {
    /// Unit vector towards the sun, Bevy axes.
    pub to_sun: Vec4,
    /// Linear RGB sun illuminance.
    pub sun_color: Vec4,
    /// Linear RGB sky ambient.
    pub sky_color: Vec4,
    /// Linear RGB ground ambient.
    pub ground_color: Vec4,
}

/// The shared material; lighting is a uniform so one pipeline serves every mesh.
#[derive(Asset, TypePath, AsBindGroup, Clone, Debug)]
pub(crate) struct LambertMaterial {
    /// Sun and sky, converted to Bevy axes.
    #[uniform(0)]
    pub lighting: LambertLighting,
}

impl LambertMaterial {
    /// Material lit by `lighting` (world axes are converted here).
    pub(crate) fn new(lighting: &Lighting) -> Self {
        let travel = normalize(lighting.sun_direction);
        let to_sun = to_bevy([-travel[0], -travel[1], -travel[2]]);
        let rgb = |c: [f32; 3]| Vec4::new(c[0].max(0.0), c[1].max(0.0), c[2].max(0.0), 0.0);
        Self {
            lighting: LambertLighting {
                to_sun: to_sun.extend(0.0),
                sun_color: rgb(lighting.sun_color),
                sky_color: rgb(lighting.sky_color),
                ground_color: rgb(lighting.ground_color),
            },
        }
    }
}

impl Material for LambertMaterial {
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(LAMBERT_SHADER)
    }

    fn enable_prepass() -> bool {
        false
    }

    fn enable_shadows() -> bool {
        false
    }
}
