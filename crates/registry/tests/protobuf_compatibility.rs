//! Table-driven Protobuf evolution cases. Expected results follow Confluent's documented
//! Protobuf compatibility rules (its table of compatible and incompatible differences, and
//! the examples that go with it): BACKWARD = the differences from the old schema to the new
//! one are all compatible, FORWARD = the same from the new to the old, FULL = both.

mod compatibility_table;

use brook_registry::compat::Level;
use brook_registry::format::{Dependency, Parsed, SchemaType};
use compatibility_table::{Case, case, check};

fn parse(text: &str) -> Parsed {
    Parsed::parse(SchemaType::Protobuf, text, &[]).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// A proto3 file with `body` at the top level.
fn proto3(body: &str) -> String {
    format!("syntax = \"proto3\";\npackage taxi;\n{body}\n")
}

/// A proto3 file whose `Ride` message holds `fields`.
fn ride(fields: &str) -> String {
    proto3(&format!("message Ride {{\n{fields}\n}}"))
}

fn cases() -> Vec<Case> {
    let proto2 = |fields: &str| format!("syntax = \"proto2\";\nmessage Ride {{\n{fields}\n}}\n");
    let with_status = |field: &str| {
        ride(&format!(
            "{field}\nmessage Status {{ string note = 1; }}\nenum Kind {{ A = 0; B = 1; }}"
        ))
    };
    vec![
        case("same schema", ride("int32 vendor_id = 1;"), ride("int32 vendor_id = 1;"), true, true),
        case(
            "field added",
            ride("int32 vendor_id = 1;"),
            ride("int32 vendor_id = 1;\ndouble fare = 2;"),
            true,
            true,
        ),
        case(
            "field removed",
            ride("int32 vendor_id = 1;\ndouble fare = 2;"),
            ride("int32 vendor_id = 1;"),
            true,
            true,
        ),
        case(
            "field added to a nested message",
            ride("message Stop { string zone = 1; }\nrepeated Stop stops = 1;"),
            ride("message Stop { string zone = 1; int32 minutes = 2; }\nrepeated Stop stops = 1;"),
            true,
            true,
        ),
        case(
            "required field added",
            proto2("optional int32 vendor_id = 1;"),
            proto2("optional int32 vendor_id = 1;\nrequired double fare = 2;"),
            false,
            false,
        ),
        case(
            "required field removed",
            proto2("optional int32 vendor_id = 1;\nrequired double fare = 2;"),
            proto2("optional int32 vendor_id = 1;"),
            false,
            false,
        ),
        case(
            "optional field made required",
            proto2("optional int32 vendor_id = 1;"),
            proto2("required int32 vendor_id = 1;"),
            false,
            false,
        ),
        case(
            "field number changed (one removed, one added)",
            ride("string zone = 1;"),
            ride("string zone = 2;"),
            true,
            true,
        ),
        case("field renamed", ride("string zone = 1;"), ride("string pickup_zone = 1;"), true, true),
        case("int32 to int64", ride("int32 n = 1;"), ride("int64 n = 1;"), true, true),
        case("uint32 to bool", ride("uint32 n = 1;"), ride("bool n = 1;"), true, true),
        case("string to bytes", ride("string s = 1;"), ride("bytes s = 1;"), true, true),
        case("fixed32 to sfixed32", ride("fixed32 n = 1;"), ride("sfixed32 n = 1;"), true, true),
        case("sint32 to int32", ride("sint32 n = 1;"), ride("int32 n = 1;"), false, false),
        case("int32 to string", ride("int32 n = 1;"), ride("string n = 1;"), false, false),
        case("float to double", ride("float n = 1;"), ride("double n = 1;"), false, false),
        case("int32 to an enum", with_status("int32 k = 1;"), with_status("Kind k = 1;"), true, true),
        case("int32 to a message", with_status("int32 k = 1;"), with_status("Status k = 1;"), false, false),
        case(
            "message type swapped",
            ride("message A { string s = 1; }\nmessage B { string s = 1; }\nA m = 1;"),
            ride("message A { string s = 1; }\nmessage B { string s = 1; }\nB m = 1;"),
            false,
            false,
        ),
        case(
            "type name qualified",
            with_status("Status s = 1;"),
            with_status(".taxi.Ride.Status s = 1;"),
            true,
            true,
        ),
        case(
            "package changed",
            proto3("message Ride { int32 n = 1; }"),
            "syntax = \"proto3\";\npackage cabs;\nmessage Ride { int32 n = 1; }\n".to_string(),
            false,
            false,
        ),
        case(
            "enum constant renamed and added",
            proto3("enum Pay { CASH = 0; CARD = 1; }\nmessage Ride { Pay pay = 1; }"),
            proto3("enum Pay { CASH = 0; CREDIT_CARD = 1; VOUCHER = 2; }\nmessage Ride { Pay pay = 1; }"),
            true,
            true,
        ),
        case(
            "unused enum removed",
            proto3("enum Pay { CASH = 0; }\nmessage Ride { int32 n = 1; }"),
            proto3("message Ride { int32 n = 1; }"),
            true,
            true,
        ),
        case(
            "message added",
            proto3("message Ride { int32 n = 1; }"),
            proto3("message Ride { int32 n = 1; }\nmessage Summary { int64 rides = 1; }"),
            true,
            false,
        ),
        case(
            "messages reordered",
            proto3("message Ride { int32 n = 1; }\nmessage Summary { int64 rides = 1; }"),
            proto3("message Summary { int64 rides = 1; }\nmessage Ride { int32 n = 1; }"),
            true,
            true,
        ),
        case(
            "one existing field moved into a new oneof",
            ride("string a = 1;\nstring b = 2;"),
            ride("string a = 1;\noneof choice { string b = 2; int32 c = 3; }"),
            true,
            false,
        ),
        case(
            "two existing fields moved into a new oneof",
            ride("string a = 1;\nstring b = 2;"),
            ride("oneof choice { string a = 1; string b = 2; int32 c = 3; }"),
            false,
            false,
        ),
        case(
            "field added to a oneof",
            ride("oneof choice { string a = 1; string b = 2; }"),
            ride("oneof choice { string a = 1; string b = 2; int32 c = 3; }"),
            true,
            false,
        ),
        case(
            "existing field moved into an existing oneof",
            ride("string a = 1;\noneof choice { string b = 2; string c = 3; }"),
            ride("oneof choice { string a = 1; string b = 2; string c = 3; }"),
            false,
            true,
        ),
        case(
            "singular message made repeated",
            with_status("Status s = 1;"),
            with_status("repeated Status s = 1;"),
            true,
            true,
        ),
        case(
            "optional string made repeated",
            ride("optional string s = 1;"),
            ride("repeated string s = 1;"),
            true,
            true,
        ),
        case(
            "optional int32 made repeated",
            ride("optional int32 n = 1;"),
            ride("repeated int32 n = 1;"),
            false,
            false,
        ),
        case(
            "map value type changed",
            ride("map<string, int32> counts = 1;"),
            ride("map<string, string> counts = 1;"),
            false,
            false,
        ),
        case(
            "map value type name qualified",
            with_status("map<string, Status> by_zone = 1;"),
            with_status("map<string, Ride.Status> by_zone = 1;"),
            true,
            true,
        ),
        case(
            "well-known Timestamp replaced by int64",
            "syntax = \"proto3\";\nimport \"google/protobuf/timestamp.proto\";\nmessage Ride { google.protobuf.Timestamp at = 1; }\n"
                .to_string(),
            "syntax = \"proto3\";\nmessage Ride { int64 at = 1; }\n".to_string(),
            false,
            false,
        ),
    ]
}

#[test]
fn protobuf_evolution_cases_follow_confluents_rules() {
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let (_, wrong) = check(SchemaType::Protobuf, &cases);
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn a_descriptor_registered_by_a_serializer_compares_with_its_text() {
    let text = ride("int32 vendor_id = 1;\ndouble fare = 2;");
    let Parsed::Protobuf(compiled) = parse(&text) else {
        unreachable!()
    };
    let from_descriptor = parse(&compiled.serialized());
    assert_eq!(from_descriptor.canonical(), parse(&text).canonical());
    let narrower = parse(&ride("int32 vendor_id = 1;\nstring fare = 2;"));
    let problems = Level::Backward.check(&narrower, &[from_descriptor]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("#/Ride/2: FIELD_SCALAR_KIND_CHANGED"),
        "{problems:?}"
    );
}

#[test]
fn imported_types_compare_through_references() {
    let zone = |extra: &str| Dependency {
        name: "geo/zone.proto".into(),
        schema: format!(
            "syntax = \"proto3\";\npackage geo;\nmessage Zone {{ string name = 1; {extra} }}"
        ),
    };
    let text =
        "syntax = \"proto3\";\nimport \"geo/zone.proto\";\nmessage Ride { geo.Zone pickup = 1; }";
    let v1 = Parsed::parse(SchemaType::Protobuf, text, &[zone("")]).unwrap();
    let v2 = Parsed::parse(SchemaType::Protobuf, text, &[zone("int32 id = 2;")]).unwrap();
    assert!(Level::Full.check(&v2, &[v1]).is_empty());
}
