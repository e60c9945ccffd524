//! brook-console: Brook's web console, served by `brook serve` on 127.0.0.1:9021 and by
//! `brook console` against any Kafka cluster — pages embedded in the binary ([`assets`]) over
//! a JSON API under `/api` ([`api`]) that talks to the cluster as a client ([`cluster`]):
//! the message browser ([`browse`]), live numbers ([`metrics`]), and the schema registry's,
//! Kafka Connect's and ksqlDB's APIs passed through ([`proxy`]). docs/console.md describes
//! the pages and the API.
//!
//! ```no_run
//! use brook_client::ClusterSettings;
//! use brook_console::{ConsoleConfig, ConsoleServer};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ConsoleConfig::new(ClusterSettings::new("127.0.0.1:9092"));
//! let console = ConsoleServer::start(config, "127.0.0.1:9021".parse()?).await?;
//! println!("the console is on http://{}", console.local_addr());
//! # Ok(()) }
//! ```

pub mod api;
pub mod assets;
pub mod browse;
pub mod cluster;
pub mod metrics;
pub mod proxy;

use std::net::SocketAddr;
use std::sync::Arc;

use brook_client::ClusterSettings;

/// What the console talks to.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// The Kafka cluster.
    pub cluster: ClusterSettings,
    /// A Confluent-compatible schema registry (`http://127.0.0.1:8081`), to decode and encode
    /// records and for the schemas page.
    pub schema_registry_url: Option<String>,
    /// A Kafka Connect REST API (`http://127.0.0.1:8083`), for the connectors page.
    pub connect_url: Option<String>,
    /// A ksqlDB-compatible server (`http://127.0.0.1:8088`), for the SQL page.
    pub sql_url: Option<String>,
    /// The brokers' Prometheus endpoints (`http://127.0.0.1:9644/metrics`), for the live
    /// charts of bytes, records, latency and disk; without them the charts show records per
    /// second from the partitions' offsets.
    pub metrics_urls: Vec<String>,
}

impl ConsoleConfig {
    /// A console for `cluster`.
    pub fn new(cluster: ClusterSettings) -> Self {
        ConsoleConfig {
            cluster,
            schema_registry_url: None,
            connect_url: None,
            sql_url: None,
            metrics_urls: Vec::new(),
        }
    }
}

/// A running console.
pub struct ConsoleServer {
    http: brook_client::http::HttpServer,
    console: Arc<api::Console>,
}

impl ConsoleServer {
    /// Serves the console on `listen` (on the current tokio runtime).
    pub async fn start(
        config: ConsoleConfig,
        listen: SocketAddr,
    ) -> std::io::Result<ConsoleServer> {
        let cluster = cluster::Cluster::new(config.cluster, config.schema_registry_url.as_deref())
            .map_err(|e| std::io::Error::other(e.message))?;
        let cluster = Arc::new(cluster);
        let console = Arc::new(api::Console {
            sampler: metrics::Sampler::start(cluster.clone(), config.metrics_urls),
            cluster,
            services: api::Services {
                schema_registry: config.schema_registry_url,
                connect: config.connect_url,
                sql: config.sql_url,
            },
        });
        let proxied = |path: &str, upstream: proxy::Upstream| {
            let any = axum::routing::any(proxy::forward);
            axum::Router::new()
                .route(&format!("{path}/{{*rest}}"), any)
                .with_state(upstream)
        };
        let app = api::router(console.clone())
            .merge(proxied(
                "/api/registry",
                proxy::Upstream::new(
                    "the schema registry",
                    "--schema-registry-url",
                    console.services.schema_registry.clone(),
                ),
            ))
            .merge(proxied(
                "/api/connect",
                proxy::Upstream::new(
                    "Kafka Connect",
                    "--connect-url",
                    console.services.connect.clone(),
                ),
            ))
            .merge(proxied(
                "/api/sql",
                proxy::Upstream::new("Brook SQL", "--sql-url", console.services.sql.clone()),
            ))
            .merge(assets::router());
        let http = brook_client::http::HttpServer::start(listen, app).await?;
        Ok(ConsoleServer { http, console })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    /// Stops serving.
    pub async fn shutdown(self) {
        self.http.stop().await;
        self.console.sampler.halt();
    }
}
