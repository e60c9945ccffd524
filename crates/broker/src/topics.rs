//! The topic registry: which topics exist, their ids, partitions and config overrides, and the
//! open partition logs. Changes go through the metadata log first.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use brook_log::{ConfigError, LogConfig, PartitionLog, TopicPartition};
use tokio::sync::watch;
use uuid::Uuid;

use crate::metadata_log::{MetadataLog, MetadataRecord};

/// One partition of a topic. Shared by every request that touches it.
#[derive(Debug)]
pub struct Partition {
    /// Partition index.
    pub index: i32,
    /// Its log.
    pub log: PartitionLog,
}

/// A topic and its partitions. Immutable; a change replaces the `Arc<Topic>` in the registry.
#[derive(Debug)]
pub struct Topic {
    /// Topic name.
    pub name: String,
    /// Topic id.
    pub id: Uuid,
    /// Partitions by index.
    pub partitions: Vec<Arc<Partition>>,
    /// Config overrides by Kafka name.
    pub overrides: BTreeMap<String, String>,
}

impl Topic {
    /// Internal topics (`__consumer_offsets`, …) as Metadata reports them.
    pub fn is_internal(&self) -> bool {
        self.name.starts_with("__")
    }

    /// Partition `index`, if it exists.
    pub fn partition(&self, index: i32) -> Option<&Arc<Partition>> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.partitions.get(i))
    }

    /// Every batch of every partition, from the log start to the high watermark, in offset
    /// order per partition: how the coordinators load their internal topics at start.
    pub fn replay(
        &self,
        mut each: impl FnMut(&brook_protocol::RecordBatch),
    ) -> Result<(), TopicError> {
        for partition in &self.partitions {
            let log = &partition.log;
            let mut position = log.log_start_offset();
            while position < log.high_watermark() {
                let read = log
                    .read(position, 1 << 20)
                    .map_err(|e| TopicError::Storage {
                        topic: self.name.clone(),
                        message: e.to_string(),
                    })?;
                if read.records.is_empty() {
                    break;
                }
                for batch in brook_protocol::Batches::new(read.records).map_while(Result::ok) {
                    position = batch.next_offset();
                    each(&batch);
                }
            }
        }
        Ok(())
    }
}

/// Why a topic could not be created or deleted.
#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    /// The name breaks Kafka's rules (Kafka: INVALID_TOPIC_EXCEPTION).
    #[error("invalid topic name '{name}': {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// Which rule.
        reason: &'static str,
    },
    /// Already exists (Kafka: TOPIC_ALREADY_EXISTS).
    #[error("topic '{0}' already exists")]
    AlreadyExists(String),
    /// No such topic (Kafka: UNKNOWN_TOPIC_OR_PARTITION).
    #[error("topic '{0}' does not exist")]
    Unknown(String),
    /// Partition count out of range (Kafka: INVALID_PARTITIONS).
    #[error("invalid number of partitions {0}: must be between 1 and 100000")]
    InvalidPartitions(i32),
    /// CreatePartitions must grow the count (Kafka: INVALID_PARTITIONS).
    #[error(
        "topic '{topic}' has {current} partitions; cannot change to {requested}: the count can only grow"
    )]
    PartitionCount {
        /// Topic name.
        topic: String,
        /// Partitions now.
        current: i32,
        /// Partitions asked for.
        requested: i32,
    },
    /// A config override is invalid (Kafka: INVALID_CONFIG).
    #[error(transparent)]
    InvalidConfig(#[from] ConfigError),
    /// Storage failed (Kafka: KAFKA_STORAGE_ERROR).
    #[error("storage error for topic '{topic}': {message}")]
    Storage {
        /// Topic name.
        topic: String,
        /// What failed.
        message: String,
    },
}

/// Checks a topic name against Kafka's rules.
pub fn validate_topic_name(name: &str) -> Result<(), TopicError> {
    let invalid = |reason| {
        Err(TopicError::InvalidName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return invalid("the name is empty");
    }
    if name == "." || name == ".." {
        return invalid("'.' and '..' are not allowed");
    }
    if name.len() > 249 {
        return invalid("longer than 249 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return invalid("only ASCII letters, digits, '.', '_' and '-' are allowed");
    }
    Ok(())
}

/// All topics of the broker. `Sync`: lookups take a read lock briefly; creations and deletions
/// are serialized by the metadata log's mutex.
#[derive(Debug)]
pub struct TopicRegistry {
    data_dir: PathBuf,
    static_defaults: LogConfig,
    /// Broker-level defaults set at runtime (Kafka names, e.g. `log.retention.ms`).
    dynamic_defaults: RwLock<BTreeMap<String, String>>,
    topics: RwLock<HashMap<String, Arc<Topic>>>,
    metadata: Mutex<MetadataLog>,
    appended: watch::Sender<u64>,
}

impl TopicRegistry {
    /// Replays the metadata log and opens every partition log.
    pub fn open(data_dir: PathBuf, defaults: LogConfig) -> Result<Self, TopicError> {
        let storage = |message: String| TopicError::Storage {
            topic: String::new(),
            message,
        };
        let (metadata, records) =
            MetadataLog::open(&data_dir).map_err(|e| storage(e.to_string()))?;
        let mut live: BTreeMap<Uuid, (String, i32, BTreeMap<String, String>)> = BTreeMap::new();
        let mut dynamic = BTreeMap::new();
        for record in records {
            match record {
                MetadataRecord::Topic {
                    name,
                    id,
                    partitions,
                    configs,
                } => {
                    live.insert(id, (name, partitions, configs));
                }
                MetadataRecord::TopicConfig { id, configs } => {
                    if let Some(topic) = live.get_mut(&id) {
                        topic.2 = configs;
                    }
                }
                MetadataRecord::Partitions { id, count } => {
                    if let Some(topic) = live.get_mut(&id) {
                        topic.1 = count;
                    }
                }
                MetadataRecord::BrokerConfig { configs } => dynamic = configs,
                MetadataRecord::RemoveTopic { id } => {
                    live.remove(&id);
                }
            }
        }
        let (appended, _) = watch::channel(0);
        let registry = TopicRegistry {
            data_dir,
            static_defaults: defaults,
            dynamic_defaults: RwLock::new(dynamic),
            topics: RwLock::new(HashMap::new()),
            metadata: Mutex::new(metadata),
            appended,
        };
        for (id, (name, partitions, configs)) in live {
            let topic = registry.open_topic(name.clone(), id, partitions, configs)?;
            registry.write_topics().insert(name, Arc::new(topic));
        }
        Ok(registry)
    }

    fn write_topics(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Topic>>> {
        self.topics.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read_topics(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Topic>>> {
        self.topics.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The effective log config for a set of overrides.
    pub fn config_for(
        &self,
        overrides: &BTreeMap<String, String>,
    ) -> Result<LogConfig, ConfigError> {
        let mut config = self.defaults();
        for (name, value) in overrides {
            config.set(name, value)?;
        }
        Ok(config)
    }

    /// Broker-wide topic defaults: the static ones with the dynamic ones applied.
    pub fn defaults(&self) -> LogConfig {
        let mut config = self.static_defaults.clone();
        for (name, value) in self.dynamic_defaults().iter() {
            if let Some(topic_name) = crate::config::topic_config_for(name) {
                // Validated when set; a value that no longer parses keeps the static default.
                let _ = config.set(topic_name, value);
            }
        }
        config
    }

    /// End offset of the metadata log (records applied since the data directory was made).
    pub fn metadata_end_offset(&self) -> i64 {
        self.metadata
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .end_offset()
    }

    /// The broker defaults set at startup (flags, file, environment).
    pub fn static_defaults(&self) -> &LogConfig {
        &self.static_defaults
    }

    /// The broker defaults set at runtime, by Kafka broker name.
    pub fn dynamic_defaults(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, String>> {
        self.dynamic_defaults
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the dynamic broker defaults (Kafka names like `log.retention.ms`) and applies
    /// the result to every topic's logs, as Kafka's dynamic broker configs do.
    pub fn alter_broker_defaults(
        &self,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<(), TopicError> {
        let mut candidate = self.static_defaults.clone();
        for (name, value) in &configs {
            let topic_name = crate::config::topic_config_for(name).ok_or_else(|| {
                TopicError::InvalidConfig(ConfigError::InvalidValue {
                    name: name.clone(),
                    value: value.clone(),
                    reason: "only log.* topic defaults can be updated dynamically".to_string(),
                })
            })?;
            candidate.set(topic_name, value)?;
        }
        let mut metadata = self.metadata.lock().unwrap_or_else(|p| p.into_inner());
        if validate_only {
            return Ok(());
        }
        metadata
            .append(&MetadataRecord::BrokerConfig {
                configs: configs.clone(),
            })
            .map_err(|e| TopicError::Storage {
                topic: String::new(),
                message: e.to_string(),
            })?;
        *self
            .dynamic_defaults
            .write()
            .unwrap_or_else(|p| p.into_inner()) = configs;
        for topic in self.list() {
            let config = self.config_for(&topic.overrides)?;
            for partition in &topic.partitions {
                partition.log.update_config(config.clone());
            }
        }
        Ok(())
    }

    fn open_topic(
        &self,
        name: String,
        id: Uuid,
        partitions: i32,
        overrides: BTreeMap<String, String>,
    ) -> Result<Topic, TopicError> {
        let config = self.config_for(&overrides)?;
        let mut opened = Vec::with_capacity(partitions as usize);
        for index in 0..partitions {
            let dir = self
                .data_dir
                .join(TopicPartition::new(name.clone(), index).dir_name());
            let log = PartitionLog::open(dir, config.clone()).map_err(|e| TopicError::Storage {
                topic: name.clone(),
                message: e.to_string(),
            })?;
            opened.push(Arc::new(Partition { index, log }));
        }
        Ok(Topic {
            name,
            id,
            partitions: opened,
            overrides,
        })
    }

    /// A topic by name.
    pub fn get(&self, name: &str) -> Option<Arc<Topic>> {
        self.read_topics().get(name).cloned()
    }

    /// A topic by id.
    pub fn get_by_id(&self, id: Uuid) -> Option<Arc<Topic>> {
        self.read_topics().values().find(|t| t.id == id).cloned()
    }

    /// All topics, sorted by name.
    pub fn list(&self) -> Vec<Arc<Topic>> {
        let mut topics: Vec<_> = self.read_topics().values().cloned().collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        topics
    }

    /// Creates a topic (or only validates the request).
    pub fn create(
        &self,
        name: &str,
        partitions: i32,
        overrides: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<Arc<Topic>, TopicError> {
        validate_topic_name(name)?;
        if !(1..=100_000).contains(&partitions) {
            return Err(TopicError::InvalidPartitions(partitions));
        }
        self.config_for(&overrides)?;
        let mut metadata = self.metadata.lock().unwrap_or_else(|p| p.into_inner());
        if self.get(name).is_some() {
            return Err(TopicError::AlreadyExists(name.to_string()));
        }
        let id = Uuid::new_v4();
        if validate_only {
            return Ok(Arc::new(Topic {
                name: name.to_string(),
                id,
                partitions: Vec::new(),
                overrides,
            }));
        }
        let storage = |e: std::io::Error| TopicError::Storage {
            topic: name.to_string(),
            message: e.to_string(),
        };
        // Stale directories of an earlier topic with this name must not leak into the new one.
        for index in 0..partitions {
            let dir = self
                .data_dir
                .join(TopicPartition::new(name, index).dir_name());
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(storage)?;
            }
        }
        let topic =
            Arc::new(self.open_topic(name.to_string(), id, partitions, overrides.clone())?);
        metadata
            .append(&MetadataRecord::Topic {
                name: name.to_string(),
                id,
                partitions,
                configs: overrides,
            })
            .map_err(storage)?;
        self.write_topics().insert(name.to_string(), topic.clone());
        tracing::info!(topic = name, %id, partitions, "created topic");
        Ok(topic)
    }

    /// Replaces a topic's config overrides (validated as a whole first) and applies them to its
    /// open logs.
    pub fn alter_configs(
        &self,
        name: &str,
        overrides: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<(), TopicError> {
        let config = self.config_for(&overrides)?;
        let mut metadata = self.metadata.lock().unwrap_or_else(|p| p.into_inner());
        let topic = self
            .get(name)
            .ok_or_else(|| TopicError::Unknown(name.to_string()))?;
        if validate_only {
            return Ok(());
        }
        metadata
            .append(&MetadataRecord::TopicConfig {
                id: topic.id,
                configs: overrides.clone(),
            })
            .map_err(|e| TopicError::Storage {
                topic: name.to_string(),
                message: e.to_string(),
            })?;
        for partition in &topic.partitions {
            partition.log.update_config(config.clone());
        }
        let updated = Topic {
            name: topic.name.clone(),
            id: topic.id,
            partitions: topic.partitions.clone(),
            overrides,
        };
        self.write_topics()
            .insert(name.to_string(), Arc::new(updated));
        Ok(())
    }

    /// Grows a topic to `count` partitions (Kafka never shrinks them).
    pub fn create_partitions(
        &self,
        name: &str,
        count: i32,
        validate_only: bool,
    ) -> Result<(), TopicError> {
        let mut metadata = self.metadata.lock().unwrap_or_else(|p| p.into_inner());
        let topic = self
            .get(name)
            .ok_or_else(|| TopicError::Unknown(name.to_string()))?;
        let current = topic.partitions.len() as i32;
        if count <= current || count > 100_000 {
            return Err(TopicError::PartitionCount {
                topic: name.to_string(),
                current,
                requested: count,
            });
        }
        if validate_only {
            return Ok(());
        }
        let storage = |e: std::io::Error| TopicError::Storage {
            topic: name.to_string(),
            message: e.to_string(),
        };
        let config = self.config_for(&topic.overrides)?;
        let mut partitions = topic.partitions.clone();
        for index in current..count {
            let dir = self
                .data_dir
                .join(TopicPartition::new(name, index).dir_name());
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(storage)?;
            }
            let log = PartitionLog::open(dir, config.clone()).map_err(|e| TopicError::Storage {
                topic: name.to_string(),
                message: e.to_string(),
            })?;
            partitions.push(Arc::new(Partition { index, log }));
        }
        metadata
            .append(&MetadataRecord::Partitions {
                id: topic.id,
                count,
            })
            .map_err(storage)?;
        let updated = Topic {
            name: topic.name.clone(),
            id: topic.id,
            partitions,
            overrides: topic.overrides.clone(),
        };
        self.write_topics()
            .insert(name.to_string(), Arc::new(updated));
        tracing::info!(topic = name, from = current, to = count, "added partitions");
        Ok(())
    }

    /// Deletes a topic and its data.
    pub fn delete(&self, name: &str) -> Result<Uuid, TopicError> {
        let mut metadata = self.metadata.lock().unwrap_or_else(|p| p.into_inner());
        let topic = self
            .get(name)
            .ok_or_else(|| TopicError::Unknown(name.to_string()))?;
        let storage = |e: std::io::Error| TopicError::Storage {
            topic: name.to_string(),
            message: e.to_string(),
        };
        metadata
            .append(&MetadataRecord::RemoveTopic { id: topic.id })
            .map_err(storage)?;
        self.write_topics().remove(name);
        for partition in &topic.partitions {
            let _ = partition.log.close();
            std::fs::remove_dir_all(partition.log.dir()).map_err(storage)?;
        }
        tracing::info!(topic = name, id = %topic.id, "deleted topic");
        Ok(topic.id)
    }

    /// Tells waiting fetches that data arrived.
    pub fn notify_appended(&self) {
        self.appended.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes whenever any partition gets data.
    pub fn subscribe_appends(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }

    /// Flushes and closes every partition log (graceful shutdown).
    pub fn close_all(&self) {
        for topic in self.list() {
            for partition in &topic.partitions {
                if let Err(e) = partition.log.close() {
                    tracing::warn!(log = %partition.log.dir().display(), error = %e, "close failed");
                }
            }
        }
    }
}
