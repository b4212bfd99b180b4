//! Named fields and kinds of tree-sitter nodes by id. `Node::child_by_field_name` looks the name
//! up among the grammar's field names with a string comparison each time — about a tenth of
//! extraction time on the benchmark corpus; the grammars' field ids are read once into a table by
//! name. `Node::kind` measures and validates the kind's C string on every call (3–4 % of a
//! whole-corpus run); the kinds of each grammar are read once into a table by kind id.
//! A node's children are listed in one pass over its subtree (`children.c`): read by index, each
//! child starts again from the first (a node of n children costs n²/2 steps), and a cursor
//! stepping from child to child cost 1.7 times as much over the benchmark corpus's `nova` trees.

use foldhash::{HashMap, HashMapExt as _};
use std::sync::OnceLock;
use tree_sitter::{Language, Node};

/// `node.field("name")`: `child_by_field_name` with the field id cached.
pub trait FieldExt<'tree> {
    fn field(&self, name: &'static str) -> Option<Node<'tree>>;
    /// `node.kind()` from a table: the same text, without measuring a C string each time.
    fn kind_name(&self) -> &'tree str;
    /// Appends the node's named children to `out`, in order: what `named_children` gives, in
    /// one pass over the node's subtree.
    fn push_named_children(&self, out: &mut Vec<Node<'tree>>);
    /// The node's named children, in order.
    fn named_children_vec(&self) -> Vec<Node<'tree>> {
        let mut children = Vec::new();
        self.push_named_children(&mut children);
        children
    }
    /// Appends all the node's children, anonymous ones too, to `out`, in order: what
    /// `children` gives, in one pass over the node's subtree.
    fn push_children(&self, out: &mut Vec<Node<'tree>>);
    /// All the node's children, anonymous ones too, in order.
    fn children_vec(&self) -> Vec<Node<'tree>> {
        let mut children = Vec::new();
        self.push_children(&mut children);
        children
    }
}

/// Most children a node may have for them to be read by index when the one-pass listing cannot
/// list them. Each read by index starts again from the first child, so a wide node (a long
/// list literal, a module's statements) takes the cursor, and the walk stays linear in the tree.
const CHILDREN_BY_INDEX: usize = 8;

unsafe extern "C" {
    /// `children.c`: writes `node`'s children (named ones only if `named_only`), in order, into
    /// `out`, which has room for `capacity`; returns how many, or `u32::MAX` when it did not
    /// list them.
    fn knockon_ts_children(
        node: tree_sitter::ffi::TSNode,
        named_only: bool,
        out: *mut tree_sitter::ffi::TSNode,
        capacity: u32,
    ) -> u32;
}

// `push_in_one_pass` writes `TSNode`s where `Node`s are read.
const _: () = assert!(
    std::mem::size_of::<Node<'static>>() == std::mem::size_of::<tree_sitter::ffi::TSNode>()
        && std::mem::align_of::<Node<'static>>()
            == std::mem::align_of::<tree_sitter::ffi::TSNode>()
);

/// Appends `node`'s `count` children (named ones only if `named_only`) to `out` in one pass over
/// its subtree; false, with `out` as it was, when they were not listed there.
fn push_in_one_pass<'tree>(
    node: &Node<'tree>,
    named_only: bool,
    count: usize,
    out: &mut Vec<Node<'tree>>,
) -> bool {
    let Ok(capacity) = u32::try_from(count) else {
        return false;
    };
    if capacity == 0 {
        return true;
    }
    out.reserve(count);
    // Written straight into `out`: a `Node` is a `TSNode` (`#[repr(transparent)]`, checked above).
    let room = out
        .spare_capacity_mut()
        .as_mut_ptr()
        .cast::<tree_sitter::ffi::TSNode>();
    // SAFETY: `out` has room for `capacity` more nodes, and the helper writes at most that many,
    // each a child of `node` built as tree-sitter builds nodes (same tree, position, alias).
    let listed = unsafe { knockon_ts_children(node.into_raw(), named_only, room, capacity) };
    let Ok(listed) = usize::try_from(listed) else {
        return false;
    };
    if listed > count {
        return false;
    }
    // SAFETY: the helper initialised the `listed` nodes after `out`'s length, each a node of
    // `node`'s tree, which lives for `'tree`.
    unsafe { out.set_len(out.len() + listed) };
    true
}

/// The grammars knockon parses with, kept for the whole run so that their kind names can be
/// borrowed for as long as any tree lives.
fn languages() -> &'static [Language; 2] {
    static LANGUAGES: OnceLock<[Language; 2]> = OnceLock::new();
    LANGUAGES.get_or_init(|| {
        [
            tree_sitter_python::LANGUAGE.into(),
            tree_sitter_bash::LANGUAGE.into(),
        ]
    })
}

/// Each of [`languages`]' kind names by kind id (`Node::kind_id`, the public symbol, whose name
/// is the node's `kind()`); an id without a name is empty.
fn kind_tables() -> &'static [Vec<&'static str>] {
    static KINDS: OnceLock<Vec<Vec<&'static str>>> = OnceLock::new();
    KINDS.get_or_init(|| {
        languages()
            .iter()
            .map(|language| {
                (0..language.node_kind_count())
                    .map(|id| {
                        u16::try_from(id)
                            .ok()
                            .and_then(|id| language.node_kind_for_id(id))
                            .unwrap_or("")
                    })
                    .collect()
            })
            .collect()
    })
}

/// Which of [`languages`] parsed `node` (its index), by the language's address.
fn grammar_of(node: &Node<'_>) -> Option<usize> {
    let language = node.language();
    languages().iter().position(|known| *known == *language)
}

/// Each of [`languages`]' field ids by name, read once: a lookup is then one hash of a short
/// name, without the per-thread cache's borrow (7 % of the Python walk when it was one).
fn field_tables() -> &'static [HashMap<&'static str, u16>] {
    static FIELDS: OnceLock<Vec<HashMap<&'static str, u16>>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        languages()
            .iter()
            .map(|language| {
                let count = u16::try_from(language.field_count()).unwrap_or(u16::MAX);
                let mut ids = HashMap::with_capacity(usize::from(count));
                for id in 1..=count {
                    if let Some(name) = language.field_name_for_id(id) {
                        ids.insert(name, id);
                    }
                }
                ids
            })
            .collect()
    })
}

/// Slots of [`FIELD_IDS`]: more than the field names knockon's walks use.
const FIELD_SLOTS: usize = 128;

/// A field name's address and length, and its id in each of [`languages`] (0: none).
type FieldSlot = (usize, usize, [u16; 2]);

thread_local! {
    /// Field ids by where the `&'static str` naming the field lies: a field lookup is then a
    /// comparison of two words instead of hashing the name (about 100 of a lookup's 140
    /// instructions on knockon's side, 1.2 million lookups over `ansible`). Each slot is filled
    /// from [`field_tables`] on a miss; a name's text never changes, so a slot is never stale.
    static FIELD_IDS: [std::cell::Cell<FieldSlot>; FIELD_SLOTS] =
        const { [const { std::cell::Cell::new((0, 0, [0, 0])) }; FIELD_SLOTS] };
}

/// `name`'s field id in each of [`languages`], 0 where the grammar has no such field.
fn field_ids(name: &'static str) -> [u16; 2] {
    let (address, length) = (name.as_ptr() as usize, name.len());
    let slot = ((address >> 3) ^ length) % FIELD_SLOTS;
    FIELD_IDS.with(|slots| {
        let (known_address, known_length, ids) = slots[slot].get();
        if known_address == address && known_length == length {
            return ids;
        }
        let tables = field_tables();
        let ids = [0, 1].map(|index| {
            tables
                .get(index)
                .and_then(|ids| ids.get(name).copied())
                .unwrap_or(0)
        });
        slots[slot].set((address, length, ids));
        ids
    })
}

impl<'tree> FieldExt<'tree> for Node<'tree> {
    fn field(&self, name: &'static str) -> Option<Node<'tree>> {
        match grammar_of(self) {
            Some(index) => match field_ids(name).get(index).copied().unwrap_or(0) {
                0 => None,
                id => self.child_by_field_id(id),
            },
            // A grammar knockon does not know: by name, as tree-sitter looks it up.
            None => self.child_by_field_name(name),
        }
    }

    fn kind_name(&self) -> &'tree str {
        grammar_of(self)
            .and_then(|index| kind_tables().get(index))
            .and_then(|kinds| kinds.get(usize::from(self.kind_id())))
            .copied()
            .filter(|kind| !kind.is_empty())
            .unwrap_or_else(|| self.kind())
    }

    fn push_named_children(&self, out: &mut Vec<Node<'tree>>) {
        let count = self.named_child_count();
        if !push_in_one_pass(self, true, count, out) {
            push_named_through_api(self, count, out);
        }
    }

    fn push_children(&self, out: &mut Vec<Node<'tree>>) {
        let count = usize::try_from(self.child_count()).unwrap_or(usize::MAX);
        if !push_in_one_pass(self, false, count, out) {
            push_all_through_api(self, count, out);
        }
    }
}

/// Appends `node`'s `count` named children through tree-sitter's API: where the one-pass
/// listing cannot list them.
fn push_named_through_api<'tree>(node: &Node<'tree>, count: usize, out: &mut Vec<Node<'tree>>) {
    push_by_index_or_cursor(
        count,
        out,
        |index| node.named_child(index),
        |out| out.extend(node.named_children(&mut node.walk())),
    );
}

/// Appends all `node`'s `count` children through tree-sitter's API: where the one-pass listing
/// cannot list them.
fn push_all_through_api<'tree>(node: &Node<'tree>, count: usize, out: &mut Vec<Node<'tree>>) {
    push_by_index_or_cursor(
        count,
        out,
        |index| node.child(index),
        |out| out.extend(node.children(&mut node.walk())),
    );
}

/// Appends a node's `count` children read by index when they are few ([`CHILDREN_BY_INDEX`]),
/// else those its cursor gives, so that a wide node keeps the walk linear.
fn push_by_index_or_cursor<'tree>(
    count: usize,
    out: &mut Vec<Node<'tree>>,
    by_index: impl Fn(u32) -> Option<Node<'tree>>,
    by_cursor: impl FnOnce(&mut Vec<Node<'tree>>),
) {
    match u32::try_from(count) {
        Ok(few) if count <= CHILDREN_BY_INDEX => {
            out.reserve(count);
            out.extend((0..few).filter_map(by_index));
        }
        _ => by_cursor(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_the_table_are_the_kinds_of_every_node() {
        let sources: [(tree_sitter::Language, &str); 2] = [
            (
                tree_sitter_python::LANGUAGE.into(),
                "import os\n@app.route('/x')\nasync def f(a, *b, c=1, **d):\n    x: int = [i async for i in g() if i] or {**e}\n    return f'{x!r:>10}' + b'y' @ z\n  bad (\n",
            ),
            (
                tree_sitter_bash::LANGUAGE.into(),
                "f() { local x=${1:-/tmp}; [[ -d $x ]] && rm -rf \"$x\"/* 2>/dev/null; }\ncat <<EOF | tee /tmp/o\n$(date)\nEOF\ncase $a in x|y) echo;; esac; ((i++)) fi\n",
            ),
        ];
        for (language, source) in sources {
            let mut parser = tree_sitter::Parser::new();
            assert!(parser.set_language(&language).is_ok());
            let Some(tree) = parser.parse(source, None) else {
                panic!("the parser gives a tree");
            };
            let (mut stack, mut seen) = (vec![tree.root_node()], 0);
            while let Some(node) = stack.pop() {
                // Named, anonymous, missing and error nodes alike.
                assert_eq!(node.kind_name(), node.kind(), "{node:?}");
                seen += 1;
                let mut cursor = node.walk();
                stack.extend(node.children(&mut cursor));
            }
            assert!(seen > 40);
            assert!(tree.root_node().has_error());
        }
    }

    /// The tree of a valid Python source.
    fn python_tree(source: &str) -> tree_sitter::Tree {
        let mut parser = tree_sitter::Parser::new();
        let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
        assert!(parser.set_language(&language).is_ok());
        let Some(tree) = parser.parse(source, None) else {
            panic!("the parser gives a tree for valid Python");
        };
        tree
    }

    #[test]
    fn fields_by_cached_id_are_the_fields_by_name() {
        let tree = python_tree("x = f(a, b=1)\n");
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
                // Twice: the same answer every time.
                for _ in 0..2 {
                    assert_eq!(node.field(name), node.child_by_field_name(name));
                    compared += 1;
                }
            }
            assert_eq!(node.kind_name(), node.kind());
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
        assert!(compared > 20);
        let mut parser = tree_sitter::Parser::new();
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
            assert_eq!(node.kind_name(), node.kind());
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
    }

    #[test]
    fn every_field_name_of_both_grammars_finds_what_tree_sitter_finds() {
        // Every name either grammar has, from the grammars' own strings (other addresses than
        // the walks' literals): more names than slots share them, and each lookup, first or
        // repeated, must give tree-sitter's answer in either grammar.
        let names: Vec<&'static str> = languages()
            .iter()
            .flat_map(|language| {
                let count = u16::try_from(language.field_count()).unwrap_or(u16::MAX);
                (1..=count).filter_map(|id| language.field_name_for_id(id))
            })
            .collect();
        assert!(names.len() > 40, "{} field names", names.len());
        let samples = [
            (
                0,
                "def f(a, b=1) -> int:\n    return g(a)[b] if a else h.x\nfor i in y: pass\n",
            ),
            (
                1,
                "f() { local x=${1:-/tmp}; for a in b; do rm \"$a\" > /tmp/o; done; }\nx=1 y\n",
            ),
        ];
        let mut compared = 0;
        for (index, source) in samples {
            let mut parser = tree_sitter::Parser::new();
            assert!(parser.set_language(&languages()[index]).is_ok());
            let Some(tree) = parser.parse(source, None) else {
                panic!("the parser gives a tree");
            };
            let mut stack = vec![tree.root_node()];
            while let Some(node) = stack.pop() {
                for _ in 0..2 {
                    for name in &names {
                        assert_eq!(node.field(name), node.child_by_field_name(name), "{name}");
                        compared += 1;
                    }
                }
                stack.extend(node.children_vec());
            }
        }
        assert!(compared > 5_000, "{compared} lookups");
    }

    #[test]
    fn children_listed_either_way_are_the_cursors_children() {
        // Narrow and wide nodes (a list of twelve, a module of ten statements), aliased and
        // hidden nodes, comments between children, an error region.
        let python = "import os\n# note\nx = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\nf(a, # c\n  *b, k=1, **d)\nclass C(B, metaclass=M):\n    def g(self, p: int = 2, *, q) -> None:\n        return {k: v for k, v in p if k}\na = 1\nb = 2\nc = 3\nd = 4\ne = 5\nprint(x[1:2], -y, not z, lambda: 0)\n  def bad(:\n";
        let bash = "f() { local x=${1:-/tmp}; [[ -d $x ]] && rm -rf \"$x\"/* 2>/dev/null; }\necho 1 2 3 4 5 6 7 8 9 10 11 12 > /tmp/o # c\ncat <<EOF | tee /tmp/o\n$(date) ${a} $b\nEOF\ncase $a in x|y) echo;; esac\na=1\nb=2\nc=3\nd=4\ne=5\n";
        // The Python sample ends in an error region; the shell sample has none.
        let sources: [(tree_sitter::Language, &str, bool); 2] = [
            (tree_sitter_python::LANGUAGE.into(), python, true),
            (tree_sitter_bash::LANGUAGE.into(), bash, false),
        ];
        for (language, source, has_error) in sources {
            let mut parser = tree_sitter::Parser::new();
            assert!(parser.set_language(&language).is_ok());
            let Some(tree) = parser.parse(source, None) else {
                panic!("the parser gives a tree");
            };
            let (mut stack, mut narrow, mut wide) = (vec![tree.root_node()], 0, 0);
            while let Some(node) = stack.pop() {
                let mut cursor = node.walk();
                let by_cursor: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                let mut appended = vec![node];
                node.push_named_children(&mut appended);
                assert_eq!(described(&appended[1..]), described(&by_cursor), "{node:?}");
                assert_eq!(described(&node.named_children_vec()), described(&by_cursor));
                let every: Vec<Node<'_>> = node.children(&mut cursor).collect();
                let mut appended = vec![node];
                node.push_children(&mut appended);
                assert_eq!(described(&appended[1..]), described(&every), "{node:?}");
                assert_eq!(
                    described(&node.children_vec()),
                    described(&every),
                    "{node:?}"
                );
                // The way taken when the one pass cannot list them: by index, or by cursor for
                // a wide node.
                let mut appended = vec![node];
                push_named_through_api(&node, by_cursor.len(), &mut appended);
                assert_eq!(described(&appended[1..]), described(&by_cursor), "{node:?}");
                let mut appended = vec![node];
                push_all_through_api(&node, every.len(), &mut appended);
                assert_eq!(described(&appended[1..]), described(&every), "{node:?}");
                match by_cursor.len() {
                    0 => {}
                    n if n <= CHILDREN_BY_INDEX => narrow += 1,
                    _ => wide += 1,
                }
                stack.extend(node.children(&mut cursor));
            }
            assert!(narrow > 20 && wide >= 2, "{narrow} narrow, {wide} wide");
            assert_eq!(tree.root_node().has_error(), has_error);
        }
    }

    /// What tells two nodes apart for a walk: `Node`'s equality compares only the subtree, not
    /// the position or alias a parent gives it.
    type Described = (
        usize,
        u16,
        String,
        usize,
        usize,
        tree_sitter::Point,
        bool,
        bool,
    );

    fn described(nodes: &[Node<'_>]) -> Vec<Described> {
        nodes
            .iter()
            .map(|n| {
                let (start, end) = (n.start_byte(), n.end_byte());
                (
                    n.id(),
                    n.kind_id(),
                    n.kind().to_string(),
                    start,
                    end,
                    n.start_position(),
                    n.is_named(),
                    n.is_extra(),
                )
            })
            .collect()
    }

    #[test]
    fn children_in_one_pass_are_tree_sitters_children_on_every_file_of_the_test_data() {
        let scenarios = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scenarios");
        let Ok(entries) = std::fs::read_dir(scenarios) else {
            panic!("the scenarios are readable");
        };
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            let Ok(scenario) = crate::scenario::Scenario::parse(&text) else {
                continue;
            };
            for repo in scenario.repos {
                files.extend(repo.base.into_iter().chain(repo.head));
            }
        }
        let (mut parsed, mut compared) = (0, 0);
        for (path, source) in files {
            let extension = path.rsplit_once('.').map(|(_, extension)| extension);
            let language: tree_sitter::Language = match extension {
                Some("py") => tree_sitter_python::LANGUAGE.into(),
                Some("sh" | "bash") => tree_sitter_bash::LANGUAGE.into(),
                _ => continue,
            };
            let mut parser = tree_sitter::Parser::new();
            assert!(parser.set_language(&language).is_ok());
            let Some(tree) = parser.parse(&source, None) else {
                panic!("the parser gives a tree for {path}");
            };
            parsed += 1;
            let mut stack = vec![tree.root_node()];
            while let Some(node) = stack.pop() {
                // By index, as tree-sitter reads one child: the reference.
                let named: Vec<Node<'_>> = (0..node.named_child_count())
                    .filter_map(|i| node.named_child(i as u32))
                    .collect();
                let every: Vec<Node<'_>> = (0..node.child_count())
                    .filter_map(|i| node.child(i))
                    .collect();
                assert_eq!(
                    described(&node.named_children_vec()),
                    described(&named),
                    "{path}: {node:?}"
                );
                assert_eq!(
                    described(&node.children_vec()),
                    described(&every),
                    "{path}: {node:?}"
                );
                compared += 1;
                stack.extend(every);
            }
        }
        assert!(
            parsed > 50 && compared > 20_000,
            "{parsed} files, {compared} nodes"
        );
    }

    #[test]
    fn children_that_do_not_fit_are_not_listed_in_one_pass() {
        let tree = python_tree("f(a, b, c)\n");
        let Some(arguments) = tree.root_node().named_descendant_for_byte_range(1, 10) else {
            panic!("the call has arguments");
        };
        assert_eq!(arguments.kind(), "argument_list");
        let mut out = vec![tree.root_node()];
        // Room for two of the three: nothing is appended, and the caller reads them itself.
        assert!(!push_in_one_pass(&arguments, true, 2, &mut out));
        assert_eq!(out.len(), 1);
        assert!(push_in_one_pass(&arguments, true, 3, &mut out));
        assert_eq!(
            described(&out[1..]),
            described(&arguments.named_children_vec())
        );
        assert_eq!(out.len(), 4);
    }
}
