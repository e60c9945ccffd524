//! Serialization formats of keys and values (ksqlDB's `KEY_FORMAT` / `VALUE_FORMAT`), as
//! [`Serde<Row>`](brook_streams::serdes::Serde)s over the columns of a source.

pub mod delimited;
pub mod internal;
pub mod json;
pub mod registry;

use std::sync::Arc;

use brook_streams::serdes::{Serde, SerdeError};

use crate::error::{Result, SqlError};
use crate::types::SqlType;
use crate::value::{Row, Value};

/// A format name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON objects (or bare values).
    Json,
    /// Comma (or other) separated values.
    Delimited,
    /// Kafka's serdes for one primitive column.
    Kafka,
    /// No columns: the bytes are ignored.
    None,
    /// Avro through the schema registry.
    Avro,
    /// Protobuf through the schema registry.
    Protobuf,
    /// JSON Schema through the schema registry.
    JsonSr,
}

impl Format {
    /// The format named `name` (as in `VALUE_FORMAT='JSON'`).
    pub fn parse(name: &str) -> Result<Format> {
        Ok(match name.trim().to_ascii_uppercase().as_str() {
            "JSON" => Format::Json,
            "DELIMITED" => Format::Delimited,
            "KAFKA" => Format::Kafka,
            "NONE" => Format::None,
            "AVRO" => Format::Avro,
            "PROTOBUF" => Format::Protobuf,
            "JSON_SR" => Format::JsonSr,
            other => {
                return Err(SqlError::statement(format!(
                    "Unknown format: {other}. Formats: JSON, DELIMITED, KAFKA, NONE, AVRO, PROTOBUF, JSON_SR"
                )));
            }
        })
    }

    /// The name, as ksqlDB shows it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Delimited => "DELIMITED",
            Format::Kafka => "KAFKA",
            Format::None => "NONE",
            Format::Avro => "AVRO",
            Format::Protobuf => "PROTOBUF",
            Format::JsonSr => "JSON_SR",
        }
    }

    /// Whether the format's schema lives in the schema registry.
    pub fn uses_registry(self) -> bool {
        matches!(self, Format::Avro | Format::Protobuf | Format::JsonSr)
    }
}

/// How a row's columns are written in one format.
#[derive(Debug, Clone)]
pub struct RowFormat {
    /// The format.
    pub format: Format,
    /// The columns, in order.
    pub columns: Arc<Vec<(String, SqlType)>>,
    /// Whether one column is still written as an object (JSON's `WRAP_SINGLE_VALUE`).
    pub wrapped: bool,
    /// DELIMITED's separator.
    pub delimiter: char,
    /// AVRO, PROTOBUF and JSON_SR: the schema registry's side.
    pub registry: Option<Arc<registry::RegistryCodec>>,
}

impl RowFormat {
    /// Checks that the format can carry these columns, as ksqlDB checks at CREATE.
    pub fn new(
        format: Format,
        columns: Vec<(String, SqlType)>,
        wrapped: bool,
        delimiter: char,
        what: &str,
    ) -> Result<Self> {
        match format {
            Format::Kafka => {
                if columns.len() > 1 {
                    return Err(SqlError::statement(format!(
                        "The 'KAFKA' format only supports a single field. Got: {} {what} columns",
                        columns.len()
                    )));
                }
                if let Some((name, ty)) = columns.first() {
                    if !matches!(
                        ty,
                        SqlType::Int
                            | SqlType::Bigint
                            | SqlType::Double
                            | SqlType::String
                            | SqlType::Bytes
                    ) {
                        return Err(SqlError::statement(format!(
                            "The 'KAFKA' format does not support type '{}' (column {name})",
                            ty.kind_name()
                        )));
                    }
                }
            }
            Format::None => {
                if !columns.is_empty() {
                    return Err(SqlError::statement(format!(
                        "The 'NONE' format can only be used when no columns are defined. Got {} {what} columns",
                        columns.len()
                    )));
                }
            }
            Format::Delimited => {
                if let Some((name, ty)) = columns.iter().find(|(_, t)| {
                    matches!(t, SqlType::Array(_) | SqlType::Map(..) | SqlType::Struct(_))
                }) {
                    return Err(SqlError::statement(format!(
                        "The 'DELIMITED' format does not support type '{}' (column {name})",
                        ty.kind_name()
                    )));
                }
            }
            Format::Avro | Format::Protobuf | Format::JsonSr | Format::Json => {}
        }
        Ok(RowFormat {
            format,
            columns: Arc::new(columns),
            wrapped,
            delimiter,
            registry: None,
        })
    }

    /// The bytes of a row.
    pub fn write(&self, row: &[Value]) -> std::result::Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(64);
        match self.format {
            Format::Json => {
                if self.wrapped || self.columns.len() != 1 {
                    json::write_row_object(&mut out, &self.columns, row);
                } else {
                    json::write_json(&mut out, &row[0], &self.columns[0].1);
                }
            }
            Format::Delimited => delimited::write_row(&mut out, row, self.delimiter),
            Format::Kafka => match row.first() {
                Some(Value::Int(v)) => out.extend_from_slice(&v.to_be_bytes()),
                Some(Value::Bigint(v)) => out.extend_from_slice(&v.to_be_bytes()),
                Some(Value::Double(v)) => out.extend_from_slice(&v.to_be_bytes()),
                Some(Value::String(s)) => out.extend_from_slice(s.as_bytes()),
                Some(Value::Bytes(b)) => out.extend_from_slice(b),
                Some(other) => return Err(format!("the KAFKA format cannot write {other}")),
                None => {}
            },
            Format::None => {}
            Format::Avro | Format::Protobuf | Format::JsonSr => {
                return self.codec()?.write(&self.columns, row, self.wrapped);
            }
        }
        Ok(out)
    }

    /// The row in some bytes.
    pub fn read(&self, bytes: &[u8]) -> std::result::Result<Row, String> {
        match self.format {
            Format::Json => json::read_row(bytes, &self.columns, self.wrapped),
            Format::Delimited => delimited::read_row(bytes, &self.columns, self.delimiter),
            Format::Kafka => {
                let Some((_, ty)) = self.columns.first() else {
                    return Ok(Row::new());
                };
                let fixed = |n: usize| -> std::result::Result<&[u8], String> {
                    if bytes.len() == n {
                        Ok(bytes)
                    } else {
                        Err(format!(
                            "Size of data received by the {ty} KAFKA deserializer is not {n}: {} bytes",
                            bytes.len()
                        ))
                    }
                };
                Ok(vec![match ty {
                    SqlType::Int => {
                        Value::Int(i32::from_be_bytes(fixed(4)?.try_into().expect("4 bytes")))
                    }
                    SqlType::Bigint => {
                        Value::Bigint(i64::from_be_bytes(fixed(8)?.try_into().expect("8 bytes")))
                    }
                    SqlType::Double => {
                        Value::Double(f64::from_be_bytes(fixed(8)?.try_into().expect("8 bytes")))
                    }
                    SqlType::String => Value::string(
                        std::str::from_utf8(bytes)
                            .map_err(|_| "the key is not UTF-8".to_string())?,
                    ),
                    _ => Value::Bytes(bytes.into()),
                }])
            }
            Format::None => Ok(Row::new()),
            Format::Avro | Format::Protobuf | Format::JsonSr => {
                self.codec()?.read(&self.columns, bytes, self.wrapped)
            }
        }
    }

    fn codec(&self) -> std::result::Result<&registry::RegistryCodec, String> {
        self.registry.as_deref().ok_or_else(|| {
            format!(
                "{} needs the schema registry, which is not configured",
                self.format.name()
            )
        })
    }
}

/// The serde of a source's keys: a null key is a row of NULLs, and a row of NULLs (or no
/// columns) is written as a null key.
#[derive(Debug, Clone)]
pub struct KeySerde(pub RowFormat);

impl Serde<Row> for KeySerde {
    fn serialize(&self, topic: &str, row: &Row) -> std::result::Result<Vec<u8>, SerdeError> {
        self.0
            .write(row)
            .map_err(|e| SerdeError::serialize(topic, "key format", e))
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> std::result::Result<Row, SerdeError> {
        self.0
            .read(bytes)
            .map_err(|e| SerdeError::deserialize(topic, "key format", e))
    }

    fn serialize_nullable(
        &self,
        topic: &str,
        row: &Row,
    ) -> std::result::Result<Option<Vec<u8>>, SerdeError> {
        if row.iter().all(Value::is_null) {
            return Ok(None);
        }
        self.serialize(topic, row).map(Some)
    }

    fn deserialize_nullable(
        &self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> std::result::Result<Option<Row>, SerdeError> {
        match bytes {
            Some(b) => self.deserialize(topic, b).map(Some),
            None => Ok(Some(vec![Value::Null; self.0.columns.len()])),
        }
    }
}

/// The serde of a source's values; a null value is a tombstone (None).
#[derive(Debug, Clone)]
pub struct ValueSerde(pub RowFormat);

impl Serde<Row> for ValueSerde {
    fn serialize(&self, topic: &str, row: &Row) -> std::result::Result<Vec<u8>, SerdeError> {
        self.0
            .write(row)
            .map_err(|e| SerdeError::serialize(topic, "value format", e))
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> std::result::Result<Row, SerdeError> {
        self.0
            .read(bytes)
            .map_err(|e| SerdeError::deserialize(topic, "value format", e))
    }
}
