use super::*;
use crate::expr::Expr;
use crate::extract::formats::testing::{accesses, assert_has, models, render, runs};
use crate::extract::{EnvTarget, RawResource, ScopeKind};
use crate::model::Mode;

fn yaml(path: &str, text: &str) -> FileFacts {
    extract(path, text, &models())
}

fn mappings(f: &FileFacts) -> Vec<String> {
    f.bindings
        .iter()
        .filter(|b| b.name.starts_with("volume:"))
        .map(|b| {
            format!(
                "L{} {} <- {} @{}",
                b.line,
                b.name,
                render(&b.value),
                f.unit_name(b.scope)
            )
        })
        .collect()
}

const COMPOSE: &str = "\
services:
  worker:
    image: registry.example.com/worker:1.4
    command: [\"python\", \"-m\", \"worker.main\", \"--queue\", \"${QUEUE_NAME}\"]
    working_dir: /srv/worker
    environment:
      - QUEUE_NAME=orders
      - DATA_DIR=${DATA_DIR:-/data}
      - AWS_REGION
    env_file:
      - ./worker.env
    volumes:
      - ./data:/data
      - logs:/var/log/worker:rw
      - type: bind
        source: /etc/worker
        target: /etc/worker
    secrets:
      - db_password
  cleaner:
    image: alpine
    entrypoint: [\"sh\", \"-c\"]
    command:
      - |
        find /data/tmp -name '*.part' -mmin +60 -delete
        rm -f /data/tmp/lock
    environment:
      RETENTION: 7
secrets:
  db_password:
    file: ./secrets/db_password.txt
volumes:
  logs: {}
";

#[test]
fn compose_worker_environment_command_and_mappings() {
    let f = yaml("deploy/docker-compose.yml", COMPOSE);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let got = accesses(&f);
    assert_has(
        &got,
        &[
            "L7 set env QUEUE_NAME=orders @services.worker via compose environment",
            "L8 set env DATA_DIR=${DATA_DIR:-/data} @services.worker via compose environment",
            "L9 set env AWS_REGION=$AWS_REGION @services.worker via compose environment",
            "L11 read ./worker.env @services.worker via compose env_file",
            "L19 move-to /run/secrets/db_password @services.worker via compose secret",
            "L25 delete /data/tmp find[*.part] (modified more than 60 minutes ago) @services.cleaner.command via find -delete",
            "L26 delete /data/tmp/lock @services.cleaner.command via rm",
            "L28 set env RETENTION=7 @services.cleaner via compose environment",
        ],
    );
    assert_eq!(
        mappings(&f),
        vec![
            "L13 volume:/data <- ./data @services.worker",
            "L14 volume:/var/log/worker <- <docker volume logs> @services.worker",
            "L15 volume:/etc/worker <- /etc/worker @services.worker",
            "L19 volume:/run/secrets/db_password <- ./secrets/db_password.txt @services.worker",
        ]
    );
    assert_has(
        &runs(&f),
        &["L4 python -m worker.main @services.worker.command"],
    );
    let queue = f
        .bindings
        .iter()
        .find(|b| b.name == "QUEUE_NAME")
        .expect("bound");
    assert_eq!(f.unit_name(queue.scope), "services.worker");
}

#[test]
fn compose_version_one_services_are_at_the_top_level() {
    let f = yaml(
        "docker-compose.yml",
        "database:\n  image: postgres:9.1\n  volumes:\n    - /opt/db:/var/lib/postgresql\n\
         zulip:\n  build: .\n  environment:\n    ZULIP_AUTH_BACKENDS_EmailAuthBackend: 'True'\n",
    );
    assert_has(
        &accesses(&f),
        &[
            "L8 set env ZULIP_AUTH_BACKENDS_EmailAuthBackend=True @services.zulip via compose environment",
        ],
    );
    assert_eq!(
        mappings(&f),
        vec!["L4 volume:/var/lib/postgresql <- /opt/db @services.database"]
    );
    // Not every top-level map is a service: a file without images or builds is left alone.
    let other = yaml(
        "docker-compose.yml",
        "x-common:\n  environment:\n    A: 1\n",
    );
    assert!(accesses(&other).is_empty());
}

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: worker
          image: registry.example.com/worker:1.4
          command: [\"/opt/worker/bin/worker\"]
          args: [\"--queue\", \"$(QUEUE_NAME)\", \"--spool\", \"/var/spool/worker\"]
          env:
            - name: QUEUE_NAME
              value: orders
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: worker-db
                  key: password
            - name: NODE
              valueFrom:
                fieldRef:
                  fieldPath: spec.nodeName
          envFrom:
            - configMapRef:
                name: worker-config
          volumeMounts:
            - name: creds
              mountPath: /etc/worker/creds
              readOnly: true
            - name: logs
              mountPath: /var/log/worker
            - name: spool
              mountPath: /var/spool/worker
      volumes:
        - name: creds
          secret:
            secretName: worker-creds
        - name: logs
          hostPath:
            path: /var/log/k8s/worker
        - name: spool
          persistentVolumeClaim:
            claimName: worker-spool
";

#[test]
fn kubernetes_deployment_worker() {
    let f = yaml("k8s/worker.yaml", DEPLOYMENT);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let got = accesses(&f);
    assert_has(
        &got,
        &[
            "L15 set env QUEUE_NAME=orders @Deployment/worker.container worker via k8s env",
            "L17 set env DB_PASSWORD=<k8s-secret worker-db/password> @Deployment/worker.container worker via k8s env valueFrom",
            "L20 read secret k8s-secret:worker-db/password @Deployment/worker.container worker via k8s env valueFrom",
            "L22 set env NODE=<spec.nodeName> @Deployment/worker.container worker via k8s env valueFrom",
            "L27 read secret k8s-configmap:worker-config/* @Deployment/worker.container worker via k8s envFrom",
            "L30 move-to /etc/worker/creds/** @Deployment/worker.container worker via k8s secret volume",
        ],
    );
    assert_eq!(
        mappings(&f),
        vec![
            "L33 volume:/var/log/worker <- /var/log/k8s/worker @Deployment/worker.container worker",
            "L35 volume:/var/spool/worker <- <k8s volume claim worker-spool> @Deployment/worker.container worker",
        ]
    );
    assert_has(
        &runs(&f),
        &["L12 /opt/worker/bin/worker @Deployment/worker.container worker.command"],
    );
}

const CRONJOB: &str = "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: log-cleanup
spec:
  schedule: \"30 4 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: cleanup
              image: alpine:3.20
              command: [\"/bin/sh\", \"-c\"]
              args:
                - find /var/log/app -name '*.log' -mtime +7 -delete
              env:
                - name: LOG_DIR
                  value: /var/log/app
";

#[test]
fn kubernetes_cronjob_schedules_its_containers() {
    let f = yaml("k8s/cleanup-cronjob.yaml", CRONJOB);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    assert_eq!(f.schedules.len(), 1);
    let s = &f.schedules[0];
    assert_eq!((s.line, s.expression.as_str()), (6, "30 4 * * *"));
    assert_eq!(s.description, "every day at 04:30");
    assert_eq!(
        s.command,
        "/bin/sh -c find /var/log/app -name '*.log' -mtime +7 -delete"
    );
    assert_eq!(
        s.env,
        vec![("LOG_DIR".to_string(), "/var/log/app".to_string())]
    );
    assert_eq!(f.scopes[s.scope].kind, ScopeKind::CronEntry);
    assert_eq!(f.scopes[s.scope].job, Some(0));
    let delete = f
        .accesses
        .iter()
        .find(|a| a.mode == Mode::Delete)
        .expect("delete");
    assert_eq!(delete.line, 17);
    let mut scope = Some(delete.scope);
    let mut inside = false;
    while let Some(id) = scope {
        inside |= id == s.scope;
        scope = f.scopes[id].parent;
    }
    assert!(inside, "the delete runs under the CronJob's schedule");
    assert_has(
        &accesses(&f),
        &[
            "L17 delete /var/log/app find[*.log] (modified more than 7 days ago) @CronJob/log-cleanup.container cleanup.command via find -delete",
        ],
    );
}

#[test]
fn multi_document_manifests_with_a_broken_document() {
    let text = format!(
        "{CRONJOB}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata: [unclosed\n---\n{DEPLOYMENT}"
    );
    let f = yaml("k8s/all.yaml", &text);
    assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
    assert!(f.warnings[0].message.contains("YAML syntax error"));
    assert!((26..=28).contains(&f.warnings[0].line), "{:?}", f.warnings);
    assert_eq!(f.schedules.len(), 1);
    let offset = 21 + 6;
    assert_has(
        &accesses(&f),
        &[&format!(
            "L{} set env QUEUE_NAME=orders @Deployment/worker.container worker via k8s env",
            15 + offset
        )],
    );
}

#[test]
fn configmaps_and_secrets_set_keys_and_embedded_files_are_analysed() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cleanup\ndata:\n  QUEUE_NAME: orders\n  cleanup.sh: |\n    #!/bin/sh\n    rm -rf /data/scratch/*\n  crontab: |\n    0 1 * * * /opt/bin/cleanup.sh\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: worker-db\nstringData:\n  password: hunter2\n";
    let f = yaml("k8s/config.yaml", text);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    assert_has(
        &accesses(&f),
        &[
            "L6 set secret k8s-configmap:cleanup/QUEUE_NAME @ via k8s ConfigMap",
            "L9 delete /data/scratch/* (tree) @ConfigMap/cleanup/cleanup.sh via rm",
            "L18 set secret k8s-secret:worker-db/password @ via k8s Secret",
        ],
    );
    assert_eq!(f.schedules.len(), 1);
    assert_eq!(f.schedules[0].line, 11);
    assert_eq!(f.scopes[f.schedules[0].scope].job, Some(0));
    assert_has(
        &runs(&f),
        &["L11 /opt/bin/cleanup.sh @ConfigMap/cleanup/crontab.cron:1"],
    );
}

#[test]
fn helm_values_are_bindings() {
    let text = "image: worker:1.4\nqueue: orders\ncleanup:\n  schedule: \"0 3 * * *\"\n  dirs:\n    - /data/tmp\n";
    let f = yaml("charts/worker/values.yaml", text);
    let got: Vec<String> = f
        .bindings
        .iter()
        .map(|b| format!("L{} {}={}", b.line, b.name, render(&b.value)))
        .collect();
    assert_eq!(
        got,
        vec![
            "L1 values.image=worker:1.4",
            "L2 values.queue=orders",
            "L4 values.cleanup.schedule=0 3 * * *",
            "L5 values.cleanup.dirs.*=/data/tmp",
            "L6 values.cleanup.dirs.0=/data/tmp",
        ]
    );
}

#[test]
fn helm_values_lists_bind_any_element_and_fields_every_element_has() {
    let text = "queues:
  - name: orders
    dir: /var/spool/orders
  - name: mail
    dir: /var/spool/mail
    ports: [25]
mixed:
  - a
  - ~
dirs:
  orders: /srv/o
  mail: /srv/m
";
    let f = yaml("charts/worker/values.yaml", text);
    let got: Vec<String> = f
        .bindings
        .iter()
        .filter(|b| b.name.contains('*'))
        .map(|b| format!("{}={}", b.name, render(&b.value)))
        .collect();
    // `ports` is not in every element, and a null element leaves `mixed.*` unbound; a map's
    // values are what a `range` over it binds.
    assert_eq!(
        got,
        vec![
            "values.queues.*.name=(orders|mail)",
            "values.queues.*.dir=(/var/spool/orders|/var/spool/mail)",
            "values.queues.0.*=(orders|/var/spool/orders)",
            "values.queues.1.ports.*=25",
            "values.dirs.*=(/srv/o|/srv/m)",
        ]
    );
}

const PLAYBOOK: &str = "\
- hosts: workers
  vars:
    backup_root: /backups
  environment:
    QUEUE_NAME: orders
  tasks:
    - name: old exports are removed
      file:
        path: /data/exports/old
        state: absent
    - name: spool exists
      ansible.builtin.file: path=/var/spool/worker state=directory
    - name: config
      template:
        src: worker.conf.j2
        dest: /etc/worker/worker.conf
    - name: log line
      lineinfile:
        path: /etc/hosts
        line: 10.0.0.1 db
    - name: nightly backup
      cron:
        name: backup
        minute: \"0\"
        hour: \"3\"
        user: backup
        job: \"/usr/bin/find {{ backup_root }}/{{ prefix }}-backup -mtime +14 -delete\"
    - name: purge
      shell: rm -rf {{ backup_root }}/tmp/*
      args:
        chdir: /srv
    - name: find old reports
      find:
        paths: /var/reports
        patterns: \"*.csv\"
        age: 30d
      register: old_reports
    - name: remove old reports
      file:
        path: \"{{ item.path }}\"
        state: absent
      loop: \"{{ old_reports.files }}\"
";

fn var(name: &str) -> String {
    format!("{{{name}}}")
}

#[test]
fn ansible_playbook_tasks() {
    let f = yaml("playbooks/workers.yml", PLAYBOOK);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let got = accesses(&f);
    assert_has(
        &got,
        &[
            "L5 set env QUEUE_NAME=orders @play workers via ansible environment",
            "L9 delete /data/exports/old (tree) @play workers.task old exports are removed via ansible file",
            "L12 create /var/spool/worker @play workers.task spool exists via ansible ansible.builtin.file",
            "L16 write /etc/worker/worker.conf @play workers.task config via ansible template",
            "L15 read worker.conf.j2 @play workers.task config via ansible template",
            "L19 write /etc/hosts @play workers.task log line via ansible lineinfile",
            &format!(
                "L27 delete {}/{}-backup find[] (modified more than 14 days ago) @play workers.task nightly backup.cron backup via find -delete",
                var("backup_root"),
                var("prefix")
            ),
            &format!(
                "L29 delete {}/tmp/* (tree) @play workers.task purge.command via rm",
                var("backup_root")
            ),
            "L34 list /var/reports find[*.csv] (older than 30 days) @play workers.task find old reports via ansible find",
            "L40 delete /var/reports find[*.csv] (older than 30 days) @play workers.task remove old reports via ansible file (items of find)",
        ],
    );
    assert_eq!(f.schedules.len(), 1);
    let s = &f.schedules[0];
    assert_eq!((s.line, s.expression.as_str()), (27, "0 3 * * *"));
    assert_eq!(s.description, "every day at 03:00");
    assert_eq!(s.user.as_deref(), Some("backup"));
    assert_eq!(
        s.command,
        "/usr/bin/find {{ backup_root }}/{{ prefix }}-backup -mtime +14 -delete"
    );
    let root = f
        .bindings
        .iter()
        .find(|b| b.name == "backup_root")
        .expect("vars");
    assert_eq!(f.unit_name(root.scope), "play workers");
}

#[test]
fn ansible_set_fact_binds_in_the_play() {
    let text = "- hosts: db\n  tasks:\n    - set_fact:\n        dump_dir: /var/backups/db\n    - name: purge dumps\n      file: path={{ dump_dir }}/old state=absent\n";
    let f = yaml("db.yml", text);
    let bound = f
        .bindings
        .iter()
        .find(|b| b.name == "dump_dir")
        .expect("bound");
    assert_eq!(f.unit_name(bound.scope), "play db");
    assert_has(
        &accesses(&f),
        &["L6 delete {dump_dir}/old (tree) @play db.task purge dumps via ansible file"],
    );
}

#[test]
fn ansible_vars_files_are_bindings() {
    let f = yaml(
        "roles/backup/defaults/main.yml",
        "prefix: nightly\nbackup_root: \"{{ base }}/backups\"\n",
    );
    let got: Vec<String> = f
        .bindings
        .iter()
        .map(|b| format!("{}={}", b.name, render(&b.value)))
        .collect();
    assert_eq!(got, vec!["prefix=nightly", "backup_root={base}/backups"]);
    let f = yaml(
        "roles/worker/defaults/main.yml",
        "queues: [orders, \"{{ prefix }}-mail\"]
servers:
  - name: a
  - host: b
empty: []
",
    );
    let got: Vec<String> = f
        .bindings
        .iter()
        .map(|b| format!("{}={}", b.name, render(&b.value)))
        .collect();
    assert_eq!(got, vec!["queues.*=(orders|{prefix}-mail)"]);
}

const WORKFLOW: &str = "\
name: nightly
on:
  schedule:
    - cron: '15 2 * * *'
env:
  DATA_DIR: /data
jobs:
  export:
    runs-on: ubuntu-latest
    env:
      BUCKET: ${{ secrets.BUCKET }}
    steps:
      - uses: actions/checkout@v4
      - name: export
        working-directory: tools
        run: |
          ./export.sh --out \"$DATA_DIR/export.csv\"
          rm -f /tmp/${{ github.run_id }}.lock
";

#[test]
fn github_workflow_env_steps_and_schedule() {
    let f = yaml(".github/workflows/nightly.yml", WORKFLOW);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let got = accesses(&f);
    assert_has(
        &got,
        &[
            "L6 set env DATA_DIR=/data @ via github env",
            "L11 set env BUCKET=<secrets.BUCKET> @on.schedule.jobs.export via github env",
            "L18 delete /tmp/<github.run_id>.lock @on.schedule.jobs.export.step export via rm",
        ],
    );
    assert_has(
        &runs(&f),
        &["L17 tools/export.sh @on.schedule.jobs.export.step export"],
    );
    assert_eq!(f.schedules.len(), 1);
    assert_eq!(f.schedules[0].description, "every day at 02:15 (UTC)");
}

#[test]
fn gitlab_ci_variables_and_scripts() {
    let text = "variables:\n  QUEUE_NAME: orders\n  DEPLOY_DIR:\n    value: /srv/app\n    description: where\nstages: [deploy]\ndeploy:\n  stage: deploy\n  variables:\n    LOG_DIR: /var/log/app\n  script:\n    - rm -rf $DEPLOY_DIR/releases/old\n    - >\n      find /var/log/app\n      -name '*.gz' -delete\n";
    let f = yaml(".gitlab-ci.yml", text);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    assert_has(
        &accesses(&f),
        &[
            "L2 set env QUEUE_NAME=orders @ via gitlab variables",
            "L3 set env DEPLOY_DIR=/srv/app @ via gitlab variables",
            "L10 set env LOG_DIR=/var/log/app @job deploy via gitlab variables",
            "L12 delete {DEPLOY_DIR}/releases/old (tree) @job deploy via rm",
            "L14 delete /var/log/app find[*.gz] @job deploy via find -delete",
        ],
    );
}

#[test]
fn log_shipper_yaml_and_generic_paths() {
    let text = "filebeat.inputs:\n  - type: filestream\n    paths:\n      - /var/log/app/*.log\n      - /var/log/worker.log\nsettings:\n  cache: /var/cache/app/state.json\n  url: https://example.com/a/b\n";
    let f = yaml("etc/filebeat/filebeat.yml", text);
    assert_eq!(
        accesses(&f),
        vec![
            "L4 read /var/log/app/*.log @ via log shipper input",
            "L5 read /var/log/worker.log @ via log shipper input",
            "L7 unknown /var/cache/app/state.json @ via generic: yaml",
        ]
    );
}

#[test]
fn syntax_errors_are_warnings_and_garbage_does_not_panic() {
    let f = yaml(
        "docker-compose.yml",
        "services:\n  web:\n    environment:\n      - A=1\n    command: [unclosed\n",
    );
    assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
    assert!(f.warnings[0].line >= 5, "{:?}", f.warnings);
    assert_has(
        &accesses(&f),
        &["L4 set env A=1 @services.web via compose environment"],
    );
    for garbage in [
        String::from_utf8_lossy(&[0xff, 0xfe, b':', 0, b'\n', b'-', b' ', b'&', b'*']).to_string(),
        "- [".repeat(5000),
        "a: *missing\n".to_string(),
        "key: \"unterminated\n".to_string(),
        "\t- tabs\n\t\tbad: [".to_string(),
    ] {
        let _ = yaml("x.yaml", &garbage);
    }
}

#[test]
fn env_sets_carry_values() {
    let f = yaml("docker-compose.yml", COMPOSE);
    let set = f
        .accesses
        .iter()
        .find_map(|a| match &a.resource {
            RawResource::Env(EnvTarget { name, value }) if name.as_lit() == Some("QUEUE_NAME") => {
                Some((a.mode, value.clone()))
            }
            _ => None,
        })
        .expect("QUEUE_NAME is set");
    assert_eq!(set, (Mode::Set, Some(Expr::lit("orders"))));
}
