//! JSON Schema through the `jsonschema` crate: a schema is checked against its meta-schema
//! (draft from `$schema`, 2020-12 when absent) and compiled with its references resolved by
//! name, so an invalid schema or a dangling `$ref` is refused at registration. Compatibility
//! follows Confluent's difference rules ([`super::json_diff`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::Dependency;
use super::json_diff;
use crate::error::RegistryError;

/// A parsed JSON Schema with the referenced schemas it needs.
#[derive(Clone)]
pub struct JsonSchema {
    root: Value,
    dependencies: Arc<BTreeMap<String, Value>>,
    validator: Arc<jsonschema::Validator>,
}

impl std::fmt::Debug for JsonSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonSchema")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// The referenced schema a `$ref` location (or a URI it resolved to) names: by the name its
/// reference was registered with, exactly or as the end of the location (a relative `$ref`
/// resolves against a base URI), or by its `$id`. Validation and the compatibility check
/// resolve references through this one function, so they agree.
pub(super) fn find_dependency<'a>(
    dependencies: &'a BTreeMap<String, Value>,
    location: &str,
) -> Option<&'a Value> {
    let location = location.split('#').next().unwrap_or(location);
    dependencies.get(location).or_else(|| {
        let relative = location.trim_start_matches("./");
        dependencies.iter().find_map(|(name, value)| {
            let name = name.trim_start_matches("./");
            (relative == name
                || location.ends_with(&format!("/{name}"))
                || value.get("$id").and_then(Value::as_str) == Some(location))
            .then_some(value)
        })
    })
}

/// Retrieves `$ref`s for the validator from the referenced schemas.
struct ByName(Arc<BTreeMap<String, Value>>);

impl jsonschema::Retrieve for ByName {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        find_dependency(&self.0, uri.as_str())
            .cloned()
            .ok_or_else(|| format!("no referenced schema is named {uri}").into())
    }
}

fn parse_json(text: &str, what: &str) -> Result<Value, RegistryError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| RegistryError::InvalidSchema(format!("{what} is not valid JSON: {e}")))?;
    if !value.is_object() && !value.is_boolean() {
        return Err(RegistryError::InvalidSchema(format!(
            "{what} must be a JSON object or a boolean"
        )));
    }
    jsonschema::meta::validate(&value).map_err(|e| {
        let at = e.instance_path().to_string();
        let at = if at.is_empty() { "/".into() } else { at };
        RegistryError::InvalidSchema(format!("{what} is not a valid JSON Schema at {at}: {e}"))
    })?;
    Ok(value)
}

impl JsonSchema {
    /// Parses `text`; `dependencies` are the schemas its `$ref`s may name.
    pub fn parse(text: &str, dependencies: &[Dependency]) -> Result<JsonSchema, RegistryError> {
        let root = parse_json(text, "the schema")?;
        let mut named = BTreeMap::new();
        for d in dependencies {
            named.insert(
                d.name.clone(),
                parse_json(&d.schema, &format!("referenced schema {}", d.name))?,
            );
        }
        let dependencies = Arc::new(named);
        let validator = jsonschema::options()
            .with_retriever(ByName(dependencies.clone()))
            .build(&root)
            .map_err(|e| RegistryError::InvalidSchema(format!("invalid JSON Schema: {e}")))?;
        Ok(JsonSchema {
            root,
            dependencies,
            validator: Arc::new(validator),
        })
    }

    /// The schema as compact JSON with keys in order: equal for equal schemas.
    pub fn canonical(&self) -> String {
        self.root.to_string()
    }

    /// The schema document.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// Checks an instance against the schema; the error names the first violation.
    pub fn validate(&self, instance: &Value) -> Result<(), String> {
        self.validator.validate(instance).map_err(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                format!("the value does not match the schema: {e}")
            } else {
                format!("the value does not match the schema at {at}: {e}")
            }
        })
    }

    /// Why data valid under `writer` may be invalid under this schema, by Confluent's rules;
    /// empty when it is not.
    pub fn read_problems(&self, writer: &JsonSchema) -> Vec<String> {
        json_diff::incompatibilities(
            json_diff::Document::new(&writer.root, &writer.dependencies),
            json_diff::Document::new(&self.root, &self.dependencies),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> JsonSchema {
        JsonSchema::parse(text, &[]).unwrap()
    }

    #[test]
    fn invalid_schemas_name_the_problem() {
        for bad in [
            r#"{"type":"strin"}"#,
            r#"{"properties":{"a":{"minLength":-1}}}"#,
            r#"{"required":"a"}"#,
            "[1,2]",
            "{nope",
            r##"{"$ref":"#/definitions/missing"}"##,
            r#"{"$ref":"other.json"}"#,
        ] {
            let err = JsonSchema::parse(bad, &[]).unwrap_err();
            assert!(
                matches!(err, RegistryError::InvalidSchema(_)),
                "{bad}: {err}"
            );
        }
        let err = JsonSchema::parse(r#"{"type":"strin"}"#, &[]).unwrap_err();
        assert!(err.to_string().contains("/type"), "{err}");
    }

    #[test]
    fn references_resolve_by_name_and_validate_instances() {
        let address = Dependency {
            name: "address.json".into(),
            schema:
                r#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#
                    .into(),
        };
        let person = r#"{"type":"object","properties":{"home":{"$ref":"address.json"}}}"#;
        let parsed = JsonSchema::parse(person, &[address]).unwrap();
        assert!(
            parsed
                .validate(&serde_json::json!({"home":{"city":"NYC"}}))
                .is_ok()
        );
        let err = parsed
            .validate(&serde_json::json!({"home":{"city":7}}))
            .unwrap_err();
        assert!(err.contains("/home/city"), "{err}");
    }

    #[test]
    fn canonical_form_ignores_whitespace_and_key_order() {
        let a = parse(r#"{"type":"object","properties":{"a":{"type":"integer"}}}"#);
        let b = parse(r#"{ "properties" : { "a" : { "type" : "integer" } }, "type" : "object" }"#);
        assert_eq!(a.canonical(), b.canonical());
    }
}
