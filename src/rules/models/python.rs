//! The python API models: the schema of `rules/models/python.toml` rows and their merged table.

use crate::rules::RulesError;
use serde::Deserialize;

/// One `language = "python"` model file, validated.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonModelFile {
    pub schema: u32,
    pub language: String,
}

impl PythonModelFile {
    pub fn parse(name: &str, text: &str) -> Result<Self, RulesError> {
        toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))
    }
}

/// The merged python models the extractor reads.
#[derive(Clone, Debug, Default)]
pub struct PythonModels {}

impl PythonModels {
    /// Adds a file's rows; a row named like an existing one replaces it.
    pub fn merge(&mut self, _file: PythonModelFile) {}
}
