//! The state dump (the kernel's debugfs `state`) as the JSON types of `binder_sys::ud::state`.

use binder_sys::command_name;
use binder_sys::ud::state::{
    AreaState, ArenaState, BufferState, ContextManagerState, DriverState, NodeState, ProcessState,
    RefState, StackDirection, StackEntry, ThreadState, TransactionState, WorkState,
};

use crate::model::{
    DeathKind, LOOPER_ENTERED, LOOPER_EXITED, LOOPER_INVALID, LOOPER_REGISTERED, LOOPER_WAITING,
    Node, Proc, ProcId, State, Thread, ThreadId, TxnId, Work,
};

fn looper_flags(looper: u32) -> Vec<String> {
    [
        (LOOPER_REGISTERED, "registered"),
        (LOOPER_ENTERED, "entered"),
        (LOOPER_EXITED, "exited"),
        (LOOPER_INVALID, "invalid"),
        (LOOPER_WAITING, "waiting"),
    ]
    .iter()
    .filter(|(bit, _)| looper & bit != 0)
    .map(|(_, name)| name.to_string())
    .collect()
}

impl State {
    fn pid_of_proc(&self, p: Option<ProcId>) -> Option<u32> {
        p.and_then(|p| self.procs.get(&p)).map(|p| p.pid)
    }

    fn tid_of(&self, t: Option<ThreadId>) -> Option<u32> {
        t.and_then(|t| self.threads.get(&t)).map(|t| t.tid)
    }

    fn txn_state(&self, id: TxnId) -> TransactionState {
        let Some(t) = self.txns.get(&id) else {
            return TransactionState {
                debug_id: id.0,
                ..Default::default()
            };
        };
        let buffer = t
            .to_proc
            .zip(t.buffer)
            .and_then(|(p, off)| self.procs.get(&p)?.area.as_ref()?.alloc.buffer(off));
        TransactionState {
            debug_id: t.debug_id,
            is_reply: t.is_reply,
            from_pid: (t.from_pid != 0).then_some(t.from_pid),
            from_tid: (t.from_tid != 0).then_some(t.from_tid),
            to_pid: self.pid_of_proc(t.to_proc),
            to_tid: self.tid_of(t.to_thread),
            code: t.code,
            flags: t.flags,
            need_reply: t.need_reply,
            target_node: t
                .target_node
                .and_then(|n| self.nodes.get(&n))
                .map(|n| n.debug_id),
            data_size: buffer.map(|b| b.data_size as u64),
            offsets_size: buffer.map(|b| b.offsets_size as u64),
            fds: t.fd_fixups.len() as u32,
        }
    }

    fn work_state(&self, w: &Work, owner: Option<&Thread>) -> WorkState {
        match *w {
            Work::Transaction(t) => WorkState::Transaction {
                transaction: self.txn_state(t),
            },
            Work::TransactionComplete | Work::OnewaySpamSuspect => WorkState::TransactionComplete,
            Work::ReturnError | Work::ReplyError => {
                let cmd = owner.map_or(binder_sys::BR_OK, |th| {
                    if *w == Work::ReturnError {
                        th.return_error
                    } else {
                        th.reply_error
                    }
                });
                WorkState::ReturnError {
                    cmd: command_name(cmd).to_string(),
                }
            }
            Work::Node(n) => {
                let node = self.nodes.get(&n);
                WorkState::Node {
                    node: n.0,
                    ptr: node.map_or(0, |n| n.ptr),
                    cookie: node.map_or(0, |n| n.cookie),
                }
            }
            Work::Death(d) => {
                let Some(death) = self.deaths.get(&d) else {
                    return WorkState::DeadBinder { cookie: 0 };
                };
                let cookie = death.cookie;
                match death.kind {
                    DeathKind::DeadBinder => WorkState::DeadBinder { cookie },
                    DeathKind::DeadBinderAndClear => WorkState::DeadBinderAndClear { cookie },
                    DeathKind::ClearNotification => WorkState::ClearDeathNotification { cookie },
                }
            }
        }
    }

    fn node_state(&self, n: &Node) -> NodeState {
        NodeState {
            debug_id: n.debug_id,
            owner_pid: self.pid_of_proc(n.proc),
            ptr: n.ptr,
            cookie: n.cookie,
            counts: n.counts,
            ref_holders: n
                .refs
                .iter()
                .filter_map(|p| self.procs.get(p))
                .map(|p| p.pid)
                .collect(),
            accept_fds: n.accept_fds,
            has_async_transaction: n.has_async_transaction,
            async_todo: n.async_todo.iter().map(|t| self.txn_state(*t)).collect(),
        }
    }

    fn thread_state(&self, me: ThreadId, th: &Thread) -> ThreadState {
        let mut stack = Vec::new();
        let mut cur = th.transaction_stack;
        let me = Some(me);
        while let Some(id) = cur {
            let Some(t) = self.txns.get(&id) else { break };
            let direction = if t.from == me {
                cur = t.from_parent;
                StackDirection::Outgoing
            } else if t.to_thread == me {
                cur = t.to_parent;
                StackDirection::Incoming
            } else {
                cur = None;
                StackDirection::Incoming
            };
            stack.push(StackEntry {
                direction,
                transaction: self.txn_state(id),
            });
            if stack.len() > 4096 {
                break;
            }
        }
        ThreadState {
            debug_id: th.debug_id,
            tid: th.tid,
            looper: th.looper,
            looper_flags: looper_flags(th.looper),
            waiting: th.pending_read.is_some(),
            wake: th.wake,
            transaction_stack: stack,
            todo: th
                .todo
                .iter()
                .map(|w| self.work_state(w, Some(th)))
                .collect(),
            return_error: (th.return_error != binder_sys::BR_OK)
                .then(|| command_name(th.return_error).to_string()),
            reply_error: (th.reply_error != binder_sys::BR_OK)
                .then(|| command_name(th.reply_error).to_string()),
            pending_fd_fixups: th
                .pending_fixup
                .as_ref()
                .map_or(0, |f| f.slots.len() as u32),
        }
    }

    /// A process's state without its nodes and refs.
    pub fn proc_state_shallow(&self, p: &Proc) -> ProcessState {
        let area = p.area.as_ref();
        ProcessState {
            debug_id: p.debug_id,
            pid: p.pid,
            uid: p.uid,
            gid: p.gid,
            counts: p.counts,
            area: area.map(|a| AreaState {
                size: a.alloc.size() as u64,
                user_addr: a.user_addr,
                free_bytes: a.alloc.free_bytes() as u64,
                largest_free_chunk: a.alloc.largest_free() as u64,
                free_async_space: a.alloc.free_async_space() as u64,
                buffers_in_use: a.alloc.buffers_in_use() as u64,
            }),
            arena: p.arena.as_ref().map(|a| ArenaState {
                addr: a.addr,
                size: a.size,
            }),
            threads: p
                .threads
                .iter()
                .filter_map(|t| Some(self.thread_state(*t, self.threads.get(t)?)))
                .collect(),
            waiting_threads: p
                .waiting_threads
                .iter()
                .filter_map(|t| self.threads.get(t))
                .map(|t| t.tid)
                .collect(),
            // Nodes and refs come in parts (`dump_nodes_part`, `dump_refs_part`).
            nodes: Vec::new(),
            refs: Vec::new(),
            buffers: area
                .map(|a| {
                    a.alloc
                        .buffers()
                        .map(|(off, b)| BufferState {
                            debug_id: b.debug_id,
                            offset: off as u64,
                            user_addr: a.user_addr.map(|base| base + off as u64),
                            size: b.size as u64,
                            data_size: b.data_size as u64,
                            offsets_size: b.offsets_size as u64,
                            async_transaction: b.async_transaction,
                            delivered: b.allow_user_free,
                            transaction: b.transaction.map(|t| t.0),
                            target_node: b.target_node.map(|n| n.0),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            todo: p.todo.iter().map(|w| self.work_state(w, None)).collect(),
            delivered_death: p
                .delivered_death
                .iter()
                .filter_map(|d| self.deaths.get(d))
                .map(|d| d.cookie)
                .collect(),
        }
    }

    /// The parts of the state that are not processes: the context manager; and with
    /// `everything` the dead nodes. Also the ids of the live processes `keep` selects, whose
    /// states come next.
    pub fn dump_header(
        &self,
        everything: bool,
        keep: impl Fn(&Proc) -> bool,
    ) -> (DriverState, Vec<ProcId>) {
        let ctx = self.context_mgr_node.and_then(|n| self.nodes.get(&n));
        let state = DriverState {
            instance: self.instance.clone(),
            driver_pid: std::process::id(),
            context_manager: ctx.map(|n| ContextManagerState {
                node: n.debug_id,
                pid: self.pid_of_proc(n.proc),
                uid: self.context_mgr_uid,
            }),
            processes: Vec::new(),
            dead_nodes: self
                .nodes
                .values()
                .filter(|n| n.proc.is_none() && everything)
                .map(|n| self.node_state(n))
                .collect(),
            transactions: Vec::new(),
        };
        let procs = self
            .procs
            .iter()
            .filter(|(_, p)| !p.is_dead && keep(p))
            .map(|(id, _)| *id)
            .collect();
        (state, procs)
    }

    /// Up to `n` nodes of a live process, those with `ptr` after `after`.
    pub fn dump_nodes_part(
        &self,
        p: ProcId,
        after: Option<u64>,
        n: usize,
    ) -> Option<Vec<(u64, NodeState)>> {
        let p = self.proc_alive(p)?;
        let from = after.map_or(Some(0), |a| a.checked_add(1))?;
        Some(
            p.nodes
                .range(from..)
                .take(n)
                .filter_map(|(ptr, id)| Some((*ptr, self.node_state(self.nodes.get(id)?))))
                .collect(),
        )
    }

    /// Up to `n` refs of a live process, those with a descriptor after `after`.
    pub fn dump_refs_part(&self, p: ProcId, after: Option<u32>, n: usize) -> Option<Vec<RefState>> {
        let p = self.proc_alive(p)?;
        let from = after.map_or(Some(0), |a| a.checked_add(1))?;
        Some(
            p.refs_by_desc
                .range(from..)
                .take(n)
                .map(|(desc, r)| {
                    let node = self.nodes.get(&r.node);
                    RefState {
                        debug_id: r.debug_id,
                        desc: *desc,
                        node: node.map_or(0, |n| n.debug_id),
                        node_owner_pid: self.pid_of_proc(node.and_then(|n| n.proc)),
                        counts: r.counts,
                        death_cookie: r.death.and_then(|d| self.deaths.get(&d)).map(|d| d.cookie),
                    }
                })
                .collect(),
        )
    }

    /// The transactions of the dump: all with `everything`, else those from or to a process
    /// `keep` selects.
    pub fn dump_transactions(
        &self,
        everything: bool,
        keep: impl Fn(&Proc) -> bool,
    ) -> Vec<TransactionState> {
        self.txns
            .iter()
            .filter(|(_, t)| {
                let kept =
                    |p: Option<ProcId>| p.and_then(|p| self.procs.get(&p)).is_some_and(&keep);
                everything || kept(Some(t.sender)) || kept(t.to_proc)
            })
            .map(|(id, _)| self.txn_state(*id))
            .collect()
    }
}

/// Reduces a state dump of `uid`'s processes to what a user who does not administer the
/// instance may see: no node addresses (`ptr`, `cookie`: heap addresses of a process), no pids
/// of other users' processes.
pub fn redact_for_user(state: &mut DriverState, uid: u32) {
    {
        let own: std::collections::BTreeSet<u32> = state
            .processes
            .iter()
            .filter(|p| p.uid == uid)
            .map(|p| p.pid)
            .collect();
        let mine = |pid: &mut Option<u32>| {
            if pid.is_some_and(|p| !own.contains(&p)) {
                *pid = None;
            }
        };
        let txn = |t: &mut TransactionState| {
            mine(&mut t.from_pid);
            mine(&mut t.to_pid);
            if t.from_pid.is_none() {
                t.from_tid = None;
            }
            if t.to_pid.is_none() {
                t.to_tid = None;
            }
        };
        let work = |w: &mut WorkState| match w {
            WorkState::Transaction { transaction } => txn(transaction),
            WorkState::Node { ptr, cookie, .. } => {
                *ptr = 0;
                *cookie = 0;
            }
            _ => {}
        };
        state.processes.retain(|p| p.uid == uid);
        for p in &mut state.processes {
            for n in &mut p.nodes {
                n.ptr = 0;
                n.cookie = 0;
                n.ref_holders.retain(|pid| own.contains(pid));
                n.async_todo.iter_mut().for_each(txn);
            }
            for r in &mut p.refs {
                mine(&mut r.node_owner_pid);
            }
            p.todo.iter_mut().for_each(work);
            for t in &mut p.threads {
                t.todo.iter_mut().for_each(work);
                for e in &mut t.transaction_stack {
                    txn(&mut e.transaction);
                }
            }
        }
        state.dead_nodes.clear();
        state.transactions.retain(|t| {
            t.from_pid.is_some_and(|p| own.contains(&p))
                || t.to_pid.is_some_and(|p| own.contains(&p))
        });
        state.transactions.iter_mut().for_each(txn);
        if let Some(ctx) = &mut state.context_manager {
            mine(&mut ctx.pid);
        }
    }
}
