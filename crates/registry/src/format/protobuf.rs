//! Protobuf schemas through `protox` (a protobuf compiler in Rust) and `prost-reflect`.
//!
//! A schema is `.proto` text or, as Confluent's serializers register it, a base64-encoded
//! `FileDescriptorProto`. Imports resolve to the schema's references by import path, then to
//! the built-in `confluent/*` and `google/type/*` files ([`super::protobuf_builtin`]) and the
//! well-known `google/protobuf/*.proto` types. Compatibility follows Confluent's
//! Protobuf rules ([`super::protobuf_diff`]); records are encoded and decoded as dynamic
//! messages, with the message chosen by Confluent's message indexes.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};
use prost_types::FileDescriptorProto;
use protox::file::{File, FileResolver, GoogleFileResolver};

use super::Dependency;
use super::protobuf_diff;
use crate::error::RegistryError;

/// The file name the schema itself compiles under when it is given as text.
const MAIN_FILE: &str = "schema.proto";

/// A compiled Protobuf schema.
#[derive(Debug, Clone)]
pub struct ProtobufSchema {
    file: FileDescriptorProto,
    pool: DescriptorPool,
    from_text: bool,
}

/// Opens the schema, its references by import path, and the well-known types.
struct Files {
    main_name: String,
    main: File,
    dependencies: BTreeMap<String, String>,
    google: GoogleFileResolver,
}

/// Reads `text` as `.proto` source, or else as a base64-encoded `FileDescriptorProto`.
fn open(name: &str, text: &str) -> Result<File, protox::Error> {
    match File::from_source(name, text) {
        Ok(file) => Ok(file),
        Err(source_error) => {
            let decoded = BASE64
                .decode(text.trim())
                .ok()
                .and_then(|bytes| FileDescriptorProto::decode(bytes.as_slice()).ok());
            match decoded {
                Some(mut descriptor) => {
                    descriptor.name = Some(name.to_string());
                    Ok(File::from_file_descriptor_proto(descriptor))
                }
                None => Err(source_error),
            }
        }
    }
}

impl FileResolver for Files {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name == self.main_name {
            return Ok(self.main.clone());
        }
        if let Some(text) = self.dependencies.get(name) {
            return open(name, text);
        }
        if let Some(text) = super::protobuf_builtin::file(name) {
            return open(name, text);
        }
        self.google.open_file(name)
    }
}

impl ProtobufSchema {
    /// Compiles `text`; `dependencies` are the files its imports name.
    pub fn parse(text: &str, dependencies: &[Dependency]) -> Result<ProtobufSchema, RegistryError> {
        let invalid = |e: protox::Error| {
            RegistryError::InvalidSchema(format!("invalid Protobuf schema: {e}"))
        };
        let main = open(MAIN_FILE, text).map_err(invalid)?;
        let from_text = main.source().is_some();
        // A descriptor keeps the name it was compiled under unless that clashes with an import.
        let main_name = MAIN_FILE.to_string();
        let files = Files {
            main_name: main_name.clone(),
            main,
            dependencies: dependencies
                .iter()
                .map(|d| (d.name.clone(), d.schema.clone()))
                .collect(),
            google: GoogleFileResolver::new(),
        };
        let mut compiler = protox::Compiler::with_file_resolver(files);
        compiler.include_imports(true).include_source_info(false);
        compiler.open_file(&main_name).map_err(invalid)?;
        let file = compiler
            .file_descriptor_set()
            .file
            .into_iter()
            .find(|f| f.name() == main_name)
            .ok_or_else(|| {
                RegistryError::InvalidSchema("the Protobuf schema did not compile".into())
            })?;
        Ok(ProtobufSchema {
            file,
            pool: compiler.descriptor_pool(),
            from_text,
        })
    }

    /// The compiled file without its name and derived JSON names: equal for the same schema
    /// written as text or sent as a descriptor (by protoc or by a serializer).
    pub fn canonical(&self) -> String {
        fn clear_json_names(message: &mut prost_types::DescriptorProto) {
            for field in &mut message.field {
                field.json_name = None;
            }
            message.nested_type.iter_mut().for_each(clear_json_names);
        }
        let mut file = self.file.clone();
        file.name = None;
        file.source_code_info = None;
        file.message_type.iter_mut().for_each(clear_json_names);
        BASE64.encode(file.encode_to_vec())
    }

    /// Whether the schema was given as `.proto` text (rather than as a descriptor).
    pub fn from_text(&self) -> bool {
        self.from_text
    }

    /// The schema as `.proto` text, written from its descriptor.
    pub fn text(&self) -> String {
        super::protobuf_text::to_text(&self.file)
    }

    /// The schema as a base64-encoded `FileDescriptorProto` (`?format=serialized`).
    pub fn serialized(&self) -> String {
        let mut file = self.file.clone();
        file.source_code_info = None;
        BASE64.encode(file.encode_to_vec())
    }

    /// Why data written with `writer` cannot be read with this schema, by Confluent's rules;
    /// empty when it can.
    pub fn read_problems(&self, writer: &ProtobufSchema) -> Vec<String> {
        protobuf_diff::incompatibilities(&writer.file, &self.file)
    }

    /// The message Confluent's message indexes point at (`[]` and `[0]`: the first one).
    pub fn message_at(&self, indexes: &[i32]) -> Option<MessageDescriptor> {
        let package = self.file.package();
        let mut path = Vec::new();
        let mut messages = &self.file.message_type;
        let first = [0];
        let indexes = if indexes.is_empty() {
            &first[..]
        } else {
            indexes
        };
        for index in indexes {
            let message = messages.get(usize::try_from(*index).ok()?)?;
            path.push(message.name());
            messages = &message.nested_type;
        }
        let name = if package.is_empty() {
            path.join(".")
        } else {
            format!("{package}.{}", path.join("."))
        };
        self.pool.get_message_by_name(&name)
    }

    /// The message indexes of the message called `name` (full, or relative to the package);
    /// the first message when `name` is `None`.
    pub fn indexes_of(&self, name: Option<&str>) -> Option<Vec<i32>> {
        let Some(name) = name else {
            return (!self.file.message_type.is_empty()).then(|| vec![0]);
        };
        let relative = name
            .strip_prefix(self.file.package())
            .and_then(|r| r.strip_prefix('.'))
            .unwrap_or(name);
        let mut indexes = Vec::new();
        let mut messages = &self.file.message_type;
        for part in relative.split('.') {
            let index = messages.iter().position(|m| m.name() == part)?;
            indexes.push(i32::try_from(index).ok()?);
            messages = &messages[index].nested_type;
        }
        Some(indexes)
    }

    /// Encodes a JSON value (protobuf's JSON mapping) as the message `name` (or the first);
    /// returns the message indexes and the bytes.
    pub fn encode_json(
        &self,
        value: &serde_json::Value,
        name: Option<&str>,
    ) -> Result<(Vec<i32>, Vec<u8>), String> {
        let indexes = self.indexes_of(name).ok_or_else(|| match name {
            Some(n) => format!("the schema has no message {n}"),
            None => "the schema has no message".to_string(),
        })?;
        let descriptor = self
            .message_at(&indexes)
            .ok_or_else(|| "the schema's message is not in its descriptor pool".to_string())?;
        let message = DynamicMessage::deserialize(descriptor, value)
            .map_err(|e| format!("the value does not match the schema: {e}"))?;
        Ok((indexes, message.encode_to_vec()))
    }

    /// Decodes a message written with the message at `indexes` into JSON (protobuf's JSON
    /// mapping: lowerCamelCase names, 64-bit integers as strings, default values left out).
    pub fn decode_json(&self, indexes: &[i32], bytes: &[u8]) -> Result<serde_json::Value, String> {
        self.decode_with(indexes, bytes, &prost_reflect::SerializeOptions::new())
    }

    /// Decodes a message into JSON shaped like the `.proto`: field names as declared, 64-bit
    /// integers as numbers, every field present — what a `serde` type with the message's
    /// field names reads.
    pub fn decode_plain(&self, indexes: &[i32], bytes: &[u8]) -> Result<serde_json::Value, String> {
        let options = prost_reflect::SerializeOptions::new()
            .use_proto_field_name(true)
            .stringify_64_bit_integers(false)
            .skip_default_fields(false);
        self.decode_with(indexes, bytes, &options)
    }

    fn decode_with(
        &self,
        indexes: &[i32],
        bytes: &[u8],
        options: &prost_reflect::SerializeOptions,
    ) -> Result<serde_json::Value, String> {
        let descriptor = self
            .message_at(indexes)
            .ok_or_else(|| format!("the schema has no message at indexes {indexes:?}"))?;
        let message = DynamicMessage::decode(descriptor, bytes)
            .map_err(|e| format!("not a Protobuf message of this schema: {e}"))?;
        message
            .serialize_with_options(serde_json::value::Serializer, options)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RIDE: &str = r#"
        syntax = "proto3";
        package taxi;
        import "google/protobuf/timestamp.proto";
        message Ride {
          int32 vendor_id = 1;
          double fare = 2;
          google.protobuf.Timestamp pickup = 3;
          message Stop { string zone = 1; }
          repeated Stop stops = 4;
        }
        message Summary { int64 rides = 1; }
    "#;

    #[test]
    fn text_and_descriptor_forms_are_the_same_schema() {
        let text = ProtobufSchema::parse(RIDE, &[]).unwrap();
        let descriptor = ProtobufSchema::parse(&text.serialized(), &[]).unwrap();
        assert_eq!(text.canonical(), descriptor.canonical());
    }

    #[test]
    fn descriptors_are_written_back_as_proto_text_that_compiles_to_them() {
        let text = ProtobufSchema::parse(RIDE, &[]).unwrap();
        let descriptor = ProtobufSchema::parse(&text.serialized(), &[]).unwrap();
        assert!(text.from_text() && !descriptor.from_text());
        let written = descriptor.text();
        assert!(written.contains("message Ride {"), "{written}");
        assert!(
            written.contains("import \"google/protobuf/timestamp.proto\";"),
            "{written}"
        );
        assert!(
            written.contains("repeated .taxi.Ride.Stop stops = 4;"),
            "{written}"
        );
        let again = ProtobufSchema::parse(&written, &[]).unwrap();
        assert_eq!(again.canonical(), text.canonical());

        let tricky = r#"
            syntax = "proto2";
            package p;
            enum E { option allow_alias = true; A = 0; B = 0; reserved 5 to 9; reserved "OLD"; }
            message M {
              required string s = 1 [default = "a \"quoted\" value"];
              optional int32 n = 2 [default = -3, deprecated = true];
              repeated int32 packed = 3 [packed = true];
              map<string, M> children = 4;
              oneof choice { bytes raw = 5; E e = 6; }
              reserved 10 to 12, 20;
              reserved "gone";
              extensions 100 to max;
              message Inner { optional double d = 1; }
            }
            service Rides { rpc Stream(stream M) returns (M.Inner); }
        "#;
        let parsed = ProtobufSchema::parse(tricky, &[]).unwrap();
        let again = ProtobufSchema::parse(&parsed.text(), &[]).unwrap();
        assert_eq!(again.canonical(), parsed.canonical(), "{}", parsed.text());
    }

    #[test]
    fn invalid_schemas_name_the_problem() {
        let err = ProtobufSchema::parse("syntax = \"proto3\"; message A { strin x = 1; }", &[])
            .unwrap_err();
        assert!(err.to_string().contains("strin"), "{err}");
        let err = ProtobufSchema::parse("syntax = \"proto3\"; import \"missing.proto\";", &[])
            .unwrap_err();
        assert!(err.to_string().contains("missing.proto"), "{err}");
        assert!(ProtobufSchema::parse("bm90IGEgZGVzY3JpcHRvcg==", &[]).is_err());
    }

    #[test]
    fn imports_resolve_to_references() {
        let zone = Dependency {
            name: "zone.proto".into(),
            schema: "syntax = \"proto3\"; package geo; message Zone { string name = 1; }".into(),
        };
        let text =
            "syntax = \"proto3\"; import \"zone.proto\"; message Ride { geo.Zone pickup = 1; }";
        assert!(ProtobufSchema::parse(text, &[]).is_err());
        ProtobufSchema::parse(text, &[zone]).unwrap();
    }

    #[test]
    fn messages_round_trip_by_message_index() {
        let schema = ProtobufSchema::parse(RIDE, &[]).unwrap();
        assert_eq!(schema.indexes_of(None), Some(vec![0]));
        assert_eq!(schema.indexes_of(Some("taxi.Summary")), Some(vec![1]));
        assert_eq!(schema.indexes_of(Some("Ride.Stop")), Some(vec![0, 0]));
        let value = serde_json::json!({"vendorId": 2, "fare": 12.5, "stops": [{"zone": "JFK"}]});
        let (indexes, bytes) = schema.encode_json(&value, None).unwrap();
        assert_eq!(indexes, vec![0]);
        // Field 1, varint 2.
        assert_eq!(&bytes[..2], &[0x08, 0x02]);
        assert_eq!(schema.decode_json(&indexes, &bytes).unwrap(), value);
        assert!(
            schema
                .encode_json(&serde_json::json!({"nope": 1}), None)
                .is_err()
        );
        assert!(schema.decode_json(&[7], &bytes).is_err());
    }
}
