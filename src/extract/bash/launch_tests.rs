//! How a script starts code that a repository declares: a virtualenv's interpreter, an
//! application server, a console script or binary by its name.

use super::extract;
use crate::extract::{FileFacts, RunTarget};
use crate::rules::models::Models;

fn runs(src: &str) -> Vec<(u32, String)> {
    let models = Models::builtin().expect("built-in models load");
    let facts: FileFacts = extract("ops/x.sh", src, &models);
    facts
        .runs
        .iter()
        .map(|r| {
            let target = match &r.target {
                RunTarget::PythonModule { module } => format!("module {module}"),
                RunTarget::Program { name } => format!("program {name}"),
                RunTarget::Image { .. } => "image".to_string(),
                RunTarget::Unit { name } => format!("unit {name}"),
                RunTarget::Path { expr } => format!("path {expr:?}"),
            };
            (r.line, target)
        })
        .collect()
}

#[test]
fn virtualenv_interpreters_run_modules() {
    let src = "exec \"$VENV/bin/python\" -m crm.sync\n/opt/x/venv/bin/python3.11 -m crm.gc --once\n\"${APP}/venv/bin/pypy3\" -m crm.x\n";
    assert_eq!(
        runs(src),
        vec![
            (1, "module crm.sync".into()),
            (2, "module crm.gc".into()),
            (3, "module crm.x".into()),
        ]
    );
    // A script that only happens to live next to an interpreter is run as a script.
    let found = runs("\"$VENV/bin/pythonic-report\" --all\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].1.starts_with("path "), "{found:?}");
}

#[test]
fn application_servers_import_the_application_module() {
    let src = "gunicorn --workers 4 -b :80 crm.wsgi:application\n/opt/crm/venv/bin/uvicorn crm.main:create_app --port 8000\ncelery -A crm worker -l info\ncelery --app=crm.tasks:app beat\n";
    assert_eq!(
        runs(src),
        vec![
            (1, "module crm.wsgi".into()),
            (2, "module crm.main".into()),
            (3, "module crm".into()),
            (3, "module crm.celery".into()),
            (3, "module crm.app".into()),
            (4, "module crm.tasks".into()),
        ]
    );
    // `celery call` publishes a task; it runs no application code here.
    assert!(runs("celery -A crm call crm.tasks.sync\n").is_empty());
    // A worker count or a bind address is not an application.
    assert!(runs("gunicorn -w 4\n").is_empty());
}

#[test]
fn unknown_programs_are_named_for_the_manifests() {
    assert_eq!(
        runs("crm-sync --once\n"),
        vec![(1, "program crm-sync".into())]
    );
    // A function of the script is not a program; neither is a computed name.
    assert!(runs("crm_sync() { :; }\ncrm_sync\n").is_empty());
}

#[test]
fn modelled_programs_run_as_python_modules_are_those_programs() {
    // `python3 -m celery` is `celery`: the worker imports the application.
    assert_eq!(
        runs("python3 -m celery -A crm worker -Q sync\n"),
        vec![
            (1, "module crm".into()),
            (1, "module crm.celery".into()),
            (1, "module crm.app".into()),
        ]
    );
    // A module no model knows is the repository's own.
    assert_eq!(
        runs("python3 -m crm.sync --once\n"),
        vec![(1, "module crm.sync".into())]
    );
}
