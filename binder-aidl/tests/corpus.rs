//! Parses every file of `tests/corpus` and checks the tree's structure.

use std::path::{Path, PathBuf};

use binder_aidl::ast::*;
use binder_aidl::consteval::{ConstType, Evaluator, Value};

fn corpus_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/com/example")
        .join(name)
}

fn parse_corpus(name: &str) -> Document {
    let path = corpus_path(name);
    let text = std::fs::read_to_string(&path).expect("corpus file");
    match binder_aidl::parse(&path, &text) {
        Ok(doc) => doc,
        Err(diags) => {
            let shown: Vec<String> = diags.iter().map(ToString::to_string).collect();
            panic!("{name} did not parse:\n{}", shown.join("\n"));
        }
    }
}

fn qn(s: &str) -> QualifiedName {
    QualifiedName {
        parts: s.split('.').map(str::to_string).collect(),
        span: Span::new(0, 0),
    }
}

fn named(ty: &TypeRef) -> String {
    match &ty.name {
        TypeName::Primitive(p) => p.as_str().to_string(),
        TypeName::Named(n) => n.to_string(),
    }
}

fn ann_names(anns: &[Annotation]) -> Vec<&str> {
    anns.iter().map(|a| a.name.as_str()).collect()
}

fn string_param(ann: &Annotation, name: &str) -> String {
    match ann.param(name).map(|e| &e.kind) {
        Some(ExprKind::String(s)) => s.value.clone(),
        other => panic!("@{} has no string parameter {name}: {other:?}", ann.name),
    }
}

fn no_refs(_: &QualifiedName) -> Option<Value> {
    None
}

fn int(value: i64, kind: binder_aidl::consteval::IntKind) -> Value {
    Value::Int { value, kind }
}

#[test]
fn every_corpus_file_parses() {
    let dir = corpus_path("");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "aidl") {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let doc = parse_corpus(&name);
            assert_eq!(doc.path, path);
            assert!(!doc.decls.is_empty(), "{name}");
            count += 1;
        }
    }
    assert_eq!(count, 8);
}

#[test]
fn interface_header_imports_and_docs() {
    let doc = parse_corpus("IGadgetService.aidl");
    assert_eq!(doc.package.as_ref().unwrap().to_string(), "com.example");
    assert_eq!(doc.package.as_ref().unwrap().span, Span::new(4, 9));
    let imports: Vec<String> = doc.imports.iter().map(|i| i.name.to_string()).collect();
    assert_eq!(
        imports,
        [
            "com.example.Gadget",
            "com.example.IGadgetListener",
            "android.os.ParcelFileDescriptor"
        ]
    );
    assert_eq!(doc.imports[0].span, Span::new(6, 1));
    assert_eq!(doc.decls.len(), 1);
    let Decl::Interface(iface) = &doc.decls[0] else {
        panic!("not an interface")
    };
    assert_eq!(iface.name.name, "IGadgetService");
    assert_eq!(iface.name.span, Span::new(17, 11));
    // The declaration starts at its first annotation.
    assert_eq!(iface.span, Span::new(15, 1));
    assert_eq!(
        iface.doc.as_deref(),
        Some("Hands out gadgets.\n\nSecond paragraph.")
    );
    assert_eq!(
        ann_names(&iface.annotations),
        ["VintfStability", "Descriptor"]
    );
    assert_eq!(
        string_param(&iface.annotations[1], "value"),
        "com.example.IGadgetService"
    );
    assert!(matches!(iface.annotations[0].args, AnnotationArgs::None));
    assert!(!iface.oneway);
    assert!(!iface.forward);
}

#[test]
fn interface_methods() {
    let doc = parse_corpus("IGadgetService.aidl");
    let Decl::Interface(iface) = &doc.decls[0] else {
        panic!()
    };
    let names: Vec<&str> = iface.methods.iter().map(|m| m.name.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "count",
            "describe",
            "fill",
            "notifyAll",
            "legacy",
            "list",
            "byOwner",
            "open",
            "listen"
        ]
    );

    let count = &iface.methods[0];
    assert_eq!(count.doc.as_deref(), Some("Counts gadgets."));
    assert_eq!(
        count.return_type.as_ref().map(named).as_deref(),
        Some("int")
    );
    assert!(count.args.is_empty());
    assert_eq!(count.id, None);
    assert_eq!(count.span, Span::new(25, 5));

    // A line comment is not documentation; the return type's annotation is the method's.
    let describe = &iface.methods[1];
    assert_eq!(describe.doc, None);
    assert_eq!(ann_names(&describe.annotations), ["nullable"]);
    let ret = describe.return_type.as_ref().unwrap();
    assert_eq!(named(ret), "String");
    assert!(ret.annotations.is_empty());
    assert_eq!(describe.args[0].direction, Some(Direction::In));
    assert_eq!(named(&describe.args[0].ty), "Gadget");

    let fill = &iface.methods[2];
    assert_eq!(fill.return_type, None);
    let dirs: Vec<_> = fill.args.iter().map(|a| a.direction).collect();
    assert_eq!(
        dirs,
        [
            Some(Direction::Out),
            Some(Direction::InOut),
            Some(Direction::In)
        ]
    );
    assert_eq!(fill.args[0].ty.array, Some(ArrayKind::Dynamic));
    assert_eq!(fill.args[1].ty.name, TypeName::Primitive(Primitive::Int));
    assert_eq!(ann_names(&fill.args[2].annotations), ["nullable"]);
    assert_eq!(fill.args[2].name.name, "token");
    assert_eq!(fill.args[2].span, Span::new(30, 57));

    let notify = &iface.methods[3];
    assert!(notify.oneway);
    assert_eq!(notify.args[1].direction, None);

    // Annotations before and after `oneway` are kept together, in order.
    let legacy = &iface.methods[4];
    assert!(legacy.oneway);
    assert_eq!(
        ann_names(&legacy.annotations),
        ["UnsupportedAppUsage", "JavaPassthrough"]
    );
    assert_eq!(string_param(&legacy.annotations[1], "annotation"), "@Hide");

    let list = iface.methods[5].return_type.as_ref().unwrap();
    assert_eq!(named(list), "List");
    assert_eq!(list.args.len(), 1);
    assert_eq!(named(&list.args[0]), "Gadget");

    // `>>` closes two argument lists.
    let by_owner = iface.methods[6].return_type.as_ref().unwrap();
    assert_eq!(named(by_owner), "Map");
    assert_eq!(by_owner.args.len(), 2);
    assert_eq!(named(&by_owner.args[1]), "List");
    assert_eq!(named(&by_owner.args[1].args[0]), "Gadget");

    assert_eq!(iface.methods[8].args[0].direction, None);
}

#[test]
fn interface_consts_and_nested_types() {
    let doc = parse_corpus("IGadgetService.aidl");
    let Decl::Interface(iface) = &doc.decls[0] else {
        panic!()
    };
    let names: Vec<&str> = iface.consts.iter().map(|c| c.name.name.as_str()).collect();
    assert_eq!(names, ["CAPACITY", "BIG", "NAME", "ENABLED"]);
    assert_eq!(
        iface.consts[0].doc.as_deref(),
        Some("How many gadgets fit.")
    );
    assert_eq!(ann_names(&iface.consts[2].annotations), ["utf8InCpp"]);
    assert_eq!(ann_names(&iface.consts[3].annotations), ["JavaPassthrough"]);

    let eval = Evaluator::new(&doc.path, &no_refs);
    let values: Vec<Value> = iface
        .consts
        .iter()
        .map(|c| {
            let ty = eval.const_type(&c.ty).unwrap().unwrap();
            eval.eval_as(&c.value, &ty).unwrap()
        })
        .collect();
    use binder_aidl::consteval::IntKind::*;
    assert_eq!(
        values,
        [
            int(16, Int32),
            int(1 << 40, Int64),
            Value::String("gadgets".into()),
            Value::Bool(true)
        ]
    );

    assert_eq!(iface.nested.len(), 3);
    let Decl::Enum(mode) = &iface.nested[0] else {
        panic!()
    };
    assert_eq!(mode.name.name, "Mode");
    assert_eq!(mode.doc.as_deref(), Some("A nested enum."));
    assert_eq!(string_param(&mode.annotations[0], "type"), "int");
    let enumerators: Vec<&str> = mode
        .enumerators
        .iter()
        .map(|e| e.name.name.as_str())
        .collect();
    assert_eq!(enumerators, ["FAST", "SLOW"]);
    let Decl::Parcelable(stats) = &iface.nested[1] else {
        panic!()
    };
    assert_eq!(stats.fields.len(), 2);
    let Decl::Interface(callback) = &iface.nested[2] else {
        panic!()
    };
    assert_eq!(callback.methods[0].name.name, "done");
}

#[test]
fn oneway_interface_with_ids() {
    let doc = parse_corpus("IOrdered.aidl");
    let Decl::Interface(iface) = &doc.decls[0] else {
        panic!()
    };
    assert!(iface.oneway);
    let ids: Vec<i32> = iface.methods.iter().map(|m| m.id.unwrap().value).collect();
    assert_eq!(ids, [10, 11, i32::MAX]);
    assert_eq!(iface.methods[0].id.unwrap().span, Span::new(4, 20));
    // The methods themselves are not marked oneway: the interface is.
    assert!(iface.methods.iter().all(|m| !m.oneway));
    let prims: Vec<String> = iface.methods[2].args.iter().map(|a| named(&a.ty)).collect();
    assert_eq!(prims, ["char", "boolean", "float", "double"]);
    assert_eq!(named(&iface.methods[1].args[0].ty), "byte");
}

#[test]
fn structured_parcelable_fields_and_defaults() {
    let doc = parse_corpus("Gadget.aidl");
    let Decl::Parcelable(p) = &doc.decls[0] else {
        panic!()
    };
    assert_eq!(p.name.name, "Gadget");
    assert_eq!(p.doc.as_deref(), Some("A gadget."));
    assert_eq!(ann_names(&p.annotations), ["JavaDerive", "RustDerive"]);
    let AnnotationArgs::Named(params) = &p.annotations[1].args else {
        panic!()
    };
    let keys: Vec<&str> = params.iter().map(|p| p.name.name.as_str()).collect();
    assert_eq!(keys, ["Clone", "PartialEq"]);
    assert!(p.type_params.is_empty());
    assert_eq!(p.consts.len(), 1);
    assert_eq!(p.consts[0].doc.as_deref(), Some("Doc for a constant."));

    let fields: Vec<&str> = p.fields.iter().map(|f| f.name.name.as_str()).collect();
    assert_eq!(
        fields,
        [
            "name", "shiny", "flags", "letter", "count", "serial", "weight", "price", "color",
            "sizes", "tags", "grid", "child", "boxed", "parts"
        ]
    );
    assert_eq!(p.fields[0].doc.as_deref(), Some("The gadget's name."));
    assert_eq!(ann_names(&p.fields[0].annotations), ["utf8InCpp"]);
    let heap = &p.fields[13].annotations[0];
    assert_eq!(heap.name, "nullable");
    assert!(matches!(
        heap.param("heap").map(|e| &e.kind),
        Some(ExprKind::Bool(true))
    ));
    assert!(p.fields[12].default.is_none());

    // Defaults, evaluated against the field types. `Color.RED` needs the resolver.
    let resolve = |name: &QualifiedName| {
        (name == &qn("Color.RED")).then_some(Value::Int {
            value: 1,
            kind: binder_aidl::consteval::IntKind::Int8,
        })
    };
    let resolve_max = |name: &QualifiedName| {
        (name == &qn("MAX_PARTS")).then_some(Value::Int {
            value: 8,
            kind: binder_aidl::consteval::IntKind::Int32,
        })
    };
    let eval = Evaluator::new(&doc.path, &resolve);
    let mut shown = Vec::new();
    for field in &p.fields {
        let Some(default) = &field.default else {
            continue;
        };
        let value = match eval.const_type(&field.ty).unwrap() {
            Some(ty) => eval.eval_as(default, &ty).unwrap(),
            None => eval.eval(default).unwrap(), // the enum-typed field
        };
        shown.push(format!("{}={value}", field.name.name));
    }
    assert_eq!(
        shown,
        [
            "name=\"unnamed\"",
            "shiny=true",
            "flags=127",
            "letter='G'",
            "count=-1",
            "serial=1099511627775",
            "weight=1.5f",
            "price=2500.0",
            "color=1",
            "sizes={1, 2, 3}",
            "tags={}",
            "grid={{1, 2, 3}, {4, 5, 6}}"
        ]
    );

    // `byte[2][3]`: fixed sizes, outermost first.
    let grid = &p.fields[11].ty;
    let Some(ArrayKind::Fixed(dims)) = &grid.array else {
        panic!()
    };
    assert_eq!(dims.len(), 2);
    assert_eq!(
        eval.const_type(grid).unwrap().unwrap().to_string(),
        "byte[2][3]",
        "sizes evaluate to a nested fixed-size type"
    );
    // `int[MAX_PARTS]`: a size given by a constant.
    let eval_max = Evaluator::new(&doc.path, &resolve_max);
    assert_eq!(
        eval_max.const_type(&p.fields[14].ty).unwrap().unwrap(),
        ConstType::Array {
            element: Box::new(ConstType::Int),
            len: Some(8)
        }
    );

    let Decl::Enum(kind) = &p.nested[0] else {
        panic!()
    };
    assert_eq!(kind.name.name, "Kind");
    assert_eq!(kind.enumerators.len(), 2);
}

#[test]
fn generic_parcelable() {
    let doc = parse_corpus("Pair.aidl");
    let Decl::Parcelable(p) = &doc.decls[0] else {
        panic!()
    };
    let params: Vec<&str> = p.type_params.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(params, ["A", "B"]);
    assert_eq!(named(&p.fields[0].ty), "A");
    let nested = &p.fields[2].ty;
    assert_eq!(named(nested), "List");
    let inner = &nested.args[0];
    assert_eq!(named(inner), "Pair");
    let inner_args: Vec<String> = inner.args.iter().map(named).collect();
    assert_eq!(inner_args, ["A", "B"]);
}

#[test]
fn enum_with_backing_values_and_trailing_comma() {
    let doc = parse_corpus("Color.aidl");
    let Decl::Enum(e) = &doc.decls[0] else {
        panic!()
    };
    assert_eq!(e.doc.as_deref(), Some("Colors."));
    assert_eq!(string_param(&e.annotations[0], "type"), "byte");
    let names: Vec<&str> = e.enumerators.iter().map(|x| x.name.name.as_str()).collect();
    assert_eq!(names, ["RED", "GREEN", "BLUE", "ALL", "WHITE"]);
    assert_eq!(e.enumerators[0].doc.as_deref(), Some("The first."));
    assert_eq!(e.enumerators[0].span, Span::new(7, 5));
    assert!(e.enumerators[1].value.is_none());

    // Values, with a resolver that knows RED and GREEN (what the resolver will compute).
    let resolve = |name: &QualifiedName| match name.to_string().as_str() {
        "RED" => Some(Value::Int {
            value: 1,
            kind: binder_aidl::consteval::IntKind::Int8,
        }),
        "GREEN" => Some(Value::Int {
            value: 2,
            kind: binder_aidl::consteval::IntKind::Int8,
        }),
        "BLUE" => Some(Value::Int {
            value: 11,
            kind: binder_aidl::consteval::IntKind::Int8,
        }),
        _ => None,
    };
    let eval = Evaluator::new(&doc.path, &resolve);
    let values: Vec<String> = e
        .enumerators
        .iter()
        .filter_map(|x| x.value.as_ref())
        .map(|v| eval.eval_as(v, &ConstType::Byte).unwrap().to_string())
        .collect();
    assert_eq!(values, ["1", "11", "11", "-1"]);
}

#[test]
fn union_like_parcelable() {
    let doc = parse_corpus("Shape.aidl");
    let Decl::Union(u) = &doc.decls[0] else {
        panic!()
    };
    assert_eq!(u.name.name, "Shape");
    assert_eq!(u.consts[0].name.name, "UNIT");
    let fields: Vec<&str> = u.fields.iter().map(|f| f.name.name.as_str()).collect();
    assert_eq!(fields, ["circle", "named", "polygon", "point"]);
    assert!(
        matches!(&u.fields[0].default.as_ref().unwrap().kind, ExprKind::Ref(n) if n.to_string() == "UNIT")
    );
    let point = &u.fields[3].ty;
    let args: Vec<String> = point.args.iter().map(named).collect();
    assert_eq!(args, ["int", "int"]);
}

#[test]
fn unstructured_parcelables_and_several_decls() {
    let doc = parse_corpus("Legacy.aidl");
    assert_eq!(
        doc.package.as_ref().unwrap().to_string(),
        "com.example.legacy"
    );
    assert_eq!(doc.decls.len(), 5);
    let Decl::UnstructuredParcelable(legacy) = &doc.decls[0] else {
        panic!()
    };
    assert_eq!(
        legacy.doc.as_deref(),
        Some("A parcelable written by hand in each language.")
    );
    assert_eq!(ann_names(&legacy.annotations), ["JavaOnlyStableParcelable"]);
    assert_eq!(legacy.cpp_header.as_ref().unwrap().value, "legacy/Legacy.h");
    assert_eq!(
        legacy.ndk_header.as_ref().unwrap().value,
        "aidl/legacy/Legacy.h"
    );
    assert_eq!(legacy.rust_type.as_ref().unwrap().value, "legacy::Legacy");
    assert_eq!(legacy.cpp_header.as_ref().unwrap().span, Span::new(5, 30));

    let Decl::UnstructuredParcelable(java_only) = &doc.decls[1] else {
        panic!()
    };
    assert_eq!(java_only.name.to_string(), "JavaOnly");
    assert!(java_only.cpp_header.is_none() && java_only.rust_type.is_none());

    // Nested class names are allowed for unstructured parcelables.
    assert_eq!(doc.decls[2].name(), "Outer.Inner");

    let Decl::UnstructuredParcelable(holder) = &doc.decls[3] else {
        panic!()
    };
    assert_eq!(holder.type_params[0].name, "T");
    assert_eq!(holder.rust_type.as_ref().unwrap().value, "crate::Holder");

    let Decl::Interface(forward) = &doc.decls[4] else {
        panic!()
    };
    assert!(forward.forward);
    assert!(forward.methods.is_empty());
}

/// The expression corpus: checks the tree shape of precedence and associativity.
#[test]
fn expression_shapes() {
    let doc = parse_corpus("Exprs.aidl");
    let Decl::Interface(iface) = &doc.decls[0] else {
        panic!()
    };
    let value = |name: &str| {
        &iface
            .consts
            .iter()
            .find(|c| c.name.name == name)
            .unwrap()
            .value
    };

    fn render(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Int(i) => i.text.clone(),
            ExprKind::Float(f) => f.text.clone(),
            ExprKind::Char(c) => format!("'{}'", c.raw),
            ExprKind::String(s) => format!("\"{}\"", s.raw),
            ExprKind::Ref(n) => n.to_string(),
            ExprKind::Unary { op, operand } => format!("({}{})", op.as_str(), render(operand)),
            ExprKind::Binary { op, lhs, rhs } => {
                format!("({} {} {})", render(lhs), op.as_str(), render(rhs))
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                format!(
                    "({} ? {} : {})",
                    render(cond),
                    render(then),
                    render(otherwise)
                )
            }
            ExprKind::Array(items) => {
                format!(
                    "{{{}}}",
                    items.iter().map(render).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }

    let cases = [
        ("PREC", "(1 + (2 * 3))"),
        ("PARENS", "((1 + 2) * 3)"),
        ("SHIFTS", "(1 << (2 + 1))"),
        ("CMP", "((1 < 2) == (2 > 1))"),
        ("LOGIC", "(true || (false && false))"),
        ("BITS", "(1 | (2 ^ (3 & 4)))"),
        ("UNARY", "(-(~(+1)))"),
        ("NOT", "(!false)"),
        ("TERNARY", "((1 > 2) ? 10 : ((2 > 1) ? 20 : 30))"),
        ("REFS", "((IFoo.BAR + com.example.Other.BAZ) + LOCAL)"),
        ("CAT", "((\"a\" + \"b\") + NAME)"),
        (
            "SUFFIXES",
            "(((((((1l + 2L) + 3u8) + 4i8) + 5u32) + 6i32) + 7u64) + 8i64)",
        ),
        ("FLOATS", ".5"),
        ("F", "1e3f"),
        ("C", "' '"),
        ("ARR", "{1, (-2), (3 * 4)}"),
        ("MOD", "((7 % 3) - (8 / 2))"),
        ("REL", "(((1 <= 2) && (3 >= 2)) && (1 != 2))"),
        ("SHR", "(256 >> 4)"),
    ];
    for (name, expected) in cases {
        assert_eq!(render(value(name)), expected, "{name}");
    }

    // The operator's position is the span of a binary expression.
    assert_eq!(value("PREC").span, Span::new(4, 24));

    let refs = |name: &QualifiedName| match name.to_string().as_str() {
        "IFoo.BAR" => Some(Value::Int {
            value: 1,
            kind: binder_aidl::consteval::IntKind::Int32,
        }),
        "com.example.Other.BAZ" => Some(Value::Int {
            value: 10,
            kind: binder_aidl::consteval::IntKind::Int32,
        }),
        "LOCAL" => Some(Value::Int {
            value: 100,
            kind: binder_aidl::consteval::IntKind::Int32,
        }),
        "NAME" => Some(Value::String("c".into())),
        _ => None,
    };
    let eval = Evaluator::new(&doc.path, &refs);
    let results: Vec<String> = iface
        .consts
        .iter()
        .map(|c| {
            let ty = eval.const_type(&c.ty).unwrap().unwrap();
            eval.eval_as(&c.value, &ty).unwrap().to_string()
        })
        .collect();
    assert_eq!(
        results,
        [
            "7",
            "9",
            "8",
            "true",
            "true",
            "3",
            "2",
            "true",
            "20",
            "111",
            "\"abc\"",
            "36",
            "0.5",
            "1000.0f",
            "' '",
            "{1, -2, 12}",
            "-3",
            "true",
            "16"
        ]
    );
}
