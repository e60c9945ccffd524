//! Bad input never panics: arbitrary schema texts (random and JSON-shaped), arbitrary
//! `_schemas` records, and arbitrary bytes given to the wire-format readers and the Avro
//! decoder all come back as values or errors.

use brook_registry::format::{Parsed, SchemaType};
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

proptest! {
    #[test]
    fn schema_parsing_and_checks_never_panic(a in schema_text(), b in schema_text(), junk in ".{0,64}") {
        let _ = Parsed::parse(SchemaType::Avro, &junk, &[]);
        let _ = Parsed::parse(SchemaType::Avro, &a, std::slice::from_ref(&b));
        if let (Ok(x), Ok(y)) = (
            Parsed::parse(SchemaType::Avro, &a, &[]),
            Parsed::parse(SchemaType::Avro, &b, &[]),
        ) {
            let _ = x.canonical();
            let _ = x.read_problems(&y);
            let _ = y.read_problems(&x);
            let Parsed::Avro(avro) = &x;
            let _ = avro.decode_json(junk.as_bytes());
            let _ = avro.encode_json(&serde_json::json!({"f": junk}));
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
