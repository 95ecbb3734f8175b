//! camtwin's edge-analytics core: what would run in a device bolted to the
//! camera. Frames go through a privacy filter, a real COCO detector (tract,
//! ONNX), a tracker and line counters, as actix actors with bounded frames in
//! flight; only per-interval counts come out.
//!
//! This crate never sees ground truth, except as plain counts in [`metrics`],
//! and never depends on the renderer: it takes RGB frames from any
//! [`pipeline::FrameProducer`], rendered or recorded.
//!
//! - [`frame`]: frames and the audit of their lifetime.
//! - [`privacy`]: downscaling and frame decimation.
//! - [`detector`]: YOLO on tract, decoding and NMS.
//! - [`tracker`]: confirmation-gated IoU tracking.
//! - [`counter`]: ground-plane line counting with a dead band.
//! - [`aggregate`]: counts per interval, class and direction.
//! - [`pipeline`]: the actor chain.
//! - [`metrics`]: WAPE and bias against ground truth.
//! - [`report`]: CSV, PNG plot and atomic file writing.

pub mod aggregate;
pub mod counter;
pub mod detector;
pub mod frame;
pub mod metrics;
pub mod pipeline;
pub mod privacy;
pub mod report;
pub mod tracker;
