//! Declarations (interface, parcelable, enum, union) and their members.

use super::{PResult, Parser, Reported};
use crate::ast::{
    Annotation, Arg, Const, Decl, Direction, Enum, Enumerator, Field, Ident, Interface, Method,
    MethodId, Parcelable, QualifiedName, StrArg, Union, UnstructuredParcelable,
};
use crate::diagnostic::Span;
use crate::lexer::{Keyword, Punct, Radix, TokenKind};

/// What a declaration starts with, collected before its keyword.
struct Head {
    doc: Option<String>,
    annotations: Vec<Annotation>,
    span: Span,
}

/// The members of a parcelable or union body.
#[derive(Default)]
struct StructBody {
    fields: Vec<Field>,
    consts: Vec<Const>,
    nested: Vec<Decl>,
}

impl Parser<'_> {
    /// The doc comment and annotations in front of a declaration or member. The doc comment is
    /// the one before the first token, or else before the first token after the annotations.
    fn head(&mut self) -> PResult<Head> {
        let span = self.span();
        let mut doc = self.peek().doc.clone();
        let annotations = self.annotations()?;
        if doc.is_none() {
            doc = self.peek().doc.clone();
        }
        Ok(Head {
            doc,
            annotations,
            span,
        })
    }

    fn at_decl_keyword(&self) -> bool {
        match self.peek().kind {
            TokenKind::Keyword(
                Keyword::Interface | Keyword::Parcelable | Keyword::Enum | Keyword::Union,
            ) => true,
            TokenKind::Keyword(Keyword::Oneway) => {
                self.peek_at(1).kind == TokenKind::Keyword(Keyword::Interface)
            }
            _ => false,
        }
    }

    /// A top-level declaration.
    pub(super) fn decl(&mut self) -> PResult<Decl> {
        let head = self.head()?;
        self.decl_after_head(head)
    }

    fn decl_after_head(&mut self, head: Head) -> PResult<Decl> {
        self.nested(|p| match p.peek().kind {
            TokenKind::Keyword(Keyword::Interface) => p.interface(head, false),
            TokenKind::Keyword(Keyword::Oneway) => {
                p.bump();
                if !p.at_kw(Keyword::Interface) {
                    return Err(
                        p.expected("`interface` after `oneway` (only interfaces can be oneway)")
                    );
                }
                p.interface(head, true)
            }
            TokenKind::Keyword(Keyword::Parcelable) => p.parcelable(head),
            TokenKind::Keyword(Keyword::Enum) => p.enum_decl(head),
            TokenKind::Keyword(Keyword::Union) => p.union_decl(head),
            _ => Err(p.expected("a declaration (`interface`, `parcelable`, `enum` or `union`)")),
        })
    }

    /// The name of a type declaration. AOSP wants a simple name (the package goes in
    /// `package`).
    fn type_decl_name(&mut self, what: &str) -> PResult<Ident> {
        let name = self.qualified_name(what)?;
        if !name.is_simple() {
            self.error(
                name.span,
                format!(
                    "the type name `{name}` cannot be qualified; declare the package with `package`"
                ),
            );
        }
        Ok(Ident {
            name: name.last().to_string(),
            span: name.span,
        })
    }

    fn interface(&mut self, head: Head, oneway: bool) -> PResult<Decl> {
        self.bump(); // `interface`
        let name = self.type_decl_name("an interface name")?;
        let mut interface = Interface {
            doc: head.doc,
            annotations: head.annotations,
            oneway,
            name,
            methods: Vec::new(),
            consts: Vec::new(),
            nested: Vec::new(),
            forward: false,
            span: head.span,
        };
        if !oneway && self.eat_punct(Punct::Semi) {
            interface.forward = true;
            return Ok(Decl::Interface(interface));
        }
        let what = format!("interface `{}`", interface.name.name);
        self.expect_punct(
            Punct::LBrace,
            &format!("after the interface name `{}`", interface.name.name),
        )?;
        self.body(&what, |p| {
            let head = p.head()?;
            if p.at_kw(Keyword::Const) {
                interface.consts.push(p.const_decl(head)?);
            } else if p.at_decl_keyword() {
                interface.nested.push(p.decl_after_head(head)?);
            } else {
                interface.methods.push(p.method(head)?);
            }
            Ok(())
        });
        Ok(Decl::Interface(interface))
    }

    /// The members of a `{ ... }` body up to its `}`, whose `{` has been taken. `member` parses
    /// one member; after an error the body goes on with the next one.
    fn body(&mut self, what: &str, mut member: impl FnMut(&mut Self) -> PResult<()>) {
        loop {
            if self.eat_punct(Punct::RBrace) {
                return;
            }
            if self.at_eof() {
                self.expected(&format!("`}}` to close {what}"));
                return;
            }
            let before = self.pos;
            if member(self).is_err() {
                self.recover();
            }
            if self.pos == before {
                self.bump();
            }
        }
    }

    fn method(&mut self, head: Head) -> PResult<Method> {
        let mut annotations = head.annotations;
        let oneway = self.eat_kw(Keyword::Oneway);
        if oneway {
            annotations.extend(self.annotations()?);
        }
        let return_type = if matches!(&self.peek().kind, TokenKind::Ident(n) if n == "void") {
            self.bump();
            None
        } else {
            Some(self.type_ref()?)
        };
        let name = self.ident("a method name")?;
        if self.at_punct(Punct::Semi) || self.at_punct(Punct::Eq) {
            return Err(self.expected(&format!(
                "`(` after the method name `{}` (an interface has no fields; constants need `const`)",
                name.name
            )));
        }
        self.expect_punct(
            Punct::LParen,
            &format!("after the method name `{}`", name.name),
        )?;
        let mut args = Vec::new();
        if !self.eat_punct(Punct::RParen) {
            loop {
                args.push(self.arg()?);
                if self.eat_punct(Punct::Comma) {
                    continue;
                }
                if self.eat_punct(Punct::RParen) {
                    break;
                }
                return Err(
                    self.expected(&format!("`,` or `)` in the parameters of `{}`", name.name))
                );
            }
        }
        let id = if self.eat_punct(Punct::Eq) {
            self.method_id()?
        } else {
            None
        };
        self.end_semi("after the method declaration");
        Ok(Method {
            doc: head.doc,
            annotations,
            oneway,
            return_type,
            name,
            args,
            id,
            span: head.span,
        })
    }

    /// The number after `= ` in a method declaration. AOSP takes a decimal literal that fits an
    /// `int`.
    fn method_id(&mut self) -> PResult<Option<MethodId>> {
        let span = self.span();
        let TokenKind::Int(lit) = &self.peek().kind else {
            return Err(self.expected("a method id (a decimal integer) after `=`"));
        };
        let value = match (lit.radix, lit.suffix, lit.value) {
            (Radix::Decimal, None, Some(v)) => i32::try_from(v).ok(),
            _ => None,
        };
        let text = lit.text.clone();
        self.bump();
        match value {
            Some(value) => Ok(Some(MethodId { value, span })),
            None => {
                self.error(
                    span,
                    format!("the method id `{text}` must be a decimal integer without suffix, at most 2147483647"),
                );
                Ok(None)
            }
        }
    }

    fn arg(&mut self) -> PResult<Arg> {
        let span = self.span();
        let early = self.annotations()?;
        let direction = match self.peek().kind {
            TokenKind::Keyword(Keyword::In) => Some(Direction::In),
            TokenKind::Keyword(Keyword::Out) => Some(Direction::Out),
            TokenKind::Keyword(Keyword::Inout) => Some(Direction::InOut),
            _ => None,
        };
        if let Some(direction) = direction {
            if let Some(first) = early.first() {
                let dir = match direction {
                    Direction::In => "in",
                    Direction::Out => "out",
                    Direction::InOut => "inout",
                };
                self.error(
                    first.span,
                    format!(
                        "annotations go after the direction: write `{dir} @{} Type name`",
                        first.name
                    ),
                );
                return Err(Reported);
            }
            self.bump();
        }
        let mut annotations = early;
        annotations.extend(self.annotations()?);
        let ty = self.type_ref()?;
        let name = self.ident("a parameter name")?;
        Ok(Arg {
            direction,
            annotations,
            ty,
            name,
            span,
        })
    }

    fn const_decl(&mut self, head: Head) -> PResult<Const> {
        self.bump(); // `const`
        let mut annotations = head.annotations;
        annotations.extend(self.annotations()?);
        let ty = self.type_ref()?;
        let name = self.ident("a constant name")?;
        self.expect_punct(
            Punct::Eq,
            &format!(
                "after the constant name `{}` (a constant needs a value)",
                name.name
            ),
        )?;
        let value = self.expr()?;
        self.end_semi(&format!("after the constant `{}`", name.name));
        Ok(Const {
            doc: head.doc,
            annotations,
            ty,
            name,
            value,
            span: head.span,
        })
    }

    fn field(&mut self, head: Head) -> PResult<Field> {
        if matches!(&self.peek().kind, TokenKind::Ident(n) if n == "void") {
            // `void f();` in a parcelable: say what is wrong with the whole, not with `void`.
            let void_span = self.bump().span;
            let name = self.ident("a field name")?;
            if self.at_punct(Punct::LParen) {
                self.method_in_parcelable(&name.name);
            } else {
                self.error(
                    void_span,
                    "`void` is only allowed as the return type of a method",
                );
            }
            return Err(Reported);
        }
        let ty = self.type_ref()?;
        let name = self.ident("a field name")?;
        if self.at_punct(Punct::LParen) {
            self.method_in_parcelable(&name.name);
            return Err(Reported);
        }
        let default = if self.eat_punct(Punct::Eq) {
            Some(self.expr()?)
        } else {
            None
        };
        self.end_semi(&format!("after the field `{}`", name.name));
        Ok(Field {
            doc: head.doc,
            annotations: head.annotations,
            ty,
            name,
            default,
            span: head.span,
        })
    }

    fn method_in_parcelable(&mut self, name: &str) {
        let span = self.span();
        self.error(
            span,
            format!("`{name}` looks like a method, but only interfaces have methods"),
        );
    }

    /// `<T, U>` after a parcelable or union name, if present.
    fn type_params(&mut self) -> PResult<Vec<Ident>> {
        let mut params = Vec::new();
        if !self.eat_punct(Punct::Lt) {
            return Ok(params);
        }
        loop {
            params.push(self.ident("a type parameter name")?);
            if self.eat_punct(Punct::Comma) {
                continue;
            }
            self.expect_punct(Punct::Gt, "to close the type parameters")?;
            return Ok(params);
        }
    }

    fn struct_body(&mut self, what: &str) -> StructBody {
        let mut body = StructBody::default();
        self.body(what, |p| {
            let head = p.head()?;
            if p.at_kw(Keyword::Const) {
                body.consts.push(p.const_decl(head)?);
            } else if p.at_decl_keyword() {
                body.nested.push(p.decl_after_head(head)?);
            } else {
                body.fields.push(p.field(head)?);
            }
            Ok(())
        });
        body
    }

    fn parcelable(&mut self, head: Head) -> PResult<Decl> {
        self.bump(); // `parcelable`
        let name = self.qualified_name("a parcelable name")?;
        let type_params = self.type_params()?;
        if self.at_punct(Punct::LBrace) {
            let name = self.structured_name(name);
            self.bump();
            let body = self.struct_body(&format!("parcelable `{}`", name.name));
            return Ok(Decl::Parcelable(Parcelable {
                doc: head.doc,
                annotations: head.annotations,
                name,
                type_params,
                fields: body.fields,
                consts: body.consts,
                nested: body.nested,
                span: head.span,
            }));
        }
        let mut decl = UnstructuredParcelable {
            doc: head.doc,
            annotations: head.annotations,
            name,
            type_params,
            cpp_header: None,
            ndk_header: None,
            rust_type: None,
            span: head.span,
        };
        let mut any_header = false;
        while let TokenKind::Keyword(
            keyword @ (Keyword::CppHeader | Keyword::NdkHeader | Keyword::RustType),
        ) = self.peek().kind
        {
            let keyword_span = self.bump().span;
            let arg = self.str_arg(keyword)?;
            let slot = match keyword {
                Keyword::CppHeader => &mut decl.cpp_header,
                Keyword::NdkHeader => &mut decl.ndk_header,
                _ => &mut decl.rust_type,
            };
            if slot.is_some() {
                self.error(
                    keyword_span,
                    format!("`{}` is given twice", keyword.as_str()),
                );
            }
            *slot = Some(arg);
            any_header = true;
        }
        if any_header {
            self.end_semi("after the parcelable declaration");
        } else if !self.eat_punct(Punct::Semi) {
            return Err(self.expected(&format!(
                "`{{` or `;` after the parcelable name `{}`",
                decl.name
            )));
        }
        Ok(Decl::UnstructuredParcelable(decl))
    }

    fn structured_name(&mut self, name: QualifiedName) -> Ident {
        if !name.is_simple() {
            self.error(
                name.span,
                format!(
                    "the type name `{name}` cannot be qualified; declare the package with `package`"
                ),
            );
        }
        Ident {
            name: name.last().to_string(),
            span: name.span,
        }
    }

    /// The string literal after `cpp_header`, `ndk_header` or `rust_type`.
    fn str_arg(&mut self, keyword: Keyword) -> PResult<StrArg> {
        let span = self.span();
        match &self.peek().kind {
            TokenKind::Str(lit) => {
                let value = lit.value.clone();
                self.bump();
                Ok(StrArg { value, span })
            }
            _ => Err(self.expected(&format!("a string literal after `{}`", keyword.as_str()))),
        }
    }

    fn union_decl(&mut self, head: Head) -> PResult<Decl> {
        self.bump(); // `union`
        let name = self.type_decl_name("a union name")?;
        let type_params = self.type_params()?;
        self.expect_punct(
            Punct::LBrace,
            &format!("after the union name `{}`", name.name),
        )?;
        let body = self.struct_body(&format!("union `{}`", name.name));
        Ok(Decl::Union(Union {
            doc: head.doc,
            annotations: head.annotations,
            name,
            type_params,
            fields: body.fields,
            consts: body.consts,
            nested: body.nested,
            span: head.span,
        }))
    }

    fn enum_decl(&mut self, head: Head) -> PResult<Decl> {
        self.bump(); // `enum`
        let name = self.type_decl_name("an enum name")?;
        self.expect_punct(
            Punct::LBrace,
            &format!("after the enum name `{}`", name.name),
        )?;
        let mut enumerators = Vec::new();
        loop {
            if self.at_punct(Punct::RBrace) {
                let span = self.bump().span;
                if enumerators.is_empty() {
                    self.error(
                        span,
                        format!("enum `{}` needs at least one enumerator", name.name),
                    );
                }
                break;
            }
            if self.at_eof() {
                self.expected(&format!("`}}` to close enum `{}`", name.name));
                break;
            }
            let before = self.pos;
            match self.enumerator() {
                Ok(e) => {
                    let after = e.name.name.clone();
                    enumerators.push(e);
                    if !self.eat_punct(Punct::Comma) && !self.at_punct(Punct::RBrace) {
                        self.expected(&format!("`,` or `}}` after the enumerator `{after}`"));
                        self.skip_enumerator();
                    }
                }
                Err(Reported) => self.skip_enumerator(),
            }
            if self.pos == before {
                self.bump();
            }
        }
        Ok(Decl::Enum(Enum {
            doc: head.doc,
            annotations: head.annotations,
            name,
            enumerators,
            span: head.span,
        }))
    }

    fn enumerator(&mut self) -> PResult<Enumerator> {
        let span = self.span();
        let doc = self.peek().doc.clone();
        let name = self.ident("an enumerator name")?;
        let value = if self.eat_punct(Punct::Eq) {
            Some(self.expr()?)
        } else {
            None
        };
        Ok(Enumerator {
            doc,
            name,
            value,
            span,
        })
    }

    /// Recovery inside an enum: skips past the next `,`, or up to the `}` closing the enum.
    fn skip_enumerator(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek().kind {
                TokenKind::Eof => return,
                TokenKind::Punct(Punct::Comma) if depth == 0 => {
                    self.bump();
                    return;
                }
                TokenKind::Punct(Punct::LBrace | Punct::LParen) => depth += 1,
                TokenKind::Punct(Punct::RBrace | Punct::RParen) => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            self.bump();
        }
    }
}
