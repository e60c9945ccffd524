//! Schema formats: parsing (with references), the canonical text used to recognise a schema
//! registered before, and the reader/writer check that compatibility levels are built from.
//! Avro is implemented ([`avro`]); JSON Schema and Protobuf are refused with a clear error
//! until they land.

pub mod avro;

use serde::{Deserialize, Serialize};

use crate::error::RegistryError;

/// `schemaType` as the API and `_schemas` spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SchemaType {
    /// Apache Avro (the default when `schemaType` is absent).
    #[default]
    #[serde(rename = "AVRO")]
    Avro,
    /// JSON Schema.
    #[serde(rename = "JSON")]
    Json,
    /// Protocol Buffers.
    #[serde(rename = "PROTOBUF")]
    Protobuf,
}

impl SchemaType {
    /// The API's name.
    pub fn name(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Json => "JSON",
            SchemaType::Protobuf => "PROTOBUF",
        }
    }

    /// Whether this is the default type (omitted from responses, as Confluent does).
    pub fn is_avro(&self) -> bool {
        *self == SchemaType::Avro
    }
}

/// A parsed schema of any supported format.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// Avro.
    Avro(avro::AvroSchema),
}

impl Parsed {
    /// Parses `text` of `schema_type`; `references` are the texts of the schemas it refers to.
    pub fn parse(
        schema_type: SchemaType,
        text: &str,
        references: &[String],
    ) -> Result<Parsed, RegistryError> {
        match schema_type {
            SchemaType::Avro => avro::AvroSchema::parse(text, references).map(Parsed::Avro),
            other => Err(RegistryError::InvalidSchema(format!(
                "schema type {} is not supported yet",
                other.name()
            ))),
        }
    }

    /// The canonical text: equal for schemas that are the same schema.
    pub fn canonical(&self) -> String {
        match self {
            Parsed::Avro(s) => s.canonical(),
        }
    }

    /// Why data written with `writer` cannot be read with `self`; empty when it can.
    pub fn read_problems(&self, writer: &Parsed) -> Vec<String> {
        match (self, writer) {
            (Parsed::Avro(reader), Parsed::Avro(writer)) => reader.read_problems(writer),
        }
    }
}
