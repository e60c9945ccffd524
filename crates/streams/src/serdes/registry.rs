//! Avro, JSON Schema and Protobuf values through a Confluent-compatible schema registry, in
//! Confluent's wire format (magic byte, 4-byte schema id, payload), so that records written by
//! Confluent's serializers are read here and the other way round.
//!
//! A value goes through JSON on its way: `T` ↔ `serde_json::Value` ↔ the schema's encoding
//! (`brook_registry::client`). Subjects follow Confluent's `TopicNameStrategy`:
//! `<topic>-value`, or `<topic>-key` for a key serde ([`RegistrySerde::for_keys`]).
//! Serializing registers the serde's schema under the subject (cached after the first
//! record), or, made with [`RegistrySerde::latest`], uses the subject's latest version
//! (`use.latest.version`). Deserializing reads the writer's schema by the record's id
//! (cached), whatever serde wrote it.
//!
//! Concurrency: `Send + Sync`; registry calls block, once per schema.

use std::marker::PhantomData;
use std::sync::Arc;

use brook_registry::client::RegistryClient;
use brook_registry::format::SchemaType;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Serde, SerdeError};

/// Which schema serializing uses.
#[derive(Debug, Clone)]
enum Writer {
    /// This schema, registered under the subject.
    Schema(String),
    /// The subject's latest version.
    Latest,
}

/// `T` as Avro, JSON Schema or Protobuf through a schema registry (Confluent's
/// `KafkaAvroSerde`, `KafkaJsonSchemaSerde`, `KafkaProtobufSerde`).
pub struct RegistrySerde<T> {
    client: Arc<RegistryClient>,
    schema_type: SchemaType,
    writer: Writer,
    message: Option<String>,
    is_key: bool,
    types: PhantomData<fn() -> T>,
}

impl<T> RegistrySerde<T> {
    /// Values written with `schema` of `schema_type` (a Protobuf `message` picks the message
    /// type; the schema's first one otherwise).
    pub fn new(
        client: Arc<RegistryClient>,
        schema_type: SchemaType,
        schema: &str,
        message: Option<&str>,
    ) -> Self {
        RegistrySerde {
            client,
            schema_type,
            writer: Writer::Schema(schema.to_string()),
            message: message.map(str::to_string),
            is_key: false,
            types: PhantomData,
        }
    }

    /// Values written with the latest schema of their subject (which must exist).
    pub fn latest(client: Arc<RegistryClient>, schema_type: SchemaType) -> Self {
        RegistrySerde {
            client,
            schema_type,
            writer: Writer::Latest,
            message: None,
            is_key: false,
            types: PhantomData,
        }
    }

    /// For keys: subjects `<topic>-key`.
    pub fn for_keys(mut self) -> Self {
        self.is_key = true;
        self
    }

    fn name(&self) -> &'static str {
        match self.schema_type {
            SchemaType::Avro => "avro",
            SchemaType::Json => "json-schema",
            SchemaType::Protobuf => "protobuf",
        }
    }

    fn subject(&self, topic: &str) -> String {
        format!("{topic}-{}", if self.is_key { "key" } else { "value" })
    }
}

impl<T: Serialize + DeserializeOwned> Serde<T> for RegistrySerde<T> {
    fn serialize(&self, topic: &str, value: &T) -> Result<Vec<u8>, SerdeError> {
        let error =
            |e: &dyn std::fmt::Display| SerdeError::serialize(topic, self.name(), e.to_string());
        let json = serde_json::to_value(value).map_err(|e| error(&e))?;
        let subject = self.subject(topic);
        match &self.writer {
            Writer::Schema(schema) => self
                .client
                .serialize(
                    &subject,
                    self.schema_type,
                    schema,
                    self.message.as_deref(),
                    &json,
                )
                .map_err(|e| error(&e)),
            Writer::Latest => {
                let (id, parsed) = self.client.latest(&subject).map_err(|e| error(&e))?;
                let payload = parsed
                    .encode_json(&json, self.message.as_deref())
                    .map_err(|e| error(&e))?;
                Ok(brook_registry::wire::frame(id, &payload))
            }
        }
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> Result<T, SerdeError> {
        let error =
            |e: &dyn std::fmt::Display| SerdeError::deserialize(topic, self.name(), e.to_string());
        let json = self
            .client
            .deserialize_plain(bytes)
            .map_err(|e| error(&e))?;
        serde_json::from_value(json).map_err(|e| error(&e))
    }
}
