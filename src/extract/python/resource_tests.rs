//! Tests of the Python extractor's credentials, queues, message fields, triggers, sends,
//! waits and calls: one or more per idiom, with controls. Facts are compared in a compact
//! notation: `L<line> <mode> ...` per access, names and values in the notation of
//! [`super::tests::show`].

use super::tests::{facts, models, show};
use super::*;
use crate::extract::{FieldUse, RawResource, SendKind, TriggerKind};

/// Environment accesses: `L<line> <mode> <name> = <value>|required`.
pub(super) fn envs(f: &FileFacts) -> Vec<String> {
    f.accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Env(e) => Some(format!(
                "L{} {} {} = {}",
                a.line,
                a.mode,
                show(&e.name),
                e.value.as_ref().map_or("required".to_string(), show)
            )),
            _ => None,
        })
        .collect()
}

/// Secret accesses: `L<line> <mode> <provider> <id> via <model>`.
fn secrets(f: &FileFacts) -> Vec<String> {
    f.accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Secret(s) => Some(format!(
                "L{} {} {} {} via {}",
                a.line,
                a.mode,
                s.provider,
                show(&s.id),
                a.via
            )),
            _ => None,
        })
        .collect()
}

/// Queue accesses: `L<line> <mode> <broker>/<role> <name> [ex=<e>] [to=<q>]`.
fn queues(f: &FileFacts) -> Vec<String> {
    f.accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Queue(q) => {
                let mut text = format!(
                    "L{} {} {}/{} {}",
                    a.line,
                    a.mode,
                    serde_json::to_value(q.broker).ok()?.as_str()?,
                    serde_json::to_value(q.role).ok()?.as_str()?,
                    show(&q.name)
                );
                if let Some(e) = &q.exchange {
                    text.push_str(&format!(" ex={}", show(e)));
                }
                if let Some(b) = &q.bound_queue {
                    text.push_str(&format!(" to={}", show(b)));
                }
                Some(text)
            }
            _ => None,
        })
        .collect()
}

/// The fields of the queue access at a line: `name@L<line>` with `?` for optional and `~`
/// for nullable.
fn fields_at(f: &FileFacts, line: u32) -> Vec<String> {
    let access = f
        .accesses
        .iter()
        .find(|a| a.line == line && matches!(a.resource, RawResource::Queue(_)))
        .unwrap_or_else(|| panic!("no queue access at L{line}: {:#?}", queues(f)));
    let RawResource::Queue(q) = &access.resource else {
        unreachable!()
    };
    q.fields.iter().map(field).collect()
}

fn field(u: &FieldUse) -> String {
    format!(
        "{}@L{}{}{}",
        u.name,
        u.line,
        if u.optional { "?" } else { "" },
        if u.nullable { "~" } else { "" }
    )
}

/// Accesses of other kinds with a mode: `L<line> <mode> <expr>` for paths.
fn paths(f: &FileFacts) -> Vec<String> {
    f.accesses
        .iter()
        .filter_map(|a| {
            let p = a.resource.as_path()?;
            Some(format!("L{} {} {}", a.line, a.mode, show(&p.expr)))
        })
        .collect()
}

fn triggers(f: &FileFacts) -> Vec<String> {
    f.triggers
        .iter()
        .map(|t| {
            let what = match &t.kind {
                TriggerKind::Signal { signal } => format!("signal {signal}"),
                TriggerKind::WatchFile { path } => format!("watch {}", show(path)),
                TriggerKind::Route { method, path } => {
                    format!("route {} {path}", method.as_deref().unwrap_or("*"))
                }
                TriggerKind::Schedule {
                    expression,
                    description,
                } => format!("schedule {expression} | {description}"),
                TriggerKind::Loop { interval } => {
                    format!("loop {}", interval.as_deref().unwrap_or("?"))
                }
            };
            format!("L{} {} {what}", t.line, f.unit_name(t.scope))
        })
        .collect()
}

fn sends(f: &FileFacts) -> Vec<String> {
    f.sends
        .iter()
        .map(|s| {
            let what = match &s.kind {
                SendKind::Signal { signal, target } => {
                    format!("signal {signal} -> {}", show(target))
                }
                SendKind::Http { method, url } => {
                    format!("http {} {}", method.as_deref().unwrap_or("*"), show(url))
                }
            };
            format!("L{} {} {what}", s.line, f.unit_name(s.scope))
        })
        .collect()
}

fn calls(f: &FileFacts) -> Vec<String> {
    f.calls
        .iter()
        .map(|c| format!("L{} {} {}", c.line, f.unit_name(c.scope), c.callee))
        .collect()
}

fn assert_has(all: &[String], expected: &str) {
    assert!(
        all.iter().any(|a| a == expected),
        "missing `{expected}` in {all:#?}"
    );
}

// ---- the incident ----------------------------------------------------------------------------

const WAITER: &str = r#"import os, time
import requests

TOKEN_FILE = os.environ.get("API_TOKEN_FILE", "/run/secrets/api_token")

def wait_for_credential_refresh(timeout=300):
    before = os.path.getmtime(TOKEN_FILE)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.getmtime(TOKEN_FILE) != before:
            return True
        time.sleep(5)
    return False

def call_api(session, url):
    resp = session.get(url)
    if resp.status_code == 401:
        wait_for_credential_refresh()
        resp = session.get(url)
    return resp
"#;

#[test]
fn incident_waiter_waits_for_the_token_file_read_from_the_environment() {
    let f = facts(WAITER);
    assert_eq!(
        envs(&f),
        vec![r#"L4 read "API_TOKEN_FILE" = "/run/secrets/api_token""#]
    );
    assert_eq!(
        paths(&f),
        vec![
            "L7 check $TOKEN_FILE",
            "L10 check $TOKEN_FILE",
            "L10 wait-for $TOKEN_FILE",
        ]
    );
    let wait = f
        .accesses
        .iter()
        .find(|a| a.mode == crate::model::Mode::WaitFor)
        .expect("a wait");
    assert_eq!(f.unit_name(wait.scope), "wait_for_credential_refresh");
    assert!(matches!(
        wait.resource.as_path().map(|p| &p.expr),
        Some(crate::expr::Expr::Var { name, .. }) if name == "TOKEN_FILE"
    ));
    assert_has(
        &calls(&f),
        "L18 call_api loader.write.wait_for_credential_refresh",
    );
    assert!(f.triggers.is_empty(), "{:?}", triggers(&f));
    assert!(f.sends.is_empty(), "{:?}", sends(&f));
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

#[test]
fn incident_rotator_handles_sighup() {
    let f = facts(
        "import signal\n\ndef rotate_now(signum, frame):\n    write_token()\n\ndef main():\n    signal.signal(signal.SIGHUP, rotate_now)\n    rotate_now(None, None)\n",
    );
    assert_eq!(triggers(&f), vec!["L7 main signal HUP"]);
    assert_has(&calls(&f), "L8 main loader.write.rotate_now");
    assert!(
        !calls(&f).iter().any(|c| c.contains("signal.signal")),
        "a modelled call is no call: {:?}",
        calls(&f)
    );
}

#[test]
fn a_schedule_driven_rotator_has_no_trigger() {
    let f = facts(
        "import os\n\ndef main():\n    token = fetch()\n    with open(os.environ['TOKEN_OUT'], 'w') as fh:\n        fh.write(token)\n\nif __name__ == '__main__':\n    main()\n",
    );
    assert!(f.triggers.is_empty(), "{:?}", triggers(&f));
    assert_eq!(envs(&f), vec![r#"L5 read "TOKEN_OUT" = required"#]);
    assert_eq!(paths(&f), vec!["L5 write env(TOKEN_OUT)"]);
}

// ---- environment variables --------------------------------------------------------------

#[test]
fn environment_reads_required_optional_and_defaulted() {
    let f = facts(
        "import os\nfrom os import environ, getenv\nA = os.environ['A']\nB = os.environ.get('B')\nC = os.getenv('C', '/c')\nD = os.environ.get('D', None)\nE = os.getenv('E') or '/e'\nF = getenv('F', default=G)\nH = environ['H']\nI = os.environ.setdefault('I', '3')\nJ = os.environ.pop('J')\n",
    );
    assert_eq!(
        envs(&f),
        vec![
            r#"L3 read "A" = required"#,
            r#"L4 read "B" = {None}"#,
            r#"L5 read "C" = "/c""#,
            r#"L6 read "D" = {None}"#,
            r#"L7 read "E" = "/e""#,
            r#"L8 read "F" = $G"#,
            r#"L9 read "H" = required"#,
            r#"L10 read "I" = "3""#,
            r#"L10 set "I" = "3""#,
            r#"L11 read "J" = required"#,
        ]
    );
}

#[test]
fn environment_checks_and_sets() {
    let f = facts(
        "import os\nif 'F' in os.environ:\n    pass\nif 'G' not in os.environ:\n    os.environ['G'] = '1'\nos.putenv('H', V)\ndel os.environ['K']\n",
    );
    assert_eq!(
        envs(&f),
        vec![
            r#"L2 check "F" = required"#,
            r#"L4 check "G" = required"#,
            r#"L5 set "G" = "1""#,
            r#"L6 set "H" = $V"#,
        ]
    );
}

#[test]
fn environment_names_through_variables_and_controls() {
    let f = facts(
        "import os\nN = 'X'\nV = os.getenv(N)\nenv = {'Y': 1}\nW = env['Y']\nif 'Z' in env:\n    pass\ndef f(environ):\n    return environ['Q']\n",
    );
    assert_eq!(envs(&f), vec![r#"L3 read $N = {None}"#]);
}

#[test]
fn reads_inside_template_strings_count_and_text_that_looks_like_one_does_not() {
    let f = facts(
        "import os\nprint(f\"token {os.environ['A']}\")\nprint(rF'{os.getenv(\"B\")}')\nprint(\"{os.environ['C']}\")\nprint(r'{os.getenv(\"D\")}')\nprint(b\"{os.environ['E']}\")\n",
    );
    assert_eq!(
        envs(&f),
        vec![r#"L2 read "A" = required"#, r#"L3 read "B" = {None}"#]
    );
}

#[test]
fn a_path_built_from_an_environment_variable_is_also_an_environment_read() {
    let f = facts("import os\nopen(os.path.join(os.environ['DATA'], 'x.csv'), 'w')\n");
    assert_eq!(envs(&f), vec![r#"L2 read "DATA" = required"#]);
    assert_eq!(paths(&f), vec![r#"L2 write join(env(DATA), "x.csv")"#]);
}

#[test]
fn decouple_and_django_environ() {
    let f = facts(
        "import decouple\nimport environ\nJ = decouple.config('J')\nK = decouple.config('K', default='k', cast=str)\nenv = environ.Env()\nL = env('L')\nM = env.str('M', default='m')\nN = env('N', str, 'n')\n",
    );
    assert_eq!(
        envs(&f),
        vec![
            r#"L3 read "J" = required"#,
            r#"L4 read "K" = "k""#,
            r#"L6 read "L" = required"#,
            r#"L7 read "M" = "m""#,
            r#"L8 read "N" = "n""#,
        ]
    );
}

#[test]
fn pydantic_settings_fields_are_environment_reads() {
    let f = facts(
        "from pydantic_settings import BaseSettings, SettingsConfigDict\nfrom pydantic import Field\nfrom typing import ClassVar\n\nclass Settings(BaseSettings):\n    model_config = SettingsConfigDict(env_prefix='APP_')\n    api_token: str\n    db_url: str = 'postgres://x'\n    region: str | None = None\n    secret: str = Field(..., validation_alias='RAW_SECRET')\n    version: ClassVar[int] = 1\n    _private: int = 0\n\nclass Plain:\n    name: str\n",
    );
    assert_eq!(
        envs(&f),
        vec![
            r#"L7 read "APP_API_TOKEN" = required"#,
            r#"L8 read "APP_DB_URL" = "postgres://x""#,
            r#"L9 read "APP_REGION" = {None}"#,
            r#"L10 read "RAW_SECRET" = required"#,
        ]
    );
    let read = f.accesses.iter().find(|a| a.line == 7).expect("field read");
    assert_eq!(f.unit_name(read.scope), "Settings");
    assert_eq!(read.via, "pydantic_settings.BaseSettings");
}

#[test]
fn pydantic_v1_settings_with_a_config_class() {
    let f = facts(
        "from pydantic import BaseSettings, Field\nclass S(BaseSettings):\n    token: str = Field('t', env='API_TOKEN')\n    host: str\n    class Config:\n        env_prefix = 'svc_'\n",
    );
    assert_eq!(
        envs(&f),
        vec![
            r#"L3 read "API_TOKEN" = "t""#,
            r#"L4 read "SVC_HOST" = required"#,
        ]
    );
}

// ---- secrets -----------------------------------------------------------------------------

#[test]
fn secrets_manager_calls_on_typed_clients() {
    let f = facts(
        "import boto3, os\nsm = boto3.client('secretsmanager')\ndef rotate():\n    sm.get_secret_value(SecretId='prod/api')\n    sm.put_secret_value(SecretId='prod/api', SecretString='x')\n    sm.update_secret(SecretId=ID)\n    sm.rotate_secret(SecretId=os.environ['SECRET_ID'])\n    sm.describe_secret(SecretId='prod/api')\n",
    );
    assert_eq!(
        secrets(&f),
        vec![
            r#"L4 read aws-secretsmanager "prod/api" via SecretsManager.get_secret_value"#,
            r#"L5 set aws-secretsmanager "prod/api" via SecretsManager.put_secret_value"#,
            r#"L6 set aws-secretsmanager $ID via SecretsManager.update_secret"#,
            r#"L7 rotate aws-secretsmanager env(SECRET_ID) via SecretsManager.rotate_secret"#,
            r#"L8 check aws-secretsmanager "prod/api" via SecretsManager.describe_secret"#,
        ]
    );
}

#[test]
fn client_types_follow_sessions_attributes_chains_and_annotations() {
    let f = facts(
        "import boto3\nfrom mypy_boto3_secretsmanager import SecretsManagerClient\nclass Fetcher:\n    def __init__(self):\n        self.session = boto3.session.Session()\n        self.sm = self.session.client(service_name='secretsmanager')\n    def get(self):\n        return self.sm.get_secret_value(SecretId='a')\ndef g(client: SecretsManagerClient):\n    client.get_secret_value(SecretId='b')\nboto3.client('secretsmanager').get_secret_value(SecretId='c')\nwith boto3.client('secretsmanager') as c:\n    c.get_secret_value(SecretId='d')\nclass K:\n    sm = boto3.client('secretsmanager')\n    def get(self):\n        self.sm.get_secret_value(SecretId='e')\n",
    );
    let ids: Vec<String> = secrets(&f);
    assert_eq!(ids.len(), 5, "{ids:#?}");
    for (line, id) in [(8, "a"), (10, "b"), (11, "c"), (13, "d"), (17, "e")] {
        assert_has(
            &ids,
            &format!(
                r#"L{line} read aws-secretsmanager "{id}" via SecretsManager.get_secret_value"#
            ),
        );
    }
}

#[test]
fn typed_rows_do_not_match_other_or_unknown_receivers() {
    let f = facts(
        "import boto3\ns3 = boto3.client('s3')\ns3.get_secret_value(SecretId='no')\nobj.get_secret_value(SecretId='no')\ndef f(client):\n    client.get_secret_value(SecretId='no')\nsm = boto3.client(SERVICE)\nsm.get_secret_value(SecretId='no')\n",
    );
    assert!(secrets(&f).is_empty(), "{:#?}", secrets(&f));
    assert_has(&calls(&f), "L4  obj.get_secret_value");
}

#[test]
fn a_rebinding_drops_the_type() {
    let f = facts(
        "import boto3\nc = boto3.client('secretsmanager')\nc = make()\nc.get_secret_value(SecretId='x')\n",
    );
    assert!(secrets(&f).is_empty(), "{:#?}", secrets(&f));
}

#[test]
fn ssm_gcp_and_vault_secrets() {
    let f = facts(
        "import boto3, hvac\nfrom google.cloud import secretmanager\nssm = boto3.client('ssm')\nssm.get_parameter(Name='/prod/db', WithDecryption=True)\nssm.put_parameter(Name='/prod/db', Value='x')\ngcp = secretmanager.SecretManagerServiceClient()\ngcp.access_secret_version(request={'name': 'projects/p/secrets/s/versions/latest'})\ngcp.access_secret_version(name=NAME)\ngcp.add_secret_version(parent='projects/p/secrets/s', payload={})\nv = hvac.Client(url='x')\nv.secrets.kv.v2.read_secret_version(path='api/token')\nv.secrets.kv.v2.create_or_update_secret(path='api/token', secret={}, mount_point='kv')\nv.read('secret/data/x')\n",
    );
    assert_eq!(
        secrets(&f),
        vec![
            r#"L4 read aws-ssm "/prod/db" via SSM.get_parameter"#,
            r#"L5 set aws-ssm "/prod/db" via SSM.put_parameter"#,
            r#"L7 read gcp-secretmanager "projects/p/secrets/s/versions/latest" via SecretManagerServiceClient.access_secret_version"#,
            r#"L8 read gcp-secretmanager $NAME via SecretManagerServiceClient.access_secret_version"#,
            r#"L9 set gcp-secretmanager "projects/p/secrets/s" via SecretManagerServiceClient.add_secret_version"#,
            r#"L11 read vault "secret/api/token" via VaultKV2.read_secret_version"#,
            r#"L12 set vault "kv/api/token" via VaultKV2.create_or_update_secret"#,
            r#"L13 read vault "secret/data/x" via VaultClient.read"#,
        ]
    );
}

// ---- queues ------------------------------------------------------------------------------

const PIKA_PRODUCER: &str = r#"import json, pika

def publish(order):
    ch = pika.BlockingConnection().channel()
    ch.queue_declare(queue="orders")
    msg = {"id": order.id, "region": None}
    if order.rush:
        msg["rush"] = True
    msg["ts"] = order.ts
    ch.basic_publish(exchange="", routing_key="orders", body=json.dumps(msg))
    ch.basic_publish(exchange="events", routing_key="order.created", body=json.dumps(msg).encode())
    ch.basic_publish("", QUEUE, body=msg)
    ch.queue_bind(queue="audit", exchange="events", routing_key="order.*")
    ch.queue_bind("plain", "events")
"#;

#[test]
fn pika_publish_declare_and_bind() {
    let f = facts(PIKA_PRODUCER);
    assert_eq!(
        queues(&f),
        vec![
            r#"L5 create amqp/queue "orders""#,
            r#"L10 publish amqp/queue "orders""#,
            r#"L11 publish amqp/routing-key "order.created" ex="events""#,
            r#"L12 publish amqp/queue $QUEUE"#,
            r#"L13 consume amqp/binding-key "order.*" ex="events" to="audit""#,
            r#"L14 consume amqp/binding-key "plain" ex="events" to="plain""#,
        ]
    );
    let expected = vec!["id@L6", "region@L6~", "rush@L8?", "ts@L9"];
    assert_eq!(fields_at(&f, 10), expected);
    assert_eq!(fields_at(&f, 11), expected);
    assert_eq!(fields_at(&f, 12), expected);
    assert!(fields_at(&f, 13).is_empty());
}

#[test]
fn producer_fields_nullable_through_variables_and_conditionals() {
    let f = facts(
        "import json\ndef send(r, o, region=None, note: Optional[str] = ''):\n    a = o.get('a')\n    b = None\n    if o.b:\n        b = o.b\n    c = o.c if o.c else None\n    r.rpush('q', json.dumps({'a': a, 'b': b, 'c': c, 'region': region, 'note': note, 'd': o.d, 'e': getattr(o, 'e', None), 'f': o.f or None}))\n",
    );
    assert_eq!(
        fields_at(&f, 8),
        vec![
            "a@L8~",
            "b@L8~",
            "c@L8~",
            "region@L8~",
            "note@L8~",
            "d@L8",
            "e@L8~",
            "f@L8~"
        ]
    );
}

#[test]
fn producer_fields_from_dict_calls_updates_and_splats() {
    let f = facts(
        "import json\ndef send(r, o):\n    base = {'id': o.id}\n    msg = dict(kind='order', **base)\n    msg.update({'x': 1}, y=None)\n    for k in o.extra:\n        msg.update(z=k)\n    r.lpush('q', json.dumps(msg))\n    r.lpush('q2', json.dumps({**base, 'w': 2}))\n",
    );
    assert_eq!(fields_at(&f, 8), vec!["kind@L4", "x@L5", "y@L5~", "z@L7?"]);
    assert_eq!(fields_at(&f, 9), vec!["id@L3", "w@L9"]);
}

#[test]
fn producer_fields_from_dataclasses_and_pydantic_models() {
    let f = facts(
        "import json\nfrom dataclasses import dataclass, asdict\nfrom pydantic import BaseModel\n\n@dataclass\nclass Order:\n    id: int\n    region: str | None = None\n    note: str = ''\n    qty: int\n\nclass Evt(BaseModel):\n    id: int\n\ndef produce(p, o):\n    order = Order(o.id)\n    p.produce('orders', value=json.dumps(asdict(order)).encode())\n    p.produce('orders', value=Order(id=1, region=o.region).model_dump_json())\n    e = Evt(id=None)\n    p.produce('evts', value=e.json())\n",
    );
    assert_eq!(fields_at(&f, 17), vec!["id@L16", "region@L16~", "note@L16"]);
    assert_eq!(fields_at(&f, 18), vec!["id@L18", "region@L18", "note@L18"]);
    assert_eq!(fields_at(&f, 20), vec!["id@L19~"]);
}

#[test]
fn unknown_bodies_have_no_fields() {
    let f = facts(
        "import json\ndef send(r, payload):\n    r.lpush('q', payload)\n    r.lpush('q', json.dumps(build()))\n    r.lpush('q', json.dumps([1, 2]))\n",
    );
    for line in [3, 4, 5] {
        assert!(fields_at(&f, line).is_empty(), "L{line}");
    }
}

const PIKA_CONSUMER: &str = r#"import json, pika

def on_message(ch, method, properties, body):
    msg = json.loads(body.decode())
    oid = msg["id"]
    region = msg.get("region")
    if region is None:
        region = "eu"
    ts = msg.get("ts", 0)
    name = msg["name"] or "anon"
    if msg["flag"]:
        pass
    if "opt" in msg:
        use(msg["opt"])
    other = {}.get("x")
    headers = properties.headers
    headers.get("trace")

def consume():
    ch = pika.BlockingConnection().channel()
    ch.basic_consume(queue="orders", on_message_callback=on_message)
"#;

#[test]
fn pika_consumer_fields_from_the_callback() {
    let f = facts(PIKA_CONSUMER);
    assert_eq!(queues(&f), vec![r#"L21 consume amqp/queue "orders""#]);
    assert_eq!(
        fields_at(&f, 21),
        vec![
            "id@L5",
            "region@L6?~",
            "ts@L9?",
            "name@L10~",
            "flag@L11~",
            "opt@L14?",
        ]
    );
}

#[test]
fn consumer_callbacks_that_are_methods_skip_self() {
    let f = facts(
        "import json\nclass C:\n    def on_msg(self, ch, method, props, body):\n        data = json.loads(body)\n        data['k']\n    def run(self):\n        self.ch.basic_consume('q', self.on_msg)\n",
    );
    assert_eq!(fields_at(&f, 7), vec!["k@L5"]);
}

#[test]
fn kombu_queues_producers_and_consumers() {
    let f = facts(
        "from kombu import Connection, Exchange, Queue, Consumer\nfrom pydantic import BaseModel\nex = Exchange('orders-ex', type='topic')\nq = Queue('orders-q', ex, routing_key='orders.#')\nclass Order(BaseModel):\n    id: int\ndef on_msg(body, message):\n    o = Order.parse_raw(body)\n    print(o.id, o.region)\n    if o.region:\n        pass\ndef run(conn):\n    producer = conn.Producer()\n    producer.publish({'id': 1, 'tag': None}, exchange=ex, routing_key='orders.new')\n    with Consumer(conn, queues=[q], callbacks=[on_msg]):\n        pass\n",
    );
    assert_eq!(
        queues(&f),
        vec![
            r#"L4 create amqp/queue "orders-q""#,
            r#"L4 consume amqp/binding-key "orders.#" ex=$ex to="orders-q""#,
            r#"L14 publish amqp/routing-key "orders.new" ex=$ex"#,
            "L15 consume amqp/queue $q",
        ]
    );
    assert_eq!(fields_at(&f, 14), vec!["id@L14", "tag@L14~"]);
    assert_eq!(fields_at(&f, 15), vec!["id@L9", "region@L9", "region@L10~"]);
    let ex = f.bindings.iter().find(|b| b.name == "ex").expect("ex");
    assert_eq!(show(&ex.value), r#""orders-ex""#);
}

#[test]
fn kafka_python_producer_and_consumers() {
    let f = facts(
        "import json\nfrom kafka import KafkaProducer, KafkaConsumer\nproducer = KafkaProducer(bootstrap_servers='k')\nproducer.send('orders', value={'id': 1})\nproducer.send(TOPIC, json.dumps({'x': None}).encode())\ndef loop():\n    consumer = KafkaConsumer('orders', 'returns', bootstrap_servers='k')\n    for message in consumer:\n        data = json.loads(message.value)\n        print(data['order_id'], data.get('note') or '', message.offset)\ndef other():\n    c = KafkaConsumer(bootstrap_servers='k')\n    c.subscribe(['a', 'b'])\n    c.subscribe(pattern='^orders\\\\..*')\n    c.subscribe(pattern='^(x|y)$')\n",
    );
    assert_eq!(
        queues(&f),
        vec![
            r#"L4 publish kafka/topic "orders""#,
            "L5 publish kafka/topic $TOPIC",
            r#"L7 consume kafka/topic "orders""#,
            r#"L7 consume kafka/topic "returns""#,
            r#"L13 consume kafka/topic "a""#,
            r#"L13 consume kafka/topic "b""#,
            r#"L14 consume kafka/topic g"orders.*""#,
            "L15 consume kafka/topic {regex}",
        ]
    );
    assert_eq!(fields_at(&f, 4), vec!["id@L4"]);
    assert_eq!(fields_at(&f, 5), vec!["x@L5~"]);
    assert_eq!(fields_at(&f, 7), vec!["order_id@L10", "note@L10?~"]);
}

#[test]
fn confluent_kafka_produce_and_poll_loop() {
    let f = facts(
        "import json\nfrom confluent_kafka import Producer, Consumer\ndef produce():\n    p = Producer({'bootstrap.servers': 'k'})\n    p.produce('orders', value=json.dumps({'id': 1}).encode())\ndef consume():\n    c = Consumer({'group.id': 'g'})\n    c.subscribe(['orders', '^orders\\\\..*$'])\n    while True:\n        msg = c.poll(1.0)\n        if msg is None:\n            continue\n        data = json.loads(msg.value())\n        handle(data['id'], data.get('region'))\n",
    );
    assert_eq!(
        queues(&f),
        vec![
            r#"L5 publish kafka/topic "orders""#,
            r#"L8 consume kafka/topic "orders""#,
            r#"L8 consume kafka/topic g"orders.*""#,
        ]
    );
    assert_eq!(fields_at(&f, 8), vec!["id@L14", "region@L14?"]);
}

#[test]
fn regexes_that_are_globs() {
    use super::effects::regex_to_glob;
    assert_eq!(regex_to_glob(r"^orders\..*$").as_deref(), Some("orders.*"));
    assert_eq!(regex_to_glob(r"^orders\..*").as_deref(), Some("orders.*"));
    assert_eq!(regex_to_glob(r"^logs-.$").as_deref(), Some("logs-?"));
    assert_eq!(regex_to_glob(r"^a.+$").as_deref(), Some("a?*"));
    assert_eq!(regex_to_glob(r"^exact$").as_deref(), Some("exact"));
    assert_eq!(regex_to_glob(r"^prefix").as_deref(), Some("prefix*"));
    assert_eq!(regex_to_glob(r"^[ab]-x$").as_deref(), Some("[ab]-x"));
    assert_eq!(regex_to_glob(r"^(a|b)$"), None);
    assert_eq!(regex_to_glob(r"^a\d+$"), None);
    assert_eq!(regex_to_glob(r"^a{2}$"), None);
    assert_eq!(regex_to_glob(r"^[a-z]+$"), None);
    assert_eq!(regex_to_glob("^[unclosed"), None);
    assert_eq!(regex_to_glob(r"\"), None);
}

#[test]
fn sqs_queue_urls_from_get_queue_url_and_environment() {
    let f = facts(
        "import boto3, json, os\nsqs = boto3.client('sqs')\nurl = sqs.get_queue_url(QueueName='jobs')['QueueUrl']\nresp = sqs.get_queue_url(QueueName='other')\nsqs.send_message(QueueUrl=url, MessageBody=json.dumps({'a': 1}))\nsqs.send_message(QueueUrl=resp['QueueUrl'], MessageBody='x')\nsqs.send_message(QueueUrl=os.environ['QUEUE_URL'], MessageBody='x')\nsqs.send_message_batch(QueueUrl=url, Entries=[])\n",
    );
    assert_eq!(
        queues(&f),
        vec![
            "L5 publish sqs/queue $url",
            "L6 publish sqs/queue $resp",
            "L7 publish sqs/queue env(QUEUE_URL)",
            "L8 publish sqs/queue $url",
        ]
    );
    let url = f.bindings.iter().find(|b| b.name == "url").expect("url");
    assert_eq!(show(&url.value), r#""jobs""#);
    let resp = f.bindings.iter().find(|b| b.name == "resp").expect("resp");
    assert_eq!(show(&resp.value), r#""other""#);
    assert_eq!(fields_at(&f, 5), vec!["a@L5"]);
    assert_has(&envs(&f), r#"L7 read "QUEUE_URL" = required"#);
}

#[test]
fn sqs_consumer_loop_reads_the_body() {
    let f = facts(
        "import boto3, json, os\nfrom pydantic import BaseModel\nclass Evt(BaseModel):\n    id: int\ndef worker():\n    sqs = boto3.client('sqs')\n    while True:\n        resp = sqs.receive_message(QueueUrl=os.environ['QUEUE_URL'], WaitTimeSeconds=20)\n        for m in resp.get('Messages', []):\n            body = json.loads(m['Body'])\n            evt = Evt.model_validate_json(m['Body'])\n            print(body['order_id'], m['ReceiptHandle'], evt.id)\n",
    );
    assert_eq!(queues(&f), vec!["L8 consume sqs/queue env(QUEUE_URL)"]);
    assert_eq!(fields_at(&f, 8), vec!["order_id@L12", "id@L12"]);
}

#[test]
fn sqs_resource_queues_and_sns() {
    let f = facts(
        "import boto3, json\nclass W:\n    def __init__(self):\n        self.sqs = boto3.resource('sqs')\n        self.queue = self.sqs.get_queue_by_name(QueueName='jobs')\n        self.sns = boto3.client('sns')\n    def run(self):\n        self.queue.send_message(MessageBody=json.dumps({'a': 1}))\n        q2 = self.sqs.Queue('https://sqs.eu-west-1.amazonaws.com/1/other')\n        q2.send_message(MessageBody='x')\n        self.sns.publish(TopicArn='arn:aws:sns:eu-west-1:1:events', Message=json.dumps({'t': None}))\n        other.publish(TopicArn='nope')\n",
    );
    assert_eq!(
        queues(&f),
        vec![
            "L8 publish sqs/queue $self.queue",
            "L10 publish sqs/queue $q2",
            r#"L11 publish sns/topic "arn:aws:sns:eu-west-1:1:events""#,
        ]
    );
    let queue = f
        .bindings
        .iter()
        .find(|b| b.name == "self.queue")
        .expect("self.queue");
    assert_eq!(show(&queue.value), r#""jobs""#);
    assert_eq!(fields_at(&f, 11), vec!["t@L11~"]);
}

#[test]
fn redis_lists_streams_and_pubsub() {
    let f = facts(
        "import json, redis\nr = redis.Redis()\nr.lpush('work', json.dumps({'k': 1}))\nr.rpush('work', 'x')\nr.xadd('stream1', {'order_id': 1, 'region': None})\nr.publish('events', json.dumps({'x': 1}))\nps = r.pubsub()\nps.subscribe('events', 'alerts')\nps.psubscribe('logs.*')\nother.publish('nope', 'x')\nother.subscribe('nope')\nother.lpush('untyped', 'y')\nlst = []\nlst.append(1)\n",
    );
    assert_eq!(
        queues(&f),
        vec![
            r#"L3 publish redis/queue "work""#,
            r#"L4 publish redis/queue "work""#,
            r#"L5 publish redis/stream "stream1""#,
            r#"L6 publish redis/channel "events""#,
            r#"L8 consume redis/channel "events""#,
            r#"L8 consume redis/channel "alerts""#,
            r#"L9 consume redis/channel g"logs.*""#,
            r#"L12 publish redis/queue "untyped""#,
        ]
    );
    assert_eq!(fields_at(&f, 5), vec!["order_id@L5", "region@L5~"]);
}

#[test]
fn redis_consumers_pop_read_streams_and_listen() {
    let f = facts(
        "import json, redis\nr = redis.Redis()\ndef work():\n    while True:\n        _, raw = r.brpop('work')\n        job = json.loads(raw)\n        job['k']\n        entries = r.xreadgroup('g', 'c', {'stream1': '>'}, count=10)\n        for stream, items in entries:\n            for mid, fields in items:\n                fields['order_id']\n        item = r.blpop(['a', 'b'])\n        json.loads(item[1])['z']\ndef listen():\n    p = r.pubsub()\n    p.subscribe('events')\n    for message in p.listen():\n        if message['type'] == 'message':\n            data = json.loads(message['data'])\n            data['e']\n",
    );
    assert_eq!(
        queues(&f),
        vec![
            r#"L5 consume redis/queue "work""#,
            r#"L8 consume redis/stream "stream1""#,
            r#"L12 consume redis/queue "a""#,
            r#"L12 consume redis/queue "b""#,
            r#"L16 consume redis/channel "events""#,
        ]
    );
    assert_eq!(fields_at(&f, 5), vec!["k@L7"]);
    assert_eq!(fields_at(&f, 8), vec!["order_id@L11"]);
    assert_eq!(fields_at(&f, 12), vec!["z@L13"]);
    assert_eq!(fields_at(&f, 16), vec!["e@L20"]);
}

#[test]
fn celery_tasks_by_name_and_default_name() {
    let f = facts(
        "from celery import Celery, shared_task\napp = Celery('svc')\n\n@app.task(name='orders.process')\ndef process(order_id, region=None):\n    if region is None:\n        region = 'eu'\n\n@shared_task\ndef cleanup(day, *args, **kwargs):\n    pass\n\n@app.task(bind=True)\ndef bound(self, x):\n    pass\n\n@app.task\ndef plain(y):\n    return y\n",
    );
    assert_eq!(
        queues(&f),
        vec![
            r#"L4 consume celery/task "orders.process""#,
            r#"L9 consume celery/task "loader.write.cleanup""#,
            r#"L13 consume celery/task "loader.write.bound""#,
            r#"L17 consume celery/task "loader.write.plain""#,
        ]
    );
    assert_eq!(fields_at(&f, 4), vec!["order_id@L5", "region@L5?~"]);
    assert_eq!(fields_at(&f, 9), vec!["day@L10"]);
    assert_eq!(fields_at(&f, 13), vec!["x@L14"]);
    let consume = f.accesses.iter().find(|a| a.line == 4).expect("task");
    assert_eq!(f.unit_name(consume.scope), "process");
}

#[test]
fn celery_task_calls_publish_to_the_task_name() {
    let f = facts(
        "from celery import Celery\nfrom tasks import remote\nimport jobs\napp = Celery('svc')\ndef send():\n    process.delay(5, region='us')\n    process.apply_async(args=[1], kwargs={'region': None})\n    app.send_task('orders.process', kwargs={'order_id': 1})\n    remote.delay(x=1)\n    jobs.cleanup.apply_async()\n    local = make()\n    local.delay(3)\n\n@app.task(name='orders.process', bind=True)\ndef process(self, order_id, region=None):\n    pass\n",
    );
    assert_eq!(
        queues(&f),
        vec![
            r#"L6 publish celery/task "orders.process""#,
            r#"L7 publish celery/task "orders.process""#,
            r#"L8 publish celery/task "orders.process""#,
            r#"L9 publish celery/task "tasks.remote""#,
            r#"L10 publish celery/task "jobs.cleanup""#,
            r#"L14 consume celery/task "orders.process""#,
        ]
    );
    assert_eq!(fields_at(&f, 6), vec!["region@L6", "order_id@L6"]);
    assert_eq!(fields_at(&f, 7), vec!["order_id@L7", "region@L7~"]);
    assert_eq!(fields_at(&f, 8), vec!["order_id@L8"]);
    assert_eq!(fields_at(&f, 9), vec!["x@L9"]);
    assert_eq!(fields_at(&f, 14), vec!["order_id@L15", "region@L15?"]);
}

// ---- triggers ----------------------------------------------------------------------------

#[test]
fn signal_handlers_by_name_number_and_import() {
    let f = facts(
        "import signal, asyncio\nfrom signal import SIGUSR1\ndef h(*a):\n    pass\nsignal.signal(signal.SIGHUP, h)\nsignal.signal(SIGUSR1, h)\nsignal.signal(15, h)\nsignal.signal(sig, h)\nloop = asyncio.get_event_loop()\nloop.add_signal_handler(signal.SIGTERM, h)\n",
    );
    assert_eq!(
        triggers(&f),
        vec![
            "L5  signal HUP",
            "L6  signal USR1",
            "L7  signal TERM",
            "L10  signal TERM",
        ]
    );
}

#[test]
fn routes_of_flask_fastapi_and_aiohttp() {
    let f = facts(
        "from flask import Flask\nfrom fastapi import FastAPI, APIRouter\nfrom aiohttp import web\napp = Flask(__name__)\napi = FastAPI()\nrouter = APIRouter()\n@app.route('/rotate', methods=['POST', 'put'])\ndef rotate():\n    pass\n@app.route('/health')\ndef health():\n    pass\n@api.post('/x')\nasync def x():\n    pass\n@router.get('/items/{id}')\ndef items(id):\n    pass\nroutes = web.RouteTableDef()\n@routes.post('/hook')\nasync def hook(request):\n    pass\nwapp = web.Application()\nwapp.router.add_post('/y', hook)\nwapp.add_routes([web.get('/z', hook)])\n",
    );
    assert_eq!(
        triggers(&f),
        vec![
            "L7 rotate route POST /rotate",
            "L7 rotate route PUT /rotate",
            "L10 health route GET /health",
            "L13 x route POST /x",
            "L16 items route GET /items/{id}",
            "L20 hook route POST /hook",
            "L24  route POST /y",
            "L25  route GET /z",
        ]
    );
}

#[test]
fn mock_patch_decorators_are_no_routes() {
    let f = facts(
        "import mock\nfrom unittest import mock as m\n@mock.patch('os.path.exists')\ndef test_a(exists):\n    pass\n@m.patch('nova.utils.execute', return_value=None)\ndef test_b(execute):\n    pass\n",
    );
    assert!(f.triggers.is_empty(), "{:?}", triggers(&f));
}

#[test]
fn http_clients_are_no_routes() {
    let f = facts(
        "import requests\ndef f(session, url):\n    session.get(url)\n    session.post(url, json={})\n    requests.get(url)\n",
    );
    assert!(f.triggers.is_empty(), "{:?}", triggers(&f));
}

#[test]
fn polled_request_files_and_service_loops() {
    let f = facts(
        "import os, time\nREQ = '/run/rotator/request'\nINTERVAL = 5\nwhile True:\n    if os.path.exists(REQ):\n        rotate()\n        os.remove(REQ)\n    for name in os.listdir('/spool'):\n        handle(name)\n    time.sleep(INTERVAL)\n",
    );
    assert_eq!(
        triggers(&f),
        vec![
            "L5  watch $REQ",
            r#"L8  watch join("/spool", g"*")"#,
            "L4  loop 5 seconds",
        ]
    );
    assert!(
        !paths(&f).iter().any(|p| p.contains("wait-for")),
        "{:?}",
        paths(&f)
    );
}

#[test]
fn loops_of_a_main_function_and_stop_flags() {
    let f = facts(
        "import time, threading\nstop = threading.Event()\nPERIOD = 60 * 5\ndef main():\n    while not stop.is_set():\n        work()\n        time.sleep(PERIOD)\ndef helper():\n    while True:\n        work()\n        time.sleep(1)\ndef run():\n    while True:\n        work()\n",
    );
    assert_eq!(triggers(&f), vec!["L5 main loop 300 seconds"]);
}

#[test]
fn watchdog_and_inotify_watches() {
    let f = facts(
        "from watchdog.observers import Observer\nimport inotify.adapters\nobs = Observer()\nobs.schedule(handler, '/run/req', recursive=False)\ndef watch():\n    i = inotify.adapters.Inotify()\n    i.add_watch('/etc/app')\ndef wait_for_token():\n    i = inotify.adapters.Inotify()\n    i.add_watch('/run/secrets')\n    for event in i.event_gen(timeout_s=60):\n        return True\n",
    );
    assert_eq!(
        triggers(&f),
        vec![r#"L4  watch "/run/req""#, r#"L7 watch watch "/etc/app""#]
    );
    assert_eq!(paths(&f), vec![r#"L10 wait-for "/run/secrets""#]);
}

#[test]
fn in_code_schedules() {
    let f = facts(
        "import schedule\nfrom apscheduler.schedulers.blocking import BlockingScheduler\nfrom apscheduler.triggers.cron import CronTrigger\nfrom apscheduler.triggers.interval import IntervalTrigger\nsched = BlockingScheduler()\nsched.add_job(rotate, 'interval', hours=8)\nsched.add_job(rotate, 'cron', hour='*/8')\nsched.add_job(func=rotate, trigger='cron', hour=3, minute=30)\nsched.add_job(rotate, CronTrigger.from_crontab('0 */8 * * *'))\nsched.add_job(rotate, IntervalTrigger(minutes=30))\nsched.add_job(rotate, 'date', run_date=d)\nsched.add_job(rotate, 'interval', hours=h)\nschedule.every(8).hours.do(rotate)\nschedule.every().day.at('02:00').do(rotate)\nschedule.every().monday.at('09:00').do(self.rotate)\nschedule.every(10).minutes\n@sched.scheduled_job('interval', hours=1)\ndef tick():\n    pass\ndef rotate():\n    pass\n",
    );
    assert_eq!(
        triggers(&f),
        vec![
            "L6 rotate schedule interval hours=8 | every 8 hours",
            "L7 rotate schedule 0 */8 * * * | every 8 hours, at minute 0",
            "L8 rotate schedule 30 3 * * * | every day at 03:30",
            "L9 rotate schedule 0 */8 * * * | every 8 hours, at minute 0",
            "L10 rotate schedule interval minutes=30 | every 30 minutes",
            "L13 rotate schedule every(8).hours | every 8 hours",
            "L14 rotate schedule every(1).day.at(02:00) | every day at 02:00",
            "L15 rotate schedule every(1).monday.at(09:00) | every Monday at 09:00",
            "L17 tick schedule interval hours=1 | every hour",
        ]
    );
}

// ---- sends -------------------------------------------------------------------------------

#[test]
fn signals_sent_to_pids_read_from_pid_files() {
    let f = facts(
        "import os, signal\nfrom pathlib import Path\nPID_FILE = '/run/rotator.pid'\ndef poke():\n    os.kill(int(open('/run/rotator.pid').read()), signal.SIGHUP)\n    pid = int(Path(PID_FILE).read_text().strip())\n    os.kill(pid, signal.SIGHUP)\n    with open('/run/x.pid') as fh:\n        os.kill(int(fh.read()), 10)\n    os.kill(os.getppid(), signal.SIGUSR2)\n    os.kill(proc.pid, signal.SIGTERM)\n",
    );
    assert_eq!(
        sends(&f),
        vec![
            r#"L5 poke signal HUP -> "/run/rotator.pid""#,
            "L7 poke signal HUP -> $PID_FILE",
            r#"L9 poke signal USR1 -> "/run/x.pid""#,
            "L10 poke signal USR2 -> {os.getppid}",
            "L11 poke signal TERM -> {proc.pid}",
        ]
    );
}

#[test]
fn commands_that_signal_or_request() {
    let f = facts(
        "import subprocess, os\nsubprocess.run(['pkill', '-HUP', 'rotator'])\nsubprocess.run(['pkill', '-f', 'rotator.py'])\nsubprocess.check_call(['sudo', 'systemctl', 'reload', 'rotator.service'])\nsubprocess.run('kill -HUP $(cat /run/rotator.pid)', shell=True)\nos.system('killall -s USR1 rotator; echo done')\nsubprocess.run(['kill', '-s', 'HUP', str(pid)])\nsubprocess.run(['systemctl', 'kill', '--signal=USR2', 'x'])\nsubprocess.run(['curl', '-X', 'POST', 'http://r/rotate'])\nsubprocess.run('kill -HUP 1')\nsubprocess.run(['ls', '-l'])\nsubprocess.run(['systemctl', 'restart', 'x'])\n",
    );
    assert_eq!(
        sends(&f),
        vec![
            r#"L2  signal HUP -> "rotator""#,
            r#"L3  signal TERM -> "rotator.py""#,
            r#"L4  signal HUP -> "rotator.service""#,
            r#"L5  signal HUP -> "/run/rotator.pid""#,
            r#"L6  signal USR1 -> "rotator""#,
            "L7  signal HUP -> {pid}",
            r#"L8  signal USR2 -> "x""#,
            r#"L9  http POST "http://r/rotate""#,
        ]
    );
}

#[test]
fn http_requests() {
    let f = facts(
        "import requests, httpx\nimport urllib.request\nfrom urllib.request import Request, urlopen\nrequests.post('http://rotator/rotate')\nhttpx.get(f'{BASE}/x')\nrequests.request('put', URL)\ns = requests.Session()\ns.post(URL, json={})\nurlopen(Request('http://r/a', method='POST'))\nurllib.request.urlopen('http://r/b', data=b'x')\nurlopen('http://r/c')\nwith httpx.Client() as c:\n    c.post('/d')\ndef f():\n    req = Request(URL, data=b'x')\n    urlopen(req)\n",
    );
    assert_eq!(
        sends(&f),
        vec![
            r#"L4  http POST "http://rotator/rotate""#,
            r#"L5  http GET cat($BASE, "/x")"#,
            "L6  http PUT $URL",
            "L8  http POST $URL",
            r#"L9  http POST "http://r/a""#,
            r#"L10  http POST "http://r/b""#,
            r#"L11  http GET "http://r/c""#,
            r#"L13  http POST "/d""#,
            "L16 f http POST $URL",
        ]
    );
}

// ---- waits -------------------------------------------------------------------------------

#[test]
fn waits_on_markers_secrets_and_retries() {
    let f = facts(
        "import os, time, boto3\nsm = boto3.client('secretsmanager')\ndef until_done():\n    while not os.path.exists('/data/done.marker'):\n        time.sleep(2)\ndef new_secret(before):\n    for _ in range(30):\n        v = sm.get_secret_value(SecretId='prod/api')\n        if v['VersionId'] != before:\n            return v\n        time.sleep(10)\ndef retry_read(p):\n    for attempt in range(5):\n        try:\n            return open(p).read()\n        except OSError:\n            time.sleep(1)\ndef flag_wait(p):\n    done = False\n    while not done:\n        if os.path.getmtime(p) > 0:\n            done = True\n        time.sleep(1)\n",
    );
    assert_eq!(
        paths(&f),
        vec![
            r#"L4 check "/data/done.marker""#,
            r#"L4 wait-for "/data/done.marker""#,
            "L15 read $p",
            "L15 wait-for $p",
            "L21 check $p",
            "L21 wait-for $p",
        ]
    );
    assert_eq!(
        secrets(&f),
        vec![
            r#"L8 read aws-secretsmanager "prod/api" via SecretsManager.get_secret_value"#,
            r#"L8 wait-for aws-secretsmanager "prod/api" via SecretsManager.get_secret_value"#,
        ]
    );
    assert!(f.triggers.is_empty(), "{:?}", triggers(&f));
}

#[test]
fn loops_without_a_sleep_or_over_data_are_no_waits() {
    let f = facts(
        "import os, time\ndef a(files):\n    for f in files:\n        if os.path.exists(f):\n            return f\n        time.sleep(1)\ndef b(p):\n    while True:\n        if os.path.exists(p):\n            return\n",
    );
    assert!(
        !paths(&f).iter().any(|p| p.contains("wait-for")),
        "{:?}",
        paths(&f)
    );
}

// ---- calls -------------------------------------------------------------------------------

#[test]
fn calls_are_qualified_through_imports_and_the_module() {
    let f = facts(
        "from auth import wait_for_refresh as wfr\nimport auth.tokens\nimport os\nclass C:\n    def m(self):\n        self.helper()\n        wfr()\n        auth.tokens.refresh()\n        local()\n        print(len([]))\n        obj.method()\n        os.path.join('a', 'b')\ndef local():\n    pass\n",
    );
    assert_eq!(
        calls(&f),
        vec![
            "L6 m self.helper",
            "L7 m auth.wait_for_refresh",
            "L8 m auth.tokens.refresh",
            "L9 m loader.write.local",
            "L11 m obj.method",
            "L12 m os.path.join",
        ]
    );
}

// ---- models ------------------------------------------------------------------------------

#[test]
fn user_rows_model_in_house_clients() {
    let mut models = models();
    models
        .load_file(
            "user.toml",
            r#"schema = 1
language = "python"
[[function]]
name = "acme.bus.connect"
returns = "acme.Bus"
[[method]]
name = "Bus.emit"
receiver-type = "acme.Bus"
queue = [{ broker = "kafka", role = "topic", mode = "publish", name = { arg = 0 }, body = { arg = 1 } }]
[[function]]
name = "acme.vault.fetch"
secret = [{ provider = "vault", mode = "read", id = { arg = 0 } }]
"#,
        )
        .expect("user model");
    let f = extract(
        "svc/app.py",
        "from acme import bus\nfrom acme.vault import fetch\nb = bus.connect()\nb.emit('orders', {'id': 1})\nx.emit('no', {})\nfetch('kv/api')\n",
        &models,
    );
    assert_eq!(queues(&f), vec![r#"L4 publish kafka/topic "orders""#]);
    assert_eq!(fields_at(&f, 4), vec!["id@L4"]);
    assert_eq!(
        secrets(&f),
        vec![r#"L6 read vault "kv/api" via acme.vault.fetch"#]
    );
}

#[test]
fn schema_errors_for_resource_rows_name_the_line() {
    use crate::rules::models::python::PythonModelFile;
    let cases = [
        (
            "[[method]]\nname = \"A.b\"\nqueue = [{ broker = \"mqtt\", role = \"topic\", mode = \"publish\", name = { arg = 0 } }]\n",
            "unknown broker",
        ),
        (
            "[[method]]\nname = \"A.b\"\nqueue = [{ broker = \"kafka\", role = \"topic\", mode = \"write\", name = { arg = 0 } }]\n",
            "unknown mode",
        ),
        (
            "[[function]]\nname = \"a.b\"\nreceiver-type = \"x\"\nreturns = \"y\"\n",
            "receiver-type",
        ),
        (
            "[[function]]\nname = \"a.b\"\nenv = [{ mode = \"read\", name = { receiver = true } }]\n",
            "only for [[method]]",
        ),
        (
            "[[function]]\nname = \"a.b\"\ntrigger = { kind = \"signal\" }\n",
            "needs `signal`",
        ),
        ("[[function]]\nname = \"a.b\"\n", "no `access`"),
        (
            "[[function]]\nname = \"a.b\"\nreturns = \"x\"\nreturns-fill = { arg = 0 }\n",
            "returns-fill",
        ),
        (
            "[[function]]\nname = \"a.b\"\nsend = { kind = \"smoke\" }\n",
            "unknown send kind",
        ),
        (
            "[[function]]\nname = \"a.b\"\ncodec = { kind = \"zip\", arg = 0 }\n",
            "unknown codec kind",
        ),
    ];
    for (row, message) in cases {
        let text = format!("schema = 1\nlanguage = \"python\"\n{row}");
        let err = PythonModelFile::parse("m.toml", &text).expect_err(row);
        assert!(err.message.contains(message), "{row}: {err}");
        assert!(err.line >= 3, "{row}: {err}");
    }
}

// ---- hostile input -----------------------------------------------------------------------

#[test]
fn malformed_and_deep_resource_code_does_not_panic() {
    let inputs = [
        "os.environ[",
        "os.environ[] = ",
        "'x' in",
        "signal.signal(",
        "channel.basic_publish(exchange=, routing_key=",
        "@app.task(\ndef f(",
        "@app.route\ndef f(): pass",
        "while True:\n    time.sleep(",
        "schedule.every(",
        "schedule.every(8).hours.do(",
        "subprocess.run('kill -HUP $(cat', shell=True)",
        "os.kill(int(open(",
        "class S(BaseSettings):\n    x: int = Field(",
        "def cb(ch, m, p, body):\n    json.loads(body)[\n",
        "r.xreadgroup('g', 'c', {",
    ];
    for input in inputs {
        let _ = facts(&format!(
            "import os, json, signal, time, subprocess, schedule\n{input}"
        ));
    }
    let n = 2000;
    let deep = format!(
        "import redis, json\nr = redis.Redis()\nx = {}'q'{}\n",
        "r.lpush(json.dumps(".repeat(n),
        "), 1)".repeat(n)
    );
    let _ = facts(&deep);
    let deep = format!(
        "import os\nx = {}'X'{}\n",
        "os.getenv(".repeat(n),
        ")".repeat(n)
    );
    let _ = facts(&deep);
    let mut chain = String::from("import schedule\nschedule.every(1)");
    for _ in 0..3000 {
        chain.push_str(".hours");
    }
    chain.push_str(".do(f)\n");
    let _ = facts(&chain);
    let mut nested = String::from("import time, os\n");
    for i in 0..100 {
        nested.push_str(&" ".repeat(i * 4));
        nested.push_str("while True:\n");
    }
    nested.push_str(&" ".repeat(400));
    nested.push_str("os.path.exists('/x'); time.sleep(1)\n");
    let _ = facts(&nested);
}

#[test]
fn imported_objects_match_typed_rows_but_not_path_rows() {
    let f = facts(
        "from app.cache import redis_client\nfrom app import storage\nfrom app.models import Order\nredis_client.lpush('jobs', 'x')\nstorage.rename(key)\nstorage.unlink()\nOrder.parse_raw(b)\n",
    );
    assert_eq!(queues(&f), vec![r#"L4 publish redis/queue "jobs""#]);
    assert!(paths(&f).is_empty(), "{:?}", paths(&f));
    assert_has(&calls(&f), "L5  app.storage.rename");
    assert!(
        !calls(&f).iter().any(|c| c.contains("parse_raw")),
        "a codec row matched: {:?}",
        calls(&f)
    );
}

#[test]
fn a_service_loop_with_a_stop_file_still_serves_its_request_file() {
    let f = facts(
        "import os, time\nwhile True:\n    if os.path.exists('/run/stop'):\n        break\n    if os.path.exists('/run/request'):\n        rotate()\n    time.sleep(5)\n",
    );
    assert_eq!(
        triggers(&f),
        vec![r#"L5  watch "/run/request""#, "L2  loop 5 seconds"]
    );
    assert_eq!(
        paths(&f),
        vec![
            r#"L3 check "/run/stop""#,
            r#"L5 check "/run/request""#,
            r#"L3 wait-for "/run/stop""#,
        ]
    );
}

#[test]
fn a_forever_loop_that_returns_on_change_is_a_wait() {
    let f = facts(
        "import os, time\ndef wait_change(p, before):\n    while True:\n        now = os.path.getmtime(p)\n        if now != before:\n            return now\n        time.sleep(1)\n",
    );
    assert_eq!(paths(&f), vec!["L4 check $p", "L4 wait-for $p"]);
    assert!(f.triggers.is_empty(), "{:?}", triggers(&f));
}
