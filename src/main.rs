//! `camtwin`: the command line.
//!
//! `camtwin run SCENARIO --out DIR` simulates the scenario, renders what each
//! camera films, runs the edge-analytics pipeline on it, runs the less
//! intrusive sensors on the same ground truth, and writes `counts.csv`,
//! `counts.png` and `summary.md` to DIR.

mod analyse;
mod cache;
mod camera_file;
mod experiment;
mod export;
mod run;
mod sensors;
mod video;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Digital twin for judging AI-analysed cameras against less intrusive means.
#[derive(Debug, Parser)]
#[command(name = "camtwin", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a scenario, analyse each camera's video, run its sensors,
    /// compare with ground truth, and write counts, plot and summary.
    Run(run::RunArgs),
    /// Run recorded footage (a folder of PNG frames or a video file) through
    /// the same analytics pipeline, with the site described by a scenario
    /// file or a camera file.
    Analyse(analyse::AnalyseArgs),
    /// List or clear the cache of rendered footage and detections.
    Cache(cache::CacheArgs),
    /// Run an experiment: scenarios x privacy configurations and sensors x
    /// seeds, scored on the stated purposes against intrusiveness, with the
    /// legal reading, the recommendation and a report.
    Experiment(experiment::ExperimentArgs),
    /// Combine the folders of an experiment's shards into one result.
    Merge(experiment::MergeArgs),
    /// Check a scenario file and print what it describes.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
}

/// The Vulkan loader's window-system probe (libwayland) complains on stderr
/// when `XDG_RUNTIME_DIR` is unset, as on headless servers and CI. Point it
/// at a private folder so that a headless run prints only its own messages.
fn quiet_headless_vulkan() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join("camtwin-runtime");
    let private = std::fs::Permissions::from_mode(0o700);
    if std::fs::create_dir_all(&dir).is_ok() && std::fs::set_permissions(&dir, private).is_ok() {
        #[allow(unsafe_code)]
        // SAFETY: called first thing in `main`, before any other thread exists,
        // so nothing can read the environment concurrently.
        unsafe {
            std::env::set_var("XDG_RUNTIME_DIR", &dir);
        }
    }
}

/// Ends the process quietly, as other command-line tools do, when what it
/// prints goes to a pipe that was closed (`camtwin cache list | head -1`).
/// Rust ignores SIGPIPE, so every print to a closed pipe would otherwise be
/// a panic. Nothing in camtwin writes to a pipe it relies on surviving: its
/// outputs are files, and the job runner's pipe to each child only signals
/// that the parent is alive.
#[cfg(unix)]
fn exit_quietly_on_closed_pipe() {
    #[allow(unsafe_code)]
    // SAFETY: restores the default action of one signal, first thing in
    // `main`, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Keeps resident memory flat with clip length.
///
/// glibc raises its mmap threshold each time a large block is freed; after
/// that, frame-sized buffers (0.3-1.2 MB, several per frame: readback,
/// colour, letterbox, blur) come from the main heap and interleave with
/// long-lived small blocks, so the heap can no longer shrink and resident
/// memory grows with the clip (demo street, 4 minutes: 946 MiB against
/// 520 MiB for 1 minute). A fixed threshold keeps every block of 256 KiB or
/// more in its own mapping, given back to the system when freed (535 MiB for
/// the same 4 minutes), and trimming the heap every 5 s returns the pages of
/// smaller freed blocks (460 MiB); docs/PERFORMANCE.md, memory against clip
/// length.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn bound_heap_growth() {
    #[allow(unsafe_code)]
    // SAFETY: mallopt only sets allocator parameters, and is called first
    // thing in `main`, before any other thread allocates.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
    // Smaller blocks freed in the middle of an arena stay resident until
    // trimmed; every few seconds, give their pages back.
    let trimmer = std::thread::Builder::new().name("heap-trim".into()).spawn(|| {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(5));
            #[allow(unsafe_code)]
            // SAFETY: malloc_trim takes each arena's lock itself and only
            // releases free pages; it is safe to call from any thread.
            unsafe {
                libc::malloc_trim(0);
            }
        }
    });
    if let Err(e) = trimmer {
        tracing::debug!("no heap-trim thread: {e}");
    }
}

/// Other C libraries return freed large blocks on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn bound_heap_growth() {}

fn main() -> ExitCode {
    exit_quietly_on_closed_pipe();
    bound_heap_growth();
    quiet_headless_vulkan();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wgpu=error,naga=warn,bevy_render=error,bevy_pbr=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let result = match cli.command {
        Command::Run(args) => {
            experiment::exit_with_parent();
            run::run(&args)
        }
        Command::Experiment(args) => experiment::experiment(&args),
        Command::Merge(args) => experiment::merge(&args),
        Command::Analyse(args) => analyse::analyse(&args),
        Command::Cache(args) => cache::command(&args),
        Command::Check { scenario } => run::check(&scenario),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
