//! The rust API models: the schema of `rules/models/rust.toml` rows and their merged table.

use crate::rules::RulesError;
use serde::Deserialize;

/// One `language = "rust"` model file, validated.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RustModelFile {
    pub schema: u32,
    pub language: String,
}

impl RustModelFile {
    pub fn parse(name: &str, text: &str) -> Result<Self, RulesError> {
        toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))
    }
}

/// The merged rust models the extractor reads.
#[derive(Clone, Debug, Default)]
pub struct RustModels {}

impl RustModels {
    /// Adds a file's rows; a row named like an existing one replaces it.
    pub fn merge(&mut self, _file: RustModelFile) {}
}
