//! Tests of the Rust extractor's credentials, queues, message fields, triggers, sends, waits
//! and calls: one per idiom, with controls.

use super::extract;
use crate::expr::{Expr, ScopeId};
use crate::extract::{
    Broker, FieldUse, FileFacts, QueueRole, QueueTarget, RawAccess, RawResource, SendKind,
    TriggerKind,
};
use crate::model::Mode;
use crate::rules::models::Models;

// --- helpers ---------------------------------------------------------------------------------

fn models() -> Models {
    match Models::builtin() {
        Ok(models) => models,
        Err(e) => panic!("built-in models must load: {e}"),
    }
}

fn facts(source: &str) -> FileFacts {
    let facts = extract("src/app.rs", source, &models());
    assert_eq!(facts.warnings, vec![], "unexpected warnings");
    facts
}

fn lit(text: &str) -> Expr {
    Expr::lit(text)
}

fn var(name: &str, scope: ScopeId, line: u32) -> Expr {
    Expr::Var {
        name: name.to_string().into(),
        scope,
        line,
        env_fallback: false,
        default: None,
    }
}

fn scope_id(facts: &FileFacts, name: &str) -> ScopeId {
    match facts.scopes.iter().position(|s| s.name == name) {
        Some(id) => id,
        None => panic!("no scope named {name}: {:?}", facts.scopes),
    }
}

/// (name, mode, value, line) of every environment access.
fn env_accesses(facts: &FileFacts) -> Vec<(String, Mode, Option<Expr>, u32)> {
    facts
        .accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Env(t) => {
                let name = t.name.as_lit().unwrap_or("?").to_string();
                Some((name, a.mode, t.value.clone(), a.line))
            }
            _ => None,
        })
        .collect()
}

/// (provider, id, mode, line) of every secret access.
fn secret_accesses(facts: &FileFacts) -> Vec<(String, Expr, Mode, u32)> {
    facts
        .accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Secret(t) => Some((t.provider.clone(), t.id.clone(), a.mode, a.line)),
            _ => None,
        })
        .collect()
}

fn queue_accesses(facts: &FileFacts) -> Vec<(&QueueTarget, Mode, u32)> {
    facts
        .accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Queue(t) => Some((t, a.mode, a.line)),
            _ => None,
        })
        .collect()
}

/// (broker, role, name, mode, line) of every queue access.
fn queues(facts: &FileFacts) -> Vec<(Broker, QueueRole, Expr, Mode, u32)> {
    queue_accesses(facts)
        .into_iter()
        .map(|(t, mode, line)| (t.broker, t.role, t.name.clone(), mode, line))
        .collect()
}

fn path_accesses(facts: &FileFacts) -> Vec<&RawAccess> {
    facts
        .accesses
        .iter()
        .filter(|a| a.resource.as_path().is_some())
        .collect()
}

/// (mode, path, line) of every path access.
fn paths(facts: &FileFacts) -> Vec<(Mode, Expr, u32)> {
    path_accesses(facts)
        .into_iter()
        .filter_map(|a| Some((a.mode, a.resource.as_path()?.expr.clone(), a.line)))
        .collect()
}

fn triggers(facts: &FileFacts) -> Vec<(TriggerKind, u32)> {
    facts
        .triggers
        .iter()
        .map(|t| (t.kind.clone(), t.line))
        .collect()
}

fn sends(facts: &FileFacts) -> Vec<(SendKind, u32)> {
    facts
        .sends
        .iter()
        .map(|s| (s.kind.clone(), s.line))
        .collect()
}

fn callees(facts: &FileFacts) -> Vec<(String, ScopeId, u32)> {
    facts
        .calls
        .iter()
        .map(|c| (c.callee.to_string(), c.scope, c.line))
        .collect()
}

fn field(name: &str, line: u32, nullable: bool, optional: bool) -> FieldUse {
    FieldUse {
        name: name.to_string(),
        line,
        nullable,
        optional,
    }
}

fn signal(name: &str) -> TriggerKind {
    TriggerKind::Signal {
        signal: name.to_string(),
    }
}

fn every(interval: &str) -> TriggerKind {
    TriggerKind::Loop {
        interval: Some(interval.to_string()),
    }
}

// --- environment variables -------------------------------------------------------------------

#[test]
fn environment_reads_required_with_defaults_and_tolerated() {
    let source = r#"use std::env;
fn f() -> Result<(), Box<dyn std::error::Error>> {
    let a = env::var("A")?;
    let b = env::var("B").unwrap();
    let c = env::var("C").expect("C is set");
    let d = env::var("D").unwrap_or("d".to_string());
    let e = env::var("E").unwrap_or_else(|_| "e".into());
    let f = env::var("F").unwrap_or_default();
    let g = env::var("G").ok();
    let h = env::var("H").ok().unwrap_or_else(|| "h".to_string());
    let i = env::var("I").map_or(5, |v| v.len());
    if let Ok(j) = env::var("J") { println!("{j}"); }
    let k = std::env::var_os("K").is_some();
    let l = env::var("L").map_err(|e| e.to_string())?;
    let m = env::var("M").unwrap_or_else(|_| panic!("M"));
    Ok(())
}
"#;
    let found = env_accesses(&facts(source));
    let expected = vec![
        ("A".to_string(), Mode::Read, None, 3),
        ("B".to_string(), Mode::Read, None, 4),
        ("C".to_string(), Mode::Read, None, 5),
        ("D".to_string(), Mode::Read, Some(lit("d")), 6),
        ("E".to_string(), Mode::Read, Some(lit("e")), 7),
        ("F".to_string(), Mode::Read, Some(lit("")), 8),
        ("G".to_string(), Mode::Read, Some(Expr::hole("unset")), 9),
        ("H".to_string(), Mode::Read, Some(lit("h")), 10),
        ("I".to_string(), Mode::Read, Some(lit("5")), 11),
        ("J".to_string(), Mode::Read, Some(Expr::hole("unset")), 12),
        ("K".to_string(), Mode::Check, None, 13),
        ("L".to_string(), Mode::Read, None, 14),
        ("M".to_string(), Mode::Read, None, 15),
    ];
    assert_eq!(found, expected);
}

#[test]
fn environment_reads_have_their_model_and_scope() {
    let facts = facts("fn f() { let _ = dotenvy::var(\"TOKEN\"); }\n");
    let access = &facts.accesses[0];
    assert_eq!(access.via, "dotenvy::var");
    assert_eq!(access.scope, scope_id(&facts, "f"));
}

#[test]
fn match_on_an_environment_read_takes_the_fallback_arm() {
    let source = r#"use std::env;
fn f() -> String {
    let a = match env::var("A") { Ok(v) => v, Err(_) => "/etc/a".to_string() };
    let b = match env::var("B") { Ok(v) => v, Err(e) => panic!("{e}") };
    let c = match env::var("C").as_deref() { Err(_) | Ok("") => "c", Ok(v) => v, _ => panic!() };
    a + &b + c
}
"#;
    let found = env_accesses(&facts(source));
    assert_eq!(
        found,
        vec![
            ("A".to_string(), Mode::Read, Some(lit("/etc/a")), 3),
            ("B".to_string(), Mode::Read, None, 4),
            ("C".to_string(), Mode::Read, Some(lit("c")), 5),
        ]
    );
}

#[test]
fn set_var_and_command_env_set_variables() {
    let source = r#"use std::process::Command;
fn f(token: &str) {
    unsafe { std::env::set_var("API_TOKEN", token) };
    Command::new("/opt/bin/sync").env("REGION", "eu").status().ok();
}
"#;
    let facts = facts(source);
    let f = scope_id(&facts, "f");
    assert_eq!(
        env_accesses(&facts),
        vec![
            (
                "API_TOKEN".to_string(),
                Mode::Set,
                Some(var("token", f, 3)),
                3
            ),
            ("REGION".to_string(), Mode::Set, Some(lit("eu")), 4),
        ]
    );
}

#[test]
fn a_rows_required_identifier_is_looked_for_among_the_files_tokens_only() {
    // `env` with two arguments is a variable set only where the file names `Command`: in a
    // comment or a string it does not count, as a token anywhere it does.
    let builder = "fn f(b: Builder) {\n    b.env(\"REGION\", \"eu\");\n}\n";
    for (header, sets) in [
        ("// Command\nconst NOTE: &str = \"Command\";\n", false),
        ("", false),
        ("type Cmd = std::process::Command;\n", true),
    ] {
        let facts = facts(&format!("{header}{builder}"));
        let found: Vec<String> = env_accesses(&facts).into_iter().map(|a| a.0).collect();
        let expected = if sets {
            vec!["REGION".to_string()]
        } else {
            vec![]
        };
        assert_eq!(found, expected, "{header:?}");
    }
}

#[test]
fn compile_time_environment_macros_are_reads() {
    let source = r#"const A: &str = env!("BUILD_A");
const B: &str = match option_env!("BUILD_B") { Some(v) => v, None => "b" };
fn f() -> &'static str { option_env!("BUILD_C").unwrap_or("c") }
fn g() -> Option<&'static str> { option_env!("BUILD_D") }
"#;
    let facts = facts(source);
    let vias: Vec<&str> = facts.accesses.iter().map(|a| a.via.as_str()).collect();
    assert_eq!(
        vias,
        vec!["env!", "option_env!", "option_env!", "option_env!"]
    );
    assert_eq!(
        env_accesses(&facts),
        vec![
            ("BUILD_A".to_string(), Mode::Read, None, 1),
            (
                "BUILD_B".to_string(),
                Mode::Read,
                Some(Expr::hole("unset")),
                2
            ),
            ("BUILD_C".to_string(), Mode::Read, Some(lit("c")), 3),
            (
                "BUILD_D".to_string(),
                Mode::Read,
                Some(Expr::hole("unset")),
                4
            ),
        ]
    );
}

#[test]
fn environment_reads_inside_paths_still_translate_to_env() {
    let source = "use std::{env, fs, path::PathBuf};\nfn f() { fs::write(PathBuf::from(env::var(\"OUT\").unwrap_or(\"/tmp\".into())).join(\"x\"), \"\").ok(); }\n";
    let facts = facts(source);
    assert_eq!(
        env_accesses(&facts),
        vec![("OUT".to_string(), Mode::Read, Some(lit("/tmp")), 2)]
    );
    let expected = Expr::Join {
        parts: vec![
            Expr::Env {
                name: "OUT".to_string().into(),
                default: Some(Box::new(lit("/tmp"))),
            },
            lit("x"),
        ],
    };
    assert_eq!(paths(&facts), vec![(Mode::Write, expected, 2)]);
}

#[test]
fn clap_fields_read_the_environment() {
    let source = r#"use clap::Parser;
#[derive(Parser)]
struct Args {
    #[arg(long, env = "API_TOKEN")]
    token: String,
    #[arg(long, env = "REGION", default_value = "eu-west-1")]
    region: String,
    #[clap(long, env)]
    poll_secs: Option<u64>,
    #[arg(long, env = "VERBOSE")]
    verbose: bool,
    #[arg(long)]
    not_env: String,
}
"#;
    assert_eq!(
        env_accesses(&facts(source)),
        vec![
            // At the attribute's line, where the variable is named.
            ("API_TOKEN".to_string(), Mode::Read, None, 4),
            ("REGION".to_string(), Mode::Read, Some(lit("eu-west-1")), 6),
            (
                "POLL_SECS".to_string(),
                Mode::Read,
                Some(Expr::hole("unset")),
                8
            ),
            ("VERBOSE".to_string(), Mode::Read, Some(lit("false")), 10),
        ]
    );
}

#[test]
fn envy_reads_one_variable_per_field() {
    let source = r#"use serde::Deserialize;
#[derive(Deserialize)]
struct Config {
    database_url: String,
    port: Option<u16>,
    #[serde(default)]
    workers: usize,
}
fn load() -> Config {
    envy::prefixed("APP_").from_env::<Config>().unwrap()
}
fn load2() -> Result<Config, envy::Error> {
    let c: Config = envy::from_env()?;
    Ok(c)
}
"#;
    let found = env_accesses(&facts(source));
    assert_eq!(
        found,
        vec![
            ("APP_DATABASE_URL".to_string(), Mode::Read, None, 10),
            (
                "APP_PORT".to_string(),
                Mode::Read,
                Some(Expr::hole("unset")),
                10
            ),
            (
                "APP_WORKERS".to_string(),
                Mode::Read,
                Some(Expr::hole("default")),
                10
            ),
            ("DATABASE_URL".to_string(), Mode::Read, None, 13),
            (
                "PORT".to_string(),
                Mode::Read,
                Some(Expr::hole("unset")),
                13
            ),
            (
                "WORKERS".to_string(),
                Mode::Read,
                Some(Expr::hole("default")),
                13
            ),
        ]
    );
}

#[test]
fn environment_reads_in_test_code_are_skipped() {
    let source = r#"use std::env;
fn real() { let _ = env::var("REAL"); }
#[cfg(test)]
mod tests {
    #[test]
    fn t() { let _ = std::env::var("IN_TEST"); }
}
#[test]
fn also() { std::env::set_var("X", "1"); }
"#;
    let names: Vec<String> = env_accesses(&facts(source))
        .into_iter()
        .map(|(n, ..)| n)
        .collect();
    assert_eq!(names, vec!["REAL".to_string()]);
}

#[test]
fn maps_and_vecs_are_not_environment_or_queue_uses() {
    let source = r#"use std::collections::HashMap;
fn f(m: &HashMap<String, String>, v: &mut Vec<u8>) {
    let _ = m.get("API_TOKEN");
    v.push(1);
    let _ = m.get("orders").unwrap_or(&String::new());
}
"#;
    let facts = facts(source);
    assert_eq!(facts.accesses, vec![]);
    assert_eq!(facts.sends, vec![]);
}

// --- secret managers -------------------------------------------------------------------------

#[test]
fn aws_secrets_manager_builders_read_set_and_rotate() {
    let source = r#"use aws_sdk_secretsmanager::Client;
const SECRET_ID: &str = "prod/api-token";
async fn f(client: &Client) -> anyhow::Result<()> {
    let value = client
        .get_secret_value()
        .secret_id(SECRET_ID)
        .send()
        .await?;
    client.put_secret_value().secret_id("prod/api-token").secret_string("x").send().await?;
    client.rotate_secret().secret_id(SECRET_ID).send().await?;
    Ok(())
}
"#;
    let facts = facts(source);
    let f = scope_id(&facts, "f");
    assert_eq!(
        secret_accesses(&facts),
        vec![
            (
                "aws-secretsmanager".to_string(),
                var("SECRET_ID", f, 6),
                Mode::Read,
                4
            ),
            (
                "aws-secretsmanager".to_string(),
                lit("prod/api-token"),
                Mode::Set,
                9
            ),
            (
                "aws-secretsmanager".to_string(),
                var("SECRET_ID", f, 10),
                Mode::Rotate,
                10
            ),
        ]
    );
    let vias: Vec<&str> = facts.accesses.iter().map(|a| a.via.as_str()).collect();
    assert_eq!(
        vias,
        vec![
            "aws_sdk_secretsmanager::Client::get_secret_value",
            "aws_sdk_secretsmanager::Client::put_secret_value",
            "aws_sdk_secretsmanager::Client::rotate_secret",
        ]
    );
}

#[test]
fn ssm_vault_and_gcp_secrets() {
    let source = r#"use vaultrs::kv2;
async fn f(ssm: &aws_sdk_ssm::Client, vault: &vaultrs::client::VaultClient) {
    ssm.get_parameter().name("/prod/db/password").with_decryption(true).send().await.ok();
    let s: Creds = kv2::read(vault, "secret", "api/token").await.unwrap();
    kv2::set(vault, "secret", "api/token", &s).await.ok();
}
"#;
    assert_eq!(
        secret_accesses(&facts(source)),
        vec![
            (
                "aws-ssm".to_string(),
                lit("/prod/db/password"),
                Mode::Read,
                3
            ),
            ("vault".to_string(), lit("secret/api/token"), Mode::Read, 4),
            ("vault".to_string(), lit("secret/api/token"), Mode::Set, 5),
        ]
    );
    let gcp = "use google_cloud_secretmanager_v1::client::SecretManagerService;\nasync fn f(c: &SecretManagerService) { c.access_secret_version().set_name(\"projects/p/secrets/token/versions/latest\").send().await.ok(); }\n";
    assert_eq!(
        secret_accesses(&facts(gcp)),
        vec![(
            "gcp-secretmanager".to_string(),
            lit("projects/p/secrets/token/versions/latest"),
            Mode::Read,
            2
        )]
    );
}

#[test]
fn secret_methods_need_their_crate_in_the_file() {
    let source = "fn f(c: &Cache) { c.get_secret_value().secret_id(\"x\").send(); }\n";
    assert_eq!(secret_accesses(&facts(source)), vec![]);
}

// --- queues ----------------------------------------------------------------------------------

const ORDER_PRODUCER: &str = r#"use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::Serialize;
use std::time::Duration;

#[derive(Serialize)]
struct Order {
    id: u64,
    #[serde(rename = "region")]
    region_code: Option<String>,
}

pub async fn publish(producer: &FutureProducer, order: &Order) {
    let json = serde_json::to_vec(order).unwrap();
    let record = FutureRecord::to("orders").key("k").payload(&json);
    producer.send(record, Duration::from_secs(5)).await.ok();
}
"#;

#[test]
fn rdkafka_producer_publishes_order_fields() {
    let facts = facts(ORDER_PRODUCER);
    let found = queue_accesses(&facts);
    let [(target, mode, line)] = found.as_slice() else {
        panic!("expected one queue access: {:#?}", facts.accesses);
    };
    assert_eq!((*mode, *line), (Mode::Publish, 14));
    assert_eq!(
        (target.broker, target.role, &target.name),
        (Broker::Kafka, QueueRole::Topic, &lit("orders"))
    );
    assert_eq!(
        target.fields,
        vec![
            field("id", 7, false, false),
            field("region", 9, true, false)
        ]
    );
    assert_eq!(facts.accesses[0].via, "rdkafka::producer::FutureRecord::to");
}

#[test]
fn payloads_through_struct_literals_typed_lets_and_json_macros() {
    let source = r#"use rdkafka::producer::BaseRecord;
use serde::Serialize;
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    event_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(flatten)]
    extra: Extra,
    #[serde(skip)]
    cache: u8,
}
fn a(p: &P) {
    let e = Event { event_id: "1".into(), trace_id: None, tags: vec![], extra: Extra, cache: 0 };
    p.send(BaseRecord::to("events").payload(&serde_json::to_string(&e).unwrap()));
}
fn b(p: &P, x: Thing) {
    let e: Event = make();
    let body = serde_json::to_string(&e).unwrap();
    p.send(BaseRecord::to("events.b").payload(body.as_bytes()));
    p.send(BaseRecord::to("other").payload(&serde_json::to_vec(&x).unwrap()));
}
fn c(p: &P, id: u64) {
    let body = serde_json::json!({"id": id, "region": null});
    p.send(BaseRecord::to("json").payload(&body.to_string()));
}
"#;
    let facts = facts(source);
    let expected_event = vec![
        field("eventId", 6, false, false),
        field("traceId", 8, false, true),
        field("tags", 10, false, true),
    ];
    let found: Vec<(Expr, Vec<FieldUse>)> = queue_accesses(&facts)
        .into_iter()
        .map(|(t, _, _)| (t.name.clone(), t.fields.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            (lit("events"), expected_event.clone()),
            (lit("events.b"), expected_event),
            (lit("other"), vec![]),
            (
                lit("json"),
                vec![
                    field("id", 27, false, false),
                    field("region", 27, true, false)
                ]
            ),
        ]
    );
}

#[test]
fn a_struct_that_is_never_serialised_contributes_no_fields() {
    let source = r#"use rdkafka::producer::FutureRecord;
#[derive(serde::Serialize)]
struct Order { id: u64 }
fn f(p: &P, raw: &[u8]) {
    let _unused = Order { id: 1 };
    p.send(FutureRecord::to("orders").payload(raw), 0);
}
"#;
    let facts = facts(source);
    let found = queue_accesses(&facts);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0.fields, vec![]);
}

#[test]
fn kafka_subscriptions_are_one_consume_per_topic_and_regexes_are_globs() {
    let source = r#"use rdkafka::consumer::{Consumer, StreamConsumer};
fn f(c: &StreamConsumer) {
    c.subscribe(&["orders", "refunds"]).unwrap();
    c.subscribe(&["^orders\\..*"]).unwrap();
    c.subscribe(&["^(a|b)"]).unwrap();
}
"#;
    let found: Vec<(Expr, Mode, u32)> = queues(&facts(source))
        .into_iter()
        .map(|(_, _, name, mode, line)| (name, mode, line))
        .collect();
    assert_eq!(
        found,
        vec![
            (lit("orders"), Mode::Consume, 3),
            (lit("refunds"), Mode::Consume, 3),
            (Expr::glob("orders.*"), Mode::Consume, 4),
            (Expr::hole("topic pattern"), Mode::Consume, 5),
        ]
    );
}

#[test]
fn consumers_read_the_fields_of_what_they_decode() {
    let source = r#"use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::Message;
#[derive(serde::Deserialize)]
#[serde(default)]
struct Order {
    id: u64,
    region: Option<String>,
}
#[derive(serde::Deserialize)]
struct Config { brokers: String }
async fn run(c: StreamConsumer) {
    let cfg: Config = serde_json::from_str(&std::fs::read_to_string("/etc/app.json").unwrap()).unwrap();
    c.subscribe(&["orders"]).unwrap();
    loop {
        let msg = c.recv().await.unwrap();
        let order: Order = serde_json::from_slice(msg.payload().unwrap_or_default()).unwrap();
    }
}
"#;
    let facts = facts(source);
    let found = queue_accesses(&facts);
    let [(target, Mode::Consume, 13)] = found.as_slice() else {
        panic!("expected one consume: {found:#?}");
    };
    assert_eq!(
        target.fields,
        vec![field("id", 6, false, true), field("region", 7, true, true)]
    );
}

#[test]
fn consumers_read_the_keys_of_untyped_messages() {
    let source = r#"use redis::Commands;
fn work(con: &mut redis::Connection, m: &std::collections::HashMap<String, String>) {
    let (_, raw): (String, String) = con.brpop("jobs", 0.0).unwrap();
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let id = v["id"].as_u64();
    let region = v.get("region").and_then(|r| r.as_str()).unwrap_or("eu");
    let other = m.get("not-a-field");
}
"#;
    let facts = facts(source);
    let found = queue_accesses(&facts);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].0.fields,
        vec![
            field("id", 5, false, false),
            field("region", 6, false, true)
        ]
    );
}

#[test]
fn consumers_read_fields_decoded_by_a_handler_of_the_same_file() {
    let source = r#"use lapin::{Channel, options::*, types::FieldTable};
#[derive(serde::Deserialize)]
struct Refund { order_id: u64, reason: Option<String> }
fn handle(data: &[u8]) {
    let r = serde_json::from_slice::<Refund>(data).unwrap();
}
async fn consume(ch: &Channel) {
    let mut consumer = ch.basic_consume("refunds", "tag", BasicConsumeOptions::default(), FieldTable::default()).await.unwrap();
    while let Some(d) = consumer.next().await { handle(&d.unwrap().data); }
}
"#;
    let facts = facts(source);
    let found = queue_accesses(&facts);
    assert_eq!(found.len(), 1);
    let (target, mode, line) = &found[0];
    assert_eq!(
        (target.broker, target.role, &target.name, *mode, *line),
        (
            Broker::Amqp,
            QueueRole::Queue,
            &lit("refunds"),
            Mode::Consume,
            8
        )
    );
    assert_eq!(
        target.fields,
        vec![
            field("order_id", 3, false, false),
            field("reason", 3, true, true)
        ]
    );
}

#[test]
fn lapin_publish_declare_and_bind() {
    let source = r#"use lapin::{options::*, types::FieldTable, BasicProperties, Channel};
async fn f(ch: &Channel, body: &[u8]) {
    ch.queue_declare("orders", QueueDeclareOptions::default(), FieldTable::default()).await.ok();
    ch.basic_publish("", "orders", BasicPublishOptions::default(), body, BasicProperties::default()).await.ok();
    ch.basic_publish("events", "orders.eu.created", BasicPublishOptions::default(), body, BasicProperties::default()).await.ok();
    ch.queue_bind("audit", "events", "orders.*.created", QueueBindOptions::default(), FieldTable::default()).await.ok();
}
"#;
    let facts = facts(source);
    type Row = (QueueRole, Expr, Option<Expr>, Option<Expr>, Mode, u32);
    let found: Vec<Row> = queue_accesses(&facts)
        .into_iter()
        .map(|(t, mode, line)| {
            (
                t.role,
                t.name.clone(),
                t.exchange.clone(),
                t.bound_queue.clone(),
                mode,
                line,
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (QueueRole::Queue, lit("orders"), None, None, Mode::Create, 3),
            (
                QueueRole::Queue,
                lit("orders"),
                None,
                None,
                Mode::Publish,
                4
            ),
            (
                QueueRole::RoutingKey,
                lit("orders.eu.created"),
                Some(lit("events")),
                None,
                Mode::Publish,
                5
            ),
            (
                QueueRole::BindingKey,
                lit("orders.*.created"),
                Some(lit("events")),
                Some(lit("audit")),
                Mode::Consume,
                6
            ),
        ]
    );
}

#[test]
fn sqs_send_receive_and_queue_url_lookups() {
    let source = r#"use aws_sdk_sqs::Client;
#[derive(serde::Serialize)]
struct Job { id: u32 }
async fn f(client: &Client, job: Job) -> anyhow::Result<()> {
    let url = client.get_queue_url().queue_name("jobs").send().await?.queue_url().unwrap_or_default().to_string();
    client.send_message().queue_url(&url).message_body(serde_json::to_string(&job)?).send().await?;
    let env_url = std::env::var("QUEUE_URL")?;
    client.receive_message().queue_url(env_url).send().await?;
    Ok(())
}
"#;
    let facts = facts(source);
    let f = scope_id(&facts, "f");
    let found = queue_accesses(&facts);
    assert_eq!(found.len(), 2);
    assert_eq!(
        (found[0].0.broker, &found[0].0.name, found[0].1, found[0].2),
        (Broker::Sqs, &var("url", f, 6), Mode::Publish, 6)
    );
    assert_eq!(found[0].0.fields, vec![field("id", 3, false, false)]);
    assert_eq!(
        (&found[1].0.name, found[1].1),
        (&var("env_url", f, 8), Mode::Consume)
    );
    let url = facts.bindings.iter().find(|b| b.name == "url");
    assert_eq!(url.map(|b| (*b.value).clone()), Some(lit("jobs")));
}

#[test]
fn redis_lists_streams_channels_and_commands() {
    let source = r#"use redis::Commands;
fn f(con: &mut redis::Connection) -> redis::RedisResult<()> {
    con.lpush("jobs", "x")?;
    let _: (String, String) = con.brpop("jobs", 5.0)?;
    con.xadd("events", "*", &[("k", "v")])?;
    con.publish("alerts", "x")?;
    redis::cmd("RPUSH").arg("jobs:retry").arg("x").query::<()>(con)?;
    redis::cmd("GET").arg("not-a-queue").query::<String>(con)?;
    Ok(())
}
"#;
    let found: Vec<(QueueRole, Expr, Mode, u32)> = queues(&facts(source))
        .into_iter()
        .map(|(broker, role, name, mode, line)| {
            assert_eq!(broker, Broker::Redis);
            (role, name, mode, line)
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (QueueRole::Queue, lit("jobs"), Mode::Publish, 3),
            (QueueRole::Queue, lit("jobs"), Mode::Consume, 4),
            (QueueRole::Stream, lit("events"), Mode::Publish, 5),
            (QueueRole::Channel, lit("alerts"), Mode::Publish, 6),
            (QueueRole::Queue, lit("jobs:retry"), Mode::Publish, 7),
        ]
    );
}

#[test]
fn nats_subjects() {
    let source = r#"async fn f(client: async_nats::Client) {
    client.publish("orders.created", "x".into()).await.ok();
    let mut sub = client.subscribe("orders.*").await.unwrap();
}
"#;
    assert_eq!(
        queues(&facts(source)),
        vec![
            (
                Broker::Nats,
                QueueRole::Topic,
                lit("orders.created"),
                Mode::Publish,
                2
            ),
            (
                Broker::Nats,
                QueueRole::Topic,
                Expr::glob("orders.*"),
                Mode::Consume,
                3
            ),
        ]
    );
    let redis = "fn f(ps: &mut redis::PubSub) { ps.psubscribe(\"alerts.*\").ok(); ps.subscribe(\"a*\").ok(); }\n";
    let channel = |name: Expr| (Broker::Redis, QueueRole::Channel, name, Mode::Consume, 1);
    assert_eq!(
        queues(&facts(redis)),
        vec![channel(Expr::glob("alerts.*")), channel(lit("a*"))]
    );
}

#[test]
fn queue_methods_need_their_crate_in_the_file() {
    let source = "fn f(c: &Chan, v: &mut Vec<u8>) { c.subscribe(&[\"orders\"]); c.publish(\"a\", 1); c.lpush(\"a\", 1); }\n";
    assert_eq!(queues(&facts(source)), vec![]);
}

#[test]
fn select_branches_are_walked() {
    let source = r#"use rdkafka::consumer::{Consumer, StreamConsumer};
#[derive(serde::Deserialize)]
struct Ping { at: u64 }
async fn run(c: StreamConsumer, mut hup: tokio::signal::unix::Signal) {
    c.subscribe(&["pings"]).unwrap();
    loop {
        tokio::select! {
            biased;
            _ = hup.recv() => reload(),
            msg = c.recv() => {
                let p: Ping = serde_json::from_slice(msg.unwrap().payload().unwrap()).unwrap();
            }
            else => break,
        }
    }
}
"#;
    let facts = facts(source);
    let run = scope_id(&facts, "run");
    assert_eq!(callees(&facts), vec![("reload".to_string(), run, 9)]);
    let found = queue_accesses(&facts);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0.fields, vec![field("at", 3, false, false)]);
}

// --- triggers --------------------------------------------------------------------------------

#[test]
fn signal_handlers() {
    let source = r#"use tokio::signal::unix::{signal, SignalKind};
use signal_hook::consts::{SIGHUP, SIGUSR1};
use signal_hook::iterator::Signals;
async fn a() {
    let mut hup = signal(SignalKind::hangup()).unwrap();
    tokio::signal::ctrl_c().await.ok();
}
fn b(flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let mut signals = Signals::new([SIGHUP, SIGUSR1]).unwrap();
    signal_hook::flag::register(signal_hook::consts::SIGTERM, flag).unwrap();
    ctrlc::set_handler(|| {}).unwrap();
}
"#;
    let facts = facts(source);
    assert_eq!(
        triggers(&facts),
        vec![
            (signal("HUP"), 5),
            (signal("INT"), 6),
            (signal("HUP"), 9),
            (signal("USR1"), 9),
            (signal("TERM"), 10),
            (signal("INT"), 11),
        ]
    );
    assert_eq!(facts.triggers[0].scope, scope_id(&facts, "a"));
}

#[test]
fn axum_and_actix_routes() {
    let source = r#"use axum::{Router, routing::{get, post}};
fn app() -> Router {
    Router::new()
        .route("/rotate", post(rotate))
        .route("/health", get(health).post(health))
}
"#;
    let route = |m: Option<&str>, p: &str| TriggerKind::Route {
        method: m.map(str::to_string),
        path: p.to_string(),
    };
    assert_eq!(
        triggers(&facts(source)),
        vec![
            (route(Some("POST"), "/rotate"), 3),
            (route(Some("POST"), "/health"), 3),
            (route(Some("GET"), "/health"), 3),
        ]
    );
    let actix = r#"use actix_web::{post, web, App};
#[post("/rotate")]
async fn rotate() -> &'static str { "ok" }
fn app() {
    App::new().service(web::resource("/refresh").route(web::put().to(rotate)));
}
"#;
    let facts = facts(actix);
    assert_eq!(
        triggers(&facts),
        vec![
            (route(Some("POST"), "/rotate"), 3),
            (route(Some("PUT"), "/refresh"), 5),
        ]
    );
    assert_eq!(facts.triggers[0].scope, scope_id(&facts, "rotate"));
}

#[test]
fn sleeping_loops_are_loop_triggers() {
    let source = r#"use std::{thread, time::Duration};
const EVERY: u64 = 8 * 3600;
fn main() {
    loop {
        rotate();
        thread::sleep(Duration::from_secs(EVERY));
    }
}
async fn ticker() {
    let mut t = tokio::time::interval(Duration::from_secs(30));
    loop {
        t.tick().await;
        refresh().await;
    }
}
fn bounded() {
    for _ in 0..3 { retry(); thread::sleep(Duration::from_millis(500)); }
}
fn stoppable(stop: &std::sync::atomic::AtomicBool) {
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        work();
        std::thread::sleep(Duration::from_secs(90));
    }
}
fn once_or_forever(once: bool) {
    let poll = Duration::from_secs(120);
    loop {
        work();
        if once { break; }
        std::thread::sleep(poll);
    }
}
fn waits_for_a_call() {
    loop {
        if ready() { return; }
        std::thread::sleep(Duration::from_secs(1));
    }
}
"#;
    let facts = facts(source);
    assert_eq!(
        triggers(&facts),
        vec![
            (every("8 hours"), 4),
            (every("30 seconds"), 11),
            (every("90 seconds"), 20),
            (every("2 minutes"), 27),
        ]
    );
    assert_eq!(facts.triggers[0].scope, scope_id(&facts, "main"));
}

#[test]
fn polled_request_files_and_notify_watches() {
    let source = r#"use std::{fs, path::Path, thread, time::Duration};
use notify::{RecursiveMode, Watcher};
const REQ: &str = "/run/rotator/request";
fn serve() {
    loop {
        if Path::new(REQ).exists() {
            rotate();
            fs::remove_file(REQ).ok();
        }
        thread::sleep(Duration::from_secs(5));
    }
}
fn watch(w: &mut notify::RecommendedWatcher) {
    w.watch(Path::new("/etc/app/reload"), RecursiveMode::NonRecursive).unwrap();
}
"#;
    let facts = facts(source);
    let serve = scope_id(&facts, "serve");
    assert_eq!(
        triggers(&facts),
        vec![
            (every("5 seconds"), 5),
            (
                TriggerKind::WatchFile {
                    path: var("REQ", serve, 6)
                },
                6
            ),
            (
                TriggerKind::WatchFile {
                    path: lit("/etc/app/reload")
                },
                14
            ),
        ]
    );
    let modes: Vec<Mode> = paths(&facts).into_iter().map(|(m, ..)| m).collect();
    assert_eq!(modes, vec![Mode::Check, Mode::Delete]);
}

#[test]
fn cron_schedules_in_code() {
    let source = r#"use cron::Schedule;
use std::str::FromStr;
use tokio_cron_scheduler::Job;
fn f() {
    let s = Schedule::from_str("0 0 */8 * * *").unwrap();
    let j = Job::new("0 30 2 * * *", |_, _| {}).unwrap();
    let r = Job::new_repeated(std::time::Duration::from_secs(3600), |_, _| {}).unwrap();
}
"#;
    let found = triggers(&facts(source));
    let classic = super::loops::describe_cron("0 */8 * * *");
    let at_230 = super::loops::describe_cron("30 2 * * *");
    assert_eq!(
        found,
        vec![
            (
                TriggerKind::Schedule {
                    expression: "0 0 */8 * * *".to_string(),
                    description: classic.unwrap_or_default(),
                },
                5
            ),
            (
                TriggerKind::Schedule {
                    expression: "0 30 2 * * *".to_string(),
                    description: at_230.unwrap_or_default(),
                },
                6
            ),
            (every("1 hour"), 7),
        ]
    );
}

// --- sends -----------------------------------------------------------------------------------

#[test]
fn signals_sent_to_a_pid_read_from_a_file() {
    let source = r#"use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::fs;
const PIDFILE: &str = "/run/rotator.pid";
fn poke() -> anyhow::Result<()> {
    let pid: i32 = fs::read_to_string(PIDFILE)?.trim().parse()?;
    kill(Pid::from_raw(pid), Signal::SIGHUP)?;
    unsafe { libc::kill(pid, libc::SIGUSR1) };
    Ok(())
}
"#;
    let facts = facts(source);
    let poke = scope_id(&facts, "poke");
    let target = var("PIDFILE", poke, 6);
    assert_eq!(
        sends(&facts),
        vec![
            (
                SendKind::Signal {
                    signal: "HUP".to_string(),
                    target: target.clone()
                },
                7
            ),
            (
                SendKind::Signal {
                    signal: "USR1".to_string(),
                    target
                },
                8
            ),
        ]
    );
}

#[test]
fn signals_sent_by_commands() {
    let source = r#"use std::process::Command;
fn f() {
    Command::new("pkill").args(["-HUP", "-f", "rotator"]).status().ok();
    Command::new("/usr/bin/systemctl").arg("reload").arg("rotator.service").status().ok();
    Command::new("kill").args(["-s", "USR1", "1234"]).status().ok();
    Command::new("systemctl").args(["restart", "x"]).status().ok();
    Command::new("ls").arg("-HUP").status().ok();
}
"#;
    let sig = |s: &str, t: &str| SendKind::Signal {
        signal: s.to_string(),
        target: lit(t),
    };
    assert_eq!(
        sends(&facts(source)),
        vec![
            (sig("HUP", "rotator"), 3),
            (sig("HUP", "rotator.service"), 4),
            (sig("USR1", "1234"), 5),
        ]
    );
}

#[test]
fn http_requests() {
    let source = r#"async fn f(client: &reqwest::Client, base: &str, m: &std::collections::HashMap<String, String>) {
    client.post(format!("{base}/rotate")).json(&1).send().await.ok();
    reqwest::get("http://rotator:8080/health").await.ok();
    client.request(reqwest::Method::PUT, "http://x/y").send().await.ok();
    let _ = m.get("http://not-a-request");
    let _ = ureq::post("http://rotator/refresh").call();
}
"#;
    let facts = facts(source);
    let f = scope_id(&facts, "f");
    let http = |m: &str, url: Expr| SendKind::Http {
        method: Some(m.to_string()),
        url,
    };
    assert_eq!(
        sends(&facts),
        vec![
            (
                http(
                    "POST",
                    Expr::Concat {
                        parts: vec![var("base", f, 2), lit("/rotate")]
                    }
                ),
                2
            ),
            (http("GET", lit("http://rotator:8080/health")), 3),
            (http("PUT", lit("http://x/y")), 4),
            (http("POST", lit("http://rotator/refresh")), 6),
        ]
    );
}

// --- waits -----------------------------------------------------------------------------------

const WAITER: &str = r#"use std::{fs, thread, time::{Duration, Instant}};
const TOKEN_FILE: &str = "/run/secrets/api_token";
pub fn wait_for_credential_refresh(timeout: Duration) -> bool {
    let before = fs::metadata(TOKEN_FILE).and_then(|m| m.modified()).ok();
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if fs::metadata(TOKEN_FILE).and_then(|m| m.modified()).ok() != before { return true; }
        thread::sleep(Duration::from_secs(5));
    }
    false
}
pub fn call_api() { /* on 401: */ wait_for_credential_refresh(Duration::from_secs(300)); }
"#;

#[test]
fn incident_rust_waiter_waits_for_the_token_file_and_is_called() {
    let facts = facts(WAITER);
    let wait = scope_id(&facts, "wait_for_credential_refresh");
    let call_api = scope_id(&facts, "call_api");
    assert_eq!(
        paths(&facts),
        vec![
            (Mode::Check, var("TOKEN_FILE", wait, 4), 4),
            (Mode::WaitFor, var("TOKEN_FILE", wait, 7), 7),
        ]
    );
    assert_eq!(path_accesses(&facts)[1].scope, wait);
    assert_eq!(
        callees(&facts),
        vec![("wait_for_credential_refresh".to_string(), call_api, 12)]
    );
    assert_eq!(triggers(&facts), vec![], "a wait is not a service loop");
}

#[test]
fn waits_on_content_read_into_a_variable_and_bounded_retries() {
    let source = r#"use std::{fs, thread, time::Duration};
fn wait_content(path: &str) -> bool {
    let old = fs::read_to_string(path).unwrap_or_default();
    for _ in 0..60 {
        let now = fs::read_to_string(path).unwrap_or_default();
        let unrelated = fs::read_to_string("/etc/hostname").unwrap_or_default();
        if now != old { return true; }
        thread::sleep(Duration::from_secs(1));
    }
    false
}
async fn wait_secret(c: &aws_sdk_secretsmanager::Client, old: String) {
    loop {
        let v = c.get_secret_value().secret_id("prod/token").send().await.unwrap();
        if v.secret_string() != Some(old.as_str()) { break; }
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    }
}
"#;
    let facts = facts(source);
    let modes: Vec<(Mode, u32)> = paths(&facts).into_iter().map(|(m, _, l)| (m, l)).collect();
    assert_eq!(
        modes,
        vec![(Mode::Read, 3), (Mode::WaitFor, 5), (Mode::Read, 6)]
    );
    let secrets: Vec<(Mode, u32)> = secret_accesses(&facts)
        .into_iter()
        .map(|(_, _, m, l)| (m, l))
        .collect();
    assert_eq!(secrets, vec![(Mode::WaitFor, 14)]);
    assert_eq!(triggers(&facts), vec![]);
}

#[test]
fn reads_in_loops_without_a_sleep_are_not_waits() {
    let source = r#"use std::fs;
fn f(paths: &[&str]) {
    for p in paths {
        if fs::read_to_string(p).is_ok() { break; }
    }
}
"#;
    let modes: Vec<Mode> = paths(&facts(source)).into_iter().map(|(m, ..)| m).collect();
    assert_eq!(modes, vec![Mode::Read]);
}

#[test]
fn notify_watch_with_a_timeout_is_a_wait() {
    let source = r#"use notify::{RecursiveMode, Watcher};
fn wait(w: &mut notify::RecommendedWatcher, rx: std::sync::mpsc::Receiver<()>) -> bool {
    w.watch(std::path::Path::new("/run/secrets/token"), RecursiveMode::NonRecursive).unwrap();
    rx.recv_timeout(std::time::Duration::from_secs(30)).is_ok()
}
"#;
    let facts = facts(source);
    assert_eq!(
        paths(&facts),
        vec![(Mode::WaitFor, lit("/run/secrets/token"), 3)]
    );
    assert_eq!(triggers(&facts), vec![]);
}

// --- calls -----------------------------------------------------------------------------------

#[test]
fn calls_are_qualified_through_use_and_skip_apis() {
    let source = r#"use crate::auth::wait_for_refresh;
use std::fs;
struct Client;
impl Client {
    fn call(&self) {
        self.wait_for_token();
        Self::helper();
        wait_for_refresh();
        auth::other::now();
        let _ = Some(1);
        let _ = fs::read("/x");
        let _ = std::mem::take(&mut 1);
        let _ = serde_json::to_string(&1);
        tokio::spawn(work());
    }
}
"#;
    let facts = facts(source);
    let call = scope_id(&facts, "Client::call");
    assert_eq!(
        callees(&facts),
        vec![
            ("self.wait_for_token".to_string(), call, 6),
            ("Client::helper".to_string(), call, 7),
            ("crate::auth::wait_for_refresh".to_string(), call, 8),
            ("auth::other::now".to_string(), call, 9),
            ("work".to_string(), call, 14),
        ]
    );
}

// --- robustness ------------------------------------------------------------------------------

#[test]
fn malformed_resource_code_does_not_panic() {
    let sources = [
        "fn f() { env::var(); std::env::var(1, 2, 3).unwrap_or(); }",
        "fn f() { c.get_secret_value().secret_id().send(); } use aws_sdk_secretsmanager as x;",
        "use rdkafka::x; fn f() { FutureRecord::to().payload(); c.subscribe(&[]); c.subscribe(1, 2); }",
        "use lapin::x; fn f() { ch.basic_publish(1, 2, 3, 4, 5); ch.queue_bind(); }",
        "fn f() { serde_json::json!(not an object); serde_json::json!({\"a\" 1, : 2}); }",
        "#[derive(Serialize)] struct A(u8); #[derive(Deserialize)] struct B;",
        "#[derive(Serialize)] #[serde(rename_all)] struct C { #[serde(rename)] a: u8, #[serde(rename(serialize))] b: u8 }",
        "fn f() { loop {} while x {} for _ in 0.. { thread::sleep(Duration::from_secs(u64::MAX * 2)); } }",
        "fn f() { loop { std::thread::sleep(Duration::from_millis(18446744073709551615)); } }",
        "fn f() { kill(); nix::sys::signal::kill(Pid::from_raw(1)); Command::new(\"pkill\").args(); }",
        "use axum::x; fn f() { Router::new().route(1, post()); } #[post] fn g() {} #[post(1)] fn h() {}",
        "use cron::x; fn f() { cron::Schedule::from_str(\"bad\"); cron::Schedule::from_str(\"* * * * * * * * *\"); }",
        "#[derive(clap::Parser)] struct D { #[arg(env = 1)] a: u8, #[arg(env =)] b: u8 }",
    ];
    for source in sources {
        let facts = extract("src/x.rs", source, &models());
        assert_eq!(facts.warnings, vec![], "{source}");
    }
}

#[test]
fn deeply_nested_loops_and_chains_stay_bounded() {
    let loops = format!(
        "fn f() {{ {} std::thread::sleep(std::time::Duration::from_secs(1)); {} }}",
        "loop { ".repeat(150),
        "}".repeat(150)
    );
    let facts = extract("src/x.rs", &loops, &models());
    assert_eq!(facts.warnings, vec![]);
    assert!(facts.triggers.len() <= 150);
    let chain = format!(
        "use rdkafka::x; fn f() {{ FutureRecord::to(\"t\"){}; }}",
        ".payload(&x)".repeat(300)
    );
    let facts = extract("src/x.rs", &chain, &models());
    assert_eq!(facts.warnings, vec![]);
    assert!(facts.accesses.len() <= 1);
}
