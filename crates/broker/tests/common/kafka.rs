//! Reading topics back with librdkafka (the `rdkafka` crate), shared by the broker's tests and
//! the `brook` crate's (which include this file by path).
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

/// Assigns partitions `0..partitions` of `topic` to `consumer`, from the beginning.
pub fn assign_from_beginning(consumer: &BaseConsumer, topic: &str, partitions: i32) {
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment
            .add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
}

/// Every record value of `topic` (partitions `0..partitions`) from the beginning to the end,
/// at `isolation` ("read_committed" or "read_uncommitted"), as (partition, value) in
/// partition order, then offset order.
pub fn read_to_end(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    isolation: &str,
) -> Vec<(i32, String)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("reader-{isolation}-{topic}"))
        .set("isolation.level", isolation)
        .set("enable.partition.eof", "true")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    assign_from_beginning(&consumer, topic, partitions);
    let mut by_partition: HashMap<i32, Vec<String>> = HashMap::new();
    let mut at_end = HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while at_end.len() < partitions as usize {
        assert!(Instant::now() < deadline, "reading {topic} timed out");
        match consumer.poll(Duration::from_millis(200)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            Some(Err(e)) => panic!("consume error: {e}"),
            Some(Ok(m)) => {
                at_end.remove(&m.partition());
                let value = String::from_utf8(m.payload().unwrap().to_vec()).unwrap();
                by_partition.entry(m.partition()).or_default().push(value);
            }
        }
    }
    (0..partitions)
        .flat_map(|p| {
            by_partition
                .remove(&p)
                .unwrap_or_default()
                .into_iter()
                .map(move |v| (p, v))
        })
        .collect()
}

/// Creates `name` with `partitions` partitions (replication factor 1) through the admin API.
pub async fn create_topic(bootstrap: &str, name: &str, partitions: i32) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let results = admin
        .create_topics(
            &[NewTopic::new(name, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}
