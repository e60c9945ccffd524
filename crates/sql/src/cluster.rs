//! What Brook SQL asks of the Kafka cluster: topics (list, describe, create, delete), a
//! producer for `INSERT … VALUES` and the command topic, and consumers for `PRINT`.

use std::time::Duration;

use brook_client::{ClusterSettings, Quiet, block_on};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::error::{Result, SqlError};

/// A topic and its partition and replica counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// Its name.
    pub name: String,
    /// Replicas of each partition.
    pub replicas: Vec<usize>,
}

/// Clients of one cluster.
pub struct Cluster {
    settings: ClusterSettings,
    admin: AdminClient<Quiet>,
    producer: FutureProducer<Quiet>,
}

impl Cluster {
    /// Clients of the cluster `settings` names.
    pub fn connect(settings: ClusterSettings) -> Result<Self> {
        let admin = settings
            .create(&[], Quiet)
            .map_err(|e| SqlError::server(e.to_string()))?;
        let producer = settings
            .create(
                &[
                    ("enable.idempotence", "true"),
                    ("linger.ms", "0"),
                    // Keys land where ksqlDB's (Java) producer puts them, and where Brook
                    // Streams writes: co-partitioned joins and tables depend on it.
                    ("partitioner", "murmur2_random"),
                ],
                Quiet,
            )
            .map_err(|e| SqlError::server(e.to_string()))?;
        Ok(Cluster {
            settings,
            admin,
            producer,
        })
    }

    /// The cluster's settings.
    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    /// Every topic (with `internal`, also those starting with `_`).
    pub fn topics(&self, internal: bool) -> Result<Vec<TopicInfo>> {
        let metadata = self
            .settings
            .metadata(self.admin.inner(), None)
            .map_err(|e| SqlError::server(e.to_string()))?;
        let mut topics: Vec<TopicInfo> = metadata
            .topics()
            .iter()
            .filter(|t| internal || !(t.name().starts_with('_') || t.name().starts_with("__")))
            .map(|t| TopicInfo {
                name: t.name().to_string(),
                replicas: t.partitions().iter().map(|p| p.replicas().len()).collect(),
            })
            .collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(topics)
    }

    /// The topic `name`, if it exists.
    pub fn topic(&self, name: &str) -> Result<Option<TopicInfo>> {
        let metadata = self
            .settings
            .metadata(self.admin.inner(), Some(name))
            .map_err(|e| SqlError::server(e.to_string()))?;
        Ok(metadata
            .topics()
            .iter()
            .find(|t| t.name() == name && t.error().is_none() && !t.partitions().is_empty())
            .map(|t| TopicInfo {
                name: t.name().to_string(),
                replicas: t.partitions().iter().map(|p| p.replicas().len()).collect(),
            }))
    }

    /// Creates a topic; one that exists already is fine.
    pub fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replicas: i32,
        configs: &[(&str, &str)],
    ) -> Result<()> {
        let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(replicas));
        for (k, v) in configs {
            topic = topic.set(k, v);
        }
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = block_on(self.admin.create_topics(&[topic], &options))
            .map_err(|e| SqlError::server(format!("cannot create topic {name}: {e}")))?;
        for r in results {
            match r {
                Ok(_) => {}
                Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((t, code)) => {
                    return Err(SqlError::server(format!("cannot create topic {t}: {code}")));
                }
            }
        }
        Ok(())
    }

    /// Deletes a topic.
    pub fn delete_topic(&self, name: &str) -> Result<()> {
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = block_on(self.admin.delete_topics(&[name], &options))
            .map_err(|e| SqlError::server(format!("cannot delete topic {name}: {e}")))?;
        for r in results {
            if let Err((t, code)) = r {
                if code != rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition {
                    return Err(SqlError::server(format!("cannot delete topic {t}: {code}")));
                }
            }
        }
        Ok(())
    }

    /// Writes one record and waits for it to be acknowledged; its partition and offset.
    pub fn produce(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: Option<i64>,
    ) -> Result<(i32, i64)> {
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
        if let Some(k) = key {
            record = record.key(k);
        }
        if let Some(v) = value {
            record = record.payload(v);
        }
        if let Some(t) = timestamp {
            record = record.timestamp(t);
        }
        let delivery = block_on(self.producer.send(record, Duration::from_secs(10)))
            .map_err(|(e, _)| SqlError::server(format!("cannot write to topic {topic}: {e}")))?;
        Ok((delivery.partition, delivery.offset))
    }
}
