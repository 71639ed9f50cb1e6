//! Constant expressions, with C's precedence.

use super::{PResult, Parser};
use crate::ast::{BinaryOp, Expr, ExprKind, UnaryOp};
use crate::lexer::{Keyword, Punct, TokenKind};

fn binary_op(kind: &TokenKind) -> Option<BinaryOp> {
    let TokenKind::Punct(p) = kind else {
        return None;
    };
    Some(match p {
        Punct::OrOr => BinaryOp::Or,
        Punct::AndAnd => BinaryOp::And,
        Punct::Pipe => BinaryOp::BitOr,
        Punct::Caret => BinaryOp::BitXor,
        Punct::Amp => BinaryOp::BitAnd,
        Punct::EqEq => BinaryOp::Eq,
        Punct::Ne => BinaryOp::Ne,
        Punct::Lt => BinaryOp::Lt,
        Punct::Gt => BinaryOp::Gt,
        Punct::Le => BinaryOp::Le,
        Punct::Ge => BinaryOp::Ge,
        Punct::Shl => BinaryOp::Shl,
        Punct::Shr => BinaryOp::Shr,
        Punct::Plus => BinaryOp::Add,
        Punct::Minus => BinaryOp::Sub,
        Punct::Star => BinaryOp::Mul,
        Punct::Slash => BinaryOp::Div,
        Punct::Percent => BinaryOp::Rem,
        _ => return None,
    })
}

impl Parser<'_> {
    /// A constant expression.
    pub(super) fn expr(&mut self) -> PResult<Expr> {
        self.nested(|p| p.conditional())
    }

    /// `cond ? a : b`, right-associative, below `||`.
    fn conditional(&mut self) -> PResult<Expr> {
        let cond = self.binary(1)?;
        if !self.at_punct(Punct::Question) {
            return Ok(cond);
        }
        let span = self.bump().span;
        let then = self.expr()?;
        self.expect_punct(Punct::Colon, "in the conditional expression `cond ? a : b`")?;
        let otherwise = self.expr()?;
        Ok(Expr {
            kind: ExprKind::Conditional {
                cond: Box::new(cond),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
            },
            span,
        })
    }

    /// Operators binding at least as tightly as `min_prec`, left-associative (precedence
    /// climbing).
    fn binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        while let Some(op) = binary_op(&self.peek().kind).filter(|op| op.precedence() >= min_prec) {
            let span = self.bump().span;
            let rhs = self.binary(op.precedence() + 1)?;
            lhs = Expr {
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Expr> {
        let op = match self.peek().kind {
            TokenKind::Punct(Punct::Plus) => UnaryOp::Plus,
            TokenKind::Punct(Punct::Minus) => UnaryOp::Neg,
            TokenKind::Punct(Punct::Tilde) => UnaryOp::BitNot,
            TokenKind::Punct(Punct::Bang) => UnaryOp::Not,
            _ => return self.primary(),
        };
        let span = self.bump().span;
        let operand = self.nested(|p| p.unary())?;
        Ok(Expr {
            kind: ExprKind::Unary {
                op,
                operand: Box::new(operand),
            },
            span,
        })
    }

    fn primary(&mut self) -> PResult<Expr> {
        let span = self.span();
        let kind = match &self.peek().kind {
            TokenKind::Int(lit) => ExprKind::Int(lit.clone()),
            TokenKind::Float(lit) => ExprKind::Float(lit.clone()),
            TokenKind::Char(lit) => ExprKind::Char(lit.clone()),
            TokenKind::Str(lit) => ExprKind::String(lit.clone()),
            TokenKind::Keyword(Keyword::True) => ExprKind::Bool(true),
            TokenKind::Keyword(Keyword::False) => ExprKind::Bool(false),
            TokenKind::Punct(Punct::LParen) => {
                self.bump();
                let inner = self.expr()?;
                self.expect_punct(Punct::RParen, "to close the parenthesized expression")?;
                return Ok(inner);
            }
            TokenKind::Punct(Punct::LBrace) => {
                self.bump();
                return self.nested(|p| p.array_literal(span));
            }
            _ if self.at_ident() => {
                let name = self.qualified_name("a name")?;
                return Ok(Expr {
                    kind: ExprKind::Ref(name),
                    span,
                });
            }
            _ => return Err(self.expected("an expression")),
        };
        self.bump();
        Ok(Expr { kind, span })
    }

    /// The rest of `{a, b, c}` after `{`; a trailing comma is allowed.
    fn array_literal(&mut self, span: crate::ast::Span) -> PResult<Expr> {
        let mut elements = Vec::new();
        loop {
            if self.eat_punct(Punct::RBrace) {
                break;
            }
            elements.push(self.expr()?);
            if self.eat_punct(Punct::Comma) {
                continue;
            }
            if self.eat_punct(Punct::RBrace) {
                break;
            }
            return Err(self.expected("`,` or `}` in the array literal"));
        }
        Ok(Expr {
            kind: ExprKind::Array(elements),
            span,
        })
    }
}
