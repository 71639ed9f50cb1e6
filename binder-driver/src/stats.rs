//! Counters, as the kernel's debugfs `stats`, plus the copy counters of the one-copy path.

use std::collections::BTreeMap;

use binder_sys::ud::state::{DriverStats, ObjectCount};
use binder_sys::{BC_REPLY_SG, BR_TRANSACTION_PENDING_FROZEN, BR_TRANSACTION_SEC_CTX, Bc, Br};

const BC_SLOTS: usize = (BC_REPLY_SG & 0xff) as usize + 1;
const BR_SLOTS: usize = (BR_TRANSACTION_PENDING_FROZEN & 0xff) as usize + 1;

/// Kinds of objects counted (`enum binder_stat_types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obj {
    Proc = 0,
    Thread,
    Node,
    Ref,
    Death,
    Transaction,
    TransactionComplete,
}

const OBJ_NAMES: [&str; 7] = [
    "proc",
    "thread",
    "node",
    "ref",
    "death",
    "transaction",
    "transaction_complete",
];

#[derive(Debug, Default)]
pub struct Stats {
    bc: [u64; BC_SLOTS],
    br: [u64; BR_SLOTS],
    created: [u64; 7],
    deleted: [u64; 7],
    pub transactions: u64,
    pub oneway: u64,
    pub replies: u64,
    pub failed: u64,
    pub bytes_copied_arena: u64,
    pub bytes_copied_vm: u64,
    pub fds_passed: u64,
}

/// The `_IOC_NR` of a command or return word.
fn nr(cmd: u32) -> usize {
    (cmd & 0xff) as usize
}

impl Stats {
    /// Counts a command word read from a write buffer (as the kernel: by number, whatever the
    /// rest of the word says).
    pub fn bc(&mut self, cmd: u32) {
        if let Some(c) = self.bc.get_mut(nr(cmd)) {
            *c += 1;
        }
    }

    pub fn br(&mut self, cmd: u32) {
        if let Some(c) = self.br.get_mut(nr(cmd)) {
            *c += 1;
        }
    }

    pub fn created(&mut self, obj: Obj) {
        self.created[obj as usize] += 1;
    }

    pub fn deleted(&mut self, obj: Obj) {
        self.deleted[obj as usize] += 1;
    }

    pub fn snapshot(&self) -> DriverStats {
        let named =
            |counts: &[u64], words: &mut dyn Iterator<Item = u32>| -> BTreeMap<String, u64> {
                words
                    .filter_map(|w| {
                        let n = counts.get(nr(w)).copied().unwrap_or(0);
                        (n > 0).then(|| (binder_sys::command_name(w).to_string(), n))
                    })
                    .collect()
            };
        let objects = OBJ_NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let count = ObjectCount {
                    active: self.created[i].saturating_sub(self.deleted[i]),
                    total: self.created[i],
                };
                (name.to_string(), count)
            })
            .collect();
        DriverStats {
            bc: named(&self.bc, &mut Bc::CODES.iter().copied()),
            // (`BR_TRANSACTION_SEC_CTX` shares `BR_TRANSACTION`'s slot; the driver never sends it.)
            br: named(
                &self.br,
                &mut Br::CODES
                    .iter()
                    .copied()
                    .filter(|&w| w != BR_TRANSACTION_SEC_CTX),
            ),
            objects,
            transactions: self.transactions,
            oneway: self.oneway,
            replies: self.replies,
            failed: self.failed,
            bytes_copied: self.bytes_copied_arena + self.bytes_copied_vm,
            bytes_copied_arena: self.bytes_copied_arena,
            bytes_copied_vm: self.bytes_copied_vm,
            fds_passed: self.fds_passed,
            ..Default::default()
        }
    }
}
