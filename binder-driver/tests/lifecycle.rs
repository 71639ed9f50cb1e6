//! Starting and stopping instances, the `binderd` binary, the sealed receive area, and the
//! node-info ioctls.

mod common;

use std::time::{Duration, Instant};

use binder_driver::{DriverConfig, DriverError, Server, serve};
use binder_sys::ud::*;
use binder_sys::*;
use common::*;

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("life-{tag}-{}-{nanos}", std::process::id())
}

#[test]
fn a_second_instance_of_the_same_name_refuses_quickly() {
    let name = unique("twice");
    let _first = Server::bind(DriverConfig::new(name.clone())).unwrap();
    let started = Instant::now();
    let second = serve(DriverConfig::new(name));
    assert!(
        matches!(second, Err(DriverError::AlreadyRunning)),
        "{second:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(matches!(
        Server::bind(DriverConfig::new("")),
        Err(DriverError::InvalidInstance(_))
    ));
}

#[test]
fn idle_exit_waits_for_processes_to_go() {
    let name = unique("idle");
    let server = Server::bind(DriverConfig {
        idle_exit: Some(Duration::from_millis(300)),
        ..DriverConfig::new(name.clone())
    })
    .unwrap();
    let inst = Instance { name: name.clone() };
    let started = Instant::now();
    let handle = std::thread::spawn(move || server.run());
    let p = Proc::connect(&inst);
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        !handle.is_finished(),
        "a connected process keeps the driver alive"
    );
    drop(p);
    handle.join().unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    // The name is free again.
    assert!(try_connect(&name).is_err());
    std::mem::forget(inst);
}

#[test]
fn shutdown_request_stops_an_idle_instance() {
    let name = unique("shutdown");
    let server = Server::bind(DriverConfig::new(name.clone())).unwrap();
    let handle = std::thread::spawn(move || server.run());
    let inst = Instance { name: name.clone() };
    drop(inst); // sends DebugQuery::Shutdown
    handle.join().unwrap().unwrap();
    assert!(try_connect(&name).is_err());
}

#[test]
fn the_receive_area_is_sealed_and_capped() {
    let inst = Instance::start("sealed");
    let sock = connect(&inst.name);
    assert_eq!(hello(&sock, 0, &[]).0, 0);
    assert_eq!(
        request(&sock, ProcRequest::MmapAddr { addr: 0x1000 }, &[]).0,
        -libc::EINVAL,
        "before mmap"
    );
    assert_eq!(
        request(&sock, ProcRequest::Mmap { size: 0 }, &[]).0,
        -libc::EINVAL
    );
    let (ret, payload, fds) = request(&sock, ProcRequest::Mmap { size: 16 << 20 }, &[]);
    assert_eq!(ret, 0);
    assert_eq!(
        u64::from_le_bytes(payload[..8].try_into().unwrap()),
        MAX_AREA_SIZE as u64
    );
    let fd = &fds[0];
    assert!(
        Mapping::map(fd, 4096, true).is_err(),
        "a writable shared mapping is refused"
    );
    assert!(nix::unistd::ftruncate(fd, 0).is_err());
    assert!(nix::unistd::ftruncate(fd, 8 << 20).is_err());
    let seals = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GET_SEALS).unwrap();
    assert_eq!(
        seals,
        libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_FUTURE_WRITE | libc::F_SEAL_SEAL
    );
    let ro = Mapping::map(fd, MAX_AREA_SIZE, false).unwrap();
    assert_eq!(ro.read(0, 4), [0; 4]);
    // Transactions cannot land before the address is known: BR_DEAD_REPLY as in the kernel.
    let t = {
        let (ret, _, mut fds) = request(&sock, ProcRequest::NewThread { tid: 5 }, &[]);
        assert_eq!(ret, 0);
        let mine = fds.pop().unwrap();
        set_timeout(&mine);
        Thread::on_socket(mine, 5)
    };
    t.set_context_manager();
    let mut c = Proc::connect(&inst);
    let ct = c.new_thread();
    let r = ct.write_read(&Cmds::new().transaction(0, 1, 0, b"x", &[]).0, READ_SIZE);
    assert!(r.br().contains(&Br::DeadReply), "{:?}", r.br());
}

#[test]
fn node_info_ioctls() {
    let inst = Instance::start("nodeinfo");
    let Pair {
        server: _s,
        server_thread: st,
        client: _c,
        client_thread: ct,
    } = pair(&inst);
    // The client hands the context manager two binders.
    st.start_read();
    let mut data = flat(BINDER_TYPE_BINDER, 0x100, 0x101).to_vec();
    data.extend_from_slice(&flat(BINDER_TYPE_BINDER, 0x200, 0x201));
    ct.send_write_read(
        &Cmds::new().transaction(0, 1, 0, &data, &[0, 24]).0,
        READ_SIZE,
    );
    let tr = txn_of(&st.recv_ioctl().br());
    st.reply(
        &Cmds::new()
            .acquire(1)
            .increfs(1)
            .acquire(2)
            .increfs(2)
            .free_buffer(tr.data_buffer)
            .reply(0, &[], &[]),
    );
    let brs = ct.recv_ioctl().br();
    assert!(
        brs.contains(&Br::Acquire(ptr_cookie(0x100, 0x101)))
            && brs.contains(&Br::Acquire(ptr_cookie(0x200, 0x201))),
        "{brs:?}"
    );

    // Node debug info walks the caller's nodes in pointer order.
    let walk = |ptr: u64| {
        let mut arg = ptr.to_le_bytes().to_vec();
        arg.resize(24, 0);
        let r = ct.ioctl(BINDER_GET_NODE_DEBUG_INFO, &arg);
        assert_eq!(r.ret, 0);
        let f = |i: usize| u64::from_le_bytes(r.arg[i..i + 8].try_into().unwrap());
        (
            f(0),
            f(8),
            u32::from_le_bytes(r.arg[16..20].try_into().unwrap()),
        )
    };
    assert_eq!(walk(0), (0x100, 0x101, 1));
    assert_eq!(walk(0x100), (0x200, 0x201, 1));
    assert_eq!(walk(0x200), (0, 0, 0));

    // Ref info: only the context manager may ask, and only with the handle set.
    let mut arg = [0u8; 24];
    arg[0..4].copy_from_slice(&1u32.to_le_bytes());
    assert_eq!(
        ct.ioctl(BINDER_GET_NODE_INFO_FOR_REF, &arg).ret,
        -libc::EPERM
    );
    let r = st.ioctl(BINDER_GET_NODE_INFO_FOR_REF, &arg);
    assert_eq!(r.ret, 0);
    let strong = u32::from_le_bytes(r.arg[4..8].try_into().unwrap());
    // The server's strong ref, plus the owner's until BC_ACQUIRE_DONE.
    assert_eq!(strong, 2);
    arg[8] = 1;
    assert_eq!(
        st.ioctl(BINDER_GET_NODE_INFO_FOR_REF, &arg).ret,
        -libc::EINVAL
    );
    arg[8] = 0;
    arg[0..4].copy_from_slice(&9u32.to_le_bytes());
    assert_eq!(
        st.ioctl(BINDER_GET_NODE_INFO_FOR_REF, &arg).ret,
        -libc::EINVAL
    );
}

#[test]
fn a_socket_path_replaces_only_a_stale_socket() {
    let dir = std::env::temp_dir().join(format!("binder-lifecycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A regular file at the path is never removed.
    let file = dir.join("file");
    std::fs::write(&file, b"keep").unwrap();
    assert!(matches!(
        Server::bind(DriverConfig::new(file.to_string_lossy())),
        Err(DriverError::AlreadyRunning)
    ));
    assert_eq!(std::fs::read(&file).unwrap(), b"keep");
    // A socket nobody answers on (left by a driver that died) is replaced.
    let stale = dir.join("stale");
    let l = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::SeqPacket,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    nix::sys::socket::bind(
        std::os::fd::AsRawFd::as_raw_fd(&l),
        &nix::sys::socket::UnixAddr::new(&stale).unwrap(),
    )
    .unwrap();
    drop(l);
    assert!(Server::bind(DriverConfig::new(stale.to_string_lossy())).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}
