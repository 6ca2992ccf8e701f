//! A bounded history: the newest `capacity` samples, oldest dropped first. Every time series the
//! console keeps (GPU telemetry, endpoint samples) lives in one of these, so memory stays flat
//! however long the console is left open.

use std::collections::VecDeque;

#[derive(Debug, Clone, PartialEq)]
pub struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
}

impl<T> Ring<T> {
    /// A ring holding at most `capacity` items (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Ring { items: VecDeque::with_capacity(capacity.min(4096)), capacity }
    }

    /// A ring that allocates as it fills, for one that usually stays nearly empty (an
    /// endpoint's recent errors): `new` reserves the whole capacity up front.
    pub fn growing(capacity: usize) -> Self {
        Ring { items: VecDeque::new(), capacity: capacity.max(1) }
    }

    /// Adds `item` as the newest; returns the oldest item when the ring was full and dropped it
    /// (so a caller can fold it into a coarser history).
    pub fn push(&mut self, item: T) -> Option<T> {
        let dropped = if self.items.len() == self.capacity { self.items.pop_front() } else { None };
        self.items.push_back(item);
        dropped
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn latest(&self) -> Option<&T> {
        self.items.back()
    }

    /// The newest item, to update in place (a repeated error counts there).
    pub fn latest_mut(&mut self) -> Option<&mut T> {
        self.items.back_mut()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }

    /// The newest `n` items, oldest first (for a sparkline `n` cells wide).
    pub fn last_n(&self, n: usize) -> impl Iterator<Item = &T> {
        self.items.iter().skip(self.items.len().saturating_sub(n))
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    #[test]
    fn keeps_only_the_newest_items() {
        let mut ring = Ring::new(3);
        let dropped: Vec<Option<i32>> = (0..5).map(|i| ring.push(i)).collect();
        assert_eq!(dropped, vec![None, None, None, Some(0), Some(1)]);
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(ring.latest(), Some(&4));
        assert_eq!(ring.last_n(2).copied().collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(ring.last_n(10).count(), 3);
    }

    #[test]
    fn a_growing_ring_holds_the_same_items() {
        let mut ring = Ring::growing(3);
        assert_eq!(ring.items.capacity(), 0, "nothing allocated before the first item");
        let dropped: Vec<Option<i32>> = (0..5).map(|i| ring.push(i)).collect();
        assert_eq!(dropped, vec![None, None, None, Some(0), Some(1)]);
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
    }

    #[test]
    fn zero_capacity_still_holds_one() {
        let mut ring = Ring::new(0);
        ring.push(1);
        ring.push(2);
        assert_eq!(ring.len(), 1);
        *ring.latest_mut().unwrap() += 10;
        assert_eq!(ring.latest(), Some(&12));
    }
}
