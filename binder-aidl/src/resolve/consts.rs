//! Evaluation of every constant, enumerator and field default of a [`Model`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use super::{DeclInfo, Model, ResolvedType, Scope, decl_at, join, lookup_loaded, name_span};
use crate::ast::{Const, Decl, ExprKind, Field, QualifiedName};
use crate::consteval::{ConstType, Evaluator, IntKind, Value};
use crate::diagnostic::{Diagnostic, Span};

/// How deep references between constants may nest before evaluation gives up (a guard
/// against exhausting the stack on pathological inputs).
const MAX_DEPTH: usize = 64;

/// A constant or enumerator that other expressions may refer to.
#[derive(Debug, Clone)]
enum Item {
    /// The `.1`th constant of the declaration `.0`.
    Const(String, usize),
    /// The `.1`th enumerator of the enum `.0`.
    Enumerator(String, usize),
}

#[derive(Debug, Clone)]
enum State {
    InProgress,
    /// The value references get.
    Done(Value),
    Failed,
}

struct Frame {
    key: String,
    /// A reference in this evaluation found a failed or cyclic item, already reported; the
    /// evaluation's own error is a consequence and is not reported again.
    poisoned: bool,
}

struct ConstEval<'m> {
    model: &'m Model,
    items: HashMap<String, Item>,
    backing: HashMap<String, IntKind>,
    state: RefCell<HashMap<String, State>>,
    stack: RefCell<Vec<Frame>>,
    values: RefCell<HashMap<String, Value>>,
    diags: RefCell<Vec<Diagnostic>>,
    /// Whether the nesting limit was reported (once per load: every chain past it fails).
    depth_reported: std::cell::Cell<bool>,
}

fn consts_of(decl: &Decl) -> &[Const] {
    match decl {
        Decl::Interface(d) => &d.consts,
        Decl::Parcelable(d) => &d.consts,
        Decl::Union(d) => &d.consts,
        Decl::UnstructuredParcelable(_) | Decl::Enum(_) => &[],
    }
}

fn fields_of(decl: &Decl) -> &[Field] {
    match decl {
        Decl::Parcelable(d) => &d.fields,
        Decl::Union(d) => &d.fields,
        _ => &[],
    }
}

fn int_type(kind: IntKind) -> ConstType {
    match kind {
        IntKind::Int8 => ConstType::Byte,
        IntKind::Int32 => ConstType::Int,
        IntKind::Int64 => ConstType::Long,
    }
}

/// The scope inside the declaration `info`: its enclosing declarations and itself.
pub(super) fn scope_of(model: &Model, info: &DeclInfo) -> Scope {
    let mut scope = Scope {
        file: info.file,
        chain: Vec::new(),
        type_params: Vec::new(),
    };
    let doc = &model.files[info.file].document;
    let mut prefix = info.package.clone();
    for depth in 1..=info.path.len() {
        if let Some(decl) = decl_at(doc, &info.path[..depth]) {
            prefix = join(&prefix, &[decl.name()]);
            scope = scope.enter(prefix.clone(), decl);
        }
    }
    scope
}

/// Declarations in file order, then source order, outer before inner.
pub(super) fn ordered(model: &Model) -> Vec<&DeclInfo> {
    let mut infos: Vec<&DeclInfo> = model.declarations().collect();
    infos.sort_by(|a, b| (a.file, &a.path).cmp(&(b.file, &b.path)));
    infos
}

/// Computes every value into `model`, reporting errors to `diags`.
pub(super) fn evaluate(model: &mut Model, diags: &mut Vec<Diagnostic>) {
    let (values, backing, found) = {
        let mut eval = ConstEval {
            model,
            items: HashMap::new(),
            backing: HashMap::new(),
            state: RefCell::new(HashMap::new()),
            stack: RefCell::new(Vec::new()),
            values: RefCell::new(HashMap::new()),
            diags: RefCell::new(Vec::new()),
            depth_reported: std::cell::Cell::new(false),
        };
        eval.collect();
        eval.run();
        (
            eval.values.into_inner(),
            eval.backing,
            eval.diags.into_inner(),
        )
    };
    model.values = values;
    model.backing = backing;
    diags.extend(found);
}

impl ConstEval<'_> {
    fn collect(&mut self) {
        let model = self.model;
        for info in ordered(model) {
            let Some(decl) = model.decl_node(&info.fqn) else {
                continue;
            };
            let path = &model.files[info.file].document.path;
            for (i, c) in consts_of(decl).iter().enumerate() {
                self.items
                    .entry(join(&info.fqn, std::slice::from_ref(&c.name.name)))
                    .or_insert_with(|| Item::Const(info.fqn.clone(), i));
            }
            if let Decl::Enum(e) = decl {
                for (i, en) in e.enumerators.iter().enumerate() {
                    self.items
                        .entry(join(&info.fqn, std::slice::from_ref(&en.name.name)))
                        .or_insert_with(|| Item::Enumerator(info.fqn.clone(), i));
                }
                let kind = self.backing_type(e, path);
                self.backing.insert(info.fqn.clone(), kind);
            }
        }
    }

    /// The backing type from `@Backing(type="...")`; `byte` without it (AOSP's default).
    fn backing_type(&self, e: &crate::ast::Enum, path: &Path) -> IntKind {
        let Some(ann) = e.annotations.iter().find(|a| a.name == "Backing") else {
            return IntKind::Int8;
        };
        let message = match ann.param("type").map(|v| (&v.kind, v.span)) {
            Some((ExprKind::String(s), span)) => match s.value.as_str() {
                "byte" => return IntKind::Int8,
                "int" => return IntKind::Int32,
                "long" => return IntKind::Int64,
                other => (
                    span,
                    format!(
                        "`{other}` cannot back an enum; the backing type must be \"byte\", \
                         \"int\" or \"long\""
                    ),
                ),
            },
            Some((_, span)) => (
                span,
                "the backing type must be a string: \"byte\", \"int\" or \"long\"".to_string(),
            ),
            None => (
                ann.span,
                "`@Backing` needs a `type` parameter: \"byte\", \"int\" or \"long\"".to_string(),
            ),
        };
        self.diags
            .borrow_mut()
            .push(Diagnostic::new(path, message.0, message.1));
        IntKind::Int8
    }

    fn run(&self) {
        let model = self.model;
        for info in ordered(model) {
            let Some(decl) = model.decl_node(&info.fqn) else {
                continue;
            };
            for c in consts_of(decl) {
                self.value_of(&join(&info.fqn, std::slice::from_ref(&c.name.name)), None);
            }
            if let Decl::Enum(e) = decl {
                for en in &e.enumerators {
                    self.value_of(&join(&info.fqn, std::slice::from_ref(&en.name.name)), None);
                }
            }
            for f in fields_of(decl) {
                self.field_default(info, f);
            }
        }
    }

    fn poison_caller(&self) {
        if let Some(frame) = self.stack.borrow_mut().last_mut() {
            frame.poisoned = true;
        }
    }

    /// The value references to `key` get, evaluating it on first use. `from` is the reference
    /// (file and position), for cycle reports.
    fn value_of(&self, key: &str, from: Option<(&Path, Span)>) -> Option<Value> {
        let state = self.state.borrow().get(key).cloned();
        match state {
            Some(State::Done(v)) => return Some(v),
            Some(State::Failed) => {
                self.poison_caller();
                return None;
            }
            Some(State::InProgress) => {
                if let Some((path, span)) = from {
                    let stack = self.stack.borrow();
                    let start = stack.iter().position(|f| f.key == key).unwrap_or(0);
                    let mut chain: Vec<&str> =
                        stack[start..].iter().map(|f| f.key.as_str()).collect();
                    chain.push(key);
                    self.diags.borrow_mut().push(Diagnostic::new(
                        path,
                        span,
                        format!("constant `{key}` refers to itself: {}", chain.join(" -> ")),
                    ));
                }
                self.poison_caller();
                return None;
            }
            None => {}
        }
        if self.stack.borrow().len() >= MAX_DEPTH {
            if let Some((path, span)) = from
                && !self.depth_reported.replace(true)
            {
                self.diags.borrow_mut().push(Diagnostic::new(
                    path,
                    span,
                    format!("constant references nest more than {MAX_DEPTH} deep"),
                ));
            }
            self.poison_caller();
            return None;
        }
        let item = self.items.get(key)?.clone();
        self.state
            .borrow_mut()
            .insert(key.to_string(), State::InProgress);
        self.stack.borrow_mut().push(Frame {
            key: key.to_string(),
            poisoned: false,
        });
        let result = self.compute(&item);
        let poisoned = self.stack.borrow_mut().pop().is_some_and(|f| f.poisoned);
        match result {
            Ok((raw, typed)) => {
                self.values.borrow_mut().insert(key.to_string(), typed);
                self.state
                    .borrow_mut()
                    .insert(key.to_string(), State::Done(raw.clone()));
                Some(raw)
            }
            Err(diag) => {
                if !poisoned {
                    self.diags.borrow_mut().push(diag);
                }
                self.state
                    .borrow_mut()
                    .insert(key.to_string(), State::Failed);
                self.poison_caller();
                None
            }
        }
    }

    /// The item a constant reference `name`, written in `scope` of file `path`, means.
    fn lookup(&self, scope: &Scope, path: &Path, name: &QualifiedName) -> Option<Value> {
        let (last, type_parts) = name.parts.split_last()?;
        let key = if type_parts.is_empty() {
            scope
                .chain
                .iter()
                .rev()
                .map(|s| join(s, std::slice::from_ref(last)))
                .find(|k| self.items.contains_key(k))?
        } else {
            match lookup_loaded(self.model, scope, type_parts)? {
                ResolvedType::Declared(fqn) => join(&fqn, std::slice::from_ref(last)),
                _ => return None,
            }
        };
        self.value_of(&key, Some((path, name.span)))
    }

    /// Evaluates an item: the value references get and the value the model records.
    fn compute(&self, item: &Item) -> Result<(Value, Value), Diagnostic> {
        let (decl_fqn, index) = match item {
            Item::Const(d, i) | Item::Enumerator(d, i) => (d, *i),
        };
        let model = self.model;
        let info = model
            .decl(decl_fqn)
            .ok_or_else(|| Diagnostic::new(Path::new(""), Span::new(0, 0), "internal"))?;
        let decl = model
            .decl_node(decl_fqn)
            .ok_or_else(|| Diagnostic::new(Path::new(""), Span::new(0, 0), "internal"))?;
        let path = model.files[info.file].document.path.as_path();
        let scope = scope_of(model, info);
        let resolve = |name: &QualifiedName| self.lookup(&scope, path, name);
        let eval = Evaluator::new(path, &resolve);
        match (item, decl) {
            (Item::Const(..), _) => {
                let Some(c) = consts_of(decl).get(index) else {
                    return Err(Diagnostic::new(path, name_span(decl), "internal"));
                };
                let Some(ty) = eval.const_type(&c.ty)? else {
                    return Err(Diagnostic::new(
                        path,
                        c.ty.span,
                        format!(
                            "the constant `{}` must have a primitive type, String, or an array \
                             of them",
                            c.name.name
                        ),
                    ));
                };
                let raw = eval.eval(&c.value)?;
                let typed = eval.coerce(raw.clone(), &ty, c.value.start())?;
                Ok((raw, typed))
            }
            (Item::Enumerator(..), Decl::Enum(e)) => {
                let kind = self.backing.get(decl_fqn).copied().unwrap_or(IntKind::Int8);
                let Some(en) = e.enumerators.get(index) else {
                    return Err(Diagnostic::new(path, name_span(decl), "internal"));
                };
                if let Some(v) = &en.value {
                    let typed = eval.eval_as(v, &int_type(kind))?;
                    return Ok((typed.clone(), typed));
                }
                let value = match index.checked_sub(1).and_then(|p| e.enumerators.get(p)) {
                    None => 0,
                    Some(prev) => {
                        let prev_key = join(decl_fqn, std::slice::from_ref(&prev.name.name));
                        let prev_value = self.value_of(&prev_key, None);
                        let Some(Value::Int { value, .. }) = prev_value else {
                            // The previous enumerator's error is reported already.
                            self.poison_caller();
                            return Err(Diagnostic::new(path, en.name.span, "unreachable"));
                        };
                        match value.checked_add(1) {
                            Some(v) if v <= kind.max_value() => v,
                            _ => {
                                return Err(Diagnostic::new(
                                    path,
                                    en.name.span,
                                    format!(
                                        "the enumerator `{}` would be {} (the previous one plus \
                                         one), which does not fit the backing type `{}`",
                                        en.name.name,
                                        i128::from(value) + 1,
                                        kind.aidl_name()
                                    ),
                                ));
                            }
                        }
                    }
                };
                let typed = Value::Int { value, kind };
                Ok((typed.clone(), typed))
            }
            (Item::Enumerator(..), _) => Err(Diagnostic::new(path, name_span(decl), "internal")),
        }
    }

    fn field_default(&self, info: &DeclInfo, field: &Field) {
        let Some(default) = &field.default else {
            return;
        };
        let model = self.model;
        let path = model.files[info.file].document.path.as_path();
        let scope = scope_of(model, info);
        let resolve = |name: &QualifiedName| self.lookup(&scope, path, name);
        let eval = Evaluator::new(path, &resolve);
        let key = join(&info.fqn, std::slice::from_ref(&field.name.name));
        self.stack.borrow_mut().push(Frame {
            key: key.clone(),
            poisoned: false,
        });
        let result = (|| {
            if let Some(ty) = eval.const_type(&field.ty)? {
                return eval.eval_as(default, &ty);
            }
            let enum_kind = match model.resolved_type(info.file, &field.ty) {
                Some(ResolvedType::Declared(fqn)) if field.ty.array.is_none() => {
                    self.backing.get(fqn).copied()
                }
                _ => None,
            };
            match enum_kind {
                Some(kind) => eval.eval_as(default, &int_type(kind)),
                None => eval.eval(default),
            }
        })();
        let poisoned = self.stack.borrow_mut().pop().is_some_and(|f| f.poisoned);
        match result {
            Ok(v) => {
                self.values.borrow_mut().insert(key, v);
            }
            Err(d) if !poisoned => self.diags.borrow_mut().push(d),
            Err(_) => {}
        }
    }
}
