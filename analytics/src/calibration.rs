//! Ground calibration of a real camera from point pairs: where four or more
//! marked image points lie on the ground (surveyed, or read off a map), the
//! image → ground homography follows, so that counting lines can be given in
//! metres and foot points mapped onto them, as for rendered cameras.
//!
//! The homography is the normalised direct linear transform (Hartley &
//! Zisserman, "Multiple View Geometry", 2nd ed., algorithm 4.2), solved in
//! the least-squares sense with `h33 = 1`.

/// Why a calibration cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    /// Too few or unmatched points.
    #[error("a ground calibration needs at least 4 image points and as many ground points (got {image} and {ground})")]
    Count {
        /// Image points given.
        image: usize,
        /// Ground points given.
        ground: usize,
    },
    /// The points do not fix a homography (three or more on one line, or repeated).
    #[error("the calibration points are degenerate: no four of them may lie on one line")]
    Degenerate,
}

/// A fitted calibration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Image (pixels) → ground (metres) homography.
    pub image_to_ground: [[f64; 3]; 3],
    /// Root-mean-square distance between the given ground points and the
    /// mapped image points, metres: how well the pairs agree.
    pub rms_error_m: f64,
}

/// Translation and scale that move points to their centroid with a mean
/// distance of √2, as a 3×3 matrix.
fn normaliser(points: &[[f64; 2]]) -> [[f64; 3]; 3] {
    let n = points.len() as f64;
    let (cx, cy) = points.iter().fold((0.0, 0.0), |a, p| (a.0 + p[0] / n, a.1 + p[1] / n));
    let mean = points.iter().map(|p| (p[0] - cx).hypot(p[1] - cy)).sum::<f64>() / n;
    let s = if mean > 0.0 { std::f64::consts::SQRT_2 / mean } else { 1.0 };
    [[s, 0.0, -s * cx], [0.0, s, -s * cy], [0.0, 0.0, 1.0]]
}

fn apply(m: &[[f64; 3]; 3], p: [f64; 2]) -> [f64; 3] {
    [0, 1, 2].map(|r| m[r][0] * p[0] + m[r][1] * p[1] + m[r][2])
}

fn mul(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for (r, row) in out.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[r][k] * b[k][c]).sum();
        }
    }
    out
}

/// Solves the 8×8 system `m x = rhs` by Gaussian elimination with partial
/// pivoting; `None` when it is singular.
fn solve8(mut m: [[f64; 8]; 8], mut rhs: [f64; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-10 {
            return None;
        }
        m.swap(col, pivot);
        rhs.swap(col, pivot);
        let (pivot_row, pivot_rhs) = (m[col], rhs[col]);
        for (row, r) in m.iter_mut().zip(rhs.iter_mut()).skip(col + 1) {
            let f = row[col] / pivot_row[col];
            for (v, p) in row.iter_mut().zip(pivot_row).skip(col) {
                *v -= f * p;
            }
            *r -= f * pivot_rhs;
        }
    }
    let mut x = [0.0; 8];
    for r in (0..8).rev() {
        let s: f64 = (r + 1..8).map(|c| m[r][c] * x[c]).sum();
        x[r] = (rhs[r] - s) / m[r][r];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Fits the image → ground homography to point pairs.
pub fn calibrate(image: &[[f64; 2]], ground: &[[f64; 2]]) -> Result<Calibration, CalibrationError> {
    if image.len() < 4 || image.len() != ground.len() {
        return Err(CalibrationError::Count { image: image.len(), ground: ground.len() });
    }
    let (ti, tg) = (normaliser(image), normaliser(ground));
    // Normal equations of the 2n × 8 system with h33 = 1.
    let (mut ata, mut atb) = ([[0.0; 8]; 8], [0.0; 8]);
    for (p, q) in image.iter().zip(ground) {
        let a = apply(&ti, *p);
        let b = apply(&tg, *q);
        let (x, y, u, v) = (a[0], a[1], b[0], b[1]);
        for (row, rhs) in
            [([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y], u), ([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y], v)]
        {
            for i in 0..8 {
                for j in 0..8 {
                    ata[i][j] += row[i] * row[j];
                }
                atb[i] += row[i] * rhs;
            }
        }
    }
    let h = solve8(ata, atb).ok_or(CalibrationError::Degenerate)?;
    let hn = [[h[0], h[1], h[2]], [h[3], h[4], h[5]], [h[6], h[7], 1.0]];
    // Undo the normalisations: H = Tg⁻¹ · Hn · Ti.
    let s = tg[0][0];
    let tg_inv = [[1.0 / s, 0.0, -tg[0][2] / s], [0.0, 1.0 / s, -tg[1][2] / s], [0.0, 0.0, 1.0]];
    let mut m = mul(&tg_inv, &mul(&hn, &ti));
    let scale = m[2][2];
    if scale.abs() < 1e-12 || !scale.is_finite() {
        return Err(CalibrationError::Degenerate);
    }
    for row in &mut m {
        for v in row.iter_mut() {
            *v /= scale;
        }
    }
    let sq: f64 = image
        .iter()
        .zip(ground)
        .map(|(p, q)| {
            let g = apply(&m, *p);
            let (gx, gy) = (g[0] / g[2], g[1] / g[2]);
            (gx - q[0]).powi(2) + (gy - q[1]).powi(2)
        })
        .sum();
    let rms_error_m = (sq / image.len() as f64).sqrt();
    if !rms_error_m.is_finite() {
        return Err(CalibrationError::Degenerate);
    }
    Ok(Calibration { image_to_ground: m, rms_error_m })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_homography_is_recovered_from_four_and_from_more_points() {
        let h = [[0.02, 0.001, -3.0], [0.0005, -0.03, 14.0], [0.00001, 0.0004, 1.0]];
        let map = |p: [f64; 2]| {
            let g = apply(&h, p);
            [g[0] / g[2], g[1] / g[2]]
        };
        let image: Vec<[f64; 2]> = vec![[10.0, 400.0], [620.0, 410.0], [500.0, 150.0], [120.0, 160.0], [320.0, 300.0]];
        for n in [4, 5] {
            let ground: Vec<[f64; 2]> = image[..n].iter().map(|p| map(*p)).collect();
            let c = calibrate(&image[..n], &ground).expect("calibrates");
            assert!(c.rms_error_m < 1e-6, "{c:?}");
            let probe = [333.0, 222.0];
            let g = apply(&c.image_to_ground, probe);
            let want = map(probe);
            assert!((g[0] / g[2] - want[0]).abs() < 1e-6 && (g[1] / g[2] - want[1]).abs() < 1e-6, "{g:?} {want:?}");
        }
    }

    #[test]
    fn too_few_or_collinear_points_are_refused() {
        let p = [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]];
        assert_eq!(calibrate(&p, &p).err(), Some(CalibrationError::Count { image: 3, ground: 3 }));
        let line = [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]];
        assert_eq!(calibrate(&line, &line).err(), Some(CalibrationError::Degenerate));
    }
}
