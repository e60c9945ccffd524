//! Sends every ride of rides.csv to Brook (or any Kafka), as the course's producers do.
//!
//! cargo run -p brook-rides-example --bin rides-producer -- --format json

use clap::Parser;

/// Send the NYC taxi rides to a topic, as CSV strings, JSON objects or Avro records.
#[derive(Parser)]
struct Args {
    /// csv → topic rides_csv; json → rides_json; avro → rides_avro (through the registry).
    #[arg(long, value_enum, default_value = "csv")]
    format: brook_rides_example::Format,
    /// The rides file (default: the copy of the course's rides.csv in tests/data).
    #[arg(long, env = "RIDES_CSV")]
    rides: Option<std::path::PathBuf>,
    /// Bootstrap servers.
    #[arg(short, long, default_value = "localhost:9092")]
    bootstrap_servers: String,
    /// The schema registry (for --format avro).
    #[arg(long, default_value = "http://localhost:8081")]
    registry_url: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let path = args.rides.unwrap_or_else(|| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/rides.csv")
    });
    let rides = brook_rides_example::read_rides(&path)?;
    let producer = brook_rides_example::producer(&args.bootstrap_servers)?;
    let registry = brook_rides_example::RegistryClient::new(&args.registry_url);
    let sent = brook_rides_example::produce(&producer, args.format, &rides, Some(&registry))?;
    eprintln!("sent {sent} rides to {}", args.format.topic());
    Ok(())
}
