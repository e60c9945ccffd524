//! Broker settings, named as Kafka names them where Kafka has a name.

use std::net::SocketAddr;
use std::path::PathBuf;

use brook_log::LogConfig;

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
        }
    }
}

/// Kafka's broker-level name for a topic config (the synonym DescribeConfigs reports).
pub fn broker_synonym(topic_config: &str) -> Option<&'static str> {
    Some(match topic_config {
        "segment.bytes" => "log.segment.bytes",
        "segment.ms" => "log.roll.ms",
        "segment.index.bytes" => "log.index.size.max.bytes",
        "index.interval.bytes" => "log.index.interval.bytes",
        "retention.ms" => "log.retention.ms",
        "retention.bytes" => "log.retention.bytes",
        "cleanup.policy" => "log.cleanup.policy",
        "delete.retention.ms" => "log.cleaner.delete.retention.ms",
        "min.compaction.lag.ms" => "log.cleaner.min.compaction.lag.ms",
        "flush.messages" => "log.flush.interval.messages",
        "flush.ms" => "log.flush.interval.ms",
        "max.message.bytes" => "message.max.bytes",
        "message.timestamp.type" => "log.message.timestamp.type",
        "message.timestamp.before.max.ms" => "log.message.timestamp.before.max.ms",
        "message.timestamp.after.max.ms" => "log.message.timestamp.after.max.ms",
        _ => return None,
    })
}

/// Kafka's DescribeConfigs config type of a topic config (3 INT, 5 LONG, 7 LIST, 2 STRING).
pub fn config_type(topic_config: &str) -> i8 {
    match topic_config {
        "segment.bytes" | "segment.index.bytes" | "index.interval.bytes" | "max.message.bytes" => 3,
        "cleanup.policy" => 7,
        "message.timestamp.type" => 2,
        _ => 5,
    }
}
