//! Property tests: no input makes the lexer, parser or evaluator panic.

use std::path::Path;

use binder_aidl::ast::*;
use binder_aidl::consteval::{Evaluator, Value};
use proptest::prelude::*;

/// Evaluates every expression of `doc` (ignoring the results): consts, defaults, enumerator
/// values, annotation parameters and array sizes.
fn eval_everything(doc: &Document) {
    let resolve = |_: &QualifiedName| {
        Some(Value::Int {
            value: 1,
            kind: binder_aidl::consteval::IntKind::Int32,
        })
    };
    let eval = Evaluator::new(&doc.path, &resolve);
    let annotations = |anns: &[Annotation]| {
        for ann in anns {
            match &ann.args {
                AnnotationArgs::None => {}
                AnnotationArgs::Value(e) => {
                    let _ = eval.eval(e);
                }
                AnnotationArgs::Named(params) => {
                    for p in params {
                        let _ = eval.eval(&p.value);
                    }
                }
            }
        }
    };
    let typed = |ty: &TypeRef, expr: Option<&Expr>| {
        if let Ok(Some(target)) = eval.const_type(ty)
            && let Some(expr) = expr
        {
            let _ = eval.eval_as(expr, &target);
        }
        if let Some(expr) = expr {
            let _ = eval.eval(expr);
        }
    };
    fn walk(
        decl: &Decl,
        annotations: &dyn Fn(&[Annotation]),
        typed: &dyn Fn(&TypeRef, Option<&Expr>),
    ) {
        annotations(decl.annotations());
        let (consts, fields, nested): (&[Const], &[Field], &[Decl]) = match decl {
            Decl::Interface(i) => {
                for m in &i.methods {
                    annotations(&m.annotations);
                    if let Some(ret) = &m.return_type {
                        typed(ret, None);
                    }
                    for a in &m.args {
                        annotations(&a.annotations);
                        typed(&a.ty, None);
                    }
                }
                (&i.consts, &[], &i.nested)
            }
            Decl::Parcelable(p) => (&p.consts, &p.fields, &p.nested),
            Decl::Union(u) => (&u.consts, &u.fields, &u.nested),
            Decl::Enum(_) | Decl::UnstructuredParcelable(_) => (&[], &[], &[]),
        };
        if let Decl::Enum(e) = decl {
            for en in &e.enumerators {
                typed(
                    &TypeRef {
                        annotations: vec![],
                        name: TypeName::Primitive(Primitive::Long),
                        args: vec![],
                        array: None,
                        span: en.span,
                    },
                    en.value.as_ref(),
                );
            }
        }
        for c in consts {
            annotations(&c.annotations);
            typed(&c.ty, Some(&c.value));
        }
        for f in fields {
            annotations(&f.annotations);
            typed(&f.ty, f.default.as_ref());
        }
        for n in nested {
            walk(n, annotations, typed);
        }
    }
    for decl in &doc.decls {
        walk(decl, &annotations, &typed);
    }
}

fn check(text: &str) {
    match binder_aidl::parse(Path::new("fuzz.aidl"), text) {
        Ok(doc) => eval_everything(&doc),
        Err(diags) => {
            assert!(!diags.is_empty());
            for d in diags {
                assert!(d.span.line >= 1 && d.span.column >= 1, "{d}");
                assert!(!d.message.is_empty());
            }
        }
    }
}

const TOKENS: &[&str] = &[
    "package",
    "import",
    "interface",
    "parcelable",
    "enum",
    "union",
    "oneway",
    "in",
    "out",
    "inout",
    "const",
    "true",
    "false",
    "cpp_header",
    "ndk_header",
    "rust_type",
    "void",
    "int",
    "long",
    "byte",
    "char",
    "float",
    "double",
    "boolean",
    "String",
    "List",
    "Map",
    "IFoo",
    "x",
    "a.b",
    "@nullable",
    "@Backing",
    "@JavaDerive",
    "(",
    ")",
    "<",
    ">",
    "{",
    "}",
    "[",
    "]",
    ":",
    "?",
    ";",
    ",",
    ".",
    "=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "&",
    "|",
    "^",
    "<<",
    ">>",
    "&&",
    "||",
    "!",
    "~",
    "<=",
    ">=",
    "==",
    "!=",
    "0",
    "1",
    "127",
    "0xffffffff",
    "0x8000000000000000",
    "255u8",
    "1L",
    "9223372036854775807",
    "2147483647",
    "-1",
    "31",
    "63",
    "1.5",
    "2.0f",
    ".5",
    "1e3",
    "'c'",
    "'\\n'",
    "\"s\"",
    "\"a\\\"b\"",
    "/** doc */",
    "// line\n",
    "/* c */",
    "\n",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..60).prop_map(|t| t.join(" "))
}

/// Structured-looking input: a declaration with random members, so that the parser gets deep
/// into bodies and expressions.
fn member_soup() -> impl Strategy<Value = String> {
    let expr = prop::collection::vec(prop::sample::select(TOKENS), 1..12).prop_map(|t| t.join(" "));
    let member = prop_oneof![
        expr.clone().prop_map(|e| format!("const int X = {e};")),
        expr.clone().prop_map(|e| format!("long y = {e};")),
        expr.clone().prop_map(|e| format!("int[{e}] z;")),
        expr.clone().prop_map(|e| format!("@A({e}) String s;")),
        expr.prop_map(|e| format!("void f({e});")),
    ];
    (
        prop::sample::select(&["interface I", "parcelable P", "union U", "enum E"][..]),
        prop::collection::vec(member, 0..6),
    )
        .prop_map(|(head, members)| format!("package p;\n{head} {{\n{}\n}}\n", members.join("\n")))
}

/// A corpus file with a few characters deleted or inserted.
fn mutated_corpus() -> impl Strategy<Value = String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/com/example");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    files.sort();
    (
        prop::sample::select(files),
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                prop::option::of(any::<char>()),
            ),
            1..6,
        ),
    )
        .prop_map(|(text, edits)| {
            let mut chars: Vec<char> = text.chars().collect();
            for (at, insert) in edits {
                if chars.is_empty() {
                    break;
                }
                let i = at.index(chars.len());
                match insert {
                    Some(c) => chars.insert(i, c),
                    None => {
                        chars.remove(i);
                    }
                }
            }
            chars.into_iter().collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn ascii_text_never_panics(text in "[ -~\n\t]{0,200}") {
        check(&text);
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        check(&text);
    }

    #[test]
    fn member_soup_never_panics(text in member_soup()) {
        check(&text);
    }

    #[test]
    fn mutated_corpus_never_panics(text in mutated_corpus()) {
        check(&text);
    }
}
