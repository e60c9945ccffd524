//! `brook serve`: the broker on its defaults (127.0.0.1:9092, data in ./brook-data), with
//! graceful shutdown on SIGINT / SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use brook_broker::{Broker, BrokerConfig};

#[derive(clap::Args)]
pub struct Args {
    /// Address the Kafka listener binds.
    #[arg(long, env = "BROOK_LISTEN", default_value = "127.0.0.1:9092")]
    listen: SocketAddr,
    /// host:port clients are told to connect to (Kafka's advertised.listeners); defaults to the
    /// bound address.
    #[arg(long, env = "BROOK_ADVERTISED_LISTENER")]
    advertised_listener: Option<String>,
    /// Where partitions are stored (Kafka's log.dirs).
    #[arg(long, env = "BROOK_DATA_DIR", default_value = "brook-data")]
    data_dir: PathBuf,
    /// Partitions of auto-created topics (Kafka's num.partitions).
    #[arg(long, env = "BROOK_NUM_PARTITIONS", default_value_t = 1)]
    num_partitions: i32,
    /// Create topics on first use (Kafka's auto.create.topics.enable).
    #[arg(long, env = "BROOK_AUTO_CREATE_TOPICS_ENABLE", default_value_t = true, action = clap::ArgAction::Set)]
    auto_create_topics_enable: bool,
    /// Address of the Prometheus /metrics endpoint; "off" disables it.
    #[arg(long, env = "BROOK_METRICS_LISTEN", default_value = "127.0.0.1:9644")]
    metrics_listen: String,
    /// Default topic configs as name=value with Kafka's names, e.g. --log-config segment.bytes=104857600.
    #[arg(long = "log-config", value_name = "NAME=VALUE")]
    log_config: Vec<String>,
}

pub fn run(args: &Args) -> Result<()> {
    let mut config = BrokerConfig {
        listen: args.listen,
        data_dir: args.data_dir.clone(),
        num_partitions: args.num_partitions,
        auto_create_topics: args.auto_create_topics_enable,
        metrics_listen: match args.metrics_listen.as_str() {
            "off" => None,
            addr => Some(
                addr.parse()
                    .with_context(|| format!("--metrics-listen '{addr}' is not an address"))?,
            ),
        },
        ..BrokerConfig::default()
    };
    if let Some(advertised) = &args.advertised_listener {
        let (host, port) = advertised
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
            .with_context(|| format!("--advertised-listener '{advertised}' is not host:port"))?;
        config.advertised = Some((host, port));
    }
    for pair in &args.log_config {
        let (name, value) = pair
            .split_once('=')
            .with_context(|| format!("--log-config '{pair}' is not NAME=VALUE"))?;
        config.log_defaults.set(name, value)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let broker = Broker::start(config).await?;
        tracing::info!(bootstrap = %broker.local_addr(), data_dir = %args.data_dir.display(), "Brook is ready");
        wait_for_signal().await?;
        tracing::info!("shutting down");
        broker.shutdown().await;
        Ok(())
    })
}

async fn wait_for_signal() -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = terminate.recv() => {}
    }
    Ok(())
}
