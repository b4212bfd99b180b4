//! API models as data: which calls and commands access which resource in which mode.
//!
//! Input: TOML files, built in (`rules/models/*.toml`, compiled into the binary) and the user's
//! (`--rules DIR`), all through [`Models::load_file`]. Output: one [`Models`] value per run with a
//! table per language, which the extractors consult instead of hard-coding API names.
//!
//! A file names its language and schema version; each language's rows are validated by that
//! language's schema (unknown keys are errors with the file and line). A user row with the same
//! name as a built-in row replaces it.

pub mod bash;
pub mod config;
pub mod python;
pub mod rust;

use crate::rules::RulesError;
use serde::Deserialize;

/// The models of every language, as the extractors read them.
#[derive(Clone, Debug, Default)]
pub struct Models {
    pub python: python::PythonModels,
    pub bash: bash::BashModels,
    pub rust: rust::RustModels,
    pub config: config::ConfigModels,
    /// Each model file loaded, in order: its name and the git blob id of its text. Extracted
    /// facts depend on the models, so a cache of facts keys on this (`store::fingerprint`).
    pub sources: Vec<(String, String)>,
}

/// The built-in model files, compiled in so the binary works with nothing beside it.
pub const BUILTIN_MODEL_FILES: &[(&str, &str)] = &[
    (
        "rules/models/python.toml",
        include_str!("../../../rules/models/python.toml"),
    ),
    (
        "rules/models/bash.toml",
        include_str!("../../../rules/models/bash.toml"),
    ),
    (
        "rules/models/rust.toml",
        include_str!("../../../rules/models/rust.toml"),
    ),
    (
        "rules/models/config.toml",
        include_str!("../../../rules/models/config.toml"),
    ),
];

/// The header every model file starts with.
#[derive(Deserialize)]
struct Header {
    schema: u32,
    language: String,
}

/// The schema version this build reads.
pub const MODEL_SCHEMA: u32 = 1;

impl Models {
    /// The built-in models. They are tested to load, so an error here is a build defect; it is
    /// still returned, not panicked on.
    pub fn builtin() -> Result<Models, RulesError> {
        use rayon::prelude::*;
        // Parsed side by side (a few milliseconds of TOML each, before every run), merged in
        // order.
        let parsed: Vec<Result<ModelFile, RulesError>> = BUILTIN_MODEL_FILES
            .par_iter()
            .map(|(name, text)| ModelFile::parse(name, text))
            .collect();
        let mut models = Models::default();
        for file in parsed {
            models.merge(file?);
        }
        Ok(models)
    }

    /// Loads one model file's text; `name` is used in error messages.
    pub fn load_file(&mut self, name: &str, text: &str) -> Result<(), RulesError> {
        self.merge(ModelFile::parse(name, text)?);
        Ok(())
    }

    fn merge(&mut self, file: ModelFile) {
        match file.language {
            Language::Python(rows) => self.python.merge(*rows),
            Language::Bash(rows) => self.bash.merge(*rows),
            Language::Rust(rows) => self.rust.merge(*rows),
            Language::Config(rows) => self.config.merge(*rows),
        }
        self.sources.push((file.name, file.digest));
    }
}

/// One model file, parsed.
struct ModelFile {
    name: String,
    /// The git blob id of its text.
    digest: String,
    language: Language,
}

enum Language {
    Python(Box<python::PythonModelFile>),
    Bash(Box<bash::BashModelFile>),
    Rust(Box<rust::RustModelFile>),
    Config(Box<config::ConfigModelFile>),
}

impl ModelFile {
    fn parse(name: &str, text: &str) -> Result<ModelFile, RulesError> {
        let header: Header = toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))?;
        if header.schema != MODEL_SCHEMA {
            return Err(RulesError::at(
                name,
                crate::rules::line_of_key(text, "schema"),
                format!(
                    "schema {} is not supported (this build reads schema {MODEL_SCHEMA})",
                    header.schema
                ),
            ));
        }
        let language = match header.language.as_str() {
            "python" => Language::Python(Box::new(python::PythonModelFile::parse(name, text)?)),
            "bash" => Language::Bash(Box::new(bash::BashModelFile::parse(name, text)?)),
            "rust" => Language::Rust(Box::new(rust::RustModelFile::parse(name, text)?)),
            "config" => Language::Config(Box::new(config::ConfigModelFile::parse(name, text)?)),
            other => {
                return Err(RulesError::at(
                    name,
                    crate::rules::line_of_key(text, "language"),
                    format!("unknown language `{other}` (expected python, bash, rust or config)"),
                ));
            }
        };
        Ok(ModelFile {
            name: name.to_string(),
            digest: crate::digest::blob_id(text.as_bytes()),
            language,
        })
    }
}
