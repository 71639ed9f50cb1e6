//! The one launcher for the processes of the tests, the demo and the CLI tests: a program (or
//! this binary re-executed as a *role*) started with its stdout and stderr read line by line,
//! waited for with a limit, and killed when dropped.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use crate::patience;

/// The environment variable that names the role a re-executed binary runs.
pub(crate) const ROLE_ENV: &str = "BINDER_TEST_ROLE";
/// Its arguments, separated by [`ARG_SEP`].
const ROLE_ARGS_ENV: &str = "BINDER_TEST_ROLE_ARGS";
const ARG_SEP: char = '\u{1f}';

/// The role this process was started as ([`Launcher::role`]) and its arguments, if any.
pub fn current_role() -> Option<(String, Vec<String>)> {
    let role = std::env::var(ROLE_ENV).ok()?;
    let args = std::env::var(ROLE_ARGS_ENV)
        .unwrap_or_default()
        .split(ARG_SEP)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Some((role, args))
}

/// Called from the output readers with the process's label (`name[pid]`), whether the line
/// came from stderr, and the line: a demo prints the lines as they come.
pub type Echo = Arc<dyn Fn(&str, bool, &str) + Send + Sync>;

/// How to start a process.
pub struct Launcher {
    cmd: Command,
    name: String,
    echo: Option<Echo>,
}

impl std::fmt::Debug for Launcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launcher")
            .field("cmd", &self.cmd)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Launcher {
    /// Runs `program` (its file name names it in messages), with this process's environment.
    /// Its stdin is a pipe ([`Process::send`]).
    pub fn new(program: impl AsRef<OsStr>) -> Launcher {
        let program = program.as_ref();
        let name = std::path::Path::new(program)
            .file_name()
            .unwrap_or(program)
            .to_string_lossy()
            .into_owned();
        Launcher {
            cmd: Command::new(program),
            name,
            echo: None,
        }
    }

    /// This binary again, running `role` with `args` (see [`current_role`]).
    pub fn role(role: &str, args: &[&str]) -> Result<Launcher, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        Ok(Launcher::new(exe)
            .env(ROLE_ENV, role)
            .env(ROLE_ARGS_ENV, args.join(&ARG_SEP.to_string()))
            .name(role))
    }

    /// The name messages and [`Echo`] labels use.
    pub fn name(mut self, name: &str) -> Launcher {
        name.clone_into(&mut self.name);
        self
    }

    /// Adds command-line arguments.
    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Launcher {
        self.cmd.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Launcher {
        self.cmd.env(key, value);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(mut self, key: &str) -> Launcher {
        self.cmd.env_remove(key);
        self
    }

    /// `BINDER_DEVICE=device`, or none at all.
    pub fn device(mut self, device: Option<&str>) -> Launcher {
        match device {
            Some(d) => self.cmd.env("BINDER_DEVICE", d),
            None => self.cmd.env_remove("BINDER_DEVICE"),
        };
        self
    }

    /// Runs the program as user and group `uid` (the caller must be allowed to).
    pub fn uid(mut self, uid: u32) -> Launcher {
        use std::os::unix::process::CommandExt;
        self.cmd.uid(uid).gid(uid);
        self
    }

    /// Hands every output line to `echo` as it arrives.
    pub fn echo(mut self, echo: Echo) -> Launcher {
        self.echo = Some(echo);
        self
    }

    /// The command as it stands, for a caller that `exec`s it instead.
    pub fn command(self) -> Command {
        self.cmd
    }

    /// Starts it.
    pub fn start(mut self) -> Result<Process, String> {
        let mut child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.name))?;
        let label = format!("{}[{}]", self.name, child.id());
        let (tx, lines) = channel();
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let stderr = child.stderr.take().ok_or("no stderr pipe")?;
        forward(stdout, false, tx.clone(), label.clone(), self.echo.clone());
        forward(stderr, true, tx, label.clone(), self.echo);
        Ok(Process {
            label,
            stdin: child.stdin.take(),
            child,
            lines,
            stdout: Vec::new(),
            stderr: Vec::new(),
            cursor: 0,
            closed: false,
            status: None,
        })
    }

    /// Runs it to the end with no input and returns what it printed; kills it and fails if
    /// it takes longer than `limit`.
    pub fn output(self, limit: Duration) -> Result<Output, String> {
        let mut p = self.start()?;
        p.close_stdin();
        let status = p.wait_exit(limit)?;
        Ok(Output {
            status,
            stdout: p.stdout_text(),
            stderr: p.stderr_text(),
        })
    }
}

/// What a process printed, and how it ended. Each line of the texts ends with `\n`.
#[derive(Debug)]
pub struct Output {
    /// How it exited.
    pub status: ExitStatus,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

/// Sends each line of `stream` (without its newline) to `tx`, and to `echo`.
fn forward(
    stream: impl Read + Send + 'static,
    stderr: bool,
    tx: Sender<(bool, String)>,
    label: String,
    echo: Option<Echo>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&buf);
            let text = text.strip_suffix('\n').unwrap_or(&text).to_owned();
            if let Some(echo) = &echo {
                echo(&label, stderr, &text);
            }
            if tx.send((stderr, text)).is_err() {
                break;
            }
        }
    });
}

/// A running process (see [`Launcher`]); killed when dropped.
#[derive(Debug)]
pub struct Process {
    label: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<(bool, String)>,
    stdout: Vec<String>,
    stderr: Vec<String>,
    /// Stdout lines before this one were looked at by [`Process::expect`].
    cursor: usize,
    /// Both output streams are closed and every line is in.
    closed: bool,
    status: Option<ExitStatus>,
}

impl Process {
    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `name[pid]`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Every stdout line it printed so far.
    pub fn lines(&mut self) -> &[String] {
        self.take_available();
        &self.stdout
    }

    /// Its stdout so far, each line ending with `\n`.
    pub fn stdout_text(&mut self) -> String {
        self.take_available();
        self.stdout.iter().map(|l| format!("{l}\n")).collect()
    }

    /// Its stderr so far, each line ending with `\n`.
    pub fn stderr_text(&mut self) -> String {
        self.take_available();
        self.stderr.iter().map(|l| format!("{l}\n")).collect()
    }

    /// What it printed, for an error message.
    pub fn context(&mut self) -> String {
        let err = self.stderr_text();
        format!("{} printed {:?}; stderr:\n{err}", self.label, self.stdout)
    }

    /// Receives one line, waiting until `deadline`; false when none came (or none can).
    fn take_one(&mut self, deadline: Instant) -> bool {
        if self.closed {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok((false, line)) => self.stdout.push(line),
            Ok((true, line)) => self.stderr.push(line),
            Err(RecvTimeoutError::Timeout) => return false,
            Err(RecvTimeoutError::Disconnected) => {
                self.closed = true;
                return false;
            }
        }
        true
    }

    fn take_available(&mut self) {
        while self.take_one(Instant::now()) {}
    }

    /// Waits (up to [`patience`]) for a stdout line starting with `prefix`, after the lines an
    /// earlier `expect` looked at; returns the rest of it, trimmed.
    pub fn expect(&mut self, prefix: &str) -> Result<String, String> {
        self.expect_within(prefix, patience())
    }

    /// [`Process::expect`], waiting up to `limit`.
    pub fn expect_within(&mut self, prefix: &str, limit: Duration) -> Result<String, String> {
        let deadline = Instant::now() + limit;
        loop {
            while self.cursor < self.stdout.len() {
                let line = &self.stdout[self.cursor];
                self.cursor += 1;
                if let Some(rest) = line.strip_prefix(prefix) {
                    return Ok(rest.trim().to_owned());
                }
            }
            if !self.take_one(deadline) {
                if self.closed {
                    let _ = self.wait_exit(Duration::from_secs(1));
                    return Err(format!(
                        "exited before printing {prefix:?}: {}",
                        self.context()
                    ));
                }
                if Instant::now() >= deadline {
                    return Err(format!(
                        "did not print {prefix:?} within {} s: {}",
                        limit.as_secs(),
                        self.context()
                    ));
                }
            }
        }
    }

    /// Waits (up to [`patience`]) until its stderr contains `text`.
    pub fn expect_stderr(&mut self, text: &str) -> Result<(), String> {
        let deadline = Instant::now() + patience();
        while !self.stderr.iter().any(|l| l.contains(text)) {
            if !self.take_one(deadline) && (self.closed || Instant::now() >= deadline) {
                return Err(format!("did not log {text:?}: {}", self.context()));
            }
        }
        Ok(())
    }

    /// Sends a line to its stdin.
    pub fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| format!("{}'s stdin is closed", self.label))?;
        writeln!(stdin, "{line}").map_err(|e| format!("cannot write to {}: {e}", self.label))
    }

    /// Closes its stdin (a role reads the end of its commands).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Its exit status if it has exited.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits up to `limit` for it to exit, taking in its output meanwhile; kills it and fails
    /// if it does not.
    pub fn wait_exit(&mut self, limit: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_status() {
                // Its last lines may still be on the way (a child of its own may hold the
                // pipes open: wait a moment only).
                let tail = Instant::now() + Duration::from_millis(200);
                while self.take_one(tail) {}
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = self.kill9();
                return Err(format!(
                    "did not exit within {} s: {}",
                    limit.as_secs(),
                    self.context()
                ));
            }
            // Sleeps until a line comes, or 5 ms.
            if !self.take_one(deadline.min(Instant::now() + Duration::from_millis(5))) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// Closes its stdin and waits (up to [`patience`]) for it to exit, whatever its status.
    pub fn wait_status(&mut self) -> Result<ExitStatus, String> {
        self.close_stdin();
        self.wait_exit(patience())
    }

    /// Closes its stdin and waits for it to exit successfully.
    pub fn finish(mut self) -> Result<(), String> {
        let status = self.wait_status()?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("exited with {status}: {}", self.context()))
        }
    }

    /// `kill -9`, and waits for it to be gone.
    pub fn kill9(&mut self) -> Result<(), String> {
        if self.try_status().is_none() {
            self.child
                .kill()
                .map_err(|e| format!("kill {}: {e}", self.label))?;
            self.status = Some(self.child.wait().map_err(|e| e.to_string())?);
        }
        Ok(())
    }

    /// Sends it `signal` (it is not waited for).
    pub fn signal(&self, signal: nix::sys::signal::Signal) -> Result<(), String> {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).map_err(|e| format!("kill -{signal} {pid}: {e}"))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.kill9();
    }
}
