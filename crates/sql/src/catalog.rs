//! The metastore: streams and tables with their columns, topics and formats.

use std::collections::BTreeMap;

use crate::ast::SourceKind;
use crate::expr::{Scope, ScopeColumn};
use crate::format::{Format, KeySerde, RowFormat, ValueSerde};
use crate::types::SqlType;

/// The windowing of a windowed table's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowType {
    /// Tumbling or hopping windows of this size.
    Time(i64),
    /// Session windows.
    Session,
}

/// A stream or table.
#[derive(Debug, Clone)]
pub struct Source {
    /// The name.
    pub name: String,
    /// STREAM or TABLE.
    pub kind: SourceKind,
    /// The topic.
    pub topic: String,
    /// Key columns.
    pub key_columns: Vec<(String, SqlType)>,
    /// Value columns.
    pub value_columns: Vec<(String, SqlType)>,
    /// Key format.
    pub key_format: Format,
    /// Value format.
    pub value_format: Format,
    /// JSON's WRAP_SINGLE_VALUE.
    pub wrap_single_value: bool,
    /// DELIMITED's separator.
    pub value_delimiter: char,
    /// The column holding event time (`TIMESTAMP`), as a position in the row.
    pub timestamp_column: Option<String>,
    /// `TIMESTAMP_FORMAT` for a STRING timestamp column.
    pub timestamp_format: Option<String>,
    /// Windowed keys.
    pub window: Option<WindowType>,
    /// The statement that created it.
    pub statement: String,
    /// The persistent query writing it (CSAS/CTAS).
    pub written_by: Option<String>,
    /// `CREATE SOURCE …`: read-only.
    pub read_only: bool,
    /// The schema registry's side of a registry key format.
    pub key_registry: Option<std::sync::Arc<crate::format::registry::RegistryCodec>>,
    /// The schema registry's side of a registry value format.
    pub value_registry: Option<std::sync::Arc<crate::format::registry::RegistryCodec>>,
}

/// The pseudo column holding the record's timestamp.
pub const ROWTIME: &str = "ROWTIME";
/// The pseudo column of a window's start.
pub const WINDOWSTART: &str = "WINDOWSTART";
/// The pseudo column of a window's end.
pub const WINDOWEND: &str = "WINDOWEND";

impl Source {
    /// The key's serde.
    pub fn key_serde(&self) -> KeySerde {
        KeySerde(RowFormat {
            format: self.key_format,
            columns: std::sync::Arc::new(self.key_columns.clone()),
            wrapped: false,
            delimiter: self.value_delimiter,
            registry: self.key_registry.clone(),
        })
    }

    /// The value's serde.
    pub fn value_serde(&self) -> ValueSerde {
        ValueSerde(RowFormat {
            format: self.value_format,
            columns: std::sync::Arc::new(self.value_columns.clone()),
            wrapped: self.wrap_single_value,
            delimiter: self.value_delimiter,
            registry: self.value_registry.clone(),
        })
    }

    /// The columns of the rows queries see: keys, the window bounds of windowed keys,
    /// values, ROWTIME (ksqlDB's order for `SELECT *`).
    pub fn row_columns(&self) -> Vec<(String, SqlType)> {
        let mut columns: Vec<(String, SqlType)> = self.key_columns.clone();
        if self.window.is_some() {
            columns.push((WINDOWSTART.to_string(), SqlType::Bigint));
            columns.push((WINDOWEND.to_string(), SqlType::Bigint));
        }
        columns.extend(self.value_columns.iter().cloned());
        columns.push((ROWTIME.to_string(), SqlType::Bigint));
        columns
    }

    /// The scope of its rows, qualified with `alias`.
    pub fn scope(&self, alias: &str) -> Scope {
        Scope {
            columns: self
                .row_columns()
                .into_iter()
                .map(|(name, ty)| ScopeColumn {
                    qualifier: Some(alias.to_string()),
                    name,
                    ty,
                })
                .collect(),
        }
    }

    /// The columns `DESCRIBE` lists: ROWTIME, keys, values.
    pub fn described_columns(&self) -> Vec<(String, SqlType, Option<&'static str>)> {
        let key = match self.kind {
            SourceKind::Stream => "KEY",
            SourceKind::Table => "PRIMARY KEY",
        };
        let mut out = Vec::new();
        for (n, t) in &self.key_columns {
            out.push((n.clone(), t.clone(), Some(key)));
        }
        if self.window.is_some() {
            out.push((WINDOWSTART.into(), SqlType::Bigint, Some("WINDOWSTART")));
            out.push((WINDOWEND.into(), SqlType::Bigint, Some("WINDOWEND")));
        }
        for (n, t) in &self.value_columns {
            out.push((n.clone(), t.clone(), None));
        }
        out
    }
}

/// All streams and tables, by name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The sources.
    pub sources: BTreeMap<String, Source>,
}

impl Catalog {
    /// The source `name`.
    pub fn get(&self, name: &str) -> Option<&Source> {
        self.sources.get(name)
    }
}
