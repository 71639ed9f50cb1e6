//! Focused parser behaviour: doc comments, annotations on types, generics, spans.

use std::path::Path;

use binder_aidl::ast::*;

fn parse(text: &str) -> Document {
    binder_aidl::parse(Path::new("t.aidl"), text).unwrap_or_else(|e| {
        panic!(
            "{}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

fn only_decl(text: &str) -> Decl {
    let mut doc = parse(text);
    assert_eq!(doc.decls.len(), 1);
    doc.decls.remove(0)
}

fn show(ty: &TypeRef) -> String {
    let mut out = String::new();
    for a in &ty.annotations {
        out.push('@');
        out.push_str(&a.name);
        out.push(' ');
    }
    out.push_str(&match &ty.name {
        TypeName::Primitive(p) => p.as_str().to_string(),
        TypeName::Named(n) => n.to_string(),
    });
    if !ty.args.is_empty() {
        out.push('<');
        out.push_str(&ty.args.iter().map(show).collect::<Vec<_>>().join(", "));
        out.push('>');
    }
    match &ty.array {
        None => {}
        Some(ArrayKind::Dynamic) => out.push_str("[]"),
        Some(ArrayKind::Fixed(dims)) => {
            for d in dims {
                match &d.kind {
                    ExprKind::Int(i) => out.push_str(&format!("[{}]", i.text)),
                    ExprKind::Ref(n) => out.push_str(&format!("[{n}]")),
                    _ => out.push_str("[?]"),
                }
            }
        }
    }
    out
}

#[test]
fn nested_generics_close_with_shift_tokens() {
    let Decl::Parcelable(p) = only_decl(
        "parcelable P {\n\
         List<List<String>> a;\n\
         Map<String, List<List<IFoo>>> b;\n\
         List<List<List<List<int>>>> c;\n\
         Map<String, @nullable IFoo> d;\n\
         List<@nullable String[]> e;\n\
         a.b.C[3][N] f;\n\
         }",
    ) else {
        panic!()
    };
    let types: Vec<String> = p.fields.iter().map(|f| show(&f.ty)).collect();
    assert_eq!(
        types,
        [
            "List<List<String>>",
            "Map<String, List<List<IFoo>>>",
            "List<List<List<List<int>>>>",
            "Map<String, @nullable IFoo>",
            "List<@nullable String[]>",
            "a.b.C[3][N]",
        ]
    );
    // The split `>` keeps its own column.
    assert_eq!(p.fields[0].ty.args[0].span, Span::new(2, 6));
}

#[test]
fn doc_comments_go_to_the_declaration_they_precede() {
    let Decl::Interface(i) = only_decl(
        "/** Before the annotation. */\n\
         @VintfStability\n\
         interface I {\n\
             @nullable /** After the annotation. */ String a();\n\
             /** Oneway. */ oneway void b();\n\
             /* not doc */ void c();\n\
             /** Doc */ // a line comment in between\n\
             void d();\n\
             /** Of the nested type. */ parcelable P { /** Of the field. */ int x; }\n\
             /** Of a const. */ const int K = 1;\n\
         }",
    ) else {
        panic!()
    };
    assert_eq!(i.doc.as_deref(), Some("Before the annotation."));
    let docs: Vec<Option<&str>> = i.methods.iter().map(|m| m.doc.as_deref()).collect();
    assert_eq!(
        docs,
        [
            Some("After the annotation."),
            Some("Oneway."),
            None,
            Some("Doc")
        ]
    );
    let Decl::Parcelable(p) = &i.nested[0] else {
        panic!()
    };
    assert_eq!(p.doc.as_deref(), Some("Of the nested type."));
    assert_eq!(p.fields[0].doc.as_deref(), Some("Of the field."));
    assert_eq!(i.consts[0].doc.as_deref(), Some("Of a const."));

    // A doc comment after the annotations is used when there is none before them.
    let Decl::Enum(e) = only_decl("@Backing(type=\"int\") /** Late doc. */ enum E { A }") else {
        panic!()
    };
    assert_eq!(e.doc.as_deref(), Some("Late doc."));
}

#[test]
fn annotation_argument_forms() {
    let Decl::Parcelable(p) = only_decl(
        "@A @B() @C(1 + 2) @D(x = \"s\", y = {1, 2}) @E(value = true) parcelable P { int x; }",
    ) else {
        panic!()
    };
    let a = &p.annotations;
    assert!(matches!(a[0].args, AnnotationArgs::None));
    assert!(matches!(&a[1].args, AnnotationArgs::Named(params) if params.is_empty()));
    assert!(matches!(
        &a[2].args,
        AnnotationArgs::Value(Expr {
            kind: ExprKind::Binary { .. },
            ..
        })
    ));
    assert!(matches!(
        a[2].param("value").map(|e| &e.kind),
        Some(ExprKind::Binary { .. })
    ));
    assert!(a[2].param("other").is_none());
    assert!(
        matches!(a[3].param("y").map(|e| &e.kind), Some(ExprKind::Array(items)) if items.len() == 2)
    );
    assert!(matches!(
        a[4].param("value").map(|e| &e.kind),
        Some(ExprKind::Bool(true))
    ));
    assert_eq!(a[3].span, Span::new(1, 19));
}

#[test]
fn contextual_keywords_are_identifiers() {
    let Decl::Parcelable(p) =
        only_decl("parcelable P { int cpp_header; String ndk_header = rust_type; }")
    else {
        panic!()
    };
    assert_eq!(p.fields[0].name.name, "cpp_header");
    assert_eq!(p.fields[1].name.name, "ndk_header");
    assert!(
        matches!(&p.fields[1].default.as_ref().unwrap().kind, ExprKind::Ref(n) if n.to_string() == "rust_type")
    );
}

#[test]
fn method_forms() {
    let Decl::Interface(i) = only_decl(
        "interface I {\n\
         void a();\n\
         oneway void b(in int[3] fixed) = 4;\n\
         @Deprecated @nullable IBinder c(out @nullable String[] s, inout List<String> l);\n\
         int[] d(int a, long b, in Map<String, IBinder> c);\n\
         }",
    ) else {
        panic!()
    };
    let b = &i.methods[1];
    assert!(b.oneway);
    assert_eq!(b.id.map(|id| id.value), Some(4));
    assert_eq!(show(&b.args[0].ty), "int[3]");
    let c = &i.methods[2];
    assert_eq!(
        c.annotations
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["Deprecated", "nullable"]
    );
    assert_eq!(show(c.return_type.as_ref().unwrap()), "IBinder");
    assert_eq!(c.args[0].annotations[0].name, "nullable");
    assert_eq!(c.args[0].direction, Some(Direction::Out));
    assert_eq!(show(&c.args[1].ty), "List<String>");
    let d = &i.methods[3];
    assert_eq!(show(d.return_type.as_ref().unwrap()), "int[]");
    assert_eq!(d.args.len(), 3);
    assert_eq!(d.span, Span::new(5, 1));
    assert_eq!(d.name.span, Span::new(5, 7));
}

#[test]
fn expression_spans() {
    let Decl::Interface(i) = only_decl("interface I { const int X = (1 + 2) * -A.B ? {1} : 3; }")
    else {
        panic!()
    };
    let value = &i.consts[0].value;
    // The conditional's span is its `?`, its start the `(`'s content.
    assert_eq!(value.span, Span::new(1, 44));
    assert_eq!(value.start(), Span::new(1, 30));
    let ExprKind::Conditional { cond, then, .. } = &value.kind else {
        panic!()
    };
    assert_eq!(cond.span, Span::new(1, 37)); // `*`
    let ExprKind::Binary { rhs, .. } = &cond.kind else {
        panic!()
    };
    assert_eq!(rhs.span, Span::new(1, 39)); // unary `-`
    let ExprKind::Unary { operand, .. } = &rhs.kind else {
        panic!()
    };
    assert_eq!(operand.span, Span::new(1, 40)); // `A.B`
    assert_eq!(then.span, Span::new(1, 46)); // `{`
}

#[test]
fn diagnostics_come_sorted_by_position() {
    let errs = binder_aidl::parse(
        Path::new("t.aidl"),
        "interface I { void f() }\n$ parcelable",
    )
    .unwrap_err();
    let spans: Vec<Span> = errs.iter().map(|d| d.span).collect();
    let mut sorted = spans.clone();
    sorted.sort();
    assert_eq!(spans, sorted);
    assert_eq!(errs.len(), 3, "{errs:?}");
}
