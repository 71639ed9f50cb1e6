//! The results: a table on stdout, JSON rows, an SVG plot.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::measure::Summary;
use crate::transport::Kind;

/// The machine the run was on.
#[derive(Serialize, Debug)]
pub struct Machine {
    pub cpu: String,
    pub cpus: usize,
    pub kernel: String,
    pub memory_gib: u64,
}

impl Machine {
    pub fn this() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')))
            .map_or("unknown".to_string(), |(_, v)| v.trim().to_string());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
        Machine {
            cpu,
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            kernel: nix::sys::utsname::uname()
                .map(|u| u.release().to_string_lossy().into_owned())
                .unwrap_or_default(),
            memory_gib: memory_kib.div_ceil(1024 * 1024),
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} CPUs ({}), {} GiB, Linux {}",
            self.cpus, self.cpu, self.memory_gib, self.kernel
        )
    }
}

/// One measured line: a round trip of one payload size, or a throughput run.
#[derive(Serialize, Debug, Clone)]
pub struct Row {
    pub transport: &'static str,
    pub payload: usize,
    /// The CPUs every process was restricted to, or `null` for an unpinned run.
    pub pinned: Option<String>,
    pub p50_ns: Option<u64>,
    pub p99_ns: Option<u64>,
    pub mean_ns: Option<u64>,
    pub calls_per_s: f64,
    /// Payload megabytes per second (latency rows: one call at a time).
    pub mb_per_s: Option<f64>,
    /// Copies of the payload per call, where known.
    pub copies: Option<u32>,
    /// Client processes (throughput rows).
    pub clients: Option<usize>,
}

impl Row {
    pub fn latency(kind: Kind, payload: usize, pinned: Option<&str>, s: Summary) -> Row {
        let calls_per_s = 1e9 / s.mean_ns.max(1) as f64;
        Row {
            transport: kind.name(),
            payload,
            pinned: pinned.map(str::to_owned),
            p50_ns: Some(s.p50_ns),
            p99_ns: Some(s.p99_ns),
            mean_ns: Some(s.mean_ns),
            calls_per_s,
            mb_per_s: (payload > 0).then(|| payload as f64 * calls_per_s / 1e6),
            copies: kind.copies(),
            clients: None,
        }
    }

    pub fn throughput(
        kind: Kind,
        payload: usize,
        pinned: Option<&str>,
        clients: usize,
        calls_per_s: f64,
    ) -> Row {
        Row {
            transport: kind.name(),
            payload,
            pinned: pinned.map(str::to_owned),
            p50_ns: None,
            p99_ns: None,
            mean_ns: None,
            calls_per_s,
            mb_per_s: None,
            copies: kind.copies(),
            clients: Some(clients),
        }
    }
}

fn us(ns: Option<u64>) -> String {
    ns.map_or("-".into(), |n| format!("{:.1}", n as f64 / 1e3))
}

fn size_label(size: usize) -> String {
    match size {
        0 => "0 B".into(),
        s if s % 1024 == 0 => format!("{} KiB", s / 1024),
        s => format!("{s} B"),
    }
}

fn pass_label(pinned: &Option<String>) -> String {
    pinned
        .as_ref()
        .map_or("unpinned".into(), |c| format!("pinned to CPU {c}"))
}

/// Round trips as `p50 (p99)` in µs, a transport per line and a size per column; then
/// throughput.
pub fn print_table(machine: &Machine, rows: &[Row]) {
    println!("machine: {}", machine.describe());
    let passes: Vec<Option<String>> = rows.iter().fold(Vec::new(), |mut v, r| {
        if !v.contains(&r.pinned) {
            v.push(r.pinned.clone());
        }
        v
    });
    for pass in &passes {
        let lat: Vec<&Row> = rows
            .iter()
            .filter(|r| &r.pinned == pass && r.clients.is_none())
            .collect();
        let sizes: BTreeSet<usize> = lat.iter().map(|r| r.payload).collect();
        println!();
        println!("round trip, {}: p50 (p99) µs", pass_label(pass));
        print!("{:<24}", "transport");
        for s in &sizes {
            print!("{:>20}", size_label(*s));
        }
        println!("{:>8}", "copies");
        for name in transports_in_order(&lat) {
            print!("{name:<24}");
            for s in &sizes {
                let cell = lat
                    .iter()
                    .find(|r| r.transport == name && r.payload == *s)
                    .map_or("".into(), |r| {
                        format!("{} ({})", us(r.p50_ns), us(r.p99_ns))
                    });
                print!("{cell:>20}");
            }
            let copies = lat
                .iter()
                .find(|r| r.transport == name)
                .and_then(|r| r.copies)
                .map_or("?".into(), |c| c.to_string());
            println!("{copies:>8}");
        }
        let tp: Vec<&Row> = rows
            .iter()
            .filter(|r| &r.pinned == pass && r.clients.is_some())
            .collect();
        if tp.is_empty() {
            continue;
        }
        let clients: BTreeSet<usize> = tp.iter().filter_map(|r| r.clients).collect();
        println!();
        println!(
            "throughput, {}: calls/s, N client processes",
            pass_label(pass)
        );
        print!("{:<24}", "transport");
        for n in &clients {
            print!("{:>12}", format!("N={n}"));
        }
        println!();
        for name in transports_in_order(&tp) {
            print!("{name:<24}");
            for n in &clients {
                let cell = tp
                    .iter()
                    .find(|r| r.transport == name && r.clients == Some(*n))
                    .map_or("".into(), |r| format!("{:.0}", r.calls_per_s));
                print!("{cell:>12}");
            }
            println!();
        }
    }
}

fn transports_in_order<'a>(rows: &[&'a Row]) -> Vec<&'a str> {
    rows.iter().fold(Vec::new(), |mut v, r| {
        if !v.contains(&r.transport) {
            v.push(r.transport);
        }
        v
    })
}

pub fn write_json(path: &Path, machine: &Machine, rows: &[Row]) -> Result<(), String> {
    let doc = serde_json::json!({ "machine": machine, "rows": rows });
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("write {path:?}: {e}"))
}

/// Round trip (p50) against payload, one line per transport, one panel per pass.
pub fn write_svg(path: &Path, machine: &Machine, rows: &[Row]) -> Result<(), String> {
    use plotters::prelude::*;

    let lat: Vec<&Row> = rows.iter().filter(|r| r.clients.is_none()).collect();
    let passes: Vec<Option<String>> = lat.iter().fold(Vec::new(), |mut v, r| {
        if !v.contains(&r.pinned) {
            v.push(r.pinned.clone());
        }
        v
    });
    let sizes: Vec<usize> = lat
        .iter()
        .map(|r| r.payload)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if lat.is_empty() || sizes.is_empty() {
        return Err("nothing to plot".into());
    }
    let max_us = lat
        .iter()
        .filter_map(|r| r.p50_ns)
        .max()
        .map_or(1.0, |n| n as f64 / 1e3)
        * 1.5;
    let min_us = lat
        .iter()
        .filter_map(|r| r.p50_ns)
        .min()
        .map_or(0.01, |n| (n as f64 / 1e3).max(0.01))
        / 1.5;
    let err = |e: &dyn std::fmt::Display| format!("svg: {e}");
    let width = 640 * passes.len() as u32;
    let root = SVGBackend::new(path, (width, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (title, body) = root.split_vertically(40);
    title
        .draw(&Text::new(
            format!("round trip p50 by payload, {}", machine.describe()),
            (10, 12),
            ("sans-serif", 16),
        ))
        .map_err(|e| err(&e))?;
    let panels = body.split_evenly((1, passes.len()));
    for (panel, pass) in panels.iter().zip(&passes) {
        let mut chart = ChartBuilder::on(panel)
            .caption(pass_label(pass), ("sans-serif", 15))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(
                -0.2f64..(sizes.len() as f64 - 0.8),
                (min_us..max_us).log_scale(),
            )
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_labels(sizes.len())
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    sizes
                        .get(i as usize)
                        .map_or(String::new(), |s| size_label(*s))
                } else {
                    String::new()
                }
            })
            .x_desc("payload")
            .y_desc("µs")
            .draw()
            .map_err(|e| err(&e))?;
        let mine: Vec<&Row> = lat.iter().copied().filter(|r| &r.pinned == pass).collect();
        for (i, name) in transports_in_order(&mine).into_iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let points: Vec<(f64, f64)> = mine
                .iter()
                .filter(|r| r.transport == name)
                .filter_map(|r| {
                    let x = sizes.iter().position(|s| *s == r.payload)? as f64;
                    Some((x, r.p50_ns? as f64 / 1e3))
                })
                .collect();
            let style = ShapeStyle::from(color).stroke_width(if name.starts_with("binder") {
                3
            } else {
                1
            });
            chart
                .draw_series(LineSeries::new(points.clone(), style))
                .map_err(|e| err(&e))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 3, color.filled())),
                )
                .map_err(|e| err(&e))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))
}
