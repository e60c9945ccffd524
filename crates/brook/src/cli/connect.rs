//! How the client subcommands reach a cluster: `--bootstrap-servers` (any Kafka-compatible
//! cluster), client settings with Kafka's names (`-X key=value`), and a check that the cluster
//! answers before anything else is attempted, so that an unreachable address is one clear
//! error instead of librdkafka retrying forever.

use std::time::Duration;

use anyhow::Context as _;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;
use rdkafka::producer::{BaseProducer, DeliveryResult, ProducerContext};

use super::Fail;

/// Connection flags shared by every client subcommand.
#[derive(clap::Args, Debug, Clone)]
pub struct ConnectArgs {
    /// Kafka-compatible bootstrap servers (host:port, comma-separated).
    #[arg(
        short = 'b',
        long,
        env = "BROOK_BOOTSTRAP_SERVERS",
        default_value = "localhost:9092",
        global = true
    )]
    pub bootstrap_servers: String,
    /// How long to wait for the cluster to answer, e.g. 10s or 500ms.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub timeout: Duration,
    /// Extra client settings with librdkafka's / Kafka's names, e.g. -X security.protocol=ssl.
    #[arg(
        short = 'X',
        long = "client-config",
        value_name = "KEY=VALUE",
        global = true
    )]
    pub client_config: Vec<String>,
}

/// A client context that keeps librdkafka's own log lines off the terminal: the CLI reports
/// what failed itself, in one line. `BROOK_LOG=debug` shows them again.
#[derive(Clone, Default)]
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

impl ProducerContext for Quiet {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {}
}

impl ConnectArgs {
    /// A client configuration with the bootstrap servers and every `-X` setting.
    pub fn config(&self) -> anyhow::Result<ClientConfig> {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        // Fail fast instead of retrying an unreachable cluster for minutes.
        config.set(
            "socket.connection.setup.timeout.ms",
            self.timeout.as_millis().to_string(),
        );
        for setting in &self.client_config {
            let (key, value) = setting.split_once('=').ok_or_else(|| {
                Fail::usage(format!(
                    "invalid --client-config '{setting}': expected KEY=VALUE"
                ))
            })?;
            config.set(key.trim(), value.trim());
        }
        Ok(config)
    }

    /// An admin client.
    pub fn admin(&self) -> anyhow::Result<AdminClient<Quiet>> {
        self.config()?
            .create_with_context(Quiet)
            .context("cannot create an admin client")
    }

    /// A consumer that belongs to no group unless `group` is given.
    pub fn consumer(&self, group: Option<&str>) -> anyhow::Result<BaseConsumer<Quiet>> {
        let mut config = self.config()?;
        config
            .set("group.id", group.unwrap_or("brook-cli"))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false");
        config
            .create_with_context(Quiet)
            .context("cannot create a consumer")
    }

    /// A producer with the given extra settings.
    pub fn producer<C: ProducerContext>(
        &self,
        settings: &[(&str, String)],
        context: C,
    ) -> anyhow::Result<BaseProducer<C>> {
        let mut config = self.config()?;
        for (key, value) in settings {
            config.set(*key, value);
        }
        config
            .create_with_context(context)
            .context("cannot create a producer")
    }

    /// Admin options with this timeout.
    pub fn admin_options(&self) -> AdminOptions {
        AdminOptions::new().request_timeout(Some(self.timeout))
    }

    /// Cluster metadata (all topics, or one), or an "unreachable" failure.
    pub fn metadata<C: ClientContext>(
        &self,
        client: &rdkafka::client::Client<C>,
        topic: Option<&str>,
    ) -> anyhow::Result<Metadata> {
        client.fetch_metadata(topic, self.timeout).map_err(|e| {
            Fail::unreachable(format!(
                "cannot reach the cluster at {} within {}: {}",
                self.bootstrap_servers,
                humantime::format_duration(self.timeout),
                describe_error(&e)
            ))
            .into()
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

/// Runs an async admin call to completion on a small runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime builds")
        .block_on(future)
}
