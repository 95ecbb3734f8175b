//! What each camera films: a headless, lock-step Bevy renderer for camtwin.
//!
//! The simulation (`camtwin-sim`) decides where every pedestrian and car is;
//! this crate turns one camera's view of that state into RGB pixels that a real
//! person detector can be run on. One [`Renderer`] serves one camera.
//!
//! # How a frame is made
//!
//! * [`Renderer::new`] builds a Bevy [`App`] with no window and
//!   no winit, a software (or hardware) Vulkan device, synchronous pipeline
//!   compilation and *no* pipelined rendering, so that one `update()` renders
//!   exactly the state it was given. The static scenery is uploaded once; the
//!   camera renders into an `Rgba8UnormSrgb` image. Shaders are compiled during
//!   a short warm-up (under a second on lavapipe), so every later frame is real.
//! * [`Renderer::render`] places the frame's [`Instance`]s (meshes looked up in a
//!   [`MeshLibrary`] by key, uploaded on first use and cached by key), runs one
//!   update, and copies the frame back to the CPU inside that same update
//!   (see `readback.rs`). The result is tightly packed RGB8, top row first.
//!
//! # Geometry contract
//!
//! [`CameraView::project`] is the definition of world → pixel. The Bevy camera
//! is posed and given the vertical field of view so that it matches it exactly
//! (square pixels, principal point at the image centre); a test renders a marker
//! at known points and checks it lands within 1.5 px of the projection. World
//! axes (`x` east, `y` north, `z` up) are converted to Bevy axes only inside this
//! crate (`convert.rs`).
//!
//! # Shading and speed
//!
//! Every mesh uses one shared material: vertex colour × (hemispheric sky/ground
//! ambient + sun × max(n·l, 0)), from [`Lighting`]. There are no textures,
//! shadows, prepasses or MSAA: on lavapipe (Mesa's CPU Vulkan driver) the
//! vertex stage dominates, so cost scales with triangles drawn, hardly with
//! pixels. The sky is the camera's clear colour.
//!
//! # Determinism and threads
//!
//! Given the same device and inputs, frames are byte-identical across runs.
//! A [`Renderer`] is `Send`: it may be created on one thread and used on
//! another, and several renderers may run on different threads at once (each
//! owns its own device). It is not `Sync`; its methods take `&mut self`.
//!
//! # Requirements
//!
//! A Vulkan driver. Without a GPU install Debian's `mesa-vulkan-drivers` and
//! `libvulkan1` (lavapipe); no display is needed.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use bevy::DefaultPlugins;
use bevy::app::{App, AppExit, PluginGroup, PluginsState, SubApps, TerminalCtrlCHandlerPlugin};
use bevy::asset::{Assets, Handle};
use bevy::camera::primitives::Aabb;
use bevy::camera::visibility::{NoAutoAabb, Visibility};
use bevy::camera::{Camera, Camera3d, ClearColorConfig, PerspectiveProjection, Projection, RenderTarget};
use bevy::color::Color;
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::ecs::change_detection::DetectChangesMut;
use bevy::ecs::entity::Entity;
use bevy::ecs::message::Messages;
use bevy::ecs::schedule::IntoScheduleConfigs;
use bevy::ecs::world::World;
use bevy::image::Image;
use bevy::log::LogPlugin;
use bevy::math::{Vec3, Vec4};
use bevy::mesh::{Indices, Mesh, Mesh3d, MeshTag, PrimitiveTopology};
use bevy::pbr::{MaterialPlugin, MeshMaterial3d};
use bevy::render::pipelined_rendering::PipelinedRenderingPlugin;
use bevy::render::render_resource::{TextureFormat, TextureUsages};
use bevy::render::settings::{MemoryHints, RenderCreation, WgpuSettings};
use bevy::render::view::Msaa;
use bevy::render::{Render, RenderApp, RenderPlugin, RenderSystems};
use bevy::shader::Shader;
use bevy::transform::components::Transform;
use bevy::window::{ExitCondition, WindowPlugin};
use camtwin_sim::geometry::{CameraView, Instance, Lighting, MeshKey, MeshLibrary};

mod convert;
mod material;
mod readback;

use convert::{build_mesh, camera_pose, instance_rotation, to_bevy, validate_view};
use material::{LAMBERT_SHADER, LAMBERT_WGSL, LambertMaterial};
use readback::{FrameReadback, FrameSlot, read_back_frame};

/// Near clipping plane, metres: closer geometry is not drawn.
const NEAR_M: f32 = 0.1;
/// Far plane, metres (Bevy uses an infinite reversed-z projection; this only
/// bounds frustum culling).
const FAR_M: f32 = 500.0;
/// Longest wait for the device to appear and for shaders to compile.
const SETUP_TIMEOUT: Duration = Duration::from_secs(120);
/// Most updates spent warming up before giving up.
const MAX_WARMUP_UPDATES: u32 = 200;
/// Distance of the warm-up marker in front of the camera, metres.
const WARMUP_MARKER_DISTANCE_M: f32 = 0.3;
/// Clear-sky colour (linear RGB) under the default [`Lighting`].
const SKY_LINEAR: [f32; 3] = [0.32, 0.50, 0.78];

/// Why a frame could not be produced.
///
/// Rendering failures are environment problems (no driver) or programming
/// errors (bad meshes); both must reach the caller instead of aborting a run.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// No Vulkan device could be opened.
    #[error(
        "no Vulkan adapter found ({0}); install mesa-vulkan-drivers and libvulkan1 \
         for the lavapipe software renderer"
    )]
    NoAdapter(String),
    /// Building or starting the Bevy app failed.
    #[error("renderer setup failed: {0}")]
    Setup(String),
    /// The camera view cannot be rendered (zero size, bad field of view, NaN).
    #[error("invalid camera view: {0}")]
    InvalidView(String),
    /// A mesh is malformed (mismatched attribute lengths, bad indices, NaN).
    #[error("invalid mesh ({what}): {reason}")]
    InvalidMesh {
        /// Which mesh: scenery index or library key.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An instance has a non-finite position or yaw.
    #[error("invalid instance {index}: non-finite translation or yaw")]
    InvalidInstance {
        /// Position of the instance in the slice given to [`Renderer::render`].
        index: usize,
    },
    /// Shaders did not become ready during warm-up.
    #[error("renderer produced no complete frame during warm-up ({0})")]
    WarmUp(String),
    /// Copying the frame back from the device failed.
    #[error("frame readback failed: {0}")]
    Readback(String),
    /// The GPU device reported an error and Bevy stopped rendering.
    #[error("the render device reported an error; see the log for the wgpu message")]
    Device,
    /// Bevy panicked inside an update; the renderer cannot be used any more.
    #[error("the renderer panicked: {0}")]
    Panicked(String),
}

/// One rendered camera frame.
///
/// Exists so that pixels travel together with their size; the detector and
/// video writers consume it directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFrame {
    /// Width in pixels (equals the camera view's).
    pub width: u32,
    /// Height in pixels (equals the camera view's).
    pub height: u32,
    /// RGB8 (sRGB-encoded) pixels, row-major, top row first, no padding:
    /// `width * height * 3` bytes.
    pub rgb: Vec<u8>,
    /// The id buffer: for each pixel, the tag of the instance that drew it
    /// (see [`Renderer::render_tagged`]), 0 for scenery, sky and untagged
    /// instances; `width * height` bytes in the order of `rgb`. Empty when
    /// the frame did not come from the renderer with its ids (for example a
    /// frame read from disk).
    ///
    /// Exists so that ground truth can give the box and share of a person's
    /// pixels that are actually visible, from the same rasterisation as the
    /// colour image.
    pub ids: Vec<u8>,
}

/// A GPU mesh uploaded from the library, kept alive by its strong handle.
#[derive(Clone)]
struct CachedMesh {
    /// Handle into the main world's `Assets<Mesh>`.
    handle: Handle<Mesh>,
    /// Local bounds for frustum culling (Bevy's automatic bounds need the CPU
    /// copy of the mesh, which is dropped after upload).
    aabb: Aabb,
}

/// A GPU mesh not used for this many frames is freed: 3 s at 10 frames a
/// second, while a walker's eight walk phases come round in about one, so
/// the people in view keep theirs (100 kept more device memory resident on
/// long clips; see `MAX_CACHED_MESHES` in camtwin-sim).
const MESH_SWEEP_FRAMES: u64 = 30;

/// The headless renderer of one camera.
///
/// Exists to hide Bevy behind a frame-in, pixels-out interface that runs in
/// lock-step with the simulation.
pub struct Renderer {
    /// The Bevy main world and render world, updated by hand.
    apps: SubApps,
    /// The camera this renderer films with.
    view: CameraView,
    /// Where the render world leaves each frame.
    slot: FrameSlot,
    /// The one material every mesh is drawn with.
    material: Handle<LambertMaterial>,
    /// Library meshes uploaded so far; `None` for empty meshes.
    /// GPU meshes by key, with the frame that last used each.
    meshes: HashMap<MeshKey, (Option<CachedMesh>, u64)>,
    /// Frames rendered, the clock of `meshes`.
    frames_rendered: u64,
    /// Entities reused for instances, frame to frame.
    pool: Vec<Entity>,
    /// Set after a panic inside Bevy: the worlds may be inconsistent.
    poisoned: bool,
}

impl Renderer {
    /// Builds the headless Bevy app for one camera: static scenery, lighting, camera.
    ///
    /// Opens the Vulkan device, uploads `scenery` (world coordinates), and warms
    /// up until shaders are compiled (0.4-1 s on lavapipe, 2 cores), so that
    /// every [`render`](Self::render) returns a complete frame.
    pub fn new(
        scenery: &[camtwin_sim::geometry::MeshData],
        lighting: &Lighting,
        view: &CameraView,
    ) -> Result<Self, RenderError> {
        validate_view(view)?;
        let scenery_meshes = scenery
            .iter()
            .enumerate()
            .map(|(i, m)| build_mesh(m, &format!("scenery mesh {i}")))
            .collect::<Result<Vec<_>, _>>()?;

        let slot = FrameSlot::default();
        let built = catch_unwind(AssertUnwindSafe(|| build_app(view, lighting, &slot)));
        let (mut app, material) = match built {
            Ok(result) => result?,
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                return Err(if message.contains("Unable to find a GPU") {
                    RenderError::NoAdapter(message)
                } else {
                    RenderError::Setup(message)
                });
            }
        };

        let world = app.world_mut();
        for mesh in scenery_meshes.into_iter().flatten() {
            let handle = world.resource_mut::<Assets<Mesh>>().add(mesh.mesh);
            world.spawn((
                Mesh3d(handle),
                MeshMaterial3d(material.clone()),
                Transform::IDENTITY,
                Visibility::Visible,
                mesh.aabb,
                NoAutoAabb,
            ));
        }

        let mut renderer = Self {
            apps: std::mem::take(app.sub_apps_mut()),
            view: *view,
            slot,
            material,
            meshes: HashMap::new(),
            frames_rendered: 0,
            pool: Vec::new(),
            poisoned: false,
        };
        renderer.warm_up()?;
        Ok(renderer)
    }

    /// Renders one frame showing `instances` (meshes looked up in `library` by
    /// key, uploaded once and cached by key), returns RGB8 pixels, row-major,
    /// top row first, no padding.
    ///
    /// Instances whose library mesh is empty are skipped. The scenery given to
    /// [`new`](Self::new) is always drawn.
    pub fn render(&mut self, instances: &[Instance], library: &dyn MeshLibrary) -> Result<RenderedFrame, RenderError> {
        self.render_tagged(instances, &[], library)
    }

    /// Like [`render`](Self::render), and each instance is drawn with the tag
    /// at its index in `tags` (0 when `tags` is shorter): the frame's
    /// [`ids`](RenderedFrame::ids) then tell which instance each pixel shows.
    ///
    /// Tags are 8 bits: a caller labels at most 255 instances per frame.
    pub fn render_tagged(
        &mut self,
        instances: &[Instance],
        tags: &[u8],
        library: &dyn MeshLibrary,
    ) -> Result<RenderedFrame, RenderError> {
        self.check_usable()?;
        let mut placed = Vec::with_capacity(instances.len());
        for (index, instance) in instances.iter().enumerate() {
            let finite = instance.translation.iter().all(|c| c.is_finite()) && instance.yaw_rad.is_finite();
            if !finite {
                return Err(RenderError::InvalidInstance { index });
            }
            if let Some(mesh) = self.library_mesh(instance.mesh, library)? {
                let transform = Transform {
                    translation: to_bevy(instance.translation),
                    rotation: instance_rotation(instance),
                    scale: Vec3::ONE,
                };
                placed.push((mesh, transform, MeshTag(u32::from(tags.get(index).copied().unwrap_or(0)))));
            }
        }
        self.place(placed);
        // Free the meshes of people long gone (their handles drop, Bevy
        // frees the assets), so memory does not grow with the number of
        // distinct people a long run sees.
        self.frames_rendered += 1;
        if self.frames_rendered.is_multiple_of(MESH_SWEEP_FRAMES) {
            let since = self.frames_rendered.saturating_sub(MESH_SWEEP_FRAMES);
            self.meshes.retain(|_, (_, used)| *used >= since);
        }
        let rgba = self.update_and_read()?;
        Ok(self.to_frame(&rgba))
    }

    /// The camera this renderer was built for.
    ///
    /// Lets callers pair frames with the projection used for ground truth.
    pub fn view(&self) -> &CameraView {
        &self.view
    }

    /// Returns the cached GPU mesh for `key`, uploading it on first use.
    fn library_mesh(&mut self, key: MeshKey, library: &dyn MeshLibrary) -> Result<Option<CachedMesh>, RenderError> {
        let now = self.frames_rendered;
        if let Some((cached, used)) = self.meshes.get_mut(&key) {
            *used = now;
            return Ok(cached.clone());
        }
        let data = library.mesh(key);
        let cached = build_mesh(&data, &format!("library mesh {}", key.0))?.map(|m| {
            let handle = self.apps.main.world_mut().resource_mut::<Assets<Mesh>>().add(m.mesh);
            CachedMesh { handle, aabb: m.aabb }
        });
        self.meshes.insert(key, (cached.clone(), now));
        Ok(cached)
    }

    /// Puts `placed` meshes on pooled entities and hides the surplus ones.
    ///
    /// Components are only written when they change, so Bevy re-extracts as
    /// little as possible.
    fn place(&mut self, placed: Vec<(CachedMesh, Transform, MeshTag)>) {
        let count = placed.len();
        let world = self.apps.main.world_mut();
        for (i, (mesh, transform, tag)) in placed.into_iter().enumerate() {
            match self.pool.get(i) {
                Some(&entity) => {
                    let Ok(mut e) = world.get_entity_mut(entity) else {
                        continue;
                    };
                    if let Some(mut m) = e.get_mut::<Mesh3d>() {
                        m.set_if_neq(Mesh3d(mesh.handle));
                    }
                    if let Some(mut t) = e.get_mut::<Transform>() {
                        t.set_if_neq(transform);
                    }
                    if let Some(mut a) = e.get_mut::<Aabb>() {
                        a.set_if_neq(mesh.aabb);
                    }
                    if let Some(mut t) = e.get_mut::<MeshTag>() {
                        t.set_if_neq(tag);
                    }
                    if let Some(mut v) = e.get_mut::<Visibility>() {
                        v.set_if_neq(Visibility::Visible);
                    }
                }
                None => {
                    let entity = world
                        .spawn((
                            Mesh3d(mesh.handle),
                            MeshMaterial3d(self.material.clone()),
                            transform,
                            Visibility::Visible,
                            mesh.aabb,
                            NoAutoAabb,
                            tag,
                        ))
                        .id();
                    self.pool.push(entity);
                }
            }
        }
        for &entity in self.pool.iter().skip(count) {
            if let Ok(mut e) = world.get_entity_mut(entity)
                && let Some(mut v) = e.get_mut::<Visibility>()
            {
                v.set_if_neq(Visibility::Hidden);
            }
        }
    }

    /// Runs one Bevy update and returns the packed RGBA8 frame it rendered.
    fn update_and_read(&mut self) -> Result<Vec<u8>, RenderError> {
        self.check_usable()?;
        if let Ok(mut slot) = self.slot.lock() {
            *slot = None;
        }
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| self.apps.update())) {
            self.poisoned = true;
            return Err(RenderError::Panicked(panic_message(payload.as_ref())));
        }
        if exit_requested(self.apps.main.world()) {
            self.poisoned = true;
            return Err(RenderError::Device);
        }
        let taken = self.slot.lock().map_err(|_| RenderError::Readback("frame mailbox poisoned".to_owned()))?.take();
        match taken {
            Some(Ok(rgba)) => Ok(rgba),
            Some(Err(reason)) => Err(RenderError::Readback(reason)),
            None => Err(RenderError::Readback("the render world did not run this update".to_owned())),
        }
    }

    /// Fails fast once Bevy has panicked or stopped.
    fn check_usable(&self) -> Result<(), RenderError> {
        if self.poisoned {
            Err(RenderError::Panicked("an earlier update failed; build a new Renderer".to_owned()))
        } else {
            Ok(())
        }
    }

    /// Updates until a marker drawn with the shared material shows up, so that
    /// all pipelines are compiled before the first real frame.
    fn warm_up(&mut self) -> Result<(), RenderError> {
        let marker = warmup_marker(&self.view);
        let world = self.apps.main.world_mut();
        let handle = world.resource_mut::<Assets<Mesh>>().add(marker.mesh);
        let marker_entity = world
            .spawn((
                Mesh3d(handle),
                MeshMaterial3d(self.material.clone()),
                Transform::IDENTITY,
                Visibility::Visible,
                marker.aabb,
                NoAutoAabb,
                // Tagged 255, so the warm-up also proves the id buffer works.
                MeshTag(255),
            ))
            .id();

        let start = Instant::now();
        let mut last = String::from("no update ran");
        let mut ready = false;
        for update in 1..=MAX_WARMUP_UPDATES {
            match self.update_and_read() {
                Ok(rgba) if marker_visible(&rgba, self.view.width, self.view.height) => {
                    tracing::debug!(updates = update, seconds = start.elapsed().as_secs_f32(), "renderer warmed up");
                    ready = true;
                    break;
                }
                Ok(_) => last = "marker not drawn yet".to_owned(),
                Err(RenderError::Readback(reason)) => last = reason,
                Err(other) => return Err(other),
            }
            if start.elapsed() > SETUP_TIMEOUT {
                break;
            }
        }
        self.apps.main.world_mut().despawn(marker_entity);
        if ready { Ok(()) } else { Err(RenderError::WarmUp(last)) }
    }

    /// Splits colour from the alpha channel, which holds the tags.
    fn to_frame(&self, rgba: &[u8]) -> RenderedFrame {
        let rgb = rgba.chunks_exact(4).flat_map(|px| [px[0], px[1], px[2]]).collect();
        let ids = rgba.chunks_exact(4).map(|px| px[3]).collect();
        RenderedFrame { width: self.view.width, height: self.view.height, rgb, ids }
    }
}

/// Builds and finishes the Bevy app; returns it with the shared material.
///
/// May panic inside Bevy (e.g. no GPU); the caller catches that.
fn build_app(
    view: &CameraView,
    lighting: &Lighting,
    slot: &FrameSlot,
) -> Result<(App, Handle<LambertMaterial>), RenderError> {
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                close_when_requested: false,
                ..Default::default()
            })
            .set(RenderPlugin {
                synchronous_pipeline_compilation: true,
                // Small device-memory blocks, freed when empty: on the CPU
                // driver device memory is process memory, and with the
                // default (large blocks, kept) the pages that mesh turnover
                // touches stay resident, so memory grew with clip length.
                render_creation: RenderCreation::Automatic(Box::new(WgpuSettings {
                    memory_hints: MemoryHints::MemoryUsage,
                    ..Default::default()
                })),
                ..Default::default()
            })
            // Lock-step: the render world must finish within the same update.
            .disable::<PipelinedRenderingPlugin>()
            // The embedding program owns the global tracing subscriber and Ctrl-C.
            .disable::<LogPlugin>()
            .disable::<TerminalCtrlCHandlerPlugin>(),
    );
    app.add_plugins(MaterialPlugin::<LambertMaterial>::default());

    app.world_mut()
        .resource_mut::<Assets<Shader>>()
        .insert(&LAMBERT_SHADER, Shader::from_wgsl(LAMBERT_WGSL, "camtwin_render/lambert.wgsl"))
        .map_err(|e| RenderError::Setup(format!("registering the shader: {e}")))?;

    let (width, height) = (view.width, view.height);
    let mut target = Image::new_target_texture(width, height, TextureFormat::Rgba8UnormSrgb, None);
    target.texture_descriptor.usage |= TextureUsages::COPY_SRC;
    let target = app.world_mut().resource_mut::<Assets<Image>>().add(target);

    let render_app = app
        .get_sub_app_mut(RenderApp)
        .ok_or_else(|| RenderError::NoAdapter("Bevy found no rendering backend".to_owned()))?;
    render_app.insert_resource(FrameReadback { target: target.id(), width, height, slot: slot.clone(), staging: None });
    render_app.add_systems(Render, read_back_frame.in_set(RenderSystems::Cleanup));

    let start = Instant::now();
    while app.plugins_state() == PluginsState::Adding {
        if start.elapsed() > SETUP_TIMEOUT {
            return Err(RenderError::Setup("plugins did not become ready".to_owned()));
        }
        bevy::tasks::tick_global_task_pools_on_main_thread();
    }
    app.finish();
    app.cleanup();

    let material = app.world_mut().resource_mut::<Assets<LambertMaterial>>().add(LambertMaterial::new(lighting));
    let (translation, rotation) = camera_pose(view);
    app.world_mut().spawn((
        Camera3d::default(),
        Camera { clear_color: ClearColorConfig::Custom(sky_color(lighting)), ..Default::default() },
        RenderTarget::Image(target.into()),
        Projection::Perspective(PerspectiveProjection {
            fov: view.vfov_rad(),
            aspect_ratio: width as f32 / height as f32,
            near: NEAR_M,
            far: FAR_M,
            ..Default::default()
        }),
        Transform { translation, rotation, scale: Vec3::ONE },
        Msaa::Off,
        Tonemapping::None,
        DebandDither::Disabled,
    ));
    Ok((app, material))
}

/// Clear colour: a pale blue sky whose brightness follows the ambient level.
///
/// Never fully black, so the warm-up marker (pure red) can always be told apart.
fn sky_color(lighting: &Lighting) -> Color {
    let default_level = Lighting::default().sky_color.iter().sum::<f32>();
    let level = (lighting.sky_color.iter().sum::<f32>() / default_level).clamp(0.05, 2.0);
    let [r, g, b] = SKY_LINEAR.map(|c| (c * level).min(1.0));
    // Alpha 0: the sky is nobody in the id buffer.
    Color::linear_rgba(r, g, b, 0.0)
}

/// A small red square facing the camera just past the near plane, covering the
/// image centre; drawn during warm-up to force pipeline compilation.
fn warmup_marker(view: &CameraView) -> convert::BevyMesh {
    let (position, rotation) = camera_pose(view);
    let forward = rotation * Vec3::NEG_Z;
    let right = rotation * Vec3::X;
    let up = rotation * Vec3::Y;
    let centre = position + forward * WARMUP_MARKER_DISTANCE_M;
    let half = 0.05 * WARMUP_MARKER_DISTANCE_M;
    let corners = [
        centre - right * half - up * half,
        centre + right * half - up * half,
        centre + right * half + up * half,
        centre - right * half + up * half,
    ];
    let normal = (-forward).to_array();
    // Very bright red saturates even under dim light; green and blue stay 0.
    let red = Vec4::new(1000.0, 0.0, 0.0, 1.0).to_array();
    let mesh = Mesh::new(PrimitiveTopology::TriangleList, bevy::asset::RenderAssetUsages::RENDER_WORLD)
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, corners.iter().map(|c| c.to_array()).collect::<Vec<_>>())
        .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, vec![normal; 4])
        .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, vec![red; 4])
        .with_inserted_indices(Indices::U32(vec![0, 1, 2, 0, 2, 3]));
    let (min, max) = corners
        .iter()
        .fold((Vec3::splat(f32::INFINITY), Vec3::splat(f32::NEG_INFINITY)), |(lo, hi), c| (lo.min(*c), hi.max(*c)));
    convert::BevyMesh { mesh, aabb: Aabb::from_min_max(min, max) }
}

/// Whether the centre pixel of a packed RGBA8 frame shows the warm-up marker
/// (pure red, and tag 255 in the alpha channel).
fn marker_visible(rgba: &[u8], width: u32, height: u32) -> bool {
    let centre = ((height / 2) as usize * width as usize + (width / 2) as usize) * 4;
    rgba.get(centre..centre + 4).is_some_and(|px| px[3] == 255 && px[1] < 8 && px[2] < 8)
}

/// Whether Bevy asked to exit (its render error handler does so on device errors).
fn exit_requested(world: &World) -> bool {
    world.get_resource::<Messages<AppExit>>().is_some_and(|m| !m.is_empty())
}

/// Text of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

#[cfg(test)]
mod tests;
