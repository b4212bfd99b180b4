//! Deployments of a file as the world sees them: templated parts (a Helm chart's
//! `{{ .Values.image.repository }}`, an Ansible role's `{{ worker_queues }}`) bound to the one
//! literal value the repository gives them, through the same lookup as every other value (the
//! chart's `values.yaml`, the role's defaults and vars).
//!
//! A templated image that does not come to one literal makes the program unknown (it is never
//! the same program as anything); a templated setting that does not is dropped. Either way no
//! value is guessed.

use super::eval::Evaluator;
use super::jobs::literal_value;
use super::lookup::{FileRef, Lookup};
use crate::extract::formats::deploy::{self, Deployed, DeploymentFact, Program, Setting};
use crate::model::Origin;
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
                let image = literal_value(&evaluator.eval(file, template))
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
                    let value = literal_value(&evaluator.eval(file, template))?;
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

/// Adds to each container that takes a ConfigMap's keys (`envFrom`) the values of the one
/// ConfigMap of that name in its repository, at the `envFrom` line with the ConfigMap's line as
/// origin; a variable the container sets itself wins. A name that several ConfigMaps of the
/// repository use (one per environment) is ambiguous and is not followed.
pub(super) fn env_from(deployments: &mut [Deployed]) {
    // (repo, ConfigMap/NAME) -> the maps of that name.
    let mut maps: BTreeMap<(String, String), Vec<Deployed>> = BTreeMap::new();
    for d in deployments
        .iter()
        .filter(|d| d.fact.via == deploy::CONFIG_MAP)
    {
        maps.entry((d.repo.clone(), d.fact.unit.clone()))
            .or_default()
            .push(d.clone());
    }
    if maps.is_empty() {
        return;
    }
    for deployed in deployments.iter_mut() {
        for (name, line) in deployed.fact.env_from.clone() {
            let unit = format!("ConfigMap/{name}");
            let Some([map]) = maps
                .get(&(deployed.repo.clone(), unit.clone()))
                .map(Vec::as_slice)
            else {
                continue;
            };
            for setting in &map.fact.settings {
                if deployed.fact.setting(setting.kind, &setting.name).is_some() {
                    continue;
                }
                let mut taken = Setting::new(setting.kind, &setting.name, &setting.value, line);
                taken.origins.push(Origin {
                    site: map.site(setting.line),
                    note: format!("sets {}={} in {unit}", setting.name, setting.value),
                });
                deployed.fact.push(taken);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::extract::formats::deploy::{Deployed, Program, SettingKind};
    use crate::resolve::{RepoFacts, resolve};
    use std::collections::BTreeMap;
    use std::sync::Arc;

    fn world(files: &[(&str, &str)]) -> Vec<Deployed> {
        let models = crate::rules::models::Models::builtin().unwrap();
        let files = files
            .iter()
            .filter_map(|(path, text)| {
                let facts = crate::extract::extract(path, text.as_bytes(), &models)?;
                Some((path.to_string(), Arc::new(facts)))
            })
            .collect();
        let repos = [RepoFacts {
            name: "platform".into(),
            files,
        }];
        resolve(&repos, &BTreeMap::new()).deployments
    }

    fn value<'d>(deployments: &'d [Deployed], unit: &str, name: &str) -> Option<&'d str> {
        deployments
            .iter()
            .find(|d| d.fact.unit == unit)?
            .fact
            .setting(SettingKind::Env, name)
            .map(|s| s.value.as_str())
    }

    const WORKER: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\nspec:\n  template:\n    spec:\n      containers:\n        - name: worker\n          image: myorg/worker\n          envFrom:\n            - configMapRef:\n                name: worker-env\n          env:\n            - name: OWN\n              value: mine\n";
    const MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: worker-env\ndata:\n  QUEUE: orders\n  OWN: theirs\n";
    const UNIT: &str = "Kubernetes Deployment/worker container worker";

    #[test]
    fn env_from_takes_the_one_config_map_of_its_name() {
        let found = world(&[("k8s/worker.yaml", WORKER), ("k8s/map.yaml", MAP)]);
        assert_eq!(value(&found, UNIT, "QUEUE"), Some("orders"));
        assert_eq!(value(&found, UNIT, "OWN"), Some("mine"));
        let worker = found.iter().find(|d| d.fact.unit == UNIT).unwrap();
        let taken = worker.fact.setting(SettingKind::Env, "QUEUE").unwrap();
        assert_eq!(taken.line, 12);
        assert_eq!(taken.origins[0].site.path, "k8s/map.yaml");
        assert_eq!(taken.origins[0].site.line, 6);
    }

    #[test]
    fn an_ambiguous_config_map_is_not_followed() {
        let found = world(&[
            ("k8s/worker.yaml", WORKER),
            ("staging/map.yaml", MAP),
            ("prod/map.yaml", MAP),
        ]);
        assert_eq!(value(&found, UNIT, "QUEUE"), None);
        assert_eq!(value(&found, UNIT, "OWN"), Some("mine"));
    }

    #[test]
    fn helm_values_bind_templated_images_and_settings() {
        let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\nspec:\n  template:\n    spec:\n      containers:\n        - name: w\n          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n          env:\n            - name: QUEUE\n              value: {{ .Values.queue | quote }}\n            - name: OTHER\n              value: {{ .Values.missing }}\n";
        let values = "image:\n  repository: reg.io/myorg/worker\n  tag: \"1\"\nqueue: orders\n";
        let found = world(&[
            ("chart/templates/deployment.yaml", template),
            ("chart/values.yaml", values),
        ]);
        let w = &found[0].fact;
        assert_eq!(w.image.as_deref(), Some("myorg/worker"));
        assert_eq!(w.program, Program::ImageDefault);
        assert_eq!(value(&found, &w.unit, "QUEUE"), Some("orders"));
        // A value the chart does not define is not guessed.
        assert_eq!(value(&found, &w.unit, "OTHER"), None);
        let unbound = world(&[("chart/templates/deployment.yaml", template)]);
        assert_eq!(unbound[0].fact.program, Program::Unknown);
    }
}
