//! A small blocking client for any Confluent-compatible schema registry, and serialization
//! of Avro, JSON Schema and Protobuf records in Confluent's wire format on top of it — what
//! `brook produce/consume` and the rides example use.
//!
//! ```no_run
//! use brook_registry::client::RegistryClient;
//! use brook_registry::format::SchemaType;
//! let client = RegistryClient::new("http://localhost:8081");
//! let schema = r#"{"type":"record","name":"Ride","fields":[{"name":"id","type":"long"}]}"#;
//! let value = serde_json::json!({"id": 1});
//! let bytes = client.serialize("rides-value", SchemaType::Avro, schema, None, &value)?;
//! assert_eq!(client.deserialize(&bytes)?, serde_json::json!({"id": 1}));
//! # Ok::<(), brook_registry::client::ClientError>(())
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::format::{Dependency, Parsed, SchemaType};
use crate::state::Reference;
use crate::wire;

/// Why a registry call or a (de)serialization failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer.
    #[error("cannot reach the schema registry at {url}: {reason}")]
    Unreachable {
        /// Registry URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The registry answered with an error.
    #[error("the schema registry refused: {message} (error code {code})")]
    Refused {
        /// Confluent error code.
        code: i64,
        /// Its message.
        message: String,
    },
    /// The schema or value is not usable.
    #[error("{0}")]
    Invalid(String),
    /// The bytes are not in Confluent's wire format.
    #[error(transparent)]
    Wire(#[from] wire::WireError),
}

/// Percent-encodes a path segment (subjects may hold `:`, `/`, spaces …).
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// (subject, schema text) → (id, parsed schema).
type Registered = HashMap<(String, String), (i32, Arc<Parsed>)>;

/// A blocking registry client with a cache of schemas by id and ids by (subject, schema).
/// `Sync`.
pub struct RegistryClient {
    agent: ureq::Agent,
    url: String,
    by_id: Mutex<HashMap<i32, Arc<Parsed>>>,
    ids: Mutex<Registered>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("url", &self.url)
            .finish()
    }
}

impl RegistryClient {
    /// A client for the registry at `url` (e.g. `http://localhost:8081`).
    pub fn new(url: &str) -> RegistryClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        RegistryClient {
            agent,
            url: url.trim_end_matches('/').to_string(),
            by_id: Mutex::default(),
            ids: Mutex::default(),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.url);
        let unreachable = |e: ureq::Error| ClientError::Unreachable {
            url: self.url.clone(),
            reason: e.to_string(),
        };
        let mut response = match (method, body) {
            ("POST", Some(body)) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .send(body.to_string())
                .map_err(unreachable)?,
            _ => self.agent.get(&url).call().map_err(unreachable)?,
        };
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| ClientError::Invalid(format!("unreadable answer from {url}: {e}")))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|_| ClientError::Invalid(format!("{url} answered with non-JSON: {text}")))?;
        if status >= 300 {
            return Err(ClientError::Refused {
                code: value["error_code"].as_i64().unwrap_or(i64::from(status)),
                message: value["message"].as_str().unwrap_or(&text).to_string(),
            });
        }
        Ok(value)
    }

    fn parse(
        &self,
        schema_type: SchemaType,
        text: &str,
        refs: &[Reference],
    ) -> Result<Parsed, ClientError> {
        let mut dependencies = Vec::new();
        self.dependencies(refs, &mut Vec::new(), &mut dependencies)?;
        Parsed::parse(schema_type, text, &dependencies)
            .map_err(|e| ClientError::Invalid(e.to_string()))
    }

    /// Fetches the schemas `refs` name and the ones they refer to in turn.
    fn dependencies(
        &self,
        refs: &[Reference],
        seen: &mut Vec<(String, i32)>,
        out: &mut Vec<Dependency>,
    ) -> Result<(), ClientError> {
        for r in refs {
            if seen.contains(&(r.subject.clone(), r.version)) {
                continue;
            }
            seen.push((r.subject.clone(), r.version));
            let v = self.call(
                "GET",
                &format!("/subjects/{}/versions/{}", segment(&r.subject), r.version),
                None,
            )?;
            let nested: Vec<Reference> =
                serde_json::from_value(v["references"].clone()).unwrap_or_default();
            self.dependencies(&nested, seen, out)?;
            out.push(Dependency {
                name: r.name.clone(),
                schema: v["schema"].as_str().unwrap_or_default().to_string(),
            });
        }
        Ok(())
    }

    /// Registers a schema under `subject` (or finds it); returns its id.
    pub fn register(
        &self,
        subject: &str,
        schema_type: SchemaType,
        schema: &str,
    ) -> Result<(i32, Arc<Parsed>), ClientError> {
        let key = (subject.to_string(), schema.to_string());
        if let Some(found) = self.ids.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(found.clone());
        }
        let parsed = Arc::new(self.parse(schema_type, schema, &[])?);
        let answer = self.call(
            "POST",
            &format!("/subjects/{}/versions", segment(subject)),
            Some(&json!({ "schema": schema, "schemaType": schema_type.name() })),
        )?;
        let id = answer["id"]
            .as_i64()
            .ok_or_else(|| ClientError::Invalid(format!("no id in {answer}")))?
            as i32;
        self.ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (id, parsed.clone()));
        Ok((id, parsed))
    }

    /// The id and schema of the latest version of `subject`.
    pub fn latest(&self, subject: &str) -> Result<(i32, Arc<Parsed>), ClientError> {
        let answer = self.call(
            "GET",
            &format!("/subjects/{}/versions/latest", segment(subject)),
            None,
        )?;
        let id = answer["id"]
            .as_i64()
            .ok_or_else(|| ClientError::Invalid(format!("no id in {answer}")))?;
        let id = i32::try_from(id).map_err(|_| ClientError::Invalid(format!("bad id {id}")))?;
        Ok((id, self.schema(id)?))
    }

    /// The schema with `id` (cached).
    pub fn schema(&self, id: i32) -> Result<Arc<Parsed>, ClientError> {
        if let Some(found) = self
            .by_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
        {
            return Ok(found.clone());
        }
        let answer = self.call("GET", &format!("/schemas/ids/{id}"), None)?;
        let schema_type = match answer["schemaType"].as_str() {
            None | Some("AVRO") => SchemaType::Avro,
            Some("JSON") => SchemaType::Json,
            Some(_) => SchemaType::Protobuf,
        };
        let refs: Vec<Reference> =
            serde_json::from_value(answer["references"].clone()).unwrap_or_default();
        let parsed = Arc::new(self.parse(
            schema_type,
            answer["schema"].as_str().unwrap_or_default(),
            &refs,
        )?);
        self.by_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, parsed.clone());
        Ok(parsed)
    }

    /// Serializes a JSON value with a schema registered under `subject`, framed in
    /// Confluent's wire format. A JSON Schema value is validated first; a Protobuf value is
    /// encoded as `message` (the schema's first message when `None`).
    pub fn serialize(
        &self,
        subject: &str,
        schema_type: SchemaType,
        schema: &str,
        message: Option<&str>,
        value: &Value,
    ) -> Result<Vec<u8>, ClientError> {
        let (id, parsed) = self.register(subject, schema_type, schema)?;
        let payload = parsed
            .encode_json(value, message)
            .map_err(ClientError::Invalid)?;
        Ok(wire::frame(id, &payload))
    }

    /// Deserializes a Confluent-framed record into JSON with the writer's schema, whatever
    /// its format.
    pub fn deserialize(&self, bytes: &[u8]) -> Result<Value, ClientError> {
        let (id, payload) = wire::unframe(bytes)?;
        let parsed = self.schema(id)?;
        parsed.decode_json(payload).map_err(ClientError::Invalid)
    }

    /// Like [`RegistryClient::deserialize`], with Protobuf messages shaped like their `.proto`
    /// (field names as declared, 64-bit integers as numbers, defaults present) for `serde`.
    pub fn deserialize_plain(&self, bytes: &[u8]) -> Result<Value, ClientError> {
        let (id, payload) = wire::unframe(bytes)?;
        let parsed = self.schema(id)?;
        parsed.decode_plain(payload).map_err(ClientError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn subjects_are_percent_encoded_in_paths() {
        assert_eq!(super::segment("rides-value"), "rides-value");
        assert_eq!(super::segment(":.ctx:a b/c"), "%3A.ctx%3Aa%20b%2Fc");
    }
}
