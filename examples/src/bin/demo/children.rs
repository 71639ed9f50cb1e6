//! The demo's processes: each example role runs as this binary re-executed with `--role`,
//! started with the test kit's launcher. Their stdout and stderr lines are printed as they
//! come, so the narrative shows every process's lines in the order they happened, each with the
//! time and the process that printed it.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use binder_testkit::{Launcher, Process};

/// Which of the processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildId(usize);

/// The processes the demo started, and its narrative.
pub struct Children {
    t0: Instant,
    exe: PathBuf,
    device: String,
    procs: Vec<Process>,
}

const LABEL_WIDTH: usize = 26;

/// Prints one narrative line: the time since `t0`, who says it, and what.
fn print(t0: Instant, label: &str, text: &str) {
    let t = t0.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "  {t:>8.3}s  {label:<LABEL_WIDTH$} | {text}");
    let _ = out.flush();
}

impl Children {
    /// Children run `exe --role ...` with `BINDER_DEVICE=device`.
    pub fn new(exe: PathBuf, device: String) -> Children {
        Children {
            t0: Instant::now(),
            exe,
            device,
            procs: Vec::new(),
        }
    }

    /// A narrative line of the demo itself.
    pub fn say(&self, text: impl AsRef<str>) {
        print(
            self.t0,
            &format!("demo[{}]", std::process::id()),
            text.as_ref(),
        );
    }

    /// A line without time or process, for headings.
    pub fn heading(&self, text: impl AsRef<str>) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "\n{}", text.as_ref());
        let _ = out.flush();
    }

    fn label(&self, id: ChildId) -> &str {
        self.procs[id.0].label()
    }

    pub fn pid(&self, id: ChildId) -> u32 {
        self.procs[id.0].pid()
    }

    /// What the process printed on stdout so far.
    pub fn lines(&mut self, id: ChildId) -> &[String] {
        self.procs[id.0].lines()
    }

    /// Starts `role` with `args` as a separate process.
    pub fn spawn(&mut self, role: &str, args: &[&str]) -> Result<ChildId, String> {
        let t0 = self.t0;
        let echo = Arc::new(move |label: &str, stderr: bool, text: &str| {
            if stderr {
                print(t0, &format!("{label} stderr"), text);
            } else {
                print(t0, label, text);
            }
        });
        let p = Launcher::new(&self.exe)
            .name(role)
            .args(["--role", role])
            .args(args)
            .device(Some(&self.device))
            .echo(echo)
            .start()?;
        let id = ChildId(self.procs.len());
        self.procs.push(p);
        let quoted: Vec<String> = args.iter().map(|a| format!(" {a}")).collect();
        self.say(format!(
            "started {role}{} as pid {} ({} --role {role}{})",
            quoted.concat(),
            self.pid(id),
            self.exe
                .file_name()
                .map_or("demo".into(), |n| n.to_string_lossy()),
            quoted.concat()
        ));
        Ok(id)
    }

    /// Lets the processes speak for `d` (their lines are printed as they come).
    pub fn pump_for(&self, d: Duration) {
        std::thread::sleep(d);
    }

    /// Waits for a stdout line of `id` that starts with `prefix` and returns it.
    pub fn wait_line(
        &mut self,
        id: ChildId,
        prefix: &str,
        timeout: Duration,
    ) -> Result<String, String> {
        self.procs[id.0]
            .expect_within(prefix, timeout)
            .map(|rest| format!("{prefix}{rest}"))
    }

    /// Waits for `id` to exit and fails unless it exited with status 0.
    pub fn expect_success(&mut self, id: ChildId, timeout: Duration) -> Result<(), String> {
        let status = self.procs[id.0].wait_exit(timeout)?;
        self.say(format!("{} exited ({status})", self.label(id)));
        if status.success() {
            Ok(())
        } else {
            Err(format!("failed ({status}): {}", self.procs[id.0].context()))
        }
    }

    /// Asks a server role to exit (`exit` on its stdin) and waits until it has.
    pub fn stop(&mut self, id: ChildId, timeout: Duration) -> Result<(), String> {
        self.say(format!("asking {} to exit", self.label(id)));
        self.procs[id.0].send("exit")?;
        self.procs[id.0].close_stdin();
        self.expect_success(id, timeout)
    }

    /// `kill -9`, and waits for the process to be gone.
    pub fn kill(&mut self, id: ChildId) -> Result<(), String> {
        self.procs[id.0].kill9()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self, id: ChildId) -> bool {
        self.procs[id.0].try_status().is_none()
    }

    /// Kills every process still running except `keep`.
    pub fn kill_all_except(&mut self, keep: Option<ChildId>) {
        for i in 0..self.procs.len() {
            let id = ChildId(i);
            if Some(id) != keep && self.is_running(id) {
                self.say(format!(
                    "killing {}, left over from this step",
                    self.label(id)
                ));
                let _ = self.kill(id);
            }
        }
    }

    /// Sends `signal` to the process and waits for it to exit.
    pub fn signal(&mut self, id: ChildId, signal: nix::sys::signal::Signal) -> Result<(), String> {
        self.procs[id.0].signal(signal)?;
        let status = self.procs[id.0].wait_exit(Duration::from_secs(10))?;
        self.say(format!("{} exited ({status})", self.label(id)));
        Ok(())
    }
}
