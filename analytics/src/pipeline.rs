//! The edge-analytics pipeline as actix actors:
//!
//! ```text
//! FrameSource → PrivacyFilter → Detector → Tracker → LineCounter → Aggregator → CsvSink
//! ```
//!
//! Back-pressure: every hand-off is an awaited `send`, so a stage accepts the
//! next frame only when the previous one has gone through the whole chain;
//! the source renders ahead into a bounded channel and every frame holds a
//! [`FrameLease`](crate::frame::FrameLease), so the frames alive at once never
//! exceed [`PipelineConfig::max_frames_in_flight`]. The detector drops each
//! frame as soon as it has run; downstream stages see boxes, tracks and
//! counts, and only the aggregated counts leave the pipeline.

use std::path::PathBuf;
use std::time::Instant;

use actix::prelude::*;

use crate::aggregate::{Aggregator, Disclosure, IntervalCount};
use crate::counter::{CountEvent, CountingGeometry, LineCounter};
use crate::detector::{Detection, Detector, ObjectClass, select_detections};
use crate::faces::FaceDetector;
use crate::frame::{Frame, FrameAudit, FrameGate, FrameLease, crop};
use crate::privacy::{OutputMode, PrivacyFilter, PrivacySettings, pixelate_boxes};
use crate::tracker::{TrackObservation, TrackState, Tracker, TrackerConfig};

/// Why a pipeline run failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The frame source failed.
    #[error("frame source failed: {0}")]
    Source(String),
    /// The detector failed.
    #[error(transparent)]
    Detector(#[from] crate::detector::DetectorError),
    /// An actor stopped before the run ended.
    #[error("pipeline stage `{stage}` stopped unexpectedly: {cause}")]
    Mailbox {
        /// The stage that could not be reached.
        stage: &'static str,
        /// The cause.
        cause: MailboxError,
    },
    /// The aggregate file could not be written.
    #[error("cannot write {}: {message}", path.display())]
    Sink {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// The detector failed on many frames in a row.
    #[error("the detector failed on {frames} frames in a row; last error: {last}")]
    DetectorFaults {
        /// Consecutive faulty frames.
        frames: u32,
        /// The last fault.
        last: String,
    },
    /// The counting lines cannot be used.
    #[error(transparent)]
    Counter(#[from] crate::counter::CounterError),
    /// A frame outlived the run: the privacy invariant is broken.
    #[error("frame audit failed: {0:?}")]
    Audit(FrameAudit),
    /// A frame was kept longer than the configuration's retention.
    #[error("frame {index} was kept {lifetime_s:.2} s, longer than the retention of {retention_s} s")]
    Retention {
        /// The frame.
        index: u64,
        /// How long it was kept, seconds of stream time.
        lifetime_s: f64,
        /// The configured retention, seconds.
        retention_s: f64,
    },
    /// The privacy filter failed on many frames in a row.
    #[error("the privacy filter failed on {frames} frames in a row; last error: {last}")]
    FilterFaults {
        /// Consecutive faulty frames.
        frames: u32,
        /// The last fault.
        last: String,
    },
}

/// Produces frames for the pipeline, on a thread of its own (rendering or
/// decoding blocks). `lease` must be moved into the returned frame.
pub trait FrameProducer {
    /// The next frame, `None` at the end of the stream.
    fn next_frame(&mut self, lease: FrameLease) -> Option<Result<Frame, String>>;
}

/// Everything a run needs besides its frames.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Privacy filter settings.
    pub privacy: PrivacySettings,
    /// The counting lines and the camera calibration.
    pub counting: CountingGeometry,
    /// The part of the image the detector looks at, `[x0, y0, x1, y1]` in
    /// native pixels (the whole frame when `None`): where the people the
    /// counting lines need can appear. The detector's input is fitted to
    /// this region, so people in it are seen larger for the same cost, and
    /// nothing outside it is analysed.
    pub region: Option<[u32; 4]>,
    /// Tracker settings.
    pub tracker: TrackerConfig,
    /// Aggregation interval, seconds.
    pub interval_s: u32,
    /// Small-count suppression and noise applied to the aggregates.
    pub disclosure: Disclosure,
    /// The face detector, when the privacy configuration blurs faces with one.
    pub faces: Option<FaceDetector>,
    /// The camera's native frame rate, frames per second: the clock that
    /// retention is enforced on.
    pub native_fps: f64,
    /// Length of the run, seconds (for empty trailing intervals).
    pub duration_s: f64,
    /// Bound on frames alive at once (rendered ahead + being analysed).
    pub max_frames_in_flight: usize,
    /// Where the aggregates are written (atomically), if anywhere.
    pub sink: Option<PathBuf>,
    /// Keep every analysed frame's tracked boxes in the summary, for scoring
    /// the tracker against labels (off in normal runs: a device keeps no
    /// tracks).
    pub record_tracks: bool,
    /// Results to replay instead of filtering and detecting: a frame found
    /// here may come without pixels.
    pub replay: Option<std::sync::Arc<Replay>>,
    /// Zones whose occupancy and dwell the camera measures.
    pub zones: Vec<crate::zones::ZoneSpec>,
}

/// What the privacy filter and the detector produced for one analysed frame:
/// all that the stages after detection need, so that a configuration that
/// differs from an earlier one only after detection (tracker, aggregation,
/// k, ε, retention) replays it instead of filtering and detecting again.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FrameResult {
    /// Frame index in the native stream.
    pub frame: u64,
    /// Size of the analysed (filtered) frame.
    pub analysed: (u32, u32),
    /// The detector's candidate boxes ([`Detector::detect_candidates_rgb`]),
    /// analysed-frame pixels: `(COCO class index, score, box)`; the final
    /// thresholds are applied to them whether fresh or replayed.
    pub detections: Vec<(usize, f32, [f32; 4])>,
    /// Face boxes the filter blurred, native pixels.
    pub blurred: Vec<[f32; 4]>,
    /// PNG bytes of the filtered frame when it is shipped (central mode).
    pub shipped_bytes: u64,
}

impl FrameResult {
    fn detections(&self) -> Vec<Detection> {
        self.detections
            .iter()
            .filter_map(|(c, score, bbox)| {
                Some(Detection { class: ObjectClass::from_coco(*c)?, score: *score, bbox: *bbox })
            })
            .collect()
    }
}

/// Earlier results of the same footage under the same pre-detection
/// settings, by frame index.
pub type Replay = std::collections::HashMap<u64, FrameResult>;

/// When one frame was created and destroyed, seconds of stream time: the
/// frame-lifetime audit.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FrameLife {
    /// Index of the frame in the camera's native stream.
    pub frame: u64,
    /// Capture time.
    pub created_s: f64,
    /// Stream time at which the frame was destroyed.
    pub destroyed_s: f64,
    /// Whether the frame was kept after detection (retention).
    pub retained: bool,
}

impl FrameLife {
    /// Column names of the audit file, in field order.
    pub const HEADER: [&'static str; 4] = ["frame", "created_s", "destroyed_s", "retained"];

    /// How long the frame lived, seconds of stream time.
    pub fn lifetime_s(&self) -> f64 {
        self.destroyed_s - self.created_s
    }
}

/// The detections and confirmed tracks of one analysed frame, boxes in
/// native pixels: what a detector and a tracker are scored on.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedFrame {
    /// Frame time, seconds.
    pub time_s: f64,
    /// (track id, class, box) of each track matched in this frame.
    pub boxes: Vec<(u64, ObjectClass, [f32; 4])>,
    /// The detector's boxes in this frame, native pixels, with their scores.
    pub detections: Vec<Detection>,
}

/// What a run reports: the aggregates plus operating figures.
#[derive(Debug, Clone, Default)]
pub struct PipelineSummary {
    /// Frames received from the source.
    pub frames_in: u64,
    /// Frames that reached the detector after decimation.
    pub frames_analysed: u64,
    /// Of those, frames lost to a detector fault (an error or a panic in
    /// inference): the stage recovers and goes on with the next frame.
    pub frames_lost: u64,
    /// The first detector fault, for the summary.
    pub first_fault: Option<String>,
    /// Detections kept (person, bicycle, car).
    pub detections: u64,
    /// Total detector wall time over the frames it ran on (replayed frames
    /// excluded), milliseconds.
    pub detector_ms_total: f64,
    /// Track ids handed out.
    pub tracks_confirmed: u64,
    /// Crossings counted.
    pub crossings_counted: u64,
    /// The aggregates.
    pub intervals: Vec<IntervalCount>,
    /// Every counted crossing with its time, as the aggregator received
    /// them: kept in memory so that a simulation can score counts against
    /// ground truth crossing by crossing; never written by the sink.
    pub events: Vec<CountEvent>,
    /// Tracked boxes per analysed frame, when `record_tracks` was set.
    pub tracks: Vec<TrackedFrame>,
    /// Frame lifetime audit at the end of the run.
    pub audit: FrameAudit,
    /// Creation and destruction of every analysed frame.
    pub lifetimes: Vec<FrameLife>,
    /// Frames lost to a privacy-filter fault (the face detector).
    pub frames_lost_filter: u64,
    /// Bytes of frames shipped off the device (central mode), PNG-encoded.
    pub bytes_shipped: u64,
    /// Bytes of aggregates (CSV and metadata) that leave the device.
    pub bytes_aggregates: u64,
    /// Total privacy-filter wall time, milliseconds.
    pub filter_ms_total: f64,
    /// Every analysed frame's result (replayed or computed): for the
    /// detection cache, and what the filter blurred for intrusiveness.
    pub results: Vec<FrameResult>,
    /// Frames replayed from earlier results.
    pub frames_replayed: u64,
    /// Zone occupancy and dwell per interval, zone and class.
    pub zones: Vec<crate::zones::ZoneInterval>,
}

impl PipelineSummary {
    /// The longest any frame lived, seconds of stream time.
    pub fn max_lifetime_s(&self) -> f64 {
        self.lifetimes.iter().map(FrameLife::lifetime_s).fold(0.0, f64::max)
    }

    /// Frames kept after their detection step.
    pub fn frames_retained(&self) -> u64 {
        self.lifetimes.iter().filter(|l| l.retained).count() as u64
    }
}

impl PipelineSummary {
    /// Mean detector time per frame the detector ran on (analysed and not
    /// replayed from earlier results), milliseconds: replayed frames take no
    /// detector time and would make the detector look faster than it is.
    pub fn detector_ms_per_frame(&self) -> f64 {
        let detected = self.frames_analysed.saturating_sub(self.frames_replayed);
        if detected == 0 { 0.0 } else { self.detector_ms_total / detected as f64 }
    }
}

type StageResult = Result<(), PipelineError>;

#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
struct RawFrame(Frame);

#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
struct FilteredFrame(Frame);

/// Stream time of a frame the filter dropped: the clock on which kept
/// frames expire.
#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
struct Clock(f64);

#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
struct Detections {
    time_s: f64,
    width: u32,
    detections: Vec<Detection>,
}

#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
struct Tracks {
    time_s: f64,
    width: u32,
    tracks: Vec<TrackObservation>,
}

#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
struct Counts(Vec<CountEvent>);

/// The aggregates for the sink, which answers with the bytes it wrote.
#[derive(Message)]
#[rtype(result = "Result<u64, PipelineError>")]
struct Aggregates(Vec<IntervalCount>);

/// End of stream: flows down the chain after the last frame; each stage adds
/// its figures to the summary on the way back.
#[derive(Message)]
#[rtype(result = "Result<PipelineSummary, PipelineError>")]
struct Flush;

fn mailbox(stage: &'static str) -> impl Fn(MailboxError) -> PipelineError {
    move |cause| PipelineError::Mailbox { stage, cause }
}

async fn forward<M>(to: Recipient<M>, msg: M, stage: &'static str) -> StageResult
where
    M: Message<Result = StageResult> + Send + 'static,
{
    to.send(msg).await.map_err(mailbox(stage))?
}

async fn flush(to: Recipient<Flush>, stage: &'static str) -> Result<PipelineSummary, PipelineError> {
    to.send(Flush).await.map_err(mailbox(stage))?
}

/// Applies the privacy filter; frames it does not analyse die here.
struct FilterStage {
    filter: PrivacyFilter,
    replay: Option<std::sync::Arc<Replay>>,
    next: Recipient<FilteredFrame>,
    clock: Recipient<Clock>,
    next_flush: Recipient<Flush>,
    frames_in: u64,
    kept: u64,
    lost: u64,
    consecutive_faults: u32,
    bytes_shipped: u64,
    ms_total: f64,
}

impl Actor for FilterStage {
    type Context = Context<Self>;
}

impl Handler<RawFrame> for FilterStage {
    type Result = ResponseFuture<StageResult>;
    fn handle(&mut self, msg: RawFrame, _: &mut Context<Self>) -> Self::Result {
        self.frames_in += 1;
        let frame = msg.0;
        let time_s = frame.time_s;
        let retains = self.filter.settings().config.retention_s > 0.0;
        if !self.filter.keep(time_s) {
            drop(frame);
            return if retains {
                Box::pin(forward(self.clock.clone(), Clock(time_s), "detector"))
            } else {
                Box::pin(async { Ok(()) })
            };
        }
        self.kept += 1;
        if let Some(done) = self.replay.as_ref().and_then(|r| r.get(&frame.index)) {
            // Filtered before: the frame goes on with its earlier size and
            // the faces the filter blurred then (intrusiveness measures them).
            self.bytes_shipped += done.shipped_bytes;
            let (w, h) = done.analysed;
            let mut frame = frame.with_pixels(w, h, Vec::new());
            frame.blurred = done.blurred.clone();
            return Box::pin(forward(self.next.clone(), FilteredFrame(frame), "detector"));
        }
        let started = Instant::now();
        let index = frame.index;
        let filtered = self.filter.apply(frame);
        self.ms_total += started.elapsed().as_secs_f64() * 1000.0;
        match filtered {
            Ok((mut frame, record)) => {
                self.consecutive_faults = 0;
                if self.filter.settings().config.mode == OutputMode::Central {
                    frame.shipped_bytes = crate::report::png_size(frame.width, frame.height, &frame.rgb);
                    self.bytes_shipped += frame.shipped_bytes;
                }
                frame.blurred = record.blurred;
                Box::pin(forward(self.next.clone(), FilteredFrame(frame), "detector"))
            }
            Err(message) => {
                self.lost += 1;
                self.consecutive_faults += 1;
                tracing::warn!(frame = index, "frame lost to a privacy-filter fault: {message}");
                if self.consecutive_faults >= MAX_CONSECUTIVE_FAULTS {
                    let fault = PipelineError::FilterFaults { frames: self.consecutive_faults, last: message };
                    return Box::pin(async move { Err(fault) });
                }
                Box::pin(async { Ok(()) })
            }
        }
    }
}

impl Handler<Flush> for FilterStage {
    type Result = ResponseFuture<Result<PipelineSummary, PipelineError>>;
    fn handle(&mut self, _: Flush, _: &mut Context<Self>) -> Self::Result {
        let (next, frames_in, kept, lost) = (self.next_flush.clone(), self.frames_in, self.kept, self.lost);
        let (bytes, ms) = (self.bytes_shipped, self.ms_total);
        Box::pin(async move {
            let mut s = flush(next, "detector").await?;
            s.frames_in = frames_in;
            s.frames_analysed = kept;
            s.frames_lost_filter = lost;
            s.bytes_shipped = bytes;
            s.filter_ms_total = ms;
            Ok(s)
        })
    }
}

/// Consecutive faulty frames after which the detector is taken to be broken
/// for good and the run fails (a corrupt model or an exhausted machine,
/// rather than one bad frame).
pub const MAX_CONSECUTIVE_FAULTS: u32 = 25;

/// Runs the detector on its own arbiter thread; the frame dies here. A fault
/// in one inference (an error, or a panic inside the runtime) loses that
/// frame only: the stage recovers, counts it, and analyses the next one, so
/// the tracker sees a gap rather than a false empty frame.
struct DetectorStage {
    detector: Detector,
    replay: Option<std::sync::Arc<Replay>>,
    results: Vec<FrameResult>,
    replayed: u64,
    /// Frames kept after detection, oldest first, and for how long.
    retained: std::collections::VecDeque<Frame>,
    retention_s: f64,
    pixelate_people: bool,
    lifetimes: Vec<FrameLife>,
    clock_s: f64,
    region: Option<[u32; 4]>,
    native_width: u32,
    lost: u64,
    consecutive_faults: u32,
    first_fault: Option<String>,
    next: Recipient<Detections>,
    next_flush: Recipient<Flush>,
    detections: u64,
    ms_total: f64,
}

impl Actor for DetectorStage {
    type Context = Context<Self>;
}

impl Handler<FilteredFrame> for DetectorStage {
    type Result = ResponseFuture<StageResult>;
    fn handle(&mut self, msg: FilteredFrame, _: &mut Context<Self>) -> Self::Result {
        let mut frame = msg.0;
        let (detector, region, native_width) = (&self.detector, self.region, self.native_width);
        let replayed = self.replay.as_ref().and_then(|r| r.get(&frame.index)).map(FrameResult::detections);
        let result = match replayed {
            Some(dets) => {
                self.replayed += 1;
                Ok(dets)
            }
            None => {
                // Only frames the detector runs on count in its time.
                let started = Instant::now();
                let guarded =
                    std::panic::AssertUnwindSafe(|| detect_candidates(detector, region, native_width, &frame));
                let result = std::panic::catch_unwind(guarded).unwrap_or_else(|panic| {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into());
                    Err(format!("the detector panicked: {what}"))
                });
                self.ms_total += started.elapsed().as_secs_f64() * 1000.0;
                result
            }
        };
        if let Ok(dets) = &result {
            self.results.push(FrameResult {
                frame: frame.index,
                analysed: (frame.width, frame.height),
                detections: dets.iter().map(|d| (d.class.coco_index(), d.score, d.bbox)).collect(),
                blurred: std::mem::take(&mut frame.blurred),
                shipped_bytes: frame.shipped_bytes,
            });
        }
        // The cache keeps the candidates; the tracker gets the final boxes.
        let result = result.map(|candidates| select_detections(candidates, self.detector.config()));
        let (index, time_s, width) = (frame.index, frame.time_s, frame.width);
        self.expire(time_s);
        if self.retention_s > 0.0 {
            // Kept for the configured retention, people pixelated when asked.
            let mut frame = frame;
            if self.pixelate_people
                && let Ok(dets) = &result
            {
                let boxes: Vec<[f32; 4]> =
                    dets.iter().filter(|d| d.class == ObjectClass::Person).map(|d| d.bbox).collect();
                let (w, h) = (frame.width, frame.height);
                pixelate_boxes(&mut frame.rgb, w, h, &boxes);
            }
            self.retained.push_back(frame);
        } else {
            // The invariant: no frame outlives its detection step.
            self.lifetimes.push(FrameLife { frame: index, created_s: time_s, destroyed_s: time_s, retained: false });
            drop(frame);
        }
        let next = self.next.clone();
        match result {
            Ok(detections) => {
                self.consecutive_faults = 0;
                self.detections += detections.len() as u64;
                Box::pin(forward(next, Detections { time_s, width, detections }, "tracker"))
            }
            Err(message) => {
                self.lost += 1;
                self.consecutive_faults += 1;
                tracing::warn!(frame = index, "frame lost to a detector fault: {message}");
                self.first_fault.get_or_insert_with(|| format!("frame {index}: {message}"));
                if self.consecutive_faults >= MAX_CONSECUTIVE_FAULTS {
                    let fault = PipelineError::DetectorFaults { frames: self.consecutive_faults, last: message };
                    return Box::pin(async move { Err(fault) });
                }
                Box::pin(async { Ok(()) })
            }
        }
    }
}

impl DetectorStage {
    /// Destroys the kept frames whose retention has run out at stream time `now_s`.
    fn expire(&mut self, now_s: f64) {
        self.clock_s = self.clock_s.max(now_s);
        while let Some(front) = self.retained.front() {
            if front.time_s + self.retention_s > self.clock_s + 1e-9 {
                break;
            }
            if let Some(frame) = self.retained.pop_front() {
                self.lifetimes.push(FrameLife {
                    frame: frame.index,
                    created_s: frame.time_s,
                    destroyed_s: self.clock_s,
                    retained: true,
                });
            }
        }
    }
}

impl Handler<Clock> for DetectorStage {
    type Result = StageResult;
    fn handle(&mut self, msg: Clock, _: &mut Context<Self>) -> Self::Result {
        self.expire(msg.0);
        Ok(())
    }
}

/// The detector's candidate boxes in `frame` (in the region when there is
/// one), in frame pixels.
fn detect_candidates(
    detector: &Detector,
    region: Option<[u32; 4]>,
    native_width: u32,
    frame: &Frame,
) -> Result<Vec<Detection>, String> {
    match region {
        None => detector.detect_candidates_rgb(frame.width, frame.height, &frame.rgb),
        Some(region) => {
            let scale = f64::from(frame.width) / f64::from(native_width.max(1));
            let rect = region.map(|v| (f64::from(v) * scale).round() as u32);
            let (x0, y0, w, h, rgb) = crop(frame, rect);
            detector.detect_candidates_rgb(w, h, &rgb).map(|mut dets| {
                for d in &mut dets {
                    d.bbox = [d.bbox[0] + x0, d.bbox[1] + y0, d.bbox[2] + x0, d.bbox[3] + y0];
                }
                dets
            })
        }
    }
    .map_err(|e| e.to_string())
}

impl Handler<Flush> for DetectorStage {
    type Result = ResponseFuture<Result<PipelineSummary, PipelineError>>;
    fn handle(&mut self, _: Flush, _: &mut Context<Self>) -> Self::Result {
        let (next, n, ms, lost) = (self.next_flush.clone(), self.detections, self.ms_total, self.lost);
        let first_fault = self.first_fault.clone();
        // The run ends: what is still kept is destroyed now.
        let end = self.clock_s;
        while let Some(frame) = self.retained.pop_front() {
            self.lifetimes.push(FrameLife {
                frame: frame.index,
                created_s: frame.time_s,
                destroyed_s: end,
                retained: true,
            });
        }
        let mut lifetimes = std::mem::take(&mut self.lifetimes);
        lifetimes.sort_by_key(|l| l.frame);
        let (results, replayed) = (std::mem::take(&mut self.results), self.replayed);
        Box::pin(async move {
            let mut s = flush(next, "tracker").await?;
            s.lifetimes = lifetimes;
            s.results = results;
            s.frames_replayed = replayed;
            s.detections = n;
            s.detector_ms_total = ms;
            s.frames_lost = lost;
            s.first_fault = first_fault;
            Ok(s)
        })
    }
}

/// Follows detections over time.
struct TrackerStage {
    tracker: Tracker,
    next: Recipient<Tracks>,
    next_flush: Recipient<Flush>,
    /// Tracked boxes per analysed frame, in native pixels, when asked for.
    recorded: Option<Vec<TrackedFrame>>,
    native_width: u32,
}

impl Actor for TrackerStage {
    type Context = Context<Self>;
}

impl Handler<Detections> for TrackerStage {
    type Result = ResponseFuture<StageResult>;
    fn handle(&mut self, msg: Detections, _: &mut Context<Self>) -> Self::Result {
        let tracks = self.tracker.update(msg.time_s, &msg.detections);
        if let Some(recorded) = &mut self.recorded {
            let scale = self.native_width as f32 / msg.width.max(1) as f32;
            let boxes = tracks
                .iter()
                .filter(|t| t.state == TrackState::Tracked)
                .map(|t| (t.id, t.class, t.bbox.map(|v| v * scale)))
                .collect();
            let detections =
                msg.detections.iter().map(|d| Detection { bbox: d.bbox.map(|v| v * scale), ..*d }).collect();
            recorded.push(TrackedFrame { time_s: msg.time_s, boxes, detections });
        }
        Box::pin(forward(self.next.clone(), Tracks { time_s: msg.time_s, width: msg.width, tracks }, "line counter"))
    }
}

impl Handler<Flush> for TrackerStage {
    type Result = ResponseFuture<Result<PipelineSummary, PipelineError>>;
    fn handle(&mut self, _: Flush, _: &mut Context<Self>) -> Self::Result {
        let (next, n) = (self.next_flush.clone(), self.tracker.confirmed_total());
        let recorded = self.recorded.take().unwrap_or_default();
        Box::pin(async move {
            let mut s = flush(next, "line counter").await?;
            s.tracks_confirmed = n;
            s.tracks = recorded;
            Ok(s)
        })
    }
}

/// Turns tracks into crossings.
struct LineCounterStage {
    counter: LineCounter,
    zones: crate::zones::ZoneCounter,
    interval_s: u32,
    duration_s: f64,
    next: Recipient<Counts>,
    next_flush: Recipient<Flush>,
    counted: u64,
}

impl Actor for LineCounterStage {
    type Context = Context<Self>;
}

impl Handler<Tracks> for LineCounterStage {
    type Result = ResponseFuture<StageResult>;
    fn handle(&mut self, msg: Tracks, _: &mut Context<Self>) -> Self::Result {
        let events = self.counter.update(msg.time_s, msg.width, &msg.tracks);
        self.zones.update(msg.time_s, msg.width, &msg.tracks);
        self.counted += events.len() as u64;
        if events.is_empty() {
            return Box::pin(async { Ok(()) });
        }
        Box::pin(forward(self.next.clone(), Counts(events), "aggregator"))
    }
}

impl Handler<Flush> for LineCounterStage {
    type Result = ResponseFuture<Result<PipelineSummary, PipelineError>>;
    fn handle(&mut self, _: Flush, _: &mut Context<Self>) -> Self::Result {
        let (next, n) = (self.next_flush.clone(), self.counted);
        let zones = self.zones.finish(self.interval_s, self.duration_s);
        Box::pin(async move {
            let mut s = flush(next, "aggregator").await?;
            s.crossings_counted = n;
            s.zones = zones;
            Ok(s)
        })
    }
}

/// Buckets crossings into intervals; at the end hands the aggregates to the sink.
struct AggregatorStage {
    aggregator: Aggregator,
    disclosure: Disclosure,
    events: Vec<CountEvent>,
    next: Recipient<Aggregates>,
}

impl Actor for AggregatorStage {
    type Context = Context<Self>;
}

impl Handler<Counts> for AggregatorStage {
    type Result = StageResult;
    fn handle(&mut self, msg: Counts, _: &mut Context<Self>) -> Self::Result {
        self.aggregator.add(&msg.0);
        self.events.extend(msg.0);
        Ok(())
    }
}

impl Handler<Flush> for AggregatorStage {
    type Result = ResponseFuture<Result<PipelineSummary, PipelineError>>;
    fn handle(&mut self, _: Flush, _: &mut Context<Self>) -> Self::Result {
        let intervals = self.aggregator.finish_with(&ObjectClass::ALL, &self.disclosure);
        let events = std::mem::take(&mut self.events);
        let next = self.next.clone();
        Box::pin(async move {
            let bytes = next.send(Aggregates(intervals.clone())).await.map_err(mailbox("csv sink"))??;
            Ok(PipelineSummary { intervals, events, bytes_aggregates: bytes, ..Default::default() })
        })
    }
}

/// Writes the aggregates, the only thing that leaves the device, to CSV
/// (temporary file, then rename).
struct CsvSink {
    path: Option<PathBuf>,
    /// What was done to the counts, written beside them as JSON.
    metadata: serde_json::Value,
}

impl Actor for CsvSink {
    type Context = Context<Self>;
}

impl Handler<Aggregates> for CsvSink {
    type Result = Result<u64, PipelineError>;
    fn handle(&mut self, msg: Aggregates, _: &mut Context<Self>) -> Self::Result {
        let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        let sink_err = |path: &std::path::Path, message: String| PipelineError::Sink { path: path.into(), message };
        let here = self.path.clone().unwrap_or_else(|| PathBuf::from("aggregates"));
        csv.write_record(crate::aggregate::AGGREGATE_HEADER).map_err(|e| sink_err(&here, e.to_string()))?;
        for row in &msg.0 {
            csv.serialize(row).map_err(|e| sink_err(&here, e.to_string()))?;
        }
        let bytes = csv.into_inner().map_err(|e| sink_err(&here, e.to_string()))?;
        let meta = serde_json::to_vec_pretty(&self.metadata).map_err(|e| sink_err(&here, e.to_string()))?;
        if let Some(path) = &self.path {
            crate::report::write_atomic(path, &bytes).map_err(|e| sink_err(path, e.to_string()))?;
            let meta_path = path.with_extension("json");
            crate::report::write_atomic(&meta_path, &meta).map_err(|e| sink_err(&meta_path, e.to_string()))?;
        }
        Ok((bytes.len() + meta.len()) as u64)
    }
}

/// Pulls frames from the producer thread and feeds the chain.
struct FrameSource {
    frames: Option<tokio::sync::mpsc::Receiver<Result<Frame, String>>>,
    next: Recipient<RawFrame>,
    next_flush: Recipient<Flush>,
}

impl Actor for FrameSource {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "Result<PipelineSummary, PipelineError>")]
struct Run;

impl Handler<Run> for FrameSource {
    type Result = ResponseFuture<Result<PipelineSummary, PipelineError>>;
    fn handle(&mut self, _: Run, _: &mut Context<Self>) -> Self::Result {
        let frames = self.frames.take();
        let (next, next_flush) = (self.next.clone(), self.next_flush.clone());
        Box::pin(async move {
            let Some(mut frames) = frames else {
                return Err(PipelineError::Source("the source was already run".into()));
            };
            while let Some(frame) = frames.recv().await {
                let frame = frame.map_err(PipelineError::Source)?;
                forward(next.clone(), RawFrame(frame), "privacy filter").await?;
            }
            flush(next_flush, "privacy filter").await
        })
    }
}

/// Runs one camera's analytics over every frame `make_producer` yields and
/// returns the summary together with the producer (which may hold figures of
/// its own, such as ground truth collected while rendering).
///
/// The producer is built and driven on a thread of its own; the actors run
/// on an actix system on the calling thread, the detector on its own arbiter.
pub fn run_pipeline<P, F>(
    make_producer: F,
    detector: Detector,
    config: PipelineConfig,
) -> Result<(PipelineSummary, P), PipelineError>
where
    P: FrameProducer + Send + 'static,
    F: FnOnce() -> Result<P, String> + Send + 'static,
{
    let counter = LineCounter::new(&config.counting)?;
    let line_ids: Vec<String> = config.counting.lines.iter().map(|l| l.id.clone()).collect();
    let retention_s = config.privacy.config.retention_s;
    // Kept frames hold gate slots too: at most one per analysed frame within
    // the retention window, plus one frame period of slack.
    let rate = config.privacy.config.fps.unwrap_or(config.native_fps).min(config.native_fps).max(0.0);
    let retained_bound = if retention_s > 0.0 { (retention_s * rate).ceil() as usize + 2 } else { 0 };
    let gate = FrameGate::new(config.max_frames_in_flight + retained_bound);
    // Retention is enforced on the stream's clock, which ticks once per
    // native frame: a kept frame may outlive its retention by one tick.
    let tick = 1.0 / config.native_fps.max(1e-3);
    // The channel holds leased frames only, so the gate is the real bound.
    let (tx, rx) = tokio::sync::mpsc::channel(config.max_frames_in_flight.max(1));
    let producer_gate = gate.clone();
    let producer = std::thread::Builder::new()
        .name("frame-source".into())
        .spawn(move || -> Result<P, String> {
            let mut producer = match make_producer() {
                Ok(p) => p,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e.clone()));
                    return Err(e);
                }
            };
            loop {
                let lease = producer_gate.acquire();
                match producer.next_frame(lease) {
                    None => break,
                    Some(item) => {
                        let failed = item.is_err();
                        if tx.blocking_send(item).is_err() || failed {
                            break;
                        }
                    }
                }
            }
            Ok(producer)
        })
        .map_err(|e| PipelineError::Source(format!("cannot start the frame source thread: {e}")))?;

    let system = System::new();
    let summary = system.block_on(async move {
        let metadata = config.disclosure.metadata(config.interval_s);
        let sink = CsvSink { path: config.sink.clone(), metadata }.start();
        let aggregator = AggregatorStage {
            aggregator: Aggregator::new(config.interval_s, config.duration_s, line_ids),
            disclosure: config.disclosure,
            events: Vec::new(),
            next: sink.recipient(),
        }
        .start();
        let counter = LineCounterStage {
            counter,
            zones: crate::zones::ZoneCounter::new(
                config.zones.clone(),
                config.counting.image_to_ground,
                config.counting.native_width,
            ),
            interval_s: config.interval_s,
            duration_s: config.duration_s,
            next: aggregator.clone().recipient(),
            next_flush: aggregator.recipient(),
            counted: 0,
        }
        .start();
        let tracker = TrackerStage {
            tracker: Tracker::new(config.tracker),
            next: counter.clone().recipient(),
            next_flush: counter.recipient(),
            recorded: config.record_tracks.then(Vec::new),
            native_width: config.counting.native_width,
        }
        .start();
        let arbiter = Arbiter::new();
        let (t1, t2) = (tracker.clone().recipient(), tracker.recipient());
        let (region, native_width) = (config.region, config.counting.native_width);
        let pixelate_people = config.privacy.config.pixelate_people;
        let replay = config.replay.clone();
        let detector = DetectorStage::start_in_arbiter(&arbiter.handle(), move |_| DetectorStage {
            detector,
            replay,
            results: Vec::new(),
            replayed: 0,
            retained: std::collections::VecDeque::new(),
            retention_s,
            pixelate_people,
            lifetimes: Vec::new(),
            clock_s: 0.0,
            region,
            native_width,
            lost: 0,
            consecutive_faults: 0,
            first_fault: None,
            next: t1,
            next_flush: t2,
            detections: 0,
            ms_total: 0.0,
        });
        let filter = FilterStage {
            filter: PrivacyFilter::new(config.privacy.clone(), config.faces.clone()),
            replay: config.replay.clone(),
            next: detector.clone().recipient(),
            clock: detector.clone().recipient(),
            next_flush: detector.recipient(),
            frames_in: 0,
            kept: 0,
            lost: 0,
            consecutive_faults: 0,
            bytes_shipped: 0,
            ms_total: 0.0,
        }
        .start();
        let source =
            FrameSource { frames: Some(rx), next: filter.clone().recipient(), next_flush: filter.recipient() }.start();
        let result = source.send(Run).await.map_err(mailbox("frame source"));
        arbiter.stop();
        result?
    });
    // Unblock and join the producer whatever happened.
    let produced = producer.join().map_err(|_| PipelineError::Source("the frame source thread panicked".into()))?;
    let mut summary = summary?;
    let producer = produced.map_err(PipelineError::Source)?;
    summary.audit = gate.audit();
    if summary.audit.alive != 0 || summary.audit.created != summary.audit.destroyed {
        return Err(PipelineError::Audit(summary.audit));
    }
    if let Some(late) = summary.lifetimes.iter().find(|l| l.lifetime_s() > retention_s + tick + 1e-6) {
        return Err(PipelineError::Retention { index: late.frame, lifetime_s: late.lifetime_s(), retention_s });
    }
    Ok((summary, producer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameGate;

    #[test]
    fn detector_time_is_averaged_over_the_frames_the_detector_ran_on() {
        // 10 frames analysed, 6 of them replayed from the cache: 200 ms of
        // detector time is 50 ms per detected frame, not 20.
        let s =
            PipelineSummary { frames_analysed: 10, frames_replayed: 6, detector_ms_total: 200.0, ..Default::default() };
        assert!((s.detector_ms_per_frame() - 50.0).abs() < 1e-9, "{}", s.detector_ms_per_frame());
        let all_replayed = PipelineSummary { frames_analysed: 10, frames_replayed: 10, ..Default::default() };
        assert_eq!(all_replayed.detector_ms_per_frame(), 0.0);
    }

    #[test]
    fn a_region_is_cropped_with_its_offset_and_clamped_to_the_frame() {
        let gate = FrameGate::new(1);
        let (w, h) = (8u32, 4u32);
        // Each pixel's red channel is its x, green its y.
        let rgb: Vec<u8> = (0..h).flat_map(|y| (0..w).flat_map(move |x| [x as u8, y as u8, 0])).collect();
        let frame = Frame::new(0, 0.0, w, h, rgb, gate.acquire());
        let (x0, y0, cw, ch, px) = crop(&frame, [2, 1, 5, 3]);
        assert_eq!((x0, y0, cw, ch), (2.0, 1.0, 3, 2));
        assert_eq!(&px[..3], &[2, 1, 0]);
        assert_eq!(&px[px.len() - 3..], &[4, 2, 0]);
        let (_, _, cw, ch, _) = crop(&frame, [6, 0, 100, 100]);
        assert_eq!((cw, ch), (2, 4));
    }
}
