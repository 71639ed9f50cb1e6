//! Tokens, positions, literals and doc comments.

use std::path::Path;

use binder_aidl::Span;
use binder_aidl::lexer::{IntSuffix, Keyword, Punct, Radix, Token, TokenKind, lex};

fn tokens(text: &str) -> Vec<Token> {
    let (tokens, diags) = lex(Path::new("t.aidl"), text);
    assert!(diags.is_empty(), "{text}: {diags:?}");
    tokens
}

fn kinds(text: &str) -> Vec<TokenKind> {
    tokens(text).into_iter().map(|t| t.kind).collect()
}

fn lex_errors(text: &str) -> Vec<String> {
    lex(Path::new("t.aidl"), text)
        .1
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn positions_are_one_based_lines_and_columns() {
    let toks = tokens("package a.b;\n\n  interface\tI {}\n// é comment\n/* é */ x");
    let spans: Vec<(u32, u32)> = toks.iter().map(|t| (t.span.line, t.span.column)).collect();
    assert_eq!(
        spans,
        [
            (1, 1),
            (1, 9),
            (1, 10),
            (1, 11),
            (1, 12),
            (3, 3),
            (3, 13),
            (3, 15),
            (3, 16),
            (5, 9),
            (5, 10)
        ]
    );
    assert_eq!(toks.last().unwrap().kind, TokenKind::Eof);
}

#[test]
fn keywords_identifiers_and_annotations() {
    let all = "package import interface parcelable enum union oneway in out inout const true false \
               cpp_header ndk_header rust_type";
    let expected: Vec<TokenKind> = all
        .split_whitespace()
        .map(|w| TokenKind::Keyword(Keyword::from_word(w).unwrap()))
        .chain([TokenKind::Eof])
        .collect();
    assert_eq!(kinds(all), expected);
    assert_eq!(Keyword::from_word("void"), None);
    assert_eq!(
        kinds("void int String _x9 inner @nullable @Backing"),
        [
            TokenKind::Ident("void".into()),
            TokenKind::Ident("int".into()),
            TokenKind::Ident("String".into()),
            TokenKind::Ident("_x9".into()),
            TokenKind::Ident("inner".into()),
            TokenKind::Annotation("nullable".into()),
            TokenKind::Annotation("Backing".into()),
            TokenKind::Eof,
        ]
    );
}

#[test]
fn punctuation_takes_the_longest_symbol() {
    let text = "( ) < > { } [ ] : ? ; , . = + - * / % & | ^ << >> && || ! ~ <= >= == !=";
    let got: Vec<&str> = kinds(text)
        .into_iter()
        .filter_map(|k| match k {
            TokenKind::Punct(p) => Some(p.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(got, text.split(' ').collect::<Vec<_>>());
    assert_eq!(
        kinds("a>>=b"),
        [
            TokenKind::Ident("a".into()),
            TokenKind::Punct(Punct::Shr),
            TokenKind::Punct(Punct::Eq),
            TokenKind::Ident("b".into()),
            TokenKind::Eof
        ]
    );
}

#[test]
fn integer_literals() {
    let ints: Vec<(String, Radix, Option<u64>, Option<IntSuffix>)> =
        kinds("0 10 007 0x1F 0XffL 1l 255u8 5i8 7u32 7i32 9u64 9i64 18446744073709551616")
            .into_iter()
            .filter_map(|k| match k {
                TokenKind::Int(i) => Some((i.text, i.radix, i.value, i.suffix)),
                _ => None,
            })
            .collect();
    use IntSuffix::*;
    use Radix::*;
    let expected = [
        ("0", Decimal, Some(0), None),
        ("10", Decimal, Some(10), None),
        ("007", Decimal, Some(7), None),
        ("0x1F", Hex, Some(31), None),
        ("0XffL", Hex, Some(255), Some(Long)),
        ("1l", Decimal, Some(1), Some(Long)),
        ("255u8", Decimal, Some(255), Some(U8)),
        ("5i8", Decimal, Some(5), Some(I8)),
        ("7u32", Decimal, Some(7), Some(U32)),
        ("7i32", Decimal, Some(7), Some(I32)),
        ("9u64", Decimal, Some(9), Some(U64)),
        ("9i64", Decimal, Some(9), Some(I64)),
        ("18446744073709551616", Decimal, None, None),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(t, r, v, s)| (t.to_string(), r, v, s))
        .collect();
    assert_eq!(ints, expected);
}

#[test]
fn float_literals() {
    let floats: Vec<(String, f64, bool)> = kinds("1.5 .5 1e3 1E-3 2.5e+2 2.0f 1f 0.1f")
        .into_iter()
        .filter_map(|k| match k {
            TokenKind::Float(f) => Some((f.text, f.value, f.f_suffix)),
            _ => None,
        })
        .collect();
    let expected = [
        ("1.5", 1.5, false),
        (".5", 0.5, false),
        ("1e3", 1000.0, false),
        ("1E-3", 0.001, false),
        ("2.5e+2", 250.0, false),
        ("2.0f", 2.0, true),
        ("1f", 1.0, true),
        ("0.1f", 0.1, true),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(t, v, f)| (t.to_string(), v, f))
        .collect();
    assert_eq!(floats, expected);
    // `1.` is the integer 1 and a dot, as in AOSP; `1.e` too.
    assert!(matches!(
        &kinds("1.")[..],
        [
            TokenKind::Int(_),
            TokenKind::Punct(Punct::Dot),
            TokenKind::Eof
        ]
    ));
}

#[test]
fn char_and_string_literals_decode_escapes() {
    let toks = kinds(
        r#"'a' '\'' '\n' "plain" "say \"hi\"\n" "odd \q" "multi
line""#,
    );
    let lits: Vec<(String, String)> = toks
        .into_iter()
        .filter_map(|k| match k {
            TokenKind::Char(c) => Some((c.raw, c.value.to_string())),
            TokenKind::Str(s) => Some((s.raw, s.value)),
            _ => None,
        })
        .collect();
    let expected = [
        ("a", "a"),
        ("\\'", "'"),
        ("\\n", "\n"),
        ("plain", "plain"),
        ("say \\\"hi\\\"\\n", "say \"hi\"\n"),
        ("odd \\q", "odd \\q"),
        ("multi\nline", "multi\nline"),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(r, v)| (r.to_string(), v.to_string()))
        .collect();
    assert_eq!(lits, expected);
}

#[test]
fn doc_comments_attach_to_the_next_token() {
    let toks = tokens(
        "/** Doc for x. */ /* plain */ // line\nx y\n/**\n * Two\n *\n *   lines\n */\nz /**/ w /***/ v",
    );
    let docs: Vec<(String, Option<String>)> = toks
        .iter()
        .filter_map(|t| match &t.kind {
            TokenKind::Ident(n) => Some((n.clone(), t.doc.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        docs,
        [
            ("x".to_string(), Some("Doc for x.".to_string())),
            ("y".to_string(), None),
            ("z".to_string(), Some("Two\n\n  lines".to_string())),
            ("w".to_string(), None),
            ("v".to_string(), Some(String::new())),
        ]
    );
}

#[test]
fn lexical_errors() {
    assert_eq!(
        lex_errors("x $ y"),
        ["t.aidl:1:3: unexpected character `$`"]
    );
    assert_eq!(
        lex_errors("'a"),
        ["t.aidl:1:1: unterminated character literal: missing closing `'`"]
    );
    assert_eq!(
        lex_errors("''"),
        ["t.aidl:1:1: a character literal holds exactly one character, found `''`"]
    );
    assert_eq!(
        lex_errors("0x"),
        ["t.aidl:1:1: expected hex digits after `0x`"]
    );
    assert_eq!(
        lex_errors("1.5L"),
        ["t.aidl:1:1: invalid suffix `L` on float literal `1.5`; only `f` is allowed"]
    );
    assert_eq!(
        lex_errors("\n  @1"),
        ["t.aidl:2:3: expected an annotation name right after `@`"]
    );
    // After an error the tokens go on.
    let (toks, _) = lex(Path::new("t.aidl"), "a # b");
    assert_eq!(toks.len(), 3);
    assert_eq!(toks[1].span, Span::new(1, 5));
}

#[test]
fn token_display_for_messages() {
    let shown: Vec<String> = kinds("foo in @A 12 1.5 'c' \"s\" ;")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        shown,
        [
            "identifier `foo`",
            "keyword `in`",
            "annotation `@A`",
            "integer literal `12`",
            "float literal `1.5`",
            "character literal `'c'`",
            "string literal",
            "`;`",
            "end of file"
        ]
    );
}
