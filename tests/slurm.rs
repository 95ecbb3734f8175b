//! An experiment's shards run as a Slurm array job on a one-node Slurm
//! started for the test (Debian's slurm-wlm and munge, installed by
//! scripts/setup-system.sh; scripts/slurm-local.sh starts them), and the
//! merged result equals one run on one machine (docs/cluster.md).

mod common;

use std::path::Path;
use std::process::Command;

use common::{EXPERIMENT_RESULTS, camtwin_cached, experiment_fixture, root};

/// Stops the test's Slurm daemons however the test ends.
struct LocalSlurm<'a>(&'a Path);

impl Drop for LocalSlurm<'_> {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/slurm-local.sh")).arg("stop").arg(self.0).output();
    }
}

#[test]
fn shards_run_as_a_slurm_array_job_merge_to_the_result_of_one_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let cache = tempfile::tempdir().expect("cache");
    let exp = experiment_fixture(dir.path());
    let e = exp.to_str().expect("utf8");
    let models = root().join("assets/models");
    let m = models.to_str().expect("utf8");
    let single = dir.path().join("single");
    let out = camtwin_cached(&["experiment", e, "--out", single.to_str().expect("utf8"), "--models", m], cache.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let slurm_dir = dir.path().join("slurm");
    let started =
        Command::new(root().join("scripts/slurm-local.sh")).arg("start").arg(&slurm_dir).output().expect("bash");
    let _stop = LocalSlurm(&slurm_dir);
    assert!(
        started.status.success(),
        "a local Slurm did not start (run `make setup`, as root): {}{}",
        String::from_utf8_lossy(&started.stdout),
        String::from_utf8_lossy(&started.stderr)
    );
    let conf = slurm_dir.join("slurm.conf");
    let shared = dir.path().join("shared");
    let sbatch = Command::new("sbatch")
        .args(["--wait", "--array=1-2", "--cpus-per-task=1"])
        .arg(format!("--output={}/task-%a.log", slurm_dir.display()))
        .arg(root().join("scripts/slurm-experiment.sbatch"))
        .arg(&exp)
        .arg(&shared)
        .current_dir(root())
        .env("SLURM_CONF", &conf)
        .env("CAMTWIN", env!("CARGO_BIN_EXE_camtwin"))
        .env("CAMTWIN_CACHE", cache.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("sbatch runs");
    let logs: String =
        (1..=2).map(|i| std::fs::read_to_string(slurm_dir.join(format!("task-{i}.log"))).unwrap_or_default()).collect();
    assert!(sbatch.status.success(), "sbatch: {}\n{logs}", String::from_utf8_lossy(&sbatch.stderr));
    for i in 1..=2 {
        assert!(shared.join(format!("shard-{i}/small-exp/jobs")).is_dir(), "shard {i} wrote no jobs:\n{logs}");
    }
    let merged = dir.path().join("merged");
    let shard_dirs: Vec<String> =
        (1..=2).map(|i| shared.join(format!("shard-{i}/small-exp")).display().to_string()).collect();
    let mut args = vec!["merge", e, &shard_dirs[0], &shard_dirs[1]];
    args.extend(["--out", merged.to_str().expect("utf8"), "--models", m]);
    let out = camtwin_cached(&args, cache.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in EXPERIMENT_RESULTS {
        let a = std::fs::read_to_string(single.join("small-exp").join(f)).expect("one run");
        let b = std::fs::read_to_string(merged.join("small-exp").join(f)).expect("merged");
        assert_eq!(a, b, "{f}: the Slurm shards merged differ from one run");
    }
}
