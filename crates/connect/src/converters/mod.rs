//! Converters between Connect data and record bytes, named by Kafka Connect's class names:
//! `StringConverter`, `ByteArrayConverter`, `JsonConverter` (`schemas.enable`), and
//! Confluent's `AvroConverter`, `JsonSchemaConverter` and `ProtobufConverter` through a schema
//! registry ([`registry`], [`avro`], [`json_schema`], [`protobuf`]). A
//! connector's `key.converter` / `value.converter` (with `key.converter.*` settings) choose
//! them; the worker's defaults apply otherwise.

pub mod avro;
pub mod json_schema;
pub mod protobuf;
pub mod registry;

use serde_json::{Value as Json, json};

use crate::data::{Config, Schema, Value};

/// A converter's failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ConvertError(pub String);

/// Connect data ↔ bytes for one topic (Kafka Connect's `Converter`).
pub trait Converter: Send + Sync {
    /// The bytes of a value (`None`: a null record key or value); Kafka's
    /// `fromConnectData`.
    fn encode(
        &self,
        topic: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, ConvertError>;

    /// The value in some bytes, with its schema when the format carries one; Kafka's
    /// `toConnectData`.
    fn decode(
        &self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<Schema>, Value), ConvertError>;
}

/// The converters Brook knows, by class name (with the short names too).
pub const CONVERTER_CLASSES: &[&str] = &[
    "org.apache.kafka.connect.storage.StringConverter",
    "org.apache.kafka.connect.converters.ByteArrayConverter",
    "org.apache.kafka.connect.json.JsonConverter",
    "io.confluent.connect.avro.AvroConverter",
    "io.confluent.connect.json.JsonSchemaConverter",
    "io.confluent.connect.protobuf.ProtobufConverter",
];

/// The converter `class` for keys (`is_key`) or values, configured by `settings` (the
/// `key.converter.` or `value.converter.` settings, prefix removed).
pub fn converter(
    class: &str,
    settings: &Config,
    is_key: bool,
) -> Result<Box<dyn Converter>, ConvertError> {
    let short = class.rsplit('.').next().unwrap_or(class);
    match short {
        "AvroConverter" => Ok(Box::new(avro::AvroConverter::new(settings, is_key)?)),
        "JsonSchemaConverter" => Ok(Box::new(json_schema::JsonSchemaConverter::new(
            settings, is_key,
        )?)),
        "ProtobufConverter" => Ok(Box::new(protobuf::ProtobufConverter::new(
            settings, is_key,
        )?)),
        "StringConverter" => Ok(Box::new(StringConverter)),
        "ByteArrayConverter" => Ok(Box::new(ByteArrayConverter)),
        "JsonConverter" => Ok(Box::new(JsonConverter {
            schemas_enable: settings
                .get("schemas.enable")
                .is_none_or(|v| v.eq_ignore_ascii_case("true")),
        })),
        _ => Err(ConvertError(format!(
            "Class {class} could not be found: Brook's converters are {}",
            CONVERTER_CLASSES.join(", ")
        ))),
    }
}

/// Values as UTF-8 text (structs and maps as JSON text).
pub struct StringConverter;

impl Converter for StringConverter {
    fn encode(
        &self,
        _: &str,
        _: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, ConvertError> {
        Ok(match value {
            Value::Null => None,
            Value::String(s) => Some(s.clone().into_bytes()),
            Value::Bytes(b) => Some(b.clone()),
            other => Some(match other.to_json() {
                Json::String(s) => s.into_bytes(),
                j => j.to_string().into_bytes(),
            }),
        })
    }

    fn decode(
        &self,
        _: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<Schema>, Value), ConvertError> {
        let schema = Some(Schema::of(crate::data::Type::String).optional());
        Ok(match bytes {
            None => (schema, Value::Null),
            Some(b) => (
                schema,
                Value::String(
                    String::from_utf8(b.to_vec())
                        .map_err(|e| ConvertError(format!("the bytes are not UTF-8: {e}")))?,
                ),
            ),
        })
    }
}

/// Bytes as they are.
pub struct ByteArrayConverter;

impl Converter for ByteArrayConverter {
    fn encode(
        &self,
        _: &str,
        _: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, ConvertError> {
        match value {
            Value::Null => Ok(None),
            Value::Bytes(b) => Ok(Some(b.clone())),
            Value::String(s) => Ok(Some(s.clone().into_bytes())),
            other => Err(ConvertError(format!(
                "ByteArrayConverter is not compatible with objects of type {}",
                kind_of(other)
            ))),
        }
    }

    fn decode(
        &self,
        _: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<Schema>, Value), ConvertError> {
        let schema = Some(Schema::of(crate::data::Type::Bytes).optional());
        Ok((
            schema,
            bytes.map_or(Value::Null, |b| Value::Bytes(b.to_vec())),
        ))
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Boolean(_) => "boolean",
        Value::Int(_) => "integer",
        Value::Float(_) => "float",
        Value::String(_) => "string",
        Value::Bytes(_) => "bytes",
        Value::Array(_) => "array",
        Value::Map(_) => "map",
        Value::Struct(_) => "struct",
    }
}

/// JSON: with `schemas.enable=true` (Kafka's default) an envelope `{"schema": …, "payload":
/// …}`, otherwise the plain value.
pub struct JsonConverter {
    /// Whether the schema travels with each value.
    pub schemas_enable: bool,
}

impl Converter for JsonConverter {
    fn encode(
        &self,
        _: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, ConvertError> {
        if *value == Value::Null && (!self.schemas_enable || schema.is_none()) {
            return Ok(None);
        }
        let payload = value.to_json();
        let out = match (self.schemas_enable, schema) {
            (true, Some(s)) => json!({"schema": s.to_json(), "payload": payload}),
            (true, None) => json!({"schema": null, "payload": payload}),
            (false, _) => payload,
        };
        Ok(Some(out.to_string().into_bytes()))
    }

    fn decode(
        &self,
        _: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<Schema>, Value), ConvertError> {
        let Some(bytes) = bytes else {
            return Ok((None, Value::Null));
        };
        let j: Json = serde_json::from_slice(bytes).map_err(|e| {
            ConvertError(format!(
                "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
            ))
        })?;
        if !self.schemas_enable {
            return Ok((None, Value::from_json(&j)));
        }
        let (Some(obj), true) = (
            j.as_object(),
            j.get("schema").is_some() && j.get("payload").is_some(),
        ) else {
            return Err(ConvertError(
                "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration."
                    .to_string(),
            ));
        };
        if obj["schema"].is_null() {
            return Ok((None, Value::from_json(&obj["payload"])));
        }
        let schema = Schema::from_json(&obj["schema"]).map_err(ConvertError)?;
        let value = Value::from_json_with(&obj["payload"], &schema).map_err(ConvertError)?;
        Ok((Some(schema), value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Field, Type};

    #[test]
    fn json_with_and_without_schemas() {
        let schema = Schema::of(Type::Struct(vec![Field {
            name: "id".into(),
            schema: Schema::of(Type::Int64),
        }]));
        let value = Value::Struct(vec![("id".into(), Value::Int(3))]);
        let with = converter(
            "org.apache.kafka.connect.json.JsonConverter",
            &Config::new(),
            false,
        )
        .unwrap();
        let bytes = with.encode("t", Some(&schema), &value).unwrap().unwrap();
        let j: Json = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(j["payload"], json!({"id": 3}));
        assert_eq!(j["schema"]["type"], "struct");
        assert_eq!(
            with.decode("t", Some(&bytes)).unwrap(),
            (Some(schema.clone()), value.clone())
        );
        let plain = converter(
            "JsonConverter",
            &Config::from([("schemas.enable".to_string(), "false".to_string())]),
            false,
        )
        .unwrap();
        let bytes = plain.encode("t", Some(&schema), &value).unwrap().unwrap();
        assert_eq!(bytes, br#"{"id":3}"#);
        assert!(with.decode("t", Some(b"{\"id\": 3}")).is_err());
        assert!(with.decode("t", Some(b"not json")).is_err());
    }

    #[test]
    fn strings_and_bytes() {
        let s = converter(
            "org.apache.kafka.connect.storage.StringConverter",
            &Config::new(),
            false,
        )
        .unwrap();
        assert_eq!(
            s.encode("t", None, &Value::Int(42)).unwrap(),
            Some(b"42".to_vec())
        );
        assert!(converter("com.example.Nope", &Config::new(), false).is_err());
    }
}
