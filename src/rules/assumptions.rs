//! What `knockon audit` assumes is produced outside the analysed repositories (the OS, packages,
//! the operator, mounted volumes), as data: `rules/audit/external-producers.toml`.
//!
//! An audit finds consumers that nothing produces. Most paths a program reads that no analysed
//! code writes are not mistakes: `/etc/passwd`, a package's files, the config file the operator
//! writes. Listing those assumptions as data keeps them reviewable (and printable with
//! `--explain-assumptions`), rather than buried in the evaluator.

use super::RulesError;
use crate::pattern::{Pattern, covers};
use serde::Deserialize;

/// The schema version of external-producer files.
pub const ASSUMPTIONS_SCHEMA: u32 = 1;

/// The built-in list, compiled in.
pub const BUILTIN_ASSUMPTIONS: (&str, &str) = (
    "rules/audit/external-producers.toml",
    include_str!("../../rules/audit/external-producers.toml"),
);

/// The built-in environment variables read by runtimes, images and libraries, compiled in.
pub const BUILTIN_RUNTIME_VARIABLES: (&str, &str) = (
    "rules/audit/runtime-variables.toml",
    include_str!("../../rules/audit/runtime-variables.toml"),
);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariables {
    schema: u32,
    #[serde(default)]
    variable: Vec<RuntimeVariable>,
}

/// Environment variables a runtime, an image or a library reads by itself (`PATH`, `TZ`,
/// `PYTHONUNBUFFERED`, the postgres image's `POSTGRES_PASSWORD`): a launcher setting one is
/// never reported as setting what nothing reads, since the reader is not code knockon sees.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeVariable {
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub prefixes: Vec<String>,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: u32,
    #[serde(default)]
    producer: Vec<RawProducer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProducer {
    paths: Vec<String>,
    reason: String,
}

/// One assumed external producer: the paths it covers and why they are assumed produced.
#[derive(Clone, Debug)]
pub struct ExternalProducer {
    pub globs: Vec<String>,
    pub patterns: Vec<Pattern>,
    pub reason: String,
}

/// Every assumed external producer of a run.
#[derive(Clone, Debug, Default)]
pub struct Assumptions {
    pub producers: Vec<ExternalProducer>,
    pub runtime_variables: Vec<RuntimeVariable>,
}

impl Assumptions {
    pub fn builtin() -> Result<Assumptions, RulesError> {
        let mut out = Assumptions::default();
        out.load_file(BUILTIN_ASSUMPTIONS.0, BUILTIN_ASSUMPTIONS.1)?;
        out.load_variables(BUILTIN_RUNTIME_VARIABLES.0, BUILTIN_RUNTIME_VARIABLES.1)?;
        Ok(out)
    }

    /// Loads a list of runtime variables (`rules/audit/runtime-variables.toml`'s format).
    pub fn load_variables(&mut self, name: &str, text: &str) -> Result<(), RulesError> {
        let raw: RawVariables =
            toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))?;
        if raw.schema != ASSUMPTIONS_SCHEMA {
            return Err(RulesError::at(
                name,
                super::line_of_key(text, "schema"),
                format!(
                    "schema {} is not supported (this build reads schema {ASSUMPTIONS_SCHEMA})",
                    raw.schema
                ),
            ));
        }
        for v in raw.variable {
            if v.names.is_empty() && v.prefixes.is_empty() {
                return Err(RulesError::at(
                    name,
                    super::line_of_key(text, "reason"),
                    "a runtime variable entry names at least one name or prefix",
                ));
            }
            self.runtime_variables.push(v);
        }
        Ok(())
    }

    /// The entry saying a runtime, image or library reads `variable` by itself, if one does.
    pub fn runtime_reads(&self, variable: &str) -> Option<&RuntimeVariable> {
        self.runtime_variables.iter().find(|v| {
            v.names.iter().any(|n| n == variable)
                || v.prefixes.iter().any(|p| variable.starts_with(p.as_str()))
        })
    }

    pub fn load_file(&mut self, name: &str, text: &str) -> Result<(), RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))?;
        if raw.schema != ASSUMPTIONS_SCHEMA {
            return Err(RulesError::at(
                name,
                super::line_of_key(text, "schema"),
                format!(
                    "schema {} is not supported (this build reads schema {ASSUMPTIONS_SCHEMA})",
                    raw.schema
                ),
            ));
        }
        for producer in raw.producer {
            if producer.paths.is_empty() {
                return Err(RulesError::at(
                    name,
                    super::line_of_key(text, "paths"),
                    "an external producer names at least one path glob",
                ));
            }
            self.add(producer.paths, producer.reason);
        }
        Ok(())
    }

    /// Adds one assumption (from `--assume GLOB`).
    pub fn add(&mut self, globs: Vec<String>, reason: String) {
        let patterns = globs.iter().map(|g| Pattern::glob(g)).collect();
        self.producers.push(ExternalProducer {
            globs,
            patterns,
            reason,
        });
    }

    /// The assumption that covers every path of `pattern`, if one does.
    pub fn covering(&self, pattern: &Pattern) -> Option<&ExternalProducer> {
        self.producers.iter().find(|p| covers(&p.patterns, pattern))
    }

    /// The list in words, one assumption a line.
    pub fn describe(&self) -> String {
        let mut out = String::from(
            "knockon audit assumes these paths are produced outside the analysed repositories \
             and reports no reader or cleanup of them:\n",
        );
        for p in &self.producers {
            out.push_str(&format!("  {}\n      {}\n", p.globs.join(" "), p.reason));
        }
        if !self.runtime_variables.is_empty() {
            out.push_str(
                "\nand that these environment variables are read by runtimes, images or \
                 libraries, and reports no launcher setting them:\n",
            );
            for v in &self.runtime_variables {
                let prefixes = v.prefixes.iter().map(|p| format!("{p}*"));
                let all: Vec<String> = v.names.iter().cloned().chain(prefixes).collect();
                out.push_str(&format!("  {}\n      {}\n", all.join(" "), v.reason));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_assumptions_cover_system_paths_only() {
        let a = Assumptions::builtin().unwrap();
        for path in [
            "/etc/passwd",
            "/proc/self/status",
            "/opt/app/bin/x",
            "/run/secrets/db",
        ] {
            assert!(a.covering(&Pattern::glob(path)).is_some(), "{path}");
        }
        for path in [
            "/data/ticker/ticker_*.csv",
            "/srv/app/out.json",
            "/tmp/app/x",
        ] {
            assert!(a.covering(&Pattern::glob(path)).is_none(), "{path}");
        }
        assert!(a.describe().contains("/etc/**"));
        assert!(a.describe().contains("POSTGRES_*"));
        for name in [
            "PATH",
            "TZ",
            "PYTHONUNBUFFERED",
            "DJANGO_SETTINGS_MODULE",
            "POSTGRES_PASSWORD",
        ] {
            assert!(a.runtime_reads(name).is_some(), "{name}");
        }
        for name in ["SMTP_STARTTLS", "APP_FEATURE_X", "TICKER_DIR"] {
            assert!(a.runtime_reads(name).is_none(), "{name}");
        }
    }

    #[test]
    fn bad_files_name_the_problem() {
        let mut a = Assumptions::default();
        let e = a.load_file("x.toml", "schema = 2\n").unwrap_err();
        assert!(e.message.contains("schema 2"), "{e}");
        let e = a
            .load_file(
                "x.toml",
                "schema = 1\n[[producer]]\npaths = []\nreason = \"r\"\n",
            )
            .unwrap_err();
        assert_eq!(e.line, 3, "{e}");
    }
}
