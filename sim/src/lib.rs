//! camtwin's world: the scenario format, the deterministic simulation of
//! people and cars on a street, the ground truth every measurement is scored
//! against, and the non-video sensors that read that same ground truth.
//!
//! Nothing here depends on the renderer or on analytics: the renderer draws
//! the [`geometry::MeshData`] and [`geometry::CameraView`] defined here, and
//! analytics sees only pixels and the camera's calibration.
//!
//! - [`scenario`]: the TOML scenario file, parsed strictly and validated.
//! - [`privacy`]: named privacy configurations, the regulator's knobs as data.
//! - [`street`]: the street's layout and scenery mesh.
//! - [`body`]: articulated walking people and cars as low-poly meshes.
//! - [`world`]: the fixed-step, seeded simulation and line crossings.
//! - [`truth`]: per-camera boxes, visibility and pixels per metre.
//! - [`zones`]: who is inside each zone, and for how long.
//! - [`sensors`]: the less intrusive sensors (infrared, thermal arrays,
//!   presence, loops, magnetometers, Wi-Fi/Bluetooth, manual counts), each
//!   with its errors, cost and the kind of data it handles.

pub mod body;
pub mod geometry;
pub mod mesh;
pub use camtwin_vocab::privacy;
pub mod scenario;
pub mod sensors;
pub mod street;
pub mod truth;
pub mod world;
pub mod zones;
