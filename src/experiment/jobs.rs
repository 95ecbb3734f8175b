//! The experiment's jobs: one `camtwin run` per scenario, configuration and
//! seed, run as child processes in parallel, each writing its results to a
//! temporary folder that is renamed into `jobs/` only once complete. A job
//! whose folder exists (with the same inputs) is never run again, so an
//! interrupted experiment resumes where it stopped.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::file::Experiment;

/// The environment variable that tells a child `camtwin run` to exit when
/// its parent experiment dies (its standard input closes).
pub const EXIT_WITH_PARENT: &str = "CAMTWIN_EXIT_WITH_PARENT";

/// One run of one scenario under one configuration and seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Folder name under `jobs/`: `<scenario>~<configuration>~<seed>`.
    pub id: String,
    /// Index of the scenario in the experiment.
    pub scenario: usize,
    /// The privacy configuration's name.
    pub config: String,
    /// The seed.
    pub seed: u64,
    /// Hash of everything the job's results depend on.
    pub inputs: String,
    /// Jobs of one scenario and seed share footage: the first renders it,
    /// the others start once it is cached.
    pub group: usize,
    /// Whether this job renders its group's footage.
    pub lead: bool,
}

/// `job.json`, written into a job's folder when it succeeded.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct JobRecord {
    /// The job's id.
    pub id: String,
    /// Scenario name.
    pub scenario: String,
    /// Configuration name.
    pub config: String,
    /// Seed.
    pub seed: u64,
    /// Hash of its inputs.
    pub inputs: String,
    /// Wall time, seconds.
    pub wall_s: f64,
}

/// Every job of an experiment, in a fixed order: scenario, seed,
/// configuration.
pub fn plan(exp: &Experiment, models: &Path) -> Vec<Job> {
    // Both models' checksums: a job's results depend on the face model too.
    let sums = crate::run::model_sums(models, true);
    let mut jobs = Vec::new();
    let mut group = 0;
    for (k, s) in exp.scenarios.iter().enumerate() {
        for &seed in &s.seeds {
            for (n, c) in s.configs.iter().enumerate() {
                let mut h = Sha256::new();
                h.update(env!("CARGO_PKG_VERSION").as_bytes());
                // New rendering, motion or detection format changes results
                // too: a resumed experiment must not keep jobs done before it.
                for v in crate::cache::code_versions(&s.scenario) {
                    h.update(v.as_bytes());
                }
                h.update(crate::cache::RESULTS_FORMAT.to_le_bytes());
                h.update(&s.text);
                h.update(c.name.as_bytes());
                h.update(seed.to_le_bytes());
                h.update(sums.as_bytes());
                let inputs = format!("{:x}", h.finalize())[..16].to_string();
                jobs.push(Job {
                    id: format!("{}~{}~{seed}", s.name, c.name),
                    scenario: k,
                    config: c.name.clone(),
                    seed,
                    inputs,
                    group,
                    lead: n == 0,
                });
            }
            group += 1;
        }
    }
    jobs
}

/// The jobs of shard `i` of `n` (1-based): whole footage groups, dealt in
/// turn, so that every shard renders its own footage once and the shards
/// together hold every job exactly once.
pub fn shard(jobs: Vec<Job>, i: usize, n: usize) -> Vec<Job> {
    jobs.into_iter().filter(|j| j.group % n == i - 1).collect()
}

/// Parses `I/N` with 1 ≤ I ≤ N.
pub fn parse_shard(text: &str) -> std::result::Result<(usize, usize), String> {
    let (i, n) = text.split_once('/').ok_or_else(|| format!("`{text}` is not I/N (for example 1/4)"))?;
    let parse = |v: &str| v.trim().parse::<usize>().map_err(|_| format!("`{v}` in `{text}` is not a whole number"));
    let (i, n) = (parse(i)?, parse(n)?);
    if n == 0 || i == 0 || i > n {
        return Err(format!("shard `{text}`: need 1 ≤ I ≤ N"));
    }
    Ok((i, n))
}

/// The record of a finished job, if its folder holds one for these inputs.
pub fn finished(jobs_dir: &Path, job: &Job) -> Option<JobRecord> {
    let text = std::fs::read_to_string(jobs_dir.join(&job.id).join("job.json")).ok()?;
    let record: JobRecord = serde_json::from_str(&text).ok()?;
    (record.inputs == job.inputs).then_some(record)
}

/// How a set of jobs went.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Done before this run started.
    pub already: usize,
    /// Done by this run.
    pub ran: usize,
    /// Failed, with the path of their log.
    pub failed: Vec<(String, PathBuf)>,
}

/// What a runner needs besides the jobs.
pub struct RunnerConfig<'a> {
    /// The experiment.
    pub exp: &'a Experiment,
    /// `jobs/` of the experiment's output.
    pub jobs_dir: &'a Path,
    /// Jobs at once.
    pub parallel: usize,
    /// Model folder, cache options, passed on to `camtwin run`.
    pub run_flags: Vec<String>,
}

/// Runs every job that is not finished yet, `parallel` at a time, and
/// returns how it went. Holds a lock on the folder so that two experiments
/// never write the same jobs.
pub fn run_all(cfg: &RunnerConfig, jobs: &[Job]) -> Result<Outcome> {
    let dir = cfg.jobs_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let lock_path = dir.join(".lock");
    let lock = std::fs::File::create(&lock_path).with_context(|| format!("cannot create {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        bail!("another camtwin experiment is writing {} (its lock is held); wait for it or stop it", dir.display());
    }
    // Folders of jobs that an earlier, killed run left half-written.
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(".tmp-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let mut outcome = Outcome::default();
    let mut pending: Vec<&Job> = Vec::new();
    let mut done_groups: BTreeSet<usize> = BTreeSet::new();
    for j in jobs {
        if finished(dir, j).is_some() {
            outcome.already += 1;
            if j.lead {
                done_groups.insert(j.group);
            }
        } else {
            pending.push(j);
        }
    }
    let progress = ProgressBar::new(jobs.len() as u64);
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} jobs  {msg}  (about {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.set_position(outcome.already as u64);
    progress.reset_eta();
    if outcome.already > 0 {
        let line =
            format!("{} of {} jobs already done; running the other {}", outcome.already, jobs.len(), pending.len());
        progress.suspend(|| eprintln!("{line}"));
    }
    let (tx, rx) = mpsc::channel::<(usize, Result<f64, String>)>();
    let mut running: Vec<usize> = Vec::new();
    let mut failed_groups: BTreeSet<usize> = BTreeSet::new();
    let mut started_any = vec![false; pending.len()];
    let show = |p: &ProgressBar, running: usize, failed: usize| {
        p.set_message(format!("running {running}, failed {failed}"));
    };
    show(&progress, 0, 0);
    let started = Instant::now();
    loop {
        // Start what may start: a lead at once, the others once their lead ended.
        for (k, job) in pending.iter().enumerate() {
            if running.len() >= cfg.parallel.max(1) {
                break;
            }
            if started_any[k] {
                continue;
            }
            let lead_ended = done_groups.contains(&job.group) || failed_groups.contains(&job.group);
            let lead_pending = pending.iter().any(|p| p.lead && p.group == job.group);
            if !job.lead && lead_pending && !lead_ended {
                continue;
            }
            started_any[k] = true;
            running.push(k);
            let (tx, job, flags) = (tx.clone(), (*job).clone(), cfg.run_flags.clone());
            let scenario = cfg.exp.scenarios[job.scenario].clone();
            let dir = dir.to_path_buf();
            std::thread::spawn(move || {
                let result = run_one(&dir, &job, &scenario, &flags).map_err(|e| format!("{e:#}"));
                let _ = tx.send((k, result));
            });
        }
        show(&progress, running.len(), outcome.failed.len());
        if running.is_empty() {
            break;
        }
        let Ok((k, result)) = rx.recv_timeout(Duration::from_millis(500)) else {
            progress.tick();
            continue;
        };
        running.retain(|r| *r != k);
        let job = pending[k];
        match result {
            Ok(seconds) => {
                outcome.ran += 1;
                if job.lead {
                    done_groups.insert(job.group);
                }
                progress.inc(1);
                if progress.is_hidden() {
                    // No terminal (a log file, a batch job): the bar is not
                    // drawn, so each finished job says so on a line.
                    let left = pending.len() - outcome.ran - outcome.failed.len();
                    let line = job_done_line(&job.id, seconds, outcome.already + outcome.ran, jobs.len(), left, {
                        let per_job = started.elapsed().as_secs_f64() / outcome.ran as f64;
                        per_job * left as f64
                    });
                    eprintln!("{line}");
                }
            }
            Err(e) => {
                if job.lead {
                    failed_groups.insert(job.group);
                }
                let log = dir.join(format!("{}.failed.log", job.id));
                let line = format!("job {} failed: {e} (log: {})", job.id, log.display());
                progress.suspend(|| eprintln!("{line}"));
                outcome.failed.push((job.id.clone(), log));
            }
        }
    }
    progress.finish_and_clear();
    drop(lock);
    Ok(outcome)
}

/// The line a finished job prints when no progress bar is drawn: the job,
/// how long it took, how many of the jobs are done and about how long the
/// rest will take at this run's pace so far.
fn job_done_line(id: &str, seconds: f64, done: usize, total: usize, left: usize, left_s: f64) -> String {
    let eta = if left == 0 {
        "none left".to_string()
    } else {
        let minutes = (left_s / 60.0).round() as u64;
        format!("about {} h {:02} min left", minutes / 60, minutes % 60)
    };
    format!("job {id} done in {seconds:.0} s; {done} of {total} jobs done, {eta}")
}

/// Runs one job as a child `camtwin run` into a temporary folder, then
/// renames it into place. A failed job leaves its log beside the jobs.
fn run_one(dir: &Path, job: &Job, scenario: &super::file::LoadedScenario, flags: &[String]) -> Result<f64> {
    let started = Instant::now();
    let tmp = dir.join(format!(".tmp-{}-{}", job.id, std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let log_path = tmp.join("run.log");
    let log = std::fs::File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
    let exe = std::env::current_exe().context("cannot find the camtwin executable")?;
    let mut cmd = Command::new(exe);
    cmd.arg("run")
        .arg(&scenario.path)
        .args(["--config", &job.config, "--seed", &job.seed.to_string(), "--threads", "1"])
        .arg("--out")
        .arg(&tmp)
        .args(flags)
        .env(EXIT_WITH_PARENT, "1")
        .stdin(Stdio::piped())
        .stdout(log.try_clone().context("cannot share the job log")?)
        .stderr(log);
    let mut child = cmd.spawn().context("cannot start camtwin run")?;
    // Keep the child's standard input open while it runs: it closes when
    // this process dies, and the child then stops too.
    let stdin = child.stdin.take();
    let status = child.wait().context("cannot wait for camtwin run")?;
    drop(stdin);
    let failed_log = dir.join(format!("{}.failed.log", job.id));
    if !status.success() {
        let _ = std::fs::copy(&log_path, &failed_log);
        let _ = std::fs::remove_dir_all(&tmp);
        let tail = std::fs::read_to_string(&failed_log).unwrap_or_default();
        let last = tail.lines().rev().find(|l| l.starts_with("error")).unwrap_or("").to_string();
        bail!("camtwin run exited with {status}{}", if last.is_empty() { String::new() } else { format!(": {last}") });
    }
    let wall_s = started.elapsed().as_secs_f64();
    let record = JobRecord {
        id: job.id.clone(),
        scenario: scenario.name.clone(),
        config: job.config.clone(),
        seed: job.seed,
        inputs: job.inputs.clone(),
        wall_s,
    };
    let mut f = std::fs::File::create(tmp.join("job.json")).context("cannot write job.json")?;
    f.write_all(serde_json::to_string_pretty(&record)?.as_bytes())?;
    f.sync_all()?;
    let target = dir.join(&job.id);
    if target.exists() {
        // An outdated result (other inputs): replaced.
        std::fs::remove_dir_all(&target).with_context(|| format!("cannot replace {}", target.display()))?;
    }
    std::fs::rename(&tmp, &target).with_context(|| format!("cannot move the job into {}", target.display()))?;
    let _ = std::fs::remove_file(failed_log);
    Ok(wall_s)
}

/// Makes a `camtwin run` child exit when its parent experiment dies: called
/// first in `run` when [`EXIT_WITH_PARENT`] is set; a thread waits for the
/// end of standard input, which comes when the parent's end of the pipe
/// closes.
pub fn exit_with_parent() {
    if std::env::var_os(EXIT_WITH_PARENT).is_none() {
        return;
    }
    std::thread::spawn(|| {
        use std::io::Read;
        let mut buf = [0u8; 64];
        let mut stdin = std::io::stdin();
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => std::process::exit(130),
                Ok(_) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, group: usize, lead: bool) -> Job {
        Job { id: id.into(), scenario: 0, config: "c".into(), seed: 1, inputs: "x".into(), group, lead }
    }

    #[test]
    fn shards_hold_every_job_once_and_keep_groups_together() {
        let jobs: Vec<Job> = (0..7).flat_map(|g| (0..3).map(move |c| job(&format!("{g}-{c}"), g, c == 0))).collect();
        for n in 1..=4 {
            let mut all: Vec<String> = Vec::new();
            for i in 1..=n {
                let part = shard(jobs.clone(), i, n);
                for j in &part {
                    // Every member of a group sits in the shard of its lead.
                    assert!(part.iter().any(|p| p.lead && p.group == j.group));
                }
                all.extend(part.into_iter().map(|j| j.id));
            }
            all.sort();
            let mut want: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
            want.sort();
            assert_eq!(all, want, "{n} shards");
        }
    }

    #[test]
    fn a_finished_job_says_how_many_are_done_and_how_long_the_rest_take() {
        assert_eq!(
            job_done_line("s~low~7", 61.4, 47, 90, 43, 3_900.0),
            "job s~low~7 done in 61 s; 47 of 90 jobs done, about 1 h 05 min left"
        );
        assert_eq!(
            job_done_line("s~low~8", 2.0, 90, 90, 0, 0.0),
            "job s~low~8 done in 2 s; 90 of 90 jobs done, none left"
        );
    }

    #[test]
    fn shard_text_is_checked() {
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        assert!(parse_shard("0/3").is_err());
        assert!(parse_shard("4/3").is_err());
        assert!(parse_shard("1").is_err());
    }
}
