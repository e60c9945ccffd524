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

    /// The parsed schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
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

    /// Encodes a JSON value (a record as an object) as an Avro datum of this schema.
    pub fn encode_json(&self, value: &serde_json::Value) -> Result<Vec<u8>, String> {
        let avro = apache_avro::types::Value::try_from(value.clone()).map_err(|e| e.to_string())?;
        let refs: Vec<&Schema> = self.references.iter().collect();
        let resolved = avro
            .resolve_schemata(&self.schema, refs.clone())
            .map_err(|e| format!("the value does not match the schema: {e}"))?;
        apache_avro::writer::datum::GenericDatumWriter::builder(&self.schema)
            .schemata(refs)
            .map_err(|e| e.to_string())?
            .build()
            .map_err(|e| e.to_string())?
            .write_value_to_vec(resolved)
            .map_err(|e| e.to_string())
    }

    /// Decodes an Avro datum written with this schema into JSON.
    pub fn decode_json(&self, mut bytes: &[u8]) -> Result<serde_json::Value, String> {
        let refs: Vec<&Schema> = self.references.iter().collect();
        let value = apache_avro::reader::datum::GenericDatumReader::builder(&self.schema)
            .writer_schemata(refs)
            .map_err(|e| e.to_string())?
            .build()
            .map_err(|e| e.to_string())?
            .read_value(&mut bytes)
            .map_err(|e| format!("not an Avro datum of this schema: {e}"))?;
        serde_json::Value::try_from(value).map_err(|e| e.to_string())
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
    fn json_values_round_trip_through_avro_datums() {
        let schema = parse(
            r#"{"type":"record","name":"Ride","fields":[{"name":"id","type":"long"},
                {"name":"note","type":["null","string"],"default":null},
                {"name":"tip","type":"double"}]}"#,
        );
        let value = serde_json::json!({"id": 7, "note": "late", "tip": 1.5});
        let bytes = schema.encode_json(&value).unwrap();
        // long 7 (zig-zag 14), union branch 1 (zig-zag 2), "late", double 1.5.
        assert_eq!(&bytes[..3], &[14, 2, 8]);
        assert_eq!(schema.decode_json(&bytes).unwrap(), value);
        assert!(schema.encode_json(&serde_json::json!({"id": "x"})).is_err());
        assert!(schema.decode_json(&[0xff]).is_err());
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
