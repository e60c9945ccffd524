//! The course's Kafka Streams examples, run with Brook Streams against Brook or any Kafka
//! cluster: count rides per pickup location, enrich rides with their pickup zone, or count
//! rides per pickup location per hour.
//!
//! cargo run -p brook-rides-example --bin rides-streams -- count --exactly-once
//!
//! Ctrl-C (or SIGTERM) closes the application cleanly: it commits, and persistent stores save
//! their local copy, so the next start continues from there without reading the changelogs.

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
    /// Rides and summed total_amount per pickup location per hour of pickup, from rides keyed
    /// by pickup location → rides-hourly-totals (the benchmark's topology).
    Totals,
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
    /// Stop (cleanly) once this many records have been processed.
    #[arg(long)]
    until_records: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<u64>,
    /// commit.interval.ms (default: 30000, or 100 with --exactly-once). Results are
    /// forwarded at each commit (the record cache holds the latest per key until then).
    #[arg(long)]
    commit_interval_ms: Option<u64>,
    /// Serve the application's metrics on http://ADDR/metrics (Prometheus format).
    #[arg(long)]
    metrics_listen: Option<std::net::SocketAddr>,
    /// state.dir: where persistent stores keep their local copy (default: <temp>/brook-streams).
    #[arg(long)]
    state_dir: Option<std::path::PathBuf>,
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
        Example::Totals => (brook_rides_example::streams::hourly_totals(), "totals"),
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
    if let Some(ms) = args.commit_interval_ms {
        config = config.with_commit_interval(Duration::from_millis(ms));
    }
    if let Some(addr) = args.metrics_listen {
        config = config.with_metrics_listen(addr);
    }
    if let Some(dir) = args.state_dir {
        config = config.with_state_dir(dir);
    }
    let mut streams = KafkaStreams::new(topology, config);
    streams.start()?;
    eprintln!("{application_id} started");
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())?;
    }
    let started = std::time::Instant::now();
    let mut first_record = None;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        if first_record.is_none() && streams.processed_records() > 0 {
            first_record = Some(started.elapsed());
        }
        if streams.state() == StreamsState::Error {
            break;
        }
        if args
            .until_records
            .is_some_and(|n| streams.processed_records() >= n)
        {
            stop.store(true, Ordering::Relaxed);
        }
        if args
            .seconds
            .is_some_and(|s| started.elapsed() >= Duration::from_secs(s))
        {
            stop.store(true, Ordering::Relaxed);
        }
    }
    let stopping = started.elapsed();
    streams.close()?;
    eprintln!(
        "first record after {:.1} s, stopping after {:.1} s, closed after {:.1} s",
        first_record.unwrap_or_default().as_secs_f64(),
        stopping.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    eprintln!(
        "processed {} records, restored {} changelog records",
        streams.processed_records(),
        streams.restored_records()
    );
    Ok(())
}
