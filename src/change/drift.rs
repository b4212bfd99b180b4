//! Deployment settings the change made different: the changed repository's deployments (compose
//! services, Kubernetes containers, systemd services) at base and at head, paired by file and
//! name, and each setting whose value the change edited or removed (see
//! [`crate::extract::formats::deploy`]).
//!
//! A deployment whose program changed (another image, another command: `worker` became `beat`)
//! is a different deployment, not a changed setting; a setting only added at head changes
//! nothing another deployment could have kept. Only settings written on a line the change
//! touched are listed.
//!
//! Invariants: the work is the changed files' deployments times their settings (each deployment
//! holds at most [`crate::extract::formats::deploy::MAX_SETTINGS`]).

use crate::extract::formats::deploy::{Deployed, Setting};
use crate::model::{ChangedLines, Site, Version};
use std::collections::HashMap;

/// One setting of one deployment that the change edited or removed.
#[derive(Clone, Debug)]
pub struct SettingChange {
    /// The deployment at head.
    pub deployment: Deployed,
    /// The setting at base (its line in the base version).
    pub before: Setting,
    /// The setting at head (its line in the head version); none when the change removed it.
    pub after: Option<Setting>,
    /// The changed line: the setting's own, or the line its templated value is bound on (a
    /// chart's `values.yaml`) when only that changed; in the base version for a removal.
    pub site: Site,
    pub version: Version,
}

/// The settings the change made different, in the changed repository's deployments.
pub fn setting_changes(
    base: &[Deployed],
    head: &[Deployed],
    lines: &ChangedLines,
) -> Vec<SettingChange> {
    let mut out = Vec::new();
    let in_change = |d: &&Deployed| d.repo == lines.repo && lines.is_changed_path(&d.path);
    let base: HashMap<(&str, &str), &Deployed> = base
        .iter()
        .filter(in_change)
        .map(|b| ((b.path.as_str(), b.fact.unit.as_str()), b))
        .collect();
    for now in head.iter().filter(in_change) {
        let Some(was) = base.get(&(now.path.as_str(), now.fact.unit.as_str())) else {
            continue;
        };
        if !was.fact.same_program(&now.fact) {
            continue;
        }
        for before in &was.fact.settings {
            let after = now.fact.setting(before.kind, &before.name);
            let site = match after {
                Some(after) if after.same_value(before) => continue,
                Some(after) => changed_site(now, after, lines).map(|s| (s, Version::Head)),
                None => lines
                    .touches(&now.path, before.line, Version::Base)
                    .then(|| (now.site(before.line), Version::Base)),
            };
            if let Some((site, version)) = site {
                out.push(SettingChange {
                    deployment: now.clone(),
                    before: before.clone(),
                    after: after.cloned(),
                    site,
                    version,
                });
            }
        }
    }
    out
}

/// The line of the change that made a setting's new value: its own, else the nearest line its
/// value was bound on that the change wrote.
fn changed_site(deployment: &Deployed, after: &Setting, lines: &ChangedLines) -> Option<Site> {
    if lines.wrote_head_line(&deployment.repo, &deployment.path, after.line) {
        return Some(deployment.site(after.line));
    }
    after
        .origins
        .iter()
        .find(|o| lines.wrote_head_line(&o.site.repo, &o.site.path, o.site.line))
        .map(|o| o.site.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::formats::deploy::{DeploymentFact, Program, SettingKind};

    fn deployed(unit: &str, program: &str, settings: &[(&str, &str, u32)]) -> Deployed {
        Deployed {
            repo: "deploy".into(),
            path: "docker-compose.yml".into(),
            fact: DeploymentFact {
                unit: unit.into(),
                via: "compose service".into(),
                line: 1,
                image: Some("myorg/worker".into()),
                image_template: None,
                program: Program::Known(program.into()),
                settings: settings
                    .iter()
                    .map(|(n, v, l)| Setting::new(SettingKind::Option, n, v, *l))
                    .collect(),
                env_from: Vec::new(),
            },
        }
    }

    #[test]
    fn lists_edited_and_removed_settings_on_changed_lines() {
        let lines = ChangedLines::one_line("deploy", "docker-compose.yml", 4);
        let base = [deployed(
            "services.worker",
            "celery -A proj worker",
            &[("-Q", "billing", 4), ("-l", "info", 9)],
        )];
        let head = [deployed(
            "services.worker",
            "celery -A proj worker",
            &[("-Q", "billing,mail", 4), ("-l", "debug", 9)],
        )];
        let changes = setting_changes(&base, &head, &lines);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].before.value, "billing");
        assert_eq!(
            changes[0].after.as_ref().map(|s| s.value.as_str()),
            Some("billing,mail")
        );
        let removed = [deployed("services.worker", "celery -A proj worker", &[])];
        let changes = setting_changes(&base, &removed, &lines);
        assert_eq!(changes.len(), 1);
        assert!(changes[0].after.is_none());
    }

    #[test]
    fn another_program_or_a_reordered_list_is_no_setting_change() {
        let lines = ChangedLines::one_line("deploy", "docker-compose.yml", 4);
        let base = [deployed(
            "services.worker",
            "celery -A proj worker",
            &[("-Q", "billing,mail", 4)],
        )];
        let beat = [deployed(
            "services.worker",
            "celery -A proj beat",
            &[("-Q", "billing", 4)],
        )];
        assert!(setting_changes(&base, &beat, &lines).is_empty());
        let reordered = [deployed(
            "services.worker",
            "celery -A proj worker",
            &[("-Q", "mail,billing", 4)],
        )];
        assert!(setting_changes(&base, &reordered, &lines).is_empty());
        let untouched = ChangedLines::one_line("deploy", "docker-compose.yml", 40);
        let edited = [deployed(
            "services.worker",
            "celery -A proj worker",
            &[("-Q", "billing", 4)],
        )];
        assert!(setting_changes(&base, &edited, &untouched).is_empty());
    }
}
