//! brook-client: the one place where Brook builds Kafka clients (librdkafka through the
//! `rdkafka` crate). Every part of Brook that is a Kafka client — the CLI, the schema
//! registry's store and election, and the streams, connect, REST and console parts to come —
//! reaches its cluster through a [`ClusterSettings`]: the bootstrap servers, extra client
//! settings with Kafka's / librdkafka's names (security settings go here), and a timeout
//! that bounds connection setup and the first metadata request, so that an unreachable
//! cluster is one clear [`ClientError::Unreachable`] instead of a client retrying forever.
//!
//! ```no_run
//! use std::time::Duration;
//! use brook_client::{ClusterSettings, Quiet};
//! use rdkafka::consumer::{BaseConsumer, Consumer};
//!
//! let cluster = ClusterSettings::new("127.0.0.1:9092")
//!     .with_timeout(Duration::from_secs(5))
//!     .with_settings(&["client.id=rides-dashboard"])?;
//! let consumer: BaseConsumer<Quiet> = cluster.create(&[("group.id", "dashboards")], Quiet)?;
//! let metadata = cluster.metadata(consumer.client(), None)?;
//! println!("{} brokers", metadata.brokers().len());
//! # Ok::<(), brook_client::ClientError>(())
//! ```
//!
//! Concurrency: [`ClusterSettings`] is plain data (`Clone + Send + Sync`); the clients it
//! builds follow rdkafka's own contracts.

pub mod groups;
pub mod http;
pub mod topics;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::client::{Client, ClientContext};
use rdkafka::config::{ClientConfig, FromClientConfigAndContext, RDKafkaLogLevel};
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;
use rdkafka::producer::{DeliveryResult, ProducerContext};

/// What went wrong building or reaching a client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A client setting is not `KEY=VALUE`.
    #[error("invalid client setting '{setting}': expected KEY=VALUE")]
    BadSetting {
        /// The setting as given.
        setting: String,
    },
    /// librdkafka refused the configuration.
    #[error("cannot create a Kafka client: {0}")]
    Create(#[source] KafkaError),
    /// No broker answered within the timeout.
    #[error("cannot reach the cluster at {bootstrap} within {timeout}: {reason}")]
    Unreachable {
        /// The bootstrap servers.
        bootstrap: String,
        /// The timeout, human-readable.
        timeout: String,
        /// Why, in a few words.
        reason: String,
    },
}

/// How to reach one Kafka-compatible cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    /// `bootstrap.servers`: host:port, comma-separated.
    pub bootstrap_servers: String,
    /// Bounds connection setup (`socket.connection.setup.timeout.ms`) and metadata requests.
    pub timeout: Duration,
    /// Extra client settings with Kafka's / librdkafka's names, applied after Brook's own
    /// defaults and before a client's specific settings.
    pub settings: Vec<(String, String)>,
}

impl ClusterSettings {
    /// The cluster at `bootstrap_servers`, with a 10 s timeout and no extra settings.
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        ClusterSettings {
            bootstrap_servers: bootstrap_servers.into(),
            timeout: Duration::from_secs(10),
            settings: Vec::new(),
        }
    }

    /// With another timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// With extra `KEY=VALUE` settings (as `-X` flags give them).
    pub fn with_settings(mut self, settings: &[impl AsRef<str>]) -> Result<Self, ClientError> {
        for setting in settings {
            let setting = setting.as_ref();
            let (key, value) = setting
                .split_once('=')
                .ok_or_else(|| ClientError::BadSetting {
                    setting: setting.to_string(),
                })?;
            self.settings
                .push((key.trim().to_string(), value.trim().to_string()));
        }
        Ok(self)
    }

    /// The client configuration: bootstrap servers, the connection-setup timeout, the extra
    /// settings.
    pub fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        // Fail fast instead of retrying an unreachable cluster for minutes (librdkafka's
        // smallest allowed value is 1 s).
        config.set(
            "socket.connection.setup.timeout.ms",
            self.timeout.as_millis().max(1000).to_string(),
        );
        for (key, value) in &self.settings {
            config.set(key, value);
        }
        config
    }

    /// A client (consumer, producer or admin client) with `specific` settings on top of
    /// [`ClusterSettings::config`], and `context`.
    pub fn create<T, C>(&self, specific: &[(&str, &str)], context: C) -> Result<T, ClientError>
    where
        C: ClientContext,
        T: FromClientConfigAndContext<C>,
    {
        let mut config = self.config();
        for (key, value) in specific {
            config.set(*key, *value);
        }
        config
            .create_with_context(context)
            .map_err(ClientError::Create)
    }

    /// Cluster metadata (every topic, or one), or [`ClientError::Unreachable`].
    pub fn metadata<C: ClientContext>(
        &self,
        client: &Client<C>,
        topic: Option<&str>,
    ) -> Result<Metadata, ClientError> {
        client
            .fetch_metadata(topic, self.timeout)
            .map_err(|e| ClientError::Unreachable {
                bootstrap: self.bootstrap_servers.clone(),
                timeout: humantime::format_duration(self.timeout).to_string(),
                reason: describe_error(&e),
            })
    }
}

/// A short reason for a librdkafka error.
pub fn describe_error(error: &KafkaError) -> String {
    use rdkafka::types::RDKafkaErrorCode as Code;
    match error.rdkafka_error_code() {
        Some(Code::BrokerTransportFailure | Code::AllBrokersDown | Code::OperationTimedOut) => {
            "no broker answered (is it running, and is the address right?)".to_string()
        }
        Some(Code::Resolve) => "the address does not resolve".to_string(),
        Some(code) => code.to_string(),
        None => error.to_string(),
    }
}

/// A client context that keeps librdkafka's own log lines quiet: callers report what failed
/// themselves. With `BROOK_LOG` set they are printed to stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl ClientContext for Quiet {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        if std::env::var_os("BROOK_LOG").is_some() {
            eprintln!("librdkafka {level:?} {fac}: {log_message}");
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if std::env::var_os("BROOK_LOG").is_some() {
            eprintln!("librdkafka error {error}: {reason}");
        }
    }
}

impl ConsumerContext for Quiet {}

/// A consumer context like [`Quiet`] that raises a flag after every rebalance, so that a poll
/// loop re-reads its assignment only when it changed (reading it is a round trip to
/// librdkafka's group thread).
///
/// Concurrency: clones share the flag; librdkafka raises it from the polling thread.
#[derive(Debug, Clone, Default)]
pub struct RebalanceFlag(Arc<AtomicBool>);

impl RebalanceFlag {
    /// Whether a rebalance happened since the last call (the first call after creation says
    /// yes, so that the initial assignment is read too).
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }

    /// A flag that is raised: the first [`RebalanceFlag::take`] answers yes.
    pub fn raised() -> Self {
        RebalanceFlag(Arc::new(AtomicBool::new(true)))
    }
}

impl ClientContext for RebalanceFlag {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        Quiet.log(level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        Quiet.error(error, reason);
    }
}

impl ConsumerContext for RebalanceFlag {
    fn post_rebalance(
        &self,
        _: &rdkafka::consumer::BaseConsumer<Self>,
        _: &rdkafka::consumer::Rebalance<'_>,
    ) {
        self.0.store(true, Ordering::Release);
    }
}

impl ProducerContext for Quiet {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {}
}

/// Kafka's name for where a config value comes from (`DYNAMIC_TOPIC_CONFIG`, …), as
/// `kafka-configs.sh` and DescribeConfigs show it.
pub fn config_source_name(source: &rdkafka::admin::ConfigSource) -> &'static str {
    use rdkafka::admin::ConfigSource;
    match source {
        ConfigSource::Unknown => "UNKNOWN",
        ConfigSource::DynamicTopic => "DYNAMIC_TOPIC_CONFIG",
        ConfigSource::DynamicBroker => "DYNAMIC_BROKER_CONFIG",
        ConfigSource::DynamicDefaultBroker => "DYNAMIC_DEFAULT_BROKER_CONFIG",
        ConfigSource::StaticBroker => "STATIC_BROKER_CONFIG",
        ConfigSource::Default => "DEFAULT_CONFIG",
    }
}

/// Runs a future to completion on this thread: rdkafka's admin and delivery futures need no
/// async runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_layer_in_order_and_bad_ones_are_named() {
        let cluster = ClusterSettings::new("127.0.0.1:1")
            .with_timeout(Duration::from_millis(300))
            .with_settings(&["client.id = cli", "acks=all"])
            .unwrap();
        let config = cluster.config();
        assert_eq!(config.get("bootstrap.servers"), Some("127.0.0.1:1"));
        assert_eq!(
            config.get("socket.connection.setup.timeout.ms"),
            Some("1000"),
            "librdkafka's minimum"
        );
        assert_eq!(config.get("client.id"), Some("cli"));
        let error = ClusterSettings::new("x")
            .with_settings(&["oops"])
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid client setting 'oops': expected KEY=VALUE"
        );
    }

    #[test]
    fn an_unreachable_cluster_is_one_clear_error() {
        // A port nothing listens on: refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = ClusterSettings::new(format!("127.0.0.1:{port}"))
            .with_timeout(Duration::from_millis(500));
        let consumer: rdkafka::consumer::BaseConsumer<Quiet> =
            cluster.create(&[("group.id", "g")], Quiet).unwrap();
        use rdkafka::consumer::Consumer as _;
        let error = cluster.metadata(consumer.client(), None).unwrap_err();
        assert!(matches!(error, ClientError::Unreachable { .. }), "{error}");
        assert!(error.to_string().contains("within 500ms"), "{error}");
    }
}
