//! Avro schemas through the `apache-avro` crate: parsing (named types from references
//! resolve), the Parsing Canonical Form, and schema resolution for compatibility.

use apache_avro::Schema;
use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};

use crate::error::RegistryError;

/// A parsed Avro schema with the referenced schemas it needs.
#[derive(Debug, Clone)]
pub struct AvroSchema {
    schema: Schema,
    references: Vec<Schema>,
}

impl AvroSchema {
    /// Parses `text`; `references` are the texts of named schemas it may use.
    pub fn parse(text: &str, references: &[String]) -> Result<AvroSchema, RegistryError> {
        let invalid = |e: apache_avro::Error| RegistryError::InvalidSchema(e.to_string());
        if references.is_empty() {
            let schema = Schema::parse_str(text).map_err(invalid)?;
            return Ok(AvroSchema {
                schema,
                references: Vec::new(),
            });
        }
        let (schema, references) =
            Schema::parse_str_with_list(text, references).map_err(invalid)?;
        Ok(AvroSchema { schema, references })
    }

    /// The Parsing Canonical Form (names resolved, defaults and docs dropped).
    pub fn canonical(&self) -> String {
        if self.references.is_empty() {
            self.schema.canonical_form()
        } else {
            self.schema
                .independent_canonical_form(&self.references)
                .unwrap_or_else(|_| self.schema.canonical_form())
        }
    }

    /// Why data written with `writer` cannot be read with this schema; empty when it can.
    /// A partial match (an enum symbol or union branch the reader lacks) counts as a problem,
    /// as in Avro's Java `SchemaCompatibility`.
    pub fn read_problems(&self, writer: &AvroSchema) -> Vec<String> {
        match SchemaCompatibility::can_read(&writer.schema, &self.schema) {
            Ok(Compatibility::Full) => Vec::new(),
            Ok(Compatibility::Partial) => vec![
                "the reader lacks an enum symbol or union branch the writer may use".to_string(),
            ],
            Err(e) => vec![e.to_string()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> AvroSchema {
        AvroSchema::parse(text, &[]).unwrap()
    }

    #[test]
    fn adding_a_field_with_a_default_is_backward_compatible_and_without_is_not() {
        let v1 = parse(r#"{"type":"record","name":"Ride","fields":[{"name":"id","type":"long"}]}"#);
        let with_default = parse(
            r#"{"type":"record","name":"Ride","fields":[{"name":"id","type":"long"},
                {"name":"tip","type":"double","default":0.0}]}"#,
        );
        let without = parse(
            r#"{"type":"record","name":"Ride","fields":[{"name":"id","type":"long"},
                {"name":"tip","type":"double"}]}"#,
        );
        assert!(with_default.read_problems(&v1).is_empty());
        assert!(!without.read_problems(&v1).is_empty());
        // Old readers ignore the new field: forward compatible either way.
        assert!(v1.read_problems(&without).is_empty());
    }

    #[test]
    fn canonical_form_ignores_docs_and_whitespace() {
        let a =
            parse(r#"{"type":"record","name":"R","doc":"x","fields":[{"name":"a","type":"int"}]}"#);
        let b = parse(
            r#"{ "type" : "record", "name" : "R", "fields" : [ {"name":"a","type":"int"} ] }"#,
        );
        assert_eq!(a.canonical(), b.canonical());
    }

    #[test]
    fn invalid_schemas_name_the_problem() {
        let err = AvroSchema::parse(r#"{"type":"record","name":"R"}"#, &[]).unwrap_err();
        assert!(matches!(err, RegistryError::InvalidSchema(_)), "{err}");
        assert!(AvroSchema::parse("not json", &[]).is_err());
    }

    #[test]
    fn references_resolve_named_types() {
        let address =
            r#"{"type":"record","name":"Address","fields":[{"name":"city","type":"string"}]}"#;
        let person =
            r#"{"type":"record","name":"Person","fields":[{"name":"home","type":"Address"}]}"#;
        assert!(AvroSchema::parse(person, &[]).is_err());
        let parsed = AvroSchema::parse(person, &[address.to_string()]).unwrap();
        assert!(parsed.canonical().contains("Address"));
    }
}
