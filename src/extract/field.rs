//! Named fields of tree-sitter nodes by id. `Node::child_by_field_name` looks the name up among
//! the grammar's field names with a string comparison each time — about a tenth of extraction
//! time on the benchmark corpus; the id of each (grammar, name) is looked up once per thread.

use foldhash::{HashMap, HashMapExt as _};
use std::cell::RefCell;
use tree_sitter::Node;

/// `node.field("name")`: `child_by_field_name` with the field id cached.
pub trait FieldExt<'tree> {
    fn field(&self, name: &'static str) -> Option<Node<'tree>>;
}

thread_local! {
    /// (grammar name's address, field name's address and length) -> field id. Names are
    /// `'static`, so an address always holds the same text.
    static IDS: RefCell<HashMap<(usize, usize, usize), Option<u16>>> = RefCell::new(HashMap::new());
}

impl<'tree> FieldExt<'tree> for Node<'tree> {
    fn field(&self, name: &'static str) -> Option<Node<'tree>> {
        let language = self.language();
        let grammar = language.name().map_or(0, |n| n.as_ptr() as usize);
        let key = (grammar, name.as_ptr() as usize, name.len());
        let id = IDS.with(|ids| {
            *ids.borrow_mut()
                .entry(key)
                .or_insert_with(|| language.field_id_for_name(name).map(|id| id.get()))
        });
        self.child_by_field_id(id?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_by_cached_id_are_the_fields_by_name() {
        let mut parser = tree_sitter::Parser::new();
        let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
        assert!(parser.set_language(&language).is_ok());
        let Some(tree) = parser.parse("x = f(a, b=1)\n", None) else {
            panic!("the parser gives a tree for valid Python");
        };
        let mut stack = vec![tree.root_node()];
        let mut compared = 0;
        while let Some(node) = stack.pop() {
            for name in [
                "left",
                "right",
                "function",
                "arguments",
                "name",
                "value",
                "body",
            ] {
                // Twice: the second comes from the cache.
                for _ in 0..2 {
                    assert_eq!(node.field(name), node.child_by_field_name(name));
                    compared += 1;
                }
            }
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
        assert!(compared > 20);
        let bash: tree_sitter::Language = tree_sitter_bash::LANGUAGE.into();
        assert!(parser.set_language(&bash).is_ok());
        let Some(tree) = parser.parse("echo hi > /tmp/x\n", None) else {
            panic!("the parser gives a tree for valid Bash");
        };
        let mut stack = vec![tree.root_node()];
        while let Some(node) = stack.pop() {
            for name in [
                "name",
                "argument",
                "redirect",
                "destination",
                "value",
                "body",
            ] {
                assert_eq!(node.field(name), node.child_by_field_name(name));
            }
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
    }
}
