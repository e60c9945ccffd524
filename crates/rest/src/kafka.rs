//! The cluster as the REST proxy sees it: metadata asked without creating topics, a shared
//! producer, and the schema registry.

use std::time::Duration;

use brook_client::{ClusterSettings, Quiet};
use brook_registry::client::RegistryClient;
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::metadata::Metadata;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};

use crate::error::RestError;

/// Clients of one cluster.
pub struct Kafka {
    /// How to reach it.
    pub settings: ClusterSettings,
    /// Metadata and offsets (a consumer never makes the broker auto-create a topic).
    pub consumer: BaseConsumer<Quiet>,
    /// Every produce request goes through it.
    pub producer: FutureProducer<Quiet>,
    /// Configs.
    pub admin: AdminClient<Quiet>,
    /// The schema registry, when configured.
    pub registry: Option<RegistryClient>,
}

pub use brook_client::topics::PartitionInfo;

impl Kafka {
    /// Clients for `settings`' cluster.
    pub fn new(settings: ClusterSettings, registry_url: Option<&str>) -> Result<Kafka, RestError> {
        let internal = |e: brook_client::ClientError| RestError::new(500, 500, e.to_string());
        let consumer = settings
            .create(
                &[("group.id", "brook-rest"), ("enable.auto.commit", "false")],
                Quiet,
            )
            .map_err(internal)?;
        let producer = settings
            .create(
                &[
                    ("linger.ms", "5"),
                    ("enable.idempotence", "true"),
                    // A produce request answers within this, acknowledged or not.
                    ("message.timeout.ms", "30000"),
                ],
                Quiet,
            )
            .map_err(internal)?;
        let admin = settings.create(&[], Quiet).map_err(internal)?;
        Ok(Kafka {
            settings,
            consumer,
            producer,
            admin,
            registry: registry_url.map(RegistryClient::new),
        })
    }

    /// How long to wait for the cluster.
    pub fn timeout(&self) -> Duration {
        self.settings.timeout
    }

    /// Every topic's metadata (or one's).
    pub fn metadata(&self, topic: Option<&str>) -> Result<Metadata, RestError> {
        self.settings
            .metadata(self.consumer.client(), topic)
            .map_err(|e| RestError::kafka(e.to_string()))
    }

    /// The partitions of `topic`, or 40401.
    pub fn partitions(&self, topic: &str) -> Result<Vec<PartitionInfo>, RestError> {
        let metadata = self.metadata(Some(topic))?;
        brook_client::topics::partitions(&metadata, topic).ok_or_else(RestError::topic_not_found)
    }

    /// (beginning, end) offsets of one partition.
    pub fn offsets(&self, topic: &str, partition: i32) -> Result<(i64, i64), RestError> {
        self.consumer
            .fetch_watermarks(topic, partition, self.timeout())
            .map_err(|e| RestError::kafka(e.to_string()))
    }
}

impl Kafka {
    /// A topic's configs that have values (name → value).
    pub fn topic_configs(
        &self,
        topic: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, RestError> {
        let options = AdminOptions::new().request_timeout(Some(self.timeout()));
        let described = brook_client::block_on(
            self.admin
                .describe_configs(&[ResourceSpecifier::Topic(topic)], &options),
        )
        .map_err(|e| RestError::kafka(e.to_string()))?;
        let mut configs = std::collections::BTreeMap::new();
        for resource in described.into_iter().flatten() {
            for e in resource.entries {
                if let Some(v) = e.value {
                    configs.insert(e.name, v);
                }
            }
        }
        Ok(configs)
    }
}

impl Kafka {
    /// The cluster's id.
    pub fn cluster_id(&self) -> Result<String, RestError> {
        self.admin
            .inner()
            .fetch_cluster_id(self.timeout())
            .ok_or_else(|| RestError::kafka("the cluster did not say its id"))
    }
}

/// A record for [`Kafka::send`].
#[derive(Debug, Default)]
pub struct Outgoing<'a> {
    /// The key.
    pub key: Option<&'a [u8]>,
    /// The value.
    pub value: Option<&'a [u8]>,
    /// A partition (the partitioner's choice when absent).
    pub partition: Option<i32>,
    /// Headers (name, value).
    pub headers: &'a [(String, Option<Vec<u8>>)],
    /// A timestamp (epoch ms; now when absent).
    pub timestamp: Option<i64>,
}

impl Kafka {
    /// Hands `record` to the shared producer, waiting while its queue is full until
    /// `deadline`; the future resolves when the record is acknowledged. Every produce path
    /// (v2 and v3) goes through here.
    pub async fn send(
        &self,
        topic: &str,
        record: Outgoing<'_>,
        deadline: tokio::time::Instant,
    ) -> Result<DeliveryFuture, KafkaError> {
        let mut future: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
        if !record.headers.is_empty() {
            let mut headers = OwnedHeaders::new();
            for (name, value) in record.headers {
                headers = headers.insert(Header {
                    key: name,
                    value: value.as_deref(),
                });
            }
            future = future.headers(headers);
        }
        if let Some(k) = record.key {
            future = future.key(k);
        }
        if let Some(v) = record.value {
            future = future.payload(v);
        }
        if let Some(id) = record.partition {
            future = future.partition(id);
        }
        if let Some(t) = record.timestamp {
            future = future.timestamp(t);
        }
        loop {
            match self.producer.send_result(future) {
                Ok(delivery) => return Ok(delivery),
                Err((e, back))
                    if e.rdkafka_error_code()
                        == Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
                        && tokio::time::Instant::now() < deadline =>
                {
                    future = back;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }
}
