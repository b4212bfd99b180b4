//! Tests of the contracts other than paths: environment variables, secrets, queues, triggers,
//! sends, calls and waits.

use super::*;
use crate::expr::HoleShape;
use crate::extract::{
    Broker, CallRef, FieldUse, QueueRole, QueueTarget, SecretTarget, SendKind, TriggerKind,
};
use crate::rules::models::Models;

/// The built-in models, parsed once for all tests (a fresh copy for tests that add rows).
fn models() -> Models {
    static MODELS: std::sync::OnceLock<Models> = std::sync::OnceLock::new();
    MODELS
        .get_or_init(|| Models::builtin().expect("built-in models load"))
        .clone()
}

fn facts(src: &str) -> FileFacts {
    extract("ops/x.sh", src, &models())
}

fn lit(text: &str) -> Expr {
    Expr::lit(text)
}

fn var(name: &str, scope: ScopeId, line: u32) -> Expr {
    Expr::Var {
        name: name.to_string().into(),
        scope,
        line,
        env_fallback: true,
        default: None,
    }
}

fn unset() -> Expr {
    Expr::Hole {
        label: UNSET_LABEL.to_string().into(),
        shape: HoleShape::Segment,
    }
}

/// (mode, line, scope, name, value) of every environment access.
/// The script's own environment accesses; what the programs it runs read themselves
/// (`aws` reads `AWS_PROFILE`, `[[env_reads]]`) is tested in `tool_tests.rs`.
fn env(f: &FileFacts) -> Vec<(Mode, u32, ScopeId, String, Option<Expr>)> {
    let mut out: Vec<_> = f
        .accesses
        .iter()
        .filter(|a| !a.via.ends_with("(reads it if set)"))
        .filter_map(|a| match &a.resource {
            RawResource::Env(t) => Some((
                a.mode,
                a.line,
                a.scope,
                t.name.as_lit().unwrap_or("?").to_string(),
                t.value.clone(),
            )),
            _ => None,
        })
        .collect();
    out.sort_by_key(|(mode, line, scope, name, _)| (*line, *scope, name.clone(), *mode));
    out
}

/// The names of the environment variables accessed in a mode.
fn env_names(f: &FileFacts, mode: Mode) -> Vec<String> {
    env(f)
        .into_iter()
        .filter(|e| e.0 == mode)
        .map(|e| e.3)
        .collect()
}

/// (mode, line, provider, id) of every secret access.
fn secrets(f: &FileFacts) -> Vec<(Mode, u32, String, Expr)> {
    f.accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Secret(SecretTarget { provider, id }) => {
                Some((a.mode, a.line, provider.clone(), id.clone()))
            }
            _ => None,
        })
        .collect()
}

/// (mode, line, target) of every queue access.
fn queues(f: &FileFacts) -> Vec<(Mode, u32, QueueTarget)> {
    f.accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Queue(q) => Some((a.mode, a.line, q.clone())),
            _ => None,
        })
        .collect()
}

/// The one queue access of a one-command script.
fn queue_of(src: &str) -> (Mode, QueueTarget) {
    let f = facts(src);
    let found = queues(&f);
    assert_eq!(found.len(), 1, "{src}: {found:#?}");
    let (mode, _, q) = found.into_iter().next().expect("one queue access");
    (mode, q)
}

fn queue(broker: Broker, role: QueueRole, name: Expr) -> QueueTarget {
    QueueTarget {
        broker,
        role,
        name,
        exchange: None,
        bound_queue: None,
        fields: Vec::new(),
    }
}

fn field(name: &str, line: u32, nullable: bool) -> FieldUse {
    FieldUse {
        name: name.to_string(),
        line,
        nullable,
        optional: false,
    }
}

/// (mode, line, expr) of every path access.
fn paths(f: &FileFacts) -> Vec<(Mode, u32, Expr)> {
    f.accesses
        .iter()
        .filter_map(|a| {
            a.resource
                .as_path()
                .map(|p| (a.mode, a.line, p.expr.clone()))
        })
        .collect()
}

/// (line, scope, kind) of every trigger.
fn triggers(f: &FileFacts) -> Vec<(u32, ScopeId, TriggerKind)> {
    f.triggers
        .iter()
        .map(|t| (t.line, t.scope, t.kind.clone()))
        .collect()
}

fn signal_trigger(name: &str) -> TriggerKind {
    TriggerKind::Signal {
        signal: name.to_string(),
    }
}

fn every(interval: &str) -> TriggerKind {
    TriggerKind::Loop {
        interval: Some(interval.to_string()),
    }
}

/// (line, signal, target) of every signal sent.
fn signals(f: &FileFacts) -> Vec<(u32, String, Expr)> {
    f.sends
        .iter()
        .filter_map(|s| match &s.kind {
            SendKind::Signal { signal, target } => Some((s.line, signal.clone(), target.clone())),
            SendKind::Http { .. } => None,
        })
        .collect()
}

/// (line, method, url) of every HTTP request.
fn requests(f: &FileFacts) -> Vec<(u32, Option<String>, Expr)> {
    f.sends
        .iter()
        .filter_map(|s| match &s.kind {
            SendKind::Http { method, url } => Some((s.line, method.clone(), url.clone())),
            SendKind::Signal { .. } => None,
        })
        .collect()
}

fn calls(f: &FileFacts) -> Vec<(u32, ScopeId, String)> {
    f.calls
        .iter()
        .map(
            |CallRef {
                 scope,
                 line,
                 callee,
                 ..
             }| (*line, *scope, callee.to_string()),
        )
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The incident: the rotator nobody can trigger, and its triggerable control

const ROTATOR: &str = "#!/bin/bash
# rotate_token.sh — run from cron every 8 hours; no trigger.
set -euo pipefail
TOKEN_FILE=\"${TOKEN_FILE:-/run/secrets/api_token}\"
new=$(aws secretsmanager get-secret-value --secret-id prod/api/token --query SecretString --output text)
printf '%s' \"$new\" > \"$TOKEN_FILE.tmp\"
mv \"$TOKEN_FILE.tmp\" \"$TOKEN_FILE\"
";

#[test]
fn incident_rotator_reads_the_secret_writes_the_token_file_and_listens_to_nothing() {
    let f = facts(ROTATOR);
    assert_eq!(
        secrets(&f),
        vec![(
            Mode::Read,
            5,
            "aws-secretsmanager".to_string(),
            lit("prod/api/token")
        )]
    );
    let token = var("TOKEN_FILE", 0, 7);
    let tmp = |line| Expr::Concat {
        parts: vec![var("TOKEN_FILE", 0, line), lit(".tmp")],
    };
    assert_eq!(
        paths(&f),
        vec![
            (Mode::Write, 6, tmp(6)),
            (Mode::MoveFrom, 7, tmp(7)),
            (Mode::MoveTo, 7, token),
        ]
    );
    assert_eq!(
        env(&f),
        vec![(
            Mode::Read,
            4,
            0,
            "TOKEN_FILE".to_string(),
            Some(lit("/run/secrets/api_token"))
        )]
    );
    assert!(f.triggers.is_empty(), "{:#?}", f.triggers);
    assert!(f.sends.is_empty(), "{:#?}", f.sends);
    assert!(f.calls.is_empty(), "{:#?}", f.calls);
}

#[test]
fn triggerable_rotator_handles_hup_and_loops_every_hour() {
    let f = facts(
        "#!/bin/bash
set -euo pipefail
rotate() {
  aws secretsmanager get-secret-value --secret-id prod/api/token --query SecretString \\
    --output text > \"$TOKEN_FILE.tmp\"
  mv \"$TOKEN_FILE.tmp\" \"$TOKEN_FILE\"
}
trap rotate HUP
rotate
while true; do
  sleep 3600 & wait $!
done
",
    );
    assert_eq!(
        triggers(&f),
        vec![
            (8, 0, signal_trigger("HUP")),
            (10, 0, every("3600 seconds"))
        ]
    );
    // The handler runs `rotate`, as does the script itself.
    assert_eq!(
        calls(&f),
        vec![(8, 0, "rotate".to_string()), (9, 0, "rotate".to_string())]
    );
    // The secret is read in the function; TOKEN_FILE is required (`set -u`, no default).
    assert_eq!(secrets(&f).len(), 1);
    assert_eq!(secrets(&f)[0].1, 4);
    assert_eq!(
        env(&f),
        vec![(Mode::Read, 5, 1, "TOKEN_FILE".to_string(), None)]
    );
}

// ---------------------------------------------------------------------------------------------
// Environment variables

#[test]
fn environment_reads_with_defaults_required_and_unknown() {
    let f = facts(
        "echo \"$API_URL\" \"${API_URL}\"\n\
         echo \"${REGION:-eu-west-1}\" \"${MODE-fast}\" \"${CACHE:=/var/cache}\"\n\
         echo \"${NEED:?set NEED}\" \"${EMPTY:-}\"\n",
    );
    assert_eq!(
        env(&f),
        vec![
            (Mode::Read, 1, 0, "API_URL".into(), Some(unset())),
            (Mode::Read, 2, 0, "CACHE".into(), Some(lit("/var/cache"))),
            (Mode::Read, 2, 0, "MODE".into(), Some(lit("fast"))),
            (Mode::Read, 2, 0, "REGION".into(), Some(lit("eu-west-1"))),
            (Mode::Read, 3, 0, "EMPTY".into(), Some(lit(""))),
            (Mode::Read, 3, 0, "NEED".into(), None),
        ]
    );
    assert!(f.accesses.iter().all(|a| a.scope == 0));
}

#[test]
fn nounset_makes_plain_uses_required() {
    let f = facts(
        "echo \"$BEFORE\"\nset -euo pipefail\necho \"$DURING\" \"${WITH_DEFAULT:-x}\"\n\
         set +u\necho \"$AFTER\"\nset -o nounset\necho \"$AGAIN\"\n",
    );
    assert_eq!(
        env(&f),
        vec![
            (Mode::Read, 1, 0, "BEFORE".into(), Some(unset())),
            (Mode::Read, 3, 0, "DURING".into(), None),
            (Mode::Read, 3, 0, "WITH_DEFAULT".into(), Some(lit("x"))),
            (Mode::Read, 5, 0, "AFTER".into(), Some(unset())),
            (Mode::Read, 7, 0, "AGAIN".into(), None),
        ]
    );
    let f = facts("#!/bin/bash -eu\necho \"$FROM_SHEBANG\"\n");
    assert_eq!(
        env(&f),
        vec![(Mode::Read, 2, 0, "FROM_SHEBANG".into(), None)]
    );
}

#[test]
fn guards_that_exit_make_a_variable_required_and_tests_are_checks() {
    let f = facts(
        "[ -z \"$API_KEY\" ] && { echo \"API_KEY required\" >&2; exit 1; }\n\
         if [ -z \"$DB_PASS\" ]; then\n  echo missing\n  exit 2\nfi\n\
         [ -n \"$ENDPOINT\" ] || exit 1\n\
         [ -n \"${OPTIONAL:-}\" ] && echo yes\n\
         [[ -v FEATURE_X ]] && echo on\n\
         test -z \"$QUIET\" && echo loud\n\
         echo \"$API_KEY\"\n",
    );
    assert_eq!(
        env(&f),
        vec![
            (Mode::Read, 1, 0, "API_KEY".into(), None),
            (Mode::Check, 1, 0, "API_KEY".into(), None),
            (Mode::Read, 2, 0, "DB_PASS".into(), None),
            (Mode::Check, 2, 0, "DB_PASS".into(), None),
            (Mode::Read, 6, 0, "ENDPOINT".into(), None),
            (Mode::Check, 6, 0, "ENDPOINT".into(), None),
            (Mode::Read, 7, 0, "OPTIONAL".into(), Some(lit(""))),
            (Mode::Check, 7, 0, "OPTIONAL".into(), None),
            (Mode::Check, 8, 0, "FEATURE_X".into(), None),
            (Mode::Read, 9, 0, "QUIET".into(), Some(unset())),
            (Mode::Check, 9, 0, "QUIET".into(), None),
        ]
    );
    let via: Vec<&str> = f
        .accesses
        .iter()
        .filter(|a| a.mode == Mode::Check)
        .map(|a| a.via.as_str())
        .collect();
    assert_eq!(
        via,
        vec![
            "test -z", "test -z", "test -n", "test -n", "test -v", "test -z"
        ]
    );
}

#[test]
fn shell_and_positional_variables_are_not_configuration() {
    let f = facts(
        "echo \"$HOME $1 ${2:-x} $@ $# $? $$ $! $0 $PATH $PWD $LC_ALL $BASH_SOURCE $RANDOM\"\n\
         echo \"$lower ${mixedCase} $TMPDIR $HOSTNAME $IFS $UID $TERM $LANG $OPTARG\"\n\
         cd ~\n",
    );
    assert!(env(&f).is_empty(), "{:#?}", env(&f));
}

#[test]
fn variables_the_script_assigns_are_not_read_from_the_environment() {
    let f = facts(
        "DB_HOST=db.local\necho \"$DB_HOST\"\n\
         for HOST in a b; do echo \"$HOST\"; done\n\
         read -r TOKEN < /run/t\necho \"$TOKEN\"\n\
         work() { local WORK_DIR; WORK_DIR=/tmp/w; echo \"$WORK_DIR\"; }\n\
         log() { echo \"$LOG_FILE\"; }\n\
         LOG_FILE=/var/log/x.log\n\
         X=1; echo \"$X\"\n",
    );
    assert!(env(&f).is_empty(), "{:#?}", env(&f));
}

#[test]
fn self_defaults_read_the_environment_at_the_top_level_and_in_functions() {
    let f = facts(
        "OUT_DIR=\"${OUT_DIR:-/data/out}\"\necho \"$OUT_DIR\"\n\
         load() {\n  local CONF=\"${CONF:-/etc/x.conf}\"\n  cat \"$CONF\"\n}\n",
    );
    assert_eq!(
        env(&f),
        vec![
            (Mode::Read, 1, 0, "OUT_DIR".into(), Some(lit("/data/out"))),
            (Mode::Read, 4, 1, "CONF".into(), Some(lit("/etc/x.conf"))),
        ]
    );
}

#[test]
fn one_read_per_variable_per_scope_at_its_first_use() {
    let f = facts(
        "echo \"$SVC_URL\"\necho \"${SVC_URL:-x}\"\n\
         call() {\n  curl \"$SVC_URL/a\"\n  curl \"$SVC_URL/b\"\n}\n",
    );
    assert_eq!(
        env(&f),
        vec![
            (Mode::Read, 1, 0, "SVC_URL".into(), Some(unset())),
            (Mode::Read, 4, 1, "SVC_URL".into(), Some(unset())),
        ]
    );
}

#[test]
fn exports_and_command_environments_set_variables() {
    let f = facts(
        "export LOG_LEVEL=debug\n\
         BACKUP_DIR=/backups\nexport BACKUP_DIR\n\
         export INHERITED\n\
         declare -x TZ_NAME=UTC\n\
         declare -r NOT_EXPORTED=1\n\
         X_FLAG=1 /opt/run.sh\n\
         env A_B=2 C_D=\"$E_F\" /opt/run2.sh\n\
         export PATH=\"$PATH:/opt/bin\"\n\
         export lower=1\n\
         export -n LOG_LEVEL\n\
         export -f helper\n",
    );
    let sets: Vec<_> = env(&f).into_iter().filter(|e| e.0 == Mode::Set).collect();
    assert_eq!(
        sets,
        vec![
            (Mode::Set, 1, 0, "LOG_LEVEL".into(), Some(lit("debug"))),
            (Mode::Set, 3, 0, "BACKUP_DIR".into(), Some(lit("/backups"))),
            (Mode::Set, 5, 0, "TZ_NAME".into(), Some(lit("UTC"))),
            (Mode::Set, 7, 0, "X_FLAG".into(), Some(lit("1"))),
            (Mode::Set, 8, 0, "A_B".into(), Some(lit("2"))),
            (Mode::Set, 8, 0, "C_D".into(), Some(var("E_F", 0, 8))),
        ]
    );
    assert_eq!(env_names(&f, Mode::Read), vec!["E_F".to_string()]);
}

#[test]
fn prefix_assignments_set_in_the_scope_of_the_command() {
    let f = facts("run() {\n  API_TOKEN=\"$(cat /run/t)\" /opt/client.sh\n}\n");
    assert_eq!(
        env(&f),
        vec![(
            Mode::Set,
            2,
            1,
            "API_TOKEN".into(),
            Some(Expr::path_hole("$(cat)"))
        )]
    );
}

#[test]
fn sourcing_an_env_file_stays_a_path_read() {
    let f = facts("set -a\n. /etc/default/rotator.env\nsource ./.env\nset +a\n");
    assert_eq!(
        paths(&f),
        vec![
            (Mode::Read, 2, lit("/etc/default/rotator.env")),
            (Mode::Read, 3, lit("./.env")),
        ]
    );
    assert!(env(&f).is_empty());
}

#[test]
fn snippets_see_the_script_s_assignments() {
    let f = facts("TMP_FILE=$(mktemp)\ntrap 'rm -f \"$TMP_FILE\" \"$OTHER_FILE\"' EXIT\n");
    assert_eq!(env_names(&f, Mode::Read), vec!["OTHER_FILE".to_string()]);
    assert_eq!(paths(&f).len(), 2);
}

#[test]
fn extract_into_reads_the_environment_in_the_host_scope() {
    let models = models();
    let mut f = FileFacts::new("deploy.yaml", ScopeKind::Script);
    let scope = f.push_scope(Scope {
        parent: Some(0),
        kind: ScopeKind::CronEntry,
        name: "container".into(),
        class: None,
        job: None,
        line: 10,
    });
    extract_into(
        "psql \"$DATABASE_URL\" -c 'select 1'",
        &mut f,
        scope,
        12,
        &models,
    );
    assert_eq!(
        env(&f),
        vec![(Mode::Read, 12, scope, "DATABASE_URL".into(), Some(unset()))]
    );
}

// ---------------------------------------------------------------------------------------------
// Secret managers

#[test]
fn aws_secrets_manager_and_parameter_store() {
    let f = facts(
        "aws secretsmanager get-secret-value --secret-id prod/api/token --query SecretString\n\
         aws secretsmanager put-secret-value --secret-id prod/api/token --secret-string \"$new\"\n\
         aws secretsmanager update-secret --secret-id=prod/api/old --secret-string x\n\
         aws secretsmanager rotate-secret --secret-id prod/api/token\n\
         aws --region eu-west-1 --output text secretsmanager get-secret-value --secret-id \"$SECRET_ID\"\n\
         aws ssm get-parameter --name /prod/db/password --with-decryption\n\
         aws ssm put-parameter --name /prod/db/password --value x --overwrite\n",
    );
    let sm = "aws-secretsmanager".to_string();
    let ssm = "aws-ssm".to_string();
    assert_eq!(
        secrets(&f),
        vec![
            (Mode::Read, 1, sm.clone(), lit("prod/api/token")),
            (Mode::Set, 2, sm.clone(), lit("prod/api/token")),
            (Mode::Set, 3, sm.clone(), lit("prod/api/old")),
            (Mode::Rotate, 4, sm.clone(), lit("prod/api/token")),
            (Mode::Read, 5, sm, var("SECRET_ID", 0, 5)),
            (Mode::Read, 6, ssm.clone(), lit("/prod/db/password")),
            (Mode::Set, 7, ssm, lit("/prod/db/password")),
        ]
    );
}

#[test]
fn vault_gcloud_and_kubernetes_secrets() {
    let f = facts(
        "vault kv get -field=token secret/api\n\
         vault kv put secret/api token=\"$T\"\n\
         vault read -format=json database/creds/app\n\
         vault write auth/approle/login role_id=x\n\
         gcloud secrets versions access latest --secret=api-token\n\
         gcloud secrets versions access latest --secret api-token --project p\n\
         gcloud secrets versions add api-token --data-file=/tmp/token\n\
         kubectl create secret generic api-token --from-literal=token=x\n\
         kubectl -n prod create secret generic db-creds --from-env-file=.env\n",
    );
    let v = |m, l, id: &str| (m, l, "vault".to_string(), lit(id));
    let g = |m, l| (m, l, "gcp-secretmanager".to_string(), lit("api-token"));
    let k = |m, l, id: &str| (m, l, "k8s-secret".to_string(), lit(id));
    assert_eq!(
        secrets(&f),
        vec![
            v(Mode::Read, 1, "secret/api"),
            v(Mode::Set, 2, "secret/api"),
            v(Mode::Read, 3, "database/creds/app"),
            v(Mode::Set, 4, "auth/approle/login"),
            g(Mode::Read, 5),
            g(Mode::Read, 6),
            g(Mode::Set, 7),
            k(Mode::Set, 8, "api-token"),
            k(Mode::Set, 9, "db-creds"),
        ]
    );
    assert_eq!(
        paths(&f),
        vec![
            (Mode::Read, 7, lit("/tmp/token")),
            (Mode::Read, 9, lit(".env"))
        ]
    );
}

#[test]
fn a_secret_polled_in_a_sleeping_loop_is_waited_for() {
    let f = facts(
        "old=$(aws secretsmanager get-secret-value --secret-id prod/api/token)\n\
         while true; do\n\
           cur=$(aws secretsmanager get-secret-value --secret-id prod/api/token)\n\
           [ \"$cur\" != \"$old\" ] && break\n\
           sleep 10\n\
         done\n\
         for i in $(seq 1 30); do vault kv get secret/api && break; sleep 2; done\n",
    );
    let modes: Vec<(Mode, u32)> = secrets(&f).iter().map(|s| (s.0, s.1)).collect();
    assert_eq!(
        modes,
        vec![(Mode::Read, 1), (Mode::WaitFor, 3), (Mode::WaitFor, 7)]
    );
    assert!(f.triggers.is_empty(), "a wait is not a service loop");
}

// ---------------------------------------------------------------------------------------------
// Queues

#[test]
fn kafka_console_tools_and_kcat() {
    let topic = |name: Expr| queue(Broker::Kafka, QueueRole::Topic, name);
    assert_eq!(
        queue_of("kafka-console-producer.sh --bootstrap-server kafka:9092 --topic orders.created"),
        (Mode::Publish, topic(lit("orders.created")))
    );
    assert_eq!(
        queue_of(
            "kafka-console-consumer --bootstrap-server k:9092 --topic=orders.created --group g"
        ),
        (Mode::Consume, topic(lit("orders.created")))
    );
    assert_eq!(
        queue_of("kafka-console-consumer --bootstrap-server k:9092 --whitelist 'orders\\..*'"),
        (Mode::Consume, topic(Expr::glob("orders.*")))
    );
    assert_eq!(
        queue_of("kafka-console-consumer.sh --include '^(orders|payments)-events$'"),
        (
            Mode::Consume,
            topic(Expr::Concat {
                parts: vec![
                    Expr::Alt {
                        options: vec![Expr::glob("orders"), Expr::glob("payments")]
                    },
                    Expr::glob("-events"),
                ]
            })
        )
    );
    assert_eq!(
        queue_of("kafka-console-consumer --whitelist 'orders[0-9]+'"),
        (Mode::Consume, topic(Expr::hole("regex orders[0-9]+")))
    );
    assert_eq!(
        queue_of("kcat -b k:9092 -P -t audit"),
        (Mode::Publish, topic(lit("audit")))
    );
    assert_eq!(
        queue_of("kafkacat -C -b k -t \"$TOPIC\" -o beginning"),
        (Mode::Consume, topic(var("TOPIC", 0, 1)))
    );
    assert!(queues(&facts("kcat -L -b k:9092\n")).is_empty());
}

#[test]
fn redis_lists_streams_and_channels() {
    let f = facts(
        "redis-cli -h redis -p 6379 LPUSH jobs '{\"id\": 1, \"region\": null}'\n\
         redis-cli brpop jobs retries 0\n\
         redis-cli -n 2 xadd events '*' region eu id 7\n\
         redis-cli XREADGROUP GROUP g c COUNT 10 STREAMS events '>'\n\
         redis-cli PUBLISH alerts hello\n\
         redis-cli subscribe alerts audit\n\
         redis-cli psubscribe 'alerts.*'\n\
         redis-cli GET jobs\n\
         redis-cli\n",
    );
    let list = |name| queue(Broker::Redis, QueueRole::Queue, lit(name));
    let stream = queue(Broker::Redis, QueueRole::Stream, lit("events"));
    let channel = |name: Expr| queue(Broker::Redis, QueueRole::Channel, name);
    assert_eq!(
        queues(&f),
        vec![
            (
                Mode::Publish,
                1,
                QueueTarget {
                    fields: vec![field("id", 1, false), field("region", 1, true)],
                    ..list("jobs")
                }
            ),
            (Mode::Consume, 2, list("jobs")),
            (Mode::Consume, 2, list("retries")),
            (
                Mode::Publish,
                3,
                QueueTarget {
                    fields: vec![field("region", 3, false), field("id", 3, false)],
                    ..stream.clone()
                }
            ),
            (Mode::Consume, 4, stream),
            (Mode::Publish, 5, channel(lit("alerts"))),
            (Mode::Consume, 6, channel(lit("alerts"))),
            (Mode::Consume, 6, channel(lit("audit"))),
            (Mode::Consume, 7, channel(Expr::glob("alerts.*"))),
        ]
    );
    let via: Vec<&str> = f.accesses.iter().map(|a| a.via.as_str()).collect();
    assert_eq!(via[0], "redis-cli lpush");
}

#[test]
fn sqs_and_sns_commands() {
    let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders";
    let f = facts(&format!(
        "aws sqs send-message --queue-url {url} --message-body '{{\"id\": 1, \"region\": \"eu\", \"note\": null}}'\n\
         aws --region eu-west-1 sqs receive-message --queue-url \"$QUEUE_URL\" --wait-time-seconds 20\n\
         aws sqs create-queue --queue-name orders\n\
         aws sqs get-queue-url --queue-name orders\n\
         aws sns publish --topic-arn arn:aws:sns:eu-west-1:123:alerts --message '{{\"level\": \"high\"}}'\n"
    ));
    let sqs = |name: Expr| queue(Broker::Sqs, QueueRole::Queue, name);
    assert_eq!(
        queues(&f),
        vec![
            (
                Mode::Publish,
                1,
                QueueTarget {
                    fields: vec![
                        field("id", 1, false),
                        field("region", 1, false),
                        field("note", 1, true)
                    ],
                    ..sqs(lit(url))
                }
            ),
            (Mode::Consume, 2, sqs(var("QUEUE_URL", 0, 2))),
            (Mode::Create, 3, sqs(lit("orders"))),
            (Mode::Check, 4, sqs(lit("orders"))),
            (
                Mode::Publish,
                5,
                QueueTarget {
                    fields: vec![field("level", 5, false)],
                    ..queue(
                        Broker::Sns,
                        QueueRole::Topic,
                        lit("arn:aws:sns:eu-west-1:123:alerts")
                    )
                }
            ),
        ]
    );
}

#[test]
fn amqp_tools_and_celery() {
    let f = facts(
        "rabbitmqadmin -H mq publish exchange=events routing_key=orders.created payload='{\"id\":1}'\n\
         rabbitmqadmin declare queue name=orders durable=true\n\
         rabbitmqadmin get queue=orders ackmode=ack_requeue_false\n\
         rabbitmqadmin declare binding source=events destination=orders routing_key='orders.*'\n\
         amqp-publish -e events -r orders.created -b '{\"x\": 2}'\n\
         amqp-consume -q orders cat\n\
         celery -A app call tasks.rotate --kwargs '{\"force\": true}'\n",
    );
    let amqp = |role, name| queue(Broker::Amqp, role, lit(name));
    assert_eq!(
        queues(&f),
        vec![
            (
                Mode::Publish,
                1,
                QueueTarget {
                    exchange: Some(lit("events")),
                    fields: vec![field("id", 1, false)],
                    ..amqp(QueueRole::RoutingKey, "orders.created")
                }
            ),
            (Mode::Create, 2, amqp(QueueRole::Queue, "orders")),
            (Mode::Consume, 3, amqp(QueueRole::Queue, "orders")),
            (
                Mode::Consume,
                4,
                QueueTarget {
                    exchange: Some(lit("events")),
                    bound_queue: Some(lit("orders")),
                    ..amqp(QueueRole::BindingKey, "orders.*")
                }
            ),
            (
                Mode::Publish,
                5,
                QueueTarget {
                    exchange: Some(lit("events")),
                    fields: vec![field("x", 5, false)],
                    ..amqp(QueueRole::RoutingKey, "orders.created")
                }
            ),
            (Mode::Consume, 6, amqp(QueueRole::Queue, "orders")),
            (
                Mode::Publish,
                7,
                QueueTarget {
                    fields: vec![field("force", 7, false)],
                    ..queue(Broker::Celery, QueueRole::Task, lit("tasks.rotate"))
                }
            ),
        ]
    );
}

#[test]
fn json_bodies_give_top_level_fields_only() {
    let word = |text: &str| words::Word::from_lit(text, 3);
    let names = |text: &str| -> Vec<(String, bool)> {
        resource::json_fields(&word(text))
            .into_iter()
            .map(|f| (f.name, f.nullable))
            .collect()
    };
    assert_eq!(
        names(r#" { "a": {"inner": 1}, "b": [1, {"c": 2}], "d": "x,}", "e": null } "#),
        vec![
            ("a".to_string(), false),
            ("b".to_string(), false),
            ("d".to_string(), false),
            ("e".to_string(), true)
        ]
    );
    assert!(names("[1, 2]").is_empty());
    assert!(names("hello").is_empty());
    assert!(names("").is_empty());
    assert_eq!(names(r#"{"a": 1, "b""#), vec![("a".to_string(), false)]);
    assert_eq!(
        names(r#"{"nullish": nullable}"#),
        vec![("nullish".to_string(), false)]
    );
    // Expansions in values are tolerated.
    let f = facts("redis-cli rpush q \"{\\\"id\\\": $ID, \\\"at\\\": \\\"$(date +%s)\\\"}\"\n");
    let (_, _, q) = &queues(&f)[0];
    let fields: Vec<&str> = q.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(fields, vec!["id", "at"]);
}

#[test]
fn simple_regular_expressions_become_globs() {
    use resource::regex_to_glob;
    assert_eq!(regex_to_glob("orders\\..*"), Some(Expr::glob("orders.*")));
    assert_eq!(regex_to_glob("^orders.+$"), Some(Expr::glob("orders?*")));
    assert_eq!(regex_to_glob("a.c"), Some(Expr::glob("a?c")));
    assert_eq!(regex_to_glob("log-[0-9]"), Some(Expr::glob("log-[0-9]")));
    assert_eq!(regex_to_glob("log-[^x]"), Some(Expr::glob("log-[!x]")));
    assert_eq!(
        regex_to_glob("a|b"),
        Some(Expr::Alt {
            options: vec![Expr::glob("a"), Expr::glob("b")]
        })
    );
    for hard in [
        "a+", "(a|b)*", "x{2}", "a\\d", "((a))", "a)", "[0-9]+", "a\\*b", "ab?",
    ] {
        assert_eq!(regex_to_glob(hard), None, "{hard}");
    }
    assert_eq!(regex_to_glob(&"a".repeat(10_000)), None);
}

// ---------------------------------------------------------------------------------------------
// Triggers

#[test]
fn traps_register_one_handler_per_real_signal() {
    let f = facts(
        "trap 'reload' HUP USR1\n\
         trap reload SIGHUP\n\
         trap -- reload 1 15 sigusr2\n\
         trap 'rm -f \"$LOCK\"' EXIT\n\
         trap cleanup EXIT ERR DEBUG RETURN 0\n\
         trap - HUP\n\
         trap '' PIPE\n\
         trap -p\n\
         trap\n\
         reload() { kill -HUP \"$(cat /run/app.pid)\"; }\n",
    );
    assert_eq!(
        triggers(&f),
        vec![
            (1, 0, signal_trigger("HUP")),
            (1, 0, signal_trigger("USR1")),
            (2, 0, signal_trigger("HUP")),
            (3, 0, signal_trigger("HUP")),
            (3, 0, signal_trigger("TERM")),
            (3, 0, signal_trigger("USR2")),
        ]
    );
    // Handlers are shell: the EXIT handler's `rm` is a delete; `reload` is a call.
    assert_eq!(paths(&f)[0], (Mode::Delete, 4, var("LOCK", 0, 4)));
    let callees: Vec<(u32, String)> = calls(&f).into_iter().map(|c| (c.0, c.2)).collect();
    assert_eq!(
        callees,
        vec![
            (1, "reload".to_string()),
            (2, "reload".to_string()),
            (3, "reload".to_string())
        ]
    );
}

#[test]
fn trap_cleanup_on_exit_is_not_a_trigger() {
    let f = facts("cleanup() { rm -rf \"$WORK\"; }\ntrap cleanup EXIT\n");
    assert!(f.triggers.is_empty(), "{:#?}", f.triggers);
    assert_eq!(calls(&f), vec![(2, 0, "cleanup".to_string())]);
}

#[test]
fn service_loops_act_every_interval() {
    let f = facts(
        "INTERVAL=600\n\
         while true; do /opt/a.sh; sleep 300; done\n\
         while :; do /opt/b.sh; sleep 8h; done\n\
         until false; do sleep 5m; done\n\
         while sleep 1d; do /opt/c.sh; done\n\
         while true; do sleep \"$INTERVAL\"; done\n\
         while true; do sleep \"${PERIOD:-45}\"; done\n\
         while true; do sleep \"$UNKNOWN\"; done\n\
         while true; do sleep 1h 30m; done\n\
         while true; do sleep infinity; done\n\
         worker() {\n  while true; do\n    process\n    sleep 0.5\n  done\n}\n",
    );
    let none = TriggerKind::Loop { interval: None };
    assert_eq!(
        triggers(&f),
        vec![
            (2, 0, every("300 seconds")),
            (3, 0, every("8 hours")),
            (4, 0, every("5 minutes")),
            (5, 0, every("1 day")),
            (6, 0, every("600 seconds")),
            (7, 0, every("45 seconds")),
            (8, 0, every("$UNKNOWN")),
            (9, 0, every("1 hour and 30 minutes")),
            (10, 0, none),
            (12, 1, every("0.5 seconds")),
        ]
    );
}

#[test]
fn loops_that_end_or_do_not_sleep_are_not_service_loops() {
    let f = facts(
        "while true; do [ -f /data/ready ] && break; sleep 5; done\n\
         while true; do if [ -s /run/t ]; then exit 0; fi; sleep 1; done\n\
         while true; do read -r line || exit 1; echo \"$line\"; done\n\
         while [ ! -f /data/done ]; do sleep 10; done\n\
         for i in 1 2 3; do sleep 1; done\n",
    );
    assert!(f.triggers.is_empty(), "{:#?}", f.triggers);
    let waits: Vec<(u32, Expr)> = paths(&f)
        .into_iter()
        .filter(|p| p.0 == Mode::WaitFor)
        .map(|p| (p.1, p.2))
        .collect();
    assert_eq!(
        waits,
        vec![
            (1, lit("/data/ready")),
            (2, lit("/run/t")),
            (4, lit("/data/done"))
        ]
    );
}

#[test]
fn a_polled_request_file_makes_a_service_loop_act() {
    let f = facts(
        "REQ=/run/rotator/request\n\
         while true; do\n\
           if [ -f \"$REQ\" ]; then\n\
             rotate\n\
             rm -f \"$REQ\"\n\
           fi\n\
           sleep 5\n\
         done\n",
    );
    assert_eq!(
        triggers(&f),
        vec![
            (2, 0, every("5 seconds")),
            (
                3,
                0,
                TriggerKind::WatchFile {
                    path: var("REQ", 0, 3)
                }
            ),
        ]
    );
    // The check is an ordinary check: the loop is not waiting for the file, it acts on it.
    assert_eq!(
        paths(&f),
        vec![
            (Mode::Check, 3, var("REQ", 0, 3)),
            (Mode::Delete, 5, var("REQ", 0, 5))
        ]
    );
}

#[test]
fn inotify_watches_and_waits() {
    let f = facts(
        "while inotifywait -e close_write /run/rotator/trigger; do rotate; done\n\
         inotifywait -m -e create,modify /run/rotator/ | while read -r dir ev f; do rotate; done\n\
         inotifywait -e modify /run/secrets/api_token\n",
    );
    let watch = |path: &str| TriggerKind::WatchFile { path: lit(path) };
    assert_eq!(
        triggers(&f),
        vec![
            (1, 0, watch("/run/rotator/trigger")),
            (2, 0, watch("/run/rotator/")),
        ]
    );
    assert_eq!(
        paths(&f),
        vec![
            (Mode::WaitFor, 1, lit("/run/rotator/trigger")),
            (Mode::WaitFor, 2, lit("/run/rotator/")),
            (Mode::WaitFor, 3, lit("/run/secrets/api_token")),
        ]
    );
}

#[test]
fn listeners_serve_a_route() {
    let f = facts(
        "nc -lk 9090\nnc -l -p 9091 -e /opt/h.sh\nncat --listen 9092\n\
         socat TCP-LISTEN:8080,fork,reuseaddr EXEC:/opt/handler.sh\n\
         socat UNIX-LISTEN:/run/rotator.sock,fork -\n\
         nc example.com 80\nsocat - TCP:example.com:80\n",
    );
    let route = |path: &str| TriggerKind::Route {
        method: None,
        path: path.to_string(),
    };
    assert_eq!(
        triggers(&f),
        vec![
            (1, 0, route("tcp:9090")),
            (2, 0, route("tcp:9091")),
            (3, 0, route("tcp:9092")),
            (4, 0, route("tcp:8080")),
            (5, 0, route("unix:/run/rotator.sock")),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Sends

#[test]
fn kill_targets_the_pid_file_or_the_process_name() {
    let f = facts(
        "kill -HUP \"$(cat /run/rotator.pid)\"\n\
         kill -s HUP \"$PID\"\n\
         kill -1 $(< /run/y.pid)\n\
         kill -SIGUSR1 `cat /run/z.pid`\n\
         kill -HUP $(pgrep -f rotate_token)\n\
         APP_PID=$(cat /var/run/app.pid)\n\
         kill -USR2 \"$APP_PID\"\n\
         kill -0 \"$APP_PID\"\n\
         kill -l\n\
         sleep 100 & child=$!\n\
         kill -9 $child\n\
         kill $!\n\
         kill --signal=TERM $(pidof nginx)\n\
         read -r RPID < /run/rotator.pid\n\
         kill -HUP \"$RPID\"\n",
    );
    assert_eq!(
        signals(&f),
        vec![
            (1, "HUP".into(), lit("/run/rotator.pid")),
            (2, "HUP".into(), var("PID", 0, 2)),
            (3, "HUP".into(), lit("/run/y.pid")),
            (4, "USR1".into(), lit("/run/z.pid")),
            (5, "HUP".into(), lit("rotate_token")),
            (7, "USR2".into(), lit("/var/run/app.pid")),
            (11, "KILL".into(), var("child", 0, 11)),
            (12, "TERM".into(), Expr::hole("$!")),
            (13, "TERM".into(), lit("nginx")),
            (15, "HUP".into(), lit("/run/rotator.pid")),
        ]
    );
    // The pid file is also read.
    assert!(paths(&f).contains(&(Mode::Read, 1, lit("/run/rotator.pid"))));
}

#[test]
fn pkill_killall_systemctl_and_docker_send_to_names() {
    let f = facts(
        "pkill -HUP -f rotate_token.sh\n\
         pkill --signal USR1 rotator\n\
         pkill -F /run/r.pid\n\
         killall -HUP rotator\n\
         killall -s USR1 nginx\n\
         systemctl reload rotator.service\n\
         sudo systemctl kill -s SIGUSR1 --kill-who=main rotator\n\
         systemctl start rotate-token.service\n\
         systemctl --no-block restart web\n\
         docker kill -s HUP web\n\
         docker kill db\n\
         systemctl status rotator\n",
    );
    assert_eq!(
        signals(&f),
        vec![
            (1, "HUP".into(), lit("rotate_token.sh")),
            (2, "USR1".into(), lit("rotator")),
            (3, "TERM".into(), lit("/run/r.pid")),
            (4, "HUP".into(), lit("rotator")),
            (5, "USR1".into(), lit("nginx")),
            (6, "HUP".into(), lit("rotator.service")),
            (7, "USR1".into(), lit("rotator")),
            (8, "START".into(), lit("rotate-token.service")),
            (9, "RESTART".into(), lit("web")),
            (10, "HUP".into(), lit("web")),
            (11, "KILL".into(), lit("db")),
        ]
    );
}

#[test]
fn http_clients_make_requests() {
    let f = facts(
        "curl -X POST http://localhost:8080/rotate\n\
         curl -fsS -d '{\"a\":1}' https://api.internal/x\n\
         curl -o /tmp/out.tgz https://example.com/file.tgz\n\
         curl --url http://u/v -I\n\
         wget --post-data 'x=1' http://h/p\n\
         wget -qO- http://h/q\n\
         http POST :8080/rotate token=1\n\
         http example.org/get\n\
         curl -X \"$METHOD\" \"$ROTATOR_URL/rotate\"\n",
    );
    let get = Some("GET".to_string());
    let post = Some("POST".to_string());
    assert_eq!(
        requests(&f),
        vec![
            (1, post.clone(), lit("http://localhost:8080/rotate")),
            (2, post.clone(), lit("https://api.internal/x")),
            (3, get.clone(), lit("https://example.com/file.tgz")),
            (4, Some("HEAD".to_string()), lit("http://u/v")),
            (5, post.clone(), lit("http://h/p")),
            (6, get.clone(), lit("http://h/q")),
            (7, post, lit(":8080/rotate")),
            (8, get, lit("example.org/get")),
            (
                9,
                None,
                Expr::Concat {
                    parts: vec![var("ROTATOR_URL", 0, 9), lit("/rotate")]
                }
            ),
        ]
    );
    // A download stays a write of the output file.
    assert_eq!(paths(&f), vec![(Mode::Write, 3, lit("/tmp/out.tgz"))]);
}

// ---------------------------------------------------------------------------------------------
// Calls and waits

#[test]
fn calls_of_script_functions_are_recorded_wherever_they_are_defined() {
    let f = facts(
        "main() {\n  wait_for_token || exit 1\n  timeout 30 wait_for_token\n}\n\
         wait_for_token() { inotifywait -e close_write /run/secrets/api_token; }\n\
         rm() { echo \"not removing $1\"; }\n\
         rm /data/x\n\
         main \"$@\"\n\
         not_a_function /x\n",
    );
    assert_eq!(
        calls(&f),
        vec![
            (2, 1, "wait_for_token".to_string()),
            (3, 1, "wait_for_token".to_string()),
            (7, 0, "rm".to_string()),
            (8, 0, "main".to_string()),
        ]
    );
    // A function shadows the program: `rm` here deletes nothing.
    assert!(
        paths(&f).iter().all(|p| p.0 != Mode::Delete),
        "{:#?}",
        paths(&f)
    );
    assert_eq!(
        paths(&f),
        vec![(Mode::WaitFor, 5, lit("/run/secrets/api_token"))]
    );
}

#[test]
fn polling_loops_wait_for_content_and_mtime_changes() {
    let f = facts(
        "wait_for_token() {\n\
           old=$(stat -c %Y \"$TOKEN_FILE\")\n\
           for i in $(seq 1 30); do\n\
             new=$(stat -c %Y \"$TOKEN_FILE\")\n\
             [ \"$new\" != \"$old\" ] && return 0\n\
             sleep 2\n\
           done\n\
           return 1\n\
         }\n\
         before=$(md5sum < /run/secrets/api_token)\n\
         while [ \"$(md5sum < /run/secrets/api_token)\" = \"$before\" ]; do sleep 1; done\n\
         until [ \"$(cat /run/secrets/b)\" != \"$prev\" ]; do sleep 1; done\n\
         while true; do new=$(md5sum /run/secrets/c); [ \"$new\" != \"$x\" ] && break; sleep 1; done\n",
    );
    let token = |line| var("TOKEN_FILE", 1, line);
    assert_eq!(
        paths(&f),
        vec![
            (Mode::Check, 2, token(2)),
            (Mode::WaitFor, 4, token(4)),
            (Mode::Read, 10, lit("/run/secrets/api_token")),
            (Mode::WaitFor, 11, lit("/run/secrets/api_token")),
            (Mode::WaitFor, 12, lit("/run/secrets/b")),
            (Mode::WaitFor, 13, lit("/run/secrets/c")),
        ]
    );
}

#[test]
fn reads_in_loops_over_items_stay_reads() {
    let f = facts(
        "for f in /data/in/*.csv; do cat \"$f\" > /dev/null; sleep 1; done\n\
         while read -r f; do cat \"$f\"; sleep 1; done < /data/list\n",
    );
    assert!(
        paths(&f).iter().all(|p| p.0 != Mode::WaitFor),
        "{:#?}",
        paths(&f)
    );
}

// ---------------------------------------------------------------------------------------------
// Models and robustness

#[test]
fn in_house_wrappers_are_models_too() {
    let mut models = models();
    let user = r#"
schema = 1
language = "bash"

[[command]]
names = ["get-secret"]
kind = "secret"
provider = "vault"
[[command.use]]
mode = "read"
name = [{ select = "first" }]

[[command]]
names = ["enqueue"]
kind = "queue"
broker = "redis"
value_flags = ["--host"]
[[command.use]]
mode = "publish"
role = "queue"
name = [{ index = 1 }]
body = [{ index = 2 }]

[[command]]
names = ["poke-rotator"]
kind = "signal"
signal = "HUP"
target = "name"
"#;
    models
        .load_file("user.toml", user)
        .expect("user models load");
    let f = extract(
        "x.sh",
        "get-secret secret/api\nenqueue --host r jobs '{\"id\": 1}'\npoke-rotator rotate_token\n",
        &models,
    );
    assert_eq!(
        secrets(&f),
        vec![(Mode::Read, 1, "vault".to_string(), lit("secret/api"))]
    );
    assert_eq!(queues(&f)[0].2.fields, vec![field("id", 2, false)]);
    assert_eq!(signals(&f), vec![(3, "HUP".into(), lit("rotate_token"))]);
}

#[test]
fn resource_rows_are_validated_with_file_and_line() {
    let load = |rows: &str| {
        Models::default()
            .load_file(
                "m.toml",
                &format!("schema = 1\nlanguage = \"bash\"\n{rows}"),
            )
            .expect_err("invalid row")
    };
    let err = load(
        "[[command]]\nnames = [\"x\"]\nkind = \"secret\"\n[[command.use]]\nmode = \"read\"\nname = [{ index = 1 }]\n",
    );
    assert_eq!(err.line, 3, "{err}");
    assert!(err.message.contains("provider"), "{err}");
    let err = load(
        "[[command]]\nnames = [\"x\"]\nkind = \"queue\"\nbroker = \"kafka\"\n[[command.use]]\nmode = \"publish\"\nname = [{ index = 1 }]\n",
    );
    assert!(err.message.contains("role"), "{err}");
    let err = load(
        "[[command]]\nnames = [\"x\"]\nkind = \"queue\"\nbroker = \"kafka\"\n[[command.use]]\nmode = \"publish\"\nrole = \"topic\"\nname = [{ index = 1, flags = [\"-t\"] }]\n",
    );
    assert!(err.message.contains("exactly one of"), "{err}");
    let err = load("[[command]]\nnames = [\"x\"]\nkind = \"queue\"\nbroker = \"zeromq\"\n");
    assert!(err.message.contains("unknown broker `zeromq`"), "{err}");
    let err = load(
        "[[command]]\nnames = [\"x\"]\nkind = \"queue\"\nbroker = \"kafka\"\n[[command.use]]\nmode = \"rotate\"\nrole = \"topic\"\nname = [{ index = 1 }]\n",
    );
    assert!(err.message.contains("does not apply"), "{err}");
    let err = load("[[command]]\nnames = [\"x\"]\nkind = \"signal\"\ntarget = \"pid\"\n");
    assert!(err.message.contains("what it sends"), "{err}");
    let err = load("[[command]]\nnames = [\"x\"]\nkind = \"listener\"\n");
    assert!(err.message.contains("listen_flags"), "{err}");
    let err = load(
        "[[command]]\nnames = [\"x\"]\nkind = \"secret\"\nprovider = \"vault\"\nsignal = \"HUP\"\n",
    );
    assert!(err.message.contains("`signal` does not apply"), "{err}");
}

#[test]
fn signal_names_are_normalised() {
    use crate::rules::models::bash::{is_signal, normalize_signal};
    for (text, name) in [
        ("SIGHUP", "HUP"),
        ("hup", "HUP"),
        ("1", "HUP"),
        ("15", "TERM"),
        ("sigusr1", "USR1"),
        ("0", "EXIT"),
        ("IOT", "ABRT"),
        ("99", "99"),
    ] {
        assert_eq!(normalize_signal(text), name, "{text}");
    }
    assert!(is_signal("RTMIN+3"));
    assert!(!is_signal("f"));
    assert!(!is_signal("rotate"));
    assert!(!is_signal("1234"));
}

#[test]
fn malformed_contract_commands_do_not_panic() {
    for src in [
        "trap",
        "trap ''",
        "trap -- ",
        "trap 'unterminated HUP",
        "kill -",
        "kill -s",
        "kill --signal=",
        "pkill -F",
        "systemctl reload",
        "redis-cli",
        "redis-cli LPUSH",
        "redis-cli XREADGROUP STREAMS",
        "redis-cli xadd s '*' f",
        "aws sqs send-message --queue-url",
        "aws sqs send-message --queue-url q --message-body '{'",
        "aws sqs send-message --queue-url q --message-body '{\"a\":'",
        "aws sqs send-message --queue-url q --message-body '{{{{{{{{{{'",
        "aws --region",
        "aws --a --b --c --d --e --f --g --h --i --j sqs send-message --queue-url q",
        "vault kv get",
        "kafka-console-consumer --whitelist '('",
        "kafka-console-consumer --whitelist '[abc'",
        "kafka-console-consumer --whitelist '\\'",
        "while true; do",
        "while true; do sleep; done",
        "while sleep; do :; done",
        "until; do done",
        "export",
        "export =",
        "declare -x",
        "echo ${X:?",
        "[ -z ] && exit",
        "[ -z \"$X\" ] &&",
        "if [ -z \"$X\" ]; then",
        "nc -l",
        "socat TCP-LISTEN:",
        "curl -X",
        "http POST",
        "set -o",
        "env X=",
        "X= cmd",
    ] {
        let _ = facts(src);
    }
    let deep = format!("{}{}", "{\"a\": [".repeat(5000), "]}".repeat(5000));
    let _ = facts(&format!("redis-cli lpush q '{deep}'"));
    let mut loops = String::new();
    for _ in 0..300 {
        loops.push_str("while true; do sleep 1; ");
    }
    for _ in 0..300 {
        loops.push_str("done; ");
    }
    let _ = facts(&loops);
}

#[test]
fn a_large_script_with_many_variables_is_read_in_linear_time() {
    let mut src = String::from("#!/bin/bash\n");
    for i in 0..5000 {
        src.push_str(&format!(
            "VAR_{i}=\"${{VAR_{i}:-x}}\"\necho \"$VAR_{i} $OTHER_{i}\"\nexport VAR_{i}\n"
        ));
    }
    let started = std::time::Instant::now();
    let f = facts(&src);
    assert_eq!(env_names(&f, Mode::Read).len(), 10_000);
    assert_eq!(env_names(&f, Mode::Set).len(), 5_000);
    // Generous: a quadratic pass over 15 000 lines takes minutes in a debug build.
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}

#[test]
fn presence_tests_and_fallbacks_make_reads_optional_under_nounset() {
    let f = facts(
        "set -euo pipefail\n\
         if [[ -v RELAY ]]; then echo \"$RELAY\"; fi\n\
         if [ -n \"${OPTS:-}\" ]; then echo \"$OPTS\"; fi\n\
         NEW_NAME=\"${MAIL_HOST:-$SMTP_HOST}\"\n\
         Q=\"${QUEUE:-${LEGACY_QUEUE:?}}\"\n\
         echo \"$NEED\"\n",
    );
    let reads: Vec<(String, bool)> = env(&f)
        .into_iter()
        .filter(|(mode, ..)| *mode == Mode::Read)
        .map(|(_, _, _, name, value)| (name, value.is_none()))
        .collect();
    for (name, required) in &reads {
        assert_eq!(*required, name == "NEED", "{name}: {reads:?}");
    }
    let names: Vec<&str> = reads.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "RELAY",
        "OPTS",
        "MAIL_HOST",
        "SMTP_HOST",
        "QUEUE",
        "LEGACY_QUEUE",
        "NEED",
    ] {
        assert!(names.contains(&name), "{name}: {reads:?}");
    }
}

#[test]
fn a_guard_that_exits_still_requires_under_nounset() {
    let f = facts(
        "set -u\n[ -n \"${TOKEN:-}\" ] || { echo 'TOKEN?'; exit 1; }\ncurl -H \"$TOKEN\" x\n",
    );
    let g = facts("set -u\n[[ -v TOKEN ]] || exit 1\ncurl -H \"$TOKEN\" x\n");
    assert!(
        env(&g)
            .iter()
            .any(|(mode, _, _, name, value)| *mode == Mode::Read
                && name == "TOKEN"
                && value.is_none()),
        "{:?}",
        env(&g)
    );
    assert!(
        env(&f)
            .iter()
            .any(|(mode, _, _, name, value)| *mode == Mode::Read
                && name == "TOKEN"
                && value.is_none()),
        "{:?}",
        env(&f)
    );
}

#[test]
fn skipping_an_optional_step_or_sourcing_settings_is_no_requirement() {
    let f = facts(
        "set -u\n\
         setup_tz() {\n  [[ -n ${TZ_NAME} ]] || return 0\n  ln -sf \"$TZ_NAME\" /etc/localtime\n}\n\
         relay() {\n  [[ -z ${RELAY} ]] && return 1\n  echo \"$RELAY\"\n}\n\
         while getopts ':c:' OPT; do case ${OPT} in c) ;; esac; done\n\
         [ -n \"${TOKEN:-}\" ] || exit 3\n\
         if [[ -z \"$NO_XMPP\" ]]; then\n  if [[ -z \"$XMPP_PASSWORD\" ]]; then\n    exit 1\n  fi\nfi\n",
    );
    let required: Vec<String> = env(&f)
        .into_iter()
        .filter(|(mode, _, _, _, value)| *mode == Mode::Read && value.is_none())
        .map(|(_, _, _, name, _)| name)
        .collect();
    assert_eq!(
        required,
        vec!["TOKEN".to_string(), "XMPP_PASSWORD".to_string()],
        "{:?}",
        env(&f)
    );
    let f = facts("set -u\nsource /etc/app/settings\necho \"$COLOUR\"\n");
    assert!(
        env(&f).iter().all(|(_, _, _, _, value)| value.is_some()),
        "{:?}",
        env(&f)
    );
}

#[test]
fn celery_workers_consume_their_queues_and_write_their_files() {
    let f = facts(
        "celery -A proj worker -Q orders,emails -X slow --hostname w1@%h --logfile /var/log/w.log --pidfile /run/w.pid\n\
         celery worker -A proj --queues=reports -l info\n\
         python3 -m celery -A proj worker -Q billing\n\
         /srv/app/venv/bin/celery -A proj beat -s /var/lib/celery/schedule\n",
    );
    let celery = |name| queue(Broker::Celery, QueueRole::Queue, lit(name));
    assert_eq!(
        queues(&f),
        vec![
            (Mode::Consume, 1, celery("orders")),
            (Mode::Consume, 1, celery("emails")),
            (Mode::Consume, 2, celery("reports")),
            (Mode::Consume, 3, celery("billing")),
        ]
    );
    assert_eq!(
        paths(&f),
        vec![
            (Mode::Append, 1, lit("/var/log/w.log")),
            (Mode::Write, 1, lit("/run/w.pid")),
            (Mode::Write, 4, lit("/var/lib/celery/schedule")),
        ]
    );
    // Excluded queues, a worker of the default queue and a task call consume nothing; a
    // queue name that is only text elsewhere is no queue.
    let f = facts(
        "celery -A proj worker -X billing\ncelery -A proj worker\necho -Q billing\ncelery -A proj call t --queue billing\n",
    );
    assert!(
        queues(&f)
            .iter()
            .all(|(mode, _, q)| *mode != Mode::Consume || q.role != QueueRole::Queue),
        "{:?}",
        queues(&f)
    );
}

#[test]
fn unknown_programs_options_named_like_paths_and_queues_are_mentions() {
    let f = facts(
        "myworker --input-dir /data/in --out-file=/srv/x.csv --kafka-topic orders --jobs_queue jobs\n",
    );
    assert_eq!(
        paths(&f),
        vec![
            (Mode::Unknown, 1, lit("/data/in")),
            (Mode::Unknown, 1, lit("/srv/x.csv")),
        ]
    );
    assert_eq!(
        queues(&f),
        vec![
            (
                Mode::Unknown,
                1,
                queue(Broker::Unknown, QueueRole::Topic, lit("orders"))
            ),
            (
                Mode::Unknown,
                1,
                queue(Broker::Unknown, QueueRole::Queue, lit("jobs"))
            ),
        ]
    );
    // Other option names, a value that is not spelled like a path, an option without a value,
    // and a modelled program's options are not guessed.
    let f = facts(
        "myworker --log-level debug --state-dir state --dry-run --topic orders --output-file\n\
         cp --target-directory /srv/a /tmp/b\n",
    );
    assert!(
        f.accesses.iter().all(|a| a.mode != Mode::Unknown),
        "{:#?}",
        f.accesses
    );
}

#[test]
fn docker_run_binds_host_paths_and_sets_the_environment() {
    let f = facts(
        "docker run --rm -v /srv/data:/data --mount type=bind,source=/srv/logs,target=/var/log/app \
         -e OUT_DIR=/data/out --env-file /etc/app.env img:1 sh -c 'rm -rf /data/tmp; echo x >> /var/log/app/a.log; rm /tmp/x'\n",
    );
    assert_eq!(
        paths(&f),
        vec![
            (Mode::Read, 1, lit("/etc/app.env")),
            (Mode::Delete, 1, lit("/srv/data/tmp")),
            (Mode::Append, 1, lit("/srv/logs/a.log")),
        ]
    );
    assert_eq!(env_names(&f, Mode::Set), vec!["OUT_DIR".to_string()]);
    // A named volume, a relative source and a path that only shares a prefix's text are not
    // bound, so they are the container's own; an image with no command runs nothing here.
    let f = facts(
        "docker run -v pgdata:/var/lib/postgresql -v ./conf:/conf -v /srv/data:/data img ls /var/lib/postgresql /conf /database\ndocker run -d img\n",
    );
    assert!(paths(&f).is_empty(), "{:?}", paths(&f));
    // The command's queues are still its own.
    let f = facts("docker run --rm shop celery -A shop worker -Q billing\n");
    assert_eq!(
        queues(&f),
        vec![(
            Mode::Consume,
            1,
            queue(Broker::Celery, QueueRole::Queue, lit("billing"))
        )]
    );
}
