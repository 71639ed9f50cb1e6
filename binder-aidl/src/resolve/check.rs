//! The semantic checks of a resolved [`Model`] (listed on [`super::Loader::load`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::consts::ordered;
use super::{Builtin, Model, ResolvedType, name_span};
use crate::ast::{ArrayKind, Decl, Direction, Ident, Interface, TypeName, TypeRef};
use crate::diagnostic::{Diagnostic, Span};

/// The largest explicit method id: `LAST_CALL_TRANSACTION - FIRST_CALL_TRANSACTION`.
pub(super) const MAX_METHOD_ID: i32 = 0x00ff_ffff - 1;

/// Runs every check, appending to `diags`.
pub(super) fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for file in model.files() {
        check_file(&file.document, diags);
    }
    for info in ordered(model) {
        let Some(decl) = model.decl_node(&info.fqn) else {
            continue;
        };
        let path = &model.files()[info.file].document.path;
        check_member_names(decl, &info.fqn, path, diags);
        if let Decl::Interface(iface) = decl {
            check_interface(model, info.file, iface, path, diags);
        }
    }
}

fn check_file(doc: &crate::ast::Document, diags: &mut Vec<Diagnostic>) {
    for extra in doc.decls.iter().skip(1) {
        diags.push(Diagnostic::new(
            &doc.path,
            name_span(extra),
            format!(
                "a file may declare only one top-level type; `{}` must go in a file of its own",
                extra.name()
            ),
        ));
    }
    let Some(decl) = doc.decls.first() else {
        return;
    };
    let mut expected = PathBuf::new();
    if let Some(package) = &doc.package {
        for part in &package.parts {
            expected.push(part);
        }
    }
    let name = decl.name();
    let top = name.split('.').next().unwrap_or_default();
    expected.push(format!("{top}.aidl"));
    if !doc.path.ends_with(&expected) {
        diags.push(Diagnostic::new(
            &doc.path,
            name_span(decl),
            format!(
                "`{name}` must be declared in a file whose path ends with `{}`",
                expected.display()
            ),
        ));
    }
}

/// Reports names declared twice among `names`, each at its second occurrence.
fn report_duplicates<'a>(
    names: impl IntoIterator<Item = &'a Ident>,
    what: &str,
    owner: &str,
    path: &Path,
    diags: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for name in names {
        if let Some(first) = seen.get(name.name.as_str()) {
            diags.push(Diagnostic::new(
                path,
                name.span,
                format!(
                    "{what} `{}` is already declared in `{owner}` at {first}",
                    name.name
                ),
            ));
        } else {
            seen.insert(&name.name, name.span);
        }
    }
}

fn check_member_names(decl: &Decl, fqn: &str, path: &Path, diags: &mut Vec<Diagnostic>) {
    match decl {
        Decl::Interface(d) => {
            report_duplicates(
                d.consts.iter().map(|c| &c.name),
                "a member",
                fqn,
                path,
                diags,
            );
        }
        Decl::Parcelable(d) => report_duplicates(
            d.fields
                .iter()
                .map(|f| &f.name)
                .chain(d.consts.iter().map(|c| &c.name)),
            "a member",
            fqn,
            path,
            diags,
        ),
        Decl::Union(d) => report_duplicates(
            d.fields
                .iter()
                .map(|f| &f.name)
                .chain(d.consts.iter().map(|c| &c.name)),
            "a member",
            fqn,
            path,
            diags,
        ),
        Decl::Enum(d) => report_duplicates(
            d.enumerators.iter().map(|e| &e.name),
            "an enumerator",
            fqn,
            path,
            diags,
        ),
        Decl::UnstructuredParcelable(_) => {}
    }
}

fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::In => "in",
        Direction::Out => "out",
        Direction::InOut => "inout",
    }
}

/// The type as written, for messages: `List<Foo>`, `int[]`.
fn type_string(ty: &TypeRef) -> String {
    let mut out = match &ty.name {
        TypeName::Primitive(p) => p.as_str().to_string(),
        TypeName::Named(n) => n.to_string(),
    };
    if !ty.args.is_empty() {
        let args: Vec<String> = ty.args.iter().map(type_string).collect();
        out.push('<');
        out.push_str(&args.join(", "));
        out.push('>');
    }
    match &ty.array {
        None => {}
        Some(ArrayKind::Dynamic) => out.push_str("[]"),
        Some(ArrayKind::Fixed(dims)) => {
            for _ in dims {
                out.push_str("[N]");
            }
        }
    }
    out
}

/// Whether a parameter of type `ty` may be `out` or `inout` (AOSP: arrays, `List`, `Map`,
/// `ParcelFileDescriptor`, and parcelables that are not `@JavaOnlyImmutable`).
fn can_be_out(model: &Model, file: usize, ty: &TypeRef) -> bool {
    if ty.array.is_some() {
        return true;
    }
    match model.resolved_type(file, ty) {
        Some(ResolvedType::Builtin(b)) => {
            matches!(
                b,
                Builtin::List | Builtin::Map | Builtin::ParcelFileDescriptor
            )
        }
        Some(ResolvedType::Declared(fqn)) => match model.decl_node(fqn) {
            Some(
                decl @ (Decl::Parcelable(_) | Decl::Union(_) | Decl::UnstructuredParcelable(_)),
            ) => !decl
                .annotations()
                .iter()
                .any(|a| a.name == "JavaOnlyImmutable"),
            _ => false,
        },
        _ => false,
    }
}

fn check_interface(
    model: &Model,
    file: usize,
    iface: &Interface,
    path: &Path,
    diags: &mut Vec<Diagnostic>,
) {
    let owner = &iface.name.name;
    report_duplicates(
        iface.methods.iter().map(|m| &m.name),
        "a method",
        owner,
        path,
        diags,
    );
    let with_ids = iface.methods.first().is_some_and(|m| m.id.is_some());
    let mut ids: HashMap<i32, &str> = HashMap::new();
    for m in &iface.methods {
        let name = &m.name.name;
        let oneway = m.oneway || iface.oneway;
        if oneway && let Some(ret) = &m.return_type {
            diags.push(Diagnostic::new(
                path,
                ret.span,
                format!("oneway method `{name}` cannot return a value"),
            ));
        }
        match (m.id, with_ids) {
            (None, true) => diags.push(Diagnostic::new(
                path,
                m.name.span,
                format!(
                    "method `{name}` has no id while other methods of `{owner}` do; give every \
                     method an id or none"
                ),
            )),
            (Some(id), false) => diags.push(Diagnostic::new(
                path,
                id.span,
                format!(
                    "method `{name}` has an id while other methods of `{owner}` do not; give \
                     every method an id or none"
                ),
            )),
            (Some(id), true) => {
                if !(0..=MAX_METHOD_ID).contains(&id.value) {
                    diags.push(Diagnostic::new(
                        path,
                        id.span,
                        format!(
                            "the id {} of method `{name}` is out of range: ids go from 0 to \
                             {MAX_METHOD_ID}",
                            id.value
                        ),
                    ));
                } else if let Some(first) = ids.get(&id.value) {
                    diags.push(Diagnostic::new(
                        path,
                        id.span,
                        format!(
                            "the id {} of method `{name}` is already used by method `{first}`",
                            id.value
                        ),
                    ));
                } else {
                    ids.insert(id.value, name);
                }
            }
            (None, false) => {}
        }
        report_duplicates(
            m.args.iter().map(|a| &a.name),
            "a parameter",
            &format!("{owner}.{name}"),
            path,
            diags,
        );
        for arg in &m.args {
            let ty = type_string(&arg.ty);
            if matches!(
                model.resolved_type(file, &arg.ty),
                Some(ResolvedType::Builtin(Builtin::ParcelableHolder))
            ) {
                diags.push(Diagnostic::new(
                    path,
                    arg.ty.span,
                    format!(
                        "the parameter `{}` cannot have the type `ParcelableHolder`",
                        arg.name.name
                    ),
                ));
                continue;
            }
            let out_ok = can_be_out(model, file, &arg.ty);
            match arg.direction {
                None if out_ok => diags.push(Diagnostic::new(
                    path,
                    arg.ty.span,
                    format!(
                        "the parameter `{}` of type `{ty}` needs a direction: `in`, `out` or \
                         `inout`",
                        arg.name.name
                    ),
                )),
                Some(dir @ (Direction::Out | Direction::InOut)) => {
                    if oneway {
                        diags.push(Diagnostic::new(
                            path,
                            arg.span,
                            format!(
                                "oneway method `{name}` cannot have the `{}` parameter `{}`",
                                direction_word(dir),
                                arg.name.name
                            ),
                        ));
                    } else if !out_ok {
                        diags.push(Diagnostic::new(
                            path,
                            arg.span,
                            format!(
                                "the parameter `{}` cannot be `{}`: a parameter of type `{ty}` \
                                 can only be `in`",
                                arg.name.name,
                                direction_word(dir)
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
}
