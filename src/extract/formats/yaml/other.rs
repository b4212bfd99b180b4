//! Other YAML configuration (log shippers such as filebeat, promtail, vector, fluent-bit's YAML
//! form; application configs) -> the files its keys name.
//!
//! Every mapping key is looked up in the `[[key]]` rows of `rules/models/config.toml`
//! (`paths:` of a filebeat input are read, `log_file:` is appended to); its value (a string
//! with one or several paths, or a list of them) gives one access per path. Values of other
//! keys that look like absolute paths are low-confidence `unknown` accesses (`via = "generic:
//! yaml"`), so a renamed path still finds its mentions.
//!
//! Invariants: the walk is bounded in depth ([`MAX_DEPTH`]) and in accesses ([`MAX_GENERIC`]).

use super::Ctx;
use super::tree::Node;
use crate::extract::formats::common::{self, path_access};
use crate::extract::formats::keyvalue::reach;
use crate::extract::{FileFacts, Reach};
use crate::model::Mode;

const MAX_DEPTH: u32 = 32;
const MAX_GENERIC: usize = 200;

pub(super) fn extract(ctx: &Ctx, facts: &mut FileFacts, root: &Node) {
    let mut generic = 0;
    walk(ctx, facts, root, None, 0, &mut generic);
}

fn walk(
    ctx: &Ctx,
    facts: &mut FileFacts,
    node: &Node,
    key: Option<&str>,
    depth: u32,
    generic: &mut usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    if node.is_map() {
        for (name, _, value) in node.pairs() {
            walk(ctx, facts, value, Some(name), depth + 1, generic);
        }
        return;
    }
    if node.is_seq() {
        for item in node.seq() {
            walk(ctx, facts, item, key, depth + 1, generic);
        }
        return;
    }
    let (Some(key), Some(text)) = (key, node.str()) else {
        return;
    };
    let model = ctx.models.config.key(ctx.path, key);
    match model {
        Some(model) => {
            for token in common::split_values(text) {
                if common::looks_like_path(&token) {
                    let via = model.via.clone().unwrap_or_else(|| format!("config {key}"));
                    path_access(
                        facts,
                        0,
                        common::path_expr(&token),
                        model.mode,
                        reach(model.reach),
                        node.line,
                        &via,
                    );
                }
            }
        }
        None => {
            let segments = text.split('/').filter(|s| !s.is_empty()).count();
            if *generic < MAX_GENERIC
                && text.starts_with('/')
                && segments >= 2
                && common::looks_like_path(text)
            {
                *generic += 1;
                path_access(
                    facts,
                    0,
                    common::path_expr(text),
                    Mode::Unknown,
                    Reach::Exact,
                    node.line,
                    "generic: yaml",
                );
            }
        }
    }
}
