use super::*;
use crate::extract::formats::testing::{accesses, models};

#[test]
fn fail2ban_jails_read_their_logpaths_including_continuations() {
    let text = "[DEFAULT]\nbantime = 1h\n\n[app-auth]\nenabled = true\nlogpath = /var/log/app/auth.log\n          /var/log/app/auth-*.log\nmaxretry = 5\n\n[sshd]\nlogpath = %(sshd_log)s\n";
    let f = extract("etc/fail2ban/jail.local", text, &models());
    assert_eq!(
        accesses(&f),
        vec![
            "L6 read /var/log/app/auth.log @[app-auth] via fail2ban logpath",
            "L7 read /var/log/app/auth-*.log @[app-auth] via fail2ban logpath",
        ]
    );
}

#[test]
fn nginx_logs_certificates_and_url_paths() {
    let text = "server {\n    listen 443 ssl;\n    access_log /var/log/nginx/app.access.log main;\n    error_log  /var/log/nginx/app.error.log warn;\n    ssl_certificate     /etc/ssl/app/fullchain.pem;\n    location /api/v1/ {\n        proxy_pass http://app;\n    }\n    root /var/www/app/public;\n}\n";
    let f = extract("etc/nginx/sites-available/app", text, &models());
    assert_eq!(
        accesses(&f),
        vec![
            "L3 append /var/log/nginx/app.access.log @ via config access_log",
            "L4 append /var/log/nginx/app.error.log @ via config error_log",
            "L5 read /etc/ssl/app/fullchain.pem @ via config ssl_certificate",
            "L9 read /var/www/app/public (tree) @ via web server document root",
        ]
    );
}

#[test]
fn web_server_document_roots_are_read_trees_only_in_web_server_configuration() {
    let text = "<VirtualHost *:80>\n  DocumentRoot /var/www/html\n  Alias /static /srv/static\n  CustomLog /var/log/apache2/access.log combined\n</VirtualHost>\n";
    let f = extract("etc/apache2/sites-enabled/site.conf", text, &models());
    let got = accesses(&f);
    assert!(
        got.contains(&"L2 read /var/www/html (tree) @ via web server document root".to_string()),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .any(|a| a.starts_with("L4 append /var/log/apache2/access.log")),
        "{got:#?}"
    );
    // Apache's `Alias URL DIR` is not nginx's `alias DIR`.
    assert!(got.iter().all(|a| !a.starts_with("L3 read")), "{got:#?}");
    // `root` of another program's configuration is not a document root.
    let f = extract("etc/app/app.ini", "[server]\nroot = /srv/app\n", &models());
    assert!(
        accesses(&f).iter().all(|a| !a.contains("document root")),
        "{:#?}",
        accesses(&f)
    );
}

#[test]
fn dnsmasq_rsyslog_and_app_ini() {
    let text = "log-facility=/var/log/dnsmasq.log\nconf-file=/etc/dnsmasq.d/extra.conf\n";
    let f = extract("etc/dnsmasq.conf", text, &models());
    assert_eq!(
        accesses(&f),
        vec![
            "L1 append /var/log/dnsmasq.log @ via config log-facility",
            "L2 read /etc/dnsmasq.d/extra.conf @ via config conf-file",
        ]
    );
    let text = "local0.*    -/var/log/app/app.log\n:programname, isequal, \"worker\" /var/log/app/worker.log\naction(type=\"omfile\" file=\"/var/log/app/json.log\")\ninput(type=\"imfile\" File=\"/srv/app/logs/*.log\" Tag=\"app\")\n";
    let f = extract("etc/rsyslog.d/30-app.conf", text, &models());
    assert_eq!(
        accesses(&f),
        vec![
            "L1 append /var/log/app/app.log @ via rsyslog action",
            "L2 append /var/log/app/worker.log @ via rsyslog action",
            "L3 append /var/log/app/json.log @ via rsyslog omfile",
            "L4 read /srv/app/logs/*.log @ via rsyslog imfile",
        ]
    );
    let text = "[worker]\nqueue = jobs\nspool_dir = /var/spool/worker\nlog_file = \"/var/log/worker.log\"\npaths = [\n  \"/data/in\",\n]\n";
    let f = extract("conf/worker.toml", text, &models());
    assert_eq!(
        accesses(&f),
        vec![
            "L3 create /var/spool/worker @[worker] via config spool_dir",
            "L4 append /var/log/worker.log @[worker] via config log_file",
            "L6 unknown /data/in @[worker] via generic: config",
        ]
    );
}

#[test]
fn fluent_bit_inputs_are_read() {
    let text = "[INPUT]\n    Name  tail\n    Path  /var/log/app/*.log, /var/log/worker.log\n    DB    /var/lib/fluent-bit/app.db\n";
    let f = extract("etc/fluent-bit/fluent-bit.conf", text, &models());
    assert_eq!(
        accesses(&f),
        vec![
            "L3 read /var/log/app/*.log @[INPUT] via log shipper input",
            "L3 read /var/log/worker.log @[INPUT] via log shipper input",
            "L4 write /var/lib/fluent-bit/app.db @[INPUT] via log shipper state",
        ]
    );
}

#[test]
fn long_and_binary_lines_are_skipped() {
    let long = format!(
        "log_file = /var/log/{}\nerror_log /var/log/x.log\n",
        "a".repeat(10_000)
    );
    let f = extract("x.conf", &long, &models());
    assert_eq!(
        accesses(&f),
        vec!["L2 append /var/log/x.log @ via config error_log"]
    );
    let binary = String::from_utf8_lossy(&[b'[', 0xff, b'=', b'/', 0, b'\n', b'=']).to_string();
    let _ = extract("x.ini", &binary, &models());
}

#[test]
fn detection() {
    assert!(is_key_value_path(
        "jail.local",
        Some("local"),
        &["fail2ban"]
    ));
    assert!(is_key_value_path("app", None, &["sites-enabled"]));
    assert!(is_key_value_path("app.ini", Some("ini"), &[]));
    assert!(!is_key_value_path("cargo.toml", Some("toml"), &[]));
    assert!(!is_key_value_path("x.local", Some("local"), &[]));
}

#[test]
fn supervisord_programs_launch_their_command_with_their_environment_and_directory() {
    let text = "[supervisord]\nenvironment=TZ=\"UTC\"\n\n[program:pg-backup]\ncommand=/opt/ops/bin/backup-db.sh --out %(ENV_BACKUP_ROOT)s/pg\nenvironment=PGPASSWORD=\"s3cret\",PGHOST=\"db.internal\",OPTS='-a,-b'\nstdout_logfile=/var/log/supervisor/%(program_name)s.out.log\ndirectory=/opt/ops\n\n[program:tidy]\ncommand=bash -c 'rm -f spool/*.tmp'\ndirectory=/srv/app\n";
    let f = extract("etc/supervisor/conf.d/backup.conf", text, &models());
    let got = accesses(&f);
    crate::extract::formats::testing::assert_has(
        &got,
        &[
            "L2 set env TZ=UTC @ via supervisord environment",
            "L6 set env PGPASSWORD=s3cret @[program:pg-backup] via supervisord environment",
            "L6 set env PGHOST=db.internal @[program:pg-backup] via supervisord environment",
            "L6 set env OPTS=-a,-b @[program:pg-backup] via supervisord environment",
            "L7 append /var/log/supervisor/pg-backup.out.log @[program:pg-backup] via config stdout_logfile",
            // `directory=` is the command's working directory, wherever it stands.
            "L11 delete /srv/app/spool/*.tmp @[program:tidy].command via rm",
        ],
    );
    // One access per log line, and the command line is no list of path mentions.
    assert_eq!(
        got.iter().filter(|g| g.starts_with("L7 ")).count(),
        1,
        "{got:#?}"
    );
    assert!(
        !got.iter()
            .any(|g| (g.starts_with("L5 ") && !g.contains(" env ")) || g.starts_with("L8 ")),
        "{got:#?}"
    );
    let runs = crate::extract::formats::testing::runs(&f);
    assert_eq!(
        runs,
        vec!["L5 /opt/ops/bin/backup-db.sh @[program:pg-backup].command"]
    );
    // The command's scope is inside its program's, which holds the variables.
    let command = f.runs.first().map(|r| r.scope).unwrap_or_default();
    let parent = f.scopes.get(command).and_then(|s| s.parent);
    assert_eq!(
        parent
            .and_then(|p| f.scopes.get(p))
            .map(|s| s.name.as_str()),
        Some("[program:pg-backup]")
    );
}

#[test]
fn command_and_environment_keys_of_other_ini_files_are_not_launches() {
    let text = "[alias]\ncommand=/usr/local/bin/tidy --all\nenvironment=A=\"1\"\n\n[tool:pytest]\ncommand = pytest tests/\n";
    let f = extract("etc/app/tool.cfg", text, &models());
    assert!(f.runs.is_empty(), "{:#?}", f.runs);
    let got = accesses(&f);
    assert!(!got.iter().any(|g| g.contains("set env")), "{got:#?}");
}
