//! Name resolution across files: which declaration every type name and constant reference
//! means, the values of all constants, and the semantic checks a code generator relies on.
//!
//! A [`Loader`] takes include directories and source files. [`Loader::load`] parses the
//! sources, loads every file they need from the include directories (each at most once), and
//! returns a [`Model`]:
//!
//! * every declaration by fully qualified name ([`Model::decl`], [`Model::declarations`]);
//! * for every [`TypeRef`] of every loaded file, what it names: a side table keyed by the file
//!   and the type's [`Span`] ([`Model::resolved_type`]); type arguments have their own entries;
//! * the value of every constant, enumerator and field default ([`Model::value`]), keyed by the
//!   member's fully qualified name (`a.b.IFoo.CONST`, `a.b.Color.RED`, `a.b.Foo.field`).
//!
//! # How a type name is looked up
//!
//! The rules follow AOSP's `aidl` tool. A name written in a file of package `P`, inside the
//! declarations `D1 > D2 > ...`, is, in this order:
//!
//! 1. a type parameter of an enclosing generic parcelable (simple names only);
//! 2. a built-in type (`int`... are primitives already; `String`, `CharSequence`, `List`,
//!    `Map`, `IBinder`, `FileDescriptor`, `ParcelFileDescriptor`, `ParcelableHolder`), also
//!    when written with its Java name (`java.util.List`, `android.os.IBinder`...);
//! 3. an enclosing declaration or a type nested in one (innermost first): `Inner`,
//!    `Outer.Inner`;
//! 4. a top-level type of the same file;
//! 5. an import whose last part is the name's first part (`import a.b.C;` makes `C` and
//!    `C.Inner` known);
//! 6. a type of the same package, loaded from `P/Name.aidl` in an include directory when it is
//!    not among the loaded files;
//! 7. a fully qualified name `pkg.Type` or `pkg.Type.Inner`, loaded from `pkg/Type.aidl`
//!    likewise (the longest package that works wins).
//!
//! An import `a.b.C` is found as the type `C` of package `a.b` (file `a/b/C.aidl`), or, for
//! `import a.b.C.Inner;`, as `Inner` nested in `C` of package `a.b`. Imports of the Java names
//! of built-in types (`import android.os.ParcelFileDescriptor;`) need no file.
//!
//! # Constants
//!
//! Constant values are computed by [`crate::consteval`], with a resolver that finds `NAME` (a
//! constant or enumerator of an enclosing declaration), `Type.NAME` and `pkg.Type.NAME` (the
//! type found as above). An enumerator without a value is the previous one plus one, the first
//! zero. An enum's backing type is `byte` unless `@Backing(type="int")` or `"long"` says
//! otherwise; every enumerator must fit it. A reference to a constant gets the value of its
//! expression with the expression's own type (AOSP's rule, see [`crate::consteval`]); a
//! reference to an enumerator gets the enumerator's value in the backing type. A cycle of
//! references is reported once, at the reference that closes it.
//!
//! # Checks
//!
//! See [`Loader::load`] for the list of semantic checks.

mod check;
mod consts;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::ast::{ArrayKind, Decl, Document, Expr, ExprKind, Primitive, TypeName, TypeRef};
use crate::consteval::{IntKind, Value};
use crate::diagnostic::{Diagnostic, Span};

/// A type AIDL knows without a declaration (primitives aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `String` (`java.lang.String`).
    String,
    /// `CharSequence` (`java.lang.CharSequence`).
    CharSequence,
    /// `List` (`java.util.List`).
    List,
    /// `Map` (`java.util.Map`).
    Map,
    /// `IBinder` (`android.os.IBinder`).
    IBinder,
    /// `FileDescriptor` (`java.io.FileDescriptor`).
    FileDescriptor,
    /// `ParcelFileDescriptor` (`android.os.ParcelFileDescriptor`).
    ParcelFileDescriptor,
    /// `ParcelableHolder` (`android.os.ParcelableHolder`).
    ParcelableHolder,
}

impl Builtin {
    const ALL: [(Builtin, &'static str, &'static str); 8] = [
        (Builtin::String, "String", "java.lang.String"),
        (
            Builtin::CharSequence,
            "CharSequence",
            "java.lang.CharSequence",
        ),
        (Builtin::List, "List", "java.util.List"),
        (Builtin::Map, "Map", "java.util.Map"),
        (Builtin::IBinder, "IBinder", "android.os.IBinder"),
        (
            Builtin::FileDescriptor,
            "FileDescriptor",
            "java.io.FileDescriptor",
        ),
        (
            Builtin::ParcelFileDescriptor,
            "ParcelFileDescriptor",
            "android.os.ParcelFileDescriptor",
        ),
        (
            Builtin::ParcelableHolder,
            "ParcelableHolder",
            "android.os.ParcelableHolder",
        ),
    ];

    /// The built-in type written `name`: its AIDL name (`List`) or its Java name
    /// (`java.util.List`).
    pub fn from_name(name: &str) -> Option<Builtin> {
        Self::ALL
            .iter()
            .find(|(_, short, java)| *short == name || *java == name)
            .map(|(b, _, _)| *b)
    }

    /// The AIDL name: `List`.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(b, _, _)| *b == self)
            .map_or("", |(_, short, _)| short)
    }
}

/// What a [`TypeRef`]'s base name refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResolvedType {
    /// A primitive type.
    Primitive(Primitive),
    /// A built-in type.
    Builtin(Builtin),
    /// A declared type, by fully qualified name (`a.b.Outer.Inner`).
    Declared(String),
    /// A type parameter of the enclosing generic parcelable (`T`).
    TypeParam(String),
}

/// One loaded file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedFile {
    /// Its syntax tree.
    pub document: Document,
    /// Whether it was given to the loader as a source, rather than found for an import or a
    /// reference in an include directory.
    pub is_source: bool,
}

/// A declaration of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclInfo {
    /// The fully qualified name: `a.b.Outer.Inner`.
    pub fqn: String,
    /// The package, `a.b`; empty when the file has no `package` line.
    pub package: String,
    /// The index of the file in [`Model::files`].
    pub file: usize,
    /// The indices leading to the declaration: the top-level declaration's index in
    /// [`Document::decls`], then the index among each declaration's nested types.
    pub path: Vec<usize>,
}

/// Everything [`Loader::load`] found: the files, their declarations, what every type name
/// means and every constant's value.
#[derive(Debug, Clone, Default)]
pub struct Model {
    files: Vec<LoadedFile>,
    decls: BTreeMap<String, DeclInfo>,
    types: HashMap<(usize, Span), ResolvedType>,
    values: HashMap<String, Value>,
    backing: HashMap<String, IntKind>,
    /// Per file: simple name → what its import means.
    imports: Vec<HashMap<String, ImportTarget>>,
}

impl Model {
    /// The loaded files: the sources in the order given, then the files loaded for them.
    pub fn files(&self) -> &[LoadedFile] {
        &self.files
    }

    /// The index in [`Model::files`] of the file loaded from `path`.
    pub fn file_index(&self, path: &Path) -> Option<usize> {
        self.files.iter().position(|f| f.document.path == path)
    }

    /// The declaration named `fqn`.
    pub fn decl(&self, fqn: &str) -> Option<&DeclInfo> {
        self.decls.get(fqn)
    }

    /// The syntax tree of the declaration named `fqn`.
    pub fn decl_node(&self, fqn: &str) -> Option<&Decl> {
        let info = self.decls.get(fqn)?;
        decl_at(&self.files[info.file].document, &info.path)
    }

    /// Every declaration, nested ones included, ordered by fully qualified name.
    pub fn declarations(&self) -> impl Iterator<Item = &DeclInfo> {
        self.decls.values()
    }

    /// What `ty`, a type written in file `file` (an index into [`Model::files`]), refers to.
    /// `None` for a type that is not part of that file.
    pub fn resolved_type(&self, file: usize, ty: &TypeRef) -> Option<&ResolvedType> {
        self.types.get(&(file, ty.span))
    }

    /// The value of the constant, enumerator or field default `member_fqn`
    /// (`a.b.IFoo.CONST`, `a.b.Color.RED`, `a.b.Foo.field`), converted to the member's type
    /// (an enumerator to its enum's backing type). Fields without a default have none.
    pub fn value(&self, member_fqn: &str) -> Option<&Value> {
        self.values.get(member_fqn)
    }

    /// The backing type of the enum `fqn`: [`IntKind::Int8`] unless `@Backing` says otherwise.
    pub fn enum_backing(&self, fqn: &str) -> Option<IntKind> {
        self.backing.get(fqn).copied()
    }
}

/// The declaration at `path` (see [`DeclInfo::path`]) of `doc`.
pub(crate) fn decl_at<'d>(doc: &'d Document, path: &[usize]) -> Option<&'d Decl> {
    let (first, rest) = path.split_first()?;
    let mut decl = doc.decls.get(*first)?;
    for &i in rest {
        decl = nested(decl).get(i)?;
    }
    Some(decl)
}

/// The types declared inside `decl`.
pub(crate) fn nested(decl: &Decl) -> &[Decl] {
    match decl {
        Decl::Interface(d) => &d.nested,
        Decl::Parcelable(d) => &d.nested,
        Decl::Union(d) => &d.nested,
        Decl::UnstructuredParcelable(_) | Decl::Enum(_) => &[],
    }
}

/// Where a declaration's name is.
pub(crate) fn name_span(decl: &Decl) -> Span {
    match decl {
        Decl::Interface(d) => d.name.span,
        Decl::Parcelable(d) => d.name.span,
        Decl::UnstructuredParcelable(d) => d.name.span,
        Decl::Enum(d) => d.name.span,
        Decl::Union(d) => d.name.span,
    }
}

fn declared_type_params(decl: &Decl) -> Vec<String> {
    let params = match decl {
        Decl::Parcelable(d) => &d.type_params,
        Decl::Union(d) => &d.type_params,
        Decl::UnstructuredParcelable(d) => &d.type_params,
        Decl::Interface(_) | Decl::Enum(_) => return Vec::new(),
    };
    params.iter().map(|p| p.name.clone()).collect()
}

/// `a.b` + `C` → `a.b.C`; an empty package adds no dot.
pub(crate) fn join(prefix: &str, rest: &[String]) -> String {
    let mut out = prefix.to_string();
    for part in rest {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(part);
    }
    out
}

/// The package of a document, dotted; empty without a `package` line.
pub(crate) fn package_of(doc: &Document) -> String {
    doc.package
        .as_ref()
        .map(|p| p.to_string())
        .unwrap_or_default()
}

/// Where a name is looked up: a file and the declarations around the name.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    /// Index of the file.
    pub file: usize,
    /// The fully qualified names of the enclosing declarations, outermost first.
    pub chain: Vec<String>,
    /// Type parameters in scope.
    pub type_params: Vec<String>,
}

impl Scope {
    pub(crate) fn enter(&self, fqn: String, decl: &Decl) -> Scope {
        let mut chain = self.chain.clone();
        chain.push(fqn);
        let mut type_params = self.type_params.clone();
        type_params.extend(declared_type_params(decl));
        Scope {
            file: self.file,
            chain,
            type_params,
        }
    }
}

/// Builds a [`Model`] from include directories and source files.
///
/// ```
/// use binder_aidl::resolve::{Loader, ResolvedType};
///
/// let mut loader = Loader::new();
/// loader.source_text("p/Color.aidl", "package p; enum Color { RED, GREEN = RED + 5 }");
/// loader.source_text("p/IPaint.aidl",
///     "package p; interface IPaint { const int G = Color.GREEN; void paint(in Color c); }");
/// let model = loader.load().unwrap();
/// assert_eq!(model.value("p.IPaint.G").unwrap().to_string(), "5");
/// assert!(model.decl("p.Color").is_some());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Loader {
    include_dirs: Vec<PathBuf>,
    sources: Vec<(PathBuf, Option<String>)>,
}

impl Loader {
    /// A loader without include directories or sources.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a directory in which files for imported or referenced types are looked for, as
    /// `dir/a/b/C.aidl` for `a.b.C`. Directories are searched in the order added.
    pub fn include_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.include_dirs.push(dir.into());
        self
    }

    /// Adds a source file, read from disk by [`Loader::load`].
    pub fn source_file(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.sources.push((path.into(), None));
        self
    }

    /// Adds a source file with the given text instead of reading it; `path` is used for
    /// diagnostics and for the check that the file's path matches its package.
    pub fn source_text(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> &mut Self {
        self.sources.push((path.into(), Some(text.into())));
        self
    }

    /// Parses the sources, loads the files they need, resolves every name, evaluates every
    /// constant and checks the result. Returns every diagnostic found, or the model if there
    /// are none.
    ///
    /// Checked, each error at the offending token:
    ///
    /// * files: a source that cannot be read or parsed; more than one top-level type in a file;
    ///   a file whose path does not end with its package's directories and its type's name
    ///   (`a/b/C.aidl` for `package a.b;` declaring `C`);
    /// * names: unknown types; imports that name no type; two imports of different types with
    ///   the same simple name; two declarations with the same fully qualified name; type
    ///   arguments on a type parameter;
    /// * constants: everything [`crate::consteval`] checks, unknown names, cycles, enum
    ///   backing types and the range of every enumerator, constants of a type that cannot be a
    ///   constant;
    /// * interfaces: a oneway method (or any method of a oneway interface) that returns a value
    ///   or has an `out`/`inout` parameter; explicit method ids on some methods but not all,
    ///   duplicated, or outside `0..=16777214`; a parameter without a direction whose type can
    ///   be an `out` parameter (arrays, `List`, `Map`, `ParcelFileDescriptor`, parcelables and
    ///   unions); `out`/`inout` on any other type (primitives, `String`, interfaces, `IBinder`,
    ///   enums...); `ParcelableHolder` parameters; duplicate method or parameter names;
    /// * members: two constants, fields or enumerators of one declaration with the same name.
    pub fn load(&self) -> Result<Model, Vec<Diagnostic>> {
        let mut state = LoadState {
            include_dirs: &self.include_dirs,
            model: Model::default(),
            diags: Vec::new(),
            loaded_paths: HashSet::new(),
            decl_spans: HashMap::new(),
        };
        for (path, text) in &self.sources {
            if !state.loaded_paths.insert(path.clone()) {
                continue;
            }
            let text = match text {
                Some(text) => text.clone(),
                None => match std::fs::read_to_string(path) {
                    Ok(text) => text,
                    Err(err) => {
                        state.diags.push(Diagnostic::new(
                            path,
                            Span::new(1, 1),
                            format!("cannot read the file: {err}"),
                        ));
                        continue;
                    }
                },
            };
            state.add_file(path, &text, true);
        }
        // Files loaded while resolving are appended; resolve each in turn.
        let mut i = 0;
        while i < state.model.files.len() {
            state.resolve_file(i);
            i += 1;
        }
        let LoadState {
            mut model,
            mut diags,
            ..
        } = state;
        consts::evaluate(&mut model, &mut diags);
        check::check(&model, &mut diags);
        if diags.is_empty() {
            Ok(model)
        } else {
            Err(diags)
        }
    }
}

/// The working state of [`Loader::load`].
struct LoadState<'a> {
    include_dirs: &'a [PathBuf],
    model: Model,
    diags: Vec<Diagnostic>,
    loaded_paths: HashSet<PathBuf>,
    /// Where each declaration's name is, for duplicate reports.
    decl_spans: HashMap<String, (PathBuf, Span)>,
}

#[derive(Debug, Clone)]
enum ImportTarget {
    Decl(String),
    Builtin(Builtin),
    /// The import did not resolve (already reported).
    Unknown,
}

impl LoadState<'_> {
    /// Parses `text` and registers its declarations; false if it did not parse.
    fn add_file(&mut self, path: &Path, text: &str, is_source: bool) -> bool {
        let document = match crate::parse(path, text) {
            Ok(doc) => doc,
            Err(diags) => {
                self.diags.extend(diags);
                return false;
            }
        };
        let file = self.model.files.len();
        let package = package_of(&document);
        for (i, decl) in document.decls.iter().enumerate() {
            self.register(file, &package, &package, decl, vec![i], path);
        }
        self.model.files.push(LoadedFile {
            document,
            is_source,
        });
        self.model.imports.push(HashMap::new());
        true
    }

    fn register(
        &mut self,
        file: usize,
        package: &str,
        prefix: &str,
        decl: &Decl,
        path: Vec<usize>,
        file_path: &Path,
    ) {
        let fqn = join(prefix, &[decl.name()]);
        let span = name_span(decl);
        if let Some((first_path, first_span)) = self.decl_spans.get(&fqn) {
            self.diags.push(Diagnostic::new(
                file_path,
                span,
                format!(
                    "`{fqn}` is already declared at {}:{first_span}",
                    first_path.display()
                ),
            ));
            return;
        }
        self.decl_spans
            .insert(fqn.clone(), (file_path.to_path_buf(), span));
        for (i, inner) in nested(decl).iter().enumerate() {
            let mut inner_path = path.clone();
            inner_path.push(i);
            self.register(file, package, &fqn, inner, inner_path, file_path);
        }
        self.model.decls.insert(
            fqn.clone(),
            DeclInfo {
                fqn,
                package: package.to_string(),
                file,
                path,
            },
        );
    }

    /// Makes sure the file for the top-level type `top` of `package` is loaded if an include
    /// directory has it.
    fn ensure_loaded(&mut self, package: &[String], top: &str) {
        if self
            .model
            .decls
            .contains_key(&join(&join("", package), &[top.to_string()]))
        {
            return;
        }
        for dir in self.include_dirs {
            let mut path = dir.clone();
            for part in package {
                path.push(part);
            }
            path.push(format!("{top}.aidl"));
            if self.loaded_paths.contains(&path) {
                return;
            }
            if let Ok(text) = std::fs::read_to_string(&path) {
                self.loaded_paths.insert(path.clone());
                self.add_file(&path, &text, false);
                return;
            }
        }
    }

    /// The declaration `package` + `type_path`, loading its file when needed.
    fn find(&mut self, package: &[String], type_path: &[String]) -> Option<String> {
        let top = type_path.first()?;
        self.ensure_loaded(package, top);
        let fqn = join(&join("", package), type_path);
        self.model.decls.contains_key(&fqn).then_some(fqn)
    }

    fn resolve_file(&mut self, file: usize) {
        let doc = self.model.files[file].document.clone();
        let package: Vec<String> = doc
            .package
            .as_ref()
            .map(|p| p.parts.clone())
            .unwrap_or_default();
        // Imports first: later lookups use them.
        let mut by_simple: HashMap<String, (String, Span)> = HashMap::new();
        for import in &doc.imports {
            let parts = &import.name.parts;
            let full = import.name.to_string();
            let target = if let Some(b) = Builtin::from_name(&full).filter(|_| parts.len() > 1) {
                ImportTarget::Builtin(b)
            } else {
                let found = (1..parts.len())
                    .rev()
                    .find_map(|k| self.find(&parts[..k], &parts[k..]));
                match found {
                    Some(fqn) => ImportTarget::Decl(fqn),
                    None => {
                        self.diags.push(Diagnostic::new(
                            &doc.path,
                            import.name.span,
                            format!("cannot find the imported type `{full}`"),
                        ));
                        ImportTarget::Unknown
                    }
                }
            };
            let simple = import.name.last().to_string();
            if let Some((other, _)) = by_simple.get(&simple) {
                if *other != full {
                    self.diags.push(Diagnostic::new(
                        &doc.path,
                        import.name.span,
                        format!(
                            "the import of `{full}` conflicts with the import of `{other}`: both \
                             are named `{simple}`"
                        ),
                    ));
                }
                continue;
            }
            by_simple.insert(simple.clone(), (full, import.name.span));
            self.model.imports[file].insert(simple, target);
        }
        let scope = Scope {
            file,
            chain: Vec::new(),
            type_params: Vec::new(),
        };
        let pkg = join("", &package);
        for decl in &doc.decls {
            let fqn = join(&pkg, &[decl.name()]);
            self.resolve_decl(&scope.enter(fqn, decl), decl, &doc.path);
        }
    }

    fn resolve_decl(&mut self, scope: &Scope, decl: &Decl, path: &Path) {
        match decl {
            Decl::Interface(d) => {
                for c in &d.consts {
                    self.resolve_type(scope, &c.ty, path);
                    self.preload_expr(scope, &c.value);
                }
                for m in &d.methods {
                    if let Some(ret) = &m.return_type {
                        self.resolve_type(scope, ret, path);
                    }
                    for arg in &m.args {
                        self.resolve_type(scope, &arg.ty, path);
                    }
                }
            }
            Decl::Parcelable(d) => {
                self.resolve_members(scope, &d.fields, &d.consts, path);
            }
            Decl::Union(d) => {
                self.resolve_members(scope, &d.fields, &d.consts, path);
            }
            Decl::Enum(d) => {
                for e in &d.enumerators {
                    if let Some(v) = &e.value {
                        self.preload_expr(scope, v);
                    }
                }
            }
            Decl::UnstructuredParcelable(_) => {}
        }
        for inner in nested(decl) {
            let fqn = join(
                scope.chain.last().map_or("", String::as_str),
                &[inner.name()],
            );
            self.resolve_decl(&scope.enter(fqn, inner), inner, path);
        }
    }

    fn resolve_members(
        &mut self,
        scope: &Scope,
        fields: &[crate::ast::Field],
        consts: &[crate::ast::Const],
        path: &Path,
    ) {
        for f in fields {
            self.resolve_type(scope, &f.ty, path);
            if let Some(v) = &f.default {
                self.preload_expr(scope, v);
            }
        }
        for c in consts {
            self.resolve_type(scope, &c.ty, path);
            self.preload_expr(scope, &c.value);
        }
    }

    /// Loads the files that qualified names in `expr` (`a.b.IFoo.X`) may refer to, so that
    /// constant evaluation finds them. Reports nothing: evaluation does.
    fn preload_expr(&mut self, scope: &Scope, expr: &Expr) {
        match &expr.kind {
            ExprKind::Ref(name) if name.parts.len() > 1 => {
                let type_parts = &name.parts[..name.parts.len() - 1];
                self.lookup(scope, type_parts);
            }
            ExprKind::Unary { operand, .. } => self.preload_expr(scope, operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.preload_expr(scope, lhs);
                self.preload_expr(scope, rhs);
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                self.preload_expr(scope, cond);
                self.preload_expr(scope, then);
                self.preload_expr(scope, otherwise);
            }
            ExprKind::Array(items) => {
                for item in items {
                    self.preload_expr(scope, item);
                }
            }
            _ => {}
        }
    }

    fn resolve_type(&mut self, scope: &Scope, ty: &TypeRef, path: &Path) {
        let resolved = match &ty.name {
            TypeName::Primitive(p) => Some(ResolvedType::Primitive(*p)),
            TypeName::Named(name) => {
                let found = self.lookup(scope, &name.parts);
                let broken_import = matches!(
                    name.parts.first().and_then(|first| self
                        .model
                        .imports
                        .get(scope.file)?
                        .get(first)),
                    Some(ImportTarget::Unknown)
                );
                if found.is_none() && !broken_import {
                    self.diags.push(Diagnostic::new(
                        path,
                        name.span,
                        format!("cannot find the type `{name}`"),
                    ));
                }
                if let Some(ResolvedType::TypeParam(p)) = &found
                    && !ty.args.is_empty()
                {
                    self.diags.push(Diagnostic::new(
                        path,
                        name.span,
                        format!("the type parameter `{p}` takes no type arguments"),
                    ));
                }
                found
            }
        };
        if let Some(resolved) = resolved {
            self.model.types.insert((scope.file, ty.span), resolved);
        }
        for arg in &ty.args {
            self.resolve_type(scope, arg, path);
        }
        if let Some(ArrayKind::Fixed(dims)) = &ty.array {
            for dim in dims {
                self.preload_expr(scope, dim);
            }
        }
    }

    /// What the type name `parts` means in `scope`, loading files as needed.
    fn lookup(&mut self, scope: &Scope, parts: &[String]) -> Option<ResolvedType> {
        let candidates = candidates(&self.model, scope, parts);
        for candidate in candidates {
            match candidate {
                Candidate::Done(r) => return Some(r),
                Candidate::Loaded(fqn) => {
                    if self.model.decls.contains_key(&fqn) {
                        return Some(ResolvedType::Declared(fqn));
                    }
                }
                Candidate::Load(package, type_path) => {
                    if let Some(fqn) = self.find(&package, &type_path) {
                        return Some(ResolvedType::Declared(fqn));
                    }
                }
                Candidate::Stop => return None,
            }
        }
        None
    }
}

/// One interpretation of a type name, tried in order.
enum Candidate {
    /// Settled.
    Done(ResolvedType),
    /// This fully qualified name, if declared among the loaded files.
    Loaded(String),
    /// The type `.1` of package `.0`, loading its file if needed.
    Load(Vec<String>, Vec<String>),
    /// Nothing further is tried (an unresolved import shadows the rest).
    Stop,
}

fn candidates(model: &Model, scope: &Scope, parts: &[String]) -> Vec<Candidate> {
    let mut out = Vec::new();
    let Some(first) = parts.first() else {
        return out;
    };
    let rest = &parts[1..];
    if parts.len() == 1 && scope.type_params.iter().any(|p| p == first) {
        out.push(Candidate::Done(ResolvedType::TypeParam(first.clone())));
        return out;
    }
    if let Some(b) = Builtin::from_name(&parts.join(".")) {
        out.push(Candidate::Done(ResolvedType::Builtin(b)));
        return out;
    }
    for enclosing in scope.chain.iter().rev() {
        if enclosing.rsplit('.').next() == Some(first.as_str()) {
            out.push(Candidate::Loaded(join(enclosing, rest)));
        }
        out.push(Candidate::Loaded(join(enclosing, parts)));
    }
    let Some(file) = model.files.get(scope.file) else {
        return out;
    };
    let package = package_of(&file.document);
    if file.document.decls.iter().any(|d| d.name() == *first) {
        out.push(Candidate::Loaded(join(&package, parts)));
    }
    match model.imports.get(scope.file).and_then(|m| m.get(first)) {
        Some(ImportTarget::Decl(fqn)) => {
            out.push(Candidate::Loaded(join(fqn, rest)));
            out.push(Candidate::Stop);
            return out;
        }
        Some(ImportTarget::Builtin(b)) if rest.is_empty() => {
            out.push(Candidate::Done(ResolvedType::Builtin(*b)));
            return out;
        }
        Some(_) => {
            out.push(Candidate::Stop);
            return out;
        }
        None => {}
    }
    let package_parts: Vec<String> = file
        .document
        .package
        .as_ref()
        .map(|p| p.parts.clone())
        .unwrap_or_default();
    out.push(Candidate::Load(package_parts, parts.to_vec()));
    for k in (1..parts.len()).rev() {
        out.push(Candidate::Load(parts[..k].to_vec(), parts[k..].to_vec()));
    }
    out
}

/// What `parts` means in `scope` among the loaded files only (no loading): the lookup
/// constant evaluation uses after loading.
pub(crate) fn lookup_loaded(
    model: &Model,
    scope: &Scope,
    parts: &[String],
) -> Option<ResolvedType> {
    for candidate in candidates(model, scope, parts) {
        match candidate {
            Candidate::Done(r) => return Some(r),
            Candidate::Loaded(fqn) => {
                if model.decls.contains_key(&fqn) {
                    return Some(ResolvedType::Declared(fqn));
                }
            }
            Candidate::Load(package, type_path) => {
                let fqn = join(&join("", &package), &type_path);
                if model.decls.contains_key(&fqn) {
                    return Some(ResolvedType::Declared(fqn));
                }
            }
            Candidate::Stop => return None,
        }
    }
    None
}
