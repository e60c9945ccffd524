//! AVRO, PROTOBUF and JSON_SR: rows in Confluent's wire format (magic byte, schema id,
//! payload) with their schemas in the schema registry, under the topic's `-key` / `-value`
//! subject (TopicNameStrategy). Reading uses the writer's schema from the record's id;
//! writing registers a schema generated from the columns (as ksqlDB does) unless the source
//! names one (`VALUE_SCHEMA_ID`), or its subject already holds the one it was created over.
//! Columns are inferred from the subject's latest schema for `CREATE STREAM|TABLE` without
//! columns.

use std::sync::Arc;

use apache_avro::Schema as Avro;
use brook_registry::client::RegistryClient;
use brook_registry::format::{Parsed, SchemaType};
use prost_reflect::{Kind, MessageDescriptor};
use serde::de::Deserializer;
use serde_json::{Value as Json, json};

use super::Format;
use crate::error::{Result, SqlError};
use crate::types::SqlType;
use crate::value::{Row, Value};

/// The registry side of a row format: the client, the subject and the writer schema.
#[derive(Debug)]
pub struct RegistryCodec {
    client: Arc<RegistryClient>,
    subject: String,
    schema_type: SchemaType,
    /// The schema rows are written with (registered on first use), or a given id.
    writer: Writer,
}

#[derive(Debug)]
enum Writer {
    Text(String),
    Id(i32),
}

fn schema_type(format: Format) -> SchemaType {
    match format {
        Format::Avro => SchemaType::Avro,
        Format::Protobuf => SchemaType::Protobuf,
        _ => SchemaType::Json,
    }
}

impl RegistryCodec {
    /// A codec writing rows of `columns` under `subject` with a generated schema, or with
    /// the schema `schema_id` names.
    pub fn new(
        client: Arc<RegistryClient>,
        format: Format,
        subject: &str,
        columns: &[(String, SqlType)],
        schema_id: Option<i32>,
    ) -> Result<Self> {
        let writer = match schema_id {
            Some(id) => Writer::Id(id),
            None => Writer::Text(generate_schema(format, columns)?),
        };
        Ok(RegistryCodec {
            client,
            subject: subject.to_string(),
            schema_type: schema_type(format),
            writer,
        })
    }

    /// A row's bytes.
    pub fn write(
        &self,
        columns: &[(String, SqlType)],
        row: &[Value],
        wrapped: bool,
    ) -> std::result::Result<Vec<u8>, String> {
        let value = if wrapped || columns.len() != 1 {
            Json::Object(
                columns
                    .iter()
                    .zip(row)
                    .map(|((n, t), v)| (n.clone(), super::json::value_to_json(v, Some(t))))
                    .collect(),
            )
        } else {
            super::json::value_to_json(&row[0], Some(&columns[0].1))
        };
        match &self.writer {
            Writer::Text(schema) => self
                .client
                .serialize(&self.subject, self.schema_type, schema, None, &value)
                .map_err(|e| e.to_string()),
            Writer::Id(id) => {
                let parsed = self.client.schema(*id).map_err(|e| e.to_string())?;
                let payload = parsed.encode_json(&value, None)?;
                Ok(brook_registry::wire::frame(*id, &payload))
            }
        }
    }

    /// The row in some bytes.
    pub fn read(
        &self,
        columns: &[(String, SqlType)],
        bytes: &[u8],
        wrapped: bool,
    ) -> std::result::Result<Row, String> {
        let value = self
            .client
            .deserialize_plain(bytes)
            .map_err(|e| e.to_string())?;
        if wrapped
            || columns.len() != 1
            || value.is_object() && !matches!(columns[0].1, SqlType::Struct(_) | SqlType::Map(..))
        {
            value
                .deserialize_any(super::json::RowVisitor { columns })
                .map_err(|e| e.to_string())
        } else {
            serde::de::DeserializeSeed::deserialize(super::json::TypedSeed(&columns[0].1), value)
                .map(|v| vec![v])
                .map_err(|e| e.to_string())
        }
    }
}

/// The schema ksqlDB would generate for `columns` (every field optional).
pub fn generate_schema(format: Format, columns: &[(String, SqlType)]) -> Result<String> {
    match format {
        Format::Avro => {
            let fields: Vec<Json> = columns
                .iter()
                .map(|(n, t)| {
                    Ok(json!({"name": n, "type": ["null", avro_type(t, n)?], "default": null}))
                })
                .collect::<Result<_>>()?;
            Ok(json!({
                "type": "record",
                "name": "KsqlDataSourceSchema",
                "namespace": "io.confluent.ksql.avro_schemas",
                "fields": fields
            })
            .to_string())
        }
        Format::JsonSr => {
            let properties: serde_json::Map<String, Json> = columns
                .iter()
                .map(|(n, t)| {
                    (
                        n.clone(),
                        json!({"oneOf": [{"type": "null"}, json_schema_type(t)]}),
                    )
                })
                .collect();
            Ok(json!({"type": "object", "properties": properties}).to_string())
        }
        _ => {
            let mut out = String::from("syntax = \"proto3\";\n\n");
            let mut nested = Vec::new();
            out.push_str("message ConnectDefault1 {\n");
            for (i, (n, t)) in columns.iter().enumerate() {
                out.push_str(&format!(
                    "  {} {n} = {};\n",
                    proto_type(t, n, &mut nested)?,
                    i + 1
                ));
            }
            out.push_str("}\n");
            for m in nested {
                out.push_str(&m);
            }
            Ok(out)
        }
    }
}

fn avro_type(t: &SqlType, name: &str) -> Result<Json> {
    Ok(match t {
        SqlType::Boolean => json!("boolean"),
        SqlType::Int => json!("int"),
        SqlType::Bigint => json!("long"),
        SqlType::Double => json!("double"),
        SqlType::String => json!("string"),
        SqlType::Bytes => json!("bytes"),
        SqlType::Timestamp => json!({"type": "long", "logicalType": "timestamp-millis"}),
        SqlType::Date => json!({"type": "int", "logicalType": "date"}),
        SqlType::Time => json!({"type": "int", "logicalType": "time-millis"}),
        SqlType::Array(e) => json!({"type": "array", "items": ["null", avro_type(e, name)?]}),
        SqlType::Map(_, v) => json!({"type": "map", "values": ["null", avro_type(v, name)?]}),
        SqlType::Struct(fields) => json!({
            "type": "record",
            "name": format!("KsqlDataSourceSchema_{name}"),
            "fields": fields.iter().map(|(n, t)| Ok(json!({"name": n, "type": ["null", avro_type(t, n)?], "default": null}))).collect::<Result<Vec<_>>>()?
        }),
        SqlType::Decimal(..) | SqlType::Null => {
            return Err(SqlError::statement(format!(
                "Column {name}: {t} cannot be written as AVRO by Brook SQL yet"
            )));
        }
    })
}

fn json_schema_type(t: &SqlType) -> Json {
    match t {
        SqlType::Boolean => json!({"type": "boolean"}),
        SqlType::Int | SqlType::Bigint | SqlType::Timestamp | SqlType::Date | SqlType::Time => {
            json!({"type": "integer"})
        }
        SqlType::Double | SqlType::Decimal(..) => json!({"type": "number"}),
        SqlType::Array(e) => json!({"type": "array", "items": json_schema_type(e)}),
        SqlType::Map(_, v) => {
            json!({"type": "object", "additionalProperties": json_schema_type(v)})
        }
        SqlType::Struct(fields) => json!({
            "type": "object",
            "properties": fields.iter().map(|(n, t)| (n.clone(), json_schema_type(t))).collect::<serde_json::Map<_, _>>()
        }),
        _ => json!({"type": "string"}),
    }
}

fn proto_type(t: &SqlType, name: &str, nested: &mut Vec<String>) -> Result<String> {
    Ok(match t {
        SqlType::Boolean => "bool".into(),
        SqlType::Int | SqlType::Date => "int32".into(),
        SqlType::Bigint | SqlType::Timestamp | SqlType::Time => "int64".into(),
        SqlType::Double => "double".into(),
        SqlType::String => "string".into(),
        SqlType::Bytes => "bytes".into(),
        SqlType::Array(e) => format!("repeated {}", proto_type(e, name, nested)?),
        SqlType::Map(k, v) => format!(
            "map<{}, {}>",
            proto_type(k, name, nested)?,
            proto_type(v, name, nested)?
        ),
        SqlType::Struct(fields) => {
            let message = format!("ConnectDefault{}", nested.len() + 2);
            let mut text = format!("message {message} {{\n");
            for (i, (n, t)) in fields.iter().enumerate() {
                text.push_str(&format!(
                    "  {} {n} = {};\n",
                    proto_type(t, n, nested)?,
                    i + 1
                ));
            }
            text.push_str("}\n");
            nested.push(text);
            message
        }
        SqlType::Decimal(..) | SqlType::Null => {
            return Err(SqlError::statement(format!(
                "Column {name}: {t} cannot be written as PROTOBUF by Brook SQL yet"
            )));
        }
    })
}

/// The columns of the latest schema under `subject`, as ksqlDB infers them (names
/// upper-cased).
pub fn infer_columns(
    client: &RegistryClient,
    subject: &str,
    format: Format,
) -> Result<Vec<(String, SqlType)>> {
    let (_, parsed) = client.latest(subject).map_err(|e| {
        SqlError::statement(format!(
            "Schema for message values on topic '{}' does not exist in the Schema Registry.\nSubject: {subject}\n\nPossible causes include:\n- The topic itself does not exist\n\t-> Use SHOW TOPICS; to check\n- Messages on the topic are not serialized using a format Schema Registry supports\n\t-> Use PRINT '{}' FROM BEGINNING; to verify\n- Messages on the topic have not been serialized using a Confluent Schema Registry supported serializer\n- The schema is registered on a different subject than expected\n({e})",
            subject.rsplit_once('-').map_or(subject, |(t, _)| t),
            subject.rsplit_once('-').map_or(subject, |(t, _)| t),
        ))
    })?;
    let wrong = |found: &str| {
        SqlError::statement(format!(
            "The schema of {subject} is {found}, but the format is {}",
            format.name()
        ))
    };
    let columns = match (&*parsed, format) {
        (Parsed::Avro(a), Format::Avro) => match a.schema() {
            Avro::Record(record) => record
                .fields
                .iter()
                .map(|f| Ok((f.name.to_uppercase(), avro_sql_type(&f.schema)?)))
                .collect::<Result<Vec<_>>>()?,
            other => vec![("ROWVAL".to_string(), avro_sql_type(other)?)],
        },
        (Parsed::Json(j), Format::JsonSr) => {
            match j.root().get("properties").and_then(Json::as_object) {
                Some(props) => props
                    .iter()
                    .map(|(n, p)| (n.to_uppercase(), json_sql_type(p)))
                    .collect(),
                None => vec![("ROWVAL".to_string(), json_sql_type(j.root()))],
            }
        }
        (Parsed::Protobuf(p), Format::Protobuf) => {
            let message = p.message_at(&[]).ok_or_else(|| {
                SqlError::statement(format!("The schema of {subject} has no message"))
            })?;
            proto_columns(&message)
        }
        (Parsed::Avro(_), _) => return Err(wrong("AVRO")),
        (Parsed::Json(_), _) => return Err(wrong("JSON")),
        (Parsed::Protobuf(_), _) => return Err(wrong("PROTOBUF")),
    };
    if columns.is_empty() {
        return Err(SqlError::statement(format!(
            "The schema of {subject} has no fields"
        )));
    }
    Ok(columns)
}

fn avro_sql_type(schema: &Avro) -> Result<SqlType> {
    Ok(match schema {
        Avro::Boolean => SqlType::Boolean,
        Avro::Int => SqlType::Int,
        Avro::Long => SqlType::Bigint,
        Avro::Float | Avro::Double => SqlType::Double,
        Avro::String | Avro::Enum(_) | Avro::Uuid(_) => SqlType::String,
        Avro::Bytes | Avro::Fixed(_) => SqlType::Bytes,
        Avro::Decimal(d) => SqlType::Decimal(d.precision.min(38) as u8, d.scale.min(38) as u8),
        Avro::Date => SqlType::Date,
        Avro::TimeMillis | Avro::TimeMicros => SqlType::Time,
        Avro::TimestampMillis
        | Avro::TimestampMicros
        | Avro::LocalTimestampMillis
        | Avro::LocalTimestampMicros => SqlType::Timestamp,
        Avro::Array(a) => SqlType::Array(Box::new(avro_sql_type(&a.items)?)),
        Avro::Map(m) => SqlType::Map(
            Box::new(SqlType::String),
            Box::new(avro_sql_type(&m.types)?),
        ),
        Avro::Record(r) => SqlType::Struct(
            r.fields
                .iter()
                .map(|f| Ok((f.name.to_uppercase(), avro_sql_type(&f.schema)?)))
                .collect::<Result<_>>()?,
        ),
        Avro::Union(u) => {
            let branches: Vec<&Avro> = u
                .variants()
                .iter()
                .filter(|v| !matches!(v, Avro::Null))
                .collect();
            match branches.as_slice() {
                [one] => avro_sql_type(one)?,
                _ => {
                    return Err(SqlError::statement(
                        "Avro unions of several non-null types are not supported",
                    ));
                }
            }
        }
        other => {
            return Err(SqlError::statement(format!(
                "The Avro type {other:?} is not supported"
            )));
        }
    })
}

fn json_sql_type(p: &Json) -> SqlType {
    let ty = match p.get("type") {
        Some(Json::String(t)) => t.as_str(),
        Some(Json::Array(ts)) => ts
            .iter()
            .filter_map(Json::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string"),
        _ => match p
            .get("oneOf")
            .or_else(|| p.get("anyOf"))
            .and_then(Json::as_array)
        {
            Some(options) => {
                return options
                    .iter()
                    .find(|o| o.get("type") != Some(&json!("null")))
                    .map_or(SqlType::String, json_sql_type);
            }
            None => "string",
        },
    };
    match ty {
        "integer" => SqlType::Bigint,
        "number" => SqlType::Double,
        "boolean" => SqlType::Boolean,
        "array" => SqlType::Array(Box::new(
            p.get("items").map_or(SqlType::String, json_sql_type),
        )),
        "object" => match p.get("properties").and_then(Json::as_object) {
            Some(props) => SqlType::Struct(
                props
                    .iter()
                    .map(|(n, q)| (n.to_uppercase(), json_sql_type(q)))
                    .collect(),
            ),
            None => SqlType::Map(
                Box::new(SqlType::String),
                Box::new(
                    p.get("additionalProperties")
                        .map_or(SqlType::String, json_sql_type),
                ),
            ),
        },
        _ => SqlType::String,
    }
}

fn proto_columns(message: &MessageDescriptor) -> Vec<(String, SqlType)> {
    message
        .fields()
        .map(|f| {
            let base = match f.kind() {
                Kind::Bool => SqlType::Boolean,
                Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 | Kind::Uint32 | Kind::Fixed32 => {
                    SqlType::Int
                }
                Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
                    SqlType::Bigint
                }
                Kind::Float | Kind::Double => SqlType::Double,
                Kind::String | Kind::Enum(_) => SqlType::String,
                Kind::Bytes => SqlType::Bytes,
                Kind::Message(m) if f.is_map() => {
                    let value = m.map_entry_value_field();
                    let v = proto_columns(&m)
                        .into_iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(value.name()))
                        .map_or(SqlType::String, |(_, t)| t);
                    SqlType::Map(Box::new(SqlType::String), Box::new(v))
                }
                Kind::Message(m) => SqlType::Struct(proto_columns(&m)),
            };
            let ty = if f.is_list() {
                SqlType::Array(Box::new(base))
            } else {
                base
            };
            (f.name().to_uppercase(), ty)
        })
        .collect()
}
