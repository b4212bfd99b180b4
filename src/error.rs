//! The errors that stop a run, one variant per stage that can fail on bad input. Each displays as
//! one line that names the problem and what to do; the CLI prints it and exits with code 2.

use crate::rules::RulesError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Load(#[from] crate::load::LoadError),
    #[error("{0}")]
    Rules(#[from] RulesError),
    #[error("{0}")]
    Usage(String),
}
