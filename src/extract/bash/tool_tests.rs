//! Command-line models of the programs ops code runs: database dump and restore tools, backup
//! tools, `kubectl create secret|configmap`, and what such programs read from their
//! environment themselves (`[[env_reads]]`).

use super::extract;
use crate::extract::{FileFacts, RawResource, Reach};
use crate::model::Mode;
use crate::rules::models::Models;

fn facts(src: &str) -> FileFacts {
    let models = Models::builtin().expect("built-in models load");
    extract("ops/backup.sh", src, &models)
}

/// `(line, mode, path, tree?)` of each path access whose path is literal.
fn paths(src: &str) -> Vec<(u32, Mode, String, bool)> {
    facts(src)
        .accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Path(p) => Some((
                a.line,
                a.mode,
                p.expr.as_lit()?.to_string(),
                matches!(p.reach, Reach::Tree),
            )),
            _ => None,
        })
        .collect()
}

fn has(src: &str, line: u32, mode: Mode, path: &str, tree: bool) -> bool {
    paths(src).contains(&(line, mode, path.to_string(), tree))
}

/// `(line, name, optional?)` of each environment read, with the model that found it.
fn env_reads(src: &str) -> Vec<(u32, String, bool, String)> {
    facts(src)
        .accesses
        .iter()
        .filter(|a| a.mode == Mode::Read)
        .filter_map(|a| match &a.resource {
            RawResource::Env(t) => Some((
                a.line,
                t.name.as_lit()?.to_string(),
                t.value.is_some(),
                a.via.to_string(),
            )),
            _ => None,
        })
        .collect()
}

fn reads_env(src: &str, name: &str) -> Option<(u32, bool)> {
    env_reads(src)
        .into_iter()
        .find(|(_, n, _, _)| n == name)
        .map(|(line, _, optional, _)| (line, optional))
}

#[test]
fn pg_dump_and_pg_dumpall_write_their_file_option() {
    let src = "pg_dump -h db -U app -Fc -f /srv/backups/app.dump app\n\
               pg_dumpall --globals-only --file=/srv/backups/globals.sql\n\
               pg_dump -U app -d app -t orders > /srv/backups/orders.sql\n";
    assert!(has(src, 1, Mode::Write, "/srv/backups/app.dump", false));
    assert!(has(src, 2, Mode::Write, "/srv/backups/globals.sql", false));
    assert!(has(src, 3, Mode::Write, "/srv/backups/orders.sql", false));
    // The database, the user, the table and the host are no paths.
    let all = paths(src);
    assert!(
        all.iter()
            .all(|(_, _, p, _)| !["app", "db", "orders"].contains(&p.as_str())),
        "{all:?}"
    );
}

#[test]
fn pg_restore_reads_its_archive_and_writes_its_file_option() {
    let src = "pg_restore -d app_restore -j 4 /srv/backups/app.dump\n\
               pg_restore -l /srv/backups/app.dump -f /tmp/app.list\n\
               pg_restore -L /tmp/app.list -d app /srv/backups/app.dump\n";
    assert!(has(src, 1, Mode::Read, "/srv/backups/app.dump", false));
    assert!(!has(src, 1, Mode::Read, "app_restore", false));
    assert!(has(src, 2, Mode::Write, "/tmp/app.list", false));
    assert!(has(src, 3, Mode::Read, "/tmp/app.list", false));
}

#[test]
fn pg_basebackup_writes_a_data_directory_tree() {
    let src = "/usr/lib/postgresql/15/bin/pg_basebackup -h primary -D /var/lib/postgresql/15/main -R -X stream\n\
               pg_basebackup -D - -Ft > /srv/base.tar\n";
    assert!(has(
        src,
        1,
        Mode::Write,
        "/var/lib/postgresql/15/main",
        true
    ));
    // `-D -` is standard output.
    assert!(!paths(src).iter().any(|(_, _, p, _)| p == "-"));
}

#[test]
fn mysqldump_result_file_and_option_files() {
    let src = "mysqldump --defaults-extra-file=/etc/mysql/backup.cnf -u backup -p\"$MYSQL_ROOT_PASSWORD\" --single-transaction --result-file=/srv/backups/all.sql --all-databases\n\
               mysqldump -uroot -prsecret -r /srv/backups/shop.sql shop\n\
               mysql --defaults-file=/root/.my.cnf shop < /srv/sql/migrate.sql\n\
               mysql -u app -p shop -e 'select 1'\n";
    assert!(has(src, 1, Mode::Read, "/etc/mysql/backup.cnf", false));
    assert!(has(src, 1, Mode::Write, "/srv/backups/all.sql", false));
    // `-prsecret` is a password: its letters are not options, its `r...` no result file.
    assert!(has(src, 2, Mode::Write, "/srv/backups/shop.sql", false));
    assert!(!paths(src).iter().any(|(_, _, p, _)| p.contains("secret")));
    assert!(has(src, 3, Mode::Read, "/root/.my.cnf", false));
    assert!(has(src, 3, Mode::Read, "/srv/sql/migrate.sql", false));
    assert!(
        !paths(src).iter().any(|(l, _, _, _)| *l == 4),
        "{:?}",
        paths(src)
    );
}

#[test]
fn redis_server_config_dir_logfile_and_a_password_that_is_no_path() {
    let src = "redis-server /etc/redis/redis.conf --dir /var/lib/redis --logfile /var/log/redis/redis.log --requirepass \"$REDIS_PASS\" --save 900 1 --appendonly yes\n\
               redis-server --port 6380 --save 60 1000 --requirepass hunter2\n\
               redis-cli -h cache --rdb /srv/backups/redis/dump.rdb\n";
    assert!(has(src, 1, Mode::Read, "/etc/redis/redis.conf", false));
    assert!(has(src, 1, Mode::Write, "/var/lib/redis", true));
    assert!(has(src, 1, Mode::Append, "/var/log/redis/redis.log", false));
    assert!(has(
        src,
        3,
        Mode::Write,
        "/srv/backups/redis/dump.rdb",
        false
    ));
    // Directive values after the options (`--save 60 1000`, `yes`, the password) are no
    // configuration file.
    let all = paths(src);
    assert!(
        all.iter()
            .all(|(l, _, p, _)| *l != 2 && !["1", "yes", "hunter2", "1000"].contains(&p.as_str())),
        "{all:?}"
    );
}

#[test]
fn mongodump_and_mongorestore() {
    let src = "mongodump --uri \"$MONGO_URI\" --out /srv/backups/mongo/nightly --gzip\n\
               mongodump --archive=/srv/backups/mongo/all.archive --gzip\n\
               mongodump --archive --db app > /srv/backups/mongo/app.archive\n\
               mongorestore --drop /srv/backups/mongo/nightly\n\
               mongorestore --archive=/srv/backups/mongo/all.archive --gzip\n";
    assert!(has(src, 1, Mode::Write, "/srv/backups/mongo/nightly", true));
    assert!(has(
        src,
        2,
        Mode::Write,
        "/srv/backups/mongo/all.archive",
        false
    ));
    // `--archive` alone writes to standard output: the database is no path.
    assert!(has(
        src,
        3,
        Mode::Write,
        "/srv/backups/mongo/app.archive",
        false
    ));
    assert!(!paths(src).iter().any(|(_, _, p, _)| p == "app"));
    assert!(has(src, 4, Mode::Read, "/srv/backups/mongo/nightly", true));
    assert!(has(
        src,
        5,
        Mode::Read,
        "/srv/backups/mongo/all.archive",
        false
    ));
}

#[test]
fn restic_repository_before_or_after_the_subcommand() {
    let src = "restic -r /srv/restic --password-file /etc/restic/password backup /etc /var/www --exclude-file /etc/restic/excludes\n\
               restic restore latest --target /srv/restore -r /srv/restic\n\
               restic -r s3:s3.amazonaws.com/acme-restic snapshots\n";
    assert!(has(src, 1, Mode::Write, "/srv/restic", true));
    assert!(has(src, 1, Mode::Read, "/etc/restic/password", false));
    assert!(has(src, 1, Mode::CopyFrom, "/etc", true));
    assert!(has(src, 1, Mode::CopyFrom, "/var/www", true));
    assert!(has(src, 1, Mode::Read, "/etc/restic/excludes", false));
    // A global option's value is never an operand of the subcommand.
    assert!(!has(src, 1, Mode::CopyFrom, "/srv/restic", true));
    assert!(has(src, 2, Mode::Write, "/srv/restore", true));
    assert!(has(src, 2, Mode::Read, "/srv/restic", true));
    // The snapshot id is no path; an S3 repository is no local path.
    let all = paths(src);
    assert!(
        all.iter()
            .all(|(_, _, p, _)| p != "latest" && !p.starts_with("s3:s3")),
        "{all:?}"
    );
}

#[test]
fn borg_create_writes_the_repository_before_the_archive_name() {
    let src = "borg create --exclude-from /etc/borg/excludes /srv/borg::'{hostname}-{now}' /etc /home\n\
               borg create ::nightly /var/lib/app\n\
               borg extract /srv/borg::nightly\n";
    assert!(has(src, 1, Mode::Write, "/srv/borg", true));
    assert!(has(src, 1, Mode::CopyFrom, "/etc", true));
    assert!(has(src, 1, Mode::Read, "/etc/borg/excludes", false));
    assert!(!paths(src).iter().any(|(_, _, p, _)| p.contains("::")));
    // `::ARCHIVE` alone: the repository is BORG_REPO's.
    assert!(has(src, 2, Mode::CopyFrom, "/var/lib/app", true));
    assert_eq!(paths(src).iter().filter(|(l, _, _, _)| *l == 2).count(), 1);
    assert!(has(src, 3, Mode::Read, "/srv/borg", true));
}

#[test]
fn kubectl_create_secret_and_configmap_read_local_files() {
    let src = "kubectl create secret generic app-tls --from-file=tls.key=/etc/ssl/app.key --from-file=/etc/ssl/app.crt --from-literal=user=admin --from-env-file=/etc/app/secret.env\n\
               kubectl -n prod create configmap app-config --from-file=app.yaml=/etc/app/app.yaml --from-literal=mode=prod\n";
    assert!(has(src, 1, Mode::Read, "/etc/ssl/app.key", false));
    assert!(has(src, 1, Mode::Read, "/etc/ssl/app.crt", false));
    assert!(has(src, 1, Mode::Read, "/etc/app/secret.env", false));
    assert!(has(src, 2, Mode::Read, "/etc/app/app.yaml", false));
    let f = facts(src);
    let secrets: Vec<(Mode, Option<&str>)> = f
        .accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Secret(s) => Some((a.mode, s.id.as_lit())),
            _ => None,
        })
        .collect();
    assert_eq!(secrets, vec![(Mode::Set, Some("app-tls"))]);
    // A literal value and the configmap's name are no paths.
    let all = paths(src);
    assert!(
        all.iter()
            .all(|(_, _, p, _)| !p.contains("admin") && !p.contains("mode=") && p != "app-config"),
        "{all:?}"
    );
}

#[test]
fn database_tools_read_their_variables_when_set() {
    let src = "#!/bin/bash\nset -euo pipefail\npg_dump -Fc -f /srv/backups/app.dump app\nmysqldump --all-databases > /srv/backups/all.sql\naws s3 cp /srv/backups/app.dump s3://acme/pg/\nrestic backup /etc\nborg create ::x /etc\n";
    assert_eq!(reads_env(src, "PGPASSWORD"), Some((3, true)));
    assert_eq!(reads_env(src, "PGHOST"), Some((3, true)));
    assert_eq!(reads_env(src, "MYSQL_PWD"), Some((4, true)));
    assert_eq!(reads_env(src, "AWS_ACCESS_KEY_ID"), Some((5, true)));
    assert_eq!(reads_env(src, "RESTIC_PASSWORD"), Some((6, true)));
    assert_eq!(reads_env(src, "BORG_PASSPHRASE"), Some((7, true)));
    let via = env_reads(src)
        .into_iter()
        .find(|(_, n, _, _)| n == "PGPASSWORD")
        .map(|(_, _, _, via)| via);
    assert_eq!(via.as_deref(), Some("pg_dump (reads it if set)"));
    // Programs that read nothing of the kind, and variables of other programs.
    assert_eq!(reads_env(src, "MYSQL_PWD").map(|r| r.0), Some(4));
    assert_eq!(reads_env("ls /srv\n", "PGPASSWORD"), None);
}

#[test]
fn a_variable_the_script_sets_for_the_program_is_not_read() {
    // For the command only, through `env`, or exported before: the script's own value.
    let src = "PGPASSWORD=\"$(cat /run/secrets/pg)\" pg_dump -f /srv/a.dump app\n";
    assert_eq!(reads_env(src, "PGPASSWORD"), None);
    assert_eq!(reads_env(src, "PGUSER"), Some((1, true)));
    let src = "env MYSQL_PWD=\"$PW\" mysqldump shop > /srv/shop.sql\n";
    assert_eq!(reads_env(src, "MYSQL_PWD"), None);
    let src = "export PGPASSWORD=$(cat /run/secrets/pg)\npg_dump -f /srv/a.dump app\n";
    assert_eq!(reads_env(src, "PGPASSWORD"), None);
    assert_eq!(reads_env(src, "PGDATABASE"), Some((2, true)));
}

#[test]
fn programs_in_a_container_or_under_sudo_do_not_read_the_scripts_environment() {
    for src in [
        "docker exec db pg_dump -U app app > /srv/app.sql\n",
        "docker compose exec -T db pg_dumpall > /srv/all.sql\n",
        "sudo -u postgres pg_dump app > /srv/app.sql\n",
        "env -i pg_dump app > /srv/app.sql\n",
        "docker exec db sh -c 'pg_dump app' > /srv/app.sql\n",
    ] {
        assert_eq!(reads_env(src, "PGPASSWORD"), None, "{src}");
    }
    // `sudo -E` keeps it.
    assert_eq!(
        reads_env("sudo -E pg_dump app > /srv/app.sql\n", "PGPASSWORD"),
        Some((1, true))
    );
}

#[test]
fn a_required_use_of_the_same_variable_stays_required() {
    let src =
        "#!/bin/bash\nset -u\n: \"${PGPASSWORD:?set PGPASSWORD}\"\npg_dump -f /srv/a.dump app\n";
    assert_eq!(reads_env(src, "PGPASSWORD"), Some((3, false)));
}

#[test]
fn an_installed_program_path_is_its_name() {
    let src = "/usr/lib/postgresql/15/bin/pg_dump -f /srv/a.dump app\n\"$PG_HOME/bin/pg_dump\" -f /srv/b.dump app\n";
    assert_eq!(reads_env(src, "PGPASSWORD"), Some((1, true)));
    assert!(has(src, 1, Mode::Write, "/srv/a.dump", false));
    assert_eq!(
        reads_env("\"$PG_HOME/bin/pg_dump\" app > /srv/c.sql\n", "PGPASSWORD"),
        Some((1, true))
    );
    assert!(has(src, 2, Mode::Write, "/srv/b.dump", false));
    // A script named like the program, outside a `bin` directory, is the repository's own.
    assert_eq!(reads_env("./pg_dump app\n", "PGPASSWORD"), None);
}
