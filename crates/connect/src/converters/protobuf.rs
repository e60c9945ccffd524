//! Confluent's `ProtobufConverter` (`io.confluent.connect.protobuf.ProtobufConverter`):
//! Connect data as Protobuf messages in the registry's wire format (message indexes after the
//! schema id; [`super::registry`]).
//!
//! A struct is a proto3 `message` named after the schema (its last dotted part; `ConnectDefault1`
//! when unnamed), its fields numbered in order; an optional field is proto3 `optional`;
//! int8…int32 are `int32`, int64 `int64`, float32 `float`, float64 `double`; an array is a
//! `repeated` field, a map with string keys a `map<string, …>`, a nested struct a nested
//! message. Kafka Connect's Timestamp, Date and Time travel as their integers (Confluent
//! writes `google.protobuf.Timestamp` and friends instead).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use brook_registry::format::{Parsed, SchemaType};
use prost_reflect::{Kind, MessageDescriptor};
use serde_json::Value as Json;

use super::ConvertError;
use super::registry::{Format, RegistryConverter};
use crate::data::{Field, Schema, Type, Value};

/// The Protobuf format of the registry converters.
pub struct Protobuf;

/// `io.confluent.connect.protobuf.ProtobufConverter`.
pub type ProtobufConverter = RegistryConverter<Protobuf>;

/// A message name from a schema name (`ksql.orders` → `orders`).
fn message_name(schema: &Schema, count: &mut usize) -> String {
    *count += 1;
    match schema.name.as_deref().and_then(|n| n.rsplit('.').next()) {
        Some(n) if !n.is_empty() => n
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
        _ => format!("ConnectDefault{count}"),
    }
}

/// A field's proto type, declaring nested messages into `nested`.
fn field_type(
    schema: &Schema,
    name: &str,
    nested: &mut Vec<String>,
    count: &mut usize,
) -> Result<String, ConvertError> {
    Ok(match &schema.kind {
        Type::Int8 | Type::Int16 | Type::Int32 => "int32".to_string(),
        Type::Int64 => "int64".to_string(),
        Type::Float32 => "float".to_string(),
        Type::Float64 => "double".to_string(),
        Type::Boolean => "bool".to_string(),
        Type::String => "string".to_string(),
        Type::Bytes => "bytes".to_string(),
        Type::Struct(_) => {
            let (message_name, text) = message(schema, count, name)?;
            nested.push(text);
            message_name
        }
        Type::Map(k, v) if k.kind == Type::String => {
            if matches!(v.kind, Type::Array(_) | Type::Map(..)) {
                return Err(ConvertError(format!(
                    "field {name}: a map of arrays or maps has no Protobuf form"
                )));
            }
            format!("map<string, {}>", field_type(v, name, nested, count)?)
        }
        Type::Map(..) => {
            return Err(ConvertError(format!(
                "field {name}: Protobuf maps need string keys"
            )));
        }
        Type::Array(_) => {
            return Err(ConvertError(format!(
                "field {name}: an array of arrays has no Protobuf form"
            )));
        }
    })
}

/// A message definition for a struct schema: its name and its text. A nested message's name
/// must differ from the field it types (they share a scope): `address` becomes `Address`.
fn message(
    schema: &Schema,
    count: &mut usize,
    field: &str,
) -> Result<(String, String), ConvertError> {
    let Type::Struct(fields) = &schema.kind else {
        return Err(ConvertError(
            "the ProtobufConverter writes structs (messages)".to_string(),
        ));
    };
    let mut name = message_name(schema, count);
    if name == field {
        let mut chars = name.chars();
        name = chars
            .next()
            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default();
        if name == field {
            name.push_str("Message");
        }
    }
    let mut nested = Vec::new();
    let mut lines = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let (label, ty) = match &f.schema.kind {
            Type::Array(items) => ("repeated ", field_type(items, &f.name, &mut nested, count)?),
            Type::Map(..) => ("", field_type(&f.schema, &f.name, &mut nested, count)?),
            _ if f.schema.optional => (
                "optional ",
                field_type(&f.schema, &f.name, &mut nested, count)?,
            ),
            _ => ("", field_type(&f.schema, &f.name, &mut nested, count)?),
        };
        lines.push(format!("  {label}{ty} {} = {};", f.name, i + 1));
    }
    let body = nested
        .iter()
        .map(|n| n.lines().map(|l| format!("  {l}\n")).collect::<String>())
        .collect::<String>();
    Ok((
        name.clone(),
        format!("message {name} {{\n{body}{}\n}}\n", lines.join("\n")),
    ))
}

/// The Connect schema of a message.
fn connect_schema(m: &MessageDescriptor) -> Result<Schema, ConvertError> {
    let mut fields = Vec::new();
    for f in m.fields() {
        let kind_schema = |kind: Kind| -> Result<Schema, ConvertError> {
            Ok(match kind {
                Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Schema::of(Type::Int32),
                Kind::Int64
                | Kind::Sint64
                | Kind::Sfixed64
                | Kind::Uint32
                | Kind::Fixed32
                | Kind::Uint64
                | Kind::Fixed64 => Schema::of(Type::Int64),
                Kind::Float => Schema::of(Type::Float32),
                Kind::Double => Schema::of(Type::Float64),
                Kind::Bool => Schema::of(Type::Boolean),
                Kind::String | Kind::Enum(_) => Schema::of(Type::String),
                Kind::Bytes => Schema::of(Type::Bytes),
                Kind::Message(inner) => connect_schema(&inner)?,
            })
        };
        let schema = if f.is_map() {
            let Kind::Message(entry) = f.kind() else {
                unreachable!("a map field's kind is its entry message")
            };
            let value = entry.map_entry_value_field();
            Schema::of(Type::Map(
                Box::new(Schema::of(Type::String)),
                Box::new(kind_schema(value.kind())?),
            ))
        } else if f.is_list() {
            Schema::of(Type::Array(Box::new(kind_schema(f.kind())?)))
        } else {
            let s = kind_schema(f.kind())?;
            if f.supports_presence() {
                s.optional()
            } else {
                s
            }
        };
        fields.push(Field {
            name: f.name().to_string(),
            schema,
        });
    }
    Ok(Schema::of(Type::Struct(fields)).named(m.full_name()))
}

impl Format for Protobuf {
    const TYPE: SchemaType = SchemaType::Protobuf;
    const NAME: &'static str = "ProtobufConverter";

    fn schema_text(schema: &Schema) -> Result<String, ConvertError> {
        let (_, text) = message(schema, &mut 0, "")?;
        Ok(format!("syntax = \"proto3\";\n\n{text}"))
    }

    fn encode(parsed: &Parsed, _: &Schema, value: &Value) -> Result<Vec<u8>, ConvertError> {
        // Null fields are absent (proto3's JSON reads null as the default).
        fn strip_nulls(j: Json) -> Json {
            match j {
                Json::Object(m) => Json::Object(
                    m.into_iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, v)| (k, strip_nulls(v)))
                        .collect(),
                ),
                Json::Array(items) => Json::Array(items.into_iter().map(strip_nulls).collect()),
                other => other,
            }
        }
        parsed
            .encode_json(&strip_nulls(value.to_json()), None)
            .map_err(|e| ConvertError(format!("the value does not match its Protobuf schema: {e}")))
    }

    /// The schema, and the Connect schema of each message read so far, by message indexes.
    type Reader = (Arc<Parsed>, Mutex<HashMap<Vec<i32>, Schema>>);

    fn reader(parsed: Arc<Parsed>) -> Result<Self::Reader, ConvertError> {
        if !matches!(parsed.as_ref(), Parsed::Protobuf(_)) {
            return Err(ConvertError("not a Protobuf schema".to_string()));
        }
        Ok((parsed, Mutex::new(HashMap::new())))
    }

    fn decode(
        (parsed, schemas): &Self::Reader,
        payload: &[u8],
    ) -> Result<(Schema, Value), ConvertError> {
        let Parsed::Protobuf(p) = parsed.as_ref() else {
            return Err(ConvertError("not a Protobuf schema".to_string()));
        };
        let (indexes, message) = brook_registry::wire::decode_message_indexes(payload)
            .map_err(|e| ConvertError(format!("bad message indexes: {e}")))?;
        let schema = {
            let mut schemas = schemas.lock().unwrap_or_else(|e| e.into_inner());
            match schemas.get(&indexes) {
                Some(s) => s.clone(),
                None => {
                    let descriptor = p.message_at(&indexes).ok_or_else(|| {
                        ConvertError(format!("the schema has no message at {indexes:?}"))
                    })?;
                    let schema = connect_schema(&descriptor)?;
                    schemas.insert(indexes.clone(), schema.clone());
                    schema
                }
            }
        };
        let j = p
            .decode_plain(&indexes, message)
            .map_err(|e| ConvertError(format!("not a message of its schema: {e}")))?;
        let value = Value::from_json_with(&j, &schema).map_err(ConvertError)?;
        Ok((schema, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structs_become_proto3_messages() {
        let schema = Schema::of(Type::Struct(vec![
            Field {
                name: "orderid".into(),
                schema: Schema::of(Type::Int32),
            },
            Field {
                name: "units".into(),
                schema: Schema::of(Type::Float64).optional(),
            },
            Field {
                name: "address".into(),
                schema: Schema::of(Type::Struct(vec![Field {
                    name: "city".into(),
                    schema: Schema::of(Type::String),
                }]))
                .named("ksql.address"),
            },
            Field {
                name: "tags".into(),
                schema: Schema::of(Type::Array(Box::new(Schema::of(Type::String)))),
            },
        ]))
        .named("ksql.orders");
        let text = Protobuf::schema_text(&schema).unwrap();
        assert_eq!(
            text,
            "syntax = \"proto3\";\n\nmessage orders {\n  message Address {\n    string city = 1;\n  }\n  int32 orderid = 1;\n  optional double units = 2;\n  Address address = 3;\n  repeated string tags = 4;\n}\n"
        );
    }
}
