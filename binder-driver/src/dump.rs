//! The state dump (the kernel's debugfs `state`) as the JSON types of `binder_sys::ud::state`.

use binder_sys::command_name;
use binder_sys::ud::state::*;

use crate::model::*;

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
            has_strong_ref: n.has_strong_ref,
            has_weak_ref: n.has_weak_ref,
            pending_strong_ref: n.pending_strong_ref,
            pending_weak_ref: n.pending_weak_ref,
            local_strong_refs: n.local_strong_refs,
            local_weak_refs: n.local_weak_refs,
            internal_strong_refs: n.internal_strong_refs,
            tmp_refs: n.tmp_refs,
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
            looper_need_return: th.looper_need_return,
            process_todo: th.process_todo,
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

    fn proc_state(&self, p: &Proc) -> ProcessState {
        let area = p.area.as_ref();
        ProcessState {
            debug_id: p.debug_id,
            pid: p.pid,
            uid: p.uid,
            gid: p.gid,
            max_threads: p.max_threads,
            requested_threads: p.requested_threads,
            requested_threads_started: p.requested_threads_started,
            outstanding_transactions: p.outstanding_txns,
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
            nodes: p
                .nodes
                .values()
                .filter_map(|n| self.nodes.get(n))
                .map(|n| self.node_state(n))
                .collect(),
            refs: p
                .refs_by_desc
                .iter()
                .map(|(desc, r)| {
                    let node = self.nodes.get(&r.node);
                    RefState {
                        debug_id: r.debug_id,
                        desc: *desc,
                        node: node.map_or(0, |n| n.debug_id),
                        node_owner_pid: self.pid_of_proc(node.and_then(|n| n.proc)),
                        strong: r.strong,
                        weak: r.weak,
                        death_cookie: r.death.and_then(|d| self.deaths.get(&d)).map(|d| d.cookie),
                    }
                })
                .collect(),
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

    pub fn dump(&self) -> DriverState {
        self.dump_where(|_| true)
    }

    /// The state with only the live processes `keep` selects.
    fn dump_where(&self, keep: impl Fn(&Proc) -> bool) -> DriverState {
        let ctx = self.context_mgr_node.and_then(|n| self.nodes.get(&n));
        DriverState {
            instance: self.instance.clone(),
            driver_pid: std::process::id(),
            context_manager: ctx.map(|n| ContextManagerState {
                node: n.debug_id,
                pid: self.pid_of_proc(n.proc),
                uid: self.context_mgr_uid,
            }),
            processes: self
                .procs
                .values()
                .filter(|p| !p.is_dead && keep(p))
                .map(|p| self.proc_state(p))
                .collect(),
            dead_nodes: self
                .nodes
                .values()
                .filter(|n| n.proc.is_none())
                .map(|n| self.node_state(n))
                .collect(),
            transactions: self.txns.keys().map(|t| self.txn_state(*t)).collect(),
        }
    }
}

impl State {
    /// The state as a user who does not administer the instance may see it: only the
    /// processes of `uid`, no node addresses (`ptr`, `cookie`: heap addresses of a process), and
    /// no pids of other users' processes.
    pub fn dump_for_user(&self, uid: u32) -> DriverState {
        let mut state = self.dump_where(|p| p.uid == uid);
        let own: std::collections::BTreeSet<u32> = self
            .procs
            .values()
            .filter(|p| !p.is_dead && p.uid == uid)
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
        state
    }
}
