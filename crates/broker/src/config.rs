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
        }
    }
}
