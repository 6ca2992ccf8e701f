//! Cumulative Prometheus histograms: deltas between two scrapes and quantiles the way
//! Prometheus' `histogram_quantile` computes them (linear inside the bucket).

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// (upper bound, cumulative count), ascending, ending with `+Inf`.
    pub buckets: Vec<(f64, f64)>,
    pub sum: f64,
    pub count: f64,
}

impl Histogram {
    /// From `_bucket` samples in any order; `None` without any bucket. A page cut short may lack
    /// the `+Inf` bucket: `_count` (or the largest bucket) stands in for it.
    pub fn from_buckets(
        mut buckets: Vec<(f64, f64)>,
        sum: f64,
        count: Option<f64>,
    ) -> Option<Histogram> {
        if buckets.is_empty() {
            return None;
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        buckets.dedup_by(|a, b| a.0 == b.0);
        if buckets.last().is_some_and(|(le, _)| le.is_finite()) {
            let top = buckets.last().map_or(0.0, |b| b.1);
            buckets.push((f64::INFINITY, count.unwrap_or(top).max(top)));
        }
        let total = buckets.last().map_or(0.0, |b| b.1);
        Some(Histogram { buckets, sum, count: count.unwrap_or(total) })
    }

    /// Bucket-wise sum of two engines' histograms; bounds missing from one are taken from the
    /// other's next larger bucket (cumulative counts are monotone, so this stays a histogram).
    pub fn merged(&self, other: &Histogram) -> Histogram {
        let mut bounds: Vec<f64> = self.buckets.iter().chain(&other.buckets).map(|b| b.0).collect();
        bounds.sort_by(|a, b| a.total_cmp(b));
        bounds.dedup();
        let buckets = bounds
            .into_iter()
            .map(|le| (le, self.cumulative_at(le) + other.cumulative_at(le)))
            .collect();
        Histogram { buckets, sum: self.sum + other.sum, count: self.count + other.count }
    }

    /// Cumulative count at or below `le`, reading a missing bound from the bucket below it.
    fn cumulative_at(&self, le: f64) -> f64 {
        self.buckets.iter().take_while(|b| b.0 <= le).last().map_or(0.0, |b| b.1)
    }

    /// What was observed between `earlier` and `self`; `None` when a count went down (the
    /// engine restarted) or the buckets differ.
    pub fn since(&self, earlier: &Histogram) -> Option<Histogram> {
        if self.buckets.len() != earlier.buckets.len() || self.count < earlier.count {
            return None;
        }
        let mut buckets = Vec::with_capacity(self.buckets.len());
        for (now, then) in self.buckets.iter().zip(&earlier.buckets) {
            if now.0 != then.0 || now.1 < then.1 {
                return None;
            }
            buckets.push((now.0, now.1 - then.1));
        }
        Some(Histogram { buckets, sum: self.sum - earlier.sum, count: self.count - earlier.count })
    }

    /// The `q` quantile (0..1) in the histogram's unit; `None` when it is empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.buckets.last()?.1;
        if total <= 0.0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * total;
        let mut lower = 0.0;
        let mut below = 0.0;
        for (i, &(le, cumulative)) in self.buckets.iter().enumerate() {
            if cumulative >= rank && cumulative > 0.0 {
                if le.is_infinite() {
                    // Above the largest finite bound: Prometheus answers that bound.
                    return Some(if i == 0 { 0.0 } else { self.buckets[i - 1].0 });
                }
                let in_bucket = cumulative - below;
                if in_bucket <= 0.0 {
                    return Some(le);
                }
                return Some(lower + (le - lower) * ((rank - below) / in_bucket));
            }
            lower = le;
            below = cumulative;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(buckets: &[(f64, f64)]) -> Histogram {
        Histogram::from_buckets(buckets.to_vec(), 0.0, None).unwrap()
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        // 10 in (0, 0.1], 10 in (0.1, 0.2].
        let h = hist(&[(0.1, 10.0), (0.2, 20.0), (f64::INFINITY, 20.0)]);
        assert!((h.quantile(0.5).unwrap() - 0.1).abs() < 1e-12);
        assert!((h.quantile(0.75).unwrap() - 0.15).abs() < 1e-12);
        assert!((h.quantile(0.25).unwrap() - 0.05).abs() < 1e-12);
        assert_eq!(hist(&[(0.1, 0.0), (f64::INFINITY, 0.0)]).quantile(0.5), None);
    }

    #[test]
    fn observations_above_the_last_bound_report_that_bound() {
        let h = hist(&[(1.0, 1.0), (2.0, 1.0), (f64::INFINITY, 10.0)]);
        assert_eq!(h.quantile(0.99), Some(2.0));
    }

    #[test]
    fn deltas_refuse_a_restarted_engine() {
        let before = hist(&[(0.1, 5.0), (f64::INFINITY, 8.0)]);
        let after = hist(&[(0.1, 6.0), (f64::INFINITY, 12.0)]);
        let delta = after.since(&before).unwrap();
        assert_eq!(delta.buckets, vec![(0.1, 1.0), (f64::INFINITY, 4.0)]);
        let restarted = hist(&[(0.1, 1.0), (f64::INFINITY, 1.0)]);
        assert_eq!(restarted.since(&before), None);
    }

    #[test]
    fn a_missing_inf_bucket_is_filled_from_the_count() {
        let h = Histogram::from_buckets(vec![(0.1, 3.0), (0.02, 1.0)], 0.2, Some(5.0)).unwrap();
        assert_eq!(h.buckets, vec![(0.02, 1.0), (0.1, 3.0), (f64::INFINITY, 5.0)]);
    }

    #[test]
    fn merging_adds_engines_bucket_by_bucket() {
        let a = hist(&[(0.1, 1.0), (f64::INFINITY, 2.0)]);
        let b = hist(&[(0.1, 3.0), (f64::INFINITY, 3.0)]);
        assert_eq!(a.merged(&b).buckets, vec![(0.1, 4.0), (f64::INFINITY, 5.0)]);
    }
}
