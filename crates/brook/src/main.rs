//! The `brook` binary. Today it offers the offline log tools; `brook serve` and the client
//! commands arrive with the broker.

mod dump_log;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::DumpLog(args) => dump_log::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
