//! The Rust extractor: one `.rs` file -> [`FileFacts`], with `syn`.
//!
//! Input: the file's repository-relative path, its text and the Rust models
//! (`rules/models/rust.toml`). Output: scopes (the file's module, every `fn`, inline `mod`s,
//! one class scope per `impl`ed type), bindings (`const`, `static`, `let`, assignments,
//! `PathBuf::push`-style mutations, `for` loop variables, struct-literal fields), `use` imports,
//! and the path accesses that model rows recognise, each with the unresolved [`Expr`] of its path.
//! Beyond paths (`resources`, `messages`, `loops`, `calls`): environment variables read and set,
//! secret-manager accesses, queue publishes, consumes, declarations and bindings with the message
//! fields visible in the file, how the program is triggered (signal handlers, routes, schedules
//! in code, paced loops, watched files), the signals and HTTP requests it sends, the waits of
//! polling loops, and its calls of other functions ([`crate::extract::CallRef`]).
//!
//! Invariants:
//! - It records what the file spells and resolves nothing across scopes or files: a name is an
//!   [`Expr::Var`] for the resolver. Only call paths are resolved through the file's own `use`
//!   items, to select model rows.
//! - It never panics and never overflows the stack: input that does not lex or parse, or nests
//!   deeper than [`depth::MAX_NESTING`], yields one warning and no accesses. Parsing runs on a
//!   thread of its own whose stack is sized for that bound (syn's parser is recursive).
//! - Code that only runs in tests (`#[cfg(test)]` modules, `#[test]` functions) is skipped: it
//!   neither produces nor consumes anything in production.
//!
//! Naming conventions the resolver relies on:
//! - The file scope's name is the module path from the file path, `::`-separated:
//!   `src/writer.rs` -> `writer`, `src/a/mod.rs` -> `a`, `src/a/b.rs` -> `a::b`, crate roots
//!   (`src/main.rs`, `src/lib.rs`, `src/bin/*.rs`, `build.rs`, `tests/*.rs`) -> `""`.
//! - A `Var` for a path expression is named by its segments joined with `::`
//!   (`config::OUT_DIR`); `Self::X` is written with the `impl`'s type (`Store::X`), and an
//!   associated `const X` of `impl Store` is bound as `Store::X` in the module scope.
//! - A field read `self.dir` is a `Var` named `self.dir`; struct literals of a type
//!   (`Self { dir: .. }`) and assignments `self.dir = ..` bind `self.dir` in the type's class
//!   scope, which is the [`crate::extract::Scope::class`] of its methods. A field read through
//!   a value of a known type (`s.dir` after `let s = Spool::new();`, a parameter `cfg: &Config`,
//!   `self.config.out_dir` with a declared `config: Config`) and a method call on one
//!   (`s.path(id)`) are `self.dir` / `self.path()` in that type's class scope; serde and clap
//!   field attributes bind `self.<field>` there too (see `fields`).
//! - A function's result (`name()`, `Type::name()`, `self.name()`) is bound at the line of its
//!   tail expression.
//! - Imports: `use a::b::c as d;` is `Import { local: "d", module: "a::b", name: Some("c") }`;
//!   a single-segment `use regex;` has `name: None`; a glob `use a::b::*;` has local and name
//!   `*`. `crate::`, `self::` and `super::` are kept as written; `level` is always 0.
//! - Credentials, queues, triggers, sends: see `resources` (environment defaults, `unset` and
//!   `default` holes, Vault ids, queue-name patterns, signal targets), `messages` (field flags,
//!   which fields a consume gets), `loops` (waits at the read inside the loop, loop and watched-file
//!   triggers, intervals in words) and `calls` (callee spelling). A trigger's scope is the
//!   function that registers it (`main` for a paced loop in `main`, the handler for a route
//!   attribute); clap and other derive-attribute reads are in the scope where the struct is.

mod calls;
mod chain;
mod convert;
mod depth;
mod fields;
mod format;
mod loops;
mod messages;
mod resources;
mod walk;

#[cfg(test)]
mod field_tests;
#[cfg(test)]
mod resource_tests;
#[cfg(test)]
mod tests;

use crate::extract::{ExtractWarning, FileFacts, ScopeKind};
use crate::rules::models::Models;
use crate::rules::models::rust::RustModels;
use proc_macro2::TokenStream;
use std::str::FromStr;

/// Larger files are skipped: generated code that big is not where shared paths are named, and
/// parsing it would cost seconds.
const MAX_SOURCE_BYTES: usize = 8 * 1024 * 1024;

/// Stack of the parsing thread. syn recurses per nesting level (parens, blocks, types), and so
/// do the walk and the drop of the tree. The deepest inputs that [`depth::MAX_NESTING`] lets
/// through need between 32 and 64 MiB in debug builds and less than 8 MiB in release builds
/// (measured by `deepest_accepted_nesting_of_every_construct_fits_the_stack`); this leaves
/// several times that as headroom. The stack is reserved, not committed, until used.
const PARSER_STACK_BYTES: usize = if cfg!(debug_assertions) {
    160 * 1024 * 1024
} else {
    48 * 1024 * 1024
};

/// The stack a thread needs to extract Rust files itself (see [`PARSER_STACK_BYTES`]).
pub const EXTRACTION_STACK_BYTES: usize = PARSER_STACK_BYTES;

thread_local! {
    /// Set on a thread started with [`EXTRACTION_STACK_BYTES`] of stack or more: it extracts
    /// Rust files itself. Any other thread starts a thread of that stack for each file, which
    /// cost a corpus run 0.35 s of its 4.3 s: the worker waits for each file's thread, and
    /// every such thread maps, faults in and unmaps its stack.
    static ROOMY_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the calling thread as started with at least [`EXTRACTION_STACK_BYTES`] of stack, so
/// that Rust files are extracted on it. A thread marked without that much stack may overflow
/// it (and abort the process) on deeply nested code.
pub fn mark_roomy_stack() {
    ROOMY_STACK.set(true);
}

/// Extracts the facts of one Rust file. Never fails: what cannot be read is a warning.
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
    let module = module_name(path);
    if text.len() > MAX_SOURCE_BYTES {
        let message = format!(
            "file is larger than {} MiB; not analysed",
            MAX_SOURCE_BYTES / (1024 * 1024)
        );
        return warned(&module, 1, message);
    }
    let rust = &models.rust;
    if ROOMY_STACK.get() {
        // A panic is this file's warning, as on a thread of its own; the span table is
        // emptied either way.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parse_and_walk(&module, text, rust, work)
        }));
        proc_macro2::extra::invalidate_current_thread_spans();
        return outcome.unwrap_or_else(|_panic| {
            warned(
                &module,
                1,
                "the Rust extractor failed on this file".to_string(),
            )
        });
    }
    let outcome = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("knockon-rust-extract".to_string())
            .stack_size(PARSER_STACK_BYTES)
            .spawn_scoped(s, || extract_on_this_thread(&module, text, rust, work))
            .map(|handle| handle.join())
    });
    match outcome {
        Ok(Ok(facts)) => facts,
        Ok(Err(_panic)) => warned(
            &module,
            1,
            "the Rust extractor failed on this file".to_string(),
        ),
        Err(error) => warned(
            &module,
            1,
            format!("could not start the Rust parser: {error}"),
        ),
    }
}

/// Lexes, bounds, parses and walks the file. Runs on the big-stack thread, which also owns and
/// drops the syntax tree (dropping is recursive too).
fn extract_on_this_thread(
    module: &str,
    text: &str,
    models: &RustModels,
    work: crate::extract::Budget,
) -> FileFacts {
    let facts = parse_and_walk(module, text, models, work);
    // Every line number has been copied out of the spans by now; the thread-local span table
    // would otherwise grow with every file this thread ever lexed.
    proc_macro2::extra::invalidate_current_thread_spans();
    facts
}

fn parse_and_walk(
    module: &str,
    text: &str,
    models: &RustModels,
    work: crate::extract::Budget,
) -> FileFacts {
    let source = lexable_source(text);
    let tokens = match TokenStream::from_str(&source) {
        Ok(tokens) => tokens,
        Err(error) => {
            let line = walk::line_of(error.span());
            return warned(module, line, format!("not valid Rust tokens: {error}"));
        }
    };
    let nesting = depth::nesting_estimate(tokens.clone());
    if nesting > depth::MAX_NESTING {
        let message = format!(
            "nested more than {} levels deep; not analysed",
            depth::MAX_NESTING
        );
        return warned(module, 1, message);
    }
    let idents = loops::file_idents(&tokens, &models.required_in(&source));
    match syn::parse2::<syn::File>(tokens) {
        Ok(file) => walk::walk_file(module, &file, models, idents, work),
        Err(error) => {
            let line = walk::line_of(error.span());
            let message = format!("does not parse as Rust: {error}");
            warned(module, line, message)
        }
    }
}

/// The text with what `syn::parse_file` strips before lexing blanked out: a byte-order mark and
/// a shebang line (kept as an empty line so that line numbers do not move).
fn lexable_source(text: &str) -> std::borrow::Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let is_shebang = text.starts_with("#!") && !text[2..].trim_start().starts_with('[');
    if is_shebang {
        let rest = text.find('\n').map_or("", |i| &text[i..]);
        std::borrow::Cow::Owned(rest.to_string())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Facts with only the file scope and one warning.
fn warned(module: &str, line: u32, message: String) -> FileFacts {
    let mut facts = FileFacts::new(module, ScopeKind::Module);
    facts.warnings.push(ExtractWarning {
        line: line.max(1),
        message,
    });
    facts
}

/// The module path of a file from its repository-relative path (see the module docs).
pub(crate) fn module_name(path: &str) -> String {
    let components: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let Some((file, dirs)) = components.split_last() else {
        return String::new();
    };
    let stem = file.strip_suffix(".rs").unwrap_or(file);
    let relative: &[&str] = if let Some(i) = dirs.iter().rposition(|d| *d == "src") {
        match &dirs[i + 1..] {
            // `src/bin/tool.rs` is a crate root; `src/bin/tool/` a crate directory.
            ["bin"] => return String::new(),
            ["bin", _, rest @ ..] => rest,
            rest => rest,
        }
    } else if let Some(i) = dirs
        .iter()
        .rposition(|d| matches!(*d, "tests" | "examples" | "benches"))
    {
        match &dirs[i + 1..] {
            // `tests/it.rs` is a crate root; `tests/it/` a crate directory.
            [] => return String::new(),
            [_, rest @ ..] => rest,
        }
    } else {
        &[]
    };
    let is_root_file = relative.is_empty() && matches!(stem, "main" | "lib" | "build");
    let mut segments = relative.to_vec();
    if !is_root_file && stem != "mod" {
        segments.push(stem);
    }
    segments.join("::")
}
