//! Reads the rides back in the course's consumer group and prints key and value.
//!
//! cargo run -p brook-rides-example --bin rides-consumer -- --format json --seconds 10

use std::time::Duration;

use clap::Parser;

/// Print the rides of rides_csv, rides_json or rides_avro, committing as the group goes.
#[derive(Parser)]
struct Args {
    /// csv → topic rides_csv; json → rides_json; avro → rides_avro (through the registry).
    #[arg(long, value_enum, default_value = "csv")]
    format: brook_rides_example::Format,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, env = "CONSUME_SECONDS")]
    seconds: Option<u64>,
    /// Bootstrap servers.
    #[arg(short, long, default_value = "localhost:9092")]
    bootstrap_servers: String,
    /// The schema registry (for --format avro).
    #[arg(long, default_value = "http://localhost:8081")]
    registry_url: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let consumer = brook_rides_example::consumer(&args.bootstrap_servers, args.format)?;
    let duration = args
        .seconds
        .map_or(Duration::from_secs(u64::MAX / 4), Duration::from_secs);
    let registry = brook_rides_example::RegistryClient::new(&args.registry_url);
    let count = brook_rides_example::consume(
        &consumer,
        args.format,
        Some(&registry),
        duration,
        usize::MAX,
        |k, v| println!("{k} {v}"),
    )?;
    eprintln!("consumed {count} rides from {}", args.format.topic());
    Ok(())
}
