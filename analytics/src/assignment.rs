//! Optimal assignment (the Hungarian method, from `pathfinding`) for the
//! tracker and the evaluation metrics: one place that handles either side
//! being the larger.

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

/// Pairs rows with columns one to one so that the total of `weight` is as
/// large as possible; returns the `min(rows, cols)` pairs of the assignment,
/// weightless ones included, sorted by row.
pub(crate) fn max_weight_pairs(rows: usize, cols: usize, weight: impl Fn(usize, usize) -> i64) -> Vec<(usize, usize)> {
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    let mut pairs: Vec<(usize, usize)> = if rows > cols {
        let (_, to_row) = kuhn_munkres(&Matrix::from_fn(cols, rows, |(c, r)| weight(r, c)));
        to_row.into_iter().enumerate().map(|(c, r)| (r, c)).collect()
    } else {
        let (_, to_col) = kuhn_munkres(&Matrix::from_fn(rows, cols, |(r, c)| weight(r, c)));
        to_col.into_iter().enumerate().collect()
    };
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_total_wins_whichever_side_is_larger() {
        let w = [[9, 8], [8, 0], [1, 7]];
        // Three rows, two columns: the best two pairs total 16.
        let pairs = max_weight_pairs(3, 2, |r, c| w[r][c]);
        let total: i64 = pairs.iter().map(|&(r, c)| w[r][c]).sum();
        assert_eq!((pairs.len(), total), (2, 16));
        let t = max_weight_pairs(2, 3, |r, c| w[c][r]);
        assert_eq!(t.iter().map(|&(r, c)| w[c][r]).sum::<i64>(), 16);
        assert!(max_weight_pairs(0, 3, |_, _| 1).is_empty());
    }
}
