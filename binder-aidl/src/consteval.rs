//! Evaluation of constant expressions, with AOSP `aidl`'s typing rules.
//!
//! # The rules (as AOSP's `aidl_const_expressions.cpp` implements them)
//!
//! * **Integer literals** get the smallest of `int8`, `int32`, `int64` that holds them (AOSP
//!   guesses `int8` for small decimal literals; it only matters for unary operators, which keep
//!   their operand's width). A decimal literal must fit `long`. A suffix fixes the type: `l`/`L`
//!   is `long`, `u8` a byte given as `0..=255` (`255u8` is `-1`); see [`IntSuffix`] for the
//!   others.
//! * **Hex literals** are unsigned bit patterns: without suffix, one that fits 32 bits is an
//!   `int` with those bits (`0xffffffff` is `-1`), else a `long` with those 64 bits; with `l` it
//!   is always a `long`. So `const long X = 0xffffffff;` is `-1`, while `0xffffffffL` is
//!   4294967295.
//! * **Binary arithmetic** (`+ - * / % & | ^`) promotes each operand to at least `int`, then both
//!   to the wider one (C's usual arithmetic conversions), and computes in that width; leaving the
//!   width is an error ("overflow"), as is division by zero. Comparisons give a boolean, and so
//!   do `&&` and `||` (on integers: non-zero is true). Booleans take part in arithmetic as 0/1.
//! * **Shifts** compute in the wider promoted type of both operands. A negative amount shifts the
//!   other way; shifting a negative value, by the type's width or more, or a `1` bit past the
//!   sign bit is an error (`1 << 31` is allowed and gives `int`'s minimum).
//! * **Unary** `+ - ~ !` keep the operand's type (`!5` is the integer 0); `-` of the type's
//!   minimum overflows; `~` of a boolean is an error. Floats take only `+` and `-`.
//! * **Floats** take no binary operator at all. A literal with the `f` suffix may initialize a
//!   `float` or `double`; one without only a `double`.
//! * **Strings** take only `+`, which concatenates. String and character literals may hold only
//!   printable ASCII without backslash (AOSP supports no escape sequences).
//! * **Assigning to a type** checks the range: a `byte` takes values in `-128..=127`, an `int`
//!   in `i32`'s range, a `long` anything, a `boolean` any integer (non-zero is true). `char`
//!   takes only character literals, `String` only strings, arrays only array literals whose
//!   elements each fit the element type (and, for `T[N]`, exactly N of them).
//!
//! Departures from AOSP: `cond ? a : b` is evaluated (AOSP has no such operator), arrays of
//! floats and of characters are accepted (AOSP 2022 rejects any array whose elements are
//! floats or characters, which looks like an oversight), and arrays in binary operations are an
//! error rather than an internal failure.
//!
//! Names (`FOO`, `IFoo.BAR`, `Enum.VALUE`) are looked up through the caller's resolver, which
//! sees all files; cycles are its business. Note that AOSP gives a reference the type of the
//! referenced expression, not of the declaration: after `const long L = 1;`, `L` is an `int8`
//! literal, so `L << 40` overflows. A resolver returning [`Evaluator::eval`]'s result for the
//! referenced constant reproduces that; one returning [`Evaluator::eval_as`]'s gives `L` the
//! declared type.

use std::fmt;
use std::path::Path;

use crate::ast::{
    ArrayKind, BinaryOp, Expr, ExprKind, IntLiteral, IntSuffix, Primitive, QualifiedName, Radix,
    TypeName, TypeRef, UnaryOp,
};
use crate::diagnostic::{Diagnostic, Span};

/// The width of an integer value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntKind {
    /// 8 bits: AIDL's `byte`.
    Int8,
    /// 32 bits: AIDL's `int`.
    Int32,
    /// 64 bits: AIDL's `long`.
    Int64,
}

impl IntKind {
    /// The number of bits.
    pub fn bits(self) -> u32 {
        match self {
            IntKind::Int8 => 8,
            IntKind::Int32 => 32,
            IntKind::Int64 => 64,
        }
    }

    /// The smallest value.
    pub fn min_value(self) -> i64 {
        match self {
            IntKind::Int8 => i8::MIN.into(),
            IntKind::Int32 => i32::MIN.into(),
            IntKind::Int64 => i64::MIN,
        }
    }

    /// The largest value.
    pub fn max_value(self) -> i64 {
        match self {
            IntKind::Int8 => i8::MAX.into(),
            IntKind::Int32 => i32::MAX.into(),
            IntKind::Int64 => i64::MAX,
        }
    }

    /// The AIDL type of this width: `byte`, `int` or `long`.
    pub fn aidl_name(self) -> &'static str {
        match self {
            IntKind::Int8 => "byte",
            IntKind::Int32 => "int",
            IntKind::Int64 => "long",
        }
    }

    fn contains(self, value: i128) -> bool {
        (i128::from(self.min_value())..=i128::from(self.max_value())).contains(&value)
    }

    /// The value with the low `bits()` bits of `bits`, sign-extended.
    fn wrap(self, bits: u64) -> i64 {
        match self {
            IntKind::Int8 => i64::from(bits as u8 as i8),
            IntKind::Int32 => i64::from(bits as u32 as i32),
            IntKind::Int64 => bits as i64,
        }
    }
}

/// The value of a constant expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `true` or `false` (also what comparisons and `&&`/`||` give).
    Bool(bool),
    /// An integer of a width; `value` is always in the width's range.
    Int {
        /// The value.
        value: i64,
        /// Its width.
        kind: IntKind,
    },
    /// A float literal written with the `f` suffix, or a value of type `float`.
    Float(f64),
    /// A float literal without suffix, or a value of type `double`.
    Double(f64),
    /// A character.
    Char(char),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
}

impl Value {
    /// A short description for error messages: "an integer", "a string"...
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Bool(_) => "a boolean",
            Value::Int { .. } => "an integer",
            Value::Float(_) => "a float",
            Value::Double(_) => "a double",
            Value::Char(_) => "a character",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
        }
    }

    /// The integer or boolean (as 0/1) value with its width for arithmetic, if it is one.
    fn numeric(&self) -> Option<(i64, NumKind)> {
        match *self {
            Value::Bool(b) => Some((i64::from(b), NumKind::Bool)),
            Value::Int { value, kind } => Some((value, NumKind::Int(kind))),
            _ => None,
        }
    }

    fn is_floating(&self) -> bool {
        matches!(self, Value::Float(_) | Value::Double(_))
    }

    /// Whether two values may sit in one array, or be the branches of `?:`.
    fn same_family(&self, other: &Value) -> bool {
        (self.numeric().is_some() && other.numeric().is_some())
            || (self.is_floating() && other.is_floating())
            || matches!(
                (self, other),
                (Value::Char(_), Value::Char(_))
                    | (Value::String(_), Value::String(_))
                    | (Value::Array(_), Value::Array(_))
            )
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int { value, .. } => write!(f, "{value}"),
            Value::Float(x) => write!(f, "{x:?}f"),
            Value::Double(x) => write!(f, "{x:?}"),
            Value::Char(c) => write!(f, "'{}'", c.escape_default()),
            Value::String(s) => write!(f, "\"{}\"", s.escape_default()),
            Value::Array(items) => {
                f.write_str("{")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// The width used in arithmetic: booleans take part as 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumKind {
    Bool,
    Int(IntKind),
}

impl NumKind {
    /// Integral promotion: booleans and bytes compute as `int`.
    fn promote(self) -> IntKind {
        match self {
            NumKind::Bool | NumKind::Int(IntKind::Int8) => IntKind::Int32,
            NumKind::Int(kind) => kind,
        }
    }
}

/// A type a constant can have: what [`Evaluator::eval_as`] checks a value against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstType {
    /// `boolean`
    Boolean,
    /// `byte`
    Byte,
    /// `char`
    Char,
    /// `int`
    Int,
    /// `long`
    Long,
    /// `float`
    Float,
    /// `double`
    Double,
    /// `String`
    String,
    /// `T[]` (no length) or `T[N]`.
    Array {
        /// The element type; itself an array for `T[N][M]`.
        element: Box<ConstType>,
        /// `N` for a fixed-size array.
        len: Option<usize>,
    },
}

impl ConstType {
    /// The element type at the bottom of any array dimensions.
    fn base_name(&self) -> &'static str {
        match self {
            ConstType::Boolean => "boolean",
            ConstType::Byte => "byte",
            ConstType::Char => "char",
            ConstType::Int => "int",
            ConstType::Long => "long",
            ConstType::Float => "float",
            ConstType::Double => "double",
            ConstType::String => "String",
            ConstType::Array { element, .. } => element.base_name(),
        }
    }
}

impl fmt::Display for ConstType {
    /// The AIDL spelling: `int`, `String[]`, `byte[2][3]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.base_name())?;
        let mut ty = self;
        while let ConstType::Array { element, len } = ty {
            match len {
                Some(n) => write!(f, "[{n}]")?,
                None => f.write_str("[]")?,
            }
            ty = element;
        }
        Ok(())
    }
}

/// Evaluates constant expressions of one file.
pub struct Evaluator<'a> {
    path: &'a Path,
    resolve: &'a dyn Fn(&QualifiedName) -> Option<Value>,
}

impl fmt::Debug for Evaluator<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evaluator")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

type EResult<T> = Result<T, Diagnostic>;

impl<'a> Evaluator<'a> {
    /// An evaluator for expressions of the file `path` (named in diagnostics), looking names
    /// up with `resolve`: it gets the name as written (`FOO`, `IFoo.BAR`) and returns the
    /// referenced constant's or enumerator's value, or `None` if there is no such thing.
    pub fn new(path: &'a Path, resolve: &'a dyn Fn(&QualifiedName) -> Option<Value>) -> Self {
        Evaluator { path, resolve }
    }

    fn error(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.path, span, message)
    }

    /// The value of `expr`, with the type AOSP's rules give it.
    pub fn eval(&self, expr: &Expr) -> EResult<Value> {
        match &expr.kind {
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Int(lit) => self.int_literal(lit, expr.span),
            ExprKind::Float(lit) => {
                if !lit.value.is_finite() {
                    return Err(self.error(
                        expr.span,
                        format!("the float literal `{}` is out of range", lit.text),
                    ));
                }
                Ok(if lit.f_suffix {
                    Value::Float(lit.value)
                } else {
                    Value::Double(lit.value)
                })
            }
            ExprKind::Char(lit) => {
                check_literal_text(&lit.raw).map_err(|what| {
                    self.error(
                        expr.span,
                        format!(
                            "the character literal `'{}'` contains {what}; AIDL allows printable \
                             ASCII characters only, without escapes",
                            lit.raw
                        ),
                    )
                })?;
                Ok(Value::Char(lit.value))
            }
            ExprKind::String(lit) => {
                check_literal_text(&lit.raw).map_err(|what| {
                    self.error(
                        expr.span,
                        format!(
                            "the string literal \"{}\" contains {what}; AIDL strings allow printable \
                             ASCII characters only, without escapes",
                            lit.raw
                        ),
                    )
                })?;
                Ok(Value::String(lit.value.clone()))
            }
            ExprKind::Ref(name) => (self.resolve)(name).ok_or_else(|| {
                self.error(expr.span, format!("cannot resolve the constant `{name}`"))
            }),
            ExprKind::Unary { op, operand } => {
                let value = self.eval(operand)?;
                self.unary(*op, value, expr.span)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.eval(lhs)?;
                let r = self.eval(rhs)?;
                self.binary(*op, l, r, expr.span)
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => self.conditional(cond, then, otherwise, expr.span),
            ExprKind::Array(items) => {
                let mut values: Vec<Value> = Vec::with_capacity(items.len());
                for item in items {
                    let value = self.eval(item)?;
                    if let Some(first) = values.first()
                        && !first.same_family(&value)
                    {
                        return Err(self.error(
                            item.span,
                            format!(
                                "array elements must have compatible types: found {} after {}",
                                value.describe(),
                                first.describe()
                            ),
                        ));
                    }
                    values.push(value);
                }
                Ok(Value::Array(values))
            }
        }
    }

    /// The value of `expr` converted to `target`, checking that it fits (the check AOSP makes
    /// for a constant, a field default or an enumerator). A value that does not fit is reported
    /// at the start of the expression, or of the array element. The result has the target's shape:
    /// `Int` of the target's width, `Bool` for `boolean`, `Float` or `Double`, arrays converted
    /// element by element.
    pub fn eval_as(&self, expr: &Expr, target: &ConstType) -> EResult<Value> {
        if let (ExprKind::Array(items), ConstType::Array { element, len }) = (&expr.kind, target) {
            // Element by element, so that an error points at the element.
            self.eval(expr)?;
            self.check_len(items.len(), *len, expr.span)?;
            let values = items
                .iter()
                .map(|item| self.eval_as(item, element))
                .collect::<EResult<_>>()?;
            return Ok(Value::Array(values));
        }
        let value = self.eval(expr)?;
        self.coerce(value, target, expr.start())
    }

    /// Converts `value` to `target` as [`Self::eval_as`] does; `span` locates errors.
    pub fn coerce(&self, value: Value, target: &ConstType, span: Span) -> EResult<Value> {
        let int_kind = match target {
            ConstType::Byte => Some(IntKind::Int8),
            ConstType::Int => Some(IntKind::Int32),
            ConstType::Long => Some(IntKind::Int64),
            _ => None,
        };
        if let (Some(kind), Some((value, _))) = (int_kind, value.numeric()) {
            if !kind.contains(value.into()) {
                return Err(self.error(
                    span,
                    format!(
                        "the value {value} does not fit in `{target}` ({}..={})",
                        kind.min_value(),
                        kind.max_value()
                    ),
                ));
            }
            return Ok(Value::Int { value, kind });
        }
        match (target, value) {
            (ConstType::Boolean, Value::Bool(b)) => Ok(Value::Bool(b)),
            (ConstType::Boolean, Value::Int { value, .. }) => Ok(Value::Bool(value != 0)),
            (ConstType::Char, Value::Char(c)) => Ok(Value::Char(c)),
            (ConstType::Float, Value::Float(x)) => {
                let narrowed = x as f32;
                if !narrowed.is_finite() {
                    return Err(
                        self.error(span, format!("the value {x:?} is out of range for `float`"))
                    );
                }
                Ok(Value::Float(narrowed.into()))
            }
            (ConstType::Float, Value::Double(x)) => Err(self.error(
                span,
                format!("a `float` needs a float literal with the `f` suffix, like `{x:?}f`"),
            )),
            (ConstType::Double, Value::Float(x) | Value::Double(x)) => Ok(Value::Double(x)),
            (ConstType::String, Value::String(s)) => Ok(Value::String(s)),
            (ConstType::Array { element, len }, Value::Array(items)) => {
                self.check_len(items.len(), *len, span)?;
                let items = items
                    .into_iter()
                    .map(|item| self.coerce(item, element, span))
                    .collect::<EResult<_>>()?;
                Ok(Value::Array(items))
            }
            (target, value) => {
                let name = target.to_string();
                let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                Err(self.error(
                    span,
                    format!(
                        "expected {article} `{name}` value, found {}",
                        value.describe()
                    ),
                ))
            }
        }
    }

    fn check_len(&self, found: usize, expected: Option<usize>, span: Span) -> EResult<()> {
        match expected {
            Some(n) if n != found => Err(self.error(
                span,
                format!("expected an array of {n} elements, found one with {found}"),
            )),
            _ => Ok(()),
        }
    }

    /// The constant type of `ty`, evaluating the sizes of a fixed-size array (each must be a
    /// positive `int`). `Ok(None)` for types no literal can initialize here: generic types,
    /// interfaces, parcelables, and enums (whose values the resolver handles).
    pub fn const_type(&self, ty: &TypeRef) -> EResult<Option<ConstType>> {
        if !ty.args.is_empty() {
            return Ok(None);
        }
        let base = match &ty.name {
            TypeName::Primitive(p) => match p {
                Primitive::Boolean => ConstType::Boolean,
                Primitive::Byte => ConstType::Byte,
                Primitive::Char => ConstType::Char,
                Primitive::Int => ConstType::Int,
                Primitive::Long => ConstType::Long,
                Primitive::Float => ConstType::Float,
                Primitive::Double => ConstType::Double,
            },
            TypeName::Named(name) if name.is_simple() && name.last() == "String" => {
                ConstType::String
            }
            TypeName::Named(_) => return Ok(None),
        };
        Ok(Some(match &ty.array {
            None => base,
            Some(ArrayKind::Dynamic) => ConstType::Array {
                element: Box::new(base),
                len: None,
            },
            Some(ArrayKind::Fixed(dims)) => {
                let mut ty = base;
                for dim in dims.iter().rev() {
                    let len = match self.eval_as(dim, &ConstType::Int)? {
                        Value::Int { value, .. } if value > 0 => {
                            usize::try_from(value).unwrap_or(usize::MAX)
                        }
                        other => {
                            return Err(self.error(
                                dim.span,
                                format!("an array size must be positive, found {other}"),
                            ));
                        }
                    };
                    ty = ConstType::Array {
                        element: Box::new(ty),
                        len: Some(len),
                    };
                }
                ty
            }
        }))
    }

    fn int_literal(&self, lit: &IntLiteral, span: Span) -> EResult<Value> {
        let too_big = |range: &str| {
            self.error(
                span,
                format!(
                    "the integer literal `{}` is out of range ({range})",
                    lit.text
                ),
            )
        };
        let Some(v) = lit.value else {
            return Err(too_big("it needs more than 64 bits"));
        };
        let signed = |kind: IntKind| -> EResult<Value> {
            match i64::try_from(v) {
                Ok(value) if value <= kind.max_value() => Ok(Value::Int { value, kind }),
                _ => Err(too_big(&format!(
                    "at most {} for `{}`",
                    kind.max_value(),
                    kind.aidl_name()
                ))),
            }
        };
        let unsigned = |kind: IntKind| -> EResult<Value> {
            if kind.bits() < 64 && v >> kind.bits() != 0 {
                return Err(too_big(&format!(
                    "an unsigned {}-bit value is at most {}",
                    kind.bits(),
                    (1u64 << kind.bits()) - 1
                )));
            }
            Ok(Value::Int {
                value: kind.wrap(v),
                kind,
            })
        };
        match (lit.radix, lit.suffix) {
            (_, Some(IntSuffix::U8)) => unsigned(IntKind::Int8),
            (_, Some(IntSuffix::U32)) => unsigned(IntKind::Int32),
            (_, Some(IntSuffix::U64)) | (Radix::Hex, Some(IntSuffix::Long)) => {
                unsigned(IntKind::Int64)
            }
            (_, Some(IntSuffix::I8)) => signed(IntKind::Int8),
            (_, Some(IntSuffix::I32)) => signed(IntKind::Int32),
            (_, Some(IntSuffix::I64)) | (Radix::Decimal, Some(IntSuffix::Long)) => {
                signed(IntKind::Int64)
            }
            (Radix::Hex, None) if v <= u64::from(u32::MAX) => unsigned(IntKind::Int32),
            (Radix::Hex, None) => unsigned(IntKind::Int64),
            (Radix::Decimal, None) => {
                let kind = [IntKind::Int8, IntKind::Int32, IntKind::Int64]
                    .into_iter()
                    .find(|k| i128::from(v) <= i128::from(k.max_value()))
                    .ok_or_else(|| too_big("at most 9223372036854775807 for `long`"))?;
                signed(kind)
            }
        }
    }

    fn unary(&self, op: UnaryOp, value: Value, span: Span) -> EResult<Value> {
        match (op, value) {
            (UnaryOp::Plus, v @ (Value::Float(_) | Value::Double(_))) => Ok(v),
            (UnaryOp::Neg, Value::Float(x)) => Ok(Value::Float(-x)),
            (UnaryOp::Neg, Value::Double(x)) => Ok(Value::Double(-x)),
            (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
            // C++ `bool` arithmetic, which AOSP uses: `-true` converts back to `true`.
            (UnaryOp::Plus | UnaryOp::Neg, Value::Bool(b)) => Ok(Value::Bool(b)),
            (UnaryOp::BitNot, Value::Bool(_)) => Err(self.error(
                span,
                "`~` of a boolean is always true; use `!` to negate a boolean",
            )),
            (op, Value::Int { value, kind }) => {
                let result = match op {
                    UnaryOp::Plus => value,
                    UnaryOp::Neg if value == kind.min_value() => {
                        return Err(self.error(
                            span,
                            format!("`-({value})` overflows `{}`", kind.aidl_name()),
                        ));
                    }
                    UnaryOp::Neg => -value,
                    UnaryOp::BitNot => !value,
                    UnaryOp::Not => i64::from(value == 0),
                };
                Ok(Value::Int {
                    value: result,
                    kind,
                })
            }
            (op, value) => Err(self.error(
                span,
                format!(
                    "`{}` cannot be applied to {}",
                    op.as_str(),
                    value.describe()
                ),
            )),
        }
    }

    fn binary(&self, op: BinaryOp, l: Value, r: Value, span: Span) -> EResult<Value> {
        if let (Value::String(a), Value::String(b)) = (&l, &r) {
            if op == BinaryOp::Add {
                return Ok(Value::String(format!("{a}{b}")));
            }
            return Err(self.error(
                span,
                format!(
                    "`{}` cannot be applied to strings; only `+` (concatenation) can",
                    op.as_str()
                ),
            ));
        }
        let (Some((lv, lk)), Some((rv, rk))) = (l.numeric(), r.numeric()) else {
            if l.is_floating() || r.is_floating() {
                return Err(self.error(
                    span,
                    format!(
                        "`{}` cannot be applied to floating-point values (AIDL evaluates only \
                         unary `+` and `-` on them)",
                        op.as_str()
                    ),
                ));
            }
            return Err(self.error(
                span,
                format!(
                    "`{}` cannot be applied to {} and {}",
                    op.as_str(),
                    l.describe(),
                    r.describe()
                ),
            ));
        };
        let kind = lk.promote().max(rk.promote());
        let overflow = || {
            self.error(
                span,
                format!(
                    "`{lv} {} {rv}` overflows `{}`",
                    op.as_str(),
                    kind.aidl_name()
                ),
            )
        };
        let checked = |result: i128| -> EResult<Value> {
            if kind.contains(result) {
                // In range, so the conversion is exact.
                Ok(Value::Int {
                    value: result as i64,
                    kind,
                })
            } else {
                Err(overflow())
            }
        };
        let (l128, r128) = (i128::from(lv), i128::from(rv));
        match op {
            BinaryOp::Add => checked(l128 + r128),
            BinaryOp::Sub => checked(l128 - r128),
            BinaryOp::Mul => checked(l128 * r128),
            BinaryOp::Div | BinaryOp::Rem => {
                if rv == 0 {
                    return Err(self.error(
                        span,
                        format!("division by zero in `{lv} {} {rv}`", op.as_str()),
                    ));
                }
                if lv == kind.min_value() && rv == -1 {
                    return Err(overflow());
                }
                checked(if op == BinaryOp::Div {
                    l128 / r128
                } else {
                    l128 % r128
                })
            }
            BinaryOp::BitOr => checked(l128 | r128),
            BinaryOp::BitXor => checked(l128 ^ r128),
            BinaryOp::BitAnd => checked(l128 & r128),
            BinaryOp::Eq => Ok(Value::Bool(lv == rv)),
            BinaryOp::Ne => Ok(Value::Bool(lv != rv)),
            BinaryOp::Lt => Ok(Value::Bool(lv < rv)),
            BinaryOp::Gt => Ok(Value::Bool(lv > rv)),
            BinaryOp::Le => Ok(Value::Bool(lv <= rv)),
            BinaryOp::Ge => Ok(Value::Bool(lv >= rv)),
            BinaryOp::And => Ok(Value::Bool(lv != 0 && rv != 0)),
            BinaryOp::Or => Ok(Value::Bool(lv != 0 || rv != 0)),
            BinaryOp::Shl | BinaryOp::Shr => self.shift(op, lv, rv, kind, span),
        }
    }

    fn shift(
        &self,
        op: BinaryOp,
        value: i64,
        amount: i64,
        kind: IntKind,
        span: Span,
    ) -> EResult<Value> {
        let shown = format!("`{value} {} {amount}`", op.as_str());
        // A negative amount shifts the other way.
        let (left, amount) = match amount.checked_neg() {
            _ if amount >= 0 => (op == BinaryOp::Shl, amount),
            Some(flipped) => (op != BinaryOp::Shl, flipped),
            None => {
                return Err(
                    self.error(span, format!("the shift amount in {shown} is out of range"))
                );
            }
        };
        let bits = kind.bits();
        if amount >= i64::from(bits) {
            return Err(self.error(
                span,
                format!(
                    "the shift amount in {shown} must be less than {bits}, the width of `{}`",
                    kind.aidl_name()
                ),
            ));
        }
        if value < 0 {
            return Err(self.error(
                span,
                format!("{shown} shifts a negative value, which AIDL does not allow"),
            ));
        }
        // `amount` is in 0..bits and `value` is non-negative: the casts are exact.
        let amount = amount as u32;
        let value = value as u64;
        if !left {
            return Ok(Value::Int {
                value: (value >> amount) as i64,
                kind,
            });
        }
        let leading_zeros = bits - (u64::BITS - value.leading_zeros());
        if amount > leading_zeros {
            return Err(self.error(span, format!("{shown} overflows `{}`", kind.aidl_name())));
        }
        Ok(Value::Int {
            value: kind.wrap(value << amount),
            kind,
        })
    }

    fn conditional(
        &self,
        cond: &Expr,
        then: &Expr,
        otherwise: &Expr,
        span: Span,
    ) -> EResult<Value> {
        let chosen = match self.eval(cond)? {
            Value::Bool(b) => b,
            Value::Int { value, .. } => value != 0,
            other => {
                return Err(self.error(
                    cond.span,
                    format!(
                        "the condition of `?:` must be a boolean or an integer, found {}",
                        other.describe()
                    ),
                ));
            }
        };
        let a = self.eval(then)?;
        let b = self.eval(otherwise)?;
        if !a.same_family(&b) {
            return Err(self.error(
                span,
                format!(
                    "the branches of `?:` have different types: {} and {}",
                    a.describe(),
                    b.describe()
                ),
            ));
        }
        let value = if chosen { a.clone() } else { b.clone() };
        Ok(match (a.numeric(), b.numeric(), &a, &b) {
            (_, _, Value::Bool(_), Value::Bool(_)) => value,
            (Some((_, ak)), Some((_, bk)), _, _) => {
                let kind = ak.promote().max(bk.promote());
                let (v, _) = value.numeric().unwrap_or((0, NumKind::Bool));
                Value::Int { value: v, kind }
            }
            (_, _, Value::Float(_), Value::Float(_)) => value,
            (_, _, Value::Float(x) | Value::Double(x), Value::Float(y) | Value::Double(y)) => {
                Value::Double(if chosen { *x } else { *y })
            }
            _ => value,
        })
    }
}

/// Checks the text of a string or character literal as AOSP does: printable ASCII, no
/// backslash. Returns what offends, for the message.
fn check_literal_text(raw: &str) -> Result<(), String> {
    for (i, c) in raw.chars().enumerate() {
        if c == '\\' {
            return Err(format!("a backslash at index {i}"));
        }
        if !(' '..='~').contains(&c) {
            return Err(format!(
                "the character {:?} (U+{:04X}) at index {i}",
                c,
                u32::from(c)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_sign_extends() {
        assert_eq!(IntKind::Int8.wrap(0xff), -1);
        assert_eq!(IntKind::Int32.wrap(0x8000_0000), i64::from(i32::MIN));
        assert_eq!(IntKind::Int64.wrap(u64::MAX), -1);
    }

    #[test]
    fn const_type_display() {
        let ty = ConstType::Array {
            element: Box::new(ConstType::Array {
                element: Box::new(ConstType::Byte),
                len: Some(3),
            }),
            len: Some(2),
        };
        assert_eq!(ty.to_string(), "byte[2][3]");
    }
}
