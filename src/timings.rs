//! Stage timings on stderr when `KNOCKON_TIMINGS` is set, so where a run spends its time can be
//! read off any machine without a profiler (the performance figures in README come from this and
//! from `benches/`).

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os("KNOCKON_TIMINGS").is_some_and(|v| v != "0"))
}

/// Prints the stage's wall time and the process's CPU time over it when dropped (CPU time is
/// what to compare on a busy machine).
pub struct Stage {
    name: &'static str,
    start: Option<(Instant, Option<f64>)>,
}

/// Resident and peak resident memory of this process in MiB, from `/proc/self/status`.
fn memory_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// User + system CPU seconds of this process so far, from `/proc/self/stat` (Linux only).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Clock ticks are 100 per second on every Linux configuration Rust supports.
    Some((utime + stime) / 100.0)
}

/// Prints a count a stage arrived at ("calls kept: 12 of 90"), when timings are on.
pub fn count(what: &str, value: impl std::fmt::Display) {
    if enabled() {
        eprintln!("knockon timing: {what}: {value}");
    }
}

/// Starts timing a stage; free when timings are off.
pub fn stage(name: &'static str) -> Stage {
    Stage {
        name,
        start: enabled().then(|| (Instant::now(), process_cpu_seconds())),
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if let Some((start, cpu_start)) = self.start {
            let cpu = match (cpu_start, process_cpu_seconds()) {
                (Some(a), Some(b)) => format!("{:>9.1} ms CPU", (b - a) * 1e3),
                _ => String::new(),
            };
            let memory = memory_mib()
                .map(|(rss, peak)| format!("  rss {rss:>6.0} MiB, peak {peak:>6.0} MiB"))
                .unwrap_or_default();
            eprintln!(
                "knockon timing: {:<28} {:>9.1} ms wall {cpu}{memory}",
                self.name,
                start.elapsed().as_secs_f64() * 1e3
            );
        }
    }
}
