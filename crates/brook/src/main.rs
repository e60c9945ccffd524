//! The `brook` binary: `brook serve` runs the broker; `brook topic`, `produce`, `consume`,
//! `group` and `bench` work against any Kafka-compatible cluster; `brook dump-log` reads log
//! files.

mod cli;
mod dump_log;
mod logging;
mod serve;

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

use cli::connect::ConnectArgs;
use cli::output::Format;

/// mimalloc instead of glibc's malloc: stream processing allocates and frees small rows at a
/// high rate, where glibc spent a third of the CPU (bench/sql, docs/decisions/0006).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Brook: an event-streaming platform in one binary, compatible with Kafka clients.
#[derive(Parser)]
#[command(
    name = "brook",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 success, 1 failed, 2 bad usage, 3 cluster unreachable, 4 topic or \
                  group not found.\n\nStart with: brook serve   (then, in another terminal)   \
                  brook topic create rides --partitions 3"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Output format of the client subcommands.
    #[arg(short, long, value_enum, default_value_t, global = true)]
    output: Format,
    #[command(flatten)]
    connect: ConnectArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the broker: the Kafka protocol on 127.0.0.1:9092, data in ./brook-data.
    ///
    /// Example: brook serve --listen 127.0.0.1:9092 --data-dir /var/lib/brook
    Serve(serve::Args),
    /// Run the schema registry alone, against any Kafka-compatible cluster (`brook serve`
    /// already runs one beside the broker).
    ///
    /// Example: brook registry --bootstrap-servers kafka:9092 --listen 127.0.0.1:8081
    Registry {
        /// HTTP address to serve Confluent's Schema Registry API on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: std::net::SocketAddr,
        /// The topic holding the schemas (Confluent's kafkastore.topic).
        #[arg(long, default_value = "_schemas")]
        topic: String,
        /// This instance's URL as other instances reach it, for forwarding writes when it
        /// leads (default: http:// + --listen).
        #[arg(long, value_name = "URL")]
        advertised_url: Option<String>,
    },
    /// Run Brook SQL alone (ksqlDB's REST API), against any Kafka-compatible cluster
    /// (`brook serve` already runs it on 127.0.0.1:8088).
    ///
    /// Example: brook sql-server --bootstrap-servers kafka:9092 --listen 127.0.0.1:8088
    SqlServer {
        /// HTTP address to serve ksqlDB's REST API on.
        #[arg(long, default_value = "127.0.0.1:8088")]
        listen: std::net::SocketAddr,
        /// `ksql.service.id`: servers with the same id share statements and queries.
        #[arg(long, default_value = "default_")]
        service_id: String,
        /// Where persistent queries keep their local state.
        #[arg(long, default_value = "brook-sql-state")]
        state_dir: std::path::PathBuf,
        /// The schema registry, for AVRO, PROTOBUF and JSON_SR (`ksql.schema.registry.url`).
        #[arg(long, value_name = "URL")]
        schema_registry_url: Option<String>,
    },
    /// Run a Brook Connect worker alone (Kafka Connect's REST API), against any
    /// Kafka-compatible cluster (`brook serve` already runs one on 127.0.0.1:8083).
    ///
    /// Example: brook connect --bootstrap-servers kafka:9092 --listen 127.0.0.1:8083
    Connect {
        /// HTTP address to serve Kafka Connect's REST API on.
        #[arg(long, default_value = "127.0.0.1:8083")]
        listen: std::net::SocketAddr,
        /// `group.id`: workers with the same id form one Connect cluster.
        #[arg(long, default_value = "connect-cluster")]
        group_id: String,
        /// `config.storage.topic`.
        #[arg(long, default_value = "connect-configs")]
        config_topic: String,
        /// `offset.storage.topic`.
        #[arg(long, default_value = "connect-offsets")]
        offset_topic: String,
        /// `status.storage.topic`.
        #[arg(long, default_value = "connect-status")]
        status_topic: String,
        /// The schema registry for AvroConverter when a connector's settings name none.
        #[arg(long)]
        schema_registry_url: Option<String>,
        /// `exactly.once.source.support=enabled`: source connectors write records and
        /// offsets in transactions (KIP-618).
        #[arg(long)]
        exactly_once_source: bool,
        /// `offset.flush.interval.ms`: how often tasks commit their offsets.
        #[arg(long, default_value_t = 5000)]
        offset_flush_interval_ms: u64,
    },
    /// Run the web console alone (on 127.0.0.1:9021), against any Kafka-compatible cluster
    /// (`brook serve` already runs one).
    Console(serve::ConsoleArgs),
    /// Run the REST proxy alone (Confluent's REST Proxy API, on 127.0.0.1:8082), against any
    /// Kafka-compatible cluster (`brook serve` already runs one).
    ///
    /// Example: brook -b kafka:9092 rest --schema-registry-url http://registry:8081
    Rest(serve::RestArgs),
    /// A shell for Brook SQL (ksqlDB's language), or run statements from -e / -f / stdin.
    ///
    /// Example: brook sql -e "SHOW STREAMS;"
    Sql(cli::sql::SqlArgs),
    /// Create, list, describe, alter and delete topics.
    #[command(subcommand)]
    Topic(cli::topic::TopicCommand),
    /// Write lines from stdin or a file to a topic, one record per line.
    Produce(cli::produce::ProduceArgs),
    /// Print a topic's records.
    Consume(cli::consume::ConsumeArgs),
    /// List, describe, reset and delete consumer groups.
    #[command(subcommand)]
    Group(cli::group::GroupCommand),
    /// Manage Kafka Connect connectors over the REST API (Brook Connect or any Connect
    /// cluster): list, create, describe, pause, resume, stop, restart, delete, plugins.
    ///
    /// Example: brook connector create OrdersConnector_tutorial --quickstart orders --topic tutorial_topic
    Connector(cli::connector::ConnectorArgs),
    /// List and describe transactions and the producers of a partition (like
    /// kafka-transactions.sh).
    #[command(subcommand)]
    Transactions(cli::transactions::TransactionsCommand),
    /// Measure produce and consume throughput and latency.
    #[command(subcommand)]
    Bench(cli::bench::BenchCommand),
    /// Print the batches of segment files (`.log`) or the entries of index files (`.index`,
    /// `.timeindex`), in the format of Kafka's kafka-dump-log.sh.
    ///
    /// Example: brook dump-log brook-data/rides-0/00000000000000000000.log --print-records
    DumpLog(dump_log::Args),
    /// Print a shell completion script.
    ///
    /// Example: brook completions bash > /etc/bash_completion.d/brook
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Serve(_)
            | Command::DumpLog(_)
            | Command::Registry { .. }
            | Command::SqlServer { .. }
            | Command::Connect { .. }
            | Command::Console { .. }
            | Command::Rest { .. }
    ) || std::env::var_os("BROOK_LOG").is_some()
    {
        logging::init();
    }
    let (connect, format) = (&cli.connect, cli.output);
    let result = match &cli.command {
        Command::Serve(args) => serve::run(args),
        Command::DumpLog(args) => dump_log::run(args),
        Command::Registry {
            listen,
            topic,
            advertised_url,
        } => serve::run_registry(*listen, topic, advertised_url.as_deref(), connect),
        Command::SqlServer {
            listen,
            service_id,
            state_dir,
            schema_registry_url,
        } => serve::run_sql_server(
            *listen,
            service_id,
            state_dir,
            schema_registry_url.as_deref(),
            connect,
        ),
        Command::Connect {
            listen,
            group_id,
            config_topic,
            offset_topic,
            status_topic,
            schema_registry_url,
            exactly_once_source,
            offset_flush_interval_ms,
        } => serve::run_connect(
            serve::ConnectWorkerArgs {
                listen: *listen,
                group_id,
                topics: [config_topic, offset_topic, status_topic],
                schema_registry_url: schema_registry_url.as_deref(),
                exactly_once_source: *exactly_once_source,
                offset_flush_interval: std::time::Duration::from_millis(*offset_flush_interval_ms),
            },
            connect,
        ),
        Command::Console(args) => serve::run_console(args, connect),
        Command::Rest(args) => serve::run_rest(args, connect),
        Command::Sql(args) => cli::sql::run(args, format),
        Command::Topic(command) => cli::topic::run(command, connect, format),
        Command::Produce(args) => cli::produce::run(args, connect, format),
        Command::Consume(args) => cli::consume::run(args, connect, format),
        Command::Group(command) => cli::group::run(command, connect, format),
        Command::Connector(args) => cli::connector::run(args, format),
        Command::Transactions(command) => cli::transactions::run(command, connect, format),
        Command::Bench(command) => cli::bench::run(command, connect, format),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "brook", &mut std::io::stdout());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::IsTerminal as _;
            let red = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let prefix = if red {
                "\x1b[1;31merror:\x1b[0m"
            } else {
                "error:"
            };
            eprintln!("{prefix} {e:#}");
            ExitCode::from(cli::exit_code(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
