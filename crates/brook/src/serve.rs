//! `brook serve`: the broker on its defaults (127.0.0.1:9092, data in ./brook-data), with
//! graceful shutdown on SIGINT / SIGTERM.
//!
//! Settings use Kafka's broker property names (`listeners`, `log.dirs`, `num.partitions`,
//! `log.retention.ms`, …) and are layered: defaults, then a TOML file (`--config`), then
//! `BROOK_*` environment variables (`BROOK_LOG_RETENTION_MS` sets `log.retention.ms`), then
//! `--set name=value`, then the convenience flags below.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use brook_broker::{Broker, BrokerConfig};

#[derive(clap::Args)]
pub struct Args {
    /// A TOML file of Kafka-named properties, e.g. `listeners = "127.0.0.1:9092"` and
    /// `log.retention.ms = 86400000`.
    #[arg(long, env = "BROOK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Any property by its Kafka name; repeatable. Example: --set log.segment.bytes=104857600
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Address the Kafka listener binds (`listeners`; default 127.0.0.1:9092).
    #[arg(long)]
    listen: Option<String>,
    /// host:port clients are told to connect to (`advertised.listeners`).
    #[arg(long)]
    advertised_listener: Option<String>,
    /// Where partitions are stored (`log.dirs`; default ./brook-data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Partitions of auto-created topics (`num.partitions`; default 1).
    #[arg(long)]
    num_partitions: Option<i32>,
    /// Address of the Prometheus /metrics endpoint, or "off" (`metrics.listen`; default
    /// 127.0.0.1:9644).
    #[arg(long)]
    metrics_listen: Option<String>,
    /// Address of the schema registry, or "off" (`registry.listen`; default 127.0.0.1:8081).
    #[arg(long)]
    registry_listen: Option<String>,
    /// The schema registry's URL as other registry instances reach it, for forwarding writes
    /// when it leads (`registry.advertised.url`; default http:// + its address).
    #[arg(long)]
    registry_advertised_url: Option<String>,
    /// Address of Brook SQL's ksqlDB-compatible REST API, or "off" (`sql.listen`; default
    /// 127.0.0.1:8088).
    #[arg(long)]
    sql_listen: Option<String>,
    /// Address of Brook Connect's Kafka Connect REST API, or "off" (`connect.listen`;
    /// default 127.0.0.1:8083).
    #[arg(long)]
    connect_listen: Option<String>,
    /// Address of the web console, or "off" (`console.listen`; default 127.0.0.1:9021).
    #[arg(long)]
    console_listen: Option<String>,
    /// Address of the REST proxy (Confluent's REST Proxy API), or "off" (`rest.listen`;
    /// default 127.0.0.1:8082).
    #[arg(long)]
    rest_listen: Option<String>,
}

/// Everything `brook serve` runs: the broker, and beside it the schema registry, Brook SQL
/// and Brook Connect.
#[derive(Debug)]
pub struct ServeConfig {
    /// The broker.
    pub broker: BrokerConfig,
    /// Where the schema registry listens (`registry.listen`; None: not started).
    pub registry_listen: Option<std::net::SocketAddr>,
    /// Its URL for other registry instances (`registry.advertised.url`).
    pub registry_advertised_url: Option<String>,
    /// Where Brook SQL listens (`sql.listen`; None: not started).
    pub sql_listen: Option<std::net::SocketAddr>,
    /// Brook SQL's `ksql.service.id` (`sql.service.id`; default `default_`).
    pub sql_service_id: String,
    /// Where Brook Connect listens (`connect.listen`; None: not started).
    pub connect_listen: Option<std::net::SocketAddr>,
    /// Where the console listens (`console.listen`; None: not started).
    pub console_listen: Option<std::net::SocketAddr>,
    /// Where the REST proxy listens (`rest.listen`; None: not started).
    pub rest_listen: Option<std::net::SocketAddr>,
}

/// A service's `*.listen` value: host:port, or "off" (or empty) for not started.
fn listen_address(name: &str, value: &str) -> Result<Option<std::net::SocketAddr>> {
    match value {
        "" | "off" => Ok(None),
        addr => Ok(Some(addr.parse().with_context(|| {
            format!("{name} '{addr}' is not host:port or off")
        })?)),
    }
}

impl ServeConfig {
    fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let listen = match name {
            "registry.listen" => Some(&mut self.registry_listen),
            "sql.listen" => Some(&mut self.sql_listen),
            "connect.listen" => Some(&mut self.connect_listen),
            "console.listen" => Some(&mut self.console_listen),
            "rest.listen" => Some(&mut self.rest_listen),
            _ => None,
        };
        if let Some(slot) = listen {
            *slot = listen_address(name, value)?;
            return Ok(());
        }
        if name == "registry.advertised.url" {
            self.registry_advertised_url = Some(advertised_url(value)?);
            return Ok(());
        }
        if name == "sql.service.id" {
            anyhow::ensure!(!value.is_empty(), "sql.service.id must not be empty");
            self.sql_service_id = value.to_string();
            return Ok(());
        }
        Ok(self.broker.set(name, value)?)
    }

    fn knows(name: &str) -> bool {
        matches!(
            name,
            "registry.listen"
                | "registry.advertised.url"
                | "sql.listen"
                | "sql.service.id"
                | "connect.listen"
                | "console.listen"
                | "rest.listen"
        ) || BrokerConfig::knows(name)
    }
}

/// Checks a registry URL others reach this one at.
pub fn advertised_url(value: &str) -> Result<String> {
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
        .with_context(|| format!("registry.advertised.url '{value}' is not an http:// URL"))?;
    anyhow::ensure!(
        !rest.trim_end_matches('/').is_empty(),
        "registry.advertised.url '{value}' names no host"
    );
    Ok(value.trim_end_matches('/').to_string())
}

/// Builds the configuration from every layer.
pub fn serve_config(
    args: &Args,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<ServeConfig> {
    let mut config = ServeConfig {
        broker: BrokerConfig {
            metrics_listen: Some("127.0.0.1:9644".parse()?),
            ..BrokerConfig::default()
        },
        registry_listen: Some("127.0.0.1:8081".parse()?),
        registry_advertised_url: None,
        sql_listen: Some("127.0.0.1:8088".parse()?),
        sql_service_id: "default_".to_string(),
        connect_listen: Some("127.0.0.1:8083".parse()?),
        console_listen: Some("127.0.0.1:9021".parse()?),
        rest_listen: Some("127.0.0.1:8082".parse()?),
    };
    if let Some(path) = &args.config {
        for (name, value) in read_toml(path)? {
            config
                .set(&name, &value)
                .with_context(|| format!("in {}", path.display()))?;
        }
    }
    for (key, value) in env {
        let Some(rest) = key.strip_prefix("BROOK_") else {
            continue;
        };
        let name = rest.to_lowercase().replace('_', ".");
        if ServeConfig::knows(&name) {
            config
                .set(&name, &value)
                .with_context(|| format!("in environment variable {key}"))?;
        }
    }
    for pair in &args.set {
        let (name, value) = pair
            .split_once('=')
            .with_context(|| format!("--set '{pair}' is not NAME=VALUE"))?;
        config.set(name.trim(), value)?;
    }
    let flags = [
        ("listeners", args.listen.clone()),
        ("advertised.listeners", args.advertised_listener.clone()),
        (
            "log.dirs",
            args.data_dir.as_ref().map(|d| d.display().to_string()),
        ),
        ("num.partitions", args.num_partitions.map(|n| n.to_string())),
        ("metrics.listen", args.metrics_listen.clone()),
        ("registry.listen", args.registry_listen.clone()),
        (
            "registry.advertised.url",
            args.registry_advertised_url.clone(),
        ),
        ("sql.listen", args.sql_listen.clone()),
        ("connect.listen", args.connect_listen.clone()),
        ("console.listen", args.console_listen.clone()),
        ("rest.listen", args.rest_listen.clone()),
    ];
    for (name, value) in flags {
        if let Some(value) = value {
            config
                .set(name, &value)
                .with_context(|| format!("flag for {name}"))?;
        }
    }
    Ok(config)
}

/// Reads a TOML file into flat Kafka property names: nested tables join with dots, so both
/// `log.retention.ms = 1` and `[log] retention.ms = 1` mean `log.retention.ms`.
fn read_toml(path: &Path) -> Result<Vec<(String, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))?;
    let mut out = Vec::new();
    flatten("", &toml::Value::Table(table), &mut out)?;
    Ok(out)
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut Vec<(String, String)>) -> Result<()> {
    let text = match value {
        toml::Value::Table(table) => {
            for (key, inner) in table {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, inner, out)?;
            }
            return Ok(());
        }
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Array(items) => {
            let mut parts = Vec::new();
            for item in items {
                let mut one = Vec::new();
                flatten(prefix, item, &mut one)?;
                parts.extend(one.into_iter().map(|(_, v)| v));
            }
            parts.join(",")
        }
        toml::Value::Datetime(_) => bail!("{prefix}: dates are not a valid setting"),
    };
    out.push((prefix.to_string(), text));
    Ok(())
}

pub fn run(args: &Args) -> Result<()> {
    let config = serve_config(args, std::env::vars())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let data_dir = config.broker.data_dir.clone();
        let broker = Broker::start(config.broker).await?;
        // The services beside the broker reach it on loopback when it listens everywhere.
        let mut bootstrap = broker.local_addr();
        if bootstrap.ip().is_unspecified() {
            bootstrap.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let mut services = Services::default();
        let started: Result<()> = async {
            if let Some(listen) = config.registry_listen {
                let registry =
                    brook_registry::RegistryServer::start(brook_registry::RegistryConfig {
                        listen,
                        cluster: brook_client::ClusterSettings::new(bootstrap.to_string()),
                        topic: "_schemas".into(),
                        advertised_url: config.registry_advertised_url.clone(),
                    })
                    .await
                    .map_err(anyhow::Error::new)
                    .context(
                        "cannot start the schema registry (--registry-listen sets its \
                         address, or off)",
                    )?;
                services.registry = Some(registry);
            }
            let registry_url = services
                .registry
                .as_ref()
                .map(|r| format!("http://{}", r.local_addr()));
            if let Some(listen) = config.sql_listen {
                let mut engine = brook_sql::engine::EngineConfig::new(
                    brook_client::ClusterSettings::new(bootstrap.to_string()),
                    data_dir.join("ksql-state"),
                );
                engine.service_id = config.sql_service_id.clone();
                engine.schema_registry_url = registry_url.clone();
                let sql = start_sql(engine, listen)
                    .await
                    .context("cannot start Brook SQL (--sql-listen sets its address, or off)")?;
                services.sql = Some(sql);
            }
            if let Some(listen) = config.connect_listen {
                let mut worker = brook_connect::worker::WorkerConfig::new(
                    brook_client::ClusterSettings::new(bootstrap.to_string()),
                    listen.to_string(),
                );
                worker.schema_registry_url = registry_url.clone();
                let connect = start_connect(worker, listen).await.context(
                    "cannot start Brook Connect (--connect-listen sets its address, or off)",
                )?;
                services.connect = Some(connect);
            }
            if let Some(listen) = config.rest_listen {
                let mut rest = brook_rest::RestConfig::new(brook_client::ClusterSettings::new(
                    bootstrap.to_string(),
                ));
                rest.schema_registry_url = registry_url.clone();
                let server = brook_rest::RestServer::start(rest, listen)
                    .await
                    .map_err(anyhow::Error::new)
                    .context(
                        "cannot start the REST proxy (--rest-listen sets its address, or off)",
                    )?;
                services.rest = Some(server);
            }
            if let Some(listen) = config.console_listen {
                let mut console_config = brook_console::ConsoleConfig::new(
                    brook_client::ClusterSettings::new(bootstrap.to_string()),
                );
                console_config.schema_registry_url = registry_url.clone();
                console_config.connect_url = services
                    .connect
                    .as_ref()
                    .map(|c| format!("http://{}", c.local_addr()));
                console_config.sql_url = services
                    .sql
                    .as_ref()
                    .map(|s| format!("http://{}", s.local_addr()));
                console_config.metrics_urls = broker
                    .metrics_addr()
                    .map(|a| {
                        let mut a = a;
                        if a.ip().is_unspecified() {
                            a.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                        }
                        format!("http://{a}/metrics")
                    })
                    .into_iter()
                    .collect();
                let console = brook_console::ConsoleServer::start(console_config, listen)
                    .await
                    .map_err(anyhow::Error::new)
                    .context(
                        "cannot start the console (--console-listen sets its address, or off)",
                    )?;
                services.console = Some(console);
            }
            Ok(())
        }
        .await;
        if let Err(e) = started {
            services.shutdown().await;
            broker.shutdown().await;
            return Err(e);
        }
        tracing::info!(
            bootstrap = %broker.local_addr(),
            metrics = ?broker.metrics_addr(),
            registry = ?services.registry.as_ref().map(|r| r.local_addr()),
            sql = ?services.sql.as_ref().map(|s| s.local_addr()),
            connect = ?services.connect.as_ref().map(|c| c.local_addr()),
            console = ?services.console.as_ref().map(|c| c.local_addr()),
            rest = ?services.rest.as_ref().map(|r| r.local_addr()),
            data_dir = %data_dir.display(),
            "Brook is ready"
        );
        wait_for_signal().await?;
        tracing::info!("shutting down");
        services.shutdown().await;
        broker.shutdown().await;
        Ok(())
    })
}

/// The services `brook serve` runs beside the broker, each when it is not off.
#[derive(Default)]
struct Services {
    registry: Option<brook_registry::RegistryServer>,
    sql: Option<brook_sql::server::SqlServer>,
    connect: Option<brook_connect::rest::ConnectServer>,
    console: Option<brook_console::ConsoleServer>,
    rest: Option<brook_rest::RestServer>,
}

impl Services {
    /// Stops them in the reverse of their start (the registry, which the others use, last).
    async fn shutdown(self) {
        if let Some(console) = self.console {
            console.shutdown().await;
        }
        if let Some(rest) = self.rest {
            rest.shutdown().await;
        }
        if let Some(connect) = self.connect {
            connect.shutdown().await;
        }
        if let Some(sql) = self.sql {
            sql.shutdown().await;
        }
        if let Some(registry) = self.registry {
            registry.shutdown().await;
        }
    }
}

/// `brook registry`: the schema registry alone, on any Kafka-compatible cluster.
pub fn run_registry(
    listen: std::net::SocketAddr,
    topic: &str,
    advertised_url: Option<&str>,
    connect: &crate::cli::connect::ConnectArgs,
) -> Result<()> {
    let config = brook_registry::RegistryConfig {
        listen,
        cluster: connect.cluster()?,
        topic: topic.to_string(),
        advertised_url: advertised_url.map(self::advertised_url).transpose()?,
    };
    run_alone(
        "the schema registry",
        &connect.bootstrap_servers,
        async move { Ok(brook_registry::RegistryServer::start(config).await?) },
        brook_registry::RegistryServer::local_addr,
        |registry| Box::pin(registry.shutdown()),
    )
}

/// Starts Brook SQL: the engine replays its command topic, then the REST API listens.
async fn start_sql(
    config: brook_sql::engine::EngineConfig,
    listen: std::net::SocketAddr,
) -> Result<brook_sql::server::SqlServer> {
    let engine = tokio::task::spawn_blocking(move || brook_sql::engine::Engine::start(config))
        .await?
        .map_err(|e| anyhow::anyhow!(e.message))?;
    Ok(brook_sql::server::SqlServer::start(engine, listen).await?)
}

/// `brook sql-server`: Brook SQL alone, on any Kafka-compatible cluster.
pub fn run_sql_server(
    listen: std::net::SocketAddr,
    service_id: &str,
    state_dir: &Path,
    schema_registry_url: Option<&str>,
    connect: &crate::cli::connect::ConnectArgs,
) -> Result<()> {
    let mut config =
        brook_sql::engine::EngineConfig::new(connect.cluster()?, state_dir.to_path_buf());
    config.service_id = service_id.to_string();
    config.schema_registry_url = schema_registry_url.map(|u| u.trim_end_matches('/').to_string());
    run_alone(
        "Brook SQL",
        &connect.bootstrap_servers,
        start_sql(config, listen),
        brook_sql::server::SqlServer::local_addr,
        |server| Box::pin(server.shutdown()),
    )
}

/// Starts a Brook Connect worker (it reads its config topic and starts the connectors
/// there), then its REST API.
async fn start_connect(
    config: brook_connect::worker::WorkerConfig,
    listen: std::net::SocketAddr,
) -> Result<brook_connect::rest::ConnectServer> {
    let worker = tokio::task::spawn_blocking(move || brook_connect::worker::Worker::start(config))
        .await?
        .map_err(|e| anyhow::anyhow!(e.message))?;
    Ok(brook_connect::rest::ConnectServer::start_with_loggers(
        worker,
        listen,
        crate::logging::connect_loggers(),
    )
    .await?)
}

/// `brook connect`'s worker settings.
pub struct ConnectWorkerArgs<'a> {
    pub listen: std::net::SocketAddr,
    pub group_id: &'a str,
    /// The config, offset and status topics.
    pub topics: [&'a str; 3],
    pub schema_registry_url: Option<&'a str>,
    pub exactly_once_source: bool,
    pub offset_flush_interval: std::time::Duration,
}

/// `brook connect`: a Brook Connect worker alone, on any Kafka-compatible cluster.
pub fn run_connect(
    args: ConnectWorkerArgs<'_>,
    connect: &crate::cli::connect::ConnectArgs,
) -> Result<()> {
    let listen = args.listen;
    let mut config =
        brook_connect::worker::WorkerConfig::new(connect.cluster()?, listen.to_string());
    config.group_id = args.group_id.to_string();
    config.config_topic = args.topics[0].to_string();
    config.offset_topic = args.topics[1].to_string();
    config.status_topic = args.topics[2].to_string();
    config.schema_registry_url = args
        .schema_registry_url
        .map(|u| u.trim_end_matches('/').to_string());
    config.exactly_once_source = args.exactly_once_source;
    config.offset_flush_interval = args.offset_flush_interval;
    run_alone(
        "Brook Connect",
        &connect.bootstrap_servers,
        start_connect(config, listen),
        brook_connect::rest::ConnectServer::local_addr,
        |server| Box::pin(server.shutdown()),
    )
}

/// `brook rest`'s flags.
#[derive(clap::Args, Debug)]
pub struct RestArgs {
    /// HTTP address to serve the REST proxy on.
    #[arg(long, default_value = "127.0.0.1:8082")]
    listen: std::net::SocketAddr,
    /// A Confluent-compatible schema registry, for the Avro, JSON Schema and Protobuf
    /// embedded formats.
    #[arg(long, value_name = "URL")]
    schema_registry_url: Option<String>,
    /// Close a consumer instance left idle this long (`consumer.instance.timeout.ms`).
    #[arg(long, default_value = "300000", value_name = "MS")]
    consumer_instance_timeout_ms: u64,
}

/// `brook rest`: the REST proxy alone, on any Kafka-compatible cluster.
pub fn run_rest(args: &RestArgs, connect: &crate::cli::connect::ConnectArgs) -> Result<()> {
    let listen = args.listen;
    let mut config = brook_rest::RestConfig::new(connect.cluster()?);
    config.schema_registry_url = args.schema_registry_url.clone();
    config.consumer_instance_timeout =
        std::time::Duration::from_millis(args.consumer_instance_timeout_ms);
    run_alone(
        "the REST proxy",
        &connect.bootstrap_servers,
        async move {
            brook_rest::RestServer::start(config, listen)
                .await
                .map_err(anyhow::Error::new)
        },
        brook_rest::RestServer::local_addr,
        |server| Box::pin(server.shutdown()),
    )
}

/// `brook console`'s flags.
#[derive(clap::Args, Debug)]
pub struct ConsoleArgs {
    /// HTTP address to serve the console on.
    #[arg(long, default_value = "127.0.0.1:9021")]
    listen: std::net::SocketAddr,
    /// A Confluent-compatible schema registry, to decode Avro / JSON Schema / Protobuf
    /// records and for the schemas page.
    #[arg(long, value_name = "URL")]
    schema_registry_url: Option<String>,
    /// A Kafka Connect REST API, for the connectors page.
    #[arg(long, value_name = "URL")]
    connect_url: Option<String>,
    /// A ksqlDB-compatible server, for the SQL page.
    #[arg(long, value_name = "URL")]
    sql_url: Option<String>,
    /// A broker's Prometheus endpoint (repeatable), for the live charts of bytes, latency
    /// and disk; without one the charts show records per second from offsets.
    #[arg(long = "metrics-url", value_name = "URL")]
    metrics_urls: Vec<String>,
}

/// `brook console`: the web console alone, on any Kafka-compatible cluster.
pub fn run_console(args: &ConsoleArgs, connect: &crate::cli::connect::ConnectArgs) -> Result<()> {
    let listen = args.listen;
    let mut config = brook_console::ConsoleConfig::new(connect.cluster()?);
    config.schema_registry_url = args.schema_registry_url.clone();
    config.connect_url = args.connect_url.clone();
    config.sql_url = args.sql_url.clone();
    config.metrics_urls = args.metrics_urls.clone();
    run_alone(
        "the console",
        &connect.bootstrap_servers,
        async move {
            brook_console::ConsoleServer::start(config, listen)
                .await
                .map_err(anyhow::Error::new)
        },
        brook_console::ConsoleServer::local_addr,
        |server| Box::pin(server.shutdown()),
    )
}

/// Runs one service alone on its own runtime until SIGINT or SIGTERM (`brook registry`,
/// `brook sql-server`, `brook connect`).
fn run_alone<S>(
    what: &str,
    bootstrap: &str,
    start: impl std::future::Future<Output = Result<S>>,
    local_addr: impl Fn(&S) -> std::net::SocketAddr,
    stop: impl FnOnce(S) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let service = start
            .await
            .with_context(|| format!("cannot start {what} on {bootstrap}"))?;
        tracing::info!(address = %local_addr(&service), "{what} is ready");
        wait_for_signal().await?;
        stop(service).await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn layers_apply_in_order_file_env_set_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("brook.toml");
        std::fs::write(
            &file,
            "listeners = \"PLAINTEXT://127.0.0.1:1111\"\nnum.partitions = 2\n[log]\nretention.ms = 5000\nsegment.bytes = 2097152\n",
        )
        .unwrap();
        let cli = Cli::parse_from([
            "brook",
            "--config",
            file.to_str().unwrap(),
            "--set",
            "log.segment.bytes=4194304",
            "--listen",
            "127.0.0.1:3333",
        ]);
        let env = [
            ("BROOK_NUM_PARTITIONS".to_string(), "4".to_string()),
            ("BROOK_LOG".to_string(), "debug".to_string()),
            ("BROOK_LISTENERS".to_string(), "127.0.0.1:2222".to_string()),
            (
                "BROOK_REGISTRY_LISTEN".to_string(),
                "127.0.0.1:18081".to_string(),
            ),
        ];
        let serve = serve_config(&cli.args, env).unwrap();
        assert_eq!(
            serve.registry_listen,
            Some("127.0.0.1:18081".parse().unwrap())
        );
        let config = serve.broker;
        assert_eq!(config.log_defaults.retention_ms, 5000, "from the file");
        assert_eq!(config.num_partitions, 4, "env over file");
        assert_eq!(
            config.log_defaults.segment_bytes, 4_194_304,
            "--set over file"
        );
        assert_eq!(
            config.listen,
            "127.0.0.1:3333".parse().unwrap(),
            "flag over env and file"
        );
        assert_eq!(
            config.metrics_listen,
            Some("127.0.0.1:9644".parse().unwrap())
        );
    }

    #[test]
    fn bad_settings_name_their_source() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("brook.toml");
        std::fs::write(&file, "log.retention.ms = \"soon\"\n").unwrap();
        let cli = Cli::parse_from(["brook", "--config", file.to_str().unwrap()]);
        let err = format!("{:#}", serve_config(&cli.args, []).unwrap_err());
        assert!(
            err.contains("brook.toml") && err.contains("retention.ms"),
            "{err}"
        );
        std::fs::write(&file, "unknown.setting = 1\n").unwrap();
        let err = format!("{:#}", serve_config(&cli.args, []).unwrap_err());
        assert!(err.contains("unknown.setting"), "{err}");
    }

    #[test]
    fn the_registry_advertised_url_is_a_setting_and_a_flag() {
        let cli = Cli::parse_from([
            "brook",
            "--set",
            "registry.advertised.url=http://10.0.0.5:8081/",
        ]);
        let serve = serve_config(&cli.args, []).unwrap();
        assert_eq!(
            serve.registry_advertised_url.as_deref(),
            Some("http://10.0.0.5:8081")
        );
        let cli = Cli::parse_from([
            "brook",
            "--registry-advertised-url",
            "https://sr.example:443",
        ]);
        let serve = serve_config(&cli.args, []).unwrap();
        assert_eq!(
            serve.registry_advertised_url.as_deref(),
            Some("https://sr.example:443")
        );
        let cli = Cli::parse_from(["brook", "--registry-advertised-url", "10.0.0.5:8081"]);
        let err = format!("{:#}", serve_config(&cli.args, []).unwrap_err());
        assert!(err.contains("not an http:// URL"), "{err}");
        assert_eq!(
            serve_config(&Cli::parse_from(["brook"]).args, [])
                .unwrap()
                .registry_advertised_url,
            None
        );
    }
}
