//! Confluent's `JsonSchemaConverter` (`io.confluent.connect.json.JsonSchemaConverter`):
//! Connect data as JSON documents validated against a JSON Schema in the registry
//! ([`super::registry`]).
//!
//! Schemas map as Confluent's `JsonSchemaData` maps them: a struct is an `object` with
//! `properties` (each with its `connect.index`, so field order survives) and its name as
//! `title`; an optional schema is `oneOf` null and itself; int8…int64 are `integer`, float32
//! and float64 `number`, each with its `connect.type`; bytes are a base64 `string` with
//! `connect.type: bytes`; a map with string keys is an `object` of `additionalProperties`.

use std::sync::Arc;

use brook_registry::format::{Parsed, SchemaType};
use serde_json::{Value as Json, json};

use super::ConvertError;
use super::registry::{Format, RegistryConverter};
use crate::data::{Field, Schema, Type, Value};

/// The JSON Schema format of the registry converters.
pub struct JsonSchema;

/// `io.confluent.connect.json.JsonSchemaConverter`.
pub type JsonSchemaConverter = RegistryConverter<JsonSchema>;

/// The JSON Schema of a Connect schema.
fn json_schema(schema: &Schema) -> Json {
    let connect = |t: &str, kind: &str| json!({"type": kind, "connect.type": t});
    let mut plain = match &schema.kind {
        Type::Int8 => connect("int8", "integer"),
        Type::Int16 => connect("int16", "integer"),
        Type::Int32 => connect("int32", "integer"),
        Type::Int64 => connect("int64", "integer"),
        Type::Float32 => connect("float32", "number"),
        Type::Float64 => connect("float64", "number"),
        Type::Boolean => json!({"type": "boolean"}),
        Type::String => json!({"type": "string"}),
        Type::Bytes => connect("bytes", "string"),
        Type::Array(items) => json!({"type": "array", "items": json_schema(items)}),
        Type::Map(_, values) => {
            json!({"type": "object", "additionalProperties": json_schema(values), "connect.type": "map"})
        }
        Type::Struct(fields) => {
            let mut properties = serde_json::Map::new();
            for (i, f) in fields.iter().enumerate() {
                let mut p = json_schema(&f.schema);
                p["connect.index"] = json!(i);
                properties.insert(f.name.clone(), p);
            }
            json!({"type": "object", "properties": properties})
        }
    };
    if let Some(name) = &schema.name {
        plain["title"] = json!(name);
    }
    if schema.optional {
        json!({"oneOf": [{"type": "null"}, plain]})
    } else {
        plain
    }
}

/// The Connect schema of a JSON Schema.
fn connect_schema(j: &Json) -> Result<Schema, ConvertError> {
    // oneOf / anyOf with null, or "type": ["null", x]: optional.
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = j.get(key).and_then(Json::as_array) {
            let others: Vec<&Json> = branches.iter().filter(|b| b["type"] != "null").collect();
            if let [one] = others.as_slice() {
                let mut s = connect_schema(one)?;
                s.optional = others.len() < branches.len();
                return Ok(s);
            }
            return Err(ConvertError(format!(
                "a {key} of several non-null schemas is not supported by Brook Connect"
            )));
        }
    }
    let (kind, optional) = match &j["type"] {
        Json::String(t) => (t.as_str(), false),
        Json::Array(ts) => {
            let others: Vec<&str> = ts
                .iter()
                .filter_map(Json::as_str)
                .filter(|t| *t != "null")
                .collect();
            match others.as_slice() {
                [one] => (*one, others.len() < ts.len()),
                _ => {
                    return Err(ConvertError(format!(
                        "unsupported JSON Schema type {}",
                        j["type"]
                    )));
                }
            }
        }
        _ => ("object", false),
    };
    let connect_type = j["connect.type"].as_str();
    let mut schema = match (kind, connect_type) {
        ("integer", Some("int8")) => Schema::of(Type::Int8),
        ("integer", Some("int16")) => Schema::of(Type::Int16),
        ("integer", Some("int32")) => Schema::of(Type::Int32),
        ("integer", _) => Schema::of(Type::Int64),
        ("number", Some("float32")) => Schema::of(Type::Float32),
        ("number", _) => Schema::of(Type::Float64),
        ("boolean", _) => Schema::of(Type::Boolean),
        ("string", Some("bytes")) => Schema::of(Type::Bytes),
        ("string", _) => Schema::of(Type::String),
        ("array", _) => Schema::of(Type::Array(Box::new(connect_schema(&j["items"])?))),
        ("object", _) if j.get("properties").is_none() => Schema::of(Type::Map(
            Box::new(Schema::of(Type::String)),
            Box::new(match j.get("additionalProperties") {
                Some(v @ Json::Object(_)) => connect_schema(v)?,
                _ => Schema::of(Type::String).optional(),
            }),
        )),
        ("object", _) => {
            let properties = j["properties"].as_object().cloned().unwrap_or_default();
            let mut fields: Vec<(u64, Field)> = Vec::new();
            for (i, (name, p)) in properties.iter().enumerate() {
                let index = p["connect.index"].as_u64().unwrap_or(10_000 + i as u64);
                fields.push((
                    index,
                    Field {
                        name: name.clone(),
                        schema: connect_schema(p)?,
                    },
                ));
            }
            fields.sort_by_key(|(i, _)| *i);
            Schema::of(Type::Struct(fields.into_iter().map(|(_, f)| f).collect()))
        }
        (other, _) => {
            return Err(ConvertError(format!(
                "unsupported JSON Schema type '{other}'"
            )));
        }
    };
    schema.optional |= optional;
    schema.name = j["title"].as_str().map(str::to_string);
    Ok(schema)
}

impl Format for JsonSchema {
    const TYPE: SchemaType = SchemaType::Json;
    const NAME: &'static str = "JsonSchemaConverter";

    fn schema_text(schema: &Schema) -> Result<String, ConvertError> {
        Ok(json_schema(schema).to_string())
    }

    fn encode(parsed: &Parsed, _: &Schema, value: &Value) -> Result<Vec<u8>, ConvertError> {
        parsed
            .encode_json(&value.to_json(), None)
            .map_err(|e| ConvertError(format!("the value does not match its JSON Schema: {e}")))
    }

    type Reader = Schema;

    fn reader(parsed: Arc<Parsed>) -> Result<Self::Reader, ConvertError> {
        let Parsed::Json(js) = parsed.as_ref() else {
            return Err(ConvertError("not a JSON Schema".to_string()));
        };
        connect_schema(js.root())
    }

    fn decode(schema: &Self::Reader, payload: &[u8]) -> Result<(Schema, Value), ConvertError> {
        let j: Json = serde_json::from_slice(payload)
            .map_err(|e| ConvertError(format!("the payload is not JSON: {e}")))?;
        let value = Value::from_json_with(&j, schema).map_err(ConvertError)?;
        Ok((schema.clone(), value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_schemas_round_trip_through_json_schema() {
        let schema = Schema::of(Type::Struct(vec![
            Field {
                name: "vendor_id".into(),
                schema: Schema::of(Type::Int32),
            },
            Field {
                name: "fare".into(),
                schema: Schema::of(Type::Float64).optional(),
            },
            Field {
                name: "tags".into(),
                schema: Schema::of(Type::Array(Box::new(Schema::of(Type::String)))),
            },
            Field {
                name: "a_first_letter_later".into(),
                schema: Schema::of(Type::Bytes),
            },
        ]))
        .named("Ride");
        let text = json_schema(&schema);
        assert_eq!(text["title"], "Ride");
        assert_eq!(text["properties"]["fare"]["oneOf"][0]["type"], "null");
        assert_eq!(connect_schema(&text).unwrap(), schema);
    }
}
