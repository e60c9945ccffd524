//! The message browser, produce and consumer groups through the console's JSON API, against
//! a broker and a schema registry in this process: every message is reached exactly once by
//! paging back from the newest and forward from the oldest; offset, time, partition and
//! filters; Avro through the registry; bad input changes nothing; a group's lag, a dry-run
//! reset that commits nothing, a reset to latest, and the group's deletion.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{Value as Json, json};

fn offsets(page: &Json) -> Vec<(i64, i64)> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["partition"].as_i64().unwrap(),
                m["offset"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn messages_are_browsed_page_by_page_and_produced() {
    let stack = common::Stack::start();
    let (status, e) = stack.json(
        "POST",
        "/api/topics",
        Some(json!({"name": "rides_json", "partitions": 2})),
    );
    assert_eq!(status, 201, "{e}");
    // 250 rides produced through the API, keyed by vendor; a header on each tenth.
    let mut produced = BTreeSet::new();
    for i in 0..250 {
        let mut body = json!({
            "key": format!("vendor-{}", i % 5),
            "value": json!({"ride": i, "fare": 10.5}).to_string(),
        });
        if i % 10 == 0 {
            body["headers"] = json!([{"key": "source", "value": format!("batch-{i}")}]);
        }
        let (status, at) = stack.json("POST", "/api/topics/rides_json/messages", Some(body));
        assert_eq!(status, 200, "{at}");
        produced.insert((
            at["partition"].as_i64().unwrap(),
            at["offset"].as_i64().unwrap(),
        ));
    }
    assert_eq!(produced.len(), 250);

    // The newest 100, newest first, then older pages until there are none.
    let (status, page) = stack.json("GET", "/api/topics/rides_json/messages", None);
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["messages"].as_array().unwrap().len(), 100);
    let first = &page["messages"][0];
    assert_eq!(first["value"]["format"], "json", "{first}");
    assert_eq!(first["value"]["data"]["ride"], 249, "{first}");
    assert_eq!(first["key"]["format"], "text");
    let times: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["timestamp"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let mut seen = Vec::new();
    let mut page = page;
    loop {
        seen.extend(offsets(&page));
        let Some(older) = page["older"].as_str() else {
            break;
        };
        let (status, next) = stack.json(
            "GET",
            &format!("/api/topics/rides_json/messages?cursor={}", encode(older)),
            None,
        );
        assert_eq!(status, 200, "{next}");
        page = next;
    }
    assert_eq!(seen.len(), 250, "each message once");
    assert_eq!(seen.iter().copied().collect::<BTreeSet<_>>(), produced);

    // Forward from the oldest, 60 at a time.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let (status, page) = stack.json(
            "GET",
            &format!(
                "/api/topics/rides_json/messages?from=oldest&limit=60&cursor={}",
                encode(&cursor)
            ),
            None,
        );
        assert_eq!(status, 200, "{page}");
        let got = offsets(&page);
        if got.is_empty() {
            break;
        }
        seen.extend(got);
        cursor = page["newer"].as_str().unwrap().to_string();
    }
    assert_eq!(seen.len(), 250);
    assert_eq!(seen.iter().copied().collect::<BTreeSet<_>>(), produced);

    // One partition from an offset; from a time; filters; hex.
    let (_, page) = stack.json(
        "GET",
        "/api/topics/rides_json/messages?partition=1&from=offset&offset=5&limit=3",
        None,
    );
    assert_eq!(offsets(&page), [(1, 5), (1, 6), (1, 7)], "{page}");
    let (_, all) = stack.json(
        "GET",
        "/api/topics/rides_json/messages?from=oldest&limit=1000",
        None,
    );
    let middle = all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["value"]["data"]["ride"] == 200)
        .cloned()
        .unwrap();
    let t = middle["timestamp"].as_i64().unwrap();
    let (_, page) = stack.json(
        "GET",
        &format!("/api/topics/rides_json/messages?from=timestamp&timestamp={t}&limit=1000"),
        None,
    );
    assert!(
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["timestamp"].as_i64().unwrap() >= t),
        "{page}"
    );
    let (_, page) = stack.json(
        "GET",
        "/api/topics/rides_json/messages?key=VENDOR-3&value=%22ride%22%3A13",
        None,
    );
    let rides: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"]["data"]["ride"].as_i64().unwrap())
        .collect();
    assert_eq!(rides, [138, 133, 13], "{page}");
    let (_, page) = stack.json(
        "GET",
        "/api/topics/rides_json/messages?header=batch-24&from=oldest",
        None,
    );
    assert_eq!(page["messages"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["messages"][0]["headers"][0]["value"], "batch-240");
    let (_, page) = stack.json(
        "GET",
        "/api/topics/rides_json/messages?partition=0&limit=1&format=hex",
        None,
    );
    assert_eq!(page["messages"][0]["value"]["format"], "hex");
    assert!(
        page["messages"][0]["value"]["data"]
            .as_str()
            .unwrap()
            .starts_with("7b22")
    );

    // Avro through the registry: produced as JSON with the subject's schema, shown decoded.
    let schema = r#"{"type":"record","name":"Ride","fields":[{"name":"vendor_id","type":"int"},{"name":"total_amount","type":"double"}]}"#;
    let registry = brook_registry::client::RegistryClient::new(&stack.registry_url);
    registry
        .register(
            "rides_avro-value",
            brook_registry::format::SchemaType::Avro,
            schema,
        )
        .unwrap();
    stack.json(
        "POST",
        "/api/topics",
        Some(json!({"name": "rides_avro", "partitions": 1})),
    );
    let (status, schemas) = stack.json("GET", "/api/topics/rides_avro/schemas", None);
    assert_eq!(status, 200);
    assert_eq!(schemas["value"]["schema_type"], "AVRO", "{schemas}");
    assert_eq!(schemas["key"], Json::Null);
    let (status, at) = stack.json(
        "POST",
        "/api/topics/rides_avro/messages",
        Some(
            json!({"key": "1", "value": "{\"vendor_id\": 1, \"total_amount\": 17.8}",
                    "value_format": "schema"}),
        ),
    );
    assert_eq!(status, 200, "{at}");
    let (_, page) = stack.json("GET", "/api/topics/rides_avro/messages", None);
    let value = &page["messages"][0]["value"];
    assert_eq!(value["format"], "avro", "{page}");
    assert_eq!(value["data"], json!({"vendor_id": 1, "total_amount": 17.8}));

    // JSON Schema and Protobuf too.
    for (topic, schema_type, schema, want) in [
        (
            "rides_js",
            brook_registry::format::SchemaType::Json,
            r#"{"type":"object","properties":{"vendor_id":{"type":"integer"}},"required":["vendor_id"]}"#,
            "json_schema",
        ),
        (
            "rides_pb",
            brook_registry::format::SchemaType::Protobuf,
            "syntax = \"proto3\"; message Ride { int32 vendor_id = 1; }",
            "protobuf",
        ),
    ] {
        registry
            .register(&format!("{topic}-value"), schema_type, schema)
            .unwrap();
        stack.json("POST", "/api/topics", Some(json!({"name": topic})));
        let (status, at) = stack.json(
            "POST",
            &format!("/api/topics/{topic}/messages"),
            Some(json!({"value": "{\"vendor_id\": 2}", "value_format": "schema"})),
        );
        assert_eq!(status, 200, "{at}");
        let (_, page) = stack.json("GET", &format!("/api/topics/{topic}/messages"), None);
        let value = &page["messages"][0]["value"];
        assert_eq!(value["format"], want, "{page}");
        assert_eq!(value["data"]["vendor_id"], 2, "{page}");
    }

    // Bad input: a clear error, nothing written.
    for (topic, body, want) in [
        (
            "rides_avro",
            json!({"value": "{\"vendor_id\": \"one\"}", "value_format": "schema"}),
            400,
        ),
        (
            "rides_avro",
            json!({"value": "not json", "value_format": "schema"}),
            400,
        ),
        ("rides_json", json!({"value": "x", "partition": 7}), 400),
        (
            "rides_json",
            json!({"value": "x", "value_format": "yaml"}),
            400,
        ),
        ("no_such_topic", json!({"value": "x"}), 404),
    ] {
        let (status, e) = stack.json(
            "POST",
            &format!("/api/topics/{topic}/messages"),
            Some(body.clone()),
        );
        assert_eq!(status, want, "{body} → {e}");
        assert!(e["error"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
    let (_, detail) = stack.json("GET", "/api/topics/rides_avro", None);
    assert_eq!(detail["partitions"][0]["log_end_offset"], 1, "{detail}");
    let (_, topics) = stack.json("GET", "/api/topics", None);
    assert!(
        !topics.to_string().contains("no_such_topic"),
        "producing to a missing topic must not create it"
    );
    for query in [
        "from=sideways",
        "from=offset",
        "format=klingon",
        "cursor=zero",
        "partition=9",
    ] {
        let (status, e) = stack.json(
            "GET",
            &format!("/api/topics/rides_json/messages?{query}"),
            None,
        );
        assert!(status == 400 || status == 404, "{query} → {status} {e}");
    }

    // The live numbers, from offsets and the broker's metrics: disk used, each topic's size.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, metrics) = stack.json("GET", "/api/metrics", None);
        assert_eq!(status, 200);
        assert_eq!(metrics["broker_metrics"], true);
        let sized = metrics["topics"]["rides_json"]["size_bytes"]
            .as_f64()
            .is_some_and(|s| s > 0.0);
        if sized {
            let last = metrics["samples"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()
                .clone();
            assert!(last["disk_bytes"].as_f64().unwrap() > 0.0, "{metrics}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{metrics}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_groups_lag_is_shown_and_reset() {
    let stack = common::Stack::start();
    stack.json(
        "POST",
        "/api/topics",
        Some(json!({"name": "rides", "partitions": 2})),
    );
    for i in 0..40 {
        let (status, e) = stack.json(
            "POST",
            "/api/topics/rides/messages",
            Some(json!({"partition": i % 2, "value": format!("ride {i}")})),
        );
        assert_eq!(status, 200, "{e}");
    }
    // A dashboard that read 5 rides of each partition and stopped.
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &stack.bootstrap)
        .set("group.id", "dashboard")
        .create()
        .unwrap();
    let mut offsets = TopicPartitionList::new();
    offsets
        .add_partition_offset("rides", 0, Offset::Offset(5))
        .unwrap();
    offsets
        .add_partition_offset("rides", 1, Offset::Offset(5))
        .unwrap();
    consumer.commit(&offsets, CommitMode::Sync).unwrap();
    drop(consumer);

    let (status, groups) = stack.json("GET", "/api/groups", None);
    assert_eq!(status, 200, "{groups}");
    let row = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == "dashboard")
        .cloned()
        .unwrap_or_else(|| panic!("{groups}"));
    assert_eq!(row["lag"], 30, "{row}");
    let (status, group) = stack.json("GET", "/api/groups/dashboard", None);
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["total_lag"], 30);
    assert_eq!(group["partitions"][0]["committed_offset"], 5);
    assert_eq!(group["partitions"][0]["log_end_offset"], 20);

    // A dry run shows the plan and commits nothing.
    let (status, plan) = stack.json(
        "POST",
        "/api/groups/dashboard/reset",
        Some(json!({"to": "latest"})),
    );
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["executed"], false);
    assert_eq!(plan["partitions"][0]["current_offset"], 5);
    assert_eq!(plan["partitions"][0]["new_offset"], 20);
    let (_, group) = stack.json("GET", "/api/groups/dashboard", None);
    assert_eq!(group["total_lag"], 30, "a dry run commits nothing");
    let (status, done) = stack.json(
        "POST",
        "/api/groups/dashboard/reset",
        Some(json!({"to": "latest", "dry_run": false})),
    );
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["executed"], true);
    let (_, group) = stack.json("GET", "/api/groups/dashboard", None);
    assert_eq!(group["total_lag"], 0, "{group}");
    // The lag over time is sampled every few seconds: it reaches 0.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, group) = stack.json("GET", "/api/groups/dashboard", None);
        let history = group["lag_history"].as_array().unwrap().clone();
        if history.last().is_some_and(|s| s[1] == 0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{group}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // Bad resets, then the group's deletion.
    for body in [json!({"to": "offset"}), json!({"to": "tomorrow"})] {
        let (status, e) = stack.json("POST", "/api/groups/dashboard/reset", Some(body));
        assert_eq!(status, 400, "{e}");
    }
    let (status, _) = stack.call("DELETE", "/api/groups/dashboard", None);
    assert_eq!(status, 204);
    let (status, _) = stack.json("GET", "/api/groups/dashboard", None);
    assert_eq!(status, 404);
    let (status, _) = stack.call("DELETE", "/api/groups/dashboard", None);
    assert_eq!(status, 404);
}
