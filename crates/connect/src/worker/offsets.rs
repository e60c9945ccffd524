//! Connectors' offsets. A source's are in the offsets topic (Kafka Connect's format: key
//! `["<connector>", {partition}]`, value `{offset}`); a sink's are its consumer group's
//! (`connect-<name>`) committed offsets.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use brook_client::{Quiet, block_on};
use rdkafka::Message as _;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;
use serde_json::{Value as Json, json};

use super::WorkerConfig;
use crate::data::Config;
use crate::plugin::{ConnectError, OffsetReader};

/// Reads the offsets topic once: the last offset of each (connector, partition).
pub(crate) struct OffsetStore {
    /// By the partition's JSON text: (partition, offset).
    offsets: HashMap<String, (Json, Json)>,
}

impl OffsetStore {
    pub(crate) fn read(
        worker: &WorkerConfig,
        connector: &str,
    ) -> Result<OffsetStore, ConnectError> {
        let fail = |e: &dyn std::fmt::Display| {
            ConnectError::new(format!("cannot read the offsets topic: {e}"))
        };
        let consumer: BaseConsumer<Quiet> = worker
            .cluster
            .create(
                &[
                    ("enable.auto.commit", "false"),
                    ("group.id", "connect-offsets-reader"),
                ],
                Quiet,
            )
            .map_err(|e| fail(&e))?;
        let metadata = worker
            .cluster
            .metadata(consumer.client(), Some(&worker.offset_topic))
            .map_err(|e| fail(&e))?;
        let partitions = metadata
            .topics()
            .first()
            .map_or(0, |t| t.partitions().len()) as i32;
        let mut ends = HashMap::new();
        let mut assignment = rdkafka::TopicPartitionList::new();
        for p in 0..partitions {
            let (_, high) = consumer
                .fetch_watermarks(&worker.offset_topic, p, worker.cluster.timeout)
                .map_err(|e| fail(&e))?;
            if high > 0 {
                ends.insert(p, high);
                assignment
                    .add_partition_offset(&worker.offset_topic, p, rdkafka::Offset::Beginning)
                    .map_err(|e| fail(&e))?;
            }
        }
        let mut offsets = HashMap::new();
        if !ends.is_empty() {
            consumer.assign(&assignment).map_err(|e| fail(&e))?;
            let deadline = Instant::now() + Duration::from_secs(30);
            while !ends.is_empty() && Instant::now() < deadline {
                if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                    let key: Option<Json> = m.key().and_then(|k| serde_json::from_slice(k).ok());
                    if let Some(Json::Array(parts)) = key {
                        if parts.first().and_then(Json::as_str) == Some(connector) {
                            let value = m
                                .payload()
                                .and_then(|p| serde_json::from_slice::<Json>(p).ok());
                            let partition = parts.get(1).cloned().unwrap_or(Json::Null);
                            let k = partition.to_string();
                            match value {
                                Some(v) => offsets.insert(k, (partition, v)),
                                None => offsets.remove(&k),
                            };
                        }
                    }
                }
                // The end is reached when the position passes it: the last entries may be
                // transaction markers, which are never returned.
                if let Ok(positions) = consumer.position() {
                    for e in positions.elements() {
                        if let rdkafka::Offset::Offset(at) = e.offset() {
                            if ends.get(&e.partition()).is_some_and(|end| at >= *end) {
                                ends.remove(&e.partition());
                            }
                        }
                    }
                }
            }
        }
        if !ends.is_empty() {
            return Err(ConnectError::new(
                "cannot read the offsets topic: timed out before its end",
            ));
        }
        Ok(OffsetStore { offsets })
    }

    /// Every (partition, offset), in the partitions' order.
    pub(crate) fn entries(&self) -> Vec<(Json, Json)> {
        let mut entries: Vec<(&String, &(Json, Json))> = self.offsets.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        entries.into_iter().map(|(_, e)| e.clone()).collect()
    }
}

/// The record key of a source partition's offset.
pub(crate) fn source_key(connector: &str, partition: &Json) -> String {
    json!([connector, partition]).to_string()
}

/// A sink connector's consumer group.
pub(crate) fn sink_group(connector: &str) -> String {
    format!("connect-{connector}")
}

/// A consumer of the sink connector's group that never joins it (for reading and writing
/// its committed offsets while the connector is stopped).
fn group_client(worker: &WorkerConfig, connector: &str) -> Result<BaseConsumer<Quiet>, String> {
    worker
        .cluster
        .create(
            &[
                ("group.id", sink_group(connector).as_str()),
                ("enable.auto.commit", "false"),
            ],
            Quiet,
        )
        .map_err(|e| e.to_string())
}

/// The partitions of the topics a sink connector reads (`topics` or `topics.regex`).
fn sink_partitions(
    worker: &WorkerConfig,
    consumer: &BaseConsumer<Quiet>,
    config: &Config,
) -> Result<Vec<(String, i32)>, String> {
    let metadata = worker
        .cluster
        .metadata(consumer.client(), None)
        .map_err(|e| e.to_string())?;
    let listed: Vec<&str> = config
        .get("topics")
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let regex = match config.get("topics.regex").filter(|r| !r.trim().is_empty()) {
        Some(r) => Some(
            regex::Regex::new(&format!("^(?:{r})$")).map_err(|e| format!("topics.regex: {e}"))?,
        ),
        None => None,
    };
    let mut partitions = Vec::new();
    for t in metadata.topics() {
        if listed.contains(&t.name()) || regex.as_ref().is_some_and(|r| r.is_match(t.name())) {
            for p in t.partitions() {
                partitions.push((t.name().to_string(), p.id()));
            }
        }
    }
    partitions.sort();
    Ok(partitions)
}

/// A sink connector's committed offsets: `{"kafka_topic", "kafka_partition"}` →
/// `{"kafka_offset"}` (KIP-875).
pub(crate) fn sink_offsets(
    worker: &WorkerConfig,
    connector: &str,
    config: &Config,
) -> Result<Vec<(Json, Json)>, String> {
    let consumer = group_client(worker, connector)?;
    let mut list = rdkafka::TopicPartitionList::new();
    for (topic, partition) in sink_partitions(worker, &consumer, config)? {
        list.add_partition(&topic, partition);
    }
    if list.count() == 0 {
        return Ok(Vec::new());
    }
    let committed = consumer
        .committed_offsets(list, worker.cluster.timeout)
        .map_err(|e| e.to_string())?;
    Ok(committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            rdkafka::Offset::Offset(o) => Some((
                json!({"kafka_topic": e.topic(), "kafka_partition": e.partition()}),
                json!({ "kafka_offset": o }),
            )),
            _ => None,
        })
        .collect())
}

/// Commits offsets for a stopped sink connector's group.
pub(crate) fn commit_sink_offsets(
    worker: &WorkerConfig,
    connector: &str,
    offsets: &[(String, i32, i64)],
) -> Result<(), String> {
    let consumer = group_client(worker, connector)?;
    let mut list = rdkafka::TopicPartitionList::new();
    for (topic, partition, offset) in offsets {
        list.add_partition_offset(topic, *partition, rdkafka::Offset::Offset(*offset))
            .map_err(|e| e.to_string())?;
    }
    consumer
        .commit(&list, rdkafka::consumer::CommitMode::Sync)
        .map_err(|e| e.to_string())
}

/// Deletes a stopped sink connector's group, and with it its committed offsets.
pub(crate) fn delete_sink_group(worker: &WorkerConfig, connector: &str) -> Result<(), String> {
    let admin: AdminClient<Quiet> = worker
        .cluster
        .create(&[], Quiet)
        .map_err(|e| e.to_string())?;
    let group = sink_group(connector);
    let results = block_on(admin.delete_groups(&[group.as_str()], &AdminOptions::new()))
        .map_err(|e| e.to_string())?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::GroupIdNotFound)) => {}
            Err((_, code)) => return Err(format!("cannot delete the group {group}: {code}")),
        }
    }
    Ok(())
}

impl OffsetReader for OffsetStore {
    fn offset(&self, partition: &Json) -> Option<Json> {
        self.offsets
            .get(&partition.to_string())
            .map(|(_, o)| o.clone())
    }
}
