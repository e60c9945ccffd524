//! Brook's broker: the Apache Kafka wire protocol over [`brook_log`].
//!
//! Layout:
//! - [`server`]: the listener and graceful shutdown ([`Broker`]);
//! - [`connection`]: framing and request decoding, one request at a time per connection, responses in order;
//! - [`api`]: one module per Kafka API and the ApiVersions table;
//! - [`coordinator`]: committed offsets in `__consumer_offsets`;
//! - [`transactions`]: the transaction coordinator, being built (its record formats so far);
//! - [`topics`]: the topic registry and partition logs; [`metadata_log`]: its durable record;
//! - [`errors`]: the one mapping from typed errors to Kafka error codes;
//! - [`maintenance`]: the background retention, compaction and flush schedule;
//! - [`metrics`]: Prometheus metrics and the `/metrics` endpoint;
//! - [`refusals`]: the answers and the log for features Brook does not have yet;
//! - [`config`]: the settings ([`BrokerConfig`]); [`broker_configs`]: how DescribeConfigs lists
//!   them.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = brook_broker::BrokerConfig {
//!     listen: "127.0.0.1:0".parse()?,
//!     data_dir: "brook-data".into(),
//!     ..Default::default()
//! };
//! let broker = brook_broker::Broker::start(config).await?;
//! println!("bootstrap.servers={}", broker.local_addr());
//! broker.shutdown().await;
//! # Ok(()) }
//! ```

pub mod api;
pub mod broker_configs;
pub mod config;
pub mod connection;
pub mod coordinator;
pub mod errors;
pub mod maintenance;
pub mod metadata_log;
pub mod metrics;
mod record_codec;
pub mod refusals;
pub mod server;
pub mod topics;
pub mod transactions;

pub use config::BrokerConfig;

/// Wall-clock time in milliseconds since the epoch (0 if the clock is before it), as the
/// coordinators and handlers stamp records.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
pub use server::{Broker, BrokerContext, StartError};
