//! Benchmark: `knockon check` on a generated large workspace.
//!
//!     cargo bench --bench large_workspace            # default size
//!     cargo bench --bench large_workspace -- 20000   # files per context repository
//!     cargo bench --bench large_workspace -- --changed 1000,5000,10000,20000
//!                                                    # files in the changed repository
//!
//! Generates (once per size, under target/bench-workspace/) a changed repository with the
//! incident's loader change plus filler modules, and two context repositories full of Python
//! modules and shell scripts that read, write and delete paths, with crontabs; then times the
//! whole pipeline in-process (load, extract, resolve twice, graph, change, impact) over several
//! runs and prints wall time, throughput and peak memory (VmHWM). Figures go in the README.
//!
//! By default the changed repository holds a tenth as many files as a context repository. With
//! `--changed`, the workspace is generated and timed once per listed size of the changed
//! repository (Python modules and shell scripts like the context's), with a one-line change
//! (the loader's output name), so that the stages that grow with the changed repository (the
//! change stage compares all of its accesses at base and head) show how they scale.

use knockon::app::{CheckRequest, check};
use knockon::load::ChangeSpec;
use knockon::scenario::{Scenario, ScenarioRepo};
use std::path::Path;
use std::time::Instant;

fn main() {
    let mut per_repo = 5000;
    let mut changed_sizes: Vec<usize> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--changed" {
            let list = args.next().unwrap_or_default();
            changed_sizes = list
                .split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect();
        } else if let Ok(n) = arg.parse() {
            per_repo = n;
        }
    }
    if changed_sizes.is_empty() {
        run(per_repo, None);
        return;
    }
    let mut summary = Vec::new();
    for size in changed_sizes {
        let median = run(per_repo, Some(size));
        summary.push((size, median));
    }
    println!(
        "\nchanged repository size -> median check time ({per_repo} files per context repository, one-line change):"
    );
    for (size, median) in summary {
        println!("  {size:>6} files: {median:.2}s");
    }
}

/// Generates (or reuses) one workspace and times checks of it; returns the median time.
fn run(per_repo: usize, changed_files: Option<usize>) -> f64 {
    let name = match changed_files {
        Some(n) => format!("target/bench-workspace/{per_repo}-changed-{n}"),
        None => format!("target/bench-workspace/{per_repo}"),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let built_marker = root.join(".built");
    if !built_marker.exists() {
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("create bench dir");
        let started = Instant::now();
        let scenario = generate(per_repo, changed_files);
        let built = scenario.build(&root).expect("build repos");
        std::fs::write(&built_marker, format!("{}\n{}\n", built.base, built.head)).expect("marker");
        eprintln!("generated in {:.1}s", started.elapsed().as_secs_f64());
    }
    let marker = std::fs::read_to_string(&built_marker).expect("marker");
    let mut lines = marker.lines();
    let base = lines.next().unwrap_or_default().to_string();
    let head = lines.next().unwrap_or_default().to_string();
    let request = CheckRequest {
        repo: root.join("loader"),
        change: ChangeSpec::Revisions {
            base,
            head: Some(head),
        },
        context: vec![root.join("ops"), root.join("apps")],
        rules_dirs: Vec::new(),
        no_generic: false,
    };
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let started = Instant::now();
        let report = check(&request).expect("check");
        times.push(started.elapsed().as_secs_f64());
        last = Some(report);
    }
    let report = last.expect("one run");
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[times.len() / 2];
    let files = report.stats.files_analysed;
    if let Some(n) = changed_files {
        println!("changed repository: {n} files");
    }
    println!(
        "files analysed: {files}, accesses: {}, jobs: {}, findings: {}",
        report.stats.accesses,
        report.stats.jobs,
        report.findings.len()
    );
    println!(
        "wall time: median {:.2}s (min {:.2}s, max {:.2}s) over {} runs; {:.0} files/s",
        median,
        times[0],
        times[times.len() - 1],
        times.len(),
        files as f64 / median
    );
    println!("peak memory (VmHWM): {}", peak_rss());
    // The same world with no change: `knockon audit` of the three repositories at head.
    let audit = knockon::audit::AuditRequest {
        dirs: vec![root.join("loader"), root.join("ops"), root.join("apps")],
        ..Default::default()
    };
    let mut audit_times = Vec::new();
    let mut audit_findings = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let run = knockon::audit::audit(&audit).expect("audit");
        audit_times.push(started.elapsed().as_secs_f64());
        audit_findings = run.report.findings.len();
    }
    audit_times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "audit wall time: median {:.2}s (min {:.2}s, max {:.2}s) over {} runs; findings: {audit_findings}; peak memory (VmHWM): {}",
        audit_times[audit_times.len() / 2],
        audit_times[0],
        audit_times[audit_times.len() - 1],
        audit_times.len(),
        peak_rss()
    );
    median
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn generate(per_repo: usize, changed_files: Option<usize>) -> Scenario {
    let mut loader = ScenarioRepo {
        name: "loader".into(),
        changed: true,
        ..Default::default()
    };
    loader.base.insert(
        "loader/write.py".into(),
        "from pathlib import Path\nOUT = Path('/data/ticker')\n\ndef write(day, df):\n    df.to_csv(OUT / f'ticker_{day}.csv')\n".into(),
    );
    let head_write = match changed_files {
        // One changed line: the output's name.
        Some(_) => {
            "from pathlib import Path\nOUT = Path('/data/ticker')\n\ndef write(day, df):\n    df.to_csv(OUT / day / f'{day}.csv')\n"
        }
        None => {
            "from pathlib import Path\nOUT = Path('/data/ticker')\n\ndef write(day, ex, df):\n    df.to_csv(OUT / day / f'{ex}.csv')\n"
        }
    };
    loader
        .head
        .insert("loader/write.py".into(), head_write.into());
    match changed_files {
        // Like the context repositories: Python modules, and a shell script in every fifth.
        Some(n) => {
            for i in 0..n.saturating_sub(1) {
                let (path, text) = if i % 5 == 4 {
                    (format!("loader/bin/job_{i}.sh"), shell_script(i))
                } else {
                    (
                        format!("loader/pkg_{}/mod_{i}.py", i % 50),
                        python_module(i),
                    )
                };
                loader.base.insert(path.clone(), text.clone());
                loader.head.insert(path, text);
            }
        }
        None => {
            for i in 0..per_repo / 10 {
                let module = python_module(i);
                loader
                    .base
                    .insert(format!("loader/mod_{i}.py"), module.clone());
                loader.head.insert(format!("loader/mod_{i}.py"), module);
            }
        }
    }
    let mut ops = ScenarioRepo {
        name: "ops".into(),
        ..Default::default()
    };
    let mut crontab = String::from("SHELL=/bin/bash\n");
    for i in 0..per_repo {
        let script = shell_script(i);
        ops.base.insert(format!("cron/job_{i}.sh"), script);
        if i % 10 == 0 {
            crontab.push_str(&format!(
                "{} {} * * * /opt/ops/cron/job_{i}.sh\n",
                i % 60,
                i % 24
            ));
        }
    }
    ops.base.insert(
        "cron/cleanup_ticker.sh".into(),
        "#!/bin/bash\nfind /data/ticker -maxdepth 1 -name 'ticker_*.csv' -mtime +3 -delete\n"
            .into(),
    );
    crontab.push_str("0 2 * * * /opt/ops/cron/cleanup_ticker.sh\n");
    ops.base.insert("crontab".into(), crontab);
    ops.head = ops.base.clone();
    let mut apps = ScenarioRepo {
        name: "apps".into(),
        ..Default::default()
    };
    for i in 0..per_repo {
        apps.base
            .insert(format!("app/pkg_{}/m_{i}.py", i % 50), python_module(i));
    }
    apps.head = apps.base.clone();
    Scenario {
        description: format!("generated workspace, {per_repo} files per context repository"),
        repos: vec![loader, ops, apps],
        expected: Vec::new(),
        audit: false,
    }
}

fn python_module(i: usize) -> String {
    format!(
        r#"import os
import glob
import json
from pathlib import Path

BASE = Path(os.environ.get("APP_{i}_DIR", "/srv/app{m}/data"))
ARCHIVE = "/srv/archive/{i}"


class Worker{i}:
    def __init__(self, name):
        self.name = name
        self.out = BASE / name

    def run(self, day):
        src = self.out / f"{{day}}.json"
        with open(src) as fh:
            payload = json.load(fh)
        dest = os.path.join(ARCHIVE, "%s-%s.json" % (self.name, day))
        with open(dest, "w") as fh:
            json.dump(payload, fh)
        for old in glob.glob(os.path.join(ARCHIVE, "*.tmp")):
            os.remove(old)
        return len(payload)


def helper_{i}(values):
    total = 0
    for v in values:
        if v % 2:
            total += v
    return total
"#,
        m = i % 7
    )
}

fn shell_script(i: usize) -> String {
    format!(
        r#"#!/bin/bash
set -euo pipefail
DIR="${{DATA_DIR:-/srv/app{m}/data}}"
LOG=/var/log/job_{i}.log
echo "start" >> "$LOG"
for f in "$DIR"/*.json; do
  gzip -9 "$f"
done
find "$DIR" -name '*.json.gz' -mtime +30 -delete
cp "$DIR/latest.json" /srv/backup/job_{i}/
rm -f /tmp/job_{i}.lock
"#,
        m = i % 7
    )
}
