//! Copies the finished frame from the GPU to the CPU inside the same update.
//!
//! Bevy's own screenshot and `Readback` helpers deliver pixels one or more
//! frames late; the simulation needs lock-step frames, so this system runs in
//! the render schedule right after the render graph has been submitted, copies
//! the target texture into a mappable buffer, and blocks until it is mapped.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use bevy::asset::AssetId;
use bevy::ecs::resource::Resource;
use bevy::ecs::system::{Res, ResMut};
use bevy::image::Image;
use bevy::render::render_asset::RenderAssets;
use bevy::render::render_resource::{
    Buffer, BufferDescriptor, BufferUsages, CommandEncoderDescriptor, MapMode, PollType, TexelCopyBufferInfo,
    TexelCopyBufferLayout, TextureFormat,
};
use bevy::render::renderer::{RenderDevice, RenderQueue};
use bevy::render::texture::GpuImage;

/// Bytes per pixel of the `Rgba8UnormSrgb` render target.
const BYTES_PER_PIXEL: usize = 4;

/// What the render world hands back each update: tightly packed RGBA8 rows, or why not.
pub(crate) type FrameResult = Result<Vec<u8>, String>;

/// Mailbox shared by the render world (writer) and the [`crate::Renderer`] (reader).
pub(crate) type FrameSlot = Arc<Mutex<Option<FrameResult>>>;

/// Render-world resource: which texture to read and where to put the pixels.
#[derive(Resource)]
pub(crate) struct FrameReadback {
    /// The camera's render target.
    pub target: AssetId<Image>,
    /// Target size in pixels.
    pub width: u32,
    /// Target height in pixels.
    pub height: u32,
    /// Where the packed frame goes.
    pub slot: FrameSlot,
    /// Mappable staging buffer, created on first use (rows padded to 256 bytes).
    pub staging: Option<Buffer>,
}

impl FrameReadback {
    /// Row pitch in the staging buffer: wgpu requires multiples of 256 bytes.
    fn padded_row_bytes(&self) -> usize {
        RenderDevice::align_copy_bytes_per_row(self.width as usize * BYTES_PER_PIXEL)
    }

    /// Copies the target into the staging buffer, waits for it, and packs the rows.
    fn read(&mut self, images: &RenderAssets<GpuImage>, device: &RenderDevice, queue: &RenderQueue) -> FrameResult {
        let image = images.get(self.target).ok_or_else(|| "render target not on the GPU yet".to_owned())?;
        if image.texture_descriptor.format != TextureFormat::Rgba8UnormSrgb {
            return Err(format!("unexpected target format {:?}", image.texture_descriptor.format));
        }
        let padded = self.padded_row_bytes();
        let height = self.height as usize;
        let staging = self
            .staging
            .get_or_insert_with(|| {
                device.create_buffer(&BufferDescriptor {
                    label: Some("camtwin frame readback"),
                    size: (padded * height) as u64,
                    usage: BufferUsages::MAP_READ | BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            })
            .clone();

        let mut encoder =
            device.create_command_encoder(&CommandEncoderDescriptor { label: Some("camtwin frame readback") });
        encoder.copy_texture_to_buffer(
            image.texture.as_image_copy(),
            TexelCopyBufferInfo {
                buffer: &staging,
                layout: TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(padded as u32), rows_per_image: None },
            },
            image.texture_descriptor.size,
        );
        queue.submit(std::iter::once(encoder.finish()));

        let slice = staging.slice(..);
        let (tx, rx) = mpsc::channel();
        slice.map_async(MapMode::Read, move |result| {
            // The receiver only disappears if this function already returned.
            let _ = tx.send(result);
        });
        device.poll(PollType::wait_indefinitely()).map_err(|e| format!("device poll failed: {e}"))?;
        rx.recv()
            .map_err(|_| "map callback never ran".to_owned())?
            .map_err(|e| format!("mapping the staging buffer failed: {e}"))?;

        let row = self.width as usize * BYTES_PER_PIXEL;
        let mut packed = Vec::with_capacity(row * height);
        {
            let mapped = slice.get_mapped_range();
            for chunk in mapped.chunks(padded).take(height) {
                if let Some(pixels) = chunk.get(..row) {
                    packed.extend_from_slice(pixels);
                }
            }
        }
        staging.unmap();
        if packed.len() != row * height {
            return Err(format!("read {} bytes, expected {}", packed.len(), row * height));
        }
        Ok(packed)
    }
}

/// Render-schedule system (cleanup set, after the frame was submitted).
pub(crate) fn read_back_frame(
    mut readback: ResMut<FrameReadback>,
    images: Res<RenderAssets<GpuImage>>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
) {
    let result = readback.read(&images, &device, &queue);
    // A poisoned slot means the reader panicked; nothing useful to do here.
    if let Ok(mut slot) = readback.slot.lock() {
        *slot = Some(result);
    }
}
