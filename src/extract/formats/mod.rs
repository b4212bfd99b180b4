//! Deployment, service and configuration files: YAML (docker-compose, Kubernetes, Helm values,
//! Ansible, CI), systemd units and timers, logrotate, INI/`key = value` configs, Dockerfiles,
//! `.env` files, templates of any of these, and a generic fallback for other text files.

use crate::extract::FileFacts;
use crate::rules::models::Models;
use serde::Serialize;

/// A configuration format knockon reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigFormat {
    Yaml,
}

/// Chooses a format from the path (and content); `None` for files not read as configuration.
pub fn detect(path: &str, content: &[u8]) -> Option<ConfigFormat> {
    let _ = (path, content);
    None
}

/// Extracts the facts of a configuration file. Never fails.
pub fn extract(format: ConfigFormat, path: &str, text: &str, models: &Models) -> FileFacts {
    let _ = (format, text, models);
    FileFacts::new(path, crate::extract::ScopeKind::Module)
}
