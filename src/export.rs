//! `camtwin run --export`: a rendered run as a labelled data set for detector
//! and tracker engineers, in the two layouts their tools read.
//!
//! - MOTChallenge (MOT17/MOT20 layout): `img1/000001.png ...`,
//!   `gt/gt.txt` with one line per agent in view per frame, `frame, id,
//!   left, top, width, height, conf, class, visibility` (frames and ids from
//!   1; persons are class 1 with conf 1, other road users MOT's class of
//!   them (3 car, also for buses and lorries; 4 bicycle; 5 motorbike) with
//!   conf 0, which the MOTChallenge evaluation ignores), and `seqinfo.ini`.
//! - COCO detection JSON (`coco.json`): `images`, `annotations` (boxes
//!   `[x, y, width, height]`, `area`, `iscrowd` 0, plus `track_id` and
//!   `visibility`), `categories` with COCO's ids.
//!
//! With the export, the tracker's person tracks are written beside the
//! labels (`camtwin.txt`, MOTChallenge results format) with camtwin's own
//! MOTA, IDF1 and HOTA of them (`tracking.csv`, from
//! [`camtwin_analytics::evaluation`]), so both can be checked against the
//! reference tools.
//!
//! Boxes are the boxes of each agent's visible pixels, read from the
//! renderer's id buffer (the colour frame's own rasterisation); visibility is
//! those pixels over the pixels of the agent's unoccluded silhouette
//! ([`camtwin_sim::truth::PixelTruth`]). An agent with no visible pixel has
//! no label. The amodal box (the projected posed geometry clipped to the
//! image) is written beside: `gt/gt_amodal.txt` in the layout of `gt.txt`,
//! and `amodal_bbox` in each COCO annotation. Were a frame to hold more
//! agents than the id buffer can tag (255), the others fall back to the
//! amodal box and ray-cast visibility. Every file is written atomically; the
//! frames are footage and the summary counts them as kept.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use camtwin_analytics::detector::ObjectClass;
use camtwin_analytics::evaluation::{
    DetectionScores, HotaScores, LabelledBox, ScoredBox, TrackingScores, score_detections, score_hota, score_tracking,
};
use camtwin_analytics::pipeline::TrackedFrame;
use camtwin_analytics::report;
use camtwin_sim::truth::TruthBox;

/// MOTChallenge's class of a counted class (MOT17/MOT20 labels: 1
/// pedestrian, 3 car, 4 bicycle, 5 motorbike); MOT has no bus or truck, so
/// they are cars, as its labellers marked every larger vehicle.
fn mot_class(class: ObjectClass) -> u8 {
    match class {
        ObjectClass::Person => 1,
        ObjectClass::Bicycle => 4,
        ObjectClass::Motorcycle => 5,
        ObjectClass::Car | ObjectClass::Bus | ObjectClass::Truck => 3,
    }
}

/// COCO's category id of a counted class.
fn coco_category(class: ObjectClass) -> u32 {
    // COCO's 91-id numbering (person 1, bicycle 2, car 3, motorcycle 4, bus 6, truck 8).
    match class {
        ObjectClass::Person => 1,
        ObjectClass::Bicycle => 2,
        ObjectClass::Car => 3,
        ObjectClass::Motorcycle => 4,
        ObjectClass::Bus => 6,
        ObjectClass::Truck => 8,
    }
}

/// The exported label of `b`: its box and visibility, or `None` when none of
/// it is visible (see the module documentation).
fn label(b: &TruthBox) -> Option<([f32; 4], f32)> {
    match b.pixels {
        Some(p) => p.bbox.map(|bbox| (bbox, p.visible_fraction())),
        None => Some((b.bbox, b.visible_fraction)),
    }
}

/// Collects one camera's frames and labels and writes the data set.
#[derive(Debug)]
pub struct SequenceExport {
    dir: PathBuf,
    name: String,
    fps: u32,
    size: (u32, u32),
    /// (frame index from 0, ground-truth boxes).
    frames: Vec<(u64, Vec<TruthBox>)>,
}

impl SequenceExport {
    /// An export of camera `name` into `dir` (created with its `img1/` and `gt/`).
    pub fn create(dir: &Path, name: &str, fps: u32, size: (u32, u32)) -> Result<Self> {
        for sub in ["img1", "gt"] {
            let d = dir.join(sub);
            std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
        }
        Ok(Self { dir: dir.to_path_buf(), name: name.into(), fps, size, frames: Vec::new() })
    }

    /// Saves frame `index` (from 0) and keeps its labels.
    pub fn add(&mut self, index: u64, rgb: &[u8], boxes: Vec<TruthBox>) -> Result<()> {
        let path = self.dir.join("img1").join(format!("{:06}.png", index + 1));
        report::write_png(&path, self.size.0, self.size.1, rgb)?;
        self.frames.push((index, boxes));
        Ok(())
    }

    /// The labelled persons, as the tracking metrics take them (MOT frame
    /// numbers and ids).
    pub fn person_labels(&self) -> Vec<LabelledBox> {
        self.frames
            .iter()
            .flat_map(|(index, boxes)| {
                boxes.iter().filter(|b| b.class == ObjectClass::Person).filter_map(move |b| {
                    label(b).map(|(bbox, _)| LabelledBox { frame: index + 1, id: u64::from(b.agent) + 1, bbox })
                })
            })
            .collect()
    }

    /// Where the data set is written.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `gt/gt.txt`, `gt/gt_amodal.txt`, `seqinfo.ini` and `coco.json`.
    pub fn finish(self) -> Result<()> {
        let mut gt = String::new();
        let mut amodal = String::new();
        let mut images = Vec::new();
        let mut annotations = Vec::new();
        for (index, boxes) in &self.frames {
            let frame = index + 1;
            images.push(serde_json::json!({
                "id": frame,
                "file_name": format!("img1/{frame:06}.png"),
                "width": self.size.0,
                "height": self.size.1,
            }));
            for b in boxes {
                let Some((bbox, visibility)) = label(b) else { continue };
                let xywh = |r: [f32; 4]| (r[0], r[1], r[2] - r[0], r[3] - r[1]);
                let (conf, class) = (u8::from(b.class == ObjectClass::Person), mot_class(b.class));
                let mot_line = |r: [f32; 4]| {
                    let (x, y, w, h) = xywh(r);
                    format!("{frame},{},{x:.2},{y:.2},{w:.2},{h:.2},{conf},{class},{visibility:.3}\n", b.agent + 1)
                };
                gt.push_str(&mot_line(bbox));
                amodal.push_str(&mot_line(b.bbox));
                let (x, y, w, h) = xywh(bbox);
                let (ax, ay, aw, ah) = xywh(b.bbox);
                annotations.push(serde_json::json!({
                    "id": annotations.len() + 1,
                    "image_id": frame,
                    "category_id": coco_category(b.class),
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                    "track_id": b.agent + 1,
                    "visibility": visibility,
                    "amodal_bbox": [ax, ay, aw, ah],
                }));
            }
        }
        let categories: Vec<serde_json::Value> = ObjectClass::ALL
            .iter()
            .map(|c| serde_json::json!({ "id": coco_category(*c), "name": c.name(), "supercategory": "road user" }))
            .collect();
        let coco = serde_json::json!({
            "info": { "description": format!("camtwin rendered sequence {}", self.name) },
            "images": images,
            "annotations": annotations,
            "categories": categories,
        });
        let seqinfo = format!(
            "[Sequence]\nname={}\nimDir=img1\nframeRate={}\nseqLength={}\nimWidth={}\nimHeight={}\nimExt=.png\n",
            self.name,
            self.fps,
            self.frames.len(),
            self.size.0,
            self.size.1
        );
        let write = |name: &str, bytes: &[u8]| {
            let path = self.dir.join(name);
            report::write_atomic(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
        };
        write("gt/gt.txt", gt.as_bytes())?;
        write("gt/gt_amodal.txt", amodal.as_bytes())?;
        write("seqinfo.ini", seqinfo.as_bytes())?;
        let json = serde_json::to_vec_pretty(&coco).context("cannot encode coco.json")?;
        write("coco.json", &json)
    }
}

/// Smallest person box the detection metrics score, px²: COCO's boundary
/// between "small" and "medium" objects (32 × 32). Persons 60 px tall, the
/// detection-rate test's bar, are about 1,200 px².
pub const MIN_SCORED_AREA_PX: f32 = 32.0 * 32.0;

/// Scores a run's recorded detections and tracks (persons) against person
/// labels, and writes them with the scores into `dir`: `camtwin.txt`,
/// `detections.json`, `tracking.csv`, `detection.csv`. Frame numbers are
/// MOTChallenge's: the frame at time t is `round(t · fps) + 1`.
pub fn score_and_write(
    dir: &Path,
    labels: &[LabelledBox],
    frames: &[TrackedFrame],
    fps: u32,
) -> Result<(TrackingScores, HotaScores)> {
    let number = |time_s: f64| (time_s * f64::from(fps)).round() as u64 + 1;
    let tracks: Vec<LabelledBox> = frames
        .iter()
        .flat_map(|f| {
            let frame = number(f.time_s);
            f.boxes.iter().filter(|(_, class, _)| *class == ObjectClass::Person).map(move |(id, _, bbox)| LabelledBox {
                frame,
                id: *id,
                bbox: *bbox,
            })
        })
        .collect();
    let detections: Vec<ScoredBox> = frames
        .iter()
        .flat_map(|f| {
            let frame = number(f.time_s);
            f.detections.iter().filter(|d| d.class == ObjectClass::Person).map(move |d| ScoredBox {
                frame,
                score: d.score,
                bbox: d.bbox,
            })
        })
        .collect();
    let scores = score_tracking(labels, &tracks, 0.5);
    let hota = score_hota(labels, &tracks);
    write_tracks(dir, &tracks, &scores, &hota)?;
    write_detections(dir, &detections, &score_detections(labels, &detections, MIN_SCORED_AREA_PX))?;
    Ok((scores, hota))
}

/// Reads the persons of a MOTChallenge `gt.txt` (rows with conf 1 and, when
/// given, class 1), for scoring recorded footage.
pub fn read_mot_labels(path: &Path) -> Result<Vec<LabelledBox>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read labels {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Vec<f64> =
            line.split(',').map(|f| f.trim().parse::<f64>()).collect::<std::result::Result<_, _>>().map_err(|e| {
                anyhow::anyhow!("{}:{}: `{line}` is not a MOTChallenge row: {e}", path.display(), n + 1)
            })?;
        if v.len() < 7 {
            anyhow::bail!(
                "{}:{}: `{line}` has {} fields, MOTChallenge rows have at least 7",
                path.display(),
                n + 1,
                v.len()
            );
        }
        let person = v.get(7).is_none_or(|c| *c == 1.0);
        if v[6] != 1.0 || !person {
            continue;
        }
        let (x, y, w, h) = (v[2] as f32, v[3] as f32, v[4] as f32, v[5] as f32);
        out.push(LabelledBox { frame: v[0] as u64, id: v[1] as u64, bbox: [x, y, x + w, y + h] });
    }
    Ok(out)
}

/// Writes the tracker's person tracks as `camtwin.txt` in the
/// MOTChallenge results format (`frame, id, left, top, width, height, 1,
/// -1, -1, -1`) and camtwin's own scores of them as `tracking.csv`.
fn write_tracks(dir: &Path, tracks: &[LabelledBox], scores: &TrackingScores, hota: &HotaScores) -> Result<()> {
    let mut text = String::new();
    for t in tracks {
        let (x, y, w, h) = (t.bbox[0], t.bbox[1], t.bbox[2] - t.bbox[0], t.bbox[3] - t.bbox[1]);
        text.push_str(&format!("{},{},{x:.2},{y:.2},{w:.2},{h:.2},1,-1,-1,-1\n", t.frame, t.id));
    }
    let csv = format!(
        "objects,hypotheses,matches,misses,false_positives,switches,mota,idtp,idf1,hota,det_a,ass_a\n\
         {},{},{},{},{},{},{:.6},{},{:.6},{:.6},{:.6},{:.6}\n",
        scores.objects,
        scores.hypotheses,
        scores.matches,
        scores.misses,
        scores.false_positives,
        scores.switches,
        scores.mota,
        scores.idtp,
        scores.idf1,
        hota.hota,
        hota.det_a,
        hota.ass_a
    );
    for (name, bytes) in [("camtwin.txt", text.into_bytes()), ("tracking.csv", csv.into_bytes())] {
        let path = dir.join(name);
        report::write_atomic(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Writes the detector's person boxes as `detections.json` (COCO results
/// format: `image_id, category_id, bbox [x, y, w, h], score`) and
/// camtwin's own scores of them as `detection.csv`.
fn write_detections(dir: &Path, detections: &[ScoredBox], scores: &DetectionScores) -> Result<()> {
    let results: Vec<serde_json::Value> = detections
        .iter()
        .map(|d| {
            let (x, y, w, h) = (d.bbox[0], d.bbox[1], d.bbox[2] - d.bbox[0], d.bbox[3] - d.bbox[1]);
            serde_json::json!({ "image_id": d.frame, "category_id": 1, "bbox": [x, y, w, h], "score": d.score })
        })
        .collect();
    let json = serde_json::to_vec(&results).context("cannot encode detections.json")?;
    let csv = format!(
        "min_area,objects,detections,true_positives,precision,recall,ap50\n{},{},{},{},{:.6},{:.6},{:.6}\n",
        scores.min_area,
        scores.objects,
        scores.detections,
        scores.true_positives,
        scores.precision,
        scores.recall,
        scores.ap50
    );
    for (name, bytes) in [("detections.json", json), ("detection.csv", csv.into_bytes())] {
        let path = dir.join(name);
        report::write_atomic(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
