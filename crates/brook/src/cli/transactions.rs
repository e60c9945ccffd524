//! `brook transactions list|describe|describe-producers`, like Kafka's
//! `kafka-transactions.sh`: transactional ids and their state on every broker
//! (ListTransactions), one id in detail from its coordinator (DescribeTransactions), and the
//! producers a partition knows with their open transactions (DescribeProducers). Any
//! Kafka-compatible cluster that serves these APIs (Kafka 3.0+) answers.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_producers_request::TopicRequest;
use kafka_protocol::messages::{
    DescribeProducersRequest, DescribeTransactionsRequest, ListTransactionsRequest, TopicName,
    TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use rdkafka::consumer::Consumer as _;
use rdkafka::metadata::Metadata;
use serde::Serialize;

use super::Fail;
use super::connect::ConnectArgs;
use super::output::{self, Format};
use brook_client::wire::BrokerConnection;

/// `brook transactions …`.
#[derive(clap::Subcommand, Debug)]
pub enum TransactionsCommand {
    /// List transactional ids with their producer id and state, from every broker.
    ///
    /// Example: brook transactions list --state Ongoing
    List {
        /// Only these states (Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit,
        /// CompleteAbort, PrepareEpochFence); repeatable.
        #[arg(long = "state")]
        states: Vec<String>,
        /// Only transactions open longer than this many milliseconds.
        #[arg(long, value_name = "MS")]
        duration_filter: Option<i64>,
    },
    /// Show one transactional id: producer id and epoch, state, timeout, start time and the
    /// partitions of its open transaction.
    ///
    /// Example: brook transactions describe rides-copier-1
    Describe {
        /// The transactional id.
        transactional_id: String,
    },
    /// Show the producers a partition knows, with the offset where each one's open
    /// transaction starts.
    ///
    /// Example: brook transactions describe-producers --topic rides --partition 0
    DescribeProducers {
        /// Topic.
        #[arg(short, long)]
        topic: String,
        /// Partition (default: every partition).
        #[arg(short, long)]
        partition: Option<i32>,
    },
}

/// Runs a transactions subcommand.
pub fn run(
    command: &TransactionsCommand,
    connect: &ConnectArgs,
    format: Format,
) -> anyhow::Result<()> {
    let consumer = connect.consumer(None)?;
    let metadata = connect.metadata(consumer.client(), None)?;
    match command {
        TransactionsCommand::List {
            states,
            duration_filter,
        } => list(connect, &metadata, format, states, *duration_filter),
        TransactionsCommand::Describe { transactional_id } => {
            describe(connect, &metadata, format, transactional_id)
        }
        TransactionsCommand::DescribeProducers { topic, partition } => {
            describe_producers(connect, &metadata, format, topic, *partition)
        }
    }
}

fn brokers(metadata: &Metadata) -> Vec<(i32, String)> {
    metadata
        .brokers()
        .iter()
        .map(|b| (b.id(), format!("{}:{}", b.host(), b.port())))
        .collect()
}

#[derive(Serialize)]
struct ListedRow {
    transactional_id: String,
    coordinator: i32,
    producer_id: i64,
    state: String,
}

fn list(
    connect: &ConnectArgs,
    metadata: &Metadata,
    format: Format,
    states: &[String],
    duration_filter: Option<i64>,
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for (id, address) in brokers(metadata) {
        let mut connection = BrokerConnection::open(&address, connect.timeout)?;
        let version = connection.version::<ListTransactionsRequest>()?;
        if duration_filter.is_some() && version < 1 {
            return Err(Fail::failed(format!(
                "broker {id} does not support --duration-filter (ListTransactions v1)"
            ))
            .into());
        }
        let request = ListTransactionsRequest::default()
            .with_state_filters(
                states
                    .iter()
                    .map(|s| StrBytes::from_string(s.clone()))
                    .collect(),
            )
            .with_duration_filter(duration_filter.unwrap_or(-1));
        let response = connection.send(&request, version)?;
        if response.error_code != 0 {
            return Err(Fail::failed(format!(
                "broker {id} cannot list transactions (error code {})",
                response.error_code
            ))
            .into());
        }
        if let Some(unknown) = response.unknown_state_filters.first() {
            return Err(Fail::usage(format!("unknown transaction state '{unknown}'")).into());
        }
        rows.extend(response.transaction_states.into_iter().map(|t| ListedRow {
            transactional_id: t.transactional_id.to_string(),
            coordinator: id,
            producer_id: t.producer_id.0,
            state: t.transaction_state.to_string(),
        }));
    }
    rows.sort_by(|a, b| a.transactional_id.cmp(&b.transactional_id));
    match format {
        Format::Json => output::print_json(&rows),
        Format::Table => {
            let mut table =
                output::table(&["TRANSACTIONAL-ID", "COORDINATOR", "PRODUCER-ID", "STATE"]);
            for r in &rows {
                table.add_row(vec![
                    comfy_table::Cell::new(&r.transactional_id),
                    comfy_table::Cell::new(r.coordinator),
                    comfy_table::Cell::new(r.producer_id),
                    output::state_cell(&r.state),
                ]);
            }
            output::print_table(&table);
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct TransactionView {
    transactional_id: String,
    coordinator: i32,
    producer_id: i64,
    producer_epoch: i16,
    state: String,
    timeout_ms: i32,
    start_time_ms: Option<i64>,
    duration_ms: Option<i64>,
    partitions: Vec<String>,
}

fn describe(
    connect: &ConnectArgs,
    metadata: &Metadata,
    format: Format,
    transactional_id: &str,
) -> anyhow::Result<()> {
    let (_, bootstrap) = brokers(metadata)
        .into_iter()
        .next()
        .ok_or_else(|| Fail::unreachable("the cluster lists no brokers"))?;
    let (mut connection, coordinator) = BrokerConnection::open(&bootstrap, connect.timeout)?
        .coordinator(1, transactional_id, connect.timeout)?;
    let version = connection.version::<DescribeTransactionsRequest>()?;
    let response = connection.send(
        &DescribeTransactionsRequest::default().with_transactional_ids(vec![TransactionalId(
            StrBytes::from_string(transactional_id.to_string()),
        )]),
        version,
    )?;
    let state = response
        .transaction_states
        .into_iter()
        .next()
        .ok_or_else(|| Fail::failed("the coordinator answered nothing"))?;
    if state.error_code == 105 {
        return Err(Fail::not_found(format!(
            "transactional id '{transactional_id}' does not exist"
        ))
        .into());
    }
    if state.error_code != 0 {
        return Err(Fail::failed(format!(
            "cannot describe '{transactional_id}' (error code {})",
            state.error_code
        ))
        .into());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let start = (state.transaction_start_time_ms >= 0).then_some(state.transaction_start_time_ms);
    let view = TransactionView {
        transactional_id: transactional_id.to_string(),
        coordinator,
        producer_id: state.producer_id.0,
        producer_epoch: state.producer_epoch,
        state: state.transaction_state.to_string(),
        timeout_ms: state.transaction_timeout_ms,
        start_time_ms: start,
        duration_ms: start.map(|s| now - s),
        partitions: state
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .map(move |p| format!("{}-{p}", t.topic.as_str()))
            })
            .collect(),
    };
    match format {
        Format::Json => output::print_json(&view),
        Format::Table => {
            let or_dash = |v: Option<i64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
            output::print_fields(&[
                ("TRANSACTIONAL-ID", view.transactional_id.clone()),
                ("COORDINATOR", view.coordinator.to_string()),
                ("PRODUCER-ID", view.producer_id.to_string()),
                ("PRODUCER-EPOCH", view.producer_epoch.to_string()),
                ("STATE", view.state.clone()),
                ("TIMEOUT-MS", view.timeout_ms.to_string()),
                ("START-TIME-MS", or_dash(view.start_time_ms)),
                ("DURATION-MS", or_dash(view.duration_ms)),
                (
                    "PARTITIONS",
                    if view.partitions.is_empty() {
                        "-".to_string()
                    } else {
                        view.partitions.join(", ")
                    },
                ),
            ]);
        }
    }
    Ok(())
}

/// One producer of one partition (DescribeProducers).
#[derive(Serialize, Clone)]
pub struct ProducerRow {
    /// Partition.
    pub partition: i32,
    /// Producer id.
    pub producer_id: i64,
    /// Its epoch.
    pub producer_epoch: i32,
    /// Its last sequence number.
    pub last_sequence: i32,
    /// Timestamp of its last write.
    pub last_timestamp: i64,
    /// Where its open transaction starts, or `None`.
    pub open_transaction_start_offset: Option<i64>,
}

/// The producers of `partitions` of `topic`, asked of each partition's leader.
pub fn producers(
    connect: &ConnectArgs,
    metadata: &Metadata,
    topic: &str,
    partitions: Option<i32>,
) -> anyhow::Result<Vec<ProducerRow>> {
    let meta = super::topic::topic_metadata(metadata, topic)?;
    let mut by_leader: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for p in meta.partitions() {
        if partitions.is_none_or(|only| only == p.id()) {
            by_leader.entry(p.leader()).or_default().push(p.id());
        }
    }
    if by_leader.is_empty() {
        return Err(Fail::not_found(format!("topic '{topic}' has no such partition")).into());
    }
    let addresses: BTreeMap<i32, String> = brokers(metadata).into_iter().collect();
    let mut rows = Vec::new();
    for (leader, indexes) in by_leader {
        let address = addresses
            .get(&leader)
            .ok_or_else(|| Fail::failed(format!("leader {leader} is not in the metadata")))?;
        let mut connection = BrokerConnection::open(address, connect.timeout)?;
        let version = connection.version::<DescribeProducersRequest>()?;
        let response = connection.send(
            &DescribeProducersRequest::default().with_topics(vec![
                TopicRequest::default()
                    .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                    .with_partition_indexes(indexes),
            ]),
            version,
        )?;
        for t in response.topics {
            for p in t.partitions {
                if p.error_code != 0 {
                    return Err(Fail::failed(format!(
                        "cannot describe the producers of {topic}-{} (error code {})",
                        p.partition_index, p.error_code
                    ))
                    .into());
                }
                rows.extend(p.active_producers.iter().map(|s| ProducerRow {
                    partition: p.partition_index,
                    producer_id: s.producer_id.0,
                    producer_epoch: s.producer_epoch,
                    last_sequence: s.last_sequence,
                    last_timestamp: s.last_timestamp,
                    open_transaction_start_offset:
                        (s.current_txn_start_offset >= 0).then_some(s.current_txn_start_offset),
                }));
            }
        }
    }
    rows.sort_by_key(|r| (r.partition, r.producer_id));
    Ok(rows)
}

fn describe_producers(
    connect: &ConnectArgs,
    metadata: &Metadata,
    format: Format,
    topic: &str,
    partition: Option<i32>,
) -> anyhow::Result<()> {
    let rows = producers(connect, metadata, topic, partition)?;
    match format {
        Format::Json => output::print_json(&rows),
        Format::Table => {
            let mut table = output::table(&[
                "PARTITION",
                "PRODUCER-ID",
                "EPOCH",
                "LAST-SEQUENCE",
                "LAST-TIMESTAMP",
                "OPEN-TXN-START-OFFSET",
            ]);
            for r in &rows {
                table.add_row(vec![
                    r.partition.to_string(),
                    r.producer_id.to_string(),
                    r.producer_epoch.to_string(),
                    r.last_sequence.to_string(),
                    r.last_timestamp.to_string(),
                    r.open_transaction_start_offset
                        .map_or_else(|| "-".to_string(), |o| o.to_string()),
                ]);
            }
            output::print_table(&table);
        }
    }
    Ok(())
}
