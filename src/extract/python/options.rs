//! Command-line options as values: `parser.add_argument("--out-dir", default="/srv/out")` makes
//! `args.out_dir` that default after `args = parser.parse_args()`, and
//! `@click.option("--out-dir", default="/srv/out", envvar="OUT_DIR")` makes the command's
//! `out_dir` parameter the environment variable with that default. What a user passes on the
//! command line is not known; the default (or the variable) is what a deployment that passes
//! nothing gets, and it is what a change to the default changes.

use super::walk::{Ctx, Extractor, named};
use crate::expr::Expr;
use crate::extract::FieldExt as _;
use tree_sitter::Node;

/// Options remembered per file, first ones first.
const MAX_OPTIONS: usize = 256;

/// One option with a default: the attribute name it lands on, and its value.
#[derive(Clone, Debug)]
pub(super) struct OptionDefault {
    pub dest: String,
    pub value: Expr,
    /// Where the option is declared: the line a change of its default edits.
    pub line: u32,
}

impl Extractor<'_> {
    /// `X.add_argument(...)`: remembered until a `parse_args()` result is bound.
    pub(super) fn argparse_option(&mut self, call: Node<'_>, ctx: &Ctx) {
        if self.option_defaults.len() >= MAX_OPTIONS {
            return;
        }
        if let Some(option) = self.option_default(call, ctx, false) {
            self.option_defaults.push(option);
        }
    }

    /// `args = parser.parse_args()`: `args.<dest>` is each remembered option's default.
    pub(super) fn bind_parsed_args(&mut self, target: Node<'_>, value: Node<'_>, ctx: &Ctx) {
        if target.kind_name() != "identifier" || value.kind_name() != "call" {
            return;
        }
        let Some(function) = value.field("function") else {
            return;
        };
        let is_parse = self
            .dotted(function)
            .is_some_and(|d| d.ends_with(".parse_args"));
        if !is_parse {
            return;
        }
        let name = self.text(target).to_string();
        let scope = ctx.scope;
        // Bound at each option's own line (before the use, as the declaration is), so that a
        // change of a default is anchored where it is written.
        for option in self.option_defaults.clone() {
            let line = option.line.min(ctx.line);
            self.bind(scope, format!("{name}.{}", option.dest), option.value, line);
        }
    }

    /// `@click.option("--out-dir", default=..., envvar=...)` on the function being decorated:
    /// its parameter bound at the `def` line.
    pub(super) fn click_option(&mut self, decorator: Node<'_>, ctx: &Ctx, def_line: u32) {
        let Some(scope) = self.decorating.as_ref().map(|d| d.scope) else {
            return;
        };
        let Some(call) = Some(decorator).filter(|d| d.kind_name() == "call") else {
            return;
        };
        let Some(function) = call.field("function") else {
            return;
        };
        let qualified = self
            .dotted(function)
            .map(|d| self.qualified(&d))
            .unwrap_or_default();
        if !matches!(qualified.as_str(), "click.option" | "click.argument") {
            return;
        }
        if let Some(option) = self.option_default(call, ctx, true) {
            self.bind(scope, option.dest, option.value, def_line);
        }
    }

    /// The destination and default of an option declaration; with `envvar=` (click), the
    /// environment variable with the default as its default.
    fn option_default(&mut self, call: Node<'_>, ctx: &Ctx, click: bool) -> Option<OptionDefault> {
        let list = call.field("arguments")?;
        let mut names: Vec<String> = Vec::new();
        let mut dest = None;
        let mut default = None;
        let mut envvar = None;
        for arg in named(list) {
            match arg.kind_name() {
                "string" => {
                    if let Some(text) = self.literal_string(arg, ctx) {
                        names.push(text);
                    }
                }
                "keyword_argument" => {
                    let (Some(key), Some(value)) = (arg.field("name"), arg.field("value")) else {
                        continue;
                    };
                    match self.text(key) {
                        "dest" => dest = self.literal_string(value, ctx),
                        "default" if value.kind_name() != "none" => default = Some(value),
                        "envvar" if click => envvar = self.literal_string(value, ctx),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        let dest = dest.or_else(|| {
            // The first long option, else the first name: `--out-dir` -> `out_dir`.
            let long = names.iter().find(|n| n.starts_with("--"));
            let chosen = long.or_else(|| names.iter().find(|n| !n.starts_with('-')))?;
            let bare = chosen.trim_start_matches('-').replace('-', "_");
            // click: `"--out", "out_dir"` names the parameter explicitly.
            let explicit = names
                .iter()
                .find(|n| !n.starts_with('-') && click && names.len() > 1);
            Some(explicit.cloned().unwrap_or(bare))
        })?;
        if dest.is_empty() || !dest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        let default = default.map(|d| self.translate(d, ctx));
        let value = match (envvar, default) {
            (Some(name), default) => Expr::Env {
                name: name.into(),
                default: default.map(Box::new),
            },
            (None, Some(default)) => default,
            (None, None) => return None,
        };
        Some(OptionDefault {
            dest,
            value,
            line: ctx.line,
        })
    }
}
