//! `brook group list|describe|reset-offsets|delete`.

use std::collections::BTreeMap;

use anyhow::Context as _;
use bytes::Buf as _;
use kafka_protocol::messages::{ConsumerProtocolAssignment, GroupId, OffsetFetchRequest};
use kafka_protocol::protocol::{Decodable as _, StrBytes};
use rdkafka::consumer::{CommitMode, Consumer as _};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use super::Fail;
use super::connect::{ConnectArgs, block_on};
use super::consume::parse_time;
use super::output::{self, Format};
use super::wire::BrokerConnection;

/// `brook group …`.
#[derive(clap::Subcommand, Debug)]
pub enum GroupCommand {
    /// List consumer groups with their state and member count.
    ///
    /// Example: brook group list
    List,
    /// Show a group's members, and per partition its committed offset, the log end offset and
    /// the lag.
    ///
    /// Example: brook group describe rides-dashboard
    Describe {
        /// Group id.
        group: String,
    },
    /// Move a group's committed offsets. Prints the plan; --execute commits it. The group
    /// must have no active members.
    ///
    /// Example: brook group reset-offsets dashboards --topic rides --to-earliest --execute
    ResetOffsets {
        /// Group id.
        group: String,
        /// Topics to reset (repeatable; default: every topic the group has offsets for).
        #[arg(short, long = "topic")]
        topics: Vec<String>,
        /// Reset to the earliest offset.
        #[arg(long, group = "target")]
        to_earliest: bool,
        /// Reset to the log end offset.
        #[arg(long, group = "target")]
        to_latest: bool,
        /// Reset to the first offset at or after this time (RFC 3339 or epoch ms).
        #[arg(long, group = "target", value_name = "TIME")]
        to_datetime: Option<String>,
        /// Move every offset by this many records (negative: back).
        #[arg(long, group = "target", allow_negative_numbers = true)]
        shift_by: Option<i64>,
        /// Reset to this offset.
        #[arg(long, group = "target")]
        to_offset: Option<i64>,
        /// Commit the new offsets (without it nothing changes).
        #[arg(long)]
        execute: bool,
    },
    /// Delete groups (their committed offsets go too). Groups must have no members.
    ///
    /// Example: brook group delete old-dashboards
    Delete {
        /// Group ids.
        #[arg(required = true)]
        groups: Vec<String>,
    },
}

/// Runs a group subcommand.
pub fn run(command: &GroupCommand, connect: &ConnectArgs, format: Format) -> anyhow::Result<()> {
    match command {
        GroupCommand::List => list(connect, format),
        GroupCommand::Describe { group } => describe(connect, format, group),
        GroupCommand::ResetOffsets {
            group,
            topics,
            to_earliest,
            to_latest,
            to_datetime,
            shift_by,
            to_offset,
            execute,
        } => {
            let target = match (to_earliest, to_latest, to_datetime, shift_by, to_offset) {
                (true, ..) => Target::Earliest,
                (_, true, ..) => Target::Latest,
                (_, _, Some(time), ..) => Target::Time(parse_time(time)?),
                (_, _, _, Some(n), _) => Target::Shift(*n),
                (_, _, _, _, Some(o)) => Target::Offset(*o),
                _ => {
                    return Err(Fail::usage(
                        "say where to: --to-earliest, --to-latest, --to-datetime, --shift-by or \
                         --to-offset",
                    )
                    .into());
                }
            };
            reset(connect, format, group, topics, target, *execute)
        }
        GroupCommand::Delete { groups } => delete(connect, format, groups),
    }
}

#[derive(Serialize)]
struct GroupRow {
    group: String,
    state: String,
    protocol_type: String,
    members: usize,
}

fn list(connect: &ConnectArgs, format: Format) -> anyhow::Result<()> {
    let consumer = connect.consumer(None)?;
    connect.metadata(consumer.client(), None)?;
    let groups = consumer
        .fetch_group_list(None, connect.timeout)
        .map_err(|e| Fail::failed(format!("cannot list groups: {e}")))?;
    let mut rows: Vec<GroupRow> = groups
        .groups()
        .iter()
        .map(|g| GroupRow {
            group: g.name().to_string(),
            state: g.state().to_string(),
            protocol_type: g.protocol_type().to_string(),
            members: g.members().len(),
        })
        .collect();
    rows.sort_by(|a, b| a.group.cmp(&b.group));
    match format {
        Format::Json => output::print_json(&rows),
        Format::Table => {
            let mut table = output::table(&["GROUP", "STATE", "PROTOCOL-TYPE", "MEMBERS"]);
            for r in &rows {
                table.add_row(vec![
                    comfy_table::Cell::new(&r.group),
                    output::state_cell(&r.state),
                    comfy_table::Cell::new(&r.protocol_type),
                    comfy_table::Cell::new(r.members),
                ]);
            }
            output::print_table(&table);
        }
    }
    Ok(())
}

/// A group member with the partitions assigned to it.
#[derive(Serialize, Clone)]
struct MemberView {
    member_id: String,
    client_id: String,
    host: String,
    partitions: Vec<(String, i32)>,
}

/// The partitions in a ConsumerProtocolAssignment (any version).
fn assigned_partitions(bytes: &[u8]) -> Vec<(String, i32)> {
    let mut buf = bytes::Bytes::copy_from_slice(bytes);
    if buf.remaining() < 2 {
        return Vec::new();
    }
    let version = buf.get_i16();
    ConsumerProtocolAssignment::decode(&mut buf, version.clamp(0, 3))
        .map(|a| {
            a.assigned_partitions
                .into_iter()
                .flat_map(|tp| {
                    let topic = tp.topic.to_string();
                    tp.partitions.into_iter().map(move |p| (topic.clone(), p))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The group's committed offsets, asked of its coordinator (OffsetFetch for all topics).
fn committed_offsets(
    connect: &ConnectArgs,
    metadata: &rdkafka::metadata::Metadata,
    group: &str,
) -> anyhow::Result<BTreeMap<(String, i32), i64>> {
    let bootstrap = metadata
        .brokers()
        .first()
        .map(|b| format!("{}:{}", b.host(), b.port()))
        .ok_or_else(|| Fail::unreachable("the cluster lists no brokers"))?;
    let (mut connection, _) = BrokerConnection::open(&bootstrap, connect.timeout)?.coordinator(
        0,
        group,
        connect.timeout,
    )?;
    // Versions 2–7: one group, all topics when none are named.
    let version = connection.version::<OffsetFetchRequest>()?.clamp(2, 7);
    let response = connection.send(
        &OffsetFetchRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
            .with_topics(None),
        version,
    )?;
    if response.error_code != 0 {
        return Err(Fail::failed(format!(
            "cannot read the offsets of group '{group}' (error code {})",
            response.error_code
        ))
        .into());
    }
    let mut offsets = BTreeMap::new();
    for topic in response.topics {
        for p in topic.partitions {
            if p.committed_offset >= 0 {
                offsets.insert(
                    (topic.name.to_string(), p.partition_index),
                    p.committed_offset,
                );
            }
        }
    }
    Ok(offsets)
}

#[derive(Serialize)]
struct LagRow {
    topic: String,
    partition: i32,
    committed_offset: Option<i64>,
    log_end_offset: i64,
    lag: Option<i64>,
    member_id: Option<String>,
    host: Option<String>,
    client_id: Option<String>,
}

#[derive(Serialize)]
struct GroupView {
    group: String,
    state: String,
    protocol_type: String,
    protocol: String,
    members: Vec<MemberView>,
    partitions: Vec<LagRow>,
}

fn describe(connect: &ConnectArgs, format: Format, group: &str) -> anyhow::Result<()> {
    let consumer = connect.consumer(None)?;
    let metadata = connect.metadata(consumer.client(), None)?;
    let list = consumer
        .fetch_group_list(Some(group), connect.timeout)
        .map_err(|e| Fail::failed(format!("cannot describe group '{group}': {e}")))?;
    let info = list.groups().iter().find(|g| g.name() == group);
    let committed = committed_offsets(connect, &metadata, group)?;
    let state = info.map_or("Dead", |g| g.state()).to_string();
    if state == "Dead" && committed.is_empty() {
        return Err(Fail::not_found(format!("group '{group}' does not exist")).into());
    }
    let members: Vec<MemberView> = info
        .map(|g| {
            g.members()
                .iter()
                .map(|m| MemberView {
                    member_id: m.id().to_string(),
                    client_id: m.client_id().to_string(),
                    host: m.client_host().to_string(),
                    partitions: m.assignment().map(assigned_partitions).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut owner: BTreeMap<(String, i32), &MemberView> = BTreeMap::new();
    for m in &members {
        for tp in &m.partitions {
            owner.insert(tp.clone(), m);
        }
    }
    let mut keys: Vec<(String, i32)> = committed.keys().cloned().collect();
    keys.extend(owner.keys().cloned());
    keys.sort();
    keys.dedup();
    let mut partitions = Vec::new();
    for (topic, partition) in keys {
        let log_end = consumer
            .fetch_watermarks(&topic, partition, connect.timeout)
            .map_or(-1, |(_, high)| high);
        let current = committed.get(&(topic.clone(), partition)).copied();
        let member = owner.get(&(topic.clone(), partition));
        partitions.push(LagRow {
            lag: current
                .filter(|_| log_end >= 0)
                .map(|c| (log_end - c).max(0)),
            committed_offset: current,
            log_end_offset: log_end,
            member_id: member.map(|m| m.member_id.clone()),
            host: member.map(|m| m.host.clone()),
            client_id: member.map(|m| m.client_id.clone()),
            topic,
            partition,
        });
    }
    let view = GroupView {
        group: group.to_string(),
        state,
        protocol_type: info.map_or("", |g| g.protocol_type()).to_string(),
        protocol: info.map_or("", |g| g.protocol()).to_string(),
        members,
        partitions,
    };
    match format {
        Format::Json => output::print_json(&view),
        Format::Table => {
            let total_lag: i64 = view.partitions.iter().filter_map(|p| p.lag).sum();
            output::print_fields(&[
                ("GROUP", view.group.clone()),
                ("STATE", view.state.clone()),
                (
                    "PROTOCOL",
                    Some(view.protocol.clone())
                        .filter(|p| !p.is_empty())
                        .unwrap_or_else(|| "-".to_string()),
                ),
                ("MEMBERS", view.members.len().to_string()),
                ("TOTAL-LAG", output::thousands(total_lag.max(0) as u64)),
            ]);
            println!();
            let mut table = output::table(&[
                "TOPIC",
                "PARTITION",
                "CURRENT-OFFSET",
                "LOG-END-OFFSET",
                "LAG",
                "MEMBER-ID",
                "HOST",
                "CLIENT-ID",
            ]);
            let dash = || "-".to_string();
            for p in &view.partitions {
                let lag = match p.lag {
                    Some(0) => output::colored("0", comfy_table::Color::Green),
                    Some(l) => output::colored(l.to_string(), comfy_table::Color::Yellow),
                    None => comfy_table::Cell::new("-"),
                };
                table.add_row(vec![
                    comfy_table::Cell::new(&p.topic),
                    comfy_table::Cell::new(p.partition),
                    comfy_table::Cell::new(p.committed_offset.map_or_else(dash, |o| o.to_string())),
                    comfy_table::Cell::new(p.log_end_offset),
                    lag,
                    comfy_table::Cell::new(p.member_id.clone().unwrap_or_else(dash)),
                    comfy_table::Cell::new(p.host.clone().unwrap_or_else(dash)),
                    comfy_table::Cell::new(p.client_id.clone().unwrap_or_else(dash)),
                ]);
            }
            output::print_table(&table);
            if !view.members.is_empty() {
                println!();
                let mut members = output::table(&["MEMBER-ID", "CLIENT-ID", "HOST", "PARTITIONS"]);
                for m in &view.members {
                    members.add_row(vec![
                        m.member_id.clone(),
                        m.client_id.clone(),
                        m.host.clone(),
                        m.partitions.len().to_string(),
                    ]);
                }
                output::print_table(&members);
            }
        }
    }
    Ok(())
}

/// Where `reset-offsets` moves each offset.
#[derive(Debug, Clone, Copy)]
enum Target {
    Earliest,
    Latest,
    Time(i64),
    Shift(i64),
    Offset(i64),
}

#[derive(Serialize)]
struct ResetRow {
    topic: String,
    partition: i32,
    current_offset: Option<i64>,
    new_offset: i64,
}

fn reset(
    connect: &ConnectArgs,
    format: Format,
    group: &str,
    topics: &[String],
    target: Target,
    execute: bool,
) -> anyhow::Result<()> {
    let consumer = connect.consumer(Some(group))?;
    let metadata = connect.metadata(consumer.client(), None)?;
    let list = consumer
        .fetch_group_list(Some(group), connect.timeout)
        .map_err(|e| Fail::failed(format!("cannot describe group '{group}': {e}")))?;
    if let Some(info) = list.groups().iter().find(|g| g.name() == group)
        && !matches!(info.state(), "Empty" | "Dead" | "")
    {
        return Err(Fail::failed(format!(
            "group '{group}' is {} with {} member(s); stop its consumers before resetting offsets",
            info.state(),
            info.members().len()
        ))
        .into());
    }
    let committed = committed_offsets(connect, &metadata, group)?;
    let mut partitions: Vec<(String, i32)> = Vec::new();
    if topics.is_empty() {
        partitions.extend(committed.keys().cloned());
        if partitions.is_empty() {
            return Err(Fail::not_found(format!(
                "group '{group}' has no committed offsets; name the topics with --topic"
            ))
            .into());
        }
    } else {
        for topic in topics {
            let found = super::topic::topic_metadata(&metadata, topic)?;
            partitions.extend(found.partitions().iter().map(|p| (topic.clone(), p.id())));
        }
    }
    partitions.sort();
    let mut times = TopicPartitionList::new();
    if let Target::Time(t) = target {
        for (topic, p) in &partitions {
            times.add_partition_offset(topic, *p, Offset::Offset(t))?;
        }
        times = consumer
            .offsets_for_times(times, connect.timeout)
            .context("cannot look up offsets for --to-datetime")?;
    }
    let mut rows = Vec::new();
    let mut plan = TopicPartitionList::new();
    for (topic, p) in &partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, *p, connect.timeout)
            .with_context(|| format!("cannot read the offsets of {topic}/{p}"))?;
        let current = committed.get(&(topic.clone(), *p)).copied();
        let new = match target {
            Target::Earliest => low,
            Target::Latest => high,
            Target::Offset(o) => o,
            Target::Shift(n) => current.unwrap_or(high).saturating_add(n),
            Target::Time(_) => match times.find_partition(topic, *p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => o,
                _ => high,
            },
        }
        .clamp(low, high);
        plan.add_partition_offset(topic, *p, Offset::Offset(new))?;
        rows.push(ResetRow {
            topic: topic.clone(),
            partition: *p,
            current_offset: current,
            new_offset: new,
        });
    }
    if execute {
        consumer
            .commit(&plan, CommitMode::Sync)
            .map_err(|e| Fail::failed(format!("cannot commit the new offsets: {e}")))?;
    }
    match format {
        Format::Json => output::print_json(&serde_json::json!({
            "group": group,
            "executed": execute,
            "partitions": rows,
        })),
        Format::Table => {
            let mut table = output::table(&["TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"]);
            for r in &rows {
                table.add_row(vec![
                    r.topic.clone(),
                    r.partition.to_string(),
                    r.current_offset
                        .map_or_else(|| "-".to_string(), |o| o.to_string()),
                    r.new_offset.to_string(),
                ]);
            }
            output::print_table(&table);
            if !execute {
                eprintln!("Dry run: nothing was committed. Add --execute to apply this plan.");
            }
        }
    }
    Ok(())
}

fn delete(connect: &ConnectArgs, format: Format, groups: &[String]) -> anyhow::Result<()> {
    let admin = connect.admin()?;
    connect.metadata(admin.inner(), None)?;
    let names: Vec<&str> = groups.iter().map(String::as_str).collect();
    let results = block_on(admin.delete_groups(&names, &connect.admin_options()))
        .context("DeleteGroups failed")?;
    let mut rows = Vec::new();
    let mut missing = 0;
    let mut failed = 0;
    for r in results {
        match r {
            Ok(group) => rows.push((group, None)),
            Err((group, code)) => {
                let text = match code {
                    rdkafka::types::RDKafkaErrorCode::GroupIdNotFound => {
                        missing += 1;
                        format!("group '{group}' does not exist")
                    }
                    rdkafka::types::RDKafkaErrorCode::NonEmptyGroup => {
                        failed += 1;
                        format!("group '{group}' still has members")
                    }
                    other => {
                        failed += 1;
                        other.to_string()
                    }
                };
                rows.push((group, Some(text)));
            }
        }
    }
    match format {
        Format::Json => output::print_json(
            &rows
                .iter()
                .map(|(g, e)| serde_json::json!({"group": g, "error": e}))
                .collect::<Vec<_>>(),
        ),
        Format::Table => {
            let mut table = output::table(&["GROUP", "STATUS"]);
            for (g, e) in &rows {
                table.add_row(vec![
                    g.clone(),
                    e.clone().unwrap_or_else(|| "deleted".into()),
                ]);
            }
            output::print_table(&table);
        }
    }
    let errors: Vec<&String> = rows.iter().filter_map(|(_, e)| e.as_ref()).collect();
    match (failed, missing) {
        (0, 0) => Ok(()),
        (0, 1) => Err(Fail::not_found(errors[0].clone()).into()),
        (1, 0) => Err(Fail::failed(errors[0].clone()).into()),
        (0, n) => Err(Fail::not_found(format!("{n} group(s) not found")).into()),
        (n, _) => Err(Fail::failed(format!("{n} group(s) could not be deleted")).into()),
    }
}
