//! `brook bench produce|consume|e2e`: load tests in the spirit of kafka-producer-perf-test and
//! kafka-consumer-perf-test, against any Kafka-compatible cluster, through librdkafka.
//!
//! MB/s means 10^6 bytes of record values per second. Produce latency is from `send` to the
//! delivery report; end-to-end latency is from `send` to the consumer receiving the record
//! (the send time travels in the first 8 bytes of the value).

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use hdrhistogram::Histogram;
use rdkafka::admin::{NewTopic, TopicReplication};
use rdkafka::client::ClientContext;
use rdkafka::consumer::Consumer as _;
use rdkafka::message::Message as _;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer as _, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use super::Fail;
use super::connect::{ConnectArgs, Quiet, block_on};
use super::output::{self, Format};
use super::produce::{Codec, DeliveryCount, acks};

/// Workload flags shared by the three benchmarks.
#[derive(clap::Args, Debug, Clone)]
pub struct Workload {
    /// Topic to use (created with --partitions when missing).
    #[arg(short, long, default_value = "brook-bench")]
    pub topic: String,
    /// Records to send or read.
    #[arg(short = 'n', long, default_value_t = 1_000_000)]
    pub records: u64,
    /// Bytes per record value.
    #[arg(short = 's', long, default_value_t = 1024)]
    pub record_size: usize,
    /// Records per second to aim for (-1: as fast as possible).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub throughput: i64,
    /// Producer acknowledgements: 0, 1 or all.
    #[arg(long, default_value = "all", allow_hyphen_values = true)]
    pub acks: String,
    /// Compression codec.
    #[arg(short = 'z', long, value_enum, default_value_t)]
    pub compression: Codec,
    /// Partitions of the topic when it is created.
    #[arg(short, long, default_value_t = 1)]
    pub partitions: i32,
    /// produce: an idempotent producer (enable.idempotence; needs --acks all).
    #[arg(long)]
    pub idempotent: bool,
    /// produce: a transactional producer committing every N records (idempotent too;
    /// 0: no transactions).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub transaction_size: u64,
    /// Print the result as JSON (same as --output json).
    #[arg(long)]
    pub json: bool,
}

/// `brook bench …`.
#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// Produce records as fast as possible (or at --throughput) and report MB/s, records/s
    /// and send-to-acknowledgement latency.
    ///
    /// Example: brook bench produce --records 1000000 --record-size 1024 --acks 1
    Produce(Workload),
    /// Read records from the beginning of the topic and report MB/s and records/s.
    ///
    /// Example: brook bench consume --records 1000000
    Consume(Workload),
    /// Produce at a fixed rate while consuming, and report end-to-end latency.
    ///
    /// Example: brook bench e2e --records 100000 --throughput 10000
    E2e(Workload),
    /// Fetch a schema by id (`GET /schemas/ids/{id}`, what deserializers call) from a schema
    /// registry over keep-alive connections, and report requests/s and latency.
    ///
    /// Example: brook bench registry --url http://127.0.0.1:8081 --connections 4
    Registry(RegistryWorkload),
}

/// `brook bench registry` flags.
#[derive(clap::Args, Debug, Clone)]
pub struct RegistryWorkload {
    /// The schema registry.
    #[arg(long, default_value = "http://localhost:8081")]
    pub url: String,
    /// How long to run, e.g. 10s.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Concurrent keep-alive connections (one thread each).
    #[arg(short, long, default_value_t = 4)]
    pub connections: usize,
    /// First register this many new Avro schemas (each under its own subject, one at a time)
    /// and report registrations/s and their latency.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub register: u64,
    /// Print the result as JSON (same as --output json).
    #[arg(long)]
    pub json: bool,
}

/// A benchmark's result.
#[derive(Serialize, Debug)]
pub struct BenchResult {
    /// produce, consume or e2e.
    pub mode: &'static str,
    /// Records sent or received.
    pub records: u64,
    /// Value bytes.
    pub bytes: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Records per second.
    pub records_per_sec: f64,
    /// 10^6 bytes per second.
    pub mb_per_sec: f64,
    /// Latency percentiles in milliseconds (produce and e2e).
    pub latency_ms: Option<Latency>,
}

/// Latency percentiles (ms).
#[derive(Serialize, Debug)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Maximum.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

fn latency(h: &Histogram<u64>) -> Option<Latency> {
    (!h.is_empty()).then(|| Latency {
        p50: h.value_at_quantile(0.50) as f64 / 1e3,
        p95: h.value_at_quantile(0.95) as f64 / 1e3,
        p99: h.value_at_quantile(0.99) as f64 / 1e3,
        p999: h.value_at_quantile(0.999) as f64 / 1e3,
        max: h.max() as f64 / 1e3,
        mean: h.mean() / 1e3,
    })
}

fn histogram() -> Histogram<u64> {
    // Microseconds, up to an hour, 3 significant digits.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

/// Prints a live progress line on stderr, at most once a second.
struct Progress {
    started: Instant,
    last: Instant,
    live: bool,
    mode: &'static str,
}

impl Progress {
    fn new(mode: &'static str) -> Progress {
        let now = Instant::now();
        Progress {
            started: now,
            last: now,
            live: std::io::stderr().is_terminal(),
            mode,
        }
    }

    fn tick(&mut self, records: u64, bytes: u64, of: u64) {
        if !self.live || self.last.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64();
        eprint!(
            "\r{}: {} / {} records  {:.0} records/s  {:.1} MB/s   ",
            self.mode,
            output::thousands(records),
            output::thousands(of),
            records as f64 / secs,
            bytes as f64 / secs / 1e6
        );
    }

    fn done(&self) {
        if self.live {
            eprint!("\r\x1b[2K");
        }
    }
}

/// Delivery bookkeeping: latency histogram (µs), acknowledgements and failures.
struct Deliveries {
    origin: Instant,
    latencies: Mutex<Histogram<u64>>,
    count: DeliveryCount,
}

impl ClientContext for Deliveries {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        Quiet.log(level, fac, message);
    }
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        Quiet.error(error, reason);
    }
}

impl ProducerContext for Deliveries {
    /// Microseconds after `origin` at which the record was sent.
    type DeliveryOpaque = usize;
    fn delivery(&self, result: &DeliveryResult<'_>, sent_at: usize) {
        if result.is_ok() {
            let now = self.origin.elapsed().as_micros() as u64;
            let micros = now.saturating_sub(sent_at as u64).max(1);
            let _ = self
                .latencies
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .record(micros);
        }
        self.count.record(result);
    }
}

/// Creates the topic when `client`'s metadata does not list it (an admin client, whose
/// polling thread takes up to 100 ms to stop, only when one is needed).
fn ensure_topic<C: ClientContext>(
    connect: &ConnectArgs,
    client: &rdkafka::client::Client<C>,
    workload: &Workload,
) -> anyhow::Result<()> {
    let metadata = connect.metadata(client, None)?;
    if metadata.topics().iter().any(|t| t.name() == workload.topic) {
        return Ok(());
    }
    let admin = connect.admin()?;
    let topic = NewTopic::new(
        &workload.topic,
        workload.partitions,
        TopicReplication::Fixed(-1),
    );
    for result in block_on(admin.create_topics(&[topic], &connect.admin_options()))
        .context("CreateTopics failed")?
    {
        if let Err((name, code)) = result
            && code != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists
        {
            return Err(Fail::failed(format!("cannot create topic '{name}': {code}")).into());
        }
    }
    Ok(())
}

/// Waits until `due` (rate limiting), polling the producer meanwhile.
fn pace<C: ProducerContext>(producer: &rdkafka::producer::BaseProducer<C>, due: Instant) {
    loop {
        let now = Instant::now();
        if now >= due {
            return;
        }
        producer.poll((due - now).min(Duration::from_millis(1)));
    }
}

fn send_blocking<C: ProducerContext<DeliveryOpaque = usize>>(
    producer: &rdkafka::producer::BaseProducer<C>,
    topic: &str,
    payload: &[u8],
    sent_at: usize,
) -> anyhow::Result<()> {
    let mut record =
        BaseRecord::<[u8], [u8], usize>::with_opaque_to(topic, sent_at).payload(payload);
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((e, back))
                if e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
            {
                producer.poll(Duration::from_millis(1));
                record = back;
            }
            Err((e, _)) => return Err(Fail::failed(format!("cannot send: {e}")).into()),
        }
    }
}

fn producer(
    connect: &ConnectArgs,
    workload: &Workload,
    settings: &[(&str, String)],
) -> anyhow::Result<rdkafka::producer::BaseProducer<Deliveries>> {
    let mut all = vec![
        ("acks", acks(&workload.acks)?.to_string()),
        ("compression.type", workload.compression.name().to_string()),
    ];
    all.extend(settings.iter().cloned());
    connect.producer(
        &all,
        Deliveries {
            origin: Instant::now(),
            latencies: Mutex::new(histogram()),
            count: DeliveryCount::default(),
        },
    )
}

/// Waits until every record is acknowledged, serving delivery reports as they come (finer
/// than `flush`, which sleeps in steps of up to 100 ms).
fn drain<C: ProducerContext>(
    producer: &rdkafka::producer::BaseProducer<C>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while producer.in_flight_count() > 0 {
        if Instant::now() > deadline {
            return Err(Fail::failed(format!(
                "{} records were still unacknowledged after {}",
                producer.in_flight_count(),
                humantime::format_duration(timeout)
            ))
            .into());
        }
        producer.poll(Duration::from_millis(1));
    }
    Ok(())
}

/// `brook bench produce`.
pub fn produce(connect: &ConnectArgs, workload: &Workload) -> anyhow::Result<BenchResult> {
    let transactional = workload.transaction_size > 0;
    let mut settings = Vec::new();
    if workload.idempotent || transactional {
        settings.push(("enable.idempotence", "true".to_string()));
    }
    if transactional {
        let id = format!("brook-bench-{}", std::process::id());
        settings.push(("transactional.id", id));
        // Every commit waits for the transaction's last batch: do not let it linger.
        settings.push(("linger.ms", "0".to_string()));
    }
    let producer = producer(connect, workload, &settings)?;
    ensure_topic(connect, producer.client(), workload)?;
    let commit_timeout = Duration::from_secs(120);
    if transactional {
        producer
            .init_transactions(connect.timeout)
            .map_err(|e| Fail::failed(format!("cannot start transactions: {e}")))?;
        producer.begin_transaction()?;
    }
    let payload = vec![b'x'; workload.record_size];
    let origin = producer.context().origin;
    let mut progress = Progress::new("produce");
    let started = Instant::now();
    for i in 0..workload.records {
        if workload.throughput > 0 {
            pace(
                &producer,
                started + Duration::from_secs_f64(i as f64 / workload.throughput as f64),
            );
        }
        let sent_at = origin.elapsed().as_micros() as usize;
        send_blocking(&producer, &workload.topic, &payload, sent_at)?;
        producer.poll(Duration::ZERO);
        if transactional && (i + 1) % workload.transaction_size == 0 {
            // Delivered before the commit, whose own flush would wait for delivery reports
            // nobody serves (the event API) in 100 ms steps.
            drain(&producer, commit_timeout)?;
            producer
                .commit_transaction(commit_timeout)
                .map_err(|e| Fail::failed(format!("commit failed: {e}")))?;
            if i + 1 < workload.records {
                producer.begin_transaction()?;
            }
        }
        if i % 1024 == 0 {
            let acked = producer.context().count.acked();
            progress.tick(acked, acked * workload.record_size as u64, workload.records);
        }
    }
    if transactional && workload.records % workload.transaction_size != 0 {
        producer
            .commit_transaction(commit_timeout)
            .map_err(|e| Fail::failed(format!("commit failed: {e}")))?;
    }
    drain(&producer, Duration::from_secs(300))?;
    let seconds = started.elapsed().as_secs_f64();
    progress.done();
    producer
        .context()
        .count
        .check(workload.records, "acknowledged")?;
    let bytes = workload.records * workload.record_size as u64;
    let latencies = producer
        .context()
        .latencies
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    Ok(BenchResult {
        mode: "produce",
        records: workload.records,
        bytes,
        seconds,
        records_per_sec: workload.records as f64 / seconds,
        mb_per_sec: bytes as f64 / seconds / 1e6,
        latency_ms: latency(&latencies),
    })
}

fn bench_consumer(
    connect: &ConnectArgs,
    topic: &str,
    offset: Offset,
) -> anyhow::Result<rdkafka::consumer::BaseConsumer<Quiet>> {
    let mut config = connect.config()?;
    config
        .set("group.id", "brook-bench")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("fetch.max.bytes", "52428800")
        .set("max.partition.fetch.bytes", "10485760")
        .set("queued.max.messages.kbytes", "1048576")
        .set("fetch.wait.max.ms", "10");
    let consumer: rdkafka::consumer::BaseConsumer<Quiet> = config
        .create_with_context(Quiet)
        .context("cannot create a consumer")?;
    let metadata = connect.metadata(consumer.client(), None)?;
    let found = super::topic::topic_metadata(&metadata, topic)?;
    let mut assignment = TopicPartitionList::new();
    for p in found.partitions() {
        assignment.add_partition_offset(topic, p.id(), offset)?;
    }
    consumer.assign(&assignment).context("cannot assign")?;
    Ok(consumer)
}

/// `brook bench consume`.
pub fn consume(connect: &ConnectArgs, workload: &Workload) -> anyhow::Result<BenchResult> {
    let consumer = bench_consumer(connect, &workload.topic, Offset::Beginning)?;
    let mut progress = Progress::new("consume");
    let (mut records, mut bytes) = (0u64, 0u64);
    let mut started = None;
    while records < workload.records {
        match consumer.poll(Duration::from_secs(10)) {
            Some(Ok(message)) => {
                started.get_or_insert_with(Instant::now);
                records += 1;
                bytes += message.payload_len() as u64;
                if records % 4096 == 0 {
                    progress.tick(records, bytes, workload.records);
                }
            }
            Some(Err(e)) => return Err(Fail::failed(format!("cannot consume: {e}")).into()),
            None => {
                return Err(Fail::failed(format!(
                    "no record for 10 s after {records} of {}; is the topic that full? \
                     (run brook bench produce first)",
                    workload.records
                ))
                .into());
            }
        }
    }
    progress.done();
    let seconds = started.map_or(0.0, |s| s.elapsed().as_secs_f64()).max(1e-9);
    Ok(BenchResult {
        mode: "consume",
        records,
        bytes,
        seconds,
        records_per_sec: records as f64 / seconds,
        mb_per_sec: bytes as f64 / seconds / 1e6,
        latency_ms: None,
    })
}

/// `brook bench e2e`.
pub fn e2e(connect: &ConnectArgs, workload: &Workload) -> anyhow::Result<BenchResult> {
    let rate = if workload.throughput > 0 {
        workload.throughput
    } else {
        10_000
    };
    let producer = producer(connect, workload, &[("linger.ms", "0".to_string())])?;
    ensure_topic(connect, producer.client(), workload)?;
    let consumer = bench_consumer(connect, &workload.topic, Offset::End)?;
    // Let the consumer find its start offsets before the clock starts.
    let settle = Instant::now() + Duration::from_millis(500);
    while Instant::now() < settle {
        let _ = consumer.poll(Duration::from_millis(50));
    }
    let origin = producer.context().origin;
    let size = workload.record_size.max(8);
    let mut body = vec![b'x'; size];
    let mut latencies = histogram();
    let mut progress = Progress::new("e2e");
    let started = Instant::now();
    let (mut sent, mut received, mut bytes) = (0u64, 0u64, 0u64);
    let mut last_receive = Instant::now();
    while received < workload.records {
        let due = started + Duration::from_secs_f64(sent as f64 / rate as f64);
        if sent < workload.records && Instant::now() >= due {
            let sent_at = origin.elapsed().as_micros() as u64;
            body[..8].copy_from_slice(&sent_at.to_be_bytes());
            send_blocking(&producer, &workload.topic, &body, sent_at as usize)?;
            sent += 1;
        }
        producer.poll(Duration::ZERO);
        match consumer.poll(Duration::ZERO) {
            Some(Ok(message)) => {
                let now = origin.elapsed().as_micros() as u64;
                if let Some(stamp) = message.payload().and_then(|p| p.get(..8)) {
                    let sent_at = u64::from_be_bytes(stamp.try_into().expect("8 bytes"));
                    let _ = latencies.record(now.saturating_sub(sent_at).max(1));
                }
                received += 1;
                bytes += message.payload_len() as u64;
                last_receive = Instant::now();
                progress.tick(received, bytes, workload.records);
            }
            Some(Err(e)) => return Err(Fail::failed(format!("cannot consume: {e}")).into()),
            None => {
                if sent == workload.records && last_receive.elapsed() > Duration::from_secs(30) {
                    return Err(Fail::failed(format!(
                        "only {received} of {sent} records came back within 30 s"
                    ))
                    .into());
                }
                if sent == workload.records {
                    std::thread::sleep(Duration::from_micros(100));
                }
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    progress.done();
    drain(&producer, Duration::from_secs(30))?;
    producer.context().count.check(sent, "acknowledged")?;
    Ok(BenchResult {
        mode: "e2e",
        records: received,
        bytes,
        seconds,
        records_per_sec: received as f64 / seconds,
        mb_per_sec: bytes as f64 / seconds / 1e6,
        latency_ms: latency(&latencies),
    })
}

/// A schema-registry benchmark's result.
#[derive(Serialize, Debug)]
pub struct RegistryResult {
    /// Always "registry".
    pub mode: &'static str,
    /// Requests answered with 200.
    pub requests: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Requests per second.
    pub requests_per_sec: f64,
    /// Connections used.
    pub connections: usize,
    /// Latency percentiles in milliseconds.
    pub latency_ms: Option<Latency>,
    /// The registration phase (`--register`), if any.
    pub registrations: Option<RegistrationResult>,
}

/// The registration phase of `brook bench registry`.
#[derive(Serialize, Debug)]
pub struct RegistrationResult {
    /// New schemas registered.
    pub schemas: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Registrations per second.
    pub per_sec: f64,
    /// Latency percentiles in milliseconds.
    pub latency_ms: Option<Latency>,
}

/// Registers `count` new schemas one at a time, each a record type no earlier run used.
fn register_schemas(
    agent: &ureq::Agent,
    base: &str,
    count: u64,
) -> anyhow::Result<RegistrationResult> {
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut latencies = histogram();
    let started = Instant::now();
    for i in 0..count {
        let schema = format!(
            r#"{{"type":"record","name":"R{run}x{i}","namespace":"brook.bench","fields":[{{"name":"vendor_id","type":"int"}},{{"name":"fare","type":"double"}}]}}"#
        );
        let body = serde_json::json!({ "schema": schema }).to_string();
        let sent = Instant::now();
        let mut response = agent
            .post(format!(
                "{base}/subjects/brook-bench-{run}-{i}-value/versions"
            ))
            .header("Content-Type", "application/vnd.schemaregistry.v1+json")
            .send(&body)
            .map_err(|e| Fail::failed(format!("registering schema {i} failed: {e}")))?;
        let status = response.status().as_u16();
        let answer = response.body_mut().read_to_string().unwrap_or_default();
        if status != 200 {
            return Err(Fail::failed(format!(
                "registering schema {i} answered {status}: {answer}"
            ))
            .into());
        }
        let _ = latencies.record(sent.elapsed().as_micros().max(1) as u64);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(RegistrationResult {
        schemas: count,
        seconds,
        per_sec: count as f64 / seconds.max(f64::EPSILON),
        latency_ms: latency(&latencies),
    })
}

/// `brook bench registry`.
pub fn registry(workload: &RegistryWorkload) -> anyhow::Result<RegistryResult> {
    let base = workload.url.trim_end_matches('/').to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let schema = r#"{"type":"record","name":"BenchRide","namespace":"brook.bench","fields":[{"name":"vendor_id","type":"int"},{"name":"trip_distance","type":"double"},{"name":"tip_amount","type":"double","default":0.0}]}"#;
    let body = serde_json::json!({ "schema": schema }).to_string();
    let mut response = agent
        .post(format!("{base}/subjects/brook-bench-value/versions"))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .send(&body)
        .map_err(|e| {
            Fail::unreachable(format!("cannot reach the schema registry at {base}: {e}"))
        })?;
    let answer: serde_json::Value = serde_json::from_str(
        &response
            .body_mut()
            .read_to_string()
            .context("cannot read the registration answer")?,
    )
    .context("the registration answer is not JSON")?;
    let id = answer["id"].as_i64().ok_or_else(|| {
        Fail::failed(format!(
            "the registry did not register the bench schema: {answer}"
        ))
    })?;
    let registrations = match workload.register {
        0 => None,
        n => Some(register_schemas(&agent, &base, n)?),
    };
    let url = format!("{base}/schemas/ids/{id}");
    let started = Instant::now();
    let deadline = started + workload.duration;
    let threads: Vec<_> = (0..workload.connections.max(1))
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || -> anyhow::Result<(u64, Histogram<u64>)> {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut latencies = histogram();
                let mut ok = 0u64;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let mut response = agent
                        .get(&url)
                        .call()
                        .map_err(|e| Fail::failed(format!("GET {url} failed: {e}")))?;
                    let status = response.status().as_u16();
                    let _ = response.body_mut().read_to_vec();
                    if status != 200 {
                        return Err(Fail::failed(format!("GET {url} answered {status}")).into());
                    }
                    let _ = latencies.record(sent.elapsed().as_micros().max(1) as u64);
                    ok += 1;
                }
                Ok((ok, latencies))
            })
        })
        .collect();
    let mut requests = 0;
    let mut latencies = histogram();
    for thread in threads {
        let (ok, h) = thread
            .join()
            .map_err(|_| Fail::failed("a benchmark thread panicked"))??;
        requests += ok;
        let _ = latencies.add(&h);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(RegistryResult {
        mode: "registry",
        requests,
        seconds,
        requests_per_sec: requests as f64 / seconds,
        connections: workload.connections.max(1),
        latency_ms: latency(&latencies),
        registrations,
    })
}

fn percentiles(l: &Latency) -> String {
    format!(
        "p50 {:.3}  p95 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
        l.p50, l.p95, l.p99, l.p999, l.max
    )
}

/// Runs a benchmark and prints its result.
pub fn run(command: &BenchCommand, connect: &ConnectArgs, format: Format) -> anyhow::Result<()> {
    let (result, workload) = match command {
        BenchCommand::Produce(w) => (produce(connect, w)?, w),
        BenchCommand::Consume(w) => (consume(connect, w)?, w),
        BenchCommand::E2e(w) => (e2e(connect, w)?, w),
        BenchCommand::Registry(w) => {
            let result = registry(w)?;
            if w.json || format == Format::Json {
                output::print_json(&result);
                return Ok(());
            }
            let mut fields = vec![
                ("MODE", "registry GET /schemas/ids/{id}".to_string()),
                ("URL", w.url.clone()),
                ("CONNECTIONS", result.connections.to_string()),
                ("REQUESTS", output::thousands(result.requests)),
                ("SECONDS", format!("{:.2}", result.seconds)),
                (
                    "REQUESTS/S",
                    output::thousands(result.requests_per_sec.round() as u64),
                ),
            ];
            if let Some(l) = &result.latency_ms {
                fields.push(("LATENCY-MS", percentiles(l)));
            }
            if let Some(r) = &result.registrations {
                fields.push((
                    "REGISTERED",
                    format!(
                        "{} new schemas in {:.2} s, {}/s",
                        output::thousands(r.schemas),
                        r.seconds,
                        output::thousands(r.per_sec.round() as u64)
                    ),
                ));
                if let Some(l) = &r.latency_ms {
                    fields.push(("REGISTER-MS", percentiles(l)));
                }
            }
            output::print_fields(&fields);
            return Ok(());
        }
    };
    if workload.json || format == Format::Json {
        output::print_json(&result);
        return Ok(());
    }
    let mut fields = vec![
        ("MODE", result.mode.to_string()),
        ("TOPIC", workload.topic.clone()),
        ("RECORDS", output::thousands(result.records)),
        ("RECORD-SIZE", format!("{} B", workload.record_size)),
        ("SECONDS", format!("{:.2}", result.seconds)),
        (
            "RECORDS/S",
            output::thousands(result.records_per_sec.round() as u64),
        ),
        ("MB/S", format!("{:.1}", result.mb_per_sec)),
    ];
    if let Some(l) = &result.latency_ms {
        fields.push((
            "LATENCY-MS",
            format!(
                "p50 {:.2}  p95 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
                l.p50, l.p95, l.p99, l.p999, l.max
            ),
        ));
    }
    output::print_fields(&fields);
    Ok(())
}
