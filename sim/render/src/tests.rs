//! End-to-end tests: they open a real Vulkan device (lavapipe on CI machines).

use std::collections::HashMap;
use std::f32::consts::PI;
use std::time::Instant;

use camtwin_sim::geometry::{CameraView, Instance, Lighting, MeshData, MeshKey, MeshLibrary};

use super::{RenderedFrame, Renderer};

/// A library backed by a map, as the simulation's would be.
#[derive(Default)]
struct MapLibrary(HashMap<MeshKey, MeshData>);

impl MeshLibrary for MapLibrary {
    fn mesh(&self, key: MeshKey) -> MeshData {
        self.0.get(&key).cloned().unwrap_or_default()
    }
}

/// Axis-aligned box centred on the origin, flat-shaded.
fn cube(side: f32, color: [f32; 4]) -> MeshData {
    let h = side / 2.0;
    let mut mesh = MeshData::default();
    // (normal, two in-face axes whose cross product is the normal)
    let faces: [([f32; 3], [f32; 3], [f32; 3]); 6] = [
        ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]),
        ([-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]),
        ([0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]),
        ([0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]),
        ([0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]),
        ([0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]),
    ];
    for (n, a, b) in faces {
        let base = mesh.positions.len() as u32;
        for (sa, sb) in [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)] {
            mesh.positions.push(std::array::from_fn(|k| h * (n[k] + sa * a[k] + sb * b[k])));
            mesh.normals.push(n);
            mesh.colors.push(color);
        }
        mesh.indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
    }
    mesh
}

/// Square ground plane at z = 0, centred on (cx, cy), with a checker of two greys
/// so that the image has structure.
fn ground(cx: f32, cy: f32, half: f32, tiles: u32) -> MeshData {
    let mut mesh = MeshData::default();
    let step = 2.0 * half / tiles as f32;
    for i in 0..tiles {
        for j in 0..tiles {
            let x0 = cx - half + i as f32 * step;
            let y0 = cy - half + j as f32 * step;
            let grey = if (i + j) % 2 == 0 { 0.08 } else { 0.16 };
            let base = mesh.positions.len() as u32;
            for (dx, dy) in [(0.0, 0.0), (step, 0.0), (step, step), (0.0, step)] {
                mesh.positions.push([x0 + dx, y0 + dy, 0.0]);
                mesh.normals.push([0.0, 0.0, 1.0]);
                mesh.colors.push([grey, grey, grey, 1.0]);
            }
            mesh.indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
        }
    }
    mesh
}

/// A low-poly standing figure: an ellipsoid, feet at the origin, 448 triangles.
fn figure(height: f32, color: [f32; 4]) -> MeshData {
    let (rings, segments) = (15u32, 16u32);
    let (rx, ry, rz) = (0.22, 0.15, height / 2.0);
    let mut mesh = MeshData::default();
    for r in 0..=rings {
        let theta = PI * r as f32 / rings as f32; // 0 at the top
        for s in 0..=segments {
            let phi = 2.0 * PI * s as f32 / segments as f32;
            let unit = [theta.sin() * phi.cos(), theta.sin() * phi.sin(), theta.cos()];
            mesh.positions.push([rx * unit[0], ry * unit[1], rz + rz * unit[2]]);
            let n = [unit[0] / rx, unit[1] / ry, unit[2] / rz];
            mesh.normals.push(camtwin_sim::geometry::normalize(n));
            // A darker lower half (trousers) gives the figure some structure.
            let shade = if unit[2] < -0.1 { 0.4 } else { 1.0 };
            mesh.colors.push([color[0] * shade, color[1] * shade, color[2] * shade, 1.0]);
        }
    }
    let row = segments + 1;
    for r in 0..rings {
        for s in 0..segments {
            let a = r * row + s;
            let b = a + row;
            if r != 0 {
                mesh.indices.extend([a, b, a + 1]);
            }
            if r != rings - 1 {
                mesh.indices.extend([a + 1, b, b + 1]);
            }
        }
    }
    mesh
}

fn street_view(width: u32, height: u32) -> CameraView {
    CameraView { position: [1.5, -10.0, 5.0], yaw_deg: 80.0, pitch_deg: 20.0, hfov_deg: 65.0, width, height }
}

/// World point seen at pixel `px` (continuous coordinates), `depth` metres along the axis.
fn point_at_pixel(view: &CameraView, px: [f32; 2], depth: f32) -> [f32; 3] {
    let (f, r, u) = view.basis();
    let fp = view.focal_px();
    let x = (px[0] - view.width as f32 / 2.0) / fp;
    let y = -(px[1] - view.height as f32 / 2.0) / fp;
    std::array::from_fn(|k| view.position[k] + depth * (f[k] + x * r[k] + y * u[k]))
}

fn pixel(frame: &RenderedFrame, x: u32, y: u32) -> [u8; 3] {
    let i = ((y * frame.width + x) * 3) as usize;
    [frame.rgb[i], frame.rgb[i + 1], frame.rgb[i + 2]]
}

/// Centre of mass (pixel centres) of the near-white pixels.
fn white_centroid(frame: &RenderedFrame) -> Option<[f32; 2]> {
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for y in 0..frame.height {
        for x in 0..frame.width {
            if pixel(frame, x, y).iter().all(|&c| c >= 250) {
                sx += x as f32 + 0.5;
                sy += y as f32 + 0.5;
                n += 1.0;
            }
        }
    }
    (n > 0.0).then(|| [sx / n, sy / n])
}

#[test]
fn renderer_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Renderer>();
}

/// Pins the renderer to `CameraView::project`, the ground-truth definition.
#[test]
fn marker_lands_where_the_camera_view_projects_it() {
    let view = street_view(320, 240);
    let scenery = [ground(1.5, 10.0, 30.0, 12)];
    let mut renderer = Renderer::new(&scenery, &Lighting::default(), &view).expect("renderer (needs lavapipe)");
    let key = MeshKey(7);
    // Saturating colour: every face is pure white whatever its lighting.
    let library = MapLibrary(HashMap::from([(key, cube(0.06, [100.0, 100.0, 100.0, 1.0]))]));

    for target in [[160.0, 120.0], [37.3, 29.8], [290.6, 211.2], [70.0, 200.0], [250.0, 40.0]] {
        let p = point_at_pixel(&view, target, 7.0);
        let expected = view.project(p).expect("in front");
        let instance = Instance { mesh: key, translation: p, yaw_rad: 0.3 };
        let frame = renderer.render(&[instance], &library).expect("frame");
        assert_eq!(frame.rgb.len(), 320 * 240 * 3);
        let got = white_centroid(&frame).expect("marker visible");
        let err = ((got[0] - expected[0]).powi(2) + (got[1] - expected[1]).powi(2)).sqrt();
        assert!(err <= 1.5, "marker at {p:?}: drawn at {got:?}, projected to {expected:?} ({err:.2} px)");
    }
}

fn crowd_scene() -> (Vec<MeshData>, MapLibrary, Vec<Instance>) {
    let scenery = vec![ground(1.5, 10.0, 30.0, 12)];
    let colours = [[0.6, 0.1, 0.1, 1.0], [0.1, 0.4, 0.7, 1.0], [0.8, 0.7, 0.2, 1.0]];
    let library = MapLibrary(
        colours.iter().enumerate().map(|(i, &c)| (MeshKey(i as u64), figure(1.6 + 0.1 * i as f32, c))).collect(),
    );
    let instances = (0..9)
        .map(|i| Instance {
            mesh: MeshKey(i % 3),
            translation: [-3.0 + 1.1 * i as f32, 2.0 + 0.9 * (i % 4) as f32, 0.0],
            yaw_rad: 0.7 * i as f32,
        })
        .collect();
    (scenery, library, instances)
}

#[test]
fn fresh_renderers_produce_identical_frames() {
    // 150 px wide: rows of 600 bytes exercise the 256-byte padding on readback.
    let view = street_view(150, 100);
    let (scenery, library, instances) = crowd_scene();
    let lighting = Lighting::default();

    let mut a = Renderer::new(&scenery, &lighting, &view).expect("renderer A");
    let empty_a = a.render(&[], &library).expect("empty A");
    let crowd_a = a.render(&instances, &library).expect("crowd A");
    let again_a = a.render(&[], &library).expect("empty again A");

    // B is built here and used on another thread: Renderer must be movable.
    let b = Renderer::new(&scenery, &lighting, &view).expect("renderer B");
    let (scenery_b, library_b, instances_b) = crowd_scene();
    drop(scenery_b);
    let crowd_b = std::thread::spawn(move || {
        let mut b = b;
        b.render(&instances_b, &library_b).expect("crowd B")
    })
    .join()
    .expect("thread");

    assert_ne!(empty_a, crowd_a, "instances were not drawn");
    assert!(crowd_a == crowd_b, "two fresh renderers differ");
    assert!(empty_a == again_a, "instances from the previous frame remained");
}

#[test]
fn ground_scene_is_not_blank() {
    let view = street_view(160, 120);
    let scenery = [ground(1.5, 10.0, 30.0, 12)];
    let mut renderer = Renderer::new(&scenery, &Lighting::default(), &view).expect("renderer");
    let frame = renderer.render(&[], &MapLibrary::default()).expect("frame");
    assert_eq!((frame.width, frame.height), (160, 120));
    let n = frame.rgb.len() as f64;
    let mean = frame.rgb.iter().map(|&c| c as f64).sum::<f64>() / n;
    let var = frame.rgb.iter().map(|&c| (c as f64 - mean).powi(2)).sum::<f64>() / n;
    assert!(var > 100.0, "flat image: mean {mean}, variance {var}");
    // Sky above (blue dominant), ground below (grey, darker).
    let sky = pixel(&frame, 80, 0);
    let road = pixel(&frame, 80, 119);
    assert!(sky[2] > sky[0] + 30, "sky {sky:?}");
    assert!(road[2] < sky[2] && road[0].abs_diff(road[2]) < 12, "road {road:?}");
}

/// Throughput at the production resolution; run with
/// `cargo test -p camtwin-render -- --ignored --nocapture bench`.
#[test]
#[ignore = "benchmark: prints frames per second"]
fn bench_fps_640x480_100_figures() {
    let view = CameraView {
        position: [0.0, -12.0, 6.0],
        yaw_deg: 90.0,
        pitch_deg: 22.0,
        hfov_deg: 70.0,
        width: 640,
        height: 480,
    };
    let scenery = [ground(0.0, 10.0, 40.0, 16)];
    let keys = 10u64;
    let library = MapLibrary(
        (0..keys)
            .map(|k| {
                let c = [0.2 + 0.07 * k as f32, 0.5, 0.8 - 0.06 * k as f32, 1.0];
                (MeshKey(k), figure(1.5 + 0.04 * k as f32, c))
            })
            .collect(),
    );
    let triangles = library.0[&MeshKey(0)].triangle_count();
    let start = Instant::now();
    let mut renderer = Renderer::new(&scenery, &Lighting::default(), &view).expect("renderer");
    let setup = start.elapsed();
    let frames = 40;
    let mut timed = std::time::Duration::ZERO;
    for f in 0..frames + 5 {
        let instances: Vec<Instance> = (0..100)
            .map(|i| Instance {
                mesh: MeshKey((i + f) % keys),
                translation: [-7.0 + 1.4 * (i % 10) as f32 + 0.05 * f as f32, 1.0 + 1.8 * (i / 10) as f32, 0.0],
                yaw_rad: 0.3 * (i + f) as f32,
            })
            .collect();
        let t = Instant::now();
        let frame = renderer.render(&instances, &library).expect("frame");
        assert_eq!(frame.rgb.len(), 640 * 480 * 3);
        if f >= 5 {
            timed += t.elapsed();
        }
    }
    let fps = frames as f64 / timed.as_secs_f64();
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS")).map(str::to_owned))
        .unwrap_or_default();
    println!(
        "setup {:.2} s; {frames} frames 640x480, 100 figures x {triangles} triangles: \
         {fps:.1} frames/s; {rss}",
        setup.as_secs_f64()
    );
}

/// Pixels showing `tag` in a frame's id buffer.
fn tagged(frame: &RenderedFrame, tag: u8) -> Vec<usize> {
    frame.ids.iter().enumerate().filter(|&(_, &t)| t == tag).map(|(i, _)| i).collect()
}

/// The id buffer says which instance each pixel shows: a cube partly hidden
/// behind another keeps only the pixels not covered, scenery and sky are 0,
/// and an untagged instance is 0 although it is drawn.
#[test]
fn id_buffer_tags_the_pixels_each_instance_shows() {
    let view = street_view(160, 120);
    let scenery = [ground(1.5, 10.0, 30.0, 12)];
    let mut renderer = Renderer::new(&scenery, &Lighting::default(), &view).expect("renderer");
    let key = MeshKey(1);
    let library = MapLibrary(HashMap::from([(key, cube(0.8, [0.7, 0.2, 0.2, 1.0]))]));
    let near = point_at_pixel(&view, [80.0, 60.0], 6.0);
    let far = point_at_pixel(&view, [92.0, 60.0], 9.0);
    let aside = point_at_pixel(&view, [25.0, 60.0], 7.0);
    let cube_at = |p: [f32; 3]| Instance { mesh: key, translation: p, yaw_rad: 0.0 };

    let empty = renderer.render(&[], &library).expect("empty");
    assert_eq!(empty.ids.len(), 160 * 120);
    assert!(empty.ids.iter().all(|&t| t == 0), "scenery or sky carries a tag");

    let far_alone = renderer.render_tagged(&[cube_at(far)], &[2], &library).expect("far alone");
    let near_alone = renderer.render_tagged(&[cube_at(near)], &[1], &library).expect("near alone");
    let both = renderer.render_tagged(&[cube_at(near), cube_at(far), cube_at(aside)], &[1, 2], &library).expect("both");

    let (far_all, far_seen) = (tagged(&far_alone, 2), tagged(&both, 2));
    assert!(far_all.len() > 120, "far cube covers {} px", far_all.len());
    assert!(
        !far_seen.is_empty() && far_seen.len() < far_all.len() * 9 / 10,
        "far cube: {} of {} px",
        far_seen.len(),
        far_all.len()
    );
    assert!(far_seen.iter().all(|i| far_all.binary_search(i).is_ok()), "tag 2 outside the far cube's own pixels");
    assert_eq!(tagged(&both, 1), tagged(&near_alone, 1), "the near cube lost or gained pixels");
    // The untagged cube is drawn (colour changes there) but carries no tag.
    let changed = (0..160 * 120).filter(|&i| both.rgb[3 * i..3 * i + 3] != empty.rgb[3 * i..3 * i + 3]);
    let untagged_drawn = changed.filter(|&i| both.ids[i] == 0).count();
    assert!(untagged_drawn > 100, "the untagged cube drew {untagged_drawn} px");
    assert!(both.ids.iter().all(|&t| t <= 2), "a tag nobody was given");
}

/// The visible share of exported labels is tagged pixels over the CPU
/// silhouette (`camtwin_sim::truth::silhouette_px`); for a person with
/// nothing in front of it the two must agree, or an unoccluded person would
/// not read as fully visible. Cut by the image edge, the tagged pixels drop
/// and the silhouette does not.
#[test]
fn a_lone_persons_tagged_pixels_match_its_cpu_silhouette() {
    use camtwin_sim::body::{AgentLibrary, PersonLook, person_key};
    use camtwin_sim::truth::silhouette_px;
    let view = street_view(640, 480);
    let scenery = [ground(1.5, 10.0, 30.0, 12)];
    let mut renderer = Renderer::new(&scenery, &Lighting::default(), &view).expect("renderer");
    let library = AgentLibrary::new();
    let look = PersonLook { skin: 2, top: 4, bottom: 1, hair: 1, height: 2 };
    for (i, (x, y, yaw)) in
        [(1.5, 0.0, 0.0), (0.0, 3.0, 1.2), (3.5, -4.0, 2.5), (1.0, 8.0, -0.8)].into_iter().enumerate()
    {
        let instance = Instance { mesh: person_key(look, i as u8 % 8), translation: [x, y, 0.0], yaw_rad: yaw };
        let frame = renderer.render_tagged(&[instance], &[7], &library).expect("frame");
        let drawn = tagged(&frame, 7).len() as f32;
        let silhouette = silhouette_px(&view, &library.get(instance.mesh), &instance) as f32;
        assert!(drawn > 150.0, "person {i} drew {drawn} px");
        let gap = (drawn - silhouette).abs() / silhouette;
        println!("person {i}: {drawn} px drawn, {silhouette} px silhouette");
        assert!(gap < 0.01, "person {i}: {drawn} px drawn, {silhouette} px silhouette ({:.1} %)", 100.0 * gap);
    }
    // Half out of the image: the left edge cuts the silhouette.
    let at_edge = point_at_pixel(&view, [0.0, 300.0], 10.0);
    let instance = Instance { mesh: person_key(look, 0), translation: [at_edge[0], at_edge[1], 0.0], yaw_rad: 0.0 };
    let frame = renderer.render_tagged(&[instance], &[7], &library).expect("frame");
    let drawn = tagged(&frame, 7).len() as f32;
    let silhouette = silhouette_px(&view, &library.get(instance.mesh), &instance) as f32;
    assert!(drawn > 0.0 && drawn < 0.8 * silhouette, "at the edge: {drawn} px drawn of {silhouette}");
}
