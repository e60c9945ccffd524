//! The registry's REST API against a real broker: Confluent's responses, error codes and
//! rules for registration, lookups, deletes, configs, modes and references; ids that survive
//! a restart; two instances on one `_schemas` topic.

mod common;

use common::{Api, avro_body, broker, registry};
use serde_json::{Value, json};

const RIDE_V1: &str =
    r#"{"type":"record","name":"Ride","fields":[{"name":"vendor_id","type":"int"}]}"#;
const RIDE_V2: &str = r#"{"type":"record","name":"Ride","fields":[{"name":"vendor_id","type":"int"},{"name":"tip","type":"double","default":0.0}]}"#;
const RIDE_NO_DEFAULT: &str = r#"{"type":"record","name":"Ride","fields":[{"name":"vendor_id","type":"int"},{"name":"total","type":"double"}]}"#;

fn code(body: &Value) -> i64 {
    body["error_code"].as_i64().unwrap_or(0)
}

#[test]
fn the_rest_api_follows_confluents_rules() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let broker = runtime.block_on(broker(tmp.path()));
    let server = runtime.block_on(registry(&broker));
    let api = Api::new(server.local_addr());

    // Registration: ids, same schema → same id and no new version, any content type.
    assert_eq!(api.get("/subjects"), (200, json!([])));
    let (status, body) = api.post("/subjects/rides-value/versions", &avro_body(RIDE_V1));
    assert_eq!((status, body["id"].as_i64()), (200, Some(1)), "{body}");
    let spaced = RIDE_V1.replace(',', " , ");
    let (_, again) = api.post_as(
        "/subjects/rides-value/versions",
        &avro_body(&spaced),
        "application/json",
    );
    assert_eq!(again["id"], 1);
    assert_eq!(api.get("/subjects/rides-value/versions"), (200, json!([1])));
    // The same schema under another subject shares the id.
    let (_, other) = api.post_as(
        "/subjects/other-value/versions",
        &avro_body(RIDE_V1),
        "application/vnd.schemaregistry+json",
    );
    assert_eq!(other["id"], 1);
    // Unknown request fields are tolerated.
    let (status, v2) = api.post(
        "/subjects/rides-value/versions",
        &json!({"schema": RIDE_V2, "schemaType": "AVRO", "metadata": null, "ruleSet": null})
            .to_string(),
    );
    assert_eq!((status, v2["id"].as_i64()), (200, Some(2)), "{v2}");

    // Reads.
    let (status, latest) = api.get("/subjects/rides-value/versions/latest");
    assert_eq!(status, 200);
    assert_eq!(
        (
            latest["subject"].clone(),
            latest["version"].clone(),
            latest["id"].clone()
        ),
        (json!("rides-value"), json!(2), json!(2))
    );
    assert!(latest.get("schemaType").is_none(), "AVRO is implied");
    let (_, raw) = api.get("/subjects/rides-value/versions/1/schema");
    assert_eq!(raw["name"], "Ride");
    let (_, by_id) = api.get("/schemas/ids/2");
    assert_eq!(by_id["schema"], RIDE_V2);
    assert_eq!(
        api.get("/schemas/ids/1/subjects").1,
        json!(["other-value", "rides-value"])
    );
    assert_eq!(
        api.get("/schemas/ids/2/versions").1,
        json!([{"subject": "rides-value", "version": 2}])
    );
    let (status, found) = api.post("/subjects/rides-value", &avro_body(RIDE_V1));
    assert_eq!((status, found["version"].as_i64()), (200, Some(1)));
    assert_eq!(
        api.get("/schemas/types").1,
        json!(["JSON", "PROTOBUF", "AVRO"])
    );

    // Not found and invalid input, with Confluent's codes.
    assert_eq!(code(&api.get("/subjects/nope/versions").1), 40401);
    assert_eq!(code(&api.get("/subjects/rides-value/versions/9").1), 40402);
    let (_, no_id) = api.get("/schemas/ids/99");
    assert_eq!(code(&no_id), 40403);
    assert_eq!(no_id["message"], "Schema 99 not found");
    let (status, missing) = api.post("/subjects/rides-value", &avro_body(RIDE_NO_DEFAULT));
    assert_eq!((status, code(&missing)), (404, 40403));
    assert_eq!(missing["message"], "Schema not found", "Confluent's text");
    let (status, bad_version) = api.get("/subjects/rides-value/versions/zero");
    assert_eq!((status, code(&bad_version)), (422, 42202));
    let (status, invalid) = api.post(
        "/subjects/rides-value/versions",
        &avro_body(r#"{"type":"record","name":"Broken"}"#),
    );
    assert_eq!((status, code(&invalid)), (422, 42201));
    assert!(
        invalid["message"].as_str().unwrap().contains("fields"),
        "the message names the problem: {invalid}"
    );
    let (status, malformed) = api.post("/subjects/rides-value/versions", "{not json");
    assert!((400..500).contains(&status), "{status}");
    assert!(malformed["message"].is_string(), "{malformed}");

    // Compatibility: BACKWARD by default; a field without a default is refused with 409.
    assert_eq!(
        api.get("/config").1,
        json!({"compatibilityLevel": "BACKWARD"})
    );
    let (status, refused) = api.post(
        "/subjects/rides-value/versions",
        &avro_body(RIDE_NO_DEFAULT),
    );
    assert_eq!((status, code(&refused)), (409, 409), "{refused}");
    let (_, check) = api.post(
        "/compatibility/subjects/rides-value/versions/latest?verbose=true",
        &avro_body(RIDE_NO_DEFAULT),
    );
    assert_eq!(check["is_compatible"], false);
    assert!(!check["messages"].as_array().unwrap().is_empty());
    let (_, check) = api.post(
        "/compatibility/subjects/rides-value/versions",
        &avro_body(RIDE_V2),
    );
    assert_eq!(check, json!({"is_compatible": true}));
    // Subject-level config: absent → 40408 unless defaultToGlobal; NONE lets it through.
    assert_eq!(code(&api.get("/config/rides-value").1), 40408);
    assert_eq!(
        api.get("/config/rides-value?defaultToGlobal=true").1,
        json!({"compatibilityLevel": "BACKWARD"})
    );
    assert_eq!(
        api.put("/config/rides-value", r#"{"compatibility":"none"}"#),
        (200, json!({"compatibility": "NONE"}))
    );
    let (status, _) = api.post(
        "/subjects/rides-value/versions",
        &avro_body(RIDE_NO_DEFAULT),
    );
    assert_eq!(status, 200);
    assert_eq!(
        code(&api.put("/config", r#"{"compatibility":"sideways"}"#).1),
        42203
    );
    assert_eq!(
        api.delete("/config/rides-value").1,
        json!({"compatibilityLevel": "NONE"})
    );
    // The global level can be deleted too: back to BACKWARD.
    api.put("/config", r#"{"compatibility":"FULL"}"#);
    assert_eq!(
        api.delete("/config").1,
        json!({"compatibilityLevel": "FULL"})
    );
    assert_eq!(api.get("/config").1["compatibilityLevel"], "BACKWARD");

    // Deletes: soft first, then permanent.
    assert_eq!(
        code(
            &api.delete("/subjects/rides-value/versions/1?permanent=true")
                .1
        ),
        40407
    );
    assert_eq!(
        api.delete("/subjects/rides-value/versions/1"),
        (200, json!(1))
    );
    assert_eq!(
        code(&api.delete("/subjects/rides-value/versions/1").1),
        40406
    );
    assert_eq!(api.get("/subjects/rides-value/versions").1, json!([2, 3]));
    assert_eq!(
        api.get("/subjects/rides-value/versions?deleted=true").1,
        json!([1, 2, 3])
    );
    assert_eq!(
        api.get("/subjects/rides-value/versions?deletedOnly=true").1,
        json!([1])
    );
    assert_eq!(
        api.get("/subjects/rides-value/versions?deleted=true&offset=1&limit=1")
            .1,
        json!([2])
    );
    assert_eq!(
        api.delete("/subjects/rides-value/versions/1?permanent=true"),
        (200, json!(1))
    );
    assert_eq!(
        code(&api.delete("/subjects/rides-value?permanent=true").1),
        40405
    );
    assert_eq!(api.delete("/subjects/rides-value"), (200, json!([2, 3])));
    assert_eq!(code(&api.delete("/subjects/rides-value").1), 40404);
    assert_eq!(api.get("/subjects").1, json!(["other-value"]));
    assert_eq!(
        api.get("/subjects?deleted=true").1,
        json!(["other-value", "rides-value"])
    );
    assert_eq!(
        api.get("/subjects?deletedOnly=true").1,
        json!(["rides-value"])
    );
    assert_eq!(
        api.get("/subjects?deleted=true&limit=1").1,
        json!(["other-value"])
    );
    assert_eq!(
        api.delete("/subjects/rides-value?permanent=true"),
        (200, json!([2, 3]))
    );
    // Versions keep counting after a soft delete, as in Confluent.
    let (_, reused) = api.post("/subjects/other-value/versions", &avro_body(RIDE_V2));
    assert_eq!(reused["id"], 2, "the id of an equal schema is reused");

    // References: a schema using a named type from another subject.
    let address =
        r#"{"type":"record","name":"Address","fields":[{"name":"city","type":"string"}]}"#;
    let (_, address_id) = api.post("/subjects/address/versions", &avro_body(address));
    let person = json!({
        "schema": r#"{"type":"record","name":"Person","fields":[{"name":"home","type":"Address"}]}"#,
        "references": [{"name": "Address", "subject": "address", "version": 1}],
    });
    let (status, person_id) = api.post("/subjects/person/versions", &person.to_string());
    assert_eq!(status, 200, "{person_id}");
    assert_eq!(
        api.get("/subjects/address/versions/1/referencedby").1,
        json!([person_id["id"]])
    );
    assert_eq!(code(&api.delete("/subjects/address/versions/1").1), 42206);
    let (_, fetched) = api.get(&format!("/schemas/ids/{}", person_id["id"]));
    assert_eq!(fetched["references"][0]["subject"], "address");
    assert!(address_id["id"].as_i64().unwrap() > 0);

    // Modes: READONLY refuses writes; IMPORT takes explicit ids and versions.
    assert_eq!(
        api.put("/mode/frozen", r#"{"mode":"READONLY"}"#),
        (200, json!({"mode": "READONLY"}))
    );
    assert_eq!(
        code(&api.post("/subjects/frozen/versions", &avro_body(RIDE_V1)).1),
        42205
    );
    assert_eq!(code(&api.put("/mode", r#"{"mode":"SOMETIMES"}"#).1), 42204);
    api.put("/mode/imported", r#"{"mode":"IMPORT"}"#);
    let (status, imported) = api.post(
        "/subjects/imported/versions",
        &json!({"schema": r#""string""#, "id": 100, "version": 7}).to_string(),
    );
    assert_eq!(
        (status, imported["id"].as_i64()),
        (200, Some(100)),
        "{imported}"
    );
    assert_eq!(api.get("/subjects/imported/versions").1, json!([7]));
    // The same import again is a no-op; another schema at that version is refused.
    let again = json!({"schema": r#""string""#, "id": 100, "version": 7}).to_string();
    assert_eq!(api.post("/subjects/imported/versions", &again).1["id"], 100);
    let other = json!({"schema": r#""long""#, "id": 101, "version": 7}).to_string();
    assert_eq!(
        code(&api.post("/subjects/imported/versions", &other).1),
        42205
    );
    assert_eq!(api.get("/subjects/imported/versions").1, json!([7]));
    assert_eq!(
        code(
            &api.post(
                "/subjects/rides-value/versions",
                &json!({"schema": r#""int""#, "id": 100}).to_string()
            )
            .1
        ),
        42205
    );

    // Contexts: a qualified subject numbers its schemas in its own context.
    let (status, staged) = api.post(
        "/subjects/:.staging:rides-value/versions",
        &avro_body(r#""bytes""#),
    );
    assert_eq!((status, staged["id"].as_i64()), (200, Some(1)), "{staged}");
    assert_eq!(
        api.get("/schemas/ids/1?subject=:.staging:").1["schema"],
        r#""bytes""#
    );
    assert_eq!(api.get("/schemas/ids/1").1["schema"], RIDE_V1);
    assert_eq!(
        api.get("/schemas/ids/1/subjects?subject=:.staging:").1,
        json!([":.staging:rides-value"])
    );
    assert_eq!(api.get("/contexts").1, json!([".", ".staging"]));
    // A context's config applies to its subjects that have none of their own.
    let (status, _) = api.put("/config/:.staging:", r#"{"compatibility":"NONE"}"#);
    assert_eq!(status, 200);
    assert_eq!(
        api.get("/config/:.staging:rides-value?defaultToGlobal=true")
            .1["compatibilityLevel"],
        "NONE"
    );
    assert_eq!(
        code(&api.get("/config/:.staging:rides-value").1),
        40408,
        "the subject itself has no level"
    );
    let (status, body) = api.post(
        "/subjects/:.staging:rides-value/versions",
        &avro_body(r#""int""#),
    );
    assert_eq!(status, 200, "NONE lets bytes become int: {body}");
    let (status, _) = api.post("/subjects/other-value/versions", &avro_body(r#""int""#));
    assert_eq!(status, 409, "the default context keeps its own level");

    // Unknown paths get a JSON 404.
    let (status, body) = api.get("/no/such/path");
    assert_eq!((status, code(&body)), (404, 404));

    // A body far over the limit is refused, and a client that writes it all before reading
    // gets to read the refusal.
    let huge = avro_body(&format!(
        "{{\"type\":\"string\",\"doc\":\"{}\"}}",
        "x".repeat(32 << 20)
    ));
    let (status, body) = api.post("/subjects/huge-value/versions", &huge);
    assert_eq!(status, 413, "{body:.200}");

    runtime.block_on(server.shutdown());
    runtime.block_on(broker.shutdown());
}

#[test]
fn ids_survive_a_restart_and_two_instances_serve_the_same_schemas() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let broker = runtime.block_on(broker(tmp.path()));
    let first = runtime.block_on(registry(&broker));
    let api = Api::new(first.local_addr());
    let schemas = [RIDE_V1, RIDE_V2, r#""string""#];
    let ids: Vec<Value> = schemas
        .iter()
        .enumerate()
        .map(|(i, s)| {
            api.post(&format!("/subjects/s{i}/versions"), &avro_body(s))
                .1["id"]
                .clone()
        })
        .collect();
    api.put("/config", r#"{"compatibility":"FULL"}"#);
    runtime.block_on(first.shutdown());

    // A new instance reads everything back from _schemas.
    let restarted = runtime.block_on(registry(&broker));
    let again = Api::new(restarted.local_addr());
    for (i, s) in schemas.iter().enumerate() {
        let (_, body) = again.post(&format!("/subjects/s{i}/versions"), &avro_body(s));
        assert_eq!(body["id"], ids[i], "same schema, same id after a restart");
        assert_eq!(
            again.get(&format!("/schemas/ids/{}", ids[i])).1["schema"],
            *s
        );
    }
    assert_eq!(again.get("/config").1["compatibilityLevel"], "FULL");

    // A second instance on the same topic: writes through one are read through the other.
    let second = runtime.block_on(registry(&broker));
    let other = Api::new(second.local_addr());
    let (_, new) = other.post("/subjects/from-second/versions", &avro_body(r#""long""#));
    let id = new["id"].as_i64().unwrap();
    assert!(id > 3, "{new}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, body) = again.get(&format!("/schemas/ids/{id}"));
        if status == 200 {
            assert_eq!(body["schema"], r#""long""#);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never replicated");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(again.get("/subjects").1, other.get("/subjects").1);

    runtime.block_on(second.shutdown());
    runtime.block_on(restarted.shutdown());
    runtime.block_on(broker.shutdown());
}

/// The references of `rides-proto-value` in the JSON/Protobuf test.
fn imports_listed() -> Value {
    json!([{"name": "geo/zone.proto", "subject": "geo-zone", "version": 1}])
}

/// The base64 descriptor of schema `id`.
fn serialized_of(api: &Api, id: &Value) -> String {
    let (_, body) = api.get(&format!("/schemas/ids/{id}?format=serialized"));
    body["schema"].as_str().unwrap().to_string()
}

#[test]
fn json_schema_and_protobuf_register_with_references_and_formats() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let broker = runtime.block_on(broker(tmp.path()));
    let server = runtime.block_on(registry(&broker));
    let api = Api::new(server.local_addr());
    let body = |schema: &str, kind: &str, references: Value| {
        json!({"schema": schema, "schemaType": kind, "references": references}).to_string()
    };

    // JSON Schema: a `$ref` to another subject's schema resolves by the reference's name.
    let address =
        r#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#;
    let (status, a) = api.post(
        "/subjects/address/versions",
        &body(address, "JSON", json!([])),
    );
    assert_eq!(status, 200, "{a}");
    let person = r#"{"type":"object","properties":{"home":{"$ref":"address.json"}}}"#;
    let reference = json!([{"name": "address.json", "subject": "address", "version": 1}]);
    let (status, dangling) = api.post(
        "/subjects/person-value/versions",
        &body(person, "JSON", json!([])),
    );
    assert_eq!((status, code(&dangling)), (422, 42201), "{dangling}");
    let (status, p) = api.post(
        "/subjects/person-value/versions",
        &body(person, "JSON", reference.clone()),
    );
    assert_eq!(status, 200, "{p}");
    let (_, stored) = api.get(&format!("/schemas/ids/{}", p["id"]));
    assert_eq!(stored["schemaType"], "JSON");
    assert_eq!(stored["references"], reference);
    assert_eq!(
        api.get("/subjects/address/versions/1/referencedby").1,
        json!([p["id"]])
    );
    // The referenced schema tightening is seen through the reference: an open object gaining
    // a typed property is not backward compatible.
    let (_, verdict) = api.post(
        "/compatibility/subjects/person-value/versions/latest?verbose=true",
        &body(
            r#"{"type":"object","properties":{"home":{"$ref":"address.json"},"age":{"type":"integer"}}}"#,
            "JSON",
            reference,
        ),
    );
    assert_eq!(verdict["is_compatible"], false, "{verdict}");
    let messages = verdict["messages"].to_string();
    assert!(
        messages.contains("PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"),
        "{messages}"
    );
    let (status, bad) = api.post(
        "/subjects/bad-value/versions",
        &body(r#"{"type":"strin"}"#, "JSON", json!([])),
    );
    assert_eq!((status, code(&bad)), (422, 42201));
    assert!(bad["message"].as_str().unwrap().contains("/type"), "{bad}");

    // Protobuf: an import resolves to a referenced subject; `format=serialized` gives the
    // compiled descriptor in base64, which registers as the same schema.
    let zone = "syntax = \"proto3\";\npackage geo;\nmessage Zone { string name = 1; }\n";
    let (status, z) = api.post(
        "/subjects/geo-zone/versions",
        &body(zone, "PROTOBUF", json!([])),
    );
    assert_eq!(status, 200, "{z}");
    let ride = "syntax = \"proto3\";\npackage taxi;\nimport \"geo/zone.proto\";\nmessage Ride { geo.Zone pickup = 1; int32 vendor_id = 2; }\n";
    let imports = json!([{"name": "geo/zone.proto", "subject": "geo-zone", "version": 1}]);
    let (status, r) = api.post(
        "/subjects/rides-proto-value/versions",
        &body(ride, "PROTOBUF", imports.clone()),
    );
    assert_eq!(status, 200, "{r}");
    let (_, text) = api.get("/subjects/rides-proto-value/versions/1");
    assert_eq!(text["schema"], ride);
    let (_, serialized) = api.get(&format!("/schemas/ids/{}?format=serialized", r["id"]));
    let descriptor = serialized["schema"].as_str().unwrap();
    assert_ne!(descriptor, ride);
    let (status, same) = api.post(
        "/subjects/rides-proto-value",
        &body(descriptor, "PROTOBUF", imports.clone()),
    );
    assert_eq!((status, same["version"].as_i64()), (200, Some(1)), "{same}");
    // Registered as a descriptor elsewhere, it is the same id, stored as `.proto` text.
    let (_, copy) = api.post(
        "/subjects/copy-value/versions",
        &body(descriptor, "PROTOBUF", imports.clone()),
    );
    assert_eq!(copy["id"], r["id"], "{copy}");
    // A schema first registered as a descriptor (as serializers do) is stored as `.proto` text.
    let fare = "syntax = \"proto3\";\npackage taxi;\nmessage Fare { double total = 1; }\n";
    let descriptor = brook_registry::format::Parsed::parse(
        brook_registry::format::SchemaType::Protobuf,
        fare,
        &[],
    )
    .unwrap()
    .formatted("serialized")
    .unwrap();
    let (status, fresh) = api.post(
        "/subjects/fares-value/versions",
        &body(&descriptor, "PROTOBUF", json!([])),
    );
    assert_eq!(status, 200, "{fresh}");
    let (_, shown) = api.get(&format!("/schemas/ids/{}", fresh["id"]));
    let shown = shown["schema"].as_str().unwrap();
    assert!(
        shown.contains("message Fare {\n  double total = 1;\n}"),
        "{shown}"
    );
    assert_eq!(serialized_of(&api, &fresh["id"]), descriptor);
    // Changing a field's scalar kind across wire groups is refused.
    let (status, refused) = api.post(
        "/subjects/rides-proto-value/versions",
        &body(
            &ride.replace("int32 vendor_id", "string vendor_id"),
            "PROTOBUF",
            imports,
        ),
    );
    assert_eq!((status, code(&refused)), (409, 409), "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("FIELD_SCALAR_KIND_CHANGED"),
        "{refused}"
    );

    // GET /schemas lists every subject's versions, filtered by prefix; `format` applies.
    let (status, listed) = api.get("/schemas?subjectPrefix=rides-proto&latestOnly=true");
    assert_eq!(status, 200, "{listed}");
    let listed = listed.as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["subject"], "rides-proto-value");
    assert_eq!(listed[0]["schemaType"], "PROTOBUF");
    assert_eq!(listed[0]["references"], imports_listed());
    let (_, all) = api.get("/schemas?format=serialized");
    let subjects: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subject"].as_str().unwrap())
        .collect();
    assert!(
        subjects.contains(&"geo-zone") && subjects.contains(&"address"),
        "{subjects:?}"
    );
    assert_eq!(api.get("/schemas?limit=2").1.as_array().unwrap().len(), 2);

    runtime.block_on(server.shutdown());
    runtime.block_on(broker.shutdown());
}

#[test]
fn writes_through_either_instance_go_to_one_leader() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let broker = runtime.block_on(broker(tmp.path()));
    let first = runtime.block_on(registry(&broker));
    let second = runtime.block_on(registry(&broker));
    let apis = [Api::new(first.local_addr()), Api::new(second.local_addr())];

    // Twenty different schemas registered at once, half through each instance: one writer
    // hands out the ids, so no two schemas share one.
    let registered: Vec<(String, i64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let api = &apis[i % 2];
                scope.spawn(move || {
                    let subject = format!("concurrent-{i}");
                    let schema = format!(
                        r#"{{"type":"record","name":"R{i}","fields":[{{"name":"f","type":"int"}}]}}"#
                    );
                    let (status, body) =
                        api.post(&format!("/subjects/{subject}/versions"), &avro_body(&schema));
                    assert_eq!(status, 200, "{body}");
                    (subject, body["id"].as_i64().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut ids: Vec<i64> = registered.iter().map(|(_, id)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 20, "{registered:?}");
    // Each instance reads back what was written through it at once, and the other soon.
    for (i, (subject, id)) in registered.iter().enumerate() {
        let (status, body) = apis[i % 2].get(&format!("/subjects/{subject}/versions/1"));
        assert_eq!((status, body["id"].as_i64()), (200, Some(*id)), "{body}");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while apis[0].get("/subjects").1 != apis[1].get("/subjects").1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the instances never converged"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // The first instance stops; the second takes over the writes.
    runtime.block_on(first.shutdown());
    let (status, body) = apis[1].post("/subjects/after/versions", &avro_body(r#""string""#));
    assert_eq!(status, 200, "{body}");
    assert!(
        body["id"].as_i64().unwrap() > *ids.last().unwrap(),
        "{body}"
    );

    runtime.block_on(second.shutdown());
    runtime.block_on(broker.shutdown());
}
