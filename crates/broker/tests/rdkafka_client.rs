//! The broker against librdkafka (the `rdkafka` crate): admin, produce with every codec and
//! acks setting, consume back byte-identical, ListOffsets by timestamp.

mod common;

use common::start;
use std::time::Duration;

use brook_broker::Broker;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

fn client_config(broker: &Broker) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", broker.local_addr().to_string());
    config
}

async fn create_topic(broker: &Broker, name: &str, partitions: i32) {
    common::kafka::create_topic(&broker.local_addr().to_string(), name, partitions).await;
}

/// Consumes `count` messages from every partition of `topic` from the beginning.
fn consume_all(
    broker: &Broker,
    topic: &str,
    partitions: i32,
    count: usize,
) -> Vec<rdkafka::message::OwnedMessage> {
    // Groups arrive with issue 4: assign partitions explicitly and never commit.
    let consumer: BaseConsumer = client_config(broker)
        .set("group.id", "unused")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    common::kafka::assign_from_beginning(&consumer, topic, partitions);
    let mut messages = Vec::with_capacity(count);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while messages.len() < count && std::time::Instant::now() < deadline {
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            messages.push(message.unwrap().detach());
        }
    }
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_and_consume_every_codec_and_acks_setting() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path()).await;
    // 3 acks settings x 34,000 = 102,000 messages per codec.
    const PER_RUN: usize = 34_000;
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        for acks in ["0", "1", "all"] {
            let topic = format!("rides-{codec}-acks-{acks}");
            create_topic(&broker, &topic, 2).await;
            let producer: FutureProducer = client_config(&broker)
                .set("compression.type", codec)
                .set("acks", acks)
                .set("linger.ms", "5")
                .create()
                .unwrap();
            let mut sends = Vec::with_capacity(PER_RUN);
            for i in 0..PER_RUN {
                let key = format!("vendor-{}", i % 3);
                let value = format!(
                    "{i},2020-07-01 00:{:02}:00,{codec},{}",
                    i % 60,
                    "x".repeat(i % 200)
                );
                let record = FutureRecord::to(&topic)
                    .key(&key)
                    .payload(&value)
                    .timestamp(1_600_000_000_000 + i as i64)
                    .headers(OwnedHeaders::new().insert(Header {
                        key: "seq",
                        value: Some(&i.to_string()),
                    }));
                sends.push(producer.send_result(record).unwrap());
            }
            for send in sends {
                send.await.unwrap().unwrap();
            }
            let messages = consume_all(&broker, &topic, 2, PER_RUN);
            assert_eq!(messages.len(), PER_RUN, "{topic}");
            let mut seen = vec![false; PER_RUN];
            for m in &messages {
                let i: usize = std::str::from_utf8(m.headers().unwrap().get(0).value.unwrap())
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(!seen[i], "duplicate {i} in {topic}");
                seen[i] = true;
                let value = format!(
                    "{i},2020-07-01 00:{:02}:00,{codec},{}",
                    i % 60,
                    "x".repeat(i % 200)
                );
                assert_eq!(m.payload(), Some(value.as_bytes()));
                assert_eq!(m.key(), Some(format!("vendor-{}", i % 3).as_bytes()));
                assert_eq!(
                    m.timestamp().to_millis(),
                    Some(1_600_000_000_000 + i as i64)
                );
            }
        }
    }
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_for_times_and_watermarks() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path()).await;
    create_topic(&broker, "times", 1).await;
    let producer: FutureProducer = client_config(&broker).create().unwrap();
    for i in 0..100i64 {
        producer
            .send(
                FutureRecord::to("times")
                    .payload("x")
                    .key("k")
                    .timestamp(1_000_000 + i * 10),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
    }
    let consumer: BaseConsumer = client_config(&broker).create().unwrap();
    let (low, high) = consumer
        .fetch_watermarks("times", 0, Duration::from_secs(5))
        .unwrap();
    assert_eq!((low, high), (0, 100));
    let mut query = TopicPartitionList::new();
    query
        .add_partition_offset("times", 0, Offset::Offset(1_000_255))
        .unwrap();
    let found = consumer
        .offsets_for_times(query, Duration::from_secs(5))
        .unwrap();
    assert_eq!(
        found.find_partition("times", 0).unwrap().offset(),
        Offset::Offset(26)
    );
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_auto_creates_topics_and_admin_deletes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path()).await;
    let consumer: BaseConsumer = client_config(&broker)
        .set("allow.auto.create.topics", "true")
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some("auto-made"), Duration::from_secs(5))
        .unwrap();
    assert_eq!(metadata.topics()[0].name(), "auto-made");
    assert_eq!(metadata.topics()[0].partitions().len(), 1);
    assert_eq!(
        metadata.brokers()[0].port(),
        i32::from(broker.local_addr().port())
    );

    let admin: AdminClient<DefaultClientContext> = client_config(&broker).create().unwrap();
    let results = admin
        .delete_topics(&["auto-made"], &AdminOptions::new())
        .await
        .unwrap();
    results[0].as_ref().unwrap();
    let again = admin
        .create_topics(
            &[NewTopic::new("bad name!", 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    assert!(again[0].is_err());
    let exists = admin
        .create_topics(
            &[NewTopic::new("twice", 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    exists[0].as_ref().unwrap();
    let twice = admin
        .create_topics(
            &[NewTopic::new("twice", 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        twice[0].as_ref().unwrap_err().1,
        rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists
    );
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_configs_partitions_and_delete_records() {
    use rdkafka::admin::{
        AlterConfig, ConfigSource, NewPartitions, OwnedResourceSpecifier, ResourceSpecifier,
    };
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path()).await;
    let admin: AdminClient<DefaultClientContext> = client_config(&broker).create().unwrap();
    let options = AdminOptions::new();
    let new_topic =
        NewTopic::new("admin", 1, TopicReplication::Fixed(1)).set("retention.ms", "3600000");
    admin.create_topics(&[new_topic], &options).await.unwrap()[0]
        .as_ref()
        .unwrap();

    let described = admin
        .describe_configs(&[ResourceSpecifier::Topic("admin")], &options)
        .await
        .unwrap();
    let resource = described[0].as_ref().unwrap();
    assert_eq!(
        resource.specifier,
        OwnedResourceSpecifier::Topic("admin".into())
    );
    let retention = resource.get("retention.ms").unwrap();
    assert_eq!(retention.value.as_deref(), Some("3600000"));
    assert_eq!(retention.source, ConfigSource::DynamicTopic);
    let segment = resource.get("segment.bytes").unwrap();
    assert_eq!(segment.value.as_deref(), Some("1073741824"));
    assert_eq!(segment.source, ConfigSource::Default);

    let alter =
        AlterConfig::new(ResourceSpecifier::Topic("admin")).set("cleanup.policy", "compact");
    admin.alter_configs(&[alter], &options).await.unwrap()[0]
        .as_ref()
        .unwrap();
    let described = admin
        .describe_configs(&[ResourceSpecifier::Topic("admin")], &options)
        .await
        .unwrap();
    let resource = described[0].as_ref().unwrap();
    assert_eq!(
        resource.get("cleanup.policy").unwrap().value.as_deref(),
        Some("compact")
    );
    // AlterConfigs replaces the whole set: the earlier retention.ms override is gone.
    assert_eq!(
        resource.get("retention.ms").unwrap().source,
        ConfigSource::Default
    );
    let bad = AlterConfig::new(ResourceSpecifier::Topic("admin")).set("cleanup.policy", "shred");
    // rdkafka-rs reports per-resource errors of AlterConfigs as Ok (the Python test checks
    // the INVALID_CONFIG code itself); the value must not have changed.
    admin.alter_configs(&[bad], &options).await.unwrap();
    let described = admin
        .describe_configs(&[ResourceSpecifier::Topic("admin")], &options)
        .await
        .unwrap();
    let resource = described[0].as_ref().unwrap();
    assert_eq!(
        resource.get("cleanup.policy").unwrap().value.as_deref(),
        Some("compact")
    );

    let broker_configs = admin
        .describe_configs(&[ResourceSpecifier::Broker(1)], &options)
        .await
        .unwrap();
    let broker_resource = broker_configs[0].as_ref().unwrap();
    assert_eq!(
        broker_resource
            .get("num.partitions")
            .unwrap()
            .value
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        broker_resource
            .get("log.retention.ms")
            .unwrap()
            .value
            .as_deref(),
        Some("604800000")
    );

    // Dynamic broker defaults reach topics without an override of their own.
    let broker_alter =
        AlterConfig::new(ResourceSpecifier::Broker(1)).set("log.retention.ms", "1234");
    admin
        .alter_configs(&[broker_alter], &options)
        .await
        .unwrap()[0]
        .as_ref()
        .unwrap();
    let described = admin
        .describe_configs(
            &[
                ResourceSpecifier::Topic("admin"),
                ResourceSpecifier::Broker(1),
            ],
            &options,
        )
        .await
        .unwrap();
    let topic_retention = described[0].as_ref().unwrap().get("retention.ms").unwrap();
    assert_eq!(topic_retention.value.as_deref(), Some("1234"));
    assert_eq!(topic_retention.source, ConfigSource::DynamicBroker);
    let broker_retention = described[1]
        .as_ref()
        .unwrap()
        .get("log.retention.ms")
        .unwrap();
    assert_eq!(broker_retention.value.as_deref(), Some("1234"));
    assert_eq!(broker_retention.source, ConfigSource::DynamicBroker);
    assert_eq!(
        broker.context().topics.get("admin").unwrap().partitions[0]
            .log
            .config()
            .retention_ms,
        1234
    );

    admin
        .create_partitions(&[NewPartitions::new("admin", 3)], &options)
        .await
        .unwrap()[0]
        .as_ref()
        .unwrap();
    let consumer: BaseConsumer = client_config(&broker).create().unwrap();
    let metadata = consumer
        .fetch_metadata(Some("admin"), Duration::from_secs(5))
        .unwrap();
    assert_eq!(metadata.topics()[0].partitions().len(), 3);
    assert!(
        admin
            .create_partitions(&[NewPartitions::new("admin", 2)], &options)
            .await
            .unwrap()[0]
            .is_err()
    );

    let producer: FutureProducer = client_config(&broker).create().unwrap();
    for i in 0..10 {
        producer
            .send(
                FutureRecord::to("admin")
                    .partition(0)
                    .key("k")
                    .payload(&format!("v{i}")),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
    }
    let mut before = TopicPartitionList::new();
    before
        .add_partition_offset("admin", 0, Offset::Offset(4))
        .unwrap();
    let deleted = admin.delete_records(&before, &options).await.unwrap();
    assert_eq!(
        deleted.find_partition("admin", 0).unwrap().offset(),
        Offset::Offset(4)
    );
    let (low, high) = consumer
        .fetch_watermarks("admin", 0, Duration::from_secs(5))
        .unwrap();
    assert_eq!((low, high), (4, 10));
    broker.shutdown().await;
}
