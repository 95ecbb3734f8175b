//! Scoring counts against ground truth: the truth join, the error tables, the
//! split of a camera's error into what it could not see and what the pipeline
//! lost, statistics over seeds, and the plot panels.
//!
//! Like [`metrics`](crate::metrics), this module sees ground truth only as
//! plain timed crossings ([`TimedCount`]) handed to it by the caller: the edge
//! core itself never reads it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::aggregate::{Aggregator, IntervalCount};
use crate::counter::{CountRule, Direction};
use crate::detector::ObjectClass;
use crate::metrics::{CountPair, bias, wape};
use crate::report::{CountRow, Series};

/// A crossing with its line id: ground truth, or a source's counted event.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedCount {
    /// The counting line's id.
    pub line: String,
    /// When, seconds.
    pub time_s: f64,
    /// Class.
    pub class: ObjectClass,
    /// Which way.
    pub direction: Direction,
    /// For a true crossing, the simulation's id of the agent who crossed
    /// (stable within a run, says nothing about who); `None` for a count.
    pub agent: Option<u32>,
    /// For a camera's count, the counter's rule that made it and the track
    /// whose walker it counts; `None` for a true crossing or a sensor's
    /// count.
    pub counted_by: Option<CountedBy>,
}

/// Which of the counter's rules made a camera's count, and for which
/// track: both or neither, so they travel together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedBy {
    /// The rule.
    pub rule: CountRule,
    /// The track (its id in `--export`'s `camtwin.txt`).
    pub track: u64,
}

/// What one source counted: its aggregates, as emitted.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceCounts {
    /// `camera:<id>` or `<sensor kind>:<id>`.
    pub source: String,
    /// Its per-interval counts (lines by id).
    pub intervals: Vec<IntervalCount>,
}

/// Aggregates timed crossings of the lines `lines` like a source's.
pub fn aggregate_timed(
    counts: &[TimedCount],
    lines: &[String],
    interval_s: u32,
    duration_s: f64,
) -> Vec<IntervalCount> {
    let mut agg = Aggregator::new(interval_s, duration_s, lines.to_vec());
    for c in counts {
        if let Some(line) = lines.iter().position(|l| *l == c.line) {
            agg.add_one(line, c.time_s, c.class, c.direction);
        }
    }
    agg.finish(&ObjectClass::ALL)
}

/// The truth join: every interval cell of every source next to the true
/// count of the same line, interval, class and direction. Classes that
/// neither the source nor the truth saw on a line are left out, except
/// persons (always shown, so a run with no crossing still says so).
pub fn count_rows(sources: &[SourceCounts], truth: &[TimedCount], interval_s: u32, duration_s: f64) -> Vec<CountRow> {
    let lines: Vec<String> = sources
        .iter()
        .flat_map(|s| s.intervals.iter().map(|c| c.line.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let truth_cells: BTreeMap<(u32, String, ObjectClass, Direction), u64> =
        aggregate_timed(truth, &lines, interval_s, duration_s)
            .into_iter()
            .map(|c| ((c.start_s, c.line, c.class, c.direction), c.count))
            .collect();
    let truth_of = |c: &IntervalCount| truth_cells.get(&(c.start_s, c.line.clone(), c.class, c.direction)).copied();
    let mut rows = Vec::new();
    for s in sources {
        let used: BTreeSet<(&str, ObjectClass)> = s
            .intervals
            .iter()
            .filter(|c| c.count > 0 || truth_of(c).unwrap_or(0) > 0)
            .map(|c| (c.line.as_str(), c.class))
            .collect();
        for c in &s.intervals {
            if c.class != ObjectClass::Person && !used.contains(&(c.line.as_str(), c.class)) {
                continue;
            }
            rows.push(CountRow {
                interval_start_s: c.start_s,
                interval_end_s: c.end_s,
                source: s.source.clone(),
                line: c.line.clone(),
                class: c.class.name().into(),
                direction: c.direction.name().into(),
                count: c.count,
                ground_truth: truth_of(c).unwrap_or(0),
            });
        }
    }
    rows
}

/// One row of `errors.csv`: a source's error on one line, class and
/// direction, over one interval or over the whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorRow {
    /// The source.
    pub source: String,
    /// The line.
    pub line: String,
    /// The class.
    pub class: String,
    /// `positive`, `negative` or `both`.
    pub direction: String,
    /// `all`, or `<start>-<end>` in seconds.
    pub interval: String,
    /// The source's count.
    pub count: u64,
    /// The true count.
    pub ground_truth: u64,
    /// WAPE, `Σ|count − truth| / Σ truth` over the intervals (and both
    /// directions for `both`); empty when the truth is zero.
    pub wape: Option<f64>,
    /// Bias, `(Σ count − Σ truth) / Σ truth`; empty when the truth is zero.
    pub bias: Option<f64>,
}

/// Column names of `errors.csv`, in [`ErrorRow`] field order.
pub const ERROR_HEADER: [&str; 9] =
    ["source", "line", "class", "direction", "interval", "count", "ground_truth", "wape", "bias"];

fn error_row(key: (&str, &str, &str), direction: &str, interval: String, cells: &[&CountRow]) -> ErrorRow {
    let pairs: Vec<CountPair> = cells.iter().map(|r| CountPair { count: r.count, truth: r.ground_truth }).collect();
    ErrorRow {
        source: key.0.into(),
        line: key.1.into(),
        class: key.2.into(),
        direction: direction.into(),
        interval,
        count: pairs.iter().map(|p| p.count).sum(),
        ground_truth: pairs.iter().map(|p| p.truth).sum(),
        wape: wape(&pairs),
        bias: bias(&pairs),
    }
}

/// WAPE and bias per source, line, class and direction (each direction and
/// both), over the whole run and per interval.
pub fn error_rows(rows: &[CountRow]) -> Vec<ErrorRow> {
    let mut groups: BTreeMap<(&str, &str, &str), Vec<&CountRow>> = BTreeMap::new();
    for r in rows {
        groups.entry((r.source.as_str(), r.line.as_str(), r.class.as_str())).or_default().push(r);
    }
    let mut out = Vec::new();
    for (key, cells) in &groups {
        let intervals: BTreeSet<(u32, u32)> = cells.iter().map(|r| (r.interval_start_s, r.interval_end_s)).collect();
        for direction in ["positive", "negative", "both"] {
            let sel: Vec<&CountRow> =
                cells.iter().copied().filter(|r| direction == "both" || r.direction == direction).collect();
            out.push(error_row(*key, direction, "all".into(), &sel));
            for &(start, end) in &intervals {
                let cell: Vec<&CountRow> = sel.iter().copied().filter(|r| r.interval_start_s == start).collect();
                out.push(error_row(*key, direction, format!("{start}-{end}"), &cell));
            }
        }
    }
    out
}

/// A camera's crossings on one line, class and direction, split by what the
/// camera could see: the error that no camera there could avoid, and the
/// error that is the pipeline's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrossingSplit {
    /// The camera source.
    pub source: String,
    /// The line.
    pub line: String,
    /// The class.
    pub class: String,
    /// The direction.
    pub direction: String,
    /// True crossings of the line.
    pub true_crossings: u64,
    /// Those the camera could see ([`VISIBILITY_RULE`]).
    pub visible_crossings: u64,
    /// Crossings the camera counted.
    pub counted: u64,
    /// Counts matched to a visible true crossing.
    pub counted_visible: u64,
    /// Counts matched to a true crossing the camera could not see well.
    pub counted_not_visible: u64,
    /// Counts matched to no true crossing: extra counts.
    pub extra: u64,
    /// `true − visible`: crossings no camera at this spot could count.
    pub not_visible: u64,
    /// `visible − counted_visible`: visible crossings the pipeline lost.
    pub pipeline_lost: u64,
}

/// Column names of `crossings.csv`, in [`CrossingSplit`] field order.
pub const SPLIT_HEADER: [&str; 12] = [
    "source",
    "line",
    "class",
    "direction",
    "true_crossings",
    "visible_crossings",
    "counted",
    "counted_visible",
    "counted_not_visible",
    "extra",
    "not_visible",
    "pipeline_lost",
];

/// A visible true crossing that the camera did not count: where to look in
/// the footage for what the pipeline lost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostCrossing {
    /// The camera source.
    pub source: String,
    /// The line.
    pub line: String,
    /// The class.
    pub class: String,
    /// The direction.
    pub direction: String,
    /// When the person crossed, seconds of simulated time.
    pub time_s: f64,
    /// The simulation's id of the agent who crossed (stable within a run,
    /// says nothing about who), to find its boxes in `truth-<camera>.csv`;
    /// empty where the truth does not name it.
    pub agent: Option<u32>,
}

/// Column names of `lost-crossings.csv`, in [`LostCrossing`] field order.
pub const LOST_HEADER: [&str; 6] = ["source", "line", "class", "direction", "time_s", "agent"];

/// A count the camera made that pairs with no true crossing: where to look
/// in the footage for what the pipeline counted wrongly (a track that took
/// over another walker, a person counted twice).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtraCount {
    /// The camera source.
    pub source: String,
    /// The line.
    pub line: String,
    /// The class.
    pub class: String,
    /// The direction counted.
    pub direction: String,
    /// When the count placed the crossing, seconds of simulated time.
    pub time_s: f64,
    /// Which of the counter's rules made the count, written as its
    /// [`CountRule::name`]; empty for a source whose counts carry none.
    #[serde(serialize_with = "rule_name")]
    pub rule: Option<CountRule>,
    /// The track whose walker it counts (its id in `--export`'s
    /// `camtwin.txt`); empty for a source without tracks.
    pub track: Option<u64>,
}

/// Writes a rule as its name in output files, nothing for none.
fn rule_name<S: serde::Serializer>(rule: &Option<CountRule>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(rule.map_or("", CountRule::name))
}

/// Column names of `extra-counts.csv`, in [`ExtraCount`] field order.
pub const EXTRA_HEADER: [&str; 7] = ["source", "line", "class", "direction", "time_s", "rule", "track"];

/// Every count a camera made, with the rule and track that made it and
/// what it paired with: engineers regression-testing the counter read good
/// counts beside wrong ones (`extra-counts.csv` holds the wrong ones only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountedCrossing {
    /// The camera source.
    pub source: String,
    /// The line.
    pub line: String,
    /// The class.
    pub class: String,
    /// The direction counted.
    pub direction: String,
    /// When the count placed the crossing, seconds of simulated time.
    pub time_s: f64,
    /// Which of the counter's rules made the count (empty for none).
    #[serde(serialize_with = "rule_name")]
    pub rule: Option<CountRule>,
    /// The track whose walker it counts; empty for a source without tracks.
    pub track: Option<u64>,
    /// `visible` (paired with a crossing the camera could see),
    /// `not_visible` (with one it saw badly) or `extra` (with none).
    pub paired: &'static str,
    /// The agent whose true crossing it paired with; empty for an extra
    /// count. Which walker of a group a count goes to is a choice among
    /// equals (see [`split_crossings`]).
    pub agent: Option<u32>,
    /// When that true crossing happened, seconds; empty for an extra count.
    pub crossed_s: Option<f64>,
}

impl From<&CountedCrossing> for ExtraCount {
    /// An extra count is a counted crossing that paired with none.
    fn from(c: &CountedCrossing) -> Self {
        Self {
            source: c.source.clone(),
            line: c.line.clone(),
            class: c.class.clone(),
            direction: c.direction.clone(),
            time_s: c.time_s,
            rule: c.rule,
            track: c.track,
        }
    }
}

/// Column names of `counted-crossings.csv`, in [`CountedCrossing`] field
/// order.
pub const COUNTED_HEADER: [&str; 10] =
    ["source", "line", "class", "direction", "time_s", "rule", "track", "paired", "agent", "crossed_s"];

/// A camera's counts against the truth: the error split per line, class
/// and direction, and the crossings lost and counts extra one by one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CrossingReport {
    /// One row per line, class and direction.
    pub split: Vec<CrossingSplit>,
    /// Visible crossings no count paired with.
    pub lost: Vec<LostCrossing>,
    /// Counts paired with no true crossing.
    pub extra: Vec<ExtraCount>,
    /// Every count, with what it paired with.
    pub counted: Vec<CountedCrossing>,
}

/// The rule that makes a true crossing visible to a camera, in words for
/// reports (the simulation applies it to ground truth).
pub const VISIBILITY_RULE: &str = "the person is at least 50 % visible and at least 40 px tall in at least 5 \
     rendered frames while within 1 m of the line";

/// Largest time difference between a counted and a true crossing that still
/// pairs them, seconds.
pub const MATCH_TOLERANCE_S: f64 = 2.0;

/// Pairs a camera's counted crossings with true ones (same line, class and
/// direction, at most [`MATCH_TOLERANCE_S`] apart; as many pairs as can be
/// made, visible crossings before crossings the camera could not see, see
/// [`pair_counts`]) and splits the error. Counts carry no identity, so when
/// a pair walks over the line together and one count is made, it goes to
/// the walker the camera could see. `visible[i]` says whether `truth[i]` was visible to
/// this camera; only the lines in `lines` are scored. Also returns each
/// visible crossing left unpaired (the pipeline's losses) and each count
/// left unpaired (its extra counts), one by one.
pub fn split_crossings(
    source: &str,
    lines: &[String],
    counted: &[TimedCount],
    truth: &[TimedCount],
    visible: &[bool],
) -> CrossingReport {
    let mut out = Vec::new();
    let mut lost = Vec::new();
    let mut extra = Vec::new();
    let mut counted_rows = Vec::new();
    for line in lines {
        for class in ObjectClass::ALL {
            for direction in Direction::BOTH {
                let is = |c: &TimedCount| c.line == *line && c.class == class && c.direction == direction;
                let t: Vec<usize> = (0..truth.len()).filter(|&i| is(&truth[i])).collect();
                let c: Vec<&TimedCount> = counted.iter().filter(|c| is(c)).collect();
                if t.is_empty() && c.is_empty() && class != ObjectClass::Person {
                    continue;
                }
                // Counts carry no identity: pair as many as the tolerance
                // allows, a visible crossing before one the camera could not
                // see (so that a count near a pair walking together goes to
                // the walker it saw), nearest counts tried first.
                let c_times: Vec<f64> = c.iter().map(|e| e.time_s).collect();
                let t_times: Vec<f64> = t.iter().map(|&i| truth[i].time_s).collect();
                let t_visible: Vec<bool> = t.iter().map(|&i| visible.get(i).copied().unwrap_or(false)).collect();
                let truth_of = pair_counts(&c_times, &t_times, &t_visible);
                let (mut c_used, mut t_used) = (vec![false; c.len()], vec![false; t.len()]);
                let (mut counted_visible, mut counted_not_visible) = (0, 0);
                for (ci, k) in truth_of.iter().enumerate() {
                    let Some(k) = *k else { continue };
                    c_used[ci] = true;
                    t_used[k] = true;
                    if t_visible[k] {
                        counted_visible += 1;
                    } else {
                        counted_not_visible += 1;
                    }
                }
                for (e, k) in c.iter().zip(&truth_of) {
                    let paired = k.map(|k| (t[k], if t_visible[k] { "visible" } else { "not_visible" }));
                    let row = CountedCrossing {
                        source: source.into(),
                        line: line.clone(),
                        class: class.name().into(),
                        direction: direction.name().into(),
                        time_s: e.time_s,
                        rule: e.counted_by.map(|b| b.rule),
                        track: e.counted_by.map(|b| b.track),
                        paired: paired.map_or("extra", |(_, p)| p),
                        agent: paired.and_then(|(ti, _)| truth[ti].agent),
                        crossed_s: paired.map(|(ti, _)| truth[ti].time_s),
                    };
                    if paired.is_none() {
                        extra.push(ExtraCount::from(&row));
                    }
                    counted_rows.push(row);
                }
                for (k, &ti) in t.iter().enumerate() {
                    if !t_used[k] && visible.get(ti).copied().unwrap_or(false) {
                        lost.push(LostCrossing {
                            source: source.into(),
                            line: line.clone(),
                            class: class.name().into(),
                            direction: direction.name().into(),
                            time_s: truth[ti].time_s,
                            agent: truth[ti].agent,
                        });
                    }
                }
                let visible_crossings = t.iter().filter(|&&i| visible.get(i).copied().unwrap_or(false)).count() as u64;
                let true_crossings = t.len() as u64;
                out.push(CrossingSplit {
                    source: source.into(),
                    line: line.clone(),
                    class: class.name().into(),
                    direction: direction.name().into(),
                    true_crossings,
                    visible_crossings,
                    counted: c.len() as u64,
                    counted_visible,
                    counted_not_visible,
                    extra: c_used.iter().filter(|u| !**u).count() as u64,
                    not_visible: true_crossings - visible_crossings,
                    pipeline_lost: visible_crossings - counted_visible,
                });
            }
        }
    }
    counted_rows.sort_by(|a, b| {
        (&a.line, &a.direction, a.time_s)
            .partial_cmp(&(&b.line, &b.direction, b.time_s))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    CrossingReport { split: out, lost, extra, counted: counted_rows }
}

/// Pairs counts (at `counts`, seconds) with true crossings (at `truths`,
/// `visible[k]` when the camera could see crossing `k`) at most
/// [`MATCH_TOLERANCE_S`] apart; returns each count's crossing, if any.
///
/// Of all pairings it takes the one with the most pairs, then among those
/// the most visible crossings paired, then the smallest total time between
/// paired count and crossing. The first two make the split of the error
/// (counted, lost, extra, not visible): nearest-first pairing was wrong
/// there (with crossings at 0 and 2.5 s and counts at 1.9 and 4.4 s it gave
/// 1.9 to 2.5 and left both 0 and 4.4 unpaired, a lost crossing and an
/// extra count that were neither), and a count near a visible and an unseen
/// crossing goes to the visible one. The third says *which* crossings were
/// lost: with the first two alone, a crossing the pipeline missed in a busy
/// minute could leave its count to the next crossing, and that one's to the
/// next, so that the one reported lost (in `lost-crossings.csv`) was a
/// walker counted cleanly seconds later. On a line, pairs that cross in
/// time (an earlier count with a later crossing) can always be uncrossed
/// without losing a pair or adding time, so the best pairing is found by
/// dynamic programming over the two time-sorted lists.
pub fn pair_counts(counts: &[f64], truths: &[f64], visible: &[bool]) -> Vec<Option<usize>> {
    let sorted = |times: &[f64]| {
        let mut order: Vec<usize> = (0..times.len()).collect();
        order.sort_by(|&a, &b| times[a].total_cmp(&times[b]).then(a.cmp(&b)));
        order
    };
    let (cs, ts) = (sorted(counts), sorted(truths));
    let m = ts.len();
    // Best pairing of the first i counts with the first j crossings: pairs,
    // visible pairs, minus the total time apart.
    #[derive(Clone, Copy)]
    struct Score(u32, u32, f64);
    let beats = |a: Score, b: Score| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)).is_gt();
    let zero = Score(0, 0, 0.0);
    let (mut prev, mut cur) = (vec![zero; m + 1], vec![zero; m + 1]);
    // Per count, the crossings within reach (a range, both lists being in
    // time order) and what each cell there chose: 0 = leave the count,
    // 1 = leave the crossing, 2 = pair them. Left of the range the count
    // is left (it reaches no crossing so early), right of it the crossing
    // (no count so far reaches it).
    let mut bands: Vec<(usize, Vec<u8>)> = Vec::with_capacity(cs.len());
    for &c in &cs {
        let t = counts[c];
        let lo = ts.partition_point(|&k| truths[k] < t - MATCH_TOLERANCE_S);
        let hi = ts.partition_point(|&k| truths[k] <= t + MATCH_TOLERANCE_S);
        let mut choice = Vec::with_capacity(hi - lo);
        cur[0] = zero;
        for j in 1..=m {
            let (mut best, mut pick) = (prev[j], 0u8);
            if beats(cur[j - 1], best) {
                (best, pick) = (cur[j - 1], 1);
            }
            if (lo..hi).contains(&(j - 1)) {
                let k = ts[j - 1];
                let p = prev[j - 1];
                let seen = u32::from(visible.get(k).copied().unwrap_or(false));
                let paired = Score(p.0 + 1, p.1 + seen, p.2 - (truths[k] - t).abs());
                if beats(paired, best) {
                    (best, pick) = (paired, 2);
                }
                choice.push(pick);
            }
            cur[j] = best;
        }
        bands.push((lo, choice));
        std::mem::swap(&mut prev, &mut cur);
    }
    let mut truth_of = vec![None; counts.len()];
    let (mut i, mut j) = (cs.len(), m);
    while i > 0 && j > 0 {
        let (lo, choice) = &bands[i - 1];
        let pick = match (j - 1).checked_sub(*lo).and_then(|b| choice.get(b)) {
            Some(&pick) => pick,
            None if j - 1 < *lo => 0,
            None => 1,
        };
        match pick {
            2 => {
                truth_of[cs[i - 1]] = Some(ts[j - 1]);
                i -= 1;
                j -= 1;
            }
            1 => j -= 1,
            _ => i -= 1,
        }
    }
    truth_of
}

/// (source, line, class, direction): how results of several seeds are grouped.
type SplitKey = (String, String, String, String);

/// Adds up splits of the same source, line, class and direction (over seeds).
pub fn sum_splits<'a>(splits: impl Iterator<Item = &'a CrossingSplit>) -> Vec<CrossingSplit> {
    let mut sums: BTreeMap<SplitKey, CrossingSplit> = BTreeMap::new();
    for s in splits {
        let key = (s.source.clone(), s.line.clone(), s.class.clone(), s.direction.clone());
        match sums.get_mut(&key) {
            None => {
                sums.insert(key, s.clone());
            }
            Some(t) => {
                t.true_crossings += s.true_crossings;
                t.visible_crossings += s.visible_crossings;
                t.counted += s.counted;
                t.counted_visible += s.counted_visible;
                t.counted_not_visible += s.counted_not_visible;
                t.extra += s.extra;
                t.not_visible += s.not_visible;
                t.pipeline_lost += s.pipeline_lost;
            }
        }
    }
    sums.into_values().collect()
}

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{:.1} %", x * 100.0))
}

fn signed_pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{:+.1} %", x * 100.0))
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// The whole-run errors as Markdown tables, one per class in use.
pub fn error_tables(errors: &[ErrorRow]) -> String {
    let classes = classes_in_use(errors.iter().map(|e| (e.class.as_str(), e.count + e.ground_truth > 0)));
    classes.iter().map(|class| error_table(errors, class)).collect()
}

/// The whole-run errors of one class as a Markdown table.
pub fn error_table(errors: &[ErrorRow], class: &str) -> String {
    let mut md = format!(
        "## Count error per source ({class})\n\n| source | line | direction | counted | ground truth | WAPE | bias |\n\
         |---|---|---|---:|---:|---:|---:|\n"
    );
    for e in errors.iter().filter(|e| e.class == class && e.interval == "all") {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            e.source,
            e.line,
            e.direction,
            e.count,
            e.ground_truth,
            pct(e.wape),
            signed_pct(e.bias)
        ));
    }
    md.push_str(
        "\nWAPE = Σ|count − truth| / Σ truth over intervals (and directions for \"both\"); bias = (Σ count − Σ truth) \
         / Σ truth. Per-interval figures are in `errors.csv`.\n\n",
    );
    md
}

/// The classes a summary has tables for: persons always (a run with no
/// crossing still says so), and every other class that was counted or
/// truly crossed, in output order.
pub fn classes_in_use<'a>(seen: impl IntoIterator<Item = (&'a str, bool)>) -> Vec<&'static str> {
    let used: BTreeSet<&str> = seen.into_iter().filter(|(_, any)| *any).map(|(class, _)| class).collect();
    ObjectClass::ALL.iter().map(|c| c.name()).filter(|c| *c == "person" || used.contains(c)).collect()
}

/// Every split table of a summary: the cameras' crossings split by
/// visibility, one table per class in use (persons first, with the title
/// they always had).
pub fn split_tables(splits: &[CrossingSplit], scope: &str) -> String {
    let classes = classes_in_use(splits.iter().map(|s| (s.class.as_str(), s.true_crossings + s.counted > 0)));
    classes.iter().map(|class| split_table(splits, scope, class)).collect()
}

/// The cameras' crossings of one class split by visibility, as a Markdown
/// table.
pub fn split_table(splits: &[CrossingSplit], scope: &str, class: &str) -> String {
    let title = if class == "person" { scope.to_string() } else { format!("{scope}, {class}") };
    let rule = if class == "person" {
        String::new()
    } else {
        format!(" (the same rule for a {class}, whose centre may be half its length further from the line)")
    };
    let mut md = format!(
        "## What the cameras could see ({title})\n\nA true crossing is visible when {VISIBILITY_RULE}{rule}. Counts \
         are paired with true crossings of the same line and direction at most {MATCH_TOLERANCE_S} s apart.\n\n\
         | camera | line | direction | true | visible | counted | of visible counted | extra counts | error: not visible | \
         error: pipeline lost |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for s in splits.iter().filter(|s| s.class == class) {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} ({}) | {} ({}) |\n",
            s.source,
            s.line,
            s.direction,
            s.true_crossings,
            s.visible_crossings,
            s.counted,
            pct(ratio(s.counted_visible, s.visible_crossings)),
            s.extra,
            pct(ratio(s.extra, s.true_crossings)),
            s.not_visible,
            pct(ratio(s.not_visible, s.true_crossings)),
            s.pipeline_lost,
            pct(ratio(s.pipeline_lost, s.true_crossings)),
        ));
    }
    md.push('\n');
    md
}

/// The errors over seeds as Markdown tables, one per class in use.
pub fn seed_error_tables(rows: &[SeedErrorRow]) -> String {
    let classes = classes_in_use(rows.iter().map(|r| (r.class.as_str(), r.seeds > 0 && r.wape_mean.is_finite())));
    classes.iter().map(|class| seed_error_table(rows, class)).collect()
}

/// The errors of one class over seeds as a Markdown table.
pub fn seed_error_table(rows: &[SeedErrorRow], class: &str) -> String {
    let mut md = format!(
        "## Count error over seeds ({class}): mean [95 % interval]\n\n| source | line | direction | seeds | WAPE | bias \
         |\n|---|---|---|---:|---|---|\n",
    );
    for r in rows.iter().filter(|r| r.class == class) {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} % [{:.1}, {:.1}] | {:+.1} % [{:+.1}, {:+.1}] |\n",
            r.source,
            r.line,
            r.direction,
            r.seeds,
            r.wape_mean * 100.0,
            r.wape_low * 100.0,
            r.wape_high * 100.0,
            r.bias_mean * 100.0,
            r.bias_low * 100.0,
            r.bias_high * 100.0
        ));
    }
    md.push('\n');
    md
}

/// A mean with its 95 % confidence interval over independent runs (seeds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanInterval {
    /// Number of runs.
    pub n: usize,
    /// Sample mean.
    pub mean: f64,
    /// Lower end of the 95 % interval (Student's t; equal to the mean for one run).
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// Two-sided 97.5 % quantiles of Student's t for 1..=30 degrees of freedom.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
    2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/// Mean and 95 % interval of `values` (Student's t with n − 1 degrees of
/// freedom, the normal 1.96 beyond 30); `None` for no values.
pub fn mean_interval(values: &[f64]) -> Option<MeanInterval> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Some(MeanInterval { n, mean, low: mean, high: mean });
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = T_975.get(n - 2).copied().unwrap_or(1.96);
    let half = t * (var / n as f64).sqrt();
    Some(MeanInterval { n, mean, low: mean - half, high: mean + half })
}

/// One row of `errors-over-seeds.csv`: one whole-run error of
/// [`error_rows`] summarised over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedErrorRow {
    /// The source.
    pub source: String,
    /// The line.
    pub line: String,
    /// The class.
    pub class: String,
    /// The direction (or `both`).
    pub direction: String,
    /// Seeds with a defined error (non-zero truth).
    pub seeds: usize,
    /// Mean WAPE.
    pub wape_mean: f64,
    /// 95 % interval of the WAPE, low end.
    pub wape_low: f64,
    /// High end.
    pub wape_high: f64,
    /// Mean bias.
    pub bias_mean: f64,
    /// 95 % interval of the bias, low end.
    pub bias_low: f64,
    /// High end.
    pub bias_high: f64,
}

/// Column names of `errors-over-seeds.csv`, in [`SeedErrorRow`] field order.
pub const SEED_ERROR_HEADER: [&str; 11] = [
    "source",
    "line",
    "class",
    "direction",
    "seeds",
    "wape_mean",
    "wape_low",
    "wape_high",
    "bias_mean",
    "bias_low",
    "bias_high",
];

/// Summarises the whole-run errors of several seeds' [`error_rows`].
pub fn errors_over_seeds(per_seed: &[Vec<ErrorRow>]) -> Vec<SeedErrorRow> {
    let mut groups: BTreeMap<SplitKey, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for rows in per_seed {
        for r in rows.iter().filter(|r| r.interval == "all") {
            let g = groups.entry((r.source.clone(), r.line.clone(), r.class.clone(), r.direction.clone())).or_default();
            if let (Some(w), Some(b)) = (r.wape, r.bias) {
                g.0.push(w);
                g.1.push(b);
            }
        }
    }
    groups
        .into_iter()
        .filter_map(|((source, line, class, direction), (w, b))| {
            let (w, b) = (mean_interval(&w)?, mean_interval(&b)?);
            Some(SeedErrorRow {
                source,
                line,
                class,
                direction,
                seeds: w.n,
                wape_mean: w.mean,
                wape_low: w.low,
                wape_high: w.high,
                bias_mean: b.mean,
                bias_low: b.low,
                bias_high: b.high,
            })
        })
        .collect()
}

/// Plot panels of person counts: one per line and direction, each with the
/// truth of that line first and then every source that counts that line.
pub fn count_panels(rows: &[CountRow]) -> (Vec<u32>, Vec<(String, Vec<Series>)>) {
    let starts: Vec<u32> = rows.iter().map(|r| r.interval_start_s).collect::<BTreeSet<_>>().into_iter().collect();
    let persons: Vec<&CountRow> = rows.iter().filter(|r| r.class == "person").collect();
    let mut lines: Vec<&str> = Vec::new();
    for r in &persons {
        if !lines.contains(&r.line.as_str()) {
            lines.push(&r.line);
        }
    }
    let mut panels = Vec::new();
    for line in lines {
        let mut sources: Vec<&str> = Vec::new();
        for r in persons.iter().filter(|r| r.line == line) {
            if !sources.contains(&r.source.as_str()) {
                sources.push(&r.source);
            }
        }
        for dir in Direction::BOTH.map(Direction::name) {
            let cell = |src: &str, start: u32| {
                persons
                    .iter()
                    .find(|r| r.source == src && r.line == line && r.direction == dir && r.interval_start_s == start)
            };
            let mut series = Vec::new();
            if let Some(first) = sources.first() {
                series.push(Series {
                    label: "ground truth".into(),
                    values: starts.iter().map(|&t| cell(first, t).map_or(0, |r| r.ground_truth)).collect(),
                });
            }
            for src in &sources {
                series.push(Series {
                    label: (*src).into(),
                    values: starts.iter().map(|&t| cell(src, t).map_or(0, |r| r.count)).collect(),
                });
            }
            panels.push((format!("persons crossing line `{line}`, {dir} direction"), series));
        }
    }
    (starts, panels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tc(line: &str, t: f64, d: Direction) -> TimedCount {
        TimedCount {
            line: line.into(),
            time_s: t,
            class: ObjectClass::Person,
            direction: d,
            agent: None,
            counted_by: None,
        }
    }

    fn cell(line: &str, start: u32, d: Direction, count: u64) -> IntervalCount {
        IntervalCount {
            start_s: start,
            end_s: start + 10,
            line: line.into(),
            class: ObjectClass::Person,
            direction: d,
            count,
            withheld: false,
        }
    }

    #[test]
    fn a_summary_has_a_table_for_each_class_counted_or_crossing() {
        let row = |class: &str, count: u64, ground_truth: u64| ErrorRow {
            source: "camera:c".into(),
            line: "road".into(),
            class: class.into(),
            direction: "positive".into(),
            interval: "all".into(),
            count,
            ground_truth,
            wape: None,
            bias: None,
        };
        // Cars counted, a bus only in the truth, trucks neither: persons
        // (always), cars and buses get tables, trucks none.
        let errors = vec![row("person", 0, 0), row("car", 3, 0), row("bus", 0, 1), row("truck", 0, 0)];
        let md = error_tables(&errors);
        let titles: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
        assert_eq!(
            titles,
            [
                "## Count error per source (person)",
                "## Count error per source (car)",
                "## Count error per source (bus)"
            ]
        );
        assert!(md.contains("| camera:c | road | positive | 0 | 1 |"), "{md}");
    }

    #[test]
    fn each_source_is_joined_with_the_truth_of_its_own_line() {
        use Direction::*;
        let truth = vec![tc("a", 1.0, Positive), tc("a", 12.0, Positive), tc("b", 3.0, Negative)];
        let sources = vec![
            SourceCounts {
                source: "camera:c".into(),
                intervals: vec![cell("a", 0, Positive, 1), cell("a", 10, Positive, 0)],
            },
            SourceCounts { source: "infrared:i".into(), intervals: vec![cell("b", 0, Negative, 1)] },
        ];
        let rows = count_rows(&sources, &truth, 10, 20.0);
        let get = |src: &str, start: u32| {
            rows.iter().find(|r| r.source == src && r.interval_start_s == start).map(|r| (r.count, r.ground_truth))
        };
        assert_eq!(get("camera:c", 0), Some((1, 1)));
        assert_eq!(get("camera:c", 10), Some((0, 1)));
        assert_eq!(get("infrared:i", 0), Some((1, 1)), "the sensor is scored on line b, not on line a");
        let errors = error_rows(&rows);
        let cam_both = errors
            .iter()
            .find(|e| e.source == "camera:c" && e.direction == "both" && e.interval == "all")
            .expect("camera total");
        assert_eq!((cam_both.count, cam_both.ground_truth, cam_both.wape), (1, 2, Some(0.5)));
        let per_interval = errors
            .iter()
            .find(|e| e.source == "camera:c" && e.direction == "positive" && e.interval == "10-20")
            .expect("second interval");
        assert_eq!(per_interval.wape, Some(1.0));
    }

    #[test]
    fn the_split_tells_unseen_crossings_from_lost_and_extra_counts() {
        use Direction::*;
        let truth =
            vec![tc("a", 1.0, Positive), tc("a", 5.0, Positive), tc("a", 9.0, Positive), tc("a", 20.0, Positive)];
        let visible = [true, true, false, true];
        // Counts: one near 1 s, one near 9 s (a crossing the camera saw
        // badly), one at 30 s that matches nothing; 5 s and 20 s are lost.
        let counted = vec![tc("a", 1.3, Positive), tc("a", 8.0, Positive), tc("a", 30.0, Positive)];
        let CrossingReport { split, lost, extra, counted: rows } =
            split_crossings("camera:c", &["a".into()], &counted, &truth, &visible);
        let pos = split.iter().find(|s| s.direction == "positive" && s.class == "person").expect("positive");
        assert_eq!((pos.true_crossings, pos.visible_crossings, pos.counted, pos.counted_visible), (4, 3, 3, 1));
        assert_eq!((pos.counted_not_visible, pos.extra, pos.not_visible, pos.pipeline_lost), (1, 1, 1, 2));
        // The two lost ones, by time: where to look in the footage.
        assert_eq!(lost.iter().map(|l| l.time_s).collect::<Vec<_>>(), [5.0, 20.0]);
        assert!(lost.iter().all(|l| l.source == "camera:c" && l.direction == "positive" && l.line == "a"));
        // And the count that matched nothing.
        assert_eq!(extra.iter().map(|e| (e.time_s, e.direction.as_str())).collect::<Vec<_>>(), [(30.0, "positive")]);
        // Every count, with what it paired with: the one at 1.3 s with the
        // visible crossing at 1 s, 8 s with the badly seen one at 9 s, 30 s
        // with none.
        let paired: Vec<_> = rows.iter().map(|r| (r.time_s, r.paired, r.crossed_s)).collect();
        assert_eq!(paired, [(1.3, "visible", Some(1.0)), (8.0, "not_visible", Some(9.0)), (30.0, "extra", None)]);
    }

    /// A pair crosses together, one hidden behind the other: the one count
    /// goes to the visible walker even when the hidden one's time is nearer.
    #[test]
    fn a_count_near_a_visible_and_a_hidden_crossing_goes_to_the_visible_one() {
        use Direction::*;
        let truth = vec![tc("a", 8.97, Negative), tc("a", 8.99, Negative)];
        let counted = vec![tc("a", 8.99, Negative)];
        let CrossingReport { split, lost, extra, .. } =
            split_crossings("camera:c", &["a".into()], &counted, &truth, &[true, false]);
        assert!(lost.is_empty() && extra.is_empty(), "{lost:?} {extra:?}");
        let neg = split.iter().find(|s| s.direction == "negative" && s.class == "person").expect("negative");
        assert_eq!((neg.counted_visible, neg.counted_not_visible, neg.pipeline_lost, neg.not_visible), (1, 0, 0, 1));
    }

    #[test]
    fn counts_are_paired_so_that_as_many_crossings_as_possible_are_counted() {
        // Crossings at 0 and 2.5 s, counts at 1.9 and 4.4 s: 1.9 is nearer
        // 2.5, but only 1.9 can reach 0, and 4.4 reaches 2.5.
        assert_eq!(pair_counts(&[1.9, 4.4], &[0.0, 2.5], &[true, true]), [Some(0), Some(1)]);
        // The visible crossing at 1 s takes its nearest count (0.5 s) first;
        // the unseen one at 0 s can reach only that count, so the visible
        // one moves to 2.9 s and both are paired.
        assert_eq!(pair_counts(&[0.5, 2.9], &[0.0, 1.0], &[false, true]), [Some(0), Some(1)]);
        // A chain: each count is nearest the next crossing.
        let truths = [0.0, 1.5, 3.0, 4.5, 6.0];
        let counts = [1.4, 2.9, 4.4, 5.9, 7.4];
        assert_eq!(pair_counts(&counts, &truths, &[true; 5]), [Some(0), Some(1), Some(2), Some(3), Some(4)]);
        // One count near a visible and an unseen crossing: the visible one,
        // though the unseen one is nearer; the unseen one takes a count
        // only when none is left for the visible.
        assert_eq!(pair_counts(&[5.0], &[4.0, 5.0], &[true, false]), [Some(0)]);
        let mut both = pair_counts(&[5.0, 5.5], &[4.0, 5.0], &[true, false]);
        both.sort_unstable();
        assert_eq!(both, [Some(0), Some(1)]);
        // A crossing missed at the start of a busy stretch is the one
        // reported lost, not the last of the stretch, whose count is nearer
        // to it than to the crossing before.
        assert_eq!(pair_counts(&[1.05, 2.05, 3.05], &[0.0, 1.0, 2.0, 3.0], &[true; 4]), [Some(1), Some(2), Some(3)]);
        // Out of reach on both sides; nothing to pair.
        assert_eq!(pair_counts(&[10.0], &[7.9, 12.1], &[true, true]), [None]);
        assert!(pair_counts(&[], &[1.0], &[true]).is_empty());
    }

    #[test]
    fn the_interval_over_seeds_uses_students_t() {
        let m = mean_interval(&[0.1, 0.2, 0.3]).expect("values");
        assert!((m.mean - 0.2).abs() < 1e-12);
        // s = 0.1, t(2) = 4.303: half-width 4.303 × 0.1 / √3.
        assert!((m.high - m.mean - 4.303 * 0.1 / 3f64.sqrt()).abs() < 1e-9, "{m:?}");
        assert_eq!(mean_interval(&[0.5]).map(|m| (m.low, m.high)), Some((0.5, 0.5)));
        assert!(mean_interval(&[]).is_none());
    }

    #[test]
    fn panels_take_the_truth_of_the_line_they_show() {
        use Direction::*;
        let truth = vec![tc("a", 1.0, Positive), tc("b", 1.0, Positive), tc("b", 2.0, Positive)];
        let sources = vec![
            SourceCounts { source: "camera:c".into(), intervals: vec![cell("a", 0, Positive, 1)] },
            SourceCounts { source: "infrared:i".into(), intervals: vec![cell("b", 0, Positive, 2)] },
        ];
        let rows = count_rows(&sources, &truth, 10, 10.0);
        let (_, panels) = count_panels(&rows);
        let truth_of = |title: &str| {
            panels.iter().find(|(t, _)| t.contains(title)).map(|(_, s)| s[0].values.clone()).expect("panel")
        };
        assert_eq!(truth_of("line `a`, positive"), [1]);
        assert_eq!(truth_of("line `b`, positive"), [2]);
    }
}
