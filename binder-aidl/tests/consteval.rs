//! Constant evaluation: AOSP's typing rules, precedence, literals and the errors.

use std::path::Path;

use binder_aidl::ast::{Decl, QualifiedName};
use binder_aidl::consteval::{ConstType, Evaluator, IntKind, Value};

use IntKind::{Int8, Int32, Int64};

fn int(value: i64, kind: IntKind) -> Value {
    Value::Int { value, kind }
}

/// The names the tests' resolver knows.
fn resolve(name: &QualifiedName) -> Option<Value> {
    Some(match name.to_string().as_str() {
        "SMALL" => int(1, Int8),
        "BIG" => int(1 << 40, Int64),
        "IFoo.MAX" => int(100, Int32),
        "NAME" => Value::String("name".into()),
        "ARR" => Value::Array(vec![int(1, Int8), int(300, Int32)]),
        "HALF" => Value::Float(0.5),
        _ => return None,
    })
}

/// Parses `const {ty} X = {expr};` and evaluates the value, converted to the declared type
/// when `convert`. Errors come back as "column: message", the column counted within `expr`.
fn run(ty: &str, expr: &str, convert: bool) -> Result<Value, String> {
    let prefix = format!("interface I {{ const {ty} X = ");
    let text = format!("{prefix}{expr}; }}");
    let path = Path::new("t.aidl");
    let doc = binder_aidl::parse(path, &text).unwrap_or_else(|e| panic!("{expr}: {e:?}"));
    let Decl::Interface(iface) = &doc.decls[0] else {
        panic!()
    };
    let constant = &iface.consts[0];
    let eval = Evaluator::new(path, &resolve);
    let result = if convert {
        let target = eval
            .const_type(&constant.ty)
            .map_err(|d| d.message)?
            .expect("a constant type");
        eval.eval_as(&constant.value, &target)
    } else {
        eval.eval(&constant.value)
    };
    result.map_err(|d| {
        assert_eq!(d.path, path);
        assert_eq!(d.span.line, 1);
        format!(
            "{}: {}",
            d.span.column as usize - prefix.chars().count(),
            d.message
        )
    })
}

/// The value of `expr` with the type AOSP gives it.
fn eval(expr: &str) -> Result<Value, String> {
    run("long", expr, false)
}

/// The value of `expr` as a constant of type `ty`.
fn eval_as(ty: &str, expr: &str) -> Result<Value, String> {
    run(ty, expr, true)
}

#[track_caller]
fn ok(expr: &str, expected: Value) {
    assert_eq!(eval(expr), Ok(expected), "{expr}");
}

#[track_caller]
fn err(expr: &str, expected: &str) {
    assert_eq!(eval(expr), Err(expected.to_string()), "{expr}");
}

#[test]
fn precedence_and_associativity() {
    ok("1 + 2 * 3", int(7, Int32));
    ok("(1 + 2) * 3", int(9, Int32));
    ok("10 - 2 - 3", int(5, Int32));
    ok("100 / 10 / 5", int(2, Int32));
    ok("2 * 3 % 4", int(2, Int32));
    ok("1 << 2 + 1", int(8, Int32));
    ok("1 | 2 ^ 3 & 4", int(3, Int32));
    ok("6 & 3 == 3", int(0, Int32)); // `3 == 3` binds first: 6 & 1
    ok("1 < 2 == 2 > 1", Value::Bool(true));
    ok("true || false && false", Value::Bool(true));
    ok("-2 * -3", int(6, Int32));
    ok("-~+1", int(2, Int8));
    ok("!0 + 1", int(2, Int32));
    ok("1 ? 2 : 3 ? 4 : 5", int(2, Int32));
    ok("0 ? 2 : 0 ? 4 : 5", int(5, Int32));
    ok("1 + 1 > 1 ? 10 : 20", int(10, Int32));
}

#[test]
fn integer_literal_kinds() {
    ok("1", int(1, Int8));
    ok("127", int(127, Int8));
    ok("128", int(128, Int32));
    ok("2147483647", int(i32::MAX.into(), Int32));
    ok("2147483648", int(2147483648, Int64));
    ok("9223372036854775807", int(i64::MAX, Int64));
    ok("007", int(7, Int8)); // decimal, like AOSP: no octal literals
    ok("1L", int(1, Int64));
    ok("1l", int(1, Int64));
    ok("-1", int(-1, Int8));
    err(
        "9223372036854775808",
        "1: the integer literal `9223372036854775808` is out of range (at most 9223372036854775807 for `long`)",
    );
    err(
        "99999999999999999999",
        "1: the integer literal `99999999999999999999` is out of range (it needs more than 64 bits)",
    );
    // The literal is out of range before the minus applies, as in AOSP.
    err(
        "-9223372036854775808",
        "2: the integer literal `9223372036854775808` is out of range (at most 9223372036854775807 for `long`)",
    );
}

#[test]
fn hex_literals_wrap_like_aosp() {
    ok("0x7f", int(127, Int32));
    ok("0xff", int(255, Int32));
    ok("0x7fffffff", int(i32::MAX.into(), Int32));
    ok("0x80000000", int(i32::MIN.into(), Int32));
    ok("0xffffffff", int(-1, Int32));
    ok("0x100000000", int(1 << 32, Int64));
    ok("0xffffffffffffffff", int(-1, Int64));
    ok("0x8000000000000000", int(i64::MIN, Int64));
    ok("0xffffffffL", int(0xffff_ffff, Int64));
    ok("0XABCDEFl", int(0xab_cdef, Int64));
    err(
        "0x10000000000000000",
        "1: the integer literal `0x10000000000000000` is out of range (it needs more than 64 bits)",
    );

    assert_eq!(eval_as("int", "0xffffffff"), Ok(int(-1, Int32)));
    // The literal is an `int`, so a `long` gets -1 too; `L` keeps the bits unsigned.
    assert_eq!(eval_as("long", "0xffffffff"), Ok(int(-1, Int64)));
    assert_eq!(eval_as("long", "0xffffffffL"), Ok(int(0xffff_ffff, Int64)));
    assert_eq!(
        eval_as("byte", "0xff"),
        Err("1: the value 255 does not fit in `byte` (-128..=127)".into())
    );
    assert_eq!(eval_as("byte", "0x7f"), Ok(int(127, Int8)));
}

#[test]
fn suffixes() {
    ok("255u8", int(-1, Int8));
    ok("0xffu8", int(-1, Int8));
    ok("0u8", int(0, Int8));
    err(
        "256u8",
        "1: the integer literal `256u8` is out of range (an unsigned 8-bit value is at most 255)",
    );
    ok("127i8", int(127, Int8));
    err(
        "128i8",
        "1: the integer literal `128i8` is out of range (at most 127 for `byte`)",
    );
    ok("0xffffffffu32", int(-1, Int32));
    ok("7i32", int(7, Int32));
    err(
        "4294967296u32",
        "1: the integer literal `4294967296u32` is out of range (an unsigned 32-bit value is at most 4294967295)",
    );
    err(
        "2147483648i32",
        "1: the integer literal `2147483648i32` is out of range (at most 2147483647 for `int`)",
    );
    ok("18446744073709551615u64", int(-1, Int64));
    ok("5i64", int(5, Int64));
    assert_eq!(eval_as("byte", "200u8"), Ok(int(-56, Int8)));
    assert_eq!(eval_as("int", "0xffffffffu32"), Ok(int(-1, Int32)));
}

#[test]
fn unary_operators_keep_the_operand_width() {
    ok("~0", int(-1, Int8));
    ok("!5", int(0, Int8));
    ok("!0", int(1, Int8));
    ok("+5", int(5, Int8));
    ok("!true", Value::Bool(false));
    ok("-true", Value::Bool(true));
    // 128u8 is the byte -128: negating it leaves `byte`.
    err("-128u8", "1: `-(-128)` overflows `byte`");
    err("-(0x80000000)", "1: `-(-2147483648)` overflows `int`");
    err(
        "~true",
        "1: `~` of a boolean is always true; use `!` to negate a boolean",
    );
    err("-\"a\"", "1: `-` cannot be applied to a string");
    ok("-2147483648", int(i32::MIN.into(), Int64));
    assert_eq!(
        eval_as("int", "-2147483648"),
        Ok(int(i32::MIN.into(), Int32))
    );
}

#[test]
fn arithmetic_promotes_and_checks_overflow() {
    ok("127 + 1", int(128, Int32)); // bytes promote to int
    ok("2147483647 + 1L", int(2147483648, Int64));
    ok("true + 1", int(2, Int32));
    ok("SMALL + 1", int(2, Int32));
    ok("BIG + 1", int((1 << 40) + 1, Int64));
    ok("-7 / 2", int(-3, Int32));
    ok("-7 % 2", int(-1, Int32));
    ok("6 ^ 3", int(5, Int32));
    err("2147483647 + 1", "12: `2147483647 + 1` overflows `int`");
    err("-2147483647 - 2", "13: `-2147483647 - 2` overflows `int`");
    err("65536 * 65536", "7: `65536 * 65536` overflows `int`");
    err(
        "9223372036854775807 + 1",
        "21: `9223372036854775807 + 1` overflows `long`",
    );
    err("1 / 0", "3: division by zero in `1 / 0`");
    err("1 % 0", "3: division by zero in `1 % 0`");
    err("(1 << 31) / -1", "11: `-2147483648 / -1` overflows `int`");
    // Overflow is about the computation, the declared type is checked afterwards.
    assert_eq!(
        eval_as("int", "2147483647L + 1"),
        Err("1: the value 2147483648 does not fit in `int` (-2147483648..=2147483647)".into())
    );
    assert_eq!(
        eval_as("long", "2147483647L + 1"),
        Ok(int(2147483648, Int64))
    );
}

#[test]
fn shifts() {
    ok("1 << 31", int(i32::MIN.into(), Int32));
    ok("1L << 63", int(i64::MIN, Int64));
    ok("1 << 40L", int(1 << 40, Int64)); // the amount's type widens too
    ok("256 >> 4", int(16, Int32));
    ok("1 << -1", int(0, Int32)); // a negative amount shifts the other way
    ok("256 >> -1", int(512, Int32));
    ok("0 << 31", int(0, Int32));
    err(
        "1 << 32",
        "3: the shift amount in `1 << 32` must be less than 32, the width of `int`",
    );
    err("2 << 31", "3: `2 << 31` overflows `int`");
    err(
        "-1 >> 1",
        "4: `-1 >> 1` shifts a negative value, which AIDL does not allow",
    );
    err(
        "-1 << 1",
        "4: `-1 << 1` shifts a negative value, which AIDL does not allow",
    );
    // A referenced value keeps the type of its literal (AOSP): 1 is an int8, so this is `int`.
    err(
        "SMALL << 40",
        "7: the shift amount in `1 << 40` must be less than 32, the width of `int`",
    );
    ok("BIG << 2", int(1 << 42, Int64));
}

#[test]
fn comparisons_and_logic() {
    ok("1 == 1L", Value::Bool(true));
    ok("-1 < 0", Value::Bool(true));
    ok("3 >= 4", Value::Bool(false));
    ok("2 != 2", Value::Bool(false));
    ok("1 && 0", Value::Bool(false));
    ok("0 || 7", Value::Bool(true));
    ok("(1 < 2) + (2 < 3)", int(2, Int32));
    err(
        "\"a\" == \"a\"",
        "5: `==` cannot be applied to strings; only `+` (concatenation) can",
    );
}

#[test]
fn strings() {
    ok("\"a\" + \"b\"", Value::String("ab".into()));
    ok("\"x\" + NAME + \"!\"", Value::String("xname!".into()));
    ok("\"\"", Value::String(String::new()));
    err(
        "\"a\" + 1",
        "5: `+` cannot be applied to a string and an integer",
    );
    err(
        "\"a\" - \"b\"",
        "5: `-` cannot be applied to strings; only `+` (concatenation) can",
    );
    err(
        "\"tab\\there\"",
        "1: the string literal \"tab\\there\" contains a backslash at index 3; AIDL strings allow \
         printable ASCII characters only, without escapes",
    );
    err(
        "\"caf\u{e9}\"",
        "1: the string literal \"caf\u{e9}\" contains the character 'é' (U+00E9) at index 3; AIDL \
         strings allow printable ASCII characters only, without escapes",
    );
    assert_eq!(
        eval_as("String", "\"a\" + \"b\""),
        Ok(Value::String("ab".into()))
    );
    assert_eq!(
        eval_as("String", "1"),
        Err("1: expected a `String` value, found an integer".into())
    );
}

#[test]
fn characters() {
    assert_eq!(eval_as("char", "'a'"), Ok(Value::Char('a')));
    assert_eq!(eval_as("char", "' '"), Ok(Value::Char(' ')));
    assert_eq!(
        eval_as("char", "65"),
        Err("1: expected a `char` value, found an integer".into())
    );
    assert_eq!(
        eval_as("int", "'a'"),
        Err("1: expected an `int` value, found a character".into())
    );
    err(
        "'a' + 1",
        "5: `+` cannot be applied to a character and an integer",
    );
    err(
        "'\\n'",
        "1: the character literal `'\\n'` contains a backslash at index 0; AIDL allows printable \
         ASCII characters only, without escapes",
    );
}

#[test]
fn floats() {
    ok("1.5f", Value::Float(1.5));
    ok("1.5", Value::Double(1.5));
    ok("-1.5f", Value::Float(-1.5));
    ok("+.25", Value::Double(0.25));
    ok("1e3", Value::Double(1000.0));
    ok("1f", Value::Float(1.0));
    err(
        "1.5 + 1.0",
        "5: `+` cannot be applied to floating-point values (AIDL evaluates only unary `+` and `-` on them)",
    );
    err(
        "HALF * 2",
        "6: `*` cannot be applied to floating-point values (AIDL evaluates only unary `+` and `-` on them)",
    );
    err("!1.0", "1: `!` cannot be applied to a double");
    assert_eq!(eval_as("float", "2.5f"), Ok(Value::Float(2.5)));
    assert_eq!(
        eval_as("float", "0.1f"),
        Ok(Value::Float(f64::from(0.1f32)))
    );
    assert_eq!(eval_as("double", "2.5f"), Ok(Value::Double(2.5)));
    assert_eq!(eval_as("double", "-3.14e17"), Ok(Value::Double(-3.14e17)));
    assert_eq!(
        eval_as("float", "1.5"),
        Err("1: a `float` needs a float literal with the `f` suffix, like `1.5f`".into())
    );
    assert_eq!(
        eval_as("float", "1"),
        Err("1: expected a `float` value, found an integer".into())
    );
    assert_eq!(
        eval_as("double", "1"),
        Err("1: expected a `double` value, found an integer".into())
    );
    assert_eq!(
        eval_as("float", "1e39f"),
        Err("1: the value 1e39 is out of range for `float`".into())
    );
    err("1e400", "1: the float literal `1e400` is out of range");
}

#[test]
fn booleans_and_integers_convert_both_ways() {
    assert_eq!(eval_as("boolean", "true"), Ok(Value::Bool(true)));
    assert_eq!(eval_as("boolean", "2"), Ok(Value::Bool(true)));
    assert_eq!(eval_as("boolean", "1 > 2"), Ok(Value::Bool(false)));
    assert_eq!(eval_as("int", "true"), Ok(int(1, Int32)));
    assert_eq!(eval_as("byte", "-128"), Ok(int(-128, Int8)));
    assert_eq!(
        eval_as("byte", "128"),
        Err("1: the value 128 does not fit in `byte` (-128..=127)".into())
    );
    assert_eq!(
        eval_as("boolean", "\"yes\""),
        Err("1: expected a `boolean` value, found a string".into())
    );
}

#[test]
fn arrays() {
    ok("{1, 2}", Value::Array(vec![int(1, Int8), int(2, Int8)]));
    ok("{}", Value::Array(vec![]));
    assert_eq!(
        eval_as("int[]", "{1, -2, 3 * 4,}"),
        Ok(Value::Array(vec![
            int(1, Int32),
            int(-2, Int32),
            int(12, Int32)
        ]))
    );
    assert_eq!(
        eval_as("String[]", "{\"a\", NAME}"),
        Ok(Value::Array(vec![
            Value::String("a".into()),
            Value::String("name".into())
        ]))
    );
    assert_eq!(
        eval_as("float[]", "{1.5f, -2f}"),
        Ok(Value::Array(vec![Value::Float(1.5), Value::Float(-2.0)]))
    );
    assert_eq!(
        eval_as("char[]", "{'a', 'b'}"),
        Ok(Value::Array(vec![Value::Char('a'), Value::Char('b')]))
    );
    assert_eq!(
        eval_as("int[2][2]", "{{1, 2}, {3, 4}}"),
        Ok(Value::Array(vec![
            Value::Array(vec![int(1, Int32), int(2, Int32)]),
            Value::Array(vec![int(3, Int32), int(4, Int32)]),
        ]))
    );
    assert_eq!(
        eval_as("int[2]", "{1, 2, 3}"),
        Err("1: expected an array of 2 elements, found one with 3".into())
    );
    assert_eq!(
        eval_as("int[2][2]", "{{1, 2}, {3}}"),
        Err("10: expected an array of 2 elements, found one with 1".into())
    );
    // The error points at the element that does not fit.
    assert_eq!(
        eval_as("byte[]", "{1, 200, 3}"),
        Err("5: the value 200 does not fit in `byte` (-128..=127)".into())
    );
    // An array through a reference is converted too, the error at the reference.
    assert_eq!(
        eval_as("byte[]", "ARR"),
        Err("1: the value 300 does not fit in `byte` (-128..=127)".into())
    );
    assert_eq!(
        eval_as("int[]", "ARR"),
        Ok(Value::Array(vec![int(1, Int32), int(300, Int32)]))
    );
    err(
        "{1, \"a\"}",
        "5: array elements must have compatible types: found a string after an integer",
    );
    err(
        "{1} + {2}",
        "5: `+` cannot be applied to an array and an array",
    );
    assert_eq!(
        eval_as("int", "{1}"),
        Err("1: expected an `int` value, found an array".into())
    );
    assert_eq!(
        eval_as("int[]", "1"),
        Err("1: expected an `int[]` value, found an integer".into())
    );
}

#[test]
fn array_sizes() {
    assert_eq!(
        eval_as("int[0]", "{}"),
        Err("an array size must be positive, found 0".into())
    );
    assert_eq!(
        eval_as("int[IFoo.MAX]", "{}"),
        Err("1: expected an array of 100 elements, found one with 0".into())
    );
}

#[test]
fn references() {
    ok("IFoo.MAX", int(100, Int32));
    ok("IFoo.MAX * 2", int(200, Int32));
    err("UNKNOWN + 1", "1: cannot resolve the constant `UNKNOWN`");
    err("1 + a.b.C.D", "5: cannot resolve the constant `a.b.C.D`");
    assert_eq!(eval_as("byte", "IFoo.MAX"), Ok(int(100, Int8)));
}

#[test]
fn conditional_operator() {
    ok("true ? 1 : 2", int(1, Int32));
    ok("false ? 1 : 2L", int(2, Int64));
    ok("SMALL ? NAME : \"other\"", Value::String("name".into()));
    ok("0 ? true : false", Value::Bool(false));
    ok("1 ? 1.5f : 2.5f", Value::Float(1.5));
    ok("1 ? 1.5f : 2.5", Value::Double(1.5));
    err(
        "1 ? 1 : \"a\"",
        "3: the branches of `?:` have different types: an integer and a string",
    );
    err(
        "\"a\" ? 1 : 2",
        "1: the condition of `?:` must be a boolean or an integer, found a string",
    );
    // Both branches are evaluated, as AOSP evaluates both sides of `&&`.
    err("1 ? 2 : 1 / 0", "11: division by zero in `1 / 0`");
}

#[test]
fn evaluating_every_expression_of_a_file() {
    // An enum's values, evaluated with the enumerators resolved in order as the resolver will.
    let text = "@Backing(type=\"byte\") enum E { A = 1, B = A << 2, C = B | A, D = ~C }";
    let path = Path::new("E.aidl");
    let doc = binder_aidl::parse(path, text).unwrap();
    let Decl::Enum(e) = &doc.decls[0] else {
        panic!()
    };
    let mut known: Vec<(String, Value)> = Vec::new();
    for enumerator in &e.enumerators {
        let lookup = |name: &QualifiedName| {
            known
                .iter()
                .find(|(n, _)| *n == name.to_string())
                .map(|(_, v)| v.clone())
        };
        let eval = Evaluator::new(path, &lookup);
        let value = eval
            .eval_as(enumerator.value.as_ref().unwrap(), &ConstType::Byte)
            .unwrap();
        known.push((enumerator.name.name.clone(), value));
    }
    let shown: Vec<String> = known.iter().map(|(n, v)| format!("{n}={v}")).collect();
    assert_eq!(shown, ["A=1", "B=4", "C=5", "D=-6"]);
}
