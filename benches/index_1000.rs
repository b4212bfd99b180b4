//! Benchmark: a check against a shared PostgreSQL index of 1,000 repositories.
//!
//!     KNOCKON_BENCH_POSTGRES=postgres://user@host/db cargo bench --bench index_1000
//!     ... -- --repos 1000 --regenerate
//!
//! (KNOCKON_TEST_POSTGRES is used when KNOCKON_BENCH_POSTGRES is not set; `.ci/postgres.sh`
//! starts a throwaway server and exports it.) Generates 1,000 service repositories under
//! target/bench-index/ — each with 30 Python jobs (writes of its own exports, reads of other
//! services' exports, tokens from the environment, Redis queues, Secrets Manager ids), 5 cleanup
//! scripts, a crontab and a compose file: a few hundred accesses each — plus 5 platform
//! repositories whose cleanups sweep all of /data. Each is indexed and published as its own CI
//! would (`knockon index --publish`), into the schema `knockon_bench`. Then it times a check of a
//! change to one service that moves 10 of its exports (10 resources), taking every other
//! repository from the index, and prints the wall time (median of 5, connection included) and the
//! rows the check read of all the index holds.

use knockon::app::{CheckRequest, check_indexed, setup};
use knockon::index::{Index, build};
use knockon::load::ChangeSpec;
use std::path::{Path, PathBuf};
use std::time::Instant;

const CHANGED: usize = 7;
const CHANGED_EXPORTS: usize = 10;

fn main() {
    let mut repos = 1000;
    let mut regenerate = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--repos" => repos = args.next().and_then(|n| n.parse().ok()).unwrap_or(repos),
            "--regenerate" => regenerate = true,
            _ => {}
        }
    }
    let Some(url) = std::env::var("KNOCKON_BENCH_POSTGRES")
        .ok()
        .or_else(|| std::env::var("KNOCKON_TEST_POSTGRES").ok())
        .filter(|u| !u.is_empty())
    else {
        println!(
            "index_1000: skipped (set KNOCKON_BENCH_POSTGRES or KNOCKON_TEST_POSTGRES to a PostgreSQL database)"
        );
        return;
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    let target = format!("{url}{separator}options=-c%20search_path%3Dknockon_bench");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-index");
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    if regenerate {
        admin
            .batch_execute("DROP SCHEMA IF EXISTS knockon_bench CASCADE")
            .expect("drop schema");
    }
    admin
        .batch_execute("CREATE SCHEMA IF NOT EXISTS knockon_bench")
        .expect("create schema");
    let mut index = Index::open(&target).expect("open index");
    let (models, _) = knockon::app::load_rules(&[]).expect("models");
    let have = index.counts().expect("counts").repos as usize;
    if have < repos + 5 {
        let started = Instant::now();
        let mut dirs: Vec<PathBuf> = (0..repos)
            .map(|i| service(&root, i, repos, false))
            .collect();
        dirs.extend((0..5).map(|n| platform(&root, n)));
        for (n, dir) in dirs.iter().enumerate() {
            for entry in
                build::index_directories(std::slice::from_ref(dir), &models).expect("index")
            {
                index.publish(&entry).expect("publish");
            }
            if n % 100 == 99 {
                eprintln!(
                    "published {} repositories ({:.0?})",
                    n + 1,
                    started.elapsed()
                );
            }
        }
        println!(
            "generated and published {} repositories in {:.1?}",
            dirs.len(),
            started.elapsed()
        );
    }
    admin
        .batch_execute("ANALYZE knockon_bench.repos, knockon_bench.files, knockon_bench.keys")
        .expect("analyze");
    let total = index.counts().expect("counts");
    println!(
        "index: {} repositories, {} files, {} keys ({} rows)",
        total.repos,
        total.files,
        total.keys,
        total.total()
    );
    let changed = changed_repo(&root, repos);
    let request = CheckRequest {
        repo: changed.clone(),
        change: ChangeSpec::Revisions {
            base: "HEAD~1".into(),
            head: Some("HEAD".into()),
        },
        context: Vec::new(),
        rules_dirs: Vec::new(),
        no_generic: false,
    };
    let setup = setup(&request).expect("setup");
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let started = Instant::now();
        let mut index = Index::open(&target).expect("open index");
        let report = check_indexed(&request, &setup, Some(&mut index)).expect("check");
        times.push(started.elapsed().as_secs_f64());
        last = Some(report);
    }
    times.sort_by(f64::total_cmp);
    let report = last.expect("a run");
    let used = report.stats.index.clone().unwrap_or_default();
    let read = used.rows_read;
    println!(
        "check touching {CHANGED_EXPORTS} resources: median {:.3}s (min {:.3}s, max {:.3}s); {} findings; {} repositories taken from the index in {} rounds",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        report.findings.len(),
        used.repositories.len(),
        used.selection_rounds
    );
    println!(
        "rows read: {} of {} ({:.2}%): {} repos, {} files, {} keys",
        read.total(),
        total.total(),
        100.0 * read.total() as f64 / total.total().max(1) as f64,
        read.repos,
        read.files,
        read.keys
    );
}

fn svc(i: usize) -> String {
    format!("svc-{i:04}")
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// One service repository; `moved` writes the change: 10 exports under `/data/svc/v2/`.
fn service(root: &Path, i: usize, repos: usize, moved: bool) -> PathBuf {
    let name = svc(i);
    let dir = root.join("repos").join(&name);
    if dir.exists() && !moved {
        return dir;
    }
    let pkg = name.replace('-', "_");
    let upper = pkg.to_uppercase();
    let mut crontab = String::from("SHELL=/bin/bash\n");
    for k in 0..30 {
        let out = if moved && k < CHANGED_EXPORTS {
            format!("/data/{name}/v2/export_{k}")
        } else {
            format!("/data/{name}/export_{k}")
        };
        let other = svc((i * 7 + k * 13 + 1) % repos);
        write(
            &dir,
            &format!("{pkg}/export_{k}.py"),
            &format!(
                r#"import json
import os

import boto3
import redis

OUT = "{out}"
TOKEN = os.environ["{upper}_TOKEN_{k}"]
r = redis.Redis(host="redis")
secrets = boto3.client("secretsmanager")


def run(day):
    with open(f"{{OUT}}/{{day}}.csv", "w") as f:
        f.write("x")
    with open("/data/{other}/export_{k2}/latest.csv") as f:
        data = f.read()
    r.rpush("{name}.events.{k}", json.dumps({{"day": day}}))
    secret = secrets.get_secret_value(SecretId="prod/{name}/db-{k}")
    os.remove(f"{{OUT}}/{{day}}.tmp")
    return data, secret
"#,
                k2 = k % 10
            ),
        );
        crontab.push_str(&format!("*/5 * * * * python3 -m {pkg}.export_{k}\n"));
    }
    for k in 0..5 {
        write(
            &dir,
            &format!("bin/{name}-cleanup-{k}.sh"),
            &format!(
                "#!/bin/bash\nDIR=/data/{name}/export_{k}\nfind \"$DIR\" -maxdepth 1 -name '*.csv' -mtime +7 -delete\nrm -f /var/log/{name}/cleanup-{k}.log\ncp \"$DIR/latest.csv\" /srv/share/{name}/export_{k}.csv\n"
            ),
        );
        crontab.push_str(&format!(
            "0 2 * * * /opt/{name}/bin/{name}-cleanup-{k}.sh\n"
        ));
    }
    write(&dir, "crontab", &crontab);
    write(
        &dir,
        "docker-compose.yml",
        &format!(
            "services:\n  {name}:\n    image: myorg/{name}:1.0\n    command: python3 -m {pkg}.export_0\n    environment:\n      {upper}_TOKEN_0: from-vault\n      OUT_DIR: /data/{name}\n"
        ),
    );
    dir
}

/// A platform repository whose cleanup sweeps every service's directory.
fn platform(root: &Path, n: usize) -> PathBuf {
    let dir = root.join("repos").join(format!("platform-ops-{n}"));
    if !dir.exists() {
        write(
            &dir,
            "cron/sweep.sh",
            "#!/bin/bash\nfind /data -name '*.tmp' -mtime +1 -delete\n",
        );
        write(&dir, "crontab", "0 3 * * * /opt/platform/cron/sweep.sh\n");
    }
    dir
}

/// The changed service as a git repository: base as indexed, head with 10 exports moved.
fn changed_repo(root: &Path, repos: usize) -> PathBuf {
    let dir = root.join("changed").join(svc(CHANGED));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let repo = git2::Repository::init(&dir).expect("init");
    let base = service(root, CHANGED, repos, false);
    copy_tree(&base, &dir);
    commit(&repo, "base");
    let head = service(&root.join("changed-head"), CHANGED, repos, true);
    copy_tree(&head, &dir);
    commit(&repo, "head");
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn commit(repo: &git2::Repository, message: &str) {
    let mut index = repo.index().expect("index");
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    index.write().expect("write index");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("find tree");
    let sig = git2::Signature::now("bench", "bench@example.com").expect("signature");
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .expect("commit");
}
