//! Avro, JSON Schema and Protobuf serdes through a real schema registry (Brook's, in process,
//! on an in-process broker): rides written in Avro as Confluent's serializer frames them are
//! read by a topology, which writes summaries as Protobuf and as JSON Schema; the registry
//! client reads those back. A value that breaks its JSON Schema stops the task; a record that
//! is not in Confluent's framing is skipped under log-and-continue.

#[path = "common/cluster.rs"]
mod cluster;
use std::sync::Arc;

use brook_registry::client::RegistryClient;
use brook_registry::format::SchemaType;
use brook_registry::{RegistryConfig, RegistryServer};
use brook_streams::dsl::{Consumed, DeserializationHandler, Produced, StreamsBuilder};
use brook_streams::serdes::Serdes;
use brook_streams::test_driver::TopologyTestDriver;
use brook_streams::topology::StreamsError;
use serde_json::json;

const RIDE_AVRO: &str = r#"{"type":"record","name":"Ride","namespace":"rides","fields":[
  {"name":"pu_location_id","type":"long"},
  {"name":"total_amount","type":"double"}]}"#;

const SUMMARY_PROTO: &str = r#"syntax = "proto3";
package rides;
message Summary {
  int64 pu_location_id = 1;
  string size = 2;
}
"#;

const SUMMARY_JSON_SCHEMA: &str = r#"{"type":"object","properties":{
  "pu_location_id":{"type":"integer","minimum":1},
  "size":{"type":"string"}},"required":["pu_location_id","size"]}"#;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Ride {
    pu_location_id: i64,
    total_amount: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Summary {
    pu_location_id: i64,
    size: String,
}

fn topology(client: &Arc<RegistryClient>) -> brook_streams::topology::Topology {
    let builder = StreamsBuilder::new();
    let summaries = builder
        .stream(
            "rides-avro",
            Consumed::with(
                Serdes::optional(Serdes::string()),
                Serdes::avro::<Ride>(client, RIDE_AVRO),
            )
            .with_deserialization_handler(DeserializationHandler::LogAndContinue),
        )
        .map_values(|ride| Summary {
            pu_location_id: ride.pu_location_id,
            size: if ride.total_amount > 20.0 {
                "large"
            } else {
                "small"
            }
            .to_string(),
        });
    summaries.to(
        "summaries-protobuf",
        Produced::with(
            Serdes::optional(Serdes::string()),
            Serdes::protobuf::<Summary>(client, SUMMARY_PROTO, Some("rides.Summary")),
        ),
    );
    summaries.to(
        "summaries-json-schema",
        Produced::with(
            Serdes::optional(Serdes::string()),
            Serdes::json_schema::<Summary>(client, SUMMARY_JSON_SCHEMA),
        ),
    );
    builder.build()
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_formats_are_read_and_written_in_confluents_framing() {
    let dir = tempfile::tempdir().unwrap();
    let broker = cluster::broker(dir.path()).await;
    let registry = RegistryServer::start(RegistryConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        cluster: brook_client::ClusterSettings::new(broker.local_addr().to_string()),
        topic: "_schemas".into(),
        advertised_url: None,
    })
    .await
    .unwrap();
    let url = format!("http://{}", registry.local_addr());
    tokio::task::spawn_blocking(move || {
        let client = Arc::new(RegistryClient::new(&url));
        let driver = TopologyTestDriver::new(topology(&client));
        let input = driver.input_topic(
            "rides-avro",
            Serdes::optional(Serdes::string()),
            Serdes::bytes(),
        );
        // As Confluent's KafkaAvroSerializer writes them (the registry client frames them).
        for (location, amount) in [(132, 25.5), (48, 7.0)] {
            let bytes = client
                .serialize(
                    "rides-avro-value",
                    SchemaType::Avro,
                    RIDE_AVRO,
                    None,
                    &json!({"pu_location_id": location, "total_amount": amount}),
                )
                .unwrap();
            input
                .pipe_input(Some(location.to_string()), bytes, 0)
                .unwrap();
        }
        // Not in Confluent's framing: skipped (log and continue).
        input
            .pipe_input(Some("x".to_string()), b"plain text".to_vec(), 0)
            .unwrap();
        assert_eq!(driver.skipped_records(), 1);

        for topic in ["summaries-protobuf", "summaries-json-schema"] {
            let out = driver
                .output_topic(topic, Serdes::optional(Serdes::string()), Serdes::bytes())
                .read_key_values_to_list()
                .unwrap();
            assert_eq!(out.len(), 2, "{topic}");
            let decoded: Vec<serde_json::Value> = out
                .iter()
                .map(|(_, bytes)| {
                    assert_eq!(bytes[0], 0, "Confluent's magic byte");
                    client.deserialize(bytes).unwrap()
                })
                .collect();
            let size = |v: &serde_json::Value| v["size"].as_str().unwrap().to_string();
            assert_eq!(
                decoded.iter().map(size).collect::<Vec<_>>(),
                ["large", "small"],
                "{topic}: {decoded:?}"
            );
            // Each output's schema is registered under its TopicNameStrategy subject.
            let (id, _) = client.latest(&format!("{topic}-value")).unwrap();
            assert_eq!(i32::from_be_bytes(out[0].1[1..5].try_into().unwrap()), id);
        }
        // The typed serdes read what they wrote.
        let bytes = client
            .serialize(
                "rides-avro-value",
                SchemaType::Avro,
                RIDE_AVRO,
                None,
                &json!({"pu_location_id": 7, "total_amount": 30.0}),
            )
            .unwrap();
        input.pipe_input(Some("7".to_string()), bytes, 0).unwrap();
        let want = vec![(
            Some("7".to_string()),
            Summary {
                pu_location_id: 7,
                size: "large".to_string(),
            },
        )];
        let protobuf = driver
            .output_topic(
                "summaries-protobuf",
                Serdes::optional(Serdes::string()),
                Serdes::protobuf::<Summary>(&client, SUMMARY_PROTO, Some("rides.Summary")),
            )
            .read_key_values_to_list()
            .unwrap();
        assert_eq!(protobuf, want);
        let json_schema = driver
            .output_topic(
                "summaries-json-schema",
                Serdes::optional(Serdes::string()),
                Serdes::json_schema::<Summary>(&client, SUMMARY_JSON_SCHEMA),
            )
            .read_key_values_to_list()
            .unwrap();
        assert_eq!(json_schema, want);

        // A summary that breaks the JSON Schema (location 0 < minimum 1) stops the task.
        let bytes = client
            .serialize(
                "rides-avro-value",
                SchemaType::Avro,
                RIDE_AVRO,
                None,
                &json!({"pu_location_id": 0, "total_amount": 1.0}),
            )
            .unwrap();
        let failed = input.pipe_input(Some("0".to_string()), bytes, 0);
        assert!(
            matches!(&failed, Err(StreamsError::Serde(e)) if e.serde == "json-schema"),
            "{failed:?}"
        );
    })
    .await
    .unwrap();
    registry.shutdown().await;
    broker.shutdown().await;
}
