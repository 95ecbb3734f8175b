//! A camera that sees a counting zone and no counting line still runs: it
//! counts the zone's occupancy (a camera over a bus stop with no line
//! beside it). A camera that sees neither is refused with a clear error.

mod common;

use common::{SMALL, camtwin, write};

/// The small street without its line and its sensor, for 4 s: what the
/// camera has to count is the zone around where the line was.
fn zone_only() -> String {
    let line = "[[lines]]\nid = \"north\"\nfrom = [0.0, 3.5]\nto = [0.0, 7.0]\n";
    assert!(SMALL.contains(line), "the small scenario's line moved");
    let text = SMALL.replace(line, "").replace("duration_s = 20.0", "duration_s = 4.0");
    let sensors = text.find("[[sensors]]").expect("the small scenario has sensors");
    let end = text[sensors..].find("\n\n").map_or(text.len(), |e| sensors + e);
    format!("{}{}", &text[..sensors], &text[end..])
}

#[test]
fn a_camera_with_only_a_zone_in_view_counts_its_occupancy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = zone_only();
    assert!(!text.contains("[[sensors]]") && !text.contains("[[lines]]"), "{text}");
    let path = write(dir.path(), "zone.toml", &text);
    let out = dir.path().join("out");
    let run = camtwin(&["run", path.to_str().expect("utf8"), "--out", out.to_str().expect("utf8")]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let zones = std::fs::read_to_string(out.join("zones.csv")).expect("zones.csv");
    assert!(zones.lines().any(|l| l.starts_with("camera:cam,around-line,person,")), "{zones}");
}

#[test]
fn a_camera_with_nothing_to_count_in_view_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The zone moved far down the street, out of the camera's image.
    let around = "[[-1.5, 3.5], [1.5, 3.5], [1.5, 7.0], [-1.5, 7.0]]";
    assert!(SMALL.contains(around), "the small scenario's zone moved");
    let text = zone_only().replace(around, "[[12.0, 3.5], [14.0, 3.5], [14.0, 7.0], [12.0, 7.0]]");
    let path = write(dir.path(), "blind.toml", &text);
    let out = dir.path().join("out");
    let run = camtwin(&["run", path.to_str().expect("utf8"), "--out", out.to_str().expect("utf8")]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("no camera sees any counting line or counting zone"), "{err}");
    assert!(!out.exists(), "no output folder for a refused run");
}
