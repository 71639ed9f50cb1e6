//! Turns AIDL source text into tokens with positions.
//!
//! The token set follows AOSP's `aidl` lexer:
//!
//! * identifiers `[_a-zA-Z][_a-zA-Z0-9]*`; the words in [`Keyword`] are keywords instead
//!   (`void`, `int`, `String`... are plain identifiers, as in AOSP);
//! * annotations `@Name`, one token (no space between `@` and the name);
//! * integer literals: decimal (`10`, read as decimal even with leading zeros, like AOSP) or hex
//!   (`0xFF`), with an optional suffix (see [`IntSuffix`]);
//! * float literals `[0-9]*.?[0-9]+([eE][-+]?[0-9]+)?f?`: `1.5`, `.5`, `1e3`, `2.0f`, `1f`
//!   (`1.` is the integer `1` followed by `.`, as in AOSP);
//! * character literals `'c'` and string literals `"..."`. Escapes (`\n`, `\"`...) are lexed and
//!   decoded so the rest of the file reads right, but AIDL constants may not contain a backslash:
//!   [`crate::consteval`] rejects them, as AOSP does;
//! * `//` and `/* */` comments. A `/** ... */` comment is a doc comment: its text (markers and
//!   leading `*` removed) is attached to the next token as [`Token::doc`], and the parser hands it
//!   to the declaration that token starts.

use std::fmt;
use std::path::Path;

use crate::diagnostic::{Diagnostic, Span};

/// A reserved word of AIDL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    /// `package`
    Package,
    /// `import`
    Import,
    /// `interface`
    Interface,
    /// `parcelable`
    Parcelable,
    /// `enum`
    Enum,
    /// `union`
    Union,
    /// `oneway`
    Oneway,
    /// `in`
    In,
    /// `out`
    Out,
    /// `inout`
    Inout,
    /// `const`
    Const,
    /// `true`
    True,
    /// `false`
    False,
    /// `cpp_header`: names the C++ header of an unstructured parcelable.
    CppHeader,
    /// `ndk_header`: names the NDK header of an unstructured parcelable.
    NdkHeader,
    /// `rust_type`: names the Rust type of an unstructured parcelable.
    RustType,
}

impl Keyword {
    const ALL: [Keyword; 16] = [
        Keyword::Package,
        Keyword::Import,
        Keyword::Interface,
        Keyword::Parcelable,
        Keyword::Enum,
        Keyword::Union,
        Keyword::Oneway,
        Keyword::In,
        Keyword::Out,
        Keyword::Inout,
        Keyword::Const,
        Keyword::True,
        Keyword::False,
        Keyword::CppHeader,
        Keyword::NdkHeader,
        Keyword::RustType,
    ];

    /// The keyword as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Package => "package",
            Keyword::Import => "import",
            Keyword::Interface => "interface",
            Keyword::Parcelable => "parcelable",
            Keyword::Enum => "enum",
            Keyword::Union => "union",
            Keyword::Oneway => "oneway",
            Keyword::In => "in",
            Keyword::Out => "out",
            Keyword::Inout => "inout",
            Keyword::Const => "const",
            Keyword::True => "true",
            Keyword::False => "false",
            Keyword::CppHeader => "cpp_header",
            Keyword::NdkHeader => "ndk_header",
            Keyword::RustType => "rust_type",
        }
    }

    /// The keyword spelled `word`, if it is one.
    pub fn from_word(word: &str) -> Option<Keyword> {
        Keyword::ALL.into_iter().find(|k| k.as_str() == word)
    }

    /// Whether the word may also be used as an identifier. AOSP's grammar accepts `cpp_header`
    /// as an identifier (a field may be named `cpp_header`); `ndk_header` and `rust_type`, added
    /// to the same rule later, are treated alike here.
    pub fn is_contextual(self) -> bool {
        matches!(
            self,
            Keyword::CppHeader | Keyword::NdkHeader | Keyword::RustType
        )
    }
}

/// A punctuation or operator token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant is the symbol `as_str` returns
pub enum Punct {
    LParen,
    RParen,
    Lt,
    Gt,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Colon,
    Question,
    Semi,
    Comma,
    Dot,
    Eq,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Amp,
    Pipe,
    Caret,
    Shl,
    Shr,
    AndAnd,
    OrOr,
    Bang,
    Tilde,
    Le,
    Ge,
    EqEq,
    Ne,
}

impl Punct {
    /// The symbol as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Punct::LParen => "(",
            Punct::RParen => ")",
            Punct::Lt => "<",
            Punct::Gt => ">",
            Punct::LBrace => "{",
            Punct::RBrace => "}",
            Punct::LBracket => "[",
            Punct::RBracket => "]",
            Punct::Colon => ":",
            Punct::Question => "?",
            Punct::Semi => ";",
            Punct::Comma => ",",
            Punct::Dot => ".",
            Punct::Eq => "=",
            Punct::Plus => "+",
            Punct::Minus => "-",
            Punct::Star => "*",
            Punct::Slash => "/",
            Punct::Percent => "%",
            Punct::Amp => "&",
            Punct::Pipe => "|",
            Punct::Caret => "^",
            Punct::Shl => "<<",
            Punct::Shr => ">>",
            Punct::AndAnd => "&&",
            Punct::OrOr => "||",
            Punct::Bang => "!",
            Punct::Tilde => "~",
            Punct::Le => "<=",
            Punct::Ge => ">=",
            Punct::EqEq => "==",
            Punct::Ne => "!=",
        }
    }
}

/// How an integer literal is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Radix {
    /// Decimal digits. AOSP reads `010` as ten (there are no octal literals).
    Decimal,
    /// `0x` or `0X` and hex digits.
    Hex,
}

/// The suffix of an integer literal, which fixes its type.
///
/// AOSP's `aidl` accepts `l`/`L` (a `long` literal) and `u8` (a byte written as an unsigned
/// value, `0..=255`, stored as the signed byte with the same bits: `255u8` is `-1`). The other
/// suffixes follow the same pattern for the other widths: an `iN` literal must fit the signed
/// type, a `uN` literal the unsigned one and is stored with the same bits in the signed type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntSuffix {
    /// `l` or `L`: a `long` literal.
    Long,
    /// `u8`: a byte given as `0..=255`.
    U8,
    /// `i8`: a byte given as `-128..=127` (before any unary minus).
    I8,
    /// `u32`: an `int` given as `0..=u32::MAX`.
    U32,
    /// `i32`: an `int`.
    I32,
    /// `u64`: a `long` given as `0..=u64::MAX`.
    U64,
    /// `i64`: a `long`.
    I64,
}

impl IntSuffix {
    fn from_text(text: &str) -> Option<IntSuffix> {
        Some(match text {
            "l" | "L" => IntSuffix::Long,
            "u8" => IntSuffix::U8,
            "i8" => IntSuffix::I8,
            "u32" => IntSuffix::U32,
            "i32" => IntSuffix::I32,
            "u64" => IntSuffix::U64,
            "i64" => IntSuffix::I64,
            _ => return None,
        })
    }
}

/// An integer literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IntLiteral {
    /// The literal as written, suffix included (`0xFFu8`).
    pub text: String,
    /// Decimal or hex.
    pub radix: Radix,
    /// The digits' value; `None` when it does not fit in 64 bits.
    pub value: Option<u64>,
    /// The type suffix, if any.
    pub suffix: Option<IntSuffix>,
}

/// A floating-point literal.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatLiteral {
    /// The literal as written (`2.5f`).
    pub text: String,
    /// Its value as a `f64` (infinite when the exponent is too large).
    pub value: f64,
    /// Whether it ends in `f`. AOSP accepts only such literals for `float` constants; `double`
    /// takes both.
    pub f_suffix: bool,
}

/// A character literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CharLiteral {
    /// What is between the quotes, escapes as written.
    pub raw: String,
    /// The character, escapes decoded.
    pub value: char,
}

/// A string literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StringLiteral {
    /// What is between the quotes, escapes as written.
    pub raw: String,
    /// The text, escapes decoded (an unknown escape `\q` stays as the two characters).
    pub value: String,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// An identifier.
    Ident(String),
    /// A keyword.
    Keyword(Keyword),
    /// `@Name`: the name, without the `@`.
    Annotation(String),
    /// An integer literal.
    Int(IntLiteral),
    /// A floating-point literal.
    Float(FloatLiteral),
    /// A character literal.
    Char(CharLiteral),
    /// A string literal.
    Str(StringLiteral),
    /// Punctuation or an operator.
    Punct(Punct),
    /// The end of the file; the last token of every token list.
    Eof,
}

impl fmt::Display for TokenKind {
    /// Describes the token for error messages: "`}`", "identifier `foo`", "end of file".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenKind::Ident(name) => write!(f, "identifier `{name}`"),
            TokenKind::Keyword(k) => write!(f, "keyword `{}`", k.as_str()),
            TokenKind::Annotation(name) => write!(f, "annotation `@{name}`"),
            TokenKind::Int(lit) => write!(f, "integer literal `{}`", lit.text),
            TokenKind::Float(lit) => write!(f, "float literal `{}`", lit.text),
            TokenKind::Char(lit) => write!(f, "character literal `'{}'`", lit.raw),
            TokenKind::Str(_) => write!(f, "string literal"),
            TokenKind::Punct(p) => write!(f, "`{}`", p.as_str()),
            TokenKind::Eof => write!(f, "end of file"),
        }
    }
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where its first character is.
    pub span: Span,
    /// The text of the last `/** ... */` comment between the previous token and this one.
    pub doc: Option<String>,
}

/// Splits `text` into tokens. The list always ends with [`TokenKind::Eof`]; lexical errors
/// (an unterminated string, a stray `#`) are returned beside it, and the token list goes on
/// after each so the parser can report more.
pub fn lex(path: &Path, text: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let lexed = lex_file(path, text);
    (lexed.tokens, lexed.diagnostics)
}

/// What [`lex_file`] returns.
pub(crate) struct Lexed {
    pub(crate) tokens: Vec<Token>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Where an unterminated string or comment started, which swallowed the rest of the file.
    pub(crate) swallowed_from: Option<Span>,
}

/// [`lex`], also telling where an unterminated literal or comment ate the rest of the file.
pub(crate) fn lex_file(path: &Path, text: &str) -> Lexed {
    let mut lexer = Lexer {
        path,
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
        column: 1,
        tokens: Vec::new(),
        diagnostics: Vec::new(),
        doc: None,
        swallowed_from: None,
    };
    lexer.run();
    Lexed {
        tokens: lexer.tokens,
        diagnostics: lexer.diagnostics,
        swallowed_from: lexer.swallowed_from,
    }
}

struct Lexer<'a> {
    path: &'a Path,
    chars: Vec<char>,
    pos: usize,
    line: u32,
    column: u32,
    tokens: Vec<Token>,
    diagnostics: Vec<Diagnostic>,
    /// The doc comment waiting for the next token.
    doc: Option<String>,
    swallowed_from: Option<Span>,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.column = 1;
        } else {
            self.column = self.column.saturating_add(1);
        }
        Some(c)
    }

    fn span(&self) -> Span {
        Span::new(self.line, self.column)
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(self.path, span, message));
    }

    fn push(&mut self, kind: TokenKind, span: Span) {
        let doc = self.doc.take();
        self.tokens.push(Token { kind, span, doc });
    }

    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(|&c| pred(c)) {
            out.push(c);
            self.bump();
        }
        out
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            let start = self.span();
            match c {
                c if c.is_whitespace() => {
                    self.bump();
                }
                '/' if self.peek_at(1) == Some('/') => {
                    self.take_while(|c| c != '\n');
                }
                '/' if self.peek_at(1) == Some('*') => self.block_comment(start),
                '"' => self.string(start),
                '\'' => self.char_literal(start),
                '@' => {
                    self.bump();
                    if self.peek().is_some_and(is_ident_start) {
                        let name = self.take_while(is_ident_continue);
                        self.push(TokenKind::Annotation(name), start);
                    } else {
                        self.error(start, "expected an annotation name right after `@`");
                        // Recover `@ Name` as the annotation it was surely meant to be.
                        let mut ahead = 0;
                        while self.peek_at(ahead).is_some_and(|c| c == ' ' || c == '\t') {
                            ahead += 1;
                        }
                        if self.peek_at(ahead).is_some_and(is_ident_start) {
                            for _ in 0..ahead {
                                self.bump();
                            }
                            let name = self.take_while(is_ident_continue);
                            self.push(TokenKind::Annotation(name), start);
                        }
                    }
                }
                c if is_ident_start(c) => {
                    let word = self.take_while(is_ident_continue);
                    let kind = match Keyword::from_word(&word) {
                        Some(k) => TokenKind::Keyword(k),
                        None => TokenKind::Ident(word),
                    };
                    self.push(kind, start);
                }
                c if c.is_ascii_digit() => self.number(start),
                '.' if self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) => self.number(start),
                _ => self.punct(start, c),
            }
        }
        let end = self.span();
        self.push(TokenKind::Eof, end);
    }

    fn block_comment(&mut self, start: Span) {
        self.bump();
        self.bump();
        let is_doc = self.peek() == Some('*') && self.peek_at(1) != Some('/');
        let mut body = String::new();
        loop {
            match self.peek() {
                None => {
                    self.error(start, "unterminated comment: `/*` without a matching `*/`");
                    self.swallowed_from.get_or_insert(start);
                    return;
                }
                Some('*') if self.peek_at(1) == Some('/') => {
                    self.bump();
                    self.bump();
                    break;
                }
                Some(c) => {
                    body.push(c);
                    self.bump();
                }
            }
        }
        if is_doc {
            // `body` starts with the second `*` of `/**`.
            self.doc = Some(clean_doc(&body[1..]));
        }
    }

    fn punct(&mut self, start: Span, c: char) {
        let next = self.peek_at(1);
        let (punct, len) = match (c, next) {
            ('<', Some('<')) => (Punct::Shl, 2),
            ('>', Some('>')) => (Punct::Shr, 2),
            ('<', Some('=')) => (Punct::Le, 2),
            ('>', Some('=')) => (Punct::Ge, 2),
            ('=', Some('=')) => (Punct::EqEq, 2),
            ('!', Some('=')) => (Punct::Ne, 2),
            ('&', Some('&')) => (Punct::AndAnd, 2),
            ('|', Some('|')) => (Punct::OrOr, 2),
            ('(', _) => (Punct::LParen, 1),
            (')', _) => (Punct::RParen, 1),
            ('<', _) => (Punct::Lt, 1),
            ('>', _) => (Punct::Gt, 1),
            ('{', _) => (Punct::LBrace, 1),
            ('}', _) => (Punct::RBrace, 1),
            ('[', _) => (Punct::LBracket, 1),
            (']', _) => (Punct::RBracket, 1),
            (':', _) => (Punct::Colon, 1),
            ('?', _) => (Punct::Question, 1),
            (';', _) => (Punct::Semi, 1),
            (',', _) => (Punct::Comma, 1),
            ('.', _) => (Punct::Dot, 1),
            ('=', _) => (Punct::Eq, 1),
            ('+', _) => (Punct::Plus, 1),
            ('-', _) => (Punct::Minus, 1),
            ('*', _) => (Punct::Star, 1),
            ('/', _) => (Punct::Slash, 1),
            ('%', _) => (Punct::Percent, 1),
            ('&', _) => (Punct::Amp, 1),
            ('|', _) => (Punct::Pipe, 1),
            ('^', _) => (Punct::Caret, 1),
            ('!', _) => (Punct::Bang, 1),
            ('~', _) => (Punct::Tilde, 1),
            _ => {
                self.bump();
                self.error(
                    start,
                    format!("unexpected character `{}`", c.escape_debug()),
                );
                return;
            }
        };
        for _ in 0..len {
            self.bump();
        }
        self.push(TokenKind::Punct(punct), start);
    }

    /// Reads one character of a quoted literal, decoding an escape. Returns the raw text and the
    /// decoded text: one character, or two for an unknown escape such as `\q`, which is kept as
    /// written.
    fn quoted_char(&mut self) -> Option<(String, String)> {
        let c = self.bump()?;
        if c != '\\' {
            return Some((c.to_string(), c.to_string()));
        }
        let Some(e) = self.bump() else {
            return Some(("\\".to_string(), "\\".to_string()));
        };
        let raw = format!("\\{e}");
        let decoded = match e {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            '\\' | '\'' | '"' => e,
            _ => return Some((raw.clone(), raw)),
        };
        Some((raw, decoded.to_string()))
    }

    fn string(&mut self, start: Span) {
        self.bump();
        let mut raw = String::new();
        let mut value = String::new();
        loop {
            match self.peek() {
                None => {
                    self.error(start, "unterminated string literal: missing closing `\"`");
                    self.swallowed_from.get_or_insert(start);
                    break;
                }
                Some('"') => {
                    self.bump();
                    break;
                }
                Some(_) => {
                    let Some((r, decoded)) = self.quoted_char() else {
                        break;
                    };
                    raw.push_str(&r);
                    value.push_str(&decoded);
                }
            }
        }
        self.push(TokenKind::Str(StringLiteral { raw, value }), start);
    }

    fn char_literal(&mut self, start: Span) {
        self.bump();
        let mut raw = String::new();
        let mut chars = Vec::new();
        let mut closed = false;
        while let Some(c) = self.peek() {
            if c == '\'' {
                self.bump();
                closed = true;
                break;
            }
            if c == '\n' {
                break;
            }
            let Some((r, decoded)) = self.quoted_char() else {
                break;
            };
            raw.push_str(&r);
            chars.extend(decoded.chars());
        }
        if !closed {
            self.error(start, "unterminated character literal: missing closing `'`");
        } else if chars.len() != 1 {
            self.error(
                start,
                format!("a character literal holds exactly one character, found `'{raw}'`"),
            );
        }
        let value = chars.first().copied().unwrap_or('\0');
        self.push(TokenKind::Char(CharLiteral { raw, value }), start);
    }

    fn number(&mut self, start: Span) {
        if self.peek() == Some('0') && matches!(self.peek_at(1), Some('x' | 'X')) {
            return self.hex_number(start);
        }
        let mut text = self.take_while(|c| c.is_ascii_digit());
        let mut is_float = false;
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            is_float = true;
            text.push('.');
            self.bump();
            text.push_str(&self.take_while(|c| c.is_ascii_digit()));
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let sign = matches!(self.peek_at(1), Some('+' | '-'));
            let digit_at = if sign { 2 } else { 1 };
            if self.peek_at(digit_at).is_some_and(|c| c.is_ascii_digit()) {
                is_float = true;
                for _ in 0..digit_at {
                    text.extend(self.bump());
                }
                text.push_str(&self.take_while(|c| c.is_ascii_digit()));
            }
        }
        let suffix = self.take_while(is_ident_continue);
        if is_float || suffix == "f" {
            let f_suffix = suffix == "f";
            if !suffix.is_empty() && !f_suffix {
                self.error(
                    start,
                    format!(
                        "invalid suffix `{suffix}` on float literal `{text}`; only `f` is allowed"
                    ),
                );
            }
            let value = text.parse::<f64>().unwrap_or(0.0);
            text.push_str(&suffix);
            self.push(
                TokenKind::Float(FloatLiteral {
                    text,
                    value,
                    f_suffix,
                }),
                start,
            );
            return;
        }
        let value = parse_digits(&text, 10);
        self.int_token(start, text, Radix::Decimal, value, &suffix);
    }

    fn hex_number(&mut self, start: Span) {
        let mut text = String::new();
        text.extend(self.bump());
        text.extend(self.bump());
        let digits = self.take_while(|c| c.is_ascii_hexdigit());
        text.push_str(&digits);
        let suffix = self.take_while(is_ident_continue);
        if digits.is_empty() {
            self.error(start, format!("expected hex digits after `{text}`"));
        }
        let value = parse_digits(&digits, 16);
        self.int_token(start, text, Radix::Hex, value, &suffix);
    }

    fn int_token(
        &mut self,
        start: Span,
        mut text: String,
        radix: Radix,
        value: Option<u64>,
        suffix_text: &str,
    ) {
        let suffix = if suffix_text.is_empty() {
            None
        } else {
            let suffix = IntSuffix::from_text(suffix_text);
            if suffix.is_none() {
                self.error(
                    start,
                    format!(
                        "invalid suffix `{suffix_text}` on integer literal `{text}`; expected `l`, \
                         `L`, `u8`, `i8`, `u32`, `i32`, `u64` or `i64`"
                    ),
                );
            }
            suffix
        };
        text.push_str(suffix_text);
        self.push(
            TokenKind::Int(IntLiteral {
                text,
                radix,
                value,
                suffix,
            }),
            start,
        );
    }
}

/// The value of `digits` in `radix`, or `None` if it needs more than 64 bits.
fn parse_digits(digits: &str, radix: u32) -> Option<u64> {
    let mut value: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        value = value
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(d))?;
    }
    Some(value)
}

/// The text of a doc comment without its markers: on each line, leading blanks and one `*`
/// (and the space after it) are removed and trailing blanks trimmed; blank lines at the start
/// and end are dropped. `inner` is what is between `/**` and `*/`.
fn clean_doc(inner: &str) -> String {
    let lines: Vec<&str> = inner
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let rest = match trimmed.strip_prefix('*') {
                Some(rest) => rest.strip_prefix(' ').unwrap_or(rest),
                None => trimmed,
            };
            rest.trim_end()
        })
        .collect();
    let first = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let last = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(first, |i| i + 1);
    lines[first..last].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        let (tokens, diags) = lex(Path::new("t.aidl"), text);
        assert!(diags.is_empty(), "{diags:?}");
        tokens.into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn doc_comment_cleaning() {
        assert_eq!(
            clean_doc("\n * First.\n *\n *   code\n "),
            "First.\n\n  code"
        );
        assert_eq!(clean_doc(" one line "), "one line");
        assert_eq!(clean_doc(""), "");
    }

    #[test]
    fn one_dot_is_int_then_dot() {
        let k = kinds("1.x");
        assert!(matches!(&k[0], TokenKind::Int(lit) if lit.value == Some(1)));
        assert_eq!(k[1], TokenKind::Punct(Punct::Dot));
    }

    #[test]
    fn digits_overflowing_u64() {
        assert_eq!(parse_digits("18446744073709551615", 10), Some(u64::MAX));
        assert_eq!(parse_digits("18446744073709551616", 10), None);
    }
}
