//! The streams benchmark's data and its check (driven by `bench/streams`):
//!
//! - `generate`: N rides with the columns of the course's `rides.csv`, as the course's JSON
//!   producer writes them (keyed by pickup location), pickup times spread over July 2020 with
//!   some disorder; produced to `rides_json`, and the reference result — rides and summed
//!   `total_amount` per pickup location and pickup hour, computed here in the simplest way —
//!   written to a file;
//! - `verify`: reads `rides-hourly-totals` (or, with `--sql`, the table Brook SQL's
//!   benchmark query writes) to its end, keeps the latest result per window and compares it
//!   with the reference.
//!
//! cargo run --release -p brook-rides-example --bin rides-bench -- generate --rides 5000000

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use brook_rides_example::Ride;
use brook_rides_example::streams::{
    HOUR, HOURLY_TOTALS, RIDES, Totals, cents, format_cents, format_millis, pickup_millis,
};
use clap::Parser;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::Message as _;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer as _, ThreadedProducer};

#[derive(Parser)]
enum Command {
    /// Produce N generated rides to rides_json and write the reference result.
    Generate {
        /// Bootstrap servers.
        #[arg(short, long, default_value = "localhost:9092")]
        bootstrap_servers: String,
        /// How many rides.
        #[arg(long, default_value_t = 5_000_000)]
        rides: u64,
        /// Where to write the reference (JSON lines: location, window start, rides, cents).
        #[arg(long)]
        reference: PathBuf,
    },
    /// Compare rides-hourly-totals with the reference.
    Verify {
        /// Bootstrap servers.
        #[arg(short, long, default_value = "localhost:9092")]
        bootstrap_servers: String,
        /// The reference written by `generate`.
        #[arg(long)]
        reference: PathBuf,
        /// Read this topic of Brook SQL results (`{"RIDES": n, "TOTAL": amount}`) instead.
        #[arg(long, value_name = "TOPIC")]
        sql: Option<String>,
    },
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Ride `i` of `n`: pickups spread evenly over July 2020, each up to ten minutes off its
/// slot (so records arrive slightly out of order), 265 pickup locations with a skew.
fn ride(rng: &mut Rng, i: u64, n: u64) -> Ride {
    let july = pickup_millis("2020-07-01 00:00:00").expect("a valid time");
    let month = 31 * 24 * HOUR;
    let slot = july + (i as i128 * month as i128 / n.max(1) as i128) as i64;
    let pickup = (slot + rng.below(600_000) as i64 - 300_000).max(july);
    let minutes = 3 + rng.below(40) as i64;
    // Lower location ids are busier, as Manhattan's are.
    let location = 1 + (rng.below(265) * rng.below(265) / 264) as i64;
    let fare = 250 + rng.below(6_000);
    let tip = rng.below(fare / 4 + 1);
    let total = fare + tip + 30 + 50 + 250;
    Ride {
        vendor_id: 1 + rng.below(2) as i64,
        tpep_pickup_datetime: format_millis(pickup),
        tpep_dropoff_datetime: format_millis(pickup + minutes * 60_000),
        passenger_count: 1 + rng.below(4) as i64,
        trip_distance: format_cents(50 + rng.below(1_500) as i64),
        rate_code_id: 1,
        store_and_fwd_flag: "N".to_string(),
        pu_location_id: location,
        do_location_id: 1 + rng.below(265) as i64,
        payment_type: (1 + rng.below(2)).to_string(),
        fare_amount: format_cents(fare as i64),
        extra: "0.5".to_string(),
        mta_tax: "0.5".to_string(),
        tip_amount: format_cents(tip as i64),
        tolls_amount: "0".to_string(),
        improvement_surcharge: "0.3".to_string(),
        total_amount: format_cents(total as i64),
        congestion_surcharge: "2.5".to_string(),
        line: String::new(),
    }
}

fn generate(bootstrap: &str, rides: u64, reference: &PathBuf) -> anyhow::Result<()> {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .set("partitioner", "murmur2_random")
        .create()
        .context("cannot create the producer")?;
    let mut rng = Rng(0x5EED);
    let mut want: BTreeMap<(i64, i64), Totals> = BTreeMap::new();
    let started = Instant::now();
    let mut bytes = 0u64;
    for i in 0..rides {
        let ride = ride(&mut rng, i, rides);
        let value = serde_json::to_vec(&ride)?;
        let key = ride.pu_location_id.to_string();
        bytes += value.len() as u64;
        let start =
            pickup_millis(&ride.tpep_pickup_datetime).context("a pickup time")? / HOUR * HOUR;
        let totals = want.entry((ride.pu_location_id, start)).or_default();
        totals.rides += 1;
        totals.total_amount_cents += cents(&ride.total_amount).context("an amount")?;
        let mut record = BaseRecord::to(RIDES).key(&key).payload(&value);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((e, back))
                    if e.rdkafka_error_code()
                        == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                {
                    std::thread::sleep(Duration::from_millis(1));
                    record = back;
                }
                Err((e, _)) => return Err(e).context("cannot send a ride"),
            }
        }
    }
    producer
        .flush(Duration::from_secs(120))
        .context("rides were not acknowledged")?;
    let mut out = String::new();
    for ((location, start), totals) in &want {
        out.push_str(&format!(
            "[{location},{start},{},{}]\n",
            totals.rides, totals.total_amount_cents
        ));
    }
    std::fs::write(reference, out).context("cannot write the reference")?;
    println!(
        "{}",
        serde_json::json!({
            "rides": rides,
            "bytes": bytes,
            "windows": want.len(),
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}

/// A Brook SQL result: `{"RIDES": n, "TOTAL": amount}`.
fn sql_totals(value: &[u8]) -> anyhow::Result<Totals> {
    let v: serde_json::Value = serde_json::from_slice(value)?;
    let rides = v["RIDES"].as_i64().context("RIDES")?;
    let total = v["TOTAL"].to_string();
    Ok(Totals {
        rides,
        total_amount_cents: cents(&total).with_context(|| format!("TOTAL {total}"))?,
    })
}

fn verify(bootstrap: &str, reference: &PathBuf, sql: Option<&str>) -> anyhow::Result<()> {
    let topic = sql.unwrap_or(HOURLY_TOTALS);
    let mut want = BTreeMap::new();
    for line in std::fs::read_to_string(reference)?.lines() {
        let [location, start, rides, cents]: [i64; 4] = serde_json::from_str(line)?;
        want.insert(
            (location, start),
            Totals {
                rides,
                total_amount_cents: cents,
            },
        );
    }
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "rides-bench-verify")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "true")
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let partitions = metadata
        .topics()
        .first()
        .map_or(0, |t| t.partitions().len());
    if partitions == 0 {
        bail!("{topic} does not exist");
    }
    consumer.subscribe(&[topic])?;
    let mut got = BTreeMap::new();
    let mut at_end = std::collections::HashSet::new();
    let mut records = 0u64;
    let deadline = Instant::now() + Duration::from_secs(300);
    while at_end.len() < partitions {
        if Instant::now() > deadline {
            bail!("{topic} was not read to its end within 300 s");
        }
        match consumer.poll(Duration::from_millis(500)) {
            None => {}
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(m)) => {
                at_end.remove(&m.partition());
                records += 1;
                let key = m.key().context("a keyed result")?;
                let (location, start) = key.split_at(key.len().saturating_sub(8));
                let location: i64 = std::str::from_utf8(location)?.parse()?;
                let start = i64::from_be_bytes(start.try_into()?);
                let payload = m.payload().unwrap_or_default();
                let totals: Totals = match sql {
                    Some(_) => sql_totals(payload)?,
                    None => serde_json::from_slice(payload)?,
                };
                got.insert((location, start), totals);
            }
        }
    }
    let mismatched = want.iter().filter(|(k, v)| got.get(*k) != Some(*v)).count()
        + got.keys().filter(|k| !want.contains_key(*k)).count();
    println!(
        "{}",
        serde_json::json!({
            "windows": want.len(),
            "results_read": records,
            "mismatched_windows": mismatched,
            "identical": mismatched == 0,
        })
    );
    if mismatched > 0 {
        bail!("{mismatched} windows differ from the reference");
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    match Command::parse() {
        Command::Generate {
            bootstrap_servers,
            rides,
            reference,
        } => generate(&bootstrap_servers, rides, &reference),
        Command::Verify {
            bootstrap_servers,
            reference,
            sql,
        } => verify(&bootstrap_servers, &reference, sql.as_deref()),
    }
}
