//! Types and annotations.

use super::{PResult, Parser};
use crate::ast::{
    Annotation, AnnotationArgs, AnnotationParam, ArrayKind, Primitive, TypeName, TypeRef,
};
use crate::lexer::{Punct, Token, TokenKind};

impl Parser<'_> {
    /// Zero or more annotations.
    pub(super) fn annotations(&mut self) -> PResult<Vec<Annotation>> {
        let mut annotations = Vec::new();
        while let TokenKind::Annotation(name) = &self.peek().kind {
            let name = name.clone();
            let span = self.bump().span;
            let args = if self.eat_punct(Punct::LParen) {
                self.annotation_args(&name)?
            } else {
                AnnotationArgs::None
            };
            annotations.push(Annotation { name, args, span });
        }
        Ok(annotations)
    }

    /// What follows `@Name(`, up to and including `)`.
    fn annotation_args(&mut self, name: &str) -> PResult<AnnotationArgs> {
        let close = format!("to close the arguments of `@{name}`");
        if self.eat_punct(Punct::RParen) {
            return Ok(AnnotationArgs::Named(Vec::new()));
        }
        let named = self.at_ident() && self.peek_at(1).kind == TokenKind::Punct(Punct::Eq);
        if !named {
            let value = self.expr()?;
            self.expect_punct(Punct::RParen, &close)?;
            return Ok(AnnotationArgs::Value(value));
        }
        let mut params: Vec<AnnotationParam> = Vec::new();
        loop {
            let param_name = self.ident(&format!("a parameter name in `@{name}`"))?;
            self.expect_punct(
                Punct::Eq,
                &format!("after the parameter name `{}`", param_name.name),
            )?;
            let value = self.expr()?;
            if params.iter().any(|p| p.name.name == param_name.name) {
                self.error(
                    param_name.span,
                    format!(
                        "parameter `{}` is given twice in `@{name}`",
                        param_name.name
                    ),
                );
            }
            params.push(AnnotationParam {
                name: param_name,
                value,
            });
            if self.eat_punct(Punct::Comma) {
                continue;
            }
            if self.eat_punct(Punct::RParen) {
                return Ok(AnnotationArgs::Named(params));
            }
            return Err(self.expected(&format!("`,` or `)` in the arguments of `@{name}`")));
        }
    }

    /// A type: `[annotations] Name [<args>] [[]|[N]...]`.
    pub(super) fn type_ref(&mut self) -> PResult<TypeRef> {
        self.nested(|p| p.type_ref_inner())
    }

    fn type_ref_inner(&mut self) -> PResult<TypeRef> {
        let span = self.span();
        let annotations = self.annotations()?;
        let name = self.qualified_name("a type")?;
        if name.is_simple() && name.last() == "void" {
            self.error(
                name.span,
                "`void` is only allowed as the return type of a method",
            );
        }
        let base = name.to_string();
        let type_name = match Primitive::from_name(name.last()).filter(|_| name.is_simple()) {
            Some(primitive) => TypeName::Primitive(primitive),
            None => TypeName::Named(name),
        };
        let mut args = Vec::new();
        if self.eat_punct(Punct::Lt) {
            loop {
                args.push(self.type_ref()?);
                if self.eat_punct(Punct::Comma) {
                    continue;
                }
                if self.eat_closing_angle() {
                    break;
                }
                return Err(self.expected(&format!("`,` or `>` in the type arguments of `{base}`")));
            }
        }
        let array = self.array_suffix(span)?;
        Ok(TypeRef {
            annotations,
            name: type_name,
            args,
            array,
            span,
        })
    }

    /// Takes a `>` closing type arguments. A `>>` (as in `List<List<T>>`) is split: one half
    /// is taken and a `>` one column further stays.
    fn eat_closing_angle(&mut self) -> bool {
        match self.peek().kind {
            TokenKind::Punct(Punct::Gt) => {
                self.bump();
                true
            }
            TokenKind::Punct(Punct::Shr) => {
                let mut span = self.span();
                span.column += 1;
                self.tokens[self.pos] = Token {
                    kind: TokenKind::Punct(Punct::Gt),
                    span,
                    doc: None,
                };
                true
            }
            _ => false,
        }
    }

    /// `[]`, or `[N]` repeated. AOSP allows a single dynamic dimension or any number of fixed
    /// ones, not a mix.
    fn array_suffix(&mut self, type_span: crate::ast::Span) -> PResult<Option<ArrayKind>> {
        let mut dims = Vec::new();
        while self.at_punct(Punct::LBracket) {
            self.bump();
            if self.eat_punct(Punct::RBracket) {
                dims.push(None);
            } else {
                let size = self.expr()?;
                self.expect_punct(Punct::RBracket, "to close the array size")?;
                dims.push(Some(size));
            }
        }
        if dims.is_empty() {
            return Ok(None);
        }
        if dims.iter().all(Option::is_some) {
            return Ok(Some(ArrayKind::Fixed(dims.into_iter().flatten().collect())));
        }
        if dims.len() > 1 {
            self.error(
                type_span,
                "multi-dimensional arrays must be fixed size, like `int[2][3]`",
            );
        }
        Ok(Some(ArrayKind::Dynamic))
    }
}
