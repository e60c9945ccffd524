//! Topic administration librdkafka does not offer: configs changed one by one
//! (IncrementalAlterConfigs, KIP-339, where librdkafka's AlterConfigs would reset every config
//! not named) and partition sizes on disk (DescribeLogDirs). `brook topic` and the console
//! share them; they work against any Kafka cluster.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::{DescribeLogDirsRequest, IncrementalAlterConfigsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use rdkafka::metadata::Metadata;

use crate::wire::{BrokerConnection, WireError};

/// A partition as metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// Its id.
    pub id: i32,
    /// The leader broker.
    pub leader: i32,
    /// The replica brokers.
    pub replicas: Vec<i32>,
    /// The in-sync replicas.
    pub isr: Vec<i32>,
}

/// The partitions of `topic` in `metadata`, by id; `None` when it does not exist (an
/// error for it, or no partitions).
pub fn partitions(metadata: &Metadata, topic: &str) -> Option<Vec<PartitionInfo>> {
    let found = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())?;
    let mut partitions: Vec<PartitionInfo> = found
        .partitions()
        .iter()
        .map(|p| PartitionInfo {
            id: p.id(),
            leader: p.leader(),
            replicas: p.replicas().to_vec(),
            isr: p.isr().to_vec(),
        })
        .collect();
    partitions.sort_by_key(|p| p.id);
    Some(partitions)
}

/// `host:port` of the first broker `metadata` lists, for requests any broker answers.
pub fn any_broker(metadata: &Metadata) -> Option<String> {
    metadata
        .brokers()
        .first()
        .map(|b| format!("{}:{}", b.host(), b.port()))
}

/// Why a change was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TopicAdminError {
    /// The cluster refused it (a bad value, an unknown config, …): its message.
    #[error("{0}")]
    Refused(String),
    /// No broker answered.
    #[error("{0}")]
    Unreachable(String),
}

impl From<WireError> for TopicAdminError {
    fn from(e: WireError) -> Self {
        TopicAdminError::Unreachable(e.to_string())
    }
}

/// Sets the configs in `set` and returns those in `delete` to their defaults, on `topic`;
/// every other config stays as it is.
pub fn alter_configs(
    metadata: &Metadata,
    topic: &str,
    set: &[(&str, &str)],
    delete: &[&str],
    timeout: Duration,
) -> Result<(), TopicAdminError> {
    let configs = set
        .iter()
        .map(|(k, v)| {
            AlterableConfig::default()
                .with_name(StrBytes::from_string(k.to_string()))
                .with_config_operation(0)
                .with_value(Some(StrBytes::from_string(v.to_string())))
        })
        .chain(delete.iter().map(|k| {
            AlterableConfig::default()
                .with_name(StrBytes::from_string(k.to_string()))
                .with_config_operation(1)
        }))
        .collect();
    let request = IncrementalAlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(StrBytes::from_string(topic.to_string()))
            .with_configs(configs),
    ]);
    let broker = any_broker(metadata)
        .ok_or_else(|| TopicAdminError::Unreachable("the cluster lists no brokers".into()))?;
    let mut connection = BrokerConnection::open(&broker, timeout)?;
    let version = connection.version::<IncrementalAlterConfigsRequest>()?;
    let response = connection.send(&request, version)?;
    for r in &response.responses {
        if r.error_code != 0 {
            let message = r
                .error_message
                .as_ref()
                .map_or_else(|| format!("error code {}", r.error_code), |m| m.to_string());
            return Err(TopicAdminError::Refused(format!(
                "cannot alter the configs of '{topic}': {message}"
            )));
        }
    }
    Ok(())
}

/// Bytes on disk per partition of `topic`, summed over the brokers' log dirs
/// (DescribeLogDirs). A partition no broker reported is absent.
pub fn partition_sizes(metadata: &Metadata, topic: &str, timeout: Duration) -> BTreeMap<i32, i64> {
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map(|t| t.partitions().iter().map(|p| p.id()).collect())
        .unwrap_or_default();
    let wanted = vec![
        DescribableLogDirTopic::default()
            .with_topic(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partitions(partitions),
    ];
    log_dir_sizes(metadata, Some(wanted), timeout)
        .into_iter()
        .filter(|((t, _), _)| t == topic)
        .map(|((_, p), size)| (p, size))
        .collect()
}

/// Bytes on disk per topic, every topic (one DescribeLogDirs per broker).
pub fn topic_sizes(metadata: &Metadata, timeout: Duration) -> BTreeMap<String, i64> {
    let mut sizes = BTreeMap::new();
    for ((topic, _), size) in log_dir_sizes(metadata, None, timeout) {
        *sizes.entry(topic).or_insert(0) += size;
    }
    sizes
}

/// (topic, partition) → bytes, summed over every broker's log dirs; `None` asks for all.
fn log_dir_sizes(
    metadata: &Metadata,
    topics: Option<Vec<DescribableLogDirTopic>>,
    timeout: Duration,
) -> BTreeMap<(String, i32), i64> {
    let mut sizes = BTreeMap::new();
    for broker in metadata.brokers() {
        let address = format!("{}:{}", broker.host(), broker.port());
        let answer = BrokerConnection::open(&address, timeout).and_then(|mut c| {
            let version = c.version::<DescribeLogDirsRequest>()?;
            let request = DescribeLogDirsRequest::default().with_topics(topics.clone());
            c.send(&request, version)
        });
        match answer {
            Ok(response) => {
                for dir in response.results.iter().filter(|d| d.error_code == 0) {
                    for t in &dir.topics {
                        for p in &t.partitions {
                            *sizes
                                .entry((t.name.to_string(), p.partition_index))
                                .or_insert(0) += p.partition_size;
                        }
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, %address, "DescribeLogDirs failed"),
        }
    }
    sizes
}
