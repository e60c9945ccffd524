//! What the console reads from and does to the cluster, through librdkafka's admin, consumer
//! and producer clients and the schema registry (blocking calls; the API runs them off the
//! async threads).

use std::time::Duration;

use std::collections::BTreeMap;
use std::sync::Mutex;

use brook_client::groups::{self, GroupError, GroupSummary, GroupView, ResetRow, ResetTarget};
use brook_client::topics::{PartitionInfo, TopicAdminError};
use brook_client::{ClusterSettings, Quiet, block_on};
use brook_registry::client::{ClientError as RegistryError, RegistryClient};
use rdkafka::admin::{
    AdminClient, AdminOptions, NewPartitions, NewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::metadata::Metadata;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use crate::browse::{self, BrowseRequest, Page, Start};

/// A failure, with the HTTP status the API answers with.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ClusterError {
    /// 400, 404, 409, 502 (the cluster did not answer).
    pub status: u16,
    /// What went wrong, for people.
    pub message: String,
    /// The request field it is about (`name`, `partitions`, `value`, …), for forms to show
    /// the error next to it.
    pub field: Option<&'static str>,
}

impl ClusterError {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> Self {
        ClusterError {
            status,
            message: message.into(),
            field: None,
        }
    }

    /// The same error, about `field`.
    pub(crate) fn on(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }

    pub(crate) fn unreachable(e: impl std::fmt::Display) -> Self {
        Self::new(502, format!("the cluster did not answer: {e}"))
    }
}

impl From<GroupError> for ClusterError {
    fn from(e: GroupError) -> Self {
        match e {
            GroupError::NotFound(m) => Self::not_found(m),
            GroupError::Failed(m) => Self::new(409, m),
            GroupError::Unreachable(m) => Self::unreachable(m),
        }
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
    /// Bytes on disk (every replica), when the brokers answer DescribeLogDirs.
    pub size_bytes: Option<i64>,
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
    /// Bytes on disk (every replica), when the brokers answer DescribeLogDirs.
    pub size_bytes: Option<i64>,
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

/// Config changes to a topic.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigChange {
    /// Configs to set.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Configs to return to their defaults.
    #[serde(default)]
    pub delete: Vec<String>,
}

/// What producing a message takes.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProduceRequest {
    /// The partition (the partitioner chooses by key when absent).
    #[serde(default)]
    pub partition: Option<i32>,
    /// The key (none when absent).
    #[serde(default)]
    pub key: Option<String>,
    /// The value (a tombstone when absent).
    #[serde(default)]
    pub value: Option<String>,
    /// Headers.
    #[serde(default)]
    pub headers: Vec<HeaderRequest>,
    /// `string` (the text's bytes, the default) or `schema` (JSON encoded with the latest
    /// schema of the topic's `-key` subject).
    #[serde(default)]
    pub key_format: Option<String>,
    /// `string` or `schema` (the `-value` subject).
    #[serde(default)]
    pub value_format: Option<String>,
}

/// A header to produce.
#[derive(Debug, serde::Deserialize)]
pub struct HeaderRequest {
    /// Its name.
    pub key: String,
    /// Its value.
    #[serde(default)]
    pub value: Option<String>,
}

/// Where a produced message went.
#[derive(Debug, Serialize)]
pub struct Produced {
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
}

/// A subject's latest schema, as the produce form and the browser show it.
#[derive(Debug, Serialize)]
pub struct SubjectSchema {
    /// The subject (`rides-value`).
    pub subject: String,
    /// The schema id.
    pub id: i32,
    /// `AVRO`, `JSON` or `PROTOBUF`.
    pub schema_type: &'static str,
}

/// The schemas of a topic's keys and values (TopicNameStrategy subjects).
#[derive(Debug, Serialize)]
pub struct TopicSchemas {
    /// Whether a schema registry is configured.
    pub registry: bool,
    /// `<topic>-key`'s latest schema.
    pub key: Option<SubjectSchema>,
    /// `<topic>-value`'s latest schema.
    pub value: Option<SubjectSchema>,
}

/// A group in the console's list: the summary and its total lag.
#[derive(Debug, Serialize)]
pub struct GroupRow {
    /// The summary.
    #[serde(flatten)]
    pub summary: GroupSummary,
    /// Lag over every partition it has offsets for (null when unknown).
    pub lag: Option<i64>,
}

/// What resetting a group's offsets takes.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// Topics (every topic the group has offsets for when empty).
    #[serde(default)]
    pub topics: Vec<String>,
    /// `earliest`, `latest`, `timestamp` (epoch ms in `value`), `offset` or `shift`.
    pub to: String,
    /// The timestamp, offset or shift.
    #[serde(default)]
    pub value: Option<i64>,
    /// Only show the plan (the default); false commits it.
    #[serde(default = "yes")]
    pub dry_run: bool,
}

fn yes() -> bool {
    true
}

/// A reset's plan, and whether it was committed.
#[derive(Debug, Serialize)]
pub struct ResetAnswer {
    /// The group.
    pub group: String,
    /// Whether the plan was committed.
    pub executed: bool,
    /// Per partition: the committed offset now and the new one.
    pub partitions: Vec<ResetRow>,
}

/// The console's view of one cluster.
pub struct Cluster {
    settings: ClusterSettings,
    admin: AdminClient<Quiet>,
    consumer: BaseConsumer<Quiet>,
    producer: FutureProducer<Quiet>,
    registry: Option<RegistryClient>,
    /// Idle consumers of the message browser, reused between pages.
    browsers: Mutex<Vec<BaseConsumer<Quiet>>>,
}

/// Most idle browser consumers kept.
const BROWSERS_KEPT: usize = 4;

impl Cluster {
    /// Clients for `settings`' cluster (nothing is asked of it yet), with a registry client
    /// when `registry_url` is given.
    pub fn new(
        settings: ClusterSettings,
        registry_url: Option<&str>,
    ) -> Result<Cluster, ClusterError> {
        let internal = |e: brook_client::ClientError| ClusterError::new(500, e.to_string());
        let admin = settings.create(&[], Quiet).map_err(internal)?;
        let consumer = settings
            .create(
                &[
                    ("group.id", "brook-console"),
                    ("enable.auto.commit", "false"),
                ],
                Quiet,
            )
            .map_err(internal)?;
        let producer = settings
            .create(&[("linger.ms", "0")], Quiet)
            .map_err(internal)?;
        Ok(Cluster {
            settings,
            admin,
            consumer,
            producer,
            registry: registry_url.map(RegistryClient::new),
            browsers: Mutex::default(),
        })
    }

    fn options(&self) -> AdminOptions {
        AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)))
    }

    fn all_metadata(&self) -> Result<Metadata, ClusterError> {
        self.settings
            .metadata(self.consumer.client(), None)
            .map_err(ClusterError::unreachable)
    }

    /// The topic's partitions, asked through the consumer, which never makes the broker
    /// auto-create the topic.
    fn partitions_of(&self, name: &str) -> Result<Vec<PartitionInfo>, ClusterError> {
        let metadata = self
            .settings
            .metadata(self.consumer.client(), Some(name))
            .map_err(ClusterError::unreachable)?;
        brook_client::topics::partitions(&metadata, name)
            .ok_or_else(|| ClusterError::not_found(format!("Topic {name} not found")))
    }

    /// (log start, log end) of each of `topic`'s `partitions`.
    fn ranges(
        &self,
        topic: &str,
        partitions: &[i32],
    ) -> Result<BTreeMap<i32, (i64, i64)>, ClusterError> {
        let wanted: Vec<(String, i32)> =
            partitions.iter().map(|p| (topic.to_string(), *p)).collect();
        let found = groups::watermarks(&self.consumer, &wanted, self.settings.timeout)?;
        Ok(found
            .into_iter()
            .map(|((_, p), range)| (p, range))
            .collect())
    }

    /// Brokers and counts.
    pub fn overview(&self) -> Result<Overview, ClusterError> {
        let metadata = self.all_metadata()?;
        let groups = groups::list(&self.consumer, self.settings.timeout)?;
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
            groups: groups.len(),
        })
    }

    /// Every topic with its partition count and messages (offsets of every partition asked
    /// in one request per leader).
    pub fn topics(&self) -> Result<Vec<TopicSummary>, ClusterError> {
        let metadata = self.all_metadata()?;
        let all = every_partition(&metadata);
        let ranges = groups::watermarks(&self.consumer, &all, self.settings.timeout)?;
        let sizes = brook_client::topics::topic_sizes(&metadata, self.settings.timeout);
        let mut topics: Vec<TopicSummary> = metadata
            .topics()
            .iter()
            .map(|t| TopicSummary {
                name: t.name().to_string(),
                partitions: t.partitions().len(),
                replication_factor: t.partitions().first().map_or(0, |p| p.replicas().len()),
                messages: t
                    .partitions()
                    .iter()
                    .filter_map(|p| ranges.get(&(t.name().to_string(), p.id())))
                    .map(|(low, high)| high - low)
                    .sum(),
                size_bytes: sizes.get(t.name()).copied(),
                internal: t.name().starts_with('_'),
            })
            .collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(topics)
    }

    /// One topic: partitions with offsets and leaders, configs with their sources.
    pub fn topic(&self, name: &str) -> Result<TopicDetail, ClusterError> {
        let metadata = self.partitions_of(name)?;
        let ids: Vec<i32> = metadata.iter().map(|p| p.id).collect();
        let ranges = self.ranges(name, &ids)?;
        let sizes = brook_client::topics::partition_sizes(
            &self.all_metadata()?,
            name,
            self.settings.timeout,
        );
        let partitions = metadata
            .into_iter()
            .map(|p| {
                let (low, high) = ranges.get(&p.id).copied().unwrap_or((-1, -1));
                PartitionDetail {
                    partition: p.id,
                    leader: p.leader,
                    replicas: p.replicas,
                    isr: p.isr,
                    log_start_offset: low,
                    log_end_offset: high,
                    size_bytes: sizes.get(&p.id).copied(),
                }
            })
            .collect();
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
            return Err(ClusterError::bad_request(format!(
                "partitions must be at least 1, not {}",
                request.partitions
            ))
            .on("partitions"));
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
                let (status, field) = match code {
                    RDKafkaErrorCode::TopicAlreadyExists => (409, "name"),
                    RDKafkaErrorCode::InvalidTopic => (400, "name"),
                    RDKafkaErrorCode::InvalidPartitions => (400, "partitions"),
                    RDKafkaErrorCode::InvalidReplicationFactor => (400, "replication_factor"),
                    _ => (400, "configs"),
                };
                return Err(ClusterError::new(
                    status,
                    format!("cannot create topic {}: {code}", request.name),
                )
                .on(field));
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
                    RDKafkaErrorCode::UnknownTopicOrPartition => 404,
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

    /// Changes the topic's configs one by one (IncrementalAlterConfigs); others stay.
    pub fn alter_configs(&self, name: &str, change: &ConfigChange) -> Result<(), ClusterError> {
        if change.set.is_empty() && change.delete.is_empty() {
            return Err(ClusterError::bad_request("no config to change").on("configs"));
        }
        self.partitions_of(name)?;
        let metadata = self.all_metadata()?;
        let set: Vec<(&str, &str)> = change
            .set
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let delete: Vec<&str> = change.delete.iter().map(String::as_str).collect();
        brook_client::topics::alter_configs(&metadata, name, &set, &delete, self.settings.timeout)
            .map_err(|e| match e {
                TopicAdminError::Refused(m) => ClusterError::bad_request(m).on("configs"),
                TopicAdminError::Unreachable(m) => ClusterError::unreachable(m),
            })
    }

    /// Grows the topic to `count` partitions.
    pub fn add_partitions(&self, name: &str, count: usize) -> Result<(), ClusterError> {
        let now = self.partitions_of(name)?.len();
        if count <= now {
            return Err(ClusterError::bad_request(format!(
                "{name} has {now} partitions: the new count must be more"
            ))
            .on("count"));
        }
        let results = block_on(
            self.admin
                .create_partitions(&[NewPartitions::new(name, count)], &self.options()),
        )
        .map_err(ClusterError::unreachable)?;
        for r in results {
            if let Err((_, code)) = r {
                return Err(ClusterError::bad_request(format!(
                    "cannot grow {name} to {count} partitions: {code}"
                ))
                .on("count"));
            }
        }
        Ok(())
    }

    /// Deletes every record of the topic (DeleteRecords up to each partition's end); the
    /// topic and its configs stay. Returns how many records went.
    pub fn empty_topic(&self, name: &str) -> Result<i64, ClusterError> {
        let ids: Vec<i32> = self.partitions_of(name)?.iter().map(|p| p.id).collect();
        let before = self.ranges(name, &ids)?;
        let mut list = TopicPartitionList::new();
        for p in &ids {
            list.add_partition_offset(name, *p, Offset::End)
                .map_err(|e| ClusterError::bad_request(e.to_string()))?;
        }
        let answer = block_on(self.admin.delete_records(&list, &self.options()))
            .map_err(ClusterError::unreachable)?;
        for e in answer.elements() {
            if let Err(err) = e.error() {
                return Err(ClusterError::bad_request(format!(
                    "cannot empty partition {} of {name}: {err}",
                    e.partition()
                )));
            }
        }
        Ok(before.values().map(|(low, high)| high - low).sum())
    }

    /// A page of the topic's messages (see [`browse`]).
    pub fn messages(&self, name: &str, request: &BrowseRequest) -> Result<Page, ClusterError> {
        let partitions: Vec<i32> = self.partitions_of(name)?.iter().map(|p| p.id).collect();
        let chosen: Vec<i32> = match request.partition {
            None => partitions,
            Some(p) if partitions.contains(&p) => vec![p],
            Some(p) => {
                return Err(ClusterError::not_found(format!(
                    "Topic {name} has no partition {p}"
                )));
            }
        };
        let ranges = self.ranges(name, &chosen)?;
        let mut times = BTreeMap::new();
        if let Start::Timestamp(t) = request.start {
            let mut list = TopicPartitionList::new();
            for p in &chosen {
                list.add_partition_offset(name, *p, Offset::Offset(t))
                    .map_err(|e| ClusterError::bad_request(e.to_string()))?;
            }
            let found = self
                .consumer
                .offsets_for_times(list, self.settings.timeout)
                .map_err(ClusterError::unreachable)?;
            for e in found.elements() {
                if let Offset::Offset(o) = e.offset() {
                    times.insert(e.partition(), o);
                }
            }
        }
        let consumer = self.browser()?;
        let page = browse::browse(
            &consumer,
            self.registry.as_ref(),
            name,
            &ranges,
            &times,
            request,
        );
        let mut idle = self.browsers.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < BROWSERS_KEPT {
            idle.push(consumer);
        }
        page
    }

    fn browser(&self) -> Result<BaseConsumer<Quiet>, ClusterError> {
        if let Some(c) = self
            .browsers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
        {
            return Ok(c);
        }
        self.settings
            .create(browse::CONSUMER_SETTINGS, Quiet)
            .map_err(|e| ClusterError::new(500, e.to_string()))
    }

    /// The latest schemas of the topic's `-key` and `-value` subjects.
    pub fn topic_schemas(&self, name: &str) -> Result<TopicSchemas, ClusterError> {
        let Some(registry) = &self.registry else {
            return Ok(TopicSchemas {
                registry: false,
                key: None,
                value: None,
            });
        };
        let latest = |subject: String| -> Result<Option<SubjectSchema>, ClusterError> {
            match registry.latest(&subject) {
                Ok((id, parsed)) => Ok(Some(SubjectSchema {
                    subject,
                    id,
                    schema_type: parsed.schema_type().name(),
                })),
                Err(RegistryError::Refused { code: 40401, .. }) => Ok(None),
                Err(e) => Err(ClusterError::new(502, e.to_string())),
            }
        };
        Ok(TopicSchemas {
            registry: true,
            key: latest(format!("{name}-key"))?,
            value: latest(format!("{name}-value"))?,
        })
    }

    fn encode(
        &self,
        topic: &str,
        side: &str,
        format: Option<&str>,
        text: Option<&str>,
    ) -> Result<Option<Vec<u8>>, ClusterError> {
        let Some(text) = text else { return Ok(None) };
        match format.unwrap_or("string") {
            "string" => Ok(Some(text.as_bytes().to_vec())),
            "schema" => {
                let registry = self
                    .registry
                    .as_ref()
                    .ok_or_else(|| ClusterError::bad_request("no schema registry is configured"))?;
                let subject = format!("{topic}-{side}");
                let (id, parsed) = registry.latest(&subject).map_err(|e| match e {
                    RegistryError::Refused { code: 40401, .. } => {
                        ClusterError::bad_request(format!("subject {subject} has no schema"))
                    }
                    e => ClusterError::new(502, e.to_string()),
                })?;
                let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                    ClusterError::bad_request(format!("the {side} is not JSON: {e}"))
                })?;
                let payload = parsed.encode_json(&json, None).map_err(|e| {
                    ClusterError::bad_request(format!(
                        "the {side} does not match the schema of {subject} (id {id}): {e}"
                    ))
                })?;
                Ok(Some(brook_registry::wire::frame(id, &payload)))
            }
            other => Err(ClusterError::bad_request(format!(
                "unknown {side} format '{other}': use string or schema"
            ))),
        }
    }

    /// Produces one message and waits for its acknowledgement.
    pub fn produce(&self, topic: &str, request: &ProduceRequest) -> Result<Produced, ClusterError> {
        let partitions = self.partitions_of(topic)?;
        if let Some(p) = request.partition
            && !partitions.iter().any(|m| m.id == p)
        {
            return Err(
                ClusterError::bad_request(format!("Topic {topic} has no partition {p}"))
                    .on("partition"),
            );
        }
        let about = |field| move |e: ClusterError| if e.status == 400 { e.on(field) } else { e };
        let key = self
            .encode(
                topic,
                "key",
                request.key_format.as_deref(),
                request.key.as_deref(),
            )
            .map_err(about("key"))?;
        let value = self
            .encode(
                topic,
                "value",
                request.value_format.as_deref(),
                request.value.as_deref(),
            )
            .map_err(about("value"))?;
        let mut headers = OwnedHeaders::new();
        for h in &request.headers {
            headers = headers.insert(Header {
                key: &h.key,
                value: h.value.as_deref(),
            });
        }
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
        if let Some(k) = &key {
            record = record.key(k.as_slice());
        }
        if let Some(v) = &value {
            record = record.payload(v.as_slice());
        }
        if let Some(p) = request.partition {
            record = record.partition(p);
        }
        let delivered = block_on(self.producer.send(record, self.settings.timeout));
        match delivered {
            Ok(d) => Ok(Produced {
                partition: d.partition,
                offset: d.offset,
            }),
            Err((e, _)) => Err(ClusterError::new(
                502,
                format!("the cluster did not take the message: {e}"),
            )),
        }
    }

    /// Every consumer group, with its total lag.
    pub fn groups(&self) -> Result<Vec<GroupRow>, ClusterError> {
        let metadata = self.all_metadata()?;
        let list = groups::list(&self.consumer, self.settings.timeout)?;
        Ok(list
            .into_iter()
            .map(|summary| {
                let lag = groups::describe(
                    &self.consumer,
                    &metadata,
                    &summary.group,
                    self.settings.timeout,
                )
                .ok()
                .flatten()
                .map(|v| v.total_lag());
                GroupRow { summary, lag }
            })
            .collect())
    }

    /// The total lag of each group (at most `max` groups).
    pub fn groups_lag(&self, max: usize) -> Result<BTreeMap<String, i64>, ClusterError> {
        let metadata = self.all_metadata()?;
        let list = groups::list(&self.consumer, self.settings.timeout)?;
        Ok(list
            .into_iter()
            .take(max)
            .filter_map(|g| {
                let view =
                    groups::describe(&self.consumer, &metadata, &g.group, self.settings.timeout)
                        .ok()??;
                Some((g.group, view.total_lag()))
            })
            .collect())
    }

    /// Each topic's log end offsets summed over its partitions.
    pub fn end_offsets_by_topic(&self) -> Result<BTreeMap<String, i64>, ClusterError> {
        let metadata = self.all_metadata()?;
        let all = every_partition(&metadata);
        let ranges = groups::watermarks(&self.consumer, &all, self.settings.timeout)?;
        let mut ends = BTreeMap::new();
        for ((topic, _), (_, high)) in ranges {
            *ends.entry(topic).or_insert(0) += high;
        }
        Ok(ends)
    }

    /// One group: members, assignments, committed offsets and lag.
    pub fn group(&self, name: &str) -> Result<GroupView, ClusterError> {
        let metadata = self.all_metadata()?;
        groups::describe(&self.consumer, &metadata, name, self.settings.timeout)?
            .ok_or_else(|| ClusterError::not_found(format!("Group {name} not found")))
    }

    /// Plans a reset of the group's offsets, and commits it unless it is a dry run.
    pub fn reset_group(
        &self,
        name: &str,
        request: &ResetRequest,
    ) -> Result<ResetAnswer, ClusterError> {
        let need = |what: &str| {
            request.value.ok_or_else(|| {
                ClusterError::bad_request(format!("a reset to {what} needs a value"))
            })
        };
        let target = match request.to.as_str() {
            "earliest" => ResetTarget::Earliest,
            "latest" => ResetTarget::Latest,
            "timestamp" => ResetTarget::Time(need("a timestamp")?),
            "offset" => ResetTarget::Offset(need("an offset")?),
            "shift" => ResetTarget::Shift(need("a shift")?),
            other => {
                return Err(ClusterError::bad_request(format!(
                    "unknown reset '{other}': use earliest, latest, timestamp, offset or shift"
                )));
            }
        };
        let consumer: BaseConsumer<Quiet> = self
            .settings
            .create(
                &[("group.id", name), ("enable.auto.commit", "false")],
                Quiet,
            )
            .map_err(|e| ClusterError::new(500, e.to_string()))?;
        let metadata = self
            .settings
            .metadata(consumer.client(), None)
            .map_err(ClusterError::unreachable)?;
        let plan = groups::plan_reset(
            &consumer,
            &metadata,
            name,
            &request.topics,
            target,
            self.settings.timeout,
        )?;
        if !request.dry_run {
            groups::commit_reset(&consumer, &plan)?;
        }
        Ok(ResetAnswer {
            group: name.to_string(),
            executed: !request.dry_run,
            partitions: plan,
        })
    }

    /// Deletes a group without members.
    pub fn delete_group(&self, name: &str) -> Result<(), ClusterError> {
        let results = block_on(self.admin.delete_groups(&[name], &self.options()))
            .map_err(ClusterError::unreachable)?;
        for r in results {
            if let Err((_, code)) = r {
                return Err(match code {
                    RDKafkaErrorCode::GroupIdNotFound => {
                        ClusterError::not_found(format!("Group {name} not found"))
                    }
                    RDKafkaErrorCode::NonEmptyGroup => ClusterError::new(
                        409,
                        format!("group {name} still has members; stop its consumers first"),
                    ),
                    other => {
                        ClusterError::bad_request(format!("cannot delete group {name}: {other}"))
                    }
                });
            }
        }
        Ok(())
    }
}

/// (topic, partition) of every partition in `metadata`.
fn every_partition(metadata: &Metadata) -> Vec<(String, i32)> {
    metadata
        .topics()
        .iter()
        .flat_map(|t| {
            t.partitions()
                .iter()
                .map(|p| (t.name().to_string(), p.id()))
        })
        .collect()
}
