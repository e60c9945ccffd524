//! Confluent's REST Proxy API v2 over plain HTTP, against a broker and a schema registry in
//! this process: 10,000 rides produced in batches of 100 as JSON and read back through a
//! consumer instance; Avro with an inline schema; the consumer-instance lifecycle (commit,
//! a second instance resuming from it, an idle instance expiring); bad input answered with
//! Confluent's status and code, with nothing written.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::Stack;
use serde_json::{Value as Json, json};

const JSON_V2: &str = "application/vnd.kafka.json.v2+json";

fn ride(i: usize) -> Json {
    json!({"ride_id": i, "vendor_id": 1 + i % 2, "passenger_count": 1 + i % 4,
           "trip_distance": 1.5, "total_amount": 10.25})
}

#[test]
fn rides_are_produced_as_json_and_read_back_through_a_consumer_instance() {
    let stack = Stack::start(Duration::from_secs(300));
    stack.create_topic("rides", 3);
    let mut produced = 0;
    for batch in 0..100 {
        let records: Vec<Json> = (0..100)
            .map(|i| {
                let n = batch * 100 + i;
                json!({"key": ride(n)["vendor_id"], "value": ride(n)})
            })
            .collect();
        let (status, answer) = stack.post("/topics/rides", JSON_V2, &json!({ "records": records }));
        assert_eq!(status, 200, "{answer}");
        let offsets = answer["offsets"].as_array().unwrap();
        assert_eq!(offsets.len(), 100);
        assert!(
            offsets
                .iter()
                .all(|o| o["error_code"].is_null() && o["offset"].is_i64())
        );
        assert_eq!(answer["value_schema_id"], Json::Null);
        produced += offsets.len();
    }
    assert_eq!(produced, 10_000);
    assert_eq!(stack.end_offsets("rides"), 10_000);

    let (status, created) = stack.post(
        "/consumers/dashboards",
        "application/vnd.kafka.v2+json",
        &json!({"name": "reader", "format": "json", "auto.offset.reset": "earliest"}),
    );
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["instance_id"], "reader");
    assert!(
        created["base_uri"]
            .as_str()
            .unwrap()
            .ends_with("/consumers/dashboards/instances/reader")
    );
    let base = "/consumers/dashboards/instances/reader";
    let (status, _) = stack.post(
        &format!("{base}/subscription"),
        "application/vnd.kafka.v2+json",
        &json!({"topics": ["rides"]}),
    );
    assert_eq!(status, 204);
    let (_, subscription) = stack.get(&format!("{base}/subscription"));
    assert_eq!(subscription, json!({"topics": ["rides"]}));
    let records = stack.read_all(base, "json", 10_000);
    let ids: BTreeSet<i64> = records
        .iter()
        .map(|r| r["value"]["ride_id"].as_i64().unwrap())
        .collect();
    assert_eq!(records.len(), 10_000, "each ride once");
    assert_eq!(ids, (0..10_000).collect());
    assert_eq!(records[0]["topic"], "rides");
    assert!(records[0]["key"].is_i64());

    // A read asking for another embedded format than the instance's: 406 40601.
    let (status, e) = stack.call(
        "GET",
        &format!("{base}/records"),
        "application/vnd.kafka.v2+json",
        None,
        Some("application/vnd.kafka.binary.v2+json"),
    );
    assert_eq!(
        (status, e["error_code"].as_i64()),
        (406, Some(40601)),
        "{e}"
    );
    let (status, _) = stack.call("DELETE", base, "application/vnd.kafka.v2+json", None, None);
    assert_eq!(status, 204);

    // Metadata.
    let (_, topics) = stack.get("/topics");
    assert_eq!(topics, json!(["rides"]));
    let (_, topic) = stack.get("/topics/rides");
    assert_eq!(topic["partitions"].as_array().unwrap().len(), 3);
    assert!(topic["configs"]["cleanup.policy"].is_string(), "{topic}");
    let (_, brokers) = stack.get("/brokers");
    assert_eq!(brokers["brokers"].as_array().unwrap().len(), 1);
    let (status, p) = stack.get("/topics/rides/partitions/1");
    assert_eq!(status, 200);
    assert_eq!(p["replicas"][0]["in_sync"], true);
}

#[test]
fn avro_with_an_inline_schema_and_binary_round_trip() {
    let stack = Stack::start(Duration::from_secs(300));
    stack.create_topic("rides_avro", 1);
    let schema = r#"{"type":"record","name":"Ride","fields":[{"name":"vendor_id","type":"int"},{"name":"total_amount","type":"double"}]}"#;
    let (status, answer) = stack.post(
        "/topics/rides_avro",
        "application/vnd.kafka.avro.v2+json",
        &json!({"value_schema": schema, "records": [
            {"value": {"vendor_id": 1, "total_amount": 17.8}},
            {"value": {"vendor_id": 2, "total_amount": 4.5}, "partition": 0}]}),
    );
    assert_eq!(status, 200, "{answer}");
    let id = answer["value_schema_id"].as_i64().unwrap();
    // The id alone works too.
    let (status, again) = stack.post(
        "/topics/rides_avro/partitions/0",
        "application/vnd.kafka.avro.v2+json",
        &json!({"value_schema_id": id, "records": [{"value": {"vendor_id": 3, "total_amount": 1.0}}]}),
    );
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["offsets"][0]["offset"], 2);

    let (status, _) = stack.post(
        "/consumers/avro_readers",
        "application/vnd.kafka.v2+json",
        &json!({"name": "a", "format": "avro", "auto.offset.reset": "earliest"}),
    );
    assert_eq!(status, 200);
    let base = "/consumers/avro_readers/instances/a";
    let (status, _) = stack.post(
        &format!("{base}/assignments"),
        "application/vnd.kafka.v2+json",
        &json!({"partitions": [{"topic": "rides_avro", "partition": 0}]}),
    );
    assert_eq!(status, 204);
    let (_, assigned) = stack.get(&format!("{base}/assignments"));
    assert_eq!(
        assigned,
        json!({"partitions": [{"topic": "rides_avro", "partition": 0}]})
    );
    let records = stack.read_all(base, "avro", 3);
    assert_eq!(
        records[0]["value"],
        json!({"vendor_id": 1, "total_amount": 17.8})
    );
    assert_eq!(records[2]["value"]["vendor_id"], 3);

    // Binary: base64 both ways.
    stack.create_topic("raw", 1);
    let (status, answer) = stack.post(
        "/topics/raw",
        "application/vnd.kafka.binary.v2+json",
        &json!({"records": [{"key": "a2V5", "value": "aGVsbG8gYnJvb2s="}]}),
    );
    assert_eq!(status, 200, "{answer}");
    stack.post(
        "/consumers/raw_readers",
        "application/vnd.kafka.v2+json",
        &json!({"name": "b", "auto.offset.reset": "earliest"}),
    );
    stack.post(
        "/consumers/raw_readers/instances/b/subscription",
        "application/vnd.kafka.v2+json",
        &json!({"topic_pattern": "ra.*"}),
    );
    let records = stack.read_all("/consumers/raw_readers/instances/b", "binary", 1);
    assert_eq!(records[0]["key"], "a2V5");
    assert_eq!(records[0]["value"], "aGVsbG8gYnJvb2s=");
}

#[test]
fn a_second_instance_resumes_from_the_commit_and_idle_ones_expire() {
    let stack = Stack::start(Duration::from_secs(3));
    stack.create_topic("events", 1);
    let records: Vec<Json> = (0..20).map(|i| json!({"value": {"n": i}})).collect();
    let (status, _) = stack.post("/topics/events", JSON_V2, &json!({ "records": records }));
    assert_eq!(status, 200);
    let v2 = "application/vnd.kafka.v2+json";
    let (status, _) = stack.post(
        "/consumers/workers",
        v2,
        &json!({"name": "first", "format": "json", "auto.offset.reset": "earliest",
                "auto.commit.enable": "false"}),
    );
    assert_eq!(status, 200);
    let (status, e) = stack.post(
        "/consumers/workers",
        v2,
        &json!({"name": "first", "format": "json"}),
    );
    assert_eq!(
        (status, e["error_code"].as_i64()),
        (409, Some(40902)),
        "{e}"
    );
    let first = "/consumers/workers/instances/first";
    stack.post(
        &format!("{first}/subscription"),
        v2,
        &json!({"topics": ["events"]}),
    );
    let got = stack.read_all(first, "json", 1);
    // Commit up to the 8th record explicitly (offset 7: Kafka stores 8).
    let last = got.last().unwrap()["offset"].as_i64().unwrap().min(7);
    let (status, e) = stack.post(
        &format!("{first}/offsets"),
        v2,
        &json!({"offsets": [{"topic": "events", "partition": 0, "offset": last}]}),
    );
    assert_eq!(status, 200, "{e}");
    let (status, committed) = stack.call(
        "GET",
        &format!("{first}/offsets"),
        v2,
        Some(&json!({"partitions": [{"topic": "events", "partition": 0}]}).to_string()),
        None,
    );
    assert_eq!(status, 200, "{committed}");
    assert_eq!(committed["offsets"][0]["offset"], last + 1);
    let (status, _) = stack.call("DELETE", first, v2, None, None);
    assert_eq!(status, 204);
    let (status, e) = stack.get(&format!("{first}/subscription"));
    assert_eq!((status, e["error_code"].as_i64()), (404, Some(40403)));

    stack.post(
        "/consumers/workers",
        v2,
        &json!({"name": "second", "format": "json", "auto.offset.reset": "earliest"}),
    );
    let second = "/consumers/workers/instances/second";
    stack.post(
        &format!("{second}/subscription"),
        v2,
        &json!({"topics": ["events"]}),
    );
    let resumed = stack.read_all(second, "json", 1);
    assert_eq!(resumed[0]["offset"], last + 1, "starts from the commit");
    assert_eq!(resumed[0]["value"]["n"], last + 1);

    // Left idle past consumer.instance.timeout.ms (3 s here): gone.
    std::thread::sleep(Duration::from_secs(5));
    let (status, e) = stack.call(
        "GET",
        &format!("{second}/records"),
        v2,
        None,
        Some("application/vnd.kafka.json.v2+json"),
    );
    assert_eq!(
        (status, e["error_code"].as_i64()),
        (404, Some(40403)),
        "{e}"
    );
    assert_eq!(e["message"], "Consumer instance not found.");
}

#[test]
fn bad_input_gets_confluents_status_and_code_and_writes_nothing() {
    let stack = Stack::start(Duration::from_secs(300));
    stack.create_topic("rides", 1);
    let schema = r#"{"type":"record","name":"Ride","fields":[{"name":"vendor_id","type":"int"}]}"#;
    let avro = "application/vnd.kafka.avro.v2+json";
    // 32 times the 1 MiB limit: the 413 must reach a client that writes the whole body
    // before reading the answer (the server reads and drops the rest after answering).
    let big = "x".repeat(32 << 20);
    let cases: Vec<(&str, &str, String, u16, i64)> = vec![
        ("/topics/rides", JSON_V2, "{\"records\": [".into(), 400, 400),
        (
            "/topics/rides",
            "text/plain",
            json!({"records": [{"value": 1}]}).to_string(),
            415,
            415,
        ),
        (
            "/topics/nowhere",
            JSON_V2,
            json!({"records": [{"value": 1}]}).to_string(),
            404,
            40401,
        ),
        (
            "/topics/rides/partitions/5",
            JSON_V2,
            json!({"records": [{"value": 1}]}).to_string(),
            404,
            40402,
        ),
        (
            "/topics/rides",
            avro,
            json!({"value_schema": "{\"type\": \"recrod\"", "records": [{"value": {"vendor_id": 1}}]})
                .to_string(),
            422,
            42205,
        ),
        (
            "/topics/rides",
            avro,
            json!({"value_schema": schema, "records": [{"value": {"vendor_id": 1}}, {"value": {"vendor_id": "one"}}]})
                .to_string(),
            422,
            42203,
        ),
        (
            "/topics/rides",
            avro,
            json!({"records": [{"value": {"vendor_id": 1}}]}).to_string(),
            422,
            42202,
        ),
        (
            "/topics/rides",
            avro,
            json!({"value_schema": schema, "records": [{"key": "k", "value": {"vendor_id": 1}}]})
                .to_string(),
            422,
            42201,
        ),
        (
            "/topics/rides",
            "application/vnd.kafka.binary.v2+json",
            json!({"records": [{"value": "not base64!"}]}).to_string(),
            422,
            42203,
        ),
        (
            "/topics/rides",
            JSON_V2,
            json!({"records": [{"value": big}]}).to_string(),
            413,
            413,
        ),
    ];
    for (path, content_type, body, status, code) in cases {
        let (got, e) = stack.call("POST", path, content_type, Some(&body), None);
        assert_eq!(
            (got, e["error_code"].as_i64()),
            (status, Some(code)),
            "{path} {content_type} → {e}"
        );
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
    assert_eq!(stack.end_offsets("rides"), 0, "nothing written");
    let (_, topics) = stack.get("/topics");
    assert_eq!(topics, json!(["rides"]), "no topic created");

    // Consumer instances: a bad config, an unknown instance.
    let v2 = "application/vnd.kafka.v2+json";
    let (status, e) = stack.post("/consumers/g", v2, &json!({"format": "xml"}));
    assert_eq!(
        (status, e["error_code"].as_i64()),
        (422, Some(42204)),
        "{e}"
    );
    let (status, e) = stack.post(
        "/consumers/g",
        v2,
        &json!({"auto.offset.reset": "sometimes"}),
    );
    assert_eq!(
        (status, e["error_code"].as_i64()),
        (422, Some(42204)),
        "{e}"
    );
    let (status, e) = stack.get("/consumers/g/instances/nobody/assignments");
    assert_eq!(
        (status, e["error_code"].as_i64()),
        (404, Some(40403)),
        "{e}"
    );
    // Reading before subscribing: 409 40903.
    stack.post("/consumers/g", v2, &json!({"name": "idle"}));
    let (status, e) = stack.call("GET", "/consumers/g/instances/idle/records", v2, None, None);
    assert_eq!(
        (status, e["error_code"].as_i64()),
        (409, Some(40903)),
        "{e}"
    );
}

#[test]
fn a_record_the_format_cannot_show_stops_the_read_until_skipped() {
    let stack = Stack::start(Duration::from_secs(300));
    stack.create_topic("mixed", 1);
    // {"n":0}, {"n":1}, not json, {"n":3}, {"n":4} — as binary.
    let values = [
        "eyJuIjowfQ==",
        "eyJuIjoxfQ==",
        "bm90IGpzb24=",
        "eyJuIjozfQ==",
        "eyJuIjo0fQ==",
    ];
    let records: Vec<Json> = values.iter().map(|v| json!({ "value": v })).collect();
    let (status, _) = stack.post(
        "/topics/mixed",
        "application/vnd.kafka.binary.v2+json",
        &json!({ "records": records }),
    );
    assert_eq!(status, 200);
    let v2 = "application/vnd.kafka.v2+json";
    stack.post(
        "/consumers/strict",
        v2,
        &json!({"name": "j", "format": "json", "auto.offset.reset": "earliest"}),
    );
    let base = "/consumers/strict/instances/j";
    stack.post(
        &format!("{base}/assignments"),
        v2,
        &json!({"partitions": [{"topic": "mixed", "partition": 0}]}),
    );
    let mut seen = Vec::new();
    let error = loop {
        let (status, got) = stack.call(
            "GET",
            &format!("{base}/records?timeout=500"),
            v2,
            None,
            Some("application/vnd.kafka.json.v2+json"),
        );
        if status != 200 {
            break (status, got);
        }
        seen.extend(
            got.as_array()
                .unwrap()
                .iter()
                .map(|r| r["value"]["n"].clone()),
        );
        assert!(seen.len() <= 2, "{seen:?}");
    };
    assert_eq!(seen, [json!(0), json!(1)], "the records before it");
    assert_eq!(error.0, 500);
    assert_eq!(error.1["error_code"], 50002);
    assert!(
        error.1["message"]
            .as_str()
            .unwrap()
            .contains("mixed-0 offset 2"),
        "{}",
        error.1
    );
    // Seeking past it goes on.
    let (status, _) = stack.post(
        &format!("{base}/positions"),
        v2,
        &json!({"offsets": [{"topic": "mixed", "partition": 0, "offset": 3}]}),
    );
    assert_eq!(status, 204);
    let rest: Vec<Json> = stack
        .read_all(base, "json", 2)
        .iter()
        .map(|r| r["value"]["n"].clone())
        .collect();
    assert_eq!(rest, [json!(3), json!(4)]);
}
