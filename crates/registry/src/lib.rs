//! brook-registry: a schema registry compatible with Confluent's, for Brook or any
//! Kafka-compatible cluster.
//!
//! It serves Confluent's REST API ([`api`]) over the operations in [`registry`], keeps every
//! schema, compatibility level and mode in the compacted single-partition `_schemas` topic in
//! Confluent's own key/value JSON formats ([`state`], [`store`]), and checks compatibility
//! ([`compat`]) with each format's reader/writer rules ([`format`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), brook_registry::RegistryError> {
//! let server = brook_registry::RegistryServer::start(brook_registry::RegistryConfig {
//!     listen: "127.0.0.1:8081".parse().unwrap(),
//!     cluster: brook_client::ClusterSettings::new("127.0.0.1:9092"),
//!     topic: "_schemas".into(),
//!     advertised_url: None,
//! })
//! .await?;
//! println!("schema registry on http://{}", server.local_addr());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod api;
pub mod client;
pub mod compat;
pub mod election;
pub mod error;
pub mod format;
pub mod forward;
pub mod registry;
pub mod state;
pub mod store;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

pub use error::RegistryError;

/// Where the registry listens and keeps its schemas.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// HTTP address (Confluent's default port is 8081).
    pub listen: SocketAddr,
    /// The Kafka-compatible cluster holding the schemas topic.
    pub cluster: brook_client::ClusterSettings,
    /// The schemas topic (`kafkastore.topic`, default `_schemas`).
    pub topic: String,
    /// The URL other instances forward writes to when this one leads; default
    /// `http://` + the bound address (an unspecified address counting as loopback).
    pub advertised_url: Option<String>,
}

/// The URL other instances reach this one at (an unspecified bind address counts as
/// loopback).
fn url_of(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => std::net::Ipv4Addr::LOCALHOST.into(),
        ip if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// A running registry.
#[derive(Debug)]
pub struct RegistryServer {
    http: brook_client::http::HttpServer,
    election: Arc<election::Election>,
}

impl RegistryServer {
    /// Opens the schemas topic (reading it to its end) and starts serving.
    pub async fn start(config: RegistryConfig) -> Result<RegistryServer, RegistryError> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| RegistryError::Listen {
                addr: config.listen,
                reason: e.to_string(),
            })?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| RegistryError::Store(e.to_string()))?;
        let store = store::Store::open(&config.cluster, &config.topic).await?;
        let registry = Arc::new(registry::Registry::new(store));
        let election = Arc::new(election::Election::join(
            &config.cluster,
            &config.topic,
            &config
                .advertised_url
                .clone()
                .unwrap_or_else(|| url_of(local_addr)),
        )?);
        let writes = Arc::new(forward::Writes::new(election.clone(), registry.clone()));
        let app = api::router(registry).layer(axum::middleware::from_fn_with_state(
            writes,
            forward::route_writes,
        ));
        let http = brook_client::http::HttpServer::serve(listener, app)
            .map_err(|e| RegistryError::Store(e.to_string()))?;
        tracing::info!(%local_addr, topic = %config.topic, "schema registry listening");
        Ok(RegistryServer { http, election })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    /// Stops serving, waits for in-flight requests, and leaves the leader election.
    pub async fn shutdown(self) {
        self.http.stop().await;
        let election = self.election;
        let _ = tokio::task::spawn_blocking(move || election.leave()).await;
    }
}
