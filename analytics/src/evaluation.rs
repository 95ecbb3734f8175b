//! Detection and tracking metrics against labelled boxes. Detection:
//! precision, recall and AP at IoU 0.5 as the COCO evaluation (pycocotools)
//! computes them. Tracking: HOTA as TrackEval computes it, and CLEAR MOT (MOTA, with misses,
//! false positives and identity switches; Bernardin & Stiefelhagen 2008) and
//! the identity F1 score (IDF1; Ristani et al. 2016), computed the way
//! py-motmetrics computes them, so that the figures of a rendered run can
//! be checked against that reference tool.
//!
//! Per frame, a labelled object stays matched to the track it was matched to
//! before while their boxes still overlap enough; the rest are paired by
//! optimal assignment (as many pairs as possible, then the closest). A pair
//! counts when IoU ≥ the threshold (0.5 in MOTChallenge).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::assignment::max_weight_pairs;
use crate::detector::iou;

/// One box in one frame: a label (ground truth) or a tracker's output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelledBox {
    /// Frame number.
    pub frame: u64,
    /// Object or track id.
    pub id: u64,
    /// `[x0, y0, x1, y1]`, pixels.
    pub bbox: [f32; 4],
}

/// The scores of a tracker's output against labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackingScores {
    /// Labelled boxes.
    pub objects: u64,
    /// Tracker boxes.
    pub hypotheses: u64,
    /// Labelled boxes matched to a track (switches included).
    pub matches: u64,
    /// Labelled boxes with no track.
    pub misses: u64,
    /// Tracker boxes with no label.
    pub false_positives: u64,
    /// Matches whose track differs from the object's previous one.
    pub switches: u64,
    /// `1 − (misses + false positives + switches) / objects`.
    pub mota: f64,
    /// Boxes matched under the best one-to-one pairing of object and track ids.
    pub idtp: u64,
    /// `2 · IDTP / (objects + hypotheses)`.
    pub idf1: f64,
}

/// Pairs rows with columns: most admissible pairs first, then the largest
/// total IoU; returns `(row, col)` pairs with IoU ≥ `min_iou`.
fn pair_up(rows: usize, cols: usize, sim: impl Fn(usize, usize) -> f32, min_iou: f32) -> Vec<(usize, usize)> {
    // Each admissible pair weighs 2 + IoU (so one more pair always wins),
    // an inadmissible one nothing.
    let weight = |r: usize, c: usize| {
        let s = sim(r, c);
        if s >= min_iou { ((2.0 + f64::from(s)) * 1e6).round() as i64 } else { 0 }
    };
    max_weight_pairs(rows, cols, weight).into_iter().filter(|&(r, c)| sim(r, c) >= min_iou).collect()
}

/// Scores `hypotheses` (a tracker's boxes) against `objects` (labels).
pub fn score_tracking(objects: &[LabelledBox], hypotheses: &[LabelledBox], min_iou: f32) -> TrackingScores {
    let mut by_frame: BTreeMap<u64, (Vec<&LabelledBox>, Vec<&LabelledBox>)> = BTreeMap::new();
    for o in objects {
        by_frame.entry(o.frame).or_default().0.push(o);
    }
    for h in hypotheses {
        by_frame.entry(h.frame).or_default().1.push(h);
    }
    let (mut matches, mut misses, mut fps, mut switches) = (0u64, 0u64, 0u64, 0u64);
    let mut last: HashMap<u64, u64> = HashMap::new();
    let mut pair_counts: HashMap<(u64, u64), u64> = HashMap::new();
    for (os, hs) in by_frame.values() {
        let sim = |i: usize, j: usize| iou(&os[i].bbox, &hs[j].bbox);
        for (i, o) in os.iter().enumerate() {
            for (j, h) in hs.iter().enumerate() {
                if sim(i, j) >= min_iou {
                    *pair_counts.entry((o.id, h.id)).or_default() += 1;
                }
            }
        }
        let (mut o_used, mut h_used) = (vec![false; os.len()], vec![false; hs.len()]);
        // Keep last frame's pairs that still overlap enough.
        for (i, o) in os.iter().enumerate() {
            let Some(&prev) = last.get(&o.id) else { continue };
            if let Some(j) = (0..hs.len()).find(|&j| !h_used[j] && hs[j].id == prev)
                && sim(i, j) >= min_iou
            {
                o_used[i] = true;
                h_used[j] = true;
                matches += 1;
            }
        }
        let free_o: Vec<usize> = (0..os.len()).filter(|&i| !o_used[i]).collect();
        let free_h: Vec<usize> = (0..hs.len()).filter(|&j| !h_used[j]).collect();
        for (a, b) in pair_up(free_o.len(), free_h.len(), |a, b| sim(free_o[a], free_h[b]), min_iou) {
            let (i, j) = (free_o[a], free_h[b]);
            o_used[i] = true;
            h_used[j] = true;
            matches += 1;
            if last.get(&os[i].id).is_some_and(|&prev| prev != hs[j].id) {
                switches += 1;
            }
            last.insert(os[i].id, hs[j].id);
        }
        misses += o_used.iter().filter(|u| !**u).count() as u64;
        fps += h_used.iter().filter(|u| !**u).count() as u64;
    }
    // IDF1: the best one-to-one pairing of object ids with track ids.
    let oids: Vec<u64> = objects.iter().map(|o| o.id).collect::<BTreeSet<_>>().into_iter().collect();
    let hids: Vec<u64> = hypotheses.iter().map(|h| h.id).collect::<BTreeSet<_>>().into_iter().collect();
    let count = |r: usize, c: usize| pair_counts.get(&(oids[r], hids[c])).copied().unwrap_or(0) as i64;
    let idtp: i64 = max_weight_pairs(oids.len(), hids.len(), count).into_iter().map(|(r, c)| count(r, c)).sum();
    let (n_o, n_h) = (objects.len() as u64, hypotheses.len() as u64);
    let idtp = idtp.max(0) as u64;
    TrackingScores {
        objects: n_o,
        hypotheses: n_h,
        matches,
        misses,
        false_positives: fps,
        switches,
        mota: if n_o > 0 { 1.0 - (misses + fps + switches) as f64 / n_o as f64 } else { 0.0 },
        idtp,
        idf1: if n_o + n_h > 0 { 2.0 * idtp as f64 / (n_o + n_h) as f64 } else { 0.0 },
    }
}

/// HOTA (Luiten et al., "HOTA: A Higher Order Metric for Evaluating
/// Multi-Object Tracking", IJCV 2021) with its detection and association
/// parts, averaged over the localisation thresholds α = 0.05, 0.10, ... 0.95,
/// computed as TrackEval's reference implementation does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HotaScores {
    /// HOTA = √(DetA · AssA), averaged over α.
    pub hota: f64,
    /// Detection accuracy, averaged over α.
    pub det_a: f64,
    /// Association accuracy, averaged over α.
    pub ass_a: f64,
}

/// Computes HOTA for `hypotheses` against `objects` (IoU similarity).
pub fn score_hota(objects: &[LabelledBox], hypotheses: &[LabelledBox]) -> HotaScores {
    let alphas: Vec<f64> = (0..19).map(|k| 0.05 + 0.05 * k as f64).collect();
    let index = |boxes: &[LabelledBox]| -> HashMap<u64, usize> {
        let ids: BTreeSet<u64> = boxes.iter().map(|b| b.id).collect();
        ids.into_iter().enumerate().map(|(i, id)| (id, i)).collect()
    };
    let (gi, ti) = (index(objects), index(hypotheses));
    let (ng, nt) = (gi.len(), ti.len());
    if objects.is_empty() || hypotheses.is_empty() {
        return HotaScores { hota: 0.0, det_a: 0.0, ass_a: 0.0 };
    }
    let mut by_frame: BTreeMap<u64, (Vec<&LabelledBox>, Vec<&LabelledBox>)> = BTreeMap::new();
    for o in objects {
        by_frame.entry(o.frame).or_default().0.push(o);
    }
    for h in hypotheses {
        by_frame.entry(h.frame).or_default().1.push(h);
    }
    let sims: Vec<Vec<Vec<f64>>> = by_frame
        .values()
        .map(|(os, hs)| os.iter().map(|o| hs.iter().map(|h| f64::from(iou(&o.bbox, &h.bbox))).collect()).collect())
        .collect();
    // Global alignment between ids, from similarity-weighted potential matches.
    let mut potential = vec![vec![0.0f64; nt]; ng];
    let (mut g_count, mut t_count) = (vec![0.0f64; ng], vec![0.0f64; nt]);
    for ((os, hs), sim) in by_frame.values().zip(&sims) {
        let row_sum: Vec<f64> = sim.iter().map(|r| r.iter().sum()).collect();
        let col_sum: Vec<f64> = (0..hs.len()).map(|j| sim.iter().map(|r| r[j]).sum()).collect();
        for (i, o) in os.iter().enumerate() {
            for (j, h) in hs.iter().enumerate() {
                let denom = row_sum[i] + col_sum[j] - sim[i][j];
                if denom > f64::EPSILON {
                    potential[gi[&o.id]][ti[&h.id]] += sim[i][j] / denom;
                }
            }
        }
        for o in os {
            g_count[gi[&o.id]] += 1.0;
        }
        for h in hs {
            t_count[ti[&h.id]] += 1.0;
        }
    }
    let align = |g: usize, t: usize| potential[g][t] / (g_count[g] + t_count[t] - potential[g][t]);
    let (mut tp, mut fn_, mut fp) = (vec![0.0f64; 19], vec![0.0f64; 19], vec![0.0f64; 19]);
    let mut matches: Vec<HashMap<(usize, usize), f64>> = vec![HashMap::new(); 19];
    for ((os, hs), sim) in by_frame.values().zip(&sims) {
        if os.is_empty() || hs.is_empty() {
            for a in 0..19 {
                fp[a] += hs.len() as f64;
                fn_[a] += os.len() as f64;
            }
            continue;
        }
        let score = |i: usize, j: usize| align(gi[&os[i].id], ti[&hs[j].id]) * sim[i][j];
        let pairs = max_weight_pairs(os.len(), hs.len(), |i, j| (score(i, j) * 1e12).round() as i64);
        for (a, alpha) in alphas.iter().enumerate() {
            let matched: Vec<&(usize, usize)> =
                pairs.iter().filter(|(i, j)| sim[*i][*j] >= alpha - f64::EPSILON).collect();
            let n = matched.len() as f64;
            tp[a] += n;
            fn_[a] += os.len() as f64 - n;
            fp[a] += hs.len() as f64 - n;
            for (i, j) in matched {
                *matches[a].entry((gi[&os[*i].id], ti[&hs[*j].id])).or_default() += 1.0;
            }
        }
    }
    let (mut hota, mut det_a, mut ass_a) = (0.0, 0.0, 0.0);
    for a in 0..19 {
        let ass: f64 =
            matches[a].iter().map(|(&(g, t), &m)| m * m / (g_count[g] + t_count[t] - m).max(1.0)).sum::<f64>()
                / tp[a].max(1.0);
        let det = tp[a] / (tp[a] + fn_[a] + fp[a]).max(1.0);
        hota += (det * ass).sqrt();
        det_a += det;
        ass_a += ass;
    }
    HotaScores { hota: hota / 19.0, det_a: det_a / 19.0, ass_a: ass_a / 19.0 }
}

/// A detector's box in one frame, with its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredBox {
    /// Frame number.
    pub frame: u64,
    /// Detection score.
    pub score: f32,
    /// `[x0, y0, x1, y1]`, pixels.
    pub bbox: [f32; 4],
}

/// The scores of a detector's boxes against labels, one class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectionScores {
    /// Smallest box area scored, px² (COCO's area range).
    pub min_area: f32,
    /// Labelled boxes in the area range.
    pub objects: u64,
    /// Detector boxes scored (at most 100 per frame, the highest scored;
    /// those matched to a label outside the range, and unmatched ones
    /// outside it, are not).
    pub detections: u64,
    /// Detector boxes matched to a label at IoU ≥ 0.5.
    pub true_positives: u64,
    /// `true_positives / detections` over every box the detector kept.
    pub precision: f64,
    /// `true_positives / objects`.
    pub recall: f64,
    /// Average precision at IoU 0.5, COCO's definition: precision made
    /// monotone, sampled at 101 recall points.
    pub ap50: f64,
}

/// COCO's cap on detections per image.
const MAX_DETS: usize = 100;

/// Scores detections against labels the way the COCO evaluation
/// (pycocotools) does for one category, IoU 0.5, and the area range
/// `[min_area, ∞)` px²: within a frame each detection, highest score first,
/// takes the unmatched label it overlaps most, preferring labels in the
/// range; labels below `min_area`, detections matched to them and unmatched
/// detections below `min_area` are ignored (neither found nor false).
pub fn score_detections(objects: &[LabelledBox], detections: &[ScoredBox], min_area: f32) -> DetectionScores {
    let area = |b: &[f32; 4]| (b[2] - b[0]) * (b[3] - b[1]);
    let mut by_frame: BTreeMap<u64, (Vec<&LabelledBox>, Vec<&ScoredBox>)> = BTreeMap::new();
    for o in objects {
        by_frame.entry(o.frame).or_default().0.push(o);
    }
    for d in detections {
        by_frame.entry(d.frame).or_default().1.push(d);
    }
    let counted_objects = objects.iter().filter(|o| area(&o.bbox) >= min_area).count();
    // (score, matched, ignored) of every kept detection, frames in order.
    let mut scored: Vec<(f32, bool, bool)> = Vec::new();
    for (gts, dts) in by_frame.values_mut() {
        // Stable sorts, as numpy's mergesort: labels in range first, then
        // detections by score.
        gts.sort_by_key(|g| area(&g.bbox) < min_area);
        dts.sort_by(|a, b| b.score.total_cmp(&a.score));
        dts.truncate(MAX_DETS);
        let ignored: Vec<bool> = gts.iter().map(|g| area(&g.bbox) < min_area).collect();
        let mut taken = vec![false; gts.len()];
        for d in dts.iter() {
            let mut best: Option<usize> = None;
            let mut best_iou = 0.5f64.min(1.0 - 1e-10);
            for (g, gt) in gts.iter().enumerate() {
                if taken[g] {
                    continue;
                }
                if best.is_some_and(|m| !ignored[m]) && ignored[g] {
                    break;
                }
                let o = f64::from(iou(&d.bbox, &gt.bbox));
                if o < best_iou {
                    continue;
                }
                best_iou = o;
                best = Some(g);
            }
            if let Some(g) = best {
                taken[g] = true;
            }
            let skip = match best {
                Some(g) => ignored[g],
                None => area(&d.bbox) < min_area,
            };
            scored.push((d.score, best.is_some(), skip));
        }
    }
    let mut order: Vec<usize> = (0..scored.len()).collect();
    order.sort_by(|&a, &b| scored[b].0.total_cmp(&scored[a].0));
    let npig = counted_objects as f64;
    let (mut tp, mut fp) = (0f64, 0f64);
    let mut recall = Vec::with_capacity(order.len());
    let mut precision = Vec::with_capacity(order.len());
    for &i in &order {
        let (_, matched, skip) = scored[i];
        if !skip && matched {
            tp += 1.0;
        } else if !skip {
            fp += 1.0;
        }
        recall.push(if npig > 0.0 { tp / npig } else { 0.0 });
        precision.push(tp / (tp + fp + f64::EPSILON));
    }
    for i in (1..precision.len()).rev() {
        if precision[i] > precision[i - 1] {
            precision[i - 1] = precision[i];
        }
    }
    let sampled: f64 = (0..=100)
        .map(|k| {
            let threshold = k as f64 / 100.0;
            let at = recall.partition_point(|r| *r < threshold);
            precision.get(at).copied().unwrap_or(0.0)
        })
        .sum();
    let n = scored.iter().filter(|d| !d.2).count() as u64;
    let true_positives = tp as u64;
    DetectionScores {
        min_area,
        objects: counted_objects as u64,
        detections: n,
        true_positives,
        precision: if n > 0 { true_positives as f64 / n as f64 } else { 0.0 },
        recall: if npig > 0.0 { true_positives as f64 / npig } else { 0.0 },
        ap50: if npig > 0.0 { sampled / 101.0 } else { 0.0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(frame: u64, id: u64, x: f32) -> LabelledBox {
        LabelledBox { frame, id, bbox: [x, 0.0, x + 10.0, 20.0] }
    }

    #[test]
    fn a_perfect_tracker_scores_one_and_a_swap_is_one_switch() {
        let objects: Vec<LabelledBox> = (1..=4).flat_map(|f| [b(f, 1, 0.0), b(f, 2, 50.0)]).collect();
        let perfect: Vec<LabelledBox> = objects.iter().map(|o| LabelledBox { id: o.id + 10, ..*o }).collect();
        let s = score_tracking(&objects, &perfect, 0.5);
        assert_eq!((s.matches, s.misses, s.false_positives, s.switches), (8, 0, 0, 0));
        assert!((s.mota - 1.0).abs() < 1e-12 && (s.idf1 - 1.0).abs() < 1e-12);
        // From frame 3 the two tracks swap objects: two switches; IDF1 keeps
        // the better half of each.
        let swapped: Vec<LabelledBox> =
            perfect.iter().map(|h| if h.frame >= 3 { LabelledBox { id: 23 - h.id, ..*h } } else { *h }).collect();
        let s = score_tracking(&objects, &swapped, 0.5);
        assert_eq!((s.matches, s.switches), (8, 2));
        assert!((s.mota - (1.0 - 2.0 / 8.0)).abs() < 1e-12, "{s:?}");
        assert!((s.idf1 - 0.5).abs() < 1e-12, "{s:?}");
    }

    #[test]
    fn average_precision_follows_the_coco_definition() {
        // Two labels; three detections: a hit (0.9), a miss (0.8), a hit (0.7).
        let objects = vec![b(1, 1, 0.0), b(1, 2, 100.0)];
        let s = |score, x| ScoredBox { frame: 1, score, bbox: [x, 0.0, x + 10.0, 20.0] };
        let dets = vec![s(0.9, 0.0), s(0.8, 300.0), s(0.7, 100.0)];
        let r = score_detections(&objects, &dets, 0.0);
        assert_eq!((r.objects, r.detections, r.true_positives), (2, 3, 2));
        // Precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1; made monotone: 1, 2/3, 2/3.
        // Recall points 0..=0.5 (51 of them) read 1, 0.51..=1 (50) read 2/3.
        let expected = (51.0 + 50.0 * 2.0 / 3.0) / 101.0;
        assert!((r.ap50 - expected).abs() < 1e-9, "{r:?}");
        assert!((r.precision - 2.0 / 3.0).abs() < 1e-12 && (r.recall - 1.0).abs() < 1e-12);
    }

    #[test]
    fn hota_is_one_for_a_perfect_tracker_and_drops_with_a_swap() {
        let objects: Vec<LabelledBox> = (1..=4).flat_map(|f| [b(f, 1, 0.0), b(f, 2, 50.0)]).collect();
        let perfect: Vec<LabelledBox> = objects.iter().map(|o| LabelledBox { id: o.id + 10, ..*o }).collect();
        let h = score_hota(&objects, &perfect);
        assert!((h.hota - 1.0).abs() < 1e-9 && (h.det_a - 1.0).abs() < 1e-9 && (h.ass_a - 1.0).abs() < 1e-9, "{h:?}");
        let swapped: Vec<LabelledBox> =
            perfect.iter().map(|h| if h.frame >= 3 { LabelledBox { id: 23 - h.id, ..*h } } else { *h }).collect();
        let h = score_hota(&objects, &swapped);
        // Every box is still found (DetA 1); each id pair shares 2 of 4
        // frames: AssA = 2/(4 + 4 − 2) = 1/3, HOTA = √(1/3).
        assert!((h.det_a - 1.0).abs() < 1e-9 && (h.ass_a - 1.0 / 3.0).abs() < 1e-9, "{h:?}");
        assert!((h.hota - (1.0f64 / 3.0).sqrt()).abs() < 1e-9, "{h:?}");
    }

    #[test]
    fn boxes_below_the_area_range_are_ignored_not_missed_or_false() {
        // Labels of 200 px² (in range) and 50 px² (below 100): the small one
        // unfound is no miss, a detection on it no hit, a small stray box no
        // false positive; a large stray box is one.
        let big = LabelledBox { frame: 1, id: 1, bbox: [0.0, 0.0, 10.0, 20.0] };
        let small = LabelledBox { frame: 1, id: 2, bbox: [100.0, 0.0, 105.0, 10.0] };
        let s = |score, bbox| ScoredBox { frame: 1, score, bbox };
        let dets = vec![
            s(0.9, [0.0, 0.0, 10.0, 20.0]),
            s(0.8, [100.0, 0.0, 105.0, 10.0]),
            s(0.7, [300.0, 0.0, 305.0, 10.0]),
            s(0.6, [400.0, 0.0, 410.0, 20.0]),
        ];
        let r = score_detections(&[big, small], &dets, 100.0);
        assert_eq!((r.objects, r.detections, r.true_positives), (1, 2, 1), "{r:?}");
        assert!((r.precision - 0.5).abs() < 1e-12 && (r.recall - 1.0).abs() < 1e-12);
        let all = score_detections(&[big, small], &dets, 0.0);
        assert_eq!((all.objects, all.detections, all.true_positives), (2, 4, 2));
    }

    #[test]
    fn misses_and_false_positives_count_apart() {
        let objects = vec![b(1, 1, 0.0), b(2, 1, 0.0)];
        let hyps = vec![b(1, 7, 1.0), b(2, 7, 200.0)];
        let s = score_tracking(&objects, &hyps, 0.5);
        assert_eq!((s.matches, s.misses, s.false_positives, s.switches), (1, 1, 1, 0));
        assert!((s.mota - 0.0).abs() < 1e-12);
    }
}
