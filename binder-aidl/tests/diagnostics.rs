//! Common mistakes: the exact diagnostics, with their positions.

use std::path::Path;

/// Every diagnostic for `text`, as `path:line:column: message`.
fn errors(text: &str) -> Vec<String> {
    match binder_aidl::parse(Path::new("p/IFoo.aidl"), text) {
        Ok(doc) => panic!("expected errors, got {doc:#?}"),
        Err(diags) => diags.iter().map(ToString::to_string).collect(),
    }
}

#[track_caller]
fn assert_errors(text: &str, expected: &[&str]) {
    let expected: Vec<String> = expected
        .iter()
        .map(|e| format!("p/IFoo.aidl:{e}"))
        .collect();
    assert_eq!(errors(text), expected, "for:\n{text}");
}

#[test]
fn missing_semicolon_after_method() {
    assert_errors(
        "package p;\ninterface IFoo {\n    void f()\n}\n",
        &["4:1: expected `;` after the method declaration, found `}`"],
    );
}

#[test]
fn missing_semicolon_is_reported_and_the_next_member_still_checked() {
    assert_errors(
        "interface IFoo {\n    void a()\n    void b(int);\n    int c();\n}\n",
        &[
            "3:5: expected `;` after the method declaration, found identifier `void`",
            "3:15: expected a parameter name, found `)`",
        ],
    );
}

#[test]
fn missing_semicolon_after_package() {
    assert_errors(
        "package p\ninterface IFoo {}\n",
        &["2:1: expected `;` after the package name, found keyword `interface`"],
    );
}

#[test]
fn unterminated_string_reports_only_itself() {
    assert_errors(
        "package p;\ninterface IFoo {\n    const String S = \"abc;\n}\n",
        &["3:22: unterminated string literal: missing closing `\"`"],
    );
}

#[test]
fn unterminated_block_comment() {
    assert_errors(
        "package p;\n/* never closed\ninterface IFoo {}\n",
        &["2:1: unterminated comment: `/*` without a matching `*/`"],
    );
}

#[test]
fn stray_character() {
    assert_errors(
        "interface IFoo {\n    void f(int # x);\n}\n",
        &["2:16: unexpected character `#`"],
    );
}

#[test]
fn qualified_type_name_in_declaration() {
    assert_errors(
        "interface p.IFoo {}\n",
        &["1:11: the type name `p.IFoo` cannot be qualified; declare the package with `package`"],
    );
}

#[test]
fn annotation_before_direction() {
    assert_errors(
        "interface IFoo {\n    void f(@nullable in String s);\n}\n",
        &["2:12: annotations go after the direction: write `in @nullable Type name`"],
    );
}

#[test]
fn dynamic_multi_dimensional_array() {
    assert_errors(
        "parcelable P {\n    int[][] grid;\n}\n",
        &["2:5: multi-dimensional arrays must be fixed size, like `int[2][3]`"],
    );
}

#[test]
fn method_in_parcelable() {
    assert_errors(
        "parcelable P {\n    int x;\n    void f();\n}\n",
        &["3:11: `f` looks like a method, but only interfaces have methods"],
    );
}

#[test]
fn field_in_interface() {
    assert_errors(
        "interface IFoo {\n    int x;\n}\n",
        &[
            "2:10: expected `(` after the method name `x` (an interface has no fields; constants \
           need `const`), found `;`",
        ],
    );
}

#[test]
fn unclosed_parameter_list() {
    assert_errors(
        "interface IFoo {\n    void f(int a, int b;\n}\n",
        &["2:24: expected `,` or `)` in the parameters of `f`, found `;`"],
    );
}

#[test]
fn enumerators_without_comma() {
    assert_errors(
        "enum E {\n    A = 1\n    B = 2\n}\n",
        &["3:5: expected `,` or `}` after the enumerator `A`, found identifier `B`"],
    );
}

#[test]
fn empty_enum() {
    assert_errors(
        "enum E {}\n",
        &["1:9: enum `E` needs at least one enumerator"],
    );
}

#[test]
fn annotation_parameter_given_twice() {
    assert_errors(
        "@JavaDerive(equals=true, equals=false)\nparcelable P { int x; }\n",
        &["1:26: parameter `equals` is given twice in `@JavaDerive`"],
    );
}

#[test]
fn invalid_integer_suffix() {
    assert_errors(
        "interface IFoo {\n    const int X = 12abc;\n}\n",
        &[
            "2:19: invalid suffix `abc` on integer literal `12`; expected `l`, `L`, `u8`, `i8`, \
           `u32`, `i32`, `u64` or `i64`",
        ],
    );
}

#[test]
fn method_id_must_be_a_decimal_integer() {
    assert_errors(
        "interface IFoo {\n    void f() = foo;\n}\n",
        &["2:16: expected a method id (a decimal integer) after `=`, found identifier `foo`"],
    );
    assert_errors(
        "interface IFoo {\n    void f() = 0x10;\n}\n",
        &[
            "2:16: the method id `0x10` must be a decimal integer without suffix, at most \
           2147483647",
        ],
    );
    assert_errors(
        "interface IFoo {\n    void f() = 2147483648;\n}\n",
        &[
            "2:16: the method id `2147483648` must be a decimal integer without suffix, at most \
           2147483647",
        ],
    );
}

#[test]
fn unclosed_body_at_end_of_file() {
    assert_errors(
        "interface IFoo {\n    void f();\n",
        &["3:1: expected `}` to close interface `IFoo`, found end of file"],
    );
}

#[test]
fn void_parameter() {
    assert_errors(
        "interface IFoo {\n    void f(void x);\n}\n",
        &["2:12: `void` is only allowed as the return type of a method"],
    );
}

#[test]
fn keyword_as_name() {
    assert_errors(
        "parcelable P {\n    int in;\n}\n",
        &["2:9: expected a field name, found keyword `in`"],
    );
}

#[test]
fn oneway_parcelable() {
    assert_errors(
        "oneway parcelable P {}\n",
        &[
            "1:8: expected `interface` after `oneway` (only interfaces can be oneway), found \
           keyword `parcelable`",
        ],
    );
}

#[test]
fn file_without_declaration() {
    assert_errors(
        "package p;\n",
        &[
            "2:1: expected a declaration (`interface`, `parcelable`, `enum` or `union`), found end \
           of file",
        ],
    );
}

#[test]
fn package_after_import() {
    assert_errors(
        "import a.B;\npackage p;\ninterface IFoo {}\n",
        &["2:1: `package` must come first, before imports and declarations"],
    );
}

#[test]
fn constant_without_value() {
    assert_errors(
        "interface IFoo {\n    const int X;\n}\n",
        &["2:16: expected `=` after the constant name `X` (a constant needs a value), found `;`"],
    );
}

#[test]
fn character_literal_with_two_characters() {
    assert_errors(
        "interface IFoo {\n    const char C = 'ab';\n}\n",
        &["2:20: a character literal holds exactly one character, found `'ab'`"],
    );
}

#[test]
fn unclosed_type_arguments() {
    assert_errors(
        "parcelable P {\n    List<String x;\n}\n",
        &["2:17: expected `,` or `>` in the type arguments of `List`, found identifier `x`"],
    );
}

#[test]
fn space_after_at() {
    assert_errors(
        "@ Foo interface IFoo {}\n",
        &["1:1: expected an annotation name right after `@`"],
    );
}

#[test]
fn missing_expression() {
    assert_errors(
        "interface IFoo {\n    const int X = 1 + ;\n}\n",
        &["2:23: expected an expression, found `;`"],
    );
}

#[test]
fn header_keyword_given_twice() {
    assert_errors(
        "parcelable P cpp_header \"a.h\" cpp_header \"b.h\";\n",
        &["1:31: `cpp_header` is given twice"],
    );
}

#[test]
fn errors_in_several_declarations_are_all_reported() {
    assert_errors(
        "parcelable A { int x }\nparcelable B { String; }\ninterface C { void f(in); }\n",
        &[
            "1:22: expected `;` after the field `x`, found `}`",
            "2:22: expected a field name, found `;`",
            "3:24: expected a type, found `)`",
        ],
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let depth = 10_000;
    let text = format!(
        "interface IFoo {{ const int X = {}1{}; }}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let errs = errors(&text);
    assert_eq!(
        errs[0],
        "p/IFoo.aidl:1:159: nesting too deep (more than 128 levels)"
    );
    let text = format!(
        "parcelable P {{ {}int{} x; }}",
        "List<".repeat(depth),
        ">".repeat(depth)
    );
    assert!(errors(&text)[0].ends_with("nesting too deep (more than 128 levels)"));
    let text = format!("interface IFoo {{ const int X = {}1; }}", "-".repeat(depth));
    assert!(errors(&text)[0].ends_with("nesting too deep (more than 128 levels)"));
}

#[test]
fn diagnostic_fields() {
    let diags = binder_aidl::parse(Path::new("a/B.aidl"), "interface B { void f() }").unwrap_err();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].path, Path::new("a/B.aidl"));
    assert_eq!(diags[0].span, binder_aidl::Span::new(1, 24));
    assert_eq!(
        diags[0].message,
        "expected `;` after the method declaration, found `}`"
    );
}
