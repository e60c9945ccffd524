//! `brook produce TOPIC`: one record per input line, from stdin or `--file`.

use std::io::{BufRead as _, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::client::ClientContext;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer as _, ProducerContext};
use serde::Serialize;

use super::Fail;
use super::connect::ConnectArgs;
use super::output::{self, Format};
use super::topic::{key_value, topic_metadata};

/// Compression codecs, by Kafka's names.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Codec {
    /// No compression.
    #[default]
    None,
    /// gzip.
    Gzip,
    /// Snappy.
    Snappy,
    /// LZ4.
    Lz4,
    /// Zstandard.
    Zstd,
}

impl Codec {
    /// The `compression.type` value.
    pub fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Gzip => "gzip",
            Codec::Snappy => "snappy",
            Codec::Lz4 => "lz4",
            Codec::Zstd => "zstd",
        }
    }
}

/// `brook produce` flags.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    brook produce rides --file rides.csv\n  \
    printf 'k1:hello\\nk2:world\\n' | brook produce greetings --key-separator :\n  \
    brook produce rides --header source=cli --compression zstd < rides.csv")]
pub struct ProduceArgs {
    /// Topic to write to.
    pub topic: String,
    /// Read lines from this file instead of stdin (shows a progress bar on a terminal).
    #[arg(short, long)]
    pub file: Option<std::path::PathBuf>,
    /// Split each line into key and value at the first occurrence of this separator.
    #[arg(short = 'K', long)]
    pub key_separator: Option<String>,
    /// Write every record to this partition (default: by key, or spread when keyless).
    #[arg(short, long)]
    pub partition: Option<i32>,
    /// Add a header to every record (repeatable).
    #[arg(short = 'H', long = "header", value_name = "KEY=VALUE")]
    pub headers: Vec<String>,
    /// Compress batches with this codec.
    #[arg(short = 'z', long, value_enum, default_value_t)]
    pub compression: Codec,
    /// Acknowledgements to wait for: 0, 1 or all (-1).
    #[arg(long, default_value = "all", allow_hyphen_values = true)]
    pub acks: String,
    #[command(flatten)]
    pub schema: SchemaArgs,
}

/// How record values are encoded.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ValueFormat {
    /// Text as it is.
    #[default]
    String,
    /// Avro through a schema registry, in Confluent's wire format (each line: a JSON value).
    Avro,
    /// JSON validated against a JSON Schema from a schema registry, in Confluent's wire format.
    JsonSchema,
    /// Protobuf through a schema registry, in Confluent's wire format (each line: the
    /// message in protobuf's JSON mapping).
    Protobuf,
}

impl ValueFormat {
    /// The registry's schema type, for the formats that use one.
    pub fn schema_type(self) -> Option<brook_registry::format::SchemaType> {
        use brook_registry::format::SchemaType;
        match self {
            ValueFormat::String => None,
            ValueFormat::Avro => Some(SchemaType::Avro),
            ValueFormat::JsonSchema => Some(SchemaType::Json),
            ValueFormat::Protobuf => Some(SchemaType::Protobuf),
        }
    }
}

/// Schema-registry flags of produce and consume.
#[derive(clap::Args, Debug, Clone)]
pub struct SchemaArgs {
    /// How values are encoded.
    #[arg(long, value_enum, default_value_t)]
    pub value_format: ValueFormat,
    /// The schema of the values (produce): registered under --subject. Without it, produce
    /// uses the latest schema of --subject.
    #[arg(long, value_name = "FILE")]
    pub schema_file: Option<std::path::PathBuf>,
    /// The subject of the schema (default: TOPIC-value).
    #[arg(long)]
    pub subject: Option<String>,
    /// The Protobuf message to encode, by name (default: the schema's first message).
    #[arg(long, value_name = "NAME")]
    pub message: Option<String>,
    /// The schema registry.
    #[arg(
        long,
        env = "BROOK_REGISTRY_URL",
        default_value = "http://localhost:8081"
    )]
    pub registry_url: String,
}

/// Counts acknowledged and failed deliveries and keeps the first failure's reason (for
/// `brook produce` and `brook bench`).
#[derive(Default)]
pub(super) struct DeliveryCount {
    acked: AtomicU64,
    failed: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl DeliveryCount {
    /// Counts one delivery report.
    pub(super) fn record<T>(&self, result: &Result<T, (rdkafka::error::KafkaError, impl Sized)>) {
        match result {
            Ok(_) => {
                self.acked.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
                first.get_or_insert_with(|| e.to_string());
            }
        }
    }

    /// Records acknowledged so far.
    pub(super) fn acked(&self) -> u64 {
        self.acked.load(Ordering::Relaxed)
    }

    /// An error when some of the `sent` records failed: "N of M records were not {what}:
    /// {first reason}".
    pub(super) fn check(&self, sent: u64, what: &str) -> anyhow::Result<()> {
        let failed = self.failed.load(Ordering::Relaxed);
        if failed > 0 {
            let reason = self
                .first_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default();
            return Err(Fail::failed(format!(
                "{failed} of {sent} records were not {what}: {reason}"
            ))
            .into());
        }
        Ok(())
    }
}

#[derive(Clone, Default)]
struct Tracker(Arc<DeliveryCount>);

impl ClientContext for Tracker {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        super::connect::Quiet.log(level, fac, message);
    }
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        super::connect::Quiet.error(error, reason);
    }
}

impl ProducerContext for Tracker {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        self.0.record(result);
    }
}

/// `--acks` as librdkafka spells it: 0, 1 or all (-1).
pub fn acks(text: &str) -> anyhow::Result<&'static str> {
    match text {
        "all" | "-1" => Ok("all"),
        "0" => Ok("0"),
        "1" => Ok("1"),
        other => Err(Fail::usage(format!("invalid --acks '{other}': expected 0, 1 or all")).into()),
    }
}

#[derive(Serialize)]
struct Summary {
    topic: String,
    records: u64,
    bytes: u64,
    seconds: f64,
}

/// Runs `brook produce`.
pub fn run(args: &ProduceArgs, connect: &ConnectArgs, format: Format) -> anyhow::Result<()> {
    let headers: Vec<(String, String)> = args
        .headers
        .iter()
        .map(|h| key_value("--header", h).map(|(k, v)| (k.to_string(), v.to_string())))
        .collect::<anyhow::Result<_>>()?;
    let acks = acks(&args.acks)?;
    let (input, length, source): (Box<dyn Read>, Option<u64>, String) = match &args.file {
        Some(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| Fail::usage(format!("cannot open {}: {e}", path.display())))?;
            let length = file.metadata().ok().map(|m| m.len());
            (Box::new(file), length, path.display().to_string())
        }
        None => (Box::new(std::io::stdin().lock()), None, "stdin".to_string()),
    };

    // Registry formats: the schema is registered (or found) before anything is read or sent.
    let registry = match args.schema.value_format.schema_type() {
        None => None,
        Some(schema_type) => {
            let subject = args
                .schema
                .subject
                .clone()
                .unwrap_or_else(|| format!("{}-value", args.topic));
            let client = brook_registry::client::RegistryClient::new(&args.schema.registry_url);
            let (id, parsed) = match &args.schema.schema_file {
                Some(path) => {
                    let schema = std::fs::read_to_string(path)
                        .map_err(|e| Fail::usage(format!("cannot read {}: {e}", path.display())))?;
                    client
                        .register(&subject, schema_type, &schema)
                        .map_err(|e| Fail::failed(format!("cannot register the schema: {e}")))?
                }
                None => client.latest(&subject).map_err(|e| {
                    Fail::failed(format!(
                        "no --schema-file, and no schema for subject {subject}: {e}"
                    ))
                })?,
            };
            if parsed.schema_type() != schema_type {
                return Err(Fail::usage(format!(
                    "subject {subject} holds a {} schema, not {}",
                    parsed.schema_type().name(),
                    schema_type.name()
                ))
                .into());
            }
            Some((id, parsed))
        }
    };
    let tracker = Tracker::default();
    let producer = connect.producer(
        &[
            ("compression.type", args.compression.name().to_string()),
            ("acks", acks.to_string()),
            ("linger.ms", "5".to_string()),
            (
                "message.timeout.ms",
                connect.timeout.as_millis().max(1).to_string(),
            ),
        ],
        tracker.clone(),
    )?;
    let metadata = connect.metadata(producer.client(), None)?;
    let found = topic_metadata(&metadata, &args.topic)?;
    if let Some(p) = args.partition
        && !found.partitions().iter().any(|fp| fp.id() == p)
    {
        return Err(Fail::not_found(format!("topic '{}' has no partition {p}", args.topic)).into());
    }
    let mut record_headers = OwnedHeaders::new();
    for (k, v) in &headers {
        record_headers = record_headers.insert(Header {
            key: k,
            value: Some(v.as_bytes()),
        });
    }

    let progress = length.filter(|_| std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let bar = progress.map(|len| {
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} [{wide_bar}] {bytes_per_sec} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    });

    let started = Instant::now();
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut line = Vec::new();
    let mut sent = 0u64;
    let mut bytes = 0u64;
    let mut number = 0u64;
    let result = loop {
        line.clear();
        let read = match reader.read_until(b'\n', &mut line) {
            Ok(n) => n,
            Err(e) => break Err(anyhow::Error::new(e).context(format!("cannot read {source}"))),
        };
        if read == 0 {
            break Ok(());
        }
        number += 1;
        if let Some(bar) = &bar {
            bar.inc(read as u64);
        }
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            break Err(Fail::usage(format!(
                "line {number} of {source} is not valid UTF-8; nothing from it on was sent"
            ))
            .into());
        };
        let (key, value) = match &args.key_separator {
            Some(sep) => match text.split_once(sep.as_str()) {
                Some((k, v)) => (Some(k), v),
                None => (None, text),
            },
            None => (None, text),
        };
        let encoded;
        let payload: &[u8] = match &registry {
            None => value.as_bytes(),
            Some((id, parsed)) => {
                let json: serde_json::Value = match serde_json::from_str(value) {
                    Ok(json) => json,
                    Err(e) => {
                        break Err(Fail::usage(format!(
                            "line {number} of {source} is not a JSON value: {e}"
                        ))
                        .into());
                    }
                };
                encoded = match parsed.encode_json(&json, args.schema.message.as_deref()) {
                    Ok(bytes) => brook_registry::wire::frame(*id, &bytes),
                    Err(e) => {
                        break Err(Fail::usage(format!("line {number} of {source}: {e}")).into());
                    }
                };
                &encoded
            }
        };
        let mut record = BaseRecord::<str, [u8]>::to(&args.topic)
            .payload(payload)
            .headers(record_headers.clone());
        if let Some(key) = key {
            record = record.key(key);
        }
        if let Some(p) = args.partition {
            record = record.partition(p);
        }
        bytes += value.len() as u64 + key.map_or(0, str::len) as u64;
        let mut pending = record;
        loop {
            match producer.send(pending) {
                Ok(()) => break,
                Err((e, back))
                    if e.rdkafka_error_code()
                        == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                {
                    producer.poll(Duration::from_millis(5));
                    pending = back;
                }
                Err((e, _)) => {
                    return Err(Fail::failed(format!("cannot send line {number}: {e}")).into());
                }
            }
        }
        sent += 1;
        producer.poll(Duration::ZERO);
    };
    producer
        .flush(connect.timeout.max(Duration::from_secs(30)))
        .context("not every record was acknowledged in time")?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let elapsed = started.elapsed().as_secs_f64();
    tracker
        .0
        .check(sent, &format!("written to '{}'", args.topic))?;
    result?;
    match format {
        Format::Json => output::print_json(&Summary {
            topic: args.topic.clone(),
            records: sent,
            bytes,
            seconds: elapsed,
        }),
        Format::Table => eprintln!(
            "Produced {} record{} ({}) to {} in {:.2} s",
            output::thousands(sent),
            if sent == 1 { "" } else { "s" },
            output::human_bytes(bytes),
            args.topic,
            elapsed
        ),
    }
    Ok(())
}
