//! brook-rest: Brook REST Proxy — Confluent's REST Proxy API over HTTP, served by
//! `brook serve` on 127.0.0.1:8082 and by `brook rest` against any Kafka cluster, for web
//! services, functions and scripts that cannot link a Kafka client.
//!
//! API v2 ([`v2`]): topics, partitions and brokers; produce in the binary, JSON, Avro, JSON
//! Schema and Protobuf embedded formats ([`formats`], schemas through the registry); consumer
//! instances (subscribe or assign, seek, read, commit) that expire when left idle. Errors have
//! Confluent's shape and codes ([`error`]).
//!
//! ```no_run
//! use brook_client::ClusterSettings;
//! use brook_rest::{RestConfig, RestServer};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = RestConfig::new(ClusterSettings::new("127.0.0.1:9092"));
//! let rest = RestServer::start(config, "127.0.0.1:8082".parse()?).await?;
//! println!("the REST proxy is on http://{}", rest.local_addr());
//! # Ok(()) }
//! ```

pub mod error;
pub mod formats;
pub mod kafka;
pub mod v2;
pub mod v3;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use brook_client::ClusterSettings;

/// What the REST proxy talks to, and its limits.
#[derive(Debug, Clone)]
pub struct RestConfig {
    /// The Kafka cluster.
    pub cluster: ClusterSettings,
    /// A Confluent-compatible schema registry, for the Avro, JSON Schema and Protobuf formats.
    pub schema_registry_url: Option<String>,
    /// Largest request body (Confluent's default is far larger; 64 MiB keeps one request
    /// from exhausting memory).
    pub max_body_bytes: usize,
    /// Most consumer instances open at once.
    pub max_consumer_instances: usize,
    /// An instance not used for this long is closed (`consumer.instance.timeout.ms`, 5 min).
    pub consumer_instance_timeout: Duration,
    /// The longest a records read waits (`consumer.request.timeout.ms`, 1 s).
    pub consumer_request_timeout: Duration,
    /// The most bytes a records read returns (`consumer.request.max.bytes`, 64 MiB).
    pub consumer_request_max_bytes: usize,
}

impl RestConfig {
    /// A REST proxy for `cluster` with Confluent's defaults.
    pub fn new(cluster: ClusterSettings) -> Self {
        RestConfig {
            cluster,
            schema_registry_url: None,
            max_body_bytes: 64 << 20,
            max_consumer_instances: 1000,
            consumer_instance_timeout: Duration::from_secs(300),
            consumer_request_timeout: Duration::from_secs(1),
            consumer_request_max_bytes: 64 << 20,
        }
    }
}

/// A running REST proxy.
pub struct RestServer {
    http: brook_client::http::HttpServer,
    state: Arc<v2::Proxy>,
}

impl RestServer {
    /// Serves the REST proxy on `listen` (on the current tokio runtime).
    pub async fn start(config: RestConfig, listen: SocketAddr) -> std::io::Result<RestServer> {
        let state =
            Arc::new(v2::Proxy::new(config).map_err(|e| std::io::Error::other(e.message.clone()))?);
        let app = v3::router(state.clone()).merge(v2::router(state.clone()));
        let http = brook_client::http::HttpServer::start(listen, app).await?;
        Ok(RestServer { http, state })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    /// Stops serving and closes every consumer instance.
    pub async fn shutdown(self) {
        self.http.stop().await;
        let state = self.state;
        let _ = tokio::task::spawn_blocking(move || state.consumers.close_all()).await;
    }
}
