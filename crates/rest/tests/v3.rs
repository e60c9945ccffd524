//! Confluent's REST Proxy API v3 over plain HTTP: the cluster; a topic created with configs,
//! listed, a config updated and read back, a batch `:alter`, deleted; records produced one
//! per request and as a stream of 1,000 in one chunked request (one answer line each, in
//! order), typed BINARY / JSON / STRING / AVRO; a group's lag summary and lags matching
//! brook-client's view (what `brook group describe` shows).

mod common;

use std::io::Read;
use std::time::Duration;

use common::Stack;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{Value as Json, json};

const JSON: &str = "application/json";

fn cluster(stack: &Stack) -> String {
    let (status, clusters) = stack.get("/v3/clusters");
    assert_eq!(status, 200, "{clusters}");
    assert_eq!(clusters["kind"], "KafkaClusterList");
    let id = clusters["data"][0]["cluster_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, one) = stack.get(&format!("/v3/clusters/{id}"));
    assert_eq!(status, 200);
    assert_eq!(one["kind"], "KafkaCluster");
    assert!(
        one["metadata"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v3/clusters/{id}"))
    );
    assert!(
        one["topics"]["related"]
            .as_str()
            .unwrap()
            .ends_with("/topics")
    );
    let (status, e) = stack.get("/v3/clusters/not-this-one/topics");
    assert_eq!(status, 404, "{e}");
    id
}

#[test]
fn topic_admin_round_trip() {
    let stack = Stack::start(Duration::from_secs(300));
    let id = cluster(&stack);
    let topics = format!("/v3/clusters/{id}/topics");
    let (status, created) = stack.post(
        &topics,
        JSON,
        &json!({"topic_name": "rides", "partitions_count": 3, "replication_factor": 1,
                "configs": [{"name": "retention.ms", "value": "86400000"}]}),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["kind"], "KafkaTopic");
    assert_eq!(created["partitions_count"], 3);
    let (status, e) = stack.post(&topics, JSON, &json!({"topic_name": "rides"}));
    assert_eq!(
        (status, e["error_code"].as_i64()),
        (400, Some(40002)),
        "{e}"
    );
    let (_, list) = stack.get(&topics);
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["topic_name"] == "rides")
    );
    let config = format!("{topics}/rides/configs/retention.ms");
    let (_, c) = stack.get(&config);
    assert_eq!(c["value"], "86400000", "{c}");
    assert_eq!(c["source"], "DYNAMIC_TOPIC_CONFIG");
    let (status, _) = stack.call(
        "PUT",
        &config,
        JSON,
        Some(&json!({"value": "3600000"}).to_string()),
        None,
    );
    assert_eq!(status, 204);
    let (_, c) = stack.get(&config);
    assert_eq!(c["value"], "3600000");
    let (status, e) = stack.post(
        &format!("{topics}/rides/configs:alter"),
        JSON,
        &json!({"data": [{"name": "cleanup.policy", "value": "compact"},
                         {"name": "retention.ms", "operation": "DELETE"}]}),
    );
    assert_eq!(status, 204, "{e}");
    let (_, all) = stack.get(&format!("{topics}/rides/configs"));
    let find = |name: &str| {
        all["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(find("cleanup.policy")["value"], "compact");
    assert_eq!(find("retention.ms")["is_default"], true, "{all}");
    let (_, brokers) = stack.get(&format!("/v3/clusters/{id}/brokers"));
    let broker = brokers["data"][0]["broker_id"].as_i64().unwrap();
    let (status, configs) = stack.get(&format!("/v3/clusters/{id}/brokers/{broker}/configs"));
    assert_eq!(status, 200, "{configs}");
    assert_eq!(configs["kind"], "KafkaBrokerConfigList");
    assert!(!configs["data"].as_array().unwrap().is_empty(), "{configs}");
    let (_, parts) = stack.get(&format!("{topics}/rides/partitions"));
    assert_eq!(parts["data"].as_array().unwrap().len(), 3);
    let (status, _) = stack.call("DELETE", &format!("{topics}/rides"), JSON, None, None);
    assert_eq!(status, 204);
    let (status, e) = stack.get(&format!("{topics}/rides"));
    assert_eq!(
        (status, e["error_code"].as_i64()),
        (404, Some(40403)),
        "{e}"
    );
}

#[test]
fn records_one_by_one_and_streamed() {
    let stack = Stack::start(Duration::from_secs(300));
    let id = cluster(&stack);
    stack.create_topic("rides", 2);
    let records = format!("/v3/clusters/{id}/topics/rides/records");
    let (status, one) = stack.post(
        &records,
        JSON,
        &json!({"key": {"type": "STRING", "data": "1"},
                "value": {"type": "JSON", "data": {"vendor_id": 1, "total_amount": 17.8}},
                "headers": [{"name": "source", "value": "cmVzdA=="}]}),
    );
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["error_code"], 200);
    assert_eq!(one["key"]["type"], "STRING");
    assert!(one["offset"].is_i64());
    let (status, e) = stack.post(
        &records,
        JSON,
        &json!({"value": {"type": "BINARY", "data": "not base64!"}}),
    );
    assert_eq!(status, 400, "{e}");
    // A record 32 times the 1 MiB body limit is 413, and the client gets to read it.
    let big = "x".repeat(32 << 20);
    let (status, e) = stack.post(
        &records,
        JSON,
        &json!({"value": {"type": "STRING", "data": big}}),
    );
    assert_eq!((status, e["error_code"].as_i64()), (413, Some(413)), "{e}");

    // 1,000 records in one chunked request, one answer line each, in order.
    let lines: String = (0..1000)
        .map(|i| {
            let value = if i % 2 == 0 {
                json!({"type": "JSON", "data": {"ride": i}})
            } else {
                json!({"type": "BINARY", "data": "aGVsbG8="})
            };
            format!("{}\n", json!({"partition_id": 0, "value": value}))
        })
        .collect();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut reader = lines.as_bytes();
    let mut response = agent
        .post(format!("{}{records}", stack.url))
        .header("Content-Type", JSON)
        .send(ureq::SendBody::from_reader(&mut reader))
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut text = String::new();
    response
        .body_mut()
        .as_reader()
        .read_to_string(&mut text)
        .unwrap();
    let answers: Vec<Json> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 1000, "{text:.500}");
    let offsets: Vec<i64> = answers
        .iter()
        .map(|a| {
            assert_eq!(a["error_code"], 200, "{a}");
            a["offset"].as_i64().unwrap()
        })
        .collect();
    assert!(offsets.windows(2).all(|w| w[1] == w[0] + 1), "in order");
    assert_eq!(answers[1]["value"]["type"], "BINARY");
    assert_eq!(answers[1]["value"]["size"], 5);

    // Avro with an inline schema.
    let schema = r#"{"type":"record","name":"Ride","fields":[{"name":"vendor_id","type":"int"}]}"#;
    let (status, avro) = stack.post(
        &records,
        JSON,
        &json!({"value": {"type": "AVRO", "schema": schema, "data": {"vendor_id": 2}}}),
    );
    assert_eq!(status, 200, "{avro}");
    let (status, e) = stack.post(
        &records,
        JSON,
        &json!({"value": {"type": "AVRO", "schema": schema, "data": {"vendor_id": "two"}}}),
    );
    assert_eq!(
        (status, e["error_code"].as_i64()),
        (422, Some(42203)),
        "{e}"
    );
    let (status, e) = stack.post(
        &format!("/v3/clusters/{id}/topics/nowhere/records"),
        JSON,
        &json!({"value": {"type": "JSON", "data": 1}}),
    );
    assert_eq!(
        (status, e["error_code"].as_i64()),
        (404, Some(40403)),
        "{e}"
    );
}

#[test]
fn a_groups_lag_summary_matches_its_description() {
    let stack = Stack::start(Duration::from_secs(300));
    let id = cluster(&stack);
    stack.create_topic("rides", 2);
    let records: Vec<Json> = (0..30)
        .map(|i| json!({"value": {"n": i}, "partition": i % 2}))
        .collect();
    let (status, _) = stack.post(
        "/topics/rides",
        "application/vnd.kafka.json.v2+json",
        &json!({ "records": records }),
    );
    assert_eq!(status, 200);
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", stack.bootstrap())
        .set("group.id", "dashboard")
        .create()
        .unwrap();
    let mut offsets = TopicPartitionList::new();
    offsets
        .add_partition_offset("rides", 0, Offset::Offset(5))
        .unwrap();
    offsets
        .add_partition_offset("rides", 1, Offset::Offset(12))
        .unwrap();
    consumer.commit(&offsets, CommitMode::Sync).unwrap();
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .unwrap();
    let view =
        brook_client::groups::describe(&consumer, &metadata, "dashboard", Duration::from_secs(10))
            .unwrap()
            .unwrap();
    drop(consumer);

    let group = format!("/v3/clusters/{id}/consumer-groups/dashboard");
    let (status, summary) = stack.get(&format!("{group}/lag-summary"));
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["kind"], "KafkaConsumerGroupLagSummary");
    assert_eq!(summary["total_lag"], view.total_lag());
    assert_eq!(summary["total_lag"], (15 - 5) + (15 - 12));
    assert_eq!(summary["max_lag"], 10);
    assert_eq!(summary["max_lag_partition_id"], 0);
    let (_, lags) = stack.get(&format!("{group}/lags"));
    let per: Vec<(i64, i64)> = lags["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["partition_id"].as_i64().unwrap(),
                l["lag"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(per, [(0, 10), (1, 3)]);
    let (status, g) = stack.get(&group);
    assert_eq!(status, 200, "{g}");
    assert_eq!(g["state"], "EMPTY");
    let (status, list) = stack.get(&format!("/v3/clusters/{id}/consumer-groups"));
    assert_eq!(status, 200);
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["consumer_group_id"] == "dashboard")
    );
    let (status, e) = stack.get(&format!("/v3/clusters/{id}/consumer-groups/nobody"));
    assert_eq!(status, 404, "{e}");

    // A live member (a v2 consumer instance): its assignments.
    let v2 = "application/vnd.kafka.v2+json";
    stack.post(
        "/consumers/live",
        v2,
        &json!({"name": "m", "format": "json", "auto.offset.reset": "earliest"}),
    );
    stack.post(
        "/consumers/live/instances/m/subscription",
        v2,
        &json!({"topics": ["rides"]}),
    );
    stack.read_all("/consumers/live/instances/m", "json", 1);
    let (_, consumers) = stack.get(&format!("/v3/clusters/{id}/consumer-groups/live/consumers"));
    let member = consumers["data"][0]["consumer_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(consumers["data"][0]["client_id"], "m", "{consumers}");
    let (status, assigned) = stack.get(&format!(
        "/v3/clusters/{id}/consumer-groups/live/consumers/{member}/assignments"
    ));
    assert_eq!(status, 200, "{assigned}");
    let mut partitions: Vec<i64> = assigned["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["partition_id"].as_i64().unwrap())
        .collect();
    partitions.sort_unstable();
    assert_eq!(partitions, [0, 1]);
}
