//! Round-trip latency of a binder call across processes, by payload size, through the
//! generated proxy and stub (the full path a user gets).
//!
//! `cargo bench -p binder-benches --bench roundtrip -- [--cpu N] [--rounds N] [--sizes a,b,..]`
//!
//! With `--cpu N`, this process, the server and the userspace driver (which inherits the
//! server's affinity when the server starts it) all run on CPU N: the configuration the
//! project's reference numbers use (`userspace-driver-costs.md`). The driver is a fresh
//! userspace instance unless `BINDER_DEVICE` names one (or a kernel device).

use std::time::Instant;

use binder_rt::{ProcessState, binder_interface};
use binder_testkit::{TestBinder, next_command, report};

#[binder_interface(descriptor = "bench.IBench")]
pub trait IBench {
    /// Receives `data` in place (no copy out of the mapping) and answers its length.
    fn send(&self, data: &[u8]) -> binder_rt::Result<i32>;
}

struct Bench;

impl IBench for Bench {
    fn send(&self, data: &[u8]) -> binder_rt::Result<i32> {
        // Touch both ends in place, as the reference broker's server does.
        std::hint::black_box((data.first(), data.last()));
        Ok(data.len() as i32)
    }
}

fn pin(cpu: Option<usize>) -> Result<(), String> {
    let Some(cpu) = cpu else { return Ok(()) };
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu).map_err(|e| e.to_string())?;
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).map_err(|e| e.to_string())
}

const NAME: &str = "bench.roundtrip";

fn role_server(_: &[String]) -> Result<(), String> {
    let b = BnBench::new_binder(Bench);
    ProcessState::start_thread_pool().map_err(|e| e.to_string())?;
    binder_rt::add_service(NAME, b.as_binder()).map_err(|e| e.to_string())?;
    report("READY");
    while let Some(cmd) = next_command() {
        if cmd == "exit" {
            break;
        }
    }
    Ok(())
}

struct Args {
    cpu: Option<usize>,
    rounds: usize,
    sizes: Vec<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        cpu: None,
        rounds: 2000,
        sizes: vec![0, 4096, 65536, 524288],
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--cpu" => args.cpu = Some(value()?.parse().map_err(|_| "bad --cpu")?),
            "--rounds" => args.rounds = value()?.parse().map_err(|_| "bad --rounds")?,
            "--sizes" => {
                args.sizes = value()?
                    .split(',')
                    .map(|s| s.parse().map_err(|_| "bad --sizes"))
                    .collect::<Result<_, _>>()?
            }
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn main() -> Result<(), String> {
    binder_testkit::dispatch_role(&[("server", role_server)]);
    let args = parse_args()?;
    pin(args.cpu)?;
    let device = std::env::var("BINDER_DEVICE").ok();
    let t = TestBinder::new("bench")?;
    let device = device.unwrap_or_else(|| t.device().to_owned());
    // SAFETY: single-threaded at this point; the variable is read by ProcessState below and
    // inherited by the server.
    unsafe { std::env::set_var("BINDER_DEVICE", &device) };
    let mut server = t.spawn_with_env("server", &[], &[("BINDER_DEVICE", &device)])?;
    server.expect("READY")?;
    let svc = binder_rt::get_interface::<dyn IBench>(NAME).map_err(|e| e.to_string())?;
    println!(
        "binder round trip, generated proxy and stub, driver {device}, cpu {}",
        args.cpu.map_or("unpinned".to_string(), |c| c.to_string())
    );
    for &size in &args.sizes {
        let payload = vec![7u8; size];
        let mut v = Vec::with_capacity(args.rounds);
        for i in 0..args.rounds + 100 {
            let t0 = Instant::now();
            let n = svc.send(&payload).map_err(|e| e.to_string())?;
            let dt = t0.elapsed();
            if n as usize != size {
                return Err(format!("bad reply {n} for {size}"));
            }
            if i >= 100 {
                v.push(dt.as_secs_f64() * 1e6);
            }
        }
        v.sort_by(f64::total_cmp);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        println!(
            "binder {size:>8} B  p50 {:>8.1} us  p99 {:>8.1} us  mean {:>8.1} us",
            v[v.len() / 2],
            v[v.len() * 99 / 100],
            mean
        );
    }
    if let Ok(stats) = binder_rt::driver_stats() {
        println!(
            "driver: {} transactions, {} replies, {} bytes copied ({} from send arenas, {} from outside them)",
            stats.transactions,
            stats.replies,
            stats.bytes_copied,
            stats.bytes_copied_arena,
            stats.bytes_copied_vm
        );
    }
    server.send("exit")?;
    server.finish()
}
