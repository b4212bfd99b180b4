//! Struct fields as values.
//!
//! A field read through a value of a known type is written as that type's field: `s.dir`
//! after `let s = Spool::new();` (or `Spool { .. }`, `let s: Spool = ..`, a parameter
//! `s: &Spool`), `args.out_dir` after `let args = Args::parse();`, and `self.config.out_dir`
//! when this file declares the field `config: Config` — each becomes the `Var` `self.dir` in the
//! class scope of its type, which is what methods of the type read as `self.dir`. The resolver
//! answers it with every value the crate assigns to the field (struct literals, `self.dir = ..`,
//! the field's attributes). The type of a `let` is its declared type, else the type of a struct
//! literal or of an associated-function call (`Type::f(..)`, through `?`, `.await`, `unwrap`,
//! `Arc::new`): a guess only in name, since only a value of that type has that field.
//!
//! Field attributes bind the field in the struct's class scope, at the field's line:
//! - serde (`#[derive(Deserialize)]`): `#[serde(default = "default_out")]` is what
//!   `default_out()` returns (the value a deployment gets when its file leaves the field out,
//!   like a pydantic default); other fields come from the file, an unknown value — except under a
//!   container `#[serde(default)]`, whose `Default` impl is a struct literal of its own;
//!   `rename` changes the key in the file, not the Rust value;
//! - clap (`#[derive(Parser)]`): `#[arg(env = "OUT_DIR", default_value = "/srv/out")]` is the
//!   environment variable with that default; a `default_value`/`default_value_t` alone is the
//!   default; a field with neither is given on the command line, an unknown value.

use super::walk::{Walker, line_of};
use crate::expr::{Expr, ScopeId};
use foldhash::HashMap;
use syn::punctuated::Punctuated;

/// Field-to-field hops followed from a variable to the field read (`self.a.b.c.dir`).
const MAX_FIELD_HOPS: usize = 4;

/// Struct fields whose types are remembered per file (hostile files declare more).
const MAX_FIELD_TYPES: usize = 4096;

/// Types whose fields no code reads, or that are not the repository's: no class scope for them.
const OPAQUE_TYPES: &[&str] = &[
    "String",
    "str",
    "PathBuf",
    "Path",
    "OsString",
    "OsStr",
    "Vec",
    "HashMap",
    "BTreeMap",
    "HashSet",
    "BTreeSet",
    "Option",
    "Result",
    "Duration",
    "Instant",
    "SystemTime",
    "File",
    "Command",
    "Self",
    "Value",
    "Utf8PathBuf",
    "Utf8Path",
];

/// Wrappers whose `new(x)` holds a value of `x`'s type, which field reads reach through.
const WRAPPERS: &[&str] = &["Arc", "Rc", "Box", "Mutex", "RwLock", "RefCell", "Cell"];

/// Methods that return (a value holding) their receiver's type.
const KEEPING_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "unwrap_or_default",
    "context",
    "with_context",
    "clone",
    "to_owned",
];

/// The field types of the file's structs: (struct, field) -> the field's type; and, for
/// each struct, the types of its fields (to create their class scopes).
#[derive(Default)]
pub(super) struct FieldTypes {
    pub(super) of_field: HashMap<(String, String), String>,
    pub(super) of_struct: HashMap<String, Vec<String>>,
}

/// Collects the named fields' types of every struct of `items` (inline modules included), at
/// most [`MAX_FIELD_TYPES`].
pub(super) fn collect_field_types(items: &[syn::Item], out: &mut FieldTypes) {
    for item in items {
        match item {
            syn::Item::Struct(s) => {
                let syn::Fields::Named(fields) = &s.fields else {
                    continue;
                };
                for field in &fields.named {
                    if out.of_field.len() >= MAX_FIELD_TYPES {
                        return;
                    }
                    if let Some(ident) = &field.ident
                        && let Some(ty) = super::messages::type_name(&field.ty)
                        && is_followed_type(&ty)
                    {
                        let owner = s.ident.to_string();
                        let types = out.of_struct.entry(owner.clone()).or_default();
                        if !types.contains(&ty) {
                            types.push(ty.clone());
                        }
                        out.of_field.insert((owner, ident.to_string()), ty);
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect_field_types(items, out);
                }
            }
            _ => {}
        }
    }
}

fn is_followed_type(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase()) && !OPAQUE_TYPES.contains(&name)
}

/// The `key = value` and bare keys of the attributes named `name`.
fn attribute_metas(attrs: &[syn::Attribute], names: &[&str]) -> Vec<syn::Meta> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| names.iter().any(|n| s.ident == n))
    }) {
        if let Ok(metas) =
            attr.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
        {
            out.extend(metas);
        }
    }
    out
}

fn has_key(metas: &[syn::Meta], key: &str) -> bool {
    metas.iter().any(|m| m.path().is_ident(key))
}

impl Walker<'_> {
    /// The class scope of a type whose fields are read here, and of the types of its fields
    /// (as far as this file declares them), created on first use.
    pub(super) fn typed_class(&mut self, type_name: &str) -> Option<ScopeId> {
        if !is_followed_type(type_name) {
            return None;
        }
        let id = self.class_scope(type_name);
        // Each type's field types once per module: the work is linear in the fields.
        let mut current = vec![type_name.to_string()];
        for _ in 0..MAX_FIELD_HOPS {
            let mut next = Vec::new();
            for owner in current {
                if !self
                    .expanded_types
                    .insert((self.module_id(), owner.clone()))
                {
                    continue;
                }
                let Some(types) = self.field_types.of_struct.get(&owner) else {
                    continue;
                };
                next.extend(types.iter().cloned());
            }
            for ty in &next {
                self.class_scope(ty);
            }
            if next.is_empty() {
                break;
            }
            current = next;
        }
        Some(id)
    }

    /// Remembers (or forgets) the type of a local of the current function.
    pub(super) fn set_local_type(&mut self, name: &str, type_name: Option<String>) {
        let key = (self.scope, name.to_string());
        match type_name.filter(|t| is_followed_type(t)) {
            Some(t) => {
                self.typed_class(&t);
                self.local_types.insert(key, t);
            }
            None => {
                self.local_types.remove(&key);
            }
        }
    }

    /// The type of the value an expression builds, when it spells it.
    pub(super) fn value_type(&self, expr: &syn::Expr) -> Option<String> {
        let mut current = expr;
        for _ in 0..8 {
            current = match current {
                syn::Expr::Struct(s) if s.qself.is_none() => {
                    let name = s.path.segments.last()?.ident.to_string();
                    return Some(self.named_type_of(name));
                }
                syn::Expr::Try(e) => &e.expr,
                syn::Expr::Await(e) => &e.base,
                syn::Expr::Paren(e) => &e.expr,
                syn::Expr::Group(e) => &e.expr,
                syn::Expr::Reference(e) => &e.expr,
                syn::Expr::MethodCall(m)
                    if KEEPING_METHODS.contains(&m.method.to_string().as_str()) =>
                {
                    &m.receiver
                }
                syn::Expr::Call(call) => {
                    let segments = super::walk::call_path(&call.func)?;
                    let [.., owner, function] = segments.as_slice() else {
                        return None;
                    };
                    if WRAPPERS.contains(&owner.as_str()) && function == "new" {
                        call.args.first()?
                    } else if owner.starts_with(|c: char| c.is_ascii_uppercase()) {
                        return Some(self.named_type_of(owner.clone()));
                    } else {
                        return None;
                    }
                }
                _ => return None,
            };
        }
        None
    }

    /// `s.dir`, `self.config.out_dir`, `args.out_dir`: the field of the type the root holds,
    /// as `self.<field>` in that type's class scope; None when a type on the way is unknown.
    pub(super) fn typed_field(&self, root: &str, members: &[String], line: u32) -> Option<Expr> {
        let (last, between) = members.split_last()?;
        let mut type_name = if root == "self" {
            if between.is_empty() {
                return None; // `self.dir` is the method's own field read.
            }
            self.self_type.clone()?
        } else {
            self.local_types
                .get(&(self.scope, root.to_string()))?
                .clone()
        };
        for member in between.iter().take(MAX_FIELD_HOPS) {
            type_name = self
                .field_types
                .of_field
                .get(&(type_name, member.clone()))?
                .clone();
        }
        if between.len() > MAX_FIELD_HOPS {
            return None;
        }
        let class = self.class_id(&type_name)?;
        Some(Expr::Var {
            name: format!("self.{last}").into(),
            scope: class,
            line,
            env_fallback: false,
            default: None,
        })
    }

    /// `s.path(id)` where `s` holds a value of a known type: the `Var` `self.path()` in that
    /// type's class scope, which the type's method binds (in this file or another).
    pub(super) fn typed_method(&self, receiver: &syn::Expr, method: &str) -> Option<Expr> {
        let root = super::walk::expr_ident(receiver)?;
        let type_name = self.local_types.get(&(self.scope, root))?;
        let class = self.class_id(type_name)?;
        Some(Expr::Var {
            name: format!("self.{method}()").into(),
            scope: class,
            line: super::walk::start_line(receiver),
            env_fallback: false,
            default: None,
        })
    }

    /// What a struct's field attributes say the field holds (see the module docs).
    pub(super) fn field_attribute_values(&mut self, item: &syn::ItemStruct) {
        let syn::Fields::Named(fields) = &item.fields else {
            return;
        };
        let derived = super::messages::derives(&item.attrs);
        let serde = derived.iter().any(|d| d == "Deserialize");
        let clap = derived
            .iter()
            .any(|d| matches!(d.as_str(), "Parser" | "Args" | "StructOpt"));
        if !serde && !clap {
            return;
        }
        let container_default = has_key(&attribute_metas(&item.attrs, &["serde"]), "default");
        let class = self.class_scope(&item.ident.to_string());
        let models = self.models;
        for field in &fields.named {
            let Some(ident) = &field.ident else {
                continue;
            };
            // The line of the attribute that says the value (a change edits it), else the
            // field's.
            let carrier: &[&str] = if clap {
                &["arg", "clap", "structopt"]
            } else {
                &["serde"]
            };
            let line = field
                .attrs
                .iter()
                .find(|a| {
                    a.path()
                        .segments
                        .last()
                        .is_some_and(|s| carrier.iter().any(|c| s.ident == c))
                })
                .map_or_else(|| line_of(ident.span()), |a| line_of(a.pound_token.span));
            let name = format!("self.{}", ident.to_string().trim_start_matches("r#"));
            let value = if clap {
                self.clap_field_value(field, ident, models)
            } else {
                self.serde_field_value(field, ident, container_default)
            };
            if let Some(value) = value {
                self.bind_field(class, name, value, line);
            }
        }
    }

    fn serde_field_value(
        &self,
        field: &syn::Field,
        ident: &syn::Ident,
        container_default: bool,
    ) -> Option<Expr> {
        let metas = attribute_metas(&field.attrs, &["serde"]);
        if has_key(&metas, "skip") || has_key(&metas, "skip_deserializing") {
            return None;
        }
        let function = metas.iter().find_map(|m| match m {
            syn::Meta::NameValue(nv) if nv.path.is_ident("default") => {
                super::chain::string_literal(&nv.value)
            }
            _ => None,
        });
        match function {
            Some(path) => {
                let path = path.trim().trim_start_matches("::");
                let valid = !path.is_empty()
                    && path.split("::").all(|s| {
                        !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')
                    });
                Some(if valid {
                    self.var(format!("{path}()"), line_of(ident.span()))
                } else {
                    Expr::hole(ident.to_string())
                })
            }
            // The container's `Default` impl supplies what the file leaves out.
            None if container_default && !has_key(&metas, "default") => None,
            None => Some(Expr::hole(ident.to_string())),
        }
    }

    fn clap_field_value(
        &self,
        field: &syn::Field,
        ident: &syn::Ident,
        models: &crate::rules::models::rust::RustModels,
    ) -> Option<Expr> {
        for row in &models.resources.env_attributes {
            let names: Vec<&str> = row.attributes.iter().map(String::as_str).collect();
            let metas: Punctuated<syn::Meta, syn::Token![,]> =
                attribute_metas(&field.attrs, &names).into_iter().collect();
            if metas.iter().any(|m| m.path().is_ident("skip")) {
                return None;
            }
            let default = self.attribute_default(&metas, &row.defaults, &field.ty);
            if let Some(variable) = super::calls::env_key(&metas, &row.key, ident) {
                return Some(Expr::Env {
                    name: variable.into(),
                    default: default.map(Box::new),
                });
            }
            let explicit = metas.iter().any(|m| {
                m.path()
                    .get_ident()
                    .is_some_and(|i| row.defaults.iter().any(|d| i == d))
            });
            if explicit && let Some(default) = default {
                return Some(default);
            }
        }
        Some(Expr::hole(ident.to_string()))
    }
}
