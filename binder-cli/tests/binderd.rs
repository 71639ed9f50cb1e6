//! `binderd`: serves an instance in the foreground (with its service manager), refuses a second
//! one under the same name, and exits when idle.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use binder_sys::ud::{Endpoint, HELLO_VERSION, ProcRequest, UD_REVISION, decode_reply};
use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockType, UnixAddr};

fn try_connect(instance: &str) -> nix::Result<OwnedFd> {
    let sock = socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let Endpoint::Abstract(name) = Endpoint::of(instance, nix::unistd::geteuid().as_raw()) else {
        unreachable!("a plain name is an abstract socket");
    };
    socket::connect(sock.as_raw_fd(), &UnixAddr::new_abstract(name.as_bytes())?)?;
    Ok(sock)
}

#[test]
fn binderd_serves_in_the_foreground_and_exits_when_idle() {
    let name = format!("t-binderd-{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_binderd");
    let mut child = Command::new(bin)
        .args(["--instance", &name, "--idle-exit-secs", "1"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while try_connect(&name).is_err() {
        assert!(Instant::now() < deadline, "binderd did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A racing second driver loses at once.
    let second = Command::new(bin)
        .args(["--instance", &name])
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already running"),
        "{second:?}"
    );
    // A process connection works; the driver is binderd itself.
    {
        let sock = try_connect(&name).unwrap();
        let mut hello = Vec::new();
        ProcRequest::Hello {
            version: HELLO_VERSION,
            flags: 0,
            revision: UD_REVISION,
        }
        .encode(&mut hello);
        socket::sendmsg::<()>(
            sock.as_raw_fd(),
            &[IoSlice::new(&hello)],
            &[],
            MsgFlags::empty(),
            None,
        )
        .unwrap();
        let mut buf = [0u8; 64];
        let n = socket::recvmsg::<()>(
            sock.as_raw_fd(),
            &mut [IoSliceMut::new(&mut buf)],
            None,
            MsgFlags::empty(),
        )
        .unwrap()
        .bytes;
        let (ret, payload) = decode_reply(&buf[..n]).unwrap();
        assert_eq!(ret, 0);
        assert_eq!(
            u32::from_le_bytes(payload[..4].try_into().unwrap()),
            child.id()
        );
    }
    // Idle (its own service manager does not count): it exits.
    let status = child.wait().unwrap();
    assert!(status.success());
}
