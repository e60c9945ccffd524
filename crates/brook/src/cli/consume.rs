//! `brook consume TOPIC`: print records as values, key-value pairs or JSON lines.
//!
//! Without a group the partitions are assigned directly and nothing is committed; with
//! `--group` the consumer joins that group, starts from its committed offsets and commits as
//! it goes. It stops at the end of the topic unless `--follow` is given or it started at the
//! end (then it waits for new records, like kafka-console-consumer); Ctrl-C stops it cleanly,
//! committing first.

use std::collections::HashSet;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use rdkafka::consumer::Consumer as _;
use rdkafka::message::{Headers as _, Message as _};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use super::Fail;
use super::connect::ConnectArgs;
use super::output::Format;
use super::topic::topic_metadata;

/// How each record is printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordFormat {
    /// The value only.
    #[default]
    Value,
    /// Key, a tab, then the value.
    KeyValue,
    /// One JSON object per record with topic, partition, offset, timestamp, key, value and
    /// headers.
    Json,
}

/// `brook consume` flags.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    brook consume rides --from-beginning --max-messages 10\n  \
    brook consume rides --group dashboards --follow --format json\n  \
    brook consume rides --partition 0 --offset 42\n  \
    brook consume rides --timestamp 2026-11-22T08:00:00Z")]
pub struct ConsumeArgs {
    /// Topic to read.
    pub topic: String,
    /// Start at the earliest offset (for a group: when it has no committed offset).
    #[arg(long, conflicts_with_all = ["offset", "timestamp"])]
    pub from_beginning: bool,
    /// Start at this offset on every partition read (negative: that many records before the
    /// end).
    #[arg(long, conflicts_with_all = ["timestamp", "group"], allow_negative_numbers = true)]
    pub offset: Option<i64>,
    /// Start at the first record at or after this time (RFC 3339, e.g. 2026-11-22T08:00:00Z,
    /// or milliseconds since the epoch).
    #[arg(short, long, conflicts_with = "group")]
    pub timestamp: Option<String>,
    /// Read only this partition.
    #[arg(short, long)]
    pub partition: Option<i32>,
    /// Consume as a member of this group, committing offsets.
    #[arg(short, long)]
    pub group: Option<String>,
    /// Stop after this many records.
    #[arg(short = 'n', long)]
    pub max_messages: Option<u64>,
    /// Keep waiting for new records instead of stopping at the end.
    #[arg(short, long)]
    pub follow: bool,
    /// How to print each record (`--output json` implies json).
    #[arg(long, value_enum, default_value_t)]
    pub format: RecordFormat,
    #[command(flatten)]
    pub schema: super::produce::SchemaArgs,
}

#[derive(Serialize)]
struct JsonRecord<'a> {
    topic: &'a str,
    partition: i32,
    offset: i64,
    timestamp: Option<i64>,
    key: Option<String>,
    value: Option<String>,
    headers: Vec<JsonHeader>,
}

#[derive(Serialize)]
struct JsonHeader {
    key: String,
    value: Option<String>,
}

/// Parses `--timestamp`: epoch milliseconds or an RFC 3339 time.
pub fn parse_time(text: &str) -> anyhow::Result<i64> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let time = humantime::parse_rfc3339_weak(text).map_err(|e| {
        Fail::usage(format!(
            "invalid time '{text}': {e} (expected e.g. 2026-11-22T08:00:00Z or epoch milliseconds)"
        ))
    })?;
    Ok(time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64))
}

fn text(bytes: Option<&[u8]>) -> Option<String> {
    bytes.map(|b| String::from_utf8_lossy(b).into_owned())
}

/// Runs `brook consume`.
pub fn run(args: &ConsumeArgs, connect: &ConnectArgs, format: Format) -> anyhow::Result<()> {
    let record_format = if format == Format::Json {
        RecordFormat::Json
    } else {
        args.format
    };
    let start_time = args.timestamp.as_deref().map(parse_time).transpose()?;
    let consumer = {
        let mut config = connect.config()?;
        config
            .set("group.id", args.group.as_deref().unwrap_or("brook-cli"))
            .set("enable.partition.eof", "true")
            .set(
                "auto.offset.reset",
                if args.from_beginning {
                    "earliest"
                } else {
                    "latest"
                },
            )
            .set(
                "enable.auto.commit",
                if args.group.is_some() {
                    "true"
                } else {
                    "false"
                },
            )
            // Offsets are stored as records are printed: librdkafka would otherwise store
            // the whole batch a poll fetched, and a group would commit records it never
            // printed (`-n 10` committing 50).
            .set("enable.auto.offset.store", "false");
        config
            .create_with_context::<_, rdkafka::consumer::BaseConsumer<super::connect::Quiet>>(
                super::connect::Quiet,
            )
            .context("cannot create a consumer")?
    };
    let metadata = connect.metadata(consumer.client(), None)?;
    let found = topic_metadata(&metadata, &args.topic)?;
    let partitions: Vec<i32> = match args.partition {
        Some(p) if found.partitions().iter().any(|fp| fp.id() == p) => vec![p],
        Some(p) => {
            return Err(
                Fail::not_found(format!("topic '{}' has no partition {p}", args.topic)).into(),
            );
        }
        None => found.partitions().iter().map(|p| p.id()).collect(),
    };
    let starts_at_end = args.group.is_none()
        && !args.from_beginning
        && args.offset.is_none()
        && start_time.is_none();
    let follow = args.follow || starts_at_end;

    match (&args.group, args.partition) {
        (Some(_), None) => consumer
            .subscribe(&[&args.topic])
            .context("cannot subscribe")?,
        _ => {
            let mut assignment = TopicPartitionList::new();
            for p in &partitions {
                let offset = match (args.offset, start_time) {
                    (Some(o), _) if o >= 0 => Offset::Offset(o),
                    (Some(o), _) => Offset::OffsetTail(-o),
                    (None, Some(t)) => Offset::Offset(t),
                    (None, None) if args.from_beginning => Offset::Beginning,
                    (None, None) if args.group.is_some() => Offset::Stored,
                    (None, None) => Offset::End,
                };
                assignment.add_partition_offset(&args.topic, *p, offset)?;
            }
            if start_time.is_some() {
                // Partitions with nothing at or after the time come back as End.
                assignment = consumer
                    .offsets_for_times(assignment, connect.timeout)
                    .context("cannot look up offsets for --timestamp")?;
            }
            consumer.assign(&assignment).context("cannot assign")?;
        }
    }

    let registry = args
        .schema
        .value_format
        .schema_type()
        .is_some()
        .then(|| brook_registry::client::RegistryClient::new(&args.schema.registry_url));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut at_end: HashSet<i32> = HashSet::new();
    let mut count = 0u64;
    let limit = args.max_messages.unwrap_or(u64::MAX);
    // Ctrl-C or SIGTERM end the loop instead of the process, so a group member commits what
    // it printed and leaves its group before exiting.
    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, interrupted.clone())
            .context("cannot watch for Ctrl-C")?;
    }
    while count < limit && !interrupted.load(Ordering::Relaxed) {
        let Some(item) = consumer.poll(Duration::from_millis(200)) else {
            if !follow && done(&consumer, &at_end, args.group.is_some(), &partitions) {
                break;
            }
            continue;
        };
        let message = match item {
            Ok(message) => message,
            Err(rdkafka::error::KafkaError::PartitionEOF(p)) => {
                at_end.insert(p);
                if !follow && done(&consumer, &at_end, args.group.is_some(), &partitions) {
                    break;
                }
                continue;
            }
            Err(e) => {
                return Err(Fail::failed(format!("cannot consume '{}': {e}", args.topic)).into());
            }
        };
        at_end.remove(&message.partition());
        count += 1;
        let value = match &registry {
            None => text(message.payload()),
            Some(client) => match message.payload() {
                None => None,
                Some(bytes) => Some(
                    client
                        .deserialize(bytes)
                        .map_err(|e| {
                            Fail::failed(format!(
                                "offset {} of partition {} cannot be deserialized: {e}",
                                message.offset(),
                                message.partition()
                            ))
                        })?
                        .to_string(),
                ),
            },
        };
        let written = match record_format {
            RecordFormat::Value => writeln!(out, "{}", value.clone().unwrap_or_default()),
            RecordFormat::KeyValue => writeln!(
                out,
                "{}\t{}",
                text(message.key()).unwrap_or_default(),
                value.clone().unwrap_or_default()
            ),
            RecordFormat::Json => {
                let headers = message
                    .headers()
                    .map(|hs| {
                        hs.iter()
                            .map(|h| JsonHeader {
                                key: h.key.to_string(),
                                value: text(h.value),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let record = JsonRecord {
                    topic: message.topic(),
                    partition: message.partition(),
                    offset: message.offset(),
                    timestamp: message.timestamp().to_millis(),
                    key: text(message.key()),
                    value: value.clone(),
                    headers,
                };
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string(&record).expect("records serialize")
                )
            }
        };
        let flushed = written.and_then(|()| if follow { out.flush() } else { Ok(()) });
        if let Err(e) = flushed {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(()); // `brook consume … | head` is done reading.
            }
            return Err(anyhow::Error::new(e).context("cannot write to stdout"));
        }
        if args.group.is_some() {
            consumer
                .store_offset_from_message(&message)
                .context("cannot store the consumed offset")?;
        }
    }
    let _ = out.flush();
    drop(out);
    if args.group.is_some() {
        consumer
            .commit_consumer_state(rdkafka::consumer::CommitMode::Sync)
            .or_else(|e| match e.rdkafka_error_code() {
                // Nothing consumed: nothing to commit.
                Some(rdkafka::types::RDKafkaErrorCode::NoOffset) => Ok(()),
                _ => Err(e),
            })
            .context("cannot commit the group's offsets")?;
    }
    eprintln!(
        "Consumed {} record{} from {}",
        super::output::thousands(count),
        if count == 1 { "" } else { "s" },
        args.topic
    );
    Ok(())
}

/// Whether every partition being read has reached its end.
fn done(
    consumer: &rdkafka::consumer::BaseConsumer<super::connect::Quiet>,
    at_end: &HashSet<i32>,
    grouped: bool,
    partitions: &[i32],
) -> bool {
    if grouped {
        match consumer.assignment() {
            Ok(assigned) if assigned.count() > 0 => assigned
                .elements()
                .iter()
                .all(|e| at_end.contains(&e.partition())),
            _ => false,
        }
    } else {
        partitions.iter().all(|p| at_end.contains(p))
    }
}
