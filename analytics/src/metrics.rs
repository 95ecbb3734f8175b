//! Utility metrics against ground truth. This is the only module of
//! analytics that sees ground truth, and it sees it as plain counts.

/// One comparable cell: a source's count and the true count for the same
/// interval, class and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountPair {
    /// Counted by the source.
    pub count: u64,
    /// Ground truth.
    pub truth: u64,
}

/// Weighted absolute percentage error, `Σ|count − truth| / Σ truth`: the
/// error measure for counts (per class and direction, never one global
/// accuracy). `None` when there is no true count to weigh by.
pub fn wape(pairs: &[CountPair]) -> Option<f64> {
    let truth: u64 = pairs.iter().map(|p| p.truth).sum();
    if truth == 0 {
        return None;
    }
    let err: u64 = pairs.iter().map(|p| p.count.abs_diff(p.truth)).sum();
    Some(err as f64 / truth as f64)
}

/// Signed total bias, `(Σ count − Σ truth) / Σ truth`: over- or undercount.
pub fn bias(pairs: &[CountPair]) -> Option<f64> {
    let truth: u64 = pairs.iter().map(|p| p.truth).sum();
    let count: u64 = pairs.iter().map(|p| p.count).sum();
    (truth > 0).then(|| (count as f64 - truth as f64) / truth as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wape_weighs_errors_by_truth() {
        let p = |count, truth| CountPair { count, truth };
        assert_eq!(wape(&[p(8, 10), p(12, 10)]), Some(0.2));
        assert_eq!(bias(&[p(8, 10), p(12, 10)]), Some(0.0));
        assert_eq!(wape(&[p(3, 0)]), None);
    }
}
