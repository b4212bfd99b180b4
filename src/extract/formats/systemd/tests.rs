use super::*;
use crate::extract::formats::testing::{accesses, assert_has, models, runs};

const CLEANUP_SERVICE: &str = "\
[Unit]
Description=Clean old ticker files

[Service]
Type=oneshot
Environment=\"TICKER_DIR=/data/ticker\" \"RETENTION_DAYS=3\"
EnvironmentFile=-/etc/default/cleanup
WorkingDirectory=/opt/host-ops
ExecStartPre=-/bin/mkdir -p /var/log/cleanup
ExecStart=/usr/bin/find ${TICKER_DIR} -maxdepth 1 -name 'ticker_*.csv' \\
    -mtime +3 -delete
ExecStartPost=./bin/report.sh
StandardOutput=append:/var/log/cleanup/cleanup.log
ExecReload=/bin/kill -HUP $MAINPID
";

const CLEANUP_TIMER: &str = "\
[Unit]
Description=Nightly cleanup

[Timer]
OnCalendar=*-*-* 02:00:00
Persistent=true

[Install]
WantedBy=timers.target
";

#[test]
fn cleanup_service_commands_environment_and_reload() {
    let f = extract(
        "etc/systemd/system/cleanup.service",
        CLEANUP_SERVICE,
        &models(),
    );
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let got = accesses(&f);
    assert_has(
        &got,
        &[
            "L6 set env TICKER_DIR=/data/ticker @ via systemd Environment",
            "L6 set env RETENTION_DAYS=3 @ via systemd Environment",
            "L7 read /etc/default/cleanup @ via systemd EnvironmentFile",
            "L9 create /var/log/cleanup @ExecStartPre via mkdir",
            "L10 delete {TICKER_DIR} find[ticker_*.csv] (modified more than 3 days ago) @ExecStart via find -delete",
            "L13 append /var/log/cleanup/cleanup.log @ via systemd StandardOutput",
        ],
    );
    assert_has(
        &runs(&f),
        &["L12 /opt/host-ops/bin/report.sh @ExecStartPost"],
    );
    assert!(
        f.bindings.iter().any(|b| b.name == "TICKER_DIR"
            && b.scope == 0
            && b.value == Expr::lit("/data/ticker"))
    );
    assert_eq!(
        f.triggers,
        vec![TriggerFact {
            scope: 0,
            line: 14,
            kind: TriggerKind::Signal {
                signal: "HUP".into()
            }
        }]
    );
}

#[test]
fn cleanup_timer_schedules_its_service() {
    let f = extract("etc/systemd/system/cleanup.timer", CLEANUP_TIMER, &models());
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    assert_eq!(f.schedules.len(), 1);
    let s = &f.schedules[0];
    assert_eq!(s.line, 5);
    assert_eq!(s.expression, "*-*-* 02:00:00");
    assert_eq!(s.description, "every day at 02:00");
    assert_eq!(s.command, "cleanup.service");
    let scope = &f.scopes[s.scope];
    assert_eq!(scope.kind, ScopeKind::CronEntry);
    assert_eq!(scope.job, Some(0));
    assert_eq!(
        f.runs,
        vec![RunRef {
            scope: s.scope,
            line: 5,
            target: RunTarget::Unit {
                name: "cleanup.service".into()
            }
        }]
    );
}

#[test]
fn timers_name_their_unit_and_combine_triggers() {
    let text = "[Timer]\nOnBootSec=5min\nOnUnitActiveSec=15min\nUnit=rotate-creds.service\n";
    let f = extract("rotate.timer", text, &models());
    let s = &f.schedules[0];
    assert_eq!(s.expression, "OnBootSec=5min; OnUnitActiveSec=15min");
    assert_eq!(
        s.description,
        "5 minutes after boot, and every 15 minutes (after the unit last started)"
    );
    assert_eq!(
        runs(&f),
        vec!["L4 unit rotate-creds.service @timer rotate.timer"]
    );
}

#[test]
fn calendars_are_described_in_plain_words() {
    let cases = [
        ("daily", "every day at 00:00"),
        ("hourly", "every hour at minute 0"),
        ("*-*-* 02:00:00", "every day at 02:00"),
        ("Mon *-*-* 03:30", "at 03:30 on Monday"),
        ("Mon..Fri 22:15", "at 22:15 on Monday through Friday"),
        ("*:0/15", "every 15 minutes"),
        ("weekly", "at 00:00 on Monday"),
        ("*-*-01 04:00:00", "at 04:00 on day 1 of the month"),
        ("*-*-* 02:00:00 UTC", "every day at 02:00 (UTC)"),
        (
            "2030-01-01 00:00:00",
            "at times matching the calendar `2030-01-01 00:00:00`",
        ),
        ("*:*:30", "at times matching the calendar `*:*:30`"),
    ];
    for (spec, words) in cases {
        assert_eq!(describe_calendar(spec), words, "{spec}");
    }
    assert_eq!(
        describe_timespan("1h 30min").as_deref(),
        Some("1 hour 30 minutes")
    );
    assert_eq!(describe_timespan("900").as_deref(), Some("900 seconds"));
    assert_eq!(describe_timespan("2 days").as_deref(), Some("2 days"));
    assert_eq!(describe_timespan("soon"), None);
}

#[test]
fn path_units_trigger_the_service_they_activate() {
    let text = "[Path]\nPathExists=/var/spool/rotate/request\nPathChanged=/etc/app/creds.json\n";
    let f = extract("units/rotate.path", text, &models());
    assert_eq!(
        runs(&f),
        vec!["L2 unit rotate.service @activates rotate.service"]
    );
    assert_eq!(f.triggers.len(), 2);
    assert_eq!(
        f.triggers[0].kind,
        TriggerKind::WatchFile {
            path: Expr::lit("/var/spool/rotate/request")
        }
    );
    assert_eq!(f.triggers[1].line, 3);
    assert_has(
        &accesses(&f),
        &["L2 check /var/spool/rotate/request @activates rotate.service via systemd PathExists"],
    );
}

#[test]
fn exec_prefixes_specifiers_and_shell_strings() {
    let text = "[Service]\nExecStart=@/usr/bin/app app-name --log %L/app/app.log\nExecStart=+/bin/sh -c 'rm -rf /var/cache/app/*; touch %t/app.ready'\nStateDirectory=app\nExecStop=!!/usr/bin/true\n";
    let f = extract("app@.service", text, &models());
    let got = accesses(&f);
    assert_has(
        &got,
        &[
            "L3 delete /var/cache/app/* (tree) @ExecStart via rm",
            "L3 write /run/app.ready @ExecStart via touch",
            "L4 create /var/lib/app @ via systemd StateDirectory",
        ],
    );
    assert!(
        runs(&f).iter().any(|r| r.starts_with("L2 /usr/bin/app")),
        "{:?}",
        runs(&f)
    );
}

#[test]
fn garbage_lines_are_warnings_and_the_rest_is_read() {
    let text = "[Service]\nthis is not a unit line\nExecStart=/opt/app/bin/worker\n%%%=x\n\u{0}\u{1}binary\nEnvironment=A=1\n";
    let f = extract("x.service", text, &models());
    let lines: Vec<u32> = f.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, vec![2, 4, 5]);
    assert_has(&runs(&f), &["L3 /opt/app/bin/worker @ExecStart"]);
    assert_has(&accesses(&f), &["L6 set env A=1 @ via systemd Environment"]);
    let huge = "[Service]\n".to_string() + &"Environment=A=1\n".repeat(20_000);
    let f = extract("x.service", &huge, &models());
    assert_eq!(f.accesses.len(), 20_000);
}

#[test]
fn units_are_detected_by_name_and_sockets_by_content() {
    assert!(is_unit_path("cleanup.service", b""));
    assert!(is_unit_path("cleanup.timer", b""));
    assert!(is_unit_path("spool.path", b"[Path]\nPathExists=/x\n"));
    assert!(!is_unit_path("class.path", b"com.example.Foo"));
    assert!(!is_unit_path("service", b""));
}

#[test]
fn drop_ins_amend_the_unit_of_their_directory() {
    let f = extract(
        "etc/systemd/system/cleanup.timer.d/override.conf",
        "[Timer]\nOnCalendar=\nOnCalendar=hourly\n",
        &models(),
    );
    assert_eq!(f.schedules.len(), 1);
    assert_eq!(f.schedules[0].command, "cleanup.service");
    assert_eq!(f.schedules[0].description, "every hour at minute 0");
    assert!(is_drop_in(Some("conf"), &["app.service.d", "system"]));
    assert!(!is_drop_in(Some("conf"), &["conf.d"]));
}
