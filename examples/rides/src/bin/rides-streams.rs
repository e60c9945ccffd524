//! The course's Kafka Streams examples, run with Brook Streams against Brook or any Kafka
//! cluster: count rides per pickup location, enrich rides with their pickup zone, or count
//! rides per pickup location per hour.
//!
//! cargo run -p brook-rides-example --bin rides-streams -- count --exactly-once

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use brook_client::ClusterSettings;
use brook_streams::runtime::{KafkaStreams, StreamsConfig, StreamsState};
use clap::Parser;

/// Which example to run.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Example {
    /// Rides per pickup location → rides-per-location.
    Count,
    /// Rides joined with the `locations` table → rides-enriched.
    Enrich,
    /// Rides per pickup location per hour of pickup → rides-per-location-hourly.
    Hourly,
}

/// Run one of the course's Kafka Streams examples until Ctrl-C (or --seconds).
#[derive(Parser)]
struct Args {
    /// The example.
    #[arg(value_enum)]
    example: Example,
    /// Bootstrap servers.
    #[arg(short, long, default_value = "localhost:9092")]
    bootstrap_servers: String,
    /// application.id (default: rides-<example>).
    #[arg(long)]
    application_id: Option<String>,
    /// exactly_once_v2 instead of at_least_once.
    #[arg(long)]
    exactly_once: bool,
    /// Extra client settings, KEY=VALUE.
    #[arg(short = 'X', long = "client-config")]
    client_config: Vec<String>,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<u64>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (topology, name) = match args.example {
        Example::Count => (brook_rides_example::streams::rides_per_location(), "count"),
        Example::Enrich => (brook_rides_example::streams::rides_enriched(), "enrich"),
        Example::Hourly => (
            brook_rides_example::streams::rides_per_location_hourly(),
            "hourly",
        ),
    };
    let cluster =
        ClusterSettings::new(&args.bootstrap_servers).with_settings(&args.client_config)?;
    let application_id = args
        .application_id
        .unwrap_or_else(|| format!("rides-{name}"));
    let mut config = StreamsConfig::new(&application_id, cluster);
    if args.exactly_once {
        config = config.exactly_once();
    }
    let mut streams = KafkaStreams::new(topology, config);
    streams.start()?;
    eprintln!("{application_id} started");
    let stop = Arc::new(AtomicBool::new(false));
    let started = std::time::Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        if streams.state() == StreamsState::Error {
            break;
        }
        if args
            .seconds
            .is_some_and(|s| started.elapsed() >= Duration::from_secs(s))
        {
            stop.store(true, Ordering::Relaxed);
        }
    }
    eprintln!("processed {} records", streams.processed_records());
    streams.close()?;
    Ok(())
}
