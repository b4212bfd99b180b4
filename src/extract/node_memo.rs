//! What a walk already read of a syntax tree: a node's field and its children, remembered for
//! the rest of the walk.
//!
//! tree-sitter keeps no links from a node to its children: `child_by_field_id`, `named_child`
//! and `child` step through the node's children from the first each time (400–1,100
//! instructions a call over the benchmark corpus's `nova`), and a cursor stepping from child to
//! child costs more. The walks read the same things again — over `nova`, 3.6 M field lookups
//! of 1.2 M distinct (node, field) pairs and 1.6 M named-children lists of 1.0 M nodes (the
//! shell walks: 0.96 M of 0.45 M) — as each part of the walk (a call's callee, its value, its
//! effects) asks on its own. Inside [`remembering`], [`crate::extract::FieldExt`] answers each
//! question once per node and from a table after.
//!
//! Invariants, which make handing a remembered node back sound: a node's id is its subtree's
//! address, unique among the nodes of live trees; entries are made only inside
//! [`remembering`], from nodes the walk holds (so of live trees), and name nodes of the same
//! tree; a new address can only come from a new tree, and every tree the extractors parse
//! forgets everything first ([`forget`]), as does entering and leaving [`remembering`] — so no
//! entry outlives the trees it names into a time when their addresses could be reused. Outside
//! [`remembering`] (tests and tools parsing their own trees) nothing is remembered.

use foldhash::HashMap;
use std::cell::RefCell;
use tree_sitter::{Node, ffi::TSNode};

/// What is asked of a node: one of its fields (by field id), its named children, or all.
#[derive(Clone, Copy)]
pub(crate) enum Question {
    Field(u16),
    NamedChildren,
    Children,
}

impl Question {
    /// The table's key for this question about the node whose id is `node`. Field ids are
    /// small (a grammar has a few dozen fields); the two list questions take the top two.
    fn key(self, node: usize) -> (usize, u16) {
        let tag = match self {
            Question::Field(id) => id,
            Question::NamedChildren => u16::MAX,
            Question::Children => u16::MAX - 1,
        };
        (node, tag)
    }
}

#[derive(Default)]
struct Memo {
    /// How many [`remembering`] calls are open on this thread; nothing is kept at 0.
    depth: u32,
    /// The answer to a field question, or `None` for a field the node lacks.
    fields: HashMap<(usize, u16), Option<TSNode>>,
    /// The range of `nodes` that holds the answer to a children question, by [`Question::key`].
    lists: HashMap<(usize, u16), (u32, u32)>,
    nodes: Vec<TSNode>,
}

impl Memo {
    fn clear(&mut self) {
        self.fields.clear();
        self.lists.clear();
        self.nodes.clear();
    }
}

/// What a memo keeps between files at most; a bigger one is given back when its walk ends.
const RETAINED_ENTRIES: usize = 1 << 16;

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

/// Runs a walk with node questions remembered; what it remembered is forgotten when it ends.
pub(crate) fn remembering<R>(walk: impl FnOnce() -> R) -> R {
    struct Open;
    impl Drop for Open {
        fn drop(&mut self) {
            MEMO.with(|memo| {
                if let Ok(mut memo) = memo.try_borrow_mut() {
                    memo.depth = memo.depth.saturating_sub(1);
                    memo.clear();
                    if memo.depth == 0
                        && (memo.fields.capacity() > RETAINED_ENTRIES
                            || memo.nodes.capacity() > RETAINED_ENTRIES)
                    {
                        *memo = Memo::default();
                    }
                }
            });
        }
    }
    MEMO.with(|memo| {
        if let Ok(mut memo) = memo.try_borrow_mut() {
            memo.depth += 1;
            memo.clear();
        }
    });
    let _open = Open;
    walk()
}

/// Forgets every answer: called by the extractors as each new tree is parsed.
pub(crate) fn forget() {
    MEMO.with(|memo| {
        if let Ok(mut memo) = memo.try_borrow_mut() {
            memo.clear();
        }
    });
}

/// The node `field` is asked about `node`'s field of id `field_id`: remembered, or read by
/// `read` and remembered.
pub(crate) fn field<'tree>(
    node: &Node<'tree>,
    field_id: u16,
    read: impl FnOnce() -> Option<Node<'tree>>,
) -> Option<Node<'tree>> {
    MEMO.with(|memo| {
        let Ok(mut memo) = memo.try_borrow_mut() else {
            return read();
        };
        if memo.depth == 0 {
            return read();
        }
        let key = Question::Field(field_id).key(node.id());
        if let Some(answer) = memo.fields.get(&key) {
            return answer.map(|raw| from_raw(node, raw));
        }
        let answer = read();
        memo.fields.insert(key, answer.map(Node::into_raw));
        answer
    })
}

/// Appends the answer to a children `question` about `node` to `out`: remembered, or read by
/// `read` into `out` and remembered.
pub(crate) fn children<'tree>(
    node: &Node<'tree>,
    question: Question,
    out: &mut Vec<Node<'tree>>,
    read: impl FnOnce(&mut Vec<Node<'tree>>),
) {
    MEMO.with(|memo| {
        let Ok(mut memo) = memo.try_borrow_mut() else {
            return read(out);
        };
        if memo.depth == 0 {
            return read(out);
        }
        let key = question.key(node.id());
        if let Some(&(start, len)) = memo.lists.get(&key) {
            let (start, len) = (start as usize, len as usize);
            if let Some(raws) = memo.nodes.get(start..start + len) {
                out.extend(raws.iter().map(|raw| from_raw(node, *raw)));
                return;
            }
        }
        let first = out.len();
        read(out);
        let start = memo.nodes.len();
        if let (Ok(start), Ok(len)) = (u32::try_from(start), u32::try_from(out.len() - first)) {
            memo.nodes
                .extend(out[first..].iter().map(|child| child.into_raw()));
            memo.lists.insert(key, (start, len));
        }
    })
}

/// A remembered node, back with the lifetime of the node it was asked of.
fn from_raw<'tree>(_asked: &Node<'tree>, raw: TSNode) -> Node<'tree> {
    // SAFETY: `raw` was read from a node of the same tree as `_asked` (a field or child of the
    // node whose id is in its key) while that tree lived, and the tree still lives: a live
    // node holds the key's id, and no entry survives the trees it names (module invariants).
    unsafe { Node::from_raw(raw) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::FieldExt as _;

    fn parse(source: &str) -> tree_sitter::Tree {
        let mut parser = tree_sitter::Parser::new();
        assert!(
            parser
                .set_language(&tree_sitter_python::LANGUAGE.into())
                .is_ok()
        );
        let Some(tree) = parser.parse(source, None) else {
            panic!("the parser gives a tree for valid Python");
        };
        tree
    }

    /// Every node's fields and children, read twice: the second reading comes from the memo.
    fn readings(root: Node<'_>) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            for name in [
                "function",
                "arguments",
                "left",
                "right",
                "name",
                "body",
                "value",
            ] {
                out.push(format!("{name}={:?}", node.field(name)));
            }
            out.push(format!("named={:?}", node.named_children_vec()));
            let children = node.children_vec();
            out.push(format!("all={children:?}"));
            stack.extend(children);
        }
        out
    }

    #[test]
    fn remembered_answers_are_the_answers_read() {
        let tree = parse("def f(a, b=1):\n    x = g(a, *b, k=h(2))[0]\n    return x.y\n");
        let plain = readings(tree.root_node());
        let (first, second, entries) = remembering(|| {
            let first = readings(tree.root_node());
            let second = readings(tree.root_node());
            let entries = MEMO.with(|memo| memo.borrow().lists.len());
            (first, second, entries)
        });
        assert_eq!(plain, first);
        assert_eq!(plain, second);
        assert!(entries > 20, "the walk's lists were remembered: {entries}");
        assert_eq!(MEMO.with(|memo| memo.borrow().lists.len()), 0);
    }

    #[test]
    fn a_new_tree_forgets_and_nothing_is_kept_outside_a_walk() {
        let first = parse("a = f(1)\n");
        readings(first.root_node());
        assert_eq!(MEMO.with(|memo| memo.borrow().fields.len()), 0);
        remembering(|| {
            readings(first.root_node());
            assert!(MEMO.with(|memo| memo.borrow().fields.len()) > 0);
            forget();
            assert_eq!(MEMO.with(|memo| memo.borrow().fields.len()), 0);
            let second = parse("b = g(2, 3)\n");
            assert_eq!(readings(second.root_node()), {
                let plain = parse("b = g(2, 3)\n");
                readings(plain.root_node())
            });
        });
    }
}
