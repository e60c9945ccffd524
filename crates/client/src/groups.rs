//! Consumer groups as an operator sees them: members and their assignments, committed offsets
//! and lag per partition, offset resets planned before they are committed. `brook group`, the
//! console and the REST proxy share it; it works against any Kafka cluster.
//!
//! Committed offsets are read with one OffsetFetch for the whole group (librdkafka only asks
//! for named partitions), sent to the group's coordinator over [`crate::wire`].

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_protocol::messages::{ConsumerProtocolAssignment, GroupId, OffsetFetchRequest};
use kafka_protocol::protocol::{Decodable as _, StrBytes};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, ConsumerContext};
use rdkafka::metadata::Metadata;
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use crate::wire::BrokerConnection;

/// Why a group operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GroupError {
    /// The group (or a named topic) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The cluster refused, or the group is in a state that forbids the operation.
    #[error("{0}")]
    Failed(String),
    /// The cluster did not answer.
    #[error("{0}")]
    Unreachable(String),
}

/// A group in the list.
#[derive(Debug, Clone, Serialize)]
pub struct GroupSummary {
    /// Its id.
    pub group: String,
    /// `Stable`, `Empty`, `PreparingRebalance`, …
    pub state: String,
    /// `consumer`, `connect`, … (empty for groups that only commit offsets).
    pub protocol_type: String,
    /// How many members.
    pub members: usize,
}

/// A member with the partitions assigned to it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    /// Its member id.
    pub member_id: String,
    /// Its client id.
    pub client_id: String,
    /// The host it connects from.
    pub host: String,
    /// (topic, partition) assigned to it.
    pub partitions: Vec<(String, i32)>,
}

/// One partition's committed offset and lag.
#[derive(Debug, Clone, Serialize)]
pub struct LagRow {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The group's committed offset, if any.
    pub committed_offset: Option<i64>,
    /// The partition's log end offset (-1 when it could not be read).
    pub log_end_offset: i64,
    /// `log_end_offset - committed_offset` (never negative), when both are known.
    pub lag: Option<i64>,
    /// The member consuming it now.
    pub member_id: Option<String>,
    /// That member's host.
    pub host: Option<String>,
    /// That member's client id.
    pub client_id: Option<String>,
}

/// A group in detail.
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    /// Its id.
    pub group: String,
    /// Its state.
    pub state: String,
    /// Its protocol type.
    pub protocol_type: String,
    /// The assignment strategy chosen (`range`, `cooperative-sticky`, …).
    pub protocol: String,
    /// Its members.
    pub members: Vec<MemberView>,
    /// Committed offsets and lag, per partition it has offsets for or is assigned.
    pub partitions: Vec<LagRow>,
}

impl GroupView {
    /// The lag summed over its partitions.
    pub fn total_lag(&self) -> i64 {
        self.partitions.iter().filter_map(|p| p.lag).sum()
    }
}

/// Where a reset moves each offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetTarget {
    /// The log start.
    Earliest,
    /// The log end.
    Latest,
    /// The first offset at or after this time (epoch ms).
    Time(i64),
    /// The committed offset moved by this many records.
    Shift(i64),
    /// This offset.
    Offset(i64),
}

/// One partition of a reset plan.
#[derive(Debug, Clone, Serialize)]
pub struct ResetRow {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The committed offset now.
    pub current_offset: Option<i64>,
    /// Where the reset puts it (clamped to the log's range).
    pub new_offset: i64,
}

/// Every group with its state and member count, sorted by id.
pub fn list<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    timeout: Duration,
) -> Result<Vec<GroupSummary>, GroupError> {
    let groups = consumer
        .fetch_group_list(None, timeout)
        .map_err(|e| GroupError::Unreachable(format!("cannot list groups: {e}")))?;
    let mut rows: Vec<GroupSummary> = groups
        .groups()
        .iter()
        .map(|g| GroupSummary {
            group: g.name().to_string(),
            state: g.state().to_string(),
            protocol_type: g.protocol_type().to_string(),
            members: g.members().len(),
        })
        .collect();
    rows.sort_by(|a, b| a.group.cmp(&b.group));
    Ok(rows)
}

/// The partitions in a ConsumerProtocolAssignment (any version).
fn assigned_partitions(bytes: &[u8]) -> Vec<(String, i32)> {
    use bytes::Buf as _;
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
pub fn committed_offsets(
    metadata: &Metadata,
    group: &str,
    timeout: Duration,
) -> Result<BTreeMap<(String, i32), i64>, GroupError> {
    let bootstrap = crate::topics::any_broker(metadata)
        .ok_or_else(|| GroupError::Unreachable("the cluster lists no brokers".into()))?;
    let unreachable = |e: crate::wire::WireError| GroupError::Unreachable(e.to_string());
    let (mut connection, _) = BrokerConnection::open(&bootstrap, timeout)
        .and_then(|c| c.coordinator(0, group, timeout))
        .map_err(unreachable)?;
    // Versions 2–7: one group, all topics when none are named.
    let version = connection
        .version::<OffsetFetchRequest>()
        .map_err(unreachable)?
        .clamp(2, 7);
    let response = connection
        .send(
            &OffsetFetchRequest::default()
                .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
                .with_topics(None),
            version,
        )
        .map_err(unreachable)?;
    if response.error_code != 0 {
        return Err(GroupError::Failed(format!(
            "cannot read the offsets of group '{group}' (error code {})",
            response.error_code
        )));
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

/// (log start, log end) offsets by (topic, partition).
pub type Watermarks = BTreeMap<(String, i32), (i64, i64)>;

/// The (log start, log end) offsets of many partitions, asked in one ListOffsets request per
/// leader (librdkafka's offsets-for-times with Kafka's "earliest" and "latest" timestamps).
/// A partition that cannot be read is left out.
pub fn watermarks<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    partitions: &[(String, i32)],
    timeout: Duration,
) -> Result<Watermarks, GroupError> {
    let ask = |at: Offset| -> Result<BTreeMap<(String, i32), i64>, GroupError> {
        let mut list = TopicPartitionList::new();
        for (topic, p) in partitions {
            list.add_partition_offset(topic, *p, at)
                .map_err(|e| GroupError::Failed(e.to_string()))?;
        }
        let answer = consumer
            .offsets_for_times(list, timeout)
            .map_err(|e| GroupError::Unreachable(format!("cannot read offsets: {e}")))?;
        Ok(answer
            .elements()
            .iter()
            .filter(|e| e.error().is_ok())
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some(((e.topic().to_string(), e.partition()), o)),
                _ => None,
            })
            .collect())
    };
    if partitions.is_empty() {
        return Ok(BTreeMap::new());
    }
    let low = ask(Offset::Beginning)?;
    let high = ask(Offset::End)?;
    Ok(low
        .into_iter()
        .filter_map(|(tp, l)| high.get(&tp).map(|h| (tp, (l, *h))))
        .collect())
}

/// A group's members, committed offsets and lag; `None` when the group does not exist.
pub fn describe<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    metadata: &Metadata,
    group: &str,
    timeout: Duration,
) -> Result<Option<GroupView>, GroupError> {
    let list = consumer
        .fetch_group_list(Some(group), timeout)
        .map_err(|e| GroupError::Failed(format!("cannot describe group '{group}': {e}")))?;
    let info = list.groups().iter().find(|g| g.name() == group);
    let committed = committed_offsets(metadata, group, timeout)?;
    let state = info.map_or("Dead", |g| g.state()).to_string();
    if (state == "Dead" || state.is_empty()) && committed.is_empty() {
        return Ok(None);
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
    let ends = watermarks(consumer, &keys, timeout)?;
    let partitions = keys
        .into_iter()
        .map(|(topic, partition)| {
            let log_end = ends
                .get(&(topic.clone(), partition))
                .map_or(-1, |(_, high)| *high);
            let current = committed.get(&(topic.clone(), partition)).copied();
            let member = owner.get(&(topic.clone(), partition));
            LagRow {
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
            }
        })
        .collect();
    Ok(Some(GroupView {
        group: group.to_string(),
        state,
        protocol_type: info.map_or("", |g| g.protocol_type()).to_string(),
        protocol: info.map_or("", |g| g.protocol()).to_string(),
        members,
        partitions,
    }))
}

/// Plans moving `group`'s offsets on `topics` (every topic it has offsets for when empty) to
/// `target`. Refuses while the group has members, as Kafka's tool does. `consumer` must be
/// a client of `group` (its `group.id`) to [`commit_reset`] the plan.
pub fn plan_reset<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    metadata: &Metadata,
    group: &str,
    topics: &[String],
    target: ResetTarget,
    timeout: Duration,
) -> Result<Vec<ResetRow>, GroupError> {
    let list = consumer
        .fetch_group_list(Some(group), timeout)
        .map_err(|e| GroupError::Failed(format!("cannot describe group '{group}': {e}")))?;
    if let Some(info) = list.groups().iter().find(|g| g.name() == group)
        && !matches!(info.state(), "Empty" | "Dead" | "")
    {
        return Err(GroupError::Failed(format!(
            "group '{group}' is {} with {} member(s); stop its consumers before resetting offsets",
            info.state(),
            info.members().len()
        )));
    }
    let committed = committed_offsets(metadata, group, timeout)?;
    let mut partitions: Vec<(String, i32)> = Vec::new();
    if topics.is_empty() {
        partitions.extend(committed.keys().cloned());
        if partitions.is_empty() {
            return Err(GroupError::NotFound(format!(
                "group '{group}' has no committed offsets; name the topics to reset (--topic)"
            )));
        }
    } else {
        for topic in topics {
            let found = crate::topics::partitions(metadata, topic)
                .ok_or_else(|| GroupError::NotFound(format!("topic '{topic}' does not exist")))?;
            partitions.extend(found.iter().map(|p| (topic.clone(), p.id)));
        }
    }
    partitions.sort();
    let mut times = BTreeMap::new();
    if let ResetTarget::Time(t) = target {
        let mut list = TopicPartitionList::new();
        for (topic, p) in &partitions {
            list.add_partition_offset(topic, *p, Offset::Offset(t))
                .map_err(|e| GroupError::Failed(e.to_string()))?;
        }
        let found = consumer
            .offsets_for_times(list, timeout)
            .map_err(|e| GroupError::Unreachable(format!("cannot look up offsets by time: {e}")))?;
        for e in found.elements() {
            if let Offset::Offset(o) = e.offset() {
                times.insert((e.topic().to_string(), e.partition()), o);
            }
        }
    }
    let ranges = watermarks(consumer, &partitions, timeout)?;
    let mut rows = Vec::new();
    for (topic, p) in partitions {
        let Some(&(low, high)) = ranges.get(&(topic.clone(), p)) else {
            return Err(GroupError::Unreachable(format!(
                "cannot read the offsets of {topic}/{p}"
            )));
        };
        let current = committed.get(&(topic.clone(), p)).copied();
        let new = match target {
            ResetTarget::Earliest => low,
            ResetTarget::Latest => high,
            ResetTarget::Offset(o) => o,
            ResetTarget::Shift(n) => current.unwrap_or(high).saturating_add(n),
            ResetTarget::Time(_) => times.get(&(topic.clone(), p)).copied().unwrap_or(high),
        }
        .clamp(low, high);
        rows.push(ResetRow {
            topic,
            partition: p,
            current_offset: current,
            new_offset: new,
        });
    }
    Ok(rows)
}

/// Commits a plan from [`plan_reset`] with `consumer`, a client whose `group.id` is the group.
pub fn commit_reset<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    plan: &[ResetRow],
) -> Result<(), GroupError> {
    let mut list = TopicPartitionList::new();
    for r in plan {
        list.add_partition_offset(&r.topic, r.partition, Offset::Offset(r.new_offset))
            .map_err(|e| GroupError::Failed(e.to_string()))?;
    }
    consumer
        .commit(&list, CommitMode::Sync)
        .map_err(|e| GroupError::Failed(format!("cannot commit the new offsets: {e}")))
}
