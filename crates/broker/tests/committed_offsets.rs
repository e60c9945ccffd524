//! Committed offsets with librdkafka: standalone commits (assign + commit), read back by
//! another consumer and after a restart, and stored in `__consumer_offsets` in Kafka's
//! documented key/value formats.

mod common;

use common::start;
use std::time::Duration;

use brook_broker::Broker;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

fn consumer(broker: &Broker, group: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", broker.local_addr().to_string())
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap()
}

fn committed(broker: &Broker, group: &str) -> Offset {
    let consumer = consumer(broker, group);
    let mut query = TopicPartitionList::new();
    query.add_partition("orders", 0);
    let found = consumer
        .committed_offsets(query, Duration::from_secs(10))
        .unwrap();
    found.find_partition("orders", 0).unwrap().offset()
}

/// Reads a big-endian i16-prefixed string at `at`, returning it and the position after it.
fn kafka_string(bytes: &[u8], at: usize) -> (String, usize) {
    let len = i16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize;
    (
        String::from_utf8(bytes[at + 2..at + 2 + len].to_vec()).unwrap(),
        at + 2 + len,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_commits_survive_restarts_in_kafkas_format() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path()).await;
    broker
        .context()
        .topics
        .create("orders", 1, Default::default(), false)
        .unwrap();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.local_addr().to_string())
        .create()
        .unwrap();
    for i in 0..20 {
        producer
            .send(
                FutureRecord::to("orders")
                    .key("k")
                    .payload(&format!("order-{i}")),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
    }
    drop(producer);

    assert_eq!(
        committed(&broker, "billing"),
        Offset::Invalid,
        "nothing committed yet"
    );
    let first = consumer(&broker, "billing");
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("orders", 0, Offset::Beginning)
        .unwrap();
    first.assign(&assignment).unwrap();
    let mut seen = 0;
    while seen < 12 {
        if let Some(m) = first.poll(Duration::from_millis(200)) {
            m.unwrap();
            seen += 1;
        }
    }
    let mut position = TopicPartitionList::new();
    position
        .add_partition_offset("orders", 0, Offset::Offset(12))
        .unwrap();
    first.commit(&position, CommitMode::Sync).unwrap();
    drop(first);
    assert_eq!(committed(&broker, "billing"), Offset::Offset(12));
    assert_eq!(committed(&broker, "other-group"), Offset::Invalid);

    broker.shutdown().await;
    let broker = start(tmp.path()).await;
    assert_eq!(
        committed(&broker, "billing"),
        Offset::Offset(12),
        "loaded from __consumer_offsets"
    );

    // A consumer resuming from the stored offset gets the 13th record next.
    let resumed = consumer(&broker, "billing");
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("orders", 0, Offset::Stored)
        .unwrap();
    resumed.assign(&assignment).unwrap();
    let next = loop {
        if let Some(m) = resumed.poll(Duration::from_millis(200)) {
            break m.unwrap().detach();
        }
    };
    assert_eq!(next.offset(), 12);
    assert_eq!(next.payload(), Some(&b"order-12"[..]));
    drop(resumed);

    // A plain consumer of __consumer_offsets sees Kafka's documented schemas.
    let raw = consumer(&broker, "reader");
    let metadata = raw
        .fetch_metadata(Some("__consumer_offsets"), Duration::from_secs(5))
        .unwrap();
    let partitions = metadata.topics()[0].partitions().len() as i32;
    assert_eq!(partitions, 50);
    let mut all = TopicPartitionList::new();
    for p in 0..partitions {
        all.add_partition_offset("__consumer_offsets", p, Offset::Beginning)
            .unwrap();
    }
    raw.assign(&all).unwrap();
    let record = loop {
        if let Some(m) = raw.poll(Duration::from_millis(200)) {
            break m.unwrap().detach();
        }
    };
    let key = record.key().unwrap();
    assert_eq!(
        i16::from_be_bytes([key[0], key[1]]),
        1,
        "OffsetCommitKey version 1"
    );
    let (group, at) = kafka_string(key, 2);
    let (topic, at) = kafka_string(key, at);
    let partition = i32::from_be_bytes(key[at..at + 4].try_into().unwrap());
    assert_eq!(
        (group.as_str(), topic.as_str(), partition),
        ("billing", "orders", 0)
    );
    let value = record.payload().unwrap();
    assert_eq!(
        i16::from_be_bytes([value[0], value[1]]),
        3,
        "OffsetCommitValue version 3"
    );
    assert_eq!(
        i64::from_be_bytes(value[2..10].try_into().unwrap()),
        12,
        "offset"
    );
    let (metadata, at) = kafka_string(value, 14);
    assert_eq!(metadata, "");
    let commit_timestamp = i64::from_be_bytes(value[at..at + 8].try_into().unwrap());
    assert!(commit_timestamp > 1_700_000_000_000);
    // Kafka's partitioning: abs(String.hashCode("billing")) % 50.
    let hash = "billing"
        .chars()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32));
    assert_eq!(record.partition(), hash.wrapping_abs() % 50);
    drop(raw);
    broker.shutdown().await;
}
