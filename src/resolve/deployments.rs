//! Deployments of a file as the world sees them: templated parts (a Helm chart's
//! `{{ .Values.image.repository }}`, an Ansible role's `{{ worker_queues }}`) bound to the one
//! literal value the repository gives them, through the same lookup as every other value (the
//! chart's `values.yaml`, the role's defaults and vars).
//!
//! A templated image that does not come to one literal makes the program unknown (it is never
//! the same program as anything); a templated setting that does not is dropped. Either way no
//! value is guessed.

use super::eval::{Evaluator, Value};
use super::lookup::{FileRef, Lookup};
use crate::extract::formats::deploy::{self, Deployed, DeploymentFact, Program};
use crate::pattern::Piece;
use std::collections::BTreeMap;

/// The deployments of one file, bound.
pub(super) fn resolve<'a>(
    lookup: &Lookup<'a>,
    file: FileRef<'a>,
    repo: &str,
    facts: &'a [DeploymentFact],
) -> Vec<Deployed> {
    let env = BTreeMap::new();
    facts
        .iter()
        .map(|fact| {
            let mut bound = fact.clone();
            if let Some(template) = &fact.image_template {
                let mut evaluator = Evaluator::new(lookup, &env);
                let image = literal(&evaluator.eval(file, template))
                    .and_then(|text| deploy::image_repository(&text));
                bound.image_template = None;
                match image {
                    Some(image) => bound.image = Some(image),
                    None => bound.program = Program::Unknown,
                }
            }
            bound.settings = fact
                .settings
                .iter()
                .filter_map(|setting| {
                    let Some(template) = &setting.template else {
                        return Some(setting.clone());
                    };
                    let mut evaluator = Evaluator::new(lookup, &env);
                    let value = literal(&evaluator.eval(file, template))?;
                    let mut setting = setting.clone();
                    setting.value = value;
                    setting.template = None;
                    setting.origins = evaluator.origins;
                    Some(setting)
                })
                .collect();
            Deployed {
                repo: repo.to_string(),
                path: file.path.to_string(),
                fact: bound,
            }
        })
        .collect()
}

/// The text of the one value made of literals only.
fn literal(values: &[Value]) -> Option<String> {
    match values {
        [single] => single
            .iter()
            .map(|p| match p {
                Piece::Lit(t) => Some(t.as_str()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}
