//! The demo's processes: each example role runs as this binary re-executed with `--role`. Their
//! stdout and stderr lines arrive on one channel, so the narrative shows every process's lines
//! in the order they happened, each with the time and the process that printed it.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

/// Which of the processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildId(usize);

enum Event {
    Line {
        id: ChildId,
        stderr: bool,
        text: String,
    },
    Closed {
        id: ChildId,
    },
}

struct Proc {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    open_streams: u8,
    status: Option<ExitStatus>,
    stdout_lines: Vec<String>,
    stderr_lines: Vec<String>,
}

/// The processes the demo started, and its narrative.
pub struct Children {
    t0: Instant,
    exe: PathBuf,
    device: String,
    tx: Sender<Event>,
    rx: Receiver<Event>,
    procs: Vec<Proc>,
}

const LABEL_WIDTH: usize = 26;

impl Children {
    /// Children run `exe --role ...` with `BINDER_DEVICE=device`.
    pub fn new(exe: PathBuf, device: String) -> Children {
        let (tx, rx) = channel();
        Children {
            t0: Instant::now(),
            exe,
            device,
            tx,
            rx,
            procs: Vec::new(),
        }
    }

    fn print(&self, label: &str, text: &str) {
        let t = self.t0.elapsed().as_secs_f64();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "  {t:>8.3}s  {label:<LABEL_WIDTH$} | {text}");
        let _ = out.flush();
    }

    /// A narrative line of the demo itself.
    pub fn say(&self, text: impl AsRef<str>) {
        self.print(&format!("demo[{}]", std::process::id()), text.as_ref());
    }

    /// A line without time or process, for headings.
    pub fn heading(&self, text: impl AsRef<str>) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "\n{}", text.as_ref());
        let _ = out.flush();
    }

    fn label(&self, id: ChildId) -> String {
        let p = &self.procs[id.0];
        format!("{}[{}]", p.name, p.child.id())
    }

    pub fn pid(&self, id: ChildId) -> u32 {
        self.procs[id.0].child.id()
    }

    /// What the process printed on stdout so far.
    pub fn lines(&self, id: ChildId) -> &[String] {
        &self.procs[id.0].stdout_lines
    }

    /// Starts `role` with `args` as a separate process.
    pub fn spawn(&mut self, role: &str, args: &[&str]) -> Result<ChildId, String> {
        let mut child = Command::new(&self.exe)
            .arg("--role")
            .arg(role)
            .args(args)
            .env("BINDER_DEVICE", &self.device)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {role}: {e}"))?;
        let id = ChildId(self.procs.len());
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        forward(id, false, stdout, self.tx.clone());
        forward(id, true, stderr, self.tx.clone());
        let stdin = child.stdin.take();
        self.procs.push(Proc {
            name: role.to_owned(),
            child,
            stdin,
            open_streams: 2,
            status: None,
            stdout_lines: Vec::new(),
            stderr_lines: Vec::new(),
        });
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

    /// Handles the next event (prints it), waiting at most until `deadline`. False on timeout.
    fn pump(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(Event::Line { id, stderr, text }) => {
                let label = self.label(id);
                if stderr {
                    self.print(&format!("{label} stderr"), &text);
                    self.procs[id.0].stderr_lines.push(text);
                } else {
                    self.print(&label, &text);
                    self.procs[id.0].stdout_lines.push(text);
                }
                true
            }
            Ok(Event::Closed { id }) => {
                self.procs[id.0].open_streams -= 1;
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
            // We hold a sender ourselves: never disconnected.
            Err(RecvTimeoutError::Disconnected) => false,
        }
    }

    /// Prints whatever the processes say for `d`.
    pub fn pump_for(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while self.pump(deadline) {}
    }

    fn stderr_summary(&self, id: ChildId) -> String {
        let err = &self.procs[id.0].stderr_lines;
        if err.is_empty() {
            String::new()
        } else {
            format!("; its stderr: {}", err.join(" / "))
        }
    }

    /// Waits for a stdout line of `id` that starts with `prefix` and returns it.
    pub fn wait_line(
        &mut self,
        id: ChildId,
        prefix: &str,
        timeout: Duration,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        let mut seen = self.procs[id.0].stdout_lines.len();
        loop {
            let lines = &self.procs[id.0].stdout_lines;
            if let Some(line) = lines[seen..].iter().find(|l| l.starts_with(prefix)) {
                return Ok(line.clone());
            }
            seen = lines.len();
            if self.procs[id.0].open_streams == 0 {
                return Err(format!(
                    "{} exited before printing {prefix:?}{}",
                    self.label(id),
                    self.stderr_summary(id)
                ));
            }
            if !self.pump(deadline) && Instant::now() >= deadline {
                return Err(format!(
                    "{} did not print {prefix:?} within {} s{}",
                    self.label(id),
                    timeout.as_secs(),
                    self.stderr_summary(id)
                ));
            }
        }
    }

    /// Waits for `id` to exit (printing what it says meanwhile) and returns its status.
    pub fn wait_exit(&mut self, id: ChildId, timeout: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + timeout;
        while self.procs[id.0].open_streams > 0 {
            if !self.pump(deadline) && Instant::now() >= deadline {
                return Err(format!(
                    "{} did not exit within {} s",
                    self.label(id),
                    timeout.as_secs()
                ));
            }
        }
        loop {
            let p = &mut self.procs[id.0];
            if let Some(status) = p.child.try_wait().map_err(|e| e.to_string())? {
                p.status = Some(status);
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} closed its output but did not exit within {} s",
                    self.label(id),
                    timeout.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits for `id` to exit and fails unless it exited with status 0.
    pub fn expect_success(&mut self, id: ChildId, timeout: Duration) -> Result<(), String> {
        let status = self.wait_exit(id, timeout)?;
        self.say(format!("{} exited ({status})", self.label(id)));
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} failed ({status}){}",
                self.label(id),
                self.stderr_summary(id)
            ))
        }
    }

    /// Sends a line to the process's stdin.
    pub fn send(&mut self, id: ChildId, line: &str) -> Result<(), String> {
        let label = self.label(id);
        let stdin = self.procs[id.0]
            .stdin
            .as_mut()
            .ok_or_else(|| format!("{label}'s stdin is closed"))?;
        writeln!(stdin, "{line}").map_err(|e| format!("cannot write to {label}: {e}"))
    }

    /// Asks a server role to exit (`exit` on its stdin) and waits until it has.
    pub fn stop(&mut self, id: ChildId, timeout: Duration) -> Result<(), String> {
        self.say(format!("asking {} to exit", self.label(id)));
        self.send(id, "exit")?;
        self.procs[id.0].stdin = None;
        self.expect_success(id, timeout)
    }

    /// `kill -9`, and waits for the process to be gone.
    pub fn kill(&mut self, id: ChildId) -> Result<(), String> {
        let p = &mut self.procs[id.0];
        p.child
            .kill()
            .map_err(|e| format!("kill {}: {e}", p.child.id()))?;
        p.status = Some(p.child.wait().map_err(|e| e.to_string())?);
        Ok(())
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self, id: ChildId) -> bool {
        let p = &mut self.procs[id.0];
        if p.status.is_none()
            && let Ok(Some(status)) = p.child.try_wait()
        {
            p.status = Some(status);
        }
        p.status.is_none()
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
        let pid = nix::unistd::Pid::from_raw(self.pid(id) as i32);
        nix::sys::signal::kill(pid, signal).map_err(|e| format!("kill -{signal} {pid}: {e}"))?;
        let status = self.wait_exit(id, Duration::from_secs(10))?;
        self.say(format!("{} exited ({status})", self.label(id)));
        Ok(())
    }
}

impl Drop for Children {
    /// A failed step may leave processes behind: they go with the demo.
    fn drop(&mut self) {
        for p in &mut self.procs {
            if p.status.is_none() && matches!(p.child.try_wait(), Ok(None)) {
                let _ = p.child.kill();
                let _ = p.child.wait();
            }
        }
    }
}

/// Sends each line of `stream` as an event, then `Closed`.
fn forward(
    id: ChildId,
    stderr: bool,
    stream: impl std::io::Read + Send + 'static,
    tx: Sender<Event>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(text) = line else { break };
            if tx.send(Event::Line { id, stderr, text }).is_err() {
                return;
            }
        }
        let _ = tx.send(Event::Closed { id });
    });
}
