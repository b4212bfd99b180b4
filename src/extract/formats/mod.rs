//! Deployment, service and configuration files: YAML (docker-compose, Kubernetes, Helm values,
//! Ansible, CI, log shippers), systemd units and timers, logrotate, INI/`key = value` configs,
//! Dockerfiles, `.env` files, templates of any of these, and a generic fallback for other text
//! files.
//!
//! Input: a file's path (which decides the format, content is sniffed only where the path is
//! not enough) and its text. Output: the same [`FileFacts`] the language extractors produce —
//! environment variables set for a unit (`Env` accesses with mode `set` and a binding of the
//! same name in the unit's scope), paths read and written, commands embedded in the file
//! analysed as shell with lines mapped to this file, the programs and units started, schedules
//! (Kubernetes CronJobs, systemd timers, Ansible `cron` tasks) and triggers.
//!
//! Conventions shared by every format, for the resolver:
//! - **Units.** A compose service, a Kubernetes container, an Ansible task, a logrotate stanza
//!   gets a scope of its own; its commands are analysed in child scopes, so the environment set
//!   on the unit (bindings in the unit scope) is visible to them whatever the key order.
//! - **Path mappings.** Where a deployment maps a path inside a container to a path outside it
//!   (compose `volumes`, Kubernetes `hostPath` volumes, Dockerfile `COPY`/`ADD`, compose
//!   `secrets`), a [`Binding`](crate::extract::Binding) named `volume:<container path>` holds the
//!   outside path in the unit's scope (for `COPY`, the file scope). A relative outside path is
//!   relative to the directory of the file that declares it, as Docker reads it; a named volume
//!   is a path hole labelled `docker volume NAME`.
//! - **Environment files.** Where a unit takes variables from a file or a map (compose
//!   `env_file:`, systemd `EnvironmentFile=`, Kubernetes `envFrom:`), a
//!   [`Binding`](crate::extract::Binding) named [`ENV_FILE_PREFIX`]`<source>` in the unit's
//!   scope holds the file's path as written (relative to the declaring file's directory), or a
//!   hole for a map. The resolver passes what that file sets to what the unit launches; when
//!   the file is in no repository, is templated, or is a map, the unit's environment is open
//!   (it may set any variable).
//! - **Schedules.** A schedule's scope is a [`ScopeKind::CronEntry`](crate::extract::ScopeKind)
//!   whose subtree holds what it runs; a systemd timer's scope holds a
//!   [`RunTarget::Unit`](crate::extract::RunTarget) naming the service it starts.
//!
//! Invariants: extraction never fails and never panics; a part that cannot be read is a
//! warning with its line, and the rest of the file is still read; every loop and recursion is
//! bounded by the input's size or a constant.

pub(crate) mod common;
pub mod deploy;
pub mod dockerfile;
pub mod dotenv;
pub mod generic;
pub mod keyvalue;
pub mod logrotate;
pub mod manifest;
pub mod systemd;
pub mod template;
#[cfg(test)]
pub(crate) mod testing;
pub mod yaml;

pub use template::TemplateEngine;

use crate::extract::{ExtractWarning, FileFacts, ScopeKind};
use crate::rules::models::Models;
use serde::{Deserialize, Serialize};

/// The name prefix of path-mapping bindings (see the module doc).
pub const VOLUME_PREFIX: &str = "volume:";

/// The name prefix of environment-file bindings (see the module doc).
pub const ENV_FILE_PREFIX: &str = "env-file:";

/// Files larger than this are not read as configuration (generated data, not a config file).
const MAX_CONFIG_BYTES: usize = 4 << 20;

/// A configuration format knockon reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigFormat {
    /// YAML: compose, Kubernetes, Helm values, Ansible, CI, log shippers (sniffed by content).
    Yaml,
    /// systemd `.service`, `.timer`, `.socket` and `.path` units.
    Systemd,
    /// logrotate configuration.
    Logrotate,
    /// INI / `key = value` / `key value;` configs whose keys name files (data-driven).
    KeyValue,
    Dockerfile,
    /// `.env`-style `KEY=value` files.
    DotEnv,
    /// A template, analysed as the format it renders to.
    Template(TemplateEngine),
    /// A package manifest (`pyproject.toml`, `setup.cfg`, `Cargo.toml`): the programs it
    /// declares.
    Manifest,
    /// Any other text file: absolute paths and environment reads, at low confidence. An app
    /// that wants no low-confidence facts filters this variant out.
    Generic,
}

/// Chooses a format from the path (and, for Helm templates and some unit types, the content);
/// `None` for files not read as configuration.
pub fn detect(path: &str, content: &[u8]) -> Option<ConfigFormat> {
    if let Some(format) = detect_template(path, content) {
        return Some(format);
    }
    detect_plain(path, content)
}

/// [`detect`] for a file known not to be a template (a template's rendered text).
pub fn detect_plain(path: &str, content: &[u8]) -> Option<ConfigFormat> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    let ext = lower
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|_| !lower.starts_with('.') || lower.matches('.').count() > 1);
    let dirs: Vec<&str> = path.split('/').rev().skip(1).collect();
    if manifest::is_manifest_name(&lower) {
        return Some(ConfigFormat::Manifest);
    }
    if dockerfile::is_dockerfile(&lower) {
        return Some(ConfigFormat::Dockerfile);
    }
    if systemd::is_unit_path(&lower, content) || systemd::is_drop_in(ext, &dirs) {
        return Some(ConfigFormat::Systemd);
    }
    if logrotate::is_logrotate_path(&lower, ext, &dirs) {
        return Some(ConfigFormat::Logrotate);
    }
    if matches!(ext, Some("yml" | "yaml")) {
        return Some(ConfigFormat::Yaml);
    }
    if dotenv::is_dotenv_path(&lower, ext, &dirs, content) {
        return Some(ConfigFormat::DotEnv);
    }
    if keyvalue::is_key_value_path(&lower, ext, &dirs) {
        return Some(ConfigFormat::KeyValue);
    }
    if generic::is_generic_path(&lower, ext, &dirs) {
        return Some(ConfigFormat::Generic);
    }
    None
}

/// A template by its extension (`x.conf.j2`, `x.erb`, `x.tmpl`), a Helm chart's template, or a
/// file under a `templates/` directory whose content has Jinja tags (an Ansible role's
/// `templates/settings.py`); checked before every other language, since `x.sh.j2` is not a
/// script until rendered.
pub fn detect_template(path: &str, content: &[u8]) -> Option<ConfigFormat> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    if let Some((_, ext)) = lower.rsplit_once('.')
        && let Some(engine) = template::engine_of_extension(ext)
    {
        return Some(ConfigFormat::Template(engine));
    }
    let yaml = lower.ends_with(".yaml") || lower.ends_with(".yml");
    if yaml && template::looks_like_helm_template(path, content) {
        return Some(ConfigFormat::Template(TemplateEngine::Go));
    }
    if template::looks_like_jinja_template(path, content) {
        return Some(ConfigFormat::Template(TemplateEngine::Jinja));
    }
    template::looks_like_go_env_template(content)
        .then_some(ConfigFormat::Template(TemplateEngine::Go))
}

/// Extracts the facts of a configuration file. Never fails.
pub fn extract(format: ConfigFormat, path: &str, text: &str, models: &Models) -> FileFacts {
    if text.len() > MAX_CONFIG_BYTES {
        let mut facts = FileFacts::new(path, ScopeKind::Module);
        facts.warnings.push(ExtractWarning {
            line: 1,
            message: format!(
                "file of {} bytes is too large to read as configuration",
                text.len()
            ),
        });
        return facts;
    }
    match format {
        ConfigFormat::Yaml => yaml::extract(path, text, models),
        ConfigFormat::Systemd => systemd::extract(path, text, models),
        ConfigFormat::Logrotate => logrotate::extract(path, text, models),
        ConfigFormat::KeyValue => keyvalue::extract(path, text, models),
        ConfigFormat::Dockerfile => dockerfile::extract(path, text, models),
        ConfigFormat::DotEnv => dotenv::extract(path, text, models),
        ConfigFormat::Template(engine) => template::extract(engine, path, text, models),
        ConfigFormat::Manifest => manifest::extract(path, text),
        ConfigFormat::Generic => generic::extract(path, text, models),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected_by_path_first() {
        let cases: &[(&str, Option<ConfigFormat>)] = &[
            ("deploy/docker-compose.yml", Some(ConfigFormat::Yaml)),
            ("k8s/worker.yaml", Some(ConfigFormat::Yaml)),
            (
                "etc/systemd/system/cleanup.timer",
                Some(ConfigFormat::Systemd),
            ),
            ("systemd/cleanup.service", Some(ConfigFormat::Systemd)),
            (
                "etc/systemd/system/cleanup.service.d/override.conf",
                Some(ConfigFormat::Systemd),
            ),
            ("etc/logrotate.d/app", Some(ConfigFormat::Logrotate)),
            ("ops/app.logrotate", Some(ConfigFormat::Logrotate)),
            ("logrotate.conf", Some(ConfigFormat::Logrotate)),
            ("etc/fail2ban/jail.local", Some(ConfigFormat::KeyValue)),
            ("etc/nginx/nginx.conf", Some(ConfigFormat::KeyValue)),
            ("etc/dnsmasq.conf", Some(ConfigFormat::KeyValue)),
            ("Dockerfile", Some(ConfigFormat::Dockerfile)),
            ("docker/Dockerfile.worker", Some(ConfigFormat::Dockerfile)),
            ("docker/worker.dockerfile", Some(ConfigFormat::Dockerfile)),
            ("Containerfile", Some(ConfigFormat::Dockerfile)),
            (".env", Some(ConfigFormat::DotEnv)),
            (".env.production", Some(ConfigFormat::DotEnv)),
            ("deploy/worker.env", Some(ConfigFormat::DotEnv)),
            ("etc/default/app", Some(ConfigFormat::DotEnv)),
            (
                "roles/backup/templates/backup.cron.j2",
                Some(ConfigFormat::Template(TemplateEngine::Jinja)),
            ),
            (
                "templates/app.conf.erb",
                Some(ConfigFormat::Template(TemplateEngine::Erb)),
            ),
            ("src/app.php", Some(ConfigFormat::Generic)),
            ("Makefile", Some(ConfigFormat::Generic)),
            ("README.md", None),
            ("package-lock.json", None),
            ("static/app.min.js", None),
            ("Cargo.lock", None),
        ];
        for (path, expected) in cases {
            assert_eq!(detect(path, b""), *expected, "{path}");
        }
    }

    #[test]
    fn files_are_read_as_what_their_content_says() {
        use crate::extract::Language;
        let cases: &[(&str, &[u8], Option<Language>)] = &[
            // A shebang wins over the extension, also through a launcher.
            (
                "init/janitor.service",
                b"#!/bin/sh\nrm -f /x\n",
                Some(Language::Bash),
            ),
            (
                "etc/s6-overlay/scripts/config",
                b"#!/command/with-contenv bash\n",
                Some(Language::Bash),
            ),
            (
                "tools/x.sh",
                b"#!/usr/bin/env python3\n",
                Some(Language::Python),
            ),
            (
                "hooks/x.cgi",
                b"#!/usr/bin/env -S bash -e\n",
                Some(Language::Bash),
            ),
            (
                "src/lib.rs",
                b"#![allow(dead_code)]\n",
                Some(Language::Rust),
            ),
            ("bin/tool", b"#!/usr/bin/perl\n", None),
            // Markup named `.service` is no unit (Avahi).
            (
                "avahi/x.service",
                b"<?xml version=\"1.0\"?>\n<service-group/>\n",
                None,
            ),
            (
                "units/x.service",
                b"[Service]\nExecStart=/bin/true\n",
                Some(Language::Config(ConfigFormat::Systemd)),
            ),
            // Prose in a directory of environment files is not one.
            (
                "etc/sysconfig/README",
                b"These files are read by the units.\n",
                None,
            ),
            (
                "etc/sysconfig/app",
                b"# app\nAPP_OPTS=\"-v\"\nexport LEVEL=2\n",
                Some(Language::Config(ConfigFormat::DotEnv)),
            ),
            // Jinja by content under `templates/`, whatever the name; Go templates are not.
            (
                "roles/app/templates/settings.py",
                b"DEBUG = {{ app_debug }}\n{% if x %}\nA = 1\n{% endif %}\n",
                Some(Language::Config(ConfigFormat::Template(
                    TemplateEngine::Jinja,
                ))),
            ),
            ("web/templates/index.html", b"<h1>{{ .Title }}</h1>\n", None),
            (
                ".github/workflows/templates/ci.sh",
                b"echo ${{ github.sha }}\n",
                Some(Language::Bash),
            ),
        ];
        for (path, content, expected) in cases {
            assert_eq!(Language::detect(path, content), *expected, "{path}");
        }
    }

    #[test]
    fn templates_of_any_inner_format_are_read_as_it() {
        use crate::extract::formats::testing::models;
        let models = models();
        let read = |path: &str, text: &str| crate::extract::extract(path, text.as_bytes(), &models);
        let sh = read(
            "templates/default/purge.sh.erb",
            "#!/bin/bash\n<% if @on %>\nrm -f /srv/x/<%= @name %>.csv\n<% end %>\n",
        )
        .expect("read");
        assert_eq!(sh.accesses.len(), 1, "{:?}", sh.accesses);
        assert!(sh.warnings.is_empty(), "{:?}", sh.warnings);
        let conf = read(
            "templates/default/nginx.conf.erb",
            "error_log <%= @log_dir %>/error.log;\naccess_log /var/log/nginx/access.log;\n",
        )
        .expect("read");
        assert!(!conf.accesses.is_empty());
        let yaml = read(
            "roles/x/templates/config.yml.j2",
            "log:\n  file: /var/log/x/{{ name }}.log\n",
        )
        .expect("read");
        assert!(yaml.warnings.is_empty(), "{:?}", yaml.warnings);
        // What a template renders to is unknown: nothing is read, and the one note says so.
        for path in [
            "templates/default/motd.erb",
            "templates/foo.j2",
            "t/page.html.jinja2",
        ] {
            let facts = read(path, "Hello <%= @x %> {{ y }}\nWorld\n").expect("read");
            assert!(facts.accesses.is_empty(), "{path}");
            let messages: Vec<&str> = facts.warnings.iter().map(|w| w.message.as_str()).collect();
            assert_eq!(messages, vec![template::UNKNOWN_INNER_FORMAT], "{path}");
        }
    }

    #[test]
    fn helm_templates_are_go_templates_by_content() {
        let helm =
            b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n";
        assert_eq!(
            detect("charts/worker/templates/deployment.yaml", helm),
            Some(ConfigFormat::Template(TemplateEngine::Go))
        );
        let ansible = b"- name: x\n  copy:\n    dest: \"{{ dest }}\"\n";
        assert_eq!(
            detect("roles/x/templates/tasks.yaml", ansible),
            Some(ConfigFormat::Yaml)
        );
    }

    #[test]
    fn other_extractors_keep_their_files() {
        use crate::extract::Language;
        assert_eq!(Language::detect("x.py", b""), Some(Language::Python));
        assert_eq!(Language::detect("x.sh", b""), Some(Language::Bash));
        assert_eq!(Language::detect("crontab", b""), Some(Language::Crontab));
        assert_eq!(
            Language::detect("etc/cron.d/backup.j2", b""),
            Some(Language::Config(ConfigFormat::Template(
                TemplateEngine::Jinja
            )))
        );
    }
}

#[cfg(test)]
mod robustness {
    //! Every format on hostile input: random bytes, truncations and splices of realistic
    //! files, and large inputs. Nothing may panic, and everything must finish quickly.

    use super::*;
    use crate::extract::formats::testing::models;

    /// A small deterministic generator (xorshift), so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    const SAMPLES: &[(&str, &str)] = &[
        (
            "docker-compose.yml",
            "services:\n  w:\n    command: [\"sh\", \"-c\", \"rm -rf /tmp/x\"]\n    environment:\n      - A=${B:-c}\n    volumes: [\"./d:/d\"]\n",
        ),
        (
            "k8s/job.yaml",
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x}\nspec:\n  schedule: '*/5 * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n            - name: c\n              command: [sh, -c]\n              args: [\"find /x -delete\"]\n",
        ),
        (
            "site.yml",
            "- hosts: all\n  tasks:\n    - file: path=/x state=absent\n    - cron: {name: a, job: \"rm {{ x }}\"}\n    - shell: >\n        rm -rf\n        /y\n",
        ),
        (
            "x.service",
            "[Service]\nEnvironment=\"A=1\"\nExecStart=/bin/sh -c 'rm /x'\nExecReload=/bin/kill -HUP $MAINPID\n",
        ),
        (
            "x.timer",
            "[Timer]\nOnCalendar=Mon..Fri *-*-* 02:00\nOnBootSec=5min\n",
        ),
        (
            "logrotate.d/app",
            "/var/log/a/*.log \"/b c.log\" {\n rotate 3\n postrotate\n  kill -HUP 1\n endscript\n}\n",
        ),
        (
            "jail.local",
            "[a]\nlogpath = /var/log/a.log\n   /var/log/b.log\n",
        ),
        (
            "Dockerfile",
            "FROM a AS b\nENV A=1 B=\"2\"\nRUN x \\\n  && rm /y\nCOPY [\"a\", \"/b/\"]\nRUN <<EOF\nrm /z\nEOF\n",
        ),
        (".env", "export A=\"x\ny\"\nB='z'\n"),
        (
            "backup.cron.j2",
            "{% if x %}\n0 3 * * * root find /b/{{ p | default('d') }}-x -delete\n{# c #}\n",
        ),
        (
            "app.conf.erb",
            "log_file = <%= \"#{@a}-b\" %>/x.log\n<% if @b %>\n",
        ),
        (
            "chart/templates/d.yaml",
            "kind: Pod\napiVersion: v1\nspec:\n  containers:\n    - name: {{ .Values.n }}\n      command: [\"{{ .Values.c }}\"]\n",
        ),
        (
            "src/x.php",
            "<?php $a = getenv('A_B'); $p = \"/var/log/%s/x.log\";\n",
        ),
    ];

    fn run(models: &Models, path: &str, text: &str) {
        if let Some(format) = detect(path, text.as_bytes()) {
            let _ = extract(format, path, text, models);
        }
    }

    #[test]
    fn mutated_samples_never_panic() {
        let models = models();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for (path, text) in SAMPLES {
            let bytes = text.as_bytes();
            for cut in (0..bytes.len()).step_by(3) {
                run(&models, path, &String::from_utf8_lossy(&bytes[..cut]));
            }
            for _ in 0..60 {
                let mut mutated = bytes.to_vec();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(mutated.len());
                    match rng.below(4) {
                        0 => mutated.insert(at, (rng.next() & 0xff) as u8),
                        1 if !mutated.is_empty() => {
                            mutated.remove(at.min(mutated.len() - 1));
                        }
                        2 => {
                            let (other, _) = SAMPLES[rng.below(SAMPLES.len())];
                            mutated.splice(at..at, other.bytes().take(40));
                        }
                        _ => {
                            let special = [
                                b'{', b'}', b'"', b'\'', b'\\', b'\n', b'%', b'$', b'[', b':',
                                b'-', b'|',
                            ];
                            mutated.insert(at, special[rng.below(special.len())]);
                        }
                    }
                }
                run(&models, path, &String::from_utf8_lossy(&mutated));
            }
        }
    }

    #[test]
    fn random_bytes_and_large_inputs_never_panic() {
        let models = models();
        let mut rng = Rng(42);
        for (path, text) in SAMPLES {
            for len in [1usize, 7, 64, 512, 4096] {
                let noise: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
                run(&models, path, &String::from_utf8_lossy(&noise));
            }
            let large = text.repeat(2_000);
            let start = std::time::Instant::now();
            run(&models, path, &large);
            assert!(
                start.elapsed().as_secs() < 30,
                "{path} took {:?}",
                start.elapsed()
            );
        }
        let one_line = "x".repeat(1 << 20);
        for (path, _) in SAMPLES {
            run(&models, path, &one_line);
        }
    }
}
