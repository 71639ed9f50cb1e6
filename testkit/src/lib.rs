//! Support for multi-process binder tests.
//!
//! A test binary built with `harness = false` calls [`run`] with its tests and its *roles*. A
//! test creates a [`TestBinder`] — its own userspace driver instance, or, when
//! `BINDER_TEST_DRIVER=kernel`, a kernel binder device leased for the duration of the test — and
//! spawns roles: the same binary re-executed with `BINDER_TEST_ROLE` set, running one role
//! function as a separate binder process. Roles report on stdout (one line per event) and take
//! commands on stdin, so a test can sequence processes and assert what each one saw.
//!
//! Tests therefore run in parallel (each with its own driver instance or device) and the same
//! suite runs unchanged on both drivers.

#![deny(missing_docs)]

mod process;

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use binder_rt::DriverSpec;
pub use libtest_mimic;
pub use process::{Echo, Launcher, Output, Process, current_role};

/// A test: returns `Err(reason)` to fail.
pub type TestFn = fn() -> Result<(), String>;
/// A role: runs in its own process with its arguments.
pub type RoleFn = fn(&[String]) -> Result<(), String>;

/// The `main` of a multi-process test binary: runs a role when this process is one, else the
/// tests with libtest's command line (filters, `--test-threads`, `--list`, ...).
pub fn run(tests: &[(&'static str, TestFn)], roles: &[(&'static str, RoleFn)]) -> ! {
    dispatch_role(roles);
    let args = libtest_mimic::Arguments::from_args();
    let trials = tests
        .iter()
        .map(|&(name, f)| libtest_mimic::Trial::test(name, move || f().map_err(Into::into)))
        .collect();
    libtest_mimic::run(&args, trials).exit()
}

/// The role every test binary has: a service manager for a kernel device (a userspace driver
/// instance starts its own). Prints `READY` once it serves; exits on `exit` or end of input.
const SERVICE_MANAGER_ROLE: &str = "__servicemanager";

fn role_service_manager(_: &[String]) -> Result<(), String> {
    binder_rt::service_manager::server::start(patience())
        .map_err(|e| format!("cannot become context manager: {e}"))?;
    report("READY");
    while let Some(cmd) = next_command() {
        if cmd == "exit" {
            break;
        }
    }
    Ok(())
}

/// The role that serves a shared userspace driver instance (see [`TestBinder::shared`]) with
/// its service manager: `args` are the socket path and the idle limit in seconds.
const SHARED_DRIVER_ROLE: &str = "__shared_driver";

fn role_shared_driver(args: &[String]) -> Result<(), String> {
    let [path, idle] = args else {
        return Err(format!(
            "{SHARED_DRIVER_ROLE} needs a path and an idle limit"
        ));
    };
    let idle = idle
        .parse()
        .map_err(|_| format!("bad idle limit {idle:?}"))?;
    let config = binder_driver::DriverConfig {
        access: binder_driver::Access {
            shared: true,
            context_manager_uid: None,
        },
        socket_mode: Some(0o666),
        idle_exit: Some(Duration::from_secs(idle)),
        ..binder_driver::DriverConfig::new(path.as_str())
    };
    binder_rt::driver::serve_instance(config, true).map_err(|e| format!("{path}: {e}"))
}

/// If this process was started as a role, runs it and exits; otherwise returns.
pub fn dispatch_role(roles: &[(&'static str, RoleFn)]) {
    let Some((role, args)) = current_role() else {
        return;
    };
    let builtin: [(&'static str, RoleFn); 2] = [
        (SERVICE_MANAGER_ROLE, role_service_manager),
        (SHARED_DRIVER_ROLE, role_shared_driver),
    ];
    let roles = &[&builtin[..], roles].concat();
    let Some((_, f)) = roles.iter().find(|(name, _)| *name == role) else {
        eprintln!("no role named {role:?}");
        std::process::exit(2);
    };
    match f(&args) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("role {role} failed: {e}");
            std::process::exit(1);
        }
    }
}

/// Whether the tests run against Linux's binder driver (`BINDER_TEST_DRIVER=kernel`).
pub fn kernel_driver() -> bool {
    std::env::var("BINDER_TEST_DRIVER").is_ok_and(|v| v == "kernel")
}

/// Whether kernel binder devices are there to lease (`BINDER_TEST_DEVICES` names at least one
/// that exists), as in the qemu harness.
pub fn kernel_devices_available() -> bool {
    std::env::var("BINDER_TEST_DEVICES").is_ok_and(|v| {
        v.split(',')
            .any(|d| !d.is_empty() && std::path::Path::new(d).exists())
    })
}

/// One test's binder "device": a fresh userspace driver instance (which starts its own service
/// manager), or a leased kernel device with a service manager this test starts.
#[derive(Debug)]
pub struct TestBinder {
    device: String,
    /// The service manager (kernel) or the driver with its service manager (shared instance)
    /// this test started.
    server: Option<Process>,
    _lease: Option<DeviceLease>,
}

static INSTANCE: AtomicU32 = AtomicU32::new(0);

impl TestBinder {
    /// A binder device of its own for the test `name`.
    pub fn new(name: &str) -> Result<TestBinder, String> {
        if kernel_driver() {
            Self::kernel(name)
        } else {
            Self::userspace(name)
        }
    }

    /// A leased kernel device from `BINDER_TEST_DEVICES` with a service manager of its own,
    /// whatever `BINDER_TEST_DRIVER` says (see [`kernel_devices_available`]).
    pub fn kernel(name: &str) -> Result<TestBinder, String> {
        let mut t = Self::bare_kernel(name)?;
        let mut sm = t.spawn(SERVICE_MANAGER_ROLE, &[])?;
        sm.expect("READY")?;
        t.server = Some(sm);
        Ok(t)
    }

    /// A leased kernel device with no context manager, for a test (or benchmark) that is its
    /// own.
    pub fn bare_kernel(_name: &str) -> Result<TestBinder, String> {
        let lease = DeviceLease::acquire(Duration::from_secs(120))?;
        Ok(TestBinder {
            device: lease.device.clone(),
            server: None,
            _lease: Some(lease),
        })
    }

    /// A fresh userspace driver instance (started by the first process that uses it), whatever
    /// `BINDER_TEST_DRIVER` says.
    pub fn userspace(name: &str) -> Result<TestBinder, String> {
        let n = INSTANCE.fetch_add(1, Ordering::Relaxed);
        let short: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(24)
            .collect();
        let device = format!("userspace:t{}-{n}-{short}", std::process::id());
        Ok(TestBinder {
            device,
            server: None,
            _lease: None,
        })
    }

    /// A userspace driver instance that every user may use (a shared instance on a
    /// filesystem socket of mode 0666, as an administrator would run for several users),
    /// served with its service manager by a role process of the test. On the kernel driver:
    /// as [`TestBinder::new`].
    pub fn shared(name: &str) -> Result<TestBinder, String> {
        if kernel_driver() {
            return TestBinder::new(name);
        }
        use std::os::unix::fs::PermissionsExt;
        let n = INSTANCE.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("binder-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        let path = dir.join("sock").to_string_lossy().into_owned();
        let spec = DriverSpec::Userspace(path.clone());
        // Killed with the TestBinder; exits by itself if the test process is killed.
        let idle = (patience() * 2).as_secs().to_string();
        let mut driver = Launcher::role(SHARED_DRIVER_ROLE, &[&path, &idle])?.start()?;
        let deadline = Instant::now() + patience();
        while !spec.is_available() {
            if driver.try_status().is_some() || Instant::now() > deadline {
                return Err(format!(
                    "the shared instance for {name} does not listen: {}",
                    driver.context()
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(TestBinder {
            device: spec.to_string(),
            server: Some(driver),
            _lease: None,
        })
    }

    /// The `BINDER_DEVICE` value the test's processes use.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Whether the device is a kernel one.
    pub fn is_kernel(&self) -> bool {
        self._lease.is_some()
    }

    /// Starts `role` as a separate process on this device.
    pub fn spawn(&self, role: &str, args: &[&str]) -> Result<Process, String> {
        self.spawn_with_env(role, args, &[])
    }

    /// Starts `role` and waits for its `READY` line (a server role that registered itself).
    pub fn start_ready(&self, role: &str) -> Result<Process, String> {
        let mut p = self.spawn(role, &[])?;
        p.expect("READY")?;
        Ok(p)
    }

    /// The suites' simplest test: the server role `server` started (until `READY`), then the
    /// client role `client`, which must report `OK` and exit 0.
    pub fn server_and_client(&self, server: &str, client: &str) -> Result<(), String> {
        let svc = self.start_ready(server)?;
        let mut c = self.spawn(client, &[])?;
        c.expect("OK")?;
        c.finish()?;
        drop(svc);
        Ok(())
    }

    /// Waits (up to [`patience`]) until the driver holds no buffer for the processes `pids`.
    pub fn expect_buffers_freed(&self, pids: &[u32]) -> Result<(), String> {
        let deadline = Instant::now() + patience();
        loop {
            let in_use = binder_rt::introspect::buffers_in_use(&self.device, pids)
                .map_err(|e| e.to_string())?;
            if in_use == 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("{in_use} buffers still allocated"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// [`TestBinder::spawn`] with more environment variables.
    pub fn spawn_with_env(
        &self,
        role: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Process, String> {
        let launcher = Launcher::role(role, args)?.device(Some(&self.device));
        env.iter().fold(launcher, |l, (k, v)| l.env(k, v)).start()
    }
}

/// A generous default for waits: the kernel suite runs under emulation, 10-15x slower.
pub fn patience() -> Duration {
    if kernel_driver() {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(20)
    }
}

/// Reads the orchestrator's next command line in a role (`None` at end of input).
pub fn next_command() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim().to_owned()),
    }
}

/// Prints an event line for the orchestrator and flushes it.
pub fn report(line: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// An exclusive lease on one kernel binder device from `BINDER_TEST_DEVICES`, held with
/// `flock` on `/tmp/binder-test-devices/<name>.lock` so parallel tests (and test binaries)
/// never share a device, and so never a context manager.
#[derive(Debug)]
pub struct DeviceLease {
    /// The device node.
    pub device: String,
    _lock: File,
}

impl DeviceLease {
    /// Takes the first free device, waiting up to `timeout` for one.
    pub fn acquire(timeout: Duration) -> Result<DeviceLease, String> {
        let devices = std::env::var("BINDER_TEST_DEVICES")
            .map_err(|_| "BINDER_TEST_DRIVER=kernel needs BINDER_TEST_DEVICES (a comma-separated device list)".to_string())?;
        let dir = "/tmp/binder-test-devices";
        let _ = std::fs::create_dir_all(dir);
        // Other users' test runs share the folder (failures here are harmless).
        let _ = std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o1777));
        let deadline = Instant::now() + timeout;
        loop {
            for device in devices.split(',').filter(|d| !d.is_empty()) {
                let name = device.rsplit('/').next().unwrap_or(device);
                let path = format!("{dir}/{name}.lock");
                let Ok(file) = OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .mode(0o666)
                    .open(&path)
                else {
                    continue;
                };
                // An exclusive `flock`, without waiting.
                if file.try_lock().is_ok() {
                    return Ok(DeviceLease {
                        device: device.to_owned(),
                        _lock: file,
                    });
                }
            }
            if Instant::now() > deadline {
                return Err("no free binder device in BINDER_TEST_DEVICES".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Makes this role process the context manager with `binder`, waiting while a kernel device's
/// previous context manager (of an earlier test) is being released.
pub fn become_context_manager(binder: binder_rt::SpIBinder) -> Result<(), String> {
    binder_rt::ProcessState::become_context_manager_within(binder, patience())
        .map_err(|e| format!("cannot become context manager: {e}"))
}

/// Parses `key=value` words of a report line.
pub fn fields(line: &str) -> HashMap<String, String> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
