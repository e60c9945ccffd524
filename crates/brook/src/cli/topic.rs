//! `brook topic create|list|describe|alter|delete`.

use std::collections::BTreeMap;

use anyhow::Context as _;
use rdkafka::admin::{NewPartitions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::consumer::Consumer as _;
use rdkafka::metadata::Metadata;
use rdkafka::types::RDKafkaErrorCode;
use serde::Serialize;

use super::Fail;
use super::connect::{ConnectArgs, block_on};
use super::output::{self, Format};

/// `brook topic …`.
#[derive(clap::Subcommand, Debug)]
pub enum TopicCommand {
    /// Create topics.
    ///
    /// Example: brook topic create rides --partitions 3 --config retention.ms=86400000
    Create {
        /// Topic names.
        #[arg(required = true)]
        topics: Vec<String>,
        /// Partitions per topic (-1: the broker's num.partitions).
        #[arg(short, long, default_value_t = -1, allow_negative_numbers = true)]
        partitions: i32,
        /// Replicas per partition (-1: the broker's default).
        #[arg(short, long, default_value_t = -1, allow_negative_numbers = true)]
        replication_factor: i32,
        /// Topic configs, e.g. -c cleanup.policy=compact (repeatable).
        #[arg(short, long = "config", value_name = "KEY=VALUE")]
        configs: Vec<String>,
    },
    /// List topics with their partition counts.
    ///
    /// Example: brook topic list --include-internal
    List {
        /// Also list internal topics such as __consumer_offsets.
        #[arg(short, long)]
        include_internal: bool,
    },
    /// Describe a topic: partitions with log start/end offsets and size on disk, and every
    /// config with its source.
    ///
    /// Example: brook topic describe rides
    Describe {
        /// Topic name.
        topic: String,
    },
    /// Change a topic's configs (incrementally) or add partitions.
    ///
    /// Example: brook topic alter rides --set retention.ms=3600000 --delete cleanup.policy
    Alter {
        /// Topic name.
        topic: String,
        /// Set a config (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Remove a config override, returning to the default (repeatable).
        #[arg(long = "delete", value_name = "KEY")]
        delete: Vec<String>,
        /// Grow the topic to this many partitions.
        #[arg(long)]
        partitions: Option<usize>,
    },
    /// Delete topics and all their data.
    ///
    /// Example: brook topic delete rides
    Delete {
        /// Topic names.
        #[arg(required = true)]
        topics: Vec<String>,
    },
}

/// Splits `KEY=VALUE`.
pub fn key_value<'a>(flag: &str, text: &'a str) -> anyhow::Result<(&'a str, &'a str)> {
    text.split_once('=')
        .filter(|(k, _)| !k.trim().is_empty())
        .map(|(k, v)| (k.trim(), v))
        .ok_or_else(|| Fail::usage(format!("invalid {flag} '{text}': expected KEY=VALUE")).into())
}

/// Runs a topic subcommand.
pub fn run(command: &TopicCommand, connect: &ConnectArgs, format: Format) -> anyhow::Result<()> {
    match command {
        TopicCommand::Create {
            topics,
            partitions,
            replication_factor,
            configs,
        } => create(
            connect,
            format,
            topics,
            *partitions,
            *replication_factor,
            configs,
        ),
        TopicCommand::List { include_internal } => list(connect, format, *include_internal),
        TopicCommand::Describe { topic } => describe(connect, format, topic),
        TopicCommand::Alter {
            topic,
            set,
            delete,
            partitions,
        } => alter(connect, format, topic, set, delete, *partitions),
        TopicCommand::Delete { topics } => delete_topics(connect, format, topics),
    }
}

#[derive(Serialize)]
struct Outcome {
    topic: String,
    error: Option<String>,
}

/// Prints per-topic outcomes of an admin call; fails (exit 1, or 4 when every failure is a
/// missing topic) if any failed.
fn report(
    format: Format,
    verb: &str,
    results: Vec<rdkafka::admin::TopicResult>,
) -> anyhow::Result<()> {
    let outcomes: Vec<Outcome> = results
        .into_iter()
        .map(|r| match r {
            Ok(topic) => Outcome { topic, error: None },
            Err((topic, code)) => Outcome {
                error: Some(error_text(code, &topic)),
                topic,
            },
        })
        .collect();
    match format {
        Format::Json => output::print_json(&outcomes),
        Format::Table => {
            let mut table = output::table(&["TOPIC", "STATUS"]);
            for o in &outcomes {
                let status = match &o.error {
                    Some(e) => output::colored(e.clone(), comfy_table::Color::Red),
                    None => output::state_cell(verb),
                };
                table.add_row(vec![comfy_table::Cell::new(&o.topic), status]);
            }
            output::print_table(&table);
        }
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.error.is_some()).collect();
    let missing = |o: &&Outcome| {
        o.error
            .as_deref()
            .is_some_and(|e| e.contains("does not exist"))
    };
    match failed.as_slice() {
        [] => Ok(()),
        [one] if missing(one) => Err(Fail::not_found(one.error.clone().unwrap_or_default()).into()),
        [one] => Err(Fail::failed(one.error.clone().unwrap_or_default()).into()),
        all if all.iter().all(missing) => {
            Err(Fail::not_found(format!("{} topic(s) not found", all.len())).into())
        }
        some => Err(Fail::failed(format!("{} of {} failed", some.len(), outcomes.len())).into()),
    }
}

fn error_text(code: RDKafkaErrorCode, topic: &str) -> String {
    match code {
        RDKafkaErrorCode::UnknownTopicOrPartition => format!("topic '{topic}' does not exist"),
        RDKafkaErrorCode::TopicAlreadyExists => format!("topic '{topic}' already exists"),
        other => other.to_string(),
    }
}

fn create(
    connect: &ConnectArgs,
    format: Format,
    topics: &[String],
    partitions: i32,
    replication: i32,
    configs: &[String],
) -> anyhow::Result<()> {
    let configs: Vec<(&str, &str)> = configs
        .iter()
        .map(|c| key_value("--config", c))
        .collect::<anyhow::Result<_>>()?;
    let admin = connect.admin()?;
    connect.metadata(admin.inner(), None)?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|name| {
            configs.iter().fold(
                NewTopic::new(name, partitions, TopicReplication::Fixed(replication)),
                |topic, (k, v)| topic.set(k, v),
            )
        })
        .collect();
    let results = block_on(admin.create_topics(&new, &connect.admin_options()))
        .context("CreateTopics failed")?;
    report(format, "created", results)
}

fn delete_topics(connect: &ConnectArgs, format: Format, topics: &[String]) -> anyhow::Result<()> {
    let admin = connect.admin()?;
    connect.metadata(admin.inner(), None)?;
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let results = block_on(admin.delete_topics(&names, &connect.admin_options()))
        .context("DeleteTopics failed")?;
    report(format, "deleted", results)
}

#[derive(Serialize)]
struct TopicRow {
    topic: String,
    partitions: usize,
    replicas: usize,
    internal: bool,
}

fn list(connect: &ConnectArgs, format: Format, include_internal: bool) -> anyhow::Result<()> {
    let admin = connect.admin()?;
    let metadata = connect.metadata(admin.inner(), None)?;
    let mut rows: Vec<TopicRow> = metadata
        .topics()
        .iter()
        .map(|t| TopicRow {
            topic: t.name().to_string(),
            partitions: t.partitions().len(),
            replicas: t.partitions().first().map_or(0, |p| p.replicas().len()),
            internal: t.name().starts_with("__"),
        })
        .filter(|row| include_internal || !row.internal)
        .collect();
    rows.sort_by(|a, b| a.topic.cmp(&b.topic));
    match format {
        Format::Json => output::print_json(&rows),
        Format::Table => {
            let mut table = output::table(&["TOPIC", "PARTITIONS", "REPLICAS"]);
            for row in &rows {
                table.add_row(vec![
                    row.topic.clone(),
                    row.partitions.to_string(),
                    row.replicas.to_string(),
                ]);
            }
            output::print_table(&table);
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct PartitionView {
    partition: i32,
    leader: i32,
    replicas: Vec<i32>,
    isr: Vec<i32>,
    log_start_offset: i64,
    log_end_offset: i64,
    size_bytes: Option<i64>,
    /// Producers with a transaction open here (None: the cluster cannot say).
    open_transactions: Option<usize>,
}

#[derive(Serialize)]
struct ConfigView {
    name: String,
    value: Option<String>,
    source: &'static str,
    read_only: bool,
    sensitive: bool,
}

#[derive(Serialize)]
struct TopicView {
    topic: String,
    partitions: Vec<PartitionView>,
    configs: Vec<ConfigView>,
}

/// The metadata of `topic`, or a not-found failure. Reads the full topic list so that asking
/// never auto-creates the topic.
pub fn topic_metadata<'m>(
    metadata: &'m Metadata,
    topic: &str,
) -> anyhow::Result<&'m rdkafka::metadata::MetadataTopic> {
    metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .ok_or_else(|| Fail::not_found(format!("topic '{topic}' does not exist")).into())
}

/// Bytes on disk per partition of `topic`; `None` for a partition no broker reported.
fn partition_sizes(
    connect: &ConnectArgs,
    metadata: &Metadata,
    topic: &str,
) -> BTreeMap<i32, Option<i64>> {
    let sizes = brook_client::topics::partition_sizes(metadata, topic, connect.timeout);
    topic_metadata(metadata, topic)
        .map(|t| {
            t.partitions()
                .iter()
                .map(|p| (p.id(), sizes.get(&p.id()).copied()))
                .collect()
        })
        .unwrap_or_default()
}

fn describe(connect: &ConnectArgs, format: Format, topic: &str) -> anyhow::Result<()> {
    let admin = connect.admin()?;
    let metadata = connect.metadata(admin.inner(), None)?;
    let found = topic_metadata(&metadata, topic)?;
    let consumer = connect.consumer(None)?;
    let sizes = partition_sizes(connect, &metadata, topic);
    // Open transactions per partition (DescribeProducers); clusters without it show "-".
    let open_transactions: Option<BTreeMap<i32, usize>> =
        match super::transactions::producers(connect, &metadata, topic, None) {
            Ok(rows) => {
                let mut open = BTreeMap::new();
                for row in rows {
                    let count = open.entry(row.partition).or_insert(0);
                    if row.open_transaction_start_offset.is_some() {
                        *count += 1;
                    }
                }
                Some(open)
            }
            Err(e) => {
                tracing::debug!(error = %e, "DescribeProducers failed");
                None
            }
        };
    let mut partitions = Vec::new();
    let mut sorted: Vec<_> = found.partitions().iter().collect();
    sorted.sort_by_key(|p| p.id());
    for p in sorted {
        let (low, high) = consumer
            .fetch_watermarks(topic, p.id(), connect.timeout)
            .with_context(|| format!("cannot read the offsets of {topic}/{}", p.id()))?;
        partitions.push(PartitionView {
            partition: p.id(),
            leader: p.leader(),
            replicas: p.replicas().to_vec(),
            isr: p.isr().to_vec(),
            log_start_offset: low,
            log_end_offset: high,
            size_bytes: sizes.get(&p.id()).copied().flatten(),
            open_transactions: open_transactions
                .as_ref()
                .map(|open| open.get(&p.id()).copied().unwrap_or(0)),
        });
    }
    let described = block_on(
        admin.describe_configs(&[ResourceSpecifier::Topic(topic)], &connect.admin_options()),
    )
    .context("DescribeConfigs failed")?;
    let mut configs = Vec::new();
    for resource in described {
        let resource = resource.map_err(|code| {
            Fail::failed(format!("cannot describe the configs of '{topic}': {code}"))
        })?;
        for entry in resource.entries {
            configs.push(ConfigView {
                name: entry.name,
                value: entry.value,
                source: brook_client::config_source_name(&entry.source),
                read_only: entry.is_read_only,
                sensitive: entry.is_sensitive,
            });
        }
    }
    configs.sort_by(|a, b| a.name.cmp(&b.name));
    let view = TopicView {
        topic: topic.to_string(),
        partitions,
        configs,
    };
    match format {
        Format::Json => output::print_json(&view),
        Format::Table => {
            let total: i64 = view.partitions.iter().filter_map(|p| p.size_bytes).sum();
            let messages: i64 = view
                .partitions
                .iter()
                .map(|p| p.log_end_offset - p.log_start_offset)
                .sum();
            output::print_fields(&[
                ("TOPIC", view.topic.clone()),
                ("PARTITIONS", view.partitions.len().to_string()),
                (
                    "REPLICAS",
                    view.partitions
                        .first()
                        .map_or(0, |p| p.replicas.len())
                        .to_string(),
                ),
                ("MESSAGES", output::thousands(messages.max(0) as u64)),
                ("SIZE", output::human_bytes(total.max(0) as u64)),
            ]);
            println!();
            let mut table = output::table(&[
                "PARTITION",
                "LEADER",
                "REPLICAS",
                "LOG-START-OFFSET",
                "LOG-END-OFFSET",
                "SIZE",
                "OPEN-TXNS",
            ]);
            for p in &view.partitions {
                table.add_row(vec![
                    p.partition.to_string(),
                    p.leader.to_string(),
                    format!("{:?}", p.replicas),
                    p.log_start_offset.to_string(),
                    p.log_end_offset.to_string(),
                    p.size_bytes
                        .map_or_else(|| "-".to_string(), |s| output::human_bytes(s as u64)),
                    p.open_transactions
                        .map_or_else(|| "-".to_string(), |n| n.to_string()),
                ]);
            }
            output::print_table(&table);
            println!();
            let mut table = output::table(&["CONFIG", "VALUE", "SOURCE"]);
            for c in &view.configs {
                let value = if c.sensitive {
                    "(sensitive)".to_string()
                } else {
                    c.value.clone().unwrap_or_else(|| "-".to_string())
                };
                table.add_row(vec![c.name.clone(), value, c.source.to_string()]);
            }
            output::print_table(&table);
        }
    }
    Ok(())
}

fn alter(
    connect: &ConnectArgs,
    format: Format,
    topic: &str,
    set: &[String],
    delete: &[String],
    partitions: Option<usize>,
) -> anyhow::Result<()> {
    if set.is_empty() && delete.is_empty() && partitions.is_none() {
        return Err(Fail::usage("nothing to alter: give --set, --delete or --partitions").into());
    }
    let set: Vec<(&str, &str)> = set
        .iter()
        .map(|c| key_value("--set", c))
        .collect::<anyhow::Result<_>>()?;
    let admin = connect.admin()?;
    let metadata = connect.metadata(admin.inner(), None)?;
    topic_metadata(&metadata, topic)?;
    let mut changes = Vec::new();
    if !set.is_empty() || !delete.is_empty() {
        // IncrementalAlterConfigs (KIP-339): only the named configs change.
        let delete: Vec<&str> = delete.iter().map(String::as_str).collect();
        brook_client::topics::alter_configs(&metadata, topic, &set, &delete, connect.timeout)
            .map_err(|e| match e {
                brook_client::topics::TopicAdminError::Refused(m) => Fail::failed(m),
                brook_client::topics::TopicAdminError::Unreachable(m) => Fail::unreachable(m),
            })?;
        changes.extend(set.iter().map(|(k, v)| format!("{k}={v}")));
        changes.extend(delete.iter().map(|k| format!("{k} (default)")));
    }
    if let Some(count) = partitions {
        let results = block_on(admin.create_partitions(
            &[NewPartitions::new(topic, count)],
            &connect.admin_options(),
        ))
        .context("CreatePartitions failed")?;
        for r in results {
            if let Err((_, code)) = r {
                return Err(Fail::failed(format!(
                    "cannot grow '{topic}' to {count} partitions: {code}"
                ))
                .into());
            }
        }
        changes.push(format!("partitions={count}"));
    }
    match format {
        Format::Json => output::print_json(&serde_json::json!({
            "topic": topic,
            "changes": changes,
        })),
        Format::Table => {
            let mut table = output::table(&["TOPIC", "CHANGE"]);
            for change in &changes {
                table.add_row(vec![topic.to_string(), change.clone()]);
            }
            output::print_table(&table);
        }
    }
    Ok(())
}
