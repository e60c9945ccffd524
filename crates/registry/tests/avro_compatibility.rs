//! Table-driven Avro evolution cases. Expected results follow the Avro specification's schema
//! resolution rules, which Confluent's compatibility levels apply: BACKWARD = the new schema
//! reads the old one's data, FORWARD = the old schema reads the new one's data, FULL = both.

mod compatibility_table;

use brook_registry::compat::Level;
use brook_registry::format::{Parsed, SchemaType};
use compatibility_table::{Case, case, check};

fn parse(text: &str) -> Parsed {
    Parsed::parse(SchemaType::Avro, text, &[]).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn record(fields: &str) -> String {
    format!(r#"{{"type":"record","name":"Ride","namespace":"taxi","fields":[{fields}]}}"#)
}

const ID: &str = r#"{"name":"id","type":"long"}"#;

fn cases() -> Vec<Case> {
    let with = |extra: &str| record(&format!("{ID},{extra}"));
    let only_id = record(ID);
    let enum_of =
        |symbols: &str| format!(r#"{{"type":"enum","name":"Pay","symbols":[{symbols}]}}"#);
    vec![
        // Primitives and promotions (writer → reader).
        case("same int", r#""int""#, r#""int""#, true, true),
        case("int to long", r#""int""#, r#""long""#, true, false),
        case("int to float", r#""int""#, r#""float""#, true, false),
        case("int to double", r#""int""#, r#""double""#, true, false),
        case("long to float", r#""long""#, r#""float""#, true, false),
        case("long to double", r#""long""#, r#""double""#, true, false),
        case("float to double", r#""float""#, r#""double""#, true, false),
        case("long to int", r#""long""#, r#""int""#, false, true),
        case("double to float", r#""double""#, r#""float""#, false, true),
        case("string to bytes", r#""string""#, r#""bytes""#, true, true),
        case("int to string", r#""int""#, r#""string""#, false, false),
        case("boolean to int", r#""boolean""#, r#""int""#, false, false),
        case("null to int", r#""null""#, r#""int""#, false, false),
        // Records: adding and removing fields.
        case(
            "add a field with a default",
            &only_id,
            with(r#"{"name":"tip","type":"double","default":0.0}"#),
            true,
            true,
        ),
        case(
            "add a field without a default",
            &only_id,
            with(r#"{"name":"tip","type":"double"}"#),
            false,
            true,
        ),
        case(
            "remove a field that had a default",
            with(r#"{"name":"tip","type":"double","default":0.0}"#),
            &only_id,
            true,
            true,
        ),
        case(
            "remove a field without a default",
            with(r#"{"name":"tip","type":"double"}"#),
            &only_id,
            true,
            false,
        ),
        case(
            "add a nullable field defaulting to null",
            &only_id,
            with(r#"{"name":"note","type":["null","string"],"default":null}"#),
            true,
            true,
        ),
        case(
            "change a field's type incompatibly",
            with(r#"{"name":"tip","type":"double"}"#),
            with(r#"{"name":"tip","type":"string"}"#),
            false,
            false,
        ),
        case(
            "promote a field int to long",
            with(r#"{"name":"count","type":"int"}"#),
            with(r#"{"name":"count","type":"long"}"#),
            true,
            false,
        ),
        case(
            "reorder fields",
            record(r#"{"name":"a","type":"int"},{"name":"b","type":"string"}"#),
            record(r#"{"name":"b","type":"string"},{"name":"a","type":"int"}"#),
            true,
            true,
        ),
        case(
            "rename a field without an alias",
            with(r#"{"name":"tip","type":"double"}"#),
            with(r#"{"name":"gratuity","type":"double"}"#),
            false,
            false,
        ),
        case(
            "add a default to an existing field",
            with(r#"{"name":"tip","type":"double"}"#),
            with(r#"{"name":"tip","type":"double","default":1.5}"#),
            true,
            true,
        ),
        case(
            "change the record's name",
            &only_id,
            r#"{"type":"record","name":"Trip","namespace":"taxi","fields":[{"name":"id","type":"long"}]}"#,
            false,
            false,
        ),
        case(
            "a nested record gains a field with a default",
            with(
                r#"{"name":"loc","type":{"type":"record","name":"Loc","fields":[{"name":"zone","type":"int"}]}}"#,
            ),
            with(
                r#"{"name":"loc","type":{"type":"record","name":"Loc","fields":[{"name":"zone","type":"int"},{"name":"borough","type":"string","default":""}]}}"#,
            ),
            true,
            true,
        ),
        case(
            "a nested record gains a field without a default",
            with(
                r#"{"name":"loc","type":{"type":"record","name":"Loc","fields":[{"name":"zone","type":"int"}]}}"#,
            ),
            with(
                r#"{"name":"loc","type":{"type":"record","name":"Loc","fields":[{"name":"zone","type":"int"},{"name":"borough","type":"string"}]}}"#,
            ),
            false,
            true,
        ),
        // Enums.
        case(
            "same enum",
            enum_of(r#""CASH","CARD""#),
            enum_of(r#""CASH","CARD""#),
            true,
            true,
        ),
        case(
            "add an enum symbol",
            enum_of(r#""CASH","CARD""#),
            enum_of(r#""CASH","CARD","APP""#),
            true,
            false,
        ),
        case(
            "remove an enum symbol",
            enum_of(r#""CASH","CARD","APP""#),
            enum_of(r#""CASH","CARD""#),
            false,
            true,
        ),
        case(
            "enum to string",
            enum_of(r#""CASH","CARD""#),
            r#""string""#,
            false,
            false,
        ),
        // Unions.
        case(
            "add a union branch",
            r#"["null","string"]"#,
            r#"["null","string","int"]"#,
            true,
            false,
        ),
        case(
            "remove a union branch",
            r#"["null","string","int"]"#,
            r#"["null","string"]"#,
            false,
            true,
        ),
        case(
            "widen a plain type into a union",
            r#""string""#,
            r#"["null","string"]"#,
            true,
            false,
        ),
        case(
            "narrow a union to one of its branches",
            r#"["null","string"]"#,
            r#""string""#,
            false,
            true,
        ),
        case(
            "union branches promoted",
            r#"["null","int"]"#,
            r#"["null","long"]"#,
            true,
            false,
        ),
        // Arrays and maps.
        case(
            "array items promoted",
            r#"{"type":"array","items":"int"}"#,
            r#"{"type":"array","items":"long"}"#,
            true,
            false,
        ),
        case(
            "array items changed",
            r#"{"type":"array","items":"int"}"#,
            r#"{"type":"array","items":"string"}"#,
            false,
            false,
        ),
        case(
            "map values promoted",
            r#"{"type":"map","values":"float"}"#,
            r#"{"type":"map","values":"double"}"#,
            true,
            false,
        ),
        case(
            "map to array",
            r#"{"type":"map","values":"int"}"#,
            r#"{"type":"array","items":"int"}"#,
            false,
            false,
        ),
        case(
            "array of records gaining a defaulted field",
            format!(r#"{{"type":"array","items":{}}}"#, only_id),
            format!(
                r#"{{"type":"array","items":{}}}"#,
                with(r#"{"name":"tip","type":"double","default":0.0}"#)
            ),
            true,
            true,
        ),
        // Fixed.
        case(
            "same fixed",
            r#"{"type":"fixed","name":"Hash","size":16}"#,
            r#"{"type":"fixed","name":"Hash","size":16}"#,
            true,
            true,
        ),
        case(
            "fixed size changed",
            r#"{"type":"fixed","name":"Hash","size":16}"#,
            r#"{"type":"fixed","name":"Hash","size":32}"#,
            false,
            false,
        ),
        // Several changes at once.
        case(
            "add a defaulted field and remove a defaulted field",
            with(r#"{"name":"old","type":"int","default":0}"#),
            with(r#"{"name":"new","type":"int","default":0}"#),
            true,
            true,
        ),
        case(
            "add a required field and remove a defaulted one",
            with(r#"{"name":"old","type":"int","default":0}"#),
            with(r#"{"name":"new","type":"int"}"#),
            false,
            true,
        ),
        case(
            "promote one field and add a required one",
            with(r#"{"name":"count","type":"int"}"#),
            with(r#"{"name":"count","type":"long"},{"name":"extra","type":"int"}"#),
            false,
            false,
        ),
    ]
}

#[test]
fn avro_evolution_cases_follow_the_resolution_rules() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let (checked, wrong) = check(SchemaType::Avro, &cases);
    assert!(checked >= 40, "{checked} checks");
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn transitive_levels_check_every_earlier_version() {
    // v1 → v2 removes a required field (backward fine, forward not); v3 is compatible with v2
    // only.
    let v1 = parse(&record(
        r#"{"name":"a","type":"int"},{"name":"b","type":"int"}"#,
    ));
    let v2 = parse(&record(r#"{"name":"a","type":"int"}"#));
    let v3 = parse(&record(
        r#"{"name":"a","type":"int"},{"name":"b","type":"string","default":""}"#,
    ));
    let earlier = [v1, v2];
    // Against v2 only, v3 adds a defaulted field: fine both ways.
    assert!(Level::Backward.check(&v3, &earlier).is_empty());
    assert!(Level::Full.check(&v3, &earlier).is_empty());
    // Against v1 too, `b` changed type int → string: data written with v1 cannot be read.
    assert!(!Level::BackwardTransitive.check(&v3, &earlier).is_empty());
    assert!(!Level::FullTransitive.check(&v3, &earlier).is_empty());
    assert!(!Level::ForwardTransitive.check(&v3, &earlier).is_empty());
}
