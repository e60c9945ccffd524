//! brook-console: Brook's web console, served by `brook serve` on 127.0.0.1:9021 and by
//! `brook console` against any Kafka cluster — pages embedded in the binary ([`assets`]) over
//! a JSON API under `/api` ([`api`]) that talks to the cluster as a client ([`cluster`]).
//!
//! Work in progress (issue 16): the overview and the topics pages.
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
pub mod cluster;

use std::net::SocketAddr;
use std::sync::Arc;

use brook_client::ClusterSettings;

/// What the console talks to.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// The Kafka cluster.
    pub cluster: ClusterSettings,
}

impl ConsoleConfig {
    /// A console for `cluster`.
    pub fn new(cluster: ClusterSettings) -> Self {
        ConsoleConfig { cluster }
    }
}

/// A running console.
pub struct ConsoleServer {
    http: brook_client::http::HttpServer,
}

impl ConsoleServer {
    /// Serves the console on `listen` (on the current tokio runtime).
    pub async fn start(
        config: ConsoleConfig,
        listen: SocketAddr,
    ) -> std::io::Result<ConsoleServer> {
        let cluster =
            cluster::Cluster::new(config.cluster).map_err(|e| std::io::Error::other(e.message))?;
        let app = api::router(Arc::new(cluster)).merge(assets::router());
        let http = brook_client::http::HttpServer::start(listen, app).await?;
        Ok(ConsoleServer { http })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    /// Stops serving.
    pub async fn shutdown(self) {
        self.http.stop().await;
    }
}
