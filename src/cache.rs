//! Render once, analyse many: rendered footage and detections cached on
//! disk.
//!
//! A footage entry holds every frame one camera filmed of one scenario and
//! seed, as lossless PNG, under a key that hashes everything that changes
//! the pixels (the street, lighting, demand, parking, seed, duration and
//! step of the scenario, the camera, [`RENDERER_VERSION`] and the
//! simulation's [`camtwin_sim::world::SIMULATION_VERSION`]: where people
//! walk is not fixed by the scenario and seed alone once the motion code
//! changes); lines, zones, sensors and privacy settings are
//! not in it. Beside the frames, each set of detections is kept under a key
//! that hashes everything applied before detection (masks, face blur,
//! resolution, the analysed region, the detector's model and input), so a
//! configuration that differs only after detection replays them.
//!
//! Entries are written into a temporary folder and renamed into place once
//! complete, so a crash leaves no entry that looks whole; a corrupt entry is
//! removed and recomputed with a warning. The cache keeps under a size limit
//! by removing the least recently used entries. `camtwin cache` lists and
//! clears it.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};
use camtwin_analytics::pipeline::{FrameResult, Replay};
use camtwin_analytics::report::write_atomic;
use camtwin_sim::scenario::{CameraSpec, Scenario};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Changes whenever the renderer draws differently, so old footage is not
/// reused. 2026-12-06b: vehicles with sloped windscreens, lamps, hubs and a
/// contact shadow (a COCO detector found none of the box-shaped ones).
pub const RENDERER_VERSION: &str = "camtwin-render/2026-12-06b";

/// Changes whenever the motorcycle mesh changes. Part of the footage key of
/// scenarios whose traffic has motorcycles only, so that redrawing them
/// keeps every other scenario's footage (and the experiments resumed on
/// it). 2026-12-07: thick tyres, tank, engine, exhaust and a coloured rider
/// instead of a box between two discs.
pub const MOTORCYCLE_MESH_VERSION: &str = "camtwin-motorcycle/2026-12-07";

/// The versions of meshes that only some scenarios draw (see
/// [`MOTORCYCLE_MESH_VERSION`]), for the footage key and
/// [`code_versions`]; `None` for a scenario that draws none of them.
pub fn mesh_versions(scenario: &Scenario) -> Option<&'static str> {
    scenario.vehicles.mix.filter(|m| m.motorcycle > 0.0).map(|_| MOTORCYCLE_MESH_VERSION)
}

/// Every version of the code that makes a scenario's footage and ground
/// truth: the renderer, the simulation and the meshes only some scenarios
/// draw. An experiment's job inputs hash them all, so that a resumed
/// experiment never keeps results made by older code; [`footage_key`]
/// holds the same versions under named fields (kept so that cached footage
/// keeps its keys).
pub fn code_versions(scenario: &Scenario) -> Vec<&'static str> {
    let mut v = vec![RENDERER_VERSION, camtwin_sim::world::SIMULATION_VERSION];
    v.extend(mesh_versions(scenario));
    v
}

/// Default size limit, bytes.
pub const DEFAULT_LIMIT_BYTES: u64 = 20 * 1024 * 1024 * 1024;

/// Arguments of `camtwin cache`.
#[derive(Debug, clap::Args)]
pub struct CacheArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: CacheAction,
    /// The cache folder (default: $CAMTWIN_CACHE/footage, or
    /// ~/.cache/camtwin/footage).
    #[arg(long, global = true)]
    pub dir: Option<PathBuf>,
}

/// `camtwin cache` actions.
#[derive(Debug, clap::Subcommand)]
pub enum CacheAction {
    /// List the entries: key, camera, frames, detection sets, size, last use.
    List,
    /// Remove every entry.
    Clear,
}

/// The cache's default folder.
pub fn default_dir() -> PathBuf {
    let base = std::env::var_os("CAMTWIN_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/camtwin")))
        .unwrap_or_else(|| PathBuf::from(".camtwin-cache"));
    base.join("footage")
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of a camera's footage of a scenario (its seed included).
pub fn footage_key(scenario: &Scenario, cam: &CameraSpec) -> Result<String> {
    let mut what = serde_json::json!({
        "renderer": RENDERER_VERSION,
        "simulation": camtwin_sim::world::SIMULATION_VERSION,
        "seed": scenario.scenario.seed,
        "duration_s": scenario.scenario.duration_s,
        "step_hz": scenario.scenario.step_hz,
        "street": &scenario.street,
        "lighting": &scenario.lighting,
        "pedestrians": &scenario.pedestrians,
        "vehicles": &scenario.vehicles,
        "parking": &scenario.parking,
        "camera": cam,
    });
    // Zones where people wait move them; other zones change no pixel (and
    // a scenario without waiting keeps the keys it had).
    let waits: Vec<_> = scenario.zones.iter().filter(|z| z.wait.is_some()).collect();
    if !waits.is_empty() {
        what["waits"] = serde_json::to_value(waits)?;
    }
    if let Some(versions) = mesh_versions(scenario) {
        what["meshes"] = serde_json::json!(versions);
    }
    // A warm-up moves everyone; without one the keys stay as they were.
    if scenario.scenario.warm_up_s > 0.0 {
        what["warm_up_s"] = serde_json::json!(scenario.scenario.warm_up_s);
    }
    Ok(hex(serde_json::to_string(&what)?.as_bytes()))
}

/// The layout of cached per-frame results (`FrameResult`): part of every
/// detections key, bumped whenever the results gain or change a field, so
/// that older entries (which would read the new field as empty) are never
/// replayed.
/// Format 3: detections are the detector's candidates (score ≥ 0.1, loose
/// suppression), not its final boxes.
pub const RESULTS_FORMAT: u32 = 3;

/// The key of a set of detections: a hash of whatever is applied before and
/// in detection, given as JSON by the caller, and of [`RESULTS_FORMAT`].
pub fn detections_key(what: &serde_json::Value) -> String {
    hex(format!("{RESULTS_FORMAT}/{what}").as_bytes())
}

/// What an entry's `meta.json` says; written last, so its presence marks a
/// complete entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// The camera's id (for listing only).
    pub camera: String,
    /// The scenario's name (for listing only).
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// Frames in the entry.
    pub frames: u64,
    /// Frame size.
    pub width: u32,
    /// Frame size.
    pub height: u32,
}

/// The footage cache.
#[derive(Debug, Clone)]
pub struct FootageCache {
    root: PathBuf,
    limit_bytes: u64,
}

/// A complete footage entry.
#[derive(Debug, Clone)]
pub struct Entry {
    dir: PathBuf,
    /// Its description.
    pub meta: Meta,
}

/// Footage being written into a temporary folder.
#[derive(Debug)]
pub struct EntryWriter {
    tmp: PathBuf,
    dir: PathBuf,
    frames: u64,
}

fn frame_name(index: u64) -> String {
    format!("{index:06}.png")
}

fn dir_size(dir: &Path) -> u64 {
    walk(dir).iter().filter_map(|p| p.metadata().ok()).map(|m| m.len()).sum()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

impl FootageCache {
    /// Opens (creating) the cache at `root`, removing temporary folders left
    /// by runs that died.
    pub fn open(root: &Path, limit_bytes: u64) -> Result<Self> {
        std::fs::create_dir_all(root).with_context(|| format!("cannot create the cache folder {}", root.display()))?;
        for e in std::fs::read_dir(root).with_context(|| format!("cannot list {}", root.display()))?.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if let Some(pid) = name.split(".tmp-").nth(1)
                && !Path::new(&format!("/proc/{pid}")).exists()
            {
                tracing::warn!(entry = %name, "removing footage left half-written by a run that died");
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        Ok(Self { root: root.to_path_buf(), limit_bytes })
    }

    /// The complete entry under `key`, if any; an unreadable one is removed.
    pub fn lookup(&self, key: &str) -> Option<Entry> {
        let dir = self.root.join(key);
        let meta_path = dir.join("meta.json");
        let text = std::fs::read(&meta_path).ok()?;
        let meta: Option<Meta> = serde_json::from_slice(&text).ok();
        let complete =
            meta.as_ref().is_some_and(|m| (0..m.frames).all(|i| dir.join("frames").join(frame_name(i)).is_file()));
        match (meta, complete) {
            (Some(meta), true) => {
                // Mark the use, for least-recently-used eviction.
                let _ = std::fs::File::options()
                    .append(true)
                    .open(&meta_path)
                    .and_then(|f| f.set_modified(SystemTime::now()));
                Some(Entry { dir, meta })
            }
            _ => {
                tracing::warn!(entry = %dir.display(), "corrupt footage entry: removed, the footage is rendered again");
                let _ = std::fs::remove_dir_all(&dir);
                None
            }
        }
    }

    /// Starts writing the entry `key`.
    pub fn writer(&self, key: &str) -> Result<EntryWriter> {
        let tmp = self.root.join(format!("{key}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("frames")).with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(EntryWriter { tmp, dir: self.root.join(key), frames: 0 })
    }

    /// Removes the least recently used entries until the cache fits its limit.
    pub fn evict(&self) -> Result<()> {
        let mut entries = self.entries()?;
        let mut total: u64 = entries.iter().map(|e| e.2).sum();
        entries.sort_by_key(|e| e.1);
        for (dir, _, size) in entries {
            if total <= self.limit_bytes {
                break;
            }
            tracing::info!(entry = %dir.display(), bytes = size, "cache over its limit: removing the least recently used footage");
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
            total = total.saturating_sub(size);
        }
        Ok(())
    }

    /// Every complete entry: folder, last use, size in bytes.
    fn entries(&self) -> Result<Vec<(PathBuf, SystemTime, u64)>> {
        let mut out = Vec::new();
        for e in
            std::fs::read_dir(&self.root).with_context(|| format!("cannot list {}", self.root.display()))?.flatten()
        {
            let meta = e.path().join("meta.json");
            if let Ok(m) = meta.metadata() {
                out.push((e.path(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH), dir_size(&e.path())));
            }
        }
        Ok(out)
    }
}

impl EntryWriter {
    /// Adds the next frame. Its id buffer, when it has one, is kept as the
    /// PNG's alpha channel.
    pub fn add(&mut self, index: u64, frame: &camtwin_render::RenderedFrame) -> Result<()> {
        let path = self.tmp.join("frames").join(frame_name(index));
        let (w, h) = (frame.width, frame.height);
        if frame.ids.len() == w as usize * h as usize {
            let rgba: Vec<u8> =
                frame.rgb.chunks_exact(3).zip(&frame.ids).flat_map(|(p, &id)| [p[0], p[1], p[2], id]).collect();
            camtwin_analytics::report::write_png_rgba(&path, w, h, &rgba)?;
        } else {
            camtwin_analytics::report::write_png(&path, w, h, &frame.rgb)?;
        }
        self.frames = self.frames.max(index + 1);
        Ok(())
    }

    /// Completes the entry: writes its description and renames it into place.
    pub fn finish(self, meta: &Meta) -> Result<()> {
        if meta.frames != self.frames {
            anyhow::bail!("footage entry has {} frames, expected {}", self.frames, meta.frames);
        }
        write_atomic(&self.tmp.join("meta.json"), &serde_json::to_vec_pretty(meta)?)?;
        if self.dir.exists() {
            // Another run finished the same footage first.
            let _ = std::fs::remove_dir_all(&self.tmp);
            return Ok(());
        }
        std::fs::rename(&self.tmp, &self.dir)
            .with_context(|| format!("cannot move footage into {}", self.dir.display()))
    }
}

impl Drop for EntryWriter {
    fn drop(&mut self) {
        // Unfinished footage never stays behind.
        if self.tmp.exists() {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

impl Entry {
    /// Reads frame `index` with its id buffer (empty when the entry has none).
    pub fn frame(&self, index: u64) -> std::result::Result<camtwin_render::RenderedFrame, String> {
        camtwin_analytics::report::decode_png_with_alpha(&self.dir.join("frames").join(frame_name(index))).map(|f| {
            camtwin_render::RenderedFrame {
                width: f.width,
                height: f.height,
                rgb: f.rgb,
                ids: f.alpha.unwrap_or_default(),
            }
        })
    }

    /// Earlier detections under `key`, if stored and readable.
    pub fn detections(&self, key: &str) -> Option<Replay> {
        let path = self.dir.join("detections").join(format!("{key}.json"));
        let bytes = std::fs::read(&path).ok()?;
        match serde_json::from_slice::<Vec<FrameResult>>(&bytes) {
            Ok(results) => Some(results.into_iter().map(|r| (r.frame, r)).collect()),
            Err(e) => {
                tracing::warn!(file = %path.display(), "corrupt cached detections ({e}): removed, detecting again");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores detections under `key`, merged with those already there.
    pub fn store_detections(&self, key: &str, results: &[FrameResult]) -> Result<()> {
        let mut all = self.detections(key).unwrap_or_default();
        for r in results {
            all.insert(r.frame, r.clone());
        }
        let mut list: Vec<&FrameResult> = all.values().collect();
        list.sort_by_key(|r| r.frame);
        let dir = self.dir.join("detections");
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        write_atomic(&dir.join(format!("{key}.json")), &serde_json::to_vec(&list)?)
            .with_context(|| format!("cannot write detections into {}", dir.display()))
    }
}

/// `camtwin cache`.
pub fn command(args: &CacheArgs) -> Result<()> {
    let root = args.dir.clone().unwrap_or_else(default_dir);
    let cache = FootageCache::open(&root, DEFAULT_LIMIT_BYTES)?;
    match args.action {
        CacheAction::List => {
            let mut entries = cache.entries()?;
            entries.sort_by_key(|e| std::cmp::Reverse(e.1));
            let total: u64 = entries.iter().map(|e| e.2).sum();
            println!("{}: {} entries, {:.1} MB", root.display(), entries.len(), total as f64 / 1e6);
            for (dir, used, size) in entries {
                let meta: Option<Meta> =
                    std::fs::read(dir.join("meta.json")).ok().and_then(|b| serde_json::from_slice(&b).ok());
                let sets = std::fs::read_dir(dir.join("detections")).map(|d| d.count()).unwrap_or(0);
                let age = used.elapsed().map(|d| d.as_secs() / 60).unwrap_or(0);
                let name = dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                match meta {
                    Some(m) => println!(
                        "{}  camera {} of `{}` seed {}: {} frames {}x{}, {} detection set(s), {:.1} MB, used {} min ago",
                        &name[..12.min(name.len())],
                        m.camera,
                        m.scenario,
                        m.seed,
                        m.frames,
                        m.width,
                        m.height,
                        sets,
                        size as f64 / 1e6,
                        age
                    ),
                    None => println!("{name}: unreadable description"),
                }
            }
        }
        CacheAction::Clear => {
            let entries = cache.entries()?;
            for (dir, _, _) in &entries {
                std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
            }
            println!("{}: removed {} entries", root.display(), entries.len());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(width: u32, height: u32, rgb: &[u8], ids: &[u8]) -> camtwin_render::RenderedFrame {
        camtwin_render::RenderedFrame { width, height, rgb: rgb.to_vec(), ids: ids.to_vec() }
    }

    /// The demo street, and the footage key of its first camera for any
    /// variant of it.
    fn demo_and_key() -> (Scenario, impl Fn(&Scenario) -> String) {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo.toml"));
        let text = std::fs::read_to_string(path).expect("demo scenario");
        let scenario = Scenario::parse(&text, path).expect("parses");
        let cam = scenario.cameras[0].clone();
        (scenario, move |s: &Scenario| footage_key(s, &cam).expect("key"))
    }

    #[test]
    fn the_footage_key_changes_with_zones_where_people_wait_only() {
        let (scenario, key) = demo_and_key();
        let mut zoned = scenario.clone();
        zoned.zones.push(camtwin_sim::scenario::ZoneSpec {
            id: "stop".into(),
            polygon: vec![[-4.0, 3.5], [4.0, 3.5], [4.0, 6.0], [-4.0, 6.0]],
            kind: Default::default(),
            label: None,
            wait: None,
        });
        assert_eq!(key(&scenario), key(&zoned), "a zone nobody waits in changes no pixel");
        let mut waiting = zoned.clone();
        waiting.zones[0].wait = Some(camtwin_sim::scenario::WaitSpec { share: 0.2, dwell_s: [10.0, 60.0] });
        let mut longer = waiting.clone();
        longer.zones[0].wait = Some(camtwin_sim::scenario::WaitSpec { share: 0.2, dwell_s: [10.0, 90.0] });
        assert_ne!(key(&zoned), key(&waiting));
        assert_ne!(key(&waiting), key(&longer));
    }

    #[test]
    fn a_warm_up_changes_the_footage_key() {
        let (scenario, key) = demo_and_key();
        let mut warm = scenario.clone();
        warm.scenario.warm_up_s = 10.0;
        let mut warmer = scenario.clone();
        warmer.scenario.warm_up_s = 20.0;
        assert_ne!(key(&scenario), key(&warm), "a warm-up moves everyone");
        assert_ne!(key(&warm), key(&warmer));
    }

    #[test]
    fn a_half_written_entry_is_never_found_and_a_finished_one_is() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = FootageCache::open(dir.path(), DEFAULT_LIMIT_BYTES).expect("open");
        let meta = Meta { camera: "c".into(), scenario: "s".into(), seed: 1, frames: 2, width: 2, height: 1 };
        let mut w = cache.writer("k").expect("writer");
        w.add(0, &frame(2, 1, &[1, 2, 3, 4, 5, 6], &[])).expect("frame");
        assert!(cache.lookup("k").is_none(), "nothing before it is finished");
        drop(w);
        assert!(cache.lookup("k").is_none(), "an abandoned entry leaves nothing");
        let mut w = cache.writer("k").expect("writer");
        w.add(0, &frame(2, 1, &[1, 2, 3, 4, 5, 6], &[9, 0])).expect("frame");
        w.add(1, &frame(2, 1, &[6, 5, 4, 3, 2, 1], &[])).expect("frame");
        w.finish(&meta).expect("finish");
        let entry = cache.lookup("k").expect("complete");
        // The id buffer comes back with its frame; a frame without one has none.
        assert_eq!(entry.frame(0).expect("decodes"), frame(2, 1, &[1, 2, 3, 4, 5, 6], &[9, 0]));
        assert_eq!(entry.frame(1).expect("decodes"), frame(2, 1, &[6, 5, 4, 3, 2, 1], &[]));
        // A missing frame makes the entry corrupt: removed, not returned.
        std::fs::remove_file(dir.path().join("k/frames/000000.png")).expect("rm");
        assert!(cache.lookup("k").is_none());
        assert!(!dir.path().join("k").exists());
    }

    #[test]
    fn eviction_keeps_the_cache_under_its_limit_removing_the_oldest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let big = FootageCache::open(dir.path(), DEFAULT_LIMIT_BYTES).expect("open");
        for key in ["old", "new"] {
            let mut w = big.writer(key).expect("writer");
            w.add(0, &frame(64, 64, &[7u8; 64 * 64 * 3], &[])).expect("frame");
            let meta = Meta { camera: "c".into(), scenario: "s".into(), seed: 1, frames: 1, width: 64, height: 64 };
            w.finish(&meta).expect("finish");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let one = dir_size(&dir.path().join("new"));
        let small = FootageCache::open(dir.path(), one + one / 2).expect("open");
        small.evict().expect("evict");
        assert!(!dir.path().join("old").exists(), "the least recently used goes");
        assert!(dir.path().join("new").exists());
    }
}
