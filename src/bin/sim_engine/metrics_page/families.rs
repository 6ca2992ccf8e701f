//! Families whose samples come one per rank (or one summed over the ranks), written as tables
//! so a release's page reads as the list of names and helps it is.

use std::ops::{Deref, DerefMut};

use super::{Labels, Page};
use crate::state::{Histogram, Rank};

/// A gauge or a counter whose value a rank gives.
pub(super) struct Scalar<'f> {
    counter: bool,
    name: &'static str,
    help: &'static str,
    value: Box<dyn Fn(&mut Rank) -> f64 + 'f>,
}

impl<'f> Scalar<'f> {
    pub(super) fn gauge(
        name: &'static str,
        help: &'static str,
        value: impl Fn(&mut Rank) -> f64 + 'f,
    ) -> Self {
        Scalar { counter: false, name, help, value: Box::new(value) }
    }

    /// `name` without `_total`, as for `Page::counter`.
    pub(super) fn counter(
        name: &'static str,
        help: &'static str,
        value: impl Fn(&mut Rank) -> f64 + 'f,
    ) -> Self {
        Scalar { counter: true, name, help, value: Box::new(value) }
    }

    fn write(&self, page: &mut Page, series: &[(Labels<'_>, f64)]) {
        if self.counter {
            page.counter(self.name, self.help, series);
        } else {
            page.gauge(self.name, self.help, series);
        }
    }
}

/// A histogram family: its name, help and which of a rank's histograms it shows.
pub(super) type HistogramFamily = (&'static str, &'static str, fn(&Rank) -> &Histogram);

impl Page {
    /// Each family in order, one sample per rank, labelled by `labels` (one per rank).
    pub(super) fn per_rank<R: DerefMut<Target = Rank>>(
        &mut self,
        families: &[Scalar<'_>],
        labels: &[Labels<'_>],
        ranks: &mut [R],
    ) {
        for family in families {
            let series: Vec<(Labels<'_>, f64)> = labels
                .iter()
                .zip(ranks.iter_mut())
                .map(|(l, rank)| (l.clone(), (family.value)(rank)))
                .collect();
            family.write(self, &series);
        }
    }

    /// Each family in order, one sample: the sum over the ranks (engines without rank labels).
    pub(super) fn summed<R: DerefMut<Target = Rank>>(
        &mut self,
        families: &[Scalar<'_>],
        labels: &Labels<'_>,
        ranks: &mut [R],
    ) {
        for family in families {
            let mut sum = 0.0;
            for rank in ranks.iter_mut() {
                sum += (family.value)(rank);
            }
            family.write(self, &[(labels.clone(), sum)]);
        }
    }

    /// Each histogram family in order, one series per rank.
    pub(super) fn histograms_per_rank<R: Deref<Target = Rank>>(
        &mut self,
        families: &[HistogramFamily],
        labels: &[Labels<'_>],
        ranks: &[R],
    ) {
        for (name, help, of) in families {
            let series: Vec<(Labels<'_>, Histogram)> =
                labels.iter().zip(ranks).map(|(l, rank)| (l.clone(), of(rank).clone())).collect();
            self.histogram(name, help, &series);
        }
    }
}
