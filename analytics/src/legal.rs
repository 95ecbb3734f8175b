//! Where a means of measuring a street sits on one intrusiveness scale shared
//! by cameras and sensors, and how the French regulator's published position
//! reads it for a stated use. docs/legal.md gives the levels, the reasons for
//! their order, the rules and their sources. Decision support, not legal
//! advice ([`DISCLAIMER`]).

use serde::{Deserialize, Serialize};

/// Said wherever a legal reading is shown.
pub const DISCLAIMER: &str = "The legal reading is decision support drawn from the French regulator's published \
     position (CNIL, July 2022) and its 2024 audits; it is not legal advice. A data protection officer or lawyer must \
     confirm it for a real deployment.";

/// What the operator will use the figures for: the same camera reads
/// differently for statistics and for policing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Use {
    /// Aggregated figures for later decisions (counts, flows, modal split,
    /// occupancy for planning).
    Statistics,
    /// Real-time management of a site acting on the figures as they come
    /// (opening a gate, sending staff), without police use.
    Operations,
    /// Detecting events or presumed offences for security or police.
    PublicSafety,
}

impl Use {
    /// Words for reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::Statistics => "statistics",
            Self::Operations => "real-time operations",
            Self::PublicSafety => "public safety",
        }
    }
}

/// The kind of data a means produces or handles, from least to most
/// personal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum DataClass {
    /// Nothing that relates to a person (beam breaks, heat blobs, metal).
    NonePersonal,
    /// Device identifiers (MAC addresses): pseudonymous personal data.
    PseudonymousDeviceIds,
    /// Images analysed at the edge, only aggregates leave.
    AggregatesOnlyFromImages,
    /// Images kept on the device for a while.
    ImagesKeptOnDevice,
    /// Images leave the device.
    ImagesLeaveDevice,
}

impl DataClass {
    /// Reads the names the runs write (`sensors.csv`, `intrusiveness.csv`).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "none_personal" => Self::NonePersonal,
            "pseudonymous_device_ids" => Self::PseudonymousDeviceIds,
            "aggregates_only" => Self::AggregatesOnlyFromImages,
            "images_kept_on_device" => Self::ImagesKeptOnDevice,
            "images" => Self::ImagesLeaveDevice,
            _ => return None,
        })
    }
}

/// What a camera configuration measurably exposes of people (means over
/// seeds, from ground truth after the privacy filter: docs/PRIVACY.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraExposure {
    /// Person-seconds in the camera's view.
    pub person_s_in_view: f64,
    /// Face-seconds identifiable after the filter.
    pub face_s_identifiable: f64,
    /// Share of person-seconds at DORI "observe" or finer (0..1).
    pub share_observe_or_more: f64,
    /// Person-seconds inside sensitive places in view.
    pub sensitive_person_s: f64,
    /// Person-seconds of children in view.
    pub child_person_s: f64,
    /// Bytes leaving the device per hour.
    pub bytes_per_hour: f64,
    /// Seconds frames may be kept after detection.
    pub retention_s: f64,
    /// Longest lifetime of a frame measured, seconds.
    pub max_frame_lifetime_s: f64,
    /// Masks applied.
    pub masks: usize,
    /// Faces blurred before detection.
    pub face_blur: bool,
    /// Small-count suppression threshold.
    pub k: u32,
    /// Laplace noise, if any.
    pub epsilon: Option<f64>,
    /// Median pixels per metre on people.
    pub median_ppm: f64,
    /// Frames analysed per second.
    pub frames_per_s: f64,
}

/// What the scale and the legal reading need to know about one means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeansProfile {
    /// `None` for a sensor that is not a camera.
    pub camera: Option<CameraExposure>,
    /// The kind of data it produces.
    pub data: DataClass,
}

/// A position on the intrusiveness scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Intrusion {
    /// The ordinal level, 0 (no personal data) to 5 (images leave the device).
    pub level: u8,
    /// The level's name.
    pub name: &'static str,
    /// Level plus a fraction in [0, 0.9] ordering means within the level by
    /// what they expose; the x axis of the frontier plot.
    pub score: f64,
}

/// Names of the levels, in order (docs/legal.md gives the reasons).
pub const LEVELS: [&str; 6] = [
    "no personal data",
    "pseudonymous device identifiers",
    "camera, aggregates only, no identifiable face",
    "camera, aggregates only, faces identifiable while analysed",
    "camera keeping images on the device",
    "camera sending images off the device",
];

/// Retention up to which a camera still counts as deleting images at once:
/// the time to analyse a frame, not storage.
pub const IMMEDIATE_DELETION_S: f64 = 1.0;

/// Places a means on the scale.
pub fn intrusion(profile: &MeansProfile) -> Intrusion {
    let level: u8 = match (profile.data, &profile.camera) {
        (DataClass::NonePersonal, _) => 0,
        (DataClass::PseudonymousDeviceIds, _) => 1,
        (DataClass::AggregatesOnlyFromImages, Some(c)) if c.face_s_identifiable > 0.0 => 3,
        (DataClass::AggregatesOnlyFromImages, _) => 2,
        (DataClass::ImagesKeptOnDevice, _) => 4,
        (DataClass::ImagesLeaveDevice, _) => 5,
    };
    let fraction = profile.camera.as_ref().map_or(0.0, exposure_fraction);
    Intrusion { level, name: LEVELS[usize::from(level)], score: f64::from(level) + fraction }
}

/// Orders cameras within a level: the mean of six exposures, each in
/// [0, 1] and growing with what the camera sees, scaled to [0, 0.9] so that
/// it never reaches the next level.
fn exposure_fraction(c: &CameraExposure) -> f64 {
    let per_person = |v: f64| if c.person_s_in_view > 0.0 { (v / c.person_s_in_view).clamp(0.0, 1.0) } else { 0.0 };
    let parts = [
        c.share_observe_or_more.clamp(0.0, 1.0),
        per_person(c.face_s_identifiable),
        per_person(c.sensitive_person_s),
        per_person(c.child_person_s),
        // Half at 100 MB an hour.
        c.bytes_per_hour.max(0.0) / (c.bytes_per_hour.max(0.0) + 1e8),
        // Frugality: frames analysed per second, full at 25 fps.
        (c.frames_per_s / 25.0).clamp(0.0, 1.0),
    ];
    let mean = parts.iter().sum::<f64>() / parts.len() as f64;
    if mean.is_finite() { 0.9 * mean } else { 0.0 }
}

/// The reading's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Verdict {
    /// The means handles no personal data: the data protection rules for
    /// cameras do not apply to what it records.
    NoPersonalData,
    /// Lawful for the stated use if the listed conditions are met.
    PossibleUnderConditions,
    /// Needs a specific legal text (the right to object cannot be honoured).
    NeedsSpecificLaw,
    /// Not lawful in the current state of the law.
    Prohibited,
}

impl Verdict {
    /// Words for reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::NoPersonalData => "no personal data: camera rules do not apply",
            Self::PossibleUnderConditions => "possible under conditions",
            Self::NeedsSpecificLaw => "needs a specific law",
            Self::Prohibited => "prohibited",
        }
    }
}

/// The legal reading of one means for one use, with its reasons and the
/// conditions still to meet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegalReading {
    /// Outcome.
    pub verdict: Verdict,
    /// Why, in plain sentences citing the rule (docs/legal.md).
    pub reasons: Vec<String>,
    /// What the operator must still do or show.
    pub conditions: Vec<String>,
}

/// Reads a means against the regulator's position for `use_`.
pub fn reading(profile: &MeansProfile, use_: Use) -> LegalReading {
    let mut reasons = Vec::new();
    let mut conditions = Vec::new();
    let verdict = match (&profile.camera, profile.data) {
        (_, DataClass::NonePersonal) => {
            reasons.push(
                "It records nothing that relates to an identifiable person (beam breaks, heat blobs, metal), so the \
                 GDPR rules for augmented cameras do not apply (CNIL 2022, §1: the risks come from capturing and \
                 analysing images of people)."
                    .into(),
            );
            conditions.push("check that the device keeps no image or identifier, as its data sheet says".into());
            Verdict::NoPersonalData
        }
        (_, DataClass::PseudonymousDeviceIds) => {
            reasons.push(
                "Device identifiers (MAC addresses) are pseudonymous personal data: the GDPR applies in full.".into(),
            );
            match use_ {
                Use::Statistics | Use::Operations => {
                    conditions.extend([
                        "anonymise identifiers at collection or at short notice (salted hash rotated daily, no \
                         tracking across days)"
                            .to_string(),
                        "inform the public at the site (signs)".into(),
                        "offer a way to object (e.g. a registry of opted-out devices)".into(),
                        "carry out a data protection impact assessment (DPIA)".into(),
                    ]);
                    Verdict::PossibleUnderConditions
                }
                Use::PublicSafety => {
                    reasons.push(
                        "Following devices for security purposes is surveillance of individuals; no text authorises \
                         it for this use (CNIL 2022, §3)."
                            .into(),
                    );
                    Verdict::NeedsSpecificLaw
                }
            }
        }
        (camera, data) => camera_reading(camera.as_ref(), data, use_, &mut reasons, &mut conditions),
    };
    LegalReading { verdict, reasons, conditions }
}

fn camera_reading(
    camera: Option<&CameraExposure>,
    data: DataClass,
    use_: Use,
    reasons: &mut Vec<String>,
    conditions: &mut Vec<String>,
) -> Verdict {
    reasons.push(
        "An augmented camera processes personal data even when images are deleted at once: capturing and analysing \
         images of people is processing (CNIL 2022, §2)."
            .into(),
    );
    if let Some(c) = camera {
        if c.sensitive_person_s > 0.0 {
            reasons.push(format!(
                "Sensitive places are in view ({:.0} person-seconds in them): health, religion or opinions could be \
                 inferred (CNIL 2022, proportionality factors).",
                c.sensitive_person_s
            ));
            conditions.push("mask the sensitive places or move the camera so that they are out of view".into());
        }
        if c.child_person_s > 0.0 {
            reasons.push(format!(
                "Children are filmed ({:.0} person-seconds): vulnerable people weigh against proportionality.",
                c.child_person_s
            ));
        }
        if c.face_s_identifiable > 0.0 {
            reasons.push(format!(
                "Faces are identifiable in the analysed frames ({:.1} face-seconds): lower the resolution or blur \
                 faces before analysis (CNIL 2022, privacy by design).",
                c.face_s_identifiable
            ));
            conditions.push("lower the resolution or blur faces before analysis".into());
        }
    }
    match use_ {
        Use::PublicSafety => {
            reasons.push(
                "Automated detection of abnormal events or presumed offences is forbidden without a specific law; \
                 the CNIL served formal notices to public bodies doing it (CNIL 2024 audits)."
                    .into(),
            );
            return Verdict::Prohibited;
        }
        Use::Operations => {
            reasons.push(
                "Figures that trigger an immediate action make a real-time decision system, not statistics; people \
                 cannot effectively object to being analysed, so a specific legal text is needed (CNIL 2022, GDPR \
                 art. 21 and 23)."
                    .into(),
            );
            return Verdict::NeedsSpecificLaw;
        }
        Use::Statistics => {}
    }
    let retention = camera.map_or(0.0, |c| c.retention_s.max(c.max_frame_lifetime_s));
    match data {
        DataClass::ImagesLeaveDevice => {
            reasons.push(
                "Images leave the device: the statistical regime, which lets the operator set aside the right to \
                 object, requires that images are not kept and are anonymised at once, with only aggregates \
                 produced (CNIL 2022, statistical purposes)."
                    .into(),
            );
            conditions.push("process at the edge and send aggregates only".into());
            Verdict::NeedsSpecificLaw
        }
        _ if data == DataClass::ImagesKeptOnDevice || retention > IMMEDIATE_DELETION_S => {
            reasons.push(format!(
                "Frames are kept up to {retention:.0} s: the statistical regime requires images not to be kept \
                 (CNIL 2022, statistical purposes)."
            ));
            conditions.push("delete each frame as soon as it is analysed (retention 0)".into());
            Verdict::NeedsSpecificLaw
        }
        _ => {
            reasons.push(
                "Counting at the edge with images deleted at once and only aggregates leaving the device fits the \
                 statistical regime (CNIL 2022, statistical purposes; allowed if users are clearly informed, CNIL \
                 2024 audits)."
                    .into(),
            );
            conditions.push("inform the public clearly at the site (signs); the 2024 audits found this missing".into());
            conditions.push("use the aggregates for later, collective decisions only, never about one person".into());
            conditions.push("carry out a data protection impact assessment (DPIA)".into());
            if camera.is_some_and(|c| c.k <= 1 && c.epsilon.is_none()) {
                conditions.push("suppress small counts (k ≥ 3) so that aggregates cannot single anyone out".into());
            }
            Verdict::PossibleUnderConditions
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposure() -> CameraExposure {
        CameraExposure {
            person_s_in_view: 1000.0,
            face_s_identifiable: 0.0,
            share_observe_or_more: 0.4,
            sensitive_person_s: 0.0,
            child_person_s: 0.0,
            bytes_per_hour: 0.0,
            retention_s: 0.0,
            max_frame_lifetime_s: 0.1,
            masks: 0,
            face_blur: false,
            k: 1,
            epsilon: None,
            median_ppm: 100.0,
            frames_per_s: 10.0,
        }
    }

    fn camera(data: DataClass, c: CameraExposure) -> MeansProfile {
        MeansProfile { camera: Some(c), data }
    }

    const SENSORS: [DataClass; 2] = [DataClass::NonePersonal, DataClass::PseudonymousDeviceIds];

    #[test]
    fn every_sensor_ranks_below_every_camera() {
        let mut worst_sensor = f64::MIN;
        for d in SENSORS {
            worst_sensor = worst_sensor.max(intrusion(&MeansProfile { camera: None, data: d }).score);
        }
        let mut frugal = exposure();
        (frugal.share_observe_or_more, frugal.frames_per_s) = (0.0, 0.1);
        for data in [DataClass::AggregatesOnlyFromImages, DataClass::ImagesKeptOnDevice, DataClass::ImagesLeaveDevice] {
            let s = intrusion(&camera(data, frugal.clone())).score;
            assert!(s > worst_sensor, "{data:?}: {s} ≤ {worst_sensor}");
        }
    }

    #[test]
    fn more_exposure_never_lowers_the_score_and_shipping_ranks_above_the_edge() {
        let base = intrusion(&camera(DataClass::AggregatesOnlyFromImages, exposure())).score;
        let mut more = exposure();
        more.share_observe_or_more = 0.9;
        more.child_person_s = 50.0;
        more.sensitive_person_s = 10.0;
        more.frames_per_s = 25.0;
        assert!(intrusion(&camera(DataClass::AggregatesOnlyFromImages, more.clone())).score > base);
        more.face_s_identifiable = 3.0;
        let faces = intrusion(&camera(DataClass::AggregatesOnlyFromImages, more.clone()));
        assert_eq!(faces.level, 3);
        // The most exposed edge camera stays below any camera that ships images.
        let mut max = more;
        (max.share_observe_or_more, max.face_s_identifiable, max.child_person_s) = (1.0, 1000.0, 1000.0);
        let edge = intrusion(&camera(DataClass::AggregatesOnlyFromImages, max)).score;
        let shipped = intrusion(&camera(DataClass::ImagesLeaveDevice, exposure())).score;
        assert!(shipped > edge, "{shipped} vs {edge}");
        assert!(edge < 4.0);
    }

    #[test]
    fn a_camera_for_public_safety_is_never_possible() {
        for data in [DataClass::AggregatesOnlyFromImages, DataClass::ImagesKeptOnDevice, DataClass::ImagesLeaveDevice] {
            let r = reading(&camera(data, exposure()), Use::PublicSafety);
            assert_eq!(r.verdict, Verdict::Prohibited, "{data:?}");
            let r = reading(&camera(data, exposure()), Use::Operations);
            assert_eq!(r.verdict, Verdict::NeedsSpecificLaw, "{data:?}");
        }
    }

    #[test]
    fn statistics_at_the_edge_are_possible_and_keeping_or_shipping_images_is_not() {
        let edge = reading(&camera(DataClass::AggregatesOnlyFromImages, exposure()), Use::Statistics);
        assert_eq!(edge.verdict, Verdict::PossibleUnderConditions);
        assert!(edge.conditions.iter().any(|c| c.contains("inform the public")));
        assert!(edge.conditions.iter().any(|c| c.contains("small counts")), "k = 1 asks for suppression");
        let shipped = reading(&camera(DataClass::ImagesLeaveDevice, exposure()), Use::Statistics);
        assert_eq!(shipped.verdict, Verdict::NeedsSpecificLaw);
        assert!(shipped.reasons.iter().any(|r| r.contains("leave the device")));
        let mut kept = exposure();
        kept.retention_s = 60.0;
        let kept = reading(&camera(DataClass::ImagesKeptOnDevice, kept), Use::Statistics);
        assert_eq!(kept.verdict, Verdict::NeedsSpecificLaw);
        assert!(kept.conditions.iter().any(|c| c.contains("retention 0")));
    }

    #[test]
    fn sensitive_places_children_and_faces_each_give_a_reason() {
        let mut c = exposure();
        c.sensitive_person_s = 12.0;
        c.child_person_s = 30.0;
        c.face_s_identifiable = 2.0;
        let r = reading(&camera(DataClass::AggregatesOnlyFromImages, c), Use::Statistics);
        for word in ["Sensitive places", "Children", "Faces are identifiable"] {
            assert!(r.reasons.iter().any(|x| x.contains(word)), "no reason about {word}: {:?}", r.reasons);
        }
        assert!(r.conditions.iter().any(|x| x.contains("mask")));
        let plain = reading(&camera(DataClass::AggregatesOnlyFromImages, exposure()), Use::Statistics);
        assert!(!plain.reasons.iter().any(|x| x.contains("Sensitive places") || x.contains("Children")));
    }

    #[test]
    fn sensors_read_by_their_data() {
        let none = reading(&MeansProfile { camera: None, data: DataClass::NonePersonal }, Use::PublicSafety);
        assert_eq!(none.verdict, Verdict::NoPersonalData);
        let ids = MeansProfile { camera: None, data: DataClass::PseudonymousDeviceIds };
        assert_eq!(reading(&ids, Use::Statistics).verdict, Verdict::PossibleUnderConditions);
        assert_eq!(reading(&ids, Use::PublicSafety).verdict, Verdict::NeedsSpecificLaw);
        assert_eq!(DataClass::from_name("images"), Some(DataClass::ImagesLeaveDevice));
        assert_eq!(DataClass::from_name("aggregates_only"), Some(DataClass::AggregatesOnlyFromImages));
        assert_eq!(DataClass::from_name("what"), None);
    }
}
