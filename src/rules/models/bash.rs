//! The bash API models: the schema of `rules/models/bash.toml` rows and their merged table.

use crate::rules::RulesError;
use serde::Deserialize;

/// One `language = "bash"` model file, validated.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BashModelFile {
    pub schema: u32,
    pub language: String,
}

impl BashModelFile {
    pub fn parse(name: &str, text: &str) -> Result<Self, RulesError> {
        toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))
    }
}

/// The merged bash models the extractor reads.
#[derive(Clone, Debug, Default)]
pub struct BashModels {}

impl BashModels {
    /// Adds a file's rows; a row named like an existing one replaces it.
    pub fn merge(&mut self, _file: BashModelFile) {}
}
