//! `camtwin experiment` and `camtwin merge`: scenarios × privacy
//! configurations and sensors × seeds, run as independent, resumable jobs,
//! then scored on each stated purpose against intrusiveness, read against
//! the regulator's position, and reported (docs/EXPERIMENTS.md).

mod analysis;
mod file;
mod jobs;
mod report;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub use jobs::exit_with_parent;

/// Arguments of `camtwin experiment`.
#[derive(Debug, clap::Args)]
pub struct ExperimentArgs {
    /// The experiment file (TOML, docs/EXPERIMENTS.md).
    pub file: PathBuf,
    /// Output folder; results go to OUT/<experiment name>/.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Jobs run at once (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only shard I of N (whole footage groups, dealt in turn); combine
    /// the shards' folders with `camtwin merge`.
    #[arg(long, value_parser = jobs::parse_shard, value_name = "I/N")]
    pub shard: Option<(usize, usize)>,
    /// Folder holding the models (see `make models`).
    #[arg(long, default_value = "assets/models")]
    pub models: PathBuf,
    /// Cache folder for rendered footage and detections, shared by the jobs.
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Render and detect in every job without the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// List the jobs (and which are done) without running anything.
    #[arg(long)]
    pub plan: bool,
}

/// Arguments of `camtwin merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The experiment file the shards ran.
    pub file: PathBuf,
    /// The shards' experiment folders (OUT/<experiment name>/ of each shard).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Output folder; the merged results go to OUT/<experiment name>/.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Folder holding the models the shards used.
    #[arg(long, default_value = "assets/models")]
    pub models: PathBuf,
}

/// `camtwin experiment`.
pub fn experiment(args: &ExperimentArgs) -> Result<()> {
    let exp = file::load(&args.file)?;
    let all = jobs::plan(&exp, &args.models);
    let selected = match args.shard {
        Some((i, n)) => jobs::shard(all.clone(), i, n),
        None => all.clone(),
    };
    let dir = args.out.join(&exp.file.experiment.name);
    let jobs_dir = dir.join("jobs");
    if args.plan {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        for j in &selected {
            let state = if jobs::finished(&jobs_dir, j).is_some() { "done" } else { "to run" };
            // A closed pipe (`| head`) ends the listing quietly.
            if writeln!(out, "{}\t{state}", j.id).is_err() {
                break;
            }
        }
        return Ok(());
    }
    if !args.models.join("SHA256SUMS").exists() {
        bail!("no models in {} (run `make models`)", args.models.display());
    }
    let parallel = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut flags: Vec<String> = vec!["--models".into(), args.models.display().to_string()];
    if let Some(c) = &args.cache {
        flags.extend(["--cache".into(), c.display().to_string()]);
    }
    if args.no_cache {
        flags.push("--no-cache".into());
    }
    eprintln!(
        "experiment `{}`: {} job(s){} in {}, {parallel} at a time",
        exp.file.experiment.name,
        selected.len(),
        args.shard.map_or(String::new(), |(i, n)| format!(" (shard {i}/{n} of {})", all.len())),
        dir.display()
    );
    let cfg = jobs::RunnerConfig { exp: &exp, jobs_dir: &jobs_dir, parallel, run_flags: flags };
    let outcome = jobs::run_all(&cfg, &selected)?;
    eprintln!("{} job(s) run now, {} done before, {} failed", outcome.ran, outcome.already, outcome.failed.len());
    if let Some((i, n)) = args.shard {
        if !outcome.failed.is_empty() {
            bail!(
                "{} job(s) of shard {i}/{n} failed (logs in {}); run the shard again to retry them",
                outcome.failed.len(),
                jobs_dir.display()
            );
        }
        println!(
            "shard {i}/{n} done in {}; combine the shards with `camtwin merge {} <shard folders>`",
            dir.display(),
            args.file.display()
        );
        return Ok(());
    }
    report_on(&exp, &all, &dir)?;
    if !outcome.failed.is_empty() {
        bail!(
            "{} job(s) failed (logs beside the jobs in {}); the report covers the others. Run the experiment again to retry them",
            outcome.failed.len(),
            jobs_dir.display()
        );
    }
    Ok(())
}

/// `camtwin merge`: copies the shards' finished jobs into one folder and
/// analyses them as one run would.
pub fn merge(args: &MergeArgs) -> Result<()> {
    let exp = file::load(&args.file)?;
    let all = jobs::plan(&exp, &args.models);
    let dir = args.out.join(&exp.file.experiment.name);
    let jobs_dir = dir.join("jobs");
    std::fs::create_dir_all(&jobs_dir).with_context(|| format!("cannot create {}", jobs_dir.display()))?;
    let mut found = 0;
    for j in &all {
        if jobs::finished(&jobs_dir, j).is_some() {
            found += 1;
            continue;
        }
        let from = args.shards.iter().map(|s| s.join("jobs")).find(|s| jobs::finished(s, j).is_some());
        let Some(from) = from else { continue };
        copy_job(&from.join(&j.id), &jobs_dir, &j.id)?;
        found += 1;
    }
    let missing: Vec<&str> =
        all.iter().filter(|j| jobs::finished(&jobs_dir, j).is_none()).map(|j| j.id.as_str()).collect();
    if !missing.is_empty() {
        bail!(
            "{} of {} jobs are in none of the shards (first: {}); run the missing shard(s) and merge again",
            missing.len(),
            all.len(),
            missing[0]
        );
    }
    eprintln!("merged {found} jobs into {}", jobs_dir.display());
    report_on(&exp, &all, &dir)
}

/// Analyses the finished jobs in `dir/jobs` and writes the tables, plots
/// and reports into `dir`: the last step of a run and of a merge alike.
fn report_on(exp: &file::Experiment, jobs: &[jobs::Job], dir: &Path) -> Result<()> {
    let analysis = analysis::analyse(exp, jobs, &dir.join("jobs"))?;
    report::write(exp, &analysis, dir)?;
    println!("{}", report::console_summary(exp, &analysis, dir));
    Ok(())
}

/// Copies one job folder into `jobs_dir` through a temporary folder and a
/// rename, so a merge that stops half-way leaves no partial job.
fn copy_job(from: &Path, jobs_dir: &Path, id: &str) -> Result<()> {
    let tmp = jobs_dir.join(format!(".tmp-{id}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    copy_tree(from, &tmp).with_context(|| format!("cannot copy {}", from.display()))?;
    let target = jobs_dir.join(id);
    if target.exists() {
        std::fs::remove_dir_all(&target).with_context(|| format!("cannot replace {}", target.display()))?;
    }
    std::fs::rename(&tmp, &target).with_context(|| format!("cannot move {} into place", target.display()))
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}
