//! Confluent's schema-registry converters — `AvroConverter`, `JsonSchemaConverter`,
//! `ProtobufConverter` — on one frame: records in Confluent's wire format (magic byte, schema
//! id, payload), schemas in a registry (`schema.registry.url`) under `<topic>-key` /
//! `<topic>-value` (TopicNameStrategy), registered when new (`auto.register.schemas`, default
//! true; false uses the subject's latest). Each format says how a Connect schema becomes a
//! registry schema and back, and how a value is written and read ([`avro`],
//! [`json_schema`], [`protobuf`]).
//!
//! [`avro`]: super::avro
//! [`json_schema`]: super::json_schema
//! [`protobuf`]: super::protobuf

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use brook_registry::client::RegistryClient;
use brook_registry::format::{Parsed, SchemaType};

use super::{ConvertError, Converter};
use crate::data::{Config, Schema, Value};

/// One registry format.
pub trait Format: Send + Sync + 'static {
    /// The registry's schema type.
    const TYPE: SchemaType;
    /// The converter's name, for messages.
    const NAME: &'static str;
    /// The registry schema (text) of a Connect schema.
    fn schema_text(schema: &Schema) -> Result<String, ConvertError>;
    /// The payload (after the schema id) of a value.
    fn encode(parsed: &Parsed, schema: &Schema, value: &Value) -> Result<Vec<u8>, ConvertError>;
    /// What reading a writer's schema takes, prepared once per schema id (the Connect schema
    /// derived from it, so records do not derive it again).
    type Reader: Send + Sync;
    /// The reader of a registry schema.
    fn reader(parsed: Arc<Parsed>) -> Result<Self::Reader, ConvertError>;
    /// A payload's Connect schema and value.
    fn decode(reader: &Self::Reader, payload: &[u8]) -> Result<(Schema, Value), ConvertError>;
}

/// A registry converter for one side (keys or values).
pub struct RegistryConverter<F: Format> {
    client: Arc<RegistryClient>,
    is_key: bool,
    auto_register: bool,
    /// The last schema written: its Connect form, id and registry form.
    last: Mutex<Option<(Schema, i32, Arc<Parsed>)>>,
    /// Readers of the schemas read, by id.
    read: Mutex<HashMap<i32, Arc<F::Reader>>>,
    format: std::marker::PhantomData<F>,
}

impl<F: Format> RegistryConverter<F> {
    /// Configured by the converter's settings; `schema.registry.url` is required.
    pub fn new(settings: &Config, is_key: bool) -> Result<Self, ConvertError> {
        let url = settings
            .get("schema.registry.url")
            .map(|u| u.split(',').next().unwrap_or_default().trim())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                ConvertError("Missing required configuration \"schema.registry.url\" which has no default value.".to_string())
            })?;
        Ok(RegistryConverter {
            client: Arc::new(RegistryClient::new(url)),
            is_key,
            auto_register: settings
                .get("auto.register.schemas")
                .is_none_or(|v| v.trim() != "false"),
            last: Mutex::new(None),
            read: Mutex::new(HashMap::new()),
            format: std::marker::PhantomData,
        })
    }

    fn subject(&self, topic: &str) -> String {
        format!("{topic}-{}", if self.is_key { "key" } else { "value" })
    }

    /// The id and registry form of `schema` under the topic's subject.
    fn writer(&self, topic: &str, schema: &Schema) -> Result<(i32, Arc<Parsed>), ConvertError> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((s, id, parsed)) = last.as_ref() {
            if s == schema {
                return Ok((*id, parsed.clone()));
            }
        }
        let subject = self.subject(topic);
        let fail = |e: brook_registry::client::ClientError| {
            ConvertError(format!(
                "cannot register the {} schema under {subject}: {e}",
                F::NAME
            ))
        };
        let (id, parsed) = if self.auto_register {
            let text = F::schema_text(schema)?;
            self.client
                .register(&subject, F::TYPE, &text)
                .map_err(fail)?
        } else {
            self.client.latest(&subject).map_err(fail)?
        };
        *last = Some((schema.clone(), id, parsed.clone()));
        Ok((id, parsed))
    }
}

impl<F: Format> Converter for RegistryConverter<F> {
    fn encode(
        &self,
        topic: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, ConvertError> {
        if *value == Value::Null && schema.is_none_or(|s| s.optional) {
            return Ok(None);
        }
        let schema = schema.ok_or_else(|| {
            ConvertError(format!("the {} needs a schema with the value", F::NAME))
        })?;
        let (id, parsed) = self.writer(topic, schema)?;
        let payload = F::encode(&parsed, schema, value)?;
        Ok(Some(brook_registry::wire::frame(id, &payload)))
    }

    fn decode(
        &self,
        _topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<Schema>, Value), ConvertError> {
        let Some(bytes) = bytes else {
            return Ok((None, Value::Null));
        };
        let (id, payload) = brook_registry::wire::unframe(bytes).map_err(|e| {
            ConvertError(format!(
                "Failed to deserialize data for the {}: not Confluent's wire format ({e})",
                F::NAME
            ))
        })?;
        let reader = {
            let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
            match read.get(&id) {
                Some(r) => r.clone(),
                None => {
                    let parsed = self.client.schema(id).map_err(|e| {
                        ConvertError(format!("cannot fetch the schema with id {id}: {e}"))
                    })?;
                    if parsed.schema_type() != F::TYPE {
                        return Err(ConvertError(format!(
                            "the schema with id {id} is a {} schema, not what the {} reads",
                            parsed.schema_type().name(),
                            F::NAME
                        )));
                    }
                    let reader = Arc::new(F::reader(parsed)?);
                    read.insert(id, reader.clone());
                    reader
                }
            }
        };
        let (schema, value) = F::decode(&reader, payload)?;
        Ok((Some(schema), value))
    }
}
