//! Node and ref counting, as `binder_inc_node`/`binder_dec_node` and the `binder_ref`
//! functions of binder.c.
//!
//! A node counts three kinds of strong references: `local_strong_refs` (held by the driver for
//! the owner: transaction targets, objects sent back to the owner, the pending `BR_ACQUIRE`),
//! `internal_strong_refs` (one per strong ref of another process) and the weak equivalents
//! (`local_weak_refs`, the set of refs). The owner learns of changes through node work:
//! `BR_INCREFS`/`BR_ACQUIRE` when the first reference appears (answered by
//! `BC_INCREFS_DONE`/`BC_ACQUIRE_DONE`), `BR_RELEASE`/`BR_DECREFS` when the last goes.

use std::collections::{BTreeSet, VecDeque};

use binder_sys::ud::state::{NodeRefCounts, RefCounts};

use crate::model::{DeathId, Node, NodeId, ProcId, Ref, State, ThreadId, WorkList};
use crate::stats::Obj;

/// A snapshot of a ref's counts (`binder_ref_data`).
#[derive(Debug, Clone, Copy)]
pub struct RefData {
    pub debug_id: u64,
    pub desc: u32,
    pub counts: RefCounts,
}

/// Why a node or ref count could not be taken (the driver answers `EINVAL`, as the kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    /// The node is gone.
    #[error("no such node")]
    NoNode,
    /// The process has no such ref (or only a weak one where a strong one is needed).
    #[error("no such ref")]
    NoRef,
    /// The process is gone, holds as many refs as allowed, or has no descriptor left.
    #[error("no new ref for the process (gone, or at its limit of refs)")]
    NoNewRef,
    /// A first count taken on a node in a way only its owner may (an internal strong count
    /// with nothing holding one, a weak one with no thread to tell the owner).
    #[error("invalid increment of a node")]
    InvalidIncrement,
}

impl State {
    /// `binder_new_node`: the node of `proc` for `ptr`, created if missing.
    pub fn get_or_new_node(
        &mut self,
        proc: ProcId,
        ptr: u64,
        cookie: u64,
        flags: u32,
    ) -> Option<NodeId> {
        let p = self.procs.get(&proc)?;
        if let Some(&n) = p.nodes.get(&ptr) {
            return Some(n);
        }
        if p.nodes.len() >= self.limits.max_nodes_per_proc {
            tracing::warn!(
                pid = p.pid,
                "refusing a new node: the process owns its limit"
            );
            return None;
        }
        let id = NodeId(self.next_id());
        self.stats.created(Obj::Node);
        self.nodes.insert(
            id,
            Node {
                debug_id: id.0,
                proc: Some(proc),
                ptr,
                cookie,
                counts: NodeRefCounts::default(),
                refs: BTreeSet::new(),
                accept_fds: flags & binder_sys::FLAT_BINDER_FLAG_ACCEPTS_FDS != 0,
                has_async_transaction: false,
                async_todo: VecDeque::new(),
                work_queued: None,
            },
        );
        self.procs.get_mut(&proc)?.nodes.insert(ptr, id);
        Some(id)
    }

    /// `binder_inc_node_nilocked`. `target` is the thread whose todo list receives the node
    /// work when the owner must be told (the sending thread, as the kernel's `target_list`).
    pub fn inc_node(
        &mut self,
        n: NodeId,
        strong: bool,
        internal: bool,
        target: Option<ThreadId>,
    ) -> Result<(), RefError> {
        let is_ctx_mgr = self.context_mgr_node == Some(n);
        let Some(node) = self.nodes.get_mut(&n) else {
            return Err(RefError::NoNode);
        };
        if strong {
            if internal {
                if target.is_none()
                    && node.counts.internal_strong_refs == 0
                    && !(node.proc.is_some() && is_ctx_mgr && node.counts.has_strong_ref)
                {
                    tracing::error!("invalid inc strong node {}", node.debug_id);
                    return Err(RefError::InvalidIncrement);
                }
                node.counts.internal_strong_refs += 1;
            } else {
                node.counts.local_strong_refs += 1;
            }
            if !node.counts.has_strong_ref
                && let Some(t) = target
            {
                self.dequeue_node_work(n);
                self.enqueue_node_work(n, WorkList::Thread(t), true);
            }
        } else {
            if !internal {
                node.counts.local_weak_refs += 1;
            }
            if !node.counts.has_weak_ref && node.work_queued.is_none() {
                let Some(t) = target else {
                    tracing::error!("invalid inc weak node {}", node.debug_id);
                    return Err(RefError::InvalidIncrement);
                };
                self.enqueue_node_work(n, WorkList::Thread(t), true);
            }
        }
        Ok(())
    }

    /// `binder_dec_node`: drops a reference; frees the node or tells its owner when the last
    /// one goes.
    pub fn dec_node(&mut self, n: NodeId, strong: bool, internal: bool) {
        let Some(node) = self.nodes.get_mut(&n) else {
            return;
        };
        if strong {
            let count = if internal {
                &mut node.counts.internal_strong_refs
            } else {
                &mut node.counts.local_strong_refs
            };
            *count = count.saturating_sub(1);
            if node.counts.local_strong_refs > 0 || node.counts.internal_strong_refs > 0 {
                return;
            }
        } else {
            if !internal {
                node.counts.local_weak_refs = node.counts.local_weak_refs.saturating_sub(1);
            }
            if node.counts.local_weak_refs > 0 || node.counts.tmp_refs > 0 || !node.refs.is_empty()
            {
                return;
            }
        }
        self.node_maybe_release(n);
    }

    /// The tail of `binder_dec_node_nilocked`, also used after a temporary reference goes.
    fn node_maybe_release(&mut self, n: NodeId) {
        let Some(node) = self.nodes.get(&n) else {
            return;
        };
        if let Some(p) = node.proc
            && (node.counts.has_strong_ref || node.counts.has_weak_ref)
        {
            if node.work_queued.is_none() {
                self.enqueue_node_work(n, WorkList::Proc(p), false);
                self.wakeup_proc(p);
            }
            return;
        }
        if node.refs.is_empty()
            && node.counts.local_strong_refs == 0
            && node.counts.local_weak_refs == 0
            && node.counts.tmp_refs == 0
        {
            self.free_node(n);
        }
    }

    /// Forgets a node that nothing references.
    pub fn free_node(&mut self, n: NodeId) {
        self.dequeue_node_work(n);
        let Some(node) = self.nodes.remove(&n) else {
            return;
        };
        if let Some(p) = node.proc.and_then(|p| self.procs.get_mut(&p))
            && p.nodes.get(&node.ptr) == Some(&n)
        {
            p.nodes.remove(&node.ptr);
        }
        self.stats.deleted(Obj::Node);
    }

    pub fn inc_node_tmpref(&mut self, n: NodeId) {
        if let Some(node) = self.nodes.get_mut(&n) {
            node.counts.tmp_refs += 1;
        }
    }

    /// `binder_dec_node_tmpref`.
    pub fn dec_node_tmpref(&mut self, n: NodeId) {
        let Some(node) = self.nodes.get_mut(&n) else {
            return;
        };
        node.counts.tmp_refs = node.counts.tmp_refs.saturating_sub(1);
        if node.counts.local_weak_refs > 0 || node.counts.tmp_refs > 0 || !node.refs.is_empty() {
            return;
        }
        if node.proc.is_some()
            && (node.counts.local_strong_refs > 0 || node.counts.internal_strong_refs > 0)
        {
            return;
        }
        self.node_maybe_release(n);
    }

    /// `binder_get_ref_olocked`: `None` also when a strong ref is needed and `desc` is weak.
    pub fn get_ref(&self, proc: ProcId, desc: u32, need_strong: bool) -> Option<&Ref> {
        let r = self.procs.get(&proc)?.refs_by_desc.get(&desc)?;
        if need_strong && r.counts.strong == 0 {
            tracing::debug!("tried to use weak ref {desc} as strong ref");
            return None;
        }
        Some(r)
    }

    fn ref_mut(&mut self, proc: ProcId, desc: u32) -> Option<&mut Ref> {
        self.procs.get_mut(&proc)?.refs_by_desc.get_mut(&desc)
    }

    fn ref_data(&self, proc: ProcId, desc: u32) -> Option<RefData> {
        let r = self.procs.get(&proc)?.refs_by_desc.get(&desc)?;
        Some(RefData {
            debug_id: r.debug_id,
            desc,
            counts: r.counts,
        })
    }

    /// `binder_get_ref_for_node_olocked` with a new ref: the lowest free descriptor, from 0
    /// for the context manager's node and from 1 for every other.
    fn get_or_new_ref(&mut self, proc: ProcId, n: NodeId) -> Option<u32> {
        if let Some(&desc) = self.procs.get(&proc)?.refs_by_node.get(&n) {
            return Some(desc);
        }
        let debug_id = self.next_id();
        let first = if self.context_mgr_node == Some(n) {
            0
        } else {
            1
        };
        let limit = self.limits.max_refs_per_proc;
        let p = self.procs.get_mut(&proc)?;
        if p.refs_by_desc.len() >= limit {
            tracing::warn!(
                pid = p.pid,
                "refusing a new ref: the process holds its limit"
            );
            return None;
        }
        let desc = p.descs.allocate(first)?;
        p.refs_by_desc.insert(
            desc,
            Ref {
                debug_id,
                node: n,
                counts: RefCounts::default(),
                death: None,
            },
        );
        p.refs_by_node.insert(n, desc);
        if let Some(node) = self.nodes.get_mut(&n) {
            node.refs.insert(proc);
        }
        self.stats.created(Obj::Ref);
        Some(desc)
    }

    /// `binder_inc_ref_olocked`.
    fn inc_ref(
        &mut self,
        proc: ProcId,
        desc: u32,
        strong: bool,
        target: Option<ThreadId>,
    ) -> Result<(), RefError> {
        let r = self.ref_mut(proc, desc).ok_or(RefError::NoRef)?;
        let node = r.node;
        let first = if strong {
            r.counts.strong == 0
        } else {
            r.counts.weak == 0
        };
        if first {
            self.inc_node(node, strong, true, target)?;
        }
        let r = self.ref_mut(proc, desc).ok_or(RefError::NoRef)?;
        if strong {
            r.counts.strong += 1;
        } else {
            r.counts.weak += 1;
        }
        Ok(())
    }

    /// `binder_inc_ref_for_node`: the ref of `proc` on node `n`, created if missing, one count
    /// up. Returns the ref's data.
    pub fn inc_ref_for_node(
        &mut self,
        proc: ProcId,
        n: NodeId,
        strong: bool,
        target: Option<ThreadId>,
    ) -> Result<RefData, RefError> {
        let desc = self.get_or_new_ref(proc, n).ok_or(RefError::NoNewRef)?;
        if let Err(e) = self.inc_ref(proc, desc, strong, target) {
            // Unlike the kernel, do not leave a ref with no counts behind.
            if self
                .ref_data(proc, desc)
                .is_some_and(|r| r.counts.strong == 0 && r.counts.weak == 0)
            {
                self.cleanup_ref(proc, desc);
            }
            return Err(e);
        }
        self.ref_data(proc, desc).ok_or(RefError::NoRef)
    }

    /// `binder_update_ref_for_handle`: `BC_INCREFS`..`BC_DECREFS` on an existing handle.
    pub fn update_ref_for_handle(
        &mut self,
        proc: ProcId,
        desc: u32,
        increment: bool,
        strong: bool,
    ) -> Result<RefData, RefError> {
        self.get_ref(proc, desc, strong).ok_or(RefError::NoRef)?;
        if increment {
            self.inc_ref(proc, desc, strong, None)?;
            return self.ref_data(proc, desc).ok_or(RefError::NoRef);
        }
        let before = self.ref_data(proc, desc).ok_or(RefError::NoRef)?;
        self.dec_ref(proc, desc, strong);
        Ok(self.ref_data(proc, desc).unwrap_or(RefData {
            counts: RefCounts::default(),
            ..before
        }))
    }

    /// `binder_dec_ref_olocked`; the ref is removed when both counts reach zero.
    pub fn dec_ref(&mut self, proc: ProcId, desc: u32, strong: bool) {
        let Some(r) = self.ref_mut(proc, desc) else {
            return;
        };
        let node = r.node;
        if strong {
            if r.counts.strong == 0 {
                tracing::debug!(
                    "invalid dec strong, ref {} desc {desc} s {} w {}",
                    r.debug_id,
                    r.counts.strong,
                    r.counts.weak
                );
                return;
            }
            r.counts.strong -= 1;
            if r.counts.strong == 0 {
                self.dec_node(node, true, true);
            }
        } else {
            if r.counts.weak == 0 {
                tracing::debug!(
                    "invalid dec weak, ref {} desc {desc} s {} w {}",
                    r.debug_id,
                    r.counts.strong,
                    r.counts.weak
                );
                return;
            }
            r.counts.weak -= 1;
        }
        if self
            .ref_data(proc, desc)
            .is_some_and(|r| r.counts.strong == 0 && r.counts.weak == 0)
        {
            self.cleanup_ref(proc, desc);
        }
    }

    /// `binder_cleanup_ref_olocked` + `binder_free_ref`: removes the ref, drops its node
    /// counts and its death notification.
    pub fn cleanup_ref(&mut self, proc: ProcId, desc: u32) {
        let Some(p) = self.procs.get_mut(&proc) else {
            return;
        };
        let Some(r) = p.refs_by_desc.remove(&desc) else {
            return;
        };
        p.descs.free(desc);
        if p.refs_by_node.get(&r.node) == Some(&desc) {
            p.refs_by_node.remove(&r.node);
        }
        self.stats.deleted(Obj::Ref);
        if r.counts.strong > 0 {
            self.dec_node(r.node, true, true);
        }
        if let Some(node) = self.nodes.get_mut(&r.node) {
            node.refs.remove(&proc);
        }
        self.dec_node(r.node, false, true);
        if let Some(d) = r.death {
            self.free_death(d);
        }
    }

    /// `binder_get_node_from_ref`.
    pub fn node_from_ref(&self, proc: ProcId, desc: u32, need_strong: bool) -> Option<NodeId> {
        self.get_ref(proc, desc, need_strong).map(|r| r.node)
    }

    /// A new death notification of `proc`; `None` when the process holds its limit.
    pub fn new_death(&mut self, proc: ProcId, cookie: u64) -> Option<DeathId> {
        let limit = self.limits.max_deaths_per_proc;
        let p = self.procs.get_mut(&proc)?;
        if p.deaths >= limit {
            tracing::warn!(
                pid = p.pid,
                "refusing a death notification: the process holds its limit"
            );
            return None;
        }
        p.deaths += 1;
        let id = DeathId(self.next_id());
        self.stats.created(Obj::Death);
        self.deaths.insert(
            id,
            crate::model::Death {
                proc,
                cookie,
                kind: crate::model::DeathKind::DeadBinder,
                queued: None,
            },
        );
        Some(id)
    }
}
