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

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use libtest_mimic;

const ROLE_ENV: &str = "BINDER_TEST_ROLE";
const ROLE_ARGS_ENV: &str = "BINDER_TEST_ROLE_ARGS";
const ARG_SEP: char = '\u{1f}';

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
/// instance starts its own).
const SERVICE_MANAGER_ROLE: &str = "__servicemanager";

fn role_service_manager(_: &[String]) -> Result<(), String> {
    use binder_rt::service_manager::{BnServiceManager, server::ServiceManager};
    let sm = BnServiceManager::new_binder(ServiceManager::new());
    become_context_manager(sm.as_binder())?;
    binder_rt::ProcessState::start_thread_pool().map_err(|e| e.to_string())?;
    report("READY");
    while let Some(cmd) = next_command() {
        if cmd == "exit" {
            break;
        }
    }
    Ok(())
}

/// If this process was started as a role, runs it and exits; otherwise returns.
pub fn dispatch_role(roles: &[(&'static str, RoleFn)]) {
    let Ok(role) = std::env::var(ROLE_ENV) else {
        return;
    };
    let builtin: [(&'static str, RoleFn); 1] = [(SERVICE_MANAGER_ROLE, role_service_manager)];
    let roles = &[&builtin[..], roles].concat();
    let args: Vec<String> = std::env::var(ROLE_ARGS_ENV)
        .unwrap_or_default()
        .split(ARG_SEP)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
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

/// One test's binder "device": a fresh userspace driver instance (which starts its own service
/// manager), or a leased kernel device with a service manager this test starts.
pub struct TestBinder {
    device: String,
    service_manager: Option<RoleProcess>,
    _lease: Option<DeviceLease>,
}

static INSTANCE: AtomicU32 = AtomicU32::new(0);

impl TestBinder {
    /// A binder device of its own for the test `name`.
    pub fn new(name: &str) -> Result<TestBinder, String> {
        if kernel_driver() {
            let lease = DeviceLease::acquire(Duration::from_secs(120))?;
            let mut t = TestBinder {
                device: lease.device.clone(),
                service_manager: None,
                _lease: Some(lease),
            };
            let mut sm = t.spawn(SERVICE_MANAGER_ROLE, &[])?;
            sm.expect("READY")?;
            t.service_manager = Some(sm);
            return Ok(t);
        }
        let n = INSTANCE.fetch_add(1, Ordering::Relaxed);
        let short: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(24)
            .collect();
        let device = format!("userspace:t{}-{n}-{short}", std::process::id());
        Ok(TestBinder {
            device,
            service_manager: None,
            _lease: None,
        })
    }

    /// A userspace driver instance that every user may use (a shared instance on a
    /// filesystem socket of mode 0666, as an administrator would run for several users),
    /// served by a thread of the test process, with a service manager role as its context
    /// manager. On the kernel driver: as [`TestBinder::new`].
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
        let path = dir.join("sock");
        let config = binder_driver::DriverConfig {
            access: binder_driver::Access {
                shared: true,
                context_manager_uid: None,
            },
            socket_mode: Some(0o666),
            idle_exit: Some(Duration::from_secs(10)),
            ..binder_driver::DriverConfig::new(path.to_string_lossy())
        };
        let server = binder_driver::Server::bind(config)
            .map_err(|e| format!("shared instance for {name}: {e}"))?;
        std::thread::spawn(move || server.run());
        let mut t = TestBinder {
            device: format!("userspace:{}", path.display()),
            service_manager: None,
            _lease: None,
        };
        let mut sm = t.spawn(SERVICE_MANAGER_ROLE, &[])?;
        sm.expect("READY")?;
        t.service_manager = Some(sm);
        Ok(t)
    }

    /// The `BINDER_DEVICE` value the test's processes use.
    pub fn device(&self) -> &str {
        &self.device
    }

    pub fn is_kernel(&self) -> bool {
        self._lease.is_some()
    }

    /// The pid of the service manager this test started (kernel devices only).
    pub fn service_manager_pid(&self) -> Option<u32> {
        self.service_manager.as_ref().map(RoleProcess::pid)
    }

    /// Starts `role` as a separate process on this device.
    pub fn spawn(&self, role: &str, args: &[&str]) -> Result<RoleProcess, String> {
        self.spawn_with_env(role, args, &[])
    }

    pub fn spawn_with_env(
        &self,
        role: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<RoleProcess, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let joined = args.join(&ARG_SEP.to_string());
        let mut cmd = Command::new(exe);
        cmd.env(ROLE_ENV, role)
            .env(ROLE_ARGS_ENV, joined)
            .env("BINDER_DEVICE", &self.device)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| format!("spawn {role}: {e}"))?;
        let (tx, lines) = channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr_text = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = stderr_text.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                s.push_str(&line);
                s.push('\n');
            }
        });
        let stdin = child.stdin.take();
        Ok(RoleProcess {
            role: role.to_owned(),
            child,
            stdin,
            lines,
            stderr: stderr_text,
            seen: Vec::new(),
        })
    }
}

/// A role running in its own process.
pub struct RoleProcess {
    role: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    seen: Vec<String>,
}

/// A generous default for waits: the kernel suite runs under emulation, 10-15x slower.
pub fn patience() -> Duration {
    if kernel_driver() {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(20)
    }
}

impl RoleProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn context(&self) -> String {
        let err = self
            .stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        format!(
            "role {} (pid {}) printed {:?}; stderr:\n{err}",
            self.role,
            self.child.id(),
            self.seen
        )
    }

    /// Waits for a stdout line starting with `prefix`; returns the rest of it (trimmed).
    pub fn expect(&mut self, prefix: &str) -> Result<String, String> {
        let deadline = Instant::now() + patience();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return Ok(rest.trim().to_owned());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "timed out waiting for {prefix:?}: {}",
                        self.context()
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.child.wait();
                    return Err(format!(
                        "exited before printing {prefix:?}: {}",
                        self.context()
                    ));
                }
            }
        }
    }

    /// Sends a command line to the role's stdin.
    pub fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("stdin closed")?;
        writeln!(stdin, "{line}").map_err(|e| format!("send to {}: {e}", self.role))
    }

    /// Waits for the role to exit successfully.
    pub fn finish(mut self) -> Result<(), String> {
        let status = self.wait_status()?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("exited with {status}: {}", self.context()))
        }
    }

    /// Waits for the role to exit, whatever its status.
    pub fn wait_status(&mut self) -> Result<ExitStatus, String> {
        drop(self.stdin.take());
        let deadline = Instant::now() + patience();
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return Err(format!("did not exit in time: {}", self.context()));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// `kill -9`.
    pub fn kill9(&mut self) -> Result<(), String> {
        self.child.kill().map_err(|e| e.to_string())?;
        let _ = self.child.wait();
        Ok(())
    }
}

impl Drop for RoleProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
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
pub struct DeviceLease {
    pub device: String,
    _lock: File,
}

impl DeviceLease {
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
                // SAFETY: flock on an fd we own; LOCK_NB never blocks.
                if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
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
