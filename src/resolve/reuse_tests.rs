//! A head world that takes its context's answers from its base's world resolves to what
//! resolving every file gives, and takes them only when nothing that crosses repositories
//! changed (see `reuse`).

use super::*;
use crate::scenario::Scenario;

/// Every scenario's base and head worlds, the changed repository first (as a check orders
/// them), by scenario file name.
fn scenario_worlds() -> Vec<(String, [Vec<RepoFacts>; 2])> {
    let models = crate::rules::models::Models::builtin().expect("built-in models load");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scenarios");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("scenarios")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "scenario"))
        .collect();
    paths.sort();
    let facts_of = |files: &BTreeMap<String, String>| -> BTreeMap<String, Arc<FileFacts>> {
        files
            .iter()
            .filter_map(|(name, text)| {
                let facts = crate::extract::extract(name, text.as_bytes(), &models)?;
                Some((name.clone(), Arc::new(facts)))
            })
            .collect()
    };
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("scenario text");
            let scenario = Scenario::parse(&text).expect("scenario parses");
            let mut repos = scenario.repos.clone();
            repos.sort_by_key(|r| !r.changed);
            let world = |head: bool| -> Vec<RepoFacts> {
                repos
                    .iter()
                    .map(|r| RepoFacts {
                        name: r.name.clone(),
                        files: facts_of(if head || !r.changed { &r.head } else { &r.base }),
                    })
                    .collect()
            };
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            (name.unwrap_or_default(), [world(false), world(true)])
        })
        .collect()
}

/// The base world resolved as a check's head would be (its context inputs with it), then the
/// head world resolved taking what it may from it.
fn head_after_base(base: &[RepoFacts], head: &[RepoFacts]) -> (Head, Head) {
    let env = BTreeMap::new();
    let base = resolve_head(base, &env, Box::new(|_| None));
    let earlier = base.resolved.clone();
    let base_inputs = base.context_inputs.clone();
    let head = resolve_head(
        head,
        &env,
        Box::new(move |inputs| {
            (inputs.is_some() && inputs == base_inputs.as_deref()).then_some(earlier)
        }),
    );
    (base, head)
}

/// What the accesses of repository `repo` in `resolved` reach, as shown.
fn resources_of<'r>(resolved: &'r Resolved, repo: &str) -> Vec<&'r str> {
    resolved
        .accesses
        .iter()
        .filter(|a| a.site.repo == repo)
        .map(|a| a.resource.display())
        .collect()
}

#[test]
fn a_head_taking_the_contexts_answers_resolves_as_every_file_would() {
    let mut reused = 0;
    let mut multi_repo = 0;
    for (name, [base, head]) in scenario_worlds() {
        let (_, taken) = head_after_base(&base, &head);
        let fresh = resolve(&head, &BTreeMap::new());
        assert_eq!(
            format!("{:?}", taken.resolved),
            format!("{fresh:?}"),
            "{name}: the head's world differs when its context's answers are taken"
        );
        multi_repo += usize::from(head.len() > 1);
        reused += usize::from(taken.reused);
    }
    // Most changes reach no context file: the test compares real reuse, not only fallbacks.
    assert!(
        reused * 2 > multi_repo,
        "only {reused} of {multi_repo} scenarios with context took its answers"
    );
}

#[test]
fn a_changed_crontab_environment_for_a_context_script_is_resolved_again() {
    let crontab = |dir: &str| format!("APP_DIR={dir}\n0 3 * * * root /opt/tools/bin/clean.sh\n");
    let tools = repo_of_texts(
        "tools",
        &[("bin/clean.sh", "#!/bin/bash\nrm -rf \"$APP_DIR/cache\"\n")],
    );
    let base = vec![
        repo_of_texts("ops", &[("cron.d/clean", &crontab("/srv/a"))]),
        tools.clone(),
    ];
    let head = vec![
        repo_of_texts("ops", &[("cron.d/clean", &crontab("/srv/b"))]),
        tools,
    ];
    let (base_world, taken) = head_after_base(&base, &head);
    assert!(base_world.context_inputs.is_some());
    assert!(!taken.reused, "the context script's environment changed");
    let shown = resources_of(&taken.resolved, "tools");
    assert!(shown.contains(&"/srv/b/cache/**"), "{shown:?}");
    // The same change with the same environment takes the answers.
    let (_, again) = head_after_base(&head, &head);
    assert!(again.reused);
    assert_eq!(
        format!("{:?}", again.resolved),
        format!("{:?}", taken.resolved)
    );
}

#[test]
fn a_changed_repositorys_own_job_edited_in_place_keeps_the_contexts_answers() {
    // The context runs its own job; the change moves the changed repository's job to another
    // hour. The context's jobs keep their numbers and nothing of the edited job reaches it.
    let ops = |hour: u32| {
        repo_of_texts(
            "ops",
            &[
                (
                    "cron.d/rotate",
                    &format!("0 {hour} * * * root /opt/ops/bin/rotate.sh\n"),
                ),
                ("bin/rotate.sh", "#!/bin/bash\nrm -f /var/log/ops/old.log\n"),
            ],
        )
    };
    let tools = repo_of_texts(
        "tools",
        &[
            (
                "cron.d/clean",
                "CACHE=/srv/cache\n0 5 * * * root /opt/tools/bin/clean.sh\n",
            ),
            ("bin/clean.sh", "#!/bin/bash\nrm -rf \"$CACHE/tmp\"\n"),
        ],
    );
    let (_, taken) = head_after_base(&[ops(3), tools.clone()], &[ops(4), tools.clone()]);
    assert!(taken.reused);
    let fresh = resolve(&[ops(4), tools.clone()], &BTreeMap::new());
    assert_eq!(format!("{:?}", taken.resolved), format!("{fresh:?}"));
    let cleaned = taken
        .resolved
        .accesses
        .iter()
        .find(|a| a.site.repo == "tools" && a.resource.display() == "/srv/cache/tmp/**");
    assert_eq!(cleaned.map(|a| a.jobs.clone()), Some(vec![1]));
    // One more job in the changed repository renumbers the context's: resolved again.
    let more = repo_of_texts(
        "ops",
        &[(
            "cron.d/rotate",
            "0 4 * * * root /opt/ops/bin/rotate.sh\n0 6 * * * root /opt/ops/bin/rotate.sh\n",
        )],
    );
    let (_, renumbered) = head_after_base(&[ops(3), tools.clone()], &[more.clone(), tools.clone()]);
    assert!(!renumbered.reused);
    let fresh = resolve(&[more, tools], &BTreeMap::new());
    assert_eq!(format!("{:?}", renumbered.resolved), format!("{fresh:?}"));
}

#[test]
fn a_changed_launch_environment_for_a_context_script_is_resolved_again() {
    // No job: a deploy script of the changed repository starts the context's script with a
    // variable set, and only the environment linking gives that script changes.
    let deploy = |dir: &str| {
        repo_of_texts(
            "ops",
            &[(
                "bin/deploy.sh",
                &format!("#!/bin/bash\nAPP_DIR={dir} /opt/tools/bin/clean.sh\n"),
            )],
        )
    };
    let tools = repo_of_texts(
        "tools",
        &[("bin/clean.sh", "#!/bin/bash\nrm -rf \"$APP_DIR/cache\"\n")],
    );
    let base = vec![deploy("/srv/a"), tools.clone()];
    let head = vec![deploy("/srv/b"), tools];
    let (_, taken) = head_after_base(&base, &head);
    assert!(!taken.reused, "the context script's environment changed");
    let shown = resources_of(&taken.resolved, "tools");
    assert!(shown.contains(&"/srv/b/cache/**"), "{shown:?}");
}

#[test]
fn a_file_the_changed_repository_installs_keeps_the_context_resolved() {
    let app = |dir: &str| {
        repo_of_texts(
            "app",
            &[
                (
                    "deploy/install.sh",
                    "#!/bin/bash\ninstall -m 0644 deploy/app.env /etc/default/app\n",
                ),
                ("deploy/app.env", &format!("DATA_DIR={dir}\n")),
            ],
        )
    };
    let ops = repo_of_texts(
        "ops",
        &[(
            "bin/prune.sh",
            "#!/bin/bash\n. /etc/default/app\nfind \"$DATA_DIR\" -mtime +3 -delete\n",
        )],
    );
    let base = vec![app("/srv/data"), ops.clone()];
    let head = vec![app("/srv/data2"), ops];
    let (base_world, taken) = head_after_base(&base, &head);
    assert!(base_world.context_inputs.is_none());
    assert!(!taken.reused);
    let shown = resources_of(&taken.resolved, "ops");
    assert!(shown.contains(&"/srv/data2/**/*"), "{shown:?}");
    // A context that sources nothing the change installs takes its answers.
    let quiet = repo_of_texts(
        "ops",
        &[(
            "bin/prune.sh",
            "#!/bin/bash\nfind /srv/tmp -mtime +3 -delete\n",
        )],
    );
    let (_, taken) = head_after_base(
        &[app("/srv/data"), quiet.clone()],
        &[app("/srv/data2"), quiet],
    );
    assert!(taken.reused);
}
