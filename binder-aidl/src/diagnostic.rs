//! Source positions and the error type every stage reports.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a source file: 1-based line and column.
///
/// Columns count Unicode scalar values (a tab is one column), so a position points at the same
/// character an editor shows. AOSP's `aidl` counts bytes; the two agree on ASCII files, which is
/// what AIDL files are in practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// Line, starting at 1.
    pub line: u32,
    /// Column, starting at 1.
    pub column: u32,
}

impl Span {
    /// The position `line:column`.
    pub const fn new(line: u32, column: u32) -> Self {
        Span { line, column }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// An error found in an AIDL file, at a position in it.
///
/// Displays as `path:line:column: message`, the form compilers print and editors link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}: {message}", path.display(), span)]
pub struct Diagnostic {
    /// The file the error is in.
    pub path: PathBuf,
    /// Where in the file.
    pub span: Span,
    /// What is wrong, in one sentence without a trailing period.
    pub message: String,
}

impl Diagnostic {
    /// An error at `span` of `path`.
    pub fn new(path: &Path, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.to_path_buf(),
            span,
            message: message.into(),
        }
    }
}
