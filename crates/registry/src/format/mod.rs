//! Schema formats: parsing (with references), the canonical text used to recognise a schema
//! registered before, and the reader/writer check that compatibility levels are built from.
//! Avro ([`avro`]), JSON Schema ([`json_schema`], compatibility in [`json_diff`]) and
//! Protobuf ([`protobuf`], compatibility in [`protobuf_diff`]). [`Parsed`] also encodes and
//! decodes record payloads, so serializers work the same way for every format.

pub mod avro;
pub mod json_diff;
pub mod json_schema;
pub mod protobuf;
pub mod protobuf_builtin;
pub mod protobuf_diff;
pub mod protobuf_text;

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

/// A schema that another one refers to: the name the referring schema uses for it (Avro: a
/// full type name; JSON Schema: the `$ref` location; Protobuf: the import path) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The reference's name.
    pub name: String,
    /// The referenced schema's text.
    pub schema: String,
}

/// A parsed schema of any supported format.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// Avro.
    Avro(avro::AvroSchema),
    /// JSON Schema.
    Json(json_schema::JsonSchema),
    /// Protobuf.
    Protobuf(Box<protobuf::ProtobufSchema>),
}

impl Parsed {
    /// Parses `text` of `schema_type`; `dependencies` are the schemas it refers to, directly
    /// or through other references.
    pub fn parse(
        schema_type: SchemaType,
        text: &str,
        dependencies: &[Dependency],
    ) -> Result<Parsed, RegistryError> {
        match schema_type {
            SchemaType::Avro => {
                let texts: Vec<String> = dependencies.iter().map(|d| d.schema.clone()).collect();
                avro::AvroSchema::parse(text, &texts).map(Parsed::Avro)
            }
            SchemaType::Json => {
                json_schema::JsonSchema::parse(text, dependencies).map(Parsed::Json)
            }
            SchemaType::Protobuf => protobuf::ProtobufSchema::parse(text, dependencies)
                .map(|p| Parsed::Protobuf(Box::new(p))),
        }
    }

    /// The canonical text: equal for schemas that are the same schema.
    pub fn canonical(&self) -> String {
        match self {
            Parsed::Avro(s) => s.canonical(),
            Parsed::Json(s) => s.canonical(),
            Parsed::Protobuf(s) => s.canonical(),
        }
    }

    /// Why data written with `writer` cannot be read with `self`; empty when it can.
    pub fn read_problems(&self, writer: &Parsed) -> Vec<String> {
        match (self, writer) {
            (Parsed::Avro(reader), Parsed::Avro(writer)) => reader.read_problems(writer),
            (Parsed::Json(reader), Parsed::Json(writer)) => reader.read_problems(writer),
            (Parsed::Protobuf(reader), Parsed::Protobuf(writer)) => reader.read_problems(writer),
            (reader, writer) => vec![format!(
                "the schema type changed from {} to {}",
                writer.schema_type().name(),
                reader.schema_type().name()
            )],
        }
    }

    /// The format.
    pub fn schema_type(&self) -> SchemaType {
        match self {
            Parsed::Avro(_) => SchemaType::Avro,
            Parsed::Json(_) => SchemaType::Json,
            Parsed::Protobuf(_) => SchemaType::Protobuf,
        }
    }

    /// The schema in the form `?format=` asks for: `serialized` gives a Protobuf schema as a
    /// base64-encoded `FileDescriptorProto`; `None` when the format does not apply.
    pub fn formatted(&self, format: &str) -> Option<String> {
        match (self, format) {
            (Parsed::Protobuf(p), "serialized") => Some(p.serialized()),
            _ => None,
        }
    }

    /// Encodes a JSON value as a record payload of this schema (Avro datum, validated JSON, or
    /// Protobuf message `message` — the first one when `None` — behind its message indexes).
    pub fn encode_json(
        &self,
        value: &serde_json::Value,
        message: Option<&str>,
    ) -> Result<Vec<u8>, String> {
        match self {
            Parsed::Avro(s) => s.encode_json(value),
            Parsed::Json(s) => {
                s.validate(value)?;
                serde_json::to_vec(value).map_err(|e| e.to_string())
            }
            Parsed::Protobuf(s) => {
                let (indexes, body) = s.encode_json(value, message)?;
                let mut out = crate::wire::encode_message_indexes(&indexes);
                out.extend_from_slice(&body);
                Ok(out)
            }
        }
    }

    /// Like [`Parsed::decode_json`], but a Protobuf message comes out shaped like its
    /// `.proto` (see [`protobuf::ProtobufSchema::decode_plain`]) for `serde` types to read.
    pub fn decode_plain(&self, payload: &[u8]) -> Result<serde_json::Value, String> {
        match self {
            Parsed::Protobuf(s) => {
                let (indexes, body) =
                    crate::wire::decode_message_indexes(payload).map_err(|e| e.to_string())?;
                s.decode_plain(&indexes, body)
            }
            other => other.decode_json(payload),
        }
    }

    /// Decodes a record payload (after the 5-byte header) written with this schema into JSON.
    pub fn decode_json(&self, payload: &[u8]) -> Result<serde_json::Value, String> {
        match self {
            Parsed::Avro(s) => s.decode_json(payload),
            Parsed::Json(s) => {
                let value: serde_json::Value = serde_json::from_slice(payload)
                    .map_err(|e| format!("not a JSON document: {e}"))?;
                s.validate(&value)?;
                Ok(value)
            }
            Parsed::Protobuf(s) => {
                let (indexes, body) =
                    crate::wire::decode_message_indexes(payload).map_err(|e| e.to_string())?;
                s.decode_json(&indexes, body)
            }
        }
    }
}
