//! The runtime's side of the userspace driver's trust boundary: a process talks only to a
//! driver run by its own user or root. Anyone can create an abstract socket of any name, so a
//! second user who starts "the driver" first under another user's instance name must not get
//! that user's traffic and memory; the runtime checks who listens before it sends anything.
//!
//! The squatter runs as uid 65534, which needs root to start (CI runs as root); without root
//! the test says so and checks nothing else.

use binder_rt::ProcessState;
use binder_testkit::{TestBinder, next_command, report};
use nix::sys::socket::{self, Backlog};

const NOBODY: u32 = 65534;

fn st(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// As uid 65534, listens on the per-user abstract name of `instance` for user `victim_uid`,
/// as a driver would, and reports whether anyone sent it anything.
fn role_squatter(args: &[String]) -> Result<(), String> {
    let (victim_uid, instance) = (&args[0], &args[1]);
    nix::unistd::setgid(nix::unistd::Gid::from_raw(NOBODY)).map_err(st)?;
    nix::unistd::setuid(nix::unistd::Uid::from_raw(NOBODY)).map_err(st)?;
    let sock = binder_sys::ud::sock::seqpacket().map_err(st)?;
    let victim: u32 = victim_uid.parse().map_err(st)?;
    let addr = binder_sys::ud::Endpoint::of(instance, victim)
        .address()
        .map_err(st)?;
    socket::bind(std::os::fd::AsRawFd::as_raw_fd(&sock), &addr).map_err(st)?;
    socket::listen(&sock, Backlog::new(8).map_err(st)?).map_err(st)?;
    report("LISTENING");
    let _ = next_command();
    // Whatever connected: did it send a single byte?
    nix::fcntl::fcntl(
        &sock,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .map_err(st)?;
    let mut heard = 0;
    while let Ok(fd) = socket::accept(std::os::fd::AsRawFd::as_raw_fd(&sock)) {
        // SAFETY: accept returned a new descriptor that nothing else owns.
        let conn = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        let mut buf = [0u8; 64];
        nix::fcntl::fcntl(
            &conn,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .map_err(st)?;
        heard += nix::unistd::read(&conn, &mut buf).unwrap_or(0);
    }
    report(format!("HEARD {heard}"));
    Ok(())
}

/// The victim: opens its (default-named) instance and reports what it got.
fn role_victim(_: &[String]) -> Result<(), String> {
    match ProcessState::try_get() {
        Ok(_) => report("CONNECTED"),
        Err(e) => report(format!("REFUSED {e}")),
    }
    Ok(())
}

fn a_driver_of_another_user_is_refused() -> Result<(), String> {
    let me = nix::unistd::geteuid();
    if !me.is_root() {
        println!("skipped: a process of uid {NOBODY} can only be started by root");
        return Ok(());
    }
    let t = TestBinder::new("squat")?;
    if t.is_kernel() {
        println!("skipped: the kernel driver has no listener to impersonate");
        return Ok(());
    }
    let instance = t
        .device()
        .strip_prefix("userspace:")
        .ok_or("not a userspace device")?
        .to_owned();
    let mut squatter = t.spawn("squatter", &[&me.as_raw().to_string(), &instance])?;
    squatter.expect("LISTENING")?;
    let mut victim = t.spawn("victim", &[])?;
    let refused = victim.expect("REFUSED")?;
    for needle in ["uid 65534", "refusing to use it"] {
        if !refused.contains(needle) {
            return Err(format!("the refusal does not say {needle:?}: {refused}"));
        }
    }
    victim.finish()?;
    squatter.send("report")?;
    let heard = squatter.expect("HEARD")?;
    if heard.trim() != "0" {
        return Err(format!("the victim sent the squatter something: {heard}"));
    }
    squatter.finish()
}

fn main() {
    binder_testkit::run(
        &[(
            "a_driver_of_another_user_is_refused",
            a_driver_of_another_user_is_refused,
        )],
        &[("squatter", role_squatter), ("victim", role_victim)],
    )
}
