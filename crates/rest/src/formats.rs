//! Embedded formats: how keys and values travel inside the JSON of a request or an answer —
//! `binary` (base64), `json` (any JSON), and `avro`, `jsonschema`, `protobuf` (JSON encoded
//! with a schema from the registry into Confluent's wire format) — and the content types that
//! name them (`application/vnd.kafka.avro.v2+json`, …).

use base64::Engine as _;
use brook_registry::client::RegistryClient;
use brook_registry::format::SchemaType;
use serde_json::Value;

use crate::error::RestError;

/// An embedded format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Base64 strings.
    Binary,
    /// Any JSON, stored as its text.
    Json,
    /// Avro through the registry.
    Avro,
    /// JSON Schema through the registry.
    JsonSchema,
    /// Protobuf through the registry.
    Protobuf,
}

impl Format {
    /// Its name in content types and consumer configs (`binary`, `json`, `avro`,
    /// `jsonschema`, `protobuf`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Binary => "binary",
            Format::Json => "json",
            Format::Avro => "avro",
            Format::JsonSchema => "jsonschema",
            Format::Protobuf => "protobuf",
        }
    }

    /// From its name.
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name.to_ascii_lowercase().as_str() {
            "binary" => Format::Binary,
            "json" => Format::Json,
            "avro" => Format::Avro,
            "jsonschema" => Format::JsonSchema,
            "protobuf" => Format::Protobuf,
            _ => return None,
        })
    }

    /// `application/vnd.kafka.<name>.v2+json`.
    pub fn media_type(self) -> String {
        format!("application/vnd.kafka.{}.v2+json", self.name())
    }

    /// The registry's schema type, for the registry formats.
    pub fn schema_type(self) -> Option<SchemaType> {
        match self {
            Format::Avro => Some(SchemaType::Avro),
            Format::JsonSchema => Some(SchemaType::Json),
            Format::Protobuf => Some(SchemaType::Protobuf),
            Format::Binary | Format::Json => None,
        }
    }
}

/// What a content type (or an Accept header) says: `Some(format)` for
/// `application/vnd.kafka.<format>.v2+json`, `None` for `application/vnd.kafka.v2+json` and
/// `application/json` (no embedded format named), an error for anything else.
pub fn parse_media_type(text: &str) -> Result<Option<Format>, RestError> {
    let essence = text
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/vnd.kafka.v2+json" || essence == "application/json" {
        return Ok(None);
    }
    essence
        .strip_prefix("application/vnd.kafka.")
        .and_then(|rest| rest.strip_suffix(".v2+json"))
        .and_then(Format::from_name)
        .map(Some)
        .ok_or_else(|| RestError::unsupported_media_type(text))
}

/// One side (key or value) of the records of a produce request, with its schema resolved.
pub struct Encoder<'a> {
    format: Format,
    schema: Option<(i32, std::sync::Arc<brook_registry::format::Parsed>)>,
    _registry: Option<&'a RegistryClient>,
}

impl<'a> Encoder<'a> {
    /// An encoder for `format`. For the registry formats, the schema is `schema` (registered
    /// under `subject`) or the one with `schema_id`; `needed` says whether any record has a
    /// non-null value on this side (without a schema that is `missing`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        format: Format,
        registry: Option<&'a RegistryClient>,
        subject: &str,
        schema: Option<&str>,
        schema_id: Option<i32>,
        needed: bool,
        missing: fn() -> RestError,
    ) -> Result<Encoder<'a>, RestError> {
        let Some(schema_type) = format.schema_type() else {
            return Ok(Encoder {
                format,
                schema: None,
                _registry: registry,
            });
        };
        if !needed {
            return Ok(Encoder {
                format,
                schema: None,
                _registry: registry,
            });
        }
        let registry = registry.ok_or_else(|| {
            RestError::new(
                500,
                50001,
                "no schema registry is configured (brook rest --schema-registry-url)",
            )
        })?;
        let resolved = match (schema, schema_id) {
            (Some(text), _) => registry
                .register(subject, schema_type, text)
                .map_err(RestError::registry)?,
            (None, Some(id)) => (id, registry.schema(id).map_err(RestError::registry)?),
            (None, None) => return Err(missing()),
        };
        Ok(Encoder {
            format,
            schema: Some(resolved),
            _registry: Some(registry),
        })
    }

    /// The schema id used, for the registry formats.
    pub fn schema_id(&self) -> Option<i32> {
        self.schema.as_ref().map(|(id, _)| *id)
    }

    /// Bytes for one key or value (None stays None).
    pub fn encode(&self, value: &Value) -> Result<Option<Vec<u8>>, RestError> {
        if value.is_null() {
            return Ok(None);
        }
        match self.format {
            Format::Binary => {
                let text = value
                    .as_str()
                    .ok_or_else(|| RestError::conversion("binary data must be a base64 string"))?;
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map(Some)
                    .map_err(|e| RestError::conversion(format!("not base64: {e}")))
            }
            Format::Json => Ok(Some(value.to_string().into_bytes())),
            Format::Avro | Format::JsonSchema | Format::Protobuf => {
                let (id, parsed) = self
                    .schema
                    .as_ref()
                    .ok_or_else(|| RestError::conversion("no schema for this record"))?;
                let payload = parsed
                    .encode_json(value, None)
                    .map_err(RestError::conversion)?;
                Ok(Some(brook_registry::wire::frame(*id, &payload)))
            }
        }
    }
}

/// Shows stored bytes in `format`: base64, the JSON they hold, or the record decoded with its
/// writer's schema.
pub fn decode(
    format: Format,
    registry: Option<&RegistryClient>,
    bytes: Option<&[u8]>,
) -> Result<Value, RestError> {
    let Some(bytes) = bytes else {
        return Ok(Value::Null);
    };
    match format {
        Format::Binary => Ok(Value::String(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        )),
        Format::Json => serde_json::from_slice(bytes)
            .map_err(|e| RestError::kafka(format!("a record is not JSON: {e}"))),
        Format::Avro | Format::JsonSchema | Format::Protobuf => {
            let registry = registry
                .ok_or_else(|| RestError::new(500, 50001, "no schema registry is configured"))?;
            registry
                .deserialize_plain(bytes)
                .map_err(|e| RestError::kafka(format!("a record cannot be deserialized: {e}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_name_formats() {
        assert_eq!(
            parse_media_type("application/vnd.kafka.avro.v2+json").unwrap(),
            Some(Format::Avro)
        );
        assert_eq!(
            parse_media_type("application/vnd.kafka.jsonschema.v2+json; charset=utf-8").unwrap(),
            Some(Format::JsonSchema)
        );
        assert_eq!(parse_media_type("application/json").unwrap(), None);
        assert_eq!(
            parse_media_type("application/vnd.kafka.v2+json").unwrap(),
            None
        );
        assert_eq!(parse_media_type("text/plain").unwrap_err().error_code, 415);
        assert_eq!(
            parse_media_type("application/vnd.kafka.yaml.v2+json")
                .unwrap_err()
                .status,
            415
        );
    }

    #[test]
    fn binary_and_json_round_trip() {
        let e = Encoder::new(Format::Binary, None, "t-value", None, None, true, || {
            RestError::value_schema_missing()
        })
        .unwrap();
        let bytes = e
            .encode(&Value::String("aGVsbG8=".into()))
            .unwrap()
            .unwrap();
        assert_eq!(bytes, b"hello");
        assert_eq!(
            decode(Format::Binary, None, Some(b"hello")).unwrap(),
            "aGVsbG8="
        );
        assert_eq!(e.encode(&Value::Null).unwrap(), None);
        assert_eq!(
            e.encode(&Value::String("***".into()))
                .unwrap_err()
                .error_code,
            42203
        );
        let j = Encoder::new(Format::Json, None, "t-value", None, None, true, || {
            RestError::value_schema_missing()
        })
        .unwrap();
        let bytes = j
            .encode(&serde_json::json!({"vendor_id": 1}))
            .unwrap()
            .unwrap();
        assert_eq!(
            decode(Format::Json, None, Some(&bytes)).unwrap(),
            serde_json::json!({"vendor_id": 1})
        );
    }
}
