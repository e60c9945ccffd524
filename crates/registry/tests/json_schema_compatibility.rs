//! Table-driven JSON Schema evolution cases. Expected results follow Confluent's documented
//! JSON Schema compatibility rules (its table of compatible and incompatible differences):
//! BACKWARD = the differences from the old schema to the new one are all compatible (the new
//! schema accepts everything the old one did), FORWARD = the same from the new to the old,
//! FULL = both.

mod compatibility_table;

use brook_registry::compat::Level;
use brook_registry::format::{Parsed, SchemaType};
use compatibility_table::{Case, case, check};

fn parse(text: &str) -> Parsed {
    Parsed::parse(SchemaType::Json, text, &[]).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// An object with `properties` (a JSON fragment) and further keywords.
fn object(properties: &str, extra: &str) -> String {
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(",{extra}")
    };
    format!(r#"{{"type":"object","properties":{{{properties}}}{extra}}}"#)
}

const ID: &str = r#""id":{"type":"integer"}"#;
const CLOSED: &str = r#""additionalProperties":false"#;

fn cases() -> Vec<Case> {
    let closed = |props: &str, extra: &str| {
        object(
            props,
            &if extra.is_empty() {
                CLOSED.to_string()
            } else {
                format!("{CLOSED},{extra}")
            },
        )
    };
    let with_tip = format!(r#"{ID},"tip":{{"type":"number","default":0}}"#);
    let partial = |props: &str| {
        object(
            props,
            r#""patternProperties":{"^x_":{"type":"string"}},"additionalProperties":false"#,
        )
    };
    vec![
        case("same schema", object(ID, ""), object(ID, ""), true, true),
        case(
            "title and description change",
            r#"{"type":"string","title":"a"}"#,
            r#"{"type":"string","title":"b","description":"d"}"#,
            true,
            true,
        ),
        // Types.
        case(
            "integer widened to number",
            r#"{"type":"integer"}"#,
            r#"{"type":"number"}"#,
            true,
            false,
        ),
        case(
            "string to integer",
            r#"{"type":"string"}"#,
            r#"{"type":"integer"}"#,
            false,
            false,
        ),
        case(
            "string to string or null",
            r#"{"type":"string"}"#,
            r#"{"type":["string","null"]}"#,
            true,
            false,
        ),
        case(
            "anything to the empty schema",
            r#"{"type":"string"}"#,
            "{}",
            true,
            false,
        ),
        // String constraints.
        case(
            "maxLength increased",
            r#"{"type":"string","maxLength":10}"#,
            r#"{"type":"string","maxLength":20}"#,
            true,
            false,
        ),
        case(
            "maxLength added",
            r#"{"type":"string"}"#,
            r#"{"type":"string","maxLength":10}"#,
            false,
            true,
        ),
        case(
            "minLength increased",
            r#"{"type":"string","minLength":2}"#,
            r#"{"type":"string","minLength":5}"#,
            false,
            true,
        ),
        case(
            "pattern added",
            r#"{"type":"string"}"#,
            r#"{"type":"string","pattern":"^[A-Z]+$"}"#,
            false,
            true,
        ),
        case(
            "pattern changed",
            r#"{"type":"string","pattern":"^a"}"#,
            r#"{"type":"string","pattern":"^b"}"#,
            false,
            false,
        ),
        // Number constraints.
        case(
            "maximum increased",
            r#"{"type":"number","maximum":100}"#,
            r#"{"type":"number","maximum":200}"#,
            true,
            false,
        ),
        case(
            "minimum decreased",
            r#"{"type":"number","minimum":0}"#,
            r#"{"type":"number","minimum":-10}"#,
            true,
            false,
        ),
        case(
            "exclusiveMinimum added",
            r#"{"type":"number"}"#,
            r#"{"type":"number","exclusiveMinimum":0}"#,
            false,
            true,
        ),
        case(
            "multipleOf reduced to a divisor",
            r#"{"type":"integer","multipleOf":4}"#,
            r#"{"type":"integer","multipleOf":2}"#,
            true,
            false,
        ),
        case(
            "multipleOf changed without divisibility",
            r#"{"type":"integer","multipleOf":3}"#,
            r#"{"type":"integer","multipleOf":5}"#,
            false,
            false,
        ),
        // Enums and consts.
        case(
            "enum extended",
            r#"{"enum":["cash","card"]}"#,
            r#"{"enum":["cash","card","voucher"]}"#,
            true,
            false,
        ),
        case(
            "enum replaced",
            r#"{"enum":["cash","card"]}"#,
            r#"{"enum":["voucher","app"]}"#,
            false,
            false,
        ),
        case(
            "const changed",
            r#"{"const":"v1"}"#,
            r#"{"const":"v2"}"#,
            false,
            false,
        ),
        // Objects and their content model.
        case(
            "optional property added to a closed object",
            closed(ID, ""),
            closed(&with_tip, ""),
            true,
            false,
        ),
        case(
            "property added to an open object",
            object(ID, ""),
            object(&with_tip, ""),
            false,
            true,
        ),
        case(
            "property with an empty schema added to an open object",
            object(ID, ""),
            object(&format!(r#"{ID},"note":{{}}"#), ""),
            true,
            true,
        ),
        case(
            "required property without a default added to a closed object",
            closed(ID, ""),
            closed(
                &format!(r#"{ID},"tip":{{"type":"number"}}"#),
                r#""required":["tip"]"#,
            ),
            false,
            false,
        ),
        case(
            "required property with a default added to a closed object",
            closed(ID, ""),
            closed(&with_tip, r#""required":["tip"]"#),
            true,
            false,
        ),
        case(
            "existing property made required",
            object(ID, ""),
            object(ID, r#""required":["id"]"#),
            false,
            true,
        ),
        case(
            "additionalProperties closed",
            object(ID, ""),
            closed(ID, ""),
            false,
            true,
        ),
        case(
            "additionalProperties schema dropped",
            object(ID, r#""additionalProperties":{"type":"string"}"#),
            object(ID, ""),
            true,
            false,
        ),
        case(
            "property added and covered by patternProperties",
            partial(ID),
            partial(&format!(r#"{ID},"x_note":{{"type":"string"}}"#)),
            true,
            true,
        ),
        case(
            "property added but not covered by patternProperties",
            partial(ID),
            partial(&format!(r#"{ID},"x_count":{{"type":"integer"}}"#)),
            false,
            false,
        ),
        case(
            "property with a false schema removed from a closed object",
            closed(&format!(r#"{ID},"legacy":false"#), ""),
            closed(ID, ""),
            true,
            true,
        ),
        case(
            "nested property widened",
            object(r#""fare":{"type":"integer"}"#, ""),
            object(r#""fare":{"type":"number"}"#, ""),
            true,
            false,
        ),
        case(
            "minProperties added",
            object(ID, ""),
            object(ID, r#""minProperties":1"#),
            false,
            true,
        ),
        case(
            "dependentRequired added",
            object(ID, ""),
            object(ID, r#""dependentRequired":{"id":["tip"]}"#),
            false,
            true,
        ),
        // Arrays.
        case(
            "item type changed",
            r#"{"type":"array","items":{"type":"string"}}"#,
            r#"{"type":"array","items":{"type":"integer"}}"#,
            false,
            false,
        ),
        case(
            "maxItems increased",
            r#"{"type":"array","maxItems":5}"#,
            r#"{"type":"array","maxItems":10}"#,
            true,
            false,
        ),
        case(
            "uniqueItems added",
            r#"{"type":"array"}"#,
            r#"{"type":"array","uniqueItems":true}"#,
            false,
            true,
        ),
        case(
            "tuple item added to a closed tuple",
            r#"{"type":"array","prefixItems":[{"type":"string"}],"items":false}"#,
            r#"{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}"#,
            true,
            false,
        ),
        case(
            "tuple item added to an open tuple",
            r#"{"type":"array","prefixItems":[{"type":"string"}]}"#,
            r#"{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}]}"#,
            false,
            true,
        ),
        // Combined schemas.
        case(
            "oneOf alternative added",
            r#"{"oneOf":[{"type":"string"},{"type":"integer"}]}"#,
            r#"{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"boolean"}]}"#,
            true,
            false,
        ),
        case(
            "oneOf relaxed to anyOf",
            r#"{"oneOf":[{"type":"string"},{"type":"integer"}]}"#,
            r#"{"anyOf":[{"type":"string"},{"type":"integer"}]}"#,
            true,
            false,
        ),
        case(
            "allOf conjunct dropped",
            r#"{"allOf":[{"type":"string"},{"maxLength":5}]}"#,
            r#"{"allOf":[{"type":"string"}]}"#,
            true,
            false,
        ),
        case(
            "anyOf alternative changed",
            r#"{"anyOf":[{"type":"string"},{"type":"integer"}]}"#,
            r#"{"anyOf":[{"type":"string"},{"type":"boolean"}]}"#,
            false,
            false,
        ),
        case(
            "object with a oneOf gains a required property",
            r#"{"type":"object","properties":{"a":{"type":"string"}},"oneOf":[{"required":["a"]},{"required":["b"]}]}"#,
            r#"{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"oneOf":[{"required":["a"]},{"required":["b"]}]}"#,
            false,
            true,
        ),
        case(
            "object with an anyOf: a property's type widened",
            r#"{"type":"object","properties":{"n":{"type":"integer"}},"anyOf":[{"required":["n"]}]}"#,
            r#"{"type":"object","properties":{"n":{"type":"number"}},"anyOf":[{"required":["n"]}]}"#,
            true,
            false,
        ),
        case(
            "oneOf constraint dropped from an object",
            r#"{"type":"object","properties":{"a":{"type":"string"}},"oneOf":[{"required":["a"]},{"required":["b"]}]}"#,
            r#"{"type":"object","properties":{"a":{"type":"string"}}}"#,
            true,
            false,
        ),
        case(
            "not widened",
            r#"{"not":{"type":"string"}}"#,
            r#"{"not":{"type":["string","number"]}}"#,
            false,
            true,
        ),
        // References.
        case(
            "referenced definition tightened",
            r##"{"$defs":{"Name":{"type":"string"}},"type":"object","properties":{"name":{"$ref":"#/$defs/Name"}}}"##,
            r##"{"$defs":{"Name":{"type":"string","maxLength":8}},"type":"object","properties":{"name":{"$ref":"#/$defs/Name"}}}"##,
            false,
            true,
        ),
    ]
}

#[test]
fn json_schema_evolution_cases_follow_confluents_rules() {
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let (_, wrong) = check(SchemaType::Json, &cases);
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn incompatibilities_carry_confluents_names_and_where_they_are() {
    let old = parse(&object(ID, ""));
    let new = parse(&object(&format!(r#"{ID},"tip":{{"type":"number"}}"#), ""));
    let problems = Level::Backward.check(&new, &[old]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("#/properties/tip: PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"),
        "{problems:?}"
    );
}

#[test]
fn recursive_references_terminate() {
    let tree = r##"{"$defs":{"Node":{"type":"object","properties":{"children":{"type":"array","items":{"$ref":"#/$defs/Node"}}}}},"$ref":"#/$defs/Node"}"##;
    let wider = r##"{"$defs":{"Node":{"type":"object","properties":{"children":{"type":"array","items":{"$ref":"#/$defs/Node"}},"label":{}}}},"$ref":"#/$defs/Node"}"##;
    let (a, b) = (parse(tree), parse(wider));
    assert!(Level::Full.check(&b, &[a]).is_empty());
}

#[test]
fn nested_alternatives_are_compared_within_a_budget() {
    // anyOf inside anyOf, four levels of eight: matching alternatives pair by pair would take
    // minutes; the check stops at its budget and calls the schemas too complex.
    fn nest(depth: usize, width: usize) -> String {
        if depth == 0 {
            return "{}".to_string();
        }
        let subs: Vec<String> = (0..width)
            .map(|i| {
                if depth == 1 {
                    format!(r#"{{"type":"string","maxLength":{i}}}"#)
                } else {
                    nest(depth - 1, width)
                }
            })
            .collect();
        format!(r#"{{"anyOf":[{}]}}"#, subs.join(","))
    }
    let (old, new) = (parse(&nest(4, 8)), parse(&nest(4, 7)));
    let problems = Level::Full.check(&new, &[old]);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("too complex to compare")),
        "{problems:?}"
    );
}
