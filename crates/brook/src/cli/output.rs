//! How the client subcommands print: aligned tables (bold headers, colour only on a terminal)
//! or JSON (`--output json`), and byte sizes and rates people can read.

use std::io::Write as _;

use comfy_table::{Cell, ContentArrangement, Table, presets};
use serde::Serialize;

/// `--output`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Aligned tables for people.
    #[default]
    Table,
    /// JSON for programs.
    Json,
}

/// Whether stdout is a terminal (colour and bold are only used then, and never with
/// `NO_COLOR`).
pub fn styled() -> bool {
    use std::io::IsTerminal as _;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// A table with the given column headers, printed without borders like `kafka-topics.sh`.
pub fn table(headers: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    let style = styled();
    table.set_header(headers.iter().map(|h| {
        let cell = Cell::new(h);
        if style {
            cell.add_attribute(comfy_table::Attribute::Bold)
        } else {
            cell
        }
    }));
    // comfy-table pads every cell with one space on each side; the first column starts flush.
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    table
}

/// A cell in `color` on a terminal, plain otherwise.
pub fn colored(text: impl Into<String>, color: comfy_table::Color) -> Cell {
    let cell = Cell::new(text.into());
    if styled() { cell.fg(color) } else { cell }
}

/// Green for a healthy state, yellow for one in motion, plain otherwise.
pub fn state_cell(state: &str) -> Cell {
    match state {
        "Stable" | "created" | "deleted" | "CompleteCommit" => {
            colored(state, comfy_table::Color::Green)
        }
        "Ongoing" | "PrepareCommit" | "PrepareAbort" | "PrepareEpochFence" => {
            colored(state, comfy_table::Color::Yellow)
        }
        "CompleteAbort" => colored(state, comfy_table::Color::Red),
        "PreparingRebalance" | "CompletingRebalance" | "Assigning" | "Reconciling" => {
            colored(state, comfy_table::Color::Yellow)
        }
        other => Cell::new(other),
    }
}

/// Prints a table, trimming the trailing padding of each line.
pub fn print_table(table: &Table) {
    let mut out = std::io::stdout().lock();
    for line in table.to_string().lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// Prints `name  value` pairs aligned, for single-object views.
pub fn print_fields(fields: &[(&str, String)]) {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let bold = styled();
    let mut out = std::io::stdout().lock();
    for (key, value) in fields {
        if bold {
            let _ = writeln!(out, "\x1b[1m{key:<width$}\x1b[0m  {value}");
        } else {
            let _ = writeln!(out, "{key:<width$}  {value}");
        }
    }
}

/// Prints a value as pretty JSON.
pub fn print_json<T: Serialize>(value: &T) {
    let text = serde_json::to_string_pretty(value).expect("CLI views serialize");
    println!("{text}");
}

/// 1536 → "1.5 KiB".
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_counts_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
