//! How the client subcommands reach a cluster: `--bootstrap-servers` (any Kafka-compatible
//! cluster), client settings with Kafka's names (`-X key=value`), and a check that the cluster
//! answers before anything else is attempted, so that an unreachable address is one clear
//! error instead of librdkafka retrying forever. The clients themselves are built by
//! brook-client from the [`ClusterSettings`] these flags name.

use std::time::Duration;

use anyhow::Context as _;
use brook_client::ClusterSettings;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::BaseConsumer;
use rdkafka::metadata::Metadata;
use rdkafka::producer::{BaseProducer, ProducerContext};

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

pub use brook_client::Quiet;

impl ConnectArgs {
    /// The cluster these flags name (brook-client builds every client from it).
    pub fn cluster(&self) -> anyhow::Result<ClusterSettings> {
        ClusterSettings::new(&self.bootstrap_servers)
            .with_timeout(self.timeout)
            .with_settings(&self.client_config)
            .map_err(|e| {
                Fail::usage(e.to_string().replace("client setting", "--client-config")).into()
            })
    }

    /// A client configuration with the bootstrap servers and every `-X` setting.
    pub fn config(&self) -> anyhow::Result<ClientConfig> {
        Ok(self.cluster()?.config())
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
        self.cluster()?
            .metadata(client, topic)
            .map_err(|e| Fail::unreachable(e.to_string()).into())
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
