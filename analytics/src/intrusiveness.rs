//! How much a configuration still sees of people, measured from ground
//! truth after the privacy filter: pixels per metre and EN 62676-4 DORI
//! levels, identifiable faces, sensitive places and children in view.
//!
//! Like [`metrics`](crate::metrics), this module is scoring, not analytics:
//! it receives plain per-frame observations of each person (computed by the
//! simulation's ground truth) and what the filter did, never pixels.
//!
//! Time is counted in the camera's native frame periods: every analysed
//! frame exposes the people in it for one frame period, so analysing fewer
//! frames exposes people for fewer seconds.

use std::collections::BTreeSet;

use serde::Serialize;

/// EN 62676-4 identification levels, pixels per metre at the target
/// (domain brief §4): Monitor 12.5, Detect 25, Observe 62.5, Recognise 125,
/// Identify 250.
pub const DORI_PPM: [(f64, &str); 5] =
    [(12.5, "monitor"), (25.0, "detect"), (62.5, "observe"), (125.0, "recognise"), (250.0, "identify")];

/// Mean adult inter-pupillary distance, metres (about 63 mm; Dodgson 2004,
/// "Variation and extrema of human interpupillary distance").
pub const PUPIL_DISTANCE_M: f64 = 0.063;

/// Pixels between the pupils from which a face counts as identifiable:
/// human face matching is about 51 % accurate at 10 px between the pupils
/// and 36 % at 5 px (arXiv 2503.20108, domain brief §4); from 10 px on, a
/// face is a usable identifier.
pub const IDENTIFIABLE_PUPIL_PX: f64 = 10.0;

/// Largest angle between where a face points and the camera for which the
/// face is seen enough to be identified, degrees (beyond it, a profile or
/// the back of the head).
pub const IDENTIFIABLE_YAW_DEG: f64 = 60.0;

/// Share of a face box that a blurred area must cover for the face to count
/// as blurred.
pub const BLURRED_COVER: f64 = 0.5;

/// One person in one native frame, as ground truth sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PersonObservation {
    /// Frame index in the native stream.
    pub frame: u64,
    /// Agent id.
    pub agent: u32,
    /// Pixels per metre at the person, native resolution.
    pub pixels_per_metre: f64,
    /// Share of the body visible (not hidden by others or out of frame).
    pub visible_fraction: f64,
    /// The face box, native pixels, when the head is in the image.
    pub face: Option<[f32; 4]>,
    /// Angle between the face's direction and the direction to the camera,
    /// degrees (0: looking into the camera).
    pub face_yaw_deg: f64,
    /// Whether the face is hidden by another body.
    pub face_occluded: bool,
    /// Whether the person stands in a sensitive place.
    pub in_sensitive_place: bool,
    /// Whether the person is a child.
    pub child: bool,
    /// Whether the person's body centre lies under a mask.
    pub masked: bool,
}

/// What a configuration did to the frames, as intrusiveness needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterEffect {
    /// Frames analysed (native indices).
    pub analysed: BTreeSet<u64>,
    /// Face boxes blurred per analysed frame, native pixels.
    pub blurred: std::collections::BTreeMap<u64, Vec<[f32; 4]>>,
    /// Analysed width over native width.
    pub scale: f64,
    /// The camera's native frame rate.
    pub native_fps: f64,
}

/// The intrusiveness of one camera under one configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Intrusiveness {
    /// Person-seconds in view in analysed frames (visible ≥ 10 %, not masked).
    pub person_s_in_view: f64,
    /// Shares of those person-seconds below Monitor and at each DORI level,
    /// in [`DORI_PPM`] order after "below".
    pub dori_shares: [f64; 6],
    /// Median pixels per metre on people in view, after resizing.
    pub median_ppm: f64,
    /// Seconds of faces facing the camera (within [`IDENTIFIABLE_YAW_DEG`])
    /// in analysed frames, identifiable or not.
    pub face_s_facing: f64,
    /// Seconds of identifiable faces: facing, unoccluded, not masked, with
    /// at least [`IDENTIFIABLE_PUPIL_PX`] between the pupils after resizing,
    /// and not blurred.
    pub face_s_identifiable: f64,
    /// Seconds of faces that would have been identifiable but were blurred.
    pub face_s_blurred: f64,
    /// Person-seconds in view inside sensitive places.
    pub sensitive_person_s: f64,
    /// Person-seconds in view of children.
    pub child_person_s: f64,
}

/// How near a camera of `focal_px` pixels a face must be to be
/// identifiable at native resolution ([`IDENTIFIABLE_PUPIL_PX`] between the
/// pupils), metres: the face blur looks for any face that near wherever it
/// shows in the region it searches.
pub fn identifiable_within_m(focal_px: f64) -> f64 {
    focal_px * PUPIL_DISTANCE_M / IDENTIFIABLE_PUPIL_PX
}

/// Measures a configuration's intrusiveness from per-frame observations.
pub fn measure(observations: &[PersonObservation], effect: &FilterEffect) -> Intrusiveness {
    let dt = 1.0 / effect.native_fps.max(1e-6);
    let mut out = Intrusiveness::default();
    let mut ppms = Vec::new();
    let none = Vec::new();
    for o in observations.iter().filter(|o| effect.analysed.contains(&o.frame)) {
        if o.visible_fraction < 0.1 || o.masked {
            continue;
        }
        let ppm = o.pixels_per_metre * effect.scale;
        ppms.push(ppm);
        out.person_s_in_view += dt;
        let level = DORI_PPM.iter().filter(|(t, _)| ppm >= *t).count();
        out.dori_shares[level] += dt;
        if o.in_sensitive_place {
            out.sensitive_person_s += dt;
        }
        if o.child {
            out.child_person_s += dt;
        }
        let Some(face) = o.face else { continue };
        if o.face_yaw_deg > IDENTIFIABLE_YAW_DEG || o.face_occluded {
            continue;
        }
        out.face_s_facing += dt;
        if ppm * PUPIL_DISTANCE_M < IDENTIFIABLE_PUPIL_PX {
            continue;
        }
        let blurred = effect.blurred.get(&o.frame).unwrap_or(&none);
        if blurred.iter().any(|b| f64::from(crate::detector::inside_share(&face, b)) >= BLURRED_COVER) {
            out.face_s_blurred += dt;
        } else {
            out.face_s_identifiable += dt;
        }
    }
    if out.person_s_in_view > 0.0 {
        for s in &mut out.dori_shares {
            *s /= out.person_s_in_view;
        }
    }
    ppms.sort_by(f64::total_cmp);
    out.median_ppm = ppms.get(ppms.len() / 2).copied().unwrap_or(0.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(frame: u64, ppm: f64) -> PersonObservation {
        PersonObservation {
            frame,
            agent: 1,
            pixels_per_metre: ppm,
            visible_fraction: 1.0,
            face: Some([100.0, 50.0, 120.0, 75.0]),
            face_yaw_deg: 10.0,
            face_occluded: false,
            in_sensitive_place: false,
            child: false,
            masked: false,
        }
    }

    fn effect(frames: impl IntoIterator<Item = u64>, scale: f64) -> FilterEffect {
        FilterEffect { analysed: frames.into_iter().collect(), blurred: Default::default(), scale, native_fps: 10.0 }
    }

    #[test]
    fn fewer_pixels_and_frames_expose_fewer_identifiable_face_seconds() {
        // 200 px/m: 12.6 px between the pupils at native resolution.
        let obs: Vec<PersonObservation> = (0..10).map(|f| person(f, 200.0)).collect();
        let full = measure(&obs, &effect(0..10, 1.0));
        assert!((full.person_s_in_view - 1.0).abs() < 1e-9);
        assert!((full.face_s_identifiable - 1.0).abs() < 1e-9);
        assert!((full.dori_shares[4] - 1.0).abs() < 1e-9, "recognise: {:?}", full.dori_shares);
        let half_rate = measure(&obs, &effect((0..10).step_by(2), 1.0));
        assert!((half_rate.face_s_identifiable - 0.5).abs() < 1e-9);
        let half_size = measure(&obs, &effect(0..10, 0.5));
        assert_eq!(half_size.face_s_identifiable, 0.0, "6.3 px between the pupils");
        assert!((half_size.face_s_facing - 1.0).abs() < 1e-9);
        assert!((half_size.dori_shares[3] - 1.0).abs() < 1e-9, "observe at 100 px/m");
    }

    #[test]
    fn blurred_masked_and_turned_away_faces_are_not_identifiable() {
        let mut e = effect(0..3, 1.0);
        e.blurred.insert(0, vec![[98.0, 48.0, 121.0, 70.0]]);
        let turned = PersonObservation { face_yaw_deg: 120.0, ..person(1, 300.0) };
        let masked = PersonObservation { masked: true, child: true, ..person(2, 300.0) };
        let m = measure(&[person(0, 300.0), turned, masked], &e);
        assert_eq!(m.child_person_s, 0.0, "a masked child is not in view");
        assert_eq!(m.face_s_identifiable, 0.0);
        assert!((m.face_s_blurred - 0.1).abs() < 1e-9);
        assert!((m.person_s_in_view - 0.2).abs() < 1e-9, "the masked person is not in view");
    }
}
