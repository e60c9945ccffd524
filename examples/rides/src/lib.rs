//! The course's NYC taxi rides pipeline, in Rust, against Brook or any Kafka-compatible broker.
//!
//! It mirrors the course's Python scripts: `rides-producer --format csv` sends each row of
//! `rides.csv` as a comma-joined string keyed by its vendor id to `rides_csv`;
//! `--format json` sends each row as a JSON object keyed by its pickup location to
//! `rides_json`; `--format avro` sends it as an Avro record ([`RIDE_AVRO_SCHEMA`]) through the
//! schema registry, in Confluent's wire format, to `rides_avro`. `rides-consumer` reads any
//! of them back in a consumer group and prints key and value.
//!
//! ```no_run
//! let rides = brook_rides_example::read_rides("rides.csv".as_ref())?;
//! let producer = brook_rides_example::producer("localhost:9092")?;
//! let sent =
//!     brook_rides_example::produce(&producer, brook_rides_example::Format::Json, &rides, None)?;
//! assert_eq!(sent, rides.len());
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod streams;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
pub use brook_registry::client::RegistryClient;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::Message as _;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer as _, ProducerContext};
use serde::{Deserialize, Serialize};

/// One taxi ride: a row of `rides.csv`, with the course's `Ride` field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ride {
    /// Vendor id.
    pub vendor_id: i64,
    /// Pickup time, `YYYY-MM-DD HH:MM:SS`.
    pub tpep_pickup_datetime: String,
    /// Drop-off time.
    pub tpep_dropoff_datetime: String,
    /// Passengers.
    pub passenger_count: i64,
    /// Miles, as written in the file (the course keeps decimals exact as strings).
    pub trip_distance: String,
    /// Rate code.
    pub rate_code_id: i64,
    /// Store-and-forward flag.
    pub store_and_fwd_flag: String,
    /// Pickup location id (the JSON records' key).
    pub pu_location_id: i64,
    /// Drop-off location id.
    pub do_location_id: i64,
    /// Payment type.
    pub payment_type: String,
    /// Fare.
    pub fare_amount: String,
    /// Extra charges.
    pub extra: String,
    /// MTA tax.
    pub mta_tax: String,
    /// Tip.
    pub tip_amount: String,
    /// Tolls.
    pub tolls_amount: String,
    /// Improvement surcharge.
    pub improvement_surcharge: String,
    /// Total.
    pub total_amount: String,
    /// Congestion surcharge.
    pub congestion_surcharge: String,
    /// The row as the CSV producer sends it: fields joined with ", ".
    #[serde(skip)]
    pub line: String,
}

impl Ride {
    fn from_row(row: &csv::StringRecord) -> anyhow::Result<Ride> {
        let field = |i: usize| row.get(i).unwrap_or_default().to_string();
        let int = |i: usize| -> anyhow::Result<i64> {
            field(i)
                .parse()
                .with_context(|| format!("column {} is not a number: {:?}", i + 1, field(i)))
        };
        Ok(Ride {
            vendor_id: int(0)?,
            tpep_pickup_datetime: field(1),
            tpep_dropoff_datetime: field(2),
            passenger_count: int(3)?,
            trip_distance: field(4),
            rate_code_id: int(5)?,
            store_and_fwd_flag: field(6),
            pu_location_id: int(7)?,
            do_location_id: int(8)?,
            payment_type: field(9),
            fare_amount: field(10),
            extra: field(11),
            mta_tax: field(12),
            tip_amount: field(13),
            tolls_amount: field(14),
            improvement_surcharge: field(15),
            total_amount: field(16),
            congestion_surcharge: field(17),
            line: row.iter().collect::<Vec<_>>().join(", "),
        })
    }
}

/// Reads every ride of a `rides.csv` (header skipped).
pub fn read_rides(path: &Path) -> anyhow::Result<Vec<Ride>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot open {}", path.display()))?;
    reader
        .records()
        .enumerate()
        .map(|(i, row)| {
            let row = row.with_context(|| format!("{}: bad row {}", path.display(), i + 2))?;
            Ride::from_row(&row).with_context(|| format!("{}: row {}", path.display(), i + 2))
        })
        .collect()
}

/// The Avro schema of a ride (registered under `rides_avro-value`): amounts and distances
/// as doubles, times and flags as strings.
pub const RIDE_AVRO_SCHEMA: &str = include_str!("../ride.avsc");

/// How rides travel.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The comma-joined row, keyed by vendor id, on `rides_csv`.
    Csv,
    /// A JSON object, keyed by pickup location, on `rides_json`.
    Json,
    /// An Avro record through the schema registry, keyed by pickup location, on `rides_avro`.
    Avro,
}

impl Format {
    /// The course's topic for this format.
    pub fn topic(self) -> &'static str {
        match self {
            Format::Csv => "rides_csv",
            Format::Json => "rides_json",
            Format::Avro => "rides_avro",
        }
    }

    /// The course's consumer group for this format.
    pub fn group(self) -> &'static str {
        match self {
            Format::Csv => "consumer.group.id.csv-example",
            Format::Json => "simple.kafka.json.example",
            Format::Avro => "rides.avro.example",
        }
    }
}

impl Ride {
    /// The ride as the Avro record's JSON form (numbers where the schema has numbers).
    pub fn avro_value(&self) -> serde_json::Value {
        let number = |s: &str| s.parse::<f64>().unwrap_or(0.0);
        serde_json::json!({
            "vendor_id": self.vendor_id,
            "tpep_pickup_datetime": self.tpep_pickup_datetime,
            "tpep_dropoff_datetime": self.tpep_dropoff_datetime,
            "passenger_count": self.passenger_count,
            "trip_distance": number(&self.trip_distance),
            "rate_code_id": self.rate_code_id,
            "store_and_fwd_flag": self.store_and_fwd_flag,
            "pu_location_id": self.pu_location_id,
            "do_location_id": self.do_location_id,
            "payment_type": self.payment_type,
            "fare_amount": number(&self.fare_amount),
            "extra": number(&self.extra),
            "mta_tax": number(&self.mta_tax),
            "tip_amount": number(&self.tip_amount),
            "tolls_amount": number(&self.tolls_amount),
            "improvement_surcharge": number(&self.improvement_surcharge),
            "total_amount": number(&self.total_amount),
            "congestion_surcharge": number(&self.congestion_surcharge),
        })
    }
}

/// Prints each acknowledged record's offset, as the course's producers do.
pub struct PrintOffsets;

impl rdkafka::client::ClientContext for PrintOffsets {}

impl ProducerContext for PrintOffsets {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(m) => println!(
                "Record {} successfully produced at offset {}",
                String::from_utf8_lossy(m.key().unwrap_or_default()),
                m.offset()
            ),
            Err((e, _)) => eprintln!("Record not produced: {e}"),
        }
    }
}

/// A producer for `bootstrap`.
pub fn producer(bootstrap: &str) -> anyhow::Result<BaseProducer<PrintOffsets>> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create_with_context(PrintOffsets)
        .context("cannot create the producer")
}

/// Sends every ride in `format` (Avro needs the schema registry); returns how many were
/// acknowledged.
pub fn produce(
    producer: &BaseProducer<PrintOffsets>,
    format: Format,
    rides: &[Ride],
    registry: Option<&RegistryClient>,
) -> anyhow::Result<usize> {
    for ride in rides {
        let (key, value): (String, Vec<u8>) = match format {
            Format::Csv => (ride.vendor_id.to_string(), ride.line.clone().into_bytes()),
            Format::Json => (
                ride.pu_location_id.to_string(),
                serde_json::to_vec(ride).context("a ride serializes")?,
            ),
            Format::Avro => {
                let registry = registry.context("--format avro needs --registry-url")?;
                let value = registry
                    .serialize(
                        &format!("{}-value", format.topic()),
                        brook_registry::format::SchemaType::Avro,
                        RIDE_AVRO_SCHEMA,
                        None,
                        &ride.avro_value(),
                    )
                    .context("cannot serialize a ride")?;
                (ride.pu_location_id.to_string(), value)
            }
        };
        let mut record = BaseRecord::to(format.topic()).key(&key).payload(&value);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((e, back))
                    if e.rdkafka_error_code()
                        == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                {
                    producer.poll(Duration::from_millis(10));
                    record = back;
                }
                Err((e, _)) => return Err(e).context("cannot send a ride"),
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer
        .flush(Duration::from_secs(60))
        .context("rides were not acknowledged within 60 s")?;
    Ok(rides.len())
}

/// A consumer in the course's group for `format`, reading from the earliest offset when the
/// group has none, committing automatically.
pub fn consumer(bootstrap: &str, format: Format) -> anyhow::Result<BaseConsumer> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format.group())
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "true")
        .create()
        .context("cannot create the consumer")?;
    consumer
        .subscribe(&[format.topic()])
        .context("cannot subscribe")?;
    Ok(consumer)
}

/// Reads rides for `duration` (or until `max` arrived), handing each (key, ride) to `each`.
/// JSON values are parsed back into [`Ride`]s, Avro values are decoded with their writer's
/// schema from the registry; CSV values are kept as lines. Commits before returning.
pub fn consume(
    consumer: &BaseConsumer,
    format: Format,
    registry: Option<&RegistryClient>,
    duration: Duration,
    max: usize,
    mut each: impl FnMut(&str, &str),
) -> anyhow::Result<usize> {
    let deadline = Instant::now() + duration;
    let mut count = 0;
    while count < max && Instant::now() < deadline {
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message.context("consuming failed")?;
        let key = String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned();
        if format == Format::Avro {
            let registry = registry.context("--format avro needs --registry-url")?;
            let value = registry
                .deserialize(message.payload().unwrap_or_default())
                .with_context(|| format!("offset {} is not an Avro ride", message.offset()))?;
            each(&key, &value.to_string());
            count += 1;
            continue;
        }
        let value = String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned();
        if format == Format::Json {
            let ride: Ride = serde_json::from_str(&value)
                .with_context(|| format!("offset {} is not a ride: {value}", message.offset()))?;
            each(&key, &format!("{ride:?}"));
        } else {
            each(&key, &value);
        }
        count += 1;
    }
    if count > 0 {
        consumer
            .commit_consumer_state(rdkafka::consumer::CommitMode::Sync)
            .context("cannot commit")?;
    }
    Ok(count)
}
