//! Deployments: how a deployment file launches a program, reduced to what two deployments of
//! the same program can be compared on.
//!
//! Input: what a compose service, a Kubernetes container, a systemd service or a crontab entry
//! says — its image, its command words (each at its line) and its environment, volumes and
//! user. Output: one [`DeploymentFact`] per deployment: the program's identity (the image's
//! repository without registry, tag or digest, and the command reduced to the program and the
//! module or subcommand it runs: `celery -A proj worker`, `python -m loader.main`, `sync`) and
//! its settings (command options, the remaining arguments, environment values, the host side
//! of each container path, the user), each at its line. The drift rule compares them.
//!
//! Invariants: a command knockon cannot reduce to one program (a shell script, a templated
//! program) is [`Program::Unknown`] and never the same program as anything; at most
//! [`MAX_SETTINGS`] settings per deployment and [`MAX_WORDS`] command words are read.

use crate::model::ResourceKind;
use serde::{Deserialize, Serialize};

/// Settings kept per deployment.
pub const MAX_SETTINGS: usize = 256;
/// Command words read per deployment.
pub const MAX_WORDS: usize = 512;

/// One deployment of a program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentFact {
    /// The deployment as a reviewer names it, unique in its file: `compose service worker`,
    /// `Kubernetes Deployment/worker container worker`, `systemd service worker.service`,
    /// `crontab entry running sync`.
    pub unit: String,
    /// What declares it: `compose service`, `Kubernetes container`, `systemd service`,
    /// `crontab entry`.
    pub via: String,
    pub line: u32,
    /// The image's repository (`myorg/worker` for `registry.example.com/myorg/worker:1.3`).
    #[serde(default, skip_serializing_if = "crate::store::codec::omit_none")]
    pub image: Option<String>,
    /// The image as a template expression (`{{ .Values.image.repository }}`), for the resolver
    /// to bind; `image` then holds the template's text.
    #[serde(default, skip_serializing_if = "crate::store::codec::omit_none")]
    pub image_template: Option<crate::expr::Expr>,
    pub program: Program,
    pub settings: Vec<Setting>,
    /// ConfigMaps whose keys become environment variables (Kubernetes `envFrom`), with the
    /// line that names each; the resolver adds their values as settings.
    #[serde(default, skip_serializing_if = "crate::store::codec::omit_empty")]
    pub env_from: Vec<(String, u32)>,
}

/// The `via` of a ConfigMap's data as a [`DeploymentFact`]: no program, its keys as
/// environment settings, for `envFrom` to take.
pub const CONFIG_MAP: &str = "Kubernetes ConfigMap";

/// What a deployment runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "name")]
pub enum Program {
    /// The image's own entry point and command (the deployment gives options only, or nothing).
    ImageDefault,
    /// The program and what identifies the job it does: `celery -A proj worker`.
    Known(String),
    /// A command that is not one program knockon can name.
    Unknown,
}

/// Reads a [`Program`] from the map `knockon facts` prints (`{"kind": "known", "name": "x"}`)
/// or from the array the fact codec writes (`["known", "x"]`, `["unknown"]`): serde's derived
/// reader of an adjacently tagged enum wants the content's place in an array even for a
/// variant without one.
impl<'de> Deserialize<'de> for Program {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess};
        struct ProgramVisitor;
        impl<'de> serde::de::Visitor<'de> for ProgramVisitor {
            type Value = Program;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a program")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Program, A::Error> {
                let (mut kind, mut name) = (None, None);
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*key {
                        "kind" => kind = Some(map.next_value()?),
                        "name" => name = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                program_of(kind, name)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Program, A::Error> {
                let kind = seq.next_element()?;
                let name = seq.next_element::<Option<String>>()?.flatten();
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                program_of(kind, name)
            }
        }
        deserializer.deserialize_any(ProgramVisitor)
    }
}

fn program_of<E: serde::de::Error>(
    kind: Option<std::borrow::Cow<'_, str>>,
    name: Option<String>,
) -> Result<Program, E> {
    match kind.as_deref() {
        Some("image-default") => Ok(Program::ImageDefault),
        Some("known") => name
            .map(Program::Known)
            .ok_or_else(|| E::missing_field("name")),
        Some("unknown") => Ok(Program::Unknown),
        Some(other) => Err(E::unknown_variant(
            other,
            &["image-default", "known", "unknown"],
        )),
        None => Err(E::missing_field("kind")),
    }
}

/// What a setting configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingKind {
    /// A command option: `-Q billing`, `--topic=x`, `--dry-run` (value empty).
    Option,
    /// The positional arguments after the program and its subcommand, as one value.
    Arguments,
    /// An environment variable's value.
    Env,
    /// The host side (or volume) mapped to a container path.
    Volume,
    /// The user the program runs as.
    User,
}

/// One setting of a deployment and the line that writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    pub kind: SettingKind,
    /// The option (`-Q`), the variable (`QUEUE`), the container path (`/data`); empty for the
    /// user and the arguments.
    pub name: String,
    pub value: String,
    pub line: u32,
    /// The value as a template expression, for the resolver to bind; `value` then holds the
    /// template's text. A templated value the resolver cannot bind to one literal is dropped.
    #[serde(default, skip_serializing_if = "crate::store::codec::omit_none")]
    pub template: Option<crate::expr::Expr>,
    /// Where the resolver found a templated value (the chart's `values.yaml` line), nearest
    /// first.
    #[serde(default, skip_serializing_if = "crate::store::codec::omit_empty")]
    pub origins: Vec<crate::model::Origin>,
}

impl Setting {
    pub fn new(kind: SettingKind, name: &str, value: &str, line: u32) -> Setting {
        Setting {
            kind,
            name: name.to_string(),
            value: value.to_string(),
            line,
            template: None,
            origins: Vec::new(),
        }
    }

    /// The setting as a reviewer reads it: `-Q billing`, `QUEUE=orders`, `./data:/data`.
    pub fn display(&self) -> String {
        match self.kind {
            SettingKind::Option if self.value.is_empty() => self.name.clone(),
            SettingKind::Option => format!("{} {}", self.name, self.value),
            SettingKind::Arguments => format!("arguments `{}`", self.value),
            SettingKind::Env => format!("{}={}", self.name, self.value),
            SettingKind::Volume => format!("{}:{}", self.value, self.name),
            SettingKind::User => format!("user {}", self.value),
        }
    }

    /// The setting without its value: `-Q`, `environment QUEUE`, `the volume at /data`.
    pub fn describe_key(&self) -> String {
        match self.kind {
            SettingKind::Option => format!("option {}", self.name),
            SettingKind::Arguments => "arguments".to_string(),
            SettingKind::Env => format!("environment variable {}", self.name),
            SettingKind::Volume => format!("the host path mounted at {}", self.name),
            SettingKind::User => "user".to_string(),
        }
    }

    /// Do two settings hold the same value? Comma lists compare as sets (`-Q a,b` = `-Q b,a`),
    /// surrounding quotes and blanks aside.
    pub fn same_value(&self, other: &Setting) -> bool {
        normalized(&self.value) == normalized(&other.value)
    }

    /// The kind of resource a finding about this setting names: a queue option or a variable
    /// named for a queue carries a queue, a volume a path, anything else (a variable, an
    /// option, the user) a configuration value, reported as a credential.
    pub fn carries(&self) -> ResourceKind {
        let name = self.name.trim_start_matches('-').to_ascii_lowercase();
        let queue_word = [
            "queue",
            "topic",
            "stream",
            "subject",
            "routing_key",
            "routing-key",
        ]
        .iter()
        .any(|w| name.contains(w));
        match self.kind {
            SettingKind::Volume => ResourceKind::Path,
            // Celery's `-Q` (`-q` is usually "quiet").
            SettingKind::Option if queue_word || self.name == "-Q" => ResourceKind::Queue,
            SettingKind::Env if queue_word => ResourceKind::Queue,
            SettingKind::Option | SettingKind::Arguments if self.value.starts_with('/') => {
                ResourceKind::Path
            }
            _ => ResourceKind::Credential,
        }
    }
}

fn normalized(value: &str) -> String {
    let value = value.trim().trim_matches(['"', '\'']).trim();
    if value.contains(',') {
        let mut items: Vec<&str> = value.split(',').map(str::trim).collect();
        items.sort_unstable();
        items.dedup();
        return items.join(",");
    }
    value.to_string()
}

impl DeploymentFact {
    /// A deployment with no settings yet.
    pub fn new(unit: String, via: &str, line: u32, program: Program) -> DeploymentFact {
        DeploymentFact {
            unit,
            via: via.to_string(),
            line,
            image: None,
            image_template: None,
            program,
            settings: Vec::new(),
            env_from: Vec::new(),
        }
    }

    /// A deployment that runs a command line: its program and the command's settings.
    pub fn launching(
        unit: String,
        via: &str,
        line: u32,
        image: Option<String>,
        words: &[(String, u32)],
    ) -> DeploymentFact {
        let (program, settings) = command(words);
        let mut fact = DeploymentFact::new(unit, via, line, program);
        fact.image = image;
        for setting in settings {
            fact.push(setting);
        }
        fact
    }

    /// Do two deployments run the same program? The same image repository (when both name
    /// one) and the same program; a deployment without an image (a unit, a crontab line) is the
    /// same program as another only by a command both name.
    pub fn same_program(&self, other: &DeploymentFact) -> bool {
        if self.program == Program::Unknown || other.program == Program::Unknown {
            return false;
        }
        match (&self.image, &other.image) {
            (Some(a), Some(b)) => a == b && self.program == other.program,
            _ => matches!(self.program, Program::Known(_)) && self.program == other.program,
        }
    }

    /// The program as a reviewer reads it: `myorg/worker (celery -A proj worker)`.
    pub fn identity(&self) -> String {
        let program = match &self.program {
            Program::Known(p) => Some(p.as_str()),
            _ => None,
        };
        match (&self.image, program) {
            (Some(image), Some(program)) => format!("{image} ({program})"),
            (Some(image), None) => image.clone(),
            (None, Some(program)) => program.to_string(),
            (None, None) => "an unknown program".to_string(),
        }
    }

    /// The setting of this kind and name.
    pub fn setting(&self, kind: SettingKind, name: &str) -> Option<&Setting> {
        self.settings
            .iter()
            .find(|s| s.kind == kind && s.name == name)
    }

    /// Adds a setting (a later one of the same kind and name replaces it, as the last
    /// `Environment=` or list entry wins), up to [`MAX_SETTINGS`].
    pub fn push(&mut self, setting: Setting) {
        if let Some(existing) = self
            .settings
            .iter_mut()
            .find(|s| s.kind == setting.kind && s.name == setting.name)
        {
            *existing = setting;
        } else if self.settings.len() < MAX_SETTINGS {
            self.settings.push(setting);
        }
    }
}

/// A deployment and the file that declares it, as the resolver lists them for a world.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deployed {
    pub repo: String,
    pub path: String,
    pub fact: DeploymentFact,
}

impl Deployed {
    /// The site of a line of the declaring file.
    pub fn site(&self, line: u32) -> crate::model::Site {
        crate::model::Site {
            repo: self.repo.clone(),
            path: self.path.clone(),
            line,
        }
    }
}

/// The repository of an image reference, without registry, tag or digest:
/// `registry.example.com:5000/myorg/worker:1.3@sha256:..` -> `myorg/worker`, `redis:7` and
/// `docker.io/library/redis` -> `redis`. Empty text is no image.
pub fn image_repository(text: &str) -> Option<String> {
    let text = text.trim().trim_matches(['"', '\'']);
    let text = text.split('@').next().unwrap_or(text);
    if text.is_empty() {
        return None;
    }
    let mut parts: Vec<&str> = text.split('/').collect();
    if let Some(last) = parts.last_mut() {
        // The first `:` of the last component starts the tag (`worker:${TAG:-1}` included).
        *last = last.split(':').next().unwrap_or(last);
    }
    if parts.len() > 1 {
        let first = parts[0];
        let registry = first.contains(['.', ':'])
            || first == "localhost"
            || (first.starts_with('$') && first.len() > 1);
        if registry {
            parts.remove(0);
        }
    }
    if parts.len() > 1 && parts[0] == "library" {
        parts.remove(0);
    }
    let repository = parts.join("/").to_ascii_lowercase();
    (!repository.is_empty()).then_some(repository)
}

/// Wrappers that start the real program: `exec celery ...`, `tini -- celery ...`.
const WRAPPERS: &[&str] = &["exec", "tini", "dumb-init", "--", "nohup", "nice", "env"];

/// Runners followed by `run`/`exec`: `uv run celery ...`, `bundle exec sidekiq ...`.
const RUNNERS: &[(&str, &str)] = &[
    ("uv", "run"),
    ("poetry", "run"),
    ("pipenv", "run"),
    ("pdm", "run"),
    ("hatch", "run"),
    ("bundle", "exec"),
    ("npx", ""),
];

/// Interpreters whose first non-option argument is the script (or `-m MODULE`) they run.
const INTERPRETERS: &[&str] = &["node", "ruby", "perl", "php", "bash", "sh", "deno", "bun"];

/// Options that say which application a program serves rather than how: part of its
/// identity (`celery -A proj worker` and `celery -A other worker` are different programs).
const IDENTITY_OPTIONS: &[&str] = &["-A", "--app"];

/// Reduces command words to the program and its settings. `words` are the entry point and
/// command (compose), command and args (Kubernetes), or the exec line, each at its line.
pub fn command(words: &[(String, u32)]) -> (Program, Vec<Setting>) {
    command_at(&words[..words.len().min(MAX_WORDS)], 0)
}

fn command_at(words: &[(String, u32)], depth: u32) -> (Program, Vec<Setting>) {
    let mut settings = Vec::new();
    let mut i = 0;
    while let Some((word, line)) = words.get(i) {
        let base = basename(word);
        // An image's entry point script (`/docker-entrypoint.sh celery ...`) ends in `exec "$@"`.
        let entrypoint_script = base.contains("entrypoint")
            && words
                .get(i + 1)
                .is_some_and(|(next, _)| !next.starts_with('-'));
        if WRAPPERS.contains(&base) || entrypoint_script {
            i += 1;
        } else if let Some((name, value)) = assignment(word) {
            settings.push(Setting::new(SettingKind::Env, name, value, *line));
            i += 1;
        } else if matches!(base, "gosu" | "su-exec") && words.len() > i + 2 {
            if let Some((user, line)) = words.get(i + 1) {
                settings.push(Setting::new(SettingKind::User, "", user, *line));
            }
            i += 2;
        } else if let Some((_, verb)) = RUNNERS.iter().find(|(r, _)| *r == base) {
            let next = words.get(i + 1).map(|(w, _)| w.as_str());
            i += if verb.is_empty() || next != Some(*verb) {
                1
            } else {
                2
            };
        } else {
            break;
        }
    }
    let rest = &words[i..];
    let Some((first, _)) = rest.first() else {
        return (Program::ImageDefault, settings);
    };
    if first.starts_with('-') {
        options(rest, &mut settings);
        return (Program::ImageDefault, settings);
    }
    // The program is named by its file name: a templated directory (`${VENV}/bin/celery`)
    // does not change which program it is.
    let base = basename(first);
    if !plain_word(base) {
        return (Program::Unknown, settings);
    }
    // `sh -c "exec celery -A proj worker"`: a one-command script is that command.
    if matches!(base, "sh" | "bash" | "dash" | "ash")
        && let Some((flag, _)) = rest.get(1)
        && flag.starts_with('-')
        && !flag.starts_with("--")
        && flag.contains('c')
    {
        let Some((script, line)) = rest.get(2) else {
            return (Program::Unknown, settings);
        };
        if depth > 0 || script.contains([';', '|', '&', '\n', '`', '(', '>', '<']) {
            return (Program::Unknown, settings);
        }
        let inner: Vec<(String, u32)> = crate::extract::formats::common::shell_words(script)
            .into_iter()
            .take(MAX_WORDS)
            .map(|w| (w, *line))
            .collect();
        let (program, inner_settings) = command_at(&inner, depth + 1);
        settings.extend(inner_settings);
        return (program, settings);
    }
    let mut key = base.to_string();
    let mut j = 1;
    if is_python(base) {
        key = "python".to_string();
        while let Some((word, _)) = rest.get(j) {
            match word.as_str() {
                "-m" => {
                    let Some((module, _)) = rest.get(j + 1) else {
                        return (Program::Unknown, settings);
                    };
                    key.push_str(&format!(" -m {module}"));
                    j += 2;
                    break;
                }
                "-c" => return (Program::Unknown, settings),
                "-X" | "-W" => j += 2,
                w if w.starts_with('-') => j += 1,
                script => {
                    key.push_str(&format!(" {}", script_key(script)));
                    j += 1;
                    break;
                }
            }
        }
    } else if INTERPRETERS.contains(&base)
        && let Some((script, _)) = rest.get(1)
        && !script.starts_with('-')
    {
        key.push_str(&format!(" {}", script_key(script)));
        j = 2;
    }
    // Identity options anywhere, and the first positional word before any other option (the
    // subcommand: `worker`, `beat`, `runserver`).
    let args = rest.get(j..).unwrap_or_default();
    let mut identity: Vec<String> = Vec::new();
    let mut subcommand: Option<usize> = None;
    let mut k = 0;
    let mut skip: Vec<usize> = Vec::new();
    while let Some((word, _)) = args.get(k) {
        if let Some((name, value)) = word.split_once('=')
            && IDENTITY_OPTIONS.contains(&name)
        {
            identity.push(format!("-A {value}"));
            skip.push(k);
            k += 1;
            continue;
        }
        if IDENTITY_OPTIONS.contains(&word.as_str()) {
            if let Some((value, _)) = args.get(k + 1) {
                identity.push(format!("-A {value}"));
                skip.extend([k, k + 1]);
            }
            k += 2;
            continue;
        }
        if word.starts_with('-') {
            break;
        }
        if subcommand.is_none() && subcommand_word(word) {
            subcommand = Some(k);
            skip.push(k);
        }
        break;
    }
    for id in &identity {
        key.push(' ');
        key.push_str(id);
    }
    if let Some(index) = subcommand
        && let Some((word, _)) = args.get(index)
    {
        key.push(' ');
        key.push_str(word);
    }
    let remaining: Vec<(String, u32)> = args
        .iter()
        .enumerate()
        .filter(|(index, _)| !skip.contains(index))
        .map(|(_, w)| w.clone())
        .collect();
    options(&remaining, &mut settings);
    (Program::Known(key), settings)
}

/// Options and positional arguments: `--name=value`, `--name value` (the next word when it is
/// not an option), `-x value`, flags; positionals joined as one [`SettingKind::Arguments`].
fn options(words: &[(String, u32)], settings: &mut Vec<Setting>) {
    let mut positional: Vec<&str> = Vec::new();
    let mut positional_line = None;
    let mut options: Vec<Setting> = Vec::new();
    let mut add =
        |name: &str, value: &str, line: u32| match options.iter_mut().find(|s| s.name == name) {
            Some(existing) => {
                existing.value.push(' ');
                existing.value.push_str(value);
            }
            None => options.push(Setting::new(SettingKind::Option, name, value, line)),
        };
    let mut i = 0;
    while let Some((word, line)) = words.get(i) {
        i += 1;
        if word == "--" {
            for (rest, line) in &words[i..] {
                positional.push(rest);
                positional_line.get_or_insert(*line);
            }
            break;
        }
        if !word.starts_with('-') || word == "-" {
            positional.push(word);
            positional_line.get_or_insert(*line);
            continue;
        }
        if let Some((name, value)) = word.split_once('=') {
            add(name, value, *line);
            continue;
        }
        let long = word.starts_with("--");
        let takes_next = long || word.len() == 2;
        match words.get(i) {
            Some((next, next_line)) if takes_next && !next.starts_with('-') => {
                add(word, next, *next_line);
                i += 1;
            }
            _ => add(word, "", *line),
        }
    }
    settings.extend(options);
    if let Some(line) = positional_line {
        settings.push(Setting::new(
            SettingKind::Arguments,
            "",
            &positional.join(" "),
            line,
        ));
    }
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

fn is_python(base: &str) -> bool {
    ["python", "pypy"].iter().any(|p| {
        base.strip_prefix(p)
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    })
}

/// A script named by its file name (`manage.py` for `/srv/app/manage.py` and `./manage.py`):
/// deployments place the tree differently (a container's working directory, a host's checkout),
/// as they do programs.
fn script_key(script: &str) -> String {
    basename(script.trim_end_matches('/')).to_string()
}

/// A word that names one program: no expansion, template or shell syntax.
fn plain_word(word: &str) -> bool {
    !word.is_empty() && !word.contains(['$', '{', '}', '`', ';', '|', '&', '<', '>', '(', ')'])
}

/// A subcommand: a bare word (`worker`, `runserver`, `app:wsgi`), not a path or a value list.
fn subcommand_word(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.'))
}

/// `NAME=value` with a valid variable name.
fn assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    super::common::is_ascii_identifier(name).then_some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program reads back from JSON and from both MessagePack forms (named for indexes,
    /// positional for the cache); an unknown kind or a known program without its name is an
    /// error.
    #[test]
    fn programs_read_back_in_every_form() {
        let programs = [
            Program::ImageDefault,
            Program::Known("celery -A proj worker".to_string()),
            Program::Unknown,
        ];
        for program in programs {
            let json = serde_json::to_string(&program).unwrap();
            assert_eq!(serde_json::from_str::<Program>(&json).unwrap(), program);
            for bytes in [
                rmp_serde::to_vec_named(&program).unwrap(),
                rmp_serde::to_vec(&program).unwrap(),
            ] {
                assert_eq!(rmp_serde::from_slice::<Program>(&bytes).unwrap(), program);
            }
        }
        assert!(serde_json::from_str::<Program>(r#"{"kind":"known"}"#).is_err());
        assert!(serde_json::from_str::<Program>(r#"{"kind":"other"}"#).is_err());
        assert!(serde_json::from_str::<Program>(r#"{"name":"x"}"#).is_err());
        let unknown = serde_json::from_str::<Program>(r#"{"name":null,"kind":"unknown"}"#);
        assert_eq!(unknown.unwrap(), Program::Unknown);
    }

    fn words(text: &str) -> Vec<(String, u32)> {
        text.split_whitespace()
            .map(|w| (w.to_string(), 1))
            .collect()
    }

    fn program(text: &str) -> Program {
        command(&words(text)).0
    }

    fn known(text: &str) -> Program {
        Program::Known(text.to_string())
    }

    #[test]
    fn images_compare_by_repository() {
        let same = [
            "myorg/worker:1.2",
            "myorg/worker:1.3",
            "registry.example.com/myorg/worker:latest",
            "registry.example.com:5000/myorg/worker@sha256:abc",
            "${REGISTRY}/myorg/worker:${TAG:-1.2}",
            "localhost/myorg/worker",
        ];
        for image in same {
            assert_eq!(
                image_repository(image).as_deref(),
                Some("myorg/worker"),
                "{image}"
            );
        }
        assert_eq!(image_repository("redis:7").as_deref(), Some("redis"));
        assert_eq!(
            image_repository("docker.io/library/redis").as_deref(),
            Some("redis")
        );
        assert_ne!(image_repository("redis"), image_repository("myorg/worker"));
        assert_eq!(image_repository("  "), None);
    }

    #[test]
    fn programs_keep_module_app_and_subcommand() {
        assert_eq!(
            program("celery -A proj worker -Q billing -l info"),
            known("celery -A proj worker")
        );
        assert_eq!(
            program("/opt/venv/bin/celery --app=proj worker --queues=billing"),
            known("celery -A proj worker")
        );
        assert_eq!(program("celery -A proj beat"), known("celery -A proj beat"));
        assert_ne!(
            program("celery -A proj beat"),
            program("celery -A proj worker")
        );
        assert_eq!(
            program("python3 -u -m loader.main --topic ticks"),
            known("python -m loader.main")
        );
        assert_eq!(
            program("/usr/bin/python3.11 /srv/app/manage.py runworker --threads 4"),
            known("python manage.py runworker")
        );
        assert_eq!(
            program("python ./manage.py runworker"),
            known("python manage.py runworker")
        );
        assert_eq!(program("/opt/app/bin/sync --mode full"), known("sync"));
        assert_eq!(
            program("exec uv run celery -A proj worker"),
            known("celery -A proj worker")
        );
        assert_eq!(
            program("/docker-entrypoint.sh celery -A proj worker -Q a"),
            known("celery -A proj worker")
        );
        assert_eq!(program("-Q billing"), Program::ImageDefault);
        assert_eq!(program(""), Program::ImageDefault);
    }

    #[test]
    fn shell_scripts_and_templates_are_unknown() {
        assert_eq!(program("python -c print(1)"), Program::Unknown);
        assert_eq!(program("${APP_BIN} --mode x"), Program::Unknown);
        assert_eq!(
            program("${VENV}/bin/celery -A proj worker"),
            known("celery -A proj worker")
        );
        let script = vec![
            ("sh".to_string(), 1),
            ("-c".to_string(), 1),
            ("migrate && celery -A proj worker".to_string(), 2),
        ];
        assert_eq!(command(&script).0, Program::Unknown);
        let one_command = vec![
            ("sh".to_string(), 1),
            ("-c".to_string(), 1),
            ("exec celery -A proj worker -Q billing".to_string(), 2),
        ];
        let (program, settings) = command(&one_command);
        assert_eq!(program, known("celery -A proj worker"));
        assert_eq!(settings[0].display(), "-Q billing");
        assert_eq!(settings[0].line, 2);
    }

    #[test]
    fn options_and_arguments_become_settings() {
        let lined: Vec<(String, u32)> = ["celery", "-A", "proj", "worker", "-Q", "billing,mail"]
            .iter()
            .enumerate()
            .map(|(i, w)| (w.to_string(), i as u32 + 3))
            .collect();
        let (_, settings) = command(&lined);
        assert_eq!(settings.len(), 1);
        assert_eq!(settings[0].name, "-Q");
        assert_eq!(settings[0].value, "billing,mail");
        assert_eq!(settings[0].line, 8);
        let (_, settings) = command(&words("QUEUE=a sync --dry-run --mode=full /data/in"));
        let shown: Vec<String> = settings.iter().map(Setting::display).collect();
        assert_eq!(
            shown,
            [
                "QUEUE=a",
                "--dry-run",
                "--mode full",
                "arguments `/data/in`"
            ]
        );
    }

    #[test]
    fn values_compare_as_sets_of_list_items() {
        let a = Setting::new(SettingKind::Option, "-Q", "billing,mail", 1);
        let b = Setting::new(SettingKind::Option, "-Q", "mail, billing", 2);
        let c = Setting::new(SettingKind::Option, "-Q", "billing", 3);
        assert!(a.same_value(&b));
        assert!(!a.same_value(&c));
        assert_eq!(a.carries(), ResourceKind::Queue);
        assert_eq!(
            Setting::new(SettingKind::Option, "-q", "", 1).carries(),
            ResourceKind::Credential
        );
        assert_eq!(
            Setting::new(SettingKind::Env, "ORDERS_QUEUE", "x", 1).carries(),
            ResourceKind::Queue
        );
        assert_eq!(
            Setting::new(SettingKind::Env, "DB_HOST", "x", 1).carries(),
            ResourceKind::Credential
        );
        assert_eq!(
            Setting::new(SettingKind::Volume, "/data", "./data", 1).carries(),
            ResourceKind::Path
        );
    }

    fn deployment(image: Option<&str>, command_text: &str) -> DeploymentFact {
        let (program, settings) = command(&words(command_text));
        DeploymentFact {
            unit: "u".into(),
            via: "test".into(),
            line: 1,
            image: image.and_then(image_repository),
            image_template: None,
            program,
            settings,
            env_from: Vec::new(),
        }
    }

    #[test]
    fn same_program_needs_image_and_command() {
        let compose = deployment(Some("myorg/worker:1.2"), "celery -A proj worker -Q a");
        let kube = deployment(
            Some("reg.io/myorg/worker:1.3"),
            "celery -A proj worker -Q b",
        );
        let beat = deployment(Some("myorg/worker:1.2"), "celery -A proj beat");
        let other_image = deployment(Some("myorg/mailer:1.2"), "celery -A proj worker -Q a");
        let unit = deployment(None, "/opt/venv/bin/celery -A proj worker -Q a");
        let plain = deployment(Some("myorg/worker"), "");
        let plain_too = deployment(Some("myorg/worker:2"), "");
        let redis = deployment(Some("redis"), "");
        assert!(compose.same_program(&kube));
        assert!(compose.same_program(&unit));
        assert!(!compose.same_program(&beat));
        assert!(!compose.same_program(&other_image));
        assert!(plain.same_program(&plain_too));
        assert!(!plain.same_program(&redis));
        assert!(!plain.same_program(&compose));
        let script = deployment(None, "${BIN} -Q a");
        assert!(!script.same_program(&script));
    }

    /// The deployments `knockon facts` would list for a file.
    fn deployments_of(path: &str, text: &str) -> Vec<DeploymentFact> {
        let models = crate::rules::models::Models::builtin().unwrap();
        crate::extract::extract(path, text.as_bytes(), &models)
            .map(|f| f.deployments)
            .unwrap_or_default()
    }

    fn shown(fact: &DeploymentFact) -> Vec<(String, u32)> {
        fact.settings
            .iter()
            .map(|s| (s.display(), s.line))
            .collect()
    }

    #[test]
    fn compose_services_are_deployments() {
        let text = "services:\n  worker:\n    image: reg.io/myorg/worker:1.2\n    command: [\"celery\", \"-A\", \"proj\", \"worker\",\n              \"-Q\", \"billing\"]\n    user: app\n    environment:\n      - QUEUE=orders\n      - FROM_HOST\n    volumes:\n      - ./data:/data/\n      - type: bind\n        source: /srv/logs\n        target: /logs\n  redis:\n    image: redis:7\n";
        let found = deployments_of("docker-compose.yml", text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].unit, "compose service worker");
        assert_eq!(found[0].identity(), "myorg/worker (celery -A proj worker)");
        assert_eq!(
            shown(&found[0]),
            [
                ("-Q billing".to_string(), 5),
                ("QUEUE=orders".to_string(), 8),
                ("./data:/data".to_string(), 11),
                ("/srv/logs:/logs".to_string(), 12),
                ("user app".to_string(), 6),
            ]
        );
        assert_eq!(found[1].program, Program::ImageDefault);
        assert!(!found[0].same_program(&found[1]));
    }

    #[test]
    fn kubernetes_containers_are_deployments() {
        let text = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: sync\nspec:\n  schedule: \"0 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n            - name: sync\n              image: myorg/sync@sha256:abc\n              command: [\"/opt/app/bin/sync\", \"--mode\", \"full\"]\n              env:\n                - name: TARGET\n                  value: /srv/mirror\n                - name: TOKEN\n                  valueFrom:\n                    secretKeyRef: {name: s, key: t}\n              volumeMounts:\n                - {name: data, mountPath: /data}\n                - {name: claim, mountPath: /claim}\n          volumes:\n            - name: data\n              hostPath: {path: /srv/data}\n            - name: claim\n              persistentVolumeClaim: {claimName: c}\n";
        let found = deployments_of("k8s/sync.yaml", text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].unit, "Kubernetes CronJob/sync container sync");
        assert_eq!(found[0].identity(), "myorg/sync (sync)");
        assert_eq!(
            shown(&found[0]),
            [
                ("--mode full".to_string(), 14),
                ("TARGET=/srv/mirror".to_string(), 16),
                ("/srv/data:/data".to_string(), 22),
            ]
        );
    }

    #[test]
    fn systemd_services_and_crontab_entries_are_deployments() {
        let unit = "[Service]\nUser=sync\nEnvironment=TARGET=/srv/mirror \"MODE=a b\"\nExecStart=-/opt/app/bin/sync \\\n  --mode full\n";
        let found = deployments_of("deploy/sync.service", unit);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].unit, "systemd service sync.service");
        assert_eq!(
            shown(&found[0]),
            [
                ("--mode full".to_string(), 5),
                ("user sync".to_string(), 2),
                ("TARGET=/srv/mirror".to_string(), 3),
                ("MODE=a b".to_string(), 3),
            ]
        );
        let timer = "[Timer]\nOnCalendar=daily\n";
        assert!(deployments_of("deploy/sync.timer", timer).is_empty());
        let crontab = "TARGET=/srv/mirror\n*/5 * * * * /opt/app/bin/sync --mode full >> /var/log/sync.log 2>&1\n0 3 * * * cd /opt/app && ./bin/sync --mode incr\n";
        let found = deployments_of("crontab", crontab);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].unit, "crontab entry `*/5 * * * *`");
        assert!(found[0].same_program(&deployments_of("deploy/sync.service", unit)[0]));
        assert_eq!(
            shown(&found[0]),
            [
                ("TARGET=/srv/mirror".to_string(), 1),
                ("--mode full".to_string(), 2),
            ]
        );
    }
}
