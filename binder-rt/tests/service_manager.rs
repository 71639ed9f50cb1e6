//! The service manager across processes, on either driver: registration and lookup, the
//! errors of every kind of bad request, the uid policy, death cleanup, notifications.

use std::time::{Duration, Instant};

use binder_rt::service_manager::{
    DUMP_FLAG_PRIORITY_ALL, DUMP_FLAG_PRIORITY_DEFAULT, DUMP_FLAG_PRIORITY_HIGH, IServiceManager,
    service_manager,
};
use binder_rt::{ExceptionCode, ProcessState, StatusCode, binder_interface};
use binder_testkit::{TestBinder, fields, next_command, report};

#[binder_interface(descriptor = "smtest.IPid")]
pub trait IPid {
    fn pid(&self) -> binder_rt::Result<i32>;
}

struct Pid;
impl IPid for Pid {
    fn pid(&self) -> binder_rt::Result<i32> {
        Ok(std::process::id() as i32)
    }
}

fn st(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

/// Registers `IPid` under each name given (`name` or `name:priority`), as uid `uid=N` if the
/// first argument asks, then serves until "exit".
fn role_register(args: &[String]) -> Result<(), String> {
    let mut names = args;
    if let Some(uid) = args.first().and_then(|a| a.strip_prefix("uid=")) {
        let uid: u32 = uid.parse().map_err(st)?;
        nix::unistd::setuid(nix::unistd::Uid::from_raw(uid)).map_err(st)?;
        names = &args[1..];
    }
    ProcessState::start_thread_pool().map_err(st)?;
    let sm = service_manager().map_err(st)?;
    for n in names {
        let (name, prio) = match n.split_once(':') {
            Some((name, p)) => (name, p.parse().map_err(st)?),
            None => (n.as_str(), DUMP_FLAG_PRIORITY_DEFAULT),
        };
        let b = BnPid::new_binder(Pid);
        match sm.add_service(name, &b.as_binder(), false, prio) {
            Ok(()) => report(format!("ADDED {name}")),
            Err(e) => report(format!(
                "REFUSED {name} exception={:?} {e}",
                e.exception_code()
            )),
        }
    }
    report(format!("READY pid={}", std::process::id()));
    while let Some(cmd) = next_command() {
        if cmd == "exit" {
            break;
        }
    }
    Ok(())
}

fn role_lookups(args: &[String]) -> Result<(), String> {
    let owner: i32 = args[0].parse().map_err(st)?;
    let sm = service_manager().map_err(st)?;
    // Lookups.
    let a = binder_rt::get_interface::<dyn IPid>("sm.a").map_err(st)?;
    check(a.pid().map_err(st)? == owner, || {
        "sm.a answered from the wrong process".into()
    })?;
    check(
        binder_rt::check_service("sm.nope").map_err(st)?.is_none(),
        || "unknown name found".into(),
    )?;
    let e = binder_rt::get_service("sm.nope").expect_err("unknown name");
    check(
        e.transaction_error() == StatusCode::NameNotFound && e.message().contains("sm.nope"),
        || format!("unknown name gave {e}"),
    )?;
    check(sm.get_service("sm.nope").map_err(st)?.is_none(), || {
        "getService of unknown".into()
    })?;
    let raw = sm
        .check_service("sm.a")
        .map_err(st)?
        .ok_or("checkService sm.a")?;
    check(
        raw.interface_descriptor().map_err(st)? == "smtest.IPid",
        || "descriptor".into(),
    )?;
    // A typed lookup of the wrong interface is refused.
    let wrong = binder_rt::get_interface::<dyn IServiceManager>("sm.a");
    check(
        matches!(&wrong, Err(e) if e.transaction_error() == StatusCode::BadType),
        || format!("{wrong:?}"),
    )?;
    // The service manager lists itself as "manager", as Android's does: a lookup of it is
    // the context object (handle 0) under a name. (As on Android it is a node of its own, so
    // another handle: the context manager's node is the driver's pointer-0 node.)
    let manager = binder_rt::get_interface::<dyn IServiceManager>("manager").map_err(st)?;
    check(manager.as_binder().ping_binder().is_ok(), || {
        "\"manager\" does not answer".into()
    })?;
    check(
        manager.list_services(DUMP_FLAG_PRIORITY_ALL).map_err(st)?
            == sm.list_services(DUMP_FLAG_PRIORITY_ALL).map_err(st)?,
        || "\"manager\" lists other services than handle 0".into(),
    )?;
    check(
        manager.check_service("sm.a").map_err(st)?.as_ref() == Some(&a.as_binder()),
        || "\"manager\" finds another sm.a than handle 0".into(),
    )?;
    // Listing honours dump priorities.
    let all = sm.list_services(DUMP_FLAG_PRIORITY_ALL).map_err(st)?;
    check(
        all.contains(&"sm.a".into())
            && all.contains(&"sm.b".into())
            && all.contains(&"manager".into()),
        || format!("list {all:?}"),
    )?;
    let high = sm.list_services(DUMP_FLAG_PRIORITY_HIGH).map_err(st)?;
    check(high == vec!["sm.b".to_string()], || {
        format!("high priority list {high:?}")
    })?;
    check(binder_rt::list_services().map_err(st)? == all, || {
        "list_services()".into()
    })?;
    // Debug info names the registering process.
    let info = sm.get_service_debug_info().map_err(st)?;
    check(
        info.iter()
            .any(|i| i.name == "sm.a" && i.debug_pid == owner),
        || format!("debug info {info:?}"),
    )?;
    // Bad names and unsupported calls get proper errors.
    for bad in ["", "has space", &"x".repeat(200)] {
        let r = sm.add_service(bad, &a.as_binder(), false, DUMP_FLAG_PRIORITY_DEFAULT);
        check(
            matches!(&r, Err(e) if e.exception_code() == ExceptionCode::IllegalArgument),
            || format!("name {bad:?}: {r:?}"),
        )?;
    }
    check(!sm.is_declared("sm.a").map_err(st)?, || {
        "nothing is declared on Linux".into()
    })?;
    let r = sm.try_unregister_service("sm.a", &a.as_binder());
    check(
        matches!(&r, Err(e) if e.exception_code() == ExceptionCode::UnsupportedOperation),
        || format!("{r:?}"),
    )?;
    report("OK");
    Ok(())
}

fn role_wait_in_vain(_: &[String]) -> Result<(), String> {
    let r =
        binder_rt::wait_for_interface_timeout::<dyn IPid>("sm.never", Duration::from_millis(300));
    check(
        matches!(&r, Err(e) if e.transaction_error() == StatusCode::TimedOut),
        || format!("{r:?}"),
    )?;
    report("TIMED_OUT");
    Ok(())
}

fn role_wait(args: &[String]) -> Result<(), String> {
    report("WAITING");
    let svc = binder_rt::wait_for_interface::<dyn IPid>(&args[0]).map_err(st)?;
    report(format!("GOT pid={}", svc.pid().map_err(st)?));
    Ok(())
}

fn role_check_gone(args: &[String]) -> Result<(), String> {
    let deadline = Instant::now() + binder_testkit::patience();
    loop {
        let listed = binder_rt::list_services().map_err(st)?.contains(&args[0]);
        let found = binder_rt::check_service(&args[0]).map_err(st)?.is_some();
        if !listed && !found {
            break;
        }
        check(Instant::now() < deadline, || {
            format!("{} still registered after its process died", args[0])
        })?;
        std::thread::sleep(Duration::from_millis(10));
    }
    report("GONE");
    Ok(())
}

fn lookups_and_errors() -> Result<(), String> {
    let t = TestBinder::new("sm_lookups")?;
    let mut owner = t.spawn(
        "register",
        &["sm.a", &format!("sm.b:{DUMP_FLAG_PRIORITY_HIGH}")],
    )?;
    let pid = fields(&owner.expect("READY")?)["pid"].clone();
    let mut c = t.spawn("lookups", &[&pid])?;
    c.expect("OK")?;
    c.finish()?;
    owner.send("exit")?;
    owner.finish()
}

fn another_uid_cannot_replace_a_name() -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        // A process of another uid can only be made by root.
        println!("skipped: running a role as uid 65534 needs root");
        return Ok(());
    }
    // Two users on one instance: a shared one, as an administrator runs for several users.
    let t = TestBinder::shared("sm_uid")?;
    let mut first = t.spawn("register", &["sm.owned"])?;
    first.expect("ADDED sm.owned")?;
    let mut intruder = t.spawn("register", &["uid=65534", "sm.owned", "sm.free"])?;
    let refused = intruder.expect("REFUSED sm.owned")?;
    check(refused.contains("Security"), || {
        format!("refusal: {refused}")
    })?;
    // Another name is fine for that uid.
    intruder.expect("ADDED sm.free")?;
    // The owner's uid may replace its own registration.
    let mut same_uid = t.spawn("register", &["sm.owned"])?;
    same_uid.expect("ADDED sm.owned")?;
    for mut p in [first, intruder, same_uid] {
        p.send("exit")?;
        p.finish()?;
    }
    Ok(())
}

fn a_dead_service_leaves_and_watchers_see_only_the_new_one() -> Result<(), String> {
    let t = TestBinder::new("sm_death")?;
    let mut first = t.spawn("register", &["sm.dies"])?;
    first.expect("READY")?;
    first.kill9()?;
    let mut gone = t.spawn("check_gone", &["sm.dies"])?;
    gone.expect("GONE")?;
    gone.finish()?;
    // A watcher registered now is not told of the dead service...
    let mut waiter = t.spawn("wait", &["sm.dies"])?;
    waiter.expect("WAITING")?;
    std::thread::sleep(Duration::from_millis(200));
    // ...only of the next one.
    let mut second = t.spawn("register", &["sm.dies"])?;
    let pid = fields(&second.expect("READY")?)["pid"].clone();
    let got = fields(&waiter.expect("GOT")?)["pid"].clone();
    check(got == pid, || {
        format!("watcher got pid {got}, new service is {pid}")
    })?;
    waiter.finish()?;
    second.send("exit")?;
    second.finish()
}

fn wait_for_service_returns_once_registered() -> Result<(), String> {
    let t = TestBinder::new("sm_wait")?;
    let mut waiter = t.spawn("wait", &["sm.later"])?;
    waiter.expect("WAITING")?;
    let mut svc = t.spawn("register", &["sm.later"])?;
    let pid = fields(&svc.expect("READY")?)["pid"].clone();
    let got = fields(&waiter.expect("GOT")?)["pid"].clone();
    check(got == pid, || format!("got pid {got}, service is {pid}"))?;
    waiter.finish()?;
    svc.send("exit")?;
    svc.finish()?;
    let mut in_vain = t.spawn("wait_in_vain", &[])?;
    in_vain.expect("TIMED_OUT")?;
    in_vain.finish()
}

fn main() {
    binder_testkit::run(
        &[
            ("lookups_and_errors", lookups_and_errors),
            (
                "another_uid_cannot_replace_a_name",
                another_uid_cannot_replace_a_name,
            ),
            (
                "a_dead_service_leaves_and_watchers_see_only_the_new_one",
                a_dead_service_leaves_and_watchers_see_only_the_new_one,
            ),
            (
                "wait_for_service_returns_once_registered",
                wait_for_service_returns_once_registered,
            ),
        ],
        &[
            ("register", role_register),
            ("lookups", role_lookups),
            ("wait", role_wait),
            ("wait_in_vain", role_wait_in_vain),
            ("check_gone", role_check_gone),
        ],
    )
}
