//! Message fields: the `#[derive(Serialize)]` and `#[derive(Deserialize)]` structs of a file,
//! with their wire names, and the payloads and decoded values that use them.
//!
//! A producer's fields come from the payload of a publish: through `serde_json::to_vec(&x)`
//! and the like (the `[[codec]]` rows with `direction = "encode"`), `&json`, `.as_bytes()`,
//! back to a struct literal `T { .. }`, a `let x: T`, a parameter `x: T`, or a
//! `serde_json::json!({"k": v})` literal. A consumer's fields come from the values decoded
//! (`from_slice::<T>`, `let x: T = from_slice(..)`) in the function that consumes, or in a
//! function of this file that it calls, and from the keys read from an untyped message
//! (`let v: serde_json::Value = from_slice(..)`, then `v["k"]`, or `v.get("k")` with a default); decodes of files (`from_str(&fs::read_to_string(p)?)`)
//! are configuration, not messages, and are left out.
//!
//! Only structs defined in this file are known: a payload of a type defined elsewhere adds no
//! fields (the resolver sees an empty list, which means "not visible", not "no fields").
//!
//! Field flags follow [`FieldUse`]: a producer's `Option<T>` field is `nullable` (unless
//! `skip_serializing_if = "Option::is_none"`, which makes it `optional` instead: absent, never
//! null), and any `skip_serializing_if` makes it `optional`. A consumer's `Option<T>` field
//! copes with null and absence (`nullable` and `optional`), and `#[serde(default)]` (on the
//! field or the struct) with absence. `#[serde(flatten)]` and skipped fields are left out.

use super::walk::{Walker, line_of, pat_ident};
use crate::expr::ScopeId;
use crate::extract::{FieldUse, RawResource};
use crate::model::Mode;
use crate::rules::models::rust::resources::Direction;
use foldhash::HashMap;
use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::punctuated::Punctuated;

/// Inline modules nested deeper than this are not searched for structs.
const MAX_MODULE_DEPTH: usize = 16;

/// Payload expressions are followed this many steps at most.
const MAX_PAYLOAD_STEPS: usize = 24;

/// The message structs of a file, by name.
#[derive(Default)]
pub(super) struct Messages {
    structs: HashMap<String, Option<MessageStruct>>,
}

/// One serde struct.
#[derive(Clone, Debug)]
struct MessageStruct {
    fields: Vec<MessageField>,
    serialize: bool,
    deserialize: bool,
}

#[derive(Clone, Debug)]
struct MessageField {
    serialized_name: String,
    deserialized_name: String,
    line: u32,
    option: bool,
    skip_serializing: bool,
    skip_deserializing: bool,
    skip_serializing_if: Option<String>,
    default: bool,
    flatten: bool,
}

/// What a payload is, as far as visible.
#[derive(Clone, Debug)]
pub(super) enum Message {
    /// A value of a named type.
    Struct(String),
    /// A JSON object literal's fields.
    Fields(Vec<FieldUse>),
}

/// A value decoded from bytes, in a function.
#[derive(Clone, Debug)]
pub(super) struct Decode {
    pub(super) scope: ScopeId,
    pub(super) type_name: String,
}

impl Messages {
    /// Collects the serde structs of a file (also in inline modules, not in test code).
    pub(super) fn collect(file: &syn::File) -> Messages {
        let mut messages = Messages::default();
        messages.items(&file.items, 0);
        messages
    }

    fn items(&mut self, items: &[syn::Item], depth: usize) {
        for item in items {
            match item {
                syn::Item::Struct(s) if !super::walk::is_test_only(&s.attrs) => self.item(s),
                syn::Item::Mod(m) if depth < MAX_MODULE_DEPTH => {
                    if let Some((_, items)) = &m.content
                        && !super::walk::is_test_only(&m.attrs)
                    {
                        self.items(items, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    fn item(&mut self, item: &syn::ItemStruct) {
        let derives = derives(&item.attrs);
        let serialize = derives.iter().any(|d| d == "Serialize");
        let deserialize = derives.iter().any(|d| d == "Deserialize");
        if !serialize && !deserialize {
            return;
        }
        let syn::Fields::Named(named) = &item.fields else {
            return;
        };
        let container = serde_options(&item.attrs);
        let fields = named
            .named
            .iter()
            .filter_map(|f| field(f, &container))
            .collect();
        let name = item.ident.to_string();
        let parsed = MessageStruct {
            fields,
            serialize,
            deserialize,
        };
        // Two structs of the same name in one file: which one a use means is not known.
        match self.structs.entry(name) {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                e.insert(None);
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(Some(parsed));
            }
        }
    }

    fn get(&self, name: &str) -> Option<&MessageStruct> {
        self.structs.get(name).and_then(Option::as_ref)
    }

    /// The fields a value of type `name` has on the wire when serialised.
    pub(super) fn produced(&self, name: &str) -> Option<Vec<FieldUse>> {
        let s = self.get(name).filter(|s| s.serialize)?;
        Some(
            s.fields
                .iter()
                .filter(|f| !f.flatten && !f.skip_serializing)
                .map(|f| {
                    let skips_none = f.skip_serializing_if.as_deref().is_some_and(is_none_test);
                    FieldUse {
                        name: f.serialized_name.clone(),
                        line: f.line,
                        nullable: f.option && !skips_none,
                        optional: f.skip_serializing_if.is_some(),
                    }
                })
                .collect(),
        )
    }

    /// The fields deserialising into type `name` reads.
    pub(super) fn consumed(&self, name: &str) -> Option<Vec<FieldUse>> {
        let s = self.get(name).filter(|s| s.deserialize)?;
        Some(
            s.fields
                .iter()
                .filter(|f| !f.flatten && !f.skip_deserializing)
                .map(|f| FieldUse {
                    name: f.deserialized_name.clone(),
                    line: f.line,
                    nullable: f.option,
                    optional: f.option || f.default,
                })
                .collect(),
        )
    }

    /// For a struct read from the environment field by field: each field's name and the value
    /// used when its variable is unset (`None`: required).
    pub(super) fn env_fields(
        &self,
        name: &str,
    ) -> Option<Vec<(String, Option<crate::expr::Expr>)>> {
        let s = self.get(name).filter(|s| s.deserialize)?;
        Some(
            s.fields
                .iter()
                .filter(|f| !f.flatten && !f.skip_deserializing)
                .map(|f| {
                    let value = if f.default {
                        Some(crate::expr::Expr::hole("default"))
                    } else if f.option {
                        Some(crate::expr::Expr::hole("unset"))
                    } else {
                        None
                    };
                    (f.deserialized_name.clone(), value)
                })
                .collect(),
        )
    }
}

/// `Option::is_none` and spellings of it.
fn is_none_test(path: &str) -> bool {
    let compact: String = path.chars().filter(|c| !c.is_whitespace()).collect();
    compact.ends_with("Option::is_none")
}

/// The names in `#[derive(..)]` attributes, last segments only.
pub(super) fn derives(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        if let Ok(paths) =
            attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        {
            out.extend(
                paths
                    .iter()
                    .filter_map(|p| p.segments.last().map(|s| s.ident.to_string())),
            );
        }
    }
    out
}

/// What `#[serde(..)]` attributes say, for a container or a field.
#[derive(Default)]
struct SerdeOptions {
    rename_serialize: Option<String>,
    rename_deserialize: Option<String>,
    rename_all_serialize: Option<String>,
    rename_all_deserialize: Option<String>,
    skip_serializing: bool,
    skip_deserializing: bool,
    skip_serializing_if: Option<String>,
    default: bool,
    flatten: bool,
}

fn serde_options(attrs: &[syn::Attribute]) -> SerdeOptions {
    let mut options = SerdeOptions::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let Ok(metas) =
            attr.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
        else {
            continue;
        };
        for meta in &metas {
            serde_option(meta, &mut options);
        }
    }
    options
}

fn serde_option(meta: &syn::Meta, options: &mut SerdeOptions) {
    let key = meta.path().get_ident().map(ToString::to_string);
    match (key.as_deref(), meta) {
        (Some("rename"), syn::Meta::NameValue(nv)) => {
            let value = meta_string(&nv.value);
            options.rename_serialize.clone_from(&value);
            options.rename_deserialize = value;
        }
        (Some("rename"), syn::Meta::List(list)) => {
            let (ser, de) = split_directions(list);
            options.rename_serialize = ser.or(options.rename_serialize.take());
            options.rename_deserialize = de.or(options.rename_deserialize.take());
        }
        (Some("rename_all"), syn::Meta::NameValue(nv)) => {
            let value = meta_string(&nv.value);
            options.rename_all_serialize.clone_from(&value);
            options.rename_all_deserialize = value;
        }
        (Some("rename_all"), syn::Meta::List(list)) => {
            let (ser, de) = split_directions(list);
            options.rename_all_serialize = ser;
            options.rename_all_deserialize = de;
        }
        (Some("skip"), syn::Meta::Path(_)) => {
            options.skip_serializing = true;
            options.skip_deserializing = true;
        }
        (Some("skip_serializing"), syn::Meta::Path(_)) => options.skip_serializing = true,
        (Some("skip_deserializing"), syn::Meta::Path(_)) => options.skip_deserializing = true,
        (Some("skip_serializing_if"), syn::Meta::NameValue(nv)) => {
            options.skip_serializing_if = meta_string(&nv.value).or(Some(String::new()));
        }
        (Some("default"), _) => options.default = true,
        (Some("flatten"), syn::Meta::Path(_)) => options.flatten = true,
        _ => {}
    }
}

/// `rename(serialize = "a", deserialize = "b")`.
fn split_directions(list: &syn::MetaList) -> (Option<String>, Option<String>) {
    let Ok(inner) =
        list.parse_args_with(Punctuated::<syn::MetaNameValue, syn::Token![,]>::parse_terminated)
    else {
        return (None, None);
    };
    let find = |key: &str| {
        inner
            .iter()
            .find(|nv| nv.path.is_ident(key))
            .and_then(|nv| meta_string(&nv.value))
    };
    (find("serialize"), find("deserialize"))
}

fn meta_string(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Lit(l) => match &l.lit {
            syn::Lit::Str(s) => Some(s.value()),
            _ => None,
        },
        _ => None,
    }
}

fn field(f: &syn::Field, container: &SerdeOptions) -> Option<MessageField> {
    let ident = f.ident.as_ref()?;
    let raw = ident.to_string();
    let name = raw.strip_prefix("r#").unwrap_or(&raw).to_string();
    let options = serde_options(&f.attrs);
    let serialized_name = options
        .rename_serialize
        .clone()
        .unwrap_or_else(|| rename_field(&name, container.rename_all_serialize.as_deref()));
    let deserialized_name = options
        .rename_deserialize
        .clone()
        .unwrap_or_else(|| rename_field(&name, container.rename_all_deserialize.as_deref()));
    Some(MessageField {
        serialized_name,
        deserialized_name,
        line: line_of(ident.span()),
        option: is_option(&f.ty),
        skip_serializing: options.skip_serializing,
        skip_deserializing: options.skip_deserializing,
        skip_serializing_if: options.skip_serializing_if,
        default: options.default || container.default,
        flatten: options.flatten,
    })
}

/// A field's name under a container's `rename_all` rule, as serde applies it to fields.
fn rename_field(field: &str, rule: Option<&str>) -> String {
    let pascal = || -> String {
        field
            .split('_')
            .map(|part| {
                let mut chars = part.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => String::new(),
                }
            })
            .collect()
    };
    match rule {
        Some("UPPERCASE") | Some("SCREAMING_SNAKE_CASE") => field.to_ascii_uppercase(),
        Some("PascalCase") => pascal(),
        Some("camelCase") => {
            let p = pascal();
            let mut chars = p.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => p,
            }
        }
        Some("kebab-case") => field.replace('_', "-"),
        Some("SCREAMING-KEBAB-CASE") => field.replace('_', "-").to_ascii_uppercase(),
        _ => field.to_string(),
    }
}

/// `Option<T>` (also `std::option::Option<T>`).
fn is_option(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        syn::Type::Group(g) => is_option(&g.elem),
        syn::Type::Paren(p) => is_option(&p.elem),
        _ => false,
    }
}

/// The name of the type a value of this type is: `Order`, `&Order`, `Vec<Order>` -> `Order`
/// (a list of messages has the element's fields), `Option<Order>` and `Box<Order>` likewise.
pub(super) fn type_name(ty: &syn::Type) -> Option<String> {
    type_name_at(ty, 0)
}

fn type_name_at(ty: &syn::Type, depth: usize) -> Option<String> {
    if depth > 8 {
        return None;
    }
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let name = last.ident.to_string();
            if matches!(
                name.as_str(),
                "Vec" | "Option" | "Box" | "Arc" | "Rc" | "VecDeque"
            ) {
                let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                    return None;
                };
                match args.args.first() {
                    Some(syn::GenericArgument::Type(inner)) => type_name_at(inner, depth + 1),
                    _ => None,
                }
            } else {
                Some(name)
            }
        }
        syn::Type::Reference(r) => type_name_at(&r.elem, depth + 1),
        syn::Type::Paren(p) => type_name_at(&p.elem, depth + 1),
        syn::Type::Group(g) => type_name_at(&g.elem, depth + 1),
        syn::Type::Slice(s) => type_name_at(&s.elem, depth + 1),
        _ => None,
    }
}

/// Methods that keep a payload what it is (bytes, text, a reference to it).
const KEEPING_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "as_bytes",
    "as_slice",
    "as_str",
    "as_ref",
    "into",
    "into_bytes",
    "into_boxed_slice",
    "to_vec",
    "to_owned",
    "to_string",
    "clone",
    "unwrap_or_default",
];

/// Calls that wrap a payload without changing it.
const KEEPING_FUNCTIONS: &[&str] = &["Some", "Ok", "from", "new", "copy_from_slice"];

impl Walker<'_> {
    /// What a payload expression is, following conversions, encodings and variables.
    pub(super) fn message_of(&self, expr: &syn::Expr) -> Option<Message> {
        let mut current = expr;
        for _ in 0..MAX_PAYLOAD_STEPS {
            current = match current {
                syn::Expr::Reference(e) => &e.expr,
                syn::Expr::Paren(e) => &e.expr,
                syn::Expr::Group(e) => &e.expr,
                syn::Expr::Try(e) => &e.expr,
                syn::Expr::Await(e) => &e.base,
                syn::Expr::MethodCall(m)
                    if KEEPING_METHODS.contains(&m.method.to_string().as_str()) =>
                {
                    &m.receiver
                }
                syn::Expr::Struct(s) => {
                    return s
                        .path
                        .segments
                        .last()
                        .map(|seg| Message::Struct(self.named_type(&seg.ident.to_string())));
                }
                syn::Expr::Macro(m)
                    if m.mac
                        .path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "json") =>
                {
                    return json_fields(m.mac.tokens.clone()).map(Message::Fields);
                }
                syn::Expr::Path(_) => {
                    let name = super::walk::expr_ident(current)?;
                    return self.typed.get(&(self.scope, name)).cloned();
                }
                syn::Expr::Call(call) => match self.encoded_value(call) {
                    Some(value) => value,
                    None => {
                        let segments = super::walk::call_path(&call.func)?;
                        let function = segments.last()?.as_str();
                        let owner = segments.iter().rev().nth(1).map(String::as_str);
                        if let Some(owner) = owner.filter(|o| self.messages.get(o).is_some())
                            && matches!(function, "new" | "default")
                        {
                            return Some(Message::Struct(owner.to_string()));
                        }
                        match call.args.first() {
                            Some(arg)
                                if call.args.len() == 1
                                    && KEEPING_FUNCTIONS.contains(&function) =>
                            {
                                arg
                            }
                            _ => return None,
                        }
                    }
                },
                _ => return None,
            };
        }
        None
    }

    /// `Self` inside an `impl` is the impl's type.
    fn named_type(&self, name: &str) -> String {
        match (name, &self.self_type) {
            ("Self", Some(t)) => t.clone(),
            _ => name.to_string(),
        }
    }

    /// The value an encoding call (`serde_json::to_vec(&x)`) serialises.
    fn encoded_value<'c>(&self, call: &'c syn::ExprCall) -> Option<&'c syn::Expr> {
        let segments = super::walk::call_path(&call.func)?;
        let models = self.models;
        let rows =
            models.resources.codecs.iter().filter(|r| {
                r.direction == crate::rules::models::rust::resources::Direction::Encode
            });
        let (row, _) = self.lookup(&segments, |p| models.function_row(rows.clone(), p))?;
        match row.value.as_ref()? {
            crate::rules::models::rust::resources::Locator::Arg(i) => call.args.iter().nth(*i),
            _ => None,
        }
    }

    /// The fields a payload carries, when its type or literal is visible.
    pub(super) fn produced_fields(&self, payload: &syn::Expr) -> Vec<FieldUse> {
        match self.message_of(payload) {
            Some(Message::Struct(name)) => self.messages.produced(&name).unwrap_or_default(),
            Some(Message::Fields(fields)) => fields,
            None => Vec::new(),
        }
    }

    /// Records what a `let` binds, for payloads built before they are sent:
    /// `let json = serde_json::to_vec(&order)?`, `let order: Order = ..`.
    pub(super) fn record_typed_local(&mut self, local: &syn::Local) {
        let (pat, ty) = match &local.pat {
            syn::Pat::Type(p) => (&*p.pat, Some(&*p.ty)),
            other => (other, None),
        };
        let Some(name) = super::walk::pat_ident(pat) else {
            return;
        };
        let message = ty
            .and_then(type_name)
            .map(Message::Struct)
            .or_else(|| local.init.as_ref().and_then(|i| self.message_of(&i.expr)));
        let key = (self.scope, name);
        match message {
            Some(m) => {
                self.typed.insert(key, m);
            }
            None => {
                self.typed.remove(&key);
            }
        }
    }

    /// Function parameters of a named type: `fn publish(order: &Order)`.
    pub(super) fn record_typed_params(&mut self, sig: &syn::Signature, scope: ScopeId) {
        for input in &sig.inputs {
            if let syn::FnArg::Typed(arg) = input
                && let Some(name) = super::walk::pat_ident(&arg.pat)
                && let Some(ty) = type_name(&arg.ty)
            {
                self.typed.insert((scope, name), Message::Struct(ty));
            }
        }
    }

    /// A decode at `position` of `chain`: records its type for the consumer in this function.
    pub(super) fn decode(
        &mut self,
        chain: &super::chain::Chain<'_>,
        position: super::chain::Position,
        outer: &syn::Expr,
    ) {
        let models = self.models;
        let Some(row) = self.row_at(&models.resources.codecs, chain, position) else {
            return;
        };
        if row.direction != crate::rules::models::rust::resources::Direction::Decode {
            return;
        }
        if chain
            .args_at(position)
            .first()
            .is_some_and(|input| self.reads_a_file(input))
        {
            return;
        }
        let type_name = self
            .turbofish_type(chain, position)
            .or_else(|| self.let_types.get(&super::chain::key(outer)).cloned());
        if let Some(type_name) = type_name {
            self.decodes.push(Decode {
                scope: self.scope,
                type_name,
            });
        }
    }

    /// `let v: serde_json::Value = serde_json::from_slice(..)?`: `v` holds an untyped message.
    pub(super) fn record_value_local(&mut self, local: &syn::Local) {
        let syn::Pat::Type(typed) = &local.pat else {
            return;
        };
        let (Some(name), Some(init)) = (pat_ident(&typed.pat), &local.init) else {
            return;
        };
        let is_value = type_name(&typed.ty).as_deref() == Some("Value");
        let chain = super::chain::Chain::of(&init.expr);
        let models = self.models;
        let decodes = chain.positions().into_iter().any(|position| {
            self.row_at(&models.resources.codecs, &chain, position)
                .is_some_and(|row| row.direction == Direction::Decode)
        });
        let reads_file = chain
            .args_at(super::chain::Position::Root)
            .first()
            .is_some_and(|input| self.reads_a_file(input));
        let key = (self.scope, name);
        if is_value && decodes && !reads_file {
            self.value_vars.insert(key);
        } else {
            self.value_vars.remove(&key);
        }
    }

    /// `v["region"]` (read, required) and `v.get("region")` (read, optional) on an untyped
    /// message.
    pub(super) fn record_value_read(&mut self, base: &syn::Expr, key: &syn::Expr, optional: bool) {
        let Some(name) = super::walk::expr_ident(base) else {
            return;
        };
        if !self.value_vars.contains(&(self.scope, name)) {
            return;
        }
        let Some(field) = super::chain::string_literal(key) else {
            return;
        };
        let use_ = FieldUse {
            name: field,
            line: super::walk::start_line(key),
            nullable: false,
            optional,
        };
        self.value_reads.push((self.scope, use_));
    }

    /// Whether bytes come from a file (configuration), not a message.
    fn reads_a_file(&self, input: &syn::Expr) -> bool {
        self.pid_source(input).is_some()
    }

    /// After the walk: each consume with no visible fields gets the fields of the values
    /// decoded in its function, or in functions of this file it calls.
    pub(super) fn attach_consumed_fields(&mut self) {
        for index in 0..self.facts.accesses.len() {
            let access = &self.facts.accesses[index];
            let RawResource::Queue(target) = &access.resource else {
                continue;
            };
            if access.mode != Mode::Consume || !target.fields.is_empty() {
                continue;
            }
            let scope = access.scope;
            let mut scopes = vec![scope];
            scopes.extend(self.called_scopes(scope));
            let mut fields: Vec<FieldUse> = Vec::new();
            let decoded = self
                .decodes
                .iter()
                .filter(|d| scopes.contains(&d.scope))
                .flat_map(|d| self.messages.consumed(&d.type_name).unwrap_or_default());
            let read = self
                .value_reads
                .iter()
                .filter(|(s, _)| scopes.contains(s))
                .map(|(_, f)| f.clone());
            for field in decoded.chain(read) {
                if !fields.iter().any(|f| f.name == field.name) {
                    fields.push(field);
                }
            }
            if let Some(access) = self.facts.accesses.get_mut(index)
                && let RawResource::Queue(target) = &mut access.resource
            {
                target.fields = fields;
            }
        }
    }

    /// Function scopes of this file that `scope` calls by name.
    fn called_scopes(&self, scope: ScopeId) -> Vec<ScopeId> {
        let mut out = Vec::new();
        for call in self.facts.calls.iter().filter(|c| c.scope == scope) {
            let callee = call
                .callee
                .strip_prefix("self.")
                .unwrap_or(&call.callee)
                .rsplit("::")
                .next()
                .unwrap_or_default();
            for (id, s) in self.facts.scopes.iter().enumerate() {
                let last = s.name.rsplit("::").next().unwrap_or_default();
                if s.kind == crate::extract::ScopeKind::Function && last == callee && id != scope {
                    out.push(id);
                }
            }
        }
        out
    }
}

/// The top-level keys of a `json!({ "k": v, .. })` literal, with their lines; `null` values
/// are nullable. `None` when the body is not an object literal.
fn json_fields(tokens: TokenStream) -> Option<Vec<FieldUse>> {
    let mut iter = tokens.into_iter();
    let body = match (iter.next(), iter.next()) {
        (Some(TokenTree::Group(g)), None) if g.delimiter() == Delimiter::Brace => g.stream(),
        _ => return None,
    };
    let mut fields = Vec::new();
    let mut entry: Vec<TokenTree> = Vec::new();
    let mut flush = |entry: &mut Vec<TokenTree>| {
        if let Some(field) = json_entry(entry) {
            fields.push(field);
        }
        entry.clear();
    };
    for token in body {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ',' => flush(&mut entry),
            _ => entry.push(token),
        }
    }
    flush(&mut entry);
    Some(fields)
}

/// `"key": value` -> the field.
fn json_entry(entry: &[TokenTree]) -> Option<FieldUse> {
    let (TokenTree::Literal(key), TokenTree::Punct(colon)) = (entry.first()?, entry.get(1)?) else {
        return None;
    };
    if colon.as_char() != ':' {
        return None;
    }
    let lit: syn::LitStr = syn::parse2(TokenStream::from(TokenTree::Literal(key.clone()))).ok()?;
    let value = entry.get(2..).unwrap_or(&[]);
    let nullable = matches!(value, [TokenTree::Ident(i)] if i == "null");
    Some(FieldUse {
        name: lit.value(),
        line: line_of(key.span()),
        nullable,
        optional: false,
    })
}

#[cfg(test)]
mod tests {
    use super::rename_field;

    #[test]
    fn rename_all_rules_apply_to_fields_as_serde_does() {
        assert_eq!(rename_field("region_code", Some("camelCase")), "regionCode");
        assert_eq!(
            rename_field("region_code", Some("PascalCase")),
            "RegionCode"
        );
        assert_eq!(
            rename_field("region_code", Some("kebab-case")),
            "region-code"
        );
        assert_eq!(
            rename_field("region_code", Some("SCREAMING_SNAKE_CASE")),
            "REGION_CODE"
        );
        assert_eq!(
            rename_field("region_code", Some("snake_case")),
            "region_code"
        );
        assert_eq!(rename_field("region_code", None), "region_code");
    }
}
