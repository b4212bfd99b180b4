use super::*;
use crate::extract::formats::testing::{accesses, assert_has, models};

const APP: &str = "\
# rotate the app's logs
/var/log/app/*.log {
    daily
    rotate 7
    compress
    delaycompress
    missingok
    notifempty
    create 0640 app app
    sharedscripts
    postrotate
        systemctl reload app
    endscript
}
";

#[test]
fn app_stanza_moves_creates_and_deletes_rotated_logs() {
    let f = extract("etc/logrotate.d/app", APP, &models());
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    assert_eq!(
        accesses(&f),
        vec![
            "L2 move-from /var/log/app/*.log @logrotate /var/log/app/*.log via logrotate",
            "L2 create /var/log/app/*.log @logrotate /var/log/app/*.log via logrotate create",
            "L2 move-to /var/log/app/*.log.* @logrotate /var/log/app/*.log via logrotate",
            "L2 delete /var/log/app/*.log.* (beyond 7 rotations, rotated daily) @logrotate /var/log/app/*.log via logrotate rotate",
        ]
    );
    assert_eq!(f.scopes[1].name, "logrotate /var/log/app/*.log");
    let script_facts = f.sends.len() + f.runs.len() + f.accesses.len();
    assert!(script_facts >= 4);
}

#[test]
fn copytruncate_olddir_dateext_and_several_quoted_paths() {
    let text = "compress\nrotate 4\n\n\"/var/log/nginx/access.log\" /var/log/nginx/error.log\n{\n  copytruncate\n  dateext\n  olddir /var/log/nginx/old\n  maxage 30\n}\n/srv/app/logs/*.log {\n  olddir archive\n  prerotate\n    rm -f /srv/app/logs/tmp.log\n  endscript\n}\n";
    let f = extract("logrotate.conf", text, &models());
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    assert_has(
        &accesses(&f),
        &[
            "L4 read /var/log/nginx/access.log @logrotate /var/log/nginx/access.log /var/log/nginx/error.log via logrotate copytruncate",
            "L4 create /var/log/nginx/error.log @logrotate /var/log/nginx/access.log /var/log/nginx/error.log via logrotate copytruncate",
            "L4 delete /var/log/nginx/old/access.log-* (beyond 4 rotations or older than 30 days) @logrotate /var/log/nginx/access.log /var/log/nginx/error.log via logrotate rotate",
            "L11 move-from /srv/app/logs/*.log @logrotate /srv/app/logs/*.log via logrotate",
            "L11 delete /srv/app/logs/archive/*.log.* (beyond 4 rotations) @logrotate /srv/app/logs/*.log via logrotate rotate",
            "L14 delete /srv/app/logs/tmp.log @logrotate /srv/app/logs/*.log via rm",
        ],
    );
    assert!(
        !accesses(&f)
            .iter()
            .any(|a| a.contains("move-from /var/log/nginx"))
    );
}

#[test]
fn unclosed_stanza_is_a_warning_and_still_read() {
    let text = "/var/log/x.log {\n  rotate 2\n  postrotate\n    touch /run/x.rotated\n";
    let f = extract("x.logrotate", text, &models());
    assert_eq!(f.warnings.len(), 1);
    assert_eq!(f.warnings[0].line, 1);
    assert_has(
        &accesses(&f),
        &[
            "L1 move-from /var/log/x.log @logrotate /var/log/x.log via logrotate",
            "L4 write /run/x.rotated @logrotate /var/log/x.log via touch",
        ],
    );
    let binary = String::from_utf8_lossy(&[b'{', 0xff, b'}', 0, b'\n', b'{', b'{']).to_string();
    let _ = extract("x.logrotate", &binary, &models());
}

#[test]
fn detection() {
    assert!(is_logrotate_path("app", None, &["logrotate.d", "etc"]));
    assert!(is_logrotate_path("logrotate.conf", Some("conf"), &[]));
    assert!(is_logrotate_path(
        "app.logrotate",
        Some("logrotate"),
        &["ops"]
    ));
    assert!(!is_logrotate_path("logrotate.yml", Some("yml"), &["tasks"]));
    assert!(!is_logrotate_path("logrotate.sh", Some("sh"), &[]));
}
