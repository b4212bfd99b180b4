//! Message fields: what a producer puts in a message and what a consumer reads from one.
//!
//! Producer side: the body argument of a publish is followed through serialisers (`codec =
//! "encode"` rows: `json.dumps`, `.encode()`, `asdict`, `.model_dump_json()`) to a dict
//! literal, a dict built up by key in the same function, `dict(k=v)`, or the keyword arguments
//! of a model class (`Order(id=..., region=...)`, with the class's other fields when the class
//! is defined in this file). A field is `nullable` when its value may be `None` (a literal
//! `None`, `x if c else None`, `.get(k)` without default, or a variable that is assigned such a
//! value or defaults to `None` in that function) and `optional` when it is added under a
//! condition that the dict's creation is not under.
//!
//! Consumer side: the function that handles each message (a callback named by the consume
//! call, else the functions that iterate or poll the consumer) is read with a small taint
//! analysis over its assignments: a *record* (what the client hands out: a Kafka record, an SQS
//! response, a Redis reply) yields *data* through its value accessors (`.value`, `["Body"]`,
//! `["data"]`) and parsers (`codec = "decode"`); data parsed into a model (`decode-model`)
//! yields attributes. Subscripts, `.get` and attributes on data are field uses: `msg["k"]` is
//! required, `.get("k")` optional; a use under a `None` check, a truth test or `or` is
//! `nullable` (the consumer copes with null). Each use keeps its own line.
//!
//! Everything here is bounded: regions are cut at [`MAX_REGION_NODES`] nodes and value chains
//! at a small depth.

use super::calls::Callee;
use super::parse::line_of;
use super::walk::{Ctx, Extractor, named};
use crate::extract::FieldExt as _;
use crate::extract::FieldUse;
use crate::rules::models::python::{CodecKind, QueueModel};
use std::cell::{Cell, OnceCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use tree_sitter::{Node, Tree};

/// Nodes of one function visited at most; the rest of a giant function is not analysed.
const MAX_REGION_NODES: usize = 20_000;
/// Nodes listed for message-field analysis in one file at most.
const MAX_FILE_ANALYSIS_NODES: usize = 1_000_000;
/// How far a value is followed through names and serialisers.
const MAX_VALUE_DEPTH: u32 = 6;
/// Passes of taint propagation over a function's assignments (chains longer than this in a
/// loop-carried order are not followed).
const PROPAGATION_PASSES: usize = 3;

/// Keys of a record whose value is the message itself (SQS `Body`, Redis pub/sub `data`).
const DATA_KEYS: &[&str] = &["Body", "body", "data", "Message", "value", "payload"];
/// Keys of a record that hold more records (`resp["Messages"]`).
const RECORD_LIST_KEYS: &[&str] = &["Messages", "Records", "messages", "records"];
/// Keys of a record that are metadata, neither message nor field.
const META_KEYS: &[&str] = &[
    "MessageId",
    "ReceiptHandle",
    "Attributes",
    "MessageAttributes",
    "MD5OfBody",
    "type",
    "pattern",
    "channel",
    "key",
    "topic",
    "partition",
    "offset",
    "headers",
    "timestamp",
    "ResponseMetadata",
    "MessageGroupId",
    "MessageDeduplicationId",
    "SequenceNumber",
];
/// Attributes of a record that are the message.
const DATA_ATTRS: &[&str] = &["value", "body", "data", "payload"];
/// Methods of a consumer or record that hand out records.
const POLL_METHODS: &[&str] = &[
    "poll",
    "consume",
    "get_message",
    "listen",
    "getone",
    "getmany",
    "receive",
    "receive_messages",
    "fetch",
    "iterator",
    "items",
    "values",
];

/// What a value is, in a consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Taint {
    /// Something the client hands out, which contains the message.
    Record,
    /// The message (bytes, text or a parsed dict).
    Data,
    /// A model object parsed from the message: its attributes are fields.
    Model,
}

/// Node kinds under which a statement runs only sometimes.
const CONDITIONAL: &[&str] = &[
    "if_statement",
    "elif_clause",
    "else_clause",
    "for_statement",
    "while_statement",
    "except_clause",
    "except_group_clause",
    "case_clause",
];

/// One function (or the module's own statements) as analysis reads it.
struct Region<'t> {
    /// The `function_definition`, or the module.
    def: Node<'t>,
    /// Every node of the body, in source order, without nested functions, classes, lambdas:
    /// listed on first use, within the file's [`Budget`].
    nodes: OnceCell<Vec<Node<'t>>>,
}

/// Nodes that message-field analysis may list in one file, so that a file with thousands of
/// queue calls in one giant function costs a bounded amount of work.
pub(super) struct Budget {
    left: Cell<usize>,
    /// Set when the budget ran out: the file gets one warning.
    pub exhausted: Cell<bool>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            left: Cell::new(MAX_FILE_ANALYSIS_NODES),
            exhausted: Cell::new(false),
        }
    }
}

impl<'t> Region<'t> {
    fn new(def: Node<'t>) -> Region<'t> {
        Region {
            def,
            nodes: OnceCell::new(),
        }
    }

    fn nodes(&self, budget: &Budget) -> &[Node<'t>] {
        self.nodes.get_or_init(|| {
            let body = match self.def.kind_name() {
                "function_definition" => self.def.field("body"),
                _ => Some(self.def),
            };
            let limit = MAX_REGION_NODES.min(budget.left.get());
            let mut nodes = Vec::new();
            let mut stack: Vec<Node<'t>> = body.into_iter().collect();
            while let Some(node) = stack.pop() {
                if nodes.len() >= limit {
                    if limit < MAX_REGION_NODES {
                        budget.exhausted.set(true);
                    }
                    break;
                }
                nodes.push(node);
                let mut children = named(node);
                children.retain(|c| {
                    !matches!(
                        c.kind_name(),
                        "function_definition"
                            | "class_definition"
                            | "decorated_definition"
                            | "lambda"
                    )
                });
                stack.extend(children.into_iter().rev());
            }
            budget
                .left
                .set(budget.left.get().saturating_sub(nodes.len()));
            nodes
        })
    }

    fn params(&self) -> Vec<Node<'t>> {
        match self.def.field("parameters") {
            Some(params) => named(params),
            None => Vec::new(),
        }
    }
}

/// The root of the tree that holds `node` (the file's tree, or the chunk re-parsed around a
/// syntax error).
fn root_in<'t>(trees: &'t [Tree], node: Node<'t>) -> Option<Node<'t>> {
    trees.iter().map(Tree::root_node).find(|root| {
        root.id() == node.id()
            || (contains(*root, node) && root.child_with_descendant(node).is_some())
    })
}

/// The innermost function definition around a node, found by descending from the root (a
/// walk up with `parent()` costs a descent per step), or the root itself.
fn enclosing_def<'t>(root: Node<'t>, node: Node<'t>) -> Node<'t> {
    let mut best = root;
    let mut current = root;
    while let Some(next) = current.child_with_descendant(node) {
        if next.id() == node.id() {
            break;
        }
        if next.kind_name() == "function_definition" {
            best = next;
        }
        current = next;
    }
    best
}

/// Whether `outer` contains `inner` (by byte range).
fn contains(outer: Node<'_>, inner: Node<'_>) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

/// The function definitions of a tree named `name` (methods included), outermost first.
fn functions_named<'t>(root: Node<'t>, name: &[u8], src: &[u8]) -> Vec<Node<'t>> {
    let mut found = Vec::new();
    let mut stack = vec![root];
    let mut visited = 0usize;
    while let Some(node) = stack.pop() {
        visited += 1;
        if visited > MAX_REGION_NODES * 4 {
            break;
        }
        if node.kind_name() == "function_definition"
            && node
                .field("name")
                .and_then(|n| src.get(n.start_byte()..n.end_byte()))
                == Some(name)
        {
            found.push(node);
        }
        if matches!(
            node.kind_name(),
            "module"
                | "block"
                | "class_definition"
                | "decorated_definition"
                | "function_definition"
        ) || node.kind_name().ends_with("_statement")
            || node.kind_name().ends_with("_clause")
        {
            stack.extend(named(node).into_iter().rev());
        }
    }
    found
}

/// A parameter node's name and default.
fn param_parts(param: Node<'_>) -> (Option<Node<'_>>, Option<Node<'_>>) {
    match param.kind_name() {
        "identifier" => (Some(param), None),
        "default_parameter" | "typed_default_parameter" => {
            (param.field("name"), param.field("value"))
        }
        "typed_parameter" => (
            param
                .named_child(0)
                .filter(|n| n.kind_name() == "identifier"),
            None,
        ),
        _ => (None, None),
    }
}

/// Whether a function is a method (defined directly in a class body).
fn is_method(def: Node<'_>) -> bool {
    let mut parent = def.parent();
    if parent.is_some_and(|p| p.kind_name() == "decorated_definition") {
        parent = parent.and_then(|p| p.parent());
    }
    parent
        .and_then(|block| block.parent())
        .is_some_and(|p| p.kind_name() == "class_definition")
}

impl<'a> Extractor<'a> {
    // ---- producers ---------------------------------------------------------------------------

    /// The fields of a published body, where visible.
    pub(super) fn payload_fields(&mut self, body: Node<'_>, ctx: &Ctx) -> Vec<FieldUse> {
        let trees = Rc::clone(&self.trees);
        let Some(root) = root_in(&trees, body) else {
            return Vec::new();
        };
        let region = Region::new(enclosing_def(root, body));
        let mut fields = self.value_fields(body, &region, ctx, 0).unwrap_or_default();
        dedup(&mut fields);
        fields
    }

    /// The fields of a value that is (or serialises) a message.
    fn value_fields(
        &mut self,
        node: Node<'_>,
        region: &Region<'_>,
        ctx: &Ctx,
        depth: u32,
    ) -> Option<Vec<FieldUse>> {
        if depth > MAX_VALUE_DEPTH {
            return None;
        }
        match node.kind_name() {
            "parenthesized_expression" | "await" => {
                let inner = named(node).into_iter().next()?;
                self.value_fields(inner, region, ctx, depth + 1)
            }
            "dictionary" => Some(self.dict_fields(node, region, ctx, depth)),
            "identifier" => self.var_fields(node, region, ctx, depth),
            "call" => self.call_fields(node, region, ctx, depth),
            _ => None,
        }
    }

    fn call_fields(
        &mut self,
        call: Node<'_>,
        region: &Region<'_>,
        ctx: &Ctx,
        depth: u32,
    ) -> Option<Vec<FieldUse>> {
        if let Some((CodecKind::Encode, operand)) = self.codec_of(call, ctx) {
            return self.value_fields(operand?, region, ctx, depth + 1);
        }
        let Callee::Function { name, .. } = self.callee(call, ctx) else {
            return None;
        };
        if name == "dict" {
            let args = self.args(call);
            let mut fields = Vec::new();
            for (key, value) in &args.keywords {
                fields.push(FieldUse {
                    name: key.clone(),
                    line: line_of(*value),
                    nullable: self.value_nullable(*value, region, 0),
                    optional: false,
                });
            }
            return Some(fields);
        }
        let class = name.rsplit('.').next().unwrap_or("");
        if class.chars().next().is_some_and(char::is_uppercase) {
            return Some(self.model_fields(call, class, region));
        }
        None
    }

    /// The serialiser or parser a call is, and its operand.
    fn codec_of<'t>(&mut self, call: Node<'t>, ctx: &Ctx) -> Option<(CodecKind, Option<Node<'t>>)> {
        let matched = self.match_call(call, ctx)?;
        let codec = matched.model.codec.as_ref()?;
        let operand = self.spec_node(&matched, &codec.operand, ctx);
        Some((codec.kind, operand))
    }

    /// The keys of a dict literal (and of the dicts it splats in).
    fn dict_fields(
        &mut self,
        dict: Node<'_>,
        region: &Region<'_>,
        ctx: &Ctx,
        depth: u32,
    ) -> Vec<FieldUse> {
        let mut fields = Vec::new();
        for item in named(dict) {
            match item.kind_name() {
                "pair" => {
                    let (Some(key), Some(value)) = (item.field("key"), item.field("value")) else {
                        continue;
                    };
                    let Some(name) = self.literal_string(key, ctx) else {
                        continue;
                    };
                    fields.push(FieldUse {
                        name,
                        line: line_of(item),
                        nullable: self.value_nullable(value, region, 0),
                        optional: false,
                    });
                }
                "dictionary_splat" => {
                    if let Some(inner) = item.named_child(0)
                        && let Some(more) = self.value_fields(inner, region, ctx, depth + 1)
                    {
                        fields.extend(more);
                    }
                }
                _ => {}
            }
        }
        fields
    }

    /// A dict (or model) variable: its last creation before the use, and the keys added to
    /// it afterwards (`msg["k"] = v`, `msg.update(...)`), optional when added conditionally.
    fn var_fields(
        &mut self,
        name_node: Node<'_>,
        region: &Region<'_>,
        ctx: &Ctx,
        depth: u32,
    ) -> Option<Vec<FieldUse>> {
        let name = self.text(name_node).as_bytes();
        let use_at = name_node.start_byte();
        let creation = region.nodes(&self.budget).iter().rev().copied().find(|n| {
            n.kind_name() == "assignment"
                && n.start_byte() < use_at
                && !contains(*n, name_node)
                && n.field("left").is_some_and(|l| {
                    l.kind_name() == "identifier" && self.text(l).as_bytes() == name
                })
        })?;
        let value = creation.field("right")?;
        let mut fields = self.value_fields(value, region, ctx, depth + 1)?;
        for node in region.nodes(&self.budget).iter().copied() {
            if node.start_byte() <= creation.end_byte() || node.start_byte() >= use_at {
                continue;
            }
            let added = match node.kind_name() {
                "assignment" => self.keyed_addition(node, name, region, ctx),
                "call" => self.update_addition(node, name, region, ctx, depth),
                _ => Vec::new(),
            };
            for mut field in added {
                field.optional |= conditional(node, creation, region.def);
                fields.retain(|f| f.name != field.name);
                fields.push(field);
            }
        }
        Some(fields)
    }

    /// `name["k"] = v`.
    fn keyed_addition(
        &mut self,
        assignment: Node<'_>,
        name: &[u8],
        region: &Region<'_>,
        ctx: &Ctx,
    ) -> Vec<FieldUse> {
        let (Some(left), Some(right)) = (assignment.field("left"), assignment.field("right"))
        else {
            return Vec::new();
        };
        if left.kind_name() != "subscript" {
            return Vec::new();
        }
        let (Some(object), Some(key)) = (left.field("value"), left.field("subscript")) else {
            return Vec::new();
        };
        if object.kind_name() != "identifier" || self.text(object).as_bytes() != name {
            return Vec::new();
        }
        let Some(key) = self.literal_string(key, ctx) else {
            return Vec::new();
        };
        vec![FieldUse {
            name: key,
            line: line_of(assignment),
            nullable: self.value_nullable(right, region, 0),
            optional: false,
        }]
    }

    /// `name.update({...})`, `name.update(k=v)`, `name.setdefault("k", v)`.
    fn update_addition(
        &mut self,
        call: Node<'_>,
        name: &[u8],
        region: &Region<'_>,
        ctx: &Ctx,
        depth: u32,
    ) -> Vec<FieldUse> {
        let Some(function) = call.field("function") else {
            return Vec::new();
        };
        if function.kind_name() != "attribute" {
            return Vec::new();
        }
        let (Some(object), Some(method)) = (function.field("object"), function.field("attribute"))
        else {
            return Vec::new();
        };
        if object.kind_name() != "identifier" || self.text(object).as_bytes() != name {
            return Vec::new();
        }
        let args = self.args(call);
        let line = line_of(call);
        match self.text(method) {
            "update" => {
                let mut fields = Vec::new();
                if let Some(first) = args.positional.first().copied()
                    && let Some(more) = self.value_fields(first, region, ctx, depth + 1)
                {
                    fields.extend(more);
                }
                for (key, value) in &args.keywords {
                    fields.push(FieldUse {
                        name: key.clone(),
                        line,
                        nullable: self.value_nullable(*value, region, 0),
                        optional: false,
                    });
                }
                fields
            }
            "setdefault" => {
                let Some(key) = args
                    .positional
                    .first()
                    .and_then(|k| self.literal_string(*k, ctx))
                else {
                    return Vec::new();
                };
                let nullable = match args.positional.get(1) {
                    Some(v) => self.value_nullable(*v, region, 0),
                    None => true,
                };
                vec![FieldUse {
                    name: key,
                    line,
                    nullable,
                    optional: false,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// The keyword arguments of a model construction, and for a class of this file, its
    /// positional arguments by field order and the fields left to their defaults.
    fn model_fields(&mut self, call: Node<'_>, class: &str, region: &Region<'_>) -> Vec<FieldUse> {
        let args = self.args(call);
        let line = line_of(call);
        let trees = Rc::clone(&self.trees);
        let declared = match root_in(&trees, call) {
            Some(root) => self.class_fields(root, class),
            None => Vec::new(),
        };
        let mut fields = Vec::new();
        for (i, value) in args.positional.iter().enumerate() {
            if let Some((name, _)) = declared.get(i) {
                fields.push(FieldUse {
                    name: name.clone(),
                    line,
                    nullable: self.value_nullable(*value, region, 0),
                    optional: false,
                });
            }
        }
        for (key, value) in &args.keywords {
            fields.push(FieldUse {
                name: key.clone(),
                line,
                nullable: self.value_nullable(*value, region, 0),
                optional: false,
            });
        }
        if !args.splat {
            for (name, default_is_none) in declared {
                if fields.iter().any(|f| f.name == name) {
                    continue;
                }
                if let Some(nullable) = default_is_none {
                    fields.push(FieldUse {
                        name,
                        line,
                        nullable,
                        optional: false,
                    });
                }
            }
        }
        fields
    }

    /// The annotated fields of a class defined in this file, in order, each with whether it
    /// has a default and whether that default is `None` (`Some(true)`), another value
    /// (`Some(false)`), or no default (`None`).
    fn class_fields(&self, root: Node<'_>, class: &str) -> Vec<(String, Option<bool>)> {
        let mut stack = vec![root];
        let mut visited = 0usize;
        let mut found = None;
        while let Some(node) = stack.pop() {
            visited += 1;
            if visited > MAX_REGION_NODES {
                break;
            }
            if node.kind_name() == "class_definition"
                && node.field("name").is_some_and(|n| self.text(n) == class)
            {
                found = Some(node);
                break;
            }
            if matches!(
                node.kind_name(),
                "module" | "decorated_definition" | "block"
            ) || node.kind_name().ends_with("_statement")
            {
                stack.extend(named(node).into_iter().rev());
            }
        }
        let Some(body) = found.and_then(|c| c.field("body")) else {
            return Vec::new();
        };
        let mut fields = Vec::new();
        for statement in named(body) {
            let Some(assignment) = statement
                .named_child(0)
                .filter(|a| a.kind_name() == "assignment")
            else {
                continue;
            };
            let (Some(left), Some(annotation)) =
                (assignment.field("left"), assignment.field("type"))
            else {
                continue;
            };
            let name = self.text(left);
            if left.kind_name() != "identifier"
                || name.starts_with('_')
                || name == "model_config"
                || self.text(annotation).contains("ClassVar")
            {
                continue;
            }
            let default = assignment.field("right").map(|r| r.kind_name() == "none");
            fields.push((name.to_string(), default));
        }
        fields
    }

    /// Whether a value may be `None` where it is used.
    fn value_nullable(&self, node: Node<'_>, region: &Region<'_>, depth: u32) -> bool {
        if depth > 3 {
            return false;
        }
        match node.kind_name() {
            "none" => true,
            "parenthesized_expression" => named(node)
                .first()
                .is_some_and(|n| self.value_nullable(*n, region, depth + 1)),
            "conditional_expression" => {
                let parts = named(node);
                [parts.first(), parts.get(2)]
                    .into_iter()
                    .flatten()
                    .any(|n| self.value_nullable(*n, region, depth + 1))
            }
            "boolean_operator" => {
                let right = node.field("right");
                let left = node.field("left");
                let op = node.field("operator").map(|o| self.text(o)).unwrap_or("");
                let right_null = right.is_some_and(|r| self.value_nullable(r, region, depth + 1));
                match op {
                    "and" => {
                        right_null
                            || left.is_some_and(|l| self.value_nullable(l, region, depth + 1))
                    }
                    _ => right_null,
                }
            }
            "call" => self.call_may_return_none(node),
            "identifier" => self.name_nullable(self.text(node), node, region, depth),
            _ => false,
        }
    }

    /// `.get(k)` without a default, `getattr(o, a, None)`, `next(it, None)`, `os.getenv(k)`.
    fn call_may_return_none(&self, call: Node<'_>) -> bool {
        let Some(function) = call.field("function") else {
            return false;
        };
        let args = self.args(call);
        let last = function
            .field("attribute")
            .map_or_else(|| self.text(function), |a| self.text(a));
        match last {
            "get" | "getenv" => args.positional.len() == 1 && args.keywords.is_empty(),
            "getattr" | "next" => args
                .positional
                .last()
                .is_some_and(|n| n.kind_name() == "none"),
            _ => false,
        }
    }

    /// A name that is a parameter defaulting to `None` or annotated `Optional`, or that is
    /// assigned a value that may be `None` somewhere in the function.
    fn name_nullable(&self, name: &str, at: Node<'_>, region: &Region<'_>, depth: u32) -> bool {
        for param in region.params() {
            let (Some(id), default) = param_parts(param) else {
                continue;
            };
            if self.text(id) != name {
                continue;
            }
            let annotated = param
                .field("type")
                .map(|t| self.text(t))
                .is_some_and(|t| t.contains("Optional") || t.contains("None"));
            return annotated || default.is_some_and(|d| d.kind_name() == "none");
        }
        region.nodes(&self.budget).iter().any(|n| {
            n.kind_name() == "assignment"
                && !contains(*n, at)
                && n.field("left")
                    .is_some_and(|l| l.kind_name() == "identifier" && self.text(l) == name)
                && n.field("right")
                    .is_some_and(|r| self.value_nullable(r, region, depth + 1))
        })
    }

    // ---- Celery ------------------------------------------------------------------------------

    /// The parameters of the task being decorated are the fields its messages carry:
    /// a parameter with a default is optional; one the body checks for `None` is nullable.
    pub(super) fn task_param_fields(&mut self, call: Node<'_>, bound: bool) -> Vec<FieldUse> {
        let Some(decorated) = self.decorating.clone() else {
            return Vec::new();
        };
        let trees = Rc::clone(&self.trees);
        let def = root_in(&trees, call)
            .and_then(|root| root.descendant_for_byte_range(decorated.start, decorated.end))
            .filter(|d| d.kind_name() == "function_definition");
        let region = def.map(Region::new);
        let skip = usize::from(bound || is_method_params(&decorated.params));
        let mut fields = Vec::new();
        for param in decorated.params.iter().skip(skip) {
            if param.splat {
                continue;
            }
            let nullable = region
                .as_ref()
                .is_some_and(|r| self.name_checked(&param.name, r));
            fields.push(FieldUse {
                name: param.name.clone(),
                line: param.line,
                nullable,
                optional: param.has_default,
            });
        }
        fields
    }

    /// The arguments a task is called with are its fields: keywords by name, positional ones
    /// by the parameters of a task of this file; `send_task`/`apply_async` pass `kwargs` (a
    /// dict) and `args` (a list).
    pub(super) fn task_call_fields(
        &mut self,
        call: Node<'_>,
        kwargs: Option<Node<'_>>,
        positional_list: Option<Node<'_>>,
        own_args: bool,
        params: &[super::walk::Param],
        ctx: &Ctx,
    ) -> Vec<FieldUse> {
        let trees = Rc::clone(&self.trees);
        let Some(root) = root_in(&trees, call) else {
            return Vec::new();
        };
        let region = Region::new(enclosing_def(root, call));
        let line = line_of(call);
        let names: Vec<&str> = params
            .iter()
            .filter(|p| !p.splat)
            .map(|p| p.name.as_str())
            .collect();
        let mut fields = Vec::new();
        let mut positional: Vec<Node<'_>> = Vec::new();
        if own_args {
            let args = self.args(call);
            positional.extend(args.positional.iter().copied());
            for (key, value) in &args.keywords {
                fields.push(FieldUse {
                    name: key.clone(),
                    line,
                    nullable: self.value_nullable(*value, &region, 0),
                    optional: false,
                });
            }
        }
        if let Some(list) = positional_list.filter(|l| matches!(l.kind_name(), "list" | "tuple")) {
            positional.extend(named(list));
        }
        for (i, value) in positional.into_iter().enumerate() {
            if let Some(name) = names.get(i) {
                fields.push(FieldUse {
                    name: (*name).to_string(),
                    line,
                    nullable: self.value_nullable(value, &region, 0),
                    optional: false,
                });
            }
        }
        if let Some(kwargs) = kwargs
            && let Some(more) = self.value_fields(kwargs, &region, ctx, 0)
        {
            fields.extend(more);
        }
        dedup(&mut fields);
        fields
    }

    // ---- consumers ---------------------------------------------------------------------------

    /// The fields a consumer reads: from its callback, or from the code that iterates or
    /// polls what the consume call returns (or the consumer it subscribes).
    pub(super) fn consumer_fields(
        &mut self,
        call: Node<'_>,
        callback: Option<Node<'_>>,
        receiver: Option<Node<'_>>,
        q: &QueueModel,
        ctx: &Ctx,
    ) -> Vec<FieldUse> {
        let trees = Rc::clone(&self.trees);
        let Some(root) = root_in(&trees, call) else {
            return Vec::new();
        };
        if let Some(callback) = callback {
            return self.callback_fields(root, callback, q.payload_param, ctx);
        }
        let mut sources: BTreeSet<String> = self.assigned_names(call).into_iter().collect();
        if let Some(receiver) = receiver
            && let Some(dotted) = self.dotted(receiver)
        {
            sources.insert(dotted);
        }
        let own = enclosing_def(root, call);
        let mut regions = vec![Region::new(own)];
        let shared = sources.iter().any(|s| s.starts_with("self."))
            || own.kind_name() != "function_definition";
        if shared {
            let mut stack = vec![root];
            let mut visited = 0usize;
            while let Some(node) = stack.pop() {
                visited += 1;
                if visited > MAX_REGION_NODES {
                    break;
                }
                if node.kind_name() == "function_definition" && node.id() != own.id() {
                    regions.push(Region::new(node));
                }
                stack.extend(named(node).into_iter().filter(|n| {
                    matches!(
                        n.kind_name(),
                        "block"
                            | "function_definition"
                            | "class_definition"
                            | "decorated_definition"
                    ) || n.kind_name().ends_with("_statement")
                        || n.kind_name().ends_with("_clause")
                }));
            }
        }
        let mut fields = Vec::new();
        for region in &regions {
            let mut taints = BTreeMap::new();
            for source in &sources {
                taints.insert(source.clone(), Taint::Record);
            }
            fields.extend(self.region_fields(region, taints, ctx));
        }
        dedup(&mut fields);
        fields
    }

    /// The names a call's result is assigned to (`resp = sqs.receive_message(...)`,
    /// `_, raw = r.brpop(k)`, `with X(...) as c`).
    fn assigned_names(&self, call: Node<'_>) -> Vec<String> {
        let mut current = call;
        let Some(mut parent) = call.parent() else {
            return Vec::new();
        };
        while matches!(parent.kind_name(), "await" | "parenthesized_expression") {
            current = parent;
            match parent.parent() {
                Some(p) => parent = p,
                None => return Vec::new(),
            }
        }
        let target = match parent.kind_name() {
            "assignment" => parent
                .field("right")
                .filter(|r| r.id() == current.id())
                .and_then(|_| parent.field("left")),
            "as_pattern" => parent.field("alias").and_then(|a| a.named_child(0)),
            _ => None,
        };
        let Some(target) = target else {
            return Vec::new();
        };
        match target.kind_name() {
            "pattern_list" | "tuple_pattern" | "list_pattern" => named(target)
                .into_iter()
                .filter_map(|t| self.dotted(t))
                .collect(),
            _ => self.dotted(target).into_iter().collect(),
        }
    }

    /// The fields a callback reads from its message parameter.
    fn callback_fields(
        &mut self,
        root: Node<'_>,
        callback: Node<'_>,
        payload_param: u32,
        ctx: &Ctx,
    ) -> Vec<FieldUse> {
        // `callbacks=[on_message]`: the first.
        let callback = match callback.kind_name() {
            "list" | "tuple" => match named(callback).into_iter().next() {
                Some(first) => first,
                None => return Vec::new(),
            },
            _ => callback,
        };
        let name = match callback.kind_name() {
            "identifier" => self.text(callback),
            "attribute" => callback.field("attribute").map_or("", |a| self.text(a)),
            _ => return Vec::new(),
        };
        if name.is_empty() {
            return Vec::new();
        }
        let Some(def) = functions_named(root, name.as_bytes(), self.src.as_bytes())
            .into_iter()
            .next()
        else {
            return Vec::new();
        };
        let region = Region::new(def);
        let mut params: Vec<Node<'_>> = region.params();
        if is_method(def) && !params.is_empty() {
            params.remove(0);
        }
        let index = usize::try_from(payload_param).unwrap_or(usize::MAX);
        let Some(param) = params.get(index).or(params.last()).copied() else {
            return Vec::new();
        };
        let Some(id) = param_parts(param).0 else {
            return Vec::new();
        };
        let mut taints = BTreeMap::new();
        taints.insert(self.text(id).to_string(), Taint::Data);
        let mut fields = self.region_fields(&region, taints, ctx);
        dedup(&mut fields);
        fields
    }

    /// Propagates taints through a region's assignments and loops, then collects its field
    /// uses.
    fn region_fields(
        &mut self,
        region: &Region<'_>,
        mut taints: BTreeMap<String, Taint>,
        ctx: &Ctx,
    ) -> Vec<FieldUse> {
        for _ in 0..PROPAGATION_PASSES {
            let before = taints.len();
            for node in region.nodes(&self.budget) {
                match node.kind_name() {
                    "assignment" => {
                        let (Some(left), Some(right)) = (node.field("left"), node.field("right"))
                        else {
                            continue;
                        };
                        if let Some(t) = self.taint(right, &taints, ctx, 0) {
                            self.taint_target(left, t, &mut taints);
                        }
                    }
                    "for_statement" | "for_in_clause" => {
                        let (Some(left), Some(right)) = (node.field("left"), node.field("right"))
                        else {
                            continue;
                        };
                        if self.taint(right, &taints, ctx, 0) == Some(Taint::Record) {
                            self.taint_target(left, Taint::Record, &mut taints);
                        }
                    }
                    _ => {}
                }
            }
            if taints.len() == before {
                break;
            }
        }
        self.field_uses(region, &taints, ctx)
    }

    /// Marks an assignment or loop target: a name gets the taint; the parts of a tuple
    /// unpacked from a record are records.
    fn taint_target(&self, target: Node<'_>, taint: Taint, taints: &mut BTreeMap<String, Taint>) {
        match target.kind_name() {
            "identifier" | "attribute" => {
                if let Some(dotted) = self.dotted(target) {
                    taints.entry(dotted).or_insert(taint);
                }
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" => {
                for part in named(target) {
                    if part.kind_name() == "identifier" {
                        taints
                            .entry(self.text(part).to_string())
                            .or_insert(Taint::Record);
                    }
                }
            }
            _ => {}
        }
    }

    /// What an expression is in a consumer, if it comes from a message.
    fn taint(
        &mut self,
        node: Node<'_>,
        taints: &BTreeMap<String, Taint>,
        ctx: &Ctx,
        depth: u32,
    ) -> Option<Taint> {
        if depth > MAX_VALUE_DEPTH {
            return None;
        }
        match node.kind_name() {
            "parenthesized_expression" | "await" => {
                let inner = named(node).into_iter().next()?;
                self.taint(inner, taints, ctx, depth + 1)
            }
            "identifier" => taints.get(self.text(node)).copied(),
            "attribute" => {
                if let Some(dotted) = self.dotted(node)
                    && let Some(t) = taints.get(&dotted)
                {
                    return Some(*t);
                }
                let object = node.field("object")?;
                let attr = self.text(node.field("attribute")?);
                match self.taint(object, taints, ctx, depth + 1)? {
                    Taint::Record if DATA_ATTRS.contains(&attr) => Some(Taint::Data),
                    _ => None,
                }
            }
            "subscript" => {
                let object = node.field("value")?;
                if self.taint(object, taints, ctx, depth + 1)? != Taint::Record {
                    return None;
                }
                let key = node.field("subscript")?;
                match self.literal_string(key, ctx) {
                    Some(k) if DATA_KEYS.contains(&k.as_str()) => Some(Taint::Data),
                    Some(k) if RECORD_LIST_KEYS.contains(&k.as_str()) => Some(Taint::Record),
                    Some(_) => None,
                    None => Some(Taint::Record),
                }
            }
            "call" => self.call_taint(node, taints, ctx, depth),
            _ => None,
        }
    }

    fn call_taint(
        &mut self,
        call: Node<'_>,
        taints: &BTreeMap<String, Taint>,
        ctx: &Ctx,
        depth: u32,
    ) -> Option<Taint> {
        let function = call.field("function")?;
        if function.kind_name() == "attribute"
            && let (Some(object), Some(attr)) =
                (function.field("object"), function.field("attribute"))
            && self.taint(object, taints, ctx, depth + 1) == Some(Taint::Record)
        {
            let method = self.text(attr);
            let args = self.args(call);
            if POLL_METHODS.contains(&method) {
                return Some(Taint::Record);
            }
            if DATA_ATTRS.contains(&method) && args.count() == 0 {
                return Some(Taint::Data);
            }
            if method == "get" {
                let key = args.positional.first().copied()?;
                let key = self.literal_string(key, ctx)?;
                if DATA_KEYS.contains(&key.as_str()) {
                    return Some(Taint::Data);
                }
                if RECORD_LIST_KEYS.contains(&key.as_str()) {
                    return Some(Taint::Record);
                }
                return None;
            }
        }
        if let Some((kind, operand)) = self.codec_of(call, ctx) {
            let operand = operand?;
            let from = self.taint(operand, taints, ctx, depth + 1)?;
            return match (kind, from) {
                (_, Taint::Model) => None,
                (CodecKind::Decode, _) => Some(Taint::Data),
                (CodecKind::DecodeModel, _) => Some(Taint::Model),
                (CodecKind::Encode, _) => None,
            };
        }
        // `Order(**data)`: a model built from the message.
        let args = self.args(call);
        let list = call.field("arguments")?;
        for arg in named(list) {
            if arg.kind_name() == "dictionary_splat"
                && let Some(inner) = arg.named_child(0)
                && self.taint(inner, taints, ctx, depth + 1) == Some(Taint::Data)
            {
                return Some(Taint::Model);
            }
        }
        let _ = args;
        None
    }

    /// The field uses of a region, given what its names are.
    fn field_uses(
        &mut self,
        region: &Region<'_>,
        taints: &BTreeMap<String, Taint>,
        ctx: &Ctx,
    ) -> Vec<FieldUse> {
        let mut uses: Vec<(String, Node<'_>, bool)> = Vec::new();
        let mut present: BTreeSet<String> = BTreeSet::new();
        for node in region.nodes(&self.budget).iter().copied() {
            match node.kind_name() {
                "subscript" if !is_store_target(node) => {
                    let (Some(object), Some(key)) = (node.field("value"), node.field("subscript"))
                    else {
                        continue;
                    };
                    let Some(key) = self.literal_string(key, ctx) else {
                        continue;
                    };
                    if self.holds_fields(object, &key, taints, ctx) {
                        uses.push((key, node, false));
                    }
                }
                "call" => {
                    let Some(function) = node.field("function") else {
                        continue;
                    };
                    let (Some(object), Some(attr)) =
                        (function.field("object"), function.field("attribute"))
                    else {
                        continue;
                    };
                    if self.text(attr) != "get" {
                        continue;
                    }
                    let args = self.args(node);
                    let Some(key) = args.positional.first().copied() else {
                        continue;
                    };
                    let Some(key) = self.literal_string(key, ctx) else {
                        continue;
                    };
                    if self.holds_fields(object, &key, taints, ctx) {
                        uses.push((key, node, true));
                    }
                }
                "attribute" => {
                    let is_method = node
                        .parent()
                        .filter(|p| p.kind_name() == "call")
                        .and_then(|p| p.field("function"))
                        .is_some_and(|f| f.id() == node.id());
                    if is_method || is_store_target(node) {
                        continue;
                    }
                    let (Some(object), Some(attr)) =
                        (node.field("object"), node.field("attribute"))
                    else {
                        continue;
                    };
                    if self.taint(object, taints, ctx, 0) == Some(Taint::Model) {
                        uses.push((self.text(attr).to_string(), node, false));
                    }
                }
                "comparison_operator" => {
                    if let Some(key) = self.presence_check(node, taints, ctx) {
                        present.insert(key);
                    }
                }
                _ => {}
            }
        }
        uses.into_iter()
            .map(|(name, node, via_get)| FieldUse {
                line: line_of(node),
                nullable: self.use_checked(node, region),
                optional: via_get || present.contains(&name),
                name,
            })
            .collect()
    }

    /// Whether subscripting `object` with `key` reads a message field: the object is the
    /// message, or a record whose key is not one of the client's own.
    fn holds_fields(
        &mut self,
        object: Node<'_>,
        key: &str,
        taints: &BTreeMap<String, Taint>,
        ctx: &Ctx,
    ) -> bool {
        match self.taint(object, taints, ctx, 0) {
            Some(Taint::Data) => true,
            Some(Taint::Record) => {
                !DATA_KEYS.contains(&key)
                    && !RECORD_LIST_KEYS.contains(&key)
                    && !META_KEYS.contains(&key)
            }
            _ => false,
        }
    }

    /// `"k" in msg`: the key whose presence is tested.
    fn presence_check(
        &mut self,
        node: Node<'_>,
        taints: &BTreeMap<String, Taint>,
        ctx: &Ctx,
    ) -> Option<String> {
        let parts = named(node);
        let (left, right) = (parts.first().copied()?, parts.get(1).copied()?);
        let text = self.text(node);
        let between = text
            .get(left.end_byte() - node.start_byte()..right.start_byte() - node.start_byte())
            .unwrap_or("");
        if between.split_whitespace().last() != Some("in") {
            return None;
        }
        let key = self.literal_string(left, ctx)?;
        self.holds_fields(right, &key, taints, ctx).then_some(key)
    }

    /// Whether the code copes with the use being `None`: it is tested (`is None`, truth,
    /// `not`), defaulted with `or`, or assigned to a name that is.
    fn use_checked(&self, node: Node<'_>, region: &Region<'_>) -> bool {
        if self.tested(node) {
            return true;
        }
        let Some(parent) = node.parent() else {
            return false;
        };
        if parent.kind_name() == "assignment"
            && parent.field("right").is_some_and(|r| r.id() == node.id())
            && let Some(left) = parent.field("left")
            && left.kind_name() == "identifier"
        {
            return self.name_checked(self.text(left), region);
        }
        false
    }

    /// Whether some use of a name in the region is tested for `None` or truth.
    fn name_checked(&self, name: &str, region: &Region<'_>) -> bool {
        region
            .nodes(&self.budget)
            .iter()
            .any(|n| n.kind_name() == "identifier" && self.text(*n) == name && self.tested(*n))
    }

    /// Whether a value is tested where it stands: the condition of an `if`/`while`/ternary,
    /// an operand of `not`, `or`, `and`, or compared with `None`.
    fn tested(&self, node: Node<'_>) -> bool {
        let mut current = node;
        let mut parent = match node.parent() {
            Some(p) => p,
            None => return false,
        };
        while parent.kind_name() == "parenthesized_expression" {
            current = parent;
            parent = match parent.parent() {
                Some(p) => p,
                None => return false,
            };
        }
        let is_field = |field: &str| {
            parent
                .child_by_field_name(field)
                .is_some_and(|c| c.id() == current.id())
        };
        match parent.kind_name() {
            "if_statement" | "elif_clause" | "while_statement" => is_field("condition"),
            "conditional_expression" => {
                named(parent).get(1).is_some_and(|c| c.id() == current.id())
            }
            "not_operator" => true,
            "boolean_operator" => is_field("left"),
            "comparison_operator" => named(parent).iter().any(|c| c.kind_name() == "none"),
            "assert_statement" => true,
            _ => false,
        }
    }
}

/// Whether a node is being assigned to (`msg["k"] = v`, `o.k = v`).
fn is_store_target(node: Node<'_>) -> bool {
    node.parent().is_some_and(|p| {
        matches!(p.kind_name(), "assignment" | "augmented_assignment")
            && p.field("left").is_some_and(|l| l.id() == node.id())
    })
}

/// Whether a statement runs under a condition that `creation` does not.
fn conditional(statement: Node<'_>, creation: Node<'_>, def: Node<'_>) -> bool {
    let mut current = statement.parent();
    while let Some(node) = current {
        if node.id() == def.id() {
            break;
        }
        if CONDITIONAL.contains(&node.kind_name()) && !contains(node, creation) {
            return true;
        }
        current = node.parent();
    }
    false
}

/// A method's first parameter (`self`, `cls`) is no field.
fn is_method_params(params: &[super::walk::Param]) -> bool {
    params
        .first()
        .is_some_and(|p| p.name == "self" || p.name == "cls")
}

/// Drops repeated uses (same name, line and flags), keeping the first.
fn dedup(fields: &mut Vec<FieldUse>) {
    let mut seen = BTreeSet::new();
    fields.retain(|f| seen.insert((f.name.clone(), f.line, f.nullable, f.optional)));
}
