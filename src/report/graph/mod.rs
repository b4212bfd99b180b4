//! `knockon graph`: the producer/consumer graph of repositories as a picture.
//!
//! Input: directories (read as repositories, like `knockon who`), a selection of resources and
//! repositories. Output: Graphviz DOT, Mermaid, JSON (versioned) or one self-contained HTML page
//! with the graph laid out in Rust as SVG, a table of the accesses and links from every node to
//! its site. [`view`] decides what is drawn; each format only writes it out, escaping every label
//! for its own syntax (names and paths come from analysed code and are hostile input).

pub mod dot;
pub mod html;
pub mod json;
pub mod layout;
pub mod mermaid;
pub mod view;

use crate::app::Outcome;
use crate::cli::{GraphArgs, GraphFormat};
use crate::error::Error;
use crate::exit_codes;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Runs `knockon graph`.
pub fn run(args: &GraphArgs) -> anyhow::Result<Outcome> {
    if args.resources.iter().any(|r| r.trim().is_empty()) {
        return Err(Error::Usage("--resource is empty".into()).into());
    }
    let dirs = if args.dirs.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.dirs.clone()
    };
    let world = crate::app::world(&dirs, &args.rules)?;
    let names: Vec<String> = world.repos.iter().map(|r| r.name.clone()).collect();
    for repo in &args.repos {
        if !names.contains(repo) {
            let hint = crate::inventory::suggest::closest(repo, names.iter().map(String::as_str))
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            return Err(Error::Usage(format!(
                "--repo {repo}: no repository of that name among the given directories{hint}"
            ))
            .into());
        }
    }
    let selection = view::Selection {
        resources: args.resources.clone(),
        repos: args.repos.clone(),
    };
    let quoter = crate::load::Quoter::new(&world.repos);
    let excerpt = |site: &crate::model::Site| quoter.line(&site.repo, &site.path, site.line);
    let view = view::build(&world.resolved, &names, &selection, &excerpt);
    let output = match args.format {
        GraphFormat::Dot => dot::render(&view),
        GraphFormat::Mermaid => mermaid::render(&view),
        GraphFormat::Json => json::render(&view),
        GraphFormat::Html => {
            let roots: BTreeMap<String, PathBuf> = world
                .repos
                .iter()
                .map(|r| {
                    let root = r.root.canonicalize().unwrap_or_else(|_| r.root.clone());
                    (r.name.clone(), root)
                })
                .collect();
            html::render(&view, &roots)
        }
    };
    Ok(Outcome {
        output,
        exit_code: exit_codes::CLEAN,
    })
}
