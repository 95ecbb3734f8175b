//! The pipeline's privacy invariants, with the real actors and detector:
//! frames in flight never exceed the bound, every frame is destroyed by the
//! end of the run, frame-rate selection drops frames before detection, kept
//! frames live no longer than their retention, shipped frames are counted,
//! and only aggregates (with their disclosure control) are written.

mod common;

use camtwin_analytics::aggregate::Disclosure;
use camtwin_analytics::counter::{CountingGeometry, LineShape, LineSpec};
use camtwin_analytics::detector::{Detector, DetectorConfig};
use camtwin_analytics::frame::{Frame, FrameLease};
use camtwin_analytics::pipeline::{FrameProducer, PipelineConfig, run_pipeline};
use camtwin_analytics::privacy::{OutputMode, PrivacyConfig, PrivacySettings};
use camtwin_analytics::tracker::TrackerConfig;

/// A fast source: textured frames, produced far quicker than detection.
struct Noise {
    next: u64,
    total: u64,
}

impl FrameProducer for Noise {
    fn next_frame(&mut self, lease: FrameLease) -> Option<Result<Frame, String>> {
        if self.next >= self.total {
            return None;
        }
        let (w, h) = (160u32, 120u32);
        let rgb = (0..w * h * 3).map(|i| ((i as u64 * 2_654_435_761 + self.next * 97) >> 7) as u8).collect();
        let frame = Frame::new(self.next, self.next as f64 / 10.0, w, h, rgb, lease);
        self.next += 1;
        Some(Ok(frame))
    }
}

/// A 160-px-wide camera whose pixels are ground centimetres, counting a 1 m
/// line, with at most two frames alive.
fn config(
    privacy: PrivacySettings,
    interval_s: u32,
    duration_s: f64,
    sink: Option<std::path::PathBuf>,
) -> PipelineConfig {
    PipelineConfig {
        privacy,
        counting: CountingGeometry {
            lines: vec![LineSpec {
                id: "l".into(),
                shape: LineShape::Ground { from: [0.0, 0.0], to: [0.0, 1.0] },
                dead_band: 0.2,
            }],
            image_to_ground: Some([[0.01, 0.0, 0.0], [0.0, 0.01, 0.0], [0.0, 0.0, 1.0]]),
            native_width: 160,
        },
        region: None,
        tracker: TrackerConfig::default(),
        interval_s,
        disclosure: Disclosure::default(),
        faces: None,
        native_fps: 10.0,
        duration_s,
        max_frames_in_flight: 2,
        sink,
        record_tracks: false,
        replay: None,
        zones: Vec::new(),
    }
}

#[test]
fn frames_are_bounded_audited_and_decimated() {
    let detector = Detector::load(&common::models(), DetectorConfig::default()).expect("model: run `make models`");
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = dir.path().join("aggregates.csv");
    let privacy = PrivacyConfig { scale: Some(0.5), fps: Some(10.0 / 3.0), ..Default::default() };
    let config = config(PrivacySettings::new(privacy, (160, 120), Vec::new()), 1, 3.0, Some(sink.clone()));
    let (summary, producer) =
        run_pipeline(|| Ok(Noise { next: 0, total: 30 }), detector, config).expect("pipeline runs");
    assert_eq!(producer.next, 30);
    assert_eq!(summary.frames_in, 30);
    assert_eq!(summary.frames_analysed, 10, "one frame in three reaches the detector");
    let audit = summary.audit;
    assert!(audit.peak_alive <= 2, "{audit:?}");
    assert_eq!((audit.created, audit.destroyed, audit.alive), (30, 30, 0), "{audit:?}");
    let csv = std::fs::read_to_string(&sink).expect("aggregates written");
    assert!(csv.starts_with("start_s,end_s,line,class,direction,count,withheld\n"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 3 * 6 * 2, "3 intervals x 6 classes x 2 directions");
    assert!(summary.lifetimes.iter().all(|l| l.lifetime_s() == 0.0 && !l.retained));
    assert_eq!(summary.lifetimes.len(), 10);
    assert_eq!(summary.bytes_shipped, 0, "edge mode ships no frame");
    assert!(summary.bytes_aggregates as usize >= csv.len());
    let meta = std::fs::read_to_string(dir.path().join("aggregates.json")).expect("metadata beside the counts");
    assert!(meta.contains("\"k\": 1"), "{meta}");
}

#[test]
fn kept_frames_expire_after_their_retention_and_shipped_frames_are_counted() {
    let detector = Detector::load(&common::models(), DetectorConfig::default()).expect("model");
    let privacy = PrivacyConfig {
        fps: Some(5.0),
        retention_s: 1.0,
        mode: OutputMode::Central,
        pixelate_people: true,
        ..Default::default()
    };
    let config = config(PrivacySettings::new(privacy, (160, 120), Vec::new()), 1, 3.0, None);
    let (summary, _) = run_pipeline(|| Ok(Noise { next: 0, total: 30 }), detector, config).expect("runs");
    assert_eq!(summary.frames_analysed, 15);
    assert_eq!(summary.frames_retained(), 15);
    let max = summary.max_lifetime_s();
    assert!((1.0..=1.1 + 1e-9).contains(&max), "kept about one second, got {max}");
    assert_eq!(summary.audit.alive, 0);
    assert!(summary.audit.peak_alive > 2, "kept frames hold their slots: {:?}", summary.audit);
    // Each shipped 160x120 frame is a PNG of at least a kilobyte.
    assert!(summary.bytes_shipped > 15 * 1_000, "{}", summary.bytes_shipped);
}

#[test]
fn a_failing_source_fails_the_run_cleanly() {
    #[derive(Debug)]
    struct Broken;
    impl FrameProducer for Broken {
        fn next_frame(&mut self, _lease: FrameLease) -> Option<Result<Frame, String>> {
            Some(Err("camera unplugged".into()))
        }
    }
    let detector = Detector::load(&common::models(), DetectorConfig::default()).expect("model");
    let config = config(PrivacySettings::default(), 60, 1.0, None);
    let err = run_pipeline(|| Ok(Broken), detector, config).expect_err("fails");
    assert!(err.to_string().contains("camera unplugged"), "{err}");
}

#[test]
fn a_corrupt_frame_is_lost_and_counted_and_the_run_goes_on() {
    /// Good frames, but frame 3 claims a size its pixels do not have.
    struct OneBad(Noise);
    impl FrameProducer for OneBad {
        fn next_frame(&mut self, lease: FrameLease) -> Option<Result<Frame, String>> {
            let index = self.0.next;
            let frame = self.0.next_frame(lease)?;
            Some(frame.map(|f| {
                let (w, h) = (f.width, f.height);
                if index == 3 { f.with_pixels(w, h, vec![0; 10]) } else { f }
            }))
        }
    }
    let detector = Detector::load(&common::models(), DetectorConfig::default()).expect("model");
    let config = config(PrivacySettings::default(), 1, 1.0, None);
    let (summary, _) =
        run_pipeline(|| Ok(OneBad(Noise { next: 0, total: 10 })), detector, config).expect("the run survives");
    assert_eq!((summary.frames_in, summary.frames_analysed, summary.frames_lost), (10, 10, 1));
    assert!(summary.first_fault.as_deref().is_some_and(|f| f.starts_with("frame 3:")), "{:?}", summary.first_fault);
    assert_eq!(summary.audit.destroyed, 10, "the lost frame was destroyed too");
}

#[test]
fn a_detector_that_keeps_failing_fails_the_run() {
    /// Every frame is corrupt.
    #[derive(Debug)]
    struct AllBad(u64);
    impl FrameProducer for AllBad {
        fn next_frame(&mut self, lease: FrameLease) -> Option<Result<Frame, String>> {
            self.0 += 1;
            (self.0 <= 100).then(|| Ok(Frame::new(self.0, self.0 as f64 / 10.0, 160, 120, vec![0; 7], lease)))
        }
    }
    let detector = Detector::load(&common::models(), DetectorConfig::default()).expect("model");
    let config = config(PrivacySettings::default(), 60, 10.0, None);
    let err = run_pipeline(|| Ok(AllBad(0)), detector, config).expect_err("fails");
    assert!(err.to_string().contains("frames in a row"), "{err}");
}
