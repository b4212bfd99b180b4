//! Names: the file's import aliases and top-level definitions, and the qualified name of
//! a callee through them (`osp.join` -> `os.path.join`, `atomic_write` -> `pkg.io.atomic_write`).

use super::walk::{Extractor, MAX_DEPTH, compact, named};
use crate::extract::FieldExt as _;
use tree_sitter::Node;

impl<'a> Extractor<'a> {
    /// Fills the import alias table and the file's own top-level names, before the walk, so a
    /// call resolves the same whether the import is above or below it.
    pub fn collect_names(&mut self, top: &[Node<'_>]) {
        let mut stack: Vec<(Node<'_>, u32)> = top.iter().rev().map(|n| (*n, 0)).collect();
        let mut cursor = match top.first() {
            Some(node) => node.walk(),
            None => return,
        };
        while let Some((node, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                continue;
            }
            match node.kind_name() {
                "import_statement" => self.collect_import(node),
                "import_from_statement" => self.collect_from_import(node),
                "function_definition" | "class_definition" if depth == 0 => {
                    if let Some(name) = node.field("name") {
                        self.local_defs.insert(self.text(name).to_string());
                    }
                }
                "decorated_definition" if depth == 0 => {
                    if let Some(name) = node.field("definition").and_then(|d| d.field("name")) {
                        self.local_defs.insert(self.text(name).to_string());
                    }
                }
                _ => {}
            }
            if matches!(
                node.kind_name(),
                "import_statement" | "import_from_statement"
            ) {
                continue;
            }
            let first_child = stack.len();
            stack.extend(
                node.named_children(&mut cursor)
                    // Below the top level only imports are collected, and an import's text
                    // holds the word: a statement without it (most bodies) is not walked.
                    .filter(|child| {
                        is_import_container(child.kind_name())
                            && memchr::memmem::find(self.text(*child).as_bytes(), b"import")
                                .is_some()
                    })
                    .map(|child| (child, depth + 1)),
            );
            stack[first_child..].reverse();
        }
        for alias in self.aliases.keys() {
            self.local_defs.remove(alias);
        }
    }

    fn collect_import(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        let names: Vec<Node<'_>> = node.children_by_field_name("name", &mut cursor).collect();
        for name in names {
            let (module, local) = match name.kind_name() {
                "aliased_import" => (
                    name.field("name").map(|n| self.text(n)),
                    name.field("alias").map(|n| self.text(n)),
                ),
                _ => (Some(self.text(name)), Some(self.text(name))),
            };
            if let (Some(module), Some(local)) = (module, local) {
                self.aliases.insert(compact(local), compact(module));
            }
        }
    }

    fn collect_from_import(&mut self, node: Node<'_>) {
        let Some((module, level)) = self.import_source(node) else {
            return;
        };
        let base = self.absolute_module(&module, level);
        let module_node = node.field("module_name").map(|m| m.id());
        for child in named(node) {
            if Some(child.id()) == module_node {
                continue;
            }
            let (name, local) = match child.kind_name() {
                "aliased_import" => (
                    child.field("name").map(|n| self.text(n)),
                    child.field("alias").map(|n| self.text(n)),
                ),
                "dotted_name" => (Some(self.text(child)), Some(self.text(child))),
                _ => (None, None),
            };
            if let (Some(name), Some(local)) = (name, local) {
                let qualified = if base.is_empty() {
                    compact(name)
                } else {
                    format!("{base}.{}", compact(name))
                };
                self.from_imported.insert(compact(local));
                self.aliases.insert(compact(local), qualified);
            }
        }
    }

    /// The absolute module of a relative import, from this file's module name (`from .x
    /// import y` in `pkg/mod.py` is `pkg.x`); relative spelling kept when it climbs too far.
    fn absolute_module(&self, module: &str, level: u32) -> String {
        if level == 0 {
            return module.to_string();
        }
        let mut parts: Vec<&str> = self.module.split('.').filter(|p| !p.is_empty()).collect();
        if !self.is_package {
            parts.pop();
        }
        for _ in 1..level {
            if parts.pop().is_none() {
                let dots = ".".repeat(usize::try_from(level).unwrap_or(1));
                return format!("{dots}{module}");
            }
        }
        if !module.is_empty() {
            parts.push(module);
        }
        parts.join(".")
    }

    /// The qualified name of a dotted name through the imports, and how many of its
    /// components the import covered; `None` when no import or top-level definition names it.
    pub fn qualify(&self, dotted: &str) -> Option<(String, usize)> {
        // The prefixes of one, two, ... components (`a`, `a.b`, `a.b.c`), longest first: a
        // prefix is a slice of the name, and the rest after it starts with its dot.
        let bytes = dotted.as_bytes();
        let mut covered = memchr::memchr_iter(b'.', bytes).count();
        let mut end = dotted.len();
        loop {
            if let (Some(prefix), Some(rest)) = (dotted.get(..end), dotted.get(end..))
                && let Some(target) = self.aliases.get(prefix)
            {
                return Some(([target.as_str(), rest].concat(), covered + 1));
            }
            match bytes
                .get(..end)
                .and_then(|head| memchr::memrchr(b'.', head))
            {
                Some(dot) => {
                    end = dot;
                    covered = covered.saturating_sub(1);
                }
                None => break,
            }
        }
        let first = dotted.split('.').next()?;
        if self.local_defs.contains(first) {
            let name = if self.module.is_empty() {
                dotted.to_string()
            } else {
                [self.module.as_str(), ".", dotted].concat()
            };
            return Some((name, 1));
        }
        None
    }

    /// The qualified name, or the name itself (builtins, unknown names).
    pub fn qualified(&self, dotted: &str) -> String {
        self.qualify(dotted)
            .map_or_else(|| dotted.to_string(), |q| q.0)
    }
}

/// Node kinds that may contain import statements (statements and blocks, not expressions).
fn is_import_container(kind: &str) -> bool {
    matches!(
        kind,
        "block"
            | "function_definition"
            | "class_definition"
            | "decorated_definition"
            | "ERROR"
            | "elif_clause"
            | "else_clause"
            | "except_clause"
            | "finally_clause"
            | "import_statement"
            | "import_from_statement"
    ) || kind.ends_with("_statement")
}
