//! `camtwin experiment` and `camtwin merge` end to end, on a small street:
//! the outputs an analyst reads, resuming after kill -9, sharding and
//! merging equal to one run, the report in a headless browser, and bad
//! experiment files.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{EXPERIMENT, camtwin_cached, experiment_fixture as setup, root, write};

fn run(args: &[&str], cache: &Path) -> std::process::Output {
    let out = camtwin_cached(args, cache);
    assert!(
        out.status.success(),
        "camtwin {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn rows(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.records().map(|x| x.expect("csv row")).collect()
}

fn header(path: &Path) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    r.headers().expect("header").iter().map(str::to_string).collect()
}

fn col(path: &Path, name: &str) -> Vec<String> {
    let h = header(path);
    let k = h.iter().position(|c| c == name).unwrap_or_else(|| panic!("{}: no column {name}", path.display()));
    rows(path).iter().map(|r| r[k].to_string()).collect()
}

use common::EXPERIMENT_RESULTS as RESULTS;

#[test]
fn an_experiment_scores_cameras_and_sensors_and_shards_merge_to_the_same_result() {
    let dir = tempfile::tempdir().expect("tmp");
    let cache = tempfile::tempdir().expect("cache");
    let exp = setup(dir.path());
    let out = dir.path().join("out");
    let models = root().join("assets/models");
    let (e, o, m) = (exp.to_str().expect("utf8"), out.to_str().expect("utf8"), models.to_str().expect("utf8"));
    let printed = run(&["experiment", e, "--out", o, "--models", m, "--jobs", "2"], cache.path());
    let res = out.join("small-exp");
    // Two configurations × two seeds.
    let jobs: Vec<_> = std::fs::read_dir(res.join("jobs"))
        .expect("jobs")
        .flatten()
        .filter(|e| e.path().join("job.json").exists())
        .collect();
    assert_eq!(jobs.len(), 4, "jobs: {:?}", jobs.iter().map(|e| e.file_name()).collect::<Vec<_>>());
    // Without a terminal no bar is drawn: each finished job says so on a line.
    let err = String::from_utf8_lossy(&printed.stderr);
    let done: Vec<&str> = err.lines().filter(|l| l.starts_with("job ") && l.contains(" done in ")).collect();
    assert_eq!(done.len(), 4, "{err}");
    assert!(done.iter().any(|l| l.ends_with("4 of 4 jobs done, none left")), "{err}");
    let means = res.join("means.csv");
    let names = col(&means, "means");
    let kinds = col(&means, "kind");
    let purposes = col(&means, "purpose");
    // Each camera configuration and each sensor, on each purpose.
    for want in ["cam · native", "cam · low", "passive_infrared ir", "presence pres"] {
        assert_eq!(names.iter().filter(|n| *n == want).count(), 2, "{want} in {names:?}");
    }
    assert!(kinds.contains(&"camera".to_string()) && kinds.contains(&"sensor".to_string()));
    // The infrared counter cannot tell occupancy, the presence detector cannot count.
    let cannot = col(&means, "cannot_serve");
    for (k, n) in names.iter().enumerate() {
        let serves = cannot[k].is_empty();
        match (n.as_str(), purposes[k].as_str()) {
            ("passive_infrared ir", "occupied") | ("presence pres", "counts") => {
                assert!(!serves, "{n} on {}", purposes[k])
            }
            (_, _) if n.starts_with("cam") => assert!(serves, "{n} on {}: {}", purposes[k], cannot[k]),
            _ => {}
        }
    }
    // Errors over the two seeds, with intervals.
    let seeds = col(&means, "seeds");
    let errs = col(&means, "error_mean");
    for (k, n) in names.iter().enumerate() {
        if cannot[k].is_empty() {
            assert_eq!(seeds[k], "2", "{n}");
            let e: f64 = errs[k].parse().expect("error is a number");
            assert!((0.0..=1.5).contains(&e), "{n}: {e}");
        }
    }
    // Sensors below cameras on the intrusiveness scale; a legal reading for each.
    let score: Vec<f64> = col(&means, "intrusion_score").iter().map(|s| s.parse().expect("score")).collect();
    let max_sensor = (0..names.len()).filter(|&k| kinds[k] == "sensor").map(|k| score[k]).fold(f64::MIN, f64::max);
    let min_camera = (0..names.len()).filter(|&k| kinds[k] == "camera").map(|k| score[k]).fold(f64::MAX, f64::min);
    assert!(max_sensor < min_camera, "sensors {max_sensor} vs cameras {min_camera}");
    assert!(col(&means, "legal_reading").iter().all(|r| !r.is_empty()));
    // Per class, direction and interval, over seeds.
    let errors = res.join("errors.csv");
    let intervals = col(&errors, "interval");
    assert!(intervals.iter().any(|i| i == "all") && intervals.iter().any(|i| i == "0-4"), "{intervals:?}");
    // Plots: PNG, SVG and CSV of each.
    for stem in ["frontier--small--counts", "cost--small--counts", "by-interval--small--counts"] {
        for ext in ["png", "svg", "csv"] {
            let p = res.join("plots").join(format!("{stem}.{ext}"));
            assert!(p.metadata().is_ok_and(|m| m.len() > 100), "{}", p.display());
        }
    }
    let md = std::fs::read_to_string(res.join("report.md")).expect("report.md");
    assert!(md.contains("## Answer") && md.contains("not legal advice"), "{md}");
    let stdout = String::from_utf8_lossy(&printed.stdout);
    assert!(stdout.contains("report:"), "{stdout}");

    // Shards 1/2 and 2/2, merged, equal the single run.
    let shard_dirs: Vec<PathBuf> = (1..=2).map(|i| dir.path().join(format!("shard-{i}"))).collect();
    for (i, d) in shard_dirs.iter().enumerate() {
        let shard = format!("{}/2", i + 1);
        run(&["experiment", e, "--out", d.to_str().expect("utf8"), "--models", m, "--shard", &shard], cache.path());
        assert!(!d.join("small-exp/report.md").exists(), "a shard reports nothing on its own");
    }
    let merged = dir.path().join("merged");
    let shard_args: Vec<String> = shard_dirs.iter().map(|d| d.join("small-exp").display().to_string()).collect();
    let mut args = vec!["merge", e];
    args.extend(shard_args.iter().map(String::as_str));
    args.extend(["--out", merged.to_str().expect("utf8"), "--models", m]);
    run(&args, cache.path());
    for f in RESULTS {
        let a = std::fs::read_to_string(res.join(f)).expect("single");
        let b = std::fs::read_to_string(merged.join("small-exp").join(f)).expect("merged");
        assert_eq!(a, b, "{f} differs between one run and merged shards");
    }
    // A merge with a shard missing says which jobs are missing.
    let partial = dir.path().join("partial");
    let out = camtwin_cached(
        &["merge", e, &shard_args[0], "--out", partial.to_str().expect("utf8"), "--models", m],
        cache.path(),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in none of the shards"));

    // The HTML report renders in headless Chromium, images and all.
    check_in_browser(&res.join("report.html"), dir.path());
}

/// Loads the report in Debian's headless Chromium (installed by
/// scripts/setup-system.sh): every embedded plot must load, and a
/// screenshot is taken.
fn check_in_browser(html: &Path, tmp: &Path) {
    let chromium = ["chromium", "chromium-browser"]
        .iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
        .expect("chromium is installed (make setup installs it)");
    let url = format!("file://{}", html.display());
    let profile = tmp.join("chromium-profile");
    let base = |extra: &[&str]| {
        let mut c = Command::new(chromium);
        c.args(["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&url)
            .stdin(Stdio::null());
        c
    };
    let dom = base(&["--dump-dom"]).output().expect("chromium runs");
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.status.success(), "chromium failed: {}", String::from_utf8_lossy(&dom.stderr));
    assert!(
        dom_text.contains("data-rendered=\"ok\""),
        "the report did not render its images: {}",
        &dom_text[..dom_text.len().min(400)]
    );
    assert!(!dom_text.contains("data-images=\"0\""), "the report has no images");
    let shot = tmp.join("report.png");
    let out =
        base(&[&format!("--screenshot={}", shot.display()), "--window-size=1280,2400"]).output().expect("chromium");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(shot.metadata().is_ok_and(|m| m.len() > 20_000), "screenshot {}", shot.display());
}

#[test]
fn a_killed_experiment_resumes_without_redoing_finished_jobs() {
    let dir = tempfile::tempdir().expect("tmp");
    let cache = tempfile::tempdir().expect("cache");
    let exp = setup(dir.path());
    let out = dir.path().join("out");
    let jobs = out.join("small-exp/jobs");
    let mut child = Command::new(env!("CARGO_BIN_EXE_camtwin"))
        // Without the cache every job renders: long enough to be caught running.
        .args([
            "experiment",
            exp.to_str().expect("utf8"),
            "--out",
            out.to_str().expect("utf8"),
            "--jobs",
            "1",
            "--no-cache",
        ])
        .arg("--models")
        .arg(root().join("assets/models"))
        .env("CAMTWIN_CACHE", cache.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("camtwin runs");
    let finished = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .map(|r| {
                r.flatten()
                    // A job is finished once renamed out of its temporary folder.
                    .filter(|e| !e.file_name().to_string_lossy().starts_with(".tmp-"))
                    .filter(|e| e.path().join("job.json").exists())
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let running = |d: &Path| {
        std::fs::read_dir(d).is_ok_and(|r| r.flatten().any(|e| e.file_name().to_string_lossy().starts_with(".tmp-")))
    };
    // Kill while a job runs, after at least one finished.
    let started = Instant::now();
    while finished(&jobs).is_empty() || !running(&jobs) {
        assert!(started.elapsed() < Duration::from_secs(600), "no job finished in 10 minutes");
        assert!(child.try_wait().expect("wait").is_none(), "the experiment ended before it could be killed");
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
    let first = finished(&jobs);
    assert!(first.len() < 4, "all jobs were done before the kill: {first:?}");
    let stamp = |id: &str| std::fs::read_to_string(jobs.join(id).join("job.json")).expect("job.json");
    let before: Vec<String> = first.iter().map(|id| stamp(id)).collect();
    // The children stop with their parent: within a second no `camtwin run`
    // writing into this experiment is left (a job alone takes longer).
    let alive = || -> Vec<String> {
        std::fs::read_dir("/proc")
            .map(|r| {
                r.flatten()
                    .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                    .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
                    .filter(|c| c.contains(" run ") && c.contains(&format!("{}/.tmp-", jobs.display())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let killed = Instant::now();
    while !alive().is_empty() && killed.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(alive(), Vec::<String>::new(), "jobs outlived their killed experiment");
    assert_eq!(finished(&jobs), first, "a job finished after its experiment was killed");
    let again = camtwin_cached(
        &[
            "experiment",
            exp.to_str().expect("utf8"),
            "--out",
            out.to_str().expect("utf8"),
            "--models",
            root().join("assets/models").to_str().expect("utf8"),
        ],
        cache.path(),
    );
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{err}");
    assert!(err.contains(&format!("{} of 4 jobs already done", first.len())), "{err}");
    assert_eq!(finished(&jobs).len(), 4);
    // The finished jobs were kept as they were, not run again.
    let after: Vec<String> = first.iter().map(|id| stamp(id)).collect();
    assert_eq!(before, after);
    // No half-written job folder is left.
    let leftovers: Vec<_> = std::fs::read_dir(&jobs)
        .expect("jobs")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn bad_experiment_files_are_refused_with_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tmp");
    setup(dir.path());
    let cases = [
        (
            EXPERIMENT.replace("max_error = 0.5\n\n[[purposes]]", "max_error = 15\n\n[[purposes]]"),
            "max_error = 15",
            "exp.toml:13",
        ),
        (EXPERIMENT.replace("measure = \"count\"", "measure = \"counts\""), "measure", "exp.toml:10"),
        (
            EXPERIMENT.replace("path = \"small.toml\"", "path = \"small.toml\"\nconfigs = [\"nope\"]"),
            "no privacy configuration `nope`",
            "exp.toml:24",
        ),
        (EXPERIMENT.replace("line = \"north\"", "line = \"south\""), "no line `south`", "exp.toml:12"),
        (EXPERIMENT.replace("path = \"small.toml\"", "path = \"missing.toml\""), "missing.toml", "exp.toml:23"),
        (EXPERIMENT.replace("seeds = 2", "seeds = 2\ncolour = \"red\""), "colour", "exp.toml:6"),
        (
            EXPERIMENT.replace("path = \"small.toml\"", "path = \"small.toml\"\nsensors = [\"ir\", \"radar\"]"),
            "no sensor `radar`",
            "exp.toml:24",
        ),
    ];
    for (k, (text, says, at)) in cases.iter().enumerate() {
        let f = write(dir.path(), &format!("bad-{k}.toml"), text).display().to_string();
        let out = common::camtwin(&["experiment", &f, "--out", dir.path().join("o").to_str().expect("utf8")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "case {k} was accepted");
        let at = at.replace("exp.toml", &format!("bad-{k}.toml"));
        assert!(
            err.contains(says) && err.contains(&format!("{at}:")),
            "case {k}: expected `{says}` at {at}, got: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}
