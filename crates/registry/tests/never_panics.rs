//! Bad input never panics: arbitrary schema texts (random, and shaped by Avro's, JSON Schema's
//! and Protobuf's vocabularies), compatibility checks between them, arbitrary `_schemas`
//! records, and arbitrary bytes given to the wire-format readers and the decoders all come
//! back as values or errors.

use brook_registry::format::{Dependency, Parsed, SchemaType};
use brook_registry::state::State;
use brook_registry::wire;
use proptest::prelude::*;

/// JSON-ish schema texts built from Avro's vocabulary, so parsing gets past the JSON layer.
fn schema_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(r#""int""#.to_string()),
        Just(r#""string""#.to_string()),
        Just(r#""nope""#.to_string()),
        Just("null".to_string()),
        Just("42".to_string()),
        "[a-z]{0,5}".prop_map(|s| format!("\"{s}\"")),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            (inner.clone(), "[a-zA-Z_]{0,4}").prop_map(|(t, n)| format!(
                r#"{{"type":"record","name":"{n}","fields":[{{"name":"f","type":{t}}}]}}"#
            )),
            inner
                .clone()
                .prop_map(|t| format!(r#"{{"type":"array","items":{t}}}"#)),
            inner
                .clone()
                .prop_map(|t| format!(r#"{{"type":"map","values":{t}}}"#)),
            prop::collection::vec("[A-Z]{0,3}", 0..4).prop_map(|s| format!(
                r#"{{"type":"enum","name":"E","symbols":[{}]}}"#,
                s.iter()
                    .map(|x| format!("\"{x}\""))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
            (0i64..40).prop_map(|n| format!(r#"{{"type":"fixed","name":"F","size":{n}}}"#)),
        ]
    })
}

/// JSON Schema documents from the keywords the compatibility rules look at.
fn json_schema_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("true".to_string()),
        Just("false".to_string()),
        Just("{}".to_string()),
        prop_oneof![
            "string", "integer", "number", "boolean", "null", "object", "array", "nope"
        ]
        .prop_map(|t| format!(r#"{{"type":"{t}"}}"#)),
        (
            prop_oneof![
                "maxLength",
                "minimum",
                "multipleOf",
                "maxItems",
                "minProperties"
            ],
            -3i64..20
        )
            .prop_map(|(k, n)| format!(r#"{{"{k}":{n}}}"#)),
        Just(r##"{"$ref":"#"}"##.to_string()),
        Just(r##"{"$ref":"#/$defs/x"}"##.to_string()),
        Just(r#"{"$ref":"dep.json"}"#.to_string()),
        Just(r#"{"enum":[1,"a",null]}"#.to_string()),
        Just(r#"{"const":3}"#.to_string()),
        Just(r#"{"pattern":"[a-"}"#.to_string()),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone(), prop::bool::ANY).prop_map(|(a, b, closed)| format!(
                r#"{{"type":"object","properties":{{"a":{a},"b":{b}}},"required":["a"],"additionalProperties":{}}}"#,
                if closed { "false".to_string() } else { b.clone() }
            )),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!(
                r#"{{"patternProperties":{{"^x":{a}}},"dependentSchemas":{{"a":{b}}}}}"#
            )),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!(
                r#"{{"type":"array","prefixItems":[{a}],"items":{b}}}"#
            )),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!(r#"{{"items":[{a}],"additionalItems":{b}}}"#)),
            (prop_oneof!["allOf", "anyOf", "oneOf"], prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(k, v)| format!(r#"{{"{k}":[{}]}}"#, v.join(","))),
            inner.clone().prop_map(|t| format!(r#"{{"not":{t}}}"#)),
            inner.clone().prop_map(|t| format!(r##"{{"$defs":{{"x":{t}}},"$ref":"#/$defs/x"}}"##)),
        ]
    })
}

/// `.proto` texts from messages, scalars, labels, oneofs and maps (mostly valid, some not).
fn proto_text() -> impl Strategy<Value = String> {
    use prop::sample::select;
    let kind = select(vec![
        "int32",
        "int64",
        "sint32",
        "string",
        "bytes",
        "double",
        "fixed32",
        "bool",
        "int32",
        "string",
        "M",
        "E",
        "map<string, int32>",
        "google.protobuf.Timestamp",
        "Nope",
    ]);
    let label = select(vec!["", "", "", "repeated ", "optional ", "required "]);
    let scalar = select(vec!["int32", "string", "bytes", "double", "sint64"]);
    (
        select(vec!["proto2", "proto3"]),
        prop::collection::btree_map(1u32..8, (label, kind), 0..5),
        prop::collection::btree_map(10u32..13, scalar, 0..3),
        prop::bool::ANY,
    )
        .prop_map(|(syntax, fields, oneof, package)| {
            let fields: Vec<String> = fields
                .iter()
                .map(|(n, (l, k))| {
                    let l = if syntax == "proto2" && l.is_empty() {
                        "optional "
                    } else {
                        l
                    };
                    let l = if k.starts_with("map") { "" } else { l };
                    format!("{l}{k} f{n} = {n};")
                })
                .collect();
            let oneof = if oneof.is_empty() {
                String::new()
            } else {
                let inner: Vec<String> = oneof
                    .iter()
                    .map(|(n, k)| format!("{k} o{n} = {n};"))
                    .collect();
                format!("oneof o {{ {} }}", inner.join(" "))
            };
            format!(
                "syntax = \"{syntax}\";\n{}import \"google/protobuf/timestamp.proto\";\n\
                 enum E {{ Z = 0; }}\nmessage M {{\n{}\n{oneof}\n}}\n",
                if package { "package p;\n" } else { "" },
                fields.join("\n"),
            )
        })
}

proptest! {
    #[test]
    fn json_schema_and_protobuf_parsing_and_checks_never_panic(
        a in json_schema_text(), b in json_schema_text(),
        p in proto_text(), q in proto_text(), junk in ".{0,64}",
        bytes in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let dep = [Dependency { name: "dep.json".into(), schema: b.clone() }];
        for kind in [SchemaType::Json, SchemaType::Protobuf] {
            let _ = Parsed::parse(kind, &junk, &[]);
        }
        let pairs = [
            (Parsed::parse(SchemaType::Json, &a, &dep), Parsed::parse(SchemaType::Json, &b, &dep)),
            (Parsed::parse(SchemaType::Protobuf, &p, &[]), Parsed::parse(SchemaType::Protobuf, &q, &[])),
        ];
        // Protobuf schemas written back as text compile to the same schema.
        if let Ok(Parsed::Protobuf(compiled)) = Parsed::parse(SchemaType::Protobuf, &p, &[]) {
            let again = Parsed::parse(SchemaType::Protobuf, &compiled.text(), &[]);
            prop_assert_eq!(again.map(|a| a.canonical()).ok(), Some(compiled.canonical()));
        }
        for (x, y) in pairs {
            if let (Ok(x), Ok(y)) = (x, y) {
                let _ = x.canonical();
                let _ = x.read_problems(&y);
                let _ = y.read_problems(&x);
                let _ = x.decode_json(&bytes);
                let _ = x.encode_json(&serde_json::json!({"f1": junk, "a": 1}), None);
                let _ = x.encode_json(&serde_json::json!(null), Some(&junk));
            }
        }
    }

    #[test]
    fn schema_parsing_and_checks_never_panic(a in schema_text(), b in schema_text(), junk in ".{0,64}") {
        let _ = Parsed::parse(SchemaType::Avro, &junk, &[]);
        let dep = Dependency { name: "b".into(), schema: b.clone() };
        let _ = Parsed::parse(SchemaType::Avro, &a, std::slice::from_ref(&dep));
        if let (Ok(x), Ok(y)) = (
            Parsed::parse(SchemaType::Avro, &a, &[]),
            Parsed::parse(SchemaType::Avro, &b, &[]),
        ) {
            let _ = x.canonical();
            let _ = x.read_problems(&y);
            let _ = y.read_problems(&x);
            let _ = x.decode_json(junk.as_bytes());
            let _ = x.encode_json(&serde_json::json!({"f": junk}), None);
        }
    }

    #[test]
    fn records_and_wire_bytes_never_panic(key in prop::collection::vec(any::<u8>(), 0..64),
                                          value in prop::option::of(prop::collection::vec(any::<u8>(), 0..64)),
                                          subject in "[a-z]{1,3}", version in any::<i32>(),
                                          id in prop_oneof![Just(i32::MAX), Just(i32::MIN), any::<i32>()]) {
        let mut state = State::default();
        state.apply(&key, value.as_deref());
        let typed_key = format!(r#"{{"keytype":"SCHEMA","subject":"{subject}","version":{version},"magic":1}}"#);
        let typed_value = format!(r#"{{"subject":"{subject}","version":{version},"id":{id},"schema":"\"int\""}}"#);
        state.apply(typed_key.as_bytes(), Some(typed_value.as_bytes()));
        state.apply(typed_key.as_bytes(), value.as_deref());
        let _ = state.next_id(".");
        let _ = state.contexts();
        let _ = state.uses_of(".", id, true);
        let _ = wire::unframe(&key);
        let _ = wire::decode_message_indexes(&key);
    }
}
