//! Calls of the repository's own functions, and the smaller per-item facts: what a `let`
//! binds beyond its value, route attributes on handlers, environment variables read by
//! derive attributes, and `match` arms that give an environment read its default.
//!
//! A [`CallRef`]'s callee is the call path qualified through the file's `use` items
//! (`use crate::auth::wait_for_refresh; wait_for_refresh()` -> `crate::auth::wait_for_refresh`),
//! as written otherwise (`auth::wait()`, `wait()` for a function of the same module);
//! `Self::f()` is written with the `impl`'s type (`Store::f`), and a method called on `self` is
//! `self.f`. Calls into `std`, `core`, `alloc` and the crates the models describe are APIs, not
//! the repository's functions, and are left out, as are tuple-struct and variant constructors
//! (`Some(x)`, `Order(..)`) and method calls on receivers other than `self` (their type, and so
//! their function, is not known).

use super::chain::{Chain, Position, string_literal};
use super::resources::EnvUse;
use super::walk::{Walker, call_path, expr_ident, line_of, pat_ident, start_line};
use crate::expr::Expr;
use crate::extract::{CallRef, EnvTarget, RawResource, TriggerKind};
use crate::model::Mode;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;

impl Walker<'_> {
    /// What a `let` binds for the resource analyses: its declared type (for decodes and
    /// envy), the message it holds, the timer it holds, the file its value was read from.
    pub(super) fn record_local(&mut self, local: &syn::Local) {
        if let syn::Pat::Type(p) = &local.pat
            && let Some(init) = &local.init
            && let Some(name) = super::messages::type_name(&p.ty)
        {
            self.let_types.insert(super::chain::key(&init.expr), name);
        }
        self.record_typed_local(local);
        self.record_value_local(local);
        self.record_timer_local(local);
        if let Some(name) = pat_ident(&local.pat) {
            let source = local.init.as_ref().and_then(|i| self.pid_source(&i.expr));
            let key = (self.scope, name);
            match source {
                Some(path) => {
                    self.read_sources.insert(key, path);
                }
                None => {
                    self.read_sources.remove(&key);
                }
            }
        }
    }

    /// A call of a function by path that no model describes.
    pub(super) fn record_call(&mut self, call: &syn::ExprCall) {
        let Some(segments) = call_path(&call.func) else {
            return;
        };
        let Some(last) = segments.last() else {
            return;
        };
        if last == "timeout" || last == "timeout_at" {
            self.function_state.timeouts = true;
        }
        if last.starts_with(|c: char| c.is_uppercase()) {
            return;
        }
        let resolved = self.resolve(&segments);
        let root = resolved.split("::").next().unwrap_or_default();
        if self.model_roots.contains(root) || self.is_modelled(&segments) {
            return;
        }
        let callee = match (segments.first(), &self.self_type) {
            (Some(first), Some(self_type)) if first == "Self" => {
                let mut names = segments.clone();
                names[0] = self_type.clone();
                names.join("::")
            }
            _ => resolved,
        };
        let args = call
            .args
            .iter()
            .take(16)
            .map(|arg| crate::extract::CallArg {
                keyword: None,
                value: self.convert(arg),
            })
            .collect();
        self.facts.calls.push(CallRef {
            scope: self.scope,
            line: start_line(&call.func),
            callee: callee.into(),
            args,
        });
    }

    /// `self.wait_for_token()`: a method of the same type.
    pub(super) fn record_method_call(&mut self, call: &syn::ExprMethodCall) {
        if call.method == "recv_timeout" {
            self.function_state.timeouts = true;
        }
        if expr_ident(&call.receiver).as_deref() != Some("self") {
            return;
        }
        self.facts.calls.push(CallRef {
            scope: self.scope,
            line: start_line(&call.receiver),
            callee: format!("self.{}", call.method).into(),
            args: Vec::new().into(),
        });
    }

    /// Whether a model row describes the call (`thread::sleep` with no `use` matches
    /// `std::thread::sleep` by suffix, like path rows).
    fn is_modelled(&self, segments: &[String]) -> bool {
        let models = self.models;
        let last = segments.last().map(String::as_str).unwrap_or_default();
        if !self.model_names.contains(last) {
            return false;
        }
        self.lookup(segments, |p| models.function(p)).is_some()
            || self.lookup(segments, |p| models.run(p)).is_some()
            || self.lookup(segments, |p| models.value(p)).is_some()
            || self
                .lookup(segments, |p| {
                    models.names_modelled_function(p).then_some(())
                })
                .is_some()
    }

    /// Decides the `notify` watches of the function that ends.
    pub(super) fn finish_function(&mut self) {
        let watches = std::mem::take(&mut self.function_state.watches);
        let waits = self.function_state.timeouts;
        for watch in watches {
            if waits {
                let resource = RawResource::Path(crate::extract::PathTarget::exact(watch.path));
                self.push_resource(resource, Mode::WaitFor, watch.line, watch.via, watch.region);
            } else {
                self.trigger(watch.line, TriggerKind::WatchFile { path: watch.path });
            }
        }
    }

    /// `match env::var("X") { Ok(v) => v, Err(_) => d }`: the default (or the requirement)
    /// that the fallback arm gives an environment read on the scrutinee.
    pub(super) fn match_env_use(&self, expr: &syn::ExprMatch) -> Option<EnvUse> {
        let chain = Chain::of(&expr.expr);
        let models = self.models;
        let row = self.row_at(&models.env, &chain, Position::Root)?;
        if row.mode != Mode::Read {
            return None;
        }
        let arm = expr.arms.iter().find(|arm| is_fallback_pattern(&arm.pat))?;
        if super::convert::diverges(&arm.body) {
            Some(EnvUse::Required)
        } else {
            Some(EnvUse::Default(self.convert(&arm.body)))
        }
    }

    /// `#[post("/rotate")]` and the like on a handler: a route served by this function.
    pub(super) fn route_attributes(&mut self, attrs: &[syn::Attribute], line: u32) {
        let models = self.models;
        for attr in attrs {
            let Some(name) = attr.path().segments.last().map(|s| s.ident.to_string()) else {
                continue;
            };
            let known = models.resources.route_attributes.iter().any(|row| {
                row.attributes.contains(&name)
                    && row.requires.as_ref().is_none_or(|r| self.mentions(r))
            });
            if !known {
                continue;
            }
            let Ok(args) =
                attr.parse_args_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
            else {
                continue;
            };
            let Some(path) = args.first().and_then(string_literal) else {
                continue;
            };
            let methods: Vec<Option<String>> = if name == "route" {
                let named: Vec<Option<String>> = args
                    .iter()
                    .filter_map(|a| match a {
                        syn::Expr::Assign(a)
                            if expr_ident(&a.left).as_deref() == Some("method") =>
                        {
                            string_literal(&a.right).map(|m| Some(m.to_ascii_uppercase()))
                        }
                        _ => None,
                    })
                    .collect();
                if named.is_empty() { vec![None] } else { named }
            } else {
                vec![Some(name.to_ascii_uppercase())]
            };
            for method in methods {
                let path = path.clone();
                self.trigger(line, TriggerKind::Route { method, path });
            }
        }
    }

    /// `#[arg(long, env = "API_TOKEN", default_value = "x")] token: String`: a read of the
    /// variable when the program starts.
    pub(super) fn env_attribute_reads(&mut self, item: &syn::ItemStruct) {
        let models = self.models;
        let syn::Fields::Named(fields) = &item.fields else {
            return;
        };
        for field in &fields.named {
            let Some(ident) = &field.ident else {
                continue;
            };
            for row in &models.resources.env_attributes {
                for attr in field.attrs.iter().filter(|a| {
                    a.path()
                        .segments
                        .last()
                        .is_some_and(|s| row.attributes.iter().any(|r| s.ident == r))
                }) {
                    let Ok(metas) = attr
                        .parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
                    else {
                        continue;
                    };
                    let Some(name) = env_key(&metas, &row.key, ident) else {
                        continue;
                    };
                    let value = self.attribute_default(&metas, &row.defaults, &field.ty);
                    let resource = RawResource::Env(EnvTarget {
                        name: Expr::lit(name),
                        value,
                    });
                    let region = super::walk::Region::of(field.span());
                    // The attribute's line: where `env = ".."` is written, which a rename edits.
                    let line = line_of(attr.pound_token.span);
                    self.push_resource(resource, Mode::Read, line, row.name.clone(), region);
                }
            }
        }
    }

    /// The value an attribute-read variable has when unset: an explicit default, `false` for
    /// a flag, nothing for an `Option` or a list, else required.
    pub(super) fn attribute_default(
        &self,
        metas: &Punctuated<syn::Meta, syn::Token![,]>,
        defaults: &[String],
        ty: &syn::Type,
    ) -> Option<Expr> {
        for meta in metas {
            let is_default = meta
                .path()
                .get_ident()
                .is_some_and(|i| defaults.iter().any(|d| i == d));
            if !is_default {
                continue;
            }
            return Some(match meta {
                syn::Meta::NameValue(nv) => self.convert(&nv.value),
                _ => Expr::hole("default"),
            });
        }
        let last = match ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        match last.as_deref() {
            Some("Option") | Some("Vec") => Some(Expr::hole("unset")),
            Some("bool") => Some(Expr::lit("false")),
            _ => None,
        }
    }
}

/// `env = "X"`, or a bare `env` (the field's name in upper case).
pub(super) fn env_key(
    metas: &Punctuated<syn::Meta, syn::Token![,]>,
    key: &str,
    field: &syn::Ident,
) -> Option<String> {
    metas.iter().find_map(|meta| match meta {
        syn::Meta::Path(p) if p.is_ident(key) => {
            let raw = field.to_string();
            Some(raw.trim_start_matches("r#").to_ascii_uppercase())
        }
        syn::Meta::NameValue(nv) if nv.path.is_ident(key) => string_literal(&nv.value),
        _ => None,
    })
}

/// `Err(_)`, `Err(e)`, `None`, `_`, `Err(_) | Ok("")`: an arm that can be taken when a
/// variable is unset (the first one is).
fn is_fallback_pattern(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::Or(p) => p.cases.iter().any(is_fallback_pattern),
        syn::Pat::Wild(_) => true,
        syn::Pat::Ident(p) => p.ident == "None",
        syn::Pat::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "None"),
        syn::Pat::TupleStruct(p) => p.path.segments.last().is_some_and(|s| s.ident == "Err"),
        _ => false,
    }
}
