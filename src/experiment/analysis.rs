//! From finished jobs to answers: every means (a camera under a privacy
//! configuration, or a sensor) scored on each purpose over seeds, placed on
//! the intrusiveness scale, read against the French regulator's position,
//! the Pareto frontier of error against intrusiveness, and the least
//! intrusive means that meets each purpose.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use camtwin_analytics::legal::{self, CameraExposure, DataClass, Intrusion, LegalReading, MeansProfile, Verdict};
use camtwin_analytics::scoring::{MeanInterval, mean_interval};
use serde::Deserialize;

use super::file::{Experiment, Measure, Purpose};
use super::jobs::Job;

/// One cell of a job's `counts.csv`.
#[derive(Debug, Clone, Deserialize)]
struct CountCell {
    interval_start_s: u32,
    source: String,
    line: String,
    class: String,
    direction: String,
    count: u64,
    ground_truth: u64,
}

/// One row of a job's `errors.csv`.
#[derive(Debug, Clone, Deserialize)]
struct ErrorCell {
    source: String,
    line: String,
    class: String,
    direction: String,
    interval: String,
    wape: Option<f64>,
    bias: Option<f64>,
}

/// One row of a job's `intrusiveness.csv`: the run's own row type.
type ExposureRow = crate::run::IntrusionRow;

/// One row of a job's `sensors.csv`.
#[derive(Debug, Clone, Deserialize)]
struct InventoryRow {
    source: String,
    kind: String,
    data_kind: String,
    hardware_eur: f64,
    installation_eur: f64,
    operation_eur_per_year: f64,
    cost_basis: String,
}

/// One row of a job's `zones.csv` (camera zone counts).
#[derive(Debug, Clone, Deserialize)]
struct ZoneCell {
    source: String,
    zone: String,
    class: String,
    start_s: u32,
    max_occupancy: u32,
    truth_max_occupancy: u32,
    mean_occupancy: f64,
    truth_mean_occupancy: f64,
}

/// One row of a job's `occupancy.csv` (presence sensors).
#[derive(Debug, Clone, Deserialize)]
struct OccupancyCell {
    source: String,
    place: String,
    start_s: f64,
    occupied: u8,
    truth_occupied: u8,
}

/// What one job left behind.
#[derive(Debug, Default)]
struct JobData {
    counts: Vec<CountCell>,
    errors: Vec<ErrorCell>,
    exposure: Vec<ExposureRow>,
    inventory: Vec<InventoryRow>,
    zones: Vec<ZoneCell>,
    occupancy: Vec<OccupancyCell>,
}

fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path, required: bool) -> Result<Vec<T>> {
    if !path.exists() && !required {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (k, row) in reader.deserialize().enumerate() {
        out.push(row.with_context(|| format!("{}: row {} is not in the expected schema", path.display(), k + 2))?);
    }
    Ok(out)
}

fn load_job(dir: &Path) -> Result<JobData> {
    Ok(JobData {
        counts: read_csv(&dir.join("counts.csv"), true)?,
        errors: read_csv(&dir.join("errors.csv"), true)?,
        exposure: read_csv(&dir.join("intrusiveness.csv"), false)?,
        inventory: read_csv(&dir.join("sensors.csv"), false)?,
        zones: read_csv(&dir.join("zones.csv"), false)?,
        occupancy: read_csv(&dir.join("occupancy.csv"), false)?,
    })
}

/// A camera's settings as measured in its runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CameraSettings {
    /// Analysed image, pixels.
    pub width: u32,
    /// Analysed image, pixels.
    pub height: u32,
    /// Frames analysed per second.
    pub fps: f64,
    /// `none`, `centerface` or `truth`.
    pub face_blur: String,
    /// Number of masks.
    pub masks: usize,
    /// `edge` or `central`.
    pub mode: String,
    /// Seconds frames may be kept.
    pub retention_s: f64,
    /// Small-count suppression.
    pub k: u32,
    /// Laplace noise, if any.
    pub epsilon: Option<f64>,
}

/// One means of meeting a purpose in one scenario.
#[derive(Debug, Clone)]
pub struct Means {
    /// The scenario's name.
    pub scenario: String,
    /// `camera:<id>` or `<sensor kind>:<id>`.
    pub source: String,
    /// The privacy configuration (cameras only).
    pub config: Option<String>,
    /// Short label for plots and tables.
    pub label: String,
    /// Whether it is a camera.
    pub camera: bool,
    /// The camera's settings.
    pub settings: Option<CameraSettings>,
    /// Exposure measured from ground truth, mean over seeds (cameras).
    pub exposure: Option<CameraExposure>,
    /// The kind of data it produces.
    pub data: DataClass,
    /// The name of that kind in the runs' outputs.
    pub data_kind: String,
    /// Position on the ordinal intrusiveness scale.
    pub intrusion: Intrusion,
    /// Hardware, installation, operation per year, euros; and their basis.
    pub cost: (f64, f64, f64, String),
    /// Classes it ever counted in the experiment.
    pub classes: BTreeSet<String>,
}

impl Means {
    /// Cost of the first year: hardware, installation and a year of operation.
    pub fn first_year_eur(&self) -> f64 {
        self.cost.0 + self.cost.1 + self.cost.2
    }
}

/// How one means serves one purpose.
#[derive(Debug, Clone)]
pub struct Score {
    /// Index into [`Analysis::means`].
    pub means: usize,
    /// The purpose's name.
    pub purpose: String,
    /// Error over seeds; `None` when the means cannot serve the purpose.
    pub error: Option<MeanInterval>,
    /// Error per interval start, over seeds.
    pub by_interval: Vec<(u32, MeanInterval)>,
    /// Why it cannot serve, when it cannot.
    pub cannot: Option<String>,
    /// The legal reading for the purpose's use.
    pub legal: LegalReading,
    /// On the Pareto frontier of error against intrusiveness.
    pub frontier: bool,
}

/// One whole-run or per-interval error of one means, over seeds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ErrorOverSeeds {
    /// Scenario.
    pub scenario: String,
    /// Means label.
    pub means: String,
    /// Source.
    pub source: String,
    /// Configuration, if a camera.
    pub config: String,
    /// Line.
    pub line: String,
    /// Class.
    pub class: String,
    /// Direction.
    pub direction: String,
    /// `all` or `<start>-<end>`.
    pub interval: String,
    /// Seeds with a defined error.
    pub seeds: usize,
    /// Mean WAPE.
    pub wape_mean: f64,
    /// 95 % interval.
    pub wape_low: f64,
    /// 95 % interval.
    pub wape_high: f64,
    /// Mean bias.
    pub bias_mean: f64,
}

/// Column names of the experiment's `errors.csv`.
pub const ERRORS_HEADER: [&str; 13] = [
    "scenario",
    "means",
    "source",
    "config",
    "line",
    "class",
    "direction",
    "interval",
    "seeds",
    "wape_mean",
    "wape_low",
    "wape_high",
    "bias_mean",
];

/// The recommendation for one scenario and purpose.
#[derive(Debug, Clone)]
pub struct Recommendation {
    /// Scenario.
    pub scenario: String,
    /// Purpose.
    pub purpose: String,
    /// Indices into [`Analysis::scores`], least intrusive first: the means
    /// that meet the purpose on average and may be used for it.
    pub meeting: Vec<usize>,
    /// The score closest to the requirement, when none meets it.
    pub closest: Option<usize>,
    /// Means that meet the error but that the legal reading bars for this use.
    pub barred: Vec<usize>,
}

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Every means.
    pub means: Vec<Means>,
    /// Every means on every purpose.
    pub scores: Vec<Score>,
    /// Errors per class, direction and interval, over seeds.
    pub errors: Vec<ErrorOverSeeds>,
    /// One per scenario and purpose.
    pub recommendations: Vec<Recommendation>,
    /// Jobs found.
    pub jobs: usize,
    /// Jobs missing (failed or not run).
    pub missing: Vec<String>,
}

/// Key of a means: scenario, source, configuration.
type MeansKey = (String, String, Option<String>);

/// Reads every finished job and scores every means on every purpose.
pub fn analyse(exp: &Experiment, jobs: &[Job], jobs_dir: &Path) -> Result<Analysis> {
    let mut data: Vec<(&Job, JobData)> = Vec::new();
    let mut missing = Vec::new();
    for j in jobs {
        if super::jobs::finished(jobs_dir, j).is_none() {
            missing.push(j.id.clone());
            continue;
        }
        data.push((j, load_job(&jobs_dir.join(&j.id)).with_context(|| format!("job {}", j.id))?));
    }
    // Per means: the seeds' data. Cameras per configuration; sensors from
    // the first configuration run for each seed (they do not depend on it).
    let mut per_means: BTreeMap<MeansKey, Vec<(u64, usize)>> = BTreeMap::new();
    for (k, (job, d)) in data.iter().enumerate() {
        let scenario = &exp.scenarios[job.scenario];
        // Line counters appear in the counts, every sensor in the inventory.
        let sources: BTreeSet<&str> =
            d.counts.iter().map(|c| c.source.as_str()).chain(d.inventory.iter().map(|r| r.source.as_str())).collect();
        for source in sources {
            let camera = source.starts_with("camera:");
            let sensor_id = source.split_once(':').map_or(source, |(_, id)| id);
            if !camera && !scenario.sensors.iter().any(|s| s == sensor_id) {
                continue;
            }
            let key = (scenario.name.clone(), source.to_string(), camera.then(|| job.config.clone()));
            let seeds = per_means.entry(key).or_default();
            if !seeds.iter().any(|(s, _)| *s == job.seed) {
                seeds.push((job.seed, k));
            }
        }
    }
    let cost = exp.camera_cost();
    let mut means = Vec::new();
    let mut runs: Vec<Vec<usize>> = Vec::new();
    for ((scenario, source, config), seeds) in &per_means {
        let idx: Vec<usize> = seeds.iter().map(|(_, k)| *k).collect();
        let classes: BTreeSet<String> = idx
            .iter()
            .flat_map(|&k| data[k].1.counts.iter())
            .filter(|c| c.source == *source && c.count > 0)
            .map(|c| c.class.clone())
            .collect();
        let id = source.split_once(':').map_or(source.as_str(), |(_, id)| id);
        let m = if let Some(config) = config {
            let rows: Vec<&ExposureRow> = idx
                .iter()
                .flat_map(|&k| data[k].1.exposure.iter())
                .filter(|r| r.camera == id && r.config == *config)
                .collect();
            let Some(first) = rows.first() else { continue };
            let mean = |f: &dyn Fn(&ExposureRow) -> f64| rows.iter().map(|r| f(r)).sum::<f64>() / rows.len() as f64;
            let exposure = CameraExposure {
                person_s_in_view: mean(&|r| r.person_s_in_view),
                face_s_identifiable: mean(&|r| r.face_s_identifiable),
                share_observe_or_more: mean(&|r| r.share_observe + r.share_recognise + r.share_identify),
                sensitive_person_s: mean(&|r| r.sensitive_person_s),
                child_person_s: mean(&|r| r.child_person_s),
                bytes_per_hour: mean(&|r| r.bytes_per_hour),
                retention_s: first.retention_s,
                max_frame_lifetime_s: rows.iter().map(|r| r.max_frame_lifetime_s).fold(0.0, f64::max),
                masks: first.masks,
                face_blur: first.face_blur != "none",
                k: first.k,
                epsilon: first.epsilon,
                median_ppm: mean(&|r| r.median_ppm),
                frames_per_s: first.fps,
            };
            let data_class = DataClass::from_name(&first.data_kind).unwrap_or(DataClass::ImagesLeaveDevice);
            let profile = MeansProfile { camera: Some(exposure.clone()), data: data_class };
            Means {
                scenario: scenario.clone(),
                source: source.clone(),
                config: Some(config.clone()),
                label: format!("{id} · {config}"),
                camera: true,
                settings: Some(CameraSettings {
                    width: first.analysed_width,
                    height: first.analysed_height,
                    fps: first.fps,
                    face_blur: first.face_blur.clone(),
                    masks: first.masks,
                    mode: first.mode.clone(),
                    retention_s: first.retention_s,
                    k: first.k,
                    epsilon: first.epsilon,
                }),
                exposure: Some(exposure),
                data: data_class,
                data_kind: first.data_kind.clone(),
                intrusion: legal::intrusion(&profile),
                cost: (
                    cost.hardware_eur,
                    cost.installation_eur,
                    cost.operation_eur_per_year,
                    "assumed (docs/EXPERIMENTS.md)".into(),
                ),
                classes,
            }
        } else {
            let inv = idx.iter().flat_map(|&k| data[k].1.inventory.iter()).find(|r| r.source == *source);
            let data_kind = inv.map_or("none_personal".to_string(), |r| r.data_kind.clone());
            let data_class = DataClass::from_name(&data_kind).unwrap_or(DataClass::NonePersonal);
            let profile = MeansProfile { camera: None, data: data_class };
            Means {
                scenario: scenario.clone(),
                source: source.clone(),
                config: None,
                label: source.replace(':', " "),
                camera: false,
                settings: None,
                exposure: None,
                data: data_class,
                data_kind,
                intrusion: legal::intrusion(&profile),
                cost: inv.map_or((0.0, 0.0, 0.0, String::new()), |r| {
                    (
                        r.hardware_eur,
                        r.installation_eur,
                        r.operation_eur_per_year,
                        format!("{}: {}", r.kind, r.cost_basis),
                    )
                }),
                classes,
            }
        };
        means.push(m);
        runs.push(idx);
    }
    let mut scores = Vec::new();
    for (mi, m) in means.iter().enumerate() {
        let profile = MeansProfile { camera: m.exposure.clone(), data: m.data };
        for p in &exp.file.purposes {
            let seeds: Vec<&JobData> = runs[mi].iter().map(|&k| &data[k].1).collect();
            let (error, by_interval, cannot) = utility(m, p, &seeds);
            scores.push(Score {
                means: mi,
                purpose: p.name.clone(),
                error,
                by_interval,
                cannot,
                legal: legal::reading(&profile, p.use_),
                frontier: false,
            });
        }
    }
    mark_frontier(&means, &mut scores);
    let errors = errors_over_seeds(&means, &runs, &data);
    let mut recommendations = Vec::new();
    for s in &exp.scenarios {
        for p in &exp.file.purposes {
            recommendations.push(recommend(&means, &scores, &s.name, p));
        }
    }
    Ok(Analysis { means, scores, errors, recommendations, jobs: data.len(), missing })
}

/// Whether a reading allows the means for its use.
pub fn allowed(v: Verdict) -> bool {
    !matches!(v, Verdict::NeedsSpecificLaw | Verdict::Prohibited)
}

/// Why a sensor that counted only in `directions` cannot serve a purpose
/// wanting `wanted` ("positive", "negative" or "both"): a sensor over one
/// lane counts one direction. `None` when it can.
fn other_lane(directions: &BTreeSet<&str>, wanted: &str) -> Option<&'static str> {
    if directions.len() != 1 || directions.contains(wanted) {
        return None;
    }
    Some(if wanted == "both" {
        "it counts one direction only (one lane)"
    } else {
        "it does not count this direction (another lane)"
    })
}

/// The error of one means on one purpose over its seeds, per interval, or why
/// it cannot serve it.
fn utility(
    m: &Means,
    p: &Purpose,
    seeds: &[&JobData],
) -> (Option<MeanInterval>, Vec<(u32, MeanInterval)>, Option<String>) {
    let serves_class = p.classes.iter().any(|c| m.classes.contains(c)) || m.camera;
    match p.measure {
        Measure::Count | Measure::ClassSplit => {
            if !serves_class {
                return (None, Vec::new(), Some(format!("it never counted {}", p.classes.join(" or "))));
            }
            if p.measure == Measure::ClassSplit
                && !m.camera
                && p.classes.iter().filter(|c| m.classes.contains(*c)).count() < 2
            {
                return (None, Vec::new(), Some("it does not tell these classes apart".into()));
            }
            // A sensor that sees one lane (an inductive loop) counts one
            // direction: it cannot serve the other, nor both.
            if !m.camera && p.measure == Measure::Count {
                let directions: BTreeSet<&str> = seeds
                    .iter()
                    .flat_map(|d| d.counts.iter())
                    .filter(|c| c.source == m.source && c.count > 0)
                    .filter(|c| p.line.as_ref().is_none_or(|l| *l == c.line))
                    .map(|c| c.direction.as_str())
                    .collect();
                if let Some(why) = other_lane(&directions, &p.direction) {
                    return (None, Vec::new(), Some(why.into()));
                }
            }
            let mut whole = Vec::new();
            let mut per: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
            for d in seeds {
                let cells: Vec<&CountCell> = d
                    .counts
                    .iter()
                    .filter(|c| c.source == m.source)
                    .filter(|c| p.line.as_ref().is_none_or(|l| *l == c.line))
                    .filter(|c| p.classes.contains(&c.class))
                    .filter(|c| p.direction == "both" || c.direction == p.direction)
                    .collect();
                if cells.is_empty() {
                    continue;
                }
                let f = if p.measure == Measure::Count { count_error } else { split_error };
                if let Some(e) = f(&cells, &p.classes) {
                    whole.push(e);
                }
                let starts: BTreeSet<u32> = cells.iter().map(|c| c.interval_start_s).collect();
                for s in starts {
                    let of: Vec<&CountCell> = cells.iter().copied().filter(|c| c.interval_start_s == s).collect();
                    if let Some(e) = f(&of, &p.classes) {
                        per.entry(s).or_default().push(e);
                    }
                }
            }
            if whole.is_empty() {
                return (None, Vec::new(), Some("it does not count this line".into()));
            }
            let by: Vec<(u32, MeanInterval)> =
                per.into_iter().filter_map(|(s, v)| Some((s, mean_interval(&v)?))).collect();
            (mean_interval(&whole), by, None)
        }
        Measure::Occupancy => {
            let zone = p.zone.clone().unwrap_or_default();
            let mut whole = Vec::new();
            let mut per: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
            for d in seeds {
                let cells: Vec<(u32, bool, bool)> = if m.camera {
                    d.zones
                        .iter()
                        .filter(|z| z.source == m.source && z.zone == zone && z.class == "person")
                        .map(|z| (z.start_s, z.max_occupancy > 0, z.truth_max_occupancy > 0))
                        .collect()
                } else {
                    d.occupancy
                        .iter()
                        .filter(|o| o.source == m.source && o.place == zone)
                        .map(|o| (o.start_s.round() as u32, o.occupied > 0, o.truth_occupied > 0))
                        .collect()
                };
                if cells.is_empty() {
                    continue;
                }
                let wrong = cells.iter().filter(|(_, a, b)| a != b).count();
                whole.push(wrong as f64 / cells.len() as f64);
                for (s, a, b) in cells {
                    per.entry(s).or_default().push(if a == b { 0.0 } else { 1.0 });
                }
            }
            if whole.is_empty() {
                return (None, Vec::new(), Some(format!("it does not watch zone `{zone}`")));
            }
            let by: Vec<(u32, MeanInterval)> =
                per.into_iter().filter_map(|(s, v)| Some((s, mean_interval(&v)?))).collect();
            (mean_interval(&whole), by, None)
        }
        Measure::Headcount => {
            let zone = p.zone.clone().unwrap_or_default();
            if !m.camera {
                let watches = seeds.iter().any(|d| d.occupancy.iter().any(|o| o.source == m.source && o.place == zone));
                let why = if watches {
                    format!("it tells whether zone `{zone}` is occupied, not how many are in it")
                } else {
                    format!("it does not watch zone `{zone}`")
                };
                return (None, Vec::new(), Some(why));
            }
            let mut whole = Vec::new();
            let mut per: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
            for d in seeds {
                let cells: Vec<(u32, f64, f64)> = d
                    .zones
                    .iter()
                    .filter(|z| z.source == m.source && z.zone == zone && z.class == "person")
                    .map(|z| (z.start_s, z.mean_occupancy, z.truth_mean_occupancy))
                    .collect();
                if let Some(e) = headcount_error(&cells) {
                    whole.push(e);
                }
                for (s, a, b) in cells {
                    if let Some(e) = headcount_error(&[(s, a, b)]) {
                        per.entry(s).or_default().push(e);
                    }
                }
            }
            if whole.is_empty() {
                return (None, Vec::new(), Some(format!("it does not watch zone `{zone}`, or nobody was ever in it")));
            }
            let by: Vec<(u32, MeanInterval)> =
                per.into_iter().filter_map(|(s, v)| Some((s, mean_interval(&v)?))).collect();
            (mean_interval(&whole), by, None)
        }
    }
}

/// Headcount error over intervals `(start, counted mean, true mean)`:
/// `Σ|counted − true| / Σ true`, the WAPE of the mean number inside; `None`
/// when the zone was always truly empty.
fn headcount_error(cells: &[(u32, f64, f64)]) -> Option<f64> {
    let truth: f64 = cells.iter().map(|c| c.2).sum();
    (truth > 0.0).then(|| cells.iter().map(|c| (c.1 - c.2).abs()).sum::<f64>() / truth)
}

/// WAPE over the cells: `Σ|count − truth| / Σ truth`, the classes of a
/// purpose counted together first (a purpose counting "car + truck" wants
/// the total: a van counted as a car is not an error, and a loop, which
/// calls every vehicle a car, is judged on what it counts), intervals and
/// directions apart; `None` when nothing truly crossed.
fn count_error(cells: &[&CountCell], _classes: &[String]) -> Option<f64> {
    let mut summed: BTreeMap<(u32, &str), (u64, u64)> = BTreeMap::new();
    for c in cells {
        let e = summed.entry((c.interval_start_s, c.direction.as_str())).or_default();
        e.0 += c.count;
        e.1 += c.ground_truth;
    }
    let truth: u64 = summed.values().map(|v| v.1).sum();
    (truth > 0).then(|| summed.values().map(|v| v.0.abs_diff(v.1)).sum::<u64>() as f64 / truth as f64)
}

/// Class-split error: half the sum over classes of the absolute difference
/// between the counted and the true share (the total variation distance, 0
/// to 1); 1 when the source counted nothing; `None` when nothing truly crossed.
fn split_error(cells: &[&CountCell], classes: &[String]) -> Option<f64> {
    let sum = |c: &str, f: fn(&CountCell) -> u64| cells.iter().filter(|x| x.class == c).map(|x| f(x)).sum::<u64>();
    let truth: Vec<u64> = classes.iter().map(|c| sum(c, |x| x.ground_truth)).collect();
    let counted: Vec<u64> = classes.iter().map(|c| sum(c, |x| x.count)).collect();
    let (t, n) = (truth.iter().sum::<u64>(), counted.iter().sum::<u64>());
    if t == 0 {
        return None;
    }
    if n == 0 {
        return Some(1.0);
    }
    Some(
        truth.iter().zip(&counted).map(|(a, b)| (*a as f64 / t as f64 - *b as f64 / n as f64).abs()).sum::<f64>() / 2.0,
    )
}

/// Marks, per scenario and purpose, the means no other means beats on both
/// error and intrusiveness (lower or equal on both, lower on one).
fn mark_frontier(means: &[Means], scores: &mut [Score]) {
    let keys: Vec<(String, String)> = scores
        .iter()
        .map(|s| (means[s.means].scenario.clone(), s.purpose.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for (scenario, purpose) in keys {
        let members: Vec<usize> = (0..scores.len())
            .filter(|&k| {
                scores[k].purpose == purpose && means[scores[k].means].scenario == scenario && scores[k].error.is_some()
            })
            .collect();
        let points: Vec<(usize, f64, f64)> = members
            .iter()
            .map(|&k| (k, means[scores[k].means].intrusion.score, scores[k].error.map_or(f64::INFINITY, |e| e.mean)))
            .collect();
        for &(a, xa, ya) in &points {
            let dominated = points.iter().any(|&(b, xb, yb)| b != a && xb <= xa && yb <= ya && (xb < xa || yb < ya));
            scores[a].frontier = !dominated;
        }
    }
}

/// The least intrusive means that meet the purpose on average and that the
/// legal reading allows for its use; ties go to the smaller error, then the
/// lower cost.
fn recommend(means: &[Means], scores: &[Score], scenario: &str, p: &Purpose) -> Recommendation {
    let of: Vec<usize> = (0..scores.len())
        .filter(|&k| scores[k].purpose == p.name && means[scores[k].means].scenario == scenario)
        .collect();
    let meets = |k: usize| scores[k].error.is_some_and(|e| e.mean <= p.max_error);
    let key = |k: usize| {
        let m = &means[scores[k].means];
        (m.intrusion.score, scores[k].error.map_or(f64::INFINITY, |e| e.mean), m.first_year_eur())
    };
    let sort = |v: &mut Vec<usize>| {
        v.sort_by(|&a, &b| {
            let (ka, kb) = (key(a), key(b));
            ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(ka.2.total_cmp(&kb.2))
        })
    };
    let mut meeting: Vec<usize> =
        of.iter().copied().filter(|&k| meets(k) && allowed(scores[k].legal.verdict)).collect();
    sort(&mut meeting);
    let mut barred: Vec<usize> =
        of.iter().copied().filter(|&k| meets(k) && !allowed(scores[k].legal.verdict)).collect();
    sort(&mut barred);
    let closest = if meeting.is_empty() {
        of.iter()
            .copied()
            .filter(|&k| scores[k].error.is_some() && allowed(scores[k].legal.verdict))
            .min_by(|&a, &b| key(a).1.total_cmp(&key(b).1))
    } else {
        None
    };
    Recommendation { scenario: scenario.into(), purpose: p.name.clone(), meeting, closest, barred }
}

/// Every error of every means (per line, class, direction, and interval or
/// whole run) as a mean and 95 % interval over seeds.
fn errors_over_seeds(means: &[Means], runs: &[Vec<usize>], data: &[(&Job, JobData)]) -> Vec<ErrorOverSeeds> {
    let mut out = Vec::new();
    for (m, idx) in means.iter().zip(runs) {
        // (line, class, direction, interval) → WAPEs and biases over seeds.
        let mut groups: BTreeMap<[String; 4], (Vec<f64>, Vec<f64>)> = BTreeMap::new();
        for &k in idx {
            for e in data[k].1.errors.iter().filter(|e| e.source == m.source) {
                let g = groups
                    .entry([e.line.clone(), e.class.clone(), e.direction.clone(), e.interval.clone()])
                    .or_default();
                if let (Some(w), Some(b)) = (e.wape, e.bias) {
                    g.0.push(w);
                    g.1.push(b);
                }
            }
        }
        for ([line, class, direction, interval], (w, b)) in groups {
            let (Some(w), Some(b)) = (mean_interval(&w), mean_interval(&b)) else { continue };
            out.push(ErrorOverSeeds {
                scenario: m.scenario.clone(),
                means: m.label.clone(),
                source: m.source.clone(),
                config: m.config.clone().unwrap_or_default(),
                line,
                class,
                direction,
                interval,
                seeds: w.n,
                wape_mean: w.mean,
                wape_low: w.low,
                wape_high: w.high,
                bias_mean: b.mean,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(class: &str, start: u32, count: u64, truth: u64) -> CountCell {
        CountCell {
            interval_start_s: start,
            source: "camera:a".into(),
            line: "l".into(),
            class: class.into(),
            direction: "positive".into(),
            count,
            ground_truth: truth,
        }
    }

    #[test]
    fn headcount_error_is_wape_of_the_mean_inside() {
        // 1.0 against 2.0, then 3.5 against 3.0: (1.0 + 0.5) / 5.0.
        let e = headcount_error(&[(0, 1.0, 2.0), (15, 3.5, 3.0)]).expect("someone inside");
        assert!((e - 0.3).abs() < 1e-12, "{e}");
        assert_eq!(headcount_error(&[(0, 0.5, 0.0)]), None, "never truly occupied");
    }

    #[test]
    fn a_sensor_over_one_lane_serves_its_direction_only() {
        let one: BTreeSet<&str> = ["positive"].into();
        assert_eq!(other_lane(&one, "positive"), None);
        assert!(other_lane(&one, "negative").is_some_and(|w| w.contains("another lane")));
        assert!(other_lane(&one, "both").is_some_and(|w| w.contains("one direction only")));
        // Counting both ways, or never counting (judged elsewhere): no objection.
        let two: BTreeSet<&str> = ["positive", "negative"].into();
        assert_eq!(other_lane(&two, "both"), None);
        assert_eq!(other_lane(&BTreeSet::new(), "negative"), None);
    }

    #[test]
    fn count_error_is_wape_over_cells() {
        let cells = [cell("person", 0, 8, 10), cell("person", 60, 12, 10)];
        let refs: Vec<&CountCell> = cells.iter().collect();
        // |8 − 10| + |12 − 10| over 20: errors in two intervals do not cancel.
        assert_eq!(count_error(&refs, &[]), Some(0.2));
        assert_eq!(count_error(&[&cell("person", 0, 3, 0)], &[]), None);
        // Classes of one purpose count together: a van counted as a car is
        // the right total; directions and intervals stay apart.
        let mixed = [cell("car", 0, 10, 8), cell("truck", 0, 0, 2), cell("car", 60, 5, 5)];
        assert_eq!(count_error(&mixed.iter().collect::<Vec<_>>(), &[]), Some(0.0));
        let mut west = cell("car", 0, 0, 5);
        west.direction = "negative".into();
        let ways = [cell("car", 0, 5, 0), west];
        assert_eq!(count_error(&ways.iter().collect::<Vec<_>>(), &[]), Some(2.0));
    }

    #[test]
    fn split_error_is_the_distance_between_shares() {
        let classes = vec!["person".to_string(), "bicycle".to_string()];
        // Truth 80/20; counted 40/10: the same split, no error.
        let same = [cell("person", 0, 40, 80), cell("bicycle", 0, 10, 20)];
        assert_eq!(split_error(&same.iter().collect::<Vec<_>>(), &classes), Some(0.0));
        // Counted persons only: 20 share points off.
        let blind = [cell("person", 0, 90, 80), cell("bicycle", 0, 0, 20)];
        let e = split_error(&blind.iter().collect::<Vec<_>>(), &classes).unwrap_or(f64::NAN);
        assert!((e - 0.2).abs() < 1e-12, "{e}");
        let none = [cell("person", 0, 0, 80)];
        assert_eq!(split_error(&none.iter().collect::<Vec<_>>(), &classes), Some(1.0));
    }
}
