//! The experiment's outputs: CSV tables (every means, every error, every
//! figure's data), plots (PNG and SVG), `report.md` and a self-contained
//! `report.html` with the plots embedded.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine as _;
use camtwin_analytics::legal;
use camtwin_analytics::plots::{self, Curve, MeansPoint, PlotText};
use camtwin_analytics::report::{DEFAULT_FONT, write_atomic, write_csv};
use camtwin_analytics::scoring::MeanInterval;

use super::analysis::{Analysis, ERRORS_HEADER, Means, Score};
use super::file::{Experiment, Purpose};

/// One row of `means.csv`: one means on one purpose.
#[derive(Debug, serde::Serialize)]
struct MeansRow {
    scenario: String,
    purpose: String,
    measure: &'static str,
    means: String,
    kind: &'static str,
    source: String,
    config: String,
    seeds: usize,
    error_mean: Option<f64>,
    error_low: Option<f64>,
    error_high: Option<f64>,
    max_error: f64,
    meets: bool,
    meets_at_95: bool,
    cannot_serve: String,
    intrusion_level: u8,
    intrusion_name: &'static str,
    intrusion_score: f64,
    on_frontier: bool,
    data_kind: String,
    legal_reading: &'static str,
    hardware_eur: f64,
    installation_eur: f64,
    operation_eur_per_year: f64,
    first_year_eur: f64,
    analysed_width: Option<u32>,
    analysed_height: Option<u32>,
    fps: Option<f64>,
    face_blur: String,
    mode: String,
    retention_s: Option<f64>,
    k: Option<u32>,
    epsilon: Option<f64>,
    face_s_identifiable: Option<f64>,
    share_observe_or_more: Option<f64>,
    sensitive_person_s: Option<f64>,
    child_person_s: Option<f64>,
    bytes_per_hour: Option<f64>,
    max_frame_lifetime_s: Option<f64>,
    legal_reasons: String,
    legal_conditions: String,
}

const MEANS_HEADER: [&str; 41] = [
    "scenario",
    "purpose",
    "measure",
    "means",
    "kind",
    "source",
    "config",
    "seeds",
    "error_mean",
    "error_low",
    "error_high",
    "max_error",
    "meets",
    "meets_at_95",
    "cannot_serve",
    "intrusion_level",
    "intrusion_name",
    "intrusion_score",
    "on_frontier",
    "data_kind",
    "legal_reading",
    "hardware_eur",
    "installation_eur",
    "operation_eur_per_year",
    "first_year_eur",
    "analysed_width",
    "analysed_height",
    "fps",
    "face_blur",
    "mode",
    "retention_s",
    "k",
    "epsilon",
    "face_s_identifiable",
    "share_observe_or_more",
    "sensitive_person_s",
    "child_person_s",
    "bytes_per_hour",
    "max_frame_lifetime_s",
    "legal_reasons",
    "legal_conditions",
];

/// One row of a figure's CSV: one point (or one point of a curve).
#[derive(Debug, serde::Serialize)]
struct FigureRow {
    series: String,
    kind: &'static str,
    x: f64,
    error_mean: f64,
    error_low: f64,
    error_high: f64,
    seeds: usize,
    on_frontier: bool,
}

const FIGURE_HEADER: [&str; 8] =
    ["series", "kind", "x", "error_mean", "error_low", "error_high", "seeds", "on_frontier"];

/// One row of `recommendations.csv`.
#[derive(Debug, serde::Serialize)]
struct RecommendationRow {
    scenario: String,
    purpose: String,
    rank: usize,
    status: &'static str,
    means: String,
    error_mean: f64,
    error_high: f64,
    intrusion_score: f64,
    legal_reading: &'static str,
}

const RECOMMENDATION_HEADER: [&str; 9] =
    ["scenario", "purpose", "rank", "status", "means", "error_mean", "error_high", "intrusion_score", "legal_reading"];

fn pct(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

fn interval_text(e: &MeanInterval) -> String {
    if e.n > 1 { format!("{} [{}, {}]", pct(e.mean), pct(e.low.max(0.0)), pct(e.high)) } else { pct(e.mean) }
}

/// Writes every output of the experiment into `dir`.
pub fn write(exp: &Experiment, a: &Analysis, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir.join("plots")).with_context(|| format!("cannot create {}", dir.display()))?;
    let purposes = &exp.file.purposes;
    let purpose = |name: &str| purposes.iter().find(|p| p.name == name);
    let rows: Vec<MeansRow> = a
        .scores
        .iter()
        .filter_map(|s| {
            let p = purpose(&s.purpose)?;
            Some(means_row(&a.means[s.means], s, p))
        })
        .collect();
    write_csv(&dir.join("means.csv"), &rows, &MEANS_HEADER)?;
    write_csv(&dir.join("errors.csv"), &a.errors, &ERRORS_HEADER)?;
    let mut recs = Vec::new();
    for r in &a.recommendations {
        let row = |rank: usize, status: &'static str, k: usize| {
            let s = &a.scores[k];
            let m = &a.means[s.means];
            RecommendationRow {
                scenario: r.scenario.clone(),
                purpose: r.purpose.clone(),
                rank,
                status,
                means: m.label.clone(),
                error_mean: s.error.map_or(f64::NAN, |e| e.mean),
                error_high: s.error.map_or(f64::NAN, |e| e.high),
                intrusion_score: m.intrusion.score,
                legal_reading: s.legal.verdict.label(),
            }
        };
        recs.extend(r.meeting.iter().enumerate().map(|(i, &k)| row(i + 1, "meets", k)));
        recs.extend(r.closest.map(|k| row(0, "closest (none meets)", k)));
        recs.extend(r.barred.iter().map(|&k| row(0, "meets but barred for this use", k)));
    }
    write_csv(&dir.join("recommendations.csv"), &recs, &RECOMMENDATION_HEADER)?;
    let figures = draw_figures(exp, a, dir)?;
    let md = markdown(exp, a, &figures);
    write_atomic(&dir.join("report.md"), md.as_bytes())
        .with_context(|| format!("cannot write {}/report.md", dir.display()))?;
    let html = html(&md, &exp.file.experiment.name, dir)?;
    write_atomic(&dir.join("report.html"), html.as_bytes())
        .with_context(|| format!("cannot write {}/report.html", dir.display()))?;
    Ok(())
}

fn means_row(m: &Means, s: &Score, p: &Purpose) -> MeansRow {
    let set = m.settings.as_ref();
    let ex = m.exposure.as_ref();
    MeansRow {
        scenario: m.scenario.clone(),
        purpose: p.name.clone(),
        measure: p.measure.name(),
        means: m.label.clone(),
        kind: if m.camera { "camera" } else { "sensor" },
        source: m.source.clone(),
        config: m.config.clone().unwrap_or_default(),
        seeds: s.error.map_or(0, |e| e.n),
        error_mean: s.error.map(|e| e.mean),
        error_low: s.error.map(|e| e.low),
        error_high: s.error.map(|e| e.high),
        max_error: p.max_error,
        meets: s.error.is_some_and(|e| e.mean <= p.max_error),
        meets_at_95: s.error.is_some_and(|e| e.high <= p.max_error),
        cannot_serve: s.cannot.clone().unwrap_or_default(),
        intrusion_level: m.intrusion.level,
        intrusion_name: m.intrusion.name,
        intrusion_score: m.intrusion.score,
        on_frontier: s.frontier,
        data_kind: m.data_kind.clone(),
        legal_reading: s.legal.verdict.label(),
        hardware_eur: m.cost.0,
        installation_eur: m.cost.1,
        operation_eur_per_year: m.cost.2,
        first_year_eur: m.first_year_eur(),
        analysed_width: set.map(|c| c.width),
        analysed_height: set.map(|c| c.height),
        fps: set.map(|c| c.fps),
        face_blur: set.map(|c| c.face_blur.clone()).unwrap_or_default(),
        mode: set.map(|c| c.mode.clone()).unwrap_or_default(),
        retention_s: set.map(|c| c.retention_s),
        k: set.map(|c| c.k),
        epsilon: set.and_then(|c| c.epsilon),
        face_s_identifiable: ex.map(|e| e.face_s_identifiable),
        share_observe_or_more: ex.map(|e| e.share_observe_or_more),
        sensitive_person_s: ex.map(|e| e.sensitive_person_s),
        child_person_s: ex.map(|e| e.child_person_s),
        bytes_per_hour: ex.map(|e| e.bytes_per_hour),
        max_frame_lifetime_s: ex.map(|e| e.max_frame_lifetime_s),
        legal_reasons: s.legal.reasons.join(" | "),
        legal_conditions: s.legal.conditions.join(" | "),
    }
}

/// The plots of one scenario and purpose, as paths relative to the
/// experiment folder, with the question each answers.
#[derive(Debug, Default)]
struct Figures {
    /// (scenario, purpose) → [(caption, png path relative to the folder)].
    list: Vec<((String, String), Vec<Caption>)>,
}

/// A figure's caption and its PNG's path relative to the experiment folder.
type Caption = (String, String);

fn figure_csv(path: &Path, rows: &[FigureRow]) -> Result<()> {
    write_csv(path, rows, &FIGURE_HEADER).map_err(anyhow::Error::from)
}

fn point_rows(points: &[MeansPoint]) -> Vec<FigureRow> {
    points
        .iter()
        .map(|p| FigureRow {
            series: p.label.clone(),
            kind: if p.camera { "camera" } else { "sensor" },
            x: p.x,
            error_mean: p.error.mean,
            error_low: p.error.low,
            error_high: p.error.high,
            seeds: p.error.n,
            on_frontier: p.frontier,
        })
        .collect()
}

fn curve_rows(curves: &[Curve]) -> Vec<FigureRow> {
    curves
        .iter()
        .flat_map(|c| {
            c.points.iter().map(|(x, e)| FigureRow {
                series: c.label.clone(),
                kind: if c.camera { "camera" } else { "sensor" },
                x: *x,
                error_mean: e.mean,
                error_low: e.low,
                error_high: e.high,
                seeds: e.n,
                on_frontier: false,
            })
        })
        .collect()
}

/// Curves of error against one camera setting: one per camera and per
/// combination of the other settings, with at least two values of it.
fn setting_curves(
    a: &Analysis,
    of: &[&Score],
    setting: fn(&super::analysis::CameraSettings) -> f64,
    name: &str,
) -> Vec<Curve> {
    let mut groups: Vec<(String, Vec<(f64, MeanInterval)>)> = Vec::new();
    for s in of {
        let m = &a.means[s.means];
        let (Some(set), Some(e)) = (&m.settings, s.error) else { continue };
        let mut rest = set.clone();
        match name {
            "resolution" => (rest.width, rest.height) = (0, 0),
            _ => rest.fps = 0.0,
        }
        let camera = m.source.trim_start_matches("camera:");
        let key = format!(
            "{camera}: {}{}{}{}",
            if name == "resolution" { format!("{} fps", set.fps) } else { format!("{}x{}", set.width, set.height) },
            if rest.face_blur == "none" { String::new() } else { format!(", blur {}", rest.face_blur) },
            if rest.masks == 0 { String::new() } else { format!(", {} masks", rest.masks) },
            if rest.mode == "edge" && rest.retention_s == 0.0 && rest.k <= 1 && rest.epsilon.is_none() {
                String::new()
            } else {
                format!(", {} {} s k={} ε={:?}", rest.mode, rest.retention_s, rest.k, rest.epsilon)
            }
        );
        let x = setting(set);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, pts)) => {
                if !pts.iter().any(|(px, _)| *px == x) {
                    pts.push((x, e));
                }
            }
            None => groups.push((key, vec![(x, e)])),
        }
    }
    groups
        .into_iter()
        .filter(|(_, p)| p.len() >= 2)
        .map(|(label, mut points)| {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Curve { label, camera: true, points }
        })
        .collect()
}

fn draw_figures(exp: &Experiment, a: &Analysis, dir: &Path) -> Result<Figures> {
    let font = Path::new(DEFAULT_FONT);
    let mut figures = Figures::default();
    for sc in &exp.scenarios {
        for p in &exp.file.purposes {
            let of: Vec<&Score> = a
                .scores
                .iter()
                .filter(|s| s.purpose == p.name && a.means[s.means].scenario == sc.name && s.error.is_some())
                .collect();
            if of.is_empty() {
                continue;
            }
            let stem = format!("{}--{}", sc.name, p.name);
            let mut list = Vec::new();
            let error_desc = format!("{} (%)", p.measure.error_name());
            let points = |x: &dyn Fn(&Means) -> f64| -> Vec<MeansPoint> {
                of.iter()
                    .filter_map(|s| {
                        let m = &a.means[s.means];
                        Some(MeansPoint {
                            label: m.label.clone(),
                            camera: m.camera,
                            x: x(m),
                            error: s.error?,
                            frontier: s.frontier,
                        })
                    })
                    .collect()
            };
            // Utility against intrusiveness.
            let pts = points(&|m| m.intrusion.score);
            let title = format!("{}: which means meets '{}' with the least intrusion?", sc.name, p.name);
            let path = dir.join("plots").join(format!("frontier--{stem}"));
            let text =
                PlotText { title: &title, x_desc: "intrusiveness (ordinal scale, docs/legal.md)", y_desc: &error_desc };
            plots::frontier(&path, &text, &pts, Some(p.max_error), font)?;
            figure_csv(&path.with_extension("csv"), &point_rows(&pts))?;
            list.push((title, format!("plots/frontier--{stem}.png")));
            // Error by interval: sensors, and the cameras on the frontier.
            let curves: Vec<Curve> = of
                .iter()
                .filter(|s| !a.means[s.means].camera || s.frontier)
                .filter(|s| s.by_interval.len() >= 2)
                .map(|s| {
                    let m = &a.means[s.means];
                    Curve {
                        label: m.label.clone(),
                        camera: m.camera,
                        points: s.by_interval.iter().map(|(t, e)| (f64::from(*t), *e)).collect(),
                    }
                })
                .collect();
            if !curves.is_empty() {
                let title = format!("{}: is the error of '{}' steady from one interval to the next?", sc.name, p.name);
                let path = dir.join("plots").join(format!("by-interval--{stem}"));
                let text = PlotText { title: &title, x_desc: "interval start (s)", y_desc: &error_desc };
                plots::curves(&path, &text, &curves, Some(p.max_error), font)?;
                figure_csv(&path.with_extension("csv"), &curve_rows(&curves))?;
                list.push((title, format!("plots/by-interval--{stem}.png")));
            }
            for (name, x_desc, f) in [
                (
                    "resolution",
                    "analysed image width (px)",
                    (|c: &super::analysis::CameraSettings| f64::from(c.width)) as fn(&_) -> f64,
                ),
                ("fps", "frames analysed per second (fps)", |c| c.fps),
            ] {
                let curves = setting_curves(a, &of, f, name);
                if curves.is_empty() {
                    continue;
                }
                let title =
                    format!("{}: how does the error of '{}' grow as the camera sees less ({name})?", sc.name, p.name);
                let path = dir.join("plots").join(format!("vs-{name}--{stem}"));
                let text = PlotText { title: &title, x_desc, y_desc: &error_desc };
                plots::curves(&path, &text, &curves, Some(p.max_error), font)?;
                figure_csv(&path.with_extension("csv"), &curve_rows(&curves))?;
                list.push((title, format!("plots/vs-{name}--{stem}.png")));
            }
            let pts = points(&|m| m.first_year_eur());
            let pts: Vec<MeansPoint> = pts.into_iter().map(|p| MeansPoint { frontier: false, ..p }).collect();
            let title = format!("{}: what does meeting '{}' cost?", sc.name, p.name);
            let path = dir.join("plots").join(format!("cost--{stem}"));
            let text = PlotText {
                title: &title,
                x_desc: "first-year cost (EUR: hardware, installation, one year of operation)",
                y_desc: &error_desc,
            };
            plots::cost(&path, &text, &pts, Some(p.max_error), font)?;
            figure_csv(&path.with_extension("csv"), &point_rows(&pts))?;
            list.push((title, format!("plots/cost--{stem}.png")));
            figures.list.push(((sc.name.clone(), p.name.clone()), list));
        }
    }
    Ok(figures)
}

fn direction_text(d: &str) -> String {
    if d == "both" { "both directions".into() } else { format!("{d} direction only") }
}

/// What a purpose asks, in one sentence.
fn purpose_text(p: &Purpose) -> String {
    let what = match p.measure {
        super::file::Measure::Count => format!("count {} ({})", p.classes.join(" + "), direction_text(&p.direction)),
        super::file::Measure::ClassSplit => {
            format!("split {} ({})", p.classes.join(" / "), direction_text(&p.direction))
        }
        super::file::Measure::Occupancy => {
            format!("tell whether zone `{}` is occupied", p.zone.clone().unwrap_or_default())
        }
        super::file::Measure::Headcount => {
            format!("tell how many are in zone `{}` on average", p.zone.clone().unwrap_or_default())
        }
    };
    let place = p.line.as_ref().map_or(String::new(), |l| format!(" on line `{l}`"));
    format!("{what}{place}, for {}, with a {} of at most {}", p.use_.label(), p.measure.error_name(), pct(p.max_error))
}

/// The answer for one scenario and purpose, in words.
fn answer(a: &Analysis, r: &super::analysis::Recommendation, p: &Purpose) -> String {
    let describe = |k: usize| {
        let s = &a.scores[k];
        let m = &a.means[s.means];
        let e = s.error.map_or("n/a".into(), |e| interval_text(&e));
        format!(
            "**{}** ({}, intrusiveness level {} \"{}\"): error {e}",
            m.label,
            if m.camera { "camera" } else { "sensor" },
            m.intrusion.level,
            m.intrusion.name
        )
    };
    let mut out = String::new();
    match r.meeting.first() {
        Some(&k) => {
            let s = &a.scores[k];
            let e = s.error.unwrap_or(MeanInterval { n: 0, mean: f64::NAN, low: f64::NAN, high: f64::NAN });
            let confidence = if e.n > 1 && e.high <= p.max_error {
                format!("it meets the requirement over all {} seeds' 95 % interval", e.n)
            } else if e.n > 1 {
                format!(
                    "it meets it on average, but the 95 % interval over {} seeds reaches {}: more seeds, or the next means, for certainty",
                    e.n,
                    pct(e.high)
                )
            } else {
                "one seed only: no interval; run more seeds before deciding".to_string()
            };
            let _ = write!(
                out,
                "The least intrusive means that meets it is {}; {confidence}. Legal reading for this use: {}.",
                describe(k),
                s.legal.verdict.label()
            );
            let next: Vec<String> = r.meeting.iter().skip(1).take(2).map(|&k| describe(k)).collect();
            if !next.is_empty() {
                let _ = write!(out, " Next: {}.", next.join("; "));
            }
            if !a.means[s.means].camera {
                let cams = r.meeting.iter().filter(|&&k| a.means[a.scores[k].means].camera).count();
                let also = if cams == 0 {
                    "no camera configuration tried meets it".to_string()
                } else {
                    format!("{cams} camera configuration(s) also meet it, all more intrusive")
                };
                let _ = write!(out, " A camera is not needed for this purpose ({also}).");
            }
        }
        None => {
            let _ = write!(out, "**No means meets it.**");
            if let Some(k) = r.closest {
                let _ = write!(out, " The closest is {}.", describe(k));
            }
        }
    }
    if !r.barred.is_empty() {
        let names: Vec<String> = r.barred.iter().map(|&k| a.means[a.scores[k].means].label.clone()).collect();
        let _ =
            write!(out, " These meet the error but the legal reading bars them for this use: {}.", names.join(", "));
    }
    out
}

/// A camera configuration's settings in a few words.
fn settings_text(m: &Means) -> String {
    m.settings.as_ref().map_or_else(String::new, |c| {
        let mut parts = vec![format!("{}x{}", c.width, c.height), format!("{} fps", c.fps)];
        if c.face_blur != "none" {
            parts.push(format!("faces blurred ({})", c.face_blur));
        }
        if c.masks > 0 {
            parts.push(format!("{} mask(s)", c.masks));
        }
        parts.push(if c.mode == "edge" { "aggregates only".into() } else { "frames sent off the device".into() });
        if c.retention_s > 0.0 {
            parts.push(format!("frames kept {} s", c.retention_s));
        }
        parts.join(", ")
    })
}

/// One sentence over every purpose of a scenario: where a sensor suffices,
/// where a camera is needed and with which settings, where nothing serves.
fn in_short(a: &Analysis, scenario: &str) -> String {
    let mut sensor = Vec::new();
    let mut camera = Vec::new();
    let mut none = Vec::new();
    for r in a.recommendations.iter().filter(|r| r.scenario == scenario) {
        match r.meeting.first().map(|&k| &a.means[a.scores[k].means]) {
            Some(m) if !m.camera => sensor.push(format!("{} ({})", r.purpose, m.label)),
            Some(m) => camera.push(format!("{}, and then {} at {}", r.purpose, m.label, settings_text(m))),
            None => none.push(r.purpose.clone()),
        }
    }
    let mut out = Vec::new();
    if !sensor.is_empty() {
        out.push(format!("a less intrusive sensor suffices for {}", sensor.join("; ")));
    }
    if !camera.is_empty() {
        let only = if sensor.is_empty() { "" } else { " only" };
        out.push(format!("a camera is needed{only} for {}", camera.join("; ")));
    }
    if !none.is_empty() {
        out.push(format!("nothing tried meets {}", none.join(", ")));
    }
    let mut text = out.join("; ");
    text.push('.');
    text
}

fn markdown(exp: &Experiment, a: &Analysis, figures: &Figures) -> String {
    let h = &exp.file.experiment;
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", h.question.clone().unwrap_or_else(|| format!("Experiment {}", h.name)));
    let _ = writeln!(md, "> {}\n", legal::DISCLAIMER);
    let _ = writeln!(md, "## Answer\n");
    for sc in &exp.scenarios {
        let _ = writeln!(md, "**In short, `{}`:** {}\n", sc.name, in_short(a, &sc.name));
    }
    for r in &a.recommendations {
        let Some(p) = exp.file.purposes.iter().find(|p| p.name == r.purpose) else { continue };
        let _ =
            writeln!(md, "- **{}** in scenario `{}` ({}): {}", p.name, r.scenario, purpose_text(p), answer(a, r, p));
    }
    let seeds: BTreeSet<usize> = exp.scenarios.iter().map(|s| s.seeds.len()).collect();
    let _ = writeln!(
        md,
        "\n## Method\n\nExperiment file `{}`. Scenarios: {}. Each scenario ran under each of its privacy configurations with {} seed(s) ({} jobs{}); \
         its sensors watched the same simulated street. Errors are computed against the simulation's ground truth, per \
         aggregation interval, and given as the mean over seeds with a 95 % interval (Student's t). A means *meets* a \
         purpose when its mean error is at most the required error; the report also says whether the whole 95 % interval \
         does. Intrusiveness is placed on one ordinal scale for cameras and sensors (levels below; docs/legal.md gives \
         the reasons for the order); within a level, cameras are ordered by what they measurably expose (identifiable \
         face-seconds, DORI shares, sensitive places, children, bytes leaving the device). The recommendation is the least \
         intrusive means that meets the purpose and that the legal reading allows for its use; ties go to the smaller \
         error, then the lower cost. Costs of cameras are assumptions ({}).\n",
        exp.path.display(),
        exp.scenarios
            .iter()
            .map(|s| format!("`{}` ({}, {} configuration(s))", s.name, s.scenario.scenario.name, s.configs.len()))
            .collect::<Vec<_>>()
            .join(", "),
        seeds.iter().map(usize::to_string).collect::<Vec<_>>().join("/"),
        a.jobs,
        if a.missing.is_empty() {
            String::new()
        } else {
            format!("; {} missing: {}", a.missing.len(), a.missing.join(", "))
        },
        {
            let c = exp.camera_cost();
            format!(
                "EUR {:.0} hardware, {:.0} installation, {:.0} per year",
                c.hardware_eur, c.installation_eur, c.operation_eur_per_year
            )
        }
    );
    for ((scenario, purpose), list) in &figures.list {
        let Some(p) = exp.file.purposes.iter().find(|x| x.name == *purpose) else { continue };
        let _ = writeln!(md, "## `{scenario}`: {purpose}\n\n{}.\n", purpose_text(p));
        let _ = writeln!(
            md,
            "| means | kind | error [95 %] | meets | intrusiveness | data | legal reading ({}) | first-year cost | frontier |\n|---|---|---|---|---|---|---|---|---|",
            p.use_.label()
        );
        let mut of: Vec<&Score> =
            a.scores.iter().filter(|s| s.purpose == *purpose && a.means[s.means].scenario == *scenario).collect();
        of.sort_by(|x, y| a.means[x.means].intrusion.score.total_cmp(&a.means[y.means].intrusion.score));
        for s in of {
            let m = &a.means[s.means];
            let (err, meets) = match (&s.error, &s.cannot) {
                (Some(e), _) => (
                    interval_text(e),
                    if e.mean <= p.max_error { if e.high <= p.max_error { "yes" } else { "on average" } } else { "no" },
                ),
                (None, Some(why)) => (format!("cannot: {why}"), "no"),
                (None, None) => ("n/a".into(), "no"),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {err} | {meets} | {} ({}, {:.2}) | {} | {} | {:.0} EUR | {} |",
                m.label,
                if m.camera { "camera" } else { "sensor" },
                m.intrusion.level,
                m.intrusion.name,
                m.intrusion.score,
                m.data_kind,
                s.legal.verdict.label(),
                m.first_year_eur(),
                if s.frontier { "yes" } else { "" }
            );
        }
        md.push('\n');
        for (caption, path) in list {
            let _ = writeln!(md, "![{caption}]({path})\n");
        }
    }
    let _ = writeln!(md, "## Legal reading per means\n");
    let uses: BTreeSet<&str> = exp.file.purposes.iter().map(|p| p.use_.label()).collect();
    for u in uses {
        let Some(p) = exp.file.purposes.iter().find(|p| p.use_.label() == u) else { continue };
        let _ = writeln!(md, "### For {u}\n");
        for s in a.scores.iter().filter(|s| s.purpose == p.name) {
            let m = &a.means[s.means];
            let _ = writeln!(md, "- **{}** (`{}`): {}.", m.label, m.scenario, s.legal.verdict.label());
            for r in &s.legal.reasons {
                let _ = writeln!(md, "  - {r}");
            }
            if !s.legal.conditions.is_empty() {
                let _ = writeln!(md, "  - Conditions still to meet: {}", s.legal.conditions.join("; "));
            }
        }
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "## Limits\n\n- The streets, people and vehicles are simulated; the errors are those of this scene, renderer and \
         detector, not of a real site. Check a real site with recorded footage (`camtwin analyse`) before deciding.\n\
         - Sensor models are calibrated to published field studies (docs/sensors.md); their errors outside those \
         conditions are extrapolations.\n- Camera costs are assumptions unless the experiment file gives them.\n\
         - The legal reading applies fixed rules drawn from the French regulator's published position; it is decision \
         support, not legal advice.\n\n## Files\n\n`means.csv` (every means on every purpose: error, intrusiveness, \
         legal reading, cost), `errors.csv` (every error per line, class, direction and interval over seeds), \
         `recommendations.csv`, `plots/` (each figure as PNG, SVG and the CSV of its points), `jobs/` (each job's full \
         `camtwin run` output).\n"
    );
    md
}

/// `report.md` as one self-contained HTML page: the plots embedded as data
/// URIs, a small stylesheet, and a script that marks the page rendered once
/// every image has loaded (what the headless-browser test checks).
fn html(md: &str, title: &str, dir: &Path) -> Result<String> {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let mut events = Vec::new();
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES) {
        let ev = match ev {
            Event::Start(Tag::Image { link_type, dest_url, title, id }) if dest_url.ends_with(".png") => {
                let path: PathBuf = dir.join(dest_url.as_ref());
                let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
                let data = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes));
                Event::Start(Tag::Image { link_type, dest_url: data.into(), title, id })
            }
            other => other,
        };
        events.push(ev);
    }
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, events.into_iter());
    let esc = title.replace('&', "&amp;").replace('<', "&lt;");
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>camtwin: {esc}</title>\n<style>\n\
         body {{ font-family: sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }}\n\
         th, td {{ border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; }}\n\
         th {{ background: #eee; }}\nimg {{ max-width: 100%; border: 1px solid #ddd; margin: 0.5rem 0; }}\n\
         blockquote {{ border-left: 4px solid #c60; margin: 1rem 0; padding: 0.25rem 1rem; background: #fff6ee; }}\n\
         </style></head>\n<body>\n{body}\n<script>\nwindow.addEventListener('load', function () {{\n\
         var imgs = Array.prototype.slice.call(document.images);\n\
         var broken = imgs.filter(function (i) {{ return !(i.complete && i.naturalWidth > 0); }}).length;\n\
         document.body.setAttribute('data-images', String(imgs.length));\n\
         document.body.setAttribute('data-broken-images', String(broken));\n\
         document.body.setAttribute('data-rendered', broken === 0 ? 'ok' : 'broken');\n}});\n</script>\n</body></html>\n"
    ))
}

/// A few lines for the terminal: the answers and where the report is.
pub fn console_summary(exp: &Experiment, a: &Analysis, dir: &Path) -> String {
    let mut out = String::new();
    for r in &a.recommendations {
        let Some(p) = exp.file.purposes.iter().find(|p| p.name == r.purpose) else { continue };
        let _ = writeln!(out, "{} / {}: {}", r.scenario, p.name, answer(a, r, p).replace("**", ""));
    }
    let _ = writeln!(out, "report: {}", dir.join("report.html").display());
    out
}
