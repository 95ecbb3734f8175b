//! Video frames and the audit of their lifetime.
//!
//! A frame is personal data: the pipeline keeps it only until detection has
//! run on it. Every [`Frame`] holds a [`FrameLease`] from a [`FrameGate`]; the
//! gate bounds how many frames exist at once (back-pressure on the source)
//! and counts how many were created and destroyed, so a run can prove that no
//! frame outlived its detection step.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// An RGB8 image, row-major, top row first, no padding.
#[derive(Debug)]
pub struct Frame {
    /// Index of the frame in the camera's native stream.
    pub index: u64,
    /// Capture time, seconds since the start of the run.
    pub time_s: f64,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Pixels, `width * height * 3` bytes.
    pub rgb: Vec<u8>,
    /// Face boxes known from ground truth, native pixels: only the
    /// experiment-only "truth" face blur reads them (a perfect blur, to
    /// separate a blur's effect from a face detector's misses). Empty for
    /// real footage and in every other configuration.
    pub truth_faces: Vec<[f32; 4]>,
    /// Face boxes the privacy filter blurred in this frame, native pixels.
    pub blurred: Vec<[f32; 4]>,
    /// Bytes this frame cost when the filter shipped it off the device
    /// (central mode), 0 otherwise.
    pub shipped_bytes: u64,
    lease: FrameLease,
}

impl Frame {
    /// Wraps pixels taken from a source; `lease` must come from the run's gate.
    pub fn new(index: u64, time_s: f64, width: u32, height: u32, rgb: Vec<u8>, mut lease: FrameLease) -> Self {
        lease.hold_frame();
        Self {
            index,
            time_s,
            width,
            height,
            rgb,
            truth_faces: Vec::new(),
            blurred: Vec::new(),
            shipped_bytes: 0,
            lease,
        }
    }

    /// Replaces the pixels (same lease), for filters that change resolution.
    pub fn with_pixels(self, width: u32, height: u32, rgb: Vec<u8>) -> Self {
        Self { width, height, rgb, ..self }
    }

    /// The lease, to check which gate a frame belongs to.
    pub fn lease(&self) -> &FrameLease {
        &self.lease
    }
}

/// Copies the part of `frame` inside `rect` (`[x0, y0, x1, y1]`, clamped to
/// the frame and at least one pixel); returns its offset, size and pixels.
pub fn crop(frame: &Frame, rect: [u32; 4]) -> (f32, f32, u32, u32, Vec<u8>) {
    let x0 = rect[0].min(frame.width.saturating_sub(1));
    let y0 = rect[1].min(frame.height.saturating_sub(1));
    let x1 = rect[2].clamp(x0 + 1, frame.width.max(x0 + 1));
    let y1 = rect[3].clamp(y0 + 1, frame.height.max(y0 + 1));
    let (w, h) = (x1 - x0, y1 - y0);
    let stride = frame.width as usize * 3;
    let mut rgb = Vec::with_capacity(w as usize * h as usize * 3);
    for y in y0..y1 {
        let start = y as usize * stride + x0 as usize * 3;
        rgb.extend_from_slice(&frame.rgb[start..start + w as usize * 3]);
    }
    (x0 as f32, y0 as f32, w, h, rgb)
}

#[derive(Debug, Default)]
struct GateState {
    alive: usize,
    created: u64,
    destroyed: u64,
    peak: usize,
}

#[derive(Debug)]
struct GateInner {
    capacity: usize,
    state: Mutex<GateState>,
    freed: Condvar,
}

impl GateInner {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Bounds and audits the frames alive in one run.
#[derive(Debug, Clone)]
pub struct FrameGate {
    inner: Arc<GateInner>,
}

/// Counts from a [`FrameGate`]: the evidence that frames were short-lived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameAudit {
    /// Frames created.
    pub created: u64,
    /// Frames destroyed.
    pub destroyed: u64,
    /// Slots held now (frames, or leases about to become frames).
    pub alive: usize,
    /// Most slots held at once.
    pub peak_alive: usize,
    /// The bound.
    pub capacity: usize,
}

impl FrameGate {
    /// A gate letting at most `capacity` frames (at least 1) exist at once.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::new(GateInner {
                capacity: capacity.max(1),
                state: Mutex::new(GateState::default()),
                freed: Condvar::new(),
            }),
        }
    }

    /// Blocks until a frame may be created, then leases a slot. Call it from
    /// the source's own thread, never from an async executor.
    pub fn acquire(&self) -> FrameLease {
        let mut s = self.inner.lock();
        while s.alive >= self.inner.capacity {
            s = match self.inner.freed.wait(s) {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
        s.alive += 1;
        s.peak = s.peak.max(s.alive);
        FrameLease { gate: self.inner.clone(), holds_frame: false }
    }

    /// The counts so far.
    pub fn audit(&self) -> FrameAudit {
        let s = self.inner.lock();
        FrameAudit {
            created: s.created,
            destroyed: s.destroyed,
            alive: s.alive,
            peak_alive: s.peak,
            capacity: self.inner.capacity,
        }
    }
}

/// A slot in a [`FrameGate`], released when the frame holding it is dropped
/// (or unused, when a source has nothing more to give).
#[derive(Debug)]
pub struct FrameLease {
    gate: Arc<GateInner>,
    holds_frame: bool,
}

impl FrameLease {
    fn hold_frame(&mut self) {
        if !self.holds_frame {
            self.holds_frame = true;
            self.gate.lock().created += 1;
        }
    }
}

impl Drop for FrameLease {
    fn drop(&mut self) {
        let mut s = self.gate.lock();
        s.alive = s.alive.saturating_sub(1);
        if self.holds_frame {
            s.destroyed += 1;
        }
        self.gate.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_bounds_and_audits_frames() {
        let gate = FrameGate::new(2);
        let a = Frame::new(0, 0.0, 1, 1, vec![0; 3], gate.acquire());
        let b = Frame::new(1, 0.1, 1, 1, vec![0; 3], gate.acquire());
        let g2 = gate.clone();
        let waiter = std::thread::spawn(move || {
            let lease = g2.acquire();
            drop(lease);
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(gate.audit().alive, 2, "third frame waits");
        drop(a);
        waiter.join().expect("waiter");
        drop(b);
        let audit = gate.audit();
        assert_eq!(
            (audit.created, audit.destroyed, audit.alive, audit.peak_alive),
            (2, 2, 0, 2),
            "an unused lease is no frame"
        );
    }
}
