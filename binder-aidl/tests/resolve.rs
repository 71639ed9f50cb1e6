//! Name resolution, constants across files and the semantic checks: the corpus under
//! `tests/resolve/ok`, and each error with its exact message and position.

use std::path::{Path, PathBuf};

use binder_aidl::ast::{Decl, Primitive, TypeRef};
use binder_aidl::consteval::{IntKind, Value};
use binder_aidl::resolve::{Builtin, Loader, Model, ResolvedType};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/resolve/ok")
}

fn load_corpus() -> Model {
    let root = corpus();
    let mut loader = Loader::new();
    loader
        .include_dir(root.join("include"))
        .source_file(root.join("src/com/acme/IService.aidl"));
    match loader.load() {
        Ok(model) => model,
        Err(diags) => {
            let shown: Vec<String> = diags.iter().map(ToString::to_string).collect();
            panic!("the corpus did not load:\n{}", shown.join("\n"));
        }
    }
}

fn int(value: i64, kind: IntKind) -> Value {
    Value::Int { value, kind }
}

fn declared(fqn: &str) -> ResolvedType {
    ResolvedType::Declared(fqn.to_string())
}

/// Every diagnostic of loading `sources` (path, text), without include directories unless
/// `include` is set, as `path:line:column: message`.
fn errors(include: Option<&Path>, sources: &[(&str, &str)]) -> Vec<String> {
    let mut loader = Loader::new();
    if let Some(dir) = include {
        loader.include_dir(dir);
    }
    for (path, text) in sources {
        loader.source_text(*path, *text);
    }
    match loader.load() {
        Ok(_) => panic!("expected errors for {sources:?}"),
        Err(diags) => diags.iter().map(ToString::to_string).collect(),
    }
}

#[track_caller]
fn assert_errors(sources: &[(&str, &str)], expected: &[&str]) {
    assert_eq!(errors(None, sources), expected);
}

/// Loads `sources`, which must be free of errors.
fn load(sources: &[(&str, &str)]) -> Model {
    let mut loader = Loader::new();
    for (path, text) in sources {
        loader.source_text(*path, *text);
    }
    match loader.load() {
        Ok(model) => model,
        Err(diags) => {
            let shown: Vec<String> = diags.iter().map(ToString::to_string).collect();
            panic!("did not load:\n{}", shown.join("\n"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The corpus

#[test]
fn corpus_loads_exactly_the_needed_files_once() {
    let model = load_corpus();
    let mut names: Vec<String> = model
        .files()
        .iter()
        .map(|f| {
            f.document
                .path
                .strip_prefix(corpus())
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(names[0], "src/com/acme/IService.aidl");
    assert!(model.files()[0].is_source);
    assert!(model.files()[1..].iter().all(|f| !f.is_source));
    names.sort();
    assert_eq!(
        names,
        [
            "include/com/acme/Status.aidl",
            "include/com/acme/types/Color.aidl",
            "include/com/acme/types/Limits.aidl",
            "include/com/acme/types/Point.aidl",
            "include/com/acme/types/Shape.aidl",
            "src/com/acme/IService.aidl",
        ]
    );
}

#[test]
fn corpus_declarations_have_fully_qualified_names() {
    let model = load_corpus();
    let fqns: Vec<&str> = model.declarations().map(|d| d.fqn.as_str()).collect();
    assert_eq!(
        fqns,
        [
            "com.acme.IService",
            "com.acme.IService.IListener",
            "com.acme.IService.Job",
            "com.acme.IService.Job.Step",
            "com.acme.Status",
            "com.acme.types.Color",
            "com.acme.types.Limits",
            "com.acme.types.Point",
            "com.acme.types.Shape",
            "com.acme.types.Shape.Kind",
        ]
    );
    let step = model.decl("com.acme.IService.Job.Step").unwrap();
    assert_eq!(step.package, "com.acme");
    assert_eq!(step.file, 0);
    assert_eq!(step.path, [0, 0, 0]);
    assert!(matches!(
        model.decl_node("com.acme.IService.Job.Step"),
        Some(Decl::Parcelable(p)) if p.name.name == "Step"
    ));
}

#[test]
fn corpus_type_references_resolve() {
    let model = load_corpus();
    let doc = &model.files()[0].document;
    let Decl::Interface(iface) = &doc.decls[0] else {
        panic!("not an interface")
    };
    let ty = |t: &TypeRef| model.resolved_type(0, t).cloned();
    let method = |name: &str| iface.methods.iter().find(|m| m.name.name == name).unwrap();

    // Imported, fully qualified, imported nested.
    let paint = method("paint");
    assert_eq!(
        ty(paint.return_type.as_ref().unwrap()),
        Some(declared("com.acme.types.Color"))
    );
    assert_eq!(
        ty(&paint.args[0].ty),
        Some(declared("com.acme.types.Point"))
    );
    assert_eq!(
        ty(&paint.args[1].ty),
        Some(declared("com.acme.types.Shape.Kind"))
    );
    // Same package, from the include directory.
    assert_eq!(
        ty(method("state").return_type.as_ref().unwrap()),
        Some(declared("com.acme.Status"))
    );
    // Nested in this file; a type argument naming a doubly nested type.
    let fill = method("fill");
    assert_eq!(
        ty(&fill.args[0].ty),
        Some(declared("com.acme.IService.Job"))
    );
    assert_eq!(
        ty(&fill.args[2].ty),
        Some(ResolvedType::Builtin(Builtin::List))
    );
    assert_eq!(
        ty(&fill.args[2].ty.args[0]),
        Some(declared("com.acme.IService.Job.Step"))
    );
    // Built-ins, also through an import of the Java name.
    let open = method("open");
    assert_eq!(
        ty(&open.args[0].ty),
        Some(ResolvedType::Builtin(Builtin::ParcelFileDescriptor))
    );
    let watch = method("watch");
    assert_eq!(
        ty(&watch.args[0].ty),
        Some(declared("com.acme.IService.IListener"))
    );
    assert_eq!(
        ty(&watch.args[1].ty.args[0]),
        Some(ResolvedType::Builtin(Builtin::String))
    );
    assert_eq!(
        ty(&watch.args[1].ty.args[1]),
        Some(ResolvedType::Builtin(Builtin::IBinder))
    );
    assert_eq!(
        ty(&iface.consts[0].ty),
        Some(ResolvedType::Primitive(Primitive::Int))
    );
    // Inside the nested parcelable: an imported nested type, and a sibling nested type.
    let Decl::Parcelable(job) = &iface.nested[0] else {
        panic!("not a parcelable")
    };
    assert_eq!(
        ty(&job.fields[0].ty),
        Some(declared("com.acme.IService.Job.Step"))
    );
    assert_eq!(
        ty(&job.fields[1].ty),
        Some(declared("com.acme.types.Shape.Kind"))
    );
}

#[test]
fn corpus_constants_across_files_and_packages() {
    let model = load_corpus();
    let v = |k: &str| model.value(k).cloned();
    // Enum auto-values, another file's constant, an earlier enumerator.
    assert_eq!(v("com.acme.types.Color.RED"), Some(int(1, IntKind::Int32)));
    assert_eq!(
        v("com.acme.types.Color.GREEN"),
        Some(int(2, IntKind::Int32))
    );
    assert_eq!(
        v("com.acme.types.Color.BLUE"),
        Some(int(102, IntKind::Int32))
    );
    assert_eq!(
        v("com.acme.types.Color.WHITE"),
        Some(int(103, IntKind::Int32))
    );
    // An enum of another package built on Color's values; long backing.
    assert_eq!(v("com.acme.Status.OK"), Some(int(0, IntKind::Int64)));
    assert_eq!(
        v("com.acme.Status.FAILED"),
        Some(int(103_000_000_000_000, IntKind::Int64))
    );
    assert_eq!(
        v("com.acme.Status.RETRY"),
        Some(int(103_000_000_000_001, IntKind::Int64))
    );
    // Interface constants: an enumerator, a fully qualified constant, a same-scope constant.
    assert_eq!(
        v("com.acme.IService.DEFAULT_COLOR"),
        Some(int(2, IntKind::Int32))
    );
    assert_eq!(v("com.acme.IService.LIMIT"), Some(int(200, IntKind::Int64)));
    assert_eq!(v("com.acme.IService.LOCAL"), Some(int(3, IntKind::Int32)));
    assert_eq!(
        v("com.acme.types.Limits.MIN"),
        Some(int(-100, IntKind::Int32))
    );
    // Field defaults: an enum in its backing type, an outer constant, a qualified one.
    assert_eq!(v("com.acme.IService.Job.kind"), Some(int(1, IntKind::Int8)));
    assert_eq!(
        v("com.acme.IService.Job.priority"),
        Some(int(3, IntKind::Int32))
    );
    assert_eq!(
        v("com.acme.IService.Job.Step.n"),
        Some(int(3, IntKind::Int32))
    );
    assert_eq!(v("com.acme.types.Shape.kind"), Some(int(0, IntKind::Int8)));
    assert_eq!(v("com.acme.IService.Job.first"), None);
    // Backing types: declared, and the default.
    assert_eq!(
        model.enum_backing("com.acme.types.Color"),
        Some(IntKind::Int32)
    );
    assert_eq!(model.enum_backing("com.acme.Status"), Some(IntKind::Int64));
    assert_eq!(
        model.enum_backing("com.acme.types.Shape.Kind"),
        Some(IntKind::Int8)
    );
    assert_eq!(model.enum_backing("com.acme.IService"), None);
}

#[test]
fn a_missing_source_file_is_a_diagnostic() {
    let mut loader = Loader::new();
    loader.source_file(corpus().join("src/com/acme/Missing.aidl"));
    let diags = loader.load().unwrap_err();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].span.line, 1);
    assert!(
        diags[0].message.starts_with("cannot read the file: "),
        "{}",
        diags[0]
    );
}

#[test]
fn parse_errors_are_passed_on() {
    assert_errors(
        &[("p/IFoo.aidl", "package p; interface IFoo { void f() }")],
        &["p/IFoo.aidl:1:38: expected `;` after the method declaration, found `}`"],
    );
}

// ---------------------------------------------------------------------------------------------
// Names

#[test]
fn unknown_type() {
    assert_errors(
        &[(
            "p/IFoo.aidl",
            "package p;\ninterface IFoo {\n    void f(in Missing m, in List<Gone> g);\n}\n",
        )],
        &[
            "p/IFoo.aidl:3:15: cannot find the type `Missing`",
            "p/IFoo.aidl:3:34: cannot find the type `Gone`",
        ],
    );
}

#[test]
fn import_that_does_not_exist() {
    let include = corpus().join("include");
    assert_eq!(
        errors(
            Some(&include),
            &[(
                "p/IFoo.aidl",
                "package p;\nimport com.acme.types.Nope;\ninterface IFoo { void f(); }\n",
            )]
        ),
        ["p/IFoo.aidl:2:8: cannot find the imported type `com.acme.types.Nope`"]
    );
}

#[test]
fn an_unresolved_import_shadows_other_lookups() {
    // `Point` would be found in the same package, but the (broken) import takes precedence.
    assert_errors(
        &[
            (
                "p/IFoo.aidl",
                "package p;\nimport q.Point;\ninterface IFoo { void f(in Point x); }\n",
            ),
            ("p/Point.aidl", "package p; parcelable Point { int x; }"),
        ],
        &["p/IFoo.aidl:2:8: cannot find the imported type `q.Point`"],
    );
}

#[test]
fn ambiguous_imports() {
    assert_errors(
        &[
            (
                "p/IFoo.aidl",
                "package p;\nimport a.Thing;\nimport b.Thing;\nimport a.Thing;\n\
                 interface IFoo { void f(in Thing t); }\n",
            ),
            ("a/Thing.aidl", "package a; parcelable Thing { int x; }"),
            ("b/Thing.aidl", "package b; parcelable Thing { int y; }"),
        ],
        &[
            "p/IFoo.aidl:3:8: the import of `b.Thing` conflicts with the import of `a.Thing`: \
           both are named `Thing`",
        ],
    );
}

#[test]
fn duplicate_declarations() {
    assert_errors(
        &[
            ("p/Foo.aidl", "package p;\nparcelable Foo { int x; }\n"),
            ("q/p/Foo.aidl", "package p;\nparcelable Foo { int y; }\n"),
            (
                "p/Bar.aidl",
                "package p;\nparcelable Bar {\n  enum E { A }\n  enum E { B }\n}\n",
            ),
        ],
        &[
            "q/p/Foo.aidl:2:12: `p.Foo` is already declared at p/Foo.aidl:2:12",
            "p/Bar.aidl:4:8: `p.Bar.E` is already declared at p/Bar.aidl:3:8",
        ],
    );
}

#[test]
fn import_of_a_nested_type_and_qualified_nested_names() {
    let model = load(&[
        (
            "p/IFoo.aidl",
            "package p;\nimport q.Outer.Inner;\n\
             interface IFoo { void f(in Inner a, in q.Outer.Inner b, in Outer2.Deep c); }\n",
        ),
        (
            "q/Outer.aidl",
            "package q; parcelable Outer { parcelable Inner { int x; } }",
        ),
        (
            "p/Outer2.aidl",
            "package p; parcelable Outer2 { parcelable Deep { int x; } }",
        ),
    ]);
    let Decl::Interface(iface) = &model.files()[0].document.decls[0] else {
        panic!()
    };
    let args = &iface.methods[0].args;
    assert_eq!(
        model.resolved_type(0, &args[0].ty),
        Some(&declared("q.Outer.Inner"))
    );
    assert_eq!(
        model.resolved_type(0, &args[1].ty),
        Some(&declared("q.Outer.Inner"))
    );
    assert_eq!(
        model.resolved_type(0, &args[2].ty),
        Some(&declared("p.Outer2.Deep"))
    );
}

#[test]
fn type_parameters_resolve_and_take_no_arguments() {
    let model = load(&[(
        "p/Box.aidl",
        "package p; parcelable Box<T> { T value; List<T> all; }",
    )]);
    let Decl::Parcelable(b) = &model.files()[0].document.decls[0] else {
        panic!()
    };
    assert_eq!(
        model.resolved_type(0, &b.fields[0].ty),
        Some(&ResolvedType::TypeParam("T".into()))
    );
    assert_errors(
        &[(
            "p/Box.aidl",
            "package p;\nparcelable Box<T> {\n  T<int> value;\n}\n",
        )],
        &["p/Box.aidl:3:3: the type parameter `T` takes no type arguments"],
    );
}

#[test]
fn one_type_per_file_and_path_matching_the_package() {
    assert_errors(
        &[
            (
                "p/Foo.aidl",
                "package p;\nparcelable Foo { int x; }\nparcelable Bar { int y; }\n",
            ),
            ("wrong/Baz.aidl", "package p;\nparcelable Baz { int x; }\n"),
            ("p/Name.aidl", "package p;\nparcelable Other { int x; }\n"),
        ],
        &[
            "p/Foo.aidl:3:12: a file may declare only one top-level type; `Bar` must go in a \
             file of its own",
            "wrong/Baz.aidl:2:12: `Baz` must be declared in a file whose path ends with \
             `p/Baz.aidl`",
            "p/Name.aidl:2:12: `Other` must be declared in a file whose path ends with \
             `p/Other.aidl`",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Constants

#[test]
fn constant_cycle_is_reported_once() {
    assert_errors(
        &[(
            "p/IFoo.aidl",
            "package p;\ninterface IFoo {\n  const int A = B + 1;\n  const int B = C;\n  \
             const int C = A;\n  const int D = A;\n}\n",
        )],
        &[
            "p/IFoo.aidl:5:17: constant `p.IFoo.A` refers to itself: p.IFoo.A -> p.IFoo.B -> \
           p.IFoo.C -> p.IFoo.A",
        ],
    );
}

#[test]
fn self_reference_and_cross_file_cycle() {
    assert_errors(
        &[
            (
                "p/IA.aidl",
                "package p;\ninterface IA { const int X = IB.Y; }\n",
            ),
            (
                "p/IB.aidl",
                "package p;\ninterface IB { const int Y = p.IA.X; }\n",
            ),
            ("p/E.aidl", "package p;\nenum E { V = V }\n"),
        ],
        &[
            "p/IB.aidl:2:30: constant `p.IA.X` refers to itself: p.IA.X -> p.IB.Y -> p.IA.X",
            "p/E.aidl:2:14: constant `p.E.V` refers to itself: p.E.V -> p.E.V",
        ],
    );
}

#[test]
fn unknown_constant_and_consequences_reported_once() {
    assert_errors(
        &[(
            "p/IFoo.aidl",
            "package p;\ninterface IFoo {\n  const int A = Nope.X;\n  const int B = A * 2;\n  \
             const int C = IFoo.MISSING;\n}\n",
        )],
        &[
            "p/IFoo.aidl:3:17: cannot resolve the constant `Nope.X`",
            "p/IFoo.aidl:5:17: cannot resolve the constant `IFoo.MISSING`",
        ],
    );
}

#[test]
fn fields_are_not_constants() {
    assert_errors(
        &[(
            "p/Foo.aidl",
            "package p;\nparcelable Foo {\n  int a = 1;\n  int b = a;\n}\n",
        )],
        &["p/Foo.aidl:4:11: cannot resolve the constant `a`"],
    );
}

#[test]
fn enum_auto_values_and_range_of_the_default_byte_backing() {
    let model = load(&[(
        "p/E.aidl",
        "package p; enum E { A, B, C = 10, D, F = -128, G }",
    )]);
    let values: Vec<String> = ["A", "B", "C", "D", "F", "G"]
        .iter()
        .map(|n| model.value(&format!("p.E.{n}")).unwrap().to_string())
        .collect();
    assert_eq!(values, ["0", "1", "10", "11", "-128", "-127"]);
    assert_eq!(model.value("p.E.A"), Some(&int(0, IntKind::Int8)));

    assert_errors(
        &[(
            "p/E.aidl",
            "package p;\nenum E {\n  A = 126,\n  B,\n  C,\n  D,\n}\n",
        )],
        &[
            "p/E.aidl:5:3: the enumerator `C` would be 128 (the previous one plus one), which \
           does not fit the backing type `byte`",
        ],
    );
}

#[test]
fn enum_value_out_of_its_backing_range() {
    let diags = errors(
        None,
        &[(
            "p/E.aidl",
            "package p;\n@Backing(type=\"int\")\nenum E {\n  A = 3000000000,\n}\n",
        )],
    );
    assert_eq!(diags.len(), 1);
    assert!(diags[0].starts_with("p/E.aidl:4:7: "), "{diags:?}");
    // An int-backed value used by a byte-backed enum of another package.
    let diags = errors(
        None,
        &[
            (
                "a/Big.aidl",
                "package a;\n@Backing(type=\"int\")\nenum Big { X = 1000 }\n",
            ),
            (
                "b/Small.aidl",
                "package b;\nimport a.Big;\nenum Small { Y = Big.X }\n",
            ),
        ],
    );
    assert_eq!(diags.len(), 1);
    assert!(diags[0].starts_with("b/Small.aidl:3:18: "), "{diags:?}");
}

#[test]
fn bad_backing_types() {
    assert_errors(
        &[
            (
                "p/A.aidl",
                "package p;\n@Backing(type=\"short\")\nenum A { X }\n",
            ),
            ("p/B.aidl", "package p;\n@Backing(type=3)\nenum B { X }\n"),
            ("p/C.aidl", "package p;\n@Backing\nenum C { X }\n"),
        ],
        &[
            "p/A.aidl:2:15: `short` cannot back an enum; the backing type must be \"byte\", \
             \"int\" or \"long\"",
            "p/B.aidl:2:15: the backing type must be a string: \"byte\", \"int\" or \"long\"",
            "p/C.aidl:2:1: `@Backing` needs a `type` parameter: \"byte\", \"int\" or \"long\"",
        ],
    );
}

#[test]
fn constant_type_and_range_errors() {
    assert_errors(
        &[(
            "p/IFoo.aidl",
            "package p;\ninterface IFoo {\n  const byte B = 200;\n  const IFoo X = 1;\n}\n",
        )],
        &[
            "p/IFoo.aidl:3:18: the value 200 does not fit in `byte` (-128..=127)",
            "p/IFoo.aidl:4:9: the constant `X` must have a primitive type, String, or an array \
             of them",
        ],
    );
}

#[test]
fn references_get_the_expression_type_as_in_aosp() {
    // `L` is declared long but its expression is a small literal: `L << 40` overflows `int`.
    let diags = errors(
        None,
        &[(
            "p/IFoo.aidl",
            "package p;\ninterface IFoo {\n  const long L = 1;\n  const long M = L << 40;\n}\n",
        )],
    );
    assert_eq!(diags.len(), 1);
    assert!(diags[0].starts_with("p/IFoo.aidl:4:20: "), "{diags:?}");
    let model = load(&[(
        "p/IFoo.aidl",
        "package p; interface IFoo { const long L = 1L; const long M = L << 40; }",
    )]);
    assert_eq!(model.value("p.IFoo.M"), Some(&int(1 << 40, IntKind::Int64)));
    assert_eq!(model.value("p.IFoo.L"), Some(&int(1, IntKind::Int64)));
}

#[test]
fn deep_reference_chains_are_cut_off_without_overflowing_the_stack() {
    let mut text = String::from("package p;\ninterface IFoo {\n");
    text.push_str("  const int C0 = 1;\n");
    for i in 1..400 {
        text.push_str(&format!("  const int C{i} = C{} + 1;\n", i - 1));
    }
    text.push_str("}\n");
    // Evaluated in declaration order, each link is already computed: fine.
    let model = load(&[("p/IFoo.aidl", text.as_str())]);
    assert_eq!(model.value("p.IFoo.C399"), Some(&int(400, IntKind::Int32)));
    // In reverse order, the first constant pulls the whole chain in.
    let mut text = String::from("package p;\ninterface IFoo {\n");
    for i in 0..400 {
        text.push_str(&format!("  const int C{i} = C{} + 1;\n", i + 1));
    }
    text.push_str("  const int C400 = 1;\n}\n");
    let diags = errors(None, &[("p/IFoo.aidl", text.as_str())]);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(
        diags[0].ends_with("constant references nest more than 64 deep"),
        "{diags:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Interfaces

fn iface(body: &str) -> Vec<String> {
    errors(
        None,
        &[
            ("p/IFoo.aidl", &format!("package p;\n{body}\n")),
            ("p/P.aidl", "package p; parcelable P { int x; }"),
            ("p/E.aidl", "package p; enum E { A }"),
            ("p/U.aidl", "package p; union U { int a; String b; }"),
            ("p/IBar.aidl", "package p; interface IBar { void x(); }"),
            (
                "p/Imm.aidl",
                "package p; @JavaOnlyImmutable parcelable Imm { int x; }",
            ),
        ],
    )
}

#[test]
fn oneway_methods_return_nothing_and_have_no_out_parameters() {
    assert_eq!(
        iface(
            "interface IFoo {\n  oneway int f();\n  oneway void g(in P a, out P b, inout int[] c);\n}"
        ),
        [
            "p/IFoo.aidl:3:10: oneway method `f` cannot return a value",
            "p/IFoo.aidl:4:25: oneway method `g` cannot have the `out` parameter `b`",
            "p/IFoo.aidl:4:34: oneway method `g` cannot have the `inout` parameter `c`",
        ]
    );
}

#[test]
fn every_method_of_a_oneway_interface_is_oneway() {
    assert_eq!(
        iface("oneway interface IFoo {\n  void ok(in P p);\n  String f();\n  void g(out P p);\n}"),
        [
            "p/IFoo.aidl:4:3: oneway method `f` cannot return a value",
            "p/IFoo.aidl:5:10: oneway method `g` cannot have the `out` parameter `p`",
        ]
    );
}

#[test]
fn method_ids_all_or_none() {
    assert_eq!(
        iface("interface IFoo {\n  void a() = 1;\n  void b();\n}"),
        [
            "p/IFoo.aidl:4:8: method `b` has no id while other methods of `IFoo` do; give every \
          method an id or none"
        ]
    );
    assert_eq!(
        iface("interface IFoo {\n  void a();\n  void b() = 2;\n}"),
        [
            "p/IFoo.aidl:4:14: method `b` has an id while other methods of `IFoo` do not; give \
          every method an id or none"
        ]
    );
}

#[test]
fn method_ids_unique_and_in_range() {
    assert_eq!(
        iface(
            "interface IFoo {\n  void a() = 0;\n  void b() = 16777214;\n  void c() = 0;\n  \
             void d() = 16777215;\n}"
        ),
        [
            "p/IFoo.aidl:5:14: the id 0 of method `c` is already used by method `a`",
            "p/IFoo.aidl:6:14: the id 16777215 of method `d` is out of range: ids go from 0 to \
             16777214",
        ]
    );
}

#[test]
fn directions_required_where_the_type_can_be_out() {
    assert_eq!(
        iface(
            "interface IFoo {\n  void f(P p, int[] a, List<String> l, Map<String, P> m, U u, \
             ParcelFileDescriptor fd);\n}"
        ),
        [
            "p/IFoo.aidl:3:10: the parameter `p` of type `P` needs a direction: `in`, `out` or \
             `inout`",
            "p/IFoo.aidl:3:15: the parameter `a` of type `int[]` needs a direction: `in`, `out` \
             or `inout`",
            "p/IFoo.aidl:3:24: the parameter `l` of type `List<String>` needs a direction: \
             `in`, `out` or `inout`",
            "p/IFoo.aidl:3:40: the parameter `m` of type `Map<String, P>` needs a direction: \
             `in`, `out` or `inout`",
            "p/IFoo.aidl:3:58: the parameter `u` of type `U` needs a direction: `in`, `out` or \
             `inout`",
            "p/IFoo.aidl:3:63: the parameter `fd` of type `ParcelFileDescriptor` needs a \
             direction: `in`, `out` or `inout`",
        ]
    );
}

#[test]
fn directions_not_needed_for_in_only_types() {
    let model = load(&[
        (
            "p/IFoo.aidl",
            "package p;\ninterface IFoo {\n  void f(int i, String s, IBar b, IBinder x, E e, \
             CharSequence c, FileDescriptor fd, Imm imm, in P p, out P q, inout E[] es);\n}\n",
        ),
        ("p/IBar.aidl", "package p; interface IBar { void x(); }"),
        ("p/E.aidl", "package p; enum E { A }"),
        ("p/P.aidl", "package p; parcelable P { int x; }"),
        (
            "p/Imm.aidl",
            "package p; @JavaOnlyImmutable parcelable Imm { int x; }",
        ),
    ]);
    assert_eq!(model.files().len(), 5);
}

#[test]
fn out_not_allowed_on_in_only_types() {
    assert_eq!(
        iface(
            "interface IFoo {\n  void f(out int i, inout String s, out IBar b, inout IBinder x, \
             out E e, out Imm m);\n}"
        ),
        [
            "p/IFoo.aidl:3:10: the parameter `i` cannot be `out`: a parameter of type `int` can \
             only be `in`",
            "p/IFoo.aidl:3:21: the parameter `s` cannot be `inout`: a parameter of type \
             `String` can only be `in`",
            "p/IFoo.aidl:3:37: the parameter `b` cannot be `out`: a parameter of type `IBar` \
             can only be `in`",
            "p/IFoo.aidl:3:49: the parameter `x` cannot be `inout`: a parameter of type \
             `IBinder` can only be `in`",
            "p/IFoo.aidl:3:66: the parameter `e` cannot be `out`: a parameter of type `E` can \
             only be `in`",
            "p/IFoo.aidl:3:75: the parameter `m` cannot be `out`: a parameter of type `Imm` can \
             only be `in`",
        ]
    );
}

#[test]
fn parcelable_holder_is_not_a_parameter_type() {
    assert_eq!(
        iface("interface IFoo {\n  void f(in ParcelableHolder h);\n}"),
        ["p/IFoo.aidl:3:13: the parameter `h` cannot have the type `ParcelableHolder`"]
    );
}

#[test]
fn duplicate_member_names() {
    assert_eq!(
        iface(
            "interface IFoo {\n  const int X = 1;\n  const int X = 2;\n  void f();\n  \
             void f(int a);\n  void g(int a, int a);\n}"
        ),
        [
            "p/IFoo.aidl:4:13: a member `X` is already declared in `p.IFoo` at 3:13",
            "p/IFoo.aidl:6:8: a method `f` is already declared in `IFoo` at 5:8",
            "p/IFoo.aidl:7:21: a parameter `a` is already declared in `IFoo.g` at 7:14",
        ]
    );
    assert_errors(
        &[
            (
                "p/P.aidl",
                "package p;\nparcelable P {\n  int a;\n  const int a = 1;\n}\n",
            ),
            ("p/E.aidl", "package p;\nenum E { A, B, A }\n"),
        ],
        &[
            "p/P.aidl:4:13: a member `a` is already declared in `p.P` at 3:7",
            "p/E.aidl:2:16: an enumerator `A` is already declared in `p.E` at 2:10",
        ],
    );
}
