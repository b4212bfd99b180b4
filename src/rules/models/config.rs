//! Models for configuration formats: the schema of `rules/models/config.toml` rows (Ansible
//! modules, INI/`key = value` keys that name files, ...) and their merged table.

use crate::rules::RulesError;
use serde::Deserialize;

/// One `language = "config"` model file, validated.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigModelFile {
    pub schema: u32,
    pub language: String,
}

impl ConfigModelFile {
    pub fn parse(name: &str, text: &str) -> Result<Self, RulesError> {
        toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))
    }
}

/// The merged configuration models the format extractors read.
#[derive(Clone, Debug, Default)]
pub struct ConfigModels {}

impl ConfigModels {
    /// Adds a file's rows; a row named like an existing one replaces it.
    pub fn merge(&mut self, _file: ConfigModelFile) {}
}
