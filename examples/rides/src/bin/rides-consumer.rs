//! Reads the rides back in the course's consumer group and prints key and value.
//!
//! cargo run -p brook-rides-example --bin rides-consumer -- --format json --seconds 10

use std::time::Duration;

use clap::Parser;

/// Print the rides of rides_csv or rides_json, committing as the group goes.
#[derive(Parser)]
struct Args {
    /// csv → topic rides_csv; json → topic rides_json.
    #[arg(long, value_enum, default_value = "csv")]
    format: brook_rides_example::Format,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, env = "CONSUME_SECONDS")]
    seconds: Option<u64>,
    /// Bootstrap servers.
    #[arg(short, long, default_value = "localhost:9092")]
    bootstrap_servers: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let consumer = brook_rides_example::consumer(&args.bootstrap_servers, args.format)?;
    let duration = args
        .seconds
        .map_or(Duration::from_secs(u64::MAX / 4), Duration::from_secs);
    let count =
        brook_rides_example::consume(&consumer, args.format, duration, usize::MAX, |k, v| {
            println!("{k} {v}")
        })?;
    eprintln!("consumed {count} rides from {}", args.format.topic());
    Ok(())
}
