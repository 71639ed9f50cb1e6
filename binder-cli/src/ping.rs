//! `binder ping NAME`: `PING_TRANSACTION` round trips to a service.

use std::fmt::Write;
use std::time::{Duration, Instant};

use binder_rt::DriverSpec;

use crate::device::{self, status_text};
use crate::{CliError, CliResult, print};

#[derive(Debug, clap::Args)]
pub struct PingArgs {
    /// The service's name, as `binder list` shows it.
    pub name: String,
    /// How many pings to send.
    #[arg(short = 'c', long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,
    /// Pause between pings, in milliseconds.
    #[arg(short = 'i', long, value_name = "MS", default_value_t = 0)]
    pub interval_ms: u64,
}

pub fn run(spec: &DriverSpec, args: &PingArgs) -> CliResult {
    device::open(spec)?;
    let sm = device::service_manager_of(spec)?;
    // checkService2 (Android 16), else checkService for service managers that predate it.
    let found = match sm.check_service2(&args.name) {
        Ok(s) => s.into_binder(),
        Err(status) => sm.check_service(&args.name).map_err(|_| {
            CliError::new(format!(
                "cannot look up {:?}: {}",
                args.name,
                status_text(&status)
            ))
        })?,
    };
    let binder = found.ok_or_else(|| CliError::new(format!("no service named {:?}", args.name)))?;
    let mut times = Vec::with_capacity(args.count as usize);
    for seq in 1..=args.count {
        if seq > 1 && args.interval_ms > 0 {
            std::thread::sleep(Duration::from_millis(args.interval_ms));
        }
        let start = Instant::now();
        binder.ping_binder().map_err(|e| {
            CliError::new(format!(
                "ping {:?} failed: {e} (is its process alive?)",
                args.name
            ))
        })?;
        let rtt = start.elapsed();
        times.push(rtt);
        let mut line = format!("ping {}: ", args.name);
        if args.count > 1 {
            let _ = write!(line, "seq={seq} ");
        }
        let _ = writeln!(line, "time={}", millis(rtt));
        print(&line)?;
    }
    if times.len() > 1 {
        let min = times.iter().min().copied().unwrap_or_default();
        let max = times.iter().max().copied().unwrap_or_default();
        let avg = times.iter().sum::<Duration>() / times.len() as u32;
        print(&format!(
            "{} pings: min/avg/max = {}/{}/{}\n",
            times.len(),
            millis(min),
            millis(avg),
            millis(max)
        ))?;
    }
    Ok(())
}

/// A duration in milliseconds with microsecond precision (`0.084 ms`).
fn millis(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}
