//! `knockon.toml`: per-repository configuration, found at the changed repository's root.
//!
//! It names context repositories (paths relative to the file), binds environment variables for
//! resolution, excludes paths from analysis, and changes a rule's severity or turns it off.
//! Command-line flags win over the file: `--context` replaces its `context` list, `--fail-on`
//! its `fail_on`. Unknown keys are errors with the file and line, like rule files.

use crate::finding::Severity;
use crate::rules::RulesError;
use crate::rules::impact::ImpactRules;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file name knockon looks for at the changed repository's root.
pub const CONFIG_FILE: &str = "knockon.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    context: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    fail_on: Option<String>,
    #[serde(default)]
    generic: Option<bool>,
    #[serde(default)]
    rules: BTreeMap<String, RawRuleSetting>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuleSetting {
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the file was read from (for messages).
    pub source: Option<PathBuf>,
    /// Context repositories, resolved against the file's directory.
    pub context: Vec<PathBuf>,
    /// Environment variables bound for resolution (they win over crontab and deployment values).
    pub env: BTreeMap<String, String>,
    /// Repository-relative globs of files not to analyse (in every repository).
    pub exclude: Option<globset::GlobSet>,
    /// The globs `exclude` was built from, in order (what file selection depends on).
    exclude_globs: Vec<String>,
    /// The threshold for exit code 1, unless `--fail-on` is given.
    pub fail_on: Option<String>,
    /// Read languages knockon does not parse with the generic fallback (`--no-generic` wins).
    pub generic: bool,
    rules: Vec<(String, Option<Severity>, Option<bool>, u32)>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            source: None,
            context: Vec::new(),
            env: BTreeMap::new(),
            exclude: None,
            exclude_globs: Vec::new(),
            fail_on: None,
            generic: true,
            rules: Vec::new(),
        }
    }
}

impl Config {
    /// Reads `knockon.toml` from a repository root, if there is one. The repository is
    /// untrusted: a `knockon.toml` that is a symlink leading out of the repository, or that is
    /// not a regular file (a FIFO would block the run), is treated as absent, so the checked
    /// change cannot make knockon read files elsewhere on the machine.
    pub fn discover(repo_root: &Path) -> Result<Config, RulesError> {
        let path = repo_root.join(CONFIG_FILE);
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            return Ok(Config::default());
        };
        if metadata.file_type().is_symlink() {
            let inside = match (path.canonicalize(), repo_root.canonicalize()) {
                (Ok(target), Ok(root)) => target.starts_with(root),
                _ => false,
            };
            if !inside {
                return Ok(Config::default());
            }
        }
        let name = path.display().to_string();
        let bytes = match crate::load::read_regular_file(&path, crate::load::MAX_FILE_BYTES) {
            Ok(crate::load::Regular::Bytes(bytes)) => bytes,
            Ok(crate::load::Regular::NotRegular) => return Ok(Config::default()),
            Ok(crate::load::Regular::TooLarge) => {
                return Err(RulesError::at(&name, 1, "larger than 1 MiB"));
            }
            Err(e) => return Err(RulesError::at(&name, 1, format!("cannot read: {e}"))),
        };
        let text =
            String::from_utf8(bytes).map_err(|_| RulesError::at(&name, 1, "not UTF-8 text"))?;
        Config::parse(&name, &text, repo_root)
    }

    /// Parses configuration text; `base` is the directory relative paths start from.
    pub fn parse(name: &str, text: &str, base: &Path) -> Result<Config, RulesError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))?;
        let mut exclude = None;
        if !raw.exclude.is_empty() {
            let mut builder = globset::GlobSetBuilder::new();
            for glob in &raw.exclude {
                let compiled = globset::GlobBuilder::new(glob)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        RulesError::at(
                            name,
                            crate::rules::line_of_key(text, "exclude"),
                            e.to_string(),
                        )
                    })?;
                builder.add(compiled);
            }
            exclude = Some(
                builder
                    .build()
                    .map_err(|e| RulesError::at(name, 1, e.to_string()))?,
            );
        }
        if let Some(fail_on) = &raw.fail_on
            && !["error", "warning", "info", "never"].contains(&fail_on.as_str())
        {
            return Err(RulesError::at(
                name,
                crate::rules::line_of_key(text, "fail_on"),
                format!("unknown `fail_on = \"{fail_on}\"` (error, warning, info, never)"),
            ));
        }
        let mut rules = Vec::new();
        for (id, setting) in raw.rules {
            let line = line_of_rule_table(text, &id);
            let severity = match &setting.severity {
                Some(s) => Some(Severity::parse(s).ok_or_else(|| {
                    RulesError::at(
                        name,
                        line,
                        format!("rule `{id}`: unknown severity `{s}` (error, warning, info)"),
                    )
                })?),
                None => None,
            };
            rules.push((id, severity, setting.enabled, line));
        }
        Ok(Config {
            source: Some(PathBuf::from(name)),
            context: raw.context.iter().map(|c| base.join(c)).collect(),
            env: raw.env,
            exclude,
            exclude_globs: raw.exclude.clone(),
            fail_on: raw.fail_on,
            generic: raw.generic.unwrap_or(true),
            rules,
        })
    }

    /// Applies the rule settings; a setting for a rule that does not exist is an error.
    pub fn apply_to(&self, rules: &mut ImpactRules) -> Result<(), RulesError> {
        let name = self
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| CONFIG_FILE.to_string());
        for (id, severity, enabled, line) in &self.rules {
            let Some(rule) = rules.rules.iter_mut().find(|r| &r.id == id) else {
                return Err(RulesError::at(
                    &name,
                    *line,
                    format!("no rule `{id}` exists"),
                ));
            };
            if let Some(severity) = severity {
                rule.severity = *severity;
            }
            if let Some(enabled) = enabled {
                rule.enabled = *enabled;
            }
        }
        Ok(())
    }

    /// Is this repository-relative path excluded from analysis?
    pub fn excludes(&self, path: &str) -> bool {
        self.exclude.as_ref().is_some_and(|set| set.is_match(path))
    }

    /// Everything [`Config::reads`] depends on besides a file's path and bytes, as text: what
    /// a load's record of which files it kept is valid under.
    pub fn selection(&self, no_generic: bool) -> String {
        format!(
            "reads\0{:?}\0{}",
            self.exclude_globs,
            !no_generic && self.generic
        )
    }

    /// Should a file be read? Not excluded, in a language knockon reads, and the generic
    /// fallback (languages knockon does not parse) only when neither `--no-generic` nor the
    /// configuration turned it off. `check` and `audit` select files the same way.
    pub fn reads(&self, path: &str, bytes: &[u8], no_generic: bool) -> bool {
        use crate::extract::{Language, formats::ConfigFormat};
        !self.excludes(path)
            && match Language::detect(path, bytes) {
                Some(Language::Config(ConfigFormat::Generic)) => !no_generic && self.generic,
                Some(_) => true,
                None => false,
            }
    }
}

fn line_of_rule_table(text: &str, id: &str) -> u32 {
    text.lines()
        .position(|l| l.contains(id))
        .map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX))
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let text = r#"
context = ["../ops"]
exclude = ["tests/**"]
fail_on = "error"

[env]
TICKER_DIR = "/data/ticker"

[rules."path.reader-of-vanished-output"]
severity = "warning"

[rules."queue.publish-unconsumed"]
enabled = false
"#;
        let config = Config::parse("knockon.toml", text, Path::new("/repo")).unwrap();
        assert_eq!(config.context, vec![PathBuf::from("/repo/../ops")]);
        assert_eq!(config.env["TICKER_DIR"], "/data/ticker");
        assert!(config.excludes("tests/unit/x.py"));
        assert!(!config.excludes("src/x.py"));
        let mut rules = ImpactRules::builtin().unwrap();
        config.apply_to(&mut rules).unwrap();
        let reader = rules.get("path.reader-of-vanished-output").unwrap();
        assert_eq!(reader.severity, Severity::Warning);
        assert!(!rules.get("queue.publish-unconsumed").unwrap().enabled);
    }

    #[test]
    fn unknown_keys_and_rules_are_errors_with_lines() {
        let e = Config::parse("k.toml", "context = []\nbogus = 1\n", Path::new(".")).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("k.toml", 2), "{e}");
        let e = Config::parse(
            "k.toml",
            "[rules.\"x.y\"]\nseverity = \"loud\"\n",
            Path::new("."),
        )
        .unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        let config = Config::parse(
            "k.toml",
            "\n[rules.\"no.such-rule\"]\nenabled = false\n",
            Path::new("."),
        )
        .unwrap();
        let e = config
            .apply_to(&mut ImpactRules::builtin().unwrap())
            .unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let e = Config::parse("k.toml", "fail_on = \"sometimes\"\n", Path::new(".")).unwrap_err();
        assert!(e.message.contains("sometimes"));
    }
}
