//! camtwin's edge-analytics core: what would run in a device bolted to the
//! camera. Frames go through a privacy filter, a real COCO detector (tract,
//! ONNX), a tracker and line counters, as actix actors with bounded frames in
//! flight; only per-interval counts come out.
//!
//! This crate never sees ground truth, except as plain counts and timed
//! crossings handed to [`metrics`] and [`scoring`],
//! and never depends on the renderer: it takes RGB frames from any
//! [`pipeline::FrameProducer`], rendered or recorded.
//!
//! - [`frame`]: frames and the audit of their lifetime.
//! - [`calibration`]: image → ground homography from point pairs (real cameras).
//! - [`privacy`]: the privacy filter: masks, frame rate in time, face blur,
//!   resizing; whole-person pixelation of kept frames.
//! - [`faces`]: the CenterFace face detector behind the face blur.
//! - [`detector`]: YOLO on tract, decoding and NMS.
//! - [`tracker`]: ByteTrack-class tracking (Kalman filter, Hungarian
//!   assignment, two-stage association, lifetimes in seconds).
//! - [`counter`]: several directional lines per camera, on the ground or in
//!   the image, with hysteresis and interpolated crossing times.
//! - [`zones`]: zone occupancy and dwell from tracks.
//! - [`aggregate`]: counts per interval, line, class and direction, with
//!   small-count suppression and Laplace noise.
//! - [`pipeline`]: the actor chain.
//! - [`metrics`]: WAPE and bias against ground truth.
//! - [`intrusiveness`]: what a configuration still sees of people (DORI
//!   levels, identifiable face-seconds, sensitive places), from ground truth.
//! - [`evaluation`]: tracking metrics (MOTA, IDF1) against labelled boxes.
//! - [`scoring`]: the truth join, error tables, the visible/lost split of a
//!   camera's error, statistics over seeds, plot panels.
//! - [`report`]: CSV, PNG plot and atomic file writing.
//! - [`legal`]: the intrusiveness scale shared by cameras and sensors, and
//!   the legal reading of a means for a stated use.
//! - [`plots`]: the experiment's plots (frontier, curves, cost), PNG and SVG.

pub mod aggregate;
mod assignment;
pub mod calibration;
pub mod counter;
pub mod detector;
pub mod evaluation;
pub mod faces;
pub mod frame;
pub mod intrusiveness;
pub mod legal;
pub mod metrics;
pub mod pipeline;
pub mod plots;
pub mod privacy;
pub mod report;
pub mod scoring;
pub mod tracker;
pub mod zones;
