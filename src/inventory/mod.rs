//! What knockon knows, at the command line: `knockon rules` (the impact rules, with the
//! repository's settings applied), `knockon rules explain ID` (one rule's documentation and its
//! examples, run) and `knockon models` (the API and command models), as ruff lists its rules.
//!
//! Input: the built-in rule and model files plus `--rules` directories, and `knockon.toml`.
//! Output: a text table or a versioned JSON document. Unknown ids and languages are usage
//! errors that name the closest known one.

pub mod models;
pub mod rules;
pub mod suggest;

use crate::app::Outcome;
use crate::cli::{ModelsArgs, RulesAction, RulesArgs};
use crate::exit_codes;

/// `knockon rules [explain ID]`.
pub fn run_rules(args: &RulesArgs) -> anyhow::Result<Outcome> {
    let set = rules::load(&args.repo, &args.rules)?;
    let output = match &args.action {
        None => rules::render_list(&set, args.format),
        Some(RulesAction::Explain { id }) => {
            let rule = rules::find(&set, id)?;
            rules::render_explain(&set, rule, &args.rules, args.format)
        }
    };
    Ok(Outcome {
        output,
        exit_code: exit_codes::CLEAN,
    })
}

/// `knockon models [--language L]`.
pub fn run_models(args: &ModelsArgs) -> anyhow::Result<Outcome> {
    let rows = models::list(&args.rules, args.language.as_deref())?;
    Ok(Outcome {
        output: models::render(&rows, args.format),
        exit_code: exit_codes::CLEAN,
    })
}
