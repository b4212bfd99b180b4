use super::describe::{Field, Slot, describe};
use super::*;
use crate::extract::{PathTarget, Reach, RunTarget};
use crate::model::Mode;

/// The built-in models, parsed once for all tests (a fresh copy for tests that add rows).
fn models() -> Models {
    static MODELS: std::sync::OnceLock<Models> = std::sync::OnceLock::new();
    MODELS
        .get_or_init(|| Models::builtin().expect("built-in models load"))
        .clone()
}

fn cron(path: &str, text: &str) -> FileFacts {
    extract(path, text, &models())
}

fn words(expression: &str) -> String {
    let raw: Vec<&str> = expression.split_whitespace().collect();
    let raw: [&str; 5] = raw.try_into().expect("five fields");
    let fields: Vec<Field> = Slot::ALL
        .iter()
        .zip(raw)
        .map(|(slot, text)| Field::parse(text, *slot).expect("valid field"))
        .collect();
    let fields: [Field; 5] = fields.try_into().expect("five fields");
    describe(&fields, &raw)
}

fn target(access: &crate::extract::RawAccess) -> &PathTarget {
    (access.resource.as_path().expect("a path access")) as _
}

#[test]
fn ticker_crontab_schedules_the_cleanup_script() {
    let text = "# host-ops crontab\nTICKER_DIR=/data/ticker\n0 2 * * * /opt/host-ops/cron/cleanup_ticker.sh\n";
    let f = cron("crontab", text);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    assert_eq!(f.schedules.len(), 1);
    let s = &f.schedules[0];
    assert_eq!(s.line, 3);
    assert_eq!(s.expression, "0 2 * * *");
    assert_eq!(s.description, "every day at 02:00");
    assert_eq!(s.user, None);
    assert_eq!(s.command, "/opt/host-ops/cron/cleanup_ticker.sh");
    assert_eq!(
        s.env,
        vec![("TICKER_DIR".to_string(), "/data/ticker".to_string())]
    );
    let scope = &f.scopes[s.scope];
    assert_eq!(scope.kind, ScopeKind::CronEntry);
    assert_eq!(scope.name, "cron:3");
    assert_eq!(scope.job, Some(0));
    assert_eq!(scope.parent, Some(0));
    assert_eq!(f.runs.len(), 1);
    assert_eq!((f.runs[0].scope, f.runs[0].line), (s.scope, 3));
    assert_eq!(
        f.runs[0].target,
        RunTarget::Path {
            expr: Expr::lit("/opt/host-ops/cron/cleanup_ticker.sh")
        }
    );
    assert_eq!(f.bindings.len(), 1);
    assert_eq!((f.bindings[0].scope, f.bindings[0].line), (0, 2));
}

#[test]
fn inline_find_is_an_access_on_the_crontab_line() {
    let text = "SHELL=/bin/bash\n\n30 3 * * 1 find /data/ticker -maxdepth 1 -name 'ticker_*.csv' -mtime +3 -delete\n";
    let f = cron("ops/ticker.cron", text);
    assert_eq!(f.accesses.len(), 1);
    let access = &f.accesses[0];
    assert_eq!(
        (access.mode, access.line, access.scope),
        (Mode::Delete, 3, 1)
    );
    assert_eq!(target(access).expr, Expr::lit("/data/ticker"));
    assert!(matches!(target(access).reach, Reach::Find(_)));
    assert_eq!(f.schedules[0].description, "at 03:30 on Monday");
}

#[test]
fn schedules_are_described_in_plain_words() {
    let cases = [
        ("0 2 * * *", "every day at 02:00"),
        ("0 */8 * * *", "every 8 hours, at minute 0"),
        ("*/15 * * * *", "every 15 minutes"),
        ("30 3 * * 1", "at 03:30 on Monday"),
        ("5 * * * *", "every hour at minute 5"),
        ("0 4 1 * *", "at 04:00 on day 1 of the month"),
        ("* * * * *", "every minute"),
        (
            "0 9-17 * * 1-5",
            "every hour from 09:00 through 17:00 on Monday through Friday",
        ),
        ("0,30 * * * *", "every hour at minutes 0 and 30"),
        ("0 2,14 * * *", "every day at 02:00 and 14:00"),
        ("15 1 1,15 * *", "at 01:15 on days 1 and 15 of the month"),
        ("0 0 1 1 *", "at 00:00 on day 1 of the month in January"),
        ("0 6 * * sat,sun", "at 06:00 on Saturday and Sunday"),
        (
            "0 6 * jan-mar mon",
            "at 06:00 on Monday in January through March",
        ),
        ("*/5 9 * * *", "every 5 minutes from 09:00 through 09:59"),
        ("0 3 1 * 0", "at 03:00 on day 1 of the month or on Sunday"),
        ("0 0 */2 * *", "at 00:00 on every 2nd day of the month"),
        ("0 */1 * * *", "every hour at minute 0"),
        ("23 0-23/2 * * *", "every 2 hours, at minute 23"),
        ("30 */6 * * 0", "every 6 hours, at minute 30 on Sunday"),
        (
            "0 0 L * *",
            "at minute 0, hour 0, day-of-month L, month *, day-of-week *",
        ),
        (
            "1-59/7 */3 * * *",
            "at minute 1-59/7, hour */3, day-of-month *, month *, day-of-week *",
        ),
    ];
    for (expression, expected) in cases {
        assert_eq!(words(expression), expected, "{expression}");
    }
}

#[test]
fn macros_are_described() {
    let text = "@reboot /opt/rotator/start.sh\n@daily /opt/a.sh\n@hourly /opt/b.sh\n@weekly /opt/c.sh\n\
                @monthly /opt/d.sh\n@yearly /opt/e.sh\n@annually /opt/f.sh\n@midnight /opt/g.sh\n";
    let f = cron("crontab", text);
    let got: Vec<(&str, &str)> = f
        .schedules
        .iter()
        .map(|s| (s.expression.as_str(), s.description.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("@reboot", "at boot"),
            ("@daily", "every day at 00:00"),
            ("@hourly", "every hour at minute 0"),
            ("@weekly", "at 00:00 on Sunday"),
            ("@monthly", "at 00:00 on day 1 of the month"),
            ("@yearly", "every year on January 1 at 00:00"),
            ("@annually", "every year on January 1 at 00:00"),
            ("@midnight", "every day at 00:00"),
        ]
    );
    assert_eq!(f.runs.len(), 8);
}

#[test]
fn system_crontabs_have_a_user_field() {
    let text =
        "0 */8 * * * root /opt/rotator/rotate_credentials.sh\n@reboot www-data /srv/start.sh\n";
    let f = cron("etc/cron.d/rotator", text);
    let users: Vec<Option<&str>> = f.schedules.iter().map(|s| s.user.as_deref()).collect();
    assert_eq!(users, vec![Some("root"), Some("www-data")]);
    assert_eq!(f.schedules[0].command, "/opt/rotator/rotate_credentials.sh");
    assert_eq!(f.schedules[0].description, "every 8 hours, at minute 0");
    assert_eq!(f.runs.len(), 2);
    let f = cron(
        "etc/crontab",
        "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n",
    );
    assert_eq!(f.schedules[0].user.as_deref(), Some("root"));
}

#[test]
fn user_crontab_with_a_plausible_user_field() {
    let f = cron(
        "deploy/app.crontab",
        "0 1 * * * root /opt/backup.sh\n0 2 * * * rm -f /tmp/x\n",
    );
    assert_eq!(f.schedules[0].user.as_deref(), Some("root"));
    assert_eq!(f.schedules[0].command, "/opt/backup.sh");
    assert_eq!(f.schedules[1].user, None);
    assert_eq!(f.accesses.len(), 1);
}

#[test]
fn environment_lines_apply_to_later_entries() {
    let text = "A=1\n0 1 * * * /opt/one.sh\nB = \"two words\"\nA='3'\n0 2 * * * C=4 /opt/two.sh\n";
    let f = cron("crontab", text);
    let env = |i: usize| -> Vec<(String, String)> { f.schedules[i].env.clone() };
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(env(0), vec![pair("A", "1")]);
    assert_eq!(
        env(1),
        vec![pair("B", "two words"), pair("A", "3"), pair("C", "4")]
    );
    assert_eq!(f.runs.len(), 2);
}

#[test]
fn command_ends_at_an_unescaped_percent() {
    let text = "0 0 * * * tar czf /backup/db_$(date +\\%F).tgz /var/db % ignored stdin\n";
    let f = cron("crontab", text);
    assert_eq!(
        f.schedules[0].command,
        "tar czf /backup/db_$(date +%F).tgz /var/db"
    );
    let written: Vec<&Expr> = f
        .accesses
        .iter()
        .filter(|a| a.mode == Mode::Write)
        .map(|a| &target(a).expr)
        .collect();
    assert_eq!(written.len(), 1);
    assert!(matches!(written[0], Expr::Concat { .. }));
}

#[test]
fn bad_lines_are_warnings_and_the_rest_is_read() {
    let text = "this is not cron\n61 * * * * /opt/a.sh\n@sometimes /opt/b.sh\n0 1 * *\n0 1 * * * /opt/ok.sh\n";
    let f = cron("crontab", text);
    let lines: Vec<u32> = f.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, vec![1, 2, 3, 4]);
    assert_eq!(f.schedules.len(), 1);
    assert_eq!(f.schedules[0].line, 5);
}

#[test]
fn crlf_bom_and_garbage_do_not_panic() {
    let f = cron("crontab", "\u{feff}MAILTO=\"\"\r\n0 2 * * * /opt/x.sh\r\n");
    assert_eq!(f.schedules.len(), 1);
    assert_eq!(f.schedules[0].command, "/opt/x.sh");
    let bytes: Vec<u8> = (0..2048u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let _ = cron("crontab", &String::from_utf8_lossy(&bytes));
    for text in [
        "@",
        "*",
        "* * * * * \"",
        "0 0 * * * %",
        "= =",
        "0-99 * * * * x",
        "*/0 * * * * x",
    ] {
        let _ = cron("crontab", text);
    }
}

#[test]
fn cron_paths_are_recognised() {
    for path in [
        "crontab",
        "etc/crontab",
        "deploy/app.crontab",
        "ops/cleanup.cron",
        "etc/cron.d/rotator",
        "var/spool/cron/crontabs/root",
        "roles/x/files/cron.d/backup.j2",
    ] {
        assert!(looks_like_cron_path(path), "{path}");
    }
    for path in [
        "cron/cleanup_ticker.sh",
        "etc/cron.d/README.md",
        "etc/cron.d/.placeholder",
        "cron/cleanup",
        "etc/cron.daily/logrotate",
        "src/crontab.rs",
        "docs/crontab.md",
    ] {
        assert!(!looks_like_cron_path(path), "{path}");
    }
}

#[test]
fn extensionless_files_under_cron_are_claimed_only_if_they_parse() {
    assert!(looks_like_crontab(
        "host-ops/cron/jobs",
        b"# jobs\nX=1\n0 2 * * * /opt/a.sh\n"
    ));
    assert!(!looks_like_crontab(
        "host-ops/cron/cleanup",
        b"#!/bin/bash\nrm -rf /tmp/x\n"
    ));
    assert!(!looks_like_crontab(
        "host-ops/cron/cleanup",
        b"rm -rf /tmp/x\nfind / -delete\n"
    ));
    assert!(!looks_like_crontab(
        "host-ops/cron/cleanup.sh",
        b"0 2 * * * /opt/a.sh\n"
    ));
    assert!(!looks_like_crontab(
        "host-ops/bin/jobs",
        b"0 2 * * * /opt/a.sh\n"
    ));
}

#[test]
fn language_detection_claims_crontabs_but_not_scripts() {
    use crate::extract::Language;
    let detect = Language::detect;
    assert_eq!(detect("host-ops/crontab", b""), Some(Language::Crontab));
    assert_eq!(
        detect("etc/cron.d/rotator", b"0 * * * * root /x\n"),
        Some(Language::Crontab)
    );
    assert_eq!(
        detect("host-ops/cron/jobs", b"0 2 * * * /opt/a.sh\n"),
        Some(Language::Crontab)
    );
    assert_eq!(
        detect("host-ops/cron/cleanup_ticker.sh", b"0 2 * * * /x\n"),
        Some(Language::Bash)
    );
    assert_eq!(
        detect("host-ops/cron/cleanup", b"#!/bin/bash\nrm -f /x\n"),
        Some(Language::Bash)
    );
    assert_eq!(detect("host-ops/cron/notes", b"remember to rotate\n"), None);
}

/// (mode, line, scope, name, value) of every environment access.
fn env(f: &FileFacts) -> Vec<(Mode, u32, usize, String, Option<Expr>)> {
    f.accesses
        .iter()
        .filter_map(|a| match &a.resource {
            crate::extract::RawResource::Env(t) => Some((
                a.mode,
                a.line,
                a.scope,
                t.name.as_lit().unwrap_or("?").to_string(),
                t.value.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn incident_crontab_sets_the_token_file_and_schedules_the_rotator() {
    let text = "TOKEN_FILE=/run/secrets/api_token\n0 */8 * * * /opt/ops/bin/rotate_token.sh\n";
    let f = cron("ops/crontab", text);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    assert_eq!(
        env(&f),
        vec![(
            Mode::Set,
            1,
            0,
            "TOKEN_FILE".to_string(),
            Some(Expr::lit("/run/secrets/api_token"))
        )]
    );
    assert_eq!(f.accesses[0].via, "crontab VAR=value");
    let s = &f.schedules[0];
    assert_eq!((s.line, s.expression.as_str()), (2, "0 */8 * * *"));
    assert_eq!(s.description, "every 8 hours, at minute 0");
    assert_eq!(
        s.env,
        vec![(
            "TOKEN_FILE".to_string(),
            "/run/secrets/api_token".to_string()
        )]
    );
    assert_eq!(
        f.runs[0].target,
        RunTarget::Path {
            expr: Expr::lit("/opt/ops/bin/rotate_token.sh")
        }
    );
}

#[test]
fn cron_settings_and_shell_variables_are_not_configuration() {
    let text = "SHELL=/bin/bash\nPATH=/usr/bin:/bin\nMAILTO=ops@example.com\nCRON_TZ=UTC\n\
                lower=1\nAPI_URL = \"https://api\"\n0 * * * * /opt/a.sh\n";
    let f = cron("crontab", text);
    assert_eq!(
        env(&f),
        vec![(
            Mode::Set,
            6,
            0,
            "API_URL".to_string(),
            Some(Expr::lit("https://api"))
        )]
    );
}

#[test]
fn entry_commands_set_and_read_the_environment_in_their_scope() {
    let text = "DATA_DIR=/data\n\
                5 * * * * BATCH_SIZE=10 /opt/load.sh \"$DATA_DIR\"\n\
                10 * * * * /opt/report.sh --to \"$REPORT_TO\"\n";
    let f = cron("crontab", text);
    assert_eq!(
        env(&f),
        vec![
            (
                Mode::Set,
                1,
                0,
                "DATA_DIR".to_string(),
                Some(Expr::lit("/data"))
            ),
            (
                Mode::Set,
                2,
                1,
                "BATCH_SIZE".to_string(),
                Some(Expr::lit("10"))
            ),
            (
                Mode::Read,
                3,
                2,
                "REPORT_TO".to_string(),
                Some(Expr::hole(crate::extract::bash::UNSET_LABEL))
            ),
        ]
    );
}

#[test]
fn entry_commands_send_signals_and_publish() {
    let text = "0 */8 * * * systemctl start rotate-token.service\n\
                */5 * * * * redis-cli LPUSH jobs tick\n";
    let f = cron("crontab", text);
    assert_eq!(f.sends.len(), 1);
    assert_eq!((f.sends[0].scope, f.sends[0].line), (1, 1));
    let queue = f
        .accesses
        .iter()
        .find(|a| a.mode == Mode::Publish)
        .expect("a publish");
    assert_eq!((queue.scope, queue.line), (2, 2));
}
