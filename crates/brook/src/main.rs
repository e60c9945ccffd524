//! The `brook` binary: `brook serve` runs the broker; `brook dump-log` reads log files.

mod dump_log;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Brook: an event-streaming platform in one binary, compatible with Kafka clients.
#[derive(Parser)]
#[command(name = "brook", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the batches of segment files (`.log`) or the entries of index files (`.index`,
    /// `.timeindex`), in the format of Kafka's kafka-dump-log.sh.
    ///
    /// Example: brook dump-log brook-data/rides-0/00000000000000000000.log --print-records
    DumpLog(dump_log::Args),
    /// Run the broker: the Kafka protocol on 127.0.0.1:9092, data in ./brook-data.
    ///
    /// Example: brook serve --listen 127.0.0.1:9092 --data-dir /var/lib/brook
    Serve(serve::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BROOK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::DumpLog(args) => dump_log::run(&args),
        Command::Serve(args) => serve::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
