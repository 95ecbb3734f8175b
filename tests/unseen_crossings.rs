//! The crossings a camera could not see are listed one by one with what
//! hid them: a low camera over a sidewalk of walkers in groups loses
//! crossings behind other people, and says so.

mod common;

use common::{SMALL, camtwin, write};

#[test]
fn a_low_camera_over_groups_lists_the_crossings_people_hid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let camera = "position = [0.0, -3.6, 5.0]\nyaw_deg = 90.0\npitch_deg = 27.0";
    let crowd = "count = 70\ngroup_share = 0.0";
    assert!(SMALL.contains(camera) && SMALL.contains(crowd), "the small scenario changed");
    let text = SMALL
        .replace("duration_s = 20.0", "duration_s = 8.0")
        .replace(crowd, "count = 240\ngroup_share = 0.7")
        .replace(camera, "position = [0.0, -3.6, 1.5]\nyaw_deg = 90.0\npitch_deg = 3.0");
    let path = write(dir.path(), "low.toml", &text);
    let out = dir.path().join("out");
    let run = camtwin(&["run", path.to_str().expect("utf8"), "--out", out.to_str().expect("utf8")]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let mut split = csv::Reader::from_path(out.join("crossings.csv")).expect("crossings.csv");
    let not_visible: u64 = split
        .records()
        .map(|r| r.expect("row"))
        .filter(|r| &r[2] == "person")
        .map(|r| r[10].parse::<u64>().expect("not_visible"))
        .sum();
    assert!(not_visible > 0, "the low camera saw every crossing");
    let mut unseen = csv::Reader::from_path(out.join("unseen-crossings.csv")).expect("unseen-crossings.csv");
    assert_eq!(
        unseen.headers().expect("header"),
        vec!["source", "line", "class", "direction", "time_s", "agent", "reason"]
    );
    let rows: Vec<csv::StringRecord> = unseen.records().collect::<Result<_, _>>().expect("rows");
    assert_eq!(rows.len() as u64, not_visible, "one row per crossing it could not see");
    let by_people = rows.iter().filter(|r| &r[6] == "hidden_by_people").count();
    assert!(by_people * 2 > rows.len(), "{by_people} of {} hidden by people: {rows:?}", rows.len());
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary");
    assert!(
        summary.contains(&format!("Of the {not_visible} true crossings of its lines it could not see: ")),
        "{summary}"
    );
}
