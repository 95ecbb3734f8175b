//! The experiment file (docs/EXPERIMENTS.md): which scenarios, which of their
//! configurations, which seeds, and the purposes every means is judged
//! against. Parse errors name the file, line and key; semantic errors name the
//! key and the value.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use camtwin_analytics::legal::Use;
use serde::Deserialize;

/// An experiment file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// Name, question and seeds.
    pub experiment: Header,
    /// What the means are for; one recommendation each.
    pub purposes: Vec<Purpose>,
    /// The scenarios and which of their configurations to run.
    pub scenarios: Vec<ScenarioEntry>,
    /// Cost of one analysed camera, when the built-in assumption does not fit.
    #[serde(default)]
    pub camera_cost: Option<CameraCost>,
}

/// `[experiment]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Names the result folder: letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// The question the experiment answers, in the operator's words.
    #[serde(default)]
    pub question: Option<String>,
    /// How many seeds (from each scenario's own seed on), or a list of seeds.
    #[serde(default = "default_seeds")]
    pub seeds: Seeds,
}

fn default_seeds() -> Seeds {
    Seeds::Count(3)
}

/// Seeds as a count or an explicit list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Seeds {
    /// The scenario's seed and the next ones.
    Count(u32),
    /// These seeds, for every scenario.
    List(Vec<u64>),
}

/// What a purpose measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Crossings of a line per interval (WAPE).
    Count,
    /// The split between classes (e.g. bicycles and pedestrians) on a line.
    ClassSplit,
    /// Whether a zone is occupied in each interval.
    Occupancy,
    /// How many are in a zone on average in each interval (how crowded a
    /// stop or a square is): only a means that counts people in the zone
    /// can serve, not one that says occupied or not.
    Headcount,
}

impl Measure {
    /// Name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::ClassSplit => "class_split",
            Self::Occupancy => "occupancy",
            Self::Headcount => "headcount",
        }
    }

    /// What its error is, in words, for tables and axes.
    pub fn error_name(self) -> &'static str {
        match self {
            Self::Count => "count error (WAPE)",
            Self::ClassSplit => "class-split error (share points)",
            Self::Occupancy => "occupancy error (share of intervals wrong)",
            Self::Headcount => "headcount error (WAPE of the mean number inside)",
        }
    }
}

/// `[[purposes]]`: one stated purpose and the error it tolerates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    /// Short name (file names, tables).
    pub name: String,
    /// What the figures are used for: decides the legal reading.
    #[serde(rename = "use")]
    pub use_: Use,
    /// What is measured.
    pub measure: Measure,
    /// Classes counted or split (COCO names); persons by default.
    #[serde(default = "default_classes")]
    pub classes: Vec<String>,
    /// `both`, `positive` or `negative`.
    #[serde(default = "default_direction")]
    pub direction: String,
    /// The counting line (count and class split); every line when absent.
    #[serde(default)]
    pub line: Option<String>,
    /// The zone (occupancy).
    #[serde(default)]
    pub zone: Option<String>,
    /// The largest error that still serves the purpose, as a fraction (0.1 = 10 %).
    pub max_error: f64,
}

fn default_classes() -> Vec<String> {
    vec!["person".into()]
}

fn default_direction() -> String {
    "both".into()
}

/// `[[scenarios]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioEntry {
    /// The scenario file, relative to the experiment file.
    pub path: PathBuf,
    /// Privacy configurations to run; all of the scenario's by default.
    #[serde(default)]
    pub configs: Option<Vec<String>>,
    /// Which of the scenario's sensors to compare: `true` (all, the
    /// default), `false` (none) or a list of sensor ids.
    #[serde(default)]
    pub sensors: SensorChoice,
}

/// `sensors = true | false | ["id", ...]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SensorChoice {
    /// All or none.
    All(bool),
    /// These sensors, by id.
    Ids(Vec<String>),
}

impl Default for SensorChoice {
    fn default() -> Self {
        Self::All(true)
    }
}

/// `[camera_cost]`: euros, as for the sensors' cost profiles.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CameraCost {
    /// The camera with its edge computer.
    pub hardware_eur: f64,
    /// Mounting, power and network.
    pub installation_eur: f64,
    /// Power, data, maintenance and licences per year.
    pub operation_eur_per_year: f64,
}

/// An assumed cost of an edge-analytics camera (docs/EXPERIMENTS.md):
/// hardware and licence, pole mounting with power and network, yearly
/// maintenance and data. These are assumptions, not sourced figures; an
/// experiment file can replace them with `[camera_cost]`.
pub const ASSUMED_CAMERA_COST: CameraCost =
    CameraCost { hardware_eur: 1500.0, installation_eur: 1000.0, operation_eur_per_year: 300.0 };

/// A scenario of the experiment, loaded.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    /// Short name (the file stem): job ids and tables.
    pub name: String,
    /// Path as the experiment gave it, resolved against the experiment file.
    pub path: PathBuf,
    /// The scenario.
    pub scenario: camtwin_sim::scenario::Scenario,
    /// The configurations to run, in the scenario's order.
    pub configs: Vec<camtwin_sim::privacy::PrivacyConfig>,
    /// Seeds to run.
    pub seeds: Vec<u64>,
    /// Ids of the sensors compared.
    pub sensors: Vec<String>,
    /// Its file's bytes, hashed into each job's identity.
    pub text: Vec<u8>,
}

/// An experiment, checked and with its scenarios loaded.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The file it came from.
    pub path: PathBuf,
    /// As written.
    pub file: ExperimentFile,
    /// Its scenarios.
    pub scenarios: Vec<LoadedScenario>,
}

impl Experiment {
    /// The camera cost used.
    pub fn camera_cost(&self) -> CameraCost {
        self.file.camera_cost.unwrap_or(ASSUMED_CAMERA_COST)
    }
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|k| k + 1)
}

/// The 1-based line of `key = ...` in the table that holds `anchor` (the
/// first such line after the anchor, before the next table), or the anchor's.
fn key_line(text: &str, anchor: &str, key: &str) -> Option<usize> {
    let start = text.lines().position(|l| l.contains(anchor))?;
    let table_start =
        text.lines().take(start + 1).collect::<Vec<_>>().iter().rposition(|l| l.trim_start().starts_with('['))?;
    text.lines()
        .enumerate()
        .skip(table_start + 1)
        .take_while(|(_, l)| !l.trim_start().starts_with('['))
        .find(|(_, l)| l.trim_start().strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('=')))
        .map(|(k, _)| k + 1)
        .or(Some(start + 1))
}

/// Reads and checks an experiment file and the scenarios it names.
pub fn load(path: &Path) -> Result<Experiment> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let de = toml::de::Deserializer::parse(&text).map_err(|e| located(path, &text, &e, None))?;
    let file: ExperimentFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        located(path, &text, e.inner(), Some(key))
    })?;
    let at = |needle: &str| {
        line_of(&text, needle).map_or_else(|| path.display().to_string(), |l| format!("{}:{l}", path.display()))
    };
    let name = &file.experiment.name;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) || name.starts_with('.')
    {
        bail!("{}: experiment.name `{name}`: use letters, digits, `-`, `_` and `.` (it names a folder)", at("name"));
    }
    if file.purposes.is_empty() {
        bail!("{}: no [[purposes]]: say what the means are for and the error it tolerates", path.display());
    }
    if file.scenarios.is_empty() {
        bail!("{}: no [[scenarios]]: name at least one scenario file", path.display());
    }
    let seeds_of = |own: u64| -> Vec<u64> {
        match &file.experiment.seeds {
            Seeds::Count(n) => (0..u64::from(*n)).map(|k| own.wrapping_add(k)).collect(),
            Seeds::List(list) => list.clone(),
        }
    };
    match &file.experiment.seeds {
        Seeds::Count(0) => bail!("{}: experiment.seeds = 0: run at least one seed", at("seeds")),
        Seeds::List(l) if l.is_empty() => bail!("{}: experiment.seeds = []: list at least one seed", at("seeds")),
        Seeds::List(l) if (1..l.len()).any(|k| l[..k].contains(&l[k])) => {
            bail!("{}: experiment.seeds lists a seed twice", at("seeds"))
        }
        _ => {}
    }
    let mut names: Vec<&str> = Vec::new();
    for (k, p) in file.purposes.iter().enumerate() {
        let key = format!("purposes[{k}]");
        let anchor = format!("\"{}\"", p.name);
        let here_at = |field: &str| {
            key_line(&text, &anchor, field)
                .map_or_else(|| path.display().to_string(), |l| format!("{}:{l}", path.display()))
        };
        let here = here_at("name");
        if p.name.is_empty() || !p.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            bail!("{here}: {key}.name `{}`: use letters, digits, `-`, `_` and `.` (it names files)", p.name);
        }
        if names.contains(&p.name.as_str()) {
            bail!("{here}: {key}.name `{}` is used twice", p.name);
        }
        names.push(&p.name);
        if !(p.max_error.is_finite() && p.max_error > 0.0) {
            let here = here_at("max_error");
            bail!(
                "{here}: {key}.max_error = {}: give the tolerated error as a fraction above 0 (0.1 = 10 %)",
                p.max_error
            );
        }
        if p.max_error > 1.0 {
            let here = here_at("max_error");
            bail!("{here}: {key}.max_error = {}: errors are fractions (0.1 = 10 %), not percent", p.max_error);
        }
        if !["both", "positive", "negative"].contains(&p.direction.as_str()) {
            let here = here_at("direction");
            bail!("{here}: {key}.direction `{}`: use `both`, `positive` or `negative`", p.direction);
        }
        for c in &p.classes {
            if camtwin_analytics::detector::ObjectClass::from_name(c).is_none() {
                let here = here_at("classes");
                bail!("{here}: {key}.classes: unknown class `{c}` (person, bicycle, car, motorcycle, bus, truck)");
            }
        }
        if p.classes.is_empty() {
            bail!("{here}: {key}.classes is empty");
        }
        match p.measure {
            Measure::ClassSplit if p.classes.len() < 2 => {
                bail!("{here}: {key}.classes: a class split needs at least two classes")
            }
            Measure::Occupancy if p.zone.is_none() => bail!("{here}: {key}: an occupancy purpose needs `zone`"),
            Measure::Headcount if p.zone.is_none() => bail!("{here}: {key}: a headcount purpose needs `zone`"),
            _ => {}
        }
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut scenarios: Vec<LoadedScenario> = Vec::new();
    for (k, entry) in file.scenarios.iter().enumerate() {
        let key = format!("scenarios[{k}].path");
        let here = at(&entry.path.display().to_string());
        let full = base.join(&entry.path);
        let bytes = std::fs::read(&full).with_context(|| format!("{here}: {key}: cannot read {}", full.display()))?;
        let scenario = camtwin_sim::scenario::Scenario::load(&full).with_context(|| format!("{here}: {key}"))?;
        let name = full.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        if scenarios.iter().any(|s| s.name == name) {
            bail!("{here}: {key}: two scenarios are named `{name}` (job folders are named after the file)");
        }
        let all = scenario.privacy_configs();
        let configs = match &entry.configs {
            None => all,
            Some(asked) => {
                let mut out = Vec::new();
                for n in asked {
                    let c = all.iter().find(|c| c.name == *n).with_context(|| {
                        let known: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
                        format!(
                            "{}: scenarios[{k}].configs: {} has no privacy configuration `{n}` (it has: {})",
                            at(&format!("\"{n}\"")),
                            full.display(),
                            known.join(", ")
                        )
                    })?;
                    out.push(c.clone());
                }
                if out.is_empty() {
                    bail!("{here}: scenarios[{k}].configs is empty");
                }
                out
            }
        };
        for p in &file.purposes {
            if let Some(line) = &p.line
                && !scenario.lines.iter().any(|l| l.id == *line)
            {
                bail!("{}: purpose `{}`: {} has no line `{line}`", at(&format!("\"{line}\"")), p.name, full.display());
            }
            if let Some(zone) = &p.zone
                && !scenario.zones.iter().any(|z| z.id == *zone)
            {
                bail!("{}: purpose `{}`: {} has no zone `{zone}`", at(&format!("\"{zone}\"")), p.name, full.display());
            }
        }
        let ids: Vec<String> = scenario.sensors.iter().map(|s| s.id().to_string()).collect();
        let sensors = match &entry.sensors {
            SensorChoice::All(true) => ids,
            SensorChoice::All(false) => Vec::new(),
            SensorChoice::Ids(asked) => {
                if let Some(unknown) = asked.iter().find(|a| !ids.contains(a)) {
                    bail!(
                        "{}: scenarios[{k}].sensors: {} has no sensor `{unknown}` (it has: {})",
                        at(&format!("\"{unknown}\"")),
                        full.display(),
                        ids.join(", ")
                    );
                }
                asked.clone()
            }
        };
        let seeds = seeds_of(scenario.scenario.seed);
        scenarios.push(LoadedScenario { name, path: full, scenario, configs, seeds, sensors, text: bytes });
    }
    Ok(Experiment { path: path.to_path_buf(), file, scenarios })
}

fn located(path: &Path, text: &str, err: &toml::de::Error, key: Option<String>) -> anyhow::Error {
    let line = err.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let at = line.map_or_else(|| path.display().to_string(), |l| format!("{}:{l}", path.display()));
    match key.filter(|k| !k.is_empty() && k != ".") {
        Some(k) => anyhow::anyhow!("{at}: key `{k}`: {}", err.message().trim()),
        None => anyhow::anyhow!("{at}: {}", err.message().trim()),
    }
}
