//! What the console reads from and does to the cluster, through librdkafka's admin and
//! consumer clients (blocking calls; the API runs them off the async threads).

use std::time::Duration;

use brook_client::{ClusterSettings, Quiet, block_on};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde::Serialize;

/// A failure, with the HTTP status the API answers with.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ClusterError {
    /// 400, 404, 409, 502 (the cluster did not answer).
    pub status: u16,
    /// What went wrong, for people.
    pub message: String,
}

impl ClusterError {
    fn new(status: u16, message: impl Into<String>) -> Self {
        ClusterError {
            status,
            message: message.into(),
        }
    }

    fn unreachable(e: impl std::fmt::Display) -> Self {
        Self::new(502, format!("the cluster did not answer: {e}"))
    }
}

/// The cluster at a glance.
#[derive(Debug, Serialize)]
pub struct Overview {
    /// The cluster id.
    pub cluster_id: String,
    /// The brokers.
    pub brokers: Vec<Broker>,
    /// How many topics.
    pub topics: usize,
    /// How many partitions (every topic).
    pub partitions: usize,
    /// How many consumer groups.
    pub groups: usize,
}

/// A broker.
#[derive(Debug, Serialize)]
pub struct Broker {
    /// Its node id.
    pub id: i32,
    /// Its advertised host.
    pub host: String,
    /// Its port.
    pub port: i32,
}

/// A topic in the list.
#[derive(Debug, Serialize)]
pub struct TopicSummary {
    /// Its name.
    pub name: String,
    /// How many partitions.
    pub partitions: usize,
    /// Replicas per partition.
    pub replication_factor: usize,
    /// Records between each partition's log start and end.
    pub messages: i64,
    /// Whether it is internal (`_…`).
    pub internal: bool,
}

/// One partition of a topic.
#[derive(Debug, Serialize)]
pub struct PartitionDetail {
    /// Its number.
    pub partition: i32,
    /// The leader broker.
    pub leader: i32,
    /// The replica brokers.
    pub replicas: Vec<i32>,
    /// The in-sync replicas.
    pub isr: Vec<i32>,
    /// The first offset kept.
    pub log_start_offset: i64,
    /// The next offset to be written.
    pub log_end_offset: i64,
}

/// A config with its source.
#[derive(Debug, Serialize)]
pub struct ConfigEntry {
    /// Its name.
    pub name: String,
    /// Its value (None when unset or hidden).
    pub value: Option<String>,
    /// Where it comes from (Kafka's name).
    pub source: &'static str,
    /// Whether it can be changed.
    pub read_only: bool,
    /// Whether its value is secret.
    pub sensitive: bool,
}

/// A topic's page.
#[derive(Debug, Serialize)]
pub struct TopicDetail {
    /// Its name.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<PartitionDetail>,
    /// Its configs, with their sources.
    pub configs: Vec<ConfigEntry>,
}

/// What creating a topic takes.
#[derive(Debug, serde::Deserialize)]
pub struct NewTopicRequest {
    /// Its name.
    pub name: String,
    /// How many partitions (1 by default).
    #[serde(default = "one")]
    pub partitions: i32,
    /// Replicas per partition (1 by default).
    #[serde(default = "one")]
    pub replication_factor: i32,
    /// Topic configs (`retention.ms`, …).
    #[serde(default)]
    pub configs: std::collections::BTreeMap<String, String>,
}

fn one() -> i32 {
    1
}

/// The console's view of one cluster.
pub struct Cluster {
    settings: ClusterSettings,
    admin: AdminClient<Quiet>,
    consumer: BaseConsumer<Quiet>,
}

impl Cluster {
    /// Clients for `settings`' cluster (nothing is asked of it yet).
    pub fn new(settings: ClusterSettings) -> Result<Cluster, ClusterError> {
        let admin = settings
            .create(&[], Quiet)
            .map_err(|e| ClusterError::new(500, e.to_string()))?;
        let consumer = settings
            .create(
                &[
                    ("group.id", "brook-console"),
                    ("enable.auto.commit", "false"),
                ],
                Quiet,
            )
            .map_err(|e| ClusterError::new(500, e.to_string()))?;
        Ok(Cluster {
            settings,
            admin,
            consumer,
        })
    }

    fn options(&self) -> AdminOptions {
        AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)))
    }

    /// Brokers and counts.
    pub fn overview(&self) -> Result<Overview, ClusterError> {
        let metadata = self
            .settings
            .metadata(self.admin.inner(), None)
            .map_err(ClusterError::unreachable)?;
        let groups = self
            .consumer
            .fetch_group_list(None, self.settings.timeout)
            .map_err(ClusterError::unreachable)?;
        Ok(Overview {
            cluster_id: self
                .admin
                .inner()
                .fetch_cluster_id(self.settings.timeout)
                .unwrap_or_default(),
            brokers: metadata
                .brokers()
                .iter()
                .map(|b| Broker {
                    id: b.id(),
                    host: b.host().to_string(),
                    port: b.port(),
                })
                .collect(),
            topics: metadata.topics().len(),
            partitions: metadata.topics().iter().map(|t| t.partitions().len()).sum(),
            groups: groups.groups().len(),
        })
    }

    /// Every topic with its partition count and messages.
    pub fn topics(&self) -> Result<Vec<TopicSummary>, ClusterError> {
        let metadata = self
            .settings
            .metadata(self.admin.inner(), None)
            .map_err(ClusterError::unreachable)?;
        let mut topics = Vec::new();
        for t in metadata.topics() {
            let mut messages = 0;
            for p in t.partitions() {
                if let Ok((low, high)) =
                    self.consumer
                        .fetch_watermarks(t.name(), p.id(), self.settings.timeout)
                {
                    messages += high - low;
                }
            }
            topics.push(TopicSummary {
                name: t.name().to_string(),
                partitions: t.partitions().len(),
                replication_factor: t.partitions().first().map_or(0, |p| p.replicas().len()),
                messages,
                internal: t.name().starts_with('_'),
            });
        }
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(topics)
    }

    /// One topic: partitions with offsets and leaders, configs with their sources.
    pub fn topic(&self, name: &str) -> Result<TopicDetail, ClusterError> {
        // Asked through the consumer, which never makes the broker auto-create the topic.
        let metadata = self
            .settings
            .metadata(self.consumer.client(), Some(name))
            .map_err(ClusterError::unreachable)?;
        let topic = metadata
            .topics()
            .iter()
            .find(|t| t.name() == name && t.error().is_none() && !t.partitions().is_empty())
            .ok_or_else(|| ClusterError::new(404, format!("Topic {name} not found")))?;
        let mut partitions = Vec::new();
        for p in topic.partitions() {
            let (low, high) = self
                .consumer
                .fetch_watermarks(name, p.id(), self.settings.timeout)
                .map_err(ClusterError::unreachable)?;
            partitions.push(PartitionDetail {
                partition: p.id(),
                leader: p.leader(),
                replicas: p.replicas().to_vec(),
                isr: p.isr().to_vec(),
                log_start_offset: low,
                log_end_offset: high,
            });
        }
        let described = block_on(
            self.admin
                .describe_configs(&[ResourceSpecifier::Topic(name)], &self.options()),
        )
        .map_err(ClusterError::unreachable)?;
        let mut configs = Vec::new();
        for resource in described.into_iter().flatten() {
            for e in resource.entries {
                configs.push(ConfigEntry {
                    name: e.name.clone(),
                    value: e.value.clone(),
                    source: brook_client::config_source_name(&e.source),
                    read_only: e.is_read_only,
                    sensitive: e.is_sensitive,
                });
            }
        }
        configs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(TopicDetail {
            name: name.to_string(),
            partitions,
            configs,
        })
    }

    /// Creates a topic; the cluster's error (a bad name, a bad config) is a 400, one that
    /// exists a 409.
    pub fn create_topic(&self, request: &NewTopicRequest) -> Result<(), ClusterError> {
        if request.partitions < 1 {
            return Err(ClusterError::new(
                400,
                format!("partitions must be at least 1, not {}", request.partitions),
            ));
        }
        let topic = request.configs.iter().fold(
            NewTopic::new(
                &request.name,
                request.partitions,
                TopicReplication::Fixed(request.replication_factor),
            ),
            |t, (k, v)| t.set(k, v),
        );
        let results = block_on(self.admin.create_topics(&[topic], &self.options()))
            .map_err(ClusterError::unreachable)?;
        for r in results {
            if let Err((_, code)) = r {
                let status = match code {
                    rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists => 409,
                    _ => 400,
                };
                return Err(ClusterError::new(
                    status,
                    format!("cannot create topic {}: {code}", request.name),
                ));
            }
        }
        Ok(())
    }

    /// Deletes a topic.
    pub fn delete_topic(&self, name: &str) -> Result<(), ClusterError> {
        let results = block_on(self.admin.delete_topics(&[name], &self.options()))
            .map_err(ClusterError::unreachable)?;
        for r in results {
            if let Err((_, code)) = r {
                let status = match code {
                    rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition => 404,
                    _ => 400,
                };
                return Err(ClusterError::new(
                    status,
                    format!("cannot delete topic {name}: {code}"),
                ));
            }
        }
        Ok(())
    }
}
