//! Python extractor: one `.py` file -> [`FileFacts`].
//!
//! Input: the file's repository-relative path (which gives its dotted module name), its text,
//! and the python API models (`rules/models/python.toml`). Output: scopes (the module, each
//! `def` and `class`), bindings (assignments, loop variables, `self.x` in methods, parameter
//! defaults), imports, and:
//!
//! - the accesses of every call a model row matches: paths (each as an unresolved
//!   [`crate::expr::Expr`]), environment variables (also `os.environ[...]` items and
//!   `BaseSettings` fields), secret-manager secrets, and queues with the message fields a
//!   producer writes or a consumer reads (`python/messages.rs`);
//! - triggers (signal handlers, routes, watched and polled files, in-code schedules, service
//!   loops), sends (signals to pid files or process names, HTTP requests, `kill`/`pkill`/
//!   `systemctl reload` commands), and `wait-for` accesses of polling loops (`python/loops.rs`);
//! - calls of functions by name that no row matched, qualified through the imports.
//!
//! Methods of typed clients (`boto3.client("sqs").send_message`) match only rows for that
//! type (`python/types.rs`). Conventions for the resolver are documented in
//! `python/effects.rs` (optional versus required environment reads, the AMQP default
//! exchange, Celery task names, trigger scopes) and `python/loops.rs` (where a `wait-for`
//! line points).
//!
//! Invariants: a faithful translation, not a resolution — names stay `Var`s for the resolver,
//! which substitutes them from `bindings` and `imports`. The only exception: a glob argument
//! built from names bound in this file to text with glob syntax is inlined, because only the
//! call knows that the text is a glob. A file that does not parse yields the facts of its
//! well-formed statements and one warning per error region. No input panics the extractor,
//! recursion is bounded, and the analyses of message fields share a per-file budget.

mod calls;
mod effects;
mod environ;
mod loops;
mod messages;
mod names;
mod options;
mod parse;
mod returns;
mod scan;
mod schedule;
mod sends;
mod strings;
mod structures;
mod tasks;
mod translate;
mod types;
mod values;
mod walk;

#[cfg(test)]
mod resource_tests;
#[cfg(test)]
mod tests;

use crate::extract::FileFacts;
use crate::rules::models::Models;

/// Extracts the facts of one Python file.
pub fn extract(path: &str, text: &str, models: &Models) -> FileFacts {
    extract_within(path, text, models, crate::extract::Budget::default())
}

/// [`extract`] with a given budget of work.
pub(crate) fn extract_within(
    path: &str,
    text: &str,
    models: &Models,
    work: crate::extract::Budget,
) -> FileFacts {
    let (module, is_package) = module_name(path);
    let parsed = parse::parse(text);
    let top = parsed.top_nodes();
    let mut extractor = walk::Extractor::new(text, module, is_package, &models.python);
    extractor.trees = std::rc::Rc::new(parsed.trees());
    extractor.file_path = path.trim_start_matches("./").to_string();
    extractor.work = work;
    extractor.collect_names(&top);
    extractor.collect_tasks(&top);
    extractor.run(&top);
    extractor.finish();
    let stopped = extractor.work.warning();
    let trees = std::mem::take(&mut extractor.trees);
    let mut facts = std::mem::take(&mut extractor.facts);
    if let Ok(trees) = std::rc::Rc::try_unwrap(trees) {
        trees
            .into_iter()
            .for_each(crate::extract::tree_memory::release);
    }
    let warnings_of_parse = parsed.release();
    facts.warnings.extend(stopped);
    let mut warnings = warnings_of_parse;
    warnings.append(&mut facts.warnings);
    facts.warnings = warnings;
    facts
}

/// The dotted module name of a file (`loader/write.py` -> `loader.write`, `pkg/__init__.py` ->
/// `pkg`, a leading `src/` dropped) and whether it is a package's `__init__`, which decides
/// what its relative imports are relative to.
pub(crate) fn module_name(path: &str) -> (String, bool) {
    let path = path.trim_start_matches("./");
    let path = path.strip_prefix("src/").unwrap_or(path);
    let path = path
        .strip_suffix(".py")
        .or_else(|| path.strip_suffix(".pyw"))
        .unwrap_or(path);
    let mut parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let is_package = parts.last() == Some(&"__init__");
    if is_package {
        parts.pop();
    }
    (parts.join("."), is_package)
}
