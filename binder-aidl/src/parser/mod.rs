//! Recursive-descent parser from tokens to [`Document`].
//!
//! The grammar is AOSP's (`aidl_language_y.yy`): a file is an optional `package`, `import`s,
//! and one or more declarations. Errors are reported with the position of the offending token
//! and what was expected there; after an error the parser skips to the end of the member or
//! declaration (`;` or the `}` closing a block) and goes on, so one run reports several
//! mistakes.

mod decl;
mod expr;
mod ty;

use std::path::Path;

use crate::ast::{Document, Ident, QualifiedName};
use crate::diagnostic::{Diagnostic, Span};
use crate::lexer::{self, Keyword, Punct, Token, TokenKind};

/// How deeply expressions, types and declarations may nest. Deeper input is reported as an
/// error instead of risking the stack.
const MAX_DEPTH: usize = 128;

/// Parses the AIDL file `text`, read from `path` (used in diagnostics and stored in the
/// [`Document`]).
///
/// Returns every lexical and syntax error found, in file order, if there is any.
pub fn parse(path: &Path, text: &str) -> Result<Document, Vec<Diagnostic>> {
    let lexer::Lexed {
        tokens,
        mut diagnostics,
        swallowed_from,
    } = lexer::lex_file(path, text);
    let mut parser = Parser {
        path,
        tokens,
        pos: 0,
        diagnostics: Vec::new(),
        depth: 0,
    };
    let document = parser.document();
    // An unterminated string or comment swallows the rest of the file; what the parser then
    // says from there on is noise.
    diagnostics.extend(
        parser
            .diagnostics
            .into_iter()
            .filter(|d| swallowed_from.is_none_or(|from| d.span < from)),
    );
    if diagnostics.is_empty() {
        Ok(document)
    } else {
        diagnostics.sort_by_key(|d| d.span);
        Err(diagnostics)
    }
}

/// The error was reported (pushed to `Parser::diagnostics`); the caller recovers.
#[derive(Debug)]
struct Reported;

type PResult<T> = Result<T, Reported>;

struct Parser<'a> {
    path: &'a Path,
    /// Never empty: the last token is `Eof`.
    tokens: Vec<Token>,
    pos: usize,
    diagnostics: Vec<Diagnostic>,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    fn peek_at(&self, offset: usize) -> &Token {
        let last = self.tokens.len() - 1;
        &self.tokens[(self.pos + offset).min(last)]
    }

    fn span(&self) -> Span {
        self.peek().span
    }

    fn at_eof(&self) -> bool {
        self.peek().kind == TokenKind::Eof
    }

    /// Takes the current token; at the end of the file, returns `Eof` again without moving.
    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        token
    }

    fn at_punct(&self, punct: Punct) -> bool {
        self.peek().kind == TokenKind::Punct(punct)
    }

    fn eat_punct(&mut self, punct: Punct) -> bool {
        let at = self.at_punct(punct);
        if at {
            self.bump();
        }
        at
    }

    fn at_kw(&self, keyword: Keyword) -> bool {
        self.peek().kind == TokenKind::Keyword(keyword)
    }

    fn eat_kw(&mut self, keyword: Keyword) -> bool {
        let at = self.at_kw(keyword);
        if at {
            self.bump();
        }
        at
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(self.path, span, message));
    }

    /// Reports "expected {what}, found {the current token}" at the current token.
    fn expected(&mut self, what: &str) -> Reported {
        let found = self.peek().kind.to_string();
        let span = self.span();
        self.error(span, format!("expected {what}, found {found}"));
        Reported
    }

    /// Takes `punct` or reports "expected `punct` {context}, found ...".
    fn expect_punct(&mut self, punct: Punct, context: &str) -> PResult<Span> {
        if self.at_punct(punct) {
            Ok(self.bump().span)
        } else {
            Err(self.expected(&format!("`{}` {context}", punct.as_str())))
        }
    }

    /// The `;` ending a declaration. When it is missing, the error is reported but parsing goes
    /// on as if it were there: a forgotten `;` is the likely mistake, and the next member is
    /// then still read (and checked).
    fn end_semi(&mut self, context: &str) {
        if !self.eat_punct(Punct::Semi) {
            self.expected(&format!("`;` {context}"));
        }
    }

    /// An identifier; `what` names it in the error ("a method name"). The contextual keywords
    /// (`cpp_header`...) count as identifiers, as in AOSP.
    fn ident(&mut self, what: &str) -> PResult<Ident> {
        let span = self.span();
        match &self.peek().kind {
            TokenKind::Ident(name) => {
                let name = name.clone();
                self.bump();
                Ok(Ident { name, span })
            }
            TokenKind::Keyword(k) if k.is_contextual() => {
                let name = k.as_str().to_string();
                self.bump();
                Ok(Ident { name, span })
            }
            _ => Err(self.expected(what)),
        }
    }

    fn at_ident(&self) -> bool {
        match &self.peek().kind {
            TokenKind::Ident(_) => true,
            TokenKind::Keyword(k) => k.is_contextual(),
            _ => false,
        }
    }

    /// `a.b.c`; `what` names it in the error for the first part.
    fn qualified_name(&mut self, what: &str) -> PResult<QualifiedName> {
        let first = self.ident(what)?;
        let span = first.span;
        let mut parts = vec![first.name];
        while self.at_punct(Punct::Dot) {
            self.bump();
            parts.push(self.ident("an identifier after `.`")?.name);
        }
        Ok(QualifiedName { parts, span })
    }

    /// Runs `f` one nesting level deeper, refusing to go past [`MAX_DEPTH`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            let span = self.span();
            self.error(
                span,
                format!("nesting too deep (more than {MAX_DEPTH} levels)"),
            );
            return Err(Reported);
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// Error recovery: skips to the end of the current member or declaration: past the next `;`
    /// or past a `{ ... }` block, or up to (not past) a `}` that closes the enclosing block.
    fn recover(&mut self) {
        let mut depth = 0usize;
        loop {
            match &self.peek().kind {
                TokenKind::Eof => return,
                TokenKind::Punct(Punct::Semi) if depth == 0 => {
                    self.bump();
                    return;
                }
                TokenKind::Punct(Punct::LBrace) => depth += 1,
                TokenKind::Punct(Punct::RBrace) => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                    if depth == 0 {
                        self.bump();
                        return;
                    }
                }
                _ => {}
            }
            self.bump();
        }
    }

    fn document(&mut self) -> Document {
        let mut package = None;
        let mut imports = Vec::new();
        let mut decls = Vec::new();
        if self.at_kw(Keyword::Package) {
            match self.package() {
                Ok(name) => package = Some(name),
                Err(Reported) => self.recover(),
            }
        }
        while self.at_kw(Keyword::Import) {
            match self.import() {
                Ok(import) => imports.push(import),
                Err(Reported) => self.recover(),
            }
        }
        while !self.at_eof() {
            let before = self.pos;
            let result = if self.at_kw(Keyword::Package) {
                let span = self.span();
                self.error(
                    span,
                    "`package` must come first, before imports and declarations",
                );
                Err(Reported)
            } else if self.at_kw(Keyword::Import) {
                let span = self.span();
                self.error(span, "`import` must come before the declarations");
                Err(Reported)
            } else {
                self.decl().map(|decl| decls.push(decl))
            };
            if result.is_err() {
                self.recover();
            }
            if self.pos == before {
                // A stray `}` at the top level, which `recover` leaves in place.
                self.bump();
            }
        }
        if decls.is_empty() && self.diagnostics.is_empty() {
            self.expected("a declaration (`interface`, `parcelable`, `enum` or `union`)");
        }
        Document {
            path: self.path.to_path_buf(),
            package,
            imports,
            decls,
        }
    }

    fn package(&mut self) -> PResult<QualifiedName> {
        self.bump();
        let name = self.qualified_name("a package name")?;
        self.end_semi("after the package name");
        Ok(name)
    }

    fn import(&mut self) -> PResult<crate::ast::Import> {
        let span = self.bump().span;
        let name = self.qualified_name("a type name to import")?;
        self.end_semi("after the import");
        Ok(crate::ast::Import { name, span })
    }
}
