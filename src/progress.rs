//! A progress bar on stderr for work that takes more than about a second (files extracted,
//! repositories indexed), so a long run on a terminal shows it is alive. Never in CI logs, never
//! when stderr is not a terminal, never with `--quiet`: a report on stdout stays the only output
//! a script sees.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: no progress output for the rest of the process.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Is a progress bar wanted here? A terminal on stderr, not CI (`CI` set), not `TERM=dumb`.
fn wanted() -> bool {
    !QUIET.load(Ordering::Relaxed)
        && std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none_or(|v| v.is_empty() || v == "false" || v == "0")
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// How long work runs before the bar appears: shorter work finishes before a bar is useful.
const DELAY: Duration = Duration::from_millis(800);

/// A counter of `total` items of work (`what`: "files extracted"), drawn only once the work
/// has taken longer than [`DELAY`]. Cheap when hidden.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: AtomicBool,
}

impl Progress {
    pub fn new(total: u64, what: &str) -> Progress {
        let bar = wanted().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
            let style = ProgressStyle::with_template(&format!(
                "{{spinner}} {{bar:30}} {{pos}}/{{len}} {what} ({{elapsed}}, {{eta}} left)"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            shown: AtomicBool::new(false),
        }
    }

    /// One more item done (callable from any thread).
    pub fn inc(&self) {
        let Some(bar) = &self.bar else { return };
        bar.inc(1);
        if !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() >= DELAY
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
