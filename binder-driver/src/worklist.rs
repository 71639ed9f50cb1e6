//! Work lists (`binder_work` lists) with the kernel's O(1) operations kept cheap: appending,
//! taking the first item, and removing one known item (a node's or a death notification's work,
//! which the kernel unlinks from its list in O(1)). With plain vectors, removing a known item
//! is a scan, and a process with many nodes made releasing them quadratic under the driver's
//! lock.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{DeathId, Work};

/// A FIFO of work items. Items are keyed by a sequence number; node and death items (at most
/// one of each per list) are also indexed, so that removing them is O(log n).
#[derive(Debug, Default)]
pub struct WorkQueue {
    items: BTreeMap<u64, Work>,
    index: HashMap<Work, u64>,
    next: u64,
}

fn indexed(w: &Work) -> bool {
    matches!(w, Work::Node(_) | Work::Death(_) | Work::Transaction(_))
}

impl WorkQueue {
    pub fn push_back(&mut self, w: Work) {
        let seq = self.next;
        self.next += 1;
        if indexed(&w) {
            self.index.insert(w, seq);
        }
        self.items.insert(seq, w);
    }

    pub fn pop_front(&mut self) -> Option<Work> {
        let (_, w) = self.items.pop_first()?;
        if indexed(&w) {
            self.index.remove(&w);
        }
        Some(w)
    }

    pub fn front(&self) -> Option<&Work> {
        self.items.values().next()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Items other than nodes', deaths' and transactions' (each bounded by its owner): the
    /// completions and errors of the thread's own commands.
    pub fn completions(&self) -> usize {
        self.items.len() - self.index.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Work> {
        self.items.values()
    }

    /// Removes `w` (the last occurrence); whether it was there.
    pub fn remove(&mut self, w: Work) -> bool {
        let seq = if indexed(&w) {
            self.index.remove(&w)
        } else {
            // Completions and errors: a thread's own few items.
            self.items
                .iter()
                .rev()
                .find(|(_, x)| **x == w)
                .map(|(seq, _)| *seq)
        };
        seq.is_some_and(|seq| self.items.remove(&seq).is_some())
    }
}

impl IntoIterator for WorkQueue {
    type Item = Work;
    type IntoIter = std::collections::btree_map::IntoValues<u64, Work>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_values()
    }
}

/// `proc->delivered_death`: death notifications delivered and not yet acknowledged, found by
/// cookie (`BC_DEAD_BINDER_DONE`) in delivery order.
#[derive(Debug, Default)]
pub struct DeliveredDeaths {
    by_seq: BTreeMap<u64, DeathId>,
    seq_of: HashMap<DeathId, (u64, u64)>,
    by_cookie: HashMap<u64, BTreeSet<u64>>,
    next: u64,
}

impl DeliveredDeaths {
    pub fn push_back(&mut self, d: DeathId, cookie: u64) {
        self.remove(d);
        let seq = self.next;
        self.next += 1;
        self.by_seq.insert(seq, d);
        self.seq_of.insert(d, (seq, cookie));
        self.by_cookie.entry(cookie).or_default().insert(seq);
    }

    pub fn remove(&mut self, d: DeathId) {
        let Some((seq, cookie)) = self.seq_of.remove(&d) else {
            return;
        };
        self.by_seq.remove(&seq);
        if let Some(set) = self.by_cookie.get_mut(&cookie) {
            set.remove(&seq);
            if set.is_empty() {
                self.by_cookie.remove(&cookie);
            }
        }
    }

    /// The first delivered notification with `cookie`.
    pub fn find(&self, cookie: u64) -> Option<DeathId> {
        let seq = self.by_cookie.get(&cookie)?.first()?;
        self.by_seq.get(seq).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = &DeathId> {
        self.by_seq.values()
    }

    pub fn take_all(&mut self) -> Vec<DeathId> {
        let all = std::mem::take(&mut self.by_seq).into_values().collect();
        *self = DeliveredDeaths::default();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NodeId, TxnId};

    #[test]
    fn known_items_leave_from_the_middle_and_order_holds() {
        let mut q = WorkQueue::default();
        for i in 0..5 {
            q.push_back(Work::Node(NodeId(i)));
        }
        q.push_back(Work::TransactionComplete);
        q.push_back(Work::Transaction(TxnId(9)));
        q.push_back(Work::TransactionComplete);
        assert!(q.remove(Work::Node(NodeId(2))));
        assert!(!q.remove(Work::Node(NodeId(2))));
        assert!(q.remove(Work::TransactionComplete));
        let rest: Vec<Work> = q.into_iter().collect();
        assert_eq!(
            rest,
            [
                Work::Node(NodeId(0)),
                Work::Node(NodeId(1)),
                Work::Node(NodeId(3)),
                Work::Node(NodeId(4)),
                Work::TransactionComplete,
                Work::Transaction(TxnId(9)),
            ]
        );
    }

    #[test]
    fn delivered_deaths_are_found_by_cookie_in_order() {
        let mut d = DeliveredDeaths::default();
        d.push_back(DeathId(1), 7);
        d.push_back(DeathId(2), 7);
        d.push_back(DeathId(3), 8);
        assert_eq!(d.find(7), Some(DeathId(1)));
        d.remove(DeathId(1));
        assert_eq!(d.find(7), Some(DeathId(2)));
        assert_eq!(d.find(9), None);
        assert_eq!(d.take_all(), [DeathId(2), DeathId(3)]);
        assert_eq!(d.find(8), None);
    }
}
