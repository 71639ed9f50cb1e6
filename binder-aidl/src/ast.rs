//! The syntax tree of one AIDL file, as [`crate::parse`] returns it.
//!
//! Nothing here is resolved yet: type names are as written, constant expressions unevaluated
//! (see [`crate::consteval`]) and annotations unchecked (which annotations exist, and where they
//! may go, is the business of a later pass).
//!
//! Every node has a [`Span`]: where its first token starts (for a declaration, its first
//! annotation or keyword). Names have their own span.
//!
//! # Where annotations go
//!
//! AOSP's grammar has no separate list for a member's annotations: everything written before a
//! method's return type, a field's type or a constant's type (and before or after `oneway` or
//! `const`) annotates that type. This tree keeps those in the member's `annotations`
//! ([`Method::annotations`], [`Field::annotations`], [`Const::annotations`],
//! [`Arg::annotations`]) and leaves the top-level [`TypeRef::annotations`] of the member's type
//! empty. [`TypeRef::annotations`] is filled where no member owns the annotation: on type
//! arguments (`List<@nullable String>`).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

pub use crate::diagnostic::Span;
pub use crate::lexer::{CharLiteral, FloatLiteral, IntLiteral, IntSuffix, Radix, StringLiteral};

/// One parsed `.aidl` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The file it was parsed from, for diagnostics.
    pub path: PathBuf,
    /// `package a.b;`, if present.
    pub package: Option<QualifiedName>,
    /// `import a.b.C;` lines, in order.
    pub imports: Vec<Import>,
    /// The declared types. AOSP wants exactly one top-level type per file for most backends;
    /// several are accepted here without complaint.
    pub decls: Vec<Decl>,
}

/// A dotted name: `android.os.IBinder`, `IFoo.CONST`, `Foo`.
///
/// Equality and hashing compare the parts only, not the span, so names work as map keys.
#[derive(Debug, Clone, Eq)]
pub struct QualifiedName {
    /// The identifiers between the dots; never empty.
    pub parts: Vec<String>,
    /// Where the first part starts.
    pub span: Span,
}

impl QualifiedName {
    /// The last part: the simple name.
    pub fn last(&self) -> &str {
        self.parts.last().map_or("", String::as_str)
    }

    /// Whether this is a single identifier.
    pub fn is_simple(&self) -> bool {
        self.parts.len() == 1
    }
}

impl PartialEq for QualifiedName {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}

impl Hash for QualifiedName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts.hash(state);
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.parts.join("."))
    }
}

/// A single identifier: a declaration's, member's or parameter's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// `import a.b.C;`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The imported type's qualified name.
    pub name: QualifiedName,
    /// Where `import` is.
    pub span: Span,
}

/// `@Name`, `@Name(value)` or `@Name(key = value, ...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// The name, without `@`.
    pub name: String,
    /// What is between the parentheses.
    pub args: AnnotationArgs,
    /// Where `@` is.
    pub span: Span,
}

impl Annotation {
    /// The value of parameter `name`. A single unnamed value (`@Backing("int")`) is the
    /// parameter `value`, as AOSP reads it.
    pub fn param(&self, name: &str) -> Option<&Expr> {
        match &self.args {
            AnnotationArgs::None => None,
            AnnotationArgs::Value(expr) => (name == "value").then_some(expr),
            AnnotationArgs::Named(params) => params
                .iter()
                .find(|p| p.name.name == name)
                .map(|p| &p.value),
        }
    }
}

/// The arguments of an annotation.
#[derive(Debug, Clone, PartialEq)]
pub enum AnnotationArgs {
    /// `@Name`, without parentheses.
    None,
    /// `@Name(expr)`: one unnamed value, which AOSP names `value`.
    Value(Expr),
    /// `@Name(a = 1, b = "x")`, or `@Name()` with no parameters. Names are unique.
    Named(Vec<AnnotationParam>),
}

/// `key = value` in an annotation.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotationParam {
    /// The parameter's name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
}

/// A declared type.
#[derive(Debug, Clone, PartialEq)]
pub enum Decl {
    /// `interface IFoo { ... }`
    Interface(Interface),
    /// `parcelable Foo { ... }`
    Parcelable(Parcelable),
    /// `parcelable Foo;`, optionally with `cpp_header` and friends.
    UnstructuredParcelable(UnstructuredParcelable),
    /// `enum E { ... }`
    Enum(Enum),
    /// `union U { ... }`
    Union(Union),
}

impl Decl {
    /// The declared name, as written (qualified only for an unstructured parcelable, which
    /// AOSP allows to name a nested type: `parcelable Outer.Inner;`).
    pub fn name(&self) -> String {
        match self {
            Decl::Interface(d) => d.name.name.clone(),
            Decl::Parcelable(d) => d.name.name.clone(),
            Decl::UnstructuredParcelable(d) => d.name.to_string(),
            Decl::Enum(d) => d.name.name.clone(),
            Decl::Union(d) => d.name.name.clone(),
        }
    }

    /// Where the declaration starts.
    pub fn span(&self) -> Span {
        match self {
            Decl::Interface(d) => d.span,
            Decl::Parcelable(d) => d.span,
            Decl::UnstructuredParcelable(d) => d.span,
            Decl::Enum(d) => d.span,
            Decl::Union(d) => d.span,
        }
    }

    /// The doc comment before the declaration.
    pub fn doc(&self) -> Option<&str> {
        match self {
            Decl::Interface(d) => d.doc.as_deref(),
            Decl::Parcelable(d) => d.doc.as_deref(),
            Decl::UnstructuredParcelable(d) => d.doc.as_deref(),
            Decl::Enum(d) => d.doc.as_deref(),
            Decl::Union(d) => d.doc.as_deref(),
        }
    }

    /// The annotations written before the declaration.
    pub fn annotations(&self) -> &[Annotation] {
        match self {
            Decl::Interface(d) => &d.annotations,
            Decl::Parcelable(d) => &d.annotations,
            Decl::UnstructuredParcelable(d) => &d.annotations,
            Decl::Enum(d) => &d.annotations,
            Decl::Union(d) => &d.annotations,
        }
    }
}

/// `[oneway] interface IFoo { methods, constants, nested types }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Interface {
    /// The doc comment.
    pub doc: Option<String>,
    /// Annotations before `interface` (or `oneway`).
    pub annotations: Vec<Annotation>,
    /// `oneway interface`: every method is oneway.
    pub oneway: bool,
    /// The interface's name.
    pub name: Ident,
    /// Methods, in declaration order (which gives their transaction codes).
    pub methods: Vec<Method>,
    /// Constants, in declaration order.
    pub consts: Vec<Const>,
    /// Types declared inside, in declaration order.
    pub nested: Vec<Decl>,
    /// `interface IFoo;` without a body, which AOSP's grammar also accepts.
    pub forward: bool,
    /// Where the declaration starts.
    pub span: Span,
}

/// A method of an interface:
/// `[annotations] [oneway] ReturnType name(args) [= id];`.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// The doc comment.
    pub doc: Option<String>,
    /// Every annotation before the return type's name, before or after `oneway`, in source
    /// order. AOSP attaches all of them to the return type (`@nullable String get()`); method
    /// annotations such as `@UnsupportedAppUsage` live in the same list.
    pub annotations: Vec<Annotation>,
    /// `oneway` before the return type.
    pub oneway: bool,
    /// The return type; `None` for `void`.
    pub return_type: Option<TypeRef>,
    /// The method's name.
    pub name: Ident,
    /// The parameters.
    pub args: Vec<Arg>,
    /// `= N`: an explicit transaction id (`FIRST_CALL_TRANSACTION + N`).
    pub id: Option<MethodId>,
    /// Where the method starts.
    pub span: Span,
}

/// The explicit id of a method (`= 7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodId {
    /// The number: a decimal literal without suffix that fits an `int`, as AOSP requires.
    pub value: i32,
    /// Where the number is.
    pub span: Span,
}

/// The direction of a method parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `in`: sent to the callee.
    In,
    /// `out`: filled by the callee and sent back.
    Out,
    /// `inout`: both.
    InOut,
}

/// A method parameter: `[in|out|inout] [annotations] Type name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    /// The direction, if written. AOSP defaults to `in` and requires one for non-primitive
    /// types; that check belongs to a later pass.
    pub direction: Option<Direction>,
    /// Annotations between the direction and the type (`in @nullable String s`).
    pub annotations: Vec<Annotation>,
    /// The parameter's type.
    pub ty: TypeRef,
    /// The parameter's name.
    pub name: Ident,
    /// Where the parameter starts.
    pub span: Span,
}

/// `parcelable Foo<T, U> { fields, constants, nested types }`: a structured parcelable.
#[derive(Debug, Clone, PartialEq)]
pub struct Parcelable {
    /// The doc comment.
    pub doc: Option<String>,
    /// Annotations before `parcelable`.
    pub annotations: Vec<Annotation>,
    /// The parcelable's name.
    pub name: Ident,
    /// Type parameters: `T` and `U` in `parcelable Foo<T, U>`.
    pub type_params: Vec<Ident>,
    /// Fields, in declaration order (which is the wire order).
    pub fields: Vec<Field>,
    /// Constants, in declaration order.
    pub consts: Vec<Const>,
    /// Types declared inside.
    pub nested: Vec<Decl>,
    /// Where the declaration starts.
    pub span: Span,
}

/// `union U { ... }`: like a parcelable, but holds exactly one of its fields at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Union {
    /// The doc comment.
    pub doc: Option<String>,
    /// Annotations before `union`.
    pub annotations: Vec<Annotation>,
    /// The union's name.
    pub name: Ident,
    /// Type parameters.
    pub type_params: Vec<Ident>,
    /// The alternatives, in declaration order (which gives their tags).
    pub fields: Vec<Field>,
    /// Constants.
    pub consts: Vec<Const>,
    /// Types declared inside.
    pub nested: Vec<Decl>,
    /// Where the declaration starts.
    pub span: Span,
}

/// `parcelable Foo [cpp_header "..."] [ndk_header "..."] [rust_type "..."];`: a parcelable
/// defined in each target language by hand, which AIDL only names.
#[derive(Debug, Clone, PartialEq)]
pub struct UnstructuredParcelable {
    /// The doc comment.
    pub doc: Option<String>,
    /// Annotations before `parcelable` (`@JavaOnlyStableParcelable`...).
    pub annotations: Vec<Annotation>,
    /// The name; may be qualified for a nested class (`Outer.Inner`).
    pub name: QualifiedName,
    /// Type parameters.
    pub type_params: Vec<Ident>,
    /// `cpp_header "path.h"`: the header the C++ backend includes.
    pub cpp_header: Option<StrArg>,
    /// `ndk_header "path.h"`: the header the NDK backend includes.
    pub ndk_header: Option<StrArg>,
    /// `rust_type "crate::Type"`: the type the Rust backend uses.
    pub rust_type: Option<StrArg>,
    /// Where the declaration starts.
    pub span: Span,
}

/// A string given to a keyword (`cpp_header "foo.h"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrArg {
    /// The string, escapes decoded.
    pub value: String,
    /// Where the literal is.
    pub span: Span,
}

/// `enum E { A, B = 3, C = B + 1, }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    /// The doc comment.
    pub doc: Option<String>,
    /// Annotations before `enum`, such as `@Backing(type="byte")`.
    pub annotations: Vec<Annotation>,
    /// The enum's name.
    pub name: Ident,
    /// The enumerators, in order; at least one.
    pub enumerators: Vec<Enumerator>,
    /// Where the declaration starts.
    pub span: Span,
}

/// One enumerator: `NAME` or `NAME = expr`. Without a value it is the previous one plus one
/// (the first is zero); computing that is the resolver's work.
#[derive(Debug, Clone, PartialEq)]
pub struct Enumerator {
    /// The doc comment.
    pub doc: Option<String>,
    /// The enumerator's name.
    pub name: Ident,
    /// The value expression, if given.
    pub value: Option<Expr>,
    /// Where the enumerator starts.
    pub span: Span,
}

/// A field of a parcelable or union: `[annotations] Type name [= default];`.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The doc comment.
    pub doc: Option<String>,
    /// Annotations before the type (`@nullable`, `@utf8InCpp`...).
    pub annotations: Vec<Annotation>,
    /// The field's type.
    pub ty: TypeRef,
    /// The field's name.
    pub name: Ident,
    /// The default value, if given.
    pub default: Option<Expr>,
    /// Where the field starts.
    pub span: Span,
}

/// `[annotations] const Type NAME = expr;`.
#[derive(Debug, Clone, PartialEq)]
pub struct Const {
    /// The doc comment.
    pub doc: Option<String>,
    /// Annotations before `const` and between `const` and the type.
    pub annotations: Vec<Annotation>,
    /// The constant's type.
    pub ty: TypeRef,
    /// The constant's name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// Where the declaration starts.
    pub span: Span,
}

/// A use of a type: `int`, `String[]`, `List<Foo>`, `Map<String, IBar>`, `byte[2][3]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeRef {
    /// Annotations on this type. Empty on a member's own type (see the module docs); filled
    /// on type arguments.
    pub annotations: Vec<Annotation>,
    /// The base type.
    pub name: TypeName,
    /// Generic arguments: `[String]` for `List<String>`.
    pub args: Vec<TypeRef>,
    /// `[]` or `[N]...` after the type, if any.
    pub array: Option<ArrayKind>,
    /// Where the type starts.
    pub span: Span,
}

/// The base of a [`TypeRef`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeName {
    /// A primitive type.
    Primitive(Primitive),
    /// Any other type, as written: `String`, `List`, `IBinder`, `a.b.Foo`, a type parameter.
    Named(QualifiedName),
}

/// AIDL's primitive types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Primitive {
    /// `boolean`
    Boolean,
    /// `byte`: signed 8 bits.
    Byte,
    /// `char`: a UTF-16 code unit.
    Char,
    /// `int`: signed 32 bits.
    Int,
    /// `long`: signed 64 bits.
    Long,
    /// `float`
    Float,
    /// `double`
    Double,
}

impl Primitive {
    /// The primitive spelled `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Primitive> {
        Some(match name {
            "boolean" => Primitive::Boolean,
            "byte" => Primitive::Byte,
            "char" => Primitive::Char,
            "int" => Primitive::Int,
            "long" => Primitive::Long,
            "float" => Primitive::Float,
            "double" => Primitive::Double,
            _ => return None,
        })
    }

    /// The AIDL spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Primitive::Boolean => "boolean",
            Primitive::Byte => "byte",
            Primitive::Char => "char",
            Primitive::Int => "int",
            Primitive::Long => "long",
            Primitive::Float => "float",
            Primitive::Double => "double",
        }
    }
}

/// The array part of a type.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayKind {
    /// `T[]`: a dynamic array. AOSP allows one dimension only.
    Dynamic,
    /// `T[N]`, `T[N][M]`...: fixed-size, the sizes outermost first. AOSP does not mix fixed and
    /// dynamic dimensions.
    Fixed(Vec<Expr>),
}

/// A constant expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is: the literal or name, the operator of a unary or binary expression, the `?`
    /// of a conditional, the `{` of an array.
    pub span: Span,
}

impl Expr {
    /// Where the expression's first token is (its [`Expr::span`] is the operator's for
    /// operations): `1` in `1 + 2`.
    pub fn start(&self) -> Span {
        let mut expr = self;
        loop {
            match &expr.kind {
                ExprKind::Binary { lhs, .. } => expr = lhs,
                ExprKind::Conditional { cond, .. } => expr = cond,
                _ => return expr.span,
            }
        }
    }
}

/// The kinds of constant expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `true` or `false`.
    Bool(bool),
    /// An integer literal.
    Int(IntLiteral),
    /// A float literal.
    Float(FloatLiteral),
    /// A character literal.
    Char(CharLiteral),
    /// A string literal.
    String(StringLiteral),
    /// A name: `FOO`, `IFoo.BAR`, `SomeEnum.VALUE`, `a.b.IFoo.BAR`.
    Ref(QualifiedName),
    /// `op operand`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `lhs op rhs`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// The left operand.
        lhs: Box<Expr>,
        /// The right operand.
        rhs: Box<Expr>,
    },
    /// `cond ? then : otherwise`. Not in AOSP's grammar (as of the 2022 sources checked);
    /// accepted here as an extension.
    Conditional {
        /// The condition.
        cond: Box<Expr>,
        /// The value when the condition is true.
        then: Box<Expr>,
        /// The value when it is false.
        otherwise: Box<Expr>,
    },
    /// `{a, b, c}`, trailing comma allowed.
    Array(Vec<Expr>),
}

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `+`
    Plus,
    /// `-`
    Neg,
    /// `~`
    BitNot,
    /// `!`
    Not,
}

impl UnaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Plus => "+",
            UnaryOp::Neg => "-",
            UnaryOp::BitNot => "~",
            UnaryOp::Not => "!",
        }
    }
}

/// A binary operator. Precedence is C's, lowest first: `||`, `&&`, `|`, `^`, `&`,
/// `==`/`!=`, `<`/`>`/`<=`/`>=`, `<<`/`>>`, `+`/`-`, `*`/`/`/`%`; all left-associative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant is the operator `as_str` returns
pub enum BinaryOp {
    Or,
    And,
    BitOr,
    BitXor,
    BitAnd,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Shl,
    Shr,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::BitAnd => "&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Gt => ">",
            BinaryOp::Le => "<=",
            BinaryOp::Ge => ">=",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    /// Binding strength: higher binds tighter. `||` is 1, `*` is 10.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::BitOr => 3,
            BinaryOp::BitXor => 4,
            BinaryOp::BitAnd => 5,
            BinaryOp::Eq | BinaryOp::Ne => 6,
            BinaryOp::Lt | BinaryOp::Gt | BinaryOp::Le | BinaryOp::Ge => 7,
            BinaryOp::Shl | BinaryOp::Shr => 8,
            BinaryOp::Add | BinaryOp::Sub => 9,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 10,
        }
    }
}
