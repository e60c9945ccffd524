//! Broker settings, named as Kafka names them where Kafka has a name.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use brook_log::{ConfigError, LogConfig};

/// Settings of one broker.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// `node.id` (1).
    pub node_id: i32,
    /// Address to listen on (`listeners`, default 127.0.0.1:9092).
    pub listen: SocketAddr,
    /// Host and port clients are told to connect to (`advertised.listeners`); defaults to the
    /// bound address.
    pub advertised: Option<(String, u16)>,
    /// `log.dirs`: where partitions live (`./brook-data`).
    pub data_dir: PathBuf,
    /// `num.partitions` (1): partitions of auto-created topics and of CreateTopics with -1.
    pub num_partitions: i32,
    /// `auto.create.topics.enable` (true).
    pub auto_create_topics: bool,
    /// `socket.request.max.bytes` (100 MiB): larger frames close the connection.
    pub socket_request_max_bytes: usize,
    /// Broker-wide defaults of the topic configs (`log.segment.bytes` → `segment.bytes`, …).
    pub log_defaults: LogConfig,
    /// Cluster id reported in Metadata.
    pub cluster_id: String,
    /// Where Prometheus `/metrics` is served (None: not served).
    pub metrics_listen: Option<SocketAddr>,
    /// `offsets.topic.num.partitions` (50): partitions of `__consumer_offsets` when created.
    pub offsets_topic_partitions: i32,
    /// `offsets.retention.minutes` (7 days): committed offsets of groups without members expire
    /// this long after their commit.
    pub offsets_retention: Duration,
    /// `group.initial.rebalance.delay.ms` (3 s): how long a new group waits for more members
    /// before its first rebalance completes.
    pub group_initial_rebalance_delay: Duration,
    /// `group.min.session.timeout.ms` (6 s): classic members asking for a shorter session
    /// timeout get INVALID_SESSION_TIMEOUT.
    pub group_min_session_timeout: Duration,
    /// `group.max.session.timeout.ms` (30 minutes): the longest session timeout allowed.
    pub group_max_session_timeout: Duration,
    /// `group.consumer.session.timeout.ms`, `group.consumer.heartbeat.interval.ms` and
    /// `group.consumer.assignors`: KIP-848 consumer groups.
    pub consumer_groups: crate::coordinator::consumer_groups::Settings,
    /// `transaction.state.log.num.partitions`, `transaction.max.timeout.ms`,
    /// `transactional.id.expiration.ms` and the two cleanup intervals: the transaction
    /// coordinator.
    pub transactions: crate::transactions::Settings,
    /// `log.retention.check.interval.ms` (5 minutes): how often retention runs.
    pub retention_check_interval: Duration,
    /// `log.cleaner.backoff.ms` (15 s): how often compacted topics are cleaned.
    pub cleaner_backoff: Duration,
    /// `log.flush.scheduler.interval.ms` (1 s here; Kafka's default never checks): how often
    /// `flush.ms` is checked.
    pub flush_scheduler_interval: Duration,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            node_id: 1,
            listen: "127.0.0.1:9092".parse().expect("valid address"),
            advertised: None,
            data_dir: PathBuf::from("brook-data"),
            num_partitions: 1,
            auto_create_topics: true,
            socket_request_max_bytes: 100 * 1024 * 1024,
            log_defaults: LogConfig::default(),
            cluster_id: "brook-cluster".to_string(),
            metrics_listen: None,
            retention_check_interval: Duration::from_millis(300_000),
            cleaner_backoff: Duration::from_millis(15_000),
            flush_scheduler_interval: Duration::from_millis(1_000),
            offsets_topic_partitions: 50,
            group_initial_rebalance_delay: Duration::from_millis(3_000),
            group_min_session_timeout: Duration::from_millis(6_000),
            group_max_session_timeout: Duration::from_millis(1_800_000),
            offsets_retention: Duration::from_secs(7 * 24 * 3600),
            consumer_groups: Default::default(),
            transactions: Default::default(),
        }
    }
}

/// Kafka's broker-level name for a topic config (the synonym DescribeConfigs reports); `None`
/// for topic configs without one (the replication throttles, the remote-storage switches).
pub fn broker_synonym(topic_config: &str) -> Option<&'static str> {
    Some(match topic_config {
        "segment.bytes" => "log.segment.bytes",
        "segment.ms" => "log.roll.ms",
        "segment.jitter.ms" => "log.roll.jitter.ms",
        "segment.index.bytes" => "log.index.size.max.bytes",
        "index.interval.bytes" => "log.index.interval.bytes",
        "retention.ms" => "log.retention.ms",
        "retention.bytes" => "log.retention.bytes",
        "cleanup.policy" => "log.cleanup.policy",
        "delete.retention.ms" => "log.cleaner.delete.retention.ms",
        "min.compaction.lag.ms" => "log.cleaner.min.compaction.lag.ms",
        "max.compaction.lag.ms" => "log.cleaner.max.compaction.lag.ms",
        "min.cleanable.dirty.ratio" => "log.cleaner.min.cleanable.ratio",
        "flush.messages" => "log.flush.interval.messages",
        "flush.ms" => "log.flush.interval.ms",
        "max.message.bytes" => "message.max.bytes",
        "message.timestamp.type" => "log.message.timestamp.type",
        "message.timestamp.before.max.ms" => "log.message.timestamp.before.max.ms",
        "message.timestamp.after.max.ms" => "log.message.timestamp.after.max.ms",
        "message.format.version" => "log.message.format.version",
        "compression.type" => "compression.type",
        "compression.gzip.level" => "compression.gzip.level",
        "compression.lz4.level" => "compression.lz4.level",
        "compression.zstd.level" => "compression.zstd.level",
        "file.delete.delay.ms" => "log.segment.delete.delay.ms",
        "local.retention.ms" => "log.local.retention.ms",
        "local.retention.bytes" => "log.local.retention.bytes",
        "min.insync.replicas" => "min.insync.replicas",
        "preallocate" => "log.preallocate",
        "unclean.leader.election.enable" => "unclean.leader.election.enable",
        _ => return None,
    })
}

/// Kafka's DescribeConfigs config type of a topic config.
pub fn config_type(topic_config: &str) -> i8 {
    brook_log::config::config_kind(topic_config).id()
}

/// The topic config a broker-level name sets the default of (`log.retention.ms` →
/// `retention.ms`).
pub fn topic_config_for(broker_name: &str) -> Option<&'static str> {
    brook_log::config::LOG_CONFIG_NAMES
        .iter()
        .copied()
        .find(|topic_name| broker_synonym(topic_name) == Some(broker_name))
}

/// Broker property names [`BrokerConfig::set`] accepts besides the `log.*` defaults.
pub const BROKER_PROPERTY_NAMES: &[&str] = &[
    "node.id",
    "listeners",
    "advertised.listeners",
    "log.dirs",
    "log.dir",
    "num.partitions",
    "auto.create.topics.enable",
    "socket.request.max.bytes",
    "metrics.listen",
    "log.retention.check.interval.ms",
    "offsets.topic.num.partitions",
    "group.initial.rebalance.delay.ms",
    "group.min.session.timeout.ms",
    "group.max.session.timeout.ms",
    "offsets.retention.minutes",
    "group.consumer.session.timeout.ms",
    "group.consumer.heartbeat.interval.ms",
    "group.consumer.assignors",
    "log.cleaner.backoff.ms",
    "log.flush.scheduler.interval.ms",
    "transaction.state.log.num.partitions",
    "transaction.max.timeout.ms",
    "transactional.id.expiration.ms",
    "transaction.abort.timed.out.transaction.cleanup.interval.ms",
    "transaction.remove.expired.transaction.cleanup.interval.ms",
    // Fault injection for tests: a pause between a transaction's Prepare record and its
    // markers, so that a test can kill the broker there. Not a Kafka name.
    "test.transaction.marker.delay.ms",
];

impl BrokerConfig {
    /// Whether `name` is a property [`BrokerConfig::set`] knows.
    pub fn knows(name: &str) -> bool {
        BROKER_PROPERTY_NAMES.contains(&name) || topic_config_for(name).is_some()
    }

    /// Sets one property by its Kafka broker name (`server.properties` style).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidValue {
            name: name.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        };
        let value = value.trim();
        match name {
            "node.id" => {
                self.node_id = value.parse().map_err(|_| invalid("expected an integer"))?
            }
            "listeners" => self.listen = parse_listener(value).map_err(|r| invalid(&r))?,
            "advertised.listeners" => {
                let endpoint = first_endpoint(value).map_err(|r| invalid(&r))?;
                let (host, port) = endpoint
                    .rsplit_once(':')
                    .ok_or_else(|| invalid("expected host:port"))?;
                let port = port
                    .parse()
                    .map_err(|_| invalid("expected a port number"))?;
                self.advertised = Some((host.trim_matches(['[', ']']).to_string(), port));
            }
            "log.dirs" | "log.dir" => {
                let first = value.split(',').next().unwrap_or_default().trim();
                if first.is_empty() {
                    return Err(invalid("expected a directory"));
                }
                self.data_dir = PathBuf::from(first);
            }
            "num.partitions" => {
                self.num_partitions = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| invalid("expected an integer >= 1"))?
            }
            "auto.create.topics.enable" => {
                self.auto_create_topics = value
                    .parse()
                    .map_err(|_| invalid("expected true or false"))?
            }
            "socket.request.max.bytes" => {
                self.socket_request_max_bytes = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1024)
                    .ok_or_else(|| invalid("expected an integer >= 1024"))?
            }
            "metrics.listen" => {
                self.metrics_listen = match value {
                    "" | "off" => None,
                    addr => Some(
                        addr.parse()
                            .map_err(|_| invalid("expected host:port or off"))?,
                    ),
                }
            }
            "log.retention.check.interval.ms" => {
                self.retention_check_interval = millis(value).map_err(invalid)?
            }
            "offsets.retention.minutes" => {
                let minutes: u64 = value
                    .parse()
                    .ok()
                    .filter(|m| *m >= 1)
                    .ok_or_else(|| invalid("expected minutes >= 1"))?;
                self.offsets_retention = Duration::from_secs(minutes * 60);
            }
            "group.initial.rebalance.delay.ms" => {
                self.group_initial_rebalance_delay = Duration::from_millis(
                    value
                        .parse()
                        .map_err(|_| invalid("expected milliseconds"))?,
                )
            }
            "group.min.session.timeout.ms" => {
                self.group_min_session_timeout = millis(value).map_err(invalid)?
            }
            "group.max.session.timeout.ms" => {
                self.group_max_session_timeout = millis(value).map_err(invalid)?
            }
            "offsets.topic.num.partitions" => {
                self.offsets_topic_partitions = positive_int(value).map_err(invalid)?
            }
            "group.consumer.session.timeout.ms" => {
                self.consumer_groups.session_timeout = millis(value).map_err(invalid)?
            }
            "group.consumer.heartbeat.interval.ms" => {
                self.consumer_groups.heartbeat_interval = millis(value).map_err(invalid)?
            }
            "group.consumer.assignors" => {
                let assignors = value
                    .split(',')
                    .map(crate::coordinator::assignors::Assignor::from_name)
                    .collect::<Option<Vec<_>>>()
                    .filter(|list| !list.is_empty())
                    .ok_or_else(|| invalid("expected a list of uniform and range"))?;
                self.consumer_groups.assignors = assignors;
            }
            "transaction.state.log.num.partitions" => {
                self.transactions.partitions = positive_int(value).map_err(invalid)?
            }
            "transaction.max.timeout.ms" => {
                self.transactions.max_timeout_ms = positive_int(value).map_err(invalid)?
            }
            "transactional.id.expiration.ms" => {
                self.transactions.id_expiration = millis(value).map_err(invalid)?
            }
            "transaction.abort.timed.out.transaction.cleanup.interval.ms" => {
                self.transactions.abort_interval = millis(value).map_err(invalid)?
            }
            "transaction.remove.expired.transaction.cleanup.interval.ms" => {
                self.transactions.expiration_interval = millis(value).map_err(invalid)?
            }
            "test.transaction.marker.delay.ms" => {
                self.transactions.marker_delay = millis(value).map_err(invalid)?
            }
            "log.cleaner.backoff.ms" => self.cleaner_backoff = millis(value).map_err(invalid)?,
            "log.flush.scheduler.interval.ms" => {
                self.flush_scheduler_interval = millis(value).map_err(invalid)?
            }
            other => match topic_config_for(other) {
                Some(topic_name) => self.log_defaults.set(topic_name, value)?,
                None => return Err(ConfigError::UnknownName(other.to_string())),
            },
        }
        Ok(())
    }
}

fn positive_int(value: &str) -> Result<i32, &'static str> {
    value
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or("expected an integer >= 1")
}

fn millis(value: &str) -> Result<Duration, &'static str> {
    value
        .parse::<u64>()
        .ok()
        .filter(|ms| *ms >= 1)
        .map(Duration::from_millis)
        .ok_or("expected milliseconds >= 1")
}

/// `PLAINTEXT://127.0.0.1:9092` or `127.0.0.1:9092` (the first of a comma-separated list).
fn parse_listener(value: &str) -> Result<SocketAddr, String> {
    let endpoint = first_endpoint(value)?;
    let endpoint = endpoint.replace("localhost:", "127.0.0.1:");
    endpoint
        .parse()
        .map_err(|_| format!("'{endpoint}' is not ip:port"))
}

fn first_endpoint(value: &str) -> Result<String, String> {
    let first = value.split(',').next().unwrap_or_default().trim();
    match first.split_once("://") {
        Some(("PLAINTEXT", rest)) | Some(("plaintext", rest)) => Ok(rest.to_string()),
        Some((protocol, _)) => Err(format!(
            "security protocol {protocol} is not supported yet; use PLAINTEXT"
        )),
        None => Ok(first.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_broker_names_set_broker_and_topic_defaults() {
        let mut config = BrokerConfig::default();
        for (name, value) in [
            ("listeners", "PLAINTEXT://127.0.0.1:19092"),
            ("advertised.listeners", "PLAINTEXT://broker.local:19092"),
            ("log.dirs", "/var/lib/brook,/ignored"),
            ("num.partitions", "3"),
            ("auto.create.topics.enable", "false"),
            ("log.retention.ms", "1000"),
            ("log.segment.bytes", "1048576"),
            ("message.max.bytes", "2000000"),
            ("group.consumer.heartbeat.interval.ms", "500"),
            ("group.consumer.session.timeout.ms", "10000"),
            (
                "group.consumer.assignors",
                "range, org.apache.kafka.coordinator.group.assignor.UniformAssignor",
            ),
        ] {
            config.set(name, value).unwrap();
        }
        assert_eq!(config.listen, "127.0.0.1:19092".parse().unwrap());
        assert_eq!(config.advertised, Some(("broker.local".to_string(), 19092)));
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/brook"));
        assert_eq!(config.num_partitions, 3);
        assert!(!config.auto_create_topics);
        assert_eq!(config.log_defaults.retention_ms, 1000);
        assert_eq!(config.log_defaults.segment_bytes, 1_048_576);
        assert_eq!(config.log_defaults.max_message_bytes, 2_000_000);
        let groups = &config.consumer_groups;
        assert_eq!(groups.heartbeat_interval, Duration::from_millis(500));
        assert_eq!(groups.session_timeout, Duration::from_secs(10));
        use crate::coordinator::assignors::Assignor;
        assert_eq!(groups.assignors, vec![Assignor::Range, Assignor::Uniform]);
        assert!(config.set("group.consumer.assignors", "sticky").is_err());
    }

    #[test]
    fn bad_names_and_values_are_named_in_the_error() {
        let mut config = BrokerConfig::default();
        let err = config.set("log.retention.ms", "soon").unwrap_err();
        assert!(err.to_string().contains("retention.ms"), "{err}");
        assert!(matches!(
            config.set("no.such.thing", "1"),
            Err(ConfigError::UnknownName(_))
        ));
        assert!(
            config
                .set("listeners", "SSL://127.0.0.1:9093")
                .unwrap_err()
                .to_string()
                .contains("SSL")
        );
        assert!(config.set("num.partitions", "0").is_err());
    }
}
