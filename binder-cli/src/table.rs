//! Plain-text tables: a header row and aligned columns, as `ps` prints them.

use std::fmt::Write;

/// A table with a title, column headers and rows of cells.
pub struct Table {
    title: String,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    /// What to print instead of the header when there are no rows.
    empty: &'static str,
}

impl Table {
    pub fn new(title: impl Into<String>, headers: &[&'static str]) -> Table {
        Table {
            title: title.into(),
            headers: headers.to_vec(),
            rows: Vec::new(),
            empty: "(none)",
        }
    }

    pub fn empty_note(mut self, note: &'static str) -> Table {
        self.empty = note;
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }

    /// The table as text: the title (if any), then the header and rows, or the empty note.
    pub fn render(&self, out: &mut String) {
        // A titled table is a section of a longer output: indent it under its title.
        let indent = if self.title.is_empty() {
            ""
        } else {
            let _ = writeln!(out, "{}", self.title);
            "  "
        };
        if self.rows.is_empty() {
            let _ = writeln!(out, "{indent}{}", self.empty);
            return;
        }
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
            let mut text = String::from(indent);
            for (i, (cell, w)) in cells.zip(&widths).enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                let _ = write!(text, "{cell:<w$}");
            }
            let _ = writeln!(out, "{}", text.trim_end());
        };
        line(&mut self.headers.iter().copied(), out);
        for row in &self.rows {
            line(&mut row.iter().map(String::as_str), out);
        }
    }
}

/// Bytes as a short human-readable size (`512 B`, `12.0 KiB`, `1.0 MiB`).
pub fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes < KIB {
        format!("{bytes} B")
    } else if bytes < MIB {
        format!("{:.1} KiB", bytes as f64 / KIB as f64)
    } else {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    }
}

/// An optional value, or `-`.
pub fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// A list of values joined with commas, or `-`.
pub fn list<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "-".to_owned();
    }
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The command name of a process (`/proc/PID/comm`), or `?` when it cannot be read.
pub fn command_of(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "?".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned() {
        let mut t = Table::new("T", &["A", "LONGER"]);
        t.row(vec!["xyz".into(), "1".into()]);
        t.row(vec!["q".into(), "22".into()]);
        let mut s = String::new();
        t.render(&mut s);
        assert_eq!(s, "T\n  A    LONGER\n  xyz  1\n  q    22\n");
    }

    #[test]
    fn untitled_table_is_not_indented() {
        let mut t = Table::new("", &["A", "B"]);
        t.row(vec!["1".into(), "2".into()]);
        let mut s = String::new();
        t.render(&mut s);
        assert_eq!(s, "A  B\n1  2\n");
    }

    #[test]
    fn empty_table_prints_its_note() {
        let t = Table::new("T", &["A"]).empty_note("(nothing)");
        let mut s = String::new();
        t.render(&mut s);
        assert_eq!(s, "T\n  (nothing)\n");
    }

    #[test]
    fn sizes_are_readable() {
        assert_eq!(size(10), "10 B");
        assert_eq!(size(2048), "2.0 KiB");
        assert_eq!(size(1040384), "1016.0 KiB");
        assert_eq!(size(4 << 20), "4.0 MiB");
    }
}
