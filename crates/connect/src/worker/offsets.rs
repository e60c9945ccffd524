//! Source offsets in the offsets topic (Kafka Connect's format: key `["<connector>",
//! {partition}]`, value `{offset}`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use brook_client::Quiet;
use rdkafka::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::Value as Json;

use super::WorkerConfig;
use crate::plugin::{ConnectError, OffsetReader};

/// Reads the offsets topic once: the last offset of each (connector, partition).
pub(crate) struct OffsetStore {
    offsets: HashMap<String, Json>,
}

impl OffsetStore {
    pub(crate) fn read(worker: &WorkerConfig, connector: &str) -> Result<OffsetStore, ConnectError> {
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
                            let k = parts.get(1).cloned().unwrap_or(Json::Null).to_string();
                            match value {
                                Some(v) => offsets.insert(k, v),
                                None => offsets.remove(&k),
                            };
                        }
                    }
                    if ends
                        .get(&m.partition())
                        .is_some_and(|end| m.offset() + 1 >= *end)
                    {
                        ends.remove(&m.partition());
                    }
                }
            }
        }
        Ok(OffsetStore { offsets })
    }
}

impl OffsetReader for OffsetStore {
    fn offset(&self, partition: &Json) -> Option<Json> {
        self.offsets.get(&partition.to_string()).cloned()
    }
}
