//! Human output helpers: aligned tables, sizes, dates; and JSON output for `--json`.

use std::io::Write;

use serde::Serialize;
use unicode_width::UnicodeWidthStr;

/// Writes to stdout; a closed stdout (`| head`) ends the process quietly with success, any
/// other write error with exit code 1.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(i32::from(crate::failure::EXIT_GENERIC));
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A plain-text table with left-aligned columns separated by two spaces. Widths are terminal
/// columns (`unicode-width`): Chinese characters take two, so zh-CN text lines up.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|s| (*s).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let cols = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.width()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(cols) {
                widths[i] = widths[i].max(cell.width());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate().take(cols) {
                if i + 1 == cols {
                    line.push_str(cell);
                } else {
                    let pad = widths[i] - cell.width();
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints the table, or `empty` when it has no rows.
    pub fn print(&self, empty: &str) {
        if self.rows.is_empty() {
            outln!("{empty}");
        } else {
            out!("{}", self.render());
        }
    }
}

/// The language of human output: Chinese when `LANDFALL_LANG` (else `LC_ALL`, `LANG`) starts with
/// `zh`, English otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// From the environment.
    pub fn from_env() -> Self {
        let var = ["LANDFALL_LANG", "LC_ALL", "LANG"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .unwrap_or_default();
        Self::parse(&var)
    }

    /// `zh`, `zh_CN.UTF-8`, `zh-CN` → Chinese; anything else English.
    pub fn parse(s: &str) -> Self {
        if s.to_ascii_lowercase().starts_with("zh") {
            Self::Zh
        } else {
            Self::En
        }
    }

    /// The text in this language.
    pub fn pick(self, en: &'static str, zh: &'static str) -> &'static str {
        match self {
            Self::En => en,
            Self::Zh => zh,
        }
    }
}

/// `1536` → `1.5 KiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Epoch milliseconds → `2026-11-25 18:07 UTC`.
pub fn time(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        None => ms.to_string(),
    }
}

/// `Some(x)` → `x`, `None` → `-`.
pub fn opt(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns() {
        let mut t = Table::new(&["A", "LONGER"]);
        t.row(vec!["xyz".into(), "1".into()]);
        t.row(vec!["q".into(), "".into()]);
        assert_eq!(t.render(), "A    LONGER\nxyz  1\nq\n");
    }

    #[test]
    fn chinese_text_is_two_columns_wide() {
        let mut t = Table::new(&["名称", "N"]);
        t.row(vec!["上海某某科技有限公司".into(), "1".into()]);
        t.row(vec!["ab".into(), "2".into()]);
        let out = t.render();
        let starts: Vec<usize> = out
            .lines()
            .map(|l| {
                let (before, _) = l.rsplit_once("  ").unwrap();
                before.width() + 2
            })
            .collect();
        assert_eq!(starts, vec![22, 22, 22], "{out}");
    }

    #[test]
    fn sizes_and_times() {
        assert_eq!(size(10), "10 B");
        assert_eq!(size(2251), "2.2 KiB");
        assert_eq!(size(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(time(0), "1970-01-01 00:00 UTC");
    }
}
